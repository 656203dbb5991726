"""Bayesian fits (``sl.posterior``: numpyro NUTS started at the fit) and what is built on them.

Data: isoFLOP sweeps drawn from Epoch's Chinchilla parameters with 1% log-normal noise
(``synthetic.chinchilla_sweep``, seeds pinned). Checks are against the true parameters, closed
forms written here (Hoffmann et al. eq. 4, the law's formula in numpy), numpy quantiles and an
independent bootstrap, never against the code's own output.
"""

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic

TRUE = synthetic.EPOCH


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def data():
    runs = sl.read_runs(synthetic.chinchilla_sweep(TRUE, noise=0.01, seed=1))
    # least squares on log loss: the point estimate of the Gaussian likelihood sampled below
    fit = sl.fit(sl.laws.Chinchilla(), runs, objective=sl.LeastSquares())
    return runs, fit


@pytest.fixture(scope="module")
def post(data):
    runs, fit = data
    # the one larger run of the file: 4 chains x 500 draws (about 15 s of CPU, most of it compiling)
    return _quiet(sl.posterior, fit, runs, chains=4, draws=500, warmup=500, seed=0, progress=False)


def _chinchilla(p, N, D):
    return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]


def test_recovers_true_parameters_and_converges(post):
    assert isinstance(post, sl.Posterior) and "posterior" in sl.__all__ and "Posterior" in sl.__all__
    assert post.draws.shape == (4 * 500, 5) and post.ok.all()
    ci = post.interval(0.95)
    pub = post.public_draws()
    # relative tolerance on the median: about 2 posterior sds at this noise (measured relative sds:
    # E 1.4%, alpha and beta 3.5%, A 22%, B 28%: the prefactors are weakly identified; measured
    # errors of the medians: A +4.0%, the others below 0.6%)
    tol = {"E": 0.03, "alpha": 0.08, "beta": 0.08, "A": 0.45, "B": 0.55}
    for k, true in TRUE.items():
        lo, hi = ci[k]
        assert lo < true < hi, (k, lo, true, hi)
        assert lo == pytest.approx(float(np.quantile(pub[k], 0.025)), rel=1e-12)
        assert np.median(pub[k]) == pytest.approx(true, rel=tol[k])
    assert max(post.rhat.values()) <= 1.01, post.rhat
    assert set(post.rhat) == set(TRUE) | {"sigma"} and set(post.ess) == set(post.rhat)
    # the noise: 1% log-normal, so sigma's posterior covers 0.01
    lo, hi = np.quantile(post.sigma, [0.025, 0.975])
    assert lo < 0.01 < hi
    assert post.divergences == 0
    assert any("inverse Hessian" in n for n in post.notes)    # the Laplace start of the mass matrix ran
    assert post.se()["alpha"] == pytest.approx(float(np.std(pub["alpha"], ddof=1)), rel=1e-12)


def test_posterior_sd_agrees_with_bootstrap_se(data, post):
    runs, fit = data
    bs = _quiet(sl.bootstrap, fit, runs, n=400, seed=7, progress=False)
    sd, se = post.se(), bs.se()
    # a flat-prior Gaussian posterior and the bootstrap of the least-squares fit measure the same
    # spread up to sampling error (400 resamples: about 4% on an se) and skew; factor 1.5 (measured
    # ratios sd / se: 0.96 to 1.15)
    for k in TRUE:
        assert 1 / 1.5 < sd[k] / se[k] < 1.5, (k, sd[k], se[k])


def test_compute_optimal_on_posterior_contains_true_optimum(post):
    C = 1e23
    alloc = sl.compute_optimal(post, flops=C)
    A, B, al, be = TRUE["A"], TRUE["B"], TRUE["alpha"], TRUE["beta"]
    G = (al * A / (be * B)) ** (1 / (al + be))          # Hoffmann et al. eq. 4 at the true parameters
    N = G * (C / 6) ** (be / (al + be))
    D = C / (6 * N)
    L = _chinchilla(TRUE, N, D)
    iv = alloc.interval(0.9)
    for key, true in (("params", N), ("tokens", D), ("loss", L), ("tokens_per_param", D / N)):
        lo, hi = iv[key]
        assert lo < true < hi, (key, lo, true, hi)
    # one draw per posterior draw, each the closed form of that draw
    pub = post.public_draws()
    Gd = (pub["alpha"] * pub["A"] / (pub["beta"] * pub["B"])) ** (1 / (pub["alpha"] + pub["beta"]))
    Nd = Gd * (C / 6) ** (pub["beta"] / (pub["alpha"] + pub["beta"]))
    assert iv["params"][0] == pytest.approx(float(np.quantile(Nd, 0.05)), rel=1e-9)
    assert alloc.draws["params"].shape == (post.n,)


def test_predict_mean_and_intervals(data, post):
    runs, _ = data
    N, D = np.asarray(runs["params"]), np.asarray(runs["tokens"])
    pub = post.public_draws()
    per_draw = _chinchilla({k: v[:, None] for k, v in pub.items()}, N[None, :], D[None, :])
    mean = post.predict(runs)
    np.testing.assert_allclose(mean, per_draw.mean(axis=0), rtol=1e-10)   # float64 sums of the same terms
    m2, lo, hi = post.predict(runs, level=0.9, kind="mean")
    np.testing.assert_allclose(lo, np.quantile(per_draw, 0.05, axis=0), rtol=1e-10)
    _, plo, phi = post.predict(params=N, tokens=D, level=0.95)
    assert np.all(plo < lo) and np.all(phi > hi)          # the noise widens the predictive interval
    y = np.asarray(runs["loss"])
    inside = np.mean((plo < y) & (y < phi))
    assert 0.85 <= inside <= 1.0, inside                    # 81 points, nominal 95% coverage


def test_inference_data_has_public_names(post):
    idata = post.to_inference_data()
    names = set(idata.posterior.data_vars)
    assert set(TRUE) <= names and {"a", "b", "e", "sigma"} <= names
    A = np.asarray(idata.posterior["A"])
    assert A.shape == (4, 500)
    np.testing.assert_allclose(A.reshape(-1), np.exp(post.draws[:, 0]), rtol=1e-12)
    assert "observed_data" in idata.groups()


def test_report_and_to_dict(post):
    import json

    text = post.report()
    assert "[[Posterior]]" in text and "R-hat" in text and "[[Priors]]" in text
    d = post.to_dict()
    json.dumps(d)
    assert d["interval95"]["alpha"][0] == pytest.approx(post.interval(0.95)["alpha"][0])
    assert d["chains"] == 4 and d["divergences"] == 0


def test_priors_override_and_low_ess_warning(data):
    runs, fit = data
    import numpyro.distributions as dist

    with pytest.warns(UserWarning, match="bulk ESS below 400"):
        # also the Student-t likelihood with its degrees of freedom fixed
        p = sl.posterior(fit, runs, chains=1, draws=120, warmup=120, seed=3, progress=False,
                         priors={"alpha": dist.Uniform(0.30, 0.34)}, likelihood="student_t", nu=4.0)
    alpha = p.draws[:, p.fit.law.param_names.index("alpha")]
    # the prior's support bounds every draw (with the default prior, a third of the posterior lies
    # above 0.34: its 95% interval is about (0.327, 0.375))
    assert np.all((alpha > 0.30) & (alpha < 0.34))
    assert "Uniform" in p.priors["alpha"] and "given" in p.priors["alpha"]
    assert any("ESS" in w for w in p.warnings)
    assert p.nu is None and p.nu_name is None and "fixed at 4" in p.priors["nu"]


def test_student_t_runs(data):
    runs, fit = data
    p = _quiet(sl.posterior, fit, runs, chains=2, draws=150, warmup=150, seed=1, likelihood="student_t",
               progress=False)
    assert p.nu is not None and p.nu.shape == (300,) and np.all(p.nu > 0)
    assert p.nu_name == "nu" and "nu" in p.rhat
    ci = p.interval(0.95)
    for k in ("E", "alpha", "beta"):
        assert ci[k][0] < TRUE[k] < ci[k][1]


@pytest.mark.parametrize("kwargs, rule", [
    (dict(chains=0), "bad chains"),
    (dict(draws=0), "bad draws"),
    (dict(chains=1.5), "bad chains"),
    (dict(likelihood="cauchy"), "unknown likelihood"),
    (dict(priors={"gamma": None}), "unknown parameter"),
    (dict(priors={"A": None}), "unknown parameter"),       # public name: priors are keyed by internal names
    (dict(priors={"alpha": 0.3}), "bad prior"),
    (dict(target_accept=1.0), "bad target_accept"),
    (dict(nu=3.0), "bad argument"),                        # nu without the Student-t likelihood
])
def test_bad_arguments_raise_law_error(data, kwargs, rule):
    runs, fit = data
    with pytest.raises(sl.LawError) as err:
        sl.posterior(fit, runs, progress=False, **kwargs)
    assert err.value.rule == rule


def test_not_a_fit_raises(data):
    runs, _ = data
    with pytest.raises(sl.LawError, match="expected a Fit"):
        sl.posterior(sl.laws.Chinchilla(), runs)


def test_import_does_not_load_numpyro_or_arviz():
    code = ("import sys, scalinglaws as sl; assert 'numpyro' not in sys.modules and 'arviz' not in sys.modules; "
            "sl.posterior; assert 'numpyro' in sys.modules and 'arviz' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_default_priors_from_bounds():
    import numpyro.distributions as dist
    from scalinglaws.fitting.bayes import ONE_SIDED_SD, default_prior

    with sl.float64():
        _check_default_priors(default_prior, ONE_SIDED_SD, dist)


def _check_default_priors(default_prior, ONE_SIDED_SD, dist):
    both, text = default_prior(sl.Param("k", grid=(0.5,), lower=0.0, upper=1.0), 0.4)
    assert isinstance(both, dist.Uniform) and "Uniform(0, 1)" in text
    one, _ = default_prior(sl.Param("c", grid=(1.0, 3.0), lower=0.0), 2.0)
    # log(c - 0) ~ Normal(log 2, ONE_SIDED_SD): the density of c at x is N(log x; log 2, sd) / x
    x = 5.0
    want = -0.5 * ((math.log(x) - math.log(2.0)) / ONE_SIDED_SD) ** 2 - math.log(ONE_SIDED_SD * math.sqrt(2 * math.pi)) \
        - math.log(x)
    assert float(one.log_prob(x)) == pytest.approx(want, rel=1e-10)
    upper, _ = default_prior(sl.Param("u", grid=(-1.0,), upper=0.0), -0.5)
    assert float(upper.log_prob(-0.5)) == pytest.approx(-math.log(ONE_SIDED_SD * math.sqrt(2 * math.pi)) - math.log(0.5),
                                                          rel=1e-10)   # log(0 - u) at its centre, Jacobian 1/0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not math.isfinite(float(upper.log_prob(0.1)))      # above the upper bound: no density
    free, text = default_prior(sl.Param("z", grid=(0.0, 5.0, 25.0)), 6.0)
    assert isinstance(free, dist.Normal) and float(free.loc) == 6.0 and float(free.scale) == 25.0


def test_any_law_bounded_parameters_linear_residuals():
    # a custom law with a two-sided, a one-sided and an unbounded parameter, linear residuals
    # (positive=False): acc(k) = top - (top - first) k^-gamma
    import jax.numpy as jnp

    law = sl.laws.Custom(lambda p, X: p["top"] - (p["top"] - p["first"]) * jnp.exp(-p["gamma"] * jnp.log(X["samples"])),
                         params=[sl.Param("top", grid=(0.5, 0.9), lower=0.0, upper=1.0),
                                 sl.Param("first", grid=(0.1, 0.4)),
                                 sl.Param("gamma", grid=(0.3, 1.0), lower=0.0)],
                         inputs=("samples",), target="accuracy", positive=False)
    rng = np.random.default_rng(11)
    k = np.geomspace(1, 256, 36)
    truth = {"top": 0.8, "first": 0.3, "gamma": 0.6}
    acc = truth["top"] - (truth["top"] - truth["first"]) * k ** -truth["gamma"] + 0.005 * rng.standard_normal(k.size)
    runs = {"samples": k, "accuracy": acc}
    fit = sl.fit(law, runs)
    p = _quiet(sl.posterior, fit, runs, chains=2, draws=200, warmup=200, seed=2, progress=False)
    assert p.space == "linear"
    assert p.priors["top"].startswith("Uniform(0, 1)") and p.priors["gamma"].startswith("log(gamma - 0)")
    assert p.priors["first"].startswith("Normal(")
    ci = p.interval(0.99)
    for name, true in truth.items():
        assert ci[name][0] < true < ci[name][1], (name, ci[name], true)
    assert np.all((p.draws[:, 0] > 0) & (p.draws[:, 0] < 1)) and np.all(p.draws[:, 2] > 0)
    # predictive interval on linear residuals: mean +- noise, and 36 points near their 95% coverage
    mean, lo, hi = p.predict(runs, level=0.95)
    assert 0.8 <= np.mean((lo < acc) & (acc < hi)) <= 1.0


@pytest.mark.slow
def test_row_weights_scale_the_likelihood(data, post):
    runs, fit = data
    cols = synthetic.chinchilla_sweep(TRUE, noise=0.01, seed=1)
    cols["weight"] = np.full(cols["loss"].shape, 2.0)
    heavy = sl.read_runs(cols)
    p = _quiet(sl.posterior, fit, heavy, chains=2, draws=400, warmup=400, seed=5, progress=False)
    assert any("multiplied by its weight" in n for n in p.notes)
    # every row counted twice: a Gaussian posterior under flat priors narrows by 1/sqrt(2); the sds of
    # 2 x 400 and 4 x 500 draws carry about 5% sampling error each, so 20%
    ratio = {k: p.se()[k] / post.se()[k] for k in TRUE}
    for k, r in ratio.items():
        assert r == pytest.approx(1 / math.sqrt(2), rel=0.2), (k, r)
