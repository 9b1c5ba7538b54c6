# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Sourcing IT services: options for the board
#
# This page summarises the tender analysis for a decision: **who should run our IT services,
# and what will it cost and risk over the contract?** It compares keeping the services
# in-house, awarding everything to one vendor, splitting the lots between several vendors as the
# award recommends, and a hybrid that keeps part of the work in-house. The pages behind it
# explain each step: the vendor ranking, the award, the risk simulation and, where the data
# exists, the incumbent's record.

# %% tags=["parameters"]
scenario_file = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed = None  # int or None, the scenario's seed if None
n_draws = None  # int or None, Monte Carlo draws (the scenario's if None)
run_dir = None  # str or None, the run folder the report passes (computed when None)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from sourcing import narrative as story
from sourcing import present as fmt
from sourcing.pipeline import RUN_STAGES, board_summary, open_run
from sourcing.plots import plot_acceptability, plot_rule_costs

fmt.notes_as_text()

result = open_run(scenario_file, stages=(*RUN_STAGES, "break_even"), run_dir=run_dir, seed=seed,
                  **{"simulation.n": n_draws})
scenario, tender, decision, names = result.scenario, result.tender, result.decision, result.names
cur = tender.currency
board = story.board_story(result)
fmt.show(fmt.html("<p><b>{}</b> &middot; {} &middot; scenario {}</p>", board["tender"],
                  board["buyer"] or tender.name, scenario.name),
         fmt.paragraph(scenario.description),
         fmt.html('<p style="font-size:1.15em;border-left:4px solid #2f6db5;padding:.4em .8em;'
                  'background:#eef4fb">{}</p>', board["recommendation"]),
         fmt.bullets(board["findings"]))

# %% [markdown]
# ## Cost and risk of each option over the contract
#
# P50 is the median outcome (half of the simulated contracts cost less), P90 a prudent planning
# figure (nine in ten cost less), CVaR95 the average of the worst 5 % of outcomes; all are
# undiscounted totals over the contract years in the tender's currency, risk costs included.
# Each "give or take" is the 95 % precision of the figure beside it from the simulated draws.

# %%
summary = board_summary(result.simulation, intervals=True).join(decision.table[["status"]])
fmt.show(fmt.table(summary, {c: "money" for c in ("mean", "p50", "p50_pm", "p90", "p90_pm", "cvar95")} | {
    "p_over_budget": "percent", "p_over_budget_pm": "percent", "p_cheapest": "percent"}, currency=cur,
    columns={"mean": "Mean", "p50": "P50 (median)", "p50_pm": "give or take", "p90": "P90",
             "p90_pm": "give or take", "cvar95": "CVaR95",
             "p_over_budget": "Risk of exceeding the budget", "p_over_budget_pm": "give or take",
             "p_cheapest": "Chance of being the cheapest", "status": "Decision"},
    index_label="Option"))
fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
result.simulation.plot("compare", ax=ax)
plt.show()

# %%
heading, lines, shown = story.award_section(result)
fmt.show(fmt.heading(2, heading), fmt.bullets(lines))
if shown.feasible:
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    shown.plot(ax=ax)
    plt.show()

# %% [markdown]
# ## What risk changes in the award, and what a backup vendor buys
#
# The risk-aware award minimises the expected fees, one-off costs and failure recourse plus a
# weight times their average in the worst outcomes (CVaR), over scenarios drawn from the
# simulation's own risk model (vendor failures with their recourse, price indexation, demand
# growth); the findings above say what it changes. The backup-vendor table
# compares each lot single-sourced and dual-sourced, the other lots as the policy allows, with
# the vendor-count and concentration rules lifted for the comparison.

# %%
if result.risk is not None:  # its sentences are among the findings above; here its table and plot
    backup = story.backup_table(result.risk, names=names, currency=cur)
    if len(backup):
        fmt.show(fmt.table(backup, index_label="Lot", columns={c: c for c in backup.columns},
                           caption="A backup vendor on each lot, against a single vendor"))
    if result.risk.frontier.n_distinct > 1:  # one award at every weight is said in words above
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
        result.risk.frontier.plot(ax=ax)
        plt.show()
else:
    fmt.show(fmt.paragraph("The risk-aware award was not computed: no award is feasible, or the "
                           "scenario switches it off (allocation.risk.enabled)."))

# %% [markdown]
# ## What drives the risk of the recommended option
#
# How strongly each uncertain input moves the total cost (rank correlation): the longer the
# bar, the more that input decides where in its range the cost lands.

# %%
focus = decision.recommended or result.options[0].name
fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
result.simulation.plot("tornado", ax=ax, scenario=focus)
plt.show()

# %% [markdown]
# ## The price of each policy rule
#
# What the annual cost would fall by if the board dropped that rule alone.

# %%
if len(result.rule_costs):
    fmt.show(fmt.bullets(story.rule_cost_lines(result.rule_costs, currency=cur)))
    if (result.rule_costs["cost_of_rule"] > 0).any():  # a chart of nothing but zeros says nothing
        fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
        plot_rule_costs(result.rule_costs, ax=ax)
        plt.show()
    fmt.show(fmt.table(result.rule_costs[["description", "cost_of_rule"]], {"cost_of_rule": "money"},
                       currency=cur, index=False,
                       columns={"description": "Rule", "cost_of_rule": f"Cost per year ({cur})"}))
else:
    fmt.show(fmt.paragraph("No policy rule is active, or no award is feasible: nothing to price."))

# %% [markdown]
# ## How robust is the ranking?
#
# The share of plausible weightings (SMAA-2) under which each vendor takes each rank.

# %%
fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
plot_acceptability(result.acceptability, ax=ax, names=names)
plt.show()

# %% [markdown]
# ## Assumptions of the risk model
#
# Money assumptions not set in the scenario scale with the size of this tender; every line can
# be changed in the scenario file (`simulation.assumptions`).

# %%
fmt.show(fmt.table(story.assumptions_table(result.assumptions, currency=cur), index=False,
                   columns={"assumption": "Assumption", "value": "Value"}))

# %% [markdown]
# ## Caveats
#
# Prices are the bids as submitted; costs depend on the risk assumptions above; the quality
# score is relative to the admitted bidders. All figures are reproducible: the same scenario
# file and seed give the same numbers.
