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


def test_paths_are_relative_to_the_file(tmp_path, sample_path):
    (tmp_path / "s.yaml").write_text(f"name: T\ntender: {sample_path}\n", encoding="utf-8")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "s.yaml").write_text("name: T\ntender: ../t\n", encoding="utf-8")
    assert Scenario.load(sub / "s.yaml").tender == (tmp_path / "t").resolve()


def test_overrides_use_dotted_keys():
    s = Scenario.load(SCENARIOS / "baseline.yaml", seed=7, **{"simulation.n": 500})
    assert s.seed == 7 and s.simulation.n == 500


def test_errors_name_key_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: X\ntender: t\nsimulation:\n  n: 5\n  sampling: magic\n"
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
