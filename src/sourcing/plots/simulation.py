"""Figures of a :class:`~sourcing.simulation.SimulationResult` (board quality, money in the
tender currency; inputs and drivers by their readable labels).

Each function takes the result, an optional ``ax`` and returns the Axes; none calls
``plt.show()``.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from ..present import label
from ._style import get_ax, money_axis, money_formatter

__all__ = [
    "factor_label",
    "plot_sobol",
    "plot_cost_cdf", "plot_cost_distribution", "plot_fan_chart", "plot_loss_exceedance",
    "plot_scenario_comparison", "plot_tornado",
]

_METRIC_LABEL = {"total": "total cost over the horizon (undiscounted)",
                 "npv": "cost over the horizon, present value"}


def _budget_line(ax: Axes, budget: float | None, currency: str, *, vertical: bool = True) -> None:
    if budget is None:
        return
    label = f"budget {money_formatter(currency)(budget)}"
    if vertical:
        ax.axvline(budget, color="black", linestyle="--", linewidth=1.2, label=label)
    else:
        ax.axhline(budget, color="black", linestyle="--", linewidth=1.2, label=label)


def plot_cost_distribution(result: Any, *, ax: Axes | None = None, metric: str = "total",
                           bins: int = 80, budget: float | None = None, cdf: bool = True) -> Axes:
    """Histogram of each scenario's cost with the CDF overlaid (right axis) and the budget line."""
    ax = get_ax(ax)
    x = result.values(metric)
    lo, hi = np.quantile(x, [0.001, 0.999])
    edges = np.linspace(lo, hi, bins + 1)
    budget = result.budget if budget is None else budget
    colors = [f"C{i}" for i in range(len(result.names))]
    for i, name in enumerate(result.names):
        ax.hist(np.clip(x[i], lo, hi), bins=edges, density=True, alpha=0.45, color=colors[i],
                label=textwrap.shorten(name, 40))
    ax.set_ylabel(f"probability density (per {result.currency})")
    ax.set_yticks([])
    if cdf:
        ax2 = ax.twinx()
        for i in range(len(result.names)):
            s = np.sort(x[i])
            idx = np.linspace(0, s.size - 1, min(s.size, 400)).astype(int)
            ax2.plot(s[idx], (idx + 1) / s.size, color=colors[i], linewidth=1.6)
        ax2.set_ylim(0, 1)
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax2.set_ylabel("cumulative probability")
    _budget_line(ax, budget, result.currency)
    money_axis(ax, "x", result.currency)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.set_xlim(lo, hi)
    ax.set_xlabel(f"{_METRIC_LABEL[metric]} [{result.currency}]")
    ax.set_title(f"Cost distribution by option ({result.n:,} draws)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_cost_cdf(result: Any, *, ax: Axes | None = None, metric: str = "total",
                  budget: float | None = None) -> Axes:
    """Cumulative distribution of each scenario's cost, with the budget line."""
    ax = get_ax(ax)
    x = result.values(metric)
    for i, name in enumerate(result.names):
        s = np.sort(x[i])
        idx = np.linspace(0, s.size - 1, min(s.size, 1000)).astype(int)
        ax.plot(s[idx], (idx + 1) / s.size, label=name, linewidth=1.8)
    _budget_line(ax, result.budget if budget is None else budget, result.currency)
    money_axis(ax, "x", result.currency)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"{_METRIC_LABEL[metric]} [{result.currency}]")
    ax.set_ylabel("P(cost <= x)")
    ax.set_title("Cumulative cost distribution by option")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_fan_chart(result: Any, scenario: str | None = None, *, ax: Axes | None = None) -> Axes:
    """Cost per contract year: median, 50 % and 90 % bands, mean."""
    ax = get_ax(ax)
    name = scenario or result.names[0]
    y = result.yearly(name, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95))
    years = y.index.to_numpy()
    ax.fill_between(years, y["p5"], y["p95"], alpha=0.2, color="C0", label="90 % band (P5-P95)")
    ax.fill_between(years, y["p25"], y["p75"], alpha=0.4, color="C0", label="50 % band (P25-P75)")
    ax.plot(years, y["p50"], color="C0", linewidth=2, label="median")
    ax.plot(years, y["mean"], color="black", linestyle=":", label="mean")
    ax.set_xticks(years)
    ax.set_xlabel("contract year")
    ax.set_ylabel(f"cost per year [{result.currency}]")
    money_axis(ax, "y", result.currency)
    ax.set_title(f"Yearly cost fan chart: {name}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_tornado(result: Any, scenario: str | None = None, *, ax: Axes | None = None,
                 method: str = "spearman", top: int = 12, metric: str = "total") -> Axes:
    """Tornado of input importance (Spearman rank correlation or SRRC) for one scenario."""
    tor = result.tornado(scenario, method=method, metric=metric).head(top)
    ax = get_ax(ax, figsize=(8, max(3.0, 0.35 * len(tor) + 1.2)))
    names = result.meta.get("names") or {}
    labels = [textwrap.shorten(label(i, names=names), 48) for i in tor["input"]][::-1]
    vals = tor["coef"].to_numpy()[::-1]
    ax.barh(labels, vals, color=["C3" if v > 0 else "C2" for v in vals])
    ax.axvline(0, color="black", linewidth=0.8)
    lim = max(0.05, float(np.abs(vals).max()) * 1.1) if len(vals) else 1.0
    ax.set_xlim(-lim, lim)
    what = "Spearman rank correlation" if method == "spearman" else "standardised rank regression coefficient"
    ax.set_xlabel(f"{what} with {metric} cost [-]")
    ax.set_title(f"What drives the cost: {tor.attrs.get('scenario', scenario)}")
    ax.grid(axis="x", alpha=0.3)
    return ax


def factor_label(factor: str, names: Any = None) -> str:
    """A Sobol factor for a reader: each input of a group by :func:`~sourcing.present.label`,
    joined by "and" (``"fx[INR] + fx[offshore]"`` -> ``"Exchange rates: INR and offshore"``)."""
    parts = [label(p.strip(), names=names) for p in str(factor).split(" + ")]
    heads = {p.split(": ", 1)[0] for p in parts}
    if len(parts) > 1 and len(heads) == 1 and all(": " in p for p in parts):  # one kind of input
        return f"{heads.pop()}: " + " and ".join(p.split(": ", 1)[1] for p in parts)
    return " and ".join(parts)


def plot_sobol(result: Any, output: str, *, ax: Axes | None = None, top: int = 10,
               names: Any = None) -> Axes:
    """Total (bar) and first-order (dot) Sobol indices of one output, largest first, with the
    bootstrap confidence intervals as whiskers; a :class:`~sourcing.simulation.SobolResult`."""
    ix = result.of(output).head(top)
    ax = get_ax(ax, figsize=(8, max(3.0, 0.35 * len(ix) + 1.2)))
    labels = [textwrap.shorten(factor_label(f, names), 48) for f in ix.index][::-1]
    st, s1 = ix["ST"].to_numpy()[::-1], ix["S1"].to_numpy()[::-1]
    y = np.arange(len(ix))
    ax.barh(y, st, xerr=ix["ST_conf"].to_numpy()[::-1], color="C0", alpha=0.75, capsize=2,
            label="total index (with interactions)")
    ax.errorbar(s1, y, xerr=ix["S1_conf"].to_numpy()[::-1], fmt="o", color="C3", capsize=2,
                label="first-order index (alone)")
    ax.set_yticks(y, labels)
    ax.set_xlim(0, max(0.1, min(1.0, float(np.nanmax(st + ix["ST_conf"].to_numpy()[::-1])) * 1.1)))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"share of the variance of {output} [%]")
    ax.set_title(f"What moves {output} (Sobol indices, N = {result.n:,})")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return ax


def plot_loss_exceedance(result: Any, *, ax: Axes | None = None, metric: str = "total",
                         budget: float | None = None) -> Axes:
    """Loss-exceedance curves: P(cost > x) on a log scale, per scenario."""
    ax = get_ax(ax)
    for name in result.names:
        e = result.exceedance(name, metric=metric, points=500)
        keep = e["p_exceed"] > 0
        ax.plot(e["level"][keep], e["p_exceed"][keep], label=name, linewidth=1.8)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.1%}" if v >= 0.001 else f"{v:.2%}"))
    _budget_line(ax, result.budget if budget is None else budget, result.currency)
    money_axis(ax, "x", result.currency)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.set_xlabel(f"{_METRIC_LABEL[metric]} [{result.currency}]")
    ax.set_ylabel("P(cost > x), log scale")
    ax.set_title("Loss-exceedance curve by option")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return ax


def plot_scenario_comparison(result: Any, *, ax: Axes | None = None, metric: str = "total",
                             budget: float | None = None) -> Axes:
    """Mean cost stacked by driver per scenario, with P5-P95 whiskers and the budget line."""
    ax = get_ax(ax, figsize=(9, 4.8))
    drv = result.by_driver()
    names = [textwrap.fill(str(x), 18) for x in drv.index]
    pos = np.zeros(len(names))
    neg = np.zeros(len(names))
    for j, d in enumerate(drv.columns):
        v = drv[d].to_numpy()
        if not np.any(v):
            continue
        bottom = np.where(v >= 0, pos, neg)
        ax.bar(names, v, bottom=bottom, label=label(d), color=f"C{j % 10}")
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    s = result.summary("total")
    ax.errorbar(names, s["mean"], yerr=[s["mean"] - s["p5"], s["p95"] - s["mean"]], fmt="o",
                color="black", capsize=5, label="mean, P5-P95")
    _budget_line(ax, result.budget if budget is None else budget, result.currency, vertical=False)
    money_axis(ax, "y", result.currency)
    ax.set_ylabel(f"total cost over the horizon [{result.currency}]")
    ax.set_xlabel("sourcing option")
    ax.set_title("Options compared: mean cost by driver")
    ax.legend(fontsize="x-small", ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
