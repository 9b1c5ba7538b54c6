"""The board report on tenders it was not built on, read as a board member would.

Renders the board summary and the evaluation page for the second shipped sample (GBP) and for
a made-up tender (a US hospital group in USD: four bidders, three lots, two evaluators, no risk
table, no performance data), and checks every rendered page, the index and the results workbook
against the text rules of :func:`sourcing.present.text_problems`: the tender's currency only,
counts and names from the tender, no NaN, None, True/False, scientific notation, reprs or local
paths, nothing of another tender, and a page without its data skipped with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from tenders import make_scenario

from sourcing import read_tender
from sourcing.present import text_problems, visible_text
from sourcing.report import render

DATA = Path(__file__).resolve().parents[1] / "data"
PAGES = ["04_board_scenarios", "01_tender_evaluation", "05_vendor_performance"]


def _sample_phrases() -> list[str]:
    """Words that belong to the first sample only (its names, buyer and counts)."""
    t = read_tender(DATA / "sample-tender")
    return [t.name, str(t.settings["buyer"]), "Eight vendors", "five lots", "three evaluators",
            *t.vendors["name"]]


@pytest.fixture(scope="module", params=["usd-hospital", "smallco"])
def rendered(request, tmp_path_factory, usd_tender_path):
    out = tmp_path_factory.mktemp(request.param)
    if request.param == "usd-hospital":
        scenario = make_scenario(out / "in", usd_tender_path, name="US hospital group",
                                 scoring={"smaa_samples": 500},
                                 allocation={"policy": {"max_vendors_per_lot": 2,
                                                        "min_share_pct": 20}},
                                 simulation={"budget": 30_000_000})
        tender_path = usd_tender_path
    else:
        text = (DATA / "scenarios" / "smallco.yaml").read_text(encoding="utf-8")
        scenario = out / "in" / "smallco.yaml"
        scenario.parent.mkdir()
        scenario.write_text(text.replace("../sample-smallco", str(DATA / "sample-smallco"))
                            .replace("../sweeps/", f"{DATA / 'sweeps'}/")
                            .replace("n: 10000", "n: 2000"), encoding="utf-8")
        tender_path = DATA / "sample-smallco"
    index = render(scenario, out=out / "report", only=PAGES)
    return read_tender(tender_path), index.parent


def test_every_page_follows_the_text_rules(rendered):
    tender, report = rendered
    forbidden = _sample_phrases()
    for page in ["index.html", *(f"{p}.html" for p in PAGES[:2])]:
        text = visible_text((report / page).read_text(encoding="utf-8"))
        assert text_problems(text, currency=tender.currency, forbidden=forbidden) == [], page
        assert f"{tender.currency} " in text, page


def test_counts_and_names_come_from_the_tender(rendered):
    tender, report = rendered
    text = visible_text((report / "04_board_scenarios.html").read_text(encoding="utf-8"))
    words = {3: "Three", 4: "Four"}
    assert f"{words[len(tender.vendors)]} vendors bid for" in text
    lots = {3: "three lots"}[len(tender.lots)]
    assert lots in text
    assert any(name in text for name in tender.vendors["name"])


def test_one_recommendation_everywhere(rendered):
    tender, report = rendered
    summary = json.loads((report / "artefacts" / "summary.json").read_text(encoding="utf-8"))
    rec = summary["headline"]["recommended_option"]
    board = visible_text((report / "04_board_scenarios.html").read_text(encoding="utf-8"))
    index = visible_text((report / "index.html").read_text(encoding="utf-8"))
    assert summary["recommendation"] in board and summary["recommendation"] in index
    assert board.count("Recommended:") == 1
    # the board page and the index say the same about how far the key inputs may move
    lines = [f for f in summary["findings"] if " stays recommended " in f]
    assert len(lines) == 4 and all(f in board and f in index for f in lines)
    # one award section: the award the recommendation signs, or the least-cost one named as such
    headings = [board.count("The recommended award"), board.count("The least-cost award under the policy")]
    assert sorted(headings) == [0, 1]
    book = openpyxl.load_workbook(report / "artefacts" / "results.xlsx", read_only=True)
    assert book.sheetnames[0] == "headline"
    head = {r[0]: r[1] for r in book["headline"].iter_rows(min_row=2, values_only=True)}
    assert head["Recommended option"] == rec
    decision = [r for r in book["decision"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in decision if r[1] == "recommended"] == [rec]


def test_workbook_follows_the_text_rules(rendered):
    tender, report = rendered
    book = openpyxl.load_workbook(report / "artefacts" / "results.xlsx", read_only=True)
    cells = " ".join(str(v) for ws in book for row in ws.iter_rows(values_only=True)
                     for v in row if isinstance(v, str))
    assert text_problems(cells, currency=tender.currency, forbidden=_sample_phrases()) == []
    money_heads = [c for c in next(book["simulation_summary"].iter_rows(values_only=True)) if c]
    assert f"p50 ({tender.currency})" in money_heads
    # a tender with package bids lists the ones the award takes, by name (smallco: Quayside's)
    if len(tender.bundles):
        rows = list(book["packages_taken"].iter_rows(values_only=True))
        assert rows[1][:3] == ("Q-ALL", "S1", tender.vendors.at["S1", "name"])
        assert ", ".join(tender.lots["name"]) in rows[1]


def test_page_without_data_is_skipped_with_its_reason(rendered):
    _, report = rendered
    assert not (report / "05_vendor_performance.html").exists()
    index = visible_text((report / "index.html").read_text(encoding="utf-8"))
    assert "Incumbent SLA performance" in index and "names no performance data" in index


HOSTILE = ["<script>alert(7)</script>", "<img src=x onerror=alert(1)>",
           '=HYPERLINK("http://evil.example","x")', "$x^2$ Holdings & Co"]


def test_hostile_names_are_text_everywhere(tmp_path, tender_factory):
    """Vendor and scenario names are data: escaped on every page, text (never a formula) in
    the workbook and CSVs, and plain text in the plots (no TeX)."""
    path = tender_factory(names=HOSTILE)
    scenario = make_scenario(tmp_path / "in", path, name="<b>Board</b> view",
                             description="<i>draft</i> =1+1", scoring={"smaa_samples": 300})
    index = render(scenario, out=tmp_path / "report", only=PAGES[:2])
    for page in ("index.html", "04_board_scenarios.html", "01_tender_evaluation.html"):
        raw = (index.parent / page).read_text(encoding="utf-8")
        for bad in ("<script>alert(7)", "<img src=x onerror", "<b>Board</b>", "<i>draft</i>"):
            assert bad not in raw, (page, bad)
        assert "&lt;script&gt;alert(7)&lt;/script&gt;" in raw or "alert(7)" not in raw
    text = visible_text((index.parent / "04_board_scenarios.html").read_text(encoding="utf-8"))
    assert "<script>alert(7)</script>" in text or "<img src=x onerror=alert(1)>" in text
    book = openpyxl.load_workbook(index.parent / "artefacts" / "results.xlsx")
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
    for csv in (index.parent / "artefacts").glob("*.csv"):
        for line in csv.read_text(encoding="utf-8").splitlines():
            assert not any(cell.startswith(("=", "+", "@")) for cell in line.split(",")), csv.name
