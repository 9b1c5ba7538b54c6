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

from .calendar import business_deadline, business_elapsed
from .data import PerformanceData

__all__ = ["MonthlyKPIs", "ServiceCredits", "monthly_kpis", "service_credits"]

_KEYS = ["vendor_id", "lot_id"]


def _yyyymm(ts: pd.Series, tz: pd.Series) -> np.ndarray:
    """Local month of UTC timestamps as int year*12 + month-1 (-1 where NaT)."""
    out = np.full(len(ts), -1, dtype=np.int64)
    tzv = tz.to_numpy()
    for zone in pd.unique(tzv):
        m = (tzv == zone) & ts.notna().to_numpy()
        if m.any():
            local = pd.DatetimeIndex(ts[m]).tz_convert(zone)
            out[m] = local.year.to_numpy() * 12 + local.month.to_numpy() - 1
    return out


def _month_text(k: np.ndarray) -> np.ndarray:
    u, inv = np.unique(np.asarray(k, dtype=np.int64), return_inverse=True)
    text = np.array([f"{x // 12:04d}-{x % 12 + 1:02d}" for x in u] + [""], dtype=object)
    return text[inv.reshape(-1)] if len(u) else np.array([], dtype=object)


def _month_int(text: pd.Series) -> np.ndarray:
    s = text.astype(str)
    return s.str[:4].astype(int).to_numpy() * 12 + s.str[5:7].astype(int).to_numpy() - 1


def _month_end(k: int, tz: str) -> pd.Timestamp:
    y, m = divmod(k + 1, 12)
    return pd.Timestamp(year=int(y), month=int(m) + 1, day=1).tz_localize(tz).tz_convert("UTC")


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
    measurements: pd.DataFrame
    asof: pd.Timestamp
    data: PerformanceData = field(repr=False)

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
    """
    if not isinstance(data, PerformanceData):
        raise TypeError(f"data must be PerformanceData from read_performance, got {type(data).__name__}")
    asof = data.asof if asof is None else pd.Timestamp(asof)
    if asof.tzinfo is None:
        asof = asof.tz_localize("UTC")
    asof = asof.tz_convert("UTC")
    t = data.tickets.loc[data.tickets["used"] & (data.tickets["opened"] <= asof)].copy()
    for c in ("first_response", "resolved"):
        t[c] = t[c].where(t[c] <= asof)
    tz_of = data.contracts.set_index(_KEYS)["timezone"]
    t["tz"] = tz_of.reindex(pd.MultiIndex.from_frame(t[_KEYS])).to_numpy()
    meas = _measure(t, data, asof)
    kpis = _kpi_table(meas, data)
    summary = _summary(t, meas, kpis, asof)
    return MonthlyKPIs(kpis=kpis, summary=summary, measurements=meas, asof=asof, data=data)


def _measure(t: pd.DataFrame, data: PerformanceData, asof: pd.Timestamp) -> pd.DataFrame:
    terms = data.sla_terms
    base = t.loc[t["measurable"], ["ticket_id", *_KEYS, "type", "priority", "opened", "first_response",
                                   "resolved", "tz"]]
    parts = []
    for kpi, event, sel in (("response", "first_response", None), ("resolution", "resolved", "incident"),
                            ("fulfilment", "resolved", "request")):
        b = base if sel is None else base.loc[base["type"] == sel]
        tk = terms.loc[terms["kpi"] == kpi, [*_KEYS, "priority", "target_hours", "calendar_id"]]
        on = [*_KEYS, "priority"] if kpi != "fulfilment" else _KEYS
        if kpi == "fulfilment":
            tk = tk.drop(columns="priority")
        j = b.merge(tk, on=on, how="inner")
        j["kpi"] = kpi
        j["event"] = j[event]
        j["resolved_any"] = j["resolved"].notna()
        if kpi == "fulfilment":
            j["priority"] = ""
        parts.append(j)
    m = pd.concat(parts, ignore_index=True)
    deadline = pd.Series(pd.NaT, index=m.index, dtype="datetime64[ns, UTC]")
    elapsed = np.full(len(m), np.nan)
    until = m["event"].fillna(asof)
    for cid, idx in m.groupby("calendar_id").groups.items():
        cal = data.calendars[cid]
        deadline.loc[idx] = business_deadline(m.loc[idx, "opened"], m.loc[idx, "target_hours"] * 60.0, cal)
        elapsed[m.index.get_indexer(idx)] = business_elapsed(m.loc[idx, "opened"], until.loc[idx], cal)
    m["deadline"] = deadline
    m["elapsed_hours"] = elapsed / 60.0
    has = m["event"].notna()
    on_time = has & (m["event"] <= m["deadline"])
    due = m["deadline"] <= asof
    no_resp = (m["kpi"] == "response") & ~has & m["resolved_any"]
    breached = (has & ~on_time) | (~has & (due | no_resp))
    m["status"] = np.where(on_time, "met", np.where(breached, "breached", "pending"))
    at = m["event"].where(on_time, m["deadline"].where(m["deadline"] <= asof, asof))
    m["month_k"] = _yyyymm(at, m["tz"])
    m["month"] = _month_text(m["month_k"])
    m["still_open"] = ~m["resolved_any"]
    cols = ["ticket_id", *_KEYS, "kpi", "priority", "type", "opened", "deadline", "event", "status",
            "still_open", "target_hours", "elapsed_hours", "calendar_id", "month", "month_k"]
    return m[cols]


def _kpi_table(m: pd.DataFrame, data: PerformanceData) -> pd.DataFrame:
    done = m.loc[m["status"] != "pending"]
    g = (done.assign(met=done["status"] == "met")
         .groupby([*_KEYS, "month", "kpi", "priority"], sort=True)["met"].agg(["size", "sum"])
         .rename(columns={"size": "measured", "sum": "met"}).reset_index())
    g["measured"] = g["measured"].astype(float)
    g["met"] = g["met"].astype(float)
    a = data.availability
    if len(a):
        av = pd.DataFrame({"vendor_id": a["vendor_id"], "lot_id": a["lot_id"], "month": a["month"],
                           "kpi": "availability", "priority": "", "measured": a["scheduled_minutes"],
                           "met": a["scheduled_minutes"] - a["downtime_minutes"]})
        g = pd.concat([g, av], ignore_index=True)
    g["value"] = 100.0 * g["met"] / g["measured"]
    tgt = data.sla_terms[[*_KEYS, "kpi", "priority", "target_pct"]]
    g = g.merge(tgt, on=[*_KEYS, "kpi", "priority"], how="left")
    g = g.loc[g["target_pct"].notna()]  # availability rows without a target term are not KPIs
    g["meets"] = g["value"] >= g["target_pct"] - 1e-9
    g["shortfall_pp"] = np.maximum(g["target_pct"] - g["value"], 0.0).where(~g["meets"], 0.0)
    order = {"response": 0, "resolution": 1, "fulfilment": 2, "availability": 3}
    g = g.assign(_o=g["kpi"].map(order)).sort_values([*_KEYS, "month", "_o", "priority"])
    return g.drop(columns="_o").reset_index(drop=True)


def _summary(t: pd.DataFrame, m: pd.DataFrame, kpis: pd.DataFrame, asof: pd.Timestamp) -> pd.DataFrame:
    t = t.copy()
    t["open_k"] = _yyyymm(t["opened"], t["tz"])
    t["res_k"] = _yyyymm(t["resolved"], t["tz"])
    rows = []
    for (v, lot), tt in t.groupby(_KEYS, sort=True):
        tz = tt["tz"].iat[0]
        ks = [tt["open_k"].min(), _yyyymm(pd.Series([asof]), pd.Series([tz]))[0]]
        kk = kpis.loc[(kpis["vendor_id"] == v) & (kpis["lot_id"] == lot), "month"]
        if len(kk):
            mk = _month_int(kk)
            ks += [mk.min(), mk.max()]
        months = np.arange(min(ks), max(ks) + 1)
        ends = pd.DatetimeIndex([min(_month_end(k, tz), asof) for k in months])
        op = np.sort(tt["opened"].to_numpy(dtype="datetime64[ns]"))
        rs = np.sort(tt["resolved"].dropna().to_numpy(dtype="datetime64[ns]"))
        e = ends.tz_convert("UTC").tz_localize(None).to_numpy()
        backlog = np.searchsorted(op, e, side="left") - np.searchsorted(rs, e, side="left")
        inc = tt.loc[(tt["type"] == "incident") & tt["resolved"].notna()]
        hours = (inc["resolved"] - inc["opened"]).dt.total_seconds() / 3600.0
        mttr = hours.groupby(inc["res_k"]).mean()
        rows.append(pd.DataFrame({
            "vendor_id": v, "lot_id": lot, "month": _month_text(months), "month_k": months,
            "opened": tt["open_k"].value_counts().reindex(months, fill_value=0).to_numpy(),
            "resolved": tt["res_k"].value_counts().reindex(months, fill_value=0).to_numpy(),
            "backlog": backlog, "mttr_hours": mttr.reindex(months).to_numpy(),
        }))
    s = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["vendor_id", "lot_id", "month", "month_k", "opened", "resolved", "backlog", "mttr_hours"])
    br = m.loc[m["status"] == "breached"].groupby([*_KEYS, "month"])["ticket_id"].nunique()
    s["breaching"] = br.reindex(pd.MultiIndex.from_frame(s[[*_KEYS, "month"]]), fill_value=0).to_numpy()
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
        card was given, quantity, monthly_price (EUR/unit), fee_eur, credit_eur (net, EUR).
    detail : DataFrame
        The KPI rows that missed target with their tier (tier_shortfall_pp, credit_pct).
    """

    monthly: pd.DataFrame
    detail: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The monthly credit table."""
        return self.monthly

    @property
    def total_eur(self) -> float:
        """Net credits owed over all months, EUR (0 when no rate card was given)."""
        return float(self.monthly["credit_eur"].sum()) if "credit_eur" in self.monthly else 0.0

    def plot(self, ax=None, *, vendor_id: str | None = None, lot_id: str | None = None):
        """Monthly credits (see :func:`sourcing.plots.performance.plot_credits`)."""
        from ..plots.performance import plot_credits

        return plot_credits(self, ax=ax, vendor_id=vendor_id, lot_id=lot_id)


def rate_card(rates) -> pd.DataFrame:
    """Contract unit prices (EUR/unit/yr) as vendor_id, lot_id, unit_price from a Tender or frame."""
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
        Rate card (the tender's bids: vendor_id, lot_id, unit_price in EUR/unit/yr).  Without it
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
        s["fee_eur"] = (s["quantity"] * s["monthly_price"]).round(2)
        s["credit_eur"] = (s["fee_eur"] * s["net_credit_pct"] / 100.0).round(2)
    return ServiceCredits(monthly=s.drop(columns=["opened"]).reset_index(drop=True), detail=detail)


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
