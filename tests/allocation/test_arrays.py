"""The award model on arrays: same problem as its PuLP view, named rule blocks, exact ties,
warm starts, and an absurd budget diagnosed as such."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pulp
import pytest
from hypothesis import HealthCheck, given, settings

from sourcing import read_tender
from sourcing.allocation import Policy, allocate, constraint_costs
from sourcing.allocation._data import make_instance
from sourcing.allocation._solvers import (
    COST_TOLERANCE,  # two solves agree to it, not to the last bit
    cbc_path,
    solve_arrays,
)
from sourcing.allocation.model import build_model, cost_reference
from sourcing.allocation.solve import snap

# the random instances and the textbook instance of test_model (tests run with --import-mode=importlib,
# so the sibling module is loaded from its file)
_spec = importlib.util.spec_from_file_location("_allocation_test_model",
                                               Path(__file__).with_name("test_model.py"))
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
chaudhry_like_instance, instances = _cases.chaudhry_like_instance, _cases.instances

RULED = Policy(min_vendors_per_lot=2, max_share_pct=70, max_spend_share_pct=50, risk_cap=45,
               max_lots_per_vendor=4, max_vendors_total=6, include=("V03",), budget=2e7,
               demand_tolerance_pct=2)


def _random_points(model, rng, n=5):
    """Points in the column box: binaries 0/1, bounded columns uniform, free ones up to 1e4."""
    lo = model.lb
    hi = np.where(np.isfinite(model.ub), model.ub, lo + 1e4)
    for _ in range(n):
        x = lo + rng.random(model.n_cols) * (hi - lo)
        x[model.integer] = np.round(x[model.integer])
        yield x


def assert_same_problem(model, rng):
    """The PuLP view has the same columns, rows (names, senses, right-hand sides), objective and
    row activities at random points as the arrays."""
    prob, variables = model.to_pulp()
    assert [v.name for v in variables] == model.column_names()
    cons = prob.constraints()
    names = [n for b in model.blocks for n in b.row_names()]
    assert [c.name for c in cons] == names and len(set(names)) == len(names)
    sense = np.concatenate([b.sense for b in model.blocks])
    rhs = np.concatenate([b.rhs for b in model.blocks])
    np.testing.assert_array_equal([c.sense for c in cons], sense)
    np.testing.assert_allclose([-c.constant for c in cons], rhs, rtol=0, atol=0)
    assert prob.sense == (pulp.LpMaximize if model.maximize else pulp.LpMinimize)
    for x in _random_points(model, rng):
        for v, val in zip(variables, x.tolist(), strict=True):
            v.varValue = val
        assert float(pulp.value(prob.objective)) == pytest.approx(model.objective_at(x), rel=1e-12, abs=1e-9)
        act = model.activities(x)
        pulp_act = np.array([(c.value() or 0.0) - c.constant for c in cons])
        np.testing.assert_allclose(pulp_act, act, rtol=1e-12, atol=1e-7)


@pytest.mark.parametrize("policy", [Policy(), RULED, Policy(demand="at_least", quality_floor=60),
                                    Policy(include=("V08",), exclude=("V01",), one_off="annuity")])
@pytest.mark.parametrize("elastic", [False, True])
def test_pulp_view_is_the_same_problem_on_the_sample(tender, policy, elastic):
    q = pd.Series(np.linspace(40, 90, len(tender.vendor_ids)), index=tender.vendor_ids)
    inst = make_instance(tender, policy, quality=q)
    model = build_model(inst, policy, elastic=elastic, cost_ref=cost_reference(inst))
    assert_same_problem(model, np.random.default_rng(1))


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_pulp_view_is_the_same_problem_on_random_instances(case):
    lots, bids, tiers, risk, vendors, quality, policy = case
    inst = make_instance(None, policy, lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors,
                         quality=quality)
    for objective in ("cost", "quality", 0.3) if len(inst.seg_bid) else ("cost",):
        assert_same_problem(build_model(inst, policy, objective=objective, cost_ref=cost_reference(inst)),
                            np.random.default_rng(0))


@pytest.mark.skipif(cbc_path() is None, reason="no CBC binary")
@pytest.mark.parametrize("case", ["sample", "sample-ruled", "chaudhry"])
def test_pulp_view_has_the_same_optimum(tender, case):
    """HiGHS on the arrays and PuLP's own CBC call on the PuLP view agree on the optimum: the
    sample tender, and the fixed-cost/price-break instance after Chaudhry, Forst & Zydiak (1993),
    "Vendor selection with price breaks", EJOR 70(1) (optimum checked by brute force in
    test_model)."""
    if case == "chaudhry":
        lots, bids, tiers, risk, vendors = chaudhry_like_instance()
        policy = Policy()
        inst = make_instance(None, policy, lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors)
    else:
        policy = RULED if case == "sample-ruled" else Policy(min_vendors_per_lot=2)
        inst = make_instance(tender, policy)
    model = build_model(inst, policy)
    info = solve_arrays(model, solver="highs", mip_gap=0)
    assert info.status == "optimal"
    prob = model.to_pulp()[0]
    prob.solve(pulp.COIN_CMD(msg=False, gapRel=0, path=cbc_path()))
    assert pulp.LpStatus[prob.status] == "Optimal"
    assert pulp.value(prob.objective) == pytest.approx(info.objective, rel=1e-7)
    if case == "chaudhry":
        assert info.objective == pytest.approx(21450.0, rel=COST_TOLERANCE)


def test_award_model_is_the_pulp_problem_with_the_solution(tender):
    a = allocate(tender, Policy(min_vendors_per_lot=2), mip_gap=0)
    prob = a.model
    assert isinstance(prob, pulp.LpProblem)
    assert float(pulp.value(prob.objective)) == pytest.approx(a.cost["total"], rel=1e-9)
    prob.writeLP  # the usual PuLP export is there for users  # noqa: B018


def test_rule_blocks_carry_rule_and_scope(tender):
    inst = make_instance(tender, RULED)
    model = build_model(inst, RULED)
    rules = {b.rule for b in model.blocks if not b.structural}
    assert rules == {"demand", "min_vendors_per_lot", "risk_cap", "max_lots_per_vendor", "max_vendors_total",
                     "include", "max_spend_share_pct", "budget"}
    by_rule = {b.rule: b for b in model.blocks}
    assert by_rule["demand"].scope == "lot" and by_rule["demand"].n_rows == 2 * inst.n_lots  # +- 2 %
    assert by_rule["include"].row_names() == ["include_2"]
    assert by_rule["budget"].row_names() == ["budget"]
    a = allocate(tender, Policy(min_vendors_per_lot=2, max_share_pct=70, risk_cap=45), mip_gap=0)
    rules_priced = {k.split(":")[0] for k in a.shadow_prices.index}
    assert rules_priced <= {"demand", "min_vendors_per_lot", "risk_cap"}
    assert set(a.shadow_prices.filter(like="demand:").index) == {f"demand:{lot}" for lot in tender.lot_ids}


def test_build_is_invariant_to_bid_row_order(tender):
    """Shuffling the rows of the bids table changes neither the optimum nor the award."""
    pol = Policy(min_vendors_per_lot=2, max_share_pct=70)
    base = allocate(tender, pol, mip_gap=0)
    shuffled = tender.bids.sample(frac=1.0, random_state=3).reset_index(drop=True)
    other = allocate(tender, pol, bids=shuffled, mip_gap=0)
    assert other.cost["total"] == pytest.approx(base.cost["total"], rel=COST_TOLERANCE)
    pd.testing.assert_frame_equal(other.volumes, base.volumes, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------- exact ties and snapping


def _two_vendor_lot():
    lots = pd.DataFrame({"lot_id": ["L"], "annual_demand": [1300.0]}).set_index("lot_id")
    bids = pd.DataFrame({"vendor_id": ["A", "B"], "lot_id": ["L", "L"], "unit_price": [10.0, 10.0],
                         "capacity": [700.0, 900.0]})
    return lots, bids


def test_snap_restores_the_round_optimum():
    """700.00047 / 599.99953 (a tie-break that leant on the solver's tolerance) snap to 700 / 600,
    and every rule holds after snapping."""
    lots, bids = _two_vendor_lot()
    policy = Policy()
    inst = make_instance(None, policy, lots=lots, bids=bids)
    x, z = snap(inst, policy, np.array([700.00047, 599.99953]), np.ones(2))
    assert x.tolist() == [700.0, 600.0] and z.tolist() == [1.0, 1.0]
    # one volume near a round value, the other not: the lot is rebalanced on the other
    x, _ = snap(inst, policy, np.array([699.9996, 600.0004]), np.ones(2))
    assert x.tolist() == [700.0, 600.0]
    # not within tolerance: left alone
    x, _ = snap(inst, policy, np.array([650.5, 649.5]), np.ones(2))
    assert x.tolist() == [650.5, 649.5]


def test_snap_refuses_when_a_rule_would_break():
    """Snapping (700.0004, 599.9996) to (700, 600) moves 0.0004 units from the cheaper vendor to the
    dearer one; with a budget equal to the unsnapped cost that breaks the budget, so the volumes
    are returned unchanged.  Without the budget they snap."""
    lots = pd.DataFrame({"lot_id": ["L"], "annual_demand": [1300.0]}).set_index("lot_id")
    bids = pd.DataFrame({"vendor_id": ["A", "B"], "lot_id": ["L", "L"], "unit_price": [10.0, 11.0],
                         "capacity": [900.0, 900.0]})
    x0 = np.array([700.0004, 599.9996])
    tight = Policy(budget=float(10 * x0[0] + 11 * x0[1]))
    inst = make_instance(None, tight, lots=lots, bids=bids)
    x, _ = snap(inst, tight, x0, np.ones(2))
    assert x.tolist() == x0.tolist()
    x, _ = snap(make_instance(None, Policy(), lots=lots, bids=bids), Policy(), x0, np.ones(2))
    assert x.tolist() == [700.0, 600.0]


def test_tie_break_is_on_the_optimal_face(tender):
    """The tie-break costs nothing beyond 1e-10 of the optimum (it used to spend up to 1e-7) and
    leaves no tolerance noise: the sample award's cost equals the award without tie-break."""
    for pol in (Policy(min_vendors_per_lot=2, max_share_pct=70, max_spend_share_pct=50, risk_cap=45),
                Policy(max_vendors_total=3, max_lots_per_vendor=3),
                Policy(min_vendors_per_lot=2, max_share_pct=70)):
        a = allocate(tender, pol, mip_gap=0)
        b = allocate(tender, pol.model_copy(update={"tie_break": False}), mip_gap=0)
        assert a.cost["total"] == pytest.approx(b.cost["total"], rel=COST_TOLERANCE)
    lots, bids = _two_vendor_lot()
    bids = bids.assign(vendor_id=["B", "A"])
    vendors = pd.DataFrame({"vendor_id": ["A", "B"], "incumbent": False}).set_index("vendor_id")
    a = allocate(lots=lots, bids=bids, vendors=vendors, mip_gap=0)
    # identical prices: the tie-break fills A (first in vendor order) to its capacity of 900
    assert a.volumes.loc["A", "L"] == 900.0 and a.volumes.loc["B", "L"] == 400.0


# ---------------------------------------------------------------------- warm starts


def test_warm_start_from_the_base_award(tender):
    """A relaxed policy started from the stricter award finds the same optimum as from scratch; a
    start that breaks the policy is ignored."""
    strict = Policy(min_vendors_per_lot=3, max_share_pct=60)
    base = allocate(tender, strict, mip_gap=0)
    relaxed = strict.relaxed("min_vendors_per_lot")
    warm = allocate(tender, relaxed, start=base, mip_gap=0)
    cold = allocate(tender, relaxed, mip_gap=0)
    assert warm.cost["total"] == pytest.approx(cold.cost["total"], rel=COST_TOLERANCE)
    assert warm.cost["total"] <= base.cost["total"] * (1 + COST_TOLERANCE)
    loose = allocate(tender, Policy(), mip_gap=0)
    again = allocate(tender, strict, start=loose, mip_gap=0)  # infeasible start: not used
    assert again.cost["total"] == pytest.approx(base.cost["total"], rel=COST_TOLERANCE)
    with pytest.raises(TypeError, match="start must be an Award"):
        allocate(tender, strict, start="award")


def test_constraint_costs_under_a_time_limit_are_never_negative(tender):
    """Re-solves start from the base award, so a relaxed rule never costs more than the whole
    policy, even cut short by a time limit."""
    pol = Policy(min_vendors_per_lot=2, max_share_pct=70, risk_cap=45, max_spend_share_pct=50)
    for limit in (2, None):
        cc = constraint_costs(tender, pol, time_limit=limit)
        # exact, on any machine: the whole policy's award bounds the cost without each rule
        assert (cc["cost_without"] <= cc["cost_with"]).all()
        assert (cc["cost_of_rule"] >= 0).all()


# ---------------------------------------------------------------------- absurd budget, currency


def test_absurd_budget_is_blamed_on_the_budget(tender, sample_path, tmp_path):
    """Issue 11 item 12: Policy(budget=1) is infeasible because the budget is too low, not because
    every lot's demand is short; the message is in the tender's currency."""
    a = allocate(tender, Policy(budget=1))
    assert a.status == "infeasible"
    assert ("the budget of EUR 1 a year is too low: the cheapest award under the other rules costs EUR"
            in a.diagnosis)
    assert "short of its demand" not in a.diagnosis
    folder = tmp_path / "sek"
    shutil.copytree(sample_path, folder)
    settings_csv = folder / "settings.csv"
    settings_csv.write_text(settings_csv.read_text().replace("currency,EUR", "currency,SEK"))
    sek = read_tender(folder)
    b = allocate(sek, Policy(budget=1))
    assert "budget of SEK 1 a year is too low" in b.diagnosis and "EUR" not in b.diagnosis
    assert b.currency == "SEK"


# ---------------------------------------------------------------------- local search on the arrays


def test_vendor_close_and_blocks_keep_every_rule_and_never_worsen():
    """Dropping engaged vendors and re-solving blocks of lots start from the greedy award, return
    awards that satisfy every rule (independent check: ``violations``) and never cost more."""
    from sourcing.allocation.award import violations, volumes_of
    from sourcing.allocation.heuristic import greedy
    from sourcing.allocation.model import start_vector
    from sourcing.allocation.search import block_improve, vendor_close
    from sourcing.allocation.solve import _values

    lots, bids, tiers, risk = _cases._hard_instance(nv=12, nl=20, seed=7)
    policy = Policy(max_vendors_per_lot=3, max_spend_share_pct=30)
    inst = make_instance(None, policy, lots=lots, bids=bids, tiers=tiers, risk=risk)
    model = build_model(inst, policy)
    start = start_vector(model, *greedy(inst, policy))
    first = model.objective_at(start)
    closed, _ = vendor_close(model, start, solver="highs", time_limit=20)
    blocked, _ = block_improve(model, closed, np.ones(len(inst.bid_vendor), bool), solver="highs",
                               time_limit=20)
    for vec in (closed, blocked):
        model.values = vec
        sx, _sz = _values(model)
        assert violations(inst, policy, volumes_of(inst, sx), atol=1e-6) == []
    tol = 1 + COST_TOLERANCE
    assert model.objective_at(blocked) <= model.objective_at(closed) * tol <= first * tol
    full = solve_arrays(model, solver="highs", mip_gap=0, time_limit=60)
    assert full.bound <= model.objective_at(blocked) * (1 + 1e-9)


def test_reduced_solve_of_a_fixed_model_equals_the_full_solve(tender):
    """A MILP with columns fixed goes to HiGHS as the model of its free columns; it finds the
    same optimum as HiGHS on the whole model with those bounds fixed, and the values it returns
    keep the fixed columns."""
    from sourcing.allocation._solvers import _fixed, highs_arrays

    policy = Policy(min_vendors_per_lot=2, max_share_pct=70, max_spend_share_pct=50)
    inst = make_instance(tender, policy)
    model = build_model(inst, policy)
    assert solve_arrays(model, mip_gap=0).status == "optimal"
    opt = model.values.copy()
    S = len(inst.seg_bid)
    rng = np.random.default_rng(5)
    lots = rng.choice(inst.n_lots, 2, replace=False)
    outside = np.flatnonzero(~np.isin(inst.bid_lot[inst.seg_bid], lots))
    cols = np.concatenate([outside, S + outside])
    fix = (cols, opt[cols])
    reduced = solve_arrays(model, mip_gap=0, fix=fix)
    np.testing.assert_array_equal(model.values[cols], opt[cols])
    lb, ub = _fixed(model.lb, model.ub, fix)
    starts, idx, val, lo, hi = model.csr()
    full, _, _ = highs_arrays(lb, ub, model.integer, model.c, 1.0, model.c0, starts, idx, val, lo, hi,
                              mip_gap=0)
    assert reduced.status == full.status == "optimal"
    assert reduced.objective == pytest.approx(full.objective, rel=COST_TOLERANCE)
    assert reduced.objective == pytest.approx(model.objective_at(opt), rel=COST_TOLERANCE)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(instances())
def test_tightened_segment_caps_keep_the_optimum(monkeypatch, case):
    """With min_vendors_per_lot the segment caps shrink by the least volumes the other vendors must
    take; the optimum is the same as with the plain caps (``Instance.seg_hi``)."""
    from sourcing.allocation import model as award_model

    lots, bids, tiers, risk, vendors, quality, policy = case
    policy = policy.model_copy(update={"min_vendors_per_lot": 2, "min_share_pct": 20.0,
                                       "max_vendors_per_lot": None, "max_share_pct": None,
                                       "max_share_pct_by_lot": None})
    kw = dict(lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors, quality=quality, mip_gap=0)
    tight = allocate(policy=policy, **kw)
    with monkeypatch.context() as m:
        m.setattr(award_model, "_segment_caps", lambda inst, policy, seg_l, lot_vendors: inst.seg_hi.copy())
        plain = allocate(policy=policy, **kw)
    assert tight.status == plain.status
    if tight.feasible:
        assert tight.cost["total"] == pytest.approx(plain.cost["total"], rel=COST_TOLERANCE, abs=1e-6)


def test_segment_caps_leave_room_for_the_other_vendors(tender):
    policy = Policy(min_vendors_per_lot=2, min_share_pct=25)
    inst = make_instance(tender, policy)
    model = build_model(inst, policy)
    d = inst.demand[inst.bid_lot[inst.seg_bid]]
    assert (model.ub[model.cols("x")] <= 0.75 * d * (1 + 1e-12)).all()
    assert (inst.seg_hi > 0.75 * d).any()  # the plain caps were looser
