"""Benchmark of the award MILP on synthetic tenders (not a timed test).

For (vendors, lots) = (10, 20), (50, 200), (200, 1000): each lot is bid by half the vendors, with
all-unit volume tiers, setup and onboarding costs, at most 3 winners per lot, a 70 % share cap on
the largest quarter of lots, a quality floor and a spend-concentration cap.  Prints, per size:
model-build time of ``build_model`` (bulk ``LpAffineExpression`` from zipped pairs) against a
naive build of the same model with ``+=`` in Python loops, measured in the same process; solve
time; status, incumbent, bound and gap.  The conversion of the built PuLP model to HiGHS's arrays
(``model_arrays``, done by the solve step) is timed and printed separately; it is not part of
the build figure.  ``--build-only`` stops after the build figures (best of ``--repeat`` runs).

Usage: ``PYTHONPATH=src python benchmarks/bench_allocation.py [--sizes 10x20,50x200] [--naive-max 50000]
[--build-only] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import pulp

from sourcing.allocation import Policy
from sourcing.allocation._data import make_instance
from sourcing.allocation._solvers import model_arrays
from sourcing.allocation.heuristic import greedy
from sourcing.allocation.model import build_model, cost_reference, solve_pipeline

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


def naive_build(inst, policy):
    """The same model built the usual slow way: ``+=`` on expressions in Python loops (one pass
    over the segments, so the baseline is linear, not a strawman)."""
    prob = pulp.LpProblem("naive", pulp.LpMinimize)
    S = len(inst.seg_bid)
    x = [prob.add_variable(f"x_{s}", 0.0, float(inst.seg_hi[s])) for s in range(S)]
    z = [prob.add_variable(f"z_{s}", 0, 1, cat=pulp.LpBinary) for s in range(S)]
    u = {v: prob.add_variable(f"u_{v}", 0, 1, cat=pulp.LpBinary) for v in sorted(set(inst.bid_vendor))}
    one = {b: pulp.LpAffineExpression() for b in range(len(inst.bid_vendor))}
    dem = [pulp.LpAffineExpression() for _ in range(inst.n_lots)]
    cnt = [pulp.LpAffineExpression() for _ in range(inst.n_lots)]
    qual = [pulp.LpAffineExpression() for _ in range(inst.n_lots)]
    per_vendor = {v: pulp.LpAffineExpression() for v in u}
    spend = pulp.LpAffineExpression()
    obj = pulp.LpAffineExpression()
    for s in range(S):
        b = inst.seg_bid[s]
        j, v = inst.bid_lot[b], inst.bid_vendor[b]
        prob += x[s] - inst.seg_hi[s] * z[s] <= 0
        if inst.seg_lo[s] > 0:
            prob += x[s] - inst.seg_lo[s] * z[s] >= 0
        one[b] += z[s]
        dem[j] += x[s]
        cnt[j] += z[s]
        qual[j] += (inst.quality[v] - policy.quality_floor) * x[s]
        per_vendor[v] += inst.seg_price[s] * x[s] + inst.seg_intercept[s] * z[s]
        spend += inst.seg_price[s] * x[s] + inst.seg_intercept[s] * z[s]
        obj += inst.seg_price[s] * x[s] + (inst.seg_intercept[s] + inst.annualise * inst.bid_setup[b]) * z[s]
    for b, e in one.items():
        prob += e - u[inst.bid_vendor[b]] <= 0
    for j in range(inst.n_lots):
        prob += dem[j] == inst.demand[j]
        prob += cnt[j] <= policy.max_vendors_per_lot
        prob += qual[j] >= 0
    total_spend = prob.add_variable("spend_total", 0.0, None)
    prob += spend - total_spend == 0
    c = policy.max_spend_share_pct / 100
    for v in u:
        prob += per_vendor[v] - c * total_spend <= 0
        obj += inst.annualise * inst.onboarding[v] * u[v]
    prob += obj
    return prob


def run(n_vendors: int, n_lots: int, *, naive_max: int, build_only: bool = False, repeat: int = 1) -> None:
    lots, bids, tiers, risk, vendors, quality, policy = synthetic(n_vendors, n_lots)
    t0 = time.perf_counter()
    inst = make_instance(None, policy, lots=lots, bids=bids, tiers=tiers, risk=risk, vendors=vendors,
                         quality=quality)
    t_inst = time.perf_counter() - t0
    t_build = t_naive = t_arrays = np.inf
    model = None
    for _ in range(repeat):
        del model
        t0 = time.perf_counter()
        model = build_model(inst, policy, cost_ref=cost_reference(inst))
        t_build = min(t_build, time.perf_counter() - t0)
        t0 = time.perf_counter()
        model_arrays(model.prob, model.variables)
        t_arrays = min(t_arrays, time.perf_counter() - t0)
    S = len(inst.seg_bid)
    if S <= naive_max:
        for _ in range(repeat):
            t0 = time.perf_counter()
            naive_build(inst, policy)
            t_naive = min(t_naive, time.perf_counter() - t0)
        naive_txt = f"{t_naive:8.3f} s  (ours {t_naive / t_build:5.1f}x faster)"
    else:
        naive_txt = f"not run (> {naive_max} segments)"
    best = f" (best of {repeat})" if repeat > 1 else ""
    if build_only:
        print(f"\n(vendors, lots) = ({n_vendors}, {n_lots}): {len(inst.bid_vendor)} bids, {S} segments, "
              f"{len(model.variables)} variables, {len(model.prob.constraints())} rows")
        print(f"  instance prep        {t_inst:8.3f} s")
        print(f"  build (bulk, ours)   {t_build:8.3f} s{best}")
        print(f"  build (naive +=)     {naive_txt}{best}")
        print(f"  PuLP -> HiGHS arrays {t_arrays:8.3f} s{best} (model_arrays, in the solve step)", flush=True)
        return
    t0 = time.perf_counter()
    heur = greedy(inst, policy)
    t_heur = time.perf_counter() - t0
    limit = TIME_LIMIT.get(n_vendors, 120.0)
    # what allocate() runs: greedy start, LP-support neighbourhood, full MILP (one time budget)
    t0 = time.perf_counter()
    info, _, _ = solve_pipeline(model, solver="highs", time_limit=limit, mip_gap=None)
    t_solve = time.perf_counter() - t0
    print(f"\n(vendors, lots) = ({n_vendors}, {n_lots}): {len(inst.bid_vendor)} bids, {S} segments, "
          f"{len(model.variables)} variables, {len(model.prob.constraints())} rows")
    print(f"  instance prep        {t_inst:8.3f} s")
    print(f"  build (bulk, ours)   {t_build:8.3f} s{best}")
    print(f"  build (naive +=)     {naive_txt}{best}")
    print(f"  PuLP -> HiGHS arrays {t_arrays:8.3f} s{best} (model_arrays, in the solve step)")
    heur_txt = "none found" if heur is None else "found"
    print(f"  greedy MIP start     {t_heur:8.3f} s  ({heur_txt})")
    print(f"  greedy start + neighbourhood + MILP (HiGHS, limit {limit or 'none'} s): {t_solve:.2f} s, "
          f"status {info.status}")
    print(f"  incumbent EUR {info.objective:,.0f}/yr  bound EUR {info.bound:,.0f}/yr  gap {info.gap:.3%}",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10x20,50x200,200x1000")
    ap.add_argument("--naive-max", type=int, default=10_000_000,
                    help="skip the naive build above this many segments")
    ap.add_argument("--build-only", action="store_true", help="time instance prep and builds; no solve")
    ap.add_argument("--repeat", type=int, default=1, help="builds per size; the best time is printed")
    args = ap.parse_args()
    for size in args.sizes.split(","):
        v, lots = (int(p) for p in size.split("x"))
        run(v, lots, naive_max=args.naive_max, build_only=args.build_only, repeat=args.repeat)


if __name__ == "__main__":
    main()
