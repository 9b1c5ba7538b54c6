"""One contract cost model: the award, the risk-aware award and the simulation charge the same
lines for the same contract.

The differential test below is the contract between the three models: on 200 random small
tenders (in-house and incumbent lots, non-zero switching and setup costs, tiers, capacities,
failures) it checks

1. the deterministic award's cost = the simulation's cost of the same award with every
   uncertainty switched off, line by line (fees, setup, onboarding, switching);
2. the risk-aware award's cost in every scenario = the simulation's cost lines (fees with growth
   and indexation, failure recourse, one-off costs) on the same failure, growth and indexation
   draws;
3. the risk-aware award's expected cost = the simulation's mean of the lines both count, within
   the standard error (on an eighth of the tenders: it simulates).

It fails as soon as one model changes a line without the others.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from tenders import tender_tables, tiny_tender

from sourcing.allocation import Policy, allocate, allocate_risk
from sourcing.allocation._data import make_instance
from sourcing.allocation.risk import scenario_costs
from sourcing.cost_lines import LINES, MODELS, counted, left_out
from sourcing.simulation import (
    DRIVERS,
    Assumptions,
    constant,
    contract_cost,
    multi_vendor,
    risk_scenarios,
    simulate,
)
from sourcing.tender import Tender

N_TENDERS = 200


def _tables(seed: int) -> tuple[tuple, dict[str, pd.DataFrame]]:
    """The tables of the random tender of *seed* (see :func:`random_tender`) and its shape."""
    rng = np.random.default_rng(seed)
    nv, nl = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    shape = (nv, nl, bool(rng.random() < 0.5))
    t = tender_tables(n_vendors=nv, n_lots=nl, with_risk=True, with_tiers=shape[2], seed=seed,
                      contract_years=int(rng.integers(1, 6)))
    lots, bids, vendors, risk = t["lots"], t["bids"], t["vendors"], t["risk"]
    vids = list(vendors["vendor_id"])
    lots["incumbent_vendor_id"] = [vids[int(rng.integers(nv))] if rng.random() < 0.5 else None
                                   for _ in range(nl)]
    price = bids.groupby("lot_id", sort=False)["unit_price"].mean().reindex(lots["lot_id"]).to_numpy()
    lots["switching_cost_per_unit"] = np.round(rng.uniform(0.02, 0.3, nl) * price, 2)
    lots["demand_growth_pct"] = np.round(rng.uniform(-2, 6, nl), 1)
    demand = lots.set_index("lot_id").loc[bids["lot_id"], "annual_demand"].to_numpy()
    bids["setup_cost"] = np.round(bids["unit_price"] * rng.uniform(0.01, 0.2, len(bids)) * demand, -1)
    # capacities on some bids of every vendor but the first (who bids every lot: always feasible)
    capped = (rng.random(len(bids)) < 0.4) & (bids["vendor_id"] != vids[0]).to_numpy()
    bids["capacity"] = np.where(capped, np.round(demand * rng.uniform(0.3, 1.2, len(bids))), np.nan)
    vendors["incumbent"] = vendors["vendor_id"].isin(set(lots["incumbent_vendor_id"].dropna()))
    vendors["offshore_share_pct"] = 0.0        # no FX line: its draws are not in the risk scenarios
    risk["failure_prob"] = np.round(rng.uniform(0.0, 0.3, nv), 3)
    return shape, t


_VALIDATED: dict[tuple, Tender] = {}


def random_tender(seed: int) -> Tender:
    """A small tender whose every one-off line is non-zero somewhere: 2-4 vendors, 1-3 lots, each
    lot in-house or with an incumbent vendor, switching and setup costs on every lot and bid,
    tiers on some, capacities on some bids, failure probabilities up to 30 % a year.

    Validated once per shape (``Tender.from_frames``, a quarter of a second); the tenders of a
    shape have the same rows, so the drawn values (and the contract years) are set into a copy of
    its validated tables.
    """
    shape, t = _tables(seed)
    if shape not in _VALIDATED:
        _VALIDATED[shape] = Tender.from_frames(**t)
    base = _VALIDATED[shape]
    changed = {}
    for name in ("lots", "bids", "vendors", "risk", "tiers"):
        frame = getattr(base, name).copy()
        if name not in t or frame.empty:
            continue
        new = t[name].set_index(frame.index.name) if frame.index.name in t[name].columns else t[name]
        for col in frame.columns.intersection(new.columns):
            frame[col] = new[col].to_numpy() if frame.index.name is None else new[col].reindex(frame.index)
        changed[name] = frame
    years = int(t["settings"].set_index("key").at["contract_years", "value"])
    return dataclasses.replace(base, **changed, settings={**base.settings, "contract_years": years})


def _still(tender: Tender) -> Assumptions:
    """Assumptions with every uncertainty the award does not model switched off."""
    return Assumptions.for_tender(tender).with_(indexation=constant(0.0), growth_spread=0.0,
                                                transition_overrun=constant(1.0))


def _inputs(option, n: int, *, growth=None, indexation=None) -> dict[str, np.ndarray]:
    """The contract model's inputs, fixed: no growth or indexation unless given (per draw), the
    lines the award does not count at zero, transition overrun 1."""
    x = {k: np.zeros(n) for k in option.inputs()}
    x["transition_overrun"] = np.ones(n)
    for lot in option.lines["lot_id"].unique():
        if growth is not None:
            x[f"growth[{lot}]"] = growth[lot]
    if indexation is not None:
        x["indexation"] = indexation
    return x


def _quiet_events(option, n: int, failures: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Event draws with no SLA breach and no security loss; failures as given (none by default)."""
    T = option.years
    out = {}
    for key, (kind, _) in option.events().items():
        if kind == "failure":
            vid = key[len("failure["):-1]
            out[key] = failures[vid] if failures is not None else np.full(n, np.inf)
        else:
            out[key] = np.zeros((n, T))
    return out


def _driver(drivers: np.ndarray, *names: str) -> np.ndarray:
    return drivers[:, [DRIVERS.index(d) for d in names]].sum(axis=1)


@pytest.mark.parametrize("block", range(4))
def test_three_models_charge_the_same_lines(block):
    """Checks 1 and 2 of the module notes on 50 tenders per block, check 3 on every fourth."""
    for seed in range(block, N_TENDERS, 4):
        tender = random_tender(seed)
        policy = Policy()
        award = allocate(tender, policy)
        assert award.feasible, seed
        T = tender.contract_years
        # 1. the award's lines = the simulation's, uncertainty off
        option = multi_vendor(tender, award, assumptions=_still(tender))
        _, drivers = option.evaluate(_inputs(option, 1), _quiet_events(option, 1), 1)
        lines = option.lines
        fees = _driver(drivers, "service", "escalation")[0]
        assert fees == pytest.approx(T * award.cost["unit_cost"], rel=1e-9)
        assert lines["setup_cost"].sum() == pytest.approx(award.one_off["setup"], rel=1e-9, abs=1e-6)
        assert lines["switching_cost"].sum() == pytest.approx(award.one_off["switching"], rel=1e-9, abs=1e-6)
        assert option.vendors["onboarding_cost"].sum() == pytest.approx(award.one_off["onboarding"], rel=1e-9,
                                                                        abs=1e-6)
        # the simulation's transition line = the award's one-off costs + the incumbent's exit
        transition = drivers[0, DRIVERS.index("transition")]
        assert transition == pytest.approx(award.one_off.sum() + option.exit_cost, rel=1e-9, abs=1e-6)
        # 2. the risk-aware model's scenario costs = the simulation's lines on the same draws
        rs = risk_scenarios(tender, n=40, seed=seed)
        risk_award = allocate_risk(tender, policy, rs, lam=0.0 if seed % 2 else 0.5)
        assert risk_award.feasible, seed
        inst = make_instance(tender, policy)
        vol = risk_award.volumes.reindex(index=inst.vendor_ids, columns=inst.lot_ids).to_numpy(float)
        own = scenario_costs(inst, policy, rs, vol)
        np.testing.assert_allclose(own["total"], risk_award.costs, rtol=1e-9)
        option = multi_vendor(tender, risk_award, assumptions=_still(tender))
        growth = {lot: (rs.growth_factor[:, j, 1] - 1 if T > 1 else np.zeros(rs.n))
                  for j, lot in enumerate(rs.lot_ids)}
        index = rs.index_factor[:, 1] - 1 if T > 1 else np.zeros(rs.n)
        failures = dict(zip(rs.vendor_ids, rs.failure_year.T, strict=True))
        _, drivers = option.evaluate(_inputs(option, rs.n, growth=growth, indexation=index),
                                     _quiet_events(option, rs.n, failures), rs.n)
        sim = _driver(drivers, "service", "escalation", "vendor_failure", "transition") - option.exit_cost
        np.testing.assert_allclose(sim, risk_award.costs, rtol=1e-7)
        # 3. expected cost against the simulation's mean, on the lines both count: the risk model's
        # own evaluator on 4,000 fresh scenarios (40 in-sample ones may hold no failure at all)
        if seed // 4 % 8 == 0:
            big = risk_scenarios(tender, n=4000, seed=seed + 10_000)
            model = scenario_costs(inst, policy, big, vol)["total"]
            res = simulate(multi_vendor(tender, risk_award), n=4000, seed=seed)
            out = contract_cost(res, one_off=risk_award.one_off)
            se = np.hypot(model.std(ddof=1), out.std(ddof=1)) / np.sqrt(4000)
            assert abs(out.mean() - model.mean()) <= 4 * se + 1e-9 * abs(out.mean()), seed




def test_tiny_tender_by_hand():
    """In-house today: vendor A wins (3 x 100,000 fees); the one-off lines are A's setup 6,000, its
    onboarding 2,000 and the switching of 1,000 units from in-house, 50,000 -- by the award and by
    the simulation alike.  Incumbent A keeping its lot pays no setup, no onboarding, no switching."""
    tender = tiny_tender()
    award = allocate(tender, Policy())
    assert award.volumes.loc["B1", "HELP"] == pytest.approx(1000.0)
    assert award.one_off.to_dict() == pytest.approx({"setup": 6000.0, "onboarding": 2000.0,
                                                      "switching": 50_000.0})
    assert award.cost["total"] == pytest.approx(100_000 + 58_000 / 3)
    option = multi_vendor(tender, award, assumptions=_still(tender))
    assert option.lines["switching_cost"].sum() == pytest.approx(50_000.0)
    assert option.lines["setup_cost"].sum() == pytest.approx(6000.0)
    kept = allocate(tiny_tender(incumbent="B1"), Policy())
    assert kept.one_off.to_dict() == pytest.approx({"setup": 0.0, "onboarding": 0.0, "switching": 0.0})
    option = multi_vendor(tiny_tender(incumbent="B1"), kept, assumptions=_still(tender))
    assert option.lines["setup_cost"].sum() == option.lines["switching_cost"].sum() == 0.0


def test_every_model_names_what_its_total_counts_and_leaves_out():
    assert counted("award") == "fees and one-off costs"
    assert counted("risk_award") == "fees, one-off costs and failure recourse"
    assert "governance" in left_out("risk_award") and "failure recourse" in left_out("award")
    assert left_out("simulation") == ""
    assert set(LINES) >= {"fees", "one_off", "failure", "governance", "security"}
    with pytest.raises(ValueError, match="valid: award, risk_award, simulation"):
        counted("board")
    assert MODELS == ("award", "risk_award", "simulation")
    assert isinstance(pd.Series(LINES), pd.Series)
