"""Sensitivity of the choice: Sobol indices at N = 2^12 and break-even searches, on a scenario.

Measured in one process:

1. Sobol indices (SALib) of every option's cost and of the recommended-minus-runner-up
   difference at N = 4,096 base samples: seconds, model evaluations, and the ratio to one
   simulation of the same options at the scenario's draws (timed alongside);
2. break-even searches on the what-if (a multiplier, a weight, a policy count): seconds and
   pipeline evaluations each;
3. price to win for every bid of the scenario's tender: seconds, solves, and the ratio to one
   award solve timed alongside;
4. with ``--event``: price to win for a few bids of a made-up 50-vendor, 200-lot event (9,999
   bids), seconds a bid, and what every losing bid would take at that rate.

Run: ``python benchmarks/bench_sensitivity.py [SCENARIO] [--event]`` (default the baseline).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

from sourcing import pipeline, read_tender
from sourcing.allocation import Policy, allocate
from sourcing.allocation.price_to_win import price_to_win
from sourcing.breakeven import break_even, break_even_story
from sourcing.cache import StageCache
from sourcing.simulation import contract_sobol, simulate
from sourcing.whatif import WhatIf

ROOT = Path(__file__).resolve().parents[1]
warnings.simplefilter("ignore", UserWarning)


def main(path: str) -> None:
    result = pipeline.run(path, stages=["decide"], cache=StageCache())
    opts, rec, runner = result.options, result.decision.recommended, result.decision.runner_up
    sc = result.scenario.simulation
    t = time.perf_counter()
    simulate(opts, n=sc.n, seed=result.scenario.seed, sampling=sc.sampling)
    one = time.perf_counter() - t
    t = time.perf_counter()
    sob = contract_sobol(opts, n=4096, seed=1, differences=[(rec, runner)])
    secs = time.perf_counter() - t
    rows = 4096 * (len(sob.groups) + 2)
    print(f"scenario {result.scenario.name}: {len(opts)} options, {len(sob.groups)} factors")
    print(f"1. Sobol N = 4,096: {secs:6.2f} s ({rows:,} evaluations per option); one simulation of "
          f"{sc.n:,} draws {one:5.2f} s = {secs / one:5.1f}x")
    top = sob.of(f"{rec} - {runner}").head(3)
    for f, r in top.iterrows():
        print(f"   {f:<40s} ST {r['ST']:.3f} +- {r['ST_conf']:.3f}, S1 {r['S1']:.3f}")
    w = WhatIf(path, draws=10_000, cache=StageCache())
    w.outcome(w.start)
    price = w.price_criteria[0]
    for key in ("multiplier.fx_vol", f"weight.{price}", "policy.max_vendors_per_lot"):
        t = time.perf_counter()
        be = break_even(w, key)
        print(f"2. break-even {key}: {time.perf_counter() - t:6.2f} s, {be.evaluations} evaluations: "
              f"{break_even_story(be, currency=w.tender.currency)}")
    al, tender = result.scenario.allocation, result.tender
    t = time.perf_counter()
    award = allocate(tender, al.policy_model(), quality=result.evaluation, **al.solve_kwargs)
    one = time.perf_counter() - t
    secs = {}
    for workers in (1, None):  # in this process, then one process per core (as the pipeline)
        t = time.perf_counter()
        table = price_to_win(tender, al.policy_model(), quality=result.evaluation, award=award,
                             workers=workers, **al.solve_kwargs)
        secs[workers] = time.perf_counter() - t
    print(f"3. price to win, {len(table)} bids: {secs[1]:6.2f} s in one process, {secs[None]:6.2f} s "
          f"on {os.cpu_count()} cores ({secs[1] / secs[None]:.2f}x), {int(table['solves'].sum())} "
          f"solves ({table['solves'].mean():.1f} a bid); one award solve {one:5.2f} s = "
          f"{secs[None] / one:5.1f}x")


def event(n_bids: int = 1) -> None:
    """Price to win for *n_bids* losing bids of a made-up 50 x 200 event."""
    sys.path.insert(0, str(ROOT / "tests"))
    from tenders import make_tender

    tender = read_tender(make_tender(Path(tempfile.mkdtemp()) / "event", currency="EUR",
                                     n_vendors=50, n_lots=200, seed=1))
    policy = Policy(max_vendors_per_lot=2, max_spend_share_pct=20)
    t = time.perf_counter()
    award = allocate(tender, policy, time_limit=120)
    one = time.perf_counter() - t
    awarded = (award.volumes > 1e-6).stack()
    bids = tender.bids
    losing = [(str(b["vendor_id"]), str(b["lot_id"])) for _, b in bids.iterrows()
              if not awarded.get((b["vendor_id"], b["lot_id"]), False)][:n_bids]
    t = time.perf_counter()
    table = pd.concat([price_to_win(tender, policy, award=award, vendors=[v], lots=[lot],
                                    time_limit=120) for v, lot in losing])
    secs = (time.perf_counter() - t) / max(len(table), 1)
    n_losing = int(len(tender.bids) - awarded.sum())
    print(f"4. event 50 x 200 ({len(tender.bids):,} bids): award {one:6.1f} s; price to win "
          f"{secs:6.1f} s a bid over {len(table)} bids ({table['solves'].mean():.1f} solves a bid); "
          f"every losing bid ({n_losing:,}) at that rate: {secs * n_losing / 3600:,.0f} h")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--event"]
    main(args[0] if args else str(ROOT / "data" / "scenarios" / "baseline.yaml"))
    if "--event" in sys.argv:
        event()
