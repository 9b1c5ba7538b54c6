"""Benchmark of sourcing.simulation on the sample tender's multi-vendor scenario.

Prints, for 10^6 draws x 5 contract years: wall time, draws/s, peak traced memory, the ratio
against a per-draw Python loop of the same model (timed on 10^4 draws and scaled), and the share
of a pure RNG baseline (time to draw as many raw uniforms as the model consumes).  Then the peak
memory of a 10^7-draw run.  All baselines are measured in this process.

Usage: ``PYTHONPATH=src python benchmarks/bench_simulation.py [--quick] [--skip-1e7]``
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np

from sourcing import read_tender
from sourcing.simulation import multi_vendor, simulate
from sourcing.simulation._reference import simulate_loop

ROOT = Path(__file__).resolve().parents[1]


def raw_variates(s, n: int) -> int:
    """Number of raw uniforms one run of *n* draws consumes (inputs + event streams)."""
    per_draw = len(s.inputs())
    for spec in s.events().values():
        if spec[0] == "failure":
            per_draw += 1
        elif spec[0] == "sla":
            per_draw += s.years
        else:  # security: one uniform per event for its cell and one for its severity
            per_draw += 2 * spec[1].rate * s.years
    return int(per_draw * n)


def timed(f, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10^3 loop draws, one repeat")
    ap.add_argument("--skip-1e7", action="store_true", help="skip the 10^7-draw memory run")
    args = ap.parse_args()
    t = read_tender(ROOT / "data" / "sample-tender")
    s = multi_vendor(t)
    n = 1_000_000
    print(f"scenario: {s.name} ({s.description}); {len(s.lines)} lines, "
          f"{len(s.inputs())} correlatable inputs, {len(s.events())} event streams, {s.years} years")
    simulate(s, n=20_000, seed=0)  # warm-up (tables, imports)
    repeat = 1 if args.quick else 3
    t_sim = timed(lambda: simulate(s, n=n, seed=1), repeat)
    print(f"simulate 10^6 draws x {s.years} years: {t_sim:.3f} s (best of {repeat}), "
          f"{n / t_sim:,.0f} draws/s")

    tracemalloc.start()
    simulate(s, n=n, seed=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory, 10^6 draws: {peak / 2**20:,.0f} MiB")

    n_loop = 1_000 if args.quick else 10_000
    t0 = time.perf_counter()
    simulate_loop(s, n_loop, seed=1)
    t_loop = (time.perf_counter() - t0) * n / n_loop
    print(f"per-draw Python loop: {t_loop / n * 1e6:,.1f} us/draw (timed on {n_loop:,} draws), "
          f"scaled to 10^6: {t_loop:,.1f} s -> vectorised is {t_loop / t_sim:,.0f}x faster")

    m = raw_variates(s, n)
    rng = np.random.default_rng(1)

    def rng_only() -> None:
        left = m
        while left > 0:  # same chunking as the engine to keep memory comparable
            k = min(left, 2**22)
            rng.random(k)
            left -= k

    t_rng = timed(rng_only, repeat)
    print(f"pure RNG baseline: {m:,} raw uniforms in {t_rng:.3f} s = {t_rng / t_sim:.0%} of simulate "
          f"(simulate = {t_sim / t_rng:.1f}x the RNG floor)")

    if not args.skip_1e7:
        gc.collect()
        tracemalloc.start()
        t0 = time.perf_counter()
        r = simulate(s, n=10_000_000, seed=1)
        t_big = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stored = (r.cash.nbytes + r.drivers.nbytes) / 2**20
        print(f"10^7 draws: {t_big:.1f} s, peak traced memory {peak / 2**20:,.0f} MiB "
              f"(stored per-draw outputs {stored:,.0f} MiB), "
              f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
