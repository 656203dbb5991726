"""Seeded synthetic run logs drawn from a known law (for the demo, tests and benchmarks).

Two published Chinchilla parameter sets are provided as plain dicts of public parameters:

- :data:`EPOCH`: Besiroglu et al. 2024, "Chinchilla Scaling: A replication attempt"
  (arXiv:2404.10102), their final Approach-3 estimate.
- :data:`HOFFMANN`: Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models"
  (arXiv:2203.15556), Approach 3, unrounded as recovered by Besiroglu et al. from the
  published rounded values (log A = 6.0073404, log B = 6.0179186, log E = 0.5267228).

>>> from scalinglaws import synthetic
>>> table = synthetic.chinchilla_sweep(seed=0)
>>> sorted(table), len(table["loss"])
(['flops', 'loss', 'params', 'tokens'], 81)

Everything here is pure numpy (plus the law's JAX ``predict``); randomness comes only from
``numpy.random.default_rng(seed)``, so a seed gives the same table on every platform.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from ._jax import jnp, x64
from .errors import LawError

__all__ = ["EPOCH", "HOFFMANN", "DEFAULT_BUDGETS", "DEMO", "sample_law", "chinchilla_sweep", "demo_sweep", "coverage_study",
           "majority_vote_curves", "checkpoint_sweep"]

EPOCH: dict[str, float] = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
"""Besiroglu et al. 2024 (Epoch AI), Chinchilla Approach 3 replication: public parameters."""

HOFFMANN: dict[str, float] = {
    "E": math.exp(0.5267228), "A": math.exp(6.0073404), "B": math.exp(6.0179186),
    "alpha": 0.33917084, "beta": 0.2849083,
}
"""Hoffmann et al. 2022, Approach 3 (E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28),
unrounded as given by Besiroglu et al. 2024."""

DEFAULT_BUDGETS: tuple[float, ...] = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)
"""The training budgets (FLOPs) of Hoffmann et al.'s isoFLOP profiles (their Figure 3)."""

DEMO: dict[str, Any] = {"params": EPOCH, "budgets": DEFAULT_BUDGETS, "n_per_budget": 9,
                        "noise": 0.01, "seed": 0}
"""The arguments of :func:`chinchilla_sweep` that made ``data/synthetic_chinchilla.csv``."""


def _chinchilla():
    from .laws import Chinchilla  # local: keep `import scalinglaws.synthetic` light and acyclic

    return Chinchilla()


def _predict(law: Any, params: Mapping[str, float], X: Mapping[str, Any]) -> np.ndarray:
    p = {k: jnp.asarray(v) for k, v in law.from_public(dict(params)).items()}
    return np.asarray(law.predict(p, {k: jnp.asarray(np.asarray(v, dtype=np.float64)) for k, v in X.items()}),
                      dtype=np.float64)


@x64
def sample_law(law: Any, params: Mapping[str, float], X: Mapping[str, Any], *, noise: float = 0.0,
               seed: int | None = 0, space: str = "log") -> np.ndarray:
    """Noisy observations of ``law`` with public parameters ``params`` at inputs ``X``.

    Args:
        law: a :class:`~scalinglaws.laws.Law`, e.g. ``sl.laws.Chinchilla()``.
        params: public parameters, e.g. :data:`EPOCH` (internal names work too where the law
            accepts them in ``from_public``).
        X: input name -> 1-D array (every name in ``law.inputs``).
        noise: standard deviation of the noise; with ``space="log"`` it is the sigma of a
            multiplicative lognormal factor (``y = f(X) * exp(noise * z)``), with
            ``space="linear"`` additive (``y = f(X) + noise * z``); ``z ~ N(0, 1)``.
        seed: seed of ``numpy.random.default_rng``.
        space: ``"log"`` or ``"linear"``.

    Returns:
        float64 numpy array of observations, one per row of ``X``.
    """
    if space not in ("log", "linear"):
        raise ValueError(f"`sample_law(space=...)` must be 'log' or 'linear', got {space!r}.")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"`sample_law(noise=...)` must be a finite number >= 0, got {noise!r}.")
    missing = [k for k in law.inputs if k not in X]
    if missing:
        raise LawError(f"`sample_law`: law {law.name!r} needs input(s) {missing}; got {sorted(X)}.",
                       column=missing[0], rule="missing column")
    mean = _predict(law, params, {k: X[k] for k in law.inputs})
    z = np.random.default_rng(seed).standard_normal(mean.shape)
    return mean * np.exp(noise * z) if space == "log" else mean + noise * z


@x64
def chinchilla_sweep(params: Mapping[str, float] = EPOCH, *, budgets: Sequence[float] = DEFAULT_BUDGETS,
                     n_per_budget: int = 9, noise: float = 0.01, seed: int | None = 0,
                     span: float = 8.0) -> dict[str, np.ndarray]:
    """An isoFLOP sweep drawn from the Chinchilla law with public parameters ``params``.

    At each budget C, ``n_per_budget`` model sizes N are log-spaced from N*/span to N* * span
    around the law's compute-optimal N* (closed form), D = C / (6 N), and
    ``loss = L(N, D) * exp(noise * z)`` with ``z ~ N(0, 1)`` drawn from
    ``numpy.random.default_rng(seed)``.

    Returns:
        dict of float64 arrays ``{"params", "tokens", "flops", "loss"}``, rows ordered by
        budget then N; ``flops`` is exactly the budget (C = 6ND).
    """
    C = np.asarray(budgets, dtype=np.float64).ravel()
    if C.size == 0 or not np.all(np.isfinite(C) & (C > 0)):
        raise ValueError(f"`chinchilla_sweep(budgets=...)` must be finite positive FLOPs, got {list(C)}.")
    if int(n_per_budget) != n_per_budget or n_per_budget < 1:
        raise ValueError(f"`chinchilla_sweep(n_per_budget=...)` must be a positive integer, got {n_per_budget!r}.")
    if not span >= 1:
        raise ValueError(f"`chinchilla_sweep(span=...)` must be >= 1, got {span!r}.")
    law = _chinchilla()
    n_opt, _ = law.closed_form_optimum(law.from_public(dict(params)), C)
    factors = span ** np.linspace(-1.0, 1.0, int(n_per_budget)) if n_per_budget > 1 else np.ones(1)
    N = (np.asarray(n_opt)[:, None] * factors[None, :]).ravel()
    flops = np.repeat(C, len(factors))
    D = flops / (6.0 * N)
    loss = sample_law(law, params, {"params": N, "tokens": D}, noise=noise, seed=seed, space="log")
    return {"params": N, "tokens": D, "flops": flops, "loss": loss}


@x64
def demo_sweep() -> dict[str, np.ndarray]:
    """The table in ``data/synthetic_chinchilla.csv``: ``chinchilla_sweep(**DEMO)``."""
    return chinchilla_sweep(**DEMO)


def majority_vote_curves(losses: Sequence[float], samples: Sequence[float] = (1, 3, 5, 9, 17, 33, 65, 129, 257),
                         *, questions: int = 2000, options: int = 4, midpoint: float = 2.5, slope: float = 3.0,
                         spread: float = 1.5, dirichlet: float = 1.0, repeats: int = 4,
                         seed: int | None = 0) -> dict[str, np.ndarray]:
    """Majority@k curves of models at task losses ``losses``, simulated vote by vote.

    Question i has a difficulty d_i ~ N(0, spread^2) and wrong-answer shares u_i ~
    Dirichlet(dirichlet, ..., dirichlet) over ``options`` wrong answers (both fixed across
    models). A model at loss L answers it correctly with probability
    ``p_i = 1 / (1 + exp(slope (L - midpoint) + d_i))`` and gives wrong answer j with
    probability ``(1 - p_i) u_ij``. For each model and question, ``repeats`` sequences of
    max(samples) answers are drawn (``numpy.random.default_rng(seed)``); majority@k is the
    plurality answer of the first k, ties broken uniformly (the expectation over the tie-break
    is taken exactly), averaged over questions and repeats.

    Returns a dict of float64 arrays with one row per model x k: ``model`` (its index, which
    tells the rows of models apart for :func:`scalinglaws.fit`), ``loss``, ``samples``,
    ``accuracy`` (the simulated majority@k), ``pass1`` (the model's exact mean p_i) and
    ``plateau`` (the exact limit as k -> infinity: the share of questions whose correct answer
    is the most likely one).
    """
    L = np.asarray(losses, dtype=np.float64).ravel()
    ks = np.asarray(samples, dtype=np.float64).ravel()
    if L.size == 0 or not np.all(np.isfinite(L)):
        raise ValueError(f"`majority_vote_curves(losses=...)` must be finite losses, got {list(L)}.")
    if ks.size == 0 or np.any(ks < 1) or np.any(ks != np.round(ks)):
        raise ValueError(f"`majority_vote_curves(samples=...)` must be positive integers, got {list(ks)}.")
    for name, v in (("questions", questions), ("options", options), ("repeats", repeats)):
        if int(v) != v or v < 1:
            raise ValueError(f"`majority_vote_curves({name}=...)` must be a positive integer, got {v!r}.")
    rng = np.random.default_rng(seed)
    d = rng.normal(0.0, spread, size=questions)
    u = rng.dirichlet(np.full(options, float(dirichlet)), size=questions)
    kmax, kidx = int(ks.max()), ks.astype(int) - 1
    rows: dict[str, list] = {"model": [], "loss": [], "samples": [], "accuracy": [], "pass1": [], "plateau": []}
    for mi, Lm in enumerate(L):
        p = 1.0 / (1.0 + np.exp(slope * (Lm - midpoint) + d))
        probs = np.concatenate([p[:, None], (1.0 - p)[:, None] * u], axis=1)  # answer 0 is the correct one
        cum = np.cumsum(probs, axis=1)
        cum[:, -1] = 1.0
        draws = rng.random((questions, repeats, kmax))
        ans = (draws[..., None] >= cum[:, None, None, :-1]).sum(axis=-1)  # (Q, R, kmax) in 0..options
        onehot = ans[..., None] == np.arange(options + 1)
        counts = np.cumsum(onehot, axis=2, dtype=np.int32)[:, :, kidx, :]  # (Q, R, K, options + 1)
        top = counts.max(axis=-1)
        tied = (counts == top[..., None]).sum(axis=-1)
        win = np.where(counts[..., 0] == top, 1.0 / tied, 0.0).mean(axis=(0, 1))
        plateau = float(np.mean(p > (1.0 - p) * u.max(axis=1)))
        for kk, acc in zip(ks, win):
            rows["model"].append(float(mi))
            rows["loss"].append(Lm)
            rows["samples"].append(kk)
            rows["accuracy"].append(acc)
            rows["pass1"].append(float(p.mean()))
            rows["plateau"].append(plateau)
    return {k: np.asarray(v, dtype=np.float64) for k, v in rows.items()}


@x64
def checkpoint_sweep(params: Mapping[str, float] = EPOCH, *, budgets: Sequence[float] = DEFAULT_BUDGETS[:5],
                     n_per_budget: int = 5, n_checkpoints: int = 8, first_fraction: float = 0.1, seeds: int = 1,
                     noise: float = 0.005, run_noise: float = 0.0, seed: int | None = 0,
                     span: float = 4.0) -> dict[str, np.ndarray]:
    """Run logs with several checkpoints per run, drawn from the Chinchilla law.

    The runs are the isoFLOP sweep of :func:`chinchilla_sweep` (``budgets`` x ``n_per_budget`` model
    sizes around the compute-optimal N*, spread by ``span``), each trained ``seeds`` times. Each
    run of N parameters and final tokens D logs ``n_checkpoints`` checkpoints at tokens
    ``D * f`` with ``f`` log-spaced from ``first_fraction`` to 1 (the last checkpoint is the final
    run), and

        loss = L(N, D * f) * exp(run_noise * u + noise * z),

    ``u ~ N(0, 1)`` drawn once per run (a seed's offset, shared by all its checkpoints) and ``z ~
    N(0, 1)`` per checkpoint, from ``numpy.random.default_rng(seed)``. Repeated seeds of one
    configuration therefore differ at every checkpoint by sd ``sqrt(run_noise**2 + noise**2)`` in
    log loss.

    This is an idealisation: a real checkpoint is *not* a separately trained run of that many
    tokens, because its learning-rate schedule has not decayed yet (a cosine schedule set for D
    tokens), so an early checkpoint's loss lies above L(N, D * f). Hoffmann et al. 2022 fitted
    final losses (and cosine-cycle-matched runs) for that reason; checkpoint fits should drop the
    earliest checkpoints (``checkpoint_weights(min_fraction=...)``) and be backtested against
    final-only fits (``compare_checkpoint_fits``).

    Returns:
        dict of arrays ``{"params", "tokens", "flops", "loss", "run", "seed"}`` (float64, but
        ``run``: str ids ``"r000"``, ...; ``seed``: 0, 1, ... as floats), rows ordered by run then
        tokens; ``flops`` = 6 N (D * f).
    """
    if int(n_checkpoints) != n_checkpoints or n_checkpoints < 1:
        raise ValueError(f"`checkpoint_sweep(n_checkpoints=...)` must be a positive integer, got {n_checkpoints!r}.")
    if int(seeds) != seeds or seeds < 1:
        raise ValueError(f"`checkpoint_sweep(seeds=...)` must be a positive integer, got {seeds!r}.")
    if not 0 < first_fraction <= 1:
        raise ValueError(f"`checkpoint_sweep(first_fraction=...)` must be in (0, 1], got {first_fraction!r}.")
    for name, v in (("noise", noise), ("run_noise", run_noise)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"`checkpoint_sweep({name}=...)` must be a finite number >= 0, got {v!r}.")
    final = chinchilla_sweep(params, budgets=budgets, n_per_budget=n_per_budget, noise=0.0, span=span)
    k, s = int(n_checkpoints), int(seeds)
    frac = np.geomspace(first_fraction, 1.0, k) if k > 1 else np.ones(1)
    frac[-1] = 1.0
    n_cfg = len(final["params"])
    N = np.repeat(np.tile(final["params"], s), k)
    D = np.repeat(np.tile(final["tokens"], s), k) * np.tile(frac, n_cfg * s)
    n_runs = n_cfg * s
    run = np.repeat(np.array([f"r{i:03d}" for i in range(n_runs)], dtype=object), k)
    seed_col = np.repeat(np.repeat(np.arange(s, dtype=np.float64), n_cfg), k)
    rng = np.random.default_rng(seed)
    u = np.repeat(rng.standard_normal(n_runs), k)
    z = rng.standard_normal(n_runs * k)
    law = _chinchilla()
    loss = _predict(law, params, {"params": N, "tokens": D}) * np.exp(run_noise * u + noise * z)
    return {"params": N, "tokens": D, "flops": 6.0 * N * D, "loss": loss, "run": run, "seed": seed_col}


def coverage_study(params: Mapping[str, float] = EPOCH, *, n_datasets: int = 200, budgets: Sequence[float] = (
        1e18, 3e18, 1e19, 3e19, 1e20), n_per_budget: int = 7, noise: float = 0.02, n_boot: int = 200,
        level: float = 0.90, flops: float = 1e21, objective: Any = None, seed: int = 0,
        progress: bool | None = None) -> dict[str, Any]:
    """How often bootstrap intervals cover the truth: ``n_datasets`` seeded Chinchilla sweeps
    (:func:`chinchilla_sweep` with seeds ``seed``, ``seed + 1``, ...) drawn from ``params``,
    each fitted (all in one batched solve, ``sl.fit(..., by="group")``) and bootstrapped
    (``n_boot`` resamples of the rows, refitted from the fit); the ``level`` percentile
    intervals of every public parameter and of the compute-optimal N* and D* at ``flops`` are
    checked against the true values.

    Returns a dict: ``coverage`` (name -> fraction of datasets whose interval held the truth),
    ``se`` (its binomial standard error), ``median_width`` (name -> median interval width over
    the truth), ``n_datasets``, ``level`` and ``truth``.
    """
    import warnings

    from .fitting.api import fit as _fit
    from .fitting.bootstrap import bootstrap as _bootstrap
    from .optimize.compute_optimal import compute_optimal as _compute_optimal
    from .runs import read_runs as _read_runs

    if int(n_datasets) != n_datasets or n_datasets < 2:
        raise ValueError(f"`coverage_study(n_datasets=...)` must be a whole number >= 2, got {n_datasets!r}.")
    law = _chinchilla()
    p = law.from_public(dict(params))
    n_true, d_true = (float(np.asarray(v).reshape(-1)[0]) for v in law.closed_form_optimum(p, np.array([float(flops)])))
    truth = {**{k: float(v) for k, v in law.public(p).items()}, "N*": n_true, "D*": d_true}
    parts = [chinchilla_sweep(params, budgets=budgets, n_per_budget=n_per_budget, noise=noise, seed=seed + i)
             for i in range(int(n_datasets))]
    table = {k: np.concatenate([q[k] for q in parts]) for k in ("params", "tokens", "loss")}
    table["group"] = np.repeat(np.arange(int(n_datasets)), len(parts[0]["loss"]))
    runs = _read_runs(table)
    kw = {} if objective is None else {"objective": objective}
    fits = _fit(law, runs, by="group", **kw)
    groups = np.asarray(runs["group"])
    hits = {k: [] for k in truth}
    widths = {k: [] for k in truth}
    it = range(int(n_datasets))
    if progress is not False:
        try:
            from tqdm.auto import tqdm

            it = tqdm(it, desc="coverage study", unit="dataset", disable=None if progress is None else not progress)
        except ImportError:  # pragma: no cover
            pass
    for i in it:
        key = str(i)
        r = runs.select(groups == key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bs = _bootstrap(fits[key], r, n=int(n_boot), seed=seed + i, starts=1, progress=False)
            iv = dict(bs.interval(level))
            best = _compute_optimal(bs, flops=float(flops)).interval(level)
        iv["N*"], iv["D*"] = best["params"], best["tokens"]
        for k, t in truth.items():
            lo, hi = iv[k]
            hits[k].append(lo <= t <= hi)
            widths[k].append((hi - lo) / abs(t))
    cov = {k: float(np.mean(v)) for k, v in hits.items()}
    return {"coverage": cov, "se": {k: math.sqrt(c * (1 - c) / n_datasets) for k, c in cov.items()},
            "median_width": {k: float(np.median(v)) for k, v in widths.items()}, "n_datasets": int(n_datasets),
            "level": float(level), "truth": truth}
