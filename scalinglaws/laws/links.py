"""Links from loss to downstream accuracy (formulas only).

- :class:`SigmoidLink`: Bhagia et al. 2024 (OLMo model ladders),
  ``Acc(L) = a / (1 + exp(-k (L - L0))) + b``.
- :class:`ExpErrorLink`: Gadre et al. 2024, ``Err(L) = eps - k exp(-gamma L)``,
  predicting accuracy ``1 - Err`` (default) or the error itself.

The two-step (N, D) -> loss -> accuracy fit is :func:`scalinglaws.fitting.fit_two_step`.

Accuracies are fractions in [0, 1]. The links are not positive-only
(``positive = False``): fit them in linear space, ``sl.LeastSquares()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .._jax import jnp
from .._numerics import sigmoid
from ..errors import LawError
from .base import Law, Param, register

__all__ = ["SigmoidLink", "ExpErrorLink"]


@register
@dataclass(frozen=True)
class SigmoidLink(Law):
    """Bhagia et al. 2024: Acc(L) = a / (1 + exp(-k (L - L0))) + b, on the task loss L.

    Sign convention: the formula is the paper's, unchanged, so **k < 0 for a
    normal task** (accuracy falls as loss rises). Then b is the floor reached
    at high loss (about chance), a + b the ceiling at low loss, L0 the loss at
    the midpoint and |k| the steepness. ``a >= 0`` is enforced (a bound):
    this removes the mirror solution (-a, -k, a + b) that describes the same
    curve. Parameters are internal = public: a, b, k, L0.
    """

    name = "sigmoid_link"
    inputs = ("loss",)
    target = "accuracy"
    positive = False

    def parameters(self):
        return (
            Param("a", grid=(0.3, 0.7), lower=0.0, doc="span, ceiling - floor"),
            Param("b", grid=(0.0, 0.25), doc="floor (accuracy at high loss when k < 0)"),
            Param("k", grid=(-10.0, -3.0, -1.0), doc="steepness; negative when accuracy falls with loss"),
            Param("L0", grid=(0.5, 1.0, 2.0), doc="loss at the midpoint"),
        )

    def predict(self, p, X):
        return sigmoid(X["loss"], p["a"], p["b"], p["k"], p["L0"])

    def data_starts(self, X, y):
        L, y = np.asarray(X["loss"]), np.asarray(y)
        lo, hi = float(np.min(y)), float(np.max(y))
        span = max(hi - lo, 1e-3)
        sd = max(float(np.std(L)), 1e-6)
        rows = []
        for q in np.quantile(L, (0.2, 0.5, 0.8)):
            for s in (1.0, 3.0, 10.0):
                for sign in (-1.0, 1.0):
                    rows.append([1.2 * span, lo - 0.1 * span, sign * s / sd, float(q)])
        return np.asarray(rows)

    def loss_for(self, p: Mapping[str, float], accuracy) -> np.ndarray:
        """The loss at which the link reaches ``accuracy`` (NaN outside (b, a + b))."""
        u = (np.asarray(accuracy, dtype=np.float64) - p["b"]) / p["a"]
        with np.errstate(invalid="ignore", divide="ignore"):
            return p["L0"] + np.log(u / (1.0 - u)) / p["k"]


@register
@dataclass(frozen=True)
class ExpErrorLink(Law):
    """Gadre et al. 2024: top-1 error Err(L) = eps - k exp(-gamma L).

    ``target="accuracy"`` (default) predicts ``1 - Err`` and fits the
    ``accuracy`` column; ``target="error"`` predicts Err and fits a column
    named ``error`` (pass a mapping with that key). eps is the error as
    L -> inf, k > 0 and gamma > 0 make the error fall as the loss falls.
    Internal parameters eps, log_k = log k, gamma; public eps, k, gamma.
    """

    target: str = "accuracy"  # type: ignore[misc]

    name = "exp_error_link"
    inputs = ("loss",)
    positive = False

    def __post_init__(self) -> None:
        if self.target not in ("accuracy", "error"):
            raise LawError(f"`ExpErrorLink(target=...)` must be 'accuracy' or 'error', got {self.target!r}.",
                           rule="bad target", value=self.target)

    def parameters(self):
        return (
            Param("eps", grid=(0.6, 0.8, 1.0), doc="error as L -> inf"),
            Param("log_k", grid=(0.0, 2.0, 5.0), doc="log k"),
            Param("gamma", grid=(0.5, 1.0, 2.0, 4.0), lower=0.0, doc="rate in L"),
        )

    def error(self, p, X):
        return p["eps"] - jnp.exp(p["log_k"] - p["gamma"] * X["loss"])

    def predict(self, p, X):
        err = self.error(p, X)
        return err if self.target == "error" else 1.0 - err

    def data_starts(self, X, y):
        L = np.asarray(X["loss"])
        err = np.asarray(y) if self.target == "error" else 1.0 - np.asarray(y)
        rows = []
        for g in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0):
            cols = np.stack([np.ones_like(L), -np.exp(-g * L)], axis=1)
            scale = np.abs(cols).max(axis=0)
            coef, *_ = np.linalg.lstsq(cols / scale, err, rcond=None)
            eps, k = coef / scale
            if k > 0 and np.isfinite(eps):
                rows.append([float(eps), math.log(k), g])
        return np.asarray(rows) if rows else None

    def public(self, p):
        return {"eps": float(p["eps"]), "k": math.exp(min(p["log_k"], 709.0)), "gamma": float(p["gamma"])}

    def from_public(self, q):
        if "log_k" in q:
            return {n: float(q[n]) for n in self.param_names}
        return {"eps": float(q["eps"]), "log_k": math.log(q["k"]), "gamma": float(q["gamma"])}

    def config(self):
        return {"target": self.target}
