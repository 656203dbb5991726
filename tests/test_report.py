"""The HTML report (``scalinglaws report``, ``scalinglaws.report``): its content against hand
computations, its self-containment, its errors, and how it renders in headless Chromium (Debian's
``chromium`` package; .ci/run installs it; under CI=true a missing browser fails the test)."""

from __future__ import annotations

import ast
import base64
import json
import re
import shlex
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from conftest import in_ci
from scalinglaws.cli import main
from scalinglaws.report import SECTIONS, render_report, write_report

# about 75 s of CPU here (2 cores): the fit's compile and 100 resamples (~30 s), six report renders of six
# figures each (~5 s each), two Chromium runs; slow by the project's 60 s rule (still run by CI)
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "synthetic_chinchilla.csv"


def readme_blocks(lang: str) -> list[str]:
    """The ``lang`` code blocks of README.md's "Report and paper figures" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Report and paper figures", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{lang}\n(.*?)```", section, re.S)


def _localise(code: str, out: Path, written: Path | None = None) -> str:
    """README's relative paths: the bundled CSV by its absolute path, fit.json under ``out``, the
    other files it writes under ``written`` (default ``out``)."""
    code = code.replace("data/synthetic_chinchilla.csv", str(CSV))
    for name in ("fit.json", "report.html", "isoflop.pdf", "tokens_per_param.pdf"):
        where = out if name == "fit.json" or written is None else written
        code = re.sub(rf"(?<![\w/.]){re.escape(name)}", str(where / name), code)
    return code


COMMANDS = readme_blocks("bash")[0].strip().splitlines()
N_BOOT = int(re.search(r"--bootstrap (\d+)", COMMANDS[0]).group(1))  # README's: small, the intervals only
# have to exist and match the saved draws


# --------------------------------------------------------------------------- HTML reading
class _Page(HTMLParser):
    """Sections (id -> heading text), tables (class -> rows of cell texts), img attributes."""

    def __init__(self):
        super().__init__()
        self.sections, self.tables, self.imgs, self.links = {}, {}, [], []
        self._section = self._h2 = None
        self._table = self._row = self._cell = None
        self._sup = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = a.get("id")
        elif tag == "h2" and self._section:
            self._h2 = []
        elif tag == "table":
            self._table = self.tables.setdefault(a.get("class", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "sup":
            self._sup = True
            if self._cell is not None:
                self._cell.append("^")
        elif tag == "br" and self._cell is not None:
            self._cell.append(" | ")
        elif tag == "img":
            self.imgs.append(a)
        for k in ("src", "href"):
            if k in a:
                self.links.append(a[k])

    def handle_endtag(self, tag):
        if tag == "h2" and self._h2 is not None:
            self.sections[self._section] = "".join(self._h2).strip()
            self._h2 = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "sup":
            self._sup = False

    def handle_data(self, data):
        if self._h2 is not None:
            self._h2.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> _Page:
    p = _Page()
    p.feed(text)
    return p


def number(text: str) -> float:
    """'8.253×10^8' -> 8.253e8, '10^20' -> 1e20, '−3' -> -3."""
    t = text.replace("\u2212", "-").replace("\u00d7", "").strip()
    t = re.sub(r"^(-?)10\^", r"\g<1>1e", t)
    return float(t.replace("10^", "e"))


def interval(text: str) -> tuple[float, float]:
    lo, hi = text.strip().strip("[]").split(",")
    return number(lo), number(hi)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """README's commands: fit.json (with bootstrap draws) from the bundled CSV, its report, a paper
    figure, all via the CLI."""
    out = tmp_path_factory.mktemp("report")
    assert [c.split()[:2] for c in COMMANDS] == [["scalinglaws", "fit"], ["scalinglaws", "report"],
                                                 ["scalinglaws", "plot"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for cmd in COMMANDS:
            assert main(shlex.split(_localise(cmd, out))[1:] + ["-q"]) == 0, cmd
    return out / "fit.json", out / "report.html"


def test_readme_paper_figure_is_a_column_wide_pdf(made):
    data = (made[0].parent / "isoflop.pdf").read_bytes()
    assert data[:5] == b"%PDF-"
    width = float(re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)", data).group(1))
    assert width == pytest.approx(3.3 * 72, abs=0.01)  # 3.3 in at 72 pt per inch


def test_readme_python_example_runs(made, tmp_path):
    """README's Python block, on the fit file its commands made; each commented expression equals
    the literal in its comment."""
    (code,) = readme_blocks("python")
    ns: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        exec(compile(_localise(code, made[0].parent, tmp_path), "README.md (Report)", "exec"), ns)  # noqa: S102
    checked = 0
    for line in code.splitlines():
        m = re.match(r"^(rep\.[\w.\[\]:]+)\s+#\s*(\(.*\))\s*$", line)
        if m:
            assert eval(m.group(1), ns) == ast.literal_eval(m.group(2)), line  # noqa: S307
            checked += 1
    assert checked == 1
    assert (tmp_path / "tokens_per_param.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")


@pytest.fixture(scope="module")
def page(made):
    return parse(made[1].read_text())


# --------------------------------------------------------------------------- content
def test_sections_have_ids_and_headings_in_order(made, page):
    assert page.sections == {k: v[0] for k, v in SECTIONS.items()}
    text = made[1].read_text()
    pos = [text.index(f'<section id="{k}">') for k in SECTIONS]
    assert pos == sorted(pos)


def test_self_contained(made, page):
    text = made[1].read_text()
    assert not re.search(r"(?i)(?:src|href)\s*=\s*[\"']?(?:https?:)?//", text), "an external reference"
    assert "<link" not in text.lower() and "@import" not in text and "url(" not in text
    assert page.imgs, "no figure"
    for img in page.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,"), src[:40]
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(h.startswith(("#", "data:")) for h in page.links), page.links


def test_figures_are_the_main_ones(made, page):
    ids = re.findall(r'<figure id="([\w-]+)"><img', made[1].read_text())
    assert ids == ["fig-loss-frontier", "fig-isoflop", "fig-residuals", "fig-residuals-params", "fig-frontier",
                   "fig-tokens-per-param"]
    assert "not drawn" not in made[1].read_text()
    # the runs came from the path saved by 'fit -o'
    assert {r[0]: r[1] for r in page.tables["data"]}["source"] == str(CSV.resolve())


def test_parameter_table_matches_the_saved_draws(made, page):
    """Estimates are the saved fit's; s.e. and 90%/95% intervals are numpy's std / quantiles of
    exp(internal draw) for A, B, E (the Chinchilla law stores their logs) and of the draws for
    alpha, beta. Cells print 4 significant digits (6 for the estimate): rtol 6e-4 covers the
    rounding (half a unit in the 4th digit is at most 5e-4 relative)."""
    d = json.loads(made[0].read_text())
    names = d["bootstrap"]["param_names"]
    draws = np.array(d["bootstrap"]["draws"], dtype=np.float64)
    assert draws.shape == (N_BOOT, 5) and np.all(np.isfinite(draws))
    public = {"A": np.exp(draws[:, names.index("a")]), "B": np.exp(draws[:, names.index("b")]),
              "E": np.exp(draws[:, names.index("e")]), "alpha": draws[:, names.index("alpha")],
              "beta": draws[:, names.index("beta")]}
    head, *rows = page.tables["params"]
    assert head == ["parameter", "estimate", "s.e. (bootstrap)", "90% interval", "95% interval"]
    got = {r[0]: r for r in rows}
    assert set(got) == set(public)
    for k, v in public.items():
        r = got[k]
        assert number(r[1]) == pytest.approx(d["params"][k], rel=6e-6)
        assert number(r[2]) == pytest.approx(np.std(v, ddof=1), rel=6e-4)
        for cell, level in ((r[3], 0.90), (r[4], 0.95)):
            q = (1 - level) / 2
            assert interval(cell) == pytest.approx((np.quantile(v, q), np.quantile(v, 1 - q)), rel=6e-4)


def test_allocation_table_is_the_closed_form(made, page):
    """N*(C) = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta)) (Hoffmann et
    al. 2022, eq. 4), D* = C / (6 N*), L* = E + A/N*^alpha + B/D*^beta, at 1e20..1e25; printed to 4
    digits (rtol 6e-4). The interval below each value brackets it."""
    p = json.loads(made[0].read_text())["params"]
    E, A, B, a, b = (p[k] for k in ("E", "A", "B", "alpha", "beta"))
    head, *rows = page.tables["alloc"]
    assert head[:3] == ["budget C (FLOPs)", "N* (parameters)", "D* (tokens)"]
    assert [number(r[0]) for r in rows] == [1e20, 1e21, 1e22, 1e23, 1e24, 1e25]
    G = (a * A / (b * B)) ** (1 / (a + b))
    for r in rows:
        C = number(r[0])
        n = G * (C / 6) ** (b / (a + b))
        dd = C / (6 * n)
        want = (n, dd, dd / n, E + A / n ** a + B / dd ** b)
        for cell, w in zip(r[1:], want):
            value, ci = cell.split("|")
            assert number(value) == pytest.approx(w, rel=6e-4)
            lo, hi = interval(ci)
            assert lo * (1 - 6e-3) <= w <= hi * (1 + 6e-3)  # 3-digit bounds: 5e-3 relative rounding


def test_data_summary(made, page):
    raw = np.genfromtxt(CSV, delimiter=",", names=True)
    rows = {r[0]: r[1] for r in page.tables["data"]}
    assert rows["rows"] == str(len(raw)) == "81"
    for label, col in (("parameters N", "params"), ("tokens D", "tokens"), ("training FLOPs C", "flops"),
                       ("loss", "loss")):
        lo, hi = (number(x) for x in rows[label].split(" to "))
        assert lo == pytest.approx(raw[col].min(), rel=5e-3) and hi == pytest.approx(raw[col].max(), rel=5e-3)
    assert rows["groups"].startswith("none")


def test_notes_and_warnings_listed(made):
    text = made[1].read_text()
    notes = text.split('<section id="notes">', 1)[1]
    # 1e24 and 1e25 put N* above the largest run (3.9e10): the allocation's extrapolation warning
    assert "allocation: optimum params outside the fitted runs&#x27; range" in notes
    assert f"bootstrap: {N_BOOT} resamples" in notes


def test_without_runs_the_data_figures_are_left_out_and_said(made):
    fit = sl.load_fit(made[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rep = render_report(fit)
    assert rep.figures == ("fig-frontier", "fig-tokens-per-param")
    assert any("no runs given" in n for n in rep.notes)
    pg = parse(rep.html)
    assert [r[0] for r in pg.tables["params"][1:]] == list(fit.params)
    assert "No bootstrap draws" in rep.html
    assert len(pg.tables["params"][0]) == 2  # parameter, estimate


def test_a_bootstrap_object_gives_intervals(made):
    from scalinglaws.fitting.bootstrap import bootstrap_from_dict

    d = json.loads(made[0].read_text())
    bs = bootstrap_from_dict(sl.load_fit(made[0]), d["bootstrap"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rep = render_report(bs, budgets=[1e21], level=0.8)
    head, *rows = parse(rep.html).tables["params"]
    assert head[2:] == ["s.e. (bootstrap)", "80% interval", "95% interval"]
    se = bs.se()
    assert {r[0]: number(r[2]) for r in rows} == pytest.approx(se, rel=6e-4)
    alloc = parse(rep.html).tables["alloc"]
    assert len(alloc) == 2 and "|" in alloc[1][1]  # one budget, its value and its interval
    assert rep.figures == ("fig-frontier", "fig-tokens-per-param")  # no runs passed with a bare Bootstrap


def test_runs_given_as_a_frame_and_a_different_table_warns(made, tmp_path):
    import pandas as pd

    fit = sl.load_fit(made[0])
    frame = pd.read_csv(CSV).iloc[:60]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rep = write_report(fit, frame, tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text() == rep.html
    assert any("not the ones the fit was made from" in w for w in rep.warnings)
    assert "fig-isoflop" in rep.figures


def test_curvature_standard_errors_when_no_draws(made, tmp_path):
    """A fit file with curvature standard errors (as 'fit --curvature -o' saves them) and no
    bootstrap: the report shows the saved s.e. and normal intervals, to 4 digits (rtol 6e-4)."""
    d = json.loads(made[0].read_text())
    fit = sl.load_fit(made[0])
    cv = sl.fitting.curvature(fit, sl.read_runs(CSV)).to_dict()
    d = {k: v for k, v in d.items() if k not in ("bootstrap", "read_runs")} | {"curvature": cv}
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(d, default=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rep = render_report(path, budgets=[1e21])
    cv = json.loads(path.read_text())["curvature"]
    head, *rows = parse(rep.html).tables["params"]
    assert head == ["parameter", "estimate", "s.e. (curvature)", "95% interval (normal)"]
    for r in rows:
        assert number(r[2]) == pytest.approx(cv["se"][r[0]], rel=6e-4)
        assert interval(r[3]) == pytest.approx(tuple(cv["interval"][r[0]]), rel=6e-4)


# --------------------------------------------------------------------------- errors
def test_missing_and_invalid_fit_files(tmp_path):
    with pytest.raises(sl.LawError, match="no such fit file") as e:
        render_report(tmp_path / "nope.json")
    assert e.value.source == str(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(sl.LawError, match="invalid JSON") as e:
        render_report(bad)
    assert e.value.rule == "invalid fit file"
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(sl.LawError, match="not a fit file"):
        render_report(other)
    with pytest.raises(sl.LawError, match="is a folder"):
        render_report(tmp_path)
    with pytest.raises(sl.LawError, match="expected a Fit"):
        render_report(42)


def test_missing_runs_files(made, tmp_path):
    fit_json = made[0]
    with pytest.raises(sl.DataError, match="no such runs file") as e:
        render_report(fit_json, tmp_path / "runs.csv")
    assert e.value.rule == "missing file"
    d = json.loads(fit_json.read_text())
    d["read_runs"]["path"] = str(tmp_path / "moved.csv")
    moved = tmp_path / "fit.json"
    moved.write_text(json.dumps(d))
    with pytest.raises(sl.DataError, match="moved.csv, does not exist"):
        render_report(moved)


def test_bad_arguments(made, tmp_path):
    with pytest.raises(sl.LawError, match=r"level=\.\.\.\) must be in \(0, 1\)"):
        render_report(made[0], level=1.5)
    with pytest.raises(sl.LawError, match="budgets"):
        render_report(made[0], budgets=[1e20, -1.0])
    with pytest.raises(sl.DataError, match="is a folder"):
        write_report(made[0], out=tmp_path)


def test_cli_errors_and_help(made, tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.json"), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "nope.json" in err and "Traceback" not in err
    assert main(["report", str(made[0]), str(tmp_path / "none.csv"), "-o", str(tmp_path / "r.html")]) == 2
    assert "none.csv" in capsys.readouterr().err
    assert main(["report", str(made[0]), "--level", "2", "-o", str(tmp_path / "r.html")]) == 2
    assert "--level" in capsys.readouterr().err
    assert main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    assert "self-contained HTML" in out and "--bootstrap" in out and "RUNS_FILE" in out


# --------------------------------------------------------------------------- headless Chromium
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        msg = "headless Chromium not found (Debian: apt-get install chromium; .ci/run installs it)"
        if in_ci():
            pytest.fail(f"{msg} (CI=true: the browser test must run)", pytrace=False)
        pytest.skip(msg)
    return exe


def _browse(*args: str) -> subprocess.CompletedProcess:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


WIDTH, HEIGHT = 1200, 4000


@pytest.fixture(scope="module")
def browsed(made):
    html_path = made[1]
    url = html_path.resolve().as_uri()
    dom = _browse("--virtual-time-budget=5000", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = html_path.with_name("shot.png")
    r = _browse(f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", url)
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    return dom.stdout, shot


def test_chromium_dom_has_sections_and_rendered_figures(browsed):
    pg = parse(browsed[0])
    assert pg.sections == {k: v[0] for k, v in SECTIONS.items()}
    imgs = [i for i in pg.imgs if i.get("src", "").startswith("data:image/png")]
    assert len(imgs) == 6
    for i in imgs:  # the page's script wrote each figure's laid-out size on load
        assert int(i["data-rendered-width"]) > 300 and int(i["data-rendered-height"]) > 200, i.get("alt")


def _bar_rows(img: np.ndarray, colour: str, tol: int = 4) -> np.ndarray:
    """Screenshot rows in which more than half the width is the heading bar's colour (within tol)."""
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    hit = np.all(np.abs(img[:, :, :3].astype(int) - rgb) <= tol, axis=2)
    return np.flatnonzero(hit.sum(axis=1) > 0.5 * img.shape[1])


def test_chromium_screenshot_shows_every_section(browsed):
    from PIL import Image

    img = np.asarray(Image.open(browsed[1]).convert("RGB"))
    assert img.shape[:2] == (HEIGHT, WIDTH)
    ink = np.any(img < 235, axis=2)
    assert ink.mean() > 0.05, f"screenshot nearly blank ({ink.mean():.1%} ink)"
    tops = []
    for sid, (_, colour) in SECTIONS.items():
        rows = _bar_rows(img, colour)
        assert rows.size >= 6, f"section {sid!r}: its heading bar ({colour}) is not in the screenshot"
        assert np.ptp(rows) < 20, f"section {sid!r}: bar colour found in scattered rows {rows[:5]}..."
        tops.append(int(rows.min()))
    assert tops == sorted(tops), tops  # the sections in page order
    # under each bar the section has content: text and tables (or figures) before the next bar
    for sid, top, nxt in zip(SECTIONS, tops, tops[1:] + [None]):
        band = ink[top + 12: (nxt if nxt is not None else top + 300)]
        assert band.mean() > 0.01, f"section {sid!r} looks empty"
    # the figures section holds the figures (colour maps, shading, antialiased lines): measured 13,661
    # distinct colours against 343-705 in the text and table sections; the test asks for 5x any of them
    packed = (img[:, :, 0].astype(np.int32) << 16) | (img[:, :, 1].astype(np.int32) << 8) | img[:, :, 2]
    colours = [len(np.unique(packed[top + 12: nxt])) for top, nxt in zip(tops, tops[1:] + [tops[-1] + 300])]
    assert tops[2] - tops[1] > 800 and colours[1] > 5 * max(colours[:1] + colours[2:]), colours
