"""Intervals on an answer: re-solve it for every draw of a bootstrap (or posterior) and keep the
spread.

A "sample" is duck-typed: anything with ``.fit`` (the point fit), ``.draws`` (one row of internal
parameters per draw) and ``.ok`` (which rows to use): :class:`scalinglaws.fitting.bootstrap.Bootstrap`
and :class:`scalinglaws.fitting.bayes.Posterior`. This layer imports nothing of ``fitting``.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["Uncertain", "is_sample", "propagate"]


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
            lo, hi = np.nanquantile(v, q, axis=0), np.nanquantile(v, 1 - q, axis=0)
            out[k] = (float(lo), float(hi)) if np.ndim(lo) == 0 else (lo, hi)
        return out

    def se(self) -> dict[str, Any]:
        """Standard deviation of each quantity over the draws (ddof=1)."""
        out = {}
        for k, v in self._draws().items():
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


def propagate(solve: Callable[..., Any], sample: Any, quantities: Sequence[str], fn: str,
              batch: Callable[[Any, np.ndarray], Mapping[str, np.ndarray] | None] | None = None) -> Any:
    """``solve(fit_or_law, params=None)`` at the point fit, then at every usable draw.

    Returns the point result with ``draws`` set to quantity -> (n_draws, ...) arrays. ``batch``,
    when given, computes all draws at once (law, draws[n, p]) -> quantity -> array, or None to
    fall back to the loop. Draws whose solve raises are counted and warned about, not dropped
    silently."""
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
