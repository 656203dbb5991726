"""scalinglaws: analytical scaling laws of language models, fitted in JAX.

Data flows one way: ``read_runs`` -> a ``Law`` -> ``fit`` -> ``Fit`` ->
``compute_optimal`` / plots.

>>> import scalinglaws as sl
>>> runs = sl.read_runs("runs.csv", columns={"params": "Model Size", "flops": "Training FLOP"})  # doctest: +SKIP
>>> fit = sl.fit(sl.laws.Chinchilla(), runs)                                                   # doctest: +SKIP
>>> sl.compute_optimal(fit, flops=5.76e23).params                                              # doctest: +SKIP

The same chain on a noiseless sweep drawn from Epoch's parameters (Besiroglu et al. 2024,
rounded as in ``synthetic.EPOCH``), whose closed-form optimum at 1e21 FLOPs is
N* = G (C/6)^(beta/(alpha+beta)) = 2.78e9 parameters and 21.6 tokens per parameter:

>>> from scalinglaws import synthetic
>>> runs = sl.read_runs(synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.0))
>>> fit = sl.fit(sl.laws.Chinchilla(), runs)
>>> best = sl.compute_optimal(fit, flops=1e21)
>>> round(best.params / 1e9, 2), round(best.tokens_per_param, 1)
(2.78, 21.6)
"""

from importlib import metadata as _metadata

from . import _jax  # noqa: F401  (switches on float64 before anything else)
from . import laws
from .errors import DataError, LawError, ScalingLawsError
from .fitting.api import fit
from .fitting.objectives import Huber, HuberLikelihood, LeastSquares
from .laws.base import Param
from .laws.joint import accuracy_model as joint_accuracy_model
from .laws.joint import fit_joint
from .laws.width_depth import best_split
from .optimize.compute_optimal import Allocation, compute_optimal
from .optimize.inference_aware import InferenceAllocation, inference_aware_optimum, lowest_loss
from .optimize.test_time import (Comparison, Config, CoverageAccuracyModel, Frontier, best_config,
                                 exchange_multiplier, frontier, sigmoid_link, smaller_vs_larger)
from .optimize.adaptive import AdaptiveAllocation, RouterResult, allocate_samples, two_mode_router
from . import flops, inference
from .inference import (BetaFit, CeilingReport, ModelComparison, aggregate_samples, ceiling_check,
                        compare_models, fit_beta_binomial, pass_at_k)
from .flops import inference_flops_per_token, kv_cache_bytes, query_flops, train_flops
from .result import Fit, load_fit
from .runs import Runs, read_runs

try:
    __version__ = _metadata.version("scalinglaws")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"

__all__ = [
    "__version__", "laws", "Param", "read_runs", "Runs", "fit", "Fit", "load_fit",
    "Huber", "LeastSquares", "HuberLikelihood", "compute_optimal", "Allocation",
    "DataError", "LawError", "ScalingLawsError",
    "flops", "train_flops", "inference_flops_per_token", "kv_cache_bytes", "query_flops",
    "inference_aware_optimum", "lowest_loss", "InferenceAllocation",
    "exchange_multiplier", "best_config", "Config", "frontier", "Frontier", "smaller_vs_larger", "Comparison",
    "CoverageAccuracyModel", "sigmoid_link", "allocate_samples", "AdaptiveAllocation", "two_mode_router",
    "RouterResult", "inference", "pass_at_k", "fit_beta_binomial", "BetaFit", "aggregate_samples",
    "ceiling_check", "CeilingReport", "compare_models", "ModelComparison", "fit_joint",
    "joint_accuracy_model", "best_split",
]
