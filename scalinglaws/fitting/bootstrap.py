"""Bootstrap: resample the runs (or whole groups / problems) and refit every resample in the one
batched solve.

A resample is a weight vector (how many times each row, or each unit, was drawn), so all
resamples share the inputs and differ only in their weights: they are the dataset axis of
:func:`scalinglaws.fitting.solver.solve`, warm-started from the fit's optimum plus its best
few distinct local optima.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from scipy import special as _special

from .._jax import x64
from .._report import notes_block
from ..errors import LawError
from .result import Fit
from . import solver as _solver
from .api import coerce_runs, dataset
from .solver import SolverConfig


@dataclass(frozen=True)
class Bootstrap:
    """Refits of ``fit`` on resampled data.

    ``draws`` holds the internal parameters of every resample (NaN rows where the refit
    failed; ``n_failed`` counts them); ``public_draws()`` the user-facing ones. ``converged``
    says which refits met the stopping rule, ``steps`` how many iterations each took (SQUAREM
    iterations, summed over the passes, or LM steps; of the start kept). ``se()`` and
    ``interval(level, method)`` are dicts keyed by the public parameter names.
    """

    fit: Fit
    draws: np.ndarray
    objectives: np.ndarray
    unit: str
    seed: int
    n_failed: int
    jackknife: np.ndarray | None = None
    converged: np.ndarray | None = field(default=None, repr=False)
    steps: np.ndarray | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return int(self.draws.shape[0])

    @property
    def ok(self) -> np.ndarray:
        return np.all(np.isfinite(self.draws), axis=1) & np.isfinite(self.objectives)

    def public_draws(self) -> dict[str, np.ndarray]:
        """Public parameters of the successful resamples, name -> (n_ok,) array."""
        law = self.fit.law
        rows = [law.public(dict(zip(law.param_names, t))) for t in self.draws[self.ok]]
        return {k: np.array([r[k] for r in rows], dtype=np.float64) for k in self.fit.params}

    def predict(self, data: Any = None, *, level: float = 0.9, noise: float = 0.0, **columns: Any):
        """The law's prediction for ``data`` (runs, a mapping or keyword arrays, as
        :meth:`Fit.predict`) with an equal-tailed ``level`` interval over the resamples: a
        :class:`~scalinglaws.fitting.prediction.Prediction` (``.value``, ``.lo``, ``.hi``,
        ``.draws``). ``noise=``: a standard deviation in the fitted space (log loss by
        default) to add for a new observation's interval."""
        from .prediction import predict_sample

        return predict_sample(self, data, level=level, noise=noise, fn="Bootstrap.predict", **columns)

    def se(self) -> dict[str, float]:
        """Bootstrap standard errors (standard deviation of the draws, ddof=1)."""
        return {k: float(np.std(v, ddof=1)) for k, v in self.public_draws().items()}

    def interval(self, level: float = 0.95, method: str = "percentile") -> dict[str, tuple[float, float]]:
        """Two-sided intervals: ``"percentile"`` (the draws' quantiles) or ``"bca"``
        (bias-corrected and accelerated, Efron 1987; the acceleration from a jackknife over
        the resampled units)."""
        if not 0 < level < 1:
            raise ValueError(f"interval(level=...) must be in (0, 1), got {level!r}.")
        if method not in ("percentile", "bca"):
            raise ValueError(f"interval(method=...) must be 'percentile' or 'bca', got {method!r}.")
        q = (1 - level) / 2
        draws = self.public_draws()
        if method == "percentile":
            return {k: (float(np.quantile(v, q)), float(np.quantile(v, 1 - q))) for k, v in draws.items()}
        if self.jackknife is None:
            raise ValueError("interval(method='bca') needs the jackknife; run sl.bootstrap(..., bca=True).")
        law = self.fit.law
        jk_rows = [law.public(dict(zip(law.param_names, t))) for t in self.jackknife if np.all(np.isfinite(t))]
        out = {}
        for k, v in draws.items():
            est = self.fit.params[k]
            frac = (np.sum(v < est) + 0.5 * np.sum(v == est)) / len(v)
            z0 = _special.ndtri(min(max(frac, 1.0 / (2 * len(v))), 1 - 1.0 / (2 * len(v))))
            jk = np.array([r[k] for r in jk_rows])
            d = jk.mean() - jk
            den = 6.0 * np.sum(d * d) ** 1.5
            a = float(np.sum(d ** 3) / den) if den > 0 else 0.0
            lohi = []
            for z in (_special.ndtri(q), _special.ndtri(1 - q)):
                alpha = _special.ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
                lohi.append(float(np.quantile(v, alpha)))
            out[k] = (lohi[0], lohi[1])
        return out

    def rows(self) -> list[dict[str, Any]]:
        se, ci = self.se(), self.interval(0.95)
        return [{"parameter": k, "estimate": v, "se": se[k], "ci95_lo": ci[k][0], "ci95_hi": ci[k][1]}
                for k, v in self.fit.params.items()]

    def report(self) -> str:
        lines = [f"[[Bootstrap]] law={self.fit.law.name}  resamples={self.n} (of {self.unit})  seed={self.seed}  "
                 f"failed={self.n_failed}",
                 f"{'parameter':>10}  {'estimate':>12}  {'s.e.':>10}  {'95% interval (percentile)':>30}"]
        for r in self.rows():
            lines.append(f"{r['parameter']:>10}  {r['estimate']:>12.6g}  {r['se']:>10.4g}  "
                         f"({r['ci95_lo']:.6g}, {r['ci95_hi']:.6g})".rjust(30))
        lines += notes_block(self.notes, self.warnings, sections=("[[Notes]]", "[[Warnings]]"), indent="    ")
        return "\n".join(lines)

    def to_dict(self, draws: bool = False) -> dict[str, Any]:
        """JSON-able summary; ``draws=True`` adds the internal draws so that
        :func:`bootstrap_from_dict` can rebuild the bootstrap (the CLI saves them in the fit file)."""
        out = {"law": self.fit.law.name, "resamples": self.n, "unit": self.unit, "seed": self.seed,
               "failed": self.n_failed, "se": self.se(),
               "interval90": {k: list(v) for k, v in self.interval(0.90).items()},
               "interval95": {k: list(v) for k, v in self.interval(0.95).items()},
               "notes": list(self.notes), "warnings": list(self.warnings)}
        if draws:
            out["param_names"] = list(self.fit.law.param_names)
            out["draws"] = [[None if not np.isfinite(x) else float(x) for x in row] for row in self.draws]
            out["objectives"] = [None if not np.isfinite(x) else float(x) for x in self.objectives]
        return out


def bootstrap_from_dict(fit: Fit, d: Mapping[str, Any]) -> Bootstrap:
    """Rebuild a :class:`Bootstrap` of ``fit`` from ``Bootstrap.to_dict(draws=True)``."""
    if "draws" not in d:
        raise LawError("this bootstrap summary holds no draws; save it with to_dict(draws=True) "
                       "('scalinglaws fit --bootstrap N -o fit.json' does).", rule="no draws")
    if list(d.get("param_names", fit.law.param_names)) != list(fit.law.param_names):
        raise LawError(f"the saved draws are of parameters {d.get('param_names')}, the fit's law has "
                       f"{list(fit.law.param_names)}.", rule="mismatched draws")
    draws = np.array([[np.nan if x is None else x for x in row] for row in d["draws"]], dtype=np.float64)
    objs = np.array([np.nan if x is None else x for x in d["objectives"]], dtype=np.float64)
    return Bootstrap(fit=fit, draws=draws, objectives=objs, unit=str(d.get("unit", "rows")),
                     seed=int(d.get("seed", 0)), n_failed=int(d.get("failed", 0)),
                     notes=tuple(d.get("notes", ())), warnings=tuple(d.get("warnings", ())))


def load_bootstrap(path: Any, fit: Fit | None = None) -> Bootstrap | None:
    """The :class:`Bootstrap` saved in a fit file by ``scalinglaws fit RUNS --bootstrap N -o FILE``
    (``Bootstrap.to_dict(draws=True)`` under its ``"bootstrap"`` entry), or None when the file holds
    no draws. ``fit``: the file's fit when already read (default: :func:`~scalinglaws.load_fit` of it).
    Raises LawError naming the file when the entry is there but not readable."""
    import json
    from pathlib import Path

    from .result import load_fit

    path = Path(path)
    if fit is None:
        fit = load_fit(path)  # LawError naming the file when it is missing or not a fit
    d = json.loads(path.read_text())
    saved = d.get("bootstrap") if isinstance(d, dict) else None
    if not (isinstance(saved, dict) and "draws" in saved):
        return None
    try:
        return bootstrap_from_dict(fit, saved)
    except LawError as exc:
        raise LawError(f"{path}: {exc.message}", source=str(path), rule=exc.rule) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise LawError(f"{path}: its 'bootstrap' entry is not readable ({exc}).", source=str(path),
                       rule="invalid fit file") from None


def _resample_counts(resamples: Any, n_units: int, unit: str) -> np.ndarray:
    """(n, n_units) draw counts from an (n, m) array of drawn unit positions."""
    R = np.asarray(resamples)
    if R.ndim != 2 or R.shape[0] < 2 or R.shape[1] < 1:
        raise LawError(f"`bootstrap(resamples=...)` must be a 2-D array (resamples x draws) with at least 2 rows, "
                       f"got shape {R.shape}.", rule="bad resamples", value=R.shape)
    if not np.issubdtype(R.dtype, np.integer):
        if not np.issubdtype(R.dtype, np.floating) or not np.all(np.isfinite(R)) or np.any(R != np.round(R)):
            bad = np.argwhere(~np.isfinite(R) | (R != np.round(R)))[0] if np.issubdtype(R.dtype, np.number) else (0, 0)
            raise LawError(f"`bootstrap(resamples=...)`: entries must be whole unit positions; resample {bad[0]}, "
                           f"draw {bad[1]} is {float(R[tuple(bad)])!r}.", rule="bad resamples", value=float(R[tuple(bad)]))
        R = R.astype(np.int64)
    out = (R < 0) | (R >= n_units)
    if np.any(out):
        b, j = np.argwhere(out)[0]
        raise LawError(f"`bootstrap(resamples=...)`: resample {b}, draw {j} is {int(R[b, j])}, outside 0..{n_units - 1} "
                       f"(the {n_units} {unit}).", rule="bad resamples", value=int(R[b, j]))
    counts = np.zeros((R.shape[0], n_units), dtype=np.float64)
    np.add.at(counts, (np.repeat(np.arange(R.shape[0]), R.shape[1]), R.ravel()), 1.0)
    return counts


def _distinct_optima(fit: Fit, k: int) -> np.ndarray:
    """The fit's optimum and up to ``k - 1`` other distinct refined local optima, best first."""
    best = fit.theta[None, :]
    s = fit.starts
    if k <= 1 or s is None:
        return best
    f = np.asarray(s.refined_objective)
    order = np.argsort(np.where(np.isfinite(f), f, np.inf), kind="stable")
    rows = [fit.theta]
    for i in order:
        t = np.asarray(s.refined_theta[i])
        if not np.all(np.isfinite(t)):
            continue
        if all(np.max(np.abs(t - r) / (1 + np.abs(r))) > 1e-4 for r in rows):
            rows.append(t)
        if len(rows) == k:
            break
    return np.asarray(rows)


# Default SQUAREM iteration caps (docs/decisions.md, "Likelihood refits run to convergence"). On
# Epoch's runs the Huber loss's refits need 7 iterations at the median and 28 at most; the Huber
# likelihood's fitted sigma puts Huber's kink at delta x sigma ~ 5e-9 on log residuals of ~0.02, a
# near-L1 objective on which Gauss-Newton (IRLS) crawls until it finds the vertex's rows: 24 at the
# median, 287 at the 99th percentile, 890 at most. The passes run only the unconverged ones on.
_SQUAREM_STEPS = 25
_SQUAREM_STEPS_SCALED = 400


def _fits_scale(objective) -> bool:
    """Whether the refit moves a fitted scale beside the parameters (solver.refit's joint mode)."""
    return hasattr(objective, "terms_at") and hasattr(objective, "scale_step")


@x64
def bootstrap(fit: Fit, runs: Any, n: int = 1000, *, seed: int = 0, starts: int = 3, by: str | None = None,
              bca: bool = False, chunk: int | None = None, max_steps: int | None = None, progress: bool | None = None,
              ftol: float = 1e-10, xtol: float = 1e-7, require_converged: bool = False,
              weights: Any = None, method: str = "squarem", resamples: Any = None) -> Bootstrap:
    """Resample ``runs`` (rows, or whole units of column ``by``: groups, problems) ``n`` times with
    replacement and refit ``fit``'s law and objective to every resample in batched solves of
    ``chunk`` refits each (a refit: one resample from one start; default 64 with SQUAREM, 1,000
    with LM).

    ``by`` is any column of the runs: ``"group"``, ``"problem"``, or ``"run"`` for run logs with
    several checkpoints per run, so that a run's checkpoints are drawn (and weighted) together: a
    resample's weight on a row is (times its run was drawn) x (the row's own weight). The rows'
    own weights are ``weights`` if given, else the ``weight`` column, else ones, as in ``sl.fit``;
    pass the weights the fit was made with (``checkpoint_weights(...).weighted_runs`` carries
    them as its ``weight`` column).

    Each refit starts from the fit's optimum and its ``starts - 1`` best other distinct local
    optima (``starts=1``: from the optimum only, as Epoch's protocol refits from one point).
    ``bca=True`` also runs the jackknife (one refit per left-out unit) that
    ``interval(method="bca")`` needs.

    ``method="squarem"`` (default): Gauss-Newton steps accelerated by SQUAREM
    (:func:`scalinglaws.fitting.solver.refit`), at most ``max_steps`` iterations (three
    Gauss-Newton steps each; default 25, or 400 for an objective with a fitted scale such as
    ``HuberLikelihood``, whose refits are near-L1 and slow), stopping when an iteration lowers the
    objective by at most ``ftol`` relative; ``method="lm"``: the fit's Levenberg-Marquardt solve,
    at most ``max_steps`` steps (default 200), stopping on ``ftol`` and ``xtol``. The refits run
    in passes (8, 8, 16, 32, ... iterations), each only for the refits not yet converged, so a
    high cap costs only the slow resamples. On Epoch's runs every SQUAREM refit converges with
    these defaults (benchmarks/bench_bootstrap.py; tests/test_bootstrap_convergence.py checks the
    converged refits against 3,000-step LM ones).
    Seeded (numpy's default generator) and reproducible.

    ``resamples=``: the resamples themselves, an integer array of shape (n, m) whose row b lists
    the units (row positions, or unit numbers of ``by`` in sorted order) drawn for resample b,
    with repeats; ``n`` and ``seed`` are then ignored. It reproduces another study's bootstrap
    draw for draw: e.g. Epoch AI's, which drew ``np.random.choice`` rows after
    ``np.random.seed(42)`` (tests/test_bootstrap_epoch.py).
    Resamples whose refit fails are counted, warned about and left out of the statistics.
    """
    if not isinstance(fit, Fit):
        raise LawError(f"`bootstrap(fit, ...)`: expected a Fit from sl.fit, got {type(fit).__name__}.", rule="bad fit")
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise LawError(f"`bootstrap(n=...)`: needs at least 2 resamples, got {n!r}.", rule="bad n", value=n)
    law, objective = fit.law, fit.objective_spec
    r = coerce_runs(law, runs, fn="bootstrap")
    if r.data_hash() != fit.data_hash:
        warnings.warn("bootstrap: these runs are not the ones the fit was made from (their data hash differs); "
                      "the resamples are of the runs given.", UserWarning, stacklevel=2)
    d = dataset(law, r, objective, weights)
    if by is None:
        unit_of, n_units, unit = np.arange(d.n), d.n, "rows"
    else:
        if by not in r:
            raise LawError(f"{r.source}: `bootstrap(by={by!r})`: no column {by!r}; available: {', '.join(r.names)}.",
                           source=r.source, column=by, rule="missing column")
        _, unit_of = np.unique(np.asarray(r[by]), return_inverse=True)
        unit_of = unit_of.reshape(-1)
        n_units, unit = int(unit_of.max()) + 1, f"{by} units"
    if resamples is None:
        rng = np.random.default_rng(seed)
        counts = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=int(n)).astype(np.float64)
    else:
        counts = _resample_counts(resamples, n_units, unit)
        n = counts.shape[0]
    W = counts[:, unit_of] * d.w[None, :]
    theta0 = _distinct_optima(fit, int(starts))
    fixed_mask = np.array([name in fit.fixed for name in law.param_names])
    if method not in ("squarem", "lm"):
        raise LawError(f"`bootstrap(method=...)` must be 'squarem' or 'lm', got {method!r}.", rule="bad method",
                       value=method)
    if max_steps is None:
        max_steps = (_SQUAREM_STEPS_SCALED if _fits_scale(objective) else _SQUAREM_STEPS) if method == "squarem" else 200
    if chunk is None:  # small batches keep each while-loop short and the Jacobians in cache
        chunk = 64 if method == "squarem" else 1000
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise LawError(f"`bootstrap(chunk=...)` must be a whole number >= 1, got {chunk!r}.", rule="bad chunk",
                       value=chunk)
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise LawError(f"`bootstrap(max_steps=...)` must be a whole number >= 1, got {max_steps!r}.",
                       rule="bad max_steps", value=max_steps)
    cfg = SolverConfig(refine=None, refine_steps=0, finish=None, max_steps=int(max_steps), polish=0,
                       ftol=float(ftol), xtol=float(xtol))

    def solve_chunk(U: np.ndarray, w: np.ndarray, iters: int) -> tuple[np.ndarray, ...]:
        """(theta (G, S, p), f (G, S), done (G, S), steps (G, S)) of the refits of one chunk."""
        if method == "squarem":
            o = _solver.refit(law, objective, U, d.X, d.y, w, fixed_mask, iters=int(iters), ftol=float(ftol))
            return o["theta"], o["f"], o["done"], o["steps"]
        o = _solver.solve(law, objective, cfg, U, d.X, d.y, w, fixed_mask, share_x=True)
        return o["refined_theta"], o["refined_f"], o["refined_done"], o["refined_steps"]

    # SQUAREM refits run in passes: every refit takes the first pass's iterations; only those not
    # yet converged go on, repacked into full batches, from where they stopped. A batched while-loop runs
    # until its slowest member stops, so one pass of max_steps costs every chunk its slowest resample's
    # count; on Epoch's runs the Huber refits need 7 iterations at the median but 17 at a chunk's max.
    if method == "squarem":
        schedule, used = [], 0
        while used < max_steps:
            schedule.append(min(max(8, used), int(max_steps) - used))
            used += schedule[-1]
    else:
        schedule = [int(max_steps)]

    def refit(weights: np.ndarray, label: str) -> tuple[np.ndarray, ...]:
        B, S, p = weights.shape[0], theta0.shape[0], theta0.shape[1]
        # every (resample, start) pair is its own refit, so a pass repacks only the pairs not yet
        # converged (a resample with one slow start does not carry its finished ones along); batches
        # of ``chunk`` pairs, one start each (one compilation whatever ``starts`` is)
        th_all = np.broadcast_to(theta0, (B, S, p)).reshape(B * S, p).copy()
        f_all, done_all = np.full(B * S, np.inf), np.zeros(B * S, dtype=bool)
        steps_all = np.zeros(B * S, dtype=np.int64)
        of = np.repeat(np.arange(B), S)  # the resample of each pair
        batch = int(chunk)
        bar = None
        if progress is not False and B > int(chunk):
            try:
                from tqdm.auto import tqdm

                bar = tqdm(total=B, desc=label, unit="resample", disable=None if progress is None else not progress)
            except ImportError:  # pragma: no cover
                pass
        pending = np.arange(B * S)
        finished = np.zeros(B, dtype=bool)
        for k, iters in enumerate(schedule):
            for lo in range(0, len(pending), batch):
                idx = pending[lo:lo + batch]
                pad = np.concatenate([idx, np.full(batch - len(idx), idx[0])]) if len(schedule) > 1 else idx
                th, f, done, steps = solve_chunk(th_all[pad][:, None, :], weights[of[pad]], iters)
                m = len(idx)
                th_all[idx], f_all[idx] = th[:m, 0], f[:m, 0]
                done_all[idx] = np.asarray(done[:m, 0], dtype=bool)
                steps_all[idx] += np.asarray(steps[:m, 0], dtype=np.int64)
            pending = pending[~(done_all[pending] | ~np.isfinite(f_all[pending]))]
            if bar is not None:
                now = np.ones(B, dtype=bool)
                now[of[pending]] = False
                bar.update(int(np.sum(now & ~finished)) if k < len(schedule) - 1 else int(np.sum(~finished)))
                finished = now
            if not len(pending):
                break
        if bar is not None:
            bar.close()
        th_all, f_all = th_all.reshape(B, S, p), f_all.reshape(B, S)
        done_all, steps_all = done_all.reshape(B, S), steps_all.reshape(B, S)
        j = np.argmin(np.where(np.isfinite(f_all), f_all, np.inf), axis=1)
        pick = np.arange(B)
        th, fj = th_all[pick, j], f_all[pick, j]
        conv = done_all[pick, j]
        good = np.isfinite(fj) & np.all(np.isfinite(th), axis=1)
        if require_converged:
            good &= conv
        thetas, objs = np.full((B, theta0.shape[1]), np.nan), np.full(B, np.nan)
        thetas[good], objs[good] = th[good], fj[good]
        return thetas, objs, conv & good, steps_all[pick, j]

    thetas, objs, converged, steps = refit(W, "bootstrap")
    usable = np.all(np.isfinite(thetas), axis=1) & np.isfinite(objs)
    n_failed = int(np.sum(~usable))
    n_unconv = int(np.sum(usable & ~converged))
    warns = []
    if n_failed:
        warns.append(f"{n_failed} of {n} resample refits failed ("
                     f"{'not converged within max_steps=%d, or ' % max_steps if require_converged else ''}"
                     f"no finite objective); they are left out of the standard errors and intervals.")
    jk = None
    if bca:
        J = np.ones((n_units, n_units)) - np.eye(n_units)
        jk, _, _, _ = refit(J[:, unit_of] * d.w[None, :], "jackknife")
    rule = f"ftol={ftol:g}" + (f", xtol={xtol:g}" if method == "lm" else "")
    notes = ((f"{n_unconv} of {n} refits stopped at max_steps={max_steps} before meeting {rule}; they are kept "
              f"(require_converged=True drops them)",) if n_unconv else ()) + (
        f"{n} resamples of {n_units} {unit} ({'given by resamples=' if resamples is not None else f'seed {seed}'}), each refitted ({'SQUAREM-accelerated Gauss-Newton' if method == 'squarem' else 'Levenberg-Marquardt'}) from {len(theta0)} start(s): the fit's "
             f"optimum{' and its best other distinct local optima' if len(theta0) > 1 else ''}",)
    for msg in warns:
        warnings.warn(f"bootstrap: {msg}", UserWarning, stacklevel=2)
    return Bootstrap(fit=fit, draws=thetas, objectives=objs, unit=unit, seed=int(seed), n_failed=n_failed,
                     jackknife=jk, notes=notes, warnings=tuple(warns), converged=converged,
                     steps=steps)


__all__ = ["Bootstrap", "bootstrap", "bootstrap_from_dict", "load_bootstrap"]
