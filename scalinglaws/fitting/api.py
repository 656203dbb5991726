"""`fit(law, runs, ...)`: validate, build the starts, run the one batched solver, return an
immutable :class:`~scalinglaws.result.Fit` (or, with ``by=``, one per group).

Every dataset in a call (one, or one per group) goes into the same jitted solve: starts x
datasets, datasets of different sizes padded with weight 0.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .._jax import jax, jnp, x64
from ..errors import DataError, LawError
from ..laws.base import Law
from ..runs import Runs, as_runs, pooled_groups
from .result import Fit, StartsSummary
from . import solver
from .objectives import Huber, LeastSquares
from .solver import SolverConfig

BASIN_RTOL = 1e-6  # a refined start is "in the best basin" if its objective is within this of the best
IDENTIFIED_RTOL = 1e-12  # a Jacobian column this small (relative to the largest) means "not identified"


# ---------------------------------------------------------------------------------------
# One dataset, validated


@dataclass(frozen=True)
class Dataset:
    """The rows one fit sees: inputs, target and weights (float64), and where they came from."""

    X: dict[str, np.ndarray]
    y: np.ndarray
    w: np.ndarray
    runs: Runs
    label: str = ""

    @property
    def n(self) -> int:
        return int(self.y.shape[0])


def default_objective(law: Law):
    """Huber(delta=1e-3) on log residuals for a positive target; linear least squares for a law
    whose target may be zero or negative (log residuals would be undefined)."""
    return Huber() if getattr(law, "positive", True) else LeastSquares()


def _columns_needed(law: Law) -> list[str]:
    return list(dict.fromkeys(list(law.inputs) + [law.target]))


def coerce_runs(law: Law, runs: Any, fn: str = "fit") -> Runs:
    """The data of a fit as validated :class:`Runs` (as ``read_runs`` validates a file)."""
    if isinstance(runs, Mapping) and law.target in runs and np.ndim(runs[law.target]) != 1:
        raise LawError(f"`{fn}`: the target column {law.target!r} has shape {np.shape(runs[law.target])}; law "
                       f"{law.name!r} predicts one value per row, so the target must be 1-D.",
                       column=law.target, rule="target shape", value=np.shape(runs[law.target]))
    extra = [c for c in _columns_needed(law) if c not in ("weight",)]
    r = as_runs(runs, fn=fn, extra=extra)
    missing = [c for c in _columns_needed(law) if c not in r]
    if missing:
        raise LawError(
            f"{r.source}: law {law.name!r} needs column(s) {', '.join(repr(m) for m in missing)} which the data lacks; "
            f"available: {', '.join(r.names) or 'none'}. Map a column of yours with "
            f"columns={{'{missing[0]}': 'Your Column'}}.", source=r.source, column=missing[0], rule="missing column")
    return r


def dataset(law: Law, runs: Runs, objective: Any, weights: Any = None, label: str = "") -> Dataset:
    """Inputs, target and weights of ``runs`` for ``law``, checked against the objective."""
    source = runs.source
    X = {c: np.asarray(runs[c], dtype=np.float64) for c in law.inputs}
    y = np.asarray(runs[law.target], dtype=np.float64)
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
    elif "weight" in runs:
        w = np.asarray(runs["weight"], dtype=np.float64)
    else:
        w = np.ones_like(y)
    if w.shape != y.shape:
        raise LawError(f"`fit(weights=...)`: expected {y.shape[0]} weights (one per row), got shape {w.shape}.",
                       rule="bad weights", value=w.shape)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{source}: weight of row {int(runs.row_ids[i])} is {w[i]}; weights must be finite and >= 0.",
                        source=source, column="weight", row=int(runs.row_ids[i]), rule="bad weight",
                        value=float(w[i]))
    if objective.space == "log" and np.any(y <= 0):
        i = int(np.argmax(y <= 0))
        raise LawError(f"{source}: column {law.target!r}, row {int(runs.row_ids[i])}: value {y[i]} is not positive, "
                       f"but objective {objective.name!r} works on log residuals; use "
                       f"sl.LeastSquares() (linear space) for a target that may be zero or negative.",
                       source=source, column=law.target, row=int(runs.row_ids[i]), rule="not positive",
                       value=float(y[i]))
    return Dataset(X=X, y=y, w=w, runs=runs, label=label)


# ---------------------------------------------------------------------------------------
# Starts


@functools.lru_cache(maxsize=64)
def _grid(law: Law) -> np.ndarray:
    g = law.start_grid()
    g.flags.writeable = False
    return g


def grid_of(law: Law) -> np.ndarray:
    try:
        return _grid(law)
    except TypeError:  # unhashable law
        return law.start_grid()


def starts_for(law: Law, starts: Any, d: Dataset, fixed: Mapping[str, float]) -> np.ndarray:
    """Rows of internal parameters to start from (duplicates removed where they can arise)."""
    names = law.param_names
    dedupe = bool(fixed)
    if starts is None or (isinstance(starts, str) and starts == "default"):
        extra = law.data_starts(d.X, d.y)
        S0 = grid_of(law) if extra is None or not len(extra) else np.concatenate(
            [grid_of(law), np.asarray(extra, dtype=np.float64)], axis=0)
    elif isinstance(starts, str) and starts == "grid":
        S0 = grid_of(law)
    else:
        dedupe = True
        if isinstance(starts, Mapping):
            starts = [starts]
        if isinstance(starts, Sequence) and starts and isinstance(starts[0], Mapping):
            rows = []
            for s in starts:
                q = law.from_public(s)
                rows.append([q[n] for n in names])
            S0 = np.asarray(rows, dtype=np.float64)
        else:
            S0 = np.atleast_2d(np.asarray(starts, dtype=np.float64))
            if S0.ndim != 2 or S0.shape[1] != len(names):
                raise LawError(f"`fit(starts=...)`: each start needs {len(names)} values ({', '.join(names)}), "
                               f"got shape {S0.shape}.", rule="bad starts", value=S0.shape)
    if fixed:
        S0 = np.array(S0, dtype=np.float64)
        for i, n in enumerate(names):
            if n in fixed:
                S0[:, i] = fixed[n]
    if dedupe:
        S0 = np.unique(S0, axis=0)
    return S0


# ---------------------------------------------------------------------------------------
# Checks on the law and its parameters


def resolve_fixed(law: Law, fixed: Mapping[str, float] | None) -> dict[str, float]:
    """``fixed`` in internal names (public names accepted where the law maps them 1:1)."""
    fixed = dict(fixed or {})
    names = law.param_names
    out = {}
    for k, v in fixed.items():
        if k in names:
            out[k] = float(v)
            continue
        owners = [n for n in names if k in public_names_moved(law, n)]
        if len(owners) == 1 and public_names_moved(law, owners[0]) == (k,):
            probe = law.public({n: 0.5 for n in names})
            try:
                out[owners[0]] = float(law.from_public({**probe, k: float(v)})[owners[0]])
                continue
            except (ValueError, KeyError, LawError):
                pass
        raise LawError(f"`fit(fixed=...)`: {k!r}: not parameters of law {law.name!r} (internal names: "
                       f"{', '.join(names)}; public: {', '.join(law.public_names)}).", rule="unknown parameter",
                       value=k)
    return out


def public_names_moved(law: Law, internal: str, at: Mapping[str, float] | None = None) -> tuple[str, ...]:
    """The public parameter names that change when the internal parameter ``internal`` moves."""
    names = law.param_names
    base = {n: 0.5 for n in names} if at is None else dict(at)
    try:
        p0 = law.public(base)
        bumped = dict(base)
        bumped[internal] = base[internal] + 0.1 * (1.0 + abs(base[internal]))
        p1 = law.public(bumped)
    except (ValueError, OverflowError, ZeroDivisionError, KeyError):
        return (internal,)
    moved = tuple(k for k in p0 if k in p1 and p0[k] != p1[k])
    return moved or (internal,)


def _check_prediction_shape(law: Law, d: Dataset) -> None:
    try:
        _shape_checked(law, tuple((k, v.shape) for k, v in d.X.items()), d.n)
    except TypeError:  # an unhashable law
        _shape_checked.__wrapped__(law, tuple((k, v.shape) for k, v in d.X.items()), d.n)


@functools.lru_cache(maxsize=256)
def _shape_checked(law: Law, shapes: tuple, n: int) -> bool:
    d = Dataset(X={k: np.empty(s) for k, s in shapes}, y=np.empty(n), w=np.empty(n), runs=None)  # type: ignore[arg-type]
    names = law.param_names
    p = {n: jax.ShapeDtypeStruct((), jnp.float64) for n in names}
    X = {k: jax.ShapeDtypeStruct(v.shape, jnp.float64) for k, v in d.X.items()}
    try:
        out = jax.eval_shape(law.predict, p, X)
    except Exception as exc:  # a user's function may raise anything while tracing
        raise LawError(f"law {law.name!r}: predict(params, X) failed on the data's columns "
                       f"({', '.join(d.X)}): {type(exc).__name__}: {exc}", rule="law failed") from exc
    shape = tuple(getattr(out, "shape", ()))
    if shape != (d.n,):
        raise LawError(f"law {law.name!r}: predict returns shape {shape} for {d.n} rows; a law must return one "
                       f"prediction per row, shape ({d.n},).", rule="prediction shape", value=shape)
    return True


@functools.lru_cache(maxsize=64)
def _extras_fn(objective):
    return jax.jit(lambda r, w: objective.extras_arrays(r, w))


# ---------------------------------------------------------------------------------------
# The fit


def _pad(datasets: list[Dataset], starts: list[np.ndarray]):
    G = len(datasets)
    n = max(d.n for d in datasets)
    S = max(len(s) for s in starts)
    X = {k: np.empty((G, n)) for k in datasets[0].X}
    y = np.empty((G, n))
    w = np.zeros((G, n))
    U = np.empty((G, S, starts[0].shape[1]))
    for g, (d, s) in enumerate(zip(datasets, starts)):
        for k, v in d.X.items():
            X[k][g, :d.n] = v
            X[k][g, d.n:] = v[0]  # benign values under weight 0
        y[g, :d.n] = d.y
        y[g, d.n:] = d.y[0]
        w[g, :d.n] = d.w
        U[g, :len(s)] = s
        U[g, len(s):] = s[0]  # repeated start; never counted in the basin statistics
    return X, y, w, U


@x64
def fit_datasets(law: Law, datasets: list[Dataset], *, objective: Any, starts: Any = None,
                 fixed: Mapping[str, float] | None = None, solver_config: SolverConfig | None = None,
                 notes: Sequence[str] = (), stacklevel: int = 3) -> list[Fit]:
    """Fit ``law`` to every dataset in one batched solve; one :class:`Fit` per dataset."""
    cfg = solver_config or SolverConfig()
    names = law.param_names
    fixed = resolve_fixed(law, fixed)
    fixed_mask = np.array([n in fixed for n in names])
    n_free = int((~fixed_mask).sum()) + len(objective.extra_params)
    for d in datasets:
        n_eff = int(np.count_nonzero(d.w))
        if n_eff < n_free:
            where = f"{d.runs.source}{f' (group {d.label!r})' if d.label else ''}"
            raise LawError(f"{where}: {n_eff} run(s) with non-zero weight, fewer than the {n_free} free parameters "
                           f"of law {law.name!r} with objective {objective.name!r}; the fit is not identified.",
                           source=d.runs.source, rule="fewer rows than parameters", value=n_eff)
    _check_prediction_shape(law, datasets[0])
    S_list = [starts_for(law, starts, d, fixed) for d in datasets]
    X, y, w, U = _pad(datasets, S_list)
    out = solver.solve(law, objective, cfg, U, X, y, w, fixed_mask)
    fits = []
    extras_fn = _extras_fn(objective) if hasattr(objective, "extras_arrays") else None
    for g, d in enumerate(datasets):
        S_real = len(S_list[g])
        real = out["refined_index"][g] < S_real
        f = np.where(real, out["refined_f"][g], np.nan)
        if not np.any(np.isfinite(f)):
            raise LawError(f"{d.runs.source}: no start of law {law.name!r} reached a finite objective; check the data "
                           f"and the starts.", source=d.runs.source, rule="fit failed")
        j = int(np.nanargmin(f))
        best = float(f[j])
        theta = out["refined_theta"][g][j]
        internal = {n: float(theta[i]) for i, n in enumerate(names)}
        finished = out["refined_finished"][g] & real
        tol = max(BASIN_RTOL * abs(best), 1e-14 * d.n)  # absolute floor for noiseless data (optimum ~ 0)
        n_basin = int(np.sum(finished & (np.abs(f - best) <= tol)))
        n_finished = int(finished.sum())

        warns: list[str] = []
        at_bound = []
        for i, q in enumerate(law.parameters()):
            for bnd in (q.lower, q.upper):
                if np.isfinite(bnd) and abs(theta[i] - bnd) <= 1e-6 * max(1.0, abs(bnd)):
                    at_bound.append(q.name)
        if at_bound:
            warns.append(f"parameter(s) {', '.join(at_bound)} at a bound; the optimum may lie beyond it.")
        jn = out["jac_norm"][g] * np.maximum(1.0, np.abs(theta))
        scale = float(np.max(jn[~fixed_mask])) if (~fixed_mask).any() else 0.0
        unident = [n for i, n in enumerate(names)
                   if not fixed_mask[i] and (not np.isfinite(jn[i]) or jn[i] <= IDENTIFIED_RTOL * scale)]
        not_identified = tuple(dict.fromkeys(k for n in unident for k in public_names_moved(law, n, internal)))
        if not_identified:
            warns.append(f"parameter(s) {', '.join(not_identified)} not identified: the data do not move "
                         f"{'it' if len(not_identified) == 1 else 'them'} (a zero column of the Jacobian at the "
                         f"optimum), so the value is the start's, not a fit.")
        if n_basin < 2 and n_finished > 1:
            warns.append(f"only {n_basin} of {n_finished} finished starts reached the best objective; starts "
                         f"disagree, so the optimum may not be global.")
        if not bool(out["refined_done"][g][j]):
            warns.append(f"the best start did not converge within max_steps={cfg.max_steps} (objective still "
                         f"falling); raise SolverConfig(max_steps=...) or try other starts.")
        extras = {}
        if extras_fn is not None:
            extras = {k: float(v) for k, v in extras_fn(jnp.asarray(out["residuals"][g][:d.n]),
                                                       jnp.asarray(d.w)).items()}
        prefix = f"{law.name} fit{f' (group {d.label!r})' if d.label else ''}"
        for msg in warns:
            warnings.warn(f"{prefix}: {msg}", UserWarning, stacklevel=stacklevel)
        fits.append(Fit(
            law=law, objective_spec=objective, params=law.public(internal), internal=internal, objective=best,
            n_obs=d.n, n_best_basin=n_basin, basin_rtol=BASIN_RTOL, at_bound=tuple(at_bound), fixed=tuple(fixed),
            data_hash=d.runs.data_hash(),
            input_range={k: (float(np.min(v)), float(np.max(v))) for k, v in d.X.items()},
            extras=extras, notes=tuple(d.runs.notes) + tuple(notes), warnings=tuple(warns),
            not_identified=not_identified, group=d.label or None,
            starts=StartsSummary(initial=S_list[g], screen_objective=out["screen_f"][g][:S_real],
                                 refined_index=out["refined_index"][g][real], refined_theta=out["refined_theta"][g][real],
                                 refined_objective=f[real], refined_converged=out["refined_done"][g][real],
                                 refined_steps=out["refined_steps"][g][real], refined_finished=finished[real]),
        ))
    return fits


def _objective_notes(law: Law, objective: Any, given: bool) -> tuple[str, ...]:
    if given or getattr(law, "positive", True):
        return ()
    return (f"objective: least squares in linear space, the default for law {law.name!r} whose target "
            f"{law.target!r} may be zero or negative (pass objective= to choose another)",)


def _pooled_notes(r: Runs, weighted: bool) -> tuple[str, ...]:
    """Notes when one law is fitted to rows that the data mark as several groups or as several
    checkpoints of one run: legal, but rarely what a first fit means, so the report says so."""
    notes = []
    if (pooled := pooled_groups(r, "one law was fitted")) is not None:
        notes.append(pooled + " (fit(..., by='group') fits one law per group)")
    if "run" in r.columns and not weighted:
        _, counts = np.unique(r["run"].astype(str), return_counts=True)
        if (counts > 1).any():
            notes.append(f"{int((counts > 1).sum())} of {counts.size} runs in column 'run' have several rows "
                         f"(up to {int(counts.max())}, checkpoints?), each weighted as an independent run; "
                         "sl.fit_checkpoints (CLI: --min-fraction) weights every run as one")
    return tuple(notes)


def fit(law: Law, runs: Any, *, objective: Any = None, starts: Any = None, weights: Any = None,
        fixed: Mapping[str, float] | None = None, solver: SolverConfig | None = None, by: str | None = None,
        shared: Sequence[str] = ()) -> Any:
    """Fit ``law`` to ``runs``: all starts (and, with ``by=``, all groups) in one jitted, vmapped solve.

    Parameters
    ----------
    law : a :class:`~scalinglaws.laws.Law` (e.g. ``sl.laws.Chinchilla()``).
    runs : ``Runs`` from :func:`read_runs`, a file path, a DataFrame or a mapping of arrays. A
        DataFrame or mapping is validated as ``read_runs`` validates a file (errors name the
        column and row); columns a custom law reads may have any names.
    objective : ``Huber(delta=1e-3)`` on log residuals (summed) by default; for a law whose target
        may be zero or negative, linear ``LeastSquares()`` (the fit's notes say so). Also
        ``LeastSquares(space="log")`` and ``HuberLikelihood()`` (Epoch's).
    starts : ``None`` (the law's default grid plus data-derived starts), ``"grid"`` (the grid
        only), an array of internal parameter rows, or dicts of public (or internal) parameters.
    weights : per-run weights (default: the ``weight`` column, else ones).
    fixed : parameters held at given values (internal names, or public names of the same
        parameter where the law maps them 1:1).
    solver : a :class:`SolverConfig` (how many starts are refined, step caps, polish).
    by : a column (e.g. ``"group"``): fit one law per group in one batched solve and return a
        :class:`~scalinglaws.fitting.groups.GroupFits` mapping group -> Fit.
    shared : with ``by=``, parameters (e.g. ``("alpha", "beta")``) shared by every group,
        fitted jointly with the groups' own parameters.

    JAX computes in float64 inside this call without switching the rest of the process to it
    (see ``scalinglaws._jax``).
    """
    if not isinstance(law, Law):
        raise LawError(f"`fit(law, ...)`: law must be a Law such as sl.laws.Chinchilla(), got {type(law).__name__}.",
                       rule="bad law")
    if solver is not None and not isinstance(solver, SolverConfig):
        raise LawError(f"`fit(solver=...)`: expected a SolverConfig, got {type(solver).__name__}.", rule="bad solver")
    given = objective is not None
    objective = objective if given else default_objective(law)
    r = coerce_runs(law, runs)
    onotes = _objective_notes(law, objective, given)
    if by is None:
        if shared:
            raise LawError("`fit(shared=...)` shares parameters across groups; it needs by= (e.g. by='group').",
                           rule="shared without by")
        d = dataset(law, r, objective, weights)
        onotes = onotes + _pooled_notes(r, weighted=weights is not None or "weight" in r.columns)
        return fit_datasets(law, [d], objective=objective, starts=starts, fixed=fixed, solver_config=solver,
                            notes=onotes)[0]
    from .groups import fit_groups

    return fit_groups(law, r, by=by, shared=tuple(shared), objective=objective, starts=starts, weights=weights,
                      fixed=fixed, solver_config=solver, notes=onotes)
