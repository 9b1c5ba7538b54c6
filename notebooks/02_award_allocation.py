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
# # Award allocation: who should run which lot?
#
# **Question.** How do we split the lots between the admitted vendors so that the annual
# cost is lowest, while we keep a backup vendor where the policy asks for one, respect each
# vendor's capacity, use the volume discounts, keep a minimum quality and avoid depending too
# much on one vendor?
#
# **Data.** The tender's bids (unit prices in the tender currency per unit per year,
# capacities, minimum volumes, volume-discount tiers where offered, setup costs), the vendors'
# onboarding costs and risk scores, the incumbent's switching costs, and the quality scores from
# the tender evaluation (0 = worst admitted bidder, 100 = best, price excluded).
#
# **Method.** A mixed-integer linear programme (PuLP, solved by HiGHS): continuous volumes per
# vendor and lot, binary award and engagement decisions, the sourcing policy of the scenario as
# constraints. One-off costs (setup, onboarding, switching) are spread over the contract years.
# Ties between equally cheap awards are broken by a documented second objective.

# %% tags=["parameters"]
scenario_file = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed = None  # int or None, the scenario's seed if None (the allocation is deterministic)
time_limit = None  # float or None, solver time limit in seconds (the scenario's if None)
frontier_points = None  # int or None, points on the cost-vs-quality frontier (the scenario's if None)
run_dir = None  # str or None, the run folder the report passes (computed when None)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from sourcing import narrative as story
from sourcing import present as fmt
from sourcing.pipeline import open_run
from sourcing.plots import plot_rule_costs, plot_spend_concentration

fmt.notes_as_text()

result = open_run(scenario_file, stages=("rule_costs", "frontier"), run_dir=run_dir, seed=seed,
                  **{"allocation.time_limit": time_limit, "allocation.frontier_points": frontier_points})
names, cur = result.names, result.tender.currency
policy = result.scenario.allocation.policy_model()
fmt.show(fmt.html("<p><b>The board's sourcing rules</b></p>"),
         fmt.bullets(story.policy_story(policy, currency=cur, names=names)))

# %% [markdown]
# ## The least-cost award under the board's rules

# %%
award = result.award
fmt.show(fmt.bullets(story.award_story(award, names=names)))
if award.feasible:
    shares = award.shares.loc[award.vendors]
    fmt.show(fmt.table(shares, dict.fromkeys(shares.columns, "percent"), names=names,
                       columns={c: names(c) for c in shares.columns},
                       caption="Share of each lot's annual demand", index_label="Vendor"))
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    award.plot(ax=ax)
    plt.show()
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(award.vendors) + 1.6), layout="constrained")
    plot_spend_concentration(award, ax=ax)
    plt.show()

# %% [markdown]
# ## Which rules shape the award, and what do they cost?
#
# A rule *binds* when the award sits exactly on its limit. The cost of a rule is what the annual
# cost falls by if that rule alone is dropped: the price of, for example, dual sourcing.

# %%
costs = result.rule_costs
if len(costs):
    fmt.show(fmt.bullets(story.rule_cost_lines(costs, currency=cur)))
    if (costs["cost_of_rule"] > 0).any():  # a chart of nothing but zeros says nothing
        ax = plot_rule_costs(costs)
        plt.show()
    fmt.show(fmt.table(costs[["description", "cost_with", "cost_without", "cost_of_rule"]],
                       dict.fromkeys(("cost_with", "cost_without", "cost_of_rule"), "money"),
                       currency=cur, index=False,
                       columns={"description": "Rule", "cost_with": "Annual cost with it",
                                "cost_without": "Without it", "cost_of_rule": "Cost of the rule"}))
else:
    fmt.show(fmt.paragraph("No rule to price: the policy sets none, or no award is feasible."))

# %% [markdown]
# ## Cost against quality
#
# Each point of the frontier is the cheapest award that reaches a given volume-weighted quality
# (epsilon-constraint method). Moving right buys quality; the slope is its price.

# %%
if result.frontier is not None:
    ax = result.frontier.plot(chosen=award)
    plt.show()

# %% [markdown]
# ## What it means
#
# The award is the cost-optimal split under the scenario's policy. The rule costs are the
# board's levers: each is what that policy choice costs per year. **Caveats:** prices are bid
# prices; realised cost depends on demand, price escalation and vendor risk, which the risk
# simulation page quantifies.
