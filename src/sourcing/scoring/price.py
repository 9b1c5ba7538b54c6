"""Procurement price-scoring formulas: turn bid prices into points.

All formulas give the lowest price ``max_points`` and never fewer than ``floor`` points; prices
are in the tender currency (tender currency per year for the evaluated annual price) and must be > 0.

``proportional``  ``max_points * lowest / price`` (lowest-price ratio; never reaches 0).
``linear``        linear between the lowest price (``max_points``) and the highest (``floor``):
                  ``floor + (max_points - floor) * (highest - price) / (highest - lowest)``.
``reference``     linear between the lowest price (``max_points``) and a ``reference`` price
                  (``floor``), e.g. the budget estimate; default reference = 2 x lowest (a bid
                  twice the lowest scores the floor).  Prices above the reference get ``floor``.

Points are then treated as a ``max`` criterion.  Note that ``linear`` and ``reference`` depend
on the other bids (rank reversal possible when a bid is withdrawn); ``proportional`` depends on
the lowest bid only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PRICE_FORMULAS", "price_points"]

PRICE_FORMULAS = ("proportional", "linear", "reference")


def price_points(prices, *, formula: str = "proportional", max_points: float = 1.0,
                 floor: float = 0.0, reference: float | None = None) -> pd.Series:
    """Points for each bid price.

    Parameters
    ----------
    prices : Series or array-like
        Bid prices (> 0) in the tender currency, e.g. tender currency per year.
    formula : {"proportional", "linear", "reference"}
        See the module docstring.
    max_points : float
        Points of the lowest price (default 1).
    floor : float
        Minimum points any bid gets (0 <= floor < max_points).
    reference : float, optional
        Reference price (tender currency) for ``formula="reference"``; must exceed the lowest price.

    Returns
    -------
    Series
        Points, same index as ``prices`` (a RangeIndex for arrays).
    """
    if formula not in PRICE_FORMULAS:
        raise ValueError(f"unknown formula {formula!r}; valid choices: {', '.join(PRICE_FORMULAS)}")
    s = prices.astype(float) if isinstance(prices, pd.Series) else pd.Series(np.asarray(prices, dtype=float))
    if len(s) == 0:
        raise ValueError("prices is empty")
    if not np.all(np.isfinite(s)) or (s <= 0).any():
        bad = list(s.index[~np.isfinite(s) | (s <= 0)])
        raise ValueError(f"prices must be finite and > 0; bad for {bad}")
    if not (max_points > 0 and 0 <= floor < max_points):
        raise ValueError(f"need max_points > 0 and 0 <= floor < max_points; got {max_points}, {floor}")
    if reference is not None and formula != "reference":
        raise ValueError("reference is only used with formula='reference'")
    p = s.to_numpy()
    lo, hi = p.min(), p.max()
    if formula == "proportional":
        pts = max_points * lo / p
    elif formula == "linear":
        pts = np.full_like(p, max_points) if hi == lo else floor + (max_points - floor) * (hi - p) / (hi - lo)
    else:
        ref = 2.0 * lo if reference is None else float(reference)
        if not np.isfinite(ref) or ref <= lo:
            raise ValueError(f"reference price must be greater than the lowest price {lo:,.2f}; got {ref}")
        pts = floor + (max_points - floor) * (ref - p) / (ref - lo)
    return pd.Series(np.clip(pts, floor, max_points), index=s.index, name="price_points")
