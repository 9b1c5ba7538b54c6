"""Write data/sample-performance/: 24 months of the incumbent V01's service, seeded.

Run from the repository root:  ``python data/make_sample_performance.py``

V01 runs two lots of the sample tender: L1 Service desk (billed per ticket at its L1 bid price)
and L5 End-user computing (billed per device in service at bid price / 12 a month).  Ticket
volumes are scaled down (about 2,000 L1 and 400 L5 tickets a month) to keep the file small.

Planted problems (the tests find them):

* bad month 2026-02 on L1: slow resolution and a service-desk outage -> SLA breach and credits;
* L5 availability dip in 2025-06 -> a credit that is earned back (3 clean months follow);
* the 2026-02 L1 credit is not applied on the 2026-03 invoice (unapplied credit);
* L5 2026-04 invoice bills 9,400 devices while ~8,700 were in service (overbilled);
* L1 2025-05 invoice uses 24.90 EUR/ticket instead of 23.78 (wrong unit price);
* the L1 2026-07 line appears twice (second time on invoice INV-2026-07-V01-B: duplicate line);
* ticket data quality: 2 duplicate ticket ids, 2 resolved before opened, 1 blank opened,
  2 unknown priority (P5), 1 resolved without a first response.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sourcing.performance.calendar import Calendar, business_deadline  # noqa: E402

SEED = 20241101
TZ = "Europe/Stockholm"
OUT = ROOT / "data" / "sample-performance"
MONTHS = pd.period_range("2024-11", "2026-10", freq="M")
BAD_MONTH = "2026-02"


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def swedish_holidays(year: int) -> list[tuple[dt.date, str]]:
    e = easter(year)
    midsummer_eve = next(dt.date(year, 6, d) for d in range(19, 26) if dt.date(year, 6, d).weekday() == 4)
    all_saints = next(dt.date(year, 10, 31) + dt.timedelta(days=i) for i in range(7)
                      if (dt.date(year, 10, 31) + dt.timedelta(days=i)).weekday() == 5)
    return sorted([
        (dt.date(year, 1, 1), "New Year's Day"), (dt.date(year, 1, 6), "Epiphany"),
        (e - dt.timedelta(days=2), "Good Friday"), (e + dt.timedelta(days=1), "Easter Monday"),
        (dt.date(year, 5, 1), "May Day"), (e + dt.timedelta(days=39), "Ascension Day"),
        (dt.date(year, 6, 6), "National Day"), (midsummer_eve, "Midsummer Eve"),
        (midsummer_eve + dt.timedelta(days=1), "Midsummer Day"), (all_saints, "All Saints' Day"),
        (dt.date(year, 12, 24), "Christmas Eve"), (dt.date(year, 12, 25), "Christmas Day"),
        (dt.date(year, 12, 26), "Boxing Day"), (dt.date(year, 12, 31), "New Year's Eve"),
    ])


HOLIDAYS = [h for y in (2024, 2025, 2026, 2027) for h in swedish_holidays(y)]
BUSINESS = Calendar.business(TZ, holidays=[d for d, _ in HOLIDAYS], name="SE-business")
ALWAYS = Calendar.always(TZ)

# kpi, priority, target hours, calendar, target %
TERMS = {
    "L1": [("response", "P1", 0.25, "24x7", 95), ("response", "P2", 0.5, "SE-business", 95),
           ("response", "P3", 2, "SE-business", 90), ("response", "P4", 4, "SE-business", 90),
           ("resolution", "P1", 4, "24x7", 95), ("resolution", "P2", 8, "SE-business", 95),
           ("resolution", "P3", 24, "SE-business", 90), ("resolution", "P4", 40, "SE-business", 90),
           ("fulfilment", "", 40, "SE-business", 90), ("availability", "", None, "", 99.5)],
    "L5": [("response", "P1", 0.5, "24x7", 95), ("response", "P2", 1, "SE-business", 95),
           ("response", "P3", 4, "SE-business", 90), ("response", "P4", 8, "SE-business", 90),
           ("resolution", "P1", 8, "24x7", 95), ("resolution", "P2", 16, "SE-business", 95),
           ("resolution", "P3", 40, "SE-business", 90), ("resolution", "P4", 80, "SE-business", 90),
           ("fulfilment", "", 80, "SE-business", 90), ("availability", "", None, "", 99.0)],
}
# kpi, shortfall_pp threshold, credit % of monthly fee (priority blank = all priorities)
TIERS = [("response", 0, 1.0), ("response", 5, 2.0), ("resolution", 0, 2.0), ("resolution", 5, 4.0),
         ("resolution", 10, 6.0), ("fulfilment", 0, 2.0), ("fulfilment", 10, 4.0),
         ("availability", 0, 3.0), ("availability", 0.5, 6.0), ("availability", 1.5, 10.0)]
VOLUME = {"L1": 2000, "L5": 400}
PRIO_P = [0.02, 0.10, 0.50, 0.38]


def _fmt(ts: pd.Series) -> pd.Series:
    """Local ISO 8601 with offset, e.g. 2025-03-31T09:15:00+02:00 (blank for NaT)."""
    local = ts.dt.floor("s").dt.tz_convert(TZ)
    text = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    text = text.str[:-2] + ":" + text.str[-2:]
    return text.where(ts.notna(), "")


def _open_times(rng: np.random.Generator, month: pd.Period, n: int) -> pd.DatetimeIndex:
    """Opening instants weighted to working hours (rejection sampling, vectorised)."""
    start = month.start_time.tz_localize(TZ).tz_convert("UTC")
    end = (month + 1).start_time.tz_localize(TZ).tz_convert("UTC")
    span = (end - start).total_seconds()
    got = []
    while sum(len(g) for g in got) < n:
        cand = start + pd.to_timedelta(rng.uniform(0, span, size=3 * n), unit="s")
        loc = cand.tz_convert(TZ)
        work = (loc.day_of_week < 5) & (loc.hour >= 8) & (loc.hour < 18)
        keep = rng.uniform(size=len(cand)) < np.where(work, 1.0, 0.05)
        got.append(cand[keep])
    return got[0].append(got[1:])[:n]


def _durations(rng, opened, targets_h, cals, factor):
    """Instants reached after clock time = target * lognormal factor on each ticket's calendar."""
    mins = targets_h * 60.0 * factor
    out = pd.Series(pd.NaT, index=range(len(opened)), dtype="datetime64[ns, UTC]")
    for name, cal in (("24x7", ALWAYS), ("SE-business", BUSINESS)):
        m = cals == name
        if m.any():
            out[m] = business_deadline(opened[m], mins[m], cal)
    return out


def tickets(rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    seq = 0
    for lot in ("L1", "L5"):
        terms = pd.DataFrame(TERMS[lot], columns=["kpi", "priority", "target_hours", "calendar", "pct"])
        for month in MONTHS:
            n = int(rng.poisson(VOLUME[lot] * (1 + 0.002 * (month - MONTHS[0]).n)))
            opened = pd.Series(_open_times(rng, month, n))
            typ = np.where(rng.uniform(size=n) < 0.6, "incident", "request")
            pr = rng.choice(["P1", "P2", "P3", "P4"], size=n, p=PRIO_P)
            resp = terms[terms.kpi == "response"].set_index("priority")
            reso = terms[terms.kpi == "resolution"].set_index("priority")
            ful = terms[terms.kpi == "fulfilment"].iloc[0]
            bad = lot == "L1" and str(month) == BAD_MONTH
            f_resp = rng.lognormal(np.log(0.3), 0.4, size=n)
            f_res = rng.lognormal(np.log(0.35 if not bad else 0.85), 0.4 if not bad else 0.5, size=n)
            r_tgt = resp.loc[pr, "target_hours"].to_numpy()
            r_cal = resp.loc[pr, "calendar"].to_numpy()
            is_inc = typ == "incident"
            s_tgt = np.where(is_inc, reso.reindex(pr)["target_hours"].to_numpy(), ful.target_hours)
            s_cal = np.where(is_inc, reso.reindex(pr)["calendar"].to_numpy(), ful.calendar)
            first = _durations(rng, opened, r_tgt, r_cal, f_resp)
            resolved = _durations(rng, opened, s_tgt, s_cal, f_res)
            resolved = resolved.where(resolved >= first, first + pd.Timedelta(minutes=5))
            ids = [f"{lot}-{seq + i:06d}" for i in range(n)]
            seq += n
            frames.append(pd.DataFrame({"ticket_id": ids, "vendor_id": "V01", "lot_id": lot, "type": typ,
                                        "priority": pr, "opened": opened, "first_response": first,
                                        "resolved": resolved}))
    t = pd.concat(frames, ignore_index=True).sort_values("opened", kind="stable").reset_index(drop=True)
    asof = pd.Timestamp("2026-11-01").tz_localize(TZ).tz_convert("UTC") - pd.Timedelta(seconds=1)
    for c in ("first_response", "resolved"):
        t[c] = t[c].where(t[c] <= asof)
    t["status"] = np.where(t["resolved"].notna(), "closed", "open")
    return t


def plant_ticket_problems(t: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A handful of bad rows, as in a real export (see module docstring)."""
    t = t.copy()
    pick = rng.choice(np.flatnonzero((t["status"] == "closed").to_numpy()[: len(t) // 2]), 7, replace=False)
    a, b, c, d, e, f, g = (int(x) for x in pick)
    t.loc[a, "resolved"] = t.loc[a, "opened"] - pd.Timedelta(hours=3)   # resolved before opened
    t.loc[b, "resolved"] = t.loc[b, "opened"] - pd.Timedelta(days=1)
    t.loc[c, "priority"] = "P5"                                          # unknown priority
    t.loc[d, "priority"] = "P5"
    t.loc[e, "first_response"] = pd.NaT                                  # resolved, no response
    text = t.copy()
    for col in ("opened", "first_response", "resolved"):
        text[col] = _fmt(t[col])
    text.loc[f, "opened"] = ""                                           # blank opened
    dups = text.loc[[g, g]].copy()                                       # same id twice more
    dups["status"] = "closed"
    text = pd.concat([text.iloc[: g + 1], dups, text.iloc[g + 1:]], ignore_index=True)
    return text


def main() -> None:
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    t = tickets(rng)
    text = plant_ticket_problems(t, rng)
    text.to_csv(OUT / "tickets.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})

    pd.DataFrame({"vendor_id": "V01", "lot_id": ["L1", "L5"], "timezone": TZ,
                  "billing": ["per_unit", "per_unit_month"], "credit_cap_pct": [12.0, 10.0],
                  "earn_back_months": [0, 3], "credit_lag_months": [1, 1]}).to_csv(
        OUT / "contracts.csv", index=False)
    pd.DataFrame([{"calendar_id": "SE-business", "timezone": TZ, "mon": "08:00-18:00", "tue": "08:00-18:00",
                   "wed": "08:00-18:00", "thu": "08:00-18:00", "fri": "08:00-18:00", "sat": "", "sun": ""}]
                 ).to_csv(OUT / "calendars.csv", index=False)
    pd.DataFrame([{"calendar_id": "SE-business", "date": d.isoformat(), "name": n} for d, n in HOLIDAYS]
                 ).to_csv(OUT / "holidays.csv", index=False)
    terms = [{"vendor_id": "V01", "lot_id": lot, "kpi": k, "priority": p, "target_hours": h,
              "calendar_id": c, "target_pct": pct} for lot, rows in TERMS.items() for k, p, h, c, pct in rows]
    pd.DataFrame(terms).to_csv(OUT / "sla_terms.csv", index=False)
    tiers = [{"vendor_id": "V01", "lot_id": lot, "kpi": k, "priority": "", "shortfall_pp": s, "credit_pct": c}
             for lot in ("L1", "L5") for k, s, c in TIERS]
    pd.DataFrame(tiers).to_csv(OUT / "credit_schedule.csv", index=False)

    av = []
    for lot in ("L1", "L5"):
        for month in MONTHS:
            minutes = int(((month + 1).start_time - month.start_time).total_seconds() // 60) - 240
            down = float(np.round(rng.gamma(2.0, 20.0 if lot == "L1" else 60.0)))
            if lot == "L1" and str(month) == BAD_MONTH:
                down = 560.0   # a 9-hour service-desk platform outage
            if lot == "L5" and str(month) == "2025-06":
                down = 650.0
            av.append({"vendor_id": "V01", "lot_id": lot, "month": str(month),
                       "scheduled_minutes": minutes, "downtime_minutes": down})
    pd.DataFrame(av).to_csv(OUT / "availability.csv", index=False)
    devices = np.round(8500 * (1.01 ** (np.arange(len(MONTHS)) / 12)) + rng.normal(0, 40, len(MONTHS)))
    pd.DataFrame({"vendor_id": "V01", "lot_id": "L5", "month": [str(m) for m in MONTHS],
                  "quantity": devices}).to_csv(OUT / "volumes.csv", index=False)
    write_invoices()


def write_invoices() -> None:
    """Invoices from the rate card, measured volumes and credits owed, then the planted errors.

    Credits owed are computed by the package itself (the invoices are what a correct vendor
    would send); the planted errors are explicit deviations from that.
    """
    from sourcing import read_tender
    from sourcing.performance import monthly_kpis, read_performance, service_credits

    tender = read_tender(ROOT / "data" / "sample-tender")
    perf = read_performance(OUT)
    cr = service_credits(monthly_kpis(perf), rates=tender).monthly
    owed = cr.set_index(["lot_id", "month"])["credit_amount"]
    lines = []
    for r in cr.itertuples(index=False):
        price = round(r.monthly_price, 2)
        qty = float(r.quantity)
        if r.lot_id == "L5" and r.month == "2026-04":
            qty = 9400.0
        if r.lot_id == "L1" and r.month == "2025-05":
            price = 24.90
        prev = str(pd.Period(r.month, "M") - 1)
        credit = float(owed.get((r.lot_id, prev), 0.0))
        if r.lot_id == "L1" and prev == BAD_MONTH:
            credit = 0.0
        lines.append({"invoice_id": f"INV-{r.month}-V01", "vendor_id": "V01", "lot_id": r.lot_id,
                      "month": r.month, "quantity": qty, "unit_price": price,
                      "amount": round(qty * price, 2), "credit_applied": credit})
    inv = pd.DataFrame(lines).sort_values(["month", "lot_id"]).reset_index(drop=True)
    dup = inv.loc[(inv["lot_id"] == "L1") & (inv["month"] == "2026-07")].assign(
        invoice_id="INV-2026-07-V01-B", credit_applied=0.0)
    inv = pd.concat([inv, dup], ignore_index=True)
    inv.to_csv(OUT / "invoices.csv", index=False)


if __name__ == "__main__":
    main()
