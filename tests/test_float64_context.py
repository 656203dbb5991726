"""Importing the package does not switch a user's JAX to float64; the package still computes
in float64 (FLOPs beyond 2**63, flat objective surfaces)."""

import subprocess
import sys

import numpy as np


def test_import_leaves_the_process_in_float32_and_fits_run_in_float64():
    code = (
        "import jax, jax.numpy as jnp, numpy as np\n"
        "import scalinglaws as sl\n"
        "assert jax.config.jax_enable_x64 is False, 'import switched x64 on'\n"
        "assert jnp.ones(2).dtype == jnp.float32\n"
        "N = np.geomspace(1e8, 1e10, 12); D = np.geomspace(1e10, 1e12, 12)[::-1].copy()\n"
        "N, D = np.meshgrid(N, D); N, D = N.ravel(), D.ravel()\n"
        "L = 1.7 + 400.0 / N ** 0.34 + 2000.0 / D ** 0.37\n"
        "f = sl.fit(sl.laws.Chinchilla(), {'params': N, 'tokens': D, 'loss': L})\n"
        "assert jax.config.jax_enable_x64 is False, 'fit left x64 on'\n"
        "assert jnp.ones(2).dtype == jnp.float32\n"
        "pred = f.predict(params=N, tokens=D)\n"
        "assert pred.dtype == np.float64\n"
        "print(repr(float(np.max(np.abs(pred / L - 1)))), repr(f.params['alpha']))\n"
        "best = sl.compute_optimal(f, flops=1e30)\n"  # 1e30 FLOPs: far beyond float32's exact integers
        "print(repr(float(best.params * best.tokens * 6.0)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rel, alpha, c = (float(v) for v in out.stdout.split())
    # noiseless data: float64 recovers the law to ~1e-10; float32 would stall near 1e-7
    assert rel < 1e-9
    assert abs(alpha - 0.34) < 1e-6
    assert abs(c / 1e30 - 1) < 1e-12  # N* D* = C/6 in float64
