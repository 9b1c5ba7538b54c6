"""Multi-criteria vendor scoring on top of scikit-criteria.

Weights (AHP with consistency, group AIJ/AIP, hierarchy, direct, swing, rank-based, entropy,
CRITIC), hard gates, the GAIA plane, ranking methods (WSM, WPM, TOPSIS, VIKOR, PROMETHEE II, ELECTRE and every
other scikit-criteria method), procurement price scoring, sensitivity (weight stability, SMAA-2,
agreement between methods, rank reversal) and :func:`evaluate` for a whole :class:`~sourcing.Tender`.
"""

from .evaluation import Evaluation, evaluate, tender_weights
from .gaia import GaiaPlane, gaia, net_flows
from .gates import GateResult, apply_gates
from .methods import METHODS, PREFERENCE_TYPES, PROMETHEE2, Ranking, rank
from .price import PRICE_FORMULAS, price_points
from .sensitivity import (
    Agreement,
    RankReversalResult,
    SMAAResult,
    StabilityResult,
    compare_methods,
    rank_agreement,
    rank_reversal,
    smaa,
    weight_stability,
)
from .weights import (
    RI_TABLES,
    AHPResult,
    aggregate_judgments,
    aggregate_priorities,
    ahp,
    critic_weights,
    direct_weights,
    entropy_weights,
    hierarchy_weights,
    pairwise_matrix,
    rank_weights,
    swing_weights,
)

__all__ = [
    "METHODS",
    "PREFERENCE_TYPES",
    "PRICE_FORMULAS",
    "PROMETHEE2",
    "RI_TABLES",
    "AHPResult",
    "Agreement",
    "Evaluation",
    "GaiaPlane",
    "GateResult",
    "RankReversalResult",
    "Ranking",
    "SMAAResult",
    "StabilityResult",
    "aggregate_judgments",
    "aggregate_priorities",
    "ahp",
    "apply_gates",
    "compare_methods",
    "critic_weights",
    "direct_weights",
    "entropy_weights",
    "evaluate",
    "gaia",
    "hierarchy_weights",
    "net_flows",
    "pairwise_matrix",
    "price_points",
    "rank",
    "rank_agreement",
    "rank_reversal",
    "rank_weights",
    "smaa",
    "swing_weights",
    "tender_weights",
    "weight_stability",
]
