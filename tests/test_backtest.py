"""Extrapolation backtests: sl.backtest(law, runs, holdout=...).

The sweep is Epoch's Chinchilla law with 1% multiplicative noise (81 runs, 9 budgets). Fitting
on the lower half of the compute (budgets up to 6e19) and predicting the five budgets above,
the statements checked, per budget (mean over its 9 runs), are:

- the extrapolation error grows with distance. It is measured against the noiseless law
  (|predicted - L_true|), not the noisy observation: observed error = extrapolation error +
  the held-out run's own noise, and that noise (1% of ~2.5, about 0.025) is independent of
  distance and larger than the extrapolation error here (~0.01), so on one sweep the observed
  |error| need not grow from budget to budget (measured: it does not, on seeds 0-3), while the
  error of the prediction itself does, monotonically, on each of those seeds;
- the bootstrap interval widens with distance (mean width per budget strictly increasing).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic

LAW = sl.laws.Chinchilla()


def _spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


@pytest.fixture(scope="module")
def sweep():
    return synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.01, seed=0)


@pytest.fixture(scope="module")
def compute_bt(sweep):
    return sl.backtest(LAW, sweep, holdout="compute", fraction=0.5, n_boot=100, seed=0)


def test_compute_holdout_table(compute_bt, sweep):
    bt = compute_bt
    rows = bt.rows()
    flops = np.asarray(sweep["flops"])
    cut = np.quantile(flops, 0.5)
    assert len(rows) == int(np.sum(flops >= cut)) == 45
    assert bt.splits[0]["n_train"] == 36 and bt.splits[0]["max_train_flops"] == pytest.approx(6e19)
    for r in rows:
        assert r["error"] == pytest.approx(r["predicted"] - r["observed"])
        assert r["rel_error"] == pytest.approx(r["error"] / r["observed"])
        assert r["lo"] <= r["predicted"] <= r["hi"] or abs(r["predicted"] - r["lo"]) < 0.02
        assert r["covered"] == (r["lo"] <= r["observed"] <= r["hi"])
        assert r["extrapolation"] == pytest.approx(np.log10(r["flops"] / 6e19))
        assert r["extrapolation"] > 0
    assert 0 <= bt.coverage <= 1
    assert bt.rmse == pytest.approx(np.sqrt(np.mean([r["error"] ** 2 for r in rows])))
    # predictions equal a plain fit on the training part
    train = {k: v[flops < cut] for k, v in sweep.items()}
    f = sl.fit(LAW, train)
    assert np.allclose([r["predicted"] for r in rows], f.predict({k: v[flops >= cut] for k, v in sweep.items()}),
                       rtol=1e-6)
    text = bt.report()
    assert text.startswith("[[Backtest]] law=chinchilla  holdout=compute  held-out runs=45")
    d = json.loads(json.dumps(bt.to_dict()))
    assert len(d["rows"]) == 45 and d["coverage"] == pytest.approx(bt.coverage)


def test_errors_and_widths_grow_with_extrapolation(compute_bt):
    rows = compute_bt.rows()
    x = np.array([r["extrapolation"] for r in rows])
    truth = synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.0)["loss"][[r["row"] for r in rows]]
    err = np.abs(np.array([r["predicted"] for r in rows]) - truth)
    width = np.array([r["hi"] - r["lo"] for r in rows])
    levels = np.unique(x)
    assert len(levels) == 5
    err_by = np.array([err[x == v].mean() for v in levels])
    width_by = np.array([width[x == v].mean() for v in levels])
    # measured (seed 0): error 0.0079, 0.0100, 0.0109, 0.0113, 0.0122; width 0.040 .. 0.106
    assert np.all(np.diff(err_by) > 0), err_by
    assert np.all(np.diff(width_by) > 0), width_by
    assert err_by[-1] > 1.3 * err_by[0] and width_by[-1] > 2 * width_by[0]
    # per run the error also depends on where N sits on its isoFLOP curve (the rows of one budget
    # span N*/8 .. 8 N*), so the statement is per budget; the width's rank correlation is strong
    assert _spearman(x, width) > 0.5


def test_threshold_equals_fraction_split(sweep, compute_bt):
    bt = sl.backtest(LAW, sweep, holdout="compute", threshold=1e20, n_boot=0)
    assert [r["predicted"] for r in bt.rows()] == pytest.approx([r["predicted"] for r in compute_bt.rows()])
    assert all(np.isnan(r["lo"]) for r in bt.rows()) and np.isnan(bt.coverage)


def test_largest_holdout(sweep):
    bt = sl.backtest(LAW, sweep, holdout="largest", n_boot=50)
    n = np.asarray(sweep["params"])
    rows = bt.rows()
    assert len(rows) == int(np.sum(n == n.max())) >= 1
    assert all(r["params"] == n.max() for r in rows)
    assert all(abs(r["rel_error"]) < 0.1 for r in rows)


def test_group_holdout(sweep):
    g = np.where(np.arange(len(sweep["loss"])) % 3 == 0, "a", np.where(np.arange(len(sweep["loss"])) % 3 == 1, "b", "c"))
    data = dict(sweep, group=g)
    bt = sl.backtest(LAW, data, holdout="group", n_boot=50)
    assert [s["split"] for s in bt.splits] == ["group a", "group b", "group c"]
    assert sorted(r["row"] for r in bt.rows()) == list(range(81))  # every run predicted exactly once
    assert all(s["n_train"] == 54 for s in bt.splits)
    assert bt.rmse < 0.05


def test_bad_inputs(sweep):
    with pytest.raises(sl.LawError, match="unknown holdout 'biggest'") as e:
        sl.backtest(LAW, sweep, holdout="biggest")
    assert e.value.rule == "unknown holdout"
    with pytest.raises(sl.LawError, match="leaves 0 training run") as e:
        sl.backtest(LAW, sweep, holdout="compute", threshold=1e10, n_boot=0)
    assert e.value.rule == "too few training runs"
    with pytest.raises(sl.LawError, match="0 held-out run") as e:
        sl.backtest(LAW, sweep, holdout="compute", threshold=1e30, n_boot=0)
    assert e.value.rule == "empty split"
    with pytest.raises(sl.LawError, match="needs a group column"):
        sl.backtest(LAW, sweep, holdout="group")
    with pytest.raises(sl.LawError, match="fraction"):
        sl.backtest(LAW, sweep, fraction=1.5)


def test_top_level_export():
    assert "backtest" in sl.__all__
    from scalinglaws.fitting.backtest import backtest

    assert sl.backtest is backtest
