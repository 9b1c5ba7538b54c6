"""The award MILP: build it in bulk with PuLP, solve it honestly, read the award back.

Formulation (all money EUR; annual amounts EUR/year)
-----------------------------------------------------
Each bid ``b`` (vendor ``v``, lot ``l``) is split into price segments ``s`` (one per volume tier,
see :class:`~sourcing.allocation._data.Instance`).  Variables exist only for bids that exist:

* ``x[s] >= 0`` units/year bought on segment ``s``; ``z[s]`` binary, the segment is used;
  ``lo[s] z[s] <= x[s] <= hi[s] z[s]`` (disaggregated linking; ``hi`` is the tight big-M:
  min(tier end, bid capacity, max share x demand)); at most one segment per bid;
* ``u[v]`` binary, vendor engaged; ``sum_s z[s] <= u[v]`` per bid (disaggregated);
* ``m[l] >= demand[l] - x[incumbent, l]`` units moved away from the incumbent;
* ``T`` total annual unit-price spend (only with a concentration cap).

Annual cost = sum(intercept[s] z[s] + price[s] x[s])  (unit cost after volume discounts)
            + k * (setup_b z + onboarding_v u + switching_l m)   (one-off costs annualised)

with ``k = 1 / contract_years`` (``Policy.one_off="straight"``, default), the annuity factor
(``"annuity"``) or 0 (``"ignore"``).  Demand rows are ``==`` (``Policy.demand="exact"``) or ``>=``
(``"at_least"``).
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import pandas as pd
import pulp

from ._data import Instance, make_instance
from ._solvers import SOLVERS, SolveInfo, model_arrays, solve
from .policy import Policy

__all__ = ["Award", "Model", "allocate", "build_model"]

OBJECTIVES = ("cost", "quality")


@dataclass
class Row:
    """A policy rule row of the model."""

    rule: str
    scope: str
    constraint: pulp.LpConstraint
    scale: float = 1.0  # slack / scale is the violation the elastic model pays for: percent of
    # demand (demand), points (quality, risk), tenths of a vendor (counts), percent (money)


@dataclass
class Model:
    """A built model: the PuLP problem plus the handles needed to read an award back."""

    prob: pulp.LpProblem
    inst: Instance
    policy: Policy
    variables: list
    x: list
    z: list
    u: dict
    m: dict
    rows: list[Row]
    costs: dict[str, pulp.LpAffineExpression]
    quality: pulp.LpAffineExpression | None
    objective_kind: str | float
    elastic: dict = field(default_factory=dict)


def _groups(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """Indices of *keys* equal to 0..n-1, each in ascending order (vectorised group-by)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(n)]


def _group_lists(keys: np.ndarray, n: int) -> list[list[int]]:
    """As :func:`_groups`, as lists of Python ints (cheaper to index Python lists with)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1)).tolist()
    flat = order.tolist()
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _lin(pairs_vars, coefs, constant: float = 0.0) -> pulp.LpAffineExpression:
    """Affine expression from parallel sequences of variables and coefficients (one bulk call)."""
    return pulp.LpAffineExpression(zip(pairs_vars, np.asarray(coefs, float).tolist(), strict=True),
                                   constant=constant)


def _pairs(a: list, ca: list, b: list, cb: list):
    """``((a[i], ca[i]), (b[i], cb[i]))`` for each i: the terms of many two-term rows, made in C."""
    return zip(zip(a, ca, strict=True), zip(b, cb, strict=True), strict=True)


def _pick(variables: list, idx) -> list:
    """``[variables[i] for i in idx]`` for an index array or list, without a Python-level loop."""
    idx = idx.tolist() if isinstance(idx, np.ndarray) else idx
    return list(map(variables.__getitem__, idx))


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while building (restored on exit).

    A build allocates millions of small container objects (variables, expression dicts,
    constraints) and no reference cycles worth collecting; without the pause CPython runs
    ever-longer full collections over the growing model, which took ~40 % of the build time at
    (200 vendors, 1000 lots).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def build_model(inst: Instance, policy: Policy, *, objective: str | float = "cost",
                elastic: bool = False, cost_ref: float | None = None) -> Model:
    """Build the award MILP for *inst* under *policy*.

    Parameters
    ----------
    objective : "cost", "quality" or float in [0, 1]
        ``cost`` minimises annual cost; ``quality`` maximises the lot-average volume-weighted
        quality (0-100) subject to the rules (set a budget); a float ``w`` minimises
        ``(1 - w) cost / cost_ref - w quality / 100``.
    elastic : bool
        Add a non-negative slack to every policy row and minimise their weighted sum instead
        (used by the diagnosis of infeasible policies).

    Notes
    -----
    Built in bulk: variables and the per-segment rows are made by ``map`` over zipped arrays
    (``LpAffineExpression`` from (variable, coefficient) pairs, ``LpConstraint`` with its
    sense, name and right-hand side), and the rows are added in one ``LpProblem.extend`` call
    in a fixed order (names are unique by construction), with the garbage collector paused.
    """
    with _gc_paused():
        return _build(inst, policy, objective=objective, elastic=elastic, cost_ref=cost_ref)


def _build(inst: Instance, policy: Policy, *, objective, elastic, cost_ref) -> Model:
    prob = pulp.LpProblem("award", pulp.LpMaximize if objective == "quality" else pulp.LpMinimize)
    S, V, L = len(inst.seg_bid), inst.n_vendors, inst.n_lots
    seg_v = inst.bid_vendor[inst.seg_bid] if S else np.zeros(0, np.int64)
    seg_l = inst.bid_lot[inst.seg_bid] if S else np.zeros(0, np.int64)
    LAE, LE, GE = pulp.LpAffineExpression, pulp.LpConstraintLE, pulp.LpConstraintGE
    x = list(map(prob.add_variable, [f"x_{s}" for s in range(S)], repeat(0.0), inst.seg_hi.tolist()))
    z = list(map(prob.add_variable, [f"z_{s}" for s in range(S)], repeat(0), repeat(1),
                 repeat(pulp.LpBinary)))
    rows: list[Row] = []
    cons: list[pulp.LpConstraint] = []

    def add(expr, sense, rhs, name, rule=None, scope="", scale=1.0):
        c = pulp.LpConstraint(expr, sense, name, rhs)
        cons.append(c)
        names.append(c.name)  # as PuLP normalised it
        if rule is not None:
            rows.append(Row(rule, scope, c, scale))
        return c

    # segment linking (tight big-M per segment): rows hi_s (and lo_s where lo > 0), interleaved
    ones = [1.0] * S
    hi_names = [f"hi_{s}" for s in range(S)]
    hi = list(map(pulp.LpConstraint,
                  map(LAE, _pairs(x, ones, z, (-inst.seg_hi).tolist())),
                  repeat(LE), hi_names, repeat(None)))
    has_lo = np.flatnonzero(inst.seg_lo > 0)
    if len(has_lo) == S:
        lo_names = [f"lo_{s}" for s in range(S)]
        lo = list(map(pulp.LpConstraint,
                      map(LAE, _pairs(x, ones, z, (-inst.seg_lo).tolist())),
                      repeat(GE), lo_names, repeat(None)))
        cons += [c for pair in zip(hi, lo, strict=True) for c in pair]
        names = [n for pair in zip(hi_names, lo_names, strict=True) for n in pair]
    else:
        names = []
        lo_at = set(has_lo.tolist())
        for s, c in enumerate(hi):
            cons.append(c)
            names.append(hi_names[s])
            if s in lo_at:
                names.append(f"lo_{s}")
                cons.append(pulp.LpConstraint(LAE(((x[s], 1.0), (z[s], -float(inst.seg_lo[s])))), GE,
                                              names[-1]))
    vendors_used = sorted({int(v) for v in inst.bid_vendor})
    u = {v: prob.add_variable(f"u_{v}", 0, 1, cat=pulp.LpBinary) for v in vendors_used}
    # at most one segment per bid, and only from an engaged vendor
    u_of_bid = _pick([u.get(v) for v in range(V)], inst.bid_vendor)
    one_names = [f"one_{b}" for b in range(len(inst.bid_vendor))]
    cons += map(pulp.LpConstraint,
                (LAE([*zip(map(z.__getitem__, segs), repeat(1.0), strict=False), (ub, -1.0)])
                 for segs, ub in zip(_group_lists(inst.seg_bid, len(inst.bid_vendor)), u_of_bid,
                                     strict=True)),
                repeat(LE), one_names, repeat(None))
    names += one_names
    seg_by_lot = _groups(seg_l, L)
    seg_by_vendor = _groups(seg_v, V)
    d = inst.demand
    tol = policy.demand_tolerance_pct / 100.0

    # demand
    for j, segs in enumerate(seg_by_lot):
        e = _lin(_pick(x, segs), np.ones(len(segs)))
        lot = inst.lot_ids[j]
        if policy.demand == "exact" and tol == 0:
            add(e, pulp.LpConstraintEQ, d[j], f"demand_{j}", "demand", lot, d[j] / 100)
        else:
            add(e, pulp.LpConstraintGE, d[j] * (1 - tol), f"demand_{j}", "demand", lot, d[j] / 100)
            if policy.demand == "exact":
                add(_lin(_pick(x, segs), np.ones(len(segs))), pulp.LpConstraintLE,
                    d[j] * (1 + tol), f"demand_max_{j}", "demand", lot, d[j] / 100)
    # vendors per lot
    for j, segs in enumerate(seg_by_lot):
        lot = inst.lot_ids[j]
        if policy.min_vendors_per_lot is not None:
            add(_lin(_pick(z, segs), np.ones(len(segs))), pulp.LpConstraintGE,
                float(policy.min_vendors_per_lot), f"min_vendors_{j}", "min_vendors_per_lot", lot, 0.1)
        if policy.max_vendors_per_lot is not None:
            add(_lin(_pick(z, segs), np.ones(len(segs))), pulp.LpConstraintLE,
                float(policy.max_vendors_per_lot), f"max_vendors_{j}", "max_vendors_per_lot", lot, 0.1)
        if policy.quality_floor is not None and len(segs):
            coef = (inst.quality[seg_v[segs]] - policy.quality_floor)
            add(_lin(_pick(x, segs), coef), pulp.LpConstraintGE, 0.0, f"quality_{j}",
                "quality_floor", lot, d[j])
        if policy.risk_cap is not None and len(segs):
            coef = (inst.risk_score[seg_v[segs]] - policy.risk_cap)
            add(_lin(_pick(x, segs), coef), pulp.LpConstraintLE, 0.0, f"risk_{j}", "risk_cap",
                lot, d[j])
    if policy.max_vendors_total is not None:
        add(_lin(list(u.values()), np.ones(len(u))), pulp.LpConstraintLE,
            float(policy.max_vendors_total), "max_vendors_total", "max_vendors_total", "all", 0.1)
    for v in vendors_used:
        segs = seg_by_vendor[v]
        vid = inst.vendor_ids[v]
        if policy.max_lots_per_vendor is not None:
            add(_lin(_pick(z, segs), np.ones(len(segs))), pulp.LpConstraintLE,
                float(policy.max_lots_per_vendor), f"max_lots_{v}", "max_lots_per_vendor", vid, 0.1)
        if vid in policy.include:
            add(_lin(_pick(z, segs), np.ones(len(segs))), pulp.LpConstraintGE, 1.0,
                f"include_{v}", "include", vid, 0.1)
    for vid in policy.include:
        if inst.vendor_ids.index(vid) not in u:  # no usable bid at all: infeasible row 0 >= 1
            add(pulp.LpAffineExpression(), pulp.LpConstraintGE, 1.0, f"include_nobid_{vid}",
                "include", vid)

    # costs
    unit = _lin(x + z, np.concatenate([inst.seg_price, inst.seg_intercept]))
    setup_coef = inst.bid_setup[inst.seg_bid] if S else np.zeros(0)
    setup = _lin(z, setup_coef) if policy.setup_costs else pulp.LpAffineExpression()
    onboard = (_lin([u[v] for v in vendors_used], inst.onboarding[vendors_used])
               if policy.onboarding_costs else pulp.LpAffineExpression())
    m: dict[int, pulp.LpVariable] = {}
    switch_const = 0.0
    sw_vars, sw_coef = [], []
    if policy.switching_costs:
        for j in range(L):
            inc, rate = int(inst.lot_incumbent[j]), float(inst.switching[j])
            if inc < 0 or rate <= 0:
                continue
            segs = seg_by_lot[j][seg_v[seg_by_lot[j]] == inc]
            if len(segs) == 0:
                switch_const += rate * d[j]
                continue
            m[j] = prob.add_variable(f"moved_{j}", 0.0, float(d[j]))
            add(_lin([m[j]] + _pick(x, segs), [1.0] + [1.0] * len(segs)), pulp.LpConstraintGE,
                float(d[j]), f"moved_{j}")
            sw_vars.append(m[j])
            sw_coef.append(rate)
    switching = _lin(sw_vars, sw_coef, constant=switch_const)
    k = inst.annualise
    total = _lin(x + z + list(u.values()) + sw_vars,
                 np.concatenate([inst.seg_price, inst.seg_intercept + k * setup_coef * policy.setup_costs,
                                 k * inst.onboarding[vendors_used] * policy.onboarding_costs,
                                 k * np.asarray(sw_coef, float)]),
                 constant=k * switch_const)
    costs = {"unit_cost": unit, "setup": setup, "onboarding": onboard, "switching": switching,
             "total": total}
    variables = x + z + [u[v] for v in vendors_used] + [m[j] for j in sorted(m)]
    if policy.max_spend_share_pct is not None:
        tvar = prob.add_variable("spend_total", 0.0, None)
        variables.append(tvar)
        add(_lin(x + z + [tvar], np.concatenate([inst.seg_price, inst.seg_intercept, [-1.0]])),
            pulp.LpConstraintEQ, 0.0, "spend_total")
        c = policy.max_spend_share_pct / 100.0
        for v in vendors_used:
            segs = seg_by_vendor[v]
            add(_lin(_pick(x, segs) + _pick(z, segs) + [tvar],
                     np.concatenate([inst.seg_price[segs], inst.seg_intercept[segs], [-c]])),
                pulp.LpConstraintLE, 0.0, f"concentration_{v}", "max_spend_share_pct",
                inst.vendor_ids[v], (cost_ref or 1.0) / 100)
    if policy.budget is not None:
        add(total.copy(), pulp.LpConstraintLE, float(policy.budget), "budget", "budget", "all",
            float(policy.budget) / 100)
    qexpr = None
    if inst.has_quality and S:
        qcoef = np.nan_to_num(inst.quality[seg_v]) / (d[seg_l] * L)
        qexpr = _lin(x, qcoef)

    slack: dict[str, object] = {}
    if elastic:
        svars, sw = [], []
        for r, row in enumerate(rows):
            c = row.constraint
            senses = [1.0, -1.0] if c.sense == pulp.LpConstraintEQ else (
                [1.0] if c.sense == pulp.LpConstraintGE else [-1.0])
            for sgn in senses:
                sv = prob.add_variable(f"slack_{r}_{'p' if sgn > 0 else 'n'}", 0.0, None)
                c.expr.addterm(sv, sgn)
                svars.append(sv)
                sw.append(1.0 / max(row.scale, 1e-9))
                slack[sv.name] = (r, sgn)
        variables += svars
        # minimise normalised violation first, cost a distant second
        ref = cost_ref or max(float(np.sum(d * np.max(inst.seg_price, initial=1.0))), 1.0)
        prob.setObjective(_lin(svars, sw) + total * (1e-6 / ref))
    elif objective == "cost":
        prob.setObjective(total)
    elif objective == "quality":
        if qexpr is None:
            raise ValueError("objective='quality' needs quality scores (quality=)")
        prob.setObjective(qexpr)
    else:
        w = float(objective)
        ref = cost_ref or 1.0
        if qexpr is None:
            raise ValueError("a blended objective needs quality scores (quality=)")
        prob.setObjective(total * ((1 - w) / ref) + qexpr * (-w / 100.0))
    # one bulk insert, in the order built; extend skips addConstraint's per-row name check, so
    # check here that the names are unique
    named = dict(zip(names, cons, strict=True))
    if len(named) != len(cons):
        raise RuntimeError("duplicate constraint names in the award model")
    prob.extend(named)
    return Model(prob, inst, policy, variables, x, z, u, m, rows, costs, qexpr, objective, slack)


# ---------------------------------------------------------------------- award
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
        vendor_id x lot_id, EUR/year at the bid's prices after volume discounts.
    cost : Series
        ``unit_cost`` (EUR/year), ``setup``, ``onboarding``, ``switching`` (one-off costs
        annualised as in the policy, EUR/year) and ``total`` (EUR/year).
    one_off : Series
        The same one-off costs undiscounted, EUR (setup, onboarding, switching).
    status : str
        ``optimal`` (proven within the gap), ``feasible`` (time limit with an incumbent),
        ``heuristic`` (solver found nothing; greedy award), ``infeasible`` (confirmed by a second
        opinion; see ``diagnosis``), ``no solution``, ``error``.
    objective, bound, gap : float
        Incumbent objective, best proven bound, relative gap (NaN when unknown).  The objective
        is total cost in EUR/year for ``objective="cost"``, lot-average quality points for
        ``"quality"``, and the dimensionless blend for a weight.
    solve_time : float
        Seconds, build + solve.
    solver : str
    binding : DataFrame
        Rules that bind: rule, scope, value, limit, slack, shadow_price.
    shadow_prices : Series
        Duals of the rule rows from the LP with the binaries fixed (EUR/year per unit of the
        row's right-hand side), indexed ``rule:scope``.
    quality : float
        Lot-average volume-weighted quality (0-100), NaN without quality scores.
    diagnosis : str or None
        Plain-words explanation when the policy is infeasible.
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
    currency: str = "EUR"
    units: dict | None = None
    policy: Policy | None = None
    names: dict | None = None

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
        lines.append("  shares of demand (%):")
        sh = (self.shares.loc[self.vendors] * 100).round(1)
        table = sh.to_string(float_format=lambda v: f"{v:.1f}" if v else "-")
        lines += ["    " + t for t in table.splitlines()]
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
                       info: SolveInfo, currency: str = "EUR", shadow: pd.Series | None = None,
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


def start_vector(model: Model, seg_x: np.ndarray, seg_z: np.ndarray) -> np.ndarray:
    """A full MIP start (one value per model variable) from segment values."""
    inst = model.inst
    val = {}
    for s, (xv, zv) in enumerate(zip(seg_x, seg_z, strict=True)):
        val[model.x[s].hash] = xv
        val[model.z[s].hash] = zv
    eng = np.zeros(inst.n_vendors)
    np.maximum.at(eng, inst.bid_vendor[inst.seg_bid], seg_z)
    for v, var in model.u.items():
        val[var.hash] = eng[v]
    vol = np.zeros((inst.n_vendors, inst.n_lots))
    np.add.at(vol, (inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]), seg_x)
    for j, var in model.m.items():
        val[var.hash] = max(inst.demand[j] - vol[inst.lot_incumbent[j], j], 0.0)
    out = np.array([val.get(v.hash, 0.0) for v in model.variables])
    for i, v in enumerate(model.variables):
        if v.name == "spend_total":
            out[i] = float(np.sum(inst.seg_price * seg_x + inst.seg_intercept * seg_z))
    return out


# ---------------------------------------------------------------------- public entry point
def _solve_model(model: Model, *, solver: str, time_limit, mip_gap, start, arrays=None) -> SolveInfo:
    info = solve(model.prob, model.variables, solver=solver, time_limit=time_limit, mip_gap=mip_gap,
                 start=start, arrays=arrays)
    return info


#: Models with more price segments than this get the LP-support neighbourhood search first.
NEIGHBOURHOOD_MIN_SEGMENTS = 300


def lp_neighbourhood(model: Model, start: np.ndarray | None, *, solver: str, time_limit, mip_gap,
                     arrays=None):
    """Improve a MIP start by solving the MILP restricted to the bids the LP relaxation uses.

    Bids with volume in the LP relaxation, plus the bids of *start*, stay free; every other bid's
    segment binaries are fixed to 0.  The restricted MILP is small and usually solves to
    near-optimality quickly; its award is a feasible start for the full model (a relaxation-
    induced neighbourhood, as in RINS).  Returns ``(start vector or None, SolveInfo of the
    restricted MILP or None, SolveInfo of the LP relaxation or None, mask of free bids)``.
    *arrays* is ``model_arrays`` of the model when already converted (used by the HiGHS solves).
    """
    from .heuristic import greedy

    inst = model.inst
    lp = solve(model.prob, model.variables, solver="highs", relax=True,
               time_limit=None if time_limit is None else 0.6 * time_limit, arrays=arrays)
    if lp.status != "optimal":
        return start, None, None, None
    x_lp = np.array([v.varValue or 0.0 for v in model.x])
    # LP rounding: refill every lot in the order of the bids' LP volumes; keep the cheaper start
    bid_lp = np.zeros(len(inst.bid_vendor))
    np.add.at(bid_lp, inst.seg_bid, x_lp)
    rounded = greedy(inst, model.policy, priority=bid_lp)
    if rounded is not None:
        cand = start_vector(model, *rounded)
        if start is None or _better(model, _objective_at(model, cand), _objective_at(model, start)):
            start = cand
    keep = np.zeros(len(inst.bid_vendor), bool)
    used = x_lp > 1e-6 * inst.demand[inst.bid_lot[inst.seg_bid]]
    if start is not None:
        zpos = {v.hash: i for i, v in enumerate(model.variables)}
        used |= np.array([start[zpos[z.hash]] > 0.5 for z in model.z])
    keep[inst.seg_bid[used]] = True
    index = {v.hash: i for i, v in enumerate(model.variables)}
    fix = {index[z.hash]: 0.0 for s, z in enumerate(model.z) if not keep[inst.seg_bid[s]]}
    fix.update({index[x.hash]: 0.0 for s, x in enumerate(model.x) if not keep[inst.seg_bid[s]]})
    limit = None if time_limit is None else max(time_limit - lp.time, 0.5)
    sub = solve(model.prob, model.variables, solver=solver, time_limit=limit, mip_gap=mip_gap,
                start=start, fix=fix, arrays=arrays)
    if not sub.has_solution:
        return start, None, lp, keep
    return np.array([v.varValue or 0.0 for v in model.variables]), sub, lp, keep


def block_improve(model: Model, start: np.ndarray, keep_bid: np.ndarray, *, solver: str, time_limit,
                  mip_gap=None, n_blocks: int = 8, arrays=None) -> tuple[np.ndarray, SolveInfo | None]:
    """Fix-and-optimise: re-solve the lots block by block, the rest of the award fixed.

    Lots are split into *n_blocks* blocks.  For each block, every segment outside it is fixed at
    its value in the current award and, inside it, only bids in *keep_bid* (e.g. the LP support)
    or in the current award stay free; vendor, switching and spend variables stay free, so every
    cross-lot rule still holds.  Each block MILP starts from the current award and replaces it
    when cheaper.  Returns ``(best start vector, SolveInfo of the last improving block or None)``.
    *arrays* is ``model_arrays`` of the model when already converted (HiGHS only).
    """
    t_end = None if time_limit is None else time.perf_counter() + time_limit
    inst = model.inst
    index = {v.hash: i for i, v in enumerate(model.variables)}
    xi = np.array([index[v.hash] for v in model.x], dtype=np.int64)
    zi = np.array([index[v.hash] for v in model.z], dtype=np.int64)
    seg_lot = inst.bid_lot[inst.seg_bid]
    if arrays is None and solver == "highs":
        arrays = model_arrays(model.prob, model.variables)
    cur = np.asarray(start, float).copy()
    cur_obj = _objective_at(model, cur)
    best_info = None
    blocks = np.array_split(np.arange(inst.n_lots), max(1, min(n_blocks, inst.n_lots)))
    for k, block in enumerate(blocks):
        left = None if t_end is None else t_end - time.perf_counter()
        if left is not None and left < 1.0:
            break
        used = np.zeros(len(inst.bid_vendor), bool)
        used[inst.seg_bid[cur[zi] > 0.5]] = True
        inside = np.isin(seg_lot, block)
        closed = inside & ~(keep_bid | used)[inst.seg_bid]
        fix = dict(zip(xi[~inside].tolist(), cur[xi[~inside]].tolist(), strict=True))
        fix.update(zip(zi[~inside].tolist(), np.round(cur[zi[~inside]]).tolist(), strict=True))
        fix.update(dict.fromkeys(xi[closed].tolist(), 0.0))
        fix.update(dict.fromkeys(zi[closed].tolist(), 0.0))
        info = solve(model.prob, model.variables, solver=solver, mip_gap=mip_gap, start=cur, fix=fix,
                     time_limit=None if left is None else left / (len(blocks) - k), arrays=arrays)
        if info.has_solution and _better(model, info.objective, cur_obj):
            cur = np.array([v.varValue or 0.0 for v in model.variables])
            cur_obj = info.objective
            best_info = info
    return cur, best_info


def _objective_at(model: Model, values: np.ndarray) -> float:
    """Objective of *model* at a full variable vector."""
    obj = model.prob.objective
    pos = {v.hash: i for i, v in enumerate(model.variables)}
    return float(obj.constant) + sum(c * values[pos[v.hash]] for v, c in obj.items())


def _better(model: Model, a: float, b: float) -> bool:
    """Whether objective value *a* is strictly better than *b* in the model's sense."""
    tol = 1e-9 * max(abs(b), 1.0)
    return a > b + tol if model.prob.sense == pulp.LpMaximize else a < b - tol


def solve_pipeline(model: Model, *, solver: str, time_limit, mip_gap, t0: float | None = None):
    """Greedy start; for large models the LP-support neighbourhood and fix-and-optimise blocks;
    then the full MILP from the best start.

    Returns ``(SolveInfo of the full solve, greedy segment values or None, seconds left)``.  With a
    time limit, the neighbourhood (LP, LP rounding, restricted MILP) gets 45 % of it, the
    fix-and-optimise blocks 60 % of the rest, the full MILP what remains.
    """
    from .heuristic import greedy

    t0 = time.perf_counter() if t0 is None else t0
    # HiGHS overruns its limit a little and reading back a large solution takes time: aim at 92 %
    target = None if time_limit is None else 0.92 * time_limit

    def left():
        return None if target is None else max(target - (time.perf_counter() - t0), 0.5)

    inst = model.inst
    # HiGHS gets the model as arrays; convert once, as the steps below leave rows and objective alone
    # (they fix bounds or drop integrality per solve, which the HiGHS call applies to copies)
    big = len(inst.seg_bid) > NEIGHBOURHOOD_MIN_SEGMENTS  # the neighbourhood's LP runs on HiGHS
    arrays = model_arrays(model.prob, model.variables) if solver == "highs" or big else None
    heur = greedy(inst, model.policy)
    start = start_vector(model, *heur) if heur is not None else None
    lp = None
    if big:
        budget = None if time_limit is None else 0.45 * left()
        start, _, lp, keep = lp_neighbourhood(model, start, solver=solver, time_limit=budget,
                                              mip_gap=mip_gap, arrays=arrays)
        if keep is not None and start is not None and inst.n_lots > 1:
            budget = None if time_limit is None else 0.6 * left()
            start, _ = block_improve(model, start, keep, solver=solver, time_limit=budget,
                                     mip_gap=mip_gap, arrays=arrays)
    info = _solve_model(model, solver=solver, time_limit=left(), mip_gap=mip_gap, start=start,
                        arrays=arrays)
    if info.status == "error" and solver == "highs":
        info = _solve_model(model, solver="cbc", time_limit=left(), mip_gap=mip_gap, start=start)
    if not info.has_solution and info.status != "infeasible" and start is not None:
        # every start we build is feasible: a time-out without an incumbent falls back to it
        for v, val in zip(model.variables, start, strict=True):
            v.varValue = float(val)
        info = SolveInfo("feasible", _objective_at(model, start), info.bound, float("nan"), info.time,
                         info.solver)
    if lp is not None and info.has_solution and info.status != "optimal":
        # the LP relaxation's optimum is a valid bound too: keep the tighter of the two
        tighter = (max if model.prob.sense == pulp.LpMinimize else min)(
            lp.objective, info.bound if np.isfinite(info.bound) else lp.objective)
        gap = abs(info.objective - tighter) / max(abs(info.objective), 1e-9)
        info = SolveInfo(info.status, info.objective, tighter, gap, info.time, info.solver)
    return info, heur, left()


def _values(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Segment values, cleaned of solver noise: volume only on used segments, and volumes below
    1e-7 of the lot's demand (with no least volume) set to zero."""
    inst = model.inst
    sx = np.array([v.varValue or 0.0 for v in model.x])
    sz = np.round(np.array([v.varValue or 0.0 for v in model.z]))
    tiny = sx < 1e-7 * inst.demand[inst.bid_lot[inst.seg_bid]]
    sx[(sz < 0.5) | (tiny & (inst.seg_lo <= 0))] = 0.0
    sz[sx <= 0] = 0.0
    return np.clip(sx, inst.seg_lo * sz, inst.seg_hi), sz


def _shadow_prices(model: Model, solver: str) -> pd.Series:
    """Duals of rule rows from the LP with every binary fixed at its award value."""
    fix = {i: round(v.varValue or 0.0) for i, v in enumerate(model.variables) if v.cat == pulp.LpInteger}
    info = solve(model.prob, model.variables, solver="highs" if solver == "highs" else solver,
                 relax=True, fix=fix)
    if info.status != "optimal":
        return pd.Series(dtype=float, name="shadow_price")
    out = {}
    for row in model.rows:
        key = f"{row.rule}:{row.scope}"
        pi = row.constraint.pi
        if pi is not None and abs(pi) > 1e-9:
            out[key] = out.get(key, 0.0) + float(pi)
    return pd.Series(out, dtype=float, name="shadow_price")


def cost_reference(inst: Instance) -> float:
    """A cost scale (EUR/year) for blended objectives: demand x cheapest base price per lot."""
    sl = inst.bid_lot[inst.seg_bid]
    cheapest = np.full(inst.n_lots, np.nan)
    for j in range(inst.n_lots):
        p = inst.seg_price[sl == j]
        cheapest[j] = p.min() if len(p) else np.nan
    return float(np.nansum(cheapest * inst.demand)) or 1.0


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
        ``cost`` minimises total annual cost (EUR/year); ``quality`` maximises lot-average
        volume-weighted quality subject to the rules (use ``Policy.budget``); a float ``w``
        minimises ``(1 - w) cost / C - w quality / 100`` with C = demand x cheapest base price.
    solver : {"highs", "cbc"}
        HiGHS (highspy) by default; if it ends with an error, CBC is tried.
    time_limit : float, optional
        Seconds per solve; the award then reports the incumbent, bound and gap.
    mip_gap : float, optional
        Relative optimality gap at which to stop (0 for a proof of optimality).

    Returns
    -------
    Award
        Never raises for an infeasible policy: ``status == "infeasible"`` (confirmed by a second
        opinion: an infeasible LP relaxation, or the other solver) and ``diagnosis`` explains in
        words which rules conflict.

    Notes
    -----
    Solve steps: a greedy award (:mod:`~sourcing.allocation.heuristic`) is the MIP start; models
    with more than 300 price segments then get an LP-support neighbourhood search (the MILP
    restricted to the bids the LP relaxation uses, plus an LP rounding) and fix-and-optimise by
    blocks of lots; the full MILP runs last from the best start.  HiGHS runs single-threaded
    with a fixed seed, so the same inputs give the same award when the solve finishes
    (optimal or within ``mip_gap``); an award cut short by
    ``time_limit`` depends on machine speed.  Among equally cheap awards the tie-break
    (``Policy.tie_break``) picks one by vendor order.  One-off costs are annualised as
    ``Policy.one_off`` says (default: divided by the contract years).
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; valid choices: {', '.join(SOLVERS)}")
    if isinstance(objective, str):
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}; valid choices: cost, quality, or a "
                             "blend weight in [0, 1]")
    elif isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 <= objective <= 1:
        raise ValueError("objective must be 'cost', 'quality' or a blend weight in [0, 1]")
    if time_limit is not None and not time_limit > 0:
        raise ValueError("time_limit must be > 0 seconds")
    if mip_gap is not None and not 0 <= mip_gap < 1:
        raise ValueError("mip_gap must be in [0, 1)")
    t0 = time.perf_counter()
    policy = policy if policy is not None else Policy()
    inst = make_instance(tender, policy, lots=lots, bids=bids, vendors=vendors, tiers=tiers, risk=risk,
                         quality=quality, need_quality=objective != "cost")
    currency = tender.currency if tender is not None else "EUR"
    ref = cost_reference(inst)
    model = build_model(inst, policy, objective=objective, cost_ref=ref)
    info, heur, remaining = solve_pipeline(model, solver=solver, time_limit=time_limit, mip_gap=mip_gap,
                                           t0=t0)
    if info.status in ("infeasible", "no solution", "error") and heur is not None:
        # the greedy award is feasible: the solver's word is not the last one
        sx, sz = heur
        info = SolveInfo("heuristic", np.nan, info.bound, np.nan, info.time, info.solver)
        award = award_from_volumes(inst, policy, sx, sz, info=info, currency=currency)
        award.objective = float(award.cost["total"])
        award.solve_time = time.perf_counter() - t0
        award.names = _names(tender, vendors)
        return award
    if info.status == "infeasible":
        other = "cbc" if info.solver == "highs" else "highs"
        lp = solve(model.prob, model.variables, solver="highs", relax=True)
        second = lp if lp.status == "infeasible" else solve(
            model.prob, model.variables, solver=other, time_limit=max(remaining or 30.0, 5.0))
        if second.status not in ("infeasible",):
            info = SolveInfo("no solution" if not second.has_solution else second.status,
                             second.objective, second.bound, second.gap, info.time + second.time,
                             f"{info.solver}+{second.solver}")
            if second.has_solution:
                sx, sz = _values(model)
                award = award_from_volumes(inst, policy, sx, sz, info=info, currency=currency)
                award.solve_time = time.perf_counter() - t0
                award.names = _names(tender, vendors)
                return award
    if not info.has_solution and info.status != "infeasible" and not model.variables:
        # every bid was pruned before the solve (exclusions, share caps): with demand > 0 there is
        # nothing to award, whatever the solver said of an empty model
        info = SolveInfo("infeasible", np.nan, np.nan, np.nan, info.time, info.solver)
    if not info.has_solution:
        from .diagnose import diagnose

        text = diagnose(inst, policy) if info.status == "infeasible" else (
            f"no award found ({info.status}); raise time_limit or relax the policy")
        zeros = np.zeros(len(inst.seg_bid))
        award = award_from_volumes(inst, policy, zeros, zeros, info=info, currency=currency,
                                   diagnosis=text)
        # no award, no cost: zero volumes would otherwise "cost" the switching away from incumbents
        award.cost = award.cost * np.nan
        award.one_off = award.one_off * np.nan
        award.solve_time = time.perf_counter() - t0
        award.names = _names(tender, vendors)
        return award
    sx, sz = _values(model)
    if policy.tie_break and info.status == "optimal" and objective == "cost":
        sx, sz = _tie_break(model, info, solver, sx, sz, time_limit=remaining)
    shadow = _shadow_prices(model, solver)
    award = award_from_volumes(inst, policy, sx, sz, info=info, currency=currency, shadow=shadow)
    award.solve_time = time.perf_counter() - t0
    award.names = _names(tender, vendors)
    return award


def _names(tender, vendors) -> dict | None:
    table = vendors if vendors is not None else (tender.vendors if tender is not None else None)
    if table is None:
        return None
    if table.index.name != "vendor_id" and "vendor_id" in table.columns:
        table = table.set_index("vendor_id")
    return {str(k): str(v) for k, v in table["name"].items()} if "name" in table.columns else None


def _tie_break(model: Model, info: SolveInfo, solver: str, sx, sz, *, time_limit):
    """Second lexicographic objective.

    Among awards whose cost is within 1e-7 (relative) of the proven optimum, put volume with
    vendors earlier in vendor order: minimise sum over bids of rank(vendor) x share of lot demand,
    rank = position in ``vendor_ids`` / number of vendors.  Solved on a fresh copy of the model so
    the original (used for shadow prices) is untouched; if the second solve fails, the first
    award stands.
    """
    inst = model.inst
    tb = build_model(inst, model.policy, objective="cost")
    bound = info.objective + 1e-7 * max(abs(info.objective), 1.0)
    tb.prob.addConstraint(pulp.LpConstraint(tb.costs["total"].copy(), pulp.LpConstraintLE,
                                            "tie_break_primary", bound))
    rank = inst.bid_vendor[inst.seg_bid].astype(float) / max(inst.n_vendors, 1)
    tb.prob.setObjective(_lin(tb.x, rank / inst.demand[inst.bid_lot[inst.seg_bid]]))
    second = solve(tb.prob, tb.variables, solver=solver, time_limit=time_limit, mip_gap=1e-9,
                   start=start_vector(tb, sx, sz))
    if not second.has_solution:
        return sx, sz
    x2, z2 = _values(tb)
    fixed = dict(zip((v.hash for v in model.x + model.z), np.concatenate([x2, z2]), strict=True))
    for v in model.x + model.z:
        v.varValue = float(fixed[v.hash])
    eng = np.zeros(inst.n_vendors)
    np.maximum.at(eng, inst.bid_vendor[inst.seg_bid], z2)
    for vi, var in model.u.items():
        var.varValue = float(eng[vi])
    return x2, z2
