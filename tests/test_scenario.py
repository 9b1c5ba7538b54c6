"""Scenario files: validation with key and line, overrides, relative paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from sourcing import ValidationError
from sourcing.scenario import Scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_are_valid(path):
    scenario = Scenario.load(path)
    assert scenario.tender.exists()
    assert scenario.name


def test_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "t").mkdir()
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "s.yaml").write_text("name: T\ntender: ../t\n", encoding="utf-8")
    assert Scenario.load(sub / "s.yaml").tender == (tmp_path / "t").resolve()


def test_overrides_use_dotted_keys():
    s = Scenario.load(SCENARIOS / "baseline.yaml", seed=7, **{"simulation.n": 500})
    assert s.seed == 7 and s.simulation.n == 500


def test_errors_name_key_and_line(tmp_path, sample_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: X\ntender: {sample_path}\nsimulation:\n  n: 5\n  sampling: magic\n"
                    "scoring:\n  metod: wsm\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        Scenario.load(path)
    got = {(p.row, p.column) for p in info.value.problems}
    assert got == {(4, "simulation.n"), (5, "simulation.sampling"), (7, "scoring.metod")}


@pytest.mark.parametrize("text", ["name: [unclosed\n", "- just\n- a list\n"])
def test_not_a_mapping_or_not_yaml(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError):
        Scenario.load(path)


def test_yaml_is_data_not_code(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hi']\ntender: t\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid YAML"):
        Scenario.load(path)


def test_policy_and_paths_are_checked_at_load(tmp_path, sample_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: X\ntender: {sample_path}\nperformance: missing-folder\n"
                    "allocation:\n  policy:\n    min_vendors_per_lott: 2\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        Scenario.load(path)
    problems = {p.column: p for p in info.value.problems}
    assert problems["performance"].row == 3 and "no such file" in problems["performance"].rule
    assert problems["allocation.policy"].row == 5
    assert "min_vendors_per_lott" in problems["allocation.policy"].rule


def test_duplicate_key_is_an_error_not_a_silent_override(tmp_path, sample_path):
    path = tmp_path / "dup.yaml"
    path.write_text(f"name: X\ntender: {sample_path}\nsimulation:\n  n: 500\n  n: 900\nseed: 1\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        Scenario.load(path)
    assert [(p.row, p.column, p.rule) for p in info.value.problems] == [
        (5, "simulation.n", "duplicate key: give it once")]


def test_not_utf8_names_file_and_line(tmp_path, sample_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(f"tender: {sample_path}\nname: Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValidationError) as info:
        Scenario.load(path)
    (p,) = info.value.problems
    assert (p.source, p.row) == ("latin1.yaml", 2) and "not UTF-8" in p.rule


def test_override_below_a_non_mapping_names_the_key(tmp_path, sample_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: X\ntender: {sample_path}\nsimulation: 5\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        Scenario.load(path, **{"simulation.n": 500})
    (p,) = info.value.problems
    assert (p.row, p.column) == (3, "simulation") and "override simulation.n" in p.rule


def test_no_options_to_simulate_is_an_error_at_load(tmp_path, sample_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: X\ntender: {sample_path}\nsimulation:\n  options: []\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        Scenario.load(path)
    (p,) = info.value.problems
    assert (p.row, p.column) == (4, "simulation.options") and "at least 1 item" in p.rule


def test_settings_map_onto_the_stage_apis():
    """One place turns scenario settings into stage arguments (pipeline, notebooks, CLI)."""
    from sourcing.allocation import Policy

    s = Scenario.load(SCENARIOS / "dual-sourcing.yaml")
    assert s.scoring.evaluate_kwargs == {"method": "promethee", "aggregate": None,
                                         "weight_points": None}
    assert s.allocation.solve_kwargs == {"solver": "highs", "time_limit": 60.0, "mip_gap": None}
    policy = s.allocation.policy_model()
    assert isinstance(policy, Policy) and policy.min_vendors_per_lot == 2
