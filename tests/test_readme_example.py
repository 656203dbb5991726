"""README.md's "In Python" example runs on the file it was written for, Epoch's
``svg_extracted_data.csv`` (../shared/data/epoch_chinchilla), and gives the numbers the
README prints, at the precision it prints them.

The code block is taken from README.md as it stands (only the file name is pointed at the
shared copy, and the saved fit goes to a temporary folder). Every bare expression in it that
carries a comment with numbers (``fit.params      # {'E': 1.8172, ...}``) is evaluated and
compared with those numbers: a printed number with its last digit in place 10^k must equal
the computed value to within half of 10^k (it is the computed value, rounded as printed).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import shared

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"[-+]?\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## In Python", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "README.md: no python block under 'In Python'"
    return m.group(1)


def printed_values(comment: str):
    """The numbers a result comment prints: {name: text} for dicts and name=value lists,
    [text, ...] for a plain list of numbers."""
    named = re.findall(rf"'?(\w+)'?\s*[:=]\s*({NUMBER})", comment)
    if named:
        return dict(named)
    return re.findall(NUMBER, comment)


def within_printed_precision(value: float, text: str) -> bool:
    d = Decimal(text.replace("_", ""))
    half_unit = Decimal(5) * Decimal(10) ** (d.as_tuple().exponent - 1)
    # float(d) carries ~1e-16 relative representation error: allow that on top
    return abs(Decimal(repr(float(value))) - d) <= half_unit + abs(d) * Decimal("1e-15")


def commented_expressions(code: str):
    """(source, comment) for each bare expression statement followed by a comment with a number."""
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    out = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Expr) and node.end_lineno in comments and re.search(r"\d", comments[node.end_lineno]):
            if isinstance(node.value, ast.Call):  # print(...), fit.save(...): not a printed value
                continue
            out.append((ast.get_source_segment(code, node), comments[node.end_lineno]))
    return out


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory):
    csv = shared("epoch_chinchilla", "svg_extracted_data.csv")
    code = readme_block()
    assert '"svg_extracted_data.csv"' in code
    code = code.replace('"svg_extracted_data.csv"', repr(str(csv)))
    out = tmp_path_factory.mktemp("readme")
    code = code.replace('"fit.json"', repr(str(out / "fit.json")))
    ns: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the 5.76e23 optimum extrapolates (the README's own example)
        exec(compile(code, "README.md (In Python)", "exec"), ns)
    return code, ns, out


def test_readme_example_runs_and_saves(readme_run):
    code, ns, out = readme_run
    import scalinglaws as sl

    assert isinstance(ns["fit"], sl.Fit) and isinstance(ns["mle"], sl.Fit)
    assert len(ns["runs"]) == 240  # "Epoch's convention: 240 rows"
    assert ns["fit"].n_starts == 4500 + 64  # "4,500 + 64 starts"
    saved = sl.load_fit(out / "fit.json")
    assert saved.params == ns["fit"].params  # exact: the same floats through JSON (repr round-trips)


def test_readme_prints_what_the_example_computes(readme_run):
    code, ns, _ = readme_run
    checks = commented_expressions(code)
    # fit.params, fit.objective, (best.params, best.tokens, best.tokens_per_param), mle.params
    assert len(checks) >= 4, checks
    for src, comment in checks:
        got = eval(src, ns)  # noqa: S307  (the README's own expression)
        want = printed_values(comment)
        assert want, (src, comment)
        if isinstance(want, dict):
            assert set(want) <= set(got), (src, want, got)
            for k, text in want.items():
                assert within_printed_precision(got[k], text), (src, k, got[k], text)
        else:
            got = got if isinstance(got, tuple) else (got,)
            assert len(got) == len(want), (src, got, want)
            for g, text in zip(got, want):
                assert within_printed_precision(float(g), text), (src, g, text)


@pytest.mark.parametrize("value, text, ok", [(73.19e9, "73.2e9", True), (73.26e9, "73.2e9", False),
                                             (1.0182740e-3, "1.01827e-03", True), (1.01828e-3, "1.01827e-03", False),
                                             (0.36717, "0.3672", True), (17.96, "17.9", False)])
def test_printed_precision_rule(value, text, ok):
    assert within_printed_precision(value, text) is ok
