"""best_config and smaller_vs_larger from a Bootstrap: intervals over the draws.

The independent path: call the same solver with a Law and each draw's parameters (params=),
and take numpy quantiles of those answers.
"""

import json
import math
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.errors import LawError
from scalinglaws.optimize import VerifierAccuracyModel
from scalinglaws.optimize.best_config import (CONFIG_QUANTITIES, CoverageAccuracyModel, best_config, sigmoid_link,
                                             smaller_vs_larger)


def _link():
    """The notebook's link: a sigmoid through Llama-3 8B / 70B's MATH pass@1 (0.266, 0.477)
    at Epoch's loss of 8B / 70B params on 15T tokens."""
    E, A, B, al, be = (synthetic.EPOCH[k] for k in ("E", "A", "B", "alpha", "beta"))
    loss = lambda N, D: E + A / N ** al + B / D ** be  # noqa: E731
    L8, L70 = loss(8e9, 15e12), loss(70e9, 15e12)
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    slope = (logit(0.477) - logit(0.266)) / (L8 - L70)
    return sigmoid_link(midpoint=L8 + logit(0.266) / slope, slope=slope)


LINK = _link()
SVL = dict(small=[1e9, 3e9, 8e9], large=[30e9, 70e9], total_flops=1e25, queries=np.geomspace(1e6, 1e11, 21),
           tokens_per_sample=1000.0)
BC = dict(total_flops=1e25, queries=1e9, tokens_per_sample=1000.0)


@pytest.fixture(scope="module")
def boot():
    runs = synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.02, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sl.fit(sl.laws.Chinchilla(), runs, objective=sl.LeastSquares())
        bs = sl.bootstrap(fit, runs, n=50, seed=0, progress=False)
    return fit, bs


def _draw_params(fit, bs):
    return [dict(zip(fit.law.param_names, (float(t) for t in theta))) for theta in bs.draws[bs.ok]]


@pytest.mark.parametrize("model", [CoverageAccuracyModel(LINK, coverage_exponent=-0.45),
                                   VerifierAccuracyModel(LINK, tpr=0.9, fpr=0.1)], ids=["oracle", "verifier"])
def test_best_config_from_bootstrap(boot, model):
    fit, bs = boot
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = best_config(fit, accuracy_model=model, **BC)
        got = best_config(bs, accuracy_model=model, **BC)
        direct = [best_config(fit.law, params=p, accuracy_model=model, **BC) for p in _draw_params(fit, bs)]
    # the point answer is the plain call's (same computation: rel 1e-12 for rounding only)
    for q in CONFIG_QUANTITIES:
        assert getattr(got, q) == pytest.approx(getattr(point, q), rel=1e-12)
    assert got.draws["params"].shape == (int(bs.ok.sum()),)
    iv, se = got.interval(0.9), got.se()
    for q in ("params", "tokens", "samples", "accuracy", "loss", "train_share"):
        ref = np.array([getattr(r, q) for r in direct])
        np.testing.assert_allclose(got.draws[q], ref, rtol=1e-9)
        lo, hi = np.quantile(ref, [0.05, 0.95])
        assert iv[q][0] == pytest.approx(lo, rel=1e-9) and iv[q][1] == pytest.approx(hi, rel=1e-9)
        assert se[q] == pytest.approx(np.std(ref, ddof=1), rel=1e-9, abs=1e-300)
    assert iv["accuracy"][0] < point.accuracy < iv["accuracy"][1]
    assert "[[Intervals]]" in got.report() and "interval95" in got.to_dict()


def test_smaller_vs_larger_from_bootstrap_counts_draws_without_crossover(boot):
    fit, bs = boot
    model = VerifierAccuracyModel(LINK, tpr=0.9, fpr=0.1, concentration=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = smaller_vs_larger(fit, model, **SVL)
        got = smaller_vs_larger(bs, model, **SVL)
        direct = [smaller_vs_larger(fit.law, model, params=p, **SVL) for p in _draw_params(fit, bs)]
    assert got.crossover == pytest.approx(point.crossover, rel=1e-12)
    np.testing.assert_allclose(got.gain, point.gain, rtol=1e-12)
    cross = np.array([np.nan if r.crossover is None else r.crossover for r in direct])
    none = int(np.isnan(cross).sum())
    assert 0 < none < cross.size  # this setting has draws on both sides (14 of 50 without)
    np.testing.assert_allclose(got.draws["crossover"], cross, rtol=1e-9)
    assert got.no_crossover_share == pytest.approx(none / cross.size, rel=1e-12)
    assert any(f"{none} of {cross.size} draws" in n and "no crossover" in n for n in got.notes)
    has = cross[~np.isnan(cross)]
    lo, hi = got.interval(0.9)["crossover"]
    assert lo == pytest.approx(np.quantile(has, 0.05), rel=1e-9)
    assert hi == pytest.approx(np.quantile(has, 0.95), rel=1e-9)
    gains = np.stack([r.gain for r in direct])
    glo, ghi = got.interval(0.9)["gain"]
    np.testing.assert_allclose(glo, np.nanquantile(gains, 0.05, axis=0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ghi, np.nanquantile(gains, 0.95, axis=0), rtol=1e-9, atol=1e-12)
    assert "no crossover" in got.report()
    d = json.loads(json.dumps(got.to_dict()))  # JSON-able, with the intervals
    assert d["draws"] == cross.size and d["no_crossover_share"] == pytest.approx(none / cross.size)


def test_bootstrap_with_params_is_an_error(boot):
    fit, bs = boot
    model = CoverageAccuracyModel(LINK)
    with pytest.raises(LawError, match="params="):
        best_config(bs, params=sl.synthetic.EPOCH, accuracy_model=model, **BC)
    with pytest.raises(LawError, match="params="):
        smaller_vs_larger(bs, model, params=sl.synthetic.EPOCH, **SVL)
