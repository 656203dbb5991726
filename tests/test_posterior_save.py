"""Saving and loading a NUTS posterior (``Posterior.save``, ``sl.load_posterior``) and the CLI's
``fit --posterior DRAWS -o`` / ``optimize --posterior``.

One posterior for the module: 2 chains x 100 draws (100 warmup) on the bundled
data/synthetic_chinchilla.csv (about 8 s of CPU, most of it compiling; the CLI's run of the same
model then hits the compilation cache). The draws are written as JSON float reprs, which read
back to the same float64, so the round trip is checked for exact equality on purpose; everything
else uses stated tolerances.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic_chinchilla.csv"
FLOPS = [1e21, 1e22, 1e23]
SAMPLER = dict(chains=2, draws=100, warmup=100, seed=42)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    runs = sl.read_runs(DATA)
    fit = sl.fit(sl.laws.Chinchilla(), runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 100 draws: the low-ESS warning is expected
        post = sl.posterior(fit, runs, progress=False, **SAMPLER)
    path = post.save(tmp_path_factory.mktemp("post") / "fit.json")
    return runs, fit, post, path


def test_round_trip_is_exact(saved):
    _, fit, post, path = saved
    back = sl.load_posterior(path)
    assert isinstance(back, sl.Posterior) and back.mcmc is None
    assert back.draws.dtype == np.float64 and back.draws.shape == (200, 5)
    assert np.array_equal(back.draws, post.draws)                 # float64 reprs: exact
    assert np.array_equal(back.sigma, post.sigma) and back.nu is None and post.nu is None
    assert back.rhat == post.rhat and back.ess == post.ess and back.ess_tail == post.ess_tail
    for k in ("chains", "draws_per_chain", "warmup", "seed", "likelihood", "space", "divergences", "accept_prob",
              "mean_steps", "sigma_name", "nu_name", "priors", "notes", "warnings"):
        assert getattr(back, k) == getattr(post, k), k
    assert back.settings == post.settings
    assert back.settings["target_accept"] == 0.9 and back.settings["data_hash"] == fit.data_hash
    assert back.fit.params == fit.params and back.fit.internal == fit.internal
    for level in (0.9, 0.95):
        assert back.interval(level) == post.interval(level)
    # the file is a fit file too
    assert sl.load_fit(path).params == fit.params
    # passing the fit already read gives the same draws
    assert np.array_equal(sl.load_posterior(path, fit=sl.load_fit(path)).draws, post.draws)


def test_file_layout_per_chain_and_public(saved):
    _, fit, post, path = saved
    d = json.loads(Path(path).read_text())["posterior"]
    names = d["param_names"]
    assert names == list(fit.law.param_names) == ["a", "b", "e", "alpha", "beta"]
    assert len(d["draws"]) == 2 and len(d["draws"][0]) == 100 and len(d["draws"][0][0]) == 5
    # chains one after the other in Posterior.draws: chain 1, draw 7 is row 107
    assert d["draws"][1][7] == post.draws[107].tolist()
    assert d["sigma"][1][7] == float(post.sigma[107])
    # public draws: Chinchilla's A = exp(a), E = exp(e), alpha itself (Besiroglu et al.'s parametrisation)
    a = np.array(d["draws"])[..., names.index("a")]
    e = np.array(d["draws"])[..., names.index("e")]
    np.testing.assert_allclose(np.array(d["public_draws"]["A"]), np.exp(a), rtol=1e-12)
    np.testing.assert_allclose(np.array(d["public_draws"]["E"]), np.exp(e), rtol=1e-12)
    assert d["public_draws"]["alpha"] == np.array(d["draws"])[..., names.index("alpha")].tolist()
    assert d["chains"] == 2 and d["draws_per_chain"] == 100 and d["warmup"] == 100 and d["seed"] == 42
    assert d["likelihood"] == "gaussian" and d["divergences"] == post.divergences
    assert set(d["rhat"]) == {"E", "A", "B", "alpha", "beta", "sigma"}
    assert {"dense_mass", "max_tree_depth", "laplace_mass", "nu", "priors_given"} <= set(d["settings"])


def test_optimize_with_loaded_posterior_matches_in_memory(saved):
    _, _, post, path = saved
    back = sl.load_posterior(path)
    a, b = sl.compute_optimal(post, flops=FLOPS), sl.compute_optimal(back, flops=FLOPS)
    for level in (0.9, 0.95):
        ia, ib = a.interval(level), b.interval(level)
        assert set(ia) == set(ib) == {"params", "tokens", "loss", "tokens_per_param"}
        for k in ia:
            np.testing.assert_allclose(ib[k][0], ia[k][0], rtol=1e-12)
            np.testing.assert_allclose(ib[k][1], ia[k][1], rtol=1e-12)
    la = sl.lowest_loss(post, total_flops=np.array(FLOPS), inference_tokens=1e12)
    lb = sl.lowest_loss(back, total_flops=np.array(FLOPS), inference_tokens=1e12)
    for k, (lo, hi) in la.interval(0.9).items():
        np.testing.assert_allclose(lb.interval(0.9)[k][0], lo, rtol=1e-12)
        np.testing.assert_allclose(lb.interval(0.9)[k][1], hi, rtol=1e-12)
    # and the law's own prediction band
    m, lo, hi = back.predict(params=7e10, tokens=1.4e12, level=0.9, kind="mean")
    m0, lo0, hi0 = post.predict(params=7e10, tokens=1.4e12, level=0.9, kind="mean")
    np.testing.assert_allclose([m, lo, hi], [m0, lo0, hi0], rtol=1e-12)


def test_student_t_noise_draws_round_trip(saved, tmp_path):
    """The nu draws of a Student-t posterior (here put on the module's posterior by hand, so no
    second sampling run: the file format is what is under test) and a non-finite draw (null)."""
    import dataclasses

    _, _, post, _ = saved
    nu = np.linspace(2.0, 40.0, post.n) ** 1.1
    draws = post.draws.copy()
    draws[3, 1] = np.nan
    t = dataclasses.replace(post, nu=nu, nu_name="nu", likelihood="student_t", draws=draws, mcmc=None)
    back = sl.load_posterior(t.save(tmp_path / "t.json"))
    assert back.likelihood == "student_t" and back.nu_name == "nu"
    assert np.array_equal(back.nu, nu)
    assert np.isnan(back.draws[3, 1]) and np.array_equal(np.isnan(back.draws), np.isnan(draws))
    assert np.array_equal(back.draws[~np.isnan(draws)], draws[~np.isnan(draws)])
    assert back.ok.sum() == post.n - 1
    d = json.loads((tmp_path / "t.json").read_text())["posterior"]
    assert d["draws"][0][3][1] is None and d["public_draws"]["B"][0][3] is None


def test_loaded_posterior_has_no_sampler_state(saved):
    *_, path = saved
    with pytest.raises(sl.LawError) as err:
        sl.load_posterior(path).to_inference_data()
    assert err.value.rule == "no sampler" and "loaded from a file" in str(err.value)


def _edit(path, tmp_path, change):
    d = json.loads(Path(path).read_text())
    change(d)
    out = tmp_path / "edited.json"
    out.write_text(json.dumps(d))
    return out


def test_bad_files_raise_clear_errors(saved, tmp_path):
    _, fit, post, path = saved
    plain = fit.save(tmp_path / "plain.json")
    with pytest.raises(sl.LawError, match="holds no posterior draws") as err:
        sl.load_posterior(plain)
    assert err.value.rule == "no posterior" and str(plain) in str(err.value)
    with pytest.raises(sl.LawError, match="no such fit file"):
        sl.load_posterior(tmp_path / "missing.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(sl.LawError, match="invalid JSON"):
        sl.load_posterior(tmp_path / "junk.json")
    cases = [
        # the summary printed by --json (no draws)
        (lambda d: d.__setitem__("posterior", post.to_dict()), "no draws", "holds no draws"),
        (lambda d: d["posterior"]["draws"][1].pop(), "invalid posterior entry", r"expected \(2, 100, 5\)"),
        (lambda d: d["posterior"]["draws"][0][3].__setitem__(2, "x"), "invalid posterior entry", "'x', not a number"),
        (lambda d: d["posterior"]["sigma"].pop(), "invalid posterior entry", "sigma draws"),
        (lambda d: d["posterior"].__setitem__("likelihood", "cauchy"), "invalid posterior entry", "cauchy"),
        (lambda d: d["posterior"].__setitem__("chains", 0), "invalid posterior entry", "'chains' is 0"),
        (lambda d: d["posterior"]["public_draws"]["A"][0].__setitem__(5, 1.0), "mismatched draws", "draw 5"),
        (lambda d: d["posterior"].__setitem__("param_names", ["a", "b"]), "mismatched draws", "parameters"),
        (lambda d: d["posterior"].__setitem__("format", 99), "invalid posterior entry", "format 99"),
    ]
    for change, rule, words in cases:
        bad = _edit(path, tmp_path, change)
        with pytest.raises(sl.LawError, match=words) as err:
            sl.load_posterior(bad)
        assert err.value.rule == rule, (rule, str(err.value))
        assert str(bad) in str(err.value)
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({"by": "dataset", "groups": {"a": fit.to_dict()}}))
    with pytest.raises(sl.LawError, match="fits per group carry no posterior") as err:
        sl.load_posterior(groups)
    assert err.value.rule == "group fits file"


def test_cli_fit_posterior_then_optimize(saved, tmp_path, capsys):
    _, _, post, _ = saved
    out = tmp_path / "cli_fit.json"
    rc = main(["fit", str(DATA), "--posterior", "100", "--chains", "2", "--warmup", "100", "--seed", "42",
               "-q", "-o", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "[[Posterior]]" in text and "2 chains x 100 draws (warmup 100)" in text and "R-hat" in text
    assert "ESS bulk" in text and "95% lo" in text
    cli = sl.load_posterior(out)
    assert (cli.chains, cli.draws_per_chain, cli.warmup, cli.seed) == (2, 100, 100, 42)
    # the same fit, data, seed and settings as the module's posterior: the same chains
    np.testing.assert_allclose(cli.draws, post.draws, rtol=1e-9)
    d = json.loads(out.read_text())
    assert "read_runs" in d and "posterior" in d

    rc = main(["optimize", str(out), "--posterior", "--flops", *map(str, FLOPS), "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert rc == 0 and len(rows) == 3
    want = sl.compute_optimal(cli, flops=FLOPS).interval(0.9)
    for j, r in enumerate(rows):
        np.testing.assert_allclose(r["params_90"], [want["params"][0][j], want["params"][1][j]], rtol=1e-12)
        np.testing.assert_allclose(r["loss_90"], [want["loss"][0][j], want["loss"][1][j]], rtol=1e-12)
        assert r["params_90"][0] < r["params"] < r["params_90"][1]
    rc = main(["optimize", str(out), "--posterior", "--flops", "1e22"])
    text = capsys.readouterr()
    assert rc == 0 and "[[Intervals]] over 200 draws" in text.out
    assert "warning:" in text.err and "ESS below 400" in text.err   # the saved posterior's warnings


@pytest.mark.parametrize("argv, words", [
    (["--posterior", "abc"], "expected a whole number >= 0, got 'abc'"),
    (["--posterior", "-5"], "expected a whole number >= 0"),
    (["--posterior", "2"], "--posterior needs at least 4 draws per chain"),
    (["--posterior", "100", "--chains", "0"], "--chains needs at least 1 chain, got 0"),
    (["--chains", "2"], "--chains goes with --posterior DRAWS"),
    (["--warmup", "10", "--likelihood", "student_t"], "--warmup, --likelihood go with --posterior"),
    (["--posterior", "100", "--likelihood", "cauchy"], "invalid choice: 'cauchy'"),
    (["--posterior", "100", "--by", "params"], "--posterior needs one fit, not --by params"),
])
def test_cli_fit_bad_posterior_options(argv, words, capsys):
    rc = main(["fit", str(DATA), "-q", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and words in err, err
    assert "Traceback" not in err


def test_cli_optimize_posterior_errors(saved, tmp_path, capsys):
    _, fit, _, path = saved
    plain = fit.save(tmp_path / "plain.json")
    rc = main(["optimize", str(plain), "--posterior", "--flops", "1e22"])
    err = capsys.readouterr().err
    assert rc == 2 and "holds no posterior draws" in err and "--posterior 1000" in err
    for extra, words in ((["--bootstrap", "10"], "--posterior and --bootstrap do not go together"),
                         (["--group", "x"], "--posterior and --group do not go together")):
        rc = main(["optimize", str(path), "--posterior", "--flops", "1e22", *extra])
        err = capsys.readouterr().err
        assert rc == 2 and words in err, err


def test_plot_reads_the_saved_posterior(saved, tmp_path, monkeypatch):
    # plot --kind loss_frontier / pairs --posterior: the band and the panels from the saved draws;
    # the band equals compute_optimal's interval over the posterior at the curve's budgets
    from matplotlib.collections import PolyCollection

    from scalinglaws import cli

    runs, _, post, path = saved
    figs = []
    real = cli._save_figure
    monkeypatch.setattr(cli, "_save_figure", lambda fig, p, args, dpi=120: (figs.append(fig), real(fig, p, args, dpi))[1])
    out = tmp_path / "lf.png"
    assert cli.main(["plot", str(path), str(DATA), "--kind", "loss_frontier", "--posterior", "--level", "0.8",
                     "-o", str(out), "-q"]) == 0
    (ax,) = figs[-1].axes
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0]
    line = [ln for ln in ax.lines if "L*(C)" in ln.get_label()][0]
    C = np.asarray(line.get_xdata())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        lo, hi = sl.compute_optimal(post, flops=C).interval(0.8)["loss"]
    verts = band.get_paths()[0].vertices
    assert np.min(verts[:, 1]) == pytest.approx(float(np.min(lo)), rel=1e-9)
    assert np.max(verts[:, 1]) == pytest.approx(float(np.max(hi)), rel=1e-9)
    assert cli.main(["plot", str(path), "--kind", "pairs", "--posterior", "--params", "E", "alpha",
                     "-o", str(tmp_path / "p.png"), "-q"]) == 0
    assert len([a for a in figs[-1].axes if a.get_visible()]) == 3


def test_plot_posterior_bad_input(saved, tmp_path, capsys):
    from scalinglaws import cli

    _, fit, _, path = saved
    plain = fit.save(tmp_path / "plain.json")
    for argv, expect in (([str(plain), "--kind", "pairs", "--posterior"], "holds no posterior draws"),
                         ([str(path), "--kind", "pairs", "--posterior", "--bootstrap", "5"], "do not go together"),
                         ([str(path), "--kind", "frontier", "--posterior"], "applies to --kind")):
        assert cli.main(["plot", *argv, "-o", str(tmp_path / "x.png"), "-q"]) == 2
        err = capsys.readouterr().err
        assert expect in err and "Traceback" not in err, err


def test_cli_optimize_posterior_with_link(saved, tmp_path, capsys):
    # --posterior --link: the loss law's posterior, the link held fixed (a note says so); the same
    # intervals as best_config on the loaded posterior in Python (rtol 1e-12)
    import json

    _, _, _, path = saved
    L = np.linspace(1.8, 3.0, 25)
    evals = tmp_path / "evals.csv"
    evals.write_text("loss,accuracy\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in
                                                  zip(L, 0.05 + 0.8 / (1 + np.exp(8 * (L - 2.2))))) + "\n")
    link = tmp_path / "link.json"
    assert main(["fit", str(evals), "--law", "sigmoid_link", "--objective", "least_squares", "-o", str(link), "-q"]) == 0
    capsys.readouterr()
    rc = main(["optimize", str(path), "--posterior", "--flops", "1e22", "--queries", "1e9", "--tokens-per-query", "100",
               "--link", str(link), "--json"])
    out = capsys.readouterr()
    assert rc == 0 and "the link" in out.err and "held fixed" in out.err
    (row,) = json.loads(out.out)
    post = sl.load_posterior(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sl.best_config(post, accuracy_model=sl.optimize.CoverageAccuracyModel(sl.load_fit(link)), total_flops=1e22,
                              queries=1e9, tokens_per_sample=100)
    lo, hi = want.interval(0.9)["accuracy"]
    assert row["accuracy_90"] == pytest.approx([lo, hi], rel=1e-12)
    assert row["accuracy"] == pytest.approx(want.accuracy, rel=1e-12)
