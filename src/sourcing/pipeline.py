"""The analysis as one pipeline of stages, and ``sourcing.run``.

The stages (:data:`STAGES`) are ``tender`` (read and check), ``score`` (the ranking),
``acceptability`` (SMAA-2), ``sensitivity`` (methods' agreement, weight stability), ``award`` (the
least-cost award), ``rule_costs``, ``frontier`` (cost against quality), ``performance`` (the
incumbent's SLA record), ``risk_award``, ``simulate`` (the sourcing options with common random
numbers), ``decide`` (the one recommendation) and ``drivers`` (what decides it: Sobol indices and
stress).  Each has a key made from exactly the inputs it
reads (:func:`stage_keys`), so a change re-runs only the stages downstream of it, and results are
kept in a :class:`sourcing.cache.StageCache` (memory, and optionally a folder).

Every caller composes the same stages: :func:`run` (``sourcing run``), each CLI subcommand, the
report (which runs every stage once and hands its run folder to the notebooks), the notebooks
(:func:`open_run`) and the what-if.  The :class:`RunResult` holds every stage's result, a board
summary, and writes an Excel workbook plus CSVs and PNGs.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import present as fmt
from .io import read_tender
from .outputs import Sheet, staged, write_tables
from .scenario import Scenario
from .simulation.scenarios import RISK_ASSUMPTIONS
from .tender import Tender

__all__ = ["REPORT_STAGES", "RUN_STAGES", "STAGES", "Drivers", "RiskAnalysis", "RunResult",
           "Sensitivity", "Stage", "board_summary", "check_scenario", "closure",
           "full_service_vendor", "open_run", "risk_analysis", "run", "run_stages", "stage_keys"]

_OPTION_FACTORIES = ("inhouse", "single_vendor", "multi_vendor", "hybrid")
#: Ranks the workbook's acceptability sheet lists one by one; the rest are summed in one column.
_WORKBOOK_RANKS = 20

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
    sensitivity : Sensitivity or None
        Agreement across methods and weight stability intervals (the ``sensitivity`` stage).
    frontier : sourcing.allocation.Frontier or None
        Cost against quality of the award (the ``frontier`` stage).
    performance : sourcing.performance.PerformanceRecord or None
        The incumbent's SLA record, credits and invoice audit (when the scenario names its data).
    drivers : Drivers or None
        What decides between the recommended option and the runner-up: Sobol indices and stress
        (the ``drivers`` stage; None when not computed or a single option).
    break_even : list of BreakEven
        How far each key input may move before the recommendation changes (the ``break_even``
        stage, :func:`sourcing.breakeven.key_inputs`; empty when not computed or switched off by
        ``decision.break_even: false``).
    price_to_win : DataFrame or None
        For every bid, the unit price at which it would enter the least-cost award or lose its
        share (the ``price_to_win`` stage; None when not computed, switched off by
        ``allocation.price_to_win: false``, for an objective other than cost or without an award).
    stages : dict
        Key of each stage computed or read (stage name -> key of its inputs).
    computed : list of str
        The stages computed by this call; the others came from the cache unchanged.
    """

    scenario: Scenario
    tender: Tender
    evaluation: Any = None
    acceptability: Any = None
    award: Any = None
    rule_costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    sla: pd.DataFrame | None = None
    simulation: Any = None
    notes: list[str] = field(default_factory=list)
    options: list[Any] = field(default_factory=list)
    decision: Any = None
    assumptions: Any = None
    risk: Any = None
    option_awards: dict[str, Any] = field(default_factory=dict)
    sensitivity: Sensitivity | None = None
    frontier: Any = None
    performance: Any = None
    drivers: Drivers | None = None
    price_to_win: pd.DataFrame | None = None
    break_even: list[Any] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=dict)
    computed: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, scenario: Scenario, results: dict[str, Any], info: dict[str, Any]) -> RunResult:
        """Assemble the result of the stages *results* computed for *scenario* (a stage not
        computed leaves its fields at None or empty)."""
        sim = results.get("simulate")
        perf = results.get("performance")
        return cls(
            scenario, results["tender"], evaluation=results.get("score"),
            acceptability=results.get("acceptability"), award=results.get("award"),
            rule_costs=results.get("rule_costs", pd.DataFrame()),
            sla=perf.calibration if perf is not None else None,
            simulation=sim.simulation if sim else None, notes=list(info["notes"]),
            options=list(sim.options) if sim else [], decision=results.get("decide"),
            assumptions=sim.assumptions if sim else None, risk=results.get("risk_award"),
            option_awards=dict(sim.option_awards) if sim else {},
            sensitivity=results.get("sensitivity"), frontier=results.get("frontier"),
            performance=perf, drivers=results.get("drivers"),
            price_to_win=results.get("price_to_win"),
            break_even=list(results.get("break_even") or []), stages=dict(info["keys"]),
            computed=list(info["computed"]))

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
        """Board table per sourcing option (:func:`board_summary` of the simulation)."""
        return board_summary(self.simulation)

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
        if acc.shape[1] > _WORKBOOK_RANKS:  # 2,000 vendors: 2,000 ranks each (4 million cells)
            worse = 1.0 - acc.iloc[:, :_WORKBOOK_RANKS].sum(axis=1)
            acc = acc.iloc[:, :_WORKBOOK_RANKS].assign(**{"worse": worse.clip(lower=0.0)})
        acc = acc.rename(columns=lambda r: f"rank {r}" if r != "worse" else
                         f"rank {_WORKBOOK_RANKS + 1} or worse")
        sheets["acceptability"] = Sheet(_with_names(acc, names), dict.fromkeys(acc.columns, "percent"))
        sheets["award"] = Sheet(self._award_long(), {"share": "percent", "spend": "money",
                                                     "volume": "number"}, currency=cur)
        cost = self.award.cost.rename("per_year").to_frame()
        cost.index = pd.Index([fmt.label(str(k)) for k in cost.index], name="cost item")
        sheets["award_cost"] = Sheet(cost, {"per_year": "money"}, currency=cur)
        if len(self.award.bundles):
            taken = self.award.bundles.assign(
                vendor=lambda t: t["vendor_id"].map(names),
                lots=lambda t: t["lots"].map(lambda x: ", ".join(names(lot) for lot in x.split(";"))))
            sheets["packages_taken"] = Sheet(
                taken[["bundle_id", "vendor_id", "vendor", "lots", "fraction", "price"]],
                {"fraction": "percent", "price": "money"}, currency=cur)
        if len(self.award.discounts):
            given = self.award.discounts.assign(vendor=lambda t: t["vendor_id"].map(names))
            sheets["discounts_given"] = Sheet(
                given[["discount_id", "vendor_id", "vendor", "condition", "threshold", "discount_pct",
                       "amount"]], {"discount_pct": "pct", "amount": "money", "threshold": "number"},
                currency=cur)
        if len(self.rule_costs):
            sheets["rule_costs"] = Sheet(self.rule_costs, {
                c: "money" for c in ("cost_with", "cost_without", "cost_of_rule")}, currency=cur)
        sheets["simulation_summary"] = Sheet(self.summary(), {
            **dict.fromkeys(("mean", "p50", "p90", "cvar95"), "money"),
            "p_over_budget": "percent", "p_cheapest": "percent"}, currency=cur)
        from .narrative import assumptions_table

        words = assumptions_table(self.assumptions, currency=cur)
        numbers, units = _assumption_numbers(self.assumptions)
        sheets["assumptions"] = Sheet(numbers.merge(words.rename(columns={"value": "as written"}),
                                                    on="assumption", how="left"),
                                      row_formats=units, currency=cur)
        if self.price_to_win is not None:
            sheets.update(price_to_win_sheets(self.price_to_win, names=names, currency=cur,
                                              units=self.tender.lots["unit"], taken=sheets))
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


# --------------------------------------------------------------------------------------------
# The stages.  Each reads the scenario values it names (dotted keys), the contents of the files
# it names and its upstream stages' results; its key is made from exactly those, so a change
# re-runs only the stages downstream of it.  Every caller composes these: `run`, the CLI
# subcommands, the notebooks (`open_run`), the what-if and each point of a sweep.


@dataclass(frozen=True)
class Stage:
    """One step of the analysis.

    Attributes
    ----------
    name : str
    needs : tuple of str
        Upstream stages whose results it reads.
    reads : tuple of str
        Scenario keys it reads (dotted: ``allocation.policy``; ``seed``).
    files : tuple of str
        Scenario keys naming files or folders whose contents it reads (``tender``).
    compute : callable
        ``compute(scenario, upstream, options) -> result``; *upstream* maps each of *needs* to
        its result.
    """

    name: str
    needs: tuple[str, ...]
    reads: tuple[str, ...]
    files: tuple[str, ...]
    compute: Callable[[Scenario, dict[str, Any], dict[str, Any]], Any]


@dataclass(frozen=True)
class SimulationStage:
    """Result of the ``simulate`` stage: the options, their draws and the awards they sign."""

    options: list[Any]
    simulation: Any
    assumptions: Any
    option_awards: dict[str, Any]


@dataclass(frozen=True)
class Sensitivity:
    """Result of the ``sensitivity`` stage: how far the ranking holds.

    Attributes
    ----------
    agreement : sourcing.scoring.Agreement
        Ranks by WSM, TOPSIS, VIKOR and PROMETHEE and their rank correlation.
    stability : sourcing.scoring.StabilityResult
        Interval of each weight within which the first-ranked vendor stays first.
    """

    agreement: Any
    stability: Any


def _smaa_method(settings: Any) -> tuple[str, dict]:
    """The method SMAA and the stability intervals sample: the ranking's own where it can be
    sampled, so "ranks first in x % of weightings" speaks of the ranking the board sees; else WSM."""
    from .scoring.sensitivity import SMAA_METHODS

    return (settings.method, dict(settings.params)) if settings.method in SMAA_METHODS else ("wsm", {})


def _stage_tender(scenario: Scenario, up: dict, opts: dict) -> Tender:
    return read_tender(scenario.tender).with_cells(scenario.tender_cells)


def _stage_score(scenario: Scenario, up: dict, opts: dict) -> Any:
    from .scoring import evaluate

    return evaluate(up["tender"], **scenario.scoring.evaluate_kwargs)


def _stage_acceptability(scenario: Scenario, up: dict, opts: dict) -> Any:
    from .scoring import smaa

    ev = up["score"]
    method, params = _smaa_method(scenario.scoring)
    return smaa(ev.matrix, ev.objectives, ev.weights, method=method,
                n=scenario.scoring.smaa_samples, seed=scenario.seed, **params)


def _stage_sensitivity(scenario: Scenario, up: dict, opts: dict) -> Sensitivity:
    from .scoring import compare_methods, weight_stability

    ev = up["score"]
    method, params = _smaa_method(scenario.scoring)
    return Sensitivity(compare_methods(ev.matrix, ev.objectives, ev.weights),
                       weight_stability(ev.matrix, ev.objectives, ev.weights, method=method, **params))


def policy_of(scenario: Scenario, tender: Tender):
    """The policy every stage solves: the scenario's ``allocation.policy`` with the tender's
    rules table after its scoped rules (:func:`sourcing.allocation.scoped.with_tender_rules`;
    a rule named in both is refused)."""
    from .allocation.scoped import with_tender_rules

    return with_tender_rules(scenario.allocation.policy_model(), tender)


def _stage_award(scenario: Scenario, up: dict, opts: dict) -> Any:
    from .allocation import allocate

    al = scenario.allocation
    award = allocate(up["tender"], policy_of(scenario, up["tender"]), quality=up["score"],
                     objective=al.objective, **al.solve_kwargs)
    if not award.feasible:
        warnings.warn(f"no feasible award under the policy: {award.diagnosis}", UserWarning,
                      stacklevel=2)
    return award


def _stage_rule_costs(scenario: Scenario, up: dict, opts: dict) -> pd.DataFrame:
    from .allocation import constraint_costs

    if not up["award"].feasible:
        return pd.DataFrame()
    al = scenario.allocation
    return constraint_costs(up["tender"], policy_of(scenario, up["tender"]), quality=up["score"],
                            **al.solve_kwargs)


def _stage_frontier(scenario: Scenario, up: dict, opts: dict) -> Any:
    from .allocation import frontier

    if not up["award"].feasible:
        return None
    al = scenario.allocation
    return frontier(up["tender"], policy_of(scenario, up["tender"]), n_points=al.frontier_points,
                    quality=up["score"], **al.solve_kwargs)


def _stage_performance(scenario: Scenario, up: dict, opts: dict) -> Any:
    if scenario.performance is None:
        return None
    from .performance import assess, read_performance

    return assess(read_performance(scenario.performance), rates=up["tender"],
                  asof=scenario.performance_asof)


def _stage_risk_award(scenario: Scenario, up: dict, opts: dict) -> RiskAnalysis | None:
    from .simulation import Assumptions

    al, award = scenario.allocation, up["award"]
    if not (al.risk.enabled and award.feasible):
        return None
    tender = up["tender"]
    return risk_analysis(tender, policy_of(scenario, tender), up["score"], award, al.risk, seed=scenario.seed,
                         assumptions=Assumptions.for_tender(tender, scenario.simulation.assumptions))


def _stage_simulate(scenario: Scenario, up: dict, opts: dict) -> SimulationStage:
    from .simulation import Assumptions, multi_vendor, simulate, standard_scenarios

    tender, award, risk, si = up["tender"], up["award"], up["risk_award"], scenario.simulation
    perf = up["performance"]
    sla = perf.calibration if perf is not None else None
    assumptions = Assumptions.for_tender(tender, si.assumptions)
    vendor = si.single_vendor or full_service_vendor(tender, up["score"])
    options = standard_scenarios(tender, award if award.feasible else None,
                                 inhouse_lots=list(si.inhouse_lots) or None, vendor_id=vendor,
                                 sla=sla, assumptions=assumptions)
    chosen = [o for o, name in zip(options, _OPTION_FACTORIES, strict=True) if name in si.options]
    chosen = _distinct(chosen)
    # the options that sign the award: the multi-vendor one, or one that serves every lot as it does
    signs = _service(options[_OPTION_FACTORIES.index("multi_vendor")])
    option_awards = {o.name: award for o in chosen if award.feasible and _service(o) == signs}
    if risk is not None and risk.award.feasible and not risk.same_as_cheapest:
        chosen.append(multi_vendor(tender, risk.award, name=RISK_AWARD_OPTION, sla=sla,
                                   assumptions=assumptions))
        option_awards[RISK_AWARD_OPTION] = risk.award
    simulation = simulate(chosen, n=si.n, seed=scenario.seed, sampling=si.sampling, budget=si.budget,
                          progress=opts.get("progress", False))
    simulation.meta["names"] = dict(fmt.Names.of(tender).names)  # readable labels in the plots
    return SimulationStage(chosen, simulation, assumptions, option_awards)


@dataclass(frozen=True)
class Drivers:
    """Result of the ``drivers`` stage: what decides between the recommended option and the
    runner-up.

    Attributes
    ----------
    pair : tuple of str
        (recommended option, runner-up: ``Decision.runner_up``, the cheapest other option that
        keeps the policy).
    sobol : sourcing.simulation.SobolResult
        Sobol indices of each option's contract cost and of the pair's cost difference.
    stress : DataFrame
        Every option's cost when each of the three inputs that move the difference most is in
        its worst tenth for the recommended option (:func:`sourcing.simulation.stress`).
    """

    pair: tuple[str, str]
    sobol: Any
    stress: pd.DataFrame

    @property
    def difference(self) -> str:
        """Name of the pair's cost-difference output."""
        return f"{self.pair[0]} - {self.pair[1]}"


def _stage_drivers(scenario: Scenario, up: dict, opts: dict) -> Drivers | None:
    from .simulation import contract_sobol, stress

    sim, decision = up["simulate"], up["decide"]
    n = scenario.simulation.sobol_samples
    if not n or decision.recommended is None or len(sim.options) < 2:
        return None
    rec, runner = decision.recommended, decision.runner_up
    sobol = contract_sobol(sim.options, n=n, seed=scenario.seed, differences=[(rec, runner)])
    top = sobol.of(f"{rec} - {runner}").head(3).index
    columns = set(sim.simulation.inputs.columns)
    inputs = [next(m for m in sobol.groups[f] if m in columns) for f in top
              if any(m in columns for m in sobol.groups[f])]
    return Drivers((rec, runner), sobol, stress(sim.simulation, inputs, option=rec))


def _stage_price_to_win(scenario: Scenario, up: dict, opts: dict) -> pd.DataFrame | None:
    from .allocation.price_to_win import price_to_win

    al, award = scenario.allocation, up["award"]
    if not al.price_to_win or al.objective != "cost" or award is None or not award.feasible:
        return None
    return price_to_win(up["tender"], policy_of(scenario, up["tender"]), quality=up["score"], award=award,
                        workers=None, **al.solve_kwargs)


def price_to_win_sheets(table: pd.DataFrame, *, names: fmt.Names, currency: str, units: Any = None,
                        taken: Iterable[str] = ()) -> dict[str, Sheet]:
    """One workbook sheet per bidder from a price-to-win table, to hand to that bidder: its own
    bids only (no other bidder's price), unit prices in *currency* per unit per year."""
    from .narrative import price_to_win_lines
    from .outputs import table_name

    sheets: dict[str, Sheet] = {}
    taken = set(taken)
    for vendor, rows in table.groupby(level="vendor_id", sort=False):
        lots = rows.index.get_level_values("lot_id")
        frame = pd.DataFrame({
            "lot": [names(lot) for lot in lots],
            "bidder": names(vendor),
            "awarded today": ["yes" if a else "no" for a in rows["awarded"]],
            "unit price today": rows["price"].to_numpy(),
            "price to enter": rows["price_to_enter"].to_numpy(),
            "price to lose the share": rows["price_to_lose"].to_numpy(),
            "change needed": rows["gap_pct"].to_numpy(),
            "in words": price_to_win_lines(rows, names=names, currency=currency, units=units),
        })
        name = table_name("price_to_win_", vendor, taken)
        taken.add(name)
        sheets[name] = Sheet(frame, {"unit price today": "number", "price to enter": "number",
                                     "price to lose the share": "number", "change needed": "pct"},
                             currency=currency)
    return sheets


def _stage_decide(scenario: Scenario, up: dict, opts: dict) -> Any:
    from .allocation.scoped import resolve_policy
    from .decision import decide

    sim, tender = up["simulate"], up["tender"]
    # scoped rules name towers and vendor columns: an option's split is checked on their ids
    policy = resolve_policy(policy_of(scenario, tender), tender)
    return decide(sim.simulation.summary(), sim.options, policy,
                  measure=scenario.decision.measure,
                  max_p_over_budget=scenario.decision.max_p_over_budget, currency=tender.currency,
                  names=fmt.Names.of(tender))


def _stage_break_even(scenario: Scenario, up: dict, opts: dict) -> list[Any]:
    from .breakeven import break_even, key_inputs
    from .whatif import WhatIf

    if not scenario.decision.break_even or up["decide"].recommended is None:
        return []
    from .cache import StageCache

    run = opts.get("cache")  # the what-if reads the run's stages but keeps its own points apart
    whatif = WhatIf(scenario, cache=StageCache(previous=getattr(run, "folder", None)))
    out = []
    for key in key_inputs(up["drivers"], whatif.start.weights):
        try:
            out.append(break_even(whatif, key, steps=4))
        except ValueError as err:  # an input this tender does not have: said, not fatal
            warnings.warn(f"no break-even for {key}: {err}", UserWarning, stacklevel=2)
    return out


_SOLVE = ("allocation.policy", "allocation.objective", "allocation.solver", "allocation.time_limit",
          "allocation.mip_gap")
_WEIGHTS = ("scoring.method", "scoring.params", "scoring.weights", "scoring.aggregate",
            "scoring.weighting", "scoring.price_formula", "scoring.gates")

#: The stages in the order they run; each needs only stages before it.
STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("tender", (), ("tender_cells",), ("tender",), _stage_tender),
    Stage("score", ("tender",), _WEIGHTS, (), _stage_score),
    Stage("acceptability", ("score",), ("scoring.method", "scoring.params", "scoring.smaa_samples",
                                        "seed"), (), _stage_acceptability),
    Stage("sensitivity", ("score",), ("scoring.method", "scoring.params"), (), _stage_sensitivity),
    Stage("award", ("tender", "score"), _SOLVE, (), _stage_award),
    Stage("rule_costs", ("tender", "score", "award"), _SOLVE, (), _stage_rule_costs),
    Stage("frontier", ("tender", "score", "award"), (*_SOLVE, "allocation.frontier_points"), (),
          _stage_frontier),
    Stage("performance", ("tender",), ("performance_asof",), ("performance",), _stage_performance),
    Stage("risk_award", ("tender", "score", "award"),
          ("allocation.policy", "allocation.risk", "seed",
           *(f"simulation.assumptions.{a}" for a in RISK_ASSUMPTIONS)), (), _stage_risk_award),
    Stage("simulate", ("tender", "score", "award", "risk_award", "performance"),
          ("simulation", "seed"), (), _stage_simulate),
    Stage("price_to_win", ("tender", "score", "award"), (*_SOLVE, "allocation.price_to_win"), (),
          _stage_price_to_win),
    Stage("decide", ("tender", "simulate"), ("allocation.policy", "decision"), (), _stage_decide),
    Stage("drivers", ("simulate", "decide"), ("simulation.sobol_samples", "seed"), (),
          _stage_drivers),
    # the what-if re-runs the stages: it reads every section they read, and the tender's files
    Stage("break_even", ("decide", "drivers"),
          ("scoring", "allocation", "simulation", "decision", "seed", "performance_asof"),
          ("tender", "performance"), _stage_break_even),
)}

#: What ``run`` computes by default (``sourcing run``); the report adds the pages' extras.
RUN_STAGES = ("acceptability", "rule_costs", "performance", "decide")
#: Every stage: what the report computes once and hands to its pages.
REPORT_STAGES = tuple(STAGES)


def _value(dumped: dict, key: str) -> Any:
    node: Any = dumped
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def stage_keys(scenario: Scenario, stages: Sequence[str] = REPORT_STAGES) -> dict[str, str]:
    """Key of each of *stages* and of every stage they need, for *scenario*.

    A key is a digest of the stage's code, the scenario values it reads, the contents of the files
    it reads and its upstream keys: equal keys, equal results.
    """
    from .cache import code_fingerprint, digest, file_fingerprint

    dumped = scenario.model_dump(mode="json")
    keys: dict[str, str] = {}
    for name in closure(stages):
        st = STAGES[name]
        keys[name] = digest({
            "stage": name, "code": code_fingerprint(),
            "reads": {k: _value(dumped, k) for k in st.reads},
            "files": {k: file_fingerprint(getattr(scenario, k)) for k in st.files},
            "needs": {u: keys[u] for u in st.needs}})
    return keys


def closure(stages: Sequence[str]) -> list[str]:
    """*stages* and everything they need, in the order of :data:`STAGES`."""
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(unknown)}; valid: {', '.join(STAGES)}")
    wanted: set[str] = set()
    todo = list(stages)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(STAGES[name].needs)
    return [s for s in STAGES if s in wanted]


@dataclass(frozen=True)
class _Entry:
    """A stage's result with the caveats it raised (kept together in the cache)."""

    value: Any
    notes: tuple[str, ...]


def run_stages(scenario: Scenario | str | os.PathLike, stages: Sequence[str] = RUN_STAGES, *,
               cache: Any = None, progress: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compute *stages* (and what they need) for *scenario*, taking unchanged ones from *cache*.

    Returns
    -------
    results : dict
        Stage name -> result.
    info : dict
        ``keys`` (stage -> key), ``computed`` (stages computed now, in order; the others came from
        the cache) and ``notes`` (caveats in words, once each, in stage order).
    """
    from .cache import StageCache

    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    cache = cache if cache is not None else StageCache()
    keys = stage_keys(scenario, stages)
    results: dict[str, Any] = {}
    computed, notes = [], []
    for name, key in keys.items():
        found, entry = cache.get(name, key)
        if not found:
            entry = _compute(STAGES[name], scenario, results, {"progress": progress, "cache": cache})
            cache.put(name, key, entry)
            computed.append(name)
        results[name] = entry.value
        notes += [n for n in entry.notes if n not in notes]
        if name == "tender":  # ids the scenario names must be the tender's, before any work
            check_scenario(scenario, entry.value)
    return results, {"keys": keys, "computed": computed, "notes": notes}


_PACKAGE = str(Path(__file__).resolve().parent)


def _compute(stage: Stage, scenario: Scenario, results: dict[str, Any], opts: dict) -> _Entry:
    """Run one stage; the UserWarnings it raises become its notes (other warnings pass)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        value = stage.compute(scenario, {u: results[u] for u in stage.needs}, opts)
    notes: list[str] = []
    for w in caught:
        # ours only: a warning of another library's thread (a report's page) passes through
        if issubclass(w.category, UserWarning) and str(w.filename).startswith(_PACKAGE):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return _Entry(value, tuple(notes))


def run(scenario: Scenario | str | os.PathLike, *, progress: bool = False, rule_costs: bool = True,
        stages: Sequence[str] | None = None, cache: Any = None) -> RunResult:
    """Run the analysis of *scenario* (a :class:`Scenario` or its YAML file).

    Parameters
    ----------
    scenario : Scenario or path
    progress : bool
        Show progress bars of the long steps.
    rule_costs : bool
        Price each active policy rule by re-solving without it (one MILP per rule).
    stages : sequence of str, optional
        Stages to compute (with everything they need); default :data:`RUN_STAGES` (without
        ``rule_costs`` when *rule_costs* is false).  :data:`REPORT_STAGES` adds the sensitivity
        of the ranking and the cost-quality frontier.
    cache : sourcing.cache.StageCache, optional
        Where unchanged stages are found and new ones kept; default the process's memory only.

    Returns
    -------
    RunResult
        Same scenario and seed give identical numbers.  Caveats the stages raise as warnings
        (a tender without a risk table, ...) are kept in ``notes``, in words, once each.
    """
    if stages is None:
        stages = RUN_STAGES if rule_costs else tuple(s for s in RUN_STAGES if s != "rule_costs")
    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    results, info = run_stages(scenario, stages, cache=cache, progress=progress)
    return RunResult.of(scenario, results, info)


def open_run(scenario: Scenario | str | os.PathLike, *, stages: Sequence[str],
             run_dir: str | os.PathLike | None = None, **overrides: Any) -> RunResult:
    """The result a notebook presents: the saved run in *run_dir*, or computed where missing.

    ``sourcing report`` runs every stage once and passes its run folder to each page; a notebook
    opened by hand has none and uses the user's cache folder (:func:`sourcing.cache.user_cache`),
    so each stage is computed once across the pages.  Stages whose inputs an override changes are
    computed again; the others are read.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario file (or scenario) of the page.
    stages : sequence of str
        The stages the page presents (see :data:`STAGES`).
    run_dir : path, optional
        A run folder written by the report (its stage cache).
    **overrides
        Dotted scenario keys, as :meth:`Scenario.load` takes them (``None`` keeps the file's).
    """
    from .cache import StageCache, user_cache

    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario, **overrides)
    elif any(v is not None for v in overrides.values()):
        raise ValueError("overrides go with a scenario file, not a Scenario object")
    cache = (StageCache(run_dir) if run_dir is not None
             else StageCache(user_cache() / "stages", trim=True))
    return run(scenario, stages=stages, cache=cache)




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


def risk_analysis(tender: Tender, policy: Any, evaluation: Any, award: Any, settings: Any, *,
                  seed: int, assumptions: Any) -> RiskAnalysis:
    """The risk-aware award, frontier and backup-vendor value of one scenario (see
    :class:`RiskAnalysis`); scenarios drawn from the simulation's risk model with *seed*."""
    from .allocation import allocate_risk, backup_value, risk_frontier
    from .allocation.rules import vendor_count_rules
    from .simulation import risk_scenarios

    rs = risk_scenarios(tender, n=settings.scenarios, seed=seed, assumptions=assumptions)
    kw = {"alpha": settings.alpha, "quality": evaluation, "time_limit": settings.time_limit}
    front = risk_frontier(tender, policy, rs, lambdas=settings.frontier, **kw)
    lams = [float(x) for x in settings.frontier]
    # the frontier's point at the scenario's weight is the risk-aware award: solved once
    best = (front.awards[lams.index(float(settings.lam))] if float(settings.lam) in lams
            else allocate_risk(tender, policy, rs, lam=settings.lam, **kw))
    backup = None
    if settings.backup:
        free = policy
        for rule in vendor_count_rules():  # lifted to price the backup vendor on its own
            free = free.relaxed(rule)
        known = best if free == policy else None
        backup = backup_value(tender, free, rs, lam=settings.lam, award=known, **kw)
    same = bool(best.feasible and award.feasible and np.allclose(
        best.volumes.reindex_like(award.volumes).fillna(0).to_numpy(float),
        award.volumes.to_numpy(float), rtol=1e-6, atol=1e-6 * float(tender.demand.max())))
    return RiskAnalysis(best, front, backup, same)


def board_summary(simulation: Any, *, intervals: bool = False) -> pd.DataFrame:
    """Board table per sourcing option: cost over the contract at its mean, P50 and P90 (tender
    currency, undiscounted), CVaR95, probability of exceeding the budget and of being the
    cheapest option.

    *intervals* adds, after P50, P90 and the risk of exceeding the budget, the 95 % half-width
    of each (``p50_pm``, ``p90_pm`` in the tender currency: distribution-free, from the order
    statistics; ``p_over_budget_pm`` a probability: normal approximation), the precision of the
    simulated figure (for independent draws; Latin hypercube draws are at least this precise).
    """
    from .simulation.engine import half_width

    s = simulation.summary()
    cols = ["mean", "p50", "p90", "cvar95"] + [c for c in ("p_over_budget", "p_cheapest")
                                                if c in s.columns]
    out = s[cols].copy()
    if not intervals:
        return out
    totals = {o: simulation.totals[o].to_numpy(float) for o in out.index}
    for stat in ("p50", "p90"):
        out.insert(out.columns.get_loc(stat) + 1, f"{stat}_pm",
                   [half_width(totals[o], stat, 0.95)[1] for o in out.index])
    if "p_over_budget" in out.columns:
        p = out["p_over_budget"].astype(float)
        n = np.array([len(totals[o]) for o in out.index], float)
        out.insert(out.columns.get_loc("p_over_budget") + 1, "p_over_budget_pm",
                   1.96 * np.sqrt(p * (1 - p) / n))
    return out


def _assumption_numbers(assumptions: Any) -> tuple[pd.DataFrame, list[str]]:
    """The simulation's assumptions as numbers, one row per figure (a fixed value, or the low,
    most likely and high of a distribution, or its 5th and 95th percentiles), with the format of
    each row (money in the tender currency, percent, number) for the workbook."""
    from .simulation.assumptions import ASSUMPTION_INFO
    from .simulation.distributions import Constant, Pert, Triangular, Uniform

    rows, units = [], []
    for key, (text, unit) in ASSUMPTION_INFO.items():
        value = getattr(assumptions, key, None)
        if value is None or isinstance(value, tuple):
            continue  # "median onboarding cost", per-currency lists: in words only
        if isinstance(value, Constant):
            figures = {"value": value.value}
        elif isinstance(value, Pert | Triangular):
            figures = {"low": value.low, "most likely": value.mode, "high": value.high}
        elif isinstance(value, Uniform):
            figures = {"low": value.low, "high": value.high}
        elif hasattr(value, "ppf"):
            lo, hi = value.ppf(np.array([0.05, 0.95]))
            figures = {"5th percentile": lo, "95th percentile": hi}
        elif np.isfinite(float(value)):
            figures = {"value": value}
        else:
            continue
        for figure, x in figures.items():
            rows.append({"assumption": text, "figure": figure, "value": float(x)})
            units.append({"money": "money", "fraction": "percent"}.get(unit, "number"))
    frame = pd.DataFrame(rows, columns=["assumption", "figure", "value"])
    return frame, units


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


def _distinct(options: list[Any]) -> list[Any]:
    """Drop an option that serves every lot exactly like an earlier one (an award to one vendor
    is the single-vendor option), saying so in a note (a UserWarning)."""
    kept: dict[tuple, Any] = {}
    for o in options:
        k = _service(o)
        if k in kept:
            warnings.warn(f"{o.name} serves every lot exactly as {kept[k].name}: it is shown once, "
                          f"as {kept[k].name}.", UserWarning, stacklevel=2)
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
        ``allocation.policy.include`` ...), the id and the valid ids; a scoped rule of
        ``allocation.policy.rules`` naming an unknown lot, tower, vendor or vendors column.
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
    if (scenario.scoring.weights and tender.settings.get("weighting") == "ahp"
            and scenario.scoring.weighting != "direct"):
        raise ValidationError([Problem(Path(scenario.source).name or "<scenario>",
                                       scenario.line_of("scoring.weights"), "scoring.weights", "",
                                       "the tender's weights come from AHP judgments: weight points "
                                       "cannot override them (remove scoring.weights, or "
                                       "set scoring.weighting: direct with points for every "
                                       "criterion)")],
                              title=f"scenario does not fit the tender {tender.name}")
    problems = [Problem(Path(scenario.source).name or "<scenario>", scenario.line_of(key), key, str(v),
                        f"unknown {what}; valid: {', '.join(sorted(valid))}")
                for key, given, valid, what in checks for v in given if v not in valid]
    if policy.get("rules"):
        from .allocation.scoped import resolve_policy

        try:  # lots, towers, vendors and vendor columns of the scoped rules; names the tender's
            resolve_policy(policy_of(scenario, tender), tender)
        except ValueError as e:
            key = "allocation.policy.rules"
            problems.append(Problem(Path(scenario.source).name or "<scenario>", scenario.line_of(key), key,
                                    "", str(e)))
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
