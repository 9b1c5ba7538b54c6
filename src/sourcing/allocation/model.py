"""The award MILP: one block of rows per policy rule, compiled to arrays, solved honestly.

Formulation (money in the tender currency; annual amounts per year)
--------------------------------------------------------------------
Each bid ``b`` (vendor ``v``, lot ``l``) is split into price segments ``s`` (one per volume tier,
see :class:`~sourcing.allocation._data.Instance`).  Variables exist only for bids that exist:

* ``x[s] >= 0`` units/year bought on segment ``s``; ``z[s]`` binary, the segment is used;
  ``lo[s] z[s] <= x[s] <= hi[s] z[s]`` (disaggregated linking; ``hi`` is the tight big-M:
  min(tier end, bid capacity, max share x demand, demand less what the other vendors that
  ``min_vendors_per_lot`` requires must take)); at most one segment per bid;
* ``u[v]`` binary, vendor engaged; ``sum_s z[s] <= u[v]`` per bid (disaggregated);
* ``m[l] >= demand[l] - x[incumbent, l]`` units moved away from the incumbent;
* ``T`` total annual unit-price spend (only with a concentration cap).

Annual cost = sum(intercept[s] z[s] + price[s] x[s])  (unit cost after volume discounts)
            + k * (setup_b z + onboarding_v u + switching_l m)   (one-off costs annualised)

with ``k = 1 / contract_years`` (``Policy.one_off="straight"``, default), the annuity factor
(``"annuity"``) or 0 (``"ignore"``).  Demand rows are ``==`` (``Policy.demand="exact"``) or ``>=``
(``"at_least"``).

Each rule is one function below returning a :class:`~sourcing.allocation.arrays.Block` of rows
built with numpy (no per-term Python objects); :func:`build_model` stacks them into an
:class:`~sourcing.allocation.arrays.ArrayModel`, which HiGHS reads directly and
:meth:`~sourcing.allocation.arrays.ArrayModel.to_pulp` turns into the same PuLP problem.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._data import DEFAULT_CURRENCY, Instance, make_instance
from ._solvers import SOLVERS, SolveInfo, solve_arrays
from .arrays import EQ, GE, LE, ArrayModel, Block, block, group_rows
from .policy import Policy

__all__ = ["Award", "Model", "allocate", "build_model"]

OBJECTIVES = ("cost", "quality")

#: The built model (arrays; ``.to_pulp()`` for the PuLP problem).
Model = ArrayModel


@dataclass
class _Layout:
    """Column layout and the index arrays every rule needs."""

    inst: Instance
    S: int
    seg_v: np.ndarray          # (S,) vendor of each segment
    seg_l: np.ndarray          # (S,) lot of each segment
    vendors: np.ndarray        # vendors with a usable bid (one u column each)
    u_col: np.ndarray          # (V,) column of u[v], -1 for a vendor without a bid
    moved_lots: np.ndarray     # lots with a switching variable
    switch_const: float        # switching (one-off) of lots whose incumbent did not bid
    groups: dict = field(default_factory=dict)
    n: int = 0                 # number of columns
    by_lot: np.ndarray | None = None     # segments sorted by lot (stable)
    by_vendor: np.ndarray | None = None  # segments sorted by vendor (stable)
    hi: np.ndarray | None = None         # (S,) tightest valid volume cap of each segment

    def x(self, segs=slice(None)):
        return np.arange(self.S)[segs]

    def z(self, segs=slice(None)):
        return self.S + np.arange(self.S)[segs]


def _layout(inst: Instance, policy: Policy) -> _Layout:
    S, V = len(inst.seg_bid), inst.n_vendors
    seg_v = inst.bid_vendor[inst.seg_bid] if S else np.zeros(0, np.int64)
    seg_l = inst.bid_lot[inst.seg_bid] if S else np.zeros(0, np.int64)
    vendors = np.unique(inst.bid_vendor)
    u_col = np.full(V, -1, np.int64)
    u_col[vendors] = 2 * S + np.arange(len(vendors))
    moved, switch_const = np.zeros(0, np.int64), 0.0
    if policy.switching_costs:
        inc = inst.lot_incumbent
        charged = (inc >= 0) & (inst.switching > 0)
        has_bid = np.zeros(inst.n_lots, bool)
        has_bid[seg_l[seg_v == inc[seg_l]]] = True
        moved = np.flatnonzero(charged & has_bid)
        gone = charged & ~has_bid
        switch_const = float(np.sum(inst.switching[gone] * inst.demand[gone]))
    lay = _Layout(inst, S, seg_v, seg_l, vendors, u_col, moved, switch_const)
    lay.groups = {"x": (0, S), "z": (S, 2 * S)}
    n = 2 * S
    for name, size in (("u", len(vendors)), ("moved", len(moved)),
                       ("spend_total", int(policy.max_spend_share_pct is not None))):
        lay.groups[name] = (n, n + size)
        n += size
    lay.n = n
    lay.hi = _segment_caps(inst, policy, seg_l)
    lay.by_lot = np.argsort(seg_l, kind="stable")
    lay.by_vendor = np.argsort(seg_v, kind="stable")
    return lay


def _segment_caps(inst: Instance, policy: Policy, seg_l: np.ndarray) -> np.ndarray:
    """The tightest valid cap of each segment's volume (the big-M of its link row).

    ``Instance.seg_hi`` already is min(tier end, capacity, share cap x demand, demand).  With
    ``min_vendors_per_lot = k >= 2`` and demand met exactly (within its tolerance), the other
    ``k - 1`` vendors of the lot take at least their least volumes, so a segment can carry at
    most ``demand (1 + tol)`` minus the ``k - 1`` smallest least volumes of the lot's bids.
    """
    hi = inst.seg_hi.copy()
    k = policy.min_vendors_per_lot
    B = len(inst.bid_vendor)
    if not k or k < 2 or policy.demand != "exact" or not B:
        return hi
    low = np.full(B, np.inf)
    np.minimum.at(low, inst.seg_bid, inst.seg_lo)
    order = np.lexsort((low, inst.bid_lot))
    lot_sorted, low_sorted = inst.bid_lot[order], low[order]
    rank = np.arange(B) - np.searchsorted(lot_sorted, lot_sorted)   # position within its lot
    take = rank < k - 1
    reserve = np.zeros(inst.n_lots)
    np.add.at(reserve, lot_sorted[take], low_sorted[take])
    top = inst.demand * (1 + policy.demand_tolerance_pct / 100.0) - reserve
    return np.maximum(np.minimum(hi, top[seg_l]), 0.0)


def _moved_col(lay: _Layout) -> np.ndarray:
    return lay.groups["moved"][0] + np.arange(len(lay.moved_lots))


# ---------------------------------------------------------------------- structural rows
def _link(lay: _Layout) -> Block:
    """``x[s] - hi[s] z[s] <= 0`` and, where the least volume is > 0, ``x[s] - lo[s] z[s] >= 0``;
    per segment, its ``hi`` row then its ``lo`` row."""
    inst, S = lay.inst, lay.S
    has_lo = inst.seg_lo > 0
    keys = np.repeat(np.arange(S), 1 + has_lo.astype(np.int64))    # hi_s, then lo_s where lo > 0
    r = len(keys)
    kind = np.zeros(r, np.int64)
    kind[1:] = keys[1:] == keys[:-1]
    bound = np.where(kind == 1, inst.seg_lo[keys], lay.hi[keys])
    row = np.repeat(np.arange(r), 2)
    col = np.column_stack([lay.x(keys), lay.z(keys)]).ravel()
    coef = np.column_stack([np.ones(r), -bound]).ravel()
    sense = np.where(kind == 1, GE, LE)
    return block("link", "segment", keys, row, col, coef, sense, 0.0, names=("hi", "lo"), kind=kind,
                 structural=True)


def _one_segment(lay: _Layout) -> Block:
    """At most one segment per bid, and only from an engaged vendor: ``sum_s z[s] - u[v] <= 0``."""
    inst = lay.inst
    B = len(inst.bid_vendor)
    row = np.concatenate([inst.seg_bid, np.arange(B)])
    col = np.concatenate([lay.z(), lay.u_col[inst.bid_vendor]])
    coef = np.concatenate([np.ones(lay.S), -np.ones(B)])
    return block("one_segment", "bid", np.arange(B), row, col, coef, LE, 0.0, names=("one",),
                 structural=True)


def _moved(lay: _Layout) -> Block | None:
    """Units moved away from the incumbent: ``m[l] + x[incumbent, l] >= demand[l]``."""
    inst, lots = lay.inst, lay.moved_lots
    if not len(lots):
        return None
    inc_seg = np.flatnonzero(lay.seg_v == inst.lot_incumbent[lay.seg_l])
    r, c, a = group_rows(lay.seg_l[inc_seg], lay.x(inc_seg), 1.0, lots, inst.n_lots)
    row = np.concatenate([np.arange(len(lots)), r])
    col = np.concatenate([_moved_col(lay), c])
    coef = np.concatenate([np.ones(len(lots)), a])
    return block("moved", "lot", lots, row, col, coef, GE, inst.demand[lots], names=("moved",),
                 structural=True)


def _spend(lay: _Layout, segs: np.ndarray):
    """Columns and coefficients of the unit-price spend of segments *segs*."""
    inst = lay.inst
    return (np.concatenate([lay.x(segs), lay.z(segs)]),
            np.concatenate([inst.seg_price[segs], inst.seg_intercept[segs]]))


def _spend_total(lay: _Layout) -> Block:
    """``T = sum_s price[s] x[s] + intercept[s] z[s]`` (total annual unit-price spend)."""
    col, coef = _spend(lay, np.arange(lay.S))
    t = lay.groups["spend_total"][0]
    return block("spend_total", "all", [0], np.zeros(len(col) + 1), np.append(col, t),
                 np.append(coef, -1.0), EQ, 0.0, names=("spend_total",), structural=True)


# ---------------------------------------------------------------------- policy rules
def _per_lot(lay: _Layout, cols: np.ndarray, coef, lots: np.ndarray | None = None):
    """Triplets of one row per lot summing ``coef * col`` over the lot's segments."""
    lots = np.arange(lay.inst.n_lots) if lots is None else lots
    return group_rows(lay.seg_l, cols, coef, lots, lay.inst.n_lots, order=lay.by_lot)


def demand(lay: _Layout, policy: Policy) -> Block:
    """Each lot's demand is met: ``sum x == d`` (``exact``) or ``>= d (1 - tol)`` (``at_least``,
    or ``exact`` with a tolerance, which adds ``<= d (1 + tol)``).  Violation unit: 1 % of demand."""
    d = lay.inst.demand
    L = len(d)
    tol = policy.demand_tolerance_pct / 100.0
    r, c, a = _per_lot(lay, lay.x(), 1.0)
    if policy.demand == "exact" and tol == 0:
        return block("demand", "lot", np.arange(L), r, c, a, EQ, d, scale=d / 100, names=("demand",))
    if policy.demand == "at_least":
        return block("demand", "lot", np.arange(L), r, c, a, GE, d * (1 - tol), scale=d / 100,
                     names=("demand",))
    # rows demand_j (>=) and demand_max_j (<=), per lot
    return block("demand", "lot", np.repeat(np.arange(L), 2),
                 np.concatenate([2 * r, 2 * r + 1]), np.tile(c, 2), np.tile(a, 2),
                 np.tile([GE, LE], L), np.column_stack([d * (1 - tol), d * (1 + tol)]).ravel(),
                 scale=np.repeat(d / 100, 2), names=("demand", "demand_max"), kind=np.tile([0, 1], L))


def min_vendors_per_lot(lay: _Layout, policy: Policy) -> Block | None:
    """At least ``min_vendors_per_lot`` vendors in every lot: ``sum z >= k``."""
    if policy.min_vendors_per_lot is None:
        return None
    r, c, a = _per_lot(lay, lay.z(), 1.0)
    return block("min_vendors_per_lot", "lot", np.arange(lay.inst.n_lots), r, c, a, GE,
                 float(policy.min_vendors_per_lot), scale=0.1, names=("min_vendors",))


def max_vendors_per_lot(lay: _Layout, policy: Policy) -> Block | None:
    """At most ``max_vendors_per_lot`` vendors in every lot: ``sum z <= k``."""
    if policy.max_vendors_per_lot is None:
        return None
    r, c, a = _per_lot(lay, lay.z(), 1.0)
    return block("max_vendors_per_lot", "lot", np.arange(lay.inst.n_lots), r, c, a, LE,
                 float(policy.max_vendors_per_lot), scale=0.1, names=("max_vendors",))


def _lots_with_bids(lay: _Layout) -> np.ndarray:
    return np.unique(lay.seg_l)


def quality_floor(lay: _Layout, policy: Policy) -> Block | None:
    """Volume-weighted quality of every lot with a bid at least the floor:
    ``sum (quality[v] - floor) x >= 0``.  Violation unit: one point x the lot's demand."""
    if policy.quality_floor is None:
        return None
    lots = _lots_with_bids(lay)
    coef = lay.inst.quality[lay.seg_v] - policy.quality_floor
    r, c, a = _per_lot(lay, lay.x(), coef, lots)
    return block("quality_floor", "lot", lots, r, c, a, GE, 0.0, scale=lay.inst.demand[lots],
                 names=("quality",))


def risk_cap(lay: _Layout, policy: Policy) -> Block | None:
    """Volume-weighted vendor risk of every lot with a bid at most the cap:
    ``sum (risk[v] - cap) x <= 0``.  Violation unit: one point x the lot's demand."""
    if policy.risk_cap is None:
        return None
    lots = _lots_with_bids(lay)
    coef = lay.inst.risk_score[lay.seg_v] - policy.risk_cap
    r, c, a = _per_lot(lay, lay.x(), coef, lots)
    return block("risk_cap", "lot", lots, r, c, a, LE, 0.0, scale=lay.inst.demand[lots], names=("risk",))


def max_vendors_total(lay: _Layout, policy: Policy) -> Block | None:
    """At most ``max_vendors_total`` vendors engaged: ``sum u <= k``."""
    if policy.max_vendors_total is None:
        return None
    cols = lay.u_col[lay.vendors]
    return block("max_vendors_total", "all", [0], np.zeros(len(cols)), cols, 1.0,
                 LE, float(policy.max_vendors_total), scale=0.1, names=("max_vendors_total",))


def _per_vendor(lay: _Layout, cols: np.ndarray, coef, vendors: np.ndarray):
    return group_rows(lay.seg_v, cols, coef, vendors, lay.inst.n_vendors, order=lay.by_vendor)


def max_lots_per_vendor(lay: _Layout, policy: Policy) -> Block | None:
    """At most ``max_lots_per_vendor`` lots per vendor: ``sum_s z[s] <= k`` over its segments."""
    if policy.max_lots_per_vendor is None:
        return None
    r, c, a = _per_vendor(lay, lay.z(), 1.0, lay.vendors)
    return block("max_lots_per_vendor", "vendor", lay.vendors, r, c, a, LE,
                 float(policy.max_lots_per_vendor), scale=0.1, names=("max_lots",))


def include(lay: _Layout, policy: Policy) -> list[Block]:
    """Every included vendor gets some volume: ``sum_s z[s] >= 1`` over its segments; a vendor
    without a usable bid gets the infeasible row ``0 >= 1``."""
    ids = lay.inst.vendor_ids
    wanted = np.array(sorted(ids.index(v) for v in policy.include), np.int64)
    with_bid = wanted[lay.u_col[wanted] >= 0] if len(wanted) else wanted
    out = []
    if len(with_bid):
        r, c, a = _per_vendor(lay, lay.z(), 1.0, with_bid)
        out.append(block("include", "vendor", with_bid, r, c, a, GE, 1.0, scale=0.1, names=("include",)))
    nobid = [ids.index(v) for v in policy.include if lay.u_col[ids.index(v)] < 0]
    if nobid:
        out.append(block("include", "vendor", nobid, [], [], [], GE, 1.0, scale=1.0,
                         names=("include_nobid",)))
    return out


def max_spend_share_pct(lay: _Layout, policy: Policy, cost_ref: float | None) -> Block | None:
    """Each vendor's unit-price spend at most ``max_spend_share_pct`` % of the total:
    ``spend_v - c T <= 0``.  Violation unit: 1 % of the cost scale."""
    if policy.max_spend_share_pct is None:
        return None
    col, coef = _spend(lay, np.arange(lay.S))
    seg_v2 = np.tile(lay.seg_v, 2)
    r, c, a = group_rows(seg_v2, col, coef, lay.vendors, lay.inst.n_vendors)
    nv = len(lay.vendors)
    t = lay.groups["spend_total"][0]
    share = policy.max_spend_share_pct / 100.0
    return block("max_spend_share_pct", "vendor", lay.vendors, np.concatenate([r, np.arange(nv)]),
                 np.concatenate([c, np.full(nv, t)]), np.concatenate([a, np.full(nv, -share)]), LE, 0.0,
                 scale=(cost_ref or 1.0) / 100, names=("concentration",))


def budget(lay: _Layout, policy: Policy, total: tuple[np.ndarray, float],
           cost_ref: float | None) -> Block | None:
    """Total annual cost (one-off costs annualised) at most the budget.  Violation unit: 1 % of
    the larger of the budget and the cost scale, so that an absurdly low budget is relaxed before
    any lot's demand in the elastic model."""
    if policy.budget is None:
        return None
    coef, const = total
    nz = np.flatnonzero(coef)
    ref = max(float(policy.budget), cost_ref or cost_reference(lay.inst))
    return block("budget", "all", [0], np.zeros(len(nz)), nz, coef[nz], LE, float(policy.budget) - const,
                 scale=ref / 100, names=("budget",))


# ---------------------------------------------------------------------- objective and assembly
def _costs(lay: _Layout, policy: Policy, n: int) -> dict[str, tuple[np.ndarray, float]]:
    """Cost expressions over the columns: unit cost (per year), setup, onboarding and switching
    (one-off, tender currency) and the annual total (one-offs annualised)."""
    inst, S, k = lay.inst, lay.S, lay.inst.annualise
    xs, zs = lay.x(), lay.z()
    setup_coef = inst.bid_setup[inst.seg_bid] if S else np.zeros(0)
    moved_rate = inst.switching[lay.moved_lots]
    out = {}
    vec = {name: np.zeros(n) for name in ("unit_cost", "setup", "onboarding", "switching", "total")}
    vec["unit_cost"][xs] = inst.seg_price
    vec["unit_cost"][zs] = inst.seg_intercept
    if policy.setup_costs:
        vec["setup"][zs] = setup_coef
    if policy.onboarding_costs:
        vec["onboarding"][lay.u_col[lay.vendors]] = inst.onboarding[lay.vendors]
    vec["switching"][_moved_col(lay)] = moved_rate
    vec["total"] = vec["unit_cost"] + k * (vec["setup"] + vec["onboarding"] + vec["switching"])
    consts = {"switching": lay.switch_const, "total": k * lay.switch_const}
    for name, v in vec.items():
        out[name] = (v, consts.get(name, 0.0))
    return out


def build_model(inst: Instance, policy: Policy, *, objective: str | float = "cost",
                elastic: bool = False, cost_ref: float | None = None) -> ArrayModel:
    """Build the award MILP for *inst* under *policy* as arrays.

    Parameters
    ----------
    objective : "cost", "quality" or float in [0, 1]
        ``cost`` minimises annual cost; ``quality`` maximises the lot-average volume-weighted
        quality (0-100) subject to the rules (set a budget); a float ``w`` minimises
        ``(1 - w) cost / cost_ref - w quality / 100``.
    elastic : bool
        Add a non-negative slack to every policy row and minimise their weighted sum instead
        (used by the diagnosis of infeasible policies).
    cost_ref : float, optional
        Cost scale (tender currency per year) of blended objectives and violation units.

    Returns
    -------
    ArrayModel
        Rows in this order: segment links, one segment per bid, demand, then one block per rule
        of the policy (vendors per lot, quality floor, risk cap, vendors overall, lots per vendor,
        include), switching, spend total, concentration cap, budget.
    """
    lay = _layout(inst, policy)
    n = lay.n
    S = lay.S
    costs = _costs(lay, policy, n)
    blocks = [_link(lay), _one_segment(lay), demand(lay, policy),
              min_vendors_per_lot(lay, policy), max_vendors_per_lot(lay, policy),
              quality_floor(lay, policy), risk_cap(lay, policy), max_vendors_total(lay, policy),
              max_lots_per_vendor(lay, policy), *include(lay, policy), _moved(lay)]
    if policy.max_spend_share_pct is not None:
        blocks += [_spend_total(lay), max_spend_share_pct(lay, policy, cost_ref)]
    blocks.append(budget(lay, policy, costs["total"], cost_ref))
    blocks = [b for b in blocks if b is not None]
    lb = np.zeros(n)
    ub = np.full(n, np.inf)
    ub[:S] = lay.hi
    ub[S:lay.groups["u"][1]] = 1.0
    ub[_moved_col(lay)] = inst.demand[lay.moved_lots]
    t0, t1 = lay.groups["spend_total"]
    if t1 > t0:  # the largest spend any award can have: a finite bound for the Lagrangian bound
        ub[t0:t1] = float(np.sum(np.maximum(0.0, np.maximum(inst.seg_intercept + inst.seg_price * inst.seg_lo,
                                                            inst.seg_intercept + inst.seg_price * lay.hi))))
    integer = np.zeros(n, bool)
    integer[S:lay.groups["u"][1]] = True
    col_keys = {"x": np.arange(S), "z": np.arange(S), "u": lay.vendors, "moved": lay.moved_lots,
                "spend_total": np.zeros(t1 - t0, np.int64)}
    qcoef = None
    if inst.has_quality and S:
        qcoef = np.zeros(n)
        qcoef[:S] = np.nan_to_num(inst.quality[lay.seg_v]) / (inst.demand[lay.seg_l] * inst.n_lots)
    total, total0 = costs["total"]
    maximize = objective == "quality" and not elastic
    slack = np.zeros((0, 2), np.int64)
    if elastic:
        blocks, slack, weights = _elastic(blocks, n)
        k = len(slack)
        lb, ub, integer = np.append(lb, np.zeros(k)), np.append(ub, np.full(k, np.inf)), np.append(
            integer, np.zeros(k, bool))
        lay.groups["slack"] = (n, n + k)
        costs = {name: (np.append(v, np.zeros(k)), c0) for name, (v, c0) in costs.items()}
        qcoef = None if qcoef is None else np.append(qcoef, np.zeros(k))
        ref = cost_ref or max(float(np.sum(inst.demand * np.max(inst.seg_price, initial=1.0))), 1.0)
        # minimise normalised violation first, cost a distant second
        c = np.append(total * (1e-6 / ref), weights)
        c0 = total0 * 1e-6 / ref
    elif objective == "cost":
        c, c0 = total.copy(), total0
    elif objective == "quality":
        if qcoef is None:
            raise ValueError("objective='quality' needs quality scores (quality=)")
        c, c0 = qcoef.copy(), 0.0
    else:
        w = float(objective)
        if qcoef is None:
            raise ValueError("a blended objective needs quality scores (quality=)")
        ref = cost_ref or 1.0
        c, c0 = total * ((1 - w) / ref) - qcoef * (w / 100.0), total0 * (1 - w) / ref
    return ArrayModel(inst, policy, objective, lb, ub, integer, lay.groups, col_keys, blocks, c, c0,
                      maximize, costs, qcoef, slack)


def _elastic(blocks: list[Block], n: int):
    """Give every rule row a slack column (two for ``==`` rows): ``+s`` on ``>=`` rows, ``-s`` on
    ``<=`` rows; returns the blocks, ``(global row, sign)`` per slack and the slacks' weights."""
    out, slack, weights = [], [], []
    offset = 0
    col = n
    for b in blocks:
        if b.structural:
            out.append(b)
            offset += b.n_rows
            continue
        rows, signs = [], []
        for sgn, mask in ((1.0, b.sense >= 0), (-1.0, b.sense <= 0)):
            rows.append(np.flatnonzero(mask))
            signs.append(np.full(int(mask.sum()), sgn))
        r = np.concatenate(rows)
        s = np.concatenate(signs)
        order = np.lexsort((-s, r))
        r, s = r[order], s[order]
        cols = col + np.arange(len(r))
        col += len(r)
        slack.append(np.column_stack([offset + r, s.astype(np.int64)]))
        weights.append(1.0 / np.maximum(b.scale[r], 1e-9))
        out.append(dataclasses.replace(b, row=np.concatenate([b.row, r]), col=np.concatenate([b.col, cols]),
                                       coef=np.concatenate([b.coef, s])))
        offset += b.n_rows
    slack = np.concatenate(slack) if slack else np.zeros((0, 2), np.int64)
    weights = np.concatenate(weights) if weights else np.zeros(0)
    return out, slack, weights


def scope_label(inst: Instance, blk: Block, key: int) -> str:
    """The words of a row's scope: its lot id, vendor id, or ``"all"``."""
    if blk.scope == "lot":
        return inst.lot_ids[key]
    if blk.scope == "vendor":
        return inst.vendor_ids[key]
    return "all" if blk.scope == "all" else str(key)



# ---------------------------------------------------------------------- award
#: Widest shares table (characters) printed as a table; a wider one is printed a lot a line.
TEXT_WIDTH = 100


def shares_text(shares: pd.DataFrame) -> list[str]:
    """Lines of an award's text giving the shares of demand (vendor x lot, fractions): a table
    when it fits :data:`TEXT_WIDTH`, else one line per lot with its vendors by share."""
    sh = (shares * 100).round(1)
    table = sh.to_string(float_format=lambda v: f"{v:.1f}" if v else "-").splitlines()
    if max(map(len, table), default=0) <= TEXT_WIDTH:
        return ["  shares of demand (%):", *("    " + t for t in table)]
    lines = ["  shares of demand (%), per lot:"]
    for lot in sh.columns:
        col = sh[lot][sh[lot] > 0].sort_values(ascending=False, kind="stable")
        lines.append(f"    {lot}: " + ", ".join(f"{v} {x:.1f}" for v, x in col.items()))
    return lines


@dataclass
class Award:
    """An allocation of lot demand to vendors, with its cost and how it was found.

    Attributes
    ----------
    volumes : DataFrame
        vendor_id x lot_id, units/year awarded (0 where none).
    shares : DataFrame
        vendor_id x lot_id, fraction of the lot's annual demand.
    spend : DataFrame
        vendor_id x lot_id, tender currency per year at the bid's prices after volume discounts.
    cost : Series
        ``unit_cost`` (tender currency per year), ``setup``, ``onboarding``, ``switching`` (one-off costs
        annualised as in the policy, tender currency per year) and ``total`` (tender currency per year).
    one_off : Series
        The same one-off costs undiscounted, tender currency (setup, onboarding, switching).
    status : str
        ``optimal`` (proven within the gap), ``feasible`` (time limit with an incumbent),
        ``heuristic`` (solver found nothing; greedy award), ``infeasible`` (confirmed by a second
        opinion; see ``diagnosis``), ``no solution``, ``error``.
    objective, bound, gap : float
        Incumbent objective, best proven bound, relative gap (NaN when unknown).  The objective
        is total cost in tender currency per year for ``objective="cost"``, lot-average quality points for
        ``"quality"``, and the dimensionless blend for a weight.
    solve_time : float
        Seconds, build + solve.
    solver : str
    binding : DataFrame
        Rules that bind: rule, scope, value, limit, slack, shadow_price.
    shadow_prices : Series
        Duals of the rule rows from the LP with the binaries fixed (tender currency per year per unit of the
        row's right-hand side), indexed ``rule:scope``.
    quality : float
        Lot-average volume-weighted quality (0-100), NaN without quality scores.
    diagnosis : str or None
        Plain-words explanation when the policy is infeasible.
    model : pulp.LpProblem
        The problem solved, built on demand from its arrays (:meth:`to_pulp`; ``arrays`` is the
        :class:`~sourcing.allocation.arrays.ArrayModel` itself), with the solve's values loaded:
        for CBC or any PuLP solver, LP/MPS export, or a user's extra constraints.
    names, lot_names : dict or None
        Vendor and lot names by id (from the tender), for labels.
    """

    volumes: pd.DataFrame
    shares: pd.DataFrame
    spend: pd.DataFrame
    cost: pd.Series
    one_off: pd.Series
    status: str
    objective: float
    bound: float
    gap: float
    solve_time: float
    solver: str
    binding: pd.DataFrame
    shadow_prices: pd.Series
    quality: float = float("nan")
    risk: pd.Series | None = None
    diagnosis: str | None = None
    currency: str = DEFAULT_CURRENCY
    units: dict | None = None
    policy: Policy | None = None
    names: dict | None = None
    lot_names: dict | None = None
    _arrays: ArrayModel | None = field(default=None, repr=False, compare=False)

    @property
    def arrays(self) -> ArrayModel | None:
        """The model solved, as arrays (None for an award not made by a solve)."""
        return self._arrays

    def to_pulp(self):
        """The model solved as a PuLP ``LpProblem`` (same variables, rows, names and objective;
        the solve's values loaded), for CBC or any PuLP solver, LP/MPS export or extra rows."""
        if self._arrays is None:
            raise ValueError("this award was not made by a solve: it has no model")
        return self._arrays.to_pulp()[0]

    @property
    def model(self):
        """:meth:`to_pulp`, built on demand."""
        return self.to_pulp()

    def label(self, vendor_id: str) -> str:
        """Readable vendor label for plots: ``"V01 Nordic Service Partners"`` when names are known."""
        name = (self.names or {}).get(vendor_id)
        return f"{vendor_id} {name}" if isinstance(name, str) and name else str(vendor_id)

    @property
    def feasible(self) -> bool:
        """True when the award satisfies every rule (optimal, feasible or heuristic)."""
        return self.status in ("optimal", "feasible", "heuristic")

    @property
    def vendors(self) -> list[str]:
        """Vendors awarded any volume."""
        return list(self.volumes.index[(self.volumes > 1e-9).any(axis=1)])

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per awarded vendor x lot with volume, share and spend."""
        vol = self.volumes.stack()
        vol = vol[vol > 1e-9]
        out = pd.DataFrame({
            "volume": vol,
            "share": self.shares.stack().reindex(vol.index),
            "spend": self.spend.stack().reindex(vol.index),
        })
        out.index.names = ["vendor_id", "lot_id"]
        return out.reset_index()

    def plot(self, ax=None):
        """Award as stacked bars of lot shares by vendor; returns the Axes."""
        from ..plots.allocation import plot_award

        return plot_award(self, ax=ax)

    def __str__(self) -> str:
        cur = self.currency
        lines = [f"Award: {self.status} (solver {self.solver}, {self.solve_time:.2f} s"
                 + (f", gap {self.gap:.2%}" if np.isfinite(self.gap) else "") + ")"]
        if self.diagnosis:
            lines.append(self.diagnosis)
        if not self.feasible:
            return "\n".join(lines)
        lines.append(f"  total cost {cur} {self.cost['total']:,.0f} a year "
                     f"(unit cost {self.cost['unit_cost']:,.0f}, setup {self.cost['setup']:,.0f}, "
                     f"onboarding {self.cost['onboarding']:,.0f}, switching {self.cost['switching']:,.0f})")
        if np.isfinite(self.quality):
            lines.append(f"  volume-weighted quality {self.quality:.1f} / 100")
        lines += shares_text(self.shares.loc[self.vendors])
        if self.names:
            lines.append("  vendors: " + "; ".join(self.label(v) for v in self.vendors))
        if len(self.binding):
            lines.append("  binding rules: " + ", ".join(
                f"{r.rule}[{r.scope}]" for r in self.binding.itertuples()) )
        return "\n".join(lines)


def _quality_of(inst: Instance, vol: np.ndarray) -> float:
    if not inst.has_quality:
        return float("nan")
    q = np.nan_to_num(inst.quality)
    return float(np.mean((q @ vol) / inst.demand))


def award_from_volumes(inst: Instance, policy: Policy, seg_x: np.ndarray, seg_z: np.ndarray, *,
                       info: SolveInfo, currency: str = DEFAULT_CURRENCY, shadow: pd.Series | None = None,
                       diagnosis: str | None = None) -> Award:
    """Assemble an :class:`Award` from segment values (checks nothing; see ``violations``)."""
    V, L = inst.n_vendors, inst.n_lots
    sb = inst.seg_bid
    sv, sl = inst.bid_vendor[sb], inst.bid_lot[sb]
    z = (seg_z > 0.5) & (seg_x > 1e-9)
    vol = np.zeros((V, L))
    spend = np.zeros((V, L))
    np.add.at(vol, (sv, sl), seg_x)
    np.add.at(spend, (sv, sl), (inst.seg_price * seg_x + inst.seg_intercept * z))
    vol[np.abs(vol) < 1e-9] = 0.0
    awarded_bid = np.zeros(len(inst.bid_vendor), bool)
    awarded_bid[sb[z]] = True
    engaged = np.zeros(V, bool)
    engaged[inst.bid_vendor[awarded_bid]] = True
    setup = float(inst.bid_setup[awarded_bid].sum()) if policy.setup_costs else 0.0
    onboard = float(inst.onboarding[engaged].sum()) if policy.onboarding_costs else 0.0
    moved = 0.0
    if policy.switching_costs:
        for j in range(L):
            inc = inst.lot_incumbent[j]
            if inc >= 0 and inst.switching[j] > 0:
                moved += inst.switching[j] * max(inst.demand[j] - vol[inc, j], 0.0)
    k = inst.annualise
    unit = float(spend.sum())
    cost = pd.Series({"unit_cost": unit, "setup": k * setup, "onboarding": k * onboard,
                      "switching": k * moved, "total": unit + k * (setup + onboard + moved)})
    one_off = pd.Series({"setup": setup, "onboarding": onboard, "switching": moved})
    idx = pd.Index(inst.vendor_ids, name="vendor_id")
    cols = pd.Index(inst.lot_ids, name="lot_id")
    volumes = pd.DataFrame(vol, index=idx, columns=cols)
    shares = volumes / inst.demand
    binding = binding_rules(inst, policy, vol, spend, awarded_bid, shadow)
    risk = None
    if inst.has_risk:
        r = np.nan_to_num(inst.risk_score)
        risk = pd.Series((r @ vol) / np.maximum(vol.sum(axis=0), 1e-12), index=cols, name="risk")
    return Award(
        volumes=volumes, shares=shares, spend=pd.DataFrame(spend, index=idx, columns=cols),
        cost=cost, one_off=one_off, status=info.status, objective=info.objective, bound=info.bound,
        gap=info.gap, solve_time=info.time, solver=info.solver, binding=binding,
        shadow_prices=shadow if shadow is not None else pd.Series(dtype=float),
        quality=_quality_of(inst, vol), risk=risk, diagnosis=diagnosis, currency=currency,
        units=dict(zip(inst.lot_ids, inst.units, strict=True)), policy=policy)


def rule_values(inst: Instance, policy: Policy, vol: np.ndarray, spend: np.ndarray,
                awarded: np.ndarray) -> list[tuple[str, str, float, float, str]]:
    """(rule, scope, value, limit, sense) for every rule the policy sets, from an award."""
    out = []
    d = inst.demand
    n_per_lot = (vol > 1e-9).sum(axis=0)
    total_vol = vol.sum(axis=0)
    for j, lot in enumerate(inst.lot_ids):
        out.append(("demand", lot, total_vol[j], d[j], "==" if policy.demand == "exact" else ">="))
        if policy.min_vendors_per_lot is not None:
            out.append(("min_vendors_per_lot", lot, n_per_lot[j], policy.min_vendors_per_lot, ">="))
        if policy.max_vendors_per_lot is not None:
            out.append(("max_vendors_per_lot", lot, n_per_lot[j], policy.max_vendors_per_lot, "<="))
        if policy.quality_floor is not None:
            q = float(np.nan_to_num(inst.quality) @ vol[:, j] / max(total_vol[j], 1e-12))
            out.append(("quality_floor", lot, q, policy.quality_floor, ">="))
        if policy.risk_cap is not None:
            r = float(np.nan_to_num(inst.risk_score) @ vol[:, j] / max(total_vol[j], 1e-12))
            out.append(("risk_cap", lot, r, policy.risk_cap, "<="))
        cap = (policy.max_share_pct_by_lot or {}).get(lot, policy.max_share_pct)
        if cap is not None:
            out.append(("max_share_pct", lot, 100 * vol[:, j].max() / d[j], cap, "<="))
        if policy.min_share_pct is not None and n_per_lot[j]:
            out.append(("min_share_pct", lot, 100 * vol[vol[:, j] > 1e-9, j].min() / d[j],
                        policy.min_share_pct, ">="))
    engaged = (vol > 1e-9).any(axis=1)
    if policy.max_vendors_total is not None:
        out.append(("max_vendors_total", "all", engaged.sum(), policy.max_vendors_total, "<="))
    for v, vid in enumerate(inst.vendor_ids):
        if policy.max_lots_per_vendor is not None and engaged[v]:
            out.append(("max_lots_per_vendor", vid, (vol[v] > 1e-9).sum(), policy.max_lots_per_vendor,
                        "<="))
        if vid in policy.include:
            out.append(("include", vid, float(engaged[v]), 1.0, ">="))
        if vid in policy.exclude:
            out.append(("exclude", vid, float(vol[v].sum()), 0.0, "<="))
        if policy.max_spend_share_pct is not None and engaged[v]:
            out.append(("max_spend_share_pct", vid, 100 * spend[v].sum() / max(spend.sum(), 1e-12),
                        policy.max_spend_share_pct, "<="))
    return out


def binding_rules(inst, policy, vol, spend, awarded, shadow=None) -> pd.DataFrame:
    """Rules of *policy* that hold with equality (relative tolerance 1e-4)."""
    recs = []
    for rule, scope, value, limit, sense in rule_values(inst, policy, vol, spend, awarded):
        if rule in ("demand", "exclude", "include"):
            continue
        slack = (value - limit) if sense == ">=" else (limit - value)
        if abs(slack) <= 1e-4 * max(1.0, abs(limit)):
            pi = np.nan
            if shadow is not None:
                pi = float(shadow.get(f"{rule}:{scope}", np.nan))
            recs.append((rule, scope, float(value), float(limit), float(slack), pi))
    return pd.DataFrame(recs, columns=["rule", "scope", "value", "limit", "slack", "shadow_price"])


def violations(inst: Instance, policy: Policy, vol: np.ndarray, *, atol: float = 1e-6) -> list[str]:
    """Rules an award (vendor x lot volumes) breaks, in words; empty when it satisfies all."""
    out = []
    spend = np.zeros_like(vol)
    bx = vol[inst.bid_vendor, inst.bid_lot]
    spend[inst.bid_vendor, inst.bid_lot] = inst.bid_costs(bx)
    awarded = bx > 1e-9
    usable = np.zeros_like(vol, bool)
    usable[inst.bid_vendor, inst.bid_lot] = True
    if (vol[~usable] > atol).any():
        out.append("volume on a vendor x lot without a usable bid")
    if not np.isfinite(spend).all():
        out.append("volume outside a bid's allowed range (capacity, minimum, share limits)")
    tol = policy.demand_tolerance_pct / 100.0
    for rule, scope, value, limit, sense in rule_values(inst, policy, vol, spend, awarded):
        rel = atol * max(1.0, abs(limit))
        if rule == "demand":
            lo = limit * (1 - tol) - rel
            hi = limit * (1 + tol) + rel if sense == "==" else np.inf
            if not lo <= value <= hi:
                out.append(f"demand of {scope}: {value:,.6g} vs {limit:,.6g}")
        elif sense == ">=" and value < limit - rel:
            out.append(f"{rule} {scope}: {value:,.6g} < {limit:,.6g}")
        elif sense == "<=" and value > limit + rel:
            out.append(f"{rule} {scope}: {value:,.6g} > {limit:,.6g}")
    if policy.budget is not None:
        # total cost with one-offs, as the award reports it
        seg_x, seg_z = segments_from_volumes(inst, vol)
        a = award_from_volumes(inst, policy, seg_x, seg_z,
                               info=SolveInfo("heuristic", np.nan, np.nan, np.nan, 0.0, "-"))
        if a.cost["total"] > policy.budget * (1 + 1e-9) + 1e-6:
            out.append(f"budget: {a.cost['total']:,.0f} > {policy.budget:,.0f}")
    return out


def segments_from_volumes(inst: Instance, vol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment values (x, z) realising vendor x lot volumes at the cheapest segment of each bid."""
    S = len(inst.seg_bid)
    sx, sz = np.zeros(S), np.zeros(S)
    starts = inst.seg_start
    bx = vol[inst.bid_vendor, inst.bid_lot]
    for b in np.flatnonzero(bx > 1e-9):
        q = bx[b]
        segs = np.arange(starts[b], starts[b + 1])
        ok = segs[(inst.seg_lo[segs] <= q + 1e-7) & (inst.seg_hi[segs] >= q - 1e-7)]
        if len(ok) == 0:
            ok = segs[[int(np.argmin(np.abs(np.clip(q, inst.seg_lo[segs], inst.seg_hi[segs]) - q)))]]
        best = ok[int(np.argmin(inst.seg_intercept[ok] + inst.seg_price[ok] * q))]
        sx[best] = q
        sz[best] = 1.0
    return sx, sz




def cheapest_segments(inst: Instance, seg_x: np.ndarray, seg_z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same volumes, each bid's at its cheapest admissible price segment.

    A solve cut short by its time limit may leave a volume on a dearer segment (a discount tier
    it qualifies for unused): same award, higher reported cost.  Re-pricing changes no volume and
    can only lower spend, so every rule still holds (spend caps and the budget only loosen).
    """
    sv, sl = inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]
    vol = np.zeros((inst.n_vendors, inst.n_lots))
    np.add.at(vol, (sv, sl), seg_x)
    cx, cz = segments_from_volumes(inst, vol)
    live = (seg_z > 0.5) & (seg_x > 1e-9)
    now = float(inst.seg_price @ seg_x + inst.seg_intercept @ live)
    cheap = float(inst.seg_price @ cx + inst.seg_intercept @ cz)
    return (cx, cz) if cheap < now * (1 - 1e-12) else (seg_x, seg_z)


def start_vector(model: ArrayModel, seg_x: np.ndarray, seg_z: np.ndarray) -> np.ndarray:
    """A full MIP start (one value per column) from segment values."""
    inst = model.inst
    out = np.zeros(model.n_cols)
    out[model.cols("x")] = seg_x
    out[model.cols("z")] = seg_z
    seg_v = inst.bid_vendor[inst.seg_bid]
    eng = np.zeros(inst.n_vendors)
    np.maximum.at(eng, seg_v, seg_z)
    out[model.cols("u")] = eng[model.col_keys["u"]]
    lots = model.col_keys["moved"]
    if len(lots):
        vol = np.zeros((inst.n_vendors, inst.n_lots))
        np.add.at(vol, (seg_v, inst.bid_lot[inst.seg_bid]), seg_x)
        out[model.cols("moved")] = np.maximum(inst.demand[lots] - vol[inst.lot_incumbent[lots], lots], 0.0)
    t = model.cols("spend_total")
    if t.stop > t.start:
        out[t] = float(np.sum(inst.seg_price * seg_x + inst.seg_intercept * seg_z))
    return out


# ---------------------------------------------------------------------- solve pipeline
#: Models with more price segments than this get the LP-support neighbourhood search first.
NEIGHBOURHOOD_MIN_SEGMENTS = 300

#: Fix-and-optimise frees every bid of a block's lots while a block has at most this many price
#: segments; above, only the bids of the LP support and of the current award.
BLOCK_FREE_SEGMENTS = 5000

#: Models with more price segments than this spend most of a time limit in fix-and-optimise.
HUGE_SEGMENTS = 50_000

#: Share of a huge model's time (after its LP) kept for the Lagrangian bound by lots.
BOUND_SHARE = 0.25


def _segment_cols(model: ArrayModel, segs: np.ndarray) -> np.ndarray:
    """Columns x and z of segments *segs*."""
    S = len(model.inst.seg_bid)
    return np.concatenate([segs, S + segs])


def lp_neighbourhood(model: ArrayModel, start: np.ndarray | None, *, solver: str, time_limit, mip_gap,
                     restricted: bool = True):
    """Improve a MIP start by solving the MILP restricted to the bids the LP relaxation uses.

    Bids with volume in the LP relaxation, plus the bids of *start*, stay free; every other bid's
    segments are fixed to 0.  The restricted MILP is small and usually solves to near-optimality
    quickly; its award is a feasible start for the full model (a relaxation-induced
    neighbourhood, as in RINS).  Before it, the LP relaxation is rounded into a feasible award
    (each lot refilled in the order of its bids' LP volumes), kept when cheaper than *start*.
    Returns ``(start vector or None, SolveInfo of the restricted MILP or None, SolveInfo of the
    LP relaxation or None, mask of free bids, row duals of the LP relaxation or None)``; with
    ``restricted=False`` the restricted MILP is skipped (the LP rounding is still tried).
    """
    from .heuristic import greedy

    inst = model.inst
    lp = solve_arrays(model, solver="highs", relax=True,
                      time_limit=None if time_limit is None else 0.6 * time_limit)
    if lp.status != "optimal":
        return start, None, None, None, None
    duals = model.duals.copy()
    x_lp = model.values[model.cols("x")].copy()
    bid_lp = np.zeros(len(inst.bid_vendor))
    np.add.at(bid_lp, inst.seg_bid, x_lp)
    rounded = greedy(inst, model.policy, priority=bid_lp)
    if rounded is not None:
        cand = start_vector(model, *rounded)
        if start is None or model.better(model.objective_at(cand), model.objective_at(start)):
            start = cand
    keep = np.zeros(len(inst.bid_vendor), bool)
    used = x_lp > 1e-6 * inst.demand[inst.bid_lot[inst.seg_bid]]
    if start is not None:
        used |= start[model.cols("z")] > 0.5
    keep[inst.seg_bid[used]] = True
    if not restricted:
        return start, None, lp, keep, duals
    closed = _segment_cols(model, np.flatnonzero(~keep[inst.seg_bid]))
    limit = None if time_limit is None else max(time_limit - lp.time, 0.5)
    sub = solve_arrays(model, solver=solver, time_limit=limit, mip_gap=mip_gap, start=start,
                       fix=(closed, np.zeros(len(closed))))
    if not sub.has_solution:
        return start, None, lp, keep, duals
    return model.values.copy(), sub, lp, keep, duals


def block_improve(model: ArrayModel, start: np.ndarray, keep_bid: np.ndarray, *, solver: str, time_limit,
                  mip_gap=None, n_blocks: int = 8, max_passes: int = 1,
                  first_pass: int = 0) -> tuple[np.ndarray, SolveInfo | None]:
    """Fix-and-optimise: re-solve the lots block by block, the rest of the award fixed.

    Lots are split into *n_blocks* blocks.  For each block, every segment outside it is fixed at
    its value in the current award and, inside it, only bids in *keep_bid* (e.g. the LP support)
    or in the current award stay free; vendor, switching and spend variables stay free, so every
    cross-lot rule still holds.  Each block MILP starts from the current award and replaces it
    when better.  With a time limit, up to *max_passes* passes over new partitions of the lots
    follow while the last one improved (*first_pass* skips the first partitions: 1 starts with the
    round-robin one).  Returns ``(best start vector, SolveInfo of the last improving block or
    None)``.
    """
    t_end = None if time_limit is None else time.perf_counter() + time_limit
    inst = model.inst
    S = len(inst.seg_bid)
    seg_lot = inst.bid_lot[inst.seg_bid]
    cur = np.asarray(start, float).copy()
    cur_obj = model.objective_at(cur)
    best_info = None
    n = max(1, min(n_blocks, inst.n_lots))
    lots_all = np.arange(inst.n_lots)
    # pass 1: contiguous blocks of lots; further passes (while time is left and the last pass
    # improved): lots dealt round-robin, then in a seeded shuffle, so that lots meet new neighbours
    partitions = [np.array_split(lots_all, n), [lots_all[k::n] for k in range(n)]]
    rng = np.random.default_rng(0)
    for _ in range(max_passes + first_pass - 2):
        partitions.append(np.array_split(rng.permutation(lots_all), n))
    for blocks in partitions[first_pass:first_pass + max_passes]:
        improved = False
        for k, lots in enumerate(blocks):
            left = None if t_end is None else t_end - time.perf_counter()
            if left is not None and left < 1.0:
                return cur, best_info
            used = np.zeros(len(inst.bid_vendor), bool)
            used[inst.seg_bid[cur[S:2 * S] > 0.5]] = True
            inside = np.isin(seg_lot, lots)
            closed = np.flatnonzero(inside & ~(keep_bid | used)[inst.seg_bid])
            outside = np.flatnonzero(~inside)
            cols = np.concatenate([outside, S + outside, closed, S + closed])
            vals = np.concatenate([cur[outside], np.round(cur[S + outside]), np.zeros(2 * len(closed))])
            info = solve_arrays(model, solver=solver, mip_gap=mip_gap, start=cur, fix=(cols, vals),
                                time_limit=None if left is None else left / (len(blocks) - k))
            if info.has_solution and model.better(info.objective, cur_obj):
                cur = model.values.copy()
                cur_obj = info.objective
                best_info = info
                improved = True
        if not improved or t_end is None:
            break
    return cur, best_info


def vendor_close(model: ArrayModel, start: np.ndarray, *, solver: str, time_limit, mip_gap=None,
                 max_tries: int | None = None,
                 patience: int = 12) -> tuple[np.ndarray, SolveInfo | None]:
    """Local search on the engaged vendors: try to drop one vendor at a time.

    Vendors are tried in order of fixed cost saved per unit of spend (one-off onboarding,
    annualised, over the vendor's annual spend): the vendor's segments and ``u`` are fixed to 0,
    the segments of every lot it serves are freed, and every other segment is fixed at its
    current value, so the MILP re-splits only those lots.  An improvement replaces the award;
    the search stops after *patience* tries in a row without one.  Returns ``(best start vector,
    SolveInfo of the last improving solve or None)``.
    """
    t_end = None if time_limit is None else time.perf_counter() + time_limit
    inst = model.inst
    S = len(inst.seg_bid)
    seg_v = inst.bid_vendor[inst.seg_bid]
    seg_l = inst.bid_lot[inst.seg_bid]
    u_cols = dict(zip(model.col_keys["u"].tolist(), range(*model.groups["u"]), strict=True))
    cur = np.asarray(start, float).copy()
    cur_obj = model.objective_at(cur)
    best = None
    on = cur[S:2 * S] > 0.5
    spend = np.zeros(inst.n_vendors)
    np.add.at(spend, seg_v, inst.seg_price * cur[:S] + inst.seg_intercept * on)
    saved = inst.annualise * inst.onboarding * model.policy.onboarding_costs
    engaged = np.flatnonzero(spend > 0)
    order = engaged[np.lexsort((engaged, -saved[engaged] / np.maximum(spend[engaged], 1e-9)))]
    misses = 0
    for v in order[:max_tries].tolist():
        left = None if t_end is None else t_end - time.perf_counter()
        if left is not None and left < 0.5:
            break
        on = cur[S:2 * S] > 0.5
        lots = np.unique(seg_l[on & (seg_v == v)])
        if not len(lots):
            continue
        inside = np.isin(seg_l, lots)
        outside = np.flatnonzero(~inside)
        mine = np.flatnonzero(seg_v == v)
        cols = np.concatenate([outside, S + outside, mine, S + mine, [u_cols[v]]])
        vals = np.concatenate([cur[outside], np.round(cur[S + outside]), np.zeros(2 * len(mine) + 1)])
        info = solve_arrays(model, solver=solver, mip_gap=mip_gap, fix=(cols, vals),
                            time_limit=None if left is None else min(left, max(2.0, 0.1 * left)))
        if info.has_solution and model.better(info.objective, cur_obj):
            cur = model.values.copy()
            cur_obj = info.objective
            best = info
            misses = 0
        else:
            misses += 1
            if misses >= patience:
                break
    return cur, best


def solve_pipeline(model: ArrayModel, *, solver: str, time_limit, mip_gap, t0: float | None = None,
                   starts=(), use_greedy: bool = True):
    """Greedy start (and the feasible awards in *starts*, segment values ``(x, z)``); for large
    models the LP-support neighbourhood (with the LP rounding), dropping engaged vendors one at a
    time and fix-and-optimise blocks of lots; then the full MILP from the best start.

    Returns ``(SolveInfo of the full solve, greedy segment values or None, seconds left)``.  With a
    time limit, the neighbourhood (LP, LP rounding, restricted MILP) gets up to 45 % of it, the
    vendor drops (HiGHS only) 30 % of the rest, the blocks 40 % of what then remains, and the full MILP the
    rest (it also proves the bound).  Models with more than :data:`HUGE_SEGMENTS` segments and a
    time limit skip the restricted MILP of the neighbourhood and the full MILP (neither gets
    through its root in time at that size): after the LP and its rounding, :data:`BOUND_SHARE`
    of the time is kept for the bound, the blocks get 60 % of the rest and the vendor drops what
    then remains; the bound is the Lagrangian bound by lots (:mod:`~sourcing.allocation.bound`,
    from the LP's duals and the award found), at least the LP relaxation's.  Every start must be
    feasible: a time-out without an incumbent falls back to the best start.
    """
    from .heuristic import greedy

    t0 = time.perf_counter() if t0 is None else t0
    # HiGHS overruns its limit a little and reading back a large solution takes time: aim at 92 %
    target = None if time_limit is None else 0.92 * time_limit

    def left():
        return None if target is None else max(target - (time.perf_counter() - t0), 0.5)

    inst = model.inst
    big = len(inst.seg_bid) > NEIGHBOURHOOD_MIN_SEGMENTS
    heur = greedy(inst, model.policy) if use_greedy else None
    start = None
    for cand in ([heur] if heur is not None else []) + list(starts):
        vec = start_vector(model, *cand)
        if start is None or model.better(model.objective_at(vec), model.objective_at(start)):
            start = vec
    lp = duals = None
    # a model this large will not get far in the full MILP: fix-and-optimise gets most of the time
    huge = len(inst.seg_bid) > HUGE_SEGMENTS
    if big and use_greedy:
        budget = None if time_limit is None else 0.45 * left()
        start, _, lp, keep, duals = lp_neighbourhood(model, start, solver=solver, time_limit=budget,
                                                     mip_gap=mip_gap, restricted=not huge)
        # the Lagrangian bound by lots (after the heuristics) replaces the full MILP's bound
        reserve = BOUND_SHARE * left() if huge and time_limit is not None else 0.0
        if start is not None:
            n_blocks = 8
            if keep is None or len(inst.seg_bid) / n_blocks <= BLOCK_FREE_SEGMENTS:
                keep = np.ones(len(inst.bid_vendor), bool)  # every bid of a block's lots may enter
            steps = (("blocks", 0.6), ("vendors", 1.0)) if huge else (("vendors", 0.3), ("blocks", 0.4))
            passes = 0
            for step, share in steps:
                budget = None if time_limit is None else share * max(left() - reserve, 0.5)
                if step == "vendors":
                    if solver != "highs":
                        continue  # dozens of small solves: each CBC run costs a process and an MPS file
                    start, _ = vendor_close(model, start, solver=solver, time_limit=budget, mip_gap=mip_gap)
                elif inst.n_lots > 1:
                    start, _ = block_improve(model, start, keep, solver=solver, time_limit=budget,
                                             mip_gap=mip_gap, n_blocks=n_blocks, first_pass=passes)
                    passes += 1
    if huge and time_limit is not None and start is not None and lp is not None:
        # the full MILP would not get through its root in the time left: the award stands, with
        # the tighter of the LP relaxation's bound and the Lagrangian bound by lots
        from .bound import lagrangian_bound

        obj = model.objective_at(start)
        found = lp.objective
        try:
            lag = lagrangian_bound(model, duals, incumbent=start, time_limit=left())
        except (MemoryError, ValueError, RuntimeError):  # a bound is optional: the award stands
            lag = None
        if lag is not None:
            found = (min if model.maximize else max)(found, lag.value)
        model.values = start.copy()
        info = SolveInfo("feasible", obj, found, abs(obj - found) / max(abs(obj), 1e-9),
                         time.perf_counter() - t0, solver)
        return info, heur, left()
    info = solve_arrays(model, solver=solver, time_limit=left(), mip_gap=mip_gap, start=start)
    if info.status == "error" and solver == "highs":
        info = solve_arrays(model, solver="cbc", time_limit=left(), mip_gap=mip_gap, start=start)
    if not info.has_solution and info.status != "infeasible" and start is not None:
        model.values = start.copy()
        info = SolveInfo("feasible", model.objective_at(start), info.bound, float("nan"), info.time,
                         info.solver)
    if lp is not None and info.has_solution and info.status != "optimal":
        # the LP relaxation's optimum is a valid bound too: keep the tighter of the two
        tighter = (min if model.maximize else max)(
            lp.objective, info.bound if np.isfinite(info.bound) else lp.objective)
        gap = abs(info.objective - tighter) / max(abs(info.objective), 1e-9)
        info = SolveInfo(info.status, info.objective, tighter, gap, info.time, info.solver)
    return info, heur, left()


def _values(model: ArrayModel) -> tuple[np.ndarray, np.ndarray]:
    """Segment values, cleaned of solver noise: volume only on used segments, and volumes below
    1e-7 of the lot's demand (with no least volume) set to zero."""
    inst = model.inst
    sx = model.values[model.cols("x")].copy()
    sz = np.round(model.values[model.cols("z")])
    tiny = sx < 1e-7 * inst.demand[inst.bid_lot[inst.seg_bid]]
    sx[(sz < 0.5) | (tiny & (inst.seg_lo <= 0))] = 0.0
    sz[sx <= 0] = 0.0
    return np.clip(sx, inst.seg_lo * sz, inst.seg_hi), sz


def _shadow_prices(model: ArrayModel, solver: str) -> pd.Series:
    """Duals of rule rows from the LP with every binary fixed at its award value, summed by
    ``rule:scope``."""
    ints = np.flatnonzero(model.integer)
    info = solve_arrays(model, solver=solver, relax=True, fix=(ints, np.round(model.values[ints])))
    if info.status != "optimal":
        return pd.Series(dtype=float, name="shadow_price")
    out: dict[str, float] = {}
    for blk, off in model.rule_rows():
        pi = model.duals[off:off + blk.n_rows]
        for i in np.flatnonzero(np.abs(pi) > 1e-9).tolist():
            key = f"{blk.rule}:{scope_label(model.inst, blk, int(blk.keys[i]))}"
            out[key] = out.get(key, 0.0) + float(pi[i])
    return pd.Series(out, dtype=float, name="shadow_price")


def cost_reference(inst: Instance) -> float:
    """A cost scale (tender currency per year) for blended objectives: demand x cheapest base price
    per lot."""
    sl = inst.bid_lot[inst.seg_bid]
    cheapest = np.full(inst.n_lots, np.inf)
    np.minimum.at(cheapest, sl, inst.seg_price)
    cheapest[~np.isfinite(cheapest)] = np.nan
    return float(np.nansum(cheapest * inst.demand)) or 1.0


def _check_objective(objective) -> None:
    if isinstance(objective, str):
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}; valid choices: cost, quality, or a "
                             "blend weight in [0, 1]")
    elif isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 <= objective <= 1:
        raise ValueError("objective must be 'cost', 'quality' or a blend weight in [0, 1]")


def allocate(
    tender=None,
    policy: Policy | None = None,
    *,
    lots: pd.DataFrame | None = None,
    bids: pd.DataFrame | None = None,
    vendors: pd.DataFrame | None = None,
    tiers: pd.DataFrame | None = None,
    risk: pd.DataFrame | None = None,
    quality=None,
    objective: str | float = "cost",
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float | None = None,
    start: Award | None = None,
) -> Award:
    """Split each lot's demand between vendors at least cost (or best quality) under a policy.

    Parameters
    ----------
    tender : Tender, optional
        Source of lots, bids, tiers, vendors and risk; any table given by keyword replaces the
        tender's.  Without a tender, ``lots`` and ``bids`` are required (columns as in
        ``sourcing.schemas.TABLES``).
    policy : Policy, optional
        Sourcing rules; default ``Policy()`` (demand met exactly, nothing else).
    quality : Series or Evaluation-like, optional
        Quality per vendor, 0-100 (Series by vendor_id), or an object with ``.quality`` (Series)
        and ``.excluded`` (DataFrame indexed by vendor_id with column ``reason``); excluded
        vendors get no volume.  Needed by ``quality_floor`` and quality objectives.
    objective : "cost", "quality" or float in [0, 1]
        ``cost`` minimises total annual cost (tender currency per year); ``quality`` maximises
        lot-average volume-weighted quality subject to the rules (use ``Policy.budget``); a float
        ``w`` minimises ``(1 - w) cost / C - w quality / 100`` with C = demand x cheapest base price.
    solver : {"highs", "cbc"}
        HiGHS (highspy, reading the model's arrays) by default; if it ends with an error, CBC is
        tried (through the PuLP problem, ``Award.model``).
    time_limit : float, optional
        Seconds per solve; the award then reports the incumbent, bound and gap.
    mip_gap : float, optional
        Relative optimality gap at which to stop (0 for a proof of optimality).
    start : Award, optional
        A warm start: its volumes are offered to the solver as a MIP start when they satisfy
        every rule of *policy* (e.g. the award of a stricter policy).

    Returns
    -------
    Award
        Never raises for an infeasible policy: ``status == "infeasible"`` (confirmed by a second
        opinion: an infeasible LP relaxation, or the other solver) and ``diagnosis`` explains in
        words which rules conflict.  ``Award.model`` is the PuLP problem solved.

    Notes
    -----
    Solve steps: a greedy award (:mod:`~sourcing.allocation.heuristic`) is the MIP start; models
    with more than 300 price segments then get an LP-support neighbourhood search (the MILP
    restricted to the bids the LP relaxation uses, plus an LP rounding) and fix-and-optimise by
    blocks of lots; the full MILP runs last from the best start.  Models with more than
    50,000 segments and a time limit skip the full MILP (it would not pass its root in time): their
    bound is the Lagrangian bound by lots (:mod:`~sourcing.allocation.bound`), one small MILP per
    lot with the rules that span lots priced by the LP's duals.  HiGHS runs single-threaded
    with a fixed seed, so the same inputs give the same award when the solve finishes
    (optimal or within ``mip_gap``); an award cut short by ``time_limit`` depends on machine
    speed.  Among equally cheap awards the tie-break (``Policy.tie_break``) picks one by vendor
    order, on the optimal face; volumes within solver tolerance of a bound or a whole number are
    then snapped to it when every rule still holds.  One-off costs are annualised as
    ``Policy.one_off`` says (default: divided by the contract years).
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; valid choices: {', '.join(SOLVERS)}")
    _check_objective(objective)
    if time_limit is not None and not time_limit > 0:
        raise ValueError("time_limit must be > 0 seconds")
    if mip_gap is not None and not 0 <= mip_gap < 1:
        raise ValueError("mip_gap must be in [0, 1)")
    if start is not None and not isinstance(start, Award):
        raise TypeError(f"start must be an Award (a warm start), got {type(start).__name__}")
    t0 = time.perf_counter()
    policy = policy if policy is not None else Policy()
    inst = make_instance(tender, policy, lots=lots, bids=bids, vendors=vendors, tiers=tiers, risk=risk,
                         quality=quality, need_quality=objective != "cost")
    currency = inst.currency
    starts = [s for s in [warm_start(inst, policy, start)] if s is not None] if start is not None else []
    award = solve_instance(inst, policy, objective=objective, solver=solver, time_limit=time_limit,
                           mip_gap=mip_gap, currency=currency, t0=t0, starts=starts)
    award.names = _names(tender, vendors)
    award.lot_names = _lot_names(tender)
    return award


def warm_start(inst: Instance, policy: Policy, award: Award | None):
    """Segment values ``(x, z)`` of *award*'s volumes on *inst*, or None when they break a rule of
    *policy* (or there is no award)."""
    if award is None or not award.feasible:
        return None
    vol = award.volumes.reindex(index=inst.vendor_ids, columns=inst.lot_ids).fillna(0.0).to_numpy(float)
    if violations(inst, policy, vol, atol=1e-7):
        return None
    return segments_from_volumes(inst, vol)


def solve_instance(inst: Instance, policy: Policy, *, objective="cost", solver="highs", time_limit=None,
                   mip_gap=None, currency: str | None = None, t0=None, starts=(),
                   extra: list[Block] | None = None,
                   use_greedy: bool = True) -> Award:
    """Build, solve and read back the award of *inst* (what :func:`allocate` does after
    validation).  *starts* are feasible segment values offered as MIP starts; *extra* are rows
    added to the model (e.g. an epsilon constraint; the greedy start is then not used)."""
    t0 = time.perf_counter() if t0 is None else t0
    currency = inst.currency if currency is None else currency
    ref = cost_reference(inst)
    model = build_model(inst, policy, objective=objective, cost_ref=ref)
    for blk in extra or []:
        model.add_block(blk)
    use_greedy = use_greedy and not extra
    info, heur, remaining = solve_pipeline(model, solver=solver, time_limit=time_limit, mip_gap=mip_gap,
                                           t0=t0, starts=starts, use_greedy=use_greedy)

    def finish(award):
        award.solve_time = time.perf_counter() - t0
        award._arrays = model
        return award

    if info.status in ("infeasible", "no solution", "error") and heur is not None:
        # the greedy award is feasible: the solver's word is not the last one
        info = SolveInfo("heuristic", np.nan, info.bound, np.nan, info.time, info.solver)
        award = award_from_volumes(inst, policy, *heur, info=info, currency=currency)
        award.objective = float(award.cost["total"])
        return finish(award)
    if info.status == "infeasible":
        other = "cbc" if info.solver == "highs" else "highs"
        lp = solve_arrays(model, solver="highs", relax=True)
        second = lp if lp.status == "infeasible" else solve_arrays(
            model, solver=other, time_limit=max(remaining or 30.0, 5.0))
        if second.status not in ("infeasible",):
            info = SolveInfo("no solution" if not second.has_solution else second.status,
                             second.objective, second.bound, second.gap, info.time + second.time,
                             f"{info.solver}+{second.solver}")
            if second.has_solution:
                award = award_from_volumes(inst, policy, *_values(model), info=info, currency=currency)
                return finish(award)
    if not info.has_solution and info.status != "infeasible" and not model.n_cols:
        # every bid was pruned before the solve (exclusions, share caps): with demand > 0 there is
        # nothing to award, whatever the solver said of an empty model
        info = SolveInfo("infeasible", np.nan, np.nan, np.nan, info.time, info.solver)
    if not info.has_solution:
        from .diagnose import diagnose

        text = diagnose(inst, policy, currency=currency) if info.status == "infeasible" else (
            f"no award found ({info.status}); raise time_limit or relax the policy")
        zeros = np.zeros(len(inst.seg_bid))
        award = award_from_volumes(inst, policy, zeros, zeros, info=info, currency=currency,
                                   diagnosis=text)
        # no award, no cost: zero volumes would otherwise "cost" the switching away from incumbents
        award.cost = award.cost * np.nan
        award.one_off = award.one_off * np.nan
        return finish(award)
    sx, sz = snap(inst, policy, *_values(model), extra=extra, model=model)
    if not extra:
        sx, sz = cheapest_segments(inst, sx, sz)
    if policy.tie_break and info.status == "optimal" and objective == "cost" and not extra:
        sx, sz = _tie_break(model, info, solver, sx, sz, time_limit=remaining)
    model.values = start_vector(model, sx, sz)
    shadow = _shadow_prices(model, solver)
    model.values = start_vector(model, sx, sz)
    award = award_from_volumes(inst, policy, sx, sz, info=info, currency=currency, shadow=shadow)
    return finish(award)


def _lot_names(tender) -> dict | None:
    """Lot id -> name for the plots and sentences (None without a tender)."""
    if tender is None or "name" not in tender.lots.columns:
        return None
    return {str(k): str(v) for k, v in tender.lots["name"].items()}


def _names(tender, vendors) -> dict | None:
    table = vendors if vendors is not None else (tender.vendors if tender is not None else None)
    if table is None:
        return None
    if table.index.name != "vendor_id" and "vendor_id" in table.columns:
        table = table.set_index("vendor_id")
    return {str(k): str(v) for k, v in table["name"].items()} if "name" in table.columns else None


def _tie_break(model: ArrayModel, info: SolveInfo, solver: str, sx, sz, *, time_limit):
    """Second lexicographic objective, on the optimal face.

    Among awards whose cost is at most the optimum plus the solver's tolerance (1e-10 relative,
    1e-6 absolute), put volume with vendors earlier in vendor order: minimise sum over bids of
    rank(vendor) x share of lot demand, rank = position in ``vendor_ids`` / number of vendors.
    Solved on a copy of the model's arrays (the original keeps its objective for the shadow
    prices); the tie-broken award is kept only if its exact cost is within that tolerance of the
    optimum, else the first award stands.
    """
    inst = model.inst
    first = start_vector(model, sx, sz)
    opt = model.cost_at(first)
    tol = max(1e-10 * abs(opt), 1e-6)
    coef, const = model.costs["total"]
    nz = np.flatnonzero(coef)
    primary = block("tie_break_primary", "all", [0], np.zeros(len(nz)), nz, coef[nz], LE,
                    opt + tol - const, names=("tie_break_primary",), structural=True)
    S = len(inst.seg_bid)
    rank = np.zeros(model.n_cols)
    rank[:S] = (inst.bid_vendor[inst.seg_bid].astype(float) / max(inst.n_vendors, 1)
                / inst.demand[inst.bid_lot[inst.seg_bid]])
    tb = dataclasses.replace(model, blocks=[*model.blocks, primary], c=rank, c0=0.0, maximize=False,
                             values=None, duals=None, _csr=None, _pulp=None)
    second = solve_arrays(tb, solver=solver, time_limit=time_limit, mip_gap=1e-9, start=first)
    if not second.has_solution:
        return sx, sz
    x2, z2 = snap(inst, model.policy, *_values(tb))
    if violations(inst, model.policy, volumes_of(inst, x2), atol=1e-9):
        return sx, sz  # the second solve leant on the solver's feasibility tolerance
    if model.cost_at(start_vector(model, x2, z2)) > opt + tol:
        return sx, sz
    return x2, z2


def volumes_of(inst: Instance, seg_x: np.ndarray) -> np.ndarray:
    """Vendor x lot volumes (units/year) of segment volumes."""
    vol = np.zeros((inst.n_vendors, inst.n_lots))
    np.add.at(vol, (inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]), seg_x)
    return vol


def snap(inst: Instance, policy: Policy, sx: np.ndarray, sz: np.ndarray, *, extra=None, model=None,
         rtol: float = 1e-6):
    """Volumes within solver tolerance (``rtol`` x the lot's demand) of a segment bound or a whole
    number, snapped to it (700.00047 -> 700).

    A lot whose demand must be met exactly is rebalanced on its largest unsnapped volume; every
    rule is re-checked after snapping (:func:`violations`, and the *extra* rows of *model*), and
    the total cost may move by at most 1e-7 (relative) -- otherwise the volumes are returned as
    they were.
    """
    on = sz > 0.5
    if not on.any():
        return sx, sz
    seg_l = inst.bid_lot[inst.seg_bid]
    d = inst.demand[seg_l]
    tol = rtol * np.maximum(d, 1.0)
    x = sx.copy()
    snapped = np.zeros(len(x), bool)
    for target in (inst.seg_lo, inst.seg_hi, np.round(sx)):
        close = on & ~snapped & (np.abs(x - target) <= tol) & (x != target)
        x[close] = target[close]
        snapped |= on & (np.abs(x - target) <= 0)
    if np.array_equal(x, sx):
        return sx, sz
    if policy.demand == "exact" and policy.demand_tolerance_pct == 0:
        got = np.zeros(inst.n_lots)
        np.add.at(got, seg_l, x)
        for j in np.flatnonzero(np.abs(got - inst.demand) > 0).tolist():
            free = np.flatnonzero(on & (seg_l == j) & ~snapped)
            if not len(free):
                free = np.flatnonzero(on & (seg_l == j) & (x != sx))
            if not len(free):
                continue
            s = free[np.argmax(x[free])]
            x[s] += inst.demand[j] - got[j]
    if ((x < inst.seg_lo - 1e-12) & on).any() or ((x > inst.seg_hi + 1e-12) & on).any():
        return sx, sz
    if violations(inst, policy, volumes_of(inst, x), atol=1e-9):
        return sx, sz
    info = SolveInfo("heuristic", np.nan, np.nan, np.nan, 0.0, "-")
    before = float(award_from_volumes(inst, policy, sx, sz, info=info).cost["total"])
    after = float(award_from_volumes(inst, policy, x, sz, info=info).cost["total"])
    if abs(after - before) > 1e-7 * max(abs(before), 1.0):
        return sx, sz
    if extra and model is not None:
        act = model.activities(start_vector(model, x, sz))
        off = model.row_offsets()
        for blk, o in zip(model.blocks, off, strict=False):
            if any(blk is e for e in extra):
                a = act[o:o + blk.n_rows]
                bad = ((blk.sense >= 0) & (a < blk.rhs - 1e-9 * np.maximum(np.abs(blk.rhs), 1))) | (
                    (blk.sense <= 0) & (a > blk.rhs + 1e-9 * np.maximum(np.abs(blk.rhs), 1)))
                if bad.any():
                    return sx, sz
    return x, sz
