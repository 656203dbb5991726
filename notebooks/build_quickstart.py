"""Writes notebooks/quickstart.ipynb (run: python notebooks/build_quickstart.py).

The notebook is kept as source here so that its cells are reviewed as code;
tests/test_notebooks.py executes the .ipynb end to end.
"""

from pathlib import Path

import nbformat as nbf

cells = [
    nbf.v4.new_markdown_cell(
        "# Quickstart: fit a Chinchilla law and allocate compute\n\n"
        "The bundled sweep `data/synthetic_chinchilla.csv` was drawn (seeded) from Epoch's published "
        "parameters (Besiroglu et al. 2024) with 1% noise. We fit it from Hoffmann's 4,500 starts, "
        "compare with the truth, and ask for the compute-optimal model at several budgets."),
    nbf.v4.new_code_cell(
        "from pathlib import Path\n"
        "import numpy as np\n"
        "import scalinglaws as sl\n"
        "from scalinglaws import synthetic\n\n"
        "root = Path(sl.__file__).resolve().parents[1]\n"
        "runs = sl.read_runs(root / 'data' / 'synthetic_chinchilla.csv')\n"
        "runs"),
    nbf.v4.new_code_cell(
        "fit = sl.fit(sl.laws.Chinchilla(), runs)\n"
        "print(fit.report())"),
    nbf.v4.new_code_cell(
        "truth = synthetic.EPOCH\n"
        "for k, v in truth.items():\n"
        "    print(f'{k:>6}: fitted {fit.params[k]:10.4g}   true {v:10.4g}')\n"
        "assert abs(fit.params['alpha'] - truth['alpha']) < 0.05"),
    nbf.v4.new_code_cell(
        "import warnings\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')  # budgets beyond the sweep are extrapolations, and we know it\n"
        "    best = sl.compute_optimal(fit, flops=np.array([1e20, 1e22, 5.76e23, 1e25]))\n"
        "print(best.report())"),
    nbf.v4.new_code_cell(
        "%matplotlib inline\n"
        "import matplotlib.pyplot as plt\n"
        "from scalinglaws import plot\n"
        "fig, axes = plt.subplots(1, 2, figsize=(11, 4))\n"
        "plot.plot_isoflop(fit, runs, ax=axes[0])\n"
        "plot.plot_frontier(fit, ax=axes[1])\n"
        "fig.tight_layout()"),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
out = Path(__file__).with_name("quickstart.ipynb")
nbf.write(nb, out)
print(f"wrote {out}")
