"""Scalar, per-draw reference implementation of the contract model (slow on purpose).

Written from the model description in :mod:`sourcing.simulation.contract` with plain Python
floats and loops over lines and years.  Used by the tests to check the vectorised
:meth:`SourcingScenario.evaluate` and by ``benchmarks/bench_simulation.py`` as the per-draw
Python-loop baseline.  Not public API.
"""

from __future__ import annotations

import math

import numpy as np

from .contract import DRIVERS, INHOUSE, SourcingScenario
from .engine import _event_draws

__all__ = ["evaluate_draw", "simulate_loop"]


def evaluate_draw(s: SourcingScenario, x: dict[str, float], ev: dict[str, object]
                  ) -> tuple[list[float], dict[str, float]]:
    """Cost per year and per driver for one draw (inputs as floats, events per year as lists)."""
    a = s.assumptions
    T = s.years
    per = {d: [0.0] * T for d in DRIVERS}
    fee_by_vendor: dict[str, list[float]] = {}
    one_off = s.exit_cost
    seen = set()
    for line in s.lines.to_dict("records"):
        p, lot = line["provider"], line["lot_id"]
        one_off += line["setup_cost"] + line["switching_cost"]
        if p != INHOUSE and p not in seen:
            seen.add(p)
            one_off += float(s.vendors.at[p, "onboarding_cost"])
        g = x[f"growth[{lot}]"]
        for t in range(T):
            base = line["units"] * line["unit_price"] * (1 + g) ** t
            per["service"][t] += base
            if p == INHOUSE:
                ls = a.inhouse_labour_share
                wage = (1 + x["wage_inflation"]) ** t
                total = base * (ls * wage + (1 - ls) * (1 + x["indexation"]) ** t)
                per["escalation"][t] += total - base
                per["attrition"][t] += x["attrition"] * a.hiring_cost * ls * base * wage
            else:
                fee = base * (1 + min(x["indexation"], a.escalation_cap)) ** t
                per["escalation"][t] += fee - base
                share = float(s.vendors.at[p, "offshore_share"])
                if share > 0:
                    cur = str(s.vendors.at[p, "currency"])
                    cur = "offshore" if cur == s.currency else cur
                    sig = a.fx_sigma(cur) * math.sqrt(t + 1)
                    fx = share * fee * (math.exp(x[f"fx[{cur}]"] * sig - sig * sig / 2) - 1)
                    per["fx"][t] += fx
                    fee += fx
                total = fee
                fee_by_vendor.setdefault(p, [0.0] * T)[t] += fee
                per["governance"][t] += x["governance_share"] * fee
            if line["breach_prob"] > 0:
                k = ev[f"sla[{p},{lot}]"][t]  # type: ignore[index]
                if p != INHOUSE:
                    per["sla_credits"][t] -= k * min(line["credit_pct"], a.sla_credit_cap) * total / 12
                per["business_impact"][t] += k * x["breach_impact"] * line["lot_share"]
    if one_off > 0:
        per["transition"][0] += one_off * x["transition_overrun"]
    lines = s.lines.to_dict("records")
    for v in fee_by_vendor:
        year = ev.get(f"failure[{v}]")
        if year is None or year > T:
            continue
        y = int(year) - 1
        per["vendor_failure"][y] += (float(s.vendors.at[v, "exit_cost"])
                                     + float(s.vendors.at[v, "replacement_onboarding"]))
        for line in lines:
            if line["provider"] != v or line["units"] <= 0:
                continue
            lot = line["lot_id"]
            g = x[f"growth[{lot}]"]
            esc = 1 + min(x["indexation"], a.escalation_cap)
            mult = [(1 + g) ** t * esc ** t for t in range(T)]
            after = sum(mult[y + 1:])
            gy = (1 + g) ** y
            sw = line["switch_per_unit"]
            # options: (cost per unit, switching per unit, price per unit-year, spare capacity)
            options = [(gy * a.warm_switch_share * sw + after * o["list_price"], a.warm_switch_share * sw,
                        o["list_price"], max(o["capacity"] - o["units"], 0.0))
                       for o in lines if o["lot_id"] == lot and o["provider"] not in (v, INHOUSE)]
            p_cold = (1 + a.failure_premium) * line["list_price"]
            options.append((gy * sw + after * p_cold, sw, p_cold, math.inf))
            left = line["units"]
            yearly = -line["units"] * line["unit_price"]
            for _, o_sw, o_price, spare in sorted(options, key=lambda o: o[0]):
                take = min(left, spare)
                left -= take
                yearly += take * o_price
                per["vendor_failure"][y] += take * o_sw * gy
            for t in range(y + 1, T):
                per["vendor_failure"][t] += yearly * mult[t]
    for p in s.providers:
        loss = ev.get(f"security[{p}]")
        if loss is None:
            continue
        expo = float(s.lines.loc[s.lines["provider"] == p, "exposure"].sum())
        for t in range(T):
            per["security"][t] += expo * loss[t]  # type: ignore[index]
    for k in s.extra_costs:
        v = ev.get(f"extra[{k}]")
        for t in range(T):
            per["other"][t] += v[t] if v is not None else x[f"extra[{k}]"]  # type: ignore[index]
    cash = [sum(per[d][t] for d in DRIVERS) for t in range(T)]
    return cash, {d: sum(v) for d, v in per.items()}


def simulate_loop(s: SourcingScenario, n: int, seed: int = 0) -> np.ndarray:
    """Total cost of *n* draws computed one draw at a time (the Python-loop baseline)."""
    rng = np.random.default_rng(seed)
    inputs, events = s.inputs(), s.events()
    out = np.empty(n)
    for i in range(n):
        x = {k: float(d.ppf(np.array([rng.random()]))[0]) for k, d in inputs.items()}
        ev = {}
        for k, spec in events.items():
            draw = _event_draws(spec, 1, s.years, rng)
            ev[k] = float(draw[0]) if spec[0] == "failure" else [float(v) for v in draw[0]]
        cash, _ = evaluate_draw(s, x, ev)
        out[i] = sum(cash)
    return out
