"""Pareto frontier and the cost of each rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sourcing.allocation import Policy, allocate, constraint_costs, frontier


@pytest.fixture(scope="module")
def quality(tender):
    return pd.Series(np.linspace(40, 90, len(tender.vendor_ids)), index=tender.vendor_ids)


def test_frontier_is_monotone_and_spans_the_ends(tender, quality):
    pol = Policy(min_vendors_per_lot=2)
    f = frontier(tender, pol, quality=quality, n_points=4, mip_gap=0)
    pts = f.points
    assert len(pts) == 4 and len(f.awards) == 4 and (pts["status"] == "optimal").all()
    # epsilon-constraint: quality meets each epsilon; cost never falls as quality rises
    assert (pts["quality"] >= pts["epsilon"] - 1e-4).all()
    assert np.all(np.diff(pts["cost"]) >= -1e-6)
    cheapest = allocate(tender, pol, quality=quality, mip_gap=0)
    assert pts["cost"].iloc[0] == pytest.approx(cheapest.cost["total"])
    best = allocate(tender, pol, quality=quality, objective="quality", mip_gap=0)
    assert pts["quality"].iloc[-1] == pytest.approx(best.quality, abs=1e-3)
    assert pts["pareto"].all()
    with pytest.raises(ValueError, match="quality"):
        frontier(tender, pol)


def test_constraint_costs_are_nonnegative_and_exact(tender):
    pol = Policy(min_vendors_per_lot=2, max_share_pct=70, risk_cap=45)
    cc = constraint_costs(tender, pol, mip_gap=0)
    assert list(cc.index) == ["max_share_pct", "min_vendors_per_lot", "risk_cap"]
    assert (cc["cost_of_rule"] >= -1e-6).all()
    base = allocate(tender, pol, mip_gap=0).cost["total"]
    without = allocate(tender, pol.relaxed("min_vendors_per_lot"), mip_gap=0).cost["total"]
    assert cc.loc["min_vendors_per_lot", "cost_of_rule"] == pytest.approx(base - without)
    # a 70 % share cap already forces two vendors per lot: the explicit rule then costs nothing
    assert cc.loc["min_vendors_per_lot", "cost_of_rule"] == pytest.approx(0, abs=1e-6)
    # capacity already forces two vendors in every lot of the sample; a third one costs money
    alone = constraint_costs(tender, Policy(min_vendors_per_lot=3), mip_gap=0)
    assert alone.loc["min_vendors_per_lot", "cost_of_rule"] > 0
    with pytest.raises(ValueError, match="valid rules"):
        constraint_costs(tender, pol, rules=["speed"])
