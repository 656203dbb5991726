"""Loss laws with architecture axes: the model's shape (Bian et al. 2025a/b) and parallel streams
(Chen et al. 2025). REFERENCE.md sections 8 and 15.4/15.5.

:class:`ArchitectureConditional` (Bian, Yu, Venkataraman, Park 2025, "Scaling Laws Meet Model
Architecture") calibrates a reference loss L_opt(N, D) by the shape of the model, with
x = d_model / sqrt(N_non_embedding) and r = N_mlp / N_attn:

    multiplicative   L = (a0 + a1 log x + a2 / x) (b0 + b1 log r + b2 / r) L_opt
    additive         L = (a0 + a1 log x + a2 / x) + (b1 log r + b2 / r) + L_opt

Each factor c0 + c1 log x + c2 / x has one stationary point, x* = c2 / c1 (from c1/x - c2/x^2 = 0):
a minimum when c1 > 0 and c2 > 0, so :meth:`ArchitectureConditional.optimal_shape` is closed form.

The reference loss is either an input column ``reference_loss`` (``reference=None``: the user
supplies, e.g., a Chinchilla fit's prediction at each row's N and D) or, with ``reference=`` a
Chinchilla fit or its public parameters (E, A, B, alpha, beta), computed inside the law from
the ``params`` and ``tokens`` columns. The parameters of L_opt are then fixed constants of the
law, not fitted (Bian's two-step procedure: step 1 fits L_opt, step 2 calibrates it).

:class:`AspectRatio` (Bian, Yan, Venkataraman 2025, "Scaling Inference-Efficient Language
Models"): L = (E + A/N^alpha + B/D^beta)(1 + eps R^gamma) with R = d_model / n_layers.

:class:`ParallelScaling` (Chen et al. 2025, ParScale): L = (A 1e9 / (N (k ln P + 1)))^alpha + E with
P parallel streams.

Column names: ``d_over_sqrt_n``, ``mlp_attention_ratio`` (as :func:`scalinglaws.architecture.
derive_architecture` returns them), ``reference_loss``, ``aspect_ratio`` and ``parallel_streams``
are canonical run columns (runs.py), so reading runs already rejects non-positive values
(and parallel streams below 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .._jax import jnp
from ..errors import LawError
from .base import Law, Param, register
from .loss import _exp, _lse, _linear_starts

__all__ = ["ArchitectureConditional", "AspectRatio", "ParallelScaling"]

_CHINCHILLA_PUBLIC = ("E", "A", "B", "alpha", "beta")
_FORMS = ("multiplicative", "additive")


def _reference_pairs(reference: Any) -> tuple[tuple[str, float], ...] | None:
    """``reference=`` as sorted (name, value) pairs of Chinchilla's public parameters (hashable,
    JSON-friendly); accepts None, a mapping, a Fit of a Chinchilla law, or the pairs themselves."""
    if reference is None:
        return None
    where = "`ArchitectureConditional(reference=...)`"
    law = getattr(reference, "law", None)
    if law is not None and hasattr(reference, "params"):  # a Fit (duck-typed: fitting is a layer above)
        if getattr(law, "name", None) != "chinchilla":
            raise LawError(f"{where}: the reference fit must be of law 'chinchilla', got {law.name!r}.",
                           rule="reference law", value=law.name)
        reference = reference.params
    if isinstance(reference, (tuple, list)):
        try:
            reference = dict(reference)
        except (TypeError, ValueError):
            raise LawError(f"{where}: expected Chinchilla parameters {{E, A, B, alpha, beta}} or a Chinchilla "
                           f"fit, got {reference!r}.", rule="bad reference", value=repr(reference)) from None
    if not isinstance(reference, Mapping):
        raise LawError(f"{where}: expected Chinchilla parameters {{E, A, B, alpha, beta}} or a Chinchilla fit, "
                       f"got {type(reference).__name__}.", rule="bad reference", value=type(reference).__name__)
    missing = [k for k in _CHINCHILLA_PUBLIC if k not in reference]
    if missing:
        raise LawError(f"{where}: the reference needs Chinchilla's public parameters {list(_CHINCHILLA_PUBLIC)}; "
                       f"missing {missing} (got {sorted(reference)}).", rule="missing parameter", value=missing)
    out = []
    for k in _CHINCHILLA_PUBLIC:
        v = float(reference[k])
        if not math.isfinite(v) or (k in ("E", "A", "B") and v <= 0):
            raise LawError(f"{where}: reference parameter {k} = {v} must be finite" +
                           (" and > 0." if k in ("E", "A", "B") else "."), rule="bad reference", value=v)
        out.append((k, v))
    return tuple(out)


def _factor_optimum(c1: float, c2: float, x_name: str, c1_name: str, c2_name: str) -> float:
    if not c1 > 0:
        raise LawError(f"`ArchitectureConditional.optimal_shape`: {c1_name} = {c1} must be > 0 for the factor "
                       f"c0 + c1 log {x_name} + c2/{x_name} to have a minimum (with {c1_name} <= 0 it falls "
                       f"without bound or its stationary point is a maximum).", rule="no minimum", value=c1)
    if not c2 > 0:
        raise LawError(f"`ArchitectureConditional.optimal_shape`: {c2_name} = {c2} must be > 0 for the factor "
                       f"c0 + c1 log {x_name} + c2/{x_name} to have a minimum at {x_name} > 0 (its stationary point "
                       f"is {x_name} = {c2_name}/{c1_name}).", rule="no minimum", value=c2)
    return c2 / c1


@register
@dataclass(frozen=True)
class ArchitectureConditional(Law):
    """Bian et al. 2025b: a reference loss calibrated by shape, x = d/sqrt(N) and r = MLP/attention.

    multiplicative: L = (a0 + a1 log x + a2/x)(b0 + b1 log r + b2/r) L_opt;
    additive: L = (a0 + a1 log x + a2/x) + (b1 log r + b2/r) + L_opt (no b0: it would add to a0).

    Inputs ``d_over_sqrt_n``, ``mlp_attention_ratio`` and either ``reference_loss``
    (``reference=None``) or ``params`` and ``tokens`` (``reference=`` a Chinchilla fit or its
    public parameters, fixed inside the law). Internal parameters are the public ones.

    The multiplicative form is invariant under (a0, a1, a2) -> c (a0, a1, a2), (b0, b1, b2) ->
    (b0, b1, b2) / c: only products are identified, so fit it with one parameter fixed (e.g.
    ``fixed={"b0": ...}``) or read the identified quantities (predictions, ``optimal_shape``,
    a_i b0 and b_j / b0). Bian's published coefficients:

    >>> law = ArchitectureConditional()
    >>> s = law.optimal_shape({"a0": 2.697, "a1": 0.0974, "a2": 0.0078, "b0": 0.3870, "b1": 0.0063, "b2": 0.0065})
    >>> round(s["d_over_sqrt_n"], 3), round(s["mlp_attention_ratio"], 3)
    (0.08, 1.032)
    """

    form: str = "multiplicative"
    reference: Any = field(default=None)

    name = "architecture_conditional"
    target = "loss"

    def __post_init__(self) -> None:
        if self.form not in _FORMS:
            raise LawError(f"`ArchitectureConditional(form=...)`: unknown form {self.form!r}; choose one of "
                           f"{', '.join(map(repr, _FORMS))}.", rule="unknown form", value=self.form)
        object.__setattr__(self, "reference", _reference_pairs(self.reference))

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        ref = ("reference_loss",) if self.reference is None else ("params", "tokens")
        return ("d_over_sqrt_n", "mlp_attention_ratio") + ref

    @property
    def reference_params(self) -> dict[str, float] | None:
        """Chinchilla's public parameters of L_opt, or None when L_opt is the ``reference_loss`` column."""
        return None if self.reference is None else dict(self.reference)

    def parameters(self):
        a = (
            Param("a0", grid=(0.5, 1.0, 2.0), doc="shape factor in x = d/sqrt(N): constant"),
            Param("a1", grid=(0.0, 0.1), doc="shape factor in x: coefficient of log x"),
            Param("a2", grid=(0.0, 0.01), doc="shape factor in x: coefficient of 1/x"),
        )
        if self.form == "multiplicative":
            return a + (
                Param("b0", grid=(0.5, 1.0), doc="factor in r = MLP/attention: constant"),
                Param("b1", grid=(0.0, 0.01), doc="factor in r: coefficient of log r"),
                Param("b2", grid=(0.0, 0.01), doc="factor in r: coefficient of 1/r"),
            )
        a = (Param("a0", grid=(-0.5, 0.0, 0.5), doc="shape term in x = d/sqrt(N): constant"),) + a[1:]
        return a + (
            Param("b1", grid=(0.0, 0.01), doc="term in r = MLP/attention: coefficient of log r"),
            Param("b2", grid=(0.0, 0.01), doc="term in r: coefficient of 1/r"),
        )

    def reference_loss(self, X: Mapping[str, Any]):
        """L_opt at each row (JAX): the ``reference_loss`` column, or Chinchilla at (params, tokens)."""
        if self.reference is None:
            return X["reference_loss"]
        q = dict(self.reference)
        return (q["E"] + q["A"] * jnp.exp(-q["alpha"] * jnp.log(X["params"]))
                + q["B"] * jnp.exp(-q["beta"] * jnp.log(X["tokens"])))

    def shape_factor(self, p: Mapping[str, Any], x):
        """a0 + a1 log x + a2 / x (JAX)."""
        return p["a0"] + p["a1"] * jnp.log(x) + p["a2"] / x

    def ratio_factor(self, p: Mapping[str, Any], r):
        """b0 + b1 log r + b2 / r (multiplicative) or b1 log r + b2 / r (additive) (JAX)."""
        t = p["b1"] * jnp.log(r) + p["b2"] / r
        return p["b0"] + t if self.form == "multiplicative" else t

    def predict(self, p, X):
        fx = self.shape_factor(p, X["d_over_sqrt_n"])
        fr = self.ratio_factor(p, X["mlp_attention_ratio"])
        ref = self.reference_loss(X)
        return fx * fr * ref if self.form == "multiplicative" else fx + fr + ref

    def optimal_shape(self, params: Mapping[str, float]) -> dict[str, float]:
        """{"d_over_sqrt_n": a2/a1, "mlp_attention_ratio": b2/b1}: the loss-minimising shape at fixed N, D.

        Raises LawError when a factor has no minimum at a positive argument (a1 <= 0, a2 <= 0,
        b1 <= 0 or b2 <= 0). In the multiplicative form each factor must also stay positive for
        its minimum to minimise the loss; a negative factor (or L_opt) would turn it into a maximum,
        which also raises.
        """
        q = {k: float(v) for k, v in self.from_public(params).items()}
        x = _factor_optimum(q["a1"], q["a2"], "x", "a1", "a2")
        r = _factor_optimum(q["b1"], q["b2"], "r", "b1", "b2")
        if self.form == "multiplicative":
            fx = q["a0"] + q["a1"] * math.log(x) + q["a2"] / x
            fr = q["b0"] + q["b1"] * math.log(r) + q["b2"] / r
            if not (fx > 0 and fr > 0):
                raise LawError(f"`ArchitectureConditional.optimal_shape`: at the factors' minima the shape factor is "
                               f"{fx:.6g} and the ratio factor {fr:.6g}; both must be > 0 for their minima to "
                               f"minimise L = (shape)(ratio) L_opt (a negative factor turns the other's minimum "
                               f"into a maximum).", rule="no minimum", value=(fx, fr))
        return {"d_over_sqrt_n": x, "mlp_attention_ratio": r}

    def data_starts(self, X, y):
        x, r = np.asarray(X["d_over_sqrt_n"], float), np.asarray(X["mlp_attention_ratio"], float)
        if self.reference is None:
            ref = np.asarray(X["reference_loss"], float)
        else:
            q = dict(self.reference)
            ref = q["E"] + q["A"] * np.asarray(X["params"], float) ** -q["alpha"] + \
                q["B"] * np.asarray(X["tokens"], float) ** -q["beta"]
        y = np.asarray(y, float)
        Fx = np.stack([np.ones_like(x), np.log(x), 1.0 / x], axis=1)
        Fr = np.stack([np.log(r), 1.0 / r], axis=1)
        if self.form == "additive":  # linear: y - L_opt = a0 + a1 log x + a2/x + b1 log r + b2/r
            coef = np.linalg.lstsq(np.concatenate([Fx, Fr], axis=1), y - ref, rcond=None)[0]
            return coef[None, :]
        # bilinear: alternate least squares on y / L_opt = (Fx a)(Fr1 b), with b0 normalised to 1
        Fr1 = np.concatenate([np.ones_like(r)[:, None], Fr], axis=1)
        t = y / ref
        b = np.array([1.0, 0.0, 0.0])
        for _ in range(20):
            g = Fr1 @ b
            a = np.linalg.lstsq(Fx * g[:, None], t, rcond=None)[0]
            h = Fx @ a
            b = np.linalg.lstsq(Fr1 * h[:, None], t, rcond=None)[0]
            if b[0] != 0 and np.isfinite(b).all():
                a, b = a * b[0], b / b[0]
        rows = [np.concatenate([a, b])]
        return np.asarray(rows) if np.isfinite(rows[0]).all() else None

    def config(self) -> dict[str, Any]:
        return {"form": self.form, "reference": self.reference_params}


@register
@dataclass(frozen=True)
class AspectRatio(Law):
    """Bian et al. 2025a: L = (E + A/N^alpha + B/D^beta)(1 + eps R^gamma), R = d_model / n_layers.

    Internal parameters a = log A, b = log B, e = log E, alpha, beta, log_eps = log eps, gamma;
    public E, A, B, alpha, beta, eps, gamma. log L = LSE(a - alpha log N, b - beta log D, e) +
    softplus(log_eps + gamma log R). Inputs ``params``, ``tokens`` and ``aspect_ratio`` (R =
    d_model / n_layers), or with ``from_shape=True`` ``params``, ``tokens``, ``hidden_size`` and
    ``n_layers`` (R computed inside the law). The paper counts N with untied embeddings and ties
    alpha = beta = gamma; this law fits them free (tie them by ``fixed=`` if wanted).
    """

    from_shape: bool = False

    name = "aspect_ratio"
    target = "loss"

    @property
    def inputs(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("params", "tokens") + (("hidden_size", "n_layers") if self.from_shape else ("aspect_ratio",))

    def _log_ratio(self, X, xp=jnp):
        if self.from_shape:
            return xp.log(X["hidden_size"]) - xp.log(X["n_layers"])
        return xp.log(X["aspect_ratio"])

    def parameters(self):
        return (
            Param("a", grid=(5.0, 10.0), doc="log A"),
            Param("b", grid=(5.0, 10.0), doc="log B"),
            Param("e", grid=(0.0, 0.5), doc="log E"),
            Param("alpha", grid=(0.3, 0.6), doc="exponent of N"),
            Param("beta", grid=(0.3, 0.6), doc="exponent of D"),
            Param("log_eps", grid=(math.log(1e-3), math.log(1e-2)), doc="log eps"),
            Param("gamma", grid=(0.3, 0.6), doc="exponent of the aspect ratio R"),
        )

    def log_predict(self, p, X):
        base = _lse(p["a"] - p["alpha"] * jnp.log(X["params"]), p["b"] - p["beta"] * jnp.log(X["tokens"]), p["e"])
        s = p["log_eps"] + p["gamma"] * self._log_ratio(X)
        return base + jnp.logaddexp(0.0, s)  # log(1 + eps R^gamma)

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def public(self, p):
        return {"E": _exp(p["e"]), "A": _exp(p["a"]), "B": _exp(p["b"]), "alpha": float(p["alpha"]),
                "beta": float(p["beta"]), "eps": _exp(p["log_eps"]), "gamma": float(p["gamma"])}

    def from_public(self, q):
        names = self.param_names
        if all(k in q for k in names):
            return {k: float(q[k]) for k in names}
        pub = ("E", "A", "B", "alpha", "beta", "eps", "gamma")
        missing = [k for k in pub if k not in q]
        if missing:
            raise LawError(f"law {self.name!r} needs parameter(s) {missing}; got {sorted(q)}.",
                           rule="missing parameter")
        for k in ("E", "A", "B", "eps"):
            if not float(q[k]) > 0:
                raise LawError(f"law {self.name!r}: {k} must be > 0, got {q[k]}.", rule="not positive", value=q[k])
        return {"a": math.log(q["A"]), "b": math.log(q["B"]), "e": math.log(q["E"]), "alpha": float(q["alpha"]),
                "beta": float(q["beta"]), "log_eps": math.log(q["eps"]), "gamma": float(q["gamma"])}

    def data_starts(self, X, y):
        lN, lD = (np.log(np.asarray(X[k], float)) for k in ("params", "tokens"))
        lR = self._log_ratio({k: np.asarray(v, float) for k, v in X.items()}, xp=np)
        y = np.asarray(y, float)
        grid = (0.2, 0.35, 0.5, 0.75)
        rows = []
        for le in (math.log(1e-3), math.log(1e-2)):
            for g in (0.3, 0.6):
                base = _linear_starts(lN, lD, y / (1.0 + np.exp(le + g * lR)), grid, grid)
                rows.append(np.concatenate([base, np.tile([[le, g]], (len(base), 1))], axis=1))
        return np.concatenate(rows, axis=0)

    def config(self) -> dict[str, Any]:
        return {"from_shape": self.from_shape}


@register
@dataclass(frozen=True)
class ParallelScaling(Law):
    """Chen et al. 2025 (ParScale): L = (A 1e9 / (N (k ln P + 1)))^alpha + E with P parallel streams.

    A is in units of 1e9 parameters, as the paper's table (N counts non-embedding parameters, P >= 1).
    Internal parameters log_A = log A, alpha, k (>= 0), e = log E; public A, alpha, k, E.
    log L = LSE(alpha (log_A + log 1e9 - log N - log(k ln P + 1)), e). Inputs ``params`` and
    ``parallel_streams``.
    """

    name = "parallel_scaling"
    inputs = ("params", "parallel_streams")
    target = "loss"

    def parameters(self):
        return (
            Param("log_A", grid=(math.log(0.01), math.log(0.1), math.log(1.0)), doc="log A (A in 1e9 parameters)"),
            Param("alpha", grid=(0.1, 0.2, 0.4), lower=0.0, doc="exponent"),
            Param("k", grid=(0.2, 0.5), lower=0.0, doc="gain per log stream"),
            Param("e", grid=(-0.5, 0.0, 0.5), doc="log E"),
        )

    def log_predict(self, p, X):
        lg = jnp.log(p["k"] * jnp.log(X["parallel_streams"]) + 1.0)
        return _lse(p["alpha"] * (p["log_A"] + math.log(1e9) - jnp.log(X["params"]) - lg), p["e"])

    def predict(self, p, X):
        return jnp.exp(self.log_predict(p, X))

    def public(self, p):
        return {"A": _exp(p["log_A"]), "alpha": float(p["alpha"]), "k": float(p["k"]), "E": _exp(p["e"])}

    def from_public(self, q):
        if all(k in q for k in self.param_names):
            return {k: float(q[k]) for k in self.param_names}
        missing = [k for k in ("A", "alpha", "k", "E") if k not in q]
        if missing:
            raise LawError(f"law {self.name!r} needs parameter(s) {missing}; got {sorted(q)}.",
                           rule="missing parameter")
        for k in ("A", "E"):
            if not float(q[k]) > 0:
                raise LawError(f"law {self.name!r}: {k} must be > 0, got {q[k]}.", rule="not positive", value=q[k])
        return {"log_A": math.log(q["A"]), "alpha": float(q["alpha"]), "k": float(q["k"]), "e": math.log(q["E"])}
