"""Greedy construction heuristic: a quick feasible award, used as the MIP start.

Lot by lot, bids are taken in order of effective annual cost per unit (unit price at the volume
they could take, plus setup and a share of onboarding, annualised) until capacity covers demand
and the minimum number of vendors is reached; each chosen bid gets its least volume, the rest is
filled cheapest first.  When a lot's quality floor or risk cap fails, the lot is redone with bids
ordered by quality (or risk).  Vendors are short-listed first when ``max_vendors_total`` is set,
and vendors that must be included are seeded into their cheapest lot.  A concentration cap is
repaired by moving volume off the vendor over the cap.

The result is checked against every rule (:func:`~sourcing.allocation.award.violations`); the
heuristic returns ``None`` rather than an infeasible award.  It is a best effort: a feasible award
may exist that it does not find (the MILP then still searches from scratch).
"""

from __future__ import annotations

import numpy as np

from ._data import Instance
from .policy import Policy

__all__ = ["greedy"]


def _bid_ranges(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    nb = len(inst.bid_vendor)
    lo = np.full(nb, np.inf)
    hi = np.zeros(nb)
    np.minimum.at(lo, inst.seg_bid, inst.seg_lo)
    np.maximum.at(hi, inst.seg_bid, inst.seg_hi)
    return lo, hi


def greedy(inst: Instance, policy: Policy, *, max_rounds: int = 50, priority: np.ndarray | None = None):
    """A feasible award as segment values ``(x, z)``, or ``None`` when none was found.

    Parameters
    ----------
    priority : array, optional
        One score per bid (higher first), e.g. the bid's volume in the LP relaxation: each lot is
        then filled in that order (an LP rounding), falling back to the cost orders when it fails.
    """
    from .award import segments_from_volumes, violations

    nb = len(inst.bid_vendor)
    if nb == 0:
        return None
    lo, hi = _bid_ranges(inst)
    k = inst.annualise
    d = inst.demand
    tol = policy.demand_tolerance_pct / 100.0
    need = d * (1 - tol)
    typical = np.minimum(hi, d[inst.bid_lot])
    n_bids_v = np.bincount(inst.bid_vendor, minlength=inst.n_vendors)
    unit = inst.bid_costs(typical) / typical
    onb = inst.onboarding[inst.bid_vendor] / np.maximum(n_bids_v[inst.bid_vendor], 1)
    eff = unit + k * (inst.bid_setup * policy.setup_costs + onb * policy.onboarding_costs) / typical
    q = np.nan_to_num(inst.quality)[inst.bid_vendor]
    r = np.nan_to_num(inst.risk_score)[inst.bid_vendor]
    bids_by_lot = [np.flatnonzero(inst.bid_lot == j) for j in range(inst.n_lots)]
    allowed = np.ones(inst.n_vendors, bool)
    include = [inst.vendor_ids.index(v) for v in policy.include]
    if policy.max_vendors_total is not None:
        allowed = _shortlist(inst, policy, eff, hi, bids_by_lot, include)
        if allowed is None:
            return None
    cap_override = np.full(nb, np.inf)
    seed = {}
    for v in include:
        own = np.flatnonzero(inst.bid_vendor == v)
        if len(own) == 0:
            return None
        seed.setdefault(int(inst.bid_lot[own[np.argmin(eff[own])]]), []).append(int(own[np.argmin(eff[own])]))

    def fill_lot(j, lots_used):
        cands = [b for b in bids_by_lot[j] if allowed[inst.bid_vendor[b]]
                 and (policy.max_lots_per_vendor is None
                      or lots_used[inst.bid_vendor[b]] < policy.max_lots_per_vendor)]
        cands = np.array(cands, dtype=np.int64)
        if len(cands) == 0:
            return None
        orders = [np.lexsort((cands, eff[cands]))]
        if policy.quality_floor is not None:
            orders.append(np.lexsort((eff[cands], -q[cands])))
        if policy.risk_cap is not None:
            orders.append(np.lexsort((eff[cands], r[cands])))
        if policy.quality_floor is not None and policy.risk_cap is not None:
            orders.append(np.lexsort((eff[cands], r[cands] - q[cands])))
        if priority is not None:
            got = _fill(inst, policy, j, list(seed.get(j, [])),
                        cands[np.lexsort((eff[cands], -priority[cands]))], lo,
                        np.minimum(hi, cap_override), need[j], q, r)
            if got is not None:
                return got
        best, best_cost = None, np.inf
        for order in orders:
            got = _fill(inst, policy, j, list(seed.get(j, [])), cands[order], lo,
                        np.minimum(hi, cap_override), need[j], q, r)
            if got is None:
                continue
            cost = sum(inst.bid_cost(b, x) + k * inst.bid_setup[b] * policy.setup_costs
                       for b, x in got.items())
            if cost < best_cost - 1e-9:
                best, best_cost = got, cost
        return best

    for _ in range(max_rounds):
        vol = np.zeros((inst.n_vendors, inst.n_lots))
        lots_used = np.zeros(inst.n_vendors, dtype=np.int64)
        for j in np.argsort([len(b) for b in bids_by_lot], kind="stable"):
            got = fill_lot(int(j), lots_used)
            if got is None:
                return None
            for b, x in got.items():
                vol[inst.bid_vendor[b], j] += x
                lots_used[inst.bid_vendor[b]] += 1
        if policy.max_spend_share_pct is None:
            break
        # repair a concentration cap: trim the worst offender in the lot where it spends most
        spend = np.zeros_like(vol)
        spend[inst.bid_vendor, inst.bid_lot] = inst.bid_costs(vol[inst.bid_vendor, inst.bid_lot])
        share = spend.sum(axis=1) / max(spend.sum(), 1e-12) * 100
        over = share - policy.max_spend_share_pct
        if over.max() <= 1e-9:
            break
        v = int(np.argmax(over))
        j = int(np.argmax(spend[v]))
        b = int(np.flatnonzero((inst.bid_vendor == v) & (inst.bid_lot == j))[0])
        excess = over[v] / 100 * spend.sum()
        price = spend[v, j] / max(vol[v, j], 1e-12)
        cap_override[b] = max(vol[v, j] - 1.05 * excess / price, 0.0)
        if cap_override[b] < lo[b]:
            cap_override[b] = 0.0
    seg_x, seg_z = segments_from_volumes(inst, vol)
    if violations(inst, policy, vol, atol=1e-6):
        return None
    return seg_x, seg_z


def _fill(inst, policy, j, chosen, order, lo, hi, need, q, r):
    """Volumes {bid: units} for lot *j*, or None."""
    minv = policy.min_vendors_per_lot or 1
    maxv = policy.max_vendors_per_lot or len(order) + len(chosen)
    chosen = [b for b in chosen if hi[b] > 0]
    for b in order:
        if sum(hi[c] for c in chosen) >= need - 1e-9 and len(chosen) >= minv:
            break
        if len(chosen) >= maxv:
            break
        if b not in chosen and hi[b] > 0:
            chosen.append(int(b))
    if len(chosen) < minv or sum(hi[c] for c in chosen) < need - 1e-9 or len(chosen) > maxv:
        return None
    base = np.array([lo[c] for c in chosen], float)
    cap = np.array([hi[c] for c in chosen], float)
    if base.sum() > need * (1 + policy.demand_tolerance_pct / 100.0) + 1e-9:
        return None
    x = base.copy()
    rest = need - x.sum()
    for i in range(len(chosen)):
        add = min(cap[i] - x[i], max(rest, 0.0))
        x[i] += add
        rest -= add
    if rest > 1e-7 * max(need, 1):
        return None
    if policy.quality_floor is not None and q[chosen] @ x < policy.quality_floor * x.sum() - 1e-7 * need:
        return None
    if policy.risk_cap is not None and r[chosen] @ x > policy.risk_cap * x.sum() + 1e-7 * need:
        return None
    return dict(zip(chosen, x, strict=True))


def _shortlist(inst, policy, eff, hi, bids_by_lot, include):
    """Vendors allowed under ``max_vendors_total``: the included ones, then the vendors that fix
    the largest capacity deficits, then the cheapest by average price rank."""
    V = inst.n_vendors
    keep = np.zeros(V, bool)
    keep[include] = True
    minv = policy.min_vendors_per_lot or 1

    def deficits(mask):
        out = np.zeros(V)
        short = 0
        for j, bl in enumerate(bids_by_lot):
            have = bl[mask[inst.bid_vendor[bl]]]
            gap_cap = inst.demand[j] - hi[have].sum()
            gap_n = minv - len(have)
            if gap_cap > 1e-9 or gap_n > 0:
                short += 1
                for b in bl:
                    if not mask[inst.bid_vendor[b]]:
                        out[inst.bid_vendor[b]] += min(hi[b], max(gap_cap, 0)) / inst.demand[j] + (gap_n > 0)
        return short, out

    rank = np.zeros(V)
    cnt = np.zeros(V)
    for bl in bids_by_lot:
        order = bl[np.argsort(eff[bl], kind="stable")]
        rank[inst.bid_vendor[order]] += np.arange(len(order)) / max(len(order), 1)
        cnt[inst.bid_vendor[order]] += 1
    avg = np.where(cnt > 0, rank / np.maximum(cnt, 1), np.inf) - 0.01 * cnt
    while keep.sum() < policy.max_vendors_total:
        short, gain = deficits(keep)
        if short == 0:
            break
        gain[keep] = -1
        if gain.max() <= 0:
            return None
        keep[int(np.argmax(gain - 1e-6 * avg))] = True
    if deficits(keep)[0] > 0:
        return None
    for v in np.argsort(avg, kind="stable"):
        if keep.sum() >= policy.max_vendors_total:
            break
        if np.isfinite(avg[v]):
            keep[v] = True
    return keep
