"""Tests for scalinglaws.runs: reading, validation messages, derivation, duplicates, Runs API."""

from __future__ import annotations

import hashlib
import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglaws.errors import ColumnNotFoundError, DataError, LawError
from scalinglaws.runs import CANONICAL_COLUMNS, Runs, read_runs

from conftest import require

EPOCH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "epoch_chinchilla" / (
    "svg_extracted_data.csv")
EPOCH_COLUMNS = {"params": "Model Size", "flops": "Training FLOP", "loss": "loss"}


def write_csv(tmp_path: Path, text: str, name: str = "runs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def table(rows: list[str], header: str = "N,D,Final Loss") -> str:
    return "\n".join([header, *rows]) + "\n"


def good_rows(n: int) -> list[str]:
    return [f"{1e8 * (i + 1)},{2e9 * (i + 1)},{3.0 - 0.01 * i}" for i in range(n)]


MAP = {"params": "N", "tokens": "D", "loss": "Final Loss"}


def assert_located(err: DataError, *parts: str) -> None:
    message = str(err)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# --------------------------------------------------------------------------- Epoch's file
@pytest.fixture(scope="module")
def epoch() -> Runs:
    return read_runs(require(EPOCH), columns=EPOCH_COLUMNS)  # skip, or fail under CI=true


def test_epoch_file_reads_and_derives_tokens(epoch: Runs) -> None:
    assert len(epoch) == 245
    assert epoch.names == ("params", "tokens", "flops", "loss")
    for name in epoch.names:
        assert epoch[name].dtype == np.float64
        assert not epoch[name].flags.writeable
    expected = epoch["flops"] / (6 * epoch["params"])
    np.testing.assert_allclose(epoch["tokens"], expected, rtol=1e-15, atol=0)
    assert "tokens derived as flops / (6 * params) (C = 6ND)" in epoch.notes
    assert epoch.origin["params"] == "Model Size" and epoch.origin["flops"] == "Training FLOP"
    assert "tokens" not in epoch.origin  # derived, not a user column
    raw = pd.read_csv(EPOCH)
    np.testing.assert_array_equal(epoch["params"], raw["Model Size"].to_numpy())
    np.testing.assert_array_equal(epoch["loss"], raw["loss"].to_numpy())


def test_epoch_drop_highest_loss_follows_epoch(epoch: Runs) -> None:
    kept = epoch.drop_highest("loss", 5)
    assert len(kept) == 240
    losses = epoch["loss"]
    cut = sorted(losses)[-5]
    np.testing.assert_array_equal(kept["loss"], losses[losses < cut])
    np.testing.assert_array_equal(kept.row_ids, np.flatnonzero(losses < cut))
    assert len(kept.notes) == len(epoch.notes) + 1
    assert "dropped the 5 row(s) with the highest loss" in kept.notes[-1]
    assert kept.notes[: len(epoch.notes)] == epoch.notes
    assert epoch.drop_highest("loss", 0) is epoch
    with pytest.raises(ValueError):
        epoch.drop_highest("loss", 246)


# --------------------------------------------------------------------------- bad input, a rule each
def test_non_positive_value_names_file_column_row_line_value(tmp_path: Path) -> None:
    rows = good_rows(20)
    rows[17] = "1e9,2e10,-3.2"
    path = write_csv(tmp_path, table(rows))
    with pytest.raises(DataError) as info:
        read_runs(path, columns=MAP)
    err = info.value
    assert_located(err, "runs.csv", "column 'loss'", "mapped from 'Final Loss'", "row 17",
                   "line 19", "-3.2", "not positive", "> 0")
    assert (err.column, err.row, err.rule, err.value) == ("loss", 17, "not positive", -3.2)
    assert err.source == str(path)


@pytest.mark.parametrize("cell, shown", [("", "nan"), ("inf", "inf"), ("nan", "nan")])
def test_missing_or_non_finite_value(tmp_path: Path, cell: str, shown: str) -> None:
    rows = good_rows(5)
    rows[3] = f"4e8,{cell},2.9"
    path = write_csv(tmp_path, table(rows))
    with pytest.raises(DataError) as info:
        read_runs(path, columns=MAP)
    err = info.value
    assert_located(err, "runs.csv", "column 'tokens'", "mapped from 'D'", "row 3", "line 5",
                   shown, "missing or not finite")
    assert (err.column, err.row, err.rule) == ("tokens", 3, "missing or non-finite value")


def test_unparseable_number(tmp_path: Path) -> None:
    rows = good_rows(6)
    rows[4] = "about 5e8,1e10,2.8"
    path = write_csv(tmp_path, table(rows))
    with pytest.raises(DataError) as info:
        read_runs(path, columns=MAP)
    err = info.value
    assert_located(err, "runs.csv", "column 'params'", "mapped from 'N'", "row 4", "line 6",
                   "'about 5e8'", "not a number")
    assert (err.rule, err.row, err.value) == ("unparseable number", 4, "about 5e8")


def test_first_offending_row_is_reported(tmp_path: Path) -> None:
    rows = good_rows(10)
    rows[6], rows[2] = "1e9,2e10,-1", "1e9,2e10,0"
    with pytest.raises(DataError) as info:
        read_runs(write_csv(tmp_path, table(rows)), columns=MAP)
    assert info.value.row == 2 and "line 4" in str(info.value) and "value 0.0" in str(info.value)


def test_missing_mapped_column_lists_file_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path, table(good_rows(3)))
    with pytest.raises(DataError) as info:
        read_runs(path, columns={**MAP, "loss": "final loss "})
    err = info.value
    assert_located(err, "runs.csv", "'final loss '", "'loss'", "'N', 'D', 'Final Loss'",
                   "did you mean 'Final Loss'")
    assert (err.rule, err.column, err.value) == ("missing column", "loss", "final loss ")


def test_unknown_canonical_key_lists_canonical_names(tmp_path: Path) -> None:
    path = write_csv(tmp_path, table(good_rows(3)))
    with pytest.raises(DataError) as info:
        read_runs(path, columns={"parameters": "N", "loss": "Final Loss"})
    err = info.value
    assert err.rule == "unknown canonical column" and err.value == "parameters"
    assert_located(err, "runs.csv", "'parameters'", ", ".join(CANONICAL_COLUMNS))
    with pytest.raises(DataError, match=r"did you mean \{'params': 'N'\}"):  # reversed mapping
        read_runs(path, columns={"N": "params"})


def test_accuracy_outside_unit_interval(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "samples,acc\n1,0.2\n10,0.5\n100,42\n")
    with pytest.raises(DataError) as info:
        read_runs(path, columns={"accuracy": "acc"})
    err = info.value
    assert_located(err, "runs.csv", "column 'accuracy'", "mapped from 'acc'", "row 2", "line 4",
                   "42.0", "[0, 1]")
    assert (err.rule, err.row, err.value) == ("accuracy outside [0, 1]", 2, 42.0)


def test_correct_must_be_binary(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "problem,sample_index,correct\np1,0,1\np1,1,0\np1,2,2\n")
    with pytest.raises(DataError) as info:
        read_runs(path)
    assert_located(info.value, "runs.csv", "column 'correct'", "row 2", "line 4", "2.0", "0 or 1")
    assert info.value.rule == "correct not 0/1"


def test_negative_weight(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "params,loss,weight\n1e8,3.0,1\n2e8,2.9,-0.5\n")
    with pytest.raises(DataError) as info:
        read_runs(path)
    assert_located(info.value, "runs.csv", "column 'weight'", "row 1", "line 3", "-0.5", ">= 0")
    assert info.value.rule == "negative weight"


def test_missing_label_in_text_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "params,loss,group\n1e8,3.0,a\n2e8,2.9,\n")
    with pytest.raises(DataError) as info:
        read_runs(path)
    assert_located(info.value, "runs.csv", "column 'group'", "row 1", "line 3", "missing")


def test_no_rows(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no rows") as info:
        read_runs(write_csv(tmp_path, "N,D,Final Loss\n"), columns=MAP)
    assert info.value.rule == "no rows" and "runs.csv" in str(info.value)
    with pytest.raises(DataError) as info:
        read_runs(write_csv(tmp_path, "", name="empty.csv"))
    assert info.value.rule == "no rows" and "empty.csv" in str(info.value)


def test_nothing_usable_says_what_is_needed(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "x,y,Params\n1,2,3\n")
    with pytest.raises(DataError) as info:
        read_runs(path)
    err = info.value
    assert err.rule == "no usable columns"
    assert_located(err, "runs.csv", "params, tokens, flops", "loss, accuracy, correct",
                   "'x', 'y', 'Params'", "{'params': 'Params'}")


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file") as info:
        read_runs(tmp_path / "nope.csv")
    assert info.value.rule == "file not found"
    with pytest.raises(DataError, match="unsupported file type '.xlsx'"):
        read_runs(write_csv(tmp_path, "x", name="runs.xlsx"))
    with pytest.raises(DataError, match="cannot read") as info:
        read_runs(write_csv(tmp_path, "params,loss\n1,2\n3,4,5,6\n", name="bad.csv"))
    assert info.value.rule == "unreadable file"


def test_conflicting_duplicates_error_names_both_rows(tmp_path: Path) -> None:
    rows = good_rows(8)
    rows[6] = rows[2].rsplit(",", 1)[0] + ",2.5"
    path = write_csv(tmp_path, table(rows))
    with pytest.raises(DataError) as info:
        read_runs(path, columns=MAP)
    err = info.value
    assert err.rule == "duplicated run with conflicting values"
    assert_located(err, "runs.csv", "row 2 (line 4)", "row 6 (line 8)", "column 'loss'",
                   "mapped from 'Final Loss'", "2.98", "2.5", "params=300000000.0")
    assert (err.row, err.column, err.value) == (6, "loss", 2.5)


def test_exact_duplicates_warn_and_are_kept(tmp_path: Path) -> None:
    rows = good_rows(5)
    rows.append(rows[1])
    path = write_csv(tmp_path, table(rows))
    with pytest.warns(UserWarning, match=r"row 5 \(line 7\) repeats row 1 \(line 3\)") as rec:
        runs = read_runs(path, columns=MAP)
    assert "runs.csv" in str(rec[0].message)
    assert len(runs) == 6


def test_a_distinguishing_column_is_not_a_duplicate() -> None:
    data = {"params": [1e8, 1e8], "tokens": [1e9, 1e9], "seed": [0, 1], "loss": [3.0, 3.1]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_runs(data)) == 2


def test_duplicate_check_scales() -> None:
    n = 300_000
    rng = np.random.default_rng(0)
    params = rng.uniform(1e6, 1e10, n)
    loss = rng.uniform(2, 4, n)
    params[-1], loss[-1] = params[123], loss[123] + 0.5
    with pytest.raises(DataError) as info:
        read_runs({"params": params, "loss": loss})
    assert info.value.row == n - 1 and "row 123 and row 299999" in str(info.value)


def test_dataframe_messages_have_rows_but_no_lines() -> None:
    df = pd.DataFrame({"Model Size": [1e8, 0.0], "loss": [3.0, 2.9]})
    with pytest.raises(DataError) as info:
        read_runs(df, columns={"params": "Model Size"})
    assert_located(info.value, "<DataFrame>", "column 'params'", "mapped from 'Model Size'",
                   "row 1:", "0.0")
    assert "line" not in str(info.value)


# --------------------------------------------------------------------------- parsing
def test_suffixes_and_thousands_separators(tmp_path: Path) -> None:
    path = write_csv(tmp_path, 'params,tokens,loss\n1.3B,2T,3\n300M," 1e9 ",2.9\n7k,"1,000",2.8\n'
                     '2.5 G,"12,000,000",2.7\n1e-3K,5t,2.6\n')
    runs = read_runs(path)
    assert runs["params"].tolist() == [1.3e9, 3e8, 7e3, 2.5e9, 1.0]
    assert runs["tokens"].tolist() == [2e12, 1e9, 1e3, 1.2e7, 5e12]
    assert any("parsed from text" in note for note in runs.notes)
    with pytest.raises(DataError, match="'1,00'"):  # not a thousands grouping
        read_runs({"params": ["1,00"], "loss": [2.0]})


def test_correct_takes_booleans() -> None:
    for values in ([True, False, True], ["true", "False", "TRUE"], [1, 0, 1]):
        runs = read_runs({"problem": ["a", "b", "c"], "correct": values})
        assert runs["correct"].tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(DataError, match="boolean|not a number"):
        read_runs({"params": [True, False], "loss": [1.0, 2.0]})


def test_labels_stay_text(tmp_path: Path) -> None:
    runs = read_runs(write_csv(tmp_path, "params,loss,model,group\n1e8,3,007,1\n2e8,2.9,x,2\n"))
    assert runs["model"].tolist() == ["007", "x"] and runs["group"].tolist() == ["1", "2"]
    assert runs["model"].dtype == object


def test_big_flops_stay_float64(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "params,flops,loss\n7e10,576000000000000000000000,2.0\n"
                     "1e9,5.76e23,2.1\n")
    from_csv = read_runs(path)
    from_dict = read_runs({"params": [70_000_000_000, 10**9],
                           "flops": [576 * 10**21, 5.76e23], "loss": [2.0, 2.1]})
    from_frame = read_runs(pd.DataFrame({"params": np.array([7e10, 1e9]).astype(np.int64),
                                         "flops": [5.76e23, 5.76e23], "loss": [2.0, 2.1]}))
    for runs in (from_csv, from_dict, from_frame):
        assert all(runs[c].dtype == np.float64 for c in runs.names)
        assert runs["flops"].tolist() == [5.76e23, 5.76e23]
        assert runs["tokens"].tolist() == [5.76e23 / (6 * 7e10), 5.76e23 / 6e9]
    assert from_csv.data_hash() == from_dict.data_hash() == from_frame.data_hash()


# --------------------------------------------------------------------------- sources
@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"Model Size": [1e8, 4e8, 1.6e9], "Training FLOP": [6e18, 9.6e19, 1.5e21],
                         "loss": [3.1, 2.7, 2.4], "color": ["r", "g", "b"]})


def test_all_sources_agree(tmp_path: Path, frame: pd.DataFrame) -> None:
    cols = EPOCH_COLUMNS
    frame.to_csv(tmp_path / "r.csv", index=False)
    frame.to_csv(tmp_path / "r.tsv", index=False, sep="\t")
    frame.to_json(tmp_path / "r.jsonl", orient="records", lines=True)
    (tmp_path / "r.json").write_text(json.dumps(frame.to_dict(orient="records")))
    (tmp_path / "c.json").write_text(json.dumps(frame.to_dict(orient="list")))
    sources = [frame, frame.to_dict(orient="list"), {k: frame[k].to_numpy() for k in frame},
               *(tmp_path / f for f in ("r.csv", "r.tsv", "r.jsonl", "r.json", "c.json"))]
    reference = read_runs(frame, columns=cols)
    assert reference.source == "<DataFrame>" and len(reference) == 3
    for source in sources:
        runs = read_runs(source, columns=cols)
        assert runs.names == ("params", "tokens", "flops", "loss"), source
        assert runs.data_hash() == reference.data_hash(), source
    assert read_runs(str(tmp_path / "r.csv"), columns=cols).source == str(tmp_path / "r.csv")


def test_parquet_source(tmp_path: Path, frame: pd.DataFrame) -> None:
    pytest.importorskip("pyarrow")
    frame.to_parquet(tmp_path / "r.parquet")
    runs = read_runs(str(tmp_path / "r.parquet"), columns=EPOCH_COLUMNS)
    assert runs.source.endswith("r.parquet") and "line" not in runs.source
    assert runs.data_hash() == read_runs(frame, columns=EPOCH_COLUMNS).data_hash()
    bad = frame.assign(loss=[3.1, -2.7, 2.4])
    bad.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DataError) as info:
        read_runs(tmp_path / "bad.parquet", columns=EPOCH_COLUMNS)
    assert_located(info.value, "bad.parquet", "column 'loss'", "row 1:", "-2.7", "not positive")
    assert "line" not in str(info.value)


def test_user_arrays_are_not_shared(frame: pd.DataFrame) -> None:
    data = {"params": np.array([1e8, 2e8]), "loss": np.array([3.0, 2.9])}
    runs = read_runs(data)
    data["params"][0] = -1.0
    assert runs["params"][0] == 1e8
    with pytest.raises(ValueError):
        runs["params"][0] = 5.0


def test_ragged_dict_is_an_error() -> None:
    with pytest.raises(DataError, match="all of one length") as info:
        read_runs({"params": [1e8, 2e8], "loss": [3.0]})
    assert info.value.rule == "ragged columns"


# --------------------------------------------------------------------------- derivation
def test_derivation_of_each_missing_scale_column() -> None:
    n, d = np.array([1e8, 3e9]), np.array([2e9, 6e10])
    c = 6 * n * d
    assert read_runs({"params": n, "tokens": d, "loss": [3, 2]})["flops"].tolist() == c.tolist()
    runs = read_runs({"tokens": d, "flops": c, "loss": [3, 2]})
    np.testing.assert_allclose(runs["params"], n, rtol=1e-15)
    assert runs.notes == ("params derived as flops / (6 * tokens) (C = 6ND)",)
    assert "flops" not in read_runs({"params": n, "tokens": d, "loss": [3, 2]}, derive=False)
    three = read_runs({"params": n, "tokens": d, "flops": 2 * c, "loss": [3, 2]})
    assert three["flops"].tolist() == (2 * c).tolist() and three.notes == ()


@settings(max_examples=200, deadline=None)
@given(st.floats(1e3, 1e13), st.floats(1e6, 1e15))
def test_six_nd_round_trip(n: float, d: float) -> None:
    flops = read_runs({"params": [n], "tokens": [d], "loss": [2.0]})["flops"]
    tokens = read_runs({"params": [n], "flops": flops, "loss": [2.0]})["tokens"]
    assert abs(tokens[0] - d) <= 1e-12 * d


# --------------------------------------------------------------------------- the Runs API
@pytest.fixture
def small() -> Runs:
    return read_runs({"params": [1e8, 2e8, 4e8, 8e8], "tokens": [1e9, 2e9, 4e9, 8e9],
                      "loss": [3.2, 3.0, 2.8, 2.6], "group": ["a", "a", "b", "b"]})


def test_data_hash_is_stable_and_sensitive(small: Runs) -> None:
    again = read_runs({k: v.tolist() for k, v in small.to_dict().items()}, derive=False)
    assert again.data_hash() == small.data_hash()
    recipe = hashlib.sha256(b"scalinglaws.Runs/1\0%d\0" % len(small))  # the documented format
    for name in sorted(small.names):
        a = small[name]
        recipe.update(name.encode() + b"\0")
        recipe.update(b"s" + "\0".join(a).encode() if a.dtype == object
                      else b"f" + a.astype("<f8").tobytes())
    assert small.data_hash() == recipe.hexdigest()
    changed = small.with_columns(loss=[3.2, 3.0, 2.8, 2.6000000001])
    assert changed.data_hash() != small.data_hash()
    relabeled = small.with_columns(group=["a", "a", "b", "c"])
    assert relabeled.data_hash() != small.data_hash()
    assert small.select([0, 1, 2, 3]).data_hash() == small.data_hash()


def test_select_keeps_row_ids_and_notes(small: Runs) -> None:
    picked = small.select(np.array([False, True, False, True]))
    assert picked.row_ids.tolist() == [1, 3] and picked.notes == small.notes
    assert picked["loss"].tolist() == [3.0, 2.6] and picked["group"].tolist() == ["a", "b"]
    again = picked.select([1])
    assert again.row_ids.tolist() == [3] and len(again) == 1
    with pytest.raises(ValueError):
        small.select([True, False])


def test_with_columns_validates_and_reports_original_rows(small: Runs) -> None:
    picked = small.select([2, 3])
    assert picked.with_columns(seed=[1, 2])["seed"].dtype == np.float64
    with pytest.raises(DataError) as info:
        picked.with_columns(loss=[2.0, -1.0])
    assert info.value.row == 3 and "row 3" in str(info.value)
    with pytest.raises(DataError, match="not a canonical column"):
        small.with_columns(lr=[1, 2, 3, 4])


def test_missing_column_access_and_require(small: Runs) -> None:
    assert "loss" in small and "accuracy" not in small
    with pytest.raises(ColumnNotFoundError) as info:
        small["accuracy"]
    assert isinstance(info.value, KeyError) and isinstance(info.value, DataError)
    assert "available: params, tokens, flops, loss, group" in str(info.value)
    small.require(["params", "tokens", "loss"], law="chinchilla")
    with pytest.raises(LawError) as law_info:
        small.require(("params", "samples"), law="coverage")
    assert str(law_info.value).startswith(
        "law 'coverage' needs column(s) 'samples' which <dict> lacks; available: params")


def test_runs_is_immutable_and_repr_is_short(small: Runs) -> None:
    with pytest.raises(Exception):
        small.source = "x"
    with pytest.raises(TypeError):
        small.columns["loss"] = np.zeros(4)
    assert all(not a.flags.writeable for a in small.to_dict().values())
    assert repr(small) == ("Runs('<dict>', 4 rows, columns: params, tokens, flops, loss, group, "
                           "1 note(s))")


def test_errors_pickle_with_their_attributes() -> None:
    err = DataError("x.csv: bad", source="x.csv", column="loss", row=3, rule="not positive",
                    value=-1.0)
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.source, back.column, back.row, back.rule, back.value) == (
        "x.csv: bad", "x.csv", "loss", 3, "not positive", -1.0)
