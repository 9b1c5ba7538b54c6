"""The three cost models on one tender, side by side: what each charges for the same contract.

For the least-cost award and the risk-aware award of a tender (default policy, 400 risk
scenarios, CVaR weight 1) it prints

* the award's lines (fees a year, setup, onboarding, switching) against the simulation's lines
  for the same award with every uncertainty switched off;
* the risk-aware award's expected cost against the simulation's mean of the lines both count
  (fees with growth and indexation, failure recourse, one-off costs; 20,000 draws), with the
  standard error, and the lines the simulation adds on top.

Run: ``python benchmarks/cost_models.py TENDER [TENDER ...]`` (folders or workbooks).
"""

from __future__ import annotations

import sys

import numpy as np

from sourcing import present as fmt
from sourcing.allocation import Policy, allocate, allocate_risk
from sourcing.cost_lines import left_out
from sourcing.io import read_tender
from sourcing.simulation import (
    DRIVERS,
    Assumptions,
    constant,
    contract_cost,
    multi_vendor,
    risk_scenarios,
    simulate,
)


def main(path: str) -> None:
    tender = read_tender(path)
    cur = tender.currency
    money = lambda v: fmt.money(v, cur, exact=True)  # noqa: E731
    award = allocate(tender, Policy())
    still = Assumptions.for_tender(tender).with_(indexation=constant(0.0), growth_spread=0.0,
                                                 transition_overrun=constant(1.0))
    option = multi_vendor(tender, award, assumptions=still)
    x = {k: np.zeros(1) for k in option.inputs()}
    x["transition_overrun"] = np.ones(1)
    ev = {k: (np.full(1, np.inf) if kind == "failure" else np.zeros((1, option.years)))
          for k, (kind, _) in option.events().items()}
    _, drivers = option.evaluate(x, ev, 1)
    fees = drivers[0, DRIVERS.index("service")] / option.years
    print(f"\n{tender.name} ({path}), {cur}, {len(tender.vendor_ids)} vendors, {len(tender.lot_ids)} lots, "
          f"{option.years} years")
    print("  least-cost award, line by line       award            simulation (uncertainty off)")
    rows = [("fees a year", award.cost["unit_cost"], fees),
            ("setup", award.one_off["setup"], option.lines["setup_cost"].sum()),
            ("onboarding", award.one_off["onboarding"], option.vendors["onboarding_cost"].sum()),
            ("switching", award.one_off["switching"], option.lines["switching_cost"].sum()),
            ("incumbent exit", float("nan"), option.exit_cost)]
    for name, a, s in rows:
        print(f"    {name:<32} {money(a) if np.isfinite(a) else 'not counted':>16} {money(s):>20}")
    rs = risk_scenarios(tender, n=400, seed=1)
    risk = allocate_risk(tender, Policy(), rs, lam=1.0)
    res = simulate(multi_vendor(tender, risk), n=20_000, seed=2)
    shared = contract_cost(res, one_off=risk.one_off)
    se = np.hypot(risk.costs.std(ddof=1) / np.sqrt(rs.n), shared.std(ddof=1) / np.sqrt(shared.size))
    total = res.values()[0]
    print(f"  risk-aware award: expected {money(risk.expected)} (400 scenarios) against the simulation's "
          f"{money(shared.mean())} on the same lines, difference {money(shared.mean() - risk.expected)} "
          f"= {abs(shared.mean() - risk.expected) / se:.1f} standard errors")
    print(f"    the simulation's mean of every line: {money(float(np.mean(total)))} "
          f"(adds {left_out('risk_award')})")


if __name__ == "__main__":
    for p in sys.argv[1:] or ["data/sample-tender", "data/sample-smallco"]:
        main(p)
