"""FLOP and memory accounting: formulas, float64 beyond 2**63, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import LawError
from scalinglaws.flops import inference_flops_per_token, kv_cache_bytes, query_flops, train_flops


def test_train_flops_is_6ND_and_float():
    assert train_flops(70e9, 1.4e12) == pytest.approx(5.88e23, rel=1e-15)
    assert isinstance(train_flops(1, 1), float)
    # Chinchilla's Gopher budget: 6 * 280e9 * 300e9 = 5.04e23
    assert train_flops(280e9, 300e9) == pytest.approx(5.04e23, rel=1e-15)


def test_counts_beyond_int64_stay_float64():
    # integer inputs whose product overflows int64 must not wrap around
    N = np.array([10**12, 10**13], dtype=np.int64)
    D = np.array([10**13, 10**14], dtype=np.int64)
    out = train_flops(N, D)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [6e25, 6e27], rtol=1e-15)
    assert query_flops(np.int64(10**12), np.int64(10**9), samples=np.int64(10**3)) == pytest.approx(2e24, rel=1e-15)


def test_inference_flops_per_token_kaplan():
    assert inference_flops_per_token(7e9) == 1.4e10
    # 2N + 2 n_layers context d_attn
    got = inference_flops_per_token(7e9, n_layers=32, context=4096, d_attn=4096)
    assert got == pytest.approx(2 * 7e9 + 2 * 32 * 4096 * 4096, rel=1e-15)
    # vectorised over context
    ctx = np.array([0.0, 1024.0, 8192.0])
    np.testing.assert_allclose(inference_flops_per_token(1e9, 24, ctx, 2048), 2e9 + 2 * 24 * ctx * 2048)


def test_attention_term_needs_all_three():
    with pytest.raises(LawError, match="n_layers, context and d_attn"):
        inference_flops_per_token(7e9, n_layers=32)


def test_kv_cache_bytes_and_gqa():
    # Llama-2-7B-like: 32 layers, 32 heads of 128, 4096 context, bf16 -> 2 GiB per sequence
    full = kv_cache_bytes(32, 32, 128, 4096)
    assert full == 2 * 32 * 32 * 128 * 4096 * 2 == 2**31
    # grouped-query attention with 8 KV heads: 4x smaller
    assert kv_cache_bytes(32, 8, 128, 4096) == full / 4
    assert kv_cache_bytes(32, 8, 128, 4096, bytes_per=1) == full / 8


def test_query_flops():
    # prompt once, then k samples of T tokens, 2N per token
    assert query_flops(7e9, 1000, samples=4, prompt_tokens=500) == pytest.approx(2 * 7e9 * (500 + 4000), rel=1e-15)
    assert query_flops(7e9, 1000) == pytest.approx(1.4e13, rel=1e-15)
    k = np.array([1, 2, 4, 8])
    np.testing.assert_allclose(query_flops(1e9, 100, samples=k), 2e9 * 100 * k)
    with_attn = query_flops(1e9, 100, n_layers=24, context=2048, d_attn=2048)
    assert with_attn == pytest.approx(100 * (2e9 + 2 * 24 * 2048 * 2048), rel=1e-15)


@pytest.mark.parametrize("call", [
    lambda: train_flops(-1.0, 1e9),
    lambda: train_flops(1e9, np.nan),
    lambda: train_flops(0.0, 1e9),
    lambda: train_flops("many", 1e9),
    lambda: kv_cache_bytes(32, 0, 128, 4096),
    lambda: query_flops(1e9, -5.0),
    lambda: query_flops(1e9, 10, samples=-1),
    lambda: inference_flops_per_token(np.inf),
])
def test_bad_input_raises_clear_error(call):
    with pytest.raises(LawError, match=r"must be"):
        call()
