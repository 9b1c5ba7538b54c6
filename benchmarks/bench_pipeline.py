"""The pipeline on a scenario: ``sourcing run``, ``sourcing report``, and a rerun after one change.

Measured in one process, every figure as a ratio to the cold ``run`` measured in the same process
(so a loaded machine slows both alike):

1. ``run``, cold (empty stage cache), end to end, with the time of each stage;
2. the report, cold, end to end (pipeline once, then the pages in parallel kernels): ratio to run;
3. a rerun after changing one simulation assumption (the breach impact): ratio to cold run;
   the stages it re-ran;
4. a rerun of the unchanged report from its own run folder: ratio to cold run.

Run: ``python benchmarks/bench_pipeline.py [SCENARIO]`` (default the baseline scenario).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sourcing import Scenario, cache, pipeline
from sourcing.report import render

ROOT = Path(__file__).resolve().parents[1]


def _cold() -> None:
    cache._MEMORY.clear()


def main(path: str) -> None:
    scenario = Scenario.load(path)
    out = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    import sourcing.scoring  # noqa: F401  (imports are not the pipeline's time)

    _cold()
    timings: dict[str, float] = {}
    compute = pipeline._compute

    def timed(stage, *args):
        t = time.perf_counter()
        try:
            return compute(stage, *args)
        finally:
            timings[stage.name] = time.perf_counter() - t

    pipeline._compute = timed
    t = time.perf_counter()
    pipeline.run(scenario)
    cold_run = time.perf_counter() - t
    pipeline._compute = compute
    print(f"scenario {scenario.name} ({path})")
    print(f"run, cold:                 {cold_run:7.2f} s")
    for name, secs in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(f"  stage {name:<18s} {secs:7.2f} s  ({secs / cold_run:5.1%})")

    _cold()
    t = time.perf_counter()
    render(scenario, out=out / "report")
    cold_report = time.perf_counter() - t
    print(f"report, cold:              {cold_report:7.2f} s   ratio to run {cold_report / cold_run:5.2f}x "
          "(target <= 1.5x)")

    changed = scenario.model_copy(update={"simulation": scenario.simulation.model_copy(
        update={"assumptions": {**scenario.simulation.assumptions,
                                "breach_impact": {"lognormal_90": [20_000, 300_000]}}})})
    pipeline.run(scenario)  # warm: the cold run's stages are in memory again
    t = time.perf_counter()
    again = pipeline.run(changed)
    rerun = time.perf_counter() - t
    print(f"rerun, one assumption:     {rerun:7.2f} s   ratio to cold run {rerun / cold_run:5.2f}x "
          f"(target <= 0.5x); re-ran {', '.join(again.computed)}")

    _cold()
    t = time.perf_counter()
    render(scenario, out=out / "report")
    warm_report = time.perf_counter() - t
    print(f"report, unchanged rerun:   {warm_report:7.2f} s   ratio to cold run "
          f"{warm_report / cold_run:5.2f}x (pages only; the stages come from its run folder)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "data" / "scenarios" / "baseline.yaml"))
