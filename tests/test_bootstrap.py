"""The bootstrap (``sl.bootstrap``) and intervals on the allocations computed from it.

Every check compares against an expression written here (quantiles of numpy arrays, the
closed-form Chinchilla optimum), not against the code's own output.
"""

import math
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic


@pytest.fixture(scope="module")
def boot():
    runs = sl.read_runs(synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.02, seed=3))
    fit = sl.fit(sl.laws.Chinchilla(), runs, objective=sl.LeastSquares())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bs = sl.bootstrap(fit, runs, n=300, seed=7, progress=False)
    return runs, fit, bs


def test_bootstrap_is_top_level_and_seeded(boot):
    runs, fit, bs = boot
    assert "bootstrap" in sl.__all__ and isinstance(bs, sl.Bootstrap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = sl.bootstrap(fit, runs, n=300, seed=7, progress=False)
    ok = bs.ok & again.ok
    # same seed, same resamples, same solver: the same draws up to the solver's tolerance
    np.testing.assert_allclose(again.draws[ok], bs.draws[ok], rtol=1e-6, atol=1e-9)
    assert bs.n == 300 and bs.n_failed == int(np.sum(~bs.ok))


def test_se_and_interval_are_spread_of_public_draws(boot):
    _, fit, bs = boot
    pub = bs.public_draws()
    assert set(bs.se()) == set(fit.params) == set(bs.interval(0.9))
    for k, v in pub.items():
        assert bs.se()[k] == pytest.approx(float(np.std(v, ddof=1)), rel=1e-12)
        lo, hi = bs.interval(0.9)[k]
        assert lo == pytest.approx(float(np.quantile(v, 0.05)), rel=1e-12)
        assert hi == pytest.approx(float(np.quantile(v, 0.95)), rel=1e-12)
        assert lo < fit.params[k] < hi


def test_compute_optimal_from_bootstrap_matches_closed_form_per_draw(boot):
    _, fit, bs = boot
    C = 1e23
    alloc = sl.compute_optimal(bs, flops=C)
    point = sl.compute_optimal(fit, flops=C)
    assert alloc.params == pytest.approx(point.params, rel=1e-12)
    pub = bs.public_draws()
    A, B, al, be = pub["A"], pub["B"], pub["alpha"], pub["beta"]
    G = (al * A / (be * B)) ** (1 / (al + be))
    N = G * (C / 6) ** (be / (al + be))          # Hoffmann et al. eq. 4, per draw
    D = C / (6 * N)
    lo, hi = alloc.interval(0.90)["params"]
    # quantiles of an independent per-draw computation; both are float64 closed forms, so 1e-9
    assert lo == pytest.approx(float(np.quantile(N, 0.05)), rel=1e-9)
    assert hi == pytest.approx(float(np.quantile(N, 0.95)), rel=1e-9)
    tlo, thi = alloc.interval(0.90)["tokens_per_param"]
    assert tlo == pytest.approx(float(np.quantile(D / N, 0.05)), rel=1e-9)
    L = pub["E"] + A / N ** al + B / D ** be
    llo, lhi = alloc.interval(0.95)["loss"]
    assert llo == pytest.approx(float(np.quantile(L, 0.025)), rel=1e-9)
    assert lhi == pytest.approx(float(np.quantile(L, 0.975)), rel=1e-9)
    assert set(alloc.interval(0.9)) == {"params", "tokens", "loss", "tokens_per_param"}
    d = alloc.to_dict()
    assert d["interval90"]["params"][0] == pytest.approx(lo) and d["draws"] == int(bs.ok.sum())
    assert "[[Intervals]]" in alloc.report()


def test_compute_optimal_array_budget_intervals(boot):
    _, _, bs = boot
    alloc = sl.compute_optimal(bs, flops=np.array([1e21, 1e23]))
    lo, hi = alloc.interval(0.9)["params"]
    assert lo.shape == (2,) and np.all(lo < alloc.params) and np.all(alloc.params < hi)
    one = sl.compute_optimal(bs, flops=1e21).interval(0.9)["params"]
    assert lo[0] == pytest.approx(one[0], rel=1e-12) and hi[0] == pytest.approx(one[1], rel=1e-12)


def test_lowest_loss_and_inference_aware_from_bootstrap(boot):
    _, fit, bs = boot
    low = sl.lowest_loss(bs, total_flops=1e23, inference_tokens=1e12)
    lo, hi = low.interval(0.9)["loss"]
    assert lo < low.loss < hi
    # each draw's answer is the point answer of a law with that draw's parameters
    theta = bs.draws[bs.ok][5]
    p = dict(zip(fit.law.param_names, theta))
    one = sl.lowest_loss(fit.law, 1e23, 1e12, params=p)
    assert low.draws["params"][5] == pytest.approx(one.params, rel=1e-12)
    opt = sl.inference_aware_optimum(bs, target_loss=2.2, inference_tokens=1e12)
    nlo, nhi = opt.interval(0.9)["params"]
    assert nlo < opt.params < nhi and "savings" in opt.interval(0.9)


def test_interval_needs_draws_and_a_level(boot):
    _, fit, bs = boot
    with pytest.raises(ValueError, match="no draws"):
        sl.compute_optimal(fit, flops=1e23).interval(0.9)
    with pytest.raises(ValueError, match="level"):
        sl.compute_optimal(bs, flops=1e23).interval(1.5)
    with pytest.raises(ValueError, match="level"):
        bs.interval(0.0)


def test_cli_fit_bootstrap_saves_draws_and_optimize_uses_them(tmp_path, boot):
    import json
    import subprocess
    import sys

    import pandas as pd

    runs = synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.02, seed=3)
    csv = tmp_path / "runs.csv"
    pd.DataFrame(runs).to_csv(csv, index=False)
    fj = tmp_path / "fit.json"
    cmd = [sys.executable, "-m", "scalinglaws", "fit", str(csv), "--bootstrap", "50", "--seed", "1", "-o", str(fj), "-q"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "[[Bootstrap]]" in out and "resamples=50" in out
    saved = json.loads(fj.read_text())["bootstrap"]
    assert len(saved["draws"]) == 50 and saved["seed"] == 1
    res = subprocess.run([sys.executable, "-m", "scalinglaws", "optimize", str(fj), "--flops", "1e23",
                          "--bootstrap", "50", "--json"], capture_output=True, text=True, check=True)
    row = json.loads(res.stdout)[0]
    lo, hi = row["params_90"]
    assert lo < row["params"] < hi
    bad = subprocess.run([sys.executable, "-m", "scalinglaws", "optimize", str(fj), "--flops", "1e23",
                          "--bootstrap", "80"], capture_output=True, text=True)
    assert bad.returncode != 0 and "holds only 50 draws" in bad.stderr


def test_given_resamples_are_the_seeded_ones_as_indices(boot):
    """resamples= (drawn positions) gives the same refits as the seeded draw whose counts they
    spell out: the counts are rebuilt here with numpy's own multinomial and np.repeat."""
    runs, fit, _ = boot
    n = len(runs)
    counts = np.random.default_rng(11).multinomial(n, np.full(n, 1.0 / n), size=20)
    idx = np.stack([np.repeat(np.arange(n), c) for c in counts])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seeded = sl.bootstrap(fit, runs, n=20, seed=11, starts=1, progress=False)
        given = sl.bootstrap(fit, runs, resamples=idx[:, ::-1], starts=1, progress=False)
    assert given.n == 20
    np.testing.assert_allclose(given.draws, seeded.draws, rtol=1e-6, atol=1e-9)
    assert any("given by resamples=" in note for note in given.notes)


@pytest.mark.parametrize("bad, match", [
    (np.zeros(5, dtype=int), "2-D array"),
    (np.zeros((1, 5), dtype=int), "at least 2 rows"),
    (np.full((3, 5), 10_000), "outside 0.."),
    (np.full((3, 5), -1), "outside 0.."),
    (np.full((3, 5), 1.5), "whole unit positions"),
])
def test_bad_resamples_are_named(boot, bad, match):
    runs, fit, _ = boot
    with pytest.raises(sl.LawError, match=match):
        sl.bootstrap(fit, runs, resamples=bad, progress=False)
