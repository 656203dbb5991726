"""Transformer shapes: parameter counts, FLOPs, KV cache and a decode roofline.

:class:`Architecture` holds a decoder-only transformer's shape (d_model, n_layers, ffn_size,
n_heads, n_kv_heads, head_dim, vocab_size, gated MLP or not, tied embeddings or not) and counts
from it. The counts build on :mod:`scalinglaws.flops` (one formula for ``6 N D``, the Kaplan
forward cost and the KV-cache bytes).

Parameter counts (weight matrices only; biases and norm gains are left out, as Kaplan et al.
2020 leave them out of N: for Llama-2-7B that is 266,240 of 6.74e9, 4e-5):

- attention per layer: ``d_model d_attn`` (Q) + ``2 d_model d_kv`` (K, V) + ``d_attn d_model``
  (output), with ``d_attn = n_heads head_dim`` and ``d_kv = n_kv_heads head_dim`` (grouped-query
  attention shrinks K and V);
- MLP per layer: ``3 d_model ffn_size`` when gated (SwiGLU: gate, up, down), else ``2 d_model ffn_size``;
- embeddings: ``vocab_size d_model``, twice when the output projection is not tied to the input.

``non_embedding_params`` (Kaplan's N) is attention plus MLP over all layers; ``params`` adds the
embeddings (Hoffmann's N). Bian et al. 2025 ("Scaling Laws Meet Model Architecture", Table 1)
use ``r = mlp_params / attention_params`` and ``d_model / sqrt(non_embedding_params)``: both
reproduce their Table 1 from the shapes (``tests/test_architecture.py``; one row's r disagrees
with the shape it lists, see there).

FLOPs: ``train_flops(D)`` is ``6 N D`` (N = ``params``, Hoffmann's convention; ``embeddings=False``
for Kaplan's non-embedding N), or Hoffmann et al. 2022 App. F's per-layer count
(``method="per_layer"``, backward = 2x forward). ``forward_flops_per_token(context)`` is Kaplan's
``2 N + 2 n_layers context d_attn`` with N non-embedding; a decode step also multiplies by the
output projection (``decode_flops_per_token``); ``prefill_flops`` sums the causal forward over
a prompt.

:func:`decode_throughput` is a roofline: a model, not a measurement.

>>> arch = Architecture(d_model=4096, n_layers=32, ffn_size=11008, n_heads=32, vocab_size=32000)
>>> arch.params, round(arch.mlp_attention_ratio, 3)
(6738149376, 2.016)
>>> arch.kv_cache_bytes(context=4096) / 2**30    # GiB for one sequence in bf16
2.0
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from typing import Any, Mapping

import numpy as np

from ._report import Reported
from .errors import DataError, LawError
from .flops import _as_float, _out, inference_flops_per_token, kv_cache_bytes as _kv_bytes, train_flops as _train6

__all__ = ["Architecture", "Hardware", "HARDWARE", "DecodeThroughput", "decode_throughput", "derive_architecture"]

_INT_FIELDS = ("d_model", "n_layers", "ffn_size", "n_heads", "n_kv_heads", "vocab_size", "head_dim")


def _positive_int(owner: str, name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as a Python int, or LawError: a whole number >= ``minimum`` (2048.0 is accepted)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        f = float(value)
        ok = math.isfinite(f) and f == math.floor(f) and f >= minimum
    if not ok:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise LawError(f"`{owner}({name}=...)` must be {what}, got {value!r}.",
                       rule="not a positive integer" if minimum == 1 else "negative", value=value)
    return int(value)


def _positive_float(owner: str, name: str, value: Any, *, upper: float | None = None) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    f = float(value) if ok else math.nan
    if not (math.isfinite(f) and f > 0 and (upper is None or f <= upper)):
        want = "> 0" if upper is None else f"in (0, {upper:g}]"
        rule = "out of range" if math.isfinite(f) and f > 0 else "not positive"
        raise LawError(f"`{owner}({name}=...)` must be a finite number {want}, got {value!r}.",
                       rule=rule, value=value)
    return f


@dataclasses.dataclass(frozen=True, kw_only=True)
class Architecture(Reported):
    """A decoder-only transformer's shape (keyword arguments only).

    ``n_kv_heads`` defaults to ``n_heads`` (multi-head attention); ``head_dim`` to
    ``d_model // n_heads`` (then ``d_model`` must be divisible by ``n_heads``). ``n_heads * head_dim``
    may differ from ``d_model`` (Bian et al. vary the number of heads at fixed head_dim).
    ``gated_mlp``: three MLP matrices (SwiGLU, Llama) instead of two (GPT, Chinchilla).
    ``tied_embeddings``: the output projection shares the input embedding matrix.
    Counts are exact integers; FLOPs and bytes are float64.
    """

    d_model: int
    n_layers: int
    ffn_size: int
    n_heads: int
    vocab_size: int
    n_kv_heads: int | None = None
    head_dim: int | None = None
    gated_mlp: bool = True
    tied_embeddings: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        for k in _INT_FIELDS:
            v = getattr(self, k)
            if v is None and k in ("n_kv_heads", "head_dim"):
                continue
            set_(k, _positive_int("Architecture", k, v))
        if self.n_kv_heads is None:
            set_("n_kv_heads", self.n_heads)
        if self.n_heads % self.n_kv_heads:
            raise LawError(f"`Architecture(n_kv_heads=...)`: n_heads ({self.n_heads}) must be divisible by "
                           f"n_kv_heads (grouped-query attention shares each K/V head among n_heads / n_kv_heads "
                           f"query heads), got n_kv_heads={self.n_kv_heads}.",
                           rule="n_heads not divisible by n_kv_heads", value=self.n_kv_heads)
        if self.head_dim is None:
            if self.d_model % self.n_heads:
                raise LawError(f"`Architecture(head_dim=None)`: the default head_dim = d_model // n_heads needs "
                               f"d_model ({self.d_model}) divisible by n_heads ({self.n_heads}); give head_dim= "
                               f"explicitly.", rule="d_model not divisible by n_heads", value=self.n_heads)
            set_("head_dim", self.d_model // self.n_heads)
        for k in ("gated_mlp", "tied_embeddings"):
            if not isinstance(getattr(self, k), (bool, np.bool_)):
                raise LawError(f"`Architecture({k}=...)` must be True or False, got {getattr(self, k)!r}.",
                               rule="not a bool", value=getattr(self, k))
            set_(k, bool(getattr(self, k)))
        if not isinstance(self.name, str):
            raise LawError(f"`Architecture(name=...)` must be a str, got {self.name!r}.", rule="not a str",
                           value=self.name)

    # ---- widths and parameter counts (exact ints) -------------------------------------------
    @property
    def d_attn(self) -> int:
        """Query/output width of attention: ``n_heads * head_dim``."""
        return self.n_heads * self.head_dim

    @property
    def d_kv(self) -> int:
        """Width of K (and of V): ``n_kv_heads * head_dim``."""
        return self.n_kv_heads * self.head_dim

    @property
    def attention_params_per_layer(self) -> int:
        return 2 * self.d_model * self.d_attn + 2 * self.d_model * self.d_kv

    @property
    def mlp_params_per_layer(self) -> int:
        return (3 if self.gated_mlp else 2) * self.d_model * self.ffn_size

    @property
    def attention_params(self) -> int:
        """Q, K, V and output projections over all layers."""
        return self.n_layers * self.attention_params_per_layer

    @property
    def mlp_params(self) -> int:
        """MLP matrices over all layers."""
        return self.n_layers * self.mlp_params_per_layer

    @property
    def non_embedding_params(self) -> int:
        """Kaplan's N: attention + MLP (no embeddings, biases or norms)."""
        return self.attention_params + self.mlp_params

    @property
    def embedding_params(self) -> int:
        """``vocab_size * d_model``, twice when untied (input embedding and output projection)."""
        return (1 if self.tied_embeddings else 2) * self.vocab_size * self.d_model

    @property
    def params(self) -> int:
        """Total: non-embedding + embedding parameters (Hoffmann's N)."""
        return self.non_embedding_params + self.embedding_params

    @property
    def decode_params(self) -> int:
        """Parameters a decode step reads and multiplies by: non-embedding + the output
        projection ``vocab_size * d_model`` (the input embedding is a one-row lookup)."""
        return self.non_embedding_params + self.vocab_size * self.d_model

    @property
    def mlp_attention_ratio(self) -> float:
        """Bian et al.'s r = N_mlp / N_attn (per layer, hence also in total)."""
        return self.mlp_params / self.attention_params

    @property
    def d_over_sqrt_n(self) -> float:
        """Bian et al.'s ``d_model / sqrt(N)`` with N the non-embedding parameters."""
        return self.d_model / math.sqrt(self.non_embedding_params)

    # ---- KV cache ---------------------------------------------------------------------------
    def kv_cache_bytes_per_token(self, bytes_per_value: Any = 2) -> Any:
        """``2 (K and V) * n_layers * n_kv_heads * head_dim * bytes_per_value`` bytes per token."""
        b = _as_float("bytes_per_value", bytes_per_value, fn="Architecture.kv_cache_bytes_per_token")
        return _kv_bytes(self.n_layers, self.n_kv_heads, self.head_dim, 1.0, b)

    def kv_cache_bytes(self, context: Any, batch: Any = 1, bytes_per_value: Any = 2) -> Any:
        """Bytes of KV cache for ``batch`` sequences of ``context`` tokens each
        (``batch=1``: per sequence; ``kv_cache_bytes_per_token`` for one token)."""
        fn = "Architecture.kv_cache_bytes"
        b = _as_float("batch", batch, fn=fn)
        ctx = _as_float("context", context, fn=fn, positive=False)
        bpv = _as_float("bytes_per_value", bytes_per_value, fn=fn)
        per_seq = np.asarray(_kv_bytes(self.n_layers, self.n_kv_heads, self.head_dim, ctx, bpv))
        return _out(b * per_seq)

    # ---- FLOPs ------------------------------------------------------------------------------
    def forward_flops_per_token(self, context: Any) -> Any:
        """Kaplan et al. 2020's C_forward: ``2 N + 2 n_layers context d_attn``, N non-embedding,
        ``context`` the tokens attended to. (Kaplan count the attention product once; Hoffmann's
        App. F counts the scores and the weighted sum of values, twice that: ``flops_breakdown``.)"""
        ctx = _as_float("context", context, fn="Architecture.forward_flops_per_token", positive=False)
        return inference_flops_per_token(self.non_embedding_params, self.n_layers, ctx, self.d_attn)

    def decode_flops_per_token(self, context: Any) -> Any:
        """FLOPs of one decode step of one sequence: Kaplan's count with N = ``decode_params``
        (the output projection is computed to sample the token):
        ``2 (N_non_embedding + vocab d_model) + 2 n_layers context d_attn``, ``context`` the
        tokens attended to (the cached ones and the new one)."""
        ctx = _as_float("context", context, fn="Architecture.decode_flops_per_token", positive=False)
        return inference_flops_per_token(self.decode_params, self.n_layers, ctx, self.d_attn)

    def prefill_flops(self, prompt_len: Any) -> Any:
        """FLOPs of reading a prompt of P tokens at once, causally (token t attends to t tokens):
        ``sum_{t=1..P} forward_flops_per_token(t) + 2 d_model vocab`` (the logits of the last
        position only, which give the first generated token) =
        ``2 N P + n_layers d_attn P (P + 1) + 2 d_model vocab``."""
        p = _as_float("prompt_len", prompt_len, fn="Architecture.prefill_flops")
        n = float(self.non_embedding_params)
        return _out(2.0 * n * p + float(self.n_layers * self.d_attn) * p * (p + 1.0)
                    + 2.0 * self.d_model * self.vocab_size)

    def flops_breakdown(self, seq_len: Any) -> dict[str, float]:
        """Hoffmann et al. 2022 App. F: forward FLOPs of one sequence of ``seq_len`` tokens, term by
        term (per layer for the attention and dense terms), with S = seq_len, d = d_model,
        V = vocab, h = n_heads, k = head_dim (so k h = d_attn), f = ffn_size:

        - ``embeddings`` 2 S V d; ``logits`` 2 S d V;
        - ``attention_qkv`` 2 S d (d_attn + 2 d_kv) (Hoffmann's 2 * 3 S d k h without GQA);
        - ``attention_logits`` 2 S^2 d_attn; ``attention_softmax`` 3 h S^2;
          ``attention_reduction`` 2 S^2 d_attn; ``attention_projection`` 2 S d_attn d;
        - ``dense`` 2 S (2 or 3) d f (Hoffmann's 2 S (d f + d f); three matrices when gated);
        - ``per_layer`` their sum; ``forward`` = embeddings + n_layers per_layer + logits;
          ``train`` = 3 forward (backward = 2x forward).

        No causal saving: the S^2 terms count the full square, as App. F does."""
        S = float(_as_float("seq_len", seq_len, fn="Architecture.flops_breakdown"))
        d, V, f = float(self.d_model), float(self.vocab_size), float(self.ffn_size)
        da, dkv, h = float(self.d_attn), float(self.d_kv), float(self.n_heads)
        out = {
            "embeddings": 2 * S * V * d,
            "attention_qkv": 2 * S * d * (da + 2 * dkv),
            "attention_logits": 2 * S * S * da,
            "attention_softmax": 3 * h * S * S,
            "attention_reduction": 2 * S * S * da,
            "attention_projection": 2 * S * da * d,
            "dense": 2 * S * (3.0 if self.gated_mlp else 2.0) * d * f,
            "logits": 2 * S * d * V,
        }
        out["per_layer"] = sum(v for k, v in out.items() if k.startswith(("attention_", "dense")))
        out["forward"] = out["embeddings"] + self.n_layers * out["per_layer"] + out["logits"]
        out["train"] = 3.0 * out["forward"]
        return out

    def train_flops(self, tokens: Any, *, method: str = "6ND", embeddings: bool = True,
                    seq_len: Any = None) -> Any:
        """Training FLOPs on ``tokens`` tokens.

        - ``method="6ND"``: ``6 N D`` with N = ``params`` (Hoffmann's convention, embeddings
          counted), or N = ``non_embedding_params`` with ``embeddings=False`` (Kaplan's).
        - ``method="per_layer"``: Hoffmann App. F (``flops_breakdown(seq_len)["train"] / seq_len``
          per token; needs ``seq_len``); ``embeddings=False`` drops the input-embedding term
          (a lookup in practice) and keeps the logits.
        """
        fn = "Architecture.train_flops"
        if method == "6ND":
            n = self.params if embeddings else self.non_embedding_params
            return _train6(float(n), tokens)
        if method != "per_layer":
            raise LawError(f"`{fn}(method=...)` must be '6ND' or 'per_layer', got {method!r}.",
                           rule="unknown method", value=method)
        if seq_len is None:
            raise LawError(f"`{fn}(method='per_layer')` needs seq_len= (the S^2 attention terms depend on it).",
                           rule="missing argument")
        br = self.flops_breakdown(seq_len)
        fwd = br["forward"] - (0.0 if embeddings else br["embeddings"])
        D = _as_float("tokens", tokens, fn=fn)
        return _out(3.0 * fwd / float(seq_len) * D)

    # ---- rows of a runs table and reporting -------------------------------------------------
    @classmethod
    def from_row(cls, runs: Any, i: int, **kwargs: Any) -> "Architecture":
        """The architecture of row ``i`` of ``runs`` (columns hidden_size, n_layers, ffn_size,
        n_heads, optional n_kv_heads and vocab_size); ``kwargs`` fill the rest (gated_mlp=, ...)."""
        cols = {"d_model": "hidden_size", "n_layers": "n_layers", "ffn_size": "ffn_size",
                "n_heads": "n_heads", "n_kv_heads": "n_kv_heads", "vocab_size": "vocab_size"}
        given = {k: float(runs[c][i]) for k, c in cols.items() if c in runs}
        return cls(**{**given, **kwargs})

    def derived(self) -> dict[str, float]:
        """The counts and ratios, as plain numbers (also in ``to_dict()``)."""
        return {"params": self.params, "non_embedding_params": self.non_embedding_params,
                "attention_params": self.attention_params, "mlp_params": self.mlp_params,
                "embedding_params": self.embedding_params, "mlp_attention_ratio": self.mlp_attention_ratio,
                "d_over_sqrt_n": self.d_over_sqrt_n,
                "kv_cache_bytes_per_token": float(self.kv_cache_bytes_per_token())}

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(self.derived())
        return out

    def _headline(self) -> str:
        label = f" {self.name}" if self.name else ""
        return (f"[[Architecture]]{label}: d_model {self.d_model}, {self.n_layers} layers, ffn {self.ffn_size}, "
                f"{self.n_heads} heads ({self.n_kv_heads} KV) x {self.head_dim}, vocab {self.vocab_size}, "
                f"{'gated' if self.gated_mlp else 'plain'} MLP, "
                f"{'tied' if self.tied_embeddings else 'untied'} embeddings")

    def _body(self) -> str:
        d = self.derived()
        return "\n".join([
            f"  params {d['params']:,} (non-embedding {d['non_embedding_params']:,}; "
            f"attention {d['attention_params']:,}, MLP {d['mlp_params']:,}, embeddings {d['embedding_params']:,})",
            f"  r = MLP / attention = {d['mlp_attention_ratio']:.4g}; d_model / sqrt(N_non_embedding) = "
            f"{d['d_over_sqrt_n']:.4g}",
            f"  KV cache {d['kv_cache_bytes_per_token']:,.0f} bytes per token (bf16)",
        ])


# ---- hardware and the decode roofline ---------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Hardware(Reported):
    """One accelerator for the roofline: ``peak_flops`` (FLOP/s, dense), ``bandwidth``
    (memory bytes/s), optional ``memory_bytes`` (capacity, for a does-it-fit warning), and
    where the numbers come from."""

    peak_flops: float
    bandwidth: float
    name: str = "custom"
    memory_bytes: float | None = None
    citation: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "peak_flops", _positive_float("Hardware", "peak_flops", self.peak_flops))
        object.__setattr__(self, "bandwidth", _positive_float("Hardware", "bandwidth", self.bandwidth))
        if self.memory_bytes is not None:
            object.__setattr__(self, "memory_bytes", _positive_float("Hardware", "memory_bytes", self.memory_bytes))

    @property
    def ridge_intensity(self) -> float:
        """FLOPs per byte above which a kernel is compute-bound: ``peak_flops / bandwidth``."""
        return self.peak_flops / self.bandwidth


_A100 = ("NVIDIA A100 Tensor Core GPU datasheet (SXM4): BF16 Tensor Core 312 TFLOPS dense (624 with "
         "sparsity); ")
#: Named presets: dense BF16 Tensor Core peak and memory bandwidth from NVIDIA's datasheets
#: (SXM boards). Peak numbers; real kernels reach a fraction (``utilization=``).
HARDWARE: Mapping[str, Hardware] = {
    "A100-40GB": Hardware(312e12, 1.555e12, "A100-40GB", 40e9, _A100 + "40 GB HBM2, 1,555 GB/s."),
    "A100-80GB": Hardware(312e12, 2.039e12, "A100-80GB", 80e9, _A100 + "80 GB HBM2e, 2,039 GB/s (SXM)."),
    "H100": Hardware(989e12, 3.35e12, "H100", 80e9,
                     "NVIDIA H100 Tensor Core GPU datasheet (H100 SXM): BF16 Tensor Core 1,979 TFLOPS with "
                     "sparsity, 989 dense; 80 GB HBM3, 3.35 TB/s."),
    "H200": Hardware(989e12, 4.8e12, "H200", 141e9,
                     "NVIDIA H200 Tensor Core GPU datasheet (H200 SXM): BF16 Tensor Core 1,979 TFLOPS with "
                     "sparsity, 989 dense (the H100's compute); 141 GB HBM3e, 4.8 TB/s."),
}


@dataclasses.dataclass(frozen=True)
class DecodeThroughput(Reported):
    """A decode roofline (a model, not a measurement): one decode step advances each of
    ``batch`` sequences by one token; it takes ``time_per_token = max(compute_time, memory_time)``
    seconds, with ``compute_time = flops_per_step / (utilization peak_flops)`` and
    ``memory_time = bytes_per_step / (utilization bandwidth)``.

    ``tokens_per_second`` is per accelerator, summed over the batch (``batch / time_per_token``);
    ``per_sequence`` is one sequence's rate (``1 / time_per_token``). ``bound`` says which time
    is larger (``"memory"`` on a tie); ``arithmetic_intensity`` = FLOPs / bytes of a step, to be
    read against ``hardware.ridge_intensity``.
    """

    architecture: Architecture
    hardware: Hardware
    batch: int
    context: int
    bytes_per_param: float
    kv_bytes_per_value: float
    utilization: float
    flops_per_step: float
    weight_bytes: float
    kv_bytes: float
    bytes_per_step: float
    compute_time: float
    memory_time: float
    time_per_token: float
    tokens_per_second: float
    per_sequence: float
    bound: str
    arithmetic_intensity: float
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def cost_per_million_tokens(self, price_per_hour: float) -> float:
        """Price of a million generated tokens at ``price_per_hour`` for the accelerator:
        ``price_per_hour / 3600 / tokens_per_second * 1e6``."""
        p = _positive_float("DecodeThroughput.cost_per_million_tokens", "price_per_hour", price_per_hour)
        return p / 3600.0 / self.tokens_per_second * 1e6

    def _headline(self) -> str:
        name = self.architecture.name or "architecture"
        return (f"[[DecodeThroughput]] {name} on {self.hardware.name}, batch {self.batch}, context {self.context}: "
                f"{self.tokens_per_second:.4g} tokens/s ({self.per_sequence:.4g} per sequence), {self.bound}-bound")

    def _body(self) -> str:
        return "\n".join([
            f"  per step: {self.flops_per_step:.4g} FLOPs, {self.bytes_per_step:.4g} bytes "
            f"(weights {self.weight_bytes:.4g}, KV cache {self.kv_bytes:.4g})",
            f"  compute {self.compute_time:.4g} s, memory {self.memory_time:.4g} s; time per token "
            f"{self.time_per_token:.4g} s",
            f"  arithmetic intensity {self.arithmetic_intensity:.4g} FLOP/byte (ridge "
            f"{self.hardware.ridge_intensity:.4g})",
        ])


def decode_throughput(arch: Architecture, hardware: str | Hardware = "H100", batch: int = 1, context: int = 4096,
                      bytes_per_param: float = 2, utilization: float = 1.0, *,
                      kv_bytes_per_value: float = 2) -> DecodeThroughput:
    """Decode throughput from a roofline: a model, not a measurement.

    Per decode step (every one of ``batch`` sequences, each attending to ``context`` tokens,
    gains one token): FLOPs = ``batch * arch.decode_flops_per_token(context)``; bytes = the
    weights read once (``arch.decode_params * bytes_per_param``) + the KV cache read
    (``batch * arch.kv_cache_bytes(context, bytes_per_value=kv_bytes_per_value)``); time =
    ``max(FLOPs / peak_flops, bytes / bandwidth)``, both rates scaled by ``utilization``.
    ``hardware`` is a key of :data:`HARDWARE` ("A100-40GB", "A100-80GB", "H100", "H200") or a
    :class:`Hardware`. Ignored: activations, kernel launch and communication overheads, and
    the overlap of compute with memory traffic beyond the max.
    """
    fn = "decode_throughput"
    if not isinstance(arch, Architecture):
        raise LawError(f"`{fn}(arch=...)` must be an Architecture, got {type(arch).__name__}.",
                       rule="not an Architecture", value=type(arch).__name__)
    if isinstance(hardware, str):
        if hardware not in HARDWARE:
            raise LawError(f"`{fn}(hardware=...)`: unknown preset {hardware!r}; presets: {', '.join(HARDWARE)} "
                           f"(or pass Hardware(peak_flops, bandwidth, name)).", rule="unknown hardware",
                           value=hardware)
        hw = HARDWARE[hardware]
    elif isinstance(hardware, Hardware):
        hw = hardware
    else:
        raise LawError(f"`{fn}(hardware=...)` must be a preset name or a Hardware, got {hardware!r}.",
                       rule="not hardware", value=hardware)
    B = _positive_int(fn, "batch", batch)
    ctx = _positive_int(fn, "context", context, minimum=0)
    bpp = _positive_float(fn, "bytes_per_param", bytes_per_param)
    kvb = _positive_float(fn, "kv_bytes_per_value", kv_bytes_per_value)
    u = _positive_float(fn, "utilization", utilization, upper=1.0)

    flops = B * float(arch.decode_flops_per_token(ctx))
    weights = float(arch.decode_params) * bpp
    kv = float(arch.kv_cache_bytes(ctx, batch=B, bytes_per_value=kvb))
    nbytes = weights + kv
    t_c = flops / (u * hw.peak_flops)
    t_m = nbytes / (u * hw.bandwidth)
    t = max(t_c, t_m)
    notes = ["a roofline model, not a measurement: peak rates x utilization, weights and KV cache read "
             "once per step; activations, launch and communication overheads ignored",
             f"weights read per step: decode_params = non-embedding + vocab x d_model = {arch.decode_params:,} "
             f"at {bpp:g} bytes each"]
    warns = []
    resident = float(arch.params) * bpp + kv
    if hw.memory_bytes is not None and resident > hw.memory_bytes:
        warns.append(f"weights ({float(arch.params) * bpp:.3g} bytes) + KV cache ({kv:.3g} bytes) exceed one "
                     f"{hw.name}'s memory ({hw.memory_bytes:.3g} bytes): the model does not fit on one accelerator "
                     f"as configured")
        warnings.warn(f"{fn}: {warns[-1]}.", UserWarning, stacklevel=2)
    return DecodeThroughput(
        architecture=arch, hardware=hw, batch=B, context=ctx, bytes_per_param=bpp, kv_bytes_per_value=kvb,
        utilization=u, flops_per_step=flops, weight_bytes=weights, kv_bytes=kv, bytes_per_step=nbytes,
        compute_time=t_c, memory_time=t_m, time_per_token=t, tokens_per_second=B / t, per_sequence=1.0 / t,
        bound="compute" if t_c > t_m else "memory", arithmetic_intensity=flops / nbytes,
        notes=tuple(notes), warnings=tuple(warns))


# ---- a runs table -------------------------------------------------------------------------------

def derive_architecture(runs: Any, *, head_dim: int | None = None, gated_mlp: bool = True,
                        tied_embeddings: bool = False) -> dict[str, np.ndarray]:
    """Counts of each row's architecture, as new float64 arrays (``runs`` is not changed).

    ``runs`` (a :class:`~scalinglaws.runs.Runs`, or anything ``read_runs`` takes) needs columns
    hidden_size, n_layers, ffn_size and n_heads; n_kv_heads defaults to n_heads and vocab_size is
    optional (without it, ``params`` and ``embedding_params`` are absent from the result).
    ``head_dim``, ``gated_mlp`` and ``tied_embeddings`` apply to every row.
    Keys: params, embedding_params (with vocab_size), non_embedding_params, attention_params,
    mlp_params, mlp_attention_ratio, d_over_sqrt_n, kv_cache_bytes_per_token (bf16).
    Every row is validated as :class:`Architecture` is; an error names the row and column.
    """
    from .runs import Runs, as_runs  # the one coercion of user data (layer below)

    try:
        r = as_runs(runs, fn="derive_architecture")
    except DataError as e:
        # read_runs wants a scale or target column; a table of shapes alone is fine here (every
        # value is still checked below, row by row, as Architecture checks it)
        if e.rule != "no usable columns" or not isinstance(runs, Mapping):
            raise
        r = Runs({k: np.asarray(v, dtype=np.float64) for k, v in runs.items()}, source="<dict>")
    r.require(("hidden_size", "n_layers", "ffn_size", "n_heads"), law="derive_architecture")
    has_vocab = "vocab_size" in r
    field_col = {"d_model": "hidden_size", "head_dim": "n_heads"}
    keys = (["params", "embedding_params"] if has_vocab else []) + [
        "non_embedding_params", "attention_params", "mlp_params", "mlp_attention_ratio", "d_over_sqrt_n",
        "kv_cache_bytes_per_token"]
    out = {k: np.empty(len(r), dtype=np.float64) for k in keys}
    for i in range(len(r)):
        try:
            a = Architecture.from_row(r, i, head_dim=head_dim, gated_mlp=gated_mlp, tied_embeddings=tied_embeddings,
                                      **({} if has_vocab else {"vocab_size": 1}))
        except LawError as e:
            field = next((f for f in (*_INT_FIELDS, "gated_mlp", "tied_embeddings") if f"({f}=" in e.message), None)
            col = field_col.get(field, field)
            row = int(r.row_ids[i])
            raise DataError(f"{r.source}: row {row}: {e.message}" + (f" (column '{col}')" if col else ""),
                            source=r.source, column=col, row=row, rule=e.rule, value=e.value) from None
        d = a.derived()
        for k in keys:
            out[k][i] = d[k]
    return out
