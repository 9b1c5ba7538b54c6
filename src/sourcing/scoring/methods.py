"""Ranking methods: WSM, WPM, TOPSIS, VIKOR, PROMETHEE II, ELECTRE, MOORA, COPRAS, ARAS, MABAC, ...

Two layers.  The ``*_core`` functions are validation-free numpy kernels that broadcast over
leading sample axes -- a matrix ``X`` of shape ``(..., m, n)`` (m alternatives, n criteria) and
weights ``W`` of shape ``(..., n)`` -- so :func:`~sourcing.scoring.sensitivity.smaa` can evaluate
100,000 weight vectors at once.  :func:`rank` validates its input, runs scikit-criteria's
implementation where it is right for any units (``WeightedSumModel``, ``WeightedProductModel``,
``TOPSIS``, ``VIKOR``, ``ELECTRE2``, each on a matrix normalised here), this package's
:class:`PROMETHEE2` (a ``SKCDecisionMakerABC`` subclass) and numpy kernels for the others
(:data:`METHODS`).

Conventions (also returned in ``Ranking.conventions``)
-----------------------------------------------------
* ``objectives``: +1 / ``max`` / ``"max"`` = more is better, -1 / ``min`` / ``"min"`` = less.
* Weights are normalised to sum to 1; individual weights may be 0, none may be negative.
* **wsm**: min-max normalisation oriented to benefit, ``(x - min) / (max - min)`` for max
  criteria and ``(max - x) / (max - min)`` for min criteria, score = sum of weight x normalised
  value, in [0, 1]; contributions are exact.
* **wpm**: ratio normalisation ``x / max`` (max criteria), ``min / x`` (min criteria), score =
  product of ratio ** weight, in (0, 1]; values must be > 0.
* **topsis**: ``normalization="vector"`` (default, Hwang & Yoon 1981: x / column 2-norm) or
  ``"minmax"``; Euclidean distances to the weighted ideal/anti-ideal; score = closeness
  ``D- / (D+ + D-)``.
* **vikor**: ``v=0.5``; S = sum_j w_j (f*_j - f_ij) / (f*_j - f-_j), R = max_j of the same,
  Q = v (S - S*) / (S- - S*) + (1 - v) (R - R*) / (R- - R*); score = Q, *lower is better*;
  compromise set with C1 (acceptable advantage, DQ = 1 / (m - 1)) and C2 (acceptable stability)
  as in Opricovic & Tzeng (2004).
* **promethee**: PROMETHEE II (Brans & Vincke 1985), one preference function per criterion
  (``usual``, ``u-shape`` (q), ``v-shape`` (p), ``level`` (q, p), ``linear`` (q, p),
  ``gaussian`` (s)), thresholds in the criterion's own unit; score = net flow phi in [-1, 1];
  ``phi = sum_j w_j phi_j`` exactly, with phi_j the per-criterion net flows.
* **electre**: scikit-criteria ``ELECTRE2`` (Gomes 2004 variant) on sum-normalised values
  ``x / column sum`` (values >= 0), so the discordance compares criteria on a common, unit-free
  scale (on raw values it divided by the largest range over all criteria: a price in cents
  outweighed everything); score = its mean of direct and inverse ranking, *lower is better*.
* **moora** (Brauers & Zavadskas 2006, ratio system): vector normalisation, ``y = sum_max w x*
  - sum_min w x*``.
* **copras** (Zavadskas et al. 1994): sum normalisation, ``Q = S+ + S-_min sum S- / (S- sum
  S-_min / S-)``, score = utility degree ``Q / max Q``; values >= 0, > 0 on min criteria.
* **aras** (Zavadskas & Turskis 2010): min criteria as ``1 / x``, optimal alternative = best
  value per criterion, sum normalisation, score = ``S / S_0``; values >= 0, > 0 on min criteria.
* **mabac** (Pamucar & Cirovic 2015): min-max normalisation, border approximation area, score =
  ``S``.  **cocoso** (Yazdani et al. 2019): min-max, ``lam=0.5``, score = ``k``.
* **codas** (Keshavarz Ghorabaee et al. 2016): linear normalisation ``x / max``, ``min / x``,
  ``tau=0.02``, score = ``H``.  **waspas** (Zavadskas et al. 2012): the same normalisation,
  ``lam=0.5``, score = ``Q``.  Both need values >= 0, > 0 on min criteria.
* **ram** (Sotoudeh-Anvari 2023): sum normalisation, ``RI = (2 + S+) ** (1 / (2 + S-))``.
* **edas** (Keshavarz Ghorabaee et al. 2015): distances from the average solution, score ``AS``.
* Every method is invariant to each criterion's unit (scaling a column by c > 0) and to the
  order of the alternatives; each is tested against a published worked example.  Other
  scikit-criteria methods are not offered (they were run on the raw matrix).
* Ranks: 1 = best; scores within 1e-9 of the score scale tie and share the lowest rank.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from skcriteria.agg import RankResult, SKCDecisionMakerABC

__all__ = [
    "METHODS",
    "PREFERENCE_TYPES",
    "PROMETHEE2",
    "Ranking",
    "minmax_normalize",
    "promethee_core",
    "rank",
    "ranks_from_scores",
    "topsis_core",
    "vector_normalize",
    "vikor_core",
    "wpm_core",
    "wsm_core",
]

PREFERENCE_TYPES: dict[str, tuple[str, ...]] = {
    "usual": (), "u-shape": ("q",), "v-shape": ("p",), "level": ("q", "p"),
    "linear": ("q", "p"), "gaussian": ("s",),
}
#: Every method :func:`rank` offers (each unit-invariant and checked against a published example).
METHODS = ("wsm", "wpm", "topsis", "vikor", "promethee", "electre", "moora", "copras", "aras",
           "mabac", "cocoso", "codas", "waspas", "ram", "edas")
_HIGHER_BETTER = {"wsm": True, "wpm": True, "topsis": True, "vikor": False, "promethee": True,
                  "electre": False, "moora": True, "copras": True, "aras": True, "mabac": True,
                  "cocoso": True, "codas": True, "waspas": True, "ram": True, "edas": True}


# ====================================================================== numeric core (no checks)
def minmax_normalize(x: np.ndarray, obj: np.ndarray) -> np.ndarray:
    """Benefit-oriented min-max normalisation over the alternatives axis (-2); values in [0, 1]."""
    lo = x.min(axis=-2, keepdims=True)
    hi = x.max(axis=-2, keepdims=True)
    span = hi - lo
    n = np.where(obj > 0, x - lo, hi - x)
    return n / np.where(span > 0, span, 1.0)


def vector_normalize(x: np.ndarray) -> np.ndarray:
    """Divide each column by its Euclidean norm over the alternatives axis (-2).

    Each column is first divided by its largest magnitude, so squares neither overflow (1e200)
    nor underflow (1e-200); the result is the same.
    """
    scale = np.abs(x).max(axis=-2, keepdims=True)
    x = x / np.where(scale > 0, scale, 1.0)
    norm = np.sqrt((x * x).sum(axis=-2, keepdims=True))
    return x / np.where(norm > 0, norm, 1.0)


def ratio_normalize(x: np.ndarray, obj: np.ndarray) -> np.ndarray:
    """``x / max`` for max criteria, ``min / x`` for min criteria (x > 0)."""
    return np.where(obj > 0, x / x.max(axis=-2, keepdims=True), x.min(axis=-2, keepdims=True) / x)


def wsm_core(n: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted sum of a benefit-oriented normalised matrix; ``(..., m, n), (..., n) -> (..., m)``."""
    if n.ndim == 2:
        return w @ n.T
    return np.einsum("...ij,...j->...i", n, w)


def wpm_core(r: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted product of ratio-normalised values (> 0); ``(..., m, n), (..., n) -> (..., m)``."""
    return np.exp(wsm_core(np.log(r), w))


def topsis_core(n: np.ndarray, obj: np.ndarray, w: np.ndarray) -> np.ndarray:
    """TOPSIS closeness of a normalised (not oriented) matrix; broadcasts over samples.

    With a single matrix ``(m, n)`` and many weights ``(s, n)`` the squared distances are two
    matrix products: ``D+^2 = (W^2) @ ((N - N*)^2).T`` because weighting by ``w >= 0`` keeps the
    ideal at the same alternative.
    """
    best = np.where(obj > 0, n.max(axis=-2, keepdims=True), n.min(axis=-2, keepdims=True))
    worst = np.where(obj > 0, n.min(axis=-2, keepdims=True), n.max(axis=-2, keepdims=True))
    w2 = w * w
    if n.ndim == 2:
        dp = np.sqrt(w2 @ ((n - best) ** 2).T)
        dm = np.sqrt(w2 @ ((n - worst) ** 2).T)
    else:
        dp = np.sqrt(np.einsum("...ij,...j->...i", (n - best) ** 2, w2))
        dm = np.sqrt(np.einsum("...ij,...j->...i", (n - worst) ** 2, w2))
    tot = dp + dm
    return np.divide(dm, tot, out=np.full(np.broadcast(dm, tot).shape, 0.5), where=tot > 0)


def vikor_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray, v: float = 0.5):
    """VIKOR S, R, Q; broadcasts over samples.  A term whose range is zero counts as 0."""
    best = np.where(obj > 0, x.max(axis=-2, keepdims=True), x.min(axis=-2, keepdims=True))
    worst = np.where(obj > 0, x.min(axis=-2, keepdims=True), x.max(axis=-2, keepdims=True))
    span = best - worst
    d = np.divide(best - x, span, out=np.zeros(np.broadcast(x, span).shape), where=span != 0)
    t = d * w[..., None, :]
    s, r = t.sum(axis=-1), t.max(axis=-1)

    def _sc(a):
        lo, hi = a.min(axis=-1, keepdims=True), a.max(axis=-1, keepdims=True)
        return np.divide(a - lo, hi - lo, out=np.zeros(a.shape), where=(hi - lo) > 0)

    return s, r, v * _sc(s) + (1 - v) * _sc(r)


def linear_normalize(x: np.ndarray, obj: np.ndarray) -> np.ndarray:
    """Linear (ratio) normalisation: ``x / max`` (max criteria), ``min / x`` (min criteria).

    The normalisation of WASPAS and CODAS; needs max > 0 on max criteria and x > 0 on min ones.
    """
    hi = x.max(axis=-2, keepdims=True)
    lo = x.min(axis=-2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(obj > 0, x / np.where(hi > 0, hi, 1.0), lo / np.where(x > 0, x, 1.0))


def sum_normalize(x: np.ndarray) -> np.ndarray:
    """Divide each column by its sum over the alternatives axis (-2); values >= 0, sum > 0."""
    tot = x.sum(axis=-2, keepdims=True)
    return x / np.where(tot > 0, tot, 1.0)


def moora_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray) -> np.ndarray:
    """MOORA ratio system (Brauers & Zavadskas 2006): ``y = sum_max w x* - sum_min w x*``.

    ``x* = x / sqrt(sum_i x^2)`` (vector normalisation, per criterion).
    """
    return wsm_core(vector_normalize(x) * obj, w)


def copras_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray):
    """COPRAS (Zavadskas, Kaustinis & Kaklauskas 1994); returns ``(S+, S-, Q, N)``.

    ``d = w x / sum_i x`` (sum normalisation); ``S+`` / ``S-`` sum ``d`` over max / min criteria;
    ``Q = S+ + S-_min sum S- / (S- sum_k S-_min / S-_k)`` (``Q = S+`` without min criteria);
    utility degree ``N = Q / Q_max`` in (0, 1].
    """
    d = sum_normalize(x) * w[..., None, :]
    sp = (d * (obj > 0)).sum(axis=-1)
    sm = (d * (obj < 0)).sum(axis=-1)
    if np.any(obj < 0):
        smin = sm.min(axis=-1, keepdims=True)
        q = sp + smin * sm.sum(axis=-1, keepdims=True) / (sm * (smin / sm).sum(axis=-1, keepdims=True))
    else:
        q = sp
    return sp, sm, q, q / q.max(axis=-1, keepdims=True)


def aras_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray):
    """ARAS (Zavadskas & Turskis 2010); returns ``(S, K)`` with ``K = S / S_0``.

    Min criteria are turned into max ones by ``1 / x``; the optimal alternative ``x_0`` is the
    best value of each criterion; each column (``x_0`` included) is divided by its sum; ``S`` is
    the weighted sum and ``K`` the utility degree relative to the optimal alternative, in (0, 1].
    """
    with np.errstate(divide="ignore"):
        t = np.where(obj > 0, x, 1.0 / np.where(x > 0, x, 1.0))
    best = t.max(axis=-2, keepdims=True)
    tot = t.sum(axis=-2, keepdims=True) + best
    s = wsm_core(t / tot, w)
    s0 = wsm_core(best / tot, w)
    return s, s / s0


def mabac_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray):
    """MABAC (Pamucar & Cirovic 2015); returns ``(Q, S)``, ``S = sum_j Q_ij``.

    ``t`` = benefit-oriented min-max normalisation; ``v = w (t + 1)``; border approximation
    area ``g_j = (prod_i v_ij)^(1/m)``; ``Q = v - g``.
    """
    m = x.shape[-2]
    v = w[..., None, :] * (minmax_normalize(x, obj) + 1.0)
    g = np.exp(np.log(v).sum(axis=-2, keepdims=True) / m) if np.all(v > 0) else \
        np.prod(v, axis=-2, keepdims=True) ** (1.0 / m)
    q = v - g
    return q, q.sum(axis=-1)


def cocoso_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray, lam: float = 0.5):
    """CoCoSo (Yazdani, Zarate, Zavadskas & Turskis 2019); returns ``(S, P, ka, kb, kc, k)``.

    ``r`` = benefit-oriented min-max normalisation; ``S = sum w r``; ``P = sum r ** w`` (over
    criteria with w > 0); ``ka = (P + S) / sum (P + S)``; ``kb = S / min S + P / min P``;
    ``kc = (lam S + (1 - lam) P) / (lam max S + (1 - lam) max P)``;
    ``k = (ka kb kc) ** (1/3) + (ka + kb + kc) / 3``.  ``min S`` and ``min P`` must be > 0.
    """
    r = minmax_normalize(x, obj)
    s = wsm_core(r, w)
    pw = np.where(w[..., None, :] > 0, r ** w[..., None, :], 0.0)
    p = pw.sum(axis=-1)
    ka = (p + s) / (p + s).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # min S = 0 is refused by rank()
        kb = s / s.min(axis=-1, keepdims=True) + p / p.min(axis=-1, keepdims=True)
    kc = (lam * s + (1 - lam) * p) / (lam * s.max(axis=-1, keepdims=True)
                                      + (1 - lam) * p.max(axis=-1, keepdims=True))
    k = np.cbrt(ka * kb * kc) + (ka + kb + kc) / 3.0
    return s, p, ka, kb, kc, k


def codas_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray, tau: float = 0.02):
    """CODAS (Keshavarz Ghorabaee, Zavadskas, Turskis & Antucheviciene 2016); ``(E, T, H)``.

    ``r = w n`` with the linear normalisation (:func:`linear_normalize`); Euclidean ``E`` and
    taxicab ``T`` distances from the negative-ideal ``min_i r_ij``;
    ``h_ik = (E_i - E_k) + psi(E_i - E_k) (T_i - T_k)`` with ``psi(d) = 1`` if ``|d| >= tau``;
    assessment score ``H_i = sum_k h_ik``.
    """
    r = linear_normalize(x, obj) * w[..., None, :]
    dev = r - r.min(axis=-2, keepdims=True)
    e = np.sqrt((dev * dev).sum(axis=-1))
    t = dev.sum(axis=-1)
    de = e[..., :, None] - e[..., None, :]
    dt = t[..., :, None] - t[..., None, :]
    h = de + (np.abs(de) >= tau) * dt
    return e, t, h.sum(axis=-1)


def waspas_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray, lam: float = 0.5):
    """WASPAS (Zavadskas, Turskis, Antucheviciene & Zakarevicius 2012); ``(Q1, Q2, Q)``.

    Linear normalisation (:func:`linear_normalize`); ``Q1 = sum w n`` (WSM part),
    ``Q2 = prod n ** w`` (WPM part), ``Q = lam Q1 + (1 - lam) Q2``.
    """
    n = linear_normalize(x, obj)
    q1 = wsm_core(n, w)
    q2 = np.prod(np.where(w[..., None, :] > 0, n ** w[..., None, :], 1.0), axis=-1)
    return q1, q2, lam * q1 + (1 - lam) * q2


def ram_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray):
    """RAM, root assessment method (Sotoudeh-Anvari 2023); returns ``(S+, S-, RI)``.

    ``y = w x / sum_i x`` (sum normalisation); ``S+`` / ``S-`` sum ``y`` over max / min
    criteria; ``RI = (2 + S+) ** (1 / (2 + S-))``.
    """
    y = sum_normalize(x) * w[..., None, :]
    sp = (y * (obj > 0)).sum(axis=-1)
    sm = (y * (obj < 0)).sum(axis=-1)
    return sp, sm, (2.0 + sp) ** (1.0 / (2.0 + sm))


def edas_core(x: np.ndarray, obj: np.ndarray, w: np.ndarray):
    """EDAS (Keshavarz Ghorabaee, Zavadskas, Olfat & Turskis 2015); ``(SP, SN, AS)``.

    Average solution ``AV_j = mean_i x_ij`` (> 0); positive / negative distances
    ``PDA = max(0, x - AV) / AV``, ``NDA = max(0, AV - x) / AV`` for max criteria (swapped for
    min criteria); ``SP = sum w PDA``, ``SN = sum w NDA``; ``AS = (SP / max SP + 1 - SN / max SN) / 2``.
    """
    av = x.mean(axis=-2, keepdims=True)
    d = (x - av) / av * obj
    sp = wsm_core(np.maximum(d, 0.0), w)
    sn = wsm_core(np.maximum(-d, 0.0), w)
    psp, psn = sp.max(axis=-1, keepdims=True), sn.max(axis=-1, keepdims=True)
    nsp = np.divide(sp, psp, out=np.zeros(sp.shape), where=psp > 0)
    nsn = 1.0 - np.divide(sn, psn, out=np.zeros(sn.shape), where=psn > 0)
    return sp, sn, (nsp + nsn) / 2.0


def _pref(d: np.ndarray, kind: str, q: float = 0.0, p: float = 0.0, s: float = 1.0) -> np.ndarray:
    if kind == "usual":
        return (d > 0).astype(float)
    if kind == "u-shape":
        return (d > q).astype(float)
    if kind == "v-shape":
        return np.clip(d / p, 0.0, 1.0)
    if kind == "level":
        return np.where(d > p, 1.0, np.where(d > q, 0.5, 0.0))
    if kind == "linear":
        return np.clip((d - q) / (p - q), 0.0, 1.0)
    # gaussian
    return np.where(d > 0, 1.0 - np.exp(-(d * d) / (2 * s * s)), 0.0)


def promethee_core(x: np.ndarray, obj: np.ndarray, prefs: list[dict]) -> np.ndarray:
    """Per-criterion net flows ``phi_j`` of PROMETHEE II; ``phi = phi_j @ w``.

    ``x`` is ``(..., m, n)`` (broadcasts over leading sample axes); ``prefs`` holds one validated
    dict per criterion with ``type`` and thresholds.  Returns ``(..., m, n)``.
    """
    m, n = x.shape[-2:]
    out = np.empty(x.shape)
    for j in range(n):  # loop over criteria only
        col = x[..., j] * obj[j]
        d = col[..., :, None] - col[..., None, :]
        pr = prefs[j]
        pj = _pref(d, pr["type"], pr.get("q", 0.0), pr.get("p", 0.0), pr.get("s", 1.0))
        out[..., j] = (pj.sum(axis=-1) - pj.sum(axis=-2)) / (m - 1)
    return out


def ranks_from_scores(scores: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Ordinal ranks (1 = best) along the last axis; ties broken by position (stable)."""
    key = -scores if higher_is_better else scores
    order = np.argsort(key, axis=-1, kind="stable")
    r = np.empty_like(order)
    np.put_along_axis(r, order, np.arange(1, scores.shape[-1] + 1), axis=-1)
    return r


# ====================================================================== validation
def _objectives(objectives, n: int, crits, labelled: bool = False) -> np.ndarray:
    if isinstance(objectives, pd.Series):
        missing = [c for c in crits if c not in objectives.index]
        if len(objectives) == n and not missing:
            objectives = objectives.reindex(crits)
        elif labelled and len(objectives) == n:
            raise ValueError(f"objectives name unknown criteria; missing {missing}")
        elif len(objectives) != n:
            raise ValueError(f"objectives: need {n} values (one per criterion); got {len(objectives)}")
        objectives = list(objectives)
    elif isinstance(objectives, (str, bytes)) or callable(objectives):
        objectives = [objectives] * n
    objectives = list(objectives)
    if len(objectives) != n:
        raise ValueError(f"objectives: need {n} values (one per criterion); got {len(objectives)}")
    out = np.empty(n)
    for j, o in enumerate(objectives):
        if o is max or (isinstance(o, str) and o.strip().lower() in ("max", "maximize", "+")):
            out[j] = 1
        elif o is min or (isinstance(o, str) and o.strip().lower() in ("min", "minimize", "-")):
            out[j] = -1
        elif isinstance(o, (int, float, np.integer, np.floating)) and o in (1, -1):
            out[j] = o
        else:
            raise ValueError(f"objective {o!r} of criterion {crits[j]!r} is not valid; valid choices: "
                             "'max', 'min', max, min, 1, -1")
    return out


def _weights(weights, n: int, crits, labelled: bool = False) -> np.ndarray:
    if isinstance(weights, (pd.Series, dict)):
        s = pd.Series(weights)
        unknown = [c for c in s.index if c not in list(crits)]
        if labelled and unknown:
            raise ValueError(f"weights name unknown criteria {unknown}; valid criteria: "
                             f"{', '.join(map(str, crits))}")
        if len(s) != n:
            raise ValueError(f"weights: need {n} values (one per criterion); got {len(s)}")
        if not unknown:
            s = s.reindex(crits)
        elif labelled:
            raise ValueError(f"weights name unknown criteria {unknown}; valid criteria: "
                             f"{', '.join(map(str, crits))}")
        weights = s.to_numpy()
    try:
        w = np.asarray(weights, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise TypeError("weights must be numbers, one per criterion") from exc
    if w.size != n:
        raise ValueError(f"weights: need {n} values (one per criterion); got {w.size}")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"weights must be finite; got NaN/inf for criteria "
                         f"{[crits[j] for j in np.flatnonzero(~np.isfinite(w))]}")
    if np.any(w < 0):
        raise ValueError(f"weights must be >= 0; negative for criteria "
                         f"{[crits[j] for j in np.flatnonzero(w < 0)]}")
    if w.sum() <= 0:
        raise ValueError("weights are all zero; give at least one criterion a positive weight")
    return w / w.sum()


#: Largest magnitude of a decision-matrix value (a tender's evaluated price stays far below).
_MAX_VALUE = 1e100


def _prepare(matrix, objectives, weights, *, need_weights: bool = True):
    """Validate and return (x, obj, w, alternatives, criteria)."""
    if isinstance(matrix, pd.DataFrame):
        alts, crits = list(matrix.index), list(matrix.columns)
        try:
            x = matrix.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError("matrix must hold numbers only") from exc
    else:
        try:
            x = np.asarray(matrix, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError("matrix must be a 2-D array, list of lists or DataFrame of numbers") from exc
        if x.ndim != 2:
            raise ValueError(f"matrix must be 2-D (alternatives x criteria); got shape {x.shape}")
        alts, crits = list(range(x.shape[0])), list(range(x.shape[1]))
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"matrix needs at least 2 alternatives and 1 criterion; got shape {x.shape}")
    for what, labels in (("alternatives", alts), ("criteria", crits)):
        dup = pd.Index(labels)[pd.Index(labels).duplicated()].unique().tolist()
        if dup:  # results are keyed by name: a repeated one could not be told apart
            raise ValueError(f"matrix has duplicate {what} {dup}; names must be unique")
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        cells = ", ".join(f"({alts[i]!r}, {crits[j]!r})" for i, j in bad[:10])
        raise ValueError(f"matrix has {len(bad)} missing or non-finite value(s) at {cells}; "
                         "fill them (e.g. score the missing cell) before ranking")
    huge = np.argwhere(np.abs(x) > _MAX_VALUE)
    if len(huge):  # differences and squares of such values overflow inside the methods
        cells = ", ".join(f"({alts[i]!r}, {crits[j]!r})" for i, j in huge[:10])
        raise ValueError(f"matrix has {len(huge)} value(s) beyond +/-{_MAX_VALUE:g} at {cells}; "
                         "rescale the criterion (e.g. millions instead of units)")
    labelled = isinstance(matrix, pd.DataFrame)
    obj = _objectives(objectives, x.shape[1], crits, labelled)
    w = _weights(weights, x.shape[1], crits, labelled) if need_weights else None
    return x, obj, w, alts, crits


def _check_constant(x: np.ndarray, w: np.ndarray, crits, method: str) -> None:
    const = np.flatnonzero((np.ptp(x, axis=0) == 0) & (w > 0))
    if len(const):
        names = ", ".join(f"{crits[j]!r} (= {x[0, j]:g})" for j in const)
        raise ValueError(f"criteria {names} have the same value for every alternative, so {method} "
                         "cannot normalise them; drop them or give them weight 0")


def _check_preferences(preference, n: int, crits) -> list[dict]:
    if preference is None:
        preference = [{"type": "usual"}] * n
    elif isinstance(preference, dict) and "type" in preference:
        preference = [preference] * n
    elif isinstance(preference, dict):
        missing = [c for c in crits if c not in preference]
        if missing:
            raise ValueError(f"preference: missing for criteria {missing}")
        preference = [preference[c] for c in crits]
    preference = list(preference)
    if len(preference) != n:
        raise ValueError(f"preference: need {n} dicts (one per criterion); got {len(preference)}")
    out = []
    for j, pr in enumerate(preference):
        if isinstance(pr, str):
            pr = {"type": pr}
        pr = dict(pr)
        kind = pr.get("type", "usual")
        if kind not in PREFERENCE_TYPES:
            raise ValueError(f"preference type {kind!r} of criterion {crits[j]!r} is unknown; valid "
                             f"choices: {', '.join(PREFERENCE_TYPES)}")
        need = PREFERENCE_TYPES[kind]
        extra = set(pr) - {"type", "q", "p", "s"}
        if extra:
            raise ValueError(f"preference of criterion {crits[j]!r}: unknown keys {sorted(extra)}; "
                             "valid keys: type, q, p, s")
        for key in need:
            if key not in pr:
                raise ValueError(f"preference {kind!r} of criterion {crits[j]!r} needs {', '.join(need)}")
            val = float(pr[key])
            if not np.isfinite(val) or val < 0 or (key in ("p", "s") and val == 0):
                raise ValueError(f"preference threshold {key} of criterion {crits[j]!r} must be "
                                 f"{'> 0' if key in ('p', 's') else '>= 0'}; got {pr[key]!r}")
            pr[key] = val
        if kind in ("level", "linear") and not pr["q"] < pr["p"]:
            raise ValueError(f"preference {kind!r} of criterion {crits[j]!r} needs q < p; "
                             f"got q={pr['q']}, p={pr['p']}")
        out.append(pr)
    return out


# ====================================================================== scikit-criteria component
class PROMETHEE2(SKCDecisionMakerABC):
    """PROMETHEE II as a scikit-criteria decision maker (complete ranking by net flow).

    Parameters
    ----------
    preference : list of dict, optional
        One ``{"type": ..., "q": .., "p": .., "s": ..}`` per criterion (see
        :data:`PREFERENCE_TYPES`); ``usual`` for every criterion by default.

    The result's ``extra_`` holds ``phi``, ``phi_plus``, ``phi_minus`` and ``phi_criteria``.
    """

    _skcriteria_parameters = ["preference"]

    def __init__(self, *, preference=None):
        self._preference = preference

    @property
    def preference(self):
        """Preference functions, one per criterion."""
        return self._preference

    def _evaluate_data(self, matrix, objectives, weights, criteria=None, **kwargs):
        crits = list(criteria) if criteria is not None else list(range(matrix.shape[1]))
        prefs = _check_preferences(self._preference, matrix.shape[1], crits)
        obj = np.asarray(objectives, dtype=float)
        w = np.asarray(weights, dtype=float)
        w = w / w.sum()
        phi_j = promethee_core(np.asarray(matrix, dtype=float), obj, prefs)
        m = matrix.shape[0]
        plus = np.zeros(m)
        minus = np.zeros(m)
        for j, pr in enumerate(prefs):  # criteria loop: pairwise preference matrices
            col = matrix[:, j] * obj[j]
            d = col[:, None] - col[None, :]
            pj = _pref(d, pr["type"], pr.get("q", 0.0), pr.get("p", 0.0), pr.get("s", 1.0))
            plus += w[j] * pj.sum(axis=1) / (m - 1)
            minus += w[j] * pj.sum(axis=0) / (m - 1)
        phi = phi_j @ w
        from skcriteria.utils import rank as skc_rank

        ranking = skc_rank.rank_values(np.round(phi, 12), reverse=True)
        return ranking, {"phi": phi, "phi_plus": plus, "phi_minus": minus, "phi_criteria": phi_j}

    def _make_result(self, alternatives, values, extra):
        return RankResult("PROMETHEE2", alternatives=alternatives, values=values, extra=extra)


# ====================================================================== result and rank()
@dataclass(frozen=True)
class Ranking:
    """Outcome of :func:`rank`.

    Attributes
    ----------
    method : str
    scores : Series
        Method score per alternative, input order (see ``higher_is_better``).
    ranks : Series
        1 = best; ties share the lowest rank.
    details : DataFrame
        The method's intermediate values per alternative (e.g. ``S``, ``R``, ``Q`` for VIKOR,
        ``phi_plus``, ``phi_minus`` and per-criterion net flows for PROMETHEE).
    conventions : dict
        Normalisation, parameters and orientation used.
    higher_is_better : bool
    compromise_set : list, optional
        VIKOR only: the compromise solution(s).
    conditions : dict
        VIKOR only: ``{"C1 acceptable advantage": bool, "C2 acceptable stability": bool}``.
    """

    method: str
    scores: pd.Series
    ranks: pd.Series
    details: pd.DataFrame
    conventions: dict
    higher_is_better: bool = True
    compromise_set: list | None = None
    conditions: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """score, rank and details side by side, alternatives in input order."""
        return pd.concat([self.scores.rename("score"), self.ranks.rename("rank"), self.details], axis=1)

    def plot(self, ax=None):
        """Horizontal bar chart of the scores; returns the Axes."""
        from ..plots.scoring import plot_scores

        return plot_scores(self, ax=ax)


def _mkdm(x, obj, w, alts, crits):
    import skcriteria as skc

    return skc.mkdm(x, obj.astype(int), weights=w, alternatives=[str(a) for a in alts],
                    criteria=[str(c) for c in crits])


def _evaluate(model, dm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.evaluate(dm)


def _tie_ranks(scores: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """Ranks 1 = best; scores within 1e-9 of the score scale tie and share the lowest rank.

    A relative tolerance (not rounding to fixed decimals) keeps the ranks the same when a
    criterion's unit changes and the scores move in the last bits.
    """
    key = -scores if higher_is_better else scores
    order = np.argsort(key, kind="stable")
    srt = key[order]
    tol = 1e-9 * max(1.0, float(np.abs(scores).max()))
    new_group = np.r_[True, np.diff(srt) > tol]
    pos = np.arange(1, len(srt) + 1)
    group_rank = np.maximum.accumulate(np.where(new_group, pos, 0))
    out = np.empty(len(srt), dtype=int)
    out[order] = group_rank
    return out


def _check_sign(x: np.ndarray, obj: np.ndarray, w: np.ndarray, crits, method: str, *,
                benefit: str, cost: str) -> None:
    """Refuse values a method's normalisation cannot take: ``"nonneg"`` (>= 0) or ``"pos"`` (> 0)."""
    for kind, mask, rule in (("max", obj > 0, benefit), ("min", obj < 0, cost)):
        if rule is None:
            continue
        cols = np.flatnonzero(mask & (w > 0))
        bad = x[:, cols] <= 0 if rule == "pos" else x[:, cols] < 0
        if bad.any():
            names = sorted({crits[cols[j]] for j in np.flatnonzero(bad.any(axis=0))}, key=str)
            need = "> 0" if rule == "pos" else ">= 0"
            raise ValueError(f"{method} needs values {need} on {kind} criteria; criteria {names} "
                             f"have {int(bad.sum())} value(s) that are not; rescore them (e.g. in "
                             "points) or use wsm, topsis, vikor, mabac or cocoso")
    cols = np.flatnonzero(w > 0)
    zero = [crits[j] for j in cols if not np.abs(x[:, j]).max() > 0]
    if zero:
        raise ValueError(f"{method}: criteria {zero} are 0 for every alternative; drop them or give them "
                         "weight 0")


#: Methods implemented here as numpy kernels: name -> (kernel, values needed on max / min
#: criteria, citation, normalisation, score column).
_EXTRA: dict[str, tuple[str | None, str | None, str, str, str]] = {
    "moora": (None, None, "Brauers & Zavadskas (2006), ratio system",
              "vector: x / sqrt(sum x^2); min criteria subtracted", "y = sum_max w x* - sum_min w x*"),
    "copras": ("nonneg", "pos", "Zavadskas, Kaklauskas & Sarka (1994)",
               "sum: x / column sum", "utility degree N = Q / max Q in (0, 1]"),
    "aras": ("nonneg", "pos", "Zavadskas & Turskis (2010)",
             "min criteria -> 1 / x; optimal alternative = best per criterion; sum normalisation",
             "utility degree K = S / S_0 in (0, 1]"),
    "mabac": (None, None, "Pamucar & Cirovic (2015)", "min-max (benefit-oriented)",
              "S = sum of distances from the border approximation area"),
    "cocoso": (None, None, "Yazdani, Zarate, Zavadskas & Turskis (2019)", "min-max (benefit-oriented)",
               "k = (ka kb kc)^(1/3) + (ka + kb + kc) / 3"),
    "codas": ("nonneg", "pos", "Keshavarz Ghorabaee, Zavadskas, Turskis & Antucheviciene (2016)",
              "linear: x / max (max criteria), min / x (min criteria)",
              "assessment score H = sum_k h_ik"),
    "waspas": ("nonneg", "pos", "Zavadskas, Turskis, Antucheviciene & Zakarevicius (2012)",
               "linear: x / max (max criteria), min / x (min criteria)",
               "Q = lam WSM + (1 - lam) WPM"),
    "ram": ("nonneg", "nonneg", "Sotoudeh-Anvari (2023)", "sum: x / column sum",
            "RI = (2 + S+) ** (1 / (2 + S-))"),
    "edas": ("nonneg", "nonneg", "Keshavarz Ghorabaee, Zavadskas, Olfat & Turskis (2015)",
             "distance from the average solution, relative to the average",
             "appraisal score AS = (NSP + NSN) / 2 in [0, 1]"),
}
_EXTRA_PARAMS = {"cocoso": ("lam",), "waspas": ("lam",), "codas": ("tau",)}


def _rank_extra(method: str, x, obj, w, crits, idx, params):
    allowed = _EXTRA_PARAMS.get(method, ())
    unknown = set(params) - set(allowed)
    if unknown:
        raise TypeError(f"method {method!r} got unknown parameters {sorted(unknown)}; valid: "
                        f"{', '.join(allowed) or 'none'}")
    benefit, cost, cite, norm, score = _EXTRA[method]
    _check_sign(x, obj, w, crits, method, benefit=benefit, cost=cost)
    conv: dict[str, object] = {"reference": cite, "normalization": norm,
                               "score": f"{score}, higher is better"}
    if method in ("mabac", "cocoso"):
        _check_constant(x, w, crits, f"{method} (min-max normalisation)")
    if method in ("cocoso", "waspas"):
        lam = float(params.get("lam", 0.5))
        if not 0 <= lam <= 1:
            raise ValueError(f"{method}: lam must be within [0, 1]; got {lam}")
        conv["lam"] = lam
    if method == "edas" and np.any(x[:, w > 0].mean(axis=0) <= 0):
        raise ValueError("edas needs a positive average on every weighted criterion")
    if method == "moora":
        scores = moora_core(x, obj, w)
        details = pd.DataFrame({"y": scores}, index=idx)
    elif method == "copras":
        sp, sm, q, scores = copras_core(x, obj, w)
        details = pd.DataFrame({"S_plus": sp, "S_minus": sm, "Q": q, "N": scores}, index=idx)
    elif method == "aras":
        s, scores = aras_core(x, obj, w)
        details = pd.DataFrame({"S": s, "K": scores}, index=idx)
    elif method == "mabac":
        q, scores = mabac_core(x, obj, w)
        details = pd.DataFrame(q, index=idx, columns=[f"Q_{c}" for c in crits]).assign(S=scores)
    elif method == "cocoso":
        s, p, ka, kb, kc, scores = cocoso_core(x, obj, w, conv["lam"])
        # worst on every criterion up to rounding: kb = S / min S would be rounding noise
        tiny = 1e-9 * max(float(s.max()), float(p.max()))
        if s.min() <= tiny or p.min() <= tiny:
            worst = [idx[i] for i in np.flatnonzero((s <= tiny) | (p <= tiny))]
            raise ValueError(f"cocoso: alternatives {worst} are worst on every weighted criterion, so "
                             "kb = S / min S is undefined; drop them (they are dominated) or use "
                             "another method")
        details = pd.DataFrame({"S": s, "P": p, "ka": ka, "kb": kb, "kc": kc, "k": scores}, index=idx)
    elif method == "codas":
        tau = float(params.get("tau", 0.02))
        if not 0 <= tau <= 1:
            raise ValueError(f"codas: tau must be within [0, 1] (the paper uses 0.01-0.05); got {tau}")
        conv["tau"] = tau
        e, t, scores = codas_core(x, obj, w, tau)
        details = pd.DataFrame({"E": e, "T": t, "H": scores}, index=idx)
    elif method == "waspas":
        q1, q2, scores = waspas_core(x, obj, w, conv["lam"])
        details = pd.DataFrame({"WSM": q1, "WPM": q2, "Q": scores}, index=idx)
    elif method == "ram":
        sp, sm, scores = ram_core(x, obj, w)
        details = pd.DataFrame({"S_plus": sp, "S_minus": sm, "RI": scores}, index=idx)
    else:  # edas
        sp, sn, scores = edas_core(x, obj, w)
        details = pd.DataFrame({"SP": sp, "SN": sn, "AS": scores}, index=idx)
    return np.asarray(scores, dtype=float), details, conv



def rank(matrix, objectives, weights, method: str = "topsis", **params) -> Ranking:
    """Rank alternatives by a multi-criteria method.

    Parameters
    ----------
    matrix : array-like (m, n) or DataFrame (alternatives x criteria)
        Performance values in each criterion's own unit (points, %, tender currency per year, ...).
    objectives : sequence or Series of ``"max"``/``"min"`` (or ``max``/``min``, 1/-1)
    weights : sequence, dict or Series of n numbers >= 0 (normalised to sum 1)
    method : str
        One of :data:`METHODS`: ``wsm``, ``wpm``, ``topsis``, ``vikor``, ``promethee``,
        ``electre``, ``moora``, ``copras``, ``aras``, ``mabac``, ``cocoso``, ``codas``,
        ``waspas``, ``ram``, ``edas``; anything else raises ``ValueError`` listing them.
    **params
        ``topsis``: ``normalization="vector"|"minmax"``; ``vikor``: ``v=0.5``;
        ``promethee``: ``preference=[{...}, ...]``; ``electre``: ``p0, p1, p2, q0, q1``;
        ``cocoso``/``waspas``: ``lam=0.5``; ``codas``: ``tau=0.02``; the others take none.

    Returns
    -------
    Ranking
    """
    x, obj, w, alts, crits = _prepare(matrix, objectives, weights)
    idx = pd.Index(alts, name=matrix.index.name if isinstance(matrix, pd.DataFrame) else None)
    method = str(method).lower()
    conv: dict[str, object] = {"method": method, "weights": "normalised to sum 1"}
    compromise, conditions = None, {}
    higher = _HIGHER_BETTER.get(method, True)

    def _take(params_allowed: tuple[str, ...]):
        unknown = set(params) - set(params_allowed)
        if unknown:
            raise TypeError(f"method {method!r} got unknown parameters {sorted(unknown)}; valid: "
                            f"{', '.join(params_allowed) or 'none'}")

    if method == "wsm":
        from skcriteria.agg.simple import WeightedSumModel

        _take(())
        _check_constant(x, w, crits, "wsm (min-max normalisation)")
        n = minmax_normalize(x, obj)
        res = _evaluate(WeightedSumModel(), _mkdm(n, np.ones_like(obj), w, alts, crits))
        scores = np.asarray(res.extra_["score"], dtype=float)
        details = pd.DataFrame(n * w, index=idx, columns=crits)
        conv.update(normalization="minmax (benefit-oriented, 0 = worst, 1 = best)",
                    score="weighted sum in [0, 1], higher is better")
    elif method == "wpm":
        from skcriteria.agg.simple import WeightedProductModel

        _take(())
        if np.any(x <= 0):
            raise ValueError("wpm needs all values > 0 (ratios are taken); use wsm or topsis instead")
        r = ratio_normalize(x, obj)
        res = _evaluate(WeightedProductModel(), _mkdm(r, np.ones_like(obj), w, alts, crits))
        scores = 10.0 ** np.asarray(res.extra_["score"], dtype=float)
        details = pd.DataFrame(np.log(r) * w, index=idx, columns=crits)
        conv.update(normalization="ratio: x / max (max criteria), min / x (min criteria)",
                    score="product of ratio ** weight in (0, 1], higher is better",
                    details="w_j * ln(ratio): exact additive decomposition of ln(score)")
    elif method == "topsis":
        from skcriteria.agg.topsis import TOPSIS

        _take(("normalization",))
        norm = params.get("normalization", "vector")
        if norm not in ("vector", "minmax"):
            raise ValueError(f"unknown normalization {norm!r}; valid choices: vector, minmax")
        if norm == "minmax":
            _check_constant(x, w, crits, "topsis with minmax normalisation")
            lo, hi = x.min(axis=0), x.max(axis=0)
            n = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
        else:
            if np.any(np.abs(x).max(axis=0)[w > 0] == 0):
                raise ValueError("topsis vector normalisation: a weighted criterion is all zeros")
            n = vector_normalize(x)
        if np.all(np.ptp(n[:, w > 0], axis=0) == 0):
            raise ValueError("every weighted criterion is constant; nothing distinguishes the alternatives")
        res = _evaluate(TOPSIS(), _mkdm(n, obj, w, alts, crits))
        scores = np.asarray(res.extra_["similarity"], dtype=float)
        v = n * w
        ideal, anti = np.asarray(res.extra_["ideal"]), np.asarray(res.extra_["anti_ideal"])
        details = pd.DataFrame({"d_plus": np.sqrt(((v - ideal) ** 2).sum(axis=1)),
                                "d_minus": np.sqrt(((v - anti) ** 2).sum(axis=1))}, index=idx)
        conv.update(normalization=norm, distance="euclidean",
                    score="closeness D- / (D+ + D-) in [0, 1], higher is better")
    elif method == "vikor":
        from skcriteria.agg.vikor import VIKOR

        _take(("v",))
        v = float(params.get("v", 0.5))
        if not 0 <= v <= 1:
            raise ValueError(f"vikor: v must be within [0, 1]; got {v}")
        _check_constant(x, w, crits, "vikor")
        res = _evaluate(VIKOR(v=v, use_compromise_set=False), _mkdm(x, obj, w, alts, crits))
        e = res.extra_
        scores = np.asarray(e["q_k"], dtype=float)
        details = pd.DataFrame({"S": e["s_k"], "R": e["r_k"], "Q": e["q_k"]}, index=idx)
        compromise = [alts[i] for i in np.asarray(e["compromise_set"]).ravel()]
        conditions = {"C1 acceptable advantage": bool(e["acceptable_advantage"]),
                      "C2 acceptable stability": bool(e["acceptable_stability"])}
        conv.update(v=v, score="Q, lower is better", dq="1 / (m - 1)",
                    compromise_set=compromise, **conditions)
    elif method == "promethee":
        _take(("preference",))
        prefs = _check_preferences(params.get("preference"), x.shape[1], crits)
        res = _evaluate(PROMETHEE2(preference=prefs), _mkdm(x, obj, w, alts, crits))
        e = res.extra_
        scores = np.asarray(e["phi"], dtype=float)
        details = pd.concat([
            pd.DataFrame({"phi_plus": e["phi_plus"], "phi_minus": e["phi_minus"], "phi": e["phi"]},
                         index=idx),
            pd.DataFrame(e["phi_criteria"], index=idx, columns=[f"phi_{c}" for c in crits]),
        ], axis=1)
        conv.update(variant="PROMETHEE II (net flow)", preference=dict(zip(crits, prefs, strict=True)),
                    score="net flow phi in [-1, 1], higher is better")
    elif method == "electre":
        from skcriteria.agg.electre import ELECTRE2

        _take(("p0", "p1", "p2", "q0", "q1"))
        _check_sign(x, obj, w, crits, "electre (sum normalisation)", benefit="nonneg", cost="nonneg")
        n = sum_normalize(x)
        try:
            res = _evaluate(ELECTRE2(**params), _mkdm(n, obj, w, alts, crits))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"method 'electre': {exc}") from None
        scores = np.asarray(res.extra_["score"], dtype=float)
        details = pd.DataFrame({"score": scores}, index=idx)
        conv.update(engine="scikit-criteria ELECTRE2 (Gomes 2004 variant)",
                    normalization="sum: x / column sum (criteria on a common, unit-free scale)",
                    params=dict(params), score="mean of direct and inverse ranking, lower is better")
    elif method in _EXTRA:
        scores, details, extra_conv = _rank_extra(method, x, obj, w, crits, idx, params)
        conv.update(extra_conv)
    else:
        raise ValueError(f"unknown method {method!r}; valid choices: {', '.join(METHODS)} (other "
                         "scikit-criteria methods are not offered: they are not unit-invariant or "
                         "not checked against a published example here)")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"method {method!r} produced non-finite scores; check for constant criteria "
                         "or zero values")
    ranks = _tie_ranks(scores, higher_is_better=higher)
    return Ranking(method=method, scores=pd.Series(scores, index=idx, name="score"),
                   ranks=pd.Series(ranks, index=idx, name="rank"), details=details,
                   conventions=conv, higher_is_better=higher, compromise_set=compromise,
                   conditions=conditions)
