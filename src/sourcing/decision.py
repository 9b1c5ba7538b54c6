"""The recommendation rule: which sourcing option to recommend, and why not the others.

One documented rule, applied once per run and shown everywhere (board page, index, workbook,
``sourcing run``):

1. An option that **breaks the board's policy** on the lots it outsources is not eligible
   (for example a single vendor where the policy asks for at least two vendors per lot, or for
   at most 60 % of spend with one vendor).  Policy rules apply to outsourced lots; a lot kept
   in-house is not subject to vendor rules.
2. An option whose **risk of exceeding the budget** is above the scenario's risk appetite
   (``decision.max_p_over_budget``, a probability) is not eligible.
3. Among the eligible options, the one with the **lowest cost at the chosen measure**
   (``decision.measure``: the median P50 by default, or the mean or P90) is recommended.
4. When no option is eligible for risk, the least risky option that keeps the policy is
   recommended, and the decision says that no option meets the appetite.

Every other option gets one line saying why it was not chosen (breaks a rule, costlier,
riskier).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import present as fmt

__all__ = ["MEASURES", "Decision", "decide", "policy_breaches"]

#: Cost measures the rule can rank by (columns of ``SimulationResult.summary()``).
MEASURES = {"p50": "P50", "mean": "mean", "p90": "P90"}
#: relative cost difference below which two options cost the same (simulation noise)
_SAME = 5e-4
_MEASURE_WORDS = {"p50": "median cost (P50)", "mean": "mean cost", "p90": "prudent cost (P90)"}


@dataclass(frozen=True)
class Decision:
    """The recommended option and the reason for every other one.

    Attributes
    ----------
    recommended : str or None
        Name of the recommended option (None when nothing was simulated).
    table : DataFrame
        Indexed by option: ``status`` (``recommended``, ``breaks the policy``, ``too risky``,
        ``costlier``), ``reason`` (one sentence), ``cost`` (at the measure, tender currency over
        the contract), ``p_over_budget`` (probability, when a budget is set).
    measure : str
        ``p50``, ``mean`` or ``p90``.
    appetite : float or None
        Maximum accepted probability of exceeding the budget.
    meets_appetite : bool
        False when no policy-compliant option is within the risk appetite.
    currency : str
    """

    recommended: str | None
    table: pd.DataFrame
    measure: str
    appetite: float | None
    meets_appetite: bool
    currency: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def runner_up(self) -> str | None:
        """The option the recommended one was chosen over: the cheapest other option at the
        measure that keeps the policy (status ``costlier``), else the cheapest other one; None
        with fewer than two options or no recommendation."""
        if self.recommended is None:
            return None
        others = self.table.drop(index=self.recommended)
        if others.empty:
            return None
        eligible = others[others["status"] == "costlier"]
        pool = eligible if len(eligible) else others
        return str(pool["cost"].astype(float).idxmin())

    def reason(self, option: str) -> str:
        """The one-line reason of *option*."""
        return str(self.table.at[option, "reason"])


def policy_breaches(option: Any, policy: Any, *, names: fmt.Names | None = None) -> list[str]:
    """The board-policy rules an option's split breaks, in words (empty: none).

    Parameters
    ----------
    option : SourcingScenario
        Its ``lines`` (lot_id, provider, lot_share, units, unit_price) are checked.
    policy : sourcing.allocation.Policy or None
    names : Names, optional
        Vendor and lot names for the sentences.
    """
    if policy is None:
        return []
    from .allocation.rules import Check, breaches
    from .narrative import breach_sentences

    lines = option.lines
    out = lines[lines["provider"] != "inhouse"]
    if out.empty:
        return []
    # the outsourced part as vendor x lot arrays: volume = share of the lot, spend at unit prices
    vendors = list(dict.fromkeys(out["provider"]))
    lots = list(dict.fromkeys(out["lot_id"]))
    share = out.pivot_table(index="provider", columns="lot_id", values="lot_share", aggfunc="sum")
    spend = (out.assign(spend=out["units"] * out["unit_price"])
             .pivot_table(index="provider", columns="lot_id", values="spend", aggfunc="sum"))
    grid = {"index": vendors, "columns": lots, "fill_value": 0.0}
    chk = Check(vendors, lots, share.reindex(**grid).to_numpy(float), spend.reindex(**grid).to_numpy(float),
                demand=np.ones(len(lots)))
    return breach_sentences(breaches(chk, policy, options_only=True), names=names, n_lots=len(lots))


def decide(summary: pd.DataFrame, options: list[Any], policy: Any = None, *,
           max_p_over_budget: float | None = None, measure: str = "p50", currency: str,
           names: fmt.Names | None = None) -> Decision:
    """Apply the recommendation rule (module notes) to simulated options.

    Parameters
    ----------
    summary : DataFrame
        ``SimulationResult.summary()``: indexed by option name, with ``p50``, ``mean``, ``p90``
        [tender currency over the contract] and ``p_over_budget`` when a budget is set.
    options : list of SourcingScenario
        The simulated options (their splits are checked against *policy*).
    policy : sourcing.allocation.Policy, optional
        The board's sourcing rules.
    max_p_over_budget : float, optional
        Risk appetite: the highest acceptable probability of exceeding the budget, in [0, 1].
    measure : {"p50", "mean", "p90"}
        Cost measure ranked.
    currency : str
        Tender currency, for the sentences.
    names : Names, optional
        Vendor and lot names for the sentences.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if max_p_over_budget is not None and not 0 <= max_p_over_budget <= 1:
        raise ValueError(f"max_p_over_budget is a probability in [0, 1], got {max_p_over_budget}")
    by_name = {o.name: o for o in options}
    rows = {}
    risky = "p_over_budget" in summary.columns and max_p_over_budget is not None
    for opt in summary.index:
        breaks = policy_breaches(by_name[opt], policy, names=names) if opt in by_name else []
        p = float(summary.at[opt, "p_over_budget"]) if "p_over_budget" in summary.columns else None
        rows[opt] = {"breaks": breaks, "cost": float(summary.at[opt, measure]), "p_over_budget": p,
                     "too_risky": bool(risky and p is not None and p > max_p_over_budget)}
    compliant = [o for o, r in rows.items() if not r["breaks"]]
    eligible = [o for o in compliant if not rows[o]["too_risky"]]
    meets = bool(eligible)
    order = {o: i for i, o in enumerate(summary.index)}
    if eligible:
        # costs equal within noise (_SAME) count as a tie: the earlier option in the list wins
        low = min(rows[o]["cost"] for o in eligible)
        best = min((o for o in eligible if rows[o]["cost"] - low <= _SAME * abs(low)), key=order.get)
    elif compliant:
        best = min(compliant, key=lambda o: (rows[o]["p_over_budget"], rows[o]["cost"], order[o]))
    else:
        best = None
    label = MEASURES[measure]
    out = {}
    for opt, r in rows.items():
        if opt == best:
            status = "recommended"
            why = (f"the lowest {_MEASURE_WORDS[measure]} among the options that keep the policy"
                   + (" and the risk appetite" if risky else "") if meets else
                   "no option keeps the risk appetite; this is the least risky option that keeps "
                   "the policy")
        elif r["breaks"]:
            status, why = "breaks the policy", "breaks the policy: " + "; ".join(r["breaks"])
        elif r["too_risky"]:
            status = "too risky"
            why = (f"risk of exceeding the budget {fmt.percent(r['p_over_budget'])} is above the "
                   f"appetite of {fmt.percent(max_p_over_budget)}")
        else:
            status = "costlier"
            ref = rows[best]["cost"] if best is not None else r["cost"]
            diff = r["cost"] - ref
            if diff <= _SAME * abs(ref):
                why = (f"costs the same as the recommended option ({label} "
                       f"{fmt.money(r['cost'], currency)}) within simulation noise; the earlier option "
                       "in the list is recommended")
            else:
                mine, theirs = fmt.money_apart([r["cost"], ref], currency)
                why = f"costs {fmt.money(diff, currency)} more ({label} {mine} against {theirs})"
        out[opt] = {"status": status, "reason": why, "cost": r["cost"],
                    "p_over_budget": r["p_over_budget"]}
    table = pd.DataFrame.from_dict(out, orient="index")
    table.index.name = "option"
    if "p_over_budget" not in summary.columns:
        table = table.drop(columns="p_over_budget")
    return Decision(best, table, measure, max_p_over_budget, meets, currency)
