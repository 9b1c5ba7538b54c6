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


def _overlaps(ax) -> bool:
    """Whether any two x tick labels of a drawn figure overlap horizontally."""
    ax.figure.canvas.draw()
    boxes = sorted((t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()),
                   key=lambda b: b.x0)
    return any(a.x1 > b.x0 + 0.5 for a, b in zip(boxes, boxes[1:], strict=False))


def test_lot_names_on_a_narrow_award_plot_do_not_overlap(tender):
    """Page 02 drew the award beside the spend plot (half a 13-inch figure): five lot names
    written over one another.  Names wrap to the width each bar has, in a smaller font or
    standing vertically when a word would not fit; the full-width plot of the board page keeps
    them level."""
    import matplotlib.pyplot as plt

    a = allocate(tender, Policy(min_vendors_per_lot=2))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
    a.plot(ax=axes[0])
    assert not _overlaps(axes[0])
    shown = [t.get_text().replace("\n", " ").removesuffix(" [...]") for t in axes[0].get_xticklabels()]
    assert all(a.lot_names[lot].startswith(x) for x, lot in zip(shown, a.shares.columns, strict=True))
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    a.plot(ax=ax)
    assert not _overlaps(ax) and ax.get_xticklabels()[0].get_rotation() == 0
    # vendors by name, not id: the board reads names
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [a.names[v] for v in a.vendors]
    plt.close(fig)
    ids = [f"L{j}" for j in range(40)]
    lots = pd.DataFrame({"lot_id": ids, "annual_demand": 100.0}).set_index("lot_id")
    bids = pd.DataFrame({"vendor_id": "A", "lot_id": ids, "unit_price": 10.0})
    many = allocate(lots=lots, bids=bids)
    many.lot_names = {lot: f"Regional service centre {lot}" for lot in ids}
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    many.plot(ax=ax)
    assert not _overlaps(ax) and ax.get_xticklabels()[0].get_rotation() == 90
    plt.close(fig)
