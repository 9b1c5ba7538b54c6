"""The award model as arrays: named blocks of rows, column bounds, integrality and objective.

The award MILP (:func:`~sourcing.allocation.model.build_model`) is compiled straight to numpy
arrays, one :class:`Block` of rows per policy rule and scope, so that a model of 200 vendors and
1,000 lots is built in well under a second and handed to HiGHS without any per-term Python object.
The blocks keep the words of the model: each row knows its rule (``"demand"``, ``"quality_floor"``,
...) and its scope (a lot, a vendor, or the whole award), which the binding rules, the shadow
prices and the diagnosis of infeasible policies report.

:meth:`ArrayModel.to_pulp` builds the same problem as a PuLP ``LpProblem`` on demand (for CBC,
any other PuLP solver, LP/MPS export, or a user's extra constraints): same variables, same rows
with the same names, same objective.

Conventions
-----------
* A block's rows are ``sum_k coef[k] * col[k]  (sense)  rhs`` over the triplets whose ``row`` is
  the row's local index; ``sense`` uses PuLP's codes (-1 ``<=``, 0 ``==``, 1 ``>=``).
* Money is in the tender currency: annual amounts per year, one-off amounts annualised as the
  policy says (see :class:`~sourcing.allocation._data.Instance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["EQ", "GE", "LE", "ArrayModel", "Block"]

LE, EQ, GE = -1, 0, 1  # PuLP's constraint sense codes


@dataclass
class Block:
    """Rows of one rule over one scope, as COO triplets.

    Attributes
    ----------
    rule : str
        Policy rule the rows enforce (a name of :data:`~sourcing.allocation.policy.RULES`, or
        ``"demand"``), or a structural name (``"link"``, ``"one_segment"``,
        ``"spend_total"``, ``"epsilon_quality"``, ``"tie_break_primary"``, ``"rules_engaged"``) when
        ``structural``.
    scope : {"lot", "vendor", "segment", "bid", "all"}
        What ``keys`` index: each row's lot, vendor, price segment or bid (``"all"``: one row
        for the whole award).
    keys : ndarray of int, shape (r,)
    row, col, coef : ndarray, shape (nnz,)
        Triplets: local row index (0..r-1), column index, coefficient.
    sense : ndarray of int8, shape (r,)
    rhs : ndarray, shape (r,)
    scale : ndarray, shape (r,)
        Unit of violation of each row for the elastic model (a slack of ``scale`` costs 1):
        percent of demand (demand), points x demand (quality, risk), tenths of a vendor
        (counts), percent of the cost scale (money).
    names : tuple of str
        Row-name prefixes; row ``i`` is named ``f"{names[kind[i]]}_{keys[i]}"`` (the prefix alone
        for scope ``"all"``).
    kind : ndarray of int, optional
        Per row, the index of its prefix in ``names`` (default 0).
    structural : bool
        Part of the formulation rather than a rule: no slack in the elastic model, no shadow price.
    labels : tuple of str, optional
        Per row, the scope as the rule's checks name it (a scoped rule's label, with its lot,
        vendor or group), replacing the lot or vendor id in the shadow prices' keys.
    """

    rule: str
    scope: str
    keys: np.ndarray
    row: np.ndarray
    col: np.ndarray
    coef: np.ndarray
    sense: np.ndarray
    rhs: np.ndarray
    scale: np.ndarray
    names: tuple[str, ...]
    kind: np.ndarray | None = None
    structural: bool = False
    labels: tuple[str, ...] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.rhs)

    def row_names(self) -> list[str]:
        """PuLP names of the rows, in order."""
        kind = self.kind if self.kind is not None else np.zeros(self.n_rows, np.int64)
        if self.scope == "all":
            return [self.names[k] for k in kind.tolist()]
        return [f"{self.names[k]}_{key}" for k, key in zip(kind.tolist(), self.keys.tolist(), strict=True)]


def block(rule: str, scope: str, keys, row, col, coef, sense, rhs, *, scale=1.0, names=None, kind=None,
          structural: bool = False) -> Block:
    """A :class:`Block` from array-likes; scalars ``sense``, ``rhs`` and ``scale`` are broadcast."""
    keys = np.atleast_1d(np.asarray(keys, np.int64))
    r = len(keys)
    col = np.asarray(col, np.int32)
    row = np.broadcast_to(np.asarray(row, np.int32), col.shape).copy()
    coef = np.broadcast_to(np.asarray(coef, float), col.shape).copy()
    return Block(rule, scope, keys, row, col, coef, np.broadcast_to(np.asarray(sense, np.int8), (r,)).copy(),
                 np.broadcast_to(np.asarray(rhs, float), (r,)).astype(float),
                 np.broadcast_to(np.asarray(scale, float), (r,)).astype(float),
                 tuple(names or (rule,)), None if kind is None else np.asarray(kind, np.int64), structural)


def summed(row, col, coef):
    """Triplets with the entries of each (row, column) pair added up (HiGHS takes each pair once),
    sorted by row then column; zero sums dropped."""
    row, col = np.asarray(row, np.int64), np.asarray(col, np.int64)
    width = int(col.max(initial=0)) + 1
    uniq, inv = np.unique(row * width + col, return_inverse=True)
    val = np.bincount(inv, weights=np.asarray(coef, float), minlength=len(uniq))
    keep = val != 0
    return uniq[keep] // width, uniq[keep] % width, val[keep]


def group_rows(groups: np.ndarray, cols: np.ndarray, coefs, rows_for: np.ndarray, n_groups: int,
               order: np.ndarray | None = None):
    """Triplets of one row per group in *rows_for* (sorted group ids), summing the entries whose
    group is that row's: ``(row, col, coef)`` with ``row`` the position of the group in *rows_for*.

    *order* (``argsort(groups, kind="stable")``, computed once by the caller) makes the triplets
    come sorted by row, which saves the sort when the rows are assembled."""
    local = np.full(n_groups, -1, np.int64)
    local[rows_for] = np.arange(len(rows_for))
    coefs = np.broadcast_to(np.asarray(coefs, float), (len(groups),))
    cols = np.asarray(cols)
    if order is not None:
        groups, cols, coefs = groups[order], cols[order], coefs[order]
    r = local[groups] if len(groups) else np.zeros(0, np.int64)
    keep = r >= 0
    return r[keep], cols[keep], coefs[keep]


@dataclass
class ArrayModel:
    """The award MILP as arrays (see the module docstring).

    Columns are grouped in this order: ``x`` (units/year on each price segment), ``z`` (segment
    used, binary), ``u`` (vendor engaged, binary; one per vendor with a usable bid),
    ``spend_total`` (only with a concentration cap) and ``slack`` (only in the elastic model).

    Attributes
    ----------
    inst, policy :
        The :class:`~sourcing.allocation._data.Instance` and
        :class:`~sourcing.allocation.policy.Policy` the model was built from.
    lb, ub : ndarray
        Column bounds (``inf`` where unbounded).
    integer : ndarray of bool
    groups : dict
        Column group -> ``(start, stop)``.
    col_keys : dict
        Column group -> index of each column within its scope (segment, vendor, lot).
    blocks : list of Block
        The rows, in order.
    c, c0 : ndarray, float
        Objective coefficients and constant; ``maximize`` its sense.
    costs : dict
        ``unit_cost``, ``setup``, ``onboarding``, ``switching``, ``total`` -> ``(coefficients,
        constant)`` in the tender currency per year.
    quality : ndarray or None
        Coefficients of the lot-average volume-weighted quality (0-100).
    elastic : ndarray of int, shape (k, 2)
        Elastic model only: per slack column, the global row it relaxes and the slack's sign.
    values, duals : ndarray or None
        The last solve's column values and row duals (set by the solvers).
    """

    inst: object
    policy: object
    objective_kind: str | float
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    groups: dict[str, tuple[int, int]]
    col_keys: dict[str, np.ndarray]
    blocks: list[Block]
    c: np.ndarray
    c0: float
    maximize: bool
    costs: dict[str, tuple[np.ndarray, float]]
    quality: np.ndarray | None
    elastic: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    values: np.ndarray | None = None
    duals: np.ndarray | None = None
    _csr: tuple | None = field(default=None, repr=False)
    _pulp: tuple | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ shape
    @property
    def n_cols(self) -> int:
        return len(self.lb)

    @property
    def n_rows(self) -> int:
        return sum(b.n_rows for b in self.blocks)

    def cols(self, group: str) -> slice:
        """Columns of *group* (``x``, ``z``, ``u``, ``spend_total``, ``slack``; a model stacked on
        the award model adds its own)."""
        a, b = self.groups.get(group, (0, 0))
        return slice(a, b)

    def row_offsets(self) -> np.ndarray:
        """Global index of each block's first row (and the row count at the end)."""
        return np.concatenate([[0], np.cumsum([b.n_rows for b in self.blocks])]).astype(np.int64)

    def add_block(self, blk: Block) -> None:
        """Append rows (e.g. an epsilon constraint); the solver arrays are rebuilt on next use."""
        self.blocks.append(blk)
        self._csr = self._pulp = None

    @property
    def prob(self):
        """The PuLP problem (:meth:`to_pulp`, built once on first use)."""
        if self._pulp is None:
            self._pulp = self.to_pulp()
        return self._pulp[0]

    @property
    def variables(self) -> list:
        """The PuLP variables of :attr:`prob`, in column order."""
        self.prob  # noqa: B018 - builds the PuLP view
        return self._pulp[1]

    # ------------------------------------------------------------------ matrix
    def csr(self):
        """Rows as CSR: ``(starts, index, value, lower, upper)`` with ``lower <= A x <= upper``."""
        if self._csr is None:
            off = self.row_offsets()
            m = int(off[-1])
            rows, cols, vals = [], [], []
            for b, o in zip(self.blocks, off, strict=False):
                r, c, v = b.row, b.col, b.coef
                if len(r) > 1 and (np.diff(r) < 0).any():  # blocks mostly come sorted by row
                    order = np.argsort(r, kind="stable")
                    r, c, v = r[order], c[order], v[order]
                rows.append(r + np.int32(o))
                cols.append(c)
                vals.append(v)
            row = np.concatenate(rows or [np.zeros(0, np.int32)])
            col = np.concatenate(cols or [np.zeros(0, np.int32)])
            val = np.concatenate(vals or [np.zeros(0)])
            starts = np.searchsorted(row, np.arange(m + 1)).astype(np.int64)
            sense = np.concatenate([b.sense for b in self.blocks] or [np.zeros(0, np.int8)])
            rhs = np.concatenate([b.rhs for b in self.blocks] or [np.zeros(0)])
            lo = np.where(sense >= 0, rhs, -np.inf)
            hi = np.where(sense <= 0, rhs, np.inf)
            self._csr = (starts.astype(np.int32), col.astype(np.int32, copy=False), val, lo, hi, None)
        return self._csr[:5]

    def activities(self, values: np.ndarray) -> np.ndarray:
        """Row activities ``A @ values`` (one per row, in block order)."""
        import scipy.sparse as sp

        starts, idx, val, _lo, _hi = self.csr()
        a = sp.csr_matrix((val, idx, starts), shape=(len(starts) - 1, self.n_cols))
        return a @ np.asarray(values, float)

    def objective_at(self, values: np.ndarray) -> float:
        """Objective value at a full column vector."""
        return float(self.c @ np.asarray(values, float) + self.c0)

    def cost_at(self, values: np.ndarray, part: str = "total") -> float:
        """A cost (``unit_cost``, ``setup``, ``onboarding``, ``switching``, ``total``) at a column
        vector, tender currency per year."""
        coef, const = self.costs[part]
        return float(coef @ np.asarray(values, float) + const)

    def better(self, a: float, b: float) -> bool:
        """Whether objective value *a* is strictly better than *b* in the model's sense."""
        tol = 1e-9 * max(abs(b), 1.0)
        return a > b + tol if self.maximize else a < b - tol

    def rule_rows(self):
        """``(block, global offset)`` of every non-structural block."""
        return [(b, o) for b, o in zip(self.blocks, self.row_offsets(), strict=False) if not b.structural]

    # ------------------------------------------------------------------ names and PuLP
    def column_names(self) -> list[str]:
        out = []
        for g, (a, b) in self.groups.items():
            if g == "spend_total":
                out += ["spend_total"] * (b - a)
            elif g == "slack":
                out += [f"slack_{r}_{'p' if s > 0 else 'n'}" for r, s in self.elastic.tolist()]
            else:
                out += [f"{g}_{k}" for k in self.col_keys[g].tolist()]
        return out

    def to_pulp(self):
        """The same problem as a PuLP ``LpProblem``; returns ``(problem, variables)`` with the
        variables in column order.  Values of the last solve, if any, are loaded into them.

        Built in bulk with the cyclic garbage collector paused (a large model is millions of
        small PuLP objects and no cycles worth collecting)."""
        import gc

        was = gc.isenabled()
        gc.disable()
        try:
            return self._to_pulp()
        finally:
            if was:
                gc.enable()

    def _to_pulp(self):
        import pulp

        prob = pulp.LpProblem("award", pulp.LpMaximize if self.maximize else pulp.LpMinimize)
        lb = [None if not np.isfinite(v) else float(v) for v in self.lb]
        ub = [None if not np.isfinite(v) else float(v) for v in self.ub]
        cats = [pulp.LpInteger if i else pulp.LpContinuous for i in self.integer.tolist()]
        variables = list(map(prob.add_variable, self.column_names(), lb, ub, cats))
        if self.values is not None:
            for v, x in zip(variables, self.values.tolist(), strict=True):
                v.varValue = x
        nz = np.flatnonzero(self.c)
        prob.setObjective(pulp.LpAffineExpression(
            zip([variables[i] for i in nz.tolist()], self.c[nz].tolist(), strict=True), constant=self.c0))
        starts, idx, val, _lo, _hi = self.csr()
        senses = np.concatenate([b.sense for b in self.blocks] or [np.zeros(0, np.int8)]).tolist()
        rhs = np.concatenate([b.rhs for b in self.blocks] or [np.zeros(0)]).tolist()
        names = [n for b in self.blocks for n in b.row_names()]
        terms = list(map(variables.__getitem__, idx.tolist()))
        vals = val.tolist()
        bounds = starts.tolist()
        spans = zip(bounds[:-1], bounds[1:], strict=True)
        exprs = map(pulp.LpAffineExpression, (zip(terms[a:b], vals[a:b], strict=True) for a, b in spans))
        rows = dict(zip(names, map(pulp.LpConstraint, exprs, senses, names, rhs), strict=True))
        if len(rows) != len(names):
            raise RuntimeError("duplicate row names in the award model")
        prob.extend(rows)
        return prob, variables
