"""What a new user met on real third-party files and hand-made bad files, each fixed and pinned here.

Every expected value is computed independently of the package (pandas, the csv text, Python ints),
never from the package's own output."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import scalinglaws as sl
from scalinglaws.cli import main
from scalinglaws.runs import CANONICAL_COLUMNS

from conftest import shared

GADRE = ("gadre_overtrain", "gadre2024_overtrain_runs.csv")
GADRE_COLUMNS = {"params": "params_N", "tokens": "tokens_D", "loss": "loss_c4_val"}


def test_every_gappy_canonical_column_is_named_at_once():
    """Gadre et al.'s table has gaps in four columns read only for their names; the error named one
    at a time, so a user had to rerun four times to learn the full --exclude list."""
    path = shared(*GADRE)
    df = pd.read_csv(path)
    gappy = [c for c in df.columns if c in CANONICAL_COLUMNS and c not in GADRE_COLUMNS.values()
             and df[c].isna().any()]
    assert sorted(gappy) == ["n_heads", "n_layers", "seq_len", "vocab_size"]  # the file as published
    with pytest.raises(sl.DataError) as e:
        sl.read_runs(path, columns=GADRE_COLUMNS)
    for c in gappy:
        assert f"--exclude {c}" in e.value.message
    assert e.value.column == "n_layers" and e.value.rule == "missing or non-finite value"
    assert e.value.row == int(np.flatnonzero(df["n_layers"].isna())[0])
    # the advice works as given (the three datasets told apart by group, see the duplicate test)
    runs = sl.read_runs(path, columns={**GADRE_COLUMNS, "group": "dataset"}, exclude=gappy)
    assert len(runs) == len(df)


def test_same_run_in_several_datasets_points_to_group():
    """Gadre's three datasets hold the same 35 configurations; the conflicting-duplicate error said
    to add seed or sample_index, not the group column that a user has here."""
    path = shared(*GADRE)
    df = pd.read_csv(path)
    first = df[(df["params_N"] == df.loc[0, "params_N"]) & (df["tokens_D"] == df.loc[0, "tokens_D"])]
    assert first["dataset"].nunique() > 1
    with pytest.raises(sl.DataError, match="group for several datasets") as e:
        sl.read_runs(path, columns=GADRE_COLUMNS, exclude=["n_layers", "n_heads", "seq_len", "vocab_size"])
    assert e.value.rule == "duplicated run with conflicting values" and e.value.column == "loss"
    assert e.value.row == first.index[1]


def test_cli_prints_the_whole_exclude_list(capsys):
    path = shared(*GADRE)
    assert main(["fit", str(path), *sum((["--column", f"{k}={v}"] for k, v in GADRE_COLUMNS.items()), []),
                 "-q"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert all(f"--exclude {c}" in err for c in ("n_layers", "n_heads", "seq_len", "vocab_size"))


def test_header_with_a_space_after_the_comma_is_mapped():
    """The Large Language Monkeys files have the header 'x, y': the second column is ' y'. The shell
    strips --column accuracy=" y" to 'y', and 'y' was refused ('did you mean ' y'?'), so the CLI
    could not read the file at all."""
    path = shared("llmonkeys_digitized", "gemma2B.csv")
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split(",")
    assert header == ["x", " y"]
    raw = pd.read_csv(path)
    runs = sl.read_runs(path, columns={"samples": "x", "accuracy": "y"})
    # rtol 1e-15: the same decimal text parsed twice (both correctly rounded), so equal to a few ulp
    np.testing.assert_allclose(runs["accuracy"], raw[" y"].to_numpy(), rtol=1e-15)
    np.testing.assert_allclose(runs["samples"], raw["x"].to_numpy(), rtol=1e-15)
    assert runs.origin["accuracy"] == " y"


def test_canonical_header_with_spaces_is_picked_up(tmp_path):
    p = tmp_path / "spaced.csv"
    p.write_text("params, tokens, loss\n1e8, 2e9, 3.1\n2e8, 4e9, 2.9\n")
    runs = sl.read_runs(p)
    assert set(runs.names) >= {"params", "tokens", "loss"}
    np.testing.assert_allclose(runs["loss"], [3.1, 2.9], rtol=1e-15)  # parsed text; see above


@pytest.mark.parametrize("header, columns, dup", [
    ("params,tokens,loss,loss", None, "loss"),             # the second loss was silently ignored
    ("N,N,tokens,loss", {"params": "N"}, "N"),             # which N was read was pandas' guess
])
def test_repeated_csv_header_is_refused(tmp_path, header, columns, dup):
    p = tmp_path / "dup.csv"
    p.write_text(header + "\n1e8,2e9,3.1,3.3\n2e8,4e9,3.0,3.2\n")
    with pytest.raises(sl.DataError, match=f"column name '{dup}' appears 2 times") as e:
        sl.read_runs(p, columns=columns)
    assert e.value.rule == "duplicate column name" and e.value.column == dup and e.value.source == str(p)


def test_repeated_header_that_is_not_read_is_harmless(tmp_path):
    p = tmp_path / "dup_unused.csv"
    p.write_text("params,tokens,loss,note,note\n1e8,2e9,3.1,a,b\n2e8,4e9,3.0,c,d\n")
    assert len(sl.read_runs(p)) == 2


def test_integer_beyond_float64_is_a_data_error(tmp_path, capsys):
    """JSON keeps integers exact, so 10**400 reached pandas and came out as a bare OverflowError
    (a traceback from the CLI)."""
    p = tmp_path / "big.json"
    p.write_text(json.dumps({"params": [10**8, 2 * 10**8], "flops": [6 * 10**30, 10**400], "loss": [3.0, 2.0]}))
    with pytest.raises(sl.DataError, match=r"column 'flops', row 1: value '1\.000e\+400' is beyond float64") as e:
        sl.read_runs(p)
    assert e.value.rule == "number out of float64 range" and e.value.row == 1
    assert main(["fit", str(p), "-q"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_huge_integer_flops_are_float64_not_int64(tmp_path):
    """FLOPs written as integers beyond int64 (6e26 > 9.2e18) come in as float64, correctly rounded."""
    flops = [6 * 10**26, 12 * 10**26, 10**31 + 7]
    p = tmp_path / "bigint.csv"
    p.write_text("N,C,loss\n" + "".join(f"{n},{c},{l}\n" for n, c, l in zip([10**8, 2 * 10**8, 3 * 10**8], flops,
                                                                             [3.1, 3.0, 2.9])))
    runs = sl.read_runs(p, columns={"params": "N", "flops": "C"})
    assert runs["flops"].dtype == np.float64
    # rtol 1e-15: each value is one correctly rounded conversion of an exact integer
    np.testing.assert_allclose(runs["flops"], [float(c) for c in flops], rtol=1e-15)
    np.testing.assert_allclose(runs["tokens"], [c / (6.0 * n) for c, n in zip(map(float, flops), [1e8, 2e8, 3e8])],
                               rtol=1e-15)


@pytest.fixture(scope="module")
def gadre_grouped():
    path = shared(*GADRE)
    runs = sl.read_runs(path, columns={**GADRE_COLUMNS, "group": "dataset"},
                        exclude=["n_layers", "n_heads", "seq_len", "vocab_size"])
    return pd.read_csv(path), sl.fit(sl.laws.Chinchilla(), runs)


def test_pooled_fit_over_groups_says_so(gadre_grouped):
    """Mapping Gadre's 'dataset' to group and fitting without by= pooled three datasets into one
    law with nothing in the report to say so."""
    df, fit = gadre_grouped
    k = df["dataset"].nunique()
    assert k == 3
    notes = [n for n in fit.notes if "column 'group'" in n]
    assert len(notes) == 1 and f"{k} groups" in notes[0] and "by='group'" in notes[0]
    assert "pooled" in fit.report()


def test_checkpoint_rows_fitted_as_runs_say_so():
    """Gemstones logs 10 checkpoints per run; with --column run=run_name a plain fit weighted every
    checkpoint as an independent run, silently."""
    path = shared("gemstones", "wandb_df_for_fitting_hot.jsonl")
    df = pd.read_json(path, lines=True)
    runs = sl.read_runs(path, columns={"params": "params_active_precise", "loss": "final_loss", "run": "run_name"})
    fit = sl.fit(sl.laws.Chinchilla(), runs)
    counts = df["run_name"].value_counts()
    notes = [n for n in fit.notes if "column 'run'" in n]
    assert len(notes) == 1
    assert f"{int((counts > 1).sum())} of {counts.size} runs" in notes[0]
    assert f"up to {int(counts.max())}" in notes[0] and "fit_checkpoints" in notes[0]


def test_approach2_over_pooled_groups_warns():
    """approach2 on Gadre's three datasets binned all of them into one set of isoFLOP profiles;
    nothing said that the profiles mix datasets (which also leaves groups of one N each)."""
    path = shared(*GADRE)
    runs = sl.read_runs(path, columns={**GADRE_COLUMNS, "group": "dataset"},
                        exclude=["n_layers", "n_heads", "seq_len", "vocab_size"])
    with pytest.warns(UserWarning, match=r"3 groups in column 'group'"):
        a2 = sl.approach2(runs)
    assert any("one isoFLOP profile mixes them" in w for w in a2.warnings)
    one = runs.select(runs["group"] == "rpj")
    assert not any("column 'group'" in w for w in sl.approach2(one).warnings)
