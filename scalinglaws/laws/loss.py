"""Loss laws in N (parameters) and D (training tokens).

All four are fitted in log space: each writes ``log L`` as a log-sum-exp of
linear terms in ``log N`` and ``log D`` so that nothing overflows for N, D up to
1e30, and positive coefficients are stored as logs (no bounds needed).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .._jax import jax, jnp
from .base import Law, Param, register

_LN = np.log


def _exp(x: float) -> float:
    """exp that returns inf (not OverflowError) for a diverged log-coefficient."""
    return math.exp(x) if x < 709.0 else math.inf


def _lse(*terms):
    """log(sum(exp(terms))), shifted by the elementwise maximum (written out: about 5x faster
    under vmap than jax.scipy.special.logsumexp over a stacked axis)."""
    terms = jnp.broadcast_arrays(*terms)
    m = terms[0]
    for t in terms[1:]:
        m = jnp.maximum(m, t)
    m = jax.lax.stop_gradient(jnp.where(jnp.isfinite(m), m, 0.0))
    return m + jnp.log(sum(jnp.exp(t - m) for t in terms))


def _linear_starts(logN: np.ndarray, logD: np.ndarray, y: np.ndarray, alphas, betas) -> np.ndarray:
    """Data-derived starts for E + A N^-alpha + B D^-beta.

    For each (alpha, beta) on a grid the law is linear in (E, A, B): solve that
    least-squares problem (columns normalised) and keep positive coefficients.
    These starts do not depend on the units of N and D, which is what makes the
    default fit robust when Hoffmann's raw-unit grid stalls (small ladders,
    bits-per-byte targets, N given in millions...).
    """
    al, be = (a.ravel() for a in np.meshgrid(np.asarray(alphas, float), np.asarray(betas, float), indexing="ij"))
    cols = np.stack([np.ones((len(al), len(logN))), np.exp(-al[:, None] * logN[None, :]),
                     np.exp(-be[:, None] * logD[None, :])], axis=2)  # (pairs, rows, 3)
    scale = np.abs(cols).max(axis=1, keepdims=True)
    # batched minimum-norm least squares (as lstsq with its default cut-off), one per (alpha, beta)
    pinv = np.linalg.pinv(cols / scale, rcond=np.finfo(float).eps * max(cols.shape[1:]))
    coef = np.einsum("gkn,n->gk", pinv, np.asarray(y, float)) / scale[:, 0, :]
    floor = 1e-6 * float(np.max(y))
    coef = np.maximum(coef, floor)
    E = np.maximum(np.minimum(coef[:, 0], 0.999 * float(np.min(y))), floor)  # E below the smallest loss
    return np.stack([np.log(coef[:, 1]), np.log(coef[:, 2]), np.log(E), al, be], axis=1)


def _exponent_starts(y: np.ndarray, design, grid, dims: int):
    """Data-derived starts for a law linear in its coefficients once its exponents are fixed.

    For each tuple of ``dims`` exponents from ``grid``, ``design(exponents)`` gives the (rows, k)
    columns; their least-squares coefficients (columns normalised) are returned with the tuple as
    ``[(exponents, coefficients), ...]``, finite ones only. The caller keeps those it can use.
    """
    y = np.asarray(y, float)
    out = []
    for exps in itertools.product(grid, repeat=dims):
        cols = design(exps)
        scale = np.abs(cols).max(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        coef = np.linalg.lstsq(cols / scale, y, rcond=None)[0] / scale
        if np.all(np.isfinite(coef)):
            out.append((exps, coef))
    return out


@register
@dataclass(frozen=True)
class Chinchilla(Law):
    """Chinchilla (Hoffmann et al. 2022, Approach 3): L = E + A/N^alpha + B/D^beta.

    Internal parameters (a, b, e, alpha, beta) with a = log A, b = log B,
    e = log E, so log L = LSE(a - alpha log N, b - beta log D, e). The default
    start grid is Hoffmann's 4,500 points (alpha, beta in {0, 0.5, ..., 2},
    e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25}), plus 64 starts solved
    from the data (``data_starts=True``).

    Hoffmann et al.'s unrounded parameters put the compute-optimal model for the Gopher
    budget (5.76e23 FLOPs) at about 40B parameters and 59 tokens per parameter:

    >>> import numpy as np, scalinglaws as sl
    >>> law = sl.laws.Chinchilla()
    >>> hoffmann = {"a": 6.0073404, "b": 6.0179186, "e": 0.5267228, "alpha": 0.33917084, "beta": 0.2849083}
    >>> best = sl.compute_optimal(law, flops=5.76e23, params=hoffmann)
    >>> round(best.params / 1e9, 1), round(best.tokens_per_param), round(best.loss, 3)
    (40.4, 59, 1.918)

    A fit of a noiseless isoFLOP sweep drawn from Epoch's parameters gives them back:

    >>> from scalinglaws import synthetic
    >>> fit = sl.fit(law, synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.0))
    >>> {k: round(v, 4) for k, v in fit.params.items()}
    {'E': 1.8172, 'A': 482.01, 'B': 2085.43, 'alpha': 0.3478, 'beta': 0.3658}
    """

    use_data_starts: bool = True

    name = "chinchilla"
    inputs = ("params", "tokens")
    target = "loss"

    def parameters(self):
        return (
            Param("a", grid=(0.0, 5.0, 10.0, 15.0, 20.0, 25.0), doc="log A"),
            Param("b", grid=(0.0, 5.0, 10.0, 15.0, 20.0, 25.0), doc="log B"),
            Param("e", grid=(-1.0, -0.5, 0.0, 0.5, 1.0), doc="log E"),
            Param("alpha", grid=(0.0, 0.5, 1.0, 1.5, 2.0), doc="exponent of N"),
            Param("beta", grid=(0.0, 0.5, 1.0, 1.5, 2.0), doc="exponent of D"),
        )

    def log_predict(self, p, X):
        return _lse(p["a"] - p["alpha"] * jnp.log(X["params"]),
                    p["b"] - p["beta"] * jnp.log(X["tokens"]), p["e"])

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def log_jacobian(self, theta, X):
        """(log L, d log L / d(a, b, e, alpha, beta)) in closed form."""
        lN, lD = jnp.log(X["params"]), jnp.log(X["tokens"])
        t1 = theta[0] - theta[3] * lN
        t2 = theta[1] - theta[4] * lD
        t3 = jnp.broadcast_to(theta[2], t1.shape)
        m = jnp.maximum(jnp.maximum(t1, t2), t3)
        e1, e2, e3 = jnp.exp(t1 - m), jnp.exp(t2 - m), jnp.exp(t3 - m)
        s = e1 + e2 + e3
        w1, w2, w3 = e1 / s, e2 / s, e3 / s
        return m + jnp.log(s), jnp.stack([w1, w2, w3, -w1 * lN, -w2 * lD], axis=-1)

    def public(self, p):
        return {"E": _exp(p["e"]), "A": _exp(p["a"]), "B": _exp(p["b"]),
                "alpha": float(p["alpha"]), "beta": float(p["beta"])}

    def from_public(self, q):
        if all(k in q for k in ("a", "b", "e", "alpha", "beta")):
            return {k: float(q[k]) for k in ("a", "b", "e", "alpha", "beta")}
        return {"a": math.log(q["A"]), "b": math.log(q["B"]), "e": math.log(q["E"]),
                "alpha": float(q["alpha"]), "beta": float(q["beta"])}

    def data_starts(self, X, y):
        if not self.use_data_starts:
            return None
        grid = (0.1, 0.2, 0.3, 0.4, 0.55, 0.75, 1.0, 1.4)
        return _linear_starts(np.log(X["params"]), np.log(X["tokens"]), np.asarray(y), grid, grid)

    def closed_form_optimum(self, p, flops):
        q = self.public(p)
        A, B, al, be = q["A"], q["B"], q["alpha"], q["beta"]
        G = (al * A / (be * B)) ** (1.0 / (al + be))
        c6 = np.asarray(flops, dtype=np.float64) / 6.0
        return G * c6 ** (be / (al + be)), c6 ** (al / (al + be)) / G

    def config(self):
        return {"use_data_starts": self.use_data_starts}


@register
@dataclass(frozen=True)
class Kaplan(Law):
    """Kaplan et al. 2020, eq. 1.5: L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D.

    Internal parameters (log_Nc, log_Dc, alpha_N, alpha_D); log L =
    alpha_D * LSE((alpha_N/alpha_D)(log N_c - log N), log D_c - log D).
    N counts non-embedding parameters in the paper.
    """

    name = "kaplan"
    inputs = ("params", "tokens")
    target = "loss"

    def parameters(self):
        return (
            Param("log_Nc", grid=tuple(_LN([1e11, 1e13, 1e15]).tolist()), doc="log N_c"),
            Param("log_Dc", grid=tuple(_LN([1e11, 1e13, 1e15]).tolist()), doc="log D_c"),
            Param("alpha_N", grid=(0.04, 0.08, 0.16, 0.3)),
            Param("alpha_D", grid=(0.04, 0.08, 0.16, 0.3)),
        )

    def log_predict(self, p, X):
        r = p["alpha_N"] / p["alpha_D"]
        return p["alpha_D"] * _lse(r * (p["log_Nc"] - jnp.log(X["params"])), p["log_Dc"] - jnp.log(X["tokens"]))

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def public(self, p):
        return {"N_c": _exp(p["log_Nc"]), "D_c": _exp(p["log_Dc"]),
                "alpha_N": float(p["alpha_N"]), "alpha_D": float(p["alpha_D"])}

    def from_public(self, q):
        if "log_Nc" in q:
            return {k: float(q[k]) for k in ("log_Nc", "log_Dc", "alpha_N", "alpha_D")}
        return {"log_Nc": math.log(q["N_c"]), "log_Dc": math.log(q["D_c"]),
                "alpha_N": float(q["alpha_N"]), "alpha_D": float(q["alpha_D"])}


@register
@dataclass(frozen=True)
class DataConstrained(Law):
    """Muennighoff et al. 2023: Chinchilla in effective data D' and parameters N'.

    L = E + A/N'^alpha + B/D'^beta with

    - U_D = min(unique_tokens, tokens): the unique data actually *seen*. A run that
      stops before exhausting its pool (tokens < unique_tokens) has seen only
      ``tokens`` unique tokens, so D' = D there (never more than the data seen);
    - R_D = D/U_D - 1 >= 0 (repeated epochs), D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*));
    - U_N = min(N, N_opt(U_D)), the compute-optimal size for U_D, and
      R_N = N/U_N - 1 >= 0 (the excess parameters), N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*)).

    N_opt(U_D) follows from U_D as in the paper: by default (``tokens_per_param=None``)
    from the law's own Chinchilla allocation, N_opt(U_D) = G (G U_D)^(beta/alpha) with
    G = (alpha A / (beta B))^(1/(alpha+beta)) (the N whose compute-optimal D is U_D);
    with a number, N_opt(U_D) = U_D / tokens_per_param (a fixed ratio such as 20).
    With the default, a run that repeats nothing and is not larger than compute-optimal
    has N' = N and D' = D: the law is then exactly Chinchilla.

    Needs the column ``unique_tokens``. Internal parameters: a, b, e, alpha, beta as in
    Chinchilla, plus log_RD = log R_D* and log_RN = log R_N*.

    >>> import scalinglaws as sl
    >>> law = sl.laws.DataConstrained()
    >>> q = {"E": 1.87, "A": 521.0, "B": 1488.0, "alpha": 0.353, "beta": 0.353, "R_D": 15.39, "R_N": 5.31}
    >>> p = law.from_public(q)
    >>> N_eff, D_eff = law.effective(p, {"params": 1e8, "tokens": 4e9, "unique_tokens": 1e9})
    >>> round(float(D_eff) / 1e9, 2)      # 4 epochs of 1e9 unique tokens count as ~3.73
    3.73
    >>> N_eff, D_eff = law.effective(p, {"params": 1e8, "tokens": 1e9, "unique_tokens": 1e12})
    >>> float(D_eff)                      # the pool is larger than the data seen: D' = D
    1000000000.0
    """

    tokens_per_param: float | None = None

    name = "data_constrained"
    inputs = ("params", "tokens", "unique_tokens")
    target = "loss"

    def __post_init__(self) -> None:
        t = self.tokens_per_param
        if t is not None and not (isinstance(t, (int, float)) and math.isfinite(t) and t > 0):
            raise ValueError(f"`DataConstrained(tokens_per_param=...)` must be None or a number > 0, got {t!r}.")

    def parameters(self):
        return (
            Param("a", grid=(2.0, 6.0, 10.0), doc="log A"),
            Param("b", grid=(2.0, 6.0, 10.0), doc="log B"),
            Param("e", grid=(0.0, 0.5), doc="log E"),
            Param("alpha", grid=(0.2, 0.35, 0.5)),
            Param("beta", grid=(0.2, 0.35, 0.5)),
            Param("log_RD", grid=tuple(_LN([5.0, 15.0, 50.0]).tolist()), doc="log R_D*"),
            Param("log_RN", grid=tuple(_LN([2.0, 5.0, 20.0]).tolist()), doc="log R_N*"),
        )

    def _log_n_opt(self, p, log_UD, tokens_per_param=None):
        """log N_opt(U_D): the compute-optimal N whose D* is U_D (see the class docstring)."""
        t = self.tokens_per_param if tokens_per_param is None else tokens_per_param
        if t is not None:
            return log_UD - math.log(t)
        al, be = p["alpha"], p["beta"]
        log_G = (jnp.log(al) + p["a"] - jnp.log(be) - p["b"]) / (al + be)
        return log_G + (be / al) * (log_G + log_UD)

    def effective(self, p, X, *, tokens_per_param=None):
        """(N', D') for inputs X (``params``, ``tokens``, ``unique_tokens``), with
        U_D = min(unique_tokens, tokens) (see the class docstring)."""
        N = jnp.asarray(X["params"], dtype=jnp.float64)
        D = jnp.asarray(X["tokens"], dtype=jnp.float64)
        U_D = jnp.minimum(jnp.asarray(X["unique_tokens"], dtype=jnp.float64), D)  # unique data actually seen
        R_D = jnp.maximum(D / U_D - 1.0, 0.0)
        rd = jnp.exp(p["log_RD"])
        D_eff = U_D * (1.0 + rd * (-jnp.expm1(-R_D / rd)))
        U_N = jnp.minimum(N, jnp.exp(self._log_n_opt(p, jnp.log(U_D), tokens_per_param)))
        R_N = jnp.maximum(N / U_N - 1.0, 0.0)
        rn = jnp.exp(p["log_RN"])
        N_eff = U_N * (1.0 + rn * (-jnp.expm1(-R_N / rn)))
        return N_eff, D_eff

    def log_predict(self, p, X):
        N_eff, D_eff = self.effective(p, X)
        return _lse(p["a"] - p["alpha"] * jnp.log(N_eff), p["b"] - p["beta"] * jnp.log(D_eff), p["e"])

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def public(self, p):
        return {"E": _exp(p["e"]), "A": _exp(p["a"]), "B": _exp(p["b"]),
                "alpha": float(p["alpha"]), "beta": float(p["beta"]),
                "R_D": _exp(p["log_RD"]), "R_N": _exp(p["log_RN"])}

    def from_public(self, q):
        if "log_RD" in q:
            return {n: float(q[n]) for n in self.param_names}
        return {"a": math.log(q["A"]), "b": math.log(q["B"]), "e": math.log(q["E"]),
                "alpha": float(q["alpha"]), "beta": float(q["beta"]),
                "log_RD": math.log(q["R_D"]), "log_RN": math.log(q["R_N"])}

    def data_starts(self, X, y):
        # effective data with the published R_D* = 15.39, R_N* = 5.31 as a first guess
        # (and a fixed 20 tokens per parameter for U_N, since A, B, alpha, beta are not known yet)
        p0 = {"log_RD": math.log(15.39), "log_RN": math.log(5.31)}
        N_eff, D_eff = (np.asarray(v) for v in self.effective(p0, {k: jnp.asarray(v) for k, v in X.items()},
                                                               tokens_per_param=self.tokens_per_param or 20.0))
        base = _linear_starts(np.log(N_eff), np.log(D_eff), np.asarray(y), (0.15, 0.3, 0.5, 0.8), (0.15, 0.3, 0.5, 0.8))
        tail = np.tile([p0["log_RD"], p0["log_RN"]], (len(base), 1))
        return np.concatenate([base, tail], axis=1)

    def config(self):
        return {"tokens_per_param": self.tokens_per_param}


@register
@dataclass(frozen=True)
class OverTrain(Law):
    """Gadre et al. 2024: L(C, M) = E + (a M^eta + b M^-eta) C^-eta, with C = 6ND
    and M = D/N the tokens per parameter.

    Internal parameters (e, log_a, log_b, eta); log L =
    LSE(e, log_a + eta log M - eta log C, log_b - eta log M - eta log C).
    At fixed C the loss is lowest at M* = (b/a)^(1/(2 eta)), a constant
    tokens-per-parameter ratio (closed form).

    >>> import scalinglaws as sl
    >>> q = {"E": 1.6, "a": 120.0, "b": 900.0, "eta": 0.15}
    >>> best = sl.compute_optimal(sl.laws.OverTrain(), flops=[1e21, 1e23], params=q)
    >>> [round(float(m), 2) for m in best.tokens_per_param]      # (900 / 120)^(1 / 0.3)
    [825.79, 825.79]
    """

    name = "overtrain"
    inputs = ("params", "tokens")
    target = "loss"

    def parameters(self):
        return (
            Param("e", grid=(-0.5, 0.0, 0.5, 1.0), doc="log E"),
            Param("log_a", grid=(0.0, 5.0, 10.0, 15.0)),
            Param("log_b", grid=(0.0, 5.0, 10.0, 15.0)),
            Param("eta", grid=(0.05, 0.1, 0.2, 0.3)),
        )

    def log_predict(self, p, X):
        lM = jnp.log(X["tokens"]) - jnp.log(X["params"])
        lC = jnp.log(6.0) + jnp.log(X["tokens"]) + jnp.log(X["params"])
        return _lse(p["e"], p["log_a"] + p["eta"] * (lM - lC), p["log_b"] - p["eta"] * (lM + lC))

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def public(self, p):
        return {"E": _exp(p["e"]), "a": _exp(p["log_a"]), "b": _exp(p["log_b"]), "eta": float(p["eta"])}

    def from_public(self, q):
        if "log_a" in q:
            return {n: float(q[n]) for n in self.param_names}
        return {"e": math.log(q["E"]), "log_a": math.log(q["a"]), "log_b": math.log(q["b"]), "eta": float(q["eta"])}

    def closed_form_optimum(self, p, flops):
        M = math.exp((p["log_b"] - p["log_a"]) / (2.0 * p["eta"]))
        C = np.asarray(flops, dtype=np.float64)
        N = np.sqrt(C / (6.0 * M))
        return N, M * N
