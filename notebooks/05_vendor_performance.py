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
# # Incumbent performance: is the current vendor keeping its promises?
#
# **Question.** Does the incumbent meet its service levels (response and resolution times by
# priority, availability, request fulfilment)? What service credits are we owed, are the
# invoices right, and what does its track record tell the tender evaluation and the risk model?
#
# **Data.** The scenario's performance folder: 24 months of tickets, monthly availability,
# measured volumes, the SLA terms and credit schedule of the current contract, and the invoices.
#
# **Method.** Every ticket's response and resolution time is measured on the contract's clock
# (business hours Monday to Friday 08:00-18:00 Stockholm time, public holidays excluded, or 24x7
# for priority 1), against its priority's target. A ticket counts in the month its outcome became
# certain; tickets still open past their target count as breaches. Credits follow the contract's
# schedule: tiers of shortfall, capped per month, waived when earned back.

# %% tags=["parameters"]
scenario_file: str = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed: int = 20261127  # seed (this analysis is deterministic)
asof = None  # str or None: evaluation time stamp, e.g. "2026-10-31 23:59"; None = end of data
out_dir: str = "../reports/artefacts"  # where tables and figures are written

# %%
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sourcing import Scenario, read_tender
from sourcing.performance import (
    audit_invoices,
    calibrate,
    monthly_kpis,
    read_performance,
    scorecard,
    service_credits,
)
from sourcing.plots import plot_availability, plot_compliance, plot_control_chart, plot_credits

scenario = Scenario.load(scenario_file, seed=seed)
if scenario.performance is None:
    raise ValueError(f"scenario {scenario_file} names no performance folder (key: performance)")
tender = read_tender(scenario.tender)
perf = read_performance(scenario.performance)
Path(out_dir).mkdir(parents=True, exist_ok=True)
pd.set_option("display.precision", 2)
print(perf.summary())

# %% [markdown]
# ## Data quality
#
# No ticket is dropped silently: each problem row is listed with what was done with it.

# %%
perf.quality

# %% [markdown]
# ## Service levels month by month

# %%
kpis = monthly_kpis(perf, asof=asof)
fig, axes = plt.subplots(2, 2, figsize=(13, 8), layout="constrained")
plot_compliance(kpis, ax=axes[0, 0], kpi="resolution", lot_id="L1")
plot_compliance(kpis, ax=axes[0, 1], kpi="response", lot_id="L1")
plot_availability(kpis, ax=axes[1, 0], lot_id="L1")
plot_control_chart(kpis, ax=axes[1, 1], lot_id="L1")
plt.show()

# %% [markdown]
# ## Scorecard
#
# Each KPI against its target over the last 3, 6 and 12 months, red/amber/green, and a 0-10
# performance score per lot that can enter the tender evaluation as the incumbent's track record.

# %%
card = scorecard(kpis)
card.to_frame()

# %% [markdown]
# ## Service credits owed

# %%
credits = service_credits(kpis, rates=tender)
ax = plot_credits(credits)
plt.show()
owed = credits.monthly[credits.monthly["credit_pct"] > 0]
owed

# %% [markdown]
# ## Invoice audit
#
# Each invoice line against the contract rate card, the measured volumes and the credits owed.

# %%
audit = audit_invoices(perf, tender, credits=credits)
audit.discrepancies.to_csv(Path(out_dir) / "invoice_discrepancies.csv", index=False)
print(f"{len(audit.discrepancies)} discrepancies, {tender.currency} {audit.total_eur:,.2f} to recover")
audit.discrepancies

# %% [markdown]
# ## Feeding the risk model
#
# The monthly probability of an SLA breach and the average credit when it happens, per lot: the
# risk simulation uses these instead of the tender's generic assumption for the incumbent.

# %%
calibration = calibrate(credits)
calibration.to_csv(Path(out_dir) / "sla_calibration.csv", index=False)
calibration

# %% [markdown]
# ## What it means
#
# The scorecard shows whether the incumbent's record supports keeping it; the credit table and
# the invoice audit are money to claim back now. **Caveats:** the sample volumes are scaled
# down; mean time to resolve is in calendar hours, not contract-clock hours.
