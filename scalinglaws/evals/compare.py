"""Per-model inference curves: how productive is extra inference for each model?

:func:`compare_models` fits one inference law per model (Coverage, SaturatingSamples or
SaturatingTokens from :mod:`scalinglaws.laws.coverage`) to that model's accuracy curve and
puts bootstrap intervals on every parameter, on the law's *exponent* and on its *ceiling*.
Its :class:`ModelComparison` answers, at a given per-query budget, how much accuracy one more
unit of log compute buys each model (:meth:`ModelComparison.marginal_gain`) and whose extra
inference pays more (:meth:`ModelComparison.which_pays_more`, with the probability over the
bootstrap draws).

Two kinds of input:

- **per-sample logs** (columns ``problem``, ``model``, ``correct``, optionally
  ``sample_index`` and ``inference_tokens``): :func:`~scalinglaws.evals.aggregate_samples`
  gives per-problem counts and the pass@k curve of each model; intervals come from a bootstrap
  over **problems** (problems drawn with replacement, the curve recomputed from their
  per-problem unbiased pass@k, the law refitted). When every model was run on the same
  problems the draws are paired: one draw resamples the same problems for every model, so
  differences between models are not blurred by problem-to-problem variation.
- **a curve table** (columns ``model``, ``samples`` or ``inference_tokens``, ``accuracy``):
  there are no problems to resample, so the bootstrap resamples the table's **rows** (per
  model, multinomial count weights).

Every bootstrap refit of a model runs in one jitted, vmapped batch of the package's
Levenberg-Marquardt solver, with the same array shapes for every model (one compile per law
and curve length).

The exponent is b of Coverage (c(k) = exp(a k^b)), gamma of SaturatingSamples and kappa of
SaturatingTokens; the ceiling is the law's asymptote (acc_inf, ceiling; 1 for Coverage with
b < 0, which has no ceiling below 1).

>>> cmp = compare_models(runs, law="saturating_samples")          # doctest: +SKIP
>>> print(cmp.report())                                           # doctest: +SKIP
>>> cmp.which_pays_more(64).model                                 # doctest: +SKIP

A curve table drawn from Brown et al.'s coverage fits c(k) = exp(a k^b) for Llama-3-8B-Instruct
(a = -1.33, b = -0.43) and Gemma-2B (a = -2.45, b = -0.38) on MATH gives the exponents back;
at k = 64, dc/dln k = c(k) a b k^b is 0.077 for Llama and 0.116 for Gemma:

>>> import numpy as np
>>> k = 2.0 ** np.arange(11)
>>> table = {"model": ["llama-3-8b"] * 11 + ["gemma-2b"] * 11, "samples": np.concatenate([k, k]),
...          "accuracy": np.concatenate([np.exp(-1.33 * k ** -0.43), np.exp(-2.45 * k ** -0.38)])}
>>> cmp = compare_models(table, law="coverage", n_boot=10)
>>> {m: round(cmp.params[m]["exponent"], 2) for m in cmp.models}
{'gemma-2b': -0.38, 'llama-3-8b': -0.43}
>>> cmp.which_pays_more(64).model
'gemma-2b'
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .._jax import jax, jnp, x64
from .._report import Reported, notes_block, plain
from ..errors import DataError, LawError
from ..fitting import solver
from ..fitting.api import fit
from ..fitting.solver import SolverConfig
from ..fitting.objectives import LeastSquares
from ..laws.base import Law, predict_jit
from ..laws.coverage import Coverage, PowerNoCeiling, SaturatingSamples, SaturatingTokens
from .passk import _aggregate, _factorize, _per_sample_runs, pass_at_k

__all__ = ["compare_models", "ModelComparison", "ModelCurve", "MarginalGain", "PaysMore"]

MIN_PROBLEMS = 10  # fewest problems per model for a bootstrap over problems
_LAWS = {"coverage": Coverage, "saturating_samples": SaturatingSamples, "saturating_tokens": SaturatingTokens,
         "power_no_ceiling": PowerNoCeiling}
_EXPONENT = {"coverage": "b", "saturating_samples": "gamma", "saturating_tokens": "kappa",
             "power_no_ceiling": "alpha"}  # public parameter names
_CEILING = {"saturating_samples": "acc_inf", "saturating_tokens": "ceiling"}  # shown once, as "ceiling"
_VARIABLES = ("samples", "inference_tokens")


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class ModelCurve(Reported):
    """One model's curve, fit and bootstrap draws.

    ``x`` / ``accuracy``: the curve fitted (budgets and mean accuracy; pass@k for per-sample
    logs). ``theta``: internal parameters of the point fit (``law.param_names`` order) and
    ``objective_value`` its objective; ``boot_theta``: internal parameters of every bootstrap
    refit (rows of NaN where a refit failed); ``n_problems``: problems behind the curve
    (``None`` for a curve table); ``tokens_per_sample``: mean inference tokens per sample when
    a per-sample curve is in tokens.
    """

    model: Any
    law: Law
    objective: Any
    x: np.ndarray
    accuracy: np.ndarray
    theta: np.ndarray
    objective_value: float
    boot_theta: np.ndarray
    n_problems: int | None = None
    tokens_per_sample: float | None = None

    @property
    def internal(self) -> dict[str, float]:
        return {n: float(self.theta[i]) for i, n in enumerate(self.law.param_names)}

    @property
    def params(self) -> dict[str, float]:
        """Public parameters of the point fit."""
        return self.law.public(self.internal)

    @property
    def n_failed(self) -> int:
        """Bootstrap refits that failed (excluded from the intervals)."""
        return int(np.sum(~np.all(np.isfinite(self.boot_theta), axis=1)))

    @x64
    def predict(self, budget: Any) -> np.ndarray:
        """Accuracy of the point fit at ``budget`` (array)."""
        b = jnp.asarray(np.atleast_1d(np.asarray(budget, dtype=np.float64)))
        p = {k: jnp.asarray(v) for k, v in self.internal.items()}
        return np.asarray(predict_jit(self.law, p, {self.law.inputs[0]: b}), dtype=np.float64)

    @x64
    def as_fit(self):
        """The same curve fitted by :func:`scalinglaws.fit` (a full :class:`~scalinglaws.Fit`
        with its report and diagnostics; compiles the package solver once per law)."""
        return fit(self.law, {self.law.inputs[0]: self.x, self.law.target: self.accuracy}, objective=self.objective)


@dataclass(frozen=True)
class MarginalGain(Reported):
    """d accuracy / d ln(budget) at ``budget``: point estimate and bootstrap interval
    (arrays when the budget was an array). ``extrapolated``: the budget lies outside the
    budgets the model's curve was fitted on."""

    model: Any
    budget: Any
    estimate: Any
    lo: Any
    hi: Any
    extrapolated: bool

    @property
    def per_doubling(self) -> Any:
        """Accuracy gained by doubling the budget, to first order (estimate x ln 2)."""
        return self.estimate * math.log(2.0)


@dataclass(frozen=True)
class PaysMore(Reported):
    """Whose extra inference gains more at ``budget``: ``model`` has the largest point
    estimate of d accuracy / d ln(budget); ``probability`` is the fraction of bootstrap draws
    in which it is also the largest. ``gains`` holds every model's :class:`MarginalGain`."""

    budget: float
    model: Any
    probability: float
    gains: dict[Any, MarginalGain]

    def __str__(self) -> str:
        g = self.gains[self.model]
        return (f"at {self.budget:g}: {self.model!r} gains more from extra inference "
                f"(d acc / d ln budget = {g.estimate:.4g}, probability {self.probability:.2f} over the bootstrap)")


@dataclass(frozen=True)
class ModelComparison(Reported):
    """The outcome of :func:`compare_models`.

    ``params[model]``: public parameters of the point fit plus ``exponent`` and ``ceiling``;
    ``intervals[model]``: name -> (lo, hi), equal-tailed percentile bootstrap intervals at
    ``level``; ``curves[model]``: the :class:`ModelCurve` with the fit and the draws.
    ``resampled``: ``"problems"`` or ``"rows"``; ``paired``: whether one draw resampled the
    same problems for every model.
    """

    law: Law
    variable: str
    level: float
    n_boot: int
    resampled: str
    paired: bool
    models: tuple
    curves: dict[Any, ModelCurve]
    params: dict[Any, dict[str, float]]
    intervals: dict[Any, dict[str, tuple[float, float]]]
    exponent_name: str | None = None
    seed: int = 0
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    _draws: dict[Any, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    # -- derived quantities -------------------------------------------------------------
    @x64
    def draws(self, model: Any) -> dict[str, np.ndarray]:
        """Bootstrap draws of every reported quantity of ``model`` (NaN where a refit failed)."""
        return dict(self._draws[self._key(model)])

    def _key(self, model: Any) -> Any:
        if model in self.curves:
            return model
        raise DataError(f"ModelComparison: no model {model!r}; the models are {list(self.models)!r}.",
                        column="model", rule="unknown model", value=model)

    def _gains(self, model: Any, budget: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point gains, draws x budgets gains) of d acc / d ln budget."""
        cur = self.curves[model]
        fn = _gain_fn(self.law)
        ok = np.all(np.isfinite(cur.boot_theta), axis=1)
        theta = np.vstack([cur.theta[None, :], np.where(ok[:, None], cur.boot_theta, cur.theta[None, :])])
        g = np.asarray(fn(jnp.asarray(theta), jnp.asarray(np.log(budget))))
        boot = g[1:].copy()
        boot[~ok] = np.nan
        return g[0], boot

    @x64
    def marginal_gain(self, budget: Any) -> dict[Any, MarginalGain]:
        """d accuracy / d ln(compute) at a per-query ``budget`` (samples per problem, or
        inference tokens per query, as the curves were fitted), for each model, with
        bootstrap intervals at ``level``. The derivative is the same in any unit of compute
        proportional to the budget (tokens per sample only rescale it), so with curves in
        samples it is also the gain per ln(tokens) at that many samples."""
        b = np.asarray(budget, dtype=np.float64)
        if np.any(~np.isfinite(b)) or np.any(b <= 0):
            raise LawError(f"`marginal_gain(budget=...)`: budgets must be finite and > 0, got {budget!r}.",
                           rule="bad budget", value=budget)
        flat = np.atleast_1d(b).ravel()
        q = (1.0 - self.level) / 2.0
        out = {}
        for m in self.models:
            point, boot = self._gains(m, flat)
            lo, hi = _quantiles(boot, q)
            lo_x, hi_x = self.curves[m].x.min(), self.curves[m].x.max()
            extra = bool(np.any((flat < lo_x * (1 - 1e-12)) | (flat > hi_x * (1 + 1e-12))))
            shape = b.shape
            conv = (lambda a: float(a[0])) if b.ndim == 0 else (lambda a: a.reshape(shape))
            out[m] = MarginalGain(model=m, budget=budget, estimate=conv(point), lo=conv(lo), hi=conv(hi),
                                  extrapolated=extra)
        return out

    @x64
    def which_pays_more(self, budget: float) -> PaysMore:
        """The model whose extra inference gains more accuracy per ln(compute) at ``budget``
        (largest point estimate), and the fraction of bootstrap draws agreeing. Draws are
        matched by index: paired over problems when the models share their problems,
        independent otherwise."""
        b = float(budget)
        gains = self.marginal_gain(b)
        best = max(self.models, key=lambda m: gains[m].estimate)
        boot = np.stack([self._gains(m, np.array([b]))[1][:, 0] for m in self.models], axis=1)
        ok = np.all(np.isfinite(boot), axis=1)
        if not ok.any():
            prob = math.nan
        else:
            winners = np.argmax(boot[ok], axis=1)
            prob = float(np.mean(winners == self.models.index(best)))
        return PaysMore(budget=b, model=best, probability=prob, gains=gains)

    @x64
    def predict(self, model: Any, budget: Any) -> np.ndarray:
        """The point fit's accuracy of ``model`` at ``budget``."""
        return self.curves[self._key(model)].predict(budget)

    # -- report ----------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """One row per model: the point fit's public parameters, exponent and ceiling, each
        with its interval (``name_lo``, ``name_hi``)."""
        out = []
        for m in self.models:
            row: dict[str, Any] = {"model": plain(m), "problems": self.curves[m].n_problems,
                                   "failed_resamples": self.curves[m].n_failed}
            for n, v in self.params[m].items():
                lo, hi = self.intervals[m][n]
                row.update({n: v, f"{n}_lo": lo, f"{n}_hi": hi})
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        return plain({"type": "ModelComparison", "law": self.law, "variable": self.variable, "level": self.level,
                      "n_boot": self.n_boot, "resampled": self.resampled, "paired": self.paired,
                      "models": list(self.models), "seed": self.seed, "exponent_name": self.exponent_name,
                      "rows": self.rows(), "notes": self.notes, "warnings": self.warnings})

    def report(self, budgets: Sequence[float] = ()) -> str:
        """A readable table: each model's parameters with intervals, the exponent and the
        ceiling; with ``budgets``, also each model's d acc / d ln budget there; then the
        notes and warnings (rows left out of the fits, failed resamples)."""
        pct = f"{100 * self.level:g}%"
        what = ("problems" + (", paired across models" if self.paired else "")) if self.resampled == "problems" \
            else "curve rows"
        lines = [f"{self.law.name} on {self.variable!r}: {pct} bootstrap intervals over {what}, "
                 f"{self.n_boot} draws"]
        same = (self.exponent_name, _CEILING.get(self.law.name))
        names = ["exponent", "ceiling"] + [n for n in self.law.public_names if n not in same]
        heads = [f"exponent ({self.exponent_name})" if self.exponent_name else "exponent", "ceiling"] + names[2:]
        for b in budgets:
            heads.append(f"gain@{b:g}")
        rows = []
        gains = {b: self.marginal_gain(b) for b in budgets}
        for m in self.models:
            row = [str(m), "-" if self.curves[m].n_problems is None else str(self.curves[m].n_problems)]
            for n in names:
                lo, hi = self.intervals[m][n]
                row.append(f"{_g(self.params[m][n])} [{_g(lo)}, {_g(hi)}]")
            for b in budgets:
                g = gains[b][m]
                row.append(f"{_g(g.estimate)} [{_g(g.lo)}, {_g(g.hi)}]" + ("*" if g.extrapolated else ""))
            rows.append(row)
        heads = ["model", "problems"] + heads
        width = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
        fmt = "  ".join(f"{{:<{w}}}" for w in width)
        lines.append(fmt.format(*heads))
        lines.extend(fmt.format(*r) for r in rows)
        if budgets:
            lines.append("gain@B: d accuracy / d ln(budget) at budget B (* = outside the fitted budgets)")
            for b in budgets:
                lines.append("  " + str(self.which_pays_more(b)))
        lines += notes_block(self.notes, self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def _g(v: float) -> str:
    return "nan" if v is None or np.isnan(v) else f"{v:.4g}"


def _quantiles(draws: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise (q, 1-q) quantiles over the draws without NaN (failed refits); an
    infinite value (the ceiling of a law without one) is kept."""
    lo = np.full(draws.shape[1:], np.nan)
    hi = np.full(draws.shape[1:], np.nan)
    ok = ~np.any(np.isnan(draws.reshape(draws.shape[0], -1)), axis=1)
    if ok.sum() >= 2:
        with np.errstate(invalid="ignore"):
            lo, hi = np.quantile(draws[ok], [q, 1.0 - q], axis=0)
        same = np.all(draws[ok] == draws[ok][0], axis=0)  # e.g. all infinite: inf - inf is no quantile
        lo, hi = np.where(same, draws[ok][0], lo), np.where(same, draws[ok][0], hi)
    elif ok.sum() == 1:
        lo = hi = draws[ok][0]
    return lo, hi


# ---------------------------------------------------------------------------------------
# jitted helpers


@functools.lru_cache(maxsize=16)
def _gain_fn(law: Law):
    """(thetas (B, p), log budgets (K,)) -> (B, K) d acc / d ln budget, jitted."""
    var = law.inputs[0]

    def acc(theta, lx):
        return law.predict(law.unpack(theta), {var: jnp.exp(lx)})

    g = jax.grad(acc, argnums=1)
    return jax.jit(jax.vmap(jax.vmap(g, in_axes=(None, 0)), in_axes=(0, None)))


LM_STEPS = 500  # cap on Levenberg-Marquardt iterations of each fit (2-3 parameters, ~20 points)
BOOT_STARTS = 4  # starts of each bootstrap refit: the best distinct local optima of the point fit


# Each lane (a start on a dataset: the point fit's starts, then every bootstrap draw's few starts)
# is one dataset of the package's one batched solver, run as a plain Levenberg-Marquardt to
# convergence: no screening (every lane is refined), no Newton polish (not even traced, so a
# comparison compiles in about a second).
LANE_SOLVER = SolverConfig(refine=None, refine_steps=0, finish=None, max_steps=LM_STEPS, polish=0, ftol=1e-12)


def _bucket(n: int) -> int:
    """Lanes are padded up to a power of two (at least 64), so nearby sizes share a compile."""
    return max(64, 1 << (max(n, 1) - 1).bit_length())


def _fit_lanes(law: Law, objective: Any, starts: np.ndarray, X: np.ndarray, Y: np.ndarray, W: np.ndarray,
               size: int) -> tuple[np.ndarray, np.ndarray]:
    """One fit of ``law`` per lane: internal ``starts`` (L, p) and data ``X``, ``Y``, ``W``
    (L, n). Returns internal parameters (L, p) and objective values (L,), NaN where the fit
    reached no finite objective. Lanes are padded to ``size`` with copies of lane 0."""
    if objective.extra_params:
        raise LawError(f"compare_models: objective {objective.name!r} fits extra parameters; use Huber() or "
                       f"LeastSquares().", rule="bad objective")
    L = starts.shape[0]
    if size > L:
        idx = np.concatenate([np.arange(L), np.zeros(size - L, dtype=np.int64)])
        starts, X, Y, W = starts[idx], X[idx], Y[idx], W[idx]
    if objective.space == "log":  # rows with accuracy 0 carry no weight in log space (warned by the caller)
        W = np.where(Y > 0, W, 0.0)
        Y = np.where(Y > 0, Y, 1.0)
    out = solver.solve(law, objective, LANE_SOLVER, starts[:, None, :], {law.inputs[0]: np.asarray(X, np.float64)},
                       np.asarray(Y, np.float64), np.asarray(W, np.float64), np.zeros(starts.shape[1], dtype=bool))
    theta, f = out["refined_theta"][:, 0], out["refined_f"][:, 0]
    theta, f = np.array(theta[:L]), np.array(f[:L])
    bad = ~np.isfinite(f) | ~np.all(np.isfinite(theta), axis=1)
    theta[bad], f[bad] = np.nan, np.nan
    return theta, f


def _fit_point_and_draws(law: Law, objective: Any, grid: np.ndarray, row0: tuple, Xb: np.ndarray,
                         Yb: np.ndarray, Wb: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(point theta, its objective, bootstrap thetas (B, p)).

    The point fit starts from every row of ``grid``; each bootstrap refit from the point
    fit's ``BOOT_STARTS`` best distinct local optima. Both calls use the same lane count."""
    B, n = Xb.shape
    size = max(_bucket(len(grid)), _bucket(BOOT_STARTS * B))
    rep = lambda a: np.broadcast_to(a, (len(grid), n))  # noqa: E731
    th, f = _fit_lanes(law, objective, grid, rep(row0[0]), rep(row0[1]), rep(row0[2]), size)
    if not np.isfinite(f).any():
        return np.full(grid.shape[1], np.nan), math.nan, np.full((B, grid.shape[1]), np.nan)
    order = np.argsort(np.where(np.isfinite(f), f, np.inf), kind="stable")
    order = order[np.isfinite(f[order])]
    _, first = np.unique(np.round(th[order], 6), axis=0, return_index=True)
    picks = list(order[np.sort(first)][:BOOT_STARTS])
    picks += [order[0]] * (BOOT_STARTS - len(picks))
    S = len(picks)
    starts = np.tile(th[picks], (B, 1))  # lane b * S + j: draw b from start j
    tb, fb = _fit_lanes(law, objective, starts, np.repeat(Xb, S, axis=0), np.repeat(Yb, S, axis=0),
                        np.repeat(Wb, S, axis=0), size)
    tb, fb = tb.reshape(B, S, -1), np.where(np.isfinite(fb), fb, np.inf).reshape(B, S)
    j = np.argmin(fb, axis=1)
    best = tb[np.arange(B), j]
    best[~np.isfinite(fb[np.arange(B), j])] = np.nan
    return th[order[0]], float(f[order[0]]), best


# ---------------------------------------------------------------------------------------
# inputs


def _make_law(law: Any, x: str | None) -> Law:
    if isinstance(law, Law):
        if len(law.inputs) != 1:
            raise LawError(f"compare_models: the law must read one input (samples or inference tokens); "
                           f"{law.name!r} reads {law.inputs}.", rule="bad law")
        if x is not None and law.inputs[0] != x:
            raise LawError(f"compare_models: law {law.name!r} reads {law.inputs[0]!r} but x={x!r}.", rule="bad law")
        return law
    if law not in _LAWS:
        raise LawError(f"compare_models: unknown law {law!r}; choose one of {', '.join(map(repr, _LAWS))} "
                       f"or pass a Law.", rule="unknown law", value=law)
    if x is not None and x not in _VARIABLES:
        raise LawError(f"compare_models: x must be 'samples' or 'inference_tokens', got {x!r}.",
                       rule="bad variable", value=x)
    return _LAWS[law]() if x is None else _LAWS[law](variable=x)


def _default_objective(law: Law) -> Any:
    return LeastSquares(space="log") if law.positive and law.name != "saturating_tokens" else LeastSquares()


def _default_ks(n_min: int, num: int = 20) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, n_min, min(num, n_min))).astype(np.int64))


def _label(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _per_problem_pass(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """(problems, len(ks)) unbiased pass@k, computed once per distinct (n, c) pair."""
    pairs, inv = np.unique(np.stack([n, c], axis=1), axis=0, return_inverse=True)
    P = pass_at_k(pairs[:, :1], pairs[:, 1:], ks[None, :])
    return np.asarray(P)[inv.ravel()]


def _tokens_per_problem(cols: Mapping[str, Any], models: Sequence[Any]) -> dict[Any, tuple[np.ndarray, np.ndarray]]:
    """model -> (problem labels (sorted), mean inference tokens per sample of each problem)."""
    tok = np.asarray(cols["inference_tokens"], dtype=np.float64)
    if np.any(~np.isfinite(tok)) or np.any(tok <= 0):
        i = int(np.argmax(~np.isfinite(tok) | (tok <= 0)))
        raise DataError(f"compare_models: column 'inference_tokens', row {i}: value {tok[i]!r} is not a positive "
                        f"finite number.", column="inference_tokens", row=i, rule="not positive", value=tok[i])
    m_codes, m_labels = _factorize(np.asarray(cols["model"]))
    p_codes, p_labels = _factorize(np.asarray(cols["problem"]))
    keys, inv = np.unique(m_codes * np.int64(len(p_labels)) + p_codes, return_inverse=True)
    inv = inv.ravel()
    mean = np.bincount(inv, weights=tok, minlength=keys.size) / np.bincount(inv, minlength=keys.size)
    km = keys // len(p_labels)
    out = {}
    for j, lab in enumerate(m_labels):
        sel = km == j
        out[_label(lab)] = (p_labels[keys[sel] % len(p_labels)], mean[sel])
    return {m: out[m] for m in models if m in out}


# ---------------------------------------------------------------------------------------
# the comparison


@x64
def compare_models(runs_or_dict: Any, *, law: Any = "coverage", x: str | None = None, n_boot: int = 200,
                   seed: int = 0, level: float = 0.9, models: Sequence[Any] | None = None,
                   ks: Sequence[int] | None = None, objective: Any = None) -> ModelComparison:
    """Fit an inference law per model and compare how productive extra inference is.

    Parameters
    ----------
    runs_or_dict : per-sample logs (``problem``, ``model``, ``correct``; optional
        ``sample_index``, ``inference_tokens``) or a curve table (``model``, ``samples`` or
        ``inference_tokens``, ``accuracy``), as :class:`~scalinglaws.Runs`, a DataFrame, a
        mapping of arrays or a file path (read with :func:`~scalinglaws.read_runs`).
    law : ``"coverage"`` (default), ``"saturating_samples"``, ``"saturating_tokens"``,
        ``"power_no_ceiling"`` or a one-input :class:`~scalinglaws.laws.Law`.
    x : ``"samples"`` or ``"inference_tokens"``; default the law's own variable (samples for
        coverage and saturating_samples). For per-sample logs in tokens, the budget of k
        samples of a model is k times its mean inference tokens per sample (recomputed in
        each bootstrap draw from the problems drawn). SaturatingSamples' ``acc_1`` is the
        accuracy at a budget of 1 and is bounded to [0, 1], which suits samples, not tokens:
        in tokens use ``"coverage"`` or ``"saturating_tokens"``.
    n_boot, seed, level : bootstrap draws (>= 10), their seed, and the interval level.
    models : which models, in which order (default all, sorted).
    ks : sample counts of the pass@k curve (per-sample logs; default about 20 log-spaced
        integers from 1 to the smallest number of samples of any problem).
    objective : the fit objective; default least squares on log accuracy for Coverage (Brown
        et al. 2024), on accuracy for the plateau laws.

    Raises :class:`~scalinglaws.DataError` for missing columns, unknown models and fewer than
    10 problems per model; :class:`~scalinglaws.LawError` for an unknown law or variable and for
    curves with no more budgets than the law has parameters.
    """
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ValueError(f"compare_models: n_boot must be an integer >= 10, got {n_boot!r}.")
    if not 0.0 < level < 1.0:
        raise ValueError(f"compare_models: level must lie in (0, 1), got {level!r}.")
    law_ = _make_law(law, x)
    var = law_.inputs[0]
    objective = objective if objective is not None else _default_objective(law_)
    _, cols = _per_sample_runs(runs_or_dict, "compare_models")
    names = set(cols)
    if "model" not in names:
        raise DataError(f"compare_models: the data lacks the column 'model' that tells the models apart; columns "
                        f"present: {', '.join(sorted(map(str, names)))}. Map yours with "
                        f"read_runs(..., columns={{'model': 'Your Model Column'}}).", column="model",
                        rule="missing column")
    per_sample = "correct" in names and "problem" in names
    if not per_sample and not ({var, "accuracy"} <= names):
        need = "'problem' and 'correct' (per-sample logs)" + f" or {var!r} and 'accuracy' (a curve table)"
        raise DataError(f"compare_models: the data needs {need}; columns present: "
                        f"{', '.join(sorted(map(str, names)))}.", column="problem" if "accuracy" not in names
                        else var, rule="missing column")
    rng = np.random.default_rng(seed)
    p = len(law_.param_names)

    # ---- per-model curves and bootstrap datasets (B, n) --------------------------------
    point: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
    boot: dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    extra: dict[Any, dict[str, Any]] = {}
    if per_sample:
        used = {k: cols[k] for k in ("problem", "model", "correct", "sample_index") if k in names}  # no majority@k
        summaries = _aggregate(used, ("model",), 0, None if ks is None else ks)
        order = _select(list(summaries), models)
        too_few = [m for m in order if summaries[m].problems.size < MIN_PROBLEMS]
        if too_few:
            m = too_few[0]
            raise DataError(f"compare_models: model {m!r} has {summaries[m].problems.size} problem(s); a bootstrap "
                            f"over problems needs at least {MIN_PROBLEMS}.", column="problem",
                            rule="too few problems", value=int(summaries[m].problems.size))
        if ks is None:  # the curve is computed here from the counts, at log-spaced k
            ks_ = _default_ks(min(int(summaries[m].n.min()) for m in order))
        else:
            ks_ = np.asarray(summaries[order[0]].ks, dtype=np.int64)
        if ks_.size <= p:
            raise LawError(f"compare_models: the pass@k curve has {ks_.size} point(s) (k = {ks_.tolist()}), not more "
                           f"than the {p} parameters of {law_.name!r}; draw more samples per problem or pass ks=.",
                           rule="too few budgets", value=int(ks_.size))
        probs = [summaries[m].problems for m in order]
        paired = all(a.shape == probs[0].shape and np.array_equal(a, probs[0]) for a in probs)
        if var == "inference_tokens" and "inference_tokens" not in names:
            raise DataError("compare_models: x='inference_tokens' with per-sample logs needs an 'inference_tokens' "
                            "column (tokens of each sample).", column="inference_tokens", rule="missing column")
        tokens = _tokens_per_problem(cols, order) if var == "inference_tokens" else None
        shared_counts = rng.multinomial(probs[0].size, np.full(probs[0].size, 1.0 / probs[0].size),
                                        size=n_boot) if paired else None
        for m in order:
            s = summaries[m]
            Np = s.problems.size
            P = _per_problem_pass(s.n, s.c, ks_)
            counts = shared_counts if paired else rng.multinomial(Np, np.full(Np, 1.0 / Np), size=n_boot)
            Yb = counts @ P / Np
            y = P.mean(axis=0)
            xk = ks_.astype(np.float64)
            tps = None
            if tokens is not None:
                labels, t = tokens[m]
                if not np.array_equal(labels, s.problems):  # pragma: no cover (same factorization order)
                    raise DataError("compare_models: internal mismatch of problem labels.", rule="internal")
                tps = float(t.mean())
                Xb = (counts @ t / Np)[:, None] * xk[None, :]
                xk = xk * tps
            else:
                Xb = np.broadcast_to(xk, Yb.shape)
            point[m] = (xk, y)
            boot[m] = (np.array(Xb), Yb, np.ones_like(Yb))
            extra[m] = {"n_problems": int(Np), "tokens_per_sample": tps}
        resampled = "problems"
    else:
        m_all = np.asarray(cols["model"])
        xa = np.asarray(cols[var], dtype=np.float64)
        ya = np.asarray(cols["accuracy"], dtype=np.float64)
        m_codes, m_labels = _factorize(m_all)
        labels = [_label(v) for v in m_labels]
        order = _select(labels, models)
        n_max = max(int(np.sum(m_codes == labels.index(m))) for m in order)
        for m in order:
            sel = m_codes == labels.index(m)
            xm, ym = xa[sel], ya[sel]
            bad = ~np.isfinite(xm) | (xm <= 0) | ~np.isfinite(ym) | (ym < 0) | (ym > 1)
            if bad.any():
                i = int(np.flatnonzero(sel)[np.argmax(bad)])
                raise DataError(f"compare_models: row {i}: {var}={xa[i]!r}, accuracy={ya[i]!r}; budgets must be "
                                f"positive and accuracies in [0, 1].", row=i, rule="bad value")
            if np.unique(xm).size <= p:
                raise LawError(f"compare_models: model {m!r} has {np.unique(xm).size} distinct {var} value(s), not "
                               f"more than the {p} parameters of {law_.name!r}.", column=var,
                               rule="too few budgets", value=int(np.unique(xm).size))
            n = xm.size
            counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)
            # pad to a common length with zero-weight copies, so one compiled solver serves all models
            pad = n_max - n
            Xb = np.broadcast_to(np.concatenate([xm, np.full(pad, xm[0])]), (n_boot, n_max))
            Yb = np.broadcast_to(np.concatenate([ym, np.full(pad, ym[0])]), (n_boot, n_max))
            Wb = np.concatenate([counts, np.zeros((n_boot, pad))], axis=1)
            # a draw with no more distinct budgets than parameters is not identified
            distinct = np.array([np.unique(xm[counts[b] > 0]).size for b in range(n_boot)])
            Wb[distinct <= p] = 0.0
            point[m] = (xm, ym)
            boot[m] = (np.array(Xb), np.array(Yb), Wb)
            extra[m] = {"n_problems": None, "tokens_per_sample": None}
        paired = False
        resampled = "rows"

    # ---- what the fits leave out, said out loud ---------------------------------------------
    warns: list[str] = []
    if objective.space == "log":  # log 0 cannot be scored: such points get weight 0 in the fits
        zero = {m: point[m][0][point[m][1] <= 0] for m in order}
        n_zero = sum(z.size for z in zero.values())
        if n_zero:
            where = "; ".join(f"model {m!r} at {var} = " + ", ".join(f"{v:g}" for v in z)
                              for m, z in zero.items() if z.size)
            warns.append(f"{n_zero} curve point(s) with accuracy 0 were left out of the point fits ({where}): "
                         f"the objective is in log space ({objective.name}, space='log') and log 0 is not "
                         "defined; use a linear-space objective (objective=sl.LeastSquares()) to keep them")
        boot_zero = {m: int(np.sum((boot[m][1] <= 0) & (boot[m][2] > 0))) for m in order}
        if any(boot_zero.values()):
            where = ", ".join(f"{m!r}: {k}" for m, k in boot_zero.items() if k)
            warns.append(f"{sum(boot_zero.values())} point(s) with accuracy 0 in the bootstrap resamples were left "
                         f"out of the refits (per model: {where}), for the same reason")

    # ---- fits ------------------------------------------------------------------------------
    curves, params, intervals, all_draws = {}, {}, {}, {}
    failed: dict[Any, tuple[int, int]] = {}
    q = (1.0 - level) / 2.0
    exp_name = _EXPONENT.get(law_.name)
    for m in order:
        xm, ym = point[m]
        Xb, Yb, Wb = boot[m]
        n = Xb.shape[1]
        pad = n - xm.size  # curve tables are padded to a common length with zero weights
        row0 = (np.concatenate([xm, np.full(pad, xm[0])]), np.concatenate([ym, np.full(pad, ym[0])]),
                np.concatenate([np.ones(xm.size), np.zeros(pad)]))
        # point fit from every start of the law's grid (a fixed number for every model), then the
        # bootstrap refits from the point fit's best distinct local optima
        grid = law_.start_grid({var: xm}, ym)
        theta0, fval0, theta_b = _fit_point_and_draws(law_, objective, grid, row0, Xb, Yb, Wb)
        if not np.all(np.isfinite(theta0)):
            raise LawError(f"compare_models: no start of {law_.name!r} reached a finite objective on the curve of "
                           f"model {m!r}; check the data.", rule="fit failed", value=m)
        not_identified = np.all(Wb == 0, axis=1)
        refit_failed = ~not_identified & ~np.all(np.isfinite(theta_b), axis=1)
        theta_b[not_identified] = np.nan
        if not_identified.any() or refit_failed.any():
            failed[m] = (int(not_identified.sum()), int(refit_failed.sum()))
        draws = _derived(law_, theta_b, exp_name)
        pt = _derived(law_, theta0[None, :], exp_name)
        params[m] = {k: float(v[0]) for k, v in pt.items()}
        intervals[m] = {}
        for k, v in draws.items():
            lo, hi = _quantiles(v[:, None], q)
            intervals[m][k] = (float(lo[0]), float(hi[0]))
        all_draws[m] = draws
        curves[m] = ModelCurve(model=m, law=law_, objective=objective, x=xm, accuracy=ym, theta=theta0,
                               objective_value=fval0, boot_theta=theta_b, **extra[m])
    if failed:
        total = sum(a + b for a, b in failed.values())
        parts = []
        for m, (a, b) in failed.items():
            why = []
            if a:
                why.append(f"{a} drew no more distinct {var} values than the law's {p} parameters (not identified)")
            if b:
                why.append(f"{b} refit(s) reached no finite objective")
            parts.append(f"model {m!r}: {a + b} of {n_boot} ({'; '.join(why)})")
        warns.append(f"{total} bootstrap resample(s) failed and are left out of the intervals: " + "; ".join(parts))
    for w in warns:
        warnings.warn(f"compare_models: {w}.", UserWarning, stacklevel=2)
    return ModelComparison(law=law_, variable=var, level=float(level), n_boot=int(n_boot), resampled=resampled,
                           paired=bool(paired), models=tuple(order), curves=curves, params=params,
                           intervals=intervals, exponent_name=exp_name, seed=int(seed), warnings=tuple(warns),
                           _draws=all_draws)


def _select(available: list, models: Sequence[Any] | None) -> list:
    if models is None:
        return list(available)
    models = list(models)
    unknown = [m for m in models if m not in available]
    if unknown:
        raise DataError(f"compare_models: model(s) {unknown!r} not in the data; its models are {available!r}.",
                        column="model", rule="unknown model", value=unknown[0])
    if not models:
        raise DataError("compare_models: models= is empty.", column="model", rule="no models")
    return models


def _derived(law: Law, theta: np.ndarray, exp_name: str | None) -> dict[str, np.ndarray]:
    """Public parameters, ``exponent`` and ``ceiling`` for each row of internal parameters."""
    names = law.public_names
    out = {n: np.full(theta.shape[0], np.nan) for n in ("exponent", "ceiling") + tuple(names)}
    for i, row in enumerate(theta):
        if not np.all(np.isfinite(row)):
            continue
        internal = {n: float(row[j]) for j, n in enumerate(law.param_names)}
        pub = law.public(internal)
        for n in names:
            out[n][i] = pub[n]
        out["exponent"][i] = pub[exp_name] if exp_name in pub else np.nan
        out["ceiling"][i] = float(law.asymptote(internal))
    return out
