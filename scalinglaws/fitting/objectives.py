"""Objectives: how residuals r_i = g(prediction_i) - g(observed_i) are scored.

``g`` is ``log`` (``space="log"``) or the identity (``space="linear"``).
Each objective gives, for residuals r and per-run weights w,

- ``value(r, w)``: the scalar that the fit minimises (always **summed**, never
  averaged: a mean makes quasi-Newton solvers stop early on these surfaces);
- ``terms(r, w)``: ``(value, psi, curvature)`` with ``psi = d value / d r`` and
  ``curvature`` the IRLS weights, so that ``J^T diag(curvature) J`` is the
  Gauss-Newton (majorising) curvature used by the Levenberg-Marquardt solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from .._jax import jax, jnp


def huber(r, delta):
    """Huber's rho: 0.5 r^2 for |r| <= delta, delta (|r| - delta/2) beyond."""
    a = jnp.abs(r)
    return jnp.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def _huber_psi_and_weight(r, delta):
    a = jnp.abs(r)
    inside = a <= delta
    psi = jnp.where(inside, r, delta * jnp.sign(r))
    weight = jnp.where(inside, 1.0, delta / jnp.where(inside, 1.0, a))
    return psi, weight


def _check_space(space: str) -> None:
    if space not in ("log", "linear"):
        raise ValueError(f"`space` must be 'log' or 'linear', got {space!r}.")


@dataclass(frozen=True)
class Huber:
    """Summed Huber loss of the residuals (default: delta = 1e-3 on log residuals,
    as in Hoffmann et al. 2022 and Besiroglu et al. 2024)."""

    delta: float = 1e-3
    space: str = "log"
    name: ClassVar[str] = "huber"
    extra_params: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        _check_space(self.space)
        if not self.delta > 0:
            raise ValueError(f"`Huber(delta=...)` must be positive, got {self.delta}.")

    def value(self, r, w):
        return jnp.sum(w * huber(r, self.delta))

    def terms(self, r, w):
        psi, weight = _huber_psi_and_weight(r, self.delta)
        return self.value(r, w), w * psi, w * weight


@dataclass(frozen=True)
class LeastSquares:
    """Sum of squared residuals, sum_i w_i r_i^2 (``space="linear"`` by default;
    ``"log"`` gives least squares on log residuals)."""

    space: str = "linear"
    name: ClassVar[str] = "least_squares"
    extra_params: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        _check_space(self.space)

    def value(self, r, w):
        return jnp.sum(w * r * r)

    def terms(self, r, w):
        return self.value(r, w), 2.0 * w * r, 2.0 * w


@dataclass(frozen=True)
class HuberLikelihood:
    """Negative log-likelihood of residuals r ~ sigma * Huber(delta) noise, with
    the scale sigma fitted too (Besiroglu et al. 2024, their final estimate):

        NLL = sum_i w_i [huber(r_i / sigma, delta) + log sigma + log Z(delta)],
        Z(delta) = sqrt(2 pi) (1 - 2 Phi(-delta)) + 2 exp(-delta^2 / 2) / delta.

    sigma is profiled out exactly (a 1-D convex problem in log sigma solved by
    Newton's method) so that the parameter vector is the law's own; the fitted
    sigma is reported in ``Fit.extras``.
    """

    delta: float = 1e-3
    space: str = "log"
    name: ClassVar[str] = "huber_likelihood"
    extra_params: ClassVar[tuple[str, ...]] = ("sigma",)

    def __post_init__(self):
        _check_space(self.space)

    @property
    def log_z(self) -> float:
        d = self.delta
        # Phi(-d) = erfc(d / sqrt 2) / 2 (math.erfc: no scipy.stats import, ~1 s, on the CLI's path)
        return math.log(math.sqrt(2 * math.pi) * (1 - math.erfc(d / math.sqrt(2))) + 2 * math.exp(-0.5 * d * d) / d)

    def log_sigma(self, r, w):
        """argmin over s = log sigma of sum w huber(r e^-s) + W s."""
        d = self.delta
        W = jnp.sum(w)
        # the root s* lies below both the Laplace start (exact when all |z| > delta) and the Gaussian
        # start (exact when all |z| <= delta): sum w min(z^2, delta |z|) = W there, and that sum falls as
        # s grows; so start at the smaller, and cap each Newton step at 0.5 so that it cannot overshoot far
        s_l = jnp.log(jnp.maximum(d * jnp.sum(w * jnp.abs(r)) / W, 1e-300))
        s_g = 0.5 * jnp.log(jnp.maximum(jnp.sum(w * r * r) / W, 1e-300))
        s = jnp.minimum(s_l, s_g)

        def step(s):
            return self.scale_step(r, w, s)

        def newton(c):
            i, s, _ = c
            st = step(s)
            return i + 1, s - st, jnp.abs(st)

        # Newton until the step is below 1e-13 (usually 1-3 steps from this start; at most 40), not
        # differentiated; then two differentiable Newton steps from that root carry the derivatives of
        # s*(r) (the implicit function's) into gradients and Hessians of the profiled objective
        out = jax.lax.while_loop(lambda c: (c[0] < 40) & (c[2] > 1e-13), newton,
                                 (0, jax.lax.stop_gradient(s), jnp.asarray(jnp.inf, dtype=s.dtype)))
        s = jax.lax.stop_gradient(out[1])
        s = s - step(s)
        return s - step(s)

    def scale_step(self, r, w, s):
        """The (capped) Newton step in s = log sigma on the 1-D profile, to be subtracted."""
        d = self.delta
        z = r * jnp.exp(-s)
        a = jnp.abs(z)
        inside = a <= d
        g = jnp.sum(w) - jnp.sum(w * jnp.where(inside, z * z, d * a))
        h = jnp.sum(w * jnp.where(inside, 2 * z * z, d * a))
        return jnp.clip(g / jnp.maximum(h, 1e-300), -0.5, 0.5)

    def terms_at(self, r, w, s):
        """(NLL, psi, IRLS weights) at a given s = log sigma instead of the profiled one: the
        bootstrap refit carries s beside the law's parameters (fitting/solver.py ``refit``)."""
        sigma = jnp.exp(s)
        psi, weight = _huber_psi_and_weight(r / sigma, self.delta)
        return self.nll(r, w, s), w * psi / sigma, w * weight / (sigma * sigma)

    def nll(self, r, w, s):
        z = r * jnp.exp(-s)
        return jnp.sum(w * huber(z, self.delta)) + jnp.sum(w) * (s + self.log_z)

    def value(self, r, w):
        return self.nll(r, w, self.log_sigma(r, w))

    def terms(self, r, w):
        return self.terms_at(r, w, self.log_sigma(r, w))

    def extras_arrays(self, r, w):
        """Fitted quantities of the objective itself (jnp; jitted by the caller)."""
        return {"sigma": jnp.exp(self.log_sigma(r, w))}

    def extras(self, r, w) -> dict[str, float]:
        return {k: float(v) for k, v in self.extras_arrays(r, w).items()}


OBJECTIVES = {"huber": Huber, "least_squares": LeastSquares, "huber_likelihood": HuberLikelihood}


def objective_from_spec(spec: dict):
    spec = dict(spec)
    cls = OBJECTIVES[spec.pop("name")]
    return cls(**spec)


def objective_spec(obj) -> dict:
    out = {"name": obj.name, "space": obj.space}
    if hasattr(obj, "delta"):
        out["delta"] = obj.delta
    return out
