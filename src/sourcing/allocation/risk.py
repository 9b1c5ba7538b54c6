"""Risk-aware award: least expected contract cost + lambda x CVaR over sampled risk scenarios.

Two-stage stochastic MILP in the sample-average form (SAA): the first stage is the award (the
same segment, vendor and switching variables and the same policy rows as the deterministic model
of :mod:`~sourcing.allocation.model`, written here directly as sparse arrays); the second stage,
per scenario, re-routes the volume of each awarded vendor that fails (the supplier-allocation form
of Sawik 2011).  The tail is CVaR_alpha linearised as in Rockafellar & Uryasev (2000):

    minimise  sum_s p_s Q_s  +  lambda (eta + 1 / (1 - alpha) sum_s p_s xi_s)
    s.t.      xi_s >= Q_s - eta,  xi_s >= 0

Contract cost ``Q_s`` of scenario ``s`` (tender currency, undiscounted, whole horizon of T years)
---------------------------------------------------------------------------------------------
* **fees**: every awarded bid's annual cost (unit price after volume discounts) x demand growth
  of its lot x price indexation, summed over the years: ``sum_t G[s,l,t] E[s,t]``;
* **one-off costs** (setup, onboarding, switching away from the incumbent), as the deterministic
  model charges them, ``k T`` times (``k`` the policy's annualisation: once for ``"straight"``);
* **vendor failure** (awarded vendor ``v`` fails in year ``y <= T``): the fixed failure cost of
  ``v`` (exit + replacement onboarding) in year ``y``, and the **recourse**: from year ``y + 1`` its
  volume on each lot moves

  - *warm* to the lot's other awarded vendors, each up to its spare capacity (bid capacity minus
    its awarded volume), at its list price (the bid's base unit price) plus a switching cost of
    ``warm_switch_share x lots.switching_cost_per_unit`` per unit moved;
  - *cold* (the rest) to a replacement at the failed vendor's list price x ``(1 +
    failure_premium)`` plus the full ``lots.switching_cost_per_unit``;

  cheapest first (per unit over the remaining years: the LP's second stage, whose optimum is this
  greedy fill); the failed vendor's fees stop.  Each failure is routed against the award as
  signed (a second failure on the same lot sees the full spare capacity again).

The simulation's contract model (:mod:`sourcing.simulation.contract`, driver ``vendor_failure``)
applies the same rule, so simulating the award with :func:`~sourcing.simulation.simulate` gives the
same fees + failure cost (its ``service + escalation + vendor_failure`` drivers); the simulation
adds what the award does not change by recourse (FX, governance, SLA credits, business impact,
security, transition overrun, incumbent exit), which this model leaves out.

Policy rules enforced: demand (exact / at least, tolerance), bid capacity and min_volume, volume
tiers (all-unit and incremental), min/max share (also per lot), min/max vendors per lot, max
vendors in total, max lots per vendor, max spend share, quality floor, risk cap, budget (on the
deterministic annual cost), include, exclude, and the switching/onboarding/setup cost switches.
``Policy.tie_break`` is not applied (ties are broken by the solver).

Scenarios come as plain arrays (:class:`RiskScenarios`), drawn by
:func:`sourcing.simulation.risk_scenarios` from the simulation's own risk model and seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._data import DEFAULT_CURRENCY, Instance, make_instance
from .award import lot_names, segments_from_volumes, shares_text, vendor_names
from .policy import Policy

__all__ = ["RiskAward", "RiskFrontier", "RiskScenarios", "allocate_risk", "backup_value", "cvar",
           "risk_frontier", "scenario_costs"]

#: What the risk-aware award's expected cost and CVaR count, named wherever they appear (the
#: simulation of the same award adds governance, service credits, business impact and security).
COST_LINES = "fees, one-off costs and failure recourse"


# ---------------------------------------------------------------------- scenarios
@dataclass(frozen=True, eq=False)
class RiskScenarios:
    """Sampled risk scenarios as plain arrays (``S`` scenarios, ``V`` vendors, ``L`` lots, ``T`` years).

    Attributes
    ----------
    vendor_ids, lot_ids : tuple of str
        Order of the vendor and lot axes.
    failure_year : ndarray (S, V)
        Contract year (1..T) in which the vendor fails; any value > T (e.g. ``inf``) = no failure
        within the horizon.
    index_factor : ndarray (S, T)
        Multiplier of vendor fees in each year from price indexation (1 in year 1) [-].
    growth_factor : ndarray (S, L, T)
        Multiplier of each lot's year-1 demand in each year (1 in year 1) [-].
    failure_cost : ndarray (V,)
        One-off cost when the vendor fails (exit + replacement onboarding) [tender currency].
    failure_premium : float
        Extra fee of a cold replacement [fraction of the failed vendor's list price per year].
    warm_switch_share : float
        Switching cost per unit moved to a vendor already serving the lot, as a fraction of
        ``lots.switching_cost_per_unit`` [-].
    weights : ndarray (S,), optional
        Scenario probabilities (sum 1); default equal weights (a plain sample).
    seed : object
        The seed the scenarios were drawn with (for the record).
    """

    vendor_ids: tuple[str, ...]
    lot_ids: tuple[str, ...]
    failure_year: np.ndarray
    index_factor: np.ndarray
    growth_factor: np.ndarray
    failure_cost: np.ndarray
    failure_premium: float = 0.10
    warm_switch_share: float = 0.25
    weights: np.ndarray | None = None
    seed: object = None

    def __post_init__(self) -> None:
        vids = tuple(str(v) for v in self.vendor_ids)
        lids = tuple(str(v) for v in self.lot_ids)
        object.__setattr__(self, "vendor_ids", vids)
        object.__setattr__(self, "lot_ids", lids)

        def arr(name: str, ndim: int) -> np.ndarray:
            try:
                a = np.asarray(getattr(self, name), dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"RiskScenarios.{name} must be a numeric array") from None
            if a.ndim != ndim:
                raise ValueError(f"RiskScenarios.{name} must have {ndim} dimensions, got shape {a.shape}")
            return a

        fy = arr("failure_year", 2)
        idx = arr("index_factor", 2)
        gro = arr("growth_factor", 3)
        fc = arr("failure_cost", 1)
        S, T = idx.shape
        if S < 1 or T < 1:
            raise ValueError("RiskScenarios needs at least one scenario and one year")
        want = {"failure_year": (S, len(vids)), "growth_factor": (S, len(lids), T),
                "failure_cost": (len(vids),)}
        for name, a in (("failure_year", fy), ("growth_factor", gro), ("failure_cost", fc)):
            if a.shape != want[name]:
                raise ValueError(f"RiskScenarios.{name} has shape {a.shape}; expected {want[name]} "
                                 f"({S} scenarios, {len(vids)} vendors, {len(lids)} lots, {T} years)")
        if np.isnan(fy).any() or (fy < 1).any():
            raise ValueError("RiskScenarios.failure_year must be >= 1 (a contract year; > T = none)")
        for name, a in (("index_factor", idx), ("growth_factor", gro), ("failure_cost", fc)):
            if not np.isfinite(a).all() or (a < 0).any():
                raise ValueError(f"RiskScenarios.{name} must be finite and >= 0")
        for name in ("failure_premium", "warm_switch_share"):
            v = float(getattr(self, name))
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"RiskScenarios.{name} must be a number >= 0, got {v}")
            object.__setattr__(self, name, v)
        w = self.weights
        if w is None:
            w = np.full(S, 1.0 / S)
        else:
            w = arr("weights", 1)
            if w.shape != (S,) or (w < 0).any() or abs(w.sum() - 1) > 1e-9:
                raise ValueError(f"RiskScenarios.weights must be {S} probabilities >= 0 summing to 1")
        for name, a in (("failure_year", fy), ("index_factor", idx), ("growth_factor", gro),
                        ("failure_cost", fc), ("weights", w)):
            a = np.array(a, dtype=float)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def n(self) -> int:
        """Number of scenarios."""
        return self.index_factor.shape[0]

    @property
    def years(self) -> int:
        """Horizon T [years]."""
        return self.index_factor.shape[1]

    def subset(self, rows) -> RiskScenarios:
        """The scenarios at *rows* (weights renormalised)."""
        rows = np.asarray(rows)
        w = self.weights[rows]
        return RiskScenarios(self.vendor_ids, self.lot_ids, self.failure_year[rows],
                             self.index_factor[rows], self.growth_factor[rows], self.failure_cost,
                             self.failure_premium, self.warm_switch_share, w / w.sum(), self.seed)

    def _aligned(self, inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """failure_year (S, V), growth (S, L, T), failure_cost (V,) in the instance's vendor/lot order."""
        vpos = {v: i for i, v in enumerate(self.vendor_ids)}
        lpos = {v: i for i, v in enumerate(self.lot_ids)}
        bidders = sorted({inst.vendor_ids[v] for v in inst.bid_vendor})
        miss_v = [v for v in bidders if v not in vpos]
        miss_l = [lot for lot in inst.lot_ids if lot not in lpos]
        if miss_v or miss_l:
            raise ValueError("scenarios do not cover "
                             + "; ".join(x for x in (
                                 "vendor(s) " + ", ".join(miss_v) if miss_v else "",
                                 "lot(s) " + ", ".join(miss_l) if miss_l else "") if x)
                             + " of the tender (draw them from the same tender)")
        if self.years != inst.years:
            raise ValueError(f"scenarios span {self.years} years but the contract has {inst.years}; "
                             "draw them with the same contract years")
        vi = np.array([vpos.get(v, -1) for v in inst.vendor_ids])
        fy = np.where(vi >= 0, self.failure_year[:, np.maximum(vi, 0)], np.inf)
        fc = np.where(vi >= 0, self.failure_cost[np.maximum(vi, 0)], 0.0)
        g = self.growth_factor[:, [lpos[lot] for lot in inst.lot_ids], :]
        return fy, g, fc


def cvar(values, alpha: float = 0.95, weights=None) -> float:
    """Conditional value at risk: mean of the worst ``1 - alpha`` of the distribution (upper tail).

    Rockafellar & Uryasev (2000): ``CVaR = min_eta eta + E[(X - eta)^+] / (1 - alpha)``, the minimum
    at ``eta = VaR_alpha``; exact for a discrete (weighted) sample.
    """
    x = np.asarray(values, float).ravel()
    if not 0 <= alpha < 1:
        raise ValueError(f"alpha must lie in [0, 1), got {alpha}")
    w = np.full(len(x), 1.0 / len(x)) if weights is None else np.asarray(weights, float)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws)
    k = min(int(np.searchsorted(cum, alpha - 1e-12, side="left")), len(xs) - 1)
    var = xs[k]
    return float(var + np.sum(ws * np.maximum(xs - var, 0.0)) / (1 - alpha))


# ---------------------------------------------------------------------- helpers on the instance
def _bid_list_price(inst: Instance) -> np.ndarray:
    """Base unit price of each bid (its highest segment price: tiers only lower it)."""
    p = np.zeros(len(inst.bid_vendor))
    np.maximum.at(p, inst.seg_bid, inst.seg_price)
    return p


def _fee_multipliers(rs: RiskScenarios, g: np.ndarray):
    """W (S, L): sum_t G E; after (S, L, T+1): sum_{t > y} G E for failure year y = 1..T (index y);
    G (S, L, T)."""
    ge = g * rs.index_factor[:, None, :]
    W = ge.sum(axis=2)
    tail = np.concatenate([np.cumsum(ge[:, :, ::-1], axis=2)[:, :, ::-1],
                           np.zeros(ge.shape[:2] + (1,))], axis=2)  # tail[..., k] = sum_{t0 >= k}
    return W, tail, g


@dataclass
class _Failures:
    """Failure events (scenario, bid of the failed vendor) with their per-unit recourse rates."""

    s: np.ndarray        # (E,) scenario
    b: np.ndarray        # (E,) failed bid
    after: np.ndarray    # (E,) sum over the years after the failure of G E on the bid's lot
    g_y: np.ndarray      # (E,) demand multiplier of the lot in the failure year


def _failure_events(inst: Instance, fy: np.ndarray, tail: np.ndarray, g: np.ndarray) -> _Failures:
    T = g.shape[2]
    fyb = fy[:, inst.bid_vendor]                       # (S, B)
    s, b = np.nonzero(fyb <= T)
    y = fyb[s, b].astype(int)                          # 1..T
    lot = inst.bid_lot[b]
    return _Failures(s, b, tail[s, lot, y], g[s, lot, y - 1])


def _pairs(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Warm pairs (failed bid, other bid on the same lot of another vendor), sorted by failed bid;
    and the offsets ``start[b]:start[b + 1]`` of bid b's pairs."""
    B = len(inst.bid_vendor)
    same = (inst.bid_lot[:, None] == inst.bid_lot[None, :]) & (
        inst.bid_vendor[:, None] != inst.bid_vendor[None, :])
    a, c = np.nonzero(same)
    start = np.searchsorted(a, np.arange(B + 1))
    return a, c, start


def scenario_costs(inst: Instance, policy: Policy, rs: RiskScenarios, volumes: np.ndarray) -> dict:
    """Contract cost per scenario of an award given as vendor x lot volumes (numpy, no solver).

    The recourse of each failure is the greedy fill described in the module notes (cheapest
    per-unit option first, warm vendors up to their spare capacity).

    Returns
    -------
    dict
        ``total`` (S,), ``fees`` (S,), ``failure`` (S,) [tender currency over the horizon] and
        ``one_off`` (float, the deterministic one-off costs as charged, tender currency).
    """

    vol = np.asarray(volumes, float)
    fy, g, fc = rs._aligned(inst)
    W, tail, G = _fee_multipliers(rs, g)
    sx, sz = segments_from_volumes(inst, vol)
    B = len(inst.bid_vendor)
    xb = np.zeros(B)
    np.add.at(xb, inst.seg_bid, sx)
    cb = np.zeros(B)
    np.add.at(cb, inst.seg_bid, inst.seg_price * sx + inst.seg_intercept * sz)
    awarded = xb > 1e-9
    fees = W[:, inst.bid_lot[awarded]] @ cb[awarded]
    engaged = np.zeros(inst.n_vendors, bool)
    engaged[inst.bid_vendor[awarded]] = True
    T = rs.years
    failure = ((fy <= T) & engaged[None, :]).astype(float) @ fc
    plist = _bid_list_price(inst)
    sw = inst.switching
    cap = inst.bid_capacity
    for b in np.flatnonzero(awarded):
        v, lot = inst.bid_vendor[b], inst.bid_lot[b]
        hit = np.flatnonzero(fy[:, v] <= T)
        if hit.size == 0:
            continue
        y = fy[hit, v].astype(int)
        after = tail[hit, lot, y]
        gy = G[hit, lot, y - 1]
        warm = np.flatnonzero(awarded & (inst.bid_lot == lot) & (inst.bid_vendor != v))
        rates = [rs.warm_switch_share * sw[lot] * gy + plist[w] * after for w in warm]
        rates.append(sw[lot] * gy + (1 + rs.failure_premium) * plist[b] * after)
        spare = [max(cap[w] - xb[w], 0.0) for w in warm] + [np.inf]
        R = np.stack(rates, axis=1)                     # (hits, K + 1)
        order = np.argsort(R, axis=1, kind="stable")
        caps = np.asarray(spare)[order]
        before = np.concatenate([np.zeros((len(hit), 1)), np.cumsum(caps, axis=1)[:, :-1]], axis=1)
        fill = np.clip(xb[b] - before, 0.0, caps)
        failure[hit] += (fill * np.take_along_axis(R, order, axis=1)).sum(axis=1) - cb[b] * after
    k, n_years = inst.annualise, inst.years
    one = _one_off(inst, policy, xb, awarded, engaged) * k * n_years
    return {"total": fees + failure + one, "fees": fees, "failure": failure, "one_off": float(one)}


def _one_off(inst: Instance, policy: Policy, xb, awarded, engaged) -> float:
    setup = float(inst.bid_setup[awarded].sum()) if policy.setup_costs else 0.0
    onboard = float(inst.onboarding[engaged].sum()) if policy.onboarding_costs else 0.0
    moved = 0.0
    if policy.switching_costs:
        vol = np.zeros((inst.n_vendors, inst.n_lots))
        np.add.at(vol, (inst.bid_vendor, inst.bid_lot), xb)
        for j in range(inst.n_lots):
            inc = inst.lot_incumbent[j]
            if inc >= 0 and inst.switching[j] > 0:
                moved += inst.switching[j] * max(inst.demand[j] - vol[inc, j], 0.0)
    return setup + onboard + moved


# ---------------------------------------------------------------------- the array model
class _Rows:
    """Sparse rows collected as COO triplets with bounds."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n = 0

    def add(self, row_local, cols, vals, lo, hi) -> None:
        lo = np.atleast_1d(np.asarray(lo, float))
        hi = np.atleast_1d(np.asarray(hi, float))
        m = max(len(lo), len(hi))
        self.r.append(np.asarray(row_local, np.int64) + self.n)
        self.c.append(np.asarray(cols, np.int64))
        self.v.append(np.asarray(vals, float))
        self.lo.append(np.broadcast_to(lo, m))
        self.hi.append(np.broadcast_to(hi, m))
        self.n += m

    def csr(self):
        r = np.concatenate(self.r) if self.r else np.zeros(0, np.int64)
        c = np.concatenate(self.c) if self.c else np.zeros(0, np.int64)
        v = np.concatenate(self.v) if self.v else np.zeros(0)
        # sum duplicate (row, column) entries (a scenario row meets the same column twice)
        key = r * (int(c.max(initial=0)) + 1) + c
        uniq, inv = np.unique(key, return_inverse=True)
        v = np.bincount(inv, weights=v, minlength=len(uniq))
        width = int(c.max(initial=0)) + 1
        r, c = uniq // width, uniq % width
        keep = v != 0
        r, c, v = r[keep], c[keep], v[keep]
        start = np.searchsorted(r, np.arange(self.n + 1)).astype(np.int32)
        lo = np.concatenate(self.lo) if self.lo else np.zeros(0)
        hi = np.concatenate(self.hi) if self.hi else np.zeros(0)
        return start, c.astype(np.int32), v, lo, hi


@dataclass
class _Model:
    n_cols: int
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    cost: np.ndarray
    const: float
    rows: _Rows
    nS: int


def _build(inst: Instance, policy: Policy, rs: RiskScenarios, lam: float, alpha: float,
           lot_vendors: dict[int, tuple[int | None, int | None]]) -> _Model:
    nS, V, L, B = len(inst.seg_bid), inst.n_vendors, inst.n_lots, len(inst.bid_vendor)
    d = inst.demand
    T = rs.years
    k = inst.annualise
    kT = k * T
    fy, g, fc = rs._aligned(inst)
    W, tail, G = _fee_multipliers(rs, g)
    S = rs.n
    p = rs.weights
    seg_v = inst.bid_vendor[inst.seg_bid]
    seg_l = inst.bid_lot[inst.seg_bid]
    # ----- columns: x (nS), z (nS), u (V), m (L), spend total (1), eta (1), xi (S), q (Q), c (E)
    X, Z, U, M = 0, nS, 2 * nS, 2 * nS + V
    TS = M + L
    ETA = TS + 1
    XI = ETA + 1
    use_cvar = lam > 0
    n_xi = S if use_cvar else 0
    ev = _failure_events(inst, fy, tail, G)
    E = len(ev.s)
    pa, pc, pstart = _pairs(inst)
    n_pairs = np.diff(pstart)[ev.b]                     # warm options per event
    q_event = np.repeat(np.arange(E), n_pairs)
    q_other = pc[np.concatenate([np.arange(pstart[b], pstart[b + 1]) for b in ev.b])] if E else (
        np.zeros(0, np.int64))
    Q = len(q_event)
    QC = XI + n_xi
    CC = QC + Q
    n = CC + E
    lb = np.zeros(n)
    ub = np.full(n, np.inf)
    integer = np.zeros(n, bool)
    ub[X:X + nS] = inst.seg_hi
    ub[Z:Z + nS] = 1.0
    integer[Z:Z + nS] = True
    has_bid = np.zeros(V, bool)
    has_bid[inst.bid_vendor] = True
    ub[U:U + V] = has_bid.astype(float)
    integer[U:U + V] = True
    moved_lot = np.array([policy.switching_costs and inst.lot_incumbent[j] >= 0 and inst.switching[j] > 0
                          for j in range(L)], bool)
    inc_has_bid = np.array([moved_lot[j] and bool(np.any((seg_l == j) & (seg_v == inst.lot_incumbent[j])))
                            for j in range(L)], bool)
    ub[M:M + L] = np.where(inc_has_bid, d, 0.0)
    switch_const = float(np.sum(inst.switching * d * (moved_lot & ~inc_has_bid)))
    if policy.max_spend_share_pct is None:
        ub[TS] = 0.0
    lb[ETA] = -np.inf if use_cvar else 0.0
    ub[ETA] = np.inf if use_cvar else 0.0
    rows = _Rows()
    segs = np.arange(nS)
    # segment linking, one segment per bid and engaged vendor
    rows.add(np.repeat(np.arange(nS), 2), np.column_stack([X + segs, Z + segs]).ravel(),
             np.column_stack([np.ones(nS), -inst.seg_hi]).ravel(), -np.inf, np.zeros(nS))
    rows.add(np.repeat(np.arange(nS), 2), np.column_stack([X + segs, Z + segs]).ravel(),
             np.column_stack([np.ones(nS), -inst.seg_lo]).ravel(), np.zeros(nS), np.inf)
    rows.add(np.concatenate([inst.seg_bid, np.arange(B)]),
             np.concatenate([Z + segs, U + inst.bid_vendor]),
             np.concatenate([np.ones(nS), -np.ones(B)]), -np.inf, np.zeros(B))
    # demand
    tol = policy.demand_tolerance_pct / 100.0
    if policy.demand == "exact" and tol == 0:
        rows.add(seg_l, X + segs, np.ones(nS), d, d)
    else:
        rows.add(seg_l, X + segs, np.ones(nS), d * (1 - tol),
                 d * (1 + tol) if policy.demand == "exact" else np.inf)
    # vendors per lot (policy, with per-lot overrides)
    lo_n = np.full(L, float(policy.min_vendors_per_lot or 0))
    hi_n = np.full(L, float(policy.max_vendors_per_lot) if policy.max_vendors_per_lot else np.inf)
    for j, (a, b) in lot_vendors.items():
        lo_n[j] = float(a or 0)
        hi_n[j] = np.inf if b is None else float(b)
    rows.add(seg_l, Z + segs, np.ones(nS), lo_n, hi_n)
    if policy.quality_floor is not None:
        rows.add(seg_l, X + segs, inst.quality[seg_v] - policy.quality_floor, np.zeros(L), np.inf)
    if policy.risk_cap is not None:
        rows.add(seg_l, X + segs, inst.risk_score[seg_v] - policy.risk_cap, -np.inf, np.zeros(L))
    if policy.max_vendors_total is not None:
        rows.add(np.zeros(V), U + np.arange(V), np.ones(V), -np.inf, float(policy.max_vendors_total))
    if policy.max_lots_per_vendor is not None:
        rows.add(seg_v, Z + segs, np.ones(nS), -np.inf, np.full(V, float(policy.max_lots_per_vendor)))
    for vid in policy.include:
        v = inst.vendor_ids.index(vid)
        mine = np.flatnonzero(seg_v == v)
        rows.add(np.zeros(len(mine)), Z + mine, np.ones(len(mine)), 1.0, np.inf)
    # switching away from the incumbent: m_j + x[incumbent, j] >= d_j
    for j in np.flatnonzero(inc_has_bid):
        mine = np.flatnonzero((seg_l == j) & (seg_v == inst.lot_incumbent[j]))
        rows.add(np.zeros(len(mine) + 1), np.concatenate([[M + j], X + mine]),
                 np.ones(len(mine) + 1), d[j], np.inf)
    if policy.max_spend_share_pct is not None:
        rows.add(np.zeros(2 * nS + 1), np.concatenate([X + segs, Z + segs, [TS]]),
                 np.concatenate([inst.seg_price, inst.seg_intercept, [-1.0]]), 0.0, 0.0)
        c = policy.max_spend_share_pct / 100.0
        rows.add(np.concatenate([seg_v, seg_v, np.arange(V)]),
                 np.concatenate([X + segs, Z + segs, np.full(V, TS)]),
                 np.concatenate([inst.seg_price, inst.seg_intercept, np.full(V, -c)]),
                 -np.inf, np.zeros(V))
    # deterministic annual cost (as the deterministic model): for the budget rule
    sw_coef = np.where(inc_has_bid, inst.switching, 0.0) * policy.switching_costs
    det_x = inst.seg_price
    det_z = inst.seg_intercept + k * inst.bid_setup[inst.seg_bid] * policy.setup_costs
    det_u = k * inst.onboarding * policy.onboarding_costs
    if policy.budget is not None:
        rows.add(np.zeros(2 * nS + V + L), np.concatenate([X + segs, Z + segs, U + np.arange(V),
                                                            M + np.arange(L)]),
                 np.concatenate([det_x, det_z, det_u, k * sw_coef]), -np.inf,
                 float(policy.budget) - k * switch_const)
    # ----- second stage: balance and warm capacity per failure event
    plist = _bid_list_price(inst)
    seg_start = inst.seg_start
    cap = inst.bid_capacity
    if E:
        # balance: sum_w q + c - x_bv = 0
        nseg_b = np.diff(seg_start)[ev.b]
        e_seg = np.repeat(np.arange(E), nseg_b)
        seg_of = np.concatenate([np.arange(seg_start[b], seg_start[b + 1]) for b in ev.b])
        rows.add(np.concatenate([q_event, np.arange(E), e_seg]),
                 np.concatenate([QC + np.arange(Q), CC + np.arange(E), X + seg_of]),
                 np.concatenate([np.ones(Q), np.ones(E), -np.ones(len(seg_of))]), np.zeros(E), np.zeros(E))
        if Q:
            big = np.minimum(cap[q_other], d[inst.bid_lot[q_other]])
            nseg_o = np.diff(seg_start)[q_other]
            q_seg = np.repeat(np.arange(Q), nseg_o)
            oseg = np.concatenate([np.arange(seg_start[b], seg_start[b + 1]) for b in q_other])
            rows.add(np.concatenate([np.arange(Q), q_seg]), np.concatenate([QC + np.arange(Q), Z + oseg]),
                     np.concatenate([np.ones(Q), -big[q_seg]]), -np.inf, np.zeros(Q))
            fin = np.isfinite(cap[q_other])
            if fin.any():
                qi = np.flatnonzero(fin)
                local = np.arange(len(qi))
                nso = nseg_o[qi]
                rr = np.repeat(local, nso)
                oo = np.concatenate([np.arange(seg_start[b], seg_start[b + 1]) for b in q_other[qi]])
                rows.add(np.concatenate([local, rr]), np.concatenate([QC + qi, X + oo]),
                         np.ones(len(qi) + len(oo)), -np.inf, cap[q_other[qi]])
    # ----- scenario cost Q_s as coefficients: dense first-stage part + sparse recourse part
    lot_w = W[:, seg_l]                                           # (S, nS)
    qs_x = lot_w * inst.seg_price                                 # fees
    qs_z = lot_w * inst.seg_intercept + kT * inst.bid_setup[inst.seg_bid] * policy.setup_costs
    qs_u = (fy <= T) * fc + kT * inst.onboarding * policy.onboarding_costs
    qs_m = np.broadcast_to(kT * sw_coef, (S, L))
    const = kT * switch_const
    lot_e = inst.bid_lot[ev.b]
    sw_e = inst.switching[lot_e]
    rate_c = sw_e * ev.g_y + (1 + rs.failure_premium) * plist[ev.b] * ev.after
    rate_q = (rs.warm_switch_share * sw_e[q_event] * ev.g_y[q_event] + plist[q_other] * ev.after[q_event])
    # the failed bid's fees stop after the failure: - (price x + intercept z) x after
    e_seg_s = ev.s[e_seg] if E else np.zeros(0, np.int64)
    stop_x = -inst.seg_price[seg_of] * ev.after[e_seg] if E else np.zeros(0)
    stop_z = -inst.seg_intercept[seg_of] * ev.after[e_seg] if E else np.zeros(0)
    cost = np.zeros(n)
    cost[X:X + nS] = p @ qs_x
    cost[Z:Z + nS] = p @ qs_z
    cost[U:U + V] = p @ qs_u
    cost[M:M + L] = p @ qs_m
    if E:
        np.add.at(cost, X + seg_of, p[e_seg_s] * stop_x)
        np.add.at(cost, Z + seg_of, p[e_seg_s] * stop_z)
        cost[QC:QC + Q] = p[ev.s[q_event]] * rate_q
        cost[CC:CC + E] = p[ev.s] * rate_c
    if use_cvar:
        cost[ETA] = lam
        cost[XI:XI + S] = lam * p / (1 - alpha)
        # xi_s + eta - Q_s >= const
        sS = np.arange(S)
        dense_cols = np.concatenate([X + segs, Z + segs, U + np.arange(V), M + np.arange(L)])
        dense = np.concatenate([qs_x, qs_z, qs_u, qs_m], axis=1)   # (S, 2nS + V + L)
        rows.add(np.concatenate([sS, sS, np.repeat(sS, dense.shape[1])]),
                 np.concatenate([XI + sS, np.full(S, ETA), np.tile(dense_cols, S)]),
                 np.concatenate([np.ones(S), np.ones(S), -dense.ravel()]), np.full(S, const), np.inf)
        if E:
            base = rows.n - S
            rows.r.append(base + np.concatenate([e_seg_s, e_seg_s, ev.s[q_event], ev.s]))
            rows.c.append(np.concatenate([X + seg_of, Z + seg_of, QC + np.arange(Q), CC + np.arange(E)]))
            rows.v.append(-np.concatenate([stop_x, stop_z, rate_q, rate_c]))
    return _Model(n, lb, ub, integer, cost, const, rows, nS)


def _solve(model: _Model, *, time_limit: float | None, mip_gap: float | None, start=None):
    import highspy

    from ._solvers import _new_highs

    t0 = time.perf_counter()
    start_, idx, val, lo, hi = model.rows.csr()
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(1e-4 if mip_gap is None else mip_gap))
    inf = highspy.kHighsInf
    n = model.n_cols

    def fin(a):
        return np.clip(np.asarray(a, float), -inf, inf)

    h.addVars(n, fin(model.lb), fin(model.ub))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), model.cost)
    ints = np.flatnonzero(model.integer).astype(np.int32)
    h.changeColsIntegrality(len(ints), ints, np.full(len(ints), highspy.HighsVarType.kInteger))
    m = len(lo)
    if m:
        h.addRows(m, fin(lo), fin(hi), len(idx), start_[:-1], idx, val)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, float))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    has = info.primal_solution_status == 2
    if status == ms.kOptimal and has:
        kind = "optimal"
    elif status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        kind = "infeasible"
    elif has:
        kind = "feasible"
    else:
        kind = "no solution"
    values = np.asarray(h.getSolution().col_value) if has else None
    obj = float(info.objective_function_value) + model.const if has else float("nan")
    bound = float(info.mip_dual_bound) + model.const if has else float("nan")
    gap = abs(obj - bound) / max(abs(obj), 1e-9) if has else float("nan")
    if kind == "optimal" and gap > max(mip_gap if mip_gap is not None else 1e-4, 1e-4) + 1e-9:
        kind = "feasible"
    return kind, values, obj, bound, gap, time.perf_counter() - t0


# ---------------------------------------------------------------------- result
@dataclass
class RiskAward:
    """A risk-aware award and its contract-cost distribution over the scenarios.

    Attributes
    ----------
    volumes, shares, spend : DataFrame
        vendor_id x lot_id as in :class:`~sourcing.allocation.Award` (units/year, fraction of
        demand, tender currency per year at the bid prices after discounts).
    cost : Series
        Deterministic annual cost as the deterministic model reports it: ``unit_cost``,
        ``setup``, ``onboarding``, ``switching`` (annualised) and ``total`` [tender currency/year].
    expected, cvar, var : float
        In-sample mean, CVaR_alpha and VaR_alpha of the contract cost over the horizon
        [tender currency].
    costs : ndarray (S,)
        Contract cost per scenario [tender currency]; ``one_off`` the one-off part in it.
    lam, alpha : float
    status, objective, bound, gap, solve_time
        ``objective`` = expected + lam x CVaR as the solver found it [tender currency].
    """

    volumes: pd.DataFrame
    shares: pd.DataFrame
    spend: pd.DataFrame
    cost: pd.Series
    expected: float
    cvar: float
    var: float
    costs: np.ndarray
    one_off: float
    lam: float
    alpha: float
    status: str
    objective: float
    bound: float
    gap: float
    solve_time: float
    n_scenarios: int
    currency: str = DEFAULT_CURRENCY
    policy: Policy | None = None
    names: dict | None = None
    lot_names: dict | None = None
    diagnosis: str | None = None
    solver: str = "highs"
    weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def feasible(self) -> bool:
        return self.status in ("optimal", "feasible")

    @property
    def vendors(self) -> list[str]:
        return list(self.volumes.index[(self.volumes > 1e-9).any(axis=1)])

    def label(self, vendor_id: str) -> str:
        name = (self.names or {}).get(vendor_id)
        return f"{vendor_id} {name}" if isinstance(name, str) and name else str(vendor_id)

    def vendors_per_lot(self) -> pd.Series:
        """Number of vendors awarded each lot."""
        return (self.volumes > 1e-9).sum(axis=0).rename("vendors")

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per awarded vendor x lot with volume, share and spend."""
        vol = self.volumes.stack()
        vol = vol[vol > 1e-9]
        out = pd.DataFrame({"volume": vol, "share": self.shares.stack().reindex(vol.index),
                            "spend": self.spend.stack().reindex(vol.index)})
        out.index.names = ["vendor_id", "lot_id"]
        return out.reset_index()

    def plot(self, ax=None):
        """Award as stacked bars of lot shares by vendor; returns the Axes."""
        from ..plots.allocation import plot_award

        ax = plot_award(self, ax=ax)
        ax.set_title(f"Risk-aware award by lot (CVaR{self.alpha:.0%} at weight {self.lam:g})")
        return ax

    def __str__(self) -> str:
        cur = self.currency
        lines = [f"Risk-aware award: {self.status} ({self.n_scenarios} scenarios, lambda {self.lam:g}, "
                 f"alpha {self.alpha:g}, {self.solve_time:.2f} s"
                 + (f", gap {self.gap:.2%}" if np.isfinite(self.gap) else "") + ")"]
        if self.diagnosis:
            lines.append(self.diagnosis)
        if not self.feasible:
            return "\n".join(lines)
        lines.append(f"  contract cost over the horizon: expected {cur} {self.expected:,.0f}, "
                     f"CVaR{self.alpha:.0%} {cur} {self.cvar:,.0f}")
        lines.append(f"  deterministic annual cost {cur} {self.cost['total']:,.0f} a year")
        lines += shares_text(self.shares.loc[self.vendors])
        return "\n".join(lines)


def _check_args(lam, alpha, time_limit, mip_gap):
    if isinstance(lam, bool) or not isinstance(lam, int | float) or not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be a number >= 0 (weight of CVaR), got {lam!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), e.g. 0.95, got {alpha!r}")
    if time_limit is not None and not time_limit > 0:
        raise ValueError("time_limit must be > 0 seconds")
    if mip_gap is not None and not 0 <= mip_gap < 1:
        raise ValueError("mip_gap must be in [0, 1)")


def _risk_award(inst, policy, rs, lam, alpha, lot_vendors, *, time_limit, mip_gap, currency, names):
    t0 = time.perf_counter()
    model = _build(inst, policy, rs, lam, alpha, lot_vendors)
    kind, values, obj, bound, gap, _ = _solve(model, time_limit=time_limit, mip_gap=mip_gap)
    V, L = inst.n_vendors, inst.n_lots
    idx = pd.Index(inst.vendor_ids, name="vendor_id")
    cols = pd.Index(inst.lot_ids, name="lot_id")
    if values is None:
        nan = pd.DataFrame(np.nan, index=idx, columns=cols)
        from .diagnose import diagnose

        text = diagnose(inst, policy) if kind == "infeasible" and not lot_vendors else (
            f"no risk-aware award found ({kind})")
        return RiskAward(nan, nan, nan, pd.Series(np.nan, index=["unit_cost", "setup", "onboarding",
                                                                   "switching", "total"]),
                         np.nan, np.nan, np.nan, np.full(rs.n, np.nan), np.nan, lam, alpha, kind, np.nan,
                         bound, np.nan, time.perf_counter() - t0, rs.n, currency, policy, names, text)
    nS = model.nS
    sx = values[:nS].copy()
    sz = np.round(values[nS:2 * nS])
    sx[sz < 0.5] = 0.0
    sx = np.clip(sx, inst.seg_lo * sz, inst.seg_hi)
    vol = np.zeros((V, L))
    spend = np.zeros((V, L))
    sv, sl = inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]
    np.add.at(vol, (sv, sl), sx)
    np.add.at(spend, (sv, sl), inst.seg_price * sx + inst.seg_intercept * (sz > 0.5))
    res = scenario_costs(inst, policy, rs, vol)
    xb = np.zeros(len(inst.bid_vendor))
    np.add.at(xb, inst.seg_bid, sx)
    awarded = xb > 1e-9
    engaged = np.zeros(V, bool)
    engaged[inst.bid_vendor[awarded]] = True
    k = inst.annualise
    setup = float(inst.bid_setup[awarded].sum()) * policy.setup_costs
    onboard = float(inst.onboarding[engaged].sum()) * policy.onboarding_costs
    switch = _one_off(inst, policy, xb, awarded, engaged) - setup - onboard
    unit = float(spend.sum())
    cost = pd.Series({"unit_cost": unit, "setup": k * setup, "onboarding": k * onboard,
                      "switching": k * switch, "total": unit + k * (setup + onboard + switch)})
    w = rs.weights
    c = res["total"]
    order = np.argsort(c, kind="stable")
    cum = np.cumsum(w[order])
    var = float(c[order][min(int(np.searchsorted(cum, alpha - 1e-12)), len(c) - 1)])
    vdf = pd.DataFrame(vol, index=idx, columns=cols)
    return RiskAward(vdf, vdf / inst.demand, pd.DataFrame(spend, index=idx, columns=cols), cost,
                     float(w @ c), cvar(c, alpha, w), var, c, res["one_off"], lam, alpha, kind, obj, bound,
                     gap, time.perf_counter() - t0, rs.n, currency, policy, names, weights=w)


def allocate_risk(
    tender=None,
    policy: Policy | None = None,
    scenarios: RiskScenarios | None = None,
    *,
    lam: float = 1.0,
    alpha: float = 0.95,
    quality=None,
    lots: pd.DataFrame | None = None,
    bids: pd.DataFrame | None = None,
    vendors: pd.DataFrame | None = None,
    tiers: pd.DataFrame | None = None,
    risk: pd.DataFrame | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = 1e-3,
) -> RiskAward:
    """The award minimising expected contract cost + ``lam`` x CVaR_``alpha`` over the scenarios.

    Parameters
    ----------
    tender : Tender, optional
        Lots, bids, tiers, vendors, risk (tables given by keyword replace the tender's).
    policy : Policy, optional
        Sourcing rules, all enforced (see the module notes; ``tie_break`` is not applied).
    scenarios : RiskScenarios
        E.g. ``sourcing.simulation.risk_scenarios(tender, n=500, seed=1)``; vendors and lots by id.
    lam : float
        Weight of CVaR (>= 0); 0 = least expected cost (risk neutral).
    alpha : float
        CVaR level in (0, 1): the mean of the worst ``1 - alpha`` of scenarios.
    quality : Series or Evaluation-like, optional
        As for :func:`~sourcing.allocation.allocate` (needed by ``quality_floor``).
    time_limit : float, optional
        Seconds for the solver; the award then reports its gap.
    mip_gap : float, optional
        Relative optimality gap (default 0.1 %).

    Returns
    -------
    RiskAward
        ``status == "infeasible"`` with a ``diagnosis`` when no award satisfies the policy.
    """
    _check_args(lam, alpha, time_limit, mip_gap)
    if not isinstance(scenarios, RiskScenarios):
        raise TypeError("scenarios must be a RiskScenarios (draw them with "
                        "sourcing.simulation.risk_scenarios(tender, n=..., seed=...))")
    policy = policy if policy is not None else Policy()
    inst = make_instance(tender, policy, lots=lots, bids=bids, vendors=vendors, tiers=tiers, risk=risk,
                         quality=quality)
    currency = inst.currency
    award = _risk_award(inst, policy, scenarios, float(lam), float(alpha), {}, time_limit=time_limit,
                        mip_gap=mip_gap, currency=currency, names=vendor_names(tender))
    award.lot_names = lot_names(tender)
    return award


# ---------------------------------------------------------------------- frontier and backup value
@dataclass
class RiskFrontier:
    """Expected contract cost against CVaR over a grid of lambda, with the award at each point."""

    points: pd.DataFrame
    awards: list[RiskAward]
    alpha: float
    currency: str = DEFAULT_CURRENCY

    def to_frame(self) -> pd.DataFrame:
        """One row per lambda: expected, cvar, var [tender currency], vendors per lot, status, gap."""
        return self.points.copy()

    @property
    def n_distinct(self) -> int:
        """Distinct awards along the frontier (solved points whose expected cost and CVaR differ by
        more than rounding to a thousand units of the tender currency)."""
        pts = self.points[self.points["status"].isin(["optimal", "feasible"])]
        return len(pts[["expected", "cvar"]].round(-3).drop_duplicates())

    def plot(self, ax=None):
        """Expected cost against CVaR, one labelled point per lambda; returns the Axes."""
        import matplotlib.pyplot as plt

        from ..plots._style import money_axis

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        pts = self.points[self.points["status"].isin(["optimal", "feasible"])]
        ax.plot(pts["cvar"], pts["expected"], "o-", color="tab:blue")
        # one label per distinct award point: "weight 0, 1, 4" where several weights agree
        for (cv, ex), grp in pts.groupby([pts["cvar"].round(0), pts["expected"].round(0)], sort=False):
            weights = ", ".join(f"{x:g}" for x in grp["lam"])
            ax.annotate(f"CVaR weight {weights}", (cv, ex), textcoords="offset points", xytext=(6, 6),
                        fontsize=8)
        level = f"{self.alpha:.0%}"
        ax.set_xlabel(f"CVaR{level} of {COST_LINES} ({self.currency})")
        ax.set_ylabel(f"Expected {COST_LINES}\n({self.currency})")
        ax.set_title(f"Risk frontier ({self.currency}, whole contract): expected against "
                     f"CVaR{level} of {COST_LINES}", fontsize="medium")
        money_axis(ax, "x", self.currency)
        money_axis(ax, "y", self.currency)
        ax.grid(alpha=0.3)
        return ax


def _prepare(tender, policy, scenarios, lam, alpha, quality, time_limit, mip_gap):
    _check_args(lam, alpha, time_limit, mip_gap)
    if not isinstance(scenarios, RiskScenarios):
        raise TypeError("scenarios must be a RiskScenarios (sourcing.simulation.risk_scenarios)")
    policy = policy if policy is not None else Policy()
    inst = make_instance(tender, policy, quality=quality)
    return policy, inst, inst.currency


def risk_frontier(tender, policy: Policy | None = None, scenarios: RiskScenarios | None = None, *,
                  lambdas=(0.0, 0.25, 0.5, 1.0, 2.0, 4.0), alpha: float = 0.95, quality=None,
                  time_limit: float | None = None, mip_gap: float | None = 1e-3) -> RiskFrontier:
    """Risk-aware awards over a grid of CVaR weights *lambdas* (see :func:`allocate_risk`)."""
    lams = [float(x) for x in lambdas]
    if not lams:
        raise ValueError("lambdas must hold at least one weight >= 0")
    for x in lams:
        _check_args(x, alpha, time_limit, mip_gap)
    policy, inst, currency = _prepare(tender, policy, scenarios, lams[0], alpha, quality, time_limit,
                                      mip_gap)
    awards, recs = [], []
    for lam in lams:
        a = _risk_award(inst, policy, scenarios, lam, float(alpha), {}, time_limit=time_limit,
                        mip_gap=mip_gap, currency=currency, names=vendor_names(tender))
        awards.append(a)
        vpl = a.vendors_per_lot() if a.feasible else pd.Series(dtype=float)
        recs.append({"lam": lam, "expected": a.expected, "cvar": a.cvar, "var": a.var,
                     "annual_cost": float(a.cost["total"]), "vendors": ", ".join(a.vendors),
                     "vendors_per_lot": ", ".join(f"{k}:{int(v)}" for k, v in vpl.items()),
                     "status": a.status, "gap": a.gap})
    return RiskFrontier(pd.DataFrame(recs), awards, float(alpha), currency)


def backup_value(tender, policy: Policy | None = None, scenarios: RiskScenarios | None = None, *,
                 lam: float = 1.0, alpha: float = 0.95, quality=None, time_limit: float | None = None,
                 mip_gap: float | None = 1e-3) -> pd.DataFrame:
    """Value of a backup vendor per lot: the lot single-sourced vs dual-sourced, the rest as optimal.

    For each lot two risk-aware awards are solved with the policy's other rules: the lot with
    exactly one vendor, and with at least two (every other lot as the policy says).

    Returns
    -------
    DataFrame
        Indexed by lot_id: ``single_expected``, ``dual_expected``, ``backup_cost`` (expected extra
        cost of dual sourcing = dual - single), ``single_cvar``, ``dual_cvar``, ``tail_saving``
        (single CVaR - dual CVaR), ``net_value`` (single - dual objective, expected + lam x CVaR;
        > 0: the backup pays), ``single_status``, ``dual_status``; money in the tender currency
        over the horizon.  NaN where that variant is infeasible under the policy.
    """
    policy, inst, currency = _prepare(tender, policy, scenarios, lam, alpha, quality, time_limit,
                                      mip_gap)
    recs = {}
    for j, lot in enumerate(inst.lot_ids):
        res = {}
        for key, bounds in (("single", (1, 1)), ("dual", (2, policy.max_vendors_per_lot
                                                           if (policy.max_vendors_per_lot or 0) >= 2
                                                           else None))):
            a = _risk_award(inst, policy, scenarios, float(lam), float(alpha), {j: bounds},
                            time_limit=time_limit, mip_gap=mip_gap, currency=currency, names=None)
            res[key] = a
        s, d = res["single"], res["dual"]
        recs[lot] = {
            "single_expected": s.expected, "dual_expected": d.expected,
            "backup_cost": d.expected - s.expected,
            "single_cvar": s.cvar, "dual_cvar": d.cvar, "tail_saving": s.cvar - d.cvar,
            "net_value": (s.expected + lam * s.cvar) - (d.expected + lam * d.cvar),
            "single_status": s.status, "dual_status": d.status,
        }
    out = pd.DataFrame.from_dict(recs, orient="index")
    out.index.name = "lot_id"
    out.attrs["currency"] = currency
    return out
