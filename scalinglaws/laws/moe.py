"""Mixture-of-experts laws (REFERENCE.md sections 15.2 and 15.3).

:class:`MixtureOfExperts`: Clark et al. 2022, "Unified Scaling Laws for Routed Language Models"
(arXiv 2202.01169), in base-10 logs as Krajewski et al. rewrite it:

    log10 L = a log10 N + b log10 Ehat + c log10 N log10 Ehat + d
    1/Ehat  = 1 / (E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max

N is the dense base model's parameter count, E the number of experts (E = 1 is the dense
model). Ehat saturates: Ehat(1) = E_start and Ehat -> E_max as E -> inf, so past E_max more
experts stop helping. The gain from routing, d log10 L / d log10 Ehat = b + c log10 N, vanishes
at N_cutoff = 10^(-b/c) (:meth:`MixtureOfExperts.routing_cutoff`; b < 0 < c).

:class:`FineGrainedMoE`: Krajewski et al. 2024, "Scaling Laws for Fine-Grained Mixture of
Experts" (arXiv 2402.07871):

    L = c + (g / G^gamma + a) / N^alpha + b / D^beta

N total non-embedding parameters, D tokens, G = d_ff / d_expert the granularity (the number
of experts is G E for a fixed expansion E, 64 in their main fit). With G -> inf it is Chinchilla
with A = a; g / G^gamma is what coarse experts lose.

Columns: ``params``, ``experts`` (canonical; read_runs rejects E < 1), ``tokens`` and
``granularity`` (canonical; must be > 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .._jax import jnp
from ..errors import LawError
from .base import Law, Param, register
from .loss import _exp, _exponent_starts, _lse

__all__ = ["MixtureOfExperts", "FineGrainedMoE", "CLARK_2022", "KRAJEWSKI_2024"]

_LN10 = math.log(10.0)

#: Clark et al. 2022, Table 3 as quoted in REFERENCE.md 15.2 (a secondary source) [S]
CLARK_2022 = {
    "S-BASE": {"a": -0.082, "b": -0.108, "c": 0.009, "d": 1.104, "E_start": 1.847, "E_max": 314.478},
    "RL-R": {"a": -0.083, "b": -0.126, "c": 0.012, "d": 1.111, "E_start": 1.880, "E_max": 469.982},
    "HASH": {"a": -0.087, "b": -0.136, "c": 0.012, "d": 1.157, "E_start": 4.175, "E_max": 477.741},
}
#: Krajewski et al. 2024, the MoE fit with E = 64 (REFERENCE.md 15.3)
KRAJEWSKI_2024 = {"a": 18.1, "alpha": 0.115, "b": 30.8, "beta": 0.147, "g": 2.1, "gamma": 0.58, "c": 0.47}


def _positive(law: str, q: Mapping[str, float], names) -> None:
    for k in names:
        if not float(q[k]) > 0:
            raise LawError(f"law {law!r}: {k} must be > 0, got {q[k]}.", rule="not positive", value=q[k])


def _missing(law: str, q: Mapping[str, float], names) -> None:
    missing = [k for k in names if k not in q]
    if missing:
        raise LawError(f"law {law!r} needs parameter(s) {missing}; got {sorted(q)}.", rule="missing parameter")


@register
@dataclass(frozen=True)
class MixtureOfExperts(Law):
    """Clark et al. 2022: log10 L = a lg N + b lg Ehat + c lg N lg Ehat + d, Ehat saturating in E.

    1/Ehat = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max. Internal parameters a, b, c, d,
    log_E_start = ln E_start and log_dE = ln(E_max - E_start) (so that E_max > E_start > 0);
    public a, b, c, d, E_start, E_max. Inputs ``params`` (the dense base model's N) and
    ``experts`` (E >= 1).

    With S-BASE's coefficients routing stops helping near N = 10^(0.108/0.009) = 1e12:

    >>> law = MixtureOfExperts()
    >>> f"{law.routing_cutoff(CLARK_2022['S-BASE']):.2e}"
    '1.00e+12'
    """

    name = "mixture_of_experts"
    inputs = ("params", "experts")
    target = "loss"

    def parameters(self):
        return (
            Param("a", grid=(-0.1, -0.05), doc="slope of log10 L in log10 N"),
            Param("b", grid=(-0.15, -0.05), doc="slope of log10 L in log10 Ehat"),
            Param("c", grid=(0.0, 0.01), doc="interaction log10 N log10 Ehat"),
            Param("d", grid=(0.5, 1.0), doc="constant of log10 L"),
            Param("log_E_start", grid=(math.log(2.0),), doc="ln E_start (Ehat at E = 1)"),
            Param("log_dE", grid=(math.log(100.0), math.log(400.0)), doc="ln(E_max - E_start)"),
        )

    def effective_experts(self, p: Mapping[str, Any], experts):
        """Ehat (JAX) from internal parameters."""
        es = jnp.exp(p["log_E_start"])
        em = es + jnp.exp(p["log_dE"])
        offset = 1.0 / (1.0 / es - 1.0 / em)
        return 1.0 / (1.0 / (experts - 1.0 + offset) + 1.0 / em)

    def log_predict(self, p, X):
        lg_n = jnp.log10(X["params"])
        lg_e = jnp.log10(self.effective_experts(p, X["experts"]))
        return _LN10 * (p["a"] * lg_n + p["b"] * lg_e + p["c"] * lg_n * lg_e + p["d"])

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def public(self, p):
        es = _exp(p["log_E_start"])
        return {"a": float(p["a"]), "b": float(p["b"]), "c": float(p["c"]), "d": float(p["d"]),
                "E_start": es, "E_max": es + _exp(p["log_dE"])}

    def from_public(self, q):
        if all(k in q for k in self.param_names):
            return {k: float(q[k]) for k in self.param_names}
        _missing(self.name, q, ("a", "b", "c", "d", "E_start", "E_max"))
        _positive(self.name, q, ("E_start",))
        es, em = float(q["E_start"]), float(q["E_max"])
        if not em > es:
            raise LawError(f"law {self.name!r}: E_max = {em} must exceed E_start = {es} (Ehat rises from E_start "
                           f"at E = 1 towards E_max).", rule="E_max not above E_start", value=em)
        return {"a": float(q["a"]), "b": float(q["b"]), "c": float(q["c"]), "d": float(q["d"]),
                "log_E_start": math.log(es), "log_dE": math.log(em - es)}

    def data_starts(self, X, y):
        """For each (E_start, E_max) on a grid log10 L is linear in (a, b, c, d): solve it."""
        lg_n = np.log10(np.asarray(X["params"], float))
        e = np.asarray(X["experts"], float)
        t = np.log10(np.asarray(y, float))
        rows = []
        for es in (1.5, 2.0, 4.0):
            for em in (50.0, 200.0, 500.0):
                lg_e = np.log10(1.0 / (1.0 / (e - 1.0 + 1.0 / (1.0 / es - 1.0 / em)) + 1.0 / em))
                cols = np.stack([lg_n, lg_e, lg_n * lg_e, np.ones_like(lg_n)], axis=1)
                coef = np.linalg.lstsq(cols, t, rcond=None)[0]
                if np.all(np.isfinite(coef)):
                    rows.append([*coef, math.log(es), math.log(em - es)])
        return np.asarray(rows) if rows else None

    def routing_cutoff(self, params: Mapping[str, float]) -> float:
        """N_cutoff = 10^(-b/c): the base-model size where b + c log10 N = 0 and routing stops
        lowering the loss. Raises LawError unless b < 0 < c."""
        q = self.public(self.from_public(params))
        if not (q["b"] < 0 < q["c"]):
            raise LawError(f"`MixtureOfExperts.routing_cutoff`: needs b < 0 < c (routing helps, less so as N "
                           f"grows); got b = {q['b']}, c = {q['c']}.", rule="no cutoff", value=(q["b"], q["c"]))
        return 10.0 ** (-q["b"] / q["c"])


@register
@dataclass(frozen=True)
class FineGrainedMoE(Law):
    """Krajewski et al. 2024: L = c + (g/G^gamma + a)/N^alpha + b/D^beta, G the granularity.

    Internal parameters log_a, log_b, log_c, log_g (logs of the coefficients), alpha, beta,
    gamma; public a, b, c, g, alpha, beta, gamma. log L = LSE(log_c, LSE(log_g - gamma log G,
    log_a) - alpha log N, log_b - beta log D). Inputs ``params`` (total non-embedding N),
    ``tokens`` and ``granularity`` (G = d_ff / d_expert).
    """

    name = "fine_grained_moe"
    inputs = ("params", "tokens", "granularity")
    target = "loss"

    def parameters(self):
        return (
            Param("log_a", grid=(1.0, 3.0), doc="log a"),
            Param("log_b", grid=(1.0, 3.0), doc="log b"),
            Param("log_c", grid=(-1.0, 0.0), doc="log c (the irreducible loss)"),
            Param("log_g", grid=(0.0, 1.0), doc="log g"),
            Param("alpha", grid=(0.1, 0.3), doc="exponent of N"),
            Param("beta", grid=(0.1, 0.3), doc="exponent of D"),
            Param("gamma", grid=(0.3, 0.8), doc="exponent of the granularity G"),
        )

    def log_predict(self, p, X):
        lg = jnp.log(X["granularity"])
        coef = _lse(p["log_g"] - p["gamma"] * lg, p["log_a"])
        return _lse(p["log_c"], coef - p["alpha"] * jnp.log(X["params"]), p["log_b"] - p["beta"] * jnp.log(X["tokens"]))

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def public(self, p):
        return {"a": _exp(p["log_a"]), "b": _exp(p["log_b"]), "c": _exp(p["log_c"]), "g": _exp(p["log_g"]),
                "alpha": float(p["alpha"]), "beta": float(p["beta"]), "gamma": float(p["gamma"])}

    def from_public(self, q):
        if all(k in q for k in self.param_names):
            return {k: float(q[k]) for k in self.param_names}
        _missing(self.name, q, ("a", "b", "c", "g", "alpha", "beta", "gamma"))
        _positive(self.name, q, ("a", "b", "c", "g"))
        return {"log_a": math.log(q["a"]), "log_b": math.log(q["b"]), "log_c": math.log(q["c"]),
                "log_g": math.log(q["g"]), "alpha": float(q["alpha"]), "beta": float(q["beta"]),
                "gamma": float(q["gamma"])}

    def data_starts(self, X, y):
        """For each (alpha, beta, gamma) on a grid the law is linear in (c, a, g, b): solve it."""
        n, d, g = (np.asarray(X[k], float) for k in ("params", "tokens", "granularity"))
        design = lambda e: np.stack([np.ones_like(n), n ** -e[0], g ** -e[2] * n ** -e[0], d ** -e[1]], axis=1)
        rows = [[math.log(c[1]), math.log(c[3]), math.log(c[0]), math.log(c[2]), *e]
                for e, c in _exponent_starts(y, design, (0.1, 0.2, 0.35, 0.6), 3) if np.all(c > 0)]
        return np.asarray(rows) if rows else None

    def config(self) -> dict[str, Any]:
        return {}
