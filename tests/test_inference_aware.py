"""Inference-aware optimum (Sardana et al. 2024) and its dual, lowest_loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from scalinglaws import compute_optimal
from scalinglaws._jax import jnp
from scalinglaws.errors import LawError
from scalinglaws.laws import Chinchilla, Kaplan
from scalinglaws.optimize.inference_aware import inference_aware_optimum, lowest_loss
from scalinglaws.fitting.result import Fit

# Hoffmann et al. 2022, Approach 3, unrounded (internal parameters)
H = {"a": 6.0073404, "b": 6.0179186, "e": 0.5267228, "alpha": 0.33917084, "beta": 0.2849083}
E = math.exp(H["e"])
LAW = Chinchilla()
KAPLAN = {"N_c": 8.8e13, "D_c": 5.4e13, "alpha_N": 0.076, "alpha_D": 0.095}


def loss(N, D, law=LAW, params=H):
    p = {k: np.asarray(v) for k, v in law.from_public(params).items()}
    return np.asarray(law.predict(p, {"params": np.asarray(N, dtype=np.float64),
                                      "tokens": np.asarray(D, dtype=np.float64)}))


def cost_on_constraint(logN, target, dinf):
    """Total FLOPs along L(N, D) = target, D from the closed form."""
    N = np.exp(logN)
    gap = target - E - math.exp(H["a"]) * N ** -H["alpha"]
    D = (math.exp(H["b"]) / gap) ** (1.0 / H["beta"])
    return 6.0 * N * D + 2.0 * N * dinf


@pytest.mark.parametrize("target", [1.9, 2.0, 2.2, 2.5, 3.0])
def test_zero_inference_is_chinchilla_optimal(target):
    opt = inference_aware_optimum(LAW, target, 0.0, params=H)
    # the training budget whose compute-optimal loss is the target, found independently
    f = lambda lc: compute_optimal(LAW, math.exp(lc), params=H).loss - target  # noqa: E731
    C = math.exp(optimize.brentq(f, math.log(1e15), math.log(1e30), xtol=1e-14, rtol=1e-15))
    ref = compute_optimal(LAW, C, params=H)
    assert opt.params == pytest.approx(ref.params, rel=1e-6)
    assert opt.tokens == pytest.approx(ref.tokens, rel=1e-6)
    assert opt.train_flops == pytest.approx(C, rel=1e-6)
    assert opt.inference_flops == 0.0 and opt.savings == pytest.approx(0.0, abs=1e-12)
    assert opt.chinchilla_params == pytest.approx(opt.params, rel=1e-12)


def test_constraint_holds_at_the_solution():
    dinf = np.geomspace(1e6, 1e17, 45)
    for target in (1.75, 2.0, 2.6):
        opt = inference_aware_optimum(LAW, target, dinf, params=H)
        np.testing.assert_allclose(loss(opt.params, opt.tokens), target, rtol=0, atol=1e-9)
        np.testing.assert_allclose(opt.loss, target, rtol=0, atol=1e-9)
        np.testing.assert_allclose(opt.total_flops, 6 * opt.params * opt.tokens + 2 * opt.params * dinf, rtol=1e-14)


@pytest.mark.parametrize("target,dinf", [(2.0, 2e12), (1.9, 1e14), (2.3, 1e10), (1.8, 1e16)])
def test_solution_is_the_minimum_along_the_constraint(target, dinf):
    opt = inference_aware_optimum(LAW, target, dinf, params=H)
    u_min = math.log((math.exp(H["a"]) / (target - E)) ** (1 / H["alpha"]))  # where D -> infinity
    res = optimize.minimize_scalar(lambda u: math.log(cost_on_constraint(u, target, dinf)),
                                   bounds=(u_min + 1e-9, u_min + 30), method="bounded",
                                   options={"xatol": 1e-10})
    assert math.log(opt.params) == pytest.approx(res.x, abs=1e-4)
    assert opt.total_flops <= cost_on_constraint(res.x, target, dinf) * (1 + 1e-12)
    for eps in (1e-4, -1e-4):
        assert opt.total_flops < cost_on_constraint(math.log(opt.params) + eps, target, dinf)


@settings(max_examples=60, deadline=None)
@given(target=st.floats(E + 0.02, 3.5),
       dinf=st.lists(st.floats(1e3, 1e18), min_size=2, max_size=8, unique=True))
def test_more_inference_means_smaller_longer_trained_models(target, dinf):
    d = np.unique(np.asarray(dinf))
    d = d[np.concatenate([[True], d[1:] / d[:-1] > 1.001])]  # distinct demands
    opt = inference_aware_optimum(LAW, target, np.concatenate([[0.0], d]), params=H)
    assert np.all(np.diff(opt.params) < 0)            # N* falls
    assert np.all(np.diff(opt.tokens_per_param) > 0)  # D_train / N rises
    assert np.all(np.diff(opt.tokens) > 0)            # and D_train itself rises
    assert np.all(opt.savings >= -1e-12)              # never worse than sizing by Chinchilla
    np.testing.assert_allclose(opt.loss, target, atol=1e-9, rtol=0)


def test_broadcasting_and_scalars():
    opt = inference_aware_optimum(LAW, np.array([[2.0], [2.2]]), np.array([0.0, 1e12, 1e14]), params=H)
    assert opt.params.shape == (2, 3)
    one = inference_aware_optimum(LAW, 2.2, 1e12, params=H)
    assert isinstance(one.params, float)
    assert one.params == pytest.approx(opt.params[1, 1], rel=1e-14)
    assert len(opt.rows()) == 6 and "D_inf" in opt.report()


def test_numeric_path_agrees_with_exact_path():
    dinf = np.array([0.0, 1e9, 2e12, 1e15])
    exact = inference_aware_optimum(LAW, 2.0, dinf, params=H)
    num = inference_aware_optimum(LAW, 2.0, dinf, params=H, method="numeric")
    assert num.method == "numeric" and exact.method.startswith("exact")
    np.testing.assert_allclose(num.params, exact.params, rtol=1e-6)
    np.testing.assert_allclose(num.tokens, exact.tokens, rtol=1e-6)


def test_other_laws_numeric_kaplan():
    law = Kaplan()
    opt = inference_aware_optimum(law, 2.5, np.array([0.0, 1e11, 1e13]), params=KAPLAN)
    np.testing.assert_allclose(loss(opt.params, opt.tokens, law, KAPLAN), 2.5, rtol=1e-9)
    assert np.all(np.diff(opt.params) < 0)
    # a local minimum of the total cost along the constraint: perturb N, re-solve D
    for i, d in enumerate([0.0, 1e11, 1e13]):
        def cost(N):  # Kaplan eq. 1.5 solved for D at L = 2.5
            q = KAPLAN
            D = q["D_c"] / (2.5 ** (1 / q["alpha_D"]) - (q["N_c"] / N) ** (q["alpha_N"] / q["alpha_D"]))
            return 6 * N * D + 2 * N * d
        assert opt.total_flops[i] <= cost(opt.params[i] * 1.01) and opt.total_flops[i] <= cost(opt.params[i] / 1.01)


def test_sardana_style_saving_is_positive():
    # 2T inference tokens at a 13B-Chinchilla-like loss: a smaller model trained longer is cheaper
    opt = inference_aware_optimum(LAW, 2.0, 2e12, params=H)
    assert opt.params < opt.chinchilla_params and opt.tokens > opt.chinchilla_tokens
    assert 0 < opt.savings < 0.5
    assert opt.total_flops == pytest.approx(opt.chinchilla_total_flops * (1 - opt.savings), rel=1e-12)


def test_inference_cost_weight_shrinks_the_model_further():
    base = inference_aware_optimum(LAW, 2.0, 1e12, params=H)
    dear = inference_aware_optimum(LAW, 2.0, 1e12, params=H, inference_cost=3.0)
    same = inference_aware_optimum(LAW, 2.0, 3e12, params=H)
    assert dear.params < base.params
    assert dear.params == pytest.approx(same.params, rel=1e-12)
    assert dear.inference_flops == pytest.approx(2 * dear.params * 1e12, rel=1e-14)  # unweighted FLOPs


def test_unreachable_target_is_a_clear_error():
    with pytest.raises(LawError, match="irreducible loss E") as err:
        inference_aware_optimum(LAW, 1.6, 1e12, params=H)
    assert err.value.rule == "unreachable target" and err.value.value == 1.6
    with pytest.raises(LawError, match="irreducible"):
        inference_aware_optimum(LAW, E, 0.0, params=H)


@pytest.mark.parametrize("kw", [dict(target_loss=-1.0, inference_tokens=1e9),
                                dict(target_loss=2.0, inference_tokens=-1.0),
                                dict(target_loss=np.nan, inference_tokens=1e9),
                                dict(target_loss=2.0, inference_tokens="lots")])
def test_bad_inputs(kw):
    with pytest.raises(LawError, match="must be"):
        inference_aware_optimum(LAW, params=H, **kw)


def test_law_without_params_and_bad_method():
    with pytest.raises(LawError, match="params="):
        inference_aware_optimum(LAW, 2.0, 1e9)
    with pytest.raises(LawError, match="method"):
        inference_aware_optimum(LAW, 2.0, 1e9, params=H, method="newton")
    with pytest.raises(LawError, match="expected a Fit or a Law"):
        inference_aware_optimum("chinchilla", 2.0, 1e9)
    with pytest.raises(LawError, match="closed"):
        inference_aware_optimum(Kaplan(), 2.5, 1e9, params=KAPLAN, method="closed")


def _fit(input_range):
    return Fit(law=LAW, objective_spec=None, params=LAW.public(H), internal=dict(H), objective=0.0, n_obs=0,
               n_best_basin=0, basin_rtol=0.0, at_bound=(), fixed=(), data_hash="", input_range=input_range)


def test_accepts_a_fit_and_warns_on_extrapolation():
    fit = _fit({"params": (1e7, 1e9), "tokens": (1e8, 1e11)})
    with pytest.warns(UserWarning, match="extrapolation"):
        opt = inference_aware_optimum(fit, 2.0, 1e12)
    assert opt.warnings and opt.params == pytest.approx(inference_aware_optimum(LAW, 2.0, 1e12, params=H).params)


# -- the dual ---------------------------------------------------------------------------

def test_lowest_loss_is_the_dual():
    dinf = np.array([1e9, 2e12, 1e15])
    opt = inference_aware_optimum(LAW, 2.0, dinf, params=H)
    low = lowest_loss(LAW, opt.total_flops, dinf, params=H)
    np.testing.assert_allclose(low.loss, 2.0, atol=1e-12)
    np.testing.assert_allclose(low.params, opt.params, rtol=1e-7)
    np.testing.assert_allclose(low.tokens, opt.tokens, rtol=1e-7)
    np.testing.assert_allclose(low.total_flops, opt.total_flops, rtol=1e-13)


def test_lowest_loss_without_inference_is_compute_optimal():
    C = np.array([1e20, 5.76e23, 1e26])
    low = lowest_loss(LAW, C, 0.0, params=H)
    ref = compute_optimal(LAW, C, params=H)
    np.testing.assert_allclose(low.params, ref.params, rtol=1e-12)
    np.testing.assert_allclose(low.loss, ref.loss, rtol=1e-12)


def test_lowest_loss_beats_a_grid_and_keeps_the_budget():
    C, dinf = 1e23, 1e12
    low = lowest_loss(LAW, C, dinf, params=H)
    assert low.total_flops == pytest.approx(C, rel=1e-13)
    N = np.geomspace(1e7, C / (2 * dinf) * (1 - 1e-9), 200_001)
    D = (C - 2 * N * dinf) / (6 * N)
    grid = E + math.exp(H["a"]) * N ** -H["alpha"] + math.exp(H["b"]) * D ** -H["beta"]
    assert low.loss <= grid.min() + 1e-13
    assert low.loss == pytest.approx(grid.min(), abs=1e-9)
    num = lowest_loss(LAW, C, dinf, params=H, method="numeric")
    assert num.params == pytest.approx(low.params, rel=1e-6)
