"""Write data/synthetic_chinchilla.csv: a seeded isoFLOP sweep drawn from Epoch's Chinchilla fit.

    cd /work/main && PYTHONPATH=. python data/make_synthetic.py            # writes data/synthetic_chinchilla.csv
    PYTHONPATH=. python data/make_synthetic.py --check                     # exit 1 if the file differs

The table is ``scalinglaws.synthetic.demo_sweep()`` (= ``chinchilla_sweep(**synthetic.DEMO)``):
9 budgets from 6e18 to 3e21 FLOPs, 9 model sizes per budget log-spaced from N*/8 to 8 N*,
D = C / (6N), loss = L(N, D) * exp(0.01 z) with z from numpy.random.default_rng(0).
Numbers are written with repr(), so reading the file gives back the exact float64 values and
``scalinglaws demo`` can regenerate the same table in memory when the file is not installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a source checkout without installing

from scalinglaws import synthetic  # noqa: E402

COLUMNS = ("params", "tokens", "flops", "loss")
OUT = HERE / "synthetic_chinchilla.csv"


def render() -> str:
    table = synthetic.demo_sweep()
    lines = [",".join(COLUMNS)]
    for i in range(len(table["loss"])):
        lines.append(",".join(repr(float(table[c][i])) for c in COLUMNS))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", type=Path, default=OUT, help=f"output CSV (default: {OUT.name} beside this script)")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the file differs from what would be written")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        same = args.out.is_file() and args.out.read_text() == text
        print(f"{args.out}: {'up to date' if same else 'DIFFERS from make_synthetic.py output'}")
        return 0 if same else 1
    args.out.write_text(text)
    print(f"wrote {args.out} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
