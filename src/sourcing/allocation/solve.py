"""The allocate API: validate, build, solve and read back an award.

:func:`allocate` is the public entry; :func:`solve_instance` does the work on a prepared
:class:`~sourcing.allocation._data.Instance` (also for the frontier and the rule costs): the model
of :mod:`~sourcing.allocation.model`, the search of :mod:`~sourcing.allocation.search`, a second
opinion on infeasibility, snapping of solver noise, the tie-break and the shadow prices.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from ._data import Instance, make_instance
from ._solvers import SOLVERS, SolveInfo, solve_arrays
from .arrays import LE, ArrayModel, Block, block
from .award import (
    Award,
    award_from_volumes,
    cheapest_segments,
    lot_names,
    segments_from_volumes,
    vendor_names,
    violations,
    volumes_of,
)
from .model import OBJECTIVES, build_model, cost_reference, scope_label, start_vector
from .policy import Policy
from .search import solve_pipeline

__all__ = ["allocate", "solve_instance"]

def _values(model: ArrayModel) -> tuple[np.ndarray, np.ndarray]:
    """Segment values, cleaned of solver noise: volume only on used segments, and volumes below
    1e-7 of the lot's demand (with no least volume) set to zero."""
    inst = model.inst
    sx = model.values[model.cols("x")].copy()
    sz = np.round(model.values[model.cols("z")])
    tiny = sx < 1e-7 * inst.demand[inst.bid_lot[inst.seg_bid]]
    sx[(sz < 0.5) | (tiny & (inst.seg_lo <= 0))] = 0.0
    sz[sx <= 0] = 0.0
    return np.clip(sx, inst.seg_lo * sz, inst.seg_hi), sz


def _shadow_prices(model: ArrayModel, solver: str, *, time_limit: float | None = None) -> pd.Series:
    """Duals of rule rows from the LP with every binary fixed at its award value, summed by
    ``rule:scope``; none when that LP does not finish within *time_limit* seconds (what is left
    of the solve's limit: 3.6 s at 6,000 lots)."""
    ints = np.flatnonzero(model.integer)
    info = solve_arrays(model, solver=solver, relax=True, fix=(ints, np.round(model.values[ints])),
                        time_limit=time_limit)
    if info.status != "optimal":
        return pd.Series(dtype=float, name="shadow_price")
    out: dict[str, float] = {}
    for blk, off in model.rule_rows():
        pi = model.duals[off:off + blk.n_rows]
        for i in np.flatnonzero(np.abs(pi) > 1e-9).tolist():
            scope = blk.labels[i] if blk.labels else scope_label(model.inst, blk, int(blk.keys[i]))
            key = f"{blk.rule}:{scope}"
            out[key] = out.get(key, 0.0) + float(pi[i])
    return pd.Series(out, dtype=float, name="shadow_price")



def _check_objective(objective) -> None:
    if isinstance(objective, str):
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}; valid choices: cost, quality, or a "
                             "blend weight in [0, 1]")
    elif isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 <= objective <= 1:
        raise ValueError("objective must be 'cost', 'quality' or a blend weight in [0, 1]")


def allocate(
    tender=None,
    policy: Policy | None = None,
    *,
    lots: pd.DataFrame | None = None,
    bids: pd.DataFrame | None = None,
    vendors: pd.DataFrame | None = None,
    tiers: pd.DataFrame | None = None,
    risk: pd.DataFrame | None = None,
    bundles: pd.DataFrame | None = None,
    discounts: pd.DataFrame | None = None,
    quality=None,
    objective: str | float = "cost",
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float | None = None,
    start: Award | None = None,
    lot_by_lot: bool = True,
) -> Award:
    """Split each lot's demand between vendors at least cost (or best quality) under a policy.

    Parameters
    ----------
    tender : Tender, optional
        Source of lots, bids, tiers, vendors and risk; any table given by keyword replaces the
        tender's.  Without a tender, ``lots`` and ``bids`` are required (columns as in
        ``sourcing.schemas.TABLES``).
    policy : Policy, optional
        Sourcing rules; default ``Policy()`` (demand met exactly, nothing else).
    quality : Series or Evaluation-like, optional
        Quality per vendor, 0-100 (Series by vendor_id), or an object with ``.quality`` (Series)
        and ``.excluded`` (DataFrame indexed by vendor_id with column ``reason``); excluded
        vendors get no volume.  Needed by ``quality_floor`` and quality objectives.
    objective : "cost", "quality" or float in [0, 1]
        ``cost`` minimises total annual cost (tender currency per year); ``quality`` maximises
        lot-average volume-weighted quality subject to the rules (use ``Policy.budget``); a float
        ``w`` minimises ``(1 - w) cost / C - w quality / 100`` with C = demand x cheapest base price.
    solver : {"highs", "cbc"}
        HiGHS (highspy, reading the model's arrays) by default; if it ends with an error, CBC is
        tried (through the PuLP problem, ``Award.model``).
    time_limit : float, optional
        Seconds per solve; the award then reports the incumbent, bound and gap.
    mip_gap : float, optional
        Relative optimality gap at which to stop (0 for a proof of optimality).
    start : Award, optional
        A warm start: its volumes are offered to the solver as a MIP start when they satisfy
        every rule of *policy* (e.g. the award of a stricter policy).
    bundles, discounts : DataFrame, optional
        Package bids and conditional discounts (columns as the tender's ``bundles`` and
        ``discounts`` tables), replacing the tender's.
    lot_by_lot : bool
        With package bids or conditional discounts, first solve the award from the lot bids alone
        (same policy and time limit), for ``Award.lot_by_lot_cost`` (what the synergies saved) and
        as a start of the award with them, which then never costs more.

    Returns
    -------
    Award
        Never raises for an infeasible policy: ``status == "infeasible"`` (confirmed by a second
        opinion: an infeasible LP relaxation, or the other solver) and ``diagnosis`` explains in
        words which rules conflict.  ``Award.model`` is the PuLP problem solved.

    Notes
    -----
    Solve steps: the first award (:func:`~sourcing.allocation.search.first_award`: each lot
    filled under its own rules, rules across lots mended by refilling lots, what is left
    repaired as a MILP over the lots it reaches; :mod:`~sourcing.allocation.heuristic`) is the
    MIP start; models with more than 300 price segments then get an LP-support neighbourhood
    search (the MILP restricted to the bids the LP relaxation uses, plus an LP rounding) and
    fix-and-optimise by blocks of lots; the full MILP runs last from the best start.  Models with
    more than 50,000 segments and a time limit skip the full MILP (it would not pass its root in
    time): their bound is the Lagrangian bound by lots (:mod:`~sourcing.allocation.bound`), one
    small MILP per lot with the rules that span lots priced by the LP's duals, or the knapsack
    bound when the LP relaxation does not finish in its share of the time.  HiGHS runs single-threaded
    with a fixed seed, so the same inputs give the same award when the solve finishes
    (optimal or within ``mip_gap``); an award cut short by ``time_limit`` depends on machine
    speed.  Among equally cheap awards the tie-break (``Policy.tie_break``) picks one by vendor
    order, on the optimal face; volumes within solver tolerance of a bound or a whole number are
    then snapped to it when every rule still holds.  One-off costs are annualised as
    ``Policy.one_off`` says (default: divided by the contract years).
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; valid choices: {', '.join(SOLVERS)}")
    _check_objective(objective)
    if time_limit is not None and not time_limit > 0:
        raise ValueError("time_limit must be > 0 seconds")
    if mip_gap is not None and not 0 <= mip_gap < 1:
        raise ValueError("mip_gap must be in [0, 1)")
    if start is not None and not isinstance(start, Award):
        raise TypeError(f"start must be an Award (a warm start), got {type(start).__name__}")
    t0 = time.perf_counter()
    policy = policy if policy is not None else Policy()
    tables = dict(lots=lots, bids=bids, vendors=vendors, tiers=tiers, risk=risk, quality=quality,
                  need_quality=objective != "cost")
    inst = make_instance(tender, policy, bundles=bundles, discounts=discounts, **tables)
    currency = inst.currency
    starts = [s for s in [warm_start(inst, policy, start)] if s is not None] if start is not None else []
    alone = None
    if inst.expressive and lot_by_lot and objective == "cost":
        # the best award from the lot bids alone, first: its cost is what the synergies are
        # measured against, and it is a feasible start of the award with packages and discounts
        # (so that one never costs more, whatever the time limit)
        none = pd.DataFrame()
        plain = make_instance(tender, policy, bundles=none, discounts=none, **tables)
        alone = solve_instance(plain, policy, solver=solver, time_limit=time_limit, mip_gap=mip_gap,
                               currency=currency)
        starts += [s for s in [warm_start(inst, policy, alone)] if s is not None]
    award = solve_instance(inst, policy, objective=objective, solver=solver, time_limit=time_limit,
                           mip_gap=mip_gap, currency=currency, t0=None if alone is not None else t0,
                           starts=starts)
    if alone is not None and award.feasible:
        award.lot_by_lot_cost = float(alone.cost["total"]) if alone.feasible else float("nan")
    award.names = vendor_names(tender, vendors)
    award.lot_names = lot_names(tender)
    return award


def warm_start(inst: Instance, policy: Policy, award: Award | None):
    """Segment values ``(x, z)`` of *award*'s volumes on *inst*, or None when they break a rule of
    *policy* (or there is no award)."""
    if award is None or not award.feasible:
        return None
    vol = award.volumes.reindex(index=inst.vendor_ids, columns=inst.lot_ids).fillna(0.0).to_numpy(float)
    if violations(inst, policy, vol, atol=1e-7):
        return None
    return segments_from_volumes(inst, vol)


def solve_instance(inst: Instance, policy: Policy, *, objective="cost", solver="highs", time_limit=None,
                   mip_gap=None, currency: str | None = None, t0=None, starts=(),
                   extra: list[Block] | None = None,
                   use_greedy: bool = True) -> Award:
    """Build, solve and read back the award of *inst* (what :func:`allocate` does after
    validation).  *starts* are feasible segment values offered as MIP starts; *extra* are rows
    added to the model (e.g. an epsilon constraint; the greedy start is then not used)."""
    t0 = time.perf_counter() if t0 is None else t0
    currency = inst.currency if currency is None else currency
    ref = cost_reference(inst)
    model = build_model(inst, policy, objective=objective, cost_ref=ref)
    for blk in extra or []:
        model.add_block(blk)
    use_greedy = use_greedy and not extra
    info, heur, remaining = solve_pipeline(model, solver=solver, time_limit=time_limit, mip_gap=mip_gap,
                                           t0=t0, starts=starts, use_greedy=use_greedy)

    def finish(award):
        award.solve_time = time.perf_counter() - t0
        award._arrays = model
        return award

    if info.status in ("infeasible", "no solution", "error") and heur is not None:
        # the first award is feasible: the solver's word is not the last one
        info = SolveInfo("heuristic", np.nan, info.bound, np.nan, info.time, info.solver)
        award = award_from_volumes(inst, policy, *heur, info=info, currency=currency)
        award.objective = float(award.cost["total"])
        return finish(award)
    if info.status == "infeasible":
        other = "cbc" if info.solver == "highs" else "highs"
        lp = solve_arrays(model, solver="highs", relax=True)
        second = lp if lp.status == "infeasible" else solve_arrays(
            model, solver=other, time_limit=max(remaining or 30.0, 5.0))
        if second.status not in ("infeasible",):
            info = SolveInfo("no solution" if not second.has_solution else second.status,
                             second.objective, second.bound, second.gap, info.time + second.time,
                             f"{info.solver}+{second.solver}")
            if second.has_solution:
                award = award_from_volumes(inst, policy, *_values(model), info=info, currency=currency)
                return finish(award)
    if not info.has_solution and info.status != "infeasible" and not model.n_cols:
        # every bid was pruned before the solve (exclusions, share caps): with demand > 0 there is
        # nothing to award, whatever the solver said of an empty model
        info = SolveInfo("infeasible", np.nan, np.nan, np.nan, info.time, info.solver)
    if not info.has_solution:
        from .diagnose import diagnose

        text = diagnose(inst, policy, currency=currency) if info.status == "infeasible" else (
            f"no award found ({info.status}); raise time_limit or relax the policy")
        zeros = np.zeros(len(inst.seg_bid))
        award = award_from_volumes(inst, policy, zeros, zeros, info=info, currency=currency,
                                   diagnosis=text)
        # no award, no cost: zero volumes would otherwise "cost" the switching away from incumbents
        award.cost = award.cost * np.nan
        award.one_off = award.one_off * np.nan
        return finish(award)
    sx, sz = snap(inst, policy, *_values(model), extra=extra, model=model)
    if not extra:
        sx, sz = cheapest_segments(inst, sx, sz)
    if policy.tie_break and info.status == "optimal" and objective == "cost" and not extra:
        sx, sz = _tie_break(model, info, solver, sx, sz, time_limit=remaining)
    model.values = start_vector(model, sx, sz)
    shadow = _shadow_prices(model, solver, time_limit=remaining)
    model.values = start_vector(model, sx, sz)
    award = award_from_volumes(inst, policy, sx, sz, info=info, currency=currency, shadow=shadow)
    return finish(award)


def _tie_break(model: ArrayModel, info: SolveInfo, solver: str, sx, sz, *, time_limit):
    """Second lexicographic objective, on the optimal face.

    Among awards whose cost is at most the optimum plus the solver's tolerance (1e-10 relative,
    1e-6 absolute), put volume with vendors earlier in vendor order: minimise sum over bids of
    rank(vendor) x share of lot demand, rank = position in ``vendor_ids`` / number of vendors.
    Solved on a copy of the model's arrays (the original keeps its objective for the shadow
    prices); the tie-broken award is kept only if its exact cost is within that tolerance of the
    optimum, else the first award stands.
    """
    inst = model.inst
    first = start_vector(model, sx, sz)
    opt = model.cost_at(first)
    tol = max(1e-10 * abs(opt), 1e-6)
    coef, const = model.costs["total"]
    nz = np.flatnonzero(coef)
    primary = block("tie_break_primary", "all", [0], np.zeros(len(nz)), nz, coef[nz], LE,
                    opt + tol - const, names=("tie_break_primary",), structural=True)
    S = len(inst.seg_bid)
    rank = np.zeros(model.n_cols)
    rank[:S] = (inst.bid_vendor[inst.seg_bid].astype(float) / max(inst.n_vendors, 1)
                / inst.demand[inst.bid_lot[inst.seg_bid]])
    tb = dataclasses.replace(model, blocks=[*model.blocks, primary], c=rank, c0=0.0, maximize=False,
                             values=None, duals=None, _csr=None, _pulp=None)
    second = solve_arrays(tb, solver=solver, time_limit=time_limit, mip_gap=1e-9, start=first)
    if not second.has_solution:
        return sx, sz
    x2, z2 = snap(inst, model.policy, *_values(tb))
    if violations(inst, model.policy, volumes_of(inst, x2), atol=1e-9):
        return sx, sz  # the second solve leant on the solver's feasibility tolerance
    if model.cost_at(start_vector(model, x2, z2)) > opt + tol:
        return sx, sz
    return x2, z2



def snap(inst: Instance, policy: Policy, sx: np.ndarray, sz: np.ndarray, *, extra=None, model=None,
         rtol: float = 1e-6):
    """Volumes within solver tolerance (``rtol`` x the lot's demand) of a segment bound or a whole
    number, snapped to it (700.00047 -> 700).

    A lot whose demand must be met exactly is rebalanced on its largest unsnapped volume; every
    rule is re-checked after snapping (:func:`violations`, and the *extra* rows of *model*), and
    the total cost may move by at most 1e-7 (relative) -- otherwise the volumes are returned as
    they were.
    """
    on = sz > 0.5
    if not on.any():
        return sx, sz
    seg_l = inst.bid_lot[inst.seg_bid]
    d = inst.demand[seg_l]
    tol = rtol * np.maximum(d, 1.0)
    x = sx.copy()
    snapped = np.zeros(len(x), bool)
    for target in (inst.seg_lo, inst.seg_hi, np.round(sx)):
        close = on & ~snapped & (np.abs(x - target) <= tol) & (x != target)
        x[close] = target[close]
        snapped |= on & (np.abs(x - target) <= 0)
    if np.array_equal(x, sx):
        return sx, sz
    if policy.demand == "exact" and policy.demand_tolerance_pct == 0:
        got = np.zeros(inst.n_lots)
        np.add.at(got, seg_l, x)
        for j in np.flatnonzero(np.abs(got - inst.demand) > 0).tolist():
            free = np.flatnonzero(on & (seg_l == j) & ~snapped)
            if not len(free):
                free = np.flatnonzero(on & (seg_l == j) & (x != sx))
            if not len(free):
                continue
            s = free[np.argmax(x[free])]
            x[s] += inst.demand[j] - got[j]
    if ((x < inst.seg_lo - 1e-12) & on).any() or ((x > inst.seg_hi + 1e-12) & on).any():
        return sx, sz
    if violations(inst, policy, volumes_of(inst, x), atol=1e-9):
        return sx, sz
    before = float(award_from_volumes(inst, policy, sx, sz, check=False).cost["total"])
    after = float(award_from_volumes(inst, policy, x, sz, check=False).cost["total"])
    if abs(after - before) > 1e-7 * max(abs(before), 1.0):
        return sx, sz
    if extra and model is not None:
        act = model.activities(start_vector(model, x, sz))
        off = model.row_offsets()
        for blk, o in zip(model.blocks, off, strict=False):
            if any(blk is e for e in extra):
                a = act[o:o + blk.n_rows]
                bad = ((blk.sense >= 0) & (a < blk.rhs - 1e-9 * np.maximum(np.abs(blk.rhs), 1))) | (
                    (blk.sense <= 0) & (a > blk.rhs + 1e-9 * np.maximum(np.abs(blk.rhs), 1)))
                if bad.any():
                    return sx, sz
    return x, sz

