"""Sentences generated from the results: every count, name, comparison and conclusion a reader
sees on a page comes from here, never typed for one tender.

Each function takes result objects (or plain tables) and returns plain text (``str``) or a list
of sentences; formatting goes through :mod:`sourcing.present`, and markup is made by the caller
with :func:`sourcing.present.paragraph` / :func:`~sourcing.present.bullets`, which escape the
text.  Conclusions follow the numbers: "the methods agree" only when they do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import present as fmt
from .allocation.risk import COST_LINES as RISK_AWARD_COST_LINES
from .cost_lines import left_out

__all__ = [
    "assumptions_table", "award_section", "award_story", "backup_table", "binding_story", "board_story",
    "budget_story", "drivers_story", "expressive_story", "precision_story", "price_to_win_lines",
    "gate_words",
    "method_name", "methods_story", "options_story", "performance_story", "policy_story",
    "ranking_story", "risk_story", "rule_cost_lines", "tender_story",
]

_METHOD_NAMES = {"wsm": "the weighted sum", "wpm": "the weighted product", "topsis": "TOPSIS",
                 "vikor": "VIKOR", "promethee": "PROMETHEE II", "electre": "ELECTRE"}


def method_name(method: str, *, title: bool = False) -> str:
    """Reader's name of an MCDA method (``"topsis"`` -> ``"TOPSIS"``; ``"wsm"`` -> ``"the
    weighted sum"``, or ``"Weighted sum"`` as a *title*)."""
    name = _METHOD_NAMES.get(str(method).lower(), str(method).upper())
    if title and name.startswith("the "):
        return name[4:].capitalize()
    return name


def gate_words(text: object) -> str:
    """A knock-out gate as words: ``">= 40"`` -> ``"at least 40"``, ``"== yes"`` -> ``"yes"``;
    no gate -> ``""``."""
    from .tender import parse_gate

    if not isinstance(text, str) or not text.strip():
        return ""
    gate = parse_gate("", text)
    if gate is None:
        return text
    words = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than", "==": "",
             "!=": "anything but"}[gate.op]
    value = text.split(gate.op, 1)[-1].strip()
    return f"must be {words} {value}".replace("  ", " ")


def tender_story(tender: Any) -> str:
    """What was tendered: who bid for what, scored by whom on what, in which currency.

    >>> tender_story(tender)   # doctest: +SKIP
    'Four vendors bid for three lots (Help desk, Hosting and Security operations) ...'
    """
    n_eval = int(tender.scores["evaluator"].dropna().nunique())
    lots = fmt.listing(tender.lots["name"]) if "name" in tender.lots else fmt.listing(tender.lot_ids)
    weighting = {"ahp": "weights from pairwise (AHP) judgments",
                 "direct": "weights in points"}.get(str(tender.settings.get("weighting")),
                                                     "the tender's weights")
    scored = (f"{fmt.count(n_eval, 'evaluator')} scored them" if n_eval else "they were scored")
    return (f"{fmt.count(len(tender.vendors), 'vendor').capitalize()} bid for "
            f"{fmt.count(len(tender.lots), 'lot')} ({lots}); {scored} on "
            f"{fmt.count(len(tender.criteria), 'criterion', 'criteria')} with {weighting}. "
            f"Money is in {tender.currency} over a {fmt.number(tender.contract_years)}-year contract.")


def ranking_story(evaluation: Any, acceptability: Any = None, *, method: str) -> list[str]:
    """Who ranks first and how robust that is; who was excluded and why."""
    names = evaluation.names
    ranks = evaluation.ranks.sort_values(kind="stable")
    out = []
    first = ranks.index[0]
    n = len(ranks)
    out.append(f"{names.get(first, first)} ranks first of {fmt.count(n, 'admitted vendor')} by "
               f"{method_name(method)}"
               + (f", ahead of {names.get(ranks.index[1], ranks.index[1])}." if n > 1 else "."))
    if acceptability is not None:
        share = float(acceptability.acceptability.loc[first].iloc[0])
        strength = ("a robust lead" if share >= 0.75 else "a lead that depends on the weights"
                    if share >= 0.4 else "a weak lead: other weightings favour other vendors")
        out.append(f"It ranks first in {fmt.percent(share)} of the plausible weightings tested "
                   f"(SMAA-2): {strength}.")
    if len(evaluation.excluded):
        parts = [f"{names.get(v, v)} ({r})" for v, r in evaluation.excluded["reason"].items()]
        out.append(f"{fmt.count(len(parts), 'vendor').capitalize()} failed a knock-out gate and "
                   f"{'was' if len(parts) == 1 else 'were'} excluded: {'; '.join(parts)}.")
    return out


def methods_story(agreement: Any, *, names: Any = None) -> str:
    """Whether the MCDA methods agree on the winner; if not, who wins by which method."""
    ranks = agreement.ranks
    label = (lambda v: str(names.get(v, v))) if names is not None else str
    winners = {m: ranks[m].idxmin() for m in ranks.columns}
    methods = [method_name(m) for m in ranks.columns]
    distinct = list(dict.fromkeys(winners.values()))
    if len(distinct) == 1:
        same_order = all(ranks[c].equals(ranks.iloc[:, 0]) for c in ranks.columns)
        return (f"The {fmt.count(len(methods), 'method')} ({fmt.listing(methods)}) agree on the "
                f"winner, {label(distinct[0])}"
                + (", and on the whole order." if same_order else
                   "; they order the other vendors differently."))
    groups = []
    for v in distinct:
        by = [method_name(m) for m, w in winners.items() if w == v]
        verb = "ranks" if len(by) == 1 else "rank"
        groups.append(f"{fmt.listing(by)} {verb} {label(v)} first")
    return ("The methods disagree on the winner: " + "; ".join(groups) + ". The choice hinges on "
            "how each method trades price against quality, so the weights deserve the board's "
            "confirmation.")


def _who_runs(award: Any, names: fmt.Names) -> str:
    """"Award to N vendors: A runs X (60%) and Y; B runs ..." for a feasible award."""
    vol = award.shares
    parts = []
    for vendor in award.vendors:
        lots = [f"{names(lot)} ({fmt.percent(vol.at[vendor, lot])})" if vol.at[vendor, lot] < 0.999
                else names(lot) for lot in vol.columns if vol.at[vendor, lot] > 1e-9]
        parts.append(f"{names(vendor)} runs {fmt.listing(lots)}")
    return f"Award to {fmt.count(len(award.vendors), 'vendor')}: " + "; ".join(parts) + "."


def award_story(award: Any, *, names: fmt.Names) -> list[str]:
    """Who runs which lot and at what annual cost; or why no award is feasible."""
    cur = award.currency
    if not award.feasible:
        return [f"No award satisfies the policy: {award.diagnosis}"]
    status = {"optimal": "the cheapest split under the policy",
              "feasible": f"a split within {fmt.percent(award.gap)} of the cheapest (the solver's "
                          "time limit was reached)"}.get(award.status, award.status)
    return [_who_runs(award, names),
            f"It costs {fmt.money(award.cost['total'], cur)} a year including one-off costs spread "
            f"over the contract: {status}.", *expressive_story(award, names=names)]


def expressive_story(award: Any, *, names: fmt.Names) -> list[str]:
    """The package bids taken, the conditional discounts given and what the bidders' synergies
    saved against the best award from the lot bids alone (nothing when the tender has neither)."""
    inst = award.arrays.inst if award.arrays is not None else None
    offered = (len(inst.bundle_ids), len(inst.discounts)) if inst is not None else (0, 0)
    if not award.feasible or not (sum(offered) or len(award.bundles) or len(award.discounts)):
        return []
    cur = award.currency
    lines = []
    for b in award.bundles.itertuples():
        lots = fmt.listing([names(x) for x in str(b.lots).split(";")])
        part = "" if b.fraction >= 1 - 1e-9 else f"{fmt.percent(b.fraction)} of "
        lines.append(f"{part}{_owner(names(b.vendor_id))} package bid for {lots} is taken at "
                     f"{fmt.money(b.price, cur)} a year.")
    left = offered[0] - len(award.bundles)
    if offered[0] and not len(award.bundles):
        lines.append(("The package bid offered is not taken" if offered[0] == 1 else
                      f"No package bid of the {fmt.number(offered[0])} offered is taken")
                     + ".")
    elif left > 0:
        lines.append(f"{fmt.count(left, 'other package bid').capitalize()} {'is' if left == 1 else 'are'} "
                     "not taken.")
    for d in award.discounts.itertuples():
        cond = (f"winning at least {fmt.count(int(d.threshold), 'lot')}" if d.condition == "lots_at_least"
                else f"spend of at least {fmt.money(d.threshold, cur)} a year")
        lines.append(f"{_owner(names(d.vendor_id))} {fmt.percent(d.discount_pct / 100)} discount for {cond} "
                     f"applies: {fmt.money(d.amount, cur)} a year off its fees.")
    if offered[1] and not len(award.discounts):
        lines.append("The conditional discount offered does not apply to this award." if offered[1] == 1 else
                     f"No conditional discount of the {fmt.number(offered[1])} offered applies to this "
                     "award.")
    alone = award.lot_by_lot_cost
    if np.isfinite(alone):
        saved = alone - float(award.cost["total"])
        if saved > 1e-6 * abs(alone):
            lines.append(f"The packages and discounts save {fmt.money(saved, cur)} a year "
                         f"({fmt.percent(saved / alone)}) against the best award from the lot bids "
                         f"alone, which would cost {fmt.money(alone, cur)} a year.")
        elif saved >= -1e-6 * abs(alone):
            lines.append("The packages and discounts save nothing against the best award from the "
                         "lot bids alone.")
    return lines


def _owner(name: str) -> str:
    """The possessive of a name: "Bayview Managed Services'", "Quayside Ltd's"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def binding_story(award: Any, *, names: fmt.Names) -> list[str]:
    """The policy rules that bind the award, one sentence (rule names and the lots they bind)."""
    if not award.feasible or award.binding is None or award.binding.empty:
        return []
    parts = []
    for rule, rows in award.binding.groupby("rule", sort=False):
        if rule == "rules":  # scoped rules: each by its words
            parts += [f"the rule \u201c{s}\u201d" for s in dict.fromkeys(rows["scope"])]
            continue
        scopes = [names(s) for s in rows["scope"] if s and s != "all"]
        parts.append(fmt.label(str(rule)).lower()
                     + (f" ({fmt.listing(scopes)})" if scopes else ""))
    return [f"The rules that bind: {fmt.listing(parts)}."]


def rule_cost_lines(costs: pd.DataFrame, *, currency: str) -> list[str]:
    """What each policy rule costs, in sentences: one per rule that costs money a year (dearest
    first), then one for the rules that cost nothing (the least-cost award keeps them anyway)
    and one for those without which no award is found.

    *costs* is :func:`sourcing.allocation.constraint_costs` output (tender currency per year);
    a cost within the solver's precision (a millionth of the award's cost) counts as nothing.
    """
    if costs is None or costs.empty:
        return []
    priced, free, unpriced = [], [], []
    for _, r in costs.iterrows():
        name, c = str(r["description"]), r["cost_of_rule"]
        if c is None or not np.isfinite(float(c)):
            unpriced.append(name)
        elif float(c) > max(0.5, 1e-6 * abs(float(r["cost_with"]))):
            with_, without = fmt.money_apart([r["cost_with"], r["cost_without"]], currency)
            priced.append((-float(c), f"{name[:1].upper()}{name[1:]} costs {fmt.money(c, currency)} "
                           f"a year: without it the award would cost {without} instead of {with_}."))
        else:
            free.append(name)
    lines = [line for _, line in sorted(priced, key=lambda x: x[0])]
    if free:
        one = len(free) == 1
        names = fmt.listing(free)
        lines.append(f"{names[:1].upper()}{names[1:]} cost{'s' if one else ''} nothing: the "
                     f"least-cost award keeps {'it' if one else 'them'} anyway.")
    if unpriced:
        one = len(unpriced) == 1
        lines.append(f"Without {fmt.listing(unpriced, conjunction='or')} no award is found, so "
                     f"{'its' if one else 'their'} cost cannot be stated.")
    return lines


def award_section(result: Any) -> tuple[str, list[str], Any]:
    """The board page's award section of a :class:`~sourcing.pipeline.RunResult`: its heading,
    its sentences and the award to draw.

    The award shown is the one the recommended option signs (the least-cost award, or the
    risk-aware award with what it costs at bid prices and what it saves over the contract
    against the least-cost one), headed "The recommended award".  When the recommended option
    signs no award (in-house, one vendor for everything, hybrid) or nothing is recommended, the
    least-cost award is shown under its own name, saying which option is recommended instead.
    """
    names = fmt.Names.of(result.tender)
    cheapest = result.award
    shown = result.recommended_award
    rec = result.decision.recommended if result.decision is not None else None
    if shown is None:
        lines = award_story(cheapest, names=names)
        if rec is not None and cheapest.feasible:
            lines = [f"{rec} is recommended (above); this is the award a contract split between "
                     "vendors would sign.", *lines]
        return "The least-cost award under the policy", lines, cheapest
    if shown is cheapest:
        return "The recommended award", award_story(cheapest, names=names), cheapest
    cur = shown.currency
    extra = float(shown.cost["total"] - cheapest.cost["total"])
    tol = 1e-9 * abs(float(cheapest.cost["total"]))
    than = (f"{fmt.money(abs(extra), cur)} ({fmt.percent(abs(extra) / cheapest.cost['total'])}) "
            + ("more" if extra > 0 else "less") + " than the least-cost award"
            + ("" if extra > 0 else " the solver found in its time limit"))
    price = (f"At bid prices it costs {fmt.money(shown.cost['total'], cur)} a year including one-off "
             "costs spread over the contract, "
             + (than if abs(extra) > tol else "as much as the least-cost award") + ".")
    lines = [_who_runs(shown, names), price]
    summary = result.summary()
    base = next((k for k, v in result.option_awards.items() if v is cheapest), None)
    if rec in summary.index and base in summary.index:
        r, b = summary.loc[rec], summary.loc[base]
        lines.append(f"Over the contract, with vendor failures, price changes and demand simulated, its "
                     f"mean cost is {fmt.money(r['mean'], cur)} against {fmt.money(b['mean'], cur)} "
                     f"for the least-cost award ({base}), and {fmt.money(r['cvar95'], cur)} against "
                     f"{fmt.money(b['cvar95'], cur)} on average in the worst {fmt.percent(0.05)} of "
                     "outcomes.")
    return "The recommended award", lines, shown


def policy_story(policy: Any, *, currency: str, names: fmt.Names | None = None) -> list[str]:
    """The board's sourcing rules of *policy* in words, one sentence each."""
    name = names or fmt.Names({})
    p = policy

    def pct(v: float) -> str:
        return fmt.percent(v, of=100)

    rules = {
        "min_share_pct": lambda v: f"A vendor awarded a lot gets at least {pct(v)} of it.",
        "max_share_pct": lambda v: f"No vendor gets more than {pct(v)} of a lot.",
        "max_share_pct_by_lot": lambda v: "Lot caps: " + "; ".join(
            f"{name(k)} at most {pct(x)} per vendor" for k, x in v.items()) + ".",
        "min_vendors_per_lot": lambda v: f"Every lot has at least {fmt.count(v, 'vendor')}.",
        "max_vendors_per_lot": lambda v: f"Every lot has at most {fmt.count(v, 'vendor')}.",
        "max_vendors_total": lambda v: f"At most {fmt.count(v, 'vendor')} in all.",
        "max_lots_per_vendor": lambda v: f"No vendor runs more than {fmt.count(v, 'lot')}.",
        "max_spend_share_pct": lambda v: f"No vendor takes more than {pct(v)} of the annual spend.",
        "quality_floor": lambda v: f"Every lot keeps a volume-weighted quality of at least "
                                   f"{fmt.number(v)} out of 100.",
        "risk_cap": lambda v: f"Every lot keeps a volume-weighted risk score of at most "
                              f"{fmt.number(v)} out of 100.",
        "budget": lambda v: f"The award costs at most {fmt.money(v, currency)} a year.",
        "include": lambda v: f"{fmt.listing(name(x) for x in v)} must be awarded volume.",
        "exclude": lambda v: f"{fmt.listing(name(x) for x in v)} may not be awarded.",
    }
    out = [make(getattr(p, key)) for key, make in rules.items()
           if getattr(p, key, None) not in (None, (), {})]
    out += [_sentence(r.words(name)) for r in getattr(p, "rules", ())]
    one_off = {"straight": "spread evenly over the contract years",
               "annuity": "spread as an annuity at the tender's discount rate",
               "ignore": "left out of the comparison"}.get(str(p.one_off), str(p.one_off))
    out.append(f"One-off costs (setup, onboarding, switching) are {one_off}.")
    return out or ["No sourcing rule is set: the cheapest split of each lot wins."]


def _sentence(words: str) -> str:
    """Words as a sentence: capital first letter, full stop."""
    words = words.strip()
    return words[:1].upper() + words[1:] + ("" if words.endswith((".", "!", "?")) else ".")


def _scoped_clause(b: Any, name: fmt.Names) -> str:
    """A broken scoped rule in words: the rule, then what the volumes measure (and where)."""
    r = b.scoped
    where = b.group or (name(b.lots[0]) if b.lots else (name(b.vendors[0]) if b.vendors else ""))
    if r.measure in ("demand_share", "spend_share"):
        what = "demand" if r.measure == "demand_share" else "spend"
        got = f"{fmt.percent(b.value, of=100)} of the {what}"
    elif r.measure == "vendors":
        got = fmt.count(b.value, "vendor")
    elif r.measure == "lots":
        got = fmt.count(b.value, "lot")
    elif r.measure == "same_vendor" and b.limit == 1:
        got = f"{fmt.count(b.value, 'vendor')} hold them"
    else:
        got = f"other vendors hold {fmt.percent(b.value, of=100)} of the demand"
    return f"\u201c{r.words(name)}\u201d is broken: {(where + ' at ') if where else ''}{got}"


def breach_sentences(breaches: list[Any], *, names: fmt.Names | None = None, n_lots: int | None = None,
                     units: dict[str, str] | None = None, currency: str = "") -> list[str]:
    """The rules an award or a sourcing option breaks, in words: one clause per rule and limit.

    Parameters
    ----------
    breaches : list of sourcing.allocation.rules.Breach
        In registry order (:func:`sourcing.allocation.rules.breaches`).
    names : Names, optional
        Vendor and lot names.
    n_lots : int, optional
        Lots the award covers: a clause on every one of more than two says "all N lots".
    units : dict, optional
        Lot id -> demand unit, for the demand clauses.
    currency : str
        The tender's currency, for the budget clause.

    Returns
    -------
    list of str
        Lower-case clauses (``"fewer than two vendors on Service desk and Hosting"``, ``"Acme holds
        100% of all five lots (at most 75%)"``), lots of the same rule, vendor, value and limit
        said once.
    """
    name = names or fmt.Names({})
    held: dict[tuple, list[str]] = {}

    def lots_words(ids: list[str]) -> str:
        if n_lots is not None and len(ids) == n_lots > 2:
            return f"all {fmt.count(n_lots, 'lot')}"
        return fmt.listing(name(x) for x in ids)

    def pct(v: float) -> str:
        return fmt.percent(v, of=100)

    for b in breaches:
        lot = b.lots[0] if b.lots else None
        vendor = b.vendors[0] if b.vendors else None
        if b.rule == "min_vendors_per_lot":
            key = (f"fewer than {fmt.count(b.limit, 'vendor')} on {{lots}}",)
        elif b.rule == "max_vendors_per_lot":
            key = (f"more than {fmt.count(b.limit, 'vendor')} on {{lots}}",)
        elif b.rule in ("min_share_pct", "max_share_pct", "max_share_pct_by_lot"):
            bound = "at least" if b.rule == "min_share_pct" else "at most"
            key = (f"{name(vendor)} holds {pct(b.value)} of {{lots}} ({bound} {pct(b.limit)})",)
        elif b.rule == "demand":
            unit = (units or {}).get(lot, "units")
            if b.value < b.limit:
                key = (f"{name(lot)} gets {fmt.number(b.value)} of its {fmt.number(b.limit)} {unit} a year",
                       lot)
            else:
                key = (f"{name(lot)} gets {fmt.number(b.value)} {unit} a year, more than its demand of "
                       f"{fmt.number(b.limit)}", lot)
        elif b.rule == "quality_floor":
            key = (f"volume-weighted quality {fmt.number(b.value, decimals=1)} on {{lots}} (at least "
                   f"{fmt.number(b.limit)})",)
        elif b.rule == "risk_cap":
            key = (f"volume-weighted risk {fmt.number(b.value, decimals=1)} on {{lots}} (at most "
                   f"{fmt.number(b.limit)})",)
        elif b.rule == "max_vendors_total":
            key = (f"{fmt.count(b.value, 'vendor')} in all (at most {fmt.number(b.limit)})", None)
        elif b.rule == "max_lots_per_vendor":
            key = (f"{{vendors}} on more than {fmt.count(b.limit, 'lot')}",)
        elif b.rule == "max_spend_share_pct":
            key = (f"{name(vendor)} takes {pct(b.value)} of spend (at most {pct(b.limit)})", vendor)
        elif b.rule == "include":
            key = ("no volume for {vendors}, who must be included",)
        elif b.rule == "exclude":
            key = ("{vendors} excluded by the policy",)
        elif b.rule == "rules":
            key = (_scoped_clause(b, name), b.scoped.label, b.group, b.lots, b.vendors)
        elif b.rule == "budget":
            over, budget = fmt.money_apart([b.value - b.limit, b.limit], currency)
            key = (f"the award costs {over} a year more than the budget of {budget}", None)
        else:  # "bid": volume where no usable bid allows it
            key = (f"{name(vendor)} on {name(lot)}: {fmt.number(b.value)} a year outside its bid",
                   lot, vendor)
        held.setdefault(key, []).append(lot if "{lots}" in key[0] else vendor)
    out = []
    for key, who in held.items():
        ids = list(dict.fromkeys(x for x in who if x is not None))
        out.append(key[0].replace("{lots}", lots_words(ids)).replace(
            "{vendors}", fmt.listing(name(v) for v in ids)))
    return out


#: What the risk-aware award's expected cost and CVaR count (``sourcing.allocation.RiskAward``):
#: one name wherever they appear, so they are never read as the simulation's full cost.
RISK_COST_LINES = RISK_AWARD_COST_LINES
_NOT_IN_RISK = f"the simulated costs in the options table add {left_out('risk_award')}"


def risk_story(risk: Any, *, names: fmt.Names, currency: str) -> list[str]:
    """What weighing the tail changes in the award, and what a backup vendor buys per lot."""
    if risk is None:
        return []
    a = risk.award
    level = fmt.percent(a.alpha)
    lam = fmt.number(a.lam, decimals=2 if a.lam < 10 and not float(a.lam).is_integer() else 0)
    out = []
    if not a.feasible:
        return [f"No risk-aware award satisfies the policy: {a.diagnosis}"]
    if risk.same_as_cheapest:
        out.append(f"Weighing the tail (CVaR{level} at weight {lam}) does not change the award: the "
                   f"cheapest award is also the risk-aware one: its {RISK_COST_LINES} come to "
                   f"{fmt.money(a.expected, currency)} over the contract in expectation and "
                   f"{fmt.money(a.cvar, currency)} on average in the worst {fmt.percent(1 - a.alpha)} "
                   f"of {fmt.number(a.n_scenarios)} sampled scenarios ({_NOT_IN_RISK}).")
    else:
        out.append(f"The risk-aware award (CVaR{level} at weight {lam}) goes to "
                   f"{fmt.listing(names(v) for v in a.vendors)}: its {RISK_COST_LINES} come to "
                   f"{fmt.money(a.expected, currency)} over the contract in expectation, "
                   f"{fmt.money(a.cvar, currency)} in the worst {fmt.percent(1 - a.alpha)} of "
                   f"scenarios ({_NOT_IN_RISK}).")
    pts = risk.frontier.to_frame()
    pts = pts[pts["status"].isin(["optimal", "feasible"])]
    if len(pts) > 1:
        distinct = risk.frontier.n_distinct
        lo, hi = fmt.number(pts["lam"].min()), fmt.number(pts["lam"].max())
        same = "stays the same."
        if distinct == 1 and not risk.same_as_cheapest and pts["lam"].min() == 0:
            same = ("stays the same: even on expected cost alone, the simulated vendor failures and "
                    "price changes favour it over the least-cost award.")
        out.append(f"Across CVaR weights {lo} to {hi} the risk-aware award "
                   + (same if distinct == 1 else
                      f"takes {fmt.count(distinct, 'form')}: its {RISK_COST_LINES} from "
                      f"{fmt.money(pts['expected'].min(), currency)} expected to "
                      f"{fmt.money(pts['cvar'].min(), currency)} in the tail."))
    b = risk.backup
    if b is not None and len(b):
        ok = b.dropna(subset=["net_value"])
        worth = [names(lot) for lot, v in ok["net_value"].items() if v > 0]
        rest = [names(lot) for lot, v in ok["net_value"].items() if v <= 0]
        weight = f"at CVaR weight {lam}"
        if worth:
            out.append(f"A backup vendor is worth its expected cost {weight} on "
                       f"{fmt.listing(worth)}" + (f", not on {fmt.listing(rest)}" if rest else "")
                       + ".")
        elif rest:
            out.append(f"A backup vendor is not worth its expected cost {weight} on any lot.")
    return out


def backup_table(risk: Any, *, names: fmt.Names, currency: str) -> pd.DataFrame:
    """The value of a backup vendor per lot, in words (no signed amounts): the share of the lot
    the backup holds, what it does to the expected cost and to the worst outcomes, and whether it
    is worth it at the award's CVaR weight; indexed by lot name.  Empty without a backup
    analysis."""
    b = risk.backup if risk is not None else None
    cols = ["Backup holds", "Expected cost", "Worst outcomes", "Worth it"]
    if b is None or not len(b):
        return pd.DataFrame(columns=cols)
    tail = f"worst {fmt.percent(1 - risk.award.alpha)}"
    rows = {}
    for lot, r in b.iterrows():
        if pd.isna(r["net_value"]):
            rows[names(lot)] = ["", "not feasible under the policy", "", "n/a"]
            continue
        cost, saving = float(r["backup_cost"]), float(r["tail_saving"])
        share = r.get("backup_share", np.nan)
        rows[names(lot)] = [
            f"{fmt.percent(share)} of the lot" if pd.notna(share) else "",
            f"{fmt.money(abs(cost), currency)} " + ("more" if cost > 0 else "less"),
            f"{fmt.money(abs(saving), currency)} " + ("lower" if saving > 0 else "higher")
            + f" in the {tail}",
            "yes" if r["net_value"] > 0 else "no"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols)


def options_story(decision: Any, *, options: list[Any] | None = None) -> list[str]:
    """The recommendation and one line for each other option, from a :class:`~sourcing.decision.Decision`."""
    cur = decision.currency
    t = decision.table
    out = []
    if decision.recommended is not None:
        r = t.loc[decision.recommended]
        line = (f"Recommended: {decision.recommended}, {fmt.money(r['cost'], cur)} over the "
                f"contract at {_measure(decision.measure)}")
        if "p_over_budget" in t.columns and pd.notna(r.get("p_over_budget")):
            line += f", with a {fmt.percent(r['p_over_budget'])} risk of exceeding the budget"
        out.append(line + f": {r['reason']}.")
    else:
        out.append("No option could be recommended: none keeps the board's policy.")
    for opt, r in t.iterrows():
        if opt != decision.recommended:
            out.append(f"Not {opt}: {r['reason']}.")
    return out


def drivers_story(drivers: Any, *, names: fmt.Names, currency: str) -> list[str]:
    """What decides between the recommended option and the runner-up, in sentences: the inputs
    that move their cost difference most (total Sobol indices), and what each option costs when
    the first of them is in its worst tenth."""
    from .plots.simulation import factor_label

    rec, runner = drivers.pair
    ix = drivers.sobol.of(drivers.difference)
    # indices distinguishable from 0 and from negligible (1 % of the variance)
    top = ix[ix["ST"] > np.maximum(ix["ST_conf"], 0.01)].head(3)
    if top.empty:
        return [f"No single uncertain input stands out in the cost difference between {rec} and "
                f"{runner}: each explains less than its own sampling error."]
    parts = [f"{factor_label(f, names)} ({fmt.percent(max(float(r['ST']), 0.0))})"
             for f, r in top.iterrows()]
    out = [f"What decides between {rec} and {runner} is above all {fmt.listing(parts)}: the share "
           "of the variance of their cost difference each input explains, with its interactions."]
    width = float(top["ST_conf"].max())
    out.append(f"The indices come from {fmt.number(drivers.sobol.n)} Sobol samples; each is "
               f"within about {fmt.number(100 * width)} percentage points of its value (95% "
               "interval).")
    st = drivers.stress
    if len(st):
        first = st.index.get_level_values("input")[0]
        rows = st.xs(first, level="input")
        tail = "highest" if rows["tail"].iloc[0] == "high" else "lowest"
        cheaper = rows["p50"].idxmin()
        verdict = (f"{rec} stays the cheaper at the median" if cheaper == rec or
                   rows.at[rec, "p50"] <= rows.at[runner, "p50"] else
                   f"{runner} becomes the cheaper at the median")
        out.append(f"In the tenth of the draws with the {tail} {fmt.label(first, names=names)}, "
                   f"{rec} costs {fmt.money(rows.at[rec, 'p50'], currency)} at the median "
                   f"(P90 {fmt.money(rows.at[rec, 'p90'], currency)}) and {runner} "
                   f"{fmt.money(rows.at[runner, 'p50'], currency)} (P90 "
                   f"{fmt.money(rows.at[runner, 'p90'], currency)}): {verdict}.")
    return out


def precision_story(simulation: Any, decision: Any, *, currency: str) -> list[str]:
    """How precisely the simulation knows the figures the board reads, in sentences: the 95 %
    half-width of the recommended option's median and P90 (distribution-free, from the order
    statistics) and of its risk of exceeding the budget; and, on the same draws, the mean cost
    difference to the runner-up with its 95 % interval, saying when the two are tied within the
    simulation's precision."""
    import math

    from .simulation.engine import half_width

    rec = decision.recommended
    if rec is None or rec not in simulation.names:
        return []
    x = simulation.totals[rec].to_numpy(float)
    n = len(x)
    _, h50 = half_width(x, "p50", 0.95)
    _, h90 = half_width(x, "p90", 0.95)
    parts = [f"median is known to within {fmt.money(h50, currency)}",
             f"its P90 to within {fmt.money(h90, currency)}"]
    if simulation.budget:
        p = float((x > simulation.budget).mean())
        hp = 1.96 * math.sqrt(p * (1 - p) / n)
        parts.append("its risk of exceeding the budget to within "
                     f"{fmt.number(100 * hp, decimals=1)} percentage points")
    out = [f"With {fmt.number(n)} simulated contracts, the recommended option's "
           f"{fmt.listing(parts)} (95% intervals)."]
    runner = decision.runner_up
    if runner is not None and runner in simulation.names:
        d = x - simulation.totals[runner].to_numpy(float)
        m, se = float(d.mean()), float(d.std(ddof=1)) / math.sqrt(n)
        lo, hi = m - 1.96 * se, m + 1.96 * se
        if lo <= 0 <= hi:
            out.append(f"On the same draws {rec} and {runner} cost the same on average within the "
                       f"simulation's precision (difference {fmt.money(m, currency)}, 95% interval "
                       f"{fmt.money(lo, currency)} to {fmt.money(hi, currency)}): what separates "
                       "them is the policy and the risk, not the expected cost.")
        else:
            word = "less" if m < 0 else "more"
            out.append(f"On the same draws {rec} costs on average {fmt.money(abs(m), currency)} "
                       f"{word} than {runner}, give or take {fmt.money(1.96 * se, currency)} "
                       "(95% interval).")
    return out


def _measure(measure: str) -> str:
    return {"p50": "the median (P50)", "mean": "the mean", "p90": "P90"}[measure]


def budget_story(summary: pd.DataFrame, by_driver: pd.DataFrame, option: str, *, budget: float | None,
                 currency: str, years: int) -> list[str]:
    """What the budget is compared with: contract price vs modelled risk cost, and what
    P(over budget) counts."""
    if option not in by_driver.index:
        return []
    d = by_driver.loc[option]
    price = float(sum(d.get(k, 0.0) for k in ("service", "escalation", "fx", "governance")))
    one_off = float(d.get("transition", 0.0))
    risk = float(sum(d.get(k, 0.0) for k in ("sla_credits", "business_impact", "vendor_failure",
                                             "security", "attrition", "other")))
    out = [f"For {option}, the mean cost over {fmt.number(years)} years is "
           f"{fmt.money(price + one_off + risk, currency)}: {fmt.money(price, currency)} of fees "
           f"(service, indexation, exchange rates, retained governance), "
           f"{fmt.money(one_off, currency)} of one-off transition and {fmt.money(risk, currency)} "
           "of modelled risk cost (business impact of SLA breaches net of service credits, vendor "
           "failure, security incidents)."]
    if budget is not None and "p_over_budget" in summary.columns:
        p = float(summary.at[option, "p_over_budget"])
        out.append(f"The risk of exceeding the budget of {fmt.money(budget, currency)} "
                   f"({fmt.percent(p)}) is the share of simulated contracts whose undiscounted "
                   f"total over {fmt.number(years)} years, risk costs included, is above it.")
        if price + one_off < budget < price + one_off + risk:
            out.append("The budget covers the contract price but not the modelled risk cost on "
                       "average.")
    return out


def performance_story(record: Any, *, names: fmt.Names, currency: str) -> list[str]:
    """The incumbent's record in four sentences: what was measured, data quality, breaches and
    credits, and the invoice audit (*record*: ``sourcing.performance.PerformanceRecord``; money in
    *currency*)."""
    perf, kpis, credits, audit = record.data, record.kpis, record.credits, record.audit
    lots = list(dict.fromkeys(kpis.kpis["lot_id"]))
    owed = int((credits.monthly["credit_pct"] > 0).sum())
    return [
        f"{fmt.count(len(perf.tickets), 'ticket').capitalize()} and {fmt.count(len(lots), 'lot')} "
        f"({fmt.listing(names(x) for x in lots)}) measured against the contract's service levels.",
        f"{fmt.count(len(perf.quality), 'data-quality finding').capitalize()}; no ticket is dropped "
        "silently.",
        f"{fmt.count(len(kpis.breaches()), 'ticket SLA breach', 'ticket SLA breaches').capitalize()}; "
        "service "
        f"credits owed in {fmt.count(owed, 'month')}.",
        f"Invoice audit: {fmt.count(len(audit.discrepancies), 'discrepancy', 'discrepancies')}, "
        f"{fmt.money(audit.total, currency, exact=True, decimals=2)} to recover."]


def assumptions_table(assumptions: Any, *, currency: str) -> pd.DataFrame:
    """The simulation's assumptions as a reader's table: assumption, value (text)."""
    from .simulation.assumptions import ASSUMPTION_INFO
    from .simulation.distributions import Constant, Pert, Triangular, Uniform

    def shown(value: Any, unit: str) -> str:
        def one(x: float) -> str:
            if unit == "money":
                return fmt.money(x, currency)
            if unit == "fraction":
                return fmt.percent(x)
            return fmt.number(x, decimals=2 if abs(x) < 10 else 0)

        if value is None:
            return "median onboarding cost of the bidders"
        if isinstance(value, tuple):
            return ", ".join(f"{one(v)} for {k}" for k, v in value) or "none"
        if isinstance(value, Constant):
            return one(value.value)
        if isinstance(value, Pert | Triangular):
            kind = "PERT" if isinstance(value, Pert) else "triangular"
            return f"{kind}: low {one(value.low)}, most likely {one(value.mode)}, high {one(value.high)}"
        if isinstance(value, Uniform):
            return f"uniform between {one(value.low)} and {one(value.high)}"
        if hasattr(value, "ppf"):
            lo, hi = value.ppf(np.array([0.05, 0.95]))
            return f"90% between {one(lo)} and {one(hi)}"
        x = float(value)
        return "no cap" if not np.isfinite(x) else one(x)

    rows = []
    for key, (text, unit) in ASSUMPTION_INFO.items():
        if hasattr(assumptions, key):
            rows.append({"assumption": text, "value": shown(getattr(assumptions, key), unit)})
    return pd.DataFrame(rows)


def board_story(result: Any) -> dict[str, Any]:
    """The board's summary of a :class:`~sourcing.pipeline.RunResult`: the recommendation in one
    sentence and the key findings, as plain text (written to ``summary.json`` for the index)."""
    names = fmt.Names.of(result.tender)
    decision = result.decision
    findings = [tender_story(result.tender)]
    findings += ranking_story(result.evaluation, result.acceptability,
                              method=result.scenario.scoring.method)
    findings += award_story(result.award, names=names)
    findings += risk_story(result.risk, names=names, currency=result.tender.currency)
    stories = options_story(decision)
    findings += stories[1:]
    findings += precision_story(result.simulation, decision, currency=result.tender.currency)
    if result.break_even:
        from .breakeven import break_even_story

        findings += [break_even_story(b, currency=result.tender.currency) for b in result.break_even]
    if decision.recommended is not None:
        findings += budget_story(result.summary(), result.simulation.by_driver(), decision.recommended,
                                 budget=result.simulation.budget, currency=result.tender.currency,
                                 years=result.simulation.years)
    findings += list(result.notes)
    return {"tender": result.tender.name, "buyer": str(result.tender.settings.get("buyer") or ""),
            "scenario": result.scenario.name, "recommendation": stories[0], "findings": findings}


def unit_price(value: float, currency: str) -> str:
    """A unit price in *currency*: to the cent below 1,000 (``41.20``), to the unit above."""
    return (fmt.money(value, currency, decimals=2) if abs(value) < 1000
            else fmt.money(value, currency, exact=True))


def per_unit(unit: object) -> str:
    """``"per ticket"`` from a lot's unit as tenders write it (``tickets``); ``"a unit"`` when
    there is none."""
    word = str(unit).strip() if isinstance(unit, str) else ""
    if not word:
        return "a unit"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    return f"per {word}"


def price_to_win_lines(table: pd.DataFrame, *, names: fmt.Names, currency: str,
                       units: Any = None) -> list[str]:
    """One sentence per bid of a price-to-win table (:func:`~sourcing.allocation.price_to_win.
    price_to_win`): "Service desk: Nordic Service Partners at <currency> 44.90 per ticket would
    enter at <currency> 41.20 (8.2% below today)"; unit prices in the tender *currency* per unit
    per year,
    *units* the lot's unit by lot id (the tender's ``lots.unit``)."""
    units = {} if units is None else dict(units)
    lines = []
    for (lot, vendor), r in table.iterrows():
        today = f"{unit_price(r['price'], currency)} {per_unit(units.get(lot))}"
        if r["awarded"]:
            what = (f"keeps its share up to {unit_price(r['price_to_lose'], currency)} "
                    f"({fmt.number(r['gap_pct'], decimals=1)}% above today)"
                    if r["price_to_lose"] == r["price_to_lose"] else r["reason"])
        else:
            what = (f"would enter at {unit_price(r['price_to_enter'], currency)} "
                    f"({fmt.number(-r['gap_pct'], decimals=1)}% below today)"
                    if r["price_to_enter"] == r["price_to_enter"] else r["reason"])
        lines.append(f"{names(lot)}: {names(vendor)} at {today} {what}")
    return lines
