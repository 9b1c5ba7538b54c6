"""Explain an infeasible policy in words.

Two steps.  First, direct checks that name the numbers: per lot, the demand against what the
eligible bids can supply within their capacity and the share caps; the minimum number of
vendors against the eligible bidders; the quality floor (risk cap) against the best eligible
bidder.  Second, an elastic reformulation: every policy row gets a non-negative slack, and the
model minimises the total violation, each slack normalised by its row's scale (demand in
fractions of the lot's demand, counts in vendors, quality and risk in points, money in fractions
of the budget).  The slacks that remain positive are the least relaxation that makes the policy
feasible; each is reported in words.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .. import present as fmt
from ._data import Instance, make_instance
from .policy import Policy

__all__ = ["diagnose", "diagnose_policy"]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.4g}"


def checks(inst: Instance, policy: Policy) -> list[str]:
    """Plain-words reasons found by direct checks (may be empty)."""
    from .heuristic import _bid_ranges

    out = []
    lo, hi = _bid_ranges(inst) if len(inst.bid_vendor) else (np.zeros(0), np.zeros(0))
    excluded = sorted({v for v, _, why in inst.dropped_bids if why.startswith("vendor excluded")})
    if excluded:
        out.append("excluded vendors get no volume: " + ", ".join(
            f"{v} ({inst.excluded_reason.get(v, 'excluded')})" for v in excluded))
    need = inst.demand * (1 - policy.demand_tolerance_pct / 100.0)
    for j, lot in enumerate(inst.lot_ids):
        bl = np.flatnonzero(inst.bid_lot == j)
        unit = inst.units[j]
        dropped = [f"{v} ({why})" for v, lt, why in inst.dropped_bids
                   if lt == lot and not why.startswith("vendor excluded")]
        if len(bl) == 0:
            msg = f"lot {lot} has no usable bid"
            if dropped:
                msg += ": " + "; ".join(dropped)
            out.append(msg)
            continue
        offer = hi[bl].sum()
        if offer < need[j] - 1e-9:
            who = ", ".join(f"{inst.vendor_ids[inst.bid_vendor[b]]} {_fmt(hi[b])}" for b in bl)
            cap = (policy.max_share_pct_by_lot or {}).get(lot, policy.max_share_pct)
            within = " within their capacity" + (f" and the {cap:g} % share cap" if cap else "")
            out.append(f"lot {lot} needs {_fmt(need[j])} {unit} a year; eligible vendors offer "
                       f"{_fmt(offer)}{within} ({who})"
                       + (f"; unusable bids: {'; '.join(dropped)}" if dropped else ""))
        if policy.min_vendors_per_lot is not None and len(bl) < policy.min_vendors_per_lot:
            out.append(f"lot {lot} must have at least {policy.min_vendors_per_lot} vendors; only "
                       f"{len(bl)} eligible vendor{'s' if len(bl) != 1 else ''} bid"
                       + (f" (unusable: {'; '.join(dropped)})" if dropped else ""))
        if policy.quality_floor is not None:
            best = np.nanmax(inst.quality[inst.bid_vendor[bl]])
            if best < policy.quality_floor - 1e-9:
                out.append(f"lot {lot}: quality floor {policy.quality_floor:g} but the best eligible "
                           f"bidder scores {best:.1f}")
        if policy.risk_cap is not None:
            least = np.nanmin(inst.risk_score[inst.bid_vendor[bl]])
            if least > policy.risk_cap + 1e-9:
                out.append(f"lot {lot}: risk cap {policy.risk_cap:g} but the least risky eligible "
                           f"bidder scores {least:.1f}")
    for v in policy.include:
        if inst.vendor_ids.index(v) not in set(inst.bid_vendor.tolist()):
            out.append(f"vendor {v} must be included but has no usable bid")
    return out


def budget_check(inst: Instance, policy: Policy, *, currency: str | None = None,
                 time_limit: float = 30.0) -> str | None:
    """When the policy has a budget and every other rule can be met: how far the cheapest award
    under the other rules exceeds the budget (tender currency per year), else None."""
    currency = inst.currency if currency is None else currency
    if policy.budget is None:
        return None
    from ._solvers import solve_arrays
    from .model import build_model, cost_reference

    model = build_model(inst, policy.relaxed("budget"), cost_ref=cost_reference(inst))
    info = solve_arrays(model, solver="highs", time_limit=time_limit, mip_gap=1e-6)
    if not info.has_solution:
        return None
    # the cheapest award found, and the best bound on it
    low = info.bound if np.isfinite(info.bound) else info.objective
    if low <= policy.budget * (1 + 1e-9):
        return None
    money = partial(fmt.money, currency=currency, exact=True)
    return (f"the budget of {money(policy.budget)} a year is too low: the cheapest award "
            f"under the other rules costs {money(info.objective)} a year, "
            f"{money(info.objective - policy.budget)} more")


def elastic(inst: Instance, policy: Policy, *, time_limit: float = 30.0,
            currency: str | None = None) -> list[str]:
    """The rules the least-violation (elastic) award breaks, in words: the least relaxation that
    would make the policy feasible (checked and worded as every award's breaches are)."""
    currency = inst.currency if currency is None else currency
    from ..narrative import breach_sentences
    from ._solvers import solve_arrays
    from .award import violations, volumes_of
    from .model import build_model, cost_reference

    model = build_model(inst, policy, elastic=True, cost_ref=cost_reference(inst))
    info = solve_arrays(model, solver="highs", time_limit=time_limit)
    if not info.has_solution:
        return [f"the elastic model found no solution ({info.status})"]
    # the rules whose rows the least-violation award relaxes (slack above solver noise)
    offsets = model.row_offsets()
    slack = model.values[model.cols("slack")]
    rows = model.elastic[slack > 1e-7, 0]
    relaxed = {model.blocks[b].rule for b in np.searchsorted(offsets, rows, side="right") - 1}
    vol = volumes_of(inst, model.values[model.cols("x")])
    units = dict(zip(inst.lot_ids, inst.units, strict=True))
    found = [b for b in violations(inst, policy, vol) if b.rule in relaxed]
    return breach_sentences(found, units=units, currency=currency)


def diagnose(inst: Instance, policy: Policy, *, time_limit: float = 30.0, currency: str | None = None) -> str:
    """Explanation in words of why *policy* admits no award on *inst* (money in *currency*, the
    tender's)."""
    currency = inst.currency if currency is None else currency
    direct = checks(inst, policy)
    if not direct:
        # a budget below the cheapest award that meets every other rule is the reason, not the
        # demand the elastic model would otherwise drop to fit an absurd budget
        too_low = budget_check(inst, policy, currency=currency, time_limit=time_limit)
        if too_low:
            direct = [too_low]
    lines = ["The policy is infeasible: no award satisfies every rule."]
    if direct:
        lines.append("Why:")
        lines += [f"  - {t}" for t in direct]
    relax = elastic(inst, policy, time_limit=time_limit, currency=currency)
    if relax:
        lines.append("Least relaxation that would make it feasible (elastic model):")
        lines += [f"  - {t}" for t in relax]
    if not direct and not relax:
        lines.append("  (the rules conflict in combination; relax them one at a time with "
                     "constraint_costs to find which)")
    return "\n".join(lines)


def diagnose_policy(tender=None, policy: Policy | None = None, **tables) -> str:
    """Plain-words diagnosis of *policy* on a tender (or plain tables, as for ``allocate``)."""
    policy = policy if policy is not None else Policy()
    inst = make_instance(tender, policy, **tables)
    return diagnose(inst, policy)
