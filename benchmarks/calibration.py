"""Calibration of the bootstrap's 90% intervals over seeded synthetic datasets.

    python benchmarks/calibration.py [--datasets 200] [--boot 200] [--objective ls|huber] [--noise 0.02]

Prints the coverage of every parameter and of N*, D* at 1e21 FLOPs, with binomial standard
errors and median relative widths, and the wall time. tests/test_calibration.py asserts alpha
and N* within 80-97% for least squares.
"""

from __future__ import annotations

import argparse
import time

import scalinglaws as sl
from scalinglaws import synthetic


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--objective", choices=("ls", "huber"), default="ls")
    ap.add_argument("--noise", type=float, default=0.02)
    ap.add_argument("--per-budget", type=int, default=7)
    args = ap.parse_args()
    obj = sl.LeastSquares() if args.objective == "ls" else None
    t0 = time.perf_counter()
    s = synthetic.coverage_study(n_datasets=args.datasets, n_boot=args.boot, objective=obj, noise=args.noise,
                                 n_per_budget=args.per_budget)
    el = time.perf_counter() - t0
    print(f"{args.datasets} datasets x {args.boot} resamples, objective {args.objective}, noise {args.noise}: "
          f"{el:.1f} s")
    print(f"{'quantity':>8}  {'coverage':>8}  {'s.e.':>6}  {'median width / truth':>20}")
    for k, c in s["coverage"].items():
        print(f"{k:>8}  {c:>8.3f}  {s['se'][k]:>6.3f}  {s['median_width'][k]:>20.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
