"""Vocabulary (Tao et al. 2024) and mixture-of-experts (Clark et al. 2022; Krajewski et al. 2024)
laws against the papers' expressions, written here in numpy from REFERENCE.md section 15.

- Tao Eq. 8: L_u = -E + A1/N_nv^a1 + A2/N_v^a2 + B/D^b with N_nv, N_v = V d in millions and D in
  billions of tokens (the authors' fitting units); D = H f(V), f(V) = a (ln V)^2 + b ln V + c,
  V capped at 200K. Optimal V at a budget C: D = C / (6 (N_nv + V d)), minimised over V (App. A.2).
- Clark: log10 L = a lg N + b lg Ehat + c lg N lg Ehat + d,
  1/Ehat = 1/(E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max.
- Krajewski: L = c + (g/G^gamma + a)/N^alpha + b/D^beta.

Tolerances, each justified where used:
- law vs the formula here: rtol 1e-12 (the same closed expression in float64 along two paths,
  log-sum-exp / exp-of-log in JAX against direct powers here; ~1e-15 relative per operation
  times ln N ~ 25).
- optimal V vs scipy's minimize_scalar on the formula: ln V within 1e-4; the loss is flat to
  rounding over |d ln V| ~ sqrt(eps |L| / L'') ~ 1e-6 here, and Brent's xatol is 1e-10.
- Table 1 (approach 3): within 1.5K. The table prints V to 1K (half-unit 0.5K) and the
  published coefficients carry 3-4 digits (the code's unrounded ones give the table exactly);
  the rounded ones move V by at most 1.02K (measured: 300B row, 384.0K vs 383K).
- Synthetic recovery: tolerances stated in each test, from the measured errors over seeds.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import scalinglaws as sl
from scalinglaws.errors import DataError, LawError
from scalinglaws.laws import FineGrainedMoE, MixtureOfExperts, Vocabulary

FORMULA_RTOL = 1e-12  # see the module docstring

# REFERENCE.md 15.1, Eq. 8 coefficients (N in millions, D in billions of tokens)
TAO = {"A1": 1.831, "A2": 0.196, "B": 2.124, "E": 5.533, "alpha1": 0.447, "alpha2": 0.671, "beta": 0.447}
F_COEF = (0.00639222, -0.15811069, 1.20470122)  # f(V), the authors' code [C]
# REFERENCE.md 15.2 (Clark Table 3 via a secondary note)
CLARK = {
    "S-BASE": {"a": -0.082, "b": -0.108, "c": 0.009, "d": 1.104, "E_start": 1.847, "E_max": 314.478},
    "RL-R": {"a": -0.083, "b": -0.126, "c": 0.012, "d": 1.111, "E_start": 1.880, "E_max": 469.982},
    "HASH": {"a": -0.087, "b": -0.136, "c": 0.012, "d": 1.157, "E_start": 4.175, "E_max": 477.741},
}
CLARK_CUTOFF = {"S-BASE": 937e9, "RL-R": 85e9, "HASH": 83e9}  # routing stops helping [S]
# REFERENCE.md 15.3, MoE E = 64
KRAJEWSKI = {"a": 18.1, "alpha": 0.115, "b": 30.8, "beta": 0.147, "g": 2.1, "gamma": 0.58, "c": 0.47}
# Table 1: (N_nv, d, V by approach 3)
TABLE1 = [(3e9, 3200, 37e3), (7e9, 4096, 60e3), (13e9, 5120, 81e3), (30e9, 6048, 142e3),
          (70e9, 8192, 218e3), (130e9, 12288, 248e3), (300e9, 16384, 383e3)]


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


# --------------------------------------------------------------------------- formulas, from the papers
def np_f(V):
    lv = np.log(np.minimum(V, 200_000.0))
    return F_COEF[0] * lv ** 2 + F_COEF[1] * lv + F_COEF[2]


def np_tao(q, Nnv, Nv, D):
    return (-q["E"] + q["A1"] * (Nnv / 1e6) ** -q["alpha1"] + q["A2"] * (Nv / 1e6) ** -q["alpha2"]
            + q["B"] * (D / 1e9) ** -q["beta"])


def np_ehat(q, E):
    return 1.0 / (1.0 / (E - 1.0 + 1.0 / (1.0 / q["E_start"] - 1.0 / q["E_max"])) + 1.0 / q["E_max"])


def np_clark(q, N, E):
    lg_n, lg_e = np.log10(N), np.log10(np_ehat(q, E))
    return 10.0 ** (q["a"] * lg_n + q["b"] * lg_e + q["c"] * lg_n * lg_e + q["d"])


def np_krajewski(q, N, D, G):
    return q["c"] + (q["g"] / G ** q["gamma"] + q["a"]) / N ** q["alpha"] + q["b"] / D ** q["beta"]


def vocab_grid():
    Nnv = np.repeat([33e6, 150e6, 530e6, 1.13e9], 3)
    V = np.tile([4096.0, 32768.0, 300_000.0], 4)  # the last beyond the 200K cap of f
    d = np.repeat([512.0, 768.0, 1536.0, 2048.0], 3)
    H = 20.0 * Nnv * 4.0
    return Nnv, V, d, H


# --------------------------------------------------------------------------- values
def test_vocabulary_equals_eq8_in_every_input_mode():
    Nnv, V, d, H = vocab_grid()
    D = H * np_f(V)
    want = np_tao(TAO, Nnv, V * d, D)
    cases = [
        (Vocabulary(), {"params": Nnv, "vocab_params": V * d, "tokens": D}),
        (Vocabulary(from_shape=True), {"params": Nnv, "vocab_size": V, "hidden_size": d, "tokens": D}),
        (Vocabulary(data="characters"), {"params": Nnv, "vocab_params": V * d, "characters": H, "vocab_size": V}),
        (Vocabulary(data="characters", from_shape=True),
         {"params": Nnv, "vocab_size": V, "hidden_size": d, "characters": H}),
    ]
    for law, X in cases:
        assert set(law.inputs) == set(X), (law, law.inputs)
        got = np.asarray(law.predict(law.from_public(TAO), X))
        np.testing.assert_allclose(got, want, rtol=FORMULA_RTOL)
    # f(V): about 0.25 tokens per character at V = 32K (by hand: ln 32768 = 10.3972, 0.00639222*108.102
    # - 0.15811069*10.3972 + 1.20470122 = 0.69101 - 1.64391 + 1.20470 = 0.25180), and the cap at 200K
    assert np_f(np.array([32768.0]))[0] == pytest.approx(0.25180, abs=1e-5)
    from scalinglaws.laws.vocabulary import tokens_per_character
    np.testing.assert_allclose(tokens_per_character(np.array([32768.0, 3e5])), np_f(np.array([32768.0, 3e5])),
                               rtol=FORMULA_RTOL)
    # the published coefficients' public <-> internal round trip
    law = Vocabulary()
    assert law.public(law.from_public(TAO)) == pytest.approx(TAO, rel=1e-14)
    # tied exponents (the paper's alpha1 = beta): the same values, alpha1 reported as beta
    tied = Vocabulary(tie_exponents=True)
    assert "alpha1" not in tied.param_names and len(tied.param_names) == 6
    assert tied.public(tied.from_public(TAO)) == pytest.approx(TAO, rel=1e-14)
    X = cases[0][1]
    np.testing.assert_allclose(np.asarray(tied.predict(tied.from_public(TAO), X)), want, rtol=FORMULA_RTOL)
    other = {**TAO, "alpha1": 0.5}  # untied truth: the tied law evaluates alpha1 = beta
    np.testing.assert_allclose(np.asarray(tied.predict(tied.from_public({k: v for k, v in other.items() if k != "alpha1"}), X)),
                               want, rtol=FORMULA_RTOL)
    with pytest.raises(LawError, match="must equal beta") as e:
        tied.from_public(other)
    assert e.value.rule == "tied exponents differ"
    assert law.positive is False and law.target == "normalized_loss"


def test_optimal_vocab_reproduces_table1_approach3():
    law = Vocabulary()
    for Nnv, d, v_table in TABLE1:
        C = (Nnv / 0.08335) ** 2  # N_nv = 0.08335 C^0.5 (REFERENCE 15.1, the code's approach-1 constant)
        v = float(law.optimal_vocab(TAO, non_vocab_params=Nnv, hidden_size=d, flops=C))
        assert abs(v - v_table) <= 1.5e3, (Nnv, v, v_table)  # 1.5K: see the module docstring


def test_optimal_vocab_under_scarce_and_excess_data():
    """Tao et al.: at N_nv = 302M the optimal V is 16K with compute-optimal data and moves to 10K with
    scarce and 24K with excess data. REFERENCE.md does not give the budgets of the two ends; the
    authors' script sweeps 0.2x to 6x the compute-optimal budget. Asserted: 16K at 1x and 10K at 0.2x
    (the sweep's smallest), each within 0.5K (the printed rounding), and 24K reached inside the sweep
    (measured: 15.8K, 10.2K, and 23.0K at 4x, 24.5K at 5x)."""
    law = Vocabulary()
    mult = np.array([0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    v = law.optimal_vocab(TAO, non_vocab_params=302e6, hidden_size=1024, flops=mult * (302e6 / 0.08335) ** 2)
    assert abs(v[3] - 16e3) <= 0.5e3 and abs(v[0] - 10e3) <= 0.5e3, v
    assert np.all(np.diff(v) > 0) and v[-1] >= 24e3 >= v[0], v


def test_optimal_vocab_minimises_the_formula():
    law = Vocabulary()
    Nnv = np.array([302e6, 302e6, 302e6, 7e9])
    d = np.array([1024.0, 1024.0, 1024.0, 4096.0])
    C = np.array([0.2, 1.0, 5.0, 1.0]) * (Nnv / 0.08335) ** 2
    got = law.optimal_vocab(TAO, non_vocab_params=Nnv, hidden_size=d, flops=C)
    assert got.shape == (4,)
    for i in range(4):
        def loss(lv):
            V = math.exp(lv)
            return np_tao(TAO, Nnv[i], V * d[i], C[i] / (6.0 * (Nnv[i] + V * d[i])))
        r = minimize_scalar(loss, bounds=(math.log(100.0), math.log(1e8)), method="bounded",
                            options={"xatol": 1e-10})
        assert abs(math.log(got[i]) - r.x) < 1e-4, (i, got[i], math.exp(r.x))
    # more compute at fixed N_nv (more data) wants a larger vocabulary (Tao: 10K scarce -> 24K excess)
    assert got[0] < got[1] < got[2]


def test_clark_equals_the_unified_law_and_ehat_saturates():
    law = MixtureOfExperts()
    N = np.repeat(np.geomspace(1.5e7, 1.3e9, 4), 5)
    E = np.tile([1.0, 8.0, 64.0, 512.0, 1e7], 4)
    for q in CLARK.values():
        p = law.from_public(q)
        np.testing.assert_allclose(np.asarray(law.predict(p, {"params": N, "experts": E})), np_clark(q, N, E),
                                   rtol=FORMULA_RTOL)
        eh = np.asarray(law.effective_experts(p, np.array([1.0, 1e12])))
        assert eh[0] == pytest.approx(q["E_start"], rel=1e-12)  # Ehat(1) = E_start exactly
        assert eh[1] == pytest.approx(q["E_max"], rel=1e-8)  # E -> inf: E_max (1e12 experts: within E_max/1e12)
        assert law.public(p) == pytest.approx(q, rel=1e-12)
    # routing helps: at N = 1.3B the 64-expert S-BASE model has lower loss than the dense one
    dense, moe = np_clark(CLARK["S-BASE"], np.array([1.3e9, 1.3e9]), np.array([1.0, 64.0]))
    assert moe < dense


def test_clark_routing_cutoff_brackets_the_published_ones():
    """N_cutoff = 10^(-b/c). With b, c as printed (3 decimals) S-BASE gives 1.0e12, RL-R 3.2e10 and HASH
    2.2e11 against the published 937B, 85B and 83B: the table's rounding of c (0.012 +- 0.0005) moves
    -b/c by up to 0.9 decades. Each published cutoff must lie inside the range of 10^(-b/c) over the
    rounding box b +- 0.0005, c +- 0.0005 (corners: -b/c is monotone in each)."""
    law = MixtureOfExperts()
    for k, q in CLARK.items():
        assert law.routing_cutoff(q) == pytest.approx(10.0 ** (-q["b"] / q["c"]), rel=1e-12)
        corners = [law.routing_cutoff({**q, "b": q["b"] + db, "c": q["c"] + dc})
                   for db in (-5e-4, 5e-4) for dc in (-5e-4, 5e-4)]
        assert min(corners) <= CLARK_CUTOFF[k] <= max(corners), (k, min(corners), max(corners))


def test_krajewski_equals_the_granularity_law():
    law = FineGrainedMoE()
    N = np.repeat(np.geomspace(1.29e8, 3.7e9, 4), 4)
    D = np.repeat(np.geomspace(1.6e10, 1.3e11, 4), 4)[::-1]
    G = np.tile([1.0, 4.0, 16.0, 1e12], 4)
    p = law.from_public(KRAJEWSKI)
    got = np.asarray(law.predict(p, {"params": N, "tokens": D, "granularity": G}))
    np.testing.assert_allclose(got, np_krajewski(KRAJEWSKI, N, D, G), rtol=FORMULA_RTOL)
    # finer experts lower the loss; G -> inf leaves Chinchilla with A = a (hand: c + a/N^alpha + b/D^beta)
    assert np.all(np.diff(got.reshape(4, 4), axis=1) < 0)
    q = KRAJEWSKI
    np.testing.assert_allclose(got[3::4], q["c"] + q["a"] / N[3::4] ** q["alpha"] + q["b"] / D[3::4] ** q["beta"],
                               rtol=1e-6)  # g / G^gamma / N^alpha at G = 1e12 is ~1e-7 of the loss
    assert law.public(p) == pytest.approx(KRAJEWSKI, rel=1e-12)


# --------------------------------------------------------------------------- synthetic recovery
@pytest.mark.slow
def test_vocabulary_recovery_from_noisy_synthetic_runs(tmp_path):
    """Tao's coefficients, 108 runs (6 sizes x 6 vocabularies x 3 data multiples), additive noise
    sd 0.003 on L_u (Tao report RMSE ~0.015 on a larger spread). Measured (seed 0): exponents within
    3.6%, A1 3.7%, A2 and B 1.2%, E 0.1%; asserted exponents 8%, coefficients 10%, E 1%. The fit is
    saved and reloaded: the law's data/from_shape/target config survives."""
    law = Vocabulary()
    Nnv = np.array([33e6, 85e6, 150e6, 300e6, 530e6, 1.13e9])
    d = np.array([512.0, 768.0, 768.0, 1024.0, 1536.0, 2048.0])
    V = np.array([4096.0, 8192.0, 16384.0, 32768.0, 65536.0, 98304.0])
    n, v, m = (a.ravel() for a in np.meshgrid(np.arange(6), V, [5.0, 20.0, 60.0], indexing="ij"))
    X = {"params": Nnv[n], "vocab_params": v * d[n], "tokens": Nnv[n] * m}
    y = np_tao(TAO, X["params"], X["vocab_params"], X["tokens"])
    y = y + 0.003 * np.random.default_rng(0).standard_normal(len(y))
    assert (y < 0).any()  # the target really is negative somewhere: read as normalized_loss, not loss
    fit = quiet(sl.fit, law, {**X, "normalized_loss": y})
    for k in ("alpha1", "alpha2", "beta"):
        assert fit.params[k] == pytest.approx(TAO[k], rel=0.08), k
    for k in ("A1", "A2", "B"):
        assert fit.params[k] == pytest.approx(TAO[k], rel=0.10), k
    assert fit.params["E"] == pytest.approx(TAO["E"], rel=0.01)
    again = sl.load_fit(fit.save(tmp_path / "vocabulary.json"))
    assert again.law == law and again.params == pytest.approx(fit.params, rel=1e-12)
    # the paper's constraint alpha1 = beta: one exponent fewer (measured: every parameter within 1.3%)
    tied = quiet(sl.fit, Vocabulary(tie_exponents=True), {**X, "normalized_loss": y})
    assert tied.params["alpha1"] == tied.params["beta"] == pytest.approx(TAO["beta"], rel=0.05)
    for k in ("A1", "A2", "B"):
        assert tied.params[k] == pytest.approx(TAO[k], rel=0.10), k


@pytest.mark.slow
def test_clark_recovery_from_noisy_synthetic_runs():
    """S-BASE's coefficients on 6 sizes (15M-1.3B) x 10 expert counts (1-512), 0.3% multiplicative
    noise. Measured (seed 0): a, d within 0.9%; b, c within 6.7% but together (-b/c, the log10 of the
    routing cutoff, 11.98 against 12.00); E_start 17% and E_max 31% (E_start rests on the E = 1, 2
    runs, E_max on the few E beyond it). Asserted: a, d 3%; b, c 12%; log10 cutoff within 0.1;
    E_start 35%, E_max 60%; the fitted loss within 0.3% of the noiseless truth at every run."""
    law = MixtureOfExperts()
    q = CLARK["S-BASE"]
    N, E = (a.ravel() for a in np.meshgrid(np.geomspace(1.5e7, 1.3e9, 6), 2.0 ** np.arange(10)))
    y0 = np_clark(q, N, E)
    y = y0 * np.exp(0.003 * np.random.default_rng(0).standard_normal(N.size))
    fit = quiet(sl.fit, law, {"params": N, "experts": E, "loss": y})
    for k, tol in (("a", 0.03), ("d", 0.03), ("b", 0.12), ("c", 0.12), ("E_start", 0.35), ("E_max", 0.60)):
        assert fit.params[k] == pytest.approx(q[k], rel=tol), (k, fit.params[k])
    assert math.log10(law.routing_cutoff(fit.params)) == pytest.approx(-q["b"] / q["c"], abs=0.1)
    assert np.max(np.abs(fit.predict(params=N, experts=E) / y0 - 1)) < 0.003


@pytest.mark.slow
def test_krajewski_recovery_from_noisy_synthetic_runs():
    """Krajewski's E = 64 coefficients on 5 sizes x 5 token counts (1e9-1e12, wider than the paper's
    16B-130B so that b and beta are identified) x 5 granularities, 0.3% multiplicative noise. Asserted
    on the predictions (the coefficients trade off: c against b/D^beta): the fitted loss within 0.3% of
    the noiseless truth at every design point and extrapolated to 4x the largest N and D within 1%."""
    law = FineGrainedMoE()
    q = KRAJEWSKI
    N, D, G = (a.ravel() for a in np.meshgrid(np.geomspace(1.3e8, 3.7e9, 5), np.geomspace(1e9, 1e12, 5),
                                              [1.0, 2.0, 4.0, 8.0, 16.0]))
    y0 = np_krajewski(q, N, D, G)
    y = y0 * np.exp(0.003 * np.random.default_rng(0).standard_normal(N.size))
    fit = quiet(sl.fit, law, {"params": N, "tokens": D, "granularity": G, "loss": y})
    assert np.max(np.abs(fit.predict(params=N, tokens=D, granularity=G) / y0 - 1)) < 0.003
    far = {"params": np.array([1.5e10]), "tokens": np.array([4e12]), "granularity": np.array([8.0])}
    assert fit.predict(**far)[0] == pytest.approx(np_krajewski(q, far["params"], far["tokens"], far["granularity"])[0],
                                                  rel=0.01)
    assert fit.params["gamma"] == pytest.approx(q["gamma"], rel=0.15)


# --------------------------------------------------------------------------- bad input
def test_bad_input_errors():
    with pytest.raises(LawError, match="unknown data measure 'bytes'") as e:
        Vocabulary(data="bytes")
    assert e.value.rule == "unknown data measure"
    N, E = np.array([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9, 6.4e9, 1.28e10]), np.array([1.0, 2, 4, 8, 16, 32, 64, 0.5])
    y = np.full(8, 2.5)
    with pytest.raises(DataError, match="experts") as e:  # expert count below 1
        sl.fit(MixtureOfExperts(), {"params": N, "experts": E, "loss": y})
    assert e.value.column == "experts" and e.value.rule == "experts below 1" and e.value.row == 7
    with pytest.raises((DataError, LawError), match="experts") as e:  # missing column
        sl.fit(MixtureOfExperts(), {"params": N, "loss": y})
    assert e.value.column == "experts"
    with pytest.raises(LawError, match="E_max") as e:
        MixtureOfExperts().from_public({**CLARK["HASH"], "E_max": 3.0})
    assert e.value.rule == "E_max not above E_start"
    with pytest.raises(LawError, match=r"needs b < 0 < c") as e:
        MixtureOfExperts().routing_cutoff({**CLARK["HASH"], "c": -0.01})
    assert e.value.rule == "no cutoff"
    with pytest.raises(LawError, match=r"needs parameter\(s\) \['b', 'c', 'g'") as e:
        FineGrainedMoE().from_public({"a": 1.0})
    assert e.value.rule == "missing parameter"
    with pytest.raises(DataError, match="granularity") as e:
        sl.fit(FineGrainedMoE(), {"params": N, "tokens": N * 20, "granularity": np.r_[np.ones(7), 0.0], "loss": y})
    assert e.value.column == "granularity" and e.value.rule == "not positive"
    Nnv, V, d, H = vocab_grid()
    with pytest.raises(DataError, match="vocab_params") as e:
        sl.fit(Vocabulary(), {"params": Nnv, "vocab_params": np.r_[V[:-1] * d[:-1], -1.0], "tokens": H,
                              "normalized_loss": np.full(len(Nnv), -1.0)})
    assert e.value.column == "vocab_params" and e.value.rule == "not positive"
    with pytest.raises((DataError, LawError), match="characters") as e:  # data="characters" needs them
        sl.fit(Vocabulary(data="characters"), {"params": Nnv, "vocab_params": V * d, "vocab_size": V, "tokens": H,
                                               "normalized_loss": np.full(len(Nnv), -1.0)})
    assert e.value.column == "characters"
    with pytest.raises(LawError, match="flops") as e:
        Vocabulary().optimal_vocab(TAO, non_vocab_params=7e9, hidden_size=4096, flops=-1.0)
    assert e.value.rule == "not positive"
    with pytest.raises(LawError, match="beta") as e:
        Vocabulary().optimal_vocab({**TAO, "beta": 0.0}, non_vocab_params=7e9, hidden_size=4096, flops=1e21)
    # the registry rebuilds each law from its saved config
    for law in (Vocabulary(data="characters", from_shape=True, target="loss", tie_exponents=True), MixtureOfExperts(),
                FineGrainedMoE()):
        assert sl.laws.law_from_name(law.name, **law.config()) == law
    # a negative normalised loss is a valid value (the ``loss`` column would reject it)
    runs = sl.read_runs({"params": [1e8], "normalized_loss": [-1.2]})
    assert runs["normalized_loss"].tolist() == [-1.2]
