"""Risk-aware award: least expected contract cost + lambda x CVaR over sampled risk scenarios.

Two-stage stochastic MILP in the sample-average form (SAA): the first stage is the award (the
model of :func:`~sourcing.allocation.model.build_model` itself: its columns, its structural rows and
the rows of every policy rule of :mod:`~sourcing.allocation.rules`, with the scenario blocks of
this module stacked on it, solved by the same :mod:`~sourcing.allocation._solvers`); the second stage,
per scenario, re-routes the volume of each awarded vendor that fails (the supplier-allocation form
of Sawik 2011).  The tail is CVaR_alpha linearised as in Rockafellar & Uryasev (2000):

    minimise  sum_s p_s Q_s  +  lambda (eta + 1 / (1 - alpha) sum_s p_s xi_s)
    s.t.      xi_s >= Q_s - eta,  xi_s >= 0

Contract cost ``Q_s`` of scenario ``s`` (tender currency, undiscounted, whole horizon of T years)
---------------------------------------------------------------------------------------------
* **fees**: every awarded bid's annual cost (unit price after volume discounts) x demand growth
  of its lot x price indexation, summed over the years: ``sum_t G[s,l,t] E[s,t]``;
* **one-off costs** (setup, onboarding, switching; :mod:`sourcing.cost_lines`), as the deterministic
  model charges them, ``k T`` times (``k`` the policy's annualisation: once for ``"straight"``);
* **vendor failure** (awarded vendor ``v`` fails in year ``y <= T``): the fixed failure cost of
  ``v`` (exit + replacement onboarding) in year ``y``, and the **recourse**: from year ``y + 1`` its
  volume on each lot moves

  - *warm* to the lot's other awarded vendors that hold at least ``Policy.backup_share`` of it
    (a token award is no backup), each up to its spare capacity (bid capacity minus its awarded
    volume), at its list price (the bid's base unit price) plus a switching cost of
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

import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import present as fmt
from ..cost_lines import counted
from ._data import DEFAULT_CURRENCY, Instance, make_instance
from ._solvers import solve_arrays
from .arrays import EQ, GE, LE, ArrayModel, block, summed
from .award import award_from_volumes, lot_names, segments_from_volumes, shares_text, vendor_names
from .model import build_model, cost_reference
from .policy import Policy

__all__ = ["RiskAward", "RiskFrontier", "RiskScenarios", "allocate_risk", "backup_value", "cvar",
           "recourse_fill", "risk_frontier", "scenario_costs"]

#: What the risk-aware award's expected cost and CVaR count, named wherever they appear (the
#: simulation of the same award adds governance, service credits, business impact and security).
COST_LINES = counted("risk_award")


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
    """Base unit price of each bid (its highest segment price: tiers only lower it); a bid made
    only of package pieces at the package's dearest price per unit."""
    p = np.zeros(len(inst.bid_vendor))
    own = inst.lot_segment
    np.maximum.at(p, inst.seg_bid[own], inst.seg_price[own])
    piece = ~own
    per_unit = inst.seg_price[piece] + inst.seg_intercept[piece] / np.maximum(inst.seg_hi[piece], 1e-12)
    alone = np.zeros(len(p))
    np.maximum.at(alone, inst.seg_bid[piece], per_unit)
    return np.where(p > 0, p, alone)


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


def recourse_fill(units: float, gy: np.ndarray, after: np.ndarray, warm_price: np.ndarray,
                  warm_spare: np.ndarray, own_price: float, switch_per_unit: float, *,
                  warm_switch_share: float, failure_premium: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The recourse rule: where a failed vendor's units on one lot go (the model and the contract
    model's ``vendor_failure`` both route failures with it).

    Options are the lot's other awarded vendors (*warm*, each up to its spare capacity, at its list
    price plus ``warm_switch_share`` x the switching cost per unit) and a replacement (*cold*,
    unlimited, at the failed vendor's list price x ``1 + failure_premium`` plus the full switching
    cost); the units are filled cheapest first per unit over the remaining years.

    Parameters
    ----------
    units : float
        The failed vendor's units on the lot [units/yr, year 1].
    gy, after : ndarray (hits,)
        Per failure: the lot's demand multiplier in the failure year, and the sum over the years
        after it of demand growth x fee index (the unit-years re-priced).
    warm_price, warm_spare : ndarray (K,)
        List price [tender currency/unit/yr] and spare capacity [units/yr] of each warm option.
    own_price, switch_per_unit : float
        The failed vendor's list price [tender currency/unit/yr]; the lot's switching cost
        [tender currency/unit].

    Returns
    -------
    fill : ndarray (hits, K + 1)
        Units moved to each option (the cold replacement last).
    rate_yr, rate_sw : ndarray (K + 1,)
        Per unit: the fee per year after the failure, and the switching cost in the failure year.
    """
    rate_yr = np.append(np.asarray(warm_price, float), (1.0 + failure_premium) * own_price)
    rate_sw = np.append(np.full(len(warm_price), warm_switch_share * switch_per_unit), switch_per_unit)
    gy = np.asarray(gy, np.float64)
    after = np.asarray(after, np.float64)
    R = gy[:, None] * rate_sw[None, :] + after[:, None] * rate_yr[None, :]   # (hits, K + 1)
    order = np.argsort(R, axis=1, kind="stable")
    caps = np.append(np.asarray(warm_spare, float), np.inf)[order]
    before = np.concatenate([np.zeros((len(gy), 1)), np.cumsum(caps, axis=1)[:, :-1]], axis=1)
    fill = np.empty_like(R)
    np.put_along_axis(fill, order, np.clip(units - before, 0.0, caps), axis=1)
    return fill, rate_yr, rate_sw


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
    # a warm backup holds at least the policy's backup share of the lot
    backup = awarded & (xb >= policy.backup_share * inst.demand[inst.bid_lot] * (1 - 1e-9))
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
        warm = np.flatnonzero(backup & (inst.bid_lot == lot) & (inst.bid_vendor != v))
        fill, rate_yr, rate_sw = recourse_fill(
            xb[b], gy, after, plist[warm], np.maximum(cap[warm] - xb[warm], 0.0), plist[b], sw[lot],
            warm_switch_share=rs.warm_switch_share, failure_premium=rs.failure_premium)
        failure[hit] += gy * (fill @ rate_sw) + after * (fill @ rate_yr) - cb[b] * after
    # the one-off costs as the award charges them, k T times over the horizon (once, "straight")
    made = award_from_volumes(inst, policy, sx, sz, check=False)
    one = float(made.one_off.sum()) * inst.annualise * inst.years
    return {"total": fees + failure + one, "fees": fees, "failure": failure, "one_off": float(one)}


# ---------------------------------------------------------------------- the model
def _build(inst: Instance, policy: Policy, rs: RiskScenarios, lam: float, alpha: float,
           lot_vendors: dict[int, tuple[int | None, int | None]]) -> ArrayModel:
    """The award model of :func:`~sourcing.allocation.model.build_model` (its columns, its
    structural rows and every policy rule's rows) with the scenario blocks stacked on it: the
    second-stage recourse columns and rows, the CVaR rows, and the expected contract cost (plus
    ``lam`` x CVaR) as objective."""
    base = build_model(inst, policy, cost_ref=cost_reference(inst), lot_vendors=lot_vendors)
    nS = len(inst.seg_bid)
    d = inst.demand
    T = rs.years
    kT = inst.annualise * T
    fy, g, fc = rs._aligned(inst)
    W, tail, G = _fee_multipliers(rs, g)
    S = rs.n
    p = rs.weights
    seg_l = inst.bid_lot[inst.seg_bid]
    X, Z = 0, nS
    u_cols = np.arange(*base.groups["u"])
    u_vendors = base.col_keys["u"]
    # ----- columns stacked after the award's: eta (1), xi (S with a CVaR weight), q (Q), c (E)
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
    # a warm option must hold at least the policy's backup share of the lot: bids whose least
    # awarded volume is below it get a binary "ready" column (x_b >= share x demand x ready_b)
    m = policy.backup_share
    seg_lot_d = d[inst.bid_lot[inst.seg_bid]]
    least = np.full(len(inst.bid_vendor), np.inf)
    np.minimum.at(least, inst.seg_bid, inst.seg_lo - m * seg_lot_d * (1 - 1e-9))
    token = np.zeros(len(inst.bid_vendor), bool)
    token[np.unique(q_other)] = True
    token &= least < 0
    ready_bids = np.flatnonzero(token)
    ETA = base.n_cols
    XI = ETA + 1
    QC = XI + n_xi
    CC = QC + Q
    RD = CC + E
    n = RD + len(ready_bids)
    lb = np.concatenate([base.lb, np.zeros(n - ETA)])
    ub = np.concatenate([base.ub, np.full(n - ETA, np.inf)])
    lb[ETA] = -np.inf if use_cvar else 0.0
    ub[ETA] = np.inf if use_cvar else 0.0
    integer = np.concatenate([base.integer, np.zeros(n - ETA, bool)])
    ub[RD:] = 1.0
    integer[RD:] = True
    ready_col = np.full(len(inst.bid_vendor), -1, np.int64)
    ready_col[ready_bids] = RD + np.arange(len(ready_bids))
    blocks = list(base.blocks)
    seg_start = inst.seg_start
    cap = inst.bid_capacity
    seg_of = e_seg = np.zeros(0, np.int64)
    if E:
        # balance of each failure event: sum_w q + c - x_bv = 0
        nseg_b = np.diff(seg_start)[ev.b]
        e_seg = np.repeat(np.arange(E), nseg_b)
        seg_of = np.concatenate([np.arange(seg_start[b], seg_start[b + 1]) for b in ev.b])
        blocks.append(block("recourse", "event", np.arange(E), np.concatenate([q_event, np.arange(E), e_seg]),
                            np.concatenate([QC + np.arange(Q), CC + np.arange(E), X + seg_of]),
                            np.concatenate([np.ones(Q), np.ones(E), -np.ones(len(seg_of))]), EQ, 0.0,
                            names=("recourse",), structural=True))
        if Q:
            # warm only to a vendor awarded the lot (q <= min(capacity, demand) z), holding at
            # least the backup share where its bid allows less (q <= big ready)
            big = np.minimum(cap[q_other], d[inst.bid_lot[q_other]])
            nseg_o = np.where(token[q_other], 1, np.diff(seg_start)[q_other])
            q_seg = np.repeat(np.arange(Q), nseg_o)
            oseg = np.concatenate([[ready_col[b]] if token[b] else
                                   Z + np.arange(seg_start[b], seg_start[b + 1]) for b in q_other])
            blocks.append(block("warm", "pair", np.arange(Q), np.concatenate([np.arange(Q), q_seg]),
                                np.concatenate([QC + np.arange(Q), oseg]),
                                np.concatenate([np.ones(Q), -big[q_seg]]), LE, 0.0, names=("warm",),
                                structural=True))
            if len(ready_bids):
                nseg_r = np.diff(seg_start)[ready_bids]
                rr = np.repeat(np.arange(len(ready_bids)), nseg_r)
                rs_ = np.concatenate([np.arange(seg_start[b], seg_start[b + 1]) for b in ready_bids])
                need = m * d[inst.bid_lot[ready_bids]]
                local = np.arange(len(ready_bids))
                blocks.append(block("ready", "bid", ready_bids, np.concatenate([rr, local]),
                                    np.concatenate([X + rs_, RD + local]),
                                    np.concatenate([np.ones(len(rs_)), -need]), GE, 0.0, names=("ready",),
                                    structural=True))
            # ... up to its spare capacity: q + x_w <= capacity
            qi = np.flatnonzero(np.isfinite(cap[q_other]))
            if len(qi):
                local = np.arange(len(qi))
                rr = np.repeat(local, nseg_o[qi])
                oo = np.concatenate([np.arange(seg_start[b], seg_start[b + 1]) for b in q_other[qi]])
                blocks.append(block("spare", "pair", qi, np.concatenate([local, rr]),
                                    np.concatenate([QC + qi, X + oo]), np.ones(len(qi) + len(oo)), LE,
                                    cap[q_other[qi]], names=("spare",), structural=True))
    # ----- scenario cost Q_s as coefficients: dense first-stage part + sparse recourse part
    lot_w = W[:, seg_l]                                           # (S, nS)
    qs_x = lot_w * inst.seg_price + kT * base.costs["switching"][0][:nS]   # fees, switching
    qs_z = lot_w * inst.seg_intercept + kT * inst.bid_setup[inst.seg_bid] * policy.setup_costs
    qs_u = ((fy <= T) * fc + kT * inst.onboarding * policy.onboarding_costs)[:, u_vendors]
    const = 0.0
    lot_e = inst.bid_lot[ev.b]
    sw_e = inst.switching[lot_e]
    plist = _bid_list_price(inst)
    rate_c = sw_e * ev.g_y + (1 + rs.failure_premium) * plist[ev.b] * ev.after
    rate_q = (rs.warm_switch_share * sw_e[q_event] * ev.g_y[q_event] + plist[q_other] * ev.after[q_event])
    # the failed bid's fees stop after the failure: - (price x + intercept z) x after
    e_seg_s = ev.s[e_seg]
    stop_x = -inst.seg_price[seg_of] * ev.after[e_seg]
    stop_z = -inst.seg_intercept[seg_of] * ev.after[e_seg]
    cost = np.zeros(n)
    cost[X:X + nS] = p @ qs_x
    cost[Z:Z + nS] = p @ qs_z
    cost[u_cols] = p @ qs_u
    np.add.at(cost, X + seg_of, p[e_seg_s] * stop_x)
    np.add.at(cost, Z + seg_of, p[e_seg_s] * stop_z)
    cost[QC:QC + Q] = p[ev.s[q_event]] * rate_q
    cost[CC:CC + E] = p[ev.s] * rate_c
    if use_cvar:
        # xi_s + eta - Q_s >= const (Rockafellar & Uryasev)
        cost[ETA] = lam
        cost[XI:XI + S] = lam * p / (1 - alpha)
        sS = np.arange(S)
        dense_cols = np.concatenate([X + np.arange(nS), Z + np.arange(nS), u_cols])
        dense = np.concatenate([qs_x, qs_z, qs_u], axis=1)
        # a scenario's row meets a failed segment twice (its fees, and their stop): summed
        r, c_, v = summed(np.concatenate([sS, sS, np.repeat(sS, dense.shape[1]), e_seg_s, e_seg_s,
                                          ev.s[q_event], ev.s]),
                          np.concatenate([XI + sS, np.full(S, ETA), np.tile(dense_cols, S), X + seg_of,
                                          Z + seg_of, QC + np.arange(Q), CC + np.arange(E)]),
                          np.concatenate([np.ones(S), np.ones(S), -dense.ravel(), -stop_x, -stop_z,
                                          -rate_q, -rate_c]))
        blocks.append(block("cvar", "scenario", sS, r, c_, v, GE, const, names=("cvar",), structural=True))
    groups = {**base.groups, "eta": (ETA, XI), "xi": (XI, QC), "q": (QC, CC), "c": (CC, RD),
              "ready": (RD, n)}
    col_keys = {**base.col_keys, "eta": np.zeros(1, np.int64), "xi": np.arange(n_xi), "q": np.arange(Q),
                "c": np.arange(E), "ready": ready_bids}
    costs = {k: (np.concatenate([v, np.zeros(n - ETA)]), c0) for k, (v, c0) in base.costs.items()}
    return ArrayModel(inst, policy, "risk", lb, ub, integer, groups, col_keys, blocks, cost, const, False,
                      costs, None)


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
        money = {k: fmt.money(getattr(self, k), cur, exact=True) for k in ("expected", "cvar")}
        lines.append(f"  {COST_LINES} over the horizon: expected {money['expected']}, "
                     f"CVaR{self.alpha:.0%} {money['cvar']}")
        lines.append(f"  deterministic annual cost {fmt.money(self.cost['total'], cur, exact=True)} a year")
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
    info = solve_arrays(model, solver="highs", time_limit=time_limit, mip_gap=mip_gap)
    kind, obj, bound, gap = info.status, info.objective, info.bound, info.gap
    values = model.values if info.has_solution else None
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
    nS = len(inst.seg_bid)
    sx = values[:nS].copy()
    sz = np.round(values[nS:2 * nS])
    sx[sz < 0.5] = 0.0
    sx = np.clip(sx, inst.seg_lo * sz, inst.seg_hi)
    det = award_from_volumes(inst, policy, sx, sz, info=info, currency=currency, check=False)
    vol = det.volumes.to_numpy(float)
    res = scenario_costs(inst, policy, rs, vol)
    w = rs.weights
    c = res["total"]
    order = np.argsort(c, kind="stable")
    cum = np.cumsum(w[order])
    var = float(c[order][min(int(np.searchsorted(cum, alpha - 1e-12)), len(c) - 1)])
    return RiskAward(det.volumes, det.shares, det.spend, det.cost,
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


#: Most risk-aware awards solved at once (HiGHS releases the GIL; each solve is single-threaded
#: with a fixed seed, so the awards do not depend on how many run side by side).
MAX_SIDE_BY_SIDE = 4


def _side_by_side(solves: list) -> list:
    """The results of the zero-argument *solves*, in order, run in up to one thread per core."""
    workers = min(len(solves), os.cpu_count() or 1, MAX_SIDE_BY_SIDE)
    if workers <= 1:
        return [f() for f in solves]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda f: f(), solves))


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
    awards = _side_by_side([lambda lam=lam: _risk_award(
        inst, policy, scenarios, lam, float(alpha), {}, time_limit=time_limit, mip_gap=mip_gap,
        currency=currency, names=vendor_names(tender)) for lam in lams])
    recs = []
    for lam, a in zip(lams, awards, strict=True):
        vpl = a.vendors_per_lot() if a.feasible else pd.Series(dtype=float)
        recs.append({"lam": lam, "expected": a.expected, "cvar": a.cvar, "var": a.var,
                     "annual_cost": float(a.cost["total"]), "vendors": ", ".join(a.vendors),
                     "vendors_per_lot": ", ".join(f"{k}:{int(v)}" for k, v in vpl.items()),
                     "status": a.status, "gap": a.gap})
    return RiskFrontier(pd.DataFrame(recs), awards, float(alpha), currency)


def backup_value(tender, policy: Policy | None = None, scenarios: RiskScenarios | None = None, *,
                 lam: float = 1.0, alpha: float = 0.95, quality=None, time_limit: float | None = None,
                 mip_gap: float | None = 1e-3, award: RiskAward | None = None) -> pd.DataFrame:
    """Value of a backup vendor per lot: the lot single-sourced vs dual-sourced, the rest as optimal.

    For each lot two risk-aware awards are compared, with the policy's other rules: the lot with
    exactly one vendor, and with at least two that each hold at least ``Policy.backup_share`` of
    it (a real backup, not a token award; every other lot as the policy says).  One of the
    two is the risk-aware award under the policy itself (*award*, solved here when not given):
    an optimum that meets the tighter rule is optimal under it (within the MIP gap), so each lot
    costs one more solve, not two.

    Parameters
    ----------
    award : RiskAward, optional
        The risk-aware award of *policy* at *lam* and *alpha* on these scenarios, if solved.

    Returns
    -------
    DataFrame
        Indexed by lot_id: ``backup_share`` (fraction of the lot the smallest vendor of the
        dual-sourced award holds: what the backup takes), ``single_expected``, ``dual_expected``,
        ``backup_cost`` (expected extra
        cost of dual sourcing = dual - single), ``single_cvar``, ``dual_cvar``, ``tail_saving``
        (single CVaR - dual CVaR), ``net_value`` (single - dual objective, expected + lam x CVaR;
        > 0: the backup pays), ``single_status``, ``dual_status``; money in the tender currency
        over the horizon.  NaN where that variant is infeasible under the policy.
    """
    policy, inst, currency = _prepare(tender, policy, scenarios, lam, alpha, quality, time_limit,
                                      mip_gap)
    if award is None or not award.feasible:
        award = _risk_award(inst, policy, scenarios, float(lam), float(alpha), {}, time_limit=time_limit,
                            mip_gap=mip_gap, currency=currency, names=None)
    m = policy.backup_share
    shares = award.shares.reindex(columns=inst.lot_ids).fillna(0.0) if award.feasible else None
    vendors = (shares > 1e-9).sum(axis=0) if shares is not None else pd.Series(0, index=inst.lot_ids)
    real = (shares >= m * (1 - 1e-9)).sum(axis=0) if shares is not None else vendors
    most = policy.max_vendors_per_lot if (policy.max_vendors_per_lot or 0) >= 2 else None
    # per lot, the variants the policy's own award does not already meet (solved side by side);
    # dual sourcing is two vendors that each hold at least the backup share (a token second
    # vendor is no backup: the lot's least volumes are raised to that share)
    variants = {"single": ((1, 1), vendors == 1), "dual": ((2, most), real >= 2)}
    todo = [(j, lot, key, bounds) for j, lot in enumerate(inst.lot_ids)
            for key, (bounds, met) in variants.items() if not met[lot]]
    seg_lot = inst.bid_lot[inst.seg_bid]

    def on(j: int, key: str) -> Instance:
        if key == "single":
            return inst
        lo = np.where(seg_lot == j, np.maximum(inst.seg_lo, m * inst.demand[j]), inst.seg_lo)
        return dataclasses.replace(inst, seg_lo=lo)

    solved = _side_by_side([lambda j=j, b=b, k=k: _risk_award(
        on(j, k), policy, scenarios, float(lam), float(alpha), {j: b}, time_limit=time_limit, mip_gap=mip_gap,
        currency=currency, names=None) for j, _, k, b in todo])
    res = {(lot, key): a for (_, lot, key, _), a in zip(todo, solved, strict=True)}
    recs = {}
    for lot in inst.lot_ids:
        s, d = res.get((lot, "single"), award), res.get((lot, "dual"), award)
        held = d.shares[lot][d.volumes[lot] > 1e-9] if d.feasible else pd.Series(dtype=float)
        recs[lot] = {
            "backup_share": float(held.min()) if len(held) > 1 else np.nan,
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
