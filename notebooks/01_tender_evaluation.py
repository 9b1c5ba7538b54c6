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
# # Tender evaluation: which bidder is best, and how sure are we?
#
# **Question.** Judged on the tender's criteria (technical capability, service experience,
# financial stability, references, information security, SLA commitments, price and whatever
# else the tender weighs), which bidder serves us best?
#
# **Data.** The tender named in the scenario file: vendors, criteria with their weights and
# knock-out gates, the evaluators' scores, and the bids (see `data/README.md`).
#
# **Method.** Vendors that fail a knock-out gate (for example no ISO 27001 certificate) are
# excluded first. The others are ranked by the scenario's multi-criteria method. We then test
# how robust the ranking is: other methods, the weight range within which the winner stays first,
# and SMAA-2 rank acceptability under uncertain weights.

# %% tags=["parameters"]
scenario_file = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed = None  # int or None, the scenario's seed if None
method = None  # str or None, MCDA method override (wsm, topsis, vikor, promethee, ...)
smaa_samples = None  # int or None, SMAA weight samples (the scenario's if None)
run_dir = None  # str or None, the run folder the report passes (computed when None)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from sourcing import narrative as story
from sourcing import present as fmt
from sourcing.pipeline import open_run
from sourcing.plots import plot_acceptability, plot_weight_stability

fmt.notes_as_text()

result = open_run(scenario_file, stages=("acceptability", "sensitivity"), run_dir=run_dir, seed=seed,
                  **{"scoring.method": method, "scoring.smaa_samples": smaa_samples})
tender, names, settings = result.tender, result.names, result.scenario.scoring
fmt.show(fmt.paragraph(story.tender_story(tender)))

# %% [markdown]
# ## The bidders and the criteria

# %%
vendors = tender.vendors[["name", "incumbent", "country", "iso27001", "financial_score"]]
fmt.show(fmt.table(vendors, {"financial_score": "number"},
                   columns={"name": "Vendor", "incumbent": "Incumbent", "country": "Country",
                            "iso27001": "ISO 27001", "financial_score": "Financial score (0-100)"}))
criteria = tender.criteria[["name", "group", "direction", "unit", "gate"]].assign(
    weight=tender.weights, gate=lambda c: c["gate"].map(story.gate_words),
    direction=lambda c: c["direction"].map({"max": "higher is better", "min": "lower is better"}))
fmt.show(fmt.table(criteria, {"weight": "percent"},
                   columns={"name": "Criterion", "group": "Group", "direction": "Direction",
                            "unit": "Unit", "gate": "Knock-out gate", "weight": "Weight"}))

# %% [markdown]
# ## Ranking
#
# Evaluators' scores are combined per vendor and criterion as the tender's settings say; SLA
# values are the bids' commitments; price is the evaluated annual price in the tender currency.
# The contribution chart shows how much of each vendor's score comes from each criterion.

# %%
evaluation, acceptability = result.evaluation, result.acceptability
fmt.show(fmt.bullets(story.ranking_story(evaluation, acceptability, method=settings.method)))
fmt.show(fmt.table(evaluation.to_frame(), {"score": "number", "quality": "number"},
                   columns={"name": "Vendor", "score": "Score", "rank": "Rank",
                            "quality": "Quality (0-100)", "reason": "Excluded because"}))
ax = evaluation.plot()
plt.show()

# %% [markdown]
# ## Is the winner robust?
#
# **Other methods.** Each method trades price against quality in its own way; Kendall's tau of
# 1 between two methods means identical rankings.

# %%
agreement = result.sensitivity.agreement
fmt.show(fmt.paragraph(story.methods_story(agreement, names=evaluation.names)))
ranks = agreement.to_frame()
ranks.columns = [story.method_name(c, title=True) for c in ranks.columns]
fmt.show(fmt.table(ranks, names=names, columns={c: c for c in ranks.columns}, index_label="Vendor",
                   caption="Rank by each method (1 = best)"))

# %% [markdown]
# **Weight stability.** For each criterion, the range its weight can take (others rescaled
# proportionally) while the top-ranked vendor stays first: exact for the weighted sum, by
# bisection for the other methods, measured with the ranking's own method where it can be
# sampled (else with the weighted sum).

# %%
ax = plot_weight_stability(result.sensitivity.stability, names=names)
plt.show()

# %% [markdown]
# **SMAA-2.** Weights drawn around the agreed ones: the share of draws in which each vendor
# takes each rank (rank acceptability). A vendor with a high first-rank acceptability wins under
# most reasonable weightings.

# %%
ax = plot_acceptability(acceptability, names=names)
plt.show()
acc = acceptability.acceptability
fmt.show(fmt.table(acc, dict.fromkeys(acc.columns, "percent"), names=names, index_label="Vendor",
                   columns={c: f"Rank {c}" for c in acc.columns}))

# %% [markdown]
# ## What it means
#
# Where the methods disagree or the first-rank acceptability is split between vendors, the
# decision rests on the weights: the board should confirm the price weight before award.
#
# **Caveats.** Scores are the evaluators' judgments; the quality score is relative to the
# admitted bidders (0 = worst, 100 = best on every non-price criterion); the price is the
# evaluated annual price at base unit prices, before volume discounts.
