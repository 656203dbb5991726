"""benchmarks/gemstones.py on the Gemstones run log (../shared/data/gemstones; skipped locally when
absent, a failure under CI=true).

Checked against independent readings, never against hard-coded answers: the loader's columns
against the jsonl read with the json module; the held-out errors against numpy recomputed here
from the predictions and the observed losses of the raw file; the predictions against each
reported law's formula evaluated here at its reported parameters.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import shared
from scalinglaws.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
FILE = "wandb_df_for_fitting_hot.jsonl"


def _bench():
    spec = importlib.util.spec_from_file_location("gemstones_bench", ROOT / "benchmarks" / "gemstones.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _raw(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def test_loader_maps_the_jsonl_columns():
    path = shared("gemstones", FILE)
    runs = _bench().load_gemstones(path)
    raw = _raw(path)
    assert len(runs) == len(raw) == 220
    for canon, key in (("params", "params_active_precise"), ("tokens", "tokens"), ("loss", "final_loss"),
                       ("hidden_size", "width"), ("n_layers", "depth")):
        np.testing.assert_array_equal(runs[canon], np.array([r[key] for r in raw], dtype=float))
    assert runs["run"].tolist() == [r["run_name"] for r in raw]
    # flops derived from C = 6ND, in float64 (rtol 1e-15: one product rounded twice)
    np.testing.assert_allclose(runs["flops"], 6.0 * runs["params"] * runs["tokens"], rtol=1e-15)


def test_threshold_that_does_not_split_is_an_error():
    runs = _bench().load_gemstones(shared("gemstones", FILE))
    with pytest.raises(DataError, match="threshold") as e:
        _bench().compare(runs, threshold=1e12)
    assert e.value.column == "params" and e.value.rule == "empty split"


@pytest.mark.slow
def test_held_out_errors_equal_an_independent_recomputation():
    path = shared("gemstones", FILE)
    bench = _bench()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bench.compare(bench.load_gemstones(path))
    raw = _raw(path)
    held = [r for r in raw if r["params_active_precise"] >= bench.THRESHOLD]
    assert res["train"] == len(raw) - len(held) and res["held_out"] == len(held) == 30
    assert res["models"] == sorted({r["run_name"] for r in held})
    obs = np.array([r["final_loss"] for r in held])
    N = np.array([r["params_active_precise"] for r in held], float)
    D = np.array([r["tokens"] for r in held], float)
    R = np.array([r["width"] / r["depth"] for r in held], float)
    x = np.array([r["width"] for r in held], float) / np.sqrt(N)
    np.testing.assert_array_equal(res["observed"], obs)
    assert set(res["laws"]) == {"chinchilla", "aspect_ratio", "conditional_x"}

    def chin(q):
        return q["E"] + q["A"] / N ** q["alpha"] + q["B"] / D ** q["beta"]

    formulas = {
        "chinchilla": chin,
        "aspect_ratio": lambda q: chin(q) * (1.0 + q["eps"] * R ** q["gamma"]),
        "conditional_x": lambda q: (q["a0"] + q["a1"] * np.log(x) + q["a2"] / x) * chin(res["laws"]["chinchilla"]["params"]),
    }
    for key, r in res["laws"].items():
        pred = np.asarray(r["predicted"])
        # the law at its reported parameters: rtol 1e-10 (float64 formulas along two paths)
        np.testing.assert_allclose(pred, formulas[key](r["params"]), rtol=1e-10)
        # the reported errors, recomputed here: rtol 1e-12 (sums of 30 terms in float64)
        assert r["rmse"] == pytest.approx(np.sqrt(np.mean((pred - obs) ** 2)), rel=1e-12)
        assert r["mean_abs_log_error"] == pytest.approx(np.mean(np.abs(np.log(pred) - np.log(obs))), rel=1e-12)
        assert r["mean_error"] == pytest.approx(np.mean(pred - obs), rel=1e-12)
        names = np.array([h["run_name"] for h in held])
        for m, e in r["per_model"].items():
            sel = names == m
            assert e["rmse"] == pytest.approx(np.sqrt(np.mean((pred[sel] - obs[sel]) ** 2)), rel=1e-12)
        # a sane extrapolation: every law within 10% of every held-out loss
        assert np.max(np.abs(pred / obs - 1)) < 0.10, key
