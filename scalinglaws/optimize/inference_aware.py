"""Inference-aware allocation (Sardana et al. 2024, "Beyond Chinchilla-Optimal").

``inference_aware_optimum``: the cheapest model that reaches a target loss when
its lifetime inference demand ``D_inf`` (tokens generated) is counted,

    min_{N, D}  6 N D + 2 N D_inf      subject to  L(N, D) = target.

``lowest_loss``: the dual, the lowest loss for a total budget,

    min_{N, D}  L(N, D)                subject to  6 N D + 2 N D_inf = C_total.

Chinchilla (L = E + A N^-alpha + B D^-beta) is solved exactly, in float64 and
vectorised (jitted JAX kernels, inputs padded to a few bucket sizes). On the constraint, D(N) = (B / (target - E - A N^-alpha))^(1/beta);
write s = A N^-alpha / (target - E), the share of the reducible loss due to N.
The cost's derivative in log N vanishes where

    3 D(s) (r s/(1 - s) - 1) = D_inf,   r = alpha / beta,

whose left side rises monotonically in s on (1/(1+r), 1): one root, found by
bisection in log(r s/(1-s) - 1) to machine precision. At D_inf = 0 the root is
s = beta/(alpha+beta), the Chinchilla compute-optimal point for that loss. The
dual is parametrised by the training share x of the budget; dL/dlogit(x) is
monotone and bisected the same way.

Other laws in (params, tokens) go through a numeric path in JAX: D(N) from the
constraint by bisection in log D, the cost's derivative by implicit
differentiation, a coarse scan in log N, then bisection on the derivative's
sign (vmapped over the inputs). Every bisection here is the package's one kernel,
:func:`scalinglaws._numerics.bisect` / :func:`~scalinglaws._numerics.scan_bisect`.

``inference_cost`` (default 1) weighs an inference FLOP against a training
FLOP, for Sardana's real-cost variant (different hardware or utilisation);
the FLOP fields of the result are always unweighted.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .._jax import jax, jnp, x64
from .._numerics import bisect, scan_bisect
from .._report import Reported, format_rows
from ..errors import LawError
from ..laws.base import Law
from ..laws.loss import Chinchilla
from ._resolve import resolve_law
from ._uncertain import Uncertain, is_sample, propagate
from .compute_optimal import range_warnings

__all__ = ["InferenceAllocation", "inference_aware_optimum", "lowest_loss"]

_LN3 = math.log(3.0)
_LN2 = math.log(2.0)


@dataclass(frozen=True)
class InferenceAllocation(Uncertain, Reported):
    """An allocation that counts inference. Floats for scalar inputs, arrays otherwise.

    ``params`` is N*, ``tokens`` the training tokens D_train*, ``loss`` the
    loss reached; FLOP fields are ``train_flops = 6 N D``, ``inference_flops =
    2 N D_inf`` and their sum ``total_flops``. For ``inference_aware_optimum``
    the ``chinchilla_*`` fields give the compute-optimal model for the same
    loss (D_inf ignored when sizing it, counted in its total) and ``savings``
    the fraction of that total saved by the inference-aware choice.
    """

    params: Any
    tokens: Any
    tokens_per_param: Any
    loss: Any
    inference_tokens: Any
    train_flops: Any
    inference_flops: Any
    total_flops: Any
    method: str
    chinchilla_params: Any = None
    chinchilla_tokens: Any = None
    chinchilla_total_flops: Any = None
    savings: Any = None
    warnings: tuple[str, ...] = field(default=())
    draws: Mapping[str, np.ndarray] | None = field(default=None, repr=False)

    def rows(self) -> list[dict[str, float]]:
        names = ("params", "tokens", "tokens_per_param", "loss", "inference_tokens",
                 "train_flops", "inference_flops", "total_flops")
        cols = [c.ravel() for c in np.broadcast_arrays(*(np.atleast_1d(getattr(self, n)) for n in names))]
        return [{n: float(c[i]) for n, c in zip(names, cols)} for i in range(cols[0].size)]

    def _headline(self) -> str:
        what = ("cheapest model reaching the target loss" if self.chinchilla_params is not None
                else "lowest loss for the total budget")
        return f"[[InferenceAllocation]] {what}, inference counted ({self.method})"

    def _body(self) -> str:
        return format_rows(self.rows(), {"inference_tokens": "D_inf", "params": "N*", "tokens": "D_train*",
                                         "tokens_per_param": "D/N", "loss": "loss", "total_flops": "total FLOPs"})


# ---------------------------------------------------------------------------------------
# input handling (shared with best_config.py)

def _check_law(law: Law, fn: str) -> None:
    if tuple(law.inputs) != ("params", "tokens"):
        raise LawError(f"`{fn}`: law {law.name!r} reads {list(law.inputs)}; only laws in (params, tokens) "
                       "are supported here.", rule="bad law")


@x64
def as_array(name: str, value: Any, fn: str, *, lower: float = 0.0, strict: bool = True) -> np.ndarray:
    """``value`` as float64, finite and > lower (>= lower when not strict)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LawError(f"`{fn}({name}=...)` must be a number or an array of numbers, got {value!r}.",
                       rule="not a number", value=value) from None
    bad = ~np.isfinite(arr) | ((arr <= lower) if strict else (arr < lower))
    if np.any(bad):
        found = float(arr[bad].flat[0])
        rel = ">" if strict else ">="
        raise LawError(f"`{fn}({name}=...)` must be finite and {rel} {lower:g}, got {found}.",
                       rule="out of range", value=found)
    return arr


_range_warnings = range_warnings  # shared with compute_optimal


def _softplus(x):
    return jnp.logaddexp(0.0, x)


def _bucketed(kernel, consts: tuple, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """``kernel(*consts, *arrays)`` on same-shape arrays, flattened and padded up to a power of
    four (at least 64) with copies of the first element, so that nearby sizes share one compile."""
    shape = arrays[0].shape
    flat = [np.ravel(a).astype(np.float64) for a in arrays]
    n = flat[0].size
    size = 64
    while size < n:
        size *= 4
    padded = [jnp.asarray(np.concatenate([f, np.full(size - n, f[0] if n else 1.0)])) for f in flat]
    out = kernel(*(jnp.asarray(float(c)) for c in consts), *padded)
    return tuple(np.asarray(o)[:n].reshape(shape) for o in out)


# ---------------------------------------------------------------------------------------
# Chinchilla, exact

@jax.jit
def _chinchilla_optimum_kernel(a, b, e, al, be, target, dinf):
    lg = jnp.log(target - jnp.exp(e))
    lr = jnp.log(al / be)

    def logs(z):  # z = log(s/(1-s)) + log r > 0
        q = z - lr
        return (a - lg + _softplus(-q)) / al, (b - lg + _softplus(q)) / be

    ldinf = jnp.log(dinf)

    def F(t):  # increasing in t = log z; zero at the optimum
        z = jnp.exp(t)
        _, lD = logs(z)
        return _LN3 + lD + z + jnp.log(-jnp.expm1(-z)) - ldinf

    # for z >= log 2: log(e^z - 1) >= z - log 2 and softplus(q) >= q give a linear lower
    # bound on F, whose root bounds the optimum from above
    z_lin = (ldinf + _LN2 - _LN3 - (b - lg - lr) / be) / (1.0 + 1.0 / be)
    t_hi = jnp.log(jnp.maximum(z_lin, _LN2) + 1.0)
    t_lo = jnp.full_like(t_hi, -700.0)
    pos = dinf > 0
    t = bisect(F, t_lo, jnp.where(pos, t_hi, t_lo), 200)
    z = jnp.where(pos, jnp.exp(t), 0.0)
    return logs(z)


def _chinchilla_optimum(p: Mapping[str, float], target: np.ndarray, dinf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log N*, log D* for each (target, D_inf) (already checked: target > E)."""
    target, dinf = np.broadcast_arrays(np.asarray(target, dtype=np.float64), np.asarray(dinf, dtype=np.float64))
    consts = (p["a"], p["b"], p["e"], p["alpha"], p["beta"])
    return _bucketed(_chinchilla_optimum_kernel, consts, target, dinf)


@jax.jit
def _chinchilla_lowest_kernel(a, b, al, be, C, dinf):
    lC, lDw = jnp.log(C), jnp.log(dinf)

    def logs(q):  # q = logit(x), x = 6ND / C the training share
        return lC - _softplus(q) - _LN2 - lDw, lDw - _LN3 + q

    def G(q):  # d L / d q has the sign of this; increasing in q
        lN, lD = logs(q)
        return (jnp.log(al) + a - al * lN - _softplus(-q)) - (jnp.log(be) + b - be * lD)

    def widen(_, half):  # until the root is bracketed
        bad = (G(-half) > 0) | (G(half) < 0)
        return jnp.where(bad, 2.0 * half, half)

    half = jax.lax.fori_loop(0, 12, widen, jnp.full_like(lC, 64.0))
    return logs(bisect(G, -half, half, 200))


def _chinchilla_lowest(p: Mapping[str, float], C: np.ndarray, dinf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log N, log D minimising the loss on 6ND + 2N D_inf = C (D_inf > 0)."""
    consts = (p["a"], p["b"], p["alpha"], p["beta"])
    return _bucketed(_chinchilla_lowest_kernel, consts, np.asarray(C, dtype=np.float64),
                     np.asarray(dinf, dtype=np.float64))


def _chinchilla_loss(p: Mapping[str, float], lN: np.ndarray, lD: np.ndarray) -> np.ndarray:
    lN, lD = np.asarray(lN), np.asarray(lD)
    return np.exp(np.logaddexp(np.logaddexp(p["a"] - p["alpha"] * lN, p["b"] - p["beta"] * lD), p["e"]))


# ---------------------------------------------------------------------------------------
# any law in (params, tokens): numeric, JAX

_U_MAX = math.log(1e30)   # search N in [1, 1e30]
_V_MAX = math.log(1e40)   # and D in [1, 1e40]


@functools.lru_cache(maxsize=32)
def _numeric_optimum_solver(law: Law):
    """A jitted solver ``(params, log target, D_inf) -> (log N, log D, at_edge)``,
    vmapped over the last two; one compilation per law (and input shape)."""

    def logL(pj, u, v):
        return law.log_predict(pj, {"params": jnp.exp(u), "tokens": jnp.exp(v)})

    gu, gv = jax.grad(logL, 1), jax.grad(logL, 2)

    def tokens_for(pj, u, lt):  # log D with log L(u, log D) = lt; feasible flag
        feasible = logL(pj, u, _V_MAX) < lt
        v = bisect(lambda m: lt - logL(pj, u, m), jnp.zeros_like(u), jnp.full_like(u, _V_MAX), 120)
        return v, feasible

    def log_cost(pj, u, lt, di):
        v, ok = tokens_for(pj, u, lt)
        return jnp.where(ok, u + jnp.log(6.0 * jnp.exp(v) + 2.0 * di), jnp.inf)

    def slope(pj, u, lt, di):  # sign of d cost / d log N; -1 where the target is out of reach
        v, ok = tokens_for(pj, u, lt)
        dv = -gu(pj, u, v) / gv(pj, u, v)
        return jnp.where(ok, 6.0 * (1.0 + dv) + 2.0 * di / jnp.exp(v), -1.0)

    def solve(pj, lt, di):
        grid = jnp.linspace(0.0, _U_MAX, 129)
        u, k, vals = scan_bisect(lambda u: log_cost(pj, u, lt, di), lambda u: slope(pj, u, lt, di), grid, 100)
        v, ok = tokens_for(pj, u, lt)
        edge = (k == 0) | (k == grid.shape[0] - 1) | ~jnp.isfinite(vals[k])
        return u, v, edge | ~ok

    return jax.jit(jax.vmap(solve, in_axes=(None, 0, 0)))


def _numeric_optimum(law: Law, p: Mapping[str, float], target: np.ndarray, dinf: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, bool]:
    pj = {k: jnp.asarray(v) for k, v in p.items()}
    u, v, edge = _numeric_optimum_solver(law)(pj, jnp.asarray(np.log(target).ravel()), jnp.asarray(dinf.ravel()))
    shape = target.shape
    return np.asarray(u).reshape(shape), np.asarray(v).reshape(shape), bool(np.any(np.asarray(edge)))


@functools.lru_cache(maxsize=32)
def _numeric_lowest_solver(law: Law):
    """A jitted solver ``(params, log C, log D_inf) -> (log N, log D, at_edge)``."""

    def logs(q, lC, lDw):
        return lC - jax.nn.softplus(q) - _LN2 - lDw, lDw - _LN3 + q

    def logL(q, pj, lC, lDw):
        lN, lD = logs(q, lC, lDw)
        return law.log_predict(pj, {"params": jnp.exp(lN), "tokens": jnp.exp(lD)})

    dq = jax.grad(logL, 0)

    def solve(pj, lC, lDw):
        grid = jnp.linspace(-60.0, 60.0, 241)
        q, k, _ = scan_bisect(lambda q: logL(q, pj, lC, lDw), lambda q: dq(q, pj, lC, lDw), grid, 100)
        lN, lD = logs(q, lC, lDw)
        return lN, lD, (k == 0) | (k == grid.shape[0] - 1)

    return jax.jit(jax.vmap(solve, in_axes=(None, 0, 0)))


def _numeric_lowest(law: Law, p: Mapping[str, float], C: np.ndarray, dinf: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, bool]:
    pj = {k: jnp.asarray(v) for k, v in p.items()}
    lN, lD, edge = _numeric_lowest_solver(law)(pj, jnp.asarray(np.log(C).ravel()), jnp.asarray(np.log(dinf).ravel()))
    return (np.asarray(lN).reshape(C.shape), np.asarray(lD).reshape(C.shape), bool(np.any(np.asarray(edge))))


@functools.lru_cache(maxsize=32)
def _predict_fn(law: Law):
    return jax.jit(lambda pj, N, D: law.predict(pj, {"params": N, "tokens": D}))


def _law_loss(law: Law, p: Mapping[str, float], N: np.ndarray, D: np.ndarray) -> np.ndarray:
    pj = {k: jnp.asarray(v) for k, v in p.items()}
    return np.asarray(_predict_fn(law)(pj, jnp.asarray(N), jnp.asarray(D)), dtype=np.float64)


@x64
def lowest_logs(law: Law, p: Mapping[str, float], exact: bool, C: np.ndarray, dinf: np.ndarray,
                fn: str) -> tuple[np.ndarray, np.ndarray]:
    """log N, log D minimising the loss on 6 N D + 2 N dinf = C (same-shape arrays;
    compute-optimal where dinf = 0)."""
    from .compute_optimal import compute_optimal

    lN, lD = np.empty_like(C), np.empty_like(C)
    pos = dinf > 0
    if np.any(pos):
        if exact:
            lN[pos], lD[pos] = _chinchilla_lowest(p, C[pos], dinf[pos])
        else:
            lN[pos], lD[pos], edge = _numeric_lowest(law, p, C[pos], dinf[pos])
            if edge:
                warnings.warn(f"{fn}: the optimum lies at the edge of the search range for some inputs.",
                              UserWarning, stacklevel=3)
    if np.any(~pos):
        if exact:
            N0, D0 = law.closed_form_optimum(p, C[~pos])
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # range warnings are the caller's
                alloc = compute_optimal(law, C[~pos], params=law.public(p), method="numeric")
            N0, D0 = alloc.params, alloc.tokens
        lN[~pos], lD[~pos] = np.log(N0), np.log(D0)
    return lN, lD


@x64
def loss_at(law: Law, p: Mapping[str, float], lN: np.ndarray, lD: np.ndarray) -> np.ndarray:
    """The law's loss at log N, log D (NumPy for Chinchilla, the law's JAX predict otherwise)."""
    if isinstance(law, Chinchilla):
        return _chinchilla_loss(p, lN, lD)
    return _law_loss(law, p, np.exp(lN), np.exp(lD))


def _method(law: Law, method: str, fn: str) -> bool:
    """True for the exact Chinchilla path."""
    if method not in ("auto", "closed", "numeric"):
        raise LawError(f"`{fn}(method=...)` must be 'auto', 'closed' or 'numeric', got {method!r}.",
                       rule="bad argument", value=method)
    exact = isinstance(law, Chinchilla)
    if method == "closed" and not exact:
        raise LawError(f"`{fn}`: law {law.name!r} has no exact (closed-form) solution here; use method='numeric'.",
                       rule="no closed form")
    return exact and method != "numeric"


def _out(v: Any, scalar: bool) -> Any:
    v = np.asarray(v, dtype=np.float64)
    return float(v.reshape(-1)[0]) if scalar else v


# ---------------------------------------------------------------------------------------
# public API

@x64
def inference_aware_optimum(fit_or_law: Any, target_loss: Any, inference_tokens: Any, *,
                            params: Mapping[str, float] | None = None, inference_cost: float = 1.0,
                            method: str = "auto") -> InferenceAllocation:
    """The cheapest (N, D_train) reaching ``target_loss`` with ``inference_tokens``
    of lifetime inference: minimise 6 N D + 2 N D_inf subject to L(N, D) = target.

    ``fit_or_law``: a Fit, or a Law plus ``params=``. ``target_loss`` and
    ``inference_tokens`` broadcast against each other (arrays give arrays).
    ``method``: ``"auto"`` (exact for Chinchilla, numeric otherwise),
    ``"closed"`` or ``"numeric"``. Raises :class:`LawError` when the target is
    at or below the irreducible loss E (out of reach at any size). A Bootstrap (or posterior)
    in place of the Fit gives the same result with ``interval(level)`` over its draws (draws
    for which the target is out of reach are counted and warned about).

    >>> from scalinglaws.laws import Chinchilla
    >>> hoffmann = {"a": 6.0073404, "b": 6.0179186, "e": 0.5267228, "alpha": 0.33917084, "beta": 0.2849083}
    >>> opt = inference_aware_optimum(Chinchilla(), 2.0, 2e12, params=hoffmann)
    >>> round(opt.params / 1e9, 2), round(opt.tokens_per_param)
    (9.51, 160)
    """
    fn = "inference_aware_optimum"
    if is_sample(fit_or_law):
        return propagate(lambda f, q: inference_aware_optimum(f, target_loss, inference_tokens, params=q,
                                                              inference_cost=inference_cost, method=method),
                         fit_or_law, ("params", "tokens", "tokens_per_param", "train_flops", "inference_flops",
                                      "total_flops", "savings"), fn)
    law, p, fit = resolve_law(fit_or_law, params, fn)
    _check_law(law, fn)
    exact = _method(law, method, fn)
    tl = as_array("target_loss", target_loss, fn)
    di = as_array("inference_tokens", inference_tokens, fn, strict=False)
    w = float(as_array("inference_cost", inference_cost, fn))
    scalar = tl.ndim == 0 and di.ndim == 0
    tl, di = (np.array(x, dtype=np.float64) for x in np.broadcast_arrays(np.atleast_1d(tl), np.atleast_1d(di)))

    if isinstance(law, Chinchilla):
        E = math.exp(p["e"])
        if np.any(tl <= E):
            bad = float(tl[tl <= E].flat[0])
            raise LawError(f"`{fn}(target_loss=...)`: a loss of {bad:.6g} is out of reach: it is at or below "
                           f"the irreducible loss E = {E:.6g} of this law. Ask for a target above E.",
                           rule="unreachable target", value=bad)
    if exact:
        lN, lD = _chinchilla_optimum(p, tl, w * di)
        lN0, lD0 = _chinchilla_optimum(p, tl, np.zeros_like(tl))
        how, edge = "exact (Chinchilla)", False
    else:
        lN, lD, edge = _numeric_optimum(law, p, tl, w * di)
        lN0, lD0, _ = _numeric_optimum(law, p, tl, np.zeros_like(tl))
        how = "numeric"
    N, D = np.exp(lN), np.exp(lD)
    loss = _chinchilla_loss(p, lN, lD) if isinstance(law, Chinchilla) else _law_loss(law, p, N, D)
    if not exact:
        unreachable = ~np.isfinite(lN) | (np.abs(loss - tl) > 1e-6 * tl)
        if np.any(unreachable):
            bad = float(tl[unreachable].flat[0])
            raise LawError(f"`{fn}(target_loss=...)`: law {law.name!r} does not reach a loss of {bad:.6g} "
                           "for any N <= 1e30, D <= 1e40.", rule="unreachable target", value=bad)
        if edge:
            warnings.warn(f"{fn}: the optimum lies at the edge of the search range for some inputs.",
                          UserWarning, stacklevel=2)
    N0, D0 = np.exp(lN0), np.exp(lD0)
    train, infer = 6.0 * N * D, 2.0 * N * di
    total0 = 6.0 * N0 * D0 + 2.0 * N0 * di
    warns = _range_warnings(fit, N, D, fn)
    o = lambda v: _out(v, scalar)  # noqa: E731
    return InferenceAllocation(
        params=o(N), tokens=o(D), tokens_per_param=o(D / N), loss=o(loss), inference_tokens=o(di),
        train_flops=o(train), inference_flops=o(infer), total_flops=o(train + infer), method=how,
        chinchilla_params=o(N0), chinchilla_tokens=o(D0), chinchilla_total_flops=o(total0),
        savings=o(1.0 - (train + w * infer) / (6.0 * N0 * D0 + w * 2.0 * N0 * di)), warnings=warns)


@x64
def lowest_loss(fit_or_law: Any, total_flops: Any, inference_tokens: Any, *,
                params: Mapping[str, float] | None = None, inference_cost: float = 1.0,
                method: str = "auto") -> InferenceAllocation:
    """The loss-minimising (N, D_train) for a total budget that also pays for
    ``inference_tokens`` of inference: minimise L(N, D) subject to
    6 N D + 2 N D_inf = ``total_flops`` (the dual of :func:`inference_aware_optimum`).
    With D_inf = 0 this is :func:`compute_optimal`. Inputs broadcast. With
    ``inference_cost`` w != 1 the budget is a cost, 6 N D + w 2 N D_inf, while
    the result's FLOP fields stay unweighted. A Bootstrap (or posterior) in place of the Fit
    gives the same result with ``interval(level)`` over its draws.
    """
    fn = "lowest_loss"
    if is_sample(fit_or_law):
        return propagate(lambda f, q: lowest_loss(f, total_flops, inference_tokens, params=q,
                                                  inference_cost=inference_cost, method=method),
                         fit_or_law, ("params", "tokens", "tokens_per_param", "loss", "train_flops", "inference_flops", "total_flops"), fn)
    law, p, fit = resolve_law(fit_or_law, params, fn)
    _check_law(law, fn)
    exact = _method(law, method, fn)
    C = as_array("total_flops", total_flops, fn)
    di = as_array("inference_tokens", inference_tokens, fn, strict=False)
    w = float(as_array("inference_cost", inference_cost, fn))
    scalar = C.ndim == 0 and di.ndim == 0
    C, di = (np.array(x, dtype=np.float64) for x in np.broadcast_arrays(np.atleast_1d(C), np.atleast_1d(di)))

    lN, lD = lowest_logs(law, p, exact, C, w * di, fn)
    N, D = np.exp(lN), np.exp(lD)
    loss = _chinchilla_loss(p, lN, lD) if isinstance(law, Chinchilla) else _law_loss(law, p, N, D)
    train = 6.0 * N * D
    infer = 2.0 * N * di
    warns = _range_warnings(fit, N, D, fn)
    o = lambda v: _out(v, scalar)  # noqa: E731
    return InferenceAllocation(
        params=o(N), tokens=o(D), tokens_per_param=o(D / N), loss=o(loss), inference_tokens=o(di),
        train_flops=o(train), inference_flops=o(infer), total_flops=o(train + infer),
        method="exact (Chinchilla)" if exact else "numeric", warnings=warns)
