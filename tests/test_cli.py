"""The `scalinglaws` command, run in-process through main([...]) (plus one real subprocess).

Every fit here has the shape of the default sweep (81 runs, Chinchilla, Huber), so JAX compiles
the solver once for the whole file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scalinglaws
from scalinglaws import synthetic
from scalinglaws.cli import main

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _write_csv(path: Path, table: dict, names: dict) -> Path:
    cols = list(names)
    lines = [",".join(f'"{names[c]}"' for c in cols)]
    n = len(next(iter(table.values())))
    lines += [",".join(repr(float(table[c][i])) for c in cols) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


USER_NAMES = {"params": "Model Size", "tokens": "Training Tokens", "loss": "Final Loss"}
MAPPING = ["--column", 'params="Model Size"', "--column", "tokens=Training Tokens",
           "--column", "loss=Final Loss"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A user's CSV (own column names, no flops column) and the fit of it saved by the CLI."""
    d = tmp_path_factory.mktemp("cli")
    csv_path = _write_csv(d / "runs.csv", synthetic.chinchilla_sweep(seed=3), USER_NAMES)
    return {"dir": d, "csv": csv_path, "fit": d / "fit.json"}


@pytest.fixture(scope="module")
def fitted(work):
    """Run `scalinglaws fit ... -o fit.json --json` once; return its parsed stdout."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(["fit", str(work["csv"]), "--law", "chinchilla", *MAPPING, "-o", str(work["fit"]), "--json"])
    assert rc == 0, err.getvalue()
    assert "fitting 4,5" in err.getvalue()  # progress on stderr, e.g. "fitting 4,564 starts"
    return json.loads(out.getvalue())


def _err_ok(capsys, rc):
    cap = capsys.readouterr()
    assert rc == 2, (rc, cap.out, cap.err)
    last = cap.err.strip().splitlines()[-1]
    assert last.startswith("error: "), cap.err
    assert "Traceback" not in cap.err and "Traceback" not in cap.out
    return last


# --------------------------------------------------------------------------- help and listing
def test_help_in_a_real_subprocess():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    exe = shutil.which("scalinglaws")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "scalinglaws.cli", "--help"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    for verb in ("fit", "optimize", "plot", "demo", "laws"):
        assert verb in res.stdout


@pytest.mark.parametrize("verb", ["fit", "optimize", "plot", "demo", "laws"])
def test_each_verb_has_help_with_examples(verb, capsys):
    assert main([verb, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: scalinglaws {verb}")
    assert "examples:" in out and f"scalinglaws {verb}" in out.split("examples:")[1]


def test_laws_text_and_json(capsys):
    assert main(["laws"]) == 0
    assert "chinchilla" in capsys.readouterr().out
    assert main(["laws", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == set(scalinglaws.laws.REGISTRY)
    ch = by_name["chinchilla"]
    assert ch["params"] == ["E", "A", "B", "alpha", "beta"]
    assert ch["inputs"] == ["params", "tokens"] and ch["target"] == "loss"
    assert ch["description"].startswith("Chinchilla")


# --------------------------------------------------------------------------- fit -> optimize
def test_fit_json_and_saved_file(work, fitted):
    assert fitted["law"]["name"] == "chinchilla"
    p = fitted["params"]
    assert set(p) == {"E", "A", "B", "alpha", "beta"}
    assert abs(p["alpha"] - synthetic.EPOCH["alpha"]) < 0.05 and abs(p["beta"] - synthetic.EPOCH["beta"]) < 0.05
    assert any("flops derived" in n for n in fitted["notes"])  # the CSV had no flops column
    saved = json.loads(work["fit"].read_text())
    # exact: the same fitted floats, printed with repr and read back (JSON round-trips them)
    assert saved["params"] == p
    assert scalinglaws.load_fit(work["fit"]).params == p


def test_fit_text_report_and_drop_highest(work, fitted, capsys, tmp_path):
    # five absurd runs appended, then dropped again: the fit is the one of the clean file
    t = synthetic.chinchilla_sweep(seed=3)
    bad = {k: np.concatenate([v, v[:5] * 1.01]) for k, v in t.items()}
    bad["loss"][-5:] = 50.0
    path = _write_csv(tmp_path / "outliers.csv", bad, USER_NAMES)
    assert main(["fit", str(path), *MAPPING, "--drop-highest-loss", "5"]) == 0
    cap = capsys.readouterr()
    assert "[[Parameters]]" in cap.out and "dropped the 5 row(s)" in cap.out
    alpha = float(next(ln for ln in cap.out.splitlines() if ln.strip().startswith("alpha")).split("=")[1])
    assert alpha == pytest.approx(fitted["params"]["alpha"], abs=1e-6)


def test_fit_backtest_prints_the_table(work, capsys):
    assert main(["fit", str(work["csv"]), *MAPPING, "--backtest", "-q"]) == 0
    out = capsys.readouterr().out
    assert "[[Backtest]] law=chinchilla  holdout=compute" in out
    assert "log10(C/Cmax)" in out and "coverage of 90% intervals=" in out
    # the default sweep has 9 budgets of 9 runs: the 80% quantile holds out the two largest budgets
    assert "held-out runs=18" in out


def test_optimize_roundtrip(work, fitted, capsys):
    assert main(["optimize", str(work["fit"]), "--flops", "5.76e23", "--flops", "1e24", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["flops"] for r in rows] == [5.76e23, 1e24]
    # the closed form from the printed parameters
    p = fitted["params"]
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    for r in rows:
        n_star = G * (r["flops"] / 6) ** (p["beta"] / (p["alpha"] + p["beta"]))
        assert r["params"] == pytest.approx(n_star, rel=1e-9)
        assert r["params"] * r["tokens"] * 6 == pytest.approx(r["flops"], rel=1e-12)
        assert r["tokens_per_param"] == pytest.approx(r["tokens"] / r["params"], rel=1e-12)
    # several budgets after one flag, text table
    assert main(["optimize", str(work["fit"]), "--flops", "1e21", "1e22"]) == 0
    out = capsys.readouterr().out
    assert "N* (params)" in out and "1e+21" in out and "1e+22" in out


def test_optimize_with_inference_demand(work, fitted, capsys):
    """--queries/--tokens-per-query: each budget pays for training and serving."""
    args = ["optimize", str(work["fit"]), "--flops", "1e24", "--queries", "1e9", "--tokens-per-query", "2000"]
    assert main([*args, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["inference_tokens"] == pytest.approx(2e12, rel=1e-12)
    assert 6 * row["params"] * row["tokens"] + 2 * row["params"] * 2e12 == pytest.approx(1e24, rel=1e-9)
    assert main(["optimize", str(work["fit"]), "--flops", "1e24", "--json"]) == 0
    (plain,) = json.loads(capsys.readouterr().out)
    assert row["params"] < plain["params"]  # serving pushes towards a smaller model
    assert main(args) == 0
    assert "inference" in capsys.readouterr().out
    rc = main(["optimize", str(work["fit"]), "--flops", "1e24", "--queries", "1e9"])
    _err_ok(capsys, rc)


def test_plot_verb_writes_each_kind(work, fitted, tmp_path):
    for kind in ("fit", "isoflop", "frontier"):
        out = tmp_path / f"{kind}.png"
        args = ["plot", str(work["fit"]), str(work["csv"]), *MAPPING, "--kind", kind, "-o", str(out), "-q"]
        assert main(args) == 0
        assert out.read_bytes()[:8] == PNG_MAGIC
    out = tmp_path / "frontier2.png"
    assert main(["plot", str(work["fit"]), "--kind", "frontier", "--flops-range", "1e19", "1e26", "-o", str(out)]) == 0
    assert out.is_file()


# --------------------------------------------------------------------------- bad input -> exit 2
def _negative_loss_csv(d: Path) -> Path:
    t = synthetic.chinchilla_sweep(budgets=(1e20,), n_per_budget=9, seed=0)
    t["loss"][4] = -1.5
    return _write_csv(d / "negative.csv", t, {"params": "params", "tokens": "tokens", "loss": "loss"})


@pytest.mark.parametrize("case", [
    "missing file", "missing column", "negative loss", "unknown law", "law needs a column",
    "bad column option", "delta with least squares", "drop everything", "unknown verb",
    "bad flops", "zero flops", "missing fit file", "not a fit file", "plot needs runs", "plot file type",
])
def test_bad_input_exits_2_without_traceback(case, work, fitted, capsys, tmp_path):
    csv_path, fit_path = str(work["csv"]), str(work["fit"])
    argv, expect = {
        "missing file": (["fit", str(tmp_path / "nope.csv")], "nope.csv"),
        "missing column": (["fit", csv_path, "--column", "params=Parameters"], "Parameters"),
        "negative loss": (["fit", str(_negative_loss_csv(tmp_path))], "loss"),
        "unknown law": (["fit", csv_path, *MAPPING, "--law", "chinchila"], "chinchila"),
        "law needs a column": (["fit", csv_path, "--column", "params=Model Size", "--column", "loss=Final Loss"],
                               "tokens"),
        "bad column option": (["fit", csv_path, "--column", "params"], "--column"),
        "delta with least squares": (["fit", csv_path, *MAPPING, "--objective", "least_squares", "--delta", "0.1"],
                                     "--delta"),
        "drop everything": (["fit", csv_path, *MAPPING, "--drop-highest-loss", "81"], "drop"),
        "unknown verb": (["fitt", csv_path], "fitt"),
        "bad flops": (["optimize", fit_path, "--flops", "lots"], "lots"),
        "zero flops": (["optimize", fit_path, "--flops", "0"], "--flops"),
        "missing fit file": (["optimize", str(tmp_path / "nofit.json"), "--flops", "1e21"], "nofit.json"),
        "not a fit file": (["optimize", csv_path, "--flops", "1e21"], "not a fit file"),
        "plot needs runs": (["plot", fit_path, "--kind", "isoflop", "-o", str(tmp_path / "x.png")], "RUNS_FILE"),
        "plot file type": (["plot", fit_path, "--kind", "frontier", "-o", str(tmp_path / "x.nope")], ".nope"),
    }[case]
    line = _err_ok(capsys, main([*argv, "-q"] if argv[0] != "fitt" else argv))
    assert expect in line


# --------------------------------------------------------------------------- demo
def test_demo_writes_plot_and_prints_allocation(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    cap = capsys.readouterr()
    assert (tmp_path / "demo" / "demo.png").read_bytes()[:8] == PNG_MAGIC
    assert "fitting 4,5" in cap.err and "starts" in cap.err
    assert "[[Parameters]]" in cap.out and "fitted vs true parameters" in cap.out
    table = cap.out.split("compute-optimal allocation")[1]
    assert "N* (params)" in table
    for c in ("1e+20", "1e+21", "1e+22", "1e+23", "1e+24", "1e+25"):
        assert c in table


def test_demo_json_and_in_memory_fallback(tmp_path, capsys, monkeypatch):
    assert main(["demo", "--out", str(tmp_path / "a"), "--json", "-q"]) == 0
    from_csv = json.loads(capsys.readouterr().out)
    # exact: constants and the requested budgets passed through JSON (repr round-trips), no arithmetic
    assert from_csv["true_params"] == synthetic.EPOCH
    assert [r["flops"] for r in from_csv["allocation"]] == [1e20, 1e21, 1e22, 1e23, 1e24, 1e25]
    assert Path(from_csv["plot"]).is_file()
    assert abs(from_csv["comparison"]["alpha"]["relative_error"]) < 0.06

    # as if installed without data/: the same table is regenerated in memory, same fit
    monkeypatch.setattr(scalinglaws, "__file__", str(tmp_path / "site" / "scalinglaws" / "__init__.py"))
    assert main(["demo", "--out", str(tmp_path / "b"), "--json"]) == 0
    cap = capsys.readouterr()
    assert "regenerating the same table in memory" in cap.err
    in_memory = json.loads(cap.out)
    csv_path = ROOT / "data" / "synthetic_chinchilla.csv"
    if csv_path.is_file():
        # The CSV was written on another machine; the in-memory table is recomputed here with
        # pow/exp/log, which are not bit-identical across CPUs, so the two tables agree to a few
        # ulps (checked in test_synthetic.py::test_bundled_csv_is_the_demo_sweep_exactly), not
        # bit for bit. Only when they are bit-identical must the fits be identical (the very same
        # computation in one process), data hash included.
        table = synthetic.demo_sweep()
        read = scalinglaws.read_runs(csv_path)
        same_bits = all(np.array_equal(read[c], table[c]) for c in ("params", "tokens", "flops", "loss"))
        if same_bits:
            assert in_memory["fit"]["params"] == from_csv["fit"]["params"]
            assert in_memory["fit"]["data_hash"] == from_csv["fit"]["data_hash"]
        # Either way the fits agree to what a few-ulp change of the data can move them. The fit is
        # ill-conditioned along the (B, beta) valley: perturbing every loss by up to +-2 ulps moved
        # the parameters by up to 3e-8 relative (B; alpha, E ~2e-9) and the objective by 1e-14
        # relative (measured, 6 trials). With up to 16 ulps of difference: params to 1e-6, the
        # minimised objective to 1e-12.
        for k, v in from_csv["fit"]["params"].items():
            assert in_memory["fit"]["params"][k] == pytest.approx(v, rel=1e-6), k
        assert in_memory["fit"]["objective_value"] == pytest.approx(from_csv["fit"]["objective_value"], rel=1e-12)


def test_optimize_with_link_chooses_samples(work, fitted, tmp_path, capsys):
    """--link: N, D and samples per query chosen together; the budget identity holds."""
    L = np.linspace(1.8, 3.0, 25)
    evals = tmp_path / "evals.csv"
    evals.write_text("loss,accuracy\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in
                                                   zip(L, 0.05 + 0.8 / (1 + np.exp(8 * (L - 2.2))))) + "\n")
    link = tmp_path / "link.json"
    assert main(["fit", str(evals), "--law", "sigmoid_link", "--objective", "least_squares", "-o", str(link), "-q"]) == 0
    capsys.readouterr()
    args = ["optimize", str(work["fit"]), "--flops", "1e24", "--queries", "1e9", "--tokens-per-query", "1000",
            "--link", str(link), "--samples", "1", "4", "16", "--json"]
    assert main(args) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["samples"] in (1.0, 4.0, 16.0)
    assert row["train_flops"] + row["inference_flops"] == pytest.approx(1e24, rel=1e-9)
    assert row["inference_flops"] == pytest.approx(1e9 * 2 * row["params"] * row["samples"] * 1000, rel=1e-9)
    assert 0 < row["accuracy"] <= 1
    _err_ok(capsys, main(["optimize", str(work["fit"]), "--flops", "1e24", "--link", str(link)]))
