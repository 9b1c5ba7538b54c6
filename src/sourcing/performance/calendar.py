"""Business-hours clocks: elapsed SLA time between timestamps, for every ticket at once.

A :class:`Calendar` says when the SLA clock runs: a time zone, opening hours per weekday (local
wall time) and public holidays (local dates), or always (24x7).

Method (vectorised, no loop over tickets)
-----------------------------------------
For every local calendar day ``d`` spanned by the inputs we compute, once, the UTC instants at
which the clock starts and stops that day (``open[d]``, ``close[d]``; equal on closed days and
holidays) by localising the wall times in the calendar's time zone, and the cumulative business
minutes before the day, ``C[d]``.  A timestamp ``t`` lying in local day ``d`` then sits at
business position ``F(t) = C[d] + clip(t - open[d], 0, close[d] - open[d])`` and the elapsed
business time between ``s`` and ``e`` is ``F(e) - F(s)``: two table look-ups per ticket.

Conventions
-----------
* Durations are *real* minutes: the opening interval is measured between UTC instants, so a
  24-hour local day with a DST change counts 1380 or 1500 minutes, and an interval crossing
  the change is exact.
* A wall time that does not exist (spring-forward gap) moves forward to the first valid
  instant; an ambiguous one (fall-back) is read as the first occurrence (summer time).
* Times are float minutes; missing timestamps (NaT) give NaN; ``end < start`` gives a negative
  value (the validated layer flags such tickets before they get here).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Calendar", "business_deadline", "business_elapsed"]

_DAY_MIN = 1440
_NS_PER_MIN = 60_000_000_000
_NS_PER_DAY = _DAY_MIN * _NS_PER_MIN
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_hhmm(text: str) -> int:
    """``"08:30"`` -> 510 minutes after midnight; ``"24:00"`` allowed as end of day."""
    m = _HHMM.match(text.strip())
    if not m or int(m.group(2)) >= 60 or int(m.group(1)) * 60 + int(m.group(2)) > _DAY_MIN:
        raise ValueError(f"time of day must look like HH:MM between 00:00 and 24:00, got {text!r}")
    return int(m.group(1)) * 60 + int(m.group(2))


@dataclass(frozen=True)
class Calendar:
    """When an SLA clock runs.

    Parameters
    ----------
    tz : str
        IANA time zone of the working hours and holidays, e.g. ``"Europe/Stockholm"``.
    hours : tuple of 7 (open, close) pairs
        Opening hours Monday..Sunday in minutes after local midnight, ``0 <= open <= close <=
        1440``; ``(0, 0)`` = closed all day.
    holidays : tuple of datetime.date
        Local dates on which the clock does not run.
    name : str
        Calendar id for messages.
    """

    tz: str = "UTC"
    hours: tuple[tuple[int, int], ...] = ((0, _DAY_MIN),) * 7
    holidays: tuple[_dt.date, ...] = ()
    name: str = "24x7"

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise ValueError("hours must give 7 (open, close) pairs, Monday to Sunday")
        for day, (o, c) in zip(WEEKDAYS, self.hours, strict=True):
            if not 0 <= o <= c <= _DAY_MIN:
                raise ValueError(f"hours for {day}: need 0 <= open <= close <= 1440 minutes, got {o}, {c}")
        try:
            pd.Timestamp("2000-01-01").tz_localize(self.tz)
        except Exception as err:  # noqa: BLE001 - pytz/zoneinfo raise various types
            raise ValueError(f"unknown time zone {self.tz!r}; use an IANA name like "
                             "'Europe/Stockholm' or 'UTC'") from err
        object.__setattr__(self, "holidays", tuple(sorted(set(self.holidays))))

    @classmethod
    def always(cls, tz: str = "UTC", *, name: str = "24x7") -> Calendar:
        """A 24x7 clock: elapsed time is plain real time."""
        return cls(tz=tz, name=name)

    @classmethod
    def business(
        cls,
        tz: str = "Europe/Stockholm",
        *,
        start: str = "08:00",
        end: str = "18:00",
        weekdays: Iterable[str] = ("mon", "tue", "wed", "thu", "fri"),
        holidays: Iterable[_dt.date | str] = (),
        name: str = "business",
    ) -> Calendar:
        """Same opening hours ``start``-``end`` (local ``HH:MM``) on each of ``weekdays``."""
        days = [d.lower()[:3] for d in weekdays]
        bad = [d for d in days if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekday {bad[0]!r}; valid choices: {', '.join(WEEKDAYS)}")
        o, c = parse_hhmm(start), parse_hhmm(end)
        hours = tuple((o, c) if d in days else (0, 0) for d in WEEKDAYS)
        hol = tuple(pd.Timestamp(h).date() for h in holidays)
        return cls(tz=tz, hours=hours, holidays=hol, name=name)

    @property
    def is_24x7(self) -> bool:
        """True when the clock always runs (elapsed = real time)."""
        return all(h == (0, _DAY_MIN) for h in self.hours) and not self.holidays

    @property
    def weekly_minutes(self) -> int:
        """Nominal business minutes in a week without holidays."""
        return sum(c - o for o, c in self.hours)


# ---------------------------------------------------------------------- numeric layer
def _utc_ns(x) -> np.ndarray:
    """Timestamps as int64 UTC nanoseconds (NaT -> iNaT).  Naive values are read as UTC."""
    idx = pd.DatetimeIndex(x) if not isinstance(x, pd.DatetimeIndex) else x
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.as_unit("ns").asi8


def _day_range(ns: np.ndarray) -> tuple[int, int]:
    """Local days (since 1970-01-01) that can hold the UTC instants *ns*: UTC day +/- 1."""
    return int(ns.min() // _NS_PER_DAY) - 1, int(ns.max() // _NS_PER_DAY) + 1


class _LocalDays:
    """Local calendar day of UTC instants, by arithmetic and one correction (no tz conversion).

    With ``midnight[i]`` the UTC instant of local midnight of day ``d0 + i`` and ``off_max`` the
    largest UTC offset in the span, ``(t + off_max) // day`` is the local day or the day after;
    one comparison with that day's midnight fixes it.
    """

    def __init__(self, tz: str, d0: int, d1: int):
        self.d0 = d0
        days = np.arange(d0, d1 + 2, dtype=np.int64)
        wall = pd.DatetimeIndex((days * _NS_PER_DAY).view("M8[ns]"))
        utc = wall.tz_localize(tz, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward")
        self.midnight = utc.tz_convert("UTC").tz_localize(None).asi8
        self.off_max = int((days * _NS_PER_DAY - self.midnight).max())
        self.n = len(days) - 1

    def index(self, ns: np.ndarray) -> np.ndarray:
        """Position of each instant's local day in the span (clipped to the span)."""
        i = np.clip((ns + self.off_max) // _NS_PER_DAY - self.d0, 0, self.n)
        i -= ns < self.midnight[i]
        return np.clip(i, 0, self.n - 1)


class _DayTable:
    """Per local day: UTC open/close (minutes since epoch) and cumulative business minutes."""

    def __init__(self, cal: Calendar, d0: int, d1: int):
        self.d0 = d0
        days = np.arange(d0, d1 + 1, dtype=np.int64)
        wd = (days + 3) % 7  # 1970-01-01 was a Thursday
        hours = np.asarray(cal.hours, dtype=np.int64)
        o, c = hours[wd, 0], hours[wd, 1]
        if cal.holidays:
            hol = np.array([np.datetime64(h, "D").astype(np.int64) for h in cal.holidays])
            c = np.where(np.isin(days, hol), o, c)
        self.open = self._utc_minutes(days * _DAY_MIN + o, cal.tz)
        close = self._utc_minutes(days * _DAY_MIN + c, cal.tz)
        # UTC instant of each local midnight (and the one after the last day): the local day of
        # an instant is found by binary search, without converting millions of timestamps
        self.days = _LocalDays(cal.tz, d0, d1)
        self.length = np.maximum(close - self.open, 0.0)
        self.cum = np.concatenate(([0.0], np.cumsum(self.length)[:-1]))
        self.cum_end = self.cum + self.length

    @staticmethod
    def _utc_minutes(wall_min: np.ndarray, tz: str) -> np.ndarray:
        wall = pd.DatetimeIndex((wall_min * _NS_PER_MIN).view("M8[ns]"))
        utc = wall.tz_localize(tz, ambiguous=np.ones(len(wall), dtype=bool),
                               nonexistent="shift_forward")
        return utc.tz_convert("UTC").tz_localize(None).asi8 / _NS_PER_MIN

    def position(self, ns: np.ndarray) -> np.ndarray:
        """Business minutes from the table start to each UTC instant *ns*."""
        i = self.days.index(ns)
        t = ns / _NS_PER_MIN
        return self.cum[i] + np.clip(t - self.open[i], 0.0, self.length[i])

    def instant(self, goal: np.ndarray) -> np.ndarray:
        """UTC nanoseconds at which the clock position reaches *goal* (first such instant)."""
        ce = self.cum_end
        if len(ce) and ce[-1] < 5e7 and np.array_equal(ce, np.round(ce)):
            # whole-minute day ends (always, for HH:MM hours and whole-minute UTC offsets): the
            # first day ending at or after goal is a table look-up on ceil(goal)
            first = np.searchsorted(ce, np.arange(int(ce[-1]) + 1), side="left")
            i = first[np.ceil(goal).astype(np.int64)]
        else:
            i = np.searchsorted(ce, goal, side="left")
        return np.round((self.open[i] + (goal - self.cum[i])) * _NS_PER_MIN).astype(np.int64)


def clock(opened: np.ndarray, until: np.ndarray, minutes: np.ndarray, cal: Calendar):
    """Deadline (UTC ns) and elapsed clock minutes for valid int64 UTC-ns arrays, sharing one table.

    Internal fast path of :func:`business_deadline` + :func:`business_elapsed` (no NaT allowed).
    """
    if cal.is_24x7:
        return opened + np.round(minutes * _NS_PER_MIN).astype(np.int64), (until - opened) / _NS_PER_MIN
    if cal.weekly_minutes == 0:
        raise ValueError(f"calendar {cal.name!r} has no opening hours: the clock never runs")
    d0, d1 = _day_range(np.concatenate((opened, until)))
    pad = 7 * int(np.ceil(minutes.max() / cal.weekly_minutes) + 2) + 14
    while True:
        table = _DayTable(cal, d0, d1 + pad)
        f_open = table.position(opened)
        goal = f_open + minutes
        if goal.max() <= table.cum_end[-1]:
            break
        pad *= 2
    deadline = np.maximum(table.instant(goal), opened)
    return deadline, table.position(until) - f_open


def business_elapsed(start, end, calendar: Calendar | None = None) -> np.ndarray:
    """Elapsed clock minutes from each ``start`` to each ``end`` (vectorised).

    Parameters
    ----------
    start, end : array-like of datetime64 (tz-aware, or naive = UTC), same length
        E.g. ``DatetimeIndex``, ``Series`` or ``numpy`` ``datetime64`` arrays.
    calendar : Calendar, optional
        When the clock runs; default 24x7.

    Returns
    -------
    ndarray of float
        Minutes during which the clock ran, NaN where either timestamp is missing; negative
        when ``end < start``.
    """
    s, e = _utc_ns(start), _utc_ns(end)
    if s.shape != e.shape:
        raise ValueError(f"start and end must have the same length, got {s.shape} and {e.shape}")
    cal = calendar if calendar is not None else Calendar.always()
    nat = np.iinfo(np.int64).min
    ok = (s != nat) & (e != nat)
    out = np.full(s.shape, np.nan)
    if not ok.any():
        return out
    if cal.is_24x7:
        out[ok] = (e[ok] - s[ok]) / _NS_PER_MIN
        return out
    s, e = s[ok], e[ok]
    d0, d1 = _day_range(np.concatenate((s, e)))
    table = _DayTable(cal, d0, d1)
    out[ok] = table.position(e) - table.position(s)
    return out


def business_deadline(start, minutes, calendar: Calendar | None = None) -> pd.DatetimeIndex:
    """Instant at which each clock started at ``start`` reaches ``minutes`` (vectorised).

    The inverse of :func:`business_elapsed`: ``business_elapsed(start, deadline) == minutes``,
    and the deadline is never before ``start``.  Returns a UTC ``DatetimeIndex`` (NaT where
    ``start`` is missing or ``minutes`` is NaN).
    """
    s = _utc_ns(start)
    m = np.broadcast_to(np.asarray(minutes, dtype=float), s.shape)
    cal = calendar if calendar is not None else Calendar.always()
    nat = np.iinfo(np.int64).min
    ok = (s != nat) & np.isfinite(m) & (m >= 0)
    out = np.full(s.shape, nat, dtype=np.int64)
    if ok.any():
        if cal.is_24x7:
            out[ok] = s[ok] + np.round(m[ok] * _NS_PER_MIN).astype(np.int64)
        else:
            if cal.weekly_minutes == 0:
                raise ValueError(f"calendar {cal.name!r} has no opening hours: the clock never runs")
            out[ok] = clock(s[ok], s[ok], m[ok], cal)[0]
    return pd.DatetimeIndex(out.view("M8[ns]")).tz_localize("UTC")
