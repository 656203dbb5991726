"""Benchmark: the 4,500-start Chinchilla fit on Epoch's 240 rows.

Ours: one jitted, vmapped batched Levenberg-Marquardt solve over all of
Hoffmann's starts (plus 64 data-derived ones). Baseline, in the same script:
scipy L-BFGS-B looped over the same grid with Epoch's summed Huber objective
(finite-difference gradients, as in Epoch's notebook), timed on a seeded
random subset of the starts and scaled to 4,500 (``--full`` runs them all).
Also times cold ``scalinglaws fit`` subprocesses (import + compile + fit): the first with an
empty compilation cache, then second processes that reuse it (persistent JAX compilation cache
plus the exported solver, both in a temporary cache folder).

    python benchmarks/bench_chinchilla.py [--repeats 7] [--subset 150] [--full] [--no-cli]

Prints medians and the ratio; timings are noisy on shared machines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

import scalinglaws as sl

ROOT = Path(__file__).resolve().parents[1]
EPOCH = ROOT.parent / "shared" / "data" / "epoch_chinchilla" / "svg_extracted_data.csv"
COLS = {"params": "Model Size", "flops": "Training FLOP", "loss": "loss"}


def epoch_objective(theta, lN, lD, lL, delta=1e-3):
    a, b, e, al, be = theta
    pred = np.logaddexp(np.logaddexp(a - al * lN, b - be * lD), e)
    r = lL - pred
    return np.sum(np.where(np.abs(r) <= delta, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--subset", type=int, default=150, help="starts timed for the scipy baseline")
    ap.add_argument("--full", action="store_true", help="run the scipy baseline on all 4,500 starts")
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args()
    if not EPOCH.exists():
        print(f"skip: {EPOCH} not found")
        return 0

    runs = sl.read_runs(EPOCH, columns=COLS).drop_highest("loss", 5)
    law = sl.laws.Chinchilla()

    t0 = time.perf_counter()
    f = sl.fit(law, runs)
    first = time.perf_counter() - t0
    warm = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        f = sl.fit(law, runs)
        warm.append(time.perf_counter() - t0)
    ours = float(np.median(warm))

    grid = law.start_grid()
    lN, lD, lL = (np.log(runs[c]) for c in ("params", "tokens", "loss"))
    idx = np.arange(len(grid)) if args.full else np.random.default_rng(0).choice(len(grid), args.subset, replace=False)
    per, best = [], np.inf
    for i in idx:
        t0 = time.perf_counter()
        res = minimize(epoch_objective, grid[i], args=(lN, lD, lL), method="L-BFGS-B")
        per.append(time.perf_counter() - t0)
        best = min(best, float(res.fun))
    per_start = float(np.median(per))
    base_total = per_start * len(grid) if not args.full else float(np.sum(per))

    print(f"data: {EPOCH.name}, {len(runs)} rows; starts: {f.n_starts} (Hoffmann's 4,500 + 64 data-derived); "
          f"solver: {sl.fitting.solver.SolverConfig()}")
    print(f"ours  first call (compile + fit): {first:.2f} s")
    print(f"ours  warm fit, median of {args.repeats}: {ours:.3f} s   [" + ", ".join(f"{t:.3f}" for t in warm) + "]")
    print(f"scipy L-BFGS-B: median {per_start * 1e3:.1f} ms/start over {len(idx)} starts "
          f"-> {base_total:.0f} s for 4,500 starts" + ("" if args.full else " (scaled)"))
    print(f"speed-up (scipy 4,500-start loop / ours warm): {base_total / ours:.0f}x")
    print(f"best objective: ours {f.objective:.10e}, scipy {best:.10e}, "
          f"relative difference {(best - f.objective) / f.objective:+.2e}")
    print(f"refined starts: {f.n_refined}; run to convergence: {f.n_finished}; in the best basin: {f.n_best_basin}")
    target = 1.0182740e-3  # Epoch's optimum of this objective (issue 2's golden value)
    print(f"objective vs the golden 1.0182740e-3: relative {(f.objective - target) / target:+.2e}")
    print(f"params: " + ", ".join(f"{k}={v:.5g}" for k, v in f.params.items()))

    if not args.no_cli:
        cmd = [sys.executable, "-m", "scalinglaws.cli", "fit", str(EPOCH), "--law", "chinchilla",
               "--column", "params=Model Size", "--column", "flops=Training FLOP", "--column", "loss=loss",
               "--drop-highest-loss", "5", "--json"]
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "SCALINGLAWS_CACHE_DIR": cache}
            cold = []
            for _ in range(4):
                t0 = time.perf_counter()
                out = subprocess.run(cmd, capture_output=True, text=True, env=env)
                cold.append(time.perf_counter() - t0)
                if out.returncode != 0:
                    print("cli failed:", out.stderr[-2000:])
                    return 1
        print(f"cold `scalinglaws fit`, first process (empty cache: import + trace + compile + fit): {cold[0]:.2f} s")
        print(f"cold `scalinglaws fit`, second process (cache warm), median of 3: {np.median(cold[1:]):.2f} s   ["
              + ", ".join(f"{t:.2f}" for t in cold[1:]) + "]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
