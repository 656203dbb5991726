"""Allocation solvers: take a Fit (or a law and its parameters) and a budget."""
from .adaptive import AdaptiveAllocation, RouterResult, allocate_samples, two_mode_router
from .compute_optimal import Allocation, compute_optimal
from .inference_aware import InferenceAllocation, inference_aware_optimum, lowest_loss
from .test_time import (AccuracyModel, Comparison, Config, CoverageAccuracyModel, Frontier, SettingGrid,
                        best_config, exchange_multiplier, frontier, sigmoid_link, smaller_vs_larger)

__all__ = ["Allocation", "compute_optimal", "InferenceAllocation", "inference_aware_optimum", "lowest_loss",
           "AccuracyModel", "Comparison", "Config", "CoverageAccuracyModel", "Frontier", "SettingGrid",
           "best_config", "exchange_multiplier", "frontier", "sigmoid_link", "smaller_vs_larger",
           "AdaptiveAllocation", "RouterResult", "allocate_samples", "two_mode_router"]
