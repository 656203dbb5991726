"""solver.refit: the bootstrap's SQUAREM-accelerated Levenberg-Marquardt refits.

On a noiseless Chinchilla sweep the refit from a perturbed start must land on the true
parameters (they are the exact minimiser, objective 0): tolerance rel 1e-6, far above the
float64 floor of the residuals (1e-15) and far below the perturbation (10-20%). A fixed
parameter must not move; weights of zero must drop rows (same answer as the sub-table).
"""

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.fitting import solver
from scalinglaws.fitting.api import dataset

LAW = sl.laws.Chinchilla()
TRUE = LAW.from_public(synthetic.EPOCH)
THETA = np.array([TRUE[n] for n in LAW.param_names])


def _data(noise=0.0, seed=0):
    runs = sl.read_runs(synthetic.chinchilla_sweep(synthetic.EPOCH, budgets=(1e18, 1e19, 1e20, 1e21),
                                                   n_per_budget=7, noise=noise, seed=seed))
    return runs, dataset(LAW, runs, sl.LeastSquares())


@pytest.mark.parametrize("objective", [sl.LeastSquares(), sl.Huber(), sl.HuberLikelihood()])
def test_refit_recovers_the_exact_minimiser(objective):
    runs, d = _data()
    d = dataset(LAW, runs, objective)
    starts = THETA * np.array([[1.1, 0.9, 1.05, 1.15, 0.85], [0.95, 1.08, 0.98, 0.9, 1.1]])
    out = solver.refit(LAW, objective, starts[None], d.X, d.y, d.w[None], np.zeros(5, bool), iters=200, ftol=1e-14)
    best = int(np.argmin(out["f"][0]))
    np.testing.assert_allclose(out["theta"][0, best], THETA, rtol=1e-6)


def test_fixed_parameter_stays_and_zero_weights_drop_rows():
    runs, d = _data(noise=0.01, seed=2)
    start = THETA[None, None] * 1.02
    fixed = np.array([False, False, False, True, False])  # alpha
    w = np.ones((2, d.n))
    w[1, ::3] = 0.0
    out = solver.refit(LAW, sl.LeastSquares(), np.repeat(start, 2, axis=0), d.X, d.y, w, fixed, iters=200, ftol=1e-14)
    assert np.all(out["theta"][:, 0, 3] == start[0, 0, 3])
    # the zero-weighted rows removed: an ordinary weighted fit of the remaining rows, fixed alpha
    keep = w[1] > 0
    sub = runs.select(keep)
    f = sl.fit(LAW, sub, objective=sl.LeastSquares(), fixed={"alpha": float(start[0, 0, 3])})
    np.testing.assert_allclose(out["theta"][1, 0], f.theta, rtol=1e-5)
    assert out["f"][1, 0] == pytest.approx(f.objective, rel=1e-8)
