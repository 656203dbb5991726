"""The best configuration of training and test-time compute at equal total compute.

- :func:`exchange_multiplier`: Snell et al. (2024), how much more inference a
  model M times smaller may spend at equal total FLOPs: ``M + 3 (M - 1) / R``,
  ``R = D_inference / D_pretrain``.
- :func:`best_config`: N, D and the per-query inference (samples k, or tokens T
  per sample) that maximise predicted accuracy under one budget,

      C_total = 6 N D + queries * C_query,   C_query = 2 N (prompt_tokens + k T).

- :func:`frontier`: accuracy against total compute for each model size at its
  best inference setting, their upper (Pareto) envelope, and the free-size optimum.
- :func:`smaller_vs_larger`: the accuracy gain of the best smaller model (with
  its inference) over the best larger one at equal total compute, against
  query volume, with the crossover volumes.

Accuracy models. Anything callable as ``acc(loss, x)`` (NumPy arrays that
broadcast; ``x`` the searched inference setting: samples k by default, tokens T
per sample when ``tokens_per_sample`` is a sequence) that never rises with loss.
:class:`CoverageAccuracyModel` builds one from a loss -> per-sample success link
(e.g. :func:`sigmoid_link`, or a fitted link law) and a coverage law in k;
:func:`accuracy_model` builds one from a fitted :class:`~scalinglaws.laws.JointCoverage`.

How the search works: for a fixed setting x, per-query cost is linear in N, so
the training budget is C_total - queries * C_query(N, x) and the best (N, D) for
that x is the lowest loss on the line 6 N D + 2 N D_inf = C_total with
D_inf = queries * (prompt + k T), solved exactly by
:func:`~scalinglaws.optimize.inference_aware.lowest_loss`'s solver (vectorised
over every x). An accuracy model that never rises with loss is maximised at
that point, so the search over N is exact, not a grid; the discrete settings
are then compared. The monotonicity is checked on each call.

Settings are searched finely by default: every integer number of samples in
[1, MAX_SAMPLES] (:class:`Integers`; ``Integers(lo, hi)`` for tokens per sample
too). The search brackets the best integer on a geometric grid (two points per
octave), then narrows the bracket on evenly spaced integers until it holds at
most 16, and takes the best of those: exact for accuracy unimodal in the setting,
at a few hundred evaluations per case instead of one per integer. Where the
answer sits on the search's upper bound the result says so (``bound_hit``): the
curve stops there because the search does, not because accuracy does. An
explicit sequence of settings is searched as given (a grid), as before.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

import numpy as np
from scipy import optimize as _sopt

from .._jax import jax, x64
from .._numerics import beta_binomial_pass_at_k, sigmoid
from .._report import Reported, format_rows
from ..errors import LawError
from ..laws.base import Law
from ..laws.joint import JointCoverage
from ..laws.loss import Chinchilla
from ._resolve import resolve_law
from ._uncertain import Uncertain, is_sample, link_sample, propagate
from .inference_aware import _bucketed, _check_law, _method, _range_warnings, as_array, loss_at, lowest_logs

__all__ = ["AccuracyModel", "CoverageAccuracyModel", "sigmoid_link", "accuracy_model", "exchange_multiplier", "best_config",
           "Config", "SettingGrid", "frontier", "Frontier", "smaller_vs_larger", "Comparison", "HOFFMANN",
           "Integers", "MAX_SAMPLES", "DEFAULT_SAMPLES"]

#: Hoffmann et al. (2022) Approach 3, unrounded (internal Chinchilla parameters), the
#: default loss law when ``fit_or_law`` is None.
HOFFMANN = {"a": 6.0073404, "b": 6.0179186, "e": 0.5267228, "alpha": 0.33917084, "beta": 0.2849083}

#: the scalar quantities of a Config given intervals when computed from a bootstrap.
CONFIG_QUANTITIES = ("params", "tokens", "samples", "tokens_per_sample", "accuracy", "loss", "tokens_per_param",
                     "per_query_flops", "train_flops", "inference_flops", "train_share", "inference_share")
#: those of a Comparison (the gains and accuracies one column per query volume).
COMPARISON_QUANTITIES = ("crossover", "gain", "small_accuracy", "large_accuracy")

#: the former default grid of samples per query, 1, 2, 4, ..., 1024 (pass it as ``samples=`` to search it).
DEFAULT_SAMPLES = tuple(float(2 ** i) for i in range(11))
#: the upper bound of the default search over samples per query (every integer from 1 to 2**20).
MAX_SAMPLES = float(2 ** 20)
#: the fine search: geometric points per octave in the first pass, integers per bracket after.
_PER_OCTAVE, _BRACKET = 2, 15


@dataclass(frozen=True)
class Integers:
    """Search every integer setting from ``low`` to ``high`` (inclusive) finely: pass it as
    ``samples=`` or ``tokens_per_sample=`` of :func:`best_config`, :func:`frontier` and
    :func:`smaller_vs_larger`. The default is ``samples=Integers(1, MAX_SAMPLES)``."""

    low: float = 1.0
    high: float = MAX_SAMPLES

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v) or v < 1 \
                    or v != round(v):
                raise LawError(f"`Integers({name}=...)` must be a whole number >= 1, got {v!r}.",
                               rule="out of range", value=v)
        if self.high < self.low:
            raise LawError(f"`Integers`: need low <= high, got low={self.low:g}, high={self.high:g}.",
                           rule="out of range", value=self.high)
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))


# ---------------------------------------------------------------------------------------
# Snell et al.

@x64
def exchange_multiplier(M: Any, R: Any) -> Any:
    """Snell et al. (2024): at equal total FLOPs, a model ``M`` times smaller may
    multiply its inference compute by ``M + 3 (M - 1) / R``, where
    ``R = D_inference / D_pretrain`` (pretraining data held fixed).

    The published values for M = 14 (Snell et al., section 5):

    >>> round(exchange_multiplier(14, 0.16), 2)
    257.75
    >>> [round(float(v), 2) for v in exchange_multiplier(14, [0.79, 22.0])]
    [63.37, 15.77]
    >>> exchange_multiplier(1, 0.5)           # the same model: nothing to exchange
    1.0
    """
    m = as_array("M", M, "exchange_multiplier", lower=1.0, strict=False)
    r = as_array("R", R, "exchange_multiplier")
    out = m + 3.0 * (m - 1.0) / r
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------------------
# accuracy models

class AccuracyModel(Protocol):
    """``acc(loss, x) -> accuracy``: NumPy arrays in (broadcasting), an array of
    their broadcast shape out; ``x`` is samples per query (or tokens per sample
    when that is the searched axis). Must not rise with loss."""

    def __call__(self, loss: np.ndarray, x: np.ndarray) -> np.ndarray: ...


@x64
def sigmoid_link(midpoint: float, slope: float, floor: float = 0.0, ceiling: float = 1.0) -> Callable:
    """A loss -> per-sample success link, ``floor + (ceiling - floor) / (1 + exp(slope (L - midpoint)))``.

    This is :class:`~scalinglaws.laws.SigmoidLink`'s formula (Bhagia et al. 2024),
    ``a / (1 + exp(-k (L - L0))) + b``, with a = ceiling - floor, b = floor, L0 = midpoint
    and k = -slope: in SigmoidLink's convention k < 0, accuracy falls as loss rises, so
    here ``slope = -k > 0``. Returns a NumPy callable ``link(loss)``."""
    for name, v in (("midpoint", midpoint), ("slope", slope), ("floor", floor), ("ceiling", ceiling)):
        if not math.isfinite(v):
            raise LawError(f"`sigmoid_link({name}=...)` must be finite, got {v}.", rule="not finite", value=v)
    if slope <= 0:
        raise LawError(f"`sigmoid_link(slope=...)` must be > 0 (success falls as loss rises), got {slope}.",
                       rule="not positive", value=slope)
    if not 0.0 <= floor < ceiling <= 1.0:
        raise LawError(f"`sigmoid_link`: need 0 <= floor < ceiling <= 1, got floor={floor}, ceiling={ceiling}.",
                       rule="out of range")

    a, b, k = ceiling - floor, floor, -slope

    def link(loss):
        return np.asarray(sigmoid(np.asarray(loss, dtype=np.float64), a, b, k, midpoint), dtype=np.float64)

    return link


def _link_callable(link: Any, fn: str = "CoverageAccuracyModel") -> Callable:
    """loss -> p from a callable, a fitted one-input link (a Fit, or a ParamsLink draw), or a sample
    of one (a Bootstrap or posterior of a link fit: its point fit; the draws are for the intervals)."""
    if is_sample(link):
        fit = link.fit
        law = getattr(fit, "law", None)
        if law is None or not hasattr(fit, "predict"):
            raise LawError(f"`{fn}(link=...)`: a Bootstrap link must be of a fitted link law, got a sample of "
                           f"{type(fit).__name__}.", rule="bad link")
        inputs = tuple(law.inputs)
        if len(inputs) != 1:
            raise LawError(f"`{fn}(link=...)`: a Bootstrap link must be of a one-input link law (loss -> per-sample "
                           f"success, e.g. sigmoid_link); law {law.name!r} reads {list(inputs)}.", rule="bad link",
                           value=law.name)
        draws = np.asarray(link.draws)
        if draws.ndim != 2 or draws.shape[1] != len(law.param_names):
            raise LawError(f"`{fn}(link=...)`: the Bootstrap's draws must be (n, {len(law.param_names)}) rows of "
                           f"law {law.name!r}'s parameters {list(law.param_names)}, got shape {draws.shape}.",
                           rule="bad link", value=draws.shape)
        return _link_callable(fit, fn)
    if hasattr(link, "law") and hasattr(link, "predict"):  # a fitted link law of one input
        inputs = tuple(link.law.inputs)
        if len(inputs) != 1:
            raise LawError(f"`{fn}(link=...)`: a fitted link must read one column (the loss); "
                           f"law {link.law.name!r} reads {list(inputs)}.", rule="bad link")
        col = inputs[0]

        def fitted(loss):
            L = np.asarray(loss, dtype=np.float64)
            return np.asarray(link.predict(**{col: L.ravel()}), dtype=np.float64).reshape(L.shape)

        return fitted
    if not callable(link):
        raise LawError(f"`{fn}(link=...)` must be callable loss -> success, a fitted link or a Bootstrap of one, "
                       f"got {type(link).__name__}.", rule="bad link")
    return link


@jax.jit
def _beta_cover_kernel(a, b, k):
    return (beta_binomial_pass_at_k(a, b, k),)


@dataclass(frozen=True)
class CoverageAccuracyModel:
    """Accuracy with k samples from a per-sample success rate p = link(loss).

    - default: independent samples, ``pass@k = 1 - (1 - p)^k``;
    - ``coverage_exponent=b`` (b <= 0): Brown et al.'s coverage law
      c(k) = exp(a k^b) with a = log p, i.e. ``p ** (k ** b)``;
    - ``concentration=kappa`` (> 0): per-question success rates drawn from
      Beta(p kappa, (1 - p) kappa), ``pass@k = 1 - B(a, b + k) / B(a, b)``
      (heterogeneous difficulty: the failure rate falls as a power of k).

    ``link`` is a callable loss -> p in [0, 1], a Fit of a one-input link law, or a
    :class:`~scalinglaws.fitting.bootstrap.Bootstrap` (or posterior) of one
    (``sl.bootstrap(link_fit, evals, n=...)``): the model then evaluates the link's point fit,
    and :func:`best_config` / :func:`smaller_vs_larger` re-solve at every link draw, so that
    their intervals carry the link's uncertainty too (draw i of the link paired with draw i of
    a loss Bootstrap; see :mod:`scalinglaws.optimize._uncertain`).
    """

    link: Any
    coverage_exponent: float | None = None
    concentration: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fn", _link_callable(self.link))
        if self.coverage_exponent is not None and self.concentration is not None:
            raise LawError("`CoverageAccuracyModel`: give coverage_exponent or concentration, not both.",
                           rule="bad argument")
        b = self.coverage_exponent
        if b is not None and not (math.isfinite(b) and b <= 0):
            raise LawError(f"`CoverageAccuracyModel(coverage_exponent=...)` must be finite and <= 0 "
                           f"(coverage grows with k), got {b}.", rule="out of range", value=b)
        c = self.concentration
        if c is not None and not (math.isfinite(c) and c > 0):
            raise LawError(f"`CoverageAccuracyModel(concentration=...)` must be finite and > 0, got {c}.",
                           rule="not positive", value=c)

    def with_link(self, link: Any) -> "CoverageAccuracyModel":
        """This model with another link (e.g. one draw of a link Bootstrap)."""
        return dataclasses.replace(self, link=link)

    @x64
    def per_sample(self, loss: Any) -> np.ndarray:
        """The per-sample success p(loss), clipped to [0, 1]."""
        return np.clip(np.asarray(self._fn(loss), dtype=np.float64), 0.0, 1.0)

    @x64
    def __call__(self, loss: Any, k: Any) -> np.ndarray:
        p = self.per_sample(loss)
        k = np.asarray(k, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.coverage_exponent is not None:
                return np.where(p > 0, np.exp(np.log(np.where(p > 0, p, 1.0)) * k ** self.coverage_exponent), 0.0)
            if self.concentration is None:
                return -np.expm1(k * np.log1p(-p))
            kap = self.concentration
            a, b = p * kap, (1.0 - p) * kap
            inner = (a > 0) & (b > 0)
            a_, b_ = np.where(inner, a, 1.0), np.where(inner, b, 1.0)
            a_, b_, kk = np.broadcast_arrays(a_, b_, k)
            cover = _bucketed(_beta_cover_kernel, (), a_, b_, kk)[0]  # one compile per bucket, not per shape
            return np.where(inner, cover, np.where(a > 0, 1.0, 0.0) * np.ones_like(k))


@x64
def accuracy_model(fit_or_law: Any, params: Mapping[str, float] | None = None) -> CoverageAccuracyModel:
    """``acc(loss, k)`` of a JointCoverage fit (or law plus ``params``), for
    :func:`best_config` / :func:`frontier` / :func:`smaller_vs_larger`: the fitted link
    and Beta coverage, with the loss supplied by the caller (pass the loss law as
    ``fit_or_law`` there, e.g. ``best_config(sl.laws.Chinchilla(),
    params=sl.fitting.loss_params_of(fit), accuracy_model=accuracy_model(fit), ...)``).
    Never rises with loss (slope > 0). Returns a :class:`CoverageAccuracyModel`."""
    fn = "accuracy_model"
    law, p, _ = resolve_law(fit_or_law, params, fn, what="a joint_coverage Fit or law")
    if not isinstance(law, JointCoverage):
        raise LawError(f"`{fn}`: expected a joint_coverage fit, got law {law.name!r}.", rule="bad law")
    link = sigmoid_link(midpoint=float(p["L0"]), slope=float(p["slope"]), floor=law.floor, ceiling=law.ceiling)
    return CoverageAccuracyModel(link=link, concentration=math.exp(float(p["log_kappa"])))


# ---------------------------------------------------------------------------------------
# results

@dataclass(frozen=True)
class SettingGrid(Reported):
    """Every inference setting considered, each with its best N and D
    (arrays over settings; infeasible settings have ``feasible`` False and NaNs)."""

    axis: str
    samples: np.ndarray
    tokens_per_sample: np.ndarray
    params: np.ndarray
    tokens: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    train_flops: np.ndarray
    inference_flops: np.ndarray
    feasible: np.ndarray

    def rows(self) -> list[dict[str, float]]:
        names = ("samples", "tokens_per_sample", "params", "tokens", "loss", "accuracy", "train_flops",
                 "inference_flops")
        return [{n: float(getattr(self, n)[i]) for n in names} for i in range(self.samples.shape[0])]

    def _headline(self) -> str:
        return f"[[SettingGrid]] every {self.axis} setting searched, each with its best N and D"

    def _body(self) -> str:
        rows = []
        for r in self.rows():
            tot = r["train_flops"] + r["inference_flops"]
            rows.append({**r, "tokens_per_param": r["tokens"] / r["params"], "train_share": r["train_flops"] / tot})
        return format_rows(rows, {"samples": "k", "tokens_per_sample": "T", "params": "N", "tokens": "D",
                                  "tokens_per_param": "D/N", "loss": "loss", "accuracy": "accuracy",
                                  "train_share": "train share"})


@dataclass(frozen=True)
class Config(Uncertain, Reported):
    """The accuracy-maximising configuration for one total budget.

    ``params`` N, ``tokens`` D (training), ``samples`` k and ``tokens_per_sample``
    T per query; ``per_query_flops = 2 N (prompt_tokens + k T)``;
    ``train_flops + inference_flops = total_flops`` with ``inference_flops =
    queries * per_query_flops``; ``grid`` every setting considered. Computed from a
    bootstrap (or posterior), ``draws`` holds each scalar quantity per draw and
    ``interval(level)`` / ``se()`` give their spread. ``bound_hit``: the best setting is
    the largest searched (the search bound binds; widen it), noted in ``notes`` too."""

    params: float
    tokens: float
    samples: float
    tokens_per_sample: float
    prompt_tokens: float
    queries: float
    total_flops: float
    accuracy: float
    loss: float
    tokens_per_param: float
    per_query_flops: float
    train_flops: float
    inference_flops: float
    train_share: float
    inference_share: float
    axis: str
    grid: SettingGrid
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    draws: Mapping[str, np.ndarray] | None = field(default=None, repr=False)
    bound_hit: bool = False

    def _headline(self) -> str:
        return "[[Config]] the accuracy-maximising training and inference configuration"

    def _body(self) -> str:
        return (f"  N = {self.params:.4g} params, D = {self.tokens:.4g} tokens ({self.tokens_per_param:.1f} per param), "
                f"k = {self.samples:g} x T = {self.tokens_per_sample:g} tokens per query\n"
                f"  predicted accuracy {self.accuracy:.4f} (loss {self.loss:.4f}) for {self.queries:.4g} queries\n"
                f"  training {100 * self.train_share:.1f}% / inference {100 * self.inference_share:.1f}% of "
                f"{self.total_flops:.3g} FLOPs")

    def rows(self) -> list[dict[str, float]]:
        """The grid of every setting considered (one row per setting)."""
        return self.grid.rows()


@dataclass(frozen=True)
class Frontier(Reported):
    """Accuracy against total compute. Per size (rows) and budget (columns):
    ``accuracy`` at the best setting ``setting`` (NaN where the size cannot serve
    the queries at all) with training tokens ``tokens``; ``envelope_*`` the upper
    envelope over the sizes; ``optimal_*`` the optimum over all sizes N. ``bound_hit``
    (per size and budget), ``envelope_bound_hit`` and ``optimal_bound_hit`` (per budget) flag
    the points whose best setting is the largest searched, ``search_bound``: the curve is
    capped there by the search, not by accuracy."""

    axis: str
    total_flops: np.ndarray
    queries: float
    sizes: np.ndarray
    accuracy: np.ndarray
    setting: np.ndarray
    tokens: np.ndarray
    envelope_accuracy: np.ndarray
    envelope_size: np.ndarray
    envelope_setting: np.ndarray
    optimal_accuracy: np.ndarray
    optimal_params: np.ndarray
    optimal_tokens: np.ndarray
    optimal_setting: np.ndarray
    bound_hit: np.ndarray
    envelope_bound_hit: np.ndarray
    optimal_bound_hit: np.ndarray
    search_bound: float
    notes: tuple[str, ...] = ()

    def _headline(self) -> str:
        return (f"[[Frontier]] accuracy against total compute at {self.queries:.4g} queries "
                f"(best {self.axis} setting per size; envelope over the sizes; optimum over any N)")

    def rows(self) -> list[dict[str, float]]:
        """One row per budget: the envelope over the sizes and the free-size optimum."""
        return [{"total_flops": float(c), "envelope_accuracy": float(ea), "envelope_size": float(es),
                 "envelope_setting": float(et), "optimal_accuracy": float(oa), "optimal_params": float(op),
                 "optimal_tokens": float(ot), "optimal_setting": float(os_), "envelope_bound_hit": bool(eb),
                 "optimal_bound_hit": bool(ob)}
                for c, ea, es, et, oa, op, ot, os_, eb, ob in zip(
                    self.total_flops, self.envelope_accuracy, self.envelope_size, self.envelope_setting,
                    self.optimal_accuracy, self.optimal_params, self.optimal_tokens, self.optimal_setting,
                    self.envelope_bound_hit, self.optimal_bound_hit)]


@dataclass(frozen=True)
class Comparison(Uncertain, Reported):
    """Smaller models with more inference against larger ones, at equal total
    compute, as query volume varies. ``gain = small_accuracy - large_accuracy``;
    ``crossovers`` the query volumes where the gain changes sign (root-found),
    ``crossover`` the first of them or None. Computed from a bootstrap (or posterior),
    ``draws`` holds ``crossover`` (NaN for a draw without one: the interval is over the draws
    that have one, and ``no_crossover_share`` says what fraction has none), ``gain``,
    ``small_accuracy`` and ``large_accuracy`` (one column per query volume) per draw.
    ``small_bound_hit`` / ``large_bound_hit``: per query volume, whether that side's best
    setting is the largest searched (``search_bound``)."""

    axis: str
    total_flops: float
    queries: np.ndarray
    small_accuracy: np.ndarray
    large_accuracy: np.ndarray
    gain: np.ndarray
    small_params: np.ndarray
    large_params: np.ndarray
    small_setting: np.ndarray
    large_setting: np.ndarray
    crossovers: np.ndarray
    crossover: float | None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    no_crossover_share: float | None = None
    draws: Mapping[str, np.ndarray] | None = field(default=None, repr=False)
    small_bound_hit: np.ndarray | None = None
    large_bound_hit: np.ndarray | None = None
    search_bound: float | None = None

    def _headline(self) -> str:
        cross = "no crossover" if self.crossover is None else f"first crossover at {self.crossover:.4g} queries"
        return (f"[[Comparison]] smaller (with more inference) vs larger models at {self.total_flops:.3g} FLOPs; "
                f"{cross}")

    def rows(self) -> list[dict[str, float]]:
        """One row per query volume."""
        names = ("queries", "small_accuracy", "large_accuracy", "gain", "small_params", "large_params",
                 "small_setting", "large_setting")
        return [{n: float(getattr(self, n)[i]) for n in names} for i in range(self.queries.size)]


# ---------------------------------------------------------------------------------------
# the engine

@dataclass(frozen=True)
class _Problem:
    law: Law
    p: dict[str, float]
    exact: bool
    fit: Any
    model: Callable
    axis: str                  # "samples" or "tokens": the searched setting
    fixed: float               # the other one (tokens per sample, or samples)
    P: float                   # prompt tokens
    grid: np.ndarray | None    # (K,) settings searched as given, or None for the fine search
    fine: Integers | None
    notes: tuple[str, ...]

    @property
    def high(self) -> float:
        """The largest setting searched (the search bound)."""
        return self.fine.high if self.fine is not None else float(self.grid.max())

    @property
    def n_settings(self) -> float:
        return self.fine.high - self.fine.low + 1.0 if self.fine is not None else float(self.grid.size)

    def samples_of(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) if self.axis == "samples" else np.full(np.shape(x), self.fixed)

    def tokens_of(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) if self.axis == "tokens" else np.full(np.shape(x), self.fixed)

    def tokens_per_query(self, x: np.ndarray) -> np.ndarray:  # tokens of inference per query at setting x
        return self.P + self.samples_of(x) * self.tokens_of(x)

    def bound_hit(self, x: np.ndarray, feasible: np.ndarray) -> np.ndarray:
        """Where the best setting is the largest searched (and more than one was searched)."""
        return (np.asarray(x) >= self.high) & np.asarray(feasible, dtype=bool) & (self.n_settings > 1)


def _setting_arg(name: str, value: Any, fn: str) -> tuple[np.ndarray | None, Integers | None]:
    if isinstance(value, Integers):
        return None, value
    return np.atleast_1d(as_array(name, value, fn, lower=1.0 if name == "samples" else 0.0,
                                  strict=name != "samples")).ravel(), None


def _problem(fit_or_law: Any, params: Mapping[str, float] | None, accuracy_model: Any, samples: Any,
             tokens_per_sample: Any, prompt_tokens: Any, fn: str) -> _Problem:
    notes = []
    if fit_or_law is None:
        if params is not None:
            raise LawError(f"`{fn}`: params= needs a law; pass fit_or_law=sl.laws.Chinchilla() (or another law).",
                           rule="bad argument")
        fit_or_law, params = Chinchilla(), HOFFMANN
        notes.append("loss law: Hoffmann et al. (2022) Approach 3, unrounded (no fit given)")
    law, p, fit = resolve_law(fit_or_law, params, fn)
    _check_law(law, fn)
    exact = _method(law, "auto", fn)
    if accuracy_model is None or not callable(accuracy_model):
        raise LawError(f"`{fn}(accuracy_model=...)` must be a callable acc(loss, k), e.g. "
                       "CoverageAccuracyModel(link=sigmoid_link(...)); got "
                       f"{type(accuracy_model).__name__}.", rule="bad argument")
    if link_sample(accuracy_model) is not None:
        notes.append("the accuracy model's link is a Bootstrap: this uses its point fit (only best_config and "
                     "smaller_vs_larger resample it)")
    T, T_fine = _setting_arg("tokens_per_sample", tokens_per_sample, fn)
    tokens_axis = T_fine is not None or T.size > 1
    if samples is None:
        samples = 1.0 if tokens_axis else Integers(1.0, MAX_SAMPLES)
    k, k_fine = _setting_arg("samples", samples, fn)
    P = float(as_array("prompt_tokens", prompt_tokens, fn, strict=False))
    samples_axis = k_fine is not None or k.size > 1
    if samples_axis and tokens_axis:
        raise LawError(f"`{fn}`: search one axis at a time: give several `samples` or several "
                       "`tokens_per_sample`, not both.", rule="bad argument")
    if tokens_axis:
        axis, fixed, grid, fine = "tokens", float(k[0]), T, T_fine
    else:
        axis, fixed, grid, fine = "samples", float(T[0]), k, k_fine
    if axis == "samples" and grid is not None and np.any(grid != np.round(grid)):
        notes.append("non-integer samples per query: read k as a mean over queries")
    if axis == "tokens" and fixed != round(fixed):
        notes.append("non-integer samples per query: read k as a mean over queries")
    return _Problem(law, p, exact, fit, accuracy_model, axis, fixed, P, grid, fine, tuple(notes))


def _budget_queries(total_flops: Any, queries: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
    C = as_array("total_flops", total_flops, fn)
    Q = as_array("queries", queries, fn, strict=False)
    return C, Q


def _accuracy(pr: _Problem, loss: np.ndarray, ok: np.ndarray, x: np.ndarray, fn: str) -> np.ndarray:
    """accuracy_model(loss, x) on arrays of one shape; NaN where infeasible; checked."""
    finite = loss[ok & np.isfinite(loss)]
    fill = float(finite.max()) if finite.size else 10.0
    L = np.where(ok & np.isfinite(loss), loss, fill)
    x = np.broadcast_to(x, L.shape)
    try:
        acc = np.asarray(pr.model(L, x), dtype=np.float64)
        acc = np.broadcast_to(acc, L.shape)
    except LawError:
        raise
    except Exception as exc:  # a user's model: say which call failed
        raise LawError(f"`{fn}`: the accuracy model failed on loss/setting arrays of shape {L.shape}: "
                       f"{type(exc).__name__}: {exc}", rule="bad accuracy model") from exc
    if not np.all(np.isfinite(acc)):
        raise LawError(f"`{fn}`: the accuracy model returned non-finite values (first: "
                       f"{acc[~np.isfinite(acc)].flat[0]}).", rule="bad accuracy model")
    _check_monotone(pr, np.unique(x), float(finite.min()) if finite.size else fill, fill, fn)
    return np.where(ok, acc, np.nan)


def _check_monotone(pr: _Problem, xs: np.ndarray, lo: float, hi: float, fn: str) -> None:
    """The exact search needs accuracy that never rises with loss: check it on a
    grid of losses spanning the ones met, for the settings met (at most 256 of them,
    spread over their range, extremes included)."""
    if xs.size > 256:
        xs = xs[np.unique(np.linspace(0, xs.size - 1, 256).round().astype(int))]
    span = max(hi - lo, 0.02 * abs(hi), 1e-6)
    grid = np.linspace(lo - 0.1 * span, hi + 0.1 * span, 17)
    grid = grid[grid > 0] if np.any(grid > 0) else grid
    acc = np.asarray(pr.model(grid[:, None], xs[None, :]), dtype=np.float64)
    acc = np.broadcast_to(acc, (grid.size, xs.size))
    rise = np.diff(acc, axis=0)
    tol = 1e-9 * (1.0 + np.abs(acc[1:]))
    if np.any(rise > tol):
        i, j = np.argwhere(rise > tol)[0]
        raise LawError(f"`{fn}`: the accuracy model rises with loss (setting {xs[j]:g}: accuracy "
                       f"{acc[i, j]:.6g} at loss {grid[i]:.6g}, {acc[i + 1, j]:.6g} at loss {grid[i + 1]:.6g}); "
                       "the search assumes lower loss never lowers accuracy.", rule="bad accuracy model")


def _eval_free(pr: _Problem, C: np.ndarray, Q: np.ndarray, x: np.ndarray, fn: str) -> dict[str, np.ndarray]:
    """For each case b (budget C[b], queries Q[b]) and setting x[b, m]: the loss-minimising N, D (free N)."""
    CC = np.broadcast_to(C[:, None], x.shape).astype(np.float64).copy()
    DI = np.broadcast_to(Q[:, None] * pr.tokens_per_query(x), x.shape).astype(np.float64).copy()
    lN, lD = lowest_logs(pr.law, pr.p, pr.exact, CC, DI, fn)
    N, D = np.exp(lN), np.exp(lD)
    loss = loss_at(pr.law, pr.p, lN, lD)
    ok = np.isfinite(loss)
    acc = _accuracy(pr, loss, ok, x, fn)
    return {"params": N, "tokens": D, "loss": loss, "accuracy": acc, "train": 6.0 * N * D,
            "inference": 2.0 * N * DI, "feasible": ok}


def _eval_sizes(pr: _Problem, sizes: np.ndarray, C: np.ndarray, Q: np.ndarray, x: np.ndarray,
                fn: str) -> dict[str, np.ndarray]:
    """For each size s, case b and setting x[s, b, m]: D from the remaining training budget;
    infeasible where the queries use it all."""
    N = np.broadcast_to(sizes[:, None, None], x.shape)
    inference = Q[None, :, None] * 2.0 * N * pr.tokens_per_query(x)
    train = C[None, :, None] - inference
    ok = train > 0
    D = np.where(ok, train, np.nan) / (6.0 * N)
    with np.errstate(invalid="ignore"):
        loss = np.where(ok, loss_at(pr.law, pr.p, np.log(N), np.log(np.where(ok, D, 1.0))), np.nan)
    acc = _accuracy(pr, loss, ok, x, fn)
    return {"params": N, "tokens": D, "loss": loss, "accuracy": acc, "train": np.where(ok, train, np.nan),
            "inference": np.broadcast_to(inference, D.shape), "feasible": ok}


def _argmax(acc: np.ndarray, axis: int) -> np.ndarray:
    """Index of the largest accuracy along ``axis`` (first on ties), NaN-safe."""
    return np.argmax(np.where(np.isnan(acc), -np.inf, acc), axis=axis)


def _take(X: np.ndarray, r: Mapping[str, np.ndarray], i: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The setting and every result at index ``i`` of the last axis."""
    ii = i[..., None]
    x = np.take_along_axis(X, ii, -1)[..., 0]
    return x, {k: np.take_along_axis(np.broadcast_to(v, X.shape), ii, -1)[..., 0] for k, v in r.items()}


def _search(pr: _Problem, evaluate: Callable[[np.ndarray], dict], shape: tuple[int, ...]):
    """The best setting of every case (an array of ``shape``): returns the settings, the results
    there, and every stage evaluated as (settings, results) of shape ``shape + (M,)``.

    The fine search: a geometric grid of integers (``_PER_OCTAVE`` per octave) over [low, high];
    then, around each case's best, the bracket between its neighbours is cut into ``_BRACKET``
    even integer steps until it holds at most ``_BRACKET`` + 1 integers, which are all evaluated.
    """
    if pr.fine is None:
        X = np.broadcast_to(pr.grid, shape + (pr.grid.size,))
        r = evaluate(X)
        x, best = _take(X, r, _argmax(r["accuracy"], -1))
        return x, best, [(X, r)]
    lo, hi = pr.fine.low, pr.fine.high
    n = max(int(math.ceil(math.log2(hi / lo) * _PER_OCTAVE)) + 1, 2)
    x0 = np.unique(np.round(np.geomspace(lo, hi, n)))
    X = np.broadcast_to(x0, shape + (x0.size,))
    stages = []
    final = False
    while True:
        r = evaluate(X)
        stages.append((X, r))
        i = _argmax(r["accuracy"], -1)
        if final:
            x, best = _take(X, r, i)
            return x, best, stages
        M = X.shape[-1]
        left = np.take_along_axis(X, np.maximum(i - 1, 0)[..., None], -1)[..., 0]
        right = np.take_along_axis(X, np.minimum(i + 1, M - 1)[..., None], -1)[..., 0]
        width = right - left
        steps = np.arange(_BRACKET + 1, dtype=np.float64)
        if np.all(width <= _BRACKET):
            X = np.minimum(left[..., None] + steps, right[..., None])
            final = True
        else:
            X = np.round(left[..., None] + width[..., None] * (steps / _BRACKET))


def _grid_of(pr: _Problem, X: np.ndarray, r: Mapping[str, np.ndarray]) -> SettingGrid:
    """A SettingGrid from settings X (M,) and results of shape (M,), sorted by setting for the fine search."""
    order = np.arange(X.size) if pr.fine is None else np.unique(X, return_index=True)[1]
    x = X[order]
    return SettingGrid(axis=pr.axis, samples=pr.samples_of(x), tokens_per_sample=pr.tokens_of(x),
                       params=r["params"][order], tokens=r["tokens"][order], loss=r["loss"][order],
                       accuracy=r["accuracy"][order], train_flops=r["train"][order],
                       inference_flops=r["inference"][order], feasible=r["feasible"][order])


def _stacked(stages: list, index: tuple) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every setting evaluated for one case (``index`` into the case axes), all stages together."""
    X = np.concatenate([np.broadcast_to(S, r["accuracy"].shape)[index] for S, r in stages])
    keys = stages[0][1].keys()
    return X, {k: np.concatenate([np.broadcast_to(r[k], r["accuracy"].shape)[index] for _, r in stages])
               for k in keys}


def _bound_note(pr: _Problem, x: float) -> str:
    name = "tokens_per_sample" if pr.axis == "tokens" else "samples"
    return f"best setting is the largest searched ({x:g}); widen `{name}=`"


def _sizes(sizes: Any, fn: str) -> np.ndarray:
    s = np.atleast_1d(as_array("sizes", sizes, fn)).ravel()
    if s.size == 0:
        raise LawError(f"`{fn}(sizes=...)` must hold at least one model size.", rule="empty")
    return s


# ---------------------------------------------------------------------------------------
# public API

@x64
def best_config(fit_or_law: Any = None, *, total_flops: float | None = None, queries: float,
                accuracy_model: AccuracyModel, samples: Any = None, tokens_per_sample: Any = 1000.0,
                prompt_tokens: float = 0.0, sizes: Any = None, params: Mapping[str, float] | None = None,
                architectures: Any = None, **architecture_options: Any) -> Config:
    """The (N, D, k or T) maximising predicted accuracy when ``total_flops`` pays
    for training (6 N D) and ``queries`` queries of 2 N (prompt_tokens + k T) FLOPs each.

    ``fit_or_law``: a loss Fit, a Law with ``params=``, or None for Hoffmann
    et al.'s Chinchilla law. ``accuracy_model``: ``acc(loss, x)``, e.g.
    :class:`CoverageAccuracyModel`. ``samples``: samples per query, default every
    integer from 1 to :data:`MAX_SAMPLES` (``Integers(low, high)`` for another range,
    or a sequence of candidates searched as given); ``tokens_per_sample``: tokens each
    sample generates (default 1,000), or ``Integers(low, high)`` / a sequence to search
    tokens instead (with ``samples`` fixed, default 1). ``sizes``: restrict N to these
    model sizes (default: any N). The settings evaluated, each with its best N and D, are
    in ``.grid`` (with ``sizes`` and the fine search: those of the chosen size).
    ``bound_hit`` says whether the best setting is the largest searched.

    ``fit_or_law`` may also be a :class:`~scalinglaws.fitting.bootstrap.Bootstrap` (or a
    posterior) of the loss fit: the answer is then re-solved at every draw and the result's
    ``interval(level)`` / ``se()`` give the spread of its scalar quantities (the point result
    is the one of the point fit). The accuracy model is held fixed unless its ``link`` is a
    Bootstrap of the link fit (``CoverageAccuracyModel(link=sl.bootstrap(link_fit, evals, n=...))``,
    or the same for :class:`~scalinglaws.optimize.VerifierAccuracyModel`): then draw i of the loss
    law is paired with draw i of the link (independent fits: a joint draw from the product of their
    bootstrap distributions; the first min(n_loss, n_link) usable draws when the counts differ, with
    a note), and the intervals carry both. With a plain loss Fit (or Law, or None) and a Bootstrap
    link they carry the link's alone. The verifier's rates, the coverage exponent or concentration
    and a majority-vote law are held fixed.

    ``architectures=[Architecture, ...]``: choose the architecture too, each with its own N and
    its own per-query cost (attention term, prefill and decode apart; or dollars on the decode
    roofline with ``total_dollars=``, ``hardware=``, ``price_per_hour=``): see
    :func:`~scalinglaws.optimize.architecture_search.best_architecture_config`, which takes the
    other keyword arguments; returns an ``ArchitectureConfig``.
    """
    fn = "best_config"
    if architectures is not None:
        from .architecture_search import best_architecture_config

        if sizes is not None or is_sample(fit_or_law) or link_sample(accuracy_model) is not None:
            raise LawError(f"`{fn}(architectures=...)`: N is each architecture's own; sizes= and a Bootstrap "
                           "(of the loss law or of the accuracy model's link) do not combine with it.",
                           rule="bad argument")
        return best_architecture_config(fit_or_law, architectures=architectures, total_flops=total_flops,
                                        queries=queries, accuracy_model=accuracy_model, samples=samples,
                                        tokens_per_sample=tokens_per_sample, prompt_tokens=prompt_tokens,
                                        params=params, **architecture_options)
    if architecture_options:
        raise LawError(f"`{fn}`: {sorted(architecture_options)} go with architectures=[...] only.",
                       rule="bad argument", value=sorted(architecture_options))
    if total_flops is None:
        raise LawError(f"`{fn}` needs total_flops= (the training + inference budget in FLOPs).",
                       rule="missing argument")
    if is_sample(fit_or_law) or link_sample(accuracy_model) is not None:
        if params is not None and is_sample(fit_or_law):
            raise LawError(f"`{fn}`: params= goes with a Law, not with a Bootstrap.", rule="bad argument")
        return propagate(lambda f, p, m=accuracy_model: best_config(
                             f, total_flops=total_flops, queries=queries, accuracy_model=m, samples=samples,
                             tokens_per_sample=tokens_per_sample, prompt_tokens=prompt_tokens, sizes=sizes, params=p),
                         fit_or_law, CONFIG_QUANTITIES, fn, model=accuracy_model, params=params)
    C, Q = _budget_queries(total_flops, queries, fn)
    if C.ndim or Q.ndim:
        raise LawError(f"`{fn}`: total_flops and queries must be scalars; use frontier(...) for many budgets.",
                       rule="bad argument")
    pr = _problem(fit_or_law, params, accuracy_model, samples, tokens_per_sample, prompt_tokens, fn)
    C1, Q1 = C.reshape(1), Q.reshape(1)
    if sizes is None:
        x, r, stages = _search(pr, lambda X: _eval_free(pr, C1, Q1, X, fn), (1,))
        x, r = float(x[0]), {k: v[0] for k, v in r.items()}
        gx, gr = _stacked(stages, (0,))
    else:
        S = _sizes(sizes, fn)
        xs, rs, stages = _search(pr, lambda X: _eval_sizes(pr, S, C1, Q1, X, fn), (S.size, 1))
        i = int(_argmax(rs["accuracy"][:, 0], axis=0))
        x, r = float(xs[i, 0]), {k: v[i, 0] for k, v in rs.items()}
        if pr.fine is None:  # each setting with its best size
            X, g = stages[0]
            si = _argmax(g["accuracy"][:, 0, :], axis=0)
            j = np.arange(pr.grid.size)
            gx, gr = pr.grid, {k: np.broadcast_to(v, g["accuracy"].shape)[si, 0, j] for k, v in g.items()}
        else:
            gx, gr = _stacked(stages, (i, 0))
    if not r["feasible"]:
        raise LawError(f"`{fn}`: no size can serve {float(Q):.4g} queries within {float(C):.4g} FLOPs.",
                       rule="infeasible", value=float(C))
    notes = list(pr.notes)
    hit = bool(pr.bound_hit(np.array(x), True))
    if hit:
        notes.append(_bound_note(pr, x))
    grid = _grid_of(pr, gx, gr)
    N, D = float(r["params"]), float(r["tokens"])
    train, infer = float(r["train"]), float(r["inference"])
    warns = _range_warnings(pr.fit, np.array([N]), np.array([D]), fn)
    return Config(params=N, tokens=D, samples=float(pr.samples_of(x)), tokens_per_sample=float(pr.tokens_of(x)),
                  prompt_tokens=pr.P, queries=float(Q), total_flops=float(C), accuracy=float(r["accuracy"]),
                  loss=float(r["loss"]), tokens_per_param=D / N,
                  per_query_flops=2.0 * N * float(pr.tokens_per_query(np.array(x))), train_flops=train,
                  inference_flops=infer, train_share=train / (train + infer), inference_share=infer / (train + infer),
                  axis=pr.axis, grid=grid, notes=tuple(notes), warnings=warns, bound_hit=hit)


@x64
def frontier(fit_or_law: Any = None, accuracy_model: AccuracyModel | None = None, *, total_flops: Any,
             queries: float, sizes: Any = None, samples: Any = None, tokens_per_sample: Any = 1000.0,
             prompt_tokens: float = 0.0, params: Mapping[str, float] | None = None) -> Frontier:
    """Accuracy against total compute (``total_flops`` an array of budgets) at a
    fixed query volume: for each of ``sizes`` at its best inference setting, the
    envelope over the sizes, and the optimum over any N (as in :func:`best_config`,
    with the same ``samples`` / ``tokens_per_sample`` search). Points whose best setting
    is the largest searched are flagged (``bound_hit``, ``envelope_bound_hit``,
    ``optimal_bound_hit``) and counted in ``notes``."""
    fn = "frontier"
    C, Q = _budget_queries(total_flops, queries, fn)
    if Q.ndim:
        raise LawError(f"`{fn}(queries=...)` must be a scalar; use smaller_vs_larger(...) to vary it.",
                       rule="bad argument")
    C = np.atleast_1d(C).ravel()
    Qb = np.full_like(C, float(Q))
    pr = _problem(fit_or_law, params, accuracy_model, samples, tokens_per_sample, prompt_tokens, fn)
    ox, opt, _ = _search(pr, lambda X: _eval_free(pr, C, Qb, X, fn), (C.size,))
    opt_hit = pr.bound_hit(ox, opt["feasible"])
    rows = np.arange(C.size)
    if sizes is None:
        S = np.empty(0)
        acc = setting = toks = np.empty((0, C.size))
        hit = np.empty((0, C.size), dtype=bool)
        env_acc, env_size, env_set, env_hit = opt["accuracy"], opt["params"], ox, opt_hit
    else:
        S = _sizes(sizes, fn)
        sx, s, _ = _search(pr, lambda X: _eval_sizes(pr, S, C, Qb, X, fn), (S.size, C.size))
        acc = s["accuracy"]
        setting = np.where(np.isnan(acc), np.nan, sx)
        toks = s["tokens"]
        hit = pr.bound_hit(sx, ~np.isnan(acc))
        i = _argmax(acc, axis=0)
        env_acc, env_size, env_set, env_hit = acc[i, rows], S[i], setting[i, rows], hit[i, rows]
        none = np.all(np.isnan(acc), axis=0)
        env_size = np.where(none, np.nan, env_size)
    notes = list(pr.notes)
    for what, h in (("envelope", env_hit), ("free-size optimum", opt_hit)):
        if np.any(h):
            notes.append(f"the {what} sits on the search bound ({pr.high:g}) at {int(np.sum(h))} of {C.size} "
                         f"budgets (from {C[h].min():.3g} FLOPs): {_bound_note(pr, pr.high).split('; ')[1]}")
    return Frontier(axis=pr.axis, total_flops=C, queries=float(Q), sizes=S, accuracy=acc, setting=setting,
                    tokens=toks, envelope_accuracy=env_acc, envelope_size=env_size, envelope_setting=env_set,
                    optimal_accuracy=opt["accuracy"], optimal_params=opt["params"], optimal_tokens=opt["tokens"],
                    optimal_setting=ox, bound_hit=hit, envelope_bound_hit=np.asarray(env_hit, dtype=bool),
                    optimal_bound_hit=np.asarray(opt_hit, dtype=bool), search_bound=pr.high, notes=tuple(notes))


@x64
def smaller_vs_larger(fit_or_law: Any = None, accuracy_model: AccuracyModel | None = None, *, small: Any,
                      large: Any, total_flops: float, queries: Any, samples: Any = None,
                      tokens_per_sample: Any = 1000.0, prompt_tokens: float = 0.0,
                      params: Mapping[str, float] | None = None) -> Comparison:
    """The accuracy gain of the best smaller model (sizes ``small``, each at its
    best inference setting) over the best larger one (``large``) at equal
    ``total_flops``, for each query volume in ``queries``; the crossover volumes
    (gain = 0) are root-found in log(queries) between grid points of opposite sign.
    Settings are searched as in :func:`best_config`; ``small_bound_hit`` /
    ``large_bound_hit`` flag the volumes where a side's best setting is the largest searched.

    ``fit_or_law`` may also be a :class:`~scalinglaws.fitting.bootstrap.Bootstrap` (or a
    posterior) of the loss fit: the comparison is re-solved at every draw; ``interval(level)``
    covers the first crossover (over the draws that have one; the share without one is
    ``no_crossover_share`` and a note) and the gain at each query volume. A Bootstrap as the
    accuracy model's ``link`` is resampled too, paired with the loss law's draws by index (or
    alone, with a plain loss Fit), as in :func:`best_config`."""
    fn = "smaller_vs_larger"
    if is_sample(fit_or_law) or link_sample(accuracy_model) is not None:
        if params is not None and is_sample(fit_or_law):
            raise LawError(f"`{fn}`: params= goes with a Law, not with a Bootstrap.", rule="bad argument")
        out = propagate(lambda f, p, m=accuracy_model: smaller_vs_larger(
                            f, m, small=small, large=large, total_flops=total_flops, queries=queries,
                            samples=samples, tokens_per_sample=tokens_per_sample, prompt_tokens=prompt_tokens,
                            params=p),
                        fit_or_law, COMPARISON_QUANTITIES, fn, model=accuracy_model, params=params)
        cross = np.asarray(out.draws["crossover"], dtype=np.float64)
        if cross.size == 0:
            return out
        none = int(np.sum(np.isnan(cross)))
        share = none / cross.size
        notes = out.notes
        if none:
            notes += (f"{none} of {cross.size} draws ({100 * share:.1f}%) have no crossover on this query grid; the "
                      f"crossover's interval is over the other {cross.size - none}.",)
        return dataclasses.replace(out, notes=notes, no_crossover_share=share)
    C, Qs = _budget_queries(total_flops, queries, fn)
    if C.ndim:
        raise LawError(f"`{fn}(total_flops=...)` must be a scalar.", rule="bad argument")
    Qs = np.sort(np.atleast_1d(Qs).ravel())
    sm, lg = _sizes(small, fn), _sizes(large, fn)
    if sm.max() >= lg.min():
        raise LawError(f"`{fn}`: every `small` size must be below every `large` size; got small up to "
                       f"{sm.max():.4g} and large from {lg.min():.4g}.", rule="bad argument")
    pr = _problem(fit_or_law, params, accuracy_model, samples, tokens_per_sample, prompt_tokens, fn)
    sizes = np.concatenate([sm, lg])

    def best(Q: np.ndarray):
        Cq = np.full_like(Q, float(C))
        sx, s, _ = _search(pr, lambda X: _eval_sizes(pr, sizes, Cq, Q, X, fn), (sizes.size, Q.size))
        a = np.where(np.isnan(s["accuracy"]), -np.inf, s["accuracy"])  # (S, B)
        out = []
        for grp in (slice(0, sm.size), slice(sm.size, sizes.size)):
            g = a[grp]
            si = np.argmax(g, axis=0)
            cols = np.arange(Q.size)
            val = g[si, cols]
            kx = sx[grp][si, cols]
            fin = np.isfinite(val)
            out.append((np.where(fin, val, np.nan), sizes[grp][si], kx, pr.bound_hit(kx, fin)))
        return out

    (sa, sn, sk, sh), (la, ln_, lk, lh) = best(Qs)
    gain = sa - la

    def g(logq: float) -> float:
        (a1, _, _, _), (a2, _, _, _) = best(np.array([math.exp(logq)]))
        return float(a1[0] - a2[0])

    # a crossover is a change of the gain's sign between strictly signed volumes; exact ties (both sides
    # at the same accuracy, e.g. both saturated at 1) are skipped, never counted as crossovers: the
    # gain's sign must change across them, and then the crossover is where the tie run ends
    roots = []
    valid = np.isfinite(gain) & (Qs > 0)
    idx = np.flatnonzero(valid)
    last = None  # index of the last volume with a nonzero gain
    for i1 in idx:
        if gain[i1] == 0.0:
            continue
        if last is not None and gain[last] * gain[i1] < 0:
            i0 = last
            if i1 - i0 > 1 and np.all(gain[i0 + 1:i1][valid[i0 + 1:i1]] == 0.0):
                i0 = i1 - 1  # a tie run between them: the crossover sits where it ends
            lo = math.log(Qs[i0])
            roots.append(float(Qs[i0]) if g(lo) == 0.0 else
                         math.exp(_sopt.brentq(g, lo, math.log(Qs[i1]), xtol=1e-12, rtol=1e-12)))
        last = i1
    roots = np.array(sorted(set(roots)), dtype=np.float64)
    notes = list(pr.notes)
    ties = int(np.sum(valid & (gain == 0.0)))
    if ties:
        notes.append(f"at {ties} of {Qs.size} query volumes both sides have exactly the same accuracy (e.g. both "
                     f"saturated at {float(np.nanmax(sa[valid & (gain == 0.0)])):.6g}): ties, not crossovers")
    for side, h in (("smaller", sh), ("larger", lh)):
        if np.any(h):
            notes.append(f"the {side} models' best setting is the largest searched ({pr.high:g}) at "
                         f"{int(np.sum(h))} of {Qs.size} query volumes: {_bound_note(pr, pr.high).split('; ')[1]}")
    return Comparison(axis=pr.axis, total_flops=float(C), queries=Qs, small_accuracy=sa, large_accuracy=la,
                      gain=gain, small_params=sn, large_params=ln_, small_setting=sk, large_setting=lk,
                      crossovers=roots, crossover=float(roots[0]) if roots.size else None, notes=tuple(notes),
                      small_bound_hit=np.asarray(sh, dtype=bool), large_bound_hit=np.asarray(lh, dtype=bool),
                      search_bound=pr.high)
