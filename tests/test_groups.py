"""One law per group in one batched solve: the same optimum as separate fits, shared
parameters, the combined table, bad input."""

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws._jax import float64, jnp

LAW = sl.laws.Chinchilla()
TRUTH = {"a": dict(E=1.7, A=400.0, B=2000.0, alpha=0.34, beta=0.37),
         "b": dict(E=2.0, A=600.0, B=1500.0, alpha=0.34, beta=0.37),
         "c": dict(E=1.5, A=300.0, B=3000.0, alpha=0.34, beta=0.37)}
SIZES = {"a": 60, "b": 45, "c": 80}  # groups of different sizes: the batch pads them


def loss_of(t, N, D):
    """The Chinchilla law written out (independent of the package's log-sum-exp form)."""
    return t["E"] + t["A"] / N ** t["alpha"] + t["B"] / D ** t["beta"]


def table(noise=0.01, seed=1):
    rng = np.random.default_rng(seed)
    cols = {"params": [], "tokens": [], "loss": [], "group": []}
    for g, t in TRUTH.items():
        n = SIZES[g]
        N = np.exp(rng.uniform(np.log(5e7), np.log(1e10), n))
        D = np.exp(rng.uniform(np.log(1e9), np.log(5e11), n))
        L = loss_of(t, N, D) * np.exp(noise * rng.standard_normal(n))
        cols["params"] += list(N)
        cols["tokens"] += list(D)
        cols["loss"] += list(L)
        cols["group"] += [g] * n
    return sl.read_runs({k: np.asarray(v) for k, v in cols.items()})


@pytest.fixture(scope="module")
def runs():
    return table()


@pytest.fixture(scope="module")
def fits(runs):
    return sl.fit(LAW, runs, by="group")


def test_groups_match_separate_fits(runs, fits):
    assert list(fits) == ["a", "b", "c"]  # order of first appearance
    for g in fits:
        alone = sl.fit(LAW, runs.select(runs["group"] == g))
        # same starts, same kernel; only the padding (weight 0) and the batch differ, so the
        # optimum agrees far inside the 1e-8 (measured: ~3e-15)
        assert fits[g].objective == pytest.approx(alone.objective, rel=1e-8)
        for k, v in alone.params.items():
            assert fits[g].params[k] == pytest.approx(v, rel=1e-5)
        assert fits[g].n_obs == SIZES[g]
        assert fits[g].group == g
    assert fits.objective == pytest.approx(sum(f.objective for f in fits.values()), rel=1e-12)


def test_combined_table_and_report(fits):
    rows = fits.rows()
    assert [r["group"] for r in rows] == ["a", "b", "c"]
    assert set(rows[0]) >= {"group", "n_obs", "objective", "E", "A", "B", "alpha", "beta"}
    text = fits.report()
    assert "by=group" in text and "groups=3" in text
    for g in "abc":
        assert f"\n{g:>12}" in text
    json.dumps(fits.to_dict())  # JSON-able
    with pytest.raises(KeyError, match="no group 'z'"):
        fits["z"]


def test_shared_exponents_recovered_from_noiseless_groups():
    runs = table(noise=0.0, seed=2)
    sh = sl.fit(LAW, runs, by="group", shared=("alpha", "beta"))
    assert sh.shared == ("alpha", "beta")
    for g, f in sh.items():
        # noiseless data and the true exponents shared: every parameter is recovered (the
        # solver converges to ~1e-10 relative; 1e-4 leaves room for the flat E-A-B ridge)
        for k, v in TRUTH[g].items():
            assert f.params[k] == pytest.approx(v, rel=1e-4), (g, k)
    alphas = {f.params["alpha"] for f in sh.values()}
    assert len(alphas) == 1  # one shared value, copied to every group's Fit


def test_shared_costs_objective_but_not_much(runs, fits):
    sh = sl.fit(LAW, runs, by="group", shared=("alpha", "beta"))
    # sharing is a constraint: the joint optimum cannot beat the free groups' total
    assert sh.objective >= fits.objective * (1 - 1e-9)
    # and the data were made with shared exponents, so it costs little (measured: +1.3%)
    assert sh.objective <= fits.objective * 1.2
    assert sh.objective == pytest.approx(sum(f.objective for f in sh.values()), rel=1e-9)
    assert any("shared by the 3 groups" in n for n in sh.notes)
    assert "shared=alpha, beta" in sh.report()


def test_group_bad_input(runs):
    with pytest.raises(sl.LawError, match="no column 'model' to group by"):
        sl.fit(LAW, runs, by="model")
    with pytest.raises(sl.LawError, match="needs by="):
        sl.fit(LAW, runs, shared=("alpha",))
    with pytest.raises(sl.LawError, match="'gamma' is not a parameter"):
        sl.fit(LAW, runs, by="group", shared=("gamma",))
    small = runs.select(np.flatnonzero(runs["group"] != "b").tolist() + list(np.flatnonzero(runs["group"] == "b")[:3]))
    with pytest.raises(sl.LawError, match="group 'b'.*fewer than the 5 free parameters"):
        sl.fit(LAW, small, by="group")


def test_stacked_law_prediction_is_the_base_law_per_row():
    from scalinglaws.fitting.groups import Stacked

    st = Stacked(base=LAW, n_groups=2, shared=("alpha", "beta"))
    assert st.param_names == ("alpha", "beta", "a[0]", "b[0]", "e[0]", "a[1]", "b[1]", "e[1]")
    N = np.array([1e8, 1e9, 1e8, 1e9])
    D = np.array([1e10, 2e10, 1e10, 2e10])
    p = {"alpha": 0.3, "beta": 0.4, "a[0]": 5.0, "b[0]": 7.0, "e[0]": 0.5, "a[1]": 6.0, "b[1]": 8.0, "e[1]": 0.2}
    with float64():
        out = np.asarray(st.predict({k: np.asarray(v) for k, v in p.items()},
                                    {"params": N, "tokens": D, "_group": np.array([0.0, 0, 1, 1])}))
    g0 = dict(E=np.exp(0.5), A=np.exp(5.0), B=np.exp(7.0), alpha=0.3, beta=0.4)
    g1 = dict(E=np.exp(0.2), A=np.exp(6.0), B=np.exp(8.0), alpha=0.3, beta=0.4)
    want = np.r_[loss_of(g0, N[:2], D[:2]), loss_of(g1, N[2:], D[2:])]
    np.testing.assert_allclose(out, want, rtol=1e-12)  # exp/log round trips: a few ulps


def test_gadre_three_datasets_by_group_match_separate_fits():
    """Real runs: Gadre et al.'s 104 models on three datasets (C4, RedPajama, RefinedWeb), the C4
    validation loss; one batched fit by dataset against three separate fits."""
    from conftest import shared

    path = shared("gadre_overtrain", "gadre2024_overtrain_runs.csv")
    runs = sl.read_runs(path, columns={"params": "params_N", "tokens": "tokens_D", "loss": "loss_c4_val",
                                       "group": "dataset"}, exclude=["n_layers", "n_heads", "seq_len", "vocab_size"])
    fits = sl.fit(LAW, runs, by="group")
    assert sorted(fits) == ["c4_original", "rpj", "rw_original"]
    for g in fits:
        alone = sl.fit(LAW, runs.select(runs["group"] == g))
        assert fits[g].objective == pytest.approx(alone.objective, rel=1e-8)
        assert fits[g].n_obs == alone.n_obs
