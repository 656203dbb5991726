"""Shared fixtures. Third-party data are read from ../shared/data beside the
project (never copied). Tests that need them skip cleanly when it is absent on a
developer's machine; under CI (environment variable ``CI=true``) a missing file is
a test failure naming the path, so CI never skips silently."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# the CLI, called in-process by tests, would switch on the persistent compilation cache for the whole
# test session; tests of the cache itself (test_cold_start.py) run the CLI in subprocesses with it on
os.environ.setdefault("SCALINGLAWS_NO_CACHE", "1")

import scalinglaws as sl  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EPOCH_CSV = SHARED_DATA / "epoch_chinchilla" / "svg_extracted_data.csv"
EPOCH_COLUMNS = {"params": "Model Size", "flops": "Training FLOP", "loss": "loss"}


def in_ci() -> bool:
    """True when the environment variable CI is "true" (any case), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() == "true"


def require(path: Path, what: str = "third-party data") -> Path:
    """``path`` if it exists; otherwise skip the test, or fail it under CI=true."""
    path = Path(path)
    if not path.exists():
        msg = f"{what} not available: {path}"
        if in_ci():
            pytest.fail(f"{msg} (CI=true: missing shared data is a failure, not a skip)", pytrace=False)
        pytest.skip(msg)
    return path


def shared(*parts: str) -> Path:
    """A path under ../shared/data (see :func:`require`)."""
    return require(SHARED_DATA.joinpath(*parts))


@pytest.fixture(scope="session")
def epoch_runs():
    """Epoch's 245 digitised Chinchilla runs, 5 highest losses dropped (240 rows)."""
    path = shared("epoch_chinchilla", "svg_extracted_data.csv")
    return sl.read_runs(path, columns=EPOCH_COLUMNS).drop_highest("loss", 5)


@pytest.fixture(scope="session")
def epoch_fit(epoch_runs):
    return sl.fit(sl.laws.Chinchilla(), epoch_runs)


def _map_count() -> int | None:
    """This process's memory mappings (Linux), or None where /proc is not there."""
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def _rss_gib() -> float:
    """This process's resident memory in GiB (Linux; 0 where /proc is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _map_limit() -> int:
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        return 65530


@pytest.fixture(scope="module", autouse=True)
def _release_compiled_code():
    """Free the compiled XLA executables when a test module ends, if they hold too many memory
    mappings. The suite compiles thousands of them in one process; each holds mappings, and a process
    that reaches the kernel's vm.max_map_count (65,530 by default) aborts inside the next compile.
    Clearing after every module cost about a quarter of the suite's time in recompiles of the same
    programs, so it happens only above a third of the limit or above 6 GiB resident (and after every
    module where the count cannot be read)."""
    yield
    import gc

    import jax

    n = _map_count()
    if n is None or n > _map_limit() // 3 or _rss_gib() > 6.0:
        jax.clear_caches()
        gc.collect()
