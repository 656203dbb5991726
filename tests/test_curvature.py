"""Curvature standard errors (``sl.fitting.curvature``).

Every number is checked against an expression written here in numpy/scipy (an analytic
Jacobian of the Chinchilla law in its public parameters, ``scipy.optimize.curve_fit``, a
central finite-difference Hessian, the closed-form profiled Gaussian likelihood) or against the
bootstrap, never against the module's own output.
"""

import json
import math
import warnings

import numpy as np
import pytest
from scipy import optimize as _opt
from scipy import special as _special

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.laws import Custom, Param

PUBLIC = ("E", "A", "B", "alpha", "beta")
FAST = sl.SolverConfig(polish=0)  # small custom-law fits: skip the Newton polish (saves its compile)


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _caught(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as wr:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    return out, [str(w.message) for w in wr]


def _log_chinchilla(N, D, E, A, B, alpha, beta):
    return np.log(E + A * N ** -alpha + B * D ** -beta)


def _jac_public(N, D, q):
    """d log L / d (E, A, B, alpha, beta), written out."""
    E, A, B, al, be = (q[k] for k in PUBLIC)
    tn, td = N ** -al, D ** -be
    L = E + A * tn + B * td
    return np.stack([1 / L, tn / L, td / L, -A * tn * np.log(N) / L, -B * td * np.log(D) / L], axis=1)


@pytest.fixture(scope="module")
def sweep():
    # a well-posed sweep: 9 budgets x 15 sizes, 0.5% multiplicative noise, least squares on log loss
    data = synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.005, seed=0, n_per_budget=15)
    runs = sl.read_runs(data)
    fit = _quiet(sl.fit, sl.laws.Chinchilla(), runs, objective=sl.LeastSquares(space="log"))
    return data, runs, fit


@pytest.fixture(scope="module")
def curv(sweep):
    _, runs, fit = sweep
    return sl.fitting.curvature(fit, runs)


def test_exported_under_fitting_only():
    assert sl.fitting.curvature is not None and "curvature" in sl.fitting.__all__
    assert "curvature" not in sl.__all__


def test_least_squares_se_match_numpy_gauss_newton(sweep, curv):
    data, _, fit = sweep
    N, D, y = data["params"], data["tokens"], data["loss"]
    q = fit.params
    r = _log_chinchilla(N, D, *(q[k] for k in PUBLIC)) - np.log(y)
    J = _jac_public(N, D, q)
    s2 = float(r @ r) / (len(y) - 5)
    cov = s2 * np.linalg.inv(J.T @ J)
    # the same optimum, an exact Jacobian in the public parameters against the module's internal
    # Jacobian + delta method (central-difference Jacobian of law.public, ~1e-11): only rounding
    # through the inverse (scaled condition ~1e4) separates them, so rel 1e-6
    se = curv.se()
    for i, k in enumerate(PUBLIC):
        assert se[k] == pytest.approx(math.sqrt(cov[i, i]), rel=1e-6), k
    order = [curv.names.index(k) for k in PUBLIC]
    np.testing.assert_allclose(curv.covariance[np.ix_(order, order)], cov, rtol=1e-5,
                               atol=1e-8 * np.sqrt(np.outer(np.diag(cov), np.diag(cov))).max())
    assert curv.method == "Gauss-Newton" and curv.scale == pytest.approx(s2, rel=1e-9)
    assert curv.dof == len(y) - 5


def test_least_squares_se_match_curve_fit(sweep, curv):
    data, _, fit = sweep
    N, D, y = data["params"], data["tokens"], data["loss"]
    p0 = [fit.params[k] for k in PUBLIC]
    popt, pcov = _opt.curve_fit(lambda X, *p: _log_chinchilla(X[0], X[1], *p), np.vstack([N, D]), np.log(y), p0=p0,
                                jac=lambda X, *p: _jac_public(X[0], X[1], dict(zip(PUBLIC, p))),
                                xtol=1e-14, ftol=1e-14, gtol=1e-14)
    # curve_fit re-solves from the fit's optimum: it stays there (parameters to 1e-6) ...
    np.testing.assert_allclose(popt, p0, rtol=1e-6)
    # ... and its s^2 (J^T J)^-1 at that point agrees to rel 1e-4 (the optimum's own tolerance
    # moves J and s^2 by far less)
    se = curv.se()
    for i, k in enumerate(PUBLIC):
        assert se[k] == pytest.approx(math.sqrt(pcov[i, i]), rel=1e-4), k


def test_hessian_matches_central_differences(sweep, curv):
    data, _, fit = sweep
    lN, lD, ly = np.log(data["params"]), np.log(data["tokens"]), np.log(data["loss"])

    def f(t):  # summed squared log residuals in the internal parameters (a, b, e, alpha, beta)
        a, b, e, al, be = t
        lp = _special.logsumexp(np.stack([a - al * lN, b - be * lD, np.full_like(lN, e)]), axis=0)
        return float(np.sum((lp - ly) ** 2))

    t0 = fit.theta
    p = len(t0)
    h = 1e-5 * (1 + np.abs(t0))
    H = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            def at(si, sj):
                t = t0.copy()
                t[i] += si * h[i]
                t[j] += sj * h[j]
                return f(t)
            H[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i] * h[j])
    # central differences: truncation ~(h log D)^2 ~ 1e-7 relative (beta multiplies log D ~ 23),
    # rounding ~1e-16 * sum|r| / h^2 < 1e-9 of the
    # entries; rel 1e-5 with an absolute floor of 1e-7 of the largest entry for near-zero ones
    np.testing.assert_allclose(curv.hessian, H, rtol=1e-5, atol=1e-7 * np.abs(H).max())
    # and the Gauss-Newton matrix it inverts is 2 J^T J of the internal residual Jacobian
    assert np.all(np.linalg.eigvalsh(curv.curvature_matrix) > 0)


def test_sandwich_least_squares_is_hc0(sweep):
    data, runs, fit = sweep
    N, D, y = data["params"], data["tokens"], data["loss"]
    q = fit.params
    r = _log_chinchilla(N, D, *(q[k] for k in PUBLIC)) - np.log(y)
    J = _jac_public(N, D, q)
    bread = np.linalg.inv(J.T @ J)
    hc0 = bread @ (J.T @ (J * (r * r)[:, None])) @ bread  # White's heteroscedasticity-robust covariance
    c = sl.fitting.curvature(fit, runs, sandwich=True)
    assert c.method == "sandwich"
    se = c.se()
    for i, k in enumerate(PUBLIC):  # same optimum and Jacobians as above: rel 1e-6
        assert se[k] == pytest.approx(math.sqrt(hc0[i, i]), rel=1e-6), k


def test_huber_sandwich_matches_numpy(sweep):
    # the default objective (Huber, delta = 1e-3 on log residuals) is an M-estimator: its covariance
    # is the sandwich H^-1 (sum psi_i^2 J_i J_i^T) H^-1, H = sum [1{|r_i| <= delta} J_i J_i^T + psi_i
    # d^2 r_i]. Written here in the public parameters (at an optimum the sandwich transforms with
    # the reparametrisation's Jacobian), d^2 r_i by central differences of the analytic Jacobian.
    data, runs, ls_fit = sweep
    fit = _quiet(sl.fit, sl.laws.Chinchilla(), runs, starts=[ls_fit.params])  # one start: a cheaper solve
    c = sl.fitting.curvature(fit, runs)
    assert c.method == "sandwich" and fit.objective_spec.name == "huber"
    N, D, y = data["params"], data["tokens"], data["loss"]
    q = dict(fit.params)
    delta = 1e-3
    r = _log_chinchilla(N, D, *(q[k] for k in PUBLIC)) - np.log(y)
    psi = np.clip(r, -delta, delta)
    J = _jac_public(N, D, q)
    H = (J * (np.abs(r) <= delta)[:, None]).T @ J
    for j, k in enumerate(PUBLIC):
        h = 1e-6 * abs(q[k])
        up, dn = dict(q), dict(q)
        up[k] += h
        dn[k] -= h
        H[:, j] += psi @ ((_jac_public(N, D, up) - _jac_public(N, D, dn)) / (2 * h))
    H = 0.5 * (H + H.T)
    Hi = np.linalg.inv(H)
    cov = Hi @ ((J * (psi * psi)[:, None]).T @ J) @ Hi
    # differences: central differences of a smooth Jacobian (~1e-10) and the optimum's own gradient
    # (~0, it enters through the reparametrisation): rel 1e-4
    se = c.se()
    for i, k in enumerate(PUBLIC):
        assert se[k] == pytest.approx(math.sqrt(cov[i, i]), rel=1e-4), k
    assert int(np.sum(np.abs(r) <= delta)) > 10  # enough residuals inside to carry curvature


def test_agrees_with_bootstrap(sweep, curv):
    # A statistical check. 300 resamples give a bootstrap s.e. with ~1/sqrt(600) = 4% Monte-Carlo
    # error, and the pairs bootstrap and the model-based s.e. differ at this size by more (B's
    # skew). Over data/bootstrap seeds 0..7 the ratios curvature / bootstrap ran from 0.835 to
    # 1.246 (worst: seed 7's B); seed 0 (used here) from 0.90 to 1.13. So 25%.
    _, runs, fit = sweep
    bs = _quiet(sl.bootstrap, fit, runs, n=300, seed=0, progress=False)
    assert bs.n_failed == 0
    cs, bse = curv.se(), bs.se()
    for k in PUBLIC:
        assert cs[k] == pytest.approx(bse[k], rel=0.25), (k, cs[k] / bse[k])


def test_interval_report_and_dict(curv):
    z = 1.959963984540054  # Phi^-1(0.975)
    se = curv.se()
    for k, (lo, hi) in curv.interval().items():
        assert lo == pytest.approx(curv.estimates[k] - z * se[k], rel=1e-12)
        assert hi == pytest.approx(curv.estimates[k] + z * se[k], rel=1e-12)
    lo90, hi90 = curv.interval(0.90)["alpha"]
    assert (hi90 - lo90) / 2 == pytest.approx(1.6448536269514722 * se["alpha"], rel=1e-12)
    text = curv.report()
    assert "[[Curvature]]" in text and "Gauss-Newton" in text and all(k in text for k in PUBLIC)
    d = json.loads(json.dumps(curv.to_dict()))
    assert d["se"]["A"] == pytest.approx(se["A"]) and d["method"] == "Gauss-Newton"
    assert len(curv.eigenvalues) == 5 and curv.condition_number == pytest.approx(
        curv.eigenvalues.max() / curv.eigenvalues.min(), rel=1e-12)
    corr = curv.correlation()
    assert np.allclose(np.diag(corr), 1.0)


def test_fixed_parameter_has_zero_se():
    # y = c + b x + a x^2 with a fixed: the others are ordinary least squares of y - a x^2 on (1, x)
    rng = np.random.default_rng(5)
    x = np.linspace(0, 3, 30)
    data = {"x": x, "y": 1.0 + 0.5 * x + 0.3 * x ** 2 + 0.2 * rng.standard_normal(30)}
    law = Custom(lambda p, X: p["c"] + p["b"] * X["x"] + p["a"] * X["x"] ** 2, inputs=("x",), target="y",
                 params=[Param("c", grid=(0.0,)), Param("b", grid=(0.0,)), Param("a", grid=(0.0,))])
    fit = _quiet(sl.fit, law, data, objective=sl.LeastSquares(), fixed={"a": 0.25}, solver=FAST)
    c = sl.fitting.curvature(fit, data)
    assert c.se()["a"] == 0.0 and np.all(c.internal_covariance[2] == 0.0)
    X = np.stack([np.ones_like(x), x], 1)
    yy = data["y"] - 0.25 * x ** 2
    beta = np.linalg.lstsq(X, yy, rcond=None)[0]
    res = yy - X @ beta
    cov = float(res @ res) / (30 - 2) * np.linalg.inv(X.T @ X)  # n - p over the 2 free parameters
    # linear in the free parameters: only the solver's tolerance separates them, rel 1e-6
    assert c.se()["c"] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-6)
    assert c.se()["b"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-6)
    assert c.dof == 28 and any("fixed parameter(s) a" in n for n in c.notes)


def test_weighted_least_squares_matches_closed_form():
    # weighted least squares on a straight line: cov = s^2 (X^T W X)^-1, s^2 = sum w r^2 / (n - p),
    # the fit's weights taken from the runs' weight column
    rng = np.random.default_rng(4)
    x = np.linspace(0, 5, 25)
    wt = rng.uniform(0.5, 3.0, 25)
    data = {"x": x, "y": 1.0 + 2.0 * x + rng.standard_normal(25) / np.sqrt(wt), "weight": wt}
    law = Custom(lambda p, X: p["c"] + p["b"] * X["x"], inputs=("x",), target="y",
                 params=[Param("c", grid=(0.0,)), Param("b", grid=(0.0,))])
    fit = _quiet(sl.fit, law, data, objective=sl.LeastSquares(), solver=FAST)
    c = sl.fitting.curvature(fit, data)
    X = np.stack([np.ones_like(x), x], 1)
    XtW = X.T * wt
    beta = np.linalg.solve(XtW @ X, XtW @ data["y"])
    res = data["y"] - X @ beta
    cov = float(np.sum(wt * res * res)) / (25 - 2) * np.linalg.inv(XtW @ X)
    np.testing.assert_allclose([fit.params["c"], fit.params["b"]], beta, rtol=1e-8)
    # a linear model: Gauss-Newton is exact, only the solver's tolerance (~1e-9) separates them
    assert c.se()["c"] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-6)
    assert c.se()["b"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-6)
    # unit weights given instead: a different (and wrong for this fit) answer, not silently the same
    c1 = _quiet(sl.fitting.curvature, fit, data, weights=np.ones(25))
    assert c1.se()["b"] != pytest.approx(c.se()["b"], rel=1e-3)


# ---------------------------------------------------------------------------------------
# Warnings


def test_warns_parameter_at_bound():
    rng = np.random.default_rng(0)
    x = np.linspace(1, 10, 40)
    data = {"x": x, "y": 5 - 0.5 * x + 0.1 * rng.standard_normal(40)}  # falling: the slope wants < 0
    law = Custom(lambda p, X: p["c"] + p["b"] * X["x"], inputs=("x",), target="y",
                 params=[Param("c", grid=(0.0, 5.0)), Param("b", grid=(0.1, 1.0), lower=0.0)])
    fit = _quiet(sl.fit, law, data, objective=sl.LeastSquares(), solver=FAST)
    assert abs(fit.params["b"]) < 1e-6
    c, msgs = _caught(sl.fitting.curvature, fit, data)
    assert c.at_bound == ("b",)
    assert any("b at a bound" in m and "meaningless" in m for m in msgs)
    assert any("b at a bound" in m for m in c.warnings)
    assert not any("Newton step" in m for m in msgs)  # a bound's non-zero gradient is not an early stop


def test_warns_product_parameters_not_identified():
    rng = np.random.default_rng(1)
    x = np.linspace(1, 10, 40)
    data = {"x": x, "y": 1.0 + 0.6 * x + 0.1 * rng.standard_normal(40)}
    law = Custom(lambda p, X: p["c"] + p["p1"] * p["p2"] * X["x"], inputs=("x",), target="y",
                 params=[Param("c", grid=(0.0,)), Param("p1", grid=(0.5, 2.0)), Param("p2", grid=(0.5, 2.0))])
    fit = _quiet(sl.fit, law, data, objective=sl.LeastSquares(), solver=FAST)
    c, msgs = _caught(sl.fitting.curvature, fit, data)
    se = c.se()
    assert math.isnan(se["p1"]) and math.isnan(se["p2"])
    # c is identified: its s.e. is the ordinary regression's on (1, x)
    X = np.stack([np.ones_like(x), x], 1)
    beta = np.linalg.lstsq(X, data["y"], rcond=None)[0]
    res = data["y"] - X @ beta
    # s^2 over n - 3 (the law's three free parameters, as the module counts them)
    cov = float(res @ res) / (40 - 3) * np.linalg.inv(X.T @ X)
    assert se["c"] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-4)
    assert set(c.not_identified) == {"p1", "p2"}
    d = json.loads(json.dumps(c.to_dict()))  # NaN s.e. become null, not invalid JSON
    assert d["se"]["p1"] is None and d["se"]["c"] == pytest.approx(se["c"])
    assert any("not identified" in m and "p1" in m and "p2" in m for m in msgs)


@pytest.mark.slow
def test_warns_constant_tokens_not_identified():
    # D the same for every run: B / D^beta is a constant, confounded with E
    rng = np.random.default_rng(2)
    N = np.geomspace(1e7, 1e10, 30)
    D = np.full(30, 2e10)
    q = synthetic.EPOCH
    loss = (q["E"] + q["A"] * N ** -q["alpha"] + q["B"] * D ** -q["beta"]) * np.exp(0.005 * rng.standard_normal(30))
    data = {"params": N, "tokens": D, "loss": loss}
    fit = _quiet(sl.fit, sl.laws.Chinchilla(), data, objective=sl.LeastSquares(space="log"))
    c, msgs = _caught(sl.fitting.curvature, fit, data)
    msg = [m for m in msgs if "not identified" in m]
    assert msg and "B" in msg[0] and "beta" in msg[0]
    assert math.isnan(c.se()["B"]) and math.isnan(c.se()["beta"])


def test_warns_ill_conditioned():
    eps = 3e-5
    x = np.linspace(1, 2, 30)
    rng = np.random.default_rng(3)
    data = {"x": x, "y": 2.0 * x + 0.01 * rng.standard_normal(30)}
    law = Custom(lambda p, X: p["a"] * X["x"] + p["b"] * (X["x"] + eps * X["x"] ** 2), inputs=("x",), target="y",
                 params=[Param("a", grid=(0.0,)), Param("b", grid=(0.0,))])
    J = np.stack([x, x + eps * x ** 2], 1)
    M = J.T @ J
    d = np.sqrt(np.diag(M))
    cond = np.linalg.cond(M / np.outer(d, d))
    assert 1e10 < cond < 1e12  # ill-conditioned, yet not numerically singular
    fit = _quiet(sl.fit, law, data, objective=sl.LeastSquares(), solver=FAST)
    c, msgs = _caught(sl.fitting.curvature, fit, data)
    assert c.condition_number == pytest.approx(cond, rel=1e-3)
    assert any("ill-conditioned" in m and ("along a, b" in m or "along b, a" in m) for m in msgs)
    # the s.e. are still those of ordinary least squares on the two columns
    cov = c.scale * np.linalg.inv(M)
    assert c.se()["a"] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-3)


def test_warns_other_runs(sweep):
    _, _, fit = sweep
    other = synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.005, seed=11, n_per_budget=15)
    c, msgs = _caught(sl.fitting.curvature, fit, other)
    assert any("data hash differs" in m for m in msgs)
    assert any("not at the minimum" in m for m in msgs)


def test_bad_input(sweep):
    data, runs, fit = sweep
    with pytest.raises(sl.LawError, match="tokens"):
        sl.fitting.curvature(fit, {"params": data["params"], "loss": data["loss"]})
    for bad in (0.0, 1.0, 1.5, -0.1, "0.9"):
        with pytest.raises(sl.LawError, match=r"level"):
            sl.fitting.curvature(fit, runs, level=bad)
    with pytest.raises(sl.LawError, match="expected a Fit"):
        sl.fitting.curvature(fit.params, runs)
    with pytest.raises(sl.LawError, match="information"):
        sl.fitting.curvature(fit, runs, information="fisher")


def test_interval_bad_level(curv):
    with pytest.raises(sl.LawError, match="level"):
        curv.interval(1.0)


# ---------------------------------------------------------------------------------------
# Epoch's data (REFERENCE.md section 2)

PUBLISHED_SE = {"A": 124.52, "B": 1293.28, "E": 0.0257, "alpha": 0.0154, "beta": 0.0206}


@pytest.fixture(scope="module")
def epoch(epoch_runs):
    fit = _quiet(sl.fit, sl.laws.Chinchilla(), epoch_runs, objective=sl.HuberLikelihood())
    return fit, sl.fitting.curvature(fit, epoch_runs)


# The expected-information s.e. assume iid Huber (here ~Laplace) noise of the fitted scale; the
# bootstrap of the real runs is wider. Measured ratios curvature / published bootstrap s.e.:
# E 0.42, A 0.46, B 0.20, alpha 0.45, beta 0.30: B and beta fall outside a factor 3.
_OUTSIDE = pytest.mark.xfail(strict=True, reason="curvature / bootstrap s.e.: B 0.20, beta 0.30 (< 1/3)")


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(k, marks=_OUTSIDE) if k in ("B", "beta") else k for k in PUBLISHED_SE])
def test_epoch_curvature_vs_published_bootstrap(epoch, name):
    fit, c = epoch
    se = c.se()
    print("\n" + "  ".join(f"{k}: curvature {se[k]:.4g} / bootstrap {v:.4g} = {se[k] / v:.3f}"
                           for k, v in PUBLISHED_SE.items()))
    assert all(math.isfinite(v) and v > 0 for v in se.values())
    assert c.method == "expected information"
    assert 1 / 3 < se[name] / PUBLISHED_SE[name] < 3


@pytest.mark.slow
def test_epoch_observed_information_warns(epoch, epoch_runs):
    fit, c = epoch
    obs, msgs = _caught(sl.fitting.curvature, fit, epoch_runs, information="observed")
    # the near-L1 optimum interpolates 5 runs (one per parameter): only they carry curvature
    assert any("only 5 of 240 residuals" in m for m in msgs)
    assert all(obs.se()[k] < 0.1 * c.se()[k] for k in PUBLISHED_SE)


@pytest.mark.slow
def test_epoch_expected_information_matches_numpy(epoch, epoch_runs):
    # the Huber density's Fisher information, re-derived: sigma by a 1-D minimisation of the
    # numpy NLL, E[psi(z)^2] by quadrature against exp(-huber(z)) / Z, the public Jacobian analytic
    fit, c = epoch
    from scipy import integrate

    delta = 1e-3
    N, D = np.asarray(epoch_runs["params"]), np.asarray(epoch_runs["tokens"])
    q = fit.params
    r = _log_chinchilla(N, D, *(q[k] for k in PUBLIC)) - np.log(np.asarray(epoch_runs["loss"]))

    def rho(z):
        a = np.abs(z)
        return np.where(a <= delta, 0.5 * z * z, delta * (a - 0.5 * delta))

    Z = math.sqrt(2 * math.pi) * math.erf(delta / math.sqrt(2)) + 2 * math.exp(-delta ** 2 / 2) / delta
    nll = lambda s: float(np.sum(rho(r * np.exp(-s)))) + len(r) * (s + math.log(Z))  # noqa: E731
    s_hat = _opt.minimize_scalar(nll, bracket=(-14.0, -11.0), tol=1e-12).x
    sigma = math.exp(s_hat)
    psi2 = lambda z: min(abs(z), delta) ** 2 * math.exp(-float(rho(np.array(z)))) / Z  # noqa: E731
    m = (2 * integrate.quad(psi2, 0, delta, epsabs=0, epsrel=1e-12)[0]
         + 2 * integrate.quad(psi2, delta, np.inf, epsabs=0, epsrel=1e-12)[0])
    J = _jac_public(N, D, q)
    cov = sigma ** 2 / m * np.linalg.inv(J.T @ J)
    # sigma from scipy's Brent to ~1e-12 in log sigma, m by quadrature to 1e-10: rel 1e-6
    se = c.se()
    for i, k in enumerate(PUBLIC):
        assert se[k] == pytest.approx(math.sqrt(cov[i, i]), rel=1e-6), k


def test_cli_fit_curvature(sweep, tmp_path, capsys):
    from scalinglaws.cli import main

    data, _, _ = sweep
    path = tmp_path / "runs.csv"
    np.savetxt(path, np.column_stack([data["params"], data["tokens"], data["loss"]]), delimiter=",",
               header="params,tokens,loss", comments="")
    assert main(["fit", str(path), "--objective", "least_squares", "--space", "log", "--curvature"]) == 0
    out = capsys.readouterr().out
    assert "[[Curvature]]" in out and "Gauss-Newton" in out
    assert main(["fit", str(path), "--objective", "least_squares", "--space", "log", "--curvature", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d["curvature"]["se"]) == set(PUBLIC) and all(v > 0 for v in d["curvature"]["se"].values())
