"""`scalinglaws plot --kind K` for every figure, run in-process on the bundled synthetic sweep.

The bundled CSV is fitted once for the module with `fit --bootstrap 30 -o fit.json` (the draws
saved in the file feed loss_frontier and pairs). Each kind must write a valid image (PNG magic
bytes, or an SVG that parses as XML with an <svg> root); where it is cheap, the drawn artists are
checked against the inputs read independently of the library (the CSV by the csv module, the
Chinchilla formula written out with numpy from the fit file's parameters, Kaplan's allocation
written out). Figures are caught by wrapping cli._save_figure (the one place the CLI saves).
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection

from scalinglaws import cli
from scalinglaws.cli import main

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "synthetic_chinchilla.csv"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
N_BOOT = 30
ARCHS = ["d_model=2048,n_layers=16,ffn_size=8192,n_heads=32,vocab_size=32000",
         "d_model=1536,n_layers=24,ffn_size=6144,n_heads=24,n_kv_heads=8,vocab_size=32000",
         "name=small,d_model=1024,n_layers=16,ffn_size=4096,n_heads=16,vocab_size=32000"]


def _table() -> dict[str, np.ndarray]:
    with CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("plotkinds")
    fit_json = d / "fit.json"
    assert main(["fit", str(CSV), "--bootstrap", str(N_BOOT), "--seed", "1", "-o", str(fit_json), "-q"]) == 0
    saved = json.loads(fit_json.read_text())
    assert len(saved["bootstrap"]["draws"]) == N_BOOT
    no_draws = d / "nodraws.json"                        # the same fit without its draws
    no_draws.write_text(json.dumps({k: v for k, v in saved.items() if k != "bootstrap"}))
    L = np.linspace(1.8, 3.0, 25)                        # a loss -> accuracy table for --link
    evals = d / "evals.csv"
    evals.write_text("loss,accuracy\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in
                                                   zip(L, 0.05 + 0.8 / (1 + np.exp(8 * (L - 2.2))))) + "\n")
    link = d / "link.json"
    assert main(["fit", str(evals), "--law", "sigmoid_link", "--objective", "least_squares", "-o", str(link),
                 "-q"]) == 0
    return {"dir": d, "fit": fit_json, "nodraws": no_draws, "link": link, "saved": saved}


@pytest.fixture
def drawn(monkeypatch):
    """The figures the CLI saves, in order."""
    figs = []
    real = cli._save_figure

    def spy(fig, path, args, dpi=120):
        figs.append(fig)
        return real(fig, path, args, dpi)

    monkeypatch.setattr(cli, "_save_figure", spy)
    return figs


def _plot(work, kind: str, *extra: str, runs: bool = False, suffix: str = "png") -> Path:
    out = work["dir"] / f"{kind}-{abs(hash(extra)) % 10**6}.{suffix}"
    argv = ["plot", str(work["fit"]), *([str(CSV)] if runs else []), "--kind", kind, "-o", str(out), "-q", *extra]
    assert main(argv) == 0
    if suffix == "png":
        assert out.read_bytes()[:8] == PNG_MAGIC
    else:
        root = ET.parse(out).getroot()
        assert root.tag.endswith("svg")
    return out


def _main_ax(fig):
    """The panel drawn on (not the colour bar)."""
    return fig.axes[0]


def _chinchilla(p, N, D):
    return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]


# --------------------------------------------------------------------------- every kind
def test_help_lists_every_kind_with_an_example(capsys):
    assert main(["plot", "--help"]) == 0
    text = capsys.readouterr().out
    kinds, examples = text.split("examples:")
    for k in cli.PLOT_KINDS:
        assert any(line.split()[:1] == [k] for line in kinds.splitlines()), k      # one line per kind
        if k != "fit":                                                            # fit is the default
            assert f"--kind {k} " in examples, k


@pytest.mark.parametrize("kind", ["fit", "isoflop", "frontier"])
def test_former_kinds_still_draw(kind, work):
    _plot(work, kind, runs=kind != "frontier")


@pytest.mark.parametrize("against", ["flops", "params"])
def test_residuals_points_are_the_runs(against, work, drawn):
    _plot(work, "residuals", "--against", against, runs=True)
    ax = _main_ax(drawn[-1])
    assert ax.get_xlabel() == ("training FLOPs C" if against == "flops" else "parameters N")
    assert ax.get_ylabel().startswith("residual, log loss")
    (pts,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    xy = pts.get_offsets()
    t = _table()
    assert len(xy) == len(t["loss"]) == 81
    np.testing.assert_allclose(xy[:, 0], t[against], rtol=1e-12)
    expect = np.log(t["loss"]) - np.log(_chinchilla(work["saved"]["params"], t["params"], t["tokens"]))
    np.testing.assert_allclose(xy[:, 1], expect, rtol=1e-6, atol=1e-9)


def test_tokens_per_param_svg_with_kaplan(work, drawn):
    _plot(work, "tokens_per_param", "--flops-range", "1e19", "1e26", suffix="svg")
    ax = _main_ax(drawn[-1])
    assert ax.get_ylabel() == "tokens per parameter D*/N*"
    assert len(ax.lines) == 4                      # the fit, Hoffmann, Epoch, Kaplan
    kaplan = next(ln for ln in ax.lines if ln.get_label().startswith("Kaplan"))
    C = np.asarray(kaplan.get_xdata())
    assert C[0] == pytest.approx(1e19, rel=1e-12) and C[-1] == pytest.approx(1e26, rel=1e-12)
    N = 1.3e9 * (C / 8.64e19) ** 0.73
    np.testing.assert_allclose(kaplan.get_ydata(), C / (6 * N * N), rtol=1e-12)


def test_loss_frontier_band_from_saved_draws(work, drawn):
    _plot(work, "loss_frontier", "--level", "0.8", runs=True)
    ax = _main_ax(drawn[-1])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "80% interval" in labels and "runs" in labels
    band = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert band
    (pts,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(pts.get_offsets()) == 81
    # without runs, --flops-range sets the span
    _plot(work, "loss_frontier", "--flops-range", "1e20", "1e24")
    line = next(ln for ln in _main_ax(drawn[-1]).lines if ln.get_label().startswith("L*(C)"))
    x = np.asarray(line.get_xdata())
    assert x[0] == pytest.approx(1e20, rel=1e-12) and x[-1] == pytest.approx(1e24, rel=1e-12)


def test_pairs_from_saved_draws(work, drawn):
    _plot(work, "pairs", "--params", "E", "alpha", "beta")
    fig = drawn[-1]
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6                        # lower triangle and diagonal of 3 x 3
    assert [ax.get_xlabel() for ax in visible if ax.get_xlabel()] == ["E", "alpha", "beta"]
    diag = [ax for ax in visible if ax.containers]  # the histograms (one BarContainer each)
    assert len(diag) == 3
    n_ok = sum(all(v is not None for v in row) for row in work["saved"]["bootstrap"]["draws"])
    for ax in diag:                                 # every usable draw counted once
        assert sum(bar.get_height() for bar in ax.containers[0]) == n_ok


def test_inference_frontier(work, drawn):
    sizes = ["1e8", "1e9", "1e10"]
    _plot(work, "inference_frontier", "--link", str(work["link"]), "--queries", "1e9", "--tokens-per-query", "1000",
          "--sizes", *sizes, "--samples", "1", "2", "4", "8", "--flops-range", "1e20", "1e24")
    ax = _main_ax(drawn[-1])
    assert ax.get_ylabel() == "predicted accuracy" and ax.get_xlabel().startswith("total FLOPs")
    per_size = [ln for ln in ax.lines if ln.get_label() == "_size"]
    assert len(per_size) == len(sizes)
    x = np.asarray(per_size[0].get_xdata())
    assert x[0] == pytest.approx(1e20, rel=1e-12) and x[-1] == pytest.approx(1e24, rel=1e-12)
    acc = np.concatenate([np.asarray(ln.get_ydata()) for ln in per_size])
    assert np.nanmin(acc) >= 0 and np.nanmax(acc) <= 1


def test_inference_frontier_marks_the_comparison_budget(work, drawn):
    _plot(work, "inference_frontier", "--link", str(work["link"]), "--queries", "1e9", "--tokens-per-query", "1000",
          "--samples", "1", "4", "16", "--flops-range", "1e20", "1e24", "--flops", "1e23", "--small", "1e8", "1e9",
          "--large", "1e10", "--queries-range", "1e5", "1e10")
    ax = _main_ax(drawn[-1])
    (mark,) = [ln for ln in ax.lines if ln.get_linestyle() == "-."]
    assert mark.get_xdata()[0] == pytest.approx(1e23, rel=1e-12)
    assert mark.get_label().startswith("1e+23 FLOPs: ")


def test_gain_vs_queries(work, drawn):
    _plot(work, "gain_vs_queries", "--link", str(work["link"]), "--flops", "1e23", "--small", "1e8", "1e9",
          "--large", "1e10", "--tokens-per-query", "1000", "--samples", "1", "4", "16",
          "--queries-range", "1e5", "1e10")
    ax = _main_ax(drawn[-1])
    assert ax.get_xlabel() == "queries served"
    gain = next(ln for ln in ax.lines if ln.get_label() == "gain, smaller - larger")
    q = np.asarray(gain.get_xdata())
    assert q[0] == pytest.approx(1e5, rel=1e-12) and q[-1] == pytest.approx(1e10, rel=1e-12)
    assert "1e+23" in ax.get_title()


def test_architecture_pareto(work, drawn):
    args = [a for spec in ARCHS for a in ("--arch", spec)]
    _plot(work, "architecture_pareto", "--flops", "1e22", "--batch", "16", *args, suffix="svg")
    ax = _main_ax(drawn[-1])
    assert ax.get_ylabel() == "predicted loss" and "H100" in ax.get_xlabel()
    pts = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    assert pts == len(ARCHS)                        # every candidate once
    star = next(ln for ln in ax.lines if ln.get_label() == "chosen")
    p = work["saved"]["params"]
    # the chosen one has the lowest loss: candidates differ in N, each trained on D = C / 6 N_total
    assert star.get_ydata()[0] == pytest.approx(min(c.get_offsets()[:, 1].min() for c in ax.collections
                                                    if isinstance(c, PathCollection)), rel=1e-12)
    assert star.get_ydata()[0] > p["E"]


# --------------------------------------------------------------------------- bad input -> exit 2
def _error(capsys, rc: int) -> str:
    assert rc == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    return line


def test_missing_runs_file(work, capsys, tmp_path):
    line = _error(capsys, main(["plot", str(work["fit"]), str(tmp_path / "nope.csv"), "--kind", "residuals",
                                "-o", str(tmp_path / "x.png"), "-q"]))
    assert "nope.csv" in line
    line = _error(capsys, main(["plot", str(work["fit"]), "--kind", "residuals", "-o", str(tmp_path / "x.png")]))
    assert "RUNS_FILE" in line


@pytest.mark.parametrize("kind", ["loss_frontier", "pairs"])
def test_no_draws_saved_names_the_command(kind, work, capsys, tmp_path):
    out = tmp_path / "x.png"
    line = _error(capsys, main(["plot", str(work["nodraws"]), "--kind", kind, "-o", str(out), "-q"]))
    assert "holds no bootstrap draws" in line
    assert f"scalinglaws fit {CSV.resolve()} --bootstrap 200 -o {work['nodraws']}" in line
    assert not out.exists()


def test_unknown_kind(work, capsys, tmp_path):
    line = _error(capsys, main(["plot", str(work["fit"]), "--kind", "histogram", "-o", str(tmp_path / "x.png")]))
    assert "invalid choice: 'histogram'" in line and "tokens_per_param" in line


def test_bad_against(work, capsys, tmp_path):
    line = _error(capsys, main(["plot", str(work["fit"]), str(CSV), "--kind", "residuals", "--against", "tokens",
                                "-o", str(tmp_path / "x.png")]))
    assert "--against" in line and "'tokens'" in line


@pytest.mark.parametrize("kind, extra, expect", [
    ("inference_frontier", [], "--link LINK_JSON"),
    ("gain_vs_queries", ["--link", "LINK", "--tokens-per-query", "100"], "--small N"),
    ("architecture_pareto", ["--flops", "1e22"], "--arch"),
    ("pairs", ["--level", "1.5"], "--level"),
    ("frontier", ["--flops-range", "1e22", "1e20"], "LOW < HIGH"),
])
def test_missing_options_are_named(kind, extra, expect, work, capsys, tmp_path):
    line = _error(capsys, main(["plot", str(work["fit"]), "--kind", kind, "-o", str(tmp_path / "x.png"), *extra]))
    assert expect in line


def test_pairs_paper_style_fits_a_page_width(work, drawn):
    # 5 parameters x 1.35 in + 0.4 in would be 7.15 in: capped at a two-column text width of 6.9 in
    _plot(work, "pairs", "--style", "paper")
    w, h = drawn[-1].get_size_inches()
    assert (w, h) == pytest.approx((6.9, 6.9), rel=1e-12)
    _plot(work, "pairs", "--style", "paper", "--params", "E", "alpha")
    assert tuple(drawn[-1].get_size_inches()) == pytest.approx((1.35 * 2 + 0.4,) * 2, rel=1e-12)


def test_gain_vs_queries_band_from_saved_draws(work, drawn, capsys):
    # --bootstrap 10: the band is the 90% interval of the gain over the fit file's first 10 draws
    # (the link file holds none, so the link is held fixed and the CLI says so)
    import dataclasses
    import warnings

    import scalinglaws as sl
    from scalinglaws.fitting.bootstrap import load_bootstrap

    opts = ["--link", str(work["link"]), "--flops", "1e23", "--small", "1e8", "1e9", "--large", "1e10",
            "--tokens-per-query", "1000", "--samples", "1", "4", "16", "--queries-range", "1e5", "1e10"]
    out = work["dir"] / "gain-band.png"
    assert main(["plot", str(work["fit"]), "--kind", "gain_vs_queries", *opts, "--bootstrap", "10",
                 "-o", str(out)]) == 0
    assert "the link is held fixed" in capsys.readouterr().err
    ax = _main_ax(drawn[-1])
    band = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(band) == 1 and band[0].get_label() == "90% interval"
    fit = sl.load_fit(work["fit"])
    bs = load_bootstrap(work["fit"], fit)
    bs = dataclasses.replace(bs, draws=bs.draws[:10], objectives=bs.objectives[:10])
    model = sl.optimize.CoverageAccuracyModel(sl.load_fit(work["link"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cmp = sl.smaller_vs_larger(bs, model, small=[1e8, 1e9], large=[1e10], total_flops=1e23,
                                   queries=np.geomspace(1e5, 1e10, 25), samples=[1, 4, 16], tokens_per_sample=1000)
    lo, hi = cmp.interval(0.9)["gain"]
    verts = band[0].get_paths()[0].vertices
    fin = np.isfinite(lo) & np.isfinite(hi)
    assert np.nanmin(verts[:, 1]) == pytest.approx(float(np.min(lo[fin])), rel=1e-9, abs=1e-12)
    assert np.nanmax(verts[:, 1]) == pytest.approx(float(np.max(hi[fin])), rel=1e-9, abs=1e-12)
