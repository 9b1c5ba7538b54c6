"""Shared fixtures: the bundled sample tenders, read once per session, and the tender factory."""

from __future__ import annotations

import os
import sys
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
# tests/tenders.py (the test-only tender factory) is importable as `tenders` from every test
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def sample_path() -> Path:
    """Path of the sample tender CSV folder."""
    return DATA / "sample-tender"


@pytest.fixture(scope="session")
def tender(sample_path):
    """The sample tender, read and validated once."""
    from sourcing import read_tender

    return read_tender(sample_path)


@pytest.fixture(scope="session")
def smallco_path() -> Path:
    """Path of sample 2, the small company's single-provider tender in GBP."""
    return DATA / "sample-smallco"


@pytest.fixture(scope="session")
def smallco(smallco_path):
    """Sample 2, read and validated once."""
    from sourcing import read_tender

    return read_tender(smallco_path)


@pytest.fixture
def tender_factory(tmp_path):
    """The tender factory of tests/tenders.py writing into a fresh folder of this test.

    ``tender_factory(**shape)`` returns the folder path; the arguments are those of
    ``tenders.make_tender`` (default: the US hospital group tender in USD).
    """
    from tenders import make_tender as write

    count = iter(range(1_000_000))

    def factory(**shape):
        return write(tmp_path / f"tender-{next(count)}", **shape)

    return factory


@pytest.fixture(scope="session")
def usd_tender_path(tmp_path_factory) -> Path:
    """The factory's default tender (US hospital group, USD), written once per session."""
    from tenders import make_tender as write

    return write(tmp_path_factory.mktemp("usd") / "tender")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
