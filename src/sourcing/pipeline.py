"""The whole analysis of one scenario, without notebooks: ``sourcing.run``.

``run(scenario)`` reads the tender, ranks the vendors, allocates the lots, prices each policy
rule, calibrates SLA risk from the incumbent's record (when the scenario names a performance
folder) and simulates the sourcing options with common random numbers.  The
:class:`RunResult` holds every stage's result, a board summary, and writes an Excel workbook plus
CSVs and PNGs (``sourcing run FILE``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import present as fmt
from .io import Sheet, read_tender, write_tables
from .outputs import staged
from .scenario import Scenario
from .tender import Tender

__all__ = ["RiskAnalysis", "RunResult", "check_scenario", "full_service_vendor", "risk_analysis", "run",
           "sla_calibration"]

_OPTION_FACTORIES = ("inhouse", "single_vendor", "multi_vendor", "hybrid")

#: Name of the simulated option that signs the risk-aware award.
RISK_AWARD_OPTION = "Risk-aware award"


@dataclass
class RunResult:
    """Every stage's result for one scenario.

    Attributes
    ----------
    scenario : Scenario
    tender : Tender
    evaluation : sourcing.scoring.Evaluation
        Ranking with exclusions, weights and quality scores.
    acceptability : sourcing.scoring.SMAAResult
        SMAA-2 rank acceptability of the admitted vendors.
    award : sourcing.allocation.Award
        The least-cost award under the scenario's policy (what the multi-vendor option signs).
    rule_costs : DataFrame
        What each active policy rule costs, tender currency per year (``constraint_costs``).
    sla : DataFrame or None
        SLA calibration from the incumbent's record (vendor_id, lot_id, breach_prob, credit_pct).
    simulation : sourcing.simulation.SimulationResult
        Cost draws of the sourcing options over the contract horizon.
    notes : list of str
        Plain-words remarks (e.g. why no award was feasible).
    options : list of sourcing.simulation.SourcingScenario
        The simulated options with their assumptions.
    decision : sourcing.decision.Decision
        The recommended option and why not the others (the one recommendation of the run).
    assumptions : sourcing.simulation.Assumptions
        The simulation's assumptions, sized to the tender and overridden by the scenario.
    risk : RiskAnalysis or None
        The risk-aware award, its frontier and the value of a backup vendor per lot (None when
        switched off or no award is feasible).
    option_awards : dict
        Simulated option name -> the award it signs (the least-cost award, or the risk-aware
        award); options that do not sign an award (in-house, single vendor, hybrid) are absent,
        unless one serves every lot exactly as the least-cost award does (an award to one vendor
        for everything is what the single-vendor option signs).
    """

    scenario: Scenario
    tender: Tender
    evaluation: Any
    acceptability: Any
    award: Any
    rule_costs: pd.DataFrame
    sla: pd.DataFrame | None
    simulation: Any
    notes: list[str] = field(default_factory=list)
    options: list[Any] = field(default_factory=list)
    decision: Any = None
    assumptions: Any = None
    risk: Any = None
    option_awards: dict[str, Any] = field(default_factory=dict)

    @property
    def recommended_award(self) -> Any:
        """The award the recommended option signs (an ``Award`` or a ``RiskAward``), or None when
        the recommended option signs none (in-house, one vendor for everything, hybrid) or nothing
        is recommended."""
        rec = self.decision.recommended if self.decision is not None else None
        return self.option_awards.get(rec) if rec is not None else None

    @property
    def names(self) -> fmt.Names:
        """Names of the tender's vendors, lots and criteria by id."""
        return fmt.Names.of(self.tender)

    def summary(self) -> pd.DataFrame:
        """Board table per sourcing option: cost over the contract at P50/P90 and mean (tender
        currency, undiscounted), CVaR95, probability of exceeding the budget and of being the
        cheapest option."""
        s = self.simulation.summary()
        cols = ["mean", "p50", "p90", "cvar95"] + [c for c in ("p_over_budget", "p_cheapest")
                                                    if c in s.columns]
        return s[cols]

    def headline(self) -> dict[str, object]:
        """Key numbers for the board as plain values (also checked by CI).

        Money is in the tender currency (``currency``): annual award cost, and the recommended
        option's cost over the contract at P50 and P90; probabilities are fractions.
        """
        s = self.summary()
        best = self.evaluation.ranks.idxmin()
        rec = self.decision.recommended
        out: dict[str, object] = {
            "tender": self.tender.name,
            "scenario": self.scenario.name,
            "currency": self.tender.currency,
            "top_ranked_vendor": self.names(best),
            "top_ranked_vendor_id": str(best),
            "top_rank_acceptability": float(self.acceptability.acceptability.loc[best].iloc[0]),
            "award_status": self.award.status,
            # an infeasible award has no cost: its 'cost' is an artefact of the empty solution
            "award_cost_per_year": float(self.award.cost["total"]) if self.award.feasible else None,
            "award_vendors": fmt.listing(self.names(v) for v in self.award.vendors),
            "recommended_option": rec,
            "recommended_p50": float(s.at[rec, "p50"]) if rec is not None else None,
            "recommended_p90": float(s.at[rec, "p90"]) if rec is not None else None,
        }
        if "p_over_budget" in s.columns and rec is not None:
            out["budget"] = float(self.simulation.budget)
            out["recommended_p_over_budget"] = float(s.at[rec, "p_over_budget"])
        return out

    #: format of each headline item (workbook number formats, console text); others are text
    HEADLINE_FORMATS = {"top_rank_acceptability": "percent", "award_cost_per_year": "money",
                        "recommended_p50": "money", "recommended_p90": "money", "budget": "money",
                        "recommended_p_over_budget": "percent"}

    def tables(self) -> dict[str, Sheet]:
        """Result tables by name, as written to the workbook and CSVs (headline first).

        Money columns are in the tender currency (stated in their headers); vendor and lot
        names stand beside their ids.
        """
        ev, cur, names = self.evaluation, self.tender.currency, self.names
        head = self.headline()
        headline = pd.DataFrame({"item": [fmt.label(k) for k in head],
                                 "value": list(head.values())})
        sheets = {"headline": Sheet(headline, row_formats=[
            self.HEADLINE_FORMATS.get(k, "text") for k in head], currency=cur)}
        sheets["decision"] = Sheet(self.decision.to_frame(),
                                   {"cost": "money", "p_over_budget": "percent"}, currency=cur)
        sheets["ranking"] = Sheet(ev.to_frame(), {"score": "number", "quality": "number"})
        if len(ev.excluded):
            sheets["exclusions"] = Sheet(ev.excluded.assign(
                name=[names(v) for v in ev.excluded.index]))
        acc = self.acceptability.acceptability
        sheets["acceptability"] = Sheet(_with_names(acc, names),
                                        dict.fromkeys(map(str, acc.columns), "percent"))
        sheets["award"] = Sheet(self._award_long(), {"share": "percent", "spend": "money",
                                                     "volume": "number"}, currency=cur)
        cost = self.award.cost.rename("per_year").to_frame()
        cost.index = pd.Index([fmt.label(str(k)) for k in cost.index], name="cost item")
        sheets["award_cost"] = Sheet(cost, {"per_year": "money"}, currency=cur)
        if len(self.rule_costs):
            sheets["rule_costs"] = Sheet(self.rule_costs, {
                c: "money" for c in ("cost_with", "cost_without", "cost_of_rule")}, currency=cur)
        sheets["simulation_summary"] = Sheet(self.summary(), {
            **dict.fromkeys(("mean", "p50", "p90", "cvar95"), "money"),
            "p_over_budget": "percent", "p_cheapest": "percent"}, currency=cur)
        from .narrative import assumptions_table

        sheets["assumptions"] = Sheet(assumptions_table(self.assumptions, currency=cur))
        if self.sla is not None:
            sheets["sla_calibration"] = Sheet(self.sla, {"breach_prob": "percent",
                                                         "credit_pct": "pct"})
        return sheets

    def _award_long(self) -> pd.DataFrame:
        a, names = self.award, self.names
        rows = [{"vendor_id": v, "vendor": names(v), "lot_id": lot, "lot": names(lot),
                 "volume": float(a.volumes.at[v, lot]), "share": float(a.shares.at[v, lot]),
                 "spend": float(a.spend.at[v, lot])}
                for v in a.volumes.index for lot in a.volumes.columns if a.volumes.at[v, lot] > 1e-9]
        return pd.DataFrame(rows, columns=["vendor_id", "vendor", "lot_id", "lot", "volume", "share",
                                           "spend"])

    def write(self, out: str | os.PathLike, *, figures: bool = True, force: bool = False) -> Path:
        """Write ``results.xlsx``, one CSV per table, PNG figures and ``summary.json`` into *out*.

        The result set is staged and published as a whole (:mod:`sourcing.outputs`): a folder
        holding files sourcing did not write is refused unless *force* (they are never deleted),
        and files of an earlier run that this run does not write are removed.  Cells and headers
        are neutralised against formula injection.  Returns the workbook path.
        """
        import json

        from .narrative import board_story

        tables = self.tables()
        with staged(out, force=force) as folder:
            write_tables(tables, folder / "results.xlsx")
            write_tables(tables, folder)
            (folder / "summary.json").write_text(
                json.dumps({"headline": self.headline(), **board_story(self)}, indent=1,
                           ensure_ascii=False), encoding="utf-8")
            if figures:
                self._figures(folder)
        return Path(out) / "results.xlsx"

    def _figures(self, out: Path) -> None:
        import matplotlib.pyplot as plt

        from .plots import plot_acceptability, plot_contributions, plot_rule_costs

        figs = {
            "ranking_contributions.png": lambda ax: plot_contributions(self.evaluation, ax=ax),
            "rank_acceptability.png": lambda ax: plot_acceptability(self.acceptability, ax=ax),
            "award.png": lambda ax: self.award.plot(ax=ax),
            "cost_distribution.png": lambda ax: self.simulation.plot("hist", ax=ax),
            "tornado.png": lambda ax: self.simulation.plot("tornado", ax=ax),
        }
        if len(self.rule_costs):
            figs["rule_costs.png"] = lambda ax: plot_rule_costs(self.rule_costs, ax=ax)
        for name, draw in figs.items():
            fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
            draw(ax)
            fig.savefig(out / name, dpi=110, format="png")
            plt.close(fig)


def run(scenario: Scenario | str | os.PathLike, *, progress: bool = False,
        rule_costs: bool = True) -> RunResult:
    """Run the whole analysis of *scenario* (a :class:`Scenario` or its YAML file).

    Parameters
    ----------
    scenario : Scenario or path
    progress : bool
        Show progress bars of the long steps.
    rule_costs : bool
        Price each active policy rule by re-solving without it (one MILP per rule).

    Returns
    -------
    RunResult
        Same scenario and seed give identical numbers.  Caveats the stages raise as warnings
        (a tender without a risk table, ...) are kept in ``notes``, in words, once each.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = _run(scenario, progress=progress, rule_costs=rule_costs)
    for w in caught:
        if issubclass(w.category, UserWarning):
            if str(w.message) not in result.notes:
                result.notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


def _run(scenario: Scenario | str | os.PathLike, *, progress: bool, rule_costs: bool) -> RunResult:
    from .allocation import allocate, constraint_costs
    from .decision import decide
    from .scoring import evaluate, smaa
    from .scoring.sensitivity import SMAA_METHODS
    from .simulation import Assumptions, multi_vendor, simulate, standard_scenarios

    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    tender = read_tender(scenario.tender)
    check_scenario(scenario, tender)
    sc, al, si = scenario.scoring, scenario.allocation, scenario.simulation
    evaluation = evaluate(tender, **sc.evaluate_kwargs)
    # SMAA on the ranking's own method where it can be sampled, so "ranks first in x % of
    # weightings" speaks of the same ranking the board sees
    smaa_method, smaa_params = ((sc.method, sc.params) if sc.method in SMAA_METHODS
                                else ("wsm", {}))
    acceptability = smaa(evaluation.matrix, evaluation.objectives, evaluation.weights,
                         method=smaa_method, n=sc.smaa_samples, seed=scenario.seed, **smaa_params)
    policy = al.policy_model()
    solve = al.solve_kwargs
    award = allocate(tender, policy, quality=evaluation, objective=al.objective, **solve)
    notes = []
    if not award.feasible:
        notes.append(f"no feasible award under the policy: {award.diagnosis}")
    costs = (constraint_costs(tender, policy, quality=evaluation, **solve)
             if rule_costs and award.feasible else pd.DataFrame())
    sla = sla_calibration(scenario)
    vendor = si.single_vendor or full_service_vendor(tender, evaluation)
    assumptions = Assumptions.for_tender(tender, si.assumptions)
    options = standard_scenarios(tender, award if award.feasible else None,
                                 inhouse_lots=list(si.inhouse_lots) or None, vendor_id=vendor,
                                 sla=sla, assumptions=assumptions)
    chosen = [o for o, name in zip(options, _OPTION_FACTORIES, strict=True) if name in si.options]
    chosen = _distinct(chosen, notes)
    # the options that sign the award: the multi-vendor one, or one that serves every lot as it does
    signs = _service(options[_OPTION_FACTORIES.index("multi_vendor")])
    option_awards = {o.name: award for o in chosen if award.feasible and _service(o) == signs}
    risk = None
    if al.risk.enabled and award.feasible:
        risk = risk_analysis(tender, policy, evaluation, award, al.risk, seed=scenario.seed,
                             assumptions=assumptions)
        if risk.award.feasible and not risk.same_as_cheapest:
            chosen.append(multi_vendor(tender, risk.award, name=RISK_AWARD_OPTION, sla=sla,
                                       assumptions=assumptions))
            option_awards[RISK_AWARD_OPTION] = risk.award
    simulation = simulate(chosen, n=si.n, seed=scenario.seed, sampling=si.sampling,
                          budget=si.budget, progress=progress)
    simulation.meta["names"] = dict(fmt.Names.of(tender).names)  # readable labels in the plots
    decision = decide(simulation.summary(), chosen, policy, measure=scenario.decision.measure,
                      max_p_over_budget=scenario.decision.max_p_over_budget,
                      currency=tender.currency, names=fmt.Names.of(tender))
    return RunResult(scenario, tender, evaluation, acceptability, award, costs, sla, simulation,
                     notes, chosen, decision, assumptions, risk, option_awards)


@dataclass
class RiskAnalysis:
    """What risk changes in the award (``allocation.risk`` of the scenario).

    Attributes
    ----------
    award : sourcing.allocation.RiskAward
        Least expected contract cost + lam x CVaR over the sampled scenarios.
    frontier : sourcing.allocation.RiskFrontier
        Expected cost against CVaR over the scenario's lambda grid.
    backup : DataFrame or None
        Per lot: what a backup vendor costs in expectation and saves in the tail (tender
        currency over the contract), with the policy's vendor-count and concentration rules
        lifted for the comparison.
    same_as_cheapest : bool
        The risk-aware award equals the cheapest award (no risk premium needed).
    """

    award: Any
    frontier: Any
    backup: pd.DataFrame | None
    same_as_cheapest: bool


#: rules that force or forbid a second vendor; lifted to price the backup vendor on its own
_VENDOR_COUNT_RULES = ("min_vendors_per_lot", "max_vendors_per_lot", "max_vendors_total",
                       "max_share_pct", "max_share_pct_by_lot", "max_spend_share_pct")


def risk_analysis(tender: Tender, policy: Any, evaluation: Any, award: Any, settings: Any, *,
                  seed: int, assumptions: Any) -> RiskAnalysis:
    """The risk-aware award, frontier and backup-vendor value of one scenario (see
    :class:`RiskAnalysis`); scenarios drawn from the simulation's risk model with *seed*."""
    from .allocation import allocate_risk, backup_value, risk_frontier
    from .simulation import risk_scenarios

    rs = risk_scenarios(tender, n=settings.scenarios, seed=seed, assumptions=assumptions)
    kw = {"alpha": settings.alpha, "quality": evaluation, "time_limit": settings.time_limit}
    best = allocate_risk(tender, policy, rs, lam=settings.lam, **kw)
    front = risk_frontier(tender, policy, rs, lambdas=settings.frontier, **kw)
    backup = None
    if settings.backup:
        free = policy
        for rule in _VENDOR_COUNT_RULES:
            free = free.relaxed(rule)
        backup = backup_value(tender, free, rs, lam=settings.lam, **kw)
    same = bool(best.feasible and award.feasible and np.allclose(
        best.volumes.reindex_like(award.volumes).fillna(0).to_numpy(float),
        award.volumes.to_numpy(float), rtol=1e-6, atol=1e-6 * float(tender.demand.max())))
    return RiskAnalysis(best, front, backup, same)


def _with_names(frame: pd.DataFrame, names: fmt.Names) -> pd.DataFrame:
    """*frame* indexed by vendor id with a ``name`` column first."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    out.insert(0, "name", [names(v) for v in frame.index])
    out.index.name = frame.index.name or "vendor_id"
    return out


def _service(option: Any) -> tuple:
    """Who serves how much of each lot in *option* (units to 6 decimals), comparable between options."""
    lines = option.lines[["lot_id", "provider", "units"]].assign(units=option.lines["units"].round(6))
    return tuple(sorted(map(tuple, lines.to_numpy().tolist())))


def _distinct(options: list[Any], notes: list[str]) -> list[Any]:
    """Drop an option that serves every lot exactly like an earlier one (an award to one vendor
    is the single-vendor option), saying so in *notes*."""
    kept: dict[tuple, Any] = {}
    for o in options:
        k = _service(o)
        if k in kept:
            notes.append(f"{o.name} serves every lot exactly as {kept[k].name}: it is shown once, "
                         f"as {kept[k].name}.")
        else:
            kept[k] = o
    return list(kept.values())


def check_scenario(scenario: Scenario, tender: Tender) -> None:
    """Refuse scenario keys that name ids the tender does not have, by the scenario's own key.

    Raises
    ------
    ValidationError
        One problem per unknown id: the scenario file, the line of the key, the dotted key
        (``scoring.weights``, ``simulation.single_vendor``, ``simulation.inhouse_lots``,
        ``allocation.policy.include`` ...), the id and the valid ids.
    """
    from .schemas import Problem, ValidationError

    vendors, lots, crits = set(tender.vendor_ids), set(tender.lot_ids), set(tender.criteria.index)
    policy = scenario.allocation.policy
    checks = [
        ("scoring.weights", list(scenario.scoring.weights or {}), crits, "criterion"),
        ("simulation.single_vendor", [scenario.simulation.single_vendor] if
         scenario.simulation.single_vendor else [], vendors, "vendor"),
        ("simulation.inhouse_lots", list(scenario.simulation.inhouse_lots), lots, "lot"),
        ("allocation.policy.include", list(policy.get("include") or ()), vendors, "vendor"),
        ("allocation.policy.exclude", list(policy.get("exclude") or ()), vendors, "vendor"),
        ("allocation.policy.max_share_pct_by_lot", list(policy.get("max_share_pct_by_lot") or {}),
         lots, "lot"),
    ]
    if scenario.scoring.weights and tender.settings.get("weighting") == "ahp":
        raise ValidationError([Problem(Path(scenario.source).name or "<scenario>",
                                       scenario.line_of("scoring.weights"), "scoring.weights", "",
                                       "the tender's weights come from AHP judgments: weight points "
                                       "cannot override them (remove scoring.weights)")],
                              title=f"scenario does not fit the tender {tender.name}")
    problems = [Problem(Path(scenario.source).name or "<scenario>", scenario.line_of(key), key, str(v),
                        f"unknown {what}; valid: {', '.join(sorted(valid))}")
                for key, given, valid, what in checks for v in given if v not in valid]
    if problems:
        raise ValidationError(problems, title=f"scenario does not fit the tender {tender.name}")


def full_service_vendor(tender: Tender, evaluation: Any) -> str:
    """Best-ranked admitted vendor that bid every lot with capacity for its whole demand.

    The natural candidate for the single-vendor option; when no vendor can serve everything,
    the best-ranked vendor (the simulation then prices its missing lots in-house).
    """
    bids = tender.bids.set_index(["vendor_id", "lot_id"])
    capacity = bids["capacity"].unstack().reindex(columns=tender.lot_ids)
    bid = bids["unit_price"].unstack().reindex(columns=tender.lot_ids).notna()
    able = (bid & (capacity.isna() | capacity.ge(tender.demand, axis=1))).all(axis=1)
    ranked = evaluation.ranks.sort_values().index
    full = [v for v in ranked if able.get(v, False)]
    return str(full[0] if full else ranked[0])


def sla_calibration(scenario: Scenario) -> pd.DataFrame | None:
    """SLA breach calibration from the scenario's performance folder, if it names one."""
    if scenario.performance is None:
        return None
    from .performance import calibrate, monthly_kpis, read_performance, service_credits

    perf = read_performance(scenario.performance)
    return calibrate(service_credits(monthly_kpis(perf)))
