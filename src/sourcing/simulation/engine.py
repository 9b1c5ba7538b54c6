"""The Monte Carlo engine: :func:`simulate` runs scenarios with common random numbers.

Common random numbers: every input has a name (``indexation``, ``growth[L1]``, ``fx[INR]``,
``failure[V03]``, ``sla[V03,L1]``, ``security[V03]``...).  Scenarios that share an input name
share its draws, so a difference between two scenarios is not sampling noise from inputs they
have in common.  If two scenarios define the same name differently (e.g. different
assumptions), the engine warns and gives each its own stream.

Precision and speed: the contract model is evaluated in ``float32`` arithmetic (the precision
the outputs are stored in; relative error below 1e-5, tested against float64) on chunks of
16 384 draws, small enough to stay in cache and to keep BLAS single-threaded.

Storage: per draw only outputs are kept -- cost per year (``float32``, ~1 unit of currency resolution on
annual costs of tens of millions) and cost per driver summed over the horizon (``float32``);
totals and NPV are computed from the yearly costs in ``float64``.  Input values are kept for the
first ``sensitivity_draws`` draws only (for tornado charts).  10^7 draws of one 5-year scenario
take (5 + 10) x 4 B x 10^7 = 600 MB.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .contract import DRIVERS, SourcingScenario
from .correlation import gaussian_scores, iman_conover, validate_correlation
from .distributions import Compound, Distribution
from .results import SimulationResult
from .sampling import METHODS, UniformSource

__all__ = ["DEFAULT_CORRELATION", "simulate"]

#: Default Spearman correlations between inputs (only pairs present in a run are used):
#: price indexation and in-house wage inflation move together; offshore currencies co-move.
DEFAULT_CORRELATION: dict[tuple[str, str], float] = {
    ("indexation", "wage_inflation"): 0.6,
    ("fx[INR]", "fx[offshore]"): 0.5,
}
COPULAS = ("gaussian", "iman-conover")
_STATS = ("mean", "p5", "p10", "p50", "p90", "p95")


def _as_list(scenarios: Any) -> list[SourcingScenario]:
    if isinstance(scenarios, SourcingScenario):
        out = [scenarios]
    elif isinstance(scenarios, Mapping):
        out = list(scenarios.values())
    elif isinstance(scenarios, Iterable):
        out = list(scenarios)
    else:
        raise TypeError("scenarios must be a SourcingScenario or a list/dict of them")
    if not out:
        raise ValueError("scenarios is empty")
    for s in out:
        if not isinstance(s, SourcingScenario):
            raise TypeError(f"scenarios must be SourcingScenario objects, got {type(s).__name__}")
    names = [s.name for s in out]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise ValueError(f"scenario names must be unique; duplicated: {dup}")
    years = {s.years for s in out}
    if len(years) > 1:
        raise ValueError("all scenarios must have the same horizon; got "
                         + ", ".join(f"{s.name}: {s.years}" for s in out))
    return out


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays etc.
        return a is b


def _collect(scens: list[SourcingScenario]) -> tuple[dict, dict, list[dict], list[dict]]:
    """Union of inputs and events; per scenario a map own name -> global name."""
    inputs: dict[str, Distribution] = {}
    events: dict[str, tuple] = {}
    in_maps, ev_maps = [], []
    for s in scens:
        for own, pool, maps in ((s.inputs(), inputs, in_maps), (s.events(), events, ev_maps)):
            m = {}
            for key, spec in own.items():
                g = key
                if key in pool and not _same(pool[key], spec):
                    g = f"{key}@{s.name}"
                    warnings.warn(f"input {key!r} of scenario {s.name!r} differs from the one of an "
                                  "earlier scenario; it gets its own draws (no common random numbers "
                                  "for it)", UserWarning, stacklevel=3)
                pool.setdefault(g, spec)
                m[key] = g
            maps.append(m)
    return inputs, events, in_maps, ev_maps


def _correlation_matrix(correlation: Any, keys: list[str]) -> np.ndarray | None:
    k = len(keys)
    if correlation is False or k < 2:
        return None
    if correlation is None:
        pairs = {p: r for p, r in DEFAULT_CORRELATION.items() if p[0] in keys and p[1] in keys}
        if not pairs:
            return None
        correlation = pairs
    if isinstance(correlation, pd.DataFrame):
        labels = [str(c) for c in correlation.columns]
        if list(map(str, correlation.index)) != labels:
            raise ValueError("correlation DataFrame must be square with the same labels on rows and "
                             "columns")
        unknown = [x for x in labels if x not in keys]
        if unknown:
            raise ValueError(f"correlation names unknown input(s) {unknown}; inputs: {', '.join(keys)}")
        sub = validate_correlation(correlation.to_numpy(float), names=labels)
        c = np.eye(k)
        idx = [keys.index(x) for x in labels]
        c[np.ix_(idx, idx)] = sub
        return c
    if isinstance(correlation, Mapping):
        c = np.eye(k)
        for pair, rho in correlation.items():
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise ValueError(f"correlation keys must be (input, input) pairs, got {pair!r}")
            a, b = pair
            for x in (a, b):
                if x not in keys:
                    raise ValueError(f"correlation names unknown input {x!r}; inputs: {', '.join(keys)}")
            r = float(rho)
            if not -1 <= r <= 1:
                raise ValueError(f"correlation[{a!r}, {b!r}] must lie in [-1, 1], got {rho}")
            i, j = keys.index(a), keys.index(b)
            c[i, j] = c[j, i] = r
        return validate_correlation(c, names=keys)
    raise TypeError("correlation must be None (defaults), False (independent), a dict "
                    "{(input, input): spearman} or a square DataFrame")


def _event_draws(spec: tuple, n: int, years: int, rng: np.random.Generator) -> np.ndarray:
    kind = spec[0]
    if kind == "failure":
        h = spec[1]
        u = 1.0 - rng.random(n)  # (0, 1]
        return np.floor(np.log(u) / math.log1p(-h)) + 1.0 if h < 1 else np.ones(n)
    # drawn year-major and returned as (n, years) views: evaluate() works on (years, n) rows
    if kind == "sla":
        return binomial_months(spec[1], (years, n), rng).T
    if kind == "compound":
        comp: Compound = spec[1]
        return comp.sample_cells(n * years, rng).reshape(years, n).T
    raise ValueError(f"unknown event kind {kind!r}")  # pragma: no cover


#: index of the high 16 bits of a uint32 viewed as two uint16
_HIGH_HALF = 1 if sys.byteorder == "little" else 0


@lru_cache(maxsize=256)
def _binomial_table(q: float, trials: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-CDF lookup of Binomial(trials, q) on the top 16 bits of a 32-bit uniform.

    ``table[j]`` is the count for every ``r`` with ``r >> 16 == j`` unless a CDF step falls
    inside that bucket (marked 255); ``edges`` are the CDF steps scaled to 2^32.
    """
    k = np.arange(trials + 1)
    cdf = np.cumsum(stats.binom.pmf(k, trials, q))
    cdf[-1] = 1.0
    edges = np.minimum(np.round(cdf * 2.0 ** 32), 2.0 ** 32)  # r < edges[k] -> count <= k
    lo = np.arange(2 ** 16, dtype=float) * 2 ** 16
    hi = lo + 2 ** 16
    k_lo = np.searchsorted(edges, lo, side="right")
    k_hi = np.searchsorted(edges, hi - 1, side="right")
    table = np.where(k_lo == k_hi, k_lo, 255).astype(np.uint8)
    return table, edges


def binomial_months(q: float, shape: tuple[int, int], rng: np.random.Generator,
                    trials: int = 12) -> np.ndarray:
    """Binomial(*trials*, *q*) counts (breached months per year, uint8), exact to 2^-32 in probability.

    One 32-bit uniform per count, resolved by a 65 536-entry lookup table (4x faster than
    ``Generator.binomial``); the few uniforms in a bucket holding a CDF step are resolved
    against the exact CDF.
    """
    if q <= 0:
        return np.zeros(shape, dtype=np.uint8)
    if q >= 1:
        return np.full(shape, trials, dtype=np.uint8)
    table, edges = _binomial_table(float(q), trials)
    # raw 64-bit outputs split in two: on little-endian machines the same numbers as
    # rng.integers(0, 2**32, shape, dtype=np.uint32) from a fresh generator, ~30 % faster
    size = math.prod(shape)
    r = rng.bit_generator.random_raw((size + 1) // 2).view(np.uint32)[:size].reshape(shape)
    k = np.take(table, r.view(np.uint16)[..., _HIGH_HALF::2])  # r >> 16 without a temporary
    amb = np.flatnonzero(k == 255)
    if amb.size:
        k.ravel()[amb] = np.searchsorted(edges, r.ravel()[amb].astype(float), side="right")
    return k


def _event_summary(spec: tuple, draws: np.ndarray, years: int) -> np.ndarray:
    """One number per draw for sensitivity: failed within horizon / breached months / loss."""
    if spec[0] == "failure":
        return (draws <= years).astype(float)
    return draws.sum(axis=1)


def _parse_precision(precision: Any) -> dict | None:
    if precision is None:
        return None
    if isinstance(precision, (int, float)) and not isinstance(precision, bool):
        precision = {"rel": float(precision)}
    if not isinstance(precision, Mapping):
        raise TypeError("precision must be None, a relative tolerance (float) or a dict with keys "
                        "rel, stat, level, metric")
    unknown = set(precision) - {"rel", "stat", "level", "metric"}
    if unknown:
        raise ValueError(f"precision: unknown key(s) {sorted(unknown)}; valid: rel, stat, level, metric")
    out = {"rel": 0.01, "stat": "mean", "level": 0.95, "metric": "total", **precision}
    if not 0 < float(out["rel"]) < 1:
        raise ValueError(f"precision rel must lie in (0, 1), got {out['rel']}")
    if out["stat"] not in _STATS:
        raise ValueError(f"precision stat must be one of {', '.join(_STATS)}, got {out['stat']!r}")
    if not 0 < float(out["level"]) < 1:
        raise ValueError(f"precision level must lie in (0, 1), got {out['level']}")
    if out["metric"] not in ("total", "npv"):
        raise ValueError(f"precision metric must be 'total' or 'npv', got {out['metric']!r}")
    return out


def half_width(x: np.ndarray, stat: str, level: float) -> tuple[float, float]:
    """(estimate, confidence half-width) of *stat* of *x*.

    Mean: normal interval ``z s / sqrt(n)``; percentile ``p``: distribution-free interval
    between the order statistics ``n p -/+ z sqrt(n p (1 - p))`` (half its width).
    """
    n = x.size
    z = float(special.ndtri(0.5 + level / 2))
    if stat == "mean":
        return float(x.mean()), z * float(x.std(ddof=1)) / math.sqrt(n)
    p = int(stat[1:]) / 100.0
    d = z * math.sqrt(n * p * (1 - p))
    lo = int(max(0, math.floor(n * p - d)))
    hi = int(min(n - 1, math.ceil(n * p + d)))
    part = np.partition(x, [lo, hi])
    return float(np.quantile(x, p)), 0.5 * float(part[hi] - part[lo])


def simulate(scenarios: SourcingScenario | Iterable[SourcingScenario] | Mapping[str, SourcingScenario],
             n: int = 100_000, seed: int | np.random.SeedSequence | None = None, sampling: str = "mc",
             budget: float | None = None, *, chunk_size: int = 16_384, precision: Any = None,
             progress: bool = False, correlation: Any = None, copula: str = "gaussian",
             sensitivity_draws: int = 100_000) -> SimulationResult:
    """Monte Carlo simulation of the cost of sourcing scenarios over the contract horizon.

    Parameters
    ----------
    scenarios : SourcingScenario or list/dict of them
        Same horizon for all.
    n : int
        Number of draws (the maximum when *precision* is given).
    seed : int, SeedSequence or None
        Same seed, inputs, *chunk_size* and *sampling* -> identical numbers.
    sampling : {"mc", "lhs", "sobol"}
        Plain Monte Carlo, Latin hypercube (stratified within each chunk) or scrambled Sobol
        for the correlatable inputs; event streams (failures, SLA breaches, incidents) are always
        plain Monte Carlo.
    budget : float, optional
        Budget for the whole horizon [tender currency, undiscounted]; gives ``P(total > budget)``.
    chunk_size : int
        Draws per chunk (working memory ~ chunk_size x (inputs + events) x years x 8 B).  The
        numbers depend on it: keep it fixed to reproduce a run.
    precision : float or dict, optional
        Stopping rule checked after each chunk: stop when the *level* confidence half-width of
        *stat* (``mean``, ``p5`` ... ``p95``) of every scenario's *metric* (``total`` or ``npv``)
        is within *rel* of its estimate, e.g. ``{"rel": 0.005, "stat": "p90"}``; a float is
        ``rel`` for the mean at 95 %.
    progress : bool
        Show a tqdm bar.
    correlation : None, False, dict or DataFrame
        Spearman rank correlations between named inputs (see ``result.input_names``): ``None`` uses
        :data:`DEFAULT_CORRELATION`, ``False`` makes inputs independent; a dict maps
        ``(input, input)`` to rho.
    copula : {"gaussian", "iman-conover"}
        How correlations are imposed (see :mod:`sourcing.simulation.correlation`).
    sensitivity_draws : int
        Draws whose inputs are kept for tornado charts.

    Returns
    -------
    SimulationResult
    """
    t0 = time.perf_counter()
    scens = _as_list(scenarios)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 2:
        raise ValueError(f"chunk_size must be an integer >= 2, got {chunk_size!r}")
    if sampling not in METHODS:
        raise ValueError(f"unknown sampling {sampling!r}; valid choices: {', '.join(METHODS)}")
    if copula not in COPULAS:
        raise ValueError(f"unknown copula {copula!r}; valid choices: {', '.join(COPULAS)}")
    if budget is not None and not (isinstance(budget, (int, float)) and not isinstance(budget, bool)
                                   and math.isfinite(budget) and budget > 0):
        # a budget of 0 or less is a typo: every option would exceed it with certainty
        raise ValueError(f"budget must be a finite amount > 0 (tender currency), got {budget!r}")
    prec = _parse_precision(precision)
    n = int(n)
    chunk_size = int(chunk_size)
    years = scens[0].years
    inputs, events, in_maps, ev_maps = _collect(scens)
    keys = list(inputs)
    corr = _correlation_matrix(correlation, keys)
    source = UniformSource(keys, method=sampling, seed=seed)
    linked = np.array([], dtype=np.intp)
    if corr is not None:
        linked = np.flatnonzero((np.abs(corr - np.eye(len(keys))) > 0).any(axis=1))
        if linked.size == 0:
            corr = None
    n_sens = min(int(sensitivity_draws), n)
    S, D = len(scens), len(DRIVERS)
    cash = np.empty((S, n, years), dtype=np.float32)
    drivers = np.empty((S, n, D), dtype=np.float32)
    sens_names = keys + list(events)
    sens = np.empty((n_sens, len(sens_names)), dtype=np.float32)
    disc = [s.discount_factors() for s in scens]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n, unit="draw", desc="simulate")
    done, chunk, stopped = 0, 0, False
    while done < n:
        m = min(chunk_size, n - done)
        u = source.block(chunk, m)
        scores: dict[str, np.ndarray] = {}
        if corr is not None:  # only the inputs with some correlation go through the copula
            sub = u[:, linked]
            if copula == "gaussian":  # marginals take the normal scores (no Phi, Phi^-1 round trip)
                zt = gaussian_scores(sub, corr[np.ix_(linked, linked)]).T
                scores = {keys[j]: zt[r] for r, j in enumerate(linked)}
            else:
                sub = iman_conover(sub, corr[np.ix_(linked, linked)],
                                   rng=source.rng(chunk, "__iman_conover__"))
                u[:, linked] = np.clip(sub, 2.0 ** -53, 1 - 2.0 ** -53)
        ut = np.ascontiguousarray(u.T)  # one contiguous row per input (no copy for "mc")
        x = {k: inputs[k]._ppf_z(scores[k]) if k in scores else inputs[k].ppf(ut[j])
             for j, k in enumerate(keys)}
        ev = {k: _event_draws(spec, m, years, source.rng(chunk, k)) for k, spec in events.items()}
        for i, s in enumerate(scens):
            xs = {own: x[g] for own, g in in_maps[i].items()}
            es = {own: ev[g] for own, g in ev_maps[i].items()}
            c, d = s.evaluate(xs, es, m, dtype=np.float32)
            cash[i, done:done + m] = c
            drivers[i, done:done + m] = d
        if done < n_sens:
            r = min(m, n_sens - done)
            cols = [x[k][:r] for k in keys] + [
                _event_summary(events[k], ev[k][:r], years) for k in events]
            if cols:
                sens[done:done + r] = np.column_stack(cols)
        done += m
        chunk += 1
        if bar is not None:
            bar.update(m)
        if prec is not None and done < n:
            ok = True
            for i in range(S):
                y = cash[i, :done].astype(np.float64)
                metric = y.sum(axis=1) if prec["metric"] == "total" else y @ disc[i]
                est, hw = half_width(metric, prec["stat"], prec["level"])
                if hw > prec["rel"] * abs(est):
                    ok = False
                    break
            if ok:
                stopped = True
                break
    if bar is not None:
        bar.close()
    if done < n:
        cash, drivers = cash[:, :done].copy(), drivers[:, :done].copy()
        sens = sens[:min(n_sens, done)].copy()
    inputs_df = pd.DataFrame(sens, columns=sens_names)
    uses = {s.name: [in_maps[i][k] for k in in_maps[i]] + [ev_maps[i][k] for k in ev_maps[i]]
            for i, s in enumerate(scens)}
    meta = {
        "n": done, "n_requested": n, "seed": seed, "entropy": source.entropy, "sampling": sampling,
        "chunk_size": chunk_size, "copula": copula if corr is not None else None,
        "stopped_by_precision": stopped, "precision": prec, "seconds": time.perf_counter() - t0,
    }
    return SimulationResult(
        names=[s.name for s in scens], cash=cash, drivers=drivers, driver_names=DRIVERS,
        discount=np.array(disc), inputs=inputs_df, uses=uses, budget=budget,
        currency=scens[0].currency, meta=meta, scenarios=scens,
        correlation=None if corr is None else pd.DataFrame(corr, index=keys, columns=keys),
    )


def swing_table(result: SimulationResult, scenario: str | None = None, *, low: float = 0.1,
                high: float = 0.9, n: int = 4096, seed: int = 0, metric: str = "total") -> pd.DataFrame:
    """One-at-a-time swing: expected cost with one input at its *low* / *high* quantile.

    For each correlatable input of *scenario*, the model is run on *n* draws (common random
    numbers) with that input fixed at its *low* (resp. *high*) quantile and all other inputs
    drawn independently from their marginals; the table gives the mean *metric* [tender currency] at both
    ends, sorted by swing.  ``base`` is the mean with nothing fixed.
    """
    if not 0 < low < high < 1:
        raise ValueError(f"need 0 < low < high < 1 (quantiles), got low={low}, high={high}")
    if metric not in ("total", "npv"):
        raise ValueError(f"metric must be 'total' or 'npv', got {metric!r}")
    names = result.names
    scenario = names[0] if scenario is None else scenario
    if scenario not in names:
        raise ValueError(f"unknown scenario {scenario!r}; valid: {', '.join(names)}")
    s = result.scenarios[names.index(scenario)]
    inputs, events = s.inputs(), s.events()
    keys = list(inputs)
    src = UniformSource(keys, method="mc", seed=seed)
    u = src.block(0, n)
    x = {k: inputs[k].ppf(u[:, j]) for j, k in enumerate(keys)}
    ev = {k: _event_draws(spec, n, s.years, src.rng(0, k)) for k, spec in events.items()}
    df = s.discount_factors()

    def run(xs: dict) -> float:
        c, _ = s.evaluate(xs, ev, n)
        return float((c.sum(axis=1) if metric == "total" else c @ df).mean())

    base = run(x)
    rows = []
    for k in keys:
        d = inputs[k]
        if d.var == 0:
            continue
        lo_v, hi_v = float(d.ppf(np.array([low]))[0]), float(d.ppf(np.array([high]))[0])
        lo = run({**x, k: np.full(n, lo_v)})
        hi = run({**x, k: np.full(n, hi_v)})
        rows.append({"input": k, "low_value": lo_v, "high_value": hi_v, f"{metric}_at_low": lo,
                     f"{metric}_at_high": hi, "swing": abs(hi - lo)})
    out = pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update({"base": base, "scenario": scenario, "metric": metric, "low": low, "high": high,
                      "currency": s.currency})
    return out
