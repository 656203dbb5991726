"""Benchmark: the NUTS posterior (``sl.posterior``) of the Chinchilla fit on Epoch's 240 rows.

Ours: numpyro NUTS, 4 chains x 1,000 draws after 1,000 warmup, vectorised chains, dense mass,
started at the fit. The first call traces and compiles; then the warm calls (median of
``--repeats``, other seeds). numpyro builds and compiles a new sampler for every call, so a warm
call still traces and compiles its model (about 7 s of CPU here); JAX's persistent compilation
cache (``--cache``, in a temporary folder) was measured not to shorten it.

Baseline, in the same script: a plain numpy random-walk Metropolis on the same log posterior
(the same priors, Gaussian likelihood on log residuals, sigma sampled as log sigma), proposal
covariance 2.38^2 / d times the inverse Hessian at the posterior mode (central differences), the
same 4 chains x (1,000 burn-in + 1,000 draws), started at the fit. Both ESS are arviz's bulk ESS
(the package's adapter) of the public parameters and sigma; ESS/s is the minimum over them divided
by the wall time.

    python benchmarks/bench_nuts.py [--repeats 3] [--chains 4] [--draws 1000] [--warmup 1000] [--cache]

Prints medians and the ratio; timings are noisy on shared machines (CPU seconds are printed too).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import scalinglaws as sl

ROOT = Path(__file__).resolve().parents[1]
EPOCH = ROOT.parent / "shared" / "data" / "epoch_chinchilla" / "svg_extracted_data.csv"
COLS = {"params": "Model Size", "flops": "Training FLOP", "loss": "loss"}


def log_posterior_factory(fit, runs):
    """The log posterior of sl.posterior's default model (gaussian), on (a, b, e, alpha, beta, log sigma),
    in numpy; vectorised over rows of theta."""
    from scalinglaws.fitting.bayes import SIGMA_SCALE

    law = fit.law
    lN, lD, ly = (np.log(np.asarray(runs[c], dtype=np.float64)) for c in ("params", "tokens", "loss"))
    centre = fit.theta
    scale = np.array([max(q.grid) - min(q.grid) for q in law.parameters()], dtype=np.float64)
    resid = ly - np.logaddexp(np.logaddexp(centre[0] - centre[3] * lN, centre[1] - centre[4] * lD), centre[2])
    s_prior = SIGMA_SCALE * float(np.sqrt(np.mean(resid ** 2)))

    def logp(th):
        th = np.atleast_2d(th)
        a, b, e, al, be, ls = (th[:, i:i + 1] for i in range(6))
        mu = np.logaddexp(np.logaddexp(a - al * lN, b - be * lD), e)
        s = np.exp(ls)
        ll = np.sum(-0.5 * ((ly - mu) / s) ** 2, axis=1) - len(ly) * ls[:, 0]
        lp = -0.5 * np.sum(((th[:, :5] - centre) / scale) ** 2, axis=1)
        lp += -0.5 * (s[:, 0] / s_prior) ** 2 + ls[:, 0]          # HalfNormal on sigma, Jacobian of log sigma
        return ll + lp

    return logp, float(np.sqrt(np.mean(resid ** 2)))


def hessian(f, x, h=1e-4):
    d = len(x)
    H = np.empty((d, d))
    E = np.eye(d) * h * (1 + np.abs(x))
    for i in range(d):
        for j in range(i, d):
            H[i, j] = H[j, i] = (f(x + E[i] + E[j]) - f(x + E[i] - E[j]) - f(x - E[i] + E[j]) + f(x - E[i] - E[j])) \
                / (4 * E[i, i] * E[j, j])
    return H


def random_walk_metropolis(logp, start, cov, chains, warmup, draws, seed):
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(cov)
    x = np.tile(start, (chains, 1))
    lx = logp(x)
    out = np.empty((chains, draws, len(start)))
    accepted = 0
    for t in range(warmup + draws):
        prop = x + rng.standard_normal(x.shape) @ L.T
        lp = logp(prop)
        ok = np.log(rng.uniform(size=chains)) < lp - lx
        x[ok], lx[ok] = prop[ok], lp[ok]
        if t >= warmup:
            out[:, t - warmup] = x
            accepted += int(ok.sum())
    return out, accepted / (chains * draws)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--cache", action="store_true", help="switch on JAX's persistent compilation cache (temporary folder)")
    args = ap.parse_args()
    if not EPOCH.exists():
        print(f"skip: {EPOCH} not found")
        return 0
    tmp = tempfile.TemporaryDirectory()
    if args.cache:
        os.environ["SCALINGLAWS_CACHE_DIR"] = tmp.name
        os.environ.pop("SCALINGLAWS_NO_CACHE", None)
        from scalinglaws._jax import enable_compilation_cache

        enable_compilation_cache()

    runs = sl.read_runs(EPOCH, columns=COLS).drop_highest("loss", 5)
    fit = sl.fit(sl.laws.Chinchilla(), runs)
    kw = dict(chains=args.chains, draws=args.draws, warmup=args.warmup, progress=False)

    def run(seed):
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = sl.posterior(fit, runs, seed=seed, **kw)
        return p, time.perf_counter() - t0, time.process_time() - c0

    post, cold, cold_cpu = run(0)
    warm = [run(1 + i) for i in range(args.repeats)]
    walls = [w for _, w, _ in warm]
    cpus = [c for _, _, c in warm]
    i_med = int(np.argsort(walls)[len(walls) // 2])
    post = warm[i_med][0]
    wall = float(np.median(walls))
    rhat, ess = max(post.rhat.values()), min(post.ess.values())

    print(f"data: {EPOCH.name}, {len(runs)} rows; fit: Chinchilla, default Huber objective; "
          f"NUTS {args.chains} chains x {args.draws} draws (warmup {args.warmup}), vectorised, dense mass")
    print(f"NUTS first call (trace + compile + sample): {cold:.2f} s wall, {cold_cpu:.2f} s CPU")
    print(f"NUTS warm, median of {args.repeats}: {wall:.2f} s wall [" + ", ".join(f"{t:.2f}" for t in walls)
          + f"], CPU median {np.median(cpus):.2f} s" + (" (persistent compilation cache on)" if args.cache else ""))
    print(f"NUTS: max R-hat {rhat:.4f}; min bulk ESS {ess:.0f}; divergences {post.divergences}; "
          f"leapfrog steps per draw {post.mean_steps:.1f}; ESS/s {ess / wall:.1f} (warm wall)")

    # -- baseline: random-walk Metropolis in numpy on the same log posterior -------------------------
    from scipy.optimize import minimize

    from scalinglaws.fitting import _arviz

    logp, rms = log_posterior_factory(fit, runs)
    t0 = time.perf_counter()
    start = np.concatenate([fit.theta, [np.log(rms)]])
    mode = minimize(lambda th: -float(logp(th)[0]), start, method="Nelder-Mead",
                    options=dict(maxiter=20000, xatol=1e-10, fatol=1e-12)).x
    H = hessian(lambda th: float(logp(th)[0]), mode)
    cov = np.linalg.inv(-H) * 2.38 ** 2 / len(mode)
    samples, acc = random_walk_metropolis(logp, start, cov, args.chains, args.warmup, args.draws, seed=0)
    rwm_wall = time.perf_counter() - t0
    law = fit.law
    flat = samples.reshape(-1, 6)
    pub = [law.public(dict(zip(law.param_names, t))) for t in flat[:, :5]]
    arrays = {k: np.array([r[k] for r in pub]).reshape(args.chains, args.draws) for k in fit.params}
    arrays["sigma"] = np.exp(samples[:, :, 5])
    r_rhat, r_ess, _ = _arviz.diagnostics(arrays)
    r_min = min(r_ess.values())
    print(f"random-walk Metropolis (numpy, Hessian proposal, acceptance {acc:.2f}): {rwm_wall:.2f} s wall "
          f"(mode + Hessian + sampling); max R-hat {max(r_rhat.values()):.4f}; min bulk ESS {r_min:.0f}; "
          f"ESS/s {r_min / rwm_wall:.1f}")
    print(f"ESS/s ratio (NUTS warm / random-walk Metropolis): {(ess / wall) / (r_min / rwm_wall):.2f}x; "
          f"ESS per draw: NUTS {ess / (args.chains * args.draws):.2f}, RWM {r_min / (args.chains * args.draws):.3f}")
    print(f"target: <= 60 s and R-hat <= 1.01: {'met' if wall <= 60 and rhat <= 1.01 else 'NOT met'}")
    ci = post.interval(0.95)
    rw = {k: np.quantile(v, [0.025, 0.975]) for k, v in arrays.items()}
    print("95% intervals, NUTS vs RWM: " + "; ".join(f"{k} ({ci[k][0]:.4g}, {ci[k][1]:.4g}) vs "
                                                     f"({rw[k][0]:.4g}, {rw[k][1]:.4g})" for k in fit.params))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
