"""Risk-aware award (SAA, expected cost + lambda CVaR95) on the sample tender, baseline policy.

Prints, for S = 100, 200, 500, 1000 scenarios: solve time, the solver's gap, the in-sample
objective and the out-of-sample objective of the chosen award (20 000 fresh scenarios, common to
all S) the SAA gap |in - out| / out and the bootstrap standard error of the in-sample objective (which
narrows as 1 / sqrt(S)).  Then the out-of-sample check with ``simulate`` (mean and
CVaR of the S = 500 award against in-sample) and, in the same run, the naive alternative:
simulate every candidate award (deterministic, single vendor, random feasible awards) and pick
the best; the SAA award must be at least as good out of sample.  Ratios are against the naive
run measured here.

Run: ``PYTHONPATH=src python benchmarks/bench_risk.py``
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from sourcing import read_tender
from sourcing.allocation import allocate, allocate_risk
from sourcing.allocation._data import make_instance
from sourcing.allocation.award import violations
from sourcing.allocation.heuristic import greedy
from sourcing.allocation.risk import cvar, scenario_costs
from sourcing.scenario import Scenario
from sourcing.scoring import evaluate
from sourcing.simulation import contract_cost, multi_vendor, risk_scenarios, simulate

ROOT = Path(__file__).resolve().parents[1]
LAM, ALPHA, N_SIM, N_RANDOM = 1.0, 0.95, 20_000, 12


class _Vol:
    """Minimal award-like object (volumes, spend) for ``multi_vendor``."""

    def __init__(self, inst, vol):
        import pandas as pd

        self.volumes = pd.DataFrame(vol, index=inst.vendor_ids, columns=inst.lot_ids)
        spend = np.zeros_like(vol)
        bx = vol[inst.bid_vendor, inst.bid_lot]
        cost = inst.bid_costs(bx)
        lst = np.zeros(len(bx))
        np.maximum.at(lst, inst.seg_bid, inst.seg_price)
        # beyond a bid's range (e.g. one vendor over its capacity): priced at its list price
        cost = np.where(np.isfinite(cost), cost, lst * bx)
        spend[inst.bid_vendor, inst.bid_lot] = np.where(bx > 0, cost, 0.0)
        self.spend = pd.DataFrame(spend, index=inst.vendor_ids, columns=inst.lot_ids)


def main() -> None:
    tender = read_tender(ROOT / "data" / "sample-tender")
    policy = Scenario.load(ROOT / "data" / "scenarios" / "baseline.yaml").allocation.policy_model()
    ev = evaluate(tender, method="topsis")
    inst = make_instance(tender, policy, quality=ev)
    cur = tender.currency
    fresh = risk_scenarios(tender, N_SIM, seed=12345)

    def score(vol):
        c = scenario_costs(inst, policy, fresh, vol)["total"]
        return c.mean() + LAM * cvar(c, ALPHA), c

    print(f"Risk-aware award, sample tender, baseline policy, lambda {LAM:g}, CVaR{ALPHA:.0%}, "
          f"money {cur} over {tender.contract_years} years")
    print(f"{'S':>6} {'time s':>8} {'MIP gap':>8} {'in-sample':>16} {'s.e. in':>10} {'out-of-sample':>16} "
          f"{'SAA gap':>8}")
    boot = np.random.default_rng(0)
    awards = {}
    for S in (100, 200, 500, 1000):
        rs = risk_scenarios(tender, S, seed=S)
        t0 = time.perf_counter()
        a = allocate_risk(tender, policy, rs, lam=LAM, alpha=ALPHA, quality=ev, mip_gap=1e-3)
        dt = time.perf_counter() - t0
        out, _ = score(a.volumes.to_numpy())
        awards[S] = (a, dt)
        c = a.costs
        se = np.std([(lambda r: r.mean() + LAM * cvar(r, ALPHA))(c[boot.integers(0, S, S)])
                     for _ in range(200)])
        print(f"{S:>6} {dt:>8.2f} {a.gap:>8.3%} {a.objective:>16,.0f} {se:>10,.0f} {out:>16,.0f} "
              f"{abs(a.objective - out) / out:>8.3%}")
    a500, t_saa = awards[500]
    print(f"target S=500: {t_saa:.2f} s (< 20 s: {'yes' if t_saa < 20 else 'NO'}), gap {a500.gap:.3%} "
          f"(<= 0.1 %: {'yes' if a500.gap <= 1e-3 + 1e-12 else 'NO'})")

    # ---------------- out of sample with simulate: the S = 500 award
    t0 = time.perf_counter()
    sim = simulate(multi_vendor(tender, a500, name="SAA"), n=N_SIM, seed=7)
    t_one = time.perf_counter() - t0
    oc = contract_cost(sim, one_off=a500.one_off)
    se = oc.std(ddof=1) / np.sqrt(oc.size)
    se_in = a500.costs.std(ddof=1) / np.sqrt(a500.n_scenarios)
    print(f"\nout of sample (simulate, {N_SIM:,} draws, {t_one:.2f} s): expected {oc.mean():,.0f} vs "
          f"in-sample {a500.expected:,.0f} (diff {oc.mean() - a500.expected:+,.0f}, s.e. "
          f"{np.hypot(se, se_in):,.0f}); CVaR {cvar(oc, ALPHA):,.0f} vs {a500.cvar:,.0f}")

    # ---------------- naive: simulate each candidate award, pick the best
    det = allocate(tender, policy, quality=ev)
    cands = {"deterministic": det.volumes.to_numpy()}
    for v in tender.vendor_ids:
        vol = np.zeros((inst.n_vendors, inst.n_lots))
        vi = inst.vendor_ids.index(v)
        if all(((inst.bid_vendor == vi) & (inst.bid_lot == j)).any() for j in range(inst.n_lots)):
            vol[vi] = inst.demand
            cands[f"single {v}"] = vol
    rng = np.random.default_rng(3)
    k = 0
    for _ in range(200):
        sol = greedy(inst, policy, priority=rng.random(len(inst.bid_vendor)))
        if sol is None:
            continue
        vol = np.zeros((inst.n_vendors, inst.n_lots))
        np.add.at(vol, (inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]), sol[0])
        cands[f"random {k + 1}"] = vol
        k += 1
        if k == N_RANDOM:
            break
    t0 = time.perf_counter()
    opts = [multi_vendor(tender, _Vol(inst, vol), name=name) for name, vol in cands.items()]
    opts.append(multi_vendor(tender, a500, name="SAA"))
    res = simulate(opts, n=N_SIM, seed=7)
    t_naive = time.perf_counter() - t0
    rows = []
    for name, vol in list(cands.items()) + [("SAA", a500.volumes.to_numpy())]:
        one = scenario_costs(inst, policy, fresh.subset(np.arange(2)), vol)["one_off"]
        c = contract_cost(res, name, one_off=one)
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = not violations(inst, policy, vol)
        rows.append((name, c.mean(), cvar(c, ALPHA), c.mean() + LAM * cvar(c, ALPHA), ok))
    best_naive = min((r for r in rows if r[0] != "SAA" and r[4]), key=lambda r: r[3])
    saa = next(r for r in rows if r[0] == "SAA")
    n_single = sum(n.startswith("single") for n in cands)
    print(f"\nnaive: {len(cands)} candidate awards (deterministic, {n_single} single-vendor, "
          f"{k} random feasible) simulated with simulate ({N_SIM:,} draws, common "
          f"random numbers): {t_naive:.2f} s; SAA solve {t_saa:.2f} s (ratio {t_saa / t_naive:.2f})")
    print(f"{'option':>16} {'expected':>16} {'CVaR':>16} {'E + lam CVaR':>16}  policy")
    for name, e, c, o, ok in sorted(rows, key=lambda r: r[3])[:9]:
        print(f"{name:>16} {e:>16,.0f} {c:>16,.0f} {o:>16,.0f}  {'holds' if ok else 'broken'}")
    print(f"best naive among awards that keep the policy: {best_naive[0]} {best_naive[3]:,.0f}; "
          f"SAA {saa[3]:,.0f}: SAA at least as good: "
          f"{'yes' if saa[3] <= best_naive[3] * (1 + 1e-9) else 'NO'} "
          f"(SAA - best naive {saa[3] - best_naive[3]:+,.0f} {cur})")


if __name__ == "__main__":
    main()
