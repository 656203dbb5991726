"""scalinglaws: analytical scaling laws of language models, fitted in JAX.

Data flows one way: ``read_runs`` -> a ``Law`` -> ``fit`` -> ``Fit`` ->
``compute_optimal`` / plots. The top level holds the everyday names; the rest is reached
through the subpackages: ``sl.laws``, ``sl.fitting`` (recipes such as ``fit_joint``),
``sl.optimize`` (every solver and its result types), ``sl.evals`` (pass@k, aggregation,
model comparison, ceiling check), ``sl.flops`` and ``sl.plot``. See ``docs/layers.md``.

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

from importlib import import_module as _import_module
from importlib import metadata as _metadata

from . import laws
from ._jax import float64
from .errors import DataError, LawError, ScalingLawsError
from .laws.base import Param
from .runs import Runs, read_runs
from . import fitting
from .fitting.api import fit
from .fitting.objectives import Huber, HuberLikelihood, LeastSquares
from .fitting.result import Fit, load_fit
from .fitting.solver import SolverConfig

# Loaded on first use, so that `import scalinglaws` (and the CLI's fit) does not pay for scipy's
# optimizers, the allocation solvers or matplotlib: name -> (module, attribute or None).
_LAZY = {
    "compute_optimal": ("optimize.compute_optimal", "compute_optimal"),
    "inference_aware_optimum": ("optimize.inference_aware", "inference_aware_optimum"),
    "lowest_loss": ("optimize.inference_aware", "lowest_loss"),
    "best_config": ("optimize", "best_config"),
    "smaller_vs_larger": ("optimize", "smaller_vs_larger"),
    "exchange_multiplier": ("optimize", "exchange_multiplier"),
    "bootstrap": ("fitting.bootstrap", "bootstrap"), "Bootstrap": ("fitting.bootstrap", "Bootstrap"),
    "backtest": ("fitting.backtest", "backtest"),
    "approach1": ("fitting.approaches", "approach1"), "approach2": ("fitting.approaches", "approach2"),
    "compare_approaches": ("fitting.approaches", "compare_approaches"), "Approach2": ("fitting.approaches", "Approach2"),
    "checkpoint_weights": ("fitting.checkpoints", "checkpoint_weights"),
    "seed_noise": ("fitting.checkpoints", "seed_noise"),
    "fit_checkpoints": ("fitting.checkpoints", "fit_checkpoints"),
    "compare_checkpoint_fits": ("fitting.checkpoints", "compare_checkpoint_fits"),
    "Architecture": ("architecture", "Architecture"), "decode_throughput": ("architecture", "decode_throughput"),
    "architecture": ("architecture", None),
    "posterior": ("fitting.bayes", "posterior"), "Posterior": ("fitting.bayes", "Posterior"),
    "load_posterior": ("fitting.bayes", "load_posterior"),
    "optimize": ("optimize", None), "evals": ("evals", None), "flops": ("flops", None), "plot": ("plot", None),
}


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name]
        mod = _import_module(f".{module}", __name__)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scalinglaws' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


try:
    __version__ = _metadata.version("scalinglaws")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"

__all__ = [
    "__version__", "read_runs", "Runs", "fit", "Fit", "load_fit", "laws", "Param",
    "Huber", "LeastSquares", "HuberLikelihood",
    "compute_optimal", "inference_aware_optimum", "lowest_loss", "best_config", "smaller_vs_larger",
    "exchange_multiplier", "DataError", "LawError", "ScalingLawsError",
    "fitting", "optimize", "evals", "flops", "plot", "SolverConfig", "float64",
    "bootstrap", "Bootstrap", "backtest", "approach1", "approach2", "Approach2", "compare_approaches",
    "checkpoint_weights", "seed_noise", "fit_checkpoints", "compare_checkpoint_fits",
    "Architecture", "decode_throughput",
    "posterior", "Posterior", "load_posterior",
]
