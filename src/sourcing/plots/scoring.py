"""Figures for the scoring stage: contributions, weight stability, SMAA acceptability, AHP weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._style import MAX_ROWS, get_ax, name_of, shown_columns, shown_rows

__all__ = [
    "plot_acceptability",
    "plot_agreement",
    "plot_ahp",
    "plot_contributions",
    "plot_gaia",
    "plot_scores",
    "plot_weight_stability",
]


def _labels(index, names=None) -> list[str]:
    if names is None or len(names) == 0:
        return [str(i) for i in index]
    return [f"{names.get(i, '')} ({i})" if names.get(i, "") else str(i) for i in index]


def plot_contributions(evaluation, ax: Axes | None = None) -> Axes:
    """Horizontal stacked bars: each criterion's part of each vendor's score, best vendor on top.

    Accepts an :class:`~sourcing.scoring.Evaluation` or a vendor x criterion DataFrame.
    """
    if isinstance(evaluation, pd.DataFrame):
        contrib, names, order, title, method = evaluation, None, list(evaluation.index), "", ""
    else:
        contrib = evaluation.contributions
        names = evaluation.names
        order = list(evaluation.ranks.sort_values(kind="stable").index)
        title = evaluation.title
        method = evaluation.conventions.get("method_label", "")
    crit_names = {} if isinstance(evaluation, pd.DataFrame) else dict(
        evaluation.conventions.get("criterion_names", {}))
    order, left_out = shown_rows(order)
    contrib = shown_columns(contrib.loc[order[::-1]])
    ax = get_ax(ax, figsize=(9, 0.5 * len(contrib) + 2.5))
    cmap = __import__("matplotlib").colormaps["tab20"]
    pos_left = np.zeros(len(contrib))
    neg_left = np.zeros(len(contrib))
    y = np.arange(len(contrib))
    for j, col in enumerate(contrib.columns):
        v = contrib[col].to_numpy(dtype=float)
        left = np.where(v >= 0, pos_left, neg_left)
        ax.barh(y, v, left=left, color=cmap(j % 20), label=crit_names.get(col, str(col)),
                edgecolor="white", linewidth=0.5)
        pos_left += np.where(v >= 0, v, 0)
        neg_left += np.where(v < 0, v, 0)
    ax.set_yticks(y, _labels(contrib.index, names))
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Score contribution (method score units)")
    ax.set_title(f"Vendor scores by criterion{' - ' + method if method else ''}"
                 + (f"\n{title}" if title else "") + (f"\n({left_out})" if left_out else ""))
    ax.legend(title="Criterion", bbox_to_anchor=(1.01, 1), loc="upper left", fontsize="small", ncols=1)
    return ax


def plot_scores(ranking, ax: Axes | None = None) -> Axes:
    """Bar chart of a :class:`~sourcing.scoring.Ranking`'s scores, best first."""
    s = ranking.scores.iloc[np.argsort(ranking.ranks.to_numpy(), kind="stable")]
    ax = get_ax(ax)
    ax.barh([str(i) for i in s.index[::-1]], s.to_numpy()[::-1], color="tab:blue")
    better = "higher" if ranking.higher_is_better else "lower"
    ax.set_xlabel(f"{ranking.method.upper()} score ({better} is better)")
    ax.set_ylabel("Alternative")
    ax.set_title(f"Ranking by {ranking.method.upper()}")
    return ax


def plot_weight_stability(result, ax: Axes | None = None, *, names=None) -> Axes:
    """Stable weight interval per criterion (bar) with the current weight (dot); *names* maps
    criterion and vendor ids to the names shown."""
    t = result.intervals
    ax = get_ax(ax, figsize=(8, 0.4 * len(t) + 2))
    y = np.arange(len(t))[::-1]
    ax.barh(y, (t["upper"] - t["lower"]).to_numpy(), left=t["lower"].to_numpy(), color="tab:green",
            alpha=0.35, label="stable interval")
    ax.plot(t["weight"].to_numpy(), y, "o", color="black", label="current weight")
    ax.set_yticks(y, [name_of(c, names) for c in t.index])
    ax.set_xlim(0, 1)
    ax.set_xlabel("Criterion weight (share of total, other weights rescaled)")
    what = f"{name_of(result.top, names)} stays first" if result.scope == "first" else "ranking unchanged"
    ax.set_title(f"Weight stability ({result.method.upper()}): {what}")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_acceptability(result, ax: Axes | None = None, *, names=None) -> Axes:
    """Heatmap of SMAA rank acceptabilities (percent), alternatives x ranks; *names* maps
    alternative ids to the names shown."""
    a = result.acceptability
    order = list(a.index)
    if len(order) > MAX_ROWS:  # the best by expected rank
        expected = (a.to_numpy() * np.arange(1, a.shape[1] + 1)).sum(axis=1)
        order = list(a.index[np.argsort(expected, kind="stable")])
    rows, left_out = shown_rows(order)
    a = a.loc[rows, list(a.columns[:len(rows)])]
    ax = get_ax(ax, figsize=(1 + 0.6 * a.shape[1] + 2, 0.45 * a.shape[0] + 2))
    im = ax.imshow(100 * a.to_numpy(), cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(a.shape[1]), [str(c) for c in a.columns])
    ax.set_yticks(range(a.shape[0]), [name_of(i, names) for i in a.index])
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            v = 100 * a.iat[i, j]
            if v >= 0.5:
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if v > 60 else "black")
    ax.figure.colorbar(im, ax=ax, label="Rank acceptability (%)")
    ax.set_xlabel("Rank (1 = best)")
    ax.set_ylabel("Vendor" if names is not None else "Alternative")
    ax.set_title(f"SMAA-2 rank acceptability ({result.conventions.get('method', '').upper()}, "
                 f"{result.n:,} samples)" + (f"\n({left_out})" if left_out else ""))
    return ax


def plot_ahp(result, ax: Axes | None = None) -> Axes:
    """AHP priorities as bars, annotated with lambda_max, CI and CR (red when CR > 0.10)."""
    w = result.weights.sort_values()
    ax = get_ax(ax, figsize=(8, 0.4 * len(w) + 2))
    ax.barh([str(i) for i in w.index], 100 * w.to_numpy(), color="tab:purple")
    for i, v in enumerate(w.to_numpy()):
        ax.text(100 * v, i, f" {100 * v:.1f}%", va="center", fontsize=8)
    ax.set_xlabel("Priority (% of total weight)")
    ax.set_title(f"AHP priorities ({result.method}, RI table {result.ri_table})")
    color = "tab:green" if result.consistent else "tab:red"
    ax.text(0.98, 0.04, f"CR = {result.cr:.3f} ({'consistent' if result.consistent else 'revisit: > 0.10'})"
            f"\nlambda_max = {result.lambda_max:.3f}, CI = {result.ci:.3f}",
            transform=ax.transAxes, ha="right", va="bottom", color=color, fontsize=9)
    return ax


def plot_agreement(agreement, ax: Axes | None = None) -> Axes:
    """Heatmap of Kendall's tau between the methods' rankings."""
    k = agreement.kendall
    ax = get_ax(ax, figsize=(5 + 0.3 * len(k), 4 + 0.3 * len(k)))
    im = ax.imshow(k.to_numpy(dtype=float), cmap="RdBu", vmin=-1, vmax=1)
    ax.set_xticks(range(len(k)), [str(c) for c in k.columns], rotation=45, ha="right")
    ax.set_yticks(range(len(k)), [str(c) for c in k.index])
    for i in range(len(k)):
        for j in range(len(k)):
            ax.text(j, i, f"{k.iat[i, j]:.2f}", ha="center", va="center", fontsize=8)
    ax.figure.colorbar(im, ax=ax, label="Kendall's tau")
    ax.set_title("Agreement between ranking methods")
    return ax


def plot_gaia(plane, ax: Axes | None = None, *, names=None, criterion_names=None) -> Axes:
    """The GAIA plane: vendors as points, criteria as axes, the decision stick in bold.

    Criterion axes and the stick are scaled to the spread of the points so all are readable;
    the title gives the share of information the plane keeps (delta).
    """
    ax = get_ax(ax)
    pts, axes, stick = plane.alternatives, plane.criteria, plane.stick
    reach = float(np.abs(pts.to_numpy()).max()) or 1.0
    scale = 0.9 * reach / max(float(np.hypot(axes["u"], axes["v"]).max()), 1e-12)
    for c, (u, v) in axes.iterrows():
        ax.annotate("", xy=(u * scale, v * scale), xytext=(0, 0),
                    arrowprops={"arrowstyle": "->", "color": "#8a8a8a", "lw": 1})
        label = (criterion_names or {}).get(c, str(c))
        ax.text(u * scale * 1.05, v * scale * 1.05, label, fontsize=7, color="#555555",
                ha="center", va="center")
    s = float(np.hypot(stick["u"], stick["v"]))
    k = 0.9 * reach / s if s > 0 else 0.0
    ax.annotate("", xy=(stick["u"] * k, stick["v"] * k), xytext=(0, 0),
                arrowprops={"arrowstyle": "-|>", "color": "#c0392b", "lw": 2.5})
    ax.text(stick["u"] * k, stick["v"] * k, "  decision stick", color="#c0392b", fontsize=8,
            va="bottom")
    ax.scatter(pts["u"], pts["v"], s=36, color="#2f6db5", zorder=3)
    for a, (u, v) in pts.iterrows():
        ax.text(u, v, "  " + name_of(a, names), fontsize=8, va="center", zorder=4)
    lim = 1.25 * reach
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.axhline(0, color="#dddddd", lw=0.8, zorder=0)
    ax.axvline(0, color="#dddddd", lw=0.8, zorder=0)
    ax.set_xlabel("first principal component of the net flows")
    ax.set_ylabel("second principal component")
    ax.set_title(f"GAIA plane: the plane keeps {100 * plane.delta:.0f}% of the information")
    return ax
