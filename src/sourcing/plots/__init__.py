"""Board-quality matplotlib figures.

Every function takes the result object (or DataFrame) of a stage and an optional ``ax``, draws
with a title, axis labels, units and currency, and returns the Axes; none calls ``plt.show()``.
One module per stage; the names below are the public ones.
"""

from ._style import money_axis, money_formatter
from .allocation import plot_award, plot_frontier, plot_rule_costs, plot_spend_concentration

__all__ = [
    "money_axis", "money_formatter",
    "plot_award", "plot_frontier", "plot_rule_costs", "plot_spend_concentration",
]
