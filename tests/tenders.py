"""Test-only tender factory: valid CSV tender folders of any shape, and scenario files for them.

Never shipped as data.  The default is the tender of the issue's "new user": a US hospital group
buying IT services in USD from 4 bidders for 3 lots, 2 evaluators, 9 criteria, no incumbent
performance data.  Every argument changes one dimension, so a test can ask for the shape it
needs::

    from tenders import make_scenario, make_tender

    path = make_tender(tmp_path / "t", currency="CHF", n_vendors=6, with_tiers=True)
    scenario = make_scenario(tmp_path, path, scoring={"method": "wsm"})

Same arguments, same files (one seeded numpy Generator).  :func:`tender_tables` returns the
tables as DataFrames for tests that change a cell before writing (``sourcing.outputs.write_tables``).

Planted, whatever the shape: vendor 1 is the incumbent on lot 1 and bids every lot; with 3 or
more vendors and 2 or more lots, vendor 2 does not bid the last lot; every vendor passes every
gate (so any ``n_vendors >= 2`` can be ranked).
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

__all__ = ["LOTS", "VENDOR_NAMES", "deep_merge", "make_scenario", "make_tender", "sample_award",
           "tender_tables", "tiny_tender"]

#: Default vendor names (US health-care IT providers, invented); "Vendor N" beyond the list.
VENDOR_NAMES = ("Keystone Health IT", "Prairie Clinical Systems", "Bayview Managed Services",
                "Summit Medical Informatics", "Riverbend Data Partners", "Lone Star Hosting",
                "Cascade Support Group", "Granite Peak Technologies")
_COUNTRIES = ("US", "US", "IN", "CA", "US", "MX", "US", "PH")
_CURRENCIES = ("USD", "USD", "INR", "CAD", "USD", "MXN", "USD", "PHP")
#: Lot pool: id, name, tower, unit, annual demand, reference unit price, in-house unit cost
#: (prices in the tender currency per unit per year); "Other service N" beyond the list.
LOTS = (
    ("HELP", "Clinical service desk", "service_desk", "tickets", 90_000, 22.0, 27.0),
    ("EHR", "EHR application support", "application", "FTE", 24, 145_000.0, 160_000.0),
    ("HOST", "Data-centre and cloud hosting", "infrastructure", "servers", 600, 3_100.0, 3_500.0),
    ("SEC", "Security operations", "security", "endpoints", 14_000, 41.0, 50.0),
    ("EUC", "Clinical device support", "end_user", "devices", 11_000, 260.0, 300.0),
    ("NET", "Campus network operations", "network", "sites", 18, 42_000.0, 47_000.0),
)
#: Non-price criterion pool: id, name, group, direction, weight points, unit, source,
#: attribute, scale_min, scale_max, gate.  "fact" = a score with a blank evaluator.
_CRITERIA = (
    ("Q1", "Clinical systems expertise", "technical", "max", 12, "points 0-10", "scores", None,
     0, 10, None),
    ("Q2", "HIPAA compliance programme", "compliance", "max", 10, "points 0-10", "scores", None,
     0, 10, None),
    ("Q3", "Reference hospitals", "references", "max", 8, "points 0-10", "scores", None, 0, 10,
     None),
    ("Q4", "Implementation approach", "delivery", "max", 8, "points 0-10", "scores", None, 0, 10,
     None),
    ("Q5", "Committed P1 response time", "sla", "min", 6, "minutes", "fact", None, 0, 240, None),
    ("Q6", "Financial health score", "financial", "max", 5, "points 0-100", "vendor",
     "financial_score", 0, 100, ">= 30"),
    ("Q7", "ISO/IEC 27001 certification", "compliance", "max", 0, "yes/no", "vendor", "iso27001",
     None, None, "== yes"),
    ("Q8", "Staff retention plan", "delivery", "max", 6, "points 0-10", "scores", None, 0, 10,
     None),
)
_PRICE_POINTS = 40
_EVALUATORS = ("cio", "cmio", "procurement-lead", "nursing-informatics", "finance")
_SAATY = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8,
                   9])


def _whole(name: str, value: int, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")


def tender_tables(*, currency: str = "USD", n_vendors: int = 4, n_lots: int = 3,
                  n_evaluators: int = 2, n_criteria: int = 9, with_tiers: bool = False,
                  with_risk: bool = False, with_pairwise: bool = False, seed: int = 0,
                  names: Sequence[str] | None = None, buyer: str = "Lakeshore Health System",
                  title: str = "Hospital IT managed services RFP (test)",
                  contract_years: int = 3) -> dict[str, pd.DataFrame]:
    """The tables of a tender of the given shape, as DataFrames (columns as in data/README.md).

    Parameters
    ----------
    currency : str
        ISO 4217 code of every price (the numbers are the same whatever the code).
    n_vendors, n_lots, n_evaluators : int
        Bidders (>= 2), lots (>= 1), evaluators scoring the judged criteria (>= 1).
    n_criteria : int
        Criteria including the price criterion, which is always last (>= 2).  The first up to 8
        come from a fixed pool (judged scores, a fact, two vendor-attribute gates); more are
        judged criteria of group ``other``.
    with_tiers : bool
        Vendor 1's bids on the first two lots carry all-unit / incremental discount tiers.
    with_risk : bool
        Write a vendor risk table.
    with_pairwise : bool
        ``weighting = ahp`` with root pairwise judgments by every evaluator, derived from the
        group weights (snapped to Saaty's scale; consistent, CR < 0.10).
    seed : int
        Seed of every random number.
    names : sequence of str, optional
        Vendor names, at least *n_vendors* of them (default :data:`VENDOR_NAMES`).
    buyer, title : str
        Buyer and tender name in ``settings``.
    contract_years : int
        Contract horizon, years.
    """
    for name, value, least in (("n_vendors", n_vendors, 2), ("n_lots", n_lots, 1),
                               ("n_evaluators", n_evaluators, 1), ("n_criteria", n_criteria, 2)):
        _whole(name, value, least)
    rng = np.random.default_rng(seed)
    if names is None:
        names = [VENDOR_NAMES[i] if i < len(VENDOR_NAMES) else f"Vendor {i + 1}"
                 for i in range(n_vendors)]
    if isinstance(names, str) or len(names) < n_vendors:
        raise ValueError(f"names must be a sequence of at least n_vendors={n_vendors} names")
    vids = [f"B{i + 1}" for i in range(n_vendors)]
    settings = pd.DataFrame(
        [("name", title), ("buyer", buyer), ("currency", currency),
         ("contract_years", str(contract_years)), ("discount_rate_pct", "7"),
         ("weighting", "ahp" if with_pairwise else "direct"), ("score_aggregation", "mean")],
        columns=["key", "value"])
    k = len(_COUNTRIES)
    vendors = pd.DataFrame({
        "vendor_id": vids, "name": list(names[:n_vendors]),
        "incumbent": [i == 0 for i in range(n_vendors)],
        "country": [_COUNTRIES[i % k] for i in range(n_vendors)],
        "currency": [_CURRENCIES[i % k] for i in range(n_vendors)],
        "offshore_share_pct": rng.integers(0, 60, n_vendors).astype(float),
        "iso27001": True,
        "employees": rng.integers(80, 20_000, n_vendors),
        "equity_ratio_pct": np.round(rng.uniform(20, 50, n_vendors), 1),
        "financial_score": rng.integers(40, 95, n_vendors).astype(float),
    })

    pool = list(_CRITERIA[: n_criteria - 1])
    pool += [(f"Q{j + 1}", f"Additional criterion {j + 1}", "other", "max", 4, "points 0-10",
              "scores", None, 0, 10, None) for j in range(len(pool), n_criteria - 1)]
    price = (f"Q{n_criteria}", "Evaluated annual price", "price", "min", _PRICE_POINTS,
             f"{currency}/year", "price", None, None, None, None)
    rows = [(*c[:6], "scores" if c[6] == "fact" else c[6], *c[7:]) for c in [*pool, price]]
    criteria = pd.DataFrame(rows, columns=["criterion_id", "name", "group", "direction", "weight",
                                           "unit", "source", "attribute", "scale_min",
                                           "scale_max", "gate"])
    evaluators = [_EVALUATORS[i] if i < len(_EVALUATORS) else f"evaluator-{i + 1}"
                  for i in range(n_evaluators)]
    srows = []
    for c in criteria.itertuples(index=False):
        if c.source != "scores":
            continue
        fact = any(p[0] == c.criterion_id and p[6] == "fact" for p in pool)
        for v in vids:
            if fact:
                srows.append((v, c.criterion_id, None, float(rng.choice([10, 15, 20, 30]))))
                continue
            latent = rng.uniform(4.0, 9.0)
            for ev in evaluators:
                value = float(np.clip(np.round((latent + rng.normal(0, 0.6)) * 2) / 2, 0, 10))
                srows.append((v, c.criterion_id, ev, value))
    scores = pd.DataFrame(srows, columns=["vendor_id", "criterion_id", "evaluator", "value"])

    lot_rows = [LOTS[j] if j < len(LOTS) else
                (f"LOT{j + 1}", f"Other service {j + 1}", "other", "units", 1_000, 500.0, 560.0)
                for j in range(n_lots)]
    lots = pd.DataFrame({
        "lot_id": [r[0] for r in lot_rows], "name": [r[1] for r in lot_rows],
        "tower": [r[2] for r in lot_rows], "unit": [r[3] for r in lot_rows],
        "annual_demand": [float(r[4]) for r in lot_rows],
        "demand_growth_pct": np.round(rng.uniform(0, 5, n_lots), 1),
        "incumbent_vendor_id": [vids[0] if j == 0 else None for j in range(n_lots)],
        "switching_cost_per_unit": [round(lot_rows[0][5] * 0.1, 2) if j == 0 else 0.0
                                    for j in range(n_lots)],
        "inhouse_unit_cost": [r[6] for r in lot_rows],
    })
    level = np.round(rng.uniform(0.8, 1.2, n_vendors), 3)
    brows, trows = [], []
    for i, v in enumerate(vids):
        for j, r in enumerate(lot_rows):
            if i == 1 and n_vendors >= 3 and n_lots >= 2 and j == n_lots - 1:
                continue  # vendor 2 does not bid the last lot
            unit_price = r[5] * level[i] * rng.normal(1.0, 0.03)
            unit_price = round(unit_price, 2) if unit_price < 1000 else round(unit_price, -1)
            setup = 0.0 if (i == 0 and j == 0) else round(r[5] * r[4] * 0.03, -2)
            kind = "none"
            if with_tiers and i == 0 and j < 2:
                kind = "all-unit" if j == 0 else "incremental"
                for frac, disc in ((0.5, 0.03), (0.8, 0.06)):
                    tier = unit_price * (1 - disc)
                    tier = round(tier, 2) if tier < 1000 else round(tier, -1)
                    trows.append((v, r[0], round(r[4] * frac, 0), tier))
            brows.append((v, r[0], unit_price, None, 0.0, kind, setup))
    bids = pd.DataFrame(brows, columns=["vendor_id", "lot_id", "unit_price", "capacity",
                                        "min_volume", "discount_type", "setup_cost"])
    out = {"settings": settings, "vendors": vendors, "criteria": criteria, "scores": scores,
           "lots": lots, "bids": bids}
    if with_tiers:
        out["tiers"] = pd.DataFrame(trows, columns=["vendor_id", "lot_id", "from_volume",
                                                    "unit_price"])
    if with_risk:
        annual = float(sum(r[4] * r[5] for r in lot_rows))
        out["risk"] = pd.DataFrame({
            "vendor_id": vids,
            "failure_prob": np.round(rng.uniform(0.005, 0.05, n_vendors), 3),
            "security_score": rng.integers(55, 95, n_vendors).astype(float),
            "incident_rate": np.round(rng.uniform(0.1, 0.5, n_vendors), 2),
            "sla_breach_prob": np.round(rng.uniform(0.03, 0.12, n_vendors), 2),
            "risk_score": rng.integers(15, 70, n_vendors).astype(float),
            "onboarding_cost": [0.0 if i == 0 else round(annual * 0.02, -3)
                                for i in range(n_vendors)],
            "exit_cost": np.round(annual * rng.uniform(0.05, 0.15, n_vendors), -3),
        })
    if with_pairwise:
        points = criteria.groupby("group", sort=False)["weight"].sum()
        points = points.where(points > 0, 1.0)  # a gate-only group still gets a judgment
        groups = list(points.index)
        prows = []
        for ev in evaluators:
            for a_i, a in enumerate(groups):
                for b in groups[a_i + 1:]:
                    ratio = points[a] / points[b]
                    value = _SAATY[np.argmin(np.abs(np.log(_SAATY) - np.log(ratio)))]
                    prows.append((ev, "root", a, b, round(float(value), 4)))
        out["pairwise"] = pd.DataFrame(prows, columns=["evaluator", "parent", "item_a", "item_b",
                                                       "value"])
    return out


def make_tender(folder: str | os.PathLike, *, currency: str = "USD", n_vendors: int = 4,
                n_lots: int = 3, n_evaluators: int = 2, n_criteria: int = 9,
                with_tiers: bool = False, with_risk: bool = False, with_pairwise: bool = False,
                seed: int = 0, names: Sequence[str] | None = None, **options: Any) -> Path:
    """Write a valid CSV tender folder of the given shape and return its path.

    Arguments as in :func:`tender_tables` (``buyer``, ``title``, ``contract_years`` through
    *options*).  The default is the US hospital group tender in USD.
    """
    from sourcing.outputs import write_tables
    from sourcing.schemas import TABLES

    tables = tender_tables(currency=currency, n_vendors=n_vendors, n_lots=n_lots,
                           n_evaluators=n_evaluators, n_criteria=n_criteria,
                           with_tiers=with_tiers, with_risk=with_risk,
                           with_pairwise=with_pairwise, seed=seed, names=names, **options)
    folder = Path(folder)
    stale = [f"{name}.csv" for name in TABLES if name not in tables
             and (folder / f"{name}.csv").exists()]
    if stale:  # an old table would silently join the new tender
        raise ValueError(f"folder {folder} already holds {', '.join(stale)}; use an empty folder")
    return write_tables(tables, folder)


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """*base* with *extra* merged in key by key (nested mappings merged, other values replaced)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def make_scenario(folder: str | os.PathLike, tender_path: str | os.PathLike, *,
                  filename: str = "scenario.yaml", **settings: Any) -> Path:
    """Write a scenario YAML for *tender_path* into *folder* and return the file's path.

    Defaults: name "Test scenario", seed 7, TOPSIS, no policy rules, solver time limit 10 s,
    2,000 draws, no budget.  *settings* are scenario keys (``name``, ``seed``, ``scoring``,
    ``allocation``, ``simulation``, ``performance``, ...) merged into the defaults key by key,
    so ``simulation={"n": 500}`` keeps the other simulation defaults.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = {"name": "Test scenario", "tender": str(Path(tender_path).resolve()), "seed": 7,
            "scoring": {"method": "topsis"},
            "allocation": {"policy": {}, "objective": "cost", "time_limit": 10},
            "simulation": {"n": 2000}}
    data = deep_merge(base, settings)
    for key in ("tender", "performance", "sweep"):
        if data.get(key) is not None:
            data[key] = str(Path(data[key]).resolve())
    path = folder / filename
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def sample_award(tender):
    """A stand-in award on the bundled sample tender: V03 on L1-L2, V08 on L3-L5 (volumes and
    spend at hand-picked bid prices), for the option factories."""
    vol = pd.DataFrame(0.0, index=["V03", "V08"], columns=tender.lot_ids)
    spend = vol.copy()
    vol.loc["V03", ["L1", "L2"]] = [120_000, 1_000]
    spend.loc["V03", ["L1", "L2"]] = [120_000 * 17.0, 1_000 * 1500.0]
    vol.loc["V08", ["L3", "L4", "L5"]] = [60, 9000, 8500]
    spend.loc["V08", ["L3", "L4", "L5"]] = [60 * 75_000.0, 9000 * 36.0, 8500 * 260.0]
    return types.SimpleNamespace(volumes=vol, spend=spend)

def tiny_tender(*, incumbent: str | None = None, failure_prob: float = 0.1):
    """The tiny tender of the issue: one lot of 1,000 units, in-house today with a switching cost of
    50 a unit; vendor A cheap (100 a unit, setup 6,000, failing *failure_prob* a year), vendor B dear (130 a
    unit, never failing); three years, no growth."""
    t = tender_tables(n_vendors=2, n_lots=1, with_risk=True, seed=1, contract_years=3)
    t["lots"] = t["lots"].assign(annual_demand=1000.0, demand_growth_pct=0.0, incumbent_vendor_id=incumbent,
                                 switching_cost_per_unit=50.0, inhouse_unit_cost=140.0)
    t["bids"] = t["bids"].assign(unit_price=[100.0, 130.0], setup_cost=[6000.0, 0.0], capacity=np.nan)
    t["vendors"] = t["vendors"].assign(incumbent=[incumbent == "B1", incumbent == "B2"],
                                       offshore_share_pct=0.0)
    t["risk"] = t["risk"].assign(failure_prob=[failure_prob, 0.0], onboarding_cost=[2000.0, 2000.0],
                                 exit_cost=[10_000.0, 10_000.0])
    from sourcing.tender import Tender

    return Tender.from_frames(**t)


#: Price factors on each lot's reference price of :func:`scoped_rule_tables`: B1 the dear
#: incumbent (US, onshore, SOC 2), B2 (US, 40 % offshore), B3 (IN, 60 % offshore, SOC 2), B4 (CA,
#: 50 % offshore).  Unconstrained, HELP and EUC go to B3, EHR and HOST to B4, SEC to B2.
SCOPED_FACTORS = {"B1": (1.10, 1.10, 1.10, 1.10, 1.10), "B2": (1.00, 0.95, 1.00, 0.93, 1.00),
                  "B3": (0.90, 0.92, 0.95, 0.96, 0.90), "B4": (0.95, 0.90, 0.93, 0.94, 0.97)}


def scoped_rule_tables(*, currency: str) -> dict[str, pd.DataFrame]:
    """The tables of a 4-bidder, 5-lot tender on which each example scoped rule binds (countries,
    offshore shares and certifications set; bids at :data:`SCOPED_FACTORS` of a reference price,
    no setup or switching costs)."""
    t = tender_tables(currency=currency, n_vendors=4, n_lots=5)
    t["vendors"] = t["vendors"].assign(country=["US", "US", "IN", "CA"],
                                       offshore_share_pct=[0.0, 40.0, 60.0, 50.0],
                                       certifications=["SOC 2", "ISO 20000-1", "SOC 2; ISO 20000-1", ""])
    lots = t["lots"].assign(switching_cost_per_unit=0.0)
    ref = dict(zip(lots["lot_id"], [22.0, 145_000.0, 3_100.0, 41.0, 260.0], strict=True))
    rows = [(v, lot, round(ref[lot] * f, 2), None, 0.0, "none", 0.0)
            for v, fs in SCOPED_FACTORS.items() for lot, f in zip(lots["lot_id"], fs, strict=True)]
    t["lots"] = lots
    t["bids"] = pd.DataFrame(rows, columns=["vendor_id", "lot_id", "unit_price", "capacity",
                                            "min_volume", "discount_type", "setup_cost"])
    return t
