"""Golden tests on Epoch's digitised Chinchilla data (Besiroglu et al. 2024).

Targets (REFERENCE.md section 2 and PEERS.md section 3): the plain Huber grid
fit reaches objective 1.01827e-3 with E = 1.8172, alpha = 0.3473,
beta = 0.3672, A ~ 477.8, B ~ 2143; the Huber-likelihood estimate is
A = 482.01, B = 2085.43, E = 1.8169, alpha = 0.34781, beta = 0.36585 with a
log-likelihood of 879.8.
"""

import math

import numpy as np
import pytest

import scalinglaws as sl


def test_epoch_rows(epoch_runs):
    assert len(epoch_runs) == 240
    np.testing.assert_allclose(epoch_runs["tokens"], epoch_runs["flops"] / (6 * epoch_runs["params"]), rtol=1e-15)


def test_default_fit_reaches_epoch_optimum(epoch_fit):
    f = epoch_fit
    # objective to 1e-8 absolute (the tolerance); Epoch prints 1.01827e-3
    assert abs(f.objective - 1.01827e-3) < 1e-8
    p = f.params
    assert round(p["E"], 4) == pytest.approx(1.8172, abs=1.5e-4)  # 3 decimals: 1.817
    assert round(p["alpha"], 3) == 0.347
    assert round(p["beta"], 3) == 0.367
    # the ridge in (A, B) is flat: 2% (the tolerance)
    assert p["A"] == pytest.approx(477.8, rel=0.02)
    assert p["B"] == pytest.approx(2143.0, rel=0.02)
    assert f.n_best_basin >= 10, "many refined starts should share the best basin"
    assert f.n_obs == 240


def test_epoch_likelihood_estimate_matches_published(epoch_runs):
    f = sl.fit(sl.laws.Chinchilla(), epoch_runs, objective=sl.HuberLikelihood())
    p = f.params
    # 4 significant figures of the published point estimate
    for name, published in [("A", 482.01), ("B", 2085.43), ("E", 1.8169), ("alpha", 0.34781), ("beta", 0.36585)]:
        assert float(f"{p[name]:.4g}") == float(f"{published:.4g}"), (name, p[name], published)
    # Epoch's log-likelihood of their estimate on the 240 points: 879.8
    assert -f.objective == pytest.approx(879.8, abs=0.05)
    assert 0 < f.extras["sigma"] < 1


def test_epoch_allocation_at_gopher_budget(epoch_fit):
    with pytest.warns(UserWarning, match="outside the fitted runs"):
        a = sl.compute_optimal(epoch_fit, flops=5.76e23)
    assert 72e9 <= a.params <= 74e9
    assert 1.30e12 <= a.tokens <= 1.34e12
    assert a.params * a.tokens * 6 == pytest.approx(5.76e23, rel=1e-12)
    assert a.method == "closed form"


def test_numeric_allocation_agrees_on_epoch_fit(epoch_fit):
    C = np.geomspace(1e19, 1e25, 7)
    with pytest.warns(UserWarning):
        closed = sl.compute_optimal(epoch_fit, flops=C)
        numeric = sl.compute_optimal(epoch_fit, flops=C, method="numeric")
    np.testing.assert_allclose(numeric.params, closed.params, rtol=1e-6)
    np.testing.assert_allclose(numeric.loss, closed.loss, rtol=1e-12)


def test_likelihood_objective_value_is_consistent(epoch_runs):
    """The reported NLL equals Epoch's formula evaluated at the fitted point."""
    from scipy.stats import norm

    f = sl.fit(sl.laws.Chinchilla(), epoch_runs, objective=sl.HuberLikelihood(), solver=sl.fitting.solver.SolverConfig(refine=8))
    r = np.log(f.predict(epoch_runs)) - np.log(epoch_runs["loss"])
    s, d = f.extras["sigma"], 1e-3
    z = r / s
    h = np.where(np.abs(z) <= d, 0.5 * z * z, d * (np.abs(z) - 0.5 * d))
    logz = math.log(math.sqrt(2 * math.pi) * (1 - 2 * norm.sf(d)) + 2 * math.exp(-0.5 * d * d) / d)
    nll = np.sum(h) + len(r) * (math.log(s) + logz)
    assert f.objective == pytest.approx(nll, rel=1e-10)
