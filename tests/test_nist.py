"""The NIST StRD nonlinear-regression suite (27 problems) against ``sl.fit``.

Requirement: from Start 2, every problem's fitted parameters match the
certified values to >= 6 significant digits (LRE, capped at 11, minimum over
the parameters), with the library's default solver settings and a single
start. Start 1 (far from the optimum) is reported as a count.

The data are read at run time from ``<workspace>/shared/data/nist_strd``; the
whole module is skipped when that folder is absent (and fails under CI=true). Each problem's solver is
compiled once (one law per model formula; Start 1 reuses Start 2's
compilation), and each fit is computed once and shared between tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nist_strd"

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nist_strd as ns  # noqa: E402

from conftest import require  # noqa: E402


@pytest.fixture(autouse=True)
def _nist_data():
    """Every test here needs the folder: skip when absent, fail under CI=true."""
    require(DATA_DIR, "NIST StRD data folder")

MIN_DIGITS = 6.0
RSS_RTOL = 1e-6

# Measured with sl.fit defaults (SolverConfig()), one start each, after the
# MINPACK-style non-shrinking damping scale: 25 of 27 from Start 1. The two that fail
# from Start 1: MGH17 (converges to a local minimum with b5 -> ~1.6e3, RSS 2.45e-2 vs
# certified 5.46e-5) and MGH10 (drifts to b2, b3 ~ 1e9 on the flat ridge, RSS ~1.2e9).
START1_MIN_MATCHES = 25

_RESULTS: dict[tuple[str, int], "ns.Result"] = {}


def _problem(name: str) -> "ns.Problem":
    require(DATA_DIR / f"{name}.dat", "NIST StRD problem file")
    return ns.load(name, DATA_DIR)


def _result(name: str, start: int) -> "ns.Result":
    key = (name, start)
    if key not in _RESULTS:
        _RESULTS[key] = ns.fit_problem(_problem(name), start)
    return _RESULTS[key]


def _lre_text(r: "ns.Result") -> str:
    return ", ".join(f"{k}: {v:.2f}" for k, v in r.lres.items())


def test_parser_misra1a():
    p = _problem("Misra1a")
    assert p.name == "Misra1a"
    assert p.difficulty == "Lower"
    assert p.n_obs == 14 and p.y.shape == (14,) and p.X["x"].shape == (14,)
    assert p.param_names == ("b1", "b2")
    assert p.certified[0] == 2.3894212918e02 and p.certified[1] == 5.5015643181e-04
    assert p.certified_sd[0] == 2.7070075241e00
    assert list(p.start1) == [500.0, 1e-4] and list(p.start2) == [250.0, 5e-4]
    assert p.certified_rss == 1.2455138894e-01
    assert p.dof == 12
    assert (p.y[0], p.X["x"][0]) == (10.07, 77.6) and (p.y[-1], p.X["x"][-1]) == (81.78, 760.0)


def test_parser_all_files_consistent():
    """Every file parses; counts agree; the model, at the certified values,
    reproduces the certified RSS (checks the transcribed formulas)."""
    from scalinglaws._jax import float64, jnp

    for name in ns.PROBLEMS:
        p = _problem(name)
        k = len(p.param_names)
        assert p.param_names == tuple(f"b{i + 1}" for i in range(k)), name
        assert p.start1.shape == p.start2.shape == p.certified.shape == (k,), name
        # Rat43.dat says "Degrees of Freedom: 9" (15 obs, 4 params): a typo in the file, its
        # residual standard deviation sqrt(RSS / 11) shows 11; so check the RSD instead.
        assert p.dof == p.n_obs - k or name == "Rat43", name
        assert p.certified_rsd == pytest.approx(np.sqrt(p.certified_rss / (p.n_obs - k)), rel=1e-9), name
        assert all(v.shape == (p.n_obs,) for v in p.X.values()), name
        with float64():  # a raw model function, called outside the package: float64 by hand
            pred = np.asarray(ns.model(name)(dict(zip(p.param_names, map(jnp.asarray, p.certified))),
                                             {c: jnp.asarray(v) for c, v in p.X.items()}))
        rss = float(np.sum((p.y - pred) ** 2))
        if name == "Lanczos1":  # RSS 1.4e-25: below what 11-digit rounded parameters resolve
            assert rss < 1e-20, (name, rss)
        else:
            assert rss == pytest.approx(p.certified_rss, rel=1e-8), name
    nelson = _problem("Nelson")
    assert nelson.predictors == ("x1", "x2")
    np.testing.assert_allclose(nelson.y, np.log(nelson.raw_y))


@pytest.mark.parametrize("name", ns.PROBLEMS)
def test_start2_matches_six_digits(name):
    r = _result(name, 2)
    assert r.min_lre >= MIN_DIGITS, (
        f"{name} from Start 2: min LRE {r.min_lre:.2f} < {MIN_DIGITS} ({_lre_text(r)}); RSS {r.rss:.10e}")


def _rss_tolerance(p: "ns.Problem") -> float:
    """``RSS_RTOL`` relative, floored at what float64 can resolve.

    The residuals r_i carry rounding errors d_i ~ a few eps |y_i|, so the
    computed RSS is uncertain by about 2 sqrt(RSS) ||d||. That floor is far
    below 1e-6 * RSS for 26 problems; it matters only for Lanczos1, whose
    certified RSS (1.43e-25, residuals ~8e-14) was computed in extended
    precision and cannot be reproduced to 6 digits in float64.
    """
    eps = np.finfo(np.float64).eps
    floor = 2.0 * np.sqrt(p.certified_rss) * 8.0 * eps * float(np.linalg.norm(p.y))
    return max(RSS_RTOL * p.certified_rss, floor)


@pytest.mark.parametrize("name", ns.PROBLEMS)
def test_start2_rss_matches_certified(name):
    p = _problem(name)
    r = _result(name, 2)
    tol = _rss_tolerance(p)
    assert abs(r.rss - p.certified_rss) <= tol, (
        f"{name} from Start 2: RSS {r.rss:.10e} vs certified {p.certified_rss:.10e} "
        f"(|diff| {abs(r.rss - p.certified_rss):.2e} > tol {tol:.2e})")


def test_start1_success_count():
    results = [_result(name, 1) for name in ns.PROBLEMS]
    ok = [r.name for r in results if r.min_lre >= MIN_DIGITS]
    failed = {r.name: round(r.min_lre, 2) for r in results if r.min_lre < MIN_DIGITS}
    assert len(ok) >= START1_MIN_MATCHES, (
        f"only {len(ok)} of {len(results)} problems match >= {MIN_DIGITS:g} digits from Start 1 "
        f"(expected >= {START1_MIN_MATCHES}); failing: {failed}")
