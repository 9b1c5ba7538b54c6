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


def test_figures_of_a_large_tender_stay_bounded():
    """2,000 vendors x 50 criteria drew ~100,000 bars (minutes, GiBs): the contribution chart and
    the acceptability map show the best MAX_ROWS vendors and MAX_SERIES series (the rest summed
    into 'other criteria'), and say so in the title."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from sourcing.plots._style import MAX_ROWS, MAX_SERIES

    rng = np.random.default_rng(0)
    vendors = [f"V{i:04d}" for i in range(2000)]
    contrib = pd.DataFrame(rng.random((2000, 50)), index=vendors,
                           columns=[f"C{j:02d}" for j in range(50)])
    ax = plot_contributions(contrib)
    assert len(ax.patches) == MAX_ROWS * MAX_SERIES
    assert len(ax.get_yticklabels()) == MAX_ROWS
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == f"{50 - MAX_SERIES + 1} other criteria"
    # the other criteria's sum keeps each vendor's total
    widths = np.array([p.get_width() for p in ax.patches]).reshape(MAX_SERIES, MAX_ROWS)
    np.testing.assert_allclose(widths.sum(axis=0), contrib.iloc[:MAX_ROWS].sum(axis=1)[::-1])
    plt.close("all")

    class Acc:
        acceptability = pd.DataFrame(rng.dirichlet(np.ones(2000), 2000), index=vendors,
                                     columns=range(1, 2001))
        conventions = {"method": "wsm"}
        n = 1000

    ax = plot_acceptability(Acc())
    image = ax.get_images()[0].get_array()
    assert image.shape == (MAX_ROWS, MAX_ROWS) and "best 15 of 2,000 shown" in ax.get_title()
    plt.close("all")


def test_page_tables_show_at_most_their_bound_and_say_how_many_more():
    import pandas as pd

    from sourcing import present as fmt

    big = pd.DataFrame(np.arange(100 * 30).reshape(100, 30), columns=[f"c{j}" for j in range(30)])
    html = str(fmt.table(big))
    assert html.count("<tr>") == fmt.MAX_TABLE_ROWS + 1  # header row + shown rows
    assert f"{100 - fmt.MAX_TABLE_ROWS} more rows and 14 more columns not shown" in html
    small = str(fmt.table(big.iloc[:3, :3]))
    assert "not shown" not in small
