"""Benchmark of the award MILP on synthetic tenders (not a timed test).

For (vendors, lots) = (10, 20), (50, 200), (200, 1000): each lot is bid by half the vendors, with
all-unit volume tiers, setup and onboarding costs, at most 3 winners per lot, a 70 % share cap on
the largest quarter of lots, a quality floor and a spend-concentration cap.  Prints, per size:

* build: instance prep (``make_instance``) + the model compiled to arrays (``build_model``) + the
  solver arrays (CSR rows for HiGHS), against today's PuLP build of the same model (the bulk
  ``LpAffineExpression`` builder that ``allocation/model.py`` used before the arrays, kept below
  as :func:`pulp_build`) + its conversion to HiGHS arrays (``model_arrays``), measured in the same
  process; and the on-demand PuLP view (``ArrayModel.to_pulp``) for reference;
* solve (unless ``--build-only``): what ``allocate`` runs (greedy start, LP-support
  neighbourhood, fix-and-optimise, full MILP; HiGHS on the arrays) with its time limit: status,
  incumbent, bound, gap; for a model above ``HUGE_SEGMENTS`` (no full MILP; the bound is the
  Lagrangian bound by lots) also the LP relaxation's bound and the gap it would give;
* ``--rule-costs``: ``constraint_costs`` on the size's 4 rules, warm-started from the base award
  (as shipped) against from-scratch re-solves, each solve limited to ``--rule-limit`` seconds:
  total time and the gap of each re-solve.

``--anytime`` instead measures the award within a time limit on two events: the (200, 1000)
tender with a 5 % spend cap and a 10 % minimum share, and the (300, 6000) event of
:func:`event` (20 scoped rules): build time and peak memory, time to the first feasible award,
and status, bound and gap at each of ``--limits`` (default 30 and 120 s).

Timings depend on the machine and its load (printed with ``os.getloadavg``); the ratios are the
figures to read.

Usage: ``PYTHONPATH=src python benchmarks/bench_allocation.py [--sizes 10x20,50x200]
[--build-only] [--repeat 3] [--rule-costs] [--rule-limit 20]``, or ``... --anytime
[--limits 30,120] [--events 0,1]``
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import attrgetter, methodcaller

import numpy as np
import pandas as pd
import pulp

from sourcing.allocation import Policy, allocate
from sourcing.allocation._data import Instance, make_instance
from sourcing.allocation._solvers import solve_arrays
from sourcing.allocation.model import build_model, cost_reference
from sourcing.allocation.scoped import ScopedRule
from sourcing.allocation.search import HUGE_SEGMENTS, solve_pipeline


# ---------------------------------------------------------------------- the PuLP path of before
def _columns(keys, var_hash: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Column of each variable in *keys* (-1 for a variable not in the model), vectorised by hash."""
    h = np.fromiter(map(_HASH, keys), np.int64)
    if not len(var_hash):  # a model without variables (every bid pruned): nothing is found
        return np.full(len(h), -1)
    pos = np.searchsorted(var_hash, h)
    pos[pos >= len(var_hash)] = 0
    found = var_hash[pos] == h if len(var_hash) else np.zeros(len(h), bool)
    return np.where(found, order[pos], -1)


_HASH = attrgetter("hash")


def model_arrays(prob: pulp.LpProblem, variables: list):
    """Column and row arrays of *prob* (CSR rows), in the order of *variables*.

    Vectorised over all terms of all rows (one pass over the expressions' keys and values in C,
    columns found by a sorted search of the variables' hashes), as the model has millions of
    terms at (200 vendors, 1000 lots).
    """
    n = len(variables)
    hashes = np.fromiter(map(_HASH, variables), np.int64, n)
    order = np.argsort(hashes, kind="stable")
    var_hash = hashes[order]
    lb = np.array(list(map(attrgetter("lowBound"), variables)), float).reshape(n)
    ub = np.array(list(map(attrgetter("upBound"), variables)), float).reshape(n)
    lb[np.isnan(lb)] = -np.inf
    ub[np.isnan(ub)] = np.inf
    integer = np.fromiter((c == pulp.LpInteger for c in map(attrgetter("cat"), variables)), bool, n)
    cost = np.zeros(n)
    obj = prob.objective
    if obj is not None and len(obj):
        # PuLP may put its fixed-at-zero dummy variable into empty expressions: skip unknowns
        col = _columns(obj.keys(), var_hash, order)
        val = np.fromiter(obj.values(), float, len(obj))
        cost[col[col >= 0]] = val[col >= 0]
    sign = -1.0 if prob.sense == pulp.LpMaximize else 1.0
    cons = prob.constraints()
    m = len(cons)
    # through the constraints' own keys()/values(), as the old per-row loop's items() did
    lens = np.fromiter(map(len, cons), np.int64, m)
    col = _columns(chain.from_iterable(map(methodcaller("keys"), cons)), var_hash, order)
    val = np.fromiter(chain.from_iterable(map(methodcaller("values"), cons)), float, int(lens.sum()))
    keep = col >= 0
    row = np.repeat(np.arange(m), lens)[keep]
    starts = np.searchsorted(row, np.arange(m + 1)).astype(np.int32)
    rhs = -np.fromiter(map(attrgetter("constant"), cons), float, m)
    sense = np.fromiter(map(attrgetter("sense"), cons), np.int64, m)
    lo = np.where((sense == pulp.LpConstraintGE) | (sense == pulp.LpConstraintEQ), rhs, -np.inf)
    hi = np.where((sense == pulp.LpConstraintLE) | (sense == pulp.LpConstraintEQ), rhs, np.inf)
    const = float(obj.constant) if obj is not None else 0.0
    return (lb, ub, integer, cost * sign, sign, const, cons, starts,
            col[keep].astype(np.int32), val[keep], lo, hi)


TIME_LIMIT = {10: None, 50: 60.0, 200: 120.0}


def synthetic(n_vendors: int, n_lots: int, seed: int = 0):
    """A seeded synthetic tender as plain tables (lots, bids, tiers, risk, vendors, quality)."""
    rng = np.random.default_rng(seed)
    vids = [f"V{i:03d}" for i in range(n_vendors)]
    lids = [f"L{j:04d}" for j in range(n_lots)]
    demand = np.round(rng.lognormal(7, 1, n_lots)) + 10
    inc = np.where(rng.random(n_lots) < 0.3, rng.integers(0, n_vendors, n_lots), -1)
    lots = pd.DataFrame({"lot_id": lids, "unit": "units", "annual_demand": demand,
                         "incumbent_vendor_id": [vids[i] if i >= 0 else None for i in inc],
                         "switching_cost_per_unit": np.where(inc >= 0, rng.uniform(1, 10, n_lots), 0.0)
                         }).set_index("lot_id")
    rows, tiers = [], []
    base = rng.uniform(50, 150, n_lots)
    for j in range(n_lots):
        bidders = rng.choice(n_vendors, n_vendors // 2, replace=False)
        if inc[j] >= 0 and inc[j] not in bidders:
            bidders[0] = inc[j]
        for v in np.sort(bidders):
            p = base[j] * rng.uniform(0.8, 1.25)
            rows.append((vids[v], lids[j], p, demand[j] * rng.uniform(0.3, 1.0), 0.0, "all-unit",
                         0.02 * p * demand[j]))
            tiers.append((vids[v], lids[j], 0.3 * demand[j], p * 0.97))
            tiers.append((vids[v], lids[j], 0.6 * demand[j], p * 0.94))
    bids = pd.DataFrame(rows, columns=["vendor_id", "lot_id", "unit_price", "capacity", "min_volume",
                                       "discount_type", "setup_cost"])
    tiers = pd.DataFrame(tiers, columns=["vendor_id", "lot_id", "from_volume", "unit_price"])
    risk = pd.DataFrame({"vendor_id": vids, "risk_score": rng.uniform(10, 80, n_vendors),
                         "onboarding_cost": rng.uniform(5e4, 3e5, n_vendors)}).set_index("vendor_id")
    vendors = pd.DataFrame({"vendor_id": vids, "incumbent": [i in set(inc) for i in range(n_vendors)]}
                           ).set_index("vendor_id")
    quality = pd.Series(rng.uniform(40, 95, n_vendors), index=vids)
    large = lots["annual_demand"] >= lots["annual_demand"].quantile(0.75)
    policy = Policy(max_vendors_per_lot=3, max_share_pct_by_lot={lot: 70.0 for lot in lots.index[large]},
                    quality_floor=55.0, max_spend_share_pct=max(100.0 / n_vendors * 3, 10.0))
    return lots, bids, tiers, risk, vendors, quality, policy


TOWERS = ("service_desk", "end_user", "network", "data_centre", "cloud", "security", "applications",
          "testing")
COUNTRIES = ("DE", "FR", "PL", "UK", "IN", "US")


def event(n_vendors: int = 300, n_lots: int = 6000, *, bids_per_lot: int = 25, n_bundles: int = 100,
          seed: int = 0):
    """A seeded event-scale tender as plain tables (lots, bids, tiers, risk, vendors, quality,
    bundles) and its policy, generated with numpy (no Python loop per bid).

    Each lot (of one of :data:`TOWERS`) is bid by *bids_per_lot* vendors drawn without
    replacement (the lot's incumbent among them), each bid with two all-unit tiers (3 % off from
    30 % of demand, 6 % off from 60 %), a capacity of 30-100 % of demand and a setup cost.
    *n_bundles* package bids (all or nothing; a third of them proportional) each cover 2-5 lots
    the vendor bids for, 30-60 % of each lot's demand, at 88-97 % of the lots' cheapest base price.
    Vendors carry ``country``, ``offshore_share_pct``, ``iso27001`` and ``incumbent``.  The policy:
    at most 3 vendors per lot, a 5 % spend cap, a 10 % minimum share, a quality floor of 55 and
    the 20 scoped rules of :func:`event_rules`.  Demand in units/year, prices in tender currency
    per unit per year, setup and onboarding in tender currency (one-off).
    """
    rng = np.random.default_rng(seed)
    V, L, k = n_vendors, n_lots, min(bids_per_lot, n_vendors)
    vids = np.array([f"V{i:03d}" for i in range(V)], dtype=object)
    lids = np.array([f"L{j:05d}" for j in range(L)], dtype=object)
    demand = np.round(rng.lognormal(7, 1, L)) + 10
    tower = np.asarray(TOWERS, dtype=object)[rng.integers(0, len(TOWERS), L)]
    inc = np.where(rng.random(L) < 0.3, rng.integers(0, V, L), -1)
    lots = pd.DataFrame({"lot_id": lids, "tower": tower, "unit": "units", "annual_demand": demand,
                         "incumbent_vendor_id": np.where(inc >= 0, vids[np.maximum(inc, 0)], None),
                         "switching_cost_per_unit": np.where(inc >= 0, rng.uniform(1, 10, L), 0.0)}
                        ).set_index("lot_id")
    # k distinct bidders per lot: the k smallest of V random keys, the incumbent's key forced lowest
    keys = rng.random((L, V))
    keys[np.flatnonzero(inc >= 0), inc[inc >= 0]] = -1.0
    bidders = np.sort(np.argpartition(keys, k - 1, axis=1)[:, :k], axis=1)
    bv = bidders.ravel()
    bl = np.repeat(np.arange(L), k)
    price = rng.uniform(50, 150, L)[bl] * rng.uniform(0.8, 1.25, L * k)
    d = demand[bl]
    bids = pd.DataFrame({"vendor_id": vids[bv], "lot_id": lids[bl], "unit_price": price,
                         "capacity": d * rng.uniform(0.3, 1.0, L * k), "min_volume": 0.0,
                         "discount_type": "all-unit", "setup_cost": 0.02 * price * d})
    tiers = pd.DataFrame({"vendor_id": np.repeat(vids[bv], 2), "lot_id": np.repeat(lids[bl], 2),
                          "from_volume": (d[:, None] * [0.3, 0.6]).ravel(),
                          "unit_price": (price[:, None] * [0.97, 0.94]).ravel()})
    rows = []
    cheapest = np.full(L, np.inf)
    np.minimum.at(cheapest, bl, price)
    for n, b in enumerate(rng.choice(L * k, n_bundles, replace=False).tolist()):
        own = np.flatnonzero(bv == bv[b])
        pick = rng.choice(own, int(rng.integers(2, 6)), replace=False)
        share = rng.uniform(30, 60, len(pick))
        fees = float(np.sum(cheapest[bl[pick]] * d[pick] * share / 100)) * rng.uniform(0.88, 0.97)
        split = "proportional" if n % 3 == 2 else "all_or_nothing"
        rows += [(f"P{n:03d}", vids[bv[b]], lids[bl[i]], sh, fees if m == 0 else np.nan, split)
                 for m, (i, sh) in enumerate(zip(pick.tolist(), share.tolist(), strict=True))]
    bundles = pd.DataFrame(rows, columns=["bundle_id", "vendor_id", "lot_id", "share_pct", "price", "split"])
    risk = pd.DataFrame({"vendor_id": vids, "risk_score": rng.uniform(10, 80, V),
                         "onboarding_cost": rng.uniform(5e4, 3e5, V)}).set_index("vendor_id")
    vendors = pd.DataFrame({"vendor_id": vids, "country": np.asarray(COUNTRIES, dtype=object)[
                                rng.integers(0, len(COUNTRIES), V)],
                            "offshore_share_pct": np.round(rng.uniform(0, 90, V)),
                            "iso27001": rng.random(V) < 0.6,
                            "incumbent": np.isin(np.arange(V), inc)}).set_index("vendor_id")
    quality = pd.Series(rng.uniform(40, 95, V), index=vids)
    policy = Policy(max_vendors_per_lot=3, quality_floor=55.0, max_spend_share_pct=5.0, min_share_pct=10.0,
                    rules=event_rules())
    return lots, bids, tiers, risk, vendors, quality, bundles, policy


def event_rules() -> tuple[ScopedRule, ...]:
    """The event's 20 scoped rules, on lots by tower and vendors by attribute."""
    offshore = {"offshore_share_pct": {">=": 50}}
    onshore = {"offshore_share_pct": {"<": 50}}
    R = ScopedRule
    return (
        R(lots={"tower": ["security"]}, vendors={"iso27001": True}, measure="only"),
        R(lots={"tower": ["cloud"]}, vendors={"iso27001": True}, measure="only"),
        R(lots={"tower": ["data_centre"]}, vendors={"country": ["DE", "FR", "PL", "UK"]}, measure="only"),
        R(lots={"tower": ["service_desk"]}, vendors=offshore, measure="demand_share", bound="at_most",
          value=60, per="lot"),
        R(lots={"tower": ["end_user"]}, vendors=offshore, measure="demand_share", bound="at_most",
          value=70, per="lot"),
        R(lots={"tower": ["network"]}, vendors=onshore, measure="vendors", bound="at_least", value=1,
          per="lot"),
        R(lots={"tower": ["applications"]}, vendors=onshore, measure="vendors", bound="at_least", value=1,
          per="lot"),
        R(lots={"tower": ["applications"]}, vendors={"incumbent": True}, measure="demand_share",
          bound="at_least", value=20),
        R(lots={"tower": ["testing"]}, vendors=onshore, measure="demand_share", bound="at_least", value=40),
        R(lots={"tower": ["network"]}, vendors=offshore, measure="demand_share", bound="at_most", value=50),
        R(measure="spend_share", bound="at_most", value=30, per="country"),
        R(lots={"tower": ["applications"]}, vendors=offshore, measure="spend_share", bound="at_most",
          value=60),
        R(lots={"tower": ["service_desk"]}, measure="lots", bound="at_most", value=40),
        R(lots={"tower": ["testing"]}, measure="lots", bound="at_most", value=40),
        R(vendors=offshore, measure="vendors", bound="at_most", value=120),
        R(vendors={"country": "IN"}, measure="spend_share", bound="at_most", value=25),
        R(lots={"tower": ["security"]}, vendors={"country": ["DE", "FR"]}, measure="demand_share",
          bound="at_least", value=25),
        R(lots={"tower": ["cloud"]}, vendors=offshore, measure="demand_share", bound="at_most", value=40),
        R(lots={"tower": ["end_user"]}, vendors=onshore, measure="vendors", bound="at_least", value=1,
          per="lot"),
        R(lots={"tower": ["data_centre"]}, measure="lots", bound="at_most", value=30),
    )


# ---------------------------------------------------------------------- today's PuLP build (baseline)
# The bulk PuLP builder of allocation/model.py before the model was compiled to arrays (commit
# e395773), kept verbatim as the baseline the array build is measured against.

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


def pulp_build(inst: Instance, policy: Policy, *, objective: str | float = "cost",
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



# ---------------------------------------------------------------------- measurements
def _best(fn, repeat_: int):
    best, out = np.inf, None
    for _ in range(repeat_):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _load() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def run(n_vendors: int, n_lots: int, *, build_only: bool = False, repeat_: int = 1, rule_costs: bool = False,
        rule_limit: float = 20.0) -> None:
    lots, bids, tiers, risk, vendors, quality, policy = synthetic(n_vendors, n_lots)
    tables = dict(lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors, quality=quality)
    t_inst, inst = _best(lambda: make_instance(None, policy, **tables), repeat_)
    ref = cost_reference(inst)
    t_build, model = _best(lambda: build_model(inst, policy, cost_ref=ref), repeat_)

    def csr():
        model._csr = None
        return model.csr()

    t_csr, _ = _best(csr, repeat_)
    t_old, old = _best(lambda: pulp_build(inst, policy, cost_ref=ref), repeat_)
    t_old_arrays, _ = _best(lambda: model_arrays(old.prob, old.variables), repeat_)
    n_old_rows = len(old.prob.constraints())
    old = None  # free the PuLP objects before the solve
    t_view, _ = _best(model.to_pulp, 1)
    S = len(inst.seg_bid)
    ours = t_inst + t_build + t_csr
    today = t_inst + t_old + t_old_arrays
    best = f" (best of {repeat_})" if repeat_ > 1 else ""
    print(f"\n(vendors, lots) = ({n_vendors}, {n_lots}): {len(inst.bid_vendor)} bids, {S} segments, "
          f"{model.n_cols} columns, {model.n_rows} rows (PuLP build: {n_old_rows} rows); {_load()}")
    print(f"  instance prep                 {t_inst:8.3f} s{best}")
    print(f"  build, arrays (ours)          {t_build:8.3f} s   solver arrays (CSR) {t_csr:6.3f} s")
    print(f"  build, today's PuLP           {t_old:8.3f} s   PuLP -> HiGHS arrays {t_old_arrays:6.3f} s")
    print(f"  prep + build + solver arrays  {ours:8.3f} s   vs today's {today:.3f} s: "
          f"{today / ours:5.1f}x faster (build alone {t_old / t_build:5.1f}x)")
    print(f"  PuLP view on demand (to_pulp) {t_view:8.3f} s", flush=True)
    if build_only:
        return
    limit = TIME_LIMIT.get(n_vendors, 120.0)
    t0 = time.perf_counter()
    info, heur, _ = solve_pipeline(model, solver="highs", time_limit=limit, mip_gap=None)
    t_solve = time.perf_counter() - t0
    print(f"  solve (greedy {'found' if heur is not None else 'none'}, neighbourhood, blocks, MILP; HiGHS, "
          f"limit {limit or 'none'} s): {t_solve:.2f} s, status {info.status}")
    print(f"  incumbent {info.objective:,.0f}/yr  bound {info.bound:,.0f}/yr  gap {info.gap:.3%}", flush=True)
    if len(inst.seg_bid) > HUGE_SEGMENTS:
        incumbent = model.values.copy()
        lp = solve_arrays(model, solver="highs", relax=True)
        lp_gap = (info.objective - lp.objective) / info.objective
        print(f"  (huge model: the bound is the Lagrangian bound by lots; the LP relaxation's is "
              f"{lp.objective:,.0f}/yr, gap {lp_gap:.3%})", flush=True)
        model.values = incumbent
    if rule_costs:
        run_rule_costs(policy, tables, rule_limit)


def run_rule_costs(policy: Policy, tables: dict, limit: float) -> None:
    """constraint_costs (warm-started from the base award) against from-scratch re-solves."""
    from sourcing.allocation import constraint_costs

    rules = policy.active_rules()
    t0 = time.perf_counter()
    base = allocate(None, policy, time_limit=limit, **tables)
    t_base = time.perf_counter() - t0
    rows = []
    t_warm = t_cold = t_base
    for rule in rules:
        relaxed = policy.relaxed(rule)
        t0 = time.perf_counter()
        warm = allocate(None, relaxed, time_limit=limit, start=base, **tables)
        t_warm += time.perf_counter() - t0
        t0 = time.perf_counter()
        cold = allocate(None, relaxed, time_limit=limit, **tables)
        t_cold += time.perf_counter() - t0
        rows.append((rule, warm, cold))
    print(f"  constraint_costs, {len(rules)} rules, {limit:g} s per solve; base {base.status}, "
          f"gap {base.gap:.3%}, cost {base.cost['total']:,.0f}/yr")
    for rule, warm, cold in rows:
        print(f"    {rule:22s} warm: cost {warm.cost['total']:,.0f} gap {warm.gap:7.3%} | from scratch: cost "
              f"{cold.cost['total']:,.0f} gap {cold.gap:7.3%}")
    print(f"    total time (base + re-solves): warm {t_warm:.1f} s, from scratch {t_cold:.1f} s", flush=True)
    # the shipped function, end to end
    t0 = time.perf_counter()
    cc = constraint_costs(None, policy, time_limit=limit, **tables)
    print(f"    constraint_costs() {time.perf_counter() - t0:.1f} s; cost_of_rule >= 0 for all: "
          f"{bool((cc['cost_of_rule'] >= -1e-6).all())}", flush=True)


#: The events of ``--anytime``: the (200, 1000) tender with a 5 % spend cap and a 10 % minimum
#: share (its 3 vendors per lot and quality floor of 55 kept), and the event-scale tender.
def _events():
    lots, bids, tiers, risk, vendors, quality, policy = synthetic(200, 1000)
    yield "(200, 1000), 5 % spend cap, 10 % min share", (lots, bids, tiers, risk, vendors, quality, None), \
        policy.model_copy(update=dict(min_share_pct=10.0, max_spend_share_pct=5.0))
    lots, bids, tiers, risk, vendors, quality, bundles, policy = event()
    yield "(300, 6000) event, 20 scoped rules, 100 package bids", (
        lots, bids, tiers, risk, vendors, quality, bundles), policy


def run_anytime(limits: tuple[float, ...], which: set[int] | None = None) -> None:
    """Per event: build time (instance, arrays, CSR) and its peak traced memory, the process's
    peak resident memory, the time to the first feasible award (``first_award`` on the built
    model) and its gap to the knapsack bound, then ``allocate`` at each time limit: status,
    cost, bound, gap and wall time (build included)."""
    import resource
    import tracemalloc

    from sourcing.allocation.award import violations, volumes_of
    from sourcing.allocation.bound import knapsack_bound
    from sourcing.allocation.model import start_vector
    from sourcing.allocation.search import first_award

    for k, (name, tabs, policy) in enumerate(_events()):
        if which is not None and k not in which:
            continue
        names = ("lots", "bids", "tiers", "risk", "vendors", "quality", "bundles")
        tables = dict(zip(names, tabs, strict=True))
        gc.collect()
        tracemalloc.start()   # memory of a build of its own: tracing slows the build it measures
        build_model(make_instance(None, policy, **tables), policy).csr()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        gc.collect()
        t0 = time.perf_counter()
        inst = make_instance(None, policy, **tables)
        t1 = time.perf_counter()
        model = build_model(inst, policy, cost_ref=cost_reference(inst))
        t2 = time.perf_counter()
        model.csr()
        t3 = time.perf_counter()
        print(f"\n{name}: {len(inst.bid_vendor)} bids, {len(inst.seg_bid)} segments, {model.n_cols} columns, "
              f"{model.n_rows} rows, {len(inst.bundle_ids)} package bids usable; {_load()}")
        print(f"  build {t3 - t0:6.2f} s (instance {t1 - t0:.2f}, arrays {t2 - t1:.2f}, CSR {t3 - t2:.2f}); "
              f"peak traced memory {peak / 2**30:.2f} GiB", flush=True)
        t0 = time.perf_counter()
        first = first_award(model, solver="highs", time_limit=60.0)
        t_first = time.perf_counter() - t0
        kb = knapsack_bound(model)
        if first is None:
            print(f"  first feasible award: none in {t_first:.2f} s")
        else:
            obj = model.objective_at(start_vector(model, *first))
            ok = not violations(inst, policy, volumes_of(inst, first[0]), atol=1e-6)
            print(f"  first feasible award {t_first:6.2f} s after the build: {obj:,.0f}/yr, "
                  f"every rule holds: {ok}; gap to the knapsack bound {kb:,.0f}/yr: {(obj - kb) / obj:.3%}",
                  flush=True)
        model = inst = first = None
        for limit in limits:
            t0 = time.perf_counter()
            a = allocate(None, policy, time_limit=limit, lot_by_lot=False, **tables)
            wall = time.perf_counter() - t0
            cost = a.cost["total"] if a.feasible else float("nan")
            print(f"  limit {limit:5.0f} s: {a.status:9s} in {wall:6.1f} s  cost {cost:,.0f}/yr  "
                  f"bound {a.bound:,.0f}/yr  gap {a.gap:.3%}; {len(a.bundles)} package bids taken",
                  flush=True)
            a = None
        print(f"  peak resident memory of the process so far "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10x20,50x200,200x1000")
    ap.add_argument("--build-only", action="store_true", help="time instance prep and builds; no solve")
    ap.add_argument("--repeat", type=int, default=1, help="builds per size; the best time is printed")
    ap.add_argument("--rule-costs", action="store_true", help="also time constraint_costs (4 rules)")
    ap.add_argument("--rule-limit", type=float, default=20.0, help="seconds per solve in --rule-costs")
    ap.add_argument("--anytime", action="store_true",
                    help="only the anytime events: first feasible award, gap at each --limits")
    ap.add_argument("--limits", default="30,120", help="time limits (s) of --anytime")
    ap.add_argument("--events", default="0,1", help="events of --anytime: 0 (200, 1000), 1 (300, 6000)")
    args = ap.parse_args()
    if args.anytime:
        run_anytime(tuple(float(x) for x in args.limits.split(",")), {int(x) for x in args.events.split(",")})
        return
    for size in args.sizes.split(","):
        v, lots = (int(p) for p in size.split("x"))
        run(v, lots, build_only=args.build_only, repeat_=args.repeat, rule_costs=args.rule_costs,
            rule_limit=args.rule_limit)


if __name__ == "__main__":
    main()
