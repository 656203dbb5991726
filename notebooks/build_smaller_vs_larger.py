"""Writes notebooks/smaller_vs_larger.ipynb (run: python notebooks/build_smaller_vs_larger.py).

The question of the project, answered on a setting built from published
numbers: does a smaller model with more inference beat a larger one at equal
total compute, on which prompts, at which query volume? tests/test_notebooks.py
executes the notebook and its cells assert what they claim.
"""

from pathlib import Path

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell

cells = [
    md("# Smaller model + more inference, or a larger model?\n\n"
       "The setting is built from published numbers only:\n\n"
       "- **loss**: Epoch's refit of Chinchilla (Besiroglu et al. 2024): E = 1.8172, A = 482.01, B = 2085.43, "
       "alpha = 0.3478, beta = 0.3658;\n"
       "- **coverage over k samples**: Brown et al. 2024's exponentiated power law c(k) = exp(a k^b), with "
       "b = -0.45 (their Llama-3 MATH fits give -0.43 and -0.46) and a = log pass@1;\n"
       "- **loss -> pass@1**: a sigmoid link (the form of Bhagia et al. 2024) calibrated on two published points, "
       "Llama-3-8B-Instruct and -70B-Instruct on MATH at pass@1 = 0.266 and 0.477 (Brown et al. 2024, read off "
       "their figure), both trained on about 15T tokens.\n\n"
       "Every sample generates T = 1,000 tokens (a reasoning trace), and every query costs 2 N k T FLOPs. "
       "Coverage assumes an oracle verifier (pass@k), so this is the most favourable case for sampling; swap in a "
       "majority-vote law for a deployable answer. The numbers below are *reproduced from these published inputs*, "
       "not published results."),
    code("%matplotlib inline\n"
         "import math, warnings\n"
         "import numpy as np\n"
         "import matplotlib.pyplot as plt\n"
         "import scalinglaws as sl\n"
         "warnings.simplefilter('ignore')  # every budget here extrapolates beyond Chinchilla's runs, knowingly\n\n"
         "LAW = sl.laws.Chinchilla()\n"
         "EPOCH = {'E': 1.8172, 'A': 482.01, 'B': 2085.43, 'alpha': 0.3478, 'beta': 0.3658}\n"
         "T = 1000.0\n\n"
         "def loss(N, D):\n"
         "    E, A, B, al, be = (EPOCH[k] for k in ('E', 'A', 'B', 'alpha', 'beta'))\n"
         "    return E + A / N**al + B / D**be\n\n"
         "# calibrate the link on the two published pass@1 values\n"
         "L8, L70 = loss(8e9, 15e12), loss(70e9, 15e12)\n"
         "logit = lambda p: math.log(p / (1 - p))\n"
         "slope = (logit(0.477) - logit(0.266)) / (L8 - L70)\n"
         "mid = L8 + logit(0.266) / slope\n"
         "link = sl.optimize.sigmoid_link(midpoint=mid, slope=slope)\n"
         "acc = sl.optimize.CoverageAccuracyModel(link, coverage_exponent=-0.45)\n"
         "print(f'loss 8B: {L8:.4f}, 70B: {L70:.4f}; link midpoint {mid:.4f}, slope {slope:.2f}')\n"
         "assert abs(link(L8) - 0.266) < 1e-9 and abs(link(L70) - 0.477) < 1e-9"),
    md("## Snell et al.'s exchange rate\n\nA model M times smaller (same pretraining data) may spend "
       "M + 3 (M - 1) / R times more inference at equal total FLOPs, R = D_inference / D_pretrain."),
    code("for R in (0.16, 0.79, 22):\n"
         "    print(f'M = 14, R = {R:>5}: the smaller model may spend {sl.exchange_multiplier(14, R):7.2f}x more inference')\n"
         "assert round(sl.exchange_multiplier(14, 0.16), 2) == 257.75"),
    md("## The frontier at 1e9 queries\n\nAccuracy against total compute (training + serving 1e9 queries), each "
       "model size at its best number of samples, and the envelope over sizes."),
    code("C = np.geomspace(1e23, 1e26, 61)\n"
         "sizes = [1e9, 3e9, 8e9, 30e9, 70e9]\n"
         "fr = sl.optimize.frontier(LAW, acc, params=EPOCH, total_flops=C, queries=1e9, sizes=sizes, tokens_per_sample=T)\n"
         "fig, ax = plt.subplots(figsize=(7, 4))\n"
         "for s, row in zip(fr.sizes, fr.accuracy):\n"
         "    ax.plot(C, row, label=f'N = {s / 1e9:g}B')\n"
         "ax.plot(C, fr.envelope_accuracy, 'k--', lw=2, label='envelope')\n"
         "ax.set_xscale('log'); ax.set_xlabel('total FLOPs (training + 1e9 queries)'); ax.set_ylabel('coverage')\n"
         "ax.legend(fontsize=8); fig.tight_layout()\n"
         "best_size = fr.envelope_size[np.searchsorted(C, 1e25)]\n"
         "print(f'best size at 1e25 FLOPs: {best_size / 1e9:g}B')\n"
         "assert np.all(np.diff(fr.envelope_accuracy) >= -1e-12)"),
    md("## At which query volume does the smaller model win?\n\nAt 1e25 total FLOPs: the best of {1B, 3B, 8B} "
       "(each with its best k) against the best of {30B, 70B}."),
    code("Q = np.geomspace(1e6, 1e11, 41)\n"
         "cmp = sl.smaller_vs_larger(LAW, acc, params=EPOCH, small=[1e9, 3e9, 8e9], large=[30e9, 70e9],\n"
         "                           total_flops=1e25, queries=Q, tokens_per_sample=T)\n"
         "fig, ax = plt.subplots(figsize=(7, 3.5))\n"
         "ax.plot(cmp.queries, cmp.gain, 'o-', ms=3)\n"
         "ax.axhline(0, color='grey', lw=0.8)\n"
         "if cmp.crossover: ax.axvline(cmp.crossover, color='r', ls=':', label=f'crossover {cmp.crossover:.3g} queries')\n"
         "ax.set_xscale('log'); ax.set_xlabel('queries served'); ax.set_ylabel('coverage gain, smaller - larger')\n"
         "ax.legend(); fig.tight_layout()\n"
         "print(f'crossover query volume: {cmp.crossover:.4g}')\n"
         "for q in (1e7, 1e9, 1e10):\n"
         "    i = int(np.argmin(abs(np.log(cmp.queries / q))))\n"
         "    print(f'{cmp.queries[i]:.2g} queries: small {cmp.small_params[i] / 1e9:g}B x k={cmp.small_setting[i]:g} '\n"
         "          f'vs large {cmp.large_params[i] / 1e9:g}B x k={cmp.large_setting[i]:g}: gain {cmp.gain[i]:+.3f}')\n"
         "assert cmp.crossover is not None and 1e7 < cmp.crossover < 1e10"),
    md("## On which prompts?\n\nSplit prompts into easy, medium and hard bins by shifting the link's midpoint "
       "(a hard prompt needs a lower loss for the same pass@1). The gain of the smaller model is computed per bin "
       "at 3e9 queries."),
    code("shifts = {'easy': +0.10, 'medium': 0.0, 'hard': -0.10}\n"
         "gains = {}\n"
         "for name, dm in shifts.items():\n"
         "    m = sl.optimize.CoverageAccuracyModel(sl.optimize.sigmoid_link(midpoint=mid + dm, slope=slope), coverage_exponent=-0.45)\n"
         "    c = sl.smaller_vs_larger(LAW, m, params=EPOCH, small=[1e9, 3e9, 8e9], large=[30e9, 70e9],\n"
         "                             total_flops=1e25, queries=[3e9], tokens_per_sample=T)\n"
         "    gains[name] = float(c.gain[0])\n"
         "    print(f'{name:>6}: smaller-minus-larger coverage {gains[name]:+.3f}')\n"
         "assert all(np.isfinite(list(gains.values())))"),
    md("## Allocating samples by difficulty\n\nWith a mean budget of 16 samples per query for a 3B model, give "
       "each bin its own k (exact dynamic programming) instead of 16 for all."),
    code("N3, D3 = 3e9, 3e12\n"
         "curves = []\n"
         "for name, dm in shifts.items():\n"
         "    m = sl.optimize.CoverageAccuracyModel(sl.optimize.sigmoid_link(midpoint=mid + dm, slope=slope), coverage_exponent=-0.45)\n"
         "    curves.append(m(loss(N3, D3), np.arange(0, 257)))\n"
         "alloc = sl.optimize.allocate_samples(curves, budget=16)\n"
         "print('samples per bin (easy, medium, hard):', alloc.samples)\n"
         "print(f'accuracy {alloc.accuracy:.4f} vs uniform {alloc.uniform_accuracy:.4f} (gain {alloc.gain:+.4f});'\n"
         "      f' uniform needs k = {alloc.uniform_to_match} to match')\n"
         "assert alloc.gain >= 0"),
    md("## Answer, from these inputs\n\nThe cell below prints the conclusion from the numbers computed above, so it "
       "stays true when the inputs change."),
    code("print(f'At 1e25 FLOPs, the larger models win below about {cmp.crossover:.2g} queries; above it the best '\n"
         "      f'smaller model with more samples wins (gain up to {np.nanmax(cmp.gain):+.3f} coverage on this grid).')\n"
         "hardest = min(gains, key=gains.get)\n"
         "print(f'By difficulty at 3e9 queries, the gain is largest on {max(gains, key=gains.get)} prompts and smallest on {hardest}.')\n"
         "print(f'Allocating samples by difficulty adds {alloc.gain:+.4f} accuracy at the same mean budget.')"),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
out = Path(__file__).with_name("smaller_vs_larger.ipynb")
nbf.write(nb, out)
print(f"wrote {out}")
