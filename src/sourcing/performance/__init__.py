"""Vendor performance: SLA clocks and compliance, service credits, scorecards, invoice audit.

Feeds scoring (:meth:`Scorecard.as_scores`, incumbent performance criterion) and simulation
(:func:`calibrate`: monthly breach probability and credit size per vendor x lot).
"""

from .calendar import Calendar, business_deadline, business_elapsed
from .data import PerformanceData, read_performance
from .sla import MonthlyKPIs, ServiceCredits, monthly_kpis, service_credits

__all__ = [
    "Calendar",
    "MonthlyKPIs",
    "PerformanceData",
    "ServiceCredits",
    "business_deadline",
    "business_elapsed",
    "monthly_kpis",
    "read_performance",
    "service_credits",
]
