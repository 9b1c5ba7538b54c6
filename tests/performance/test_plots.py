"""Performance figures: each returns its Axes with a title and labelled axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from sourcing.performance import audit_invoices, scorecard
from sourcing.plots import (
    plot_availability,
    plot_compliance,
    plot_control_chart,
    plot_credits,
    plot_invoice_audit,
    plot_scorecard,
)


def _check(ax):
    assert ax.get_title()
    assert ax.get_xlabel() or ax.get_ylabel()
    return ax


def test_all_plots(sample_kpis, sample_credits, perf_sample, tender):
    _check(sample_kpis.plot())
    _check(plot_compliance(sample_kpis, kpi="response", vendor_id="V01", lot_id="L5"))
    _check(plot_availability(sample_kpis, lot_id="L1"))
    ax = _check(plot_credits(sample_credits, lot_id="L1"))
    assert "EUR" in ax.get_ylabel()
    _check(sample_credits.plot(lot_id="L5"))
    _check(plot_control_chart(sample_kpis, priority="P3"))
    _check(plot_scorecard(scorecard(sample_kpis)))
    _check(plot_invoice_audit(audit_invoices(perf_sample, tender, credits=sample_credits)))
    fig, ax = plt.subplots()
    assert plot_availability(sample_kpis, ax=ax) is ax


def test_plot_arguments(sample_kpis):
    with pytest.raises(ValueError, match="valid choices"):
        plot_compliance(sample_kpis, kpi="speed")
    with pytest.raises(ValueError, match="valid"):
        plot_compliance(sample_kpis, vendor_id="V01", lot_id="L9")
