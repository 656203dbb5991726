"""Approach 2 (isoFLOP parabolas): recovery on noiseless sweeps, the known biases, Epoch's runs, bad input.

Why the tolerances. On a noiseless Chinchilla sweep, the loss at budget C along x = ln N is
L = E + K(C) f(x - x*(C)) with f(u) = beta e^(-alpha u) + alpha e^(beta u) (up to a constant) and
x*(C) = ln N*(C) linear in ln C: the profile has the same shape at every budget, only scaled and
shifted. A least-squares parabola on a grid placed at the same offsets u_j from the optimum at every
budget therefore has its vertex at the same u_hat everywhere: the parabola's approximation error
moves every N_opt by one common factor e^(u_hat) (the intercept k_N is biased), and the exponent is
exact up to rounding. Measured: |a_hat - a| < 2e-15 for every grid below, so 1e-9 is a bound with
room for BLAS differences. The intercept bias is measured below (about 1% to 13%).
"""

import warnings
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.errors import DataError
from scalinglaws.fitting.approaches import budget_groups, kmeans_1d

BUDGETS = np.array(synthetic.DEFAULT_BUDGETS, dtype=np.float64)


def _loss(p, N, D):
    return p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]


def _n_opt(p, C):
    """Closed form (REFERENCE.md section 1): N* = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta))."""
    a, b = p["alpha"], p["beta"]
    return (a * p["A"] / (b * p["B"])) ** (1.0 / (a + b)) * (C / 6.0) ** (b / (a + b))


def _sweep(p, offsets):
    """Noiseless runs with N = N*(C) e^(offsets(i)) at budget i (offsets: i -> array of ln factors)."""
    N, F = [], []
    for i, C in enumerate(BUDGETS):
        n = _n_opt(p, C) * np.exp(offsets(i))
        N.append(n)
        F.append(np.full(len(n), C))
    N, F = np.concatenate(N), np.concatenate(F)
    return {"params": N, "flops": F, "loss": _loss(p, N, F / (6.0 * N))}


def _bias(a2, p):
    """N_opt(C) / N*(C) - 1 per budget group."""
    return np.array([r["params_opt"] / _n_opt(p, r["budget"]) - 1.0 for r in a2.budgets])


LAWS = {"epoch": synthetic.EPOCH, "hoffmann": synthetic.HOFFMANN}  # alpha < beta and alpha > beta


@pytest.mark.parametrize("name", sorted(LAWS))
@pytest.mark.parametrize("span", [8.0, float(np.e ** 2)])
def test_centred_sweep_recovers_exponents(name, span):
    p = LAWS[name]
    a2 = sl.approach2(synthetic.chinchilla_sweep(p, noise=0.0, span=span))
    a, b = p["beta"] / (p["alpha"] + p["beta"]), p["alpha"] / (p["alpha"] + p["beta"])
    assert a2.n_used == len(BUDGETS) and len(a2.budgets) == len(BUDGETS)
    assert abs(a2.params_exponent - a) < 1e-9
    assert abs(a2.tokens_exponent - b) < 1e-9
    assert abs(a2.tokens_exponent_parabola - b) < 1e-9
    # the intercept bias is one common factor; its sign is that of alpha - beta: the third derivative
    # of f at 0 is alpha beta (beta^2 - alpha^2), so for alpha > beta the profile is steeper on the small-N
    # side and the parabola's vertex moves to larger N (measured: +2.9% Hoffmann, -0.95% Epoch at span 8)
    bias = _bias(a2, p)
    assert np.ptp(bias) < 1e-9
    assert np.sign(bias[0]) == np.sign(p["alpha"] - p["beta"]) and 0.005 < abs(bias[0]) < 0.05
    C = 3.8e25
    assert a2.optimal_params(C) == pytest.approx(_n_opt(p, C) * (1 + bias[0]), rel=1e-6)
    assert a2.optimal_tokens(C) == pytest.approx(C / (6 * a2.optimal_params(C)), rel=1e-9)


@pytest.mark.parametrize("name", sorted(LAWS))
def test_constant_off_centre_shift_biases_the_intercept_not_the_exponent(name):
    p = LAWS[name]
    a = p["beta"] / (p["alpha"] + p["beta"])
    for lo, hi, sign in [(-1.0, 2.0, None), (-0.5, 2.5, +1), (0.0, 3.0, +1), (-2.5, 0.5, -1), (-3.0, 0.0, -1)]:
        a2 = sl.approach2(_sweep(p, lambda i: np.linspace(lo, hi, 9)))
        assert abs(a2.params_exponent - a) < 1e-9, (lo, hi)
        bias = _bias(a2, p)
        assert np.ptp(bias) < 1e-9
        if sign is not None:  # strongly off-centre: the vertex is pulled towards the sampled window
            # measured: +1.2%..+13.5% (right windows), -2.6%..-12.1% (left windows)
            assert np.sign(bias[0]) == sign and abs(bias[0]) > 0.01, (lo, hi, bias[0])


@pytest.mark.parametrize("name", sorted(LAWS))
def test_drifting_off_centre_biases_the_exponent(name):
    """The window slides across the optimum as C grows (as with one fixed grid of model sizes):
    N_opt is pulled towards the window, so a window moving from left to right of the optimum
    inflates a and the reverse deflates it (measured: +0.021..+0.026 and -0.020..-0.027)."""
    p = LAWS[name]
    a = p["beta"] / (p["alpha"] + p["beta"])
    t = np.log(BUDGETS / BUDGETS[0]) / np.log(BUDGETS[-1] / BUDGETS[0])
    up = sl.approach2(_sweep(p, lambda i: np.linspace(-3.0, 0.0, 9) + 3.0 * t[i]))
    down = sl.approach2(_sweep(p, lambda i: np.linspace(0.0, 3.0, 9) - 3.0 * t[i]))
    assert up.params_exponent - a > 0.01
    assert down.params_exponent - a < -0.01


def test_parabolas_match_numpy_polyfit():
    runs = synthetic.chinchilla_sweep(noise=0.02, seed=5)
    a2 = sl.approach2(runs)
    for r in a2.budgets:
        g = np.isclose(runs["flops"], r["budget"], rtol=1e-9)
        x, y = np.log(runs["params"][g]), runs["loss"][g]
        c2, c1, c0 = np.polyfit(x, y, 2)
        assert r["params_opt"] == pytest.approx(np.exp(-c1 / (2 * c2)), rel=1e-8)
    # the power law against an independent log-log regression with its textbook standard error
    C = np.array([r["budget"] for r in a2.budgets if r["used"]])
    Y = np.log([r["params_opt"] for r in a2.budgets if r["used"]])
    X = np.log(C)
    slope, icpt = np.polyfit(X, Y, 1)
    s2 = np.sum((Y - icpt - slope * X) ** 2) / (len(X) - 2)
    assert a2.params_exponent == pytest.approx(slope, rel=1e-9)
    assert a2.params_exponent_se == pytest.approx(np.sqrt(s2 / np.sum((X - X.mean()) ** 2)), rel=1e-8)
    assert a2.tokens_exponent == pytest.approx(1.0 - slope, rel=1e-9)


def test_bad_groups_are_warned_and_left_out():
    p = synthetic.EPOCH
    runs = _sweep(p, lambda i: np.linspace(-1.5, 1.5, 9))
    # budget index 4: a window far right of the optimum (vertex outside the sampled N)
    keep = np.ones(len(runs["params"]), bool)
    N = runs["params"].copy()
    sel = runs["flops"] == BUDGETS[4]
    N[sel] = _n_opt(p, BUDGETS[4]) * np.exp(np.linspace(2.0, 4.0, sel.sum()))
    L = runs["loss"].copy()
    L[sel] = _loss(p, N[sel], BUDGETS[4] / (6 * N[sel]))
    # budget index 7: a parabola opening downward
    sel7 = runs["flops"] == BUDGETS[7]
    L[sel7] = 3.0 - 0.1 * (np.log(N[sel7]) - np.log(N[sel7]).mean()) ** 2
    with pytest.warns(UserWarning) as rec:
        a2 = sl.approach2({"params": N[keep], "flops": runs["flops"], "loss": L})
    msgs = " ".join(str(w.message) for w in rec)
    assert f"{BUDGETS[4]:.3g}" in msgs and "outside" in msgs
    assert f"{BUDGETS[7]:.3g}" in msgs and "downward" in msgs
    assert a2.n_used == len(BUDGETS) - 2
    assert any("2 budget group(s) left out" in n for n in a2.notes)
    a = p["beta"] / (p["alpha"] + p["beta"])
    assert abs(a2.params_exponent - a) < 1e-9  # the bad groups did not enter the fit


def test_binning_gaps_and_kmeans():
    rng = np.random.default_rng(0)
    centres = np.array([19.0, 19.5, 20.0, 21.0])
    x = np.concatenate([c + rng.uniform(-0.03, 0.03, 7) for c in centres])
    groups = budget_groups(10.0 ** x)
    assert [len(g) for g in groups] == [7] * 4
    assert np.allclose([x[g].mean() for g in groups], centres, atol=0.03)
    # a continuous spread is split by k-means into groups at most `width` decades wide
    y = np.linspace(18.0, 21.0, 61)
    groups = budget_groups(10.0 ** y, width=0.5)
    assert all(np.ptp(y[g]) <= 0.5 for g in groups) and len(groups) == 6
    # exact 1-D k-means against brute force over all cut points (k=3)
    z = np.sort(rng.normal(size=12))
    best = min(((i, j) for i in range(1, 11) for j in range(i + 1, 12)),
               key=lambda c: sum(np.sum((s - s.mean()) ** 2) for s in np.split(z, c)))
    assert [len(g) for g in kmeans_1d(z, 3)] == [len(s) for s in np.split(z, best)]


def test_nominal_budget_column_and_report():
    runs = synthetic.chinchilla_sweep(noise=0.0)
    jitter = np.exp(np.random.default_rng(1).uniform(-0.05, 0.05, len(runs["flops"])))
    runs = dict(runs, flops=runs["flops"] * jitter)  # runs off the grid; nominal budgets in `group`
    a2 = sl.approach2(runs, budget=synthetic.chinchilla_sweep(noise=0.0)["flops"])
    assert len(a2.budgets) == len(BUDGETS)
    assert [r["budget"] for r in a2.budgets] == pytest.approx(list(BUDGETS), rel=1e-12)
    text = a2.report()
    assert "Approach 2" in text and "nominal budgets from an array" in text
    d = a2.to_dict()
    assert d["type"] == "Approach2" and len(d["budgets"]) == len(BUDGETS)
    import json

    json.dumps(d)
    # a column of nominal budgets in a plain dict, and the gap between nominal budget and the runs' flops
    a3 = sl.approach2(dict(runs, nominal=synthetic.chinchilla_sweep(noise=0.0)["flops"]), budget="nominal")
    assert len(a3.budgets) == len(BUDGETS)
    gap = float(np.max(np.abs(np.log(jitter))) / np.log(10))
    note = [x for x in a3.notes if x.startswith("the runs' flops")][0]
    assert f"{gap:.3g}" in note


def test_bad_input():
    runs = synthetic.chinchilla_sweep(noise=0.0, n_per_budget=2)
    with pytest.raises(DataError, match="at least 2 usable budget groups"):
        sl.approach2(runs)
    same_n = synthetic.chinchilla_sweep(noise=0.0, budgets=(1e19, 1e20, 1e21))
    same_n["params"][:9] = same_n["params"][0]  # the first budget's runs all of one size
    with pytest.warns(UserWarning, match="only 2 usable budget groups"):
        a2 = sl.approach2(same_n)
    assert a2.n_used == 2 and "3 distinct N" in a2.budgets[0]["reason"]
    with pytest.raises(DataError, match="no such column"):
        sl.approach2(synthetic.chinchilla_sweep(noise=0.0), budget="nominal")
    with pytest.raises(DataError, match="min_points"):
        sl.approach2(synthetic.chinchilla_sweep(noise=0.0), min_points=2)
    with pytest.raises(DataError, match="one per run"):
        sl.approach2(synthetic.chinchilla_sweep(noise=0.0), budget=np.ones(3))


def test_epoch_runs(epoch_runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a2 = sl.approach2(epoch_runs)
        a9 = sl.approach2(epoch_runs, n_budgets=9)
    print("\n" + a2.report())
    print(a9._headline())
    assert len(a2.budgets) <= 12 and a2.n_used >= 5
    for r in (a2, a9):
        assert np.isfinite(r.params_exponent) and np.isfinite(r.tokens_exponent)
        assert np.isfinite(r.params_exponent_se)
        # Hoffmann et al.'s Approach 2: a = 0.49, b = 0.51 (REFERENCE.md Table 2); digitised runs
        # off the budget grid: within 4 standard errors, loosely
        assert abs(r.params_exponent - 0.49) < max(4 * r.params_exponent_se, 0.05)


def test_isoflop_figure_on_epoch(epoch_runs, epoch_fit):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from scalinglaws import plot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a2 = sl.approach2(epoch_runs)
        fig = Figure()
        ax = fig.subplots()
        assert plot.isoflop(epoch_runs, epoch_fit, ax=ax, approach=a2) is ax
    assert len(a2.budgets) <= 12
    assert len(fig.axes) == 2  # the axes and its colour bar
    assert fig.axes[1].get_ylabel().startswith("training budget")
    legend = ax.get_legend()
    assert legend is not None and len(legend.get_texts()) <= 3
    # the minima markers: one white diamond per used group, at the parabolas' vertices
    mins = [c for c in ax.collections if c.get_label().startswith("parabola minima")]
    assert len(mins) == 1
    xy = np.asarray(mins[0].get_offsets())
    used = [r for r in a2.budgets if r["used"]]
    np.testing.assert_allclose(xy[:, 0], [r["params_opt"] for r in used], rtol=1e-12)
    # one solid parabola per used group (the dashed lines are the fitted law's profiles)
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    assert len(solid) == a2.n_used


def test_cli_approach2(tmp_path, capsys):
    import json

    from scalinglaws.cli import main

    runs = synthetic.chinchilla_sweep(noise=0.0)
    path = tmp_path / "runs.csv"
    jitter = np.exp(np.random.default_rng(2).uniform(-0.05, 0.05, len(runs["flops"])))
    cols = {"params": runs["params"], "flops": runs["flops"] * jitter, "loss": runs["loss"], "nominal": runs["flops"]}
    np.savetxt(path, np.stack(list(cols.values()), axis=1), delimiter=",", header=",".join(cols), comments="")
    assert main(["approach2", str(path), "--budget", "nominal", "--json", "-q"]) == 0
    d = json.loads(capsys.readouterr().out)
    p = synthetic.EPOCH
    assert d["type"] == "Approach2" and len(d["budgets"]) == len(BUDGETS)
    assert abs(d["params_exponent"] - p["beta"] / (p["alpha"] + p["beta"])) < 0.02  # N off the budget by <= 5%
    assert main(["approach2", str(path), "-q", "--resamples", "20"]) == 0
    out = capsys.readouterr().out
    assert "N_opt ~ C^" in out and "10th-90th percentile over resamples" in out
    assert main(["approach2", str(path), "--budget", "nope", "-q"]) == 2
    assert "nope" in capsys.readouterr().err


def test_cli_plot_reuses_the_saved_column_mapping(tmp_path, capsys):
    import json

    from tests.conftest import EPOCH_CSV, require
    from scalinglaws.cli import main

    csv = str(require(EPOCH_CSV))
    fit_json, png = tmp_path / "fit.json", tmp_path / "fig.png"
    assert main(["fit", csv, "--column", "params=Model Size", "--column", "flops=Training FLOP",
                 "--column", "loss=loss", "-o", str(fit_json), "-q"]) == 0
    saved = json.loads(fit_json.read_text())["read_runs"]
    assert saved["columns"] == {"params": "Model Size", "flops": "Training FLOP", "loss": "loss"}
    capsys.readouterr()
    assert main(["plot", str(fit_json), csv, "--kind", "isoflop", "-o", str(png)]) == 0
    err = capsys.readouterr().err
    assert "column mapping saved in" in err
    assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"


def test_readme_numbers():
    """README.md's Approach 2 example (all 245 of Epoch's rows): the exponents it prints, at 3 decimals."""
    from tests.conftest import EPOCH_COLUMNS, EPOCH_CSV, require

    runs = sl.read_runs(require(EPOCH_CSV), columns=EPOCH_COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a2, a9 = sl.approach2(runs, budget="flops"), sl.approach2(runs, n_budgets=9)
    assert (len(a2.budgets), a2.n_used) == (11, 7)
    assert (round(a2.params_exponent, 3), round(a2.tokens_exponent, 3)) == (0.523, 0.477)
    assert round(a9.params_exponent, 3) == 0.471
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        r9 = sl.approach2(runs, n_budgets=9, resamples=100)
    assert tuple(round(v, 3) for v in r9.params_exponent_interval) == (0.446, 0.483)
    assert f"{a2.optimal_params(5.76e23):.2g}" == "9.7e+10"


def _curves(p, Ns, n_ckpt=40, c_lo=1e18, c_hi=1e22):
    """Noiseless checkpoint logs: every model size trained through FLOPs c_lo..c_hi."""
    out = {"run": [], "params": [], "tokens": [], "loss": []}
    for i, n in enumerate(Ns):
        D = np.geomspace(c_lo / (6 * n), c_hi / (6 * n), n_ckpt)
        out["run"] += [f"r{i:03d}"] * n_ckpt
        out["params"] += [n] * n_ckpt
        out["tokens"] += list(D)
        out["loss"] += list(_loss(p, n, D))
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("name", sorted(LAWS))
def test_approach1_recovers_exponents_from_the_envelope(name):
    """The envelope's N_opt(C) is a staircase: the best of the logged sizes, one of the two grid
    neighbours of N*(C), so ln N_opt - ln N* = e(C) with |e| < h (h = ln-spacing of the sizes,
    ln(100)/24 = 0.19 here). Over ln C ranges R ~ 8.5, Cauchy-Schwarz bounds the slope error by
    sqrt(12) h / R = 0.08; e(C) is a zero-mean sawtooth repeating every h/a in ln C, so the error is
    far smaller: measured -9.1e-4 (Epoch), -6.2e-4 (Hoffmann); the test allows 0.01."""
    p = LAWS[name]
    a = p["beta"] / (p["alpha"] + p["beta"])
    a1 = sl.approach1(_curves(p, np.geomspace(1e8, 1e10, 25)))
    assert abs(a1.params_exponent - a) < 0.01
    assert a1.tokens_exponent == pytest.approx(1.0 - a1.params_exponent, abs=1e-12)
    # every used grid point's winner is within one size step of the closed-form optimum
    h = np.log(100.0) / 24
    for s in a1.rows():
        if s["used"]:
            for C in (s["flops_from"], s["flops_to"]):
                assert abs(np.log(s["params"] / _n_opt(p, C))) < h * (1 + 1e-6)
    assert a1.optimal_tokens(1e21) == pytest.approx(1e21 / (6 * a1.optimal_params(1e21)), rel=1e-9)


def test_approach1_on_checkpoint_sweep_and_bad_input():
    cs = synthetic.checkpoint_sweep(noise=0.0, budgets=synthetic.DEFAULT_BUDGETS, n_per_budget=9,
                                    n_checkpoints=20, first_fraction=0.01, span=8)
    p = synthetic.EPOCH
    a1 = sl.approach1(cs)
    assert abs(a1.params_exponent - p["beta"] / (p["alpha"] + p["beta"])) < 0.01  # measured 0.0024
    assert "Approach 1" in a1.report()
    with pytest.raises(DataError, match="'run'"):
        sl.approach1(synthetic.chinchilla_sweep(noise=0.0))
    with pytest.raises(DataError, match="at least 3 runs"):
        sl.approach1(_curves(p, [1e8, 1e9]))


def test_resampled_intervals():
    """Hoffmann et al.'s 10th-90th percentile intervals over 80% subsets. On 40 noisy sweeps (1% noise in
    log loss, seeds 0..39) the interval covers the true a in 27 (measured); 80%-subsets under-disperse, so
    the test asks only for coverage between 50% and 95% (a binomial(40, 0.8) lies within with probability
    ~0.99 and a badly broken interval, e.g. centred off a or of width 0, would not)."""
    p = synthetic.EPOCH
    a_true = p["beta"] / (p["alpha"] + p["beta"])
    hits = 0
    for s in range(40):
        a2 = sl.approach2(synthetic.chinchilla_sweep(noise=0.01, seed=s), resamples=50, seed=s)
        lo, hi = a2.params_exponent_interval
        assert lo < hi
        hits += lo <= a_true <= hi
        blo, bhi = a2.tokens_exponent_interval
        assert blo == pytest.approx(1 - hi, abs=1e-12) and bhi == pytest.approx(1 - lo, abs=1e-12)
    assert 20 <= hits <= 38
    again = sl.approach2(synthetic.chinchilla_sweep(noise=0.01, seed=39), resamples=50, seed=39)
    assert again.params_exponent_interval == a2.params_exponent_interval
    with pytest.raises(DataError, match="resamples"):
        sl.approach2(synthetic.chinchilla_sweep(noise=0.0), resamples=5)


def _points_under_legend(ax):
    """How many drawn data points (the scatter of runs) lie inside the legend's box, in display coordinates."""
    ax.figure.canvas.draw()
    box = ax.get_legend().get_window_extent()
    runs = ax.collections[0]  # the runs are scattered first
    xy = ax.transData.transform(np.asarray(runs.get_offsets()))
    inside = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)
    return int(inside.sum()), len(xy)


@pytest.mark.parametrize("paper", [False, True])
def test_isoflop_legend_covers_no_run(epoch_runs, epoch_fit, paper):
    # the rule "no legend covering the data", on Epoch's digitised runs and on the bundled
    # synthetic sweep, at the default size and at one column's width (the paper style)
    import contextlib

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scalinglaws import plot

    synth = sl.read_runs(Path(__file__).resolve().parents[1] / "data" / "synthetic_chinchilla.csv")
    with warnings.catch_warnings(), (plot.paper_style() if paper else contextlib.nullcontext()):
        warnings.simplefilter("ignore", UserWarning)
        for runs, fit in ((epoch_runs, epoch_fit), (synth, sl.fit(sl.laws.Chinchilla(), synth))):
            ax = plot.isoflop(runs, fit)
            try:
                covered, total = _points_under_legend(ax)
                assert total == len(runs)
                assert covered == 0, f"{covered} of {total} runs under the legend"
            finally:
                plt.close(ax.figure)


def test_report_table_shows_why_a_group_is_left_out(epoch_runs):
    # Epoch's file has budget groups of 1-2 runs: the table shows "-" for their empty cells (no
    # "nan") and why each is left out; rows() keeps the numbers (NaN) and the full reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a2 = sl.approach2(epoch_runs)
    text = a2.report()
    assert "nan" not in text.lower()
    left = [r for r in a2.rows() if not r["used"]]
    assert left and all(np.isnan(r["params_opt"]) for r in left)
    lines = [ln for ln in text.splitlines() if ln.rstrip().endswith(("no (< 3 runs)", "yes", "no (opens down)",
                                                                      "no (min outside N)", "yes (no D min)"))]
    assert len(lines) == len(a2.budgets)
    assert sum(ln.rstrip().endswith("no (< 3 runs)") for ln in lines) == sum(
        r["reason"].startswith("fewer than 3 runs") for r in a2.rows())
