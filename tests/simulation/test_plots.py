"""Simulation figures: every kind returns a labelled Axes with money in EUR."""

from __future__ import annotations

import pytest
from matplotlib.axes import Axes

from sourcing.plots import plot_fan_chart, plot_tornado
from sourcing.simulation import simulate, standard_scenarios


@pytest.fixture(scope="module")
def res(tender):
    return simulate(standard_scenarios(tender), n=4000, seed=1, budget=70e6)


@pytest.mark.parametrize("kind", ["hist", "cdf", "fan", "tornado", "exceedance", "compare"])
def test_every_kind_draws_a_titled_axes(res, kind):
    ax = res.plot(kind)
    assert isinstance(ax, Axes)
    assert ax.get_title()
    assert ax.get_xlabel() and (ax.get_ylabel() or kind == "tornado")
    if kind in ("hist", "cdf", "exceedance"):
        ax.figure.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert labels and all(t.startswith("EUR") for t in labels)
    if kind in ("hist", "cdf", "compare"):
        assert any("budget EUR 70.0M" in t.get_text() for t in ax.get_legend().get_texts())


def test_public_plot_functions(res):
    ax = plot_fan_chart(res, res.names[2])
    assert res.names[2] in ax.get_title()
    ax = plot_tornado(res, res.names[1], method="srrc", top=5)
    assert len(ax.patches) == 5


def test_unknown_kind(res):
    with pytest.raises(ValueError, match="valid choices: hist, cdf"):
        res.plot("pie")
