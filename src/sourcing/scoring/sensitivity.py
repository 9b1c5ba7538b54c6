"""How sure is the ranking: weight-stability intervals, SMAA-2, agreement between methods, rank reversal.

Conventions
-----------
* Weight stability (one criterion at a time): criterion k's weight is moved to t in [0, 1] and
  the other weights are rescaled proportionally so they keep their ratios and the sum stays 1
  (``w_j(t) = w_j (1 - t) / (1 - w_k)``).  The interval reported is the connected range of t
  around the current weight within which the current top alternative stays first
  (``scope="first"``) or the whole ranking is unchanged (``scope="ranking"``).  For ``wsm`` the
  scores are linear in t, so the bounds are exact (solved in closed form); for other methods
  they are found by a grid scan (``grid`` points) followed by bisection to ``tol``.
* SMAA-2 (Lahdelma & Salminen 2001): weights uniform on the simplex when none are given;
  ``weight_bounds`` restricts them to intervals (rejection sampling); ``weight_order`` to a
  complete importance ranking (sorted uniform simplex samples, exact); given ``weights`` are
  perturbed with a Dirichlet of ``concentration * w`` (``concentration=None``: fixed).
  ``uncertainty`` adds Normal noise with that standard deviation (criterion units) to the
  values.  Ties within a sample are broken by input order.  Rank acceptability ``b_i^r`` is the
  share of samples giving alternative i rank r; the central weight vector is the mean weight
  vector of the samples that rank i first (NaN where ``b_i^1 = 0``: undefined); the confidence
  factor is the probability that i is first when its central weights are used (over the value
  draws; 0/1 without value uncertainty).  The holistic index uses meta-weights
  ``alpha_r = (m - r) / (m - 1)``.
* All scores come from the validation-free kernels in :mod:`sourcing.scoring.methods`, which are
  tested to agree with :func:`~sourcing.scoring.rank` (scikit-criteria) on single evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from .methods import (
    _check_constant,
    _check_preferences,
    _prepare,
    minmax_normalize,
    promethee_core,
    rank,
    ranks_from_scores,
    ratio_normalize,
    topsis_core,
    vector_normalize,
    vikor_core,
    wsm_core,
)

__all__ = [
    "SMAA_METHODS",
    "Agreement",
    "SMAAResult",
    "StabilityResult",
    "RankReversalResult",
    "compare_methods",
    "rank_reversal",
    "smaa",
    "weight_stability",
]

SMAA_METHODS = ("wsm", "wpm", "topsis", "vikor", "promethee")


# ---------------------------------------------------------------------- vectorised scoring
def _scorer(x: np.ndarray, obj: np.ndarray, method: str, params: dict, crits, w_check):
    """Validate parameters once and return (score(W, X=None) -> (s, m), higher_is_better)."""
    if method not in SMAA_METHODS:
        raise ValueError(f"unknown method {method!r} for sampling; valid choices: {', '.join(SMAA_METHODS)}")
    allowed = {"topsis": ("normalization",), "vikor": ("v",), "promethee": ("preference",)}.get(method, ())
    unknown = set(params) - set(allowed)
    if unknown:
        raise TypeError(f"method {method!r} got unknown parameters {sorted(unknown)}; valid: "
                        f"{', '.join(allowed) or 'none'}")
    if method == "wsm":
        _check_constant(x, w_check, crits, "wsm (min-max normalisation)")
        n0 = minmax_normalize(x, obj)
        return (lambda w, xs=None: wsm_core(n0 if xs is None else minmax_normalize(xs, obj), w)), True
    if method == "wpm":
        if np.any(x <= 0):
            raise ValueError("wpm needs all values > 0 (ratios are taken)")
        l0 = np.log(ratio_normalize(x, obj))

        def f(w, xs=None):
            if xs is None:
                return np.exp(wsm_core(l0, w))
            return np.exp(wsm_core(np.log(ratio_normalize(np.maximum(xs, 1e-12), obj)), w))

        return f, True
    if method == "topsis":
        norm = params.get("normalization", "vector")
        if norm not in ("vector", "minmax"):
            raise ValueError(f"unknown normalization {norm!r}; valid choices: vector, minmax")

        def _n(a):
            if norm == "vector":
                return vector_normalize(a)
            lo, hi = a.min(axis=-2, keepdims=True), a.max(axis=-2, keepdims=True)
            return (a - lo) / np.where(hi > lo, hi - lo, 1.0)

        if norm == "minmax":
            _check_constant(x, w_check, crits, "topsis with minmax normalisation")
        n0 = _n(x)
        return (lambda w, xs=None: topsis_core(n0 if xs is None else _n(xs), obj, w)), True
    if method == "vikor":
        v = float(params.get("v", 0.5))
        if not 0 <= v <= 1:
            raise ValueError(f"vikor: v must be within [0, 1]; got {v}")
        _check_constant(x, w_check, crits, "vikor")
        return (lambda w, xs=None: vikor_core(x if xs is None else xs, obj, w, v)[2]), False
    prefs = _check_preferences(params.get("preference"), x.shape[1], crits)
    phi0 = promethee_core(x, obj, prefs)

    def fp(w, xs=None):
        if xs is None:
            return wsm_core(phi0, w)
        return wsm_core(promethee_core(xs, obj, prefs), w)

    return fp, True


# ---------------------------------------------------------------------- weight stability
@dataclass(frozen=True)
class StabilityResult:
    """Weight-stability intervals, one row per criterion.

    ``intervals`` columns: ``weight`` (current), ``lower``, ``upper`` (bounds of the weight within
    which the result holds), ``takes_over_below`` / ``takes_over_above`` (alternative that
    becomes first just outside the bound, ``scope="first"`` only; empty if none), ``exact``.
    """

    intervals: pd.DataFrame
    top: object
    method: str
    scope: str
    conventions: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The intervals table."""
        return self.intervals.copy()

    def plot(self, ax=None):
        """Interval chart: current weight and stable range per criterion; returns the Axes."""
        from ..plots.scoring import plot_weight_stability

        return plot_weight_stability(self, ax=ax)


def _weights_at(w: np.ndarray, k: int, t: np.ndarray) -> np.ndarray:
    """Weight vectors (len(t), n) with w_k = t and the others rescaled proportionally."""
    t = np.atleast_1d(t)
    rest = w.copy()
    rest[k] = 0.0
    rest = rest / rest.sum() if rest.sum() > 0 else np.where(np.arange(len(w)) == k, 0.0, 1.0 / (len(w) - 1))
    return (1 - t)[:, None] * rest[None, :] + t[:, None] * np.eye(len(w))[k][None, :]


def weight_stability(matrix, objectives, weights, method: str = "wsm", *, scope: str = "first",
                     grid: int = 201, tol: float = 1e-6, **params) -> StabilityResult:
    """Interval of each criterion's weight within which the ranking result holds.

    Parameters
    ----------
    matrix, objectives, weights
        As for :func:`~sourcing.scoring.rank`.
    method : {"wsm", "wpm", "topsis", "vikor", "promethee"}
        ``wsm`` is solved exactly; the others by grid scan + bisection.
    scope : {"first", "ranking"}
        Keep the top alternative first, or keep the whole ranking.
    grid : int
        Grid points on [0, 1] used to bracket changes (non-exact methods).
    tol : float
        Bisection tolerance on the weight.
    **params
        Method parameters (``normalization``, ``v``, ``preference``).

    Returns
    -------
    StabilityResult
    """
    if scope not in ("first", "ranking"):
        raise ValueError(f"unknown scope {scope!r}; valid choices: first, ranking")
    x, obj, w, alts, crits = _prepare(matrix, objectives, weights)
    if x.shape[1] < 2:
        raise ValueError("weight stability needs at least 2 criteria")
    score, higher = _scorer(x, obj, method, params, crits, np.ones_like(w))
    base = ranks_from_scores(score(w[None, :])[0], higher_is_better=higher)
    top = int(np.argmin(base))
    order = np.argsort(base)

    def holds(r: np.ndarray) -> np.ndarray:  # r (g, m) ranks -> (g,) bool
        if scope == "first":
            return r[:, top] == 1
        return np.all(r == base[None, :], axis=1)

    def ranks_at(k, t):
        s = score(_weights_at(w, k, np.asarray(t, dtype=float)))
        return ranks_from_scores(s, higher_is_better=higher)

    rows = []
    n_norm = minmax_normalize(x, obj) if method == "wsm" else None
    for k in range(x.shape[1]):  # loop over criteria only
        wk = w[k]
        if method == "wsm":
            ws = _weights_at(w, k, np.array([0.0, 1.0]))
            b = n_norm @ ws[0]  # scores at t = 0
            a = n_norm @ ws[1]  # scores at t = 1 (= column k)
            pairs = ([(top, j) for j in range(len(alts)) if j != top] if scope == "first"
                     else [(order[i], order[i + 1]) for i in range(len(alts) - 1)])
            lo, hi, who_lo, who_hi = 0.0, 1.0, "", ""
            for p, q in pairs:  # closed form: (b_p - b_q) + t * ((a_p - b_p) - (a_q - b_q)) >= 0
                c0 = b[p] - b[q]
                c1 = (a[p] - b[p]) - (a[q] - b[q])
                if abs(c1) < 1e-15:
                    continue
                root = -c0 / c1
                if c1 > 0 and root > lo and root <= wk + 1e-12:
                    lo, who_lo = root, alts[q] if scope == "first" else ""
                elif c1 < 0 and root < hi and root >= wk - 1e-12:
                    hi, who_hi = root, alts[q] if scope == "first" else ""
            rows.append((wk, max(lo, 0.0), min(hi, 1.0), who_lo, who_hi, True))
            continue
        ts = np.linspace(0.0, 1.0, grid)
        ok = holds(ranks_at(k, ts))
        bounds = []
        for direction in (-1, 1):
            good = wk
            cand = ts[ts < wk][::-1] if direction < 0 else ts[ts > wk]
            bad = None
            for t in cand:  # scan the precomputed grid (vectorised evaluation above)
                if not ok[np.searchsorted(ts, t)]:
                    bad = t
                    break
                good = t
            if bad is None:
                bounds.append((0.0 if direction < 0 else 1.0, ""))
                continue
            while abs(bad - good) > tol:
                mid = 0.5 * (good + bad)
                if holds(ranks_at(k, [mid]))[0]:
                    good = mid
                else:
                    bad = mid
            r_bad = ranks_at(k, [bad])[0]
            who = alts[int(np.argmin(r_bad))] if scope == "first" else ""
            bounds.append((good, who))
        rows.append((wk, bounds[0][0], bounds[1][0], bounds[0][1], bounds[1][1], False))
    table = pd.DataFrame(rows, index=pd.Index(crits, name="criterion"),
                         columns=["weight", "lower", "upper", "takes_over_below", "takes_over_above",
                                  "exact"])
    conv = {"method": method, "scope": scope, "rescaling": "other weights proportional, sum 1",
            "solver": "closed form (linear in weight)" if method == "wsm"
            else f"grid {grid} + bisection tol {tol}",
            **params}
    return StabilityResult(intervals=table, top=alts[top], method=method, scope=scope, conventions=conv)


# ---------------------------------------------------------------------- SMAA-2
@dataclass(frozen=True)
class SMAAResult:
    """SMAA-2 outcome.

    Attributes
    ----------
    acceptability : DataFrame
        Alternatives x ranks (1..m): share of samples giving that rank; rows and columns sum to 1.
    central_weights : DataFrame
        Alternatives x criteria: mean weights of the samples where the alternative is first
        (NaN where its first-rank acceptability is 0: undefined).
    confidence : Series
        Probability of being first with its central weights (NaN where undefined).
    holistic : Series
        Holistic acceptability index, meta-weights ``(m - r) / (m - 1)``.
    n : int
        Number of samples.
    """

    acceptability: pd.DataFrame
    central_weights: pd.DataFrame
    confidence: pd.Series
    holistic: pd.Series
    n: int
    conventions: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Acceptabilities with the first-rank acceptability, holistic index and confidence."""
        out = self.acceptability.add_prefix("rank_")
        out.insert(0, "confidence", self.confidence)
        out.insert(0, "holistic", self.holistic)
        return out

    def plot(self, ax=None):
        """Rank-acceptability heatmap; returns the Axes."""
        from ..plots.scoring import plot_acceptability

        return plot_acceptability(self, ax=ax)


def _simplex(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    e = rng.exponential(size=(size, n))
    return e / e.sum(axis=1, keepdims=True)


def _sample_weights(rng, n_samples, n, w, weight_bounds, weight_order, concentration, crits):
    chosen = sum(v is not None for v in (w, weight_bounds, weight_order))
    if chosen > 1:
        raise ValueError("give at most one of weights, weight_bounds, weight_order")
    if weight_order is not None:
        r = np.asarray(pd.Series(weight_order).reindex(crits) if isinstance(weight_order, (dict, pd.Series))
                       else weight_order, dtype=float)
        if r.shape != (n,) or sorted(r.tolist()) != list(range(1, n + 1)):
            raise ValueError(f"weight_order must rank the {n} criteria 1..{n} (1 = most important), no ties")
        s = -np.sort(-_simplex(rng, n_samples, n), axis=1)
        return s[:, r.astype(int) - 1], "ordinal (sorted uniform simplex)"
    if weight_bounds is not None:
        lo, hi = (np.asarray(b, dtype=float).ravel() for b in weight_bounds)
        if (lo.shape != (n,) or hi.shape != (n,) or np.any(lo < 0) or np.any(hi < lo)
                or lo.sum() > 1 or hi.sum() < 1):
            raise ValueError(f"weight_bounds: need (lower, upper), {n} values each, 0 <= lower <= upper, "
                             "sum(lower) <= 1 <= sum(upper)")
        out, have, tries = [], 0, 0
        while have < n_samples:  # batches, not samples
            cand = _simplex(rng, max(4 * (n_samples - have), 1000), n)
            keep = cand[np.all((cand >= lo) & (cand <= hi), axis=1)]
            out.append(keep)
            have += len(keep)
            tries += 1
            if tries > 50:
                raise ValueError("weight_bounds are too narrow for rejection sampling (acceptance < 1/200)")
        return np.concatenate(out)[:n_samples], "uniform on simplex within bounds (rejection)"
    if w is not None:
        if concentration is None:
            return np.broadcast_to(w, (n_samples, n)).copy(), "fixed"
        if concentration <= 0:
            raise ValueError(f"concentration must be > 0; got {concentration}")
        g = np.zeros((n_samples, n))
        pos = w > 0
        g[:, pos] = rng.gamma(concentration * w[pos], size=(n_samples, int(pos.sum())))
        return g / g.sum(axis=1, keepdims=True), f"Dirichlet({concentration} * w)"
    return _simplex(rng, n_samples, n), "uniform on simplex"


#: Largest (sample x alternative x criterion) block SMAA evaluates at once: 2 million values.
SMAA_BLOCK_VALUES = 2_000_000


def smaa(matrix, objectives, weights=None, method: str = "wsm", n: int = 10_000, seed=None, *,
         weight_bounds=None, weight_order=None, concentration: float | None = 50.0,
         uncertainty=None, chunk: int = 20_000, progress: bool = False, **params) -> SMAAResult:
    """SMAA-2 stochastic multicriteria acceptability analysis, vectorised over samples.

    Parameters
    ----------
    matrix, objectives
        As for :func:`~sourcing.scoring.rank`.
    weights : optional
        Centre of a Dirichlet(concentration * w) weight distribution (fixed if
        ``concentration=None``); uniform on the simplex when omitted.
    method : {"wsm", "wpm", "topsis", "vikor", "promethee"}
    n : int
        Number of samples.
    seed : int or numpy Generator, optional
        Same seed -> identical results.
    weight_bounds : (lower, upper), optional
        Per-criterion weight intervals.
    weight_order : sequence, optional
        Importance rank of each criterion (1 = most important).
    uncertainty : float, array (m, n) or DataFrame, optional
        Standard deviation of Normal noise on the values, in the criteria's units.
    chunk : int
        Most samples evaluated per vectorised block; a block never holds more than
        :data:`SMAA_BLOCK_VALUES` sample x alternative x criterion values (16 MB), so peak memory
        stays bounded for any number of alternatives.  Results do not depend on it.
    progress : bool
        Show a tqdm progress bar over blocks.
    **params
        Method parameters.

    Returns
    -------
    SMAAResult
    """
    from tqdm.auto import tqdm

    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    x, obj, w, alts, crits = _prepare(matrix, objectives, weights, need_weights=weights is not None)
    m, k = x.shape
    if uncertainty is not None:
        sd = np.broadcast_to(np.asarray(uncertainty, dtype=float), x.shape)
        if not np.all(np.isfinite(sd)) or np.any(sd < 0):
            raise ValueError("uncertainty must be finite standard deviations >= 0")
    else:
        sd = None
    w_check = w if w is not None else np.ones(k)
    if weight_bounds is not None or weight_order is not None or (w is not None and concentration is not None):
        w_check = np.ones(k)
    score, higher = _scorer(x, obj, method, params, crits, w_check)
    rng = np.random.default_rng(seed)
    W, scheme = _sample_weights(rng, int(n), k, w, weight_bounds, weight_order, concentration, crits)
    # memory plan: a block holds (chunk, m, k) values (methods vectorised over samples form
    # such tensors, and so do value draws): at most SMAA_BLOCK_VALUES of them, 16 MB, whatever
    # the tender's size (2,000 vendors x 50 criteria: blocks of 20 samples, not one of 800 MB)
    chunk = max(1, min(int(chunk), SMAA_BLOCK_VALUES // (m * k)))
    counts = np.zeros(m * m, dtype=np.int64)
    first_w = np.zeros((m, k))
    first_n = np.zeros(m)
    for start in tqdm(range(0, n, chunk), disable=not progress, desc=f"SMAA {method}", unit="block"):
        wb = W[start:start + chunk]
        xs = None if sd is None else x + sd * rng.standard_normal((len(wb), m, k))
        r = ranks_from_scores(score(wb, xs), higher_is_better=higher)
        counts += np.bincount((np.arange(m)[None, :] * m + (r - 1)).ravel(), minlength=m * m)
        win = np.argmin(r, axis=1)
        first_n += np.bincount(win, minlength=m)
        for j in range(k):  # criteria loop
            first_w[:, j] += np.bincount(win, weights=wb[:, j], minlength=m)
    acc = counts.reshape(m, m) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        central = first_w / first_n[:, None]
    conf = np.full(m, np.nan)
    defined = first_n > 0
    n_conf = min(int(n), 10_000)
    for i in np.flatnonzero(defined):  # loop over alternatives, vectorised over value draws
        if sd is None:
            r = ranks_from_scores(score(central[i][None, :]), higher_is_better=higher)
            conf[i] = float(r[0, i] == 1)
        else:
            hits = 0
            for start in range(0, n_conf, chunk):
                c = min(chunk, n_conf - start)
                xs = x + sd * rng.standard_normal((c, m, k))
                r = ranks_from_scores(score(np.broadcast_to(central[i], (c, k)), xs), higher_is_better=higher)
                hits += int((r[:, i] == 1).sum())
            conf[i] = hits / n_conf
    meta = (m - np.arange(1, m + 1)) / (m - 1)
    idx = pd.Index(alts, name=matrix.index.name if isinstance(matrix, pd.DataFrame) else None)
    return SMAAResult(
        acceptability=pd.DataFrame(acc, index=idx, columns=pd.RangeIndex(1, m + 1, name="rank")),
        central_weights=pd.DataFrame(central, index=idx, columns=crits),
        confidence=pd.Series(conf, index=idx, name="confidence"),
        holistic=pd.Series(acc @ meta, index=idx, name="holistic"),
        n=int(n),
        conventions={"method": method, "weights": scheme, "values": "fixed" if sd is None else
                     "Normal(value, uncertainty)", "ties": "broken by input order", "seed": seed,
                     "holistic_meta_weights": "(m - r) / (m - 1)", **params},
    )


# ---------------------------------------------------------------------- agreement
@dataclass(frozen=True)
class Agreement:
    """Rankings by several methods and their pairwise rank correlations.

    ``ranks``: alternatives x methods; ``kendall`` and ``spearman``: methods x methods
    (Kendall's tau-b and Spearman's rho, 1 = identical order).
    """

    ranks: pd.DataFrame
    kendall: pd.DataFrame
    spearman: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The ranks table."""
        return self.ranks.copy()

    def plot(self, ax=None):
        """Heatmap of Kendall's tau; returns the Axes."""
        from ..plots.scoring import plot_agreement

        return plot_agreement(self, ax=ax)


def compare_methods(matrix, objectives, weights, methods=("wsm", "topsis", "vikor", "promethee"), *,
                    params: dict | None = None) -> Agreement:
    """Rank with several methods and measure their agreement (Kendall's tau, Spearman's rho).

    ``params`` maps a method name to its keyword arguments.
    """
    params = params or {}
    unknown = set(params) - set(methods)
    if unknown:
        raise ValueError(f"params given for methods not compared: {sorted(unknown)}")
    ranks = pd.concat({mth: rank(matrix, objectives, weights, method=mth, **params.get(mth, {})).ranks
                       for mth in methods}, axis=1)
    return Agreement(ranks=ranks, **rank_agreement(ranks))


def rank_agreement(ranks: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Kendall tau-b and Spearman rho matrices between the columns of a ranks table."""
    cols = list(ranks.columns)
    kt = pd.DataFrame(np.eye(len(cols)), index=cols, columns=cols)
    sp = kt.copy()
    for a in range(len(cols)):
        for b in range(a + 1, len(cols)):
            ra, rb = ranks.iloc[:, a].to_numpy(), ranks.iloc[:, b].to_numpy()
            if np.ptp(ra) == 0 or np.ptp(rb) == 0:
                t = s = 1.0 if np.array_equal(ra, rb) else 0.0
            else:
                t, s = kendalltau(ra, rb).statistic, spearmanr(ra, rb).statistic
            kt.iloc[a, b] = kt.iloc[b, a] = t
            sp.iloc[a, b] = sp.iloc[b, a] = s
    return {"kendall": kt, "spearman": sp}


# ---------------------------------------------------------------------- rank reversal
@dataclass(frozen=True)
class RankReversalResult:
    """Outcome of :func:`rank_reversal`: one row per test in ``tests``.

    Attributes
    ----------
    tests : DataFrame
        Per test (index ``test``): ``kind`` (``drop``, ``phantom``, ``add``), ``alternative``
        (the one dropped or added), ``ranked`` (alternatives ranked), ``pairs_reversed``
        (pairs of the original alternatives whose order changed, a tie appearing or
        disappearing counts), ``order_changed``, ``winner_before`` (the best of the alternatives
        still present, by the full ranking), ``winner_after``, ``winner_changed``, ``note``.
    base_ranks : Series
        Ranks of the full set.
    method : str
    conventions : dict
    """

    tests: pd.DataFrame
    base_ranks: pd.Series
    method: str
    conventions: dict

    @property
    def rank_reversal(self) -> bool:
        """True if any test changed the relative order of the original alternatives."""
        return bool(self.tests["order_changed"].any())

    @property
    def winner_changed(self) -> bool:
        """True if any test changed which of the remaining alternatives comes first."""
        return bool(self.tests["winner_changed"].any())

    def to_frame(self) -> pd.DataFrame:
        """The tests with reader-facing column names."""
        t = self.tests.reset_index()
        return pd.DataFrame({
            "Test": t["test"],
            "Alternatives ranked": t["ranked"],
            "Pairs reversed": t["pairs_reversed"],
            "Order of the others changed": t["order_changed"].map({True: "yes", False: "no"}),
            "Winner before": t["winner_before"],
            "Winner after": t["winner_after"],
            "Winner changed": t["winner_changed"].map({True: "yes", False: "no"}),
            "Note": t["note"],
        })


def _phantom(x: np.ndarray, obj: np.ndarray, row: int, step: float) -> np.ndarray:
    """A copy of alternative *row* made worse on every criterion.

    Positive columns are scaled (max criteria by ``1 - step``, min criteria by ``1 + step``),
    so the copy keeps the sign ratio-based methods need; other columns move by ``step`` times
    the column's range.  Constant, non-positive columns keep the value.
    """
    v = x[row].copy()
    span = np.ptp(x, axis=0)
    pos = np.all(x > 0, axis=0)
    worse_mult = np.where(obj > 0, v * (1 - step), v * (1 + step))
    worse_add = v - obj * step * span
    return np.where(pos, worse_mult, worse_add)


def _pair_signs(r: np.ndarray) -> np.ndarray:
    return np.sign(r[:, None] - r[None, :])


def rank_reversal(matrix, objectives, weights, *, method: str = "topsis", add=None,
                  phantom_step: float = 0.1, **params) -> RankReversalResult:
    """Check a ranking for rank reversal: drop or add an alternative and re-rank.

    Tests (Wang & Triantaphyllou 2008, Omega 36(1) 45-63): each alternative dropped in turn
    (with at least 3 alternatives); a dominated copy ("phantom") of the worst alternative
    added, made worse by ``phantom_step`` on every criterion; and each alternative of *add*
    added on its own.  For every test the ranks of the original alternatives still present
    are compared pair by pair with their ranks in the full set.

    Parameters
    ----------
    matrix : DataFrame (alternatives x criteria) or array-like (m, n)
        Values in each criterion's own unit (points, %, tender currency per year, ...).
    objectives, weights
        As for :func:`~sourcing.scoring.rank`.
    method : str
        Any of :data:`~sourcing.scoring.METHODS`.
    add : DataFrame or mapping of name -> values, optional
        Extra alternatives to add one at a time (e.g. a copy of a competitor, Belton & Gear 1983).
    phantom_step : float
        How much worse the phantom is: positive columns scaled by ``1 -/+ step``, others moved by
        ``step`` x the column's range; in (0, 1).
    **params
        Method parameters, as for :func:`~sourcing.scoring.rank`.

    Returns
    -------
    RankReversalResult
        ``.rank_reversal`` and ``.winner_changed`` summarise; ``.to_frame()`` lists the tests.
    """
    if not (isinstance(phantom_step, (int, float)) and 0 < phantom_step < 1):
        raise ValueError(f"phantom_step must be within (0, 1); got {phantom_step!r}")
    x, obj, w, alts, crits = _prepare(matrix, objectives, weights)
    df = pd.DataFrame(x, index=pd.Index(alts), columns=pd.Index(crits))
    objs = pd.Series(obj, index=crits)
    ws = pd.Series(w, index=crits)
    base = rank(df, objs, ws, method=method, **params)
    base_r = base.ranks.to_numpy()
    extra: list[tuple[str, object, pd.DataFrame]] = []
    if add is not None:
        add_df = add if isinstance(add, pd.DataFrame) else pd.DataFrame.from_dict(dict(add), orient="index",
                                                                                   columns=crits)
        missing = [c for c in crits if c not in add_df.columns]
        if missing:
            raise ValueError(f"add: missing values for criteria {missing}")
        clash = [a for a in add_df.index if a in alts]
        if clash:
            raise ValueError(f"add: alternatives {clash} are already in the matrix; give new names")
        try:
            vals = add_df[crits].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError("add: values must be numbers, one per criterion") from exc
        bad = [add_df.index[i] for i in np.flatnonzero(~np.isfinite(vals).all(axis=1))]
        if bad:
            raise ValueError(f"add: alternatives {bad} have missing or non-finite values")
        for name, row in zip(add_df.index, vals, strict=True):
            extra.append(("add", name, pd.DataFrame([row], index=[name], columns=crits)))
    worst = int(np.flatnonzero(base_r == base_r.max())[-1])
    ph_name = f"phantom of {alts[worst]}"
    while ph_name in alts:
        ph_name += "'"
    phantom = _phantom(x, obj, worst, float(phantom_step))
    extra.insert(0, ("phantom", ph_name, pd.DataFrame([phantom], index=[ph_name], columns=crits)))

    def _winner(keep: np.ndarray, r: np.ndarray) -> str:
        best = r.min()
        return ", ".join(str(a) for a, rr in zip(np.asarray(alts, dtype=object)[keep], r, strict=True)
                         if rr == best)

    rows = []
    cases = [("drop", i) for i in range(len(alts))] if len(alts) >= 3 else []
    cases += [(kind, e) for kind, _, e in extra]
    for kind, case in cases:
        if kind == "drop":
            keep = np.arange(len(alts)) != case
            label, who, sub = f"drop {alts[case]}", alts[case], df.iloc[keep]
        else:
            keep = np.ones(len(alts), dtype=bool)
            who = case.index[0]
            label = f"add {who}" if kind == "add" else f"add a dominated copy of {alts[worst]}"
            sub = pd.concat([df, case])
        before = base_r[keep]
        const = [c for c in crits if ws[c] > 0 and np.ptp(sub[c].to_numpy()) == 0]
        used = [c for c in crits if c not in const]
        if const and method != "promethee" and any(ws[c] > 0 for c in used):
            sub, sub_o, sub_w = sub[used], objs[used], ws[used]  # no information, as evaluate() does
            const_note = f"criteria {const} constant here, left out"
        else:
            sub_o, sub_w, const_note = objs, ws, ""
        try:
            full = rank(sub, sub_o, sub_w, method=method, **params).ranks.to_numpy()
        except ValueError as exc:
            rows.append({"test": label, "kind": kind, "alternative": who, "ranked": len(sub),
                         "pairs_reversed": 0, "order_changed": False, "winner_before": _winner(keep, before),
                         "winner_after": "", "winner_changed": False,
                         "note": f"not ranked: {exc}"})
            continue
        new = full[: int(keep.sum())]
        changed = _pair_signs(before) != _pair_signs(new)
        n_rev = int(np.triu(changed, 1).sum())
        wb, wa = _winner(keep, before), _winner(keep, new)
        note = "; ".join(t for t in (const_note, f"{who} ranks first" if kind != "drop" and
                                     full[-1] == full.min() else "") if t)
        rows.append({"test": label, "kind": kind, "alternative": who, "ranked": len(sub),
                     "pairs_reversed": n_rev, "order_changed": n_rev > 0, "winner_before": wb,
                     "winner_after": wa, "winner_changed": wb != wa, "note": note})
    tests = pd.DataFrame(rows).set_index("test")
    conv = {"method": method, "params": dict(params), "phantom_step": float(phantom_step),
            "phantom": "positive columns scaled by 1 - step (max) / 1 + step (min), others moved by "
                       "step x range", "compared": "pairwise order of the original alternatives present",
            "reference": "Wang & Triantaphyllou (2008), Omega 36(1) 45-63"}
    return RankReversalResult(tests=tests, base_ranks=base.ranks, method=method, conventions=conv)
