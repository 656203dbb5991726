"""The best split of a per-query token budget between parallel samples (width) and
tokens per sample (depth), for a law of (samples, inference_tokens) such as
:class:`~scalinglaws.laws.WidthDepth`.

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

from .._jax import jnp, x64
from .._report import Reported, format_rows
from ..errors import LawError
from ..laws.base import Law, predict_jit
from ._resolve import resolve_law

__all__ = ["best_split", "Split", "SplitPoint"]


@dataclass(frozen=True)
class SplitPoint(Reported):
    """One split: ``samples`` k in parallel, ``tokens_per_sample`` T each;
    ``latency_tokens`` = T (sequential tokens); ``flops_per_query`` = 2 N k T
    (None without a model size)."""

    samples: int
    tokens_per_sample: float
    accuracy: float
    latency_tokens: float
    flops_per_query: float | None


@dataclass(frozen=True)
class Split(Reported):
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

    @x64
    def point(self, i: int) -> SplitPoint:
        return _point(self.samples, self.tokens_per_sample, self.accuracy, self.flops_per_query, i)

    def rows(self) -> list[dict[str, float | None]]:
        return [vars(self.point(i)) for i in range(self.samples.size)]

    def _headline(self) -> str:
        cap = "" if self.max_latency_tokens is None else f", latency cap {self.max_latency_tokens:g} tokens"
        return (f"[[Split]] {self.budget_tokens_per_query:g} tokens per query into k samples x T tokens "
                f"(k = 1 .. {self.samples.size}{cap})")

    def _body(self, every: int | None = None) -> str:
        """A readable table (every ``every``-th split, plus the best ones)."""
        every = max(1, self.samples.size // 16) if every is None else max(int(every), 1)
        keep = set(range(0, self.samples.size, every))
        for p in (self.best, self.best_within_latency):
            if p is not None:
                keep.add(p.samples - 1)
        rows = []
        for i in sorted(keep):
            q = self.point(i)
            mark = "<- best" if q == self.best else "<- best within latency" if q == self.best_within_latency else ""
            rows.append({**vars(q), "": mark})
        return format_rows(rows, {"samples": "k", "tokens_per_sample": "T", "accuracy": "accuracy",
                                  "latency_tokens": "latency", "flops_per_query": "FLOPs/query", "": ""})

    def report(self, every: int | None = None) -> str:
        """The splits (every ``every``-th one, default about 16 rows, plus the best ones), then notes."""
        lines = [self._headline(), self._body(every)]
        if self.notes:
            lines.append("notes:")
            lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)


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
    law, p, fit = resolve_law(fit_or_law, params, fn, what="a Fit or a Law of (samples, inference_tokens)")
    if set(law.inputs) != {"samples", "inference_tokens"}:
        raise LawError(f"`{fn}`: law {law.name!r} reads {list(law.inputs)}; a split needs a law of samples per "
                       "query and tokens per sample (samples, inference_tokens), e.g. WidthDepth.", rule="bad law")
    return law, p, fit


@x64
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
