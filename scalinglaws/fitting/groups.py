"""One law per group in one batched solve (``sl.fit(law, runs, by="group")``), optionally with
parameters shared by every group (``shared=("alpha", "beta")``).

Independent groups are datasets of the one solver's batch (padded to the largest group, weight 0
on the padding), so the groups cost one compile and one call. Shared parameters need a joint
problem: the groups' own fits give the starts, then a *stacked* law (the shared parameters once,
every other parameter once per group) is fitted to all rows at once by the same solver.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .._jax import jnp, x64
from .._report import notes_block
from ..errors import LawError
from ..laws.base import Law, Param
from ..runs import Runs
from .result import Fit, _json_default
from .solver import SolverConfig


@dataclass(frozen=True)
class GroupFits(Mapping):
    """group -> :class:`Fit`, from ``sl.fit(law, runs, by=...)``.

    ``objective`` is the total over the groups (the joint objective when parameters are
    shared); ``shared`` names the shared parameters; ``rows()`` is the combined table.
    """

    fits: dict[Any, Fit]
    by: str
    shared: tuple[str, ...] = ()
    objective: float = float("nan")
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def __getitem__(self, key: Any) -> Fit:
        try:
            return self.fits[key]
        except KeyError:
            raise KeyError(f"no group {key!r}; the groups are: {', '.join(map(repr, self.fits))}") from None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fits)

    def __len__(self) -> int:
        return len(self.fits)

    @property
    def law(self) -> Law:
        return next(iter(self.fits.values())).law

    def rows(self) -> list[dict[str, Any]]:
        """One row per group: the group, its size, objective and public parameters."""
        return [{self.by: g, "n_obs": f.n_obs, "objective": f.objective, **f.params,
                 "warnings": len(f.warnings)} for g, f in self.fits.items()]

    def report(self) -> str:
        names = list(next(iter(self.fits.values())).params)
        head = f"{self.by:>12}  {'n':>5}  {'objective':>12}  " + "  ".join(f"{n:>10}" for n in names)
        lines = [f"[[GroupFits]] law={self.law.name}  by={self.by}  groups={len(self)}"
                 + (f"  shared={', '.join(self.shared)}" if self.shared else "")
                 + f"  total objective={self.objective:.10g}", head, "-" * len(head)]
        for g, f in self.fits.items():
            lines.append(f"{str(g)[:12]:>12}  {f.n_obs:>5}  {f.objective:>12.6g}  "
                         + "  ".join(f"{f.params[n]:>10.5g}" for n in names))
        group_warns = [f"group {g!r}: {w}" for g, f in self.fits.items() for w in f.warnings]
        lines += notes_block(self.notes, tuple(self.warnings) + tuple(group_warns),
                             sections=("[[Notes]]", "[[Warnings]]"), indent="    ")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "shared": list(self.shared), "objective": self.objective, "notes": list(self.notes),
                "warnings": list(self.warnings), "groups": {str(g): f.to_dict() for g, f in self.fits.items()}}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=_json_default) + "\n")
        return path

    def __repr__(self) -> str:
        return f"GroupFits({self.law.name} by {self.by!r}: {len(self)} groups, objective={self.objective:.6g})"


# ---------------------------------------------------------------------------------------
# The stacked law for shared parameters


@dataclass(frozen=True)
class Stacked(Law):
    """``base`` with the ``shared`` internal parameters common to all ``n_groups`` groups and
    every other parameter once per group (named ``name[g]``); the row's group is the input
    column ``_group`` (0 .. n_groups - 1)."""

    base: Law = None  # type: ignore[assignment]
    n_groups: int = 1
    shared: tuple[str, ...] = ()

    name = "stacked"

    @property
    def target(self):  # type: ignore[override]
        return self.base.target

    @property
    def inputs(self):  # type: ignore[override]
        return tuple(self.base.inputs) + ("_group",)

    @property
    def positive(self):  # type: ignore[override]
        return getattr(self.base, "positive", True)

    def parameters(self):
        out = []
        for q in self.base.parameters():
            if q.name in self.shared:
                out.append(q)
        for g in range(self.n_groups):
            for q in self.base.parameters():
                if q.name not in self.shared:
                    out.append(Param(f"{q.name}[{g}]", grid=q.grid, lower=q.lower, upper=q.upper, doc=q.doc))
        return tuple(out)

    def per_row(self, p, X):
        idx = X["_group"].astype(jnp.int32)
        out = {}
        for n in self.base.param_names:
            if n in self.shared:
                out[n] = p[n]
            else:
                out[n] = jnp.stack([p[f"{n}[{g}]"] for g in range(self.n_groups)])[idx]
        return out, {k: v for k, v in X.items() if k != "_group"}

    def predict(self, p, X):
        q, Xb = self.per_row(p, X)
        return self.base.predict(q, Xb)

    def log_predict(self, p, X):
        q, Xb = self.per_row(p, X)
        return self.base.log_predict(q, Xb)

    def internal_of(self, p: Mapping[str, float], g: int) -> dict[str, float]:
        """Group ``g``'s internal parameters of the base law."""
        return {n: float(p[n] if n in self.shared else p[f"{n}[{g}]"]) for n in self.base.param_names}


def _shared_internal(law: Law, shared: Sequence[str]) -> tuple[str, ...]:
    from .api import public_names_moved

    names = law.param_names
    out = []
    for s in shared:
        if s in names:
            out.append(s)
            continue
        owners = [n for n in names if s in public_names_moved(law, n)]
        if len(owners) != 1:
            raise LawError(f"`fit(shared=...)`: {s!r} is not a parameter of law {law.name!r} (parameters: "
                           f"{', '.join(law.public_names)}; internal: {', '.join(names)}).",
                           rule="unknown parameter", value=s)
        out.append(owners[0])
    if len(set(out)) == len(names):
        raise LawError("`fit(shared=...)`: every parameter is shared, which is one pooled fit; drop by=.",
                       rule="all shared")
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------


def _labels(runs: Runs, by: str) -> tuple[list[Any], np.ndarray]:
    if by not in runs:
        raise LawError(f"{runs.source}: `fit(by={by!r})`: no column {by!r} to group by; available: "
                       f"{', '.join(runs.names)}.", source=runs.source, column=by, rule="missing column")
    col = np.asarray(runs[by])
    uniq, first, inv = np.unique(col, return_index=True, return_inverse=True)
    order = np.argsort(first)  # groups in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    labels = [uniq[i].item() if hasattr(uniq[i], "item") else uniq[i] for i in order]
    return labels, rank[inv.reshape(-1)]


@x64
def fit_groups(law: Law, runs: Runs, *, by: str, shared: tuple[str, ...], objective: Any, starts: Any,
               weights: Any, fixed: Any, solver_config: SolverConfig | None, notes: Sequence[str]) -> GroupFits:
    from .api import dataset, fit_datasets, resolve_fixed

    labels, gidx = _labels(runs, by)
    w_all = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w_all is not None and w_all.shape != (len(runs),):
        raise LawError(f"`fit(weights=...)`: expected {len(runs)} weights (one per row), got shape {w_all.shape}.",
                       rule="bad weights", value=w_all.shape)
    datasets = [dataset(law, runs.select(gidx == g), objective, None if w_all is None else w_all[gidx == g],
                        label=str(lab)) for g, lab in enumerate(labels)]
    own = fit_datasets(law, datasets, objective=objective, starts=starts, fixed=fixed, solver_config=solver_config,
                       notes=notes, stacklevel=4)
    fits = {lab: f for lab, f in zip(labels, own)}
    if not shared:
        return GroupFits(fits=fits, by=by, objective=float(sum(f.objective for f in own)), notes=tuple(notes))

    sh = _shared_internal(law, shared)
    G = len(labels)
    stacked = Stacked(base=law, n_groups=G, shared=sh)
    # starts: each group's own estimate of the shared parameters, and their median
    own_theta = np.array([[f.internal[n] for n in law.param_names] for f in own])
    cand = [np.median(own_theta, axis=0)] + list(own_theta)
    rows = []
    for c in cand:
        row = [c[law.param_names.index(n)] for n in sh]
        for g in range(G):
            row += [own_theta[g, i] for i, n in enumerate(law.param_names) if n not in sh]
        rows.append(row)
    base_fixed = resolve_fixed(law, fixed)
    st_fixed = {}
    for n, v in base_fixed.items():
        if n in sh:
            st_fixed[n] = v
        else:
            st_fixed.update({f"{n}[{g}]": v for g in range(G)})
    X = {k: np.concatenate([d.X[k] for d in datasets]) for k in law.inputs}
    X["_group"] = np.concatenate([np.full(d.n, g, dtype=np.float64) for g, d in enumerate(datasets)])
    y = np.concatenate([d.y for d in datasets])
    w = np.concatenate([d.w for d in datasets])
    from .api import Dataset

    joint_d = Dataset(X=X, y=y, w=w, runs=runs)
    cfg = solver_config or SolverConfig()
    joint_cfg = SolverConfig(refine=None, finish=None, refine_steps=cfg.refine_steps, max_steps=cfg.max_steps,
                             polish=min(cfg.polish, 2), polish_steps=cfg.polish_steps, ftol=cfg.ftol, xtol=cfg.xtol,
                             polish_xtol=cfg.polish_xtol)
    pub_shared = tuple(dict.fromkeys(k for s in shared for k in ([s] if s in law.public_names else [s])))
    note = (f"{', '.join(pub_shared)} shared by the {G} groups of {by!r}: one joint fit of all {len(y)} rows "
            f"(starts: each group's own fit and their median)")
    joint = fit_datasets(stacked, [joint_d], objective=objective, starts=np.asarray(rows), fixed=st_fixed,
                         solver_config=joint_cfg, notes=tuple(notes) + (note,), stacklevel=4)[0]
    from . import solver as _solver

    out = {}
    for g, (lab, d) in enumerate(zip(labels, datasets)):
        internal = stacked.internal_of(joint.internal, g)
        theta = np.array([internal[n] for n in law.param_names])
        r = _solver.residuals(law, objective, theta, d.X, d.y)
        obj_g = float(objective.value(jnp.asarray(r), jnp.asarray(d.w)))
        out[lab] = Fit(
            law=law, objective_spec=objective, params=law.public(internal), internal=internal, objective=obj_g,
            n_obs=d.n, n_best_basin=joint.n_best_basin, basin_rtol=joint.basin_rtol,
            at_bound=tuple(n.split("[")[0] for n in joint.at_bound if n in sh or n.endswith(f"[{g}]")),
            fixed=tuple(base_fixed), data_hash=d.runs.data_hash(),
            input_range={k: (float(np.min(v)), float(np.max(v))) for k, v in d.X.items()},
            extras=dict(joint.extras), notes=tuple(d.runs.notes) + tuple(notes) + (note,),
            warnings=tuple(wn for wn in joint.warnings), group=str(lab),
            not_identified=tuple(k for k in joint.not_identified
                                 if "[" not in k or k.endswith(f"[{g}]")))
    return GroupFits(fits=out, by=by, shared=pub_shared, objective=float(joint.objective),
                     notes=tuple(notes) + (note,))
