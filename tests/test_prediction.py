"""Bootstrap.predict: intervals of the law's prediction over the resamples.

Checked against the Chinchilla formula E + A N^-alpha + B D^-beta written out in numpy and
evaluated at each draw's public parameters (an independent path from the law's JAX predict):
quantiles agree to rel 1e-9 (float64 rounding of two expressions of the same formula).
"""

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic


@pytest.fixture(scope="module")
def boot():
    runs = sl.read_runs(synthetic.chinchilla_sweep(synthetic.EPOCH, budgets=(1e18, 1e19, 1e20), n_per_budget=7,
                                                   noise=0.02, seed=3))
    fit = sl.fit(sl.laws.Chinchilla(), runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.bootstrap(fit, runs, n=200, seed=1, starts=1, progress=False)


N = np.array([1e8, 1e9, 7e10])
D = np.array([2e9, 2e10, 1.4e12])


def _numpy_chinchilla(p, N, D):
    return p["E"][:, None] + p["A"][:, None] / N[None, :] ** p["alpha"][:, None] + \
        p["B"][:, None] / D[None, :] ** p["beta"][:, None]


def test_predict_interval_matches_per_draw_formula(boot):
    pred = boot.predict(params=N, tokens=D, level=0.9)
    P = _numpy_chinchilla(boot.public_draws(), N, D)
    np.testing.assert_allclose(pred.draws, P, rtol=1e-9)
    np.testing.assert_allclose(pred.lo, np.quantile(P, 0.05, axis=0), rtol=1e-9)
    np.testing.assert_allclose(pred.hi, np.quantile(P, 0.95, axis=0), rtol=1e-9)
    np.testing.assert_allclose(pred.value, boot.fit.predict(params=N, tokens=D), rtol=1e-12)
    assert np.all(pred.lo < pred.value) and np.all(pred.value < pred.hi)
    lo80, hi80 = pred.interval(0.8)
    assert np.all(lo80 >= pred.lo) and np.all(hi80 <= pred.hi)
    np.testing.assert_allclose(pred.se(), np.std(P, axis=0, ddof=1), rtol=1e-9)


def test_interval_widens_with_extrapolation(boot):
    # the sweep stops at 1e20 FLOPs; relative width grows towards 1e24
    C = np.array([1e19, 1e21, 1e24])
    best = sl.compute_optimal(boot.fit, flops=C)
    pred = boot.predict(params=best.params, tokens=best.tokens, level=0.9)
    rel = (pred.hi - pred.lo) / pred.value
    assert rel[0] < rel[1] < rel[2]


def test_noise_widens_to_a_new_observation_interval(boot):
    mean = boot.predict(params=N, tokens=D, level=0.9)
    new = boot.predict(params=N, tokens=D, level=0.9, noise=0.05)
    assert np.all(new.lo < mean.lo) and np.all(new.hi > mean.hi)
    # independent check by Monte Carlo: draw prediction x lognormal noise, 200 x 2000 samples;
    # the 5%/95% quantiles of that mixture agree with the deterministic quadrature to 1% (MC error
    # of a tail quantile with 4e5 samples is ~0.1% of the value; quadrature over 64 nodes ~0.3%)
    rng = np.random.default_rng(0)
    M = mean.draws[:, None, :] * np.exp(0.05 * rng.standard_normal((1, 2000, 1)))
    M = M.reshape(-1, M.shape[-1])
    np.testing.assert_allclose(new.lo, np.quantile(M, 0.05, axis=0), rtol=0.01)
    np.testing.assert_allclose(new.hi, np.quantile(M, 0.95, axis=0), rtol=0.01)


def test_report_and_dict(boot):
    pred = boot.predict(params=N, tokens=D)
    text = pred.report()
    assert "[[Prediction]]" in text and "mean prediction" in text
    d = pred.to_dict()
    assert len(d["lo"]) == 3 and d["level"] == 0.9
    assert np.asarray(pred).shape == (3,)


@pytest.mark.parametrize("kw", [dict(level=1.0), dict(level=0), dict(level="0.9"), dict(noise=-1.0),
                                dict(noise=float("nan"))])
def test_bad_arguments(boot, kw):
    with pytest.raises(sl.LawError):
        boot.predict(params=N, tokens=D, **kw)


def test_missing_column(boot):
    with pytest.raises(sl.LawError, match="tokens"):
        boot.predict(params=N)
