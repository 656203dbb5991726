"""Fitting: objectives (how residuals are scored), the batched solver, ``fit``, ``Fit`` and recipes.

The entry point is :func:`scalinglaws.fit` (defined in ``fitting/api.py``); :class:`Fit`
(``fitting/result.py``) is its result; ``fitting/recipes.py`` holds the two-step fits.
"""
from .api import fit
from .curvature import Curvature, curvature
from .objectives import Huber, HuberLikelihood, LeastSquares
from .recipes import TwoStepFit, fit_joint, fit_two_step, loss_params_of
from .result import Fit, load_fit

__all__ = ["fit", "Fit", "load_fit", "Huber", "HuberLikelihood", "LeastSquares",
           "TwoStepFit", "fit_two_step", "fit_joint", "loss_params_of", "curvature", "Curvature"]
