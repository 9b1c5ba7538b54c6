"""Allocation plots return labelled Axes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sourcing.allocation import Policy, allocate, constraint_costs, frontier
from sourcing.plots import plot_rule_costs, plot_spend_concentration


def test_plots(tender):
    pol = Policy(min_vendors_per_lot=2, max_spend_share_pct=50)
    a = allocate(tender, pol)
    ax = a.plot()
    assert ax.get_title().startswith("Award by lot") and "%" in ax.get_ylabel()
    ax = plot_spend_concentration(a)
    assert "EUR" in ax.get_xlabel() and ax.get_legend() is not None
    q = pd.Series(np.linspace(40, 90, len(tender.vendor_ids)), index=tender.vendor_ids)
    f = frontier(tender, pol, quality=q, n_points=3)
    ax = f.plot(chosen=f.awards[1])
    assert "EUR" in ax.get_ylabel() and len(ax.get_legend().get_texts()) >= 2
    ax = plot_rule_costs(constraint_costs(tender, pol))
    assert ax.get_title() == "Annual cost of each sourcing rule" and "EUR" in ax.get_xlabel()
