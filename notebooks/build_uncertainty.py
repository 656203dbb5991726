"""Writes notebooks/uncertainty.ipynb (run: python notebooks/build_uncertainty.py).

Uncertainty on the bundled sweep end to end: a fit, its bootstrap, curvature standard errors,
an extrapolation backtest, a NUTS posterior, intervals on compute_optimal and on
smaller_vs_larger, and the pairs figure. Settings are small so that tests/test_notebooks.py
runs it in the suite; raise them for real use. The cells assert what they claim.
"""

from pathlib import Path

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell

cells = [
    md("# Uncertainty: bootstrap, curvature, backtest, posterior\n\n"
       "The bundled sweep `data/synthetic_chinchilla.csv` was drawn (seeded) from Epoch's published parameters "
       "(Besiroglu et al. 2024) with 1% noise, so every interval below can be checked against the truth. The "
       "resample and draw counts are kept small so the notebook runs in the test suite; use 1,000 resamples and "
       "4 x 1,000 draws for a paper."),
    code("%matplotlib inline\n"
         "import warnings\n"
         "from pathlib import Path\n"
         "import numpy as np\n"
         "import matplotlib.pyplot as plt\n"
         "import scalinglaws as sl\n"
         "from scalinglaws import plot, synthetic\n\n"
         "root = Path(sl.__file__).resolve().parents[1]\n"
         "csv = root / 'data' / 'synthetic_chinchilla.csv'\n"
         "runs = sl.read_runs(csv if csv.exists() else synthetic.demo_sweep())\n"
         "fit = sl.fit(sl.laws.Chinchilla(), runs)\n"
         "truth = synthetic.EPOCH\n"
         "print(fit.report())"),
    md("## Bootstrap\n\nResample the runs with replacement and refit every resample (one batched solve)."),
    code("with warnings.catch_warnings():\n"
         "    warnings.simplefilter('ignore')\n"
         "    boot = sl.bootstrap(fit, runs, n=80, seed=0, starts=1, progress=False)\n"
         "iv = boot.interval(0.9)\n"
         "se = boot.se()\n"
         "for k in fit.params:\n"
         "    print(f'{k:>6}: {fit.params[k]:10.4g}  se {se[k]:9.3g}  90% ({iv[k][0]:.4g}, {iv[k][1]:.4g})  truth {truth[k]:.4g}')\n"
         "a_draws = boot.public_draws()['beta'] / (boot.public_draws()['alpha'] + boot.public_draws()['beta'])\n"
         "print(f'a = beta/(alpha+beta): 90% ({np.quantile(a_draws, 0.05):.4f}, {np.quantile(a_draws, 0.95):.4f}), '\n"
         "      f'truth {truth[\"beta\"] / (truth[\"alpha\"] + truth[\"beta\"]):.4f}')\n"
         "assert all(se[k] > 0 for k in fit.params)"),
    md("## Curvature\n\nStandard errors from the Hessian of the objective at the fit (no refits): cheap, and "
       "close to the bootstrap when the surface is near quadratic."),
    code("cv = sl.fitting.curvature(fit, runs)\n"
         "cse = cv.se()\n"
         "for k in fit.params:\n"
         "    print(f'{k:>6}: curvature se {cse[k]:9.3g}   bootstrap se {se[k]:9.3g}   ratio {cse[k] / se[k]:5.2f}')\n"
         "assert all(np.isfinite(cse[k]) and cse[k] > 0 for k in fit.params)"),
    md("## Backtest\n\nFit on the cheapest 80% of the runs (by compute), predict the rest with bootstrap "
       "intervals: does the law extrapolate, and do its intervals cover?"),
    code("with warnings.catch_warnings():\n"
         "    warnings.simplefilter('ignore')\n"
         "    bt = sl.backtest(sl.laws.Chinchilla(), runs, holdout='compute', n_boot=30, seed=0)\n"
         "print(bt.report()[:1500])\n"
         "print(f'held-out runs: {bt.n}, rmse {bt.rmse:.4g}, coverage of 90% intervals {bt.coverage:.0%}')\n"
         "assert bt.n > 0 and np.isfinite(bt.rmse)"),
    md("## Posterior (NUTS)\n\nA Bayesian alternative: two short chains started at the fit, a dense mass matrix "
       "started at the Laplace approximation."),
    code("with warnings.catch_warnings():\n"
         "    warnings.simplefilter('ignore')\n"
         "    post = sl.posterior(fit, runs, chains=2, draws=250, warmup=250, seed=0, progress=False)\n"
         "piv = post.interval(0.9)\n"
         "for k in fit.params:\n"
         "    print(f'{k:>6}: posterior 90% ({piv[k][0]:.4g}, {piv[k][1]:.4g})   bootstrap 90% ({iv[k][0]:.4g}, {iv[k][1]:.4g})'\n"
         "          f'   r-hat {post.rhat.get(k, float(\"nan\")):.3f}')\n"
         "print(f'divergences: {post.divergences}')\n"
         "assert piv['alpha'][0] < fit.params['alpha'] < piv['alpha'][1]"),
    md("## Pairs\n\nThe draws two by two, with the point estimate (red): the Chinchilla parameters are strongly "
       "correlated (A with alpha, B with beta), which is why single-parameter intervals understate how well the "
       "allocation itself is known."),
    code("fig = plot.posterior_pairs(boot, ['E', 'A', 'alpha', 'B', 'beta'])\n"
         "fig.tight_layout()\n"
         "fig2 = plot.posterior_pairs(post, ['A', 'alpha', 'B', 'beta'])\n"
         "fig2.tight_layout()\n"
         "d = boot.public_draws()\n"
         "r = np.corrcoef(np.log(d['A']), d['alpha'])[0, 1]\n"
         "print(f'bootstrap correlation of log A and alpha: {r:.3f}')\n"
         "assert len(fig.axes) == 25 and len(fig2.axes) == 16"),
    md("## Intervals on the allocation\n\nPassing the Bootstrap (or the Posterior) in place of the fit re-solves "
       "the allocation at every draw."),
    code("C = np.array([1e21, 1e23, 1e25])\n"
         "with warnings.catch_warnings():\n"
         "    warnings.simplefilter('ignore')  # 1e25 extrapolates far past the runs, knowingly\n"
         "    by_boot = sl.compute_optimal(boot, flops=C)\n"
         "    by_post = sl.compute_optimal(post, flops=C)\n"
         "    exact = sl.compute_optimal(sl.laws.Chinchilla(), flops=C, params=truth)\n"
         "bi, pi_ = by_boot.interval(0.9)['params'], by_post.interval(0.9)['params']\n"
         "for j, c in enumerate(C):\n"
         "    print(f'C = {c:.0e}: N* = {by_boot.params[j]:.3g}  bootstrap 90% ({bi[0][j]:.3g}, {bi[1][j]:.3g})  '\n"
         "          f'posterior 90% ({pi_[0][j]:.3g}, {pi_[1][j]:.3g})  truth {exact.params[j]:.3g}')\n"
         "fig, ax = plt.subplots(figsize=(6.5, 4))\n"
         "plot.plot_loss_frontier(boot, runs, ax=ax); fig.tight_layout()\n"
         "assert np.all(bi[0] <= by_boot.params) and np.all(by_boot.params <= bi[1])"),
    md("## An interval on the crossover\n\nSmaller models with more samples against larger ones at 1e23 total "
       "FLOPs. Accuracy: a sigmoid link from loss to per-sample success and best-of-k through an imperfect "
       "verifier (true-positive rate 0.9, false-positive rate 0.05), which saturates in k, so the best k stays far "
       "below the search bound (every integer up to 2^20 is searched). Re-solved at every bootstrap draw, the "
       "crossover query volume gets an interval."),
    code("acc = sl.optimize.VerifierAccuracyModel(sl.optimize.sigmoid_link(2.1, 10.0), tpr=0.9, fpr=0.05)\n"
         "Q = np.geomspace(1e3, 1e10, 15)\n"
         "with warnings.catch_warnings():\n"
         "    warnings.simplefilter('ignore')\n"
         "    cmp = sl.smaller_vs_larger(boot, acc, small=[1e9, 3e9], large=[1e10, 3e10], total_flops=1e23, queries=Q,\n"
         "                               tokens_per_sample=500.0)\n"
         "civ = cmp.interval(0.9)\n"
         "print(cmp.report()[:1500])\n"
         "assert cmp.crossover is not None and not cmp.small_bound_hit.any() and not cmp.large_bound_hit.any()\n"
         "print(f'crossover {cmp.crossover:.3g} queries, 90% interval ({civ[\"crossover\"][0]:.3g}, {civ[\"crossover\"][1]:.3g}); '\n"
         "      f'{100 * cmp.no_crossover_share:.0f}% of draws have none')\n"
         "fig, ax = plt.subplots(figsize=(6.5, 3.5))\n"
         "plot.gain_vs_queries(cmp, ax=ax); fig.tight_layout()\n"
         "lo, hi = civ['gain']\n"
         "ok = np.isfinite(cmp.gain)\n"
         "assert np.all(lo[ok] <= hi[ok])"),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
out = Path(__file__).with_name("uncertainty.ipynb")
nbf.write(nb, out)
print(f"wrote {out}")
