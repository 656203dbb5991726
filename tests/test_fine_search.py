"""The fine search over samples (and tokens) per query: every integer, bound flags, smooth frontiers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalinglaws.errors import LawError
from scalinglaws.optimize.best_config import (DEFAULT_SAMPLES, HOFFMANN, MAX_SAMPLES, CoverageAccuracyModel, Integers,
                                             best_config, frontier, sigmoid_link, smaller_vs_larger)

H = HOFFMANN
A, B, E = math.exp(H["a"]), math.exp(H["b"]), math.exp(H["e"])
MID, SLOPE, BEXP = 2.2, 8.0, -0.4
BROWN = CoverageAccuracyModel(sigmoid_link(MID, SLOPE), coverage_exponent=BEXP)


def loss(N, D):  # Hoffmann's law written out
    return E + A * N ** -H["alpha"] + B * D ** -H["beta"]


def brown(L, k):  # p ** (k ** b) with p the sigmoid, written out
    with np.errstate(over="ignore"):  # exp overflows to inf at huge loss: p = 0 there, as it should
        p = 1.0 / (1.0 + np.exp(SLOPE * (L - MID)))
    return p ** (k ** BEXP)


def test_fixed_size_matches_a_loop_over_every_integer():
    N, C, Q, T = 3e9, 1e23, 1e8, 1000.0
    c = best_config(total_flops=C, queries=Q, accuracy_model=BROWN, sizes=[N], samples=Integers(1, 300))
    best, arg = -np.inf, None
    for k in range(1, 301):  # independent: one k at a time
        D = (C - Q * 2 * N * T * k) / (6 * N)
        if D > 0:
            a = float(brown(loss(N, D), k))
            if a > best:
                best, arg = a, k
    assert 1 < arg < 300                              # an interior optimum: the search has work to do
    assert c.samples == arg and not c.bound_hit
    assert c.accuracy == pytest.approx(best, rel=1e-12)  # same formula, different order of operations


@pytest.mark.parametrize("C,Q", [(1e22, 1e6), (1e24, 1e9)])
def test_free_size_matches_brute_force_over_integers(C, Q):
    T, ks = 500.0, range(1, 41)
    c = best_config(total_flops=C, queries=Q, accuracy_model=BROWN, samples=Integers(1, 40), tokens_per_sample=T)
    best = (-np.inf, None)
    for k in ks:  # N on a dense log grid, D from the remaining budget
        N = np.geomspace(1e6, C / (2 * Q * T * k) * (1 - 1e-12), 200_001)
        D = (C - Q * 2 * N * T * k) / (6 * N)
        a = brown(loss(N, D), k)
        if a.max() > best[0]:
            best = (float(a.max()), k)
    # the grid in N is ~1e-4 relative apart; accuracy is flat at its optimum in N, so 1e-7 covers it
    assert c.accuracy >= best[0] - 1e-12 and c.accuracy == pytest.approx(best[0], abs=1e-7)
    if not c.bound_hit:
        assert c.samples == best[1]


@pytest.mark.parametrize("C,Q", [(1e22, 1e6), (1e24, 1e9), (3e25, 1e11), (1e23, 1e4)])
def test_fine_optimum_at_least_the_coarse_one(C, Q):
    fine = best_config(total_flops=C, queries=Q, accuracy_model=BROWN)
    coarse = best_config(total_flops=C, queries=Q, accuracy_model=BROWN, samples=DEFAULT_SAMPLES)
    assert fine.accuracy >= coarse.accuracy - 1e-12
    assert fine.samples == round(fine.samples)
    # the coarse grid's own answer is the best of its 11 rows, computed independently here
    acc = [float(brown(loss(N, D), k)) for N, D, k in zip(coarse.grid.params, coarse.grid.tokens, coarse.grid.samples)]
    assert coarse.accuracy == pytest.approx(max(acc), rel=1e-12)


def test_tokens_axis_fine():
    def acc(L, T):
        return brown(L, 1.0) ** (np.asarray(T) / 256.0) ** -0.3

    N, C, Q = 7e9, 1e23, 1e8
    c = best_config(total_flops=C, queries=Q, accuracy_model=acc, sizes=[N], tokens_per_sample=Integers(16, 20000))
    T = np.arange(16, 20001, dtype=np.float64)
    D = (C - Q * 2 * N * T) / (6 * N)
    a = np.where(D > 0, acc(loss(N, np.where(D > 0, D, 1.0)), T), -np.inf)
    assert c.axis == "tokens" and c.samples == 1.0
    assert c.tokens_per_sample == T[np.argmax(a)] and c.accuracy == pytest.approx(a.max(), rel=1e-12)


def test_bound_flag_set_only_when_the_bound_binds():
    few = best_config(total_flops=1e24, queries=10.0, accuracy_model=BROWN, samples=Integers(1, 64))
    assert few.samples == 64.0 and few.bound_hit and any("largest searched (64)" in n for n in few.notes)
    many = best_config(total_flops=1e24, queries=1e10, accuracy_model=BROWN, samples=Integers(1, 64))
    assert many.samples < 64 and not many.bound_hit and not any("largest" in n for n in many.notes)
    assert best_config(total_flops=1e24, queries=1.0, accuracy_model=BROWN).samples == MAX_SAMPLES
    C = np.geomspace(1e21, 1e26, 30)
    f = frontier(None, BROWN, total_flops=C, queries=1e9, sizes=[1e9, 3e10], samples=Integers(1, 64))
    expect = (f.setting == 64.0)
    np.testing.assert_array_equal(f.bound_hit, expect)
    assert f.bound_hit.any() and not f.bound_hit.all() and f.search_bound == 64.0
    np.testing.assert_array_equal(f.envelope_bound_hit, f.envelope_setting == 64.0)
    assert any("search bound" in n for n in f.notes) == bool(f.envelope_bound_hit.any() or f.optimal_bound_hit.any())
    wide = frontier(None, BROWN, total_flops=C, queries=1e9, sizes=[1e9, 3e10])
    assert not wide.bound_hit.any() and not wide.envelope_bound_hit.any()
    assert not any("envelope sits" in n for n in wide.notes)


def test_frontier_is_monotone_and_smooth():
    C = np.geomspace(1e22, 1e26, 161)  # neighbouring budgets 5.9% apart
    sizes = [1e9, 8e9, 7e10]
    f = frontier(None, BROWN, total_flops=C, queries=1e9, sizes=sizes)
    for row in np.vstack([f.accuracy, f.envelope_accuracy, f.optimal_accuracy]):
        r = row[~np.isnan(row)]
        assert np.all(np.diff(r) >= -1e-12)            # more compute never hurts
    coarse = frontier(None, BROWN, total_flops=C, queries=1e9, sizes=sizes, samples=DEFAULT_SAMPLES)
    ok = ~np.isnan(coarse.accuracy)
    assert np.all(f.accuracy[ok] >= coarse.accuracy[ok] - 1e-12)

    def kink(row):  # the largest change of the per-step rise between neighbouring steps
        return float(np.max(np.abs(np.diff(np.diff(row)))))

    # no steps on the 1B curve (feasible everywhere here) nor on the free-size optimum: measured
    # 0.0024 and 0.0003 with every integer k; the powers-of-two grid gives 0.0104 on the 1B row
    assert kink(f.accuracy[0]) < 0.004 and kink(f.optimal_accuracy) < 0.004
    assert kink(coarse.accuracy[0]) > 0.008           # the staircase the fine search removes
    # the chosen k moves by small integer steps, not by doublings
    k = f.setting[0]
    assert np.max(np.abs(np.diff(np.log(k)))) < math.log(1.5)


def test_comparison_flags():
    Q = np.geomspace(1e4, 1e10, 7)
    cmp = smaller_vs_larger(None, BROWN, small=7e9, large=70e9, total_flops=1e24, queries=Q, samples=Integers(1, 32))
    np.testing.assert_array_equal(cmp.small_bound_hit, cmp.small_setting == 32.0)
    np.testing.assert_array_equal(cmp.large_bound_hit, cmp.large_setting == 32.0)
    assert cmp.search_bound == 32.0 and cmp.large_bound_hit[0]


@pytest.mark.parametrize("kw,match", [(dict(low=0), "low"), (dict(high=2.5), "high"), (dict(low=8, high=4), "low <= high"),
                                      (dict(high=float("inf")), "high")])
def test_integers_bad_input(kw, match):
    with pytest.raises(LawError, match=match):
        Integers(**kw)


def test_two_fine_axes_refused():
    with pytest.raises(LawError, match="one axis"):
        best_config(total_flops=1e24, queries=1e9, accuracy_model=BROWN, samples=Integers(1, 8),
                    tokens_per_sample=Integers(1, 8))
