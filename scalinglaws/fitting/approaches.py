"""Hoffmann et al.'s Approach 2 (isoFLOP profiles): ``sl.approach2(runs, budget="flops")``.

At each training budget C, the final loss of the runs is fitted by a parabola in log N (least
squares); its minimum is N_opt(C), and D_opt(C) = C / (6 N_opt). A second parabola, in log D,
gives D_opt from the tokens side (both are reported). Power laws N_opt = k_N C^a and
D_opt = k_D C^b are then fitted by least squares in log-log, with standard errors.

Budgets: with ``budget="flops"`` (the default) the runs' FLOPs are binned into nominal budgets:
sorted log10 FLOPs are split at gaps wider than ``gap`` decades, then any group spanning more than
``width`` decades is split by exact one-dimensional k-means (in log10 FLOPs) into the fewest groups
that each span at most ``width`` decades. ``n_budgets=k`` instead asks for exactly k k-means groups.
``budget="column"`` names a column of nominal budgets, and an array gives one per run.

Two known limits (Besiroglu et al. 2024; the Open-Athena simulations cited in PEERS.md): the parabola
only approximates L in log N, which is asymmetric when alpha != beta, so even centred sampling
shifts every N_opt by the same factor (the intercept k_N is biased, the exponent a is not, as long
as the sampling window sits at the same place relative to the optimum at every budget); sampling
that drifts off-centre with the budget biases the exponent itself.

>>> import scalinglaws as sl
>>> from scalinglaws import synthetic
>>> a2 = sl.approach2(synthetic.chinchilla_sweep(noise=0.0))
>>> round(a2.params_exponent, 4), round(a2.tokens_exponent, 4)      # beta/(alpha+beta), alpha/(alpha+beta)
(0.5126, 0.4874)
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any

import math

import numpy as np

from .._report import Reported, format_rows
from ..errors import DataError
from ..runs import as_runs, pooled_groups

__all__ = ["Approach1", "Approach2", "approach1", "approach2", "budget_groups", "kmeans_1d", "ApproachComparison",
           "compare_approaches"]

MAX_AUTO_GROUPS = 64  # the automatic binning never makes more groups than this


# --------------------------------------------------------------------------- budget groups
def kmeans_1d(x: np.ndarray, k: int) -> list[np.ndarray]:
    """Exact k-means of the values ``x`` in one dimension (dynamic programming over the sorted
    values, O(k n^2)): a list of k index arrays into ``x``, ordered by value."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    n = len(xs)
    k = int(min(max(k, 1), n))
    c1 = np.concatenate([[0.0], np.cumsum(xs)])
    c2 = np.concatenate([[0.0], np.cumsum(xs * xs)])
    best = np.full((k + 1, n + 1), np.inf)
    best[0, 0] = 0.0
    back = np.zeros((k + 1, n + 1), dtype=np.int64)
    for q in range(1, k + 1):
        for j in range(q, n + 1):
            i = np.arange(q - 1, j)
            m = j - i
            s = c1[j] - c1[i]
            cost = best[q - 1, i] + (c2[j] - c2[i] - s * s / m)
            t = int(np.argmin(cost))
            best[q, j], back[q, j] = cost[t], i[t]
    cuts, j = [], n
    for q in range(k, 0, -1):
        i = int(back[q, j])
        cuts.append((i, j))
        j = i
    return [order[i:j] for i, j in reversed(cuts)]


def budget_groups(flops: Any, *, n_budgets: int | None = None, gap: float = 0.1,
                  width: float = 0.5) -> list[np.ndarray]:
    """Runs binned into nominal budgets by their log10 FLOPs (see the module docstring): a list
    of index arrays, ordered by budget."""
    lc = np.log10(np.asarray(flops, dtype=np.float64))
    if n_budgets is not None:
        return kmeans_1d(lc, int(n_budgets))
    order = np.argsort(lc, kind="stable")
    cuts = np.flatnonzero(np.diff(lc[order]) > gap) + 1
    out: list[np.ndarray] = []
    for g in np.split(order, cuts):
        if len(g) and np.ptp(lc[g]) > width:
            for k in range(2, min(len(g), MAX_AUTO_GROUPS) + 1):
                sub = kmeans_1d(lc[g], k)
                if all(np.ptp(lc[g][s]) <= width for s in sub):
                    break
            out += [g[s] for s in sub]
        elif len(g):
            out.append(g)
    return out


# --------------------------------------------------------------------------- fits
def _parabola(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Least-squares y = c0 + c1 u + c2 u^2 in u = x - mean(x) (centred for conditioning):
    (coefficients in x, vertex x*, loss at the vertex)."""
    m = float(np.mean(x))
    u = x - m
    V = np.stack([np.ones_like(u), u, u * u], axis=1)
    c, *_ = np.linalg.lstsq(V, y, rcond=None)
    c0, c1, c2 = (float(v) for v in c)
    if c2 == 0.0:
        return np.array([c0 - c1 * m, c1, 0.0]), float("nan"), float("nan")
    v = -c1 / (2.0 * c2)
    # back to powers of x: c0 + c1 (x - m) + c2 (x - m)^2
    coef = np.array([c0 - c1 * m + c2 * m * m, c1 - 2.0 * c2 * m, c2])
    return coef, v + m, c0 + c1 * v + c2 * v * v


def _power_law(C: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """log y = log k + e log C by least squares: (e, k, se(e), se(log k)); nan standard
    errors with fewer than 3 points."""
    X, Y = np.log(C), np.log(y)
    n = len(X)
    if n < 2:
        return float("nan"), float("nan"), float("nan"), float("nan")
    xm = float(X.mean())
    sxx = float(np.sum((X - xm) ** 2))
    e = float(np.sum((X - xm) * (Y - Y.mean())) / sxx)
    lk = float(Y.mean() - e * xm)
    if n < 3:
        return e, float(np.exp(lk)), float("nan"), float("nan")
    s2 = float(np.sum((Y - lk - e * X) ** 2)) / (n - 2)
    se_e = float(np.sqrt(s2 / sxx))
    se_lk = float(np.sqrt(s2 * (1.0 / n + xm * xm / sxx)))
    return e, float(np.exp(lk)), se_e, se_lk


class _PowerLaws:
    """N_opt(C) = k_N C^a and D_opt(C) = k_D C^b of an approach's result (floats for a scalar C)."""

    def optimal_params(self, flops: Any) -> Any:
        """N_opt(C) = k_N C^a (a float for a scalar C, else an array)."""
        C = np.asarray(flops, dtype=np.float64)
        out = self.params_coefficient * C ** self.params_exponent
        return float(out) if out.ndim == 0 else out

    def optimal_tokens(self, flops: Any) -> Any:
        """D_opt(C) = k_D C^b (a float for a scalar C, else an array)."""
        C = np.asarray(flops, dtype=np.float64)
        out = self.tokens_coefficient * C ** self.tokens_exponent
        return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class Approach2(_PowerLaws, Reported):
    """Result of :func:`approach2`. ``budgets`` holds one dict per budget group (``rows()``);
    the power laws use only the groups with ``used`` true.

    Attributes: ``params_exponent`` a and ``params_coefficient`` k_N of N_opt = k_N C^a;
    ``tokens_exponent`` b and ``tokens_coefficient`` k_D of D_opt = k_D C^b with D_opt = C/(6 N_opt);
    ``tokens_exponent_parabola`` (and coefficient) from the minima of the parabolas in log D;
    standard errors ``params_exponent_se``, ``tokens_exponent_se``, ``tokens_exponent_parabola_se``
    (nan with fewer than three groups).
    """

    params_exponent: float
    params_coefficient: float
    params_exponent_se: float
    tokens_exponent: float
    tokens_coefficient: float
    tokens_exponent_se: float
    tokens_exponent_parabola: float
    tokens_coefficient_parabola: float
    tokens_exponent_parabola_se: float
    budgets: tuple[dict[str, Any], ...]
    budget: str
    n_runs: int
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    groups: tuple[tuple[int, ...], ...] = field(default=(), repr=False)  # each group's row indices into the runs
    params_exponent_interval: tuple[float, float] | None = None   # 10th-90th percentile over resamples
    tokens_exponent_interval: tuple[float, float] | None = None

    @property
    def n_used(self) -> int:
        return sum(1 for r in self.budgets if r["used"])

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.budgets]

    def _headline(self) -> str:
        return (f"Approach 2 (isoFLOP parabolas in log N) on {self.n_runs} runs, {len(self.budgets)} budget "
                f"groups ({self.n_used} used): N_opt ~ C^{self.params_exponent:.4f} "
                f"(se {self.params_exponent_se:.2g}), D_opt ~ C^{self.tokens_exponent:.4f} "
                f"(se {self.tokens_exponent_se:.2g}); from the D parabolas D_opt ~ "
                f"C^{self.tokens_exponent_parabola:.4f} (se {self.tokens_exponent_parabola_se:.2g})")

    def _body(self) -> str:
        head = ""
        if self.params_exponent_interval is not None:
            (a0, a1), (b0, b1) = self.params_exponent_interval, self.tokens_exponent_interval
            head = f"10th-90th percentile over resamples: a in [{a0:.4f}, {a1:.4f}], b in [{b0:.4f}, {b1:.4f}]\n"
        cols = {"budget": "budget C", "n_runs": "runs", "params_opt": "N_opt", "tokens_opt": "D_opt=C/6N",
                "tokens_opt_parabola": "D_opt (D parab.)", "loss_opt": "loss at min", "used": "used"}
        shown = []  # a left-out group's empty cells as "-", and why it was left out instead of False
        for r in self.rows():
            row = {k: ("-" if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
            why = r.get("reason") or ""
            why = _SHORT_REASON.get(why, f"< {why.split()[2]} runs" if why.startswith("fewer than ") else why)
            row["used"] = ("yes" if r["used"] else "no") + (f" ({why})" if why else "")
            shown.append(row)
        return head + format_rows(shown, cols)


#: the table's short form of each group's reason (the notes and ``rows()`` keep the long one)
_SHORT_REASON = {"parabola opens downward": "opens down", "minimum outside the sampled N": "min outside N",
                 "D parabola unusable (its minimum left out of the D-parabola law)": "no D min"}


def _budget_values(runs: Any, budget: Any, n: int) -> tuple[np.ndarray | None, str]:
    """(nominal budget per run or None to bin the flops, a label of where budgets came from)."""
    if budget is None or (isinstance(budget, str) and budget == "flops"):
        return None, "flops"
    if isinstance(budget, str):
        if budget not in runs:
            raise DataError(f"{runs.source}: approach2(budget={budget!r}): no such column; available: "
                            f"{', '.join(runs.names)}. Pass budget=\"flops\" to bin the runs' FLOPs.",
                            source=runs.source, column=budget, rule="missing column")
        vals, label = np.asarray(runs[budget], dtype=np.float64), f"column {budget!r}"
    else:
        vals, label = np.asarray(budget, dtype=np.float64).ravel(), "an array"
        if len(vals) != n:
            raise DataError(f"approach2(budget=array): {len(vals)} budgets for {n} runs; give one per run.",
                            rule="bad length")
    if not np.all(np.isfinite(vals) & (vals > 0)):
        raise DataError(f"approach2(budget=...): budgets from {label} must be finite and > 0; got "
                        f"{vals[~(np.isfinite(vals) & (vals > 0))][:3].tolist()}...", rule="non-positive")
    return vals, label


def approach2(runs: Any, *, budget: Any = "flops", n_budgets: int | None = None, min_points: int = 3,
              gap: float = 0.1, width: float = 0.5, resamples: int = 0, fraction: float = 0.8,
              seed: int | None = 0) -> Approach2:
    """Hoffmann et al.'s Approach 2 on ``runs`` (params, loss, and flops or tokens).

    Args:
        budget: ``"flops"`` (or None) to bin the runs' FLOPs into nominal budgets; the name of a
            column of nominal budgets; or an array of one nominal budget per run.
        n_budgets: with ``budget="flops"``, exactly this many k-means groups in log10 FLOPs
            instead of the automatic binning (gaps over ``gap`` decades, groups at most ``width``
            decades wide).
        min_points: fewest runs for a group's parabola (at least 3); smaller groups are left out
            of the power laws (a note counts them).

        resamples: Hoffmann et al.'s intervals (Table 2): refit ``resamples`` random subsets of
            ``fraction`` of the runs (without replacement, ``numpy.random.default_rng(seed)``, the
            budget groups kept) and report the 10th-90th percentiles of a and b. Subsets of 80%
            vary less than independent datasets would, so these intervals are narrow: on 40
            noisy synthetic sweeps (1% noise) the 80% interval held the true a in 68% of them.

    A group whose parabola opens downward, or whose minimum lies outside the sampled N (or D) of
    the group, is left out of the power laws with a warning naming its budget. Raises
    :class:`DataError` when fewer than two groups remain.
    """
    named = isinstance(budget, str) and budget != "flops"
    runs = as_runs(runs, fn="approach2", extra=(budget,) if named and isinstance(runs, dict) and budget in runs else ())
    if int(min_points) != min_points or min_points < 3:
        raise DataError(f"approach2(min_points={min_points!r}): a parabola needs at least 3 points per group.",
                        rule="too few points")
    if n_budgets is not None and (int(n_budgets) != n_budgets or n_budgets < 2):
        raise DataError(f"approach2(n_budgets={n_budgets!r}): must be a whole number >= 2.", rule="bad count")
    for c in ("params", "loss"):
        if c not in runs:
            raise DataError(f"{runs.source}: approach2 needs column {c!r}; available: {', '.join(runs.names)}.",
                            source=runs.source, column=c, rule="missing column")
    N = np.asarray(runs["params"], dtype=np.float64)
    L = np.asarray(runs["loss"], dtype=np.float64)
    n = len(N)
    if "flops" in runs:
        F = np.asarray(runs["flops"], dtype=np.float64)
    elif "tokens" in runs:
        F = 6.0 * N * np.asarray(runs["tokens"], dtype=np.float64)
    else:
        raise DataError(f"{runs.source}: approach2 needs 'flops' or 'tokens' besides 'params'; available: "
                        f"{', '.join(runs.names)}.", source=runs.source, column="flops", rule="missing column")
    Dtok = np.asarray(runs["tokens"], dtype=np.float64) if "tokens" in runs else F / (6.0 * N)
    notes: list[str] = []
    warns: list[str] = []
    if (pooled := pooled_groups(runs, "their runs were binned into budgets")) is not None:
        warns.append(pooled + ": one isoFLOP profile mixes them (run approach2 on each group's rows, "
                     "runs.select(runs['group'] == g))")
    nominal, label = _budget_values(runs, budget, n)
    if nominal is None:
        groups = budget_groups(F, n_budgets=n_budgets, gap=gap, width=width)
        how = (f"{n_budgets} k-means groups in log10 FLOPs" if n_budgets is not None else
               f"log10 FLOPs split at gaps > {gap:g} decades, groups wider than {width:g} decades split by k-means")
        Cg = [float(np.exp(np.mean(np.log(F[g])))) for g in groups]
        spread = max(float(np.ptp(np.log10(F[g]))) for g in groups)
        notes.append(f"budgets: {len(groups)} groups ({how}); nominal budget = geometric mean of the group's "
                     f"FLOPs; widest group spans {spread:.3g} decades")
    else:
        vals = np.unique(nominal)
        groups = [np.flatnonzero(nominal == v) for v in vals]
        Cg = [float(v) for v in vals]
        notes.append(f"budgets: {len(groups)} nominal budgets from {label}")
    Cnom = np.empty(n)
    for g, c in zip(groups, Cg):
        Cnom[g] = c
    gaps = {"flops": F} if "flops" in runs else {}
    if "tokens" in runs:
        gaps["6ND"] = 6.0 * N * Dtok
    for what, v in gaps.items():
        ratio = np.abs(np.log10(v / Cnom))
        notes.append(f"the runs' {what} differs from their group's nominal budget by up to {float(ratio.max()):.3g} "
                     f"decades (median {float(np.median(ratio)):.3g})")
    rows: list[dict[str, Any]] = []
    n_small = 0
    for g, C in zip(groups, Cg):
        row: dict[str, Any] = {"budget": C, "n_runs": int(len(g)), "flops_min": float(F[g].min()),
                               "flops_max": float(F[g].max()), "params_opt": float("nan"),
                               "tokens_opt": float("nan"), "tokens_opt_parabola": float("nan"),
                               "loss_opt": float("nan"), "curvature": float("nan"), "used": False, "reason": ""}
        if len(g) < min_points or len(np.unique(N[g])) < 3:
            n_small += 1
            row["reason"] = f"fewer than {min_points} runs or 3 distinct N"
            rows.append(row)
            continue
        x = np.log(N[g])
        coef, xv, lv = _parabola(x, L[g])
        coef_d, xd, _ = _parabola(np.log(Dtok[g]), L[g])
        row.update(curvature=float(coef[2]), params_opt=float(np.exp(xv)) if np.isfinite(xv) else float("nan"),
                   loss_opt=lv, coef=[float(c) for c in coef], coef_tokens=[float(c) for c in coef_d])
        row["tokens_opt"] = C / (6.0 * row["params_opt"])
        row["tokens_opt_parabola"] = float(np.exp(xd)) if np.isfinite(xd) else float("nan")
        if not coef[2] > 0:
            row["reason"] = "parabola opens downward"
            warns.append(f"budget {C:.3g}: the parabola of loss in log N opens downward (curvature "
                         f"{coef[2]:.3g}); left out of the power laws")
        elif not (x.min() <= xv <= x.max()):
            row["reason"] = "minimum outside the sampled N"
            warns.append(f"budget {C:.3g}: the parabola's minimum N = {np.exp(xv):.3g} lies outside the group's "
                         f"sampled N [{N[g].min():.3g}, {N[g].max():.3g}]; left out of the power laws")
        elif not (coef_d[2] > 0 and np.log(Dtok[g]).min() <= xd <= np.log(Dtok[g]).max()):
            row["used"] = True
            row["reason"] = "D parabola unusable (its minimum left out of the D-parabola law)"
            row["tokens_opt_parabola"] = float("nan")
        else:
            row["used"] = True
        rows.append(row)
    if n_small:
        notes.append(f"{n_small} budget group(s) with fewer than {min_points} runs (or 3 distinct N) left out")
    n_bad = sum(1 for r in rows if not r["used"]) - n_small
    if n_bad:
        notes.append(f"{n_bad} budget group(s) left out for a downward or out-of-range parabola (see warnings)")
    n_dbad = sum(1 for r in rows if r["used"] and r["reason"])
    if n_dbad:
        notes.append(f"{n_dbad} used group(s) whose parabola in log D opens downward or has its minimum outside the "
                     f"sampled D: left out of the D-parabola law only")
    used = [r for r in rows if r["used"]]
    if len(used) < 2:
        raise DataError(f"{runs.source}: approach2 needs at least 2 usable budget groups of >= {min_points} runs; "
                        f"got {len(used)} of {len(rows)} groups ({n_small} too small, {n_bad} with a downward or "
                        f"out-of-range parabola).", source=runs.source, rule="too few points")
    C = np.array([r["budget"] for r in used])
    Nopt = np.array([r["params_opt"] for r in used])
    a, kN, se_a, _ = _power_law(C, Nopt)
    b, kD, se_b, _ = _power_law(C, C / (6.0 * Nopt))
    okd = np.array([np.isfinite(r["tokens_opt_parabola"]) for r in used])
    if okd.sum() >= 2:
        bp, kDp, se_bp, _ = _power_law(C[okd], np.array([r["tokens_opt_parabola"] for r in used])[okd])
    else:
        bp = kDp = se_bp = float("nan")
    if len(used) < 3:
        warns.append(f"only {len(used)} usable budget groups: the exponents have no standard errors")
    ia = ib = None
    if resamples:
        if int(resamples) != resamples or resamples < 10:
            raise DataError(f"approach2(resamples={resamples!r}): give 0 or a whole number >= 10.", rule="bad count")
        if not 0 < fraction < 1:
            raise DataError(f"approach2(fraction={fraction!r}): must lie in (0, 1).", rule="bad fraction")
        rng = np.random.default_rng(seed)
        m = max(int(round(fraction * n)), 3)
        draws, n_fail = [], 0
        for _ in range(int(resamples)):
            take = np.sort(rng.choice(n, size=m, replace=False))
            sub = {"params": N[take], "loss": L[take], "flops": F[take], "tokens": Dtok[take]}
            try:
                with _warnings.catch_warnings():
                    _warnings.simplefilter("ignore", UserWarning)
                    r = approach2(sub, budget=Cnom[take], min_points=min_points)
            except DataError:
                n_fail += 1
                continue
            draws.append((r.params_exponent, r.tokens_exponent))
        if len(draws) < 2:
            raise DataError(f"approach2(resamples={resamples}): only {len(draws)} resamples had 2 usable budget "
                            f"groups; use a larger fraction.", rule="too few points")
        d = np.array(draws)
        ia = (float(np.percentile(d[:, 0], 10)), float(np.percentile(d[:, 0], 90)))
        ib = (float(np.percentile(d[:, 1], 10)), float(np.percentile(d[:, 1], 90)))
        notes.append(f"10th-90th percentile intervals from {len(draws)} resamples of {m} of the {n} runs "
                     f"(seed {seed}): a in [{ia[0]:.4f}, {ia[1]:.4f}], b in [{ib[0]:.4f}, {ib[1]:.4f}]"
                     + (f"; {n_fail} resample(s) with fewer than 2 usable groups left out" if n_fail else ""))
    for w in warns:
        _warnings.warn(w, UserWarning, stacklevel=2)
    return Approach2(params_exponent=a, params_coefficient=kN, params_exponent_se=se_a,
                     tokens_exponent=b, tokens_coefficient=kD, tokens_exponent_se=se_b,
                     tokens_exponent_parabola=bp, tokens_coefficient_parabola=kDp,
                     tokens_exponent_parabola_se=se_bp, budgets=tuple(rows),
                     budget=label, n_runs=n, notes=tuple(notes), warnings=tuple(warns),
                     groups=tuple(tuple(int(i) for i in np.sort(g)) for g in groups),
                     params_exponent_interval=ia, tokens_exponent_interval=ib)


# --------------------------------------------------------------------------- Approach 1
@dataclass(frozen=True)
class Approach1(_PowerLaws, Reported):
    """Result of :func:`approach1`: the lower envelope of the training curves. ``rows()``: one
    dict per run that is the envelope over some range of FLOPs (its N, the range, the loss there).

    ``params_exponent`` a and ``params_coefficient`` k_N of N_opt = k_N C^a, fitted by least
    squares in log-log over the envelope's grid points; ``tokens_exponent`` b = 1 - a and
    ``tokens_coefficient`` from D_opt = C / (6 N_opt). No standard errors: the grid points are
    not independent observations (resample the runs for intervals).
    """

    params_exponent: float
    params_coefficient: float
    tokens_exponent: float
    tokens_coefficient: float
    segments: tuple[dict[str, Any], ...]
    n_runs: int
    n_grid: int
    n_used: int
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.segments]

    def _headline(self) -> str:
        return (f"Approach 1 (lower envelope of {self.n_runs} training curves; {self.n_used} of {self.n_grid} "
                f"FLOP grid points used): N_opt ~ C^{self.params_exponent:.4f}, D_opt ~ C^{self.tokens_exponent:.4f}")


def approach1(runs: Any, *, n_grid: int = 1500) -> Approach1:
    """Hoffmann et al.'s Approach 1 on checkpoint logs (a ``run`` column; params, loss, and
    flops or tokens per checkpoint).

    Each run's loss curve is interpolated linearly in (log C, log L) between its checkpoints. At
    ``n_grid`` log-spaced FLOPs C spanning the logs, the run with the lowest loss among the runs
    whose curve covers C gives N_opt(C). A grid point counts only when the winning run is neither
    the smallest nor the largest N covering C (otherwise the optimum may lie beyond the runs);
    power laws are fitted to the rest. No smoothing of the curves (Hoffmann et al. smooth noisy
    logs; do it before calling when they are noisy).
    """
    runs = as_runs(runs, fn="approach1")
    if int(n_grid) != n_grid or n_grid < 10:
        raise DataError(f"approach1(n_grid={n_grid!r}): must be a whole number >= 10.", rule="bad count")
    for c in ("run", "params", "loss"):
        if c not in runs:
            raise DataError(f"{runs.source}: approach1 needs column {c!r} (checkpoint logs, one run id per "
                            f"training run); available: {', '.join(runs.names)}.", source=runs.source,
                            column=c, rule="missing column")
    N = np.asarray(runs["params"], dtype=np.float64)
    L = np.asarray(runs["loss"], dtype=np.float64)
    if "flops" in runs:
        F = np.asarray(runs["flops"], dtype=np.float64)
    elif "tokens" in runs:
        F = 6.0 * N * np.asarray(runs["tokens"], dtype=np.float64)
    else:
        raise DataError(f"{runs.source}: approach1 needs 'flops' or 'tokens'; available: {', '.join(runs.names)}.",
                        source=runs.source, column="flops", rule="missing column")
    ids = np.asarray(runs["run"])
    names, inv = np.unique(ids, return_inverse=True)
    notes: list[str] = []
    warns: list[str] = []
    curves, n_short = [], 0
    for r in range(len(names)):
        g = np.flatnonzero(inv == r)
        if len(np.unique(F[g])) < 2:
            n_short += 1
            continue
        if np.ptp(N[g]) > 0:
            raise DataError(f"{runs.source}: approach1: run {names[r]!r} has several params values "
                            f"({np.unique(N[g])[:3].tolist()}); one model size per run.", source=runs.source,
                            column="params", rule="run with several params")
        o = g[np.argsort(F[g], kind="stable")]
        curves.append((str(names[r]), float(N[o[0]]), np.log(F[o]), np.log(L[o])))
    if n_short:
        notes.append(f"{n_short} run(s) with fewer than 2 distinct checkpoints left out")
    if len(curves) < 3:
        raise DataError(f"{runs.source}: approach1 needs at least 3 runs with 2 or more checkpoints; got "
                        f"{len(curves)}.", source=runs.source, rule="too few points")
    lo = min(c[2][0] for c in curves)
    hi = max(c[2][-1] for c in curves)
    grid = np.linspace(lo, hi, int(n_grid))
    M = np.full((len(curves), len(grid)), np.inf)
    for i, (_, _, lc, ll) in enumerate(curves):
        inside = (grid >= lc[0]) & (grid <= lc[-1])
        M[i, inside] = np.interp(grid[inside], lc, ll)
    Nr = np.array([c[1] for c in curves])
    cover = np.isfinite(M)
    win = np.argmin(M, axis=0)
    Nw = Nr[win]
    n_lo = np.where(cover, Nr[:, None], np.inf).min(axis=0)
    n_hi = np.where(cover, Nr[:, None], -np.inf).max(axis=0)
    ok = (Nw > n_lo) & (Nw < n_hi)
    if len(np.unique(Nw[ok])) < 2:
        raise DataError(f"{runs.source}: approach1: the lower envelope has fewer than 2 distinct interior model "
                        f"sizes (the best run at each FLOP value is the smallest or largest N covering it); "
                        f"log runs of more sizes around the optimum.", source=runs.source, rule="too few points")
    C = np.exp(grid[ok])
    a, kN, _, _ = _power_law(C, Nw[ok])
    b, kD, _, _ = _power_law(C, C / (6.0 * Nw[ok]))
    notes.append(f"{int(ok.sum())} of {len(grid)} grid points used; the others' best run is the smallest or "
                 f"largest N covering that FLOP value")
    segs: list[dict[str, Any]] = []
    j = 0
    while j < len(grid):
        k = j
        while k + 1 < len(grid) and win[k + 1] == win[j] and ok[k + 1] == ok[j]:
            k += 1
        segs.append({"run": curves[win[j]][0], "params": float(Nr[win[j]]), "flops_from": float(np.exp(grid[j])),
                     "flops_to": float(np.exp(grid[k])), "loss_from": float(np.exp(M[win[j], j])),
                     "loss_to": float(np.exp(M[win[j], k])), "used": bool(ok[j])})
        j = k + 1
    if len({s["params"] for s in segs if s["used"]}) < 4:
        warns.append("the envelope has fewer than 4 distinct model sizes: the exponent rests on a staircase of "
                     "few steps")
    for w in warns:
        _warnings.warn(w, UserWarning, stacklevel=2)
    return Approach1(params_exponent=a, params_coefficient=kN, tokens_exponent=b, tokens_coefficient=kD,
                     segments=tuple(segs), n_runs=len(curves), n_grid=len(grid), n_used=int(ok.sum()),
                     notes=tuple(notes), warnings=tuple(warns))


# --------------------------------------------------------------------------- the three approaches
@dataclass(frozen=True)
class ApproachComparison(Reported):
    """Result of :func:`compare_approaches`: for each approach that could run (``approaches``,
    among "Approach 1", "Approach 2", "Approach 3"), the exponents a and b of N_opt ~ C^a and
    D_opt ~ C^b (``params_exponent`` / ``tokens_exponent``, name -> float) and N_opt / D_opt at
    each of ``budgets`` (``optimal_params`` / ``optimal_tokens``, name -> array). ``results``
    holds each approach's own result (Approach1, Approach2, the Chinchilla Fit); ``notes`` says
    which rows each used and why an approach was skipped."""

    approaches: tuple[str, ...]
    budgets: np.ndarray
    params_exponent: dict[str, float]
    tokens_exponent: dict[str, float]
    optimal_params: dict[str, np.ndarray]
    optimal_tokens: dict[str, np.ndarray]
    results: dict[str, Any] = field(repr=False, default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        """One row per approach: a, b, then N_opt and D_opt at each budget."""
        out = []
        for name in self.approaches:
            row: dict[str, Any] = {"approach": name, "a": self.params_exponent[name], "b": self.tokens_exponent[name]}
            for C, N, D in zip(self.budgets, self.optimal_params[name], self.optimal_tokens[name]):
                row[f"N_opt({C:.0e})"] = float(N)
                row[f"D_opt({C:.0e})"] = float(D)
            out.append(row)
        return out

    def _headline(self) -> str:
        return (f"[[ApproachComparison]] Hoffmann et al.'s three approaches on one dataset: "
                + ", ".join(f"{n}: a = {self.params_exponent[n]:.4f}" for n in self.approaches))

    def _body(self) -> str:
        rows = self.rows()
        return format_rows(rows, {k: k for k in rows[0]}) if rows else "  (no approach could run)"


def compare_approaches(runs: Any, *, budgets: Any = (1e21, 1e23, 1e25), budget: Any = "flops",
                       n_budgets: int | None = None, law: Any = None) -> ApproachComparison:
    """Hoffmann et al.'s Approaches 1, 2 and 3 on one dataset, side by side.

    - Approach 1 (:func:`approach1`, the lower envelope of training curves) when the runs have a
      ``run`` column (checkpoint logs); skipped, with a note, otherwise;
    - Approach 2 (:func:`approach2`, isoFLOP parabolas, ``budget`` / ``n_budgets`` passed on) and
      Approach 3 (``sl.fit`` of ``law``, default :class:`~scalinglaws.laws.Chinchilla`, with its
      closed-form optimum: a = beta / (alpha + beta)) on the final checkpoint of each run (all
      rows when there is no ``run`` column): a checkpoint is not a run trained to that length.

    ``budgets``: training FLOPs at which N_opt and D_opt are tabulated. An approach that fails
    on these runs (a DataError) is skipped with its message in ``notes``. Returns an
    :class:`ApproachComparison`."""
    from ..laws.loss import Chinchilla
    from .api import fit as _fit

    fn = "compare_approaches"
    r = as_runs(runs, fn=fn)
    C = np.atleast_1d(np.asarray(budgets, dtype=np.float64)).ravel()
    if C.size == 0 or not np.all(np.isfinite(C) & (C > 0)):
        raise DataError(f"{fn}(budgets={budgets!r}): give one or more finite FLOP budgets > 0.", rule="bad budget")
    law = Chinchilla() if law is None else law
    if not hasattr(law, "closed_form_optimum") or set(law.inputs) != {"params", "tokens"}:
        raise DataError(f"{fn}(law=...): Approach 3 needs a (params, tokens) law with a closed-form optimum "
                        f"(Chinchilla); got {getattr(law, 'name', type(law).__name__)!r}.", rule="bad law")
    notes, warns, results = [], [], {}
    a_, b_, Nopt, Dopt = {}, {}, {}, {}
    cols = {c: np.asarray(r[c]) for c in r.names}
    if "run" in r:
        tokens = np.asarray(r["tokens"], dtype=np.float64) if "tokens" in r else np.asarray(r["flops"], float)
        run = np.asarray(r["run"]).astype(str)
        last = {}
        for i, (u, t) in enumerate(zip(run, tokens)):
            if u not in last or t > tokens[last[u]]:
                last[u] = i
        keep = np.array(sorted(last.values()))
        final = {c: v[keep] for c, v in cols.items() if c != "run"}
        notes.append(f"Approach 1 on all {len(r)} rows of {len(keep)} runs; Approaches 2 and 3 on each run's "
                     "final checkpoint")
        try:
            results["Approach 1"] = approach1(r)
        except DataError as exc:
            notes.append(f"Approach 1 skipped: {exc}")
    else:
        final = cols
        notes.append("Approach 1 skipped: it needs training curves (a 'run' column of checkpoint logs)")
    try:
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            results["Approach 2"] = approach2(final, budget=budget, n_budgets=n_budgets)
        warns += [f"Approach 2: {w.message}" for w in caught]
    except DataError as exc:
        notes.append(f"Approach 2 skipped: {exc}")
    for name in ("Approach 1", "Approach 2"):
        if name in results:
            res = results[name]
            a_[name], b_[name] = float(res.params_exponent), float(res.tokens_exponent)
            Nopt[name], Dopt[name] = np.asarray(res.optimal_params(C), float), np.asarray(res.optimal_tokens(C), float)
    f = _fit(law, final)
    results["Approach 3"] = f
    p = f.params
    a_["Approach 3"] = float(p["beta"] / (p["alpha"] + p["beta"]))
    b_["Approach 3"] = float(p["alpha"] / (p["alpha"] + p["beta"]))
    N3, D3 = law.closed_form_optimum(f.internal, C)
    Nopt["Approach 3"], Dopt["Approach 3"] = np.asarray(N3, float), np.asarray(D3, float)
    warns += list(getattr(f, "warnings", ()))
    names = tuple(n for n in ("Approach 1", "Approach 2", "Approach 3") if n in a_)
    return ApproachComparison(approaches=names, budgets=C, params_exponent=a_, tokens_exponent=b_,
                              optimal_params=Nopt, optimal_tokens=Dopt, results=results, notes=tuple(notes),
                              warnings=tuple(warns))
