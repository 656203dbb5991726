"""10 million per-sample rows: read, aggregate to pass@k curves, fit a Coverage law per model.

Data: 4 models x 2,500 problems x 1,000 samples = 10,000,000 rows with columns ``problem``,
``model`` (text), ``sample_index`` and ``correct``, written to a parquet file in a temporary
directory, so reading the file is part of the timing. Each problem's solve rate is
p = 1 - exp(-T), T ~ Gamma(shape g, rate lam) for a solvable problem (fraction s) and p = 0
otherwise, with (s, g, lam) differing by model.

Pipelines, each timed from reading the file to the last fit:

- ``scalinglaws``: ``read_runs(path)`` (validation included) -> ``aggregate_samples`` at
  k = 1..1000 (20 log-spaced integers) per model -> ``sl.fit(Coverage(), ...)`` per model
  (least squares on log pass@k);
- ``compare``: ``read_runs(path)`` -> ``compare_models(runs, law="coverage", n_boot=200)``
  (aggregation, the point fits and 200 bootstrap refits over problems per model);
- ``pandas`` baseline: ``pd.read_parquet`` -> ``groupby(["model", "problem"]).correct
  .agg(["sum", "count"])`` -> unbiased pass@k per problem with ``scipy.special.comb`` ->
  mean per model -> ``scipy.optimize.curve_fit`` of log c = a k^b per model.

Each repetition runs in a fresh Python process (so the times are cold: they include JAX's
compilations) and reports its own peak memory as ``resource.getrusage(RUSAGE_SELF).ru_maxrss``:
the peak resident set size of that whole process, interpreter and imports included (not
tracemalloc, which misses memory allocated by Arrow and XLA). Prints the median of 3
repetitions of each, the ratios, and checks the targets: the scalinglaws pipeline in at most
60 s with at most 4 GB peak memory. The pass@k curves of the two pipelines are checked to agree.

    cd /work/main && PYTHONPATH=. python benchmarks/bench_samples.py [--reps 3] [--problems 2500]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_S = 60.0
TARGET_GB = 4.0
DESIGNS = {  # solvable fraction s, Gamma shape g and rate lam of T, p = 1 - exp(-T)
    "plain-7b": (0.55, 1.0, 0.5),
    "plain-70b": (0.70, 0.8, 0.3),
    "reasoning-7b": (0.85, 0.35, 0.03),
    "reasoning-70b": (0.92, 0.3, 0.014),
}


def ks_grid(n: int = 1000, num: int = 20) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, n, num)).astype(np.int64))


def make_file(path: Path, n_problems: int, n_samples: int, seed: int = 0) -> int:
    import pandas as pd

    rng = np.random.default_rng(seed)
    labels = np.array([f"problem-{i:05d}" for i in range(n_problems)], dtype=object)
    frames = []
    for name, (s, g, lam) in DESIGNS.items():
        T = rng.gamma(g, 1.0 / lam, n_problems)
        p = np.where(rng.random(n_problems) < s, -np.expm1(-T), 0.0)
        correct = rng.random((n_problems, n_samples), dtype=np.float32) < p[:, None]
        frames.append(pd.DataFrame({
            "problem": np.repeat(labels, n_samples),
            "model": np.full(n_problems * n_samples, name, dtype=object),
            "sample_index": np.tile(np.arange(n_samples, dtype=np.int32), n_problems),
            "correct": correct.ravel().astype(np.int8),
        }))
    df = pd.concat(frames, ignore_index=True)
    df.to_parquet(path, index=False)
    return len(df)


# ---------------------------------------------------------------------------------------
# the pipelines (each run in a child process)


def run_scalinglaws(path: str, ks: np.ndarray) -> dict:
    t0 = time.perf_counter()
    import scalinglaws as sl
    from scalinglaws.laws.coverage import Coverage

    t_import = time.perf_counter() - t0
    t = time.perf_counter()
    runs = sl.read_runs(path)
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    summaries = sl.evals.aggregate_samples(runs, difficulty_bins=0, ks=ks)
    t_agg = time.perf_counter() - t
    t = time.perf_counter()
    fits = {}
    for model, s in summaries.items():
        f = sl.fit(Coverage(), {"samples": s.ks.astype(np.float64), "accuracy": s.pass_at_k},
                   objective=sl.LeastSquares(space="log"))
        fits[model] = f.params
    t_fit = time.perf_counter() - t
    total = t_read + t_agg + t_fit
    return {"total": total, "read": t_read, "aggregate": t_agg, "fit": t_fit, "import": t_import,
            "params": fits, "curves": {m: s.pass_at_k.tolist() for m, s in summaries.items()}}


def run_compare(path: str, ks: np.ndarray) -> dict:
    t0 = time.perf_counter()
    import scalinglaws as sl
    from scalinglaws.evals.compare import compare_models

    t_import = time.perf_counter() - t0
    t = time.perf_counter()
    runs = sl.read_runs(path)
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    cmp = compare_models(runs, law="coverage", n_boot=200, ks=ks)
    t_cmp = time.perf_counter() - t
    return {"total": t_read + t_cmp, "read": t_read, "compare": t_cmp, "import": t_import,
            "params": cmp.params, "intervals": {m: cmp.intervals[m]["exponent"] for m in cmp.models},
            "table": cmp.report(budgets=(4.0, 256.0))}


def run_pandas(path: str, ks: np.ndarray) -> dict:
    t0 = time.perf_counter()
    import pandas as pd
    from scipy import optimize, special

    t_import = time.perf_counter() - t0
    t = time.perf_counter()
    df = pd.read_parquet(path)
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    counts = df.groupby(["model", "problem"]).correct.agg(["sum", "count"])
    n = counts["count"].to_numpy(dtype=np.float64)[:, None]
    c = counts["sum"].to_numpy(dtype=np.float64)[:, None]
    k = ks[None, :].astype(np.float64)
    passk = 1.0 - special.comb(n - c, k) / special.comb(n, k)
    curves = pd.DataFrame(passk, index=counts.index).groupby(level="model").mean()
    t_agg = time.perf_counter() - t
    t = time.perf_counter()
    params = {}
    for model, row in curves.iterrows():
        (a, b), _ = optimize.curve_fit(lambda kk, a, b: a * kk ** b, ks.astype(np.float64), np.log(row.to_numpy()),
                                       p0=(-1.0, -0.3))
        params[model] = {"a": float(a), "b": float(b)}
    t_fit = time.perf_counter() - t
    return {"total": t_read + t_agg + t_fit, "read": t_read, "aggregate": t_agg, "fit": t_fit, "import": t_import,
            "params": params, "curves": {m: r.tolist() for m, r in curves.iterrows()}}


PIPELINES = {"scalinglaws": run_scalinglaws, "compare": run_compare, "pandas": run_pandas}


def child(name: str, path: str) -> None:
    import resource

    out = PIPELINES[name](path, ks_grid())
    out["maxrss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: kB
    print("RESULT " + json.dumps(out))


def run_child(name: str, path: Path) -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, __file__, "--child", name, str(path)], capture_output=True, text=True,
                          env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-4000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--problems", type=int, default=2500)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--child", nargs=2, metavar=("PIPELINE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.parquet"
        t = time.perf_counter()
        rows = make_file(path, args.problems, args.samples)
        print(f"wrote {rows:,} rows ({len(DESIGNS)} models x {args.problems:,} problems x {args.samples:,} samples) "
              f"to parquet: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s")
        print(f"pass@k at k = {ks_grid().tolist()}; {args.reps} repetitions, each in a fresh process "
              f"(cold: JAX compilation included); memory = peak RSS of that process (ru_maxrss)\n")
        results = {name: [] for name in PIPELINES}
        for rep in range(args.reps):
            for name in PIPELINES:
                r = run_child(name, path)
                results[name].append(r)
                stages = ", ".join(f"{k} {r[k]:.2f}" for k in ("read", "aggregate", "compare", "fit") if k in r)
                print(f"  rep {rep + 1} {name:>11}: {r['total']:6.2f} s ({stages}; import {r['import']:.2f})  "
                      f"peak {r['maxrss_gb']:.2f} GB")

    med = {n: statistics.median(r["total"] for r in rs) for n, rs in results.items()}
    mem = {n: statistics.median(r["maxrss_gb"] for r in rs) for n, rs in results.items()}
    print("\nmedian wall time (read + aggregate + fit) and peak memory:")
    for n in PIPELINES:
        print(f"  {n:>11}: {med[n]:7.2f} s   {mem[n]:5.2f} GB")
    print(f"  ratio scalinglaws / pandas: time {med['scalinglaws'] / med['pandas']:.2f}x, "
          f"memory {mem['scalinglaws'] / mem['pandas']:.2f}x")
    print(f"  ratio compare (with 200 bootstrap refits per model) / pandas: time "
          f"{med['compare'] / med['pandas']:.2f}x, memory {mem['compare'] / mem['pandas']:.2f}x")

    a, b = results["scalinglaws"][0], results["pandas"][0]
    diff = max(float(np.max(np.abs(np.asarray(a["curves"][m]) - np.asarray(b["curves"][m])))) for m in a["curves"])
    print(f"\nmax |pass@k (scalinglaws) - pass@k (pandas + scipy comb)| = {diff:.2e}")
    for m in a["params"]:
        print(f"  {m:>14}: sl.fit b = {a['params'][m]['b']:.5f}   curve_fit b = {b['params'][m]['b']:.5f}   "
              f"compare_models b = {results['compare'][0]['params'][m]['b']:.5f} "
              f"90% [{results['compare'][0]['intervals'][m][0]:.4f}, {results['compare'][0]['intervals'][m][1]:.4f}]")
    print("\n" + results["compare"][0]["table"])

    ok = True
    for n in ("scalinglaws", "compare"):
        t_ok, m_ok = med[n] <= TARGET_S, mem[n] <= TARGET_GB
        ok &= t_ok and m_ok
        print(f"\ntarget {n}: {med[n]:.2f} s <= {TARGET_S:g} s: {'PASS' if t_ok else 'FAIL'}; "
              f"{mem[n]:.2f} GB <= {TARGET_GB:g} GB: {'PASS' if m_ok else 'FAIL'}")
    ok &= diff < 1e-9
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
