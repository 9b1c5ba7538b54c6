"""Read and write tenders: a folder of CSV files or one ``.xlsx`` workbook.

A tender folder holds one ``<table>.csv`` per table (``vendors.csv``, ``criteria.csv``, ...); a
workbook holds one sheet per table, named like the table.  Other files and sheets (a README sheet,
notes) are ignored.  Table and column names are documented in ``data/README.md``.

Files are data, never code: CSV is parsed by the :mod:`csv` module, workbooks by openpyxl in
read-only, values-only mode (formulas are not evaluated: the value Excel last saved is read), and
nothing is ever evaluated or unpickled.  Text cells written to CSV or Excel that begin with ``=``,
``+``, ``-`` or ``@`` are neutralised against formula injection.
"""

from __future__ import annotations

import csv
import io as _io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .schemas import TABLES, Problem, ValidationError
from .tender import SETTINGS, Tender, build

__all__ = [
    "Sheet",
    "atomic_path",
    "neutralise",
    "read_tender",
    "write_tables",
    "write_template",
    "write_tender",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def read_tender(path: str | os.PathLike) -> Tender:
    """Read and validate a tender from a CSV folder or an ``.xlsx`` workbook.

    Parameters
    ----------
    path : str or path-like
        A folder holding ``vendors.csv``, ``criteria.csv``, ``scores.csv``, ``lots.csv``,
        ``bids.csv`` (and optionally ``tiers.csv``, ``risk.csv``, ``pairwise.csv``,
        ``settings.csv``), or an ``.xlsx`` workbook with sheets of the same names.

    Returns
    -------
    Tender

    Raises
    ------
    FileNotFoundError
        When *path* does not exist.
    ValidationError
        Listing every problem found (file or sheet, row, column, value, rule).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no tender at {path}: give a folder of CSV files or an .xlsx file")
    if path.is_dir():
        raw, problems = _read_folder(path)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        raw, problems = _read_workbook(path)
    else:
        raise ValidationError([Problem(path.name, None, None, path.suffix,
                                       "a tender is a folder of CSV files or an .xlsx workbook")])
    try:
        tender = build(raw, source=str(path))
    except ValidationError as err:
        raise ValidationError(problems + err.problems, title=err.title) from None
    if problems:
        raise ValidationError(problems, title=f"invalid tender {path}")
    return tender


# ---------------------------------------------------------------------- CSV
def _read_folder(folder: Path):
    raw, problems = {}, []
    files = {p.stem.lower(): p for p in folder.iterdir() if p.suffix.lower() == ".csv"}
    for name in TABLES:
        if name in files:
            got = _read_csv(files[name], problems)
            if got is not None:
                raw[name] = got
    return raw, problems


def _read_csv(path: Path, problems: list[Problem]):
    label = path.name
    try:
        data = path.read_bytes()
    except OSError as err:  # a folder named like the table, no permission, ...
        problems.append(Problem(label, None, None, "", f"cannot read the file ({err.strerror or err})"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problems.append(Problem(label, line, None, repr(data[err.start:err.start + 4])[2:-1],
                                "file is not UTF-8: save it as 'CSV UTF-8' from Excel"))
        return None
    if not text.strip():
        problems.append(Problem(label, None, None, "", "file is empty: it needs at least a header"))
        return None
    first = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    records, lines = [], []
    try:
        for record in reader:
            line = reader.line_num
            if header is None:
                header = [h.strip() for h in record]
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
                problems.append(Problem(label, line, None, delimiter.join(record)[:40],
                                        f"row has {len(record)} cells but the header has "
                                        f"{len(header)}"))
                continue
            records.append((record + [""] * len(header))[: len(header)])
            lines.append(line)
    except csv.Error as err:
        problems.append(Problem(label, reader.line_num, None, "", f"unreadable CSV: {err}"))
        return None
    frame = pd.DataFrame(records, columns=range(len(header)), dtype=object)
    frame.columns = header
    return frame, label, lines


# ---------------------------------------------------------------------- Excel
def _read_workbook(path: Path):
    import openpyxl

    raw, problems = {}, []
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        problems.append(Problem(path.name, None, None, "", f"not a readable .xlsx workbook ({err})"))
        return raw, problems
    # the same workbook with formulas as text: tells a formula Excel never saved a value for
    # (written by a script) from a blank cell
    formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        sheets = {s.strip().lower(): s for s in wb.sheetnames}
        for name in TABLES:
            if name not in sheets:
                continue
            label = f"{path.name}[{sheets[name]}]"
            rows = list(wb[sheets[name]].iter_rows(values_only=True))
            _unsaved_formulas(rows, formulas[sheets[name]].iter_rows(values_only=True), label,
                              problems)
            if not rows or all(v is None for v in rows[0]):
                problems.append(Problem(label, None, None, "",
                                        "sheet is empty: row 1 must hold the column headers"))
                continue
            header = list(rows[0])
            while header and header[-1] is None:
                header.pop()
            width = len(header)
            records, numbers = [], []
            for i, row in enumerate(rows[1:], start=2):
                cells = list(row[:width]) + [None] * max(0, width - len(row))
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                extra = [c for c in row[width:] if c is not None and str(c).strip()]
                if extra:
                    problems.append(Problem(label, i, None, str(extra[0]),
                                            "value outside the header's columns"))
                records.append([_cell(c) for c in cells])
                numbers.append(i)
            frame = pd.DataFrame(records, columns=range(width), dtype=object)
            frame.columns = ["" if h is None else str(h) for h in header]
            raw[name] = (frame, label, numbers)
    finally:
        wb.close()
        formulas.close()
    return raw, problems


def _unsaved_formulas(values: list[tuple], formulas: Iterator[tuple], label: str,
                      problems: list[Problem]) -> None:
    """A Problem for each formula cell whose saved value is missing (read as blank otherwise)."""
    header = values[0] if values else ()
    for i, (row, text) in enumerate(zip(values, formulas, strict=False), start=1):
        for j, (v, f) in enumerate(zip(row, text, strict=False)):
            if v is None and isinstance(f, str) and f.startswith("="):
                column = header[j] if i > 1 and j < len(header) and header[j] is not None else None
                problems.append(Problem(label, i, None if column is None else str(column), f,
                                        "formula without a saved value (formulas are not "
                                        "evaluated): open and save the workbook in Excel, or "
                                        "type the value"))


def _cell(value: object) -> object:
    """Keep numbers and booleans native; everything else becomes text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # dates and times: as text, validated by the column type


# ---------------------------------------------------------------------- writing
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


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
    for name in ("vendors", "criteria", "scores", "lots", "bids", "tiers", "risk", "pairwise"):
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
