"""The vocabulary law of Tao et al. 2024 ("Scaling Laws with Vocabulary", arXiv 2407.13623),
REFERENCE.md section 15.1.

    L_u = -E + A1 / N_nv^alpha1 + A2 / N_v^alpha2 + B / D^beta        (their Eq. 8)

with N_nv the non-vocabulary parameters, N_v = V d the vocabulary parameters (the output layer
only, V the vocabulary size, d the hidden size) and D the training tokens. ``L_u`` is their
unigram-normalised loss, ``-(1/T) sum_i ln[p(w_i | w_<i) / p(w_i)]``: it is usually negative
(hence ``-E``), and lives in the canonical column ``normalized_loss``, which, unlike ``loss``,
may take any sign.

Units. The authors fitted with N_nv and N_v in millions and D in billions of tokens, and their
coefficients (A1 = 1.831, A2 = 0.196, B = 2.124, E = 5.533, alpha1 = beta = 0.447,
alpha2 = 0.671) hold only in those units. This law uses the same units internally (columns are
raw counts; the law divides by 1e6 and 1e9), so the published coefficients apply as printed.

Data as characters. The paper measures data in characters H and converts them to tokens with
D = H f(V), f(V) = a (ln V)^2 + b ln V + c (a = 0.00639222, b = -0.15811069, c = 1.20470122,
V capped at 200,000 as in their code): about 0.25 tokens per character at V = 32K.
``Vocabulary(data="characters")`` reads a ``characters`` column and does this conversion.
(Their fitting script evaluates f at V/1000 rather than V, a units slip that changes B; this
law uses f at V as their paper and their own ``H_to_D`` helper define it.)

Optimal vocabulary (their App. A.2): at a FLOP budget C with D = C / (6 (N_nv + V d)), the V
that minimises L_u solves dL_u/dV = 0. Multiplying by V,

    h(V) = beta B D^-beta V d / (N_nv + V d) - alpha2 A2 N_v^-alpha2 = 0     (units as above)

Both terms increase with V (D falls as V grows; N_v^-alpha2 falls), so h is increasing, negative
as V -> 0 and positive for large V: one root, found by bisection in ln V
(:meth:`Vocabulary.optimal_vocab`). It depends on A2, alpha2, B and beta only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .._jax import jnp
from .._numerics import bisect
from ..errors import LawError
from .base import Law, Param, register
from .loss import _exp, _exponent_starts
from .moe import _missing, _positive

__all__ = ["Vocabulary", "tokens_per_character", "TAO_2024"]

#: Tao et al. 2024, Eq. 8 fitted on all runs (REFERENCE.md 15.1), in the law's units
TAO_2024 = {"A1": 1.831, "A2": 0.196, "B": 2.124, "E": 5.533, "alpha1": 0.447, "alpha2": 0.671, "beta": 0.447}

_N_UNIT = 1e6  # N_nv and N_v in millions (the authors' fitting units)
_D_UNIT = 1e9  # D in billions of tokens
_F_COEF = (0.00639222, -0.15811069, 1.20470122)  # f(V) = a (ln V)^2 + b ln V + c, from the authors' code
_V_CAP = 200_000.0
_DATA = ("tokens", "characters")
_PUBLIC = ("A1", "A2", "B", "E", "alpha1", "alpha2", "beta")


def tokens_per_character(vocab_size, xp=np):
    """Tao et al.'s f(V) = a (ln V)^2 + b ln V + c, tokens per character, V capped at 200K."""
    lv = xp.log(xp.minimum(vocab_size, _V_CAP))
    a, b, c = _F_COEF
    return a * lv * lv + b * lv + c


@register
@dataclass(frozen=True)
class Vocabulary(Law):
    """Tao et al. 2024: L_u = -E + A1/N_nv^alpha1 + A2/N_v^alpha2 + B/D^beta (N in 1e6, D in 1e9).

    ``params`` holds the non-vocabulary parameters N_nv; ``vocab_params`` the vocabulary
    parameters N_v = V d (``from_shape=True``: ``vocab_size`` and ``hidden_size`` instead); data
    as ``tokens`` (``data="tokens"``) or ``characters`` with D = H f(V) (``data="characters"``,
    which also reads ``vocab_size``). The target is ``normalized_loss`` (may be negative), or
    any other column through ``target=``.

    Internal parameters log_A1, log_A2, log_B (logs of the coefficients), E (any sign), alpha1,
    alpha2, beta (>= 0); public A1, A2, B, E, alpha1, alpha2, beta. The paper ties alpha1 = beta:
    ``tie_exponents=True`` does the same (no alpha1 parameter; it reports alpha1 = beta); by default
    they are fitted free. The target may be negative, so the default objective is least
    squares on the raw value (the paper: Huber, delta 1e-3, on the raw value:
    ``objective=sl.Huber(space="linear")``).

    With the published coefficients, the optimal vocabulary of a 7B model (d = 4096) at
    7.1e21 FLOPs is about 60K (their Table 1, approach 3):

    >>> law = Vocabulary()
    >>> round(float(law.optimal_vocab(TAO_2024, non_vocab_params=7e9, hidden_size=4096, flops=7.1e21)), -3)
    60000.0
    """

    data: str = "tokens"
    from_shape: bool = False
    target: str = "normalized_loss"  # type: ignore[misc]
    tie_exponents: bool = False

    name = "vocabulary"
    positive = False

    def __post_init__(self) -> None:
        if self.data not in _DATA:
            raise LawError(f"`Vocabulary(data=...)`: unknown data measure {self.data!r}; choose one of "
                           f"{', '.join(map(repr, _DATA))}.", rule="unknown data measure", value=self.data)
        if not isinstance(self.target, str) or not self.target:
            raise LawError(f"`Vocabulary(target=...)`: a column name, got {self.target!r}.", rule="bad target",
                           value=self.target)

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        vocab = ("vocab_size", "hidden_size") if self.from_shape else ("vocab_params",)
        if self.data == "tokens":
            return ("params",) + vocab + ("tokens",)
        return ("params",) + vocab + ("characters",) + (() if self.from_shape else ("vocab_size",))

    def parameters(self):
        ps = (
            Param("log_A1", grid=(0.0, 1.0), doc="log A1 (N_nv in millions)"),
            Param("log_A2", grid=(-2.0, 0.0), doc="log A2 (N_v in millions)"),
            Param("log_B", grid=(0.0, 1.0), doc="log B (D in billions of tokens)"),
            Param("E", grid=(2.0, 5.0), doc="the constant, subtracted: -E"),
            Param("alpha1", grid=(0.3, 0.6), lower=0.0, doc="exponent of N_nv"),
            Param("alpha2", grid=(0.3, 0.6), lower=0.0, doc="exponent of N_v"),
            Param("beta", grid=(0.3, 0.6), lower=0.0, doc="exponent of D" + (" (and of N_nv)" if self.tie_exponents else "")),
        )
        return tuple(q for q in ps if not (self.tie_exponents and q.name == "alpha1"))

    def _alpha1(self, p):
        return p["beta"] if self.tie_exponents else p["alpha1"]

    # -- the three scaled inputs: N_nv / 1e6, N_v / 1e6, D / 1e9 ---------------------------------
    def scaled_inputs(self, X: Mapping[str, Any], xp=jnp):
        """(N_nv, N_v, D) in the law's units (millions, millions, billions of tokens)."""
        nnv = X["params"] / _N_UNIT
        nv = (X["vocab_size"] * X["hidden_size"] if self.from_shape else X["vocab_params"]) / _N_UNIT
        if self.data == "tokens":
            d = X["tokens"] / _D_UNIT
        else:
            d = X["characters"] * tokens_per_character(X["vocab_size"], xp=xp) / _D_UNIT
        return nnv, nv, d

    def predict(self, p, X):
        nnv, nv, d = self.scaled_inputs(X)
        return (-p["E"] + jnp.exp(p["log_A1"] - self._alpha1(p) * jnp.log(nnv))
                + jnp.exp(p["log_A2"] - p["alpha2"] * jnp.log(nv))
                + jnp.exp(p["log_B"] - p["beta"] * jnp.log(d)))

    def public(self, p):
        return {"A1": _exp(p["log_A1"]), "A2": _exp(p["log_A2"]), "B": _exp(p["log_B"]), "E": float(p["E"]),
                "alpha1": float(self._alpha1(p)), "alpha2": float(p["alpha2"]), "beta": float(p["beta"])}

    def from_public(self, q):
        if all(k in q for k in self.param_names):
            return {k: float(q[k]) for k in self.param_names}
        _missing(self.name, q, tuple(k for k in _PUBLIC if not (self.tie_exponents and k == "alpha1")))
        _positive(self.name, q, ("A1", "A2", "B"))
        out = {"log_A1": math.log(q["A1"]), "log_A2": math.log(q["A2"]), "log_B": math.log(q["B"]),
               "E": float(q["E"]), "alpha1": float(q.get("alpha1", q["beta"])), "alpha2": float(q["alpha2"]),
               "beta": float(q["beta"])}
        if self.tie_exponents:
            if out.pop("alpha1") != out["beta"]:
                raise LawError(f"law {self.name!r} with tie_exponents=True: alpha1 = {q['alpha1']} must equal "
                               f"beta = {q['beta']} (or be left out).", rule="tied exponents differ",
                               value=q["alpha1"])
        return out

    def data_starts(self, X, y):
        """For each exponent triple on a grid the law is linear in (E, A1, A2, B): solve it by least
        squares (columns normalised) and keep the triples whose coefficients come out positive."""
        nnv, nv, d = (np.asarray(v, float) for v in self.scaled_inputs(
            {k: np.asarray(v, float) for k, v in X.items()}, xp=np))
        design = lambda e: np.stack([-np.ones_like(nnv), nnv ** -e[0], nv ** -e[1], d ** -e[2]], axis=1)
        rows = [[math.log(c[1]), math.log(c[2]), math.log(c[3]), c[0], *e]
                for e, c in _exponent_starts(y, design, (0.2, 0.35, 0.5, 0.7), 3) if np.all(c[1:] > 0)
                if not self.tie_exponents or e[0] == e[2]]
        if self.tie_exponents:
            rows = [r[:4] + r[5:] for r in rows]  # drop alpha1 (= beta)
        return np.asarray(rows) if rows else None

    def optimal_vocab(self, params: Mapping[str, float], *, non_vocab_params, hidden_size, flops):
        """The vocabulary size V that minimises L_u at a FLOP budget C, with D = C / (6 (N_nv + V d))
        (Tao et al., App. A.2; see the module docstring). Arrays broadcast; returns a float array.
        Raises LawError for non-positive inputs or coefficients."""
        q = self.public(self.from_public(params))
        for k in ("alpha2", "beta"):
            if not q[k] > 0:
                raise LawError(f"`Vocabulary.optimal_vocab`: {k} = {q[k]} must be > 0 for an interior optimum.",
                               rule="no minimum", value=q[k])
        args = {"non_vocab_params": non_vocab_params, "hidden_size": hidden_size, "flops": flops}
        arrs = {}
        for k, v in args.items():
            a = np.asarray(v, dtype=np.float64)
            bad = ~(np.isfinite(a) & (a > 0))
            if bad.any():
                raise LawError(f"`Vocabulary.optimal_vocab({k}=...)`: must be finite and > 0, got "
                               f"{a[bad].ravel()[0]!r}.", rule="not positive", value=float(a[bad].ravel()[0]))
            arrs[k] = a
        nnv, dm, c = np.broadcast_arrays(arrs["non_vocab_params"], arrs["hidden_size"], arrs["flops"])
        nnv, dm, c = (jnp.asarray(v / _N_UNIT if i == 0 else v) for i, v in enumerate((nnv, dm, c)))
        A2, a2, B, b = q["A2"], q["alpha2"], q["B"], q["beta"]

        def h(log_v):  # V dL_u/dV, in the law's units
            vd = jnp.exp(log_v) * dm / _N_UNIT
            dd = c / (6.0 * (nnv + vd) * _N_UNIT) / _D_UNIT
            return b * B * dd ** -b * vd / (nnv + vd) - a2 * A2 * vd ** -a2

        lo, hi = jnp.full(nnv.shape, 0.0), jnp.full(nnv.shape, math.log(1e12))
        if bool(jnp.any(h(hi) <= 0)):
            raise LawError("`Vocabulary.optimal_vocab`: no optimum below V = 1e12 (the budget is too large for "
                           "the coefficients).", rule="no minimum")
        return np.exp(np.asarray(bisect(h, lo, hi, 200)))

    def config(self) -> dict[str, Any]:
        return {"data": self.data, "from_shape": self.from_shape, "target": self.target,
                "tie_exponents": self.tie_exponents}
