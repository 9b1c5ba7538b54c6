"""Scoped rules (issue #22, part 1): rows, checks, prices, diagnosis, risk-aware award, words."""

from __future__ import annotations

import itertools
import types

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError as PydanticError
from tenders import scoped_rule_tables, tender_tables

from sourcing import read_tender
from sourcing.allocation import Policy, allocate, constraint_costs
from sourcing.allocation._data import make_instance
from sourcing.allocation.award import violations
from sourcing.allocation.risk import RiskScenarios, allocate_risk
from sourcing.allocation.rules import Check, breaches
from sourcing.allocation.scoped import ScopedRule, resolve_policy
from sourcing.decision import policy_breaches
from sourcing.narrative import breach_sentences, policy_story
from sourcing.outputs import write_tables

CURRENCY = "CHF"

EXAMPLES = {
    "incumbent keeps 30 % of the service desk": dict(
        lots={"tower": ["service_desk"]}, vendors={"incumbent": True}, measure="demand_share",
        bound="at_least", value=30),
    "at most two offshore vendors": dict(
        vendors={"offshore_share_pct": {">=": 30}}, measure="vendors", bound="at_most", value=2),
    "one country at most 40 % of spend": dict(
        measure="spend_share", bound="at_most", value=40, per="country"),
    "security operations only to SOC 2 holders": dict(
        lots={"tower": ["security"]}, vendors={"certifications": "SOC 2"}, measure="only"),
    "SEC and EUC to the same vendor": dict(lots=["SEC", "EUC"], measure="same_vendor"),
}


@pytest.fixture(scope="module")
def tender_path(tmp_path_factory):
    t = scoped_rule_tables(currency=CURRENCY)
    folder = tmp_path_factory.mktemp("scoped") / "tender"
    write_tables(t, folder)
    return folder


@pytest.fixture(scope="module")
def tender(tender_path):
    out = read_tender(tender_path)
    assert out.currency == CURRENCY
    return out


@pytest.fixture(scope="module")
def cheapest(tender):
    return allocate(tender, Policy(), mip_gap=0)


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_each_example_changes_the_award_and_holds(tender, cheapest, example):
    rule = ScopedRule(**EXAMPLES[example])
    policy = Policy(rules=(rule,))
    inst = make_instance(tender, policy)
    # the least-cost award without the rule breaks it ...
    broken = violations(inst, policy, cheapest.volumes.to_numpy())
    assert [b.rule for b in broken] and {b.rule for b in broken} == {"rules"}
    # ... the award under it keeps it, and costs more
    award = allocate(tender, policy, mip_gap=0)
    assert award.status == "optimal"
    assert violations(inst, policy, award.volumes.to_numpy()) == []
    assert award.cost["total"] > cheapest.cost["total"] * (1 + 1e-6)


def test_examples_read_as_the_buyer_says(tender):
    words = {k: ScopedRule(**v).label for k, v in EXAMPLES.items()}
    assert words["incumbent keeps 30 % of the service desk"] == (
        "Service desk: the incumbent keeps at least 30% of the demand")
    assert words["security operations only to SOC 2 holders"] == "Security: only to SOC 2 holders"
    assert words["SEC and EUC to the same vendor"] == "SEC and EUC go to the same vendor"
    story = policy_story(Policy(rules=tuple(ScopedRule(**v) for v in EXAMPLES.values())),
                         currency=tender.currency)
    assert "Service desk: the incumbent keeps at least 30% of the demand." in story
    assert "All lots: vendors of any one country take at most 40% of the spend." in story
    assert "All lots: at most 2 offshore vendors (offshore share at least 30%) in total." in story
    named = ScopedRule(name="Keep the incumbent on the desk", **EXAMPLES[
        "incumbent keeps 30 % of the service desk"])
    assert named.label == "Keep the incumbent on the desk"


def test_resolution_reads_towers_and_vendor_columns(tender):
    pol = resolve_policy(Policy(rules=tuple(ScopedRule(**v) for v in EXAMPLES.values())), tender)
    r = {x.measure + (x.per or ""): x for x in pol.rules}
    assert r["demand_share"].lots == ("HELP",) and r["demand_share"].vendors == ("B1",)
    assert r["vendors"].vendors == ("B2", "B3", "B4")
    assert r["spend_sharecountry"].groups == {"B1": "US", "B2": "US", "B3": "IN", "B4": "CA"}
    assert r["only"].lots == ("SEC",) and r["only"].vendors == ("B1", "B3")
    # resolved rules keep their labels: priced, diagnosed and checked under the same words
    assert [x.label for x in pol.rules] == [ScopedRule(**v).label for v in EXAMPLES.values()]


def test_same_vendor_gives_the_lots_whole_to_one_vendor(tender):
    award = allocate(tender, Policy(rules=(ScopedRule(**EXAMPLES["SEC and EUC to the same vendor"]),)))
    held = award.shares[["SEC", "EUC"]]
    holders = held.index[(held > 1e-9).any(axis=1)]
    assert len(holders) == 1
    assert held.loc[holders[0]].tolist() == pytest.approx([1.0, 1.0])


def test_per_lot_and_per_vendor_forms(tender, cheapest):
    # every lot at most 60 % with vendors from abroad (not US): at least 40 % onshore-US on each
    per_lot = ScopedRule(vendors={"country": ["IN", "CA"]}, measure="demand_share", bound="at_most",
                         value=60, per="lot")
    a = allocate(tender, Policy(rules=(per_lot,)), mip_gap=0)
    abroad = a.shares.loc[["B3", "B4"]].sum(axis=0)
    assert (abroad <= 0.6 + 1e-6).all() and a.cost["total"] > cheapest.cost["total"]
    # no vendor wins more than one of HELP, EHR and HOST
    per_vendor = ScopedRule(lots=["HELP", "EHR", "HOST"], measure="lots", bound="at_most", value=1)
    b = allocate(tender, Policy(rules=(per_vendor,)), mip_gap=0)
    won = (b.volumes[["HELP", "EHR", "HOST"]] > 1e-9).sum(axis=1)
    assert won.max() == 1
    # at least two vendors on the service desk
    two = ScopedRule(lots=["HELP"], measure="vendors", bound="at_least", value=2, per="lot")
    c = allocate(tender, Policy(rules=(two,)), mip_gap=0)
    assert (c.volumes["HELP"] > 1e-9).sum() == 2
    # at most one vendor from any one country: with the incumbent B1 kept on the desk, B2 (also US)
    # loses security operations
    one_each = ScopedRule(measure="vendors", bound="at_most", value=1, per="country")
    desk = ScopedRule(**EXAMPLES["incumbent keeps 30 % of the service desk"])
    e = allocate(tender, Policy(rules=(desk,)), mip_gap=0)
    f = allocate(tender, Policy(rules=(desk, one_each)), mip_gap=0)
    assert {"B1", "B2"} <= set(e.vendors)
    assert f.status == "optimal" and "B1" in f.vendors and "B2" not in f.vendors
    # at least three vendors engaged in all: an engaged vendor holds volume
    three = ScopedRule(measure="vendors", bound="at_least", value=3)
    d = allocate(tender, Policy(rules=(three,)), mip_gap=0)
    assert len(d.vendors) == 3


# ---------------------------------------------------------------------- brute force
def _tiny():
    lots = pd.DataFrame({"lot_id": ["L1", "L2"], "annual_demand": [100.0, 100.0]})
    price = {"A": (10.0, 13.0), "B": (11.0, 9.0), "C": (12.5, 10.0)}
    bids = pd.DataFrame([(v, lot, p) for v, ps in price.items() for lot, p in zip(("L1", "L2"), ps,
                                                                                  strict=True)],
                        columns=["vendor_id", "lot_id", "unit_price"])
    return lots, bids, price


def _brute_force(policy, step: float = 0.1) -> float:
    """Least cost over every split of both lots at a grid of shares, the rule checked by its check."""
    lots, bids, price = _tiny()
    inst = make_instance(None, policy, lots=lots, bids=bids)
    d = lots["annual_demand"].to_numpy()
    p = np.array([price[v] for v in inst.vendor_ids])
    k = round(1 / step)
    splits = [np.array(s) * step for s in itertools.product(range(k + 1), repeat=3) if sum(s) == k]
    best = np.inf
    for s1, s2 in itertools.product(splits, repeat=2):
        vol = np.column_stack([s1 * d[0], s2 * d[1]])
        cost = float((vol * p).sum())
        if cost < best and not violations(inst, policy, vol):
            best = cost
    return best


@pytest.mark.parametrize("rule", [
    dict(vendors=["C"], measure="demand_share", bound="at_least", value=30),
    dict(vendors=["A"], measure="demand_share", bound="at_most", value=20, per="lot"),
    dict(lots=["L1", "L2"], measure="same_vendor"),
    dict(lots=["L1", "L2"], vendors=["B", "C"], measure="same_vendor"),
    dict(measure="vendors", bound="at_most", value=1),
    dict(vendors=["C"], measure="demand_share", bound="equal", value=30),
    dict(vendors=["B", "C"], measure="vendors", bound="at_least", value=2),
    dict(vendors=["A"], measure="lots", bound="at_most", value=0),
])
def test_optimum_agrees_with_brute_force(rule):
    lots, bids, _ = _tiny()
    # no token awards (a vendor awarded a lot holds 10 % or more): every optimum is on the grid
    policy = Policy(min_share_pct=10, rules=(ScopedRule(**rule),))
    award = allocate(lots=lots, bids=bids, policy=policy, mip_gap=0)
    assert award.status == "optimal"
    assert award.cost["total"] == pytest.approx(_brute_force(policy), rel=1e-9)
    # the rule binds: without it L1 goes to A and L2 to B for 1,900 a year
    assert award.cost["total"] > 1900 + 1e-6


# ---------------------------------------------------------------------- price, diagnosis, risk
def test_rule_cost_table_prices_a_scoped_rule_by_its_name(tender, cheapest):
    rule = ScopedRule(**EXAMPLES["incumbent keeps 30 % of the service desk"])
    policy = Policy(max_vendors_per_lot=2, rules=(rule,))
    cc = constraint_costs(tender, policy, mip_gap=0)
    assert list(cc.index) == ["max_vendors_per_lot", rule.label]
    assert cc.loc[rule.label, "description"] == f"the rule \u201c{rule.label}\u201d"
    with_rule = allocate(tender, policy, mip_gap=0).cost["total"]
    assert cc.loc[rule.label, "cost_of_rule"] == pytest.approx(with_rule - cheapest.cost["total"], rel=1e-6)
    assert cc.loc[rule.label, "cost_of_rule"] > 0
    assert policy.relaxed(rule.label).rules == ()


def test_infeasible_pair_is_diagnosed_in_words(tender):
    keep = ScopedRule(name="The incumbent keeps most of the desk", lots=["HELP"], vendors=["B1"],
                      measure="demand_share", bound="at_least", value=60)
    cap = ScopedRule(name="The incumbent keeps at most 40 % of the desk", lots=["HELP"], vendors=["B1"],
                     measure="demand_share", bound="at_most", value=40)
    award = allocate(tender, Policy(rules=(keep, cap)))
    assert award.status == "infeasible"
    text = award.diagnosis
    assert "is broken" in text
    assert "The incumbent keeps most of the desk" in text or "at most 40 % of the desk" in text


def _scenarios(tender, n: int = 30, seed: int = 1) -> RiskScenarios:
    rng = np.random.default_rng(seed)
    V, L, T = len(tender.vendor_ids), len(tender.lot_ids), 3
    fy = np.where(rng.random((n, V)) < 0.1, rng.integers(1, T + 1, (n, V)), np.inf)
    return RiskScenarios(tuple(tender.vendor_ids), tuple(tender.lot_ids), fy, np.ones((n, T)),
                         np.ones((n, L, T)), np.full(V, 50_000.0))


def test_risk_aware_award_keeps_the_rules(tender):
    rules = tuple(ScopedRule(**EXAMPLES[k]) for k in ("incumbent keeps 30 % of the service desk",
                                                      "SEC and EUC to the same vendor",
                                                      "one country at most 40 % of spend"))
    policy = Policy(rules=rules)
    ra = allocate_risk(tender, policy, _scenarios(tender), lam=0.5, time_limit=60)
    assert ra.feasible
    inst = make_instance(tender, policy)
    assert violations(inst, policy, ra.volumes.reindex(index=inst.vendor_ids, columns=inst.lot_ids)
                      .fillna(0).to_numpy()) == []


def test_simulated_option_is_checked_in_words(tender):
    policy = resolve_policy(Policy(rules=(ScopedRule(**EXAMPLES["security operations only to SOC 2 holders"]),
                                          ScopedRule(**EXAMPLES["SEC and EUC to the same vendor"]))), tender)
    lines = pd.DataFrame({"lot_id": ["SEC", "EUC", "HELP"], "provider": ["B2", "B3", "inhouse"],
                          "lot_share": [1.0, 1.0, 1.0], "units": [14_000.0, 11_000.0, 90_000.0],
                          "unit_price": [38.0, 234.0, 27.0]})
    said = policy_breaches(types.SimpleNamespace(lines=lines), policy)
    assert said == ["\u201cSecurity: only to SOC 2 holders\u201d is broken: other vendors hold 100% of the "
                    "demand",
                    "\u201cSEC and EUC go to the same vendor\u201d is broken: two vendors hold them"]
    fine = lines.assign(provider=["B3", "B3", "inhouse"])
    assert policy_breaches(types.SimpleNamespace(lines=fine), policy) == []


def test_breach_words_name_the_group():
    rule = ScopedRule(measure="spend_share", bound="at_most", value=40, per="country",
                      groups={"A": "IN", "B": "US"})
    chk = Check(["A", "B"], ["L1"], np.array([[70.0], [30.0]]), np.array([[700.0], [300.0]]),
                demand=np.array([100.0]))
    said = breach_sentences(breaches(chk, Policy(rules=(rule,))))
    assert said == ["\u201cAll lots: vendors of any one country take at most 40% of the spend\u201d is "
                    "broken: IN at 70% of the spend"]


# ---------------------------------------------------------------------- validation
def test_validation_errors_list_the_valid_choices(tender):
    with pytest.raises(PydanticError, match="demand_share"):
        ScopedRule(measure="share", bound="at_most", value=3)
    with pytest.raises(PydanticError, match="at_least"):
        ScopedRule(measure="vendors", bound="below", value=3)
    with pytest.raises(PydanticError, match="needs a bound: one of at_least, at_most, equal"):
        ScopedRule(measure="vendors", value=3)
    with pytest.raises(PydanticError, match="valid: vendor"):
        ScopedRule(measure="lots", bound="at_most", value=1, per="lot")
    with pytest.raises(PydanticError, match="percent in"):
        ScopedRule(measure="demand_share", bound="at_most", value=130)
    with pytest.raises(PydanticError, match="unknown condition ~; valid: >=, >"):
        ScopedRule(vendors={"country": {"~": "IN"}}, measure="only", lots=["SEC"])
    with pytest.raises(PydanticError, match="lots lists no id"):
        ScopedRule(lots=[], vendors=["B1"], measure="only")
    with pytest.raises(PydanticError, match="same name"):
        Policy(rules=[dict(lots=["SEC"], vendors=["B1"], measure="only")] * 2)
    bad = [(dict(lots={"tower": ["desk"]}, vendors=["B1"], measure="only"), "valid towers: application"),
           (dict(lots=["NOPE"], measure="only", vendors=["B1"]), "valid lots: HELP, EHR"),
           (dict(lots=["SEC"], vendors=["B9"], measure="only"), "valid vendors: B1, B2"),
           (dict(lots=["SEC"], vendors={"colour": "red"}, measure="only"), "valid columns: .*country"),
           (dict(vendors=["B1"], measure="demand_share", bound="at_least", value=10),
            "adds up the units of its lots, which differ \\(FTE, devices"),
           (dict(measure="spend_share", bound="at_most", value=40, per="region"),
            "per 'region' is no vendors")]
    for rule, words in bad:
        with pytest.raises(ValueError, match=words):
            make_instance(tender, Policy(rules=(ScopedRule(**rule),)))


def test_scenario_rules_are_validated_against_the_tender(tender, tender_path, tmp_path):
    from sourcing.pipeline import check_scenario
    from sourcing.scenario import Scenario
    from sourcing.schemas import ValidationError

    path = tmp_path / "s.yaml"
    head = f"name: scoped\ntender: {tender_path}\nallocation:\n  policy:\n    rules:\n"
    path.write_text(head + "      - {lots: [SEC], vendors: [B7], measure: only}\n", encoding="utf-8")
    scenario = Scenario.load(path)
    assert scenario.allocation.policy_model().rules[0].vendors == ("B7",)
    with pytest.raises(ValidationError, match="allocation.policy.rules") as err:
        check_scenario(scenario, tender)
    assert "valid vendors: B1, B2, B3, B4" in str(err.value)
    path.write_text(head + "      - {lots: [SEC], measure: every}\n", encoding="utf-8")
    with pytest.raises(Exception, match="rules.0.measure.*'demand_share'"):
        Scenario.load(path)


def test_binding_scoped_rule_has_its_shadow_price(tender):
    rule = ScopedRule(lots=["HELP"], vendors=["B1"], measure="demand_share", bound="at_least", value=30)
    award = allocate(tender, Policy(rules=(rule,)), mip_gap=0)
    row = award.binding[award.binding["rule"] == "rules"].iloc[0]
    assert row["scope"] == rule.label == "HELP: B1 keeps at least 30% of the demand"
    # one more unit of the desk with the dear incumbent costs its price gap over the cheapest (B3)
    assert row["shadow_price"] == pytest.approx((1.10 - 0.90) * 22.0, rel=1e-6)


def test_decide_stage_checks_options_on_the_resolved_rules(tender):
    from sourcing.pipeline import _stage_decide

    rules = [EXAMPLES["security operations only to SOC 2 holders"]]
    policy = Policy(rules=tuple(ScopedRule(**r) for r in rules))
    scenario = types.SimpleNamespace(
        allocation=types.SimpleNamespace(policy_model=lambda: policy),
        decision=types.SimpleNamespace(measure="p50", max_p_over_budget=None))
    lines = pd.DataFrame({"lot_id": ["SEC"], "provider": ["B2"], "lot_share": [1.0], "units": [14_000.0],
                          "unit_price": [38.0]})
    options = [types.SimpleNamespace(name="B2 runs security", lines=lines),
               types.SimpleNamespace(name="B3 runs security", lines=lines.assign(provider="B3"))]
    summary = pd.DataFrame({"p50": [1.0e6, 1.1e6], "mean": [1.0e6, 1.1e6], "p90": [1.2e6, 1.3e6]},
                           index=[o.name for o in options])
    sim = types.SimpleNamespace(simulation=types.SimpleNamespace(summary=lambda: summary), options=options)
    decision = _stage_decide(scenario, {"simulate": sim, "tender": tender}, {})
    assert decision.recommended == "B3 runs security"
    assert decision.table.at["B2 runs security", "status"] == "breaks the policy"
    assert "Security: only to SOC 2 holders" in decision.reason("B2 runs security")


def test_scenario_form_runs_through_the_award_stages(tender, tender_path, tmp_path):
    from sourcing.pipeline import _stage_award, _stage_rule_costs, check_scenario
    from sourcing.scenario import Scenario

    path = tmp_path / "rules.yaml"
    path.write_text(f"name: scoped\ntender: {tender_path}\nallocation:\n  mip_gap: 0\n  policy:\n"
                    "    rules:\n"
                    "      - {lots: {tower: [service_desk]}, vendors: {incumbent: true},\n"
                    "         measure: demand_share, bound: at_least, value: 30}\n"
                    "      - {name: Security stays with SOC 2 holders, lots: {tower: security},\n"
                    "         vendors: {certifications: SOC 2}, measure: only}\n", encoding="utf-8")
    scenario = Scenario.load(path)
    check_scenario(scenario, tender)
    award = _stage_award(scenario, {"tender": tender, "score": None}, {})
    assert award.status == "optimal"
    assert award.shares.at["B1", "HELP"] >= 0.3 - 1e-9
    assert award.shares.loc[["B2", "B4"], "SEC"].sum() == pytest.approx(0.0, abs=1e-9)
    costs = _stage_rule_costs(scenario, {"tender": tender, "score": None, "award": award}, {})
    assert list(costs.index) == ["Service desk: the incumbent keeps at least 30% of the demand",
                                 "Security stays with SOC 2 holders"]
    assert (costs["cost_of_rule"] > 0).all()


def test_vendors_by_an_extension_column(tmp_path):
    t = tender_tables(currency=CURRENCY, n_vendors=3, n_lots=2)
    t["vendors"] = t["vendors"].assign(x_partner_level=["gold", "silver", "gold"], x_rating=["7", "9", "4"])
    write_tables(t, tmp_path / "t")
    tender = read_tender(tmp_path / "t")
    pol = resolve_policy(Policy(rules=(
        ScopedRule(vendors={"x_partner_level": "gold"}, measure="spend_share", bound="at_least", value=50),
        ScopedRule(vendors={"x_rating": {">=": 5}}, measure="vendors", bound="at_most", value=1))), tender)
    assert pol.rules[0].vendors == ("B1", "B3") and pol.rules[1].vendors == ("B1", "B2")
    award = allocate(tender, pol, mip_gap=0)
    assert award.status == "optimal"
    assert award.spend.loc[["B1", "B3"]].sum().sum() >= 0.5 * award.spend.sum().sum() * (1 - 1e-9)
    assert len(set(award.vendors) & {"B1", "B2"}) <= 1
