"""The tender's ``bundles`` and ``discounts`` tables (issue #22): typed into the template or a CSV,
checked with located errors, read into the award."""

from __future__ import annotations

import pandas as pd
import pytest
from tenders import tender_tables

from sourcing import read_tender
from sourcing.allocation import Policy, allocate
from sourcing.outputs import write_tables, write_template, write_tender
from sourcing.schemas import BUNDLE_SPLITS, DISCOUNT_CONDITIONS, TABLES, ValidationError

#: B3 offers HELP and HOST together below its two lot bids; B2 takes 4 % off from two lots
BUNDLES = pd.DataFrame([
    {"bundle_id": "P1", "vendor_id": "B3", "lot_id": "HELP", "share_pct": 100, "price": 1_500_000,
     "split": "all_or_nothing"},
    {"bundle_id": "P1", "vendor_id": "B3", "lot_id": "HOST", "share_pct": 100},
])
DISCOUNTS = pd.DataFrame([
    {"discount_id": "D1", "vendor_id": "B2", "condition": "lots_at_least", "threshold": 2,
     "discount_pct": 4, "lots": "HELP;EHR"},
])


def _tables(bundles=BUNDLES, discounts=DISCOUNTS) -> dict[str, pd.DataFrame]:
    t = tender_tables(currency="NOK", n_vendors=4, n_lots=3, seed=5)
    if bundles is not None:
        t["bundles"] = bundles
    if discounts is not None:
        t["discounts"] = discounts
    return t


def test_the_tables_read_and_the_award_uses_them(tmp_path):
    tender = read_tender(write_tables(_tables(), tmp_path / "t"))
    assert list(tender.bundles["bundle_id"]) == ["P1", "P1"]
    assert list(tender.discounts.index) == ["D1"]
    plain = read_tender(write_tables(_tables(None, None), tmp_path / "p"))
    award = allocate(tender, Policy())
    alone = allocate(plain, Policy())
    assert award.lot_by_lot_cost == pytest.approx(alone.cost["total"])
    assert award.cost["total"] <= alone.cost["total"] + 1e-6
    assert not award.bundles.empty or not award.discounts.empty


def test_write_tender_keeps_both_tables(tmp_path):
    tender = read_tender(write_tables(_tables(), tmp_path / "t"))
    for target in (tmp_path / "again", tmp_path / "again.xlsx"):
        back = read_tender(write_tender(tender, target))
        assert back.equals(tender)


@pytest.mark.parametrize("table, row, cell, column, words", [
    ("bundles", 0, {"volume": 10}, "volume", "not both"),
    ("bundles", 1, {"share_pct": None}, "volume", "give the lot's volume or its share_pct"),
    ("bundles", 1, {"vendor_id": "B2"}, "vendor_id", "one vendor per bundle"),
    ("bundles", 0, {"price": None}, "price", "no package price"),
    ("bundles", 1, {"price": 7}, "price", "give it once or the same on every row"),
    ("bundles", 1, {"lot_id": "HOTS"}, "lot_id", "unknown lot"),
    ("bundles", 0, {"split": "half"}, "split", "all_or_nothing, proportional"),
    ("bundles", 0, {"share_pct": None, "volume": 1e9}, "volume", "more than lot HELP's annual demand"),
    ("discounts", 0, {"lots": "HELP;EHX"}, "lots", "unknown lot"),
    ("discounts", 0, {"threshold": 1.5}, "threshold", "whole number"),
    ("discounts", 0, {"threshold": 3}, "threshold", "could never apply"),
    ("discounts", 0, {"vendor_id": "B9"}, "vendor_id", "unknown vendor"),
    ("discounts", 0, {"condition": "lots"}, "condition", "lots_at_least, spend_at_least"),
    ("discounts", 0, {"discount_pct": 120}, "discount_pct", "<= 100"),
])
def test_a_bad_row_is_located_with_what_is_valid(tmp_path, table, row, cell, column, words):
    bundles, discounts = BUNDLES.copy().astype(object), DISCOUNTS.copy().astype(object)
    frame = bundles if table == "bundles" else discounts
    for k, v in cell.items():
        frame.loc[row, k] = v
    folder = write_tables(_tables(bundles, discounts), tmp_path / "t")
    with pytest.raises(ValidationError) as err:
        read_tender(folder)
    found = [p for p in err.value.problems if p.source == f"{table}.csv"]
    assert [(p.row, p.column) for p in found] == [(row + 2, column)], err.value
    assert words in found[0].rule


def test_a_discount_of_a_vendor_bidding_none_of_its_lots_is_refused(tmp_path):
    discounts = DISCOUNTS.assign(vendor_id="B2", lots="HOST")  # B2 bids HELP and EHR only
    with pytest.raises(ValidationError) as err:
        read_tender(write_tables(_tables(discounts=discounts), tmp_path / "t"))
    assert "could never apply" in str(err.value)


def test_template_has_both_sheets_with_drop_downs(tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(write_template(tmp_path / "template.xlsx"))
    for name, column, choices in (("bundles", "split", BUNDLE_SPLITS),
                                  ("discounts", "condition", DISCOUNT_CONDITIONS)):
        ws = wb[name]
        headers = [c.value for c in ws[1]]
        assert headers == list(TABLES[name].column_names)
        lists = {headers[r.min_col - 1]: dv.formula1.strip('"').split(",")
                 for dv in ws.data_validations.dataValidation if dv.type == "list" for r in dv.sqref.ranges}
        assert lists[column] == list(choices)
        assert ws.cell(row=1, column=headers.index(column) + 1).comment.text.startswith(
            TABLES[name].column(column).doc[:20])


def test_the_award_words_name_the_packages_the_discounts_and_the_saving(tmp_path):
    from sourcing import narrative
    from sourcing import present as fmt

    discounts = DISCOUNTS.assign(vendor_id="B3", threshold=1, discount_pct=10, lots="")
    tender = read_tender(write_tables(_tables(discounts=discounts), tmp_path / "t"))
    award = allocate(tender, Policy())
    names = fmt.Names.of(tender)
    words = " ".join(narrative.award_story(award, names=names))
    b3, lots = names("B3"), fmt.listing([names("HELP"), names("HOST")])
    assert f"{b3}' package bid for {lots} is taken at {fmt.money(1_500_000, 'NOK')} a year." in words
    amount = award.discounts.set_index("discount_id").at["D1", "amount"]
    assert f"{b3}' 10% discount for winning at least one lot applies: {fmt.money(amount, 'NOK')}" in words
    saved = award.lot_by_lot_cost - award.cost["total"]
    assert saved > 0 and f"save {fmt.money(saved, 'NOK')} a year" in words
    assert "NaN" not in words and "None" not in words and "B3" not in words


def test_a_discount_cell_can_be_set_for_one_run(tmp_path):
    tender = read_tender(write_tables(_tables(bundles=None), tmp_path / "t"))
    assert allocate(tender, Policy()).discounts.empty
    richer = tender.with_cells({"discounts": {"D1": {"discount_pct": 40}}})
    assert richer.cell("discounts", "D1", "discount_pct") == 40
    assert tender.discounts.at["D1", "discount_pct"] == 4  # the tender itself is unchanged
    award = allocate(richer, Policy())
    assert list(award.discounts["discount_id"]) == ["D1"]  # at 40 % off, B2 wins HELP and EHR
    with pytest.raises(ValueError, match="valid: vendor_id, condition, threshold, discount_pct, lots"):
        tender.with_cells({"discounts": {"D1": {"percent": 5}}})


def test_the_single_vendor_option_is_priced_with_its_package_as_the_award_is(smallco):
    """One cost model: the simulation's single-vendor option pays Quayside's package price for the
    three lots (the award takes the package), not the sum of its lot bids."""
    from sourcing.simulation.options import single_vendor

    option = single_vendor(smallco, "S1")
    fees = float((option.lines["units"] * option.lines["unit_price"]).sum())
    package = float(smallco.bundles["price"].dropna().iloc[0])
    assert fees == pytest.approx(package)
    award = allocate(smallco, Policy(max_vendors_total=1))
    assert award.spend.loc["S1"].sum() == pytest.approx(fees)
    own = smallco.bids.query("vendor_id == 'S1'")
    lot_bids = float((own["unit_price"] * own["lot_id"].map(smallco.lots["annual_demand"])).sum())
    assert fees < lot_bids
