"""The whole pipeline on the sample tender: reproducible, consistent across stages, exportable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sourcing import Scenario, run
from sourcing.pipeline import full_service_vendor

BASELINE = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def small():
    return Scenario.load(BASELINE, **{"simulation.n": 2000, "scoring.smaa_samples": 500})


@pytest.fixture(scope="module")
def result(small):
    return run(small)


def test_same_seed_same_numbers(small, result):
    again = run(small, rule_costs=False)
    pd.testing.assert_frame_equal(again.summary(), result.summary())
    pd.testing.assert_frame_equal(again.award.volumes, result.award.volumes)
    pd.testing.assert_frame_equal(again.acceptability.acceptability,
                                  result.acceptability.acceptability)
    other = run(small.model_copy(update={"seed": small.seed + 1}), rule_costs=False)
    assert not np.allclose(other.summary()["mean"], result.summary()["mean"])


def test_stages_fit_together(result):
    ev, award = result.evaluation, result.award
    assert set(ev.excluded.index) == {"V06", "V07"}
    assert award.feasible
    awarded = award.volumes.sum(axis=1)
    assert not set(awarded[awarded > 0].index) & set(ev.excluded.index)
    pd.testing.assert_series_equal(award.volumes.sum(axis=0), result.tender.demand,
                                   check_names=False, check_index_type=False, rtol=1e-6)
    summary = result.summary()
    assert len(summary) == 4 and (summary["p90"] >= summary["p50"]).all()
    assert summary["p_cheapest"].sum() == pytest.approx(1.0)
    assert result.sla is not None and set(result.sla["lot_id"]) == {"L1", "L5"}


def test_rule_costs_are_non_negative(result):
    costs = result.rule_costs["cost_of_rule"]
    assert (costs >= 0).all()  # never negative, on any machine (cost within tolerance reads 0)


def test_single_vendor_option_can_serve_every_lot(result):
    vendor = full_service_vendor(result.tender, result.evaluation)
    bids = result.tender.bids[result.tender.bids["vendor_id"] == vendor]
    assert set(bids["lot_id"]) == set(result.tender.lot_ids)
    cap = bids.set_index("lot_id")["capacity"]
    assert (cap.isna() | (cap >= result.tender.demand[cap.index])).all()


def test_write_results(result, tmp_path):
    book = result.write(tmp_path)
    wb = openpyxl.load_workbook(book, read_only=True)
    assert wb.sheetnames[0] == "headline"
    assert {"decision", "ranking", "exclusions", "award", "simulation_summary", "assumptions"} <= set(
        wb.sheetnames)
    assert (tmp_path / "ranking.csv").exists() and (tmp_path / "award.png").stat().st_size > 5000
    headline = pd.read_csv(tmp_path / "headline.csv").set_index("item")["value"]
    assert headline["Award status"] == "optimal"
    rows = {r[0]: r[1] for r in wb["headline"].iter_rows(min_row=2, values_only=True)}
    assert isinstance(rows["Award cost per year"], float)  # numbers stay numbers
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["headline"]["recommended_option"] == result.decision.recommended
    assert result.decision.recommended in summary["recommendation"]


def test_one_recommendation_with_reasons(result):
    """The baseline policy caps one vendor at 60 % of spend: the single-vendor option breaks it
    and is never the recommendation, whatever it costs; every other option has its reason."""
    d = result.decision
    single = next(o.name for o in result.options if o.name.startswith("Single"))
    assert d.table.at[single, "status"] == "breaks the policy"
    assert "of spend (at most 60%)" in d.reason(single)
    assert d.recommended != single
    assert result.headline()["recommended_option"] == d.recommended
    assert (d.table["status"] == "recommended").sum() == 1
    assert d.table["reason"].str.len().gt(10).all()
    # the award behind each option that signs one; the recommended one if it does
    assert result.option_awards.get("Multi-vendor") is result.award
    if result.risk is not None and not result.risk.same_as_cheapest:
        assert result.option_awards["Risk-aware award"] is result.risk.award
    assert result.recommended_award is result.option_awards.get(d.recommended)


def test_infeasible_policy_is_explained_and_has_no_award_cost(small):
    """quality_floor 100 cannot be met (best quality 92.5): the run goes on, says why, and the
    headline shows no award cost (the allocator's empty solution still carried switching cost)."""
    s = small.model_copy(update={"allocation": small.allocation.model_copy(
        update={"policy": {"quality_floor": 100}})})
    r = run(s, rule_costs=False)
    assert r.headline()["award_status"] == "infeasible"
    assert r.headline()["award_cost_per_year"] is None
    assert any("lot L1: quality floor 100 but the best eligible bidder scores" in n for n in r.notes)


def test_scenario_ids_unknown_to_the_tender_are_named_by_scenario_key(small):
    """A typo in a scenario id used to surface as the stage's internal argument (weight_points);
    it is refused before any work, by the scenario's key and line, with the valid ids."""
    from sourcing.schemas import ValidationError

    bad = Scenario.load(BASELINE, **{"scoring.weights": {"C99": 5}, "simulation.inhouse_lots": ["L9"],
                                     "allocation.policy.exclude": ["V77"]})
    with pytest.raises(ValidationError) as info:
        run(bad)
    text = str(info.value)
    assert "weight_points" not in text
    for key, value in (("scoring.weights", "C99"), ("simulation.inhouse_lots", "L9"),
                       ("allocation.policy.exclude", "V77")):
        assert key in text and value in text
    assert "baseline.yaml" in text and "valid: C01, C02" in text


def test_an_award_to_one_vendor_is_shown_once(tmp_path, tender_factory):
    """When the award gives every lot to one vendor, the multi-vendor option is the single-vendor
    option: it is simulated and shown once, with a note, and the two cannot 'tie'."""
    from tenders import make_scenario

    path = tender_factory()
    r = run(make_scenario(tmp_path, path, allocation={"policy": {"max_vendors_total": 1}},
                          scoring={"smaa_samples": 300},
                          simulation={"n": 1000, "options": ["single_vendor", "multi_vendor"]}))
    assert len(r.award.vendors) == 1
    assert len(r.options) == 1 and r.decision.recommended == r.options[0].name
    assert any("serves every lot exactly as" in n for n in r.notes)
    # the option kept signs the award: the board page shows it as the recommended award
    assert r.recommended_award is r.award
    # so does the single-vendor option when the multi-vendor one is not simulated at all
    r = run(make_scenario(tmp_path, path, allocation={"policy": {"max_vendors_total": 1}},
                          scoring={"smaa_samples": 300}, filename="no-multi.yaml",
                          simulation={"n": 1000, "options": ["inhouse", "single_vendor"]}))
    single = next(o.name for o in r.options if o.name.startswith("Single"))
    assert r.option_awards == {single: r.award}


# --- stages and their keys -------------------------------------------------------------------

def _with(scenario: Scenario, section: str, **changes) -> Scenario:
    return scenario.model_copy(update={section: getattr(scenario, section).model_copy(update=changes)})


def test_a_change_re_runs_only_the_stages_downstream_of_it(small, result):
    """Keys are made from exactly what a stage reads: a simulation assumption re-runs the
    simulation and the decision, a weight the scoring and everything after it, the decision's
    risk appetite only the decision; an unchanged scenario computes nothing."""
    from sourcing.pipeline import RUN_STAGES, stage_keys

    assert run(small).computed == []
    base = stage_keys(small, RUN_STAGES)
    cases = {
        "simulation": (_with(small, "simulation", assumptions={"breach_impact": {"pert": [1, 2, 3]}}),
                       {"simulate", "decide"}),
        "decision": (_with(small, "decision", max_p_over_budget=0.5), {"decide"}),
        "weights": (_with(small, "scoring", weights={"C16": 40}),
                    {"score", "acceptability", "award", "rule_costs", "risk_award", "simulate",
                     "decide"}),
        "policy": (_with(small, "allocation", policy={"max_vendors_per_lot": 2}),
                   {"award", "rule_costs", "risk_award", "simulate", "decide"}),
        "risk assumption": (_with(small, "simulation", assumptions={"failure_premium": 0.2}),
                            {"risk_award", "simulate", "decide"}),
        "seed": (small.model_copy(update={"seed": 7}),
                 {"acceptability", "risk_award", "simulate", "decide"}),
    }
    for what, (changed, expected) in cases.items():
        keys = stage_keys(changed, RUN_STAGES)
        assert {s for s in keys if keys[s] != base[s]} == expected, what
    changed = cases["simulation"][0]
    again = run(changed)
    assert again.computed == ["simulate", "decide"]
    assert again.award is result.award and again.evaluation is result.evaluation


def test_risk_award_key_names_every_assumption_the_risk_scenarios_read(small):
    """An assumption outside RISK_ASSUMPTIONS must not change the risk scenarios, or the cached
    risk-aware award would be stale: checked for every field of Assumptions."""
    import dataclasses

    from sourcing.simulation import Assumptions, risk_scenarios
    from sourcing.simulation.scenarios import RISK_ASSUMPTIONS

    tender = run(small).tender
    base = Assumptions.for_tender(tender)
    ref = risk_scenarios(tender, n=50, seed=3, assumptions=base)
    for f in dataclasses.fields(Assumptions):
        if f.name in RISK_ASSUMPTIONS:
            continue
        value = getattr(base, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # distributions and tables: their use is checked through the numbers
        other = risk_scenarios(tender, n=50, seed=3,
                               assumptions=base.with_(**{f.name: value * 0.5 + 0.01}))
        for attr in ("failure_year", "index_factor", "growth_factor", "failure_cost"):
            np.testing.assert_array_equal(getattr(other, attr), getattr(ref, attr), err_msg=f.name)
        assert (other.failure_premium, other.warm_switch_share) == (
            ref.failure_premium, ref.warm_switch_share), f.name


def test_unknown_stage_lists_the_valid_ones(small):
    with pytest.raises(ValueError, match="unknown stage.*valid: tender, score"):
        run(small, stages=["scroe"])


def test_a_run_folder_gives_the_same_result_without_computing(small, result, tmp_path):
    """A folder cache (the report's run folder) returns every stage unchanged, computing none."""
    from sourcing.cache import StageCache

    first = run(small, cache=StageCache(tmp_path / "run"))
    assert first.computed == []  # from memory, and written to the folder on the way
    again = run(small, cache=StageCache(tmp_path / "run", memory=False))
    assert again.computed == []
    pd.testing.assert_frame_equal(again.summary(), result.summary())
    pd.testing.assert_frame_equal(again.award.volumes, result.award.volumes)
    assert again.decision.recommended == result.decision.recommended
    assert again.notes == result.notes


def test_workbook_keeps_assumptions_as_numbers_and_names_ranks(result, tmp_path):
    """The assumptions sheet holds numbers (a percent is 0.025 shown as 2.5 %, not the text
    "0.03"), one row per figure of a distribution; acceptability columns read "rank 1"."""
    book = openpyxl.load_workbook(result.write(tmp_path, figures=False), read_only=True)
    rows = list(book["assumptions"].iter_rows(values_only=True))
    head = rows[0]
    values = [r[head.index("value")] for r in rows[1:]]
    assert values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    figures = {r[head.index("figure")] for r in rows[1:]}
    assert {"low", "most likely", "high"} <= figures
    acc_head = next(book["acceptability"].iter_rows(values_only=True))
    assert "rank 1" in acc_head and 1 not in acc_head and "1" not in acc_head


def test_price_to_win_sheets_hold_one_bidders_rows_only(tmp_path):
    """A tender made up for the test (NOK, five bidders, three lots): each bidder's sheet lists
    its own bids and no other bidder's price."""
    from tenders import make_scenario, make_tender

    from sourcing import pipeline
    from sourcing.cache import StageCache

    tender = make_tender(tmp_path / "t", currency="NOK", n_vendors=5, n_lots=3, seed=9)
    path = make_scenario(tmp_path, tender, allocation={"risk": {"enabled": False}})
    result = pipeline.run(path, stages=["acceptability", "decide", "price_to_win"], rule_costs=False,
                          cache=StageCache())
    table = result.price_to_win
    assert table is not None and len(table) == len(result.tender.bids)
    sheets = {k: v for k, v in result.tables().items() if k.startswith("price_to_win_")}
    names = pipeline.fmt.Names.of(result.tender)
    assert len(sheets) == result.tender.bids["vendor_id"].nunique()
    for vendor in result.tender.bids["vendor_id"].unique():
        frame = sheets[f"price_to_win_{vendor}"].frame
        own = table.xs(vendor, level="vendor_id")
        assert set(frame["bidder"]) == {names(vendor)}
        assert sorted(frame["unit price today"]) == sorted(own["price"])
        assert all("NOK" in line for line in frame["in words"])
    off = make_scenario(tmp_path, tender, filename="off.yaml",
                        allocation={"risk": {"enabled": False}, "price_to_win": False})
    assert pipeline.run(off, stages=["price_to_win"], cache=StageCache()).price_to_win is None


def test_board_summary_intervals_match_the_median_standard_error():
    """The 95 % half-width of a median of n normal draws is 1.96 x sqrt(pi / 2) sigma / sqrt(n)
    asymptotically (the sample median's standard error, e.g. Stuart & Ord, Kendall's Advanced
    Theory of Statistics, 10.10); of a probability p, 1.96 sqrt(p (1 - p) / n)."""
    import numpy as np
    import pandas as pd

    from sourcing.pipeline import board_summary

    rng = np.random.default_rng(3)
    n, sigma = 40_000, 1_000.0
    totals = pd.DataFrame({"A": 50_000 + sigma * rng.standard_normal(n),
                           "B": 52_000 + sigma * rng.standard_normal(n)})

    class Sim:
        def __init__(self):
            self.totals = totals

        def summary(self):
            q = totals.quantile([0.5, 0.9]).T
            return pd.DataFrame({"mean": totals.mean(), "p50": q[0.5], "p90": q[0.9],
                                 "cvar95": totals.quantile(0.975), "p_over_budget":
                                 (totals > 51_000).mean(), "p_cheapest": [0.9, 0.1]})

    out = board_summary(Sim(), intervals=True)
    assert list(out.columns[:5]) == ["mean", "p50", "p50_pm", "p90", "p90_pm"]
    expected = 1.96 * np.sqrt(np.pi / 2) * sigma / np.sqrt(n)
    assert out["p50_pm"].to_numpy() == pytest.approx([expected, expected], rel=0.15)
    p = out["p_over_budget"].to_numpy()
    assert out["p_over_budget_pm"].to_numpy() == pytest.approx(1.96 * np.sqrt(p * (1 - p) / n))
    assert list(board_summary(Sim()).columns) == ["mean", "p50", "p90", "cvar95", "p_over_budget",
                                                  "p_cheapest"]
