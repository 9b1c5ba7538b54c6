"""Reading and validating performance folders; data-quality findings are flagged, never dropped."""

from __future__ import annotations

import pandas as pd
import pytest

from sourcing.performance import read_performance
from sourcing.schemas import ValidationError


def test_sample_reads(perf_sample):
    p = perf_sample
    assert len(p.tickets) > 50_000
    assert set(p.contracts["lot_id"]) == {"L1", "L5"}
    assert p.tickets["opened"].dt.tz is not None
    assert {"24x7", "SE-business"} <= set(p.calendars)
    assert "tickets" in p.summary()


def test_sample_planted_quality_findings(perf_sample):
    """The generator planted: 2 extra copies of one id, 2 resolved-before-opened, 1 blank opened,
    2 unknown priorities (P5), 1 resolved without a first response."""
    q = perf_sample.quality
    counts = q["issue"].value_counts()
    assert counts["duplicate ticket id"] == 2
    assert counts["resolved before opened"] == 2
    assert counts["opened is blank"] == 1
    assert counts["unknown priority (valid: P1, P2, P3, P4)"] == 2
    assert counts["resolved without a first response"] == 1
    # every finding names the CSV line and ticket; excluded tickets are not used
    t = perf_sample.tickets.set_index("row")
    excluded = q.loc[q["action"].str.startswith("excluded"), "row"]
    assert not t.loc[excluded, "used"].any()
    p5 = q.loc[q["value"] == "P5", "row"]
    assert t.loc[p5, "used"].all() and not t.loc[p5, "measurable"].any()


def test_ticket_problems_are_flagged_not_raised(write_folder, tiny):
    _t, TICKETS = tiny.t, tiny.TICKETS
    rows = TICKETS + [
        _t("T1", "incident", "P1", "2025-01-15T10:00:00+01:00"),            # duplicate id
        _t("T9", "incident", "P1", "yesterday"),                           # unreadable
        _t("T10", "incident", "P1", ""),                                   # blank opened
        _t("T11", "incident", "P1", "2025-01-15T10:00:00+01:00", "", "2025-01-15T09:00:00+01:00"),
        _t("T12", "incident", "urgent", "2025-01-15T10:00:00+01:00"),       # unknown priority
        _t("T13", "problem", "P1", "2025-01-15T10:00:00+01:00"),            # unknown type
        _t("T14", "incident", "P1", "2025-01-15T10:00:00+01:00", status="closed"),
        {**_t("T15", "incident", "P1", "2025-01-15T10:00:00+01:00"), "lot_id": "L9"},
    ]
    p = read_performance(write_folder({"tickets": rows}))
    q = p.quality.set_index("ticket_id")
    first_data_line = 2
    assert q.loc["T1", "row"] == first_data_line + len(TICKETS)
    assert "first occurrence on row 2" in q.loc["T1", "action"]
    assert q.loc["T9", "column"] == "opened" and q.loc["T9", "value"] == "yesterday"
    assert q.loc["T10", "issue"] == "opened is blank"
    assert q.loc["T11", "issue"] == "resolved before opened"
    assert q.loc["T12", "action"].startswith("counted in volumes")
    assert q.loc["T13", "issue"].startswith("unknown type")
    assert q.loc["T14", "action"].startswith("kept as open")
    assert q.loc["T15", "issue"].startswith("no contract")
    used = p.tickets.set_index("ticket_id")["used"]
    assert not used[["T9", "T10", "T11", "T13", "T15"]].any()
    assert used[["T12", "T14"]].all()


def test_naive_timestamps_use_the_given_zone(write_folder, tiny):
    _t = tiny.t
    rows = [_t("N1", "incident", "P1", "2025-01-14 10:00", "2025-01-14 10:30")]
    p = read_performance(write_folder({"tickets": rows}), timezone="Europe/Stockholm")
    assert p.tickets["opened"].iat[0] == pd.Timestamp("2025-01-14T09:00Z")


def _problems(err: ValidationError) -> pd.DataFrame:
    return err.value.to_frame()


def test_missing_required_file(write_folder):
    with pytest.raises(ValidationError) as err:
        read_performance(write_folder(drop=("sla_terms",)))
    assert "required file is missing" in str(err.value)
    with pytest.raises(ValidationError, match="not a folder"):
        read_performance(write_folder() / "nope")


def test_table_problems_are_located(write_folder, tiny):
    CONTRACT, TERMS = tiny.CONTRACT, tiny.TERMS

    terms = TERMS + [{**TERMS[0], "priority": "P2", "calendar_id": "NOPE"},
                     {**TERMS[0], "priority": "P3", "kpi": "speed"},
                     {**TERMS[0], "priority": "", "kpi": "response"}]
    avail = [{"vendor_id": "V01", "lot_id": "L1", "month": "2025-13", "scheduled_minutes": 100,
              "downtime_minutes": 5},
             {"vendor_id": "V01", "lot_id": "L1", "month": "2025-02", "scheduled_minutes": 100,
              "downtime_minutes": 500},
             {"vendor_id": "V09", "lot_id": "L1", "month": "2025-03", "scheduled_minutes": "1 000",
              "downtime_minutes": 5}]
    contracts = [{**CONTRACT, "credit_cap_pct": 150}]
    with pytest.raises(ValidationError) as err:
        read_performance(write_folder({"sla_terms": terms, "availability": avail, "contracts": contracts}))
    f = _problems(err)
    def has(source, row, column):
        return ((f["source"] == source) & (f["row"] == row) & (f["column"] == column)).any()
    assert has("availability.csv", 2, "month")
    assert has("availability.csv", 4, "scheduled_minutes")
    assert has("sla_terms.csv", 8, "kpi")
    assert has("contracts.csv", 2, "credit_cap_pct")
    # the first pass stops at unreadable cells; cross-table checks come after they are fixed
    avail[2]["scheduled_minutes"] = 100
    avail[0]["month"] = "2025-01"
    terms.pop(6)
    with pytest.raises(ValidationError) as err:
        read_performance(write_folder({"sla_terms": terms, "availability": avail}))
    f = _problems(err)
    assert has("availability.csv", 3, "downtime_minutes")
    assert has("availability.csv", 4, "vendor_id+lot_id")
    assert has("sla_terms.csv", 7, "calendar_id")
    assert has("sla_terms.csv", 8, "priority")


def test_bad_calendar_and_holidays(write_folder, tiny):
    CALENDAR = tiny.CALENDAR

    cal = [{**CALENDAR, "mon": "8-18", "timezone": "Europe/Stockholm"}]
    hol = [{"calendar_id": "SE", "date": "06/01/2025", "name": "x"},
           {"calendar_id": "XX", "date": "2025-01-06", "name": "x"}]
    with pytest.raises(ValidationError) as err:
        read_performance(write_folder({"calendars": cal, "holidays": hol}))
    f = _problems(err)
    assert set(zip(f["source"], f["row"], f["column"], strict=True)) >= {
        ("calendars.csv", 2, "mon"), ("holidays.csv", 2, "date"), ("holidays.csv", 3, "calendar_id")}


def test_unreadable_gzip(sample_copy):
    (sample_copy / "tickets.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValidationError, match="tickets.csv.gz"):
        read_performance(sample_copy)


def test_semicolon_csv_and_all_tickets_bad(write_folder, tiny):
    folder = write_folder({"tickets": [tiny.t("B1", "incident", "P1", "")]})
    text = (folder / "contracts.csv").read_text().replace(",", ";")
    (folder / "contracts.csv").write_text(text)
    p = read_performance(folder)
    assert len(p.contracts) == 1 and len(p.quality) == 1
    from sourcing.performance import monthly_kpis

    with pytest.raises(ValueError, match="asof"):
        monthly_kpis(p)
    k = monthly_kpis(p, asof="2025-02-01T00:00Z")
    assert k.kpis.empty and (k.summary["opened"] == 0).all()


@pytest.mark.parametrize("stamp", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00",
                                   "1900-01-01T00:00:00+01:00"])
def test_placeholder_years_are_unreadable_timestamps_not_a_crash(write_folder, tiny, stamp):
    """pandas parses 9999 or 0001 (beyond nanosecond range) and then could not store it."""
    rows = tiny.TICKETS + [tiny.t("T9", "incident", "P1", stamp)]
    p = read_performance(write_folder({"tickets": rows}))
    q = p.quality.set_index("ticket_id")
    assert (q.loc["T9", "column"], q.loc["T9", "value"]) == ("opened", stamp)
    assert q.loc["T9", "issue"].startswith("timestamp unreadable") and q.loc["T9", "action"] == "excluded"
    assert not p.tickets.set_index("ticket_id").at["T9", "used"]


def test_absurd_earn_back_and_target_hours_are_cell_errors(write_folder, tiny):
    """earn_back_months = 1e14 made service_credits loop for ever; target_hours = 1e12 overflowed
    the nanosecond clock into garbage deadlines."""
    contracts = [{**tiny.CONTRACT, "earn_back_months": 100_000_000_000_000}]
    terms = [dict(tiny.TERMS[0], target_hours=1e12)] + tiny.TERMS[1:]
    with pytest.raises(ValidationError) as err:
        read_performance(write_folder({"contracts": contracts, "sla_terms": terms}))
    p = _problems(err)
    got = set(zip(p["source"], p["row"], p["column"], p["rule"], strict=True))
    assert got == {("contracts.csv", 2, "earn_back_months", "must be >= 0 and <= 120"),
                   ("sla_terms.csv", 2, "target_hours", "must be > 0 and <= 8784")}


# ---------------------------------------------------------------------- hostile files (issue 11)
def _gzip_members(*parts: tuple[bytes, int]) -> bytes:
    """A multi-member gzip file: each (block, k) is one member holding *block* k times.

    Each member is compressed once and repeated, so a gigabyte of content costs milliseconds.
    """
    import gzip

    return b"".join(gzip.compress(block, compresslevel=9) * k for block, k in parts)


def _peak_bytes(fn) -> tuple[object, int]:
    """(exception or result of fn(), peak bytes traced by tracemalloc while it ran)."""
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            got = fn()
        except Exception as err:  # noqa: BLE001 - the caller inspects it
            got = err
        return got, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gzip_of_a_gigabyte_of_blank_lines_fails_fast_with_the_limit(write_folder):
    """Issue 11 item 5: a 2 MB tickets.csv.gz of 1 GB blank lines was OOM-killed at 24 GB."""
    from sourcing.performance.data import MAX_PERF_LINES

    folder = write_folder()
    (folder / "tickets.csv").unlink()
    header = b"ticket_id,vendor_id,lot_id,type,priority,opened,first_response,resolved,status\n"
    bomb = _gzip_members((header, 1), (b"\n" * 2**24, 64))  # 1 GiB of newlines
    assert len(bomb) < 2_500_000
    (folder / "tickets.csv.gz").write_bytes(bomb)
    err, peak = _peak_bytes(lambda: read_performance(folder))
    assert isinstance(err, ValidationError), err
    f = err.to_frame()
    assert list(f["source"]) == ["tickets.csv.gz"]
    assert f"{MAX_PERF_LINES:,} lines" in f["rule"].iat[0] and "MAX_PERF_LINES" in f["rule"].iat[0]
    assert peak < 64 * 2**20  # stopped at the limit: a few MB read, not the gigabyte


def test_gzip_bomb_without_newlines_stops_at_the_byte_limit(write_folder):
    from sourcing.performance.data import MAX_PERF_BYTES

    folder = write_folder()
    (folder / "tickets.csv").unlink()
    (folder / "tickets.csv.gz").write_bytes(_gzip_members((b"a" * 2**24, MAX_PERF_BYTES // 2**24 + 2)))
    err, peak = _peak_bytes(lambda: read_performance(folder))
    assert isinstance(err, ValidationError), err
    assert "tickets.csv.gz" in str(err) and f"{MAX_PERF_BYTES:,} bytes" in str(err)
    assert "decompressed" in str(err)
    assert peak < MAX_PERF_BYTES + 64 * 2**20


def test_every_performance_csv_is_bounded(write_folder, monkeypatch):
    """The limits hold for the small tables too, and for plain (uncompressed) CSV."""
    import sourcing.performance.data as data

    folder = write_folder()
    with (folder / "holidays.csv").open("a") as fh:
        fh.write("\n" * 50)
    monkeypatch.setattr(data, "MAX_PERF_LINES", 40)
    with pytest.raises(ValidationError) as err:
        read_performance(folder)
    assert set(_problems(err)["source"]) == {"holidays.csv"}


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers(write_folder, tiny):
    folder = write_folder()
    path = folder / "tickets.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3] + ["", "", ",,,,,,,,"] + lines[3:]) + "\n\n\n")
    p = read_performance(folder)
    assert len(p.tickets) == len(tiny.TICKETS)
    assert list(p.tickets["row"][:4]) == [2, 3, 7, 8]


@pytest.mark.parametrize("damage", ["flip", "truncate", "bad-crc"])
def test_corrupt_deflate_stream_is_a_validation_error_naming_the_file(sample_copy, damage):
    """Issue 11 item 8: a corrupt deflate stream raised zlib.error out of pandas."""
    import gzip

    path = sample_copy / "tickets.csv.gz"
    data = bytearray(gzip.compress(gzip.decompress(path.read_bytes()), mtime=0))  # 10-byte header
    if damage == "flip":  # reserved block type in the deflate stream: zlib.error
        data[10] |= 0b110
    elif damage == "truncate":  # stream ends early: EOFError
        data = data[: len(data) // 2]
    else:  # wrong CRC in the trailer: gzip.BadGzipFile
        data[-8] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValidationError) as err:
        read_performance(sample_copy)
    f = _problems(err)
    assert list(f["source"]) == ["tickets.csv.gz"]
    assert "corrupt compressed file" in f["rule"].iat[0]


@pytest.mark.parametrize("stamp", ["1970-01-01T00:00:00Z", "2199-12-31T23:59:59Z"])
def test_placeholder_dates_are_flagged_and_do_not_move_the_reporting_instant(write_folder, tiny, stamp):
    """Issue 11 item 9: one ticket at a sentinel instant moved ``asof`` (and with it L1's breach
    probability) with no data-quality finding."""
    from sourcing.performance.data import PLACEHOLDER_WINDOW_DAYS

    clean = read_performance(write_folder())
    rows = tiny.TICKETS + [tiny.t("S1", "incident", "P1", stamp),
                           tiny.t("S2", "incident", "P1", "2025-01-22T10:00:00+01:00", "", stamp)]
    p = read_performance(write_folder({"tickets": rows}))
    q = p.quality.set_index("ticket_id")
    assert (q.loc["S1", "column"], q.loc["S1", "value"]) == ("opened", stamp)
    assert (q.loc["S2", "column"], q.loc["S2", "value"]) == ("resolved", stamp)
    for tid in ("S1", "S2"):
        assert q.loc[tid, "issue"].startswith("placeholder date")
        assert f"{PLACEHOLDER_WINDOW_DAYS} days" in q.loc[tid, "issue"]
        assert q.loc[tid, "action"] == "excluded"
    assert p.asof == clean.asof
    assert p.tickets["used"].sum() == clean.tickets["used"].sum()


def test_sample_has_no_placeholder_findings(perf_sample):
    assert not perf_sample.quality["issue"].str.startswith("placeholder").any()


@pytest.mark.parametrize(("stamp", "utc"), [
    ("2025-01-15T10:00:00+01", "2025-01-15T09:00:00Z"),
    ("2025-01-15T10:00:00-0130", "2025-01-15T11:30:00Z"),
    ("2025-01-15T10:00+01", "2025-01-15T09:00:00Z"),
    ("2025-01-15", "2025-01-14T23:00:00Z"),  # date only: local midnight in Stockholm
])
def test_hour_only_offset_parses(write_folder, tiny, stamp, utc):
    """Issue 11 item 9: '+01' was not seen as an offset, and localising it aborted the whole
    analysis with pandas' 'Already tz-aware'."""
    rows = tiny.TICKETS + [tiny.t("H1", "incident", "P1", stamp)]
    p = read_performance(write_folder({"tickets": rows}), timezone="Europe/Stockholm")
    t = p.tickets.set_index("ticket_id")
    assert t.at["H1", "opened"] == pd.Timestamp(utc)
    assert t.at["H1", "used"]


def test_a_zone_name_the_offset_rule_misses_is_a_finding_not_a_crash(write_folder, tiny):
    rows = tiny.TICKETS + [tiny.t("Z1", "incident", "P1", "2025-01-15T10:00:00 UTC"),
                           tiny.t("Z2", "incident", "P1", "2025-01-15T10:00:00+1")]
    p = read_performance(write_folder({"tickets": rows}))
    t = p.tickets.set_index("ticket_id")
    for tid, utc in (("Z1", "2025-01-15T10:00:00Z"), ("Z2", "2025-01-15T09:00:00Z")):
        # read at the stated instant, or flagged as unreadable: never another instant
        assert t.at[tid, "opened"] == pd.Timestamp(utc) or not t.at[tid, "used"]


@pytest.mark.parametrize("stamp", ["now", "today", "Now"])
def test_words_pandas_reads_as_the_wall_clock_are_unreadable(write_folder, tiny, stamp):
    """pandas parses 'now' and 'today' as the time of the run: an irreproducible, wrong instant."""
    rows = tiny.TICKETS + [tiny.t("W1", "incident", "P1", stamp)]
    p = read_performance(write_folder({"tickets": rows}))
    q = p.quality.set_index("ticket_id")
    assert q.loc["W1", "issue"].startswith("timestamp unreadable") and q.loc["W1", "value"] == stamp
    assert not p.tickets.set_index("ticket_id").at["W1", "used"]
