"""Figures of vendor performance: compliance, availability, credits, control chart, scorecard.

Every function takes a result object of :mod:`sourcing.performance` and an optional ``ax`` and
returns the Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import present as fmt
from ._style import get_ax, money_axis, name_of

__all__ = [
    "plot_availability",
    "plot_compliance",
    "plot_control_chart",
    "plot_credits",
    "plot_invoice_audit",
    "plot_scorecard",
]

_RAG = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828"}


def _pick(frame: pd.DataFrame, vendor_id: str | None, lot_id: str | None, what: str) -> pd.DataFrame:
    pairs = frame[["vendor_id", "lot_id"]].drop_duplicates()
    if pairs.empty:
        raise ValueError(f"nothing to plot: no {what} rows")
    if vendor_id is None:
        vendor_id = pairs["vendor_id"].iat[0]
    if lot_id is None:
        lots = pairs.loc[pairs["vendor_id"] == vendor_id, "lot_id"]
        if lots.empty:
            valid = ", ".join(sorted(pairs["vendor_id"]))
            raise ValueError(f"unknown vendor_id {vendor_id!r}; valid: {valid}")
        lot_id = lots.iat[0]
    sel = frame.loc[(frame["vendor_id"] == vendor_id) & (frame["lot_id"] == lot_id)]
    if sel.empty:
        valid = ", ".join(f"{v}/{lot}" for v, lot in pairs.itertuples(index=False))
        raise ValueError(f"no {what} for vendor {vendor_id!r} lot {lot_id!r}; valid: {valid}")
    return sel


def _months_axis(ax, months) -> None:
    months = list(months)
    step = max(1, len(months) // 12)
    ax.set_xticks(range(0, len(months), step))
    ax.set_xticklabels(months[::step], rotation=45, ha="right")
    ax.set_xlabel("Month")


def plot_compliance(kpis, ax=None, *, kpi: str = "resolution", vendor_id: str | None = None,
                    lot_id: str | None = None, names=None):
    """Monthly compliance (percent on time) per priority against the target; *names* maps
    vendor and lot ids to the names in the title."""
    valid = ("response", "resolution", "fulfilment", "availability")
    if kpi not in valid:
        raise ValueError(f"unknown kpi {kpi!r}; valid choices: {', '.join(valid)}")
    if kpi == "availability":
        return plot_availability(kpis, ax=ax, vendor_id=vendor_id, lot_id=lot_id, names=names)
    k = _pick(kpis.kpis, vendor_id, lot_id, "KPI")
    v, lot = k["vendor_id"].iat[0], k["lot_id"].iat[0]
    k = k.loc[k["kpi"] == kpi]
    months = sorted(kpis.summary.loc[(kpis.summary["vendor_id"] == v) & (kpis.summary["lot_id"] == lot),
                                     "month"])
    pos = {m: i for i, m in enumerate(months)}
    ax = get_ax(ax)
    for i, (pr, g) in enumerate(k.groupby("priority", sort=True)):
        x = g["month"].map(pos)
        line = ax.plot(x, g["value"], marker="o", ms=3, label=f"{pr or 'all'} actual")[0]
        ax.step(x, g["target_pct"], where="mid", ls="--", color=line.get_color(), alpha=0.7,
                label=f"{pr or 'all'} target" if i < 4 else None)
        miss = ~g["meets"]
        ax.scatter(x[miss], g["value"][miss], color=_RAG["red"], zorder=3, s=30)
    _months_axis(ax, months)
    ax.set_ylabel(f"{kpi.capitalize()} within target (%)")
    ax.set_title(f"{kpi.capitalize()} compliance vs target - {name_of(v, names)}, "
                 f"{name_of(lot, names)} (red = missed)")
    ax.legend(fontsize="small", ncol=2)
    return ax


def plot_availability(kpis, ax=None, *, vendor_id: str | None = None, lot_id: str | None = None,
                      names=None):
    """Monthly availability (percent of scheduled minutes) against the target."""
    k = kpis.kpis.loc[kpis.kpis["kpi"] == "availability"]
    k = _pick(k, vendor_id, lot_id, "availability")
    ax = get_ax(ax)
    x = np.arange(len(k))
    colors = [_RAG["green"] if m else _RAG["red"] for m in k["meets"]]
    ax.bar(x, k["value"], color=colors)
    ax.step(x, k["target_pct"], where="mid", ls="--", color="black", label="target")
    lo = min(k["value"].min(), k["target_pct"].min())
    ax.set_ylim(max(0.0, lo - 0.5), 100.05)
    _months_axis(ax, k["month"])
    ax.set_ylabel("Availability (% of scheduled minutes)")
    ax.set_title(f"Availability - {name_of(k['vendor_id'].iat[0], names)}, "
                 f"{name_of(k['lot_id'].iat[0], names)} "
                 "(red = below target)")
    ax.legend(fontsize="small")
    return ax


def plot_credits(credits, ax=None, *, vendor_id: str | None = None, lot_id: str | None = None,
                 names=None):
    """Service credits owed per month (money when a rate card was given, else percent of fee)."""
    m = _pick(credits.monthly, vendor_id, lot_id, "credit")
    ax = get_ax(ax)
    x = np.arange(len(m))
    eur = "credit_amount" in m
    if eur:
        gross = (m["fee"] * m["credit_pct"] / 100.0).to_numpy()
        ax.bar(x, gross, color="#bbbbbb", label="credit before earn-back")
        ax.bar(x, m["credit_amount"], color="#1565c0", label="credit owed")
        money_axis(ax, currency=credits.currency)
        ax.set_ylabel(f"Service credit ({credits.currency})")
    else:
        ax.bar(x, m["credit_pct"], color="#bbbbbb", label="credit before earn-back")
        ax.bar(x, m["net_credit_pct"], color="#1565c0", label="credit owed")
        ax.set_ylabel("Service credit (% of monthly fee)")
    _months_axis(ax, m["month"])
    ax.set_title(f"Service credits - {name_of(m['vendor_id'].iat[0], names)}, "
                 f"{name_of(m['lot_id'].iat[0], names)}")
    ax.legend(fontsize="small")
    return ax


def plot_control_chart(kpis, ax=None, *, vendor_id: str | None = None, lot_id: str | None = None,
                       priority: str | None = None, names=None):
    """Individuals (XmR) control chart of the monthly mean resolution time of incidents.

    Centre line = mean of the monthly means; control limits = centre +/- 2.66 x mean moving
    range (Shewhart individuals chart); months outside the limits are marked red.
    """
    m = kpis.measurements
    m = m.loc[(m["kpi"] == "resolution") & (m["status"] != "pending")]
    if priority is not None:
        m = m.loc[m["priority"] == priority]
    m = _pick(m, vendor_id, lot_id, "resolution measurement")
    s = m.groupby("month")["elapsed_hours"].mean()
    ax = get_ax(ax)
    x = np.arange(len(s))
    y = s.to_numpy()
    centre = float(y.mean())
    mr = float(np.abs(np.diff(y)).mean()) if len(y) > 1 else 0.0
    ucl, lcl = centre + 2.66 * mr, max(0.0, centre - 2.66 * mr)
    ax.plot(x, y, marker="o", color="#1565c0", label="monthly mean")
    ax.axhline(centre, color="black", lw=1, label=f"centre {centre:,.1f} h")
    ax.axhline(ucl, color=_RAG["red"], ls="--", lw=1, label=f"UCL {ucl:,.1f} h")
    ax.axhline(lcl, color=_RAG["red"], ls="--", lw=1, label=f"LCL {lcl:,.1f} h")
    out = (y > ucl) | (y < lcl)
    ax.scatter(x[out], y[out], color=_RAG["red"], zorder=3, s=50)
    _months_axis(ax, s.index)
    ax.set_ylabel("Mean resolution time (SLA clock hours)")
    pr = f" {priority}" if priority else ""
    ax.set_title(f"Resolution time control chart{pr} - {name_of(m['vendor_id'].iat[0], names)}, "
                 f"{name_of(m['lot_id'].iat[0], names)}")
    ax.legend(fontsize="small")
    return ax


def plot_scorecard(card, ax=None):
    """Percent of the last 12 months on target per KPI, coloured by the latest RAG status."""
    t = card.table
    ax = get_ax(ax, figsize=(8, max(3.0, 0.3 * len(t) + 1)))
    labels = [f"{r.vendor_id} {r.lot_id} {r.kpi} {r.priority}".strip() for r in t.itertuples()]
    y = np.arange(len(t))
    ax.barh(y, t["met_12"], color=[_RAG[r] for r in t["rag"]])
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Months on target, last 12 (%)")
    ax.set_title("Vendor scorecard (colour = latest month: green / amber / red)")
    return ax


def plot_invoice_audit(audit, ax=None):
    """Invoice discrepancy amounts (tender currency) by month, stacked by issue."""
    d = audit.discrepancies
    ax = get_ax(ax)
    if d.empty:
        ax.text(0.5, 0.5, "No invoice discrepancies", ha="center", va="center", transform=ax.transAxes)
        ax.set_title("Invoice audit")
        return ax
    p = d.pivot_table(index="month", columns="issue", values="at_stake", aggfunc="sum", fill_value=0.0)
    bottom = np.zeros(len(p))
    x = np.arange(len(p))
    for issue in p.columns:
        ax.bar(x, p[issue], bottom=bottom, label=issue.replace("_", " "))
        bottom += p[issue].to_numpy()
    _months_axis(ax, p.index)
    money_axis(ax)
    ax.set_ylabel(f"Discrepancy ({audit.currency}, + = owed to us)")
    ax.set_title(f"Invoice audit: {len(d)} discrepancies, net "
                 f"{fmt.money(d['at_stake'].sum(), audit.currency, exact=True, decimals=2)}")
    ax.legend(fontsize="small")
    return ax
