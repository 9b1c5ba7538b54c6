"""Shared look of every figure: money formatting and axes creation."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import Formatter, MaxNLocator

from ..present import number
from ..tender import DEFAULT_CURRENCY

# vendor and criterion names are text, never TeX: a '$' in a bidder's name must not be parsed
plt.rcParams["text.parse_math"] = False

__all__ = ["category_ticks", "get_ax", "money_axis", "money_formatter", "name_of"]


class MoneyFormatter(Formatter):
    """Tick labels in money, e.g. ``GBP 1.2M``, ``USD 950k`` or ``JPY 7.5bn``, with as many
    decimals as the ticks need to differ (never ``2.5M, 2.5M, 2.4M``)."""

    def __init__(self, currency: str, scale: str = "auto") -> None:
        self.currency, self.scale = currency, scale
        self.decimals = 1

    def _one(self, x: float, decimals: int) -> str:
        # the sign before the currency, as present.money writes it ("-JPY 40.0M")
        sign, a = ("-" if x < 0 else ""), abs(x)
        if self.scale == "bn" or (self.scale == "auto" and a >= 1e9):
            body = f"{number(a / 1e9, decimals=decimals)}bn"
        elif self.scale == "M" or (self.scale == "auto" and a >= 1e6):
            body = f"{number(a / 1e6, decimals=decimals)}M"
        elif self.scale == "k" or (self.scale == "auto" and a >= 1e4):
            body = f"{number(a / 1e3, decimals=max(decimals - 1, 0))}k"
        else:
            body = number(a, decimals=max(decimals - 2, 0))
        if not any(ch in "123456789" for ch in body):
            sign = ""  # a tick that rounds to zero has no sign
        return f"{sign}{self.currency} {body}"

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self._one(x, self.decimals)

    def format_ticks(self, values) -> list[str]:
        for decimals in range(1, 5):
            labels = [self._one(v, decimals) for v in values]
            if len(set(labels)) == len(labels):
                break
        self.decimals = decimals
        return labels


def money_formatter(currency: str = DEFAULT_CURRENCY, *, scale: str = "auto") -> MoneyFormatter:
    """Tick formatter showing money with thousands separators, e.g. ``USD 1.2M`` or ``USD 950k``.

    Parameters
    ----------
    currency : str
        ISO 4217 code put before the amount (the tender's currency).
    scale : {"auto", "unit", "k", "M", "bn"}
        ``auto`` picks k, M or bn per tick; the others fix the scale.
    """
    valid = ("auto", "unit", "k", "M", "bn")
    if scale not in valid:
        raise ValueError(f"unknown scale {scale!r}; valid choices: {', '.join(valid)}")
    return MoneyFormatter(currency, scale)


def money_axis(ax: Axes, axis: str = "y", currency: str = DEFAULT_CURRENCY) -> Axes:
    """Format the x or y axis of *ax* as money in *currency*; returns *ax*."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(money_formatter(currency))
    if axis == "x":  # money labels are wide: fewer ticks so they never overlap
        target.set_major_locator(MaxNLocator(nbins=4))
    return ax


def name_of(key, names=None) -> str:
    """*key* through *names* (a mapping, a callable such as ``present.Names``, or None)."""
    if callable(names):
        return str(names(key))
    return str((names or {}).get(key, key))


def get_ax(ax: Axes | None = None, *, figsize: tuple[float, float] = (8, 4.5)) -> Axes:
    """The given Axes, or a new one on a new figure of *figsize* inches."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def category_ticks(ax: Axes, labels: list[str]) -> None:
    """Label bars at x = 0, 1, ... with *labels* wrapped to the width each bar has on the axes
    (a legend beside the axes counted in), in a smaller font if a word would not fit, and set
    vertically when even that is too narrow."""
    labels = [str(x) for x in labels]
    n = max(len(labels), 1)
    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72 * 0.75
    longest = max((len(w) for x in labels for w in x.split()), default=1)
    size = FontProperties(size=plt.rcParams["xtick.labelsize"]).get_size_in_points()
    for scale in (1.0, 0.85):
        chars = int(width_pt / n / (0.62 * size * scale))
        if chars >= max(longest, 7):
            text = [textwrap.fill(x, chars, break_long_words=False) for x in labels]
            ax.set_xticks(range(len(labels)), text, fontsize=size * scale)
            return
    ax.set_xticks(range(len(labels)), [textwrap.shorten(x, 32) for x in labels], rotation=90)


#: Most vendors (rows) and series (criteria, ranks) a figure draws; a larger tender shows the
#: best ones and aggregates the rest, and the workbook keeps the full table.
MAX_ROWS = 15
MAX_SERIES = 12


def shown_rows(order: list, n: int = MAX_ROWS) -> tuple[list, str]:
    """The first *n* of *order* (best first) and a note for the title when some are left out."""
    if len(order) <= n:
        return list(order), ""
    return list(order[:n]), f"best {n} of {len(order):,} shown; all in the results workbook"


def shown_columns(frame, n: int = MAX_SERIES, *, other: str = "other criteria"):
    """*frame* with its *n* - 1 largest columns (by total absolute value) and the others summed
    into one column named *other* (with their count), when it has more than *n* columns."""
    if frame.shape[1] <= n:
        return frame
    size = frame.abs().sum(axis=0).sort_values(ascending=False, kind="stable")
    keep = list(size.index[: n - 1])
    rest = [c for c in frame.columns if c not in keep]
    out = frame[keep].copy()
    out[f"{len(rest)} {other}"] = frame[rest].sum(axis=1)
    return out

