"""Low-level numeric kernels shared by the laws, the solvers and the estimators (JAX).

Bottom layer: imports nothing of the package but ``_jax``. One implementation of each:

- :func:`beta_pass_at_k` / :func:`beta_binomial_pass_at_k`: expected pass@k when
  per-problem success rates are Beta distributed, ``1 - B(a, b + k) / B(a, b)``,
  computed without the cancellation of ``gammaln(x + k) - gammaln(x)`` at large x;
- :func:`sigmoid`: the sigmoid link formula ``a * sigmoid(k (L - L0)) + b``
  (Bhagia et al. 2024), in the convention of :class:`~scalinglaws.laws.SigmoidLink`;
- :func:`bisect` and :func:`scan_bisect`: the scan-then-bisect kernel of every
  one-dimensional numeric optimum in :mod:`scalinglaws.optimize`.
"""

from __future__ import annotations

from ._jax import jax, jnp, x64

__all__ = ["log_rising", "beta_binomial_pass_at_k", "beta_pass_at_k", "sigmoid", "sigmoid_complement",
           "bisect", "scan_bisect"]

_SHIFT = 8  # Stirling's series is used at x + 8 and shifted back by the recurrence


# ---------------------------------------------------------------------------------------
# Beta-binomial coverage


# B_2n / (2n (2n - 1)), n = 1..8: the coefficients of Stirling's series in 1 / y
_STIRLING = (1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0, 1.0 / 1188.0, -691.0 / 360360.0,
             1.0 / 156.0, -3617.0 / 122400.0)


def _stirling_tail(y):
    """log Gamma(y) - [(y - 1/2) log y - y + log(2 pi) / 2], Stirling's series to y^-15
    (truncation error below 1e-17 for y >= 8)."""
    r = 1.0 / (y * y)
    s = _STIRLING[-1]
    for c in reversed(_STIRLING[:-1]):
        s = c + r * s
    return s / y


@x64
def log_rising(x, k):
    """log(Gamma(x + k) / Gamma(x)) for x > 0, k >= 0 (real), from elementary functions (JAX).

    Stirling's series at y, written as (y - 1/2) log1p(k / y) + k log(y + k) - k
    + tail(y + k) - tail(y), which has no cancellation at large y (kappa up to
    1e12 stays exact). Below x = 8 the recurrence shifts to y = x + 8:
    log Gamma(x + k) / Gamma(x) = log [Gamma(y + k) / Gamma(y)] - sum_{j<8} log1p(k / (x + j)),
    a sum of terms of moderate size (no large logs subtracted). Why not
    ``gammaln(x + k) - gammaln(x)``: it cancels at large x (at kappa = 1e10 it loses ~1e-5
    of log pass@k); this branch-free form stays within ~1e-15 (relative to max(1, |value|))
    of a 40-digit mpmath reference for x from 1e-6 to 1e10 and k from 1e-3 to 1e8.
    """
    x, k = jnp.broadcast_arrays(jnp.asarray(x, dtype=jnp.float64), jnp.asarray(k, dtype=jnp.float64))
    small = x < _SHIFT
    xs = jnp.where(small, x, 1.0)
    shift = jnp.zeros_like(xs)
    for j in range(_SHIFT):
        shift = shift - jnp.log1p(k / (xs + j))
    shift = jnp.where(small, shift, 0.0)
    y = jnp.where(small, x + _SHIFT, x)
    return (y - 0.5) * jnp.log1p(k / y) + k * jnp.log(y + k) - k + _stirling_tail(y + k) - _stirling_tail(y) + shift


@x64
def beta_binomial_pass_at_k(a, b, k):
    """``1 - B(a, b + k) / B(a, b)`` (JAX, broadcasting): the expected pass@k of k
    independent samples when per-problem success rates are Beta(a, b), a, b > 0,
    k >= 0 real. ``log E[(1 - p)^k] = log_rising(b, k) - log_rising(a + b, k)``."""
    a, b = jnp.asarray(a, dtype=jnp.float64), jnp.asarray(b, dtype=jnp.float64)
    return -jnp.expm1(log_rising(b, k) - log_rising(a + b, k))


@x64
def beta_pass_at_k(mu, kappa, k, one_minus_mu=None):
    """Coverage ``1 - B(mu kappa, (1 - mu) kappa + k) / B(mu kappa, (1 - mu) kappa)``
    (JAX, broadcasting): the expected pass@k when per-problem success rates are
    Beta with mean ``mu`` and concentration ``kappa``. ``one_minus_mu`` may be
    given when it is known more precisely than ``1 - mu``. Exactly ``mu`` at
    k = 1; ``1 - (1 - mu)^k`` as kappa -> inf."""
    mu = jnp.asarray(mu, dtype=jnp.float64)
    om = 1.0 - mu if one_minus_mu is None else jnp.asarray(one_minus_mu, dtype=jnp.float64)
    a = jnp.maximum(mu * kappa, 1e-300)
    b = jnp.maximum(om * kappa, 1e-300)
    return beta_binomial_pass_at_k(a, b, jnp.asarray(k, dtype=a.dtype))


# ---------------------------------------------------------------------------------------
# the sigmoid link


@x64
def sigmoid(loss, a, b, k, L0):
    """The sigmoid link ``a / (1 + exp(-k (loss - L0))) + b`` (JAX, broadcasting).

    Convention (that of :class:`~scalinglaws.laws.SigmoidLink`, Bhagia et al.'s formula
    unchanged): **k < 0 for a normal task**, so accuracy falls as loss rises; then b
    is the floor reached at high loss, a + b the ceiling at low loss, L0 the loss at
    the midpoint and |k| the steepness."""
    return a * jax.nn.sigmoid(k * (jnp.asarray(loss) - L0)) + b


@x64
def sigmoid_complement(loss, a, b, k, L0):
    """``1 - sigmoid(loss, a, b, k, L0)`` written as ``(1 - a - b) + a sigmoid(-k (loss - L0))``,
    without the cancellation of ``1 - value`` when the value is close to 1."""
    return (1.0 - a - b) + a * jax.nn.sigmoid(-k * (jnp.asarray(loss) - L0))


# ---------------------------------------------------------------------------------------
# scan, then bisect


@x64
def bisect(f, lo, hi, iters: int):
    """Root of an increasing ``f`` in [lo, hi] (f(lo) <= 0 < f(hi)) by ``iters`` halvings
    (JAX, elementwise over array ``lo``/``hi``; traceable, so it vmaps and jits).

    Where ``f(m) > 0`` the upper end moves to the midpoint m, else the lower end. Once the
    bracket is two adjacent floats the midpoint equals an end and nothing moves any more,
    so extra iterations are harmless. Returns the midpoint of the final bracket."""
    lo, hi = jnp.asarray(lo, dtype=jnp.float64), jnp.asarray(hi, dtype=jnp.float64)

    def body(_, ab):
        a, b = ab
        m = 0.5 * (a + b)
        moving = (m != a) & (m != b)
        up = f(m) > 0
        return jnp.where(moving & ~up, m, a), jnp.where(moving & up, m, b)

    lo, hi = jax.lax.fori_loop(0, iters, body, (lo, hi))
    return 0.5 * (lo + hi)


@x64
def scan_bisect(value, slope, grid, iters: int):
    """The minimiser of a scalar function of one variable (JAX, traceable).

    ``value(u)`` is evaluated on the 1-D ``grid`` (non-finite values count as +inf); the
    minimum's neighbours bracket the optimum, which is then bisected on the sign of
    ``slope(u)`` (d value / du, or anything with its sign: increasing through the optimum).
    Returns ``(u, index of the grid minimum, grid values)``; an index of 0 or
    ``len(grid) - 1`` means the optimum lies at the edge of the searched range."""
    vals = jax.vmap(value)(grid)
    vals = jnp.where(jnp.isfinite(vals), vals, jnp.inf)
    i = jnp.argmin(vals)
    lo = grid[jnp.maximum(i - 1, 0)]
    hi = grid[jnp.minimum(i + 1, grid.shape[0] - 1)]
    return bisect(slope, lo, hi, iters), i, vals
