"""Parallel against sequential inference: accuracy in samples per query (width)
and tokens per sample (depth) together, and the best split of a per-query budget.

:class:`WidthDepth` writes accuracy with k samples of T tokens each as

    s(T)    = s_inf (1 - exp(-(T / T0)^kappa))              per-sample success (depth)
    acc(k, T) = 1 - B(s c, (1 - s) c + k) / B(s c, (1 - s) c)   coverage over k samples (width)

Depth: one sample's success saturates in its length at ``s_inf`` (the
:class:`~scalinglaws.laws.SaturatingTokens` form, REFERENCE.md section 11:
recursion or reasoning depth is serial and saturates). Width: per-problem
success rates are Beta with mean s(T) and concentration c, and k parallel
samples are pooled as pass@k (an oracle verifier; Brown et al. 2024, section 6).

Why this coverage form rather than e.g. ``1 - (1 - s)^(k^b)``: it comes from a
generative model (unequal problems), is exact at k = 1 (``acc(1, T) = s(T)``,
so the depth curve is SaturatingTokens itself), reduces to independent samples
``1 - (1 - s)^k`` as c -> inf, gives the slow power-law fall of the failure
rate in k that sampled coverage curves show for small c, and is the same Beta
model as :class:`~scalinglaws.laws.joint.JointCoverage`. It assumes the spread
of difficulty (c) does not change with depth.

:func:`scalinglaws.optimize.best_split` divides a budget of B generated tokens per query into k
samples of T = B / k tokens, over integer k, and reports each split's accuracy,
FLOPs (2 N k T for a model of N parameters, the same for every split) and
latency (T sequential tokens: parallel samples add no latency), the best split
and the best under a latency cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .._jax import jnp
from ..errors import LawError
from .base import Law, Param, register
from .._numerics import beta_pass_at_k

__all__ = ["WidthDepth"]


@register
@dataclass(frozen=True)
class WidthDepth(Law):
    """Accuracy with k parallel samples of T tokens each (depth saturates, Beta coverage over width).

    s(T) = s_inf (1 - exp(-(T / T0)^kappa)), acc = 1 - B(s c, (1 - s) c + k) / B(s c, (1 - s) c).

    Internal parameters s_inf (bounded to (0, 1)), log_T0 = log T0, kappa
    (depth shape, bounded to (0, 10]) and log_concentration = log c; public
    s_inf, T0, kappa, concentration. Inputs ``samples`` (k) and
    ``inference_tokens`` (T, tokens per sample); target ``accuracy``. Fit with
    ``sl.LeastSquares()`` (linear space) on a grid of (k, T).
    """

    name = "width_depth"
    inputs = ("samples", "inference_tokens")
    target = "accuracy"
    positive = False

    def parameters(self):
        return (
            Param("s_inf", grid=(0.3, 0.8), lower=0.0, upper=1.0, doc="per-sample success at unlimited depth"),
            Param("log_T0", grid=tuple(np.log([1e2, 1e3, 1e4]).tolist()), doc="log T0, the depth scale"),
            Param("kappa", grid=(0.5, 1.5), lower=0.0, upper=10.0, doc="shape of the depth curve"),
            Param("log_concentration", grid=tuple(np.log([0.5, 5.0]).tolist()),
                  doc="log c, the Beta concentration across problems"),
        )

    def per_sample(self, p: Mapping[str, Any], T):
        """(s, 1 - s) at depth T (JAX; 1 - s without cancellation)."""
        g = jnp.exp(-jnp.exp(p["kappa"] * (jnp.log(T) - p["log_T0"])))  # exp(-(T/T0)^kappa)
        return p["s_inf"] * (1.0 - g), (1.0 - p["s_inf"]) + p["s_inf"] * g

    def predict(self, p, X):
        s, om = self.per_sample(p, X["inference_tokens"])
        return beta_pass_at_k(s, jnp.exp(p["log_concentration"]), X["samples"], one_minus_mu=om)

    def data_starts(self, X, y):
        k, T, y = (np.asarray(v, dtype=np.float64) for v in (X["samples"], X["inference_tokens"], y))
        m = k == np.min(k)
        top = float(np.max(y[m]))
        lT = np.log(T[m])
        rows = [[float(np.clip(t, 0.01, 0.995)), float(q), kap, lc]
                for t in (top + 0.02, top + 0.1) for q in np.quantile(lT, (0.2, 0.5, 0.8))
                for kap in (0.5, 1.5) for lc in (0.0, math.log(5.0))]
        return np.asarray(rows)

    def public(self, p):
        return {"s_inf": float(p["s_inf"]), "T0": math.exp(min(float(p["log_T0"]), 709.0)),
                "kappa": float(p["kappa"]), "concentration": math.exp(min(float(p["log_concentration"]), 709.0))}

    def from_public(self, q):
        if all(n in q for n in self.param_names):
            return {n: float(q[n]) for n in self.param_names}
        missing = [n for n in ("s_inf", "T0", "kappa", "concentration") if n not in q]
        if missing:
            raise LawError(f"law {self.name!r} needs parameter(s) {missing}; got {sorted(q)}.",
                           rule="missing parameter")
        for n in ("T0", "concentration"):
            if not float(q[n]) > 0:
                raise LawError(f"law {self.name!r}: {n} must be > 0, got {q[n]}.", rule="not positive",
                               value=q[n])
        return {"s_inf": float(q["s_inf"]), "log_T0": math.log(float(q["T0"])), "kappa": float(q["kappa"]),
                "log_concentration": math.log(float(q["concentration"]))}
