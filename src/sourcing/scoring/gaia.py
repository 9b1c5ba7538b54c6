"""The GAIA plane of a PROMETHEE analysis (Mareschal & Brans 1988).

The single-criterion net flows ``phi_j(a)`` of the alternatives form an m x n matrix Phi whose
columns each have mean 0.  GAIA projects it on the plane of its first two principal components
(the eigenvectors of ``Phi' Phi / m`` with the largest eigenvalues): each alternative is a point,
each criterion ``j`` an axis (the projection of the unit vector ``e_j``), and the weight vector
``w`` (sum 1) projects as the *decision stick* ``pi``.  Because PROMETHEE II's net flow is
``phi = Phi w``, an alternative's projection on the stick approximates its net flow, exactly
when the plane keeps all of Phi's variance (``delta = 1``, rank of Phi at most 2).  ``delta`` is
the share of the variance the plane keeps; below about 60 % the picture can mislead.

Reference: B. Mareschal & J.-P. Brans (1988), "Geometrical representations for MCDA", European
Journal of Operational Research 34(1), 69-77.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GaiaPlane", "gaia", "net_flows"]


@dataclass(frozen=True)
class GaiaPlane:
    """Result of :func:`gaia`.

    Attributes
    ----------
    alternatives : DataFrame
        Columns ``u``, ``v``: each alternative's point (net-flow units, -1..1).
    criteria : DataFrame
        Columns ``u``, ``v``: each criterion's axis end point (projection of its unit vector).
    stick : Series
        ``u``, ``v`` of the decision stick (projection of the normalised weights).
    delta : float
        Share of the net flows' variance the plane keeps, in [0, 1].
    """

    alternatives: pd.DataFrame
    criteria: pd.DataFrame
    stick: pd.Series
    delta: float

    def plot(self, ax=None, *, names=None, criterion_names=None):
        """Points, criterion axes and the decision stick; returns the Axes."""
        from ..plots.scoring import plot_gaia

        return plot_gaia(self, ax=ax, names=names, criterion_names=criterion_names)


def gaia(flows, weights) -> GaiaPlane:
    """Project single-criterion net flows on their first two principal components.

    Parameters
    ----------
    flows : DataFrame (alternatives x criteria)
        Single-criterion net flows ``phi_j`` (e.g. the ``phi_<criterion>`` columns of a
        PROMETHEE ranking's details, renamed to the criteria).
    weights : sequence, dict or Series
        Criterion weights >= 0 (normalised to sum 1).

    Returns
    -------
    GaiaPlane
        Signs fixed so each component's largest loading is positive (the plane does not flip
        between runs).
    """
    phi = pd.DataFrame(flows).astype(float)
    if phi.shape[0] < 2 or phi.shape[1] < 2:
        raise ValueError("GAIA needs at least 2 alternatives and 2 criteria")
    x = phi.to_numpy()
    if not np.isfinite(x).all():
        raise ValueError("net flows must be finite")
    w = (pd.Series(weights, index=phi.columns) if not isinstance(weights, pd.Series | dict)
         else pd.Series(weights)).reindex(phi.columns)
    if w.isna().any() or (w < 0).any() or not w.sum() > 0:
        raise ValueError("weights: one number >= 0 per criterion, not all 0; criteria: "
                         + ", ".join(map(str, phi.columns)))
    w = (w / w.sum()).to_numpy(float)
    x = x - x.mean(axis=0, keepdims=True)
    values, vectors = np.linalg.eigh(x.T @ x / x.shape[0])
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order[:2]]
    for k in range(2):  # a fixed orientation: the largest loading positive
        if vectors[np.argmax(np.abs(vectors[:, k])), k] < 0:
            vectors[:, k] = -vectors[:, k]
    total = float(values.sum())
    delta = float(values[:2].sum() / total) if total > 0 else 1.0
    cols = ["u", "v"]
    return GaiaPlane(alternatives=pd.DataFrame(x @ vectors, index=phi.index, columns=cols),
                     criteria=pd.DataFrame(vectors, index=phi.columns, columns=cols),
                     stick=pd.Series(w @ vectors, index=cols), delta=min(delta, 1.0))


def net_flows(evaluation) -> pd.DataFrame:
    """The single-criterion net flows of a PROMETHEE :class:`~sourcing.scoring.Evaluation`
    (admitted vendors x ranked criteria), for :func:`gaia`."""
    cols = [f"phi_{c}" for c in evaluation.weights.index]
    if evaluation.conventions.get("method") != "promethee" or not set(cols) <= set(evaluation.details):
        raise ValueError("net flows come from a PROMETHEE ranking (method='promethee'); got "
                         f"{evaluation.conventions.get('method')!r}")
    return evaluation.details[cols].set_axis(list(evaluation.weights.index), axis=1)
