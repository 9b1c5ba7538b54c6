"""Shared fixtures: the bundled sample tender, read once per session."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")
matplotlib.use("Agg")

settings.register_profile("ci", deadline=None, max_examples=60, derandomize=True)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def sample_path() -> Path:
    """Path of the sample tender CSV folder."""
    return DATA / "sample-tender"


@pytest.fixture(scope="session")
def tender(sample_path):
    """The sample tender, read and validated once."""
    from sourcing import read_tender

    return read_tender(sample_path)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
