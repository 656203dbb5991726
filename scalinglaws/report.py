"""A report a person opens: one self-contained HTML file about a fit.

:func:`write_report` (and ``scalinglaws report fit.json -o report.html``) writes one HTML file with
no external reference (inline CSS, figures as base64 PNG, no scripts from elsewhere). Its sections,
each a ``<section>`` with a stable ``id`` and a visible ``<h2>`` (:data:`SECTIONS`):

- ``fit``: the law, objective and a table of parameters with their estimates and, when the fit
  carries bootstrap draws, standard errors and intervals;
- ``figures``: loss against compute with the compute-optimal frontier (and its band when there are
  draws), isoFLOP profiles, residuals (with the runs), N*/D* and tokens per parameter against
  compute beside published laws;
- ``allocation``: :func:`~scalinglaws.optimize.compute_optimal` at several budgets (intervals with
  draws);
- ``data``: rows, ranges of N, D, C and loss, groups;
- ``notes``: every warning and note of the fit, the bootstrap and the allocation, and why a figure
  is missing when one is.

The runs come from ``runs=`` or, for a fit file saved by ``scalinglaws fit -o``, from the path and
column mapping saved in it. Without runs the data figures are left out and the report says so.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._jax import x64
from .errors import DataError, LawError, ScalingLawsError
from .runs import Runs, as_runs, read_runs

__all__ = ["write_report", "render_report", "Report", "SECTIONS", "DEFAULT_BUDGETS"]

#: section id -> (heading, colour of the heading's bar). The bar colours appear nowhere else in
#: the page (the figures use other palettes), so a screenshot can find each section by its colour.
SECTIONS = {
    "fit": ("Fitted parameters", "#1F3A93"),
    "figures": ("Figures", "#B03A2E"),
    "allocation": ("Compute-optimal allocation", "#117A65"),
    "data": ("Data", "#7D3C98"),
    "notes": ("Warnings and notes", "#9A7D0A"),
}
DEFAULT_BUDGETS = (1e20, 1e21, 1e22, 1e23, 1e24, 1e25)  # one per decade (literals: 10.0**23 != 1e23)


@dataclass(frozen=True)
class Report:
    """What :func:`render_report` put in the page: ``html`` (the text), ``figures`` (the ids of the
    figures drawn), ``omitted`` (figure -> why not), ``warnings`` and ``notes`` (as listed in its
    last section), ``runs_source`` (where the runs came from, or None)."""

    html: str
    figures: tuple[str, ...]
    omitted: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    runs_source: str | None = None


# --------------------------------------------------------------------------- inputs
def _load(fit_or_path: Any) -> tuple[Any, Any, dict[str, Any], str | None]:
    """(fit, bootstrap or None, the fit file's entries, fit file path or None)."""
    from .fitting.bootstrap import Bootstrap, load_bootstrap
    from .fitting.result import Fit, load_fit

    if isinstance(fit_or_path, Bootstrap):
        return fit_or_path.fit, fit_or_path, {}, None
    if isinstance(fit_or_path, Fit):
        return fit_or_path, None, {}, None
    if not isinstance(fit_or_path, (str, Path)):
        raise LawError(f"write_report(fit=...): expected a Fit, a Bootstrap or the path of a fit file, got "
                       f"{type(fit_or_path).__name__}.", rule="bad argument")
    path = Path(fit_or_path)
    if path.is_dir():
        raise LawError(f"{path}: is a folder, not a fit file written by 'scalinglaws fit -o'.",
                       source=str(path), rule="invalid fit file")
    fit = load_fit(path)  # LawError naming the file when it is missing or not a fit
    d = json.loads(path.read_text())
    bs = load_bootstrap(path, fit)  # None when the file holds no draws
    return fit, bs, d, str(path)


def _runs(runs: Any, saved: dict[str, Any], fit_path: str | None, notes: list[str],
          columns: Any = None, exclude: Any = None) -> tuple[Runs | None, str | None]:
    """The runs to show and where they came from; ``None`` when there are none (with a note).
    A file is read with ``columns``/``exclude`` when given, else with the mapping saved in the fit."""
    if columns is not None or exclude is not None:
        saved = dict(saved, columns=dict(columns or {}), exclude=list(exclude or ()))
    if runs is not None:
        if isinstance(runs, (str, Path)):
            p = Path(runs)
            if not p.is_file():
                raise DataError(f"{p}: no such runs file (write_report(runs=...)).", source=str(p),
                                rule="missing file")
            r = read_runs(p, columns=saved.get("columns") or None, exclude=saved.get("exclude") or ())
            src = str(p)
        else:
            r = as_runs(runs, fn="write_report")
            src = r.source
    else:
        saved_path = saved.get("path")
        if not saved_path:
            notes.append("no runs given and none saved in the fit file: the figures of the data (loss against "
                         "compute, isoFLOP profiles, residuals) and the data summary's ranges of the runs are left "
                         "out; pass the runs file (scalinglaws report FIT_JSON RUNS_FILE).")
            return None, None
        p = Path(saved_path)
        if not p.is_absolute() and fit_path is not None:
            p = Path(fit_path).parent / p
        if not p.is_file():
            raise DataError(f"{fit_path}: the runs file saved in it, {saved_path}, does not exist; pass the runs "
                            f"file explicitly (scalinglaws report FIT_JSON RUNS_FILE).", source=str(saved_path),
                            rule="missing file")
        r = read_runs(p, columns=saved.get("columns") or None, exclude=saved.get("exclude") or ())
        src = str(p)
        notes.append(f"runs read from {p}, the file saved in the fit file, with its column mapping.")
    k = int(saved.get("drop_highest_loss") or 0)
    if k and isinstance(runs, (str, Path, type(None))):
        r = r.drop_highest("loss", k)
        notes.append(f"the {k} highest losses dropped, as the fit did (--drop-highest-loss {k}).")
    return r, src


# --------------------------------------------------------------------------- formatting
def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _num(v: Any, digits: int = 4) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return _e(v)
    if not math.isfinite(f):
        return "n/a"
    if f != 0 and (abs(f) >= 1e5 or abs(f) < 1e-3):
        m, ex = f"{f:.{digits - 1}e}".split("e")
        one = m.rstrip("0").rstrip(".") if "." in m else m  # an exact power of ten: 10^k, not 1.000 x 10^k
        return (f"10<sup>{int(ex)}</sup>" if one == "1" else
                f"&minus;10<sup>{int(ex)}</sup>" if one == "-1" else f"{m}&times;10<sup>{int(ex)}</sup>")
    return f"{f:.{digits}g}"


def _table(head: Sequence[str] | None, rows: Sequence[Sequence[str]], cls: str) -> str:
    th = "" if head is None else "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}">{th}<tbody>{body}</tbody></table>'


def _section(sid: str, body: str) -> str:
    title, colour = SECTIONS[sid]
    return (f'<section id="{sid}"><div class="bar" style="background:{colour}"></div>'
            f'<h2 style="color:{colour}">{_e(title)}</h2>{body}</section>')


# --------------------------------------------------------------------------- sections
def _fit_section(fit: Any, bs: Any, level: float, saved_fit: dict[str, Any]) -> str:
    spec = fit.objective_spec
    n_finished = fit.n_finished or int(saved_fit.get("n_finished") or 0)
    n_starts = fit.n_starts or int(saved_fit.get("n_starts") or 0)
    delta = f", delta {spec.delta:g}" if hasattr(spec, "delta") else ""
    meta = [("law", _e(fit.law.name)), ("formula", _e(fit.law.describe())),
            ("objective", _e(f"{spec.name} on {spec.space} residuals{delta}")),
            ("objective value", _num(fit.objective, 8)), ("observations", _e(fit.n_obs)),
            ("starts", _e(f"{n_starts:,} starts; {fit.n_best_basin} of the {n_finished} run to convergence in the "
                          f"best basin (objective within relative {fit.basin_rtol:g})") if n_finished else "not recorded")]
    if bs is not None:
        meta.append(("bootstrap", _e(f"{bs.n} resamples of {bs.unit} (seed {bs.seed}), {bs.n_failed} failed")))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
    head = ["parameter", "estimate"]
    rows = []
    for k, v in fit.params.items():
        flag = ""
        if k in fit.not_identified:
            flag = ' <span class="flag">not identified</span>'
        elif k in fit.at_bound:
            flag = ' <span class="flag">at a bound</span>'
        elif k in fit.fixed:
            flag = ' <span class="flag">fixed</span>'
        rows.append([f"<code>{_e(k)}</code>{flag}", _num(v, 6)])
    se = None
    cv = saved_fit.get("curvature")
    if bs is not None and int(np.sum(bs.ok)) >= 2:
        se, ci = bs.se(), bs.interval(level)
        ci95 = bs.interval(0.95) if level != 0.95 else None
        head += ["s.e. (bootstrap)", f"{level:.0%} interval"] + (["95% interval"] if ci95 else [])
        for row, k in zip(rows, fit.params):
            row += [_num(se[k]), f"[{_num(ci[k][0])}, {_num(ci[k][1])}]"]
            if ci95:
                row.append(f"[{_num(ci95[k][0])}, {_num(ci95[k][1])}]")
    elif isinstance(cv, dict) and cv.get("se"):  # 'scalinglaws fit --curvature -o': normal-approximation s.e.
        se = {k: (np.nan if v is None else float(v)) for k, v in cv["se"].items()}
        ci = {k: tuple(np.nan if x is None else float(x) for x in v) for k, v in (cv.get("interval") or {}).items()}
        head += ["s.e. (curvature)", "95% interval (normal)"]
        for row, k in zip(rows, fit.params):
            row += [_num(se.get(k, np.nan)), f"[{_num(ci[k][0])}, {_num(ci[k][1])}]" if k in ci else "n/a"]
    extra = "" if se is not None else (
        '<p class="hint">No bootstrap draws in this fit: make them with '
        "<code>scalinglaws fit RUNS --bootstrap 1000 -o fit.json</code> (or <code>--curvature</code>) to see "
        "standard errors and intervals.</p>")
    return f'<dl class="meta">{dl}</dl>' + _table(head, rows, "params") + extra


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(fit: Any, bs: Any, runs: Runs | None, level: float, budgets: np.ndarray,
             omitted: dict[str, str]) -> list[tuple[str, str, str]]:
    """(id, caption, base64 PNG) of each figure drawn; the ones that cannot be drawn go to ``omitted``."""
    from matplotlib.figure import Figure

    from . import plot

    lo = min(float(budgets.min()), float(np.min(runs["flops"])) if runs is not None and "flops" in runs else np.inf)
    hi = float(budgets.max())
    todo = []
    if runs is not None:
        todo += [("fig-loss-frontier", "Loss against training compute: the runs and the compute-optimal loss L*(C)"
                  + (f", with its {level:.0%} bootstrap band" if bs is not None else ""),
                  lambda ax: plot.plot_loss_frontier(bs if bs is not None else fit, runs, ax=ax, level=level)),
                 ("fig-isoflop", "IsoFLOP profiles: the runs by budget, each budget's parabola and minimum "
                  "(Approach 2) and the fitted law's profiles and optima", lambda ax: plot.isoflop(runs, fit, ax=ax)),
                 ("fig-residuals", "Residuals of the fit against training compute",
                  lambda ax: plot.plot_residuals(fit, runs, ax=ax)),
                 ("fig-residuals-params", "Residuals of the fit against model size",
                  lambda ax: plot.plot_residuals(fit, runs, ax=ax, against="params"))]
    todo += [("fig-frontier", "Compute-optimal N* and D* against compute beside Hoffmann et al. (2022)",
              lambda ax: plot.plot_frontier(fit, flops_range=(lo / 10, hi), ax=ax)),
             ("fig-tokens-per-param", "Compute-optimal tokens per parameter beside Hoffmann et al. (2022), "
              "Besiroglu et al. (2024) and Kaplan et al. (2020)",
              lambda ax: plot.plot_tokens_per_param(fit, flops_range=(lo / 10, hi), ax=ax))]
    out = []
    for fid, caption, draw in todo:
        fig = Figure(figsize=(6.0, 4.2), layout="constrained")
        try:
            with warnings.catch_warnings():  # the figures extrapolate on purpose and mark it
                warnings.simplefilter("ignore", UserWarning)
                draw(fig.add_subplot())
        except ScalingLawsError as exc:
            omitted[fid] = str(exc)
            continue
        out.append((fid, caption, _png(fig)))
    return out


def _allocation_section(fit: Any, bs: Any, budgets: np.ndarray, level: float, warns: list[str]) -> str:
    from .optimize import compute_optimal

    try:
        alloc = compute_optimal(bs if bs is not None else fit, flops=budgets)
    except ScalingLawsError as exc:
        warns.append(f"allocation: not computed: {exc}")
        return f'<p class="hint">No compute-optimal allocation for this law: {_e(exc)}</p>'
    warns += [f"allocation: {w}" for w in alloc.warnings]
    iv = alloc.interval(level) if getattr(alloc, "draws", None) is not None else None
    keys = ("params", "tokens", "tokens_per_param", "loss")
    head = ["budget C (FLOPs)", "N* (parameters)", "D* (tokens)", "D*/N*", "loss"]
    rows = []
    for j, r in enumerate(alloc.rows()):
        row = [_num(r["flops"], 3)]
        for k in keys:
            cell = _num(r[k])
            if iv is not None:
                a, b = (float(np.atleast_1d(x)[j]) for x in iv[k])
                cell += f'<br><span class="ci">[{_num(a, 3)}, {_num(b, 3)}]</span>'
            row.append(cell)
        rows.append(row)
    lead = (f"<p>The loss-minimising split of each training budget under C = 6ND ({_e(alloc.method)})"
            + (f"; below each value its {level:.0%} interval over the bootstrap draws." if iv is not None else ".")
            + "</p>")
    return lead + _table(head, rows, "alloc")


def _data_section(fit: Any, runs: Runs | None, src: str | None) -> str:
    rows = []
    if runs is not None:
        rows.append(["source", _e(src or runs.source)])
        rows.append(["rows", _e(f"{len(runs):,}") + (f" (the fit used {fit.n_obs:,})" if len(runs) != fit.n_obs else "")])
        for c, label in (("params", "parameters N"), ("tokens", "tokens D"), ("flops", "training FLOPs C"),
                         (fit.law.target, fit.law.target)):
            if c in runs and not any(r[0] == label for r in rows):
                v = np.asarray(runs[c], dtype=np.float64)
                rows.append([label, f"{_num(v.min(), 3)} to {_num(v.max(), 3)}"])
        if "group" in runs:
            g, n = np.unique(np.asarray(runs["group"]).astype(str), return_counts=True)
            rows.append(["groups", _e(f"{len(g)}: ") + ", ".join(f"{_e(a)} ({b})" for a, b in zip(g, n))])
        else:
            rows.append(["groups", "none (one table)"])
    else:
        rows.append(["source", "no runs available (the fit's own record below)"])
        rows.append(["rows", _e(f"{fit.n_obs:,} (in the fit)")])
        for c, (lo, hi) in fit.input_range.items():
            rows.append([_e(c), f"{_num(lo, 3)} to {_num(hi, 3)}"])
    rows.append(["data hash", f"<code>{_e(fit.data_hash[:16])}</code>"])
    return _table(None, rows, "data")


def _notes_section(warns: Sequence[str], notes: Sequence[str]) -> str:
    def ul(items, cls):
        return f'<ul class="{cls}">' + "".join(f"<li>{_e(x)}</li>" for x in items) + "</ul>"

    w = ul(warns, "warnings") if warns else '<p class="hint">No warnings.</p>'
    n = ul(notes, "notes") if notes else '<p class="hint">No notes.</p>'
    return f"<h3>Warnings ({len(warns)})</h3>{w}<h3>Notes ({len(notes)})</h3>{n}"


_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;background:#fff;margin:0;
 line-height:1.4;font-size:15px}
main{max-width:1120px;margin:0 auto;padding:16px 24px 40px}
header h1{font-size:26px;margin:8px 0 2px}
header p{margin:2px 0;color:#555}
nav{margin:10px 0 4px;font-size:14px}
nav a{margin-right:14px;color:#1F3A93;text-decoration:none}
section{margin:22px 0 8px}
.bar{height:10px;width:100%;border-radius:2px}
h2{font-size:21px;margin:6px 0 10px}
h3{font-size:16px;margin:12px 0 4px}
table{border-collapse:collapse;margin:6px 0 8px;font-variant-numeric:tabular-nums}
th,td{padding:4px 12px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}
th{background:#f3f3f3;font-weight:600}
td:first-child,th:first-child{text-align:left}
table.data td{text-align:left}
.ci{color:#666;font-size:12.5px}
.flag{color:#9c2700;font-size:12px;border:1px solid #d9a08f;border-radius:3px;padding:0 4px;margin-left:6px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:0 0 8px}
dl.meta dt{color:#555}dl.meta dd{margin:0}
.hint{color:#666;font-size:14px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:14px}
figure{margin:0;border:1px solid #e4e4e4;border-radius:4px;padding:6px;background:#fff}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:13px;color:#444;margin-top:4px}
ul.warnings li{color:#8a3b00}
footer{color:#777;font-size:12.5px;margin-top:26px}
"""

# records each figure's rendered size on the element (a browser's --dump-dom shows it; nothing else uses it)
_SCRIPT = """window.addEventListener("load",function(){document.querySelectorAll("figure img").forEach(function(e){
var r=e.getBoundingClientRect();e.setAttribute("data-rendered-width",Math.round(r.width));
e.setAttribute("data-rendered-height",Math.round(r.height));});});"""


# --------------------------------------------------------------------------- entry points
@x64
def render_report(fit: Any, runs: Any = None, *, budgets: Sequence[float] = DEFAULT_BUDGETS, level: float = 0.9,
                  title: str | None = None, columns: Any = None, exclude: Any = None) -> Report:
    """The report's HTML (a :class:`Report`) for ``fit``: a :class:`~scalinglaws.fitting.result.Fit`,
    a :class:`~scalinglaws.fitting.bootstrap.Bootstrap` (intervals from its draws), or the path of a
    fit file saved by ``scalinglaws fit -o`` (its bootstrap draws, runs path and column mapping are
    used). ``runs``: the runs (a path, a ``Runs``, a DataFrame or a dict; default: the file saved in
    the fit file; a file is read with the column mapping saved in the fit file unless ``columns=`` /
    ``exclude=`` are given, as :func:`~scalinglaws.runs.read_runs` takes them). ``budgets``: training
    FLOPs for the allocation table; ``level``: the intervals' level. Raises LawError / DataError naming the file for a missing or invalid fit or runs file."""
    if not (isinstance(level, (int, float)) and 0 < float(level) < 1):
        raise LawError(f"write_report(level=...) must be in (0, 1), got {level!r}.", rule="bad argument", value=level)
    b = np.asarray(budgets, dtype=np.float64).reshape(-1)
    if b.size == 0 or not np.all(np.isfinite(b) & (b > 0)):
        raise LawError(f"write_report(budgets=...) must be positive finite FLOPs, got {list(budgets)!r}.",
                       rule="bad argument", value=list(budgets))
    fit_, bs, saved_fit, fit_path = _load(fit)
    saved = saved_fit.get("read_runs") or {}
    notes: list[str] = []
    runs_, src = _runs(runs, saved, fit_path, notes, columns, exclude)
    warns = [f"fit: {w}" for w in fit_.warnings]
    if bs is not None:
        warns += [f"bootstrap: {w}" for w in bs.warnings]
        if bs.n_failed:
            warns.append(f"bootstrap: {bs.n_failed} of {bs.n} refits failed; intervals use the other {bs.n - bs.n_failed}.")
    if runs_ is not None and runs_.data_hash() != fit_.data_hash:
        warns.append(f"data: the runs shown ({src or runs_.source}, {len(runs_):,} rows) are not the ones the fit was "
                     f"made from ({fit_.n_obs:,} rows; the data hashes differ).")
    omitted: dict[str, str] = {}
    alloc_html = _allocation_section(fit_, bs, b, float(level), warns)
    figs = _figures(fit_, bs, runs_, float(level), b, omitted)
    warns += [f"figure {k} not drawn: {v}" for k, v in omitted.items()]
    notes += [f"fit: {n}" for n in fit_.notes] + ([f"bootstrap: {n}" for n in bs.notes] if bs is not None else [])
    fig_html = '<div class="grid">' + "".join(
        f'<figure id="{fid}"><img alt="{_e(cap)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(cap)}</figcaption></figure>" for fid, cap, data in figs) + "</div>"
    head = title or f"Scaling-law fit: {fit_.law.name}"
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sub = [f"fit file {_e(fit_path)}" if fit_path else "fit object", f"fitted {_e(fit_.created or 'unknown')}",
           f"report written {when}"]
    nav = "".join(f'<a href="#{k}">{_e(v[0])}</a>' for k, v in SECTIONS.items())
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in (fit_.versions or {}).items())
    body = (_section("fit", _fit_section(fit_, bs, float(level), saved_fit)) + _section("figures", fig_html)
            + _section("allocation", alloc_html) + _section("data", _data_section(fit_, runs_, src))
            + _section("notes", _notes_section(warns, notes)))
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(head)}</title><style>{_CSS}</style></head><body><main>"
            f"<header><h1>{_e(head)}</h1><p>{' &middot; '.join(sub)}</p></header><nav>{nav}</nav>{body}"
            f"<footer>Made by scalinglaws ({versions}).</footer></main><script>{_SCRIPT}</script></body></html>\n")
    return Report(html=page, figures=tuple(f[0] for f in figs), omitted=omitted, warnings=tuple(warns),
                  notes=tuple(notes), runs_source=src)


def write_report(fit: Any, runs: Any = None, out: str | Path = "report.html", **kwargs: Any) -> Report:
    """Write :func:`render_report`'s page to ``out`` (one self-contained HTML file) and return the
    :class:`Report`. ``fit`` and ``runs`` as for :func:`render_report`, keywords likewise."""
    out = Path(out)
    if out.is_dir():
        raise DataError(f"write_report(out=...): {out} is a folder; give a file name such as report.html.",
                        source=str(out), rule="bad output")
    rep = render_report(fit, runs, **kwargs)
    out.write_text(rep.html, encoding="utf-8")
    return rep
