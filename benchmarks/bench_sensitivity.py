"""Sensitivity of the choice: Sobol indices at N = 2^12 and break-even searches, on a scenario.

Measured in one process:

1. Sobol indices (SALib) of every option's cost and of the recommended-minus-runner-up
   difference at N = 4,096 base samples: seconds, model evaluations, and the ratio to one
   simulation of the same options at the scenario's draws (timed alongside);
2. break-even searches on the what-if (a multiplier, a weight, a policy count): seconds and
   pipeline evaluations each.

Run: ``python benchmarks/bench_sensitivity.py [SCENARIO]`` (default the baseline scenario).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

from sourcing import pipeline
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


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "data" / "scenarios" / "baseline.yaml"))
