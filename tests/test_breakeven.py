"""Break-even values on a made-up tender (CHF, 5 bidders, 3 lots): a known answer (the budget at
which the recommended option breaks the risk appetite is a quantile of its own draws) and the
properties of the search."""

from __future__ import annotations

import pytest

from sourcing.breakeven import NO_OPTION_WITHIN_APPETITE, break_even, break_even_story
from sourcing.cache import StageCache
from sourcing.whatif import WhatIf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def whatif(tmp_path_factory):
    from tenders import make_scenario, make_tender

    folder = tmp_path_factory.mktemp("geneva")
    tender = make_tender(folder / "t", currency="CHF", n_vendors=5, n_lots=3, with_risk=True, seed=4)
    path = make_scenario(folder, tender, allocation={"policy": {"max_vendors_per_lot": 2},
                                                     "risk": {"enabled": False}},
                         simulation={"n": 800, "budget": 1e9},
                         decision={"max_p_over_budget": 0.3})
    w = WhatIf(path, cache=StageCache())
    summary = w.outcome(w.start).summary
    rec = w.outcome(w.start).decision.recommended
    # the budget at the recommended option's P90: comfortably within the 30 % appetite
    return w.__class__(path.parent / _with_budget(path, float(summary.at[rec, "p90"]) * 1.05),
                       cache=StageCache())


def _said(decision):
    return decision.recommended if decision.meets_appetite else NO_OPTION_WITHIN_APPETITE


def _with_budget(path, budget):
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["simulation"]["budget"] = budget
    out = path.with_name("budgeted.yaml")
    out.write_text(yaml.safe_dump(data), encoding="utf-8")
    return out.name


def test_the_budget_break_even_is_the_quantile_of_the_recommended_option(whatif):
    out = whatif.outcome(whatif.start)
    rec = out.decision.recommended
    be = break_even(whatif, "simulation.budget", tol=1.0)
    assert be.recommended == rec and be.below is not None
    # below the budget at which P(cost > budget) passes 30 %, the option is too risky
    draws = whatif._stages(whatif.start, ["simulate"])["simulate"].simulation.totals[rec].to_numpy()
    p_over = [(draws > b).mean() for b in (be.below - 2.0, be.below + 2.0)]
    assert p_over[0] > 0.3 >= p_over[1]
    assert be.below_option != rec


def test_the_boundary_separates_the_two_recommendations(whatif):
    be = break_even(whatif, "simulation.budget", tol=1.0)
    inside = whatif.start.with_overrides(**{"simulation.budget": be.below + 1.0})
    outside = whatif.start.with_overrides(**{"simulation.budget": be.below - 1.0})
    assert _said(whatif.outcome(inside).decision) == be.recommended
    assert _said(whatif.outcome(outside).decision) == be.below_option
    again = break_even(whatif, "simulation.budget", tol=1.0)
    assert again.below == be.below  # common random numbers: the same value every time


def test_a_count_rule_reports_the_first_whole_number_that_changes_it(whatif):
    be = break_even(whatif, "policy.max_vendors_per_lot")
    assert be.unit == "count" and be.baseline == 2
    for v in (be.below, be.above):
        assert v is None or float(v).is_integer()
    assert be.evaluations <= len(whatif.tender.vendor_ids)


def test_no_break_even_in_a_narrow_range_says_so(whatif):
    be = break_even(whatif, "multiplier.failure", low=0.999, high=1.001, steps=2)
    assert (be.below, be.above) == (None, None)
    text = break_even_story(be, currency="CHF")
    assert "no break-even in range" in text and "1.00" in text


def test_a_weight_moves_the_single_vendor_option_to_another_vendor(whatif):
    # the single-vendor option signs the best-ranked vendor able to serve everything: a weight
    # that reorders two close vendors changes which option is recommended
    crit = next(c for c, x in whatif.start.weights.items() if x > 0)
    be = break_even(whatif, f"weight.{crit}")
    assert be.unit == "share" and 0 <= be.low <= be.baseline <= be.high <= 1
    for v, option in ((be.below, be.below_option), (be.above, be.above_option)):
        if v is not None:
            step = 0.01 * (be.high - be.low)
            beyond = v + step if v > be.baseline else v - step
            beyond = min(max(beyond, be.low), be.high)
            assert _said(whatif.outcome(whatif.start.with_weight(crit, beyond)).decision) == option


def test_the_story_names_both_sides_in_the_tender_currency(whatif):
    text = break_even_story(break_even(whatif, "simulation.budget", tol=1.0), currency="CHF")
    assert "stays recommended while the budget stays above CHF" in text and "below," in text


def test_unknown_inputs_list_the_valid_forms(whatif):
    with pytest.raises(ValueError, match="valid forms: weight"):
        break_even(whatif, "nonsense")
    with pytest.raises(ValueError, match="valid: failure, escalation"):
        break_even(whatif, "multiplier.wages")
    with pytest.raises(ValueError, match="must hold its baseline"):
        break_even(whatif, "multiplier.failure", low=2.0, high=3.0)


def test_a_zero_multiplier_is_a_constant_zero(whatif):
    out = whatif.outcome(whatif.start.with_multiplier("escalation", 0.0))
    assert out.decision.recommended is not None


def test_the_command_line_says_it_in_one_sentence(whatif, capsys):
    from sourcing.cli import main

    code = main(["break-even", whatif.scenario.source, "multiplier.failure", "--range", "0.9", "1.1",
                 "--draws", "300"])
    out = capsys.readouterr().out
    assert code == 0 and "stays recommended" in out and "evaluations of the pipeline" in out
    assert main(["break-even", whatif.scenario.source, "multiplier.wages"]) == 1
    assert "valid: failure" in capsys.readouterr().err


def test_key_inputs_are_the_drivers_multipliers_then_the_heaviest_weights():
    import pandas as pd

    from sourcing.breakeven import key_inputs

    class Sobol:
        def of(self, output):
            assert output == "A - B"
            return pd.DataFrame({"ST": [0.5, 0.3, 0.2, 0.1]},
                                index=["security[V01]", "growth[L1]", "fx[INR] + fx[offshore]",
                                       "failure[V02]"])

    class Drivers:
        sobol, difference = Sobol(), "A - B"

    weights = {"C1": 0.2, "C2": 0.45, "C3": 0.35}
    assert key_inputs(Drivers(), weights) == ["multiplier.security", "multiplier.fx_vol",
                                              "weight.C2", "weight.C3"]
    assert key_inputs(None, weights, n_weights=1) == ["weight.C2"]


def test_the_board_says_how_far_the_key_inputs_may_move(tmp_path):
    """A tender made up for the test (SEK, five bidders, two lots, no tiers or risk table): the
    report's stages give one break-even sentence per key input, and the board's findings hold them."""
    from tenders import make_scenario, make_tender

    from sourcing import pipeline
    from sourcing.cache import StageCache
    from sourcing.narrative import board_story

    tender = make_tender(tmp_path / "t", currency="SEK", n_vendors=5, n_lots=2, seed=4)
    path = make_scenario(tmp_path, tender, simulation={"n": 1000, "sobol_samples": 64},
                         allocation={"risk": {"enabled": False}, "price_to_win": False})
    result = pipeline.run(path, stages=[*pipeline.RUN_STAGES, "break_even"], cache=StageCache())
    assert 1 <= len(result.break_even) <= 4
    weights = WhatIf(path).start.weights
    heaviest = sorted(weights, key=lambda c: (-weights[c], c))[:2]
    assert [b.key for b in result.break_even][-2:] == [f"weight.{c}" for c in heaviest]
    findings = board_story(result)["findings"]
    lines = [f for f in findings if "stays recommended" in f]
    assert len(lines) == len(result.break_even)
    assert all(result.decision.recommended in f for f in lines)
    off = make_scenario(tmp_path, tender, filename="off.yaml", decision={"break_even": False},
                        simulation={"n": 1000, "sobol_samples": 64},
                        allocation={"risk": {"enabled": False}, "price_to_win": False})
    assert pipeline.run(off, stages=["break_even"], cache=StageCache()).break_even == []


def test_a_tender_cell_moves_through_the_scenario_and_its_boundary_separates(whatif):
    # the in-house cost of every unit of one lot: cheap enough, in-house or hybrid wins; the
    # tender's files are not touched (the cell is the scenario's tender_cells)
    from sourcing.io import read_tender

    lot = whatif.tender.lot_ids[0]
    base = float(whatif.tender.lots.at[lot, "inhouse_unit_cost"])
    be = break_even(whatif, f"lots.{lot}.inhouse_unit_cost", low=0.01 * base, high=3 * base, tol=base / 1e3)
    assert be.unit == "unit price" and be.baseline == base
    assert whatif.tender.lots.at[lot, "name"] in be.label
    assert be.below is not None or be.above is not None
    for v, option in ((be.below, be.below_option), (be.above, be.above_option)):
        if v is not None:
            step = base / 500 if v > be.baseline else -base / 500  # beyond the tolerance
            key = f"tender_cells.lots.{lot}.inhouse_unit_cost"
            assert _said(whatif.outcome(whatif.start.with_overrides(**{key: v + step})).decision) == option
            assert _said(whatif.outcome(whatif.start.with_overrides(**{key: v - step})).decision) \
                == be.recommended
    assert read_tender(whatif.scenario.tender).lots.at[lot, "inhouse_unit_cost"] == base
    text = break_even_story(be, currency="CHF")
    assert "CHF" in text and "in-house unit cost of" in text


def test_tender_cells_name_their_table_row_and_column(whatif):
    vendor = whatif.tender.vendor_ids[0]
    with pytest.raises(ValueError, match="no row 'NOPE' in risk; valid: "):
        break_even(whatif, "risk.NOPE.failure_prob")
    with pytest.raises(ValueError, match="a tender cell of bids is bids.<vendor>.<lot>.<column>"):
        break_even(whatif, f"bids.{vendor}.unit_price")
    with pytest.raises(ValueError, match="vendors.name is not a number"):
        break_even(whatif, f"vendors.{vendor}.name")
    be = break_even(whatif, f"risk.{vendor}.failure_prob", steps=2)
    assert be.unit == "fraction" and 0.0 == be.low <= be.baseline <= be.high <= 1.0
