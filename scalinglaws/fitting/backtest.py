"""Extrapolation backtests: fit a law on the small runs, predict the large ones it never saw.

``backtest(law, runs, holdout=...)`` splits the runs into a training part and a held-out part
(by compute, by model size, or one group at a time), fits on the training part, predicts every
held-out run, and brackets each prediction with a percentile interval from a bootstrap of the
training fit (each successful resample's parameters evaluated at the held-out inputs); with
``noise=`` (a log-space sd, e.g. the pooled seed sd of ``seed_noise``) the interval also holds the
held-out run's own noise: prediction interval = parameter uncertainty + run noise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special as _special

from .._report import Reported, format_rows, plain
from ..errors import LawError
from ..laws.base import Law
from .api import coerce_runs, default_objective, fit as _fit
from .bootstrap import bootstrap as _bootstrap
from .prediction import predict_draws

HOLDOUTS = ("compute", "largest", "group")

_COLUMNS = {"split": "split", "run": "run", "params": "params", "tokens": "tokens", "flops": "flops", "observed": "observed",
            "predicted": "predicted", "error": "error", "rel_error": "rel.err", "lo": "lo", "hi": "hi",
            "covered": "covered", "extrapolation": "log10(C/Cmax)"}


@dataclass(frozen=True)
class Backtest(Reported):
    """Held-out predictions of a law fitted on the rest of the runs.

    ``rows()`` has one dict per held-out run: its inputs (``params``, ``tokens``, ``flops``
    where present), ``observed``, ``predicted``, ``error`` (predicted - observed),
    ``rel_error`` (error / observed), the bootstrap interval ``lo``/``hi`` at ``level``,
    ``covered`` (observed inside it; with ``noise`` the interval adds the run's own noise) and ``extrapolation`` = log10(flops / the largest training
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
    noise: float = 0.0

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


def _noise_sd(noise: Any) -> float:
    """``noise=`` of a backtest as a log-space sd: a number, or anything with ``pooled_sd``
    (a :class:`~scalinglaws.fitting.checkpoints.SeedNoise`)."""
    sd = getattr(noise, "pooled_sd", noise)
    try:
        sd = float(0.0 if sd is None else sd)
    except (TypeError, ValueError):
        raise LawError(f"`backtest(noise=...)`: expected a log-space standard deviation (a number >= 0) or a "
                       f"SeedNoise from seed_noise(runs), got {type(noise).__name__}.", rule="bad noise",
                       value=repr(noise)) from None
    if not (math.isfinite(sd) and sd >= 0):
        raise LawError(f"`backtest(noise=...)`: the run noise must be a finite sd >= 0 (of log loss), got {sd!r}.",
                       rule="bad noise", value=sd)
    return sd


def _intervals(law: Law, f: Any, train: Any, X: dict[str, np.ndarray], pred: np.ndarray, *, n_boot: int, q: float,
               seed: int, boot_starts: int, boot_by: str | None, noise: float, label: str):
    """(lo, hi, warnings) of the predictions ``pred`` at ``X``: the percentile interval of the bootstrap
    draws' predictions (parameter uncertainty) and, with ``noise`` > 0, of those predictions times
    exp(noise * z), z ~ N(0, 1) (plus a run's own noise: parameter + run noise)."""
    n_held = len(pred)
    lo = hi = np.full(n_held, np.nan)
    warns: list[str] = []
    if n_boot:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            b = _bootstrap(f, train, int(n_boot), seed=seed, starts=int(boot_starts), by=boot_by, progress=False)
        warns += [f"{label}: {w.message}" for w in caught]
        if int(np.sum(b.ok)) >= 2:
            P = predict_draws(law, b.draws[b.ok], X)
            P = P[np.all(np.isfinite(P), axis=1)]
            if len(P) >= 2:
                if noise > 0:
                    reps = max(1, math.ceil(4000 / len(P)))  # noise draws per parameter draw
                    z = np.random.default_rng((int(seed), 1)).standard_normal((reps,) + P.shape)
                    P = (P[None] * np.exp(noise * z)).reshape(-1, n_held)
                lo, hi = np.quantile(P, q, axis=0), np.quantile(P, 1 - q, axis=0)
    elif noise > 0:  # run noise alone, in closed form
        z = float(_special.ndtri(1 - q))
        lo, hi = pred * np.exp(-noise * z), pred * np.exp(noise * z)
    return lo, hi, warns


def _held_out_rows(law: Law, train: Any, test: Any, label: str, *, objective: Any, starts: Any, n_boot: int,
                   q: float, seed: int, boot_starts: int, noise: float, boot_by: str | None = None,
                   has_flops: bool = True):
    """Fit ``law`` on ``train`` (its ``weight`` column, if any, weights the rows), predict ``test``;
    (table rows, split summary, warnings, fit)."""
    f = _fit(law, train, objective=objective, starts=starts)
    X = {k: np.asarray(test[k], dtype=np.float64) for k in law.inputs}
    pred = f.predict(X)
    lo, hi, warns = _intervals(law, f, train, X, pred, n_boot=n_boot, q=q, seed=seed, boot_starts=boot_starts,
                               boot_by=boot_by, noise=noise, label=label)
    cmax = float(np.max(train["flops"])) if has_flops and "flops" in train else math.nan
    obs = np.asarray(test[law.target], dtype=np.float64)
    table = []
    for i in range(len(pred)):
        row: dict[str, Any] = {"split": label, "row": int(test.row_ids[i])}
        if "run" in test:
            row["run"] = str(test["run"][i])
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
    split = {"split": label, "n_train": len(train), "n_held_out": len(test), "max_train_flops": cmax,
             "params": dict(f.params)}
    return table, split, warns, f


def interval_note(level: float, n_boot: int, seed: int, noise: float, unit: str = "rows") -> str:
    """What a backtest's intervals bracket, for its notes."""
    if noise > 0:
        what = (f"{n_boot} bootstrap refits of each training fit ({unit} resampled, seed {seed}), each draw's "
                f"prediction times exp(noise * z), z ~ N(0, 1), noise = {noise:.4g} (log-space sd of a run's own "
                f"loss, e.g. the pooled seed sd of seed_noise)" if n_boot else
                f"the prediction times exp(+-z * {noise:.4g}) (run noise only: n_boot=0, no parameter uncertainty)")
        return (f"prediction intervals: {level:.0%} percentile of {what}; prediction interval = parameter "
                f"uncertainty + run noise, so they should cover about {level:.0%} of held-out runs when the noise "
                f"estimate is right")
    return (f"prediction intervals: {level:.0%} percentile of {n_boot} bootstrap "
            f"refits of each training fit ({unit} resampled, seed {seed}); they bracket the law's prediction (parameter "
            f"uncertainty) and leave out the held-out runs' own noise, so coverage below {level:.0%} is expected "
            f"when that noise is comparable to the interval width (pass noise= to add it)")


def backtest(law: Law, runs: Any, holdout: str = "compute", threshold: float | None = None, fraction: float = 0.8,
             objective: Any = None, n_boot: int = 200, level: float = 0.90, seed: int = 0, starts: Any = None,
             boot_starts: int = 1, noise: Any = None) -> Backtest:
    """Fit ``law`` on part of ``runs`` and predict the rest (an extrapolation backtest).

    holdout : ``"compute"``: train on the runs with flops below ``threshold`` (default: the
        ``fraction`` quantile of flops) and predict the rest; ``"largest"``: leave out the runs
        of the largest model size (max params); ``"group"``: leave one group (column ``group``)
        out at a time, one fit per group.
    n_boot, level, seed : the bootstrap of each training fit (``n_boot`` resamples, refitted from
        the fit's optimum and ``boot_starts - 1`` other optima) whose draws, evaluated at the held-out inputs,
        give a percentile interval at ``level``. ``n_boot=0``: no intervals (NaN), unless ``noise``.
    noise : the held-out runs' own noise, a log-space sd (a number, or a ``SeedNoise`` from
        ``seed_noise(runs)``, whose ``pooled_sd`` is used). Each bootstrap draw's prediction is
        multiplied by exp(noise * z), z ~ N(0, 1) (seeded), so the interval is a *prediction*
        interval: parameter uncertainty + run noise. Default: none (the law's prediction only).
    objective, starts : passed to :func:`~scalinglaws.fit`.
    """
    if not isinstance(law, Law):
        raise LawError(f"`backtest(law, ...)`: law must be a Law such as sl.laws.Chinchilla(), "
                       f"got {type(law).__name__}.", rule="bad law")
    if holdout not in HOLDOUTS:
        raise LawError(f"`backtest(holdout=...)`: unknown holdout {holdout!r}; choose one of "
                       f"{', '.join(repr(h) for h in HOLDOUTS)}.", rule="unknown holdout", value=holdout)
    check_interval_args(law, level, n_boot)
    sd = _noise_sd(noise)
    if sd > 0 and not getattr(law, "positive", True):
        raise LawError(f"`backtest(noise=...)` is a log-space sd, but law {law.name!r}'s target "
                       f"{law.target!r} may be zero or negative.", rule="bad noise", value=sd)
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
        rows, split, w, _ = _held_out_rows(law, r.select(~held), r.select(held), label, objective=objective,
                                           starts=starts, n_boot=n_boot, q=q, seed=seed, boot_starts=boot_starts,
                                           noise=sd, has_flops="flops" in r)
        table += rows
        splits.append(split)
        warns += w
    notes = (f"{len(splits)} split(s); {interval_note(level, n_boot, seed, sd)}",)
    return Backtest(law=law, holdout=holdout, level=float(level), n_boot=int(n_boot), splits=tuple(splits),
                    table=tuple(table), notes=notes, warnings=tuple(warns), noise=sd)


def check_interval_args(law: Law, level: float, n_boot: int, fn: str = "backtest") -> None:
    if not 0 < level < 1:
        raise LawError(f"`{fn}(level=...)` must be in (0, 1), got {level!r}.", rule="bad level", value=level)
    if n_boot != 0 and n_boot < 2:
        raise LawError(f"`{fn}(n_boot=...)`: 0 (no intervals) or at least 2 resamples, got {n_boot!r}.",
                       rule="bad n", value=n_boot)


__all__ = ["Backtest", "backtest"]
