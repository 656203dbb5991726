"""The fitter's contract: starts, basins, stalls, options and bad input."""

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

import scalinglaws as sl
from scalinglaws._jax import jnp

LAW = sl.laws.Chinchilla()


def ladder_bpb(seed=0):
    """A small model ladder scored in bits-per-byte (4 sizes x 4 token multiples,
    190M-1.3B at 20-200 tokens per parameter): the kind of task fit on which
    Hoffmann's raw-unit grid with L-BFGS-B has been seen to stall."""
    rng = np.random.default_rng(seed)
    N = np.repeat([190e6, 370e6, 760e6, 1.3e9], 4)
    D = N * np.tile([20.0, 40.0, 100.0, 200.0], 4)
    true = {"E": 0.72, "A": 2.1e4, "B": 3.4e3, "alpha": 0.62, "beta": 0.41}
    p = {k: np.asarray(v) for k, v in LAW.from_public(true).items()}
    L = np.asarray(LAW.predict(p, {"params": np.asarray(N), "tokens": np.asarray(D)}))
    return {"params": N, "tokens": D, "loss": L * np.exp(0.002 * rng.standard_normal(N.size))}


def huber_objective(theta, data, delta=1e-3):
    a, b, e, al, be = theta
    pred = np.logaddexp(np.logaddexp(a - al * np.log(data["params"]), b - be * np.log(data["tokens"])), e)
    r = pred - np.log(data["loss"])
    return float(np.sum(np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))))


def test_default_fit_does_not_stall_where_lbfgs_on_raw_grid_does():
    data = ladder_bpb()
    grid = LAW.start_grid()
    stall_starts = grid[(grid[:, 3] == 1.5)][::30]  # 30 raw-grid starts at alpha = 1.5
    # the peers' recipe: scipy L-BFGS-B from each raw start, summed Huber, finite differences
    lbfgs = [minimize(huber_objective, s, args=(data,), method="L-BFGS-B") for s in stall_starts]
    best_lbfgs = min(r.fun for r in lbfgs)

    f = sl.fit(LAW, data)
    # the stall is real: L-BFGS-B from these starts ends >= 5x above the optimum
    assert best_lbfgs > 5 * f.objective
    # our default reaches the optimum, and so does the batched LM from the very same stalling starts
    same = sl.fit(LAW, data, starts=stall_starts)
    assert same.objective == pytest.approx(f.objective, rel=1e-6)
    # ...and the data-derived starts alone reach it too (unit-free linear solves at fixed exponents)
    only_data = sl.fit(LAW, data, starts=LAW.data_starts(data, data["loss"]))
    assert only_data.objective == pytest.approx(f.objective, rel=1e-6)
    assert huber_objective(f.theta, data) == pytest.approx(f.objective, rel=1e-10)


def test_units_do_not_matter():
    """N in millions and D in billions give the same optimum (data starts are unit-free)."""
    data = ladder_bpb(1)
    f = sl.fit(LAW, data)
    scaled = {"params": data["params"] / 1e6, "tokens": data["tokens"] / 1e9, "loss": data["loss"]}
    g = sl.fit(LAW, scaled)
    assert g.objective == pytest.approx(f.objective, rel=1e-6)
    assert g.params["alpha"] == pytest.approx(f.params["alpha"], rel=1e-4)
    assert g.params["A"] == pytest.approx(f.params["A"] * 1e-6 ** f.params["alpha"], rel=1e-3)


def test_every_start_outcome_recorded(epoch_fit):
    s = epoch_fit.starts
    assert s.n_starts == 4500 + 64
    assert s.screen_objective.shape == (s.n_starts,)
    assert s.n_refined == 64
    assert np.all(np.diff(np.sort(s.refined_objective)) >= 0)
    assert epoch_fit.objective == pytest.approx(np.min(s.refined_objective))


def test_fixed_parameter_is_held():
    data = ladder_bpb()
    f = sl.fit(LAW, data, fixed={"e": math.log(0.7)})
    assert f.params["E"] == pytest.approx(0.7, rel=1e-12)
    assert "e" in f.fixed
    free = sl.fit(LAW, data)
    assert f.objective >= free.objective * (1 - 1e-9)


def test_weights_change_the_fit_and_zero_weight_drops_a_run():
    data = ladder_bpb()
    w = np.ones(16)
    w[0] = 0.0
    f0 = sl.fit(LAW, data, weights=w)
    sub = {k: v[1:] for k, v in data.items()}
    f1 = sl.fit(LAW, sub)
    assert f0.objective == pytest.approx(f1.objective, rel=1e-6)


def test_least_squares_objectives():
    data = ladder_bpb()
    lin = sl.fit(LAW, data, objective=sl.LeastSquares())
    r = lin.predict(data) - data["loss"]
    assert lin.objective == pytest.approx(float(np.sum(r * r)), rel=1e-10)
    log = sl.fit(LAW, data, objective=sl.LeastSquares(space="log"))
    rl = np.log(log.predict(data)) - np.log(data["loss"])
    assert log.objective == pytest.approx(float(np.sum(rl * rl)), rel=1e-10)


def test_bounded_custom_law_reports_bound():
    x = np.linspace(1, 10, 30)
    y = 2.0 * x ** -0.5 + 1.0
    law = sl.laws.Custom(lambda p, X: p["c"] * X["x"] ** (-p["k"]) + p["floor"],
                         params=[sl.Param("c", grid=(1.0,)), sl.Param("k", grid=(0.3,), lower=0.0, upper=0.4),
                                 sl.Param("floor", grid=(0.5,))], inputs=("x",), target="y")
    with pytest.warns(UserWarning, match="at a bound"):
        f = sl.fit(law, {"x": x, "y": y}, objective=sl.LeastSquares())
    assert 0.0 < f.params["k"] <= 0.4
    assert f.at_bound == ("k",)


def test_save_load_roundtrip(tmp_path, epoch_fit, epoch_runs):
    path = epoch_fit.save(tmp_path / "fit.json")
    g = sl.load_fit(path)
    # exact: JSON stores repr(float), which round-trips; predict is the same computation in one process
    assert g.params == epoch_fit.params
    assert g.objective == epoch_fit.objective
    assert g.data_hash == epoch_fit.data_hash and len(g.data_hash) == 64
    assert "jax" in g.versions and "numpy" in g.versions
    np.testing.assert_array_equal(g.predict(epoch_runs), epoch_fit.predict(epoch_runs))
    text = path.read_text()
    assert '"chinchilla"' in text and '"huber"' in text


def test_report_mentions_basin_and_params(epoch_fit):
    rep = epoch_fit.report()
    for word in ("best basin", "alpha", "beta", "E", "objective", "240"):
        assert word in rep


def test_custom_law_needs_law_to_load(tmp_path):
    law = sl.laws.Custom(lambda p, X: p["a"] * X["x"], params=["a"], inputs=("x",), target="y")
    f = sl.fit(law, {"x": np.arange(1.0, 6.0), "y": 3 * np.arange(1.0, 6.0)}, objective=sl.LeastSquares())
    assert f.params["a"] == pytest.approx(3.0, rel=1e-10)
    path = f.save(tmp_path / "c.json")
    with pytest.raises(sl.LawError, match="custom law"):
        sl.load_fit(path)
    assert sl.load_fit(path, law=law).params["a"] == pytest.approx(3.0, rel=1e-10)


# -- bad input -----------------------------------------------------------------------


def test_missing_column_names_the_law():
    with pytest.raises(sl.LawError, match="needs column.*'tokens'"):
        sl.fit(LAW, {"params": np.ones(10), "loss": np.ones(10)})


def test_fewer_rows_than_parameters():
    data = {k: v[:4] for k, v in ladder_bpb().items()}
    with pytest.raises(sl.LawError, match="fewer than the 5 free parameters"):
        sl.fit(LAW, data)


def test_non_positive_target_in_log_space():
    data = ladder_bpb()
    data["loss"] = data["loss"].copy()
    data["loss"][3] = -1.0
    with pytest.raises(sl.DataError, match="row 3.*not positive"):
        sl.fit(LAW, data)


def test_nan_target():
    data = ladder_bpb()
    data["loss"] = data["loss"].copy()
    data["loss"][5] = np.nan
    with pytest.raises(sl.DataError, match="row 5"):
        sl.fit(LAW, data)


def test_bad_weights_and_fixed_and_starts():
    data = ladder_bpb()
    with pytest.raises(sl.LawError, match="weights"):
        sl.fit(LAW, data, weights=np.ones(3))
    with pytest.raises(sl.LawError, match="not parameters"):
        sl.fit(LAW, data, fixed={"gamma": 1.0})
    with pytest.raises(sl.LawError, match="each start needs 5 values"):
        sl.fit(LAW, data, starts=np.ones((2, 3)))
    with pytest.raises(sl.LawError, match="must be a Law"):
        sl.fit("chinchilla", data)


def test_load_fit_bad_file(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(sl.LawError, match="not a fit file"):
        sl.load_fit(p)
    with pytest.raises(sl.LawError, match="no such fit file"):
        sl.load_fit(tmp_path / "missing.json")


def test_compute_optimal_bad_budget():
    with pytest.raises(sl.LawError, match="budgets must be finite and > 0"):
        sl.compute_optimal(LAW, flops=-1.0, params={"E": 1.7, "A": 400, "B": 400, "alpha": 0.3, "beta": 0.3})


def test_unknown_law_name():
    with pytest.raises(sl.LawError, match="unknown law"):
        sl.laws.law_from_name("chinchila")
