"""The failure recourse of the contract model: by hand, and draw by draw against the risk-aware award."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sourcing.allocation import Policy, allocate
from sourcing.allocation._data import make_instance
from sourcing.allocation.risk import RiskScenarios, scenario_costs
from sourcing.simulation import DRIVERS, Assumptions, SourcingScenario, constant, multi_vendor


def _two_vendors(cap_b: float, sw: float = 8.0) -> SourcingScenario:
    a = Assumptions(indexation=constant(0.0), growth_spread=0.0, governance_share=constant(0.0),
                    breach_impact=constant(0.0), transition_overrun=constant(1.0),
                    failure_premium=0.10, warm_switch_share=0.25)
    base = {"lot_id": "L1", "setup_cost": 0.0, "switching_cost": 0.0, "growth": 0.0,
            "breach_prob": 0.0, "credit_pct": 0.0, "exposure": 0.5, "switch_per_unit": sw}
    lines = pd.DataFrame([
        base | {"provider": "A", "units": 700.0, "unit_price": 10.0, "list_price": 11.0,
                "lot_share": 0.7, "capacity": 1000.0},
        base | {"provider": "B", "units": 300.0, "unit_price": 12.0, "list_price": 12.0,
                "lot_share": 0.3, "capacity": cap_b},
    ])
    v = {"failure_prob": 0.1, "exit_cost": 1000.0, "onboarding_cost": 0.0, "incident_rate": 0.0,
         "security_score": 70.0, "iso27001": True, "offshore_share": 0.0, "currency": "EUR",
         "has_backup": True, "replacement_onboarding": 500.0}
    vendors = pd.DataFrame([v, v], index=["A", "B"])
    return SourcingScenario("two", lines, vendors, years=5, discount_rate=0.0, assumptions=a)


@pytest.mark.parametrize("cap_b", [np.inf, 500.0])
def test_failure_recourse_by_hand(cap_b):
    """A (700 units at 10, list 11) fails in year 2 of 5; B (12 per unit) serves the lot with spare
    capacity cap_b - 300.  Warm per unit over years 3-5: 0.25 x 8 + 3 x 12 = 38; cold: 8 + 3 x 1.1
    x 11 = 44.3, so warm fills first.  Unlimited: 700 warm.  Capacity 500: 200 warm, 500 cold.
    Failure cost = 1 000 exit + 500 onboarding + switching in year 2 + new fees - A's fees
    (3 x 7 000) in years 3-5."""
    s = _two_vendors(cap_b)
    x = {k: np.full(1, d.mean) for k, d in s.inputs().items()}
    _, drivers = s.evaluate(x, {"failure[A]": np.array([2.0])}, 1)
    d = dict(zip(DRIVERS, drivers[0], strict=True))
    warm = 700.0 if np.isinf(cap_b) else cap_b - 300.0
    cold = 700.0 - warm
    expected = 1500 + warm * 2.0 + cold * 8.0 + 3 * (warm * 12 + cold * 12.1 - 7000)
    assert d["vendor_failure"] == pytest.approx(expected)
    # no warm vendor: the old rule (cold: switching of all units, then the premium on the fee)
    alone = s.with_(lines=s.lines.iloc[:1], vendors=s.vendors.iloc[:1])
    _, dr = alone.evaluate({k: np.full(1, v.mean) for k, v in alone.inputs().items()},
                           {"failure[A]": np.array([2.0])}, 1)
    assert dict(zip(DRIVERS, dr[0], strict=True))["vendor_failure"] == pytest.approx(
        1500 + 700 * 8 + 3 * (700 * 12.1 - 7000))


def test_more_spare_capacity_never_costs_more():
    """Property: raising the backup's capacity can only lower the failure cost (warm is cheaper)."""
    costs = []
    for cap in (300.0, 400.0, 700.0, 1000.0, np.inf):
        s = _two_vendors(cap)
        _, dr = s.evaluate({k: np.full(1, d.mean) for k, d in s.inputs().items()},
                           {"failure[A]": np.array([1.0])}, 1)
        costs.append(dr[0][DRIVERS.index("vendor_failure")])
    assert np.all(np.diff(costs) <= 1e-9)


def test_contract_model_agrees_with_risk_award_draw_by_draw(tender):
    """Same draws (growth, indexation, failure years) through the contract model and through the
    risk-aware award's evaluator: fees + failure cost agree draw by draw (rtol 1e-9)."""
    policy = Policy(min_vendors_per_lot=2, max_share_pct=70)
    award = allocate(tender, policy)
    scen = multi_vendor(tender, award)
    n, T = 200, scen.years
    rng = np.random.default_rng(1)
    x = {k: d.sample(n, rng=rng) for k, d in scen.inputs().items()}
    ev = {}
    fy = np.full((n, len(tender.vendor_ids)), np.inf)
    for k, spec in scen.events().items():
        if spec[0] == "failure":
            v = k[len("failure["):-1]
            ev[k] = rng.integers(1, T + 3, n).astype(float)
            fy[:, tender.vendor_ids.index(v)] = ev[k]
        else:  # SLA months and security losses: present, they do not enter fees + failure
            ev[k] = np.zeros((n, T))
    cash, drivers = scen.evaluate(x, ev, n)
    cols = [DRIVERS.index(d) for d in ("service", "escalation", "vendor_failure")]
    sim = drivers[:, cols].sum(axis=1)
    t = np.arange(T)
    a = scen.assumptions
    index = (1 + np.minimum(x["indexation"], a.escalation_cap))[:, None] ** t
    growth = np.stack([(1 + x[f"growth[{lot}]"])[:, None] ** t for lot in tender.lot_ids], axis=1)
    fail_cost = scen.vendors.reindex(tender.vendor_ids)[["exit_cost", "replacement_onboarding"]].sum(
        axis=1).fillna(0).to_numpy()
    rs = RiskScenarios(tuple(tender.vendor_ids), tuple(tender.lot_ids), fy, index, growth, fail_cost,
                       a.failure_premium, a.warm_switch_share)
    inst = make_instance(tender, policy)
    mine = scenario_costs(inst, policy, rs, award.volumes.to_numpy())
    assert np.allclose(mine["fees"] + mine["failure"], sim, rtol=1e-9)
    assert (mine["failure"] != 0).any()
