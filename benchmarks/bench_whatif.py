"""What-if latency: re-rank, policy re-solve, assumption re-simulation, and the page's re-rank.

Measured in one process; each what-if figure is also given as a ratio to the way the same answer
was had before (edit the scenario, run the stages it needs on an empty cache), timed alongside:

1. re-rank of a made-up 30 vendors x 15 criteria tender after a random weight change
   (``WhatIf.ranking``): median and p95 over 1,000 changes (targets: < 50 ms);
2. policy re-solve on the scenario's tender (``WhatIf.award`` after a change of
   ``max_vendors_per_lot``; target < 1 s);
3. assumption re-simulation at 10,000 draws of every option (``WhatIf.outcome`` after a change
   of the breach-impact multiplier; target < 1 s);
4. the walking-weights page's re-rank in headless Chromium for the same 30 x 15 tender: scores
   and ranks alone, and a full redraw (ranking table, stability bands), over 1,000 random
   weights.

Run: ``python benchmarks/bench_whatif.py [SCENARIO]`` (default the baseline scenario).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from sourcing import Scenario, cache, pipeline
from sourcing.cache import StageCache
from sourcing.whatif import WhatIf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
warnings.simplefilter("ignore", UserWarning)


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def _big_whatif(folder: Path) -> WhatIf:
    from tenders import make_scenario, make_tender

    tender = make_tender(folder / "tender", currency="CHF", n_vendors=30, n_lots=4, n_criteria=15,
                         seed=3, with_risk=True)
    path = make_scenario(folder, tender, allocation={"risk": {"enabled": False}},
                         simulation={"n": 10_000})
    return WhatIf(path, cache=StageCache())


def rerank(folder: Path) -> WhatIf:
    w = _big_whatif(folder)
    rng = np.random.default_rng(1)
    crits = [c for c, x in w.start.weights.items() if x > 0]
    state = w.start
    w.ranking(state)  # warm: imports and the first evaluation
    times = []
    for _ in range(1000):
        state = state.with_weight(str(rng.choice(crits)), float(rng.uniform(0.02, 0.6)))
        t = time.perf_counter()
        w.ranking(state)
        times.append(time.perf_counter() - t)
    # the old way: a scenario with the new weights, the score stage on an empty cache
    scn = w.scenario_of(state)
    old = []
    for _ in range(5):
        cache._MEMORY.clear()
        t = time.perf_counter()
        pipeline.run_stages(Scenario.validate_dict(scn.model_dump(mode="json") | {"source": scn.source}),
                            ["score"], cache=StageCache())
        old.append(time.perf_counter() - t)
    med = _pct(times, 50)
    print(f"1. re-rank 30 x 15: median {1e3 * med:6.1f} ms, p95 {1e3 * _pct(times, 95):6.1f} ms "
          f"(1,000 weight changes); edit + score stage cold {1e3 * _pct(old, 50):6.1f} ms "
          f"= {_pct(old, 50) / med:5.1f}x the what-if")
    return w


def resolve_and_resimulate(path: str) -> None:
    w = WhatIf(path, draws=10_000, cache=StageCache())
    s0 = w.start
    w.award(s0)
    w.outcome(s0)  # the scenario's own results, the risk-aware award solved once
    limit = int(s0.policy.get("max_vendors_per_lot", 3))
    times = []
    for k, value in enumerate([limit - 1, limit + 1, limit - 1, limit, limit + 2]):
        state = s0.with_policy(max_vendors_per_lot=max(1, value), min_vendors_per_lot=None)
        state = state.with_policy(max_share_pct=None if k % 2 else 90)
        t = time.perf_counter()
        w.award(state)
        times.append(time.perf_counter() - t)
    sims = []
    for factor in (1.5, 2.0, 0.5, 3.0, 1.2):
        state = s0.with_multiplier("breach_impact", factor)
        t = time.perf_counter()
        w.outcome(state)
        sims.append(time.perf_counter() - t)
    # the old way for the assumption: the scenario edited, `sourcing run` cold
    scn = w.scenario_of(s0.with_multiplier("breach_impact", 2.0), draws=10_000)
    cache._MEMORY.clear()
    t = time.perf_counter()
    pipeline.run(scn, stages=["decide"], cache=StageCache())
    cold = time.perf_counter() - t
    print(f"2. policy re-solve ({w.tender.name}): median {_pct(times, 50):5.2f} s, "
          f"max {max(times):5.2f} s over 5 policies")
    print(f"3. assumption re-simulation, 10,000 draws x {len(w.outcome(s0).summary)} options: "
          f"median {_pct(sims, 50):5.2f} s, max {max(sims):5.2f} s; edit + run cold {cold:6.2f} s "
          f"= {cold / _pct(sims, 50):5.1f}x the what-if")


def page(w: WhatIf, folder: Path) -> None:
    from sourcing.weight_walk import walk_page

    binary = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        binary = None
    if binary is None:
        print("4. page re-rank: skipped (Chromium or Playwright missing)")
        return
    html = folder / "walk.html"
    html.write_text(walk_page(w.ranking(w.start), title=w.tender.name), encoding="utf-8")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        pg = b.new_page()
        pg.goto(html.as_uri())
        pg.wait_for_function("window.sourcingWalk && window.sourcingWalk.last")
        out = pg.evaluate("""() => {
          const W = window.sourcingWalk, n = W.data.criteria.length;
          let seed = 7; const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
          const draw = () => Array.from({length: n}, () => -Math.log(rnd()));
          const full = [], ws = Array.from({length: 1000}, draw);
          let t0 = performance.now();  // the clock is coarse: time the 1,000 as one batch
          for (const w of ws) W.ranks(W.scores(w));
          const pure = (performance.now() - t0) / ws.length;
          for (let k = 0; k < 1000; k++) {
            const w = draw(); let t = performance.now(); W.setWeights(w); full.push(performance.now() - t);
          }
          const med = a => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
          const p95 = a => a.slice().sort((x, y) => x - y)[Math.floor(a.length * 0.95)];
          return {pure: pure, full: med(full), full95: p95(full), method: W.data.method};
        }""")
        b.close()
    print(f"4. page re-rank in Chromium ({out['method'].upper()}, 30 x 15): scores and ranks "
          f"{1e3 * out['pure']:6.1f} us each (1,000 in a batch); full redraw (table, 15 stability bands) "
          f"{out['full']:5.2f} ms median, {out['full95']:5.2f} ms p95")


def main(path: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-whatif-"))
    try:
        w = rerank(folder)
        resolve_and_resimulate(path)
        page(w, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "data" / "scenarios" / "baseline.yaml"))
