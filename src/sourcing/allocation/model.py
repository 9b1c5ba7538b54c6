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
* ``T`` total annual unit-price spend (only with a concentration cap);
* package bids: a package's pieces are segments of its vendor's bids (see
  :class:`~sourcing.allocation._data.Instance`), tied by ``z[s] = z[s0]`` (and, for a
  proportional package, ``x[s] / q[s] = x[s0] / q[s0]``) to its first piece ``s0``;
* conditional discounts: ``w[d]`` binary, the discount is given, and ``D[d] >= 0`` its amount
  (tender currency per year): ``sum z[s] >= k w[d]`` over the vendor's segments on the lots
  (``lots_at_least k``) or their spend ``>= X w[d]`` (``spend_at_least X``), ``D[d] <= p spend``
  on the lots and ``D[d] <= M w[d]`` (``M`` = ``p`` x the most the vendor could be paid there);
  at most one ``w`` of a vendor is 1.  Fees are net of ``sum D``; the rules on spend (caps,
  spend shares) read spend before discounts, the budget the total after them.

Annual cost = sum(intercept[s] z[s] + price[s] x[s])  (unit cost after volume discounts)
            + k * (setup_b z + onboarding_v u + switching_l x[s] for s not of the lot's current
                   provider)   (one-off costs annualised; the rules of :mod:`sourcing.cost_lines`)

with ``k = 1 / contract_years`` (``Policy.one_off="straight"``, default), the annuity factor
(``"annuity"``) or 0 (``"ignore"``).  Demand rows are ``==`` (``Policy.demand="exact"``) or ``>=``
(``"at_least"``).

The structural rows (links, one segment per bid, switching) are written here; each policy rule
is one class of :mod:`~sourcing.allocation.rules` giving its
:class:`~sourcing.allocation.arrays.Block` of rows built with numpy (no per-term Python objects).
:func:`build_model` stacks them into an :class:`~sourcing.allocation.arrays.ArrayModel`, which
HiGHS reads directly and :meth:`~sourcing.allocation.arrays.ArrayModel.to_pulp` turns into the
same PuLP problem; the risk-aware model (:mod:`~sourcing.allocation.risk`) stacks its scenario
blocks on the same model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..cost_lines import switched_units
from ._data import Instance, discount_amounts
from .arrays import EQ, GE, LE, ArrayModel, Block, block
from .policy import Policy
from .rules import REGISTRY, vendor_limits

__all__ = ["Model", "build_model", "cost_reference", "start_vector"]

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
    groups: dict = field(default_factory=dict)
    n: int = 0                 # number of columns
    by_lot: np.ndarray | None = None     # segments sorted by lot (stable)
    by_vendor: np.ndarray | None = None  # segments sorted by vendor (stable)
    hi: np.ndarray | None = None         # (S,) tightest valid volume cap of each segment
    lot_vendors: dict = field(default_factory=dict)   # lot index -> (least, most) vendors there
    cost_ref: float | None = None        # cost scale of blended objectives and money violations
    budget_ref: float = 1.0              # cost scale of the budget's violation unit
    total: tuple | None = None           # (coefficients, constant) of the annual total cost

    def x(self, segs=slice(None)):
        return np.arange(self.S)[segs]

    def z(self, segs=slice(None)):
        return self.S + np.arange(self.S)[segs]


def _layout(inst: Instance, policy: Policy, lot_vendors: dict | None = None, *,
            tighten: bool = True) -> _Layout:
    S, V = len(inst.seg_bid), inst.n_vendors
    seg_v = inst.bid_vendor[inst.seg_bid] if S else np.zeros(0, np.int64)
    seg_l = inst.bid_lot[inst.seg_bid] if S else np.zeros(0, np.int64)
    vendors = np.unique(inst.bid_vendor)
    u_col = np.full(V, -1, np.int64)
    u_col[vendors] = 2 * S + np.arange(len(vendors))
    lay = _Layout(inst, S, seg_v, seg_l, vendors, u_col, lot_vendors=dict(lot_vendors or {}))
    lay.groups = {"x": (0, S), "z": (S, 2 * S)}
    n = 2 * S
    nd = len(inst.discounts)
    for name, size in (("u", len(vendors)), ("spend_total", int(policy.max_spend_share_pct is not None)),
                       ("w", nd), ("dsc", nd)):
        lay.groups[name] = (n, n + size)
        n += size
    lay.n = n
    # caps that assume the vendor-count rules hold: not in the elastic model, which relaxes them
    lay.hi = _segment_caps(inst, policy, seg_l, lay.lot_vendors) if tighten else inst.seg_hi.copy()
    lay.by_lot = np.argsort(seg_l, kind="stable")
    lay.by_vendor = np.argsort(seg_v, kind="stable")
    return lay


def _segment_caps(inst: Instance, policy: Policy, seg_l: np.ndarray, lot_vendors: dict) -> np.ndarray:
    """The tightest valid cap of each segment's volume (the big-M of its link row).

    ``Instance.seg_hi`` already is min(tier end, capacity, share cap x demand, demand).  Where a lot
    needs at least ``k >= 2`` vendors (``min_vendors_per_lot``, or its per-lot override) and demand
    is met exactly (within its tolerance), the other ``k - 1`` vendors of the lot take at least
    their least volumes, so a segment can carry at most ``demand (1 + tol)`` minus the ``k - 1``
    smallest least volumes of the lot's bids.
    """
    hi = inst.seg_hi.copy()
    least = np.nan_to_num(vendor_limits(policy, inst.n_lots, lot_vendors)[0])
    B = len(inst.bid_vendor)
    if not (least >= 2).any() or policy.demand != "exact" or not B:
        return hi
    low = np.full(B, np.inf)
    np.minimum.at(low, inst.seg_bid, inst.seg_lo)
    order = np.lexsort((low, inst.bid_lot))
    lot_sorted, low_sorted = inst.bid_lot[order], low[order]
    rank = np.arange(B) - np.searchsorted(lot_sorted, lot_sorted)   # position within its lot
    take = rank < least[lot_sorted] - 1
    reserve = np.zeros(inst.n_lots)
    np.add.at(reserve, lot_sorted[take], low_sorted[take])
    top = inst.demand * (1 + policy.demand_tolerance_pct / 100.0) - reserve
    return np.maximum(np.minimum(hi, top[seg_l]), 0.0)


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


def _bundles(lay: _Layout) -> list[Block]:
    """A package is taken whole or not at all: each piece's ``z`` equals its first piece's, and a
    proportional package's pieces carry the same fraction of their volumes."""
    inst = lay.inst
    if not inst.has_bundles:
        return []
    segs = np.flatnonzero(inst.seg_bundle >= 0)
    segs = segs[np.argsort(inst.seg_bundle[segs], kind="stable")]
    k = inst.seg_bundle[segs]
    _, first_at = np.unique(k, return_index=True)
    first = segs[first_at][np.searchsorted(k[first_at], k)]
    other = segs != first
    s, f = segs[other], first[other]
    prop = inst.bundle_proportional[inst.seg_bundle[s]]
    q = inst.piece_volume
    keys = np.concatenate([s, s[prop]])
    kind = np.concatenate([np.zeros(len(s), np.int64), np.ones(int(prop.sum()), np.int64)])
    r = np.arange(len(keys))
    rz, rx = r[:len(s)], r[len(s):]
    row = np.concatenate([rz, rz, rx, rx])
    col = np.concatenate([lay.z(s), lay.z(f), lay.x(s[prop]), lay.x(f[prop])])
    coef = np.concatenate([np.ones(len(s)), -np.ones(len(s)), 1.0 / q[s[prop]], -1.0 / q[f[prop]]])
    return [block("bundle", "segment", keys, row, col, coef, EQ, 0.0, names=("bundle_z", "bundle_x"),
                  kind=kind, structural=True)]


def _discounts(lay: _Layout, caps: list[float]) -> list[Block]:
    """The rows of the conditional discounts (see the module notes); *caps*: each one's most
    worth (:func:`_discount_cap`)."""
    inst = lay.inst
    if not inst.discounts:
        return []
    w0, d0 = lay.groups["w"][0], lay.groups["dsc"][0]
    rows, cols, coefs, senses, rhs, names = [], [], [], [], [], []

    def add(c, a, sense, b, name):
        rows.append(np.full(len(c), len(senses)))
        cols.append(np.asarray(c, np.int64))
        coefs.append(np.asarray(a, float))
        senses.append(sense)
        rhs.append(b)
        names.append(name)

    by_vendor: dict[int, list[int]] = {}
    for i, dc in enumerate(inst.discounts):
        by_vendor.setdefault(dc.vendor, []).append(i)
        segs = np.flatnonzero((lay.seg_v == dc.vendor) & dc.lots[lay.seg_l])
        spend_cols = np.concatenate([lay.x(segs), lay.z(segs)])
        spend = np.concatenate([inst.seg_price[segs], inst.seg_intercept[segs]])
        if dc.condition == "lots_at_least":
            add([*lay.z(segs), w0 + i], [*np.ones(len(segs)), -dc.threshold], GE, 0.0, f"discount_{dc.id}_if")
        else:
            add([*spend_cols, w0 + i], [*spend, -dc.threshold], GE, 0.0, f"discount_{dc.id}_if")
        add([*spend_cols, d0 + i], [*(-dc.pct / 100.0 * spend), 1.0], LE, 0.0, f"discount_{dc.id}_amount")
        add([d0 + i, w0 + i], [1.0, -caps[i]], LE, 0.0, f"discount_{dc.id}_given")
    for v, ds in by_vendor.items():
        if len(ds) > 1:
            add([w0 + i for i in ds], np.ones(len(ds)), LE, 1.0, f"discount_one_{inst.vendor_ids[v]}")
    r = len(senses)
    return [block("discount", "all", np.zeros(r, np.int64), np.concatenate(rows), np.concatenate(cols),
                  np.concatenate(coefs), np.array(senses), np.array(rhs), names=tuple(names),
                  kind=np.arange(r), structural=True)]


def _discount_cap(inst: Instance, lay: _Layout, dc) -> float:
    """The most discount *dc* can be worth: its percent of the most its vendor could be paid on
    its lots (tender currency per year)."""
    segs = np.flatnonzero((lay.seg_v == dc.vendor) & dc.lots[lay.seg_l])
    most = np.zeros(inst.n_lots)
    np.maximum.at(most, lay.seg_l[segs], inst.seg_intercept[segs] + inst.seg_price[segs] * lay.hi[segs])
    return dc.pct / 100.0 * float(most.sum())


# ---------------------------------------------------------------------- objective and assembly
def _costs(lay: _Layout, policy: Policy, n: int) -> dict[str, tuple[np.ndarray, float]]:
    """Cost expressions over the columns: unit cost (per year), setup, onboarding and switching
    (one-off, tender currency) and the annual total (one-offs annualised)."""
    inst, S, k = lay.inst, lay.S, lay.inst.annualise
    xs, zs = lay.x(), lay.z()
    setup_coef = inst.bid_setup[inst.seg_bid] if S else np.zeros(0)
    vec = {name: np.zeros(n) for name in ("unit_cost", "setup", "onboarding", "switching", "total")}
    vec["unit_cost"][xs] = inst.seg_price
    vec["unit_cost"][zs] = inst.seg_intercept
    vec["unit_cost"][slice(*lay.groups["dsc"])] = -1.0   # fees net of the conditional discounts
    if policy.setup_costs:
        vec["setup"][zs] = setup_coef
    if policy.onboarding_costs:
        vec["onboarding"][lay.u_col[lay.vendors]] = inst.onboarding[lay.vendors]
    if policy.switching_costs:  # units a provider other than the lot's current one serves
        vec["switching"][xs] = switched_units(inst.switching[lay.seg_l], lay.seg_v,
                                              inst.lot_incumbent[lay.seg_l])
    vec["total"] = vec["unit_cost"] + k * (vec["setup"] + vec["onboarding"] + vec["switching"])
    return {name: (v, 0.0) for name, v in vec.items()}


def build_model(inst: Instance, policy: Policy, *, objective: str | float = "cost",
                elastic: bool = False, cost_ref: float | None = None,
                lot_vendors: dict | None = None) -> ArrayModel:
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
    lot_vendors : dict, optional
        Lot index -> ``(least, most)`` vendors on that lot (None: no limit), replacing the
        policy's vendors per lot there (used to price a backup vendor lot by lot).

    Returns
    -------
    ArrayModel
        Rows in this order: segment links, one segment per bid, the rows of every rule of
        :data:`~sourcing.allocation.rules.REGISTRY` on volumes (demand, vendors per lot, quality
        floor, risk cap, vendors overall, lots per vendor, include), then the rules on
        money (spend total and concentration cap, budget).
    """
    lay = _layout(inst, policy, lot_vendors, tighten=not elastic)
    n = lay.n
    S = lay.S
    costs = _costs(lay, policy, n)
    lay.cost_ref, lay.total = cost_ref, costs["total"]
    lay.budget_ref = cost_ref or cost_reference(inst)
    caps = [_discount_cap(inst, lay, dc) for dc in inst.discounts]
    blocks = [_link(lay), _one_segment(lay), *_bundles(lay), *_discounts(lay, caps)]
    blocks += [b for r in REGISTRY if not r.money for b in r.blocks(lay, policy)]
    blocks += [b for r in REGISTRY if r.money for b in r.blocks(lay, policy)]
    lb = np.zeros(n)
    ub = np.full(n, np.inf)
    ub[:S] = lay.hi
    ub[S:lay.groups["u"][1]] = 1.0
    t0, t1 = lay.groups["spend_total"]
    if t1 > t0:  # the largest spend any award can have: a finite bound for the Lagrangian bound
        ub[t0:t1] = float(np.sum(np.maximum(0.0, np.maximum(inst.seg_intercept + inst.seg_price * inst.seg_lo,
                                                            inst.seg_intercept + inst.seg_price * lay.hi))))
    integer = np.zeros(n, bool)
    integer[S:lay.groups["u"][1]] = True
    w, dsc = slice(*lay.groups["w"]), slice(*lay.groups["dsc"])
    ub[w], integer[w] = 1.0, True
    ub[dsc] = caps
    col_keys = {"x": np.arange(S), "z": np.arange(S), "u": lay.vendors,
                "spend_total": np.zeros(t1 - t0, np.int64), "w": np.arange(w.stop - w.start),
                "dsc": np.arange(dsc.stop - dsc.start)}
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
    t = model.cols("spend_total")
    if t.stop > t.start:
        out[t] = float(np.sum(inst.seg_price * seg_x + inst.seg_intercept * seg_z))
    if inst.discounts:
        amount = discount_amounts(inst, seg_x, seg_z)
        out[model.cols("w")] = amount > 0
        out[model.cols("dsc")] = amount
    return out




def cost_reference(inst: Instance) -> float:
    """A cost scale (tender currency per year) for blended objectives: demand x cheapest base price
    per lot."""
    sl = inst.bid_lot[inst.seg_bid]
    cheapest = np.full(inst.n_lots, np.inf)
    np.minimum.at(cheapest, sl, inst.seg_price)
    cheapest[~np.isfinite(cheapest)] = np.nan
    return float(np.nansum(cheapest * inst.demand)) or 1.0

