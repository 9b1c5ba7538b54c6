"""Cell parsing and the ValidationError table."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sourcing.schemas import TABLES, Problem, ValidationError, parse_table


def parse(table, /, **cols):
    raw = pd.DataFrame(cols, dtype=object)
    return parse_table(raw, TABLES[table], source=f"{table}.csv", rows=range(2, len(raw) + 2))


@pytest.mark.parametrize("text", ["120 000 €", "1.234,56", "1_000", "nan", "inf", "12%", "1e", "--1"])
def test_text_in_number_cells_is_never_nan(text):
    frame, problems = parse("lots", lot_id=["L1"], name=["x"], unit=["u"], annual_demand=[text])
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "annual_demand", text)]


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False))
def test_plain_numbers_parse_exactly(x):
    frame, problems = parse("lots", lot_id=["L1"], name=["x"], unit=["u"], annual_demand=[repr(x)])
    assert problems == [] and frame["annual_demand"].iat[0] == x


def test_native_workbook_numbers_and_booleans():
    frame, problems = parse("vendors", vendor_id=["V1", "V2"], name=["a", "b"],
                            incumbent=[True, "No"], employees=[12, 3.0])
    assert problems == []
    assert list(frame["incumbent"]) == [True, False]
    assert list(frame["employees"]) == [12.0, 3.0]


def test_integer_column_rejects_fractions():
    _, problems = parse("vendors", vendor_id=["V1"], name=["a"], employees=["12.5"])
    assert problems[0].column == "employees" and "whole number" in problems[0].rule


def test_headers_are_normalised_and_duplicates_flagged():
    _, problems = parse("lots", **{"Lot ID": ["L1"], "Name": ["x"], "unit": ["u"],
                                   "Annual-Demand": ["5"]})
    assert problems == []
    raw = pd.DataFrame([["L1", "x", "u", "5", "6"]],
                       columns=["lot_id", "name", "unit", "annual_demand", "annual_demand"])
    _, problems = parse_table(raw, TABLES["lots"], source="lots.csv", rows=[2])
    assert any(p.rule == "duplicate column header" for p in problems)


def test_error_message_is_a_table():
    err = ValidationError([Problem("bids.csv", 7, "unit_price", "abc", "must be a number")])
    text = str(err)
    assert isinstance(err, ValueError)
    assert "1 problem" in text and "bids.csv" in text and "7" in text and "abc" in text
    assert list(err.to_frame().columns) == ["source", "row", "column", "value", "rule"]


def test_every_column_is_documented():
    for table in TABLES.values():
        assert table.doc
        for col in table.columns:
            assert col.doc, f"{table.name}.{col.name} has no doc"
            if col.choices:
                assert col.default is None or col.default in col.choices


def test_data_readme_holds_the_current_dictionary():
    """data/README.md documents exactly the columns the code validates."""
    from pathlib import Path

    from sourcing.schemas import data_dictionary

    text = (Path(__file__).resolve().parents[1] / "data" / "README.md").read_text(encoding="utf-8")
    start = text.index("-->\n", text.index("data-dictionary:start")) + 4
    end = text.index("<!-- data-dictionary:end")
    assert text[start:end] == data_dictionary()


@pytest.mark.parametrize("cell", ["1e308", "-2e15", 1e300])
def test_numbers_beyond_the_magnitude_cap_are_errors(cell):
    frame, problems = parse("lots", lot_id=["L1"], name=["x"], unit=["u"], annual_demand=[cell])
    assert [(p.row, p.column) for p in problems] == [(2, "annual_demand")]
    assert "at most 1e+15 in absolute value" in problems[0].rule
    assert frame["annual_demand"].isna().all()


def test_native_infinity_from_a_workbook_is_an_error_not_a_number():
    frame, problems = parse("lots", lot_id=["L1"], name=["x"], unit=["u"], annual_demand=[float("inf")])
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "annual_demand", "inf")]
    assert frame["annual_demand"].isna().all()


def test_numpy_numbers_in_a_text_column_read_as_their_value():
    # a DataFrame built in a notebook can hold numpy scalars among text: np.float64's repr is
    # 'np.float64(0.03)', which must not turn the cell into a blank
    import numpy as np
    import pandas as pd

    from sourcing.schemas import _as_text

    cells = pd.Series([np.float64(0.03), np.int64(3), np.float32(0.5), 2.0, "7"], dtype=object)
    assert list(_as_text(cells)) == ["0.03", "3", "0.5", "2", "7"]
