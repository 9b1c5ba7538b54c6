"""Variance-based sensitivity of the contract costs: Sobol indices by SALib, and stress analysis.

:func:`sobol_indices` is the generic step: a Saltelli design of the unit hypercube
(``SALib.sample.sobol``, scrambled Sobol points, ``N (G + 2)`` rows for ``G`` groups), the model
evaluated on it, and first-order and total indices with bootstrap confidence intervals
(``SALib.analyze.sobol``; Saltelli 2010 and Jansen 1999 estimators).

:func:`contract_sobol` applies it to the sourcing options of a simulation, with the
simulation's own distributions, correlations and event streams:

* every continuous input (``indexation``, ``growth[L1]``, ``fx[INR]`` ...) is a factor; inputs
  the simulation correlates (price indexation and wage inflation, co-moving currencies) form
  **one group**, sampled together through the same Gaussian copula as the simulation (grouped
  Sobol indices: the index of a group is the share of variance due to the group as a whole, which
  stays well defined with correlation inside the group and independence between groups);
* every event stream (a vendor's failure year, an SLA's monthly breaches, a vendor's security
  incidents) is one factor: its draws for the design's ``A`` and ``B`` matrices are generated
  once, and each row takes the stream from the matrix the design says;
* the outputs are each option's contract cost (undiscounted total, tender currency) and the
  difference between pairs of options (e.g. the recommended option minus the runner-up).

:func:`stress` reads a simulation's draws: the cost of every option in the draws where one input
is in its worst decile for the option in question (no new simulation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SobolResult", "contract_sobol", "sobol_indices", "stress"]

_EPS = 2.0 ** -53


@dataclass(frozen=True)
class SobolResult:
    """First-order and total Sobol indices of one or more outputs.

    Attributes
    ----------
    indices : DataFrame
        Indexed by (output, factor): ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (the conf columns
        are the half-widths of the bootstrap confidence interval at ``level``).
    n : int
        Base samples N (the model ran ``N (G + 2)`` times).
    level : float
    groups : dict
        Factor -> the inputs it holds (one for an uncorrelated input or an event stream).
    """

    indices: pd.DataFrame
    n: int
    level: float
    groups: dict[str, list[str]]

    def of(self, output: str) -> pd.DataFrame:
        """The indices of one output, factors by total index, largest first."""
        return self.indices.xs(output, level="output").sort_values("ST", ascending=False)


def sobol_indices(model: Callable[[np.ndarray], np.ndarray], names: Sequence[str], *,
                  groups: Sequence[str] | None = None, n: int = 4096, seed: int | None = None,
                  level: float = 0.95, resamples: int = 200,
                  outputs: Sequence[str] | None = None) -> SobolResult:
    """Sobol indices of *model* on the unit hypercube, by SALib.

    Parameters
    ----------
    model : callable
        ``model(U)`` with ``U`` of shape (rows, len(names)), uniform on [0, 1); returns the
        output(s), shape (rows,) or (rows, K).
    names : sequence of str
        One per column of ``U``.
    groups : sequence of str, optional
        The group of each column (grouped indices); default one group per column.
    n : int
        Base samples N, a power of 2 (Sobol points).
    seed : int, optional
        Seed of the design's scrambling and of the bootstrap.
    level : float
        Confidence level of the bootstrap intervals.
    resamples : int
        Bootstrap resamples.
    outputs : sequence of str, optional
        Names of the K outputs (default ``y0``, ``y1``, ...).

    Returns
    -------
    SobolResult
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    if n < 2 or n & (n - 1):
        raise ValueError(f"n must be a power of 2 (Sobol points), got {n}")
    names = [str(x) for x in names]
    problem: dict[str, Any] = {"num_vars": len(names), "names": names,
                               "bounds": [[0.0, 1.0]] * len(names)}
    factors = list(dict.fromkeys(groups)) if groups is not None else names
    if groups is not None:
        if len(groups) != len(names):
            raise ValueError("groups: one group per column")
        problem["groups"] = [str(g) for g in groups]
    u = sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    y = np.asarray(model(np.clip(u, _EPS, 1.0 - _EPS)), dtype=float)
    y = y[:, None] if y.ndim == 1 else y
    labels = list(outputs) if outputs is not None else [f"y{k}" for k in range(y.shape[1])]
    if len(labels) != y.shape[1]:
        raise ValueError(f"{len(labels)} output names for {y.shape[1]} outputs")
    frames = []
    for k, label in enumerate(labels):
        yk = y[:, k]
        if not np.ptp(yk) > 0:  # a constant output: no variance to share out
            res = {c: np.zeros(len(factors)) for c in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            res = analyze.analyze(problem, yk, calc_second_order=False, num_resamples=resamples,
                                  conf_level=level, print_to_console=False, seed=seed)
        frames.append(pd.DataFrame({c: np.asarray(res[c], dtype=float)
                                    for c in ("S1", "S1_conf", "ST", "ST_conf")},
                                   index=pd.MultiIndex.from_product([[label], factors],
                                                                    names=["output", "factor"])))
    members = {f: [nm for nm, g in zip(names, groups or names, strict=True) if g == f] for f in factors}
    return SobolResult(pd.concat(frames), n, level, members)


def contract_sobol(options: Sequence[Any], *, n: int = 4096, seed: int | None = None,
                   differences: Sequence[tuple[str, str]] = (), correlation: Any = None,
                   level: float = 0.95, resamples: int = 200) -> SobolResult:
    """Sobol indices of the options' contract costs over the simulation's uncertain inputs.

    Parameters
    ----------
    options : sequence of sourcing.simulation.SourcingScenario
        The sourcing options, as :func:`~sourcing.simulation.simulate` takes them.
    n : int
        Base samples N (power of 2); the contract model runs ``N (G + 2)`` times per option.
    seed : int, optional
    differences : sequence of (str, str)
        Pairs of option names whose cost difference (first minus second) is an output too,
        named ``"A - B"``.
    correlation : None, False, dict or DataFrame
        As for :func:`~sourcing.simulation.simulate` (None: its default correlations).
    level, resamples
        Bootstrap confidence level and resamples.

    Returns
    -------
    SobolResult
        Outputs: each option's name, then each difference.  Factors: continuous inputs (a
        correlated set as one group named ``"a + b"``) and event streams, by their input names.
    """
    from .correlation import gaussian_scores
    from .engine import _as_list, _collect, _correlation_matrix, _event_draws

    scens = _as_list(list(options))
    known = {s.name for s in scens}
    for a, b in differences:
        if a not in known or b not in known:
            raise ValueError(f"differences name unknown options {a!r}, {b!r}; options: "
                             + ", ".join(sorted(known)))
    inputs, events, in_maps, ev_maps = _collect(scens)
    keys, streams = list(inputs), list(events)
    corr = _correlation_matrix(correlation, keys)
    # groups: the connected sets of correlated inputs; every other input and stream alone
    group_of = {k: k for k in keys}
    if corr is not None:
        for i in range(len(keys)):
            for j in range(i + 1, len(keys)):
                if abs(corr[i, j]) > 0:
                    gi, gj = group_of[keys[i]], group_of[keys[j]]
                    for k, g in group_of.items():
                        if g == gj:
                            group_of[k] = gi
    labels = {g: " + ".join(k for k in keys if group_of[k] == g) for g in set(group_of.values())}
    names = keys + streams
    groups = [labels[group_of[k]] for k in keys] + streams
    n_factors = len(dict.fromkeys(groups))
    years = scens[0].years
    rng = np.random.default_rng(seed)
    base = {k: (_event_draws(events[k], n, years, rng), _event_draws(events[k], n, years, rng))
            for k in streams}  # each stream's draws for the A and the B matrix

    def model(u: np.ndarray) -> np.ndarray:
        rows = u.shape[0]
        block = n_factors + 2
        j = np.arange(rows) // block
        x: dict[str, np.ndarray] = {}
        if corr is not None:
            linked = np.flatnonzero((np.abs(corr - np.eye(len(keys))) > 0).any(axis=1))
            z = gaussian_scores(u[:, linked], corr[np.ix_(linked, linked)]).T
            for r, c in enumerate(linked):
                x[keys[c]] = inputs[keys[c]]._ppf_z(z[r])
        for c, k in enumerate(keys):
            if k not in x:
                x[k] = inputs[k].ppf(u[:, c])
        ev = {}
        for s, k in enumerate(streams):
            col = u[:, len(keys) + s]
            from_b = col == col[j * block + block - 1]  # the design took this factor from B
            a, b = base[k]
            ev[k] = np.where(from_b[:, None] if a.ndim == 2 else from_b, b[j], a[j])
        out = np.empty((rows, len(scens) + len(differences)))
        for i, s in enumerate(scens):
            xs = {own: x[g] for own, g in in_maps[i].items()}
            es = {own: ev[g] for own, g in ev_maps[i].items()}
            for start in range(0, rows, 16_384):
                stop = min(rows, start + 16_384)
                c, _ = s.evaluate({k: v[start:stop] for k, v in xs.items()},
                                  {k: v[start:stop] for k, v in es.items()}, stop - start,
                                  dtype=np.float64)
                out[start:stop, i] = c.sum(axis=1)
        idx = {s.name: i for i, s in enumerate(scens)}
        for d, (a, b) in enumerate(differences):
            out[:, len(scens) + d] = out[:, idx[a]] - out[:, idx[b]]
        return out

    outputs = [s.name for s in scens] + [f"{a} - {b}" for a, b in differences]
    return sobol_indices(model, names, groups=groups, n=n, seed=seed, level=level,
                         resamples=resamples, outputs=outputs)


def stress(simulation: Any, inputs: Sequence[str], *, worst: float = 0.10,
           option: str | None = None) -> pd.DataFrame:
    """Each option's cost when one input is at its worst, from the simulation's own draws.

    For each input, the draws (of the first ``sensitivity_draws`` kept with their inputs) where
    the input lies in its worst *worst* share for *option* -- the tail in the direction that
    raises *option*'s cost (by rank correlation) -- and every option's P50, P90 and CVaR95 over
    those draws (tender currency over the contract, undiscounted).

    Parameters
    ----------
    simulation : sourcing.simulation.SimulationResult
    inputs : sequence of str
        Input names (``simulation.input_names``).
    worst : float
        Share of the draws in the stressed tail (0.10: the worst 10 %).
    option : str, optional
        The option whose cost defines "worst" (default the first).

    Returns
    -------
    DataFrame
        Indexed by (input, option): ``p50``, ``p90``, ``cvar95``, ``draws`` (how many draws the
        tail holds), and ``tail`` ("high" or "low": which end of the input is the worst).
    """
    if not 0 < worst < 1:
        raise ValueError(f"worst is a share of the draws in (0, 1), got {worst}")
    frame = simulation.inputs
    unknown = [k for k in inputs if k not in frame.columns]
    if unknown:
        raise ValueError(f"unknown input(s) {unknown}; valid: {', '.join(map(str, frame.columns))}")
    totals = simulation.totals.iloc[:len(frame)]
    ref = option or simulation.names[0]
    rows = []
    for k in inputs:
        x = frame[k].to_numpy(float)
        rho = pd.Series(x).rank().corr(pd.Series(totals[ref].to_numpy()).rank())
        high = not (rho < 0)
        cut = np.quantile(x, 1 - worst if high else worst)
        mask = x >= cut if high else x <= cut
        for name in simulation.names:
            y = np.sort(totals[name].to_numpy(float)[mask])
            tail = y[int(np.floor(0.95 * len(y))):]
            rows.append({"input": k, "option": name, "p50": float(np.median(y)),
                         "p90": float(np.quantile(y, 0.9)),
                         "cvar95": float(tail.mean()) if len(tail) else float("nan"),
                         "draws": int(mask.sum()), "tail": "high" if high else "low"})
    return pd.DataFrame(rows).set_index(["input", "option"])
