"""Fitting: objectives (how residuals are scored) and the batched solver.

The entry point is :func:`scalinglaws.fit` (defined in ``fitting/api.py``).
"""
from .objectives import Huber, HuberLikelihood, LeastSquares

__all__ = ["Huber", "HuberLikelihood", "LeastSquares"]
