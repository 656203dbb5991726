"""pass@k from per-problem sample counts: the unbiased estimator, a beta-binomial
model of per-problem solve rates, and aggregation of long-format sample logs.

- :func:`pass_at_k` is the unbiased estimator of Chen et al. (2021),
  ``1 - C(n-c, k) / C(n, k)`` for a problem with ``c`` correct out of ``n``
  samples, computed as a product of ``min(c, k)`` factors (exact to rounding,
  no overflow, precise when pass@k is tiny).
- :func:`fit_beta_binomial` fits p_i ~ Beta(alpha, beta) to per-problem counts
  by maximum likelihood. Its :meth:`BetaFit.pass_at_k` extrapolates coverage
  to any k, including k far beyond the n samples drawn:
  ``E[1 - (1-p)^k] = 1 - B(alpha, beta + k) / B(alpha, beta)``.
- :func:`aggregate_samples` turns per-sample rows (problem, model,
  sample_index, correct, optional answer and difficulty) into per-problem
  counts, pass@k and majority@k curves per model and per difficulty bin, in
  vectorized numpy (10 million rows in a few seconds).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import optimize, special

from .._numerics import beta_binomial_pass_at_k
from .._report import Reported
from ..errors import DataError, LawError
from ..runs import CANONICAL_COLUMNS, CATEGORICAL_COLUMNS, Runs, as_runs

__all__ = ["pass_at_k", "BetaFit", "fit_beta_binomial", "aggregate_samples", "SampleSummary", "Curves"]

_PRODUCT_TERMS = 4096  # above this many factors, sum each element's factors in one vector op


# ---------------------------------------------------------------------------------------
# the unbiased estimator


def _as_count(x: Any, what: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == bool:
        a = a.astype(np.int64)
    if a.dtype.kind not in "iuf":
        raise ValueError(f"pass_at_k: {what} must be numeric counts, got dtype {a.dtype}.")
    af = a.astype(np.float64)
    bad = ~np.isfinite(af) | (af != np.round(af))
    if bad.any():
        i = np.unravel_index(int(np.argmax(bad)), af.shape)
        raise ValueError(f"pass_at_k: {what} must hold whole numbers; found {af[i]!r} at index {tuple(map(int, i))}.")
    return af.astype(np.int64)


def pass_at_k(n: Any, c: Any, k: Any) -> np.ndarray | float:
    """Unbiased pass@k: ``1 - C(n - c, k) / C(n, k)``, elementwise (numpy broadcasting).

    ``n`` samples were drawn for a problem and ``c`` of them are correct; the
    result is the probability that a random subset of ``k`` of those samples
    holds at least one correct one. Requires ``0 <= c <= n`` and ``1 <= k <= n``
    (the estimator is undefined for k > n); raises ``ValueError`` otherwise.

    Computed as ``-expm1(sum_j log1p(-x / (n - j)))`` over ``j < min(c, k)``,
    with ``x`` the other of (c, k) (the two products are equal), which keeps
    full relative precision when pass@k is tiny (beyond 4096 factors each
    element's sum is one vectorized pairwise sum). Returns a float for scalar
    inputs.
    """
    n_, c_, k_ = np.broadcast_arrays(_as_count(n, "n"), _as_count(c, "c"), _as_count(k, "k"))
    for cond, msg in (
        (n_ < 1, "n (samples drawn) must be >= 1"),
        ((c_ < 0) | (c_ > n_), "c (correct samples) must satisfy 0 <= c <= n"),
        (k_ < 1, "k must be >= 1"),
        (k_ > n_, "k must not exceed n, the number of samples drawn (the unbiased estimator needs k <= n)"),
    ):
        if cond.any():
            i = np.unravel_index(int(np.argmax(cond)), cond.shape)
            raise ValueError(f"pass_at_k: {msg}; got n={int(n_[i])}, c={int(c_[i])}, k={int(k_[i])}"
                             + (f" at index {tuple(map(int, i))}" if cond.ndim else "") + ".")
    shape = n_.shape
    n_, c_, k_ = n_.ravel(), c_.ravel(), k_.ravel()
    logq = np.zeros(n_.shape, dtype=np.float64)  # log C(n-c, k) / C(n, k)
    sure = n_ - c_ < k_  # every k-subset holds a correct sample
    m = np.minimum(c_, k_)
    x = np.maximum(c_, k_).astype(np.float64)
    big = ~sure & (m > _PRODUCT_TERMS)
    small = np.flatnonzero(~sure & ~big & (m > 0))
    # product form over the active elements, one factor index at a time
    t = 0
    while small.size:
        logq[small] += np.log1p(-x[small] / (n_[small] - t))
        t += 1
        small = small[m[small] > t]
    for i in np.flatnonzero(big):  # many factors: one vectorized (pairwise) sum per element
        total, mi, ni = 0.0, int(m[i]), float(n_[i])
        for start in range(0, mi, 1 << 20):
            j = np.arange(start, min(mi, start + (1 << 20)), dtype=np.float64)
            total += float(np.sum(np.log1p(-x[i] / (ni - j))))
        logq[i] = total
    out = np.where(sure, 1.0, 0.0 - np.expm1(logq)).reshape(shape)
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------
# beta-binomial model of per-problem solve rates


@dataclass(frozen=True)
class BetaFit(Reported):
    """Per-problem solve rates p ~ Beta(alpha, beta), fitted by maximum likelihood.

    ``loglik`` is the beta-binomial log-likelihood at the optimum (including
    the binomial coefficients); ``at_bound`` is true when log alpha or log beta
    reached the search box [-15, 15] or the counts are degenerate (every
    problem unsolved, or every one solved, sends alpha or beta to 0 and the
    estimate is only a bound). No spread across problems sends alpha and beta
    to large values with alpha / (alpha + beta) fixed, which is a valid fit.
    """

    alpha: float
    beta: float
    loglik: float
    n_problems: int
    converged: bool = True
    at_bound: bool = False

    @property
    def mean(self) -> float:
        """Mean solve rate alpha / (alpha + beta) (= expected pass@1)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def aic(self) -> float:
        return 4.0 - 2.0 * self.loglik

    def pass_at_k(self, k: Any) -> np.ndarray | float:
        """Expected coverage ``1 - E[(1-p)^k] = 1 - B(alpha, beta + k) / B(alpha, beta)``
        for any real k >= 0 (vectorized)."""
        k = np.asarray(k, dtype=np.float64)
        if np.any(~np.isfinite(k) | (k < 0)):
            raise ValueError("BetaFit.pass_at_k: k must be finite and >= 0.")
        out = np.asarray(beta_binomial_pass_at_k(self.alpha, self.beta, k), dtype=np.float64)
        return float(out) if out.ndim == 0 else out

    @property
    def warnings(self) -> tuple[str, ...]:
        out = []
        if self.at_bound:
            out.append("log alpha / log beta reached the search box [-15, 15] or the counts are degenerate "
                       "(every problem solved or none): the estimate is only a bound")
        if not self.converged:
            out.append("the likelihood maximisation did not report convergence")
        return tuple(out)

    def _headline(self) -> str:
        return (f"[[BetaFit]] per-problem solve rates ~ Beta(alpha={self.alpha:.4g}, beta={self.beta:.4g}) "
                f"over {self.n_problems} problems")

    def _body(self) -> str:
        return (f"  mean solve rate {self.mean:.4g}; log-likelihood {self.loglik:.6g}; AIC {self.aic:.6g}\n"
                f"  expected pass@k: " + ", ".join(f"k={k}: {self.pass_at_k(k):.4g}" for k in (1, 10, 100, 1000)))


def _bb_negloglik(theta: np.ndarray, n: np.ndarray, c: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean negative beta-binomial log-likelihood (without binomial coefficients)
    in (log alpha, log beta), and its gradient."""
    a, b = np.exp(theta)
    ab = a + b
    ll = special.betaln(c + a, n - c + b) - special.betaln(a, b)
    dg = special.digamma
    common = dg(ab) - dg(n + ab)
    ga = np.sum(w * (dg(c + a) - dg(a) + common)) * a
    gb = np.sum(w * (dg(n - c + b) - dg(b) + common)) * b
    W = np.sum(w)
    return -float(np.sum(w * ll)) / W, -np.array([ga, gb]) / W


def fit_beta_binomial(n: Any, c: Any) -> BetaFit:
    """Maximum-likelihood Beta(alpha, beta) for per-problem counts.

    ``n[i]`` samples were drawn for problem i and ``c[i]`` were correct;
    problems may have different n. Identical (n, c) pairs are pooled, so a
    million problems cost no more than their distinct counts. The fit runs in
    float64 on (log alpha, log beta) with the analytic gradient (L-BFGS-B,
    box [-15, 15]), started from the method of moments and a few fixed points.
    """
    n = _as_count(n, "n").ravel()
    c = _as_count(c, "c").ravel()
    if n.shape != c.shape:
        raise ValueError(f"fit_beta_binomial: n and c must have the same length, got {n.shape} and {c.shape}.")
    if n.size < 2:
        raise ValueError("fit_beta_binomial: needs at least 2 problems.")
    if np.any(n < 1) or np.any(c < 0) or np.any(c > n):
        raise ValueError("fit_beta_binomial: counts must satisfy n >= 1 and 0 <= c <= n.")
    pairs, counts = np.unique(np.stack([n, c], axis=1), axis=0, return_counts=True)
    nu, cu, w = pairs[:, 0].astype(np.float64), pairs[:, 1].astype(np.float64), counts.astype(np.float64)

    # method of moments start (n taken as its mean)
    phat = c / n
    mu = float(np.clip(phat.mean(), 1e-3, 1 - 1e-3))
    nbar = float(n.mean())
    var = float(phat.var())
    rho = (var * nbar / (mu * (1 - mu)) - 1.0) / max(nbar - 1.0, 1.0)
    rho = float(np.clip(rho, 1e-4, 0.999))
    s = 1.0 / rho - 1.0
    starts = [np.log([mu * s, (1 - mu) * s]), np.array([0.0, 0.0]), np.log([mu, 1 - mu]),
              np.log([10 * mu, 10 * (1 - mu)])]
    lo, hi = -15.0, 15.0
    best = None
    for x0 in starts:
        x0 = np.clip(x0, lo + 1e-3, hi - 1e-3)
        res = optimize.minimize(_bb_negloglik, x0, args=(nu, cu, w), jac=True, method="L-BFGS-B",
                                bounds=[(lo, hi), (lo, hi)], options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 1000})
        if best is None or res.fun < best.fun:
            best = res
    theta = best.x
    degenerate = bool(np.all(c == 0) or np.all(c == n))  # the MLE lies at alpha -> 0 or beta -> 0
    at_bound = degenerate or bool(np.any(np.abs(theta - lo) < 1e-6) or np.any(np.abs(theta - hi) < 1e-6))
    a, b = (float(v) for v in np.exp(theta))
    lbinom = special.gammaln(nu + 1) - special.gammaln(cu + 1) - special.gammaln(nu - cu + 1)
    loglik = float(np.sum(w * (lbinom + special.betaln(cu + a, nu - cu + b) - special.betaln(a, b))))
    if at_bound:
        warnings.warn(f"fit_beta_binomial: log alpha / log beta at the search box ({theta[0]:.3g}, "
                      f"{theta[1]:.3g}); the counts are degenerate (every problem solved or none) or the "
                      f"spread across problems is extreme.", UserWarning, stacklevel=2)
    return BetaFit(alpha=a, beta=b, loglik=loglik, n_problems=int(n.size), converged=bool(best.success),
                   at_bound=at_bound)


# ---------------------------------------------------------------------------------------
# aggregation of long-format sample logs


@dataclass(frozen=True)
class Curves(Reported):
    """Mean pass@k (and majority@k, when answers were given) over a set of problems."""

    ks: np.ndarray
    pass_at_k: np.ndarray
    majority_at_k: np.ndarray | None
    n_problems: int

    def _headline(self) -> str:
        return f"[[Curves]] mean pass@k over {self.n_problems} problems"

    def rows(self) -> list[dict[str, float]]:
        """One row per k."""
        maj = self.majority_at_k
        return [{"k": int(k), "pass_at_k": float(p), **({} if maj is None else {"majority_at_k": float(maj[i])})}
                for i, (k, p) in enumerate(zip(self.ks, self.pass_at_k))]


@dataclass(frozen=True)
class SampleSummary(Reported):
    """Per-problem counts and curves of one group (e.g. one model).

    ``problems``, ``n``, ``c``, ``score`` and ``bin`` are per problem (sorted by
    problem label). ``score`` is what the difficulty bins were cut on: the
    ``difficulty`` column when given (higher = harder), else the problem's own
    pass rate c/n; ``bin`` runs 1 (easiest) .. B (hardest), 0 when no bins
    were made. ``pass_at_k`` / ``majority_at_k`` are means over all problems
    at ``ks``; ``bins`` maps each bin to its own :class:`Curves`.
    """

    key: Any
    problems: np.ndarray
    n: np.ndarray
    c: np.ndarray
    ks: np.ndarray
    pass_at_k: np.ndarray
    majority_at_k: np.ndarray | None
    score: np.ndarray
    bin: np.ndarray
    bins: dict[int, Curves] = field(default_factory=dict)

    @property
    def pass_rate(self) -> np.ndarray:
        return self.c / self.n

    def _headline(self) -> str:
        return f"[[SampleSummary]] group {self.key!r}: {self.problems.size} problems, mean pass@k"

    def rows(self) -> list[dict[str, float]]:
        """One row per k: the mean pass@k (and majority@k) over the group's problems."""
        maj = self.majority_at_k
        return [{"k": int(k), "pass_at_k": float(p), **({} if maj is None else {"majority_at_k": float(maj[i])})}
                for i, (k, p) in enumerate(zip(self.ks, self.pass_at_k))]

    def beta_fit(self) -> BetaFit:
        """:func:`fit_beta_binomial` on this group's per-problem counts."""
        return fit_beta_binomial(self.n, self.c)

    def bin_curves(self, k_max: int | None = None) -> tuple[list[np.ndarray], np.ndarray]:
        """The curves and weights that :func:`~scalinglaws.optimize.allocate_samples` and
        :func:`~scalinglaws.plot.adaptive_vs_uniform` take: per difficulty bin (1 = easiest), the
        mean unbiased pass@k over its problems at every k = 0, 1, ..., K (entry 0 is 0; K is the
        bin's smallest n, capped at ``k_max``), and each bin's share of the problems."""
        labels = sorted(int(b) for b in np.unique(self.bin) if b > 0)
        if not labels:
            raise LawError(f"bin_curves: group {self.key!r} has no difficulty bins (aggregate_samples was called "
                           "with difficulty_bins=0); call it with difficulty_bins=None or a number of bins.",
                           rule="no bins")
        if k_max is not None and (isinstance(k_max, bool) or int(k_max) != k_max or k_max < 1):
            raise LawError(f"bin_curves(k_max=...) must be a whole number >= 1, got {k_max!r}.", rule="bad argument",
                           value=k_max)
        curves, counts = [], []
        for b in labels:
            inb = self.bin == b
            n, c = self.n[inb], self.c[inb]
            K = int(n.min()) if k_max is None else min(int(n.min()), int(k_max))
            ks = np.arange(1, K + 1)
            acc = pass_at_k(n[:, None], c[:, None], ks[None, :]).mean(axis=0)
            curves.append(np.concatenate([[0.0], np.atleast_1d(acc)]))
            counts.append(int(inb.sum()))
        w = np.asarray(counts, dtype=np.float64)
        return curves, w / w.sum()


def _column(cols: Mapping[str, np.ndarray], name: str) -> np.ndarray | None:
    return cols.get(name)


def _per_sample_runs(data: Any, fn: str, extra: Sequence[str] = ()) -> tuple[Runs, dict[str, np.ndarray]]:
    """Per-sample rows validated as :class:`Runs` (:func:`~scalinglaws.runs.as_runs`), and
    their columns. Data that is not yet Runs and has no ``sample_index`` gets the row number
    as its ``sample_index``: the same order (samples count in row order), and repeated
    (problem, model) rows are then distinct samples rather than duplicated runs. Labels
    (``problem``, ``model``, ``answer``) keep the type the caller gave them (Runs hold them
    as text), so groups are keyed as the caller wrote them."""
    given = data
    if not isinstance(data, Runs) and _has(data, "problem") and not _has(data, "sample_index"):
        if isinstance(data, Mapping):
            n = len(np.asarray(data["problem"]))
            data = {**data, "sample_index": np.arange(n, dtype=np.float64)}
        elif hasattr(data, "assign") and hasattr(data, "columns"):  # a DataFrame
            data = data.assign(sample_index=np.arange(len(data), dtype=np.float64))
    extra = tuple(c for c in extra if c not in CANONICAL_COLUMNS and _has(data, c))
    runs = as_runs(data, fn=fn, extra=extra)
    cols = dict(runs.columns)
    if not isinstance(given, Runs) and (isinstance(given, Mapping) or hasattr(given, "columns")):
        for name in CATEGORICAL_COLUMNS:
            if name in cols and _has(given, name):
                v = given[name]
                cols[name] = v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)
    return runs, cols


def _has(data: Any, name: str) -> bool:
    if isinstance(data, (str, bytes)) or not hasattr(data, "__contains__"):
        return False
    try:
        return name in (data.columns if hasattr(data, "columns") else data)
    except TypeError:
        return False


def _factorize(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels): codes index into labels; labels sorted where comparable.

    Integers in a modest range use bincount; other numbers np.unique; text a
    hash map (much faster than sorting 10 million Python strings)."""
    if a.dtype == bool:
        a = a.astype(np.int64)
    if a.dtype.kind in "iu" or (a.dtype.kind == "f" and a.size and np.all(a == np.round(a))
                                 and np.all(np.isfinite(a))):
        if a.size == 0:
            return np.zeros(0, np.int64), a
        lo, hi = a.min(), a.max()
        if hi - lo <= 4 * a.size + 1_000_000:
            off = (a - lo).astype(np.int64)
            present = np.bincount(off, minlength=int(hi - lo) + 1) > 0
            remap = np.cumsum(present) - 1
            return remap[off], (np.flatnonzero(present) + lo).astype(a.dtype)
    if a.dtype.kind in "iufb":
        labels, codes = np.unique(a, return_inverse=True)
        return codes.ravel().astype(np.int64), labels
    values = a.tolist()
    uniq = set(values)
    try:
        labels = sorted(uniq)
    except TypeError:
        labels = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(labels)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    lab = np.empty(len(labels), dtype=object)
    lab[:] = labels
    return codes, lab


def _combine(hi: np.ndarray, n_lo: int, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of the pairs (hi, lo), ordered by (hi, lo); returns (codes, pair keys)."""
    key = hi.astype(np.int64) * np.int64(n_lo) + lo
    codes, keys = _factorize(key)
    return codes, keys


def _default_ks(n_min: int) -> np.ndarray:
    ks = [1 << i for i in range(max(int(math.log2(max(n_min, 1))), 0) + 1) if (1 << i) <= n_min]
    if ks[-1] != n_min:
        ks.append(n_min)
    return np.asarray(ks, dtype=np.int64)


def _ranks(gp: np.ndarray, n_gp: np.ndarray, sample_index: np.ndarray | None) -> np.ndarray:
    """Rank (0-based) of each row within its (group, problem) by sample_index,
    or by row order when no sample_index is given."""
    if sample_index is not None:
        si = np.asarray(sample_index, dtype=np.float64)
        if np.all(si == np.round(si)) and si.size and si.min() >= 0:
            si_i = si.astype(np.int64)
            if np.all(si_i < n_gp[gp]):  # 0..n-1 per problem if also unique
                M = int(si_i.max()) + 1
                if len(n_gp) * M <= 4 * si.size + 1_000_000:
                    dup = np.bincount(gp * M + si_i, minlength=len(n_gp) * M) > 1
                else:
                    dup = np.unique(gp * M + si_i).size != si.size
                if not np.any(dup):
                    return si_i
        order = np.lexsort((si, gp))
    else:
        small = len(n_gp) < 2**15
        order = np.argsort(gp.astype(np.int16) if small else gp, kind="stable")
    starts = np.concatenate([[0], np.cumsum(n_gp)[:-1]])
    rank = np.empty(gp.size, dtype=np.int64)
    rank[order] = np.arange(gp.size, dtype=np.int64) - starts[gp[order]]
    return rank


def _majority_credit(gp: np.ndarray, n_gp: np.ndarray, rank: np.ndarray, answer: np.ndarray,
                     correct: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """(problems, len(ks)) expected majority-vote correctness over the first k
    samples; ties split the credit evenly (random tie-breaking). NaN where a
    problem has fewer than k samples."""
    a_codes, _ = _factorize(answer)
    pa, keys = _combine(gp, int(a_codes.max()) + 1, a_codes)
    n_answers = int(a_codes.max()) + 1
    pa_gp = (keys // n_answers).astype(np.int64)
    size = np.bincount(pa, minlength=keys.size)
    n_right = np.bincount(pa, weights=correct, minlength=keys.size)
    mixed = (n_right > 0) & (n_right < size)
    if mixed.any():
        warnings.warn(f"aggregate_samples: {int(mixed.sum())} (problem, answer) pair(s) are marked both correct and "
                      f"incorrect; such an answer counts as correct.", UserWarning, stacklevel=3)
    pa_right = n_right > 0
    seg = np.searchsorted(pa_gp, np.arange(len(n_gp)))
    out = np.full((len(n_gp), len(ks)), np.nan)
    for j, k in enumerate(ks):
        cnt = np.bincount(pa[rank < k], minlength=keys.size)
        top = np.maximum.reduceat(cnt, seg)
        is_top = (cnt == top[pa_gp]) & (cnt > 0)
        tied = np.add.reduceat(is_top.astype(np.int64), seg)
        won = np.add.reduceat((is_top & pa_right).astype(np.int64), seg)
        out[:, j] = np.where(n_gp >= k, won / np.maximum(tied, 1), np.nan)
    return out


def _bins_of(score: np.ndarray, spec: Any, harder_is_higher: bool) -> np.ndarray:
    """1-based bin per problem: equal-count quantile bins (int), explicit edges
    (sequence), or the score values themselves ('labels')."""
    if isinstance(spec, str):
        if spec != "labels":
            raise ValueError(f"aggregate_samples: difficulty_bins must be an int, a sequence of edges or "
                             f"'labels', got {spec!r}.")
        vals, codes = np.unique(score, return_inverse=True)
        if not np.all(vals == np.round(vals)):
            raise ValueError("aggregate_samples: difficulty_bins='labels' needs whole-number difficulty labels.")
        return vals[codes].astype(np.int64)
    if np.isscalar(spec):
        B = int(spec)
        if B < 1:
            raise ValueError(f"aggregate_samples: difficulty_bins must be >= 1, got {spec!r}.")
        key = score if harder_is_higher else -score
        order = np.argsort(key, kind="stable")  # easiest first; ties keep problem order
        rank = np.empty(score.size, dtype=np.int64)
        rank[order] = np.arange(score.size)
        return rank * B // max(score.size, 1) + 1
    edges = np.asarray(spec, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("aggregate_samples: difficulty_bins edges must be an increasing sequence of >= 2 values.")
    b = np.clip(np.searchsorted(edges, score, side="right"), 1, edges.size - 1)
    return b if harder_is_higher else edges.size - b


def aggregate_samples(runs_or_dict: Any, by: Sequence[str] = ("model",), difficulty_bins: Any = None, *,
                      ks: Sequence[int] | None = None) -> dict[Any, SampleSummary]:
    """Per-problem counts and pass@k / majority@k curves from per-sample rows.

    ``runs_or_dict`` is a :class:`~scalinglaws.Runs`, a DataFrame or a mapping
    of equal-length arrays with one row per sample: ``problem``, ``correct``
    (0/1), the ``by`` columns (default ``model``; a missing ``model`` column is
    allowed and means a single group), and optionally ``sample_index`` (the
    order in which samples count for majority@k; default row order),
    ``answer`` (the extracted final answer; without it majority@k is skipped)
    and ``difficulty`` (a per-problem score, higher = harder).

    ``difficulty_bins``: ``None`` gives 5 equal-count bins (Snell et al. 2024)
    cut on the difficulty column if present, else on each problem's own pass
    rate (bin 1 = highest pass rate = easiest); an int gives that many
    bins; a sequence gives bin edges on the score; ``'labels'`` uses whole-number
    difficulty values as the bins; ``0`` or ``False`` makes no bins. Bins are cut
    per group.

    ``ks``: the k values (default 1, 2, 4, ... up to the group's smallest n,
    plus that n). Every k must be <= the smallest n in each group.

    Majority@k votes over the first k samples by ``sample_index``; a tie
    between answers counts as the fraction of tied answers that are correct.

    Returns ``{key: SampleSummary}``, key = the group's value when ``by`` has
    one column, else the tuple of values (``()`` for ``by=()``).
    """
    by = tuple(by)
    _, cols = _per_sample_runs(runs_or_dict, "aggregate_samples", extra=by)
    return _aggregate(cols, by, difficulty_bins, ks)


def _aggregate(runs_or_dict: Mapping[str, np.ndarray], by: tuple, difficulty_bins: Any,
               ks: Sequence[int] | None) -> dict[Any, SampleSummary]:
    """:func:`aggregate_samples` on columns already validated by :func:`_per_sample_runs`."""
    problem = _column(runs_or_dict, "problem")
    correct = _column(runs_or_dict, "correct")
    for name, col in (("problem", problem), ("correct", correct)):
        if col is None:
            raise DataError(f"aggregate_samples: the data lacks the column {name!r}; per-sample rows need "
                            f"'problem' and 'correct'.", column=name, rule="missing column")
    N = problem.shape[0]
    correct = np.asarray(correct, dtype=np.float64)
    if correct.shape != (N,):
        raise DataError(f"aggregate_samples: 'correct' has shape {correct.shape}, expected ({N},).",
                        column="correct", rule="bad shape")
    bad = (correct != 0) & (correct != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"aggregate_samples: column 'correct', row {i}: value {correct[i]!r} is not 0 or 1.",
                        column="correct", row=i, rule="not 0/1", value=float(correct[i]))
    if N == 0:
        raise DataError("aggregate_samples: no rows.", rule="empty")

    # group codes from the `by` columns
    g = np.zeros(N, dtype=np.int64)
    n_g = 1
    group_labels: list[np.ndarray] = []
    present_by = []
    for name in by:
        col = _column(runs_or_dict, name)
        if col is None:
            if name == "model" and by == ("model",):
                continue
            raise DataError(f"aggregate_samples: by={by!r} names {name!r}, which the data lacks.", column=name,
                            rule="missing column")
        codes, labels = _factorize(np.asarray(col))
        g, keys = _combine(g, len(labels), codes)
        prev = group_labels
        group_labels = [lab[(keys // len(labels))] for lab in prev] + [labels[keys % len(labels)]]
        n_g = keys.size
        present_by.append(name)
    p_codes, p_labels = _factorize(np.asarray(problem))
    gp, gp_keys = _combine(g, len(p_labels), p_codes)
    gp_group = (gp_keys // len(p_labels)).astype(np.int64)
    gp_problem = p_labels[gp_keys % len(p_labels)]
    n_gp = np.bincount(gp, minlength=gp_keys.size)
    c_gp = np.rint(np.bincount(gp, weights=correct, minlength=gp_keys.size)).astype(np.int64)

    # per-problem difficulty score
    diff_col = _column(runs_or_dict, "difficulty")
    if diff_col is not None:
        d = np.asarray(diff_col, dtype=np.float64)
        score_gp = np.bincount(gp, weights=d, minlength=gp_keys.size) / n_gp
        harder_is_higher = True
    else:
        score_gp = c_gp / n_gp
        harder_is_higher = False
    spec = 5 if difficulty_bins is None else difficulty_bins
    make_bins = not (spec is False or (np.isscalar(spec) and not isinstance(spec, str) and int(spec) == 0))

    # k values per group
    n_min_g = np.full(n_g, np.iinfo(np.int64).max)
    np.minimum.at(n_min_g, gp_group, n_gp)
    if ks is not None:
        ks_user = np.asarray(sorted(set(int(k) for k in ks)), dtype=np.int64)
        if ks_user.size == 0 or ks_user[0] < 1:
            raise ValueError("aggregate_samples: ks must hold integers >= 1.")
        worst = int(np.argmin(n_min_g))
        if ks_user[-1] > n_min_g[worst]:
            raise ValueError(f"aggregate_samples: k={int(ks_user[-1])} exceeds the smallest number of samples of a "
                             f"problem ({int(n_min_g[worst])}) in group {worst}; pass ks <= {int(n_min_g[worst])}.")
    ks_of = [ks_user if ks is not None else _default_ks(int(n_min_g[j])) for j in range(n_g)]
    ks_all = np.unique(np.concatenate(ks_of))

    pass_mat = np.stack([pass_at_k(n_gp, c_gp, np.minimum(k, n_gp)) for k in ks_all], axis=1)
    answer = _column(runs_or_dict, "answer")
    maj_mat = None
    if answer is not None:
        rank = _ranks(gp, n_gp, _column(runs_or_dict, "sample_index"))
        maj_mat = _majority_credit(gp, n_gp, rank, np.asarray(answer), correct, ks_all)

    out: dict[Any, SampleSummary] = {}
    seg = np.searchsorted(gp_group, np.arange(n_g + 1))
    for j in range(n_g):
        sl_ = slice(seg[j], seg[j + 1])
        cols = np.searchsorted(ks_all, ks_of[j])
        P = pass_mat[sl_][:, cols]
        Mj = None if maj_mat is None else maj_mat[sl_][:, cols]
        score = score_gp[sl_]
        bins = _bins_of(score, spec, harder_is_higher) if make_bins else np.zeros(score.size, np.int64)
        per_bin = {}
        if make_bins:
            for b in np.unique(bins):
                m = bins == b
                per_bin[int(b)] = Curves(ks=ks_of[j], pass_at_k=P[m].mean(axis=0),
                                         majority_at_k=None if Mj is None else Mj[m].mean(axis=0),
                                         n_problems=int(m.sum()))
        if len(present_by) == 0:
            key: Any = () if len(by) != 1 else None
        else:
            vals = tuple(lab[j].item() if hasattr(lab[j], "item") else lab[j] for lab in group_labels)
            key = vals[0] if len(by) == 1 else vals
        out[key] = SampleSummary(key=key, problems=gp_problem[sl_], n=n_gp[sl_], c=c_gp[sl_], ks=ks_of[j],
                                 pass_at_k=P.mean(axis=0), majority_at_k=None if Mj is None else Mj.mean(axis=0),
                                 score=score, bin=bins, bins=per_bin)
    return out
