"""The incumbent's record in one call: KPIs, credits, scorecard, invoice audit and calibration.

:func:`assess` is the chain the ``performance`` stage of the pipeline, ``sourcing performance``
and the vendor-performance page all use, written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .data import PerformanceData
from .invoices import InvoiceAudit, audit_invoices
from .scorecard import Scorecard, calibrate, scorecard
from .sla import MonthlyKPIs, ServiceCredits, monthly_kpis, service_credits

__all__ = ["PerformanceRecord", "assess"]


@dataclass(frozen=True)
class PerformanceRecord:
    """The incumbent's record under its SLA.

    Attributes
    ----------
    data : PerformanceData
    kpis : MonthlyKPIs
    credits : ServiceCredits
        Credits owed; priced in the tender currency when the rate card was given.
    scorecard : Scorecard
    audit : InvoiceAudit or None
        Invoice audit against the rate card (None without one).
    calibration : DataFrame
        Monthly breach probability and credit size per vendor x lot: what the simulation reads.
    """

    data: PerformanceData
    kpis: MonthlyKPIs
    credits: ServiceCredits
    scorecard: Scorecard
    audit: InvoiceAudit | None
    calibration: pd.DataFrame


def assess(data: PerformanceData, *, rates: Any = None, asof: Any = None) -> PerformanceRecord:
    """KPIs, credits, scorecard, invoice audit and simulation calibration of *data*.

    Parameters
    ----------
    data : PerformanceData
        From :func:`read_performance`.
    rates : Tender or DataFrame, optional
        Rate card (the tender's bids, tender currency per unit per year): credits in money and
        the invoice audit need it; without it credits are percents of the monthly fee and there
        is no audit.
    asof : timestamp, optional
        Reporting instant (default: the end of the ticket log).
    """
    kpis = monthly_kpis(data, asof=asof)
    credits = service_credits(kpis, rates=rates)
    audit = audit_invoices(data, rates, credits=credits) if rates is not None else None
    return PerformanceRecord(data, kpis, credits, scorecard(kpis), audit, calibrate(credits))
