"""Allocation solvers: take a Fit (or a law and its parameters) and a budget.

``total_flops=`` is the total (training + inference) budget in every solver;
``compute_optimal(fit, flops=...)`` (no inference) also accepts it as ``total_flops=``.
"""
from .architecture_search import (ArchitectureConfig, ArchitectureSearch, ArchitectureSpace, architecture_search,
                                  best_architecture_config, pareto_mask, query_dollars, query_flops)
from .adaptive import AdaptiveAllocation, RouterResult, allocate_samples, two_mode_router
from .best_config import (DEFAULT_SAMPLES, MAX_SAMPLES, AccuracyModel, Comparison, Config, CoverageAccuracyModel,
                          Frontier, Integers, SettingGrid, accuracy_model, best_config, exchange_multiplier, frontier, sigmoid_link,
                          smaller_vs_larger)
from .compute_optimal import Allocation, compute_optimal
from .inference_aware import InferenceAllocation, inference_aware_optimum, lowest_loss
from .selection import (MajorityVoteAccuracyModel, VerifierAccuracyModel, VerifierRates, fit_verifier,
                        verifier_accuracy)
from .width_depth import Split, SplitPoint, best_split

__all__ = ["Allocation", "compute_optimal", "InferenceAllocation", "inference_aware_optimum", "lowest_loss",
           "AccuracyModel", "Comparison", "Config", "CoverageAccuracyModel", "Frontier", "Integers", "SettingGrid",
           "DEFAULT_SAMPLES", "MAX_SAMPLES",
           "accuracy_model", "best_config", "exchange_multiplier", "frontier", "sigmoid_link", "smaller_vs_larger",
           "AdaptiveAllocation", "RouterResult", "allocate_samples", "two_mode_router",
           "best_split", "Split", "SplitPoint",
           "VerifierAccuracyModel", "MajorityVoteAccuracyModel", "verifier_accuracy", "fit_verifier",
           "VerifierRates", "ArchitectureSpace", "ArchitectureSearch", "architecture_search", "pareto_mask",
           "ArchitectureConfig", "best_architecture_config", "query_flops", "query_dollars"]
