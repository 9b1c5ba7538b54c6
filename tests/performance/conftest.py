"""Fixtures of the performance tests: the bundled sample, and a writer of tiny hand-made folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample-performance"

CONTRACT = {"vendor_id": "V01", "lot_id": "L1", "timezone": "Europe/Stockholm", "billing": "per_unit",
            "credit_cap_pct": 8.0, "earn_back_months": 0, "credit_lag_months": 1}
CALENDAR = {"calendar_id": "SE", "timezone": "Europe/Stockholm", **{d: "08:00-18:00" for d in
            ("mon", "tue", "wed", "thu", "fri")}, "sat": "", "sun": ""}


def _term(kpi, priority, hours, cal, pct):
    return {"vendor_id": "V01", "lot_id": "L1", "kpi": kpi, "priority": priority, "target_hours": hours,
            "calendar_id": cal, "target_pct": pct}


TERMS = [_term("response", "P1", 1, "24x7", 90), _term("resolution", "P1", 4, "24x7", 50),
         _term("response", "P3", 2, "SE", 90), _term("resolution", "P3", 8, "SE", 50),
         _term("fulfilment", "", 16, "SE", 50)]
TIERS = [{"vendor_id": "V01", "lot_id": "L1", "kpi": k, "priority": "", "shortfall_pp": s, "credit_pct": c}
         for k, s, c in (("response", 0, 2), ("response", 10, 5), ("resolution", 0, 1),
                         ("fulfilment", 0, 1))]


def _t(tid, typ, pr, opened, resp="", res="", status=""):
    return {"ticket_id": tid, "vendor_id": "V01", "lot_id": "L1", "type": typ, "priority": pr,
            "opened": opened, "first_response": resp, "resolved": res, "status": status}


TICKETS = [
    _t("T1", "incident", "P1", "2025-01-14T10:00:00+01:00", "2025-01-14T10:30:00+01:00",
       "2025-01-14T13:00:00+01:00", "closed"),
    _t("T2", "incident", "P1", "2025-01-14T22:00:00+01:00", "2025-01-14T23:30:00+01:00",
       "2025-01-15T01:00:00+01:00", "closed"),
    _t("T3", "incident", "P1", "2025-01-20T10:00:00+01:00", "2025-01-20T10:10:00+01:00",
       "2025-01-20T16:00:00+01:00", "closed"),
    _t("T4", "incident", "P3", "2025-01-17T17:00:00+01:00", "2025-01-20T08:30:00+01:00",
       "2025-01-20T15:00:00+01:00", "closed"),
    _t("T5", "incident", "P3", "2025-01-30T09:00:00+01:00", "2025-01-30T09:30:00+01:00", "", "open"),
    _t("T6", "request", "P3", "2025-01-31T16:00:00+01:00", "2025-01-31T16:30:00+01:00", "", "open"),
    _t("T7", "incident", "P1", "2025-02-05T11:00:00+01:00", "", "", "open"),
    _t("T8", "incident", "P3", "2025-01-21T09:00:00+01:00", "", "2025-01-21T10:00:00+01:00", "closed"),
]
ASOF = "2025-02-05T12:00:00Z"


@pytest.fixture
def write_folder(tmp_path):
    """Write a performance folder from tables (name -> list of dicts or DataFrame); return its path."""

    def write(tables: dict | None = None, *, drop: tuple[str, ...] = ()) -> Path:
        base = {"contracts": [CONTRACT], "calendars": [CALENDAR], "sla_terms": TERMS,
                "credit_schedule": TIERS, "tickets": TICKETS,
                "holidays": [{"calendar_id": "SE", "date": "2025-01-06", "name": "Epiphany"}]}
        base.update(tables or {})
        folder = tmp_path / "perf"
        folder.mkdir(exist_ok=True)
        for name, rows in base.items():
            if name in drop:
                continue
            frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
            frame.to_csv(folder / f"{name}.csv", index=False)
        return folder

    return write


@pytest.fixture
def sample_copy(tmp_path):
    """A writable copy of the bundled sample folder."""
    dst = tmp_path / "sample"
    shutil.copytree(SAMPLE, dst)
    return dst


@pytest.fixture(scope="session")
def perf_sample():
    from sourcing.performance import read_performance

    return read_performance(SAMPLE)


@pytest.fixture(scope="session")
def sample_kpis(perf_sample):
    from sourcing.performance import monthly_kpis

    return monthly_kpis(perf_sample)


@pytest.fixture(scope="session")
def sample_credits(sample_kpis, tender):
    from sourcing.performance import service_credits

    return service_credits(sample_kpis, rates=tender)


@pytest.fixture
def tiny():
    """The hand-made tables above, for tests to extend."""
    from types import SimpleNamespace

    return SimpleNamespace(CONTRACT=dict(CONTRACT), CALENDAR=dict(CALENDAR),
                           TERMS=[dict(r) for r in TERMS], TIERS=[dict(r) for r in TIERS],
                           TICKETS=[dict(r) for r in TICKETS], ASOF=ASOF, t=_t)
