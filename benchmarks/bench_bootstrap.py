"""Benchmark: 4,000 bootstrap resamples of the Chinchilla fit on Epoch's 240 rows.

Ours: ``sl.bootstrap`` refits every resample (a weight vector over the rows) in one jitted,
vmapped Levenberg-Marquardt batch per chunk of 1,000, warm-started from the fit's optimum
(``starts=1``, Epoch's protocol) or from the optimum plus the best two other distinct local
optima (``starts=3``). Baseline, in the same script: Epoch's protocol as a plain loop, scipy's
BFGS on the same Huber likelihood (log sigma a sixth free parameter) started from the point
estimate, timed on a seeded subset of the resamples and scaled to 4,000.

    python benchmarks/bench_bootstrap.py [--repeats 3] [--subset 100] [--n 4000]

Prints medians, the ratio and the standard errors of both (against Epoch's published ones).
Timings are noisy on shared machines.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

import scalinglaws as sl

ROOT = Path(__file__).resolve().parents[1]
EPOCH = ROOT.parent / "shared" / "data" / "epoch_chinchilla" / "svg_extracted_data.csv"
COLS = {"params": "Model Size", "flops": "Training FLOP", "loss": "loss"}
PUBLISHED_SE = {"A": 124.52, "B": 1293.28, "E": 0.0257, "alpha": 0.0154, "beta": 0.0206}


def huber_nll(x, lN, lD, lL, w, delta=1e-3):
    """Epoch's Huber likelihood, weighted by resample counts: x = (a, b, e, alpha, beta, log sigma)."""
    a, b, e, al, be, s = x
    pred = np.logaddexp(np.logaddexp(a - al * lN, b - be * lD), e)
    z = (lL - pred) / math.exp(s)
    az = np.abs(z)
    rho = np.where(az <= delta, 0.5 * z * z, delta * (az - 0.5 * delta))
    log_z = math.log(math.sqrt(2 * math.pi) * (1 - math.erfc(delta / math.sqrt(2))) + 2 * math.exp(-0.5 * delta ** 2) / delta)
    return float(np.sum(w * (rho + s + log_z)))


def public(x):
    return {"A": math.exp(x[0]), "B": math.exp(x[1]), "E": math.exp(x[2]), "alpha": x[3], "beta": x[4]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--subset", type=int, default=100, help="resamples timed for the scipy baseline")
    ap.add_argument("--n", type=int, default=4000)
    args = ap.parse_args()
    if not EPOCH.exists():
        print(f"skip: {EPOCH} not found")
        return 0
    warnings.simplefilter("ignore")
    runs = sl.read_runs(EPOCH, columns=COLS).drop_highest("loss", 5)
    fit = sl.fit(sl.laws.Chinchilla(), runs, objective=sl.HuberLikelihood())
    print(f"data: {EPOCH.name}, {len(runs)} rows; fit: " + ", ".join(f"{k}={v:.5g}" for k, v in fit.params.items()))

    results = {}
    for method, starts in (("squarem", 1), ("squarem", 3), ("lm", 1)):
        t0 = time.perf_counter()
        bs = sl.bootstrap(fit, runs, n=args.n, seed=42, starts=starts, progress=False, method=method)
        first = time.perf_counter() - t0
        warm = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            bs = sl.bootstrap(fit, runs, n=args.n, seed=42, starts=starts, progress=False, method=method)
            warm.append(time.perf_counter() - t0)
        results[(method, starts)] = (float(np.median(warm)), bs)
        print(f"ours  {method} starts={starts}: first call {first:.2f} s; warm median of {args.repeats}: "
              f"{np.median(warm):.2f} s  [" + ", ".join(f"{t:.2f}" for t in warm) + f"]; failed {bs.n_failed}, "
              f"stopped at max_steps {int(np.sum(~bs.converged))}")

    # the scipy loop: Epoch's protocol, BFGS from the point estimate, same resample weights
    lN, lD, lL = (np.log(np.asarray(runs[c], dtype=np.float64)) for c in ("params", "tokens", "loss"))
    n = len(lL)
    rng = np.random.default_rng(42)
    W = rng.multinomial(n, np.full(n, 1.0 / n), size=args.n).astype(np.float64)
    x0 = np.append(fit.theta, math.log(fit.extras["sigma"]))
    idx = np.random.default_rng(0).choice(args.n, args.subset, replace=False)
    per, xs = [], []
    for i in idx:
        t0 = time.perf_counter()
        res = minimize(huber_nll, x0, args=(lN, lD, lL, W[i]), method="BFGS")
        per.append(time.perf_counter() - t0)
        xs.append(res.x)
    per_one = float(np.median(per))
    base_total = per_one * args.n
    print(f"scipy BFGS loop: median {per_one * 1e3:.1f} ms/resample over {len(idx)} -> {base_total:.0f} s for "
          f"{args.n} (scaled)")
    for (method, starts), (t, _) in results.items():
        print(f"speed-up (scipy loop / ours, {method} starts={starts}): {base_total / t:.0f}x")
    print("targets (DESIGN.md): <= 3 s warm from the fit (starts=1); <= 10 s with the best 3 starts")

    ours = results[("squarem", 1)][1].se()
    base = {k: float(np.std([public(x)[k] for x in xs], ddof=1)) for k in PUBLISHED_SE}
    print(f"{'':>6}  {'published':>10}  {'ours (4000)':>12}  {'scipy (' + str(len(idx)) + ')':>12}")
    for k, v in PUBLISHED_SE.items():
        print(f"{k:>6}  {v:>10.4g}  {ours[k]:>12.4g}  {base[k]:>12.4g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
