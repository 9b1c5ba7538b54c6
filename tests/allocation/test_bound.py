"""The Lagrangian bound by lots: valid for any multipliers, at least the LP bound with the LP's
duals (Geoffrion 1974, Theorem 1), exact when the lots do not interact, and what a huge model's
award reports as its bound."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from sourcing.allocation import Policy, allocate
from sourcing.allocation._data import make_instance
from sourcing.allocation._solvers import (
    COST_TOLERANCE,  # two solves agree to it, not to the last bit
    solve_arrays,
)
from sourcing.allocation.bound import lagrangian_bound
from sourcing.allocation.model import build_model, cost_reference

_spec = importlib.util.spec_from_file_location("_allocation_test_model",
                                               Path(__file__).with_name("test_model.py"))
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
chaudhry_like_instance, brute_force, instances = (_cases.chaudhry_like_instance, _cases.brute_force,
                                                  _cases.instances)


def seeded_tender(n_vendors: int = 8, n_lots: int = 12, seed: int = 3):
    """The seeded hard instance of test_model (all-unit tiers, capacities, setup and onboarding
    costs) with quality scores, share caps on two lots, a quality floor and a concentration cap:
    lots interact through the vendors' onboarding and spend."""
    lots, bids, tiers, risk = _cases._hard_instance(nv=n_vendors, nl=n_lots, seed=seed)
    vids = list(risk.index)
    vendors = pd.DataFrame({"vendor_id": vids, "incumbent": False}).set_index("vendor_id")
    quality = pd.Series(np.random.default_rng(seed).uniform(40, 95, n_vendors), index=vids)
    policy = Policy(max_vendors_per_lot=3, quality_floor=55.0, max_spend_share_pct=40.0,
                    max_share_pct_by_lot={lots.index[0]: 70.0, lots.index[1]: 70.0})
    return dict(lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors, quality=quality), policy


def _model(tables, policy, objective="cost"):
    inst = make_instance(None, policy, **tables)
    return build_model(inst, policy, objective=objective, cost_ref=cost_reference(inst))


def _lp_and_optimum(model):
    lp = solve_arrays(model, relax=True)
    duals = model.duals.copy() if lp.status == "optimal" else None
    opt = solve_arrays(model, mip_gap=0, time_limit=60)
    return lp, duals, opt


def test_bound_between_lp_and_optimum_on_a_seeded_tender():
    """Geoffrion (1974), Theorem 1: with the LP's optimal duals the Lagrangian bound is at least
    the LP bound, and (weak duality) at most the optimum; on a tender with tiers and setup costs it
    is strictly tighter than the LP.  The model's values and duals are left as they were."""
    tables, policy = seeded_tender()
    model = _model(tables, policy)
    lp, duals, opt = _lp_and_optimum(model)
    assert lp.status == "optimal" and opt.status == "optimal"
    values, kept = model.values.copy(), model.duals
    lag = lagrangian_bound(model, duals, mip_gap=0)
    np.testing.assert_array_equal(model.values, values)
    assert model.duals is kept
    assert lag.lp_value == pytest.approx(lp.objective, rel=COST_TOLERANCE)
    assert lp.objective - 1e-6 * abs(lp.objective) <= lag.value <= opt.objective * (1 + 1e-7)
    assert lag.value > lp.objective * (1 + 1e-3)          # tiers and setups: the lot MILPs bite
    assert lag.lots_solved == lag.lots_total == 12
    # the incumbent's reduced-cost fixing keeps the bound (it only removes worse lot solutions)
    fixed = lagrangian_bound(model, duals, incumbent=model.values, mip_gap=0)
    assert fixed.value == pytest.approx(lag.value, rel=COST_TOLERANCE)
    assert fixed.value <= opt.objective * (1 + 1e-7)


def test_any_multipliers_give_a_valid_bound():
    """Weak duality holds for every multiplier vector, not only the LP's duals: perturbed and
    random multipliers never bound above the optimum."""
    tables, policy = seeded_tender(seed=7)
    model = _model(tables, policy)
    lp, duals, opt = _lp_and_optimum(model)
    rng = np.random.default_rng(0)
    for scale in (0.5, 1.5):
        lag = lagrangian_bound(model, duals * rng.uniform(0, 2 * scale, len(duals)))
        assert lag is not None and lag.value <= opt.objective * (1 + 1e-7)
    wild = lagrangian_bound(model, rng.normal(0, 100, len(duals)))
    assert wild is None or wild.value <= opt.objective * (1 + 1e-7)


def test_bound_is_exact_when_lots_do_not_interact():
    """Without onboarding costs and cross-lot rules the model is one MILP per lot: with zero
    multipliers the Lagrangian bound is the optimum itself."""
    tables, _ = seeded_tender(seed=11)
    policy = Policy(max_vendors_per_lot=3, quality_floor=45.0, onboarding_costs=False)
    model = _model(tables, policy)
    _lp, duals, opt = _lp_and_optimum(model)
    assert opt.status == "optimal"
    lag = lagrangian_bound(model, np.zeros_like(duals), mip_gap=0)
    assert lag.value == pytest.approx(opt.objective, rel=COST_TOLERANCE)


def test_textbook_instance_bound_below_the_enumerated_optimum():
    """The Chaudhry-like instance (fixed costs, price breaks; optimum by enumeration): the bound
    lies between the LP bound and the enumerated optimum."""
    lots, bids, tiers, risk, vendors = chaudhry_like_instance()
    model = _model(dict(lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors), Policy())
    lp, duals, _opt = _lp_and_optimum(model)
    lag = lagrangian_bound(model, duals)
    best = brute_force(lots, bids, tiers, risk, years=5)
    assert lp.objective * (1 - 1e-9) <= lag.value <= best * (1 + 1e-9)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_instances_bound_is_valid(case):
    """Every rule of the random instances (shares, vendor counts, budget, include, concentration,
    switching): LP bound <= Lagrangian bound <= optimum."""
    lots, bids, tiers, risk, vendors, quality, policy = case
    model = _model(dict(lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors, quality=quality),
                   policy)
    lp, duals, opt = _lp_and_optimum(model)
    if opt.status != "optimal" or lp.status != "optimal":
        return
    lag = lagrangian_bound(model, duals, incumbent=model.values)
    tol = 1e-6 * max(abs(opt.objective), 1.0)
    assert lp.objective - tol <= lag.value <= opt.objective + tol


def test_quality_objective_gets_an_upper_bound():
    """A maximised objective (lot-average quality, with a budget) is bounded from above."""
    tables, policy = seeded_tender(seed=5)
    first = allocate(policy=policy, mip_gap=0, **tables)
    policy = policy.model_copy(update={"budget": float(first.cost["total"]) * 1.05})
    model = _model(tables, policy, objective="quality")
    lp, duals, opt = _lp_and_optimum(model)
    lag = lagrangian_bound(model, duals)
    assert opt.status == "optimal"
    assert opt.objective * (1 - 1e-7) <= lag.value <= lp.objective * (1 + 1e-9)


def test_huge_model_reports_the_lagrangian_bound(monkeypatch):
    """A model treated as huge (no full MILP) reports the Lagrangian bound, valid and tighter
    than the LP's, with the gap that follows from it."""
    from sourcing.allocation import search as award_search

    tables, policy = seeded_tender(n_vendors=10, n_lots=30, seed=2)
    exact = allocate(policy=policy, mip_gap=0, time_limit=60, **tables)
    monkeypatch.setattr(award_search, "NEIGHBOURHOOD_MIN_SEGMENTS", 10)
    monkeypatch.setattr(award_search, "HUGE_SEGMENTS", 20)
    a = allocate(policy=policy, time_limit=20, **tables)
    lp = solve_arrays(_model(tables, policy), relax=True)
    assert exact.status == "optimal" and a.status in ("feasible", "optimal")
    assert lp.objective * (1 + 1e-3) < a.bound <= exact.objective * (1 + 1e-7)
    assert a.gap == pytest.approx((a.objective - a.bound) / a.objective, rel=1e-9)


def test_a_failing_bound_leaves_the_award_with_the_lp_bound(monkeypatch):
    """The Lagrangian bound is an improvement, not a condition: if it fails (memory, a solver
    error), the huge model's award stands with the LP relaxation's bound."""
    from sourcing.allocation import bound as bound_module
    from sourcing.allocation import search as award_search

    tables, policy = seeded_tender(n_vendors=10, n_lots=30, seed=2)
    monkeypatch.setattr(award_search, "NEIGHBOURHOOD_MIN_SEGMENTS", 10)
    monkeypatch.setattr(award_search, "HUGE_SEGMENTS", 20)

    def fail(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(bound_module, "lagrangian_bound", fail)
    a = allocate(policy=policy, time_limit=10, **tables)
    lp = solve_arrays(_model(tables, policy), relax=True)
    assert a.status == "feasible" and a.bound == pytest.approx(lp.objective, rel=COST_TOLERANCE)
