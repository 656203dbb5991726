"""Does a shape term help extrapolate to the largest models? A real-data check on Gemstones.

    python benchmarks/gemstones.py [--file wandb_df_for_fitting_hot.jsonl] [--threshold 1.5e9]

Gemstones (McLeish et al. 2025, arXiv 2502.06857; ../shared/data/gemstones, MIT) trains 22
width x depth shapes (width 256-3072, depth 3-80) and logs checkpoints at 10B...100B tokens.
This script fits two laws on the models below ``--threshold`` parameters and predicts every
checkpoint of the models above it (the three largest, 1.90-2.01B parameters, whose shapes run
from 3072 x 12 to 1536 x 50):

- plain Chinchilla, L = E + A/N^alpha + B/D^beta;
- Bian et al. 2025a's aspect-ratio law, L = (E + A/N^alpha + B/D^beta)(1 + eps R^gamma) with
  R = width / depth (``sl.laws.AspectRatio(from_shape=True)``);
- Bian et al. 2025b's two-step calibration in x = d/sqrt(N): L = (a0 + a1 log x + a2/x) L_opt,
  with L_opt the Chinchilla fit above (``sl.laws.ArchitectureConditional(reference=fit)``). The
  MLP-to-attention ratio r does not vary in Gemstones, so its factor is pinned to 1 (``fixed=``
  b0 = 1, b1 = b2 = 0, r = 1); x uses all parameters (the data give no non-embedding count).

It prints each law's held-out RMSE of the loss and mean absolute log error, per held-out model
and overall. N is ``params_active_precise`` (all parameters, embeddings included, as Bian
counts them); the loss is the training loss at the checkpoint. All fits use the package's
default objective (Huber, delta 1e-3, on log loss) and every checkpoint as a row. The split is by
size by hand: `sl.backtest` holds out by compute, the single largest size or a group.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import scalinglaws as sl

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "gemstones"
FILE = "wandb_df_for_fitting_hot.jsonl"
#: the jsonl's own column names, mapped to canonical ones
COLUMNS = {"params": "params_active_precise", "tokens": "tokens", "loss": "final_loss",
           "hidden_size": "width", "n_layers": "depth", "run": "run_name"}
THRESHOLD = 1.5e9
LAWS = {"chinchilla": sl.laws.Chinchilla(), "aspect_ratio": sl.laws.AspectRatio(from_shape=True)}


def load_gemstones(path: str | Path = DATA / FILE) -> sl.Runs:
    """The Gemstones run log as Runs (params, tokens, loss, hidden_size, n_layers, run; flops from 6ND)."""
    return sl.read_runs(path, columns=COLUMNS)


def errors(observed: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE of the loss, mean |log(predicted / observed)| and the mean signed error (bias)."""
    observed, predicted = np.asarray(observed, float), np.asarray(predicted, float)
    return {"rmse": float(np.sqrt(np.mean((predicted - observed) ** 2))),
            "mean_abs_log_error": float(np.mean(np.abs(np.log(predicted / observed)))),
            "mean_error": float(np.mean(predicted - observed))}


def compare(runs: sl.Runs, threshold: float = THRESHOLD) -> dict:
    """Fit each law on the runs with params < threshold and predict the others.

    Returns {"train": n, "held_out": n, "models": [run names held out], "observed": array,
    "laws": {name: {"params": ..., "predicted": array, "rmse": ..., "mean_abs_log_error": ...,
    "per_model": {run: {...}}}}}."""
    N = runs["params"]
    held = N >= threshold
    if not held.any() or held.all():
        raise sl.DataError(f"{runs.source}: threshold {threshold:g} leaves {int((~held).sum())} training and "
                           f"{int(held.sum())} held-out rows; it must split the model sizes.",
                           source=runs.source, column="params", rule="empty split", value=threshold)
    train, test = runs.select(~held), runs.select(held)
    names = test["run"]
    out = {"train": int((~held).sum()), "held_out": int(held.sum()), "threshold": float(threshold),
           "models": sorted(set(names.tolist())), "observed": test["loss"], "laws": {}}
    fits = {}
    for key, law in LAWS.items():
        fits[key] = f = sl.fit(law, train)
        out["laws"][key] = _held_out(f, f.predict(test), test, out["models"])
    cond = sl.laws.ArchitectureConditional(reference=fits["chinchilla"])
    f = sl.fit(cond, _with_shape(train), fixed={"b0": 1.0, "b1": 0.0, "b2": 0.0})
    out["laws"]["conditional_x"] = _held_out(f, f.predict(_with_shape(test)), test, out["models"])
    return out


def _with_shape(runs: sl.Runs) -> sl.Runs:
    """Runs with x = width / sqrt(params) and a constant MLP-to-attention ratio of 1."""
    return runs.with_columns(d_over_sqrt_n=runs["hidden_size"] / np.sqrt(runs["params"]),
                             mlp_attention_ratio=np.ones(len(runs)))


def _held_out(f, pred: np.ndarray, test: sl.Runs, models: list[str]) -> dict:
    names = test["run"]
    per = {m: errors(test["loss"][names == m], pred[names == m]) for m in models}
    return {"params": f.params, "predicted": pred, "per_model": per, **errors(test["loss"], pred)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", default=str(DATA / FILE))
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = compare(load_gemstones(args.file), args.threshold)
    print(f"Gemstones ({Path(args.file).name}): trained on {res['train']} rows (params < {res['threshold']:.3g}), "
          f"held out {res['held_out']} rows of {len(res['models'])} models: {', '.join(res['models'])}")
    for key, r in res["laws"].items():
        ps = ", ".join(f"{k}={v:.4g}" for k, v in r["params"].items())
        print(f"\n{key}: {ps}")
        print(f"  held-out RMSE {r['rmse']:.4f}   mean |log error| {r['mean_abs_log_error']:.4f}   "
              f"mean error {r['mean_error']:+.4f}")
        for m, e in r["per_model"].items():
            print(f"    {m:<28} RMSE {e['rmse']:.4f}   mean |log error| {e['mean_abs_log_error']:.4f}   "
                  f"mean error {e['mean_error']:+.4f}")
    base = res["laws"]["chinchilla"]
    for key in ("aspect_ratio", "conditional_x"):
        r = res["laws"][key]
        print(f"\n{key} against chinchilla: held-out RMSE {100 * (r['rmse'] / base['rmse'] - 1):+.1f}%, "
              f"mean |log error| {100 * (r['mean_abs_log_error'] / base['mean_abs_log_error'] - 1):+.1f}%")
    print(f"\n{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
