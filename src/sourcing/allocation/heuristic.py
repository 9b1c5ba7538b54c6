"""Construction heuristic: a quick award under every rule, used as the first MIP start.

Lot by lot, bids are taken in order of effective annual cost per unit (unit price at the volume
they could take, plus setup and a share of onboarding, annualised) until capacity covers demand
and the minimum number of vendors is reached; each chosen bid gets its least volume, the rest is
filled cheapest first.  When a lot's quality floor, risk cap or scoped rules on the lot
(``per: lot`` shares and vendor counts) fail, the lot is redone with bids ordered by quality,
risk, or the vendors its rules favour first; bids an ``only`` rule keeps out are never taken.
Vendors are short-listed first when ``max_vendors_total`` is set, and vendors that must be
included are seeded into their cheapest lot.

Rules across lots (the concentration cap, scoped shares of demand or spend, vendor and lot
counts) are then mended: lots are refilled without (or, for a floor, only with) the vendors of the
broken rule, cheapest repair per unit first, until it holds (:func:`construct`).  The result is
judged by :func:`~sourcing.allocation.award.violations`; :func:`greedy` returns ``None`` rather
than an infeasible award, and :func:`~sourcing.allocation.search.first_award` repairs what is
left as a MILP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._data import Instance
from .policy import Policy

__all__ = ["greedy"]


def _bid_ranges(inst: Instance, *, lot_bids: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Least and most volume (units/year) of each bid over its segments; *lot_bids*: over the
    lot bid's own segments only (package pieces left out; a bid made only of pieces gets the
    empty range inf..0)."""
    nb = len(inst.bid_vendor)
    lo = np.full(nb, np.inf)
    hi = np.zeros(nb)
    own = inst.lot_segment if lot_bids else slice(None)
    np.minimum.at(lo, inst.seg_bid[own], inst.seg_lo[own])
    np.maximum.at(hi, inst.seg_bid[own], inst.seg_hi[own])
    return lo, hi


def greedy(inst: Instance, policy: Policy, *, priority: np.ndarray | None = None):
    """A feasible award as segment values ``(x, z)``, or ``None`` when none was found.

    The award of :func:`construct`, kept only when it breaks no rule
    (:func:`~sourcing.allocation.award.violations`).

    Parameters
    ----------
    priority : array, optional
        One score per bid (higher first), e.g. the bid's volume in the LP relaxation: each lot is
        then filled in that order (an LP rounding), falling back to the cost orders when it fails.
    """
    from .award import segments_from_volumes, violations

    vol = construct(inst, policy, priority=priority)
    if vol is None or violations(inst, policy, vol, atol=1e-6):
        return None
    return segments_from_volumes(inst, vol)


def construct(inst: Instance, policy: Policy, *, mend_rounds: int = 8,
              priority: np.ndarray | None = None) -> np.ndarray | None:
    """Vendor x lot volumes (units/year) that meet each lot's demand, or ``None`` when a lot
    cannot be filled even without its quality, risk and scoped rules.

    Each lot is filled under its own rules (bid ranges, so shares; vendors per lot; quality
    floor; risk cap; ``per: lot`` scoped rules; the bids ``only`` and ``same_vendor`` rules keep
    out), or without the last four when that fails; ``max_vendors_total`` (short list) and
    ``max_lots_per_vendor`` hold.  Then up to *mend_rounds* rounds mend the rules across lots
    (:func:`_mend`).  Some rule may still be broken: :func:`greedy` judges,
    :func:`~sourcing.allocation.search.repair` repairs.  *priority* as in :func:`greedy`.
    """
    nb = len(inst.bid_vendor)
    if nb == 0:
        return None
    lo, hi = _bid_ranges(inst, lot_bids=True)   # packages are left to the MILP
    k = inst.annualise
    d = inst.demand
    tol = policy.demand_tolerance_pct / 100.0
    need = d * (1 - tol)
    typical = np.where(hi > 0, np.minimum(hi, d[inst.bid_lot]), 1.0)  # 1: a barred piece-only bid
    n_bids_v = np.bincount(inst.bid_vendor, minlength=inst.n_vendors)
    unit = inst.bid_costs(typical) / typical
    onb = inst.onboarding[inst.bid_vendor] / np.maximum(n_bids_v[inst.bid_vendor], 1)
    eff = unit + k * (inst.bid_setup * policy.setup_costs + onb * policy.onboarding_costs) / typical
    q = np.nan_to_num(inst.quality)[inst.bid_vendor]
    r = np.nan_to_num(inst.risk_score)[inst.bid_vendor]
    by_lot = np.argsort(inst.bid_lot, kind="stable")
    bids_by_lot = np.split(by_lot, np.searchsorted(inst.bid_lot[by_lot], np.arange(1, inst.n_lots)))
    allowed = np.ones(inst.n_vendors, bool)
    include = [inst.vendor_ids.index(v) for v in policy.include]
    if policy.max_vendors_total is not None:
        allowed = _shortlist(inst, policy, eff, hi, bids_by_lot, include)
        if allowed is None:
            return None
    barred = _barred(inst, policy) | (hi <= 0)
    seed = {}
    for v in include:
        own = np.flatnonzero((inst.bid_vendor == v) & ~barred)
        if len(own) == 0:
            return None
        seed.setdefault(int(inst.bid_lot[own[np.argmin(eff[own])]]), []).append(int(own[np.argmin(eff[own])]))

    local = _lot_rules(inst, policy)

    def fill_lot(j, lots_used, bar=None, strict=True):
        cands = [b for b in bids_by_lot[j] if allowed[inst.bid_vendor[b]] and not barred[b]
                 and (bar is None or not bar[b])
                 and (policy.max_lots_per_vendor is None
                      or lots_used[inst.bid_vendor[b]] < policy.max_lots_per_vendor)]
        cands = np.array(cands, dtype=np.int64)
        if len(cands) == 0:
            return None
        checks = [c for c in local if c.lots[j]]
        orders = [np.lexsort((cands, eff[cands]))]
        if policy.quality_floor is not None:
            orders.append(np.lexsort((eff[cands], -q[cands])))
        if policy.risk_cap is not None:
            orders.append(np.lexsort((eff[cands], r[cands])))
        if policy.quality_floor is not None and policy.risk_cap is not None:
            orders.append(np.lexsort((eff[cands], r[cands] - q[cands])))
        if checks:  # the bids the lot's scoped rules favour first, or just the cheapest of them
            pref = sum(c.pull * c.inside[cands] for c in checks)
            if pref.any():
                ahead = [o[np.argsort(pref[o], kind="stable")] for o in orders]
                lead = [np.concatenate([a[:1], o[o != a[0]]]) for a, o in zip(ahead, orders, strict=True)]
                orders += ahead + lead
        if priority is not None:
            got = _fill(inst, policy, j, list(seed.get(j, [])),
                        cands[np.lexsort((eff[cands], -priority[cands]))], lo,
                        hi, need[j], q, r, checks, strict)
            if got is not None:
                return got
        best, best_cost = None, np.inf
        for order in orders:
            got = _fill(inst, policy, j, list(seed.get(j, [])), cands[order], lo,
                        hi, need[j], q, r, checks, strict)
            if got is None:
                continue
            cost = lot_cost(got)
            if cost < best_cost - 1e-9:
                best, best_cost = got, cost
        return best

    def lot_cost(got):
        return sum(inst.bid_cost(b, x) + k * inst.bid_setup[b] * policy.setup_costs for b, x in got.items())

    vol = np.zeros((inst.n_vendors, inst.n_lots))
    lots_used = np.zeros(inst.n_vendors, dtype=np.int64)
    for j in np.argsort([len(b) for b in bids_by_lot], kind="stable").tolist():
        # a lot its own rules leave unfilled is filled without them: a breach for the repair
        got = fill_lot(j, lots_used)
        if got is None:
            got = fill_lot(j, lots_used, strict=False)
        if got is None:
            return None
        for b, x in got.items():
            vol[inst.bid_vendor[b], j] += x
            lots_used[inst.bid_vendor[b]] += 1
    from .award import violations

    def refill(j, bar):
        """Lot *j* filled again with the bids in *bar* kept out, by the vendors engaged already
        if they can (a new vendor costs onboarding and may break a count): (volumes by vendor,
        cost change) or None."""
        used = lots_used - (vol[:, j] > 0)
        engaged = (vol > 0).any(axis=1)
        got = fill_lot(j, used, bar | ~engaged[inst.bid_vendor])
        if got is None:
            got = fill_lot(j, used, bar)
        if got is None:
            return None
        col = np.zeros(inst.n_vendors)
        np.add.at(col, inst.bid_vendor[list(got)], list(got.values()))
        return col, lot_cost(got) - lot_costs[j]

    lot_costs = {}
    for _ in range(mend_rounds):
        broken = violations(inst, policy, vol, atol=1e-6)
        if not broken:
            break
        bid_x = vol[inst.bid_vendor, inst.bid_lot]
        spend = np.zeros_like(vol)
        spend[inst.bid_vendor, inst.bid_lot] = inst.bid_costs(bid_x)
        setup = np.zeros_like(vol)
        setup[inst.bid_vendor, inst.bid_lot] = np.where(bid_x > 0, k * inst.bid_setup * policy.setup_costs,
                                                        0.0)
        lot_costs = dict(enumerate((spend + setup).sum(axis=0)))
        moved = False
        for br in broken:
            for j, col in _mend(inst, policy, br, vol, spend, refill).items():
                lots_used += (col > 0).astype(np.int64) - (vol[:, j] > 0)
                vol[:, j] = col
                moved = True
        if not moved:
            break
    return vol


def _mend(inst: Instance, policy: Policy, br, vol: np.ndarray, spend: np.ndarray,
          refill: Callable[[int, np.ndarray], tuple[np.ndarray, float] | None]) -> dict[int, np.ndarray]:
    """New volumes of some lots (lot -> volume by vendor, units/year) that mend breach *br* of a
    rule across lots, each lot refilled under its own rules: the lots that mend it at the least
    cost increase per unit of repair (units/year, tender currency per year, lots), until the
    excess is gone.

    *vol* and *spend* are the vendor x lot volumes (units/year) and unit-price spend (tender
    currency per year); ``refill(lot, barred bids)`` is the lot refilled without those bids, as
    (volume by vendor, change of the lot's annual cost) or None.  A ceiling on the scope's
    vendors (share of demand or spend, a vendor's lots, the spend cap) refills lots without them
    (and, for the spend cap, without the vendors at 98 % of it); a floor on a share refills lots
    with them only; a ceiling on the number of vendors keeps the excess vendors with the least
    spend in scope (and the scope's vendors not engaged) out of its lots.  Other breaches
    (floors on counts, the budget) are not mended here: ``{}``.
    """
    from .rules import _masks

    r = br.scoped
    if r is not None:
        vm, lm = _masks(r, inst.vendor_ids, inst.lot_ids)
        measure, per = r.measure, r.per_
        if br.group:
            vm = vm & np.array([(r.groups or {}).get(v) == br.group for v in inst.vendor_ids])
    elif br.rule == "max_spend_share_pct":
        vm, lm = np.ones(inst.n_vendors, bool), np.ones(inst.n_lots, bool)
        measure, per = "spend_share", "vendor"
    else:
        return {}
    if br.vendors:
        vm = vm & np.isin(np.asarray(inst.vendor_ids, object), list(br.vendors))
    ceiling = br.value > br.limit
    inside = vm[inst.bid_vendor]
    if measure == "vendors" and per != "lot" and ceiling:
        held = (vol[:, lm] > 0) & vm[:, None]
        engaged = held.any(axis=1)
        cost = np.where(engaged, spend[:, lm].sum(axis=1), np.inf)
        out_v = ~engaged & vm                      # no vendor of the scope not engaged yet
        excess = int(np.ceil(br.value - br.limit - 1e-9))
        out = {}
        cur = vol.copy()
        for v in np.argsort(cost, kind="stable")[:int(engaged.sum())].tolist():
            if excess <= 0:
                break
            out_v[v] = True                        # drop v, unless one of its lots needs it
            bar = out_v[inst.bid_vendor]
            mine = {}
            for j in np.flatnonzero(lm & (cur[v] > 0)).tolist():
                got = refill(j, bar)
                if got is None:
                    break
                mine[j] = got[0]
            else:
                for j, col in mine.items():
                    out[j] = cur[:, j] = col
                excess -= 1
                continue
            out_v[v] = False
        return out
    if measure not in ("demand_share", "spend_share", "lots") or (measure == "lots" and not ceiling):
        return {}
    amount = spend if measure == "spend_share" else (vol > 0).astype(float) if measure == "lots" else vol
    if measure == "lots":
        need = br.value - br.limit
    else:
        total = (spend[:, lm].sum() if measure == "spend_share" else inst.demand[lm].sum())
        need = abs(br.value - br.limit) / 100.0 * total * 1.02
    mine = (amount * vm[:, None]).sum(axis=0)
    lots = np.flatnonzero(lm & ((mine > 0) if ceiling else (mine < inst.demand)))
    bar = inside if ceiling else ~inside
    if br.rule == "max_spend_share_pct":  # volume moved to a vendor at its cap would break it there
        share = 100 * spend.sum(axis=1) / max(float(spend.sum()), 1e-12)
        bar = bar | (share >= 0.98 * br.limit)[inst.bid_vendor]
    offers = []
    for j in lots.tolist():
        got = refill(j, bar)
        if got is None:
            continue
        col, extra = got
        if measure == "spend_share":
            after = sum(inst.bid_cost(int(b), col[inst.bid_vendor[b]]) for b in np.flatnonzero(
                (inst.bid_lot == j) & inside & (col[inst.bid_vendor] > 0)))
        else:
            after = float(((col > 0) if measure == "lots" else col)[vm].sum())
        gain = (mine[j] - after) if ceiling else (after - mine[j])
        if gain > 1e-9:
            offers.append((extra / gain, j, col, gain))
    out = {}
    for _, j, col, gain in sorted(offers, key=lambda o: (o[0], o[1])):
        if need <= 0:
            break
        out[j] = col
        need -= gain
    return out


def _barred(inst: Instance, policy: Policy) -> np.ndarray:
    """Bids an ``only`` or a ``same_vendor`` scoped rule keeps out: a vendor outside the rule's
    vendors on a lot of the rule's lots (one flag per bid)."""
    from .rules import _masks, concrete_rules

    out = np.zeros(len(inst.bid_vendor), bool)
    for r in concrete_rules(policy, inst.rules):
        if r.measure == "only" or (r.measure == "same_vendor" and r.vendors is not None):
            vm, lm = _masks(r, inst.vendor_ids, inst.lot_ids)
            out |= lm[inst.bid_lot] & ~vm[inst.bid_vendor]
    return out


@dataclass(frozen=True)
class _LotRule:
    """A scoped rule bounding each of its lots on its own: the scope's vendors' share of the
    lot's demand (percent) or their number there."""

    lots: np.ndarray      # (L,) bool: the rule's lots
    inside: np.ndarray    # (B,) bool: bids of the rule's vendors
    measure: str          # "demand_share" or "vendors"
    sense: str            # ">=", "<=" or "=="
    limit: float          # percent, or a count

    @property
    def pull(self) -> int:
        """-1 when the rule wants more of its vendors on a lot, +1 when fewer, 0 for both."""
        return {">=": -1, "<=": 1}.get(self.sense, 0)

    def holds(self, bids: np.ndarray, x: np.ndarray, demand: float) -> bool:
        sel = self.inside[bids]
        value = 100.0 * float(x[sel].sum()) / demand if self.measure == "demand_share" else float(sel.sum())
        tol = 1e-7 * max(1.0, abs(self.limit))
        return ((self.sense != ">=" or value >= self.limit - tol)
                and (self.sense != "<=" or value <= self.limit + tol)
                and (self.sense != "==" or abs(value - self.limit) <= tol))


def _lot_rules(inst: Instance, policy: Policy) -> list[_LotRule]:
    """The scoped rules checked lot by lot (``per: lot`` demand shares and vendor counts)."""
    from .rules import _masks, concrete_rules

    out = []
    for r in concrete_rules(policy, inst.rules):
        if r.per_ == "lot" and r.measure in ("demand_share", "vendors"):
            vm, lm = _masks(r, inst.vendor_ids, inst.lot_ids)
            out.append(_LotRule(lm, vm[inst.bid_vendor], r.measure, r.sense, r.limit))
    return out


def _fill(inst, policy, j, chosen, order, lo, hi, need, q, r, checks=(), strict=True):
    """Volumes {bid: units} for lot *j* (its quality floor, risk cap and scoped rules *checks*
    hold unless not *strict*), or None."""
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
    if not strict:
        return dict(zip(chosen, x, strict=True))
    if policy.quality_floor is not None and q[chosen] @ x < policy.quality_floor * x.sum() - 1e-7 * need:
        return None
    if policy.risk_cap is not None and r[chosen] @ x > policy.risk_cap * x.sum() + 1e-7 * need:
        return None
    if not all(c.holds(np.asarray(chosen), x, inst.demand[j]) for c in checks):
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
