"""Price to win: the unit price at which a bid enters (or leaves) the least-cost award.

For a bid (vendor, lot) the least-cost award does not use, :func:`price_to_win` finds the highest
price at which the vendor would get volume on the lot, the other bids fixed; for a bid it uses,
the lowest price at which the vendor would lose its share.  The bid's unit price and its volume
tiers are scaled by one factor ``f`` and the award re-solved (warm-started from today's award):
the award model is a MILP, so a reduced cost alone is not the answer.  The search is a bisection
on ``f``, valid because in a least-cost model the volume a bid wins never falls when only its own
prices fall (the objective is linear in the bid's spend; an exchange argument gives it for any
set of feasible awards, integer rules included).  Prices are in the tender currency per unit per
year, before volume discounts.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["price_to_win"]

#: Volume (units/year) above which a bid counts as awarded.
_ENTERED = 1e-6


class _BidAt:
    """Bid row *i* of the tender at ``f`` times its prices: does it win volume?"""

    def __init__(self, tender: Any, policy: Any, i: Any, price: float, *, quality: Any,
                 start: Any, solve: dict[str, Any]) -> None:
        self.tender, self.policy, self.i, self.price = tender, policy, i, price
        self.quality, self.start, self.solve = quality, start, solve
        self.vendor = str(tender.bids.at[i, "vendor_id"])
        self.lot = str(tender.bids.at[i, "lot_id"])
        self.solves = 0

    def wins(self, f: float) -> bool:
        from .solve import allocate

        self.solves += 1
        bids = self.tender.bids.copy()
        bids.loc[self.i, "unit_price"] = self.price * f
        tiers = self.tender.tiers
        if len(tiers):
            tiers = tiers.copy()
            mine = (tiers["vendor_id"] == self.vendor) & (tiers["lot_id"] == self.lot)
            tiers.loc[mine, "unit_price"] = tiers.loc[mine, "unit_price"] * f
        a = allocate(self.tender, self.policy, bids=bids, tiers=tiers, quality=self.quality,
                     start=self.start, **self.solve)
        return bool(a.feasible and self.vendor in a.volumes.index
                    and a.volumes.at[self.vendor, self.lot] > _ENTERED)


def _boundary(wins: Any, lo: float, hi: float, rel_tol: float) -> tuple[float, float]:
    """Geometric bisection of a price factor: the bid wins at *lo* and loses at *hi*; returns
    the bracket (lo, hi) once ``hi / lo - 1 <= rel_tol``."""
    while hi / lo - 1 > rel_tol:
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if wins(mid) else (lo, mid)
    return lo, hi


def price_to_win(tender: Any, policy: Any = None, *, quality: Any = None, award: Any = None,
                 vendors: list[str] | None = None, rel_tol: float = 1e-3, max_factor: float = 4.0,
                 **solve: Any) -> pd.DataFrame:
    """For every bid, the price at which it would enter the award or lose its share.

    Parameters
    ----------
    tender : Tender
    policy : Policy, optional
    quality : Evaluation or Series, optional
        As for :func:`~sourcing.allocation.allocate` (vendors excluded by a gate are left out:
        no price wins them a lot).
    award : Award, optional
        Today's least-cost award (solved when not given).
    vendors : list of str, optional
        Only these bidders' bids (a letter to one bidder holds only its own rows).
    rel_tol : float
        Relative precision of the price found.
    max_factor : float
        How far above today's price an awarded bid is searched for the price that loses it.
    **solve
        ``solver``, ``time_limit``, ``mip_gap`` of :func:`~sourcing.allocation.allocate`.

    Returns
    -------
    DataFrame
        One row per bid (lot_id, vendor_id): ``awarded`` (today), ``price`` (today's unit price),
        ``price_to_enter`` (not awarded: the highest price that wins volume; NaN when no price
        does, ``reason`` says why) or ``price_to_lose`` (awarded: the lowest price at which the
        share is lost; NaN when it holds up to ``max_factor`` times today's), ``gap_pct`` (the
        price change needed, percent of today's price) and ``solves``.
    """
    from .policy import Policy
    from .solve import allocate

    policy = policy if policy is not None else Policy()
    if award is None:
        award = allocate(tender, policy, quality=quality, **solve)
    if not award.feasible:
        raise ValueError(f"no feasible award under the policy: {award.diagnosis}")
    bids = tender.bids
    excluded = (set(quality.excluded.index) if quality is not None and hasattr(quality, "excluded")
                else set())
    unknown = sorted(set(vendors or ()) - set(tender.vendor_ids))
    if unknown:
        raise ValueError(f"unknown vendor(s) {unknown}; valid: {', '.join(tender.vendor_ids)}")
    rows = []
    for i, bid in bids.iterrows():
        v, lot = str(bid["vendor_id"]), str(bid["lot_id"])
        if vendors is not None and v not in vendors:
            continue
        price = float(bid["unit_price"])
        now = float(award.volumes.at[v, lot]) if v in award.volumes.index else 0.0
        awarded = now > _ENTERED
        row = {"lot_id": lot, "vendor_id": v, "awarded": awarded, "price": price,
               "price_to_enter": math.nan, "price_to_lose": math.nan, "gap_pct": math.nan,
               "solves": 0, "reason": ""}
        if v in excluded:
            row["reason"] = "excluded by a knock-out gate"
            rows.append(row)
            continue
        bid = _BidAt(tender, policy, i, price, quality=quality, start=award, solve=solve)
        if not awarded:  # wins at 0.001 x today's price (checked), loses at today's
            if not bid.wins(1e-3):
                row["reason"] = "no price wins it: capacity, minimum volume or the policy rule it out"
            else:
                f, _ = _boundary(bid.wins, 1e-3, 1.0, rel_tol)
                row["price_to_enter"], row["gap_pct"] = price * f, 100.0 * (f - 1.0)
        elif bid.wins(max_factor):  # wins at today's price, loses at max_factor x (checked)
            row["reason"] = f"keeps its share up to {max_factor:g} times today's price"
        else:
            _, f = _boundary(bid.wins, 1.0, float(max_factor), rel_tol)
            row["price_to_lose"], row["gap_pct"] = price * f, 100.0 * (f - 1.0)
        row["solves"] = bid.solves
        rows.append(row)
    out = pd.DataFrame(rows, columns=["lot_id", "vendor_id", "awarded", "price", "price_to_enter",
                                      "price_to_lose", "gap_pct", "solves", "reason"])
    return out.set_index(["lot_id", "vendor_id"]).sort_index(kind="stable")
