"""The tender's ``rules`` table (issue #22): scoped rules typed into the template or a CSV."""

from __future__ import annotations

import pandas as pd
import pytest
from tenders import make_scenario, scoped_rule_tables

from sourcing import read_tender
from sourcing.allocation import Policy, allocate, constraint_costs
from sourcing.allocation.scoped import BOUNDS, MEASURES, OPERATORS, ScopedRule, tender_rules
from sourcing.cache import StageCache
from sourcing.outputs import write_tables, write_template
from sourcing.pipeline import policy_of, run_stages
from sourcing.scenario import Scenario
from sourcing.schemas import TABLES, ValidationError

CURRENCY = "CHF"
KEEP = "incumbent keeps at least 30 % of the service desk"
SOC2 = "security operations only to SOC 2 holders"
#: the two issue examples as rows of the rules table ...
ROWS = pd.DataFrame([
    {"rule_id": "R1", "name": KEEP, "towers": "service_desk", "vendor_column": "incumbent",
     "vendor_op": "==", "vendor_value": "yes", "measure": "demand_share", "bound": "at_least",
     "value": "30"},
    {"rule_id": "R2", "name": SOC2, "towers": "security", "vendor_column": "certifications",
     "vendor_op": "contains", "vendor_value": "SOC 2", "measure": "only"},
])
#: ... and as the scenario writes them
SCENARIO_RULES = [
    {"name": KEEP, "lots": {"tower": ["service_desk"]}, "vendors": {"incumbent": True},
     "measure": "demand_share", "bound": "at_least", "value": 30},
    {"name": SOC2, "lots": {"tower": ["security"]}, "vendors": {"certifications": "SOC 2"},
     "measure": "only"},
]


def _tables(rules: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """A CHF tender: B1 the dear incumbent of HELP (SOC 2); unconstrained HELP goes to B3 and SEC
    to B2 (no SOC 2), so both example rules bind."""
    t = scoped_rule_tables(currency=CURRENCY)
    if rules is not None:
        t["rules"] = rules
    return t


@pytest.fixture(scope="module")
def with_table(tmp_path_factory):
    return write_tables(_tables(ROWS), tmp_path_factory.mktemp("rules") / "tender")


@pytest.fixture(scope="module")
def without_table(tmp_path_factory):
    return write_tables(_tables(), tmp_path_factory.mktemp("plain") / "tender")


def test_the_rules_words_are_those_of_scoped_rules():
    spec = TABLES["rules"]
    assert spec.column("measure").choices == MEASURES
    assert spec.column("bound").choices == BOUNDS
    assert spec.column("vendor_op").choices == OPERATORS
    assert not spec.required and spec.min_rows == 0 and spec.key == ("rule_id",)


def test_rules_table_reads_into_scoped_rules(with_table, without_table):
    tender = read_tender(with_table)
    assert tender.currency == CURRENCY
    assert list(tender.rules.index) == ["R1", "R2"] and tender.rules.index.name == "rule_id"
    assert tender_rules(tender) == tuple(ScopedRule(**r) for r in SCENARIO_RULES)
    plain = read_tender(without_table)
    assert plain.rules.empty and tender_rules(plain) == ()


def test_tender_rules_give_the_award_of_the_same_rules_in_the_scenario(tmp_path, with_table,
                                                                      without_table):
    table = make_scenario(tmp_path, with_table, filename="table.yaml")
    scen = make_scenario(tmp_path, without_table, filename="scenario.yaml",
                         allocation={"policy": {"rules": SCENARIO_RULES}})
    got, _ = run_stages(table, ["award", "rule_costs"], cache=StageCache())
    want, _ = run_stages(scen, ["award", "rule_costs"], cache=StageCache())
    a, b = got["award"], want["award"]
    assert a.feasible and b.feasible
    pd.testing.assert_frame_equal(a.volumes, b.volumes)
    assert a.cost["total"] == pytest.approx(b.cost["total"], rel=1e-9)
    # both rules bind: the incumbent keeps 30 % of HELP, SEC leaves B2 (no SOC 2)
    assert a.volumes.loc["B1", "HELP"] == pytest.approx(0.3 * 90_000, rel=1e-6)
    assert a.volumes.loc["B2", "SEC"] == pytest.approx(0.0, abs=1e-6)
    # each tender rule is priced by its name in the rule-cost table
    cc = got["rule_costs"]
    assert {KEEP, SOC2} <= set(cc.index)
    assert (cc.loc[[KEEP, SOC2], "cost_of_rule"] > 0).all()
    pd.testing.assert_frame_equal(cc, want["rule_costs"])


def test_a_rule_without_name_gets_its_id_and_words_and_is_priced(tmp_path):
    rows = ROWS.drop(columns="name").iloc[[0]]
    tender = read_tender(write_tables(_tables(rows), tmp_path / "t"))
    (rule,) = tender_rules(tender)
    assert rule.name.startswith("R1: ") and "the incumbent" in rule.name
    policy = policy_of(Scenario.load(make_scenario(tmp_path, tmp_path / "t")), tender)
    cc = constraint_costs(tender, policy, mip_gap=0)
    assert rule.name in cc.index


def test_a_scenario_rule_named_like_a_tender_rule_is_refused(tmp_path, with_table):
    path = make_scenario(tmp_path, with_table, allocation={"policy": {"rules": SCENARIO_RULES[:1]}})
    scenario, tender = Scenario.load(path), read_tender(with_table)
    with pytest.raises(ValueError, match="both in the scenario .* and in the tender's rules table"):
        policy_of(scenario, tender)
    # the scenario's own rules come first, the tender's after
    other = Policy(rules=(ScopedRule(name="L1 and L2 together", lots=["HELP", "EHR"],
                                     measure="same_vendor"),))
    from sourcing.allocation.scoped import with_tender_rules
    assert [r.label for r in with_tender_rules(other, tender).rules] == ["L1 and L2 together", KEEP,
                                                                         SOC2]
    assert allocate(tender, with_tender_rules(other, tender), mip_gap=0).feasible


@pytest.mark.parametrize("cell, column, listed", [
    ({"lots": "HELP;NOPE"}, "lots", "known: HELP, EHR, HOST, SEC, EUC"),
    ({"towers": "servicedesk"}, "towers", "known: "),
    ({"vendors": "B9"}, "vendors", "known: B1, B2, B3, B4"),
    ({"vendor_column": "region"}, "vendor_column", "valid: "),
    ({"measure": "share"}, "measure", "one of demand_share, spend_share, vendors, lots, same_vendor, only"),
    ({"bound": ""}, "bound", "at_least, at_most, equal"),
    ({"per": "region"}, "per", "valid: all"),
    ({"vendor_op": "~"}, "vendor_op", ">=, >, <=, <, ==, !=, in, contains, lacks"),
    ({"measure": "only"}, "value", "takes no bound or value"),
    ({"vendor_column": "offshore_share_pct", "vendor_op": ">=", "vendor_value": "half"}, "vendor_value",
     "needs a number"),
])
def test_a_bad_rules_row_is_located_with_the_valid_values(tmp_path, cell, column, listed):
    rows = ROWS.copy().astype(object)
    for k, v in cell.items():
        rows.loc[0, k] = v
        if k == "lots":
            rows.loc[0, "towers"] = ""
        if k == "measure" and v == "only":
            rows.loc[0, "bound"] = ""
        if k == "vendors":
            rows.loc[0, ["vendor_column", "vendor_op", "vendor_value"]] = ""
    folder = write_tables(_tables(rows), tmp_path / "t")
    with pytest.raises(ValidationError) as err:
        read_tender(folder)
    found = [p for p in err.value.problems if p.source == "rules.csv"]
    assert [(p.row, p.column) for p in found] == [(2, column)], err.value
    assert listed in found[0].rule


def test_template_has_the_rules_sheet_with_drop_downs(tmp_path):
    import openpyxl

    path = write_template(tmp_path / "template.xlsx")
    ws = openpyxl.load_workbook(path)["rules"]
    headers = [c.value for c in ws[1]]
    assert headers == list(TABLES["rules"].column_names)
    lists = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            for rng in dv.sqref.ranges:
                lists[headers[rng.min_col - 1]] = (dv.formula1.strip('"').split(","), dv.showErrorMessage)
    assert lists["measure"] == (list(MEASURES), True)
    assert lists["bound"] == (list(BOUNDS), True)
    assert lists["vendor_op"] == (list(OPERATORS), True)
    assert lists["per"][0][:3] == ["all", "lot", "vendor"] and not lists["per"][1]  # any column
    assert "What the rule measures" in ws.cell(row=1, column=headers.index("measure") + 1).comment.text


def test_a_workbook_tender_with_a_rules_sheet_reads(tmp_path, with_table):
    from sourcing.outputs import write_tender

    tender = read_tender(with_table)
    book = write_tender(tender, tmp_path / "tender.xlsx")
    again = read_tender(book)
    assert again == tender
    assert tender_rules(again) == tender_rules(tender)
    # a bad cell in the sheet is located by sheet, row and column
    import openpyxl

    wb = openpyxl.load_workbook(book)
    ws = wb["rules"]
    col = [c.value for c in ws[1]].index("towers") + 1
    ws.cell(row=3, column=col, value="securty")
    wb.save(book)
    with pytest.raises(ValidationError) as err:
        read_tender(book)
    (p,) = err.value.problems
    assert (p.source, p.row, p.column, p.value) == ("tender.xlsx[rules]", 3, "towers", "securty")


def test_check_scenario_locates_a_clash_with_the_tender_rules(tmp_path, with_table):
    from sourcing.pipeline import check_scenario

    path = make_scenario(tmp_path, with_table, allocation={"policy": {"rules": SCENARIO_RULES[1:]}})
    with pytest.raises(ValidationError) as err:
        check_scenario(Scenario.load(path), read_tender(with_table))
    (p,) = err.value.problems
    assert p.column == "allocation.policy.rules" and SOC2 in p.rule


def test_the_rules_csv_obeys_the_readers_bounds(tmp_path, monkeypatch):
    import sourcing.io as sio

    rows = pd.concat([ROWS.iloc[[0]].assign(rule_id=f"R{i}", name=f"rule {i}") for i in range(12)])
    folder = write_tables(_tables(rows), tmp_path / "t")
    monkeypatch.setattr(sio, "MAX_TABLE_ROWS", 10)
    with pytest.raises(ValidationError) as err:
        read_tender(folder)
    found = [p for p in err.value.problems if p.source == "rules.csv"]
    assert len(found) == 1 and found[0].rule.startswith("too many rows")
    monkeypatch.setattr(sio, "MAX_TABLE_ROWS", 10**6)
    monkeypatch.setattr(sio, "MAX_CSV_BYTES", (folder / "rules.csv").stat().st_size - 1)
    with pytest.raises(ValidationError) as err:
        read_tender(folder)
    assert any(p.source == "rules.csv" and p.rule.startswith("file too large")
               for p in err.value.problems)


def test_a_duplicate_rule_name_in_the_table_is_located(tmp_path):
    rows = ROWS.assign(name=KEEP)
    with pytest.raises(ValidationError) as err:
        read_tender(write_tables(_tables(rows), tmp_path / "t"))
    (p,) = err.value.problems
    assert (p.source, p.row, p.column) == ("rules.csv", 3, "name") and "row 2" in p.rule


def test_an_option_breaking_a_tender_rule_is_named_by_the_check(tmp_path, with_table):
    """The decide stage's check (resolve_policy of the combined policy) sees the tender's rules."""
    import types

    from sourcing.allocation.scoped import resolve_policy
    from sourcing.decision import policy_breaches

    tender = read_tender(with_table)
    scenario = Scenario.load(make_scenario(tmp_path, with_table))
    policy = resolve_policy(policy_of(scenario, tender), tender)
    lines = pd.DataFrame({"lot_id": ["SEC", "HELP"], "provider": ["B2", "B1"],
                          "lot_share": [1.0, 1.0], "units": [14_000.0, 90_000.0],
                          "unit_price": [38.0, 24.0]})
    said = policy_breaches(types.SimpleNamespace(lines=lines), policy)
    assert said == [f"\u201c{SOC2}\u201d is broken: other vendors hold 100% of the demand"]


def test_the_award_page_words_name_the_tender_rules(tmp_path, with_table):
    from sourcing.narrative import policy_story

    got, _ = run_stages(make_scenario(tmp_path, with_table), ["award"], cache=StageCache())
    award = got["award"]
    assert [r.label for r in award.policy.rules] == [KEEP, SOC2]
    text = " ".join(policy_story(award.policy, currency=CURRENCY))
    assert KEEP.lower() in text.lower() and SOC2.lower() in text.lower()  # a sentence each


def test_a_tender_with_cells_keeps_its_rules(with_table):
    tender = read_tender(with_table)
    changed = tender.with_cells({"lots": {"HELP": {"annual_demand": 80_000}}})
    pd.testing.assert_frame_equal(changed.rules, tender.rules)
    assert tender_rules(changed) == tender_rules(tender)
