"""Predictions with intervals: a law evaluated at every draw of a bootstrap (or a posterior).

``Bootstrap.predict(runs, level=0.9)`` (and a posterior's) return a :class:`Prediction`: the
point fit's prediction, the draws' predictions, and equal-tailed intervals of them. The interval
is of the law's *mean* prediction (parameter uncertainty); ``noise=`` (a standard deviation in
the space the law was fitted in, log by default) widens it into an interval for a new
observation, which also carries the run-to-run noise.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .._jax import x64
from .._report import Reported, format_rows
from ..errors import LawError
from ..laws.base import Law

__all__ = ["Prediction", "predict_draws", "predict_sample"]


@functools.lru_cache(maxsize=64)
def _vmapped(law: Law):
    names = law.param_names
    return jax.jit(jax.vmap(lambda th, X: law.predict({n: th[i] for i, n in enumerate(names)}, X),
                            in_axes=(0, None)))


@x64
def predict_draws(law: Law, draws: np.ndarray, X: Mapping[str, Any], chunk: int = 4096) -> np.ndarray:
    """(n_draws, n_rows) predictions of ``law`` at every row of internal parameters ``draws``
    (one vmapped, jitted evaluation per chunk of draws)."""
    draws = np.atleast_2d(np.asarray(draws, dtype=np.float64))
    Xj = {k: jnp.asarray(np.asarray(v, dtype=np.float64)) for k, v in X.items()}
    n_rows = int(np.size(next(iter(Xj.values())))) if Xj else 0
    if draws.shape[0] == 0:
        return np.zeros((0, n_rows))
    f = _vmapped(law)
    parts = [np.asarray(f(jnp.asarray(draws[i:i + chunk]), Xj), dtype=np.float64).reshape(-1, n_rows)
             for i in range(0, draws.shape[0], chunk)]
    return np.concatenate(parts, axis=0)


def _check_level(level: float, fn: str) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise LawError(f"`{fn}(level=...)` must be a number in (0, 1), e.g. 0.9; got {level!r}.",
                       rule="out of range", value=level)
    return float(level)


@dataclass(frozen=True)
class Prediction(Reported):
    """The law's prediction per row with an interval over the draws.

    ``value``: the point fit's prediction; ``draws``: (n_draws, n_rows) predictions of the
    successful draws; ``lo`` / ``hi``: the equal-tailed ``level`` interval; ``noise``: the
    observation noise folded in (0: an interval of the mean prediction only).
    """

    value: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    level: float
    space: str
    noise: float = 0.0
    draws: np.ndarray = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def interval(self, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) arrays at ``level`` (default: the level it was made with)."""
        if level is None or level == self.level:
            return self.lo, self.hi
        return _bounds(self.draws, _check_level(level, "Prediction.interval"), self.space, self.noise)

    def se(self) -> np.ndarray:
        """Standard deviation of the draws' predictions per row (parameter uncertainty only)."""
        return np.std(self.draws, axis=0, ddof=1)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __len__(self) -> int:
        return int(np.size(self.value))

    def rows(self) -> list[dict[str, float]]:
        return [{"predicted": float(v), "lo": float(a), "hi": float(b)} for v, a, b in zip(self.value, self.lo, self.hi)]

    def _headline(self) -> str:
        what = "mean prediction" if self.noise == 0 else f"new observation (noise {self.noise:.3g}, {self.space})"
        return f"[[Prediction]] {len(self)} row(s), {self.level:.0%} interval of the {what}, {self.draws.shape[0]} draws"

    def _body(self) -> str:
        return format_rows(self.rows())


def _bounds(P: np.ndarray, level: float, space: str, noise: float) -> tuple[np.ndarray, np.ndarray]:
    q = (1.0 - level) / 2.0
    if noise == 0:
        return np.quantile(P, q, axis=0), np.quantile(P, 1 - q, axis=0)
    # a new observation: each draw's prediction plus noise, N(0, noise^2) in the fitted space;
    # quantiles of that mixture by a fixed set of normal quantiles (deterministic, no resampling)
    from scipy import special

    z = special.ndtri((np.arange(64) + 0.5) / 64)
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.log(P) if space == "log" else P
    M = (G[:, None, :] + noise * z[None, :, None]).reshape(-1, P.shape[1])
    lo, hi = np.quantile(M, q, axis=0), np.quantile(M, 1 - q, axis=0)
    return (np.exp(lo), np.exp(hi)) if space == "log" else (lo, hi)


@x64
def predict_sample(sample: Any, data: Any = None, *, level: float = 0.9, noise: float = 0.0,
                   fn: str = "predict", **columns: Any) -> Prediction:
    """:class:`Prediction` of ``sample.fit``'s law at every successful draw of ``sample``
    (a :class:`~scalinglaws.fitting.bootstrap.Bootstrap` or a posterior)."""
    from .result import _inputs_of

    level = _check_level(level, fn)
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating)) or not (
            math.isfinite(noise) and noise >= 0):
        raise LawError(f"`{fn}(noise=...)` must be a finite standard deviation >= 0, got {noise!r}.",
                       rule="out of range", value=noise)
    fit = sample.fit
    law = fit.law
    X = _inputs_of(law, data, columns)
    draws = np.asarray(sample.draws, dtype=np.float64)[np.asarray(sample.ok, dtype=bool)]
    if draws.shape[0] < 2:
        raise LawError(f"`{fn}`: needs at least 2 successful draws, got {draws.shape[0]}.", rule="too few draws")
    P = predict_draws(law, draws, X)
    space = getattr(getattr(fit, "objective_spec", None), "space", "log")
    lo, hi = _bounds(P, level, space, float(noise))
    value = np.asarray(fit.predict(X), dtype=np.float64).reshape(-1)
    notes = ("an interval of the law's mean prediction: parameter uncertainty only (pass noise= for a new "
             "observation's interval, which adds the run-to-run noise)",) if noise == 0 else (
        f"a new observation's interval: the draws' predictions plus normal noise of sd {noise:g} in {space} space",)
    return Prediction(value=value, lo=np.asarray(lo).reshape(-1), hi=np.asarray(hi).reshape(-1), level=level,
                      space=space, noise=float(noise), draws=P, notes=notes)
