"""Epoch AI's bootstrap protocol on their 240 digitised Chinchilla runs (REFERENCE.md section 2).

Published (Besiroglu et al. 2024, notebook cell 25, as re-run in PEERS.md): standard errors
A 124.52232, B 1293.28410, E 0.02566, alpha 0.01540, beta 0.02060 and the 95% intervals below.

Epoch's resamples are ``np.random.choice`` over the 240 kept rows after ``np.random.seed(42)``
(4,000 draws of 240 rows), each refitted by BFGS on the summed Huber loss (delta 1e-3) from
Chinchilla's values. ``sl.bootstrap(resamples=...)`` takes those very resamples, so the test
compares draw for draw, not one Monte-Carlo run with another: B's spread has a heavy right tail
(its 99.9th percentile is 8x its median), and with numpy's *default* generator at seed 42 the
same estimator gives B's s.e. 1461-1500 (+13-16%), which is Monte-Carlo error of a standard
error at n = 4,000, not a fault of the refits.

Tolerances. Epoch's own protocol (Huber loss): 1% on each standard error and 95% bound. Same
data, resamples and objective; what differs is only where each optimiser stops (their BFGS at
gtol 1e-5, ours at a relative ftol of 1e-10), and the published bounds carry 4 significant
figures (285.2 against our 286.1 is the largest gap, 0.3%). The issue's protocol (the Huber
*likelihood*, sigma fitted, refit from the point estimate): 10%, the issue's acceptance bound,
since it is a different estimator from the one Epoch bootstrapped.
"""

import warnings

import numpy as np
import pytest

import scalinglaws as sl

PUBLISHED_SE = {"A": 124.52232, "B": 1293.28410, "E": 0.02566, "alpha": 0.01540, "beta": 0.02060}
PUBLISHED_CI95 = {"A": (285.2, 743.6), "B": (1042.4, 5810.3), "E": (1.769, 1.871),
                  "alpha": (0.317, 0.373), "beta": (0.331, 0.415)}


@pytest.fixture(scope="module")
def epoch_resamples(epoch_runs):
    """Epoch's 4,000 resamples: positions among the 240 kept rows (drop_highest keeps row order,
    and ``np.random.choice(indices)`` is ``indices[randint(0, 240)]``)."""
    rs = np.random.RandomState(42)  # the legacy global stream that np.random.seed(42) seeds
    return np.stack([rs.choice(len(epoch_runs), size=len(epoch_runs), replace=True) for _ in range(4000)])


def _boot(epoch_runs, resamples, objective):
    fit = sl.fit(sl.laws.Chinchilla(), epoch_runs, objective=objective)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.bootstrap(fit, epoch_runs, resamples=resamples, starts=1, progress=False)


@pytest.fixture(scope="module")
def huber_boot(epoch_runs, epoch_resamples):
    return _boot(epoch_runs, epoch_resamples, sl.Huber(1e-3))


@pytest.fixture(scope="module")
def likelihood_boot(epoch_runs, epoch_resamples):
    return _boot(epoch_runs, epoch_resamples, sl.HuberLikelihood())


def test_epoch_rows_and_resamples(epoch_runs, epoch_resamples):
    assert len(epoch_runs) == 240
    assert epoch_resamples.shape == (4000, 240)
    # the 5 dropped rows are the 5 highest losses of the file, as Epoch's `loss < sorted[-5]`
    assert float(np.max(np.asarray(epoch_runs["loss"]))) < 3.8


@pytest.mark.parametrize("name", list(PUBLISHED_SE))
def test_epoch_protocol_standard_errors(huber_boot, name):
    assert huber_boot.n == 4000 and huber_boot.n_failed == 0
    assert huber_boot.se()[name] == pytest.approx(PUBLISHED_SE[name], rel=0.01)


@pytest.mark.parametrize("name", list(PUBLISHED_CI95))
def test_epoch_protocol_95_intervals(huber_boot, name):
    lo, hi = huber_boot.interval(0.95)[name]
    plo, phi = PUBLISHED_CI95[name]
    assert lo == pytest.approx(plo, rel=0.01)
    assert hi == pytest.approx(phi, rel=0.01)


@pytest.mark.parametrize("name", list(PUBLISHED_SE))
def test_likelihood_refits_standard_errors(likelihood_boot, name):
    assert likelihood_boot.n_failed == 0
    assert likelihood_boot.se()[name] == pytest.approx(PUBLISHED_SE[name], rel=0.10)


@pytest.mark.parametrize("name", list(PUBLISHED_CI95))
def test_likelihood_refits_95_intervals(likelihood_boot, name):
    lo, hi = likelihood_boot.interval(0.95)[name]
    plo, phi = PUBLISHED_CI95[name]
    assert lo == pytest.approx(plo, rel=0.10)
    assert hi == pytest.approx(phi, rel=0.10)
