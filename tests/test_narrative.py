"""Generated sentences: counts, names and conclusions follow the tender and the numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from sourcing import narrative as story
from sourcing.allocation import Policy
from sourcing.present import Names, money, percent, text_problems
from sourcing.scoring import evaluate
from sourcing.scoring.sensitivity import Agreement, rank_agreement
from sourcing.simulation import Assumptions


def test_tender_story_counts_the_tender(tender, smallco):
    one = story.tender_story(tender)
    assert one.startswith("Eight vendors bid for five lots (Service desk,")
    assert "three evaluators scored them on 16 criteria with weights in points" in one
    assert "Money is in EUR over a 5-year contract." in one
    two = story.tender_story(smallco)
    assert two.startswith("Four vendors bid for three lots")
    assert "two evaluators" in two and "seven criteria" in two and "(AHP)" in two
    assert "GBP over a 4-year contract" in two


def _agreement(ranks: dict) -> Agreement:
    frame = pd.DataFrame(ranks, index=["A", "B", "C"])
    return Agreement(ranks=frame, **rank_agreement(frame))


def test_methods_agree_only_when_they_do():
    names = {"A": "Acme", "B": "Beta", "C": "Core"}
    same = story.methods_story(_agreement({"wsm": [1, 2, 3], "topsis": [1, 2, 3]}), names=names)
    assert same == ("The two methods (the weighted sum and TOPSIS) agree on the winner, Acme, "
                    "and on the whole order.")
    partly = story.methods_story(_agreement({"wsm": [1, 2, 3], "topsis": [1, 3, 2]}), names=names)
    assert "agree on the winner, Acme; they order the other vendors differently" in partly
    split = story.methods_story(_agreement({"wsm": [1, 2, 3], "topsis": [2, 1, 3],
                                            "vikor": [1, 3, 2]}), names=names)
    assert split.startswith("The methods disagree on the winner: the weighted sum and VIKOR rank "
                            "Acme first; TOPSIS ranks Beta first.")


def test_methods_disagree_on_the_sample(tender):
    """On the first sample TOPSIS ranks BlueRiver first and the weighted sum Nordic: said so."""
    from sourcing.scoring import compare_methods

    ev = evaluate(tender, method="topsis")
    text = story.methods_story(compare_methods(ev.matrix, ev.objectives, ev.weights), names=ev.names)
    assert "disagree on the winner" in text and "TOPSIS ranks BlueRiver Offshore Services first" in text


def test_ranking_story_names_the_winner_and_the_excluded(smallco):
    ev = evaluate(smallco, method="vikor")
    lines = story.ranking_story(ev, method="vikor")
    winner = ev.names[ev.ranks.idxmin()]
    assert lines[0].startswith(f"{winner} ranks first of three admitted vendors by VIKOR")
    assert lines[-1].startswith("One vendor failed a knock-out gate and was excluded: Moorland")


def test_policy_story_in_words():
    lines = story.policy_story(Policy(min_vendors_per_lot=2, max_spend_share_pct=60, budget=2e6,
                                      exclude=("V9",)), currency="USD", names=Names({"V9": "Nine"}))
    assert "Every lot has at least two vendors." in lines
    assert "No vendor takes more than 60% of the annual spend." in lines
    assert "The award costs at most USD 2.0M a year." in lines
    assert "Nine may not be awarded." in lines


def test_assumptions_table_is_in_the_tender_currency(tender, smallco):
    for t in (tender, smallco):
        table = story.assumptions_table(Assumptions.for_tender(t), currency=t.currency)
        text = " ".join(table["value"])
        assert f"90% between {t.currency} " in text
        assert text_problems(text, currency=t.currency) == []
        assert table["assumption"].is_unique


def test_budget_story_separates_price_from_risk_cost():
    by_driver = pd.DataFrame({"service": [60.0], "escalation": [5.0], "fx": [1.0], "governance": [2.0],
                              "transition": [3.0], "sla_credits": [-1.0], "business_impact": [2.0],
                              "vendor_failure": [4.0], "security": [1.0]}, index=["Award"])
    summary = pd.DataFrame({"p50": [77.0], "p_over_budget": [0.4]}, index=["Award"])
    lines = story.budget_story(summary, by_driver, "Award", budget=75.0, currency="USD", years=5)
    assert "USD 68 of fees" in lines[0] and "USD 3 of one-off transition" in lines[0]
    assert "USD 6 of modelled risk cost" in lines[0]
    assert "(40%) is the share of simulated contracts" in lines[1]
    assert lines[2] == ("The budget covers the contract price but not the modelled risk cost on "
                        "average.")


@pytest.mark.parametrize("text, words", [(">= 40", "must be at least 40"), ("== yes", "must be yes"),
                                         ("", ""), (None, "")])
def test_gate_words(text, words):
    assert story.gate_words(text) == words


def _award_result(smallco, recommended, *, risk_policy=None):
    """A run result of the second sample with the least-cost award, optionally a second award
    standing for the risk-aware one, and *recommended* as the decision."""
    from types import SimpleNamespace

    from sourcing.allocation import allocate

    cheapest = allocate(smallco, Policy(), mip_gap=0)
    awards = {"Multi-vendor": cheapest}
    if risk_policy is not None:
        awards["Risk-aware award"] = allocate(smallco, risk_policy, mip_gap=0)
    summary = pd.DataFrame({"mean": [1_400_000.0, 1_200_000.0, 1_300_000.0],
                            "cvar95": [1_600_000.0, 1_500_000.0, 1_700_000.0]},
                           index=["Multi-vendor", "Risk-aware award", "In-house"])
    return SimpleNamespace(tender=smallco, award=cheapest, option_awards=awards,
                           decision=SimpleNamespace(recommended=recommended),
                           recommended_award=awards.get(recommended), summary=lambda: summary)


def test_award_section_shows_the_award_the_recommendation_signs(smallco):
    """Issue: the board page headed the least-cost award "The recommended award" while it
    recommended the risk-aware award.  The section now shows the award the recommended option
    signs, says what it costs against the least-cost one, and names the least-cost award as such
    when the recommended option signs none."""
    names = Names.of(smallco)
    res = _award_result(smallco, "Multi-vendor")
    heading, lines, shown = story.award_section(res)
    assert heading == "The recommended award" and shown is res.award
    assert lines == story.award_story(res.award, names=names)

    res = _award_result(smallco, "Risk-aware award", risk_policy=Policy(min_vendors_per_lot=2))
    heading, lines, shown = story.award_section(res)
    risk = res.option_awards["Risk-aware award"]
    assert heading == "The recommended award" and shown is risk
    extra = risk.cost["total"] - res.award.cost["total"]
    assert extra > 0
    assert lines[0].startswith("Award to ") and names(risk.vendors[0]) in lines[0]
    assert f"{money(extra, 'GBP')} ({percent(extra / res.award.cost['total'])}) more than the least-cost" \
        in lines[1]
    assert "mean cost is GBP 1.2M against GBP 1.4M for the least-cost award (Multi-vendor)" in lines[2]
    assert "GBP 1.5M against GBP 1.6M on average in the worst 5%" in lines[2]

    res = _award_result(smallco, "In-house")
    heading, lines, shown = story.award_section(res)
    assert heading == "The least-cost award under the policy" and shown is res.award
    assert lines[0].startswith("In-house is recommended")
    for line in lines:
        assert text_problems(line, currency="GBP") == []


def test_backup_in_words_once_without_double_negatives():
    """The backup table says 'more'/'less' and 'lower'/'higher' with unsigned amounts (no
    "saving: -SEK 408k"); the findings carry one backup sentence, not one per lot."""
    from types import SimpleNamespace

    import pandas as pd

    from sourcing import present as fmt
    from sourcing.narrative import backup_table, risk_story

    backup = pd.DataFrame({"backup_cost": [408_000.0, -20_000.0], "tail_saving": [-5_000.0, 900_000.0],
                           "net_value": [-413_000.0, 920_000.0], "backup_share": [0.05, 0.3]},
                          index=["L1", "L2"])
    award = SimpleNamespace(alpha=0.95, lam=1.0, feasible=True, expected=1e7, cvar=1.2e7,
                            n_scenarios=200, vendors=["V1"])
    frontier = SimpleNamespace(to_frame=lambda: pd.DataFrame({"status": [], "lam": []}), n_distinct=1)
    risk = SimpleNamespace(award=award, backup=backup, frontier=frontier, same_as_cheapest=True)
    names = fmt.Names({"L1": "Service desk", "L2": "Cloud", "V1": "Acme"})
    table = backup_table(risk, names=names, currency="SEK")
    assert table.loc["Service desk", "Expected cost"] == "SEK 408k more"
    assert table.loc["Cloud", "Expected cost"] == "SEK 20k less"
    assert table.loc["Service desk", "Worst outcomes"] == "SEK 5,000 higher in the worst 5%"
    assert list(table["Worth it"]) == ["no", "yes"]
    assert list(table["Backup holds"]) == ["5% of the lot", "30% of the lot"]  # the share it buys
    assert not any("-" in v for v in table.to_numpy().ravel() if isinstance(v, str))
    lines = risk_story(risk, names=names, currency="SEK")
    assert sum("backup vendor" in line for line in lines) == 1
    assert lines[-1] == ("A backup vendor is worth its expected cost at CVaR weight 1 on Cloud, "
                         "not on Service desk.")
    assert "fees, one-off costs and failure recourse" in lines[0]


def _two_options(shift: float, n: int = 4000, budget: float | None = 105.0):
    """A SimulationResult-like pair of options on common draws: B = A + shift + small noise."""
    import types

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    a = 100 + 5 * rng.standard_normal(n)
    b = a + shift + 0.5 * rng.standard_normal(n)
    sim = types.SimpleNamespace(names=["A", "B"], totals=pd.DataFrame({"A": a, "B": b}),
                                budget=budget)
    decision = types.SimpleNamespace(recommended="A", runner_up="B", table=pd.DataFrame(
        {"cost": [np.median(a), np.median(b)]}, index=["A", "B"]))
    return sim, decision


def test_precision_story_gives_the_intervals_and_a_clear_difference():
    from sourcing.narrative import precision_story

    sim, decision = _two_options(shift=3.0)
    first, second = precision_story(sim, decision, currency="CHF")
    assert first.startswith("With 4,000 simulated contracts") and "percentage points" in first
    assert "option's median is known to within CHF" in first and "P90 to within CHF" in first
    assert second.startswith("On the same draws A costs on average CHF 3 less than B, give or take CHF")
    assert text_problems(first + " " + second, currency="CHF") == []


def test_precision_story_says_when_two_options_are_tied():
    from sourcing.narrative import precision_story

    sim, decision = _two_options(shift=0.0, budget=None)
    first, second = precision_story(sim, decision, currency="CHF")
    assert "budget" not in first
    assert "cost the same on average within the simulation's precision" in second


def test_price_to_win_lines_read_as_sentences_with_the_lots_unit():
    import math

    import pandas as pd

    from sourcing import present as fmt
    from sourcing.narrative import per_unit, price_to_win_lines

    table = pd.DataFrame(
        {"awarded": [False, True, False], "price": [44.9, 2410.0, 30.0],
         "price_to_enter": [41.2, math.nan, math.nan], "price_to_lose": [math.nan, 2651.0, math.nan],
         "gap_pct": [100 * (41.2 / 44.9 - 1), 10.0, math.nan],
         "reason": ["", "", "no price wins it: capacity, minimum volume or the policy rule it out"]},
        index=pd.MultiIndex.from_tuples([("L1", "V3"), ("L2", "V1"), ("L1", "V9")],
                                        names=["lot_id", "vendor_id"]))
    names = fmt.Names({"L1": "Service desk", "L2": "Hosting", "V3": "Baltic IT", "V1": "Nordic",
                       "V9": "Tiny"})
    lines = price_to_win_lines(table, names=names, currency="EUR",
                               units={"L1": "tickets", "L2": "servers"})
    assert lines[0] == ("Service desk: Baltic IT at EUR 44.90 per ticket would enter at EUR 41.20 "
                        "(8.2% below today)")
    assert lines[1] == ("Hosting: Nordic at EUR 2,410 per server keeps its share up to EUR 2,651 "
                        "(10.0% above today)")
    assert lines[2].endswith("no price wins it: capacity, minimum volume or the policy rule it out")
    assert per_unit("FTE") == "per FTE" and per_unit(None) == "a unit" and per_unit("access") == "per access"


def test_rule_cost_lines_price_the_rules_that_cost_and_group_the_free_ones():
    import pandas as pd

    from sourcing.narrative import rule_cost_lines

    costs = pd.DataFrame({
        "description": ["maximum vendors per lot", "at least two vendors per lot", "quality floor",
                        "maximum spend share"],
        "cost_with": [7_200_000_000.0, 7_200_000_000.0, 7_200_000_000.0, 7_200_000_000.0],
        "cost_without": [7_200_000_000.0, 7_150_000_000.0, 7_199_999_000.0, float("nan")],
        "cost_of_rule": [0.0, 50_000_000.0, 1_000.0, float("nan")],
    }, index=["max_vendors_per_lot", "min_vendors_per_lot", "quality_floor", "max_spend_share_pct"])
    lines = rule_cost_lines(costs, currency="JPY")
    assert lines == [
        "At least two vendors per lot costs JPY 50.0M a year: without it the award would cost "
        "JPY 7.15bn instead of JPY 7.20bn.",
        # 1,000 yen of 7.2 billion is within the solver's precision: nothing
        "Maximum vendors per lot and quality floor cost nothing: the least-cost award keeps them "
        "anyway.",
        "Without maximum spend share no award is found, so its cost cannot be stated."]
    one = rule_cost_lines(costs.iloc[:1], currency="JPY")
    assert one == ["Maximum vendors per lot costs nothing: the least-cost award keeps it anyway."]
    assert rule_cost_lines(costs.iloc[:0], currency="JPY") == []
