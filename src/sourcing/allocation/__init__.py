"""Multi-vendor award allocation: a MILP with sourcing policies.

``allocate`` splits each lot's demand between vendors at least annual cost (or best quality)
under a :class:`Policy`; ``frontier`` traces cost against quality; ``constraint_costs`` prices each
rule; infeasible policies are explained in words (``Award.diagnosis``).  ``allocate_risk``
minimises expected contract cost + lambda x CVaR over risk scenarios, ``risk_frontier`` and
``backup_value`` trace what the tail costs and what a backup vendor buys.  A :class:`ScopedRule`
(``Policy.rules``) bounds a measure of part of the award: some lots, some vendors.
"""

from .award import Award
from .diagnose import diagnose_policy
from .frontier import Frontier, constraint_costs, frontier
from .policy import Policy
from .price_to_win import price_to_win
from .risk import RiskAward, RiskFrontier, RiskScenarios, allocate_risk, backup_value, risk_frontier
from .scoped import ScopedRule
from .solve import allocate

__all__ = ["Award", "Frontier", "Policy", "RiskAward", "RiskFrontier", "RiskScenarios", "ScopedRule",
           "allocate",
           "price_to_win",
           "allocate_risk", "backup_value", "constraint_costs", "diagnose_policy", "frontier",
           "risk_frontier"]
