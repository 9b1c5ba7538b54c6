"""The policy-rule registry: one class per rule, whose rows and whose check say the same thing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sourcing.allocation import Policy
from sourcing.allocation._data import make_instance
from sourcing.allocation.award import segments_from_volumes, violations
from sourcing.allocation.model import build_model, cost_reference, start_vector
from sourcing.allocation.policy import RULES
from sourcing.allocation.rules import REGISTRY, Breach, Check, breaches, rule, vendor_count_rules
from sourcing.narrative import breach_sentences


def test_every_policy_rule_has_one_class():
    names = [r.name for r in REGISTRY]
    assert len(names) == len(set(names))
    assert set(names) == set(RULES) | {"demand"}
    assert set(vendor_count_rules()) == {"min_vendors_per_lot", "max_vendors_per_lot", "max_vendors_total",
                                         "max_share_pct", "max_share_pct_by_lot", "max_spend_share_pct"}
    with pytest.raises(ValueError, match="valid rules: demand, min_vendors_per_lot"):
        rule("max_vendor")


def _tender(seed: int):
    rng = np.random.default_rng(seed)
    V, L = 4, 3
    vids, lids = [f"V{i}" for i in range(V)], [f"L{j}" for j in range(L)]
    demand = rng.integers(50, 500, L).astype(float)
    lots = pd.DataFrame({"lot_id": lids, "unit": "users", "annual_demand": demand,
                         "incumbent": [vids[0], None, vids[2]],
                         "switching_cost_per_unit": rng.uniform(0, 20, L)}).set_index("lot_id")
    bids = pd.DataFrame([(v, lot, rng.uniform(50, 150), rng.uniform(0, 5000)) for v in vids for lot in lids],
                        columns=["vendor_id", "lot_id", "unit_price", "setup_cost"])
    risk = pd.DataFrame({"risk_score": rng.uniform(10, 90, V)}, index=pd.Index(vids, name="vendor_id"))
    vendors = pd.DataFrame({"vendor_id": vids, "onboarding_cost": rng.uniform(0, 8000, V)})
    vendors = vendors.set_index("vendor_id")
    quality = pd.Series(rng.uniform(40, 95, V), index=vids)
    return dict(lots=lots, bids=bids, risk=risk, vendors=vendors, quality=quality), rng


def _policies(rng) -> list[Policy]:
    """One policy per rule with rows, at limits drawn so that random awards fall either side."""
    return [Policy(min_vendors_per_lot=2), Policy(max_vendors_per_lot=2), Policy(max_vendors_total=2),
            Policy(max_lots_per_vendor=2), Policy(include=("V3",)),
            Policy(quality_floor=float(rng.uniform(55, 75))), Policy(risk_cap=float(rng.uniform(35, 65))),
            Policy(max_spend_share_pct=float(rng.uniform(30, 60))),
            Policy(budget=float(rng.uniform(5e4, 1.5e5))), Policy(demand="at_least", demand_tolerance_pct=2)]


def _random_volumes(rng, demand: np.ndarray, V: int) -> np.ndarray:
    """Vendor x lot volumes meeting demand, one to four vendors per lot, shares at least 5 %."""
    vol = np.zeros((V, len(demand)))
    for j, d in enumerate(demand):
        who = rng.choice(V, size=int(rng.integers(1, V + 1)), replace=False)
        share = rng.dirichlet(np.ones(len(who))) * 0.8 + 0.2 / len(who)
        vol[who, j] = share * d
    return vol


@pytest.mark.parametrize("seed", range(6))
def test_rows_and_check_agree_on_random_awards(seed):
    """Each rule's rows (its blocks in the award MILP, evaluated at the award's columns) hold if and
    only if its check finds no breach: the model and the check are one definition."""
    tables, rng = _tender(seed)
    seen = []
    for policy in _policies(rng):
        inst = make_instance(None, policy, **tables)
        model = build_model(inst, policy, cost_ref=cost_reference(inst))
        for _ in range(8):
            vol = _random_volumes(rng, inst.demand, inst.n_vendors)
            act = model.activities(start_vector(model, *segments_from_volumes(inst, vol)))
            off = model.row_offsets()
            broken_rows = set()
            for blk, o in zip(model.blocks, off, strict=False):
                a = act[o:o + blk.n_rows]
                tol = 1e-7 * np.maximum(np.abs(blk.rhs), 1.0) * np.maximum(blk.scale, 1.0)
                bad = ((blk.sense >= 0) & (a < blk.rhs - tol)) | ((blk.sense <= 0) & (a > blk.rhs + tol))
                if not blk.structural and bad.any():
                    broken_rows.add(blk.rule)
            found = {b.rule for b in violations(inst, policy, vol)}
            assert found == broken_rows, (policy, vol)
            seen.append(bool(found - {"demand"}))
    assert any(seen) and not all(seen)  # random awards fall on both sides of the limits


def test_breaches_of_a_hand_made_split():
    """Two vendors, two lots of 100 units; A holds 90 % of L1 and all of L2, B 10 % of L1."""
    chk = Check(["A", "B"], ["L1", "L2"], np.array([[90.0, 100.0], [10.0, 0.0]]),
                np.array([[900.0, 1000.0], [150.0, 0.0]]), demand=np.array([100.0, 100.0]))
    policy = Policy(min_vendors_per_lot=2, max_share_pct=80, min_share_pct=20, max_spend_share_pct=60,
                    max_lots_per_vendor=1, exclude=("B",))
    got = breaches(chk, policy)
    assert got == [
        Breach("min_vendors_per_lot", ("L2",), (), 1.0, 2.0),
        Breach("max_lots_per_vendor", (), ("A",), 2.0, 1.0),
        Breach("min_share_pct", ("L1",), ("B",), 10.0, 20.0),
        Breach("max_share_pct", ("L1",), ("A",), 90.0, 80.0),
        Breach("max_share_pct", ("L2",), ("A",), 100.0, 80.0),
        Breach("exclude", (), ("B",), 10.0, 0.0),
        Breach("max_spend_share_pct", (), ("A",), pytest.approx(100 * 1900 / 2050), 60.0),
    ]
    # the same split with the vendors and lots in another order: the same breaches
    swapped = Check(["B", "A"], ["L2", "L1"], chk.volumes[::-1, ::-1], chk.spend[::-1, ::-1],
                    demand=np.array([100.0, 100.0]))
    assert sorted(map(repr, breaches(swapped, policy))) == sorted(map(repr, got))
    assert breach_sentences(got, n_lots=2) == [
        "fewer than two vendors on L2", "A on more than one lot", "B holds 10% of L1 (at least 20%)",
        "A holds 90% of L1 (at most 80%)", "A holds 100% of L2 (at most 80%)", "B excluded by the policy",
        "A takes 93% of spend (at most 60%)"]


def test_limits_within_tolerance_are_kept():
    """A share at the cap up to the check's relative tolerance (1e-6 of the limit) is no breach."""
    chk = Check(["A", "B"], ["L1"], np.array([[70.00001], [29.99999]]), np.ones((2, 1)),
                demand=np.array([100.0]))
    assert breaches(chk, Policy(max_share_pct=70)) == []
    chk.volumes[:, 0] = [70.01, 29.99]
    assert [b.rule for b in breaches(chk, Policy(max_share_pct=70))] == ["max_share_pct"]
