"""Output folders: nothing the user wrote is ever deleted or overwritten; result sets swap whole."""

from __future__ import annotations

import json

import pytest

from sourcing.cli import main
from sourcing.outputs import MARKER, OutputError, check_file_target, publish, staged


def _write(folder, files):
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")


def test_foreign_folder_is_refused_and_untouched(tmp_path):
    out = tmp_path / "DIR"
    _write(out, {"thesis.docx": "mine", "sub/budget.xlsx": "mine too"})
    with pytest.raises(OutputError, match="did not write"):
        with staged(out) as folder:
            _write(folder, {"index.html": "report"})
    assert (out / "thesis.docx").read_text() == "mine"
    assert (out / "sub" / "budget.xlsx").read_text() == "mine too"
    assert not (out / "index.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["DIR"]  # no staging left behind


def test_forced_write_keeps_foreign_files(tmp_path):
    out = tmp_path / "DIR"
    _write(out, {"thesis.docx": "mine"})
    with staged(out, force=True) as folder:
        _write(folder, {"index.html": "v1", "a/old.png": "x"})
    with staged(out, force=True) as folder:
        _write(folder, {"index.html": "v2"})
    assert (out / "thesis.docx").read_text() == "mine"
    assert (out / "index.html").read_text() == "v2"
    assert not (out / "a" / "old.png").exists()  # ours from the earlier run: removed
    assert json.loads((out / MARKER).read_text())["files"] == ["index.html"]


def test_rerun_swaps_the_whole_set_and_drops_stale_files(tmp_path):
    out = tmp_path / "results"
    with staged(out) as folder:
        _write(folder, {"results.xlsx": "1", "rule_costs.png": "1", "sla_calibration.csv": "1"})
    with staged(out) as folder:
        _write(folder, {"results.xlsx": "2"})
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "results.xlsx"])
    assert (out / "results.xlsx").read_text() == "2"


def test_failed_block_leaves_previous_set(tmp_path):
    out = tmp_path / "results"
    with staged(out) as folder:
        _write(folder, {"results.xlsx": "good"})
    with pytest.raises(RuntimeError):
        with staged(out) as folder:
            _write(folder, {"results.xlsx": "half"})
            raise RuntimeError("killed")
    assert (out / "results.xlsx").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_file_target_is_refused_forced_or_not(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep", encoding="utf-8")
    for force in (False, True):
        with pytest.raises(OutputError, match="is a file"):
            with staged(target, force=force) as folder:
                _write(folder, {"index.html": "x"})
    assert target.read_text() == "keep"


def test_empty_and_nested_result_sets_are_ours(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    with staged(out) as folder:
        _write(folder, {"index.html": "1"})
    # a notebook run by hand wrote its own result set inside the report
    publish_dir = tmp_path / "stage"
    _write(publish_dir, {"results.xlsx": "nb"})
    publish(publish_dir, out / "artefacts")
    with staged(out) as folder:  # still ours: the nested set carries its own marker
        _write(folder, {"index.html": "2"})
    assert (out / "index.html").read_text() == "2"


def test_user_empty_folder_inside_is_foreign(tmp_path):
    out = tmp_path / "results"
    with staged(out) as folder:
        _write(folder, {"a.csv": "1"})
    (out / "my-notes").mkdir()
    with pytest.raises(OutputError):
        with staged(out) as folder:
            _write(folder, {"a.csv": "2"})
    assert (out / "my-notes").is_dir()


def test_interrupted_swap_is_restored(tmp_path):
    out = tmp_path / "results"
    with staged(out) as folder:
        _write(folder, {"a.csv": "1"})
    out.rename(tmp_path / ".results-old-999")  # killed between the two renames
    with staged(out) as folder:
        _write(folder, {"a.csv": "2"})
    assert (out / "a.csv").read_text() == "2"
    assert not (tmp_path / ".results-old-999").exists()


def test_check_file_target(tmp_path):
    path = tmp_path / "tender.xlsx"
    assert check_file_target(path) == path
    path.write_bytes(b"filled tender")
    with pytest.raises(OutputError, match="exists"):
        check_file_target(path)
    assert check_file_target(path, force=True) == path


def test_cli_template_never_overwrites_a_filled_tender(tmp_path, capsys):
    path = tmp_path / "tender.xlsx"
    path.write_bytes(b"filled tender")
    assert main(["template", str(path)]) == 1
    assert "exists" in capsys.readouterr().err
    assert path.read_bytes() == b"filled tender"
    assert main(["template", str(path), "--force"]) == 0
    assert path.read_bytes() != b"filled tender"


def test_cli_report_refuses_the_working_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "thesis.docx").write_text("mine", encoding="utf-8")
    assert main(["report", "--scenario", str(_baseline()), "--out", "."]) == 1
    assert "did not write" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"]


def _baseline():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "data" / "scenarios" / "baseline.yaml"
