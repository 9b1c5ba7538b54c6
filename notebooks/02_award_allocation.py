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
# # Award allocation: who should run which lot?
#
# **Question.** How do we split the five lots between the admitted vendors so that the annual
# cost is lowest, while we keep a backup vendor where the policy asks for one, respect each
# vendor's capacity, use the volume discounts, keep a minimum quality and avoid depending too
# much on one vendor?
#
# **Data.** The tender's bids (unit prices in EUR per unit per year, capacities, minimum
# volumes, volume-discount tiers, setup costs), the vendors' onboarding costs and risk scores,
# the incumbent's switching costs, and the quality scores from the tender evaluation
# (0 = worst admitted bidder, 100 = best, price excluded).
#
# **Method.** A mixed-integer linear programme (PuLP, solved by HiGHS): continuous volumes per
# vendor and lot, binary award and engagement decisions, the sourcing policy of the scenario as
# constraints. One-off costs (setup, onboarding, switching) are spread over the contract years.
# Ties between equally cheap awards are broken by a documented second objective.

# %% tags=["parameters"]
scenario_file: str = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed: int = 20261127  # seed (the allocation itself is deterministic)
time_limit = None  # float or None: solver time limit in seconds; None = scenario
frontier_points: int = 6  # points on the cost-vs-quality frontier
out_dir: str = "../reports/artefacts"  # where tables and figures are written

# %%
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sourcing import Scenario, read_tender
from sourcing.allocation import allocate, constraint_costs, frontier
from sourcing.plots import plot_rule_costs, plot_spend_concentration
from sourcing.scoring import evaluate

scenario = Scenario.load(scenario_file, seed=seed, **{"allocation.time_limit": time_limit})
tender = read_tender(scenario.tender)
policy = scenario.allocation.policy_model()
evaluation = evaluate(tender, **scenario.scoring.evaluate_kwargs)
solve = scenario.allocation.solve_kwargs
Path(out_dir).mkdir(parents=True, exist_ok=True)
pd.set_option("display.precision", 2)
policy

# %% [markdown]
# ## The recommended award

# %%
award = allocate(tender, policy, quality=evaluation, objective=scenario.allocation.objective,
                 **solve)
print(award)
award.to_frame().to_csv(Path(out_dir) / "award.csv")

# %%
award.shares.mul(100).round(1)

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
award.plot(ax=axes[0])
plot_spend_concentration(award, ax=axes[1])
plt.show()

# %% [markdown]
# ## Which rules shape the award, and what do they cost?
#
# A rule *binds* when the award sits exactly on its limit. The cost of a rule is what the annual
# cost falls by if that rule alone is dropped: the price of, for example, dual sourcing.

# %%
award.binding

# %%
costs = constraint_costs(tender, policy, quality=evaluation, **solve)
ax = plot_rule_costs(costs)
plt.show()
costs

# %% [markdown]
# ## Cost against quality
#
# Each point of the frontier is the cheapest award that reaches a given volume-weighted quality
# (epsilon-constraint method). Moving right buys quality; the slope is its price.

# %%
front = frontier(tender, policy, n_points=frontier_points, quality=evaluation, **solve)
ax = front.plot(chosen=award)
plt.show()
front.to_frame()

# %% [markdown]
# ## What it means
#
# The award table is the cost-optimal split under the scenario's policy, with its solver status
# and optimality gap. The rule costs are the board's levers: each is what that policy choice
# costs per year. **Caveats:** prices are bid prices; realised cost depends on demand, price
# escalation and vendor risk, which the risk simulation notebook quantifies.
