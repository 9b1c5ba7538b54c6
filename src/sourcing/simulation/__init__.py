"""Risk/cost Monte Carlo of sourcing options (in-house, single vendor, multi-vendor, hybrid).

Distributions (:mod:`.distributions`), rank correlation (:mod:`.correlation`), sampling
(:mod:`.sampling`), the assumptions (:mod:`.assumptions`), the outsourcing contract model
(:mod:`.contract`) and the options built from a tender (:mod:`.options`), the engine
(:func:`simulate`) and its :class:`SimulationResult`; variance-based sensitivity (Sobol indices
by SALib) and stress analysis (:mod:`.sensitivity`).

Example
-------
>>> from sourcing import read_tender
>>> from sourcing.simulation import standard_scenarios, simulate
>>> t = read_tender("data/sample-tender")                      # doctest: +SKIP
>>> res = simulate(standard_scenarios(t), n=100_000, seed=1)   # doctest: +SKIP
>>> res.summary()                                              # doctest: +SKIP
"""

from .assumptions import Assumptions
from .contract import DRIVERS, INHOUSE, SourcingScenario
from .correlation import gaussian_copula, iman_conover, nearest_correlation, spearman_to_pearson
from .distributions import (
    Distribution,
    bernoulli,
    compound,
    constant,
    empirical,
    lognormal_ci,
    normal,
    pert,
    triangular,
    uniform,
)
from .engine import DEFAULT_CORRELATION, simulate, swing_table
from .options import hybrid, inhouse, multi_vendor, single_vendor, standard_scenarios
from .results import SimulationResult
from .scenarios import contract_cost, risk_scenarios
from .sensitivity import SobolResult, contract_sobol, sobol_indices, stress

__all__ = [
    "DEFAULT_CORRELATION", "DRIVERS", "INHOUSE", "Assumptions", "Distribution", "SimulationResult",
    "SobolResult", "SourcingScenario", "bernoulli", "compound", "constant", "contract_cost",
    "contract_sobol", "empirical",
    "gaussian_copula", "risk_scenarios",
    "hybrid", "iman_conover", "inhouse", "lognormal_ci", "multi_vendor", "nearest_correlation",
    "normal", "pert", "simulate", "single_vendor", "sobol_indices", "spearman_to_pearson",
    "standard_scenarios", "stress", "swing_table", "triangular", "uniform",
]
