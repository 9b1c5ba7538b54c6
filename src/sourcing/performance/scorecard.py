"""Vendor scorecard (KPIs vs targets, RAG, trend, 0..10 score) and calibration for simulation.

Conventions
-----------
* Windows are the last 3, 6 and 12 calendar months up to the latest KPI month (``asof_month``);
  ``avg_N`` is the mean monthly value, ``met_N`` the percent of measured months meeting target.
* RAG of the latest month: green when the target is met, amber when the value is at most
  ``amber_pp`` percentage points below target, red otherwise.
* Trend: the mean of the last 3 months against the mean of the 3 months before: ``improving``
  / ``declining`` when it differs by more than ``trend_pp`` points, else ``stable``.
* Score (0..10): 10 x the share of KPI-months on target in the last 12 months, averaged over the
  KPI rows of a vendor x lot, then over the vendor's lots.  Suitable as a ``max`` criterion
  "incumbent performance" (points 0-10) in the tender's scores table.
* Calibration: a month is a *breach month* when any KPI misses target; ``breach_prob`` = breach
  months / months observed; ``credit_pct`` = mean capped credit (before earn-back) over breach
  months, percent of the monthly fee (0 when there were none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .sla import MonthlyKPIs, ServiceCredits, _month_int

__all__ = ["Scorecard", "calibrate", "scorecard"]

_KEYS = ["vendor_id", "lot_id"]


@dataclass
class Scorecard:
    """KPIs against targets.

    Attributes
    ----------
    table : DataFrame
        Per vendor_id, lot_id, kpi, priority: target_pct, last_month, last_value, rag, avg_3,
        avg_6, avg_12, met_3, met_6, met_12 (percent of months on target), trend.
    lot_scores : DataFrame
        Per vendor_id, lot_id: score (0..10), kpis, red, amber, green.
    score : Series
        Score 0..10 per vendor_id.
    """

    table: pd.DataFrame
    lot_scores: pd.DataFrame
    score: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """The scorecard table."""
        return self.table

    def as_scores(self, criterion_id: str, *, evaluator: str | None = None) -> pd.DataFrame:
        """Scores in the tender's ``scores`` format (vendor_id, criterion_id, evaluator, value)."""
        return pd.DataFrame({"vendor_id": self.score.index, "criterion_id": criterion_id,
                             "evaluator": evaluator, "value": self.score.round(2).to_numpy()})

    def plot(self, ax=None):
        """Months on target per KPI, coloured by RAG (see ``plots.performance.plot_scorecard``)."""
        from ..plots.performance import plot_scorecard

        return plot_scorecard(self, ax=ax)


def _window_stats(k: pd.DataFrame, last: int, n: int) -> pd.DataFrame:
    w = k.loc[k["month_k"] > last - n]
    g = w.groupby([*_KEYS, "kpi", "priority"], sort=False)
    return pd.DataFrame({f"avg_{n}": g["value"].mean(), f"met_{n}": 100.0 * g["meets"].mean()})


def scorecard(kpis: MonthlyKPIs, *, asof_month: str | None = None, amber_pp: float = 2.0,
              trend_pp: float = 0.5) -> Scorecard:
    """Scorecard of each vendor x lot from monthly KPIs.

    Parameters
    ----------
    kpis : MonthlyKPIs
        From :func:`monthly_kpis`.
    asof_month : str, optional
        Last month included, ``YYYY-MM``; default the latest KPI month.
    amber_pp : float
        Percentage points below target still rated amber (default 2).
    trend_pp : float
        Change of the 3-month mean, percentage points, that counts as a trend (default 0.5).
    """
    if not isinstance(kpis, MonthlyKPIs):
        raise TypeError(f"kpis must be MonthlyKPIs from monthly_kpis, got {type(kpis).__name__}")
    if amber_pp < 0 or trend_pp < 0:
        raise ValueError("amber_pp and trend_pp must be >= 0 percentage points")
    k = kpis.kpis.copy()
    if k.empty:
        raise ValueError("no KPI rows to score: the ticket log and availability log are empty")
    k["month_k"] = _month_int(k["month"])
    if asof_month is not None:
        try:
            last = int(_month_int(pd.Series([asof_month]))[0])
        except (ValueError, TypeError) as err:
            raise ValueError(f"asof_month must be YYYY-MM, got {asof_month!r}") from err
        k = k.loc[k["month_k"] <= last]
    else:
        last = int(k["month_k"].max())
    keys = [*_KEYS, "kpi", "priority"]
    latest = k.sort_values("month_k").groupby(keys, sort=False).tail(1).set_index(keys)
    t = pd.DataFrame({"target_pct": latest["target_pct"], "last_month": latest["month"],
                      "last_value": latest["value"]})
    gap = t["target_pct"] - t["last_value"]
    t["rag"] = np.where(latest["meets"], "green", np.where(gap <= amber_pp + 1e-9, "amber", "red"))
    for n in (3, 6, 12):
        t = t.join(_window_stats(k, last, n))
    prev = k.loc[(k["month_k"] <= last - 3) & (k["month_k"] > last - 6)].groupby(keys)["value"].mean()
    diff = t["avg_3"] - prev.reindex(t.index)
    t["trend"] = np.where(diff > trend_pp, "improving", np.where(diff < -trend_pp, "declining", "stable"))
    t["trend"] = t["trend"].where(diff.notna(), "n/a")
    order = {"response": 0, "resolution": 1, "fulfilment": 2, "availability": 3}
    t = t.reset_index()
    t = (t.assign(_o=t["kpi"].map(order)).sort_values([*_KEYS, "_o", "priority"])
         .drop(columns="_o").reset_index(drop=True))
    t["met_12"] = t["met_12"].fillna(0.0)
    lot = t.groupby(_KEYS).agg(score=("met_12", lambda s: s.mean() / 10.0), kpis=("kpi", "size"),
                               red=("rag", lambda s: int((s == "red").sum())),
                               amber=("rag", lambda s: int((s == "amber").sum())),
                               green=("rag", lambda s: int((s == "green").sum()))).reset_index()
    score = lot.groupby("vendor_id")["score"].mean().rename("score")
    return Scorecard(table=t, lot_scores=lot, score=score)


def calibrate(credits: ServiceCredits, *, months: int | None = None,
              prior: tuple[float, float] | None = None) -> pd.DataFrame:
    """Monthly SLA breach probability and credit size per vendor x lot, for simulation.

    Parameters
    ----------
    credits : ServiceCredits
        From :func:`service_credits`.
    months : int, optional
        Use only the last *months* months of each vendor x lot (default all).
    prior : (a, b), optional
        Beta(a, b) prior on the breach probability; the estimate becomes the posterior mean
        ``(k + a) / (n + a + b)``.  Default none: ``k / n``.

    Returns
    -------
    DataFrame
        Columns vendor_id, lot_id, breach_prob ([0, 1], per month), credit_pct (percent of the
        monthly fee owed in a breach month) -- the ``sla=`` input of the simulation.
    """
    if not isinstance(credits, ServiceCredits):
        raise TypeError(f"credits must be ServiceCredits from service_credits, got {type(credits).__name__}")
    if months is not None and months < 1:
        raise ValueError(f"months must be >= 1, got {months}")
    if prior is not None and (len(prior) != 2 or min(prior) < 0):
        raise ValueError("prior must be a pair (a, b) of Beta parameters >= 0")
    m = credits.monthly.sort_values([*_KEYS, "month"])
    if months is not None:
        m = m.groupby(_KEYS, sort=False).tail(months)
    breach = m["kpis_missed"] > 0
    g = m.assign(breach=breach, cp=m["credit_pct"].where(breach)).groupby(_KEYS, sort=True)
    n, k = g["breach"].size(), g["breach"].sum()
    a, b = prior if prior is not None else (0.0, 0.0)
    out = pd.DataFrame({"breach_prob": (k + a) / (n + a + b), "credit_pct": g["cp"].mean().fillna(0.0)})
    return out.reset_index()[["vendor_id", "lot_id", "breach_prob", "credit_pct"]]
