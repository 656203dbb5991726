"""Test-time compute: Snell's exchange multiplier, best_config, frontier, smaller_vs_larger."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglaws.errors import LawError
from scalinglaws.flops import query_flops
from scalinglaws.laws import Chinchilla, Kaplan
from scalinglaws.optimize.inference_aware import lowest_loss
from scalinglaws.optimize.best_config import (DEFAULT_SAMPLES, HOFFMANN, MAX_SAMPLES, CoverageAccuracyModel, best_config, exchange_multiplier,
                                             frontier, sigmoid_link, smaller_vs_larger)

H = HOFFMANN
LAW = Chinchilla()
A, B, E = math.exp(H["a"]), math.exp(H["b"]), math.exp(H["e"])
BROWN = CoverageAccuracyModel(sigmoid_link(2.2, 8.0), coverage_exponent=-0.4)
INDEP = CoverageAccuracyModel(sigmoid_link(2.3, 6.0))
BETA = CoverageAccuracyModel(sigmoid_link(2.3, 5.0), concentration=0.5)


def chinchilla_loss(N, D):
    return E + A * N ** -H["alpha"] + B * D ** -H["beta"]


# -- Snell et al. ------------------------------------------------------------------------

@pytest.mark.parametrize("R,expected", [(0.16, 257.75), (0.79, 63.37), (22, 15.77)])
def test_exchange_multiplier_snell(R, expected):
    assert round(exchange_multiplier(14, R), 2) == expected


def test_exchange_multiplier_exact_and_vectorised():
    assert exchange_multiplier(14, 0.79) == pytest.approx(63.367088607594937, rel=1e-15)
    np.testing.assert_allclose(exchange_multiplier(14, np.array([0.16, 0.79, 22])), [257.75, 63.36708861, 15.77272727])
    np.testing.assert_allclose(exchange_multiplier(np.array([1.0, 2.0]), 1.0), [1.0, 5.0])
    assert exchange_multiplier(1, 0.5) == 1.0  # same model: no exchange


@pytest.mark.parametrize("M,R", [(0.5, 1.0), (14, 0.0), (14, -1.0), (np.nan, 1.0), (14, np.inf)])
def test_exchange_multiplier_bad_input(M, R):
    with pytest.raises(LawError, match="must be finite"):
        exchange_multiplier(M, R)


# -- accuracy models ---------------------------------------------------------------------

def test_coverage_models_at_one_sample_equal_the_link():
    L = np.linspace(1.7, 3.0, 14)
    p = sigmoid_link(2.3, 6.0)(L)
    for m in (CoverageAccuracyModel(sigmoid_link(2.3, 6.0)),
              CoverageAccuracyModel(sigmoid_link(2.3, 6.0), coverage_exponent=-0.3),
              CoverageAccuracyModel(sigmoid_link(2.3, 6.0), concentration=2.0)):
        np.testing.assert_allclose(m(L, 1.0), p, rtol=1e-12)


def test_coverage_models_forms():
    L, k = np.array([2.0, 2.5]), np.array([[1.0], [4.0], [64.0]])
    p = INDEP.per_sample(L)
    np.testing.assert_allclose(INDEP(L, k), 1 - (1 - p) ** k, rtol=1e-12)
    brown = CoverageAccuracyModel(sigmoid_link(2.3, 6.0), coverage_exponent=-0.43)
    np.testing.assert_allclose(brown(L, k), np.exp(np.log(p) * k ** -0.43), rtol=1e-12)
    # Beta model: 1 - B(a, b + k) / B(a, b); with a huge concentration it tends to independent samples
    from scipy.special import beta as Bf
    kap = 3.0
    beta = CoverageAccuracyModel(sigmoid_link(2.3, 6.0), concentration=kap)
    a, b = p * kap, (1 - p) * kap
    np.testing.assert_allclose(beta(L, k), 1 - Bf(a, b + k) / Bf(a, b), rtol=1e-10)
    near = CoverageAccuracyModel(sigmoid_link(2.3, 6.0), concentration=1e9)
    np.testing.assert_allclose(near(L, k), INDEP(L, k), rtol=1e-6)
    assert np.all(np.diff(beta(L, k), axis=0) > 0) and np.all(beta(L, k) < INDEP(L, k) + 1e-15)


def test_coverage_model_bad_arguments():
    with pytest.raises(LawError, match="not both"):
        CoverageAccuracyModel(sigmoid_link(2, 1), coverage_exponent=-0.3, concentration=1.0)
    with pytest.raises(LawError, match="<= 0"):
        CoverageAccuracyModel(sigmoid_link(2, 1), coverage_exponent=0.5)
    with pytest.raises(LawError, match="callable"):
        CoverageAccuracyModel(3.0)
    with pytest.raises(LawError, match="slope"):
        sigmoid_link(2.0, -1.0)


# -- best_config -------------------------------------------------------------------------

@pytest.mark.parametrize("model", [BROWN, INDEP, BETA])
@pytest.mark.parametrize("C,Q", [(1e24, 1e9), (1e22, 1e6), (3e25, 1e11), (1e23, 0.0)])
def test_budget_identity(model, C, Q):
    c = best_config(total_flops=C, queries=Q, accuracy_model=model, tokens_per_sample=800.0, prompt_tokens=200.0)
    assert c.train_flops + Q * c.per_query_flops == pytest.approx(C, rel=1e-9)
    assert c.train_flops + c.inference_flops == pytest.approx(C, rel=1e-9)
    assert c.train_flops == pytest.approx(6 * c.params * c.tokens, rel=1e-12)
    assert c.per_query_flops == pytest.approx(query_flops(c.params, 800.0, c.samples, 200.0), rel=1e-12)
    assert c.train_share + c.inference_share == pytest.approx(1.0, rel=1e-12)
    g = c.grid
    np.testing.assert_allclose(g.train_flops + g.inference_flops, C, rtol=1e-9)
    assert c.loss == pytest.approx(chinchilla_loss(c.params, c.tokens), rel=1e-12)


def test_more_queries_less_training_share():
    Q = np.geomspace(1e3, 1e13, 41)
    for k in (1.0, 8.0, 64.0):  # one setting: the share falls strictly
        share = [best_config(total_flops=1e24, queries=q, accuracy_model=BROWN, samples=[k]).train_share for q in Q]
        assert np.all(np.diff(share) < 0)
    # the former default grid (k up to 1,024): with the fine search k grows past it at few queries
    cfg = [best_config(total_flops=1e24, queries=q, accuracy_model=BROWN, samples=DEFAULT_SAMPLES) for q in Q]
    share = np.array([c.train_share for c in cfg])
    ks = np.array([c.samples for c in cfg])
    same = ks[1:] == ks[:-1]
    assert np.all(np.diff(share)[same] < 0)        # wherever the chosen k stays the same
    assert share[-1] < 0.1 < 0.99 < share[0]       # and overall
    assert np.all(np.diff(ks) <= 0)                # serving more queries never buys more samples each


def _brute(C, Q, model, ks, T, P, loss=chinchilla_loss, n=400_001):
    best = (-np.inf, None, None, None)
    for k in ks:
        tok = P + k * T
        N = np.geomspace(1e5, C / (2 * Q * tok) * (1 - 1e-12), n)
        D = (C - Q * 2 * N * tok) / (6 * N)
        L = loss(N, D)
        acc = model(L, k)
        i = int(np.argmax(acc))
        if acc[i] > best[0]:
            best = (float(acc[i]), float(N[i]), k, float(L.min()))
    return best


@pytest.mark.parametrize("model", [BROWN, INDEP, BETA])
@pytest.mark.parametrize("C,Q", [(1e22, 1e8), (1e24, 1e10), (1e21, 1e4)])
def test_against_brute_force_grid(model, C, Q):
    ks = [1.0, 2.0, 4.0, 8.0, 16.0]
    c = best_config(total_flops=C, queries=Q, accuracy_model=model, samples=ks, tokens_per_sample=500.0,
                    prompt_tokens=100.0)
    acc, N, k, lmin = _brute(C, Q, model, ks, 500.0, 100.0)
    assert c.accuracy >= acc - 1e-12                # never worse than the grid
    assert c.accuracy == pytest.approx(acc, abs=1e-7)
    if k == c.samples:                              # (two settings may tie where accuracy saturates)
        assert c.loss <= lmin + 1e-12               # the lowest loss on that setting's budget line
        if acc < 0.999:                             # where accuracy is not flat in N, the same N
            assert c.params == pytest.approx(N, rel=1e-3)


def test_each_grid_row_is_the_lowest_loss_for_its_setting():
    c = best_config(total_flops=1e24, queries=1e9, accuracy_model=BROWN, tokens_per_sample=1000.0,
                    samples=DEFAULT_SAMPLES)
    g = c.grid
    assert g.samples.tolist() == [2.0 ** i for i in range(11)]
    low = lowest_loss(LAW, 1e24, 1e9 * g.samples * 1000.0, params=H)
    np.testing.assert_allclose(g.params, low.params, rtol=1e-12)
    np.testing.assert_allclose(g.loss, low.loss, rtol=1e-12)
    np.testing.assert_allclose(g.accuracy, BROWN(g.loss, g.samples), rtol=1e-12)
    assert c.accuracy == g.accuracy.max() and "train share" in g.report()
    assert len(g.rows()) == 11 and "per param" in c.report()


def test_sizes_restrict_the_choice():
    sizes = [1e9, 3e9, 7e9, 13e9, 30e9, 70e9]
    ks = [1.0, 4.0, 16.0, 64.0]
    c = best_config(total_flops=1e23, queries=1e8, accuracy_model=BROWN, sizes=sizes, samples=ks)
    best = -np.inf
    for N in sizes:
        for k in ks:
            D = (1e23 - 1e8 * 2 * N * 1000.0 * k) / (6 * N)
            if D > 0:
                a = float(BROWN(chinchilla_loss(N, D), k))
                if a > best:
                    best, arg = a, (N, k)
    assert (c.params, c.samples) == arg
    assert c.accuracy == pytest.approx(best, rel=1e-12)
    free = best_config(total_flops=1e23, queries=1e8, accuracy_model=BROWN, samples=ks)
    assert free.accuracy >= c.accuracy


def test_tokens_axis():
    # accuracy rising with reasoning tokens T per query (one sample each)
    def acc(loss, T):
        return sigmoid_link(2.2, 8.0)(loss) ** (np.asarray(T) / 256.0) ** -0.3

    Ts = [128.0, 256.0, 512.0, 1024.0, 2048.0]
    c = best_config(total_flops=1e24, queries=1e9, accuracy_model=acc, tokens_per_sample=Ts)
    assert c.axis == "tokens" and c.samples == 1.0 and c.tokens_per_sample in Ts
    # brute force over N for each T (one sample of T tokens per query)
    best = max(_brute(1e24, 1e9, lambda L, _k, t=t: acc(L, t), [1.0], t, 0.0)[0] for t in Ts)
    assert c.accuracy >= best - 1e-12 and c.accuracy == pytest.approx(best, abs=1e-7)


def test_other_law_kaplan():
    kp = {"N_c": 8.8e13, "D_c": 5.4e13, "alpha_N": 0.076, "alpha_D": 0.095}
    model = CoverageAccuracyModel(sigmoid_link(2.0, 6.0), coverage_exponent=-0.4)
    c = best_config(Kaplan(), params=kp, total_flops=1e23, queries=1e8, accuracy_model=model,
                    samples=[1.0, 4.0, 16.0], tokens_per_sample=500.0)

    def kaplan(N, D):
        return ((kp["N_c"] / N) ** (kp["alpha_N"] / kp["alpha_D"]) + kp["D_c"] / D) ** kp["alpha_D"]

    acc, N, k, _ = _brute(1e23, 1e8, model, [1.0, 4.0, 16.0], 500.0, 0.0, loss=kaplan)
    assert c.accuracy == pytest.approx(acc, abs=1e-7) and c.accuracy >= acc - 1e-9
    assert c.train_flops + c.inference_flops == pytest.approx(1e23, rel=1e-9)


def test_default_law_is_hoffmann_and_notes():
    c = best_config(total_flops=1e24, queries=1e9, accuracy_model=BROWN)
    assert any("Hoffmann" in n for n in c.notes)
    d = best_config(LAW, params=H, total_flops=1e24, queries=1e9, accuracy_model=BROWN)
    assert c.params == d.params and c.accuracy == d.accuracy
    tiny = best_config(total_flops=1e24, queries=1.0, accuracy_model=BROWN)  # inference nearly free
    assert tiny.samples == MAX_SAMPLES and tiny.bound_hit and any("widen" in n for n in tiny.notes)


@pytest.mark.parametrize("kw,match", [
    (dict(total_flops=-1e24, queries=1e9), "total_flops"),
    (dict(total_flops=0.0, queries=1e9), "total_flops"),
    (dict(total_flops=1e24, queries=-1.0), "queries"),
    (dict(total_flops=np.nan, queries=1e9), "total_flops"),
    (dict(total_flops=1e24, queries=1e9, samples=[0.0, 1.0]), "samples"),
    (dict(total_flops=1e24, queries=1e9, tokens_per_sample=-5.0), "tokens_per_sample"),
    (dict(total_flops=1e24, queries=1e9, samples=[1.0, 2.0], tokens_per_sample=[10.0, 20.0]), "one axis"),
    (dict(total_flops=[1e24, 1e25], queries=1e9), "frontier"),
    (dict(total_flops=1e24, queries=1e9, sizes=[-1.0]), "sizes"),
])
def test_bad_inputs_raise_clear_errors(kw, match):
    with pytest.raises(LawError, match=match):
        best_config(accuracy_model=BROWN, **kw)


def test_bad_accuracy_models():
    with pytest.raises(LawError, match="accuracy_model"):
        best_config(total_flops=1e24, queries=1e9, accuracy_model=None)
    with pytest.raises(LawError, match="rises with loss"):
        best_config(total_flops=1e24, queries=1e9, accuracy_model=lambda L, k: L * np.ones_like(k))
    with pytest.raises(LawError, match="non-finite"):
        best_config(total_flops=1e24, queries=1e9, accuracy_model=lambda L, k: np.nan * L)
    with pytest.raises(LawError, match="failed"):
        best_config(total_flops=1e24, queries=1e9, accuracy_model=lambda L, k: 1 / 0)
    with pytest.raises(LawError, match="no size"):
        best_config(total_flops=1e20, queries=1e12, accuracy_model=BROWN, sizes=[1e11])


@settings(max_examples=40, deadline=None)
@given(logC=st.floats(20.0, 27.0), logQ=st.floats(0.0, 13.0), T=st.floats(10.0, 1e4))
def test_property_budget_and_optimality(logC, logQ, T):
    C, Q = 10.0 ** logC, 10.0 ** logQ
    c = best_config(total_flops=C, queries=Q, accuracy_model=BETA, tokens_per_sample=T)
    assert c.train_flops + Q * c.per_query_flops == pytest.approx(C, rel=1e-9)
    # no nearby N on the same budget line (same k) does better
    for f in (0.97, 1.03):
        N = c.params * f
        D = (C - Q * 2 * N * T * c.samples) / (6 * N)
        if D > 0:
            assert BETA(chinchilla_loss(N, D), c.samples) <= c.accuracy + 1e-12


# -- frontier and smaller_vs_larger ------------------------------------------------------

def test_frontier_shapes_envelope_and_consistency():
    C = np.geomspace(1e21, 1e26, 1000)
    sizes = [1e9, 3e9, 1e10, 3e10, 1e11]
    f = frontier(None, BROWN, total_flops=C, queries=1e9, sizes=sizes)
    assert f.accuracy.shape == (5, 1000) and f.envelope_accuracy.shape == (1000,)
    with np.errstate(invalid="ignore"):
        assert np.all((f.envelope_accuracy[None, :] >= f.accuracy) | np.isnan(f.accuracy))
    ok = ~np.isnan(f.envelope_accuracy)
    assert np.all(np.diff(f.envelope_accuracy[ok]) >= -1e-12)       # more compute never hurts
    assert np.all(f.optimal_accuracy[ok] >= f.envelope_accuracy[ok] - 1e-12)
    for row in f.accuracy:
        r = row[~np.isnan(row)]
        assert np.all(np.diff(r) >= -1e-12)
    for i in (0, 400, 999):
        c = best_config(total_flops=C[i], queries=1e9, accuracy_model=BROWN)
        assert f.optimal_accuracy[i] == pytest.approx(c.accuracy, rel=1e-12)
        assert f.optimal_params[i] == pytest.approx(c.params, rel=1e-12)
        if ok[i]:
            s = best_config(total_flops=C[i], queries=1e9, accuracy_model=BROWN, sizes=sizes)
            assert f.envelope_accuracy[i] == pytest.approx(s.accuracy, rel=1e-12)
            assert f.envelope_size[i] == s.params
    g = frontier(None, BROWN, total_flops=C[:10], queries=1e9)
    np.testing.assert_array_equal(g.envelope_accuracy, g.optimal_accuracy)


def test_smaller_vs_larger_crossover():
    # the former default grid (k <= 1,024): with every integer up to 2**20 and Brown's unsaturated
    # coverage the 7B model already wins at 1e4 queries (tests/test_fine_search.py)
    Q, ks = np.geomspace(1e4, 1e11, 29), DEFAULT_SAMPLES
    cmp = smaller_vs_larger(None, BROWN, small=7e9, large=70e9, total_flops=1e24, queries=Q, samples=ks)
    for i in (0, 10, 20):
        s = best_config(total_flops=1e24, queries=Q[i], accuracy_model=BROWN, sizes=[7e9], samples=ks)
        l = best_config(total_flops=1e24, queries=Q[i], accuracy_model=BROWN, sizes=[70e9], samples=ks)
        assert cmp.gain[i] == pytest.approx(s.accuracy - l.accuracy, abs=1e-12)
    assert cmp.gain[0] < 0 < np.nanmax(cmp.gain)  # few queries: the larger model; many: the smaller
    assert cmp.crossover is not None and Q[0] < cmp.crossover < Q[-1]
    q = cmp.crossover
    at = smaller_vs_larger(None, BROWN, small=7e9, large=70e9, total_flops=1e24, queries=[q / 1.01, q, q * 1.01],
                           samples=ks)
    assert abs(at.gain[1]) < 1e-9 and at.gain[0] < 0 < at.gain[2]


def test_smaller_vs_larger_bad_sizes():
    with pytest.raises(LawError, match="below every"):
        smaller_vs_larger(None, BROWN, small=[7e9, 80e9], large=70e9, total_flops=1e24, queries=[1e6, 1e8])
