"""A joint law of accuracy in model size, training data and samples per query.

:class:`JointCoverage` chains three pieces (pass@k as a sigmoid of the task loss
with Beta-distributed per-question accuracies, the "Approach 2" of Roberts et
al. 2026 as summarised in REFERENCE.md section 14, whose exact forms are
unverified; the link is Bhagia et al.'s sigmoid, section 10b):

1. loss: Chinchilla, ``L(N, D) = E + A N^-alpha + B D^-beta``;
2. mean per-sample success through a sigmoid link that falls with loss,
   ``mu(L) = floor + (ceiling - floor) / (1 + exp(slope (L - L0)))``, slope > 0;
3. per-problem success ``p ~ Beta(mu kappa, (1 - mu) kappa)`` (mean mu,
   concentration kappa), so that coverage over k independent samples is
   ``pass@k = E[1 - (1 - p)^k] = 1 - B(mu kappa, (1 - mu) kappa + k) / B(mu kappa, (1 - mu) kappa)``.

Small kappa means very unequal problems (coverage grows slowly, the failure
rate falls as a power of k); kappa -> inf gives ``1 - (1 - mu)^k``.

Identification. From accuracy alone the loss and the link are not separately
identified: only ``slope (E - L0)``, ``slope A``, ``slope B``, alpha and beta
enter the prediction. Fit in two steps (:func:`scalinglaws.fitting.fit_joint`): the loss law on the
runs' losses, then the link and Beta parameters with the loss parameters held
fixed (``sl.fit(..., fixed=loss_fit.internal)``), or build the law with
``loss_params=`` so that only (slope, L0, kappa) are free.

The fit is least squares in linear space (``sl.LeastSquares()``) on coverage
curves pooled over several model sizes (columns ``params``, ``tokens``,
``samples``, ``accuracy``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .._jax import jnp
from .._numerics import beta_pass_at_k, sigmoid, sigmoid_complement
from ..errors import LawError
from .base import Law, Param, register
from .loss import Chinchilla

__all__ = ["JointCoverage", "beta_pass_at_k", "chinchilla_internal"]

_LOSS_NAMES = ("a", "b", "e", "alpha", "beta")


# ---------------------------------------------------------------------------------------
# the law


def _loss_tuple(loss_params: Any) -> tuple[tuple[str, float], ...] | None:
    """Internal Chinchilla parameters as a tuple of (name, value) pairs in a, b, e, alpha, beta
    order (hashable, so the law can key jit caches), or None."""
    if loss_params is None:
        return None
    if hasattr(loss_params, "law") and hasattr(loss_params, "internal"):  # a Fit
        loss_params = chinchilla_internal(loss_params)
    try:
        q = dict(loss_params)
    except (TypeError, ValueError):
        raise LawError("`JointCoverage(loss_params=...)` must map Chinchilla parameters (E, A, B, alpha, beta, "
                       f"or the internal a, b, e, alpha, beta) to numbers; got {loss_params!r}.",
                       rule="bad loss parameters") from None
    names = set(q)
    if not (set(_LOSS_NAMES) <= names or {"E", "A", "B", "alpha", "beta"} <= names):
        raise LawError(f"`JointCoverage(loss_params=...)` needs E, A, B, alpha, beta (or a, b, e, alpha, beta); "
                       f"got {sorted(names)}.", rule="missing parameter")
    try:
        internal = Chinchilla().from_public({k: float(v) for k, v in q.items()})
    except (ValueError, TypeError):
        raise LawError(f"`JointCoverage(loss_params=...)`: E, A and B must be positive numbers; got {q}.",
                       rule="bad loss parameters") from None
    bad = [k for k, v in internal.items() if not math.isfinite(v)]
    if bad:
        raise LawError(f"`JointCoverage(loss_params=...)`: parameter(s) {bad} are not finite.",
                       rule="not finite")
    return tuple((k, float(internal[k])) for k in _LOSS_NAMES)


@register
@dataclass(frozen=True)
class JointCoverage(Law):
    """Accuracy with k samples of a model of N params and D tokens (Chinchilla loss, sigmoid link, Beta coverage).

        L = E + A N^-alpha + B D^-beta
        mu = floor + (ceiling - floor) / (1 + exp(slope (L - L0)))
        pass@k = 1 - B(mu kappa, (1 - mu) kappa + k) / B(mu kappa, (1 - mu) kappa)

    Internal parameters: a, b, e, alpha, beta (Chinchilla's, a = log A ...),
    slope (> 0), L0, log_kappa; public E, A, B, alpha, beta, slope, L0, kappa.
    With ``loss_params`` (public or internal Chinchilla parameters, or a
    Chinchilla Fit) the loss is a constant of the law and only slope, L0,
    log_kappa are fitted. ``floor`` / ``ceiling`` (constants, default 0 and 1)
    bound the mean per-sample success, e.g. floor = chance for multiple choice.
    Inputs ``params``, ``tokens``, ``samples``; target ``accuracy``. Fit with
    ``sl.LeastSquares()`` (linear space); see :func:`scalinglaws.fitting.fit_joint`.
    """

    floor: float = 0.0
    ceiling: float = 1.0
    loss_params: Any = None

    name = "joint_coverage"
    inputs = ("params", "tokens", "samples")
    target = "accuracy"
    positive = False

    def __post_init__(self) -> None:
        fl, ce = float(self.floor), float(self.ceiling)
        if not (math.isfinite(fl) and math.isfinite(ce) and 0.0 <= fl < ce <= 1.0):
            raise LawError(f"`JointCoverage`: need 0 <= floor < ceiling <= 1, got floor={self.floor}, "
                           f"ceiling={self.ceiling}.", rule="out of range")
        object.__setattr__(self, "floor", fl)
        object.__setattr__(self, "ceiling", ce)
        object.__setattr__(self, "loss_params", _loss_tuple(self.loss_params))

    # -- parameters ---------------------------------------------------------------------
    @property
    def fixed_loss(self) -> dict[str, float] | None:
        """The constant internal Chinchilla parameters, or None when they are fitted."""
        return None if self.loss_params is None else dict(self.loss_params)

    def parameters(self):
        link = (
            Param("slope", grid=(1.0, 3.0, 10.0), lower=0.0, doc="steepness of the link in the loss (> 0)"),
            Param("L0", grid=(1.5, 2.5, 3.5), doc="loss at which mu is half-way between floor and ceiling"),
            Param("log_kappa", grid=tuple(np.log([0.3, 1.0, 3.0, 30.0]).tolist()),
                  doc="log of the Beta concentration kappa"),
        )
        if self.loss_params is not None:
            return link
        loss = (
            Param("a", grid=(3.0, 6.0), doc="log A"),
            Param("b", grid=(3.0, 6.0), doc="log B"),
            Param("e", grid=(0.0, 0.5), doc="log E"),
            Param("alpha", grid=(0.3,), doc="exponent of N"),
            Param("beta", grid=(0.3,), doc="exponent of D"),
        )
        return loss + link

    def _loss_p(self, p):
        fixed = self.fixed_loss
        return fixed if fixed is not None else {k: p[k] for k in _LOSS_NAMES}

    # -- prediction ---------------------------------------------------------------------
    def loss(self, p: Mapping[str, Any], X: Mapping[str, Any]):
        """The Chinchilla loss L(N, D) (JAX)."""
        return Chinchilla().predict(self._loss_p(p), X)

    def mean_success(self, p: Mapping[str, Any], loss):
        """(mu, 1 - mu) of the link at ``loss`` (JAX; 1 - mu computed without cancellation)."""
        span = self.ceiling - self.floor
        # the sigmoid link in SigmoidLink's convention: k = -slope < 0, accuracy falls as loss rises
        args = (loss, span, self.floor, -p["slope"], p["L0"])
        return sigmoid(*args), sigmoid_complement(*args)

    def predict_from_loss(self, p: Mapping[str, Any], loss, samples):
        """pass@k at a given loss (JAX): the link and Beta parts of the law."""
        mu, om = self.mean_success(p, loss)
        return beta_pass_at_k(mu, jnp.exp(p["log_kappa"]), samples, one_minus_mu=om)

    def predict(self, p, X):
        return self.predict_from_loss(p, self.loss(p, X), X["samples"])

    # -- public parameters --------------------------------------------------------------
    def public(self, p):
        out = {} if self.loss_params is not None else Chinchilla().public({k: p[k] for k in _LOSS_NAMES})
        out.update({"slope": float(p["slope"]), "L0": float(p["L0"]),
                    "kappa": math.exp(min(float(p["log_kappa"]), 709.0))})
        return out

    def from_public(self, q):
        names = set(q)
        out: dict[str, float] = {}
        if self.loss_params is None:
            if not (set(_LOSS_NAMES) <= names or {"E", "A", "B", "alpha", "beta"} <= names):
                raise LawError(f"law {self.name!r} needs the loss parameters E, A, B, alpha, beta (or a, b, e, "
                               f"alpha, beta); got {sorted(names)}.", rule="missing parameter")
            out.update(Chinchilla().from_public(q))
        missing = [n for n in ("slope", "L0") if n not in q]
        if "kappa" not in q and "log_kappa" not in q:
            missing.append("kappa")
        if missing:
            raise LawError(f"law {self.name!r} needs parameter(s) {missing}; got {sorted(names)}.",
                           rule="missing parameter")
        kappa_internal = float(q["log_kappa"]) if "log_kappa" in q else math.log(float(q["kappa"]))
        out.update({"slope": float(q["slope"]), "L0": float(q["L0"]), "log_kappa": kappa_internal})
        return {n: out[n] for n in self.param_names}

    # -- starts -------------------------------------------------------------------------
    def link_starts(self, loss: np.ndarray, samples: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Rows of (slope, L0, log_kappa) derived from losses and observed coverage:
        L0 at quantiles of the loss and slopes scaled to its spread, plus a logit
        regression on the smallest-k rows (pass@1 = mu). Always 21 rows."""
        L, k, y = (np.asarray(v, dtype=np.float64).ravel() for v in (loss, samples, y))
        sd = max(float(np.std(L)), 1e-3 * max(float(np.mean(np.abs(L))), 1e-12), 1e-12)
        kaps = np.log([0.5, 3.0, 30.0])
        rows = [[s / sd, float(q), lk] for q in np.quantile(L, (0.1, 0.5, 0.9)) for s in (1.0, 4.0) for lk in kaps]
        m = k == np.min(k)
        u = np.clip((y[m] - self.floor) / (self.ceiling - self.floor), 1e-3, 1 - 1e-3)
        slope, L0 = 1.0 / sd, float(np.median(L))
        if np.ptp(L[m]) > 0:
            c1, c0 = np.polyfit(L[m], np.log(u) - np.log1p(-u), 1)
            if c1 < 0 and np.isfinite(c0):
                slope, L0 = float(-c1), float(c0 / -c1)
        rows += [[slope, L0, lk] for lk in kaps]
        return np.asarray(rows, dtype=np.float64)

    def data_starts(self, X, y):
        if self.loss_params is None:
            return None  # the loss is unknown here; fit_joint builds starts from the loss fit
        Xj = {k: jnp.asarray(v) for k, v in X.items() if k in ("params", "tokens")}
        L = np.asarray(self.loss({}, Xj))
        return self.link_starts(L, X["samples"], y)

    def config(self):
        return {"floor": self.floor, "ceiling": self.ceiling,
                "loss_params": None if self.loss_params is None else dict(self.loss_params)}


# ---------------------------------------------------------------------------------------
# the loss parameters of a fit


def chinchilla_internal(fit_or_params: Any) -> dict[str, float]:
    """Internal Chinchilla parameters (a, b, e, alpha, beta) of a Chinchilla Fit,
    a JointCoverage Fit (fixed or fitted loss), or a mapping of public/internal
    Chinchilla parameters (a Fit is duck-typed: ``.law`` and ``.internal``). Public as
    :func:`scalinglaws.fitting.loss_params_of`."""
    if hasattr(fit_or_params, "law") and hasattr(fit_or_params, "internal"):
        law = fit_or_params.law
        if isinstance(law, JointCoverage):
            fixed = law.fixed_loss
            return dict(fixed) if fixed is not None else {k: float(fit_or_params.internal[k]) for k in _LOSS_NAMES}
        if isinstance(law, Chinchilla):
            return {k: float(fit_or_params.internal[k]) for k in _LOSS_NAMES}
        raise LawError(f"`loss_params_of`: expected a Chinchilla or joint_coverage fit, got law {law.name!r}; "
                       "the joint law's loss is Chinchilla's form.", rule="bad law")
    return dict(_loss_tuple(fit_or_params))
