"""Vendor performance: SLA clocks and compliance, service credits, scorecards, invoice audit.

Typical use::

    perf = read_performance("data/sample-performance")
    kpis = monthly_kpis(perf)                        # monthly compliance per vendor x lot
    credits = service_credits(kpis, rates=tender)    # credits owed, tender currency
    card = scorecard(kpis)                           # RAG, trends, 0..10 score
    sla = calibrate(credits)                         # simulation input (breach_prob, credit_pct)
    audit = audit_invoices(perf, tender, credits=credits)
    record = assess(perf, rates=tender)              # all of the above in one call

Feeds scoring (:meth:`Scorecard.as_scores`, an incumbent-performance criterion) and simulation
(:func:`calibrate`).
"""

from .calendar import Calendar, business_deadline, business_elapsed
from .data import PerformanceData, read_performance
from .invoices import InvoiceAudit, audit_invoices
from .record import PerformanceRecord, assess
from .scorecard import Scorecard, calibrate, scorecard
from .sla import MonthlyKPIs, ServiceCredits, monthly_kpis, service_credits

__all__ = [
    "Calendar",
    "InvoiceAudit",
    "MonthlyKPIs",
    "PerformanceData",
    "PerformanceRecord",
    "Scorecard",
    "ServiceCredits",
    "assess",
    "audit_invoices",
    "business_deadline",
    "business_elapsed",
    "calibrate",
    "monthly_kpis",
    "read_performance",
    "scorecard",
    "service_credits",
]
