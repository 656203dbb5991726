"""Speed of ``best_config`` (one warm query) and of a 1,000-budget ``frontier``, on the
powers-of-two grid (against a scipy baseline) and with the default fine search.

Targets (DESIGN.md section 6): one warm ``best_config`` <= 50 ms; a 1,000-budget
frontier <= 2 s. The baseline, run in the same script on the same problem, is a
plain scipy loop: for each inference setting k, ``scipy.optimize.minimize_scalar``
(bounded, on log N) maximises the predicted accuracy on the budget line; the
frontier baseline loops that over the budgets and evaluates each fixed size
by a Python loop over (size, k). Prints medians and the ratios, and checks that
both reach the same accuracy.

    cd /work/main && PYTHONPATH=. python benchmarks/bench_best_config.py
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from scipy import optimize

from scalinglaws.optimize.best_config import (HOFFMANN, CoverageAccuracyModel, best_config, frontier,
                                             sigmoid_link)

H = HOFFMANN
A, B, E = math.exp(H["a"]), math.exp(H["b"]), math.exp(H["e"])
MODEL = CoverageAccuracyModel(sigmoid_link(2.2, 8.0), coverage_exponent=-0.4)
SAMPLES = tuple(float(2 ** i) for i in range(11))
SIZES = (1e9, 3e9, 7e9, 13e9, 30e9, 70e9, 1.5e11, 4e11)
T, P = 1000.0, 200.0


def _loss(N, D):
    return E + A * N ** -H["alpha"] + B * D ** -H["beta"]


def baseline_best(C: float, Q: float) -> tuple[float, float, float]:
    """(accuracy, N, k) by scipy's bounded scalar minimiser, one setting at a time."""
    best = (-np.inf, math.nan, math.nan)
    for k in SAMPLES:
        tok = P + k * T
        u_hi = math.log(C / (2.0 * Q * tok)) if Q > 0 else math.log(C / 6.0)

        def neg(u):
            N = math.exp(u)
            D = (C - Q * 2.0 * N * tok) / (6.0 * N)
            return 1.0 if D <= 0 else -float(MODEL(_loss(N, D), k))

        r = optimize.minimize_scalar(neg, bounds=(0.0, u_hi), method="bounded", options={"xatol": 1e-10})
        if -r.fun > best[0]:
            best = (-r.fun, math.exp(r.x), k)
    return best


def baseline_frontier(C: np.ndarray, Q: float) -> tuple[np.ndarray, np.ndarray]:
    opt = np.array([baseline_best(float(c), Q)[0] for c in C])
    env = np.full(C.size, np.nan)
    for i, c in enumerate(C):
        for N in SIZES:
            for k in SAMPLES:
                D = (c - Q * 2.0 * N * (P + k * T)) / (6.0 * N)
                if D > 0:
                    a = float(MODEL(_loss(N, D), k))
                    env[i] = a if np.isnan(env[i]) else max(env[i], a)
    return opt, env


def timed(fn, repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=50, help="best_config repeats (frontier: 5)")
    args = ap.parse_args(argv)

    C0, Q0 = 1e24, 1e9
    kw = dict(accuracy_model=MODEL, samples=SAMPLES, tokens_per_sample=T, prompt_tokens=P)
    cfg = best_config(total_flops=C0, queries=Q0, **kw)  # warm-up
    t_best = timed(lambda: best_config(total_flops=C0, queries=Q0, **kw), args.repeats)
    t_base = timed(lambda: baseline_best(C0, Q0), max(5, args.repeats // 5))
    acc_b, N_b, k_b = baseline_best(C0, Q0)

    Cs = np.geomspace(1e21, 1e26, args.budgets)
    fr = frontier(None, MODEL, total_flops=Cs, queries=Q0, sizes=SIZES, samples=SAMPLES, tokens_per_sample=T,
                  prompt_tokens=P)  # warm-up
    t_fr = timed(lambda: frontier(None, MODEL, total_flops=Cs, queries=Q0, sizes=SIZES, samples=SAMPLES,
                                  tokens_per_sample=T, prompt_tokens=P), 5)
    t0 = time.perf_counter()
    opt_b, env_b = baseline_frontier(Cs, Q0)
    t_fr_base = time.perf_counter() - t0

    print(f"best_config (warm, median of {args.repeats}): {1e3 * t_best:8.2f} ms   target <= 50 ms")
    print(f"  baseline scipy loop over {len(SAMPLES)} settings:  {1e3 * t_base:8.2f} ms   ratio {t_base / t_best:6.1f}x")
    print(f"  same answer: accuracy {cfg.accuracy:.10f} vs {acc_b:.10f}, k {cfg.samples:g} vs {k_b:g}, "
          f"N {cfg.params:.6g} vs {N_b:.6g}")
    print(f"frontier, {args.budgets} budgets x {len(SIZES)} sizes x {len(SAMPLES)} settings (median of 5): "
          f"{t_fr:6.3f} s   target <= 2 s")
    print(f"  baseline scipy/Python loop (one run):                 {t_fr_base:6.3f} s   ratio {t_fr_base / t_fr:6.1f}x")
    ok = ~np.isnan(env_b)
    print(f"  max |accuracy difference|: optimum {np.max(np.abs(fr.optimal_accuracy - opt_b)):.2e}, "
          f"envelope {np.max(np.abs(fr.envelope_accuracy[ok] - env_b[ok])):.2e}; "
          f"frontier never below baseline: {bool(np.all(fr.optimal_accuracy >= opt_b - 1e-9))}")
    # the fine search (the default): every integer k from 1 to 2**20
    kf = dict(accuracy_model=MODEL, tokens_per_sample=T, prompt_tokens=P)
    fine = best_config(total_flops=C0, queries=Q0, **kf)  # warm-up
    t_fine = timed(lambda: best_config(total_flops=C0, queries=Q0, **kf), args.repeats)
    kfr = dict(tokens_per_sample=T, prompt_tokens=P)
    ff = frontier(None, MODEL, total_flops=Cs, queries=Q0, sizes=SIZES, **kfr)  # warm-up
    t_ff = timed(lambda: frontier(None, MODEL, total_flops=Cs, queries=Q0, sizes=SIZES, **kfr), 3)
    print(f"fine search, every integer k <= 2**20: best_config {1e3 * t_fine:8.2f} ms (k = {fine.samples:g}, "
          f"accuracy {fine.accuracy:.10f} >= grid's {cfg.accuracy:.10f}); frontier {t_ff:6.3f} s "
          f"(median of 3), never below the grid: {bool(np.all(ff.optimal_accuracy >= fr.optimal_accuracy - 1e-12))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
