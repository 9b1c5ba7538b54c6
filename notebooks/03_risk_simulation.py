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
# # Risk and cost simulation: what will each sourcing option really cost?
#
# **Question.** Over the contract, what will each option cost (keep the services in-house, give
# everything to one vendor, split the lots between several vendors as recommended, or a hybrid
# that keeps some lots in-house), and how bad can it get?
#
# **Data.** The tender (demand, bid prices, volume discounts, one-off costs, vendor risk
# profiles), the least-cost award, and the incumbent's SLA record when the scenario names it.
#
# **Method.** A Monte Carlo simulation of every option with the *same* random draws (common
# random numbers), so differences between options are not noise. Each draw plays out the
# contract year by year: demand growth, price indexation up to its contractual cap, currency
# moves on the offshore share, SLA breaches with their service credits and business impact, a
# vendor failing and being replaced, and security incidents at the vendor (frequency by vendor
# posture, loss per event). Uncertain inputs use PERT distributions (lambda = 4) unless noted;
# the assumptions are listed at the end of this page.

# %% tags=["parameters"]
scenario_file = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed = None  # int or None, the scenario's seed if None
n_draws = None  # int or None, Monte Carlo draws (the scenario's if None)
budget = None  # float or None, contract budget in the tender currency (the scenario's if None)
run_dir = None  # str or None, the run folder the report passes (computed when None)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from sourcing import narrative as story
from sourcing import present as fmt
from sourcing.pipeline import open_run

analysis = open_run(scenario_file, stages=("decide", "drivers"), run_dir=run_dir, seed=seed,
                    **{"simulation.n": n_draws, "simulation.budget": budget})
result, decision, cur = analysis.simulation, analysis.decision, analysis.tender.currency
focus = decision.recommended or analysis.options[0].name
fmt.show(fmt.bullets(story.options_story(decision)))

fmt.notes_as_text()

# %% [markdown]
# ## The options

# %%
options = [{"option": o.name, "how": o.description, "providers": fmt.listing(
    analysis.names(p) for p in o.providers), "base_cost": o.base_cost} for o in analysis.options]
import pandas as pd  # noqa: E402

fmt.show(fmt.table(pd.DataFrame(options).set_index("option"), {"base_cost": "money"}, currency=cur,
                   columns={"how": "How the lots are served", "providers": "Providers",
                            "base_cost": "Year-1 fees at bid prices"}, index_label="Option"))
summary = result.summary()
fmt.show(fmt.table(summary, {c: "money" for c in ("mean", "se", "p5", "p10", "p50", "p90", "p95",
                                                   "var95", "cvar95")}
                   | {"p_over_budget": "percent", "p_cheapest": "percent"}, currency=cur,
                   columns={"se": "Standard error of the mean"}, index_label="Option"))

# %% [markdown]
# ## Distribution of the total cost
#
# Each curve is one option; the dashed line is the budget. The further right and the wider, the
# costlier and the riskier.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
result.plot("hist", ax=axes[0])
result.plot("cdf", ax=axes[1])
plt.show()
fmt.show(fmt.bullets(story.budget_story(summary, result.by_driver(), focus, budget=result.budget,
                                        currency=cur, years=result.years)))

# %% [markdown]
# ## Differences between options
#
# Paired on the same draws: the mean saving of one option over another with its 95 % interval,
# and how often the first option is the cheaper of the two.

# %%
diffs = result.paired_differences()
fmt.show(fmt.table(diffs, {c: "money" for c in ("mean_diff", "se", "ci_low", "ci_high")}
                   | {"p_a_cheaper": "percent"}, currency=cur, index=False,
                   columns={"a": "Option A", "b": "Option B", "mean_diff": "Mean of A - B",
                            "se": "Standard error", "ci_low": "95% interval from",
                            "ci_high": "to", "p_a_cheaper": "A cheaper in"}))

# %% [markdown]
# ## Cost year by year and tail risk

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
result.plot("fan", ax=axes[0], scenario=focus)
result.plot("exceedance", ax=axes[1])
plt.show()

# %% [markdown]
# ## What drives the risk?
#
# Rank correlation between each uncertain input and the total cost of the recommended option
# (tornado), and the cost when one input moves from its 10th to its 90th percentile with the
# others at their median (swing table).

# %%
ax = result.plot("tornado", scenario=focus)
plt.show()
swing = result.swing(focus)[["input", "total_at_low", "total_at_high", "swing"]]
fmt.show(fmt.table(swing.assign(input=[analysis.names.label(i) for i in swing["input"]]),
                   dict.fromkeys(("total_at_low", "total_at_high", "swing"), "money"), currency=cur,
                   index=False, columns={"input": "Input", "total_at_low": "Total cost, input at P10",
                                         "total_at_high": "Total cost, input at P90",
                                         "swing": "Swing"}))
by_driver = result.by_driver()
by_driver.columns = [fmt.label(c) for c in by_driver.columns]
fmt.show(fmt.table(by_driver.T, dict.fromkeys(by_driver.index, "money"), currency=cur,
                   columns={c: c for c in by_driver.index}, caption="Mean cost by driver",
                   index_label="Cost driver"))

# %% [markdown]
# ## What decides the choice?
#
# The tornado above ranks the inputs by their effect on one option's cost. The board chooses
# between options: an input that raises both costs alike does not change the choice. Below, the
# share of the variance of the **cost difference** between the recommended option and the
# runner-up that each input explains (Sobol indices by SALib, with bootstrap intervals;
# inputs the simulation correlates count as one), and the costs when the first of them is at its
# worst.

# %%
drivers = analysis.drivers
if drivers is not None:
    from sourcing.plots import plot_sobol

    ax = plot_sobol(drivers.sobol, drivers.difference, names=analysis.names)
    plt.show()
    fmt.show(fmt.bullets(story.drivers_story(drivers, names=analysis.names, currency=cur)))
else:
    fmt.show(fmt.paragraph("Only one option was simulated, or the scenario switches the Sobol "
                           "indices off (simulation.sobol_samples: 0)."))

# %% [markdown]
# ## Assumptions

# %%
fmt.show(fmt.table(story.assumptions_table(analysis.assumptions, currency=cur), index=False,
                   columns={"assumption": "Assumption", "value": "Value"}))

# %% [markdown]
# ## What it means
#
# P50 is the median outcome, P90 a prudent planning figure, CVaR95 the average of the worst 5 %
# of outcomes. The probability of exceeding the budget is the board's risk appetite question.
# **Caveats:** the assumptions above (escalation range, failure hazards, incident losses) can be
# changed in the scenario file.
