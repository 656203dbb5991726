"""Intervals on an answer: re-solve it for every draw of a bootstrap (or posterior) and keep the
spread.

A "sample" is duck-typed: anything with ``.fit`` (the point fit), ``.draws`` (one row of internal
parameters per draw) and ``.ok`` (which rows to use): :class:`scalinglaws.fitting.bootstrap.Bootstrap`
and :class:`scalinglaws.fitting.bayes.Posterior`. This layer imports nothing of ``fitting``.

The accuracy model's link may be a sample too (``CoverageAccuracyModel(link=sl.bootstrap(link_fit,
evals, n=...))``): :func:`propagate` then pairs draw i of the loss law with draw i of the link. The
two are fitted to different data, independently, so a pair of their i-th draws is one draw from the
product of the two bootstrap distributions: a valid joint draw. When their numbers of usable draws
differ, the first min(n_loss, n_link) of each are used (and a note says so); with a plain loss Fit
(or Law) and a sampled link, the intervals carry the link's uncertainty alone.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .._jax import jnp
from ..errors import LawError
from ..laws.base import Law, predict_jit

__all__ = ["Uncertain", "is_sample", "propagate", "link_sample", "ParamsLink", "with_link"]


class Uncertain:
    """Mixin for results with a ``draws`` field (quantity -> array with one leading row per
    draw, or None): ``interval(level)`` and ``se()`` keyed by the quantity names."""

    def _draws(self) -> Mapping[str, np.ndarray]:
        d = getattr(self, "draws", None)
        if not d:
            raise ValueError(f"{type(self).__name__}: no draws to make an interval from; pass a Bootstrap "
                             "(sl.bootstrap) or a posterior in place of the Fit.")
        return d

    def interval(self, level: float = 0.95) -> dict[str, tuple[Any, Any]]:
        """Equal-tailed (percentile) intervals over the draws at ``level``: quantity -> (lo, hi),
        floats for a scalar input, arrays otherwise."""
        if not 0 < level < 1:
            raise ValueError(f"interval(level=...) must be in (0, 1), got {level!r}.")
        q = (1 - level) / 2
        out = {}
        for k, v in self._draws().items():
            with warnings.catch_warnings():  # a point where every draw is NaN (no answer there) stays NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = np.nanquantile(v, q, axis=0), np.nanquantile(v, 1 - q, axis=0)
            out[k] = (float(lo), float(hi)) if np.ndim(lo) == 0 else (lo, hi)
        return out

    def se(self) -> dict[str, Any]:
        """Standard deviation of each quantity over the draws (ddof=1)."""
        out = {}
        for k, v in self._draws().items():
            with warnings.catch_warnings():  # as in interval: all-NaN points stay NaN, silently
                warnings.simplefilter("ignore", RuntimeWarning)
                s = np.nanstd(v, axis=0, ddof=1)
            out[k] = float(s) if np.ndim(s) == 0 else s
        return out


    def _interval_lines(self) -> list[str]:
        d = getattr(self, "draws", None)
        if not d:
            return []
        n = len(next(iter(d.values())))
        lines = [f"[[Intervals]] over {n} draws (percentile; 90% and 95%)"]
        i90, i95 = self.interval(0.90), self.interval(0.95)
        for k in d:
            lo9, hi9 = (np.atleast_1d(v) for v in i90[k])
            lo5, hi5 = (np.atleast_1d(v) for v in i95[k])
            for j in range(lo9.size):
                tag = k if lo9.size == 1 else f"{k}[{j}]"
                lines.append(f"    {tag:>18}  90%: ({lo9[j]:.5g}, {hi9[j]:.5g})   95%: ({lo5[j]:.5g}, {hi5[j]:.5g})")
        return lines

    def report(self) -> str:  # type: ignore[override]
        text = super().report()  # type: ignore[misc]
        extra = self._interval_lines()
        return text + ("\n" + "\n".join(extra) if extra else "")

    def to_dict(self) -> dict[str, Any]:  # type: ignore[override]
        from .._report import plain

        out = super().to_dict()  # type: ignore[misc]
        if getattr(self, "draws", None):
            out["draws"] = int(len(next(iter(self.draws.values()))))
            out["se"] = plain(self.se())
            out["interval90"] = {k: [plain(lo), plain(hi)] for k, (lo, hi) in self.interval(0.90).items()}
            out["interval95"] = {k: [plain(lo), plain(hi)] for k, (lo, hi) in self.interval(0.95).items()}
        return out


def is_sample(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("fit", "draws", "ok")) and not hasattr(obj, "internal")


def link_sample(model: Any) -> Any:
    """The accuracy model's ``link`` when it is a sample (a Bootstrap or posterior of a link fit), else None."""
    link = getattr(model, "link", None)
    return link if link is not None and is_sample(link) else None


@dataclass(frozen=True)
class ParamsLink:
    """A link law at given internal parameters (one draw of a link's sample), used like a fitted
    link: ``predict(loss=...)`` evaluates the law exactly as :meth:`Fit.predict` does."""

    law: Law
    internal: Mapping[str, float]

    def predict(self, **columns: Any) -> np.ndarray:
        p = {k: jnp.asarray(v) for k, v in self.internal.items()}
        X = {k: jnp.asarray(np.asarray(columns[k], dtype=np.float64)) for k in self.law.inputs}
        return np.asarray(predict_jit(self.law, p, X), dtype=np.float64)


def with_link(model: Any, link: Any, fn: str) -> Any:
    """A copy of the accuracy model with ``link`` in place of its link (the model's own
    ``with_link`` if it has one, else ``dataclasses.replace``)."""
    if hasattr(model, "with_link"):
        return model.with_link(link)
    if dataclasses.is_dataclass(model) and not isinstance(model, type):
        return dataclasses.replace(model, link=link)
    raise LawError(f"`{fn}`: the accuracy model's link is a Bootstrap, but {type(model).__name__} cannot be "
                   "rebuilt with another link (give it a with_link(link) method, or make it a dataclass).",
                   rule="bad accuracy model")


def propagate(solve: Callable[..., Any], sample: Any, quantities: Sequence[str], fn: str,
              batch: Callable[[Any, np.ndarray], Mapping[str, np.ndarray] | None] | None = None,
              model: Any = None, params: Mapping[str, float] | None = None) -> Any:
    """``solve(fit_or_law, params=None)`` at the point fit, then at every usable draw.

    Returns the point result with ``draws`` set to quantity -> (n_draws, ...) arrays. ``batch``,
    when given, computes all draws at once (law, draws[n, p]) -> quantity -> array, or None to
    fall back to the loop. Draws whose solve raises are counted and warned about, not dropped
    silently.

    ``model``: the accuracy model, when its ``link`` is a sample (:func:`link_sample`). Then
    ``solve(fit_or_law, params, model_i)`` is called with the model rebuilt on the link's point
    fit (the point result) and on each link draw, draw i of the link paired with draw i of the
    loss law's sample (the usable draws of each, in order; the first min(n_loss, n_link) when
    their counts differ). ``sample`` may then also be a plain Fit, a Law with ``params``, or
    None (the solver's default law): the loss is held at it and only the link varies."""
    lsample = link_sample(model)
    if lsample is not None:
        return _propagate_link(solve, sample, quantities, fn, model, lsample, params)
    point = solve(sample.fit, None)
    law = sample.fit.law
    rows = np.asarray(sample.draws)[np.asarray(sample.ok)]
    got = batch(law, rows) if batch is not None else None
    failed = 0
    if got is None:
        cols: dict[str, list] = {q: [] for q in quantities}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for theta in rows:
                p = dict(zip(law.param_names, (float(t) for t in theta)))
                try:
                    r = solve(law, p)
                except Exception:  # noqa: BLE001 - counted and reported below
                    failed += 1
                    continue
                for q in quantities:
                    cols[q].append(np.asarray(getattr(r, q), dtype=np.float64))
        got = {q: np.stack(v) if v else np.empty((0,)) for q, v in cols.items()}
    warns = tuple(point.warnings)
    if failed:
        msg = f"{failed} of {len(rows)} draws had no solution; the intervals use the other {len(rows) - failed}."
        warnings.warn(f"{fn}: {msg}", UserWarning, stacklevel=3)
        warns += (msg,)
    n_bad = int(np.asarray(sample.ok).size - len(rows))
    if n_bad:
        warns += (f"{n_bad} draws of the sample had failed refits and are not used.",)
    return dataclasses.replace(point, draws=dict(got), warnings=warns)


def _usable(sample: Any) -> np.ndarray:
    return np.asarray(sample.draws, dtype=np.float64)[np.asarray(sample.ok, dtype=bool)]


def _propagate_link(solve: Callable[..., Any], sample: Any, quantities: Sequence[str], fn: str, model: Any,
                    lsample: Any, params: Mapping[str, float] | None) -> Any:
    """:func:`propagate` when the accuracy model's link is a sample (see there)."""
    llaw = lsample.fit.law
    lrows = _usable(lsample)
    with warnings.catch_warnings():  # a model's construction warnings were given when the user built it
        warnings.simplefilter("ignore")
        point_model = with_link(model, lsample.fit, fn)
    notes: list[str] = []
    warns: list[str] = []
    if is_sample(sample):
        law, rows = sample.fit.law, _usable(sample)
        point = solve(sample.fit, None, point_model)
        n = min(len(rows), len(lrows))
        notes.append(f"intervals over {n} paired draws: draw i of the loss law's sample with draw i of the link's "
                     "(independent fits, so each pair is a joint draw from the product of the two)")
        if len(rows) != len(lrows):
            notes.append(f"the loss law has {len(rows)} usable draws and the link {len(lrows)}: the first {n} of "
                         "each are paired, the rest are not used")
        n_bad = int(np.asarray(sample.ok).size - len(rows))
        if n_bad:
            warns.append(f"{n_bad} draws of the loss law's sample had failed refits and are not used.")
        loss_at = [(law, dict(zip(law.param_names, (float(t) for t in rows[i])))) for i in range(n)]
    else:
        point = solve(sample, params, point_model)
        n = len(lrows)
        notes.append(f"intervals over the link's {n} draws alone: the loss law is a plain fit, held fixed")
        loss_at = [(sample, params)] * n
    n_lbad = int(np.asarray(lsample.ok).size - len(lrows))
    if n_lbad:
        warns.append(f"{n_lbad} draws of the link's sample had failed refits and are not used.")
    cols: dict[str, list] = {q: [] for q in quantities}
    failed = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            try:
                m = with_link(model, ParamsLink(llaw, dict(zip(llaw.param_names, (float(t) for t in lrows[i])))), fn)
                r = solve(loss_at[i][0], loss_at[i][1], m)
            except Exception:  # noqa: BLE001 - counted and reported below
                failed += 1
                continue
            for q in quantities:
                cols[q].append(np.asarray(getattr(r, q), dtype=np.float64))
    got = {q: np.stack(v) if v else np.empty((0,)) for q, v in cols.items()}
    if failed:
        msg = f"{failed} of {n} draws had no solution; the intervals use the other {n - failed}."
        warnings.warn(f"{fn}: {msg}", UserWarning, stacklevel=4)
        warns.append(msg)
    return dataclasses.replace(point, draws=got, warnings=tuple(point.warnings) + tuple(warns),
                               notes=tuple(point.notes) + tuple(notes))
