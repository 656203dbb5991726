"""HuberLikelihood's profiled scale: log sigma minimises sum w huber(r / sigma, delta) + W log sigma.

Checked against scipy's bounded scalar minimiser on the same function written in numpy, for
deltas from Epoch's 1e-3 (nearly every residual outside delta: Laplace-like) to 10 (every
residual inside: Gaussian, sigma^2 = mean r^2), and mixed cases in between, where a plain Newton
iteration from the Laplace start used to overshoot (delta=10 gave sigma 6e-11 for residuals of
rms 0.005). Tolerance 1e-6 in log sigma: scipy's xatol is 1e-12, and the profiled objective's
value is what the fit uses (a 1e-6 error in log sigma moves it by O(1e-12) relative).
"""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import scalinglaws as sl


def _phi(s, r, w, d):
    z = r * np.exp(-s)
    a = np.abs(z)
    return np.sum(w * np.where(a <= d, 0.5 * z * z, d * (a - 0.5 * d))) + np.sum(w) * s


@pytest.mark.parametrize("delta", [1e-3, 0.1, 0.5, 1.0, 2.0, 10.0])
@pytest.mark.parametrize("scale", [1e-3, 5e-3, 0.05])
def test_log_sigma_is_the_minimiser(delta, scale):
    rng = np.random.default_rng(7)
    r = rng.standard_normal(240) * scale
    w = rng.integers(0, 3, 240).astype(np.float64)
    s = float(sl.HuberLikelihood(delta=delta).log_sigma(jnp.asarray(r), jnp.asarray(w)))
    ref = minimize_scalar(_phi, args=(r, w, delta), bounds=(-40, 5), method="bounded",
                          options={"xatol": 1e-12}).x
    assert s == pytest.approx(ref, abs=1e-6)


def test_gaussian_limit():
    # every |z| <= delta: sigma^2 is the weighted mean square (closed form)
    r = np.random.default_rng(1).standard_normal(100) * 0.01
    s = float(sl.HuberLikelihood(delta=50.0).log_sigma(jnp.asarray(r), jnp.ones(100)))
    assert np.exp(2 * s) == pytest.approx(np.mean(r * r), rel=1e-9)
