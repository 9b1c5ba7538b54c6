"""Shared look of every figure: money formatting and axes creation."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

__all__ = ["get_ax", "money_axis", "money_formatter"]


def money_formatter(currency: str = "EUR", *, scale: str = "auto") -> FuncFormatter:
    """Tick formatter showing money with thousands separators, e.g. ``EUR 1.2M`` or ``EUR 950k``.

    Parameters
    ----------
    currency : str
        ISO 4217 code put before the amount.
    scale : {"auto", "unit", "k", "M"}
        ``auto`` picks k or M per tick; the others fix the scale.
    """
    valid = ("auto", "unit", "k", "M")
    if scale not in valid:
        raise ValueError(f"unknown scale {scale!r}; valid choices: {', '.join(valid)}")

    def fmt(x: float, _pos: int | None = None) -> str:
        a = abs(x)
        if scale == "M" or (scale == "auto" and a >= 1e6):
            return f"{currency} {x / 1e6:,.1f}M"
        if scale == "k" or (scale == "auto" and a >= 1e4):
            return f"{currency} {x / 1e3:,.0f}k"
        return f"{currency} {x:,.0f}"

    return FuncFormatter(fmt)


def money_axis(ax: Axes, axis: str = "y", currency: str = "EUR") -> Axes:
    """Format the x or y axis of *ax* as money in *currency*; returns *ax*."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(money_formatter(currency))
    return ax


def get_ax(ax: Axes | None = None, *, figsize: tuple[float, float] = (8, 4.5)) -> Axes:
    """The given Axes, or a new one on a new figure of *figsize* inches."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
