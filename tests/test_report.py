"""Report rendering: atomic output, failures named by notebook and cell."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

from sourcing.report import ReportError, render
from sourcing.scenario import Scenario

BASELINE = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "baseline.yaml"
#: What these tests of the report's mechanics leave out of the baseline's run (every stage still
#: runs; the pages and their text are tested in test_board_pages): fewer draws, no risk-aware
#: award, no price to win, no break-even searches.
QUICK = {"simulation.n": 2000, "allocation.risk.enabled": False, "allocation.price_to_win": False,
         "decision.break_even": False}


def _quick(path: Path = BASELINE) -> Scenario:
    return Scenario.load(path, **QUICK)


def _notebook(folder: Path, body: str) -> None:
    text = ("# %% tags=['parameters']\nscenario_file = ''\nseed = 0\nout_dir = ''\n\n"
            f"# %%\n{body}\n")
    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    jupytext.write(nb, folder / "01_tender_evaluation.ipynb")


def test_render_hides_code_and_writes_index(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs, "secret_variable = 41\nprint('answer', secret_variable + 1, seed)")
    index = render(_quick(), out=tmp_path / "out", notebooks=nbs, only=["01_tender_evaluation"])
    page = (tmp_path / "out" / "01_tender_evaluation.html").read_text(encoding="utf-8")
    assert "answer 42 20261127" in page  # the scenario's seed reached the notebook
    assert "secret_variable" not in page  # code hidden
    assert "01_tender_evaluation.html" in index.read_text(encoding="utf-8")


def test_render_leaves_the_callers_logging_warnings_and_environment(tmp_path, monkeypatch):
    """Quieting papermill is scoped to the render: a library caller keeps its logger levels,
    warning filters and environment."""
    import logging
    import os
    import warnings

    monkeypatch.delenv("JUPYTER_PLATFORM_DIRS", raising=False)
    logging.getLogger("papermill").setLevel(logging.DEBUG)
    filters = list(warnings.filters)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs, "print('ok')")
    try:
        render(_quick(), out=tmp_path / "out", notebooks=nbs, only=["01_tender_evaluation"])
        assert logging.getLogger("papermill").level == logging.DEBUG
        assert logging.getLogger("papermill.translators").level == logging.NOTSET
        assert warnings.filters == filters
        assert "JUPYTER_PLATFORM_DIRS" not in os.environ
    finally:
        logging.getLogger("papermill").setLevel(logging.NOTSET)


def test_failed_run_keeps_previous_report_and_names_the_cell(tmp_path):
    out = tmp_path / "out"
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs, "print('previous good report')")
    render(_quick(), out=out, notebooks=nbs, only=["01_tender_evaluation"])
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    _notebook(nbs, "raise ValueError('bid table is empty')")
    with pytest.raises(ReportError, match="01_tender_evaluation.*cell.*bid table is empty"):
        render(_quick(), out=out, notebooks=nbs, only=["01_tender_evaluation"])
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert "previous good report" in (out / "01_tender_evaluation.html").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_unknown_notebook_lists_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid: 04_board_scenarios"):
        render(BASELINE, out=tmp_path, only=["99_nothing"])


def test_page_without_its_data_is_skipped_with_the_reason(tmp_path):
    """No performance folder in the scenario: page 05 is skipped, the index says why."""
    scenario = tmp_path / "s.yaml"
    text = BASELINE.read_text(encoding="utf-8").replace("performance: ../sample-performance\n", "")
    scenario.write_text(text.replace("../sample-tender", str(BASELINE.parents[1] / "sample-tender")),
                        encoding="utf-8")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs, "print('ok')")
    jupytext.write(jupytext.read(nbs / "01_tender_evaluation.ipynb"), nbs / "05_vendor_performance.ipynb")
    index = render(_quick(scenario), out=tmp_path / "out", notebooks=nbs,
                   only=["01_tender_evaluation", "05_vendor_performance"])
    text = index.read_text(encoding="utf-8")
    assert "not rendered: the scenario names no performance data" in text
    assert not (tmp_path / "out" / "05_vendor_performance.html").exists()
    assert (tmp_path / "out" / "01_tender_evaluation.html").exists()


def _small_scenario(tmp_path: Path) -> Path:
    data = BASELINE.parents[1]
    text = (BASELINE.read_text(encoding="utf-8")
            .replace("../sample-tender", str(data / "sample-tender"))
            .replace("../sample-performance", str(data / "sample-performance"))
            .replace("n: 20000", "n: 2000"))
    path = tmp_path / "small.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_page_gets_a_complete_index_and_the_pages_solve_nothing(tmp_path):
    """The report runs every stage once and writes summary.json itself: the index carries the
    recommendation whichever pages are rendered, and the page presents the run folder (after it
    ran, the folder holds exactly the run's stages: the page computed none of its own)."""
    from sourcing import Scenario
    from sourcing.pipeline import REPORT_STAGES, stage_keys

    scenario = _small_scenario(tmp_path)
    index = render(scenario, out=tmp_path / "out", only=["03_risk_simulation"])
    text = index.read_text(encoding="utf-8")
    summary = __import__("json").loads(
        (tmp_path / "out" / "artefacts" / "summary.json").read_text(encoding="utf-8"))
    assert summary["recommendation"] and summary["recommendation"] in text
    keys = stage_keys(Scenario.load(scenario), REPORT_STAGES)
    run_files = {p.name for p in (tmp_path / "out" / ".run").iterdir()}
    assert run_files == {f"{stage}-{key}.pkl" for stage, key in keys.items()}
    assert "Risk and cost simulation" in text


def test_pages_side_by_side_leave_the_working_folder_as_it_was(tmp_path, monkeypatch):
    """Pages render in parallel kernels: papermill's cwd (a chdir of the whole process) left the
    caller in notebooks/ when two pages raced; no page may move the caller's working folder."""
    import os

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs, "print('ok')")
    for name in ("02_award_allocation", "03_risk_simulation"):
        jupytext.write(jupytext.read(nbs / "01_tender_evaluation.ipynb"), nbs / f"{name}.ipynb")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    index = render(_small_scenario(tmp_path), out="out", notebooks=nbs,
                   only=["01_tender_evaluation", "02_award_allocation", "03_risk_simulation"])
    assert os.getcwd() == str(work) and index == work / "out" / "index.html" and index.is_file()
