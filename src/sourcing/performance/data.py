"""Input tables of vendor performance and the validated reader :func:`read_performance`.

A performance folder holds CSV files (``tickets`` may be ``tickets.csv.gz``); the data dictionary
is in ``data/README.md`` (*Performance data*) and in the :data:`PERF_TABLES` specifications below.
Each file is read in chunks within :data:`MAX_PERF_BYTES` (after decompression) and
:data:`MAX_PERF_LINES`, so a gzip bomb is refused while it is read; a corrupt gzip stream is a
:class:`~sourcing.schemas.ValidationError` naming the file.

Two kinds of bad input, handled differently:

* **Table problems** (missing file or column, unreadable number, bad month, unknown KPI,
  vendor x lot without a contract, an SLA term without its target, ...) raise one
  :class:`~sourcing.schemas.ValidationError` listing every cell at fault.
* **Ticket problems** (duplicate id, unreadable or missing timestamp, resolved before opened,
  unknown priority or type, ...) do not stop the run: each becomes a row of
  ``PerformanceData.quality`` saying what was found and what was done with the ticket
  (``action``), so nothing is dropped silently.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io as _io
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import decode_utf8
from ..schemas import Column, Problem, Table, ValidationError, parse_table
from .calendar import WEEKDAYS, Calendar, parse_hhmm

__all__ = ["KPIS", "MAX_PERF_BYTES", "MAX_PERF_LINES", "PERF_TABLES", "PLACEHOLDER_WINDOW_DAYS",
           "PRIORITIES", "PerformanceData", "read_performance"]

#: Largest size of one performance CSV after decompression, bytes (256 MiB: about two million
#: tickets).  A larger file (or a gzip bomb) is refused while it is read, before it is parsed.
MAX_PERF_BYTES = 256 * 2**20
#: Most physical lines (blank lines included) of one performance CSV.
MAX_PERF_LINES = 3_000_000
#: A ticket time stamp more than this many days from the median opened time of the log is a
#: placeholder (1970-01-01T00:00:00Z, 2199-12-31T23:59:59Z, ...): flagged and the ticket excluded.
PLACEHOLDER_WINDOW_DAYS = 3653

PRIORITIES = ("P1", "P2", "P3", "P4")
TICKET_TYPES = ("incident", "request")
KPIS = ("response", "resolution", "fulfilment", "availability")
_OPT = {"required": False, "nullable": True}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: An ISO 8601 time stamp starts with its date.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: A UTC offset after a clock time: Z, +01, +0100 or +01:00 (not the day of a date-only value).
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$",
                     re.IGNORECASE)


def _c(name: str, kind: str = "str", doc: str = "", **kw) -> Column:
    return Column(name, kind, doc=doc, **kw)


def _vl() -> tuple[Column, Column]:
    return (_c("vendor_id", doc="Vendor (tender vendors.vendor_id)."),
            _c("lot_id", doc="Lot / service (tender lots.lot_id)."))


PERF_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "tickets",
            (
                _c("ticket_id", doc="Ticket number, unique.", nullable=True),
                _c("vendor_id", doc="Vendor handling the ticket.", nullable=True),
                _c("lot_id", doc="Lot / service of the ticket.", nullable=True),
                _c("type", doc="incident or request.", nullable=True),
                _c("priority", doc="P1 (critical) .. P4 (low).", nullable=True),
                _c("opened", doc="When the ticket was logged, ISO 8601 with UTC offset.", nullable=True),
                _c("first_response", doc="First response by the vendor, ISO 8601; blank if none yet.",
                   **_OPT),
                _c("resolved", doc="Resolution (incident) or fulfilment (request), ISO 8601; blank "
                   "while open.", **_OPT),
                _c("status", doc="open, resolved or closed (informative; timestamps decide).", **_OPT),
            ),
            doc="Ticket log, one row per ticket.",
        ),
        Table(
            "contracts",
            (
                *_vl(),
                _c("timezone", doc="IANA time zone whose calendar months are reported, e.g. "
                   "Europe/Stockholm.", default="UTC", **_OPT),
                _c("billing", "category", "per_unit: quantity is units delivered in the month, price "
                   "= bid unit_price; per_unit_month: quantity is units in service, monthly price = "
                   "bid unit_price / 12.", choices=("per_unit", "per_unit_month")),
                _c("credit_cap_pct", "float", "Most service credit in a month, percent of the monthly "
                   "fee.", ge=0, le=100),
                _c("earn_back_months", "int", "A month's credit is earned back by the vendor when all "
                   "KPIs meet target in each of the next N months; 0 = no earn-back.", ge=0,
                   le=120, default=0.0, **_OPT),
                _c("credit_lag_months", "int", "Credits for month m are due on the invoice of month "
                   "m + lag.", ge=0, le=120, default=1.0, **_OPT),
            ),
            key=("vendor_id", "lot_id"),
            doc="One row per vendor x lot under contract.",
        ),
        Table(
            "sla_terms",
            (
                *_vl(),
                _c("kpi", "category", "response, resolution (incidents), fulfilment (requests) or "
                   "availability.", choices=KPIS),
                _c("priority", doc="P1..P4 for response and resolution; blank for fulfilment and "
                   "availability.", **_OPT),
                _c("target_hours", "float", "Clock hours allowed (blank for availability).", gt=0,
                   le=8784, **_OPT),
                _c("calendar_id", doc="Clock of the target (calendars.calendar_id); blank = 24x7.",
                   **_OPT),
                _c("target_pct", "float", "Required share of tickets within target, or "
                   "availability, percent.", ge=0, le=100),
            ),
            key=("vendor_id", "lot_id", "kpi", "priority"),
            doc="Service levels per vendor x lot x KPI (x priority).",
        ),
        Table(
            "credit_schedule",
            (
                *_vl(),
                _c("kpi", "category", "KPI the tier belongs to.", choices=KPIS),
                _c("priority", doc="Priority; blank = every priority of the KPI.", **_OPT),
                _c("shortfall_pp", "float", "Tier threshold: applies when target_pct - actual >= this "
                   "many percentage points (and the target is missed).", ge=0),
                _c("credit_pct", "float", "Credit for the tier, percent of the monthly fee.",
                   ge=0, le=100),
            ),
            key=("vendor_id", "lot_id", "kpi", "priority", "shortfall_pp"),
            doc="Service-credit tiers (step function of the shortfall).",
        ),
        Table(
            "calendars",
            (
                _c("calendar_id", doc="Calendar id.", unique=True),
                _c("timezone", doc="IANA time zone of the hours and holidays."),
                *(_c(d, doc=f"Opening hours on {d}, HH:MM-HH:MM local; blank = closed.", **_OPT)
                  for d in WEEKDAYS),
            ),
            required=False, key=("calendar_id",), min_rows=0,
            doc="Business-hours calendars; the id 24x7 is built in.",
        ),
        Table(
            "holidays",
            (
                _c("calendar_id", doc="Calendar the holiday belongs to."),
                _c("date", doc="Local date YYYY-MM-DD."),
                _c("name", doc="Holiday name.", **_OPT),
            ),
            required=False, key=("calendar_id", "date"), min_rows=0,
            doc="Public holidays: the business clock stops all day.",
        ),
        Table(
            "availability",
            (
                *_vl(),
                _c("month", doc="Month YYYY-MM."),
                _c("scheduled_minutes", "float", "Minutes the service was scheduled to run "
                   "(planned maintenance excluded).", gt=0),
                _c("downtime_minutes", "float", "Unplanned downtime in scheduled time, minutes.", ge=0),
            ),
            required=False, key=("vendor_id", "lot_id", "month"), min_rows=0,
            doc="Monthly availability log.",
        ),
        Table(
            "volumes",
            (
                *_vl(),
                _c("month", doc="Month YYYY-MM."),
                _c("quantity", "float", "Measured units in the month (devices in service, ...).", ge=0),
            ),
            required=False, key=("vendor_id", "lot_id", "month"), min_rows=0,
            doc="Measured volumes; a lot without rows is measured by tickets opened in the month.",
        ),
        Table(
            "invoices",
            (
                _c("invoice_id", doc="Invoice number."),
                *_vl(),
                _c("month", doc="Service month billed, YYYY-MM."),
                _c("quantity", "float", "Billed quantity, units.", ge=0),
                _c("unit_price", "float", "Billed price, tender currency per unit (per month for "
                   "per_unit_month).",
                   ge=0),
                _c("amount", "float", "Line amount before credits, tender currency."),
                _c("credit_applied", "float", "Service credit deducted on the line, tender currency "
                   "(positive).",
                   ge=0, default=0.0, **_OPT),
            ),
            required=False, min_rows=0,
            doc="Invoice lines; duplicates are reported by the audit, not rejected here.",
        ),
    )
}


@dataclass
class PerformanceData:
    """Validated performance inputs.

    Attributes
    ----------
    tickets : DataFrame
        Typed ticket log: timestamps as UTC ``datetime64``, ``row`` = CSV line, ``used`` = kept
        for KPIs, ``measurable`` = has a valid priority/type for compliance.
    quality : DataFrame
        Data-quality findings: source, row, ticket_id, column, value, issue, action.
    contracts, sla_terms, credit_schedule, availability, volumes, invoices : DataFrame
        The other tables, typed (``month`` as ``YYYY-MM`` text).
    calendars : dict of str to Calendar
        Clock calendars by id (``24x7`` always present).
    """

    tickets: pd.DataFrame
    quality: pd.DataFrame
    contracts: pd.DataFrame
    sla_terms: pd.DataFrame
    credit_schedule: pd.DataFrame
    availability: pd.DataFrame
    volumes: pd.DataFrame
    invoices: pd.DataFrame
    calendars: dict[str, Calendar] = field(default_factory=dict)
    source: str = ""

    def to_frame(self) -> pd.DataFrame:
        """The ticket log."""
        return self.tickets

    @property
    def asof(self) -> pd.Timestamp:
        """Latest timestamp in the ticket log (the default reporting instant), UTC."""
        t = self.tickets.loc[self.tickets["used"], ["opened", "first_response", "resolved"]]
        stamps = [t[c].max() for c in t.columns if t[c].notna().any()]
        if not stamps:
            raise ValueError("the ticket log has no usable ticket (see .quality): "
                             "pass asof= (--asof) explicitly")
        return max(stamps)

    def summary(self) -> str:
        """A few lines for the console."""
        t = self.tickets
        used = int(t["used"].sum())
        months = sorted(self.availability["month"].unique()) if len(self.availability) else []
        span = f"{months[0]}..{months[-1]}" if months else "-"
        return (f"performance data {self.source}: {len(t):,} tickets ({used:,} used, "
                f"{len(self.quality):,} data-quality findings), {len(self.contracts)} contracts, "
                f"availability {span}, {len(self.invoices):,} invoice lines")


# ---------------------------------------------------------------------- reading
def _read_bytes(path: Path, label: str) -> bytes:
    """The file's bytes (decompressed for ``.gz``), within :data:`MAX_PERF_BYTES` and
    :data:`MAX_PERF_LINES`; a corrupt or oversized file raises ValidationError naming it.

    Read in chunks, so a gzip bomb is stopped at the limit instead of being inflated into memory.
    """
    chunks, size, lines = [], 0, 0
    try:
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
                lines += chunk.count(b"\n")
                if size > MAX_PERF_BYTES:
                    where = " once decompressed" if opener is gzip.open else ""
                    raise _too_big(label, f"file too large{where}: at most {MAX_PERF_BYTES:,} bytes "
                                   "(MAX_PERF_BYTES)")
                if lines > MAX_PERF_LINES:
                    raise _too_big(label, f"file too long: at most {MAX_PERF_LINES:,} lines, blank "
                                   "ones included (MAX_PERF_LINES)")
                chunks.append(chunk)
    except (zlib.error, EOFError, gzip.BadGzipFile) as err:
        raise ValidationError([Problem(label, None, None, "", "corrupt compressed file "
                                       f"({type(err).__name__}: {str(err)[:80]}): export it again")],
                              title="invalid performance data") from None
    return b"".join(chunks)


def _too_big(label: str, rule: str) -> ValidationError:
    return ValidationError([Problem(label, None, None, "", f"{rule}; split the log by period or "
                                    "raise the limit in sourcing.performance.data")],
                           title="invalid performance data")


def _read_raw(path: Path, problems: list[Problem]):
    label = path.name
    try:
        data = _read_bytes(path, label)
    except OSError as err:
        problems.append(Problem(label, None, None, "", f"cannot read the file ({err.strerror or err})"))
        return None
    except ValidationError as err:
        problems += err.problems
        return None
    text = decode_utf8(data, label, problems)
    if text is None:
        return None
    del data
    first = text[: text.find("\n")] if "\n" in text else text
    sep = max((",", ";", "\t"), key=first.count)
    try:
        raw = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                          sep=sep, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        problems.append(Problem(label, None, None, "", f"unreadable CSV: {str(err).strip()[:120]}"))
        return None
    rows = np.arange(len(raw)) + 2
    # blank lines (and lines of bare separators) are skipped; rows keep their file line numbers
    blank = (raw == "").all(axis=1).to_numpy() if raw.shape[1] else np.ones(len(raw), bool)
    raw = raw.loc[~blank].reset_index(drop=True)
    return raw, label, rows[~blank]


def _find(folder: Path, name: str) -> Path | None:
    for suffix in (".csv", ".csv.gz"):
        p = folder / f"{name}{suffix}"
        if p.exists():
            return p
    return None


def _check_month(frame: pd.DataFrame, label: str, rows: np.ndarray, problems: list[Problem]) -> None:
    bad = ~frame["month"].fillna("").str.match(_MONTH.pattern).to_numpy()
    for i in np.flatnonzero(bad):
        problems.append(Problem(label, int(rows[i]), "month", str(frame["month"].iat[i] or ""),
                                "must be a month written YYYY-MM, e.g. 2025-03"))


def read_performance(path: str | os.PathLike, *, timezone: str = "Europe/Stockholm") -> PerformanceData:
    """Read and validate a performance folder.

    Parameters
    ----------
    path : path-like
        Folder with ``tickets.csv[.gz]``, ``contracts.csv``, ``sla_terms.csv``,
        ``credit_schedule.csv`` and optionally ``calendars``, ``holidays``, ``availability``,
        ``volumes``, ``invoices`` (``.csv``).
    timezone : str
        Zone of ticket timestamps written without a UTC offset.

    Raises
    ------
    ValidationError
        Listing every table problem (file, CSV line, column, value, rule).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ValidationError([Problem(str(folder), None, None, "", "not a folder of CSV files")],
                              title="invalid performance data")
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    rows: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    for name, table in PERF_TABLES.items():
        p = _find(folder, name)
        if p is None:
            if table.required:
                problems.append(Problem(f"{name}.csv", None, None, "", "required file is missing"))
            frames[name] = pd.DataFrame({c.name: pd.Series(dtype=float if c.kind in ("float", "int")
                                                           else object) for c in table.columns})
            rows[name], labels[name] = np.array([], dtype=int), f"{name}.csv"
            continue
        got = _read_raw(p, problems)
        if got is None:
            continue
        raw, label, r = got
        frame, probs = parse_table(raw, table, source=label, rows=r)
        problems += probs
        frames[name], rows[name], labels[name] = frame, r, label
        if "month" in frame.columns:
            _check_month(frame, label, r, problems)
    if problems:
        raise ValidationError(problems, title="invalid performance data")

    calendars = _calendars(frames, rows, labels, problems)
    _check_terms(frames, rows, labels, calendars, problems)
    if problems:
        raise ValidationError(problems, title="invalid performance data")
    tickets, quality = _tickets(frames["tickets"], rows["tickets"], labels["tickets"],
                                frames["contracts"], frames["sla_terms"], timezone)
    for name in ("contracts", "credit_schedule", "sla_terms"):
        for c in ("earn_back_months", "credit_lag_months"):
            if c in frames[name]:
                frames[name][c] = frames[name][c].astype(int)
    return PerformanceData(
        tickets=tickets, quality=quality, contracts=frames["contracts"], sla_terms=frames["sla_terms"],
        credit_schedule=frames["credit_schedule"], availability=frames["availability"],
        volumes=frames["volumes"], invoices=frames["invoices"].assign(row=rows["invoices"]),
        calendars=calendars, source=str(folder),
    )


def _calendars(frames, rows, labels, problems) -> dict[str, Calendar]:
    cal = frames["calendars"]
    hol = frames["holidays"]
    out = {"24x7": Calendar.always()}
    known = set(cal["calendar_id"]) | {"24x7"}
    hol_dates: dict[str, list[_dt.date]] = {}
    for i, (cid, d) in enumerate(zip(hol["calendar_id"], hol["date"], strict=True)):
        row = int(rows["holidays"][i])
        if cid not in known:
            problems.append(Problem(labels["holidays"], row, "calendar_id", cid,
                                    "unknown calendar; valid: " + ", ".join(sorted(known))))
        try:
            hol_dates.setdefault(cid, []).append(_dt.date.fromisoformat(d))
        except (TypeError, ValueError):
            problems.append(Problem(labels["holidays"], row, "date", str(d),
                                    "must be a date written YYYY-MM-DD"))
    for i, rec in enumerate(cal.itertuples(index=False)):
        row = int(rows["calendars"][i])
        hours = []
        for d in WEEKDAYS:
            text = getattr(rec, d)
            if text is None or text == "":
                hours.append((0, 0))
                continue
            try:
                o, c = (parse_hhmm(x) for x in text.split("-"))
                if o > c:
                    raise ValueError
                hours.append((o, c))
            except ValueError:
                problems.append(Problem(labels["calendars"], row, d, text,
                                        "must be opening hours HH:MM-HH:MM (e.g. 08:00-18:00) or blank"))
                hours.append((0, 0))
        try:
            out[rec.calendar_id] = Calendar(tz=rec.timezone, hours=tuple(hours),
                                            holidays=tuple(hol_dates.get(rec.calendar_id, [])),
                                            name=rec.calendar_id)
        except ValueError as err:
            problems.append(Problem(labels["calendars"], row, "timezone", rec.timezone, str(err)))
    return out


def _check_terms(frames, rows, labels, calendars, problems) -> None:
    con = frames["contracts"]
    pairs = set(zip(con["vendor_id"], con["lot_id"], strict=True))
    for tz_i, tz in enumerate(con["timezone"]):
        try:
            Calendar(tz=tz)
        except ValueError as err:
            problems.append(Problem(labels["contracts"], int(rows["contracts"][tz_i]), "timezone", tz,
                                    str(err)))
    for name in ("sla_terms", "credit_schedule", "availability", "volumes", "invoices"):
        f = frames[name]
        for i, (v, lot) in enumerate(zip(f["vendor_id"], f["lot_id"], strict=True)):
            if (v, lot) not in pairs:
                problems.append(Problem(labels[name], int(rows[name][i]), "vendor_id+lot_id",
                                        f"{v}, {lot}", "no contract for this vendor x lot "
                                        "(add it to contracts.csv)"))
    for name in ("sla_terms", "credit_schedule"):
        f = frames[name]
        pr = f["priority"].fillna("").str.upper()
        f["priority"] = pr
        for i, (k, p) in enumerate(zip(f["kpi"], pr, strict=True)):
            row = int(rows[name][i])
            if k in ("response", "resolution") and name == "sla_terms" and p not in PRIORITIES:
                problems.append(Problem(labels[name], row, "priority", p,
                                        f"{k} targets need a priority: one of {', '.join(PRIORITIES)}"))
            elif k in ("fulfilment", "availability") and p:
                problems.append(Problem(labels[name], row, "priority", p,
                                        f"{k} applies to all priorities: leave priority blank"))
            elif p and p not in PRIORITIES:
                problems.append(Problem(labels[name], row, "priority", p,
                                        f"must be blank or one of {', '.join(PRIORITIES)}"))
    t = frames["sla_terms"]
    for i, rec in enumerate(t.itertuples(index=False)):
        row = int(rows["sla_terms"][i])
        timed = rec.kpi != "availability"
        if timed and (rec.target_hours is None or np.isnan(rec.target_hours)):
            problems.append(Problem(labels["sla_terms"], row, "target_hours", "",
                                    f"{rec.kpi} targets need target_hours"))
        cid = rec.calendar_id if isinstance(rec.calendar_id, str) and rec.calendar_id else "24x7"
        if cid not in calendars:
            problems.append(Problem(labels["sla_terms"], row, "calendar_id", cid,
                                    "unknown calendar; valid: " + ", ".join(sorted(calendars))))
    t["calendar_id"] = t["calendar_id"].fillna("24x7").replace("", "24x7")
    cs = frames["credit_schedule"]
    terms = set(zip(t["vendor_id"], t["lot_id"], t["kpi"], strict=True))
    for i, rec in enumerate(cs.itertuples(index=False)):
        if (rec.vendor_id, rec.lot_id, rec.kpi) not in terms:
            problems.append(Problem(labels["credit_schedule"], int(rows["credit_schedule"][i]), "kpi",
                                    rec.kpi, "no SLA term for this vendor x lot x kpi in sla_terms.csv"))
    a = frames["availability"]
    over = (a["downtime_minutes"] > a["scheduled_minutes"]).to_numpy()
    for i in np.flatnonzero(over):
        problems.append(Problem(labels["availability"], int(rows["availability"][i]), "downtime_minutes",
                                f"{a['downtime_minutes'].iat[i]:g}", "must be <= scheduled_minutes"))


#: Years a ticket time stamp may carry; others (0001, 9999: placeholders) are unreadable.
_YEARS = (1970, 2200)


def _in_range(stamps: pd.Series) -> pd.Series:
    """Parsed stamps outside :data:`_YEARS` as NaT, in nanoseconds (pandas may parse to us)."""
    year = stamps.dt.year
    stamps = stamps.where((year >= _YEARS[0]) & (year < _YEARS[1]))
    return stamps.dt.as_unit("ns")


def _parse_times(text: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 text -> UTC timestamps; returns (values, mask of unreadable non-blank cells).

    Text with a UTC offset (``Z``, ``+01``, ``+0100``, ``+01:00``) is converted to UTC; text
    without one is local time in *tz*.
    """
    text = text.fillna("").astype(str).str.strip()
    blank = (text == "").to_numpy()
    # a date first (pandas would read "now" or "today" as the wall-clock time of the run)
    text = text.where(text.str.match(_ISO_DATE.pattern), "")
    has_off = text.str.contains(_OFFSET.pattern, regex=True, flags=re.IGNORECASE).to_numpy() & ~blank
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if has_off.any():
        out[has_off] = _in_range(pd.to_datetime(text[has_off], format="ISO8601", utc=True,
                                                errors="coerce"))
    naive = ~has_off & ~blank & (text != "").to_numpy()
    if naive.any():
        out[naive] = _local_times(text[naive], tz)
    bad = ~blank & out.isna().to_numpy()
    return out, bad


def _local_times(text: pd.Series, tz: str) -> pd.Series:
    """Text without a recognised offset, read as local time in *tz*, in UTC (NaT if unreadable)."""
    try:
        local = _in_range(pd.to_datetime(text, format="ISO8601", errors="coerce"))
        if getattr(local.dtype, "tz", None) is None:
            index = pd.DatetimeIndex(local).tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            return pd.Series(index.tz_convert("UTC"), index=text.index)
    except (TypeError, ValueError, OverflowError):
        pass
    # some cell carries a zone the offset pattern did not see ("... UTC", "+1"): one by one
    out = []
    for value in text:
        try:
            stamp = pd.Timestamp(value)
            if stamp is pd.NaT or not 1970 <= stamp.year < 2200:
                raise ValueError
            if stamp.tzinfo is None:
                stamp = stamp.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            out.append(stamp.tz_convert("UTC") if stamp is not pd.NaT else pd.NaT)
        except (TypeError, ValueError, OverflowError):
            out.append(pd.NaT)
    return pd.Series(pd.to_datetime(out, utc=True), index=text.index).dt.as_unit("ns")


def _placeholders(times: dict[str, pd.Series], used: np.ndarray) -> dict[str, np.ndarray]:
    """Per time column, the stamps farther than :data:`PLACEHOLDER_WINDOW_DAYS` from the median
    opened time of the used tickets (placeholder dates such as 1970-01-01 or 2199-12-31)."""
    def ns(values: pd.Series) -> np.ndarray:
        out = values.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]").view("int64").astype(float)
        out[values.isna().to_numpy()] = np.nan
        return out

    opened = ns(times["opened"])[used]
    opened = opened[~np.isnan(opened)]
    if not len(opened):
        return {c: np.zeros(len(v), bool) for c, v in times.items()}
    centre = float(np.median(opened))
    window = PLACEHOLDER_WINDOW_DAYS * 86_400 * 1e9
    out = {}
    for col, values in times.items():
        with np.errstate(invalid="ignore"):
            out[col] = np.abs(ns(values) - centre) > window
    return out


def _tickets(f, rows, label, contracts, terms, tz) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(f)
    t = pd.DataFrame({
        "row": rows, "ticket_id": f["ticket_id"].fillna(""), "vendor_id": f["vendor_id"].fillna(""),
        "lot_id": f["lot_id"].fillna(""), "type": f["type"].fillna("").str.strip().str.lower(),
        "priority": f["priority"].fillna("").str.strip().str.upper(),
        "status": f["status"].fillna("").str.strip().str.lower(),
    })
    issues: list[pd.DataFrame] = []

    def flag(mask: np.ndarray, column: str, values, issue: str, action: str) -> None:
        idx = np.flatnonzero(mask)
        if len(idx):
            vals = pd.Series(values).iloc[idx].astype(str).to_numpy() if not isinstance(values, str) \
                else np.full(len(idx), values)
            issues.append(pd.DataFrame({"source": label, "row": rows[idx], "ticket_id": t["ticket_id"]
                                        .to_numpy()[idx], "column": column, "value": vals,
                                        "issue": issue, "action": action}))

    used = np.ones(n, bool)
    for col in ("ticket_id", "vendor_id", "lot_id"):
        m = (t[col] == "").to_numpy()
        flag(m, col, "", f"{col} is blank", "excluded")
        used &= ~m
    dup = t["ticket_id"].duplicated(keep="first").to_numpy() & (t["ticket_id"] != "").to_numpy()
    first_row = t.drop_duplicates("ticket_id").set_index("ticket_id")["row"]
    flag(dup, "ticket_id", t["ticket_id"], "duplicate ticket id",
         "excluded (first occurrence kept)")
    if dup.any():
        issues[-1]["action"] = ["excluded; first occurrence on row " + str(first_row[i])
                                for i in issues[-1]["ticket_id"]]
    used &= ~dup
    pairs = pd.MultiIndex.from_frame(contracts[["vendor_id", "lot_id"]])
    nocon = ~pd.MultiIndex.from_frame(t[["vendor_id", "lot_id"]]).isin(pairs) & used
    flag(nocon, "vendor_id+lot_id", t["vendor_id"] + ", " + t["lot_id"],
         "no contract for this vendor x lot", "excluded")
    used &= ~nocon
    times = {}
    for col in ("opened", "first_response", "resolved"):
        times[col], bad = _parse_times(f[col], tz)
        flag(bad & used, col, f[col], "timestamp unreadable (ISO 8601 with offset expected, or a "
             "nonexistent/ambiguous local time)", "excluded")
        used &= ~bad
        t[col] = times[col]
    m = t["opened"].isna().to_numpy() & used
    flag(m, "opened", "", "opened is blank", "excluded")
    used &= ~m
    far = _placeholders(times, used)
    for col in ("opened", "first_response", "resolved"):
        m = far[col] & used
        flag(m, col, f[col], f"placeholder date: more than {PLACEHOLDER_WINDOW_DAYS} days from the "
             "median opened time of the log", "excluded")
        used &= ~m
    for col in ("first_response", "resolved"):
        m = (t[col] < t["opened"]).to_numpy() & used
        flag(m, col, f[col], f"{col} before opened", "excluded")
        used &= ~m
    bad_type = ~t["type"].isin(TICKET_TYPES).to_numpy() & used
    flag(bad_type, "type", f["type"], "unknown type (valid: incident, request)", "excluded")
    used &= ~bad_type
    # vendor x lot x priority must have targets: otherwise counted in volumes only
    tp = terms.loc[terms["kpi"] == "response", ["vendor_id", "lot_id", "priority"]]
    has = pd.MultiIndex.from_frame(t[["vendor_id", "lot_id", "priority"]]).isin(
        pd.MultiIndex.from_frame(tp))
    bad_pr = ~t["priority"].isin(PRIORITIES).to_numpy() & used
    flag(bad_pr, "priority", f["priority"], f"unknown priority (valid: {', '.join(PRIORITIES)})",
         "counted in volumes and backlog, excluded from compliance")
    no_term = ~has & ~bad_pr & used
    flag(no_term, "priority", t["priority"], "no response target for this vendor x lot x priority",
         "counted in volumes and backlog, excluded from compliance")
    measurable = used & ~bad_pr & ~no_term
    res = t["resolved"].notna().to_numpy()
    closed_blank = t["status"].isin(("resolved", "closed")).to_numpy() & ~res & used
    flag(closed_blank, "resolved", "", "status says resolved/closed but resolved is blank",
         "kept as open: the clock runs until resolved")
    open_res = (t["status"] == "open").to_numpy() & res & used
    flag(open_res, "status", t["status"], "status open but resolved is filled",
         "kept as resolved at the recorded time")
    no_resp = res & t["first_response"].isna().to_numpy() & measurable
    flag(no_resp, "first_response", "", "resolved without a first response",
         "kept; counted as a response breach")
    t["used"] = used
    t["measurable"] = measurable
    quality = (pd.concat(issues, ignore_index=True) if issues else pd.DataFrame(
        columns=["source", "row", "ticket_id", "column", "value", "issue", "action"]))
    quality = quality.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    return t, quality
