"""Laws against independent expressions written here from the papers' equations.

Nothing below calls a law's own helpers to build the expected value: every expected
number comes from the formula as printed in the paper, in plain Python/numpy floats,
and every optimum from scipy (or a closed form derived here) on that formula.

- Muennighoff et al. 2023 (data-constrained), REFERENCE.md section 9:
  U_D = unique tokens seen, R_D = D/U_D - 1, D' = U_D + U_D R_D* (1 - exp(-R_D/R_D*));
  U_N = min(N, N_opt(U_D)), R_N = N/U_N - 1, N' = U_N + U_N R_N* (1 - exp(-R_N/R_N*));
  L = E + A/N'^alpha + B/D'^beta.
- Gadre et al. 2024 (over-training), REFERENCE.md section 10a:
  L = E + (a M^eta + b M^-eta) C^-eta, C = 6ND, M = D/N.
- Kaplan et al. 2020, eq. 1.5 with the Table 2 constants: L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D.

Tolerances (each stated again where used):
- formula vs law, pointwise: rtol 1e-12. Both evaluate the same closed expression in
  float64 along different paths (log-sum-exp in JAX vs direct powers here); each path is
  accurate to ~1e-15 relative times the size of log N (~25), so ~1e-13 at worst.
- optima: scipy's bounded Brent (minimize_scalar, xatol 1e-12 in u = log N) cannot locate
  a minimum better than where the loss is flat to rounding, |du| ~ w = sqrt(2 eps L / L''(u))
  (L'' by a central difference here): w ~ 1e-7 at most budgets, up to 7e-5 for a pool
  repeated ~270 times, where the loss hardly depends on D. So log N* is compared within
  10 w (measured: at most 1.4 w), and the minimum loss (flat: second order in du) to rtol 1e-12.
  Where an optimum has a closed form derived here, the library's numeric path (bisection on
  dL/dlogN, 200 halvings: to rounding) is compared to it at rtol 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import scalinglaws as sl

# Muennighoff et al. 2023 fitted values (R_D*, R_N* in REFERENCE.md section 9; E, A, B,
# alpha, beta as refitted in their paper)
MUENNIGHOFF = {"E": 1.87, "A": 521.0, "B": 1488.0, "alpha": 0.353, "beta": 0.353, "R_D": 15.39, "R_N": 5.31}
# Kaplan et al. 2020, Table 2 (use this set together)
KAPLAN = {"N_c": 6.4e13, "D_c": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}
# an over-training law of plausible size (loss ~2-3 nats at 1e19-1e23 FLOPs)
OVERTRAIN = {"E": 1.6, "a": 120.0, "b": 900.0, "eta": 0.15}

FORMULA_RTOL = 1e-12  # see the module docstring
FLAT_FACTOR = 10.0  # log N* within FLAT_FACTOR * w of scipy's, w the flatness width (docstring)
SCIPY_LOSS_RTOL = 1e-12
CLOSED_RTOL = 1e-9


# --------------------------------------------------------------------------- formulas, from the papers
def chinchilla_allocation(C, q):
    """Hoffmann et al.: N* = G (C/6)^(beta/(alpha+beta)), D* = G^-1 (C/6)^(alpha/(alpha+beta))."""
    G = (q["alpha"] * q["A"] / (q["beta"] * q["B"])) ** (1.0 / (q["alpha"] + q["beta"]))
    c6 = C / 6.0
    return G * c6 ** (q["beta"] / (q["alpha"] + q["beta"])), c6 ** (q["alpha"] / (q["alpha"] + q["beta"])) / G


def n_opt_for_data(U_D, q):
    """The compute-optimal N whose compute-optimal D is U_D: solve D*(C) = U_D for C, take N*(C)."""
    G = (q["alpha"] * q["A"] / (q["beta"] * q["B"])) ** (1.0 / (q["alpha"] + q["beta"]))
    c6 = (G * U_D) ** ((q["alpha"] + q["beta"]) / q["alpha"])
    return chinchilla_allocation(6.0 * c6, q)[0]


def dc_effective(N, D, U, q, tokens_per_param=None):
    U_D = min(U, D)  # unique data actually seen
    R_D = D / U_D - 1.0
    D_eff = U_D + U_D * q["R_D"] * (1.0 - math.exp(-R_D / q["R_D"]))
    n_opt = n_opt_for_data(U_D, q) if tokens_per_param is None else U_D / tokens_per_param
    U_N = min(N, n_opt)
    R_N = N / U_N - 1.0
    N_eff = U_N + U_N * q["R_N"] * (1.0 - math.exp(-R_N / q["R_N"]))
    return N_eff, D_eff


def dc_loss(N, D, U, q):
    N_eff, D_eff = dc_effective(N, D, U, q)
    return q["E"] + q["A"] / N_eff ** q["alpha"] + q["B"] / D_eff ** q["beta"]


def overtrain_loss(N, D, q):
    C, M = 6.0 * N * D, D / N
    return q["E"] + (q["a"] * M ** q["eta"] + q["b"] * M ** -q["eta"]) * C ** -q["eta"]


def kaplan_loss(N, D, q):
    return ((q["N_c"] / N) ** (q["alpha_N"] / q["alpha_D"]) + q["D_c"] / D) ** q["alpha_D"]


def scipy_optimum(loss, C, lo=1.0, hi=None):
    """argmin over u = log N of loss(N, C/(6N)), by bounded Brent (xatol 1e-12 in u)."""
    c6 = C / 6.0
    hi = c6 if hi is None else hi
    res = minimize_scalar(lambda u: loss(math.exp(u), c6 / math.exp(u)), bounds=(math.log(lo), math.log(hi)),
                          method="bounded", options={"xatol": 1e-12, "maxiter": 2000})
    assert res.success
    N = math.exp(res.x)
    return N, c6 / N, float(res.fun)


# --------------------------------------------------------------------------- the law's side
def law_eval(law, public, **X):
    # numpy float64 in: the law's methods compute in float64 whatever the caller's JAX precision
    p = {k: np.asarray(v, dtype=np.float64) for k, v in law.from_public(public).items()}
    Xj = {k: np.asarray(v, dtype=np.float64) for k, v in X.items()}
    return p, Xj


# --------------------------------------------------------------------------- DataConstrained: D', N', L
DC_POINTS = [
    # (N, D, U): with repetition (D = 4 U), without (D = U), and stopping early (D < U)
    pytest.param(1e8, 4e9, 1e9, id="4-epochs-small-N"),
    pytest.param(3e9, 4e9, 1e9, id="4-epochs-excess-N"),
    pytest.param(2e8, 2e9, 2e9, id="1-epoch"),
    pytest.param(5e9, 2e9, 2e9, id="1-epoch-excess-N"),
    pytest.param(1e8, 1e9, 1e12, id="stops-early"),
    pytest.param(4e9, 1e10, 1e13, id="stops-early-excess-N"),
]


@pytest.mark.parametrize("N,D,U", DC_POINTS)
def test_data_constrained_effective_data_and_params(N, D, U):
    law = sl.laws.DataConstrained()
    p, X = law_eval(law, MUENNIGHOFF, params=[N], tokens=[D], unique_tokens=[U])
    N_eff, D_eff = (float(np.asarray(v)[0]) for v in law.effective(p, X))
    want_N, want_D = dc_effective(N, D, U, MUENNIGHOFF)
    assert D_eff == pytest.approx(want_D, rel=FORMULA_RTOL)  # rtol 1e-12: see the module docstring
    assert N_eff == pytest.approx(want_N, rel=FORMULA_RTOL)
    # never more effective data than tokens seen, nor more effective parameters than parameters
    assert D_eff <= D * (1 + 1e-15) and N_eff <= N * (1 + 1e-15)


def test_data_constrained_effective_data_regimes():
    """The three regimes by hand: D' = D when nothing repeats; 4 epochs ~ 3.73 passes
    (published rule of thumb, REFERENCE.md section 9); the pool never counts beyond what was seen."""
    q = MUENNIGHOFF
    assert dc_effective(1e8, 1e9, 1e9, q)[1] == 1e9  # exact: R_D = 0 gives U_D (1 + R_D* * 0)
    assert dc_effective(1e8, 1e9, 1e12, q)[1] == 1e9
    assert dc_effective(1e8, 4e9, 1e9, q)[1] / 1e9 == pytest.approx(3.73, abs=0.005)
    law = sl.laws.DataConstrained()
    p, X = law_eval(law, q, params=[1e8, 1e8], tokens=[1e9, 1e9], unique_tokens=[1e9, 1e15])
    _, D_eff = law.effective(p, X)
    np.testing.assert_allclose(np.asarray(D_eff), [1e9, 1e9], rtol=FORMULA_RTOL)


@pytest.mark.parametrize("N,D,U", DC_POINTS)
def test_data_constrained_loss_value(N, D, U):
    law = sl.laws.DataConstrained()
    p, X = law_eval(law, MUENNIGHOFF, params=[N], tokens=[D], unique_tokens=[U])
    got = float(np.asarray(law.predict(p, X))[0])
    assert got == pytest.approx(dc_loss(N, D, U, MUENNIGHOFF), rel=FORMULA_RTOL)


def test_data_constrained_fixed_ratio_option():
    """tokens_per_param=20: N_opt(U_D) = U_D / 20 instead of the law's own allocation."""
    law = sl.laws.DataConstrained(tokens_per_param=20.0)
    N, D, U = 3e9, 4e9, 1e9
    p, X = law_eval(law, MUENNIGHOFF, params=[N], tokens=[D], unique_tokens=[U])
    N_eff, D_eff = (float(np.asarray(v)[0]) for v in law.effective(p, X))
    want_N, want_D = dc_effective(N, D, U, MUENNIGHOFF, tokens_per_param=20.0)
    assert (N_eff, D_eff) == (pytest.approx(want_N, rel=FORMULA_RTOL), pytest.approx(want_D, rel=FORMULA_RTOL))
    assert sl.laws.law_from_name("data_constrained", **law.config()) == law


# --------------------------------------------------------------------------- OverTrain: L
@pytest.mark.parametrize("N,D", [(1e8, 2e9), (1e9, 2e10), (1e9, 3.2e11), (7e9, 1.4e11), (4e8, 1e13)])
def test_overtrain_loss_value(N, D):
    law = sl.laws.OverTrain()
    p, X = law_eval(law, OVERTRAIN, params=[N], tokens=[D])
    got = float(np.asarray(law.predict(p, X))[0])
    assert got == pytest.approx(overtrain_loss(N, D, OVERTRAIN), rel=FORMULA_RTOL)


def test_kaplan_loss_value():
    law = sl.laws.Kaplan()
    N, D = np.array([1e7, 1e9, 1e11]), np.array([1e9, 2e10, 1e12])
    p, X = law_eval(law, KAPLAN, params=N, tokens=D)
    want = [kaplan_loss(n, d, KAPLAN) for n, d in zip(N, D)]
    np.testing.assert_allclose(np.asarray(law.predict(p, X)), want, rtol=FORMULA_RTOL)


# --------------------------------------------------------------------------- compute-optimal
BUDGETS = np.array([1e19, 1e21, 1e23])


def flatness_width(loss, C, N):
    """w = sqrt(2 eps L / L''(u)), u = log N along N D = C/6: how far from the minimum the loss
    stays equal to rounding, hence the best any minimiser of the loss values can do."""
    c6, u, h = C / 6.0, math.log(N), 1e-3
    f = lambda v: loss(math.exp(v), c6 / math.exp(v))  # noqa: E731
    curvature = (f(u + h) - 2.0 * f(u) + f(u - h)) / h ** 2
    assert curvature > 0
    return math.sqrt(2.0 * np.finfo(np.float64).eps * f(u) / curvature)


def _check_against_scipy(alloc, loss, C):
    for c, n, d, lv in zip(C, alloc.params, alloc.tokens, alloc.loss):
        n_ref, d_ref, l_ref = scipy_optimum(loss, c)
        w = flatness_width(loss, c, n_ref)
        assert abs(math.log(n / n_ref)) <= FLAT_FACTOR * w, (c, n, n_ref, w)  # see the docstring
        assert 6.0 * n * d == pytest.approx(c, rel=1e-12)  # on the budget line
        assert lv == pytest.approx(l_ref, rel=SCIPY_LOSS_RTOL)
        # the library's point is at least as good as scipy's, by the test's own formula
        assert loss(n, d) <= l_ref * (1 + 1e-13)


def test_kaplan_compute_optimal_numeric():
    law = sl.laws.Kaplan()
    a = sl.compute_optimal(law, flops=BUDGETS, params=KAPLAN)
    assert a.method == "numeric"
    _check_against_scipy(a, lambda n, d: kaplan_loss(n, d, KAPLAN), BUDGETS)
    # and a closed form derived here: d log L / d log N = 0 along N D = C/6 gives
    # D_c/D = r (N_c/N)^r, r = alpha_N/alpha_D, so N* = (r N_c^r (C/6) / D_c)^(1/(1+r))
    r = KAPLAN["alpha_N"] / KAPLAN["alpha_D"]
    n_closed = (r * KAPLAN["N_c"] ** r * (BUDGETS / 6.0) / KAPLAN["D_c"]) ** (1.0 / (1.0 + r))
    np.testing.assert_allclose(a.params, n_closed, rtol=CLOSED_RTOL)  # bisection to rounding; pow() chain ~1e-14


def test_overtrain_closed_form_and_numeric_agree():
    law = sl.laws.OverTrain()
    closed = sl.compute_optimal(law, flops=BUDGETS, params=OVERTRAIN)
    numeric = sl.compute_optimal(law, flops=BUDGETS, params=OVERTRAIN, method="numeric")
    assert closed.method == "closed form" and numeric.method == "numeric"
    # dL/dM = 0 at fixed C: a eta M^eta = b eta M^-eta, so M* = (b/a)^(1/(2 eta)) = D*/N*
    m_star = (OVERTRAIN["b"] / OVERTRAIN["a"]) ** (1.0 / (2.0 * OVERTRAIN["eta"]))
    np.testing.assert_allclose(closed.tokens_per_param, m_star, rtol=1e-12)
    np.testing.assert_allclose(closed.params, np.sqrt(BUDGETS / (6.0 * m_star)), rtol=1e-12)
    # the numeric path (bisection on dL/dlogN) lands on the closed form
    np.testing.assert_allclose(numeric.params, closed.params, rtol=CLOSED_RTOL)
    np.testing.assert_allclose(numeric.loss, closed.loss, rtol=1e-12)
    _check_against_scipy(numeric, lambda n, d: overtrain_loss(n, d, OVERTRAIN), BUDGETS)
    _check_against_scipy(closed, lambda n, d: overtrain_loss(n, d, OVERTRAIN), BUDGETS)


def test_data_constrained_large_pool_is_chinchilla():
    """With a unique pool far larger than D*, nothing repeats: the optimum is Chinchilla's
    (same E, A, B, alpha, beta) to relative 1e-6 (the brief's bound; measured ~1e-15)."""
    law = sl.laws.DataConstrained()
    a = sl.compute_optimal(law, flops=BUDGETS, params=MUENNIGHOFF, unique_tokens=1e20)
    n_ch, d_ch = chinchilla_allocation(BUDGETS, MUENNIGHOFF)
    np.testing.assert_allclose(a.params, n_ch, rtol=1e-6)
    np.testing.assert_allclose(a.tokens, d_ch, rtol=1e-6)
    q = MUENNIGHOFF
    np.testing.assert_allclose(a.loss, q["E"] + q["A"] / n_ch ** q["alpha"] + q["B"] / d_ch ** q["beta"], rtol=1e-12)
    # sane: tokens per parameter near Chinchilla's ~20, not N* ~ 1e14 and D* ~ 1e6
    assert np.all((a.tokens_per_param > 10) & (a.tokens_per_param < 40))


@pytest.mark.parametrize("U", [1e9, 1e10, 1e11])
def test_data_constrained_compute_optimal_with_repetition(U):
    """A scarce pool (D* several epochs of U at 1e22 FLOPs): against scipy on the paper's formula."""
    C = np.array([1e21, 1e22])
    a = sl.compute_optimal(sl.laws.DataConstrained(), flops=C, params=MUENNIGHOFF, unique_tokens=U)
    _check_against_scipy(a, lambda n, d: dc_loss(n, d, U, MUENNIGHOFF), C)
    # Muennighoff et al.'s direction (their 1e22-FLOP example: 6.34B params / 242B tokens vs the
    # naive 8.67B / 178B): excess parameters decay faster (R_N* = 5.31) than repeated data
    # (R_D* = 15.39), so a scarce pool calls for a smaller model trained on more (repeated) tokens
    n_ch, d_ch = chinchilla_allocation(C, MUENNIGHOFF)
    assert np.all(a.params <= n_ch * (1 + 1e-9)) and np.all(a.tokens >= d_ch * (1 - 1e-9))
