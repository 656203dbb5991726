"""One implementation of each shared piece, and one way to report.

- the Beta-binomial pass@k (``scalinglaws._numerics``), checked against independent expressions
  and used by every caller (JointCoverage, WidthDepth, CoverageAccuracyModel, BetaFit);
- the sigmoid link formula and its sign convention;
- the one budget name (``total_flops=``) and compute_optimal's alias;
- every result object reports the same way: ``report()`` shows its notes and warnings,
  ``to_dict()`` is JSON-able, ``rows()`` is a list of plain dicts.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import special

from scalinglaws._jax import jnp
from scalinglaws._numerics import beta_binomial_pass_at_k, beta_pass_at_k, bisect, scan_bisect, sigmoid
from scalinglaws.errors import LawError
from scalinglaws.evals import BetaFit, CeilingReport, fit_beta_binomial
from scalinglaws.fitting.result import Fit
from scalinglaws.laws import Chinchilla, JointCoverage, SigmoidLink, WidthDepth
from scalinglaws.laws.base import predict_jit
from scalinglaws.optimize import (CoverageAccuracyModel, allocate_samples, best_config, best_split, compute_optimal,
                                  frontier, inference_aware_optimum, lowest_loss, sigmoid_link, smaller_vs_larger,
                                  two_mode_router)
from scalinglaws.optimize.best_config import HOFFMANN

# ---------------------------------------------------------------------------------------
# Beta-binomial pass@k


def _independent(mu, kappa, k):
    """1 - B(a, b + k) / B(a, b) with scipy's betaln (moderate arguments: no cancellation trouble)."""
    a, b = mu * kappa, (1.0 - mu) * kappa
    return -np.expm1(special.betaln(a, b + k) - special.betaln(a, b))


@pytest.mark.parametrize("kappa", [0.05, 0.7, 3.0, 25.0, 300.0])
def test_beta_pass_at_k_matches_betaln(kappa):
    mu = np.array([0.01, 0.2, 0.5, 0.9, 0.999])[:, None]
    k = np.array([1.0, 2.0, 5.0, 16.0, 100.0, 1000.0])[None, :]
    got = np.asarray(beta_pass_at_k(mu, kappa, k))
    # both sides subtract two log-Beta values of size ~log Gamma(k); at kappa = 0.05, k = 1000 that
    # costs either expression ~1e-11 relative of a pass@k near 0.01 (a 50-digit mpmath reference puts
    # this formula at 2.8e-11 and scipy's at 7.4e-11 there), so the comparison is at 2e-10
    np.testing.assert_allclose(got, _independent(mu, kappa, k), rtol=2e-10, atol=1e-15)
    if kappa <= 25:  # beyond, scipy's betaln difference itself cancels (2e-11 at kappa = 300, k = 1)
        moderate = k[0] <= 16
        np.testing.assert_allclose(got[:, moderate], _independent(mu, kappa, k[:, moderate]), rtol=1e-12)
    np.testing.assert_allclose(got[:, 0], mu[:, 0], rtol=1e-14, atol=4e-15)  # pass@1 = mu (as 1 - (1 - mu))


def test_beta_pass_at_k_tends_to_independent_samples():
    mu = np.array([0.03, 0.3, 0.8])[:, None]
    k = np.array([1.0, 7.0, 64.0, 512.0])[None, :]
    indep = -np.expm1(k * np.log1p(-mu))
    for kappa, tol in ((1e8, 1e-5), (1e10, 1e-7), (1e12, 1e-9)):
        np.testing.assert_allclose(np.asarray(beta_pass_at_k(mu, kappa, k)), indep, rtol=tol)


def test_every_caller_uses_the_one_formula():
    a, b, k = 0.8, 2.4, np.array([1.0, 3.0, 50.0])
    ref = np.asarray(beta_binomial_pass_at_k(a, b, k))
    np.testing.assert_allclose(ref, _independent(a / (a + b), a + b, k), rtol=1e-12)
    # BetaFit (evals)
    bf = BetaFit(alpha=a, beta=b, loglik=0.0, n_problems=10)
    np.testing.assert_array_equal(bf.pass_at_k(k), ref)
    # CoverageAccuracyModel (optimize): per-sample success p, concentration kappa
    link = sigmoid_link(midpoint=2.0, slope=3.0)
    model = CoverageAccuracyModel(link, concentration=3.2)
    L = np.array([1.7, 2.4])
    p = model.per_sample(L)
    np.testing.assert_allclose(model(L[:, None], k[None, :]),
                               np.asarray(beta_binomial_pass_at_k(p[:, None] * 3.2, (1 - p[:, None]) * 3.2, k)),
                               rtol=1e-13)  # the model calls it jitted: XLA's fused order moves the last ~10 ulps
    # JointCoverage and WidthDepth (laws): the same Beta coverage at their mean success
    law = JointCoverage(loss_params={"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28})
    pj = {"slope": np.asarray(3.0), "L0": np.asarray(2.8), "log_kappa": np.asarray(math.log(1.5))}
    X = {"params": np.asarray([1e9, 1e9, 1e9]), "tokens": np.asarray([2e10] * 3), "samples": np.asarray(k)}
    mu, _ = law.mean_success(pj, law.loss(pj, X))
    np.testing.assert_allclose(np.asarray(predict_jit(law, pj, X)),
                               _independent(np.asarray(mu), 1.5, k), rtol=1e-12)
    wd = WidthDepth()
    q = wd.from_public({"s_inf": 0.7, "T0": 500.0, "kappa": 1.1, "concentration": 2.0})
    Xw = {"samples": np.asarray(k), "inference_tokens": np.asarray([800.0] * 3)}
    s, _ = wd.per_sample({n: np.asarray(v) for n, v in q.items()}, 800.0)
    np.testing.assert_allclose(np.asarray(predict_jit(wd, {n: np.asarray(v) for n, v in q.items()}, Xw)),
                               _independent(float(s), 2.0, k), rtol=1e-12)


def test_beta_fit_is_stable_where_gammaln_differences_cancel():
    # alpha, beta ~ 1e7: the gammaln difference loses ~1e-9 here; the shared formula agrees with
    # the kappa -> inf limit 1 - (1 - mu)^k to the size of the O(k / kappa) correction
    a, b = 3e6, 7e6
    bf = BetaFit(alpha=a, beta=b, loglik=0.0, n_problems=10)
    k = np.array([1.0, 10.0])
    indep = -np.expm1(k * math.log1p(-a / (a + b)))
    np.testing.assert_allclose(bf.pass_at_k(k), indep, rtol=1e-6)
    assert bf.pass_at_k(1.0) == pytest.approx(a / (a + b), rel=1e-14)


# ---------------------------------------------------------------------------------------
# sigmoid link and the bisection kernel


def test_one_sigmoid_convention():
    """SigmoidLink(a, b, k, L0) with k < 0 and sigmoid_link(midpoint, slope > 0) are the same curve:
    a = ceiling - floor, b = floor, k = -slope; accuracy falls as loss rises."""
    floor, ceiling, mid, slope = 0.25, 0.9, 2.1, 4.0
    L = np.linspace(1.5, 3.0, 7)
    link = sigmoid_link(midpoint=mid, slope=slope, floor=floor, ceiling=ceiling)
    law = SigmoidLink()
    p = {"a": np.asarray(ceiling - floor), "b": np.asarray(floor), "k": np.asarray(-slope), "L0": np.asarray(mid)}
    via_law = np.asarray(predict_jit(law, p, {"loss": np.asarray(L)}))
    np.testing.assert_allclose(link(L), via_law, rtol=1e-15)  # jit may fuse the same formula
    np.testing.assert_allclose(via_law, floor + (ceiling - floor) / (1 + np.exp(slope * (L - mid))), rtol=1e-14)
    assert np.all(np.diff(via_law) < 0)
    np.testing.assert_allclose(np.asarray(sigmoid(L, ceiling - floor, floor, -slope, mid)), via_law, rtol=1e-15)


def test_scan_bisect_kernel():
    from scalinglaws._jax import float64

    f = lambda u: (u - 1.234567) ** 2  # noqa: E731
    with float64():  # a private kernel, called directly: its callers run it under float64
        u, i, _ = scan_bisect(f, lambda u: 2 * (u - 1.234567), jnp.linspace(-5.0, 5.0, 41), 200)
        r = bisect(lambda x: x ** 3 - 2.0, np.asarray([0.0]), np.asarray([2.0]), 200)
    assert float(u) == pytest.approx(1.234567, abs=1e-14) and 0 < int(i) < 40
    assert float(r[0]) == pytest.approx(2.0 ** (1 / 3), rel=1e-15)


# ---------------------------------------------------------------------------------------
# one budget name


def test_compute_optimal_accepts_total_flops_as_the_same_budget():
    C = np.array([1e21, 1e23])
    a = compute_optimal(Chinchilla(), flops=C, params=HOFFMANN)
    b = compute_optimal(Chinchilla(), total_flops=C, params=HOFFMANN)
    np.testing.assert_array_equal(a.params, b.params)
    assert compute_optimal(Chinchilla(), 1e21, params=HOFFMANN).params == compute_optimal(
        Chinchilla(), total_flops=1e21, params=HOFFMANN).params
    with pytest.raises(LawError, match="not both"):
        compute_optimal(Chinchilla(), flops=C, total_flops=C, params=HOFFMANN)
    with pytest.raises(LawError, match="budget"):
        compute_optimal(Chinchilla(), params=HOFFMANN)


# ---------------------------------------------------------------------------------------
# one way to report


def _fit_outside():
    """A Chinchilla Fit whose runs spanned a small range, so the optima extrapolate (warnings)."""
    law = Chinchilla()
    return Fit(law=law, objective_spec=None, params=law.public(HOFFMANN), internal=dict(HOFFMANN), objective=0.0,
               n_obs=0, n_best_basin=0, basin_rtol=0.0, at_bound=(), fixed=(), data_hash="",
               input_range={"params": (1e7, 1e9), "tokens": (1e8, 1e11)})


def _results():
    """(name, result, notes and warnings its report must show) for each result type."""
    fit = _fit_outside()
    acc = CoverageAccuracyModel(sigmoid_link(midpoint=2.0, slope=6.0), coverage_exponent=-0.4)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alloc = compute_optimal(fit, flops=np.array([1e21, 1e23]))
        out.append(("Allocation", alloc, alloc.warnings))
        ia = inference_aware_optimum(fit, 2.2, 1e12)
        out.append(("InferenceAllocation", ia, ia.warnings))
        low = lowest_loss(fit, total_flops=1e23, inference_tokens=1e12)
        out.append(("InferenceAllocation (dual)", low, low.warnings))
        cfg = best_config(None, total_flops=1e24, queries=1e9, accuracy_model=acc, samples=[1, 2, 4],
                          tokens_per_sample=500.0)
    assert any("largest searched" in n for n in cfg.notes)
    out.append(("Config", cfg, cfg.notes + cfg.warnings))
    out.append(("SettingGrid", cfg.grid, ()))
    fr = frontier(None, acc, total_flops=np.array([1e23, 1e24]), queries=1e9, sizes=[1e9, 1e10],
                  tokens_per_sample=500.0)
    out.append(("Frontier", fr, ()))
    cmp = smaller_vs_larger(None, acc, small=[1e9], large=[1e10], total_flops=1e24,
                            queries=np.geomspace(1e6, 1e12, 5), tokens_per_sample=500.0)
    out.append(("Comparison", cmp, ()))
    wd = WidthDepth()
    split = best_split(wd, 64.0, params={"s_inf": 0.9, "T0": 2.0, "kappa": 1.0, "concentration": 5.0}, k_max=8)
    assert split.notes
    out.append(("Split", split, split.notes))
    out.append(("SplitPoint", split.best, ()))
    curves = [np.array([0.2, 0.3, 0.35, 0.37]), np.array([0.05, 0.1, 0.2, 0.3])]
    out.append(("AdaptiveAllocation", allocate_samples(curves, budget=2), ()))
    out.append(("RouterResult", two_mode_router([0.5, 0.2], 100.0, 1000.0, [0.3, 0.6], [0.5, 0.9]), ()))
    with pytest.warns(UserWarning, match="degenerate"):
        bf = fit_beta_binomial(np.full(20, 8), np.zeros(20))
    assert bf.warnings
    out.append(("BetaFit", bf, bf.warnings))
    rep = CeilingReport(variable="samples", cutoff=64.0, n_train=8, n_test=2,
                        heldout_rmse={"plateau": 0.01, "no_plateau": 0.02}, heldout_mae={"plateau": 0.01,
                                                                                          "no_plateau": 0.02},
                        aic={"plateau": -50.0, "no_plateau": -60.0}, bic={"plateau": -48.0, "no_plateau": -58.0},
                        preferred="plateau", criteria_agree=False, plateau=0.8, headroom=0.05,
                        gain_per_doubling=0.01, min_gain=0.005, more_compute_pays=True)
    out.append(("CeilingReport", rep, rep.notes))
    return out


def test_every_result_reports_the_same_way():
    results = _results()
    for name, obj, must in results:
        text = obj.report()
        assert isinstance(text, str) and text, name
        for line in must:
            assert line in text, (name, line)
        d = obj.to_dict()
        assert isinstance(d, dict) and d, name
        json.loads(json.dumps(d, allow_nan=False))  # plain JSON, NaN/inf written as null
        if hasattr(obj, "rows"):
            rows = obj.rows()
            assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows), name
            json.dumps(rows)
        assert not hasattr(obj, "summary") and not hasattr(obj, "table"), name
    assert any(must for _, _, must in results if must)  # some results do carry notes or warnings


def test_best_config_report_shows_the_largest_searched_note():
    acc = CoverageAccuracyModel(sigmoid_link(midpoint=2.0, slope=6.0), coverage_exponent=-0.4)
    cfg = best_config(None, total_flops=1e24, queries=1e9, accuracy_model=acc, samples=[1, 2, 4],
                      tokens_per_sample=500.0)
    assert cfg.samples == 4.0
    assert "best setting is the largest searched (4); widen `samples=`" in cfg.report()
