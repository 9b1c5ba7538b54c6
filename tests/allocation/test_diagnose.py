"""Infeasible policies are explained in words, with the numbers that conflict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sourcing.allocation import Policy, allocate, diagnose_policy


def test_capacity_shortfall_in_words(tender):
    # without V01, V02 and V08, and at most 20 % each, lot L3 (60 FTE) can get 4 x 12 = 48 FTE
    pol = Policy(max_share_pct=20, exclude=("V01", "V02", "V08"))
    a = allocate(tender, pol)
    assert a.status == "infeasible" and not a.feasible
    assert "lot L3 needs 60 FTE a year; eligible vendors offer 48" in a.diagnosis
    assert "20 % share cap" in a.diagnosis
    assert "infeasible" in str(a)
    assert a.volumes.to_numpy().sum() == 0


def test_budget_and_quality_floor_explained(tender):
    text = allocate(tender, Policy(budget=5e6)).diagnosis
    assert "the award costs EUR 4.5M a year more than the budget of EUR 5.0M" in text
    q = pd.Series(np.linspace(40, 90, len(tender.vendor_ids)), index=tender.vendor_ids)
    text = diagnose_policy(tender, Policy(quality_floor=95), quality=q)
    assert "quality floor 95 but the best eligible bidder scores 90.0" in text
    assert "volume-weighted quality 90.0 on L2, L3 and L5 (at least 95)" in text


def test_too_few_bidders_for_dual_sourcing():
    lots = pd.DataFrame({"lot_id": ["L1", "L2"], "unit": ["servers", "FTE"],
                         "annual_demand": [100.0, 10.0]}).set_index("lot_id")
    bids = pd.DataFrame({"vendor_id": ["A", "B", "A"], "lot_id": ["L1", "L1", "L2"],
                         "unit_price": [5.0, 6.0, 100.0]})
    a = allocate(lots=lots, bids=bids, policy=Policy(min_vendors_per_lot=2))
    assert a.status == "infeasible"
    assert "lot L2 must have at least 2 vendors; only 1 eligible vendor bid" in a.diagnosis
    assert a.diagnosis.endswith("(elastic model):\n  - fewer than two vendors on L2")


def test_capacity_below_minimum_share():
    lots = pd.DataFrame({"lot_id": ["L1"], "unit": ["devices"], "annual_demand": [100.0]}).set_index("lot_id")
    bids = pd.DataFrame({"vendor_id": ["A", "B"], "lot_id": ["L1", "L1"], "unit_price": [5.0, 6.0],
                         "capacity": [30.0, 60.0]})
    a = allocate(lots=lots, bids=bids, policy=Policy(min_share_pct=40))
    assert a.status == "infeasible"
    assert "A (least volume 40 exceeds most allowed 30)" in a.diagnosis
    assert "lot L1 needs 100 devices a year; eligible vendors offer 60" in a.diagnosis


def test_policy_that_prunes_every_bid_is_infeasible_not_a_crash(tender):
    """A 10 % share cap below every bid's minimum volume leaves the model without variables:
    the award is infeasible, explained, and costs nothing (regression: KeyError/IndexError)."""
    import numpy as np

    from sourcing.allocation import Policy, allocate
    from sourcing.scoring import evaluate

    ev = evaluate(tender)
    for policy in (Policy(max_share_pct=10),
                   Policy(exclude=("V01", "V02", "V03", "V04", "V05", "V08"))):
        award = allocate(tender, policy, quality=ev)
        assert award.status == "infeasible" and not award.feasible
        assert "has no usable bid" in award.diagnosis
        assert np.isnan(award.cost["total"]) and np.isnan(award.cost["switching"])
        assert (award.volumes.to_numpy() == 0).all()
