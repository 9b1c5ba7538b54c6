"""Generate the synthetic sample tender in ``data/sample-tender/`` and ``data/sample-tender.xlsx``.

Run from the repository root::

    python data/make_sample_tender.py

The tender is invented but plausible: a mid-sized European company outsourcing five IT service
towers, eight bidders, sixteen criteria in nine groups, three evaluators.  Everything random comes
from one seeded numpy Generator, so the files are identical on every run and machine.

Planted features that tests and notebooks rely on:

* V01 is the incumbent on the service desk and end-user computing;
* V06 has no ISO 27001 certificate (fails the ISO gate);
* V07 is financially weak (financial score 28, below the gate of 40);
* V03 is the low-price / low-quality offshore bidder, V02 the premium one;
* V04 and V05 are specialists that bid for some lots only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261127
HERE = Path(__file__).resolve().parent


def make_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """All tables of the sample tender as DataFrames (columns as in data/README.md)."""
    rng = np.random.default_rng(seed)
    settings = pd.DataFrame(
        [
            ("name", "IT services outsourcing 2027 (sample)"),
            ("buyer", "Example Manufacturing Group"),
            ("currency", "EUR"),
            ("contract_years", "5"),
            ("discount_rate_pct", "8"),
            ("weighting", "direct"),
            ("score_aggregation", "mean"),
        ],
        columns=["key", "value"],
    )
    vendors = pd.DataFrame(
        [
            # id, name, incumbent, country, currency, offshore %, iso, certs, revenue MEUR,
            # employees, equity %, financial score
            ("V01", "Nordic Service Partners", True, "SE", "SEK", 10, True,
             "ISO 9001;ISO 20000-1", 410.0, 2900, 38.0, 72),
            ("V02", "Atlas Global IT", False, "DE", "EUR", 25, True,
             "ISO 9001;ISO 20000-1;SOC 2;ISO 14001", 5200.0, 41000, 45.0, 90),
            ("V03", "BlueRiver Offshore Services", False, "IN", "INR", 85, True,
             "ISO 9001;CMMI 3", 690.0, 18500, 41.0, 61),
            ("V04", "CloudForge", False, "NL", "EUR", 20, True,
             "ISO 27017;SOC 2", 95.0, 480, 29.0, 58),
            ("V05", "SecureOps", False, "AT", "EUR", 5, True,
             "ISO 27701;SOC 2", 60.0, 350, 33.0, 66),
            ("V06", "Helix Systems", False, "PL", "PLN", 40, False,
             "ISO 9001", 140.0, 1600, 35.0, 70),
            ("V07", "Mosaic Tech", False, "ES", "EUR", 30, True,
             "ISO 9001;ISO 20000-1", 85.0, 900, 12.0, 28),
            ("V08", "Vertex Consulting", False, "FR", "EUR", 30, True,
             "ISO 9001;ISO 20000-1;ISO 14001", 1250.0, 9800, 40.0, 80),
        ],
        columns=["vendor_id", "name", "incumbent", "country", "currency", "offshore_share_pct",
                 "iso27001", "certifications", "annual_revenue_meur", "employees",
                 "equity_ratio_pct", "financial_score"],
    )
    criteria = pd.DataFrame(
        [
            ("C01", "Team qualifications and certifications", "technical", "max", 6,
             "points 0-10", "scores", None, 0, 10, None),
            ("C02", "Fit with our technology stack", "technical", "max", 6,
             "points 0-10", "scores", None, 0, 10, None),
            ("C03", "System compatibility and integration", "technical", "max", 5,
             "points 0-10", "scores", None, 0, 10, None),
            ("C04", "Comparable past engagements", "experience", "max", 5,
             "points 0-10", "scores", None, 0, 10, None),
            ("C05", "Industry experience", "experience", "max", 4,
             "points 0-10", "scores", None, 0, 10, None),
            ("C06", "Financial health score", "financial", "max", 4,
             "points 0-100", "vendor", "financial_score", 0, 100, ">= 40"),
            ("C07", "Equity ratio", "financial", "max", 2,
             "%", "vendor", "equity_ratio_pct", 0, 100, None),
            ("C08", "Customer references", "references", "max", 5,
             "points 0-10", "scores", None, 0, 10, None),
            ("C09", "ISO/IEC 27001 certification", "security", "max", 0,
             "yes/no", "vendor", "iso27001", None, None, "== yes"),
            ("C10", "Information security assessment", "security", "max", 7,
             "points 0-10", "scores", None, 0, 10, None),
            ("C11", "Committed service availability", "sla", "max", 5,
             "%", "scores", None, 95, 100, None),
            ("C12", "Committed P1 response time", "sla", "min", 3,
             "minutes", "scores", None, 0, 240, None),
            ("C13", "Committed P1 resolution time", "sla", "min", 3,
             "hours", "scores", None, 0, 72, None),
            ("C14", "Transition and knowledge-transfer plan", "continuity", "max", 5,
             "points 0-10", "scores", None, 0, 10, None),
            ("C15", "Green IT and sustainability", "sustainability", "max", 5,
             "points 0-10", "scores", None, 0, 10, None),
            ("C16", "Evaluated annual price", "price", "min", 35,
             "EUR/year", "price", None, None, None, None),
        ],
        columns=["criterion_id", "name", "group", "direction", "weight", "unit", "source",
                 "attribute", "scale_min", "scale_max", "gate"],
    )
    # latent quality per vendor on the qualitative criteria (0-10)
    qualitative = ["C01", "C02", "C03", "C04", "C05", "C08", "C10", "C14", "C15"]
    latent = {
        "V01": [7.0, 8.5, 8.5, 7.0, 8.0, 7.5, 7.0, 9.0, 6.0],
        "V02": [9.0, 8.0, 8.0, 9.0, 8.5, 9.0, 9.0, 8.0, 8.5],
        "V03": [5.5, 5.0, 5.5, 6.5, 5.0, 5.5, 6.0, 5.0, 4.5],
        "V04": [8.0, 7.5, 7.0, 6.0, 5.5, 7.0, 7.5, 6.5, 7.5],
        "V05": [8.5, 6.5, 6.5, 7.0, 6.5, 8.0, 9.5, 7.0, 6.0],
        "V06": [6.5, 7.0, 6.5, 6.5, 6.0, 6.5, 4.5, 6.5, 5.5],
        "V07": [6.0, 6.5, 6.0, 5.5, 6.0, 6.0, 6.5, 6.0, 5.0],
        "V08": [7.5, 7.5, 7.5, 8.0, 7.5, 8.0, 8.0, 7.5, 7.0],
    }
    evaluators = ["architect", "service-manager", "security-officer"]
    rows = []
    for vid, qs in latent.items():
        for cid, q in zip(qualitative, qs, strict=True):
            for ev in evaluators:
                value = float(np.clip(np.round((q + rng.normal(0, 0.7)) * 2) / 2, 0, 10))
                rows.append((vid, cid, ev, value))
    sla = {  # availability %, P1 response minutes, P1 resolution hours: facts from the bids
        "V01": (99.8, 15, 4), "V02": (99.95, 10, 4), "V03": (99.5, 30, 8), "V04": (99.9, 15, 6),
        "V05": (99.9, 10, 4), "V06": (99.7, 20, 6), "V07": (99.5, 30, 8), "V08": (99.9, 15, 4),
    }
    for vid, (avail, resp, resol) in sla.items():
        rows += [(vid, "C11", None, avail), (vid, "C12", None, float(resp)),
                 (vid, "C13", None, float(resol))]
    scores = pd.DataFrame(rows, columns=["vendor_id", "criterion_id", "evaluator", "value"])

    lots = pd.DataFrame(
        [
            ("L1", "Service desk", "service_desk", "tickets", 120_000, 3.0, "V01", 4.0, 31.0),
            ("L2", "Infrastructure and cloud operations", "infrastructure", "servers", 1_400,
             5.0, None, 0.0, 2_750.0),
            ("L3", "Application maintenance", "application", "FTE", 60, 2.0, None, 0.0,
             92_000.0),
            ("L4", "Security operations (SOC)", "security", "endpoints", 9_000, 6.0, None, 0.0,
             58.0),
            ("L5", "End-user computing", "end_user", "devices", 8_500, 1.0, "V01", 25.0, 305.0),
        ],
        columns=["lot_id", "name", "tower", "unit", "annual_demand", "demand_growth_pct",
                 "incumbent_vendor_id", "switching_cost_per_unit", "inhouse_unit_cost"],
    )
    # price level per vendor relative to the lot reference price, and the lots each one bids
    ref_price = {"L1": 24.0, "L2": 2_050.0, "L3": 74_000.0, "L4": 36.0, "L5": 240.0}
    level = {"V01": 1.00, "V02": 1.22, "V03": 0.74, "V04": 0.95, "V05": 1.08, "V06": 0.88,
             "V07": 0.85, "V08": 1.05}
    bid_lots = {v: list(ref_price) for v in level}
    bid_lots["V04"] = ["L2", "L3"]
    bid_lots["V05"] = ["L2", "L4"]
    share_cap = {"V01": 1.1, "V02": 1.5, "V03": 0.8, "V04": 0.7, "V05": 0.9, "V06": 0.6,
                 "V07": 0.5, "V08": 1.0}
    demand = dict(zip(lots["lot_id"], lots["annual_demand"], strict=True))
    brows, trows = [], []
    for vid, lvl in level.items():
        for k, lot in enumerate(bid_lots[vid]):
            noise = rng.normal(1.0, 0.04)
            price = ref_price[lot] * lvl * noise
            price = round(price, 2) if price < 1000 else round(price, -1)
            cap = demand[lot] * share_cap[vid] * rng.uniform(0.9, 1.1)
            cap = None if cap >= demand[lot] * 1.4 else float(round(cap, -1 if cap < 1e4 else -2))
            incumbent = lots.loc[lots["lot_id"] == lot, "incumbent_vendor_id"].iat[0] == vid
            setup = 0.0 if incumbent else round(ref_price[lot] * demand[lot] * 0.04, -3)
            min_vol = round(demand[lot] * 0.15, 0)
            dtype = "none"
            if (k + len(vid)) % 3 == 0 or vid in ("V02", "V03"):
                dtype = "all-unit" if (int(vid[1:]) + k) % 2 else "incremental"
                for frac, disc in ((0.5, 0.03), (0.8, 0.06)):
                    tier_price = price * (1 - disc)
                    tier_price = round(tier_price, 2) if tier_price < 1000 else round(tier_price, -1)
                    trows.append((vid, lot, round(demand[lot] * frac, 0), tier_price))
            brows.append((vid, lot, price, cap, min_vol, dtype, setup))
    bids = pd.DataFrame(brows, columns=["vendor_id", "lot_id", "unit_price", "capacity",
                                        "min_volume", "discount_type", "setup_cost"])
    tiers = pd.DataFrame(trows, columns=["vendor_id", "lot_id", "from_volume", "unit_price"])
    risk = pd.DataFrame(
        [
            # failure prob/yr, security score, incidents/yr, SLA breach prob/month, risk score,
            # onboarding EUR, exit EUR
            ("V01", 0.015, 74, 0.30, 0.08, 30, 0.0, 1_600_000.0),
            ("V02", 0.005, 90, 0.15, 0.04, 15, 450_000.0, 1_900_000.0),
            ("V03", 0.030, 68, 0.45, 0.15, 50, 380_000.0, 1_500_000.0),
            ("V04", 0.035, 78, 0.25, 0.07, 40, 260_000.0, 900_000.0),
            ("V05", 0.025, 94, 0.10, 0.05, 30, 220_000.0, 800_000.0),
            ("V06", 0.025, 52, 0.60, 0.10, 55, 300_000.0, 1_200_000.0),
            ("V07", 0.090, 63, 0.40, 0.12, 75, 300_000.0, 1_300_000.0),
            ("V08", 0.010, 82, 0.20, 0.06, 25, 350_000.0, 1_400_000.0),
        ],
        columns=["vendor_id", "failure_prob", "security_score", "incident_rate",
                 "sla_breach_prob", "risk_score", "onboarding_cost", "exit_cost"],
    )
    # AHP judgments between the criterion groups by each evaluator, from a shared view plus noise
    groups = list(dict.fromkeys(criteria["group"]))
    view = {"technical": 17, "experience": 9, "financial": 6, "references": 5, "security": 7,
            "sla": 11, "continuity": 5, "sustainability": 5, "price": 35}
    saaty = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7,
                      8, 9])
    prows = []
    for ev in evaluators:
        for i, a in enumerate(groups):
            for b in groups[i + 1:]:
                ratio = view[a] / view[b] * np.exp(rng.normal(0, 0.25))
                judgment = saaty[np.argmin(np.abs(np.log(saaty) - np.log(ratio)))]
                prows.append((ev, "root", a, b, round(float(judgment), 4)))
    pairwise = pd.DataFrame(prows, columns=["evaluator", "parent", "item_a", "item_b", "value"])
    return {"settings": settings, "vendors": vendors, "criteria": criteria, "scores": scores,
            "lots": lots, "bids": bids, "tiers": tiers, "risk": risk, "pairwise": pairwise}


def main() -> int:
    sys.path.insert(0, str(HERE.parent / "src"))
    from sourcing.outputs import write_tables

    tables = make_tables()
    write_tables(tables, HERE / "sample-tender")
    write_tables(tables, HERE / "sample-tender.xlsx")
    print(f"wrote {HERE / 'sample-tender'} and {HERE / 'sample-tender.xlsx'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
