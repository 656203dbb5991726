"""The core's promises: mappings validated as read_runs validates files, shapes checked,
parameters the data cannot move reported as not identified, the default objective chosen by
the target, custom laws reporting their own parameters."""

import math
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws._jax import jnp

LAW = sl.laws.Chinchilla()


def sweep(n=30, seed=0):
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(np.log(1e8), np.log(1e10), n))
    D = np.exp(rng.uniform(np.log(1e9), np.log(1e11), n))
    return {"params": N, "tokens": D, "loss": 1.7 + 400 / N ** 0.34 + 2000 / D ** 0.37}


def test_negative_params_in_a_mapping_names_column_and_row():
    data = sweep()
    data["params"] = data["params"].copy()
    data["params"][7] = -1e9
    with pytest.raises(sl.DataError, match=r"column 'params', row 7: value -1000000000.0 is not positive") as e:
        sl.fit(LAW, data)
    assert e.value.column == "params" and e.value.row == 7 and e.value.rule == "not positive"


def test_dataframe_is_validated_like_a_file():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(sweep())
    df.loc[4, "tokens"] = float("nan")
    with pytest.raises(sl.DataError, match="column 'tokens', row 4"):
        sl.fit(LAW, df)


def test_two_column_target_is_a_law_error():
    data = sweep()
    data["loss"] = np.stack([data["loss"], data["loss"]], axis=1)
    with pytest.raises(sl.LawError, match=r"target column 'loss' has shape \(30, 2\)"):
        sl.fit(LAW, data)


def test_prediction_of_the_wrong_shape_is_a_law_error():
    law = sl.laws.Custom(lambda p, X: jnp.stack([p["a"] * X["x"], X["x"]], axis=1), params=["a"], inputs=("x",))
    with pytest.raises(sl.LawError, match=r"predict returns shape \(10, 2\) for 10 rows"):
        sl.fit(law, {"x": np.arange(1.0, 11.0), "y": np.arange(10.0)})


def test_runs_of_the_wrong_type():
    with pytest.raises(sl.DataError, match="expected Runs"):
        sl.fit(LAW, [1, 2, 3])


def test_default_objective_for_a_target_that_may_be_negative():
    x = np.linspace(-2.0, 2.0, 21)
    law = sl.laws.Custom(lambda p, X: p["m"] * X["x"] + p["c"], params=["m", "c"], inputs=("x",))
    f = sl.fit(law, {"x": x, "y": 0.5 * x - 1.0})  # targets from -2 to 0
    assert f.objective_spec.name == "least_squares" and f.objective_spec.space == "linear"
    assert any("least squares in linear space" in n for n in f.notes)
    assert "objective=least_squares (space=linear" in f.report()
    assert f.params["m"] == pytest.approx(0.5, abs=1e-9) and f.params["c"] == pytest.approx(-1.0, abs=1e-9)


def test_custom_law_reports_its_public_parameters():
    x = np.linspace(1.0, 5.0, 12)
    law = sl.laws.Custom(lambda p, X: jnp.exp(p["log_a"]) * X["x"] ** p["k"], params=["log_a", "k"],
                         inputs=("x",), positive=True,
                         public_map=lambda p: {"a": math.exp(p["log_a"]), "k": p["k"]},
                         internal_map=lambda q: {"log_a": math.log(q["a"]), "k": q["k"]})
    f = sl.fit(law, {"x": x, "y": 3.0 * x ** 0.7})
    assert set(f.params) == {"a", "k"}
    assert f.params["a"] == pytest.approx(3.0, rel=1e-8) and f.params["k"] == pytest.approx(0.7, rel=1e-8)
    assert "log_a" not in f.report().split("[[Parameters]]")[1].split("[[")[0]
    g = sl.fit(law, {"x": x, "y": 3.0 * x ** 0.7}, starts={"a": 2.0, "k": 0.5})  # public starts
    assert g.params["a"] == pytest.approx(3.0, rel=1e-8)


def test_single_epoch_data_leave_R_D_not_identified():
    """Muennighoff et al.'s R_D* only acts through repeated epochs; with every run seeing its
    unique data at most once, no row depends on it: it must be reported as not identified."""
    law = sl.laws.DataConstrained()
    rng = np.random.default_rng(3)
    N = np.exp(rng.uniform(np.log(1e8), np.log(3e9), 40))
    D = N * rng.uniform(20.0, 60.0, 40)
    E, A, B, al, be = 1.8, 500.0, 2000.0, 0.35, 0.37
    data = {"params": N, "tokens": D, "unique_tokens": D * 1.0, "loss": E + A / N ** al + B / D ** be}
    with pytest.warns(UserWarning, match=r"R_D.*not identified") as rec:
        f = sl.fit(law, data)
    assert "R_D" in f.not_identified
    assert "alpha" not in f.not_identified and "E" not in f.not_identified
    assert any("not identified" in str(w.message) for w in rec)
    line = [ln for ln in f.report().splitlines() if ln.strip().startswith("R_D =")][0]
    assert "not identified" in line
    assert f.to_dict()["not_identified"] == list(f.not_identified)


def test_solver_config_is_the_one_way_to_tune_the_solve():
    cfg = sl.fitting.solver.SolverConfig(refine=8, finish=4, polish=1)
    f = sl.fit(LAW, sweep(), solver=cfg)
    assert f.n_refined == 8 and f.n_finished == 4
    with pytest.raises(ValueError, match="refine"):
        sl.fitting.solver.SolverConfig(refine=0)
    with pytest.raises(sl.LawError, match="SolverConfig"):
        sl.fit(LAW, sweep(), solver={"refine": 8})
    with pytest.raises(TypeError):
        sl.fit(LAW, sweep(), refine=8)  # loose solver keywords are gone


def test_a_canonically_named_column_with_gaps_can_be_left_out(tmp_path):
    data = sweep(8)
    p = tmp_path / "runs.csv"
    rows = ["params,tokens,loss,n_layers"] + [f"{float(n)!r},{float(d)!r},{float(l)!r},{'' if i == 3 else 12}"
                                               for i, (n, d, l) in enumerate(zip(data["params"], data["tokens"], data["loss"]))]
    p.write_text("\n".join(rows) + "\n")
    with pytest.raises(sl.DataError, match=r"column 'n_layers', row 3 .*exclude=\['n_layers'\]"):
        sl.read_runs(p)
    runs = sl.read_runs(p, exclude=["n_layers"])
    assert "n_layers" not in runs and len(runs) == 8
    with pytest.raises(sl.DataError, match="not a canonical column"):
        sl.read_runs(p, exclude=["layers"])
