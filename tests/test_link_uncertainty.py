"""The link's uncertainty in best_config / smaller_vs_larger: a Bootstrap of the link fit as the
accuracy model's ``link``, paired draw for draw with the loss law's Bootstrap.

The independent path: for each pair i, rebuild the accuracy model from link draw i's PUBLIC
parameters with the NumPy ``sigmoid_link`` formula (not the fitted law's JAX prediction the
library evaluates), call the point solver with loss draw i's parameters (a Law plus params=), and
compare draw for draw (relative 1e-9).
"""

import json
import warnings

import numpy as np
import pytest

import scalinglaws as sl
from scalinglaws import synthetic
from scalinglaws.cli import _json_default, main
from scalinglaws.errors import LawError
from scalinglaws.fitting.bootstrap import Bootstrap
from scalinglaws.optimize import VerifierAccuracyModel
from scalinglaws.optimize.best_config import (CONFIG_QUANTITIES, CoverageAccuracyModel, Integers, best_config,
                                             frontier, sigmoid_link, smaller_vs_larger)

E, A, B, AL, BE = (synthetic.EPOCH[k] for k in ("E", "A", "B", "alpha", "beta"))
L8 = E + A / 8e9 ** AL + B / 15e12 ** BE  # Epoch's loss of 8B / 70B params on 15T tokens
L70 = E + A / 70e9 ** AL + B / 15e12 ** BE
# small searches (k up to 256) and a coverage law that does not saturate there
BC = dict(total_flops=1e25, queries=1e9, tokens_per_sample=1000.0, samples=Integers(1, 256))
SVL = dict(small=[1e9, 3e9, 8e9], large=[30e9, 70e9], total_flops=1e25, queries=np.geomspace(1e6, 1e11, 11),
           tokens_per_sample=1000.0, samples=Integers(1, 256))
COVER = dict(coverage_exponent=-0.45)
N_LINK, N_LOSS = 40, 50


def _quiet(f, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **kw)


@pytest.fixture(scope="module")
def fits():
    """A Chinchilla fit of Epoch's synthetic sweep with 50 draws, and a sigmoid link (24 evals across
    the 70B..8B losses, accuracy noise 0.02) with 40 draws."""
    runs = synthetic.chinchilla_sweep(synthetic.EPOCH, noise=0.02, seed=3)
    fit = _quiet(sl.fit, sl.laws.Chinchilla(), runs, objective=sl.LeastSquares())
    bs = _quiet(sl.bootstrap, fit, runs, n=N_LOSS, seed=0, progress=False)
    L = np.linspace(L70 - 0.15, L8 + 0.3, 24)
    acc = 0.02 + 0.7 / (1 + np.exp(12 * (L - (L8 + L70) / 2))) + 0.02 * np.random.default_rng(0).standard_normal(24)
    evals = {"loss": L, "accuracy": acc}
    lf = _quiet(sl.fit, sl.laws.SigmoidLink(), evals, objective=sl.LeastSquares())
    lb = _quiet(sl.bootstrap, lf, evals, n=N_LINK, seed=0, progress=False)
    assert bs.ok.all() and lb.ok.all()
    return fit, bs, lf, lb, evals


def _rows(bs):
    law = bs.fit.law
    return [dict(zip(law.param_names, (float(t) for t in th))) for th in bs.draws[bs.ok]]


def _numpy_link(lb, i):
    """Link draw i as the NumPy sigmoid_link of its public parameters (a, b, k, L0)."""
    q = lb.fit.law.public(dict(zip(lb.fit.law.param_names, lb.draws[lb.ok][i])))
    return sigmoid_link(midpoint=q["L0"], slope=-q["k"], floor=q["b"], ceiling=q["a"] + q["b"])


def _same_draws(lf, n):
    """A Bootstrap of the link whose every draw is the point fit."""
    return Bootstrap(fit=lf, draws=np.tile(lf.theta, (n, 1)), objectives=np.full(n, lf.objective), unit="rows",
                     seed=0, n_failed=0)


def test_identical_link_draws_give_the_loss_only_intervals(fits):
    """Link draws all equal to the point fit: the joint intervals are the loss-only ones (the same
    numbers up to rounding: rel 1e-12), the pairing uses min(50, 40) = 40 loss draws and says so."""
    fit, bs, lf, _, _ = fits
    same = _same_draws(lf, N_LOSS)
    for model_of in (lambda link: CoverageAccuracyModel(link, **COVER),
                     lambda link: VerifierAccuracyModel(link, tpr=0.9, fpr=0.1, concentration=0.5)):
        joint = _quiet(best_config, bs, accuracy_model=model_of(same), **BC)
        alone = _quiet(best_config, bs, accuracy_model=model_of(lf), **BC)
        for q in CONFIG_QUANTITIES:
            np.testing.assert_allclose(joint.draws[q], alone.draws[q], rtol=1e-12)
        for q, (lo, hi) in alone.interval(0.9).items():
            assert joint.interval(0.9)[q] == pytest.approx((lo, hi), rel=1e-12)
        assert any("50 paired draws" in n for n in joint.notes)
    # 40 identical link draws against 50 loss draws: the first 40 of the loss's
    short = _quiet(best_config, bs, accuracy_model=CoverageAccuracyModel(_same_draws(lf, N_LINK), **COVER), **BC)
    alone = _quiet(best_config, bs, accuracy_model=CoverageAccuracyModel(lf, **COVER), **BC)
    np.testing.assert_allclose(short.draws["accuracy"], alone.draws["accuracy"][:N_LINK], rtol=1e-12)
    assert any("first 40 of each are paired" in n for n in short.notes)
    # a plain loss fit and identical link draws: zero-width intervals at the point answer
    flat = _quiet(best_config, fit, accuracy_model=CoverageAccuracyModel(same, **COVER), **BC)
    lo, hi = flat.interval(0.95)["accuracy"]
    assert lo == pytest.approx(flat.accuracy, rel=1e-12) and hi == pytest.approx(flat.accuracy, rel=1e-12)


@pytest.mark.parametrize("kind", ["coverage", "verifier"])
def test_joint_draws_match_an_independent_loop(fits, kind):
    """Pair i = loss draw i with link draw i, each re-solved by the point solver from a model rebuilt
    from the link draw's public parameters; the library's draws match within rel 1e-9."""
    fit, bs, lf, lb, _ = fits

    def model(link):
        if kind == "coverage":
            return CoverageAccuracyModel(link, **COVER)
        return VerifierAccuracyModel(link, tpr=0.9, fpr=0.1)

    got = _quiet(best_config, bs, accuracy_model=model(lb), **BC)
    point = _quiet(best_config, fit, accuracy_model=model(lf), **BC)
    loss_rows = _rows(bs)[:N_LINK]
    ref = [_quiet(best_config, fit.law, params=loss_rows[i], accuracy_model=model(_numpy_link(lb, i)), **BC)
           for i in range(N_LINK)]
    assert got.draws["accuracy"].shape == (N_LINK,)
    for q in ("accuracy", "params", "tokens", "samples", "loss"):
        np.testing.assert_allclose(got.draws[q], [getattr(r, q) for r in ref], rtol=1e-9)
        assert getattr(got, q) == pytest.approx(getattr(point, q), rel=1e-12)  # the point: the link's point fit
    lo, hi = np.quantile([r.accuracy for r in ref], [0.05, 0.95])
    assert got.interval(0.9)["accuracy"] == pytest.approx((lo, hi), rel=1e-9)


def test_plain_loss_fit_with_link_bootstrap(fits):
    """A plain loss Fit: the loss-only interval has zero width, so the link's must be at least as
    wide; it is strictly wider here, and its draws are the loop's over the link's draws alone."""
    fit, _, lf, lb, _ = fits
    got = _quiet(best_config, fit, accuracy_model=CoverageAccuracyModel(lb, **COVER), **BC)
    ref = [_quiet(best_config, fit.law, params=dict(fit.internal),
                  accuracy_model=CoverageAccuracyModel(_numpy_link(lb, i), **COVER), **BC) for i in range(N_LINK)]
    np.testing.assert_allclose(got.draws["accuracy"], [r.accuracy for r in ref], rtol=1e-9)
    lo, hi = got.interval(0.9)["accuracy"]
    assert hi - lo > 1e-3 and lo < got.accuracy < hi
    assert any("link's 40 draws alone" in n for n in got.notes)
    # a Law with params= (and None, Hoffmann's law) as the fixed loss work too
    by_law = _quiet(best_config, fit.law, params=dict(fit.internal),
                    accuracy_model=CoverageAccuracyModel(lb, **COVER), **BC)
    np.testing.assert_allclose(by_law.draws["accuracy"], got.draws["accuracy"], rtol=1e-12)
    hoff = _quiet(best_config, None, accuracy_model=CoverageAccuracyModel(lb, **COVER), **BC)
    assert hoff.draws["accuracy"].shape == (N_LINK,)
    assert "[[Intervals]]" in got.report() and json.loads(json.dumps(got.to_dict()))["draws"] == N_LINK


def test_smaller_vs_larger_crossover_carries_the_link(fits):
    """The crossover: with a plain loss fit its loss-only interval is a point, with the link's
    draws it is wider; with both Bootstraps each draw's crossover is the loop's (rel 1e-9)."""
    fit, bs, lf, lb, _ = fits
    fixed = _quiet(smaller_vs_larger, fit, CoverageAccuracyModel(lf, **COVER), **SVL)
    assert fixed.crossover is not None
    linked = _quiet(smaller_vs_larger, fit, CoverageAccuracyModel(lb, **COVER), **SVL)
    assert linked.crossover == pytest.approx(fixed.crossover, rel=1e-12)
    lo, hi = linked.interval(0.9)["crossover"]
    assert hi / lo > 1.01 and lo < fixed.crossover < hi
    joint = _quiet(smaller_vs_larger, bs, CoverageAccuracyModel(lb, **COVER), **SVL)
    loss_rows = _rows(bs)[:N_LINK]
    ref = [_quiet(smaller_vs_larger, fit.law, CoverageAccuracyModel(_numpy_link(lb, i), **COVER),
                  params=loss_rows[i], **SVL) for i in range(N_LINK)]
    want = np.array([np.nan if r.crossover is None else r.crossover for r in ref])
    np.testing.assert_allclose(joint.draws["crossover"], want, rtol=1e-9)
    np.testing.assert_allclose(joint.draws["gain"], np.stack([r.gain for r in ref]), rtol=1e-9, atol=1e-12)


def test_bad_link_bootstraps(fits):
    fit, bs, lf, lb, _ = fits
    with pytest.raises(LawError, match="one-input link law") as e:  # a Bootstrap of the (N, D) loss law
        CoverageAccuracyModel(bs)
    assert e.value.rule == "bad link" and "chinchilla" in str(e.value)
    with pytest.raises(LawError, match="one-input link law") as e:
        VerifierAccuracyModel(bs, tpr=0.9, fpr=0.1)
    assert e.value.rule == "bad link" and "VerifierAccuracyModel" in str(e.value)
    wrong = Bootstrap(fit=lf, draws=np.zeros((5, 3)), objectives=np.zeros(5), unit="rows", seed=0, n_failed=0)
    with pytest.raises(LawError, match=r"\(5, 3\)") as e:
        CoverageAccuracyModel(wrong)
    assert e.value.rule == "bad link"
    with pytest.raises(LawError, match="params= goes with a Law"):
        best_config(bs, params=dict(fit.internal), accuracy_model=CoverageAccuracyModel(lb), **BC)

    class Opaque:  # a user's model holding a Bootstrap link that cannot be rebuilt with another one
        link = lb

        def __call__(self, loss, k):
            return np.zeros(np.broadcast(loss, k).shape)

    with pytest.raises(LawError, match="cannot be rebuilt") as e:
        best_config(fit, accuracy_model=Opaque(), **BC)
    assert e.value.rule == "bad accuracy model"
    arch = sl.Architecture(d_model=1024, n_layers=16, ffn_size=4096, n_heads=16, vocab_size=32000)
    with pytest.raises(LawError, match="link") as e:
        best_config(fit, accuracy_model=CoverageAccuracyModel(lb), architectures=[arch], **BC)
    assert e.value.rule == "bad argument"
    # frontier has no intervals: it uses the point fit and says so
    fr = _quiet(frontier, fit, CoverageAccuracyModel(lb, **COVER), total_flops=[1e24, 1e25], queries=1e9,
                samples=Integers(1, 64))
    assert any("point fit" in n for n in fr.notes)


# --------------------------------------------------------------------------- CLI

def test_cli_optimize_link_bootstrap(fits, tmp_path, capsys):
    """optimize FIT --link LINK --bootstrap N: the link file's draws join the loss file's; a note says so.
    The loss file is the fixture's fit and draws as 'fit -o' saves them; the link file is made by the CLI."""
    fit, bs, _, _, evals = fits
    evals_csv = tmp_path / "evals.csv"
    evals_csv.write_text("loss,accuracy\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in
                                                       zip(evals["loss"], evals["accuracy"])) + "\n")
    fit_json, link_json, plain_link = tmp_path / "fit.json", tmp_path / "link.json", tmp_path / "plain.json"
    fit_json.write_text(json.dumps({**fit.to_dict(), "bootstrap": bs.to_dict(draws=True)}, default=_json_default))
    assert main(["fit", str(evals_csv), "--law", "sigmoid_link", "--objective", "least_squares", "--bootstrap", "20",
                 "-o", str(link_json), "-q"]) == 0
    assert main(["fit", str(evals_csv), "--law", "sigmoid_link", "--objective", "least_squares",
                 "-o", str(plain_link), "-q"]) == 0
    capsys.readouterr()
    base = ["optimize", str(fit_json), "--flops", "1e25", "--queries", "1e9", "--tokens-per-query", "1000",
            "--samples", "1", "4", "16", "64", "256", "--coverage-exponent", "-0.45", "--bootstrap", "10"]
    assert main(base + ["--link", str(link_json), "--json"]) == 0
    out = capsys.readouterr()
    (row,) = json.loads(out.out)
    assert "link's uncertainty" in out.err
    lo, hi = row["accuracy_90"]
    assert lo <= row["accuracy"] <= hi and row["draws"] == 10
    # the same through the library: the first 10 draws of each file, paired
    from scalinglaws.fitting.bootstrap import load_bootstrap
    import dataclasses
    bl, bk = load_bootstrap(fit_json), load_bootstrap(link_json)
    cut = lambda b: dataclasses.replace(b, draws=b.draws[:10], objectives=b.objectives[:10])  # noqa: E731
    lib = _quiet(best_config, cut(bl), accuracy_model=CoverageAccuracyModel(cut(bk), **COVER), total_flops=1e25,
                 queries=1e9, tokens_per_sample=1000.0, samples=[1, 4, 16, 64, 256])
    assert (lo, hi) == pytest.approx(lib.interval(0.9)["accuracy"], rel=1e-9)
    # text output names it too; a link file without draws: the loss's intervals alone, and a note
    assert main(base + ["--link", str(link_json)]) == 0
    text = capsys.readouterr().out
    assert "[[Intervals]]" in text and "link's uncertainty" in text
    assert main(base + ["--link", str(plain_link), "--json"]) == 0
    out = capsys.readouterr()
    assert "holds no bootstrap draws" in out.err and json.loads(out.out)[0]["draws"] == 10
    # a loss file without draws: the link's draws alone; neither file with draws: the usage error
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(fit.to_dict(), default=_json_default))
    alone = ["optimize", str(bare)] + base[2:]
    assert main(alone + ["--link", str(link_json), "--json"]) == 0
    out = capsys.readouterr()
    assert "link's uncertainty alone" in out.err and json.loads(out.out)[0]["draws"] == 10
    assert main(alone + ["--link", str(plain_link)]) != 0
    assert "holds no bootstrap draws" in capsys.readouterr().err
    # more draws asked for than the link file holds: the usage error names the file
    assert main(base[:-1] + ["25", "--link", str(link_json)]) != 0
    assert "link.json" in capsys.readouterr().err
