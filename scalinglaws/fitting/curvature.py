"""Curvature standard errors: the covariance of a fit's parameters from the Hessian of its objective.

``curvature(fit, runs)`` rebuilds the dataset the fit was made from, takes the JAX Hessian of the
**summed** objective at ``fit.theta`` in the law's *internal* parameters (``a = log A`` for
Chinchilla; not the solver's free, unbounded coordinates), and turns it into a covariance by the
objective's kind:

- ``HuberLikelihood`` (a negative log-likelihood, the scale sigma profiled out): the inverse of
  the *expected* (Fisher) information of the Huber density by default,
  ``cov = sigma^2 / E[psi(z)^2] (J^T W J)^-1``; ``information="observed"`` gives ``cov = H^-1``,
  ``H`` the Hessian of the profiled NLL. Why not the observed one by default: the Huber loss has
  no curvature on its linear arms, so ``H`` comes only from residuals within ``delta * sigma`` of
  zero; with Epoch's delta = 1e-3 that is the 5 residuals the near-L1 optimum interpolates, and
  ``H^-1`` gives standard errors ~300x smaller than the bootstrap's (a warning says so);
- ``LeastSquares`` (sum of squared residuals): ``cov = s^2 (J^T W J)^-1``, ``s^2 = RSS / (n - p)``,
  ``J`` the Jacobian of the residuals, ``W`` the weights, ``n`` the rows of non-zero weight and
  ``p`` the free parameters. This is the Gauss-Newton form of ``2 s^2 H^-1`` (``H ~ 2 J^T W J``):
  it leaves out the residual-times-second-derivative term, as ``scipy.optimize.curve_fit`` and
  nonlinear-regression texts do, and is positive semi-definite by construction;
- ``Huber`` (an M-estimator, not a likelihood): the sandwich ``H^-1 (sum_i g_i g_i^T) H^-1``, ``g_i``
  the gradient of row ``i``'s weighted loss term ``w_i huber(r_i)`` (Huber 1967).

``sandwich=True`` asks for ``M^-1 (sum_i g_i g_i^T) M^-1`` with any objective, ``M`` the matrix the
plain rule inverts: ``2 J^T W J`` for least squares (White's HC0), the Fisher information for the
Huber likelihood, or the exact Hessian with ``information="observed"`` (then the likelihood's scores
are corrected for the profiled sigma). Weights: the runs' ``weight`` column or ``weights=``, as the
fit took them. Fixed parameters (``fit(fixed=...)``) have variance 0 and are left out of ``M``.

The public parameters' covariance follows by the delta method, ``D C D^T``, ``D`` the Jacobian of
``law.public`` with respect to the internal parameters.

These are local, normal-approximation errors: they mean little where a parameter sits at a bound,
where the objective is flat in some direction (not identified) or nearly so (ill-conditioned);
each of these is warned about (``warnings.warn`` and ``Curvature.warnings``).
"""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._jax import jax, jnp, x64
from .._report import Reported, format_rows
from ..errors import LawError
from .api import IDENTIFIED_RTOL, coerce_runs, dataset, public_names_moved
from .objectives import huber
from .result import Fit
from .solver import make_residual_fn, prediction_fn, transform_target

#: an eigenvalue of the scaled curvature matrix below this (relative to the largest): not identified
NULL_RTOL = 1e-12
#: a condition number of the scaled curvature matrix above this: ill-conditioned
COND_LIMIT = 1e10
#: a parameter this close to a bound (relative, as ``fit`` flags it): at the bound
BOUND_RTOL = 1e-6

_OBJECTIVES = ("huber_likelihood", "least_squares", "huber")


@dataclass(frozen=True)
class Curvature(Reported):
    """Normal-approximation standard errors of ``fit``'s parameters from the curvature of its objective.

    ``covariance`` is over the public parameters (order ``names``), ``internal_covariance`` over
    the law's internal ones (order ``internal_names``; fixed parameters have zero variance).
    ``hessian`` is the exact Hessian of the summed objective at the fit (internal parameters),
    ``curvature_matrix`` the matrix whose inverse enters the covariance (the Hessian, or
    ``2 J^T W J`` for least squares); ``eigenvalues`` and ``condition_number`` are of that matrix
    scaled to unit diagonal (over the free, identified parameters). A standard error is NaN where
    the parameter is not identified (it loads on a null direction of the curvature).
    """

    fit: Fit = field(repr=False)
    names: tuple[str, ...]
    estimates: dict[str, float]
    covariance: np.ndarray
    internal_names: tuple[str, ...]
    internal_covariance: np.ndarray
    hessian: np.ndarray
    curvature_matrix: np.ndarray
    eigenvalues: np.ndarray
    condition_number: float
    method: str
    objective: str
    level: float
    n_obs: int
    dof: int
    scale: float
    at_bound: tuple[str, ...] = ()
    not_identified: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def se(self) -> dict[str, float]:
        """Standard errors of the public parameters (NaN where not identified)."""
        d = np.diag(self.covariance)
        return {k: float(math.sqrt(v)) if np.isfinite(v) and v >= 0 else math.nan for k, v in zip(self.names, d)}

    def interval(self, level: float | None = None) -> dict[str, tuple[float, float]]:
        """Two-sided normal intervals ``estimate -/+ z se`` (default: the ``level`` of the call)."""
        level = self.level if level is None else level
        _check_level(level, "Curvature.interval")
        z = statistics.NormalDist().inv_cdf(0.5 + level / 2)
        se = self.se()
        return {k: (self.estimates[k] - z * se[k], self.estimates[k] + z * se[k]) for k in self.names}

    def correlation(self) -> np.ndarray:
        """The public parameters' correlation matrix."""
        s = np.sqrt(np.abs(np.diag(self.covariance)))
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.covariance / np.outer(s, s)

    def rows(self) -> list[dict[str, Any]]:
        se, ci = self.se(), self.interval()
        pct = round(100 * self.level, 6)
        return [{"parameter": k, "estimate": self.estimates[k], "se": se[k],
                 f"ci{pct:g}_lo": ci[k][0], f"ci{pct:g}_hi": ci[k][1]} for k in self.names]

    def _headline(self) -> str:
        return (f"[[Curvature]] law={self.fit.law.name}  objective={self.objective}  method={self.method}  "
                f"n={self.n_obs}  condition={self.condition_number:.3g}")

    def _body(self) -> str:
        return format_rows(self.rows())

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["se"] = {k: (v if math.isfinite(v) else None) for k, v in self.se().items()}
        out["interval"] = {k: [(x if math.isfinite(x) else None) for x in v] for k, v in self.interval().items()}
        return out


def _check_level(level: Any, fn: str) -> None:
    if not isinstance(level, (int, float, np.floating, np.integer)) or not 0 < float(level) < 1:
        raise LawError(f"`{fn}(level=...)` must be a number in (0, 1), got {level!r}.", rule="bad level", value=level)


def _public_jacobian(law, theta: np.ndarray) -> tuple[np.ndarray, str]:
    """d public / d internal at ``theta`` (public names x internal names) and how it was computed.

    ``jax.jacfwd`` where ``law.public`` traces; the built-in laws' ``public`` return Python floats
    (``math.exp``, ``float``), which do not, so then fourth-order central differences
    (Richardson's extrapolation of two steps; truncation ~h^4, rounding ~1e-16 / h, about 1e-11
    relative for h = 1e-4 (1 + |theta|)).
    """
    names = law.param_names

    def pub(t):
        q = law.public({n: t[i] for i, n in enumerate(names)})
        return jnp.stack([jnp.asarray(v, dtype=jnp.float64) for v in q.values()])

    try:
        D = np.asarray(jax.jacfwd(pub)(jnp.asarray(theta, dtype=jnp.float64)), dtype=np.float64)
        if D.shape == (len(law.public_names), len(names)) and np.all(np.isfinite(D)):
            return D, "jax.jacfwd"
    except Exception:  # a public() that converts to Python floats cannot be traced
        pass

    def pub_np(t):
        return np.array(list(law.public({n: float(t[i]) for i, n in enumerate(names)}).values()), dtype=np.float64)

    p0 = pub_np(theta)
    D = np.empty((p0.shape[0], len(names)))
    for i in range(len(names)):
        h = 1e-4 * (1.0 + abs(theta[i]))

        def cd(step):
            tp, tm = theta.copy(), theta.copy()
            tp[i] += step
            tm[i] -= step
            return (pub_np(tp) - pub_np(tm)) / (2 * step)

        D[:, i] = (4.0 * cd(h / 2) - cd(h)) / 3.0
    # exact zeros stay zeros (a public parameter that an internal one does not move)
    D[np.abs(D) <= 1e-13 * (1.0 + np.abs(p0))[:, None]] = 0.0
    return D, "central differences"


def _dominant(v: np.ndarray) -> list[int]:
    """Indices of an eigenvector's dominant entries (at least 0.3 of the largest), largest first."""
    a = np.abs(v)
    return [int(i) for i in np.argsort(-a, kind="stable") if a[i] >= 0.3 * a.max()]


@x64
def curvature(fit: Fit, runs: Any, *, level: float = 0.95, sandwich: bool = False, information: str | None = None,
              weights: Any = None) -> Curvature:
    """Standard errors of ``fit``'s parameters from the Hessian of its objective on ``runs``.

    ``runs`` are the runs the fit was made from (a ``Runs``, file, DataFrame or mapping, as
    ``sl.fit`` takes them); ``weights`` the fit's ``weights=`` if it had any (default: the runs'
    ``weight`` column, else ones). ``level`` is the default level of ``interval()`` and of the
    report. ``sandwich=True`` uses the robust sandwich covariance ``M^-1 (sum_i g_i g_i^T) M^-1``
    whatever the objective (it is the only one for ``Huber``). ``information`` picks ``M``:
    ``"expected"`` (the default for least squares, ``2 J^T W J``, and for the Huber likelihood,
    its Fisher information) or ``"observed"`` (the exact Hessian; the only one for ``Huber``).
    See the module's text for the covariance of each objective.
    """
    if not isinstance(fit, Fit):
        raise LawError(f"`curvature(fit, ...)`: expected a Fit from sl.fit, got {type(fit).__name__}.", rule="bad fit")
    _check_level(level, "curvature")
    law, objective = fit.law, fit.objective_spec
    kind = getattr(objective, "name", None)
    if kind not in _OBJECTIVES:
        raise LawError(f"`curvature`: no covariance rule for objective {kind!r}; known: {', '.join(_OBJECTIVES)}.",
                       rule="unknown objective", value=kind)
    r = coerce_runs(law, runs, fn="curvature")
    d = dataset(law, r, objective, weights)
    warns: list[str] = []
    notes: list[str] = []
    if r.data_hash() != fit.data_hash:
        warns.append("these runs are not the ones the fit was made from (their data hash differs); the curvature "
                     "is of the objective on the runs given, at the fit's parameters.")

    names = list(law.param_names)
    p = len(names)
    theta = np.asarray(fit.theta, dtype=np.float64)
    fixed = np.array([n in fit.fixed for n in names])
    free = np.flatnonzero(~fixed)

    X = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in d.X.items()}
    gy_np = transform_target(d.y, objective.space)
    gy = jnp.asarray(gy_np)
    w = jnp.asarray(d.w, dtype=jnp.float64)
    w_np = np.asarray(d.w, dtype=np.float64)
    g = prediction_fn(law, objective.space)
    rj = make_residual_fn(law, objective.space)
    th = jnp.asarray(theta)

    def objective_of(t):
        return objective.value(g(t, X) - gy, w)

    H = np.asarray(jax.jit(jax.hessian(objective_of))(th), dtype=np.float64)
    grad = np.asarray(jax.jit(jax.grad(objective_of))(th), dtype=np.float64)
    res, J = jax.jit(lambda t: rj(t, X, gy))(th)
    res, J = np.asarray(res, dtype=np.float64), np.asarray(J, dtype=np.float64)
    live = w_np > 0
    n_eff = int(np.count_nonzero(live))
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(J[live])) and np.all(np.isfinite(res[live]))):
        raise LawError(f"{r.source}: the objective of law {law.name!r} is not finite at the fit's parameters on these "
                       f"runs (non-finite residuals, Jacobian or Hessian); are these the fit's runs?",
                       source=r.source, rule="not finite")

    # -- which parameters the data identify at all: a zero Jacobian column (as fit decides it)
    jn = np.sqrt(np.sum(np.where(live[:, None], J, 0.0) ** 2, axis=0)) * np.maximum(1.0, np.abs(theta))
    scale_j = float(np.max(jn[free])) if free.size else 0.0
    flat = [i for i in free if jn[i] <= IDENTIFIED_RTOL * scale_j or H[i, i] == 0.0]

    # -- the matrix whose inverse enters the covariance (the "bread"), and a sandwich's "meat"
    if information is None:
        information = "observed" if kind == "huber" else "expected"
    if information not in ("expected", "observed"):
        raise LawError(f"`curvature(information=...)` must be 'expected' or 'observed', got {information!r}.",
                       rule="bad information", value=information)
    if kind == "huber" and information == "expected":
        raise LawError("`curvature(information='expected')`: the Huber objective is an M-estimator, not a likelihood, "
                       "so it has no expected information; its covariance is the sandwich of the observed Hessian.",
                       rule="bad information", value=information)
    use_sandwich = bool(sandwich) or kind == "huber"
    dof = n_eff - int(free.size) - len(getattr(objective, "extra_params", ()))
    s2 = math.nan
    factor = 1.0
    JWJ = (J * w_np[:, None]).T @ J
    if kind == "least_squares":
        M = 2.0 * JWJ if information == "expected" else H
        what = "2 J^T W J (Gauss-Newton)" if information == "expected" else "the exact Hessian H"
        if not use_sandwich:
            if dof <= 0:
                raise LawError(f"{r.source}: {n_eff} run(s) of non-zero weight for {free.size} free parameter(s): the "
                               f"residual variance RSS / (n - p) needs n > p.", source=r.source,
                               rule="fewer rows than parameters", value=n_eff)
            rss = float(np.sum(w_np * res * res))
            s2 = rss / dof
            factor = 2.0 * s2  # cov = s^2 (J^T W J)^-1 = 2 s^2 (2 J^T W J)^-1
            notes.append(f"least squares: cov = 2 s^2 M^-1 with M = {what}"
                         f"{' (= s^2 (J^T W J)^-1)' if information == 'expected' else ''}, s^2 = RSS / (n - p) = "
                         f"{rss:.6g} / {dof} = {s2:.6g}")
    elif kind == "huber_likelihood":
        sigma = float(np.exp(np.asarray(objective.log_sigma(jnp.asarray(res), w))))
        dl = float(objective.delta)
        if information == "expected":
            # E[psi(z)^2] = E[psi'(z)] = P(|z| <= delta) under the Huber density exp(-huber(z)) / Z
            m = math.sqrt(2 * math.pi) * math.erf(dl / math.sqrt(2)) / math.exp(objective.log_z)
            M = (m / sigma ** 2) * JWJ
            notes.append(f"Huber likelihood: cov = I^-1, I = E[psi(z)^2] / sigma^2 J^T W J the expected (Fisher) "
                         f"information of the Huber density (E[psi^2] = {m:.4g} for delta = {dl:g}; sigma = "
                         f"{sigma:.4g}; no cross term with sigma, the density being symmetric); the observed Hessian "
                         f"(information='observed') is 0 on the loss's linear arms and rests on the few residuals "
                         f"within delta * sigma of zero")
        else:
            M = H
            notes.append("Huber likelihood: cov = H^-1 (observed information of the NLL, sigma profiled out)")
            k_in = int(np.sum(live & (np.abs(res) <= dl * sigma)))
            if k_in < n_eff / 2:
                warns.append(f"only {k_in} of {n_eff} residuals lie within the Huber threshold (|r| <= delta * sigma = "
                             f"{dl * sigma:.3g}), where the NLL has curvature; the observed information rests on them "
                             f"and overstates the precision (information='expected' uses the Huber density's Fisher "
                             f"information).")
    else:
        M = H
    meat = None
    if use_sandwich:
        meat, sn = _meat(objective, kind, g, th, X, gy, w, res, profile=information == "observed")
        notes.append("sandwich: cov = M^-1 (sum_i g_i g_i^T) M^-1, M the "
                     + ("exact Hessian" if M is H else "expected information" if kind == "huber_likelihood"
                        else "Gauss-Newton 2 J^T W J")
                     + ", g_i the gradient of row i's weighted loss term" + (sn and f" ({sn})")
                     + ("; Huber is an M-estimator, not a likelihood, so H^-1 alone is not a covariance"
                        if kind == "huber" else ""))
    method = "sandwich" if use_sandwich else {
        ("huber_likelihood", "expected"): "expected information", ("huber_likelihood", "observed"): "inverse Hessian",
        ("least_squares", "expected"): "Gauss-Newton",
        ("least_squares", "observed"): "inverse Hessian"}[(kind, information)]

    # -- invert on the free, identified parameters, scaled to unit diagonal
    keep = [i for i in free if i not in flat]
    Mk = M[np.ix_(keep, keep)]
    dk = np.sqrt(np.abs(np.diag(Mk)))
    dk = np.where(dk > 0, dk, 1.0)
    Ms = Mk / np.outer(dk, dk)
    Ms = 0.5 * (Ms + Ms.T)
    lam, V = np.linalg.eigh(Ms) if len(keep) else (np.zeros(0), np.zeros((0, 0)))
    lam_max = float(np.max(np.abs(lam))) if lam.size else 0.0
    null = np.abs(lam) <= NULL_RTOL * lam_max
    cond = float(lam_max / np.min(np.abs(lam))) if lam.size and np.min(np.abs(lam)) > 0 else math.inf
    inv_s = (V[:, ~null] / lam[~null]) @ V[:, ~null].T
    Minv = inv_s / np.outer(dk, dk)
    if meat is not None:
        Bk = meat[np.ix_(keep, keep)]
        Ck = Minv @ Bk @ Minv
    else:
        Ck = factor * Minv
    C = np.zeros((p, p))
    C[np.ix_(keep, keep)] = Ck
    nan_int = set(flat)
    for j in np.flatnonzero(null):
        nan_int |= {keep[i] for i in np.flatnonzero(V[:, j] ** 2 > 1e-6)}
    for i in nan_int:
        C[i, :] = C[:, i] = math.nan

    # -- warnings
    def disp(idx) -> list[str]:  # internal indices -> the public names they move
        return list(dict.fromkeys(k for i in idx for k in public_names_moved(law, names[i], fit.internal)))

    Hf = H[np.ix_(keep, keep)]
    hd = np.sqrt(np.abs(np.diag(Hf)))
    hd = np.where(hd > 0, hd, 1.0)
    lam_h, V_h = np.linalg.eigh(0.5 * (Hf + Hf.T) / np.outer(hd, hd)) if len(keep) else (np.zeros(0), None)
    if lam_h.size and lam_h[0] < -NULL_RTOL * float(np.max(np.abs(lam_h))):
        dom = disp([keep[i] for i in _dominant(V_h[:, 0])])
        warns.append(f"the Hessian of the objective is not positive definite at the fit (smallest scaled eigenvalue "
                     f"{lam_h[0]:.3g}, along {', '.join(dom)}): the fit is not at a minimum, or the objective is not "
                     f"smooth there; the standard errors are not trustworthy.")
    if flat:
        warns.append(f"parameter(s) {', '.join(disp(flat))} not identified: the predictions do not move with them (a "
                     f"zero column of the Jacobian); their standard errors are NaN.")
    if null.any():
        dom = disp([keep[i] for j in np.flatnonzero(null) for i in _dominant(V[:, j])])
        warns.append(f"parameter(s) {', '.join(dom)} not identified: the curvature is ~0 along a combination of them "
                     f"(scaled eigenvalue <= {NULL_RTOL:g} of the largest); the data fix only that combination, "
                     f"and their standard errors are NaN.")
    elif cond > COND_LIMIT:
        dom = disp([keep[i] for i in _dominant(V[:, int(np.argmin(np.abs(lam)))])])
        warns.append(f"the curvature is ill-conditioned (condition number {cond:.3g} > {COND_LIMIT:g}), weakest along "
                     f"{', '.join(dom)}: the data barely separate these parameters, and the normal intervals are "
                     f"unreliable.")
    at_bound = []
    for i, q in enumerate(law.parameters()):
        if fixed[i]:
            continue
        for bnd in (q.lower, q.upper):
            if math.isfinite(bnd) and abs(theta[i] - bnd) <= BOUND_RTOL * max(1.0, abs(bnd)):
                at_bound.append(i)
    if at_bound:
        ab = disp(at_bound)
        warns.append(f"parameter(s) {', '.join(ab)} at a bound (within {BOUND_RTOL:g} relative): the normal interval "
                     f"is meaningless there (the estimate cannot move past the bound).")
    else:
        ab = []
    # a fit whose parameters are not at a stationary point of this objective (other runs, an early stop)
    # (not where a parameter sits at a bound: the gradient need not vanish there)
    if keep and not at_bound and not null.any() and lam_h.size and lam_h[0] > 0:
        try:
            step = np.linalg.solve(H[np.ix_(keep, keep)], grad[keep])
            se_k = np.sqrt(np.abs(np.diag(Ck)))
            rel = np.abs(step) / np.where(se_k > 0, se_k, np.inf)
            if np.max(rel) > 0.1:
                i = int(np.argmax(rel))
                warns.append(f"the fit's parameters are not at the minimum of this objective on these runs: a Newton "
                             f"step moves {', '.join(disp([keep[i]]))} by {rel[i]:.3g} standard errors.")
        except np.linalg.LinAlgError:
            pass

    # -- the delta method to the public parameters
    Dp, how = _public_jacobian(law, theta)
    pub_names = list(fit.params)
    Cz = np.where(np.isnan(C), 0.0, C)
    Cp = Dp @ Cz @ Dp.T
    bad_pub = [k for k in range(len(pub_names)) if any(Dp[k, i] != 0 for i in nan_int)]
    for k in bad_pub:
        Cp[k, :] = Cp[:, k] = math.nan
    Cp = np.where(np.isnan(Cp), np.nan, 0.5 * (Cp + Cp.T))
    notes.append(f"public parameters by the delta method, D C D^T, D = d public / d internal ({how})")
    if fit.fixed:
        notes.append(f"fixed parameter(s) {', '.join(fit.fixed)}: variance 0 (not part of the curvature)")
    notes.append(f"{method} covariance at the fit's optimum, {n_eff} runs, {free.size} free parameters; eigenvalues "
                 f"and condition number of the curvature matrix scaled to unit diagonal")
    for msg in warns:
        warnings.warn(f"curvature: {msg}", UserWarning, stacklevel=3)
    return Curvature(fit=fit, names=tuple(pub_names), estimates=dict(fit.params), covariance=Cp,
                     internal_names=tuple(names), internal_covariance=C, hessian=H, curvature_matrix=M,
                     eigenvalues=np.asarray(lam, dtype=np.float64), condition_number=cond, method=method,
                     objective=kind, level=float(level), n_obs=n_eff, dof=int(dof), scale=float(s2),
                     at_bound=tuple(ab), not_identified=tuple(dict.fromkeys(pub_names[k] for k in bad_pub)),
                     notes=tuple(notes), warnings=tuple(warns))


def _meat(objective, kind, g, th, X, gy, w, res, *, profile: bool) -> tuple[np.ndarray, str]:
    """sum_i g_i g_i^T over the rows' score vectors (internal parameters)."""
    if kind == "huber_likelihood" and profile:
        # row terms at fixed log sigma, then the scores corrected for sigma's profiling:
        # g_i - A_ts / A_ss g_si (the law's rows of the joint (theta, s) sandwich)
        s_hat = objective.log_sigma(jnp.asarray(res), w)
        p = th.shape[0]

        def rows(ts):
            t, s = ts[:p], ts[p]
            z = (g(t, X) - gy) * jnp.exp(-s)
            return w * (huber(z, objective.delta) + s + objective.log_z)

        ts = jnp.concatenate([th, jnp.atleast_1d(s_hat)])
        G = np.asarray(jax.jacfwd(rows)(ts), dtype=np.float64)
        A = np.asarray(jax.hessian(lambda v: jnp.sum(rows(v)))(ts), dtype=np.float64)
        Gc = G[:, :p] - np.outer(G[:, p], A[:p, p] / A[p, p])
        return Gc.T @ Gc, "the scores corrected for the profiled sigma"
    if kind == "huber_likelihood":
        # the expected information has no (theta, sigma) cross term: the scores at the fitted sigma
        sigma = jnp.exp(objective.log_sigma(jnp.asarray(res), w))

        def rows(t):
            return w * huber((g(t, X) - gy) / sigma, objective.delta)

        G = np.asarray(jax.jacfwd(rows)(th), dtype=np.float64)
        return G.T @ G, "at the fitted sigma"
    if kind == "huber":
        def rows(t):
            return w * huber(g(t, X) - gy, objective.delta)
    else:
        def rows(t):
            r = g(t, X) - gy
            return w * r * r
    G = np.asarray(jax.jacfwd(rows)(th), dtype=np.float64)
    return G.T @ G, ""


__all__ = ["Curvature", "curvature"]
