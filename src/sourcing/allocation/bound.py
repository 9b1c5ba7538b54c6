"""A lower bound of the award MILP beyond its LP relaxation: the Lagrangian bound by lots.

The rows of the award model (:func:`~sourcing.allocation.model.build_model`) are of two kinds.
*Lot rows* have every column in one lot (the lot's segment volumes ``x`` and uses ``z``):
segment links, demand, vendors per lot, quality floor, risk cap.
*Coupling rows* reach across lots or into the vendor columns: one segment per bid (which ties
``z`` to the vendor's ``u``), the concentration cap and spend total, lots per vendor, vendors
overall, include, budget.  Dualising the coupling rows ``D`` with multipliers ``y`` (Geoffrion
1974) splits the model into one small MILP per lot and a box problem in the vendor columns::

    L(y) = c0 + sum_{i in D} y_i b_i  +  sum_lots min_{x_j in X_j} (c - A_D' y)_j x_j
                                      +  sum_{g vendor columns} min_{lb_g <= x_g <= ub_g} (c - A_D' y)_g x_g

where ``b_i`` is row ``i``'s lower bound when ``y_i > 0`` and its upper bound when ``y_i < 0``,
and ``X_j`` is lot ``j``'s rows, bounds and integrality (plus, for each coupling row whose lot
part lies in lot ``j``, that part with the vendor columns relaxed to their bounds, e.g.
``sum_s z_s <= 1`` per bid).  ``L(y)`` is at most the optimum for every ``y`` (weak duality);
with the LP relaxation's optimal duals it is at least the LP bound (Geoffrion 1974, Theorem 1:
the lot MILPs restrict the lot LPs, whose values at those duals add up to the LP optimum).

Each lot MILP is small (a lot's bids and price segments) and HiGHS's proven bound of it is used,
so a lot cut short by the time limit still gives a valid bound; lots that were not reached keep
their LP value (the weak-duality bound of the same multipliers).  Lots are taken in order of
how much they can gain (their incumbent value less their LP value), and binaries whose reduced
cost exceeds that gap are fixed first (reduced-cost fixing: they cannot be in a solution of the
lot better than the incumbent's).

Money is in the tender currency per year, as the model's objective.

References
----------
Geoffrion, A. M. (1974). Lagrangean relaxation for integer programming. *Mathematical
Programming Study* 2, 82-114.
Fisher, M. L. (1981). The Lagrangian relaxation method for solving integer programming problems.
*Management Science* 27(1), 1-18.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._solvers import highs_arrays

__all__ = ["LagrangianBound", "knapsack_bound", "lagrangian_bound"]


@dataclass(frozen=True)
class LagrangianBound:
    """A proven bound of the award model's objective (its sense: at most the least cost of a
    cost model, at least the best quality of a quality model).

    Attributes
    ----------
    value : float
        The Lagrangian bound (tender currency per year for a cost objective).
    lp_value : float
        The bound of the same multipliers without integrality (the LP relaxation's bound when
        they are its optimal duals).
    lots_solved, lots_total : int
        Lot MILPs solved (to optimality or cut short) of all lots with a column.
    time : float
        Seconds spent.
    """

    value: float
    lp_value: float
    lots_solved: int
    lots_total: int
    time: float


def _column_lots(model) -> np.ndarray:
    """Lot of each column (-1 for the vendor-wide columns ``u``, ``spend_total``, ``slack``)."""
    inst = model.inst
    out = np.full(model.n_cols, -1, np.int64)
    seg_lot = inst.bid_lot[inst.seg_bid]
    out[model.cols("x")] = seg_lot
    out[model.cols("z")] = seg_lot
    return out


def _box_min(d: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """``min d x`` over ``lb <= x <= ub``, per column (0 where ``d`` is 0; -inf where unbounded)."""
    with np.errstate(invalid="ignore"):
        out = np.where(d > 0, d * lb, np.where(d < 0, d * ub, 0.0))
    return np.where(np.isnan(out), -np.inf, out)


def lagrangian_bound(model, duals: np.ndarray, *, incumbent: np.ndarray | None = None,
                     time_limit: float | None = None, lot_time_limit: float = 2.0,
                     mip_gap: float | None = None) -> LagrangianBound | None:
    """The Lagrangian bound of *model* by lots, with multipliers *duals* on its coupling rows.

    Parameters
    ----------
    model : ArrayModel
        The award model (not changed: its ``values`` and ``duals`` are left as they are).
    duals : ndarray, shape (n_rows,)
        Row multipliers in the model's sense, as :func:`~sourcing.allocation._solvers.solve_arrays`
        returns them for the LP relaxation (``model.duals``).  Any values give a valid bound;
        the LP's optimal duals give one at least as tight as the LP relaxation.
    incumbent : ndarray, optional
        A feasible column vector (e.g. the best award so far): orders the lots by what they can
        gain and fixes binaries that cannot improve on it.
    time_limit : float, optional
        Seconds for all lot MILPs; lots not reached keep their LP value.
    lot_time_limit : float
        Seconds at most per lot MILP (its proven bound is used when cut short).
    mip_gap : float, optional
        Relative gap at which a lot MILP stops (HiGHS's default, 1e-4, when None); its proven
        bound is used either way.

    Returns
    -------
    LagrangianBound or None
        None when the bound is not finite (a vendor-wide column without a finite bound on the
        side its reduced cost pulls to, as in the elastic model).
    """
    t0 = time.perf_counter()
    sign = -1.0 if model.maximize else 1.0          # minimise sign * objective
    c = sign * model.c
    c0 = sign * model.c0
    y = sign * np.asarray(duals, float)
    starts, idx, val, lo, hi = model.csr()
    n, m = model.n_cols, len(lo)
    lb, ub = model.lb, model.ub
    a = sp.csr_matrix((val, idx, starts), shape=(m, n))
    # a multiplier on the side of an infinite bound would make the bound -inf: drop it
    y = np.where(((y > 0) & ~np.isfinite(lo)) | ((y < 0) & ~np.isfinite(hi)), 0.0, y)
    rhs = np.where(y > 0, lo, np.where(y < 0, hi, 0.0))
    col_lot = _column_lots(model)
    glob = col_lot < 0
    n_lots = model.inst.n_lots
    # rows: the lot of their columns when they all share one lot, else coupling
    row = np.repeat(np.arange(m), np.diff(starts))
    cl = col_lot[idx]
    big = np.iinfo(np.int64).max
    lot_min = np.full(m, big)
    lot_max = np.full(m, -2)
    np.minimum.at(lot_min, row, cl)
    np.maximum.at(lot_max, row, cl)
    local = (lot_min == lot_max) & (lot_min >= 0)
    d = c - a.T @ y                                   # reduced costs of all multipliers
    box = _box_min(d, lb, ub)
    if not np.isfinite(box[glob]).all():
        return None
    # the weak-duality bound, split into a vendor-wide constant and one LP value per lot
    yb = y * np.where(y != 0, rhs, 0.0)
    const = c0 + float(yb[~local].sum()) + float(box[glob].sum())
    lot_lp = np.zeros(n_lots)
    np.add.at(lot_lp, lot_min[local], yb[local])
    np.add.at(lot_lp, col_lot[~glob], box[~glob])
    if not np.isfinite(lot_lp).all():
        return None
    lp_value = const + float(lot_lp.sum())
    # lot objectives: the multipliers of the coupling rows only
    c_lot = d + a[local].T @ y[local]
    # each lot's rows: its own rows, and the lot part of coupling rows that reach one lot only
    ent_lot = ~glob[idx]
    part_min = np.full(m, big)
    part_max = np.full(m, -2)
    np.minimum.at(part_min, row[ent_lot], cl[ent_lot])
    np.maximum.at(part_max, row[ent_lot], cl[ent_lot])
    copy = ~local & (part_min == part_max) & (part_min >= 0)
    g_entry = glob[idx]
    gmin = np.zeros(m)
    gmax = np.zeros(m)
    gcol = idx[g_entry]
    gv = val[g_entry]
    with np.errstate(invalid="ignore"):
        np.add.at(gmin, row[g_entry], np.minimum(gv * lb[gcol], gv * ub[gcol]))
        np.add.at(gmax, row[g_entry], np.maximum(gv * lb[gcol], gv * ub[gcol]))
    copy_lo = lo - gmax
    copy_hi = hi - gmin
    copy &= np.isfinite(copy_lo) | np.isfinite(copy_hi)
    keep = local | copy
    sub = sp.csr_matrix((np.where(g_entry, 0.0, val), idx, starts), shape=(m, n))[keep]
    sub.eliminate_zeros()
    sub_lo = np.where(local, lo, copy_lo)[keep]
    sub_hi = np.where(local, hi, copy_hi)[keep]
    sub_lot = np.where(local, lot_min, part_min)[keep]
    # columns and rows in lot order, so that each lot is a contiguous slice
    col_order = np.flatnonzero(~glob)[np.argsort(col_lot[~glob], kind="stable")]
    position = np.full(n, -1, np.int64)
    position[col_order] = np.arange(len(col_order))
    row_order = np.argsort(sub_lot, kind="stable")
    sub = sub[row_order]
    sub = sp.csr_matrix((sub.data, position[sub.indices], sub.indptr), shape=(sub.shape[0], len(col_order)))
    sub_lo, sub_hi, sub_lot = sub_lo[row_order], sub_hi[row_order], sub_lot[row_order]
    col_bounds = np.searchsorted(col_lot[col_order], np.arange(n_lots + 1))
    row_bounds = np.searchsorted(sub_lot, np.arange(n_lots + 1))
    # what each lot can gain, and reduced-cost fixing against the incumbent
    lb_f, ub_f = lb.copy(), ub.copy()
    lots = np.flatnonzero(np.diff(col_bounds) > 0)
    start = None
    if incumbent is not None:
        start = np.asarray(incumbent, float)
        lot_inc = np.zeros(n_lots)
        np.add.at(lot_inc, col_lot[~glob], (c_lot * start)[~glob])
        gap = lot_inc - lot_lp
        lots = lots[np.argsort(-gap[lots], kind="stable")]
        tol = 1e-6 * np.maximum(np.abs(lot_inc), 1.0)
        slack = np.where(glob, np.inf, (gap + tol)[np.maximum(col_lot, 0)])
        fix = model.integer & ~glob & (np.abs(d) > slack)
        at = np.where(d > 0, lb, ub)
        lb_f[fix] = ub_f[fix] = at[fix]
    integer = model.integer
    bound = lot_lp.copy()
    solved = 0
    for j in lots.tolist():
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if left is not None and left < 0.05:
            break
        cols = col_order[col_bounds[j]:col_bounds[j + 1]]
        r0, r1 = row_bounds[j], row_bounds[j + 1]
        block = sub[r0:r1]
        info, _, _ = highs_arrays(
            lb_f[cols], ub_f[cols], integer[cols], c_lot[cols], 1.0, 0.0,
            (block.indptr - block.indptr[0]).astype(np.int32),
            (block.indices - col_bounds[j]).astype(np.int32), block.data, sub_lo[r0:r1], sub_hi[r0:r1],
            time_limit=lot_time_limit if left is None else min(lot_time_limit, left), mip_gap=mip_gap,
            start=None if start is None else start[cols])
        solved += 1
        found = info.bound if np.isfinite(info.bound) else (
            info.objective if info.status == "optimal" else -np.inf)
        bound[j] = max(bound[j], found)
    value = const + float(bound.sum())
    return LagrangianBound(sign * value, sign * lp_value, solved, len(lots), time.perf_counter() - t0)


def knapsack_bound(model) -> float:
    """A lower bound of a cost model's annual cost (tender currency per year) in one sort, for a
    model too large for its LP relaxation in the time at hand: each lot's demand bought on its
    cheapest segments per unit.

    Per segment, the unit cost is its volume coefficient plus its fixed coefficient (setup,
    intercept) spread over its most volume (``c_x + c_z / hi``: what ``z >= x / hi`` charges at
    the least); each lot buys its least demand (units/year) from the cheapest units first.  It
    drops every row but the lot's demand and the segments' caps (one segment per bid, vendor
    counts, quality, rules across lots; the vendors' onboarding costs nothing), except that
    columns a row holds at 0 (an ``only`` rule's ``sum x <= 0`` over the vendors outside it) stay
    at 0: a relaxation, so at most the optimum.  ``-inf`` for a model it does not bound (a
    quality or blended objective, a negative cost).
    """
    inst = model.inst
    S = len(inst.seg_bid)
    cx, cz = model.c[:S], model.c[S:2 * S]
    if model.maximize or (model.c < 0).any() or not S:
        return float("-inf")
    starts, idx, val, lo, hi = model.csr()
    m = len(lo)
    row = np.repeat(np.arange(m), np.diff(starts))
    # rows sum(a x) <= 0 with every a > 0 over columns >= 0 hold each of their columns at 0
    bad = np.zeros(m, bool)
    np.logical_or.at(bad, row, (val <= 0) | (model.lb[idx] < 0))
    zero_rows = (hi <= 0) & ~bad
    closed = np.zeros(model.n_cols, bool)
    closed[idx[zero_rows[row]]] = True
    cap = np.where(closed[:S], 0.0, model.ub[:S])
    unit = cx + np.where(cap > 0, np.maximum(cz, 0.0) / np.maximum(cap, 1e-300), np.inf)
    lot = inst.bid_lot[inst.seg_bid]
    tol = model.policy.demand_tolerance_pct / 100.0
    need = inst.demand * (1 - tol)
    order = np.lexsort((unit, lot))
    lot_o, cap_o, unit_o = lot[order], cap[order], unit[order]
    first = np.searchsorted(lot_o, np.arange(inst.n_lots))
    filled = np.cumsum(cap_o)
    before = filled - cap_o - np.concatenate([[0.0], filled])[first][lot_o]   # lot's capacity ahead
    take = np.clip(need[lot_o] - before, 0.0, cap_o)
    with np.errstate(invalid="ignore"):
        cost = np.where(take > 0, take * unit_o, 0.0)
    return float(model.c0 + cost.sum())
