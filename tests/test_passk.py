"""pass@k: the unbiased estimator, the beta-binomial model, and aggregation of
per-sample logs."""

from __future__ import annotations

import time
from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import scalinglaws as sl
from scalinglaws.evals import BetaFit, aggregate_samples, fit_beta_binomial, pass_at_k


def exact(n, c, k):
    return float(1 - Fraction(comb(n - c, k), comb(n, k)))


# ---------------------------------------------------------------------------------------
# the unbiased estimator


def test_matches_exact_formula_exhaustively():
    for n in range(1, 25):
        for c in range(n + 1):
            got = pass_at_k(n, c, np.arange(1, n + 1))
            want = [exact(n, c, k) for k in range(1, n + 1)]
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_edge_cases():
    assert pass_at_k(100, 0, 1) == 0.0 and pass_at_k(100, 0, 100) == 0.0
    assert np.signbit(pass_at_k(100, 0, 5)) == False  # noqa: E712  (+0.0, not -0.0)
    assert pass_at_k(100, 100, 1) == 1.0 and pass_at_k(100, 100, 100) == 1.0
    assert pass_at_k(100, 1, 100) == 1.0  # k = n: every sample is drawn
    assert pass_at_k(100, 3, 98) == 1.0  # n - c < k
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3, rel=1e-15)
    assert isinstance(pass_at_k(10, 3, 2), float)


def test_precision_when_tiny_and_large():
    # one correct in 10,000: pass@1 = 1e-4 to full relative precision (product form)
    assert pass_at_k(10_000, 1, 1) == pytest.approx(1e-4, rel=1e-13)
    assert pass_at_k(10**9, 1, 1) == pytest.approx(1e-9, rel=1e-12)
    # > 4096 factors takes the per-element vector path; exact rational arithmetic as reference
    n, c, k = 20_000_000, 5000, 5000
    assert pass_at_k(n, c, k) == pytest.approx(exact(n, c, k), rel=1e-12)


def test_vectorized_broadcasting():
    n = np.array([[10], [20]])
    k = np.array([1, 2, 5])
    out = pass_at_k(n, 4, k)
    assert out.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert out[i, j] == pytest.approx(exact(int(n[i, 0]), 4, int(k[j])), rel=1e-13)


@pytest.mark.parametrize("n, c, k, msg", [
    (10, 3, 11, "must not exceed n"), (10, 3, 0, "k must be >= 1"), (10, 11, 2, "0 <= c <= n"),
    (10, -1, 2, "0 <= c <= n"), (0, 0, 1, "n (samples drawn) must be >= 1"), (10, 2.5, 2, "whole numbers"),
])
def test_errors(n, c, k, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        pass_at_k(n, c, k)


def test_error_names_the_offending_element():
    with pytest.raises(ValueError, match=r"n=5, c=1, k=6 at index \(1,\)"):
        pass_at_k([10, 5], [1, 1], 6)


counts = st.integers(1, 400).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))


@settings(max_examples=300, deadline=None)
@given(counts)
def test_property_monotone_in_k_and_bounded(nc):
    n, c = nc
    p = pass_at_k(n, c, np.arange(1, n + 1))
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(p) >= -1e-12)
    assert p[-1] == (1.0 if c > 0 else 0.0)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))))
def test_property_monotone_in_c(nk):
    n, k = nk
    p = pass_at_k(n, np.arange(0, n + 1), k)
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(np.diff(p) >= -1e-12)
    assert p[0] == 0.0 and p[-1] == 1.0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_property_equals_exact(nck):
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(exact(n, c, k), rel=1e-12, abs=1e-15)


# ---------------------------------------------------------------------------------------
# beta-binomial


@pytest.mark.parametrize("a, b, seed", [(0.3, 1.2, 0), (0.3, 1.2, 1), (2.0, 5.0, 0), (0.1, 0.5, 0)])
def test_beta_pass_at_k_agrees_with_unbiased_estimator(a, b, seed):
    """p_i ~ Beta(a, b), 500 problems x 100 samples: the fitted Beta pass@k must agree
    with the mean unbiased estimator at k = 1..64 within 0.03.

    Why 0.03: both are computed from the same counts, so they differ only by the Beta
    model's misfit to this sample's spread of p_i; the mean estimator's own standard
    error is <= 0.5 / sqrt(500) = 0.022, an upper bound on such differences. Measured over
    30 seeds per setting, the largest difference was 0.020 (a=0.3, b=1.2), 0.021 (0.1, 0.5),
    0.010 (1, 1) and 0.006 (2, 5).
    """
    rng = np.random.default_rng(seed)
    n = np.full(500, 100)
    c = rng.binomial(n, rng.beta(a, b, 500))
    fit = fit_beta_binomial(n, c)
    ks = np.arange(1, 65)
    empirical = np.array([pass_at_k(n, c, k).mean() for k in ks])
    np.testing.assert_allclose(fit.pass_at_k(ks), empirical, atol=0.03)
    assert fit.pass_at_k(1) == pytest.approx(c.sum() / n.sum(), abs=0.01)  # pass@1 = mean solve rate
    assert fit.converged and not fit.at_bound


@pytest.mark.parametrize("a, b", [(0.3, 1.2), (2.0, 5.0)])
def test_beta_parameter_recovery(a, b):
    # 3000 problems with n in [50, 200): relative errors <= 5.5% over 10 seeds; tolerance 12%
    rng = np.random.default_rng(3)
    n = rng.integers(50, 200, 3000)
    c = rng.binomial(n, rng.beta(a, b, 3000))
    fit = fit_beta_binomial(n, c)
    assert fit.alpha == pytest.approx(a, rel=0.12)
    assert fit.beta == pytest.approx(b, rel=0.12)
    # the log-likelihood is the beta-binomial's, binomial coefficients included
    ll = np.sum(special.gammaln(n + 1) - special.gammaln(c + 1) - special.gammaln(n - c + 1)
                + special.betaln(c + fit.alpha, n - c + fit.beta) - special.betaln(fit.alpha, fit.beta))
    assert fit.loglik == pytest.approx(ll, rel=1e-12)


def test_beta_pass_at_k_properties():
    f = BetaFit(alpha=0.4, beta=2.0, loglik=0.0, n_problems=10)
    assert f.pass_at_k(0) == 0.0
    assert f.pass_at_k(1) == pytest.approx(0.4 / 2.4)
    ks = np.geomspace(1, 1e6, 50)
    p = f.pass_at_k(ks)
    assert np.all(np.diff(p) > 0) and p[-1] < 1.0
    # closed form for integer k: 1 - prod_{j<k} (beta + j) / (alpha + beta + j)
    assert f.pass_at_k(3) == pytest.approx(1 - (2.0 * 3.0 * 4.0) / (2.4 * 3.4 * 4.4), rel=1e-12)
    with pytest.raises(ValueError):
        f.pass_at_k(-1)


def test_beta_degenerate_counts_warn():
    with pytest.warns(UserWarning, match="degenerate"):
        f = fit_beta_binomial(np.full(50, 20), np.zeros(50, int))
    assert f.at_bound and f.pass_at_k(1000) < 0.05
    with pytest.raises(ValueError):
        fit_beta_binomial([10, 10], [11, 2])


# ---------------------------------------------------------------------------------------
# aggregation


def _small_log():
    """2 models x 3 problems; model A draws 4 samples per problem, model B 3."""
    rows = []  # (model, problem, sample_index, correct, answer)
    spec = {
        ("A", "p1"): [(1, "7"), (0, "3"), (1, "7"), (0, "3")],     # tie 2-2: half credit at k=4
        ("A", "p2"): [(0, "x"), (0, "y"), (0, "x"), (1, "z")],     # majority wrong
        ("A", "p3"): [(1, "5"), (1, "5"), (1, "5"), (1, "5")],
        ("B", "p1"): [(0, "3"), (1, "7"), (1, "7")],
        ("B", "p2"): [(0, "x"), (0, "x"), (0, "y")],
        ("B", "p3"): [(1, "5"), (0, "4"), (1, "5")],
    }
    for (m, p), samples in spec.items():
        for i, (c, a) in enumerate(samples):
            rows.append((m, p, i, c, a))
    cols = list(zip(*rows))
    return {"model": np.array(cols[0], dtype=object), "problem": np.array(cols[1], dtype=object),
            "sample_index": np.array(cols[2]), "correct": np.array(cols[3], dtype=float),
            "answer": np.array(cols[4], dtype=object)}


def test_aggregate_counts_and_curves():
    out = aggregate_samples(_small_log(), difficulty_bins=0)
    assert set(out) == {"A", "B"}
    A, B = out["A"], out["B"]
    assert list(A.problems) == ["p1", "p2", "p3"]
    assert A.n.tolist() == [4, 4, 4] and A.c.tolist() == [2, 1, 4]
    assert B.n.tolist() == [3, 3, 3] and B.c.tolist() == [2, 0, 2]
    assert A.ks.tolist() == [1, 2, 4] and B.ks.tolist() == [1, 2, 3]
    for s in (A, B):
        want = [np.mean([pass_at_k(n, c, k) for n, c in zip(s.n, s.c)]) for k in s.ks]
        np.testing.assert_allclose(s.pass_at_k, want, rtol=1e-14)
    # majority over the first k samples; ties share the credit
    # A: k=1 -> p1 '7' right, p2 'x' wrong, p3 right = 2/3; k=2 -> p1 tie 7/3 (1/2), p2 tie x/y (0), p3 1
    #    k=4 -> p1 tie (1/2), p2 'x' (0), p3 (1)
    np.testing.assert_allclose(A.majority_at_k, [2 / 3, 1.5 / 3, 1.5 / 3])
    # B: k=1 -> 0, 0, 1; k=2 -> p1 tie 3/7 (1/2), p2 x (0), p3 tie 5/4 (1/2); k=3 -> 1, 0, 1
    np.testing.assert_allclose(B.majority_at_k, [1 / 3, 1 / 3, 2 / 3])
    assert A.bins == {} and np.all(A.bin == 0)


def test_aggregate_row_order_and_index_base_do_not_matter():
    log = _small_log()
    base = aggregate_samples(log, difficulty_bins=0)
    perm = np.random.default_rng(0).permutation(len(log["problem"]))
    shuffled = {k: v[perm] for k, v in log.items()}
    one_based = {**shuffled, "sample_index": shuffled["sample_index"] + 1}  # takes the sorting path
    for other in (aggregate_samples(shuffled, difficulty_bins=0), aggregate_samples(one_based, difficulty_bins=0)):
        for m in base:
            np.testing.assert_array_equal(base[m].c, other[m].c)
            np.testing.assert_allclose(base[m].pass_at_k, other[m].pass_at_k)
            np.testing.assert_allclose(base[m].majority_at_k, other[m].majority_at_k)


def test_aggregate_without_answers_or_model_and_from_runs():
    log = _small_log()
    runs = sl.Runs({k: v for k, v in log.items() if k != "answer"})
    out = aggregate_samples(runs, difficulty_bins=0)
    assert out["A"].majority_at_k is None
    np.testing.assert_allclose(out["A"].pass_at_k, aggregate_samples(log, difficulty_bins=0)["A"].pass_at_k)
    only_a = {k: v[log["model"] == "A"] for k, v in log.items() if k != "model"}
    single = aggregate_samples(only_a, difficulty_bins=0)
    assert list(single) == [None]
    both = aggregate_samples(log, by=(), difficulty_bins=0)
    assert list(both) == [()] and both[()].n.size == 3 and both[()].n.tolist() == [7, 7, 7]
    with pytest.raises(sl.DataError, match="problem"):
        aggregate_samples({"correct": np.ones(3)})
    with pytest.raises(sl.DataError, match="not 0 or 1"):
        aggregate_samples({"problem": np.array(["a", "a"]), "correct": np.array([0.0, 0.5])})
    with pytest.raises(ValueError, match="exceeds"):
        aggregate_samples(log, ks=[1, 4])  # model B has only 3 samples per problem


def _simulated_log(n_models=2, n_problems=200, n_samples=64, seed=0, difficulty=False):
    rng = np.random.default_rng(seed)
    P = rng.beta(0.5, 1.0, (n_models, n_problems))
    model = np.repeat(np.array([f"m{i}" for i in range(n_models)], dtype=object), n_problems * n_samples)
    prob = np.tile(np.repeat(np.arange(n_problems), n_samples), n_models)
    si = np.tile(np.arange(n_samples), n_models * n_problems)
    correct = (rng.random(model.size) < np.repeat(P.ravel(), n_samples)).astype(float)
    answer = np.where(correct == 1, 0, rng.integers(1, 4, model.size))
    log = {"model": model, "problem": prob, "sample_index": si, "correct": correct, "answer": answer}
    if difficulty:
        log["difficulty"] = np.repeat(1.0 - P.ravel(), n_samples)  # harder = lower true solve rate
    return log, P


def test_difficulty_bins_from_pass_rate():
    log, _ = _simulated_log()
    out = aggregate_samples(log)  # default: 5 equal-count bins on each problem's pass rate
    s = out["m0"]
    assert sorted(s.bins) == [1, 2, 3, 4, 5]
    assert all(s.bins[b].n_problems == 40 for b in s.bins)
    # bin 1 = easiest: every pass rate in a lower bin is >= every one in a higher bin
    for b in range(1, 5):
        assert s.pass_rate[s.bin == b].min() >= s.pass_rate[s.bin == b + 1].max()
    p1 = [s.bins[b].pass_at_k[0] for b in range(1, 6)]
    assert np.all(np.diff(p1) < 0)
    # the bins partition the problems: the problem-weighted mean of bin curves is the total
    total = sum(s.bins[b].pass_at_k * s.bins[b].n_problems for b in s.bins) / s.n.size
    np.testing.assert_allclose(total, s.pass_at_k)
    assert s.bins[1].majority_at_k is not None


def test_difficulty_bins_from_column_edges_and_labels():
    log, P = _simulated_log(difficulty=True)
    s = aggregate_samples(log, difficulty_bins=4)["m1"]
    assert sorted(s.bins) == [1, 2, 3, 4]
    np.testing.assert_allclose(s.score, 1.0 - P[1])
    assert s.score[s.bin == 1].max() <= s.score[s.bin == 2].min()  # higher difficulty = higher bin
    s2 = aggregate_samples(log, difficulty_bins=[0.0, 0.5, 1.0])["m0"]
    assert set(np.unique(s2.bin)) <= {1, 2} and np.all((s2.bin == 2) == (s2.score > 0.5))
    lab = {**log, "difficulty": np.repeat(np.arange(P.size) % 3 + 1.0, 64)}
    s3 = aggregate_samples(lab, difficulty_bins="labels")["m0"]
    assert sorted(s3.bins) == [1, 2, 3]


def test_summary_beta_fit_matches_curve():
    log, _ = _simulated_log(n_problems=500, n_samples=100, seed=4)
    s = aggregate_samples(log, difficulty_bins=0)["m0"]
    f = s.beta_fit()
    np.testing.assert_allclose(f.pass_at_k(s.ks), s.pass_at_k, atol=0.03)  # as in the agreement test above


@pytest.mark.slow
def test_aggregate_ten_million_rows_in_seconds():
    """5 models x 500 problems x 4000 samples = 10M rows with answers: measured 3.5-4.2 s
    on 2 busy cores (string models and problems). The bound, 20 s, catches a fall back
    to per-row Python or object sorting (which takes minutes)."""
    M, P, S = 5, 500, 4000
    rng = np.random.default_rng(0)
    model = np.repeat(np.array([f"model-{i}" for i in range(M)], dtype=object), P * S)
    problem = np.tile(np.repeat(np.arange(P), S), M)
    p = rng.beta(0.5, 1.0, M * P)
    correct = (rng.random(M * P * S) < np.repeat(p, S)).astype(np.float64)
    answer = np.where(correct == 1, 0, rng.integers(1, 6, correct.size))
    si = np.tile(np.arange(S), M * P)
    t0 = time.perf_counter()
    out = aggregate_samples({"model": model, "problem": problem, "sample_index": si, "correct": correct,
                             "answer": answer})
    elapsed = time.perf_counter() - t0
    assert elapsed < 20.0, elapsed
    assert len(out) == M and out["model-0"].n.tolist() == [S] * P
    assert out["model-0"].ks[-1] == S and out["model-0"].majority_at_k.shape == out["model-0"].ks.shape
