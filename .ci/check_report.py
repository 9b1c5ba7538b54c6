"""Check a rendered report folder as a board member would read it.

Every page exists (or the index says why it was skipped), has its figures and no traceback; the
walking-weights page is linked and loads nothing from outside; the
board page and the index carry the recommendation of the run; every page and the workbook follow
the text rules of ``sourcing.present.text_problems`` (the tender's currency only, no NaN, None,
True/False, scientific notation, reprs or local paths) and carry no sentence of another shipped
tender (its name or buyer).

Usage: python .ci/check_report.py REPORT_DIR SCENARIO_YAML
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import openpyxl

from sourcing import read_tender
from sourcing.present import text_problems, visible_text
from sourcing.report import NOTEBOOKS, WALK_PAGE, skip_reason
from sourcing.scenario import Scenario

#: Figures each page draws at least (a backend that does not display inline draws none).
MIN_FIGURES = {"01_tender_evaluation": 3, "02_award_allocation": 2, "03_risk_simulation": 3,
               "04_board_scenarios": 4, "05_vendor_performance": 2, "07_decision_map": 2}
DATA = Path(__file__).resolve().parents[1] / "data"


def _other_tenders(own: Path) -> list[str]:
    """Names and buyers of the other shipped sample tenders: their words must not appear."""
    phrases = []
    for scenario in sorted((DATA / "scenarios").glob("*.yaml")):
        tender = Scenario.load(scenario).tender
        if tender.resolve() != own.resolve():
            t = read_tender(tender)
            phrases += [t.name, str(t.settings.get("buyer") or "")]
    return sorted({p for p in phrases if p})


def main(folder: str, scenario_file: str) -> int:
    out = Path(folder)
    scenario = Scenario.load(scenario_file)
    tender = read_tender(scenario.tender)
    forbidden = _other_tenders(Path(scenario.tender))
    problems = []
    summary = json.loads((out / "artefacts" / "summary.json").read_text(encoding="utf-8"))
    head = summary["headline"]
    index = (out / "index.html").read_text(encoding="utf-8")
    if scenario.name not in index or summary["recommendation"] not in visible_text(index):
        problems.append("index.html lacks the scenario or the recommendation")
    pages = {"index.html": index}
    for name in NOTEBOOKS:
        page = out / f"{name}.html"
        reason = skip_reason(name, scenario)
        if reason:
            if page.exists() or reason not in visible_text(index):
                problems.append(f"{name} should be skipped with its reason on the index")
            continue
        if not page.exists() or page.stat().st_size < 20_000:
            problems.append(f"{page.name} missing or nearly empty")
            continue
        text = page.read_text(encoding="utf-8")
        pages[page.name] = text
        if "Traceback" in text:
            problems.append(f"{page.name} shows a traceback")
        figures = text.count('src="data:image/png')
        if figures < MIN_FIGURES[name]:
            problems.append(f"{page.name} shows {figures} figures, expected {MIN_FIGURES[name]}+")
    walk = out / WALK_PAGE
    if not walk.is_file() or WALK_PAGE not in index:
        problems.append(f"{WALK_PAGE} missing or not linked from the index")
    else:
        text = walk.read_text(encoding="utf-8")
        pages[WALK_PAGE] = text
        if re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', text) or 'id="walk-data"' not in text:
            problems.append(f"{WALK_PAGE} loads an external resource or embeds no data")
    board = visible_text(pages.get("04_board_scenarios.html", ""))
    if head["award_status"] not in ("optimal", "feasible"):
        problems.append(f"award status {head['award_status']}")
    for item in ("top_ranked_vendor", "recommended_option"):
        if str(head[item]) not in board:
            problems.append(f"board page lacks {item} = {head[item]}")
    if summary["recommendation"] not in board:
        problems.append("board page does not state the run's recommendation")
    for name, page in pages.items():
        problems += [f"{name}: {p}" for p in text_problems(visible_text(page), currency=tender.currency,
                                                           forbidden=forbidden)]
    book = openpyxl.load_workbook(out / "artefacts" / "results.xlsx", read_only=True)
    if book.sheetnames[0] != "headline":
        problems.append("the workbook does not open on its headline sheet")
    cells = " ".join(str(v) for ws in book for row in ws.iter_rows(values_only=True)
                     for v in row if isinstance(v, str))
    problems += [f"results.xlsx: {p}" for p in text_problems(cells, currency=tender.currency,
                                                             forbidden=forbidden)]
    for p in problems:
        print(f"report check failed ({scenario.name}): {p}", file=sys.stderr)
    if not problems:
        print(f"report check passed: {scenario.name}, {len(pages) - 1} pages, recommended "
              f"{head['recommended_option']} ({tender.currency})")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
