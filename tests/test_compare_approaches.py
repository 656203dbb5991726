"""compare_approaches: Hoffmann et al.'s Approaches 1, 2 and 3 on one synthetic dataset drawn from a
known Chinchilla law recover a = beta / (alpha + beta) and b = alpha / (alpha + beta)."""

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.errors import DataError

P = synthetic.EPOCH
A_TRUE = P["beta"] / (P["alpha"] + P["beta"])


@pytest.fixture(scope="module")
def logs():
    # noiseless checkpoint logs: 9 sizes around N* at each of the default budgets, 20 checkpoints each
    return synthetic.checkpoint_sweep(noise=0.0, budgets=synthetic.DEFAULT_BUDGETS, n_per_budget=9,
                                      n_checkpoints=20, first_fraction=0.01, span=8)


def test_all_three_recover_the_exponents(logs):
    cmp = sl.compare_approaches(logs, budgets=[1e21, 1e24])
    assert cmp.approaches == ("Approach 1", "Approach 2", "Approach 3")
    # tolerances: Approach 1's envelope is a staircase over 9 sizes per budget (measured error
    # 0.0024; test_approaches.py bounds it by 0.01); Approach 2's centred parabolas leave the
    # exponent unbiased up to the budgets' discreteness (measured < 1e-4); Approach 3 fits the
    # law itself on noiseless data (an optimiser's tolerance)
    for name, tol in (("Approach 1", 0.01), ("Approach 2", 1e-3), ("Approach 3", 1e-6)):
        assert abs(cmp.params_exponent[name] - A_TRUE) < tol, name
        assert abs(cmp.tokens_exponent[name] - (1 - A_TRUE)) < tol, name
    # Approach 3's N_opt is Hoffmann et al.'s eq. 4, written out: G (C/6)^a
    G = (P["alpha"] * P["A"] / (P["beta"] * P["B"])) ** (1 / (P["alpha"] + P["beta"]))
    C = np.array([1e21, 1e24])
    np.testing.assert_allclose(cmp.optimal_params["Approach 3"], G * (C / 6) ** A_TRUE, rtol=1e-4)
    np.testing.assert_allclose(cmp.optimal_tokens["Approach 3"], C / 6 / (G * (C / 6) ** A_TRUE), rtol=1e-4)
    # the approaches agree on N_opt within the parabola's known intercept bias (a few percent)
    for name in ("Approach 1", "Approach 2"):
        np.testing.assert_allclose(cmp.optimal_params[name], cmp.optimal_params["Approach 3"], rtol=0.08)
        np.testing.assert_allclose(cmp.optimal_params[name] * cmp.optimal_tokens[name], C / 6, rtol=1e-9)
    rows = cmp.rows()
    assert [r["approach"] for r in rows] == list(cmp.approaches) and "N_opt(1e+21)" in rows[0]
    assert "Approach 3: a = " in cmp.report() and "final checkpoint" in cmp.report()


def test_without_training_curves_approach1_is_skipped_with_a_note():
    runs = synthetic.chinchilla_sweep(noise=0.01, seed=2)
    cmp = sl.compare_approaches(runs)
    assert cmp.approaches == ("Approach 2", "Approach 3")
    assert any("Approach 1 skipped" in n and "'run'" in n for n in cmp.notes)
    for name in cmp.approaches:  # 1% noise: a within 0.03 of the truth (measured 0.004 and 0.002)
        assert abs(cmp.params_exponent[name] - A_TRUE) < 0.03


@pytest.mark.parametrize("kw,match", [(dict(budgets=[-1.0]), "budgets"), (dict(budgets=[]), "budgets"),
                                      (dict(law=sl.laws.MajorityVote()), "law")])
def test_bad_input(kw, match):
    with pytest.raises(DataError, match=match):
        sl.compare_approaches(synthetic.chinchilla_sweep(noise=0.0), **kw)
