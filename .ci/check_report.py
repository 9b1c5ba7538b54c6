"""Check a rendered report folder: every page exists, has content, and carries the key numbers.

Usage: python .ci/check_report.py REPORT_DIR SCENARIO_YAML
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sourcing.report import NOTEBOOKS
from sourcing.scenario import Scenario

#: Figures each page draws at least (a backend that does not display inline draws none).
MIN_FIGURES = {"01_tender_evaluation": 3, "02_award_allocation": 3, "03_risk_simulation": 3,
               "04_board_scenarios": 5, "05_vendor_performance": 2}


def main(folder: str, scenario_file: str) -> int:
    out = Path(folder)
    scenario = Scenario.load(scenario_file)
    problems = []
    index = (out / "index.html").read_text(encoding="utf-8")
    if scenario.name not in index:
        problems.append("index.html does not name the scenario")
    for name in NOTEBOOKS:
        page = out / f"{name}.html"
        if not page.exists() or page.stat().st_size < 20_000:
            problems.append(f"{page.name} missing or nearly empty")
            continue
        text = page.read_text(encoding="utf-8")
        if "Traceback" in text:
            problems.append(f"{page.name} shows a traceback")
        figures = text.count('src="data:image/png')
        if figures < MIN_FIGURES[name]:
            problems.append(f"{page.name} shows {figures} figures, expected {MIN_FIGURES[name]}+")
    headline = pd.read_csv(out / "artefacts" / "headline.csv").set_index("item")["value"]
    board = (out / "04_board_scenarios.html").read_text(encoding="utf-8")
    if headline["award_status"] not in ("optimal", "feasible"):
        problems.append(f"award status {headline['award_status']}")
    p50 = float(headline["cheapest_option_p50_eur"]) / 1e6
    if f"{p50:,.1f} million" not in board:
        problems.append(f"board page lacks the P50 cost {p50:,.1f} million")
    for item in ("top_ranked_vendor", "cheapest_option_p50"):
        if str(headline[item]) not in board:
            problems.append(f"board page lacks {item} = {headline[item]}")
    summary = pd.read_csv(out / "artefacts" / "simulation_summary.csv")
    if len(summary) != len(scenario.simulation.options) or summary.isna().any().any():
        problems.append("simulation summary incomplete")
    for name in ("results.xlsx", "ranking.csv", "award.png", "tornado.png"):
        if not (out / "artefacts" / name).exists():
            problems.append(f"artefact {name} missing")
    for p in problems:
        print(f"report check failed ({scenario.name}): {p}", file=sys.stderr)
    if not problems:
        print(f"report check passed: {scenario.name}, {len(NOTEBOOKS)} pages, cheapest option "
              f"{headline['cheapest_option_p50']} at P50 EUR {p50:,.1f} million")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
