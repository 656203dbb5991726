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
"""

from importlib import metadata as _metadata

from . import _jax  # noqa: F401  (switches on float64 before anything else)
from . import laws
from .errors import DataError, LawError, ScalingLawsError
from .laws.base import Param
from .runs import Runs, read_runs
from . import fitting
from .fitting.api import fit
from .fitting.objectives import Huber, HuberLikelihood, LeastSquares
from .fitting.result import Fit, load_fit
from . import flops, optimize
from .optimize.best_config import best_config, exchange_multiplier, smaller_vs_larger
from .optimize.compute_optimal import compute_optimal
from .optimize.inference_aware import inference_aware_optimum, lowest_loss
from . import evals, plot

try:
    __version__ = _metadata.version("scalinglaws")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"

__all__ = [
    "__version__", "read_runs", "Runs", "fit", "Fit", "load_fit", "laws", "Param",
    "Huber", "LeastSquares", "HuberLikelihood",
    "compute_optimal", "inference_aware_optimum", "lowest_loss", "best_config", "smaller_vs_larger",
    "exchange_multiplier", "DataError", "LawError", "ScalingLawsError",
    "fitting", "optimize", "evals", "flops", "plot",
]
