"""Risk scenarios for the risk-aware award, drawn from the simulation's own risk model.

:func:`risk_scenarios` draws, with the same distributions and assumptions as the contract model
(:mod:`.contract`), the three inputs that the award's recourse depends on, as plain arrays
(:class:`~sourcing.allocation.risk.RiskScenarios`), so that the allocation never imports the
simulation engine:

* failure year of every vendor ~ Geometric(``risk.failure_prob``) (year 1..T, > T = none);
* price indexation of vendor fees: one rate ``i ~ Assumptions.indexation`` per scenario,
  factor ``(1 + min(i, escalation_cap))^(t-1)``;
* demand growth per lot: ``g ~ PERT(g0 - s, g0, g0 + s)`` around ``lots.demand_growth_pct``
  (``s = growth_spread``, the low end kept above -100 %), factor ``(1 + g)^(t-1)``;

plus the recourse terms: failure cost (exit + replacement onboarding, as the contract model
charges them), ``failure_premium`` and ``warm_switch_share``.

:func:`contract_cost` reads the same contract cost back from a :func:`~sourcing.simulation.simulate`
result (drivers ``service + escalation + vendor_failure`` plus the award's one-off costs), for the
out-of-sample check of a risk-aware award.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..allocation.risk import RiskScenarios
from .assumptions import Assumptions
from .contract import DRIVERS
from .distributions import Constant, _rng, pert
from .options import _check_tender, _risk_table

__all__ = ["RISK_ASSUMPTIONS", "contract_cost", "risk_scenarios"]

#: The assumptions :func:`risk_scenarios` reads (the others change the simulation, not the
#: scenarios of the risk-aware award); the pipeline keys the risk-aware award by these.
RISK_ASSUMPTIONS = ("indexation", "escalation_cap", "growth_spread", "replacement_onboarding",
                    "failure_premium", "warm_switch_share", "failure_factor")


def risk_scenarios(tender: Any, n: int = 500, *, seed: Any = None, assumptions: Assumptions | None = None,
                   years: int | None = None) -> RiskScenarios:
    """Draw *n* risk scenarios (failures, indexation, demand growth) for *tender*.

    Parameters
    ----------
    tender : Tender
    n : int
        Number of scenarios (>= 1).
    seed : int, SeedSequence or None
        Same seed and inputs -> identical scenarios.
    assumptions : Assumptions, optional
        The simulation's assumptions (indexation, escalation_cap, growth_spread,
        failure_premium, replacement_onboarding, warm_switch_share).
    years : int, optional
        Horizon; default the tender's ``contract_years``.

    Returns
    -------
    RiskScenarios
    """
    _check_tender(tender)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an integer >= 1 (number of scenarios), got {n!r}")
    a = assumptions if assumptions is not None else Assumptions.for_tender(tender)
    if not isinstance(a, Assumptions):
        raise TypeError("assumptions must be a sourcing.simulation.Assumptions")
    T = int(tender.contract_years if years is None else years)
    if T < 1:
        raise ValueError(f"years must be >= 1, got {years!r}")
    rng = _rng(None, seed)
    n = int(n)
    lots = tender.lots
    risk = _risk_table(tender, a)
    t = np.arange(T, dtype=float)
    # price indexation, one rate per scenario
    i = np.asarray(a.indexation.sample(n, rng=rng), float)
    index_factor = (1.0 + np.minimum(i, a.escalation_cap))[:, None] ** t[None, :]
    # demand growth per lot, as SourcingScenario.inputs() draws it
    growth = np.empty((n, len(lots)))
    for j, g0 in enumerate(lots["demand_growth_pct"].astype(float).to_numpy() / 100.0):
        s = a.growth_spread
        dist = pert(max(g0 - s, (g0 - 1) / 2), g0, g0 + s) if s > 0 else Constant(g0)
        growth[:, j] = dist.sample(n, rng=rng)
    growth_factor = (1.0 + growth)[:, :, None] ** t[None, None, :]
    # failure year ~ Geometric(h): floor(log U / log(1 - h)) + 1, as the engine draws it
    h = risk["failure_prob"].to_numpy(float)
    u = 1.0 - rng.random((n, len(h)))
    with np.errstate(divide="ignore"):
        fy = np.where(h >= 1, 1.0, np.where(h > 0, np.floor(np.log(u) / np.log1p(-np.minimum(h, 0.999999)))
                                             + 1.0, math.inf))
    repl = a.replacement_onboarding
    if repl is None:
        repl = float(risk["onboarding_cost"].median()) if len(risk) else 0.0
    failure_cost = risk["exit_cost"].to_numpy(float) + float(repl)
    return RiskScenarios(
        vendor_ids=tuple(str(v) for v in risk.index), lot_ids=tuple(str(x) for x in lots.index),
        failure_year=fy, index_factor=index_factor, growth_factor=growth_factor,
        failure_cost=failure_cost, failure_premium=a.failure_premium,
        warm_switch_share=a.warm_switch_share, seed=seed)


def contract_cost(result: Any, scenario: str | None = None, *, one_off: float = 0.0) -> np.ndarray:
    """Per-draw contract cost as the risk-aware award counts it, from a simulation result.

    ``service + escalation + vendor_failure`` drivers of *scenario* (default the first) plus the
    award's deterministic one-off costs *one_off* (``RiskAward.one_off``) [tender currency].
    """
    idx = result._index(scenario) if scenario is not None else 0
    cols = [DRIVERS.index(d) for d in ("service", "escalation", "vendor_failure")]
    return result.drivers[idx][:, cols].astype(np.float64).sum(axis=1) + float(one_off)
