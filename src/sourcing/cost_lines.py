"""The contract's cost lines: what each one charges, when it applies, and which model counts it.

One definition for the three models that price a contract: the deterministic award
(:mod:`sourcing.allocation.model`), the risk-aware award (:mod:`sourcing.allocation.risk`) and the
simulation's contract model (:mod:`sourcing.simulation.contract`).  The rules of when a one-off
cost applies are the functions below, called by all three (the award vectorised over its bids
and lots, the simulation per line of an option); the data dictionary (``data/README.md``, *Cost
lines*) gives one example of each.

The *current provider* of a lot is its ``lots.incumbent_vendor_id``, or in-house when blank.

=====================  ================================================  =====  =====  ==========
line                   applies                                           award  risk   simulation
=====================  ================================================  =====  =====  ==========
fees                   units x unit price after volume tiers, a year     yes    yes    yes
setup                  a bid's setup cost, unless its vendor is the      yes    yes    yes
                       lot's current provider (an incumbent keeping its
                       own lot pays none)
onboarding             once per engaged vendor that is not an incumbent  yes    yes    yes
switching              ``switching_cost_per_unit`` x units served by a    yes    yes    yes
                       provider other than the lot's current one
                       (in-house to a vendor, an incumbent to another)
growth and indexation  fees grown by demand and indexed by price          no     yes    yes
failure recourse       a failed vendor's exit and replacement, its units  no     yes    yes
                       moved warm or cold (``allocation.risk.recourse_fill``)
exit                   the incumbent's exit cost, pro rata to the        no     no     yes
                       business it loses
governance, FX, SLA credits, business impact, security, attrition, other  no     no     yes
=====================  ================================================  =====  =====  ==========

Each model names what its total counts with :func:`counted` (``"fees and one-off costs"`` for the
award, ``"fees, one-off costs and failure recourse"`` for the risk-aware award) and what it
leaves out with :func:`left_out`, wherever the total is shown.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LINES", "MODELS", "counted", "left_out", "onboarding_applies", "setup_applies",
           "switched_units"]

#: The models that price a contract.
MODELS = ("award", "risk_award", "simulation")

#: Cost line -> (reader's words, the models that count it), in the order they are named.
LINES: dict[str, tuple[str, tuple[str, ...]]] = {
    "fees": ("fees", MODELS),
    "one_off": ("one-off costs", MODELS),               # setup, onboarding and switching
    "growth": ("demand growth and indexation", ("risk_award", "simulation")),
    "failure": ("failure recourse", ("risk_award", "simulation")),
    "exit": ("the incumbent's exit", ("simulation",)),
    "governance": ("governance", ("simulation",)),
    "fx": ("FX", ("simulation",)),
    "sla_credits": ("service credits", ("simulation",)),
    "business_impact": ("business impact", ("simulation",)),
    "security": ("security", ("simulation",)),
    "attrition": ("in-house attrition", ("simulation",)),
    "other": ("other costs", ("simulation",)),
}


def _words(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def counted(model: str, *, brief: bool = True) -> str:
    """What *model*'s total counts, in words (``"fees, one-off costs and failure recourse"``).

    *brief*: without growth and indexation (they scale the fees, and the reader does not need
    them named); else every line.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
    names = [w for key, (w, models) in LINES.items() if model in models and not (brief and key == "growth")]
    return _words(names)


def left_out(model: str) -> str:
    """The lines *model*'s total leaves out that the simulation counts, in words ("" for none)."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
    return _words([w for w, models in LINES.values() if model not in models])


def setup_applies(vendor, current) -> np.ndarray:
    """Whether a bid's setup cost is charged: its vendor is not the lot's current provider.

    *vendor* and *current* are vendor ids or indices (the current provider: the lot's incumbent;
    in-house is any value no vendor has, e.g. ``"inhouse"`` or -1), element-wise.
    """
    return np.asarray(vendor) != np.asarray(current)


def switched_units(units, provider, current) -> np.ndarray:
    """Units on which ``switching_cost_per_unit`` is charged: those served by a provider other
    than the lot's current one (element-wise; in-house to a vendor and an incumbent to another
    provider both switch)."""
    return np.where(np.asarray(provider) != np.asarray(current), np.asarray(units, float), 0.0)


def onboarding_applies(incumbent) -> np.ndarray:
    """Whether an engaged vendor's onboarding cost is charged: it is not an incumbent."""
    return ~np.asarray(incumbent, bool)
