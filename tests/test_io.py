"""Reading tenders from CSV folders and workbooks, and every kind of malformed tender.

Each malformed case must raise ValidationError whose problems locate the cell: source file or
sheet, row as the user sees it (header = row 1), column and offending value.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sourcing import ValidationError, read_tender
from sourcing.outputs import write_template, write_tender


@pytest.fixture()
def folder(tmp_path, sample_path) -> Path:
    """A writable copy of the sample tender's CSV folder."""
    target = tmp_path / "tender"
    shutil.copytree(sample_path, target)
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def problems_of(path) -> pd.DataFrame:
    with pytest.raises(ValidationError) as info:
        read_tender(path)
    frame = info.value.to_frame()
    assert len(frame) > 0
    assert "Traceback" not in str(info.value)
    return frame


def has(frame: pd.DataFrame, **where) -> bool:
    mask = pd.Series(True, index=frame.index)
    for key, value in where.items():
        if key == "rule":
            mask &= frame["rule"].str.contains(value, regex=False)
        else:
            mask &= frame[key] == value
    return bool(mask.any())


# ---------------------------------------------------------------------- good input
def test_csv_and_xlsx_read_into_equal_tenders(sample_path):
    csv = read_tender(sample_path)
    xlsx = read_tender(sample_path.with_suffix(".xlsx"))
    assert csv == xlsx
    assert csv.vendor_ids == [f"V0{i}" for i in range(1, 9)]
    assert len(csv.lots) == 5 and len(csv.criteria) == 16


def test_sample_has_the_planted_features(tender):
    assert tender.incumbents == ["V01"]
    assert not tender.vendors.at["V06", "iso27001"]
    assert tender.vendors.at["V07", "financial_score"] < 40
    assert tender.scores["evaluator"].dropna().nunique() == 3
    price = tender.evaluated_price()
    assert price.idxmin() == "V03" and price.idxmax() == "V02"


def test_round_trip_through_csv_and_xlsx(tender, tmp_path):
    assert read_tender(write_tender(tender, tmp_path / "copy")) == tender
    assert read_tender(write_tender(tender, tmp_path / "copy.xlsx")) == tender


def test_utf8_bom_and_semicolon_csv_read_correctly(folder, tender):
    """Excel's 'CSV UTF-8' export in a European locale: BOM first, ';' between cells."""
    vendors = folder / "vendors.csv"
    frame = pd.read_csv(vendors, dtype=str, keep_default_na=False)
    frame.to_csv(vendors, sep=";", index=False, encoding="utf-8-sig")
    assert vendors.read_bytes().startswith(b"\xef\xbb\xbfvendor_id;")
    assert read_tender(folder) == tender


def test_blank_lines_and_comment_columns_are_fine(folder, tender):
    edit(folder / "lots.csv", "\nL2,", "\n\nL2,")
    text = (folder / "vendors.csv").read_text(encoding="utf-8").splitlines()
    text = [text[0] + ",comment"] + [line + ",checked" for line in text[1:]]
    (folder / "vendors.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    got = read_tender(folder)
    assert list(got.vendors["comment"].unique()) == ["checked"]
    assert got.lots.equals(tender.lots)


def test_blank_template_round_trips_to_missing_data_errors(tmp_path):
    path = write_template(tmp_path / "blank.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "README"
    assert wb["criteria"].data_validations.dataValidation, "drop-downs expected"
    problems = problems_of(path)
    assert has(problems, rule="table has no data rows")


def test_from_frames_matches_reader(tender):
    again = type(tender).from_frames(
        vendors=tender.vendors, criteria=tender.criteria, scores=tender.scores, lots=tender.lots,
        bids=tender.bids, tiers=tender.tiers, risk=tender.risk, pairwise=tender.pairwise,
        settings=dict(tender.settings),
    )
    assert again == tender


# ---------------------------------------------------------------------- malformed input
def test_missing_table(folder):
    (folder / "scores.csv").unlink()
    assert has(problems_of(folder), value="scores", rule="required table 'scores' is missing")


def test_missing_sheet(tmp_path, tender):
    path = write_tender(tender, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    del wb["bids"]
    wb.save(path)
    assert has(problems_of(path), value="bids", rule="is missing")


def test_missing_column(folder):
    edit(folder / "bids.csv", "vendor_id,lot_id,unit_price,", "vendor_id,lot_id,price,")
    p = problems_of(folder)
    assert has(p, source="bids.csv", row=1, column="unit_price", rule="required column is missing")
    assert has(p, source="bids.csv", row=1, column="price", rule="unknown column")


def test_extra_column_lists_valid_ones(folder):
    edit(folder / "lots.csv", "inhouse_unit_cost", "inhouse_unit_cost,owner")
    p = problems_of(folder)
    assert has(p, source="lots.csv", column="owner", rule="valid columns: lot_id, name")


def test_text_in_number_cell(folder):
    edit(folder / "bids.csv", "V01,L2,1980.0", 'V01,L2,"1 980 €"')
    assert has(problems_of(folder), source="bids.csv", row=3, column="unit_price", value="1 980 €")


def test_decimal_comma_is_an_error_not_a_guess(folder):
    edit(folder / "bids.csv", "V01,L1,23.78", 'V01,L1,"23,78"')
    assert has(problems_of(folder), source="bids.csv", row=2, column="unit_price", value="23,78",
               rule="plain number")


def test_nan_literal(folder):
    edit(folder / "lots.csv", "120000", "NaN")
    assert has(problems_of(folder), source="lots.csv", row=2, column="annual_demand", value="NaN")


def test_blank_required_value(folder):
    edit(folder / "vendors.csv", "V02,Atlas Global IT", "V02,")
    assert has(problems_of(folder), source="vendors.csv", row=3, column="name",
               rule="required value is blank")


def test_negative_price(folder):
    edit(folder / "bids.csv", "V01,L1,23.78", "V01,L1,-23.78")
    assert has(problems_of(folder), source="bids.csv", row=2, column="unit_price", value="-23.78",
               rule="> 0")


def test_probability_above_one(folder):
    edit(folder / "risk.csv", "V07,0.09", "V07,1.5")
    assert has(problems_of(folder), source="risk.csv", row=8, column="failure_prob", value="1.5",
               rule="<= 1")


def test_percentage_above_hundred(folder):
    edit(folder / "vendors.csv", "IN,INR,85", "IN,INR,185")
    assert has(problems_of(folder), source="vendors.csv", row=4, column="offshore_share_pct",
               value="185", rule="<= 100")


def test_duplicate_id(folder):
    edit(folder / "vendors.csv", "V08,Vertex", "V07,Vertex")
    assert has(problems_of(folder), source="vendors.csv", row=9, column="vendor_id", value="V07",
               rule="duplicate")


def test_duplicate_score_row(folder):
    path = folder / "scores.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    p = problems_of(folder)
    assert has(p, source="scores.csv", row=2, rule="duplicate row")
    assert has(p, source="scores.csv", row=len(lines) + 1, rule="duplicate row")


def test_unknown_vendor_reference(folder):
    edit(folder / "bids.csv", "V08,L1,", "V99,L1,")
    assert has(problems_of(folder), source="bids.csv", column="vendor_id", value="V99",
               rule="unknown vendor; known: V01")


def test_unknown_criterion_reference(folder):
    edit(folder / "scores.csv", "V01,C01,", "V01,C99,")
    assert has(problems_of(folder), source="scores.csv", row=2, column="criterion_id", value="C99",
               rule="unknown criterion")


def test_vendor_without_scores(folder):
    path = folder / "scores.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("V05,")) + "\n",
                    encoding="utf-8")
    assert has(problems_of(folder), source="vendors.csv", row=6, column="vendor_id", value="V05",
               rule="vendor has no scores")


def test_missing_single_score(folder):
    path = folder / "scores.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("V05,C11,")) + "\n",
                    encoding="utf-8")
    assert has(problems_of(folder), value="V05", rule="no score for C11")


def test_empty_file(folder):
    (folder / "lots.csv").write_text("", encoding="utf-8")
    p = problems_of(folder)
    assert has(p, source="lots.csv", rule="file is empty")


def test_header_only_table(folder):
    path = folder / "vendors.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert has(problems_of(folder), source="vendors.csv", rule="table has no data rows")


def test_empty_sheet(tmp_path, tender):
    path = write_tender(tender, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.remove(wb["lots"])
    wb.create_sheet("lots")
    wb.save(path)
    assert has(problems_of(path), source="t.xlsx[lots]", rule="sheet is empty")


def test_unknown_category(folder):
    edit(folder / "criteria.csv", "technical,max", "technical,maximise")
    assert has(problems_of(folder), source="criteria.csv", row=2, column="direction",
               value="maximise", rule="one of max, min")


def test_bad_yes_no(folder):
    edit(folder / "vendors.csv", "Services,no,IN", "Services,maybe,IN")
    assert has(problems_of(folder), source="vendors.csv", row=4, column="incumbent", value="maybe",
               rule="yes or no")


def test_bad_gate_rule(folder):
    edit(folder / "criteria.csv", ">= 40", "at least 40")
    assert has(problems_of(folder), source="criteria.csv", row=7, column="gate", value="at least 40")


def test_score_outside_scale(folder):
    edit(folder / "scores.csv", "V01,C11,,99.8", "V01,C11,,101")
    assert has(problems_of(folder), source="scores.csv", column="value", value="101",
               rule="outside the criterion's scale [95, 100]")


def test_tier_without_bid(folder):
    with (folder / "tiers.csv").open("a", encoding="utf-8") as fh:
        fh.write("V04,L5,100,10\n")
    assert has(problems_of(folder), source="tiers.csv", value="V04/L5",
               rule="tier for a bid that does not exist")


def test_lot_without_bids(folder):
    with (folder / "lots.csv").open("a", encoding="utf-8") as fh:
        fh.write("L6,Network,network,sites,40,0,,0,1000\n")
    assert has(problems_of(folder), source="lots.csv", row=7, value="L6", rule="lot has no bids")


def test_not_utf8(folder):
    path = folder / "vendors.csv"
    path.write_bytes(path.read_bytes().replace(b"Mosaic", "Mösaic".encode("cp1252")))
    assert has(problems_of(folder), source="vendors.csv", row=8, rule="not UTF-8")


def test_too_many_cells(folder):
    edit(folder / "lots.csv", "Service desk,service_desk", "Service desk,extra,service_desk")
    assert has(problems_of(folder), source="lots.csv", row=2, rule="cells but the header has")


def test_unknown_setting(folder):
    with (folder / "settings.csv").open("a", encoding="utf-8") as fh:
        fh.write("curency,USD\n")
    assert has(problems_of(folder), source="settings.csv", column="key", value="curency",
               rule="valid keys: name")


def test_not_a_workbook(tmp_path):
    path = tmp_path / "bids.xlsx"
    path.write_text("this is not a zip file", encoding="utf-8")
    assert has(problems_of(path), source="bids.xlsx", rule="not a readable .xlsx workbook")


def test_text_in_number_cell_of_a_workbook(tmp_path, tender):
    path = write_tender(tender, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["bids"]["C4"] = "67 440 EUR"
    wb.save(path)
    assert has(problems_of(path), source="t.xlsx[bids]", row=4, column="unit_price",
               value="67 440 EUR")


def test_all_problems_are_collected_at_once(folder):
    edit(folder / "bids.csv", "V01,L1,23.78", "V01,L1,abc")
    edit(folder / "risk.csv", "V07,0.09", "V07,7")
    edit(folder / "vendors.csv", "V08,Vertex", "V07,Vertex")
    p = problems_of(folder)
    assert {"bids.csv", "risk.csv", "vendors.csv"} <= set(p["source"])


def test_missing_path():
    with pytest.raises(FileNotFoundError, match="no tender at"):
        read_tender("/nonexistent/tender")


# ---------------------------------------------------------------------- writing safely
@pytest.mark.parametrize("table", ["vendors", "bids", "scores", "criteria"])
def test_garbage_bytes_never_crash(tmp_path_factory, sample_path, table):
    """Random bytes in any file give a ValidationError, never a raw exception."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=25)
    @given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
    def check(data):
        folder = tmp_path_factory.mktemp("fuzz")
        for src in sample_path.iterdir():
            (folder / src.name).write_bytes(src.read_bytes())
        (folder / f"{table}.csv").write_bytes(data)
        try:
            read_tender(folder)
        except ValidationError:
            pass

    check()


def test_table_that_is_a_folder(folder):
    (folder / "bids.csv").unlink()
    (folder / "bids.csv").mkdir()
    p = problems_of(folder)
    assert has(p, source="bids.csv", rule="cannot read the file (Is a directory)")


def test_huge_number_is_located_not_overflowed(folder):
    edit(folder / "bids.csv", "V01,L1,23.78,", "V01,L1,1e308,")
    p = problems_of(folder)
    assert has(p, source="bids.csv", row=2, column="unit_price", value="1e308",
               rule="(at most 1e+15 in absolute value)")


def test_growth_of_minus_100_percent_is_an_error(folder):
    edit(folder / "lots.csv", "120000,3.0,", "120000,-100,")
    assert has(problems_of(folder), source="lots.csv", row=2, column="demand_growth_pct",
               value="-100", rule="must be > -100")


def test_formula_without_saved_value_is_named_not_read_as_blank(tmp_path, tender):
    """openpyxl-written formulas carry no saved value; data_only mode alone reads them as blank."""
    path = write_tender(tender, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["bids"]["C2"] = "=20+3.78"
    wb.save(path)
    p = problems_of(path)
    assert has(p, source="t.xlsx[bids]", row=2, column="unit_price", value="=20+3.78",
               rule="formula without a saved value")


def test_formula_with_saved_value_reads_the_value(tmp_path, tender):
    path = write_tender(tender, tmp_path / "t.xlsx")
    with zipfile.ZipFile(path) as z:
        sheets = {n: z.read(n) for n in z.namelist()}
    wb = openpyxl.load_workbook(path)
    index = wb.sheetnames.index("bids") + 1
    name = f"xl/worksheets/sheet{index}.xml"
    xml = sheets[name].decode()
    # what Excel writes: the formula and its last computed value
    xml = re.sub(r'<c r="C2"( s="\d+")? t="n"><v>23.78</v></c>',
                 r'<c r="C2"\1><f>20+3.78</f><v>23.78</v></c>', xml)
    assert "<f>20+3.78</f>" in xml
    sheets[name] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in sheets.items():
            z.writestr(n, data)
    assert read_tender(path).bids.loc[0, "unit_price"] == 23.78


def _rewrite_parts(path: Path, change) -> None:
    """Rewrite the parts of a zip (xlsx) in place: change(name, bytes) -> bytes."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, change(n, data))


def _sheet_part(path: Path, sheet: str) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return f"xl/worksheets/sheet{wb.sheetnames.index(sheet) + 1}.xml"
    finally:
        wb.close()


def test_forged_dimension_does_not_make_reading_slow(tmp_path, sample_path):
    """Issue 11 item 6: a declared A1:XFD1048576 padded every row to 16,384 cells and the sheet
    to 1,048,576 rows: `validate` of a 20 KB file ran for many minutes.  The declared dimension is
    ignored and only stored rows are visited: same tender, read as fast as the plain one."""
    import re
    import time

    plain = read_tender(sample_path.parent / "sample-tender.xlsx")
    path = tmp_path / "forged.xlsx"
    shutil.copy(sample_path.parent / "sample-tender.xlsx", path)

    def forge(name: str, xml: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return xml
        xml = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml)
        # and one formatted empty cell in the far corner, as a whole-sheet format leaves
        return xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>')

    _rewrite_parts(path, forge)
    assert path.stat().st_size < 30_000
    start = time.perf_counter()
    assert read_tender(path) == plain
    assert time.perf_counter() - start < 20  # minutes before the fix


def test_zip_bomb_is_refused_before_openpyxl_parses(tmp_path, sample_path):
    """Issue 11 item 6: a 1 MB workbook holding a 1 GB sharedStrings part validated in 3.3 GB."""
    import tracemalloc

    from sourcing.io import MAX_XLSX_BYTES

    path = tmp_path / "bomb.xlsx"
    shutil.copy(sample_path.parent / "sample-tender.xlsx", path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        block = b"<si><t>" + b"A" * (2**20 - 15) + b"</t></si>"
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(MAX_XLSX_BYTES // 2**20 + 8):
                fh.write(block)
            fh.write(b"</sst>")
    assert path.stat().st_size < 3_000_000
    tracemalloc.start()
    try:
        p = problems_of(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert list(p["source"]) == ["bomb.xlsx"]
    assert f"at most {MAX_XLSX_BYTES:,} bytes" in p["rule"].iat[0]
    assert peak < 32 * 2**20


def test_sheet_rows_and_columns_are_bounded(tmp_path, tender, monkeypatch):
    import sourcing.io as sio

    path = write_tender(tender, tmp_path / "t.xlsx")
    part = _sheet_part(path, "scores")
    # a cell at row 10^9: openpyxl would yield a billion empty rows before it
    far = b'<row r="1000000000"><c r="A1000000000" t="inlineStr"><is><t>V01</t></is></c></row></sheetData>'
    wide = b'<c r="XFD1" t="inlineStr"><is><t>x_far</t></is></c></row>'
    _rewrite_parts(path, lambda n, d: d.replace(b"</sheetData>", far).replace(b"</row>", wide, 1)
                   if n == part else d)
    p = problems_of(path)
    assert has(p, source="t.xlsx[scores]", row=1000000000, rule="too many rows: at most 1,048,575")
    assert has(p, source="t.xlsx[scores]", row=1, value="x_far", rule="too many columns: at most 1,000")
    monkeypatch.setattr(sio, "MAX_TABLE_ROWS", 10)
    path = write_tender(tender, tmp_path / "u.xlsx")
    assert has(problems_of(path), source="u.xlsx[scores]", row=12, rule="too many rows: at most 10 ")


def test_csv_size_rows_and_columns_are_bounded(folder, monkeypatch):
    import sourcing.io as sio

    monkeypatch.setattr(sio, "MAX_TABLE_ROWS", 10)
    p = problems_of(folder)
    assert has(p, source="scores.csv", row=12, rule="too many rows: at most 10 data rows")
    monkeypatch.setattr(sio, "MAX_TABLE_ROWS", 10**6)
    monkeypatch.setattr(sio, "MAX_CSV_BYTES", 1000)
    p = problems_of(folder)
    assert has(p, source="scores.csv", rule="file too large: at most 1,000 bytes")
    big = {f.name for f in folder.glob("*.csv") if f.stat().st_size > 1000}
    assert set(p.loc[p["rule"].str.startswith("file too large"), "source"]) == big
    monkeypatch.setattr(sio, "MAX_CSV_BYTES", 2**28)
    (folder / "risk.csv").write_text(",".join(f"c{i}" for i in range(1001)) + "\n1\n")
    assert has(problems_of(folder), source="risk.csv", row=1, rule="too many columns: at most 1,000")


def test_percent_formatted_cells_read_as_percent(tmp_path, tender):
    """Issue 10 item 7: 85 % typed the Excel way is stored as 0.85 with a percent number format;
    in a _pct column (or a _pct setting) it means 85, elsewhere the stored fraction stays."""
    path = write_tender(tender, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["vendors"]
    col = [c.value for c in ws[1]].index("offshore_share_pct") + 1
    ws.cell(row=2, column=col, value=0.85).number_format = "0%"
    ws.cell(row=3, column=col, value=0.255).number_format = "0.0%"
    settings = wb["settings"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "discount_rate_pct":
            row[1].value = 0.075
            row[1].number_format = "0.0%"
    risk = wb["risk"]
    fcol = [c.value for c in risk[1]].index("failure_prob") + 1
    risk.cell(row=2, column=fcol, value=0.05).number_format = "0%"  # a probability: stays 0.05
    wb.save(path)
    got = read_tender(path)
    assert got.vendors["offshore_share_pct"].iloc[:2].tolist() == [85.0, 25.5]
    assert got.settings["discount_rate_pct"] == 7.5
    assert got.risk["failure_prob"].iloc[0] == 0.05


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_fraction_among_percents_is_a_located_problem(tmp_path, folder, tender, kind):
    """Issue 10 item 7: 0.3 typed into a _pct column whose other rows are 5 to 85 (percents)."""
    if kind == "csv":
        frame = pd.read_csv(folder / "vendors.csv", dtype=str, keep_default_na=False)
        frame.loc[frame["vendor_id"] == "V07", "offshore_share_pct"] = "0.3"
        frame.to_csv(folder / "vendors.csv", index=False)
        path, source = folder, "vendors.csv"
    else:
        path = write_tender(tender, tmp_path / "t.xlsx")
        wb = openpyxl.load_workbook(path)
        ws = wb["vendors"]
        ws.cell(row=8, column=[c.value for c in ws[1]].index("offshore_share_pct") + 1, value=0.3)
        wb.save(path)
        path, source = path, "t.xlsx[vendors]"
    p = problems_of(path)
    assert len(p) == 1
    assert has(p, source=source, row=8, column="offshore_share_pct", value="0.3",
               rule="looks like a fraction where the other rows are percents: write 30")


def test_small_percent_among_small_percents_is_not_flagged(folder):
    """0.5 % growth among 1-6 % is plausible: 50 lies outside the others' range."""
    edit(folder / "lots.csv", "120000,3.0,", "120000,0.5,")
    assert read_tender(folder).lots["demand_growth_pct"].iloc[0] == 0.5


def test_data_readme_states_the_limits_the_code_applies():
    """The Limits section of data/README.md names each constant with its current value."""
    import sourcing.io as sio
    import sourcing.performance.data as perf
    import sourcing.scenario as sc
    from sourcing.schemas import MAX_MAGNITUDE

    root = Path(__file__).resolve().parents[1]
    text = (root / "data" / "README.md").read_text(encoding="utf-8")
    limits = text[text.index("## Limits"):text.index("## Data dictionary")]
    rows = {line.split("|")[3].strip(" `"): line.split("|")[2] for line in limits.splitlines()
            if line.startswith("| ") and line.count("|") == 4}
    for module, name in ((sio, "MAX_CSV_BYTES"), (sio, "MAX_XLSX_BYTES"), (sio, "MAX_TABLE_ROWS"),
                         (sio, "MAX_COLUMNS"), (perf, "MAX_PERF_BYTES"), (perf, "MAX_PERF_LINES"),
                         (sc, "MAX_SCENARIO_BYTES"), (sc, "MAX_SCENARIO_DEPTH")):
        assert f"{getattr(module, name):,}" in rows[f"{module.__name__}.{name}"], name
    assert f"{MAX_MAGNITUDE:g}" in rows["sourcing.schemas.MAX_MAGNITUDE"]
    assert f"more than {perf.PLACEHOLDER_WINDOW_DAYS} days" in text
    assert "Limits" in (root / "README.md").read_text(encoding="utf-8")


_WS = b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'><sheetData>"


@pytest.mark.parametrize(("xml", "expect"), [
    (_WS + b"<row r='1'><c r='A1' t='s'><v>99999</v></c></row>", "unreadable sheet"),
    (_WS + b"<row r='x'/></sheetData></worksheet>", "unreadable sheet"),
    (_WS + b"<row r='1'><c r='A1' t='s'><v>99999</v></c></row></sheetData></worksheet>",
     "unreadable sheet"),
    (_WS + b"<row r='1'><c r='ZZZZZ1' t='inlineStr'><is><t>far</t></is></c></row></sheetData>"
     b"</worksheet>", "unreadable sheet"),
    (_WS + b"<row r='1'><c r='AMK1' t='inlineStr'><is><t>far</t></is></c></row></sheetData>"
     b"</worksheet>", "too many columns"),
])
def test_malformed_sheet_xml_is_a_located_problem(tmp_path, tender, xml, expect):
    """Truncated XML, a bad row number, a shared-string index out of range, a column beyond
    XFD or beyond MAX_COLUMNS: each a problem of the sheet, never a raw parser exception."""
    path = write_tender(tender, tmp_path / "t.xlsx")
    part = _sheet_part(path, "lots")
    _rewrite_parts(path, lambda n, d: xml if n == part else d)
    assert has(problems_of(path), source="t.xlsx[lots]", rule=expect)


BLOAT = int(os.environ.get("SOURCING_TEST_BLOAT", 60_000))  # unused strings (270,000: 60 MiB)


def test_a_bloated_shared_strings_part_is_read_for_the_strings_used_only(tmp_path, monkeypatch):
    """A 6.6 MiB workbook whose shared strings held 60 MiB that no sheet uses took 40 s and 490 MiB
    to validate (openpyxl reads every string): only the strings the table sheets use are read,
    and the tender is the same as without the bloat."""
    import csv
    import re
    import zipfile

    import openpyxl
    import openpyxl.reader.excel

    from sourcing import io as sio
    from sourcing.io import read_tender

    folder = Path(__file__).resolve().parents[1] / "data" / "sample-smallco"
    sample = read_tender(folder)
    book = openpyxl.Workbook()  # a workbook as Excel saves one: text in the shared strings
    book.remove(book.active)
    for table in sorted(folder.glob("*.csv")):
        sheet = book.create_sheet(table.stem)
        with table.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                sheet.append(row)
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    # as Excel saves it: text cells point into one shared-strings part, here with 60,000 unused
    # strings after the used ones
    strings: dict[str, int] = {}

    def shared(m: re.Match) -> str:
        index = strings.setdefault(m.group(2), len(strings))
        return f'<c r="{m.group(1)}" t="s"><v>{index}</v></c>'

    inline = re.compile(r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>')
    bloated = tmp_path / "bloated.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bloated, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info).decode("utf-8")
            if info.filename.startswith("xl/worksheets/"):
                data = inline.sub(shared, data)
            elif info.filename == "[Content_Types].xml":
                data = data.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" '
                                    'ContentType="application/vnd.openxmlformats-officedocument.'
                                    'spreadsheetml.sharedStrings+xml"/></Types>')
            dst.writestr(info, data)
        assert len(strings) > 50  # the sheets' text now lives in the shared strings
        used = "".join(f"<si><t>{t}</t></si>" for t in strings)
        extra = "".join(f"<si><t>unused string {i} {'x' * 200}</t></si>" for i in range(BLOAT))
        part = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"{used}{extra}</sst>").encode()
        assert len(part) > sio.STRINGS_SCAN_BYTES
        dst.writestr("xl/sharedStrings.xml", part)

    def read_all(self):  # the reader that parses every string must not run on the bloated part
        raise AssertionError("every shared string was read")

    monkeypatch.setattr(openpyxl.reader.excel.ExcelReader, "read_strings", read_all)
    got = read_tender(bloated)
    pd.testing.assert_frame_equal(got.bids, sample.bids)
    pd.testing.assert_frame_equal(got.vendors, sample.vendors)
    assert got.criteria["name"].tolist() == sample.criteria["name"].tolist()
