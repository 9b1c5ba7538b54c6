"""sourcing: decision analysis for IT-outsourcing sourcing choices.

Score vendors on many criteria, split lots across vendors with linear programming, simulate what
each sourcing choice costs and risks, and check incumbents against their SLA.
"""

from .io import read_tender
from .scenario import Scenario
from .schemas import ValidationError
from .tender import Tender

__version__ = "0.1.0"

__all__ = ["Scenario", "Tender", "ValidationError", "__version__", "explore", "read_tender", "run"]


def __getattr__(name: str):
    # ``run`` pulls in every stage (solvers, MCDA engine), ``explore`` ipywidgets: import them only
    # when asked for.
    if name == "run":
        from .pipeline import run

        return run
    if name == "explore":  # ipywidgets: the notebooks extra
        from .explorer import explore

        return explore
    raise AttributeError(f"module 'sourcing' has no attribute {name!r}")
