"""The first award: construction under each lot's own rules, mended lot by lot, repaired as a
MILP; judged by ``violations``.  It is feasible whenever the MILP finds an award, and a solve cut
short by its time limit reports an award with a finite bound (no timed assertions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcing.allocation import Policy, allocate
from sourcing.allocation._data import make_instance
from sourcing.allocation._solvers import solve_arrays
from sourcing.allocation.award import violations, volumes_of
from sourcing.allocation.bound import knapsack_bound
from sourcing.allocation.heuristic import construct
from sourcing.allocation.model import build_model, cost_reference
from sourcing.allocation.scoped import ScopedRule
from sourcing.allocation.search import first_award

_spec = importlib.util.spec_from_file_location("_allocation_test_model_h",
                                               Path(__file__).with_name("test_model.py"))
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)


def _tables(n_vendors: int, n_lots: int, seed: int):
    """A seeded tender with all-unit tiers, capacities, setup and onboarding costs (the hard
    instance of test_model), vendors with a country and an offshore share, lots by tower."""
    lots, bids, tiers, risk = _cases._hard_instance(nv=n_vendors, nl=n_lots, seed=seed)
    rng = np.random.default_rng(seed)
    lots = lots.assign(tower=np.where(np.arange(n_lots) % 2 == 0, "desk", "network"))
    vids = list(risk.index)
    vendors = pd.DataFrame({"vendor_id": vids, "incumbent": False,
                            "country": rng.choice(["DE", "IN", "PL"], n_vendors),
                            "offshore_share_pct": rng.uniform(0, 90, n_vendors).round()}
                           ).set_index("vendor_id")
    quality = pd.Series(rng.uniform(40, 95, n_vendors), index=vids)
    return dict(lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors, quality=quality)


OFFSHORE = {"offshore_share_pct": {">=": 50}}
ONSHORE = {"offshore_share_pct": {"<": 50}}


@st.composite
def policies(draw):
    """Spend caps and minimum shares with vendor counts, a quality floor and scoped rules."""
    rules = [
        ScopedRule(lots={"tower": ["desk"]}, vendors=OFFSHORE, measure="demand_share", bound="at_most",
                   value=float(draw(st.sampled_from([30, 60]))), per="lot"),
        ScopedRule(lots={"tower": ["network"]}, vendors=ONSHORE, measure="vendors", bound="at_least",
                   value=1, per="lot"),
        ScopedRule(lots={"tower": ["network"]}, vendors=OFFSHORE, measure="demand_share", bound="at_most",
                   value=float(draw(st.sampled_from([20, 50])))),
        ScopedRule(measure="spend_share", bound="at_most", value=float(draw(st.sampled_from([45, 60]))),
                   per="country"),
        ScopedRule(vendors=OFFSHORE, measure="vendors", bound="at_most", value=draw(st.integers(2, 5))),
        ScopedRule(lots={"tower": ["desk"]}, measure="lots", bound="at_most", value=draw(st.integers(2, 4))),
    ]
    chosen = draw(st.lists(st.sampled_from(range(len(rules))), unique=True, max_size=4))
    return Policy(max_spend_share_pct=float(draw(st.sampled_from([15, 25, 40]))),
                  min_share_pct=float(draw(st.sampled_from([0, 10, 20]))),
                  max_vendors_per_lot=draw(st.sampled_from([None, 3])),
                  quality_floor=draw(st.sampled_from([None, 55.0])),
                  rules=tuple(rules[i] for i in sorted(chosen)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.integers(0, 5))
def test_first_award_is_feasible_whenever_the_milp_finds_one(policy, seed):
    """On seeded tenders (12 vendors, 10 lots) under random spend caps, minimum shares, vendor
    counts, a quality floor and scoped rules: the first award breaks no rule, and there is one
    whenever the MILP finds one (stopped at a 50 % gap: only whether an award exists counts)."""
    tables = _tables(12, 10, seed)
    inst = make_instance(None, policy, **tables)
    model = build_model(inst, policy, cost_ref=cost_reference(inst))
    got = first_award(model, solver="highs")
    milp = solve_arrays(model, mip_gap=0.5, time_limit=20)  # only whether an award exists
    if got is not None:
        assert not violations(inst, policy, volumes_of(inst, got[0]), atol=1e-6)
    if milp.has_solution:
        assert got is not None


def test_construction_mends_rules_across_lots_without_a_solver():
    """A ceiling on offshore vendors overall and on their share of the network lots, and a
    spend cap: the construction alone (lot refills, no MILP) meets them."""
    policy = Policy(max_spend_share_pct=25.0, min_share_pct=10.0, max_vendors_per_lot=3, rules=(
        ScopedRule(vendors=OFFSHORE, measure="vendors", bound="at_most", value=3),
        ScopedRule(lots={"tower": ["network"]}, vendors=OFFSHORE, measure="demand_share", bound="at_most",
                   value=20),
    ))
    tables = _tables(12, 10, 1)
    inst = make_instance(None, policy, **tables)
    free = construct(inst, policy.model_copy(update={"rules": (), "max_spend_share_pct": None}))
    assert violations(inst, policy, free, atol=1e-6)          # the cheapest fill breaks them
    vol = construct(inst, policy)
    assert vol is not None
    assert not violations(inst, policy, vol, atol=1e-6)


def test_knapsack_bound_is_below_the_optimum():
    """The knapsack bound relaxes the model: at most the LP bound's neighbour, at most the optimum."""
    tables = _tables(12, 10, 2)
    policy = Policy(max_spend_share_pct=25.0, min_share_pct=10.0, quality_floor=55.0, rules=(
        ScopedRule(lots={"tower": ["desk"]}, vendors=OFFSHORE, measure="only"),))
    inst = make_instance(None, policy, **tables)
    model = build_model(inst, policy, cost_ref=cost_reference(inst))
    bound = knapsack_bound(model)
    opt = solve_arrays(model, mip_gap=0, time_limit=60)
    assert opt.status == "optimal"
    assert np.isfinite(bound) and 0 < bound <= opt.objective * (1 + 1e-9)


@pytest.mark.parametrize("limit", [0.5, 3.0])
def test_time_limited_solve_reports_an_award_and_a_finite_bound(limit):
    """A solve cut short still returns an award that breaks no rule, with a finite bound below
    its cost and a gap; 'no solution' is not an answer when an award exists."""
    tables = _tables(30, 60, 3)
    policy = Policy(max_spend_share_pct=10.0, min_share_pct=10.0, max_vendors_per_lot=3, quality_floor=55.0,
                    rules=(ScopedRule(vendors=OFFSHORE, measure="vendors", bound="at_most", value=8),))
    a = allocate(None, policy, time_limit=limit, **tables)
    assert a.status in ("optimal", "feasible", "heuristic")
    inst = make_instance(None, policy, **tables)
    vol = a.volumes.reindex(index=inst.vendor_ids, columns=inst.lot_ids).to_numpy(float)
    assert not violations(inst, policy, vol, atol=1e-6)
    if a.status != "heuristic":
        assert np.isfinite(a.bound) and a.bound <= a.cost["total"] * (1 + 1e-9)
        assert np.isfinite(a.gap) and a.gap >= 0
