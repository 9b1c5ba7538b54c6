"""Invoice audit against the rate card, measured volumes and service credits owed.

Checks, in this order (amounts in the tender currency; positive = the vendor owes us):

1. ``duplicate_line`` -- a line repeating vendor, lot, month, quantity, unit price and amount of
   an earlier line (any invoice); the whole line amount.  Later checks ignore duplicates.
2. ``wrong_unit_price`` -- billed unit price differs from the contract monthly price rounded to
   cents (bid ``unit_price``, or ``/ 12`` for ``per_unit_month`` lots);
   (billed - contract) x billed quantity.
3. ``amount_mismatch`` -- line amount differs from quantity x unit price by more than the
   tolerance; the difference.
4. ``overbilled_quantity`` / ``underbilled_quantity`` -- billed quantity of a vendor x lot x month
   (all its lines) differs from the measured volume; difference x contract price.
5. ``unapplied_credit`` / ``excess_credit`` -- credits applied on the invoices of month m + lag
   differ from the net credits owed for month m; the difference.  Months not yet invoiced are
   not checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import PerformanceData
from .sla import ServiceCredits, _month_int, _month_text, monthly_kpis, service_credits

__all__ = ["InvoiceAudit", "audit_invoices"]

_KEYS = ["vendor_id", "lot_id"]
COLUMNS = ["invoice_id", "row", "vendor_id", "lot_id", "month", "issue", "billed", "expected",
           "at_stake", "detail"]


@dataclass
class InvoiceAudit:
    """Result of :func:`audit_invoices`.

    Attributes
    ----------
    discrepancies : DataFrame
        invoice_id, row (CSV line), vendor_id, lot_id, month, issue, billed, expected,
        at_stake (positive = owed to us), detail.
    summary : DataFrame
        Per vendor_id, lot_id, month: billed_net (lines net of credits), expected_net (measured
        volume x contract price - credits due), difference.
    currency : str
        The tender currency of every amount.
    """

    discrepancies: pd.DataFrame
    summary: pd.DataFrame
    currency: str = ""

    def to_frame(self) -> pd.DataFrame:
        """The discrepancy table."""
        return self.discrepancies

    @property
    def total(self) -> float:
        """Sum of discrepancy amounts, tender currency (positive = owed to us)."""
        return float(self.discrepancies["at_stake"].sum())

    def plot(self, ax=None):
        """Discrepancy amounts by month and issue (see ``plots.performance.plot_invoice_audit``)."""
        from ..plots.performance import plot_invoice_audit

        return plot_invoice_audit(self, ax=ax)


def _rows(frame: pd.DataFrame, issue: str, billed, expected, amount, detail) -> pd.DataFrame:
    out = frame[["invoice_id", "row", *_KEYS, "month"]].copy()
    out["issue"] = issue
    out["billed"] = np.asarray(billed, float)
    out["expected"] = np.asarray(expected, float)
    out["at_stake"] = np.round(np.asarray(amount, float), 2)
    out["detail"] = detail
    return out


def audit_invoices(data: PerformanceData, rates, *, credits: ServiceCredits | None = None,
                   tolerance: float = 0.01) -> InvoiceAudit:
    """Audit every invoice line.

    Parameters
    ----------
    data : PerformanceData
        From :func:`read_performance` (its ``invoices`` table).
    rates : Tender or DataFrame
        Rate card: the tender (its bids) or a frame vendor_id, lot_id, unit_price (tender
        currency per unit per year).
    credits : ServiceCredits, optional
        Credits owed (computed from ``data`` and ``rates`` when omitted;
        must carry money amounts).
    tolerance : float
        Amount differences up to this are ignored (default one cent).
    """
    if not isinstance(data, PerformanceData):
        raise TypeError(f"data must be PerformanceData from read_performance, got {type(data).__name__}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if credits is None:
        credits = service_credits(monthly_kpis(data), rates=rates)
    cm = credits.monthly
    if "credit_amount" not in cm:
        raise ValueError("credits were computed without a rate card: pass service_credits(..., rates=...)")
    inv = data.invoices.copy()
    if inv.empty:
        return InvoiceAudit(pd.DataFrame(columns=COLUMNS), pd.DataFrame(
            columns=[*_KEYS, "month", "billed_net", "expected_net", "difference"]))
    price = cm.set_index([*_KEYS, "month"])["monthly_price"]
    # the contract price does not depend on the month: take it per vendor x lot
    lot_price = cm.groupby(_KEYS)["monthly_price"].first()
    inv["contract_price"] = lot_price.reindex(pd.MultiIndex.from_frame(inv[_KEYS])).to_numpy().round(2)
    found = []
    dup = inv.duplicated([*_KEYS, "month", "quantity", "unit_price", "amount"], keep="first").to_numpy()
    if dup.any():
        d = inv.loc[dup]
        found.append(_rows(d, "duplicate_line", d["amount"], 0.0, d["amount"],
                           "line repeats an earlier line for the same vendor, lot and month"))
    ok = inv.loc[~dup]
    wrong = (ok["unit_price"] - ok["contract_price"]).abs() > 0.005
    if wrong.any():
        w = ok.loc[wrong]
        found.append(_rows(w, "wrong_unit_price", w["unit_price"], w["contract_price"],
                           (w["unit_price"] - w["contract_price"]) * w["quantity"],
                           "unit price differs from the contract rate card (per unit)"))
    diff = ok["amount"] - ok["quantity"] * ok["unit_price"]
    bad_sum = diff.abs() > tolerance
    if bad_sum.any():
        b = ok.loc[bad_sum]
        found.append(_rows(b, "amount_mismatch", b["amount"], b["quantity"] * b["unit_price"], diff[bad_sum],
                           "line amount is not quantity x unit price"))
    q = ok.groupby([*_KEYS, "month"], sort=True).agg(quantity=("quantity", "sum"),
                                                     invoice_id=("invoice_id", "first"),
                                                     row=("row", "first")).reset_index()
    idx = pd.MultiIndex.from_frame(q[[*_KEYS, "month"]])
    measured = cm.set_index([*_KEYS, "month"])["quantity"].reindex(idx).to_numpy()
    p = price.reindex(idx).to_numpy()
    known = ~np.isnan(measured)
    delta = q["quantity"].to_numpy() - measured
    for issue, mask, text in (("overbilled_quantity", known & (delta > 1e-9),
                               "billed quantity above the measured volume (units)"),
                              ("underbilled_quantity", known & (delta < -1e-9),
                               "billed quantity below the measured volume (units)")):
        if mask.any():
            found.append(_rows(q.loc[mask], issue, q["quantity"][mask], measured[mask],
                               delta[mask] * p[mask], text))
    # credits owed for month m are due on the invoices of month m + lag
    lag = data.contracts.set_index(_KEYS)["credit_lag_months"].reindex(
        pd.MultiIndex.from_frame(cm[_KEYS])).to_numpy().astype(int)
    due = cm[[*_KEYS]].assign(month=_month_text(_month_int(cm["month"]) + lag), owed=cm["credit_amount"],
                              for_month=cm["month"])
    applied = ok.groupby([*_KEYS, "month"]).agg(applied=("credit_applied", "sum"),
                                                invoice_id=("invoice_id", "first"), row=("row", "first"))
    c = due.groupby([*_KEYS, "month"]).agg(owed=("owed", "sum"), for_month=("for_month", "first"))
    c = c.join(applied, how="right")  # only months that were invoiced
    c["owed"] = c["owed"].fillna(0.0)
    c["for_month"] = c["for_month"].fillna("")
    c = c.reset_index()
    gap = (c["owed"] - c["applied"]).to_numpy()
    for issue, mask, text in (("unapplied_credit", gap > tolerance, "service credit owed for {} not "
                               "(fully) applied"), ("excess_credit", gap < -tolerance,
                                                     "more credit applied than owed for {}")):
        if mask.any():
            sel = c.loc[mask]
            found.append(_rows(sel, issue, sel["applied"], sel["owed"], gap[mask],
                               [text.format(m or "the previous month") for m in sel["for_month"]]))
    disc = (pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=COLUMNS))
    disc = disc.sort_values(["month", *_KEYS, "issue"], kind="stable").reset_index(drop=True)
    net = inv.assign(net=inv["amount"] - inv["credit_applied"]).groupby([*_KEYS, "month"])["net"].sum()
    summ = net.rename("billed_net").reset_index()
    sidx = pd.MultiIndex.from_frame(summ[[*_KEYS, "month"]])
    fee = (cm.set_index([*_KEYS, "month"])["quantity"] * price).round(2)
    owed_due = due.groupby([*_KEYS, "month"])["owed"].sum()
    summ["expected_net"] = (fee.reindex(sidx).to_numpy()
                            - owed_due.reindex(sidx, fill_value=0.0).to_numpy()).round(2)
    summ["difference"] = (summ["billed_net"] - summ["expected_net"]).round(2)
    return InvoiceAudit(discrepancies=disc[COLUMNS], summary=summ,
                        currency=str(getattr(rates, "currency", "") or ""))
