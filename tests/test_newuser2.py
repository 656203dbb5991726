"""What a second new-user pass met, each fixed and pinned here: the --exclude hint offered for core
columns, sizes written in billions read silently, no --by on the command line.

Expected values come from the test's own data or from pandas, never from the package's output."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.cli import main
from scalinglaws.errors import UnitsWarning

from conftest import EPOCH_COLUMNS, shared

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text, name="runs.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---- a: no --exclude hint for a core column ------------------------------------------------------
def test_gap_in_loss_is_not_offered_as_an_exclude(tmp_path):
    """A 'loss' column picked up by its name with a gap: the message used to end 'leave it out
    with exclude=['loss', 'n_layers'] (CLI: --exclude loss ...)', leaving nothing to fit."""
    p = write(tmp_path, "params,tokens,loss,n_layers\n1e8,2e9,3.1,\n2e8,4e9,,12\n4e8,8e9,2.8,24\n")
    with pytest.raises(sl.DataError) as e:
        sl.read_runs(p)
    m = e.value.message
    assert (e.value.source, e.value.column, e.value.row, e.value.rule) == (str(p), "loss", 1,
                                                                           "missing or non-finite value")
    assert np.isnan(e.value.value)
    assert str(p) in m and "column 'loss', row 1 (line 3)" in m and "value nan" in m
    assert "--exclude loss" not in m and "'loss', 'n_layers'" not in m
    assert "fix or remove the bad row(s)" in m
    # the optional gappy column still gets its hint, and the hint alone
    assert "exclude=['n_layers']" in m and "--exclude n_layers" in m


def test_negative_tokens_and_gappy_loss_name_both_core_columns(tmp_path):
    p = write(tmp_path, "params,tokens,loss\n1e8,2e9,3.1\n2e8,-4e9,3.0\n4e8,8e9,\n")
    with pytest.raises(sl.DataError) as e:
        sl.read_runs(p)
    m = e.value.message
    assert (e.value.column, e.value.row, e.value.rule, e.value.value) == ("tokens", 1, "not positive", -4e9)
    assert "row 1 (line 3)" in m and "-4000000000.0" in m
    assert "Other core column(s) 'loss' fail too" in m and "exclude" not in m


def test_gappy_accuracy_keeps_its_exclude_hint(tmp_path):
    """accuracy is read by some laws only: leaving it out is a real option for a loss fit."""
    p = write(tmp_path, "params,tokens,loss,accuracy\n1e8,2e9,3.1,0.3\n2e8,4e9,3.0,\n4e8,8e9,2.8,0.5\n")
    with pytest.raises(sl.DataError) as e:
        sl.read_runs(p)
    assert (e.value.column, e.value.row) == ("accuracy", 1)
    assert "--exclude accuracy" in e.value.message
    assert len(sl.read_runs(p, exclude=["accuracy"])) == 3  # the advice works


def test_cli_core_column_message(tmp_path, capsys):
    p = write(tmp_path, "params,tokens,loss\n1e8,2e9,3.1\n2e8,4e9,-1\n4e8,8e9,2.8\n")
    assert main(["fit", str(p), "-q"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--exclude" not in err
    assert f"{p}: column 'loss', row 1 (line 3): value -1.0 is not positive" in err


# ---- b: sizes written in millions or billions -----------------------------------------------------
def test_params_and_tokens_in_billions_warn(tmp_path):
    p = write(tmp_path, "N (B),D (B),loss\n0.07,2,3.5\n0.4,8,3.0\n1.3,26,2.6\n")
    with pytest.warns(UnitsWarning) as rec:
        runs = sl.read_runs(p, columns={"params": "N (B)", "tokens": "D (B)"})
    msgs = [str(w.message) for w in rec]
    assert len(msgs) == 2
    pm, tm = msgs
    assert pm.startswith(f"{p}: column 'params' (mapped from 'N (B)')") and "row 2 (line 4)" in pm
    assert "the largest, 1.3," in pm and "Rule: params < 1e4" in pm and "1e9" in pm and "'1.3B'" in pm
    assert "column 'tokens' (mapped from 'D (B)')" in tm and "26.0" in tm and "Rule: tokens < 1e6" in tm
    assert runs["params"].tolist() == [0.07, 0.4, 1.3]  # a warning: nothing is rescaled behind the user's back
    # scaled as the warning says: silent
    df = pd.read_csv(p)
    df[["N (B)", "D (B)"]] *= 1e9
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        sl.read_runs(df, columns={"params": "N (B)", "tokens": "D (B)"})


def test_flops_in_units_of_1e21_warn():
    with pytest.warns(UnitsWarning, match=r"<dict>: column 'flops' \(mapped from 'FLOPs \(1E21\)'\).*row 1.*"
                                          r"Rule: flops < 1e10"):
        sl.read_runs({"params": [7e9, 1.3e10], "FLOPs (1E21)": [84.0, 156.0], "loss": [2.1, 2.0]},
                     columns={"flops": "FLOPs (1E21)"})


@pytest.mark.parametrize("largest, warns", [(9_999.0, True), (10_000.0, False)])
def test_params_floor_is_1e4_on_the_largest_value(largest, warns):
    data = {"params": [50.0, largest], "tokens": [1e9, 2e9], "loss": [3.0, 2.9]}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        sl.read_runs(data)
    got = [w for w in rec if issubclass(w.category, UnitsWarning)]
    assert len(got) == int(warns)


def test_no_units_warning_on_bundled_or_synthetic_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        sl.read_runs(ROOT / "data" / "synthetic_chinchilla.csv")
        sl.read_runs(synthetic.demo_sweep())
        sl.read_runs(synthetic.chinchilla_sweep(budgets=(1e15, 1e16), noise=0.0))  # the smallest budgets tried
        sl.read_runs(synthetic.checkpoint_sweep(seeds=1))


def test_no_units_warning_on_epoch():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        sl.read_runs(shared("epoch_chinchilla", "svg_extracted_data.csv"), columns=EPOCH_COLUMNS)


def test_observational_scaling_table_in_billions_warns():
    """Ruan et al.'s table gives 'Model Size (B)' and 'Pretraining Data Size (T)'."""
    path = shared("obsscaling", "base_llm_benchmark_eval.csv")
    df = pd.read_csv(path).dropna(subset=["Pretraining Data Size (T)"])
    with pytest.warns(UnitsWarning) as rec:
        sl.read_runs(df, columns={"params": "Model Size (B)", "tokens": "Pretraining Data Size (T)",
                                  "accuracy": "MMLU", "model": "Model"})
    pm = next(str(w.message) for w in rec if "'params'" in str(w.message))
    sizes = df["Model Size (B)"].to_numpy()
    assert f"the largest, {float(sizes.max())!r}, is in row {int(np.argmax(sizes))})" in pm  # rows count from 0


def test_flops_off_6nd_by_more_than_tenfold_warns(tmp_path):
    """Muennighoff et al.'s datablations table (colpret_selected) holds each run's total FLOPs beside a
    checkpoint's tokens: 6ND and flops differ by up to 2.8e5 there, and nothing said so."""
    p = write(tmp_path, "params,tokens,flops,loss\n1e9,2e10,1.2e20,2.9\n1e9,1e10,1.2e20,3.0\n2e9,4e10,4.8e20,2.7\n")
    with warnings.catch_warnings():  # rows 0 and 2 are exact, row 1 is off by 2x: within the rule
        warnings.simplefilter("error", UnitsWarning)
        sl.read_runs(p)
    p = write(tmp_path, "params,tokens,flops,loss\n1e9,2e10,1.2e20,2.9\n1e9,1e8,1.2e20,3.0\n2e9,4e10,4.8e20,2.7\n")
    with pytest.warns(UnitsWarning) as rec:
        sl.read_runs(p)
    m = str(rec[0].message)
    assert m.startswith(f"{p}: column 'flops' disagrees with 6 * params * tokens")
    assert "in 1 of 3 rows" in m and "row 1 (line 3)" in m and "ratio 200" in m  # 1.2e20 / (6 * 1e9 * 1e8)
    assert "Rule: |log10(flops / 6ND)| <= 1" in m and "--exclude flops" in m
    with warnings.catch_warnings():  # the advice: flops derived from params and tokens instead
        warnings.simplefilter("error", UnitsWarning)
        assert sl.read_runs(p, exclude=["flops"])["flops"][1] == pytest.approx(6e17, rel=1e-15)


def test_datablations_flops_warn():
    path = shared("colpret_selected", "datablations_losses.csv")
    df = pd.read_csv(path)
    with pytest.warns(UnitsWarning, match="disagrees with 6 \\* params \\* tokens"), pytest.raises(sl.DataError):
        sl.read_runs(path, columns={"params": "num_params", "tokens": "token_num", "unique_tokens": "tokens_per_epoch"})
    assert df.loc[0, "num_params"] == "2.8B"  # the file as published: row 0 is off by 2.8e5
    assert df.loc[0, "flops"] / (6 * 2.8e9 * df.loc[0, "token_num"]) == pytest.approx(2.77e5, rel=1e-2)


# ---- c: --by on the command line ------------------------------------------------------------------
TRUE = {"small": dict(synthetic.EPOCH, E=2.1), "large": dict(synthetic.EPOCH, E=1.7)}


@pytest.fixture(scope="module")
def grouped_csv(tmp_path_factory):
    parts = []
    for name, p in TRUE.items():
        t = synthetic.chinchilla_sweep(p, budgets=(1e18, 1e19, 1e20, 1e21), n_per_budget=7, noise=0.0)
        parts.append(pd.DataFrame({"N": t["params"], "D": t["tokens"], "loss": t["loss"], "dataset": name}))
    path = tmp_path_factory.mktemp("by") / "two.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def grouped_fit(grouped_csv):
    out = grouped_csv.parent / "fits.json"
    rc = main(["fit", str(grouped_csv), "-c", "params=N", "-c", "tokens=D", "--by", "dataset",
               "--objective", "least_squares", "--space", "log", "-o", str(out), "-q"])
    return rc, out


def test_cli_fit_by_recovers_each_group(grouped_fit):
    rc, out = grouped_fit
    assert rc == 0
    d = json.loads(out.read_text())
    assert d["by"] == "group" and d["read_runs"]["columns"]["group"] == "dataset"
    assert set(d["groups"]) == set(TRUE)
    for name, p in TRUE.items():  # noiseless sweeps: each group's own law, to 1e-4 relative
        got = d["groups"][name]["params"]
        for k, v in p.items():
            assert got[k] == pytest.approx(v, rel=1e-4), (name, k)


def test_cli_optimize_picks_a_group(grouped_fit, capsys):
    _, out = grouped_fit
    capsys.readouterr()
    assert main(["optimize", str(out), "--flops", "1e21", "--json"]) == 2
    err = capsys.readouterr().err
    assert f"{out}: holds one fit per group" in err and "'small', 'large'" in err and "--group small" in err
    assert main(["optimize", str(out), "--flops", "1e21", "--group", "large", "--json", "-q"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    # Chinchilla's closed form with the true parameters of 'large': N* = G (C/6)^(beta/(alpha+beta))
    p = TRUE["large"]
    a, b = p["alpha"], p["beta"]
    G = (a * p["A"] / (b * p["B"])) ** (1 / (a + b))
    assert row["params"] == pytest.approx(G * (1e21 / 6) ** (b / (a + b)), rel=1e-3)
    assert main(["optimize", str(out), "--flops", "1e21", "--group", "medium"]) == 2
    assert "has no group 'medium'" in capsys.readouterr().err


def test_load_fit_group_on_a_single_fit_file(grouped_fit, tmp_path):
    _, out = grouped_fit
    one = tmp_path / "one.json"  # one group's entry is a plain fit file
    one.write_text(json.dumps(json.loads(out.read_text())["groups"]["small"]))
    assert sl.load_fit(one).params["E"] == pytest.approx(TRUE["small"]["E"], rel=1e-4)
    assert sl.load_fit(out, group="small").params["E"] == pytest.approx(TRUE["small"]["E"], rel=1e-4)
    with pytest.raises(sl.LawError) as e:
        sl.load_fit(one, group="rpj")
    assert e.value.rule == "not a group fits file" and e.value.value == "rpj" and str(one) in e.value.message


@pytest.mark.parametrize("argv, says", [
    (["--shared", "alpha"], "--shared needs --by COLUMN"),
    (["--by", "dataset", "--bootstrap", "10"], "--bootstrap needs one fit, not --by dataset"),
    (["--by", "dataset", "--curvature", "--backtest"], "--curvature and --backtest need one fit"),
    (["--by", "datset"], "column 'datset' (given for 'group') is not in the data"),
    (["--by", "dataset", "-c", "group=N"], "--by 'dataset' reads that column as 'group'"),
])
def test_cli_by_mistakes(grouped_csv, capsys, argv, says):
    assert main(["fit", str(grouped_csv), "-c", "params=N", "-c", "tokens=D", *argv, "-q"]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
