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

import pandas as pd

from .io import atomic_path, read_tender, write_tables
from .scenario import Scenario
from .tender import Tender

__all__ = ["RunResult", "full_service_vendor", "run", "sla_calibration"]

_OPTION_FACTORIES = ("inhouse", "single_vendor", "multi_vendor", "hybrid")


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
        The recommended award under the scenario's policy.
    rule_costs : DataFrame
        What each active policy rule costs, EUR/year (``constraint_costs``).
    sla : DataFrame or None
        SLA calibration from the incumbent's record (vendor_id, lot_id, breach_prob, credit_pct).
    simulation : sourcing.simulation.SimulationResult
        Cost draws of the sourcing options over the contract horizon.
    notes : list of str
        Plain-words remarks (e.g. why no award was feasible).
    options : list of sourcing.simulation.SourcingScenario
        The simulated options with their assumptions.
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

    def summary(self) -> pd.DataFrame:
        """Board table per sourcing option: 5-year cost P50/P90 and mean (EUR), CVaR95,
        probability of exceeding the budget and of being the cheapest option."""
        s = self.simulation.summary()
        cols = ["mean", "p50", "p90", "cvar95"] + [c for c in ("p_over_budget", "p_cheapest")
                                                    if c in s.columns]
        return s[cols]

    def headline(self) -> dict[str, object]:
        """Key numbers for the board as plain values (also checked by CI)."""
        s = self.summary()
        best = self.evaluation.ranks.idxmin()
        cheapest = s["p50"].idxmin()
        out = {
            "scenario": self.scenario.name,
            "top_ranked_vendor": best,
            "top_rank_acceptability": float(self.acceptability.acceptability.loc[best].iloc[0]),
            "award_status": self.award.status,
            # an infeasible award has no cost: its 'cost' is an artefact of the empty solution
            "award_cost_eur_per_year": float(self.award.cost["total"]) if self.award.feasible else None,
            "award_vendors": ", ".join(self.award.vendors),
            "cheapest_option_p50": cheapest,
            "cheapest_option_p50_eur": float(s.at[cheapest, "p50"]),
            "cheapest_option_p90_eur": float(s.at[cheapest, "p90"]),
        }
        if "p_over_budget" in s.columns:
            out["cheapest_option_p_over_budget"] = float(s.at[cheapest, "p_over_budget"])
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """Result tables by name, as written to the workbook and CSVs."""
        ev = self.evaluation
        tables = {
            "headline": pd.DataFrame(list(self.headline().items()), columns=["item", "value"]),
            "ranking": ev.to_frame(),
            "exclusions": ev.excluded.reset_index(),
            "acceptability": self.acceptability.acceptability.round(4),
            "award_volumes": self.award.volumes,
            "award_spend_eur": self.award.spend,
            "award_cost_eur": self.award.cost.rename("eur_per_year").to_frame(),
            "rule_costs_eur": self.rule_costs,
            "simulation_summary": self.summary(),
        }
        if self.sla is not None:
            tables["sla_calibration"] = self.sla
        return tables

    def write(self, out: str | os.PathLike, *, figures: bool = True) -> Path:
        """Write ``results.xlsx``, one CSV per table and PNG figures into *out*.

        Every file is written atomically; text cells are neutralised against formula injection.
        Returns the workbook path.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        tables = {k: v.round(4) if isinstance(v, pd.DataFrame) else v
                  for k, v in self.tables().items()}
        book = write_tables(tables, out / "results.xlsx")
        write_tables(tables, out)
        if figures:
            self._figures(out)
        return book

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
            with atomic_path(out / name) as tmp:
                fig.savefig(tmp, dpi=110, format="png")
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
        Same scenario and seed give identical numbers.
    """
    from .allocation import allocate, constraint_costs
    from .scoring import evaluate, smaa
    from .scoring.sensitivity import SMAA_METHODS
    from .simulation import simulate, standard_scenarios

    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    tender = read_tender(scenario.tender)
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
    options = standard_scenarios(tender, award if award.feasible else None,
                                 inhouse_lots=list(si.inhouse_lots) or None, vendor_id=vendor,
                                 sla=sla)
    chosen = [o for o, name in zip(options, _OPTION_FACTORIES, strict=True) if name in si.options]
    simulation = simulate(chosen, n=si.n, seed=scenario.seed, sampling=si.sampling,
                          budget=si.budget_eur, progress=progress)
    return RunResult(scenario, tender, evaluation, acceptability, award, costs, sla, simulation,
                     notes, chosen)


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
