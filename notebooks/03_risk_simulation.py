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
# # Risk and cost simulation: what will each sourcing option really cost?
#
# **Question.** Over the contract, what will each option cost (keep the services in-house, give
# everything to one vendor, split the lots between several vendors as recommended, or a hybrid
# that keeps some lots in-house), and how bad can it get?
#
# **Data.** The tender (demand, bid prices, volume discounts, one-off costs, vendor risk
# profiles), the recommended award, and the incumbent's SLA record when the scenario names it.
#
# **Method.** A Monte Carlo simulation of every option with the *same* random draws (common
# random numbers), so differences between options are not noise. Each draw plays out the
# contract year by year: demand growth, price indexation up to its contractual cap, currency
# moves on the offshore share, SLA breaches with their service credits and business impact, a
# vendor failing and being replaced, and security incidents at the vendor (frequency by vendor
# posture, loss per event). Uncertain inputs use PERT distributions (lambda = 4) unless noted.

# %% tags=["parameters"]
scenario_file: str = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed: int = 20261127  # seed of every random number in this notebook
n_draws = None  # int or None: Monte Carlo draws; None = scenario
budget_eur = None  # float or None: contract budget (EUR over the horizon); None = scenario
out_dir: str = "../reports/artefacts"  # where tables and figures are written

# %%
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sourcing import Scenario, run

scenario = Scenario.load(scenario_file, seed=seed, **{"simulation.n": n_draws,
                                                     "simulation.budget_eur": budget_eur})
Path(out_dir).mkdir(parents=True, exist_ok=True)
pd.set_option("display.float_format", "{:,.0f}".format)

# %% [markdown]
# ## The options
#
# Multi-vendor follows the recommended award; single vendor is the best-ranked vendor able to
# serve every lot; hybrid keeps the lot where in-house is cheapest relative to the award.

# %%
analysis = run(scenario, rule_costs=False)
for option in analysis.options:
    print(option)

# %%
result = analysis.simulation
# the option the risk pages focus on: the recommended multi-vendor award when simulated
focus = next((o.name for o in analysis.options if o.name.startswith("Multi")),
             analysis.options[0].name)
summary = result.summary()
summary.to_csv(Path(out_dir) / "simulation_summary.csv")
summary

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

# %% [markdown]
# ## Differences between options
#
# Paired on the same draws: the mean saving of one option over another with its 95 % interval,
# and how often each option is the cheapest.

# %%
result.paired_differences()

# %%
result.prob_cheapest().to_frame("probability cheapest").style.format("{:.1%}")

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
# Rank correlation between each uncertain input and the total cost of the focus option
# (tornado), and the cost when one input moves from its 10th to its 90th percentile with the
# others at their median (swing table).

# %%
ax = result.plot("tornado", scenario=focus)
plt.show()

# %%
result.swing(focus)

# %%
result.by_driver()

# %% [markdown]
# ## What it means
#
# P50 is the cost we should expect, P90 a prudent planning figure, CVaR95 the average of the
# worst 5 % of outcomes. The probability of exceeding the budget is the board's risk appetite
# question. **Caveats:** the assumptions (escalation range, failure hazards, incident losses)
# are stated in each option's description above and can be changed in the scenario.
