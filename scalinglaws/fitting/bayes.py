"""Bayesian fits: the posterior of any law's parameters by NUTS (numpyro), started at the fit.

The model is built from the :class:`~scalinglaws.laws.base.Law` alone: one sample site per
*internal* parameter (in ``law.param_names`` order; the fit's fixed parameters are held at their
values), a noise scale, and a likelihood on log residuals (linear residuals for a law whose
target may be zero or negative, ``law.positive = False``):

    log y_i ~ Normal(log f(x_i; theta), sigma)           likelihood="gaussian"
    log y_i ~ StudentT(nu, log f(x_i; theta), sigma)     likelihood="student_t"

Default priors, from each :class:`~scalinglaws.laws.base.Param`'s bounds (``priors=`` overrides
any of them by internal name, e.g. ``priors={"alpha": numpyro.distributions.Uniform(0, 1)}``;
the noise sites are named ``"sigma"`` and ``"nu"``):

- bounded on both sides: ``Uniform(lower, upper)``;
- bounded on one side: a Normal on the log of the distance to the bound, centred at the fit's
  distance, sd ``ONE_SIDED_SD = 3`` (so 95% of the prior lies within a factor e^6 ~ 400 of it);
  at the bound itself the centre is the start grid's median distance instead;
- unbounded: ``Normal(fit value, scale)`` with scale the start grid's span (max - min), or
  ``max(1, |value|)`` for a one-point grid. For Chinchilla (a = log A, ...) that is Normal(a, 25)
  etc.: flat over the region the data allow;
- ``sigma ~ HalfNormal(5 * s)``, s the weighted RMS of the fit's residuals (in the likelihood's
  space);
- ``nu`` (student_t only): sampled with a ``Gamma(2, 0.1)`` prior (mean 20; Juárez and Steel
  2010) unless ``nu=`` fixes it.

The priors centred at the fit's values depend on the data (an empirical-Bayes shortcut); they are
wide enough to be flat where the likelihood is not, which ``rows()`` lets one check (the posterior
sd is far below the prior scale).

Chains start at the fit's optimum (``init_to_value``), run vectorised in one process
(``chain_method="vectorized"``; JAX on CPU shows one device unless
``numpyro.set_host_device_count`` ran before jax was imported), with a dense mass matrix (the
Chinchilla posterior is strongly correlated: a diagonal one took 5x more leapfrog steps) and
float64 throughout. The mass matrix starts at the Laplace approximation (the inverse Hessian of
the log posterior at the start, ``laplace_mass=True``) rather than the identity: on Epoch's 240
rows that cut the first 100 warmup iterations from about 700 leapfrog steps each to 15, and all
the leapfrog steps of 4 chains x (1,000 warmup + 1,000 draws) by 23%, and a Student-t fit's
steps per draw from 530 to 240, for one jitted Hessian (about 1.7 s of CPU for a new model).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

import numpyro
import numpyro.distributions as dist
from numpyro import handlers
from numpyro.infer import MCMC, NUTS, init_to_value

from .._jax import jax, jnp, x64
from .._report import Reported, format_rows, notes_block, plain
from ..errors import DataError, LawError
from ..laws.base import Law, Param
from . import _arviz
from .api import coerce_runs, dataset
from .result import Fit, _inputs_of, _json_default

__all__ = ["Posterior", "posterior", "posterior_from_dict", "load_posterior", "default_prior", "LIKELIHOODS",
           "RHAT_MAX", "ESS_MIN", "ONE_SIDED_SD"]

LIKELIHOODS = ("gaussian", "student_t")
RHAT_MAX = 1.01  # warn above (Vehtari et al. 2021)
ESS_MIN = 400  # warn below (bulk ESS; 100 per chain for 4 chains, Vehtari et al. 2021)
ONE_SIDED_SD = 3.0  # sd of the default prior on log(distance to the bound) of a one-sided parameter
SIGMA_SCALE = 5.0  # sigma ~ HalfNormal(SIGMA_SCALE * RMS residual of the fit)
NU_PRIOR = (2.0, 0.1)  # nu ~ Gamma(concentration, rate)
POSTERIOR_FORMAT = 1  # version of the saved "posterior" entry (Posterior.to_dict(draws=True))


def _free_name(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name = "noise_" + name if not name.startswith("noise_") else name + "_"
    return name


def default_prior(q: Param, value: float) -> tuple[Any, str]:
    """The default prior of one internal parameter (fitted at ``value``) and its description.

    >>> import scalinglaws as sl
    >>> from scalinglaws.fitting.bayes import default_prior
    >>> default_prior(sl.Param("k", lower=0.0, upper=1.0), 0.4)[1]
    'Uniform(0, 1)'
    >>> default_prior(sl.Param("alpha", grid=(0.0, 0.5, 1.0, 1.5, 2.0)), 0.35)[1]
    'Normal(0.35, 2)'
    >>> default_prior(sl.Param("c", grid=(1.0, 3.0), lower=0.0), 2.0)[1]
    'log(c - 0) ~ Normal(0.6931, 3)'
    """
    lo, hi = q.lower, q.upper
    if math.isfinite(lo) and math.isfinite(hi):
        return dist.Uniform(lo, hi), f"Uniform({lo:g}, {hi:g})"
    grid = np.asarray(q.grid, dtype=np.float64)
    if math.isfinite(lo) or math.isfinite(hi):
        bound, sign = (lo, 1.0) if math.isfinite(lo) else (hi, -1.0)
        dist_to = sign * (value - bound)
        if not (math.isfinite(dist_to) and dist_to > 1e-12 * (1.0 + abs(bound))):
            inside = sign * (grid - bound)
            inside = inside[inside > 0]
            dist_to = float(np.median(inside)) if inside.size else 1.0
        centre = math.log(dist_to)
        prior = dist.TransformedDistribution(
            dist.Normal(centre, ONE_SIDED_SD),
            [dist.transforms.ExpTransform(), dist.transforms.AffineTransform(bound, sign)])
        side = f"{q.name} - {bound:g}" if sign > 0 else f"{bound:g} - {q.name}"
        return prior, f"log({side}) ~ Normal({centre:.4g}, {ONE_SIDED_SD:g})"
    span = float(grid.max() - grid.min())
    scale = span if span > 0 else max(1.0, abs(value))
    return dist.Normal(value, scale), f"Normal({value:.4g}, {scale:.4g})"


def _inside(q: Param, value: float) -> float:
    """``value`` moved just inside the bounds (the start must have a finite prior density)."""
    lo, hi = q.lower, q.upper
    width = (hi - lo) if math.isfinite(lo) and math.isfinite(hi) else 1.0 + abs(value)
    eps = 1e-6 * width
    if math.isfinite(lo) and not value > lo:
        value = lo + eps
    if math.isfinite(hi) and not value < hi:
        value = hi - eps
    return float(value)


@dataclass(frozen=True)
class Posterior(Reported):
    """The NUTS posterior of ``fit``'s law on the runs.

    ``draws`` holds one row of *internal* parameters (``law.param_names`` order) per draw, chains
    one after the other (``chains * draws_per_chain`` rows; fixed parameters constant), so that
    ``sl.compute_optimal(posterior, flops=...)`` and the other allocation solvers re-solve per draw
    as they do for a :class:`~scalinglaws.fitting.bootstrap.Bootstrap`. ``sigma`` (and ``nu``) are
    the noise draws. ``se()``, ``interval(level)``, ``rhat`` and ``ess`` (bulk) are keyed by the
    public parameter names (R-hat and ESS also by the noise names). ``settings`` holds the sampler's
    options (target_accept, dense_mass, max_tree_depth, laplace_mass, a fixed nu, the names given
    priors) and the data hash of the runs sampled on. ``save(path)`` writes it with its fit to a
    fit file that :func:`load_posterior` reads back (``mcmc`` is not saved).
    """

    fit: Fit
    draws: np.ndarray
    sigma: np.ndarray
    nu: np.ndarray | None
    chains: int
    draws_per_chain: int
    warmup: int
    seed: int
    likelihood: str
    space: str
    priors: dict[str, str]
    rhat: dict[str, float]
    ess: dict[str, float]
    ess_tail: dict[str, float]
    divergences: int
    accept_prob: float
    mean_steps: float
    seconds: float
    sigma_name: str = "sigma"
    nu_name: str | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    mcmc: Any = field(default=None, repr=False, compare=False)

    # -- the sample -------------------------------------------------------------------
    @property
    def n(self) -> int:
        return int(self.draws.shape[0])

    @property
    def ok(self) -> np.ndarray:
        return np.all(np.isfinite(self.draws), axis=1) & np.isfinite(self.sigma)

    def public_draws(self) -> dict[str, np.ndarray]:
        """Public parameters of every usable draw, name -> (n_ok,) array."""
        law = self.fit.law
        rows = [law.public(dict(zip(law.param_names, t))) for t in self.draws[self.ok]]
        return {k: np.array([r[k] for r in rows], dtype=np.float64) for k in self.fit.params}

    def se(self) -> dict[str, float]:
        """Posterior standard deviations (ddof=1) of the public parameters."""
        return {k: float(np.std(v, ddof=1)) for k, v in self.public_draws().items()}

    def mean(self) -> dict[str, float]:
        return {k: float(np.mean(v)) for k, v in self.public_draws().items()}

    def median(self) -> dict[str, float]:
        return {k: float(np.median(v)) for k, v in self.public_draws().items()}

    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Equal-tailed credible intervals at ``level``: the draws' (1 - level)/2 and
        (1 + level)/2 quantiles, public name -> (lo, hi)."""
        if not 0 < level < 1:
            raise ValueError(f"interval(level=...) must be in (0, 1), got {level!r}.")
        q = (1 - level) / 2
        return {k: (float(np.quantile(v, q)), float(np.quantile(v, 1 - q))) for k, v in self.public_draws().items()}

    # -- prediction -------------------------------------------------------------------
    @x64
    def predict(self, data: Any = None, level: float | None = None, *, kind: str = "predictive", seed: int = 0,
                chunk: int = 1000, **columns: Any) -> Any:
        """Posterior prediction of the law's output at ``data`` (Runs, a mapping of arrays, or
        keyword arrays such as ``params=..., tokens=...``).

        Returns the posterior mean of the law's prediction f(x; theta) (the *mean function*,
        without noise) when ``level`` is None; otherwise ``(mean, lo, hi)`` with an equal-tailed
        interval at ``level``:

        - ``kind="predictive"`` (default): of a *new observation*, the noise draws included:
          y = f(x; theta) * exp(sigma * eps) on log residuals (f + sigma * eps for a linear
          law), eps ~ Normal(0, 1) or StudentT(nu), one eps per draw seeded by ``seed``;
        - ``kind="mean"``: of the mean function f(x; theta) only (the credible band of the law).
        """
        if kind not in ("predictive", "mean"):
            raise LawError(f"`Posterior.predict(kind=...)`: 'predictive' or 'mean', got {kind!r}.",
                           rule="bad argument", value=kind)
        if level is not None and not 0 < level < 1:
            raise LawError(f"`Posterior.predict(level=...)`: must be in (0, 1), got {level!r}.",
                           rule="bad argument", value=level)
        law = self.fit.law
        X = _inputs_of(law, data, columns)
        rows = self.draws[self.ok]
        f1 = jax.jit(jax.vmap(lambda th, X: law.predict(law.unpack(th), X), in_axes=(0, None)))
        f = np.concatenate([np.asarray(f1(jnp.asarray(rows[i:i + chunk]), X), dtype=np.float64)
                            for i in range(0, len(rows), int(chunk))], axis=0)
        mean = f.mean(axis=0)
        if level is None:
            return mean
        if kind == "predictive":
            rng = np.random.default_rng(seed)
            shape = f.shape
            eps = rng.standard_normal(shape) if self.nu is None else \
                rng.standard_t(self.nu[self.ok].reshape((-1,) + (1,) * (f.ndim - 1)), size=shape)
            s = self.sigma[self.ok].reshape((-1,) + (1,) * (f.ndim - 1))
            f = f * np.exp(s * eps) if self.space == "log" else f + s * eps
        q = (1 - level) / 2
        return mean, np.quantile(f, q, axis=0), np.quantile(f, 1 - q, axis=0)

    # -- arviz --------------------------------------------------------------------------
    @x64
    def to_inference_data(self) -> Any:
        """An ``arviz.InferenceData`` (``arviz.from_numpyro``) whose posterior group holds the
        sampled internal parameters, the noise sites and the public parameters."""
        if self.mcmc is None:
            raise LawError("this Posterior holds no sampler state (it was loaded from a file: the draws, "
                           "R-hat and ESS are saved, numpyro's MCMC object is not); run sl.posterior again.",
                           rule="no sampler")
        shape = (self.chains, self.draws_per_chain)
        law = self.fit.law
        rows = [law.public(dict(zip(law.param_names, t))) for t in self.draws]
        extra = {k: np.array([r[k] for r in rows], dtype=np.float64).reshape(shape) for k in self.fit.params}
        return _arviz.inference_data(self.mcmc, extra)

    # -- reporting ------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        pub = self.public_draws()
        out = []
        for k, v in pub.items():
            lo, hi = np.quantile(v, [0.025, 0.975])
            out.append({"parameter": k, "fit": self.fit.params[k], "mean": float(np.mean(v)),
                        "median": float(np.median(v)), "sd": float(np.std(v, ddof=1)),
                        "ci95_lo": float(lo), "ci95_hi": float(hi), "rhat": self.rhat.get(k),
                        "ess_bulk": self.ess.get(k)})
        for key, v in ((self.sigma_name, self.sigma), (self.nu_name, self.nu)):
            if v is None or key is None:
                continue
            v = v[self.ok]
            lo, hi = np.quantile(v, [0.025, 0.975])
            out.append({"parameter": key, "fit": None, "mean": float(np.mean(v)), "median": float(np.median(v)),
                        "sd": float(np.std(v, ddof=1)), "ci95_lo": float(lo), "ci95_hi": float(hi),
                        "rhat": self.rhat.get(key), "ess_bulk": self.ess.get(key)})
        return out

    def report(self) -> str:
        rh = [v for v in self.rhat.values() if np.isfinite(v)]
        es = [v for v in self.ess.values() if np.isfinite(v)]
        lines = [f"[[Posterior]] law={self.fit.law.name}  NUTS {self.chains} chains x {self.draws_per_chain} draws "
                 f"(warmup {self.warmup})  likelihood={self.likelihood} on {self.space} residuals  seed={self.seed}",
                 f"    divergences: {self.divergences}   max R-hat: {max(rh) if rh else float('nan'):.4f}   "
                 f"min bulk ESS: {min(es) if es else float('nan'):.0f}   mean accept: {self.accept_prob:.3f}   "
                 f"leapfrog steps per draw: {self.mean_steps:.1f}   {self.seconds:.1f} s",
                 format_rows(self.rows(), {"parameter": "parameter", "fit": "fit", "mean": "mean", "median": "median",
                                           "sd": "sd", "ci95_lo": "95% lo", "ci95_hi": "95% hi", "rhat": "R-hat",
                                           "ess_bulk": "ESS bulk"}),
                 "[[Priors]] (internal parameters)"]
        lines += [f"    {k:>10} ~ {v}" if "~" not in v else f"    {v}" for k, v in self.priors.items()]
        lines += notes_block(self.notes, self.warnings, sections=("[[Notes]]", "[[Warnings]]"), indent="    ")
        return "\n".join(lines)

    def to_dict(self, draws: bool = False) -> dict[str, Any]:
        """JSON-able summary; ``draws=True`` adds what :func:`posterior_from_dict` needs to rebuild
        it: the draws per chain (``[chain][draw]``) of the internal parameters (``param_names``
        order; ``[chain][draw][parameter]``), of the public ones (``public_draws``: name ->
        ``[chain][draw]``) and of the noise, the sampler settings and the noise site names.
        Non-finite values are written as null (as the bootstrap's draws are)."""
        out = {"type": "Posterior", "law": self.fit.law.name, "chains": self.chains,
               "draws_per_chain": self.draws_per_chain, "warmup": self.warmup, "seed": self.seed,
               "likelihood": self.likelihood, "space": self.space, "priors": dict(self.priors),
               "divergences": self.divergences, "accept_prob": self.accept_prob, "mean_steps": self.mean_steps,
               "seconds": self.seconds, "rhat": plain(self.rhat), "ess_bulk": plain(self.ess),
               "ess_tail": plain(self.ess_tail), "mean": self.mean(), "median": self.median(), "se": self.se(),
               "interval90": {k: list(v) for k, v in self.interval(0.90).items()},
               "interval95": {k: list(v) for k, v in self.interval(0.95).items()},
               "settings": plain(self.settings), "notes": list(self.notes), "warnings": list(self.warnings)}
        if draws:
            law = self.fit.law
            shape = (self.chains, self.draws_per_chain)
            rows = [law.public(dict(zip(law.param_names, t))) for t in self.draws]
            out.update({
                "format": POSTERIOR_FORMAT, "sigma_name": self.sigma_name, "nu_name": self.nu_name,
                "param_names": list(law.param_names),
                "draws": plain(self.draws.reshape(shape + (len(law.param_names),))),
                "public_draws": {k: plain(np.array([r[k] for r in rows], dtype=np.float64).reshape(shape))
                                 for k in self.fit.params},
                "sigma": plain(self.sigma.reshape(shape)),
                "nu": None if self.nu is None else plain(self.nu.reshape(shape))})
        return out

    @x64
    def save(self, path: Any) -> Path:
        """Write the fit (as :meth:`Fit.save`) with this posterior under its ``"posterior"`` entry
        (``to_dict(draws=True)``): a fit file that :func:`~scalinglaws.load_fit` and
        ``scalinglaws optimize FIT_JSON --posterior`` read, and :func:`load_posterior` rebuilds
        this posterior from (floats as JSON reprs: the float64 draws come back exactly)."""
        path = Path(path)
        d = self.fit.to_dict()
        d["posterior"] = self.to_dict(draws=True)
        path.write_text(json.dumps(d, indent=2, default=_json_default) + "\n")
        return path

    def __repr__(self) -> str:
        return (f"Posterior({self.fit.law.name}: {self.chains} chains x {self.draws_per_chain} draws, "
                f"{self.likelihood}, divergences={self.divergences})")


def _laplace_mass(model: Any, args: tuple, init: Mapping[str, float], sites: tuple[str, ...],
                  dense: bool) -> tuple[Any, str]:
    """The starting inverse mass matrix: the inverse Hessian of the potential (minus the log
    posterior, on numpyro's unconstrained scale) at the chains' start, so that the first warmup
    window does not run with the identity (whose trajectories on the Chinchilla posterior, with
    scales from 0.01 to 0.2, hit the tree depth). None (the identity) where that Hessian is not
    positive definite or some site has no start; warmup adapts the matrix either way. One jitted
    program (eager evaluation compiled every primitive anew: 7-10 s for a new model)."""
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import potential_energy, unconstrain_fn

    if any(n not in init for n in sites):
        return None, "the starting mass matrix is the identity (some parameter starts outside the fit)"
    try:
        values = {n: jnp.asarray(init[n]) for n in sites}
        z0 = jax.jit(lambda v: unconstrain_fn(model, args, {}, v))(values)
        flat, unravel = ravel_pytree(z0)
        H = jax.jit(jax.hessian(lambda v: potential_energy(model, args, {}, unravel(v))))(flat)
        H = np.asarray(H, dtype=np.float64)
        H = 0.5 * (H + H.T)
        eig = np.linalg.eigvalsh(H)
        if not (np.all(np.isfinite(eig)) and eig.min() > 0):
            return None, ("the starting mass matrix is the identity (the Hessian of the log posterior at the fit "
                          "is not positive definite)")
        cov = np.linalg.inv(H)
        cov = 0.5 * (cov + cov.T)
    except Exception as exc:  # noqa: BLE001 - a model numpyro cannot initialise fails again, clearly, in MCMC
        return None, f"the starting mass matrix is the identity (Laplace step failed: {type(exc).__name__})"
    return (jnp.asarray(cov) if dense else jnp.asarray(np.diag(cov))), \
        "the starting mass matrix is the inverse Hessian of the log posterior at the fit (Laplace), adapted in warmup"


def _check_int(name: str, v: Any, least: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
        raise LawError(f"`posterior({name}=...)`: must be an integer >= {least}, got {v!r}.",
                       rule=f"bad {name}", value=v)
    return int(v)


@x64
def posterior(fit: Fit, runs: Any, *, chains: int = 4, draws: int = 1000, warmup: int = 1000, seed: int = 0,
              likelihood: str = "gaussian", priors: Mapping[str, Any] | None = None, progress: bool = True,
              target_accept: float = 0.9, nu: float | None = None, dense_mass: bool = True,
              max_tree_depth: int = 10, laplace_mass: bool = True) -> Posterior:
    """Sample the posterior of ``fit``'s law on ``runs`` with NUTS (numpyro), every chain started
    at the fit's optimum.

    ``likelihood``: ``"gaussian"`` or ``"student_t"`` on log residuals (linear ones for a law
    whose target may be zero or negative); ``nu`` fixes the Student-t degrees of freedom (by
    default they are sampled, prior Gamma(2, 0.1)). ``priors`` maps internal parameter names
    (``law.param_names``; ``"sigma"``, ``"nu"`` for the noise) to numpyro distributions, replacing
    the defaults described in this module's docstring. ``draws`` and ``warmup`` are per chain.
    ``dense_mass``, ``max_tree_depth`` go to numpyro's NUTS; ``laplace_mass=False`` starts the mass
    matrix at the identity instead of the Laplace approximation at the fit.
    Warns (and lists in ``.warnings``) when an R-hat exceeds 1.01, a bulk ESS is below 400 or
    some transitions diverged.

    Example (a sampling run, so not a doctest; ``tests/test_bayes.py`` runs it)::

        post = sl.posterior(fit, runs, chains=4, draws=1000)
        post.interval(0.95)["alpha"], post.rhat["alpha"]
        sl.compute_optimal(post, flops=1e23).interval(0.9)["params"]
        mean, lo, hi = post.predict(params=7e10, tokens=1.4e12, level=0.9)
    """
    if not isinstance(fit, Fit):
        raise LawError(f"`posterior(fit, ...)`: expected a Fit from sl.fit, got {type(fit).__name__}.",
                       rule="bad fit")
    chains, n_draws = _check_int("chains", chains, 1), _check_int("draws", draws, 1)
    warmup, seed = _check_int("warmup", warmup, 0), _check_int("seed", seed, 0)
    max_tree_depth = _check_int("max_tree_depth", max_tree_depth, 1)
    if likelihood not in LIKELIHOODS:
        raise LawError(f"`posterior(likelihood=...)`: one of {', '.join(map(repr, LIKELIHOODS))}, got {likelihood!r}.",
                       rule="unknown likelihood", value=likelihood)
    if not (isinstance(target_accept, (int, float)) and 0 < target_accept < 1):
        raise LawError(f"`posterior(target_accept=...)`: must be in (0, 1), got {target_accept!r}.",
                       rule="bad target_accept", value=target_accept)
    if nu is not None:
        if likelihood != "student_t":
            raise LawError("`posterior(nu=...)`: the degrees of freedom belong to likelihood='student_t'; "
                           f"got nu={nu!r} with likelihood={likelihood!r}.", rule="bad argument", value=nu)
        if not (isinstance(nu, (int, float)) and math.isfinite(nu) and nu > 0):
            raise LawError(f"`posterior(nu=...)`: must be a positive number, got {nu!r}.", rule="bad nu", value=nu)

    law: Law = fit.law
    names = law.param_names
    params = {q.name: q for q in law.parameters()}
    fixed = {n: float(fit.internal[n]) for n in fit.fixed}
    free = [n for n in names if n not in fixed]
    sig_name = _free_name("sigma", set(names))
    nu_name = _free_name("nu", set(names) | {sig_name}) if likelihood == "student_t" and nu is None else None
    obs_name = _free_name("obs", set(names) | {sig_name, nu_name or ""})

    priors = dict(priors or {})
    known = set(free) | {sig_name} | ({nu_name} if nu_name else set())
    for k, v in priors.items():
        if k in fixed:
            raise LawError(f"`posterior(priors=...)`: {k!r} is fixed in the fit (fixed={sorted(fixed)}); it is not "
                           "sampled, so it takes no prior.", rule="prior for fixed parameter", value=k)
        if k not in known:
            raise LawError(f"`posterior(priors=...)`: no parameter {k!r} in law {law.name!r}; priors are keyed by the "
                           f"internal names {', '.join(sorted(known))}.", rule="unknown parameter", value=k)
        if not isinstance(v, dist.Distribution):
            raise LawError(f"`posterior(priors=...)`: the prior of {k!r} must be a numpyro distribution "
                           f"(numpyro.distributions.Normal(...), ...), got {type(v).__name__}.",
                           rule="bad prior", value=k)

    # the data, in the likelihood's space
    r = coerce_runs(law, runs, fn="posterior")
    if r.data_hash() != fit.data_hash:
        warnings.warn("posterior: these runs are not the ones the fit was made from (their data hash differs); "
                      "the posterior is of the runs given.", UserWarning, stacklevel=2)
    d = dataset(law, r, fit.objective_spec)
    space = "log" if getattr(law, "positive", True) else "linear"
    if space == "log" and np.any(d.y <= 0):
        i = int(np.argmax(d.y <= 0))
        raise DataError(f"{r.source}: column {law.target!r}, row {int(r.row_ids[i])}: value {d.y[i]} is not positive; "
                        "the likelihood is on log residuals.", source=r.source, column=law.target,
                        row=int(r.row_ids[i]), rule="not positive", value=float(d.y[i]))
    notes: list[str] = []
    keep = d.w > 0
    if not np.all(keep):
        notes.append(f"{int(np.sum(~keep))} rows with weight 0 contribute nothing to the likelihood")
    X = {k: jnp.asarray(v[keep]) for k, v in d.X.items()}
    yy = d.y[keep]
    y_obs = jnp.asarray(np.log(yy) if space == "log" else yy)
    w = d.w[keep]
    w_scale = None if np.all(w == 1.0) else np.asarray(w)
    if w_scale is not None:
        notes.append("each row's log-likelihood is multiplied by its weight")

    p_fit = {k: jnp.asarray(v) for k, v in fit.internal.items()}
    f_fit = law.log_predict(p_fit, X) if space == "log" else law.predict(p_fit, X)
    resid = np.asarray(y_obs - f_fit, dtype=np.float64)
    rms = float(np.sqrt(np.sum(w * resid ** 2) / np.sum(w))) if np.sum(w) > 0 else float("nan")
    if not (np.isfinite(rms) and rms >= 1e-6):
        notes.append(f"the fit's residuals have RMS {rms:g}; the noise prior's scale and start use 1e-6 instead")
        rms = 1e-6

    # priors and starts
    site_prior: dict[str, Any] = {}
    desc: dict[str, str] = {}
    init: dict[str, float] = {}
    for n in free:
        value = float(fit.internal[n])
        if n in priors:
            site_prior[n], desc[n] = priors[n], f"{type(priors[n]).__name__} (given)"
        else:
            site_prior[n], desc[n] = default_prior(params[n], value)
        init[n] = _inside(params[n], value)
    if sig_name in priors:
        site_prior[sig_name], desc[sig_name] = priors[sig_name], f"{type(priors[sig_name]).__name__} (given)"
    else:
        site_prior[sig_name] = dist.HalfNormal(SIGMA_SCALE * rms)
        desc[sig_name] = f"HalfNormal({SIGMA_SCALE * rms:.4g})  ({SIGMA_SCALE:g} x the fit's RMS residual {rms:.4g})"
    init[sig_name] = rms
    if nu_name:
        if nu_name in priors:
            site_prior[nu_name], desc[nu_name] = priors[nu_name], f"{type(priors[nu_name]).__name__} (given)"
        else:
            site_prior[nu_name] = dist.Gamma(*NU_PRIOR)
            desc[nu_name] = f"Gamma({NU_PRIOR[0]:g}, {NU_PRIOR[1]:g})  (mean {NU_PRIOR[0] / NU_PRIOR[1]:g})"
        init[nu_name] = 10.0
    for n in fixed:
        desc[n] = f"fixed at {fixed[n]:.6g} (as in the fit)"
    for n in list(init):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lp = float(np.sum(np.asarray(site_prior[n].log_prob(jnp.asarray(init[n])))))
        if not np.isfinite(lp):
            notes.append(f"the fit's value of {n!r} ({init[n]:.6g}) is outside its prior's support; its chains start "
                         "from numpyro's init_to_uniform instead")
            del init[n]
    if likelihood == "student_t" and nu is not None:
        desc["nu"] = f"fixed at {float(nu):g}"

    def model(X, y_obs):
        p = {}
        for n in names:
            p[n] = jnp.asarray(fixed[n]) if n in fixed else numpyro.sample(n, site_prior[n])
        s = numpyro.sample(sig_name, site_prior[sig_name])
        mu = law.log_predict(p, X) if space == "log" else law.predict(p, X)
        if likelihood == "gaussian":
            lik = dist.Normal(mu, s)
        else:
            df = numpyro.sample(nu_name, site_prior[nu_name]) if nu_name else float(nu)
            lik = dist.StudentT(df, mu, s)
        if w_scale is None:
            numpyro.sample(obs_name, lik, obs=y_obs)
        else:
            with handlers.scale(scale=w_scale):
                numpyro.sample(obs_name, lik, obs=y_obs)

    strategy = init_to_value(values=init)
    imm = None
    if laplace_mass:
        sites = tuple(free) + (sig_name,) + ((nu_name,) if nu_name else ())
        imm, laplace_note = _laplace_mass(model, (X, y_obs), init, sites, bool(dense_mass))
        notes.append(laplace_note)
    kernel = NUTS(model, target_accept_prob=float(target_accept), init_strategy=strategy,
                  dense_mass=bool(dense_mass), max_tree_depth=max_tree_depth, inverse_mass_matrix=imm)
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=n_draws, num_chains=chains, chain_method="vectorized",
                progress_bar=bool(progress))
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), X, y_obs, extra_fields=("diverging", "accept_prob", "num_steps"))
    samples = {k: np.asarray(v, dtype=np.float64) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    seconds = time.perf_counter() - t0
    extra = mcmc.get_extra_fields()
    n_div = int(np.sum(np.asarray(extra["diverging"])))
    accept = float(np.mean(np.asarray(extra["accept_prob"])))
    steps = float(np.mean(np.asarray(extra["num_steps"])))

    total = chains * n_draws
    theta = np.empty((total, len(names)), dtype=np.float64)
    for j, n in enumerate(names):
        theta[:, j] = fixed[n] if n in fixed else samples[n].reshape(-1)
    sigma = samples[sig_name].reshape(-1)
    nu_draws = samples[nu_name].reshape(-1) if nu_name else None

    # diagnostics of the public parameters (constant ones, from fixed parameters, are left out) and the noise
    rows = [law.public(dict(zip(names, t))) for t in theta]
    diag = {}
    for k in fit.params:
        v = np.array([row[k] for row in rows], dtype=np.float64)
        if np.ptp(v) > 0:
            diag[k] = v.reshape(chains, n_draws)
    diag[sig_name] = samples[sig_name]
    if nu_name:
        diag[nu_name] = samples[nu_name]
    rhat, ess, ess_tail = _arviz.diagnostics(diag) if n_draws >= 4 else ({}, {}, {})

    warns: list[str] = []
    bad_r = sorted(k for k, v in rhat.items() if np.isfinite(v) and v > RHAT_MAX)
    if chains < 2:
        notes.append("one chain: no R-hat (it compares chains); run chains >= 2 to check convergence")
    if bad_r:
        warns.append(f"R-hat above {RHAT_MAX} for {', '.join(f'{k} ({rhat[k]:.3f})' for k in bad_r)}: the chains "
                     "disagree; run more warmup and draws, or check the fit.")
    bad_e = sorted(k for k, v in ess.items() if not v >= ESS_MIN)
    if bad_e:
        warns.append(f"bulk ESS below {ESS_MIN} for {', '.join(f'{k} ({ess[k]:.0f})' for k in bad_e)}: intervals "
                     "rest on few effective draws; run more draws.")
    if n_div:
        warns.append(f"{n_div} of {total} transitions diverged: the sampler may miss part of the posterior; raise "
                     "target_accept or reparametrise.")
    n_bad = int(np.sum(~(np.all(np.isfinite(theta), axis=1) & np.isfinite(sigma))))
    if n_bad:
        warns.append(f"{n_bad} draws are not finite; they are left out of every statistic.")
    notes.append(f"NUTS ({'dense' if dense_mass else 'diagonal'} mass, target_accept={target_accept:g}), {chains} "
                 f"chain(s) vectorised, started at the fit's optimum; {warmup} warmup and {n_draws} kept draws each")
    notes.append(f"likelihood: {likelihood} on {space} residuals" +
                 (f", nu fixed at {float(nu):g}" if likelihood == "student_t" and nu is not None else
                  ", nu sampled" if nu_name else ""))
    settings = {"target_accept": float(target_accept), "dense_mass": bool(dense_mass),
                "max_tree_depth": max_tree_depth, "laplace_mass": bool(laplace_mass),
                "nu": None if nu is None else float(nu), "priors_given": sorted(priors),
                "data_hash": r.data_hash(), "n_obs": int(np.sum(keep))}
    for msg in warns:
        warnings.warn(f"posterior: {msg}", UserWarning, stacklevel=2)
    return Posterior(fit=fit, draws=theta, sigma=sigma, nu=nu_draws, chains=chains, draws_per_chain=n_draws,
                     warmup=warmup, seed=seed, likelihood=likelihood, space=space, priors=desc, rhat=rhat, ess=ess,
                     ess_tail=ess_tail, divergences=n_div, accept_prob=accept, mean_steps=steps, seconds=seconds,
                     sigma_name=sig_name, nu_name=nu_name, notes=tuple(notes), warnings=tuple(warns), settings=settings,
                     mcmc=mcmc)


def _floats(v: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A saved nested list (null for a non-finite value) as a float64 array of ``shape``."""
    def conv(x: Any) -> Any:
        if isinstance(x, list):
            return [conv(y) for y in x]
        if x is None:
            return np.nan
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise LawError(f"the saved {what} hold {x!r}, not a number.", rule="invalid posterior entry", value=x)
        return float(x)

    if not isinstance(v, list):
        raise LawError(f"the saved {what} are {type(v).__name__}, not a list.", rule="invalid posterior entry")
    nested = conv(v)
    try:
        a = np.array(nested, dtype=np.float64)
    except ValueError:  # ragged lists
        a = None
    if a is None or a.shape != shape:
        got = "ragged lists" if a is None else f"shape {a.shape}"
        raise LawError(f"the saved {what} have {got}, expected {shape} (chains, draws per chain"
                       f"{', parameters' if len(shape) == 3 else ''}).", rule="invalid posterior entry")
    return a


def _stat(d: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): (float("nan") if v is None else float(v)) for k, v in (d or {}).items()}


def posterior_from_dict(fit: Fit, d: Mapping[str, Any]) -> Posterior:
    """Rebuild a :class:`Posterior` of ``fit`` from ``Posterior.to_dict(draws=True)`` (the
    ``"posterior"`` entry of a fit file). The draws come back exactly (float64 reprs); the sampler
    state (``mcmc``) is not saved, so ``to_inference_data`` needs a new run. Raises LawError
    (rule ``"no draws"``, ``"mismatched draws"`` or ``"invalid posterior entry"``)."""
    if not isinstance(d, Mapping) or "draws" not in d:
        raise LawError("this posterior summary holds no draws; save it with Posterior.save(path) or "
                       "to_dict(draws=True) ('scalinglaws fit RUNS --posterior DRAWS -o FIT_JSON' does).",
                       rule="no draws")
    if d.get("format", POSTERIOR_FORMAT) != POSTERIOR_FORMAT:
        raise LawError(f"the saved posterior has format {d.get('format')!r}; this version reads format "
                       f"{POSTERIOR_FORMAT}.", rule="invalid posterior entry", value=d.get("format"))
    law = fit.law
    if d.get("law", law.name) != law.name or list(d.get("param_names", law.param_names)) != list(law.param_names):
        raise LawError(f"the saved draws are of law {d.get('law')!r} with parameters {d.get('param_names')}, the "
                       f"fit's law {law.name!r} has {list(law.param_names)}.", rule="mismatched draws")
    chains, per = d.get("chains"), d.get("draws_per_chain")
    for name, v in (("chains", chains), ("draws_per_chain", per)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise LawError(f"the saved posterior's {name!r} is {v!r}, not a whole number >= 1.",
                           rule="invalid posterior entry", value=v)
    likelihood = d.get("likelihood")
    if likelihood not in LIKELIHOODS:
        raise LawError(f"the saved posterior's likelihood is {likelihood!r}, not one of "
                       f"{', '.join(map(repr, LIKELIHOODS))}.", rule="invalid posterior entry", value=likelihood)
    p = len(law.param_names)
    theta = _floats(d["draws"], (chains, per, p), "draws").reshape(chains * per, p)
    sigma = _floats(d.get("sigma"), (chains, per), "sigma draws").reshape(-1)
    nu_name = d.get("nu_name")
    if (d.get("nu") is None) != (nu_name is None):
        raise LawError("the saved posterior has " + ("nu draws but no nu_name" if nu_name is None else
                       f"nu_name {nu_name!r} but no nu draws") + ".", rule="invalid posterior entry")
    nu = None if nu_name is None else _floats(d["nu"], (chains, per), "nu draws").reshape(-1)
    # the public draws are saved for readers without the package; they must be the law's of the internal ones
    saved_pub = d.get("public_draws")
    if isinstance(saved_pub, Mapping):
        rows = [law.public(dict(zip(law.param_names, t))) for t in theta]
        for k in fit.params:
            if k not in saved_pub:
                continue
            got = _floats(saved_pub[k], (chains, per), f"public draws of {k!r}").reshape(-1)
            want = np.array([r[k] for r in rows], dtype=np.float64)
            want[~np.isfinite(want)] = np.nan  # every non-finite value was saved as null
            if not np.allclose(got, want, rtol=1e-9, atol=0.0, equal_nan=True):
                i = int(np.argmax(~np.isclose(got, want, rtol=1e-9, atol=0.0, equal_nan=True)))
                raise LawError(f"the saved public draws of {k!r} do not follow from the internal ones (draw {i}: "
                               f"saved {got[i]!r}, the law gives {want[i]!r}).", rule="mismatched draws",
                               value=float(got[i]))
    return Posterior(
        fit=fit, draws=theta, sigma=sigma, nu=nu, chains=chains, draws_per_chain=per,
        warmup=int(d.get("warmup", 0)), seed=int(d.get("seed", 0)), likelihood=likelihood,
        space=str(d.get("space", "log" if getattr(law, "positive", True) else "linear")),
        priors={str(k): str(v) for k, v in (d.get("priors") or {}).items()},
        rhat=_stat(d.get("rhat")), ess=_stat(d.get("ess_bulk")), ess_tail=_stat(d.get("ess_tail")),
        divergences=int(d.get("divergences", 0)), accept_prob=float(d.get("accept_prob", float("nan"))),
        mean_steps=float(d.get("mean_steps", float("nan"))), seconds=float(d.get("seconds", float("nan"))),
        sigma_name=str(d.get("sigma_name", "sigma")), nu_name=nu_name,
        notes=tuple(d.get("notes", ())), warnings=tuple(d.get("warnings", ())),
        settings=dict(d.get("settings") or {}), mcmc=None)


@x64
def load_posterior(path: Any, fit: Fit | None = None) -> Posterior:
    """The :class:`Posterior` saved in a fit file by :meth:`Posterior.save` or ``scalinglaws fit
    RUNS --posterior DRAWS -o FILE`` (its ``"posterior"`` entry). ``fit``: the file's fit when
    already read (default: :func:`~scalinglaws.load_fit` of it). Raises LawError naming the file
    when it holds no posterior (rule ``"no posterior"``) or the entry is not readable.
    """
    from .result import load_fit

    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        load_fit(path)  # its LawError names the file (missing, or not JSON)
        raise  # pragma: no cover - load_fit raised
    if isinstance(d, dict) and isinstance(d.get("groups"), dict) and "by" in d:
        raise LawError(f"{path}: holds one fit per group (fit by {d['by']!r}), and fits per group carry no "
                       "posterior; sample one group's fit (sl.posterior(fit, runs)) and save it.",
                       source=str(path), rule="group fits file")
    if fit is None:
        fit = load_fit(path)  # LawError naming the file when it is not a fit
    saved = d.get("posterior")
    if not isinstance(saved, dict):
        raise LawError(f"{path}: holds no posterior draws; make them with sl.posterior(fit, runs).save(path) or "
                       "'scalinglaws fit RUNS_FILE --posterior DRAWS -o FIT_JSON'.", source=str(path),
                       rule="no posterior")
    try:
        return posterior_from_dict(fit, saved)
    except LawError as exc:
        raise LawError(f"{path}: {exc.message}", source=str(path), rule=exc.rule, value=exc.value) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise LawError(f"{path}: its 'posterior' entry is not readable ({exc}).", source=str(path),
                       rule="invalid posterior entry") from None
