"""Allocation figures: award by lot, spend concentration, Pareto frontier, cost of each rule."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from .. import present as fmt
from ..tender import DEFAULT_CURRENCY
from ._style import category_ticks, get_ax, money_axis, name_of

__all__ = ["plot_award", "plot_frontier", "plot_rule_costs", "plot_spend_concentration"]


def plot_award(award, ax=None):
    """Stacked bars: share of each lot's annual demand by vendor (percent)."""
    ax = get_ax(ax)
    shares = award.shares.loc[award.vendors] * 100 if award.vendors else award.shares * 0
    bottom = np.zeros(shares.shape[1])
    lots = [str((getattr(award, "lot_names", None) or {}).get(c, c)) for c in shares.columns]
    cmap = matplotlib.colormaps["tab10" if len(shares) <= 10 else "tab20"]
    for i, (vendor, row) in enumerate(shares.iterrows()):
        vals = row.to_numpy(float)
        ax.bar(range(len(lots)), vals, bottom=bottom, label=name_of(vendor, award.names),
               color=cmap(i % cmap.N))
        bottom += vals
    category_ticks(ax, lots)
    ax.set_title(f"Award by lot ({award.status})")
    ax.set_xlabel("Lot")
    ax.set_ylabel("Share of annual demand (%)")
    ax.set_ylim(0, max(100.0, float(bottom.max()) if len(bottom) else 100.0) * 1.05)
    if len(shares):
        ax.legend(title="Vendor", fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_spend_concentration(award, ax=None):
    """Horizontal bars: annual spend per vendor (tender currency per year), largest first, with its share."""
    ax = get_ax(ax)
    spend = award.spend.sum(axis=1)
    spend = spend[spend > 0].sort_values()
    total = float(spend.sum()) or 1.0
    ax.barh([name_of(v, award.names) for v in spend.index], spend.to_numpy(float), color="tab:blue")
    for y, v in enumerate(spend.to_numpy(float)):
        ax.text(v, y, f" {v / total:.0%}", va="center", fontsize="small")
    if award.policy is not None and award.policy.max_spend_share_pct is not None:
        ax.axvline(total * award.policy.max_spend_share_pct / 100, color="tab:red", ls="--",
                   label=f"cap {award.policy.max_spend_share_pct:g} % of spend")
        ax.legend(fontsize="small")
    ax.set_title("Spend concentration by vendor")
    ax.set_xlabel(f"Annual spend ({award.currency}/year)")
    ax.set_ylabel("Vendor")
    money_axis(ax, "x", award.currency)
    return ax


def plot_frontier(front, ax=None, *, chosen=None):
    """Cost (tender currency per year) against volume-weighted quality, Pareto points joined,
    chosen award marked."""
    ax = get_ax(ax)
    pts = front.points.dropna(subset=["cost", "quality"])
    par = pts[pts["pareto"]].sort_values("quality")
    ax.plot(par["quality"], par["cost"], "o-", color="tab:blue", label="Pareto frontier")
    other = pts[~pts["pareto"]]
    if len(other):
        ax.plot(other["quality"], other["cost"], "x", color="grey", label="dominated")
    if chosen is not None and chosen.feasible:
        ax.plot([chosen.quality], [chosen.cost["total"]], "*", ms=16, color="tab:red",
                label="chosen award")
    ax.set_title("Cost vs quality of the award")
    ax.set_xlabel("Volume-weighted quality (0-100)")
    ax.set_ylabel(f"Total annual cost ({front.currency}/year)")
    money_axis(ax, "y", front.currency)
    ax.legend(fontsize="small")
    return ax


def plot_rule_costs(costs: pd.DataFrame, ax=None):
    """Bar chart: what each rule costs a year (``constraint_costs`` output)."""
    ax = get_ax(ax)
    currency = costs.attrs.get("currency", DEFAULT_CURRENCY)  # costs without a tender
    data = costs["cost_of_rule"].astype(float).fillna(0.0).sort_values()
    labels = [str(costs.loc[r, "description"]) for r in data.index]
    colors = ["tab:red" if v > 0 else "tab:grey" for v in data.to_numpy()]
    ax.barh(labels, data.to_numpy(), color=colors)
    for y, v in enumerate(data.to_numpy()):
        ax.text(max(v, 0.0), y, " " + fmt.money(v, currency), va="center", fontsize="small")
    ax.set_title("Annual cost of each sourcing rule")
    ax.set_xlabel(f"Extra cost with the rule ({currency}/year)")
    money_axis(ax, "x", currency)
    return ax
