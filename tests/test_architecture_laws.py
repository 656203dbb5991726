"""Architecture-aware loss laws: ArchitectureConditional (Bian et al. 2025b), AspectRatio (Bian et al.
2025a) and ParallelScaling (Chen et al. 2025, ParScale). REFERENCE.md sections 8, 15.4, 15.5.

Every dataset is written out in numpy here, independently of the laws' JAX code.
Tolerances (measured before they were set):
- noiseless recoveries: measured max relative parameter error 2e-15 (multiplicative, b0 fixed),
  5e-15 (additive), 2.3e-14 (AspectRatio), 1.6e-15 (ParallelScaling); asserted 1e-6 (headroom for
  other BLAS/CPU orderings and solver stopping, far below any modelling difference);
- noisy (1%) recovery: see test_noisy_recovery_of_predictions (slow);
- closed-form optima against scipy's bounded scalar minimiser of the law's own predict: the
  minimiser is run to xatol 1e-12, agreement asserted to rel 1e-6;
- published optima: to the 3 decimals printed in the paper.
"""

from __future__ import annotations

import math
import types
import warnings

import numpy as np
import pytest
from scipy import optimize

import scalinglaws as sl
from scalinglaws.errors import DataError, LawError
from scalinglaws.laws import ArchitectureConditional, AspectRatio, ParallelScaling, law_from_name

PUBLISHED = {"a0": 2.697, "a1": 0.0974, "a2": 0.0078, "b0": 0.3870, "b1": 0.0063, "b2": 0.0065}
REFIT_1B = {"a0": 2.319, "a1": 0.238, "a2": 0.0176, "b0": 0.5104, "b1": 0.0051, "b2": 0.0062}
HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def np_chinchilla(q, N, D):
    return q["E"] + q["A"] / N ** q["alpha"] + q["B"] / D ** q["beta"]


def np_conditional(q, x, r, ref, form):
    fx = q["a0"] + q["a1"] * np.log(x) + q["a2"] / x
    if form == "multiplicative":
        return fx * (q["b0"] + q["b1"] * np.log(r) + q["b2"] / r) * ref
    return fx + (q["b1"] * np.log(r) + q["b2"] / r) + ref


def shapes(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = np.exp(rng.uniform(np.log(0.03), np.log(0.25), n))  # d/sqrt(N) around Bian's 0.08
    r = np.exp(rng.uniform(np.log(0.5), np.log(5.0), n))  # Bian keep 0.5 <= r <= 5
    N = np.exp(rng.uniform(np.log(8e7), np.log(1e9), n))
    D = 100.0 * N  # Bian train on 100 N tokens
    return x, r, N, D


def quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return f(*a, **k)


def rel(a, b):
    return abs(a - b) / abs(b)


# ---- optimal_shape ------------------------------------------------------------------------------

def test_published_optimal_shape_three_decimals():
    law = ArchitectureConditional()
    s = law.optimal_shape(PUBLISHED)
    assert round(s["d_over_sqrt_n"], 3) == 0.080 and round(s["mlp_attention_ratio"], 3) == 1.032
    assert math.isclose(s["d_over_sqrt_n"], 0.0078 / 0.0974, rel_tol=1e-12)
    s = law.optimal_shape(REFIT_1B)
    assert round(s["d_over_sqrt_n"], 3) == 0.074
    # b2/b1 = 0.0062/0.0051 = 1.2157 -> 1.22, not the paper's 1.229 (1.23): the printed b1, b2 have
    # two significant digits, and 1.229 lies inside the ratio's rounding interval
    assert math.isclose(s["mlp_attention_ratio"], 0.0062 / 0.0051, rel_tol=1e-12)
    assert round(s["mlp_attention_ratio"], 2) == 1.22
    assert 0.00615 / 0.00515 < 1.229 < 0.00625 / 0.00505


@pytest.mark.parametrize("q", [PUBLISHED, REFIT_1B])
def test_optimal_shape_matches_numerical_minimum_of_predict(q):
    law = ArchitectureConditional()
    s = law.optimal_shape(q)
    p = law.from_public(q)

    def loss(x, r):
        X = {"d_over_sqrt_n": np.array([x]), "mlp_attention_ratio": np.array([r]), "reference_loss": np.array([2.8])}
        return float(law.predict(p, X)[0])

    mx = optimize.minimize_scalar(lambda x: loss(x, 1.0), bounds=(0.005, 2.0), method="bounded",
                                  options={"xatol": 1e-12})
    mr = optimize.minimize_scalar(lambda r: loss(0.08, r), bounds=(0.1, 10.0), method="bounded",
                                  options={"xatol": 1e-12})
    assert rel(mx.x, s["d_over_sqrt_n"]) < 1e-6
    assert rel(mr.x, s["mlp_attention_ratio"]) < 1e-6
    # the published optimum of each factor is a minimum: second derivative c1 (-1/x^2) + 2 c2/x^3 > 0
    for c1, c2, x in ((q["a1"], q["a2"], s["d_over_sqrt_n"]), (q["b1"], q["b2"], s["mlp_attention_ratio"])):
        assert -c1 / x**2 + 2 * c2 / x**3 > 0


def test_optimal_shape_refuses_a_maximum():
    law = ArchitectureConditional()
    flipped = dict(PUBLISHED, a1=-0.0974, a2=-0.0078)  # same stationary point a2/a1, now a maximum
    x = 0.0078 / 0.0974
    assert -flipped["a1"] / x**2 + 2 * flipped["a2"] / x**3 < 0  # numpy: it is a maximum
    with pytest.raises(LawError, match="a1") as e:
        law.optimal_shape(flipped)
    assert e.value.rule == "no minimum"
    with pytest.raises(LawError, match="b1"):
        law.optimal_shape(dict(PUBLISHED, b1=0.0))
    with pytest.raises(LawError, match="b2"):
        law.optimal_shape(dict(PUBLISHED, b2=-0.001))
    # a negative ratio factor turns the shape factor's minimum into a maximum of L
    with pytest.raises(LawError, match="ratio factor"):
        law.optimal_shape(dict(PUBLISHED, b0=-1.0))
    # additive: the factors add, their signs do not interact
    s = ArchitectureConditional(form="additive").optimal_shape({k: v for k, v in PUBLISHED.items() if k != "b0"})
    assert math.isclose(s["mlp_attention_ratio"], 0.0065 / 0.0063, rel_tol=1e-12)


# ---- recovery -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def additive_fit():
    x, r, N, D = shapes()
    ref = np_chinchilla(HOFFMANN, N, D)
    truth = {k: v for k, v in REFIT_1B.items() if k != "b0"}
    truth["a0"] = -0.5  # additive: a0 is an offset near zero
    y = np_conditional(truth, x, r, ref, "additive")
    law = ArchitectureConditional(form="additive")
    fit = quiet(sl.fit, law, {"d_over_sqrt_n": x, "mlp_attention_ratio": r, "reference_loss": ref, "loss": y})
    return fit, truth


def test_additive_noiseless_recovery(additive_fit):
    fit, truth = additive_fit
    for k, v in truth.items():
        assert rel(fit.params[k], v) < 1e-6, (k, fit.params[k], v)


def test_multiplicative_noiseless_recovery_and_scale_degeneracy():
    x, r, N, D = shapes(seed=1)
    ref = np_chinchilla(HOFFMANN, N, D)
    y = np_conditional(PUBLISHED, x, r, ref, "multiplicative")
    law = ArchitectureConditional()
    data = {"d_over_sqrt_n": x, "mlp_attention_ratio": r, "reference_loss": ref, "loss": y}
    fit = quiet(sl.fit, law, data, fixed={"b0": PUBLISHED["b0"]})  # one scale fixed: all six identified
    for k, v in PUBLISHED.items():
        assert rel(fit.params[k], v) < 1e-6, (k, fit.params[k], v)
    free = quiet(sl.fit, law, data)  # free: the products a_i b0 and ratios b_j/b0 are identified
    c = free.params["b0"] / PUBLISHED["b0"]
    for k in ("a0", "a1", "a2"):
        assert rel(free.params[k] * c, PUBLISHED[k]) < 1e-6
    for k in ("b1", "b2"):
        assert rel(free.params[k] / c, PUBLISHED[k]) < 1e-6
    s = law.optimal_shape(free.params)
    assert rel(s["d_over_sqrt_n"], 0.0078 / 0.0974) < 1e-6 and rel(s["mlp_attention_ratio"], 0.0065 / 0.0063) < 1e-6


def test_reference_from_chinchilla_params_equals_reference_column():
    x, r, N, D = shapes(n=10, seed=2)
    col = ArchitectureConditional()
    inline = ArchitectureConditional(reference=HOFFMANN)
    assert inline.inputs == ("d_over_sqrt_n", "mlp_attention_ratio", "params", "tokens")
    assert col.inputs == ("d_over_sqrt_n", "mlp_attention_ratio", "reference_loss")
    expect = np_conditional(PUBLISHED, x, r, np_chinchilla(HOFFMANN, N, D), "multiplicative")
    got = np.asarray(inline.predict(PUBLISHED, {"d_over_sqrt_n": x, "mlp_attention_ratio": r, "params": N,
                                                "tokens": D}))
    np.testing.assert_allclose(got, expect, rtol=1e-12)  # float64 rounding only
    # a Fit of Chinchilla is accepted (its public parameters are copied); another law's is not
    ND = np.meshgrid(np.geomspace(1e8, 1e10, 5), np.geomspace(1e9, 1e12, 5), indexing="ij")
    Nc, Dc = (a.ravel() for a in ND)
    ch = sl.laws.Chinchilla()
    start = np.array([[np.log(400.0), np.log(400.0), np.log(1.7), 0.3, 0.3]])  # near the truth, one start
    ref_fit = quiet(sl.fit, ch, {"params": Nc, "tokens": Dc, "loss": np_chinchilla(HOFFMANN, Nc, Dc)}, starts=start)
    from_fit = ArchitectureConditional(reference=ref_fit)
    assert from_fit.reference_params == ref_fit.params
    for k, v in HOFFMANN.items():
        assert rel(from_fit.reference_params[k], v) < 1e-6
    with pytest.raises(LawError, match="chinchilla"):
        ArchitectureConditional(reference=types.SimpleNamespace(law=sl.laws.Kaplan(), params={}))
    with pytest.raises(LawError, match="beta"):
        ArchitectureConditional(reference={k: v for k, v in HOFFMANN.items() if k != "beta"})


def test_aspect_ratio_noiseless_recovery():
    # Bian 2025a's coefficients (REFERENCE.md 15.5), with alpha, beta, gamma untied
    X, y = aspect_design()
    fit = quiet(sl.fit, AspectRatio(), dict(X, loss=y))
    for k, v in ASPECT_TRUTH.items():
        assert rel(fit.params[k], v) < 1e-6, (k, fit.params[k], v)


def test_aspect_ratio_from_shape_columns():
    X, _ = aspect_design()
    d_model = np.full(len(X["params"]), 2048.0)
    n_layers = d_model / X["aspect_ratio"]
    p = AspectRatio().from_public(ASPECT_TRUTH)
    a = np.asarray(AspectRatio().predict(p, X))
    b = np.asarray(AspectRatio(from_shape=True).predict(
        p, {"params": X["params"], "tokens": X["tokens"], "hidden_size": d_model, "n_layers": n_layers}))
    np.testing.assert_allclose(b, a, rtol=1e-13)  # log(d) - log(n) against log(d/n): rounding only
    assert AspectRatio(from_shape=True).inputs == ("params", "tokens", "hidden_size", "n_layers")
    assert law_from_name("aspect_ratio", **AspectRatio(from_shape=True).config()) == AspectRatio(from_shape=True)


PARSCALE_STACK = {"E": 0.6912, "A": 0.011306, "alpha": 0.18937, "k": 0.3935}


def test_parallel_scaling_published_equivalence():
    # REFERENCE.md 15.4: 2.8B at P = 4 gives loss 1.01548, as 4.33B at P = 1 (Stack-V2-Python)
    law = ParallelScaling()
    p = law.from_public(PARSCALE_STACK)
    L = np.asarray(law.predict(p, {"params": np.array([2.8e9, 4.33e9]), "parallel_streams": np.array([4.0, 1.0])}))
    q = PARSCALE_STACK
    by_hand = (q["A"] * 1e9 / (2.8e9 * (q["k"] * np.log(4.0) + 1))) ** q["alpha"] + q["E"]
    assert math.isclose(L[0], by_hand, rel_tol=1e-12)
    # the table's coefficients have 4-5 significant digits and "4.33B" is rounded: measured
    # |L - 1.01548| = 3.6e-5 (2.8B, P=4) and 7.2e-5 (4.33B, P=1); asserted to 1e-4
    assert abs(L[0] - 1.01548) < 1e-4 and abs(L[1] - 1.01548) < 1e-4
    # P = 4 streams act exactly as N (k ln 4 + 1) parameters at P = 1
    same = np.asarray(law.predict(p, {"params": np.array([2.8e9 * (q["k"] * np.log(4.0) + 1)]),
                                      "parallel_streams": np.array([1.0])}))
    assert math.isclose(same[0], L[0], rel_tol=1e-12)


def test_parallel_scaling_noiseless_recovery():
    q = PARSCALE_STACK
    N = np.repeat(np.geomspace(5.4e8, 4.4e9, 6), 4)
    P = np.tile([1.0, 2.0, 4.0, 8.0], 6)
    y = (q["A"] * 1e9 / (N * (q["k"] * np.log(P) + 1))) ** q["alpha"] + q["E"]
    fit = quiet(sl.fit, ParallelScaling(), {"params": N, "parallel_streams": P, "loss": y})
    for k, v in q.items():
        assert rel(fit.params[k], v) < 1e-6, (k, fit.params[k], v)


ASPECT_TRUTH = {"E": 2.4475, "A": 5.475e4, "B": 7.783e5, "alpha": 0.6146, "beta": 0.58, "eps": 1.146e-3,
                "gamma": 0.7}


def aspect_design():
    rng = np.random.default_rng(3)
    n, t = 60, ASPECT_TRUTH
    N = np.exp(rng.uniform(np.log(8e7), np.log(1e9), n))
    D = N * np.exp(rng.uniform(np.log(10.0), np.log(200.0), n))
    R = np.exp(rng.uniform(np.log(16.0), np.log(512.0), n))
    y = (t["E"] + t["A"] / N ** t["alpha"] + t["B"] / D ** t["beta"]) * (1.0 + t["eps"] * R ** t["gamma"])
    return {"params": N, "tokens": D, "aspect_ratio": R}, y


@pytest.mark.slow
@pytest.mark.parametrize("which", ["multiplicative", "parallel_scaling", "aspect_ratio"])
def test_noisy_recovery_of_predictions(which):
    """1% multiplicative Gaussian noise. The single parameters are NOT identified at this noise on
    these designs (measured over seeds 0-3: multiplicative b1, b2 off by 10-57% with b0 fixed;
    ParScale A off by 12-61%; AspectRatio A off by 91-786% over seeds 0-2), so the assertions are on what is:
    the fitted loss against the noiseless truth at the design points (max relative error over
    seeds 0-3: multiplicative 0.54%, ParScale 1.09%, AspectRatio 1.44%; asserted 1%, 2%, 2.5%)
    and, for Bian's law, the optimal shape (d/sqrt(N) within 5.4%, r within 17%; asserted 10%, 30%)."""
    seed = 0
    if which == "multiplicative":
        x, r, N, D = shapes(n=200, seed=10 + seed)
        ref = np_chinchilla(HOFFMANN, N, D)
        X, y0 = ({"d_over_sqrt_n": x, "mlp_attention_ratio": r, "reference_loss": ref},
                 np_conditional(PUBLISHED, x, r, ref, "multiplicative"))
        law, tol = ArchitectureConditional(), 0.01
    elif which == "parallel_scaling":
        q = PARSCALE_STACK
        N, P = np.repeat(np.geomspace(5.4e8, 4.4e9, 6), 4), np.tile([1.0, 2.0, 4.0, 8.0], 6)
        X, y0 = {"params": N, "parallel_streams": P}, (q["A"] * 1e9 / (N * (q["k"] * np.log(P) + 1))) ** q["alpha"] + q["E"]
        law, tol = ParallelScaling(), 0.02
    else:
        X, y0 = aspect_design()
        law, tol = AspectRatio(), 0.025
        seed = 100
    y = y0 * (1 + 0.01 * np.random.default_rng(seed).standard_normal(len(y0)))
    fit = quiet(sl.fit, law, dict(X, loss=y))
    pred = np.asarray(law.predict(fit.internal, X))
    assert np.max(np.abs(pred / y0 - 1)) < tol
    if which == "multiplicative":
        s = law.optimal_shape(fit.params)
        assert rel(s["d_over_sqrt_n"], 0.0078 / 0.0974) < 0.10
        assert rel(s["mlp_attention_ratio"], 0.0065 / 0.0063) < 0.30


# ---- bad input ----------------------------------------------------------------------------------

def test_bad_input():
    with pytest.raises(LawError, match="unknown form 'product'") as e:
        ArchitectureConditional(form="product")
    assert e.value.rule == "unknown form"
    x, r, N, D = shapes(n=8, seed=4)
    ref = np_chinchilla(HOFFMANN, N, D)
    y = np_conditional(PUBLISHED, x, r, ref, "multiplicative")
    law = ArchitectureConditional()
    with pytest.raises(LawError, match="reference_loss") as e:
        sl.fit(law, {"d_over_sqrt_n": x, "mlp_attention_ratio": r, "loss": y})
    assert e.value.column == "reference_loss"
    for col, bad in (("d_over_sqrt_n", 0.0), ("mlp_attention_ratio", -1.0), ("reference_loss", 0.0)):
        data = {"d_over_sqrt_n": x.copy(), "mlp_attention_ratio": r.copy(), "reference_loss": ref.copy(), "loss": y}
        data[col][3] = bad
        with pytest.raises(DataError, match="not positive") as e:
            sl.fit(law, data)
        assert e.value.column == col and e.value.row == 3
    with pytest.raises(DataError, match="below 1") as e:
        sl.fit(ParallelScaling(), {"params": N, "parallel_streams": np.full(8, 0.5), "loss": y})
    assert e.value.column == "parallel_streams"
    with pytest.raises(LawError, match="eps"):
        AspectRatio().from_public({"E": 2.0, "A": 1.0, "B": 1.0, "alpha": 0.5, "beta": 0.5, "eps": 0.0, "gamma": 1})


# ---- registry and persistence -------------------------------------------------------------------

def test_law_from_name_and_fit_round_trip(additive_fit, tmp_path):
    law = law_from_name("architecture_conditional", form="additive")
    assert law == ArchitectureConditional(form="additive") and law.param_names == ("a0", "a1", "a2", "b1", "b2")
    assert law_from_name("aspect_ratio") == AspectRatio() and law_from_name("parallel_scaling") == ParallelScaling()
    inline = ArchitectureConditional(reference=HOFFMANN)
    assert law_from_name(inline.name, **inline.config()) == inline
    fit, _ = additive_fit
    back = sl.load_fit(fit.save(tmp_path / "fit.json"))
    assert back.law == fit.law and back.law.form == "additive"
    assert back.params == pytest.approx(fit.params, rel=1e-15)  # JSON floats round-trip exactly (repr)
