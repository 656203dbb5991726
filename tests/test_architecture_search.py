"""Architecture search, its Pareto set, best_config over architectures, and the Pareto figure.

Expected values are independent of the code under test: the roofline and the per-query FLOPs
are written out below from their formulas (Kaplan et al. 2020's C_forward; bytes / bandwidth
against FLOPs / peak), the loss of Bian et al.'s conditional law from its equation, and the
GQA crossover from the quadratic derived in its test's docstring.

(Kaplan's C_forward and Hoffmann's App. F against hand counts for published configurations are
in tests/test_architecture.py: test_kaplan_forward_flops_chinchilla_and_gpt3 and
test_chinchilla_app_f_numbers_and_ratio_to_6nd.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.architecture import HARDWARE
from scalinglaws.optimize.best_config import HOFFMANN
from scalinglaws.optimize import ArchitectureSpace, architecture_search, pareto_mask, query_flops

BIAN = {"a0": 2.697, "a1": 0.0974, "a2": 0.0078, "b0": 0.3870, "b1": 0.0063, "b2": 0.0065}
SPACE = dict(d_model=range(1536, 3585, 256), n_layers=(16,), mlp_attention_ratio=(0.5, 1.0, 2.0, 4.0),
             gqa=(1, 4, 8))
# float64 arithmetic of the same formulas in another order: agreement to 1e-12 relative
REL = 1e-12


def hand_tps(a, hw, batch, ctx):
    """Roofline by hand: batch / max(FLOPs / peak, bytes / bandwidth) for one decode step."""
    n_dec = a.non_embedding_params + a.vocab_size * a.d_model
    flops = batch * (2.0 * n_dec + 2.0 * a.n_layers * ctx * a.n_heads * a.head_dim)
    nbytes = 2.0 * n_dec + batch * 2.0 * a.n_layers * a.n_kv_heads * a.head_dim * 2.0 * ctx
    return batch / max(flops / hw.peak_flops, nbytes / hw.bandwidth)


def hand_loss(a, q, L_opt):
    x = a.d_model / math.sqrt(a.non_embedding_params)
    r = a.mlp_params / a.attention_params
    return (q["a0"] + q["a1"] * math.log(x) + q["a2"] / x) * (q["b0"] + q["b1"] * math.log(r) + q["b2"] / r) * L_opt


def reference_law():
    return sl.laws.ArchitectureConditional(form="multiplicative")  # L_opt from the reference_loss column


# ---- the space -----------------------------------------------------------------------------------

def test_space_candidates_have_the_size_widths_and_gqa_asked_for():
    space = ArchitectureSpace(**SPACE, width_multiple=128)
    archs, _ = space.candidates(1e9)
    assert len(archs) > 20
    for a in archs:
        assert a.d_model % 128 == 0 and a.ffn_size % 128 == 0
        assert a.n_heads % a.n_kv_heads == 0 and a.n_heads // a.n_kv_heads in (1, 4, 8)
        assert abs(a.non_embedding_params / 1e9 - 1) <= 0.05


def test_space_with_head_counts_gives_r_from_the_shape():
    archs, _ = ArchitectureSpace(d_model=(2048,), n_layers=(16,), n_heads=(16, 32), gqa=(1, 2)).candidates(8e8)
    assert {(a.n_heads, a.n_kv_heads) for a in archs} == {(16, 16), (16, 8), (32, 32), (32, 16)}
    for a in archs:  # ffn takes the rest of N: 3 d f = N / L - 2 d hd (h + h_kv), to a multiple of 64
        f = (8e8 / 16 - 2 * 2048 * 64 * (a.n_heads + a.n_kv_heads)) / (3 * 2048)
        assert abs(a.ffn_size - f) <= 32


# ---- the search finds a known optimum ------------------------------------------------------------

def test_search_finds_the_known_optimum_of_a_synthetic_law():
    """Put the minima of both factors (x = a2/a1, r = b2/b1) exactly at one candidate's shape:
    with L_opt fixed, every other candidate has a larger factor, so that one is the optimum."""
    archs, _ = ArchitectureSpace(**SPACE).candidates(1e9)
    target = archs[len(archs) // 2]
    x0, r0 = target.d_over_sqrt_n, target.mlp_attention_ratio
    q = {"a0": 2.7, "a1": 0.1, "a2": 0.1 * x0, "b0": 0.4, "b1": 0.01, "b2": 0.01 * r0}
    res = architecture_search(reference_law(), params=q, architectures=list(archs), tokens=1e11, reference_loss=2.5)
    assert res.architecture == target
    # and the loss of every candidate is the law's equation
    want = np.array([hand_loss(a, q, 2.5) for a in archs])
    np.testing.assert_allclose(res.losses, want, rtol=REL)
    assert res.loss == pytest.approx(hand_loss(target, q, 2.5), rel=REL)


def test_bian_coefficients_choose_the_grid_point_of_lowest_hand_computed_loss():
    law = sl.laws.ArchitectureConditional(reference={"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28})
    res = architecture_search(law, params=BIAN, space=ArchitectureSpace(**SPACE), non_embedding_params=1e9,
                              tokens=1e11, hardware="A100-40GB")
    lopt = [1.69 + 406.4 / a.non_embedding_params ** 0.34 + 410.7 / 1e11 ** 0.28 for a in res.candidates]
    want = np.array([hand_loss(a, BIAN, lo) for a, lo in zip(res.candidates, lopt)])
    assert res.index == int(np.argmin(want))
    # the winner sits near Bian's published optimum (d/sqrt(N), r) = (0.080, 1.032) within the grid's step
    assert abs(res.architecture.d_over_sqrt_n - 0.080) < 0.012
    assert 0.6 < res.architecture.mlp_attention_ratio < 1.6


def test_throughput_target_and_loss_target_against_hand_roofline():
    hw = HARDWARE["H100"]
    archs, _ = ArchitectureSpace(**SPACE).candidates(1e9)
    kw = dict(params=BIAN, architectures=list(archs), tokens=1e11, reference_loss=2.5, hardware="H100", batch=32,
              context=2048)
    free = architecture_search(reference_law(), **kw)
    tps = np.array([hand_tps(a, hw, 32, 2048) for a in archs])
    loss = np.array([hand_loss(a, BIAN, 2.5) for a in archs])
    np.testing.assert_allclose(free.throughputs, tps, rtol=REL)
    floor = float(np.quantile(tps, 0.75))
    res = architecture_search(reference_law(), min_throughput=floor, **kw)
    ok = tps >= floor
    assert res.index == int(np.flatnonzero(ok)[np.argmin(loss[ok])])
    assert res.tokens_per_second >= floor and res.loss >= free.loss
    cap = float(np.quantile(loss, 0.3))
    fast = architecture_search(reference_law(), max_loss=cap, **kw)
    good = loss <= cap
    assert fast.index == int(np.flatnonzero(good)[np.argmax(tps[good])])
    # cost per million tokens: price / 3600 / tokens_per_second * 1e6
    priced = architecture_search(reference_law(), price_per_hour=3.0, max_cost_per_million=1e3, **kw)
    np.testing.assert_allclose(priced.costs, 3.0 / 3600 / tps * 1e6, rtol=REL)


def test_pareto_set_matches_a_brute_force_dominance_loop():
    archs, _ = ArchitectureSpace(**SPACE).candidates(1e9)
    res = architecture_search(reference_law(), params=BIAN, architectures=list(archs), tokens=1e11,
                              reference_loss=2.5, batch=16)
    L, T = res.losses, res.throughputs
    brute = []
    for i in range(L.size):
        dominated = False
        for j in range(L.size):
            if L[j] <= L[i] and T[j] >= T[i] and (L[j] < L[i] or T[j] > T[i]):
                dominated = True
                break
        brute.append(not dominated)
    np.testing.assert_array_equal(res.pareto, brute)
    assert 1 < res.pareto.sum() < L.size
    assert res.pareto[int(np.argmin(L))] and res.pareto[int(np.argmax(T))]
    rows = res.pareto_set()
    assert [r["loss"] for r in rows] == sorted(r["loss"] for r in rows)
    assert "Pareto set" in res.report() and res.to_dict()["rows"][0]["d_model"] == archs[0].d_model


def test_pareto_mask_ties_and_duplicates():
    # equal points dominate neither; a point equal in loss and slower is dominated
    L = [1.0, 1.0, 1.0, 2.0, 0.5]
    T = [5.0, 5.0, 4.0, 9.0, 1.0]
    np.testing.assert_array_equal(pareto_mask(L, T), [True, True, False, True, True])


# ---- bad inputs ---------------------------------------------------------------------------------

def test_no_candidate_meets_the_target():
    archs, _ = ArchitectureSpace(**SPACE).candidates(1e9)
    with pytest.raises(sl.LawError, match="min_throughput=1e.12.*no candidate") as e:
        architecture_search(reference_law(), params=BIAN, architectures=list(archs), tokens=1e11,
                            reference_loss=2.5, min_throughput=1e12)
    assert e.value.rule == "infeasible"
    with pytest.raises(sl.LawError, match="max_loss") as e:
        architecture_search(reference_law(), params=BIAN, architectures=list(archs), tokens=1e11,
                            reference_loss=2.5, max_loss=0.1)
    assert e.value.rule == "infeasible"


def test_gqa_not_dividing_heads_and_widths_not_multiples():
    with pytest.raises(sl.LawError, match="GQA group 5 .*n_heads=24") as e:
        ArchitectureSpace(d_model=(2048,), n_layers=(16,), n_heads=(24,), gqa=(1, 5))
    assert e.value.rule == "n_heads not divisible by gqa"
    with pytest.raises(sl.LawError, match="1000 is not a multiple of width_multiple=64") as e:
        ArchitectureSpace(d_model=(1024, 1000), n_layers=(16,), mlp_attention_ratio=(1.0,))
    assert e.value.rule == "not a multiple"
    with pytest.raises(sl.LawError, match="exactly one"):
        ArchitectureSpace(d_model=(1024,), n_layers=(16,))
    with pytest.raises(sl.LawError, match="no shape in the space"):
        ArchitectureSpace(d_model=(8192,), n_layers=(64,), mlp_attention_ratio=(1.0,)).candidates(1e8)


def test_search_argument_errors():
    a = sl.Architecture(d_model=2048, n_layers=16, ffn_size=8192, n_heads=32, vocab_size=32000)
    law = reference_law()
    with pytest.raises(sl.LawError, match="reference_loss"):
        architecture_search(law, params=BIAN, architectures=[a], tokens=1e11)
    with pytest.raises(sl.LawError, match="price_per_hour"):
        architecture_search(law, params=BIAN, architectures=[a], tokens=1e11, reference_loss=2.5,
                            max_cost_per_million=1.0)
    with pytest.raises(sl.LawError, match="tokens= .* or total_flops="):
        architecture_search(law, params=BIAN, architectures=[a], reference_loss=2.5)
    with pytest.raises(sl.LawError, match="item 0 is a str"):
        architecture_search(law, params=BIAN, architectures=["a"], tokens=1e11, reference_loss=2.5)
    with pytest.raises(sl.LawError, match="non_embedding_params"):
        architecture_search(law, params=BIAN, space=ArchitectureSpace(**SPACE), tokens=1e11, reference_loss=2.5)
    with pytest.raises(sl.LawError, match="unknown hardware|preset"):
        architecture_search(law, params=BIAN, architectures=[a], tokens=1e11, reference_loss=2.5, hardware="TPU")
    with pytest.raises(sl.LawError, match="count"):
        architecture_search(law, params=BIAN, architectures=[a], tokens=1e11, reference_loss=2.5, count="all")


def test_total_flops_gives_each_candidate_its_own_tokens():
    archs, _ = ArchitectureSpace(**SPACE).candidates(1e9)
    res = architecture_search(reference_law(), params=BIAN, architectures=list(archs), total_flops=1e21,
                              reference_loss=2.5)
    np.testing.assert_allclose(res.tokens, [1e21 / (6.0 * a.params) for a in archs], rtol=REL)


# ---- architectures in the total budget ----------------------------------------------------------

def _pair():
    """Equal N, differing in n_kv_heads: 2 d hd (h - h/g) of attention moved into the MLP,
    3 d df = 2 d hd h (1 - 1/g), df = 2 * 64 * 32 * (3/4) / 3 = 1024."""
    kw = dict(d_model=2048, n_layers=16, n_heads=32, head_dim=64, vocab_size=32000)
    mha = sl.Architecture(ffn_size=5504, n_kv_heads=32, name="mha", **kw)
    gqa = sl.Architecture(ffn_size=5504 + 1024, n_kv_heads=8, name="gqa", **kw)
    assert mha.params == gqa.params and mha.decode_params == gqa.decode_params
    return mha, gqa


def test_query_flops_is_the_sum_of_decode_steps_and_the_prefill():
    mha, _ = _pair()
    P, T, k = 300, 50, 3
    steps = sum(2.0 * mha.decode_params + 2.0 * mha.n_layers * (P + t) * mha.d_attn for t in range(1, T + 1))
    prefill = 2.0 * mha.non_embedding_params * P + mha.n_layers * mha.d_attn * P * (P + 1) + 2.0 * 2048 * 32000
    assert query_flops(mha, samples=k, tokens_per_sample=T, prompt_tokens=P) == pytest.approx(prefill + k * steps,
                                                                                              rel=REL)


def test_best_config_flops_budget_charges_each_architecture_its_queries():
    mha, gqa = _pair()
    small = sl.Architecture(d_model=1024, n_layers=12, ffn_size=2816, n_heads=16, vocab_size=32000, name="small")
    acc = sl.optimize.CoverageAccuracyModel(sl.optimize.sigmoid_link(2.6, 4.0))
    C, Q, T = 1e22, 3e8, 500.0
    cfg = sl.best_config(total_flops=C, queries=Q, accuracy_model=acc, architectures=[mha, small],
                         samples=[1, 2, 4], tokens_per_sample=T)
    h = HOFFMANN  # Approach 3 unrounded, internal names (log A, log B, log E)
    E, A, B = math.exp(h["e"]), math.exp(h["a"]), math.exp(h["b"])
    best = None
    for a in (mha, small):
        for k in (1, 2, 4):
            per_q = k * sum(2.0 * a.decode_params + 2.0 * a.n_layers * t * a.d_attn for t in range(1, int(T) + 1))
            D = (C - Q * per_q) / (6.0 * a.params)
            L = E + A / a.params ** h["alpha"] + B / D ** h["beta"]
            p = 1.0 / (1.0 + math.exp(4.0 * (L - 2.6)))
            score = 1.0 - (1.0 - p) ** k
            if best is None or score > best[0]:
                best = (score, a.name, k, D, per_q)
    assert (cfg.architecture.name, cfg.samples) == best[1:3]
    assert cfg.accuracy == pytest.approx(best[0], rel=1e-10)
    assert cfg.tokens == pytest.approx(best[3], rel=1e-10)
    assert cfg.per_query_flops == pytest.approx(best[4], rel=1e-10)
    assert cfg.train_flops + cfg.inference_flops == pytest.approx(C, rel=1e-12)
    # at equal N, GQA changes no FLOP (the attention product runs over every query head): a tie in FLOPs
    tie = sl.best_config(total_flops=C, queries=Q, accuracy_model=acc, architectures=[mha, gqa], samples=[1],
                         tokens_per_sample=T)
    assert tie.candidate_loss[0] == pytest.approx(tie.candidate_loss[1], rel=1e-12)


def test_gqa_is_chosen_past_the_hand_computed_query_volume():
    """Two architectures of equal N (``_pair``): MHA (32 KV heads) and GQA (8), the GQA one with
    its N moved from attention into the MLP (a larger r). Budget M dollars; training at p dollars per
    FLOP; a query (k = 1, T tokens, no prompt) costs c_a dollars on the decode roofline (the sum over
    its T steps, the t-th at context t), and c_gqa < c_mha (a quarter of the KV cache to read per step).

    Loss: Bian's additive law, L = s(x) + b1 log r + b2 / r + L_opt(N, D), with
    L_opt = E + A / N^alpha + B / D (beta = 1, the simple case). x and N are equal, so only the r term
    and D differ; with b2 / b1 = r_mha the r term is lowest for MHA, by
    Delta = b1 (log r_g + r_m / r_g) - b1 (log r_m + 1) > 0 at equal D.
    D_a = (M - Q c_a) / (6 N p). GQA wins once B / D_mha - B / D_gqa > Delta:

        Delta = 6 N p B [1 / (M - Q c_m) - 1 / (M - Q c_g)] = K Q / ((M - Q c_m)(M - Q c_g)),
        K = 6 N p B (c_m - c_g),

    a quadratic: Delta c_m c_g Q^2 - (Delta M (c_m + c_g) + K) Q + Delta M^2 = 0, whose smaller
    root is the crossover Q*. Below Q*, best_config picks MHA; above, GQA.
    """
    mha, gqa = _pair()
    hw, price, batch, T, tu, M = HARDWARE["H100"], 2.0, 32, 1000, 0.4, 1e5
    # the t-th token of a sample costs price/3600 per second of its step (context t), shared by the batch
    c_m = sum(price / 3600 / hand_tps(mha, hw, batch, t) for t in range(1, T + 1))
    c_g = sum(price / 3600 / hand_tps(gqa, hw, batch, t) for t in range(1, T + 1))
    assert c_g < c_m
    p = price / 3600 / (tu * hw.peak_flops)
    N = float(mha.params)
    b1 = 1e-4
    r_m, r_g = mha.mlp_attention_ratio, gqa.mlp_attention_ratio
    q = {"a0": 0.0, "a1": 0.0, "a2": 0.0, "b1": b1, "b2": b1 * r_m}
    ref = {"E": 1.7, "A": 400.0, "B": 1e9, "alpha": 0.34, "beta": 1.0}
    law = sl.laws.ArchitectureConditional(form="additive", reference=ref)
    delta = b1 * (math.log(r_g) + r_m / r_g) - b1 * (math.log(r_m) + 1.0)
    K = 6 * N * p * ref["B"] * (c_m - c_g)
    qa, qb, qc = delta * c_m * c_g, -(delta * M * (c_m + c_g) + K), delta * M * M
    Qx = (-qb - math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)
    assert 0 < Qx < M / c_m

    acc = sl.optimize.CoverageAccuracyModel(sl.optimize.sigmoid_link(2.0, 5.0))

    def pick(Q):
        return sl.best_config(law, params=q, total_dollars=M, queries=Q, accuracy_model=acc,
                              architectures=[mha, gqa], samples=[1], tokens_per_sample=float(T), hardware="H100",
                              price_per_hour=price, batch=batch, train_utilization=tu, count="total")

    low, high = pick(Qx * (1 - 1e-5)), pick(Qx * (1 + 1e-5))  # 1e-5: the loss gap is ~1e-5 Delta there, >> 1e-16
    assert low.architecture.name == "mha" and high.architecture.name == "gqa"
    assert pick(Qx / 10).architecture.name == "mha" and pick(min(3 * Qx, 0.9 * M / c_m)).architecture.name == "gqa"
    assert low.per_query_cost == pytest.approx(c_m, rel=REL) and high.per_query_cost == pytest.approx(c_g, rel=REL)
    assert high.tokens == pytest.approx((M - Qx * (1 + 1e-5) * c_g) / (6 * N * p), rel=1e-10)
    assert "dollars" in high.report() and high.train_share + high.inference_share == pytest.approx(1.0)


def test_best_config_architecture_argument_errors():
    mha, gqa = _pair()
    acc = sl.optimize.CoverageAccuracyModel(sl.optimize.sigmoid_link(2.0, 5.0))
    with pytest.raises(sl.LawError, match="go with architectures"):
        sl.best_config(total_flops=1e22, queries=1e6, accuracy_model=acc, hardware="H100")
    with pytest.raises(sl.LawError, match="needs total_flops"):
        sl.best_config(queries=1e6, accuracy_model=acc)
    with pytest.raises(sl.LawError, match="price_per_hour"):
        sl.best_config(total_dollars=1e5, queries=1e6, accuracy_model=acc, architectures=[mha])
    with pytest.raises(sl.LawError, match="exactly one"):
        sl.best_config(total_flops=1e22, total_dollars=1e5, queries=1e6, accuracy_model=acc, architectures=[mha])
    with pytest.raises(sl.LawError, match="sizes="):
        sl.best_config(total_flops=1e22, queries=1e6, accuracy_model=acc, architectures=[mha], sizes=[1e9])
    with pytest.raises(sl.LawError, match="no architecture can serve"):
        sl.best_config(total_flops=1e18, queries=1e9, accuracy_model=acc, architectures=[mha, gqa], samples=[1])
    with pytest.raises(sl.LawError, match="reference_loss column") as e:
        sl.best_config(sl.laws.ArchitectureConditional(), params=BIAN, total_flops=1e22, queries=1e6,
                       accuracy_model=acc, architectures=[mha])
    assert e.value.rule == "bad law"
    with pytest.raises(sl.LawError, match="non-empty list"):
        sl.best_config(total_flops=1e22, queries=1e6, accuracy_model=acc, architectures=[])


# ---- the figure ---------------------------------------------------------------------------------

def test_architecture_pareto_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scalinglaws import plot

    archs, _ = ArchitectureSpace(**SPACE).candidates(1e9)
    res = architecture_search(reference_law(), params=BIAN, architectures=list(archs), tokens=1e11,
                              reference_loss=2.5, batch=16, min_throughput=1.0)
    ax = plot.architecture_pareto(res)
    try:
        assert ax.get_ylabel() == "predicted loss" and "throughput" in ax.get_xlabel()
        assert ax.get_xscale() == "log"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any(s.startswith("Pareto set") for s in labels) and "chosen" in labels
        pareto_line = next(ln for ln in ax.lines if ln.get_label().startswith("Pareto set"))
        assert len(pareto_line.get_xdata()) == int(res.pareto.sum())
        star = next(ln for ln in ax.lines if ln.get_label() == "chosen")
        assert star.get_xdata()[0] == pytest.approx(res.tokens_per_second)
        assert len(ax.collections) >= 1
    finally:
        plt.close(ax.figure)
    with pytest.raises(sl.LawError, match="ArchitectureSearch"):
        plot.architecture_pareto(object())


# ---- the CLI ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fit_json(tmp_path_factory):
    """Hoffmann et al.'s Approach 3 written as a fit file by hand (the fields load_fit reads)."""
    import json

    h = HOFFMANN
    public = {"E": math.exp(h["e"]), "A": math.exp(h["a"]), "B": math.exp(h["b"]), "alpha": h["alpha"],
              "beta": h["beta"]}
    d = {"law": {"name": "chinchilla", "config": {}, "custom": False},
         "objective": {"name": "huber", "space": "log", "delta": 1e-3}, "params": public, "internal": dict(h),
         "objective_value": 0.0, "n_obs": 0, "n_best_basin": 1, "data_hash": "hoffmann-approach-3"}
    path = tmp_path_factory.mktemp("arch_cli") / "fit.json"
    path.write_text(json.dumps(d))
    return path


MHA = "name=mha,d_model=2048,n_layers=16,ffn_size=5504,n_heads=32,vocab_size=32000"
SMALL = "name=small,d_model=1024,n_layers=12,ffn_size=2816,n_heads=16,vocab_size=32000"


def test_cli_optimize_over_architectures(fit_json, tmp_path, capsys):
    import json

    from scalinglaws.cli import main

    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps([dict(kv.split("=") for kv in s.split(",")) | {
        k: int(v) for k, v in (kv.split("=") for kv in s.split(",")) if k != "name"} for s in (MHA, SMALL)]))
    base = ["optimize", str(fit_json), "--flops", "1e22", "--queries", "1e9", "--tokens-per-query", "500", "--json"]
    assert main(base + ["--architecture", str(archs)]) == 0
    from_file = json.loads(capsys.readouterr().out)
    assert main(base + ["--arch", MHA, "--arch", SMALL]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == from_file and "accuracy" not in rows[0]
    fit = sl.load_fit(fit_json)
    mha, small = (sl.Architecture(**{k: (v if k == "name" else int(v)) for k, v in (kv.split("=") for kv in s.split(","))})
                  for s in (MHA, SMALL))
    E, A, B = (fit.params[k] for k in ("E", "A", "B"))
    al, be = fit.params["alpha"], fit.params["beta"]
    losses = {}
    for a in (mha, small):  # lowest loss: D from the budget left after 1e9 queries of 500 decode steps
        per_q = sum(2.0 * a.decode_params + 2.0 * a.n_layers * t * a.d_attn for t in range(1, 501))
        D = (1e22 - 1e9 * per_q) / (6.0 * a.params)
        losses[a.name] = E + A / a.params ** al + B / D ** be
    best = min(losses, key=losses.get)
    assert rows[0]["architecture"]["name"] == best
    assert rows[0]["loss"] == pytest.approx(losses[best], rel=1e-9)


@pytest.mark.parametrize("extra, needle", [
    (["--arch", "d_model=2048,layers=16"], "keys"),
    (["--arch", "d_model=2048,n_layers=16,ffn_size=5504,n_heads=32,n_kv_heads=5,vocab_size=32000"],
     "--arch #1: .*divisible by n_kv_heads"),
    (["--arch", "d_model=2048,n_layers=16"], "--arch #1: .*required"),
    (["--architecture", "MISSING.json"], "MISSING.json"),
])
def test_cli_architecture_errors(fit_json, capsys, extra, needle):
    import re

    from scalinglaws.cli import main

    rc = main(["optimize", str(fit_json), "--flops", "1e22", "--queries", "1e9", "--tokens-per-query", "500", *extra])
    err = capsys.readouterr().err
    assert rc == 2 and re.search(needle, err), err
    assert "Traceback" not in err


def test_cli_architecture_needs_queries(fit_json, capsys):
    from scalinglaws.cli import main

    assert main(["optimize", str(fit_json), "--flops", "1e22", "--arch", MHA]) == 2
    assert "--queries" in capsys.readouterr().err


# ---- README ---------------------------------------------------------------------------------

def test_readme_architecture_example_runs_and_prints_what_it_computes():
    """README.md's architecture-search block, as it stands: it runs, and every commented bare
    expression equals the numbers its comment prints (at the printed precision; strings appear
    in the comment)."""
    import ast
    import re
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from test_readme_example import NUMBER, commented_expressions, within_printed_precision

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("### Architecture search, and the architecture in the total budget", 1)[1]
    code = re.search(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.S).group(1)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    plt.close("all")
    checked = 0
    for source, comment in commented_expressions(code):
        value = eval(source, ns)
        items = value if isinstance(value, tuple) else (value,)
        numbers = [v for v in items if not isinstance(v, str)]
        for v in items:
            if isinstance(v, str):
                assert repr(v) in comment, (source, v, comment)
        printed = re.findall(NUMBER, comment)[:len(numbers)]
        assert len(printed) == len(numbers), (source, comment)
        for v, t in zip(numbers, printed):
            assert within_printed_precision(float(v), t), (source, v, t)
        checked += 1
    assert checked == 4
    assert ast.parse(code)  # the block is plain Python


def test_aspect_ratio_law_in_the_search_and_json_results():
    """Bian 2025a's L = (E + A/N^alpha + B/D^beta)(1 + eps R^gamma), R = d_model / n_layers, N with
    embeddings (count="total"), each candidate's loss by hand; the results serialise to JSON."""
    import json

    q = {"E": 1.7, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28, "eps": 0.01, "gamma": 0.5}
    space = ArchitectureSpace(d_model=(1536, 2048, 2560), n_layers=(12, 16, 24), mlp_attention_ratio=(1.0, 2.0))
    res = architecture_search(sl.laws.AspectRatio(), params=q, space=space, non_embedding_params=1e9, tokens=1e11,
                              count="total")
    want = [(q["E"] + q["A"] / a.params ** q["alpha"] + q["B"] / 1e11 ** q["beta"])
            * (1 + q["eps"] * (a.d_model / a.n_layers) ** q["gamma"]) for a in res.candidates]
    np.testing.assert_allclose(res.losses, want, rtol=REL)
    want = np.array(want)
    tied = np.flatnonzero(want <= want.min() * (1 + 1e-12))  # r does not enter this law: shapes can tie
    assert res.index in tied and res.tokens_per_second == pytest.approx(res.throughputs[tied].max(), rel=REL)
    d = json.loads(json.dumps(res.to_dict()))
    assert len(d["rows"]) == len(res.candidates) and d["architecture"]["d_model"] == res.architecture.d_model
    mha, gqa = _pair()
    cfg = sl.best_config(total_flops=1e22, queries=1e8, accuracy_model=None, architectures=[mha, gqa])
    assert json.loads(json.dumps(cfg.to_dict()))["architecture"]["name"] == "mha"


def test_cli_dollar_budget_picks_the_cheaper_to_serve_architecture(fit_json, capsys):
    import json

    from scalinglaws.cli import main

    m = "name=mha,d_model=2048,n_layers=16,ffn_size=5504,n_heads=32,vocab_size=32000"
    g = "name=gqa,d_model=2048,n_layers=16,ffn_size=6528,n_heads=32,n_kv_heads=8,vocab_size=32000"
    args = ["optimize", str(fit_json), "--dollars", "5e4", "--queries", "1e9", "--tokens-per-query", "1000",
            "--arch", m, "--arch", g, "--price-per-hour", "2", "--batch", "64", "--json"]
    assert main(args) == 0
    (row,) = json.loads(capsys.readouterr().out)
    mha, gqa = _pair()
    api = sl.best_config(sl.load_fit(fit_json), total_dollars=5e4, queries=1e9, accuracy_model=None,
                         architectures=[mha, gqa], tokens_per_sample=1000.0, samples=[1.0], hardware="H100",
                         price_per_hour=2.0, batch=64)
    assert row["architecture"]["name"] == "gqa" == api.architecture.name and row["budget"] == "dollars"
    assert row["tokens"] == pytest.approx(api.tokens, rel=1e-12)
    for extra, needle in ((["--price-per-hour", "2", "--hardware", "TPU"], "TPU"), ([], "--price-per-hour"),
                          (["--price-per-hour", "2", "--batch", "0"], "batch")):
        rc = main(["optimize", str(fit_json), "--dollars", "5e4", "--queries", "1e9", "--tokens-per-query", "1000",
                   "--arch", m, *extra])
        err = capsys.readouterr().err
        assert rc == 2 and needle in err and "Traceback" not in err, err
    assert main(["optimize", str(fit_json), "--dollars", "5e4"]) == 2
    assert "--dollars goes with --architecture" in capsys.readouterr().err
    assert main(["optimize", str(fit_json), "--queries", "1e9", "--tokens-per-query", "10"]) == 2
    assert "--flops" in capsys.readouterr().err
