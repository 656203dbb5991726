"""Accuracy links stay in [0, 1] by default: floor >= 0 and ceiling <= 1 are hard bounds
(SigmoidLink: b >= 0, a + b <= 1; ExpErrorLink: 0 <= eps <= 1, i.e. the floor 1 - eps in [0, 1]),
``bounded=False`` frees them, the option survives ``config()`` and a JSON save/load, and a fit
stopped by a bound says so (``fit.at_bound`` and a warning).

The data are noiseless curves from parameters outside the bounds, observed only where the
accuracy itself is a valid fraction (as on a real ladder, which never reaches the ceiling):
the free fit recovers the out-of-range parameters (to 1e-6, a noiseless least-squares fit;
observed ~1e-15), the default fit stops on the bound (to 1e-6, the ``at_bound`` test's own
threshold).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.laws.links import ExpErrorLink, SigmoidLink
from scalinglaws.laws.base import law_from_name

L = np.linspace(1.0, 2.0, 20)
# ceiling a + b = 1.1 (> 1), floor b = 0.2; only the falling half is observed (accuracy 0.21-0.65)
OVER = {"a": 0.9, "b": 0.2, "k": -5.0, "L0": 1.0}
# floor b = -0.1 (< 0), ceiling 0.7; observed accuracy 0.01-0.68
UNDER = {"a": 0.8, "b": -0.1, "k": -4.0, "L0": 1.8}


def sigmoid(q, loss):
    """Bhagia et al.'s form, written here: a / (1 + exp(-k (L - L0))) + b."""
    return q["a"] / (1.0 + np.exp(-q["k"] * (loss - q["L0"]))) + q["b"]


def fit_recording(law, data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sl.fit(law, data, objective=sl.LeastSquares())
    return f, [str(w.message) for w in caught]


def test_data_are_valid_fractions():
    for q in (OVER, UNDER):
        y = sigmoid(q, L)
        assert np.all((y > 0) & (y < 1))


def test_sigmoid_ceiling_bounded_by_default_free_with_option():
    data = {"loss": L, "accuracy": sigmoid(OVER, L)}
    free, _ = fit_recording(SigmoidLink(bounded=False), data)
    assert free.params["a"] + free.params["b"] == pytest.approx(1.1, rel=1e-6)  # the best unbounded ceiling
    assert free.params["a"] + free.params["b"] > 1
    assert free.at_bound == ()

    f, msgs = fit_recording(SigmoidLink(), data)
    ceiling = f.params["a"] + f.params["b"]
    assert ceiling <= 1.0
    assert ceiling == pytest.approx(1.0, abs=1e-6)
    assert f.params["b"] >= 0
    assert "ceiling" in f.at_bound
    assert any("ceiling" in m and "bound" in m for m in msgs), msgs
    # the bound costs fit quality here (the truth lies outside it)
    assert f.objective > free.objective


def test_sigmoid_floor_bounded_by_default_free_with_option():
    data = {"loss": L, "accuracy": sigmoid(UNDER, L)}
    free, _ = fit_recording(SigmoidLink(bounded=False), data)
    assert free.params["b"] == pytest.approx(-0.1, rel=1e-6)
    f, msgs = fit_recording(SigmoidLink(), data)
    assert f.params["b"] >= 0 and f.params["b"] == pytest.approx(0.0, abs=1e-6)
    assert f.params["a"] + f.params["b"] <= 1.0
    assert "floor_share" in f.at_bound and any("bound" in m for m in msgs)


def test_sigmoid_inside_the_bounds_is_unchanged():
    """A curve well inside [0, 1]: bounded and free fits agree (to 1e-6; noiseless) and no bound is hit."""
    q = {"a": 0.6, "b": 0.25, "k": -6.0, "L0": 1.2}
    data = {"loss": np.linspace(0.6, 2.0, 20), "accuracy": sigmoid(q, np.linspace(0.6, 2.0, 20))}
    f, _ = fit_recording(SigmoidLink(), data)
    g, _ = fit_recording(SigmoidLink(bounded=False), data)
    assert f.at_bound == () and g.at_bound == ()
    for k, v in q.items():
        assert f.params[k] == pytest.approx(v, rel=1e-6) and g.params[k] == pytest.approx(v, rel=1e-6)


def test_exp_error_floor_bounded_by_default_free_with_option():
    # Gadre et al.'s Err = eps - k exp(-gamma L) with eps = 1.3: the accuracy floor 1 - eps < 0
    eps, k, gamma = 1.3, 6.0, 1.2
    loss = np.linspace(1.5, 2.3, 20)
    acc = 1.0 - (eps - k * np.exp(-gamma * loss))
    assert np.all((acc > 0) & (acc < 1))
    data = {"loss": loss, "accuracy": acc}
    free, _ = fit_recording(ExpErrorLink(bounded=False), data)
    assert free.params["eps"] == pytest.approx(eps, rel=1e-6) and free.params["eps"] > 1
    f, msgs = fit_recording(ExpErrorLink(), data)
    assert f.params["eps"] <= 1.0 and f.params["eps"] == pytest.approx(1.0, abs=1e-6)
    assert "eps" in f.at_bound and any("eps" in m and "bound" in m for m in msgs)
    # the loss below which predicted accuracy exceeds 1: log(k/eps)/gamma, from the formula
    law = ExpErrorLink(bounded=False)
    assert law.loss_at_full_accuracy(free.params) == pytest.approx(np.log(k / eps) / gamma, rel=1e-6)


@pytest.mark.parametrize("law", [SigmoidLink(), SigmoidLink(bounded=False), ExpErrorLink(),
                                 ExpErrorLink(bounded=False), ExpErrorLink(target="error", bounded=False)],
                         ids=["sigmoid", "sigmoid-free", "experr", "experr-free", "experr-error-free"])
def test_bounded_option_round_trips_through_config(law):
    assert law_from_name(law.name, **law.config()) == law
    assert law.config()["bounded"] == law.bounded


def test_bounded_option_round_trips_through_a_saved_fit(tmp_path):
    data = {"loss": L, "accuracy": sigmoid(OVER, L)}
    for law in (SigmoidLink(), SigmoidLink(bounded=False)):
        f, _ = fit_recording(law, data)
        g = sl.load_fit(f.save(tmp_path / f"link-{law.bounded}.json"))
        assert g.law == law and g.law.bounded == law.bounded
        assert g.at_bound == f.at_bound
        # exact: JSON stores repr(float) (round-trips) and predict is the same computation
        np.testing.assert_array_equal(g.predict(loss=L), f.predict(loss=L))
        assert np.all(g.predict(loss=np.array([-10.0, 0.0, 10.0])) <= (1.0 if law.bounded else np.inf))
