"""Fitting recipes built on :func:`~scalinglaws.fitting.api.fit`: the two-step
(N, D) -> loss -> accuracy chain and the two-step fit of the joint coverage law.

- :func:`fit_two_step`: fit a loss law on (N, D), then a link law on the runs'
  *observed* losses (Bhagia et al. 2024; Gadre et al. 2024), and chain them
  (:class:`TwoStepFit`).
- :func:`fit_joint`: fit :class:`~scalinglaws.laws.JointCoverage` with its loss
  parameters fixed from a Chinchilla fit (step 1) and only the link and Beta
  parameters free (step 2); :func:`loss_params_of` reads the Chinchilla
  parameters of a fit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._jax import jnp, x64
from .._report import Reported
from ..errors import LawError
from ..laws.base import Law
from ..laws.joint import _LOSS_NAMES, JointCoverage, chinchilla_internal
from ..laws.loss import Chinchilla
from ..runs import as_runs
from .api import fit
from .solver import SolverConfig
from .objectives import LeastSquares

__all__ = ["TwoStepFit", "fit_two_step", "fit_joint", "loss_params_of"]


# ---------------------------------------------------------------------------------------
# the two-step chain


@dataclass(frozen=True)
class TwoStepFit(Reported):
    """(N, D) -> loss -> accuracy: ``loss_fit`` (step 1) and ``link_fit`` (step 2)."""

    loss_fit: Any
    link_fit: Any

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(self.loss_fit.notes) + tuple(self.link_fit.notes)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.loss_fit.warnings) + tuple(self.link_fit.warnings)

    def _headline(self) -> str:
        return f"[[TwoStepFit]] {self.loss_fit.law.name} (N, D) -> loss, then {self.link_fit.law.name} loss -> accuracy"

    def _body(self) -> str:
        return "step 1 (loss):\n" + self.loss_fit.report() + "\nstep 2 (link):\n" + self.link_fit.report()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "TwoStepFit", "loss_fit": self.loss_fit.to_dict(), "link_fit": self.link_fit.to_dict()}

    @x64
    def predict_loss(self, data: Any = None, **columns: Any) -> np.ndarray:
        return self.loss_fit.predict(data, **columns)

    @x64
    def predict_accuracy(self, data: Any = None, **columns: Any) -> np.ndarray:
        """Accuracy predicted through the chain, e.g. ``predict_accuracy(params=N, tokens=D)``
        (a float64 numpy array; an error link's output is turned into 1 - error)."""
        loss = np.asarray(self.predict_loss(data, **columns), dtype=np.float64)
        out = np.asarray(self.link_fit.predict(loss=loss), dtype=np.float64)
        return 1.0 - out if self.link_fit.law.target == "error" else out


@x64
def fit_two_step(loss_law: Law, link_law: Law, runs: Any, *, loss_objective: Any = None, link_objective: Any = None,
                 loss_starts: Any = None, link_starts: Any = None) -> TwoStepFit:
    """Fit ``loss_law`` to (its inputs -> ``loss``), then ``link_law`` to
    (observed ``loss`` -> ``accuracy``) on the same runs, and chain them.

    The link is fitted on the runs' observed losses, not on step 1's
    predictions, so its fit does not inherit step 1's errors (Bhagia et al.
    2024; Gadre et al. 2024). Objectives default to the fitter's default for
    the loss (Huber on log residuals) and ``LeastSquares()`` (linear) for the
    link. A link with ``target="error"`` uses an ``error`` column when the
    runs have one, else ``1 - accuracy``. A ``weight`` column weights both fits.
    """
    cols = as_runs(runs, fn="fit_two_step")
    if link_law.inputs != ("loss",):
        raise LawError(f"`fit_two_step`: the link law must read the single input 'loss', got {link_law.inputs}.",
                       rule="bad link law")
    if loss_law.target != "loss":
        raise LawError(f"`fit_two_step`: the loss law must predict 'loss', got {loss_law.target!r}.",
                       rule="bad loss law")
    w = {"weight": cols["weight"]} if "weight" in cols else {}
    step1 = {k: cols[k] for k in (*loss_law.inputs, "loss") if k in cols}
    loss_fit = fit(loss_law, {**step1, **w}, objective=loss_objective, starts=loss_starts)

    tgt = link_law.target
    if tgt in cols:
        y = cols[tgt]
    elif tgt == "error" and "accuracy" in cols:
        y = 1.0 - np.asarray(cols["accuracy"], dtype=np.float64)
    else:
        raise LawError(f"`fit_two_step`: the runs lack the column {tgt!r} that the link law predicts.",
                       column=tgt, rule="missing column")
    if "loss" not in cols:
        raise LawError("`fit_two_step`: the runs lack the column 'loss'.", column="loss", rule="missing column")
    link_fit = fit(link_law, {"loss": cols["loss"], tgt: y, **w},
                   objective=link_objective if link_objective is not None else LeastSquares(), starts=link_starts)
    return TwoStepFit(loss_fit=loss_fit, link_fit=link_fit)


# ---------------------------------------------------------------------------------------
# the joint coverage law in two steps


@x64
def loss_params_of(fit_or_params: Any) -> dict[str, float]:
    """Internal Chinchilla parameters (a, b, e, alpha, beta) of a Chinchilla Fit,
    a JointCoverage Fit (fixed or fitted loss), or a mapping of public/internal
    Chinchilla parameters. For ``best_config(sl.laws.Chinchilla(), params=...)``."""
    return chinchilla_internal(fit_or_params)


@x64
def fit_joint(runs: Any, loss_fit: Any = None, *, floor: float = 0.0, ceiling: float = 1.0,
              objective: Any = None, loss_objective: Any = None, starts: Any = None,
              return_loss_fit: bool = False, **fit_kwargs: Any):
    """Fit :class:`JointCoverage` in two steps and return its Fit.

    ``runs`` holds coverage rows (``params``, ``tokens``, ``samples``,
    ``accuracy``: pass@k of one model at one k; several model sizes), e.g. from
    :func:`~scalinglaws.evals.aggregate_samples`, and optionally ``loss`` (the
    model's loss, repeated on its rows) and ``weight``.

    Step 1: when ``loss_fit`` is None, a Chinchilla law is fitted to the
    distinct (params, tokens, loss) rows (``loss_objective``: the fitter's
    default, Huber on log loss). ``loss_fit`` may instead be a Chinchilla Fit
    or a mapping of its public/internal parameters. Step 2: the joint law with
    those loss parameters fixed, least squares in linear space by default; only
    slope, L0 and kappa move. ``starts``: None (the link grid plus starts from
    the known losses) or as for :func:`~scalinglaws.fit`. Extra keyword
    arguments go to :func:`~scalinglaws.fit` (with least squares the default solver is
    ``SolverConfig(polish=0)``: the exact-Hessian polish moved the optimum by < 1e-8 relative in
    tests but triples the compile time; pass ``solver=SolverConfig()`` to run it). Returns the joint Fit, or
    ``(joint_fit, loss_fit)`` with ``return_loss_fit=True`` (loss_fit None when
    parameters were given).
    """
    fn = "fit_joint"
    cols = as_runs(runs, fn=fn)
    law = JointCoverage(floor=floor, ceiling=ceiling)
    missing = [c for c in (*law.inputs, law.target) if c not in cols]
    if missing:
        raise LawError(f"`{fn}`: the runs lack column(s) {missing}; coverage rows need params, tokens, samples "
                       f"and accuracy (pass@k). Available: {sorted(cols)}.", column=missing[0],
                       rule="missing column")
    step1 = None
    if loss_fit is None:
        if "loss" not in cols:
            raise LawError(f"`{fn}`: give loss_fit= (a Chinchilla fit or its parameters) or a 'loss' column. From "
                           "accuracy alone the loss law and the link are not separately identified (only "
                           "slope (E - L0), slope A, slope B, alpha and beta enter the prediction).",
                           column="loss", rule="missing column")
        tab = np.stack([np.asarray(cols[c], dtype=np.float64) for c in ("params", "tokens", "loss")], axis=1)
        tab = np.unique(tab, axis=0)
        step1 = fit(Chinchilla(), {"params": tab[:, 0], "tokens": tab[:, 1], "loss": tab[:, 2]},
                    objective=loss_objective)
        fixed = loss_params_of(step1)
    else:
        fixed = loss_params_of(loss_fit)

    data = {c: np.asarray(cols[c], dtype=np.float64) for c in (*law.inputs, law.target)}
    if "weight" in cols:
        data["weight"] = np.asarray(cols["weight"], dtype=np.float64)
    if starts is None:
        L = np.asarray(law.loss(fixed, {k: jnp.asarray(data[k]) for k in ("params", "tokens")}))
        link = np.concatenate([law.start_grid()[:, len(_LOSS_NAMES):],
                               law.link_starts(L, data["samples"], data["accuracy"])], axis=0)
        link = np.unique(link, axis=0)
        head = np.tile([fixed[k] for k in _LOSS_NAMES], (len(link), 1))
        starts = np.concatenate([head, link], axis=1)
    objective = objective if objective is not None else LeastSquares()
    if objective.name == "least_squares":
        # Levenberg-Marquardt's Gauss-Newton curvature is the exact one of least squares at the optimum
        # up to residual terms, so the exact-Hessian polish adds little here and triples the compile time
        fit_kwargs.setdefault("solver", SolverConfig(polish=0))
    jfit = fit(law, data, objective=objective, starts=starts, fixed=fixed, **fit_kwargs)
    notes = list(getattr(runs, "notes", ()) or ())
    notes.append("loss parameters fixed: " + (f"fitted in step 1 (Chinchilla on {step1.n_obs} distinct (params, "
                                             "tokens, loss) rows)" if step1 is not None else "given as loss_fit"))
    jfit = dataclasses.replace(jfit, notes=tuple(notes))
    return (jfit, step1) if return_loss_fit else jfit
