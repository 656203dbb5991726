"""Selection rules as accuracy models: best-of-k with an imperfect verifier (closed form, Beta
heterogeneity) and majority voting (the MajorityVote law, fitted on simulated votes).

Every check is against an expression written here: a Monte-Carlo simulation in numpy, the
oracle pass@k, scipy's adaptive quad, the Beta-binomial closed form, or the law's formula
re-typed in numpy.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy.special import betaln

import scalinglaws as sl
from scalinglaws.errors import LawError
from scalinglaws.optimize import MajorityVoteAccuracyModel, VerifierAccuracyModel, fit_verifier, verifier_accuracy
from scalinglaws.optimize.best_config import CoverageAccuracyModel, best_config, sigmoid_link
from scalinglaws.laws import Chinchilla, MajorityVote
from scalinglaws.synthetic import HOFFMANN, majority_vote_curves

LINK = sigmoid_link(2.3, 6.0)


# -- the verifier formula ----------------------------------------------------------------

def _simulate(p, tpr, fpr, k, n, rng):
    """n queries of k samples: the answer is a uniformly drawn accepted sample, else a
    uniformly drawn sample; returns the share of correct answers."""
    correct = rng.random((n, k)) < p
    accept = rng.random((n, k)) < np.where(correct, tpr, fpr)
    key = rng.random((n, k))  # uniform tie-break: the largest key wins
    any_acc = accept.any(axis=1)
    pick_acc = np.argmax(np.where(accept, key, -1.0), axis=1)
    pick_all = np.argmax(key, axis=1)
    pick = np.where(any_acc, pick_acc, pick_all)
    return correct[np.arange(n), pick].mean()


@pytest.mark.parametrize("p,tpr,fpr,k", [(0.3, 0.9, 0.1, 1), (0.3, 0.9, 0.1, 4), (0.1, 0.8, 0.2, 16),
                                         (0.6, 0.7, 0.3, 8), (0.05, 0.95, 0.02, 64), (0.5, 0.5, 0.0, 3)])
def test_verifier_formula_matches_monte_carlo(p, tpr, fpr, k):
    rng = np.random.default_rng(1234 + k)
    n = 200_000 if k <= 16 else 60_000
    mc = _simulate(p, tpr, fpr, k, n, rng)
    got = float(verifier_accuracy(p, k, tpr, fpr))
    se = math.sqrt(got * (1 - got) / n)  # binomial standard error of the MC share
    assert abs(got - mc) < 4 * se, (got, mc, se)


def test_verifier_limits():
    p = np.array([0.0, 0.01, 0.2, 0.5, 0.9, 1.0])[:, None]
    k = np.array([1.0, 2.0, 7.0, 64.0, 1024.0])[None, :]
    # oracle verifier: pass@k; rounding only (1e-12)
    np.testing.assert_allclose(verifier_accuracy(p, k, 1.0, 0.0), 1 - (1 - p) ** k, rtol=0, atol=1e-12)
    # uninformative verifier: p at every k
    for t in (0.0, 0.3, 1.0):
        np.testing.assert_allclose(verifier_accuracy(p, k, t, t), np.broadcast_to(p, (6, 5)), rtol=0, atol=1e-12)
    # one sample: p, whatever the verifier
    np.testing.assert_allclose(verifier_accuracy(p, 1.0, 0.8, 0.15), p, rtol=0, atol=1e-12)
    # the ceiling is the precision p tpr / (p tpr + (1 - p) fpr), not 1
    q = np.array([0.05, 0.3, 0.7])
    prec = q * 0.9 / (q * 0.9 + (1 - q) * 0.1)
    np.testing.assert_allclose(verifier_accuracy(q, 1e5, 0.9, 0.1), prec, rtol=1e-12)
    m = VerifierAccuracyModel(LINK, tpr=0.9, fpr=0.1)
    L = np.array([2.0, 2.3, 2.6])
    np.testing.assert_allclose(m.precision(L), LINK(L) * 0.9 / (LINK(L) * 0.9 + (1 - LINK(L)) * 0.1), rtol=1e-12)


def _quad_beta(f, a, b):
    """E[f(x)], x ~ Beta(a, b), by QUADPACK's algebraic-weight rule (the endpoint
    singularities x^(a-1) (1-x)^(b-1) are the weight, integrated exactly)."""
    val, err = integrate.quad(f, 0, 1, weight="alg", wvar=(a - 1, b - 1), limit=500, epsabs=1e-14, epsrel=1e-13)
    assert err < 1e-10
    return val / math.exp(betaln(a, b))


@pytest.mark.parametrize("kappa", [0.5, 3.0])
def test_beta_heterogeneous_verifier_against_quad(kappa):
    L = np.array([1.9, 2.3, 2.8])
    ks = np.array([1.0, 8.0, 200.0])
    direct = VerifierAccuracyModel(LINK, tpr=0.85, fpr=0.1, concentration=kappa, method="direct")
    table = VerifierAccuracyModel(LINK, tpr=0.85, fpr=0.1, concentration=kappa)
    got_d = direct(L[:, None], ks[None, :])
    got_t = table(L[:, None], ks[None, :])
    for i, p in enumerate(LINK(L)):
        for j, k in enumerate(ks):
            ref = _quad_beta(lambda x: verifier_accuracy(x, k, 0.85, 0.1), p * kappa, (1 - p) * kappa)
            # quad's error estimate is < 1e-10 (asserted); the Gauss-Jacobi rule should match to 1e-9
            assert got_d[i, j] == pytest.approx(ref, abs=1e-9)
            assert got_t[i, j] == pytest.approx(ref, abs=3e-7)  # the documented table error


def test_beta_heterogeneous_oracle_is_beta_binomial_closed_form():
    # tpr = 1, fpr = 0: E[1 - (1 - x)^k] = 1 - B(a, b + k) / B(a, b) exactly
    kappa = 0.4
    m = VerifierAccuracyModel(LINK, tpr=1.0, fpr=0.0, concentration=kappa, method="direct")
    L = np.linspace(1.8, 3.0, 7)[:, None]
    k = np.array([1.0, 16.0, 127.0, 1024.0])[None, :]
    a, b = LINK(L) * kappa, (1 - LINK(L)) * kappa
    ref = 1 - np.exp(betaln(a, b + k) - betaln(a, b))
    np.testing.assert_allclose(m(L, k), ref, rtol=0, atol=1e-8)  # Gauss-Jacobi, 64 nodes, k up to 1024
    # and the same as the oracle Beta coverage model already in best_config
    np.testing.assert_allclose(m(L, k), CoverageAccuracyModel(LINK, concentration=kappa)(L, k), atol=1e-8)


@pytest.mark.parametrize("kw", [dict(), dict(concentration=0.7)])
def test_verifier_never_rises_with_loss_and_searches(kw):
    m = VerifierAccuracyModel(LINK, tpr=0.9, fpr=0.1, **kw)
    L = np.linspace(1.6, 3.6, 81)[:, None]
    k = np.array([1.0, 4.0, 32.0, 1024.0])[None, :]
    acc = m(L, k)
    assert np.all(np.diff(acc, axis=0) <= 1e-12)
    oracle = CoverageAccuracyModel(LINK)
    kw2 = dict(total_flops=1e23, queries=1e9, tokens_per_sample=100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = best_config(Chinchilla(), params=HOFFMANN, accuracy_model=m, **kw2)
        co = best_config(Chinchilla(), params=HOFFMANN, accuracy_model=oracle, **kw2)
    # extra samples buy less with a verifier that saturates at its precision
    assert cv.samples <= co.samples and cv.accuracy < co.accuracy
    assert cv.accuracy == pytest.approx(float(m(cv.loss, cv.samples)), rel=1e-12)


def test_verifier_bad_input():
    for kw, match in [(dict(tpr=1.2), "tpr"), (dict(fpr=-0.1), "fpr"), (dict(tpr=math.nan), "tpr"),
                      (dict(tpr=0.3, fpr=0.5), "tpr=0.3 < fpr=0.5"), (dict(concentration=0.0), "concentration"),
                      (dict(method="mc"), "method"), (dict(nodes=1), "nodes")]:
        with pytest.raises(LawError, match=match):
            VerifierAccuracyModel(LINK, **kw)
    with pytest.warns(UserWarning, match="uninformative"):
        VerifierAccuracyModel(LINK, tpr=0.4, fpr=0.4)


# -- majority voting ---------------------------------------------------------------------

def _mv_numpy(q, L, k):
    """The MajorityVote formula re-typed in numpy, public parameters."""
    c = 1 / (1 + np.exp(q["slope_inf"] * (L - q["L_inf"])))
    a1 = 1 / (1 + np.exp(q["slope_1"] * (L - q["L_1"])))
    rho = q["rho"] * np.exp(q.get("rho_slope", 0.0) * (L - q["L_1"]))
    return c - (c - a1) * k ** -rho


@pytest.fixture(scope="module")
def votes():
    losses = np.linspace(2.0, 3.2, 7)
    tab = majority_vote_curves(losses, seed=0)  # 2000 questions x 4 repeats per model
    runs = {k: tab[k] for k in ("model", "loss", "samples", "accuracy")}
    fit = sl.fit(MajorityVote(), runs, objective=sl.LeastSquares())
    return losses, tab, fit


def test_majority_vote_simulation_basics(votes):
    losses, tab, _ = votes
    for L in losses:
        m = tab["loss"] == L
        acc, pass1, top = tab["accuracy"][m], tab["pass1"][m][0], tab["plateau"][m][0]
        # k = 1 is one sample: the MC mean of p_i, s.e. <= sqrt(0.25 / 8000) = 0.0056; 4 s.e.
        assert abs(acc[0] - pass1) < 0.023
        # at k = 257 the vote is close to its exact limit (the share of questions whose correct
        # answer is the most likely one); slack for the questions near a tie, which converge slowly
        assert abs(acc[-1] - top) < 0.03


def test_majority_vote_law_recovers_simulated_curves(votes):
    losses, tab, fit = votes
    q = fit.params
    pred = _mv_numpy(q, tab["loss"], tab["samples"])
    # the law is not the simulator's model: it must track the curves within 0.035 accuracy
    # (measured 0.022) and the plateau and pass@1 of every model within 0.05 / 0.02
    assert np.max(np.abs(pred - tab["accuracy"])) < 0.035
    for L in losses:
        m = tab["loss"] == L
        assert abs(_mv_numpy(q, L, 1e12) - tab["plateau"][m][0]) < 0.05
        assert abs(_mv_numpy(q, L, 1.0) - tab["pass1"][m][0]) < 0.02
    model = MajorityVoteAccuracyModel.from_fit(fit)
    Lg, kg = np.linspace(1.9, 3.3, 8)[:, None], np.array([1.0, 5.0, 100.0])[None, :]
    np.testing.assert_allclose(model(Lg, kg), _mv_numpy(q, Lg, kg), rtol=1e-10)
    assert np.all(np.diff(model(np.linspace(1.4, 3.8, 60)[:, None], kg), axis=0) <= 1e-12)
    assert "monotone in loss checked" in model.notes[0]


def test_majority_vote_law_exact_recovery(votes):
    # the simulated table's shape (7 models x 9 k), so the fit reuses the compiled solver
    truth = {"slope_inf": 4.0, "L_inf": 2.6, "slope_1": 2.5, "L_1": 2.3, "rho": 0.6, "rho_slope": -0.5}
    _, tab, _ = votes
    runs = {k: tab[k] for k in ("model", "loss", "samples")}
    runs["accuracy"] = _mv_numpy(truth, tab["loss"], tab["samples"])
    fit = sl.fit(MajorityVote(), runs, objective=sl.LeastSquares())
    for n, v in truth.items():  # noise-free data: recovered to the solver's tolerance
        assert fit.params[n] == pytest.approx(v, rel=1e-5)


def test_majority_vote_model_rejects_a_law_that_rises_with_loss():
    # plateau below pass@1 (voting hurts) and a rate that falls fast with loss: at high loss
    # the vote stays near pass@1 longer, so accuracy rises with loss for some k
    q = {"slope_inf": 6.0, "L_inf": 2.0, "slope_1": 3.0, "L_1": 2.6, "rho": 1.0, "rho_slope": -6.0}
    L = np.linspace(1.8, 3.0, 200)
    assert np.any(np.diff(_mv_numpy(q, L, 64.0)) > 1e-6)  # it does rise (independent check)
    with pytest.raises(LawError, match="rises with loss"):
        MajorityVoteAccuracyModel(MajorityVote(), q)
    with pytest.raises(LawError, match="no rho_slope"):  # not dropped silently
        MajorityVoteAccuracyModel(MajorityVote(constant_rate=True), q)
    ok = MajorityVoteAccuracyModel(MajorityVote(constant_rate=True), {k: v for k, v in q.items() if k != "rho_slope"})
    assert np.all(np.diff(ok(L, 64.0)) <= 1e-12)
    class NotAVoteFit:  # duck-typed like a Fit of another law
        law, internal = sl.laws.SigmoidLink(), {"ceiling": 1.0, "floor_share": 0.0, "k": -6.0, "L0": 2.3}

    with pytest.raises(LawError, match="majority_vote"):
        MajorityVoteAccuracyModel.from_fit(NotAVoteFit())


def test_majority_vote_model_in_best_config():
    q = {"slope_inf": 4.0, "L_inf": 2.6, "slope_1": 2.5, "L_1": 2.3, "rho": 0.6, "rho_slope": 0.0}
    m = MajorityVoteAccuracyModel(MajorityVote(), q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = best_config(Chinchilla(), params=HOFFMANN, accuracy_model=m, total_flops=1e23, queries=1e9,
                        tokens_per_sample=100.0)
    assert c.accuracy == pytest.approx(float(_mv_numpy(q, c.loss, c.samples)), rel=1e-10)
    assert c.accuracy < float(_mv_numpy(q, c.loss, 1e12))  # below the plateau at that loss


# -- the verifier's rates from logs ------------------------------------------------------

def test_fit_verifier_recovers_rates_from_simulated_logs():
    rng = np.random.default_rng(5)
    n = 40_000
    correct = rng.random(n) < 0.3
    accepted = rng.random(n) < np.where(correct, 0.85, 0.12)
    r = fit_verifier({"correct": correct.astype(float), "accepted": accepted.astype(float)})
    n1 = int(correct.sum())
    # the estimates are the class-wise shares (numpy), and within 4 s.e. of the true rates
    assert r.tpr == pytest.approx(accepted[correct].mean(), rel=1e-12) and r.n_correct == n1
    assert r.fpr == pytest.approx(accepted[~correct].mean(), rel=1e-12) and r.n_wrong == n - n1
    assert abs(r.tpr - 0.85) < 4 * math.sqrt(0.85 * 0.15 / n1)
    assert abs(r.fpr - 0.12) < 4 * math.sqrt(0.12 * 0.88 / (n - n1))
    m = r.model(LINK)
    assert (m.tpr, m.fpr) == (r.tpr, r.fpr) and "tpr" in r.report()
    with pytest.raises(sl.DataError, match="row 2: value 0.5 is not 0 or 1"):
        fit_verifier(correct=[1, 0, 0.5], accepted=[1, 0, 1])
    with pytest.raises(sl.DataError, match="no wrong sample"):
        fit_verifier(correct=[1, 1], accepted=[1, 0])
    with pytest.raises(sl.DataError, match="length 3"):
        fit_verifier(correct=[1, 0, 1], accepted=[1, 0])
    with pytest.warns(UserWarning, match="only 2 correct samples"):
        fit_verifier(correct=[1, 1] + [0] * 40, accepted=[1, 0] + [0] * 40)
