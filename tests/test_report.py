"""Report rendering: atomic output, failures named by notebook and cell."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

from sourcing.report import ReportError, render

BASELINE = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "baseline.yaml"


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
    index = render(BASELINE, out=tmp_path / "out", notebooks=nbs, only=["01_tender_evaluation"])
    page = (tmp_path / "out" / "01_tender_evaluation.html").read_text(encoding="utf-8")
    assert "answer 42 20261127" in page  # the scenario's seed reached the notebook
    assert "secret_variable" not in page  # code hidden
    assert "01_tender_evaluation.html" in index.read_text(encoding="utf-8")


def test_failed_run_keeps_previous_report_and_names_the_cell(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("previous good report", encoding="utf-8")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs, "raise ValueError('bid table is empty')")
    with pytest.raises(ReportError, match="01_tender_evaluation.*cell.*bid table is empty"):
        render(BASELINE, out=out, notebooks=nbs, only=["01_tender_evaluation"])
    assert (out / "index.html").read_text(encoding="utf-8") == "previous good report"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_unknown_notebook_lists_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid: 04_board_scenarios"):
        render(BASELINE, out=tmp_path, only=["99_nothing"])
