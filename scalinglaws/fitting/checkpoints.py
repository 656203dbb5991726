"""Checkpoints and seeds: run logs with many checkpoints per run, and repeated seeds as a noise estimate.

A run log may hold every checkpoint of a training run (one row per checkpoint: the run's id in
column ``run``, its ``params``, the ``tokens`` seen so far, the loss there). Fitted row by row, one
long-logged run would swamp the rest, and its early checkpoints (not yet annealed) would bias the
fit. Here:

- :func:`checkpoint_weights` drops the checkpoints below ``min_fraction`` of their run's final
  tokens and weights each remaining row 1/(its run's checkpoints), so that every run weighs as
  much as one final-only row; the filtered runs and weights come back together, with notes
  saying how many rows each rule dropped (:class:`CheckpointWeights`).
- :func:`seed_noise` pools the spread of log loss over repeated seeds of one configuration into a
  noise estimate (:class:`SeedNoise`), used as inverse-variance weights (``.weights()``) and in
  prediction intervals (``sl.backtest(..., noise=...)``).
- :func:`fit_checkpoints` fits with those weights; :func:`compare_checkpoint_fits` backtests a
  final-only fit against a checkpoint fit on the same held-out runs (Choshen et al. 2024 report
  that intermediate checkpoints improve scaling-law predictions).

A checkpoint is not a separately trained run of that many tokens: its learning-rate schedule has
not decayed yet, so its loss lies above what a run trained for exactly those tokens reaches.
Hoffmann et al. 2022 fitted final losses (and cosine-cycle-matched runs) for that reason; drop the
early checkpoints and backtest before trusting a checkpoint fit.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .._report import Reported, format_rows, plain
from ..errors import DataError, LawError
from ..laws.base import Law
from ..runs import Runs, as_runs
from .api import coerce_runs, default_objective, fit as _fit
from .result import Fit

PER_RUN = ("equal", "none", "final")
SCHEMES = ("per_run", "seed", "none", "final")
DEFAULT_PRIOR_DF = 4.0

_CAVEAT = ("checkpoints of one run are not separately trained runs of that many tokens (the learning-rate "
           "schedule has not decayed at an intermediate checkpoint, so its loss lies above such a run's); "
           "Hoffmann et al. fitted final losses for that reason: drop early checkpoints (min_fraction) and "
           "backtest (compare_checkpoint_fits)")


def _run_ids(r: Runs, fn: str) -> np.ndarray:
    if "run" not in r:
        raise DataError(f"{r.source}: `{fn}` needs a 'run' column (the id of the training run each checkpoint "
                        f"comes from); available: {', '.join(r.names) or 'none'}. Map yours with "
                        f"read_runs(..., columns={{'run': 'Your Run Column'}}) (CLI: --column run=\"...\").",
                        source=r.source, column="run", rule="missing column")
    if "tokens" not in r:
        raise DataError(f"{r.source}: `{fn}` needs a 'tokens' column (tokens seen at each checkpoint); available: "
                        f"{', '.join(r.names) or 'none'}.", source=r.source, column="tokens", rule="missing column")
    return np.asarray(r["run"])


def _factorize(labels: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """(unique labels in order of first appearance, code of every row)."""
    uniq, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return [uniq[i] for i in order], rank[inv.reshape(-1)]


def _check_fraction(min_fraction: Any, fn: str) -> float:
    try:
        mf = float(min_fraction)
    except (TypeError, ValueError):
        mf = math.nan
    if not (math.isfinite(mf) and 0.0 <= mf < 1.0):
        raise LawError(f"`{fn}(min_fraction=...)` must be in [0, 1) (the fraction of a run's final tokens below "
                       f"which its checkpoints are dropped; 0 keeps all), got {min_fraction!r}.",
                       rule="bad min_fraction", value=min_fraction)
    return mf


@dataclass(frozen=True)
class CheckpointWeights(Reported):
    """The checkpoints kept for a fit and their weights, from :func:`checkpoint_weights`.

    ``runs`` are the rows kept (a :class:`~scalinglaws.runs.Runs`, notes included); ``weights`` one
    weight per kept row; ``weighted_runs`` the same rows with the weights as their ``weight``
    column (what ``sl.fit`` and ``sl.bootstrap(..., by="run")`` read). ``rows()``: one dict per run
    (its checkpoints logged and kept, final tokens, weight per row); ``notes`` say how many rows
    each rule dropped.
    """

    runs: Runs = field(repr=False)
    weights: np.ndarray = field(repr=False)
    min_fraction: float
    per_run: str
    n_runs: int
    n_rows_in: int
    n_dropped: dict[str, int]
    table: tuple[dict[str, Any], ...] = field(repr=False, default=())
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        w = np.array(self.weights, dtype=np.float64)
        w.flags.writeable = False
        object.__setattr__(self, "weights", w)

    @property
    def weighted_runs(self) -> Runs:
        """The kept rows with ``weight`` = :attr:`weights` (ready for ``sl.fit`` and ``sl.bootstrap``)."""
        out = self.runs.with_columns(weight=self.weights)
        return dataclasses.replace(out, notes=self.runs.notes)

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.table]

    def _headline(self) -> str:
        return (f"[[CheckpointWeights]] runs={self.n_runs}  rows kept={len(self.runs)} of {self.n_rows_in}  "
                f"min_fraction={self.min_fraction:g}  per_run={self.per_run}")

    def _body(self) -> str:
        rows = self.rows()
        return format_rows(rows[:20]) + (f"\n... ({len(rows) - 20} more runs)" if len(rows) > 20 else "")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["rows"] = plain(self.rows())
        return out

    def with_seed_noise(self, noise: "SeedNoise | None" = None, *, by: Sequence[str] = ("params", "tokens"),
                        prior_df: float = DEFAULT_PRIOR_DF) -> "CheckpointWeights":
        """These weights times the inverse-variance weights of ``noise`` (default: ``seed_noise`` of
        the kept rows, configurations by ``by``); the notes say so."""
        noise = seed_noise(self.runs, by=by) if noise is None else noise
        if not isinstance(noise, SeedNoise) or noise.n_rows != len(self.runs):
            raise LawError("`with_seed_noise(noise)`: expected a SeedNoise of these kept rows "
                           f"({len(self.runs)}), e.g. seed_noise(cw.runs).", rule="bad noise")
        w = self.weights * noise.weights(prior_df=prior_df)
        note = (f"weights times the seed-noise inverse-variance weights (pooled sd {noise.pooled_sd:.4g} of log "
                f"{noise.target}, {noise.df} df; per-configuration variances shrunk toward it with prior_df="
                f"{prior_df:g})")
        return dataclasses.replace(self, weights=w, notes=self.notes + (note,),
                                   warnings=self.warnings + tuple(noise.warnings))


def checkpoint_weights(runs: Any, *, min_fraction: float = 0.0, per_run: str = "equal",
                       final_tokens: Mapping[Any, float] | None = None) -> CheckpointWeights:
    """Drop early checkpoints and weight the rest so that no run swamps the others.

    Args:
        runs: run logs with a ``run`` column (the id of each row's training run) and ``tokens``.
        min_fraction: drop the checkpoints with ``tokens < min_fraction x`` their run's final
            tokens (in [0, 1); 0 keeps every checkpoint). A run's final tokens are its last logged
            checkpoint's, or ``final_tokens[run]`` where given.
        per_run: ``"equal"``: each kept row of a run weighs 1 / (the run's kept checkpoints), so a
            run's checkpoints together weigh as much as one final-only row and the weights sum to
            the number of runs; ``"none"``: weight 1 per row (only the dropping); ``"final"``: keep
            only each run's last checkpoint (a final-only fit), weight 1.
        final_tokens: run id -> the tokens its training was planned for, for logs of runs that
            stopped early (their last checkpoint is not the end of training). A run whose every
            checkpoint then falls below ``min_fraction`` raises.

    A ``weight`` column, if present, multiplies the weights (the notes say so). ``params`` must
    be constant within a run.

    Raises:
        DataError: no ``run`` or ``tokens`` column; a run with several ``params`` values; a run
            left with no checkpoint (naming it); ``final_tokens`` naming an unknown run or below
            a run's logged tokens.
        LawError: ``min_fraction`` outside [0, 1) or an unknown ``per_run``.
    """
    r = as_runs(runs, fn="checkpoint_weights")
    mf = _check_fraction(min_fraction, "checkpoint_weights")
    if per_run not in PER_RUN:
        raise LawError(f"`checkpoint_weights(per_run=...)`: unknown scheme {per_run!r}; choose one of "
                       f"{', '.join(repr(p) for p in PER_RUN)}.", rule="unknown scheme", value=per_run)
    ids = _run_ids(r, "checkpoint_weights")
    labels, code = _factorize(ids)
    k = len(labels)
    tokens = np.asarray(r["tokens"], dtype=np.float64)
    last = np.full(k, -np.inf)
    np.maximum.at(last, code, tokens)
    if "params" in r:
        n = np.asarray(r["params"], dtype=np.float64)
        lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
        np.minimum.at(lo, code, n)
        np.maximum.at(hi, code, n)
        if (bad := np.flatnonzero(lo != hi)).size:
            j = int(bad[0])
            rows = r.row_ids[code == j]
            raise DataError(f"{r.source}: run {labels[j]!r} has rows with different params ({lo[j]:.6g} .. "
                            f"{hi[j]:.6g}; rows {', '.join(map(str, rows[:6].tolist()))}); the rows of one run are "
                            "its checkpoints, one model size. Check the run column mapping.",
                            source=r.source, column="run", row=int(rows[0]), rule="run with several params",
                            value=labels[j])
    final = last.copy()
    planned = np.zeros(k, dtype=bool)
    if final_tokens is not None:
        if not isinstance(final_tokens, Mapping):
            raise LawError("`checkpoint_weights(final_tokens=...)` maps run id -> planned final tokens, got "
                           f"{type(final_tokens).__name__}.", rule="bad final_tokens")
        where = {str(lab): j for j, lab in enumerate(labels)}
        for key, v in final_tokens.items():
            j = where.get(str(key))
            if j is None:
                raise DataError(f"{r.source}: `final_tokens` names run {str(key)!r}, which is not in the data "
                                f"(runs: {', '.join(map(repr, labels[:8]))}{', ...' if k > 8 else ''}).",
                                source=r.source, column="run", rule="unknown run", value=str(key))
            v = float(v)
            if not (math.isfinite(v) and v >= last[j]):
                raise DataError(f"{r.source}: `final_tokens[{str(key)!r}]` is {v!r}, but run {str(key)!r} logged "
                                f"{last[j]:.6g} tokens; the planned final tokens must be finite and at least the "
                                "last checkpoint's.", source=r.source, column="tokens", rule="bad final_tokens",
                                value=v)
            final[j], planned[j] = v, True
    early = tokens < mf * final[code]
    keep = ~early
    not_last = tokens != last[code]
    if per_run == "final":
        keep &= ~not_last
    n_logged = np.bincount(code, minlength=k)
    n_kept = np.bincount(code[keep], minlength=k)
    if (empty := np.flatnonzero(n_kept == 0)).size:
        j = int(empty[0])
        more = f" (and {empty.size - 1} more run(s))" if empty.size > 1 else ""
        raise DataError(f"{r.source}: run {labels[j]!r}: all its {n_logged[j]} checkpoint(s) have tokens < "
                        f"min_fraction={mf:g} x its final tokens {final[j]:.6g}{' (final_tokens)' if planned[j] else ''}"
                        f" (its last checkpoint has {last[j]:.6g}){more}; nothing of the run would be fitted. Lower "
                        "min_fraction, or leave the run out explicitly (runs.select).", source=r.source,
                        column="run", row=int(r.row_ids[code == j][0]), rule="run with no checkpoint left",
                        value=labels[j])
    w = (1.0 / n_kept[code]) if per_run == "equal" else np.ones(len(r))
    notes = [f"checkpoints: {len(r)} row(s) of {k} run(s) (column 'run'); {int(keep.sum())} kept"]
    n_early = int(early.sum())
    n_dropped = {"min_fraction": n_early}
    notes.append(f"dropped {n_early} row(s) with tokens < min_fraction={mf:g} x their run's final tokens"
                 f"{'' if not n_early else ' in %d run(s)' % int(np.count_nonzero(np.bincount(code[early], minlength=k)))}"
                 f"{'; final tokens as planned (final_tokens) for %d run(s)' % int(planned.sum()) if planned.any() else ''}")
    if per_run == "final":
        n_nf = int(np.sum(~early & not_last))
        n_dropped["not_final"] = n_nf
        notes.append(f"per_run='final': kept only each run's last checkpoint, dropped {n_nf} earlier row(s)")
    elif per_run == "equal":
        notes.append(f"per_run='equal': each kept row weighs 1/(its run's kept checkpoints), so each run weighs as "
                     f"much as one final-only row (weights sum to {k}, the number of runs)")
    if "weight" in r:
        w = w * np.asarray(r["weight"], dtype=np.float64)
        notes.append("multiplied by the runs' weight column")
    if per_run != "final":
        notes.append(_CAVEAT)
    table = []
    for j, lab in enumerate(labels):
        row = {"run": str(lab)}
        if "params" in r:
            row["params"] = float(hi[j])
        row.update(checkpoints=int(n_logged[j]), kept=int(n_kept[j]), final_tokens=float(final[j]),
                   weight_per_row=float(1.0 / n_kept[j]) if per_run == "equal" else 1.0)
        table.append(row)
    kept = r.select(keep)
    kept = dataclasses.replace(kept, notes=kept.notes + tuple(notes))
    return CheckpointWeights(runs=kept, weights=w[keep], min_fraction=mf, per_run=per_run, n_runs=k,
                             n_rows_in=len(r), n_dropped=n_dropped, table=tuple(table), notes=tuple(notes))


# --------------------------------------------------------------------------- seeds
@dataclass(frozen=True)
class SeedNoise(Reported):
    """Seed-to-seed noise of log loss, from :func:`seed_noise`.

    ``pooled_sd`` is sqrt(sum_i df_i s_i^2 / sum_i df_i) over the configurations i with at least
    two seeds (s_i the sd of log loss across seeds, ddof=1; df_i = seeds - 1); ``df`` = sum_i
    df_i. ``per_config`` (= ``rows()``): one dict per configuration: its ``by`` values, seeds,
    mean and sd of log loss, df. ``weights()``: inverse-variance weights per row.
    """

    by: tuple[str, ...]
    target: str
    pooled_sd: float
    df: int
    n_configs: int
    n_repeated: int
    n_rows: int
    table: tuple[dict[str, Any], ...] = field(repr=False, default=())
    index: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment]
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.table]

    @property
    def per_config(self) -> list[dict[str, Any]]:
        """One dict per configuration (the ``by`` values, ``seeds``, ``mean_log``, ``sd``, ``df``)."""
        return self.rows()

    def pooled_sd_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Two-sided interval of the pooled sd from df s^2 / sigma^2 ~ chi-square(df) (normal noise,
        independent configurations)."""
        from scipy import stats

        if not 0 < level < 1:
            raise ValueError(f"pooled_sd_interval(level=...) must be in (0, 1), got {level!r}.")
        q = (1 - level) / 2
        ss = self.df * self.pooled_sd ** 2
        return (float(math.sqrt(ss / stats.chi2.ppf(1 - q, self.df))),
                float(math.sqrt(ss / stats.chi2.ppf(q, self.df))))

    def variances(self, prior_df: float = DEFAULT_PRIOR_DF) -> np.ndarray:
        """Per-row noise variance of log loss: its configuration's variance shrunk toward the pooled one,

            v_i = (df_i s_i^2 + prior_df s_p^2) / (df_i + prior_df),

        as if the pooled variance were backed by ``prior_df`` more degrees of freedom (configurations
        with a single seed, df_i = 0, get s_p^2). ``prior_df=0``: the raw per-configuration variances;
        ``prior_df=inf``: the pooled variance everywhere."""
        pd_ = float(prior_df)
        if not (pd_ >= 0):
            raise ValueError(f"prior_df must be >= 0, got {prior_df!r}.")
        sp2 = self.pooled_sd ** 2
        df = np.array([c["df"] for c in self.table], dtype=np.float64)
        s2 = np.array([c["sd"] ** 2 if c["df"] > 0 else 0.0 for c in self.table], dtype=np.float64)
        if math.isinf(pd_):
            v = np.full(len(df), sp2)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.where(df + pd_ > 0, (df * s2 + pd_ * sp2) / (df + pd_), sp2)
        if np.any(v <= 0):
            j = int(np.argmax(v <= 0))
            raise LawError(f"seed noise: configuration {self.table[j]} has zero spread across seeds, so its "
                           f"inverse variance is infinite; use prior_df > 0 (shrinkage toward the pooled variance).",
                           rule="zero variance", value=prior_df)
        return v[self.index]

    def weights(self, prior_df: float = DEFAULT_PRIOR_DF) -> np.ndarray:
        """Inverse-variance weights, one per row of the runs given to :func:`seed_noise`, scaled so that a
        configuration at the pooled variance weighs 1 per row: ``pooled_sd**2 / variances(prior_df)``."""
        return self.pooled_sd ** 2 / self.variances(prior_df)

    def _headline(self) -> str:
        lo, hi = self.pooled_sd_interval(0.95)
        return (f"[[SeedNoise]] by={','.join(self.by)}  configurations={self.n_configs} ({self.n_repeated} with >= 2 "
                f"seeds)  pooled sd of log {self.target}={self.pooled_sd:.4g} (df {self.df}; 95% {lo:.4g}..{hi:.4g})")

    def _body(self) -> str:
        rows = [c for c in self.rows() if c["df"] > 0]
        return format_rows(rows[:20]) + (f"\n... ({len(rows) - 20} more repeated configurations)" if len(rows) > 20
                                         else "")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["per_config"] = plain(self.rows())
        return out


def seed_noise(runs: Any, by: str | Sequence[str] = ("params", "tokens"), *, target: str = "loss") -> SeedNoise:
    """Seed-to-seed noise of log ``target`` from repeated seeds of one configuration.

    Rows with equal ``by`` values (default: the same N and D) are one configuration; their rows
    differ by ``seed``. Per configuration with at least two seeds: the sd of log loss (ddof=1),
    df = seeds - 1; pooled over configurations: sqrt(sum df_i s_i^2 / sum df_i), df = sum df_i.
    With checkpoint logs (a ``run`` column), the configurations at several checkpoints of the same
    runs share each run's offset, so their sds are not independent: the df then overstates the
    evidence (pass the final checkpoints only for a strict estimate; the notes say so).

    Raises:
        DataError: no ``seed`` column, a ``by`` column missing, or no configuration with two seeds.

    Warns when fewer than two configurations have two seeds or more (the pooled sd then rests on
    one configuration), and when a seed repeats within a configuration (``by`` may not hold the
    whole configuration).
    """
    r = as_runs(runs, fn="seed_noise")
    by = (by,) if isinstance(by, str) else tuple(by)
    if not by:
        raise LawError("`seed_noise(by=...)` needs at least one column that defines a configuration.",
                       rule="bad by")
    for c in ("seed", target) + by:
        if c not in r:
            what = "the seed of each run" if c == "seed" else ("the target" if c == target else "a configuration column")
            raise DataError(f"{r.source}: `seed_noise` needs column {c!r} ({what}); available: "
                            f"{', '.join(r.names) or 'none'}.", source=r.source, column=c, rule="missing column")
    y = np.asarray(r[target], dtype=np.float64)
    if np.any(y <= 0):
        i = int(np.argmax(y <= 0))
        raise DataError(f"{r.source}: column {target!r}, row {int(r.row_ids[i])}: value {y[i]!r} is not positive; "
                        "seed_noise works on log values.", source=r.source, column=target, row=int(r.row_ids[i]),
                        rule="not positive", value=float(y[i]))
    logy = np.log(y)
    key = np.zeros(len(r), dtype=np.int64)
    for c in by:
        _, codes = np.unique(np.asarray(r[c]), return_inverse=True)
        _, key = np.unique(key * (int(codes.max()) + 1) + codes.reshape(-1), return_inverse=True)
        key = key.reshape(-1)
    labels, index = _factorize(key)
    n_cfg = len(labels)
    seeds = np.asarray(r["seed"])
    table, repeats = [], 0
    for j in range(n_cfg):
        rows = np.flatnonzero(index == j)
        v = logy[rows]
        if len(np.unique(seeds[rows])) < len(rows):
            repeats += 1
        df = len(rows) - 1
        row = {c: (r[c][rows[0]] if r[c].dtype == object else float(r[c][rows[0]])) for c in by}
        row.update(seeds=len(rows), mean_log=float(v.mean()), sd=float(np.std(v, ddof=1)) if df else math.nan, df=df)
        table.append(row)
    df = np.array([c["df"] for c in table])
    n_rep = int(np.sum(df > 0))
    if n_rep == 0:
        raise DataError(f"{r.source}: `seed_noise(by={by})`: no configuration has two or more seeds ({n_cfg} "
                        f"configuration(s), one row each), so there is no seed-to-seed spread to estimate. Check by= "
                        "(rows of one configuration must have equal values there).", source=r.source, column="seed",
                        rule="no repeated seeds", value=n_cfg)
    ss = sum(c["df"] * c["sd"] ** 2 for c in table if c["df"] > 0)
    dof = int(df.sum())
    pooled = math.sqrt(ss / dof)
    warns, notes = [], [f"seed noise: {n_rep} of {n_cfg} configuration(s) (by {', '.join(by)}) have >= 2 seeds; pooled "
                        f"sd of log {target} {pooled:.4g} with {dof} df (sum of seeds - 1)"]
    if n_rep < 2:
        warns.append(f"only {n_rep} configuration has two or more seeds; the pooled sd rests on it alone "
                     f"({dof} df).")
    if repeats:
        warns.append(f"{repeats} configuration(s) repeat a seed value: rows of one seed differ in a column that by= "
                     f"({', '.join(by)}) leaves out, so their spread is not seed noise alone.")
    if "run" in r and len(np.unique(np.asarray(r["run"]))) < len(r):
        notes.append("the rows include several checkpoints per run, whose noise shares the run's offset: the "
                     "configurations are not independent and the df overstate the evidence (use each run's final "
                     "checkpoint, checkpoint_weights(per_run='final').runs, for a strict estimate)")
    for msg in warns:
        warnings.warn(f"seed_noise: {msg}", UserWarning, stacklevel=2)
    return SeedNoise(by=by, target=target, pooled_sd=pooled, df=dof, n_configs=n_cfg, n_repeated=n_rep,
                     n_rows=len(r), table=tuple(table), index=np.asarray(index), notes=tuple(notes),
                     warnings=tuple(warns))


# --------------------------------------------------------------------------- fits
def _prepared(runs: Runs, *, min_fraction: float, weights: str, final_tokens: Any, seed_by: Sequence[str],
              prior_df: float, fn: str) -> CheckpointWeights:
    if not isinstance(weights, str) or weights not in SCHEMES:
        raise LawError(f"`{fn}(weights=...)`: unknown scheme {weights!r}; choose one of "
                       f"{', '.join(repr(s) for s in SCHEMES)} (or call sl.fit with your own weights).",
                       rule="unknown scheme", value=repr(weights))
    per_run = {"per_run": "equal", "seed": "equal", "none": "none", "final": "final"}[weights]
    cw = checkpoint_weights(runs, min_fraction=min_fraction, per_run=per_run, final_tokens=final_tokens)
    if weights == "seed":
        cw = cw.with_seed_noise(by=seed_by, prior_df=prior_df)
    return cw


def fit_checkpoints(law: Law, runs: Any, *, min_fraction: float = 0.5, weights: str = "per_run",
                    final_tokens: Mapping[Any, float] | None = None, seed_by: Sequence[str] = ("params", "tokens"),
                    prior_df: float = DEFAULT_PRIOR_DF, **fit_kwargs: Any) -> Fit:
    """Fit ``law`` to checkpoint logs: early checkpoints dropped, the rest weighted per run.

    weights : ``"per_run"``: 1/(the run's kept checkpoints) per row (:func:`checkpoint_weights`,
        ``per_run="equal"``); ``"seed"``: that times the inverse-variance weights of
        :func:`seed_noise` on the kept rows (configurations by ``seed_by``, shrinkage ``prior_df``);
        ``"none"``: 1 per kept row; ``"final"``: each run's last checkpoint only.
    min_fraction, final_tokens : as in :func:`checkpoint_weights`.
    fit_kwargs : passed to :func:`scalinglaws.fit` (``objective``, ``starts``, ``fixed``, ...).

    The fit's data are ``checkpoint_weights(...).weighted_runs`` (its data hash is theirs); for
    intervals, bootstrap those by run: ``sl.bootstrap(fit, cw.weighted_runs, by="run")``. The
    fit's notes record the scheme and the rows dropped.
    """
    if not isinstance(law, Law):
        raise LawError(f"`fit_checkpoints(law, ...)`: law must be a Law such as sl.laws.Chinchilla(), got "
                       f"{type(law).__name__}.", rule="bad law")
    if "weights" in fit_kwargs or "by" in fit_kwargs:
        raise LawError("`fit_checkpoints`: weights come from the checkpoint scheme (weights='per_run'|'seed'|'none'|"
                       "'final'); call sl.fit directly for your own weights or by=.", rule="bad argument")
    r = coerce_runs(law, runs, fn="fit_checkpoints")
    cw = _prepared(r, min_fraction=min_fraction, weights=weights, final_tokens=final_tokens, seed_by=seed_by,
                   prior_df=prior_df, fn="fit_checkpoints")
    f = _fit(law, cw.weighted_runs, **fit_kwargs)
    note = (f"fit_checkpoints: weights={weights!r}, min_fraction={cw.min_fraction:g}: {len(cw.runs)} of "
            f"{cw.n_rows_in} checkpoint rows of {cw.n_runs} runs")
    extra = tuple(n for n in cw.notes if n not in f.notes)
    return dataclasses.replace(f, notes=tuple(f.notes) + extra + (note,))


@dataclass(frozen=True)
class CheckpointBacktest(Reported):
    """A final-only fit against a checkpoint fit, both predicting the same held-out final losses.

    ``final`` and ``checkpoints`` are the two :class:`~scalinglaws.fitting.backtest.Backtest`
    results; ``rows()`` sets them side by side per held-out run (``predicted_final``,
    ``predicted_checkpoints``, errors, ``covered_*``); ``rmse_*`` and ``coverage_*`` summarise.
    """

    law: Law
    holdout: str
    min_fraction: float
    weights: str
    final: Any
    checkpoints: Any
    n_train_runs: int
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def rmse_final(self) -> float:
        return self.final.rmse

    @property
    def rmse_checkpoints(self) -> float:
        return self.checkpoints.rmse

    @property
    def coverage_final(self) -> float:
        return self.final.coverage

    @property
    def coverage_checkpoints(self) -> float:
        return self.checkpoints.coverage

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for a, b in zip(self.final.rows(), self.checkpoints.rows()):
            row = {k: a[k] for k in ("run", "params", "tokens", "flops") if k in a}
            row.update(observed=a["observed"], predicted_final=a["predicted"], predicted_checkpoints=b["predicted"],
                       error_final=a["error"], error_checkpoints=b["error"], covered_final=a["covered"],
                       covered_checkpoints=b["covered"], extrapolation=a["extrapolation"])
            out.append(row)
        return out

    def _headline(self) -> str:
        f, c = self.final, self.checkpoints
        return (f"[[CheckpointBacktest]] law={self.law.name}  holdout={self.holdout}  held-out runs={f.n}  training "
                f"runs={self.n_train_runs}\n"
                f"    final-only:  rmse={f.rmse:.4g}  coverage of {f.level:.0%} intervals={f.coverage:.0%}  "
                f"({f.splits[0]['n_train']} rows)\n"
                f"    checkpoints: rmse={c.rmse:.4g}  coverage of {c.level:.0%} intervals={c.coverage:.0%}  "
                f"({c.splits[0]['n_train']} rows, weights={self.weights!r}, min_fraction={self.min_fraction:g})")

    def _body(self) -> str:
        cols = {"run": "run", "params": "params", "tokens": "tokens", "observed": "observed",
                "predicted_final": "pred.final", "predicted_checkpoints": "pred.ckpt", "error_final": "err.final",
                "error_checkpoints": "err.ckpt", "covered_final": "cov.final", "covered_checkpoints": "cov.ckpt",
                "extrapolation": "log10(C/Cmax)"}
        rows = self.rows()
        return format_rows(rows, {k: v for k, v in cols.items() if rows and k in rows[0]})

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(rows=plain(self.rows()), rmse_final=plain(self.rmse_final),
                   rmse_checkpoints=plain(self.rmse_checkpoints), coverage_final=plain(self.coverage_final),
                   coverage_checkpoints=plain(self.coverage_checkpoints))
        return out


def compare_checkpoint_fits(law: Law, runs: Any, *, holdout: str = "compute", threshold: float | None = None,
                            fraction: float = 0.8, min_fraction: float = 0.5, weights: str = "per_run",
                            seed_by: Sequence[str] = ("params", "tokens"), prior_df: float = DEFAULT_PRIOR_DF,
                            objective: Any = None, n_boot: int = 200, level: float = 0.90, seed: int = 0,
                            starts: Any = None, boot_starts: int = 1, noise: Any = None) -> CheckpointBacktest:
    """Backtest a final-only fit against a checkpoint fit on the same held-out runs.

    The split is by run: ``holdout="compute"`` holds out the runs whose final flops (their last
    checkpoint's) are >= ``threshold`` (default: the ``fraction`` quantile of the runs' final
    flops); ``"largest"`` the runs of the largest params. Every checkpoint of a held-out run is
    left out of both fits. The final-only fit sees the last checkpoint of each training run; the
    checkpoint fit all their checkpoints with ``tokens >= min_fraction x`` the run's final
    tokens, weighted by ``weights`` (as in :func:`fit_checkpoints`). Both predict the held-out
    runs' final losses, with bootstrap intervals resampling training *runs* (a run's checkpoints
    move together) and, with ``noise`` (log-space sd or a ``SeedNoise``), the runs' own noise.
    """
    from .backtest import _held_out_rows, _noise_sd, check_interval_args, interval_note, Backtest

    if not isinstance(law, Law):
        raise LawError(f"`compare_checkpoint_fits(law, ...)`: law must be a Law such as sl.laws.Chinchilla(), got "
                       f"{type(law).__name__}.", rule="bad law")
    if holdout not in ("compute", "largest"):
        raise LawError(f"`compare_checkpoint_fits(holdout=...)`: unknown holdout {holdout!r}; choose 'compute' or "
                       "'largest'.", rule="unknown holdout", value=holdout)
    check_interval_args(law, level, n_boot, fn="compare_checkpoint_fits")
    sd = _noise_sd(noise)
    mf = _check_fraction(min_fraction, "compare_checkpoint_fits")
    r = coerce_runs(law, runs, fn="compare_checkpoint_fits")
    objective = objective if objective is not None else default_objective(law)
    finals = checkpoint_weights(r, per_run="final").runs
    if holdout == "compute":
        if "flops" not in finals:
            raise LawError(f"{r.source}: `compare_checkpoint_fits(holdout='compute')` needs a flops column.",
                           source=r.source, column="flops", rule="missing column")
        c = np.asarray(finals["flops"], dtype=np.float64)
        if threshold is None:
            if not 0 < fraction < 1:
                raise LawError(f"`compare_checkpoint_fits(fraction=...)` must be in (0, 1), got {fraction!r}.",
                               rule="bad fraction", value=fraction)
            threshold = float(np.quantile(c, fraction))
        held, label = c >= threshold, f"final flops >= {threshold:.3g}"
    else:
        n = np.asarray(finals["params"], dtype=np.float64)
        held, label = n == n.max(), f"params = {n.max():.3g}"
    n_held, n_train = int(held.sum()), int((~held).sum())
    need = len(law.param_names) + 1
    if n_held == 0 or n_train < need:
        raise LawError(f"{r.source}: `compare_checkpoint_fits`: the split '{label}' leaves {n_train} training run(s) "
                       f"and {n_held} held-out run(s); it needs at least {need} training runs (one more than the law's "
                       f"{len(law.param_names)} parameters, for the final-only fit) and one held-out run.",
                       source=r.source, rule="empty split" if n_held == 0 else "too few training runs", value=n_train)
    held_ids = np.asarray(finals["run"])[held]
    train = r.select(~np.isin(np.asarray(r["run"]), held_ids))
    test = finals.select(held)
    q = (1 - level) / 2
    kw = dict(objective=objective, starts=starts, n_boot=n_boot, q=q, seed=seed, boot_starts=boot_starts,
              noise=sd, boot_by="run", has_flops="flops" in r)
    cw_final = checkpoint_weights(train, per_run="final")
    cw_ckpt = _prepared(train, min_fraction=mf, weights=weights, final_tokens=None, seed_by=seed_by,
                        prior_df=prior_df, fn="compare_checkpoint_fits")
    out = {}
    for name, cw in (("final", cw_final), ("checkpoints", cw_ckpt)):
        rows, split, warns, _ = _held_out_rows(law, cw.weighted_runs, test, f"{label} ({name})", **kw)
        out[name] = Backtest(law=law, holdout=holdout, level=float(level), n_boot=int(n_boot), splits=(split,),
                             table=tuple(rows), notes=tuple(cw.notes) + (interval_note(level, n_boot, seed, sd, "runs"),),
                             warnings=tuple(warns), noise=sd)
    notes = (f"split by run: {n_held} held-out run(s) ({label}), all their checkpoints left out of both fits; "
             f"{n_train} training runs: final-only fit on their last checkpoints ({len(cw_final.runs)} rows), "
             f"checkpoint fit on {len(cw_ckpt.runs)} rows (min_fraction={mf:g}, weights={weights!r})",
             interval_note(level, n_boot, seed, sd, "runs"), _CAVEAT)
    return CheckpointBacktest(law=law, holdout=holdout, min_fraction=mf, weights=weights, final=out["final"],
                              checkpoints=out["checkpoints"], n_train_runs=n_train, notes=notes,
                              warnings=tuple(out["final"].warnings) + tuple(out["checkpoints"].warnings))


__all__ = ["CheckpointWeights", "checkpoint_weights", "SeedNoise", "seed_noise", "fit_checkpoints",
           "CheckpointBacktest", "compare_checkpoint_fits"]
