"""Reading tenders from CSV folders and workbooks, and every kind of malformed tender.

Each malformed case must raise ValidationError whose problems locate the cell: source file or
sheet, row as the user sees it (header = row 1), column and offending value.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sourcing import ValidationError, read_tender
from sourcing.io import atomic_path, neutralise, write_tables, write_template, write_tender


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
    from sourcing.io import Sheet

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
