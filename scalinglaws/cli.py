"""The ``scalinglaws`` command: a thin shell over the library.

    scalinglaws fit runs.csv --law chinchilla --column params="Model Size" -o fit.json
    scalinglaws optimize fit.json --flops 5.76e23 --json
    scalinglaws plot fit.json runs.csv --kind isoflop -o isoflop.png
    scalinglaws report fit.json -o report.html
    scalinglaws approach2 runs.csv --column params="Model Size" --column flops="Training FLOP"
    scalinglaws laws
    scalinglaws demo

Each verb is a pair of functions: ``_add_<verb>(subparsers)`` declares its options and
``_run_<verb>(args) -> int`` does the work through the public library API. Results go to stdout
(text, or JSON with ``--json``); progress, warnings and errors go to stderr. Exit codes: 0 on
success, 2 on a user mistake (a one-paragraph ``error: ...`` message, never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = ["main", "build_parser"]

PROG = "scalinglaws"
OBJECTIVES = ("huber", "least_squares", "huber_likelihood")
DEMO_BUDGETS = (1e20, 1e21, 1e22, 1e23, 1e24, 1e25)  # one per decade (literals: 10.0**23 != 1e23)


# --------------------------------------------------------------------------- argparse plumbing
class _UsageError(Exception):
    """A command-line mistake found by argparse (unknown option, bad number...)."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors become one-paragraph messages (exit 2) instead of usage dumps."""

    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}. Run '{self.prog} --help' for usage.")


def _number(text: str) -> float:
    """A finite float such as 5.76e23 (underscores allowed: 1_000)."""
    try:
        v = float(str(text).replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 5.76e23, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def _positive(text: str) -> float:
    v = _number(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return v


def _count(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return v


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        s = s[1:-1]
    return s


def _column_pair(text: str) -> tuple[str, str]:
    """canonical="User Column" -> (canonical, User Column)."""
    canon, sep, user = str(text).partition("=")
    canon, user = _unquote(canon), _unquote(user)
    if not sep or not canon or not user:
        raise argparse.ArgumentTypeError(
            f"expected canonical=\"Your Column\" (e.g. params=\"Model Size\"), got {text!r}")
    return canon, user


def _columns(pairs: Sequence[tuple[str, str]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for canon, user in pairs or ():
        if canon in out and out[canon] != user:
            raise _UsageError(f"{PROG}: --column {canon}= given twice ({out[canon]!r} and {user!r}); "
                              f"map each canonical column once.")
        out[canon] = user
    return out


_ARCH_INT = ("d_model", "n_layers", "ffn_size", "n_heads", "n_kv_heads", "vocab_size", "head_dim")
_ARCH_BOOL = ("gated_mlp", "tied_embeddings")


def _arch_spec(text: str) -> dict[str, Any]:
    """d_model=2048,n_layers=16,... -> {"d_model": 2048, ...} (checked by Architecture later)."""
    out: dict[str, Any] = {}
    for item in filter(None, (t.strip() for t in str(text).split(","))):
        key, sep, val = item.partition("=")
        key, val = key.strip(), _unquote(val)
        if not sep or key not in (*_ARCH_INT, *_ARCH_BOOL, "name"):
            raise argparse.ArgumentTypeError(
                f"expected key=value pairs with keys {', '.join((*_ARCH_INT, *_ARCH_BOOL, 'name'))}, got {item!r}")
        if key in _ARCH_INT:
            try:
                out[key] = int(val)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{key} must be a whole number, got {val!r}") from None
        elif key in _ARCH_BOOL:
            if val.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise argparse.ArgumentTypeError(f"{key} must be true or false, got {val!r}")
            out[key] = val.lower() in ("true", "1", "yes")
        else:
            out[key] = val
    if not out:
        raise argparse.ArgumentTypeError(f"expected key=value pairs, e.g. d_model=2048,n_layers=16,..., got {text!r}")
    return out


_FORMATTER = argparse.RawDescriptionHelpFormatter


def _verb(sub: Any, name: str, help_: str, description: str, examples: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, description=description, formatter_class=_FORMATTER,
                       epilog="examples:\n" + "\n".join("  " + ln for ln in examples.strip().splitlines()))
    return p


def _add_common(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    if json_flag:
        p.add_argument("--json", action="store_true",
                       help="print machine-readable JSON on stdout instead of text")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")


def _add_column_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--exclude", metavar="CANONICAL", action="append", default=None,
                   help="a column named canonically that should not be read (repeatable), e.g. --exclude n_layers "
                        "when that column has gaps and the law does not need it")
    p.add_argument("--column", "-c", metavar='CANONICAL="Your Column"', type=_column_pair, action="append",
                   help="map one of your columns to a canonical name (repeatable), e.g. "
                        "--column params=\"Model Size\" --column flops=\"Training FLOP\". Columns already "
                        "named canonically (params, tokens, flops, loss, ...) need no mapping.")


# --------------------------------------------------------------------------- output helpers
def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer, np.bool_)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (tuple, set, frozenset)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot write {type(o).__name__} as JSON")


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_json_default) + "\n")


def _say(args: argparse.Namespace, msg: str) -> None:
    if not getattr(args, "quiet", False):
        print(msg, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Library warnings as 'warning: ...' lines on stderr as they happen (no file/line noise),
    each distinct message once."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
        msg = _oneline(message)
        if msg not in seen:
            seen.add(msg)
            print(f"warning: {msg}", file=sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        yield


def _sl():
    import scalinglaws as sl  # imported lazily so `--help` is instant
    from scalinglaws._jax import enable_compilation_cache

    enable_compilation_cache()  # a second process reuses the compiled solver (SCALINGLAWS_NO_CACHE=1: off)
    return sl


# --------------------------------------------------------------------------- shared steps
def _read(args: argparse.Namespace, path: str, more: dict[str, str] | None = None):
    sl = _sl()
    cols = {**_columns(getattr(args, "column", None)), **(more or {})}
    _say(args, f"reading {path}...")
    runs = sl.read_runs(path, columns=cols or None, exclude=getattr(args, "exclude", None) or ())
    _say(args, f"read {len(runs):,} runs (columns: {', '.join(runs.names)})")
    return runs


def _objective(args: argparse.Namespace):
    sl = _sl()
    name = args.objective
    kw: dict[str, Any] = {}
    if args.space is not None:
        kw["space"] = args.space
    if args.delta is not None:
        if name == "least_squares":
            raise _UsageError(f"{PROG} fit: --delta applies to the huber and huber_likelihood objectives, "
                              f"not least_squares; drop --delta or pick another --objective.")
        kw["delta"] = args.delta
    cls = {"huber": sl.Huber, "least_squares": sl.LeastSquares, "huber_likelihood": sl.HuberLikelihood}[name]
    return cls(**kw)


def _n_starts(law: Any, runs: Any) -> int | None:
    """How many distinct default starts the fit will solve (for the progress message)."""
    sl = _sl()
    try:
        X = {k: np.asarray(runs[k]) for k in law.inputs}
        grid = law.start_grid(X, np.asarray(runs[law.target]))
        return int(len(np.unique(grid, axis=0)))
    except (sl.ScalingLawsError, KeyError, ValueError):
        return None


def _do_fit(args: argparse.Namespace, law: Any, runs: Any, objective: Any = None):
    sl = _sl()
    n = _n_starts(law, runs)
    what = f"{n:,} starts" if n else "the default starts"
    obj = objective if objective is not None else sl.fitting.api.default_objective(law)
    delta = f", delta={obj.delta:g}" if hasattr(obj, "delta") else ""
    _say(args, f"fitting {what} of law {law.name!r} ({obj.name}{delta} on {obj.space} residuals, "
               f"{len(runs):,} runs; a first fit compiles, ~10-20 s, then it is cached on disk)...")
    t0 = time.perf_counter()
    fit = sl.fit(law, runs, objective=obj)
    _say(args, f"fitted in {time.perf_counter() - t0:.1f} s: objective {fit.objective:.6g}, "
               f"{fit.n_best_basin}/{fit.n_finished} finished starts in the best basin")
    return fit


def _save_figure(fig: Any, path: Path, args: argparse.Namespace, dpi: float | None = 120) -> Path:
    path = Path(path)
    if path.suffix.lower().lstrip(".") not in fig.canvas.get_supported_filetypes():
        raise _UsageError(f"{PROG}: cannot save a plot as {path.name!r}: unsupported file type "
                          f"{path.suffix or '(none)'!r}; use one of "
                          f"{', '.join('.' + k for k in sorted(fig.canvas.get_supported_filetypes()))}.")
    fig.savefig(path, dpi=dpi)  # dpi None: rcParams["savefig.dpi"] (300 in the paper style)
    _say(args, f"saved plot to {path}")
    return path


def _figure(ncols: int = 1, size: tuple[float, float] | None = (6.4, 4.8)):
    """A pyplot-free Figure (Agg canvas): the CLI never opens a window. ``size``: one panel's
    (width, height) in inches; None takes rcParams["figure.figsize"] (the paper style's column)."""
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    w, h = size if size is not None else rcParams["figure.figsize"]
    fig = Figure(figsize=(w * ncols, h), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


# --------------------------------------------------------------------------- fit
def _add_fit(sub: Any) -> None:
    p = _verb(sub, "fit", "fit a law to run logs",
              "Fit a scaling law to a table of training runs (CSV, TSV, parquet, JSON lines or JSON)\n"
              "and print its report. All starts are solved in one batched JAX solve; the default\n"
              "objective is Huber (delta=1e-3) on log loss, summed, from Hoffmann et al.'s 4,500\n"
              "starts plus starts solved from the data. When only two of params/tokens/flops are\n"
              "given, the third follows from C = 6ND.",
              """
scalinglaws fit runs.csv
scalinglaws fit runs.csv --law chinchilla -o fit.json
scalinglaws fit epoch.csv --column params="Model Size" --column flops="Training FLOP" --drop-highest-loss 5
scalinglaws fit runs.csv --objective huber_likelihood --json > fit.json
scalinglaws fit runs.csv --by dataset --shared alpha,beta -o fits.json   # one law per dataset
scalinglaws fit runs.csv --posterior 1000 --chains 4 -o fit.json         # NUTS posterior, saved
""")
    p.add_argument("runs_file", metavar="RUNS_FILE", help="table of runs (.csv, .tsv, .parquet, .jsonl, .json)")
    p.add_argument("--law", default="chinchilla",
                   help="the law to fit (default: chinchilla); 'scalinglaws laws' lists them")
    _add_column_option(p)
    p.add_argument("--by", metavar="COLUMN", default=None,
                   help="fit one law per group of runs in one batched solve (sl.fit(..., by=...)): a canonical "
                        "column (group, model, seed, ...) or a column of your file (read as 'group'), e.g. "
                        "--by dataset; -o then saves every group's fit ('optimize --group NAME' picks one)")
    p.add_argument("--shared", metavar="PARAM", action="append", default=None,
                   help="with --by: a parameter shared by every group (repeatable, or comma-separated: "
                        "--shared alpha,beta)")
    p.add_argument("--drop-highest-loss", type=_count, default=0, metavar="K",
                   help="drop the K runs with the highest loss before fitting (Epoch's convention; default 0)")
    p.add_argument("--objective", choices=OBJECTIVES, default="huber",
                   help="how residuals are scored (default: huber)")
    p.add_argument("--delta", type=_positive, default=None,
                   help="Huber threshold for huber / huber_likelihood (default 1e-3)")
    p.add_argument("--space", choices=("log", "linear"), default=None,
                   help="residuals of log predictions or of the predictions themselves "
                        "(default: log for huber objectives, linear for least_squares)")
    p.add_argument("-o", "--output", metavar="FIT_JSON", default=None, help="save the fit as JSON here")
    p.add_argument("--bootstrap", type=_count, default=0, metavar="N",
                   help="also refit N resamples of the runs (seeded by --seed) and print standard errors and 90%%/95%% "
                        "intervals; -o saves the draws in the fit file, so that 'optimize --bootstrap' can use them")
    p.add_argument("--seed", type=_count, default=42, metavar="S",
                   help="seed of the bootstrap resamples and of the --posterior chains (default 42)")
    p.add_argument("--posterior", type=_count, default=None, metavar="DRAWS",
                   help="also sample the posterior with NUTS (sl.posterior): DRAWS kept draws per chain (at least 4), "
                        "and print its mean, sd, 95%% interval, R-hat and ESS; -o saves the draws in the fit file, so "
                        "that 'optimize --posterior' can use them")
    p.add_argument("--chains", type=_count, default=None, metavar="C", help="with --posterior: chains (default 4)")
    p.add_argument("--warmup", type=_count, default=None, metavar="W",
                   help="with --posterior: warmup iterations per chain (default: DRAWS)")
    p.add_argument("--likelihood", choices=("gaussian", "student_t"), default=None,
                   help="with --posterior: the likelihood on log residuals (default gaussian)")
    p.add_argument("--curvature", action="store_true",
                   help="also print normal-approximation standard errors and 95%% intervals from the curvature "
                        "(Hessian) of the objective at the fit (sl.fitting.curvature); no refits")
    p.add_argument("--backtest", action="store_true",
                   help="after the fit, refit on the runs below the 80%% flops quantile and print how well it "
                        "predicts the rest (errors, bootstrap intervals, coverage)")
    p.add_argument("--min-fraction", type=_number, default=None, metavar="F",
                   help="checkpoint logs (a run column; map it with --column run=\"Your Run\"): drop each run's "
                        "checkpoints below F x its final tokens and weight the rest 1/(the run's checkpoints), so "
                        "every run weighs as one final-only row; --bootstrap then resamples whole runs and "
                        "--backtest compares a final-only fit against the checkpoint fit")
    _add_common(p)
    p.set_defaults(func=_run_fit)


def _run_fit(args: argparse.Namespace) -> int:
    sl = _sl()
    law = sl.laws.law_from_name(args.law)
    objective = _objective(args)
    _posterior_options(args)
    by, more = _by_column(args)
    with _warnings_to_stderr():
        runs = _read(args, args.runs_file, more)
        if args.drop_highest_loss:
            if args.drop_highest_loss >= len(runs):
                raise _UsageError(f"{PROG} fit: --drop-highest-loss {args.drop_highest_loss} would drop all "
                                  f"{len(runs)} runs of {args.runs_file}.")
            runs = runs.drop_highest("loss", args.drop_highest_loss)
            _say(args, f"kept {len(runs):,} runs after dropping the highest losses")
        if by is not None:
            return _fit_groups(args, law, runs, objective, by, more)
        logs, boot_by = runs, None
        if args.min_fraction is not None:
            cw = sl.checkpoint_weights(runs, min_fraction=args.min_fraction)
            runs, boot_by = cw.weighted_runs, "run"
            _say(args, f"checkpoints: kept {len(runs):,} of {cw.n_rows_in:,} rows of {cw.n_runs:,} runs, "
                       "weighted 1/(checkpoints of the run)")
        fit = _do_fit(args, law, runs, objective)
        post = _fit_posterior(args, fit, runs)
        bs = None
        if args.bootstrap:
            if args.bootstrap < 2:
                raise _UsageError(f"{PROG} fit: --bootstrap needs at least 2 resamples, got {args.bootstrap}.")
            _say(args, f"refitting {args.bootstrap:,} bootstrap resamples (seed {args.seed})")
            bs = sl.bootstrap(fit, runs, n=args.bootstrap, seed=args.seed, by=boot_by,
                              progress=None if not args.quiet else False)
        cv = sl.fitting.curvature(fit, runs) if args.curvature else None
        bt = None
        if args.backtest and args.min_fraction is not None:
            _say(args, "backtest: final-only vs checkpoint fits on the runs below the 80% final-flops quantile...")
            bt = sl.compare_checkpoint_fits(law, logs, min_fraction=args.min_fraction, objective=objective)
        elif args.backtest:
            _say(args, "backtest: refitting on the runs below the 80% flops quantile, with a bootstrap...")
            bt = sl.backtest(law, runs, holdout="compute", objective=objective)
    d = fit.to_dict()
    # how the runs were read, so that 'plot FIT_JSON RUNS_FILE' reads them the same way
    d["read_runs"] = {"path": str(Path(args.runs_file).resolve()), "columns": _columns(args.column),
                      "exclude": list(args.exclude or ()), "drop_highest_loss": int(args.drop_highest_loss)}
    if bs is not None:
        d["bootstrap"] = bs.to_dict(draws=True)
    if post is not None:
        d["posterior"] = post.to_dict(draws=True)
    if cv is not None:
        d["curvature"] = cv.to_dict()
    if args.output:
        Path(args.output).write_text(json.dumps(d, indent=2, default=_json_default) + "\n")
        _say(args, f"saved fit to {args.output}")
    if args.json:
        if bs is not None:
            d["bootstrap"] = bs.to_dict()
        if post is not None:
            d["posterior"] = post.to_dict()
        if bt is not None:
            d["backtest"] = bt.to_dict()
        _print_json(d)
    else:
        print(fit.report())
        if bs is not None:
            print(bs.report())
        if post is not None:
            print(post.report())
        if cv is not None:
            print(cv.report())
        if bt is not None:
            print()
            print(bt.report())
    return 0


def _posterior_options(args: argparse.Namespace) -> None:
    """Usage errors for --posterior DRAWS [--chains C] [--warmup W] [--likelihood L] (before any reading)."""
    if args.posterior is None:
        given = [f for f, v in (("--chains", args.chains), ("--warmup", args.warmup),
                                ("--likelihood", args.likelihood)) if v is not None]
        if given:
            raise _UsageError(f"{PROG} fit: {', '.join(given)} {'goes' if len(given) == 1 else 'go'} with "
                              "--posterior DRAWS (the NUTS posterior); add it or drop them.")
        return
    if args.posterior < 4:
        raise _UsageError(f"{PROG} fit: --posterior needs at least 4 draws per chain (R-hat and ESS split each "
                          f"chain), got {args.posterior}.")
    if args.chains is not None and args.chains < 1:
        raise _UsageError(f"{PROG} fit: --chains needs at least 1 chain, got {args.chains}.")


def _fit_posterior(args: argparse.Namespace, fit: Any, runs: Any) -> Any:
    """The NUTS posterior of --posterior DRAWS (None without it)."""
    if args.posterior is None:
        return None
    sl = _sl()
    chains = 4 if args.chains is None else args.chains
    warmup = args.posterior if args.warmup is None else args.warmup
    likelihood = args.likelihood or "gaussian"
    _say(args, f"sampling the posterior: NUTS, {chains} chains x {args.posterior:,} draws (warmup {warmup:,}), "
               f"{likelihood} likelihood, seed {args.seed} (a first run compiles, ~10 s)...")
    return sl.posterior(fit, runs, chains=chains, draws=args.posterior, warmup=warmup, seed=args.seed,
                        likelihood=likelihood, progress=not args.quiet)


def _by_column(args: argparse.Namespace) -> tuple[str | None, dict[str, str]]:
    """(the canonical column to group by, extra --column mapping): --by dataset, a column of the
    file that is not a canonical name, is read as 'group'."""
    from .runs import CANONICAL_COLUMNS

    shared = [s.strip() for item in args.shared or () for s in item.split(",") if s.strip()]
    args.shared = shared
    if args.by is None:
        if shared:
            raise _UsageError(f"{PROG} fit: --shared needs --by COLUMN (parameters shared by the groups of a column).")
        return None, {}
    single = [f for f, on in (("--bootstrap", args.bootstrap), ("--posterior", args.posterior is not None),
                              ("--curvature", args.curvature),
                              ("--backtest", args.backtest), ("--min-fraction", args.min_fraction is not None)) if on]
    if single:
        raise _UsageError(f"{PROG} fit: {' and '.join(single)} {'needs' if len(single) == 1 else 'need'} one fit, not "
                          f"--by {args.by} (one fit per group): run {'it' if len(single) == 1 else 'them'} on one "
                          "group's rows at a time.")
    by = _unquote(args.by)
    if by in CANONICAL_COLUMNS:
        return by, {}
    cols = _columns(args.column)
    if "group" in cols and cols["group"] != by:
        raise _UsageError(f"{PROG} fit: --by {by!r} reads that column as 'group', but --column group={cols['group']!r} "
                          f"maps another one; use --by group, or drop one of the two.")
    return "group", {"group": by}


def _fit_groups(args: argparse.Namespace, law: Any, runs: Any, objective: Any, by: str, more: dict[str, str]) -> int:
    sl = _sl()
    _say(args, f"fitting law {law.name!r} per group of {runs.origin.get(by, by)!r}"
               + (f" with {', '.join(args.shared)} shared" if args.shared else "") + "...")
    t0 = time.perf_counter()
    with _warnings_to_stderr():
        fits = sl.fit(law, runs, objective=objective, by=by, shared=tuple(args.shared))
    _say(args, f"fitted {len(fits)} groups in {time.perf_counter() - t0:.1f} s: total objective {fits.objective:.6g}")
    d = fits.to_dict()
    d["read_runs"] = {"path": str(Path(args.runs_file).resolve()), "columns": {**_columns(args.column), **more},
                      "exclude": list(args.exclude or ()), "drop_highest_loss": int(args.drop_highest_loss)}
    if args.output:
        Path(args.output).write_text(json.dumps(d, indent=2, default=_json_default) + "\n")
        _say(args, f"saved {len(fits)} group fits to {args.output} ('optimize {args.output} --group NAME' uses one)")
    if args.json:
        _print_json(d)
    else:
        print(fits.report())
    return 0


# --------------------------------------------------------------------------- optimize
def _add_optimize(sub: Any) -> None:
    p = _verb(sub, "optimize", "compute-optimal N and D for training budgets",
              "Read a fit saved by 'scalinglaws fit -o' and print, for each training budget C\n"
              "(FLOPs, C = 6ND), the loss-minimising model size N*, tokens D*, tokens per\n"
              "parameter and predicted loss. Warns when the optimum lies outside the fitted runs.",
              """
scalinglaws optimize fit.json --flops 5.76e23
scalinglaws optimize fit.json --flops 1e21 --flops 1e22 --flops 1e23
scalinglaws optimize fit.json --flops 1e21 1e22 1e23 --json
scalinglaws optimize fit.json --flops 1e24 --queries 1e9 --tokens-per-query 2000
scalinglaws optimize fit.json --flops 1e25 --queries 1e9 --tokens-per-query 1000 \\
    --link link.json --coverage-exponent -0.45

With --queries Q and --tokens-per-query T, each budget is a TOTAL budget that also pays
for serving Q queries of T generated tokens (2 N FLOPs per token): the answer is the
lowest-loss (N, D_train) with 6 N D_train + 2 N Q T = C (Sardana et al. 2023).
Add --link LINK_JSON (a fitted loss -> per-sample success law, e.g. 'scalinglaws fit
evals.csv --law sigmoid_link -o link.json') to choose N, D and the samples per query k
together for the best predicted accuracy (T tokens per sample): pass@k from
independent samples, Brown et al.'s coverage law (--coverage-exponent), or the Beta
model (--concentration). With --bootstrap N the intervals use the first N draws saved in
FIT_JSON and, when LINK_JSON holds draws too ('scalinglaws fit evals.csv --law sigmoid_link
--bootstrap N -o link.json'), the first N of the link's, draw i paired with draw i:

scalinglaws optimize fit.json --flops 1e25 --queries 1e9 --tokens-per-query 1000 \\
    --link link.json --coverage-exponent -0.45 --bootstrap 200

With --architecture ARCHS_JSON (a JSON list of architectures: objects with d_model,
n_layers, ffn_size, n_heads, vocab_size and optionally n_kv_heads, head_dim, gated_mlp,
tied_embeddings, name) or repeated --arch d_model=...,n_layers=...,..., the architecture is
chosen too: each has its own N and per-query FLOPs (prefill and decode apart, with the
attention term); without --link the lowest-loss one is chosen (one sample per query):

scalinglaws optimize fit.json --flops 1e23 --queries 1e10 --tokens-per-query 1000 \\
    --arch name=mha,d_model=2048,n_layers=16,ffn_size=8192,n_heads=32,vocab_size=32000 \\
    --arch name=small,d_model=1024,n_layers=16,ffn_size=4096,n_heads=16,vocab_size=32000
scalinglaws optimize fit.json --dollars 5e4 --queries 1e9 --tokens-per-query 1000 \\
    --architecture archs.json --hardware H100 --price-per-hour 2 --batch 64

With --dollars (instead of --flops) the budget is in dollars: training at --train-utilization
of the accelerator's peak, each query's decode steps on the roofline (where GQA's smaller
KV cache pays: a model, not a measurement).
""")
    p.add_argument("fit_json", metavar="FIT_JSON", help="a fit saved by 'scalinglaws fit -o FIT_JSON'")
    p.add_argument("--flops", type=_positive, action="extend", nargs="+", default=None, metavar="C",
                   help="training budget(s) in FLOPs, e.g. 5.76e23 (repeatable; several per flag allowed); required "
                        "unless --dollars")
    _add_accuracy_options(p)
    _add_arch_options(p, "a JSON list of candidate architectures: choose the architecture with N, D (and k)")
    p.add_argument("--dollars", type=_positive, action="extend", nargs="+", default=None, metavar="USD",
                   help="with --architecture/--arch: total budget(s) in dollars instead of --flops (training at "
                        "--train-utilization of the peak, decode on the roofline)")
    _add_hardware_options(p, "with --dollars: ")
    p.add_argument("--train-utilization", type=_positive, default=0.4, metavar="U",
                   help="with --dollars: training FLOP/s as a share of the peak (default 0.4)")
    p.add_argument("--group", default=None, metavar="NAME",
                   help="FIT_JSON holds fits per group ('scalinglaws fit --by COLUMN -o FIT_JSON'): use this group's")
    p.add_argument("--bootstrap", type=_count, default=0, metavar="N",
                   help="intervals from the first N bootstrap draws saved in FIT_JSON by 'scalinglaws fit --bootstrap "
                        "N -o FIT_JSON' (compute-optimal and --queries allocations); with --link, the first N draws "
                        "saved in LINK_JSON too, paired with FIT_JSON's by index")
    p.add_argument("--posterior", action="store_true",
                   help="intervals from the posterior draws saved in FIT_JSON by 'scalinglaws fit --posterior DRAWS "
                        "-o FIT_JSON' (every draw; compute-optimal and --queries allocations)")
    _add_common(p)
    p.set_defaults(func=_run_optimize)


def _add_accuracy_options(p: argparse.ArgumentParser, queries_help: str | None = None) -> None:
    """--queries, --tokens-per-query and the accuracy model's options (shared by optimize and plot)."""
    p.add_argument("--queries", type=_positive, default=None, metavar="Q",
                   help=queries_help or "lifetime queries to serve; makes each --flops a total (training + "
                                        "inference) budget")
    p.add_argument("--tokens-per-query", type=_positive, default=None, metavar="T",
                   help="generated tokens per query (with --queries); with --link: tokens per sample")
    p.add_argument("--link", default=None, metavar="LINK_JSON",
                   help="a fitted loss -> per-sample success law; enables the joint N, D, k search")
    p.add_argument("--coverage-exponent", type=_number, default=None, metavar="B",
                   help="with --link: coverage c(k) = p^(k^B), B <= 0 (Brown et al. 2024)")
    p.add_argument("--concentration", type=_positive, default=None, metavar="KAPPA",
                   help="with --link: per-problem success ~ Beta(p KAPPA, (1 - p) KAPPA)")
    p.add_argument("--samples", type=_positive, action="extend", nargs="+", default=None, metavar="K",
                   help="with --link: candidate samples per query (default every integer from 1 to 2**20)")


def _add_arch_options(p: argparse.ArgumentParser, architecture_help: str) -> None:
    """--architecture FILE and repeated --arch (read by :func:`_architectures`; shared by optimize and plot)."""
    p.add_argument("--architecture", metavar="ARCHS_JSON", default=None, help=architecture_help)
    p.add_argument("--arch", type=_arch_spec, action="append", default=None, metavar="KEY=VALUE,...",
                   help="one candidate architecture, e.g. d_model=2048,n_layers=16,ffn_size=8192,n_heads=32,"
                        "n_kv_heads=8,vocab_size=32000,name=gqa (repeatable)")


def _add_hardware_options(p: argparse.ArgumentParser, prefix: str) -> None:
    """--hardware, --price-per-hour, --batch (shared by optimize and plot; ``prefix`` says when they apply)."""
    p.add_argument("--hardware", default="H100", metavar="NAME",
                   help=f"{prefix}accelerator preset (A100-40GB, A100-80GB, H100, H200; default H100)")
    p.add_argument("--price-per-hour", type=_positive, default=None, metavar="USD",
                   help=f"{prefix}price of one accelerator-hour")
    p.add_argument("--batch", type=_count, default=1, metavar="B",
                   help=f"{prefix}sequences decoded together (default 1)")


def _accuracy_model(args: argparse.Namespace, link: Any = None) -> Any:
    """The accuracy model of --link (with --coverage-exponent / --concentration), or None without --link.
    ``link``: the link already read (a Fit, or a Bootstrap of it for optimize --bootstrap)."""
    sl = _sl()
    if args.link is None:
        return None
    return sl.optimize.CoverageAccuracyModel(sl.load_fit(args.link) if link is None else link,
                                             coverage_exponent=args.coverage_exponent,
                                             concentration=args.concentration)


def _architectures(args: argparse.Namespace) -> list[Any]:
    """The candidate architectures of --architecture FILE and --arch (errors name the file and item)."""
    sl = _sl()
    specs: list[tuple[str, Any]] = []
    if args.architecture is not None:
        path = Path(args.architecture)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise sl.DataError(f"{path}: not JSON ({e.msg} at line {e.lineno}); expected a list of architectures.",
                               source=str(path), rule="not json") from None
        if isinstance(data, dict) and "architectures" in data:
            data = data["architectures"]
        if not isinstance(data, list) or not data:
            raise sl.DataError(f"{path}: expected a non-empty JSON list of architecture objects, got "
                               f"{type(data).__name__}.", source=str(path), rule="not a list")
        specs += [(f"{path}: item {i}", d) for i, d in enumerate(data)]
    specs += [(f"--arch #{i + 1}", d) for i, d in enumerate(args.arch or [])]
    out = []
    for where, d in specs:
        if not isinstance(d, dict):
            raise sl.DataError(f"{where}: expected an object of architecture fields, got {type(d).__name__}.",
                               rule="not an object")
        try:
            out.append(sl.Architecture(**d))
        except TypeError as e:
            raise sl.LawError(f"{where}: {e}; fields: d_model, n_layers, ffn_size, n_heads, vocab_size (required), "
                              f"n_kv_heads, head_dim, gated_mlp, tied_embeddings, name.", rule="bad architecture")
        except sl.LawError as e:
            raise sl.LawError(f"{where}: {e.message}", rule=e.rule, value=e.value) from None
    return out


def _allocate(args: argparse.Namespace, fit: Any, link: Any = None) -> Any:
    """The allocation asked for by ``args`` (the place to branch on new optimize options); ``link``:
    the --link fit already read (or its Bootstrap), else read from args.link."""
    sl = _sl()
    if args.dollars is not None and not (args.architecture or args.arch):
        raise _UsageError(f"{PROG} optimize: --dollars goes with --architecture/--arch (the dollar cost of a query "
                          "comes from an architecture on the roofline).")
    if (args.flops is None) == (args.dollars is None):
        raise _UsageError(f"{PROG} optimize: give --flops C (or, with --architecture/--arch, --dollars USD), not "
                          f"{'both' if args.flops is not None else 'neither'}.")
    flops = np.asarray(args.flops if args.flops is not None else [], dtype=np.float64)
    if (args.queries is None) != (args.tokens_per_query is None):
        raise sl.LawError("--queries and --tokens-per-query go together: give both or neither.",
                          rule="missing option")
    archs = _architectures(args)
    if archs:
        if args.queries is None:
            raise sl.LawError("--architecture/--arch need --queries and --tokens-per-query (each architecture's "
                              "serving cost is what sets them apart).", rule="missing option")
        if args.link is not None:
            model: Any = _accuracy_model(args)
            samples = args.samples
        else:
            model, samples = None, [1.0]
        common = dict(queries=args.queries, accuracy_model=model, tokens_per_sample=args.tokens_per_query,
                      samples=samples, architectures=archs)
        if args.dollars is not None:
            if args.price_per_hour is None:
                raise _UsageError(f"{PROG} optimize: --dollars needs --price-per-hour (of one {args.hardware}).")
            cost = dict(hardware=args.hardware, price_per_hour=args.price_per_hour, batch=args.batch,
                        train_utilization=args.train_utilization)
            return ("architectures", [sl.best_config(fit, total_dollars=float(c), **common, **cost)
                                      for c in args.dollars])
        return ("architectures", [sl.best_config(fit, total_flops=float(c), **common) for c in flops])
    if args.link is not None:
        if args.queries is None:
            raise sl.LawError("--link needs --queries and --tokens-per-query (the per-sample generation length).",
                              rule="missing option")
        model = _accuracy_model(args, link)
        return [sl.best_config(fit, total_flops=float(c), queries=args.queries, accuracy_model=model,
                               tokens_per_sample=args.tokens_per_query, samples=args.samples) for c in flops]
    if args.queries is not None:
        return sl.lowest_loss(fit, total_flops=flops, inference_tokens=args.queries * args.tokens_per_query)
    return sl.compute_optimal(fit, flops=flops)


_CONFIG_FIELDS = ("total_flops", "queries", "params", "tokens", "tokens_per_param", "samples", "tokens_per_sample",
                  "accuracy", "loss", "per_query_flops", "train_flops", "inference_flops", "train_share",
                  "inference_share")


_ARCH_CONFIG_FIELDS = ("budget", "total", "queries", "params", "tokens", "tokens_per_param", "samples", "tokens_per_sample",
                       "accuracy", "loss", "per_query_flops", "train_flops", "inference_flops", "train_share",
                       "inference_share")


def _refit_command(fit_json: str, n: int, flags: Sequence[str] | None = None) -> str:
    """The 'scalinglaws fit ... --bootstrap N -o FIT_JSON' command that remakes ``fit_json`` with draws:
    the runs file, law, column mapping, exclusions, dropped losses and objective saved in it."""
    import shlex

    d = json.loads(Path(fit_json).read_text())
    rr = d.get("read_runs") or {}
    cmd = [PROG, "fit", rr.get("path") or "RUNS_FILE"]
    law = (d.get("law") or {}).get("name")
    if law and law != "chinchilla":
        cmd += ["--law", law]
    for canon, user in (rr.get("columns") or {}).items():
        cmd += ["--column", f"{canon}={user}"]
    for col in rr.get("exclude") or ():
        cmd += ["--exclude", col]
    if rr.get("drop_highest_loss"):
        cmd += ["--drop-highest-loss", str(rr["drop_highest_loss"])]
    obj = d.get("objective") or {}
    if obj.get("name") and obj["name"] != "huber":
        cmd += ["--objective", obj["name"]]
    if obj.get("delta") is not None and obj["delta"] != 1e-3:
        cmd += ["--delta", f"{obj['delta']:g}"]
    return " ".join(shlex.quote(c) for c in [*cmd, *(flags or ("--bootstrap", str(n))), "-o", fit_json])


def _no_draws(verb: str, fit_json: str, n: int = 200) -> _UsageError:
    """The usage error for a fit file without bootstrap draws, with the command that makes them."""
    return _UsageError(f"{PROG} {verb}: {fit_json} holds no bootstrap draws (saved by 'fit --bootstrap N -o'); "
                       f"make them with: {_refit_command(fit_json, n)}")


def _first_draws(args: argparse.Namespace, path: str, fit: Any) -> Any:
    """The first --bootstrap draws saved in ``path`` (a Bootstrap), or None when it holds none."""
    import dataclasses

    from .fitting.bootstrap import load_bootstrap

    bs = load_bootstrap(path, fit)
    if bs is None:
        return None
    if args.bootstrap > len(bs.draws):
        raise _UsageError(f"{PROG}: --bootstrap {args.bootstrap} but {path} holds only "
                          f"{len(bs.draws)} draws.")
    return dataclasses.replace(bs, draws=bs.draws[:args.bootstrap], objectives=bs.objectives[:args.bootstrap])


def _load_posterior(args: argparse.Namespace) -> Any:
    """The posterior saved in FIT_JSON (optimize --posterior); usage errors for what it cannot go with."""
    sl = _sl()
    clash = [f for f, on in (("--bootstrap", args.bootstrap), ("--group", args.group is not None)) if on]
    if clash:
        raise _UsageError(f"{PROG} optimize: --posterior and {' and '.join(clash)} do not go together (intervals "
                          "come from one set of draws of one fit); drop one.")
    if args.link is not None:
        _say(args, f"note: the intervals carry the posterior of {args.fit_json} only; the link {args.link} is held "
                   "fixed (its bootstrap draws pair with the loss fit's under --bootstrap N)")
    try:
        post = sl.load_posterior(args.fit_json)
    except sl.LawError as exc:
        if exc.rule != "no posterior":
            raise
        raise _UsageError(f"{PROG} optimize --posterior: {args.fit_json} holds no posterior draws (saved by 'fit "
                          "--posterior DRAWS -o'); make them with: "
                          f"{_refit_command(args.fit_json, 0, ('--posterior', '1000'))}") from None
    for msg in post.warnings:  # an unconverged posterior's intervals say so where they are used
        print(f"warning: the posterior saved in {args.fit_json}: {_oneline(msg)}", file=sys.stderr)
    return post


def _load_bootstrap(args: argparse.Namespace, fit: Any) -> tuple[Any, Any]:
    """(the loss fit, the --link fit) for --bootstrap N: each the Bootstrap of its file's first N
    draws where the file holds draws (the link's: with --queries, the accuracy-maximising search)."""
    bs = _first_draws(args, args.fit_json, fit)
    if args.link is None or args.queries is None or args.architecture or args.arch:
        if bs is None:
            raise _no_draws("optimize --bootstrap", args.fit_json, args.bootstrap)
        return bs, None
    sl = _sl()
    link_fit = sl.load_fit(args.link)
    lb = _first_draws(args, args.link, link_fit)
    if bs is None and lb is None:
        raise _no_draws("optimize --bootstrap", args.fit_json, args.bootstrap)
    if lb is None:
        _say(args, f"note: {args.link} holds no bootstrap draws (saved by 'fit --bootstrap N -o'): the intervals "
                   "carry the loss fit's uncertainty only; the link is held fixed")
        return bs, link_fit
    _say(args, "note: the intervals include the link's uncertainty: " + (
        f"draw i of {args.fit_json} paired with draw i of {args.link} (independent fits)" if bs is not None else
        f"{args.fit_json} holds no draws, so they carry the link's uncertainty alone"))
    return (fit if bs is None else bs), lb


def _law_name(fit: Any) -> str:
    return fit.fit.law.name if hasattr(fit, "draws") else fit.law.name


def _run_optimize(args: argparse.Namespace) -> int:
    sl = _sl()
    link = None
    if args.posterior:
        fit = _load_posterior(args)
    else:
        fit = sl.load_fit(args.fit_json, group=args.group)
        if args.bootstrap:
            fit, link = _load_bootstrap(args, fit)
    with _warnings_to_stderr():
        alloc = _allocate(args, fit, link)
    if isinstance(alloc, tuple) and alloc[0] == "architectures":
        fields = [k for k in _ARCH_CONFIG_FIELDS if args.link is not None or k != "accuracy"]
        rows = [{"architecture": c.architecture.to_dict(), **{k: getattr(c, k) for k in fields}} for c in alloc[1]]
        if args.json:
            _print_json(rows)
        else:
            print(f"configuration over {len(alloc[1][0].architectures)} architectures ({_law_name(fit)} loss fit"
                  + (f", link {args.link})" if args.link else "; lowest loss, one sample per query)") + ":")
            for c in alloc[1]:
                print(c.report())
        return 0
    if isinstance(alloc, list):  # best_config per budget
        rows = [{k: getattr(c, k) for k in _CONFIG_FIELDS} for c in alloc]
        for r, c in zip(rows, alloc):
            if getattr(c, "draws", None):
                r["draws"] = int(len(next(iter(c.draws.values()))))
                for lvl, tag in ((0.90, "90"), (0.95, "95")):
                    for k, (lo, hi) in c.interval(lvl).items():
                        r[f"{k}_{tag}"] = [float(lo), float(hi)]
        if args.json:
            _print_json(rows)
        else:
            with_link = hasattr(link, "draws")
            print(f"accuracy-maximising configuration ({_law_name(fit)} loss fit, link {args.link}"
                  + ("; the intervals include the link's uncertainty" if with_link else "") + "):")
            for c in alloc:
                print(c.report())
        return 0
    if args.json:
        rows = alloc.rows()
        if getattr(alloc, "draws", None):
            i90, i95 = alloc.interval(0.90), alloc.interval(0.95)
            for j, r in enumerate(rows):
                for k in i90:
                    r[f"{k}_90"] = [float(np.atleast_1d(v)[j]) for v in i90[k]]
                    r[f"{k}_95"] = [float(np.atleast_1d(v)[j]) for v in i95[k]]
        _print_json(rows)
    else:
        if args.queries is not None:
            print(f"lowest-loss allocation of total budgets serving {args.queries:.3g} queries x "
                  f"{args.tokens_per_query:.3g} tokens ({_law_name(fit)} fit from {args.fit_json}, {alloc.method}):")
            print(alloc.report())
            for r in alloc.rows():
                share = r["inference_flops"] / r["total_flops"]
                print(f"  budget {r['total_flops']:.3g}: training {1 - share:.1%}, inference {share:.1%}")
        else:
            print(f"compute-optimal allocation ({_law_name(fit)} fit from {args.fit_json}, {alloc.method}):")
            print(alloc.report())
    return 0


# --------------------------------------------------------------------------- laws
def _add_laws(sub: Any) -> None:
    p = _verb(sub, "laws", "list the built-in laws",
              "List the registered laws: name (for 'scalinglaws fit --law NAME'), the columns\n"
              "each reads, the column it predicts, its parameters and a one-line description.",
              """
scalinglaws laws
scalinglaws laws --json
""")
    _add_common(p)
    p.set_defaults(func=_run_laws)


def _law_rows() -> list[dict[str, Any]]:
    sl = _sl()
    rows = []
    for name in sorted(sl.laws.REGISTRY):
        law = sl.laws.REGISTRY[name]()
        rows.append({"name": name, "description": law.describe(), "inputs": list(law.inputs),
                     "target": law.target, "params": list(law.public_names)})
    return rows


def _run_laws(args: argparse.Namespace) -> int:
    rows = _law_rows()
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        print(f"{r['name']}")
        print(f"    {r['description']}")
        print(f"    inputs: {', '.join(r['inputs'])} -> {r['target']};  parameters: {', '.join(r['params'])}")
    return 0


# --------------------------------------------------------------------------- demo
def _add_demo(sub: Any) -> None:
    p = _verb(sub, "demo", "fit the bundled synthetic Chinchilla runs end to end",
              "The default job, end to end: read data/synthetic_chinchilla.csv (81 runs drawn with\n"
              "1% noise from Epoch AI's Chinchilla fit, Besiroglu et al. 2024), fit the Chinchilla\n"
              "law, print the report, the compute-optimal allocation for 1e20..1e25 FLOPs and how\n"
              "the fitted parameters compare with the true ones, and save a plot to DIR/demo.png.",
              """
scalinglaws demo
scalinglaws demo --out /tmp/sl-demo
scalinglaws demo --json -q > demo.json
""")
    p.add_argument("--out", metavar="DIR", default="scalinglaws-demo",
                   help="folder for demo.png (created if needed; default ./scalinglaws-demo)")
    _add_common(p)
    p.set_defaults(func=_run_demo)


def _demo_runs(args: argparse.Namespace):
    """(runs, description of the source): the bundled CSV, else the same table made in memory."""
    import scalinglaws

    sl = _sl()
    from . import synthetic

    path = Path(scalinglaws.__file__).resolve().parents[1] / "data" / "synthetic_chinchilla.csv"
    if path.is_file():
        return _read(args, str(path)), str(path)
    _say(args, f"{path} not found (non-editable install?); regenerating the same table in memory with "
               f"scalinglaws.synthetic.demo_sweep() (seed {synthetic.DEMO['seed']})")
    runs = sl.read_runs(synthetic.demo_sweep())
    return runs, "scalinglaws.synthetic.demo_sweep() (in memory)"


def _run_demo(args: argparse.Namespace) -> int:
    sl = _sl()
    from . import plot, synthetic

    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise _UsageError(f"{PROG} demo: --out {out_dir} exists and is not a folder.")
    truth = synthetic.DEMO["params"]
    with _warnings_to_stderr():
        runs, source = _demo_runs(args)
        fit = _do_fit(args, sl.laws.Chinchilla(), runs)
        alloc = sl.compute_optimal(fit, flops=np.asarray(DEMO_BUDGETS))
        _say(args, "plotting...")
        out_dir.mkdir(parents=True, exist_ok=True)
        fig, (ax1, ax2) = _figure(ncols=2)
        plot.plot_fit(fit, runs, ax=ax1)
        plot.plot_frontier(fit, ax=ax2)
        png = _save_figure(fig, out_dir / "demo.png", args)
    comparison = {k: {"true": float(truth[k]), "fitted": float(fit.params[k]),
                      "relative_error": float(fit.params[k] / truth[k] - 1.0)} for k in truth}
    if args.json:
        _print_json({"data": source, "true_params": dict(truth), "fit": fit.to_dict(),
                     "comparison": comparison, "allocation": alloc.rows(), "plot": str(png)})
        return 0
    print(f"data: {source}")
    print("     (synthetic: Chinchilla law with Epoch AI's parameters, Besiroglu et al. 2024, 1% noise)")
    print()
    print(fit.report())
    print()
    print("fitted vs true parameters:")
    print(f"    {'':>6}  {'true':>10}  {'fitted':>10}  {'rel. error':>10}")
    for k, c in comparison.items():
        print(f"    {k:>6}  {c['true']:>10.5g}  {c['fitted']:>10.5g}  {c['relative_error']:>+10.2%}")
    print()
    print(f"compute-optimal allocation ({alloc.method}):")
    print(alloc.report())
    print()
    print(f"plot: {png}")
    return 0


# --------------------------------------------------------------------------- plot
#: kind -> one line for --help (the order of the list there)
PLOT_KINDS = {
    "fit": "loss vs FLOPs: runs coloured by N, fitted curves, optimal loss",
    "isoflop": "loss vs N per budget: Approach-2 parabolas, fitted profiles",
    "frontier": "compute-optimal N* and D* vs FLOPs beside Hoffmann et al.",
    "tokens_per_param": "optimal D*/N* vs FLOPs beside Hoffmann, Epoch and Kaplan",
    "residuals": "residuals of the fit vs FLOPs or N (--against flops|params)",
    "loss_frontier": "compute-optimal loss L*(C) with its bootstrap band (--level)",
    "pairs": "pairwise scatter and histograms of the bootstrap draws",
    "inference_frontier": "accuracy vs training + serving FLOPs per model size (--sizes)",
    "gain_vs_queries": "accuracy gain of --small over --large models vs queries",
    "architecture_pareto": "loss vs decode throughput of the candidates (--arch)",
    "adaptive": "samples per difficulty bin vs the same k for all (a per-sample log)",
}
#: kind -> what it needs besides FIT_JSON (the second column of --help's list)
PLOT_NEEDS = {
    "fit": "RUNS_FILE", "isoflop": "RUNS_FILE", "frontier": "fit only", "tokens_per_param": "fit only",
    "residuals": "RUNS_FILE", "loss_frontier": "draws [RUNS_FILE]", "pairs": "draws",
    "inference_frontier": "--link --queries", "gain_vs_queries": "--link --flops", "architecture_pareto": "--flops",
    "adaptive": "SAMPLES_LOG, no fit",
}
STYLES = ("default", "paper")
_NEEDS_RUNS = ("fit", "isoflop", "residuals")
_NEEDS_DRAWS = ("loss_frontier", "pairs")


def _add_plot(sub: Any) -> None:
    w1, w2 = max(map(len, PLOT_KINDS)), max(map(len, PLOT_NEEDS.values()))
    kinds = "\n".join(f"  {k:<{w1}}  {PLOT_NEEDS[k]:<{w2}}  {v}" for k, v in PLOT_KINDS.items())
    p = _verb(sub, "plot", "draw a figure of a saved fit (--kind, see --help)",
              "Draw one figure of a fit saved by 'scalinglaws fit -o FIT_JSON' (--kind KIND; what it needs\n"
              "besides FIT_JSON; what it draws):\n\n" + kinds + "\n\n"
              "The file type follows the name given to -o (.png, .pdf, .svg, ...). RUNS_FILE is read\n"
              "as 'fit -o' read it: its saved column mapping (unless --column is given) and its\n"
              "--drop-highest-loss. loss_frontier and pairs read the bootstrap draws saved by\n"
              "'scalinglaws fit RUNS --bootstrap N -o FIT_JSON'. inference_frontier and gain_vs_queries\n"
              "take the accuracy model of 'scalinglaws optimize' (--link LINK_JSON, a loss -> per-sample\n"
              "success fit such as 'scalinglaws fit evals.csv --law sigmoid_link -o link.json', with\n"
              "--coverage-exponent or --concentration, --samples); architecture_pareto takes its\n"
              "candidates (--arch, --architecture) and --hardware, --batch, --price-per-hour.\n"
              "adaptive draws no fit: its first argument is a per-sample log (one row per sample: problem,\n"
              "sample_index, correct; optional model, difficulty); problems are cut into --bins\n"
              "equal-count difficulty bins (on the difficulty column, else their own pass rate), each\n"
              "bin's mean unbiased pass@k is its curve, and samples per query are allocated per bin\n"
              "(sl.optimize.allocate_samples) against the same k for every query. Bins cut on the problems'\n"
              "own pass rates make the gain in-sample (an upper bound); a difficulty column measured\n"
              "apart (another model, a held-out half of the samples) gives an honest one.",
              """
scalinglaws plot fit.json runs.csv -o fit.png
scalinglaws plot fit.json runs.csv --kind isoflop -o isoflop.pdf
scalinglaws plot fit.json --kind frontier --flops-range 1e19 1e26 -o frontier.png
scalinglaws plot fit.json --kind tokens_per_param --flops-range 1e19 1e26 -o tpp.png
scalinglaws plot fit.json runs.csv --kind residuals --against params -o residuals.png
scalinglaws fit runs.csv --bootstrap 200 -o fit.json     # saves the draws the next two read
scalinglaws plot fit.json runs.csv --kind loss_frontier --level 0.95 -o loss_frontier.png
scalinglaws plot fit.json --kind pairs --params E A alpha -o pairs.png
scalinglaws plot fit.json --kind inference_frontier --link link.json --queries 1e9 \\
    --tokens-per-query 1000 --sizes 1e9 8e9 7e10 --flops-range 1e22 1e26 -o inference.png
    # add --flops 1e25 --small 1e9 8e9 --large 7e10 to mark where smaller models win at 1e25
scalinglaws plot fit.json --kind gain_vs_queries --link link.json --flops 1e25 \\
    --small 1e9 8e9 --large 7e10 --tokens-per-query 1000 -o gain.png
scalinglaws plot fit.json --kind architecture_pareto --flops 1e22 --hardware H100 --batch 32 \\
    --arch d_model=2048,n_layers=16,ffn_size=8192,n_heads=32,vocab_size=32000 \\
    --arch d_model=1536,n_layers=24,ffn_size=6144,n_heads=24,n_kv_heads=8,vocab_size=32000 -o pareto.png
scalinglaws plot samples.csv --kind adaptive --bins 4 --model llama-8b -o adaptive.png
""")
    p.add_argument("fit_json", metavar="FIT_JSON", help="a fit saved by 'scalinglaws fit -o FIT_JSON' (for --kind "
                                                        "adaptive: SAMPLES_LOG, the per-sample log)")
    p.add_argument("runs_file", metavar="RUNS_FILE", nargs="?", default=None,
                   help="the runs to show (needed for --kind " + ", ".join(_NEEDS_RUNS) + "; optional for "
                        "loss_frontier)")
    p.add_argument("--bootstrap", type=_count, default=0, metavar="N",
                   help="gain_vs_queries: a 90%% band from the first N bootstrap draws saved in FIT_JSON (and in "
                        "LINK_JSON, when it holds draws, paired by index)")
    p.add_argument("--posterior", action="store_true",
                   help="loss_frontier, pairs, gain_vs_queries: the posterior draws saved by 'scalinglaws fit "
                        "--posterior DRAWS -o FIT_JSON' instead of bootstrap draws")
    p.add_argument("--bins", type=_count, default=5, metavar="B",
                   help="adaptive: equal-count difficulty bins (default 5, as Snell et al. 2024)")
    p.add_argument("--model", default=None, metavar="NAME",
                   help="adaptive: the model whose samples to use, when the log's model column holds several")
    p.add_argument("--kind", choices=tuple(PLOT_KINDS), default="fit", metavar="KIND",
                   help="which figure (default: fit): " + ", ".join(PLOT_KINDS))
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="image file to write, e.g. out.png")
    p.add_argument("--flops-range", type=_positive, nargs=2, metavar=("LOW", "HIGH"), default=None,
                   help="budgets spanned by frontier, tokens_per_param and inference_frontier (default: 1e18 1e25), "
                        "and by loss_frontier (default: from the runs, else 1e18 1e25)")
    p.add_argument("--against", choices=("flops", "params"), default="flops",
                   help="residuals: the x axis, training FLOPs or parameters N (default: flops)")
    p.add_argument("--level", type=_number, default=0.9, metavar="P",
                   help="loss_frontier: the band's level; pairs: the histograms' interval, in (0, 1) (default 0.9)")
    p.add_argument("--params", nargs="+", default=None, metavar="NAME",
                   help="pairs: the parameters to draw, at least two (default: all of the law's)")
    p.add_argument("--flops", type=_positive, default=None, metavar="C",
                   help="gain_vs_queries: the total (training + serving) budget; architecture_pareto: the training "
                        "budget, D = C / (6 N) per candidate (N with embeddings)")
    p.add_argument("--sizes", type=_positive, nargs="+", default=None, metavar="N",
                   help="inference_frontier: model sizes drawn one line each (default: none, the any-N optimum only)")
    p.add_argument("--small", type=_positive, nargs="+", default=None, metavar="N",
                   help="gain_vs_queries: the smaller model sizes (inference_frontier: with --large and --flops, "
                        "marks that budget with the query volume above which the smaller win)")
    p.add_argument("--large", type=_positive, nargs="+", default=None, metavar="N",
                   help="gain_vs_queries: the larger model sizes (each above every --small)")
    p.add_argument("--queries-range", type=_positive, nargs=2, metavar=("LOW", "HIGH"), default=(1e4, 1e12),
                   help="gain_vs_queries: query volumes spanned (default: 1e4 1e12)")
    _add_accuracy_options(p, queries_help="inference_frontier: lifetime queries served at every budget")
    _add_arch_options(p, "architecture_pareto: a JSON list of candidate architectures (as 'optimize --architecture')")
    _add_hardware_options(p, "architecture_pareto: ")
    p.add_argument("--style", choices=STYLES, default="default",
                   help="'paper': one column wide (3.3 in), the colour-blind-safe Okabe-Ito palette, 7.5-9 pt text, "
                        "fonts embedded; pair it with -o fig.pdf or fig.svg for vector output (default: default)")
    _add_column_option(p)
    _add_common(p, json_flag=False)
    p.set_defaults(func=_run_plot)


def _plot_usage(args: argparse.Namespace) -> None:
    """Usage errors of plot found before any work (which options each kind needs)."""
    kind, need = args.kind, []
    if kind in _NEEDS_RUNS and args.runs_file is None:
        raise _UsageError(f"{PROG} plot: --kind {kind} needs RUNS_FILE (the runs to draw); "
                          f"only --kind {', '.join(k for k in PLOT_KINDS if k not in _NEEDS_RUNS)} work without it.")
    if args.flops_range is not None and not args.flops_range[0] < args.flops_range[1]:
        lo, hi = args.flops_range
        raise _UsageError(f"{PROG} plot: --flops-range LOW HIGH needs LOW < HIGH, got {lo:g} {hi:g}.")
    if not 0 < args.level < 1:
        raise _UsageError(f"{PROG} plot: --level must be in (0, 1), got {args.level:g}.")
    if kind in ("inference_frontier", "gain_vs_queries"):
        if args.link is None:
            need.append("--link LINK_JSON (a loss -> per-sample success fit, e.g. 'scalinglaws fit evals.csv "
                        "--law sigmoid_link -o link.json')")
        if args.tokens_per_query is None:
            need.append("--tokens-per-query T (tokens per sample)")
    if kind == "inference_frontier" and args.queries is None:
        need.append("--queries Q")
    if kind == "gain_vs_queries":
        need += [o for o, v in (("--flops C (the total budget)", args.flops), ("--small N [N ...]", args.small),
                                ("--large N [N ...]", args.large)) if v is None]
        lo, hi = args.queries_range
        if not lo < hi:
            raise _UsageError(f"{PROG} plot: --queries-range LOW HIGH needs LOW < HIGH, got {lo:g} {hi:g}.")
    if kind == "architecture_pareto":
        if args.architecture is None and not args.arch:
            need.append("candidate architectures (--arch KEY=VALUE,... repeated, or --architecture ARCHS_JSON)")
        if args.flops is None:
            need.append("--flops C (the training budget of every candidate)")
    if need:
        raise _UsageError(f"{PROG} plot: --kind {kind} needs " + "; ".join(need) + ".")


def _run_plot(args: argparse.Namespace) -> int:
    sl = _sl()
    from . import plot
    from .fitting.bootstrap import load_bootstrap

    if args.kind == "adaptive":
        return _plot_adaptive(args, sl, plot)
    fit = sl.load_fit(args.fit_json)
    _plot_usage(args)
    kind = args.kind
    bs = link = None
    if args.posterior and args.bootstrap:
        raise _UsageError(f"{PROG} plot: --posterior and --bootstrap do not go together (one set of draws); drop one.")
    if (args.posterior or args.bootstrap) and kind not in (*_NEEDS_DRAWS, "gain_vs_queries"):
        raise _UsageError(f"{PROG} plot: --{'posterior' if args.posterior else 'bootstrap'} applies to --kind "
                          f"{', '.join((*_NEEDS_DRAWS, 'gain_vs_queries'))}, not {kind}.")
    if args.posterior:
        try:
            bs = sl.load_posterior(args.fit_json, fit)
        except sl.LawError as exc:
            if exc.rule != "no posterior":
                raise
            raise _UsageError(f"{PROG} plot --posterior: {args.fit_json} holds no posterior draws (saved by 'fit "
                              "--posterior DRAWS -o'); make them with: "
                              f"{_refit_command(args.fit_json, 0, ('--posterior', '1000'))}") from None
    elif kind in _NEEDS_DRAWS:
        bs = load_bootstrap(args.fit_json, fit)
        if bs is None:
            raise _no_draws(f"plot --kind {kind}", args.fit_json)
    elif args.bootstrap:  # gain_vs_queries: the loss fit's draws, and the link's where its file holds them
        bs = _first_draws(args, args.fit_json, fit)
        link = _first_draws(args, args.link, sl.load_fit(args.link))
        if bs is None and link is None:
            raise _no_draws("plot --bootstrap", args.fit_json, args.bootstrap)
        _say(args, "the band carries " + ("the loss fit's and the link's uncertainty (draws paired by index)"
                                          if bs is not None and link is not None else
                                          "the loss fit's uncertainty only (the link is held fixed)" if link is None
                                          else "the link's uncertainty only (FIT_JSON holds no draws)"))
    flops_range = tuple(args.flops_range) if args.flops_range is not None else (1e18, 1e25)
    saved = json.loads(Path(args.fit_json).read_text()).get("read_runs") or {}
    if not args.column and not args.exclude and saved.get("columns"):
        args.column = list(saved["columns"].items())
        args.exclude = list(saved.get("exclude") or ()) or None
        _say(args, f"reading the runs with the column mapping saved in {args.fit_json}: "
                   + ", ".join(f"{k}={v!r}" for k, v in saved["columns"].items()))
    with _warnings_to_stderr():
        runs = _read(args, args.runs_file) if args.runs_file is not None else None
        if runs is not None and saved.get("drop_highest_loss"):
            runs = runs.drop_highest("loss", int(saved["drop_highest_loss"]))
            _say(args, f"dropped the {saved['drop_highest_loss']} highest losses, as the fit did")
        paper = args.style == "paper"
        with plot.paper_style() if paper else contextlib.nullcontext():
            if kind == "pairs":
                from matplotlib.figure import Figure

                m = len(args.params) if args.params else len(fit.law.public_names)
                # a grid of m x m panels: at most a page's text width (two columns, 6.9 in) in the paper style
                side = min(6.9, 1.35 * m + 0.4) if paper else 1.9 * m + 0.6
                fig = Figure(figsize=(side, side), layout="constrained")
                plot.posterior_pairs(bs, args.params, fig=fig, level=args.level)
            else:
                fig, (ax,) = _figure(size=None if paper else (6.4, 4.8))
                _draw(args, sl, plot, kind, fit, bs, runs, flops_range, ax, link)
            _save_figure(fig, Path(args.output), args, dpi=None if paper else 120)
    return 0


def _plot_adaptive(args: argparse.Namespace, sl: Any, plot: Any) -> int:
    """--kind adaptive: difficulty-binned pass@k curves of a per-sample log, adaptive against uniform k."""
    if args.runs_file is not None:
        raise _UsageError(f"{PROG} plot: --kind adaptive takes one file, the per-sample log; got a second, "
                          f"{args.runs_file!r}.")
    if args.bins < 2:
        raise _UsageError(f"{PROG} plot: --kind adaptive needs --bins >= 2 (one bin leaves nothing to adapt), "
                          f"got {args.bins}.")
    paper = args.style == "paper"
    with _warnings_to_stderr():
        log = _read(args, args.fit_json)
        if "model" in log:
            models = sorted({str(m) for m in np.asarray(log["model"])})
            if args.model is None and len(models) > 1:
                raise _UsageError(f"{PROG} plot: {args.fit_json} holds samples of {len(models)} models "
                                  f"({', '.join(models[:8])}{', ...' if len(models) > 8 else ''}); pick one with "
                                  f"--model NAME.")
            pick = args.model if args.model is not None else models[0]
            if pick not in models:
                raise _UsageError(f"{PROG} plot: --model {pick!r} is not in {args.fit_json}'s model column; it holds "
                                  f"{', '.join(models[:8])}{', ...' if len(models) > 8 else ''}.")
            summary = {str(k): v for k, v in sl.evals.aggregate_samples(log, by=("model",),
                                                                       difficulty_bins=args.bins).items()}[pick]
        else:
            if args.model is not None:
                raise _UsageError(f"{PROG} plot: --model given but {args.fit_json} has no model column.")
            summary = sl.evals.aggregate_samples(log, by=(), difficulty_bins=args.bins)[()]
        curves, weights = summary.bin_curves()
        _say(args, f"{summary.problems.size} problems in {len(curves)} bins; curves up to k = "
                   f"{min(c.size for c in curves) - 1}")
        with plot.paper_style() if paper else contextlib.nullcontext():
            fig, (ax,) = _figure(size=None if paper else (6.4, 4.8))
            plot.adaptive_vs_uniform(curves, weights, ax=ax)
            _save_figure(fig, Path(args.output), args, dpi=None if paper else 120)
    return 0


def _draw(args: argparse.Namespace, sl: Any, plot: Any, kind: str, fit: Any, bs: Any, runs: Any,
          flops_range: tuple[float, float], ax: Any, link: Any = None) -> None:
    """Draw --kind ``kind`` (all but pairs) on ``ax`` through the library."""
    if kind == "fit":
        plot.plot_fit(fit, runs, ax=ax)
    elif kind == "isoflop":
        plot.isoflop(runs, fit, ax=ax)
    elif kind == "frontier":
        plot.plot_frontier(fit, flops_range=flops_range, ax=ax)
    elif kind == "tokens_per_param":
        plot.plot_tokens_per_param(fit, flops_range=flops_range, ax=ax)
    elif kind == "residuals":
        plot.plot_residuals(fit, runs, ax=ax, against=args.against)
    elif kind == "loss_frontier":
        # the runs' span by default (plot_loss_frontier's), else --flops-range or its default
        explicit = args.flops_range is not None or runs is None
        plot.plot_loss_frontier(bs, runs, ax=ax, level=args.level, flops_range=flops_range if explicit else None)
    elif kind == "inference_frontier":
        fr = sl.optimize.frontier(fit, _accuracy_model(args), total_flops=np.geomspace(*flops_range, 40),
                                  queries=args.queries, sizes=args.sizes, samples=args.samples,
                                  tokens_per_sample=args.tokens_per_query)
        cmp = None
        if args.small and args.large and args.flops is not None:  # mark that budget's crossover
            cmp = sl.smaller_vs_larger(fit, _accuracy_model(args), small=args.small, large=args.large,
                                       total_flops=args.flops, queries=np.geomspace(*args.queries_range, 25),
                                       samples=args.samples, tokens_per_sample=args.tokens_per_query)
        plot.inference_frontier(fr, ax=ax, comparison=cmp)
    elif kind == "gain_vs_queries":
        cmp = sl.smaller_vs_larger(bs if bs is not None else fit, _accuracy_model(args, link), small=args.small,
                                   large=args.large,
                                   total_flops=args.flops, queries=np.geomspace(*args.queries_range, 25),
                                   samples=args.samples, tokens_per_sample=args.tokens_per_query)
        plot.gain_vs_queries(cmp, ax=ax)
    elif kind == "architecture_pareto":
        res = sl.optimize.architecture_search(fit, architectures=_architectures(args), total_flops=args.flops,
                                              hardware=args.hardware, batch=args.batch,
                                              price_per_hour=args.price_per_hour)
        plot.architecture_pareto(res, ax=ax)
    else:  # pragma: no cover (argparse's choices)
        raise _UsageError(f"{PROG} plot: unknown --kind {kind!r}.")


# --------------------------------------------------------------------------- report
def _add_report(sub: Any) -> None:
    p = _verb(sub, "report", "write a self-contained HTML report of a saved fit",
              "Write ONE self-contained HTML file (inline CSS, figures embedded as PNG, no external\n"
              "links) about a fit saved by 'scalinglaws fit -o FIT_JSON'. Sections: the fitted\n"
              "parameters (with bootstrap standard errors and intervals when the fit file holds draws:\n"
              "'scalinglaws fit RUNS --bootstrap N -o FIT_JSON'), the figures (loss against compute with\n"
              "the frontier and its band, isoFLOP profiles, residuals, N*/D* and tokens per parameter\n"
              "beside published laws), the compute-optimal allocation at each --flops budget (with\n"
              "intervals), a summary of the data, and every warning and note. The runs are RUNS_FILE,\n"
              "or the file saved in FIT_JSON by 'fit -o' (read with its saved column mapping and\n"
              "--drop-highest-loss); without runs the data figures are left out and the report says so.",
              """
scalinglaws fit runs.csv --bootstrap 200 -o fit.json
scalinglaws report fit.json -o report.html
scalinglaws report fit.json runs.csv -o report.html --flops 1e21 1e23 1e25 --level 0.95
""")
    p.add_argument("fit_json", metavar="FIT_JSON", help="a fit saved by 'scalinglaws fit -o FIT_JSON'")
    p.add_argument("runs_file", metavar="RUNS_FILE", nargs="?", default=None,
                   help="the runs to show (default: the runs file saved in FIT_JSON)")
    p.add_argument("-o", "--output", metavar="REPORT_HTML", default="report.html",
                   help="the HTML file to write (default: report.html)")
    p.add_argument("--flops", type=_positive, action="extend", nargs="+", default=None, metavar="C",
                   help="training budgets of the allocation table (default: 1e20 1e21 ... 1e25)")
    p.add_argument("--level", type=_number, default=0.9, metavar="P",
                   help="level of the intervals, in (0, 1) (default 0.9)")
    p.add_argument("--title", default=None, help="the page's title (default: 'Scaling-law fit: LAW')")
    _add_column_option(p)
    _add_common(p, json_flag=False)
    p.set_defaults(func=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    _sl()
    from .report import DEFAULT_BUDGETS, write_report

    if not 0 < args.level < 1:
        raise _UsageError(f"{PROG} report: --level must be in (0, 1), got {args.level:g}.")
    cols = _columns(args.column) if args.column else None
    _say(args, f"writing the report of {args.fit_json}...")
    with _warnings_to_stderr():
        rep = write_report(args.fit_json, args.runs_file, args.output, budgets=args.flops or DEFAULT_BUDGETS,
                           level=args.level, title=args.title, columns=cols, exclude=args.exclude)
    _say(args, f"runs: {rep.runs_source or 'none (data figures left out)'}; {len(rep.figures)} figures; "
               f"{len(rep.warnings)} warnings and {len(rep.notes)} notes listed in the report")
    print(f"wrote {args.output}")
    return 0


# --------------------------------------------------------------------------- approach2
def _add_approach2(sub: Any) -> None:
    p = _verb(sub, "approach2", "Hoffmann et al.'s Approach 2 (isoFLOP parabolas) on run logs",
              "Group the runs by training budget (nominal budgets from --budget COLUMN, else the runs'\n"
              "FLOPs binned by gaps and k-means in log10 FLOPs), fit a parabola of loss in log N per\n"
              "group, and fit power laws N_opt ~ C^a and D_opt ~ C^b to the minima. Prints the\n"
              "per-budget table, the exponents with standard errors, notes and warnings.",
              """
scalinglaws approach2 runs.csv
scalinglaws approach2 epoch.csv --column params="Model Size" --column flops="Training FLOP"
scalinglaws approach2 runs.csv --budget nominal_flops --json
""")
    p.add_argument("runs_file", metavar="RUNS_FILE", help="table of runs (.csv, .tsv, .parquet, .jsonl, .json)")
    _add_column_option(p)
    p.add_argument("--budget", metavar="COLUMN", default=None,
                   help="a column of nominal budgets (FLOPs) grouping the runs (default: bin the runs' flops)")
    p.add_argument("--n-budgets", type=_count, default=None, metavar="K",
                   help="bin the runs' flops into exactly K k-means groups in log10 FLOPs")
    p.add_argument("--min-points", type=_count, default=3, metavar="M",
                   help="fewest runs for a group's parabola (default 3)")
    p.add_argument("--resamples", type=_count, default=0, metavar="R",
                   help="also refit R random 80%% subsets of the runs (seeded by --seed) and print 10th-90th "
                        "percentile intervals of the exponents, as Hoffmann et al.'s Table 2")
    p.add_argument("--seed", type=_count, default=0, metavar="S", help="seed of the resamples (default 0)")
    _add_common(p)
    p.set_defaults(func=_run_approach2)


def _run_approach2(args: argparse.Namespace) -> int:
    sl = _sl()
    with _warnings_to_stderr():
        if args.budget is None:
            runs, budget = _read(args, args.runs_file), "flops"
        else:
            cols = _columns(args.column)
            _say(args, f"reading {args.runs_file} (nominal budgets from column {args.budget!r})...")
            runs = sl.read_runs(args.runs_file, columns=cols or None, exclude=args.exclude or (),
                                extra=() if args.budget in cols or args.budget in sl.runs.CANONICAL_COLUMNS
                                else (args.budget,))
            budget = args.budget
        a2 = sl.approach2(runs, budget=budget, n_budgets=args.n_budgets, min_points=args.min_points,
                          resamples=args.resamples, seed=args.seed)
    if args.json:
        _print_json(a2.to_dict())
    else:
        print(a2.report())
    return 0


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (verbs as sub-commands)."""
    p = _Parser(prog=PROG, formatter_class=_FORMATTER,
                description="Fit scaling laws to training-run logs and allocate compute.",
                epilog="examples:\n  scalinglaws demo\n  scalinglaws fit runs.csv -o fit.json\n"
                       "  scalinglaws optimize fit.json --flops 5.76e23\n"
                       "  scalinglaws plot fit.json runs.csv --kind isoflop -o isoflop.png\n"
                       "  scalinglaws report fit.json -o report.html\n"
                       "  scalinglaws approach2 runs.csv\n"
                       "  scalinglaws laws\n\nRun 'scalinglaws VERB --help' for each verb's options.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="VERB", required=True, parser_class=_Parser)
    for add in (_add_fit, _add_optimize, _add_plot, _add_report, _add_approach2, _add_demo, _add_laws):
        add(sub)
    return p


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("scalinglaws")
    except Exception:  # noqa: BLE001  (a source tree without installed metadata)
        return "0.1.0"


def _oneline(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except _UsageError as e:
        print(f"error: {_oneline(e)}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help / --version
        return int(e.code or 0) if not isinstance(e.code, str) else 2

    sl = _sl()
    try:
        return int(args.func(args) or 0)
    except _UsageError as e:
        msg = str(e)
    except sl.ScalingLawsError as e:
        msg = str(e)
    except FileNotFoundError as e:
        msg = f"{e.filename or ''}: no such file or folder." if e.filename else str(e)
    except OSError as e:  # e.g. -o into a folder that does not exist, permission denied
        msg = f"{e.filename}: {e.strerror}." if e.filename else str(e)
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    print(f"error: {_oneline(msg)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
