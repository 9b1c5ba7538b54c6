"""Tests for sourcing.scoring.price: procurement price-scoring formulas, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sourcing.scoring import price_points

PRICES = pd.Series({"A": 100.0, "B": 125.0, "C": 200.0})


def test_proportional_by_hand():
    """lowest / price x max_points: 100/100, 100/125, 100/200."""
    np.testing.assert_allclose(price_points(PRICES, max_points=40), [40, 32, 20])


def test_linear_by_hand():
    """Lowest gets max, highest gets floor, linear between: 125 is 1/4 of the way."""
    np.testing.assert_allclose(price_points(PRICES, formula="linear", max_points=10, floor=2), [10, 8, 2])


def test_reference_by_hand():
    """Linear from the lowest (max) to the reference price (floor); default reference 2 x lowest."""
    np.testing.assert_allclose(price_points(PRICES, formula="reference"), [1.0, 0.75, 0.0])
    np.testing.assert_allclose(price_points(PRICES, formula="reference", reference=150), [1.0, 0.5, 0.0])


def test_floor_applies_to_all():
    pts = price_points(PRICES, max_points=1, floor=0.6)
    np.testing.assert_allclose(pts, [1.0, 0.8, 0.6])


@given(st.lists(st.floats(1, 1e7), min_size=2, max_size=10),
       st.sampled_from(["proportional", "linear", "reference"]))
def test_monotone_and_bounded(prices, formula):
    p = np.array(prices)
    pts = price_points(p, formula=formula, max_points=5, floor=1).to_numpy()
    assert np.all((pts >= 1) & (pts <= 5))
    assert pts[np.argmin(p)] == pytest.approx(5)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(pts[order]) <= 1e-9)


@pytest.mark.parametrize("kwargs,msg", [
    ({"formula": "cubic"}, "valid choices: proportional, linear, reference"),
    ({"prices": [10, -1]}, "> 0"),
    ({"prices": [10, np.nan]}, "> 0"),
    ({"floor": 2, "max_points": 1}, "floor < max_points"),
    ({"formula": "reference", "reference": 50}, "greater than the lowest"),
    ({"reference": 500}, "only used"),
])
def test_errors(kwargs, msg):
    args = {"prices": PRICES, **kwargs}
    with pytest.raises(ValueError, match=msg):
        price_points(args.pop("prices"), **args)
