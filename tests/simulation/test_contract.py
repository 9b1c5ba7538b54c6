"""The contract model: factories on the sample tender, hand-computed costs, scalar reference."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from sourcing.simulation import (
    DRIVERS,
    INHOUSE,
    Assumptions,
    SourcingScenario,
    compound,
    constant,
    hybrid,
    inhouse,
    multi_vendor,
    pert,
    single_vendor,
    standard_scenarios,
)
from sourcing.simulation._reference import evaluate_draw
from sourcing.simulation.contract import admissible_vendors, tiered_unit_price
from sourcing.simulation.engine import _event_draws


def _award(tender):
    vol = pd.DataFrame(0.0, index=["V03", "V08"], columns=tender.lot_ids)
    spend = vol.copy()
    vol.loc["V03", ["L1", "L2"]] = [120_000, 1_000]
    spend.loc["V03", ["L1", "L2"]] = [120_000 * 17.0, 1_000 * 1500.0]
    vol.loc["V08", ["L3", "L4", "L5"]] = [60, 9000, 8500]
    spend.loc["V08", ["L3", "L4", "L5"]] = [60 * 75_000.0, 9000 * 36.0, 8500 * 260.0]
    return types.SimpleNamespace(volumes=vol, spend=spend)


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
    s = multi_vendor(tender, _award(tender))
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
    s = hybrid(tender, _award(tender), inhouse_lots=["L3", "L4"])
    inh = s.lines[s.lines["provider"] == INHOUSE]
    assert set(inh["lot_id"]) >= {"L3", "L4"}
    assert "V08" in s.providers  # still serves L5
    with pytest.raises(ValueError, match="unknown lot"):
        hybrid(tender, inhouse_lots=["L9"])


def _one_line(**over):
    a = Assumptions(indexation=constant(0.05), escalation_cap=0.03, growth_spread=0.0,
                    governance_share=constant(0.05), breach_impact=constant(0.0),
                    transition_overrun=constant(1.0))
    lines = pd.DataFrame([{
        "lot_id": "L1", "provider": "V1", "units": 100.0, "unit_price": 10.0, "setup_cost": 500.0,
        "switching_cost": 0.0, "growth": 0.10, "lot_share": 1.0, "breach_prob": 0.0,
        "credit_pct": 0.05, "exposure": 1.0} | over])
    vendors = pd.DataFrame([{
        "failure_prob": 0.0, "exit_cost": 0.0, "onboarding_cost": 200.0, "incident_rate": 0.0,
        "security_score": 70.0, "iso27001": True, "offshore_share": 0.0, "currency": "EUR",
        "has_backup": False, "replacement_onboarding": 0.0}], index=["V1"])
    return SourcingScenario("one", lines, vendors, years=5, discount_rate=0.08, assumptions=a)


def test_deterministic_costs_by_hand():
    """No uncertainty: year t (t = 0..4) costs 1 000 x 1.1^t x 1.03^t (indexation 5 % capped at
    3 %) plus 5 % governance; year 1 adds setup 500 + onboarding 200."""
    s = _one_line()
    x = {k: np.full(3, d.mean) for k, d in s.inputs().items()}
    cash, drivers = s.evaluate(x, {}, 3)
    t = np.arange(5)
    fee = 1000 * 1.1 ** t * 1.03 ** t
    expected = fee * 1.05
    expected[0] += 700
    assert np.allclose(cash[0], expected)
    d = dict(zip(DRIVERS, drivers[0], strict=True))
    assert d["service"] == pytest.approx((1000 * 1.1 ** t).sum())
    assert d["escalation"] == pytest.approx((fee - 1000 * 1.1 ** t).sum())
    assert d["governance"] == pytest.approx(0.05 * fee.sum())
    assert d["transition"] == pytest.approx(700)
    assert s.discount_factors()[0] == pytest.approx(1 / 1.08)


def test_sla_credits_and_failure_by_hand():
    """Two breached months a year at 5 % credit each; failure in year 3 of a vendor with exit
    cost 1 000 and no backup: 1 000 in year 3, then a 10 % premium on the fee."""
    s = _one_line(breach_prob=0.1, growth=0.0)
    s.vendors.loc["V1", ["failure_prob", "exit_cost"]] = [0.1, 1000.0]
    x = {k: np.full(1, d.mean) for k, d in s.inputs().items()}
    ev = {"sla[V1,L1]": np.full((1, 5), 2.0), "failure[V1]": np.array([3.0])}
    cash, drivers = s.evaluate(x, ev, 1)
    d = dict(zip(DRIVERS, drivers[0], strict=True))
    fee = 1000 * 1.03 ** np.arange(5)
    assert d["sla_credits"] == pytest.approx(-(2 * 0.05 * fee / 12).sum())
    assert d["vendor_failure"] == pytest.approx(1000 + 0.1 * fee[3:].sum())


def test_vectorised_model_matches_per_draw_reference(tender):
    """The vectorised evaluate() equals the scalar per-draw model written from the docs."""
    rng = np.random.default_rng(3)
    extra = {"fixed": pert(0, 1000, 5000), "events": compound(pert(0, 1, 2), rate=1.0)}
    for s in standard_scenarios(tender) + [multi_vendor(tender, _award(tender)).with_(extra_costs=extra)]:
        n = 40
        x = {k: d.sample(n, rng=rng) for k, d in s.inputs().items()}
        ev = {}
        for k, spec in s.events().items():
            if spec[0] == "failure":
                ev[k] = rng.integers(1, 8, n).astype(float)
            else:
                ev[k] = _event_draws(("sla", 0.4) if spec[0] == "sla" else spec, n, s.years, rng)
        cash, drivers = s.evaluate(x, ev, n)
        for i in range(n):
            c, d = evaluate_draw(s, {k: float(v[i]) for k, v in x.items()},
                                 {k: (float(v[i]) if v.ndim == 1 else list(v[i])) for k, v in ev.items()})
            assert np.allclose(c, cash[i], rtol=1e-10)
            assert np.allclose([d[k] for k in DRIVERS], drivers[i], rtol=1e-10, atol=1e-6)


def test_sla_calibration_overrides_risk_table(tender):
    sla = pd.DataFrame({"vendor_id": ["V03"], "lot_id": ["L1"], "breach_prob": [0.5], "credit_pct": [10.0]})
    s = single_vendor(tender, "V03", sla=sla)
    row = s.lines.set_index("lot_id").loc["L1"]
    assert row["breach_prob"] == 0.5 and row["credit_pct"] == pytest.approx(0.10)
    other = s.lines.set_index("lot_id").loc["L2"]
    assert other["breach_prob"] == pytest.approx(float(tender.risk.at["V03", "sla_breach_prob"]))
    with pytest.raises(ValueError, match="breach_prob"):
        single_vendor(tender, "V03", sla=sla.assign(breach_prob=1.5))
    with pytest.raises(ValueError, match="lacks column"):
        single_vendor(tender, "V03", sla=sla.drop(columns="credit_pct"))


def test_security_rate_modulated_by_posture(tender):
    s = single_vendor(tender, "V03")
    rate = s.events()["security[V03]"][1].rate
    # V03: incident_rate 0.45, ISO 27001 yes (x0.8), score 68 -> x(1 + 0.01 x 2)
    assert rate == pytest.approx(0.45 * 0.8 * 1.02)


@pytest.mark.parametrize("over, match", [
    ({"unit_price": -1.0}, r"lines.unit_price must be a non-negative number \(no negative cost\)"),
    ({"units": float("nan")}, "lines.units"),
    ({"breach_prob": 1.2}, r"lines.breach_prob must be a probability"),
    ({"growth": -1.5}, "growth must be > -1"),
])
def test_bad_lines_raise_naming_the_column(over, match):
    with pytest.raises(ValueError, match=match):
        _one_line(**over)


def test_bad_arguments(tender):
    with pytest.raises(ValueError, match="unknown vendor_id 'V99'"):
        single_vendor(tender, "V99")
    with pytest.raises(ValueError, match="did not bid for lot"):
        single_vendor(tender, "V04", missing="raise")
    with pytest.raises(ValueError, match="missing must be one of"):
        single_vendor(tender, "V03", missing="skip")
    with pytest.raises(ValueError, match="split must be"):
        multi_vendor(tender, split=(0.5, 0.6))
    with pytest.raises(TypeError, match=r"\.volumes and \.spend"):
        multi_vendor(tender, award=object())
    bad = _award(tender)
    bad.volumes.loc["V03", "L1"] = -5
    with pytest.raises(ValueError, match=r"award.volumes\[V03, L1\] is negative"):
        multi_vendor(tender, bad)
    bad = _award(tender)
    bad.spend.loc["V08", "L3"] = -1.0
    with pytest.raises(ValueError, match=r"award.spend\[V08, L3\]"):
        multi_vendor(tender, bad)
    with pytest.raises(ValueError, match="sla_credit_pct is a fraction"):
        Assumptions(sla_credit_pct=5)
    with pytest.raises(ValueError, match="unknown assumption"):
        Assumptions().with_(wage=0.1)
    with pytest.raises(TypeError, match="sourcing.Tender"):
        inhouse(object())
    with pytest.raises(ValueError, match="years must be an integer"):
        SourcingScenario("x", _one_line().lines, _one_line().vendors, years=0)


def test_vendor_without_bid_goes_inhouse_by_default(tender):
    s = single_vendor(tender, "V04")  # V04 bid for L2 and L3 only
    assert set(s.lines.loc[s.lines["provider"] == INHOUSE, "lot_id"]) == {"L1", "L4", "L5"}


def test_float32_hot_path_matches_float64(tender):
    """simulate() evaluates in float32 (the stored precision): relative error below 1e-5."""
    s = multi_vendor(tender)
    rng = np.random.default_rng(8)
    n = 2000
    x = {k: d.sample(n, rng=rng) for k, d in s.inputs().items()}
    ev = {k: _event_draws(spec, n, s.years, rng) for k, spec in s.events().items()}
    c64, d64 = s.evaluate(x, ev, n)
    c32, d32 = s.evaluate(x, ev, n, dtype=np.float32)
    assert c32.dtype == np.float32
    assert np.allclose(c32, c64, rtol=1e-5)
    assert np.abs(d32 - d64).max() <= 1e-5 * np.abs(c64).sum(axis=1).max()



def test_demand_shrinking_99_percent_a_year_stays_finite(tender):
    """The growth PERT is cut above -100 %/yr, so (1 + g)^t never turns NaN."""
    s = inhouse(tender)
    s.lines["growth"] = -0.99
    growth = s.inputs()["growth[L1]"]
    assert -1 < growth.low < -0.99 and growth.mode == -0.99
    rng = np.random.default_rng(3)
    x = {k: d.sample(500, rng=rng) for k, d in s.inputs().items()}
    ev = {k: _event_draws(spec, 500, s.years, rng) for k, spec in s.events().items()}
    cost, _ = s.evaluate(x, ev, 500)
    assert np.isfinite(cost).all() and (cost > 0).all()



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


def test_money_assumptions_scale_with_the_tender(tender):
    """Unset money assumptions follow the tender's size: prices x 10 (another currency unit)
    gives breach impact and incident losses x 10, so no fixed amount of one currency is assumed;
    the sample keeps its documented ranges (90 % of a breached month in about 10k-150k)."""
    from sourcing.simulation import Assumptions

    a = Assumptions.for_tender(tender)
    lo, hi = a.breach_impact.ppf(np.array([0.05, 0.95]))
    assert 9_000 < lo < 11_000 and 140_000 < hi < 160_000
    scaled = tender.lots.assign(inhouse_unit_cost=tender.lots["inhouse_unit_cost"] * 10)
    b = Assumptions.for_tender(type("T", (), {"lots": scaled})())
    for key in ("breach_impact", "security_severity"):
        np.testing.assert_allclose(getattr(b, key).ppf(np.array([0.05, 0.95])),
                                   10 * getattr(a, key).ppf(np.array([0.05, 0.95])), rtol=1e-9)
    assert b.escalation_cap == a.escalation_cap  # fractions do not scale
