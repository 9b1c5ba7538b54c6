"""The recommendation rule: one option, every other with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from sourcing.allocation import Policy
from sourcing.decision import decide, policy_breaches
from sourcing.present import Names


class _Option:
    """A stand-in SourcingScenario: a name and the lines the rule reads."""

    def __init__(self, name, rows):
        self.name = name
        self.lines = pd.DataFrame(rows, columns=["lot_id", "provider", "lot_share", "units",
                                                 "unit_price"])


SOLE = _Option("Single vendor", [("L1", "A", 1.0, 100, 10.0), ("L2", "A", 1.0, 100, 10.0)])
DUAL = _Option("Multi-vendor", [("L1", "A", 0.6, 60, 10.0), ("L1", "B", 0.4, 40, 11.0),
                                ("L2", "B", 0.5, 50, 9.0), ("L2", "A", 0.5, 50, 10.0)])
HOME = _Option("In-house", [("L1", "inhouse", 1.0, 100, 14.0), ("L2", "inhouse", 1.0, 100, 14.0)])
NAMES = Names({"A": "Acme", "B": "Beta", "L1": "Service desk", "L2": "Hosting"})


def _summary(p50, p_over=None):
    s = pd.DataFrame({"mean": p50, "p50": p50, "p90": [x * 1.1 for x in p50]},
                     index=["Single vendor", "Multi-vendor", "In-house"])
    if p_over is not None:
        s["p_over_budget"] = p_over
    return s


def test_a_cheaper_option_that_breaks_the_policy_is_not_recommended():
    """The board page used to recommend an award and call a rule-breaking single vendor the
    cheapest option: the rule recommends the cheapest option that keeps the policy."""
    policy = Policy(min_vendors_per_lot=2)
    d = decide(_summary([90.0, 100.0, 130.0]), [SOLE, DUAL, HOME], policy, currency="USD",
               names=NAMES)
    assert d.recommended == "Multi-vendor"
    assert d.table.at["Single vendor", "status"] == "breaks the policy"
    assert "fewer than two vendors on Service desk and Hosting" in d.reason("Single vendor")
    assert d.table.at["In-house", "status"] == "costlier"
    assert d.reason("In-house") == "costs USD 30 more (P50 USD 130 against USD 100)"
    assert (d.table["status"] == "recommended").sum() == 1
    # the option it was chosen over keeps the policy: in-house, not the cheaper single vendor
    assert d.runner_up == "In-house"


def test_risk_appetite_excludes_a_cheap_risky_option():
    d = decide(_summary([90.0, 100.0, 130.0], [0.6, 0.3, 0.05]), [SOLE, DUAL, HOME], None,
               max_p_over_budget=0.2, currency="EUR")
    assert d.recommended == "In-house" and d.meets_appetite
    assert d.table.at["Single vendor", "status"] == "too risky"
    assert "60% is above the appetite of 20%" in d.reason("Single vendor")


def test_no_option_within_appetite_takes_the_least_risky_and_says_so():
    d = decide(_summary([90.0, 100.0, 130.0], [0.6, 0.5, 0.4]), [SOLE, DUAL, HOME], None,
               max_p_over_budget=0.2, currency="EUR")
    assert d.recommended == "In-house" and not d.meets_appetite
    assert "no option keeps the risk appetite" in d.reason("In-house")


@pytest.mark.parametrize("measure, expected", [("p50", "Single vendor"), ("p90", "Single vendor")])
def test_measure_and_row_order_do_not_change_the_rule(measure, expected):
    s = _summary([90.0, 100.0, 130.0])
    a = decide(s, [SOLE, DUAL, HOME], None, measure=measure, currency="EUR")
    b = decide(s.iloc[::-1], [HOME, DUAL, SOLE], None, measure=measure, currency="EUR")
    assert a.recommended == b.recommended == expected


def test_policy_breaches_in_words():
    policy = Policy(max_spend_share_pct=60, max_share_pct=70)
    found = policy_breaches(SOLE, policy, names=NAMES)
    assert "Acme holds 100% of Service desk and Hosting (at most 70%)" in found
    assert "Acme takes 100% of spend (at most 60%)" in found


def test_policy_breaches_of_every_lot_are_said_once():
    """A sole vendor on five lots breaks two rules on each: one sentence per rule, "all five lots"
    instead of five names (the board page listed ten clauses, each lot named twice)."""
    ids = [f"L{j}" for j in range(5)]
    sole = _Option("Single vendor", [(lot, "A", 1.0, 100, 10.0) for lot in ids])
    split = _Option("Multi-vendor", [(lot, v, sh, 100 * sh, 10.0) for lot in ids[:3]
                                     for v, sh in (("A", 0.8), ("B", 0.2))])
    policy = Policy(min_vendors_per_lot=2, max_share_pct=75)
    assert policy_breaches(sole, policy, names=NAMES) == [
        "fewer than two vendors on all five lots", "Acme holds 100% of all five lots (at most 75%)"]
    assert policy_breaches(split, policy, names=NAMES) == [
        "Acme holds 80% of all three lots (at most 75%)"]
    part = _Option("Hybrid", [("L1", "A", 1.0, 100, 10.0), ("L2", "inhouse", 1.0, 100, 14.0),
                              ("L3", "A", 0.5, 50, 10.0), ("L3", "B", 0.5, 50, 10.0)])
    assert policy_breaches(part, policy, names=NAMES) == [
        "fewer than two vendors on Service desk", "Acme holds 100% of Service desk (at most 75%)"]
    assert policy_breaches(HOME, policy) == []  # in-house lots are not subject to vendor rules
    assert policy_breaches(DUAL, Policy(min_vendors_per_lot=2)) == []


def test_bad_arguments_name_the_valid_choices():
    with pytest.raises(ValueError, match="measure must be one of p50, mean, p90"):
        decide(_summary([1.0, 2.0, 3.0]), [SOLE, DUAL, HOME], None, measure="p99", currency="EUR")
    with pytest.raises(ValueError, match="probability in"):
        decide(_summary([1.0, 2.0, 3.0]), [SOLE, DUAL, HOME], None, max_p_over_budget=20,
               currency="EUR")


def test_costs_equal_within_noise_are_a_tie_won_by_the_earlier_option():
    s = _summary([100.0, 100.01, 130.0])
    d = decide(s, [SOLE, DUAL, HOME], None, currency="EUR")
    assert d.recommended == "Single vendor"
    assert "costs the same as the recommended option" in d.reason("Multi-vendor")
    d = decide(s.loc[["Multi-vendor", "Single vendor", "In-house"]], [SOLE, DUAL, HOME], None,
               currency="EUR")
    assert d.recommended == "Multi-vendor"
