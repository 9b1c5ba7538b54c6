"""Search heuristics of the award MILP: the solve pipeline that finds good awards fast.

A first award (:func:`first_award`: the construction of :mod:`~sourcing.allocation.heuristic`,
mended lot by lot, else repaired as a MILP over the lots the broken rules reach), then for large
models the LP-support neighbourhood, vendor drops and fix-and-optimise by blocks of lots, then
the full MILP from the best start (:func:`solve_pipeline`).  Every step keeps the best feasible
award found; none of them changes what is optimal, only how fast it is found.
"""

from __future__ import annotations

import time

import numpy as np

from ._solvers import SolveInfo, solve_arrays
from .arrays import ArrayModel
from .model import start_vector

__all__ = ["solve_pipeline"]

#: Models with more price segments than this get the LP-support neighbourhood search first.
NEIGHBOURHOOD_MIN_SEGMENTS = 300

#: Fix-and-optimise frees every bid of a block's lots while a block has at most this many price
#: segments; above, only the bids of the LP support and of the current award.
BLOCK_FREE_SEGMENTS = 5000

#: Most lots in a block of fix-and-optimise (8 blocks at least): a block MILP of 750 lots (6,000
#: lots in 8 blocks) does not improve its start in the seconds it gets.
BLOCK_LOTS = 125

#: Models with more price segments than this spend most of a time limit in fix-and-optimise.
HUGE_SEGMENTS = 50_000

#: Share of a huge model's time (after its LP) kept for the Lagrangian bound by lots.
BOUND_SHARE = 0.25


def _segment_cols(model: ArrayModel, segs: np.ndarray) -> np.ndarray:
    """Columns x and z of segments *segs*."""
    S = len(model.inst.seg_bid)
    return np.concatenate([segs, S + segs])


def lp_neighbourhood(model: ArrayModel, start: np.ndarray | None, *, solver: str, time_limit, mip_gap,
                     restricted: bool = True):
    """Improve a MIP start by solving the MILP restricted to the bids the LP relaxation uses.

    Bids with volume in the LP relaxation, plus the bids of *start*, stay free; every other bid's
    segments are fixed to 0.  The restricted MILP is small and usually solves to near-optimality
    quickly; its award is a feasible start for the full model (a relaxation-induced
    neighbourhood, as in RINS).  Before it, the LP relaxation is rounded into a feasible award
    (each lot refilled in the order of its bids' LP volumes), kept when cheaper than *start*.
    Returns ``(start vector or None, SolveInfo of the restricted MILP or None, SolveInfo of the
    LP relaxation or None, mask of free bids, row duals of the LP relaxation or None)``; with
    ``restricted=False`` the restricted MILP is skipped (the LP rounding is still tried).
    """
    from .heuristic import greedy

    inst = model.inst
    lp = solve_arrays(model, solver="highs", relax=True,
                      time_limit=None if time_limit is None else (0.6 if restricted else 1.0) * time_limit)
    if lp.status != "optimal":
        return start, None, None, None, None
    duals = model.duals.copy()
    x_lp = model.values[model.cols("x")].copy()
    bid_lp = np.zeros(len(inst.bid_vendor))
    np.add.at(bid_lp, inst.seg_bid, x_lp)
    rounded = greedy(inst, model.policy, priority=bid_lp)
    if rounded is not None:
        cand = start_vector(model, *rounded)
        if start is None or model.better(model.objective_at(cand), model.objective_at(start)):
            start = cand
    keep = np.zeros(len(inst.bid_vendor), bool)
    used = x_lp > 1e-6 * inst.demand[inst.bid_lot[inst.seg_bid]]
    if start is not None:
        used |= start[model.cols("z")] > 0.5
    keep[inst.seg_bid[used]] = True
    if not restricted:
        return start, None, lp, keep, duals
    closed = _segment_cols(model, np.flatnonzero(~keep[inst.seg_bid]))
    limit = None if time_limit is None else max(time_limit - lp.time, 0.5)
    sub = solve_arrays(model, solver=solver, time_limit=limit, mip_gap=mip_gap, start=start,
                       fix=(closed, np.zeros(len(closed))))
    if not sub.has_solution:
        return start, None, lp, keep, duals
    return model.values.copy(), sub, lp, keep, duals


def _breach_lots(inst, vol: np.ndarray, breach, *, max_lots: int) -> np.ndarray:
    """Lots whose re-solve can mend *breach* (a :class:`~sourcing.allocation.rules.Breach` of
    the vendor x lot volumes *vol*), at most *max_lots* of them.

    A breach on lots names them.  Otherwise the rule's vendors (those of the breached key: one
    vendor, a group, or the rule's scope) on the rule's lots: for a ceiling on a vendor count,
    every lot of the fewest-lot vendors it takes to drop the excess (their ``u`` can then go to 0);
    for another ceiling the lots where those vendors hold the most volume; for a floor the lots
    where they bid and hold least.
    """
    from .rules import _masks

    L = inst.n_lots
    if breach.lots:
        index = {lot: j for j, lot in enumerate(inst.lot_ids)}
        return np.array([index[lot] for lot in breach.lots if lot in index], np.int64)[:max_lots]
    vm, lm = np.ones(inst.n_vendors, bool), np.ones(L, bool)
    r = breach.scoped
    if r is not None:
        vm, lm = _masks(r, inst.vendor_ids, inst.lot_ids)
        if breach.group:
            vm &= np.array([(r.groups or {}).get(v) == breach.group for v in inst.vendor_ids])
    if breach.vendors:
        vm = np.isin(np.asarray(inst.vendor_ids, object), list(breach.vendors))
    held = vol * vm[:, None] * lm[None, :]
    ceiling = breach.value > breach.limit
    if ceiling and r is not None and r.measure in ("vendors", "lots") and r.per_ != "lot":
        counts = (held > 0).sum(axis=1)
        mine = np.flatnonzero(counts > 0)
        excess = int(np.ceil(breach.value - breach.limit))
        if r.measure == "vendors":  # drop whole vendors: twice the excess, fewest lots first
            drop = mine[np.argsort(counts[mine], kind="stable")][:2 * excess]
            return np.flatnonzero((held[drop] > 0).any(axis=0))[:max_lots]
        return np.flatnonzero((held > 0).any(axis=0))[:max_lots]
    if ceiling:
        amount = held.sum(axis=0)
        lots = np.flatnonzero(amount > 0)
        return lots[np.argsort(-amount[lots], kind="stable")][:max_lots]
    bids = np.zeros((inst.n_vendors, L), bool)
    bids[inst.bid_vendor, inst.bid_lot] = True
    can = (bids & vm[:, None]).any(axis=0) & lm
    share = held.sum(axis=0) / np.maximum(inst.demand, 1e-12)
    lots = np.flatnonzero(can)
    return lots[np.argsort(share[lots], kind="stable")][:max_lots]


def repair(model: ArrayModel, vol: np.ndarray, *, solver: str, time_limit, mip_gap=None,
           max_lots: int = 400, max_rounds: int = 6) -> np.ndarray | None:
    """A feasible award from vendor x lot volumes that break some rules (e.g.
    :func:`~sourcing.allocation.heuristic.construct`'s): the lots the broken rules reach are
    re-solved as a MILP, everything else fixed at its volumes (fix-and-repair).

    Each round frees the lots of every breach (:func:`_breach_lots`, up to *max_lots* a breach)
    with all their bids, fixes every other segment at the award's value and solves the MILP of
    the freed columns (vendor and spend columns free, so every rule across lots is in it); the
    award it finds is judged by :func:`~sourcing.allocation.award.violations`.  After a round
    that finds nothing, the next frees every lot (the full MILP from no start).  Returns a
    feasible start vector, or ``None`` (no award found in the rounds or the time).
    """
    from .award import segments_from_volumes, violations, volumes_of

    t_end = None if time_limit is None else time.perf_counter() + time_limit
    inst = model.inst
    S = len(inst.seg_bid)
    seg_lot = inst.bid_lot[inst.seg_bid]
    failed = False
    for _ in range(max_rounds):
        broken = violations(inst, model.policy, vol, atol=1e-6)
        if not broken:
            return start_vector(model, *segments_from_volumes(inst, vol))
        free = np.zeros(inst.n_lots, bool)
        for b in broken:
            free[_breach_lots(inst, vol, b, max_lots=max_lots)] = True
        if failed:  # the lots of the breaches were not enough: the whole model
            free[:] = True
        left = None if t_end is None else t_end - time.perf_counter()
        if not free.any() or (left is not None and left < 0.05):
            return None
        cur = start_vector(model, *segments_from_volumes(inst, vol))
        fixed = np.flatnonzero(~free[seg_lot])
        info = solve_arrays(model, solver=solver, time_limit=left, mip_gap=mip_gap,
                            fix=(np.concatenate([fixed, S + fixed]),
                                 np.concatenate([cur[fixed], cur[S + fixed]])))
        if info.has_solution:  # volume only on used segments: solver noise elsewhere is no award
            vol = volumes_of(inst, np.where(model.values[S:2 * S] > 0.5, model.values[:S], 0.0))
        elif failed or info.status == "infeasible" and free.all():
            return None
        failed = not info.has_solution
    return None


def first_award(model: ArrayModel, *, solver: str, time_limit=None, mip_gap=None):
    """The first feasible award, fast: segment values ``(x, z)`` or ``None``.

    Construction (:func:`~sourcing.allocation.heuristic.construct`: every lot filled under its
    own rules), kept when it breaks no rule (:func:`~sourcing.allocation.award.violations`),
    else mended by :func:`repair` within *time_limit* seconds.
    """
    from .award import segments_from_volumes, violations
    from .heuristic import construct

    inst = model.inst
    vol = construct(inst, model.policy)
    if vol is None:
        return None
    if not violations(inst, model.policy, vol, atol=1e-6):
        return segments_from_volumes(inst, vol)
    fixed = repair(model, vol, solver=solver, time_limit=time_limit, mip_gap=mip_gap)
    if fixed is None:
        return None
    S = len(inst.seg_bid)
    return fixed[:S], fixed[S:2 * S]


def block_improve(model: ArrayModel, start: np.ndarray, keep_bid: np.ndarray, *, solver: str, time_limit,
                  mip_gap=None, n_blocks: int = 8, max_passes: int = 1,
                  first_pass: int = 0) -> tuple[np.ndarray, SolveInfo | None]:
    """Fix-and-optimise: re-solve the lots block by block, the rest of the award fixed.

    Lots are split into *n_blocks* blocks.  For each block, every segment outside it is fixed at
    its value in the current award and, inside it, only bids in *keep_bid* (e.g. the LP support)
    or in the current award stay free; vendor, switching and spend variables stay free, so every
    cross-lot rule still holds.  Each block MILP starts from the current award and replaces it
    when better.  With a time limit, up to *max_passes* passes over new partitions of the lots
    follow while the last one improved (*first_pass* skips the first partitions: 1 starts with the
    round-robin one).  Returns ``(best start vector, SolveInfo of the last improving block or
    None)``.
    """
    t_end = None if time_limit is None else time.perf_counter() + time_limit
    inst = model.inst
    cur = np.asarray(start, float).copy()
    cur_obj = model.objective_at(cur)
    best_info = None
    n = max(1, min(n_blocks, inst.n_lots))
    lots_all = np.arange(inst.n_lots)
    # pass 1: contiguous blocks of lots; further passes (while time is left and the last pass
    # improved): lots dealt round-robin, then in a seeded shuffle, so that lots meet new neighbours
    partitions = [np.array_split(lots_all, n), [lots_all[k::n] for k in range(n)]]
    rng = np.random.default_rng(0)
    for _ in range(max_passes + first_pass - 2):
        partitions.append(np.array_split(rng.permutation(lots_all), n))
    for blocks in partitions[first_pass:first_pass + max_passes]:
        improved = False
        for k, lots in enumerate(blocks):
            left = None if t_end is None else t_end - time.perf_counter()
            if left is not None and left < 1.0:
                return cur, best_info
            info = _solve_block(model, cur, lots, keep_bid, solver=solver, mip_gap=mip_gap,
                                time_limit=None if left is None else left / (len(blocks) - k))
            if info.has_solution and model.better(info.objective, cur_obj):
                cur = model.values.copy()
                cur_obj = info.objective
                best_info = info
                improved = True
        if not improved or t_end is None:
            break
    return cur, best_info


def _solve_block(model: ArrayModel, cur: np.ndarray, lots: np.ndarray, keep_bid: np.ndarray, *, solver: str,
                 mip_gap, time_limit) -> SolveInfo:
    """The MILP with every segment outside *lots* fixed at its value in *cur* and, inside, the
    bids neither in *keep_bid* nor in *cur* closed (vendor, switching and spend columns free)."""
    inst = model.inst
    S = len(inst.seg_bid)
    used = np.zeros(len(inst.bid_vendor), bool)
    used[inst.seg_bid[cur[S:2 * S] > 0.5]] = True
    inside = np.isin(inst.bid_lot[inst.seg_bid], lots)
    closed = np.flatnonzero(inside & ~(keep_bid | used)[inst.seg_bid])
    outside = np.flatnonzero(~inside)
    cols = np.concatenate([outside, S + outside, closed, S + closed])
    vals = np.concatenate([cur[outside], np.round(cur[S + outside]), np.zeros(2 * len(closed))])
    return solve_arrays(model, solver=solver, mip_gap=mip_gap, start=cur, fix=(cols, vals),
                        time_limit=time_limit)


def package_improve(model: ArrayModel, start: np.ndarray, *, solver: str, time_limit, mip_gap=None,
                    block_lots: int | None = None) -> np.ndarray:
    """Offer the package bids to an award: re-solve the lots of groups of packages with every bid
    of those lots free, the rest of the award fixed (fix-and-optimise on the packages' lots).

    The blocks of :func:`block_improve` split a package's lots over several blocks, where its
    pieces (tied to take the same fraction) cannot enter; here each group of packages (in order,
    up to *block_lots* lots, default :data:`BLOCK_LOTS`) has all its lots in one sub-MILP.  The
    award is kept when a group's solve is better.  Returns the best start vector.
    """
    inst = model.inst
    if not inst.has_bundles:
        return start
    t_end = None if time_limit is None else time.perf_counter() + time_limit
    limit = block_lots or BLOCK_LOTS
    pieces = np.flatnonzero(inst.seg_bundle >= 0)
    lots_of = [np.unique(inst.bid_lot[inst.seg_bid[pieces[inst.seg_bundle[pieces] == k]]])
               for k in range(len(inst.bundle_ids))]
    groups, cur_group = [], np.zeros(0, np.int64)
    for lots in lots_of:
        if len(cur_group) and len(np.union1d(cur_group, lots)) > limit:
            groups.append(cur_group)
            cur_group = np.zeros(0, np.int64)
        cur_group = np.union1d(cur_group, lots)
    groups.append(cur_group)
    cur = np.asarray(start, float).copy()
    cur_obj = model.objective_at(cur)
    every = np.ones(len(inst.bid_vendor), bool)
    for k, lots in enumerate(groups):
        left = None if t_end is None else t_end - time.perf_counter()
        if left is not None and left < 1.0:
            break
        info = _solve_block(model, cur, lots, every, solver=solver, mip_gap=mip_gap,
                            time_limit=None if left is None else left / (len(groups) - k))
        if info.has_solution and model.better(info.objective, cur_obj):
            cur, cur_obj = model.values.copy(), info.objective
    return cur


def vendor_close(model: ArrayModel, start: np.ndarray, *, solver: str, time_limit, mip_gap=None,
                 max_tries: int | None = None,
                 patience: int = 12) -> tuple[np.ndarray, SolveInfo | None]:
    """Local search on the engaged vendors: try to drop one vendor at a time.

    Vendors are tried in order of fixed cost saved per unit of spend (one-off onboarding,
    annualised, over the vendor's annual spend): the vendor's segments and ``u`` are fixed to 0,
    the segments of every lot it serves are freed, and every other segment is fixed at its
    current value, so the MILP re-splits only those lots.  An improvement replaces the award;
    the search stops after *patience* tries in a row without one.  Returns ``(best start vector,
    SolveInfo of the last improving solve or None)``.
    """
    t_end = None if time_limit is None else time.perf_counter() + time_limit
    inst = model.inst
    S = len(inst.seg_bid)
    seg_v = inst.bid_vendor[inst.seg_bid]
    seg_l = inst.bid_lot[inst.seg_bid]
    u_cols = dict(zip(model.col_keys["u"].tolist(), range(*model.groups["u"]), strict=True))
    cur = np.asarray(start, float).copy()
    cur_obj = model.objective_at(cur)
    best = None
    on = cur[S:2 * S] > 0.5
    spend = np.zeros(inst.n_vendors)
    np.add.at(spend, seg_v, inst.seg_price * cur[:S] + inst.seg_intercept * on)
    saved = inst.annualise * inst.onboarding * model.policy.onboarding_costs
    engaged = np.flatnonzero(spend > 0)
    order = engaged[np.lexsort((engaged, -saved[engaged] / np.maximum(spend[engaged], 1e-9)))]
    misses = 0
    for v in order[:max_tries].tolist():
        left = None if t_end is None else t_end - time.perf_counter()
        if left is not None and left < 0.5:
            break
        on = cur[S:2 * S] > 0.5
        lots = np.unique(seg_l[on & (seg_v == v)])
        if not len(lots):
            continue
        inside = np.isin(seg_l, lots)
        outside = np.flatnonzero(~inside)
        mine = np.flatnonzero(seg_v == v)
        cols = np.concatenate([outside, S + outside, mine, S + mine, [u_cols[v]]])
        vals = np.concatenate([cur[outside], np.round(cur[S + outside]), np.zeros(2 * len(mine) + 1)])
        info = solve_arrays(model, solver=solver, mip_gap=mip_gap, fix=(cols, vals),
                            time_limit=None if left is None else min(left, max(2.0, 0.1 * left)))
        if info.has_solution and model.better(info.objective, cur_obj):
            cur = model.values.copy()
            cur_obj = info.objective
            best = info
            misses = 0
        else:
            misses += 1
            if misses >= patience:
                break
    return cur, best


def solve_pipeline(model: ArrayModel, *, solver: str, time_limit, mip_gap, t0: float | None = None,
                   starts=(), use_greedy: bool = True):
    """The first award (:func:`first_award`, with up to 30 % of the time limit) and the feasible
    awards in *starts* (segment values ``(x, z)``) as starts; for large
    models the LP-support neighbourhood (with the LP rounding), dropping engaged vendors one at a
    time and fix-and-optimise blocks of lots; then the full MILP from the best start.

    Returns ``(SolveInfo of the full solve, first award's segment values or None, seconds left)``.  With a
    time limit, the neighbourhood (LP, LP rounding, restricted MILP) gets up to 45 % of it, the
    vendor drops (HiGHS only) 30 % of the rest, the blocks 40 % of what then remains, and the full MILP the
    rest (it also proves the bound).  Models with more than :data:`HUGE_SEGMENTS` segments and a
    time limit skip the restricted MILP of the neighbourhood and the full MILP (neither gets
    through its root in time at that size): after the LP and its rounding, :data:`BOUND_SHARE`
    of the time is kept for the bound, the blocks get 60 % of the rest and the vendor drops what
    then remains; the bound is the Lagrangian bound by lots (:mod:`~sourcing.allocation.bound`,
    from the LP's duals and the award found), at least the LP relaxation's and the knapsack
    bound, which alone is left when the LP does not finish in its time (the whole
    neighbourhood budget at that size).  Every start must be feasible: a time-out without an
    incumbent falls back to the best start.
    """
    t0 = time.perf_counter() if t0 is None else t0
    # HiGHS overruns its limit a little and reading back a large solution takes time: aim at 92 %
    target = None if time_limit is None else 0.92 * time_limit

    def left():
        return None if target is None else max(target - (time.perf_counter() - t0), 0.5)

    inst = model.inst
    big = len(inst.seg_bid) > NEIGHBOURHOOD_MIN_SEGMENTS
    heur = first_award(model, solver=solver, time_limit=None if target is None else 0.3 * left(),
                       mip_gap=mip_gap) if use_greedy else None
    start = None
    for cand in ([heur] if heur is not None else []) + list(starts):
        vec = start_vector(model, *cand)
        if start is None or model.better(model.objective_at(vec), model.objective_at(start)):
            start = vec
    lp = duals = None
    # a model this large will not get far in the full MILP: fix-and-optimise gets most of the time
    huge = len(inst.seg_bid) > HUGE_SEGMENTS
    if big and use_greedy:
        budget = None if time_limit is None else 0.45 * left()
        start, _, lp, keep, duals = lp_neighbourhood(model, start, solver=solver, time_limit=budget,
                                                     mip_gap=mip_gap, restricted=not huge)
        # the Lagrangian bound by lots (after the heuristics) replaces the full MILP's bound
        reserve = BOUND_SHARE * left() if huge and time_limit is not None else 0.0
        if start is not None and len(inst.bundle_ids):
            budget = None if time_limit is None else 0.25 * max(left() - reserve, 0.5)
            start = package_improve(model, start, solver=solver, time_limit=budget, mip_gap=mip_gap)
        if start is not None:
            n_blocks = max(8, -(-inst.n_lots // BLOCK_LOTS))
            if keep is None or len(inst.seg_bid) / n_blocks <= BLOCK_FREE_SEGMENTS:
                keep = np.ones(len(inst.bid_vendor), bool)  # every bid of a block's lots may enter
            steps = (("blocks", 0.6), ("vendors", 1.0)) if huge else (("vendors", 0.3), ("blocks", 0.4))
            passes = 0
            for step, share in steps:
                budget = None if time_limit is None else share * max(left() - reserve, 0.5)
                if step == "vendors":
                    if solver != "highs":
                        continue  # dozens of small solves: each CBC run costs a process and an MPS file
                    start, _ = vendor_close(model, start, solver=solver, time_limit=budget, mip_gap=mip_gap)
                elif inst.n_lots > 1:
                    start, _ = block_improve(model, start, keep, solver=solver, time_limit=budget,
                                             mip_gap=mip_gap, n_blocks=n_blocks, first_pass=passes)
                    passes += 1
    if huge and time_limit is not None and start is not None:
        # the full MILP would not get through its root in the time left: the award stands, with
        # the tightest of the LP relaxation's bound, the Lagrangian bound by lots (both when the
        # LP was solved in time) and the knapsack bound
        from .bound import knapsack_bound, lagrangian_bound

        obj = model.objective_at(start)
        tighter = min if model.maximize else max
        found = knapsack_bound(model)
        if lp is not None:
            found = tighter(found, lp.objective)
            try:
                lag = lagrangian_bound(model, duals, incumbent=start, time_limit=left())
            except (MemoryError, ValueError, RuntimeError):  # a bound is optional: the award stands
                lag = None
            if lag is not None:
                found = tighter(found, lag.value)
        if not np.isfinite(found):
            found = float("nan")
        model.values = start.copy()
        info = SolveInfo("feasible", obj, found, abs(obj - found) / max(abs(obj), 1e-9),
                         time.perf_counter() - t0, solver)
        return info, heur, left()
    info = solve_arrays(model, solver=solver, time_limit=left(), mip_gap=mip_gap, start=start)
    if info.status == "error" and solver == "highs":
        info = solve_arrays(model, solver="cbc", time_limit=left(), mip_gap=mip_gap, start=start)
    if not info.has_solution and info.status != "infeasible" and start is not None:
        model.values = start.copy()
        info = SolveInfo("feasible", model.objective_at(start), info.bound, float("nan"), info.time,
                         info.solver)
    if lp is not None and info.has_solution and info.status != "optimal":
        # the LP relaxation's optimum is a valid bound too: keep the tighter of the two
        tighter = (min if model.maximize else max)(
            lp.objective, info.bound if np.isfinite(info.bound) else lp.objective)
        gap = abs(info.objective - tighter) / max(abs(info.objective), 1e-9)
        info = SolveInfo(info.status, info.objective, tighter, gap, info.time, info.solver)
    return info, heur, left()

