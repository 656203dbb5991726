"""Does more inference compute still pay? Compare a law with a plateau against
one without, on held-out large budgets and by AIC/BIC."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._report import Reported
from ..errors import LawError
from ..fitting.api import fit
from ..fitting.objectives import LeastSquares
from ..runs import CANONICAL_COLUMNS, as_runs

__all__ = ["ceiling_check", "CeilingReport"]


@dataclass(frozen=True)
class CeilingReport(Reported):
    """Outcome of :func:`ceiling_check`. Dicts are keyed ``"plateau"`` and ``"no_plateau"``.

    ``heldout_rmse``/``heldout_mae``: errors on the held-out largest budgets of
    laws fitted to the smaller ones. ``aic``/``bic``: Gaussian information
    criteria of the fits to all the data, n log(RSS/n) + 2p (or p log n).
    ``preferred``: the law with the lower held-out RMSE. ``plateau``: the
    plateau law's asymptote (full fit). ``headroom``: plateau minus its
    predicted accuracy at the largest budget seen. ``gain_per_doubling``: the
    preferred law's predicted gain from doubling the largest budget;
    ``more_compute_pays`` is ``gain_per_doubling > min_gain``.
    """

    variable: str
    cutoff: float
    n_train: int
    n_test: int
    heldout_rmse: dict[str, float]
    heldout_mae: dict[str, float]
    aic: dict[str, float]
    bic: dict[str, float]
    preferred: str
    criteria_agree: bool
    plateau: float
    headroom: float
    gain_per_doubling: float
    min_gain: float
    more_compute_pays: bool
    fits: dict[str, Any] = field(default_factory=dict, repr=False)
    holdout_fits: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def notes(self) -> tuple[str, ...]:
        out = []
        if not self.criteria_agree:
            out.append("held-out error and BIC prefer different laws; the held-out error decides")
        return tuple(out)

    def _headline(self) -> str:
        return (f"[[CeilingReport]] ceiling check on {self.variable!r}: fitted on {self.n_train} rows with "
                f"{self.variable} < {self.cutoff:g}, tested on {self.n_test} rows at or above it")

    def _body(self) -> str:
        lines = []
        for k in ("plateau", "no_plateau"):
            lines.append(f"  {k:>10}: held-out RMSE {self.heldout_rmse[k]:.4g}  MAE {self.heldout_mae[k]:.4g}  "
                         f"AIC {self.aic[k]:.4g}  BIC {self.bic[k]:.4g}")
        agree = "agree" if self.criteria_agree else "disagree (held-out error decides)"
        lines.append(f"  preferred: {self.preferred} (held-out error and BIC {agree})")
        lines.append(f"  plateau {self.plateau:.4g}, headroom above the largest budget {self.headroom:.4g}")
        verdict = "more compute still pays" if self.more_compute_pays else "more compute no longer pays"
        lines.append(f"  doubling the largest budget gains {self.gain_per_doubling:.4g} "
                     f"(threshold {self.min_gain:g}): {verdict}")
        return "\n".join(lines)


def _criteria(rss: float, n: int, p: int) -> tuple[float, float]:
    ll = n * math.log(max(rss, 1e-300) / n)
    return ll + 2 * p, ll + p * math.log(n)


def ceiling_check(runs: Any, with_plateau_law: Any, without_plateau_law: Any, holdout_frac: float = 0.25, *,
                  objective: Any = None, min_gain: float = 0.005) -> CeilingReport:
    """Fit a plateau law and a no-plateau law, compare them, report whether more compute pays.

    The largest ``holdout_frac`` of the distinct budgets (at least one) are held
    out: both laws are fitted to the smaller budgets and scored on the held-out
    ones (root-mean-square and mean absolute error); both are also fitted to
    all rows for AIC/BIC, the plateau value and the gain from doubling the
    largest budget. Both laws must read the same single input column and
    predict the same target. ``objective`` defaults to linear least squares
    (the same for both, so their errors compare).

    >>> from scalinglaws.laws.coverage import SaturatingSamples, PowerNoCeiling
    >>> rep = ceiling_check(runs, SaturatingSamples(), PowerNoCeiling(variable="samples"))  # doctest: +SKIP
    >>> rep.more_compute_pays, rep.plateau                                                   # doctest: +SKIP
    """
    laws = {"plateau": with_plateau_law, "no_plateau": without_plateau_law}
    if with_plateau_law.inputs != without_plateau_law.inputs or len(with_plateau_law.inputs) != 1:
        raise LawError(f"`ceiling_check`: both laws must read the same single input; got "
                       f"{with_plateau_law.inputs} and {without_plateau_law.inputs}.", rule="mismatched laws")
    if with_plateau_law.target != without_plateau_law.target:
        raise LawError(f"`ceiling_check`: both laws must predict the same target; got "
                       f"{with_plateau_law.target!r} and {without_plateau_law.target!r}.", rule="mismatched laws")
    if not 0.0 < holdout_frac < 1.0:
        raise ValueError(f"`ceiling_check(holdout_frac=...)` must lie in (0, 1), got {holdout_frac}.")
    var, tgt = with_plateau_law.inputs[0], with_plateau_law.target
    cols = as_runs(runs, fn="ceiling_check", extra=tuple(c for c in (var, tgt) if c not in CANONICAL_COLUMNS))
    for c in (var, tgt):
        if c not in cols:
            raise LawError(f"`ceiling_check`: the data lacks the column {c!r}.", column=c, rule="missing column")
    x = np.asarray(cols[var], dtype=np.float64)
    y = np.asarray(cols[tgt], dtype=np.float64)
    objective = objective if objective is not None else LeastSquares()

    levels = np.unique(x)
    n_hold = max(1, int(round(holdout_frac * levels.size)))
    if levels.size - n_hold < 2:
        raise LawError(f"`ceiling_check`: only {levels.size} distinct {var!r} value(s); holding out {n_hold} leaves "
                       f"too few budgets to fit on.", column=var, rule="too few budgets")
    cutoff = float(levels[-n_hold])
    train, test = x < cutoff, x >= cutoff
    p_max = max(len(law.param_names) for law in laws.values())
    if train.sum() <= p_max:
        raise LawError(f"`ceiling_check`: {int(train.sum())} training rows below {var} = {cutoff:g}, not more than "
                       f"the {p_max} parameters; lower holdout_frac or add budgets.", column=var, rule="too few rows")

    rmse, mae, aic, bic, fits, hfits, pred_max, pred_2max = {}, {}, {}, {}, {}, {}, {}, {}
    x_max = float(levels[-1])
    data = {var: x, tgt: y}
    for key, law in laws.items():
        # the held-out fit sees all rows with zero weight on the test rows (same array shapes as
        # the full fit, so one compiled solver serves both); its starts come from the training rows
        starts = law.start_grid({var: x[train]}, y[train])
        hf = fit(law, data, objective=objective, weights=train.astype(np.float64), starts=starts)
        err = hf.predict({var: x[test]}) - y[test]
        rmse[key], mae[key] = float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err)))
        ff = fit(law, data, objective=objective, starts=law.start_grid({var: x}, y))
        rss = float(np.sum((ff.predict({var: x}) - y) ** 2))
        aic[key], bic[key] = _criteria(rss, x.size, len(law.param_names))
        pm, p2 = ff.predict({var: np.array([x_max, 2.0 * x_max])})
        pred_max[key], pred_2max[key] = float(pm), float(p2)
        fits[key], hfits[key] = ff, hf

    preferred = "plateau" if rmse["plateau"] <= rmse["no_plateau"] else "no_plateau"
    by_bic = "plateau" if bic["plateau"] <= bic["no_plateau"] else "no_plateau"
    asym = getattr(with_plateau_law, "asymptote", None)
    if asym is not None:
        plateau = float(asym(fits["plateau"].internal))
    else:
        plateau = float(fits["plateau"].predict({var: np.array([1e6 * x_max])})[0])
    gain = pred_2max[preferred] - pred_max[preferred]
    return CeilingReport(
        variable=var, cutoff=cutoff, n_train=int(train.sum()), n_test=int(test.sum()), heldout_rmse=rmse,
        heldout_mae=mae, aic=aic, bic=bic, preferred=preferred, criteria_agree=preferred == by_bic,
        plateau=plateau, headroom=plateau - pred_max["plateau"], gain_per_doubling=float(gain), min_gain=min_gain,
        more_compute_pays=bool(gain > min_gain), fits=fits, holdout_fits=hfits,
    )
