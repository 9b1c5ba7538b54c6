"""Sweep throughput: in-process against a 2-worker Dask LocalCluster, and what the stage cache saves.

Measured in one process on the sample tender's baseline scenario, a Latin-hypercube sweep of two
simulation assumptions (wage inflation, exchange-rate volatility; every point on the same random
numbers), so each point re-runs the simulation and the decision, the other stages being the base
run's (computed once on the client and scattered to the workers):

1. the sweep in this process (``workers=0``) and on a LocalCluster of 2 single-threaded worker
   processes started beforehand (its start-up is timed apart): wall times, their ratio, and the
   cluster's overhead per point (worker-seconds per point beyond the in-process time per point);
2. memory per worker (resident set size after the sweep);
3. the share of a point's time the stage cache saves: a point as the sweep runs it against the
   same point computed from scratch (every stage of the closure, an empty cache), over a few
   points.

Run: ``python benchmarks/bench_sweep.py [--points N] [--draws N] [--full K]`` (defaults 200 points,
2,000 draws per point, 3 full reruns).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import yaml

from sourcing import cache
from sourcing.cache import StageCache
from sourcing.pipeline import run_stages
from sourcing.sweep import Sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
warnings.simplefilter("ignore", UserWarning)


def _sweep_file(folder: Path, points: int, draws: int) -> Path:
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump({
        "name": "Benchmark", "scenario": str(ROOT / "data" / "scenarios" / "baseline.yaml"),
        "seed": 7, "design": "lhs", "n": points, "base": {"simulation.n": draws},
        "axes": [{"key": "simulation.assumptions.wage_inflation", "range": [0.0, 0.06]},
                 {"key": "simulation.assumptions.fx_vol", "range": [0.02, 0.2]}]},
        sort_keys=False), encoding="utf-8")
    return path


def main(points: int, draws: int, full: int) -> None:
    from dask.distributed import Client, LocalCluster

    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        sweep = Sweep.load(_sweep_file(folder, points, draws))
        t = time.perf_counter()
        run_stages(sweep.base_scenario(), sweep.stages, cache=StageCache())  # the base, once
        base = time.perf_counter() - t
        t = time.perf_counter()
        serial = run_sweep(sweep, out=folder / "serial", workers=0, figures=False)
        t_serial = time.perf_counter() - t
        t = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
        t_start = time.perf_counter() - t
        try:
            t = time.perf_counter()
            dask = run_sweep(sweep, out=folder / "dask", scheduler=cluster.scheduler_address,
                             figures=False)
            t_dask = time.perf_counter() - t
            rss = client.run(lambda: __import__("psutil").Process().memory_info().rss)
        finally:
            client.close()
            cluster.close()
        same = serial.table.to_csv(index=False) == dask.table.to_csv(index=False)
        per_point = t_serial / points
        overhead = (2 * t_dask - t_serial) / points
        print(f"base run of the scenario (every stage of the closure, once): {base:6.1f} s")
        print(f"1. {points} points x {draws:,} draws: in-process {t_serial:6.1f} s "
              f"({1e3 * per_point:6.0f} ms a point); LocalCluster 2 workers {t_dask:6.1f} s "
              f"(start-up {t_start:4.1f} s apart) = {t_serial / t_dask:4.2f}x faster; "
              f"overhead {1e3 * overhead:6.0f} ms of worker time a point; same numbers: {same}")
        mib = [v / 2**20 for v in rss.values()]
        print(f"2. memory per worker after the sweep: {', '.join(f'{m:5.0f} MiB' for m in mib)}")
        # a point computed from scratch: the scenario edited, every stage on an empty cache
        cold = []
        for i in range(min(full, points)):
            scenario = sweep.point_scenario(i)
            cache._MEMORY.clear()
            t = time.perf_counter()
            run_stages(scenario, sweep.stages, cache=StageCache())
            cold.append(time.perf_counter() - t)
        full_point = sum(cold) / len(cold)
        print(f"3. a point from scratch {full_point:6.2f} s (mean of {len(cold)}), in the sweep "
              f"{per_point:6.3f} s: the stage cache saves {1 - per_point / full_point:5.1%} of a "
              "point's time")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--full", type=int, default=3, help="points computed from scratch")
    args = parser.parse_args()
    main(args.points, args.draws, args.full)
