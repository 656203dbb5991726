"""smaller_vs_larger: exact ties (both sides at the same accuracy, e.g. both saturated at 1) are not
crossovers. Before, every tied query volume was listed as one (17 "crossovers" on a saturated
link), and the gain_vs_queries figure drew a red line at each."""

from __future__ import annotations

import warnings

import numpy as np

import scalinglaws as sl


def _compare(p, queries):
    # a constant per-sample success rate p: accuracy 1 - (1 - p)^k depends on k alone, and for
    # k >= 16 at p = 0.9 it is exactly 1.0 in float64 ((0.1)^16 < 2^-53): both sides tie there
    model = sl.optimize.CoverageAccuracyModel(lambda L: np.full_like(np.asarray(L, dtype=float), p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return sl.smaller_vs_larger(None, model, small=[1e9], large=[7e10], total_flops=1e24, queries=queries,
                                    tokens_per_sample=1000)


def test_ties_are_not_crossovers():
    Q = np.geomspace(1e4, 1e12, 25)
    c = _compare(0.9, Q)
    tie = np.isfinite(c.gain) & (c.gain == 0.0)
    assert tie.sum() >= 5                       # the saturated stretch is there
    np.testing.assert_array_equal(c.small_accuracy[tie], 1.0)
    # the gain never turns negative (the smaller model affords at least the larger one's k), so
    # there is no crossover at all; the ties are named in a note instead
    assert np.all(c.gain[np.isfinite(c.gain)] >= 0.0)
    assert c.crossover is None and c.crossovers.size == 0
    assert any("ties, not crossovers" in n for n in c.notes)


def test_a_real_sign_change_is_still_found():
    # no saturation: Brown et al.'s coverage law p^(k^-0.45) stays below 1 on the search grid, and
    # p depends on the loss (Hoffmann's law), so the larger model wins at low volumes (gain < 0) and
    # loses once serving eats its budget: exactly one crossover, where the gain is zero
    link = lambda L: 1.0 / (1.0 + np.exp(8.0 * (np.asarray(L, dtype=float) - 2.2)))  # noqa: E731
    model = sl.optimize.CoverageAccuracyModel(link, coverage_exponent=-0.45)

    def compare(queries):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return sl.smaller_vs_larger(None, model, small=[1e9], large=[7e10], total_flops=1e24,
                                        queries=queries, tokens_per_sample=1000)

    c = compare(np.geomspace(1e4, 1e12, 25))
    fin = np.isfinite(c.gain)
    assert c.gain[fin][0] < 0 < c.gain[fin][-1]
    signs = np.sign(c.gain[fin][c.gain[fin] != 0])
    assert int(np.sum(signs[1:] != signs[:-1])) == 1 == c.crossovers.size
    assert abs(compare(np.array([c.crossover])).gain[0]) < 1e-9
    assert not any("ties" in n for n in c.notes)
