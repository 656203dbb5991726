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
    the midpoint and |k| the steepness. ``a >= 0`` always (this removes the
    mirror solution (-a, -k, a + b) that describes the same curve). Public
    parameters: a, b, k, L0.

    ``bounded=True`` (default): accuracies are fractions, so the floor b >= 0
    and the ceiling a + b <= 1 are hard bounds. The solver moves the internal
    parameters ``ceiling`` = a + b in [0, 1] and ``floor_share`` = b / (a + b)
    in [0, 1] (plus k, L0); a fit that wants more than 1 stops at
    ``ceiling = 1`` and reports it in ``fit.at_bound`` (with a warning).
    ``bounded=False``: the original free form, internal = public (a >= 0 only),
    e.g. for a target that is not a fraction.

    >>> import numpy as np, scalinglaws as sl
    >>> L = np.linspace(0.6, 2.0, 15)
    >>> acc = 0.6 / (1 + np.exp(6.0 * (L - 1.2))) + 0.25     # a = 0.6, b = 0.25, k = -6, L0 = 1.2
    >>> f = sl.fit(sl.laws.SigmoidLink(), {"loss": L, "accuracy": acc}, objective=sl.LeastSquares())
    >>> {k: round(v, 6) for k, v in f.params.items()}
    {'a': 0.6, 'b': 0.25, 'k': -6.0, 'L0': 1.2}
    >>> sl.laws.SigmoidLink(bounded=False).config()
    {'bounded': False}
    """

    bounded: bool = True

    name = "sigmoid_link"
    inputs = ("loss",)
    target = "accuracy"
    positive = False

    def parameters(self):
        if self.bounded:
            return (
                Param("ceiling", grid=(0.6, 0.95), lower=0.0, upper=1.0, doc="a + b, the accuracy at low loss"),
                Param("floor_share", grid=(0.05, 0.4), lower=0.0, upper=1.0, doc="b / (a + b)"),
                Param("k", grid=(-10.0, -3.0, -1.0), doc="steepness; negative when accuracy falls with loss"),
                Param("L0", grid=(0.5, 1.0, 2.0), doc="loss at the midpoint"),
            )
        return (
            Param("a", grid=(0.3, 0.7), lower=0.0, doc="span, ceiling - floor"),
            Param("b", grid=(0.0, 0.25), doc="floor (accuracy at high loss when k < 0)"),
            Param("k", grid=(-10.0, -3.0, -1.0), doc="steepness; negative when accuracy falls with loss"),
            Param("L0", grid=(0.5, 1.0, 2.0), doc="loss at the midpoint"),
        )

    def _span_floor(self, p):
        """(a, b) from the bounded internal parameters, or from a, b themselves (the free
        form, public parameters, and fits saved before ``bounded`` existed)."""
        if "ceiling" in p:
            return p["ceiling"] * (1.0 - p["floor_share"]), p["ceiling"] * p["floor_share"]
        return p["a"], p["b"]

    def predict(self, p, X):
        a, b = self._span_floor(p)
        return sigmoid(X["loss"], a, b, p["k"], p["L0"])

    def public(self, p):
        a, b = self._span_floor(p)
        return {"a": float(a), "b": float(b), "k": float(p["k"]), "L0": float(p["L0"])}

    def from_public(self, q):
        if not self.bounded or "ceiling" in q:
            return {n: float(q[n]) for n in self.param_names}
        a, b = float(q["a"]), float(q["b"])
        c = a + b
        return {"ceiling": c, "floor_share": b / c if c != 0 else 0.0, "k": float(q["k"]), "L0": float(q["L0"])}

    def data_starts(self, X, y):
        L, y = np.asarray(X["loss"]), np.asarray(y)
        lo, hi = float(np.min(y)), float(np.max(y))
        span = max(hi - lo, 1e-3)
        sd = max(float(np.std(L)), 1e-6)
        a0, b0 = 1.2 * span, lo - 0.1 * span
        if self.bounded:  # inside the bounds, a little off them (the solver clips to them)
            c0 = min(max(a0 + b0, 1e-3), 0.999)
            b0 = min(max(b0, 1e-3 * c0), 0.999 * c0)
            head = [c0, b0 / c0]
        else:
            head = [a0, b0]
        rows = []
        for q in np.quantile(L, (0.2, 0.5, 0.8)):
            for s in (1.0, 3.0, 10.0):
                for sign in (-1.0, 1.0):
                    rows.append(head + [sign * s / sd, float(q)])
        return np.asarray(rows)

    def loss_for(self, p: Mapping[str, float], accuracy) -> np.ndarray:
        """The loss at which the link reaches ``accuracy`` (NaN outside (b, a + b));
        ``p`` holds the public parameters (a, b, k, L0), e.g. ``fit.params``."""
        u = (np.asarray(accuracy, dtype=np.float64) - p["b"]) / p["a"]
        with np.errstate(invalid="ignore", divide="ignore"):
            return p["L0"] + np.log(u / (1.0 - u)) / p["k"]

    def config(self):
        return {"bounded": self.bounded}


@register
@dataclass(frozen=True)
class ExpErrorLink(Law):
    """Gadre et al. 2024: top-1 error Err(L) = eps - k exp(-gamma L).

    ``target="accuracy"`` (default) predicts ``1 - Err`` and fits the
    ``accuracy`` column; ``target="error"`` predicts Err and fits a column
    named ``error`` (pass a mapping with that key). eps is the error as
    L -> inf, k > 0 and gamma > 0 make the error fall as the loss falls.
    Internal parameters eps, log_k = log k, gamma; public eps, k, gamma.

    ``bounded=True`` (default): the accuracy floor 1 - eps (reached as L -> inf)
    lies in [0, 1], i.e. 0 <= eps <= 1 is a hard bound (reported in
    ``fit.at_bound`` when reached). This form has no ceiling parameter: the
    accuracy 1 - eps + k exp(-gamma L) rises without limit as L falls, and stays
    <= 1 only for L >= log(k / eps) / gamma (see :meth:`loss_at_full_accuracy`);
    fitted values have k >> eps at typical losses (L ~ 2-4), so that cannot be a
    bound without distorting them. ``bounded=False`` frees eps.

    >>> import numpy as np, scalinglaws as sl
    >>> L = np.linspace(2.2, 4.0, 12)
    >>> acc = 1 - (0.75 - 12.0 * np.exp(-1.5 * L))
    >>> f = sl.fit(sl.laws.ExpErrorLink(), {"loss": L, "accuracy": acc}, objective=sl.LeastSquares())
    >>> {k: round(v, 6) for k, v in f.params.items()}
    {'eps': 0.75, 'k': 12.0, 'gamma': 1.5}
    """

    target: str = "accuracy"  # type: ignore[misc]
    bounded: bool = True

    name = "exp_error_link"
    inputs = ("loss",)
    positive = False

    def __post_init__(self) -> None:
        if self.target not in ("accuracy", "error"):
            raise LawError(f"`ExpErrorLink(target=...)` must be 'accuracy' or 'error', got {self.target!r}.",
                           rule="bad target", value=self.target)

    def parameters(self):
        if self.bounded:
            eps = Param("eps", grid=(0.6, 0.8, 0.95), lower=0.0, upper=1.0, doc="error as L -> inf, in [0, 1]")
        else:
            eps = Param("eps", grid=(0.6, 0.8, 1.0), doc="error as L -> inf")
        return (
            eps,
            Param("log_k", grid=(0.0, 2.0, 5.0), doc="log k"),
            Param("gamma", grid=(0.5, 1.0, 2.0, 4.0), lower=0.0, doc="rate in L"),
        )

    def error(self, p, X):
        return p["eps"] - jnp.exp(p["log_k"] - p["gamma"] * X["loss"])

    def predict(self, p, X):
        err = self.error(p, X)
        return err if self.target == "error" else 1.0 - err

    def loss_at_full_accuracy(self, p: Mapping[str, float]) -> float:
        """The loss below which the predicted error is negative (accuracy > 1):
        log(k / eps) / gamma, from public parameters (NaN when eps <= 0)."""
        if not p["eps"] > 0:
            return math.nan
        return math.log(p["k"] / p["eps"]) / p["gamma"]

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
                if self.bounded:  # inside the bounds (the solver clips starts to them)
                    eps = min(max(float(eps), 1e-3), 0.999)
                rows.append([float(eps), math.log(k), g])
        return np.asarray(rows) if rows else None

    def public(self, p):
        return {"eps": float(p["eps"]), "k": math.exp(min(p["log_k"], 709.0)), "gamma": float(p["gamma"])}

    def from_public(self, q):
        if "log_k" in q:
            return {n: float(q[n]) for n in self.param_names}
        return {"eps": float(q["eps"]), "log_k": math.log(q["k"]), "gamma": float(q["gamma"])}

    def config(self):
        return {"target": self.target, "bounded": self.bounded}
