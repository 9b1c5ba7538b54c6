"""The JupyterLab front end: widget values set from Python, as a user moves them, update the
outputs (made-up NOK tender; the debounce is 0 so updates are synchronous)."""

from __future__ import annotations

import pytest

from sourcing.cache import StageCache
from sourcing.explorer import explore
from sourcing.narrative import binding_story
from sourcing.present import text_problems, visible_text

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    from tenders import make_scenario, make_tender

    folder = tmp_path_factory.mktemp("fjord")
    tender = make_tender(folder / "t", currency="NOK", n_vendors=5, n_lots=3, with_risk=True,
                         n_criteria=10, seed=8, buyer="Fjordkraft IT", title="Fjord IT 2027")
    path = make_scenario(folder, tender, allocation={"policy": {"max_vendors_per_lot": 2},
                                                     "risk": {"enabled": False}},
                         simulation={"n": 500, "budget": 5e7})
    return explore(path, debounce=0, draws=500, cache=StageCache())


def _texts(e) -> str:
    return " ".join(visible_text(w.value) for w in (e.ranking, e.award, e.options))


def test_the_first_view_says_everything_in_words(explorer):
    text = _texts(explorer)
    assert "ranks first" in text and "Award to" in text and "Recommended:" in text
    assert "NOK" in text and explorer.chart.value[:4] == b"\x89PNG"
    assert text_problems(text, currency="NOK") == []


def test_moving_a_weight_slider_rescales_the_others_and_re_ranks(explorer):
    crit = max(explorer.state.weights, key=explorer.state.weights.get)
    others = {c: s.value for c, s in explorer.weight_sliders.items() if c != crit}
    before = explorer.ranking.value
    explorer.weight_sliders[crit].value = 5.0
    assert explorer.state.weights[crit] == pytest.approx(0.05)
    assert sum(explorer.state.weights.values()) == pytest.approx(1.0)
    moved = [c for c, v in others.items() if v > 0 and explorer.weight_sliders[c].value > v]
    assert moved  # the others grew to fill the 100 %
    assert explorer.ranking.value != before
    assert "weighs 5%" in visible_text(explorer.ranking.value)


def test_a_group_slider_moves_its_criteria_together(explorer):
    group, slider = next(iter(explorer.group_sliders.items()))
    members = explorer.whatif.groups[group]
    before = {c: explorer.state.weights[c] for c in members}
    slider.value = 50.0
    assert sum(explorer.state.weights[c] for c in members) == pytest.approx(0.5)
    parts = [explorer.state.weights[c] / before[c] for c in members if before[c] > 0]
    assert parts == pytest.approx([parts[0]] * len(parts))  # each keeps its part of the group
    assert slider.value == pytest.approx(50.0)
    assert sum(explorer.state.weights.values()) == pytest.approx(1.0)


def test_a_policy_slider_re_solves_the_award(explorer):
    explorer.policy_sliders["max_vendors_per_lot"].value = 1
    assert explorer.state.policy["max_vendors_per_lot"] == 1
    award = explorer.whatif.award(explorer.state)
    assert ((award.volumes > 1e-9).sum(axis=0) <= 1).all()
    assert "most vendors per lot 1 (was 2)" in visible_text(explorer.ranking.value)
    explorer.policy_sliders["max_vendors_per_lot"].value = explorer.policy_sliders[
        "max_vendors_per_lot"].max  # at its end: no rule
    assert "max_vendors_per_lot" not in explorer.state.policy


def test_an_assumption_slider_updates_the_options(explorer):
    before = explorer.options.value
    explorer.multiplier_sliders["breach_impact"].value = 3.0
    assert explorer.state.multipliers["breach_impact"] == 3.0
    assert explorer.options.value != before


def test_the_method_drop_down_and_the_gates(explorer):
    explorer.method.value = "wsm"
    assert explorer.state.method == "wsm" and "by WSM" in visible_text(explorer.ranking.value)
    explorer.gates.value = False
    assert explorer.state.gates is False
    explorer.method.value = explorer.whatif.start.method  # its own parameters come back
    assert dict(explorer.state.params) == dict(explorer.whatif.start.params)


def test_the_save_button_writes_a_scenario_that_loads(explorer, tmp_path):
    from sourcing import Scenario

    explorer.save_name.value = str(tmp_path / "room.yaml")
    explorer.save_button.click()
    assert (tmp_path / "room.yaml").is_file() and "Saved as room.yaml" in explorer.status.value
    assert Scenario.load(tmp_path / "room.yaml").scoring.gates is False
    explorer.save_button.click()  # a second click does not overwrite: it says why
    assert "Not saved" in explorer.status.value and "exists" in explorer.status.value


def test_set_state_moves_the_controls(explorer):
    explorer.set_state(explorer.whatif.start)
    crit = next(iter(explorer.weight_sliders))
    assert explorer.weight_sliders[crit].value == pytest.approx(
        round(100 * explorer.whatif.start.weights[crit], 1))
    assert explorer.state.key() == explorer.whatif.start.key()


def test_binding_rules_are_named_with_their_lots(explorer):
    award = explorer.whatif.award(explorer.whatif.start.with_policy(max_vendors_per_lot=1))
    words = " ".join(binding_story(award, names=explorer.whatif.names))
    assert words.startswith("The rules that bind: maximum vendors per lot")
    assert all(name in words for name in explorer.whatif.tender.lots["name"])  # names, not ids


def test_a_slider_snapping_to_its_grid_changes_nothing(explorer):
    state = explorer.whatif.start.with_weight(next(iter(explorer.weight_sliders)), 0.123456)
    explorer.set_state(state)
    for c, slider in explorer.weight_sliders.items():  # what the browser echoes back
        slider.value = round(100 * state.weights[c], 1) + 0.0
    for slider in explorer.policy_sliders.values():
        slider.value = slider.value
    assert explorer.state.key() == state.key()

