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
    name = names or fmt.Names({})
    lines = option.lines
    out = lines[lines["provider"] != "inhouse"]
    if out.empty:
        return []
    found: list[str] = []
    n_out = out["lot_id"].nunique()

    def lots_words(ids) -> str:  # "all five lots" rather than the five names
        ids = list(ids)
        if len(ids) == n_out > 2:
            return f"all {fmt.count(n_out, 'lot')}"
        return fmt.listing(name(x) for x in ids)

    per_lot = out.groupby("lot_id")["provider"].nunique()
    lo, hi = policy.min_vendors_per_lot, policy.max_vendors_per_lot
    if lo and (per_lot < lo).any():
        found.append(f"fewer than {fmt.count(lo, 'vendor')} on {lots_words(per_lot.index[per_lot < lo])}")
    if hi and (per_lot > hi).any():
        found.append(f"more than {fmt.count(hi, 'vendor')} on {lots_words(per_lot.index[per_lot > hi])}")
    share = out.groupby(["lot_id", "provider"])["lot_share"].sum()
    tol = 1e-6
    caps = dict(policy.max_share_pct_by_lot or {})
    held: dict[tuple[str, str, str], list] = {}   # (vendor, share, rule) -> lots, in lot order
    for (lot, vendor), sh in share.items():
        cap = caps.get(lot, policy.max_share_pct)
        if cap is not None and sh * 100 > cap + tol * 100:
            held.setdefault((vendor, fmt.percent(sh), f"at most {fmt.percent(cap, of=100)}"), []).append(lot)
        if policy.min_share_pct and 0 < sh * 100 < policy.min_share_pct - tol * 100:
            least = f"at least {fmt.percent(policy.min_share_pct, of=100)}"
            held.setdefault((vendor, fmt.percent(sh), least), []).append(lot)
    for (vendor, sh, rule), lots in held.items():
        found.append(f"{name(vendor)} holds {sh} of {lots_words(lots)} ({rule})")
    spend = (out["units"] * out["unit_price"]).groupby(out["provider"]).sum()
    if policy.max_spend_share_pct is not None and spend.sum() > 0:
        top = spend / spend.sum()
        if top.max() * 100 > policy.max_spend_share_pct + tol * 100:
            found.append(f"{name(top.idxmax())} takes {fmt.percent(top.max())} of spend (at most "
                         f"{fmt.percent(policy.max_spend_share_pct, of=100)})")
    if policy.max_vendors_total and out["provider"].nunique() > policy.max_vendors_total:
        found.append(f"{fmt.count(out['provider'].nunique(), 'vendor')} in all (at most "
                     f"{policy.max_vendors_total})")
    if policy.max_lots_per_vendor:
        lots_of = out.groupby("provider")["lot_id"].nunique()
        over = lots_of[lots_of > policy.max_lots_per_vendor]
        if len(over):
            found.append(f"{fmt.listing(name(v) for v in over.index)} on more than "
                         f"{fmt.count(policy.max_lots_per_vendor, 'lot')}")
    banned = sorted(set(out["provider"]) & set(policy.exclude or ()))
    if banned:
        found.append(f"{fmt.listing(name(v) for v in banned)} excluded by the policy")
    return found


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
