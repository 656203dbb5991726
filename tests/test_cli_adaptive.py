"""`scalinglaws plot SAMPLES_LOG --kind adaptive` and `SampleSummary.bin_curves`: difficulty-binned
pass@k curves of a per-sample log, drawn as adaptive against uniform samples per query.

Checked against pass@k written out here with math.comb (1 - C(n-c, k) / C(n, k)), averaged over
each bin's problems, and the bins against an independent equal-count cut of the pass rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import cli
from scalinglaws.cli import main
from scalinglaws.errors import LawError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _log(n_problems=40, n=16, seed=0, models=("m",)):
    rng = np.random.default_rng(seed)
    rows = []
    for m in models:
        p = rng.beta(0.6, 1.4, n_problems)
        for i in range(n_problems):
            for j in range(n):
                rows.append((m, i, j, int(rng.random() < p[i])))
    return rows


def _write(path, rows, with_model=True):
    head = "model,problem,sample_index,correct" if with_model else "problem,sample_index,correct"
    body = [",".join(map(str, r if with_model else r[1:])) for r in rows]
    path.write_text(head + "\n" + "\n".join(body) + "\n")
    return path


def _counts(rows, model):
    c, n = {}, {}
    for m, i, _, ok in rows:
        if m == model:
            n[i] = n.get(i, 0) + 1
            c[i] = c.get(i, 0) + ok
    keys = sorted(n)
    return np.array([n[k] for k in keys]), np.array([c[k] for k in keys])


def _passk(n, c, k):
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def test_bin_curves_equal_mean_pass_at_k_per_bin():
    rows = _log()
    cols = {"problem": np.array([r[1] for r in rows]), "sample_index": np.array([r[2] for r in rows]),
            "correct": np.array([r[3] for r in rows], dtype=float)}
    s = sl.evals.aggregate_samples(cols, by=(), difficulty_bins=4)[()]
    curves, w = s.bin_curves()
    n, c = _counts(rows, "m")
    np.testing.assert_array_equal(s.n, n)
    np.testing.assert_array_equal(s.c, c)
    assert len(curves) == 4 and w.sum() == pytest.approx(1.0, abs=1e-12)
    for b, (curve, wb) in enumerate(zip(curves, w), start=1):
        members = np.flatnonzero(s.bin == b)
        assert wb == pytest.approx(members.size / n.size, abs=1e-12)
        assert curve.size == n[members].min() + 1 and curve[0] == 0.0
        want = [np.mean([_passk(int(n[i]), int(c[i]), k) for i in members]) for k in range(1, curve.size)]
        np.testing.assert_allclose(curve[1:], want, rtol=1e-12, atol=1e-15)
    # bin 1 is the easiest: its pass@1 is the highest
    assert curves[0][1] == max(cv[1] for cv in curves)
    capped, _ = s.bin_curves(k_max=5)
    assert all(cv.size == 6 for cv in capped)
    with pytest.raises(LawError) as e:
        s.bin_curves(k_max=0)
    assert e.value.rule == "bad argument"
    none = sl.evals.aggregate_samples(cols, by=(), difficulty_bins=0)[()]
    with pytest.raises(LawError) as e:
        none.bin_curves()
    assert e.value.rule == "no bins"


def test_cli_adaptive_draws_uniform_and_adaptive(tmp_path, monkeypatch):
    rows = _log(models=("a", "b"), seed=3)
    path = _write(tmp_path / "samples.csv", rows)
    figs = []
    real = cli._save_figure
    monkeypatch.setattr(cli, "_save_figure", lambda fig, p, args, dpi=120: (figs.append(fig), real(fig, p, args, dpi))[1])
    out = tmp_path / "adaptive.png"
    assert main(["plot", str(path), "--kind", "adaptive", "--model", "b", "--bins", "4", "-o", str(out), "-q"]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    (ax,) = figs[0].axes
    assert ax.get_xlabel() == "mean samples per query (budget)" and ax.get_ylabel() == "expected accuracy"
    uniform = [ln for ln in ax.lines if ln.get_label().startswith("uniform")][0]
    adaptive = [ln for ln in ax.lines if ln.get_label().startswith("adaptive")][0]
    assert "4 bins" in adaptive.get_label()
    # the uniform line at integer budget k: the mean pass@k over all of model b's problems (every
    # bin at the same k; equal-count bins of 10 problems, so the bin weights are equal)
    n, c = _counts(rows, "b")
    for k, acc in zip(uniform.get_xdata(), uniform.get_ydata()):
        if float(k).is_integer():
            assert acc == pytest.approx(np.mean([_passk(int(a), int(b), int(k)) for a, b in zip(n, c)]), rel=1e-9)
    # adapting never loses, and gains somewhere in between (the bins differ in difficulty)
    gap = np.asarray(adaptive.get_ydata()) - np.asarray(uniform.get_ydata())
    assert np.all(gap >= -1e-12) and gap.max() > 0.01


def _error(capsys, rc):
    assert rc == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    return line


def test_cli_adaptive_bad_input(tmp_path, capsys):
    two = _write(tmp_path / "two.csv", _log(n_problems=10, n=4, models=("a", "b")))
    out = str(tmp_path / "x.png")
    line = _error(capsys, main(["plot", str(two), "--kind", "adaptive", "-o", out, "-q"]))
    assert "2 models" in line and "--model NAME" in line and "two.csv" in line
    line = _error(capsys, main(["plot", str(two), "--kind", "adaptive", "--model", "zz", "-o", out, "-q"]))
    assert "'zz'" in line and "a, b" in line
    line = _error(capsys, main(["plot", str(two), "--kind", "adaptive", "--model", "a", "--bins", "1", "-o", out]))
    assert "--bins" in line
    line = _error(capsys, main(["plot", str(two), str(two), "--kind", "adaptive", "--model", "a", "-o", out]))
    assert "one file" in line
    one = _write(tmp_path / "one.csv", _log(n_problems=10, n=4), with_model=False)
    line = _error(capsys, main(["plot", str(one), "--kind", "adaptive", "--model", "a", "-o", out]))
    assert "no model column" in line


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 12), st.floats(0.0, 1.0)), min_size=4, max_size=30), st.integers(2, 4))
def test_bin_curves_are_coverage_curves(problems, n_bins):
    # any counts: each bin's curve starts at 0, never falls with k, stays in [0, 1], and its k = 1
    # entry is the bin's mean pass rate c/n (pass@1 is the plain success rate)
    n = np.array([m for m, _ in problems])
    c = np.array([int(round(f * m)) for m, f in problems])
    cols = {"problem": np.repeat(np.arange(n.size), n), "sample_index": np.concatenate([np.arange(m) for m in n]),
            "correct": np.concatenate([(np.arange(m) < k).astype(float) for m, k in zip(n, c)])}
    s = sl.evals.aggregate_samples(cols, by=(), difficulty_bins=n_bins)[()]
    curves, w = s.bin_curves()
    assert w.sum() == pytest.approx(1.0, abs=1e-12) and np.all(w > 0)
    for b, curve in enumerate(curves, start=1):
        assert curve[0] == 0.0
        assert np.all(np.diff(curve) >= -1e-12) and np.all((curve >= 0) & (curve <= 1 + 1e-12))
        members = s.bin == b
        assert curve[1] == pytest.approx(np.mean(s.c[members] / s.n[members]), rel=1e-12, abs=1e-15)
