"""FLOP and memory accounting for training and inference.

Every count is float64: FLOP totals pass 2**63 (9.2e18) at modest scale, so
they are never held as int64. Scalars in give floats out; arrays in give
float64 arrays out (NumPy broadcasting).

- Training: ``train_flops(N, D) = 6 N D`` (Hoffmann et al. 2022; Kaplan et al.
  2020: forward 2ND, backward 4ND).
- Inference per generated token: ``2 N + 2 n_layers context d_attn`` (Kaplan
  et al. 2020, Table 1: the forward pass plus the attention-over-context term).
- KV cache: ``2 (K and V) n_layers n_kv_heads head_dim context bytes_per``
  bytes per sequence (grouped-query attention shrinks it through n_kv_heads).
- One query: ``prompt_tokens`` read once (prefill, shared by all samples) and
  ``samples`` completions of ``tokens_per_query`` tokens (decode), each token at
  the per-token cost above (Brown et al. 2024 count the same way).

>>> train_flops(70e9, 1.4e12)
5.88e+23
>>> query_flops(7e9, tokens_per_query=1000, samples=4, prompt_tokens=500)
63000000000000.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import LawError

__all__ = ["train_flops", "inference_flops_per_token", "kv_cache_bytes", "query_flops"]


def _as_float(name: str, value: Any, *, fn: str, positive: bool = True) -> np.ndarray:
    """``value`` as a float64 array, checked finite and > 0 (or >= 0)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LawError(f"`{fn}({name}=...)` must be a number or an array of numbers, got {value!r}.",
                       rule="not a number", value=value) from None
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    if np.any(bad):
        found = arr[bad].flat[0]
        rule = "> 0" if positive else ">= 0"
        raise LawError(f"`{fn}({name}=...)` must be finite and {rule}, got {found}.",
                       rule="not positive" if positive else "negative", value=float(found))
    return arr


def _out(x: np.ndarray) -> Any:
    return float(x) if np.ndim(x) == 0 else x


def train_flops(N: Any, D: Any) -> Any:
    """Training FLOPs ``6 N D`` for ``N`` parameters trained on ``D`` tokens."""
    n = _as_float("N", N, fn="train_flops")
    d = _as_float("D", D, fn="train_flops")
    return _out(6.0 * n * d)


def inference_flops_per_token(N: Any, n_layers: Any = None, context: Any = None, d_attn: Any = None) -> Any:
    """Forward FLOPs per generated token: ``2 N`` plus, when the architecture is
    given, the attention term ``2 n_layers context d_attn`` (Kaplan et al. 2020).

    ``d_attn`` is the attention width (n_heads * head_dim, usually d_model);
    ``context`` the number of tokens attended to. Give all three or none.
    """
    fn = "inference_flops_per_token"
    n = _as_float("N", N, fn=fn)
    arch = {"n_layers": n_layers, "context": context, "d_attn": d_attn}
    given = [k for k, v in arch.items() if v is not None]
    if not given:
        return _out(2.0 * n)
    if len(given) != 3:
        missing = [k for k in arch if k not in given]
        raise LawError(f"`{fn}`: the attention term needs n_layers, context and d_attn together; "
                       f"missing {missing}.", rule="missing argument")
    L = _as_float("n_layers", n_layers, fn=fn)
    ctx = _as_float("context", context, fn=fn, positive=False)
    d = _as_float("d_attn", d_attn, fn=fn)
    return _out(2.0 * n + 2.0 * L * ctx * d)


def kv_cache_bytes(n_layers: Any, n_kv_heads: Any, head_dim: Any, context: Any, bytes_per: Any = 2) -> Any:
    """Bytes of KV cache for one sequence of ``context`` tokens:
    ``2 * n_layers * n_kv_heads * head_dim * context * bytes_per`` (keys and
    values; ``bytes_per=2`` for bf16/fp16). Multiply by the batch size for a batch."""
    fn = "kv_cache_bytes"
    L = _as_float("n_layers", n_layers, fn=fn)
    h = _as_float("n_kv_heads", n_kv_heads, fn=fn)
    hd = _as_float("head_dim", head_dim, fn=fn)
    ctx = _as_float("context", context, fn=fn, positive=False)
    b = _as_float("bytes_per", bytes_per, fn=fn)
    return _out(2.0 * L * h * hd * ctx * b)


def query_flops(N: Any, tokens_per_query: Any, samples: Any = 1, prompt_tokens: Any = 0,
                *, n_layers: Any = None, context: Any = None, d_attn: Any = None) -> Any:
    """Inference FLOPs of one query: ``C_tok * (prompt_tokens + samples * tokens_per_query)``,
    with ``C_tok = inference_flops_per_token(N, n_layers, context, d_attn)`` (``2 N`` by default).

    The prompt is processed once and shared by the ``samples`` completions.
    """
    fn = "query_flops"
    per_tok = np.asarray(inference_flops_per_token(N, n_layers, context, d_attn), dtype=np.float64)
    T = _as_float("tokens_per_query", tokens_per_query, fn=fn, positive=False)
    k = _as_float("samples", samples, fn=fn, positive=False)
    P = _as_float("prompt_tokens", prompt_tokens, fn=fn, positive=False)
    return _out(per_tok * (P + k * T))
