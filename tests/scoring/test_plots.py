"""Smoke-and-content tests for sourcing.plots.scoring (titles, labels, returned Axes)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from sourcing.plots import plot_acceptability, plot_ahp, plot_contributions, plot_weight_stability
from sourcing.scoring import ahp, compare_methods, evaluate, smaa, weight_stability

X = np.array([[250, 16, 12, 5], [200, 16, 8, 3], [300, 32, 16, 4], [275, 32, 8, 4]], dtype=float)
OBJ = ["min", "max", "max", "max"]


def test_all_plots(tender):
    axes = [
        plot_contributions(evaluate(tender, method="wsm")),
        plot_weight_stability(weight_stability(X, OBJ, [0.25] * 4)),
        plot_acceptability(smaa(X, OBJ, n=500, seed=1)),
        plot_ahp(ahp([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]])),
        compare_methods(X, OBJ, [0.25] * 4).plot(),
    ]
    for ax in axes:
        assert isinstance(ax, Axes) and ax.get_title()
    assert "CR =" in " ".join(t.get_text() for t in axes[3].texts)
    assert "Nordic Service Partners (V01)" in [t.get_text() for t in axes[0].get_yticklabels()]


def test_result_plot_methods():
    from sourcing.scoring import rank

    results = (rank(X, OBJ, [0.25] * 4, method="vikor"),
               weight_stability(X, OBJ, [0.25] * 4, method="topsis"),
               smaa(X, OBJ, n=200, seed=2, progress=True), ahp([[1, 2], [0.5, 1]]))
    for obj in results:
        ax = obj.plot()
        assert isinstance(ax, Axes) and ax.get_title()
