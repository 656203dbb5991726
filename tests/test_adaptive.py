"""Difficulty-adaptive allocation of samples, and two-mode routing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglaws.errors import LawError
from scalinglaws.optimize.adaptive import allocate_samples, two_mode_router


def brute(A, w, budget, k_min=1):
    """Best sum_b w_b A[b, k_b] over every integer split with sum_b w_b k_b <= budget."""
    A = np.asarray(A, dtype=float)
    best, arg = -np.inf, None
    ranges = [range(k_min, A.shape[1]) for _ in range(A.shape[0])]
    for ks in itertools.product(*ranges):
        if np.dot(w, ks) <= budget + 1e-12:
            v = float(np.dot(w, A[np.arange(A.shape[0]), ks]))
            if v > best:
                best, arg = v, ks
    return best, arg


def concave_curves(rng, n_bins, K):
    """acc_b(k) for k = 0..K: 0 at k = 0, rising with shrinking steps, below 1."""
    steps = np.sort(rng.random((n_bins, K)), axis=1)[:, ::-1]
    steps *= rng.uniform(0.05, 1.0, (n_bins, 1)) / steps.sum(axis=1, keepdims=True)
    return np.concatenate([np.zeros((n_bins, 1)), np.cumsum(steps, axis=1)], axis=1)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("budget", [3, 5, 8, 12])
def test_matches_brute_force_three_bins(seed, budget):
    # three equally frequent bins; a mean budget b is a total of 3b samples, split in every way
    rng = np.random.default_rng(seed)
    A = concave_curves(rng, 3, 12)
    w = np.full(3, 1 / 3)
    best, _ = brute(A, w, budget / 3.0)
    res = allocate_samples(list(A), w, budget=budget / 3.0)
    assert res.accuracy == pytest.approx(best, abs=1e-13)
    assert np.dot(w, res.samples) <= budget / 3.0 + 1e-12
    greedy = allocate_samples(list(A), w, budget=budget / 3.0, method="greedy")
    assert greedy.accuracy == pytest.approx(best, abs=1e-13)  # concave + equal weights: greedy is exact


@pytest.mark.parametrize("seed", range(20))
def test_dp_exact_with_unequal_weights(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 4))
    A = concave_curves(rng, n, 8)
    if seed % 2:  # also non-concave curves
        A = np.concatenate([np.zeros((n, 1)), np.sort(rng.random((n, 8)), axis=1)], axis=1)
    w = rng.random(n) + 0.05
    w /= w.sum()
    budget = float(rng.uniform(1.0, 8.0))
    best, _ = brute(A, w, budget)
    res = allocate_samples(list(A), w, budget=budget, method="dp")
    assert res.method == "dp"
    assert res.accuracy == pytest.approx(best, abs=1e-13)
    assert res.accuracy >= res.uniform_accuracy - 1e-15


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), n_bins=st.integers(1, 6), K=st.integers(1, 40),
       budget=st.floats(1.0, 40.0), unequal=st.booleans(), method=st.sampled_from(["auto", "greedy", "dp"]))
def test_never_worse_than_uniform(seed, n_bins, K, budget, unequal, method):
    rng = np.random.default_rng(seed)
    A = concave_curves(rng, n_bins, K)
    w = rng.random(n_bins) + 0.01 if unequal else None
    res = allocate_samples(list(A), w, budget=budget, method=method)
    assert res.accuracy >= res.uniform_accuracy - 1e-15
    assert res.gain >= -1e-15
    assert res.mean_samples <= budget + 1e-9
    assert np.all(res.samples >= 1) and np.all(res.samples <= K)
    # allocate_samples floors budget + 1e-12 (a budget of 2 - 7e-15 buys 2 samples): hypothesis found it
    assert res.uniform_samples == min(int(np.floor(budget + 1e-12)), K)
    wn = res.weights
    assert res.accuracy == pytest.approx(float(np.sum(wn * A[np.arange(n_bins), res.samples])), abs=1e-14)


def test_gain_concentrates_compute_where_it_pays():
    # easy bin saturates fast, hard bin is hopeless, medium bin benefits: compute goes to medium
    k = np.arange(0, 33)
    easy = 1 - 0.2 ** k
    medium = 1 - 0.93 ** k
    hard = 0.01 * (1 - 0.99 ** k)
    res = allocate_samples([easy, medium, hard], budget=8)
    assert res.samples[1] > res.samples[0] and res.samples[1] > res.samples[2]
    assert res.gain > 0.05
    assert res.uniform_to_match is not None and res.uniform_to_match > 8
    assert 0 < res.saving < 1


def test_callables_and_k_min():
    curves = [lambda k: 1 - 0.5 ** k, lambda k: 1 - 0.9 ** k]
    res = allocate_samples(curves, budget=4, k_max=16)
    ref = allocate_samples([1 - 0.5 ** np.arange(17), 1 - 0.9 ** np.arange(17)], budget=4)
    # exact: the callables are evaluated on np.arange(17), the very computation of ref, in one process
    assert res.samples.tolist() == ref.samples.tolist() and res.accuracy == ref.accuracy
    zero = allocate_samples(curves, budget=0.5, k_max=16, k_min=0, weights=[1, 1])
    assert zero.mean_samples <= 0.5 and zero.uniform_samples == 0


def test_scalar_returning_callables_work():
    import math
    res = allocate_samples([lambda k: 1 - math.exp(-0.3 * int(k))] * 2, budget=3, k_max=8)
    assert res.samples.sum() == 6


def test_large_problem_uses_greedy_fast():
    rng = np.random.default_rng(0)
    A = concave_curves(rng, 50, 2000)
    res = allocate_samples(list(A), rng.random(50) + 0.1, budget=300.0)
    assert res.accuracy >= res.uniform_accuracy


@pytest.mark.parametrize("kw,match", [
    (dict(curves=[[0, 0.5, 0.7]], budget=0.5), "below k_min"),
    (dict(curves=[[0, 0.5, 0.7]], budget=np.nan), "finite"),
    (dict(curves=[[0, 0.5], [0, 0.4]], weights=[1.0], budget=1), "2 bins"),
    (dict(curves=[[0, 0.5], [0, 0.4]], weights=[-1.0, 2.0], budget=1), "weights"),
    (dict(curves=[lambda k: k], budget=1), "k_max"),
    (dict(curves=[], budget=1), "non-empty"),
    (dict(curves=[[0, np.nan, 0.5]], budget=1), "non-finite"),
    (dict(curves=[[0, 0.5]], budget=1, method="magic"), "method"),
    (dict(curves=[[0.0]], budget=1), "below k_min"),
])
def test_bad_inputs(kw, match):
    with pytest.raises(LawError, match=match):
        allocate_samples(**kw)


# -- two-mode routing --------------------------------------------------------------------

def test_router_expectations():
    p = np.array([0.0, 0.5, 1.0])
    r = two_mode_router(p, 100, 2000, [0.9, 0.5, 0.1], [0.95, 0.8, 0.2], weights=[0.5, 0.3, 0.2])
    np.testing.assert_allclose(r.bin_tokens, p * 2000 + (1 - p) * 100)
    np.testing.assert_allclose(r.bin_accuracy, [0.9, 0.65, 0.2])
    assert r.expected_tokens == pytest.approx(0.5 * 100 + 0.3 * 1050 + 0.2 * 2000)
    assert r.expected_accuracy == pytest.approx(0.5 * 0.9 + 0.3 * 0.65 + 0.2 * 0.2)
    assert r.inference_tokens(1e9) == pytest.approx(1e9 * r.expected_tokens)


@pytest.mark.parametrize("budget", [120.0, 400.0, 800.0, 1500.0, 2000.0, 5000.0])
def test_router_choice_is_optimal(budget):
    Ts, Tl = np.array([100.0, 150.0, 80.0]), np.array([2000.0, 1200.0, 3000.0])
    As, Al = np.array([0.9, 0.5, 0.1]), np.array([0.95, 0.8, 0.3])
    w = np.array([0.4, 0.4, 0.2])
    r = two_mode_router(None, Ts, Tl, As, Al, weights=w, token_budget=budget)
    assert r.expected_tokens <= budget + 1e-6
    # brute force over a grid of p in [0, 1]^3
    g = np.linspace(0, 1, 101)
    P = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    tok = (P * Tl + (1 - P) * Ts) @ w
    acc = (P * Al + (1 - P) * As) @ w
    best = acc[tok <= budget + 1e-9].max()
    assert r.expected_accuracy >= best - 1e-9
    # an LP optimum: at most one bin strictly between the modes
    assert np.sum((r.p_think > 1e-9) & (r.p_think < 1 - 1e-9)) <= 1


def test_router_never_thinks_when_it_does_not_help():
    r = two_mode_router(None, 100, 2000, [0.9, 0.5], [0.85, 0.9], token_budget=1e6)
    assert r.p_think.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("args,kw,match", [
    ((None, 100, 2000, 0.5, 0.8), {}, "exactly one"),
    ((0.5, 100, 2000, 0.5, 0.8), {"token_budget": 500}, "exactly one"),
    ((1.5, 100, 2000, 0.5, 0.8), {}, r"p_think"),
    ((0.5, -1, 2000, 0.5, 0.8), {}, "T_short"),
    ((None, 100, 2000, 0.5, 0.8), {"token_budget": 50}, "below the cheapest"),
    (([0.5, 0.5], 100, 2000, [0.5, 0.6, 0.7], 0.8), {}, "bins"),
])
def test_router_bad_inputs(args, kw, match):
    with pytest.raises(LawError, match=match):
        two_mode_router(*args, **kw)
