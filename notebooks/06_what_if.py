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
# # What-if in the room: move the weights, the policy and the assumptions
#
# **Question.** And if price weighed 40 %? If each lot had at most two vendors? If vendors were
# twice as likely to fail? What changes in the ranking, the award and the recommendation?
#
# **How.** Two what-ifs are set from code first, as one would in a meeting's minutes. Then, run
# in JupyterLab, the explorer shows the second one with a slider for every criterion weight
# (grouped by criterion group, shown as shares of 100 %: moving one rescales the others in
# proportion) and for each group as a whole, the ranking method and the gates, the policy's main
# rules and multipliers on four simulation assumptions. The ranking follows the slider; the award
# and the sourcing options update once the sliders are still. **Save as scenario** writes the
# state as a scenario file that `sourcing report --scenario FILE` renders; **Re-optimise**
# solves the risk-aware award for the state shown (a few seconds).

# %% tags=["parameters"]
scenario_file = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed = None  # int or None, the scenario's seed if None
draws = 10000  # int, simulation draws per option while exploring
price_weight = 0.40  # float, the first what-if: the price criteria's share of the weights
max_vendors_per_lot = 2  # int, the second what-if's policy
failure_factor = 2.0  # float, the second what-if: vendors this many times as likely to fail
save_as = None  # str or None, write the second what-if as a scenario file here
run_dir = None  # str or None, a report's run folder (its stages are read, not computed)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from sourcing import explore
from sourcing import present as fmt

fmt.notes_as_text()

explorer = explore(scenario_file, draws=draws, run_dir=run_dir, seed=seed)
whatif = explorer.whatif

# %% [markdown]
# ## What if price weighed more?

# %%
first = whatif.start.with_group_weight(whatif.price_criteria, price_weight)
fmt.show(fmt.bullets(whatif.story(first)))

# %% [markdown]
# ## And with fewer vendors per lot, and vendors twice as likely to fail?

# %%
second = first.with_policy(max_vendors_per_lot=max_vendors_per_lot).with_multiplier(
    "failure", failure_factor)
whatif.reoptimise(second)  # the risk-aware award solved for these assumptions
fmt.show(fmt.bullets(whatif.story(second)))
if save_as:
    fmt.show(fmt.paragraph(f"Saved as {whatif.save(second, save_as).name}."))

# %% [markdown]
# ## The explorer: move the weights yourself
#
# It opens on the second what-if; every control can be moved from there.

# %%
explorer.set_state(second)  # the sliders stand at it
explorer

# %% [markdown]
# ## Where the first-ranked vendor stays first
#
# Each bar is one criterion's weight, from 0 to 100 %; the band is the range within which the
# vendor ranked first under the second what-if stays first (the other weights rescaled in
# proportion). A narrow band next to the current weight is a decision that hinges on it.

# %%
fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
whatif.stability(second).plot(ax=ax)
plt.show()

# %% [markdown]
# ## The GAIA plane (PROMETHEE scenarios)
#
# Vendors as points, criteria as axes, the weights as the decision stick: the further a vendor
# lies along the stick, the higher its net flow. Shown when the scenario ranks by PROMETHEE.

# %%
plane = whatif.gaia(second)
if plane is not None:
    fig, ax = plt.subplots(figsize=(8, 8), layout="constrained")
    plane.plot(ax=ax, names=whatif.names, criterion_names=whatif.tender.criteria["name"].to_dict())
    plt.show()
else:
    fmt.show(fmt.paragraph(f"The scenario ranks by {second.method.upper()}: switch the method to "
                           "PROMETHEE in the explorer to see the plane."))
