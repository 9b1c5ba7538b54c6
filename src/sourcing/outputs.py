"""Every result writer: the one place where ``sourcing`` writes files, and how.

Result tables (:func:`write_tables`: CSV folders and styled ``.xlsx`` workbooks, :class:`Sheet`
format names; every exported text cell and header neutralised against formula injection by
:func:`neutralise`), tenders and templates (:func:`write_tender`, :func:`write_template`), single
files written atomically (:func:`atomic_path`), and output folders.

Every command that writes several files (``sourcing report``, ``sourcing run``) stages the whole
result set in a hidden sibling folder and publishes it with :func:`publish`; single files
(``sourcing template``) go through :func:`atomic_path` after :func:`check_file_target`.
The rules of output folders, held here once:

* A folder we write into carries a marker file, :data:`MARKER`, listing the files of the result
  set we wrote.  We only ever replace or remove files that our own marker lists.
* A folder that exists, is not empty and carries no marker is **not ours**: publishing into it is
  refused (:class:`OutputError`) unless ``force=True``; even then only the files of the new result
  set are written (a file of the same name is replaced) and no other file is touched.
* A file where a folder is asked for is refused, forced or not.
* A result set is swapped as a whole: when the folder holds only our previous result set, the
  staged folder is renamed into place (the previous set is removed only after the rename
  succeeded).  A folder that also holds foreign files (forced) gets the new files moved in one by
  one and the files of the previous set that the new set no longer has removed; the marker is
  written last.
* A failed run leaves the previous result set untouched: nothing is published before the staging
  is complete, and the staging folder is removed.  A staging folder carries
  :data:`STAGING_MARKER` (the process that stages into it): a run killed outright leaves it, and
  the next run into the same target removes it once that process is gone.
* A target that is a symbolic link, or lies below a file, is refused in one line: we never
  write through a link nor replace one.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .schemas import TABLES
from .tender import SETTINGS

if TYPE_CHECKING:
    from .tender import Tender

__all__ = ["MARKER", "STAGING_MARKER", "OutputError", "Sheet", "atomic_path", "check_file_target",
           "neutralise", "publish", "staged", "table_name", "write_tables", "write_template",
           "write_tender"]

#: Name of the marker file that makes a folder ours (JSON: tool, version, files, written).
MARKER = ".sourcing-output.json"


class OutputError(RuntimeError):
    """An output target we must not write to; the message says why and what to do instead."""


def _read_marker(folder: Path) -> set[str] | None:
    """Files listed by the marker of *folder*, or None when the folder carries no valid marker."""
    path = folder / MARKER
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != "sourcing" or not isinstance(
            data.get("files"), list):
        return None
    return {str(f) for f in data["files"] if isinstance(f, str)}


def _files_below(folder: Path) -> set[str]:
    """Relative POSIX paths of every file below *folder*; links count as files and an empty
    folder as ``name/`` (so a user's empty folder is foreign too)."""
    out = set()
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        for name in files + [d for d in dirs if (base / d).is_symlink()]:
            out.add((base / name).relative_to(folder).as_posix())
        if not files and not dirs and base != folder:
            out.add(base.relative_to(folder).as_posix() + "/")
    return out


def _foreign(out: Path, previous: set[str] | None) -> set[str]:
    """Files below *out* that no marker claims: neither *out*'s own nor that of a sub-folder
    which is itself one of our result sets (e.g. a notebook's artefacts inside a report)."""
    ours = {str(Path(m).parent.as_posix()) for m in _files_below(out)
            if Path(m).name == MARKER and _read_marker(out / Path(m).parent) is not None}
    return {f for f in _files_below(out) - (previous or set()) - {MARKER}
            if not any(f.startswith(d + "/") for d in ours if d != ".")}


def _write_marker(folder: Path, files: set[str]) -> None:
    from . import __version__

    data = {"tool": "sourcing", "version": __version__, "files": sorted(files),
            "written": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    fd, tmp = tempfile.mkstemp(prefix=f"{MARKER}.", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
    os.chmod(tmp, 0o666 & ~_umask())  # as every other output (mkstemp makes 0600)
    os.replace(tmp, folder / MARKER)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Marker of a staging folder: which process stages into it (JSON: tool, pid, started, boot).
STAGING_MARKER = ".sourcing-staging.json"


def _process_stamp(pid: int) -> str | None:
    """When process *pid* started (clock ticks since boot, from /proc), None if it is gone or
    unknown; with the boot id, a pid reused by another process reads differently."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _mark_staging(folder: Path) -> None:
    pid = os.getpid()
    (folder / STAGING_MARKER).write_text(json.dumps(
        {"tool": "sourcing", "pid": pid, "started": _process_stamp(pid), "boot": _boot_id()}),
        encoding="utf-8")


def _abandoned(folder: Path) -> bool:
    """A staging folder of ours whose process is gone: it carries our staging marker, and no
    live process has that pid and start time on this boot."""
    try:
        data = json.loads((folder / STAGING_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("tool") != "sourcing" or not isinstance(
            data.get("pid"), int):
        return False
    if data.get("boot") != _boot_id():
        return True
    return _process_stamp(data["pid"]) != data.get("started")


def _remove_debris(out: Path) -> None:
    """Remove what a killed run of ours left beside *out*: staging folders whose process is gone,
    and a previous result set set aside by a swap that was killed before removing it."""
    if not out.parent.is_dir():
        return
    for path in out.parent.glob(f".{out.name}-new-*"):
        if path.is_dir() and not path.is_symlink() and _abandoned(path):
            shutil.rmtree(path, ignore_errors=True)
    if out.is_dir():
        for path in out.parent.glob(f".{out.name}-old-*"):
            if path.is_dir() and not path.is_symlink() and _abandoned(path):
                shutil.rmtree(path, ignore_errors=True)


def _restore_interrupted(out: Path) -> None:
    """A run killed between the two renames of a swap left the previous set aside: put it back."""
    if out.exists():
        return
    for old in sorted(out.parent.glob(f".{out.name}-old-*")):
        if old.is_dir() and not old.is_symlink() and _read_marker(old) is not None:
            (old / STAGING_MARKER).unlink(missing_ok=True)
            old.rename(out)
            return


def _check_path(path: Path) -> None:
    """Refuse a target that is a symbolic link (we never write through one, nor replace it) or
    that lies below a file."""
    if path.is_symlink():
        target = os.readlink(path)
        raise OutputError(f"{path} is a symbolic link (to {target}); nothing was changed: give the "
                          "folder or file itself")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{parent} is a file, not a folder: {path} cannot be written "
                                  "below it (the file was left as it was)")
            break


def _check_folder(out: Path, *, force: bool) -> set[str] | None:
    """Refuse a target that is not ours; return the previous result set's files (None: none)."""
    _check_path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder: give a folder for the results "
                          "(the file was left as it was)")
    if not out.exists():
        return None
    previous = _read_marker(out)
    foreign = _foreign(out, previous)
    if foreign and not force:
        shown = ", ".join(sorted(foreign)[:3]) + (" ..." if len(foreign) > 3 else "")
        raise OutputError(
            f"{out} holds files that sourcing did not write ({shown}); nothing was changed. "
            "Give a new or empty folder, or --force to write the results beside those files "
            "(they are never deleted).")
    return previous


def check_file_target(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Refuse to replace an existing file (or a folder) unless *force*; return the path."""
    path = Path(path)
    _check_path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder: give a file name")
    if path.exists() and not force:
        raise OutputError(f"{path} exists; nothing was changed. Give another name, or --force "
                          "to replace it.")
    return path


def table_name(prefix: str, text: object, taken: Iterable[str] = ()) -> str:
    """A table name made from data (a vendor id): *prefix* and *text* reduced to letters,
    digits, ``-`` and ``_`` (no path, no formula), at most 31 characters (a sheet name), made
    unique against *taken* by a number."""
    stem = (prefix + re.sub(r"[^A-Za-z0-9_-]+", "_", str(text)))[:28] or "table"
    name, k, taken = stem, 2, set(taken)
    while name in taken:
        name, k = f"{stem}_{k}", k + 1
    return name


@contextmanager
def staged(out: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder beside *out*; publish it onto *out* when the block succeeds.

    The target is checked before any work is done (:class:`OutputError` for a folder that is not
    ours without *force*, or for a file).  A block that raises leaves *out* as it was.

    Examples
    --------
    >>> with staged("reports") as folder:          # doctest: +SKIP
    ...     (folder / "index.html").write_text("...")
    """
    out = Path(out).absolute()
    _check_path(out)
    _restore_interrupted(out)
    _remove_debris(out)
    _check_folder(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    os.chmod(staging, 0o777 & ~_umask())  # as mkdir would (mkdtemp makes 0700)
    _mark_staging(staging)
    try:
        yield staging
        publish(staging, out, force=force)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def publish(staging: str | os.PathLike, out: str | os.PathLike, *, force: bool = False) -> Path:
    """Make the complete result set in *staging* the content of *out* (see the module rules).

    Parameters
    ----------
    staging : path
        A folder holding the new result set only; it is consumed (moved).
    out : path
        The target folder: absent, empty, ours (carries :data:`MARKER`), or foreign with *force*.
    force : bool
        Allow a folder holding files we did not write; they are kept.

    Returns
    -------
    Path
        *out*.
    """
    staging, out = Path(staging), Path(out).absolute()
    _restore_interrupted(out)
    previous = _check_folder(out, force=force)
    (staging / STAGING_MARKER).unlink(missing_ok=True)
    new = _files_below(staging) - {MARKER}
    _write_marker(staging, new)
    if not out.exists():
        staging.rename(out)
        return out
    if not _foreign(out, previous):
        # only our previous result set (or nothing) is there: swap the folders
        old = out.with_name(f".{out.name}-old-{os.getpid()}")
        out.rename(old)
        _mark_staging(old)  # removable by a later run should this one be killed now
        try:
            staging.rename(out)
        except OSError:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return out
    # forced into a folder holding foreign files: file by file, never touching theirs
    for rel in sorted(new):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            raise OutputError(f"{target} is a folder that sourcing did not write; it was kept and "
                              "the results are incomplete: give a new folder")
        os.replace(staging / rel, target)
    for rel in sorted((previous or set()) - new):
        stale = out / rel
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
    _write_marker(out, new)
    return out


# ---------------------------------------------------------------------- result files
#: Text cells starting with these are neutralised on export (formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Guard a text cell against formula injection.

    Text beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with a
    single quote, so spreadsheet programs show it as text instead of running it.  Numbers,
    booleans and other values are returned unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside *target*; move it onto *target* only on success.

    A failed write leaves an existing *target* untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~_umask())  # as a plain open() would (mkstemp makes 0600)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@dataclass
class Sheet:
    """A table to export with how its columns read: the people-ready form of a DataFrame.

    Attributes
    ----------
    frame : DataFrame
        The data; an index with a name is written as the first column.
    formats : dict
        Column -> ``"money"`` (tender currency), ``"percent"`` (fractions shown as percents),
        ``"pct"`` (values already in percent), ``"count"``, ``"number"`` or ``"text"``.
    row_formats : list, optional
        One format per row for the ``value`` column (a headline sheet of mixed items).
    currency : str, optional
        Stated in the headers of money columns (``"cost (USD)"``).
    """

    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    row_formats: list[str] | None = None
    currency: str | None = None


_XL_FORMATS = {"money": "#,##0", "percent": "0.0%", "pct": '0.0"%"', "count": "#,##0",
               "number": "#,##0.00", "text": "@"}


def _as_sheet(table: pd.DataFrame | Sheet) -> Sheet:
    return table if isinstance(table, Sheet) else Sheet(table)


def _export_frame(sheet: Sheet) -> tuple[pd.DataFrame, list[str]]:
    """Cells as exported (booleans yes/no, missing blank) and the format of each column."""
    frame = sheet.frame
    frame = frame.reset_index() if any(n is not None for n in frame.index.names) else (
        frame.reset_index(drop=True))
    out, kinds = {}, []
    for col in frame.columns:
        s = frame[col]
        kind = sheet.formats.get(str(col))
        if s.dtype == bool or s.map(lambda v: isinstance(v, bool | np.bool_)).all() and len(s):
            out[col], kind = s.map(lambda v: "yes" if v else "no"), "text"
        elif pd.api.types.is_numeric_dtype(s):
            out[col] = s
            kind = kind or ("count" if pd.api.types.is_integer_dtype(s) else "number")
        else:
            out[col] = s.map(lambda v: None if _missing(v) else v if isinstance(
                v, int | float | np.number) and not isinstance(v, bool) else str(v))
            kind = kind or "text"
        kinds.append(kind)
    export = pd.DataFrame(out)
    headers = []
    for col, kind in zip(export.columns, kinds, strict=True):
        head = str(col)
        if kind == "money" and sheet.currency:
            head = f"{head} ({sheet.currency})"
        headers.append(head)
    export.columns = headers
    return export, kinds


def write_tables(tables: dict[str, pd.DataFrame | Sheet], path: str | os.PathLike) -> Path:
    """Write named tables as a CSV folder or an ``.xlsx`` workbook (one sheet each).

    The one writer of exported cells: every text cell **and header** is neutralised against
    formula injection (:func:`neutralise`); booleans are ``yes``/``no``; missing values are blank.
    In a workbook numbers stay numbers with a number format by column (money, percent, count),
    headers are bold and frozen, columns are sized to their content and carry filters.  Each
    file is written atomically.

    Parameters
    ----------
    tables : dict
        Name -> DataFrame or :class:`Sheet` (the sheet or file name, 31 characters at most in a
        workbook).
    path : path
        A ``.xlsx`` file, or a folder for one ``<name>.csv`` per table.
    """
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        _write_workbook({k: _as_sheet(v) for k, v in tables.items()}, path)
        return path
    path.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        export, _ = _export_frame(_as_sheet(table))
        export.columns = [neutralise(c) for c in export.columns]
        export = export.map(lambda v: "" if _missing(v) else neutralise(v) if isinstance(v, str) else v)
        with atomic_path(path / f"{neutralise(name)}.csv") as tmp:
            export.to_csv(tmp, index=False, lineterminator="\n")
    return path


def _write_workbook(sheets: dict[str, Sheet], path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for name, sheet in sheets.items():
        ws = wb.create_sheet(str(neutralise(name))[:31].lstrip("'") or "sheet")
        export, kinds = _export_frame(sheet)
        widths = []
        for c, head in enumerate(export.columns, start=1):
            cell = _put(ws, 1, c, head, None)
            cell.font = Font(bold=True)
            cell.fill = head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths.append(len(str(head)))
        for r, row in enumerate(export.itertuples(index=False), start=2):
            for c, v in enumerate(row, start=1):
                kind = kinds[c - 1]
                if sheet.row_formats is not None and export.columns[c - 1] == "value":
                    kind = sheet.row_formats[r - 2]
                _put(ws, r, c, v, _XL_FORMATS.get(kind))
                widths[c - 1] = max(widths[c - 1], _shown_width(v, kind))
        for c, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = min(60, max(8, w + 2))
        ws.freeze_panes = "A2"
        if len(export):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(export.columns))}{len(export) + 1}"
    with atomic_path(path) as tmp:
        wb.save(tmp)


def _put(ws, row: int, col: int, value: object, number_format: str | None):
    """Write one workbook cell: text is always text (never a formula), numbers get a format."""
    v = _xl_value(value)
    cell = ws.cell(row=row, column=col)
    if isinstance(v, str):
        cell.value = v
        cell.data_type = "s"
        if v.startswith(_FORMULA_START):
            cell.quotePrefix = True  # Excel shows the text as typed and never evaluates it
    else:
        cell.value = v
        if number_format and v is not None and not isinstance(v, bool):
            cell.number_format = number_format
    return cell


def _shown_width(value: object, kind: str) -> int:
    if _missing(value):
        return 0
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        x = float(value)
        return len(f"{x:,.0f}") + (2 if kind in ("number", "percent", "pct") else 0)
    return min(len(str(value)), 60)


def _missing(v: object) -> bool:
    """None, NaN, pd.NA or NaT."""
    return v is None or (pd.api.types.is_scalar(v) and not isinstance(v, str) and bool(pd.isna(v)))


def _xl_value(v: object) -> object:
    if _missing(v):
        return None  # a blank cell
    if isinstance(v, np.generic):
        return v.item()
    return v


def write_tender(tender: Tender, path: str | os.PathLike) -> Path:
    """Write a tender as a CSV folder (``path`` without suffix) or ``.xlsx`` workbook.

    Empty optional tables are left out.  ``read_tender(write_tender(t, p))`` equals ``t``.
    """
    tables = {"settings": pd.DataFrame({"key": list(tender.settings),
                                        "value": [str(v) for v in tender.settings.values()]})}
    for name in ("vendors", "criteria", "scores", "lots", "bids", "tiers", "risk", "pairwise",
                 "rules", "bundles", "discounts"):
        frame = getattr(tender, name)
        if len(frame) or TABLES[name].required:
            tables[name] = frame
    return write_tables(tables, path)


def write_template(path: str | os.PathLike) -> Path:
    """Write a blank tender workbook to fill in.

    It has a README sheet (every table and column with its meaning, unit and rule), one sheet per
    table with bold headers carrying the column description as a comment, drop-down lists for
    categorical and yes/no columns, and the known settings keys pre-filled.

    Parameters
    ----------
    path : str or path-like
        Target ``.xlsx`` file; written atomically.
    """
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"the template is an Excel workbook: give a .xlsx path, not {path.name}")
    wb = openpyxl.Workbook()
    readme = wb.active
    readme.title = "README"
    readme.append(["sourcing tender template"])
    readme["A1"].font = Font(bold=True, size=14)
    readme.append(["Fill one sheet per table; row 1 holds the headers. Required tables: "
                   + ", ".join(n for n, t in TABLES.items() if t.required)
                   + ". Money is in the tender currency (settings: currency). "
                   "Add your own columns as comment or x_<name>."])
    readme.append([])
    readme.append(["table", "column", "required", "type / rule", "meaning"])
    for cell in readme[4]:
        cell.font = Font(bold=True)
    for name, table in TABLES.items():
        readme.append([name, "", "yes" if table.required else "no", "", table.doc])
        for col in table.columns:
            readme.append([name, col.name, "yes" if col.required else "no", col.rule(), col.doc])
    readme.column_dimensions["B"].width = 24
    readme.column_dimensions["D"].width = 40
    readme.column_dimensions["E"].width = 100
    fill = PatternFill("solid", fgColor="DDEBF7")
    for name, table in TABLES.items():
        ws = wb.create_sheet(name)
        ws.append(list(table.column_names))
        for j, col in enumerate(table.columns, start=1):
            cell = ws.cell(row=1, column=j)
            cell.font = Font(bold=True)
            cell.fill = fill
            cell.comment = Comment(f"{col.doc}\nRule: {col.rule()}", "sourcing")
            letter = cell.column_letter
            ws.column_dimensions[letter].width = max(12, len(col.name) + 4)
            choices = col.choices or (("yes", "no") if col.kind == "bool" else None)
            if choices:
                dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"',
                                    allow_blank=col.nullable or not col.required)
                dv.error = f"{col.name} must be one of: {', '.join(choices)}"
                dv.showErrorMessage = True
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}1000")
            elif col.suggestions:  # usual values offered, others allowed (rules.per: any column)
                dv = DataValidation(type="list", formula1='"' + ",".join(col.suggestions) + '"',
                                    allow_blank=True)
                dv.showErrorMessage = False
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}1000")
            elif col.kind in ("float", "int"):
                dv = DataValidation(type="decimal" if col.kind == "float" else "whole",
                                    operator="greaterThanOrEqual",
                                    formula1=str(col.ge if col.ge is not None else
                                                 col.gt if col.gt is not None else -1e12),
                                    allow_blank=True)
                dv.error = f"{col.name} must be {col.rule()}"
                dv.showErrorMessage = True
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}1000")
        ws.freeze_panes = "A2"
        if name == "settings":
            for key, (_, default, _doc) in SETTINGS.items():
                ws.append([key, str(default)])
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
