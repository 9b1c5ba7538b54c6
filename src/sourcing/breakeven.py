"""Break-even values: how far one input may move before the recommended option changes.

:func:`break_even` moves one input of a :class:`~sourcing.whatif.WhatIf` state, the others held
at the state's values, and finds where the recommendation of :mod:`sourcing.decision` changes:
a scan of the range outward from the baseline on each side, then bisection between the last
point that keeps the recommendation and the first that changes it.  The recommendation changes
when another option is recommended or when the recommended one no longer meets the risk appetite
(``decision.max_p_over_budget``).  Every point is the same
pipeline (:meth:`WhatIf.outcome`) with the same seed, so the simulations share their random
numbers and the value found is the input's, not Monte Carlo noise.  The risk-aware award is the
one solved for the state's scenario (not re-optimised at each point).

Inputs, by key:

* ``weight.<criterion>``: the criterion's share of the weights (0..1; the others rescale in
  proportion); ``scoring.weights.<criterion>`` is the same;
* ``multiplier.<name>``: a factor on an assumption (:data:`sourcing.whatif.MULTIPLIERS`:
  ``failure``, ``escalation``, ``fx_vol``, ``breach_impact``);
* ``policy.<rule>`` or ``allocation.policy.<rule>``: a numeric policy rule (percent as percent,
  counts of vendors as whole numbers, money in the tender currency per year);
* ``simulation.budget`` (tender currency over the contract) and any numeric
  ``simulation.assumptions.<name>`` (its own unit);
* a tender cell, ``<table>.<row id>.<column>`` (or ``tender_cells.<table>...``: ``risk.V03.
  failure_prob``, ``lots.L1.annual_demand``) and ``bids.<vendor>.<lot>.<column>``
  (``bids.V02.L1.unit_price``), in the column's unit (``data/README.md``), set through the
  scenario's ``tender_cells``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import present as fmt
from .tender import CELL_TABLES
from .whatif import MULTIPLIERS, State, WhatIf

__all__ = ["NO_OPTION_WITHIN_APPETITE", "BreakEven", "break_even", "break_even_story", "key_inputs"]

#: The recommendation when no option keeps the policy within the risk appetite.
NO_OPTION_WITHIN_APPETITE = "no option within the risk appetite"

_COUNT_RULES = ("min_vendors_per_lot", "max_vendors_per_lot", "max_vendors_total",
                "max_lots_per_vendor")


@dataclass(frozen=True)
class BreakEven:
    """Where the recommendation changes as one input moves.

    Attributes
    ----------
    key : str
        The input, as given.
    label : str
        Its name for a reader.
    unit : str
        ``share`` (of the weights), ``factor``, ``percent``, ``fraction``, ``count``, ``money``,
        ``unit price`` (tender currency per unit of demand) or ``number``.
    baseline : float
        The input's value in the state.
    low, high : float
        The range searched.
    recommended : str or None
        The option recommended at the baseline (:data:`NO_OPTION_WITHIN_APPETITE` when none
        meets the risk appetite; None when the analysis has no result there).
    below, above : float or None
        The nearest values below and above the baseline at which another option is recommended
        (None: none in range on that side); for a continuous input, the boundary to within
        *tol*; for a count, the first whole number that changes it.
    below_option, above_option : str or None
        What is recommended there (an option, or :data:`NO_OPTION_WITHIN_APPETITE`).
    evaluations : int
        Pipeline evaluations made.
    """

    key: str
    label: str
    unit: str
    baseline: float
    low: float
    high: float
    recommended: str | None
    below: float | None
    above: float | None
    below_option: str | None
    above_option: str | None
    evaluations: int


def _input(whatif: WhatIf, key: str, state: State) -> tuple[str, str, float, Any, tuple[float, float]]:
    """(label, unit, baseline, setter(value) -> State, default range) of *key*."""
    tender, crit = whatif.tender, whatif.tender.criteria
    head, _, name = key.rpartition(".")
    if head in ("weight", "scoring.weights"):
        if name not in state.weights:
            raise ValueError(f"unknown criterion {name!r} in {key!r}; valid: {', '.join(state.weights)}")
        return (f"the weight of {crit.at[name, 'name']}", "share", float(state.weights[name]),
                lambda v: state.with_weight(name, v), (0.0, 1.0))
    if head == "multiplier":
        if name not in MULTIPLIERS:
            raise ValueError(f"unknown multiplier {name!r}; valid: {', '.join(MULTIPLIERS)}")
        return (MULTIPLIERS[name][0].lower(), "factor",
                float(state.multipliers.get(name, 1.0)), lambda v: state.with_multiplier(name, v),
                (0.0, 4.0))
    if head in ("policy", "allocation.policy"):
        from .allocation import Policy

        field = Policy.model_fields.get(name)
        if field is None:
            raise ValueError(f"unknown policy rule {name!r}; valid: {', '.join(Policy.model_fields)}")
        value = state.policy.get(name)
        if name in _COUNT_RULES:
            n = len(tender.vendor_ids) if name != "max_lots_per_vendor" else len(tender.lot_ids)
            base = float(value) if value is not None else (1.0 if name.startswith("min") else n)
            return (fmt.label(name).lower(), "count", base,
                    lambda v: state.with_policy(**{name: int(round(v))}), (1.0, float(n)))
        if name.endswith("_pct") or name == "quality_floor":
            base = float(value) if value is not None else (0.0 if "min" in name or name == "quality_floor"
                                                           else 100.0)
            return (fmt.label(name).lower(), "percent", base,
                    lambda v: state.with_policy(**{name: float(v)}), (0.0, 100.0))
        if name in ("budget", "risk_cap"):
            if value is None:
                raise ValueError(f"the policy sets no {name}: give a range and a value to start from "
                                 f"(allocation.policy.{name} in the scenario)")
            return (fmt.label(name).lower(), "money" if name == "budget" else "number", float(value),
                    lambda v: state.with_policy(**{name: float(v)}), (0.5 * float(value), 2.0 * float(value)))
        raise ValueError(f"policy rule {name!r} is not a number; numeric rules: "
                         + ", ".join(r for r in Policy.model_fields if r.endswith(("_pct", "_lot", "_total",
                                                                                  "_vendor", "floor"))))
    if key == "simulation.budget" or head == "simulation.assumptions":
        sc = whatif.scenario
        if key == "simulation.budget":
            value = state.overrides.get(key, sc.simulation.budget)
            if value is None:
                raise ValueError("the scenario sets no budget (simulation.budget)")
            label, unit = "the budget", "money"
        else:
            from .simulation import Assumptions

            base = Assumptions.for_tender(tender, sc.simulation.assumptions)
            value = state.overrides.get(key, getattr(base, name, None))
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"{key} is not a single number (a distribution or unknown); use "
                                 f"a multiplier (multiplier.{', multiplier.'.join(MULTIPLIERS)})")
            from .simulation.assumptions import ASSUMPTION_INFO

            label, unit = ASSUMPTION_INFO.get(name, (name, "number"))
            label, unit = label[:1].lower() + label[1:], {"fraction": "fraction"}.get(unit, unit)
        value = float(value)
        hi = 2.0 * value if value > 0 else 1.0
        if unit == "fraction":
            hi = min(1.0, max(hi, 0.1))
        return (label, unit, value, lambda v: state.with_overrides(**{key: float(v)}),
                (0.5 * value if unit == "money" else 0.0, hi))
    if key.split(".", 1)[0] in ("tender_cells", *CELL_TABLES):
        return _cell_input(whatif, key, state)
    raise ValueError(f"unknown input {key!r}; valid forms: weight.<criterion>, multiplier.<"
                     f"{'|'.join(MULTIPLIERS)}>, policy.<rule>, simulation.budget, "
                     "simulation.assumptions.<name>, <table>.<row>.<column> (a tender cell; "
                     f"tables {', '.join(CELL_TABLES)}; bids.<vendor>.<lot>.<column>)")


#: Names of the tender columns a break-even is most often asked of (others: the column's words).
_CELL_LABELS = {"failure_prob": "failure probability", "sla_breach_prob": "SLA breach probability",
                "incident_rate": "security incident rate", "annual_demand": "annual demand",
                "inhouse_unit_cost": "in-house unit cost", "demand_growth_pct": "demand growth"}
#: Tender columns that are a price per unit of demand (shown to the cent).
_UNIT_PRICES = ("unit_price", "inhouse_unit_cost", "switching_cost_per_unit")


def _cell_input(whatif: WhatIf, key: str, state: State) -> tuple[str, str, float, Any, tuple[float, float]]:
    """:func:`_input` of a tender cell ``[tender_cells.]<table>.<row>[.<lot>].<column>``."""
    from .schemas import TABLES

    parts = key.split(".")
    parts = parts[1:] if parts[0] == "tender_cells" else parts
    table, *row, column = parts
    if len(row) != (2 if table == "bids" else 1):
        form = "bids.<vendor>.<lot>.<column>" if table == "bids" else f"{table}.<row id>.<column>"
        raise ValueError(f"a tender cell of {table} is {form}, not {key!r}")
    full = ".".join(["tender_cells", table, *row, column])
    value = state.overrides.get(full)
    if value is None:  # the cell as the tender (with the scenario's own cells) has it
        value = whatif.tender.cell(table, tuple(row), column)
    spec = TABLES[table].column(column)
    if spec.kind not in ("float", "int"):
        raise ValueError(f"{table}.{column} is not a number; numeric columns: " + ", ".join(
            c.name for c in TABLES[table].columns if c.kind in ("float", "int")))
    names = whatif.names
    words = _CELL_LABELS.get(column, fmt.label(column).lower())
    label = (f"the {words} of {names(row[0])} for {names(row[1])}" if table == "bids"
             else f"the {words} of {names(row[0])}")
    value = float(value)
    if column in _UNIT_PRICES:
        unit = "unit price"
    elif column.endswith("_pct"):
        unit = "percent"
    elif spec.le == 1:
        unit = "fraction"
    elif "cost" in column:
        unit = "money"
    else:
        unit = "number"
    hi = 2.0 * value if value > 0 else 1.0
    if unit == "fraction":
        hi = min(1.0, max(hi, 0.1))
    elif unit == "percent" and spec.le is not None:
        hi = min(float(spec.le), max(hi, 10.0))
    lo = 0.0 if unit in ("fraction", "percent") and spec.ge is not None else 0.5 * value
    return (label, unit, value, lambda v: state.with_overrides(**{full: float(v)}), (lo, hi))


def break_even(whatif: WhatIf, key: str, *, low: float | None = None, high: float | None = None,
               state: State | None = None, steps: int = 8, tol: float | None = None) -> BreakEven:
    """The values of input *key* nearest the baseline at which the recommendation changes.

    Parameters
    ----------
    whatif : WhatIf
    key : str
        The input (see the module notes).
    low, high : float, optional
        The range to search, in the input's unit (default: the whole weight, a factor 0 to 4,
        0-100 % for a percent rule, 1 to the number of vendors for a count, half to twice the
        baseline for money).
    state : State, optional
        The other inputs' values (default the scenario's, ``whatif.start``).
    steps : int
        Scan points on each side of the baseline before bisection.
    tol : float, optional
        Width to which a continuous boundary is bisected (default 1/1000 of the range).

    Returns
    -------
    BreakEven
    """
    state = state or whatif.start
    label, unit, base, at, (lo0, hi0) = _input(whatif, key, state)
    lo = lo0 if low is None else float(low)
    hi = hi0 if high is None else float(high)
    if not lo <= base <= hi:
        raise ValueError(f"the range [{lo}, {hi}] of {key} must hold its baseline {base}")
    if steps < 1:
        raise ValueError("steps must be at least 1")
    tol = (hi - lo) / 1000.0 if tol is None else float(tol)
    count = 0
    seen: dict[float, str | None] = {}

    def recommended(v: float) -> str | None:
        """The recommendation at *v*: the option, or that none meets the risk appetite."""
        nonlocal count
        v = float(round(v) if unit == "count" else v)
        if v not in seen:
            count += 1
            try:
                d = whatif.outcome(at(v)).decision
            except ValueError:  # no feasible analysis there (a rule no award can keep, ...)
                seen[v] = None
            else:
                seen[v] = d.recommended if d.meets_appetite else NO_OPTION_WITHIN_APPETITE
        return seen[v]

    rec = recommended(base)
    sides = []
    for end in (lo, hi):
        if end == base:
            sides.append((None, None))
            continue
        if unit == "count":
            step = 1 if end > base else -1
            found = next(((float(v), recommended(v)) for v in range(int(base) + step, int(end) + step, step)
                          if recommended(v) != rec), (None, None))
            sides.append(found)
            continue
        good, bad = base, None
        for k in range(1, steps + 1):
            v = base + (end - base) * k / steps
            if recommended(v) != rec:
                bad = v
                break
            good = v
        if bad is None:
            sides.append((None, None))
            continue
        while abs(bad - good) > tol:
            mid = 0.5 * (good + bad)
            if recommended(mid) == rec:
                good = mid
            else:
                bad = mid
        sides.append((0.5 * (good + bad), recommended(bad)))
    (below, below_opt), (above, above_opt) = sides
    return BreakEven(key, label, unit, base, lo, hi, rec, below, above, below_opt, above_opt, count)


#: The multiplier that moves each kind of simulation input (the name before ``[``).
_MULTIPLIER_OF = {"indexation": "escalation", "wage_inflation": "escalation", "fx": "fx_vol",
                  "failure": "failure", "breach_impact": "breach_impact", "sla": "breach_impact",
                  "security": "security"}


def key_inputs(drivers: Any, weights: Any, *, n_inputs: int = 2, n_weights: int = 2) -> list[str]:
    """The inputs the board's break-even lines are about: the multipliers of the *n_inputs*
    strongest drivers of the choice that have one (total Sobol index of the cost difference,
    :class:`~sourcing.pipeline.Drivers`; None: no drivers), then the *n_weights* heaviest
    criteria of *weights* (a mapping criterion -> share), as :func:`break_even` keys."""
    keys: list[str] = []
    if drivers is not None:
        for factor in drivers.sobol.of(drivers.difference).index:
            kinds = {_MULTIPLIER_OF.get(part.strip().split("[", 1)[0]) for part in str(factor).split(" + ")}
            for m in sorted(k for k in kinds if k is not None):
                if f"multiplier.{m}" not in keys and len(keys) < n_inputs:
                    keys.append(f"multiplier.{m}")
            if len(keys) >= n_inputs:
                break
    heavy = sorted(weights.items(), key=lambda kv: (-float(kv[1]), str(kv[0])))[:n_weights]
    return keys + [f"weight.{c}" for c, _ in heavy]


def _value(x: float, unit: str, currency: str) -> str:
    if unit == "share":
        return fmt.percent(x, decimals=1)
    if unit == "percent":
        return fmt.percent(x, of=100, decimals=1)
    if unit == "fraction":
        return fmt.percent(x, decimals=2)
    if unit == "money":
        return fmt.money(x, currency)
    if unit == "unit price":
        from .narrative import unit_price

        return unit_price(x, currency)
    if unit == "count":
        return fmt.number(x)
    if unit == "factor":
        return f"{fmt.number(x, decimals=2)} times the assumed level"
    return fmt.number(x, decimals=2)


def break_even_story(result: BreakEven, *, currency: str) -> str:
    """One sentence: the range of the input within which the recommendation holds, and what is
    recommended beyond it (or that it holds over the whole range searched)."""
    def v(x: float) -> str:
        return _value(x, result.unit, currency)

    rec = result.recommended or "no option"
    base = ("(baseline: as assumed)" if result.unit == "factor" and result.baseline == 1.0
            else f"(baseline {v(result.baseline)})")
    lo, hi = result.below, result.above
    if lo is None and hi is None and result.unit == "factor":
        return (f"{rec} stays recommended for {result.label} anywhere from "
                f"{fmt.number(result.low, decimals=2)} to {v(result.high)}: no break-even in range.")
    if lo is None and hi is None:
        return (f"{rec} stays recommended for every value of {result.label} from {v(result.low)} "
                f"to {v(result.high)} {base}: no break-even in range.")
    if lo is not None and hi is not None:
        return (f"{rec} stays recommended while {result.label} stays between {v(lo)} and {v(hi)} "
                f"{base}; below, {result.below_option or 'no option'} is recommended, above, "
                f"{result.above_option or 'no option'}.")
    if hi is not None:
        return (f"{rec} stays recommended while {result.label} stays below {v(hi)} {base}; above, "
                f"{result.above_option or 'no option'} is recommended.")
    return (f"{rec} stays recommended while {result.label} stays above {v(lo)} {base}; below, "
            f"{result.below_option or 'no option'} is recommended.")
