"""Sourcing options from a tender: in-house, single vendor, multi-vendor, hybrid.

Each factory builds a :class:`~sourcing.simulation.contract.SourcingScenario` from a
:class:`~sourcing.Tender`: :func:`inhouse`, :func:`single_vendor`, :func:`multi_vendor` (from an
allocation ``Award`` or, without one, a split of each lot between its two cheapest admissible
bids), :func:`hybrid` and :func:`standard_scenarios`; :func:`admissible_vendors` names the vendors
that pass the tender's gates, :func:`tiered_unit_price` prices a volume on a bid's tiers.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..allocation._data import tiered_cost
from ..allocation.policy import Policy
from ..cost_lines import onboarding_applies, setup_applies, switched_units
from .assumptions import Assumptions
from .contract import _VENDOR_COLS, INHOUSE, SourcingScenario

__all__ = ["admissible_vendors", "hybrid", "inhouse", "multi_vendor", "single_vendor", "standard_scenarios",
           "tiered_unit_price"]

def _check_tender(tender: Any) -> None:
    for attr in ("lots", "bids", "vendors", "risk", "tiers"):
        if not hasattr(tender, attr):
            raise TypeError(f"tender must be a sourcing.Tender (missing .{attr}); read one with "
                            "sourcing.read_tender(path)")


def admissible_vendors(tender: Any) -> list[str]:
    """Vendors passing every gate of the tender (e.g. ISO 27001 yes, financial score >= 40)."""
    gates = tender.gates
    if not gates:
        return list(tender.vendor_ids)
    dm = tender.decision_matrix()
    ok = np.ones(len(dm), dtype=bool)
    for g in gates:
        ok &= g.passes(dm[g.criterion_id])
    return [v for v, k in zip(dm.index, ok, strict=True) if k]


def _candidates(tender: Any) -> list[str]:
    """Admissible vendors; every bidder, with a warning, when no vendor passes the gates."""
    ok = admissible_vendors(tender)
    if not ok:
        warnings.warn("no vendor passes the tender's gates; the default options use every bidder "
                      "(evaluate shows why each vendor is excluded)", UserWarning, stacklevel=1)
    return ok or list(tender.vendor_ids)

def tiered_unit_price(tender: Any, vendor_id: str, lot_id: str, volume: float) -> float:
    """Average unit price of *volume* units/yr from the bid and its volume-discount tiers
    [tender currency/unit/yr], priced as the award prices it
    (:func:`sourcing.allocation._data.tier_pieces`).

    ``all-unit``: every unit at the price of the highest tier reached; ``incremental``: each
    band at its own price; ``none``: the base price.
    """
    bid = tender.bids[(tender.bids["vendor_id"] == vendor_id) & (tender.bids["lot_id"] == lot_id)]
    if bid.empty:
        raise ValueError(f"vendor {vendor_id} did not bid for lot {lot_id}")
    b = bid.iloc[0]
    base = float(b["unit_price"])
    if volume <= 0:
        return base
    tiers = tender.tiers
    tiers = tiers[(tiers["vendor_id"] == vendor_id) & (tiers["lot_id"] == lot_id)]
    cost = tiered_cost(base, str(b["discount_type"]), tiers["from_volume"], tiers["unit_price"], volume)
    return cost / volume


def _risk_table(tender: Any, a: Assumptions) -> pd.DataFrame:
    risk = tender.risk
    cols = ["failure_prob", "exit_cost", "onboarding_cost", "incident_rate", "security_score",
            "sla_breach_prob"]
    if risk is None or risk.empty:
        warnings.warn("The tender has no risk table: vendor failure, security and SLA risks are set to 0",
                      UserWarning, stacklevel=3)
        risk = pd.DataFrame(0.0, index=tender.vendors.index, columns=cols)
        risk["security_score"] = a.security_score_ref
    r = risk.reindex(tender.vendors.index)[cols].astype(float)
    r[["failure_prob", "exit_cost", "onboarding_cost", "incident_rate", "sla_breach_prob"]] = r[
        ["failure_prob", "exit_cost", "onboarding_cost", "incident_rate", "sla_breach_prob"]].fillna(0.0)
    if a.failure_factor != 1.0:
        r["failure_prob"] = (r["failure_prob"] * a.failure_factor).clip(upper=1.0)
    return r


def _sla_lookup(sla: pd.DataFrame | None) -> dict[tuple[str, str], tuple[float, float]]:
    if sla is None:
        return {}
    if not isinstance(sla, pd.DataFrame):
        raise TypeError("sla must be a DataFrame with columns vendor_id, lot_id, breach_prob, credit_pct")
    need = ["vendor_id", "lot_id", "breach_prob", "credit_pct"]
    missing = [c for c in need if c not in sla.columns]
    if missing:
        raise ValueError(f"sla lacks column(s) {missing}; needed: vendor_id, lot_id, "
                         "breach_prob [monthly probability], credit_pct [% of monthly fee]")
    out = {}
    for i, r in enumerate(sla[need].itertuples(index=False)):
        q, c = float(r.breach_prob), float(r.credit_pct)
        if not 0 <= q <= 1:
            raise ValueError(f"sla.breach_prob row {i} ({r.vendor_id}, {r.lot_id}) must be a monthly "
                             f"probability in [0, 1], got {q}")
        if not 0 <= c <= 100:
            raise ValueError(f"sla.credit_pct row {i} ({r.vendor_id}, {r.lot_id}) must be a percent "
                             f"of the monthly fee in [0, 100], got {c}")
        out[(str(r.vendor_id), str(r.lot_id))] = (q, c / 100.0)
    return out

def _build(tender: Any, name: str, alloc: list[tuple[str, str, float, float]], *,
           sla: pd.DataFrame | None, assumptions: Assumptions | None, years: int | None,
           discount_rate: float | None, description: str, award: Any = None) -> SourcingScenario:
    """Scenario from (lot_id, provider, units, unit_price) rows (the warm-backup share from the
    *award*'s policy)."""
    _check_tender(tender)
    a = assumptions if assumptions is not None else Assumptions.for_tender(tender)
    if not isinstance(a, Assumptions):
        raise TypeError("assumptions must be a sourcing.simulation.Assumptions")
    lots = tender.lots
    risk = _risk_table(tender, a)
    slas = _sla_lookup(sla)
    baseline = float((lots["annual_demand"] * lots["inhouse_unit_cost"]).sum())
    bids = tender.bids.set_index(["vendor_id", "lot_id"])
    rows = []

    def cap_of(prov: str, lot: str) -> float:
        if prov == INHOUSE or (prov, lot) not in bids.index or "capacity" not in bids.columns:
            return math.inf
        c = float(bids.at[(prov, lot), "capacity"])
        return c if c == c else math.inf  # NaN = unlimited

    def list_of(prov: str, lot: str, price: float) -> float:
        if prov == INHOUSE or (prov, lot) not in bids.index:
            return float(price)
        p = float(bids.at[(prov, lot), "unit_price"])
        return p if p == p else float(price)

    providers_by_lot: dict[str, set[str]] = {}
    for lot, prov, _units, _price in alloc:
        providers_by_lot.setdefault(lot, set()).add(prov)
    for lot, prov, units, price in alloc:
        lrow = lots.loc[lot]
        current = lrow["incumbent_vendor_id"]
        current = str(current) if isinstance(current, str) and current else INHOUSE
        per_unit = float(lrow["switching_cost_per_unit"])
        setup = 0.0
        if prov == INHOUSE:
            q, credit = a.inhouse_breach_prob, 0.0
        else:
            setup = float(bids.at[(prov, lot), "setup_cost"]) if (prov, lot) in bids.index else 0.0
            if setup != setup:  # NaN
                setup = 0.0
            q, credit = slas.get((prov, lot), (float(risk.at[prov, "sla_breach_prob"]), a.sla_credit_pct))
            setup *= bool(setup_applies(prov, current))
        demand = float(lrow["annual_demand"])
        rows.append({
            "lot_id": lot, "provider": prov, "units": float(units), "unit_price": float(price),
            "setup_cost": setup, "switching_cost": per_unit * float(switched_units(units, prov, current)),
            "switch_per_unit": per_unit,
            "capacity": cap_of(prov, lot), "list_price": list_of(prov, lot, price),
            "growth": float(lrow["demand_growth_pct"]) / 100.0,
            "lot_share": float(units) / demand if demand > 0 else 0.0,
            "breach_prob": q, "credit_pct": credit,
            "exposure": float(units) * float(lrow["inhouse_unit_cost"]) / baseline if baseline > 0 else 0.0,
        })
    lines = pd.DataFrame(rows)
    vend = tender.vendors
    repl = a.replacement_onboarding
    if repl is None:
        repl = float(risk["onboarding_cost"].median()) if len(risk) else 0.0
    incumbents = set(tender.incumbents)
    vrows = {}
    for prov in dict.fromkeys(lines["provider"]):
        if prov == INHOUSE:
            continue
        if prov not in vend.index:
            raise ValueError(f"scenario {name!r}: unknown vendor {prov!r}; "
                             f"valid: {', '.join(tender.vendor_ids)}")
        served = lines.loc[lines["provider"] == prov, "lot_id"]
        backup = all(len(providers_by_lot[lot]) > 1 for lot in served)
        vrows[prov] = {
            "failure_prob": float(risk.at[prov, "failure_prob"]),
            "exit_cost": float(risk.at[prov, "exit_cost"]),
            "onboarding_cost": (float(risk.at[prov, "onboarding_cost"])
                                * bool(onboarding_applies(prov in incumbents))),
            "incident_rate": float(risk.at[prov, "incident_rate"]),
            "security_score": float(risk.at[prov, "security_score"]),
            "iso27001": bool(vend.at[prov, "iso27001"]),
            "offshore_share": float(vend.at[prov, "offshore_share_pct"]) / 100.0,
            "currency": str(vend.at[prov, "currency"]),
            "has_backup": bool(backup),
            "replacement_onboarding": float(repl),
        }
    vendors = pd.DataFrame.from_dict(vrows, orient="index", columns=list(_VENDOR_COLS))
    vendors.index.name = "vendor_id"
    # exit of incumbents pro rata to the share of their baseline business moved away
    exit_cost = 0.0
    for inc in incumbents:
        their = lots[lots["incumbent_vendor_id"] == inc]
        if their.empty:
            continue
        value = their["annual_demand"] * their["inhouse_unit_cost"]
        kept = lines[(lines["provider"] == inc) & lines["lot_id"].isin(their.index)]
        kept_value = sum(r.units * float(lots.at[r.lot_id, "inhouse_unit_cost"]) for r in kept.itertuples())
        moved = max(0.0, 1.0 - kept_value / float(value.sum())) if value.sum() > 0 else 0.0
        exit_cost += moved * float(risk.at[inc, "exit_cost"])
    return SourcingScenario(
        name=name, lines=lines, vendors=vendors,
        years=tender.contract_years if years is None else years,
        discount_rate=tender.discount_rate if discount_rate is None else discount_rate,
        exit_cost=exit_cost, assumptions=a, currency=tender.currency, description=description,
        backup_share=float(getattr(getattr(award, "policy", None), "backup_share", Policy().backup_share)))

def inhouse(tender: Any, *, name: str = "In-house", sla: pd.DataFrame | None = None,
            assumptions: Assumptions | None = None, years: int | None = None,
            discount_rate: float | None = None) -> SourcingScenario:
    """Every lot delivered in-house at ``lots.inhouse_unit_cost`` (lots now with a vendor move back)."""
    _check_tender(tender)
    alloc = [(lot, INHOUSE, float(r["annual_demand"]), float(r["inhouse_unit_cost"]))
             for lot, r in tender.lots.iterrows()]
    return _build(tender, name, alloc, sla=sla, assumptions=assumptions, years=years,
                  discount_rate=discount_rate, description="all lots in-house")


def single_vendor(tender: Any, vendor_id: str | None = None, *, name: str | None = None,
                  missing: str = "inhouse", sla: pd.DataFrame | None = None,
                  assumptions: Assumptions | None = None, years: int | None = None,
                  discount_rate: float | None = None) -> SourcingScenario:
    """Full outsourcing to one vendor at its (volume-discounted) bid prices.

    Parameters
    ----------
    vendor_id : str, optional
        Default: the admissible vendor with the lowest evaluated price among those that bid for
        every lot (else for most lots).
    missing : {"inhouse", "raise"}
        What to do with lots the vendor did not bid for.
    """
    _check_tender(tender)
    valid = ("inhouse", "raise")
    if missing not in valid:
        raise ValueError(f"missing must be one of {', '.join(valid)}, got {missing!r}")
    prices = tender.price_matrix
    if vendor_id is None:
        cands = _candidates(tender)
        n_bids = prices.loc[cands].notna().sum(axis=1)
        full = n_bids[n_bids == n_bids.max()].index
        vendor_id = str(tender.evaluated_price().loc[full].idxmin())
    if vendor_id not in prices.index:
        raise ValueError(f"unknown vendor_id {vendor_id!r}; valid: {', '.join(tender.vendor_ids)}")
    alloc = []
    bid_lots = [lot for lot in tender.lot_ids if not pd.isna(prices.at[vendor_id, lot])]
    expressive = _expressive_prices(tender, vendor_id, bid_lots)
    for lot, r in tender.lots.iterrows():
        demand = float(r["annual_demand"])
        if pd.isna(prices.at[vendor_id, lot]):
            if missing == "raise":
                raise ValueError(f"vendor {vendor_id} did not bid for lot {lot}")
            alloc.append((lot, INHOUSE, demand, float(r["inhouse_unit_cost"])))
        else:
            price = expressive.get(lot, tiered_unit_price(tender, vendor_id, lot, demand))
            alloc.append((lot, vendor_id, demand, price))
    vname = str(tender.vendors.at[vendor_id, "name"])
    return _build(tender, name or f"Single vendor ({vname})", alloc, sla=sla, assumptions=assumptions,
                  years=years, discount_rate=discount_rate,
                  description=f"all lots to {vname}")


def _expressive_prices(tender: Any, vendor_id: str, lots: list[str]) -> dict[str, float]:
    """Unit price (tender currency per unit per year) of each of *lots* when *vendor_id* runs all
    of them, with its package bids and conditional discounts as the award prices them (the
    cheapest packages that fit, the discount that applies); empty when it offers neither."""
    bundles = getattr(tender, "bundles", None)
    discounts = getattr(tender, "discounts", None)
    offers = (0 if bundles is None else int((bundles["vendor_id"] == vendor_id).sum())) + (
        0 if discounts is None else int((discounts["vendor_id"] == vendor_id).sum()))
    if not offers or not lots:
        return {}
    from ..allocation import Policy
    from ..allocation._data import make_instance
    from ..allocation.award import award_from_volumes, segments_from_volumes

    policy = Policy()
    inst = make_instance(tender, policy)
    v = inst.vendor_ids.index(vendor_id)
    vol = np.zeros((inst.n_vendors, inst.n_lots))
    cols = [inst.lot_ids.index(lot) for lot in lots]
    vol[v, cols] = inst.demand[cols]
    spend = award_from_volumes(inst, policy, *segments_from_volumes(inst, vol), check=False).spend
    return {lot: float(spend.at[vendor_id, lot]) / float(inst.demand[j])
            for lot, j in zip(lots, cols, strict=True)}


def _award_alloc(tender: Any, award: Any) -> list[tuple[str, str, float, float]]:
    try:
        vol = pd.DataFrame(award.volumes)
        spend = pd.DataFrame(award.spend)
    except AttributeError:
        raise TypeError("award must have .volumes and .spend (vendor x lot DataFrames), like "
                        "sourcing.allocation.Award") from None
    alloc = []
    for lot in tender.lot_ids:
        demand = float(tender.lots.at[lot, "annual_demand"])
        served = 0.0
        if lot in vol.columns:
            for v, units in vol[lot].items():
                units = float(units) if pd.notna(units) else 0.0
                if units < 0:
                    raise ValueError(f"award.volumes[{v}, {lot}] is negative ({units}); volumes are "
                                     "units/yr >= 0")
                if units <= 1e-9:
                    continue
                s = float(spend.at[v, lot]) if (v in spend.index and lot in spend.columns) else float("nan")
                if not np.isfinite(s) or s < 0:
                    raise ValueError(f"award.spend[{v}, {lot}] must be a non-negative number, got {s}")
                prov = INHOUSE if str(v) == INHOUSE else str(v)
                alloc.append((lot, prov, units, s / units))
                served += units
        rest = demand - served
        if rest > 1e-6 * max(demand, 1.0):
            alloc.append((lot, INHOUSE, rest, float(tender.lots.at[lot, "inhouse_unit_cost"])))
    return alloc


def _split_alloc(tender: Any, split: tuple[float, float]) -> list[tuple[str, str, float, float]]:
    ok = _candidates(tender)
    prices = tender.price_matrix.loc[ok]
    alloc = []
    for lot, r in tender.lots.iterrows():
        demand = float(r["annual_demand"])
        p = prices[lot].dropna().sort_values(kind="stable")
        if p.empty:
            alloc.append((lot, INHOUSE, demand, float(r["inhouse_unit_cost"])))
            continue
        shares = [1.0] if len(p) == 1 else list(split)
        for v, sh in zip(p.index[: len(shares)], shares, strict=True):
            units = demand * sh
            alloc.append((lot, str(v), units, tiered_unit_price(tender, str(v), lot, units)))
    return alloc


def multi_vendor(tender: Any, award: Any = None, *, name: str = "Multi-vendor",
                 split: tuple[float, float] = (0.7, 0.3), sla: pd.DataFrame | None = None,
                 assumptions: Assumptions | None = None, years: int | None = None,
                 discount_rate: float | None = None) -> SourcingScenario:
    """Lots split across vendors as in *award* (an allocation ``Award``: ``.volumes`` and ``.spend``).

    Without an award, each lot goes to its two cheapest admissible bids (base prices, tiers
    applied to the resulting volumes) in shares *split* (70/30 by default); a lot with one
    admissible bid goes wholly to it, a lot with none stays in-house.  Award volume short of a
    lot's demand is delivered in-house.
    """
    _check_tender(tender)
    if award is None:
        s = tuple(float(x) for x in split)
        if len(s) != 2 or min(s) < 0 or abs(sum(s) - 1) > 1e-9:
            raise ValueError(f"split must be two non-negative shares summing to 1, got {split}")
        alloc = _split_alloc(tender, s)
        desc = f"each lot split {s[0]:.0%}/{s[1]:.0%} between its two cheapest admissible bids"
    else:
        alloc, desc = _award_alloc(tender, award), "lots as awarded by the allocation"
    return _build(tender, name, alloc, sla=sla, assumptions=assumptions, years=years,
                  discount_rate=discount_rate, description=desc, award=award)


def hybrid(tender: Any, award: Any = None, *, inhouse_lots: list[str] | None = None,
           name: str = "Hybrid", split: tuple[float, float] = (0.7, 0.3),
           sla: pd.DataFrame | None = None, assumptions: Assumptions | None = None,
           years: int | None = None, discount_rate: float | None = None) -> SourcingScenario:
    """Some lots kept in-house, the others as in :func:`multi_vendor`.

    Default *inhouse_lots*: the lot whose in-house unit cost is lowest relative to its cheapest
    admissible bid.
    """
    _check_tender(tender)
    if inhouse_lots is None:
        ok = _candidates(tender)
        best = tender.price_matrix.loc[ok].min(axis=0)
        ratio = (tender.lots["inhouse_unit_cost"] / best).dropna()
        inhouse_lots = [str(ratio.idxmin())] if len(ratio) else []
    unknown = [lot for lot in inhouse_lots if lot not in tender.lot_ids]
    if unknown:
        raise ValueError(f"inhouse_lots: unknown lot(s) {unknown}; valid: {', '.join(tender.lot_ids)}")
    base = multi_vendor(tender, award, split=split, sla=sla, assumptions=assumptions)
    keep = set(inhouse_lots)
    alloc = [(r.lot_id, r.provider, r.units, r.unit_price) for r in base.lines.itertuples()
             if r.lot_id not in keep]
    for lot in inhouse_lots:
        lrow = tender.lots.loc[lot]
        alloc.append((lot, INHOUSE, float(lrow["annual_demand"]), float(lrow["inhouse_unit_cost"])))
    return _build(tender, name, alloc, sla=sla, assumptions=assumptions, years=years,
                  discount_rate=discount_rate, award=award,
                  description=f"{_names(tender, inhouse_lots)} in-house, the other lots as awarded")


def _names(tender: Any, lot_ids: list[str]) -> str:
    names = [str(tender.lots.at[lot, "name"]) if "name" in tender.lots else lot for lot in lot_ids]
    return ", ".join(names) or "no lot"


def standard_scenarios(tender: Any, award: Any = None, *, inhouse_lots: list[str] | None = None,
                       vendor_id: str | None = None, sla: pd.DataFrame | None = None,
                       assumptions: Assumptions | None = None) -> list[SourcingScenario]:
    """The four standard options: in-house, single vendor, multi-vendor, hybrid."""
    kw = {"sla": sla, "assumptions": assumptions}
    return [
        inhouse(tender, **kw),
        single_vendor(tender, vendor_id, **kw),
        multi_vendor(tender, award, **kw),
        hybrid(tender, award, inhouse_lots=inhouse_lots, **kw),
    ]
