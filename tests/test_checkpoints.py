"""Checkpoints and seeds: sl.checkpoint_weights, sl.seed_noise, sl.fit_checkpoints, bootstrap by run,
backtest noise=, sl.compare_checkpoint_fits, synthetic.checkpoint_sweep and fit --min-fraction.

Expected values are re-derived with numpy loops (which rows survive min_fraction, 1/n weights, the
pooled variance, the shrunk variances), scipy's chi-square (the pooled sd's sampling law) and the
closed-form Chinchilla loss; fits are checked against the law they were drawn from.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.fitting import bootstrap as bootstrap_module

LAW = sl.laws.Chinchilla()
P = synthetic.EPOCH


def chinchilla(N, D):
    return P["E"] + P["A"] / N ** P["alpha"] + P["B"] / D ** P["beta"]


def ragged_logs(seed=0):
    """Runs with 2..9 checkpoints each at irregular token fractions (numpy only)."""
    rng = np.random.default_rng(seed)
    run, N, D = [], [], []
    for i in range(12):
        n = 1e8 * 2 ** (i % 6)
        final = 20 * n * rng.uniform(0.5, 3.0)
        k = int(rng.integers(2, 10))
        fr = np.sort(np.r_[rng.uniform(0.02, 0.99, k - 1), 1.0])
        run += [f"run{i}"] * k
        N += [n] * k
        D += list(final * fr)
    run, N, D = np.array(run, dtype=object), np.array(N), np.array(D)
    return {"run": run, "params": N, "tokens": D, "loss": chinchilla(N, D)}


# --------------------------------------------------------------------------- the run column
def test_run_column_is_canonical_text(tmp_path):
    path = tmp_path / "logs.csv"
    path.write_text("Run ID,params,tokens,loss\n007,1e8,2e9,3.1\n007,1e8,4e9,3.0\n12,2e8,4e9,2.9\n")
    runs = sl.read_runs(path, columns={"run": "Run ID"})
    assert "run" in sl.runs.CANONICAL_COLUMNS and "run" in sl.runs.CATEGORICAL_COLUMNS
    assert runs["run"].tolist() == ["007", "007", "12"]  # text, leading zeros kept
    ints = sl.read_runs({"run": [3, 3, 4], "params": [1e8, 1e8, 2e8], "tokens": [1e9, 2e9, 2e9],
                         "loss": [3.0, 2.9, 2.8]})
    assert ints["run"].tolist() == ["3", "3", "4"]


# --------------------------------------------------------------------------- checkpoint_weights
@pytest.mark.parametrize("min_fraction", [0.0, 0.3, 0.75])
def test_min_fraction_drops_exactly_the_early_rows_and_weights_sum_to_runs(min_fraction):
    logs = ragged_logs()
    cw = sl.checkpoint_weights(logs, min_fraction=min_fraction)
    keep = np.zeros(len(logs["run"]), dtype=bool)
    for name in set(logs["run"]):  # independent: a loop per run
        rows = np.flatnonzero(logs["run"] == name)
        keep[rows] = logs["tokens"][rows] >= min_fraction * logs["tokens"][rows].max()
    assert cw.runs.row_ids.tolist() == np.flatnonzero(keep).tolist()
    expect_w = np.array([1.0 / np.sum(keep & (logs["run"] == name)) for name in logs["run"][keep]])
    np.testing.assert_allclose(cw.weights, expect_w, rtol=1e-15)  # 1/n computed the same way: exact up to rounding
    assert cw.weights.sum() == pytest.approx(12, rel=1e-12)  # 12 runs, each summing to 1
    per_run = {r["run"]: r for r in cw.rows()}
    for name in set(logs["run"]):
        assert per_run[name]["kept"] == int(np.sum(keep & (logs["run"] == name)))
    assert cw.n_dropped == {"min_fraction": int((~keep).sum())}
    assert any(f"dropped {int((~keep).sum())} row(s)" in n for n in cw.notes)
    assert all(n in cw.runs.notes for n in cw.notes)  # the fit's notes will carry them
    np.testing.assert_array_equal(cw.weighted_runs["weight"], cw.weights)
    json.dumps(cw.to_dict())
    assert cw.report().startswith(f"[[CheckpointWeights]] runs=12  rows kept={int(keep.sum())}")


def test_final_only_and_existing_weights_and_planned_tokens():
    logs = ragged_logs()
    last = np.array([logs["tokens"][logs["run"] == r].max() for r in logs["run"]])
    fin = sl.checkpoint_weights(logs, per_run="final")
    assert fin.runs.row_ids.tolist() == np.flatnonzero(logs["tokens"] == last).tolist()
    assert np.all(fin.weights == 1.0) and len(fin.runs) == 12
    w0 = np.linspace(0.5, 2.0, len(logs["run"]))
    cw = sl.checkpoint_weights({**logs, "weight": w0}, min_fraction=0.0)
    n_of = np.array([np.sum(logs["run"] == r) for r in logs["run"]])
    np.testing.assert_allclose(cw.weights, w0 / n_of, rtol=1e-14)
    # planned final tokens: run0 stopped early, so its fraction is of the planned length
    planned = 4 * last[logs["run"] == "run0"][0]
    cw = sl.checkpoint_weights(logs, min_fraction=0.2, final_tokens={"run0": planned})
    rows0 = logs["run"] == "run0"
    assert np.sum(np.asarray(cw.runs["run"]) == "run0") == np.sum(logs["tokens"][rows0] >= 0.2 * planned)


def test_bad_input():
    logs = ragged_logs()
    no_run = {k: v for k, v in logs.items() if k != "run"}
    with pytest.raises(sl.DataError, match="needs a 'run' column") as e:
        sl.checkpoint_weights(no_run)
    assert e.value.column == "run" and e.value.rule == "missing column"
    with pytest.raises(sl.DataError, match="needs a 'run' column"):
        sl.fit_checkpoints(LAW, no_run)
    for bad in (1.0, -0.1, 1.5, float("nan")):
        with pytest.raises(sl.LawError, match=r"min_fraction=\.\.\.\)` must be in \[0, 1\)"):
            sl.checkpoint_weights(logs, min_fraction=bad)
    with pytest.raises(sl.LawError, match="unknown scheme"):
        sl.checkpoint_weights(logs, per_run="sqrt")
    # a run that stopped at 10% of its planned length: every checkpoint is below min_fraction=0.5
    last = logs["tokens"][logs["run"] == "run3"].max()
    with pytest.raises(sl.DataError, match="run 'run3': all its") as e:
        sl.checkpoint_weights(logs, min_fraction=0.5, final_tokens={"run3": 10 * last})
    assert e.value.rule == "run with no checkpoint left" and e.value.value == "run3"
    with pytest.raises(sl.DataError, match="names run 'nope'"):
        sl.checkpoint_weights(logs, final_tokens={"nope": 1e12})
    with pytest.raises(sl.DataError, match="at least the last checkpoint"):
        sl.checkpoint_weights(logs, final_tokens={"run3": last / 2})
    mixed = {**logs, "params": np.where(np.arange(len(logs["run"])) == 0, 7e7, logs["params"])}
    with pytest.raises(sl.DataError, match="run 'run0' has rows with different params"):
        sl.checkpoint_weights(mixed)


# --------------------------------------------------------------------------- seed_noise
def test_seed_noise_pooled_sd_is_chi_square_consistent():
    sigma = np.hypot(0.015, 0.005)  # run-level offset and per-checkpoint noise of the sweep
    t = synthetic.checkpoint_sweep(n_checkpoints=1, seeds=4, run_noise=0.015, noise=0.005, seed=3)
    sn = sl.seed_noise(t)
    n_cfg = len(t["run"]) // 4
    assert sn.n_configs == sn.n_repeated == n_cfg == 25 and sn.df == 3 * n_cfg
    # independent pooled variance: per configuration var(ddof=1), averaged with df weights (equal here)
    logl = np.log(t["loss"]).reshape(4, n_cfg)  # seed-major rows, configurations in the same order
    s2 = logl.var(axis=0, ddof=1)
    assert sn.pooled_sd == pytest.approx(np.sqrt(s2.mean()), rel=1e-12)
    np.testing.assert_allclose(sorted(c["sd"] for c in sn.per_config), sorted(np.sqrt(s2)), rtol=1e-10)
    # df s^2 / sigma^2 ~ chi2(df): the estimate lies inside the central 99.9% of that law
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], sn.df)
    assert lo < sn.df * sn.pooled_sd ** 2 / sigma ** 2 < hi
    ilo, ihi = sn.pooled_sd_interval(0.999)
    assert ilo < sigma < ihi
    assert ilo == pytest.approx(np.sqrt(sn.df * sn.pooled_sd ** 2 / hi), rel=1e-12)
    json.dumps(sn.to_dict())
    assert "pooled sd of log loss" in sn.report()


def test_seed_weights_shrink_toward_the_pooled_variance():
    rng = np.random.default_rng(1)
    sds = np.array([0.01, 0.01, 0.03, 0.02])
    n_seeds = np.array([2, 5, 3, 1])  # the last configuration has one seed only
    N, D, S, y = [], [], [], []
    for j, (sd, k) in enumerate(zip(sds, n_seeds)):
        N += [1e8 * (j + 1)] * k
        D += [2e9] * k
        S += list(range(k))
        y += list(np.exp(np.log(3.0) + sd * rng.standard_normal(k)))
    sn = sl.seed_noise({"params": N, "tokens": D, "seed": S, "loss": y})
    logy, cfg = np.log(y), np.repeat(np.arange(4), n_seeds)
    df = n_seeds - 1
    s2 = np.array([np.var(logy[cfg == j], ddof=1) if df[j] else 0.0 for j in range(4)])
    sp2 = np.sum(df * s2) / np.sum(df)
    assert sn.pooled_sd ** 2 == pytest.approx(sp2, rel=1e-12) and sn.df == 7
    for prior in (0.0, 4.0, 10.0):
        v = np.where(df + prior > 0, (df * s2 + prior * sp2) / np.maximum(df + prior, 1e-300), sp2)
        np.testing.assert_allclose(sn.weights(prior_df=prior), (sp2 / v)[cfg], rtol=1e-12)
    np.testing.assert_allclose(sn.weights(prior_df=np.inf), 1.0, rtol=1e-12)
    assert np.allclose(sn.weights()[cfg == 3], 1.0)  # one seed: the pooled variance


def test_seed_noise_warnings_and_errors():
    one = {"params": [1e8, 1e8, 2e8], "tokens": [2e9, 2e9, 2e9], "seed": [0, 1, 0], "loss": [3.0, 3.05, 2.9]}
    with pytest.warns(UserWarning, match="only 1 configuration has two or more seeds"):
        sn = sl.seed_noise(one)
    assert sn.pooled_sd == pytest.approx(abs(np.log(3.05) - np.log(3.0)) / np.sqrt(2), rel=1e-12)
    with pytest.raises(sl.DataError, match="no configuration has two or more seeds") as e:
        sl.seed_noise({"params": [1e8, 2e8], "tokens": [2e9, 2e9], "seed": [0, 1], "loss": [3.0, 2.9]})
    assert e.value.rule == "no repeated seeds"
    with pytest.raises(sl.DataError, match="needs column 'seed'"):
        sl.seed_noise({"params": [1e8, 2e8], "tokens": [2e9, 2e9], "loss": [3.0, 2.9]})


# --------------------------------------------------------------------------- fits
def test_a_long_logged_run_does_not_swamp_the_others():
    """10 runs of 3 checkpoints on the law, one run of 100 checkpoints 5% above it."""
    rng = np.random.default_rng(0)
    run, N, D = [], [], []
    for i, n in enumerate(np.geomspace(5e7, 2e9, 10)):
        final = 20 * n * rng.uniform(0.5, 4)
        run += [f"s{i}"] * 3
        N += [n] * 3
        D += [final * f for f in (0.5, 0.75, 1.0)]
    run += ["big"] * 100
    N += [3e8] * 100
    D += list(6e9 * np.linspace(0.2, 1, 100))
    run, N, D = np.array(run, dtype=object), np.array(N), np.array(D)
    loss = chinchilla(N, D) * np.where(run == "big", 1.05, 1.0) * np.exp(0.002 * rng.standard_normal(len(N)))
    logs = {"run": run, "params": N, "tokens": D, "loss": loss}
    with pytest.warns(UserWarning):  # the swamped fit is degenerate (E not identified): that is the point
        plain = sl.fit(LAW, logs)
    fit = sl.fit_checkpoints(LAW, logs, min_fraction=0.0)
    Ng, Dg = (a.ravel() for a in np.meshgrid(np.geomspace(5e7, 2e9, 5), np.geomspace(1e9, 1e11, 5)))
    truth = chinchilla(Ng, Dg)
    err = lambda f: float(np.max(np.abs(f.predict(params=Ng, tokens=Dg) / truth - 1)))  # noqa: E731
    # measured: per-run weights 0.97%, unweighted 11.9% (0.2% noise on every row)
    assert err(fit) < 0.02 < 0.05 < err(plain)
    assert any("fit_checkpoints: weights='per_run'" in n for n in fit.notes)
    assert any("per_run='equal'" in n for n in fit.notes)


@pytest.fixture(scope="module")
def sweep():
    return sl.read_runs(synthetic.checkpoint_sweep(seeds=2, n_checkpoints=6, run_noise=0.01, noise=0.003, seed=0))


def test_bootstrap_by_run_moves_checkpoints_together(sweep, monkeypatch):
    # the 40 runs r000..r039, 2 checkpoints each: the shapes of the comparison's checkpoint fit (compiled once)
    first40 = sweep.select(np.isin(np.asarray(sweep["run"]), [f"r{i:03d}" for i in range(40)]))
    cw = sl.checkpoint_weights(first40, min_fraction=0.5)
    runs = cw.weighted_runs
    fit = sl.fit(LAW, runs)
    seen = []
    real = bootstrap_module._solver.refit  # the bootstrap's (SQUAREM) refit of each chunk

    def spy(law, objective, U, X, y, w, *args, **kw):
        seen.append(np.array(w))
        return real(law, objective, U, X, y, w, *args, **kw)

    monkeypatch.setattr(bootstrap_module._solver, "refit", spy)
    bs = sl.bootstrap(fit, runs, n=20, seed=1, by="run", starts=1, progress=False)
    # the first pass sees every resample (padded to a full chunk with copies of the first)
    W = seen[0][:20]
    assert W.shape == (20, len(runs)) == (20, 80) and seen[0].shape[0] >= 20
    counts = W / cw.weights[None, :]  # times each row's run was drawn
    ids = np.asarray(runs["run"])
    for name in np.unique(ids):
        c = counts[:, ids == name]
        assert np.allclose(c, c[:, :1], rtol=1e-12)  # one count per run and resample
    assert np.allclose(counts, np.round(counts), atol=1e-9)
    assert np.allclose(counts[:, np.unique(ids, return_index=True)[1]].sum(axis=1), cw.n_runs)  # runs drawn
    assert bs.unit == "run units" and bs.n_failed == 0
    # weights= instead of the weight column: the same resample weights, the same draws
    seen.clear()
    with pytest.warns(UserWarning, match="data hash differs"):  # cw.runs lacks the weight column the fit saw
        again = sl.bootstrap(fit, cw.runs, n=20, seed=1, by="run", starts=1, progress=False, weights=cw.weights)
    np.testing.assert_array_equal(seen[0][:20], W)
    np.testing.assert_allclose(again.draws, bs.draws, rtol=1e-12)  # same inputs and weights: same solve


def test_compare_checkpoint_fits_reports_both(sweep):
    cmp = sl.compare_checkpoint_fits(LAW, sweep, min_fraction=0.5, n_boot=20, seed=0)
    # the held-out runs: final flops >= the 0.8 quantile of the runs' final flops (numpy)
    ids = np.asarray(sweep["run"])
    names = np.unique(ids)
    last = {r: np.argmax(np.where(ids == r, sweep["tokens"], -np.inf)) for r in names}
    fflops = np.array([sweep["flops"][last[r]] for r in names])
    held = set(names[fflops >= np.quantile(fflops, 0.8)])
    rows = cmp.rows()
    assert {r["run"] for r in rows} == held and len(rows) == len(held) == 10
    for r in rows:
        assert r["observed"] == sweep["loss"][last[r["run"]]]
        assert r["error_final"] == pytest.approx(r["predicted_final"] - r["observed"], rel=1e-12)
    assert cmp.rmse_final == pytest.approx(np.sqrt(np.mean([r["error_final"] ** 2 for r in rows])), rel=1e-12)
    assert cmp.rmse_checkpoints == pytest.approx(np.sqrt(np.mean([r["error_checkpoints"] ** 2 for r in rows])),
                                                 rel=1e-12)
    assert cmp.final.splits[0]["n_train"] == cmp.n_train_runs == 40  # one row per training run
    n_ckpt_rows = sum(np.sum((ids == r) & (sweep["tokens"] >= 0.5 * sweep["tokens"][last[r]]))
                      for r in names if r not in held)
    assert cmp.checkpoints.splits[0]["n_train"] == n_ckpt_rows
    # a run_noise of 0.01 on losses ~2.6: both predict within a few percent
    assert 0 < cmp.rmse_final < 0.1 and 0 < cmp.rmse_checkpoints < 0.1
    assert 0 <= cmp.coverage_final <= 1 and 0 <= cmp.coverage_checkpoints <= 1
    text = cmp.report()
    assert "final-only:  rmse=" in text and "checkpoints: rmse=" in text
    d = json.loads(json.dumps(cmp.to_dict()))
    assert d["rmse_final"] == pytest.approx(cmp.rmse_final) and len(d["rows"]) == 10

    # noise=: with n_boot=0 the interval is the prediction times exp(+-z sd), z the normal quantile
    sd = 0.02
    nz = sl.compare_checkpoint_fits(LAW, sweep, min_fraction=0.5, n_boot=0, noise=sd, level=0.9)
    z = stats.norm.ppf(0.95)
    for r in nz.checkpoints.rows():
        assert r["lo"] == pytest.approx(r["predicted"] * np.exp(-z * sd), rel=1e-12)
        assert r["hi"] == pytest.approx(r["predicted"] * np.exp(z * sd), rel=1e-12)
    assert nz.final.noise == sd and "parameter uncertainty + run noise" in nz.report()
    with pytest.raises(sl.LawError, match="finite sd >= 0"):
        sl.compare_checkpoint_fits(LAW, sweep, noise=-1.0, n_boot=0)
    # weights="seed": the checkpoint fit's weights are 1/n per run times the seed inverse-variance weights
    sw = sl.compare_checkpoint_fits(LAW, sweep, min_fraction=0.5, n_boot=0, weights="seed")
    assert any("seed-noise inverse-variance weights" in n for n in sw.checkpoints.notes)
    assert [r["predicted_final"] for r in sw.rows()] == [r["predicted_final"] for r in nz.rows()]
    assert 0 < sw.rmse_checkpoints < 0.1
    with pytest.raises(sl.LawError, match="unknown scheme 'sqrt'"):
        sl.fit_checkpoints(LAW, sweep, weights="sqrt")


def test_backtest_noise_widens_the_bootstrap_interval(sweep):
    finals = sl.checkpoint_weights(sweep, per_run="final").runs
    a = sl.backtest(LAW, finals, n_boot=20, seed=0)
    sn = sl.seed_noise(finals)  # the two seeds of each final configuration
    b = sl.backtest(LAW, finals, n_boot=20, seed=0, noise=sn)
    assert b.noise == pytest.approx(sn.pooled_sd) and 0.005 < sn.pooled_sd < 0.02  # true sd 0.0104
    for ra, rb in zip(a.rows(), b.rows()):
        assert ra["predicted"] == rb["predicted"]
        # the combined interval is at least the noise's own width in log space (sd * 2 z, minus MC slack)
        assert np.log(rb["hi"] / rb["lo"]) > 0.9 * 2 * stats.norm.ppf(0.95) * sn.pooled_sd
        assert rb["hi"] - rb["lo"] > ra["hi"] - ra["lo"]
    assert b.coverage >= a.coverage


def test_checkpoint_sweep_shape():
    t = synthetic.checkpoint_sweep(budgets=(1e19, 1e20), n_per_budget=3, n_checkpoints=4, seeds=2, noise=0.0,
                                   first_fraction=0.25)
    assert len(t["run"]) == 2 * 3 * 4 * 2 and len(set(t["run"])) == 12
    np.testing.assert_allclose(t["loss"], chinchilla(t["params"], t["tokens"]), rtol=1e-12)
    np.testing.assert_allclose(t["flops"], 6 * t["params"] * t["tokens"], rtol=1e-15)
    r0 = t["run"] == "r000"
    np.testing.assert_allclose(t["tokens"][r0] / t["tokens"][r0].max(), np.geomspace(0.25, 1, 4), rtol=1e-12)
    assert sorted(set(t["seed"])) == [0.0, 1.0]


def test_cli_min_fraction(tmp_path, capsys):
    from scalinglaws.cli import main

    # 40 runs, 2 of 4 checkpoints kept each: 80 rows, the comparison's shapes again
    t = synthetic.checkpoint_sweep(budgets=synthetic.DEFAULT_BUDGETS[:4], seeds=2, n_checkpoints=4, noise=0.003,
                                   seed=2)
    path = tmp_path / "logs.csv"
    lines = ["Run,seed,params,tokens,loss"] + [f"{r},{s:g},{float(n)!r},{float(d)!r},{float(y)!r}" for r, s, n, d, y in
                                              zip(t["run"], t["seed"], t["params"], t["tokens"], t["loss"])]
    path.write_text("\n".join(lines) + "\n")
    assert main(["fit", str(path), "--column", "run=Run", "--min-fraction", "0.4", "--json", "-q"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert any("per_run='equal'" in n for n in d["notes"])
    assert d["n_obs"] == int(np.sum(t["tokens"] >= 0.4 * np.repeat(t["tokens"].reshape(-1, 4).max(axis=1), 4))) == 80
    assert main(["fit", str(path), "--min-fraction", "0.4", "-q"]) == 2
    assert "needs a 'run' column" in capsys.readouterr().err
