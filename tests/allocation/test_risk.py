"""Risk-aware award (SAA with CVaR): closed form, reduction to the deterministic award, out of sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sourcing.allocation import Policy, allocate
from sourcing.allocation._data import make_instance
from sourcing.allocation._solvers import COST_TOLERANCE  # two solves agree to it, not to the last bit
from sourcing.allocation.award import violations
from sourcing.allocation.heuristic import greedy
from sourcing.allocation.risk import (
    RiskScenarios,
    allocate_risk,
    backup_value,
    cvar,
    risk_frontier,
    scenario_costs,
)
from sourcing.scenario import Scenario
from sourcing.scoring import evaluate
from sourcing.simulation import contract_cost, multi_vendor, risk_scenarios, simulate

ROOT_SCENARIO = "data/scenarios/baseline.yaml"


@pytest.fixture(scope="module")
def baseline(tender):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / ROOT_SCENARIO
    policy = Scenario.load(path).allocation.policy_model()
    return policy, evaluate(tender, method="topsis")


# ---------------------------------------------------------------------- (a) closed form
T, D, PA, PB, SIGMA, PREMIUM, WARM = 5, 1000.0, 100.0, 110.0, 0.10, 0.10, 0.25


def _two_vendor(sw: float):
    lots = pd.DataFrame({"lot_id": ["L"], "annual_demand": [D], "switching_cost_per_unit": [sw]})
    bids = pd.DataFrame({"vendor_id": ["A", "B"], "lot_id": ["L", "L"], "unit_price": [PA, PB]})
    return lots, bids


def _exact_scenarios(h: float) -> RiskScenarios:
    """A fails in year y = 1..T with probability h (1 - h)^(y-1), never with (1 - h)^T; B never."""
    years = np.arange(1, T + 1)
    w = np.append(h * (1 - h) ** (years - 1), (1 - h) ** T)
    fy = np.column_stack([np.append(years, np.inf), np.full(T + 1, np.inf)])
    return RiskScenarios(("A", "B"), ("L",), fy, np.ones((T + 1, T)), np.ones((T + 1, 1, T)),
                         np.array([50_000.0, 0.0]), PREMIUM, WARM, weights=w)


def _closed_form_gain(h: float, sw: float) -> float:
    """Expected cost of single sourcing to A minus dual sourcing (A 90 %, B 10 %), risk neutral.

    Single: a failure in year y costs D (sw + premium pA (T - y)) (cold).  Dual: A's 90 % moves
    warm to B at 0.9 D (w sw + (pB - pA)(T - y)); dual pays 0.1 D (pB - pA) T more in fees.  With
    P_f = 1 - (1 - h)^T and m = E[(T - y)^+] = sum_y h (1 - h)^(y-1) (T - y):
    gain = D [P_f sw (1 - 0.9 w) + m (premium pA - 0.9 (pB - pA)) - 0.1 T (pB - pA)].
    """
    y = np.arange(1, T + 1)
    pf = 1 - (1 - h) ** T
    m = float(np.sum(h * (1 - h) ** (y - 1) * (T - y)))
    return D * (pf * sw * (1 - (1 - SIGMA) * WARM) + m * (PREMIUM * PA - (1 - SIGMA) * (PB - PA))
                - SIGMA * T * (PB - PA))


def _threshold_sw(h: float) -> float:
    y = np.arange(1, T + 1)
    pf = 1 - (1 - h) ** T
    m = float(np.sum(h * (1 - h) ** (y - 1) * (T - y)))
    return (SIGMA * T * (PB - PA) - m * (PREMIUM * PA - (1 - SIGMA) * (PB - PA))) / (
        pf * (1 - (1 - SIGMA) * WARM))


def _n_vendors(h: float, sw: float) -> tuple[int, float]:
    lots, bids = _two_vendor(sw)
    a = allocate_risk(policy=Policy(min_share_pct=100 * SIGMA, one_off="ignore"),
                      scenarios=_exact_scenarios(h), lots=lots, bids=bids, lam=0.0, mip_gap=0.0)
    assert a.status == "optimal"
    return int(a.vendors_per_lot()["L"]), a.expected


@pytest.mark.parametrize("h", [0.03, 0.05, 0.10])
def test_single_vs_dual_switches_at_the_analytic_switching_cost(h):
    """Single vs dual sourcing of one lot by two vendors (A cheap and failing, B dearer and
    safe) is the classic backup-supplier trade-off (Sawik 2011, single- vs dual-sourcing with
    disruption risk): dual sourcing pays when the expected recourse saving exceeds the fee
    premium.  With exact scenario weights the SAA optimum must switch at the closed-form
    switching cost sw* where the gain is 0 (tested 10 % either side), and its expected cost
    must equal the closed form."""
    star = _threshold_sw(h)
    assert star > 0
    assert _closed_form_gain(h, star) == pytest.approx(0.0, abs=1e-6)
    n_lo, e_lo = _n_vendors(h, 0.9 * star)
    n_hi, e_hi = _n_vendors(h, 1.1 * star)
    assert (n_lo, n_hi) == (1, 2)
    fail = 1 - (1 - h) ** T
    y = np.arange(1, T + 1)
    m = float(np.sum(h * (1 - h) ** (y - 1) * (T - y)))
    single = T * PA * D + fail * 50_000 + D * (fail * 0.9 * star + PREMIUM * PA * m)
    assert e_lo == pytest.approx(single, rel=COST_TOLERANCE)
    dual = single - _closed_form_gain(h, 1.1 * star) + D * fail * 0.2 * star  # single at 1.1 sw*
    assert e_hi == pytest.approx(dual, rel=COST_TOLERANCE)


def test_single_vs_dual_switches_at_the_analytic_failure_probability():
    """Same case, threshold in the failure probability h* (root of the closed-form gain at a fixed
    switching cost, by bisection): single sourcing below, dual above."""
    sw = 40.0
    lo, hi = 1e-4, 0.5
    assert _closed_form_gain(lo, sw) < 0 < _closed_form_gain(hi, sw)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _closed_form_gain(mid, sw) < 0 else (lo, mid)
    h_star = 0.5 * (lo + hi)
    assert _n_vendors(0.8 * h_star, sw)[0] == 1
    assert _n_vendors(1.25 * h_star, sw)[0] == 2


def test_cvar_matches_rockafellar_uryasev_definition():
    """CVaR_0.95 of 1..100 (equal weights) is the mean of the worst 5 % = 98 (Rockafellar &
    Uryasev 2000, discrete case); with weights, the tail is split at the VaR atom."""
    assert cvar(np.arange(1, 101), 0.95) == pytest.approx(98.0)
    assert cvar([0.0, 10.0], 0.5) == pytest.approx(10.0)
    # two atoms 0 (p 0.9) and 100 (p 0.1): CVaR_0.8 = (0.1 x 100 + 0.1 x 0) / 0.2 = 50
    assert cvar([0.0, 100.0], 0.8, weights=[0.9, 0.1]) == pytest.approx(50.0)
    assert cvar(np.arange(100)[::-1], 0.9) == cvar(np.arange(100), 0.9)  # order-invariant


# ---------------------------------------------------------------------- (b) reduction
def _certain(tender, *, fail: bool = False) -> RiskScenarios:
    V, L = len(tender.vendor_ids), len(tender.lot_ids)
    T_ = tender.contract_years
    fy = np.full((3, V), np.inf)
    return RiskScenarios(tuple(tender.vendor_ids), tuple(tender.lot_ids), fy, np.ones((3, T_)),
                         np.ones((3, L, T_)), np.zeros(V))


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_no_uncertainty_gives_the_deterministic_award(tender, baseline, lam):
    """Without failures, indexation or growth, the risk-aware award costs what ``allocate`` does
    (1e-6 relative), under the baseline policy of data/scenarios/baseline.yaml, for any lambda
    (CVaR = mean when nothing is uncertain: objective (1 + lambda) T x annual cost)."""
    policy, ev = baseline
    det = allocate(tender, policy, quality=ev, mip_gap=0.0)
    risk = allocate_risk(tender, policy, _certain(tender), lam=lam, quality=ev, mip_gap=0.0)
    assert risk.status == "optimal"
    assert risk.cost["total"] == pytest.approx(det.cost["total"], rel=1e-6)
    T_ = tender.contract_years
    assert risk.expected == pytest.approx(T_ * det.cost["total"], rel=1e-6)
    assert risk.objective == pytest.approx((1 + lam) * risk.expected, rel=1e-6)
    inst = make_instance(tender, policy, quality=ev)
    assert violations(inst, policy, risk.volumes.to_numpy()) == []


def test_lp_objective_equals_the_recourse_evaluator(tender, baseline):
    """The MILP's objective at its award equals the numpy evaluation of the same award with the
    greedy recourse (the LP's second stage is the greedy fill), and every rule holds."""
    policy, ev = baseline
    rs = risk_scenarios(tender, 80, seed=5)
    a = allocate_risk(tender, policy, rs, lam=2.0, quality=ev, mip_gap=1e-6)
    inst = make_instance(tender, policy, quality=ev)
    c = scenario_costs(inst, policy, rs, a.volumes.to_numpy())["total"]
    assert a.objective == pytest.approx(c.mean() + 2.0 * cvar(c, 0.95), rel=1e-7)
    assert violations(inst, policy, a.volumes.to_numpy()) == []
    # permuting the scenarios changes nothing
    perm = np.random.default_rng(0).permutation(rs.n)
    b = allocate_risk(tender, policy, rs.subset(perm), lam=2.0, quality=ev, mip_gap=1e-6)
    assert b.objective == pytest.approx(a.objective, rel=1e-5)


# ---------------------------------------------------------------------- (c), (d) out of sample
def test_out_of_sample_simulation_agrees_with_in_sample(tender, baseline):
    """The chosen award simulated by ``simulate`` (fresh draws, the contract model's recourse) has
    expected contract cost and CVaR95 within 3 standard errors of the in-sample values (the
    in-sample CVaR of an SAA optimum is biased low, Shapiro, Dentcheva & Ruszczynski 2009, 5.1;
    at S = 400 the bias is within the sampling error)."""
    policy, ev = baseline
    rs = risk_scenarios(tender, 400, seed=11)
    a = allocate_risk(tender, policy, rs, lam=1.0, quality=ev)
    sim = simulate(multi_vendor(tender, a), n=20_000, seed=12)
    out = contract_cost(sim, one_off=a.one_off)
    se_mean = np.hypot(a.costs.std(ddof=1) / np.sqrt(rs.n), out.std(ddof=1) / np.sqrt(out.size))
    assert abs(out.mean() - a.expected) < 3 * se_mean
    # CVaR standard errors by bootstrap (200 resamples of each sample)
    rng = np.random.default_rng(0)

    def se_boot(x, size):
        return float(np.std([cvar(x[rng.integers(0, x.size, size)], 0.95) for _ in range(200)]))

    se_cvar = np.hypot(se_boot(a.costs, a.costs.size), se_boot(out, out.size))
    assert abs(cvar(out, 0.95) - a.cvar) < 3 * se_cvar


def test_saa_gap_narrows_with_more_scenarios(tender, baseline):
    """|in-sample objective - out-of-sample objective| of the SAA award shrinks as S grows
    (averaged over seeds; out of sample on 20 000 fresh scenarios)."""
    policy, ev = baseline
    inst = make_instance(tender, policy, quality=ev)
    fresh = risk_scenarios(tender, 20_000, seed=999)

    def gap(S, seed):
        a = allocate_risk(tender, policy, risk_scenarios(tender, S, seed=seed), lam=1.0, quality=ev)
        c = scenario_costs(inst, policy, fresh, a.volumes.to_numpy())["total"]
        out = c.mean() + cvar(c, 0.95)
        return abs(a.objective - out) / out

    small = np.mean([gap(25, s) for s in range(3)])
    large = np.mean([gap(200, s) for s in range(3)])
    assert large < small


def test_beats_deterministic_and_random_awards_out_of_sample(tender, baseline):
    """On fresh scenarios (common to all awards), the SAA award's expected + lambda CVaR is no
    worse than the deterministic award's and than each of 8 random feasible awards'."""
    policy, ev = baseline
    lam = 1.0
    inst = make_instance(tender, policy, quality=ev)
    a = allocate_risk(tender, policy, risk_scenarios(tender, 300, seed=3), lam=lam, quality=ev)
    fresh = risk_scenarios(tender, 20_000, seed=4)

    def score(vol):
        c = scenario_costs(inst, policy, fresh, vol)["total"]
        return c.mean() + lam * cvar(c, 0.95)

    mine = score(a.volumes.to_numpy())
    det = allocate(tender, policy, quality=ev)
    assert mine <= score(det.volumes.to_numpy()) * (1 + 1e-4)
    rng = np.random.default_rng(7)
    n_random = 0
    for _ in range(30):
        sol = greedy(inst, policy, priority=rng.random(len(inst.bid_vendor)))
        if sol is None:
            continue
        vol = np.zeros((inst.n_vendors, inst.n_lots))
        np.add.at(vol, (inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]), sol[0])
        assert violations(inst, policy, vol) == []
        assert mine <= score(vol) * (1 + 1e-4)
        n_random += 1
        if n_random == 8:
            break
    assert n_random >= 3


# ---------------------------------------------------------------------- frontier, backup value
def test_frontier_is_monotone_and_backup_value_per_lot(tender):
    """Along the lambda grid expected cost does not fall and CVaR does not rise (each point is
    optimal for its weight, to the 0.1 % gap); the backup value table has one row per lot with
    backup_cost = dual - single expected cost."""
    rs = risk_scenarios(tender, 40, seed=2)
    policy = Policy()
    fr = risk_frontier(tender, policy, rs, lambdas=(0, 1, 4), mip_gap=1e-7)
    pts = fr.to_frame()
    assert list(pts["lam"]) == [0, 1, 4]
    assert (np.diff(pts["expected"]) >= -1e-6 * pts["expected"].iloc[0]).all()
    assert (np.diff(pts["cvar"]) <= 1e-6 * pts["cvar"].iloc[0]).all()
    ax = fr.plot()
    assert "EUR" in ax.get_title() and "CVaR" in ax.get_xlabel()
    bv = backup_value(tender, policy, rs, lam=1.0, mip_gap=1e-4)
    assert list(bv.index) == list(tender.lot_ids)
    ok = bv.dropna(subset=["single_expected", "dual_expected"])
    assert np.allclose(ok["backup_cost"], ok["dual_expected"] - ok["single_expected"])
    assert len(ok) >= 1


@pytest.mark.parametrize("kw, match", [
    ({"lam": -1.0}, "lam must be a number >= 0"),
    ({"alpha": 1.0}, r"alpha must lie in \(0, 1\)"),
    ({"scenarios": "x"}, "scenarios must be a RiskScenarios"),
])
def test_bad_arguments_are_named(tender, kw, match):
    rs = risk_scenarios(tender, 5, seed=0)
    args = {"scenarios": rs, **kw}
    with pytest.raises((ValueError, TypeError), match=match):
        allocate_risk(tender, Policy(), **args)


def test_scenarios_are_validated_and_reproducible(tender):
    a = risk_scenarios(tender, 50, seed=1)
    b = risk_scenarios(tender, 50, seed=1)
    assert np.array_equal(a.failure_year, b.failure_year)
    assert np.array_equal(a.growth_factor, b.growth_factor)
    assert a.weights.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="failure_year has shape"):
        RiskScenarios(a.vendor_ids, a.lot_ids, a.failure_year[:, :2], a.index_factor, a.growth_factor,
                      a.failure_cost)
    short = RiskScenarios(a.vendor_ids, a.lot_ids, a.failure_year, a.index_factor[:, :3],
                          a.growth_factor[:, :, :3], a.failure_cost)
    with pytest.raises(ValueError, match="span 3 years"):
        allocate_risk(tender, Policy(), short)


def test_a_token_award_is_no_backup():
    """A 0.01 % award counted as a full warm backup of the whole lot, and the risk-aware model chose
    it (issue: one cost model).  A vendor is a warm backup only from ``Policy.backup_share`` of the
    lot (default the minimum share, else 5 %): below it the model gives the backup that share or
    none, and the scenario costs route failures warm only to vendors that hold it."""
    from tenders import tiny_tender

    tender = tiny_tender(failure_prob=0.3)
    rs = risk_scenarios(tender, n=200, seed=1)
    shares = {}
    for pct in (0.0, None, 30.0):
        a = allocate_risk(tender, Policy(min_backup_share_pct=pct), rs, lam=1.0)
        assert a.status == "optimal"
        shares[pct] = float(a.shares.loc["B2", "HELP"])
    assert 0 < shares[0.0] < 0.001                     # any sliver counts when the share is 0
    assert shares[None] == pytest.approx(0.05, abs=1e-6)  # the default: a backup holds 5 %
    assert shares[30.0] == 0.0                         # 30 % is dearer than the tail it saves
    assert Policy(min_share_pct=20).backup_share == 0.2 and Policy().backup_share == 0.05
    # the backup value compares one vendor with a real backup, never with a token one
    b = backup_value(tender, Policy(), rs, lam=1.0)
    assert b.loc["HELP", "backup_share"] >= 0.05 - 1e-9
    inst = make_instance(tender, Policy())
    token = np.array([[999.9], [0.1]])
    warm, none = (scenario_costs(inst, Policy(min_backup_share_pct=p), rs, token)["total"]
                  for p in (0.0, 5.0))
    assert (warm <= none + 1e-6).all() and (warm < none - 1).any()  # the sliver no longer absorbs failures
