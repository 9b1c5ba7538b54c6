"""Cost-vs-quality Pareto frontier (epsilon-constraint) and the cost of each policy rule."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..present import Names
from ._data import DEFAULT_CURRENCY, make_instance
from ._solvers import COST_TOLERANCE
from .arrays import GE, block
from .award import Award
from .policy import RULES, Policy
from .rules import rule as rule_of
from .solve import allocate, solve_instance, warm_start

__all__ = ["Frontier", "constraint_costs", "frontier"]



@dataclass
class Frontier:
    """Cost-vs-quality Pareto frontier.

    Attributes
    ----------
    points : DataFrame
        One row per point: ``epsilon`` (quality demanded, 0-100), ``quality`` achieved,
        ``cost`` (total, tender currency per year), ``status``, ``pareto`` (not dominated by another point).
    awards : list of Award
        The award at each point, in the order of ``points``.
    currency : str
    """

    points: pd.DataFrame
    awards: list[Award] = field(default_factory=list)
    currency: str = DEFAULT_CURRENCY

    def to_frame(self) -> pd.DataFrame:
        """The points table."""
        return self.points.copy()

    def plot(self, ax=None, *, chosen: Award | None = None):
        """Frontier with the *chosen* award marked; returns the Axes."""
        from ..plots.allocation import plot_frontier

        return plot_frontier(self, ax=ax, chosen=chosen)


def frontier(
    tender=None,
    policy: Policy | None = None,
    *,
    n_points: int = 10,
    quality=None,
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float | None = None,
    **tables,
) -> Frontier:
    """Cost-vs-quality Pareto frontier by the epsilon-constraint method.

    The two ends are the cheapest award (its quality ``q_lo``) and the best-quality award
    (``q_hi``, found by maximising quality).  For ``n_points`` values ``eps`` evenly spaced in
    ``[q_lo, q_hi]``, minimise annual cost subject to the policy and lot-average volume-weighted
    quality >= ``eps``.

    Parameters
    ----------
    n_points : int
        Number of points, >= 2.
    quality : Series or Evaluation-like
        Vendor quality 0-100 (required).
    """
    if not isinstance(n_points, int) or n_points < 2:
        raise ValueError("n_points must be an integer >= 2")
    if quality is None:
        raise ValueError("frontier needs quality scores: pass quality= (Series vendor_id -> 0..100 "
                         "or scoring's Evaluation)")
    policy = policy if policy is not None else Policy()
    kw = dict(quality=quality, solver=solver, time_limit=time_limit, mip_gap=mip_gap, **tables)
    cheapest = allocate(tender, policy, objective="cost", lot_by_lot=False, **kw)
    best_q = allocate(tender, policy, objective="quality", **kw)
    currency = tender.currency if tender is not None else DEFAULT_CURRENCY
    if not (cheapest.feasible and best_q.feasible):
        pts = pd.DataFrame([{"epsilon": np.nan, "quality": np.nan, "cost": np.nan,
                             "status": cheapest.status, "pareto": False}])
        return Frontier(pts, [cheapest], currency)
    inst = make_instance(tender, policy, quality=quality, need_quality=True, **tables)
    q_lo, q_hi = cheapest.quality, best_q.quality
    eps_values = np.linspace(q_lo, q_hi, n_points)
    awards: list[Award | None] = [None] * n_points
    awards[0] = cheapest
    # from the best-quality end down: the award of each point meets every lower epsilon, so it
    # is the warm start of the next point (with the cheapest and best-quality awards)
    above = best_q
    for i in range(n_points - 1, 0, -1):
        t0 = time.perf_counter()
        target = float(min(eps_values[i], q_hi - 1e-6 * max(q_hi, 1)))
        starts = [s for s in (warm_start(inst, policy, above), warm_start(inst, policy, best_q))
                  if s is not None]
        a = solve_instance(inst, policy, objective="cost", solver=solver, time_limit=time_limit,
                           mip_gap=mip_gap, t0=t0, starts=starts, extra=[_epsilon_row(inst, target)])
        awards[i] = a
        if a.feasible and a.quality >= target - 1e-9:
            above = a
    recs = [{"epsilon": float(eps), "quality": a.quality if a.feasible else np.nan,
             "cost": float(a.cost["total"]) if a.feasible else np.nan, "status": a.status}
            for eps, a in zip(eps_values, awards, strict=True)]
    pts = pd.DataFrame(recs)
    c, q = pts["cost"].to_numpy(), pts["quality"].to_numpy()
    dominated = np.array([
        np.any((c <= c[i] + 1e-6) & (q >= q[i] - 1e-9) & ((c < c[i] - 1e-6) | (q > q[i] + 1e-9)))
        for i in range(len(pts))])
    pts["pareto"] = ~dominated & np.isfinite(c)
    return Frontier(pts, awards, currency)


def _epsilon_row(inst, target: float):
    """Lot-average volume-weighted quality at least *target* (points, 0-100): the epsilon row."""
    seg_v = inst.bid_vendor[inst.seg_bid]
    seg_l = inst.bid_lot[inst.seg_bid]
    coef = np.nan_to_num(inst.quality[seg_v]) / (inst.demand[seg_l] * inst.n_lots)
    return block("epsilon_quality", "all", [0], np.zeros(len(coef)), np.arange(len(coef)), coef, GE,
                 target, names=("epsilon_quality",), structural=True)


def constraint_costs(
    tender=None,
    policy: Policy | None = None,
    *,
    rules: list[str] | None = None,
    quality=None,
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float | None = None,
    **tables,
) -> pd.DataFrame:
    """What each rule of the policy costs: re-solve with the rule relaxed, compare annual cost.

    Each re-solve starts from the award under the whole policy (feasible once a rule is relaxed),
    so its cost is never above the base cost.

    Each scoped rule of ``policy.rules`` is a rule of its own, indexed and described by its
    label (its ``name``, or the generated words).

    Returns
    -------
    DataFrame
        Indexed by rule: ``description``, ``cost_with`` and ``cost_without`` (total, tender
        currency per year), ``cost_of_rule`` = cost_with - cost_without (tender currency per year,
        >= 0 up to solver gaps; NaN when either side has no award), ``status_without``.
        ``attrs["currency"]`` is the currency.
    """
    policy = policy if policy is not None else Policy()
    chosen = policy.active_rules() if rules is None else list(rules)
    scoped = policy.scoped_labels()
    bad = [r for r in chosen if r not in RULES and r not in scoped]
    if bad:
        raise ValueError(f"unknown rule(s) {', '.join(bad)}; valid rules: {', '.join([*RULES, *scoped])}")
    kw = dict(quality=quality, solver=solver, time_limit=time_limit, mip_gap=mip_gap, **tables)
    by_label = {r.label: r for r in policy.rules}
    names = Names.of(tender) if tender is not None else None
    base = allocate(tender, policy, lot_by_lot=False, **kw)
    with_cost = float(base.cost["total"]) if base.feasible else np.nan
    recs = []
    for rule in chosen:
        # relaxing a rule keeps the base award feasible: it is the warm start of the re-solve
        relaxed = policy.relaxed(rule)
        a = allocate(tender, relaxed, start=base, lot_by_lot=False, **kw)
        without = float(a.cost["total"]) if a.feasible else np.nan
        if np.isfinite(with_cost):
            # the whole policy's award is feasible without the rule: the optimum without it is
            # never dearer, whatever the re-solve's last bit or time limit says
            without = with_cost if not np.isfinite(without) else min(without, with_cost)
        # a scoped rule is priced on its own, under its label (the buyer's words)
        words = (f"the rule \u201c{by_label[rule].words(names)}\u201d" if rule in scoped
                 else rule_of(rule).description)
        recs.append({"rule": rule, "description": words, "cost_with": with_cost,
                     "cost_without": without, "cost_of_rule": with_cost - without,
                     "status_without": a.status})
    out = pd.DataFrame(recs, columns=["rule", "description", "cost_with", "cost_without",
                                      "cost_of_rule", "status_without"]).set_index("rule")
    # two solves agree only to the solver's tolerance (COST_TOLERANCE of the cost): closer is 0
    noise = COST_TOLERANCE * max(abs(with_cost), 1.0) if np.isfinite(with_cost) else 0.0
    out["cost_of_rule"] = out["cost_of_rule"].mask(out["cost_of_rule"].abs() <= noise, 0.0)
    out.attrs["currency"] = tender.currency if tender is not None else DEFAULT_CURRENCY
    return out
