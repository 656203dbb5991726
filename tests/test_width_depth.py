"""WidthDepth (accuracy in samples per query k and tokens per sample T) and
best_split (the best k x T split of a per-query token budget).

Tolerances (measured before they were set):
- noiseless recovery on an 8 x 8 grid (k = 1..128, T = 1e2..1e5): observed
  <= 1e-14 relative; asserted 1e-6;
- additive noise 0.005 (half a point): over seeds 0-4 the largest relative errors
  were s_inf 0.38%, T0 1.6%, kappa 1.05%, concentration 0.79%; asserted 1.2%, 5%,
  3.2%, 2.5% (about 3x);
- best_split against a brute-force evaluation of the law in numpy/scipy: same k,
  accuracies equal to 1e-10.
All fits use the same 64-row grid so the solver compiles once.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special

import scalinglaws as sl
from scalinglaws._jax import jnp
from scalinglaws.errors import LawError
from scalinglaws.laws.base import law_from_name, predict_jit
from scalinglaws.laws.width_depth import WidthDepth
from scalinglaws.optimize.width_depth import Split, SplitPoint, best_split

TRUE = {"s_inf": 0.7, "T0": 2000.0, "kappa": 0.8, "concentration": 1.2}
K = 2.0 ** np.arange(8)
T = np.geomspace(1e2, 1e5, 8)
KK, TT = (a.ravel() for a in np.meshgrid(K, T, indexing="ij"))
LAW = WidthDepth()


def quiet_fit(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return sl.fit(LAW, data, objective=sl.LeastSquares())


def curve(noise=0.0, seed=0):
    p = {n: np.asarray(v) for n, v in LAW.from_public(TRUE).items()}
    y = np.asarray(predict_jit(LAW, p, {"samples": np.asarray(KK), "inference_tokens": np.asarray(TT)}))
    y = y + noise * np.random.default_rng(seed).standard_normal(y.shape)
    # a measured accuracy is a fraction: near the ceiling the noise would push a few points past 1,
    # which fit rejects as bad data (as read_runs does), so the simulated measurement saturates there
    y = np.clip(y, 0.0, 1.0)
    return {"samples": KK, "inference_tokens": TT, "accuracy": y}


def brute(public, k, t):
    """The law in numpy/scipy: s(T) then 1 - B(s c, (1 - s) c + k) / B(s c, (1 - s) c)."""
    s = public["s_inf"] * (1 - np.exp(-(t / public["T0"]) ** public["kappa"]))
    c = public["concentration"]
    a, b = s * c, (1 - s) * c
    return 1 - np.exp(special.betaln(a, b + k) - special.betaln(a, b))


@pytest.fixture(scope="module")
def exact_fit():
    return quiet_fit(curve())


def test_law_shape_and_limits():
    p = LAW.from_public(TRUE)
    pj = {n: np.asarray(v) for n, v in p.items()}
    # k = 1: the depth curve itself (SaturatingTokens' form)
    y1 = np.asarray(predict_jit(LAW, pj, {"samples": np.ones(T.size), "inference_tokens": np.asarray(T)}))
    np.testing.assert_allclose(y1, TRUE["s_inf"] * (1 - np.exp(-(T / TRUE["T0"]) ** TRUE["kappa"])), rtol=1e-12)
    # large concentration: independent samples
    q = {**TRUE, "concentration": 1e10}
    pq = {n: np.asarray(v) for n, v in LAW.from_public(q).items()}
    y = np.asarray(predict_jit(LAW, pq, {"samples": np.asarray(KK), "inference_tokens": np.asarray(TT)}))
    s = TRUE["s_inf"] * (1 - np.exp(-(TT / TRUE["T0"]) ** TRUE["kappa"]))
    np.testing.assert_allclose(y, 1 - (1 - s) ** KK, rtol=0, atol=1e-6)
    # against scipy's betaln
    y = np.asarray(predict_jit(LAW, pj, {"samples": np.asarray(KK), "inference_tokens": np.asarray(TT)}))
    np.testing.assert_allclose(y, brute(TRUE, KK, TT), rtol=0, atol=1e-12)
    grid = y.reshape(K.size, T.size)
    assert np.all(np.diff(grid, axis=0) > 0) and np.all(np.diff(grid, axis=1) > 0)


def test_noiseless_recovery(exact_fit):
    for n, v in TRUE.items():
        assert exact_fit.params[n] == pytest.approx(v, rel=1e-6), (n, exact_fit.params[n])


TOL = {"s_inf": 0.012, "T0": 0.05, "kappa": 0.032, "concentration": 0.025}


@pytest.mark.parametrize("seed", [0, 2])
def test_noisy_recovery(seed):
    f = quiet_fit(curve(noise=0.005, seed=seed))
    for n, v in TRUE.items():
        assert abs(f.params[n] / v - 1) <= TOL[n], (seed, n, f.params[n], v)


def test_best_split_matches_brute_force(exact_fit):
    budget, N = 8000.0, 1e9
    s = best_split(exact_fit, budget, model_params=N, k_max=256)
    assert isinstance(s, Split) and isinstance(s.best, SplitPoint)
    k = np.arange(1, 257)
    acc = brute(exact_fit.params, k, budget / k)
    np.testing.assert_allclose(s.accuracy, acc, rtol=0, atol=1e-10)
    assert s.best.samples == int(k[np.argmax(acc)])
    assert s.best.tokens_per_sample == pytest.approx(budget / s.best.samples)
    assert s.best.accuracy == pytest.approx(acc.max(), abs=1e-10)
    # FLOPs are the budget's, for every split; latency is the sequential tokens T
    np.testing.assert_allclose(s.flops_per_query, 2 * N * budget, rtol=1e-14)
    np.testing.assert_allclose(s.latency_tokens, budget / k, rtol=1e-14)
    assert s.best_within_latency is None and s.notes == ()
    assert "<- best" in s.report(every=64)
    assert len(s.rows()) == 256 and s.rows()[0]["samples"] == 1
    # without a model size there are no FLOPs
    assert best_split(exact_fit, budget, k_max=256).flops_per_query is None


def test_best_split_latency_cap(exact_fit):
    budget = 8000.0
    s = best_split(exact_fit, budget, max_latency_tokens=500.0, k_max=256)
    k = np.arange(1, 257)
    acc = brute(exact_fit.params, k, budget / k)
    ok = budget / k <= 500.0
    b = s.best_within_latency
    assert b.latency_tokens <= 500.0
    assert b.samples == int(k[ok][np.argmax(acc[ok])]) == 16  # the smallest k within the cap wins here
    assert b.accuracy <= s.best.accuracy
    assert s.best.latency_tokens > 500.0  # the cap binds: the unconstrained best is slower
    # a law plus public parameters gives the same answer
    t = best_split(WidthDepth(), budget, params=TRUE, max_latency_tokens=500.0, k_max=256)
    assert t.best.samples == s.best.samples and t.best.accuracy == pytest.approx(s.best.accuracy, abs=1e-9)
    assert t.best_within_latency.samples == b.samples


def test_best_split_notes_and_k_range(exact_fit):
    # a tiny budget: k is limited by min_tokens_per_sample
    s = best_split(exact_fit, 10.0, min_tokens_per_sample=2.0)
    assert s.samples.tolist() == [1, 2, 3, 4, 5]
    # far beyond the fitted depths: the result says it extrapolates
    s = best_split(exact_fit, 1e8, k_max=8)
    assert any("outside the fitted range" in n for n in s.notes)


def test_registry_and_save_roundtrip(exact_fit, tmp_path):
    assert isinstance(law_from_name("width_depth"), WidthDepth)
    g = sl.load_fit(exact_fit.save(tmp_path / "wd.json"))
    np.testing.assert_allclose(g.predict(samples=KK, inference_tokens=TT),
                               exact_fit.predict(samples=KK, inference_tokens=TT), rtol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    ({"budget_tokens_per_query": 0.0}, "budget_tokens_per_query.*> 0"),
    ({"budget_tokens_per_query": -5.0}, "budget_tokens_per_query.*> 0"),
    ({"budget_tokens_per_query": float("nan")}, "finite"),
    ({"budget_tokens_per_query": "lots"}, "must be a number"),
    ({"budget_tokens_per_query": 1000.0, "k_max": 0}, "k_max"),
    ({"budget_tokens_per_query": 1000.0, "k_max": 2.5}, "k_max"),
    ({"budget_tokens_per_query": 1000.0, "model_params": -1.0}, "model_params"),
    ({"budget_tokens_per_query": 1000.0, "max_latency_tokens": 0.0}, "max_latency_tokens"),
    ({"budget_tokens_per_query": 1000.0, "max_latency_tokens": 1.0, "k_max": 64}, "no split meets"),
    ({"budget_tokens_per_query": 0.5}, "below min_tokens_per_sample"),
])
def test_best_split_bad_inputs(kwargs, match):
    kwargs = dict(kwargs)
    budget = kwargs.pop("budget_tokens_per_query")
    with pytest.raises(LawError, match=match):
        best_split(WidthDepth(), budget, params=TRUE, **kwargs)


def test_bad_laws_and_parameters():
    with pytest.raises(LawError, match="params="):
        best_split(WidthDepth(), 1000.0)
    with pytest.raises(LawError, match="samples, inference_tokens"):
        best_split(sl.laws.Coverage(), 1000.0, params={"a": -1.0, "b": -0.4})
    with pytest.raises(LawError, match="expected a Fit or a Law"):
        best_split("width_depth", 1000.0)
    with pytest.raises(LawError, match="concentration"):
        WidthDepth().from_public({"s_inf": 0.5, "T0": 100.0, "kappa": 1.0})
    with pytest.raises(LawError, match="T0 must be > 0"):
        WidthDepth().from_public({**TRUE, "T0": 0.0})
