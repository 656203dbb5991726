"""`Fit`: the immutable result of a fit, its report, and JSON save/load."""

from __future__ import annotations

import dataclasses
import functools
import datetime as _dt
import json
import math
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .._jax import jnp, x64
from .._report import notes_block
from ..errors import LawError
from .objectives import objective_from_spec, objective_spec
from ..laws.base import Custom, Law, law_from_name, predict_jit

FORMAT_VERSION = 1


@dataclass(frozen=True)
class StartsSummary:
    """Every start's outcome.

    ``initial`` holds all starts (internal parameters); ``screen_objective`` their
    objective after the screening steps (NaN when screening was skipped);
    ``refined_index`` which starts were refined, with their final parameters,
    objective, convergence flag and step count.
    """

    initial: np.ndarray
    screen_objective: np.ndarray
    refined_index: np.ndarray
    refined_theta: np.ndarray
    refined_objective: np.ndarray
    refined_converged: np.ndarray
    refined_steps: np.ndarray
    refined_finished: np.ndarray | None = None

    @property
    def n_finished(self) -> int:
        return int(self.refined_index.shape[0] if self.refined_finished is None else np.sum(self.refined_finished))

    @property
    def n_starts(self) -> int:
        return int(self.initial.shape[0])

    @property
    def n_refined(self) -> int:
        return int(self.refined_index.shape[0])


@functools.lru_cache(maxsize=1)
def _versions_cached() -> tuple[tuple[str, str], ...]:
    out = {"python": platform.python_version()}
    for pkg in ("scalinglaws", "jax", "jaxlib", "numpy", "scipy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return tuple(out.items())


def _versions() -> dict[str, str]:
    return dict(_versions_cached())


@dataclass(frozen=True)
class Fit:
    """A fitted law. ``params`` are the user-facing parameters (plain floats);
    ``internal`` the ones the solver moved; ``objective`` the minimised value."""

    law: Law
    objective_spec: Any
    params: dict[str, float]
    internal: dict[str, float]
    objective: float
    n_obs: int
    n_best_basin: int
    basin_rtol: float
    at_bound: tuple[str, ...]
    fixed: tuple[str, ...]
    data_hash: str
    input_range: dict[str, tuple[float, float]]
    extras: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    starts: StartsSummary | None = None
    not_identified: tuple[str, ...] = ()
    group: Any = None
    versions: dict[str, str] = field(default_factory=_versions)
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))

    # -- use ----------------------------------------------------------------------------
    @property
    def theta(self) -> np.ndarray:
        return np.array([self.internal[n] for n in self.law.param_names], dtype=np.float64)

    @x64
    def predict(self, data: Any = None, **columns: Any) -> np.ndarray:
        """Predictions of the fitted law for runs (``Runs``, a mapping of arrays,
        or keyword arrays such as ``params=..., tokens=...``)."""
        X = _inputs_of(self.law, data, columns)
        p = {k: jnp.asarray(v) for k, v in self.internal.items()}
        return np.asarray(predict_jit(self.law, p, X), dtype=np.float64)

    @property
    def n_refined(self) -> int:
        return 0 if self.starts is None else self.starts.n_refined

    @property
    def n_starts(self) -> int:
        return 0 if self.starts is None else self.starts.n_starts

    @property
    def n_finished(self) -> int:
        """How many refined starts ran on to convergence (the basin count is over these)."""
        return 0 if self.starts is None else self.starts.n_finished

    def report(self) -> str:
        """A readable multi-line summary (lmfit-style sections)."""
        head = f"[[Fit]]{f' group={self.group!r}' if self.group is not None else ''}"
        lines = [f"{head} law={self.law.name}  objective={self.objective_spec.name}"
                 f" (space={self.objective_spec.space}{', delta=%g' % self.objective_spec.delta if hasattr(self.objective_spec, 'delta') else ''})",
                 f"    observations: {self.n_obs}   objective value: {self.objective:.10g}",
                 f"    starts: {self.n_starts}   refined: {self.n_refined}   run to convergence: {self.n_finished}   "
                 f"in best basin (objective within rel {self.basin_rtol:g}): {self.n_best_basin}/{self.n_finished}",
                 "[[Parameters]]"]
        # public names that do not move when only the free internal parameters move are fixed
        probe = self.law.public({n: (1.0 if n in self.fixed else 2.0) for n in self.law.param_names})
        probe2 = self.law.public({n: (1.0 if n in self.fixed else 3.0) for n in self.law.param_names})
        fixed_public = {k for k in probe if probe[k] == probe2[k]} if self.fixed else set()
        for k, v in self.params.items():
            if k in self.not_identified:
                lines.append(f"    {k:>10} = not identified (the data do not move it; held at its start, {v:.6g})")
                continue
            flag = "  (fixed)" if k in self.fixed or k in fixed_public else ""
            lines.append(f"    {k:>10} = {v:.6g}{flag}")
        for k, v in self.extras.items():
            lines.append(f"    {k:>10} = {v:.6g}  (objective)")
        if self.at_bound:
            lines.append(f"    at a bound: {', '.join(self.at_bound)}")
        lines += notes_block(self.notes, self.warnings, sections=("[[Notes]]", "[[Warnings]]"), indent="    ")
        lines.append(f"[[Data]] hash {self.data_hash[:16]}...  ranges: " + ", ".join(
            f"{k} [{lo:.3g}, {hi:.3g}]" for k, (lo, hi) in self.input_range.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"Fit({self.law.name}: {ps}; objective={self.objective:.6g}, n={self.n_obs})"

    # -- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        law_cfg = self.law.config()
        if isinstance(self.law, Custom):
            law_cfg = {k: v for k, v in law_cfg.items()}
        d = {
            "format": FORMAT_VERSION,
            "law": {"name": self.law.name, "config": law_cfg, "custom": isinstance(self.law, Custom)},
            "objective": objective_spec(self.objective_spec),
            "params": self.params,
            "internal": self.internal,
            "objective_value": self.objective,
            "n_obs": self.n_obs,
            "n_best_basin": self.n_best_basin,
            "basin_rtol": self.basin_rtol,
            "n_starts": self.n_starts,
            "n_refined": self.n_refined,
            "n_finished": self.n_finished,
            "at_bound": list(self.at_bound),
            "not_identified": list(self.not_identified),
            "group": self.group,
            "fixed": list(self.fixed),
            "data_hash": self.data_hash,
            "input_range": {k: list(v) for k, v in self.input_range.items()},
            "extras": self.extras,
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "versions": self.versions,
            "created": self.created,
        }
        return d

    @x64
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=_json_default) + "\n")
        return path


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot write {type(o).__name__} to JSON")


@x64
def load_fit(path: str | Path, *, law: Law | None = None, group: str | None = None) -> Fit:
    """Read a fit written by :meth:`Fit.save`. Custom laws cannot be rebuilt from
    JSON (their function is code): pass the same law as ``law=``. A file of fits per group
    (``GroupFits.save``, ``scalinglaws fit --by``) holds one fit per group: ``group=`` picks one."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise LawError(f"{path}: no such fit file.", source=str(path), rule="missing file") from None
    except json.JSONDecodeError as exc:
        raise LawError(f"{path}: not a fit file written by scalinglaws (invalid JSON: {exc.msg} at line {exc.lineno}).",
                       source=str(path), rule="invalid fit file") from None
    if isinstance(d, dict) and isinstance(d.get("groups"), dict) and "by" in d:
        names = list(d["groups"])
        if group is None or str(group) not in d["groups"]:
            what = (f"has no group {group!r}" if group is not None else "holds one fit per group")
            raise LawError(f"{path}: {what} (fit by {d['by']!r}; groups: {', '.join(map(repr, names))}); pick one "
                           f"with load_fit(path, group={names[0]!r}) (CLI: scalinglaws optimize FIT_JSON "
                           f"--group {names[0]}).", source=str(path),
                           column=str(d["by"]), rule="group fits file", value=group)
        d = d["groups"][str(group)]
    elif group is not None:
        raise LawError(f"{path}: group={group!r} given, but the file holds a single fit, not fits per group.",
                       source=str(path), rule="not a group fits file", value=group)
    if not isinstance(d, dict) or "law" not in d or "internal" not in d:
        raise LawError(f"{path}: not a fit file written by scalinglaws (no 'law'/'internal' entries).",
                       source=str(path), rule="invalid fit file")
    if law is None:
        if d["law"].get("custom"):
            raise LawError(f"{path}: holds a custom law {d['law']['name']!r}; pass it as load_fit(path, law=...).",
                           source=str(path), rule="custom law")
        law = law_from_name(d["law"]["name"], **d["law"].get("config", {}))
    return Fit(
        law=law,
        objective_spec=objective_from_spec(d["objective"]),
        params={k: float(v) for k, v in d["params"].items()},
        internal={k: float(v) for k, v in d["internal"].items()},
        objective=float(d["objective_value"]),
        n_obs=int(d["n_obs"]),
        n_best_basin=int(d["n_best_basin"]),
        basin_rtol=float(d.get("basin_rtol", 1e-6)),
        at_bound=tuple(d.get("at_bound", ())),
        not_identified=tuple(d.get("not_identified", ())),
        group=d.get("group"),
        fixed=tuple(d.get("fixed", ())),
        data_hash=d["data_hash"],
        input_range={k: (float(v[0]), float(v[1])) for k, v in d.get("input_range", {}).items()},
        extras={k: float(v) for k, v in d.get("extras", {}).items()},
        notes=tuple(d.get("notes", ())),
        warnings=tuple(d.get("warnings", ())),
        starts=None,
        versions=d.get("versions", {}),
        created=d.get("created", ""),
    )


def _inputs_of(law: Law, data: Any, columns: Mapping[str, Any]) -> dict[str, Any]:
    if data is None:
        src = dict(columns)
    elif hasattr(data, "columns") and hasattr(data, "row_ids"):  # Runs
        src = {k: data.columns[k] for k in law.inputs if k in data.columns}
    elif isinstance(data, Mapping):
        src = dict(data)
    else:  # a DataFrame
        src = {k: data[k].to_numpy() for k in law.inputs if k in data}
    missing = [k for k in law.inputs if k not in src]
    if missing:
        raise LawError(f"law {law.name!r} needs input(s) {missing} to predict; got {sorted(src)}.",
                       column=missing[0], rule="missing column")
    return {k: jnp.asarray(np.asarray(src[k], dtype=np.float64)) for k in law.inputs}
