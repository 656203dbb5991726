"""Batched Levenberg-Marquardt over many starts, in one jitted, vmapped solve.

Three stages, all pure JAX:

1. **screen**: every start takes a few LM steps (IRLS weights for Huber);
2. **refine**: the best ``refine`` starts (by objective, never by a
   convergence flag) run LM to convergence;
3. **polish**: the best ``polish`` refined starts take damped Newton steps on
   the *exact* Hessian of the objective, which converges quadratically where
   IRLS is only linear (Huber's linear arms).

The curvature in stages 1-2 is ``J^T diag(c) J`` with ``c`` the IRLS weights
(a majoriser of the Huber loss), the gradient is exact, the damping is
Marquardt's ``lambda * diag(H)``; a step is kept only if it lowers the
objective. Parameters with bounds are moved in free coordinates (sigmoid for
two-sided, exp for one-sided bounds); fixed parameters are masked out.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._jax import jax, jnp

_TINY = 1e-300


@dataclass(frozen=True)
class SolverConfig:
    screen_steps: int = 4
    refine: int = 64
    max_steps: int = 2000
    polish: int = 4
    polish_steps: int = 100
    ftol: float = 1e-11
    xtol: float = 1e-9
    polish_xtol: float = 1e-13


# ---------------------------------------------------------------------------------------
# Bounds: free coordinates u <-> parameters theta


def to_free(theta: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    theta = np.asarray(theta, dtype=np.float64)
    both = np.isfinite(lo) & np.isfinite(hi)
    lower = np.isfinite(lo) & ~np.isfinite(hi)
    upper = ~np.isfinite(lo) & np.isfinite(hi)
    u = theta.copy()
    with np.errstate(all="ignore"):
        span = np.where(both, hi - lo, 1.0)
        t = np.clip((theta - np.where(both, lo, 0.0)) / span, 1e-12, 1 - 1e-12)
        u = np.where(both, np.log(t) - np.log1p(-t), u)
        u = np.where(lower, np.log(np.maximum(theta - np.where(lower, lo, 0.0), 1e-300)), u)
        u = np.where(upper, np.log(np.maximum(np.where(upper, hi, 0.0) - theta, 1e-300)), u)
    return u


def from_free(u, lo, hi):
    """theta(u) and d theta / d u, elementwise (jnp)."""
    both = jnp.isfinite(lo) & jnp.isfinite(hi)
    lower = jnp.isfinite(lo) & ~jnp.isfinite(hi)
    upper = ~jnp.isfinite(lo) & jnp.isfinite(hi)
    lo0 = jnp.where(jnp.isfinite(lo), lo, 0.0)
    hi0 = jnp.where(jnp.isfinite(hi), hi, 0.0)
    sig = jax.nn.sigmoid(u)
    ex = jnp.exp(jnp.where(lower | upper, u, 0.0))
    theta = jnp.where(both, lo0 + (hi0 - lo0) * sig, u)
    theta = jnp.where(lower, lo0 + ex, theta)
    theta = jnp.where(upper, hi0 - ex, theta)
    dtheta = jnp.where(both, (hi0 - lo0) * sig * (1 - sig), 1.0)
    dtheta = jnp.where(lower, ex, dtheta)
    dtheta = jnp.where(upper, -ex, dtheta)
    return theta, dtheta


# ---------------------------------------------------------------------------------------


def make_residual_fn(law, space: str) -> Callable:
    """(theta, X, gy) -> (r, J): residuals g(pred) - g(y) and their Jacobian."""
    names = law.param_names
    analytic = getattr(law, "log_jacobian", None)

    if space == "log" and analytic is not None:
        def rj(theta, X, gy):
            pred, J = analytic(theta, X)
            return pred - gy, J
        return rj

    if space == "log":
        def g(theta, X):
            return law.log_predict({n: theta[i] for i, n in enumerate(names)}, X)
    else:
        def g(theta, X):
            return law.predict({n: theta[i] for i, n in enumerate(names)}, X)

    def rj(theta, X, gy):
        pred = g(theta, X)
        J = jax.jacfwd(g)(theta, X)
        return pred - gy, J

    return rj


def _finite_or_inf(f):
    return jnp.where(jnp.isfinite(f), f, jnp.inf)


def build(law, objective, cfg: SolverConfig):
    """Return a jitted ``solve(starts_free, X, gy, w, lo, hi, free) -> dict``."""
    rj = make_residual_fn(law, objective.space)

    def model(u, X, gy, lo, hi):
        theta, dth = from_free(u, lo, hi)
        r, J = rj(theta, X, gy)
        return r, J * dth[None, :]

    def lm_init(u, X, gy, w, lo, hi):
        r, J = model(u, X, gy, lo, hi)
        f = _finite_or_inf(objective.value(r, w))
        return dict(u=u, lam=jnp.asarray(1e-3), f=f, r=r, J=J, done=~jnp.isfinite(f), n=jnp.asarray(0),
                    dmax=jnp.zeros(u.shape[0]))

    def lm_step(s, X, gy, w, lo, hi, free):
        _, psi, c = objective.terms(s["r"], w)
        J = s["J"]
        g = (J.T @ psi) * free
        H = (J * c[:, None]).T @ J
        mask2 = free[:, None] * free[None, :]
        p = H.shape[0]
        H = H * mask2 + jnp.diag(1.0 - free)
        # MINPACK-style scaling: the damping diagonal never shrinks, so a parameter whose
        # sensitivity collapses cannot take huge steps onto a flat plateau (NIST Eckerle4)
        dmax = jnp.maximum(s["dmax"], jnp.diag(H))
        d = jnp.maximum(dmax, 1e-12 * jnp.max(dmax) + _TINY)
        step = -jnp.linalg.solve(H + s["lam"] * jnp.diag(d), g) * free
        u_new = s["u"] + step
        r_new, J_new = model(u_new, X, gy, lo, hi)
        f_new = _finite_or_inf(objective.value(r_new, w))
        ok = (f_new < s["f"]) & jnp.all(jnp.isfinite(step)) & ~s["done"]
        small_f = (s["f"] - f_new) <= cfg.ftol * jnp.abs(s["f"]) + _TINY
        small_x = jnp.max(jnp.abs(step)) <= cfg.xtol * (1.0 + jnp.max(jnp.abs(s["u"])))
        lam = jnp.where(ok, jnp.maximum(s["lam"] * 0.2, 1e-12), s["lam"] * 5.0)
        done = s["done"] | (ok & small_f & small_x) | (lam > 1e16) | (~ok & small_x & (s["lam"] < 1e-8))
        del p
        return dict(
            u=jnp.where(ok, u_new, s["u"]), lam=lam, f=jnp.where(ok, f_new, s["f"]),
            r=jnp.where(ok, r_new, s["r"]), J=jnp.where(ok, J_new, s["J"]), done=done,
            n=s["n"] + jnp.where(s["done"], 0, 1), dmax=dmax,
        )

    # exact-Hessian damped Newton on the scalar objective (polish)
    def fval(u, X, gy, w, lo, hi):
        theta, _ = from_free(u, lo, hi)
        r, _ = rj(theta, X, gy)
        return _finite_or_inf(objective.value(r, w))

    grad_f = jax.grad(fval)
    hess_f = jax.hessian(fval)

    def newton_step(s, X, gy, w, lo, hi, free):
        g = grad_f(s["u"], X, gy, w, lo, hi) * free
        H = hess_f(s["u"], X, gy, w, lo, hi)
        H = H * (free[:, None] * free[None, :]) + jnp.diag(1.0 - free)
        d = jnp.maximum(jnp.abs(jnp.diag(H)), 1e-12 * jnp.max(jnp.abs(jnp.diag(H))) + _TINY)
        step = -jnp.linalg.solve(H + s["lam"] * jnp.diag(d), g) * free
        descent = jnp.dot(step, g) < 0
        u_new = s["u"] + step
        f_new = fval(u_new, X, gy, w, lo, hi)
        ok = (f_new < s["f"]) & descent & jnp.all(jnp.isfinite(step)) & ~s["done"]
        small_x = jnp.max(jnp.abs(step)) <= cfg.polish_xtol * (1.0 + jnp.max(jnp.abs(s["u"])))
        lam = jnp.where(ok, jnp.maximum(s["lam"] * 0.1, 1e-14), s["lam"] * 10.0)
        done = s["done"] | (ok & small_x) | (lam > 1e16)
        return dict(u=jnp.where(ok, u_new, s["u"]), lam=lam, f=jnp.where(ok, f_new, s["f"]),
                    done=done, n=s["n"] + jnp.where(s["done"], 0, 1))

    def run_lm(u0, X, gy, w, lo, hi, free, steps, until_done):
        init = jax.vmap(lm_init, in_axes=(0, None, None, None, None, None))(u0, X, gy, w, lo, hi)
        step = jax.vmap(lm_step, in_axes=(0, None, None, None, None, None, None))

        if not until_done:
            return jax.lax.fori_loop(0, steps, lambda i, s: step(s, X, gy, w, lo, hi, free), init)

        def cond(c):
            i, s = c
            return (i < steps) & ~jnp.all(s["done"])

        def body(c):
            i, s = c
            return i + 1, step(s, X, gy, w, lo, hi, free)

        return jax.lax.while_loop(cond, body, (0, init))[1]

    def run_newton(u0, f0, X, gy, w, lo, hi, free):
        init = dict(u=u0, lam=jnp.full(u0.shape[0], 1e-6), f=f0, done=~jnp.isfinite(f0),
                    n=jnp.zeros(u0.shape[0], dtype=jnp.int64))
        step = jax.vmap(newton_step, in_axes=(0, None, None, None, None, None, None))

        def cond(c):
            i, s = c
            return (i < cfg.polish_steps) & ~jnp.all(s["done"])

        def body(c):
            i, s = c
            return i + 1, step(s, X, gy, w, lo, hi, free)

        return jax.lax.while_loop(cond, body, (0, init))[1]

    @jax.jit
    def solve(u0, X, gy, w, lo, hi, free):
        S = u0.shape[0]
        K = min(cfg.refine, S)
        P = min(cfg.polish, K)
        if cfg.screen_steps > 0 and K < S:
            s1 = run_lm(u0, X, gy, w, lo, hi, free, cfg.screen_steps, until_done=False)
            f1 = s1["f"]
            order = jnp.argsort(jnp.where(jnp.isnan(f1), jnp.inf, f1))
            top = order[:K]
            u_top = s1["u"][top]
        else:
            f1 = jnp.full(S, jnp.nan)
            top = jnp.arange(S)
            u_top = u0
        s2 = run_lm(u_top, X, gy, w, lo, hi, free, cfg.max_steps, until_done=True)
        order2 = jnp.argsort(s2["f"])
        best = order2[:P]
        s3 = run_newton(s2["u"][best], s2["f"][best], X, gy, w, lo, hi, free)
        f_ref = s2["f"].at[best].set(jnp.minimum(s3["f"], s2["f"][best]))
        u_ref = s2["u"].at[best].set(jnp.where((s3["f"] <= s2["f"][best])[:, None], s3["u"], s2["u"][best]))
        theta_ref, _ = jax.vmap(from_free, in_axes=(0, None, None))(u_ref, lo, hi)
        return dict(screen_f=f1, refined_index=top, refined_theta=theta_ref, refined_f=f_ref,
                    refined_done=s2["done"], refined_steps=s2["n"], polish_steps=s3["n"])

    return solve


@functools.lru_cache(maxsize=64)
def cached_solver(law, objective, cfg: SolverConfig):
    return build(law, objective, cfg)


def run(law, objective, cfg: SolverConfig, starts: np.ndarray, X: dict[str, np.ndarray], y: np.ndarray,
        w: np.ndarray, fixed_mask: np.ndarray) -> dict[str, Any]:
    params = law.parameters()
    lo = np.array([q.lower for q in params], dtype=np.float64)
    hi = np.array([q.upper for q in params], dtype=np.float64)
    u0 = to_free(starts, lo, hi)
    gy = np.log(y) if objective.space == "log" else np.asarray(y, dtype=np.float64)
    free = (~fixed_mask).astype(np.float64)
    try:
        solve = cached_solver(law, objective, cfg)
    except TypeError:  # unhashable law (custom law holding unhashable fields)
        solve = build(law, objective, cfg)
    Xj = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in X.items()}
    out = solve(jnp.asarray(u0), Xj, jnp.asarray(gy), jnp.asarray(w, dtype=jnp.float64),
                jnp.asarray(lo), jnp.asarray(hi), jnp.asarray(free))
    out = {k: np.asarray(v) for k, v in out.items()}
    out["gy"] = gy
    return out


def residuals(law, objective, theta: np.ndarray, X: dict[str, np.ndarray], y: np.ndarray) -> np.ndarray:
    rj = make_residual_fn(law, objective.space)
    gy = np.log(y) if objective.space == "log" else np.asarray(y, dtype=np.float64)
    r, _ = rj(jnp.asarray(theta), {k: jnp.asarray(v) for k, v in X.items()}, jnp.asarray(gy))
    return np.asarray(r)
