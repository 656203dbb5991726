"""Write one PNG of each main figure, drawn from the bundled synthetic sweep, to docs/gallery/.

    python docs/gallery.py [--out docs/gallery] [--boot 200]

Every figure comes from ``scalinglaws.plot`` on ``data/synthetic_chinchilla.csv`` (rebuilt in
memory when the file is missing), so the gallery runs on a fresh clone without other data.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import scalinglaws as sl
from scalinglaws import plot, synthetic

ROOT = Path(__file__).resolve().parents[1]


def architecture_example():
    """Shapes of a 1B (non-embedding) model under Bian et al. 2025b's published coefficients, on an A100-40GB."""
    bian = {"a0": 2.697, "a1": 0.0974, "a2": 0.0078, "b0": 0.3870, "b1": 0.0063, "b2": 0.0065}
    law = sl.laws.ArchitectureConditional(reference={"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28})
    space = sl.optimize.ArchitectureSpace(d_model=range(1536, 3585, 256), n_layers=(16,),
                                          mlp_attention_ratio=(0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0), gqa=(1, 2, 4, 8))
    return sl.optimize.architecture_search(law, params=bian, space=space, non_embedding_params=1e9, tokens=1e11,
                                           hardware="A100-40GB", batch=32, context=5120)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "docs" / "gallery"))
    ap.add_argument("--boot", type=int, default=200)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = ROOT / "data" / "synthetic_chinchilla.csv"
    runs = sl.read_runs(csv if csv.exists() else synthetic.demo_sweep())
    fit = sl.fit(sl.laws.Chinchilla(), runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bs = sl.bootstrap(fit, runs, n=args.boot, seed=0, starts=1, progress=False)
        search = architecture_example()
        figures = {
            "fit": lambda ax: plot.plot_fit(fit, runs, ax=ax),
            "isoflop": lambda ax: plot.isoflop(runs, fit, ax=ax),
            "frontier": lambda ax: plot.plot_frontier(fit, ax=ax),
            "tokens_per_param": lambda ax: plot.plot_tokens_per_param(fit, ax=ax),
            "loss_frontier": lambda ax: plot.plot_loss_frontier(bs, runs, ax=ax),
            "residuals_flops": lambda ax: plot.plot_residuals(fit, runs, ax=ax, against="flops"),
            "residuals_params": lambda ax: plot.plot_residuals(fit, runs, ax=ax, against="params"),
            "architecture_pareto": lambda ax: plot.architecture_pareto(search, ax=ax),
        }
        # test-time compute on Hoffmann et al.'s law with a sigmoid link and Brown et al.'s coverage
        acc = sl.optimize.CoverageAccuracyModel(sl.optimize.sigmoid_link(2.2, 8.0), coverage_exponent=-0.4)
        sizes = [1e9, 3e9, 8e9, 3e10, 7e10]
        fr = sl.optimize.frontier(None, acc, total_flops=np.geomspace(1e22, 1e26, 60), queries=1e9, sizes=sizes,
                                  samples=sl.optimize.Integers(1, 4096))
        cmp = sl.smaller_vs_larger(None, acc, small=sizes[:3], large=sizes[3:], total_flops=1e25,
                                   queries=np.geomspace(1e5, 1e11, 31))
        k = np.arange(0, 257)
        bins = [1 - (1 - p) ** k for p in (0.5, 0.15, 0.04, 0.01)]   # easy to hard, independent samples
        figures.update({
            "inference_frontier": lambda ax: plot.inference_frontier(fr, ax=ax, comparison=cmp),
            "gain_vs_queries": lambda ax: plot.gain_vs_queries(cmp, ax=ax),
            "adaptive_vs_uniform": lambda ax: plot.adaptive_vs_uniform(bins, [0.4, 0.3, 0.2, 0.1], ax=ax),
        })
        for name, draw in figures.items():
            fig, ax = plt.subplots(figsize=(6.4, 4.8))
            draw(ax)
            fig.tight_layout()
            path = out / f"{name}.png"
            fig.savefig(path, dpi=120)
            plt.close(fig)
            print(path)
        fig = plot.posterior_pairs(bs, ["E", "A", "B", "alpha", "beta"])
        fig.tight_layout()
        fig.savefig(out / "posterior_pairs.png", dpi=100)
        plt.close(fig)
        print(out / "posterior_pairs.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
