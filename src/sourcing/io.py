"""Read tenders: a folder of CSV files or one ``.xlsx`` workbook (writing is :mod:`sourcing.outputs`).

A tender folder holds one ``<table>.csv`` per table (``vendors.csv``, ``criteria.csv``, ...); a
workbook holds one sheet per table, named like the table.  Other files and sheets (a README sheet,
notes) are ignored.  Table and column names are documented in ``data/README.md``.

Files are data, never code: CSV is parsed by the :mod:`csv` module, workbooks by openpyxl's
streaming sheet parser in values-only mode (formulas are not evaluated: the value Excel last saved
is read), and nothing is ever evaluated or unpickled.  Every reader is bounded
(:data:`MAX_CSV_BYTES`, :data:`MAX_XLSX_BYTES`, :data:`MAX_TABLE_ROWS`, :data:`MAX_COLUMNS`): a
larger or hostile file is refused with a :class:`~sourcing.schemas.ValidationError` naming it.
"""

from __future__ import annotations

import csv
import io as _io
import os
import re
import zipfile
from pathlib import Path

import pandas as pd

from .schemas import TABLES, Problem, ValidationError, normalise_header
from .tender import Tender, build

__all__ = ["MAX_COLUMNS", "MAX_CSV_BYTES", "MAX_TABLE_ROWS", "MAX_XLSX_BYTES", "decode_utf8", "read_tender"]


def read_tender(path: str | os.PathLike) -> Tender:
    """Read and validate a tender from a CSV folder or an ``.xlsx`` workbook.

    Parameters
    ----------
    path : str or path-like
        A folder holding ``vendors.csv``, ``criteria.csv``, ``scores.csv``, ``lots.csv``,
        ``bids.csv`` (and optionally ``tiers.csv``, ``risk.csv``, ``pairwise.csv``, ``rules.csv``,
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


# ---------------------------------------------------------------------- limits
#: Largest CSV table file, bytes.  Checked before the file is read.
MAX_CSV_BYTES = 256 * 2**20
#: Largest total size of the parts of an ``.xlsx`` workbook once decompressed, bytes (zip bomb
#: guard; checked from the zip directory before openpyxl parses anything).
MAX_XLSX_BYTES = 512 * 2**20
#: Most data rows of one table (CSV file or sheet), the header not counted: Excel's own sheet limit.
MAX_TABLE_ROWS = 1_048_575
#: Most columns of one table (CSV file or sheet); cells beyond are refused, not expanded.
MAX_COLUMNS = 1_000


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


def decode_utf8(data: bytes, label: str, problems: list[Problem]) -> str | None:
    """*data* as text (UTF-8, a BOM dropped); None with a located Problem when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problems.append(Problem(label, line, None, repr(data[err.start:err.start + 4])[2:-1],
                                "file is not UTF-8: save it as 'CSV UTF-8' from Excel"))
        return None


def _read_csv(path: Path, problems: list[Problem]):
    label = path.name
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            problems.append(Problem(label, None, None, f"{size:,} bytes",
                                    f"file too large: at most {MAX_CSV_BYTES:,} bytes "
                                    "(sourcing.io.MAX_CSV_BYTES)"))
            return None
        data = path.read_bytes()
    except OSError as err:  # a folder named like the table, no permission, ...
        problems.append(Problem(label, None, None, "", f"cannot read the file ({err.strerror or err})"))
        return None
    text = decode_utf8(data, label, problems)
    if text is None:
        return None
    if not text.strip():
        problems.append(Problem(label, None, None, "", "file is empty: it needs at least a header"))
        return None
    first = text[: text.find("\n")] if "\n" in text else text
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    records, lines = [], []
    try:
        for record in reader:
            line = reader.line_num
            if header is None:
                if len(record) > MAX_COLUMNS:
                    problems.append(Problem(label, 1, None, f"{len(record):,} columns",
                                            f"too many columns: at most {MAX_COLUMNS:,} "
                                            "(sourcing.io.MAX_COLUMNS)"))
                    return None
                header = [h.strip() for h in record]
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(records) >= MAX_TABLE_ROWS:
                problems.append(Problem(label, line, None, "", f"too many rows: at most "
                                        f"{MAX_TABLE_ROWS:,} data rows (sourcing.io.MAX_TABLE_ROWS)"))
                return None
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
    raw, problems = {}, []

    def unreadable(err: Exception) -> ValidationError:  # the whole file: no per-table noise
        return ValidationError([Problem(path.name, None, None, "",
                                        f"not a readable .xlsx workbook ({err})")],
                               title=f"invalid tender {path}")

    try:
        with zipfile.ZipFile(path) as archive:
            # zipfile never inflates a member beyond its declared size, so this bounds the work
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise unreadable(err) from None
    if total > MAX_XLSX_BYTES:
        raise ValidationError([Problem(path.name, None, None, f"{total:,} bytes",
                                       "workbook too large once decompressed: at most "
                                       f"{MAX_XLSX_BYTES:,} bytes (sourcing.io.MAX_XLSX_BYTES)")],
                              title=f"invalid tender {path}")
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.exceptions import InvalidFileException

    # openpyxl's load_workbook(read_only=True) parses every sheet without a <dimension> once just
    # to size it; the steps below read the workbook part, shared strings and styles only, and
    # each table's sheet is then parsed once by _read_sheet
    reader = None
    try:
        reader = ExcelReader(str(path), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        parts = {sheet.name: rel.target for sheet, rel in reader.parser.find_sheets()
                 if rel.target in reader.valid_files and "chartsheet" not in rel.Type}
        tables = {s.strip().lower(): s for s in parts}
        _read_strings(reader, [parts[tables[n]] for n in TABLES if n in tables])
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError,
            SyntaxError, InvalidFileException) as err:  # SyntaxError: a malformed XML part
        if reader is not None:
            reader.archive.close()
        raise unreadable(err) from None
    try:
        sheets = {s.strip().lower(): s for s in parts}
        for name in TABLES:
            if name not in sheets:
                continue
            label = f"{path.name}[{sheets[name]}]"
            try:
                got = _read_sheet(reader, parts[sheets[name]], name, label, problems)
            except (KeyError, ValueError, TypeError, SyntaxError, IndexError, zipfile.BadZipFile) as err:
                problems.append(Problem(label, None, None, "", f"unreadable sheet ({err})"))
                continue
            if got is not None:
                raw[name] = got
    finally:
        reader.archive.close()
    return raw, problems


#: Shared-strings part above which only the strings the table sheets use are kept (a bloated
#: part of unused strings cost 40 s and 490 MiB through openpyxl's reader).
STRINGS_SCAN_BYTES = 4 * 2**20
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _read_strings(reader, sheet_parts: list[str]) -> None:
    """Shared strings of the workbook into ``reader.shared_strings``: all of them when the part is
    small, else only those the table sheets refer to (one streaming pass over those sheets for
    the indices, one over the strings), so unused strings cost neither time nor memory."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.xml.constants import SHARED_STRINGS

    ct = reader.package.find(SHARED_STRINGS)
    if ct is None:
        reader.shared_strings = []
        return
    name = ct.PartName[1:]
    if reader.archive.getinfo(name).file_size <= STRINGS_SCAN_BYTES:
        reader.read_strings()
        return
    wanted: set[int] = set()
    cell, value = f"{_MAIN_NS}c", f"{_MAIN_NS}v"
    for part in sheet_parts:
        with reader.archive.open(part) as src:
            for _, node in iterparse(src):
                if node.tag == cell:
                    if node.get("t") == "s":
                        v = node.find(value)
                        if v is not None and v.text and v.text.strip().isdigit():
                            wanted.add(int(v.text))
                    node.clear()
    si, t, r = f"{_MAIN_NS}si", f"{_MAIN_NS}t", f"{_MAIN_NS}r"
    strings: dict[int, str] = {}
    index = 0
    with reader.archive.open(name) as src:
        for _, node in iterparse(src):
            if node.tag != si:
                continue
            if index in wanted:
                runs = [c for c in node if c.tag == t] + [x for c in node if c.tag == r
                                                          for x in c if x.tag == t]
                strings[index] = "".join(x.text or "" for x in runs).replace("x005F_", "")
            node.clear()
            index += 1
    reader.shared_strings = strings


def _read_sheet(reader, part: str, table: str, label: str, problems: list[Problem]):
    """One sheet in one streaming pass: values, formulas without a saved value, percent formats.

    The sheet's declared ``<dimension>`` is never read (a forged ``A1:XFD1048576`` made openpyxl
    pad every row to 16,384 cells and the sheet to a million rows); rows and cells are taken as
    stored, up to :data:`MAX_TABLE_ROWS` rows and :data:`MAX_COLUMNS` columns.
    """
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    wb = reader.wb

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None:
                formula = element.find(FORMULA_TAG)
                if formula is not None:
                    cell["formula"] = "=" + (formula.text or "")
            return cell

    percent: dict[int, bool] = {}

    def is_percent(style_id: int) -> bool:
        if style_id not in percent:
            try:
                fid = wb._cell_styles[style_id].numFmtId
                fmt = (BUILTIN_FORMATS.get(fid, "General") if fid < BUILTIN_FORMATS_MAX_SIZE
                       else wb._number_formats[fid - BUILTIN_FORMATS_MAX_SIZE])
            except (IndexError, KeyError, TypeError, AttributeError):
                fmt = "General"
            percent[style_id] = "%" in re.sub(r'"[^"]*"|\\.', "", str(fmt))
        return percent[style_id]

    header: list[object] | None = None
    width = 0
    records, numbers = [], []
    pct_columns: set[int] = set()
    setting_key = setting_value = -1
    wide = False
    with reader.archive.open(part) as source:
        parser = Parser(source, reader.shared_strings, data_only=True, epoch=wb.epoch,
                        date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for idx, cells in parser.parse():
            if idx > MAX_TABLE_ROWS + 1:
                if any(c["value"] is not None for c in cells):
                    problems.append(Problem(label, idx, None, "", f"too many rows: at most "
                                            f"{MAX_TABLE_ROWS:,} data rows (sourcing.io.MAX_TABLE_ROWS)"))
                    return None
                continue
            if header is None:
                if idx != 1:  # row 1 missing: no header
                    break
                row = [None] * min(MAX_COLUMNS, max((c["column"] for c in cells), default=0))
                for c in cells:
                    if c["column"] <= MAX_COLUMNS:
                        row[c["column"] - 1] = c["value"]
                    elif c["value"] is not None and not wide:
                        wide = True
                        problems.append(Problem(label, 1, None, str(c["value"])[:40],
                                                f"too many columns: at most {MAX_COLUMNS:,} "
                                                "(sourcing.io.MAX_COLUMNS)"))
                while row and row[-1] is None:
                    row.pop()
                header = row
                width = len(header)
                names = [normalise_header(h) for h in header]
                pct_columns = {j for j, h in enumerate(names) if h.endswith("_pct")}
                settings = table == "settings" and {"key", "value"} <= set(names)
                setting_key = names.index("key") if settings else -1
                setting_value = names.index("value") if settings else -1
                _unsaved(cells, 1, header, label, problems)
                continue
            row = [None] * width
            extra = None
            shown_pct = []
            for c in cells:
                j = c["column"] - 1
                value = c["value"]
                if value is None:
                    continue
                if j < width:
                    row[j] = value
                    if (isinstance(value, int | float) and not isinstance(value, bool)
                            and c["style_id"] and is_percent(c["style_id"])):
                        shown_pct.append(j)
                elif extra is None:
                    extra = value
            for j in shown_pct:  # 85 % is stored as 0.85: a _pct column (or setting) means 85
                if j in pct_columns or (j == setting_value and isinstance(row[setting_key], str)
                                        and normalise_header(row[setting_key]).endswith("_pct")):
                    row[j] = float(f"{row[j] * 100:.12g}")
            _unsaved(cells, idx, header, label, problems)
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            if extra is not None and str(extra).strip():
                problems.append(Problem(label, idx, None, str(extra), "value outside the header's columns"))
            records.append([_cell(v) for v in row])
            numbers.append(idx)
    if not header:
        problems.append(Problem(label, None, None, "", "sheet is empty: row 1 must hold the column headers"))
        return None
    frame = pd.DataFrame(records, columns=range(width), dtype=object)
    frame.columns = ["" if h is None else str(h) for h in header]
    return frame, label, numbers


def _unsaved(cells: list[dict], idx: int, header: list[object], label: str,
             problems: list[Problem]) -> None:
    """A Problem for each formula cell whose saved value is missing (read as blank otherwise)."""
    for c in cells:
        if "formula" in c:
            j = c["column"] - 1
            column = header[j] if idx > 1 and j < len(header) and header[j] is not None else None
            problems.append(Problem(label, idx, None if column is None else str(column), c["formula"],
                                    "formula without a saved value (formulas are not "
                                    "evaluated): open and save the workbook in Excel, or "
                                    "type the value"))


def _cell(value: object) -> object:
    """Keep numbers and booleans native; everything else becomes text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # dates and times: as text, validated by the column type


# ---------------------------------------------------------------------- writing
