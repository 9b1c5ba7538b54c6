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
# # Decision map: where does the recommendation flip?
#
# **Question.** The board's recommendation rests on inputs nobody knows exactly: a bidder's
# failure probability, a unit price still under negotiation, wage inflation. Over which values of
# those inputs does the recommended option stay the same, and where does it flip?
#
# **How.** A sweep file names a base scenario and the inputs to move (a grid of values, a list of
# points, or a Latin-hypercube or Sobol sample of ranges). Every point is one scenario run through
# the same pipeline as the board report, each stage re-run only when the point changes what it
# reads. By default every point uses the same random numbers, so a flip is the inputs' doing, not
# simulation noise. `sourcing sweep FILE` runs a sweep on a local Dask cluster and keeps every
# point as it completes; this page presents its results (or runs a small sweep itself).

# %% tags=["parameters"]
sweep_file = "../data/sweeps/smallco-desk-price.yaml"  # sweep YAML (paths relative to it)
scenario_file = None  # str or None, a scenario naming a sweep (key sweep): that sweep is shown
seed = None  # int or None, the sweep's seed if None
workers = 0  # int, Dask worker processes (0: run the points in this kernel)
sweep_dir = None  # str or None, a sweep's output folder (sourcing sweep --out DIR)
run_dir = None  # str or None, a report's run folder: the sweep runs into its folder sweep

# %%
# %matplotlib inline
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from sourcing import Scenario
from sourcing import present as fmt
from sourcing.sweep import Sweep, run_sweep

fmt.notes_as_text()

if scenario_file is not None:  # a report page: the sweep the scenario names
    sweep_file = str(Scenario.load(scenario_file).sweep)
sweep = Sweep.load(sweep_file, seed=seed)
out = sweep_dir or (Path(run_dir) / "sweep" if run_dir else tempfile.mkdtemp(prefix="sweep-"))
result = run_sweep(sweep, out=out, workers=workers, resume=True)
fmt.show(fmt.bullets(result.story()))

# %% [markdown]
# ## The decision map
#
# The colour is the option recommended at each point. With two swept inputs, the black line is
# where the recommendation flips and the star is the scenario as it stands; with one, each
# option's cost is drawn along the input, the recommended one shaded, and the dashed line marks
# the flip.

# %%
fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
result.plot("map", ax=ax)
plt.show()

# %% [markdown]
# ## How often each option is recommended, and what moves its cost

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
result.plot("share", ax=axes[0])
result.plot("tornado", ax=axes[1])
plt.show()

# %% [markdown]
# ## Every point
#
# The decision table (one row per point and option, with P50, P90, CVaR95 and the risk of
# exceeding the budget) is the workbook `decision_map.xlsx` (and `decision_table.csv`): in a
# report, among its files; after `sourcing sweep`, in the sweep's output folder.

# %%
fmt.show(fmt.table(result.points_table(), index_label="point"))
