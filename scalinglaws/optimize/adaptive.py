"""Difficulty-adaptive allocation of inference compute (Snell et al. 2024;
Damani et al. 2024, "Learning How Hard to Think").

- :func:`allocate_samples`: given accuracy curves acc_b(k) per difficulty bin
  and the bins' weights (shares of queries), choose integer samples k_b per bin
  to maximise the expected accuracy ``sum_b w_b acc_b(k_b)`` at a fixed mean
  budget ``sum_b w_b k_b <= budget``; report the gain over the uniform split.
  Exact dynamic programming over the bins (Pareto front of (cost, accuracy),
  exact for any real weights) for small problems; greedy marginal gain (the
  largest ``acc_b(k_b + 1) - acc_b(k_b)`` that still fits, exact for concave
  curves and equal weights) for large ones.
- :func:`two_mode_router`: routing between a short and a long reasoning mode
  (Thinkless, Fang et al. 2025): per bin, with probability p_think the long
  mode. E[T] = p T_long + (1 - p) T_short, accuracy p acc_long + (1 - p) acc_short;
  given a token budget instead of p, the best p per bin (a linear programme).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy import optimize as _sopt

from .._report import Reported
from ..errors import LawError

__all__ = ["AdaptiveAllocation", "allocate_samples", "RouterResult", "two_mode_router"]

_MAX_DP_CANDIDATES = 1_000_000  # states x choices per bin before "auto" falls back to greedy


@dataclass(frozen=True)
class AdaptiveAllocation(Reported):
    """Samples per bin and what they buy.

    ``samples`` (int per bin) reach ``accuracy`` = sum_b w_b acc_b(k_b) using
    ``mean_samples`` of the ``budget``; the uniform split gives every bin
    ``uniform_samples`` (the largest whole k within budget) for
    ``uniform_accuracy``; ``gain = accuracy - uniform_accuracy``.
    ``uniform_to_match`` is the smallest uniform k reaching the adaptive
    accuracy (None if no k up to the curves' end does) and ``saving`` the share
    of compute the adaptive split saves against it."""

    samples: np.ndarray
    accuracy: float
    bin_accuracy: np.ndarray
    weights: np.ndarray
    mean_samples: float
    budget: float
    uniform_samples: int
    uniform_accuracy: float
    gain: float
    uniform_to_match: int | None
    saving: float | None
    method: str

    def _headline(self) -> str:
        match = ("no uniform k up to the curves' end matches it" if self.uniform_to_match is None
                 else f"uniform k = {self.uniform_to_match} matches it, saving {100 * self.saving:.1f}% of compute")
        return (f"[[AdaptiveAllocation]] {self.mean_samples:.4g} mean samples of a budget of {self.budget:g} "
                f"({self.method}): accuracy {self.accuracy:.4f} vs {self.uniform_accuracy:.4f} for uniform "
                f"k = {self.uniform_samples} (gain {self.gain:+.4f}); {match}")

    def rows(self) -> list[dict[str, float]]:
        """One row per difficulty bin."""
        return [{"bin": i + 1, "weight": float(w), "samples": int(k), "accuracy": float(a)}
                for i, (w, k, a) in enumerate(zip(self.weights, self.samples, self.bin_accuracy))]


@dataclass(frozen=True)
class RouterResult(Reported):
    """A two-mode routing policy per bin and its expected cost and accuracy."""

    p_think: np.ndarray
    bin_tokens: np.ndarray
    bin_accuracy: np.ndarray
    weights: np.ndarray
    expected_tokens: float
    expected_accuracy: float
    token_budget: float | None

    def _headline(self) -> str:
        cap = "" if self.token_budget is None else f" within {self.token_budget:g} tokens per query"
        return (f"[[RouterResult]] two-mode routing{cap}: expected {self.expected_tokens:.4g} tokens per query, "
                f"expected accuracy {self.expected_accuracy:.4f}")

    def rows(self) -> list[dict[str, float]]:
        """One row per difficulty bin."""
        return [{"bin": i + 1, "weight": float(w), "p_think": float(p), "tokens": float(t), "accuracy": float(a)}
                for i, (w, p, t, a) in enumerate(zip(self.weights, self.p_think, self.bin_tokens,
                                                     self.bin_accuracy))]

    def inference_tokens(self, queries: float) -> float:
        """Lifetime inference tokens D_inf = queries * E[T] (for
        :func:`~scalinglaws.optimize.inference_aware.inference_aware_optimum`)."""
        return float(queries) * self.expected_tokens


# ---------------------------------------------------------------------------------------
# input handling

def _weights(weights: Any, n: int, fn: str) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.atleast_1d(np.asarray(weights, dtype=np.float64)).ravel()
    if w.size != n:
        raise LawError(f"`{fn}(weights=...)`: {w.size} weights for {n} bins.", rule="shape mismatch")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise LawError(f"`{fn}(weights=...)` must be finite, >= 0 and not all 0, got {w.tolist()}.",
                       rule="bad weights")
    return w / w.sum()


def _table(curves: Sequence[Any], k_max: int | None, fn: str) -> np.ndarray:
    """acc[b, k] for k = 0..K; -inf beyond a bin's own curve."""
    if isinstance(curves, np.ndarray) and curves.ndim == 2:
        curves = list(curves)
    if callable(curves) or len(curves) == 0:
        raise LawError(f"`{fn}(curves=...)` must be a non-empty sequence (one curve per bin: a callable "
                       "acc(k) or an array of acc at k = 0, 1, 2, ...).", rule="bad curves")
    lens = [None if callable(c) else np.asarray(c).size for c in curves]
    if k_max is None:
        if any(n is None for n in lens):
            raise LawError(f"`{fn}`: callable curves need k_max= (the largest k to consider).",
                           rule="missing argument")
        K = max(lens) - 1
    else:
        if k_max < 0 or int(k_max) != k_max:
            raise LawError(f"`{fn}(k_max=...)` must be a whole number >= 0, got {k_max}.", rule="bad argument")
        K = int(k_max)
    ks = np.arange(K + 1)
    A = np.full((len(curves), K + 1), -np.inf)
    for b, c in enumerate(curves):
        if callable(c):
            try:
                v = np.asarray(c(ks), dtype=np.float64)
            except Exception:  # a scalar-only callable: one k at a time
                v = None
            if v is None or v.shape != ks.shape:
                v = np.array([float(c(int(k))) for k in ks])
        else:
            v = np.asarray(c, dtype=np.float64).ravel()[: K + 1]
        if not np.all(np.isfinite(v)):
            raise LawError(f"`{fn}`: curve {b} has non-finite accuracy at k = {int(np.flatnonzero(~np.isfinite(v))[0])}.",
                           rule="not finite")
        A[b, : v.size] = v
    return A


# ---------------------------------------------------------------------------------------
# solvers

def _dp(A: np.ndarray, w: np.ndarray, budget: float, k_min: int) -> tuple[np.ndarray, float] | None:
    """Exact: Pareto front over (cost, value) bin by bin; None if it grows too big."""
    tol = 1e-12 * max(1.0, budget)
    cost, value = np.zeros(1), np.zeros(1)
    parents: list[tuple[np.ndarray, np.ndarray]] = []
    for b in range(A.shape[0]):
        ks = np.flatnonzero(np.isfinite(A[b]))
        ks = ks[ks >= k_min]
        if cost.size * ks.size > _MAX_DP_CANDIDATES:
            return None
        c = (cost[:, None] + w[b] * ks[None, :]).ravel()
        v = (value[:, None] + w[b] * A[b, ks][None, :]).ravel()
        par = np.repeat(np.arange(cost.size), ks.size)
        kk = np.tile(ks, cost.size)
        fit = c <= budget + tol
        c, v, par, kk = c[fit], v[fit], par[fit], kk[fit]
        order = np.lexsort((-v, c))  # by cost, best value first among equal costs
        c, v, par, kk = c[order], v[order], par[order], kk[order]
        best_before = np.concatenate([[-np.inf], np.maximum.accumulate(v)[:-1]])
        keep = v > best_before  # strictly better than every cheaper state
        cost, value = c[keep], v[keep]
        parents.append((par[keep], kk[keep]))
    if cost.size == 0:
        return None
    i = int(np.argmax(value))
    k = np.empty(A.shape[0], dtype=np.int64)
    for b in range(A.shape[0] - 1, -1, -1):
        par, kk = parents[b]
        k[b] = kk[i]
        i = int(par[i])
    return k, float(value.max())


def _greedy(A: np.ndarray, w: np.ndarray, budget: float, k_min: int) -> np.ndarray:
    """Add one sample at a time to the bin with the largest accuracy gain that fits."""
    tol = 1e-12 * max(1.0, budget)
    k = np.full(A.shape[0], k_min, dtype=np.int64)
    left = budget - w.sum() * k_min
    heap = []
    for b in range(A.shape[0]):
        if k_min + 1 < A.shape[1] and np.isfinite(A[b, k_min + 1]):
            heapq.heappush(heap, (-(A[b, k_min + 1] - A[b, k_min]), b))
    while heap:
        neg, b = heapq.heappop(heap)
        if -neg <= 0:
            break  # no bin gains from another sample
        if w[b] > left + tol:
            continue  # this bin no longer fits (the budget only shrinks); cheaper bins may
        k[b] += 1
        left -= w[b]
        nxt = k[b] + 1
        if nxt < A.shape[1] and np.isfinite(A[b, nxt]):
            heapq.heappush(heap, (-(A[b, nxt] - A[b, k[b]]), b))
    return k


def allocate_samples(curves: Sequence[Any], weights: Any = None, *, budget: float, k_min: int = 1,
                     k_max: int | None = None, method: str = "auto") -> AdaptiveAllocation:
    """Samples per difficulty bin maximising expected accuracy at a mean budget.

    ``curves``: one per bin, a callable ``acc(k)`` (NumPy integer array in) or
    an array of accuracies at k = 0, 1, 2, ... (entry k is the accuracy with k
    samples). ``weights``: each bin's share of queries (normalised; default
    equal). ``budget``: mean samples per query, ``sum_b w_b k_b <= budget``.
    Every bin gets at least ``k_min`` samples and at most ``k_max`` (default: the
    end of its curve). ``method``: ``"dp"`` (exact), ``"greedy"`` or ``"auto"``
    (exact unless the search is too big). Never worse than the uniform split.
    """
    fn = "allocate_samples"
    if method not in ("auto", "dp", "greedy"):
        raise LawError(f"`{fn}(method=...)` must be 'auto', 'dp' or 'greedy', got {method!r}.", rule="bad argument")
    if int(k_min) != k_min or k_min < 0:
        raise LawError(f"`{fn}(k_min=...)` must be a whole number >= 0, got {k_min}.", rule="bad argument")
    k_min = int(k_min)
    A = _table(curves, k_max, fn)
    w = _weights(weights, A.shape[0], fn)
    if not (isinstance(budget, (int, float, np.floating, np.integer)) and math.isfinite(budget)):
        raise LawError(f"`{fn}(budget=...)` must be a finite number, got {budget!r}.", rule="not a number")
    budget = float(budget)
    top = np.array([int(np.flatnonzero(np.isfinite(r))[-1]) for r in A])
    if np.any(top < k_min):
        b = int(np.flatnonzero(top < k_min)[0])
        raise LawError(f"`{fn}`: curve {b} ends at k = {top[b]}, below k_min = {k_min}.", rule="curve too short")
    if budget < k_min - 1e-12:
        raise LawError(f"`{fn}(budget=...)`: a mean budget of {budget:g} samples is below k_min = {k_min} "
                       "per query.", rule="budget too small", value=budget)

    k_u = int(min(math.floor(budget + 1e-12), int(top.min())))
    acc_u = float(np.sum(w * A[:, k_u]))
    how = method
    k = None
    if method in ("auto", "dp"):
        res = _dp(A, w, budget, k_min)
        if res is None and method == "dp":
            raise LawError(f"`{fn}(method='dp')`: the exact search is too large here; use method='greedy'.",
                           rule="too large")
        if res is not None:
            k, how = res[0], "dp"
    if k is None:
        k, how = _greedy(A, w, budget, k_min), "greedy"
    bin_acc = A[np.arange(A.shape[0]), k]
    acc = float(np.sum(w * bin_acc))
    if acc < acc_u:  # greedy can lose to uniform with unequal weights; never return worse
        k, how = np.full(A.shape[0], k_u, dtype=np.int64), how + " (uniform was better)"
        bin_acc, acc = A[:, k_u], acc_u
    uni = np.sum(w[:, None] * A[:, : int(top.min()) + 1], axis=0)
    match = np.flatnonzero(uni[k_min:] >= acc - 1e-12)
    k_match = int(match[0] + k_min) if match.size else None
    used = float(np.sum(w * k))
    saving = (1.0 - used / k_match) if k_match else None
    return AdaptiveAllocation(samples=k, accuracy=acc, bin_accuracy=np.asarray(bin_acc, dtype=np.float64), weights=w,
                              mean_samples=used, budget=budget, uniform_samples=k_u, uniform_accuracy=acc_u,
                              gain=acc - acc_u, uniform_to_match=k_match, saving=saving, method=how)


# ---------------------------------------------------------------------------------------
# two-mode routing

def _per_bin(name: str, v: Any, n: int | None, fn: str, *, lo: float = 0.0, hi: float = math.inf) -> np.ndarray:
    a = np.atleast_1d(np.asarray(v, dtype=np.float64)).ravel()
    if n is not None and a.size not in (1, n):
        raise LawError(f"`{fn}({name}=...)`: {a.size} values for {n} bins.", rule="shape mismatch")
    if not np.all(np.isfinite(a)) or np.any(a < lo) or np.any(a > hi):
        bad = a[~(np.isfinite(a) & (a >= lo) & (a <= hi))][0]
        raise LawError(f"`{fn}({name}=...)` must lie in [{lo:g}, {hi:g}], got {bad}.", rule="out of range",
                       value=float(bad))
    return a


def two_mode_router(p_think: Any, T_short: Any, T_long: Any, acc_short: Any, acc_long: Any, *,
                    weights: Any = None, token_budget: float | None = None) -> RouterResult:
    """Expected tokens and accuracy of routing each bin's queries to the long
    ("think") mode with probability ``p_think`` and to the short mode otherwise.

    All per-bin arguments are arrays over bins (or scalars, shared). Pass
    ``p_think=None`` and ``token_budget=`` (mean tokens per query) to choose the
    accuracy-maximising p per bin within that budget instead.
    """
    fn = "two_mode_router"
    if (p_think is None) == (token_budget is None):
        raise LawError(f"`{fn}`: give p_think (to evaluate a policy) or token_budget (to choose one), "
                       "exactly one of them.", rule="bad argument")
    arrays = [("T_short", T_short, 0.0, math.inf), ("T_long", T_long, 0.0, math.inf),
              ("acc_short", acc_short, -math.inf, math.inf), ("acc_long", acc_long, -math.inf, math.inf)]
    if p_think is not None:
        arrays.append(("p_think", p_think, 0.0, 1.0))
    sizes = [np.atleast_1d(np.asarray(v)).size for _, v, _, _ in arrays]
    if weights is not None:
        sizes.append(np.atleast_1d(np.asarray(weights)).size)
    n = max(sizes)
    vals = {name: np.broadcast_to(_per_bin(name, v, n, fn, lo=lo, hi=hi), (n,)) for name, v, lo, hi in arrays}
    w = _weights(weights, n, fn)
    Ts, Tl, As, Al = vals["T_short"], vals["T_long"], vals["acc_short"], vals["acc_long"]
    if p_think is not None:
        p = np.array(vals["p_think"], dtype=np.float64)
    else:
        B = float(token_budget)
        floor = float(np.sum(w * np.minimum(Ts, Tl)))
        if not math.isfinite(B) or B < floor * (1 - 1e-12):
            raise LawError(f"`{fn}(token_budget=...)`: {B:g} tokens per query is below the cheapest policy "
                           f"({floor:g}).", rule="budget too small", value=B)
        # maximise sum w (As + p (Al - As)) s.t. sum w (Ts + p (Tl - Ts)) <= B, 0 <= p <= 1
        res = _sopt.linprog(-(w * (Al - As)), A_ub=[w * (Tl - Ts)], b_ub=[B - float(np.sum(w * Ts))],
                            bounds=[(0.0, 1.0)] * n, method="highs")
        if res.status != 0:
            raise LawError(f"`{fn}`: the routing problem could not be solved ({res.message}).", rule="solver")
        p = np.clip(res.x, 0.0, 1.0)
    bt = p * Tl + (1.0 - p) * Ts
    ba = p * Al + (1.0 - p) * As
    return RouterResult(p_think=p, bin_tokens=bt, bin_accuracy=ba, weights=w, expected_tokens=float(np.sum(w * bt)),
                        expected_accuracy=float(np.sum(w * ba)),
                        token_budget=None if token_budget is None else float(token_budget))
