"""scalinglaws.plot: each function draws on the Axes given (or a new one) and returns it."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import plot, synthetic

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs():
    return sl.read_runs(synthetic.chinchilla_sweep(seed=0))


@pytest.fixture(scope="module")
def fit(runs):
    return sl.fit(sl.laws.Chinchilla(), runs)


def _ax():
    from matplotlib.figure import Figure

    return Figure().subplots()


def test_plot_fit_draws_points_and_curves(fit, runs):
    ax = _ax()
    assert plot.plot_fit(fit, runs, ax=ax) is ax
    assert len(ax.collections) == 1  # the runs
    assert len(ax.lines) == 4 + 1  # four model sizes and the compute-optimal envelope
    assert ax.get_xscale() == "log"
    pts = ax.collections[0].get_offsets()
    np.testing.assert_allclose(np.asarray(pts)[:, 0], runs["flops"])
    np.testing.assert_allclose(np.asarray(pts)[:, 1], runs["loss"])
    # a fitted curve is the law: predicted loss at its N along the C axis
    x, y = ax.lines[0].get_data()
    N = runs["params"].min()
    np.testing.assert_allclose(y, fit.predict(params=np.full_like(x, N), tokens=x / (6 * N)), rtol=1e-12)
    assert len(ax.figure.axes) == 2  # the colorbar

    ax2 = _ax()
    plot.plot_fit(fit, runs, ax=ax2, n_curves=2, frontier=False, colorbar=False)
    assert len(ax2.lines) == 2 and len(ax2.figure.axes) == 1


def test_plot_fit_accepts_a_mapping_without_flops(fit):
    t = synthetic.chinchilla_sweep(seed=0)
    ax = plot.plot_fit(fit, {"params": t["params"], "tokens": t["tokens"], "loss": t["loss"]}, ax=_ax())
    np.testing.assert_allclose(np.asarray(ax.collections[0].get_offsets())[:, 0], t["flops"], rtol=1e-12)


def test_plot_isoflop_one_profile_per_budget(fit, runs):
    ax = _ax()
    assert plot.plot_isoflop(fit, runs, ax=ax) is ax
    n_budgets = len(synthetic.DEFAULT_BUDGETS)
    assert len(ax.lines) == n_budgets
    assert len(ax.collections) == n_budgets + 1  # the runs of each budget, and the optima
    stars = np.asarray(ax.collections[-1].get_offsets())
    best = sl.compute_optimal(fit, flops=np.array(synthetic.DEFAULT_BUDGETS))
    np.testing.assert_allclose(stars[:, 0], best.params, rtol=1e-9)
    np.testing.assert_allclose(stars[:, 1], best.loss, rtol=1e-9)
    # each profile has its minimum at the marked optimum (up to the grid spacing)
    for line, n_star in zip(ax.lines, best.params):
        x, y = line.get_data()
        assert abs(np.log(x[np.argmin(y)] / n_star)) < 0.05


def test_plot_frontier_with_and_without_the_reference(fit):
    ax = _ax()
    assert plot.plot_frontier(fit, ax=ax) is ax
    assert len(ax.lines) == 4
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    x, n_star = ax.lines[0].get_data()
    assert x[0] == pytest.approx(1e18) and x[-1] == pytest.approx(1e25)
    with warnings.catch_warnings():  # extrapolation beyond the runs: expected here
        warnings.simplefilter("ignore", UserWarning)
        np.testing.assert_allclose(n_star, sl.compute_optimal(fit, flops=x).params, rtol=1e-12)
    _, n_ref = ax.lines[2].get_data()
    hoff = sl.compute_optimal(sl.laws.Chinchilla(), flops=x, params=synthetic.HOFFMANN)
    np.testing.assert_allclose(n_ref, hoff.params, rtol=1e-12)

    ax2 = plot.plot_frontier(fit, flops_range=(1e20, 1e22), ax=_ax(), reference={})
    assert len(ax2.lines) == 2
    with pytest.raises(sl.DataError, match="flops_range"):
        plot.plot_frontier(fit, flops_range=(1e22, 1e20), ax=_ax())


def test_new_axes_when_none_given(fit, runs):
    import matplotlib.pyplot as plt

    ax = plot.plot_frontier(fit)
    try:
        assert ax.figure is not None and len(ax.lines) == 4
    finally:
        plt.close(ax.figure)


def test_laws_outside_params_tokens_are_refused(runs):
    fake = SimpleNamespace(law=sl.laws.DataConstrained())
    with pytest.raises(sl.LawError, match="params, tokens"):
        plot.plot_fit(fake, runs, ax=_ax())
    with pytest.raises(sl.DataError, match="loss"):
        plot.plot_isoflop(SimpleNamespace(law=sl.laws.Chinchilla()), {"params": [1.0], "tokens": [2.0]}, ax=_ax())


def test_importing_the_package_does_not_import_matplotlib():
    code = ("import sys, scalinglaws, scalinglaws.plot, scalinglaws.cli; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=120)
