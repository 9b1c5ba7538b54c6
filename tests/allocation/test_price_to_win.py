"""Price to win on cases with a known answer: the tiny tender (A at 100 a unit with a setup of
6,000 over three years, B at 130; both new to the lot) and enumeration over prices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sourcing.allocation import Policy, allocate
from sourcing.allocation.price_to_win import price_to_win


@pytest.fixture(scope="module")
def tiny():
    from tenders import tiny_tender

    return tiny_tender()


def test_the_loser_enters_below_the_winners_price_plus_its_annual_setup(tiny):
    out = price_to_win(tiny, Policy(), rel_tol=1e-5)
    lot = tiny.lot_ids[0]
    a, b = tiny.bids["vendor_id"]
    # B enters when 1,000 x 130 f < 1,000 x 100 + 6,000 / 3: f < 102 / 130 (ties go to A)
    assert out.at[(lot, b), "price_to_enter"] == pytest.approx(102.0, rel=1e-4)
    assert out.at[(lot, b), "gap_pct"] == pytest.approx(100 * (102 / 130 - 1), abs=0.01)
    # A keeps the lot until 1,000 x 100 f + 2,000 > 130,000: f > 1.28
    assert out.at[(lot, a), "price_to_lose"] == pytest.approx(128.0, rel=1e-4)
    assert bool(out.at[(lot, a), "awarded"]) and not bool(out.at[(lot, b), "awarded"])


def test_the_search_agrees_with_enumeration_over_prices(tiny):
    out = price_to_win(tiny, Policy(max_vendors_per_lot=1), rel_tol=1e-4)
    lot = tiny.lot_ids[0]
    b = tiny.bids["vendor_id"].iloc[1]
    bids = tiny.bids
    grid = np.linspace(90.0, 110.0, 201)  # 0.1 a unit apart
    wins = []
    for p in grid:
        changed = bids.copy()
        changed.loc[changed["vendor_id"] == b, "unit_price"] = p
        award = allocate(tiny, Policy(max_vendors_per_lot=1), bids=changed)
        wins.append(award.volumes.at[b, lot] > 1e-6)
    wins = np.asarray(wins)
    highest = grid[wins].max()  # enumeration: the highest price on the grid that wins
    assert highest <= out.at[(lot, b), "price_to_enter"] < highest + 0.1 + 1e-9


def test_one_bidders_rows_only_and_errors_name_the_valid_vendors(tiny):
    b = str(tiny.bids["vendor_id"].iloc[1])
    out = price_to_win(tiny, Policy(), vendors=[b])
    assert set(out.index.get_level_values("vendor_id")) == {b}
    with pytest.raises(ValueError, match="valid:"):
        price_to_win(tiny, Policy(), vendors=["NOPE"])


def test_the_command_line_writes_one_bidders_letter(tmp_path, capsys):
    from tenders import make_scenario, make_tender

    from sourcing.cli import main

    tender = make_tender(tmp_path / "t", currency="DKK", n_vendors=3, n_lots=2, seed=2)
    path = make_scenario(tmp_path, tender, allocation={"risk": {"enabled": False}})
    from sourcing import read_tender

    vendor = read_tender(tender).vendor_ids[0]
    assert main(["price-to-win", str(path), "--vendor", vendor, "--csv", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if x and not x.startswith("wrote")]
    assert lines and all("DKK" in x and ("would enter at" in x or "keeps its share" in x
                                         or "no price" in x) for x in lines)
    import pandas as pd

    csv = pd.read_csv(tmp_path / "out" / "price_to_win.csv")
    assert set(csv["vendor_id"]) == {vendor}  # no other bidder's prices


def test_each_price_found_is_a_boundary_on_a_made_up_tender_with_a_spend_cap(tmp_path):
    """Property on a tender the search was not built on (CHF, tiers, a spend-share cap, which
    makes feasibility depend on prices): 0.5 % below the price found a bid wins volume, 0.5 % above
    it it does not (at the price itself the two awards may cost the same)."""
    from tenders import make_tender

    from sourcing import read_tender

    tender = read_tender(make_tender(tmp_path / "t", currency="CHF", n_vendors=4, n_lots=3,
                                     with_tiers=True, seed=5))
    policy = Policy(max_spend_share_pct=55, max_vendors_per_lot=2)
    out = price_to_win(tender, policy, rel_tol=1e-3)
    assert len(out) == len(tender.bids)
    checked = 0
    for (lot, vendor), r in out.iterrows():
        found = r["price_to_enter"] if not r["awarded"] else r["price_to_lose"]
        if found != found:
            continue
        for price, wins in ((found / 1.005, True), (found * 1.005, False)):
            bids = tender.bids.copy()
            row = (bids["vendor_id"] == vendor) & (bids["lot_id"] == lot)
            f = price / r["price"]
            bids.loc[row, "unit_price"] = price
            tiers = tender.tiers.copy()
            mine = (tiers["vendor_id"] == vendor) & (tiers["lot_id"] == lot)
            tiers.loc[mine, "unit_price"] *= f
            award = allocate(tender, policy, bids=bids, tiers=tiers, mip_gap=1e-7)
            assert (award.volumes.at[vendor, lot] > 1e-6) == wins, (lot, vendor, price)
        checked += 1
    assert checked >= 3


def test_lots_keep_the_bids_on_those_lots_only(tiny):
    lot = tiny.lot_ids[0]
    assert set(price_to_win(tiny, Policy(), lots=[lot]).index.get_level_values("lot_id")) == {lot}
    with pytest.raises(ValueError, match="valid:"):
        price_to_win(tiny, Policy(), lots=["NOPE"])


def test_searching_in_two_processes_gives_the_same_table(tmp_path):
    """The bids are independent searches: spread over two processes, the same prices, solves
    and reasons, in the same order (a made-up SEK tender with tiers and a concentration cap)."""
    from tenders import make_tender

    from sourcing import read_tender

    tender = read_tender(make_tender(tmp_path / "t", currency="SEK", n_vendors=4, n_lots=2,
                                     with_tiers=True, seed=8))
    policy = Policy(max_vendors_per_lot=2, max_spend_share_pct=70)
    serial = price_to_win(tender, policy, workers=1)
    assert serial["solves"].sum() > 0
    pd.testing.assert_frame_equal(price_to_win(tender, policy, workers=2), serial)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        price_to_win(tender, policy, workers=0)
