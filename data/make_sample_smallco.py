"""Generate the second synthetic sample tender in ``data/sample-smallco/``.

Run from the repository root::

    python data/make_sample_smallco.py

Sample 2 mirrors the other half of the field from sample 1 (``make_sample_tender.py``): a small
UK logistics firm, Harbour Freight Ltd, that runs its IT in-house today and wants to hand all of
it to **one** managed-service provider for four years.  Prices in GBP; four bidders, three lots,
seven criteria in five groups weighted by AHP (pairwise judgments of two evaluators), scores of
the two evaluators combined by their geometric mean, no volume-discount tiers, a vendor risk
table, no incumbent and no performance data.  Everything random comes from one seeded numpy
Generator, so the files are identical on every run and machine.

Planted features that tests and notebooks may rely on:

* no lot has an incumbent: everything is run in-house today (``inhouse_unit_cost`` given);
* S4 Moorland Networks commits 99.5 % platform availability, below the knock-out gate of 99.9 %
  (criterion K5), and bids for two lots only;
* S3 Kestrel Offshore Tech is the low-price / low-quality offshore bidder, but its cloud capacity
  (180 virtual machines) is short of the 220 needed, so it cannot take everything alone;
* S2 Brightwater Cloud Services is the premium bidder; S1 Quayside Managed IT the balanced one;
* the aggregated root judgments are consistent (CR < 0.10) and so is each evaluator's own;
* S1 Quayside offers all three lots as one package (all or nothing) 4.5 % below its lot bids;
  S3 Kestrel takes 4 % off its fees if it wins all three lots (its cloud capacity is short, so
  only part of the cloud lot), S2 Brightwater 3 % from GBP 600,000 a year.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261201
HERE = Path(__file__).resolve().parent
OUT = HERE / "sample-smallco"
#: Saaty's 1/9 .. 9 scale, the only values a judgment may take here.
SAATY = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9])
#: Largest consistency ratio accepted for the generated judgments (Saaty's 0.10).
MAX_CR = 0.10


def snap_saaty(ratio: float) -> float:
    """The Saaty-scale value nearest to *ratio* on a log scale, rounded to 4 digits (1/9 -> 0.1111)."""
    return round(float(SAATY[np.argmin(np.abs(np.log(SAATY) - np.log(ratio)))]), 4)


def consistency_ratio(judgments: pd.DataFrame, items: list[str]) -> float:
    """Saaty's CR of the reciprocal matrix built from upper-triangle judgments (eigenvector).

    Random index of Saaty (1980) for n = 3..10; CR = 0 for n <= 2.
    """
    ri = {3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
    n = len(items)
    if n <= 2:
        return 0.0
    pos = {k: i for i, k in enumerate(items)}
    a = np.ones((n, n))
    for r in judgments.itertuples(index=False):
        i, j = pos[r.item_a], pos[r.item_b]
        a[i, j], a[j, i] = r.value, 1.0 / r.value
    lam = float(np.max(np.linalg.eigvals(a).real))
    return (lam - n) / (n - 1) / ri[n]


def make_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """All tables of sample 2 as DataFrames (columns as in data/README.md)."""
    rng = np.random.default_rng(seed)
    settings = pd.DataFrame(
        [
            ("name", "Managed IT services 2027 (sample 2)"),
            ("buyer", "Harbour Freight Ltd"),
            ("currency", "GBP"),
            ("contract_years", "4"),
            ("discount_rate_pct", "6"),
            ("weighting", "ahp"),
            ("score_aggregation", "geometric"),
        ],
        columns=["key", "value"],
    )
    vendors = pd.DataFrame(
        [
            # id, name, incumbent, country, currency, offshore %, iso, certs, revenue MEUR,
            # employees, equity %, financial score
            ("S1", "Quayside Managed IT Ltd", False, "GB", "GBP", 10, True,
             "Cyber Essentials Plus;ISO 20000-1", 38.0, 260, 36.0, 71),
            ("S2", "Brightwater Cloud Services", False, "IE", "EUR", 15, True,
             "ISO 27017;SOC 2;Cyber Essentials Plus", 120.0, 640, 44.0, 83),
            ("S3", "Kestrel Offshore Tech Pvt Ltd", False, "IN", "INR", 75, True,
             "ISO 9001;CMMI 3", 210.0, 5200, 39.0, 64),
            ("S4", "Moorland Networks", False, "GB", "GBP", 0, False,
             "Cyber Essentials", 9.0, 45, 22.0, 52),
        ],
        columns=["vendor_id", "name", "incumbent", "country", "currency", "offshore_share_pct",
                 "iso27001", "certifications", "annual_revenue_meur", "employees",
                 "equity_ratio_pct", "financial_score"],
    )
    criteria = pd.DataFrame(
        [
            # id, name, group, direction, unit, source, attribute, scale min/max, gate
            ("K1", "Service management maturity", "delivery", "max", "points 1-10", "scores",
             None, 1, 10, None),
            ("K2", "Logistics and depot experience", "delivery", "max", "points 1-10", "scores",
             None, 1, 10, None),
            ("K3", "Transition plan and risks", "transition", "max", "points 1-10", "scores",
             None, 1, 10, None),
            ("K4", "Account management and UK presence", "partnership", "max", "points 1-10",
             "scores", None, 1, 10, None),
            ("K5", "Committed platform availability", "resilience", "max", "%", "scores",
             None, 99, 100, ">= 99.9"),
            ("K6", "Financial health score", "resilience", "max", "points 0-100", "vendor",
             "financial_score", 0, 100, None),
            ("K7", "Evaluated annual price", "price", "min", "GBP/year", "price",
             None, None, None, None),
        ],
        columns=["criterion_id", "name", "group", "direction", "unit", "source", "attribute",
                 "scale_min", "scale_max", "gate"],
    )
    criteria.insert(4, "weight", np.nan)  # AHP weighting: no direct weights
    # latent quality per vendor on the judged criteria K1..K4 (1-10)
    judged = ["K1", "K2", "K3", "K4"]
    latent = {
        "S1": [7.5, 8.0, 7.5, 8.5],
        "S2": [8.5, 6.5, 8.0, 7.0],
        "S3": [6.0, 5.0, 6.0, 5.0],
        "S4": [6.5, 7.5, 6.0, 7.5],
    }
    evaluators = ["it-manager", "finance-director"]
    rows = []
    for vid, qs in latent.items():
        for cid, q in zip(judged, qs, strict=True):
            for ev in evaluators:
                value = float(np.clip(np.round((q + rng.normal(0, 0.6)) * 2) / 2, 1, 10))
                rows.append((vid, cid, ev, value))
    availability = {"S1": 99.9, "S2": 99.95, "S3": 99.9, "S4": 99.5}  # facts from the bids
    rows += [(vid, "K5", None, pct) for vid, pct in availability.items()]
    scores = pd.DataFrame(rows, columns=["vendor_id", "criterion_id", "evaluator", "value"])

    lots = pd.DataFrame(
        [
            ("DESK", "Service desk and depot field support", "service_desk", "tickets", 26_000,
             2.0, None, 0.0, 21.5),
            ("CLOUD", "Cloud hosting and operations", "cloud", "virtual machines", 220, 8.0,
             None, 0.0, 2_400.0),
            ("NET", "WAN and site connectivity", "network", "sites", 46, 1.0, None, 0.0,
             6_900.0),
        ],
        columns=["lot_id", "name", "tower", "unit", "annual_demand", "demand_growth_pct",
                 "incumbent_vendor_id", "switching_cost_per_unit", "inhouse_unit_cost"],
    )
    ref_price = {"DESK": 18.5, "CLOUD": 1_950.0, "NET": 5_600.0}
    level = {"S1": 1.00, "S2": 1.18, "S3": 0.78, "S4": 0.92}
    bid_lots = {v: list(ref_price) for v in level}
    bid_lots["S4"] = ["DESK", "NET"]
    capacity = {("S3", "CLOUD"): 180.0}  # short of the 220 VMs: S3 cannot take everything
    demand = dict(zip(lots["lot_id"], lots["annual_demand"], strict=True))
    brows = []
    for vid, lvl in level.items():
        for lot in bid_lots[vid]:
            price = ref_price[lot] * lvl * rng.normal(1.0, 0.03)
            price = round(price, 2) if price < 1000 else round(price, -1)
            setup = round(ref_price[lot] * demand[lot] * 0.05, -3)
            brows.append((vid, lot, price, capacity.get((vid, lot)), 0.0, "none", setup))
    bids = pd.DataFrame(brows, columns=["vendor_id", "lot_id", "unit_price", "capacity",
                                        "min_volume", "discount_type", "setup_cost"])
    risk = pd.DataFrame(
        [
            # failure prob/yr, security score, incidents/yr, SLA breach prob/month, risk score,
            # onboarding GBP, exit GBP
            ("S1", 0.020, 80, 0.20, 0.06, 30, 40_000.0, 180_000.0),
            ("S2", 0.010, 88, 0.10, 0.04, 20, 55_000.0, 220_000.0),
            ("S3", 0.030, 70, 0.35, 0.12, 50, 45_000.0, 200_000.0),
            ("S4", 0.060, 58, 0.50, 0.10, 65, 25_000.0, 120_000.0),
        ],
        columns=["vendor_id", "failure_prob", "security_score", "incident_rate",
                 "sla_breach_prob", "risk_score", "onboarding_cost", "exit_cost"],
    )
    # AHP: each evaluator compares the five groups (root) and the two delivery criteria, from
    # their own view plus noise; resilience's two criteria count equally (no judgments).
    groups = list(dict.fromkeys(criteria["group"]))
    views = {
        "it-manager": {"delivery": 30, "transition": 15, "partnership": 10, "resilience": 15,
                       "price": 30},
        "finance-director": {"delivery": 20, "transition": 10, "partnership": 10,
                             "resilience": 15, "price": 45},
    }
    inner = {"it-manager": 2.0, "finance-director": 1.0}  # K1 vs K2
    prows = []
    for ev, view in views.items():
        for i, a in enumerate(groups):
            for b in groups[i + 1:]:
                ratio = view[a] / view[b] * np.exp(rng.normal(0, 0.15))
                prows.append((ev, "root", a, b, snap_saaty(ratio)))
        prows.append((ev, "delivery", "K1", "K2", inner[ev]))
    pairwise = pd.DataFrame(prows, columns=["evaluator", "parent", "item_a", "item_b", "value"])
    root = pairwise[pairwise["parent"] == "root"]
    for ev, sub in root.groupby("evaluator"):
        cr = consistency_ratio(sub, groups)
        assert cr < MAX_CR, f"{ev}'s root judgments are inconsistent (CR = {cr:.3f})"
    combined = root.groupby(["item_a", "item_b"], sort=False)["value"].apply(
        lambda v: float(np.exp(np.log(v).mean()))).reset_index()
    cr = consistency_ratio(combined, groups)
    assert cr < MAX_CR, f"the aggregated root judgments are inconsistent (CR = {cr:.3f})"
    # expressive bids, priced off the lot bids (no random draw, so the tables above are unchanged)
    fees = bids.assign(fees=bids["unit_price"] * bids["lot_id"].map(demand)).set_index(
        ["vendor_id", "lot_id"])["fees"]
    package = round(0.955 * float(fees.loc["S1"].sum()), -3)
    bundles = pd.DataFrame({"bundle_id": "Q-ALL", "vendor_id": "S1", "lot_id": list(demand),
                            "share_pct": 100.0, "price": [package] + [None] * (len(demand) - 1),
                            "split": ["all_or_nothing"] + [None] * (len(demand) - 1)})
    discounts = pd.DataFrame([
        ("D1", "S3", "lots_at_least", 3.0, 4.0, None),
        ("D2", "S2", "spend_at_least", 600_000.0, 3.0, None),
    ], columns=["discount_id", "vendor_id", "condition", "threshold", "discount_pct", "lots"])
    return {"settings": settings, "vendors": vendors, "criteria": criteria, "scores": scores,
            "lots": lots, "bids": bids, "risk": risk, "pairwise": pairwise, "bundles": bundles,
            "discounts": discounts}


def main() -> int:
    sys.path.insert(0, str(HERE.parent / "src"))
    from sourcing.outputs import write_tables

    write_tables(make_tables(), OUT)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
