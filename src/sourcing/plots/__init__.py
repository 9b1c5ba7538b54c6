"""Board-quality matplotlib figures.

Every function takes the result object (or DataFrame) of a stage and an optional ``ax``, draws
with a title, axis labels, units and currency, and returns the Axes; none calls ``plt.show()``.
One module per stage; the names below are the public ones.
"""

from ._style import money_axis, money_formatter
from .allocation import plot_award, plot_frontier, plot_rule_costs, plot_spend_concentration
from .performance import (
    plot_availability,
    plot_compliance,
    plot_control_chart,
    plot_credits,
    plot_invoice_audit,
    plot_scorecard,
)
from .scoring import (
    plot_acceptability,
    plot_agreement,
    plot_ahp,
    plot_contributions,
    plot_gaia,
    plot_scores,
    plot_weight_stability,
)
from .simulation import (
    plot_cost_cdf,
    plot_cost_distribution,
    plot_fan_chart,
    plot_loss_exceedance,
    plot_scenario_comparison,
    plot_sobol,
    plot_tornado,
)

__all__ = [
    "money_axis",
    "money_formatter",
    # allocation
    "plot_award",
    "plot_frontier",
    "plot_rule_costs",
    "plot_spend_concentration",
    # scoring
    "plot_acceptability",
    "plot_agreement",
    "plot_ahp",
    "plot_contributions",
    "plot_gaia",
    "plot_scores",
    "plot_weight_stability",
    # performance
    "plot_availability",
    "plot_compliance",
    "plot_control_chart",
    "plot_credits",
    "plot_invoice_audit",
    "plot_scorecard",
    # simulation
    "plot_cost_cdf",
    "plot_cost_distribution",
    "plot_fan_chart",
    "plot_loss_exceedance",
    "plot_scenario_comparison",
    "plot_sobol",
    "plot_tornado",
]
