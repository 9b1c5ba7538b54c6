"""Solver back ends: HiGHS through highspy (arrays passed in one call, MIP start) and CBC under a
watchdog.

:func:`solve_arrays` solves an :class:`~sourcing.allocation.arrays.ArrayModel` (the award
model, and the risk-aware model stacked on it): HiGHS reads the arrays directly, CBC gets the PuLP
problem built from them.  Status is reported honestly: ``optimal`` only when the solver proved
it (within the requested gap), ``feasible`` when a time limit left an incumbent, ``no solution``
when it left none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
import pulp

__all__ = ["SolveInfo", "cbc_path", "highs_arrays", "solve_arrays"]

#: Relative band within which two solved costs are the same cost: HiGHS's default
#: ``mip_feasibility_tolerance`` (1e-6, not changed here), the most a solution may break a row by,
#: so costs closer than this fraction of the cost are equal to the solver's own precision.
COST_TOLERANCE = 1e-6

SOLVERS = ("highs", "cbc")


@dataclass
class SolveInfo:
    """What a solver run returned."""

    status: str          # optimal | feasible | no solution | infeasible | unbounded | error
    objective: float     # incumbent objective (NaN without a solution)
    bound: float         # best proven bound (NaN when unknown)
    gap: float           # relative gap |obj - bound| / max(|obj|, 1e-9); NaN when unknown
    time: float          # wall-clock seconds
    solver: str

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


def _gap(obj: float, bound: float) -> float:
    if not (np.isfinite(obj) and np.isfinite(bound)):
        return float("nan")
    return abs(obj - bound) / max(abs(obj), 1e-9)


_QUIET = {"done": False}


def _new_highs(highspy):
    """A Highs instance; the first one of the process is created with file descriptor 1 sent to
    /dev/null, because HiGHS prints its copyright banner there before options can be set."""
    if _QUIET["done"]:
        return highspy.Highs()
    _QUIET["done"] = True
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):
        return highspy.Highs()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _fixed(lb, ub, fix):
    """Copies of the bounds with the columns of *fix* (dict index -> value, or a pair of arrays
    (indices, values)) fixed."""
    lb, ub = lb.copy(), ub.copy()
    if fix is None:
        return lb, ub
    if isinstance(fix, dict):
        keys = np.fromiter(fix.keys(), np.int64, len(fix))
        vals = np.fromiter(fix.values(), float, len(fix))
    else:
        keys, vals = np.asarray(fix[0], np.int64), np.asarray(fix[1], float)
    lb[keys] = vals
    ub[keys] = vals
    return lb, ub


#: HiGHS's primal heuristics, switched off for a re-solve from a good start (:func:`highs_arrays`).
_HEURISTICS = ("mip_heuristic_run_feasibility_jump", "mip_heuristic_run_rins", "mip_heuristic_run_rens",
               "mip_heuristic_run_root_reduced_cost", "mip_heuristic_run_zi_round",
               "mip_heuristic_run_shifting")


def highs_arrays(lb, ub, integer, cost, sign, const, starts, idx, val, lo, hi, *, time_limit=None,
                 mip_gap=None, start=None, relax=False, fix=None, heuristics=True):
    """Solve ``min cost @ x`` (``sign`` -1: the caller maximises) over ``lo <= A x <= hi`` (CSR
    ``starts, idx, val``) and column bounds with HiGHS.

    ``heuristics=False`` switches HiGHS's primal heuristics off: for a series of re-solves that
    each start from a near-optimal award (price to win), the root's heuristics are most of the
    time of a small model (0.085 s -> 0.033 s on the sample) and find nothing the start lacks.

    Returns ``(SolveInfo, column values or None, row duals or None)``; objective and bound are in
    the caller's sense (times ``sign``, plus ``const``), duals too.
    """
    import highspy

    t0 = time.perf_counter()
    lb, ub = _fixed(lb, ub, fix)
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(time_limit - (time.perf_counter() - t0), 0.1)))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        h.setOptionValue("mip_abs_gap", 1e-6)
    if not heuristics:
        for name in _HEURISTICS:  # an older HiGHS without one of them keeps it: a status, no error
            h.setOptionValue(name, False)
    inf = highspy.kHighsInf
    n = len(lb)
    m = len(lo)
    is_mip = bool(integer.any()) and not relax
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_ = np.where(np.isfinite(lb), lb, -inf)
    lp.col_upper_ = np.where(np.isfinite(ub), ub, inf)
    lp.row_lower_ = np.where(np.isfinite(lo), lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(hi), hi, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.asarray(starts, np.int32)
    lp.a_matrix_.index_ = np.asarray(idx, np.int32)
    lp.a_matrix_.value_ = np.asarray(val, float)
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    if is_mip:
        lp.integrality_ = np.where(integer, highspy.HighsVarType.kInteger,
                                   highspy.HighsVarType.kContinuous).tolist()
    h.passModel(lp)
    if start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, float))
        sol.value_valid = True
        h.setSolution(sol)
    if time_limit is not None and is_mip:
        # wall-clock watchdog: HiGHS can overrun time_limit inside long node LPs; interrupt it
        deadline = t0 + float(time_limit) * 1.02 + 0.5

        def _watch(_kind, _message, _data_out, data_in, _user):
            if time.perf_counter() > deadline:
                data_in.user_interrupt = True

        try:
            h.setCallback(_watch, None)
            for kind in ("kCallbackMipInterrupt", "kCallbackSimplexInterrupt"):
                h.startCallback(getattr(highspy.cb.HighsCallbackType, kind))
        except (AttributeError, TypeError, RuntimeError):
            pass
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    has = info.primal_solution_status == 2
    if status == ms.kOptimal:
        kind = "optimal"
    elif status in (ms.kInfeasible,):
        kind = "infeasible"
    elif status == ms.kUnboundedOrInfeasible:
        kind = "infeasible"  # confirmed by the caller with a second opinion
    elif status == ms.kUnbounded:
        kind = "unbounded"
    elif status in (ms.kTimeLimit, ms.kInterrupt, ms.kIterationLimit, ms.kSolutionLimit,
                    ms.kObjectiveBound, ms.kObjectiveTarget):
        kind = "feasible" if has else "no solution"
    else:
        kind = "error"
    if kind == "optimal" and not has:
        kind = "error"
    obj = bound = float("nan")
    values = duals = None
    if has:
        solution = h.getSolution()
        values = np.asarray(solution.col_value, float)
        duals = np.asarray(solution.row_dual, float) * sign if not is_mip else np.zeros(m)
        obj = sign * float(info.objective_function_value) + const
        if is_mip:
            bound = sign * float(info.mip_dual_bound) + const
        else:
            bound = obj if kind == "optimal" else float("nan")
    gap = _gap(obj, bound) if has else float("nan")
    if kind == "optimal" and is_mip and np.isfinite(gap) and gap > max(mip_gap or 1e-4, 1e-4) + 1e-9:
        kind = "feasible"
    return SolveInfo(kind, obj, bound, gap, time.perf_counter() - t0, "highs"), values, duals


def _highs_reduced(model, *, time_limit, mip_gap, start, fix) -> SolveInfo:
    """A MILP with columns fixed, solved as the model of its free columns only: the fixed
    columns' contributions move into the row bounds and the objective constant, and rows without
    a free column are left out (they hold at the fixed values, which the caller took from a
    feasible award).  Much faster than letting HiGHS presolve a large, mostly fixed model."""
    import scipy.sparse as sp

    lb, ub = _fixed(model.lb, model.ub, fix)
    fixed = lb == ub
    free = np.flatnonzero(~fixed)
    x_fixed = np.where(fixed, lb, 0.0)
    starts, idx, val, lo, hi = model.csr()
    a = sp.csr_matrix((val, idx, starts), shape=(len(lo), model.n_cols))
    shift = a @ x_fixed
    sub = a[:, free].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sub[rows]
    sign = -1.0 if model.maximize else 1.0
    const = float(model.c0 + model.c @ x_fixed)
    info, values, _ = highs_arrays(lb[free], ub[free], model.integer[free], model.c[free] * sign, sign, const,
                                   sub.indptr.astype(np.int32), sub.indices.astype(np.int32), sub.data,
                                   lo[rows] - shift[rows], hi[rows] - shift[rows], time_limit=time_limit,
                                   mip_gap=mip_gap, start=None if start is None else np.asarray(start)[free])
    if values is not None:
        full = x_fixed.copy()
        full[free] = values
        model.values = full
    return info


def solve_arrays(model, *, solver: str = "highs", time_limit=None, mip_gap=None,
                 start: np.ndarray | None = None, relax: bool = False, fix=None,
                 heuristics: bool = True) -> SolveInfo:
    """Solve an :class:`~sourcing.allocation.arrays.ArrayModel`; its ``values`` and ``duals`` are
    set when a solution is found (left unchanged otherwise).

    HiGHS reads the arrays directly; CBC gets the model through :meth:`ArrayModel.to_pulp` and an
    MPS file.  *fix* is a dict column -> value or a pair of arrays ``(columns, values)``; a MILP
    with fixed columns goes to HiGHS reduced to its free columns (row duals are then not set).
    """
    if solver == "highs" and fix is not None and not relax:
        return _highs_reduced(model, time_limit=time_limit, mip_gap=mip_gap, start=start, fix=fix)
    if solver == "highs":
        starts, idx, val, lo, hi = model.csr()
        sign = -1.0 if model.maximize else 1.0
        info, values, duals = highs_arrays(model.lb, model.ub, model.integer, model.c * sign, sign,
                                           model.c0, starts, idx, val, lo, hi, time_limit=time_limit,
                                           mip_gap=mip_gap, start=start, relax=relax, fix=fix,
                                           heuristics=heuristics)
        if values is not None:
            model.values, model.duals = values, duals
        return info
    if solver == "cbc":
        prob, variables = model.to_pulp()
        if fix is not None and not isinstance(fix, dict):
            fix = dict(zip(np.asarray(fix[0]).tolist(), np.asarray(fix[1], float).tolist(), strict=True))
        info = _cbc(prob, variables, time_limit=time_limit, mip_gap=mip_gap, start=start, relax=relax,
                    fix=fix)
        if info.has_solution:
            model.values = np.array([v.varValue or 0.0 for v in variables], float)
            model.duals = np.array([c.pi or 0.0 for c in prob.constraints()], float)
        return info
    raise ValueError(f"unknown solver {solver!r}; valid choices: {', '.join(SOLVERS)}")


def cbc_path() -> str | None:
    """Path of a CBC binary: ``cbc`` on PATH, else the one bundled with PuLP."""
    found = shutil.which("cbc")
    if found:
        return found
    bundled = getattr(pulp.PULP_CBC_CMD, "pulp_cbc_path", None)
    if bundled and os.path.exists(bundled) and os.access(bundled, os.X_OK):
        return bundled
    return None


_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


def _cbc(prob, variables, *, time_limit, mip_gap, start, relax, fix) -> SolveInfo:
    """CBC on an MPS file, killed by a wall-clock watchdog (CBC ignores -sec in preprocessing)."""
    t0 = time.perf_counter()
    path = cbc_path()
    if path is None:
        return SolveInfo("error", np.nan, np.nan, np.nan, 0.0, "cbc")
    saved = {}
    if fix:
        for i, value in fix.items():
            v = variables[i]
            saved[i] = (v.lowBound, v.upBound)
            v.lowBound = v.upBound = value
    helper = pulp.COIN_CMD(path=path, msg=False)
    with tempfile.TemporaryDirectory(prefix="sourcing-cbc-") as tmp:
        mps, sol, mst, logp = (os.path.join(tmp, f) for f in ("m.mps", "m.sol", "m.mst", "m.log"))
        cats = {}
        if relax:
            for v in variables:
                if v.cat == pulp.LpInteger:
                    cats[v.hash] = v.cat
                    v.cat = pulp.LpContinuous
        try:
            vs, vnames, cnames, _ = prob.writeMPS(mps, rename=1)
        finally:
            for v in variables:
                if v.hash in cats:
                    v.cat = cats[v.hash]
            for i, (lo, hi) in saved.items():
                variables[i].lowBound, variables[i].upBound = lo, hi
        args = [path, mps]
        if prob.sense == pulp.LpMaximize:
            args.append("-max")
        if start is not None and not relax:
            for v, x in zip(variables, start, strict=True):
                v.varValue = float(x)
            helper.writesol(mst, prob, vs, vnames, cnames)
            args += ["-mips", mst]
        if time_limit is not None:
            args += ["-sec", f"{float(time_limit):g}", "-timeMode", "elapsed"]
        if mip_gap is not None:
            args += ["-ratio", f"{float(mip_gap):g}"]
        args += ["-threads", "1", "-randomSeed", "1", "-randomCbcSeed", "1"]
        args += ["-solve" if not relax else "-initialSolve", "-printingOptions", "all",
                 "-solution", sol]
        watchdog = None if time_limit is None else float(time_limit) * 1.5 + 5.0
        timed_out = False
        with open(logp, "w") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            try:
                proc.wait(timeout=watchdog)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                timed_out = True
        text = open(logp).read()
        if timed_out or not os.path.exists(sol):
            return SolveInfo("no solution" if timed_out else "error", np.nan, np.nan, np.nan,
                             time.perf_counter() - t0, "cbc")
        first = open(sol).readline()
        status, _sol_status = helper.get_status(sol)
        _, values, _, shadow, _, _ = helper.readsol_MPS(sol, prob, vs, vnames, cnames)
    low = first.lower()
    if low.startswith("optimal"):
        kind = "optimal"
    elif low.startswith("infeasible") or "integer infeasible" in low:
        kind = "infeasible"
    elif low.startswith("unbounded"):
        kind = "unbounded"
    elif "objective value" in low and ("stopped" in low):
        kind = "feasible"
    elif low.startswith("stopped"):
        kind = "no solution"
    else:
        kind = "error"
    obj = bound = float("nan")
    if kind in ("optimal", "feasible"):
        by_name = {v.name: v for v in variables}
        for name, x in values.items():
            if name in by_name:
                by_name[name].varValue = float(x)
        for c in prob.constraints():
            if c.name in shadow:
                c.pi = float(shadow[c.name])
        value = prob.objective.value() if prob.objective is not None else None
        obj = float(value) if value is not None else float(getattr(prob.objective, "constant", 0.0) or 0.0)
        found = re.search(r"Lower bound:\s*" + _NUM, text) or re.search(
            r"best possible\s*" + _NUM, text)
        if kind == "optimal":
            bound = obj
        elif found:
            bound = float(found.group(1))
        if prob.sense == pulp.LpMaximize and found and kind != "optimal":
            bound = -bound if bound * obj < 0 else bound
    return SolveInfo(kind, obj, bound, _gap(obj, bound), time.perf_counter() - t0, "cbc")
