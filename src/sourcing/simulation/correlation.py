"""Rank correlation between simulation inputs.

Two ways to impose a target Spearman rank-correlation matrix on independent inputs:

* :func:`gaussian_copula` transforms independent uniforms through a Gaussian copula whose Pearson
  matrix is ``2 sin(pi rho_S / 6)`` (the exact Spearman -> Pearson map for bivariate normals,
  Kruskal 1958), so the achieved Spearman correlation equals the target in expectation.
* :func:`iman_conover` reorders given samples column by column (Iman & Conover 1982,
  *Commun. Statist. B* 11(3), 311-334) using van der Waerden scores; the marginals are kept
  exactly.  The scores are normal, so the target Spearman matrix is first converted to the
  Pearson matrix ``2 sin(pi rho_S / 6)`` the scores must have (the same map as the copula);
  the achieved rank correlation then equals the target up to sampling error.

A user matrix that is not positive semi-definite is replaced by the nearest correlation matrix
(Higham 2002, alternating projections) with a warning showing the largest adjustment.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special

__all__ = [
    "gaussian_copula", "iman_conover", "nearest_correlation", "spearman_to_pearson",
    "validate_correlation",
]


def spearman_to_pearson(rho: np.ndarray | float) -> np.ndarray:
    """Pearson correlation of a bivariate normal with Spearman correlation *rho*: 2 sin(pi rho/6)."""
    return 2.0 * np.sin(np.pi * np.asarray(rho, dtype=float) / 6.0)


def nearest_correlation(c: np.ndarray, *, tol: float = 1e-10, max_iter: int = 500) -> np.ndarray:
    """Nearest correlation matrix in the Frobenius norm (Higham 2002, with Dykstra's correction).

    No validation; *c* must be square and symmetric.
    """
    x = np.array(c, dtype=float)
    ds = np.zeros_like(x)
    y = x
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh((r + r.T) / 2)
        x = (v * np.maximum(w, 0.0)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        if np.linalg.norm(y_new - y) <= tol * max(1.0, np.linalg.norm(y)):
            y = y_new
            break
        y = y_new
    # a tiny ridge keeps the Cholesky factorisation possible
    w, v = np.linalg.eigh(y)
    if w.min() < 1e-10:
        y = (v * np.maximum(w, 1e-10)) @ v.T
        d = np.sqrt(np.diag(y))
        y = y / np.outer(d, d)
    return (y + y.T) / 2


def validate_correlation(corr: object, *, names: list[str] | None = None,
                         name: str = "correlation") -> np.ndarray:
    """Check a rank-correlation matrix; repair a non-PSD one with a warning.

    Raises
    ------
    ValueError
        Not square, size not matching *names*, not symmetric, diagonal not 1, entries outside
        [-1, 1] or not finite -- the message names *name* and the offending entry.
    """
    c = np.asarray(corr, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {c.shape}")
    k = c.shape[0]
    if names is not None and k != len(names):
        raise ValueError(f"{name} is {k}x{k} but there are {len(names)} inputs: {', '.join(names)}")
    label = names or [str(i) for i in range(k)]
    if not np.isfinite(c).all():
        raise ValueError(f"{name} contains NaN or infinite entries")
    bad = np.argwhere(np.abs(c - c.T) > 1e-9)
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"{name} must be symmetric: [{label[i]}, {label[j]}] = {c[i, j]} but "
                         f"[{label[j]}, {label[i]}] = {c[j, i]}")
    if not np.allclose(np.diag(c), 1.0):
        i = int(np.argmax(np.abs(np.diag(c) - 1.0)))
        raise ValueError(f"{name} must have 1 on the diagonal: [{label[i]}, {label[i]}] = {c[i, i]}")
    bad = np.argwhere(np.abs(c) > 1.0)
    if bad.size:
        i, j = bad[0]
        raise ValueError(f"{name} entries must lie in [-1, 1]: [{label[i]}, {label[j]}] = {c[i, j]}")
    if np.linalg.eigvalsh(c).min() < -1e-12:
        fixed = nearest_correlation(c)
        diff = fixed - c
        i, j = np.unravel_index(int(np.argmax(np.abs(diff))), diff.shape)
        warnings.warn(
            f"{name} is not positive semi-definite; replaced by the nearest correlation matrix "
            f"(largest change [{label[i]}, {label[j]}]: {c[i, j]:.4f} -> {fixed[i, j]:.4f}; "
            f"Frobenius distance {np.linalg.norm(diff):.4f})\n"
            + np.array2string(fixed, precision=3, suppress_small=True),
            UserWarning, stacklevel=2)
        c = fixed
    return c


def _cholesky(pearson: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(pearson)
    except np.linalg.LinAlgError:
        return np.linalg.cholesky(nearest_correlation(pearson))


def gaussian_copula(u: np.ndarray, spearman: np.ndarray) -> np.ndarray:
    """Impose Spearman correlation *spearman* on independent uniforms *u* (n x k).

    The uniforms are mapped to normal scores, mixed by the Cholesky factor of
    ``2 sin(pi rho / 6)`` and mapped back, so marginals stay uniform.  No validation.
    """
    return special.ndtr(gaussian_scores(u, spearman))


def gaussian_scores(u: np.ndarray, spearman: np.ndarray) -> np.ndarray:
    """The normal scores of :func:`gaussian_copula` (before the final ``Phi``); no validation.

    The engine feeds them straight to marginals with a normal-score quantile (normal,
    lognormal, PERT), which saves a ``Phi`` / ``Phi^-1`` round trip per correlated input.
    """
    z = special.ndtri(u)
    low = _cholesky(spearman_to_pearson(spearman))
    return z @ low.T


def iman_conover(x: np.ndarray, spearman: np.ndarray, *, rng: np.random.Generator | None = None
                 ) -> np.ndarray:
    """Reorder the columns of *x* (n x k) to approximate rank correlation *spearman*.

    Iman & Conover (1982): van der Waerden scores ``Phi^-1(i / (n + 1))`` in random order form
    a score matrix ``M``; with ``E = corr(M) = Q Q'`` and ``C = P P'``, ``T = M (Q^-1)' P'`` has
    Pearson correlation ``C``; each column of *x* is rearranged to have the ranks of the matching
    column of ``T``.  Each column keeps its values (marginals are exact).

    ``C`` is the Pearson matrix of normal scores whose *Spearman* matrix is the target:
    ``C = 2 sin(pi rho_S / 6)`` (Kruskal 1958), as in :func:`gaussian_copula`.  Using the target
    itself as ``C`` would undershoot it (0.683 for a target of 0.70).  If the converted matrix is
    not positive definite, its nearest correlation matrix is used.  No validation of *spearman*
    (see :func:`validate_correlation`).
    """
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    gen = rng if rng is not None else np.random.default_rng()
    scores = special.ndtri(np.arange(1, n + 1) / (n + 1.0))
    m = np.column_stack([gen.permutation(scores) for _ in range(k)])
    e = np.corrcoef(m, rowvar=False) if k > 1 else np.ones((1, 1))
    q = _cholesky(np.atleast_2d(e))
    p = _cholesky(spearman_to_pearson(np.asarray(spearman, dtype=float)))
    t = m @ np.linalg.inv(q).T @ p.T
    out = np.empty_like(x)
    for j in range(k):  # loop over inputs (columns), not over draws
        ranks = np.argsort(np.argsort(t[:, j], kind="stable"), kind="stable")
        out[:, j] = np.sort(x[:, j])[ranks]
    return out
