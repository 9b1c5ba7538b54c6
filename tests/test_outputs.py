"""Output folders: nothing the user wrote is ever deleted or overwritten; result sets swap whole."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sourcing.cli import main
from sourcing.outputs import (
    MARKER,
    OutputError,
    Sheet,
    atomic_path,
    check_file_target,
    neutralise,
    publish,
    staged,
    write_tables,
)


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


# --- second round (issue 24): debris, links, every command's files, modes, Ctrl-C --------------

_KILLED = """
import os, signal, sys
from pathlib import Path
from sourcing import outputs
out = Path(sys.argv[1])
if sys.argv[2] == "staging":      # killed while writing the result set
    with outputs.staged(out) as folder:
        (folder / "half.csv").write_text("half")
        os.kill(os.getpid(), signal.SIGKILL)
else:                             # killed after the swap, before the old set is removed
    outputs.shutil.rmtree = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    with outputs.staged(out) as folder:
        (folder / "new.csv").write_text("new")
"""


def _killed(tmp_path, out, when):
    import subprocess
    import sys

    script = tmp_path / "killed.py"
    script.write_text(_KILLED, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), str(out), when], capture_output=True)
    assert proc.returncode == -9, proc.stderr


@pytest.mark.parametrize("when", ["staging", "swap"])
def test_a_killed_run_leaves_debris_that_the_next_run_removes(tmp_path, when):
    """SIGKILL while staging, or between the swap and removing the old set: the previous (or the
    new, complete) result set stands, and the next run removes the folder the dead run left."""
    out = tmp_path / "results"
    with staged(out) as folder:
        _write(folder, {"old.csv": "old"})
    _killed(tmp_path, out, when)
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".results-")]
    assert len(left) == 1
    kept = {p.name for p in out.iterdir()} - {MARKER}
    assert kept == ({"old.csv"} if when == "staging" else {"new.csv"})
    with staged(out) as folder:
        _write(folder, {"third.csv": "3"})
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".results-")] == []
    assert {p.name for p in out.iterdir()} == {MARKER, "third.csv"}


def test_only_abandoned_staging_folders_of_ours_are_removed(tmp_path):
    """A live run's staging folder (this process) and a look-alike folder without our marker are
    never touched."""
    from sourcing.outputs import STAGING_MARKER, _mark_staging

    live = tmp_path / ".results-new-live"
    live.mkdir()
    _mark_staging(live)
    foreign = tmp_path / ".results-new-theirs"
    _write(foreign, {"notes.txt": "mine"})
    forged = tmp_path / ".results-new-forged"
    _write(forged, {STAGING_MARKER: "{not json", "data.csv": "x"})
    with staged(tmp_path / "results") as folder:
        _write(folder, {"a.csv": "1"})
    assert live.is_dir() and (foreign / "notes.txt").read_text() == "mine" and forged.is_dir()


@pytest.mark.parametrize("kind", ["to our folder", "dangling", "to a file"])
def test_an_output_path_that_is_a_link_is_refused_and_kept(tmp_path, kind):
    ours = tmp_path / "earlier"
    with staged(ours) as folder:
        _write(folder, {"a.csv": "1"})
    (tmp_path / "file.png").write_text("png")
    target = {"to our folder": ours, "dangling": tmp_path / "gone", "to a file": tmp_path / "file.png"}
    link = tmp_path / "results_link"
    link.symlink_to(target[kind])
    with pytest.raises(OutputError, match="is a symbolic link"):
        with staged(link) as folder:
            _write(folder, {"b.csv": "2"})
    with pytest.raises(OutputError, match="is a symbolic link"):
        check_file_target(link, force=True)
    assert link.is_symlink() and os.readlink(link) == str(target[kind])
    assert {p.name for p in ours.iterdir()} == {MARKER, "a.csv"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_path_below_a_file_says_it_is_a_file(tmp_path):
    (tmp_path / "FILE").write_text("mine")
    for call in (lambda: staged(tmp_path / "FILE" / "sub").__enter__(),
                 lambda: check_file_target(tmp_path / "FILE" / "x.png")):
        with pytest.raises(OutputError, match="FILE is a file, not a folder"):
            call()
    assert (tmp_path / "FILE").read_text() == "mine"


def test_every_command_that_writes_refuses_a_users_file(tmp_path, capsys):
    """`evaluate --csv DIR`, `allocate --csv DIR` and `simulate --plot FILE` replaced a user's
    file without a word; they follow the rule of report and run (refused unless --force, and
    forced, other files kept)."""
    from pathlib import Path

    sample = str(Path(__file__).resolve().parents[1] / "data" / "sample-tender")
    folder = tmp_path / "DIR"
    _write(folder, {"evaluation.csv": "my own table"})
    assert main(["evaluate", sample, "--csv", str(folder)]) == 1
    assert "did not write" in capsys.readouterr().err
    assert (folder / "evaluation.csv").read_text() == "my own table"
    _write(folder, {"notes.txt": "keep"})
    assert main(["allocate", sample, "--csv", str(folder)]) == 1
    assert main(["evaluate", sample, "--csv", str(folder), "--force"]) == 0
    assert (folder / "notes.txt").read_text() == "keep"
    plot = tmp_path / "chart.png"
    plot.write_text("my chart")
    assert main(["simulate", sample, "--n", "200", "--plot", str(plot)]) == 1
    assert "exists; nothing was changed" in capsys.readouterr().err
    assert plot.read_text() == "my chart"
    fresh = tmp_path / "new"
    assert main(["evaluate", sample, "--csv", str(fresh)]) == 0
    assert main(["evaluate", sample, "--csv", str(fresh)]) == 0  # our own folder: rerun is fine
    assert (fresh / "evaluation.csv").exists()


def test_marker_has_the_mode_of_every_other_output(tmp_path):
    out = tmp_path / "results"
    with staged(out) as folder:
        _write(folder, {"a.csv": "1"})
    mode = lambda p: p.stat().st_mode & 0o777  # noqa: E731
    assert mode(out / MARKER) == mode(out / "a.csv")


def test_ctrl_c_says_nothing_was_changed_and_exits_130(monkeypatch, capsys):
    from sourcing import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_validate", interrupted)
    assert main(["validate", "x"]) == 130
    err = capsys.readouterr().err
    assert "interrupted; nothing was changed" in err and "Traceback" not in err


# ---------------------------------------------------------------------- result files
def test_formula_injection_is_neutralised(tmp_path):
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise(-3.0) == -3.0 and neutralise("V01") == "V01"
    frame = pd.DataFrame({"name": ["=1+1", "+cmd", "ok"], "x": [1.0, -2.0, 3.0]})
    write_tables({"t": frame}, tmp_path / "out")
    text = (tmp_path / "out" / "t.csv").read_text(encoding="utf-8")
    assert "'=1+1" in text and "'+cmd" in text and "-2.0" in text
    write_tables({"t": frame}, tmp_path / "out.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "out.xlsx")["t"]["A2"]
    assert cell.data_type == "s" and cell.value == "=1+1"  # text, never a formula


def test_missing_values_of_every_kind_write_as_blank_cells(tmp_path):
    frame = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [np.nan, 2.0],
                          "c": pd.array(["x", None], dtype="string"),
                          "d": [pd.NaT, pd.Timestamp("2026-01-01")]})
    write_tables({"t": frame}, tmp_path / "na.xlsx")
    write_tables({"t": frame}, tmp_path / "na")
    rows = list(openpyxl.load_workbook(tmp_path / "na.xlsx")["t"].iter_rows(values_only=True))
    assert rows[1][:3] == (1, None, "x") and rows[2][:3] == (None, 2, None)


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("good", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "good"
    assert list(tmp_path.iterdir()) == [target]


def test_ids_in_headers_are_neutralised_in_csv_and_workbook(tmp_path):
    """A lot id '=1+1' must not become a live formula in a header (CSV or .xlsx)."""
    frame = pd.DataFrame({"vendor_id": ["V1"], "=1+1": [3.0], "+cmd": ["@SUM(A1)"]})
    write_tables({"award": frame}, tmp_path / "csv")
    header = (tmp_path / "csv" / "award.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "vendor_id,'=1+1,'+cmd"
    write_tables({"award": frame}, tmp_path / "r.xlsx")
    with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets"))
    assert "<f>" not in xml
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    ws = wb["award"]
    assert ws["B1"].value == "=1+1" and ws["B1"].data_type == "s" and ws["B1"].quotePrefix
    assert ws["C2"].value == "@SUM(A1)" and ws["C2"].data_type == "s"


def test_workbook_for_people(tmp_path):

    frame = pd.DataFrame({"vendor": ["A", "B"], "spend": [1_234_567.0, 20.5],
                          "share": [0.25, 0.75]})
    write_tables({"award": Sheet(frame, {"spend": "money", "share": "percent"}, currency="USD")},
                 tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["award"]
    assert [c.value for c in ws[1]] == ["vendor", "spend (USD)", "share"]
    assert ws["B2"].value == 1_234_567.0 and ws["B2"].number_format == "#,##0"
    assert ws["C2"].number_format == "0.0%"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:C3"
    assert ws.column_dimensions["B"].width >= len("spend (USD)")


# ---------------------------------------------------------------------- hostile files (issue 11)


def test_table_names_from_data_are_safe_short_and_unique():
    from sourcing.outputs import table_name

    assert table_name("price_to_win_", "V01") == "price_to_win_V01"
    hostile = table_name("price_to_win_", "../../=cmd|'/C calc'!A0")
    assert "/" not in hostile and "=" not in hostile and "." not in hostile and len(hostile) <= 31
    long = "x" * 80
    first = table_name("price_to_win_", long)
    assert len(first) <= 31 and table_name("price_to_win_", long, {first}) == first + "_2"
