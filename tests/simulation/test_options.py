"""The sourcing options built from a tender: factories, admissible vendors, tier prices."""

from __future__ import annotations

import numpy as np
import pytest
from tenders import sample_award

from sourcing.simulation import (
    INHOUSE,
    hybrid,
    multi_vendor,
    single_vendor,
    standard_scenarios,
)
from sourcing.simulation.options import admissible_vendors, tiered_unit_price


def test_standard_scenarios_on_sample_tender(tender):
    sc = standard_scenarios(tender)
    assert [s.name.split(" (")[0] for s in sc] == ["In-house", "Single vendor", "Multi-vendor", "Hybrid"]
    assert set(sc[0].providers) == {INHOUSE}
    for s in sc:
        assert s.years == tender.contract_years and s.discount_rate == pytest.approx(tender.discount_rate)
        # every lot's demand is served exactly once
        served = s.lines.groupby("lot_id")["units"].sum()
        assert np.allclose(served.reindex(tender.lot_ids), tender.demand)


def test_single_vendor_default_is_cheapest_admissible_full_bidder(tender):
    ok = admissible_vendors(tender)
    assert "V06" not in ok and "V07" not in ok  # no ISO 27001 / financial score 28 < 40
    full = [v for v in ok if tender.price_matrix.loc[v].notna().all()]
    expected = min(full, key=lambda v: tender.evaluated_price()[v])
    assert single_vendor(tender).providers == [expected]


def test_tiered_unit_prices_by_hand(tender):
    """all-unit: every unit at the highest tier reached (V01 L1: 120 000 >= 96 000 -> 22.35);
    incremental: each band at its own price (V02 L1: 28.24, 27.39 from 60 000, 26.55 from 96 000)."""
    assert tiered_unit_price(tender, "V01", "L1", 120_000) == pytest.approx(22.35)
    assert tiered_unit_price(tender, "V01", "L1", 50_000) == pytest.approx(23.78)
    inc = (60_000 * 28.24 + 36_000 * 27.39 + 24_000 * 26.55) / 120_000
    assert tiered_unit_price(tender, "V02", "L1", 120_000) == pytest.approx(inc)


def test_multi_vendor_from_award_stand_in(tender):
    s = multi_vendor(tender, sample_award(tender))
    lines = s.lines.set_index(["lot_id", "provider"])
    assert lines.at[("L1", "V03"), "unit_price"] == pytest.approx(17.0)
    # L2 awarded 1 000 of 1 400 servers: the rest stays in-house at the in-house unit cost
    assert lines.at[("L2", INHOUSE), "units"] == pytest.approx(400)
    assert lines.at[("L2", INHOUSE), "unit_price"] == pytest.approx(2750.0)
    # a backup needs another provider on *every* lot the vendor serves: V03 is alone on L1
    assert not s.vendors.at["V08", "has_backup"] and not s.vendors.at["V03", "has_backup"]
    # incumbent V01 leaves L1 and L5: full exit cost, switching cost per unit moved
    assert s.exit_cost == pytest.approx(1_600_000)
    assert lines.at[("L1", "V03"), "switching_cost"] == pytest.approx(4.0 * 120_000)


def test_multi_vendor_without_award_splits_between_two_cheapest(tender):
    s = multi_vendor(tender, split=(0.6, 0.4))
    ok = admissible_vendors(tender)
    for lot in tender.lot_ids:
        best = tender.price_matrix.loc[ok, lot].dropna().sort_values().index[:2].tolist()
        got = s.lines[s.lines["lot_id"] == lot].sort_values("units", ascending=False)
        assert got["provider"].tolist() == best
        assert got["lot_share"].tolist() == pytest.approx([0.6, 0.4])
    assert s.vendors["has_backup"].all()


def test_hybrid_keeps_listed_lots_inhouse(tender):
    s = hybrid(tender, sample_award(tender), inhouse_lots=["L3", "L4"])
    inh = s.lines[s.lines["provider"] == INHOUSE]
    assert set(inh["lot_id"]) >= {"L3", "L4"}
    assert "V08" in s.providers  # still serves L5
    with pytest.raises(ValueError, match="unknown lot"):
        hybrid(tender, inhouse_lots=["L9"])


def test_vendor_without_bid_goes_inhouse_by_default(tender):
    s = single_vendor(tender, "V04")  # V04 bid for L2 and L3 only
    assert set(s.lines.loc[s.lines["provider"] == INHOUSE, "lot_id"]) == {"L1", "L4", "L5"}


def test_no_admissible_vendor_warns_before_using_every_bidder(tender):
    """All vendors failing the gates used to fall back to every bidder without a word."""
    criteria = tender.criteria.copy()
    criteria.loc["C01", "gate"] = ">= 100"  # scores are 0-10
    shut = type(tender).from_frames(
        vendors=tender.vendors, criteria=criteria, scores=tender.scores, lots=tender.lots,
        bids=tender.bids, tiers=tender.tiers, risk=tender.risk, pairwise=tender.pairwise,
        settings=dict(tender.settings))
    assert admissible_vendors(shut) == []
    with pytest.warns(UserWarning, match="no vendor passes the tender's gates; the default options "
                                         "use every bidder"):
        single_vendor(shut)

