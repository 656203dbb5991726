"""`fit(law, runs, ...)`: validate, build the starts, run the batched solver,
return an immutable :class:`~scalinglaws.result.Fit`."""

from __future__ import annotations

import hashlib
import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import LawError
from ..laws.base import Law
from .result import Fit, StartsSummary
from . import solver
from .objectives import Huber

BASIN_RTOL = 1e-6  # a refined start is "in the best basin" if its objective is within this of the best


def _table(law: Law, runs: Any) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None, str, tuple[str, ...], str]:
    """(inputs, target, weights, data hash, notes, source name) from Runs or a mapping."""
    if hasattr(runs, "columns") and hasattr(runs, "row_ids"):  # a Runs
        cols, notes, source = runs.columns, tuple(runs.notes), runs.source
    elif isinstance(runs, Mapping):
        cols, notes, source = runs, (), "<mapping>"
    elif hasattr(runs, "to_dict") and hasattr(runs, "columns"):  # DataFrame
        from ..runs import read_runs

        r = read_runs(runs)
        cols, notes, source = r.columns, tuple(r.notes), r.source
    else:
        raise LawError(f"`fit(law, runs)`: runs must be a Runs (from read_runs), a DataFrame or a mapping of "
                       f"arrays; got {type(runs).__name__}.", rule="bad runs")
    needed = list(law.inputs) + [law.target]
    missing = [c for c in needed if c not in cols]
    if missing:
        raise LawError(
            f"{source}: law {law.name!r} needs column(s) {', '.join(repr(m) for m in missing)} which the data lacks; "
            f"available: {', '.join(sorted(cols))}.", source=source, column=missing[0], rule="missing column")
    X = {}
    for c in needed:
        a = np.asarray(cols[c], dtype=np.float64)
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.argmax(bad))
            raise LawError(f"{source}: column {c!r}, row {i}: value {a[i]} is not finite.", source=source,
                           column=c, row=i, rule="non-finite value", value=float(a[i]))
        X[c] = a
    y = X.pop(law.target)
    w = np.asarray(cols["weight"], dtype=np.float64) if "weight" in cols else None
    h = hashlib.sha256()
    for k in sorted(X) + [law.target]:
        h.update(k.encode())
        h.update(np.ascontiguousarray(X[k] if k in X else y).tobytes())
    return X, y, w, h.hexdigest(), notes, source


def _starts_array(law: Law, starts: Any, X, y) -> np.ndarray:
    if starts is None or (isinstance(starts, str) and starts == "default"):
        return law.start_grid(X, y)
    if isinstance(starts, str) and starts == "grid":
        return law.start_grid()
    if isinstance(starts, Mapping):
        starts = [starts]
    if isinstance(starts, Sequence) and starts and isinstance(starts[0], Mapping):
        rows = []
        for s in starts:
            q = law.from_public(s)
            rows.append([q[n] for n in law.param_names])
        return np.asarray(rows, dtype=np.float64)
    arr = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    if arr.shape[1] != len(law.param_names):
        raise LawError(f"`fit(starts=...)`: each start needs {len(law.param_names)} values "
                       f"({', '.join(law.param_names)}), got shape {arr.shape}.", rule="bad starts")
    return arr


def fit(law: Law, runs: Any, *, objective: Any = None, starts: Any = None, weights: Any = None,
        fixed: Mapping[str, float] | None = None, refine: int = 64, screen_steps: int = 4,
        max_steps: int = 2000, polish: int = 4) -> Fit:
    """Fit ``law`` to ``runs``; all starts are solved in one jitted, vmapped batch.

    Parameters
    ----------
    law : a :class:`~scalinglaws.laws.Law` (e.g. ``sl.laws.Chinchilla()``).
    runs : ``Runs`` from :func:`read_runs`, a DataFrame with canonical columns,
        or a mapping of arrays (any column names, for custom laws).
    objective : ``Huber(delta=1e-3)`` on log residuals by default (summed);
        also ``LeastSquares(space=...)`` and ``HuberLikelihood()`` (Epoch's).
    starts : ``None`` (the law's default grid plus data-derived starts),
        ``"grid"`` (the grid only), an array of internal parameter rows, or
        dicts of public (or internal) parameters.
    weights : per-run weights (default: the ``weight`` column, else ones).
    fixed : parameters held at given values (internal names, or public
        names of the same parameter where the law maps them 1:1).
    refine, screen_steps : every start takes ``screen_steps`` LM steps, then the
        best ``refine`` by objective are run to convergence (``refine=None``
        refines every start: slower, full basin statistics).
    max_steps, polish : step cap for refinement; how many of the best refined
        starts get the exact-Hessian Newton polish.
    """
    if not isinstance(law, Law):
        raise LawError(f"`fit(law, ...)`: law must be a Law such as sl.laws.Chinchilla(), got {type(law).__name__}.",
                       rule="bad law")
    objective = objective if objective is not None else Huber()
    X, y, w_col, data_hash, notes, source = _table(law, runs)
    w = np.asarray(weights, dtype=np.float64) if weights is not None else w_col
    if w is None:
        w = np.ones_like(y)
    if w.shape != y.shape:
        raise LawError(f"`fit(weights=...)`: expected {y.shape[0]} weights, got shape {w.shape}.", rule="bad weights")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        i = int(np.argmax(~np.isfinite(w) | (w < 0)))
        raise LawError(f"{source}: weight of row {i} is {w[i]}; weights must be finite and >= 0.",
                       source=source, column="weight", row=i, rule="bad weight", value=float(w[i]))
    if objective.space == "log" and np.any(y <= 0):
        i = int(np.argmax(y <= 0))
        raise LawError(f"{source}: column {law.target!r}, row {i}: value {y[i]} is not positive, but objective "
                       f"{objective.name!r} works on log residuals.", source=source, column=law.target, row=i,
                       rule="not positive", value=float(y[i]))

    names = law.param_names
    fixed = dict(fixed or {})
    unknown = [k for k in fixed if k not in names]
    if unknown:
        raise LawError(f"`fit(fixed=...)`: {unknown} are not parameters of {law.name!r} (internal names: "
                       f"{', '.join(names)}).", rule="unknown parameter")
    fixed_mask = np.array([n in fixed for n in names])
    n_free = int((~fixed_mask).sum()) + len(objective.extra_params)
    n_eff = int(np.count_nonzero(w))
    if n_eff < n_free:
        raise LawError(f"{source}: {n_eff} run(s) with non-zero weight, fewer than the {n_free} free parameters of "
                       f"law {law.name!r} with objective {objective.name!r}; the fit is not identified.",
                       source=source, rule="fewer rows than parameters", value=n_eff)

    S0 = _starts_array(law, starts, X, y)
    for i, n in enumerate(names):
        if n in fixed:
            S0[:, i] = fixed[n]
    S0 = np.unique(S0, axis=0)
    cfg = solver.SolverConfig(screen_steps=screen_steps, refine=len(S0) if refine is None else int(refine),
                              max_steps=max_steps, polish=polish)
    out = solver.run(law, objective, cfg, S0, X, y, w, fixed_mask)

    f = out["refined_f"]
    if not np.any(np.isfinite(f)):
        raise LawError(f"{source}: no start of law {law.name!r} reached a finite objective; check the data and "
                       f"the starts.", source=source, rule="fit failed")
    j = int(np.nanargmin(f))
    best = float(f[j])
    theta = out["refined_theta"][j]
    internal = {n: float(theta[i]) for i, n in enumerate(names)}
    # relative tolerance, with an absolute floor for (near-)noiseless data whose optimum is ~0
    n_basin = int(np.sum(np.abs(f - best) <= max(BASIN_RTOL * abs(best), 1e-14 * len(y))))

    params_spec = law.parameters()
    at_bound = []
    for i, q in enumerate(params_spec):
        for bnd in (q.lower, q.upper):
            if np.isfinite(bnd) and abs(theta[i] - bnd) <= 1e-6 * max(1.0, abs(bnd)):
                at_bound.append(q.name)
    warns = []
    if at_bound:
        warns.append(f"parameter(s) {', '.join(at_bound)} at a bound; the optimum may lie beyond it.")
    if n_basin < 2 and len(S0) > 1:
        warns.append(f"only {n_basin} of {len(f)} refined starts reached the best objective; starts disagree, "
                     f"so the optimum may not be global.")
    if not bool(out["refined_done"][j]):
        warns.append(f"the best start did not converge within max_steps={max_steps} (objective still falling); "
                     f"raise max_steps or try other starts.")
    r = solver.residuals(law, objective, theta, X, y)
    extras = objective.extras(r, w) if hasattr(objective, "extras") else {}
    for msg in warns:
        warnings.warn(f"{law.name} fit: {msg}", UserWarning, stacklevel=2)

    return Fit(
        law=law, objective_spec=objective, params=law.public(internal), internal=internal, objective=best,
        n_obs=int(len(y)), n_best_basin=n_basin, basin_rtol=BASIN_RTOL, at_bound=tuple(at_bound),
        fixed=tuple(fixed), data_hash=data_hash,
        input_range={k: (float(np.min(v)), float(np.max(v))) for k, v in X.items()},
        extras=extras, notes=notes, warnings=tuple(warns),
        starts=StartsSummary(initial=S0, screen_objective=out["screen_f"], refined_index=out["refined_index"],
                             refined_theta=out["refined_theta"], refined_objective=f,
                             refined_converged=out["refined_done"], refined_steps=out["refined_steps"]),
    )
