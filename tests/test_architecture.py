"""Architecture counts, FLOPs, KV cache and the decode roofline (scalinglaws/architecture.py).

Expected values are written out by hand from the papers' formulas (Kaplan et al. 2020 Table 1,
Hoffmann et al. 2022 App. F), published parameter counts (Llama-2-7B, Llama-3.2-1B model cards),
Bian et al. 2025b Table 1 (REFERENCE.md section 8b) and the roofline's closed form. Integer counts
are compared exactly; FLOPs and bytes (float64 products up to ~1e24, past 2**53) to a relative
1e-12, many orders above float64 rounding of a few products, far below any formula slip.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.architecture import HARDWARE, Architecture, Hardware, decode_throughput, derive_architecture
from scalinglaws.errors import DataError, LawError

REL = 1e-12

CHINCHILLA = dict(d_model=8192, n_layers=80, ffn_size=4 * 8192, n_heads=64, vocab_size=32000, gated_mlp=False,
                  name="Chinchilla-70B")          # Hoffmann et al. Table 4: key/value size 128 = 8192 / 64
GPT3 = dict(d_model=12288, n_layers=96, ffn_size=4 * 12288, n_heads=96, vocab_size=50257, gated_mlp=False,
            tied_embeddings=True, name="GPT-3-175B")  # Brown et al. 2020 Table 2.1: d_head 128
LLAMA2_7B = dict(d_model=4096, n_layers=32, ffn_size=11008, n_heads=32, vocab_size=32000, name="Llama-2-7B")


def test_top_level_exports():
    assert sl.Architecture is Architecture and sl.decode_throughput is decode_throughput
    assert {"Architecture", "decode_throughput"} <= set(sl.__all__)


# ---- parameter counts against published totals --------------------------------------------------

def test_llama2_7b_params_match_the_published_count_less_its_norm_gains():
    a = Architecture(**LLAMA2_7B)
    # attention 4 d^2 per layer (MHA), gated MLP 3 d f, untied embeddings 2 V d
    per_layer = 4 * 4096**2 + 3 * 4096 * 11008          # 67,108,864 + 135,266,304
    assert a.non_embedding_params == 32 * per_layer == 6_476_005_376
    assert a.embedding_params == 2 * 32000 * 4096 == 262_144_000
    # the model card's 6,738,415,616 also holds the RMSNorm gains: 2 per layer + a final one, d each
    assert a.params == 6_738_415_616 - (2 * 32 + 1) * 4096
    assert a.mlp_attention_ratio == pytest.approx(135_266_304 / 67_108_864, rel=1e-15)


def test_llama32_1b_gqa_tied_params_match_the_published_count_less_norms():
    a = Architecture(d_model=2048, n_layers=16, ffn_size=8192, n_heads=32, n_kv_heads=8, vocab_size=128256,
                     tied_embeddings=True)
    # head_dim 64: Q and O 2048 x 2048, K and V 2048 x (8 * 64) each
    per_layer = 2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192
    assert a.head_dim == 64 and a.non_embedding_params == 16 * per_layer == 973_078_528
    assert a.params == 1_235_814_400 - (2 * 16 + 1) * 2048    # published 1.24B count, norms excluded
    # tying halves the embedding count
    untied = Architecture(d_model=2048, n_layers=16, ffn_size=8192, n_heads=32, n_kv_heads=8, vocab_size=128256)
    assert untied.embedding_params == 2 * a.embedding_params == 2 * 128256 * 2048


# ---- Kaplan's C_forward and Hoffmann's App. F, by hand -----------------------------------------

def test_kaplan_forward_flops_chinchilla_and_gpt3():
    # Kaplan: N = 2 d n_layer (2 d_attn + d_ff); C_fwd = 2 N + 2 n_layer n_ctx d_attn
    ch = Architecture(**CHINCHILLA)
    n_ch = 2 * 8192 * 80 * (2 * 8192 + 32768)               # = 64,424,509,440 = 12 n_layer d^2
    assert ch.non_embedding_params == n_ch == 12 * 80 * 8192**2
    assert ch.forward_flops_per_token(2048) == pytest.approx(2 * n_ch + 2 * 80 * 2048 * 8192, rel=REL)
    assert ch.forward_flops_per_token(2048) == pytest.approx(131_533_373_440, rel=REL)

    g3 = Architecture(**GPT3)
    n_g3 = 2 * 12288 * 96 * (2 * 12288 + 49152)             # = 173,946,175,488 (the "175B" less embeddings)
    assert g3.non_embedding_params == n_g3
    assert g3.forward_flops_per_token(2048) == pytest.approx(352_724_189_184, rel=REL)
    assert g3.params == n_g3 + 50257 * 12288                 # tied: one V x d matrix
    # context 0 leaves 2N; arrays broadcast
    np.testing.assert_allclose(g3.forward_flops_per_token(np.array([0.0, 2048.0])),
                               [2 * n_g3, 352_724_189_184], rtol=REL)


def _hoffmann_by_hand(S, d, L, h, k, f, V):
    """App. F written out (no GQA, plain MLP)."""
    embeddings = 2 * S * V * d
    qkv = 2 * 3 * S * d * (k * h)
    logits_att = 2 * S * S * (k * h)
    softmax = 3 * h * S * S
    reduction = 2 * S * S * (k * h)
    projection = 2 * S * (k * h) * d
    dense = 2 * S * (d * f + d * f)
    logits = 2 * S * d * V
    per_layer = qkv + logits_att + softmax + reduction + projection + dense
    return dict(embeddings=embeddings, attention_qkv=qkv, attention_logits=logits_att, attention_softmax=softmax,
                attention_reduction=reduction, attention_projection=projection, dense=dense, logits=logits,
                per_layer=per_layer, forward=embeddings + L * per_layer + logits)


@pytest.mark.parametrize("cfg, S", [(CHINCHILLA, 2048), (GPT3, 2048)], ids=["chinchilla", "gpt3"])
def test_hoffmann_app_f_per_layer_counts(cfg, S):
    a = Architecture(**cfg)
    want = _hoffmann_by_hand(S, cfg["d_model"], cfg["n_layers"], cfg["n_heads"], cfg["d_model"] // cfg["n_heads"],
                             cfg["ffn_size"], cfg["vocab_size"])
    got = a.flops_breakdown(S)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=REL), key
    assert got["train"] == pytest.approx(3 * want["forward"], rel=REL)   # backward = 2x forward
    D = 1.4e12
    assert a.train_flops(D, method="per_layer", seq_len=S) == pytest.approx(3 * want["forward"] / S * D, rel=REL)
    no_emb = a.train_flops(D, method="per_layer", seq_len=S, embeddings=False)
    assert no_emb == pytest.approx(3 * (want["forward"] - want["embeddings"]) / S * D, rel=REL)


def test_chinchilla_app_f_numbers_and_ratio_to_6nd():
    a = Architecture(**CHINCHILLA)
    S = 2048
    # per layer: qkv 6 S d^2, scores + reduction 4 S^2 d, softmax 3 h S^2, projection 2 S d^2, dense 16 S d^2
    per_layer = 24 * S * 8192**2 + 4 * S * S * 8192 + 3 * 64 * S * S
    assert per_layer == 3_298_534_883_328 + 137_438_953_472 + 805_306_368
    assert a.flops_breakdown(S)["per_layer"] == pytest.approx(per_layer, rel=REL)
    # 6ND with Hoffmann's N (embeddings counted once here: untied, so 2 V d)
    assert a.train_flops(1.4e12) == pytest.approx(6 * (12 * 80 * 8192**2 + 2 * 32000 * 8192) * 1.4e12, rel=REL)
    assert a.train_flops(1.4e12, embeddings=False) == pytest.approx(6 * 12 * 80 * 8192**2 * 1.4e12, rel=REL)
    # Hoffmann's Table A4 finds detailed / 6ND near 1 (0.99-1.10); this 70B shape gives 1.02
    ratio = a.train_flops(1.4e12, method="per_layer", seq_len=S) / a.train_flops(1.4e12)
    assert 0.99 < ratio < 1.05


def test_gqa_and_gated_mlp_in_app_f():
    a = Architecture(d_model=4096, n_layers=32, ffn_size=14336, n_heads=32, n_kv_heads=8, vocab_size=128256)
    br = a.flops_breakdown(1024)
    # Q 4096 wide, K and V 8 * 128 = 1024 wide each; SwiGLU three d x f matrices
    assert br["attention_qkv"] == pytest.approx(2 * 1024 * 4096 * (4096 + 2 * 1024), rel=REL)
    assert br["dense"] == pytest.approx(2 * 1024 * 3 * 4096 * 14336, rel=REL)


def test_prefill_is_the_causal_sum_and_decode_adds_the_output_projection():
    a = Architecture(**LLAMA2_7B)
    P = 500
    t = np.arange(1, P + 1, dtype=np.float64)
    causal = np.sum(2.0 * a.non_embedding_params + 2.0 * 32 * t * 4096)   # token t attends to t tokens
    assert a.prefill_flops(P) == pytest.approx(causal + 2.0 * 4096 * 32000, rel=REL)
    assert a.decode_flops_per_token(P) == pytest.approx(
        2.0 * (6_476_005_376 + 32000 * 4096) + 2.0 * 32 * P * 4096, rel=REL)


# ---- Bian et al. 2025b Table 1: d / sqrt(N) and r --------------------------------------------

# (name, d, ffn, layers, GQA group = n_heads / n_kv_heads, n_heads, head_dim, table d/sqrt(N), table r)
# LLaMA-3.2 head counts are the released configs (32 and 24 heads, 8 KV heads). The table does not
# list the Panda/Surefire head counts: the paper fixes head_dim (64 up to 1B, 128 at 3B) and varies r
# through the number of heads; the n_heads below is the one count that reproduces the row
# (test_bian_variant_head_counts_are_unique checks that no other multiple of the group does).
TABLE1 = [
    ("LLaMA-3.2-1B", 2048, 8192, 16, 4, 32, 64, 0.066, 4.80),
    ("Panda-1B", 2560, 4096, 16, 4, 72, 64, 0.082, 1.07),
    ("Surefire-1B", 2560, 6144, 16, 9, 36, 64, 0.082, 3.6),
    ("Panda-3B", 4096, 4096, 28, 3, 36, 128, 0.077, 1.0),
    ("Surefire-3B", 4096, 4096, 28, 7, 42, 128, 0.077, 1.0),
    ("Panda-3B-fit-1B", 4096, 4608, 28, 3, 33, 128, 0.076, 1.23),
]


def _bian(d, ffn, L, g, h, hd):
    return Architecture(d_model=d, ffn_size=ffn, n_layers=L, n_heads=h, n_kv_heads=h // g, head_dim=hd,
                        vocab_size=128256, tied_embeddings=True)


@pytest.mark.parametrize("row", TABLE1, ids=[r[0] for r in TABLE1])
def test_bian_table1_d_over_sqrt_n_and_r(row):
    _, d, ffn, L, g, h, hd, dn, r = row
    a = _bian(d, ffn, L, g, h, hd)
    # independent re-derivation: N = L (2 d h hd + 2 d (h/g) hd + 3 d ffn), r = 3 d ffn / attention
    attn = 2 * d * h * hd + 2 * d * (h // g) * hd
    n = L * (attn + 3 * d * ffn)
    assert a.non_embedding_params == n
    assert abs(a.d_over_sqrt_n - d / math.sqrt(n)) < 1e-15
    assert abs(a.d_over_sqrt_n - dn) <= 0.0005     # the table prints three decimals
    assert abs(a.mlp_attention_ratio - r) <= 0.005  # two decimals
    # Bian's N is the non-embedding count: with the embeddings d / sqrt(N) would miss the table
    assert abs(d / math.sqrt(a.params) - dn) > 0.004


def test_bian_table1_llama32_3b_r_disagrees_with_its_shape():
    """The table gives r = 4.80 for LLaMA-3.2-3B (the 1B row's value) and the text 1.5; its shape
    (d 3072, ffn 8192, 24 heads of 128, 8 KV heads) gives r = 3 * 3072 * 8192 / (2 * 3072^2 +
    2 * 3072 * 1024) = 75,497,472 / 25,165,824 = 3.00 exactly, which is neither. d / sqrt(N) = 0.058
    agrees."""
    a = _bian(3072, 8192, 28, 3, 24, 128)
    assert a.mlp_attention_ratio == 3.0
    assert abs(a.mlp_attention_ratio - 4.80) > 1 and abs(a.mlp_attention_ratio - 1.5) > 1
    assert abs(a.d_over_sqrt_n - 0.058) <= 0.0005


def test_bian_variant_head_counts_are_unique():
    for name, d, ffn, L, g, h, hd, dn, r in TABLE1[1:]:
        hits = [hh for hh in range(g, 257, g)
                if abs(_bian(d, ffn, L, g, hh, hd).mlp_attention_ratio - r) <= 0.005
                and abs(_bian(d, ffn, L, g, hh, hd).d_over_sqrt_n - dn) <= 0.0005]
        assert hits == [h], (name, hits)


# ---- KV cache and GQA ------------------------------------------------------------------------

def test_kv_cache_bytes_scale_exactly_with_kv_heads():
    base = dict(d_model=4096, n_layers=32, ffn_size=11008, n_heads=32, vocab_size=32000)
    mha = Architecture(**base)
    # 2 (K, V) * 32 layers * 32 heads * 128 dims * 2 bytes = 524,288 bytes per token
    assert mha.kv_cache_bytes_per_token() == 524_288
    assert mha.kv_cache_bytes(4096) == 524_288 * 4096 == 2 * 2**30
    assert mha.kv_cache_bytes(4096, batch=8, bytes_per_value=1) == 8 * 4096 * 2 * 32 * 32 * 128
    for kv in (1, 2, 4, 8, 16):
        gqa = Architecture(**base, n_kv_heads=kv)
        assert gqa.kv_cache_bytes(4096) * 32 == mha.kv_cache_bytes(4096) * kv   # exact (powers of two)
        assert gqa.kv_cache_bytes_per_token(bytes_per_value=2) == 2 * 32 * kv * 128 * 2


# ---- the decode roofline -----------------------------------------------------------------------

def test_hardware_presets():
    assert set(HARDWARE) == {"A100-40GB", "A100-80GB", "H100", "H200"}
    assert (HARDWARE["A100-40GB"].peak_flops, HARDWARE["A100-40GB"].bandwidth) == (312e12, 1.555e12)
    assert HARDWARE["A100-80GB"].bandwidth == 2.039e12 and HARDWARE["H100"].bandwidth == 3.35e12
    assert HARDWARE["H100"].peak_flops == HARDWARE["H200"].peak_flops == 989e12
    assert HARDWARE["H200"].bandwidth == 4.8e12
    assert all("datasheet" in hw.citation for hw in HARDWARE.values())


@pytest.mark.parametrize("hw", sorted(HARDWARE))
def test_batch_one_is_bandwidth_over_bytes_and_memory_bound(hw):
    a = Architecture(**LLAMA2_7B)
    res = decode_throughput(a, hardware=hw, batch=1, context=4096)
    # bytes per token: weights read once (non-embedding + output projection, bf16) + this sequence's KV cache
    weights = 2 * (6_476_005_376 + 32000 * 4096)      # 13,214,154,752
    kv = 2 * 32 * 32 * 128 * 2 * 4096                  # 2,147,483,648
    bw = HARDWARE[hw].bandwidth
    assert res.bound == "memory"
    assert res.tokens_per_second == pytest.approx(bw / (weights + kv), rel=REL)
    assert res.per_sequence == pytest.approx(res.tokens_per_second, rel=REL)
    assert res.time_per_token == pytest.approx((weights + kv) / bw, rel=REL)
    flops = 2 * (6_476_005_376 + 32000 * 4096) + 2 * 32 * 4096 * 4096
    assert res.arithmetic_intensity == pytest.approx(flops / (weights + kv), rel=REL)
    # memory-bound: halving the achieved rates halves the throughput
    half = decode_throughput(a, hardware=hw, batch=1, context=4096, utilization=0.5)
    assert half.tokens_per_second == pytest.approx(res.tokens_per_second / 2, rel=REL)


@pytest.mark.parametrize("hw", sorted(HARDWARE))
def test_large_batch_is_compute_bound_with_short_context(hw):
    a = Architecture(**LLAMA2_7B)
    B, ctx = 2048, 16
    res = decode_throughput(a, hardware=hw, batch=B, context=ctx)
    flops = B * (2 * (6_476_005_376 + 32000 * 4096) + 2 * 32 * ctx * 4096)
    assert res.bound == "compute"
    assert res.tokens_per_second == pytest.approx(B / (flops / HARDWARE[hw].peak_flops), rel=REL)
    assert res.arithmetic_intensity > HARDWARE[hw].ridge_intensity
    # with multi-head attention at context 4096 the KV reads keep decode memory-bound at any batch:
    # intensity tends to decode FLOPs / KV bytes per sequence = 1.41e10 / 2.15e9 = 6.6 < the ridge (>= 150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # batch 1024 x 2 GiB of cache does not fit: warned, legal
        long = decode_throughput(a, hardware=hw, batch=1024, context=4096)
    assert long.bound == "memory" and long.arithmetic_intensity < 7


def test_custom_hardware_cost_and_memory_warning():
    a = Architecture(**LLAMA2_7B)
    hw = Hardware(peak_flops=100e12, bandwidth=1e12, name="toy", memory_bytes=16e9)
    res = decode_throughput(a, hardware=hw, batch=1, context=0)
    assert res.tokens_per_second == pytest.approx(1e12 / (2 * 6_607_077_376), rel=REL)
    assert res.cost_per_million_tokens(3.6) == pytest.approx(3.6 / 3600 / res.tokens_per_second * 1e6, rel=REL)
    assert res.warnings == () and "not a measurement" in res.report()
    d = res.to_dict()
    assert d["bound"] == "memory" and d["hardware"]["name"] == "toy" and d["architecture"]["params"] == a.params
    with pytest.warns(UserWarning, match="exceed one toy's memory"):
        big = decode_throughput(a, hardware=hw, batch=8, context=4096)   # 13.5 GB + 17.2 GB > 16 GB
    assert len(big.warnings) == 1


def test_architecture_report_and_to_dict():
    a = Architecture(**LLAMA2_7B)
    d = a.to_dict()
    assert d["n_kv_heads"] == 32 and d["head_dim"] == 128 and d["params"] == 6_738_149_376
    assert d["kv_cache_bytes_per_token"] == 524_288
    assert "Llama-2-7B" in a.report() and "6,738,149,376" in a.report()
    res = decode_throughput(a, hardware="H200", batch=4, context=1024)
    back = json.loads(json.dumps(res.to_dict()))
    assert back["architecture"]["name"] == "Llama-2-7B" and back["hardware"]["bandwidth"] == 4.8e12
    assert back["batch"] == 4 and back["bound"] == res.bound and "H200" in res.report()


# ---- a runs table ------------------------------------------------------------------------------

def test_derive_architecture_from_runs():
    runs = sl.read_runs({"params": np.array([1.2e9, 1.2e9]), "tokens": np.array([1e11, 1e11]),
                         "loss": np.array([2.80, 2.78]),
                         "hidden_size": np.array([2048.0, 2560.0]), "n_layers": np.array([16.0, 16.0]),
                         "ffn_size": np.array([8192.0, 4096.0]), "n_heads": np.array([32.0, 72.0]),
                         "n_kv_heads": np.array([8.0, 18.0]), "vocab_size": np.array([128256.0, 128256.0])})
    before = set(runs.names)
    out = derive_architecture(runs, head_dim=64, tied_embeddings=True)
    assert set(runs.names) == before                            # runs untouched
    n0 = 16 * (2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192)
    n1 = 16 * (2 * 2560 * 72 * 64 + 2 * 2560 * 18 * 64 + 3 * 2560 * 4096)
    np.testing.assert_array_equal(out["non_embedding_params"], [n0, n1])
    np.testing.assert_array_equal(out["params"], [n0 + 128256 * 2048, n1 + 128256 * 2560])
    np.testing.assert_allclose(out["d_over_sqrt_n"], [2048 / math.sqrt(n0), 2560 / math.sqrt(n1)], rtol=REL)
    np.testing.assert_allclose(out["mlp_attention_ratio"],
                               [3 * 2048 * 8192 / (2 * 2048**2 + 2 * 2048 * 512),
                                3 * 2560 * 4096 / (2 * 2560 * 72 * 64 + 2 * 2560 * 18 * 64)], rtol=REL)
    assert out["params"].dtype == np.float64


def test_derive_architecture_without_vocab_or_kv_heads():
    runs = {"hidden_size": np.array([4096.0]), "n_layers": np.array([32.0]), "ffn_size": np.array([11008.0]),
            "n_heads": np.array([32.0])}
    out = derive_architecture(runs)
    assert "params" not in out and "embedding_params" not in out
    assert out["non_embedding_params"][0] == 6_476_005_376
    assert out["kv_cache_bytes_per_token"][0] == 524_288          # n_kv_heads defaults to n_heads


def test_derive_architecture_errors_name_row_and_column():
    runs = {"hidden_size": np.array([4096.0, 4096.0]), "n_layers": np.array([32.0, 32.0]),
            "ffn_size": np.array([11008.0, 11008.0]), "n_heads": np.array([32.0, 32.0]),
            "n_kv_heads": np.array([8.0, 5.0])}
    with pytest.raises(DataError, match="row 1") as e:
        derive_architecture(runs)
    assert e.value.row == 1 and e.value.column == "n_kv_heads" and e.value.value == 5
    runs["n_kv_heads"] = np.array([8.0, 7.5])
    with pytest.raises(DataError, match="positive integer") as e:
        derive_architecture(runs)
    assert e.value.column == "n_kv_heads" and e.value.row == 1
    with pytest.raises(LawError, match="ffn_size"):
        derive_architecture({k: v for k, v in runs.items() if k != "ffn_size"})


# ---- bad input: every rule ---------------------------------------------------------------------

GOOD = dict(d_model=512, n_layers=8, ffn_size=2048, n_heads=8, vocab_size=1000)


_FIELDS = ["d_model", "n_layers", "ffn_size", "n_heads", "vocab_size", "n_kv_heads", "head_dim"]
_BAD = [0, -4, 2.5, float("nan"), float("inf"), True, "8"]
# None is a bad value for the required fields only (n_kv_heads and head_dim default to None)
_CASES = [(f, b) for f in _FIELDS for b in _BAD] + [(f, None) for f in _FIELDS[:5]]


@pytest.mark.parametrize("field, bad", _CASES)
def test_integer_fields_must_be_positive_integers(field, bad):
    with pytest.raises(LawError, match=rf"Architecture\({field}=") as e:
        Architecture(**{**GOOD, field: bad})
    assert e.value.rule == "not a positive integer"


def test_whole_floats_are_accepted_as_integers():
    a = Architecture(**{**GOOD, "d_model": 512.0})
    assert a.d_model == 512 and isinstance(a.d_model, int)


def test_structural_rules():
    with pytest.raises(LawError, match="divisible by n_kv_heads") as e:
        Architecture(**GOOD, n_kv_heads=3)
    assert e.value.rule == "n_heads not divisible by n_kv_heads" and e.value.value == 3
    with pytest.raises(LawError, match="head_dim") as e:
        Architecture(**{**GOOD, "n_heads": 6})                # 512 / 6 is not whole, no head_dim given
    assert e.value.rule == "d_model not divisible by n_heads"
    assert Architecture(**{**GOOD, "n_heads": 6}, head_dim=64).d_attn == 384   # legal with head_dim
    for flag in ("gated_mlp", "tied_embeddings"):
        with pytest.raises(LawError, match=flag):
            Architecture(**GOOD, **{flag: 1})
    with pytest.raises(LawError, match="name"):
        Architecture(**GOOD, name=7)
    with pytest.raises(TypeError):                           # keyword-only: no positional mix-ups
        Architecture(512, 8, 2048, 8, 1000)


def test_method_argument_rules():
    a = Architecture(**GOOD)
    with pytest.raises(LawError, match="method"):
        a.train_flops(1e9, method="5ND")
    with pytest.raises(LawError, match="seq_len"):
        a.train_flops(1e9, method="per_layer")
    with pytest.raises(LawError, match="tokens"):
        a.train_flops(-1.0, method="per_layer", seq_len=128)
    with pytest.raises(LawError, match="D="):
        a.train_flops(0.0)
    with pytest.raises(LawError, match="context"):
        a.kv_cache_bytes(-1)
    with pytest.raises(LawError, match="batch"):
        a.kv_cache_bytes(10, batch=0)
    with pytest.raises(LawError, match="prompt_len"):
        a.prefill_flops(0)
    with pytest.raises(LawError, match=r"Architecture.forward_flops_per_token\(context="):
        a.forward_flops_per_token(float("nan"))
    with pytest.raises(LawError, match=r"Architecture.decode_flops_per_token\(context="):
        a.decode_flops_per_token(-1)
    with pytest.raises(LawError, match=r"Architecture.kv_cache_bytes\(bytes_per_value="):
        a.kv_cache_bytes(10, bytes_per_value=0)
    with pytest.raises(LawError, match=r"kv_cache_bytes_per_token\(bytes_per_value="):
        a.kv_cache_bytes_per_token(bytes_per_value=-1)
    with pytest.raises(LawError, match="seq_len"):
        a.flops_breakdown(0)


@pytest.mark.parametrize("kwargs, needle", [
    ({"hardware": "TPUv5"}, "unknown preset"),
    ({"hardware": 3.0}, "hardware"),
    ({"batch": 0}, "batch"), ({"batch": 1.5}, "batch"),
    ({"context": -1}, "context"), ({"context": 10.5}, "context"),
    ({"bytes_per_param": 0}, "bytes_per_param"), ({"kv_bytes_per_value": -2}, "kv_bytes_per_value"),
    ({"utilization": 0.0}, "utilization"), ({"utilization": 1.5}, "utilization"),
])
def test_decode_throughput_argument_rules(kwargs, needle):
    with pytest.raises(LawError, match=needle):
        decode_throughput(Architecture(**GOOD), **kwargs)


def test_decode_throughput_needs_an_architecture_and_hardware_rules():
    with pytest.raises(LawError, match="Architecture"):
        decode_throughput(GOOD)
    for kw in ({"peak_flops": 0.0, "bandwidth": 1e12}, {"peak_flops": 1e12, "bandwidth": float("nan")},
               {"peak_flops": 1e12, "bandwidth": 1e12, "memory_bytes": -1.0}):
        with pytest.raises(LawError, match="Hardware"):
            Hardware(**kw)
    res = decode_throughput(Architecture(**GOOD), hardware="A100-40GB")
    with pytest.raises(LawError, match="price_per_hour"):
        res.cost_per_million_tokens(0)
