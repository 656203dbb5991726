"""NIST StRD nonlinear regression: how many significant digits ``sl.fit`` matches.

Fits each of the 27 problems by least squares from the StRD's Start 1 and
Start 2 (one start each, the library's default solver settings unless told
otherwise) and prints, per problem: the level of difficulty, the digits
matched (LRE, capped at 11; minimum over the parameters) from each start, the
certified and fitted residual sums of squares; then the totals.

    cd /work/main && PYTHONPATH=. python benchmarks/nist_report.py
    PYTHONPATH=. python benchmarks/nist_report.py --max-steps 10000 --problems MGH10 Eckerle4

For comparison: lmfit with MINPACK at its default tolerances matches 20 of 27
from Start 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import nist_strd as ns  # noqa: E402

import scalinglaws as sl  # noqa: E402

DIGITS = 6.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ns.DATA_DIR, help="folder of the StRD .dat files")
    ap.add_argument("--problems", nargs="*", default=list(ns.PROBLEMS), help="subset of problems")
    ap.add_argument("--max-steps", type=int, default=None, help="SolverConfig(max_steps=...)")
    ap.add_argument("--polish", type=int, default=None, help="SolverConfig(polish=...)")
    ap.add_argument("--params", action="store_true", help="also print each parameter's LRE")
    args = ap.parse_args(argv)

    if not args.data.is_dir():
        print(f"NIST StRD data folder {args.data} is absent", file=sys.stderr)
        return 2
    cfg = {}
    if args.max_steps is not None:
        cfg["max_steps"] = args.max_steps
    if args.polish is not None:
        cfg["polish"] = args.polish
    kw = {"solver": sl.SolverConfig(**cfg)} if cfg else {}

    hdr = (f"{'problem':<9} {'difficulty':<8} {'LRE S1':>6} {'LRE S2':>6}  {'certified RSS':>16}  "
           f"{'fitted RSS (S1)':>16}  {'fitted RSS (S2)':>16}  {'time s':>6}")
    print(hdr)
    print("-" * len(hdr))
    n1 = n2 = 0
    t_all = time.perf_counter()
    for name in args.problems:
        p = ns.load(name, args.data)
        r1 = ns.fit_problem(p, 1, **kw)
        r2 = ns.fit_problem(p, 2, **kw)
        n1 += r1.min_lre >= DIGITS
        n2 += r2.min_lre >= DIGITS
        flag1 = " " if r1.min_lre >= DIGITS else "*"
        flag2 = " " if r2.min_lre >= DIGITS else "*"
        print(f"{name:<9} {p.difficulty:<8} {r1.min_lre:5.1f}{flag1} {r2.min_lre:5.1f}{flag2}  "
              f"{p.certified_rss:16.10e}  {r1.rss:16.10e}  {r2.rss:16.10e}  {r1.seconds + r2.seconds:6.1f}",
              flush=True)
        if args.params:
            for s, r in ((1, r1), (2, r2)):
                print(f"{'':<18} S{s}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.lres.items()))
    total = len(args.problems)
    print("-" * len(hdr))
    print(f"(* = fewer than {DIGITS:g} digits; LRE capped at {ns.LRE_CAP:g}; settings: "
          f"{kw or 'sl.fit defaults'}; {time.perf_counter() - t_all:.0f} s)")
    print(f"{n2} of {total} match >= {DIGITS:g} digits from Start 2")
    print(f"{n1} of {total} match >= {DIGITS:g} digits from Start 1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
