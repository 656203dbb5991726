"""A law of majority-vote accuracy in the task loss and the number of samples (formulas only).

:class:`MajorityVote` pools per-model majority@k curves over model sizes. For one model,
majority voting saturates in k (REFERENCE.md section 6: Brown et al. 2024, majority voting and
reward models plateau after about 100 samples; section 7: Wu et al. 2024, accuracy under
majority or weighted voting converges as samples grow, so gains saturate). The per-model
form is :class:`~scalinglaws.laws.SaturatingSamples`',

    acc(k) = c - (c - a1) k^-rho,

with plateau c, accuracy at one sample a1 and rate rho. Across models each piece is a
function of the loss L:

    c(L)   = floor + (ceiling - floor) sigmoid(-slope_inf (L - L_inf))   (plateau)
    a1(L)  = floor + (ceiling - floor) sigmoid(-slope_1 (L - L_1))       (pass@1)
    rho(L) = rho exp(rho_slope (L - L_1))                                (rate, > 0)

(the sigmoids are :func:`scalinglaws._numerics.sigmoid`, the one implementation, in
SigmoidLink's convention k = -slope < 0). A plateau below pass@1 (voting that hurts, when a
wrong answer is the model's most frequent one) is allowed.

Monotonicity in loss. acc = c (1 - w) + a1 w with w = k^-rho in (0, 1]: with a constant rate
(``constant_rate=True``) it is a mixture of two falling functions of L with weights free of L,
so it never rises with loss. With a loss-dependent rate it falls with loss whenever
``rho_slope <= 0`` and c >= a1, but not in general: the accuracy model built from a fit
(:class:`scalinglaws.optimize.MajorityVoteAccuracyModel`) checks it on a grid.

Fit with ``sl.fit(MajorityVote(), table, objective=sl.LeastSquares())`` on a table with
columns ``loss``, ``samples``, ``accuracy`` (one row per model x k).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._jax import jnp
from .._numerics import sigmoid
from ..errors import LawError
from .base import Law, Param, register

__all__ = ["MajorityVote"]


def _logit_line(L: np.ndarray, y: np.ndarray, floor: float, ceiling: float) -> tuple[float, float] | None:
    """(slope, midpoint) of a logit regression of y on L (slope > 0: y falls with L), or None."""
    u = np.clip((y - floor) / (ceiling - floor), 1e-3, 1 - 1e-3)
    if L.size < 2 or np.ptp(L) <= 0:
        return None
    c1, c0 = np.polyfit(L, np.log(u) - np.log1p(-u), 1)
    if not (c1 < 0 and np.isfinite(c0)):
        return None
    return float(-c1), float(c0 / -c1)


@register
@dataclass(frozen=True)
class MajorityVote(Law):
    """Majority-vote accuracy with k samples at task loss L:

        acc(L, k) = c(L) - (c(L) - a1(L)) k^-rho(L)

    with c, a1 sigmoid links of the loss (plateau and pass@1) and
    ``rho(L) = rho exp(rho_slope (L - L_1))``. Internal parameters slope_inf (> 0), L_inf,
    slope_1 (> 0), L_1, log_rho and (unless ``constant_rate``) rho_slope; public the same
    with ``rho`` for log_rho. ``floor``/``ceiling`` (constants, default 0 and 1) bound both
    links (floor = chance for multiple choice). Inputs ``loss``, ``samples``; target
    ``accuracy``. Fit with ``sl.LeastSquares()`` (linear space).
    """

    floor: float = 0.0
    ceiling: float = 1.0
    constant_rate: bool = False

    name = "majority_vote"
    inputs = ("loss", "samples")
    target = "accuracy"
    positive = False

    def __post_init__(self) -> None:
        fl, ce = float(self.floor), float(self.ceiling)
        if not (math.isfinite(fl) and math.isfinite(ce) and 0.0 <= fl < ce <= 1.0):
            raise LawError(f"`MajorityVote`: need 0 <= floor < ceiling <= 1, got floor={self.floor}, "
                           f"ceiling={self.ceiling}.", rule="out of range")
        object.__setattr__(self, "floor", fl)
        object.__setattr__(self, "ceiling", ce)
        object.__setattr__(self, "constant_rate", bool(self.constant_rate))

    def parameters(self):
        out = (
            Param("slope_inf", grid=(2.0, 6.0), lower=0.0, doc="steepness of the plateau c(L) in the loss"),
            Param("L_inf", grid=(1.5, 2.5, 3.5), doc="loss at which the plateau is half-way"),
            Param("slope_1", grid=(2.0, 6.0), lower=0.0, doc="steepness of pass@1 a1(L) in the loss"),
            Param("L_1", grid=(1.5, 2.5, 3.5), doc="loss at which pass@1 is half-way"),
            Param("log_rho", grid=(math.log(0.3), math.log(1.0)), doc="log of the rate at L = L_1"),
        )
        if not self.constant_rate:
            out += (Param("rho_slope", grid=(0.0,), doc="d log rho / d L"),)
        return out

    # -- pieces (JAX) ----------------------------------------------------------------------
    def _link(self, L, slope, mid):
        return sigmoid(L, self.ceiling - self.floor, self.floor, -slope, mid)

    def plateau(self, p, loss):
        """c(L), the accuracy as k -> infinity."""
        return self._link(loss, p["slope_inf"], p["L_inf"])

    def first(self, p, loss):
        """a1(L), the accuracy at one sample."""
        return self._link(loss, p["slope_1"], p["L_1"])

    def rate(self, p, loss):
        """rho(L) > 0."""
        slope = 0.0 if self.constant_rate else p["rho_slope"]
        return jnp.exp(p["log_rho"] + slope * (jnp.asarray(loss) - p["L_1"]))

    def predict(self, p, X):
        L, k = X["loss"], X["samples"]
        c, a1 = self.plateau(p, L), self.first(p, L)
        return c - (c - a1) * jnp.exp(-self.rate(p, L) * jnp.log(k))

    # -- public parameters -----------------------------------------------------------------
    def public(self, p):
        out = {n: float(p[n]) for n in self.param_names if n != "log_rho"}
        out["rho"] = math.exp(min(float(p["log_rho"]), 709.0))
        return {n: out[n] for n in self.public_names}

    @property
    def public_names(self) -> tuple[str, ...]:
        return tuple("rho" if n == "log_rho" else n for n in self.param_names)

    def from_public(self, q):
        names = set(q)
        unknown = sorted(names - set(self.param_names) - set(self.public_names))
        if unknown:
            hint = " (constant_rate=True has no rho_slope)" if "rho_slope" in unknown else ""
            raise LawError(f"law {self.name!r} has no parameter(s) {unknown}{hint}; its parameters are "
                           f"{list(self.public_names)}.", rule="unknown parameter")
        need = [n for n in self.param_names if n != "log_rho" and n not in q]
        if "rho" not in q and "log_rho" not in q:
            need.append("rho")
        if need:
            raise LawError(f"law {self.name!r} needs parameter(s) {need}; got {sorted(names)}.",
                           rule="missing parameter")
        out = {n: float(q[n]) for n in self.param_names if n != "log_rho"}
        if "log_rho" in q:
            out["log_rho"] = float(q["log_rho"])
        else:
            rho = float(q["rho"])
            if not rho > 0:
                raise LawError(f"law {self.name!r}: rho must be > 0, got {rho}.", rule="not positive", value=rho)
            out["log_rho"] = math.log(rho)
        return {n: out[n] for n in self.param_names}

    # -- starts ----------------------------------------------------------------------------
    def data_starts(self, X, y):
        """Logit regressions of the smallest-k rows (pass@1) and the largest-k rows (a lower
        bound on the plateau) on the loss, crossed with a few rates."""
        L, k, y = (np.asarray(v, dtype=np.float64).ravel() for v in (X["loss"], X["samples"], y))
        sd = max(float(np.std(L)), 1e-6)
        lo, hi = k == np.min(k), k == np.max(k)
        one = _logit_line(L[lo], y[lo], self.floor, self.ceiling) or (2.0 / sd, float(np.median(L)))
        top = _logit_line(L[hi], y[hi], self.floor, self.ceiling) or (2.0 / sd, float(np.median(L)))
        rows = []
        for s_inf, l_inf in (top, (top[0], top[1] + 0.5 * sd), (one[0], one[1] + sd)):
            for lr in (math.log(0.2), math.log(0.5), math.log(1.0)):
                row = [s_inf, l_inf, one[0], one[1], lr]
                if not self.constant_rate:
                    row.append(0.0)
                rows.append(row)
        return np.asarray(rows, dtype=np.float64)

    def config(self):
        return {"floor": self.floor, "ceiling": self.ceiling, "constant_rate": self.constant_rate}
