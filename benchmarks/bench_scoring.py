"""SMAA-2 benchmark: vectorised sourcing.scoring.smaa vs a per-sample scikit-criteria loop.

30 vendors x 15 criteria x 100,000 uniform weight samples, for WSM and TOPSIS.  The baseline is
the obvious implementation: for each weight sample, ``DecisionMatrix.replace(weights=w)`` and
scikit-criteria's ``evaluate``; it is timed on a subsample and scaled to 100,000 samples.  Both
are run in this process; the baseline's rankings on the subsample are checked against the
vectorised ones.  Target: >= 100x faster and <= 2 s per method.

Run: ``PYTHONPATH=src python benchmarks/bench_scoring.py``
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import skcriteria as skc
from skcriteria.agg.simple import WeightedSumModel
from skcriteria.agg.topsis import TOPSIS

from sourcing.scoring import smaa
from sourcing.scoring.methods import minmax_normalize, ranks_from_scores, vector_normalize
from sourcing.scoring.sensitivity import _simplex

M, K, N, SUB, SEED = 30, 15, 100_000, 1_000, 2024


def baseline(x, obj, weights, method):
    """Per-sample loop calling scikit-criteria's evaluate; returns (m x m acceptability counts)."""
    if method == "wsm":
        dm = skc.mkdm(minmax_normalize(x, obj), np.ones(K, dtype=int))
        model = WeightedSumModel()
    else:
        dm = skc.mkdm(vector_normalize(x), obj.astype(int))
        model = TOPSIS()
    counts = np.zeros((M, M), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for w in weights:  # the loop being replaced
            res = model.evaluate(dm.replace(weights=w))
            score = res.extra_["score"] if method == "wsm" else res.extra_["similarity"]
            counts[np.arange(M), ranks_from_scores(np.asarray(score)) - 1] += 1
    return counts


def main() -> None:
    rng = np.random.default_rng(SEED)
    x = rng.uniform(1, 100, (M, K))
    obj = np.where(np.arange(K) % 4 == 3, -1.0, 1.0)
    objectives = ["max" if o > 0 else "min" for o in obj]
    print(f"SMAA-2 benchmark: {M} vendors x {K} criteria x {N:,} weight samples")
    for method in ("wsm", "topsis"):
        smaa(x, objectives, n=1000, seed=SEED, method=method)  # warm-up
        t0 = time.perf_counter()
        res = smaa(x, objectives, n=N, seed=SEED, method=method)
        t_vec = time.perf_counter() - t0
        w_sub = _simplex(np.random.default_rng(SEED), N, K)[:SUB]  # the same first SUB samples
        t0 = time.perf_counter()
        counts = baseline(x, obj, w_sub, method)
        t_sub = time.perf_counter() - t0
        t_loop = t_sub * N / SUB
        check = smaa(x, objectives, n=SUB, seed=SEED, method=method).acceptability.to_numpy() * SUB
        same = np.array_equal(np.rint(check).astype(np.int64), counts)
        print(f"  {method:<6} vectorised {t_vec:7.3f} s | scikit-criteria loop {t_sub:6.2f} s for {SUB:,} "
              f"-> {t_loop:8.1f} s scaled to {N:,} | speed-up {t_loop / t_vec:7.0f}x | "
              f"same ranks on subsample: {same} | max first-rank acceptability "
              f"{res.acceptability[1].max():.3f}")


if __name__ == "__main__":
    main()
