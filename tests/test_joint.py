"""JointCoverage: accuracy(N, D, k) = Beta coverage over k samples of a sigmoid
link of the Chinchilla loss, fitted in two steps (loss, then link + Beta).

Tolerances (measured before they were set):
- the Beta pass@k against scipy's gammaln form: observed <= 3e-11 (kappa <= 1e4;
  scipy's own cancellation); against mpmath log-Gamma ratios <= 1.3e-13 relative;
  at kappa = 1e10 it equals 1 - (1 - mu)^k to 1.1e-9 (k <= 1024), the 1e-6 bound;
- noiseless recovery (two-step, loss law fitted too): observed <= 4e-14 relative;
  asserted 1e-6 for the link and 1e-4 for the loss law;
- simulated per-problem logs (12 models over 4 sizes, 1000 problems x 64 samples,
  Beta problem rates with ranks shared by the models, 0.3% loss noise): over seeds
  0-5 the largest relative errors were slope 2.1%, L0 0.86%, kappa 7.1%;
  asserted 6%, 2.5% and 20% (about 3x).
All joint fits use one data shape (84 rows) so that the solver compiles once.
"""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

import scalinglaws as sl
from scalinglaws._jax import jnp
from scalinglaws.errors import DataError, LawError
from scalinglaws.evals.passk import BetaFit
from scalinglaws.laws.base import law_from_name, predict_jit
from scalinglaws._numerics import beta_pass_at_k
from scalinglaws._numerics import log_rising as _log_rising
from scalinglaws.fitting.recipes import fit_joint, loss_params_of
from scalinglaws.laws.joint import JointCoverage
from scalinglaws.optimize.best_config import accuracy_model

LOSS = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
LINK = {"slope": 3.0, "L0": 2.8, "kappa": 1.5}
SIZES = np.array([1e8, 3e8, 1e9, 3e9])
N = np.repeat(SIZES, 3)
D = N * np.tile([10.0, 20.0, 40.0], 4)  # 12 models: 4 sizes x 3 tokens per parameter
KS = 2 ** np.arange(7)  # k = 1 .. 64
LAW = JointCoverage()
P_TRUE = LAW.from_public({**LOSS, **LINK})
L_TRUE = np.asarray(LAW.loss(P_TRUE, {"params": np.asarray(N), "tokens": np.asarray(D)}))
MU_TRUE = np.asarray(LAW.mean_success(P_TRUE, np.asarray(L_TRUE))[0])


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kw)


def grid_rows():
    """(params, tokens, samples) for every model and k, 84 rows."""
    return {"params": np.repeat(N, KS.size), "tokens": np.repeat(D, KS.size),
            "samples": np.tile(KS.astype(float), N.size)}


def exact_data():
    X = grid_rows()
    y = np.asarray(predict_jit(LAW, {k: np.asarray(v) for k, v in P_TRUE.items()},
                               {k: np.asarray(v) for k, v in X.items()}))
    return {**X, "accuracy": y, "loss": np.repeat(L_TRUE, KS.size)}


def simulate(seed, problems=1000, n=64, loss_noise=0.003):
    """Per-sample logs of 12 models: p_i ~ Beta(mu kappa, (1 - mu) kappa) with each
    problem's difficulty rank shared by the models, c_i ~ Binomial(n, p_i);
    aggregated to pass@k by aggregate_samples."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=problems)
    kap = LINK["kappa"]
    p = stats.beta.ppf(u[None, :], MU_TRUE[:, None] * kap, (1 - MU_TRUE[:, None]) * kap)
    c = rng.binomial(n, p)
    correct = (np.arange(n)[None, None, :] < c[:, :, None]).astype(np.int8)
    M = N.size
    logs = {"model": np.repeat(np.arange(M), problems * n),
            "problem": np.tile(np.repeat(np.arange(problems), n), M), "correct": correct.ravel()}
    agg = sl.evals.aggregate_samples(logs, difficulty_bins=0, ks=KS)
    loss = L_TRUE * np.exp(loss_noise * rng.standard_normal(M))
    out = {k: [] for k in ("params", "tokens", "samples", "accuracy", "loss")}
    for m in range(M):
        s = agg[m]
        out["params"].append(np.full(KS.size, N[m]))
        out["tokens"].append(np.full(KS.size, D[m]))
        out["samples"].append(s.ks.astype(float))
        out["accuracy"].append(s.pass_at_k)
        out["loss"].append(np.full(KS.size, loss[m]))
    return {k: np.concatenate(v) for k, v in out.items()}


# ---------------------------------------------------------------------------------------
# the Beta coverage


def test_beta_pass_at_k_limits_and_references():
    mu = np.array([1e-4, 0.01, 0.2, 0.5, 0.9, 0.999])
    kappas = np.array([0.1, 1.5, 30.0, 1e4, 1e10])
    k = np.array([1.0, 2.0, 3.0, 16.0, 64.0, 1024.0])
    got = np.asarray(beta_pass_at_k(mu[:, None, None], kappas[None, :, None], k[None, None, :]))  # one call
    # k = 1: pass@1 is the mean success
    np.testing.assert_allclose(got[:, :, 0], np.broadcast_to(mu[:, None], got[:, :, 0].shape), rtol=1e-12,
                               atol=1e-14)
    # scipy's gammaln form (BetaFit.pass_at_k) for moderate kappa
    for j, kap in enumerate(kappas[:4]):
        ref = np.array([BetaFit(m * kap, (1 - m) * kap, 0.0, 2).pass_at_k(k) for m in mu])
        np.testing.assert_allclose(got[:, j, :], ref, rtol=0, atol=1e-10)
    # kappa -> inf: independent samples, 1 - (1 - mu)^k
    np.testing.assert_allclose(got[:, 4, :], 1 - (1 - mu[:, None]) ** k[None, :], rtol=0, atol=1e-6)
    # the log-Gamma ratio against high-precision values
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    xs, ks = (a.ravel() for a in np.meshgrid([1e-8, 0.3, 7.9, 8.0, 25.0, 1e6, 1e10], [0.5, 2.0, 64.0, 1e5]))
    ref = np.array([float(mpmath.loggamma(mpmath.mpf(x) + kk) - mpmath.loggamma(mpmath.mpf(x)))
                    for x, kk in zip(xs, ks)])
    got = np.asarray(_log_rising(np.asarray(xs), np.asarray(ks)))
    assert np.all(np.abs(got - ref) <= 1e-12 * np.maximum(1.0, np.abs(ref)))


def test_coverage_grows_with_k_and_falls_with_loss():
    X = grid_rows()
    y = exact_data()["accuracy"].reshape(N.size, KS.size)
    assert np.all(np.diff(y, axis=1) > 0)  # more samples, more coverage
    order = np.argsort(L_TRUE)
    assert np.all(np.diff(y[order, 0]) < 0)  # higher loss, lower pass@1
    np.testing.assert_allclose(y[:, 0], MU_TRUE, rtol=1e-12)
    assert X["samples"].size == 84


# ---------------------------------------------------------------------------------------
# fits


def test_noiseless_two_step_recovery():
    jfit, lfit = quiet(fit_joint, exact_data(), return_loss_fit=True)
    for k, v in LOSS.items():
        assert lfit.params[k] == pytest.approx(v, rel=1e-4), (k, lfit.params[k])
        assert jfit.params[k] == pytest.approx(lfit.params[k], rel=1e-12)  # fixed in step 2
    for k, v in LINK.items():
        assert jfit.params[k] == pytest.approx(v, rel=1e-6), (k, jfit.params[k])
    assert set(jfit.fixed) == {"a", "b", "e", "alpha", "beta"}
    assert any("step 1" in n for n in jfit.notes)
    assert jfit.objective < 1e-20


def test_noiseless_fixed_loss_routes_agree():
    data = exact_data()
    data.pop("loss")
    f = quiet(fit_joint, data, loss_fit=LOSS)  # parameters given instead of a loss column
    for k, v in LINK.items():
        assert f.params[k] == pytest.approx(v, rel=1e-6)
    # the constructor route: the loss is a constant of the law, three free parameters
    law = JointCoverage(loss_params=LOSS)
    assert law.param_names == ("slope", "L0", "log_kappa")
    p = {k: np.asarray(v) for k, v in law.from_public(LINK).items()}
    X = {k: np.asarray(v) for k, v in grid_rows().items()}
    np.testing.assert_allclose(np.asarray(predict_jit(law, p, X)), data["accuracy"], rtol=1e-13)
    starts = law.start_grid({k: np.asarray(v) for k, v in X.items()}, data["accuracy"])
    assert starts.shape == (36 + 21, 3)
    # (a fit of this law is sl.fit's business; not compiled here to keep the file fast)


TOL = {"slope": 0.06, "L0": 0.025, "kappa": 0.20}


@pytest.mark.parametrize("seed", [0, 1])
def test_simulated_logs_recover_link(seed):
    data = simulate(seed)
    assert data["accuracy"].shape == (84,)
    f = quiet(fit_joint, data)
    for k, v in LINK.items():
        assert abs(f.params[k] / v - 1) <= TOL[k], (seed, k, f.params[k], v)
    assert np.sqrt(np.mean((f.predict(data) - data["accuracy"]) ** 2)) < 0.01


# ---------------------------------------------------------------------------------------
# use of a fit


def test_accuracy_model_matches_law_and_drives_best_config():
    f = quiet(fit_joint, exact_data())
    acc = accuracy_model(f)
    X = grid_rows()
    L = np.asarray(f.law.loss(f.internal, {k: np.asarray(X[k]) for k in ("params", "tokens")}))
    np.testing.assert_allclose(acc(L, X["samples"]), f.predict(X), rtol=1e-10, atol=1e-12)
    # never rises with loss
    grid = np.linspace(1.5, 5.0, 50)[:, None]
    assert np.all(np.diff(acc(grid, np.array([1.0, 8.0, 512.0])[None, :]), axis=0) <= 0)
    lp = loss_params_of(f)
    assert lp == pytest.approx(sl.laws.Chinchilla().from_public(LOSS), rel=1e-6)
    cfg = sl.best_config(sl.laws.Chinchilla(), params=lp, total_flops=1e22, queries=1e9, accuracy_model=acc)
    assert 0 < cfg.accuracy < 1
    assert cfg.accuracy == pytest.approx(float(acc(np.array(cfg.loss), np.array(cfg.samples))), rel=1e-12)
    assert cfg.train_flops + cfg.inference_flops == pytest.approx(1e22, rel=1e-9)
    # the same model from the law and its public parameters
    acc2 = accuracy_model(JointCoverage(), {**LOSS, **LINK})
    np.testing.assert_allclose(acc2(L, X["samples"]), acc(L, X["samples"]), rtol=1e-8)


def test_registry_config_and_save_roundtrip(tmp_path):
    law = JointCoverage(floor=0.25, loss_params=LOSS)
    assert law_from_name("joint_coverage", **law.config()) == law
    assert hash(law) == hash(JointCoverage(floor=0.25, loss_params=sl.laws.Chinchilla().from_public(LOSS)))
    assert isinstance(law_from_name("joint-coverage"), JointCoverage)
    f = quiet(fit_joint, exact_data())
    g = sl.load_fit(f.save(tmp_path / "joint.json"))
    X = grid_rows()
    np.testing.assert_allclose(g.predict(X), f.predict(X), rtol=1e-14)
    assert g.params == pytest.approx(f.params)
    # a floor raises pass@1 to at least the floor
    p = {k: np.asarray(v) for k, v in law.from_public(LINK).items()}
    y = np.asarray(predict_jit(law, p, {"params": np.asarray([1e6]), "tokens": np.asarray([1e7]),
                                   "samples": np.asarray([1.0])}))
    assert 0.25 <= y[0] < 0.26


def test_bad_inputs():
    data = exact_data()
    with pytest.raises(LawError, match="not separately identified"):
        fit_joint({k: v for k, v in data.items() if k != "loss"})
    # without samples the coverage rows are the same run with conflicting accuracies: read_runs rejects them
    with pytest.raises(DataError, match="same run"):
        fit_joint({k: v for k, v in data.items() if k != "samples"})
    with pytest.raises(DataError, match="a DataFrame or a mapping"):
        fit_joint([1, 2, 3])
    with pytest.raises(LawError, match="floor < ceiling"):
        JointCoverage(floor=0.5, ceiling=0.4)
    with pytest.raises(LawError, match="needs E, A, B"):
        JointCoverage(loss_params={"E": 1.7})
    with pytest.raises(LawError, match="positive"):
        JointCoverage(loss_params={**LOSS, "A": -1.0})
    with pytest.raises(LawError, match="kappa"):
        JointCoverage().from_public({**LOSS, "slope": 1.0, "L0": 2.0})
    with pytest.raises(LawError, match="params="):
        accuracy_model(JointCoverage())
    cov = SimpleNamespace(law=sl.laws.Coverage(), internal={"a": -1.33, "b": -0.43})  # a fit of another law
    with pytest.raises(LawError, match="joint_coverage"):
        accuracy_model(cov)
    with pytest.raises(LawError, match="Chinchilla"):
        loss_params_of(cov)
    assert math.isfinite(LAW.public(P_TRUE)["kappa"])
