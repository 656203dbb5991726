"""Plots for papers: fitted loss against compute, isoFLOP profiles, the N*/D* frontier.

Every function takes an optional matplotlib ``ax=`` and returns the Axes it drew on; none calls
``show()`` or ``savefig``. matplotlib is imported inside the functions, so importing
``scalinglaws`` never imports it; without a display (and with no backend chosen) the Agg backend
is used.

>>> import scalinglaws as sl
>>> from scalinglaws import plot, synthetic
>>> runs = sl.read_runs(synthetic.chinchilla_sweep(budgets=(1e19, 1e20, 1e21), noise=0.0))
>>> fit = sl.fit(sl.laws.Chinchilla(), runs)
>>> ax = plot.plot_isoflop(fit, runs)
>>> len(ax.lines), ax.get_xscale()          # one fitted profile per training budget, log N
(3, 'log')
>>> ax.figure.savefig("isoflop.png", dpi=150)                      # doctest: +SKIP
>>> import matplotlib.pyplot as plt; plt.close(ax.figure)
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from typing import Any, Mapping

import numpy as np

from ._jax import x64
from .errors import DataError, LawError
from .runs import as_runs

__all__ = ["plot_fit", "plot_isoflop", "isoflop", "plot_frontier", "plot_residuals", "plot_loss_frontier",
           "plot_tokens_per_param", "inference_frontier", "gain_vs_queries", "adaptive_vs_uniform",
           "posterior_pairs", "paper_style", "paper_rc", "OKABE_ITO", "COLUMN_WIDTH", "architecture_pareto",
           "KAPLAN_N_COEF", "KAPLAN_N_EXPONENT", "PF_DAY"]

#: Kaplan et al. (2020), section 6.1 / Figure 14: N_opt(C_min) = 1.3e9 * C_min ** 0.73, N the
#: non-embedding parameters and C_min in PF-days (1 PF-day = 8.64e19 FLOPs). REFERENCE.md section 3
#: states the exponent 0.73 and the PF-day; the coefficient 1.3e9 is read from the paper's Figure 14.
KAPLAN_N_COEF, KAPLAN_N_EXPONENT, PF_DAY = 1.3e9, 0.73, 8.64e19

_GRID = 200  # points per curve; one length everywhere, so JAX compiles one shape


# --------------------------------------------------------------------------- helpers
def _pyplot():
    """pyplot, switching to Agg first when there is no display and no backend was chosen."""
    import matplotlib

    if ("matplotlib.pyplot" not in sys.modules and "MPLBACKEND" not in os.environ
            and sys.platform.startswith("linux")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
            and "ipykernel" not in sys.modules):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axes(ax: Any):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots()  # rcParams["figure.figsize"]: 6.4 x 4.8 in by default, a column in paper_style
    return ax


# --------------------------------------------------------------------------- paper style
#: Okabe & Ito (2008), "Color Universal Design (CUD): how to make figures and presentations that are
#: friendly to colorblind people" (https://jfly.uni-koeln.de/color/): eight colours that stay distinct
#: under protanopia, deuteranopia and tritanopia. Blue first; yellow, weak on white, last.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442")
#: one column of a two-column paper (ACL, NeurIPS, ICML, IEEE: 3.25-3.33 in), in inches
COLUMN_WIDTH = 3.3


def paper_rc(width: float = COLUMN_WIDTH, aspect: float = 0.75) -> dict[str, Any]:
    """matplotlib rcParams for a figure one column wide (``width`` inches, height ``aspect`` x width):
    the Okabe-Ito palette as the colour cycle (so ``"C0"``, ``"C1"``... are its colours), text
    (7.5-9 pt: legible printed at that width), thin lines, constrained layout, and vector output: PDF by
    default, fonts embedded as TrueType (type 42) and SVG text kept as text. The saved page is
    exactly ``width`` wide (no tight bounding box)."""
    from cycler import cycler

    if not (np.isfinite(width) and width > 0 and np.isfinite(aspect) and aspect > 0):
        raise DataError(f"`paper_rc(width=..., aspect=...)` must be positive numbers, got width={width!r}, "
                        f"aspect={aspect!r}.", rule="bad argument")
    return {
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
        "figure.figsize": (float(width), float(width) * float(aspect)),
        "figure.constrained_layout.use": True,
        # 9 pt base: the figures' legends ask for "small" (0.833 x base, 7.5 pt), the floor for print
        "font.size": 9.0, "axes.titlesize": 9.0, "axes.labelsize": 9.0, "xtick.labelsize": 8.0,
        "ytick.labelsize": 8.0, "legend.fontsize": 8.0, "legend.title_fontsize": 8.0, "figure.titlesize": 9.0,
        "lines.linewidth": 1.2, "lines.markersize": 4.0, "axes.linewidth": 0.6, "grid.linewidth": 0.4,
        "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.minor.width": 0.4, "ytick.minor.width": 0.4,
        # scatter markers scale with lines.markersize (plot._area): 4 pt, 0.44 of the default area
        "legend.frameon": True, "legend.framealpha": 0.85, "legend.edgecolor": "0.8", "legend.borderpad": 0.3,
        "legend.labelspacing": 0.25, "legend.handlelength": 1.6, "legend.borderaxespad": 0.3, "image.cmap": "cividis",
        "savefig.format": "pdf", "savefig.bbox": "standard", "savefig.dpi": 300,
        "pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none",
    }


def paper_style(width: float = COLUMN_WIDTH, aspect: float = 0.75):
    """A context manager: figures made and saved inside it use :func:`paper_rc` (a column-wide,
    colour-blind-safe, vector style). Every plot function of this module draws with it. Save inside
    the block: sizes are fixed when a figure is made, but colours named ``"C0"``... and the
    vector settings are read when it is drawn::

        with plot.paper_style():
            ax = plot.plot_frontier(fit)
            ax.figure.savefig("frontier.pdf")
    """
    import matplotlib

    return matplotlib.rc_context(paper_rc(width, aspect))


def _area(s: float) -> float:
    """A scatter marker area of ``s`` points^2 at matplotlib's default marker size (6 pt), scaled with
    rcParams["lines.markersize"] squared: unchanged by default, smaller in the column-wide paper style."""
    import matplotlib

    return float(s) * (float(matplotlib.rcParams["lines.markersize"]) / 6.0) ** 2


def _scale_law(fit: Any) -> None:
    law = fit.law
    if not {"params", "tokens"} <= set(law.inputs) or set(law.inputs) - {"params", "tokens"}:
        raise LawError(f"plot: law {law.name!r} reads {list(law.inputs)}; these plots need a law in "
                       f"(params, tokens) only.", rule="bad law")


def _columns(runs: Any) -> dict[str, np.ndarray]:
    """params, tokens, flops, loss as float64 arrays from anything :func:`~scalinglaws.runs.as_runs`
    takes (flops = 6ND if absent)."""
    runs = as_runs(runs, fn="plot")
    out = {}
    for c in ("params", "tokens", "loss"):
        if c not in runs:
            raise DataError(f"{runs.source}: plot needs column {c!r}; available: {', '.join(runs.names)}.",
                            source=runs.source, column=c, rule="missing column")
        out[c] = np.asarray(runs[c], dtype=np.float64)
    out["flops"] = (np.asarray(runs["flops"], dtype=np.float64) if "flops" in runs
                    else 6.0 * out["params"] * out["tokens"])
    return out


def _budget_groups(flops: np.ndarray, tol_dex: float = 0.02) -> list[np.ndarray]:
    """Indices of runs grouped by budget: sorted log10 FLOPs split where the gap exceeds tol_dex."""
    order = np.argsort(flops, kind="stable")
    lc = np.log10(flops[order])
    cuts = np.flatnonzero(np.diff(lc) > tol_dex) + 1
    return [g for g in np.split(order, cuts) if len(g)]


def _colorbar(ax: Any, norm: Any, cmap: Any, values: np.ndarray, label: str) -> None:
    """A colour bar for ``values`` under ``norm`` / ``cmap`` beside ``ax`` (no artist of its own)."""
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=norm, cmap=cmap)
    sm.set_array(values)
    ax.figure.colorbar(sm, ax=ax, label=label)


@functools.lru_cache(maxsize=32)
def _jitted_predict(law: Any):
    from ._jax import jax

    return jax.jit(law.predict)


def _predict(fit: Any, N: np.ndarray, D: np.ndarray) -> np.ndarray:
    """The fit's prediction at (N, D): one jitted call (eager JAX compiles op by op per new
    shape, which costs seconds; a fused jit costs a fraction of that)."""
    N, D = np.asarray(N, dtype=np.float64), np.asarray(D, dtype=np.float64)
    try:
        f = _jitted_predict(fit.law)
    except TypeError:  # an unhashable custom law
        return np.asarray(fit.predict(params=N, tokens=D))
    from ._jax import jnp

    p = {k: jnp.asarray(v) for k, v in fit.internal.items()}
    return np.asarray(f(p, {"params": jnp.asarray(N), "tokens": jnp.asarray(D)}), dtype=np.float64)


# --------------------------------------------------------------------------- plots
@x64
def plot_fit(fit: Any, runs: Any, ax: Any = None, *, n_curves: int = 4, cmap: str = "viridis",
             colorbar: bool = True, frontier: bool = True) -> Any:
    """Loss against training FLOPs: the runs as points coloured by N (log colour scale) and the
    fitted law as curves at ``n_curves`` model sizes spanning the runs' N (log-x axis), plus
    (``frontier=True``) the fitted compute-optimal loss L(N*(C), D*(C)) as a dashed black line.

    Draws one scatter collection and ``n_curves`` (+1 with the frontier) lines; adds a colorbar
    for N unless ``colorbar=False``. Returns the Axes.
    """
    from matplotlib.colors import LogNorm

    _scale_law(fit)
    d = _columns(runs)
    ax = _axes(ax)
    lo, hi = float(d["params"].min()), float(d["params"].max())
    norm = LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 1.0001)
    sc = ax.scatter(d["flops"], d["loss"], c=d["params"], cmap=cmap, norm=norm, s=_area(18),
                    edgecolors="none", zorder=3, label="runs")
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    c_lo, c_hi = float(d["flops"].min()) / 2.0, float(d["flops"].max()) * 2.0
    C = np.geomspace(c_lo, c_hi, _GRID)
    for N in np.geomspace(lo, hi, max(int(n_curves), 1)) if n_curves > 0 else []:
        ax.plot(C, _predict(fit, np.full_like(C, N), C / (6.0 * N)), color=cm(norm(N)), lw=1.4,
                label=f"fit, N = {N:.3g}")
    if frontier:
        from .optimize import compute_optimal

        with warnings.catch_warnings():  # the envelope may extrapolate past the runs' N; that is fine here
            warnings.simplefilter("ignore", UserWarning)
            best = compute_optimal(fit, flops=C)
        ax.plot(C, best.loss, color="black", ls="--", lw=1.2, label="fit, compute-optimal")
    ax.set_xscale("log")
    ax.set_xlabel("training FLOPs C")
    ax.set_ylabel(fit.law.target)
    ax.set_title(f"{fit.law.name} fit: {fit.law.target} vs compute")
    lv = d["loss"]
    pad = 0.08 * float(lv.max() - lv.min() or lv.max())
    ax.set_ylim(float(lv.min()) - pad, float(lv.max()) + pad)
    if colorbar:
        ax.figure.colorbar(sc, ax=ax, label="parameters N")
    ax.legend(fontsize="small", loc="upper right")
    return ax


@x64
def plot_isoflop(fit: Any, runs: Any, ax: Any = None, *, cmap: str = "plasma", tol_dex: float = 0.02) -> Any:
    """Loss against N at each training budget (runs within ``tol_dex`` decades of FLOPs form one
    budget), with the fitted isoFLOP profile L(N, C / 6N) and its compute-optimal N* marked.

    Draws, per budget, one scatter collection and one profile line, plus one collection of
    optimum markers. Returns the Axes.
    """
    import matplotlib

    from .optimize import compute_optimal

    _scale_law(fit)
    d = _columns(runs)
    ax = _axes(ax)
    groups = _budget_groups(d["flops"], tol_dex)
    budgets = np.array([float(np.exp(np.mean(np.log(d["flops"][g])))) for g in groups])
    cm = matplotlib.colormaps[cmap]
    colors = [cm(x) for x in np.linspace(0.05, 0.85, len(groups))] if len(groups) > 1 else [cm(0.3)]
    alloc = compute_optimal(fit, flops=budgets)
    n_opt = np.atleast_1d(alloc.params)
    for g, C, col, n_star in zip(groups, budgets, colors, n_opt):
        N = d["params"][g]
        ax.scatter(N, d["loss"][g], color=col, s=_area(16), zorder=3)
        lo = min(float(N.min()), float(n_star)) / 1.5
        hi = max(float(N.max()), float(n_star)) * 1.5
        grid = np.geomspace(lo, hi, _GRID)
        ax.plot(grid, _predict(fit, grid, C / (6.0 * grid)), color=col, lw=1.3, label=f"C = {C:.2g}")
    ax.scatter(alloc.params, alloc.loss, marker="*", s=_area(90), color="black", zorder=4, label="fitted optimum N*")
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel(fit.law.target)
    ax.set_title("isoFLOP profiles")
    ax.legend(fontsize="x-small", ncol=2)
    return ax


@x64
def isoflop(runs: Any, fit: Any = None, ax: Any = None, *, approach: Any = None, budget: Any = "flops",
            n_budgets: int | None = None, cmap: str = "plasma", colorbar: bool = True) -> Any:
    """IsoFLOP profiles readable on real data: loss against N, the runs coloured by their budget
    group (one colour bar, log scale, instead of a legend entry per budget), each group's
    Approach-2 parabola in log N and its minimum (one collection of markers).

    ``approach``: an :class:`~scalinglaws.fitting.approaches.Approach2` of these runs to draw
    from; by default ``approach2(runs, budget=budget, n_budgets=n_budgets)`` (the same binning).
    ``fit``: a fitted (params, tokens) law to add as dashed profiles L(N, C / 6N) at each used
    budget with its optima. The legend has at most three entries. Returns the Axes.
    """
    import matplotlib
    from matplotlib.colors import LogNorm

    from .fitting.approaches import Approach2, approach2

    if isinstance(runs, Approach2):
        raise DataError("isoflop(runs, ...): pass the runs first and the Approach2 result as approach=.",
                        rule="bad argument")
    r = as_runs(runs, fn="isoflop")
    for c in ("params", "loss"):
        if c not in r:
            raise DataError(f"{r.source}: isoflop needs column {c!r}; available: {', '.join(r.names)}.",
                            source=r.source, column=c, rule="missing column")
    a2 = approach if approach is not None else approach2(r, budget=budget, n_budgets=n_budgets)
    if not a2.groups or max(max(g) for g in a2.groups) >= len(r):
        raise DataError(f"isoflop(approach=...): the Approach2 result was not computed on these {len(r)} runs.",
                        rule="bad argument")
    if fit is not None:
        _scale_law(fit)
    N, L = np.asarray(r["params"], dtype=np.float64), np.asarray(r["loss"], dtype=np.float64)
    ax = _axes(ax)
    budgets = np.array([row["budget"] for row in a2.budgets])
    lo, hi = float(budgets.min()), float(budgets.max())
    norm = LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 1.0001)
    cm = matplotlib.colormaps[cmap]
    colour = np.empty(len(r))
    for g, C in zip(a2.groups, budgets):
        colour[list(g)] = C
    ax.scatter(N, L, c=colour, cmap=cm, norm=norm, s=_area(14), edgecolors="none", alpha=0.8, zorder=3)
    mins = []
    fitted_label = "fitted law"
    for g, row in zip(a2.groups, a2.budgets):
        if not row["used"]:
            continue
        col = cm(norm(row["budget"]))
        n_g = N[list(g)]
        grid = np.geomspace(float(n_g.min()), float(n_g.max()), _GRID)
        c0, c1, c2 = row["coef"]
        x = np.log(grid)
        ax.plot(grid, c0 + c1 * x + c2 * x * x, color=col, lw=1.3)
        mins.append((row["params_opt"], row["loss_opt"]))
        if fit is not None:
            C = row["budget"]
            ax.plot(grid, _predict(fit, grid, C / (6.0 * grid)), color=col, lw=0.9, ls="--", label=fitted_label)
            fitted_label = None
    if mins:
        m = np.array(mins)
        ax.scatter(m[:, 0], m[:, 1], marker="D", s=_area(36), facecolors="white", edgecolors="black", zorder=5,
                   label="parabola minima (Approach 2)")
    if fit is not None:
        from .optimize import compute_optimal

        used = np.array([row["budget"] for row in a2.budgets if row["used"]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            best = compute_optimal(fit, flops=used)
        ax.scatter(np.atleast_1d(best.params), np.atleast_1d(best.loss), marker="*", s=_area(80), color="black",
                   zorder=6, label="fitted optimum N*")
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("loss")
    ax.set_title(f"isoFLOP profiles: N_opt ~ C^{a2.params_exponent:.3f} ({a2.n_used} budgets)")
    if colorbar:
        _colorbar(ax, norm, cm, budgets, "training budget C (FLOPs)")
    _legend_above_data(ax)
    return ax


def _legend_above_data(ax: Any, margin: float = 0.06) -> Any:
    """The legend at the top of the axes, in as few rows as fit its width, with the y-axis raised
    so that everything drawn stays below it: no legend over the data, at any figure size (no fixed
    corner is empty on every isoFLOP sweep, and matplotlib's "best" still covers runs at one
    column's width). Linear y-axes only. Returns the legend."""
    handles, _ = ax.get_legend_handles_labels()
    lo, hi = ax.get_ylim()
    ys = [np.asarray(ln.get_ydata(), dtype=np.float64) for ln in ax.lines]
    ys += [np.asarray(c.get_offsets(), dtype=np.float64)[:, 1] for c in ax.collections if len(c.get_offsets())]
    top = max([float(np.nanmax(y)) for y in ys if y.size] + [lo])
    leg = None
    for ncol in range(max(len(handles), 1), 0, -1):
        if leg is not None:
            leg.remove()
        leg = ax.legend(fontsize="small", loc="upper center", ncol=ncol)
        if leg.get_window_extent().width <= 0.98 * ax.get_window_extent().width:
            break
    h = leg.get_window_extent().height / ax.get_window_extent().height
    ax.set_ylim(lo, max(hi, lo + (top - lo) / max(1.0 - h - margin, 0.3)))
    return leg


@x64
def plot_frontier(fit: Any, flops_range: tuple[float, float] = (1e18, 1e25), ax: Any = None, *,
                  reference: Mapping[str, float] | None = None, reference_label: str = "Hoffmann et al. 2022") -> Any:
    """Compute-optimal N* and D* against the training budget C (log-log), for the fit (solid) and
    for the published Hoffmann et al. (2022) Approach-3 law (dashed; another Chinchilla parameter
    set with ``reference=``, or none with ``reference={}``).

    Draws two lines for the fit and two for the reference; the budgets whose N* lies within
    the N of the fitted runs (interpolation, not extrapolation) are shaded. Returns the Axes.
    """
    from . import laws
    from .optimize import compute_optimal
    from .synthetic import HOFFMANN

    lo, hi = (float(v) for v in flops_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise DataError(f"`plot_frontier(flops_range=...)` must be (low, high) with 0 < low < high, got {flops_range}.",
                        rule="bad range")
    ax = _axes(ax)
    C = np.geomspace(lo, hi, _GRID)
    with warnings.catch_warnings():  # extrapolation is the point of this plot; the shading shows it
        warnings.simplefilter("ignore", UserWarning)
        alloc = compute_optimal(fit, flops=C)
    ax.plot(C, alloc.params, color="C0", lw=2, label=f"N* ({fit.law.name} fit)")
    ax.plot(C, alloc.tokens, color="C1", lw=2, label=f"D* ({fit.law.name} fit)")
    ref = HOFFMANN if reference is None else reference
    if ref:
        h = compute_optimal(laws.Chinchilla(), flops=C, params=ref)
        ax.plot(C, h.params, color="C0", lw=1.2, ls="--", label=f"N* ({reference_label})")
        ax.plot(C, h.tokens, color="C1", lw=1.2, ls="--", label=f"D* ({reference_label})")
    n_range = (getattr(fit, "input_range", None) or {}).get("params")
    if n_range is not None:
        inside = (alloc.params >= n_range[0]) & (alloc.params <= n_range[1])
        if inside.any():
            ax.axvspan(C[inside].min(), C[inside].max(), color="0.5", alpha=0.12, lw=0,
                       label="N* within fitted runs' N")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training FLOPs C")
    ax.set_ylabel("parameters N*  /  tokens D*")
    ax.set_title("compute-optimal frontier")
    ax.legend(fontsize="small")
    return ax


@x64
def plot_residuals(fit: Any, runs: Any, ax: Any = None, *, against: str = "flops", cmap: str = "viridis") -> Any:
    """Residuals of the fit against training FLOPs (``against="flops"``) or N (``"params"``), in
    the space the fit minimised (log loss by default: ``log L_obs - log L_fit``), runs coloured by
    N, with a zero line and the residuals' root mean square as a band. Returns the Axes."""
    if against not in ("flops", "params"):
        raise LawError(f"`plot_residuals(against=...)` must be 'flops' or 'params', got {against!r}.",
                       rule="bad argument", value=against)
    _scale_law(fit)
    c = _columns(runs)
    pred = _predict(fit, c["params"], c["tokens"])
    space = getattr(getattr(fit, "objective_spec", None), "space", "log")
    res = np.log(c["loss"]) - np.log(pred) if space == "log" else c["loss"] - pred
    from matplotlib.colors import LogNorm

    ax = _axes(ax)
    x = c[against]
    sc = ax.scatter(x, res, c=c["params"], cmap=cmap, norm=LogNorm(), s=_area(18), edgecolors="none")
    ax.figure.colorbar(sc, ax=ax, label="parameters N")
    rms = float(np.sqrt(np.mean(res * res)))
    ax.axhline(0.0, color="0.3", lw=1)
    ax.axhspan(-rms, rms, color="0.5", alpha=0.15, lw=0, label=f"rms {rms:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("training FLOPs C" if against == "flops" else "parameters N")
    ax.set_ylabel("residual, log loss (observed - fit)" if space == "log" else "residual, loss (observed - fit)")
    ax.set_title(f"residuals of the {fit.law.name} fit")
    ax.legend(fontsize="small", loc="upper right")
    return ax


@x64
def plot_loss_frontier(fit_or_sample: Any, runs: Any = None, ax: Any = None, *,
                       flops_range: tuple[float, float] | None = None, level: float = 0.9) -> Any:
    """The compute-optimal loss L*(C) against training FLOPs, with the runs as points and, when
    given a :class:`~scalinglaws.fitting.bootstrap.Bootstrap` (or a posterior) instead of a Fit, a
    ``level`` band re-solved at every draw. The budgets beyond the largest run are marked as
    extrapolation. Returns the Axes."""
    from .optimize import compute_optimal

    fit = getattr(fit_or_sample, "fit", fit_or_sample)
    _scale_law(fit)
    c = _columns(runs) if runs is not None else None
    if flops_range is None:
        if c is None:
            raise DataError("`plot_loss_frontier`: give runs= or flops_range=(low, high).", rule="missing argument")
        flops_range = (float(c["flops"].min()) / 3, float(c["flops"].max()) * 100)
    lo, hi = (float(v) for v in flops_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise DataError(f"`plot_loss_frontier(flops_range=...)` must be (low, high) with 0 < low < high, "
                        f"got {flops_range}.", rule="bad range")
    C = np.geomspace(lo, hi, 60)
    ax = _axes(ax)
    with warnings.catch_warnings():  # extrapolation is marked on the figure
        warnings.simplefilter("ignore", UserWarning)
        best = compute_optimal(fit_or_sample, flops=C)
    if hasattr(best, "interval") and getattr(best, "draws", None) is not None:
        b_lo, b_hi = best.interval(level)["loss"]
        ax.fill_between(C, b_lo, b_hi, color="C0", alpha=0.25, lw=0, label=f"{level:.0%} interval")
    ax.plot(C, best.loss, color="C0", lw=2, label=f"L*(C), {fit.law.name} fit")
    if c is not None:
        ax.scatter(c["flops"], c["loss"], s=_area(10), color="0.35", alpha=0.7, edgecolors="none", label="runs")
        top = float(c["flops"].max())
        if top < hi:
            ax.axvspan(top, hi, color="0.85", alpha=0.5, lw=0, label="extrapolation")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training FLOPs C")
    ax.set_ylabel("loss")
    ax.set_title("compute-optimal loss")
    from matplotlib.ticker import FuncFormatter

    plain_number = FuncFormatter(lambda v, _: f"{v:g}")  # a loss axis spans less than a decade: 2, 3, not 3x10^0
    ax.yaxis.set_major_formatter(plain_number)
    ax.yaxis.set_minor_formatter(plain_number)
    ax.legend(fontsize="small")
    return ax


@x64
def plot_tokens_per_param(fit: Any, flops_range: tuple[float, float] = (1e18, 1e25), ax: Any = None, *,
                          references: Mapping[str, Mapping[str, float]] | None = None,
                          kaplan: bool = True) -> Any:
    """Compute-optimal tokens per parameter D*/N* against the training budget C, for the fit
    (solid) and for published Chinchilla-form laws (dashed; default Hoffmann et al. 2022 and
    Besiroglu et al. 2024 (Epoch), ``references={}`` for none), and (``kaplan=True``) Kaplan et
    al. 2020's allocation N_opt = 1.3e9 (C / 1 PF-day)^0.73 with D = C / (6 N), so
    D/N = C / (6 N_opt^2) (dotted; their N excludes embeddings). Returns the Axes."""
    from . import laws
    from .optimize import compute_optimal
    from .synthetic import EPOCH, HOFFMANN

    _scale_law(fit)
    lo, hi = (float(v) for v in flops_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise DataError(f"`plot_tokens_per_param(flops_range=...)` must be (low, high) with 0 < low < high, "
                        f"got {flops_range}.", rule="bad range")
    refs = {"Hoffmann et al. 2022": HOFFMANN, "Besiroglu et al. 2024 (Epoch)": EPOCH} if references is None \
        else dict(references)
    ax = _axes(ax)
    C = np.geomspace(lo, hi, _GRID)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ax.plot(C, compute_optimal(fit, flops=C).tokens_per_param, color="C0", lw=2, label=f"{fit.law.name} fit")
        for i, (name, p) in enumerate(refs.items()):
            r = compute_optimal(laws.Chinchilla(), flops=C, params=p)
            ax.plot(C, r.tokens_per_param, color=f"C{i + 1}", lw=1.2, ls="--", label=name)
    if kaplan:
        ax.plot(C, kaplan_tokens_per_param(C), color=f"C{len(refs) + 1}", lw=1.2, ls=":", label="Kaplan et al. 2020 (N ~ C^0.73)")
    ax.set_xscale("log")
    ax.set_xlabel("training FLOPs C")
    ax.set_ylabel("tokens per parameter D*/N*")
    ax.set_title("compute-optimal tokens per parameter")
    ax.legend(fontsize="small")
    return ax


def architecture_pareto(result: Any, ax: Any = None, *, logx: bool = True) -> Any:
    """Predicted loss against decode throughput for every candidate of an
    :class:`~scalinglaws.optimize.ArchitectureSearch`: all candidates (grey; hollow where they miss
    a target), the loss-throughput Pareto set (highlighted and joined), and the chosen
    architecture (a star). Returns the Axes."""
    needed = ("losses", "throughputs", "pareto", "feasible", "index")
    if not all(hasattr(result, k) for k in needed):
        raise LawError(f"`architecture_pareto(result=...)` must be an ArchitectureSearch (from "
                       f"sl.optimize.architecture_search), got {type(result).__name__}.", rule="bad argument",
                       value=type(result).__name__)
    L = np.asarray(result.losses, dtype=np.float64)
    T = np.asarray(result.throughputs, dtype=np.float64)
    par = np.asarray(result.pareto, dtype=bool)
    ok = np.asarray(result.feasible, dtype=bool)
    ax = _axes(ax)
    ax.scatter(T[ok], L[ok], s=14, color="0.6", label=f"candidates ({int(ok.sum())} meet the targets)")
    if (~ok).any():
        ax.scatter(T[~ok], L[~ok], s=14, facecolors="none", edgecolors="0.6",
                   label=f"miss a target ({int((~ok).sum())})")
    order = np.argsort(T[par])
    ax.plot(T[par][order], L[par][order], "-o", color="C3", ms=5, lw=1.2, label=f"Pareto set ({int(par.sum())})")
    i = int(result.index)
    ax.plot([T[i]], [L[i]], "*", color="C0", ms=16, mec="k", label="chosen", zorder=5)
    if logx:
        ax.set_xscale("log")
    hw = getattr(getattr(result, "throughput", None), "hardware", None)
    ax.set_xlabel("decode throughput (tokens/s per accelerator" + (f", {hw.name}" if hw is not None else "") + ")")
    ax.set_ylabel("predicted loss")
    ax.set_title("architectures: loss against decode throughput")
    ax.legend(fontsize="small")
    return ax


def kaplan_tokens_per_param(flops: Any) -> np.ndarray:
    """Kaplan et al. (2020)'s compute-optimal tokens per parameter at training FLOPs ``flops``:
    N_opt = KAPLAN_N_COEF (C / PF_DAY)^KAPLAN_N_EXPONENT and D = C / (6 N_opt)."""
    C = np.asarray(flops, dtype=np.float64)
    N = KAPLAN_N_COEF * (C / PF_DAY) ** KAPLAN_N_EXPONENT
    return C / (6.0 * N * N)


# --------------------------------------------------------------------------- test-time compute

@x64
def inference_frontier(frontier: Any, ax: Any = None, *, comparison: Any = None, cmap: str = "viridis") -> Any:
    """Accuracy against total compute (training + serving) from a :class:`~scalinglaws.optimize.Frontier`:
    one line per model size (each at its best inference setting), the Pareto envelope over the
    sizes (black, dashed), the optimum over any N (grey, dotted), and crosses where the best
    setting sits on the search bound (``Frontier.bound_hit``: the curve stops rising there because
    the search stops, not because accuracy does). ``comparison``: a
    :class:`~scalinglaws.optimize.Comparison` at one budget marks that budget with its crossover
    query volume. Colour bar: model size. Returns the Axes."""
    import matplotlib
    from matplotlib.colors import LogNorm

    if not all(hasattr(frontier, a) for a in ("total_flops", "sizes", "accuracy", "envelope_accuracy")):
        raise LawError(f"inference_frontier: expected a Frontier (sl.optimize.frontier(...)), got "
                       f"{type(frontier).__name__}.", rule="bad argument")
    ax = _axes(ax)
    C = np.asarray(frontier.total_flops, dtype=np.float64)
    S = np.asarray(frontier.sizes, dtype=np.float64)
    cm = matplotlib.colormaps[cmap]
    norm = None
    if S.size:
        lo, hi = float(S.min()), float(S.max())
        norm = LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 1.0001)
        for N, row in zip(S, frontier.accuracy):
            ax.plot(C, row, color=cm(norm(N)), lw=1.4, label="_size")
        ax.plot(C, frontier.envelope_accuracy, color="black", ls="--", lw=2.0, label="envelope over sizes")
    ax.plot(C, frontier.optimal_accuracy, color="0.45", ls=":", lw=1.5, label="any N (free-size optimum)")
    hx, hy = [], []
    for hit, acc in ([(h, a) for h, a in zip(frontier.bound_hit, frontier.accuracy)]
                     + [(frontier.optimal_bound_hit, frontier.optimal_accuracy)]):
        hit = np.asarray(hit, dtype=bool)
        hx.extend(C[hit]), hy.extend(np.asarray(acc)[hit])
    if hx:
        ax.scatter(hx, hy, marker="x", s=22, color="crimson", zorder=5,
                   label=f"search bound ({frontier.search_bound:g}) binds")
    if comparison is not None:
        cross = comparison.crossover
        text = ("no crossover on its query grid" if cross is None
                else f"smaller models win above {cross:.3g} queries")
        ax.axvline(comparison.total_flops, color="crimson", ls="-.", lw=1.0,
                   label=f"{comparison.total_flops:.2g} FLOPs: {text}")
    ax.set_xscale("log")
    ax.set_xlabel(f"total FLOPs (training + {frontier.queries:.3g} queries)")
    ax.set_ylabel("predicted accuracy")
    ax.set_title(f"accuracy against total compute, best {frontier.axis} setting per size")
    if norm is not None:
        _colorbar(ax, norm, cm, S, "model size N (parameters)")
    ax.legend(fontsize="small", loc="lower right")
    return ax


@x64
def gain_vs_queries(comparison: Any, ax: Any = None) -> Any:
    """The accuracy gain of the best smaller model over the best larger one against query volume
    (a :class:`~scalinglaws.optimize.Comparison`), the zero line, each crossover volume as a
    vertical line, a ``level`` band when the comparison holds bootstrap draws (90%), and crosses
    where either side's best setting is on the search bound. Returns the Axes."""
    if not all(hasattr(comparison, a) for a in ("queries", "gain", "crossovers")):
        raise LawError(f"gain_vs_queries: expected a Comparison (sl.smaller_vs_larger(...)), got "
                       f"{type(comparison).__name__}.", rule="bad argument")
    ax = _axes(ax)
    Q, g = np.asarray(comparison.queries), np.asarray(comparison.gain)
    if getattr(comparison, "draws", None):
        lo, hi = comparison.interval(0.9)["gain"]
        ax.fill_between(Q, lo, hi, color="C0", alpha=0.2, lw=0, label="90% interval")
    ax.plot(Q, g, color="C0", lw=1.8, label="gain, smaller - larger")
    ax.axhline(0.0, color="0.4", lw=0.8)
    for i, q in enumerate(comparison.crossovers):
        ax.axvline(q, color="crimson", ls=":", lw=1.2, label=f"crossover {q:.3g} queries" if i == 0 else None)
    hit = np.zeros(Q.size, dtype=bool)
    for h in (getattr(comparison, "small_bound_hit", None), getattr(comparison, "large_bound_hit", None)):
        if h is not None:
            hit |= np.asarray(h, dtype=bool)
    if hit.any():
        ax.scatter(Q[hit], g[hit], marker="x", s=22, color="crimson", zorder=5,
                   label=f"search bound ({comparison.search_bound:g}) binds")
    ax.set_xscale("log")
    ax.set_xlabel("queries served")
    ax.set_ylabel("accuracy gain, smaller - larger")
    ax.set_title(f"smaller vs larger models at {comparison.total_flops:.3g} total FLOPs")
    ax.legend(fontsize="small")
    return ax


@x64
def adaptive_vs_uniform(curves: Any, weights: Any = None, *, budgets: Any = None, k_min: int = 1,
                        ax: Any = None) -> Any:
    """Expected accuracy against the mean samples per query, for samples allocated per difficulty
    bin (:func:`~scalinglaws.optimize.allocate_samples`) and for the same k in every bin, the gain
    between them shaded. ``curves`` / ``weights`` / ``k_min`` as in ``allocate_samples``;
    ``budgets``: mean budgets to draw (default 1 to the shortest curve's end, about 24
    of them). Returns the Axes."""
    from .optimize import allocate_samples

    first = allocate_samples(curves, weights, budget=float(k_min), k_min=k_min)
    w = first.weights
    if budgets is None:
        top = _curve_end(curves)
        budgets = np.unique(np.round(np.geomspace(max(k_min, 1), top, 24)))
    b = np.atleast_1d(np.asarray(budgets, dtype=np.float64)).ravel()
    if b.size == 0 or not np.all(np.isfinite(b)) or np.any(b < k_min):
        raise LawError(f"`adaptive_vs_uniform(budgets=...)` must be finite and >= k_min = {k_min}, got {budgets!r}.",
                       rule="out of range")
    res = [allocate_samples(curves, w, budget=float(x), k_min=k_min) for x in b]
    adaptive = np.array([r.accuracy for r in res])
    uniform = np.array([r.uniform_accuracy for r in res])
    ax = _axes(ax)
    ax.fill_between(b, uniform, adaptive, color="C2", alpha=0.2, lw=0, label="gain from adapting")
    ax.plot(b, uniform, color="C0", lw=1.6, marker="o", ms=3, label="uniform: the same k for every query")
    ax.plot(b, adaptive, color="C2", lw=1.8, marker="s", ms=3, label=f"adaptive: k per difficulty bin ({w.size} bins)")
    ax.set_xscale("log")
    ax.set_xlabel("mean samples per query (budget)")
    ax.set_ylabel("expected accuracy")
    ax.set_title("difficulty-adaptive against uniform allocation")
    ax.legend(fontsize="small", loc="lower right")
    return ax


def _curve_end(curves: Any) -> int:
    """The largest k every curve reaches (callables: 256)."""
    ends = [len(c) - 1 for c in curves if not callable(c)]
    return max(min(ends), 1) if ends else 256


@x64
def posterior_pairs(sample: Any, params: Any = None, fig: Any = None, *, max_draws: int = 2000,
                    level: float = 0.9, log: Any = None) -> Any:
    """Pairwise scatter of the draws of a :class:`~scalinglaws.fitting.bootstrap.Bootstrap` or a
    :class:`~scalinglaws.fitting.bayes.Posterior` (lower triangle; at most ``max_draws``, evenly
    thinned), histograms on the diagonal with the ``level`` interval, and the point estimate (the
    fit) as a red star / line on every panel. ``params``: the public parameter names to draw
    (default all); ``log``: names drawn on a log axis (default those whose draws span more than a
    factor of 30 and are positive). Returns the Figure (``fig=`` to draw into one)."""
    if not (hasattr(sample, "public_draws") and hasattr(sample, "fit")):
        raise LawError(f"posterior_pairs: expected a Bootstrap or a Posterior, got {type(sample).__name__}.",
                       rule="bad argument")
    draws = sample.public_draws()
    names = list(draws) if params is None else list(params)
    missing = [n for n in names if n not in draws]
    if missing or len(names) < 2:
        raise LawError(f"posterior_pairs(params=...): need at least two of {list(draws)}, got {names}"
                       + (f" (unknown: {missing})" if missing else "") + ".", rule="bad argument")
    n = int(draws[names[0]].size)
    if n < 2:
        raise LawError(f"posterior_pairs: {n} usable draws; need at least 2.", rule="too few draws")
    keep = np.unique(np.linspace(0, n - 1, min(n, int(max_draws))).round().astype(int))
    X = {k: np.asarray(draws[k], dtype=np.float64)[keep] for k in names}
    point = sample.fit.params
    if log is None:
        log = [k for k in names if np.all(X[k] > 0) and X[k].max() > 30 * X[k].min()]
    plt = _pyplot()
    m = len(names)
    if fig is None:
        fig = plt.figure(figsize=(1.9 * m + 0.6, 1.9 * m + 0.6))
    axes = fig.subplots(m, m, squeeze=False)
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                x = X[xj]
                bins = np.geomspace(x.min(), x.max(), 25) if xj in log else 25
                ax.hist(x, bins=bins, color="C0", alpha=0.7)
                lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
                ax.axvspan(lo, hi, color="C0", alpha=0.12, lw=0)
                ax.axvline(point[xj], color="red", lw=1.2)
                ax.set_yticks([])
            else:
                ax.scatter(X[xj], X[yi], s=4, color="C0", alpha=0.35, edgecolors="none")
                ax.scatter([point[xj]], [point[yi]], marker="*", s=70, color="red", zorder=5)
                if yi in log:
                    ax.set_yscale("log")
            if xj in log:
                ax.set_xscale("log")
            if i == m - 1:
                ax.set_xlabel(xj)
            else:
                ax.tick_params(labelbottom=False)
            if j == 0 and i > 0:
                ax.set_ylabel(yi)
    kind = type(sample).__name__
    fig.suptitle(f"{kind} of the {sample.fit.law.name} fit: {len(keep)} draws (red: the point estimate)",
                 fontsize="medium")
    return fig
