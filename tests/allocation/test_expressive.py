"""Package bids and conditional discounts in the award (issue #22, part 2).

The winner-determination problem of a combinatorial auction solved beside the lot bids: checked
against a published example, against brute-force enumeration on small random events, and on the
properties the tables promise (a package whole or not at all, the same fraction of every lot,
never a package and a lot bid on one lot, one discount per vendor, row order).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sourcing.allocation import Policy, allocate
from sourcing.allocation._data import make_instance
from sourcing.allocation.award import segments_from_volumes, violations


def _nebel_wolfl():
    """The example auction of Nebel & Wölfl, *Constraint Satisfaction Problems: Constraint
    Optimization* (lecture slides, University of Freiburg, winter 2009/10, handout 4): items
    1..8, bids b1 = {1,2,3,4} for 8, b2 = {2,3,6} for 6, b3 = {1,4,5} for 5, b4 = {2,8} for 2,
    b5 = {5,6} for 2; the revenue-maximising selection is {b2, b3} for 11.

    As a procurement event: each item is a lot of one unit that the buyer can always keep at
    R = 10 (a lot bid of vendor KEEP on every lot); a package bid for the items of ``b_i`` at
    ``R |b_i| - r_i`` saves ``r_i`` against keeping them, so the least-cost award takes the
    revenue-maximising packages and costs ``8 R - 11``.
    """
    r = 10.0
    packages = {"b1": ([1, 2, 3, 4], 8), "b2": ([2, 3, 6], 6), "b3": ([1, 4, 5], 5), "b4": ([2, 8], 2),
                "b5": ([5, 6], 2)}
    items = [str(i) for i in range(1, 9)]
    lots = pd.DataFrame({"lot_id": items, "annual_demand": 1.0})
    bids = pd.DataFrame({"vendor_id": "KEEP", "lot_id": items, "unit_price": r})
    rows = [(k, f"V_{k}", str(i), 100.0, r * len(its) - rev if n == 0 else np.nan)
            for k, (its, rev) in packages.items() for n, i in enumerate(its)]
    bundles = pd.DataFrame(rows, columns=["bundle_id", "vendor_id", "lot_id", "share_pct", "price"])
    vendors = pd.DataFrame({"vendor_id": ["KEEP", *(f"V_{k}" for k in packages)]})
    return dict(lots=lots, bids=bids, vendors=vendors, bundles=bundles), r * len(items)


def test_the_published_winner_determination_example():
    tables, keep_all = _nebel_wolfl()
    award = allocate(None, Policy(), **tables)
    assert award.status == "optimal"
    assert sorted(award.bundles["bundle_id"]) == ["b2", "b3"]
    assert keep_all - award.cost["total"] == pytest.approx(11.0)
    assert award.lot_by_lot_cost == pytest.approx(keep_all)
    # every item is bought once: the packages' items from their bidders, item 7 and 8 kept
    assert (award.volumes.sum(axis=0) == 1.0).all()
    assert list(award.volumes.loc["KEEP"][lambda s: s > 0].index) == ["7", "8"]


def test_package_rows_in_any_order_give_the_same_award():
    tables, _ = _nebel_wolfl()
    shuffled = dict(tables, bundles=tables["bundles"].sample(frac=1.0, random_state=3))
    # the price is on each package's first row as written; keep it on every row once shuffled
    price = tables["bundles"].groupby("bundle_id")["price"].first()
    shuffled["bundles"] = shuffled["bundles"].assign(price=lambda t: t["bundle_id"].map(price))
    a, b = allocate(None, Policy(), **tables), allocate(None, Policy(), **shuffled)
    assert a.cost["total"] == pytest.approx(b.cost["total"])
    assert sorted(a.bundles["bundle_id"]) == sorted(b.bundles["bundle_id"])


# ---------------------------------------------------------------------- brute force
def _random_event(seed: int):
    """3-4 lots, 3 vendors bidding lots at random, 1-3 all-or-nothing packages of whole lots,
    0-2 discounts on every lot, onboarding costs; each lot goes to one vendor."""
    rng = np.random.default_rng(seed)
    n_lots = int(rng.integers(3, 5))
    lots = [f"L{j}" for j in range(n_lots)]
    vendors = ["A", "B", "C"]
    demand = rng.integers(10, 100, n_lots).astype(float)
    bids = [(v, lot, float(rng.uniform(8, 12))) for v in vendors for lot in lots if rng.random() < 0.7]
    for lot in lots:  # every lot has a lot bid, so a lot-by-lot award exists
        if not any(b[1] == lot for b in bids):
            bids.append(("A", lot, float(rng.uniform(8, 12))))
    packages = []
    for k in range(int(rng.integers(1, 4))):
        its = sorted(rng.choice(n_lots, int(rng.integers(2, n_lots + 1)), replace=False).tolist())
        v = vendors[int(rng.integers(3))]
        fees = sum(demand[j] * 10.0 for j in its)
        packages.append((f"P{k}", v, [lots[j] for j in its], float(fees * rng.uniform(0.8, 1.05))))
    discounts = []
    for i in range(int(rng.integers(0, 3))):
        v = vendors[int(rng.integers(3))]
        if rng.random() < 0.5:
            discounts.append((f"D{i}", v, "lots_at_least", float(rng.integers(1, 3)),
                              float(rng.uniform(2, 12))))
        else:
            discounts.append((f"D{i}", v, "spend_at_least", float(rng.uniform(200, 900)),
                              float(rng.uniform(2, 12))))
    onboarding = {v: float(rng.uniform(0, 300)) for v in vendors}
    tables = dict(
        lots=pd.DataFrame({"lot_id": lots, "annual_demand": demand}),
        bids=pd.DataFrame(bids, columns=["vendor_id", "lot_id", "unit_price"]),
        vendors=pd.DataFrame({"vendor_id": vendors}),
        risk=pd.DataFrame({"vendor_id": vendors, "onboarding_cost": [onboarding[v] for v in vendors]}),
        bundles=pd.DataFrame([(k, v, lot, 100.0, price) for k, v, its, price in packages for lot in its],
                             columns=["bundle_id", "vendor_id", "lot_id", "share_pct", "price"]),
        discounts=pd.DataFrame(discounts, columns=["discount_id", "vendor_id", "condition", "threshold",
                                                   "discount_pct"]),
    )
    return tables, (lots, demand, bids, packages, discounts, onboarding)


def _brute_force(event, years: int) -> float:
    """Least annual cost over every way to give each lot to one lot bid or package."""
    lots, demand, bids, packages, discounts, onboarding = event
    price = {(v, lot): p for v, lot, p in bids}
    options = []
    for lot in lots:
        here = [("bid", v) for v, l2, _ in bids if l2 == lot]
        here += [("pkg", k) for k, (_, _, its, _) in enumerate(packages) if lot in its]
        options.append(here)
    best = np.inf
    for pick in itertools.product(*options):
        taken = {k for kind, k in pick if kind == "pkg"}
        if any(pick[lots.index(lot)] != ("pkg", k) for k in taken for lot in packages[k][2]):
            continue  # a package is taken whole or not at all
        fees: dict[str, float] = {}
        served: dict[str, int] = {}
        for j, (kind, key) in enumerate(pick):
            v = key if kind == "bid" else packages[key][1]
            served[v] = served.get(v, 0) + 1
            if kind == "bid":
                fees[v] = fees.get(v, 0.0) + price[(v, lots[j])] * demand[j]
        for k in taken:
            fees[packages[k][1]] = fees.get(packages[k][1], 0.0) + packages[k][3]
        cost = sum(fees.values()) + sum(onboarding[v] for v in served) / years
        for v in fees:  # the vendor's largest discount that applies
            worth = [pct / 100 * fees[v] for _, dv, cond, thr, pct in discounts if dv == v and
                     (served[v] >= thr if cond == "lots_at_least" else fees[v] >= thr)]
            cost -= max(worth, default=0.0)
        best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(16))
def test_the_award_agrees_with_brute_force_on_small_events(seed):
    tables, event = _random_event(seed)
    policy = Policy(max_vendors_per_lot=1, contract_years=4)
    award = allocate(None, policy, **tables)
    assert award.status == "optimal"
    assert award.cost["total"] == pytest.approx(_brute_force(event, 4), rel=1e-7)
    # what the award reports adds up: spend net of the discounts given, packages at their price
    assert award.spend.to_numpy().sum() == pytest.approx(award.cost["unit_cost"])
    assert award.lot_by_lot_cost >= award.cost["total"] - 1e-6
    inst = make_instance(None, policy, **tables)
    assert not violations(inst, policy, award.volumes.to_numpy(float))


def test_a_package_and_a_lot_bid_never_serve_one_lot_together():
    # V1 bids HELP alone cheaply up to 60 units and a package of HELP (40) + DESK (100) cheaply;
    # taking both on HELP (100 units from one vendor) would be cheapest if allowed
    lots = pd.DataFrame({"lot_id": ["HELP", "DESK"], "annual_demand": [100.0, 100.0]})
    bids = pd.DataFrame({"vendor_id": ["V1", "V2", "V2"], "lot_id": ["HELP", "HELP", "DESK"],
                         "unit_price": [5.0, 20.0, 20.0], "capacity": [60.0, np.nan, np.nan]})
    bundles = pd.DataFrame({"bundle_id": "P", "vendor_id": "V1", "lot_id": ["HELP", "DESK"],
                            "volume": [40.0, 100.0], "price": 1000.0})
    award = allocate(None, Policy(), lots=lots, bids=bids, bundles=bundles)
    assert award.status == "optimal"
    assert award.volumes.loc["V1", "HELP"] in (40.0, 60.0)
    # both options priced: package + V2's 60 on HELP = 1000 + 1200; lot bid 60 x 5 + V2 40 + 100 x 20
    assert award.cost["total"] == pytest.approx(min(1000 + 60 * 20, 300 + 40 * 20 + 100 * 20))


def test_a_proportional_package_is_taken_in_the_same_fraction_of_every_lot():
    # the package is cheaper per unit, but no vendor may have more than 60 % of a lot
    lots = pd.DataFrame({"lot_id": ["A", "B"], "annual_demand": [100.0, 50.0]})
    bids = pd.DataFrame({"vendor_id": ["V2", "V2", "V3", "V3"], "lot_id": ["A", "B", "A", "B"],
                         "unit_price": [10.0, 10.0, 11.0, 11.0]})
    bundles = pd.DataFrame({"bundle_id": "P", "vendor_id": "V1", "lot_id": ["A", "B"],
                            "share_pct": [100.0, 80.0], "price": 1000.0, "split": "proportional"})
    award = allocate(None, Policy(max_share_pct=60.0), lots=lots, bids=bids, bundles=bundles)
    taken = award.bundles.set_index("bundle_id")
    assert taken.loc["P", "fraction"] == pytest.approx(0.6)  # 60 % of A binds first (B: 48 %)
    assert award.volumes.loc["V1", "A"] == pytest.approx(60.0)
    assert award.volumes.loc["V1", "B"] == pytest.approx(0.6 * 40.0)
    assert taken.loc["P", "price"] == pytest.approx(600.0)
    assert award.spend.loc["V1"].sum() == pytest.approx(600.0)


def test_an_all_or_nothing_package_the_policy_cannot_take_is_left_out_with_its_reason():
    lots = pd.DataFrame({"lot_id": ["A", "B"], "annual_demand": [100.0, 50.0]})
    bids = pd.DataFrame({"vendor_id": ["V2", "V2"], "lot_id": ["A", "B"], "unit_price": [10.0, 10.0]})
    bundles = pd.DataFrame({"bundle_id": "P", "vendor_id": "V1", "lot_id": ["A", "B"],
                            "share_pct": [100.0, 100.0], "price": 10.0})
    inst = make_instance(None, Policy(max_share_pct=70.0, min_vendors_per_lot=1), lots=lots, bids=bids,
                         bundles=bundles)
    assert not inst.bundle_ids
    assert any("package P left out" in why and "lot A" in why for *_, why in inst.dropped_bids)
    award = allocate(None, Policy(max_share_pct=100.0), lots=lots, bids=bids, bundles=bundles)
    assert list(award.bundles["bundle_id"]) == ["P"] and award.cost["total"] == pytest.approx(10.0)


def test_only_the_largest_discount_of_a_vendor_is_given():
    # V1: 3 % from 2 lots, 5 % from 3 lots; it wins all three lots
    lots = pd.DataFrame({"lot_id": ["A", "B", "C"], "annual_demand": [10.0, 10.0, 10.0]})
    bids = pd.DataFrame({"vendor_id": ["V1"] * 3 + ["V2"] * 3, "lot_id": ["A", "B", "C"] * 2,
                         "unit_price": [10.0, 10.0, 10.0, 10.2, 10.2, 10.2]})
    discounts = pd.DataFrame({"discount_id": ["D3", "D5"], "vendor_id": "V1",
                              "condition": "lots_at_least", "threshold": [2, 3], "discount_pct": [3.0, 5.0]})
    award = allocate(None, Policy(), lots=lots, bids=bids, discounts=discounts)
    assert list(award.discounts["discount_id"]) == ["D5"]
    assert award.discounts["amount"].iloc[0] == pytest.approx(0.05 * 300)
    assert award.cost["total"] == pytest.approx(300 * 0.95)
    assert award.lot_by_lot_cost == pytest.approx(300.0)


def test_a_spend_threshold_draws_volume_to_the_vendor_that_offers_it():
    # V1 is dearer on B, but 10 % off everything above 150 a year makes A + B with V1 cheapest
    lots = pd.DataFrame({"lot_id": ["A", "B"], "annual_demand": [10.0, 10.0]})
    bids = pd.DataFrame({"vendor_id": ["V1", "V1", "V2"], "lot_id": ["A", "B", "B"],
                         "unit_price": [10.0, 10.5, 10.0]})
    discounts = pd.DataFrame({"discount_id": ["D1"], "vendor_id": "V1", "condition": "spend_at_least",
                              "threshold": [150.0], "discount_pct": [10.0]})
    award = allocate(None, Policy(max_vendors_per_lot=1), lots=lots, bids=bids, discounts=discounts)
    assert award.volumes.loc["V1"].tolist() == [10.0, 10.0]
    assert award.cost["total"] == pytest.approx(0.9 * 205.0)
    assert award.lot_by_lot_cost == pytest.approx(200.0)
    # the rules on spend read spend before discounts: a 50 % cap on V1's spend keeps B with V2
    capped = allocate(None, Policy(max_vendors_per_lot=1, max_spend_share_pct=50.0), lots=lots, bids=bids,
                      discounts=discounts)
    assert capped.volumes.loc["V1", "B"] == 0.0 and capped.discounts.empty


def test_an_excluded_vendor_offers_no_package_and_no_discount():
    tables, _ = _nebel_wolfl()
    award = allocate(None, Policy(exclude=["V_b2"]), **tables)
    assert "b2" not in set(award.bundles["bundle_id"])
    assert award.cost["total"] == pytest.approx(80.0 - 10.0)  # b1 + b5 = 10 is then best


def test_volumes_read_back_the_packages_they_took():
    tables, _ = _nebel_wolfl()
    policy = Policy()
    award = allocate(None, policy, **tables)
    inst = make_instance(None, policy, **tables)
    sx, sz = segments_from_volumes(inst, award.volumes.to_numpy(float))
    pieces = inst.seg_bundle[(sz > 0.5) & (inst.seg_bundle >= 0)]
    assert sorted(inst.bundle_ids[k] for k in set(pieces.tolist())) == ["b2", "b3"]
    again = allocate(None, policy, start=award, **tables)
    assert again.cost["total"] == pytest.approx(award.cost["total"])


def test_scoped_rules_and_spend_caps_hold_with_packages():
    tables, keep_all = _nebel_wolfl()
    # at most 42 % of spend with one vendor: the buyer keeping 5 items (50 of ~80) is too much
    cap = 42.0
    award = allocate(None, Policy(max_spend_share_pct=cap), **tables)
    assert award.status == "optimal"
    shares = award.spend.sum(axis=1) / award.spend.to_numpy().sum()
    assert (shares <= cap / 100 + 1e-9).all()
    packages = tables["bundles"].groupby("bundle_id").agg(lots=("lot_id", set), price=("price", "first"))
    best = np.inf
    for r in range(len(packages) + 1):
        for combo in itertools.combinations(packages.itertuples(), r):
            covered = [lot for p in combo for lot in p.lots]
            if len(covered) != len(set(covered)):
                continue
            fees = [p.price for p in combo] + [10.0 * (8 - len(covered))]
            if max(fees) <= cap / 100 * sum(fees) + 1e-9:
                best = min(best, sum(fees))
    assert award.cost["total"] == pytest.approx(best)
    rule = {"name": "items 1 to 4 stay with the buyer", "lots": ["1", "2", "3", "4"],
            "vendors": ["KEEP"], "measure": "demand_share", "bound": "equal", "value": 100}
    kept = allocate(None, Policy(rules=[rule]), **tables)
    assert kept.feasible and (kept.volumes.loc["KEEP", ["1", "2", "3", "4"]] == 1.0).all()
    assert list(kept.bundles["bundle_id"]) == ["b5"]  # the only package off items 1 to 4
    assert kept.cost["total"] == pytest.approx(keep_all - 2.0)


def test_package_improvement_offers_the_packages_to_an_award_without_them():
    """Fix-and-optimise on the packages' lots: from the award that keeps every item, one pass
    over the groups of packages reaches the optimum of the published example (cost 69)."""
    from sourcing.allocation.model import build_model, start_vector
    from sourcing.allocation.search import package_improve

    tables, keep_all = _nebel_wolfl()
    policy = Policy()
    inst = make_instance(None, policy, **tables)
    model = build_model(inst, policy)
    keep = np.zeros((inst.n_vendors, inst.n_lots))
    keep[inst.vendor_ids.index("KEEP")] = inst.demand
    start = start_vector(model, *segments_from_volumes(inst, keep))
    assert model.objective_at(start) == pytest.approx(keep_all)
    for lots in (None, 3):  # one group of every package; groups of at most 3 lots (b1 alone, ...)
        best = package_improve(model, start, solver="highs", time_limit=None, block_lots=lots)
        assert model.objective_at(best) <= keep_all - 10 + 1e-9
    best = package_improve(model, start, solver="highs", time_limit=None)
    assert model.objective_at(best) == pytest.approx(keep_all - 11)
