"""Tender views: decision matrix, evaluated price, gates, weights, equality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sourcing import Tender, ValidationError
from sourcing.tender import parse_gate


def test_decision_matrix_aggregates_evaluators_by_mean(tender):
    m = tender.decision_matrix()
    assert list(m.index) == tender.vendor_ids and list(m.columns) == tender.criterion_ids
    s = tender.scores
    cell = s[(s.vendor_id == "V02") & (s.criterion_id == "C01")]["value"]
    assert len(cell) == 3
    assert m.at["V02", "C01"] == pytest.approx(cell.mean())
    med = tender.decision_matrix(aggregate="median")
    assert med.at["V02", "C01"] == pytest.approx(cell.median())
    geo = tender.decision_matrix(aggregate="geometric")
    assert geo.at["V02", "C01"] == pytest.approx(np.exp(np.log(cell).mean()))
    assert not m.isna().any().any()


def test_decision_matrix_takes_vendor_attributes_and_price(tender):
    m = tender.decision_matrix()
    assert m.at["V07", "C06"] == 28
    assert m.at["V06", "C09"] == 0 and m.at["V01", "C09"] == 1
    assert m["C16"].equals(tender.evaluated_price().rename("C16"))


def test_evaluated_price_prices_missing_lots_at_the_highest_bid(tender):
    """V04 bids only L2 and L3: L1, L4, L5 are priced at the highest bid for those lots."""
    prices = tender.price_matrix
    d = tender.demand
    expected = (prices.loc["V04", ["L2", "L3"]] * d[["L2", "L3"]]).sum() + sum(
        prices[lot].max() * d[lot] for lot in ["L1", "L4", "L5"])
    assert tender.evaluated_price()["V04"] == pytest.approx(expected)
    full = (prices.loc["V01"] * d).sum()
    assert tender.evaluated_price()["V01"] == pytest.approx(full)


def test_gates_and_weights(tender):
    gates = {g.criterion_id: g for g in tender.gates}
    assert set(gates) == {"C06", "C09"}
    m = tender.decision_matrix()
    assert list(m.index[~gates["C06"].passes(m["C06"])]) == ["V07"]
    assert list(m.index[~gates["C09"].passes(m["C09"])]) == ["V06"]
    assert tender.weights.sum() == pytest.approx(1.0)
    assert tender.weights["C16"] == pytest.approx(0.35)


@pytest.mark.parametrize(("text", "op", "value"), [
    (">= 40", ">=", 40.0), ("== yes", "==", 1.0), ("<2.5", "<", 2.5), ("!= no", "!=", 0.0),
])
def test_parse_gate(text, op, value):
    gate = parse_gate("C1", text)
    assert (gate.op, gate.threshold) == (op, value)


@pytest.mark.parametrize("text", ["at least 3", ">= ", "=> 3", ">= nan", "== maybe"])
def test_parse_gate_rejects(text):
    assert parse_gate("C1", text) is None


def test_gate_never_passes_nan():
    gate = parse_gate("C1", ">= 1")
    assert list(gate.passes([np.nan, 1, 0])) == [False, True, False]


def test_settings_defaults_and_views(tender):
    assert tender.currency == "EUR" and tender.contract_years == 5
    assert tender.discount_rate == pytest.approx(0.08)
    assert "8 vendors" in tender.summary()


def test_bad_settings_values(tender):
    kwargs = {n: getattr(tender, n) for n in ("vendors", "criteria", "scores", "lots", "bids")}
    with pytest.raises(ValidationError) as info:
        Tender.from_frames(**kwargs, settings={"contract_years": "five", "currency": "euro",
                                               "weighting": "vibes"})
    rules = " ".join(info.value.to_frame()["rule"])
    assert "whole number of years" in rules and "ISO 4217" in rules
    assert "weighting must be one of direct, ahp" in rules


def test_ahp_weighting_needs_judgments(tender):
    kwargs = {n: getattr(tender, n) for n in ("vendors", "criteria", "scores", "lots", "bids")}
    with pytest.raises(ValidationError, match="weighting=ahp needs judgments"):
        Tender.from_frames(**kwargs, settings={"weighting": "ahp"})


def test_mixed_fact_and_judgment_scores(tender):
    scores = pd.concat([tender.scores, pd.DataFrame(
        [{"vendor_id": "V01", "criterion_id": "C01", "evaluator": None, "value": 5.0}])],
        ignore_index=True)
    kwargs = {n: getattr(tender, n) for n in ("vendors", "criteria", "lots", "bids")}
    with pytest.raises(ValidationError, match="both with and without evaluator"):
        Tender.from_frames(**kwargs, scores=scores)


def test_rows_are_order_invariant(tender):
    """Shuffling the long tables changes nothing a later stage sees."""
    rng = np.random.default_rng(0)
    shuffled = Tender.from_frames(
        vendors=tender.vendors, criteria=tender.criteria, lots=tender.lots,
        scores=tender.scores.sample(frac=1, random_state=rng),
        bids=tender.bids.sample(frac=1, random_state=rng), tiers=tender.tiers, risk=tender.risk,
    )
    pd.testing.assert_frame_equal(shuffled.decision_matrix(), tender.decision_matrix())
    pd.testing.assert_frame_equal(shuffled.price_matrix, tender.price_matrix)


# ---------------------------------------------------------------------- a missing evaluator score
def test_missing_evaluator_score_is_a_located_error(tmp_path, sample_path):
    """Issue 10: one evaluator's score of one vendor x criterion missing used to pass, the mean
    resting on the other two evaluators.  It is an error at the cell's first row as the file
    numbers it (header = line 1)."""
    import shutil

    from sourcing import read_tender

    for f in sample_path.glob("*.csv"):
        shutil.copy(f, tmp_path / f.name)
    lines = (tmp_path / "scores.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [ln for ln in lines if not ln.startswith("V03,C05,security-officer,")]
    assert len(kept) == len(lines) - 1
    (tmp_path / "scores.csv").write_text("".join(kept), encoding="utf-8")
    first = next(n for n, ln in enumerate(kept, start=1) if ln.startswith("V03,C05,"))
    with pytest.raises(ValidationError) as info:
        read_tender(tmp_path)
    assert len(info.value.problems) == 1
    p = info.value.problems[0]
    assert (p.source, p.row, p.column, p.value) == ("scores.csv", first, "evaluator",
                                                    "security-officer")
    assert p.rule.startswith("evaluator security-officer scored criterion C05 for other vendors "
                             "but not for V03")


def test_missing_evaluator_score_in_a_workbook_names_the_excel_row(tmp_path):
    """Same rule on an .xlsx of the factory's USD tender; every missing evaluator is listed."""
    from tenders import tender_tables

    from sourcing import read_tender
    from sourcing.outputs import write_tables

    tables = tender_tables(n_evaluators=3)
    s = tables["scores"]
    gone = ((s["vendor_id"] == "B2") & (s["criterion_id"] == "Q3")
            & s["evaluator"].isin(["cmio", "procurement-lead"]))
    assert gone.sum() == 2
    tables["scores"] = s[~gone].reset_index(drop=True)
    book = write_tables(tables, tmp_path / "t.xlsx")
    with pytest.raises(ValidationError) as info:
        read_tender(book)
    found = info.value.to_frame()
    rest = tables["scores"]
    excel_row = int(np.flatnonzero((rest["vendor_id"] == "B2") & (rest["criterion_id"] == "Q3"))[0]) + 2
    assert list(found["value"]) == ["cmio", "procurement-lead"]
    assert set(found["row"]) == {excel_row} and set(found["column"]) == {"evaluator"}
    assert found["source"].str.endswith("[scores]").all()
    assert found["rule"].str.contains("for other vendors but not for B2").all()


def test_evaluator_who_scores_some_criteria_only_is_valid():
    """An evaluator may score a criterion for no vendor (a specialist judging only some
    criteria): only a criterion scored for some vendors but not others is incomplete."""
    from tenders import tender_tables

    tables = tender_tables(n_evaluators=3)
    s = tables["scores"]
    tables["scores"] = s[~((s["criterion_id"] == "Q1") & (s["evaluator"] == "procurement-lead"))]
    t = Tender.from_frames(**tables)
    q1 = t.scores[(t.scores["vendor_id"] == "B1") & (t.scores["criterion_id"] == "Q1")]["value"]
    assert len(q1) == 2 and t.decision_matrix().at["B1", "Q1"] == pytest.approx(q1.mean())


def test_vendor_without_any_score_of_a_criterion_is_reported_once():
    """No score at all for a vendor x criterion keeps its own message, not one per evaluator."""
    from tenders import tender_tables

    tables = tender_tables()
    s = tables["scores"]
    tables["scores"] = s[~((s["vendor_id"] == "B4") & (s["criterion_id"] == "Q2"))]
    with pytest.raises(ValidationError) as info:
        Tender.from_frames(**tables)
    assert [p.rule for p in info.value.problems] == ["vendor has no score for Q2"]


# ---------------------------------------------------------------------- ids (issue 11 item 8)
def _frames(tender) -> dict[str, pd.DataFrame]:
    return {n: getattr(tender, n).reset_index() if getattr(tender, n).index.name else
            getattr(tender, n).copy() for n in ("vendors", "criteria", "scores", "lots", "bids",
                                                 "tiers", "risk", "pairwise")}


_ID = {"vendors": "vendor_id", "criteria": "criterion_id", "lots": "lot_id", "risk": "vendor_id",
       "bids": "vendor_id", "scores": "criterion_id", "tiers": "lot_id", "pairwise": "item_a"}


@pytest.mark.parametrize("table", list(_ID))
@pytest.mark.parametrize("fault", ["duplicate row", "missing id column", "blank id"])
def test_bad_ids_are_validation_errors_naming_rows(tender, table, fault):
    """A criteria table with a duplicated criterion_id, or without its id column, raised pandas'
    InvalidIndexError; a blank criterion_id in scores crashed the error message itself."""
    frames = _frames(tender)
    f = frames[table]
    if fault == "duplicate row":
        f = pd.concat([f, f.iloc[[0]]], ignore_index=True)
    elif fault == "missing id column":
        f = f.drop(columns=[_ID[table]])
    else:
        f.loc[0, _ID[table]] = None
    frames[table] = f
    with pytest.raises(ValidationError) as info:
        Tender.from_frames(**frames, settings=dict(tender.settings))
    got = info.value.to_frame()
    mine = got[got["source"] == table]
    if fault == "duplicate row":
        assert (mine["row"] == 2).any() and mine["rule"].str.contains("duplicate|must be unique").any()
    elif fault == "missing id column":
        assert ((mine["row"] == 1) & (mine["column"] == _ID[table])
                & (mine["rule"] == "required column is missing")).any()
    else:
        assert ((mine["row"] == 2) & (mine["column"] == _ID[table])
                & (mine["rule"] == "required value is blank")).any()
    assert got["value"].map(type).eq(str).all()


def test_implausible_growth_is_read_with_a_located_warning(tmp_path):
    """demand_growth_pct = 250 is valid (a percent per year up to 1,000) but rarely meant: it is
    read as given and a warning names the file, row, column and the plausible range."""
    import shutil
    import warnings
    from pathlib import Path

    from sourcing import read_tender

    folder = tmp_path / "t"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "sample-smallco", folder)
    lots = (folder / "lots.csv").read_text(encoding="utf-8").splitlines()
    head = lots[0].split(",")
    col = head.index("demand_growth_pct")
    cells = lots[2].split(",")
    cells[col] = "250"
    lots[2] = ",".join(cells)
    (folder / "lots.csv").write_text("\n".join(lots) + "\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tender = read_tender(folder)
    text = [str(w.message) for w in caught if "plausible" in str(w.message)]
    assert len(text) == 1 and "lots.csv row 3, demand_growth_pct: 250" in text[0]
    assert tender.lots["demand_growth_pct"].iloc[1] == 250
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_tender(Path(__file__).resolve().parents[1] / "data" / "sample-smallco")
    assert not [w for w in caught if "plausible" in str(w.message)]


# --- look-alike numbers and ids (issue 24) ------------------------------------------------------

def _edit_cell(folder, table, row, column, value):
    import csv

    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[row][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


@pytest.mark.parametrize("table, column, value, words", [
    ("bids", "capacity", "１２０００", "fullwidth digit one"),
    ("bids", "unit_price", "١٢٣", "arabic-indic digit one"),
    ("bids", "unit_price", "1_0", "an underscore inside a number"),
    ("lots", "annual_demand", "12,000", "a comma inside a number"),
    ("settings", "value", "１０", "fullwidth digit one"),
])
def test_look_alike_numbers_are_located_errors_naming_the_character(tmp_path, table, column, value,
                                                                    words):
    """Fullwidth or Arabic-Indic digits read as NaN (a capacity became "no limit" and validate
    passed) and float() took 1_0 for 10: every number cell, setting and gate goes through one
    parser, and the error names the character."""
    import shutil
    from pathlib import Path

    from sourcing import ValidationError, read_tender

    folder = tmp_path / "t"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "sample-tender", folder)
    if table == "settings":
        import csv
        with (folder / "settings.csv").open(encoding="utf-8") as fh:
            keys = [r[0] for r in csv.reader(fh)]
        row = keys.index("contract_years")
    else:
        row = 2
    _edit_cell(folder, table, row, column, value)
    with pytest.raises(ValidationError) as info:
        read_tender(folder)
    problems = [p for p in info.value.problems if p.value == value]
    assert problems and problems[0].row == row + 1, info.value
    assert words in problems[0].rule.lower()


def test_a_gate_with_a_look_alike_number_says_why(tmp_path):
    import shutil
    from pathlib import Path

    from sourcing import ValidationError, read_tender

    folder = tmp_path / "t"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "sample-tender", folder)
    _edit_cell(folder, "criteria", 6, "gate", ">= ４0")
    with pytest.raises(ValidationError) as info:
        read_tender(folder)
    assert any(p.column == "gate" and "fullwidth digit four" in p.rule for p in info.value.problems)


def test_ids_in_nfd_and_nfc_are_one_id_and_look_alikes_say_why(tmp_path):
    """'Café' typed as e + combining accent in bids and as é in vendors was an 'unknown vendor'
    listing 'Café' among the known ones; ids are read in NFC. Ids that still differ (case, a
    Cyrillic letter) are named with the reason."""
    import shutil
    import unicodedata
    from pathlib import Path

    from sourcing import ValidationError, read_tender

    folder = tmp_path / "t"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "sample-smallco", folder)
    for table in ("vendors", "bids", "scores", "risk", "bundles"):  # S1 appears in a row of each
        text = (folder / f"{table}.csv").read_text(encoding="utf-8")
        form = "NFC" if table == "vendors" else "NFD"
        (folder / f"{table}.csv").write_text(
            text.replace("S1,", unicodedata.normalize(form, "Café,")), encoding="utf-8")
    tender = read_tender(folder)
    assert "Café" in tender.vendors.index and len(tender.bids[tender.bids.vendor_id == "Café"])
    for wrong, why in (("CAFÉ", "only in upper/lower case"), ("Cаfé", "characters differ: U+0430")):
        text = (folder / "bids.csv").read_text(encoding="utf-8")
        bad = folder.parent / f"bad-{len(why)}"
        shutil.copytree(folder, bad)
        (bad / "bids.csv").write_text(text.replace(unicodedata.normalize("NFD", "Café,"), wrong + ",", 1),
                                      encoding="utf-8")
        with pytest.raises(ValidationError) as info:
            read_tender(bad)
        assert any(why in p.rule for p in info.value.problems), str(info.value)


def test_with_cells_sets_only_the_cells_named_and_validates_again(tender):
    new = tender.with_cells({"risk": {"V03": {"failure_prob": 0.2}},
                             "bids": {"V01": {"L2": {"unit_price": 1500.0}}},
                             "lots": {"L1": {"annual_demand": 1000}}})
    assert new.risk.at["V03", "failure_prob"] == 0.2 and tender.risk.at["V03", "failure_prob"] != 0.2
    bid = (new.bids.vendor_id == "V01") & (new.bids.lot_id == "L2")
    assert new.bids.loc[bid, "unit_price"].item() == 1500.0
    assert new.lots.at["L1", "annual_demand"] == 1000.0
    # everything else as it was, in the same types; the original tender is unchanged
    for name in ("vendors", "criteria", "scores", "tiers", "pairwise"):
        assert getattr(new, name).equals(getattr(tender, name))
    for name in ("risk", "bids", "lots"):
        assert getattr(new, name).dtypes.equals(getattr(tender, name).dtypes)
    assert new.cell("bids", ("V01", "L2"), "unit_price") == 1500.0
    assert tender.with_cells({}) is tender
    same = tender.with_cells({"risk": {"V03": {"failure_prob": tender.cell("risk", "V03", "failure_prob")}}})
    assert same.equals(tender)


@pytest.mark.parametrize("cells, message", [
    ({"scores": {}}, "no tender cells in table 'scores'; valid: vendors, criteria, lots, risk, bids"),
    ({"risk": {"V99": {"failure_prob": 0.1}}}, "no row 'V99' in risk; valid: V01, V02"),
    ({"risk": {"V01": {"risk_appetite": 1}}}, "no column 'risk_appetite' to set; valid: failure_prob"),
    ({"risk": {"V01": {"vendor_id": "V09"}}}, "no column 'vendor_id' to set"),
    ({"bids": {"V01": {"L9": {"unit_price": 1.0}}}}, "no bid of V01 for lot L9; bids: V01.L1"),
    ({"bids": {"V01": 3}}, "bids.V01: a mapping of lot ids"),
])
def test_with_cells_names_what_is_wrong_and_lists_the_valid(tender, cells, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        tender.with_cells(cells)


def test_with_cells_refuses_a_value_the_column_refuses(tender):
    with pytest.raises(ValidationError, match="failure_prob"):
        tender.with_cells({"risk": {"V01": {"failure_prob": 3.0}}})
