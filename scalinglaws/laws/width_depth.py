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

:func:`best_split` divides a budget of B generated tokens per query into k
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
from .base import Law, Param, predict_jit, register
from .joint import beta_pass_at_k

__all__ = ["WidthDepth", "best_split", "Split", "SplitPoint"]


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


# ---------------------------------------------------------------------------------------
# the best split of a per-query budget


@dataclass(frozen=True)
class SplitPoint:
    """One split: ``samples`` k in parallel, ``tokens_per_sample`` T each;
    ``latency_tokens`` = T (sequential tokens); ``flops_per_query`` = 2 N k T
    (None without a model size)."""

    samples: int
    tokens_per_sample: float
    accuracy: float
    latency_tokens: float
    flops_per_query: float | None


@dataclass(frozen=True)
class Split:
    """Every split of ``budget_tokens_per_query`` into k samples of T = budget / k
    tokens (arrays over k = 1 .. k_max), the best (``best``) and the best with
    ``latency_tokens <= max_latency_tokens`` (``best_within_latency``, None
    without a cap). ``flops_per_query`` is None when no model size was given."""

    budget_tokens_per_query: float
    samples: np.ndarray
    tokens_per_sample: np.ndarray
    accuracy: np.ndarray
    latency_tokens: np.ndarray
    flops_per_query: np.ndarray | None
    best: SplitPoint
    best_within_latency: SplitPoint | None
    max_latency_tokens: float | None
    model_params: float | None
    notes: tuple[str, ...] = ()

    def point(self, i: int) -> SplitPoint:
        return _point(self.samples, self.tokens_per_sample, self.accuracy, self.flops_per_query, i)

    def rows(self) -> list[dict[str, float | None]]:
        return [vars(self.point(i)) for i in range(self.samples.size)]

    def table(self, every: int = 1) -> str:
        """A readable table (every ``every``-th split, plus the best ones)."""
        head = f"{'k':>6}  {'T':>10}  {'accuracy':>8}  {'latency':>10}  {'FLOPs/query':>12}"
        out = [head, "-" * len(head)]
        keep = set(range(0, self.samples.size, max(int(every), 1)))
        for p in (self.best, self.best_within_latency):
            if p is not None:
                keep.add(p.samples - 1)
        for i in sorted(keep):
            q = self.point(i)
            mark = " <- best" if q == self.best else " <- best within latency" if q == self.best_within_latency else ""
            fl = "" if q.flops_per_query is None else f"{q.flops_per_query:.4g}"
            out.append(f"{q.samples:>6d}  {q.tokens_per_sample:>10.4g}  {q.accuracy:>8.4f}  "
                       f"{q.latency_tokens:>10.4g}  {fl:>12}{mark}")
        return "\n".join(out)


def _point(k: np.ndarray, T: np.ndarray, acc: np.ndarray, flops: np.ndarray | None, i: int) -> SplitPoint:
    return SplitPoint(samples=int(k[i]), tokens_per_sample=float(T[i]), accuracy=float(acc[i]),
                      latency_tokens=float(T[i]), flops_per_query=None if flops is None else float(flops[i]))


def _positive(name: str, value: Any, fn: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LawError(f"`{fn}({name}=...)` must be a number, got {value!r}.", rule="not a number",
                       value=value) from None
    if not (math.isfinite(v) and v > 0):
        raise LawError(f"`{fn}({name}=...)` must be finite and > 0, got {v}.", rule="not positive", value=v)
    return v


def _resolve(fit_or_law: Any, params: Mapping[str, float] | None, fn: str) -> tuple[Law, dict[str, float], Any]:
    if isinstance(fit_or_law, Law):
        if params is None:
            raise LawError(f"`{fn}(law, ...)`: pass the law's parameters as params={{...}} (public names "
                           f"{list(fit_or_law.public_names)} or internal ones).", rule="missing parameters")
        law, p, fit = fit_or_law, fit_or_law.from_public(params), None
    elif hasattr(fit_or_law, "law") and hasattr(fit_or_law, "internal"):
        law, p, fit = fit_or_law.law, dict(fit_or_law.internal), fit_or_law
    else:
        raise LawError(f"`{fn}`: expected a Fit or a Law of (samples, inference_tokens), got "
                       f"{type(fit_or_law).__name__}.", rule="bad argument")
    if set(law.inputs) != {"samples", "inference_tokens"}:
        raise LawError(f"`{fn}`: law {law.name!r} reads {list(law.inputs)}; a split needs a law of samples per "
                       "query and tokens per sample (samples, inference_tokens), e.g. WidthDepth.", rule="bad law")
    return law, p, fit


def best_split(fit_or_law: Any, budget_tokens_per_query: float, *, params: Mapping[str, float] | None = None,
               k_max: int = 1024, min_tokens_per_sample: float = 1.0, model_params: float | None = None,
               max_latency_tokens: float | None = None) -> Split:
    """The split of ``budget_tokens_per_query`` generated tokens into k parallel
    samples of T = budget / k tokens that maximises predicted accuracy.

    ``fit_or_law``: a Fit of :class:`WidthDepth` (or of any law of
    ``samples`` and ``inference_tokens``), or such a law with ``params=``.
    Searched: every integer k from 1 to ``k_max`` with T >= ``min_tokens_per_sample``
    (T need not be an integer). ``model_params`` (N) adds
    ``flops_per_query = 2 N k T`` (equal for all splits: the budget is fixed, so
    the trade is accuracy against latency). ``latency_tokens = T``: samples run
    in parallel, so only one sample's tokens are sequential (prompt processing
    is not counted). ``max_latency_tokens`` also reports the best split with
    T <= the cap. Ties go to the smaller k.
    """
    fn = "best_split"
    law, p, fit = _resolve(fit_or_law, params, fn)
    B = _positive("budget_tokens_per_query", budget_tokens_per_query, fn)
    t_min = _positive("min_tokens_per_sample", min_tokens_per_sample, fn)
    if isinstance(k_max, bool) or not isinstance(k_max, (int, np.integer)) or k_max < 1:
        raise LawError(f"`{fn}(k_max=...)` must be an integer >= 1, got {k_max!r}.", rule="bad argument",
                       value=k_max)
    N = None if model_params is None else _positive("model_params", model_params, fn)
    cap = None if max_latency_tokens is None else _positive("max_latency_tokens", max_latency_tokens, fn)
    if B < t_min:
        raise LawError(f"`{fn}`: a budget of {B:g} tokens per query is below min_tokens_per_sample={t_min:g}; "
                       "no split has even one sample.", rule="infeasible", value=B)
    K = int(min(int(k_max), math.floor(B / t_min)))
    k = np.arange(1, K + 1, dtype=np.int64)
    T = B / k.astype(np.float64)
    X = {"samples": jnp.asarray(k.astype(np.float64)), "inference_tokens": jnp.asarray(T)}
    acc = np.asarray(predict_jit(law, {n: jnp.asarray(v) for n, v in p.items()}, X), dtype=np.float64)
    if not np.all(np.isfinite(acc)):
        i = int(np.argmax(~np.isfinite(acc)))
        raise LawError(f"`{fn}`: law {law.name!r} predicts a non-finite accuracy ({acc[i]}) at k={int(k[i])}, "
                       f"T={T[i]:g}; check its parameters.", rule="bad prediction", value=float(acc[i]))
    flops = None if N is None else 2.0 * N * k * T
    best = _point(k, T, acc, flops, int(np.argmax(acc)))
    within = None
    if cap is not None:
        ok = np.flatnonzero(T <= cap * (1.0 + 1e-12))
        if ok.size == 0:
            raise LawError(f"`{fn}`: no split meets max_latency_tokens={cap:g}: it needs k >= {B / cap:.4g} samples "
                           f"of the {B:g}-token budget, above the {K} searched (k_max={k_max}, "
                           f"min_tokens_per_sample={t_min:g}).", rule="infeasible", value=cap)
        within = _point(k, T, acc, flops, int(ok[np.argmax(acc[ok])]))
    notes = []
    if best.samples == K and K > 1:
        notes.append(f"the best split uses the most samples searched (k={K}); raise k_max or lower "
                     "min_tokens_per_sample to search further")
    if fit is not None and fit.input_range:
        for name, v in (("samples", best.samples), ("inference_tokens", best.tokens_per_sample)):
            lo, hi = fit.input_range.get(name, (-math.inf, math.inf))
            if not lo <= v <= hi:
                notes.append(f"the best split's {name} = {v:g} lies outside the fitted range [{lo:g}, {hi:g}] "
                             "(extrapolation)")
    return Split(budget_tokens_per_query=B, samples=k, tokens_per_sample=T, accuracy=acc, latency_tokens=T.copy(),
                 flops_per_query=flops, best=best, best_within_latency=within, max_latency_tokens=cap,
                 model_params=N, notes=tuple(notes))
