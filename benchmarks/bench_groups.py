"""Benchmark: one law per group in one batched solve vs a loop of separate fits.

Three groups of a synthetic Chinchilla table (60, 45 and 80 runs, 1% noise; Hoffmann's 4,500
starts plus 64 data-derived per group). Ours: ``sl.fit(law, runs, by="group")`` (one jitted
call; groups padded to the largest). Baseline, in the same script: a Python loop of
``sl.fit`` over the groups (each group size compiles its own solver). Both warm and first-call
(compile) times; prints medians, the ratio and the largest objective difference.

    python benchmarks/bench_groups.py [--repeats 7] [--groups 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import scalinglaws as sl


def table(n_groups: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    sizes = [60, 45, 80, 70, 50, 65, 55, 75][:n_groups] * (1 + n_groups // 8)
    cols = {"params": [], "tokens": [], "loss": [], "group": []}
    for g in range(n_groups):
        E, A, B = 1.5 + 0.1 * g, 300.0 + 50 * g, 1500.0 + 300 * g
        N = np.exp(rng.uniform(np.log(5e7), np.log(1e10), sizes[g]))
        D = np.exp(rng.uniform(np.log(1e9), np.log(5e11), sizes[g]))
        L = (E + A / N ** 0.34 + B / D ** 0.37) * np.exp(0.01 * rng.standard_normal(sizes[g]))
        cols["params"] += list(N)
        cols["tokens"] += list(D)
        cols["loss"] += list(L)
        cols["group"] += [f"g{g}"] * sizes[g]
    return sl.read_runs({k: np.asarray(v) for k, v in cols.items()})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--groups", type=int, default=3)
    args = ap.parse_args()
    law = sl.laws.Chinchilla()
    runs = table(args.groups)
    labels = list(dict.fromkeys(runs["group"].tolist()))
    parts = [runs.select(runs["group"] == g) for g in labels]

    def batched():
        return sl.fit(law, runs, by="group")

    def loop():
        return {g: sl.fit(law, p) for g, p in zip(labels, parts)}

    t0 = time.perf_counter()
    fb = batched()
    first_b = time.perf_counter() - t0
    t0 = time.perf_counter()
    fl = loop()
    first_l = time.perf_counter() - t0
    wb, wl = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        batched()
        wb.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        loop()
        wl.append(time.perf_counter() - t0)
    diff = max(abs(fb[g].objective - fl[g].objective) / fl[g].objective for g in labels)
    print(f"{len(labels)} groups, sizes {[len(p) for p in parts]}, {fb[labels[0]].n_starts} starts each")
    print(f"first call (compile + fit): by='group' {first_b:.2f} s, loop {first_l:.2f} s "
          f"(the loop compiles once per distinct group size)")
    print(f"warm, median of {args.repeats}: by='group' {np.median(wb):.3f} s, loop {np.median(wl):.3f} s, "
          f"ratio loop/batched {np.median(wl) / np.median(wb):.2f}x")
    print(f"largest relative objective difference, batched vs loop: {diff:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
