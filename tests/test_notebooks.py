"""Notebooks are committed clean, paired with a jupytext .py in sync, and parameterised.

Executing them is nbmake's job: ``python -m pytest`` collects ``notebooks/*.ipynb`` too.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))


#: Notebooks that are not report pages: their widgets need a kernel (the report has the
#: walking-weights page instead).
INTERACTIVE = {"06_what_if"}
#: Notebooks that present a sweep (its output folder, or a sweep they run), not one scenario's
#: run: they take a sweep file instead of a scenario file.
SWEEPS = {"07_decision_map"}


def test_the_report_pages_and_the_what_if_exist():
    from sourcing.report import NOTEBOOKS as REPORT

    assert {p.stem for p in ALL} == set(REPORT) | INTERACTIVE | SWEEPS


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_paired_py_is_in_sync(path):
    py = path.with_suffix(".py")
    assert py.exists(), f"{py.name} missing: run jupytext --sync {path.name}"
    paired = jupytext.read(py)
    nb = nbformat.read(path, as_version=4)
    assert [(c.cell_type, c.source) for c in nb.cells] == \
        [(c.cell_type, c.source) for c in paired.cells], "run jupytext --sync"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_parameters_cell_carries_seed_and_scenario(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    settings = "sweep_file" if path.stem in SWEEPS else "scenario_file"
    assert "seed" in tagged[0].source and settings in tagged[0].source
    first_code = next(c for c in nb.cells if c.cell_type == "code" and c is not tagged[0]
                      and nb.cells.index(c) > nb.cells.index(tagged[0]))
    # the page presents the report's run (run_dir) or computes it from the scenario file
    assert "run_dir" in tagged[0].source
    if path.stem in SWEEPS:  # the sweep's output folder, or a new one
        assert "Sweep.load(sweep_file, seed=seed)" in first_code.source
        assert "sweep_dir or" in first_code.source and "run_dir" in first_code.source
        return
    opens = "explore(scenario_file" if path.stem in INTERACTIVE else "open_run(scenario_file"
    assert opens in first_code.source and "run_dir=run_dir" in first_code.source


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_papermill_parses_every_parameter(path, caplog):
    """Every line of the parameters cell is a parameter papermill understands: no 'Unable to
    parse line' on the console, and ``seed`` defaults to the scenario's (None)."""
    from papermill.translators import PythonTranslator

    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = [ln for ln in cell.source.splitlines() if ln.strip()]
    with caplog.at_level("WARNING", logger="papermill"):
        params = PythonTranslator.inspect(cell)
    assert not caplog.records
    assert [p.name for p in params] == [ln.split("=")[0].split(":")[0].strip() for ln in lines]
    assert next(p for p in params if p.name == "seed").default == "None"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_no_sentence_typed_for_one_tender(path):
    """Static text states no count, currency or name of a sample: those come from narrative."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for word in ("Eight", "eight vendors", "five lots", "three evaluators", "EUR", "Stockholm",
                 "24 months", "V01", "L1"):
        assert word not in text, word
