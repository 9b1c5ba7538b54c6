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
# # Tender evaluation: which bidder is best, and how sure are we?
#
# **Question.** Eight vendors bid for our IT services. Judged on technical capability, service
# experience, financial stability, references, information security, SLA commitments, service
# continuity, green IT and price, which one serves us best?
#
# **Data.** The tender named in the scenario file: vendors, criteria with their weights and
# knock-out gates, the evaluators' scores, and the bids (see `data/README.md`).
#
# **Method.** Vendors that fail a knock-out gate (for example no ISO 27001 certificate) are
# excluded first. The others are ranked by the scenario's multi-criteria method (TOPSIS by
# default: distance to the ideal and anti-ideal vendor after vector normalisation). We then test
# how robust the ranking is: other methods, the weight range within which the winner stays first,
# and SMAA-2 rank acceptability under uncertain weights.

# %% tags=["parameters"]
scenario_file: str = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed: int = 20261127  # seed of every random number in this notebook
method = None  # str or None: MCDA method override (wsm, topsis, vikor, promethee, ...); None = scenario
smaa_samples = None  # int or None: SMAA weight samples; None = scenario
out_dir: str = "../reports/artefacts"  # where tables and figures are written

# %%
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from IPython.display import display

from sourcing import Scenario, read_tender
from sourcing.scoring import compare_methods, evaluate, smaa, weight_stability
from sourcing.scoring.sensitivity import SMAA_METHODS

scenario = Scenario.load(scenario_file, seed=seed, **{"scoring.method": method,
                                                     "scoring.smaa_samples": smaa_samples})
tender = read_tender(scenario.tender)
Path(out_dir).mkdir(parents=True, exist_ok=True)
pd.set_option("display.precision", 3)
print(tender.summary())

# %% [markdown]
# ## The bidders and the criteria

# %%
tender.vendors[["name", "incumbent", "country", "iso27001", "financial_score"]]

# %%
(tender.criteria[["name", "group", "direction", "weight", "unit", "gate"]]
 .assign(weight_pct=tender.weights.mul(100).round(1)))

# %% [markdown]
# ## Ranking
#
# Scores of the three evaluators are averaged per vendor and criterion; SLA values are the bids'
# commitments; price is the evaluated annual price (EUR/year). The contribution chart shows how
# much of each vendor's score comes from each criterion.

# %%
settings = scenario.scoring
evaluation = evaluate(tender, **settings.evaluate_kwargs)
print(evaluation)
evaluation.to_frame().to_csv(Path(out_dir) / "ranking.csv")

# %%
ax = evaluation.plot()
plt.show()

# %% [markdown]
# ## Is the winner robust?
#
# **Other methods.** If weighted sum, TOPSIS, VIKOR and PROMETHEE II agree, the choice does not
# hinge on the method. Kendall's tau of 1 means identical rankings.

# %%
agreement = compare_methods(evaluation.matrix, evaluation.objectives, evaluation.weights)
display(agreement.to_frame())
agreement.kendall.round(2)

# %% [markdown]
# **Weight stability.** For each criterion, the range its weight can take (others rescaled
# proportionally) while the top-ranked vendor stays first: exact for the weighted sum, by
# bisection for the other methods. Robustness is measured with the ranking's own method where
# it can be sampled (wsm, wpm, topsis, vikor, promethee), else with the weighted sum.

# %%
robust = (settings.method, settings.params) if settings.method in SMAA_METHODS else ("wsm", {})
stability = weight_stability(evaluation.matrix, evaluation.objectives, evaluation.weights,
                             method=robust[0], **robust[1])
ax = stability.plot()
plt.show()
stability.to_frame()

# %% [markdown]
# **SMAA-2.** Weights drawn around the agreed ones: the share of draws in which each vendor
# takes each rank (rank acceptability). A vendor with a high first-rank acceptability wins under
# most reasonable weightings.

# %%
acceptability = smaa(evaluation.matrix, evaluation.objectives, evaluation.weights,
                     method=robust[0], n=settings.smaa_samples, seed=scenario.seed, **robust[1])
ax = acceptability.plot()
plt.show()
acceptability.acceptability.round(3)

# %% [markdown]
# ## What it means
#
# The ranking table above is the recommendation of this method; exclusions carry their reason.
# Where the methods disagree or the first-rank acceptability is split between vendors, the
# decision rests on the weights: the board should confirm the price weight before award.
#
# **Caveats.** Scores are the evaluators' judgments; the quality score is relative to the
# admitted bidders (0 = worst, 100 = best on every non-price criterion); the price is the
# evaluated annual price at base unit prices, before volume discounts.
