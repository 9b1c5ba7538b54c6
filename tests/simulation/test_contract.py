"""The contract model: factories on the sample tender, hand-computed costs, scalar reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tenders import sample_award

from sourcing.simulation import (
    DRIVERS,
    Assumptions,
    SourcingScenario,
    compound,
    constant,
    inhouse,
    multi_vendor,
    pert,
    single_vendor,
    standard_scenarios,
)
from sourcing.simulation._reference import evaluate_draw
from sourcing.simulation.engine import _event_draws


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
    split = multi_vendor(tender, sample_award(tender)).with_(extra_costs=extra)
    for s in [*standard_scenarios(tender), split]:
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
    bad = sample_award(tender)
    bad.volumes.loc["V03", "L1"] = -5
    with pytest.raises(ValueError, match=r"award.volumes\[V03, L1\] is negative"):
        multi_vendor(tender, bad)
    bad = sample_award(tender)
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


