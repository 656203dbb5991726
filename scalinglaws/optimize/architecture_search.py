"""Architecture search and architectures in the total budget.

- :class:`ArchitectureSpace` and :meth:`ArchitectureSpace.candidates`: the shapes of a given
  non-embedding size N over widths d_model (multiples of ``width_multiple``), depths, MLP-to-attention
  ratios r (or head counts) and GQA groups g = n_heads / n_kv_heads.
- :func:`architecture_search`: among those candidates (or a list of :class:`Architecture`), the
  one of lowest predicted loss that meets a decode-throughput or cost-per-token target, or the
  fastest that meets a loss target; every candidate's loss, throughput and cost, and the
  loss-throughput Pareto set (:class:`ArchitectureSearch`).
- :func:`best_architecture_config` (also ``best_config(..., architectures=[...])``): choose the
  architecture, the training tokens D and the samples (or tokens) per query together under one
  total budget, in FLOPs or in dollars, charging each query its architecture's own inference cost
  (:class:`ArchitectureConfig`).

Inference cost of one query (prompt of P tokens, k samples of T generated tokens each; the
prompt is read once and its KV cache shared by the samples):

- FLOPs: ``prefill_flops(P)`` (when P > 0) plus k T decode steps, the t-th attending to P + t
  tokens: ``k sum_{t=1..T} decode_flops_per_token(P + t) = k [2 N_dec T + 2 n_layers d_attn (T P +
  T (T + 1) / 2)]`` with ``N_dec = Architecture.decode_params``. GQA does not change FLOPs (the
  attention product runs over every query head); it changes bytes.
- dollars: the decode roofline (:func:`~scalinglaws.decode_throughput`, a model, not a
  measurement) with ``batch`` sequences decoding together: the t-th token of a sample costs
  ``price_per_hour / 3600 / batch`` times the step time at context P + t, summed over the T
  tokens; the prefill at ``utilization`` times the peak FLOP/s; training ``6 N D`` at
  ``train_utilization`` times the peak. The KV-cache bytes (and so GQA) enter here.

Loss laws read the columns an architecture gives: ``params`` (N: non-embedding by default,
``count="total"`` for the count with embeddings), ``tokens``, ``d_over_sqrt_n``,
``mlp_attention_ratio``, ``aspect_ratio`` (d_model / n_layers), ``hidden_size``, ``n_layers``,
``n_heads``, ``n_kv_heads``, ``ffn_size``, ``vocab_size``, and ``reference_loss`` when given.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import jax.numpy as jnp
import numpy as np

from .._jax import x64
from .._report import Reported, format_rows
from ..architecture import HARDWARE, Architecture, DecodeThroughput, Hardware, decode_throughput
from ..errors import LawError
from ..laws.base import Law
from ._resolve import resolve_law
from .inference_aware import as_array

__all__ = ["ArchitectureSpace", "ArchitectureSearch", "architecture_search", "pareto_mask",
           "ArchitectureConfig", "best_architecture_config", "query_flops", "query_dollars"]

_COUNTS = ("non_embedding", "total")


# ---------------------------------------------------------------------------------------
# small validators

def _ints(fn: str, name: str, value: Any, *, multiple: int = 1) -> tuple[int, ...]:
    vals = np.atleast_1d(np.asarray(value, dtype=object)).ravel().tolist()
    if not vals:
        raise LawError(f"`{fn}({name}=...)` must hold at least one value.", rule="empty", value=value)
    out = []
    for v in vals:
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
        if not ok or not math.isfinite(float(v)) or float(v) != math.floor(float(v)) or float(v) < 1:
            raise LawError(f"`{fn}({name}=...)` must hold positive integers, got {v!r}.",
                           rule="not a positive integer", value=v)
        if int(v) % multiple:
            raise LawError(f"`{fn}({name}=...)`: {int(v)} is not a multiple of width_multiple={multiple} "
                           f"(widths are kept to multiples of {multiple} for the accelerator's tiles).",
                           rule="not a multiple", value=int(v))
        out.append(int(v))
    return tuple(out)


def _hardware(fn: str, hardware: Any) -> Hardware:
    if isinstance(hardware, Hardware):
        return hardware
    if isinstance(hardware, str) and hardware in HARDWARE:
        return HARDWARE[hardware]
    raise LawError(f"`{fn}(hardware=...)` must be a preset ({', '.join(HARDWARE)}) or a Hardware, got {hardware!r}.",
                   rule="unknown hardware", value=repr(hardware))


def _optional_positive(fn: str, name: str, value: Any) -> float | None:
    return None if value is None else float(as_array(name, value, fn))


# ---------------------------------------------------------------------------------------
# the space of shapes at one size

@dataclass(frozen=True)
class ArchitectureSpace:
    """Shapes to search at a given non-embedding size N.

    Each candidate is one (d_model, n_layers, r or n_heads, g) with g = n_heads / n_kv_heads
    (``gqa``, Bian et al.'s "GQA"): n_heads is either given (``n_heads=``; every g must divide every
    head count) or derived from the target ratio r (``mlp_attention_ratio=``): the head count whose
    attention, ``2 d_model head_dim (n_heads + n_heads / g)`` per layer, is nearest ``N / (n_layers
    (1 + r))``, rounded to a multiple of g. ffn_size then takes the rest of N, rounded to a multiple
    of ``width_multiple``. Candidates whose realised N is more than ``tolerance`` (relative) from
    the target, or that leave no room for an MLP, are left out and counted in the notes.
    """

    d_model: Sequence[int]
    n_layers: Sequence[int]
    mlp_attention_ratio: Sequence[float] | None = None
    n_heads: Sequence[int] | None = None
    gqa: Sequence[int] = (1,)
    head_dim: int = 64
    width_multiple: int = 64
    vocab_size: int = 32000
    gated_mlp: bool = True
    tied_embeddings: bool = False
    tolerance: float = 0.05

    def __post_init__(self) -> None:
        fn = "ArchitectureSpace"
        (m,) = _ints(fn, "width_multiple", self.width_multiple)
        object.__setattr__(self, "width_multiple", m)
        object.__setattr__(self, "d_model", _ints(fn, "d_model", self.d_model, multiple=m))
        object.__setattr__(self, "n_layers", _ints(fn, "n_layers", self.n_layers))
        object.__setattr__(self, "gqa", _ints(fn, "gqa", self.gqa))
        (hd,) = _ints(fn, "head_dim", self.head_dim)
        (v,) = _ints(fn, "vocab_size", self.vocab_size)
        object.__setattr__(self, "head_dim", hd)
        object.__setattr__(self, "vocab_size", v)
        if (self.mlp_attention_ratio is None) == (self.n_heads is None):
            raise LawError(f"`{fn}`: give mlp_attention_ratio= (n_heads derived from r) or n_heads= (r follows), "
                           "exactly one of them.", rule="bad argument")
        if self.n_heads is not None:
            heads = _ints(fn, "n_heads", self.n_heads)
            for g in self.gqa:
                bad = [h for h in heads if h % g]
                if bad:
                    raise LawError(f"`{fn}(gqa=...)`: GQA group {g} (query heads per KV head) does not divide "
                                   f"n_heads={bad[0]}; n_kv_heads = n_heads / g must be a whole number.",
                                   rule="n_heads not divisible by gqa", value=g)
            object.__setattr__(self, "n_heads", heads)
        else:
            r = np.atleast_1d(as_array("mlp_attention_ratio", self.mlp_attention_ratio, fn)).ravel()
            object.__setattr__(self, "mlp_attention_ratio", tuple(float(x) for x in r))
        tol = float(as_array("tolerance", self.tolerance, fn))
        object.__setattr__(self, "tolerance", tol)

    def candidates(self, non_embedding_params: float) -> tuple[tuple[Architecture, ...], tuple[str, ...]]:
        """(the distinct candidate architectures of about ``non_embedding_params`` weights, notes)."""
        fn = "ArchitectureSpace.candidates"
        N = float(as_array("non_embedding_params", non_embedding_params, fn))
        hd, m = self.head_dim, self.width_multiple
        mats = 3 if self.gated_mlp else 2
        out: dict[tuple, Architecture] = {}
        no_mlp = off = 0
        for d in self.d_model:
            for L in self.n_layers:
                for g in self.gqa:
                    if self.n_heads is not None:
                        head_counts = self.n_heads
                    else:
                        head_counts = []
                        for r in self.mlp_attention_ratio:
                            h = N / (L * (1.0 + r)) / (2.0 * d * hd * (1.0 + 1.0 / g))
                            head_counts.append(max(g, int(round(h / g)) * g))
                    for h in head_counts:
                        attn = 2 * d * hd * (h + h // g)
                        ffn = int(round((N / L - attn) / (mats * d) / m)) * m
                        if ffn < m:
                            no_mlp += 1
                            continue
                        a = Architecture(d_model=d, n_layers=L, ffn_size=ffn, n_heads=h, n_kv_heads=h // g,
                                         head_dim=hd, vocab_size=self.vocab_size, gated_mlp=self.gated_mlp,
                                         tied_embeddings=self.tied_embeddings)
                        if abs(a.non_embedding_params / N - 1.0) > self.tolerance:
                            off += 1
                            continue
                        out.setdefault((d, L, ffn, h, h // g), a)
        notes = []
        if no_mlp:
            notes.append(f"{no_mlp} shape(s) left out: attention alone exceeds N = {N:.4g} (no room for an MLP "
                         f"of at least {m} wide)")
        if off:
            notes.append(f"{off} shape(s) left out: rounding put their N more than {100 * self.tolerance:g}% from "
                         f"{N:.4g}")
        if not out:
            raise LawError(f"`{fn}`: no shape in the space has about {N:.4g} non-embedding parameters "
                           f"({'; '.join(notes) or 'empty space'}).", rule="no candidate", value=N)
        return tuple(out.values()), tuple(notes)


# ---------------------------------------------------------------------------------------
# loss of architectures under a law

def _columns(archs: Sequence[Architecture], tokens: np.ndarray, count: str,
             reference_loss: float | None) -> dict[str, np.ndarray]:
    f = lambda get: np.array([float(get(a)) for a in archs], dtype=np.float64)  # noqa: E731
    cols = {
        "params": f((lambda a: a.non_embedding_params) if count == "non_embedding" else (lambda a: a.params)),
        "d_over_sqrt_n": f(lambda a: a.d_over_sqrt_n),
        "mlp_attention_ratio": f(lambda a: a.mlp_attention_ratio),
        "aspect_ratio": f(lambda a: a.d_model / a.n_layers),
        "hidden_size": f(lambda a: a.d_model), "n_layers": f(lambda a: a.n_layers),
        "n_heads": f(lambda a: a.n_heads), "n_kv_heads": f(lambda a: a.n_kv_heads),
        "ffn_size": f(lambda a: a.ffn_size), "vocab_size": f(lambda a: a.vocab_size),
    }
    cols["tokens"] = np.broadcast_to(np.asarray(tokens, dtype=np.float64), (len(archs),) + np.shape(tokens)[1:])
    if reference_loss is not None:
        cols["reference_loss"] = np.full(len(archs), float(reference_loss))
    return cols


def _law_loss(law: Law, p: Mapping[str, float], cols: Mapping[str, np.ndarray], fn: str) -> np.ndarray:
    """The law's predicted loss at every candidate (arrays broadcast against ``cols['tokens']``)."""
    missing = [k for k in law.inputs if k not in cols]
    if missing:
        extra = " (pass reference_loss=, L_opt at this N and D)" if "reference_loss" in missing else ""
        raise LawError(f"`{fn}`: law {law.name!r} reads {list(law.inputs)}; an architecture gives none of "
                       f"{missing}{extra}. Columns it gives: {sorted(cols)}.", rule="bad law", value=missing)
    shape = np.shape(cols["tokens"])
    X = {k: jnp.asarray(np.broadcast_to(np.asarray(cols[k], dtype=np.float64).reshape(
        (-1,) + (1,) * (len(shape) - 1)) if k != "tokens" else cols[k], shape)) for k in law.inputs}
    return np.asarray(law.predict({k: jnp.asarray(v, dtype=jnp.float64) for k, v in p.items()}, X),
                      dtype=np.float64)


def _resolve(fit_or_law: Any, params: Any, fn: str) -> tuple[Law, dict[str, float], Any]:
    if fit_or_law is None:
        raise LawError(f"`{fn}`: give a loss law (e.g. sl.laws.ArchitectureConditional(reference=...) with "
                       "params=, or a Fit).", rule="missing law")
    law, p, fit = resolve_law(fit_or_law, params, fn)
    if getattr(law, "target", "loss") != "loss":
        raise LawError(f"`{fn}`: law {law.name!r} predicts {law.target!r}; a loss law is needed.", rule="bad law")
    return law, p, fit


def _architectures(fn: str, architectures: Any) -> tuple[Architecture, ...]:
    archs = tuple(architectures) if isinstance(architectures, (list, tuple)) else None
    if not archs:
        raise LawError(f"`{fn}(architectures=...)` must be a non-empty list of Architecture, got "
                       f"{architectures!r}.", rule="empty", value=repr(architectures))
    for i, a in enumerate(archs):
        if not isinstance(a, Architecture):
            raise LawError(f"`{fn}(architectures=...)`: item {i} is a {type(a).__name__}, not an Architecture.",
                           rule="not an Architecture", value=i)
    return archs


def _throughputs(archs: Sequence[Architecture], hw: Hardware, batch: int, context: int,
                 utilization: float) -> tuple[list[DecodeThroughput], list[str]]:
    out, warns = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # counted once below, not once per candidate
        for a in archs:
            out.append(decode_throughput(a, hw, batch=batch, context=context, utilization=utilization))
    over = sum(1 for t in out if t.warnings)
    if over:
        warns.append(f"{over} of {len(out)} candidate(s) do not fit one {hw.name} with a batch of {batch} at "
                     f"context {context} (weights + KV cache over its memory); their throughput is the roofline's")
    return out, warns


# ---------------------------------------------------------------------------------------
# Pareto set

def pareto_mask(loss: Any, throughput: Any) -> np.ndarray:
    """True where no other point has loss <= and throughput >=, one of them strictly.

    A sweep: sort by loss; a group of equal losses keeps its points of the group's largest
    throughput, when that exceeds every throughput of strictly lower loss."""
    L = np.asarray(loss, dtype=np.float64).ravel()
    T = np.asarray(throughput, dtype=np.float64).ravel()
    keep = np.zeros(L.size, dtype=bool)
    order = np.lexsort((-T, L))
    best = -np.inf
    i = 0
    while i < order.size:
        j = i
        while j < order.size and L[order[j]] == L[order[i]]:
            j += 1
        group = order[i:j]
        top = T[group].max()
        if top > best:
            keep[group[T[group] == top]] = True
            best = top
        i = j
    return keep


# ---------------------------------------------------------------------------------------
# architecture search

@dataclass(frozen=True)
class ArchitectureSearch(Reported):
    """The chosen architecture and every candidate's loss, decode throughput and cost.

    ``architecture`` is the winner (``index`` into ``candidates``); ``loss``, ``tokens_per_second``
    (decode roofline per accelerator), ``cost_per_million_tokens`` (NaN without a price) and
    ``throughput`` (its :class:`DecodeThroughput`) describe it. Arrays over candidates: ``losses``,
    ``throughputs``, ``costs``, ``tokens`` (training D), ``feasible`` (meets every target) and
    ``pareto`` (on the loss-throughput Pareto set, over all candidates)."""

    architecture: Architecture
    index: int
    loss: float
    tokens_per_second: float
    cost_per_million_tokens: float
    throughput: DecodeThroughput
    objective: str
    targets: Mapping[str, float]
    candidates: tuple[Architecture, ...] = field(repr=False)
    losses: np.ndarray = field(repr=False)
    throughputs: np.ndarray = field(repr=False)
    costs: np.ndarray = field(repr=False)
    tokens: np.ndarray = field(repr=False)
    feasible: np.ndarray = field(repr=False)
    pareto: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        """One row per candidate: its shape, counts, loss, throughput, cost and flags."""
        out = []
        for i, a in enumerate(self.candidates):
            out.append({"d_model": a.d_model, "n_layers": a.n_layers, "ffn_size": a.ffn_size, "n_heads": a.n_heads,
                        "n_kv_heads": a.n_kv_heads, "gqa": a.n_heads // a.n_kv_heads,
                        "mlp_attention_ratio": a.mlp_attention_ratio, "d_over_sqrt_n": a.d_over_sqrt_n,
                        "non_embedding_params": a.non_embedding_params, "params": a.params,
                        "tokens": float(self.tokens[i]), "loss": float(self.losses[i]),
                        "tokens_per_second": float(self.throughputs[i]),
                        "cost_per_million_tokens": float(self.costs[i]), "feasible": bool(self.feasible[i]),
                        "pareto": bool(self.pareto[i]), "chosen": i == self.index})
        return out

    def pareto_set(self) -> list[dict[str, Any]]:
        """The rows on the loss-throughput Pareto set, by increasing loss."""
        return sorted((r for r in self.rows() if r["pareto"]), key=lambda r: r["loss"])

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["rows"] = self.rows()
        return out

    def _headline(self) -> str:
        a = self.architecture
        return (f"[[ArchitectureSearch]] {self.objective}: d_model {a.d_model}, {a.n_layers} layers, ffn {a.ffn_size}, "
                f"{a.n_heads} heads / {a.n_kv_heads} KV (r = {a.mlp_attention_ratio:.3g}, d/sqrt(N) = "
                f"{a.d_over_sqrt_n:.3g}): loss {self.loss:.4f}, {self.tokens_per_second:.4g} tokens/s on "
                f"{self.throughput.hardware.name}")

    def _body(self) -> str:
        rows = self.pareto_set()
        return (f"  {len(self.candidates)} candidates, {int(self.feasible.sum())} meet the targets "
                f"{dict(self.targets)}; Pareto set (loss vs throughput):\n" +
                format_rows(rows, {"d_model": "d", "n_layers": "layers", "ffn_size": "ffn", "n_heads": "heads",
                                   "gqa": "GQA", "mlp_attention_ratio": "r", "d_over_sqrt_n": "d/sqrtN",
                                   "loss": "loss", "tokens_per_second": "tokens/s",
                                   "cost_per_million_tokens": "$/M tok", "chosen": "chosen"}))


def _cost(tps: np.ndarray, price: float | None) -> np.ndarray:
    return np.full(tps.shape, np.nan) if price is None else price / 3600.0 / tps * 1e6


@x64
def architecture_search(fit_or_law: Any, *, params: Mapping[str, float] | None = None,
                        non_embedding_params: float | None = None, space: ArchitectureSpace | None = None,
                        architectures: Sequence[Architecture] | None = None, tokens: float | None = None,
                        total_flops: float | None = None, hardware: str | Hardware = "H100", batch: int = 1,
                        context: int = 4096, utilization: float = 1.0, price_per_hour: float | None = None,
                        min_throughput: float | None = None, max_cost_per_million: float | None = None,
                        max_loss: float | None = None, count: str = "non_embedding",
                        reference_loss: float | None = None) -> ArchitectureSearch:
    """The architecture of lowest predicted loss under a throughput or cost target, or of highest
    decode throughput under a loss target (``max_loss=``).

    Candidates: ``space.candidates(non_embedding_params)`` (an :class:`ArchitectureSpace`), or a
    list ``architectures=``. Training data: ``tokens=`` D for every candidate, or ``total_flops=``
    C with D = C / (6 N_total) per candidate. Loss: ``fit_or_law`` (a Fit, or a Law with
    ``params=``), e.g. :class:`~scalinglaws.laws.ArchitectureConditional` or
    :class:`~scalinglaws.laws.AspectRatio`; ``count`` picks the N its ``params`` column reads.
    Throughput: :func:`~scalinglaws.decode_throughput` on ``hardware`` at ``batch`` and ``context``;
    cost per million generated tokens needs ``price_per_hour`` (of one accelerator).
    Targets: ``min_throughput`` (tokens/s), ``max_cost_per_million`` ($), ``max_loss``. Ties go to
    the faster (loss objective) or the lower-loss (throughput objective) candidate.
    """
    fn = "architecture_search"
    law, p, _ = _resolve(fit_or_law, params, fn)
    if count not in _COUNTS:
        raise LawError(f"`{fn}(count=...)` must be one of {_COUNTS}, got {count!r}.", rule="bad argument",
                       value=count)
    notes: list[str] = []
    if (space is None) == (architectures is None):
        raise LawError(f"`{fn}`: give space= (with non_embedding_params=) or architectures=, exactly one.",
                       rule="bad argument")
    if space is not None:
        if not isinstance(space, ArchitectureSpace):
            raise LawError(f"`{fn}(space=...)` must be an ArchitectureSpace, got {type(space).__name__}.",
                           rule="bad argument")
        if non_embedding_params is None:
            raise LawError(f"`{fn}(space=...)` needs non_embedding_params= (the size N to shape).",
                           rule="missing argument")
        archs, more = space.candidates(non_embedding_params)
        notes += more
    else:
        archs = _architectures(fn, architectures)
    if (tokens is None) == (total_flops is None):
        raise LawError(f"`{fn}`: give tokens= (D) or total_flops= (C = 6 N D), exactly one.", rule="bad argument")
    if tokens is not None:
        D = np.full(len(archs), float(as_array("tokens", tokens, fn)))
    else:
        C = float(as_array("total_flops", total_flops, fn))
        D = C / (6.0 * np.array([float(a.params) for a in archs]))
        notes.append("D = total_flops / (6 N) per candidate, N with embeddings")
    hw = _hardware(fn, hardware)
    price = _optional_positive(fn, "price_per_hour", price_per_hour)
    tmin = _optional_positive(fn, "min_throughput", min_throughput)
    cmax = _optional_positive(fn, "max_cost_per_million", max_cost_per_million)
    lmax = _optional_positive(fn, "max_loss", max_loss)
    ref = _optional_positive(fn, "reference_loss", reference_loss)
    if cmax is not None and price is None:
        raise LawError(f"`{fn}(max_cost_per_million=...)` needs price_per_hour= (of one {hw.name}) to turn "
                       "throughput into dollars.", rule="missing argument")
    loss = _law_loss(law, p, _columns(archs, D, count, ref), fn)
    if not np.all(np.isfinite(loss)):
        bad = int(np.flatnonzero(~np.isfinite(loss))[0])
        raise LawError(f"`{fn}`: law {law.name!r} gives a non-finite loss for candidate {bad} ({archs[bad]._headline()}).",
                       rule="not finite", value=bad)
    thr, warns = _throughputs(archs, hw, batch, context, utilization)
    tps = np.array([t.tokens_per_second for t in thr])
    cost = _cost(tps, price)
    feasible = np.ones(len(archs), dtype=bool)
    targets: dict[str, float] = {}
    for name, val, ok, best_i, unit in (
            ("min_throughput", tmin, lambda: tps >= tmin, lambda: int(np.argmax(tps)), "tokens/s"),
            ("max_cost_per_million", cmax, lambda: cost <= cmax, lambda: int(np.argmin(cost)), "$ per M tokens"),
            ("max_loss", lmax, lambda: loss <= lmax, lambda: int(np.argmin(loss)), "loss")):
        if val is None:
            continue
        targets[name] = val
        meets = ok()
        if not meets.any():
            b = best_i()
            got = {"min_throughput": tps, "max_cost_per_million": cost, "max_loss": loss}[name][b]
            raise LawError(f"`{fn}({name}={val:g})`: no candidate of {len(archs)} meets it; the best gives "
                           f"{got:.6g} {unit} (d_model {archs[b].d_model}, {archs[b].n_layers} layers, "
                           f"{archs[b].n_heads} heads / {archs[b].n_kv_heads} KV).", rule="infeasible", value=val)
        feasible &= meets
    if not feasible.any():
        raise LawError(f"`{fn}`: each target is met by some candidate but none meets all of {targets} at once.",
                       rule="infeasible", value=repr(targets))
    idx = np.flatnonzero(feasible)
    if lmax is not None:
        objective = "highest throughput with loss <= %g" % lmax
        order = np.lexsort((loss[idx], -tps[idx]))
    else:
        objective = "lowest loss" + (f" meeting {targets}" if targets else "")
        order = np.lexsort((-tps[idx], loss[idx]))
    b = int(idx[order[0]])
    return ArchitectureSearch(architecture=archs[b], index=b, loss=float(loss[b]),
                              tokens_per_second=float(tps[b]), cost_per_million_tokens=float(cost[b]),
                              throughput=thr[b], objective=objective, targets=targets, candidates=tuple(archs),
                              losses=loss, throughputs=tps, costs=cost, tokens=D, feasible=feasible,
                              pareto=pareto_mask(loss, tps), notes=tuple(notes) + thr[b].notes[:1],
                              warnings=tuple(warns))


# ---------------------------------------------------------------------------------------
# architectures in the total budget

def query_flops(arch: Architecture, *, samples: Any = 1.0, tokens_per_sample: Any = 1000.0,
                prompt_tokens: float = 0.0) -> Any:
    """FLOPs of one query: ``prefill_flops(P)`` (P > 0) + ``k [2 N_dec T + 2 n_layers d_attn (T P + T (T + 1) / 2)]``,
    the sum of ``decode_flops_per_token(P + t)`` over t = 1..T for each of k samples."""
    k = np.asarray(samples, dtype=np.float64)
    T = np.asarray(tokens_per_sample, dtype=np.float64)
    P = float(prompt_tokens)
    decode = 2.0 * float(arch.decode_params) * T + 2.0 * float(arch.n_layers * arch.d_attn) * (T * P + T * (T + 1.0) / 2.0)
    prefill = float(arch.prefill_flops(P)) if P > 0 else 0.0
    out = prefill + k * decode
    return float(out) if np.ndim(out) == 0 else out


def query_dollars(arch: Architecture, hardware: Hardware, *, price_per_hour: float, samples: Any = 1.0,
                  tokens_per_sample: Any = 1000.0, prompt_tokens: float = 0.0, batch: int = 1,
                  utilization: float = 1.0) -> Any:
    """Dollars of one query on the decode roofline: each of k samples decodes T tokens, the t-th
    step at context P + t taking ``max(compute_time, memory_time)`` for ``batch`` sequences, so
    ``k (price / 3600 / batch) sum_{t=1..T} time(P + t)``; plus the prefill at ``utilization`` x
    peak FLOP/s. Both times are affine in the context, read off :func:`decode_throughput` at the
    first and last context, and the max is summed step by step."""
    k = np.asarray(samples, dtype=np.float64)
    Ts = np.asarray(tokens_per_sample, dtype=np.float64)
    per_s = price_per_hour / 3600.0
    P = int(round(float(prompt_tokens)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the does-not-fit warning is reported once by the caller
        r1 = decode_throughput(arch, hardware, batch=batch, context=P + 1, utilization=utilization)
        r2 = decode_throughput(arch, hardware, batch=batch, context=P + 2, utilization=utilization)
    dc, dm = r2.compute_time - r1.compute_time, r2.memory_time - r1.memory_time  # per extra token of context
    decode = []
    for T in np.atleast_1d(Ts).ravel():
        t = np.arange(int(round(T)), dtype=np.float64)  # context P + 1 + t
        decode.append(float(np.sum(np.maximum(r1.compute_time + dc * t, r1.memory_time + dm * t))) * per_s / batch)
    decode = np.asarray(decode).reshape(np.shape(Ts))
    prefill = float(arch.prefill_flops(float(P))) / (utilization * hardware.peak_flops) * per_s if P > 0 else 0.0
    out = prefill + k * decode
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class ArchitectureConfig(Reported):
    """The accuracy-maximising (architecture, D, k or T) under one total budget.

    ``budget`` is ``"flops"`` or ``"dollars"``; ``total``, ``train_cost``, ``inference_cost`` and
    ``per_query_cost`` are in that unit; ``per_query_flops``, ``train_flops`` and
    ``inference_flops`` always in FLOPs. Per candidate architecture (arrays): its best setting's
    ``candidate_accuracy``, ``candidate_loss``, ``candidate_tokens``, ``candidate_setting``
    (NaN where it cannot serve the queries at all)."""

    architecture: Architecture
    index: int
    params: float
    tokens: float
    samples: float
    tokens_per_sample: float
    prompt_tokens: float
    queries: float
    budget: str
    total: float
    accuracy: float
    loss: float
    tokens_per_param: float
    per_query_cost: float
    per_query_flops: float
    train_cost: float
    inference_cost: float
    train_flops: float
    inference_flops: float
    train_share: float
    inference_share: float
    axis: str
    architectures: tuple[Architecture, ...] = field(repr=False)
    candidate_accuracy: np.ndarray = field(repr=False)
    candidate_loss: np.ndarray = field(repr=False)
    candidate_tokens: np.ndarray = field(repr=False)
    candidate_setting: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        """One row per candidate architecture at its best setting."""
        return [{"name": a.name, "params": float(a.params), "n_kv_heads": a.n_kv_heads,
                 "tokens": float(self.candidate_tokens[i]), "setting": float(self.candidate_setting[i]),
                 "loss": float(self.candidate_loss[i]), "accuracy": float(self.candidate_accuracy[i]),
                 "chosen": i == self.index} for i, a in enumerate(self.architectures)]

    def _headline(self) -> str:
        a = self.architecture
        return (f"[[ArchitectureConfig]] {a.name or 'architecture ' + str(self.index)} (N = {self.params:.4g}, "
                f"{a.n_heads} heads / {a.n_kv_heads} KV), D = {self.tokens:.4g}, k = {self.samples:g} x "
                f"T = {self.tokens_per_sample:g}: " + (f"loss {self.loss:.4f}" if math.isnan(self.accuracy) else
                                                       f"accuracy {self.accuracy:.4f} (loss {self.loss:.4f})") +
                "; training "
                f"{100 * self.train_share:.1f}% of {self.total:.4g} {self.budget}")

    def _body(self) -> str:
        return format_rows(self.rows())


def _minus_loss(loss: Any, x: Any) -> np.ndarray:
    """The score without an accuracy model: minus the loss (never rises with loss)."""
    return -np.asarray(loss, dtype=np.float64) + 0.0 * np.asarray(x, dtype=np.float64)


@x64
def best_architecture_config(fit_or_law: Any = None, *, architectures: Sequence[Architecture], queries: float,
                             accuracy_model: Any, total_flops: float | None = None,
                             total_dollars: float | None = None, samples: Any = None,
                             tokens_per_sample: Any = 1000.0, prompt_tokens: float = 0.0,
                             params: Mapping[str, float] | None = None, hardware: str | Hardware = "H100",
                             price_per_hour: float | None = None, batch: int = 1, utilization: float = 1.0,
                             train_utilization: float = 0.4, count: str = "total") -> ArchitectureConfig:
    """``best_config`` over candidate architectures: each has its own N (its parameter count,
    ``count="total"`` with embeddings by default, as Hoffmann count N) and its own cost per query
    (:func:`query_flops`, or :func:`query_dollars` under ``total_dollars=``). For every
    architecture and setting x (samples k, or tokens T per sample), the training budget is the
    total less ``queries`` times the per-query cost, D = training FLOPs / (6 N) (dollars: divided
    first by ``price_per_hour / 3600 / (train_utilization peak_flops)``), the loss is the law's at
    (architecture, D) and the accuracy ``accuracy_model(loss, x)``; the best of all is returned.
    ``fit_or_law`` None means Hoffmann et al.'s Chinchilla law (as in ``best_config``).
    ``accuracy_model=None``: choose the lowest predicted loss instead (one sample per query unless
    ``samples=`` says otherwise; ``accuracy`` is then NaN).
    """
    from .best_config import DEFAULT_SAMPLES, HOFFMANN, _check_monotone, _problem  # the same parsing of samples, tokens and accuracy model
    from ..laws.loss import Chinchilla

    fn = "best_config(architectures=...)"
    archs = _architectures(fn, architectures)
    if count not in _COUNTS:
        raise LawError(f"`{fn}(count=...)` must be one of {_COUNTS}, got {count!r}.", rule="bad argument",
                       value=count)
    notes: list[str] = []
    if fit_or_law is None:
        if params is not None:
            raise LawError(f"`{fn}`: params= needs a law.", rule="bad argument")
        fit_or_law, params = Chinchilla(), HOFFMANN
        notes.append("loss law: Hoffmann et al. (2022) Approach 3, unrounded (no fit given)")
    law, p, _ = _resolve(fit_or_law, params, fn)
    if "reference_loss" in law.inputs:
        raise LawError(f"`{fn}`: law {law.name!r} reads a reference_loss column, but D varies with the "
                       "architecture and the query volume here; build it with reference= (a Chinchilla fit or "
                       "its parameters) so that L_opt follows (N, D).", rule="bad law", value="reference_loss")
    loss_only = accuracy_model is None
    if loss_only:
        if samples is None:
            samples = 1.0
        notes.append("no accuracy model: the lowest predicted loss is chosen (accuracy NaN)")
    # the setting grid and the accuracy model, parsed as best_config parses them (law checked above)
    if samples is None and np.ndim(tokens_per_sample) == 0:
        samples = DEFAULT_SAMPLES  # over architectures the settings are a grid (1, 2, 4, ..., 1024)
    pr = _problem(Chinchilla(), HOFFMANN, _minus_loss if loss_only else accuracy_model, samples, tokens_per_sample,
                  prompt_tokens, fn)
    if pr.grid is None:
        raise LawError(f"`{fn}(architectures=...)` searches a list of settings; give samples= or "
                       "tokens_per_sample= as a list, not Integers(...).", rule="bad argument")
    pr_x = np.asarray(pr.grid, dtype=np.float64)
    pr_k, pr_T = pr.samples_of(pr_x), pr.tokens_of(pr_x)
    notes += [n for n in pr.notes if not n.startswith("loss law")]
    Q = float(as_array("queries", queries, fn, strict=False))
    if (total_flops is None) == (total_dollars is None):
        raise LawError(f"`{fn}`: give total_flops= or total_dollars=, exactly one.", rule="bad argument")
    hw = _hardware(fn, hardware)
    u = float(as_array("utilization", utilization, fn))
    tu = float(as_array("train_utilization", train_utilization, fn))
    if u > 1 or tu > 1:
        raise LawError(f"`{fn}`: utilization ({u:g}) and train_utilization ({tu:g}) must be in (0, 1].",
                       rule="out of range", value=max(u, tu))
    N = np.array([float(a.params if count == "total" else a.non_embedding_params) for a in archs])
    Ntot = np.array([float(a.params) for a in archs])
    qflops = np.stack([np.broadcast_to(query_flops(a, samples=pr_k, tokens_per_sample=pr_T, prompt_tokens=pr.P),
                                       pr_k.shape) for a in archs])  # (A, K)
    if total_dollars is not None:
        budget, total = "dollars", float(as_array("total_dollars", total_dollars, fn))
        if price_per_hour is None:
            raise LawError(f"`{fn}(total_dollars=...)` needs price_per_hour= (of one {hw.name}).",
                           rule="missing argument")
        price = float(as_array("price_per_hour", price_per_hour, fn))
        per_flop = price / 3600.0 / (tu * hw.peak_flops)
        qcost = np.stack([np.broadcast_to(query_dollars(a, hw, price_per_hour=price, samples=pr_k,
                                                        tokens_per_sample=pr_T, prompt_tokens=pr.P, batch=batch,
                                                        utilization=u), pr_k.shape) for a in archs])
        notes.append(f"dollars: training at {tu:g} x {hw.name} peak, decode on the roofline at batch {batch} "
                     f"(a model, not a measurement), ${price:g} per accelerator-hour")
    else:
        budget, total = "flops", float(as_array("total_flops", total_flops, fn))
        per_flop, qcost = 1.0, qflops
    ctx = pr.P + float(pr_T.max())
    over = [a.name or f"#{n}" for n, a in enumerate(archs) if hw.memory_bytes is not None and
            2.0 * float(a.params) + float(a.kv_cache_bytes(ctx, batch=batch)) > hw.memory_bytes]
    warns = [f"architecture(s) {', '.join(over)}: bf16 weights + KV cache of {batch} sequence(s) of {ctx:g} tokens "
             f"exceed one {hw.name}'s memory"] if over and budget == "dollars" else []
    train_cost = total - Q * qcost  # (A, K)
    ok = train_cost > 0
    train_flops = np.where(ok, train_cost, np.nan) / per_flop
    D = train_flops / (6.0 * Ntot[:, None])
    cols = _columns(archs, np.where(ok, D, 1.0), count, None)
    with np.errstate(invalid="ignore"):
        loss = np.where(ok, _law_loss(law, p, cols, fn), np.nan)
    finite = loss[np.isfinite(loss)]
    fill = float(finite.max()) if finite.size else 10.0
    acc = np.asarray(pr.model(np.where(np.isfinite(loss), loss, fill), pr_x[None, :]), dtype=np.float64)
    _check_monotone(pr, pr_x, float(finite.min()) if finite.size else fill, fill, fn)
    acc = np.where(np.isfinite(loss), np.broadcast_to(acc, loss.shape), np.nan)
    if not np.any(np.isfinite(acc)):
        raise LawError(f"`{fn}`: no architecture can serve {Q:.4g} queries within {total:.4g} {budget} "
                       f"(the cheapest per-query cost, {np.min(qcost):.4g}, times the queries uses it all).",
                       rule="infeasible", value=total)
    a_acc = np.where(np.isnan(acc), -np.inf, acc)
    j_best = np.argmax(a_acc, axis=1)  # best setting per architecture
    rows = np.arange(len(archs))
    cand_acc = acc[rows, j_best]
    i = int(np.argmax(np.where(np.isnan(cand_acc), -np.inf, cand_acc)))
    j = int(j_best[i])
    tr, inf_cost = float(train_cost[i, j]), float(Q * qcost[i, j])
    tf, inf_f = float(train_flops[i, j]), float(Q * qflops[i, j])
    if loss_only:
        acc = np.full_like(acc, np.nan)
        cand_acc = np.where(np.isfinite(cand_acc), np.nan, cand_acc)
    if pr_k.size > 1 and j == pr_k.size - 1:
        notes.append(f"best setting is the largest searched ({pr_x[j]:g})")
    return ArchitectureConfig(
        architecture=archs[i], index=i, params=float(Ntot[i]), tokens=float(D[i, j]), samples=float(pr_k[j]),
        tokens_per_sample=float(pr_T[j]), prompt_tokens=pr.P, queries=Q, budget=budget, total=total,
        accuracy=float(acc[i, j]), loss=float(loss[i, j]), tokens_per_param=float(D[i, j] / Ntot[i]),
        per_query_cost=float(qcost[i, j]), per_query_flops=float(qflops[i, j]), train_cost=tr,
        inference_cost=inf_cost, train_flops=tf, inference_flops=inf_f, train_share=tr / total,
        inference_share=inf_cost / total, axis=pr.axis, architectures=archs, candidate_accuracy=cand_acc,
        candidate_loss=loss[rows, j_best], candidate_tokens=D[rows, j_best],
        candidate_setting=np.where(np.isfinite(loss[rows, j_best]), pr_x[j_best], np.nan), notes=tuple(notes),
        warnings=tuple(warns))
