"""The `Law` abstraction: named parameters, constraints, a start grid and a pure
JAX prediction. A law holds no fitting state.

A law works on *internal* parameters (the ones the optimiser moves, e.g.
``a = log A`` for Chinchilla) and shows *public* parameters to users
(``A``). ``public``/``from_public`` convert between the two; by default they
are the same.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np

from .._jax import jax, jnp, x64
from ..errors import LawError

Array = Any


# Law methods that never touch JAX (names, conversions, grids): left unwrapped by Law.__init_subclass__
_NOT_WRAPPED = frozenset({"parameters", "public", "from_public", "config", "describe", "start_grid", "unpack"})


@dataclass(frozen=True)
class Param:
    """One internal parameter of a law.

    ``grid`` lists the start values used by the default start grid (the
    Cartesian product over all parameters); ``lower``/``upper`` are hard
    bounds, enforced by a smooth change of variables inside the solver.
    """

    name: str
    grid: tuple[float, ...] = (0.0,)
    lower: float = -math.inf
    upper: float = math.inf
    doc: str = ""

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise ValueError(
                f"`Param({self.name!r})`: lower bound {self.lower} must be below upper bound {self.upper}."
            )
        if len(self.grid) == 0:
            raise ValueError(f"`Param({self.name!r})`: the start grid must hold at least one value.")

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lower) or math.isfinite(self.upper)


class Law:
    """Base class of all laws. Subclasses are frozen dataclasses that define

    - ``name`` (registry key), ``inputs`` (canonical columns read), ``target``
      (the column predicted: ``"loss"`` or ``"accuracy"`` ...),
    - ``parameters()`` -> tuple of :class:`Param` (internal parameters),
    - ``predict(p, X)``: pure JAX; ``p`` maps internal names to scalars,
      ``X`` maps input names to 1-D arrays.

    Optional: ``log_predict`` (for laws with a stable log form),
    ``log_jacobian`` (analytic Jacobian of ``log_predict`` w.r.t. the internal
    parameter vector), ``public``/``from_public``, ``data_starts`` (extra
    starts derived from the data), ``closed_form_optimum``.
    """

    def __init_subclass__(cls, **kwargs):
        # a law's formulas compute in float64 when a user calls them directly, as inside a fit
        super().__init_subclass__(**kwargs)
        for meth, f in list(cls.__dict__.items()):
            if meth.startswith("_") or meth in _NOT_WRAPPED or not inspect.isfunction(f):
                continue
            if not getattr(f, "_x64", False):
                wrapped = x64(f)
                wrapped._x64 = True
                setattr(cls, meth, wrapped)

    name: ClassVar[str] = "law"
    inputs: ClassVar[tuple[str, ...]] = ()
    target: ClassVar[str] = "loss"
    positive: ClassVar[bool] = True  # predictions are > 0 (log residuals allowed)

    # -- to be defined by subclasses -------------------------------------------------
    def parameters(self) -> tuple[Param, ...]:
        raise NotImplementedError

    def predict(self, p: Mapping[str, Array], X: Mapping[str, Array]) -> Array:
        raise NotImplementedError

    # -- defaults ----------------------------------------------------------------------
    def log_predict(self, p: Mapping[str, Array], X: Mapping[str, Array]) -> Array:
        return jnp.log(self.predict(p, X))

    log_jacobian: ClassVar[Callable | None] = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.parameters())

    @property
    def public_names(self) -> tuple[str, ...]:
        return tuple(self.public({n: 1.0 for n in self.param_names}).keys())

    def public(self, p: Mapping[str, float]) -> dict[str, float]:
        """Internal -> user-facing parameters (plain floats)."""
        return {k: float(v) for k, v in p.items()}

    def from_public(self, q: Mapping[str, float]) -> dict[str, float]:
        """User-facing -> internal parameters."""
        missing = [n for n in self.param_names if n not in q]
        if missing:
            raise LawError(f"law {self.name!r} needs parameter(s) {missing}; got {sorted(q)}.", rule="missing parameter")
        return {n: float(q[n]) for n in self.param_names}

    def unpack(self, theta: Array) -> dict[str, Array]:
        return {n: theta[i] for i, n in enumerate(self.param_names)}

    def data_starts(self, X: Mapping[str, np.ndarray], y: np.ndarray) -> np.ndarray | None:
        """Extra starts computed from the data (rows of internal parameters)."""
        return None

    def start_grid(self, X: Mapping[str, np.ndarray] | None = None, y: np.ndarray | None = None) -> np.ndarray:
        """The default starts: the Cartesian product of each parameter's grid,
        followed by any data-derived starts."""
        grid = np.array(list(itertools.product(*(q.grid for q in self.parameters()))), dtype=np.float64)
        if X is not None and y is not None:
            extra = self.data_starts(X, y)
            if extra is not None and len(extra):
                grid = np.concatenate([grid, np.asarray(extra, dtype=np.float64)], axis=0)
        return grid

    def closed_form_optimum(self, p: Mapping[str, float], flops: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(N*, D*) under C = 6ND in closed form, or None when there is none."""
        return None

    def config(self) -> dict[str, Any]:
        """Constructor arguments, for saving a fit as JSON."""
        if dataclasses.is_dataclass(self):
            return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return {}

    def describe(self) -> str:
        return (self.__doc__ or self.name).strip().splitlines()[0]


@functools.lru_cache(maxsize=128)
def _jitted_predict(law: "Law"):
    return jax.jit(law.predict)


@x64
def predict_jit(law: "Law", p: Mapping[str, Array], X: Mapping[str, Array]) -> Array:
    """``law.predict`` under a cached ``jax.jit`` (laws are hashable frozen dataclasses);
    falls back to the plain function for unhashable laws."""
    try:
        f = _jitted_predict(law)
    except TypeError:
        f = law.predict
    return f(p, X)


# ---------------------------------------------------------------------------------------
# Registry of built-in laws (for `load_fit`, the CLI and `scalinglaws laws`)

REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    REGISTRY[cls.name] = cls
    return cls


def law_from_name(name: str, **kwargs: Any) -> Law:
    key = name.lower().replace("-", "_")
    if key not in REGISTRY:
        raise LawError(
            f"unknown law {name!r}; the built-in laws are: {', '.join(sorted(REGISTRY))}.",
            rule="unknown law",
            value=name,
        )
    return REGISTRY[key](**kwargs)


# ---------------------------------------------------------------------------------------
# Custom laws from a user's JAX function


@dataclass(frozen=True, eq=False)
class Custom(Law):
    """A law from a user's pure JAX function ``fn(p, X) -> prediction``.

    ``params`` is a sequence of :class:`Param` (or of names, meaning an
    unbounded parameter starting at 0). ``inputs`` are the column names
    ``fn`` reads from ``X``; ``target`` is the column it predicts.

    ``public_map`` (optional) maps the internal parameters the solver moves to the ones a
    report shows, and ``internal_map`` back (e.g. fit ``log_a`` but report ``a``); without them
    the two are the same.

    >>> law = Custom(lambda p, X: p["b1"] * (1 - jnp.exp(-p["b2"] * X["x"])),
    ...              params=[Param("b1", grid=(500.0,)), Param("b2", grid=(1e-4,))],
    ...              inputs=("x",), target="y", positive=False)
    >>> law.public({"b1": 2.0, "b2": 0.5})
    {'b1': 2.0, 'b2': 0.5}
    >>> logged = Custom(lambda p, X: jnp.exp(p["log_a"]) * X["x"], params=["log_a"], inputs=("x",),
    ...                 public_map=lambda p: {"a": math.exp(p["log_a"])},
    ...                 internal_map=lambda q: {"log_a": math.log(q["a"])})
    >>> logged.public({"log_a": 0.0}), logged.from_public({"a": math.e})
    ({'a': 1.0}, {'log_a': 1.0})
    """

    fn: Callable = field(default=None)  # type: ignore[assignment]
    params: Sequence[Param | str] = ()
    inputs: tuple[str, ...] = ()  # type: ignore[misc]
    target: str = "y"  # type: ignore[misc]
    positive: bool = False  # type: ignore[misc]
    name: str = "custom"  # type: ignore[misc]
    public_map: Callable | None = None
    internal_map: Callable | None = None

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise LawError("`Custom(fn=...)`: fn must be a callable fn(p, X) -> predictions.", rule="custom law")
        ps = tuple(q if isinstance(q, Param) else Param(str(q)) for q in self.params)
        if not ps:
            raise LawError("`Custom(params=...)`: a custom law needs at least one parameter.", rule="custom law")
        names = [q.name for q in ps]
        if len(set(names)) != len(names):
            raise LawError(f"`Custom(params=...)`: parameter names must be unique, got {names}.", rule="custom law")
        object.__setattr__(self, "params", ps)
        object.__setattr__(self, "inputs", tuple(self.inputs))

    def parameters(self) -> tuple[Param, ...]:
        return self.params  # type: ignore[return-value]

    def predict(self, p, X):
        return self.fn(p, X)

    def public(self, p):
        if self.public_map is None:
            return super().public(p)
        return {k: float(v) for k, v in self.public_map(dict(p)).items()}

    def from_public(self, q):
        if all(n in q for n in self.param_names) or self.internal_map is None:
            return super().from_public(q)
        out = self.internal_map(dict(q))
        return {n: float(out[n]) for n in self.param_names}

    def config(self) -> dict[str, Any]:
        return {"params": [dataclasses.asdict(q) for q in self.params], "inputs": list(self.inputs),
                "target": self.target, "positive": self.positive, "name": self.name}
