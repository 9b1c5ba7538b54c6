"""Business-hours clocks.

No published worked example exists for these clocks, so every expectation below is computed by
hand in the docstring/comment (Mon-Fri 08:00-18:00 Europe/Stockholm, CET = UTC+1, CEST =
UTC+2; DST starts 2025-03-30 02:00 CET and ends 2025-10-26 03:00 CEST), and the property tests
compare with an independent brute-force count minute by minute.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sourcing.performance import Calendar, business_deadline, business_elapsed

TZ = "Europe/Stockholm"
BIZ = Calendar.business(TZ, holidays=["2025-01-06", "2025-04-18", "2025-04-21"])
ALL_DAY = Calendar(tz=TZ, hours=((0, 1440),) * 7, holidays=(dt.date(2020, 1, 1),), name="allday")


def _ts(*values: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(list(values)).tz_localize(TZ)


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        ("2025-02-04 10:00", "2025-02-04 11:15", 75),       # same day
        ("2025-02-04 17:00", "2025-02-05 09:30", 150),      # overnight: 60 + 90
        ("2025-02-04 19:00", "2025-02-05 07:00", 0),        # entirely outside hours
        ("2025-02-07 16:00", "2025-02-10 10:00", 240),      # weekend: Fri 120 + Mon 120
        ("2025-02-08 12:00", "2025-02-09 12:00", 0),        # Saturday to Sunday
        ("2025-01-03 17:00", "2025-01-07 08:30", 90),       # Mon 6 Jan Epiphany: 60 + 0 + 30
        ("2025-04-17 17:00", "2025-04-22 09:00", 120),      # Easter: Good Fri + Easter Mon off
        ("2025-03-28 17:00", "2025-03-31 09:00", 120),      # across spring DST (weekend)
        ("2025-10-24 17:00", "2025-10-27 09:00", 120),      # across autumn DST (weekend)
        ("2025-02-03 08:00", "2025-02-10 08:00", 3000),     # one full week = 5 x 600
    ],
)
def test_business_hours_hand_cases(start, end, minutes):
    got = business_elapsed(_ts(start), _ts(end), BIZ)
    assert got[0] == pytest.approx(minutes)


def test_dst_days_are_23_and_25_hours():
    """A clock open all day counts real time: 2025-03-30 has 1380 minutes, 2025-10-26 has 1500."""
    s = _ts("2025-03-30 00:00", "2025-10-26 00:00", "2025-03-29 12:00")
    e = _ts("2025-03-31 00:00", "2025-10-27 00:00", "2025-03-31 12:00")
    expect = [1380, 1500, 47 * 60]
    assert business_elapsed(s, e, ALL_DAY) == pytest.approx(expect)
    assert business_elapsed(s, e, Calendar.always()) == pytest.approx(expect)


def test_weekend_clock_on_dst_sunday():
    """A 7-day 08:00-18:00 clock: Sat 2025-10-25 17:00 CEST to Sun 2025-10-26 09:00 CET = 60 + 60."""
    cal = Calendar.business(TZ, weekdays=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    s = pd.DatetimeIndex(["2025-10-25T15:00Z"])  # 17:00 CEST
    e = pd.DatetimeIndex(["2025-10-26T08:00Z"])  # 09:00 CET
    assert business_elapsed(s, e, cal)[0] == pytest.approx(120)


def test_utc_and_local_inputs_agree():
    s_local = _ts("2025-02-04 17:00")
    s_utc = pd.DatetimeIndex(["2025-02-04T16:00Z"])
    e = _ts("2025-02-05 09:30")
    assert business_elapsed(s_local, e, BIZ)[0] == business_elapsed(s_utc, e, BIZ)[0] == 150


def test_missing_and_negative():
    s = pd.DatetimeIndex(["2025-02-04T10:00Z", pd.NaT, "2025-02-05T10:00Z"], tz="UTC")
    e = pd.DatetimeIndex([pd.NaT, "2025-02-04T10:00Z", "2025-02-04T10:00Z"], tz="UTC")
    got = business_elapsed(s, e, BIZ)
    assert np.isnan(got[:2]).all()
    assert got[2] == pytest.approx(-600)  # one full business day backwards


def test_deadline_hand_cases():
    """8 business hours from Fri 17:00 = Mon 15:00; 0 minutes from Sat = Sat itself."""
    s = _ts("2025-01-17 17:00", "2025-02-08 12:00", "2025-01-03 17:00")
    d = business_deadline(s, [480, 0, 90], BIZ).tz_convert(TZ)
    assert list(d.strftime("%Y-%m-%d %H:%M")) == ["2025-01-20 15:00", "2025-02-08 12:00", "2025-01-07 08:30"]


def _brute(s: pd.Timestamp, e: pd.Timestamp, cal: Calendar) -> int:
    """Independent reference: count the business minutes one by one."""
    minutes = pd.date_range(s, e, freq="min", inclusive="left").tz_convert(cal.tz)
    hol = set(cal.holidays)
    n = 0
    for m in minutes:
        o, c = cal.hours[m.weekday()]
        tod = m.hour * 60 + m.minute
        if m.date() not in hol and o <= tod < c:
            n += 1
    return n


_instants = st.integers(min_value=0, max_value=14 * 24 * 60).map(
    lambda k: pd.Timestamp("2025-03-24T00:00Z") + pd.Timedelta(minutes=k))


@settings(max_examples=25)
@given(a=_instants, b=_instants, autumn=st.booleans())
def test_matches_brute_force(a, b, autumn):
    """Random whole-minute intervals in the two weeks around a DST change vs minute counting."""
    if autumn:
        a, b = a + pd.Timedelta(days=210), b + pd.Timedelta(days=210)  # around 2025-10-26
    s, e = min(a, b), max(a, b)
    cal = Calendar.business(TZ, start="07:30", end="19:00",
                            weekdays=("mon", "tue", "wed", "thu", "fri", "sun"),
                            holidays=["2025-03-26", "2025-10-22"])
    got = business_elapsed(pd.DatetimeIndex([s]), pd.DatetimeIndex([e]), cal)[0]
    assert got == pytest.approx(_brute(s, e, cal))


@settings(max_examples=40)
@given(a=_instants, m=st.floats(min_value=0, max_value=5000, allow_nan=False))
def test_deadline_inverts_elapsed(a, m):
    s = pd.DatetimeIndex([a])
    d = business_deadline(s, [m], BIZ)
    assert d[0] >= a
    assert business_elapsed(s, d, BIZ)[0] == pytest.approx(m, abs=1e-6)


def test_vectorised_equals_one_by_one():
    rng = np.random.default_rng(1)
    s = pd.DatetimeIndex(pd.Timestamp("2025-01-01T00:00Z") + pd.to_timedelta(rng.uniform(0, 3e7, 200), "s"))
    e = s + pd.to_timedelta(rng.uniform(0, 1e6, 200), "s")
    whole = business_elapsed(s, e, BIZ)
    single = [business_elapsed(s[i:i + 1], e[i:i + 1], BIZ)[0] for i in range(200)]
    assert whole == pytest.approx(single)


def test_bad_calendar_arguments():
    with pytest.raises(ValueError, match="valid choices"):
        Calendar.business(TZ, weekdays=("monday", "funday"))
    with pytest.raises(ValueError, match="time zone"):
        Calendar.business("Mars/Olympus")
    with pytest.raises(ValueError, match="HH:MM"):
        Calendar.business(TZ, start="8h")
    with pytest.raises(ValueError, match="same length"):
        business_elapsed(_ts("2025-01-01"), _ts("2025-01-01", "2025-01-02"), BIZ)
    closed = Calendar(tz=TZ, hours=((0, 0),) * 7, name="closed")
    with pytest.raises(ValueError, match="never runs"):
        business_deadline(_ts("2025-01-01"), [10], closed)
