"""The paper style (``scalinglaws.plot.paper_style``, ``scalinglaws plot --style paper``): vector
files that are what they claim, the Okabe-Ito colours on the lines drawn, one column's width."""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest
from matplotlib.colors import to_hex

import scalinglaws as sl
from scalinglaws import plot
from scalinglaws.cli import main

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "synthetic_chinchilla.csv"
# Okabe & Ito (2008), typed from https://jfly.uni-koeln.de/color/ (RGB 0-255): blue (0,114,178),
# orange (230,159,0), bluish green (0,158,115), vermillion (213,94,0), sky blue (86,180,233),
# reddish purple (204,121,167), black, yellow (240,228,66)
OKABE_ITO_RGB = [(0, 114, 178), (230, 159, 0), (0, 158, 115), (213, 94, 0), (86, 180, 233), (204, 121, 167),
                 (0, 0, 0), (240, 228, 66)]
HEX = ["#%02x%02x%02x" % c for c in OKABE_ITO_RGB]
COLUMN_IN = 3.3


@pytest.fixture(scope="module")
def fit():
    return sl.fit(sl.laws.Chinchilla(), sl.read_runs(CSV))


@pytest.fixture(scope="module")
def fit_json(fit, tmp_path_factory):
    return fit.save(tmp_path_factory.mktemp("paper") / "fit.json")


def test_palette_is_okabe_ito():
    assert [to_hex(c) for c in plot.OKABE_ITO] == HEX
    cycle = plot.paper_rc()["axes.prop_cycle"].by_key()["color"]
    assert [to_hex(c) for c in cycle] == HEX


def test_lines_drawn_use_the_palette(fit):
    import matplotlib.pyplot as plt

    # "C0".."C7" resolve through the colour cycle when drawn: figures are made and saved inside the style
    with warnings.catch_warnings(), plot.paper_style():
        warnings.simplefilter("ignore", UserWarning)
        ax = plot.plot_frontier(fit)
        ax2 = plot.plot_tokens_per_param(fit)
        try:
            # N* and D* of the fit (solid) and of Hoffmann et al. (dashed): C0 and C1 of the cycle
            assert [to_hex(ln.get_color()) for ln in ax.lines] == [HEX[0], HEX[1], HEX[0], HEX[1]]
            # the fit, then Hoffmann et al., Epoch and Kaplan et al.: C0, C1, C2, C3
            assert [to_hex(ln.get_color()) for ln in ax2.lines] == HEX[:4]
        finally:
            plt.close(ax.figure)
            plt.close(ax2.figure)
    # outside the style, matplotlib's own cycle is back (tab:blue)
    assert to_hex(matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0]) == "#1f77b4"


def test_figure_is_one_column_wide_and_text_legible(fit):
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(), plot.paper_style():
        warnings.simplefilter("ignore", UserWarning)
        ax = plot.plot_frontier(fit)
        ax.figure.canvas.draw()
    try:
        w, h = ax.figure.get_size_inches()
        assert (w, h) == pytest.approx((COLUMN_IN, 0.75 * COLUMN_IN), rel=1e-12)
        sizes = [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        sizes += [ax.xaxis.label.get_fontsize(), ax.yaxis.label.get_fontsize()]
        sizes += [t.get_fontsize() for t in ax.get_legend().get_texts()]
        # 7 pt is the usual floor for print at 100% (the legend asks for "small": 0.833 x 9 pt)
        assert min(sizes) >= 7.0 and max(sizes) <= 10.0, sizes
    finally:
        plt.close(ax.figure)
    with plot.paper_style(width=7.0, aspect=0.5):
        assert tuple(matplotlib.rcParams["figure.figsize"]) == (7.0, 3.5)
    with pytest.raises(sl.DataError, match="width"):
        plot.paper_rc(width=-1)


def test_markers_shrink_with_the_column(fit):
    """plot_residuals draws its runs at 18 pt^2 by default; the paper style's 4 pt marker size (the
    default is 6 pt) scales areas by (4/6)^2: 8 pt^2."""
    import matplotlib.pyplot as plt

    runs = sl.read_runs(CSV)
    ax = plot.plot_residuals(fit, runs)
    with plot.paper_style():
        ax2 = plot.plot_residuals(fit, runs)
    try:
        assert ax.collections[0].get_sizes()[0] == pytest.approx(18.0, rel=1e-12)
        assert ax2.collections[0].get_sizes()[0] == pytest.approx(18.0 * (4 / 6) ** 2, rel=1e-12)
    finally:
        plt.close(ax.figure)
        plt.close(ax2.figure)


def _pdf_page_width_pt(data: bytes) -> float:
    m = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert m, "no MediaBox"
    return float(m.group(1))


@pytest.mark.parametrize("kind", ["fit", "frontier"])
def test_cli_paper_pdf_is_a_column_wide_pdf(fit_json, tmp_path, kind):
    out = tmp_path / f"{kind}.pdf"
    args = ["plot", str(fit_json), *([str(CSV)] if kind == "fit" else []), "--kind", kind, "--style", "paper",
            "-o", str(out), "-q"]
    assert main(args) == 0
    data = out.read_bytes()
    assert data[:5] == b"%PDF-" and b"%%EOF" in data[-64:]
    assert _pdf_page_width_pt(data) == pytest.approx(COLUMN_IN * 72, abs=0.01)  # 72 pt per inch
    assert b"/FontType 42" not in data and (b"/TrueType" in data or b"/CIDFontType2" in data)  # type 42 fonts


def test_cli_paper_svg_parses_with_an_svg_root(fit_json, tmp_path):
    out = tmp_path / "frontier.svg"
    assert main(["plot", str(fit_json), "--kind", "frontier", "--style", "paper", "-o", str(out), "-q"]) == 0
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(COLUMN_IN * 72, abs=0.01)
    text = out.read_text()
    assert "<text" in text  # svg.fonttype "none": labels stay text, editable in a vector editor
    assert HEX[0] in text.lower() and HEX[1] in text.lower()  # the N* and D* lines


def test_cli_default_style_keeps_its_size(fit_json, tmp_path):
    out = tmp_path / "frontier.svg"
    assert main(["plot", str(fit_json), "--kind", "frontier", "-o", str(out), "-q"]) == 0
    root = ET.parse(out).getroot()
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(6.4 * 72, abs=0.01)


def test_cli_rejects_an_unknown_style(fit_json, tmp_path, capsys):
    assert main(["plot", str(fit_json), "--kind", "frontier", "--style", "poster", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "--style" in capsys.readouterr().err
