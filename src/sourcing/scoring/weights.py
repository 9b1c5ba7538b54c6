"""Criterion weights: AHP (single and group), hierarchy, direct points, swing, rank-based, entropy/CRITIC.

Two layers: ``ahp_eigen``/``ahp_geometric`` and friends work on plain numpy arrays without
validation; :func:`ahp` and the other public helpers validate their input and return labelled
pandas objects.  Every weight vector returned sums to 1.

Conventions
-----------
* AHP prioritisation: principal right eigenvector (Saaty 1980) by default, row geometric mean
  (Crawford & Williams 1985) with ``method="geometric"``.  ``lambda_max`` for the geometric
  method is the Rayleigh-type estimate ``mean((A w) / w)``.
* Consistency: ``CI = (lambda_max - n) / (n - 1)``, ``CR = CI / RI(n)`` with Saaty's random index
  table (:data:`RI_TABLES`, named in the result); ``CR <= 0.10`` is "consistent".  For n <= 2
  every reciprocal matrix is consistent and ``CR = 0``.
* Judgments contributing to inconsistency: with ``e_ij = a_ij w_j / w_i`` the identity
  ``sum_{i<j} (e_ij + 1/e_ij - 2) = n (lambda_max - n)`` holds exactly for the eigenvector
  weights, so each judgment's term divided by ``n (lambda_max - n)`` is its share of the
  inconsistency.  ``suggested`` is the consistent value ``w_i / w_j``.
* Group AHP: AIJ = element-wise weighted geometric mean of the evaluators' matrices (keeps
  reciprocity); AIP = weighted geometric mean of the evaluators' priority vectors, renormalised
  (Forman & Peniwati 1998).  Evaluator weights are normalised to sum to 1.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "RI_TABLES",
    "AHPResult",
    "ahp",
    "aggregate_judgments",
    "aggregate_priorities",
    "critic_weights",
    "direct_weights",
    "entropy_weights",
    "hierarchy_weights",
    "pairwise_matrix",
    "rank_weights",
    "swing_weights",
]

#: Random consistency index by matrix order n (index n-1).  ``saaty1980``: Saaty (1980), The
#: Analytic Hierarchy Process, table for n = 1..10, extended to n = 15 with the values Saaty
#: later published (1.51, 1.48, 1.56, 1.57, 1.59).  ``saaty2008``: Saaty (2008), "Decision
#: making with the analytic hierarchy process", Int. J. Services Sciences 1(1), Table 2 (n<=10).
RI_TABLES: dict[str, tuple[float, ...]] = {
    "saaty1980": (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49,
                  1.51, 1.48, 1.56, 1.57, 1.59),
    "saaty2008": (0.0, 0.0, 0.52, 0.89, 1.11, 1.25, 1.35, 1.40, 1.45, 1.49),
}
_AHP_METHODS = ("eigen", "geometric")


# ---------------------------------------------------------------------- numeric core
def ahp_eigen(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Principal eigenvector (sum 1) and principal eigenvalue of a positive matrix (no checks)."""
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    w = np.abs(vecs[:, k].real)
    return w / w.sum(), float(vals[k].real)


def ahp_geometric(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Row geometric mean weights (sum 1) and ``mean((A w)/w)`` (no checks)."""
    g = np.exp(np.log(a).mean(axis=1))
    w = g / g.sum()
    return w, float(np.mean(a @ w / w))


def random_index(n: int, table: str = "saaty1980") -> float:
    """Saaty's random index for order *n* from :data:`RI_TABLES`."""
    if table not in RI_TABLES:
        raise ValueError(f"unknown ri_table {table!r}; valid choices: {', '.join(RI_TABLES)}")
    ri = RI_TABLES[table]
    if n > len(ri):
        raise ValueError(f"ri_table {table!r} covers n <= {len(ri)} items; got n = {n}. "
                         "Split the comparison into a hierarchy of smaller groups.")
    return ri[n - 1]


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class AHPResult:
    """Outcome of an AHP prioritisation.

    Attributes
    ----------
    weights : Series
        Priority of each item, sums to 1.
    lambda_max, ci, cr : float
        Principal eigenvalue (estimate), consistency index and consistency ratio.
    consistent : bool
        ``cr <= 0.10``.
    ri : float
        Random index used.
    ri_table : str
        Name of the RI table (a key of :data:`RI_TABLES`).
    method : str
        ``"eigen"`` or ``"geometric"``.
    matrix : DataFrame
        The (possibly aggregated) pairwise matrix.
    inconsistency : DataFrame
        One row per judgment ``item_a`` vs ``item_b`` (upper triangle), columns ``value``,
        ``suggested`` (consistent value ``w_a / w_b``), ``share`` (share of the inconsistency),
        sorted with the judgment to revisit first.
    """

    weights: pd.Series
    lambda_max: float
    ci: float
    cr: float
    consistent: bool
    ri: float
    ri_table: str
    method: str
    matrix: pd.DataFrame
    inconsistency: pd.DataFrame = field(repr=False)

    @property
    def conventions(self) -> dict[str, object]:
        """Prioritisation method, RI table and threshold used."""
        return {"prioritisation": self.method, "ri_table": self.ri_table, "ri": self.ri,
                "cr_threshold": 0.10}

    def to_frame(self) -> pd.DataFrame:
        """Weights table (item, weight) with CR in ``attrs``."""
        out = self.weights.to_frame("weight")
        out.attrs.update({"cr": self.cr, "lambda_max": self.lambda_max, "ci": self.ci})
        return out

    def plot(self, ax=None):
        """Bar chart of the weights annotated with CR; returns the Axes."""
        from ..plots.scoring import plot_ahp

        return plot_ahp(self, ax=ax)


def _as_square(pairwise, name: str = "pairwise") -> tuple[np.ndarray, list]:
    if isinstance(pairwise, pd.DataFrame):
        labels = list(pairwise.index)
        if list(pairwise.columns) != labels:
            raise ValueError(f"{name}: row and column labels must be the same items in the same order")
        a = pairwise.to_numpy(dtype=float)
    else:
        try:
            a = np.asarray(pairwise, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a square numeric array or DataFrame") from exc
        labels = list(range(a.shape[0])) if a.ndim == 2 else []
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
        raise ValueError(f"{name} must be a square n x n matrix; got shape {a.shape}")
    return a, labels


#: Largest pairwise judgment accepted (and smallest 1 / it).
_MAX_JUDGMENT = 1e6


def _check_reciprocal(a: np.ndarray, labels: list, *, rtol: float = 1e-3, name: str = "pairwise") -> None:
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        bad = np.argwhere(~np.isfinite(a) | (a <= 0))[0]
        raise ValueError(f"{name} must be positive and finite; entry ({labels[bad[0]]!r}, "
                         f"{labels[bad[1]]!r}) = {a[tuple(bad)]}")
    if np.any(a > _MAX_JUDGMENT) or np.any(a < 1.0 / _MAX_JUDGMENT):
        # far off any judgment scale, and a / a.T overflows for 1e308
        bad = np.argwhere((a > _MAX_JUDGMENT) | (a < 1.0 / _MAX_JUDGMENT))[0]
        raise ValueError(f"{name} entries must lie within [1/{_MAX_JUDGMENT:g}, {_MAX_JUDGMENT:g}] "
                         f"(Saaty's scale is 1/9..9); entry ({labels[bad[0]]!r}, {labels[bad[1]]!r}) = "
                         f"{a[tuple(bad)]:g}")
    prod = a * a.T
    # judgments are often typed with 4 decimals (0.3333), so allow a small relative tolerance
    off = np.abs(prod - 1.0) > max(rtol, 1e-9)
    if off.any():
        i, j = np.argwhere(off)[0]
        raise ValueError(f"{name} is not reciprocal: a[{labels[i]!r}, {labels[j]!r}] = {a[i, j]:g} but "
                         f"a[{labels[j]!r}, {labels[i]!r}] = {a[j, i]:g} (need a_ji = 1 / a_ij)")


def ahp(pairwise, *, method: str = "eigen", ri_table: str = "saaty1980") -> AHPResult:
    """Priorities and consistency of a pairwise comparison matrix (Saaty's AHP).

    Parameters
    ----------
    pairwise : array-like or DataFrame, shape (n, n)
        Positive reciprocal matrix of Saaty-scale judgments (``a_ij`` = how much more important
        item i is than j, 1/9..9).  A labelled DataFrame keeps its labels.
    method : {"eigen", "geometric"}
        Prioritisation: principal eigenvector (default) or row geometric mean.
    ri_table : {"saaty1980", "saaty2008"}
        Random index table for the consistency ratio.

    Returns
    -------
    AHPResult
        ``CR > 0.10`` sets ``consistent=False``; it is a flag, not an error.

    Raises
    ------
    ValueError
        Matrix not square, not positive, not reciprocal, unknown method or table.
    """
    if method not in _AHP_METHODS:
        raise ValueError(f"unknown method {method!r}; valid choices: {', '.join(_AHP_METHODS)}")
    a, labels = _as_square(pairwise)
    _check_reciprocal(a, labels)
    n = a.shape[0]
    ri = random_index(n, ri_table)
    # symmetrise the rounding of typed reciprocals: use sqrt(a_ij / a_ji)
    a = np.sqrt(a / a.T)
    w, lam = ahp_eigen(a) if method == "eigen" else ahp_geometric(a)
    lam = max(lam, float(n))  # lambda_max >= n for positive reciprocal matrices (rounding)
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    cr = ci / ri if ri > 0 else 0.0
    iu, ju = np.triu_indices(n, 1)
    e = a[iu, ju] * w[ju] / w[iu]
    term = e + 1.0 / e - 2.0
    total = term.sum()
    inc = pd.DataFrame({
        "item_a": [labels[i] for i in iu], "item_b": [labels[j] for j in ju],
        "value": a[iu, ju], "suggested": w[iu] / w[ju],
        "share": term / total if total > 1e-12 else np.zeros_like(term),
    }).sort_values("share", ascending=False, kind="stable").reset_index(drop=True)
    return AHPResult(
        weights=pd.Series(w, index=labels, name="weight"), lambda_max=lam, ci=float(ci),
        cr=float(cr), consistent=bool(cr <= 0.10), ri=float(ri), ri_table=ri_table, method=method,
        matrix=pd.DataFrame(a, index=labels, columns=labels), inconsistency=inc,
    )


def pairwise_matrix(table: pd.DataFrame, items: Sequence | None = None) -> pd.DataFrame:
    """Square reciprocal matrix from long judgments (columns ``item_a``, ``item_b``, ``value``).

    Each unordered pair must be judged once (either direction); the diagonal is 1.

    Raises
    ------
    ValueError
        Missing, duplicated or unknown pairs, listed by name.
    """
    for col in ("item_a", "item_b", "value"):
        if col not in table.columns:
            raise ValueError(f"pairwise table needs columns item_a, item_b, value; missing {col!r}")
    if items is None:
        items = list(dict.fromkeys(list(table["item_a"]) + list(table["item_b"])))
    items = list(items)
    pos = {k: i for i, k in enumerate(items)}
    n = len(items)
    a = np.full((n, n), np.nan)
    np.fill_diagonal(a, 1.0)
    for ia, ib, v in zip(table["item_a"], table["item_b"], table["value"], strict=True):
        if ia not in pos or ib not in pos:
            raise ValueError(f"judgment {ia!r} vs {ib!r} names an unknown item; valid items: "
                             f"{', '.join(map(str, items))}")
        i, j = pos[ia], pos[ib]
        if i == j or not np.isnan(a[i, j]):
            raise ValueError(f"judgment {ia!r} vs {ib!r} is duplicated or compares an item with itself")
        v = float(v)
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"judgment {ia!r} vs {ib!r} = {v}; must be a positive number")
        a[i, j], a[j, i] = v, 1.0 / v
    missing = [f"{items[i]} vs {items[j]}" for i, j in zip(*np.triu_indices(n, 1), strict=True)
               if np.isnan(a[i, j])]
    if missing:
        raise ValueError("pairwise judgments missing for: " + ", ".join(missing))
    return pd.DataFrame(a, index=items, columns=items)


def _evaluator_weights(k: int, weights) -> np.ndarray:
    if weights is None:
        return np.full(k, 1.0 / k)
    w = np.asarray(list(weights.values()) if isinstance(weights, Mapping) else weights, dtype=float)
    if w.shape != (k,):
        raise ValueError(f"evaluator weights: need {k} values (one per evaluator); got {w.size}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("evaluator weights must be finite, >= 0 and not all zero")
    return w / w.sum()


def _matrices(matrices) -> tuple[list[str] | None, list]:
    if isinstance(matrices, Mapping):
        return list(matrices), list(matrices.values())
    return None, list(matrices)


def aggregate_judgments(matrices, *, weights=None) -> pd.DataFrame:
    """AIJ: element-wise weighted geometric mean of several evaluators' pairwise matrices.

    Parameters
    ----------
    matrices : sequence or mapping (evaluator -> matrix) of square DataFrames/arrays, same items
    weights : sequence or mapping, optional
        Evaluator weights (normalised); equal by default.  With a mapping of matrices, a weights
        mapping is read in the same evaluator order.

    Returns
    -------
    DataFrame
        The group matrix (reciprocal by construction).
    """
    names, mats = _matrices(matrices)
    if not mats:
        raise ValueError("aggregate_judgments needs at least one matrix")
    if isinstance(weights, Mapping) and names is not None:
        missing = [e for e in names if e not in weights]
        if missing:
            raise ValueError(f"evaluator weights missing for {', '.join(map(str, missing))}")
        weights = [weights[e] for e in names]
    arrs, labels = [], None
    for k, m in enumerate(mats):
        a, lab = _as_square(m, name=f"matrix {names[k] if names else k}")
        _check_reciprocal(a, lab, name=f"matrix {names[k] if names else k}")
        if labels is None:
            labels = lab
        elif lab != labels:
            raise ValueError("all pairwise matrices must compare the same items in the same order")
        arrs.append(np.log(a))
    w = _evaluator_weights(len(arrs), weights)
    g = np.exp(np.tensordot(w, np.stack(arrs), axes=1))
    return pd.DataFrame(g, index=labels, columns=labels)


def aggregate_priorities(priorities, *, weights=None, mean: str = "geometric") -> pd.Series:
    """AIP: combine several evaluators' priority vectors (weighted geometric or arithmetic mean).

    ``priorities`` is a sequence/mapping of Series (same index) or a DataFrame with one column
    per evaluator.  The result is renormalised to sum to 1.
    """
    if mean not in ("geometric", "arithmetic"):
        raise ValueError(f"unknown mean {mean!r}; valid choices: geometric, arithmetic")
    if isinstance(priorities, pd.DataFrame):
        frame = priorities
    else:
        names, vecs = _matrices(priorities)
        frame = pd.concat([pd.Series(v) for v in vecs], axis=1)
        if names:
            frame.columns = names
    if isinstance(weights, Mapping):
        weights = [weights[c] for c in frame.columns]
    p = frame.to_numpy(dtype=float)
    if not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError("priorities must be positive and finite (same items for every evaluator)")
    w = _evaluator_weights(p.shape[1], weights)
    g = np.exp(np.log(p) @ w) if mean == "geometric" else p @ w
    return pd.Series(g / g.sum(), index=frame.index, name="weight")


def hierarchy_weights(group_weights: pd.Series | Mapping, local_weights: Mapping) -> pd.Series:
    """Global criterion weights = group weight x local weight within the group.

    Parameters
    ----------
    group_weights : Series or mapping, group -> weight (normalised here)
    local_weights : mapping group -> Series (criterion -> local weight, normalised within group)

    Returns
    -------
    Series
        criterion -> global weight, groups in ``group_weights`` order, sums to 1.
    """
    g = pd.Series(group_weights, dtype=float)
    if g.isna().any() or (g < 0).any() or g.sum() <= 0:
        raise ValueError("group weights must be >= 0 and not all zero")
    g = g / g.sum()
    missing = [k for k in g.index if k not in local_weights]
    if missing:
        raise ValueError(f"local weights missing for groups: {', '.join(map(str, missing))}")
    parts = []
    for grp, gw in g.items():
        loc = pd.Series(local_weights[grp], dtype=float)
        if loc.isna().any() or (loc < 0).any() or loc.sum() <= 0:
            raise ValueError(f"local weights of group {grp!r} must be >= 0 and not all zero")
        parts.append(gw * loc / loc.sum())
    out = pd.concat(parts)
    if out.index.duplicated().any():
        raise ValueError("a criterion appears in more than one group")
    return out.rename("weight")


def _positive_series(values, name: str) -> pd.Series:
    s = pd.Series(values, dtype=float) if not isinstance(values, pd.Series) else values.astype(float)
    if s.isna().any() or not np.all(np.isfinite(s)):
        raise ValueError(f"{name} must be finite numbers; got NaN/inf for {list(s.index[~np.isfinite(s)])}")
    if (s < 0).any():
        raise ValueError(f"{name} must be >= 0; negative for {list(s.index[s < 0])}")
    if s.sum() <= 0:
        raise ValueError(f"{name} must not all be zero")
    return s


def direct_weights(points) -> pd.Series:
    """Direct points (any positive scale) normalised to sum to 1."""
    s = _positive_series(points, "points")
    return (s / s.sum()).rename("weight")


def swing_weights(points) -> pd.Series:
    """Swing weights: points 0-100 for the swing of each criterion from worst to best.

    The most important swing gets 100 (checked); the others are rated relative to it.  Weights
    are the points normalised to sum to 1 (von Winterfeldt & Edwards 1986).
    """
    s = _positive_series(points, "swing points")
    if s.max() != 100 or (s > 100).any():
        raise ValueError("swing points: the most important swing must be rated 100 and none above")
    return (s / s.sum()).rename("weight")


_RANK_METHODS = ("roc", "rs", "rr")


def rank_weights(ranks, *, method: str = "roc") -> pd.Series:
    """Weights from an importance ranking (1 = most important).

    ``roc``: rank order centroid ``w_k = (1/n) sum_{i=k..n} 1/i``; ``rs``: rank sum
    ``2 (n + 1 - k) / (n (n + 1))``; ``rr``: rank reciprocal ``(1/k) / sum_i 1/i``
    (Stillwell, Seaver & Edwards 1981; Barron & Barrett 1996).  Tied ranks share the average
    of the weights of the positions they occupy.
    """
    if method not in _RANK_METHODS:
        raise ValueError(f"unknown method {method!r}; valid choices: {', '.join(_RANK_METHODS)}")
    r = pd.Series(ranks, dtype=float) if not isinstance(ranks, pd.Series) else ranks.astype(float)
    n = len(r)
    if n == 0 or r.isna().any() or (r < 1).any():
        raise ValueError("ranks must be numbers >= 1 (1 = most important), one per criterion")
    k = np.arange(1, n + 1, dtype=float)
    if method == "roc":
        base = np.cumsum((1.0 / k)[::-1])[::-1] / n
    elif method == "rs":
        base = 2 * (n + 1 - k) / (n * (n + 1))
    else:
        base = (1.0 / k) / np.sum(1.0 / k)
    # positions 1..n by rank, ties averaged
    order = r.rank(method="first").to_numpy().astype(int) - 1
    pos_w = base[order]
    w = pd.Series(pos_w, index=r.index).groupby(r).transform("mean")
    return (w / w.sum()).rename("weight")


def _skc_dm(matrix, objectives):
    from .methods import _prepare

    x, obj, _, alts, crits = _prepare(matrix, objectives, None, need_weights=False)
    import skcriteria as skc

    return skc.mkdm(x, obj.astype(int), alternatives=[str(a) for a in alts],
                    criteria=[str(c) for c in crits]), crits


def entropy_weights(matrix, objectives) -> pd.Series:
    """Shannon-entropy weights (Zeleny 1982; Hwang & Yoon 1981, sec. 4.2.1), summing to 1.

    ``p_ij = x_ij / sum_i x_ij`` per criterion, entropy ``e_j = -sum_i p_ij ln p_ij / ln m``
    (``0 ln 0 = 0``), divergence ``d_j = 1 - e_j``, weight ``w_j = d_j / sum_k d_k``.  The
    ratios ``p_ij`` are free of each criterion's unit (scaling a column leaves its weight
    unchanged) and do not depend on the objective (``objectives`` is validated only).

    Parameters
    ----------
    matrix : array-like (m, n) or DataFrame (alternatives x criteria)
        Values >= 0 in each criterion's own unit (points, %, tender currency per year, ...).
    objectives : sequence or Series of ``"max"``/``"min"``

    Returns
    -------
    Series
        One weight per criterion, sum 1.

    Raises
    ------
    ValueError
        A negative value (``p_ij`` would not be a distribution and ``ln p_ij`` undefined: the
        method as published needs values >= 0; the message names the cells -- shift or rescale
        the criterion, e.g. score it in points), a criterion that is zero for every alternative,
        or a matrix in which every criterion is constant (all divergences 0).
    """
    from .methods import _prepare

    x, _, _, alts, crits = _prepare(matrix, objectives, None, need_weights=False)
    neg = np.argwhere(x < 0)
    if len(neg):
        cells = ", ".join(f"({alts[i]!r}, {crits[j]!r}) = {x[i, j]:g}" for i, j in neg[:10])
        raise ValueError(f"entropy_weights: matrix has {len(neg)} negative value(s) at {cells}; the "
                         "entropy method needs values >= 0 (shares of each criterion's total) -- "
                         "shift or rescale those criteria first")
    total = x.sum(axis=0)
    zero = [crits[j] for j in np.flatnonzero(total == 0)]
    if zero:
        raise ValueError(f"entropy_weights: criteria {zero} are 0 for every alternative; their "
                         "shares are undefined -- drop them")
    p = x / total
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(x.shape[0])
    d = np.clip(1.0 - e, 0.0, None)
    if not d.sum() > 0:
        raise ValueError("entropy_weights: every criterion has the same value for every alternative; "
                         "entropy gives no weights")
    return pd.Series(d / d.sum(), index=crits, name="weight")


def critic_weights(matrix, objectives, *, correlation: str = "pearson") -> pd.Series:
    """CRITIC weights (Diakoulaki et al. 1995) via scikit-criteria's ``CRITIC`` (sum 1)."""
    from skcriteria.preprocessing.weighters import CRITIC

    if correlation not in ("pearson", "spearman"):
        raise ValueError(f"unknown correlation {correlation!r}; valid choices: pearson, spearman")
    dm, crits = _skc_dm(matrix, objectives)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skcriteria warns on min objectives; CRITIC handles them
        w = CRITIC(correlation=correlation).transform(dm).weights.to_numpy(dtype=float)
    return pd.Series(w / w.sum(), index=crits, name="weight")
