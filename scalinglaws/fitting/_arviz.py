"""The one module of the package that imports arviz.

arviz 0.23 (the last release for Python 3.11) and arviz 1.x have different APIs; every arviz call
of the package goes through the three functions here, so a move to 1.x changes this file only.
arviz is imported on first use (it is slow to import and announces its refactor with a
``FutureWarning``, silenced here).
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

__all__ = ["diagnostics", "inference_data", "arviz"]


def arviz() -> Any:
    """The arviz module (imported once, its refactor announcement silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def _dataset(arrays: Mapping[str, np.ndarray]) -> Any:
    az = arviz()
    data = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    return az.convert_to_dataset({k: (v[None, :] if v.ndim == 1 else v) for k, v in data.items()})


def diagnostics(arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Rank-normalised split R-hat, bulk ESS and tail ESS (Vehtari et al. 2021, as arviz computes
    them) of each ``name -> (chains, draws)`` array: three dicts keyed by the names given."""
    if not arrays:
        return {}, {}, {}
    az = arviz()
    ds = _dataset(arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bulk, tail = az.ess(ds, method="bulk"), az.ess(ds, method="tail")
        one_chain = min(np.shape(v)[0] if np.ndim(v) == 2 else 1 for v in arrays.values()) < 2
        rhat = None if one_chain else az.rhat(ds)  # R-hat needs two chains (arviz: NaN and a message)
    pick = lambda d: {k: float(np.asarray(d[k])) for k in arrays}  # noqa: E731
    return ({k: float("nan") for k in arrays} if rhat is None else pick(rhat)), pick(bulk), pick(tail)


def inference_data(mcmc: Any, extra: Mapping[str, np.ndarray] | None = None) -> Any:
    """``arviz.from_numpyro(mcmc)`` with the ``extra`` ``name -> (chains, draws)`` arrays added to
    its posterior group. A sampled site of the same name but other values is kept, renamed
    ``<name>__internal``."""
    az = arviz()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        idata = az.from_numpyro(mcmc)
    post = idata.posterior
    for name, arr in (extra or {}).items():
        arr = np.asarray(arr, dtype=np.float64)
        if name in post.data_vars:
            old = np.asarray(post[name])
            if old.shape == arr.shape and np.allclose(old, arr, rtol=1e-12, atol=0.0):
                continue
            post = post.rename({name: f"{name}__internal"})
        post[name] = (("chain", "draw"), arr)
    idata.posterior = post
    return idata
