"""The CLI's cold start: a second process reuses the first one's compiled and exported solver.

Speed is measured in benchmarks/bench_chinchilla.py, not asserted here; this test checks the
mechanism: the first process writes the exported solver into the cache folder, the second one
finds it and gives the same fit, and SCALINGLAWS_NO_CACHE=1 writes nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "data" / "synthetic_chinchilla.csv"


def run_fit(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SCALINGLAWS_NO_CACHE", "SCALINGLAWS_CACHE_DIR")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-m", "scalinglaws.cli", "fit", str(CSV), "--law", "chinchilla", "--json",
                          "-q"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.mark.slow
def test_second_process_loads_the_exported_solver(tmp_path):
    cache = tmp_path / "cache"
    first = run_fit({"SCALINGLAWS_CACHE_DIR": str(cache)})
    exported = sorted(cache.glob("scalinglaws-solve-*.jaxexport"))
    assert len(exported) == 1, sorted(p.name for p in cache.iterdir())
    stamp = exported[0].stat().st_mtime_ns
    second = run_fit({"SCALINGLAWS_CACHE_DIR": str(cache)})
    assert exported[0].stat().st_mtime_ns == stamp  # read, not rewritten
    # the same compiled program on the same data: the same optimum (a few ulps apart at most)
    assert second["objective_value"] == pytest.approx(first["objective_value"], rel=1e-12)
    for k, v in first["params"].items():
        assert second["params"][k] == pytest.approx(v, rel=1e-9)

    off = tmp_path / "off"
    run_fit({"SCALINGLAWS_CACHE_DIR": str(off), "SCALINGLAWS_NO_CACHE": "1"})
    assert not off.exists() or not any(off.iterdir())
