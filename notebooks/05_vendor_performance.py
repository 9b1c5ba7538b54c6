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
# # Incumbent performance: is the current vendor keeping its promises?
#
# **Question.** Does the incumbent meet its service levels (response and resolution times by
# priority, availability, request fulfilment)? What service credits are we owed, are the
# invoices right, and what does its track record tell the tender evaluation and the risk model?
#
# **Data.** The scenario's performance folder: tickets, monthly availability, measured volumes,
# the SLA terms and credit schedule of the current contract, and the invoices.
#
# **Method.** Every ticket's response and resolution time is measured on the contract's clock
# (its business hours and public holidays, or 24x7 where the contract says so), against its
# priority's target. A ticket counts in the month its outcome became certain; tickets still open
# past their target count as breaches. Credits follow the contract's schedule: tiers of
# shortfall, capped per month, waived when earned back.

# %% tags=["parameters"]
scenario_file = "../data/scenarios/baseline.yaml"  # scenario YAML (paths relative to it)
seed = None  # int or None, the scenario's seed if None (this analysis is deterministic)
asof = None  # str or None, evaluation time stamp like "2026-10-31 23:59" (end of data if None)
run_dir = None  # str or None, the run folder the report passes (computed when None)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

from sourcing import narrative as story
from sourcing import present as fmt
from sourcing.pipeline import open_run
from sourcing.plots import plot_availability, plot_compliance, plot_control_chart, plot_credits

fmt.notes_as_text()

result = open_run(scenario_file, stages=("performance",), run_dir=run_dir, seed=seed,
                  performance_asof=asof)
if result.performance is None:  # the report skips this page; a hand run says why
    raise ValueError(f"scenario {scenario_file} names no performance folder (key: performance)")
names, cur, record = result.names, result.tender.currency, result.performance
perf, kpis, credits, audit = record.data, record.kpis, record.credits, record.audit
lots = list(dict.fromkeys(kpis.kpis["lot_id"]))
fmt.show(fmt.bullets(story.performance_story(record, names=names, currency=cur)))

# %% [markdown]
# ## Data quality
#
# Each problem row is listed with what was done with it.

# %%
if len(perf.quality):
    found = perf.quality.groupby(["issue", "action"]).size().rename("tickets").reset_index()
    fmt.show(fmt.table(found, {"tickets": "count"}, index=False,
                       columns={"issue": "Issue", "action": "What was done", "tickets": "Rows"}))
else:
    fmt.show(fmt.paragraph("No data-quality finding."))

# %% [markdown]
# ## Service levels month by month (largest lot)

# %%
lot = lots[0] if lots else None
fig, axes = plt.subplots(2, 2, figsize=(13, 8), layout="constrained")
plot_compliance(kpis, ax=axes[0, 0], kpi="resolution", lot_id=lot, names=names)
plot_compliance(kpis, ax=axes[0, 1], kpi="response", lot_id=lot, names=names)
plot_availability(kpis, ax=axes[1, 0], lot_id=lot, names=names)
plot_control_chart(kpis, ax=axes[1, 1], lot_id=lot, names=names)
plt.show()

# %% [markdown]
# ## Scorecard
#
# A 0-10 performance score per lot that can enter the tender evaluation as the incumbent's
# track record.

# %%
card = record.scorecard
scores = card.lot_scores.assign(vendor_id=lambda t: [names(v) for v in t["vendor_id"]],
                                lot_id=lambda t: [names(v) for v in t["lot_id"]])
fmt.show(fmt.table(scores, {"score": "number"}, index=False,
                   columns={"vendor_id": "Vendor", "lot_id": "Lot", "score": "Score (0-10)",
                            "kpis": "KPIs", "red": "Red", "amber": "Amber", "green": "Green"}))

# %% [markdown]
# ## Service credits owed

# %%
ax = plot_credits(credits, names=names)
plt.show()
owed = credits.monthly[credits.monthly["credit_pct"] > 0]
cols = [c for c in ("vendor_id", "lot_id", "month", "kpis_missed", "credit_pct_gross", "credit_pct",
                    "earn_back", "credit_amount") if c in owed.columns]
fmt.show(fmt.table(owed[cols].assign(vendor_id=[names(v) for v in owed["vendor_id"]],
                                     lot_id=[names(v) for v in owed["lot_id"]]),
                   {"credit_pct_gross": "pct", "credit_pct": "pct", "credit_amount": "money_exact"},
                   currency=cur, index=False,
                   columns={"vendor_id": "Vendor", "lot_id": "Lot", "month": "Month",
                            "kpis_missed": "KPIs missed", "credit_pct_gross": "Credit before cap",
                            "credit_pct": "Credit", "earn_back": "Earned back",
                            "credit_amount": "Credit amount"}))

# %% [markdown]
# ## Invoice audit
#
# Each invoice line against the contract rate card, the measured volumes and the credits owed.

# %%
d = audit.discrepancies
if len(d):
    fmt.show(fmt.table(d[["invoice_id", "lot_id", "month", "issue", "at_stake"]].assign(
        lot_id=[names(v) for v in d["lot_id"]]), {"at_stake": "money_exact"}, currency=cur,
        index=False, columns={"invoice_id": "Invoice", "lot_id": "Lot", "month": "Month",
                              "issue": "Issue", "at_stake": "Amount"}))

# %% [markdown]
# ## Feeding the risk model
#
# The monthly probability of an SLA breach and the average credit when it happens, per lot: the
# risk simulation uses these instead of the tender's generic assumption for the incumbent.

# %%
calibration = record.calibration
fmt.show(fmt.table(calibration.assign(vendor_id=[names(v) for v in calibration["vendor_id"]],
                                      lot_id=[names(v) for v in calibration["lot_id"]]),
                   {"breach_prob": "percent", "credit_pct": "pct"}, index=False,
                   columns={"vendor_id": "Vendor", "lot_id": "Lot",
                            "breach_prob": "Monthly breach probability",
                            "credit_pct": "Average credit when breached"}))

# %% [markdown]
# ## What it means
#
# The scorecard shows whether the incumbent's record supports keeping it; the credit table and
# the invoice audit are money to claim back now. **Caveat:** mean time to resolve is in calendar
# hours, not contract-clock hours.
