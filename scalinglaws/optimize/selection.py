"""Accuracy models for realistic answer-selection rules, for :func:`best_config`,
:func:`frontier` and :func:`smaller_vs_larger` (anything ``acc(loss, k)`` that never rises
with loss). :class:`~scalinglaws.optimize.CoverageAccuracyModel` is the oracle (pass@k);
the two here can be deployed without knowing the answer:

- :class:`VerifierAccuracyModel`: best-of-k with an imperfect verifier (true-positive rate
  tpr, false-positive rate fpr), optionally with Beta-distributed per-question success;
- :class:`MajorityVoteAccuracyModel`: a fitted :class:`~scalinglaws.laws.MajorityVote` law;
- :func:`fit_verifier`: tpr and fpr from per-sample logs (columns ``correct``, ``accepted``).

The verifier formula. Each of k independent samples is correct with probability p. The
verifier accepts a correct sample with probability tpr and a wrong one with probability fpr,
so each sample is, independently, accepted-correct (q1 = p tpr), accepted-wrong
(q2 = (1 - p) fpr) or rejected (r = 1 - q1 - q2 = p (1 - tpr) + (1 - p)(1 - fpr)). The answer
is drawn uniformly among the accepted samples, or among all k when none is accepted.

- At least one accepted (probability 1 - r^k): the drawn sample is a uniformly chosen accepted
  one; given the counts, each accepted sample is correct with probability q1 / (q1 + q2),
  independently of how many were accepted, so the answer is correct with that probability.
- None accepted (probability r^k): every sample is a rejected one, correct with probability
  p (1 - tpr) / r each, so the drawn one is correct with that probability.

Hence

    acc(k) = q1 / (q1 + q2) (1 - r^k) + p (1 - tpr) r^(k - 1).

acc(1) = p; acc saturates at the verifier's precision q1 / (q1 + q2), not at 1; tpr = 1,
fpr = 0 gives the oracle pass@k 1 - (1 - p)^k; tpr = fpr gives p for every k (an
uninformative verifier). (Writing the fallback term as p r^k instead would break both
limits: it is the probability of a correct sample given rejection, p (1 - tpr) / r, that
enters, not p.)

Heterogeneous questions (``concentration=kappa``): per-question success p_q ~ Beta(p kappa,
(1 - p) kappa) with mean p = link(loss), and acc = E[acc(k; p_q)], by Gauss-Jacobi quadrature
on [0, 1] with the Beta weight (``nodes`` points; nodes and weights by the Golub-Welsch
eigenvalue method, vectorised over the distinct p). acc(k; x) is a polynomial of degree k in
x for integer k, so the rule is exact (to rounding) for k <= 2 nodes - 1 (127 with the default
64). Beyond that, measured in the sharpest case (the oracle limit tpr = 1, fpr = 0, against
the closed form 1 - B(a, b + k) / B(a, b)) for kappa in [0.3, 20] and mean p in [0.02, 0.8]:
error below 1e-12 at k = 256 and below 1e-8 at k = 1024 with 64 nodes (below 1e-12 with 128).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
from scipy import linalg as _sla
from scipy.interpolate import PchipInterpolator

from .._jax import jnp, x64
from .._report import Reported
from ..errors import DataError, LawError
from ..laws.base import predict_jit
from ..laws.voting import MajorityVote
from ._resolve import resolve_law
from .best_config import _link_callable

__all__ = ["VerifierAccuracyModel", "MajorityVoteAccuracyModel", "verifier_accuracy", "beta_nodes", "fit_verifier",
           "VerifierRates"]


# ---------------------------------------------------------------------------------------
# the verifier formula and the Beta quadrature (numpy)

def verifier_accuracy(p: Any, k: Any, tpr: float, fpr: float) -> np.ndarray:
    """Best-of-k accuracy with an imperfect verifier at per-sample success ``p`` (arrays
    broadcast): ``q1 / (q1 + q2) (1 - r^k) + p (1 - tpr) r^(k - 1)``, see the module doc."""
    p = np.asarray(p, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    q1, q2 = p * tpr, (1.0 - p) * fpr
    s = q1 + q2
    r = p * (1.0 - tpr) + (1.0 - p) * (1.0 - fpr)  # 1 - s without cancellation
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(s > 0, q1 / np.where(s > 0, s, 1.0), 0.0)
        hit = -np.expm1(k * np.log1p(-np.minimum(s, 1.0)))  # 1 - r^k
        hit = np.where(s >= 1.0, 1.0, np.where(s > 0, hit, 0.0))
        fall = np.power(r, k - 1.0)  # r^(k - 1); 0^0 = 1 at k = 1
    return prec * hit + p * (1.0 - tpr) * fall


def beta_nodes(a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Jacobi nodes and weights on [0, 1] for the Beta(a, b) distribution (a, b > 0,
    1-D arrays of the same length m): arrays (m, n), weights summing to 1.

    Golub-Welsch: the eigenvalues of the Jacobi matrix of the orthogonal polynomials for the
    weight (1 - t)^alpha (1 + t)^beta on [-1, 1], alpha = b - 1, beta = a - 1, mapped to
    x = (1 + t) / 2; the weights are the squared first components of the eigenvectors."""
    al, be = np.asarray(b, dtype=np.float64)[:, None] - 1.0, np.asarray(a, dtype=np.float64)[:, None] - 1.0
    s = al + be
    j = np.arange(n, dtype=np.float64)[None, :]
    two = 2.0 * j + s
    with np.errstate(divide="ignore", invalid="ignore"):
        diag = (be ** 2 - al ** 2) / (two * (two + 2.0))
    diag[:, 0] = ((be - al) / (s + 2.0))[:, 0]
    jj = j[:, 1:]
    t2 = 2.0 * jj + s
    with np.errstate(divide="ignore", invalid="ignore"):
        off2 = 4.0 * jj * (jj + al) * (jj + be) * (jj + s) / (t2 ** 2 * (t2 + 1.0) * (t2 - 1.0))
    off2[:, 0] = (4.0 * (1.0 + al) * (1.0 + be) / ((2.0 + s) ** 2 * (3.0 + s)))[:, 0]
    off = np.sqrt(np.maximum(off2, 0.0))
    m = al.shape[0]
    t, w = np.empty((m, n)), np.empty((m, n))
    for i in range(m):  # LAPACK's tridiagonal solver, one small matrix at a time (fast, no threads)
        t[i], v = _sla.eigh_tridiagonal(diag[i], off[i])
        w[i] = v[0] ** 2
    x = np.clip(0.5 * (1.0 + t), 0.0, 1.0)
    return x, w / w.sum(axis=1, keepdims=True)


_TABLE_U, _TABLE_SIZE = 16.0, 1025  # the "table" method's grid in logit p


def _check_rate(name: str, v: Any) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise LawError(f"`VerifierAccuracyModel({name}=...)` must be a number in [0, 1], got {v!r}.",
                       rule="not a number") from None
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise LawError(f"`VerifierAccuracyModel({name}=...)` must be a probability in [0, 1], got {v}.",
                       rule="out of range", value=v)
    return v


# ---------------------------------------------------------------------------------------
# the verifier model

@dataclass(frozen=True)
class VerifierAccuracyModel:
    """Best-of-k with an imperfect verifier: ``acc(loss, k)`` with per-sample success
    ``p = link(loss)``,

        acc = q1 / (q1 + q2) (1 - r^k) + p (1 - tpr) r^(k - 1),
        q1 = p tpr, q2 = (1 - p) fpr, r = 1 - q1 - q2

    (derivation in the module doc). ``tpr``: probability the verifier accepts a correct
    sample; ``fpr``: that it accepts a wrong one; both in [0, 1], tpr >= fpr (tpr < fpr
    raises: such a verifier prefers wrong answers; tpr == fpr warns: it carries no
    information and acc = p for every k). ``concentration=kappa``: per-question success
    ~ Beta(p kappa, (1 - p) kappa), averaged by Gauss-Jacobi quadrature with ``nodes``
    points: ``method="table"`` (default) tabulates that average once per k on 1,025 points
    uniform in logit p on [-16, 16] and interpolates it monotonically (PCHIP; measured error
    below 3e-7 against the direct rule, tests/test_selection.py), so the searches, which call the
    model on thousands of losses, stay fast; ``method="direct"`` computes the rule at every p
    (exact to the quadrature's accuracy, about 1 ms per distinct p). Losses whose p falls off
    the table use the direct rule. ``link``: a callable loss -> p, a Fit of a one-input link law,
    or a Bootstrap (or posterior) of one: the model evaluates its point fit, and
    :func:`best_config` / :func:`smaller_vs_larger` re-solve at every link draw (as for
    :class:`~scalinglaws.optimize.CoverageAccuracyModel`); ``tpr``, ``fpr`` and ``concentration``
    stay fixed.
    """

    link: Any
    tpr: float = 1.0
    fpr: float = 0.0
    concentration: float | None = None
    nodes: int = 64
    method: str = "table"
    _tables: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fn", _link_callable(self.link, "VerifierAccuracyModel"))
        if self.method not in ("table", "direct"):
            raise LawError(f"`VerifierAccuracyModel(method=...)` must be 'table' or 'direct', got {self.method!r}.",
                           rule="bad argument", value=self.method)
        tpr, fpr = _check_rate("tpr", self.tpr), _check_rate("fpr", self.fpr)
        object.__setattr__(self, "tpr", tpr)
        object.__setattr__(self, "fpr", fpr)
        if tpr < fpr:
            raise LawError(f"`VerifierAccuracyModel`: tpr={tpr} < fpr={fpr}: the verifier accepts wrong samples "
                           "more often than correct ones, so more samples lower accuracy; swap its labels or "
                           "check the rates.", rule="tpr below fpr", value=tpr)
        if tpr == fpr:
            warnings.warn(f"VerifierAccuracyModel: tpr == fpr == {tpr}: the verifier is uninformative, accuracy "
                          "equals pass@1 for every k.", UserWarning, stacklevel=3)
        c = self.concentration
        if c is not None and not (isinstance(c, (int, float)) and math.isfinite(c) and c > 0):
            raise LawError(f"`VerifierAccuracyModel(concentration=...)` must be finite and > 0, got {c!r}.",
                           rule="not positive", value=c)
        if not (isinstance(self.nodes, (int, np.integer)) and 2 <= self.nodes <= 512):
            raise LawError(f"`VerifierAccuracyModel(nodes=...)` must be an integer in [2, 512], got {self.nodes!r}.",
                           rule="out of range", value=self.nodes)

    def with_link(self, link: Any) -> "VerifierAccuracyModel":
        """This model with another link (e.g. one draw of a link Bootstrap). The quadrature tables
        depend on the rates and the concentration only (they are in p), so the copy shares them."""
        out = dataclasses.replace(self, link=link)
        object.__setattr__(out, "_tables", self._tables)
        return out

    @x64
    def per_sample(self, loss: Any) -> np.ndarray:
        """The per-sample success p(loss), clipped to [0, 1]."""
        return np.clip(np.asarray(self._fn(loss), dtype=np.float64), 0.0, 1.0)

    def precision(self, loss: Any) -> np.ndarray:
        """The ceiling as k -> infinity, q1 / (q1 + q2) (the verifier's precision; for
        heterogeneous questions the mean over them)."""
        return self.at_success(self.per_sample(loss), np.inf)

    def at_success(self, p: Any, k: Any) -> np.ndarray:
        """Accuracy at mean per-sample success ``p`` (skipping the link)."""
        p = np.asarray(p, dtype=np.float64)
        k = np.asarray(k, dtype=np.float64)
        p, k = np.broadcast_arrays(p, k)
        if self.concentration is None:
            return verifier_accuracy(p, k, self.tpr, self.fpr)
        out = np.array(verifier_accuracy(p, k, self.tpr, self.fpr))  # the p in {0, 1} cases (no spread)
        inner = (p > 0) & (p < 1)
        if self.method == "table":
            with np.errstate(divide="ignore"):
                u = np.log(p) - np.log1p(-p)
            on = inner & (np.abs(u) <= _TABLE_U) & np.isfinite(k)
            for kv in np.unique(k[on]):
                sel = on & (k == kv)
                out[sel] = self._table(float(kv))(u[sel])
            inner = inner & ~on
        if np.any(inner):
            out[inner] = self._direct(p[inner], k[inner])
        return out

    def _direct(self, p: np.ndarray, k: np.ndarray) -> np.ndarray:
        """The quadrature at each (p, k), 0 < p < 1 (1-D arrays)."""
        pu, inv = np.unique(p, return_inverse=True)
        kap = float(self.concentration)
        x, w = beta_nodes(pu * kap, (1.0 - pu) * kap, int(self.nodes))
        return np.sum(w[inv] * verifier_accuracy(x[inv], k[:, None], self.tpr, self.fpr), axis=1)

    def _table(self, k: float) -> PchipInterpolator:
        tab = self._tables
        if k not in tab:
            if "nodes" not in tab:
                u = np.linspace(-_TABLE_U, _TABLE_U, _TABLE_SIZE)
                pg = 1.0 / (1.0 + np.exp(-u))
                kap = float(self.concentration)
                tab["nodes"] = (u,) + beta_nodes(pg * kap, (1.0 - pg) * kap, int(self.nodes))
            if len(tab) > 512:  # many distinct k: keep the nodes, drop the curves
                for key in [key for key in tab if key != "nodes"]:
                    del tab[key]
            u, x, w = tab["nodes"]
            tab[k] = PchipInterpolator(u, np.sum(w * verifier_accuracy(x, k, self.tpr, self.fpr), axis=1))
        return tab[k]

    def __call__(self, loss: Any, k: Any) -> np.ndarray:
        return self.at_success(self.per_sample(loss), k)


# ---------------------------------------------------------------------------------------
# the majority-vote model

def _check_monotone(law: MajorityVote, p: Mapping[str, float], lo: float, hi: float, kmax: float, fn: str) -> None:
    L = np.linspace(lo, hi, 65)
    k = np.unique(np.concatenate([np.geomspace(1.0, kmax, 25), 2.0 ** np.arange(0, int(math.log2(kmax)) + 1)]))
    LL, KK = np.meshgrid(L, k, indexing="ij")
    acc = np.asarray(predict_jit(law, {n: jnp.asarray(v) for n, v in p.items()},
                                 {"loss": jnp.asarray(LL.ravel()), "samples": jnp.asarray(KK.ravel())}))
    acc = acc.reshape(LL.shape)
    rise = np.diff(acc, axis=0)
    tol = 1e-9 * (1.0 + np.abs(acc[1:]))
    if np.any(rise > tol):
        i, j = np.argwhere(rise > tol)[0]
        raise LawError(f"`{fn}`: the majority-vote law rises with loss at k = {k[j]:g} (accuracy {acc[i, j]:.6g} at "
                       f"loss {L[i]:.6g}, {acc[i + 1, j]:.6g} at loss {L[i + 1]:.6g}); the searches need accuracy "
                       "that never rises with loss. Refit with MajorityVote(constant_rate=True), which cannot.",
                       rule="rises with loss")


@dataclass(frozen=True)
class MajorityVoteAccuracyModel:
    """``acc(loss, k)`` of a :class:`~scalinglaws.laws.MajorityVote` law and its internal
    parameters: ``c(L) - (c(L) - a1(L)) k^-rho(L)``. Built with :meth:`from_fit`, or from a law
    and parameters (public or internal names). On construction it checks, on a grid of
    losses over ``loss_range`` (default: the fit's loss range widened by half its width, or
    the links' midpoints +- 6 / slope) and k from 1 to ``max_samples``, that accuracy never
    rises with loss, and raises :class:`LawError` otherwise. The law is held fixed in the
    intervals of :func:`best_config` / :func:`smaller_vs_larger` (it has no separate link: only the
    coverage and verifier models' links can be a Bootstrap)."""

    law: MajorityVote
    params: Mapping[str, float]
    loss_range: tuple[float, float] | None = None
    max_samples: float = 4096.0
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        fn = "MajorityVoteAccuracyModel"
        if not isinstance(self.law, MajorityVote):
            raise LawError(f"`{fn}(law=...)` must be a MajorityVote law, got {type(self.law).__name__}.",
                           rule="bad law")
        p = self.law.from_public(dict(self.params)) if set(self.params) != set(self.law.param_names) \
            else {n: float(self.params[n]) for n in self.law.param_names}
        bad = [n for n, v in p.items() if not math.isfinite(v)]
        if bad:
            raise LawError(f"`{fn}`: parameter(s) {bad} are not finite.", rule="not finite")
        object.__setattr__(self, "params", p)
        if not (math.isfinite(self.max_samples) and self.max_samples >= 1):
            raise LawError(f"`{fn}(max_samples=...)` must be finite and >= 1, got {self.max_samples}.",
                           rule="out of range", value=self.max_samples)
        if self.loss_range is None:
            mids = [p["L_inf"], p["L_1"]]
            widths = [6.0 / max(p["slope_inf"], 1e-9), 6.0 / max(p["slope_1"], 1e-9)]
            lo = min(m - w for m, w in zip(mids, widths))
            hi = max(m + w for m, w in zip(mids, widths))
            object.__setattr__(self, "loss_range", (max(lo, 1e-6), hi))
        lo, hi = (float(v) for v in self.loss_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise LawError(f"`{fn}(loss_range=...)` must be two finite losses lo < hi, got {self.loss_range}.",
                           rule="bad range")
        object.__setattr__(self, "loss_range", (lo, hi))
        _check_monotone(self.law, p, lo, hi, float(self.max_samples), fn)

    @classmethod
    def from_fit(cls, fit: Any, loss_range: tuple[float, float] | None = None,
                 max_samples: float = 4096.0) -> "MajorityVoteAccuracyModel":
        """The accuracy model of a fitted MajorityVote law (a Fit, duck-typed). The
        monotonicity check covers the fit's loss range widened by half its width on each side
        (or ``loss_range``)."""
        law, p, f = resolve_law(fit, None, "MajorityVoteAccuracyModel.from_fit", what="a majority_vote Fit")
        if not isinstance(law, MajorityVote):
            raise LawError(f"`MajorityVoteAccuracyModel.from_fit`: expected a majority_vote fit, got law "
                           f"{law.name!r}.", rule="bad law")
        notes = ()
        if loss_range is None and getattr(f, "input_range", None) and "loss" in f.input_range:
            lo, hi = f.input_range["loss"]
            w = max(hi - lo, 1e-3 * abs(hi))
            loss_range = (max(lo - 0.5 * w, 1e-6), hi + 0.5 * w)
            notes = (f"fitted on losses [{lo:.4g}, {hi:.4g}]; monotone in loss checked on "
                     f"[{loss_range[0]:.4g}, {loss_range[1]:.4g}]",)
        return cls(law=law, params=p, loss_range=loss_range, max_samples=max_samples, notes=notes)

    def plateau(self, loss: Any) -> np.ndarray:
        """c(L): accuracy as k -> infinity."""
        return np.asarray(self.law.plateau(self.params, jnp.asarray(np.asarray(loss, dtype=np.float64))))

    @x64
    def __call__(self, loss: Any, k: Any) -> np.ndarray:
        L, K = np.broadcast_arrays(np.asarray(loss, dtype=np.float64), np.asarray(k, dtype=np.float64))
        out = predict_jit(self.law, {n: jnp.asarray(v) for n, v in self.params.items()},
                          {"loss": jnp.asarray(L.ravel()), "samples": jnp.asarray(K.ravel())})
        return np.asarray(out, dtype=np.float64).reshape(L.shape)


# ---------------------------------------------------------------------------------------
# the verifier's rates from per-sample logs

@dataclass(frozen=True)
class VerifierRates(Reported):
    """The verifier's rates estimated from per-sample logs: ``tpr`` = accepted share of the
    correct samples, ``fpr`` = accepted share of the wrong ones, with binomial standard errors
    ``tpr_se`` / ``fpr_se`` (sqrt(r (1 - r) / n)) and the counts. :meth:`model` builds the
    :class:`VerifierAccuracyModel`."""

    tpr: float
    fpr: float
    tpr_se: float
    fpr_se: float
    n_correct: int
    n_wrong: int
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def _headline(self) -> str:
        return "[[VerifierRates]] the verifier's acceptance rates on correct and wrong samples"

    def _body(self) -> str:
        return (f"  tpr = {self.tpr:.4f} (s.e. {self.tpr_se:.4f}) on {self.n_correct} correct samples\n"
                f"  fpr = {self.fpr:.4f} (s.e. {self.fpr_se:.4f}) on {self.n_wrong} wrong samples")

    def model(self, link: Any, concentration: float | None = None, **kw: Any) -> VerifierAccuracyModel:
        """``VerifierAccuracyModel(link, tpr, fpr, concentration, ...)`` at these rates."""
        return VerifierAccuracyModel(link, tpr=self.tpr, fpr=self.fpr, concentration=concentration, **kw)


def _zero_one(name: str, v: Any, n: int | None) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    if a.ndim != 1 or (n is not None and a.shape[0] != n):
        raise DataError(f"`fit_verifier`: {name!r} must be 1-D{'' if n is None else f' of length {n}'}, "
                        f"got shape {a.shape}.", column=name, rule="bad shape")
    bad = ~((a == 0) | (a == 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"`fit_verifier`: column {name!r}, row {i}: value {float(a[i])!r} is not 0 or 1.",
                        column=name, row=i, rule="not 0/1", value=float(a[i]))
    return a


def fit_verifier(samples: Any = None, *, correct: Any = None, accepted: Any = None) -> VerifierRates:
    """tpr and fpr of a verifier from per-sample logs: a mapping (or DataFrame) with 0/1
    columns ``correct`` and ``accepted`` (one row per sample), or the two arrays as keywords.
    Raises :class:`DataError` for non-0/1 values, mismatched lengths, or logs without any
    correct (or any wrong) sample; warns when either count is below 30 (wide intervals)."""
    if samples is not None:
        if correct is not None or accepted is not None:
            raise LawError("`fit_verifier`: give a table or correct=/accepted=, not both.", rule="bad argument")
        try:
            correct, accepted = samples["correct"], samples["accepted"]
        except (KeyError, TypeError, IndexError):
            raise DataError("`fit_verifier`: the table needs 0/1 columns 'correct' and 'accepted'.",
                            rule="missing column") from None
    if correct is None or accepted is None:
        raise DataError("`fit_verifier`: needs both 'correct' and 'accepted'.", rule="missing column")
    c = _zero_one("correct", correct, None)
    a = _zero_one("accepted", accepted, c.shape[0])
    n1, n0 = int(c.sum()), int((1 - c).sum())
    for n, what in ((n1, "correct"), (n0, "wrong")):
        if n == 0:
            raise DataError(f"`fit_verifier`: the logs hold no {what} sample, so the verifier's rate on {what} "
                            "samples cannot be estimated.", column="correct", rule="empty class")
    tpr, fpr = float(a[c == 1].mean()), float(a[c == 0].mean())
    warns = tuple(f"only {n} {what} samples: the rate's interval is wide" for n, what in
                  ((n1, "correct"), (n0, "wrong")) if n < 30)
    for w in warns:
        warnings.warn(f"fit_verifier: {w}.", UserWarning, stacklevel=2)
    return VerifierRates(tpr=tpr, fpr=fpr, tpr_se=math.sqrt(tpr * (1 - tpr) / n1),
                         fpr_se=math.sqrt(fpr * (1 - fpr) / n0), n_correct=n1, n_wrong=n0, warnings=warns)
