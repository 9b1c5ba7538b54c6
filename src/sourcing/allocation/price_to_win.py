"""Price to win: the unit price at which a bid enters (or leaves) the least-cost award.

For a bid (vendor, lot) the least-cost award does not use, :func:`price_to_win` finds the highest
price at which the vendor would get volume on the lot, the other bids fixed; for a bid it uses,
the lowest price at which the vendor would lose its share.  The bid's unit price and its volume
tiers are scaled by one factor ``f`` and the award re-solved (warm-started from the last award):
the award model is a MILP, so a reduced cost alone is not the answer.

A bid wins at ``f`` when the least total cost with it, ``C(f)``, is below ``C_out``, the least
cost without it (today's cost for a bid not awarded; one solve for a bid awarded).  ``C(f)`` is
the least of lines ``A + f s`` (one per feasible award: ``s`` the bid's spend at today's prices,
``A`` everything else), so it is concave and increasing; the boundary ``f*`` solves
``C(f*) = C_out``.  The search keeps a bracket (``lo`` wins, ``hi`` does not) and steps as
Newton's method on that concave function: from the award solved at ``lo``, its line meets
``C_out`` at or below ``f*``, in a few solves when rules do not depend on prices, and a
bisection step follows any step that did not halve the bracket (a spend-share cap or a budget
makes feasibility depend on prices).  Prices are in the tender currency per unit per year,
before volume discounts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["price_to_win"]

#: Volume (units/year) above which a bid counts as awarded.
_ENTERED = 1e-6
#: Relative MIP gap of the re-solves when none is given: costs compared to ~1e-6 of the total.
_GAP = 1e-6


class _BidAt:
    """Bid row *i* of the tender at ``f`` times its prices: the least total annual cost below a
    cutoff and the bid's spend in that award (tender currency per year)."""

    def __init__(self, tender: Any, policy: Any, i: Any, price: float, *, quality: Any,
                 start: Any, solve: dict[str, Any]) -> None:
        self.tender, self.i, self.price, self.quality = tender, i, price, quality
        # the tie-break's second solve only picks among equally cheap awards: costs are compared
        self.policy = policy.model_copy(update={"tie_break": False})
        self.solve = {**solve, "mip_gap": _GAP if solve.get("mip_gap") is None else solve["mip_gap"]}
        self.vendor = str(tender.bids.at[i, "vendor_id"])
        self.lot = str(tender.bids.at[i, "lot_id"])
        self.award = start  # today's award: the first MIP start
        self.last: tuple[np.ndarray, np.ndarray] | None = None  # segment values of the last award
        self.solves = 0

    def _mine(self, tiers: pd.DataFrame) -> Any:
        return (tiers["vendor_id"].astype(str) == self.vendor) & (tiers["lot_id"].astype(str) == self.lot)

    def without(self) -> float:
        """Least total cost with the bid withdrawn (inf when no award meets the policy)."""
        from .solve import allocate

        self.solves += 1
        tiers = self.tender.tiers
        award = allocate(self.tender, self.policy, bids=self.tender.bids.drop(index=self.i),
                         tiers=tiers[~self._mine(tiers)] if len(tiers) else tiers,
                         quality=self.quality, lot_by_lot=False, **self.solve)
        return float(award.cost["total"]) if award.feasible else math.inf

    def at(self, f: float, cutoff: float) -> tuple[float, float]:
        """``(C(f), s)``: least total cost at ``f`` times the bid's prices, when below *cutoff*
        with volume for the bid, and the bid's spend there; else ``(inf, 0)``."""
        from ._data import make_instance
        from ._solvers import solve_arrays
        from .award import violations, volumes_of
        from .heuristic import greedy
        from .model import build_model, start_vector
        from .solve import warm_start

        self.solves += 1
        bids = self.tender.bids.copy()
        bids.loc[self.i, "unit_price"] = self.price * f
        tiers = self.tender.tiers
        if len(tiers):
            tiers = tiers.copy()
            mine = self._mine(tiers)
            tiers.loc[mine, "unit_price"] = tiers.loc[mine, "unit_price"] * f
        inst = make_instance(self.tender, self.policy, bids=bids, tiers=tiers, quality=self.quality)
        model = build_model(inst, self.policy)
        last = (warm_start(inst, self.policy, self.award) if self.last is None else None
                if violations(inst, self.policy, volumes_of(inst, self.last[0]), atol=1e-7)
                else self.last)  # the last award, where it keeps the rules at these prices
        vecs = [start_vector(model, *s) for s in (greedy(inst, self.policy), last) if s is not None]
        vec = min(vecs, key=model.objective_at, default=None)
        # from a near-optimal start, HiGHS's root heuristics cost more than they find
        info = solve_arrays(model, start=vec, heuristics=vec is None, **self.solve)
        cost = model.cost_at(model.values) if info.has_solution else math.inf
        if cost >= cutoff:
            return math.inf, 0.0
        x, z = model.values[model.cols("x")], model.values[model.cols("z")]
        self.last = (x, z)
        b = int(np.flatnonzero((np.asarray(inst.vendor_ids)[inst.bid_vendor] == self.vendor)
                               & (np.asarray(inst.lot_ids)[inst.bid_lot] == self.lot))[0])
        seg = slice(inst.seg_start[b], inst.seg_start[b + 1])
        if not x[seg].sum() > _ENTERED:  # cheaper without the bid: the cost without it, to the
            return math.inf, 0.0         # solver's precision (a MIP gap of 1e-6)
        return cost, float(inst.seg_price[seg] @ x[seg] + inst.seg_intercept[seg] @ (z[seg] > 0.5))


def _boundary(bid: _BidAt, c_out: float, lo: float, line: tuple[float, float], hi: float | None,
              *, rel_tol: float, cap: float) -> tuple[float, float | None]:
    """The bracket ``(lo, hi)`` of the factor at which the bid stops winning, ``hi / lo - 1 <=
    rel_tol``: *lo* wins with the award line ``line = (A, s)`` (cost ``A + f s``), *hi* does not
    (None: unknown; then *cap* is the highest factor tried, and ``hi`` stays None if the bid
    still wins there)."""
    cutoff = _below(c_out)
    step = 1.0 + rel_tol
    newton = True
    while hi is None or hi / lo > step:
        a, s = line
        p = (c_out - a) / s if newton and s > 0 else math.nan
        if hi is None:  # the first step that does not win brackets it; none up to the cap: holds
            p = cap if not p == p or p >= cap else max(p, lo * step)
        elif not p == p or hi / lo <= step * step:
            p = math.sqrt(lo * hi)
        else:
            p = min(max(p, lo * step), hi / step)
        width = math.log(hi / lo) if hi is not None else math.inf
        cost, spend = bid.at(p, cutoff)
        if cost < cutoff:
            if p >= cap:
                return p, None
            lo, line = p, (cost - spend, spend / p)
        else:
            hi = p
        newton = hi is None or math.log(hi / lo) <= width / 2  # else a bisection step next
    return lo, hi


def _below(cost: float) -> float:
    """The cost (tender currency per year) a changed award must be below to count as cheaper:
    *cost* less the solver's precision."""
    return cost - (1e-9 * abs(cost) + 1e-6)


def price_to_win(tender: Any, policy: Any = None, *, quality: Any = None, award: Any = None,
                 vendors: list[str] | None = None, lots: list[str] | None = None,
                 rel_tol: float = 1e-3, max_factor: float = 4.0, workers: int | None = 1,
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
    lots : list of str, optional
        Only the bids on these lots (e.g. the lots still in negotiation).
    rel_tol : float
        Relative precision of the price found.
    max_factor : float
        How far above today's price an awarded bid is searched for the price that loses it.
    workers : int or None
        Processes searching bids side by side (None: one per core when there are 16 bids or
        more; 1: this process).  The result does not depend on it.
    **solve
        ``solver``, ``time_limit``, ``mip_gap`` of :func:`~sourcing.allocation.allocate`
        (``mip_gap`` defaults to 1e-6 here: the search compares total costs).

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
        award = allocate(tender, policy, quality=quality, lot_by_lot=False, **solve)
    if not award.feasible:
        raise ValueError(f"no feasible award under the policy: {award.diagnosis}")
    bids = tender.bids
    excluded = (set(quality.excluded.index) if quality is not None and hasattr(quality, "excluded")
                else set())
    unknown = sorted(set(vendors or ()) - set(tender.vendor_ids))
    if unknown:
        raise ValueError(f"unknown vendor(s) {unknown}; valid: {', '.join(tender.vendor_ids)}")
    unknown = sorted(set(lots or ()) - set(tender.lot_ids))
    if unknown:
        raise ValueError(f"unknown lot(s) {unknown}; valid: {', '.join(tender.lot_ids)}")
    todo = [i for i, bid in bids.iterrows()
            if (vendors is None or str(bid["vendor_id"]) in vendors)
            and (lots is None or str(bid["lot_id"]) in lots)]
    common = (tender, policy, quality, award, excluded, rel_tol, float(max_factor), solve)
    n = _workers(workers, len(todo))
    rows = _in_processes(common, todo, n) if n > 1 else None
    if rows is None:
        rows = [_one_bid(common, i) for i in todo]
    out = pd.DataFrame(rows, columns=["lot_id", "vendor_id", "awarded", "price", "price_to_enter",
                                      "price_to_lose", "gap_pct", "solves", "reason"])
    return out.set_index(["lot_id", "vendor_id"]).sort_index(kind="stable")


def _one_bid(common: tuple, i: Any) -> dict[str, Any]:
    """The row of :func:`price_to_win` for bid row *i*."""
    tender, policy, quality, award, excluded, rel_tol, max_factor, solve = common
    bid = tender.bids.loc[i]
    today = float(award.cost["total"])
    v, lot = str(bid["vendor_id"]), str(bid["lot_id"])
    price = float(bid["unit_price"])
    now = float(award.volumes.at[v, lot]) if v in award.volumes.index else 0.0
    awarded = now > _ENTERED
    row = {"lot_id": lot, "vendor_id": v, "awarded": awarded, "price": price,
           "price_to_enter": math.nan, "price_to_lose": math.nan, "gap_pct": math.nan,
           "solves": 0, "reason": ""}
    if v in excluded:
        row["reason"] = "excluded by a knock-out gate"
        return row
    at = _BidAt(tender, policy, i, price, quality=quality, start=award, solve=solve)
    if not awarded:  # loses at today's price; wins at 0.001 x today's (checked)
        floor = 1e-3
        cost, spend = at.at(floor, _below(today))
        if cost == math.inf:
            row["reason"] = "no price wins it: capacity, minimum volume or the policy rule it out"
        else:
            f, _ = _boundary(at, today, floor, (cost - spend, spend / floor), 1.0,
                             rel_tol=rel_tol, cap=1.0)
            row["price_to_enter"], row["gap_pct"] = price * f, 100.0 * (f - 1.0)
    else:  # wins at today's price (the award given)
        c_out = at.without()
        spend = float(award.spend.at[v, lot])
        if c_out == math.inf:
            row["reason"] = "no award meets the policy without it"
        elif not today < _below(c_out):  # as cheap without it: any rise loses it
            row["price_to_lose"], row["gap_pct"] = price, 0.0
        else:
            _, f = _boundary(at, c_out, 1.0, (today - spend, spend), None, rel_tol=rel_tol,
                             cap=max_factor)
            if f is None:
                row["reason"] = f"keeps its share up to {max_factor:g} times today's price"
            else:
                row["price_to_lose"], row["gap_pct"] = price * f, 100.0 * (f - 1.0)
    row["solves"] = at.solves
    return row


#: Fewest bids searched in other processes when *workers* is None (starting one costs ~1 s).
_PARALLEL_BIDS = 16


def _workers(workers: int | None, bids: int) -> int:
    """Processes for *bids* searches: *workers* (None: one per core, from :data:`_PARALLEL_BIDS`
    bids on), one inside a process that may not start others (a Dask or multiprocessing worker)
    or whose main script a new process cannot read (``python -``), never more than the bids."""
    import multiprocessing
    import os
    import sys

    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be at least 1 (or None: one per core), not {workers}")
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if multiprocessing.current_process().daemon or (main is not None and not os.path.isfile(main)):
        return 1
    if workers is None:
        return min(os.cpu_count() or 1, bids) if bids >= _PARALLEL_BIDS else 1
    return min(int(workers), bids)


def _in_processes(common: tuple, todo: list, n: int) -> list[dict[str, Any]] | None:
    """The rows of *todo* searched by *n* new processes, the inputs sent once to each; None
    when the processes could not be started or died (the caller searches them itself)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from ..cache import dumps

    try:
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_receive, initargs=(dumps(common),)) as pool:
            return list(pool.map(_one_bid_received, todo, chunksize=1))
    except (BrokenProcessPool, OSError):
        return None


_RECEIVED: tuple | None = None


def _receive(common: bytes) -> None:
    import pickle

    global _RECEIVED
    _RECEIVED = pickle.loads(common)


def _one_bid_received(i: Any) -> dict[str, Any]:
    assert _RECEIVED is not None
    return _one_bid(_RECEIVED, i)
