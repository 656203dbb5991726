"""plot_residuals and plot_loss_frontier render headless (Agg) with their labels and artists; the
band of plot_loss_frontier is the bootstrap interval of compute_optimal's loss, and the residuals
are log L_obs - log(E + A N^-alpha + B D^-beta) written out in numpy."""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection

import scalinglaws as sl
from scalinglaws import plot, synthetic


@pytest.fixture(scope="module")
def fitted():
    runs = sl.read_runs(synthetic.chinchilla_sweep(budgets=(1e18, 1e19, 1e20), n_per_budget=7, noise=0.02, seed=4))
    fit = sl.fit(sl.laws.Chinchilla(), runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bs = sl.bootstrap(fit, runs, n=60, seed=0, starts=1, progress=False)
    return runs, fit, bs


def test_residuals_figure(fitted):
    runs, fit, _ = fitted
    for against, label in (("flops", "training FLOPs C"), ("params", "parameters N")):
        ax = plot.plot_residuals(fit, runs, against=against)
        assert ax.get_xlabel() == label and "residual" in ax.get_ylabel()
        pts = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(pts) == 1
        p = fit.params
        N, D, L = (np.asarray(runs[k]) for k in ("params", "tokens", "loss"))
        expect = np.log(L) - np.log(p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"])
        np.testing.assert_allclose(pts[0].get_offsets()[:, 1], expect, rtol=1e-9, atol=1e-12)
        assert len(ax.figure.axes) == 2  # the colour bar
        plt.close(ax.figure)
    with pytest.raises(sl.LawError):
        plot.plot_residuals(fit, runs, against="tokens")


def test_loss_frontier_band_is_the_bootstrap_interval(fitted):
    runs, fit, bs = fitted
    ax = plot.plot_loss_frontier(bs, runs, level=0.9)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_label() == "90% interval"]
    assert len(bands) == 1
    line = [l for l in ax.lines if l.get_label().startswith("L*(C)")][0]
    C = line.get_xdata()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, hi = sl.compute_optimal(bs, flops=C).interval(0.9)["loss"]
    verts = bands[0].get_paths()[0].vertices
    assert np.min(verts[:, 1]) == pytest.approx(float(np.min(lo)), rel=1e-9)
    assert np.max(verts[:, 1]) == pytest.approx(float(np.max(hi)), rel=1e-9)
    assert np.all(lo <= line.get_ydata() + 1e-12) and np.all(line.get_ydata() <= hi + 1e-12)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "runs" in labels and "extrapolation" in labels
    assert ax.get_xlabel() == "training FLOPs C" and ax.get_ylabel() == "loss"
    plt.close(ax.figure)
    # a plain fit: no band
    ax = plot.plot_loss_frontier(fit, runs)
    assert not [c for c in ax.collections if isinstance(c, PolyCollection) and "interval" in str(c.get_label())]
    plt.close(ax.figure)
    with pytest.raises(sl.DataError):
        plot.plot_loss_frontier(fit)
    with pytest.raises(sl.DataError):
        plot.plot_loss_frontier(fit, flops_range=(1e20, 1e19))


def test_gallery_script_writes_one_png_per_figure(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, str(root / "docs" / "gallery.py"), "--out", str(tmp_path), "--boot", "20"],
                         capture_output=True, text=True, cwd=root, env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr[-2000:]
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == sorted(["fit.png", "isoflop.png", "frontier.png", "loss_frontier.png", "residuals_flops.png",
                            "residuals_params.png", "tokens_per_param.png", "inference_frontier.png",
                            "gain_vs_queries.png", "adaptive_vs_uniform.png", "posterior_pairs.png", "architecture_pareto.png"])
    assert all((tmp_path / n).stat().st_size > 10_000 for n in names)  # a drawn figure, not an empty canvas


def test_tokens_per_param_against_the_closed_form(fitted):
    _, fit, _ = fitted
    ax = plot.plot_tokens_per_param(fit)
    assert [l.get_label() for l in ax.lines] == ["chinchilla fit", "Hoffmann et al. 2022", "Besiroglu et al. 2024 (Epoch)",
                                                 "Kaplan et al. 2020 (N ~ C^0.73)"]
    assert ax.get_ylabel() == "tokens per parameter D*/N*"
    # Hoffmann et al. eq. 4: N* = G (C/6)^(beta/(alpha+beta)), D* = C / (6 N*), written out here
    for line, p in zip(ax.lines, (fit.params, synthetic.HOFFMANN, synthetic.EPOCH)):
        C, tpp = line.get_data()
        a, b = p["alpha"], p["beta"]
        G = (a * p["A"] / (b * p["B"])) ** (1 / (a + b))
        N = G * (C / 6) ** (b / (a + b))
        np.testing.assert_allclose(tpp, C / (6 * N) / N, rtol=1e-9)
    # Kaplan et al. 2020 fig. 14: N_opt = 1.3e9 (C / 8.64e19 FLOPs per PF-day)^0.73, D = C / 6N
    C, tpp = ax.lines[3].get_data()
    N = 1.3e9 * (C / 8.64e19) ** 0.73
    np.testing.assert_allclose(tpp, C / (6 * N * N), rtol=1e-12)  # the same product in another order
    at = float(np.interp(np.log(1e21), np.log(C), np.log(tpp)))
    assert np.exp(at) == pytest.approx(1e21 / (6 * (1.3e9 * (1e21 / 8.64e19) ** 0.73) ** 2), rel=1e-3)
    plt.close(ax.figure)
    ax = plot.plot_tokens_per_param(fit, references={})
    assert len(ax.lines) == 2
    plt.close(ax.figure)
    ax = plot.plot_tokens_per_param(fit, references={}, kaplan=False)
    assert len(ax.lines) == 1
    plt.close(ax.figure)
    with pytest.raises(sl.DataError):
        plot.plot_tokens_per_param(fit, flops_range=(1e20, 1e19))
