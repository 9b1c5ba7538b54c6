"""Monthly SLA KPIs per vendor x lot, service credits and the breach report.

Measurement conventions (pinned, documented in ``data/README-performance.md``)
-------------------------------------------------------------------------------
* **Which tickets**: response targets apply to every ticket (incidents and requests) by
  priority; resolution targets to incidents by priority; the fulfilment target to requests.
* **When a ticket counts**: once, in the month its outcome became certain -- the month of the
  response/resolution when it was on time, the month of its *deadline* when it was late (the
  breach was certain then), whether it was later resolved or is still open at ``asof``.  Open
  tickets already past target therefore count as breaching; open tickets not yet due are
  *pending* and count in no compliance figure.  A resolved ticket without a first response
  counts as a response breach.
* **Months** are calendar months in the contract's time zone (``contracts.timezone``).
* **Compliance** = on-time / measured, percent; a KPI *meets* its target when compliance >=
  ``target_pct``.  Months without measured tickets have no row for that KPI (no breach).
* **Availability** = 100 x (scheduled - unplanned downtime) / scheduled minutes; its
  ``measured``/``met`` columns are minutes.
* **MTTR** = mean real (24x7) hours from opened to resolved of incidents resolved in the month.
* **Backlog** = tickets open at the month end (or at ``asof`` in the running month).
* **Service credit** per KPI row that misses target: the step tier with the largest
  ``shortfall_pp <= target_pct - compliance`` (tiers of the row's priority, else the KPI's blank-
  priority tiers); a month's credit is the sum over KPIs capped at ``credit_cap_pct``.  With
  ``earn_back_months = N > 0`` a month's credit is *earned back* (waived) when every KPI meets
  target in each of the next N months; until those months are observed it is *pending* and
  still owed.
* **Monthly fee** (the credit base) = measured volume x contract monthly price: bid
  ``unit_price`` per unit (billing ``per_unit``) or ``unit_price / 12`` per unit in service
  (``per_unit_month``).  Measured volume comes from ``volumes``; a lot without volume rows is
  measured by the tickets opened in the month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .calendar import _LocalDays, clock
from .data import PerformanceData

__all__ = ["MonthlyKPIs", "ServiceCredits", "monthly_kpis", "service_credits"]

_KEYS = ["vendor_id", "lot_id"]


def _month_text(k: np.ndarray) -> np.ndarray:
    u, inv = np.unique(np.asarray(k, dtype=np.int64), return_inverse=True)
    text = np.array([f"{x // 12:04d}-{x % 12 + 1:02d}" for x in u] + [""], dtype=object)
    return text[inv.reshape(-1)] if len(u) else np.array([], dtype=object)


def _month_int(text: pd.Series) -> np.ndarray:
    s = text.astype(str)
    return s.str[:4].astype(int).to_numpy() * 12 + s.str[5:7].astype(int).to_numpy() - 1


@dataclass
class MonthlyKPIs:
    """Monthly SLA figures.

    Attributes
    ----------
    kpis : DataFrame
        Long: vendor_id, lot_id, month, kpi, priority ('' = all), measured, met, value (percent),
        target_pct, meets, shortfall_pp.
    summary : DataFrame
        Wide, per vendor_id, lot_id, month: opened, resolved, backlog, mttr_hours, breaching
        (tickets with a breach counted in the month), response_pct, resolution_pct,
        fulfilment_pct, availability_pct (pooled over priorities), kpis_missed.
    measurements : DataFrame
        One row per ticket x KPI: status met|breached|pending, deadline, event, elapsed_hours.
    asof : Timestamp
        Reporting instant (UTC).
    """

    kpis: pd.DataFrame
    summary: pd.DataFrame
    asof: pd.Timestamp
    data: PerformanceData = field(repr=False)
    _m: _Measurements | None = field(default=None, repr=False)
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def measurements(self) -> pd.DataFrame:
        """One row per ticket x KPI (built on first use; millions of rows for big logs)."""
        if self._frame is None:
            self._frame = self._m.frame() if self._m is not None else pd.DataFrame()
        return self._frame

    def to_frame(self) -> pd.DataFrame:
        """The long KPI table."""
        return self.kpis

    def breaches(self) -> pd.DataFrame:
        """Breach report: every ticket x KPI breached, latest first, with how late it was."""
        m = self.measurements
        b = m.loc[m["status"] == "breached"].copy()
        b["hours_late"] = (b["elapsed_hours"] - b["target_hours"]).round(2)
        cols = ["ticket_id", "vendor_id", "lot_id", "month", "kpi", "priority", "opened", "deadline",
                "event", "still_open", "target_hours", "elapsed_hours", "hours_late"]
        return b[cols].sort_values(["month", "hours_late"], ascending=[False, False]).reset_index(drop=True)

    def plot(self, ax=None, *, kpi: str = "resolution", vendor_id: str | None = None,
             lot_id: str | None = None):
        """Monthly compliance vs target (see :func:`sourcing.plots.performance.plot_compliance`)."""
        from ..plots.performance import plot_compliance

        return plot_compliance(self, ax=ax, kpi=kpi, vendor_id=vendor_id, lot_id=lot_id)


def monthly_kpis(data: PerformanceData, *, asof: str | pd.Timestamp | None = None) -> MonthlyKPIs:
    """Monthly KPIs per vendor x lot from validated performance data.

    Parameters
    ----------
    data : PerformanceData
        From :func:`read_performance`.
    asof : timestamp, optional
        Reporting instant; timestamps after it are treated as not yet happened.  Default: the
        latest timestamp in the ticket log.  Naive values are read as UTC.

    Notes
    -----
    Vectorised over tickets: vendor, lot, priority and month become integer codes, targets are
    looked up in small (kpi, contract, priority) arrays, clocks run once per calendar, and the
    monthly counts are ``numpy.bincount`` over a combined integer key.
    """
    if not isinstance(data, PerformanceData):
        raise TypeError(f"data must be PerformanceData from read_performance, got {type(data).__name__}")
    if asof is None:
        asof = data.asof  # its own message when no ticket is usable
    else:
        try:
            asof = pd.Timestamp(asof)
        except ValueError as err:
            raise ValueError(f"asof must be a timestamp such as '2026-10-31T23:59Z', got {asof!r}") from err
    if not 1970 <= asof.year < 2200:  # beyond it nanosecond clocks overflow
        raise ValueError(f"asof must be a time stamp in the years 1970 to 2199, got {asof}")
    if asof.tzinfo is None:
        asof = asof.tz_localize("UTC")
    asof = asof.tz_convert("UTC")
    tk = _TicketArrays(data, asof)
    meas = _measure(tk, data, asof)
    kpis = _kpi_table(meas, tk, data)
    summary = _summary(tk, meas, kpis)
    return MonthlyKPIs(kpis=kpis, summary=summary, asof=asof, data=data, _m=meas)


_NAT = np.iinfo(np.int64).min
_KPI_CODES = ("response", "resolution", "fulfilment")
_PRIO = ("P1", "P2", "P3", "P4", "")


def _ns(s: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(s).as_unit("ns").asi8


class _TicketArrays:
    """The used tickets as integer-coded numpy arrays."""

    def __init__(self, data: PerformanceData, asof: pd.Timestamp):
        t = data.tickets
        a = asof.value
        opened = _ns(t["opened"])
        sel = t["used"].to_numpy(dtype=bool) & (opened != _NAT) & (opened <= a)
        self.pos = np.flatnonzero(sel)
        self.opened = opened[sel]
        self.asof = a
        self.first = _ns(t["first_response"])[sel]
        self.resolved = _ns(t["resolved"])[sel]
        for arr in (self.first, self.resolved):
            arr[arr > a] = _NAT
        con = data.contracts
        self.pairs = con[_KEYS].reset_index(drop=True)
        self.tz = con["timezone"].to_numpy()
        vc, vu = pd.factorize(t["vendor_id"].to_numpy()[sel])
        lc, lu = pd.factorize(t["lot_id"].to_numpy()[sel])
        lookup = {(v, lot): i for i, (v, lot) in enumerate(zip(con["vendor_id"], con["lot_id"], strict=True))}
        table = np.array([lookup.get((v, lot), -1) for v in vu for lot in lu], dtype=np.int64)
        self.pair = table[vc * len(lu) + lc] if len(vc) else np.zeros(0, np.int64)
        self.prio = pd.Index(_PRIO[:4]).get_indexer(t["priority"].to_numpy()[sel])
        self.incident = t["type"].to_numpy()[sel] == "incident"
        self.measurable = t["measurable"].to_numpy(dtype=bool)[sel]
        self.ticket_id = t["ticket_id"].to_numpy()[sel]

    def month(self, ns: np.ndarray, pair: np.ndarray) -> np.ndarray:
        """Local month code year*12 + month-1 in each contract's zone (-1 where NaT)."""
        out = np.full(len(ns), -1, dtype=np.int64)
        ok = ns != _NAT
        for zone in pd.unique(self.tz):
            m = ok & (self.tz[pair] == zone) if len(self.tz) > 1 else ok
            if m.any():
                out[m] = _local_month(ns[m], zone)
        return out


def _local_month(ns: np.ndarray, zone: str) -> np.ndarray:
    """Month codes via the local day of each instant (see ``calendar._LocalDays``)."""
    d0, d1 = int(ns.min() // 86_400_000_000_000) - 1, int(ns.max() // 86_400_000_000_000) + 1
    days = _LocalDays(zone, d0, d1)
    dates = pd.DatetimeIndex((np.arange(d0, d1 + 1, dtype=np.int64) * 86_400_000_000_000).view("M8[ns]"))
    month_of_day = dates.year.to_numpy() * 12 + dates.month.to_numpy() - 1
    return month_of_day[days.index(ns)]


@dataclass
class _Measurements:
    """Ticket x KPI measurements as arrays; ``frame()`` builds the DataFrame on demand."""

    tk: _TicketArrays
    cal_ids: list
    idx: np.ndarray       # row in _TicketArrays
    kpi: np.ndarray       # index into _KPI_CODES
    pair: np.ndarray      # contract row
    prio: np.ndarray      # index into _PRIO (4 = all, fulfilment)
    status: np.ndarray    # 0 met, 1 breached, 2 pending
    month_k: np.ndarray
    tmin: np.ndarray
    ccode: np.ndarray
    deadline: np.ndarray
    event: np.ndarray
    elapsed: np.ndarray

    def frame(self) -> pd.DataFrame:
        tk = self.tk
        months = np.flatnonzero(np.bincount(self.month_k - self.month_k.min())) + self.month_k.min() \
            if len(self.month_k) else np.zeros(0, np.int64)
        utc = lambda a: pd.DatetimeIndex(a.view("M8[ns]")).tz_localize("UTC")  # noqa: E731
        cat = pd.Categorical.from_codes
        return pd.DataFrame({
            "ticket_id": pd.Series(tk.ticket_id[self.idx], dtype=object),
            "vendor_id": _coded(tk.pairs["vendor_id"], self.pair),
            "lot_id": _coded(tk.pairs["lot_id"], self.pair),
            "kpi": cat(self.kpi, list(_KPI_CODES), validate=False),
            "priority": cat(self.prio, list(_PRIO), validate=False),
            "type": cat(np.where(tk.incident[self.idx], 0, 1), ["incident", "request"], validate=False),
            "opened": utc(tk.opened[self.idx]), "deadline": utc(self.deadline), "event": utc(self.event),
            "status": cat(self.status, ["met", "breached", "pending"], validate=False),
            "still_open": tk.resolved[self.idx] == _NAT,
            "target_hours": self.tmin / 60.0, "elapsed_hours": self.elapsed / 60.0,
            "calendar_id": cat(self.ccode, self.cal_ids, validate=False),
            "month": cat(np.searchsorted(months, self.month_k), list(_month_text(months)), validate=False),
            "month_k": self.month_k,
        })


def _term_arrays(data: PerformanceData, npair: int):
    """Targets (minutes), calendar codes and target % by (kpi, pair, priority)."""
    target = np.full((3, npair, 5), np.nan)
    cal = np.zeros((3, npair, 5), dtype=np.int64)
    cal_ids = list(data.calendars)
    pair_of = {(v, lot): i for i, (v, lot) in enumerate(zip(data.contracts["vendor_id"],
                                                          data.contracts["lot_id"], strict=True))}
    for r in data.sla_terms.itertuples(index=False):  # loop over contract terms, not tickets
        if r.kpi not in _KPI_CODES or (r.vendor_id, r.lot_id) not in pair_of:
            continue
        k, p = _KPI_CODES.index(r.kpi), pair_of[(r.vendor_id, r.lot_id)]
        prios = slice(None) if r.kpi == "fulfilment" else _PRIO.index(r.priority)
        target[k, p, prios] = r.target_hours * 60.0
        cal[k, p, prios] = cal_ids.index(r.calendar_id)
    return target, cal, cal_ids


def _measure(tk: _TicketArrays, data: PerformanceData, asof: pd.Timestamp) -> _Measurements:
    npair = len(tk.pairs)
    target, cal, cal_ids = _term_arrays(data, npair)
    ok = tk.measurable & (tk.pair >= 0) & (tk.prio >= 0)
    parts = []
    for k, sel, event in ((0, ok, tk.first), (1, ok & tk.incident, tk.resolved),
                          (2, ok & ~tk.incident, tk.resolved)):
        i = np.flatnonzero(sel)
        tm = target[k, tk.pair[i], tk.prio[i]]
        keep = ~np.isnan(tm)
        i = i[keep]
        parts.append((np.full(len(i), k), i, tm[keep], cal[k, tk.pair[i], tk.prio[i]], event[i]))
    kpi, idx, tmin, ccode, event = (np.concatenate([p[j] for p in parts]) for j in range(5))
    opened = tk.opened[idx]
    deadline = np.full(len(idx), _NAT)
    elapsed = np.full(len(idx), np.nan)
    until = np.where(event != _NAT, event, tk.asof)
    for c in np.flatnonzero(np.bincount(ccode, minlength=1)):  # loop over calendars, not tickets
        m = ccode == c
        deadline[m], elapsed[m] = clock(opened[m], until[m], tmin[m], data.calendars[cal_ids[c]])
    has = event != _NAT
    on_time = has & (event <= deadline)
    no_resp = (kpi == 0) & ~has & (tk.resolved[idx] != _NAT)
    breached = (has & ~on_time) | (~has & ((deadline <= tk.asof) | no_resp))
    status = np.where(on_time, 0, np.where(breached, 1, 2))
    at = np.where(on_time, event, np.minimum(deadline, tk.asof))
    pair = tk.pair[idx]
    month_k = tk.month(at, pair)
    prio = np.where(kpi == 2, 4, tk.prio[idx])
    return _Measurements(tk, cal_ids, idx, kpi, pair, prio, status, month_k, tmin, ccode, deadline,
                         event, elapsed)


def _coded(values: pd.Series, pair: np.ndarray) -> pd.Categorical:
    """values[pair] as a Categorical (cheap for millions of rows)."""
    codes, uniques = pd.factorize(values.to_numpy())
    return pd.Categorical.from_codes(codes[pair], list(uniques), validate=False)


def _kpi_table(m: _Measurements, tk: _TicketArrays, data: PerformanceData) -> pd.DataFrame:
    npair = len(tk.pairs)
    done = m.status != 2
    cols = ["vendor_id", "lot_id", "month", "kpi", "priority", "measured", "met"]
    if done.any():
        k0 = int(m.month_k[done].min())
        nm = int(m.month_k[done].max()) - k0 + 1
        key = (((m.kpi * npair + m.pair) * 5 + m.prio) * nm + (m.month_k - k0))[done]
        size = 3 * npair * 5 * nm
        measured = np.bincount(key, minlength=size)
        met = np.bincount(key, weights=(m.status[done] == 0), minlength=size)
        nz = np.flatnonzero(measured)
        rest, mo = np.divmod(nz, nm)
        rest, pr = np.divmod(rest, 5)
        kp, pa = np.divmod(rest, npair)
        g = pd.DataFrame({"vendor_id": tk.pairs["vendor_id"].to_numpy()[pa],
                          "lot_id": tk.pairs["lot_id"].to_numpy()[pa], "month": _month_text(mo + k0),
                          "kpi": np.array(_KPI_CODES, dtype=object)[kp],
                          "priority": np.array(_PRIO, dtype=object)[pr],
                          "measured": measured[nz].astype(float), "met": met[nz]})
    else:
        g = pd.DataFrame({c: pd.Series(dtype=float if c in ("measured", "met") else object) for c in cols})
    a = data.availability
    if len(a):
        av = pd.DataFrame({"vendor_id": a["vendor_id"], "lot_id": a["lot_id"], "month": a["month"],
                           "kpi": "availability", "priority": "", "measured": a["scheduled_minutes"],
                           "met": a["scheduled_minutes"] - a["downtime_minutes"]})
        g = pd.concat([g, av], ignore_index=True)
    g = g.astype({"vendor_id": object, "lot_id": object, "month": object, "kpi": object, "priority": object})
    g["value"] = 100.0 * g["met"] / g["measured"]
    tgt = data.sla_terms[[*_KEYS, "kpi", "priority", "target_pct"]].astype(
        {"vendor_id": object, "lot_id": object, "kpi": object, "priority": object})
    g = g.merge(tgt, on=[*_KEYS, "kpi", "priority"], how="left")
    g = g.loc[g["target_pct"].notna()]  # availability rows without a target term are not KPIs
    g["meets"] = g["value"] >= g["target_pct"] - 1e-9
    g["shortfall_pp"] = np.maximum(g["target_pct"] - g["value"], 0.0).where(~g["meets"], 0.0)
    order = {"response": 0, "resolution": 1, "fulfilment": 2, "availability": 3}
    g = g.assign(_o=g["kpi"].map(order)).sort_values([*_KEYS, "month", "_o", "priority"])
    return g.drop(columns="_o").reset_index(drop=True)


def _summary(tk: _TicketArrays, m: _Measurements, kpis: pd.DataFrame) -> pd.DataFrame:
    npair = len(tk.pairs)
    known = tk.pair >= 0
    pair = tk.pair[known]
    open_k = tk.month(tk.opened[known], pair)
    res_ns = tk.resolved[known]
    res_k = tk.month(res_ns, pair)
    asof_k = tk.month(np.full(npair, tk.asof), np.arange(npair))
    ks = [open_k[open_k >= 0], asof_k]
    if len(kpis):
        ks.append(_month_int(kpis["month"]))
    allk = np.concatenate(ks)
    k0, nm = int(allk.min()), int(allk.max() - allk.min() + 1)
    size = npair * nm
    opened = np.bincount(pair * nm + open_k - k0, minlength=size)
    r = res_k >= 0
    resolved = np.bincount(pair[r] * nm + res_k[r] - k0, minlength=size)
    backlog = (np.cumsum(opened.reshape(npair, nm), axis=1)
               - np.cumsum(resolved.reshape(npair, nm), axis=1)).reshape(-1)
    inc = r & tk.incident[known]
    hours = (res_ns[inc] - tk.opened[known][inc]) / 3.6e12
    key_inc = pair[inc] * nm + res_k[inc] - k0
    n_inc = np.bincount(key_inc, minlength=size)
    sum_h = np.bincount(key_inc, weights=hours, minlength=size)
    mttr = np.divide(sum_h, n_inc, out=np.full(size, np.nan), where=n_inc > 0)
    b = m.status == 1
    if b.any():
        key_b = np.unique((m.pair[b] * nm + m.month_k[b] - k0) * (len(tk.opened) + 1) + m.idx[b])
        breaching = np.bincount(key_b // (len(tk.opened) + 1), minlength=size)
    else:
        breaching = np.zeros(size, dtype=np.int64)
    pa, mo = np.divmod(np.arange(size), nm)
    s = pd.DataFrame({"vendor_id": tk.pairs["vendor_id"].to_numpy()[pa],
                      "lot_id": tk.pairs["lot_id"].to_numpy()[pa],
                      "month": _month_text(mo + k0), "month_k": mo + k0, "opened": opened,
                      "resolved": resolved, "backlog": backlog, "mttr_hours": mttr,
                      "breaching": breaching})
    # a contract's rows run from its first ticket or KPI month to the asof month
    first = np.full(npair, np.iinfo(np.int64).max)
    np.minimum.at(first, pair[open_k >= 0], open_k[open_k >= 0])
    if len(kpis):
        pk = tk.pairs.reset_index().merge(kpis[_KEYS].assign(k=_month_int(kpis["month"])), on=_KEYS)
        np.minimum.at(first, pk["index"].to_numpy(), pk["k"].to_numpy())
    last = asof_k
    if len(kpis):
        np.maximum.at(last, pk["index"].to_numpy(), pk["k"].to_numpy())
    keep = (s["month_k"].to_numpy() >= first[pa]) & (s["month_k"].to_numpy() <= last[pa])
    s = s.loc[keep].reset_index(drop=True)
    pooled = kpis.groupby([*_KEYS, "month", "kpi"])[["measured", "met"]].sum()
    pooled = (100.0 * pooled["met"] / pooled["measured"]).unstack("kpi")
    idx = pd.MultiIndex.from_frame(s[[*_KEYS, "month"]])
    for k in ("response", "resolution", "fulfilment", "availability"):
        s[f"{k}_pct"] = pooled[k].reindex(idx).to_numpy() if k in pooled else np.nan
    missed = (~kpis["meets"]).groupby([kpis[c] for c in (*_KEYS, "month")]).sum()
    s["kpis_missed"] = missed.reindex(idx, fill_value=0).to_numpy().astype(int)
    return s


# ---------------------------------------------------------------------- credits
@dataclass
class ServiceCredits:
    """Service credits owed.

    Attributes
    ----------
    monthly : DataFrame
        Per vendor_id, lot_id, month: kpis_missed, credit_pct_gross (sum of tiers), credit_pct
        (after the cap), earn_back (none|owed|pending|earned back), net_credit_pct and, when a rate
        card was given, quantity, monthly_price (tender currency per unit), fee, credit_amount
        (net, tender currency).
    detail : DataFrame
        The KPI rows that missed target with their tier (tier_shortfall_pp, credit_pct).
    currency : str
        Currency of the money columns: the rate card's tender currency ("" without a rate card).
    """

    monthly: pd.DataFrame
    detail: pd.DataFrame
    currency: str = ""

    def to_frame(self) -> pd.DataFrame:
        """The monthly credit table."""
        return self.monthly

    @property
    def total(self) -> float:
        """Net credits owed over all months, tender currency (0 when no rate card was given)."""
        return float(self.monthly["credit_amount"].sum()) if "credit_amount" in self.monthly else 0.0

    def plot(self, ax=None, *, vendor_id: str | None = None, lot_id: str | None = None):
        """Monthly credits (see :func:`sourcing.plots.performance.plot_credits`)."""
        from ..plots.performance import plot_credits

        return plot_credits(self, ax=ax, vendor_id=vendor_id, lot_id=lot_id)


def rate_card(rates) -> pd.DataFrame:
    """Contract unit prices (tender currency per unit per year):
    vendor_id, lot_id, unit_price from a Tender or frame."""
    bids = getattr(rates, "bids", rates)
    if not isinstance(bids, pd.DataFrame) or not {"vendor_id", "lot_id", "unit_price"} <= set(bids.columns):
        raise TypeError("rates must be a Tender or a DataFrame with columns vendor_id, lot_id, unit_price")
    return bids[["vendor_id", "lot_id", "unit_price"]].drop_duplicates(_KEYS)


def credit_tiers(shortfall_pp: np.ndarray, thresholds: np.ndarray, credit_pct: np.ndarray) -> np.ndarray:
    """Step-tier credit (percent) for each shortfall: the tier with the largest threshold <= shortfall.

    ``shortfall_pp <= 0`` (target met) gives 0; a shortfall below the lowest threshold gives 0.
    """
    order = np.argsort(thresholds, kind="stable")
    th, cp = np.asarray(thresholds, float)[order], np.asarray(credit_pct, float)[order]
    s = np.asarray(shortfall_pp, float)
    i = np.searchsorted(th, s, side="right") - 1
    out = np.where(i >= 0, cp[np.clip(i, 0, None)], 0.0) if len(th) else np.zeros_like(s)
    return np.where(s > 0, out, 0.0)


def service_credits(kpis: MonthlyKPIs, *, rates=None) -> ServiceCredits:
    """Service credits owed per vendor x lot x month from the credit schedule.

    Parameters
    ----------
    kpis : MonthlyKPIs
        From :func:`monthly_kpis`.
    rates : Tender or DataFrame, optional
        Rate card (the tender's bids: vendor_id, lot_id, unit_price in tender currency per unit
        per year).  Without it
        credits are given in percent of the monthly fee only.
    """
    if not isinstance(kpis, MonthlyKPIs):
        raise TypeError(f"kpis must be MonthlyKPIs from monthly_kpis, got {type(kpis).__name__}")
    data = kpis.data
    k = kpis.kpis
    miss = k.loc[~k["meets"]].reset_index(drop=True)
    sched = data.credit_schedule
    credit = np.zeros(len(miss))
    tier = np.full(len(miss), np.nan)
    for (v, lot, kpi, pr), idx in miss.groupby([*_KEYS, "kpi", "priority"]).groups.items():
        s = sched.loc[(sched["vendor_id"] == v) & (sched["lot_id"] == lot) & (sched["kpi"] == kpi)]
        s = s.loc[s["priority"] == pr] if (s["priority"] == pr).any() else s.loc[s["priority"] == ""]
        pos = miss.index.get_indexer(idx)
        sf = miss["shortfall_pp"].to_numpy()[pos]
        credit[pos] = credit_tiers(sf, s["shortfall_pp"].to_numpy(), s["credit_pct"].to_numpy())
        th = np.sort(s["shortfall_pp"].to_numpy())
        j = np.searchsorted(th, sf, side="right") - 1
        tier[pos] = np.where(j >= 0, th[np.clip(j, 0, None)] if len(th) else np.nan, np.nan)
    detail = miss.assign(tier_shortfall_pp=tier, credit_pct=credit)
    s = kpis.summary[[*_KEYS, "month", "month_k", "opened", "kpis_missed"]].copy()
    gross = detail.groupby([*_KEYS, "month"])["credit_pct"].sum()
    idx = pd.MultiIndex.from_frame(s[[*_KEYS, "month"]])
    s["credit_pct_gross"] = gross.reindex(idx, fill_value=0.0).to_numpy()
    con = data.contracts.set_index(_KEYS)
    cidx = pd.MultiIndex.from_frame(s[_KEYS])
    cap = con["credit_cap_pct"].reindex(cidx).to_numpy()
    s["credit_pct"] = np.minimum(s["credit_pct_gross"].to_numpy(), cap)
    s["earn_back"] = _earn_back(s, con["earn_back_months"].reindex(cidx).to_numpy().astype(int))
    s["net_credit_pct"] = s["credit_pct"].where(s["earn_back"] != "earned back", 0.0)
    if rates is not None:
        rc = rate_card(rates).set_index(_KEYS)["unit_price"]
        annual = rc.reindex(cidx).to_numpy()
        missing = np.isnan(annual)
        if missing.any():
            pairs = sorted(set(map(tuple, s.loc[missing, _KEYS].to_numpy())))
            raise ValueError("rates has no unit_price for " + ", ".join(f"{v} x {lot}" for v, lot in pairs))
        per_month = (con["billing"].reindex(cidx).to_numpy() == "per_unit_month")
        s["quantity"] = _measured_volume(s, data)
        s["monthly_price"] = np.where(per_month, annual / 12.0, annual)
        s["fee"] = (s["quantity"] * s["monthly_price"]).round(2)
        s["credit_amount"] = (s["fee"] * s["net_credit_pct"] / 100.0).round(2)
    return ServiceCredits(monthly=s.drop(columns=["opened"]).reset_index(drop=True), detail=detail,
                          currency=str(getattr(rates, "currency", "") or ""))


def _measured_volume(s: pd.DataFrame, data: PerformanceData) -> np.ndarray:
    vol = data.volumes.set_index([*_KEYS, "month"])["quantity"]
    idx = pd.MultiIndex.from_frame(s[[*_KEYS, "month"]])
    q = vol.reindex(idx).to_numpy()
    has_lot = pd.MultiIndex.from_frame(s[_KEYS]).isin(pd.MultiIndex.from_frame(data.volumes[_KEYS]))
    return np.where(has_lot, np.nan_to_num(q, nan=0.0), s["opened"].to_numpy().astype(float))


def _earn_back(s: pd.DataFrame, n: np.ndarray) -> np.ndarray:
    """none | owed | pending | earned back, per row (rows sorted by vendor, lot, month)."""
    out = np.where(s["credit_pct"].to_numpy() > 0, "owed", "none").astype(object)
    clean = s["kpis_missed"].to_numpy() == 0
    grp = s.groupby(_KEYS, sort=False).ngroup().to_numpy()
    pos = s.groupby(_KEYS, sort=False).cumcount().to_numpy()
    size = s.groupby(_KEYS, sort=False)["month"].transform("size").to_numpy()
    nmax = int(n.max()) if len(n) else 0
    all_clean = np.ones(len(s), bool)
    observed = np.zeros(len(s), int)
    for step in range(1, nmax + 1):  # loop over months of the window, not tickets
        j = np.arange(len(s)) + step
        inside = (pos + step < size) & (step <= n)
        jj = np.clip(j, 0, len(s) - 1)
        ok = np.where(inside, clean[jj] & (grp[jj] == grp), True)
        all_clean &= ok
        observed += inside
    has_credit = out == "owed"
    window = n > 0
    out[has_credit & window & all_clean & (observed >= n)] = "earned back"
    out[has_credit & window & all_clean & (observed < n)] = "pending"
    return out
