"""Extrapolation backtests: fit a law on the small runs, predict the large ones it never saw.

``backtest(law, runs, holdout=...)`` splits the runs into a training part and a held-out part
(by compute, by model size, or one group at a time), fits on the training part, predicts every
held-out run, and brackets each prediction with a percentile interval from a bootstrap of the
training fit (each successful resample's parameters evaluated at the held-out inputs).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._report import Reported, format_rows, plain
from ..errors import LawError
from ..laws.base import Law
from .api import coerce_runs, default_objective, fit as _fit
from .bootstrap import bootstrap as _bootstrap
from .prediction import predict_draws

HOLDOUTS = ("compute", "largest", "group")

_COLUMNS = {"split": "split", "params": "params", "tokens": "tokens", "flops": "flops", "observed": "observed",
            "predicted": "predicted", "error": "error", "rel_error": "rel.err", "lo": "lo", "hi": "hi",
            "covered": "covered", "extrapolation": "log10(C/Cmax)"}


@dataclass(frozen=True)
class Backtest(Reported):
    """Held-out predictions of a law fitted on the rest of the runs.

    ``rows()`` has one dict per held-out run: its inputs (``params``, ``tokens``, ``flops``
    where present), ``observed``, ``predicted``, ``error`` (predicted - observed),
    ``rel_error`` (error / observed), the bootstrap interval ``lo``/``hi`` at ``level``,
    ``covered`` (observed inside it) and ``extrapolation`` = log10(flops / the largest training
    flops) (positive: beyond the training compute). ``coverage`` and ``rmse`` summarise them.
    """

    law: Law
    holdout: str
    level: float
    n_boot: int
    splits: tuple[dict[str, Any], ...]
    table: tuple[dict[str, Any], ...] = field(repr=False)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.table]

    @property
    def n(self) -> int:
        return len(self.table)

    @property
    def coverage(self) -> float:
        c = [r["covered"] for r in self.table if math.isfinite(r["lo"])]
        return float(np.mean(c)) if c else math.nan

    @property
    def rmse(self) -> float:
        e = np.array([r["error"] for r in self.table], dtype=np.float64)
        return float(np.sqrt(np.mean(e ** 2))) if e.size else math.nan

    def _headline(self) -> str:
        return (f"[[Backtest]] law={self.law.name}  holdout={self.holdout}  held-out runs={self.n}  "
                f"rmse={self.rmse:.4g}  coverage of {self.level:.0%} intervals={self.coverage:.0%}  "
                f"(bootstrap {self.n_boot})")

    def _body(self) -> str:
        rows = self.rows()
        cols = {k: v for k, v in _COLUMNS.items() if rows and k in rows[0]}
        return format_rows(rows, cols)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(rows=plain(self.rows()), coverage=plain(self.coverage), rmse=plain(self.rmse))
        return out


def _splits(holdout: str, r: Any, threshold: float | None, fraction: float) -> list[tuple[str, np.ndarray]]:
    """(label, held-out mask) of every split."""
    if holdout == "compute":
        if "flops" not in r:
            raise LawError(f"{r.source}: `backtest(holdout='compute')` needs a flops column; available: "
                           f"{', '.join(r.names)}.", source=r.source, column="flops", rule="missing column")
        c = np.asarray(r["flops"], dtype=np.float64)
        if threshold is None:
            if not 0 < fraction < 1:
                raise LawError(f"`backtest(fraction=...)` must be in (0, 1), got {fraction!r}.",
                               rule="bad fraction", value=fraction)
            threshold = float(np.quantile(c, fraction))
        return [(f"flops >= {threshold:.3g}", c >= threshold)]
    if holdout == "largest":
        if "params" not in r:
            raise LawError(f"{r.source}: `backtest(holdout='largest')` needs a params column; available: "
                           f"{', '.join(r.names)}.", source=r.source, column="params", rule="missing column")
        n = np.asarray(r["params"], dtype=np.float64)
        return [(f"params = {n.max():.3g}", n == n.max())]
    if "group" not in r:
        raise LawError(f"{r.source}: `backtest(holdout='group')` needs a group column; available: "
                       f"{', '.join(r.names)}.", source=r.source, column="group", rule="missing column")
    g = np.asarray(r["group"])
    names = list(dict.fromkeys(g.tolist()))
    if len(names) < 2:
        raise LawError(f"{r.source}: `backtest(holdout='group')` needs at least 2 groups, got {len(names)}.",
                       source=r.source, column="group", rule="too few groups", value=len(names))
    return [(f"group {x}", g == x) for x in names]


def backtest(law: Law, runs: Any, holdout: str = "compute", threshold: float | None = None, fraction: float = 0.8,
             objective: Any = None, n_boot: int = 200, level: float = 0.90, seed: int = 0, starts: Any = None,
             boot_starts: int = 1) -> Backtest:
    """Fit ``law`` on part of ``runs`` and predict the rest (an extrapolation backtest).

    holdout : ``"compute"``: train on the runs with flops below ``threshold`` (default: the
        ``fraction`` quantile of flops) and predict the rest; ``"largest"``: leave out the runs
        of the largest model size (max params); ``"group"``: leave one group (column ``group``)
        out at a time, one fit per group.
    n_boot, level, seed : the bootstrap of each training fit (``n_boot`` resamples, refitted from
        the fit's optimum and ``boot_starts - 1`` other optima) whose draws, evaluated at the held-out inputs,
        give a percentile interval at ``level``. ``n_boot=0``: no intervals (NaN).
    objective, starts : passed to :func:`~scalinglaws.fit`.
    """
    if not isinstance(law, Law):
        raise LawError(f"`backtest(law, ...)`: law must be a Law such as sl.laws.Chinchilla(), "
                       f"got {type(law).__name__}.", rule="bad law")
    if holdout not in HOLDOUTS:
        raise LawError(f"`backtest(holdout=...)`: unknown holdout {holdout!r}; choose one of "
                       f"{', '.join(repr(h) for h in HOLDOUTS)}.", rule="unknown holdout", value=holdout)
    if not 0 < level < 1:
        raise LawError(f"`backtest(level=...)` must be in (0, 1), got {level!r}.", rule="bad level", value=level)
    if n_boot != 0 and n_boot < 2:
        raise LawError(f"`backtest(n_boot=...)`: 0 (no intervals) or at least 2 resamples, got {n_boot!r}.",
                       rule="bad n", value=n_boot)
    r = coerce_runs(law, runs, fn="backtest")
    objective = objective if objective is not None else default_objective(law)
    q = (1 - level) / 2
    table, splits, warns = [], [], []
    for label, held in _splits(holdout, r, threshold, fraction):
        n_train, n_held = int(np.sum(~held)), int(np.sum(held))
        if n_train < len(law.param_names) + 1 or n_held == 0:
            raise LawError(f"{r.source}: `backtest(holdout={holdout!r})`: the split '{label}' leaves {n_train} "
                           f"training run(s) and {n_held} held-out run(s); it needs at least "
                           f"{len(law.param_names) + 1} training runs (one more than the law's "
                           f"{len(law.param_names)} parameters) and at least one held-out run.",
                           source=r.source, rule="empty split" if n_held == 0 else "too few training runs",
                           value=n_train)
        train, test = r.select(~held), r.select(held)
        f = _fit(law, train, objective=objective, starts=starts)
        X = {k: np.asarray(test[k], dtype=np.float64) for k in law.inputs}
        pred = f.predict(X)
        lo = hi = np.full(n_held, np.nan)
        if n_boot:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                b = _bootstrap(f, train, int(n_boot), seed=seed, starts=int(boot_starts), progress=False)
            warns += [f"{label}: {w.message}" for w in caught]
            if int(np.sum(b.ok)) >= 2:
                P = predict_draws(law, b.draws[b.ok], X)
                P = P[np.all(np.isfinite(P), axis=1)]
                if len(P) >= 2:
                    lo, hi = np.quantile(P, q, axis=0), np.quantile(P, 1 - q, axis=0)
        cmax = float(np.max(train["flops"])) if "flops" in r else math.nan
        obs = np.asarray(test[law.target], dtype=np.float64)
        for i in range(n_held):
            row: dict[str, Any] = {"split": label, "row": int(test.row_ids[i])}
            for k in ("params", "tokens", "flops"):
                if k in test:
                    row[k] = float(test[k][i])
            err = float(pred[i] - obs[i])
            row.update(observed=float(obs[i]), predicted=float(pred[i]), error=err,
                       rel_error=err / float(obs[i]) if obs[i] != 0 else math.nan,
                       lo=float(lo[i]), hi=float(hi[i]),
                       covered=bool(lo[i] <= obs[i] <= hi[i]),
                       extrapolation=float(np.log10(row["flops"] / cmax)) if "flops" in row else math.nan)
            table.append(row)
        splits.append({"split": label, "n_train": n_train, "n_held_out": n_held, "max_train_flops": cmax,
                       "params": dict(f.params)})
    notes = (f"{len(splits)} split(s); prediction intervals: {level:.0%} percentile of {n_boot} bootstrap "
             f"refits of each training fit (rows resampled, seed {seed}); they bracket the law's prediction (parameter "
             f"uncertainty) and leave out the held-out runs' own noise, so coverage below {level:.0%} is expected "
             f"when that noise is comparable to the interval width",)
    return Backtest(law=law, holdout=holdout, level=float(level), n_boot=int(n_boot), splits=tuple(splits),
                    table=tuple(table), notes=notes, warnings=tuple(warns))


__all__ = ["Backtest", "backtest"]
