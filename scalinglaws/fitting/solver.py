"""The one batched solver: Levenberg-Marquardt over starts x datasets, in one jitted call.

Every fit in the package goes through :func:`solve`: one dataset or many (groups, bootstrap
resamples, per-model curves), each with many starts. The batch has a leading *dataset* axis
``G`` (datasets of different sizes are padded, with weight 0 on the padding) and a *start*
axis ``S``. Stages, all pure JAX, vmapped over datasets and starts:

1. **screen**: rank every start by its objective (after ``screen_steps`` LM steps; with
   ``screen_steps=0``, by the objective at the start itself: one cheap evaluation);
2. **refine**: the best ``refine`` starts (by objective, never by a convergence flag) take
   ``refine_steps`` LM steps;
3. **finish**: the best ``finish`` of those run LM to convergence (at most ``max_steps``);
4. **polish**: the best ``polish`` finished starts take damped Newton steps on the *exact*
   Hessian of the objective, which converges quadratically where IRLS is only linear (Huber's
   linear arms).

The LM curvature is ``J^T diag(c) J`` with ``c`` the IRLS weights (a majoriser of the Huber
loss), the gradient is exact, the damping is Marquardt's with MINPACK's non-shrinking scale;
a step is kept only if it lowers the objective. Parameters with bounds are moved in free
coordinates (sigmoid for two-sided, exp for one-sided bounds); fixed parameters are masked.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .._jax import jax, jnp, x64

_TINY = 1e-300


@dataclass(frozen=True)
class SolverConfig:
    """How the batched solve runs (``sl.fit(..., solver=SolverConfig(...))``).

    screen_steps: LM steps every start takes before the ranking (0: rank by the objective at
        the start, the cheapest screen).
    refine: how many of the best screened starts go on (``None``: all of them; slower, with
        full basin statistics).
    refine_steps: LM steps each refined start takes.
    finish: how many of the best refined starts run on to convergence (``None``: all refined).
    max_steps: cap on the finishing LM steps.
    polish, polish_steps: how many of the best finished starts get exact-Hessian Newton steps,
        and at most how many steps.
    ftol, xtol, polish_xtol: relative convergence tolerances on the objective and the step.
    """

    screen_steps: int = 0
    refine: int | None = 64
    refine_steps: int = 20
    finish: int | None = 16
    max_steps: int = 2000
    polish: int = 2
    polish_steps: int = 60
    ftol: float = 1e-11
    xtol: float = 1e-9
    polish_xtol: float = 1e-13

    def __post_init__(self):
        for name in ("screen_steps", "refine_steps", "max_steps", "polish", "polish_steps"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"SolverConfig({name}=...) must be a whole number >= 0, got {v!r}.")
        for name in ("refine", "finish"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, np.integer)) or v < 1):
                raise ValueError(f"SolverConfig({name}=...) must be None or a whole number >= 1, got {v!r}.")

    def sized(self, n_starts: int) -> "SolverConfig":
        """The same configuration with the stage sizes resolved for ``n_starts`` starts."""
        K = n_starts if self.refine is None else min(int(self.refine), n_starts)
        F = K if self.finish is None else min(int(self.finish), K)
        return replace(self, refine=K, finish=F, polish=min(int(self.polish), F))


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
# Residuals


def prediction_fn(law, space: str) -> Callable:
    """(theta, X) -> g(prediction), g = log or identity."""
    names = law.param_names
    if space == "log":
        return lambda theta, X: law.log_predict({n: theta[i] for i, n in enumerate(names)}, X)
    return lambda theta, X: law.predict({n: theta[i] for i, n in enumerate(names)}, X)


def make_residual_fn(law, space: str) -> Callable:
    """(theta, X, gy) -> (r, J): residuals g(pred) - g(y) and their Jacobian."""
    analytic = getattr(law, "log_jacobian", None)
    if space == "log" and analytic is not None:
        def rj(theta, X, gy):
            pred, J = analytic(theta, X)
            return pred - gy, J
        return rj
    g = prediction_fn(law, space)

    def rj(theta, X, gy):
        return g(theta, X) - gy, jax.jacfwd(g)(theta, X)

    return rj


def transform_target(y: np.ndarray, space: str) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if space != "log":
        return y
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(y)


def _finite_or_inf(f):
    return jnp.where(jnp.isfinite(f), f, jnp.inf)


# ---------------------------------------------------------------------------------------
# The kernel


def _build_one(law, objective, cfg: SolverConfig, S: int):
    """The solve of one dataset with ``S`` starts (pure JAX; vmapped over datasets later)."""
    cfg = cfg.sized(S)
    K, F, P = cfg.refine, cfg.finish, cfg.polish
    rj = make_residual_fn(law, objective.space)
    g = prediction_fn(law, objective.space)

    def model(u, X, gy, lo, hi):
        theta, dth = from_free(u, lo, hi)
        r, J = rj(theta, X, gy)
        return r, J * dth[None, :]

    def fval(u, X, gy, w, lo, hi):
        theta, _ = from_free(u, lo, hi)
        return _finite_or_inf(objective.value(g(theta, X) - gy, w))

    def lm_init(u, X, gy, w, lo, hi):
        r, J = model(u, X, gy, lo, hi)
        f = _finite_or_inf(objective.value(r, w))
        return dict(u=u, lam=jnp.asarray(1e-3), f=f, r=r, J=J, done=~jnp.isfinite(f),
                    n=jnp.asarray(0), dmax=jnp.zeros(u.shape[0]))

    def lm_step(s, X, gy, w, lo, hi, free):
        _, psi, c = objective.terms(s["r"], w)
        J = s["J"]
        grad = (J.T @ psi) * free
        H = (J * c[:, None]).T @ J
        H = H * (free[:, None] * free[None, :]) + jnp.diag(1.0 - free)
        # MINPACK-style scaling: the damping diagonal never shrinks, so a parameter whose
        # sensitivity collapses cannot take huge steps onto a flat plateau (NIST Eckerle4)
        dmax = jnp.maximum(s["dmax"], jnp.diag(H))
        d = jnp.maximum(dmax, 1e-12 * jnp.max(dmax) + _TINY)
        step = -jnp.linalg.solve(H + s["lam"] * jnp.diag(d), grad) * free
        u_new = s["u"] + step
        r_new, J_new = model(u_new, X, gy, lo, hi)
        f_new = _finite_or_inf(objective.value(r_new, w))
        ok = (f_new < s["f"]) & jnp.all(jnp.isfinite(step)) & ~s["done"]
        small_f = (s["f"] - f_new) <= cfg.ftol * jnp.abs(s["f"]) + _TINY
        small_x = jnp.max(jnp.abs(step)) <= cfg.xtol * (1.0 + jnp.max(jnp.abs(s["u"])))
        lam = jnp.where(ok, jnp.maximum(s["lam"] * 0.2, 1e-12), s["lam"] * 5.0)
        done = s["done"] | (ok & small_f & small_x) | (lam > 1e16) | (~ok & small_x & (s["lam"] < 1e-8))
        return dict(u=jnp.where(ok, u_new, s["u"]), lam=lam, f=jnp.where(ok, f_new, s["f"]),
                    r=jnp.where(ok, r_new, s["r"]), J=jnp.where(ok, J_new, s["J"]), done=done,
                    n=s["n"] + jnp.where(s["done"], 0, 1), dmax=dmax)

    init_v = jax.vmap(lm_init, in_axes=(0, None, None, None, None, None))
    step_v = jax.vmap(lm_step, in_axes=(0, None, None, None, None, None, None))

    def lm_fixed(s, steps, args):
        return jax.lax.fori_loop(0, steps, lambda i, s: step_v(s, *args), s) if steps > 0 else s

    def lm_until_done(s, steps, args):
        def cond(c):
            return (c[0] < steps) & ~jnp.all(c[1]["done"])

        def body(c):
            return c[0] + 1, step_v(c[1], *args)

        return jax.lax.while_loop(cond, body, (0, s))[1]

    grad_f = jax.grad(fval)
    hess_f = jax.hessian(fval)

    def newton_step(s, X, gy, w, lo, hi, free):
        grad = grad_f(s["u"], X, gy, w, lo, hi) * free
        H = hess_f(s["u"], X, gy, w, lo, hi)
        H = H * (free[:, None] * free[None, :]) + jnp.diag(1.0 - free)
        d = jnp.maximum(jnp.abs(jnp.diag(H)), 1e-12 * jnp.max(jnp.abs(jnp.diag(H))) + _TINY)
        step = -jnp.linalg.solve(H + s["lam"] * jnp.diag(d), grad) * free
        descent = jnp.dot(step, grad) < 0
        u_new = s["u"] + step
        f_new = fval(u_new, X, gy, w, lo, hi)
        ok = (f_new < s["f"]) & descent & jnp.all(jnp.isfinite(step)) & ~s["done"]
        small_x = jnp.max(jnp.abs(step)) <= cfg.polish_xtol * (1.0 + jnp.max(jnp.abs(s["u"])))
        lam = jnp.where(ok, jnp.maximum(s["lam"] * 0.1, 1e-14), s["lam"] * 10.0)
        done = s["done"] | (ok & small_x) | (lam > 1e16)
        return dict(u=jnp.where(ok, u_new, s["u"]), lam=lam, f=jnp.where(ok, f_new, s["f"]),
                    done=done, n=s["n"] + jnp.where(s["done"], 0, 1))

    newton_v = jax.vmap(newton_step, in_axes=(0, None, None, None, None, None, None))

    def run_newton(u0, f0, args):
        init = dict(u=u0, lam=jnp.full(u0.shape[0], 1e-6), f=f0, done=~jnp.isfinite(f0),
                    n=jnp.zeros(u0.shape[0], dtype=jnp.int64))

        def cond(c):
            return (c[0] < cfg.polish_steps) & ~jnp.all(c[1]["done"])

        def body(c):
            return c[0] + 1, newton_v(c[1], *args)

        return jax.lax.while_loop(cond, body, (0, init))[1]

    def take(s, idx):
        return {k: v[idx] for k, v in s.items()}

    def rank(f):
        return jnp.argsort(jnp.where(jnp.isnan(f), jnp.inf, f))

    def solve_one(u0, X, gy, w, lo, hi, free):
        args = (X, gy, w, lo, hi, free)
        # 1. screen
        if K < S:
            if cfg.screen_steps > 0:
                s0 = lm_fixed(init_v(u0, X, gy, w, lo, hi), cfg.screen_steps, args)
                f_screen, u_screen = s0["f"], s0["u"]
            else:
                f_screen = jax.vmap(fval, in_axes=(0, None, None, None, None, None))(u0, X, gy, w, lo, hi)
                u_screen = u0
            top = rank(f_screen)[:K]
            u1 = u_screen[top]
        else:
            f_screen = jnp.full(S, jnp.nan)
            top = jnp.arange(S)
            u1 = u0
        # 2. refine the best K for a fixed number of steps
        s1 = lm_fixed(init_v(u1, X, gy, w, lo, hi), cfg.refine_steps, args)
        # 3. the best F run on to convergence
        fin = rank(s1["f"])[:F]
        s2 = lm_until_done(take(s1, fin), cfg.max_steps, args)
        n_steps = s1["n"].at[fin].set(s2["n"])
        f_ref = s1["f"].at[fin].set(s2["f"])
        u_ref = s1["u"].at[fin].set(s2["u"])
        done = jnp.zeros(K, bool).at[fin].set(s2["done"])
        # 4. polish the best P with exact-Hessian Newton steps (not even traced when P = 0)
        if P > 0:
            best = fin[rank(s2["f"])[:P]]
            s3 = run_newton(u_ref[best], f_ref[best], args)
            better = s3["f"] <= f_ref[best]
            f_ref = f_ref.at[best].set(jnp.where(better, s3["f"], f_ref[best]))
            u_ref = u_ref.at[best].set(jnp.where(better[:, None], s3["u"], u_ref[best]))
            polish_n = s3["n"]
        else:
            polish_n = jnp.zeros(0, dtype=jnp.int64)
        theta_ref, _ = jax.vmap(from_free, in_axes=(0, None, None))(u_ref, lo, hi)
        j = jnp.argmin(jnp.where(jnp.isnan(f_ref), jnp.inf, f_ref))
        r_best, J_best = rj(theta_ref[j], X, gy)
        return dict(screen_f=f_screen, refined_index=top, refined_theta=theta_ref, refined_f=f_ref,
                    refined_done=done, refined_finished=jnp.zeros(K, bool).at[fin].set(True),
                    refined_steps=n_steps, polish_steps=polish_n, best=j, residuals=r_best,
                    jac_norm=jnp.sqrt(jnp.sum(jnp.where((w > 0)[:, None], J_best, 0.0) ** 2, axis=0)))

    return solve_one


@functools.lru_cache(maxsize=128)
def _compiled(law, objective, cfg: SolverConfig, S: int, share_x: bool):
    one = _build_one(law, objective, cfg, S)
    ax = None if share_x else 0
    return jax.jit(jax.vmap(one, in_axes=(0, ax, ax, 0, None, None, None)))


def compiled(law, objective, cfg: SolverConfig, S: int, share_x: bool):
    try:
        return _compiled(law, objective, cfg, S, share_x)
    except TypeError:  # an unhashable law (a custom law holding unhashable fields)
        one = _build_one(law, objective, cfg, S)
        ax = None if share_x else 0
        return jax.jit(jax.vmap(one, in_axes=(0, ax, ax, 0, None, None, None)))


def bounds(law) -> tuple[np.ndarray, np.ndarray]:
    params = law.parameters()
    return (np.array([q.lower for q in params], dtype=np.float64),
            np.array([q.upper for q in params], dtype=np.float64))


# ---------------------------------------------------------------------------------------
# Across processes: with the persistent compilation cache on (the CLI), the traced solver of a
# built-in law is also kept on disk (jax.export), so that a second process neither traces nor
# compiles it again.


@functools.lru_cache(maxsize=1)
def _source_digest() -> str:
    """sha256 of the package's own sources: a changed solver or law never reuses an old export."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _exportable(law) -> bool:
    from ..laws.base import Custom

    base = getattr(law, "base", None)
    return (type(law).__module__.startswith("scalinglaws.") and not isinstance(law, Custom)
            and not isinstance(base, Custom))


_RUNNERS: dict[str, Any] = {}


def _exported_runner(fn, key_parts: tuple, args: tuple, cache_dir: str):
    key = hashlib.sha256(repr((_source_digest(), jax.__version__) + key_parts).encode()).hexdigest()[:40]
    if key in _RUNNERS:
        return _RUNNERS[key]
    path = Path(cache_dir) / f"scalinglaws-solve-{key}.jaxexport"
    exp = None
    if path.is_file():
        try:
            exp = jax.export.deserialize(bytearray(path.read_bytes()))
        except Exception:  # a damaged or foreign file: rebuild it
            exp = None
    if exp is None:
        exp = jax.export.export(fn)(*args)
        try:
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(exp.serialize())
            tmp.replace(path)
        except (OSError, ImportError):  # read-only cache, or no flatbuffers: this process only
            pass
    runner = jax.jit(exp.call)
    _RUNNERS[key] = runner
    return runner


@x64
def solve(law, objective, cfg: SolverConfig, starts: np.ndarray, X: dict[str, np.ndarray], y: np.ndarray,
          w: np.ndarray, fixed_mask: np.ndarray, *, share_x: bool = False) -> dict[str, np.ndarray]:
    """Solve a batch: ``starts`` (G, S, p) internal parameters; ``X`` columns and ``y`` (G, n),
    or (n,) with ``share_x`` (bootstrap resamples differ only in their weights); ``w`` (G, n)
    weights, 0 on padding. Returns numpy arrays with a leading dataset axis."""
    lo, hi = bounds(law)
    starts = np.asarray(starts, dtype=np.float64)
    u0 = to_free(starts, lo, hi)
    gy = transform_target(y, objective.space)
    free = (~np.asarray(fixed_mask, bool)).astype(np.float64)
    fn = compiled(law, objective, cfg, int(starts.shape[1]), share_x)
    args = (jnp.asarray(u0), {k: jnp.asarray(v, dtype=jnp.float64) for k, v in X.items()}, jnp.asarray(gy),
            jnp.asarray(w, dtype=jnp.float64), jnp.asarray(lo), jnp.asarray(hi), jnp.asarray(free))
    cache_dir = jax.config.jax_compilation_cache_dir
    if cache_dir and _exportable(law):
        shapes = tuple((k, tuple(v.shape)) for k, v in sorted(args[1].items())) + (tuple(args[0].shape), tuple(args[3].shape))
        fn = _exported_runner(fn, (repr(law), repr(objective), repr(cfg), share_x, shapes), args, cache_dir)
    out = fn(*args)
    return {k: np.asarray(v) for k, v in jax.device_get(out).items()}


# ---------------------------------------------------------------------------------------
# Warm-started refits (the bootstrap): Gauss-Newton steps accelerated by SQUAREM


def _build_refit(law, objective, ftol: float, S: int):
    """Refit one dataset from ``S`` nearby starts: SQUAREM (Varadhan & Roland 2008, scheme S3)
    over the damped Gauss-Newton map F. For a Huber-type objective F is the IRLS step, a
    majorise-minimise map that converges only linearly on a near-L1 objective; SQUAREM's
    extrapolation along F's two last steps cuts the iterations several-fold. Every
    iteration is safeguarded: F is a Levenberg-Marquardt step (its damping grows on a step
    that would raise the objective, which is then not taken), and the extrapolated point is
    kept only when it lowers the objective below the plain two-step point. Stops when an
    iteration near Gauss-Newton (damping below 1e-2) lowers the objective by at most ``ftol``
    relative.

    An objective with a fitted scale (``HuberLikelihood``: ``terms_at`` and ``scale_step``)
    is minimised jointly in (parameters, s = log sigma) instead of profiling s at every
    evaluation: F's parameter step is taken at the current s, then s takes one Newton step on
    the new residuals, kept only if it lowers the objective; SQUAREM extrapolates both. The
    joint minimum is the profiled one (the same stationarity conditions), each evaluation costs
    one pass over the rows instead of a Newton loop, and the objective returned is the
    profiled one at the final parameters."""
    rj = make_residual_fn(law, objective.space)
    g = prediction_fn(law, objective.space)
    joint = hasattr(objective, "terms_at") and hasattr(objective, "scale_step")

    def resid(u, X, gy, lo, hi):
        theta, _ = from_free(u, lo, hi)
        return g(theta, X) - gy

    if joint:
        def f_at(r, w, s):
            return _finite_or_inf(objective.nll(r, w, s))

        def terms(r, w, s):
            return objective.terms_at(r, w, s)
    else:
        def f_at(r, w, s):
            return _finite_or_inf(objective.value(r, w))

        def terms(r, w, s):
            return objective.terms(r, w)

    def F(u, s, f, lam, X, gy, w, lo, hi, free):
        """One damped Gauss-Newton (Levenberg-Marquardt) step in the parameters, then (joint
        objectives) one Newton step in s: (u, s, f, lam, moved)."""
        theta, dth = from_free(u, lo, hi)
        r, J = rj(theta, X, gy)
        J = J * dth[None, :]
        _, psi, c = terms(r, w, s)
        grad = (J.T @ psi) * free
        H = (J * c[:, None]).T @ J
        H = H * (free[:, None] * free[None, :]) + jnp.diag(1.0 - free)
        d = jnp.maximum(jnp.diag(H), 1e-12 * jnp.max(jnp.diag(H)) + _TINY)
        step = -jnp.linalg.solve(H + lam * jnp.diag(d), grad) * free
        u1 = u + jnp.where(jnp.all(jnp.isfinite(step)), step, 0.0)
        r1 = resid(u1, X, gy, lo, hi)
        f1 = f_at(r1, w, s)
        ok = f1 < f
        lam1 = jnp.where(ok, jnp.maximum(lam * 0.2, 1e-12), lam * 5.0)
        u1, f1, r1 = jnp.where(ok, u1, u), jnp.where(ok, f1, f), jnp.where(ok, r1, r)
        if not joint:
            return u1, s, f1, lam1, ok
        s1 = s - objective.scale_step(r1, w, s)
        fs = f_at(r1, w, s1)
        better = jnp.isfinite(fs) & (fs < f1)
        return u1, jnp.where(better, s1, s), jnp.where(better, fs, f1), lam1, ok | better

    def one_start(u0, X, gy, w, lo, hi, free, iters):
        r0 = resid(u0, X, gy, lo, hi)
        s0 = jax.lax.stop_gradient(objective.log_sigma(r0, w)) if joint else jnp.asarray(0.0, dtype=u0.dtype)
        f0 = f_at(r0, w, s0)
        args = (X, gy, w, lo, hi, free)

        def cond(c):
            return (c["n"] < iters) & ~c["done"]

        def body(c):
            u, s, f = c["u"], c["s"], c["f"]
            u1, s1, f1, lam, ok1 = F(u, s, f, c["lam"], *args)
            u2, s2, f2, lam, ok2 = F(u1, s1, f1, lam, *args)
            v, v1, v2 = (jnp.append(a, b) for a, b in ((u, s), (u1, s1), (u2, s2)))
            r = v1 - v
            dv = (v2 - v1) - r
            a = -jnp.sqrt(jnp.sum(r * r) / jnp.maximum(jnp.sum(dv * dv), _TINY))
            a = jnp.minimum(a, -1.0)
            vp = v - 2.0 * a * r + a * a * dv
            up, sp = vp[:-1], vp[-1]
            fp = f_at(resid(up, *args[:2], lo, hi), w, sp)
            use = jnp.isfinite(fp) & ok1 & ok2
            up, sp, fp = jnp.where(use, up, u2), jnp.where(use, sp, s2), jnp.where(use, fp, f2)
            up, sp, fp, lam3, ok3 = F(up, sp, fp, lam, *args)
            take = jnp.isfinite(fp) & (fp < f2)
            un, sn, fn = jnp.where(take, up, u2), jnp.where(take, sp, s2), jnp.where(take, fp, f2)
            lam = jnp.where(take, lam3, lam)
            moved = ok1 | ok2 | ok3
            small = (f - fn) <= ftol * jnp.abs(f) + _TINY
            return dict(u=un, s=sn, f=fn, lam=lam, n=c["n"] + 1, done=(moved & small & (lam < 1e-2)) | (lam > 1e16))

        init = dict(u=u0, s=s0, f=f0, lam=jnp.asarray(1e-3), n=jnp.asarray(0), done=~jnp.isfinite(f0))
        out = jax.lax.while_loop(cond, body, init)
        theta, _ = from_free(out["u"], lo, hi)
        f = _finite_or_inf(objective.value(resid(out["u"], X, gy, lo, hi), w)) if joint else out["f"]
        return theta, f, out["done"], out["n"]

    starts_v = jax.vmap(one_start, in_axes=(0, None, None, None, None, None, None, None))
    return starts_v


@functools.lru_cache(maxsize=32)
def _compiled_refit(law, objective, ftol: float, S: int):
    one = _build_refit(law, objective, ftol, S)
    return jax.jit(jax.vmap(one, in_axes=(0, None, None, 0, None, None, None, None)))


@x64
def refit(law, objective, starts: np.ndarray, X: dict[str, np.ndarray], y: np.ndarray, w: np.ndarray,
          fixed_mask: np.ndarray, *, iters: int = 50, ftol: float = 1e-10) -> dict[str, np.ndarray]:
    """Warm-started refits of one dataset under many weight vectors (the bootstrap's resamples):
    ``starts`` (G, S, p) internal parameters near the optimum, ``w`` (G, n) weights, shared
    ``X``, ``y``. Each start takes at most ``iters`` SQUAREM iterations (three Gauss-Newton
    steps each; ``iters`` is traced, so calls that differ only in it share one compilation).
    Returns theta (G, S, p), f (G, S), done (G, S) and steps (G, S)."""
    lo, hi = bounds(law)
    starts = np.asarray(starts, dtype=np.float64)
    u0 = to_free(starts, lo, hi)
    gy = transform_target(y, objective.space)
    free = (~np.asarray(fixed_mask, bool)).astype(np.float64)
    try:
        fn = _compiled_refit(law, objective, float(ftol), int(starts.shape[1]))
    except TypeError:  # an unhashable law
        fn = jax.jit(jax.vmap(_build_refit(law, objective, float(ftol), int(starts.shape[1])),
                              in_axes=(0, None, None, 0, None, None, None, None)))
    theta, f, done, n = fn(jnp.asarray(u0), {k: jnp.asarray(v, dtype=jnp.float64) for k, v in X.items()},
                           jnp.asarray(gy), jnp.asarray(w, dtype=jnp.float64), jnp.asarray(lo), jnp.asarray(hi),
                           jnp.asarray(free), jnp.asarray(int(iters)))
    return {"theta": np.asarray(theta), "f": np.asarray(f), "done": np.asarray(done), "steps": np.asarray(n)}


@x64
def residuals(law, objective, theta: np.ndarray, X: dict[str, np.ndarray], y: np.ndarray) -> np.ndarray:
    """g(prediction) - g(y) at ``theta`` (one dataset)."""
    g = prediction_fn(law, objective.space)
    gy = transform_target(y, objective.space)
    r = g(jnp.asarray(theta, dtype=jnp.float64), {k: jnp.asarray(v, dtype=jnp.float64) for k, v in X.items()}) - gy
    return np.asarray(r)


__all__ = ["SolverConfig", "solve", "refit", "residuals", "to_free", "from_free", "make_residual_fn", "prediction_fn"]
