"""Allocation solvers: take a Fit (or a law and its parameters) and a budget."""
from .compute_optimal import Allocation, compute_optimal

__all__ = ["Allocation", "compute_optimal"]
