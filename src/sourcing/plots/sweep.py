"""Decision maps of a sweep (plain data in: the decision table of :func:`sourcing.sweep.decision_table`).

:func:`plot_decision_map` (the recommended option over two swept inputs, the baseline marked and
the flip boundary drawn; over one input, each option's cost with the flips),
:func:`plot_sweep_tornado` (how far each swept input moves an option's cost) and
:func:`plot_recommendation_share` (the share of points in which each option is recommended).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ._style import get_ax, money_axis

__all__ = ["plot_decision_map", "plot_recommendation_share", "plot_sweep_tornado"]

_NONE = "no option"


def _value_axis(ax: Axes, axis: str, unit: str, currency: str) -> None:
    from ..sweep import axis_value

    target = ax.xaxis if axis == "x" else ax.yaxis
    if unit in ("money", "percent", "fraction", "points"):
        target.set_major_formatter(FuncFormatter(lambda v, _: axis_value(v, unit, currency)))


def _options(table: pd.DataFrame) -> list[str]:
    """Options in the table's order, with "no option" last when some point recommends none."""
    opts = list(dict.fromkeys(table["option"].dropna().astype(str)))
    if table.loc[table["error"].isna(), "recommended_option"].isna().any():
        opts.append(_NONE)
    return opts


def _recommended(table: pd.DataFrame) -> pd.DataFrame:
    from ..sweep import recommended_by_point

    rec = recommended_by_point(table)
    return rec.assign(recommended_option=rec["recommended_option"].fillna(_NONE).astype(str))


def plot_decision_map(table: pd.DataFrame, x: str, y: str | None = None, *, ax: Axes | None = None,
                      baseline: Mapping[str, Any] | None = None,
                      labels: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None,
                      currency: str = "", measure: str = "p50",
                      limits: Mapping[str, tuple[float, float]] | None = None) -> Axes:
    """The recommended option over the swept inputs *x* and *y*, coloured, with the baseline
    (a star) and the flip boundary (black lines, between the points that differ) drawn.

    Points of a grid colour their cells; sampled points (Latin hypercube, Sobol) colour the plane
    by their nearest point and are shown as dots.  With more swept inputs, a cell shows the option
    recommended most often over the others.  With *y* None, each option's *measure* cost along *x*
    (tender currency), the band of the recommended option shaded and each flip marked.  *limits*
    (key -> (low, high), a sampled sweep's ranges) is the plane the sampled points colour.
    """
    labels, units, baseline = dict(labels or {}), dict(units or {}), dict(baseline or {})
    ax = get_ax(ax, figsize=(9, 5.5))
    options = _options(table)
    colours = {o: f"C{k % 10}" for k, o in enumerate(options)}
    rec = _recommended(table)
    ticks = {}
    for key in (x, y):
        if key is not None and not pd.api.types.is_numeric_dtype(rec[key]):
            ticks[key], coded = _categories(rec[key], key)
            rec = rec.assign(**{key: coded})
            table = table.assign(**{key: _categories(table[key], key)[1]})
            baseline.pop(key, None)
    if y is None:
        _one_axis(table, rec, x, ax, colours=colours, baseline=baseline, labels=labels,
                  units=units, currency=currency, measure=measure, text=x in ticks)
        _category_ticks(ax, ticks)
        return ax
    cell = (rec.groupby([x, y])["recommended_option"]
            .agg(lambda s: s.value_counts().index[0]).reset_index())
    xs, ys = np.sort(cell[x].unique()), np.sort(cell[y].unique())
    code = {o: k for k, o in enumerate(options)}
    cmap = ListedColormap([colours[o] for o in options])
    grid = len(cell) == len(xs) * len(ys) and len(xs) * len(ys) <= 4 * len(rec) + 1
    scattered = not grid and (bool(ticks) or len(cell) < 8)  # too few, or text: no plane
    if grid:
        z = (cell.assign(c=cell["recommended_option"].map(code))
             .pivot(index=y, columns=x, values="c").reindex(index=ys, columns=xs).to_numpy(float))
        gx, gy = xs, ys
    elif not scattered:
        from scipy.interpolate import NearestNDInterpolator

        bounds = dict(limits or {})
        lo = np.array([bounds.get(k, (cell[k].min(), None))[0] for k in (x, y)], float)
        span = np.array([bounds.get(k, (None, cell[k].max()))[1] for k in (x, y)], float) - lo
        span[span == 0] = 1.0
        pts = (cell[[x, y]].to_numpy(float) - lo) / span
        near = NearestNDInterpolator(pts, cell["recommended_option"].map(code).to_numpy(float))
        gx = np.linspace(lo[0], lo[0] + span[0], 160)
        gy = np.linspace(lo[1], lo[1] + span[1], 160)
        mx, my = np.meshgrid((gx - lo[0]) / span[0], (gy - lo[1]) / span[1])
        z = near(mx, my)
    if scattered:  # each point in its option's colour, no boundary guessed between them
        ax.scatter(cell[x], cell[y], s=160, c=[colours[o] for o in cell["recommended_option"]],
                   edgecolors="black", linewidths=0.8, zorder=3)
        present = sorted({code[o] for o in cell["recommended_option"]})
        ax.margins(0.15)
    else:
        ax.pcolormesh(gx, gy, z, cmap=cmap, vmin=-0.5, vmax=len(options) - 0.5,
                      shading="nearest", alpha=0.85)
        present = [k for k in range(len(options)) if np.any(z == k)]
        ax.add_collection(LineCollection(_boundary(gx, gy, z), colors="black", linewidths=1.6))
    if not grid and not scattered:
        ax.scatter(cell[x], cell[y], s=9, c="black", alpha=0.5, linewidths=0)
    bx, by = baseline.get(x), baseline.get(y)
    if isinstance(bx, int | float) and isinstance(by, int | float):
        ax.plot([bx], [by], marker="*", markersize=16, color="white", markeredgecolor="black",
                linestyle="none", label="baseline", clip_on=False, zorder=5)
    handles = [Patch(color=colours[o], label=textwrap.shorten(o, 40)) for o in options
               if code[o] in present]
    if not scattered:
        handles.append(ax.plot([], [], color="black", linewidth=1.6, label="flip boundary")[0])
    if isinstance(bx, int | float) and isinstance(by, int | float):
        handles.append(ax.plot([], [], marker="*", markersize=12, color="white",
                               markeredgecolor="black", linestyle="none", label="baseline")[0])
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              title="recommended")
    ax.set_xlabel(labels.get(x, x))
    ax.set_ylabel(labels.get(y, y))
    _value_axis(ax, "x", units.get(x, "number"), currency)
    _value_axis(ax, "y", units.get(y, "number"), currency)
    _category_ticks(ax, ticks, x=x, y=y)
    more = len([c for c in rec.columns if c not in ("point", "recommended_option")]) > 2
    ax.set_title("Recommended option" + (" (most often, over the other swept inputs)" if more else ""))
    return ax


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around *centres*: midway between neighbours, half a step beyond the ends."""
    c = np.asarray(centres, float)
    if len(c) == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def _boundary(gx: np.ndarray, gy: np.ndarray, z: np.ndarray) -> list:
    """Segments between neighbouring cells of *z* (rows along *gy*) that hold different options:
    the flip boundary, drawn on the cell edges."""
    ex, ey = _edges(gx), _edges(gy)
    segments = []
    for i, j in zip(*np.nonzero(z[:, 1:] != z[:, :-1]), strict=True):  # vertical edges
        segments.append([(ex[j + 1], ey[i]), (ex[j + 1], ey[i + 1])])
    for i, j in zip(*np.nonzero(z[1:, :] != z[:-1, :]), strict=True):  # horizontal edges
        segments.append([(ex[j], ey[i + 1]), (ex[j + 1], ey[i + 1])])
    return segments


def _categories(values: pd.Series, key: str) -> tuple[list[str], pd.Series]:
    """Text values (tender files) as positions 0, 1, ... in order of appearance, with their
    labels (a file's name, not its path)."""
    text = values.astype(str)
    order = list(dict.fromkeys(text))
    names = [Path(v).name if key == "tender" else v for v in order]
    return names, text.map({v: float(k) for k, v in enumerate(order)})


def _category_ticks(ax: Axes, ticks: Mapping[str, list[str]], *, x: str | None = None,
                    y: str | None = None) -> None:
    for key, names in ticks.items():
        where = ax.set_yticks if key == y and key != x else ax.set_xticks
        where(range(len(names)), [textwrap.shorten(n, 24) for n in names])


def _one_axis(table, rec, x, ax, *, colours, baseline, labels, units, currency, measure,
              text=False) -> Axes:
    from ..sweep import flip_points

    ok = table[table["error"].isna()]
    col = measure if measure in ok.columns else "p50"
    for option, rows in ok.groupby("option", sort=False):
        line = rows.groupby(x)[col].mean().sort_index()
        ax.plot(line.index, line.to_numpy(), marker="o", markersize=3 if not text else 7,
                linestyle="none" if text else "-", color=colours[option],
                label=textwrap.shorten(str(option), 40))
    order = rec.sort_values(x)
    xs = order[x].to_numpy(float)
    edges = np.concatenate([[xs[0]], (xs[1:] + xs[:-1]) / 2, [xs[-1]]]) if len(xs) else xs
    for k, option in enumerate(order["recommended_option"]):
        ax.axvspan(edges[k], edges[k + 1], color=colours.get(option, "grey"), alpha=0.12, lw=0)
    for f in flip_points(table, x, measure=col) if not text else ():
        ax.axvline(f.at, color="black", linestyle="--", linewidth=1.2)
    b = baseline.get(x)
    if isinstance(b, int | float):
        ax.axvline(b, color="grey", linestyle=":", linewidth=1.2, label="baseline")
    ax.set_xlabel(labels.get(x, x))
    ax.set_ylabel(f"{col.upper()} cost over the contract [{currency}]")
    money_axis(ax, "y", currency)
    _value_axis(ax, "x", units.get(x, "number"), currency)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Cost of each option; shaded: recommended" + ("" if text else
                                                              "; dashed: where it flips"))
    return ax


def plot_sweep_tornado(table: pd.DataFrame, keys: list[str], *, ax: Axes | None = None,
                       option: str | None = None, labels: Mapping[str, str] | None = None,
                       currency: str = "", measure: str = "p50") -> Axes:
    """How far each swept input moves *option*'s cost (default: the option recommended most
    often): its mean *measure* over the points where the input is in its lowest fifth (the
    lowest value of a grid) and in its highest fifth, against its mean over the sweep."""
    from ..sweep import recommendation_shares

    labels = dict(labels or {})
    ok = table[table["error"].isna()]
    col = measure if measure in ok.columns else "p50"
    option = option or (recommendation_shares(table).index[0] if len(ok) else None)
    rows = ok[ok["option"] == option]
    numeric = [k for k in keys if pd.api.types.is_float_dtype(rows[k])]
    centre = float(rows[col].mean()) if len(rows) else 0.0
    bars = []
    for k in numeric:
        lo_cut, hi_cut = rows[k].quantile(0.2), rows[k].quantile(0.8)
        low = float(rows.loc[rows[k] <= lo_cut, col].mean())
        high = float(rows.loc[rows[k] >= hi_cut, col].mean())
        bars.append((labels.get(k, k), low - centre, high - centre))
    bars.sort(key=lambda b: abs(b[2] - b[1]))
    ax = get_ax(ax, figsize=(8, max(3.0, 0.5 * len(bars) + 1.5)))
    names = [textwrap.shorten(b[0], 48) for b in bars]
    ax.barh(names, [b[1] for b in bars], color="C2", label="input low")
    ax.barh(names, [b[2] for b in bars], color="C3", label="input high")
    ax.axvline(0, color="black", linewidth=0.8)
    money_axis(ax, "x", currency)
    ax.set_xlabel(f"change of {col.upper()} cost against its sweep mean [{currency}]")
    ax.set_title(f"What the swept inputs do to the cost of {option}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_recommendation_share(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of the sweep's points in which each option is recommended (percent)."""
    from ..sweep import recommendation_shares

    shares = recommendation_shares(table)
    options = _options(table)
    colours = {o: f"C{k % 10}" for k, o in enumerate(options)}
    ax = get_ax(ax, figsize=(8, max(2.5, 0.5 * len(shares) + 1.5)))
    shares = shares.iloc[::-1]
    ax.barh([textwrap.shorten(str(o), 48) for o in shares.index], shares.to_numpy() * 100,
            color=[colours.get(o, "grey") for o in shares.index])
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the sweep's points [%]")
    ax.set_title("How often each option is recommended")
    ax.grid(axis="x", alpha=0.3)
    return ax
