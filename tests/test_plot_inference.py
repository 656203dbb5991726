"""inference_frontier, gain_vs_queries, adaptive_vs_uniform and posterior_pairs render headless (Agg):
labels, legends / colour bars, and the data of the artists against independent computations."""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection

import scalinglaws as sl
from scalinglaws import plot, synthetic
from scalinglaws.optimize import CoverageAccuracyModel, Integers, frontier, sigmoid_link, smaller_vs_larger

BROWN = CoverageAccuracyModel(sigmoid_link(2.2, 8.0), coverage_exponent=-0.4)
SIZES = [1e9, 8e9, 7e10]


@pytest.fixture(scope="module")
def fr():
    C = np.geomspace(1e22, 1e26, 40)
    return frontier(None, BROWN, total_flops=C, queries=1e9, sizes=SIZES, samples=Integers(1, 256))


def test_inference_frontier_artists(fr):
    cmp = smaller_vs_larger(None, BROWN, small=[1e9, 8e9], large=[7e10], total_flops=1e25,
                            queries=np.geomspace(1e5, 1e11, 13))
    ax = plot.inference_frontier(fr, comparison=cmp)
    assert ax.get_xlabel().startswith("total FLOPs") and ax.get_ylabel() == "predicted accuracy"
    assert ax.get_xscale() == "log" and len(ax.figure.axes) == 2        # the size colour bar
    sized = [l for l in ax.lines if l.get_label() == "_size"]
    assert len(sized) == len(SIZES)
    env = [l for l in ax.lines if l.get_label() == "envelope over sizes"][0]
    # the envelope is the largest accuracy over the sizes at each budget (NaN where none can serve)
    stack = np.vstack([l.get_ydata() for l in sized])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expect = np.nanmax(stack, axis=0)
    np.testing.assert_allclose(env.get_ydata(), expect, rtol=0, atol=0, equal_nan=True)
    marks = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(marks) == 1 and "search bound (256)" in marks[0].get_label()
    n_hit = int(np.sum(fr.bound_hit) + np.sum(fr.optimal_bound_hit))
    assert n_hit > 0 and len(marks[0].get_offsets()) == n_hit
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"smaller models win above {cmp.crossover:.3g} queries" in t for t in labels)
    assert any(l.get_xdata()[0] == 1e25 for l in ax.lines if l.get_linestyle() == "-.")
    plt.close(ax.figure)
    with pytest.raises(sl.LawError, match="Frontier"):
        plot.inference_frontier(cmp)


def test_inference_frontier_without_bound_hits_draws_no_markers():
    f = frontier(None, BROWN, total_flops=np.geomspace(1e23, 1e25, 12), queries=1e9, sizes=SIZES)
    assert not f.bound_hit.any() and not f.optimal_bound_hit.any()
    ax = plot.inference_frontier(f)
    assert not [c for c in ax.collections if isinstance(c, PathCollection)]
    plt.close(ax.figure)


def test_gain_vs_queries():
    Q = np.geomspace(1e4, 1e11, 15)
    cmp = smaller_vs_larger(None, BROWN, small=7e9, large=70e9, total_flops=1e24, queries=Q, samples=Integers(1, 64))
    ax = plot.gain_vs_queries(cmp)
    assert ax.get_xlabel() == "queries served" and "gain" in ax.get_ylabel()
    gain = [l for l in ax.lines if l.get_label() == "gain, smaller - larger"][0]
    np.testing.assert_array_equal(gain.get_ydata(), cmp.small_accuracy - cmp.large_accuracy)
    vlines = [l for l in ax.lines if l.get_linestyle() == ":"]
    assert len(vlines) == len(cmp.crossovers) >= 1
    assert (len([c for c in ax.collections if isinstance(c, PathCollection)]) == 1) == bool(
        np.any(cmp.small_bound_hit | cmp.large_bound_hit))
    assert ax.get_legend() is not None
    plt.close(ax.figure)


def test_adaptive_vs_uniform_against_hand_sums():
    k = np.arange(0, 65, dtype=np.float64)
    p = np.array([0.6, 0.2, 0.03])                    # easy, medium, hard per-sample success
    curves = [1 - (1 - pb) ** k for pb in p]           # independent samples, written out
    w = np.array([0.5, 0.3, 0.2])
    budgets = [1, 2, 4, 8, 16]
    ax = plot.adaptive_vs_uniform(curves, w, budgets=budgets)
    lines = {l.get_label().split(":")[0]: l for l in ax.lines}
    uni, ada = lines["uniform"], lines["adaptive"]
    np.testing.assert_array_equal(uni.get_xdata(), budgets)
    expect = [float(np.sum(w * (1 - (1 - p) ** b))) for b in budgets]   # same k in every bin
    np.testing.assert_allclose(uni.get_ydata(), expect, rtol=1e-12)
    assert np.all(ada.get_ydata() >= uni.get_ydata() - 1e-12)
    assert ada.get_ydata()[-1] > uni.get_ydata()[-1]                    # adapting helps at 16
    assert [c for c in ax.collections if isinstance(c, PolyCollection)]  # the shaded gain
    assert ax.get_xlabel().startswith("mean samples") and ax.get_ylabel() == "expected accuracy"
    assert len(ax.get_legend().get_texts()) == 3
    plt.close(ax.figure)
    with pytest.raises(sl.LawError, match="budgets"):
        plot.adaptive_vs_uniform(curves, w, budgets=[0.5])


@pytest.fixture(scope="module")
def boot():
    runs = sl.read_runs(synthetic.chinchilla_sweep(budgets=(1e18, 1e19, 1e20), n_per_budget=7, noise=0.02, seed=4))
    fit = sl.fit(sl.laws.Chinchilla(), runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.bootstrap(fit, runs, n=40, seed=0, starts=1, progress=False)


def test_posterior_pairs_bootstrap(boot):
    names = ["E", "alpha", "beta"]
    fig = plot.posterior_pairs(boot, names)
    axes = np.array(fig.axes).reshape(3, 3)
    d = boot.public_draws()
    for i in range(3):
        for j in range(3):
            ax = axes[i, j]
            assert ax.get_visible() == (j <= i)
            if j < i:  # the draws and the point estimate
                pts = [c for c in ax.collections if isinstance(c, PathCollection)]
                assert len(pts) == 2
                np.testing.assert_array_equal(pts[0].get_offsets()[:, 0], d[names[j]])
                np.testing.assert_array_equal(pts[0].get_offsets()[:, 1], d[names[i]])
                np.testing.assert_allclose(pts[1].get_offsets()[0], [boot.fit.params[names[j]],
                                                                     boot.fit.params[names[i]]])
            if i == j:
                assert len(ax.patches) > 0                             # the histogram
    assert [axes[2, j].get_xlabel() for j in range(3)] == names
    assert [axes[i, 0].get_ylabel() for i in (1, 2)] == names[1:]
    assert "Bootstrap" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(sl.LawError, match="unknown"):
        plot.posterior_pairs(boot, ["E", "gamma"])
    with pytest.raises(sl.LawError, match="Bootstrap or a Posterior"):
        plot.posterior_pairs(boot.fit)


def test_posterior_pairs_thins_and_takes_a_figure(boot):
    fig = plt.figure()
    out = plot.posterior_pairs(boot, ["A", "B"], fig=fig, max_draws=10)
    assert out is fig
    pts = [c for c in fig.axes[2].collections if isinstance(c, PathCollection)][0]
    assert len(pts.get_offsets()) == 10
    plt.close(fig)
