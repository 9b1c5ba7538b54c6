"""The what-if model: states, their results through the stages, and the saved scenario.

Run on a made-up tender (CHF, 5 bidders, 3 lots, risk table, AHP judgments), not a sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sourcing import Scenario, run
from sourcing.scoring import evaluate, rank
from sourcing.simulation import Assumptions
from sourcing.simulation.assumptions import MULTIPLIERS, scaled_specs
from sourcing.whatif import State, WhatIf

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    from tenders import make_scenario, make_tender

    folder = tmp_path_factory.mktemp("alpenbank")
    tender = make_tender(folder / "tender", currency="CHF", n_vendors=5, n_lots=3, with_risk=True,
                         n_criteria=11, seed=11, buyer="Alpenbank AG", title="Alpenbank IT 2027")
    return make_scenario(folder, tender, scoring={"method": "topsis"},
                         allocation={"policy": {"max_vendors_per_lot": 2, "min_share_pct": 20},
                                     "risk": {"enabled": False}},
                         simulation={"n": 1000, "budget": None})


@pytest.fixture(scope="module")
def whatif(scenario_file):
    return WhatIf(scenario_file)


def test_moving_one_weight_rescales_the_others_in_proportion(whatif):
    s0 = whatif.start
    crit = next(c for c, w in s0.weights.items() if w > 0)
    s1 = s0.with_weight(crit, 0.4)
    assert sum(s1.weights.values()) == pytest.approx(1.0)
    assert s1.weights[crit] == pytest.approx(0.4)
    ratios = [s1.weights[c] / s0.weights[c] for c in s0.weights if c != crit and s0.weights[c] > 0]
    np.testing.assert_allclose(ratios, ratios[0])
    assert s1.with_weight(crit, s0.weights[crit]).weights == pytest.approx(s0.weights)


def test_a_group_weight_keeps_its_members_proportions(whatif):
    s0 = whatif.start
    group, members = next((g, m) for g, m in whatif.groups.items() if len(m) > 1)
    s1 = s0.with_group_weight(members, 0.5)
    assert sum(s1.weights[c] for c in members) == pytest.approx(0.5)
    assert sum(s1.weights.values()) == pytest.approx(1.0)
    inside = [s1.weights[c] / s0.weights[c] for c in members if s0.weights[c] > 0]
    np.testing.assert_allclose(inside, inside[0])


def test_the_start_ranks_as_the_scenario_and_a_change_as_rank_does(whatif, scenario_file):
    base = run(scenario_file, stages=["score"])
    ev0 = whatif.ranking(whatif.start)
    pd.testing.assert_series_equal(ev0.scores, base.evaluation.scores)
    crit = ev0.weights.idxmax()
    ev1 = whatif.ranking(whatif.start.with_weight(crit, 0.05))
    expected = rank(ev1.matrix, ev1.objectives, ev1.weights, method="topsis")
    np.testing.assert_allclose(ev1.scores.to_numpy(), expected.scores.to_numpy(), atol=1e-12)
    assert ev1.weights[crit] < ev0.weights[crit]


def test_stability_bands_hold_the_first_vendor_first(whatif):
    state = whatif.start
    ev, st = whatif.ranking(state), whatif.stability(state)
    top = ev.ranks.idxmin()
    assert st.top == top
    ranked = set(ev.weights.index)
    for crit, row in st.intervals.iterrows():
        assert row["lower"] - 1e-9 <= row["weight"] <= row["upper"] + 1e-9
        for r in (row["lower"] + 1e-4, row["upper"] - 1e-4):  # just inside the band
            # the band is in shares of the ranked criteria; the state holds every criterion
            others = [c for c in state.weights if c != crit]
            q = sum(state.weights[c] for c in others if c in ranked) / sum(state.weights[c] for c in others)
            t = r * q / (1 - r + r * q)
            moved = whatif.ranking(state.with_weight(crit, t))
            assert moved.weights[crit] == pytest.approx(r, abs=1e-9)
            assert moved.ranks[top] == 1


def test_a_policy_change_re_solves_the_award_and_keeps_the_rule(whatif):
    a0 = whatif.award(whatif.start)
    one = whatif.start.with_policy(max_vendors_per_lot=1, min_share_pct=None)
    a1 = whatif.award(one)
    assert a1.feasible
    assert ((a1.volumes > 1e-9).sum(axis=0) <= 1).all()
    assert float(a1.cost["total"]) >= float(a0.cost["total"]) - 1e-6  # a tighter rule never saves
    with pytest.raises(ValueError, match="max_vendors_per_lot"):
        whatif.start.with_policy(max_vendor_per_lot=1)


def test_an_assumption_change_re_simulates_without_re_solving(whatif):
    s0 = whatif.start
    award = whatif.award(s0)
    o0 = whatif.outcome(s0)
    s1 = s0.with_multiplier("breach_impact", 3.0)
    o1 = whatif.outcome(s1)
    assert whatif.award(s1) is award  # the award stage was found, not solved again
    assert o0.risk_award_current  # risk-aware award switched off: nothing to re-optimise
    assert o1.summary.index.equals(o0.summary.index)
    assert (o1.summary["mean"] >= o0.summary["mean"] - 1e-6).all()  # breaches cost more
    assert o1.decision.recommended in o1.summary.index


def test_scaled_assumptions_multiply_each_value_and_bound():
    from tenders import tiny_tender

    a = Assumptions.for_tender(tiny_tender())
    specs = scaled_specs(a, {"fx_vol": 2.0, "breach_impact": 0.5, "escalation": 1.0, "failure": 3})
    b = Assumptions.for_tender(tiny_tender(), specs)
    assert b.fx_vol == pytest.approx(2 * a.fx_vol)
    assert dict(b.fx_vol_by_currency) == pytest.approx({k: 2 * v for k, v in a.fx_vol_by_currency})
    np.testing.assert_allclose(b.breach_impact.ppf(np.array([0.05, 0.95])),
                               0.5 * a.breach_impact.ppf(np.array([0.05, 0.95])))
    assert b.indexation == a.indexation and b.failure_factor == 3.0
    assert set(specs) == {"fx_vol", "fx_vol_by_currency", "breach_impact", "failure_factor"}
    with pytest.raises(ValueError, match="valid: " + ", ".join(MULTIPLIERS)):
        scaled_specs(a, {"wages": 2})


def test_failure_multiplier_scales_the_risk_table():
    from tenders import tiny_tender

    from sourcing.simulation.options import _risk_table

    tender = tiny_tender(failure_prob=0.4)
    base = _risk_table(tender, Assumptions())
    more = _risk_table(tender, Assumptions(failure_factor=2.0))
    np.testing.assert_allclose(more["failure_prob"], np.minimum(base["failure_prob"] * 2, 1.0))


def test_the_saved_scenario_reproduces_the_state(whatif, tmp_path):
    s0 = whatif.start
    crit = next(c for c, w in s0.weights.items() if w > 0)
    state = (s0.with_weight(crit, 0.35).with_policy(max_vendors_per_lot=3)
             .with_multiplier("fx_vol", 1.5).with_multiplier("failure", 2.0))
    path = whatif.save(state, tmp_path / "meeting.yaml")
    with pytest.raises(FileExistsError):
        whatif.save(state, path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert not data["tender"].startswith("/")  # relative to the file: the folder can move
    again = WhatIf(Scenario.load(path))
    pd.testing.assert_series_equal(again.ranking(again.start).scores, whatif.ranking(state).scores)
    a, b = again.award(again.start), whatif.award(state)
    pd.testing.assert_frame_equal(a.volumes, b.volumes)
    pd.testing.assert_frame_equal(again.outcome(again.start).summary, whatif.outcome(state).summary)
    assert "(what-if)" in data["name"] and "weighs 35%" in data["description"]


def test_changes_are_said_in_names_and_percents(whatif):
    s0 = whatif.start
    crit = next(c for c, w in s0.weights.items() if w > 0)
    name = whatif.tender.criteria.at[crit, "name"]
    words = whatif.changes(s0.with_weight(crit, 0.4).with_policy(max_vendors_per_lot=1)
                           .with_multiplier("failure", 2).with_gates(False))
    text = " ".join(words)
    assert f"{name} weighs 40%" in text and "the other weights rescaled in proportion" in text
    assert "most vendors per lot 1 (was 2)" in text
    assert "Vendor failure probability times 2.00" in text and "gates are off" in text
    assert crit not in text.split()  # names, not ids
    assert whatif.changes(s0) == []


def test_gates_off_ranks_the_excluded_vendors(whatif):
    with_gates = whatif.ranking(whatif.start)
    without = whatif.ranking(whatif.start.with_gates(False))
    assert set(with_gates.scores.index) <= set(without.scores.index)
    assert len(without.excluded) == 0


def test_bad_states_are_refused_with_the_valid_choices(whatif):
    s0 = whatif.start
    with pytest.raises(ValueError, match="valid:"):
        s0.with_weight("NOPE", 0.3)
    with pytest.raises(ValueError, match=r"within \[0, 1\]"):
        s0.with_weight(next(iter(s0.weights)), 40)
    with pytest.raises(ValueError, match="valid: failure, escalation"):
        s0.with_multiplier("wages", 2)
    with pytest.raises(ValueError, match="valid choices"):
        s0.with_method("magic")
    with pytest.raises(ValueError, match=".yaml"):
        whatif.save(s0, "meeting.txt")


def test_an_ahp_tender_takes_direct_weights_from_the_what_if(tmp_path):
    from tenders import make_scenario, make_tender

    tender = make_tender(tmp_path / "t", currency="SEK", n_vendors=4, n_lots=2, with_pairwise=True,
                         seed=5)
    path = make_scenario(tmp_path, tender, allocation={"risk": {"enabled": False}},
                         simulation={"n": 500})
    w = WhatIf(path)
    ev0 = w.ranking(w.start)
    np.testing.assert_allclose(ev0.scores, evaluate(w.tender, method="topsis").scores)
    crit = ev0.weights.idxmax()
    state = w.start.with_weight(crit, 0.1)
    saved = w.save(state, tmp_path / "ahp-what-if.yaml")
    again = WhatIf(saved)
    np.testing.assert_allclose(again.ranking(again.start).scores, w.ranking(state).scores, atol=1e-12)


def test_the_risk_aware_award_is_kept_until_re_optimised(tmp_path):
    from tenders import make_scenario, make_tender

    tender = make_tender(tmp_path / "t", currency="CHF", n_vendors=4, n_lots=2, with_risk=True, seed=3)
    path = make_scenario(tmp_path, tender,
                         allocation={"policy": {"max_vendors_per_lot": 2},
                                     "risk": {"enabled": True, "scenarios": 40, "frontier": [0, 1],
                                              "backup": False}},
                         simulation={"n": 500})
    w = WhatIf(path)
    state = w.start.with_multiplier("failure", 3.0)
    assert not w.outcome(state).risk_award_current
    w.reoptimise(state)
    now = w.outcome(state)
    assert now.risk_award_current
    saved = WhatIf(w.save(state, tmp_path / "failures.yaml"))
    pd.testing.assert_frame_equal(saved.outcome(saved.start).summary, now.summary)


def test_state_keys_are_equal_for_equal_states(whatif):
    s0 = whatif.start
    assert s0.key() == State(**{f: getattr(s0, f) for f in s0.__dataclass_fields__}).key()
    assert s0.key() != s0.with_gates(False).key()
