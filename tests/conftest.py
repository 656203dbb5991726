"""Shared fixtures. Third-party data are read from ../shared/data beside the
project (never copied); tests that need them skip cleanly when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

import scalinglaws as sl  # noqa: E402  (switches JAX to float64)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EPOCH_CSV = SHARED_DATA / "epoch_chinchilla" / "svg_extracted_data.csv"
EPOCH_COLUMNS = {"params": "Model Size", "flops": "Training FLOP", "loss": "loss"}


def shared(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"third-party data not available: {path}")
    return path


@pytest.fixture(scope="session")
def epoch_runs():
    """Epoch's 245 digitised Chinchilla runs, 5 highest losses dropped (240 rows)."""
    path = shared("epoch_chinchilla", "svg_extracted_data.csv")
    return sl.read_runs(path, columns=EPOCH_COLUMNS).drop_highest("loss", 5)


@pytest.fixture(scope="session")
def epoch_fit(epoch_runs):
    return sl.fit(sl.laws.Chinchilla(), epoch_runs)
