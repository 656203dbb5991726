"""Compute-optimal allocation under C = 6 N D.

Closed form where the law has one (Chinchilla: N* = G (C/6)^a, D* = (C/6)^b / G,
G = (alpha A / (beta B))^(1/(alpha+beta)), a = beta/(alpha+beta)); otherwise a
numeric solve of d L / d log N = 0 along the budget line: a coarse scan in
log N, then bisection on the derivative's sign (to machine precision, vmapped
over budgets).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .._jax import jax, jnp, x64
from .._numerics import scan_bisect
from .._report import Reported, format_rows
from ..errors import LawError
from ..laws.base import Law, predict_jit
from ._resolve import resolve_law
from ._uncertain import Uncertain, is_sample, propagate

__all__ = ["Allocation", "compute_optimal", "range_warnings"]


@dataclass(frozen=True)
class Allocation(Uncertain, Reported):
    """The compute-optimal split of each budget. ``params`` is N*, ``tokens`` D*;
    arrays when the budget was an array, floats for a scalar budget. Computed from a
    bootstrap (or posterior), ``draws`` holds each quantity per draw and ``interval(level)`` /
    ``se()`` give their spread."""

    flops: Any
    params: Any
    tokens: Any
    loss: Any
    tokens_per_param: Any
    method: str
    warnings: tuple[str, ...] = field(default=())
    draws: Mapping[str, np.ndarray] | None = field(default=None, repr=False)

    def rows(self) -> list[dict[str, float]]:
        cols = [np.atleast_1d(v) for v in (self.flops, self.params, self.tokens, self.tokens_per_param, self.loss)]
        return [dict(flops=float(c), params=float(n), tokens=float(d), tokens_per_param=float(r), loss=float(lv))
                for c, n, d, r, lv in zip(*cols)]

    def _headline(self) -> str:
        return f"[[Allocation]] compute-optimal N*, D* under C = 6 N D ({self.method})"

    def _body(self) -> str:
        return format_rows(self.rows(), {"flops": "FLOPs", "params": "N* (params)", "tokens": "D* (tokens)",
                                         "tokens_per_param": "D*/N*", "loss": "loss"})


@x64
def range_warnings(fit: Any, N: np.ndarray, D: np.ndarray, fn: str) -> tuple[str, ...]:
    """Warn (and return the messages) when N* or D* lies outside the fitted runs' range."""
    out = []
    if fit is not None and getattr(fit, "input_range", None):
        for col, val in (("params", np.asarray(N)), ("tokens", np.asarray(D))):
            if col in fit.input_range:
                lo, hi = fit.input_range[col]
                bad = (val < lo) | (val > hi)
                if np.any(bad):
                    out.append(f"optimum {col} outside the fitted runs' range [{lo:.3g}, {hi:.3g}] for "
                               f"{int(bad.sum())} of {bad.size} input(s): extrapolation.")
    for w in out:
        warnings.warn(f"{fn}: {w}", UserWarning, stacklevel=3)
    return tuple(out)


def _numeric(law: Law, p: Mapping[str, float], flops: np.ndarray, extra: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pj = {k: jnp.asarray(v) for k, v in p.items()}

    def loss_at(u, c6, ex):
        X = {"params": jnp.exp(u), "tokens": c6 / jnp.exp(u), **ex}
        return law.log_predict(pj, X)

    dloss = jax.grad(loss_at)

    @jax.jit
    def solve(c6, ex):
        hi_u = jnp.log(c6)  # D >= 1 token
        lo_u = jnp.zeros_like(c6)  # N >= 1 parameter
        grid = lo_u + (hi_u - lo_u) * jnp.linspace(0.02, 0.98, 97)
        u, k, _ = scan_bisect(lambda u: loss_at(u, c6, ex), lambda u: dloss(u, c6, ex), grid, 200)
        edge = (k == 0) | (k == grid.shape[0] - 1)
        return u, jnp.exp(loss_at(u, c6, ex)), edge

    c6 = jnp.asarray(flops / 6.0)
    exj = {k: jnp.broadcast_to(jnp.asarray(v, dtype=jnp.float64), c6.shape) for k, v in extra.items()}
    u, lv, edge = jax.vmap(solve)(c6, exj)
    N = np.exp(np.asarray(u))
    if np.any(np.asarray(edge)):
        warnings.warn("compute_optimal: the loss has no interior minimum along the budget line for some budgets "
                      "(optimum at the edge of the search range).", UserWarning, stacklevel=3)
    return N, flops / (6.0 * N), np.asarray(lv)


def _closed_batch(law: Law, rows: np.ndarray, flops: Any, method: str, inputs: Mapping[str, Any]):
    """All draws at once where the law has a closed form; None to fall back to the loop."""
    if method == "numeric" or inputs or not len(rows):
        return None
    C = np.asarray(flops, dtype=np.float64)
    p = {k: rows[:, i].reshape((-1,) + (1,) * C.ndim) for i, k in enumerate(law.param_names)}
    try:
        closed = law.closed_form_optimum(p, C[None, ...])
    except Exception:  # noqa: BLE001 - a law whose closed form does not broadcast: use the loop
        return None
    if closed is None:
        return None
    N, D = (np.asarray(v, dtype=np.float64) for v in closed)
    N, D = np.broadcast_arrays(N, D)
    pj = {k: jnp.asarray(np.broadcast_to(v, N.shape)) for k, v in p.items()}
    loss = np.asarray(law.predict(pj, {"params": jnp.asarray(N), "tokens": jnp.asarray(D)}), dtype=np.float64)
    return {"params": N, "tokens": D, "loss": loss, "tokens_per_param": D / N}


@x64
def compute_optimal(fit_or_law: Any, flops: Any = None, *, params: Mapping[str, float] | None = None,
                    method: str = "auto", total_flops: Any = None, **inputs: Any) -> Allocation:
    """The loss-minimising (N, D) for each training budget ``flops`` (C = 6ND).

    ``fit_or_law`` is a :class:`Fit`, or a :class:`Law` together with
    ``params=`` (public or internal names). ``method``: ``"auto"`` (closed
    form when the law has one), ``"closed"`` or ``"numeric"``. Extra inputs the
    law needs (e.g. ``unique_tokens=`` for the data-constrained law) are passed
    as keywords. Warns when the optimum lies outside the range of the fitted runs.
    ``total_flops=`` is accepted as the same budget (the name every solver uses for the
    total budget; here there is no inference, so the total is the training budget); give
    one of ``flops`` and ``total_flops``.

    ``fit_or_law`` may also be a :class:`~scalinglaws.fitting.bootstrap.Bootstrap` (or a
    posterior): the answer is then computed at the point fit and at every draw, and the result's
    ``interval(level)`` gives each quantity's interval.
    """
    if is_sample(fit_or_law):
        return propagate(lambda f, p: compute_optimal(f, flops, params=p, method=method, total_flops=total_flops,
                                                      **inputs),
                         fit_or_law, ("params", "tokens", "loss", "tokens_per_param"), "compute_optimal",
                         batch=lambda law, rows: _closed_batch(law, rows, flops if flops is not None else total_flops,
                                                               method, inputs))
    if flops is not None and total_flops is not None:
        raise LawError("`compute_optimal`: give the budget once, as flops= or total_flops= (the same thing "
                       "here: no inference is counted), not both.", rule="bad argument")
    if flops is None and total_flops is None:
        raise LawError("`compute_optimal`: give the training budget, flops= (or total_flops=).",
                       rule="missing budget")
    flops = flops if flops is not None else total_flops
    law, p, fit = resolve_law(fit_or_law, params, "compute_optimal")
    scalar = np.ndim(flops) == 0
    C = np.atleast_1d(np.asarray(flops, dtype=np.float64))
    if not np.all(np.isfinite(C)) or np.any(C <= 0):
        bad = C[~(np.isfinite(C) & (C > 0))][0]
        raise LawError(f"`compute_optimal(flops=...)`: budgets must be finite and > 0, got {bad}.", rule="not positive", value=float(bad))
    if not {"params", "tokens"} <= set(law.inputs):
        raise LawError(f"`compute_optimal`: law {law.name!r} is not a law in (params, tokens).", rule="bad law")
    missing = [k for k in law.inputs if k not in ("params", "tokens") and k not in inputs]
    if missing:
        raise LawError(f"`compute_optimal`: law {law.name!r} also needs {missing}; pass them as keywords.", rule="missing input")

    closed = None if method == "numeric" else law.closed_form_optimum(p, C)
    if method == "closed" and closed is None:
        raise LawError(f"law {law.name!r} has no closed-form optimum; use method='numeric'.", rule="no closed form")
    if closed is not None:
        N, D = (np.asarray(v, dtype=np.float64) for v in closed)
        X = {"params": jnp.asarray(N), "tokens": jnp.asarray(D)}
        loss = np.asarray(predict_jit(law, {k: jnp.asarray(v) for k, v in p.items()}, X))
        how = "closed form"
    else:
        N, D, loss = _numeric(law, p, C, inputs)
        how = "numeric"

    warns = range_warnings(fit, N, D, "compute_optimal")

    def out(v):
        v = np.asarray(v, dtype=np.float64)
        return float(v[0]) if scalar else v

    return Allocation(flops=out(C), params=out(N), tokens=out(D), loss=out(loss), tokens_per_param=out(D / N),
                      method=how, warnings=tuple(warns))
