# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Sourcing IT services: options for the board
#
# This page summarises the tender analysis for a decision: **who should run our IT services,
# and what will it cost and risk over the contract?** It compares four options: keep the
# services in-house, award everything to one vendor, split the lots between several vendors,
# or a hybrid that keeps part of the work in-house. The detailed pages behind it explain each
# step: the vendor ranking, the award, the risk simulation and the incumbent's record.

# %% tags=["parameters"]
scenario_file: str = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed: int = 20261127  # seed of every random number in this report
n_draws = None  # int or None: Monte Carlo draws; None = scenario
out_dir: str = "../reports/artefacts"  # where the results workbook and figures are written

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from sourcing import Scenario, run
from sourcing.plots import plot_acceptability, plot_rule_costs

scenario = Scenario.load(scenario_file, seed=seed, **{"simulation.n": n_draws})
result = run(scenario)
result.write(out_dir)
h = result.headline()
cur = result.tender.currency
summary = result.summary()
ev = result.evaluation


def money(x: float) -> str:
    return f"{cur} {x / 1e6:,.1f} million"


# %%
multi = next((o.name for o in result.options if o.name.startswith("Multi")), summary.index[0])
lines = [
    f"**Scenario:** {scenario.name}. {scenario.description}",
    "",
    f"* **Best-ranked vendor:** {ev.to_frame().loc[h['top_ranked_vendor'], 'name']} "
    f"({h['top_ranked_vendor']}); it ranks first in {h['top_rank_acceptability']:.0%} of the "
    "plausible weightings tested.",
    (f"* **Recommended award:** {h['award_vendors']} at {money(h['award_cost_eur_per_year'])} a "
     f"year (solver status: {h['award_status']})." if result.award.feasible else
     "* **No award satisfies the policy**; the multi-vendor option below splits each lot between "
     "its two cheapest bids instead. Why: " + str(result.award.diagnosis).replace("\n", " ")),
    f"* **Lowest expected cost:** {h['cheapest_option_p50']}, {money(h['cheapest_option_p50_eur'])}"
    f" over the contract (P50); {money(h['cheapest_option_p90_eur'])} at P90.",
]
if "cheapest_option_p_over_budget" in h:
    lines.append(f"* **Risk of exceeding the budget** of {money(scenario.simulation.budget_eur)}: "
                 f"{h['cheapest_option_p_over_budget']:.0%} for that option.")
if len(ev.excluded):
    lines.append("* **Excluded bidders:** " + "; ".join(
        f"{v} ({r})" for v, r in ev.excluded["reason"].items()))
lines += [f"* {note}" for note in result.notes]
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Cost and risk of each option over the contract
#
# P50 is the expected cost, P90 a prudent planning figure, CVaR95 the average of the worst 5 %
# of outcomes (EUR, undiscounted total over the contract years).

# %%
table = summary.copy()
for col in ("mean", "p50", "p90", "cvar95"):
    table[col] = table[col].map(lambda x: f"{x / 1e6:,.1f}M")
for col in ("p_over_budget", "p_cheapest"):
    if col in table:
        table[col] = table[col].map("{:.0%}".format)
table.rename(columns={"mean": "mean", "p50": "P50", "p90": "P90", "cvar95": "CVaR95",
                      "p_over_budget": "P(over budget)", "p_cheapest": "P(cheapest)"})

# %%
fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
result.simulation.plot("compare", ax=ax)
plt.show()

# %% [markdown]
# ## The recommended award

# %%
fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
result.award.plot(ax=ax)
plt.show()

# %% [markdown]
# ## What drives the risk

# %%
fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
result.simulation.plot("tornado", ax=ax, scenario=multi)
plt.show()

# %% [markdown]
# ## The price of each policy rule
#
# What the annual cost would fall by if the board dropped that rule alone.

# %%
if len(result.rule_costs):
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    plot_rule_costs(result.rule_costs, ax=ax)
    plt.show()
    display(result.rule_costs[["description", "cost_of_rule"]].style.format(
        {"cost_of_rule": "{:,.0f}"}))
else:
    display(Markdown("No active policy rule to price."))

# %% [markdown]
# ## How robust is the ranking?
#
# The share of plausible weightings (SMAA-2) under which each vendor takes each rank.

# %%
fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
plot_acceptability(result.acceptability, ax=ax)
plt.show()

# %% [markdown]
# ## Caveats
#
# Prices are the bids as submitted; costs depend on the risk assumptions of the simulation
# (see the risk page); the quality score is relative to the admitted bidders. All figures are
# reproducible: the same scenario file and seed give the same numbers.
