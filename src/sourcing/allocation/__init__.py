"""Multi-vendor award allocation: a MILP with sourcing policies.

``allocate`` splits each lot's demand between vendors at least annual cost (or best quality)
under a :class:`Policy`; ``frontier`` traces cost against quality; ``constraint_costs`` prices each
rule; infeasible policies are explained in words (``Award.diagnosis``).
"""

from .diagnose import diagnose_policy
from .frontier import Frontier, constraint_costs, frontier
from .model import Award, allocate
from .policy import Policy

__all__ = ["Award", "Frontier", "Policy", "allocate", "constraint_costs", "diagnose_policy", "frontier"]
