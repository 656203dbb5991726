"""Laws of accuracy against inference compute (samples per problem, reasoning
tokens or search steps per query).

- :class:`Coverage`: Brown et al. 2024 ("Large Language Monkeys"), coverage
  ``c(k) = exp(a k^b)`` with a, b < 0 in practice; no ceiling below 1.
- :class:`SaturatingSamples`: majority vote / best-of-N with an imperfect
  verifier, ``acc(k) = acc_inf - (acc_inf - acc_1) k^-gamma``, plateau acc_inf.
- :class:`SaturatingTokens`: accuracy against reasoning tokens with a ceiling,
  ``acc(T) = ceiling (1 - exp(-(T / T0)^kappa))`` (a Weibull CDF scaled to
  the ceiling: 0 at T = 0, ceiling as T -> inf, half-way-ish near T0).
- :class:`PowerNoCeiling`: ``acc(x) = A x^alpha``, the same growth without a
  plateau, the alternative in :func:`scalinglaws.evals.ceiling_check`.

Every law takes ``variable`` (the input column; default ``samples`` or
``inference_tokens``) and predicts ``accuracy`` as a fraction in [0, 1].
Plateau laws bound their accuracies to [0, 1] with ``Param`` bounds and have
``positive = False``: fit them in linear space (``sl.LeastSquares()``).
Coverage and PowerNoCeiling are positive and are fitted in log space
(``sl.LeastSquares(space="log")``; Brown et al. fit log c = a k^b).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .._jax import jnp
from .base import Law, Param, register

__all__ = ["Coverage", "SaturatingSamples", "SaturatingTokens", "PowerNoCeiling"]


class _OneInput(Law):
    """Mixin: the single input column is the dataclass field ``variable``."""

    variable: str

    def __post_init__(self) -> None:
        if not isinstance(self.variable, str) or not self.variable:
            raise ValueError(f"`{type(self).__name__}(variable=...)` must name a column, got {self.variable!r}.")
        object.__setattr__(self, "inputs", (self.variable,))

    def _x(self, X):
        return X[self.variable]

    def asymptote(self, p: Mapping[str, float]) -> float:
        """Accuracy as the input grows without bound (internal parameters)."""
        return math.inf

    def config(self):
        return {"variable": self.variable}


@register
@dataclass(frozen=True)
class Coverage(_OneInput):
    """Brown et al. 2024: coverage c(k) = exp(a k^b), i.e. log c = a k^b.

    Internal (= public) parameters a, b. Both are negative for the published
    curves (Llama-3-8B-Instruct on MATH: a = -1.33, b = -0.43); c(1) = exp(a)
    and c -> 1 as k -> inf when b < 0. The start grid covers a in
    [-3, -0.05] and b in [-1, -0.05]. Fit with ``sl.LeastSquares(space="log")``.
    """

    variable: str = "samples"

    name = "coverage"
    target = "accuracy"
    positive = True

    def parameters(self):
        return (
            Param("a", grid=(-3.0, -2.0, -1.3, -0.75, -0.35, -0.05), doc="log c(1)"),
            Param("b", grid=(-1.0, -0.7, -0.45, -0.25, -0.12, -0.05), doc="exponent of k"),
        )

    def log_predict(self, p, X):
        return p["a"] * jnp.exp(p["b"] * jnp.log(self._x(X)))

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def log_jacobian(self, theta, X):
        lk = jnp.log(self._x(X))
        kb = jnp.exp(theta[1] * lk)
        return theta[0] * kb, jnp.stack([kb, theta[0] * kb * lk], axis=-1)

    def asymptote(self, p):
        return 1.0 if p["b"] < 0 else math.exp(p["a"]) if p["b"] == 0 else 0.0

    def samples_for(self, p: Mapping[str, float], coverage) -> np.ndarray:
        """Samples k needed to reach ``coverage``: k = (log c / a)^(1/b)."""
        c = np.asarray(coverage, dtype=np.float64)
        return (np.log(c) / p["a"]) ** (1.0 / p["b"])


@register
@dataclass(frozen=True)
class SaturatingSamples(_OneInput):
    """Accuracy that saturates in the number of samples k (majority vote, or
    best-of-N with an imperfect verifier): acc(k) = acc_inf - (acc_inf - acc_1) k^-gamma.

    acc(1) = acc_1 and acc -> acc_inf (the plateau) as k grows; gamma > 0 sets
    how fast. acc_inf and acc_1 are bounded to [0, 1] (fractions), gamma to
    (0, 10]. ``acc_inf < acc_1`` (voting that hurts) is allowed.
    """

    variable: str = "samples"

    name = "saturating_samples"
    target = "accuracy"
    positive = False

    def parameters(self):
        return (
            Param("acc_inf", grid=(0.3, 0.6, 0.9), lower=0.0, upper=1.0, doc="plateau"),
            Param("acc_1", grid=(0.05, 0.2, 0.5), lower=0.0, upper=1.0, doc="accuracy at k = 1"),
            Param("gamma", grid=(0.2, 0.5, 1.0), lower=0.0, upper=10.0, doc="decay exponent of the gap"),
        )

    def predict(self, p, X):
        return p["acc_inf"] - (p["acc_inf"] - p["acc_1"]) * jnp.exp(-p["gamma"] * jnp.log(self._x(X)))

    def data_starts(self, X, y):
        x, y = np.asarray(X[self.variable]), np.asarray(y)
        a1 = float(np.clip(y[np.argmin(x)], 0.01, 0.99))
        top = float(np.max(y))
        rows = [[float(np.clip(t, 0.01, 0.995)), a1, g] for t in (top, top + 0.02, top + 0.1) for g in (0.3, 0.7, 1.5)]
        return np.asarray(rows)

    def asymptote(self, p):
        return float(p["acc_inf"])


@register
@dataclass(frozen=True)
class SaturatingTokens(_OneInput):
    """Accuracy against reasoning tokens (or search steps) per query with a
    ceiling: acc(T) = ceiling * (1 - exp(-(T / T0)^kappa)).

    Internal parameters ceiling (bounded to [0, 1]), log_T0 = log T0 and
    kappa (bounded to (0, 10]); public ceiling, T0, kappa. At T = T0 the
    accuracy is ceiling (1 - 1/e) = 0.632 ceiling; kappa < 1 gives the long
    slow approach usually seen against log-spaced budgets.
    """

    variable: str = "inference_tokens"

    name = "saturating_tokens"
    target = "accuracy"
    positive = True

    def parameters(self):
        return (
            Param("ceiling", grid=(0.3, 0.6, 0.9), lower=0.0, upper=1.0, doc="plateau"),
            Param("log_T0", grid=tuple(np.log([1e2, 1e3, 1e4]).tolist()), doc="log T0"),
            Param("kappa", grid=(0.3, 0.7, 1.5), lower=0.0, upper=10.0, doc="shape"),
        )

    def log_predict(self, p, X):
        z = jnp.exp(p["kappa"] * (jnp.log(self._x(X)) - p["log_T0"]))
        return jnp.log(p["ceiling"]) + jnp.log(-jnp.expm1(-z))

    def predict(self, p, X):
        z = jnp.exp(p["kappa"] * (jnp.log(self._x(X)) - p["log_T0"]))
        return p["ceiling"] * -jnp.expm1(-z)

    def data_starts(self, X, y):
        lx, y = np.log(np.asarray(X[self.variable])), np.asarray(y)
        top = float(np.max(y))
        rows = [[float(np.clip(t, 0.01, 0.995)), float(q), k]
                for t in (top + 0.01, top + 0.1) for q in np.quantile(lx, (0.1, 0.3, 0.5, 0.8))
                for k in (0.3, 0.7, 1.5)]
        return np.asarray(rows)

    def public(self, p):
        return {"ceiling": float(p["ceiling"]), "T0": math.exp(min(p["log_T0"], 709.0)), "kappa": float(p["kappa"])}

    def from_public(self, q):
        if "log_T0" in q:
            return {n: float(q[n]) for n in self.param_names}
        return {"ceiling": float(q["ceiling"]), "log_T0": math.log(q["T0"]), "kappa": float(q["kappa"])}

    def asymptote(self, p):
        return float(p["ceiling"])


@register
@dataclass(frozen=True)
class PowerNoCeiling(_OneInput):
    """Accuracy growing as a power of compute with no plateau: acc(x) = A x^alpha.

    Internal parameters log_A and alpha; public A and alpha. The alternative
    to a plateau law in :func:`~scalinglaws.evals.ceiling_check`: where it
    predicts held-out budgets better, more compute still pays.
    """

    variable: str = "inference_tokens"

    name = "power_no_ceiling"
    target = "accuracy"
    positive = True

    def parameters(self):
        return (
            Param("log_A", grid=(-6.0, -3.0, -1.0), doc="log A"),
            Param("alpha", grid=(0.05, 0.2, 0.5), doc="exponent"),
        )

    def log_predict(self, p, X):
        return p["log_A"] + p["alpha"] * jnp.log(self._x(X))

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def log_jacobian(self, theta, X):
        lx = jnp.log(self._x(X))
        return theta[0] + theta[1] * lx, jnp.stack([jnp.ones_like(lx), lx], axis=-1)

    def data_starts(self, X, y):
        lx, ly = np.log(np.asarray(X[self.variable])), np.log(np.maximum(np.asarray(y), 1e-12))
        slope, icpt = np.polyfit(lx, ly, 1) if np.ptp(lx) > 0 else (0.0, float(np.mean(ly)))
        return np.asarray([[icpt, slope]])

    def public(self, p):
        return {"A": math.exp(min(p["log_A"], 709.0)), "alpha": float(p["alpha"])}

    def from_public(self, q):
        if "log_A" in q:
            return {n: float(q[n]) for n in self.param_names}
        return {"log_A": math.log(q["A"]), "alpha": float(q["alpha"])}

    def asymptote(self, p):
        return math.inf if p["alpha"] > 0 else math.exp(p["log_A"]) if p["alpha"] == 0 else 0.0
