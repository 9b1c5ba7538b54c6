"""The outsourcing contract model: one sourcing option's cost drivers over the contract horizon.

A :class:`SourcingScenario` describes *who* serves each lot (``lines``: lot, provider, units,
unit price...) and the risk profile of every vendor involved (``vendors``), plus the explicit
:class:`Assumptions` (all defaults documented, with units, and overridable).  Factories build the
standard options from a :class:`~sourcing.Tender`: :func:`inhouse`, :func:`single_vendor`,
:func:`multi_vendor` (from an allocation ``Award`` or, without one, a split of each lot between
its two cheapest admissible bids), :func:`hybrid` and :func:`standard_scenarios`.

Cost model, per draw and contract year ``t = 1..T`` (tender currency, cash at the end of each year)
-----------------------------------------------------------------------------------------
``service``
    units x unit price x demand growth ``(1 + g_lot)^(t-1)``; ``g_lot ~ PERT(g - s, g, g + s)``
    around ``lots.demand_growth_pct`` with spread ``s = growth_spread``.  For in-house lines the
    unit price is ``lots.inhouse_unit_cost``.
``escalation``
    vendor fees indexed by ``(1 + min(i, escalation_cap))^(t-1)``, ``i ~ indexation`` (one rate per
    draw, persistent over the horizon); in-house: labour share by ``wage_inflation``, the rest by
    ``i`` (no contractual cap in-house).
``fx``
    the offshore share (``vendors.offshore_share_pct``) of a vendor's fee moves with the
    vendor's currency (or an "offshore" basket for vendors billing in the tender currency):
    ``exp(sigma sqrt(t) Z - sigma^2 t / 2) - 1`` with one standard-normal ``Z`` per currency and
    draw, ``sigma = fx_vol`` per year (mean-preserving).
``transition``
    year 1: (bid setup costs + switching cost per unit moved + onboarding of new vendors + the
    incumbent's exit cost pro rata to the share of its baseline business moved)
    x ``transition_overrun``.
``governance``
    retained organisation (vendor management office) = ``governance_share`` x outsourced fees.
``sla_credits`` (negative) and ``business_impact``
    per line and year ``K ~ Binomial(12, q)`` breached months, ``q`` = monthly breach
    probability (``risk.sla_breach_prob``, or the ``sla=`` calibration per vendor and lot);
    credit ``K x min(credit_pct, sla_credit_cap) x fee / 12`` (per breached month at most
    ``sla_credit_cap`` of the monthly fee); business impact ``K x breach_impact x lot share``
    (not capped).
``vendor_failure``
    year of failure ``y ~ Geometric(risk.failure_prob)`` per vendor; in that year its exit cost
    and a replacement onboarding.  Recourse (the rule of the risk-aware award,
    :mod:`sourcing.allocation.risk`): from year ``y + 1`` the failed vendor's units on each lot
    move, cheapest first per unit over the remaining years, *warm* to the lot's other vendors up
    to their spare capacity (``lines.capacity - units``) at their ``lines.list_price`` plus
    ``warm_switch_share x switch_per_unit`` per unit moved, and *cold* (the rest) to a
    replacement at the failed vendor's list price x ``(1 + failure_premium)`` plus the full
    ``switch_per_unit``; its own fees stop.  Switching is paid in year ``y`` on the units of that
    year (demand growth applied), fees are indexed and grown as ``service``; FX is not applied to
    the re-priced fees.  Each failure is routed against the award as signed.
``security``
    per provider and year a compound Poisson loss (each incident drawn separately; zero-loss years
    exist) with rate ``risk.incident_rate`` x posture factor (``iso27001_factor`` or
    ``no_iso27001_factor``, times ``1 + security_score_slope (security_score_ref - score)``,
    floored at 0.2) and per-incident loss ``security_severity`` at full exposure, scaled by the
    share of the tender's baseline value the provider carries.
``other``
    user ``extra_costs`` (tender currency per year): a distribution is drawn once per draw and paid every
    year; a :func:`~sourcing.simulation.compound` is drawn every year (e.g. change requests,
    regulatory fines).
``attrition``
    in-house only: ``attrition`` (fraction of staff leaving per year) x ``hiring_cost`` (fraction
    of a year's loaded labour cost per hire) x labour cost.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..tender import DEFAULT_CURRENCY
from .distributions import (
    _Z_CLIP,
    Compound,
    Constant,
    Distribution,
    as_distribution,
    compound,
    lognormal_ci,
    pert,
)

__all__ = [
    "ASSUMPTION_INFO", "DRIVERS", "INHOUSE", "Assumptions", "parse_assumptions",
    "SourcingScenario", "hybrid", "inhouse", "multi_vendor",
    "single_vendor", "standard_scenarios",
]

#: Provider id of in-house delivery.
INHOUSE = "inhouse"
#: Cost drivers reported per draw, in this order.
DRIVERS = ("service", "escalation", "fx", "transition", "governance", "sla_credits",
           "business_impact", "vendor_failure", "security", "attrition", "other")

_DIST_FIELDS = ("indexation", "wage_inflation", "governance_share", "transition_overrun",
                "breach_impact", "security_severity", "attrition")


@dataclass(frozen=True)
class Assumptions:
    """Default modelling assumptions (all overridable; units in brackets).

    Attributes
    ----------
    indexation : Distribution
        Annual price index applied to vendor fees [fraction/yr]; PERT(1 %, 2.5 %, 6 %).
    escalation_cap : float
        Contractual cap on the annual indexation of vendor fees [fraction/yr]; 3 %.
    wage_inflation : Distribution
        In-house wage inflation [fraction/yr]; PERT(1.5 %, 3 %, 6 %).
    growth_spread : float
        Half-width of the PERT around each lot's demand growth [fraction/yr]; 3 points.
    fx_vol : float
        Annual volatility of the offshore currency against the tender currency [fraction/yr];
        8 %.  ``fx_vol_by_currency`` overrides it per ISO code.
    governance_share : Distribution
        Retained governance as a share of outsourced fees [fraction]; PERT(3 %, 5 %, 8 %).
    transition_overrun : Distribution
        Multiplier on one-off transition costs [-]; PERT(0.9, 1.0, 1.6).
    sla_credit_pct : float
        Service credit per breached month [fraction of the monthly fee]; 5 %.  The ``sla=``
        calibration overrides it per vendor and lot.
    sla_credit_cap : float
        Maximum credit in one month [fraction of the monthly fee]; 12 %.
    breach_impact : Distribution
        Business impact of one breached month on a whole lot [tender currency]; lognormal, 90 % in
        [10 000, 150 000].  :meth:`for_tender` scales it to the tender: 90 % in [0.3 %, 4.6 %] of
        the average lot's annual in-house baseline value.
    inhouse_breach_prob : float
        Monthly probability that in-house delivery misses its service levels [-]; 6 %.
    failure_premium : float
        Extra cost of the replacement vendor after a failure [fraction of fees/yr]; 10 %.
    backup_factor : float
        Kept so that files setting it still load; the failure recourse (see ``vendor_failure``)
        now prices a backup vendor itself and does not use it [-]; 0.5.
    replacement_onboarding : float or None
        Onboarding of a replacement vendor [tender currency]; None = median of
        ``risk.onboarding_cost``.
    security_severity : Distribution
        Loss per security incident at full exposure [tender currency]; lognormal, 90 % in
        [50 000, 4 000 000].  :meth:`for_tender` scales it to the tender: 90 % in [0.3 %, 25 %] of
        the tender's annual in-house baseline value.
    security_deductible, security_cap : float
        Per-incident deductible and cap [tender currency] (defaults 0 and none).
    iso27001_factor, no_iso27001_factor : float
        Multipliers on the incident rate with / without ISO 27001 [-]; 0.8 and 1.25.
    security_score_ref, security_score_slope : float
        Incident rate multiplier ``1 + slope (ref - score)`` [points, fraction/point]; 70, 0.01.
    inhouse_incident_rate : float
        Security incidents per year for in-house delivery [events/yr]; 0.25.
    inhouse_labour_share : float
        Labour share of in-house unit cost [fraction]; 0.7.
    attrition : Distribution
        In-house staff attrition [fraction/yr]; PERT(8 %, 12 %, 20 %).
    hiring_cost : float
        Cost of replacing a leaver [fraction of a year's loaded labour cost]; 0.3.
    warm_switch_share : float
        Switching cost per unit moved to a vendor already serving the lot when a vendor fails,
        as a fraction of the lot's switching cost per unit (a cold replacement pays all of it)
        [-]; 0.25.
    """

    indexation: Distribution = field(default_factory=lambda: pert(0.01, 0.025, 0.06))
    escalation_cap: float = 0.03
    wage_inflation: Distribution = field(default_factory=lambda: pert(0.015, 0.03, 0.06))
    growth_spread: float = 0.03
    fx_vol: float = 0.08
    fx_vol_by_currency: tuple[tuple[str, float], ...] = (("INR", 0.10), ("PLN", 0.07),
                                                         ("SEK", 0.07))
    governance_share: Distribution = field(default_factory=lambda: pert(0.03, 0.05, 0.08))
    transition_overrun: Distribution = field(default_factory=lambda: pert(0.9, 1.0, 1.6))
    sla_credit_pct: float = 0.05
    sla_credit_cap: float = 0.12
    breach_impact: Distribution = field(default_factory=lambda: lognormal_ci(10_000, 150_000))
    inhouse_breach_prob: float = 0.06
    failure_premium: float = 0.10
    backup_factor: float = 0.5
    replacement_onboarding: float | None = None
    security_severity: Distribution = field(default_factory=lambda: lognormal_ci(50_000, 4_000_000))
    security_deductible: float = 0.0
    security_cap: float = math.inf
    iso27001_factor: float = 0.8
    no_iso27001_factor: float = 1.25
    security_score_ref: float = 70.0
    security_score_slope: float = 0.01
    inhouse_incident_rate: float = 0.25
    inhouse_labour_share: float = 0.7
    attrition: Distribution = field(default_factory=lambda: pert(0.08, 0.12, 0.20))
    hiring_cost: float = 0.3
    warm_switch_share: float = 0.25

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in _DIST_FIELDS:
                object.__setattr__(self, f.name, as_distribution(v, name=f"Assumptions.{f.name}"))
            elif f.name == "fx_vol_by_currency":
                items = v.items() if isinstance(v, dict) else v
                object.__setattr__(self, f.name, tuple((str(k), float(x)) for k, x in items))
                for k, x in self.fx_vol_by_currency:
                    if not x >= 0:
                        raise ValueError(f"Assumptions.fx_vol_by_currency[{k}] must be >= 0, got {x}")
            elif f.name == "replacement_onboarding":
                if v is not None and not float(v) >= 0:
                    raise ValueError("Assumptions.replacement_onboarding must be >= 0 (tender "
                                     f"currency), got {v}")
            else:
                x = float(v)
                if math.isnan(x) or x < 0:
                    raise ValueError(f"Assumptions.{f.name} must be >= 0, got {v}")
                fractions = ("sla_credit_pct", "sla_credit_cap", "inhouse_breach_prob",
                             "backup_factor", "inhouse_labour_share", "warm_switch_share")
                if f.name in fractions and x > 1:
                    raise ValueError(f"Assumptions.{f.name} is a fraction and must lie in [0, 1], got {v}")

    @classmethod
    def for_tender(cls, tender: Any, values: Mapping[str, Any] | None = None) -> Assumptions:
        """Assumptions sized to *tender*, with scenario *values* (see :func:`parse_assumptions`).

        The money assumptions not given scale with the tender's annual in-house baseline value
        ``B = sum(annual_demand x inhouse_unit_cost)`` [tender currency/yr]: ``breach_impact``
        90 % in [0.3 %, 4.6 %] of ``B / n_lots`` per breached month, ``security_severity`` 90 % in
        [0.3 %, 25 %] of ``B`` per incident at full exposure.  Everything else is a fraction or a
        rate and keeps its documented default.
        """
        given = parse_assumptions(values or {})
        lots = tender.lots
        baseline = float((lots["annual_demand"] * lots["inhouse_unit_cost"]).sum())
        if baseline > 0:
            per_lot = baseline / max(len(lots), 1)
            for key, scale in (("breach_impact", per_lot), ("security_severity", baseline)):
                if key not in given:
                    lo, hi = _RELATIVE[key]
                    given[key] = lognormal_ci(lo * scale, hi * scale)
        return cls(**given)

    def fx_sigma(self, currency: str) -> float:
        """Annual FX volatility of *currency* [fraction/yr]."""
        return dict(self.fx_vol_by_currency).get(currency, self.fx_vol)

    def with_(self, **changes: Any) -> Assumptions:
        """A copy with some assumptions changed (validated)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown assumption(s) {sorted(unknown)}; valid: "
                             + ", ".join(f.name for f in fields(self)))
        return replace(self, **changes)


#: Money assumptions sized to the tender by :meth:`Assumptions.for_tender`: 90 % range as fractions
#: of the average lot's (breach_impact) or the whole tender's (security_severity) baseline value.
_RELATIVE = {"breach_impact": (0.003, 0.046), "security_severity": (0.003, 0.25)}

#: Reader's description and unit of each assumption: "fraction", "money", "factor", "rate", "points".
ASSUMPTION_INFO: dict[str, tuple[str, str]] = {
    "indexation": ("Annual price indexation of vendor fees", "fraction"),
    "escalation_cap": ("Contractual cap on annual indexation", "fraction"),
    "wage_inflation": ("In-house wage inflation per year", "fraction"),
    "growth_spread": ("Uncertainty of demand growth (plus or minus, per year)", "fraction"),
    "fx_vol": ("Annual exchange-rate volatility of offshore costs", "fraction"),
    "fx_vol_by_currency": ("Exchange-rate volatility by currency", "fraction"),
    "governance_share": ("Retained governance, share of outsourced fees", "fraction"),
    "transition_overrun": ("Transition cost overrun (multiplier)", "factor"),
    "sla_credit_pct": ("Service credit per breached month, share of the monthly fee", "fraction"),
    "sla_credit_cap": ("Cap on service credits in one month, share of the monthly fee", "fraction"),
    "breach_impact": ("Business impact of one breached month on a lot", "money"),
    "inhouse_breach_prob": ("Monthly chance that in-house delivery misses its service levels",
                            "fraction"),
    "failure_premium": ("Extra cost of a replacement vendor after a failure, share of fees",
                        "fraction"),
    "replacement_onboarding": ("Onboarding cost of a replacement vendor", "money"),
    "warm_switch_share": ("Switching cost when a vendor already on the lot takes over, share of the "
                          "full switching cost", "fraction"),
    "security_severity": ("Loss per security incident at full exposure", "money"),
    "security_deductible": ("Deductible per security incident", "money"),
    "security_cap": ("Cap on the loss of one security incident", "money"),
    "iso27001_factor": ("Incident-rate multiplier with ISO 27001", "factor"),
    "no_iso27001_factor": ("Incident-rate multiplier without ISO 27001", "factor"),
    "security_score_ref": ("Security score of an average vendor", "points"),
    "security_score_slope": ("Incident-rate change per security-score point below it", "fraction"),
    "inhouse_incident_rate": ("Security incidents per year in-house", "rate"),
    "inhouse_labour_share": ("Labour share of in-house cost", "fraction"),
    "attrition": ("In-house staff attrition per year", "fraction"),
    "hiring_cost": ("Cost of replacing a leaver, share of a year's labour cost", "fraction"),
}

_SPEC_KINDS = ("pert", "triangular", "uniform", "lognormal_90")


def _spec_distribution(name: str, spec: Any) -> Any:
    """A scenario-file value -> a number or Distribution (``{pert: [low, mode, high]}`` ...)."""
    from .distributions import triangular, uniform

    if isinstance(spec, bool):
        raise ValueError(f"assumptions.{name}: a yes/no value is not a number")
    if isinstance(spec, int | float):
        return float(spec)
    if isinstance(spec, Mapping) and len(spec) == 1:
        (kind, args), = spec.items()
        makers = {"pert": pert, "triangular": triangular, "uniform": uniform,
                  "lognormal_90": lognormal_ci}
        if kind not in makers:
            raise ValueError(f"assumptions.{name}: unknown distribution {kind!r}; valid: "
                             + ", ".join(_SPEC_KINDS))
        if not isinstance(args, list | tuple) or not all(
                isinstance(a, int | float) and not isinstance(a, bool) for a in args):
            raise ValueError(f"assumptions.{name}: {kind} takes a list of numbers, got {args!r}")
        try:
            return makers[kind](*[float(a) for a in args])
        except TypeError:
            raise ValueError(f"assumptions.{name}: wrong number of values for {kind}") from None
    raise ValueError(f"assumptions.{name}: give a number or one of {{{', '.join(_SPEC_KINDS)}: "
                     "[...]}}")


def parse_assumptions(values: Mapping[str, Any]) -> dict[str, Any]:
    """Scenario-file assumptions (``simulation.assumptions``) -> :class:`Assumptions` arguments.

    Numbers stay numbers (fractions as fractions: ``escalation_cap: 0.03`` is 3 %); distributions
    are written ``{pert: [low, mode, high]}``, ``{triangular: [...]}``, ``{uniform: [low, high]}``
    or ``{lognormal_90: [p5, p95]}``; ``fx_vol_by_currency`` is a mapping ISO code -> volatility.

    Raises
    ------
    ValueError
        Naming the assumption and listing the valid names or forms.
    """
    valid = [f.name for f in fields(Assumptions)]
    out: dict[str, Any] = {}
    for name, spec in dict(values).items():
        if name not in valid:
            raise ValueError(f"unknown assumption {name!r}; valid: {', '.join(valid)}")
        if name == "fx_vol_by_currency":
            if not isinstance(spec, Mapping):
                raise ValueError("assumptions.fx_vol_by_currency: give a mapping, e.g. {INR: 0.10}")
            out[name] = {str(k): _spec_distribution(f"{name}.{k}", v) for k, v in spec.items()}
            if not all(isinstance(v, float) for v in out[name].values()):
                raise ValueError("assumptions.fx_vol_by_currency: volatilities are numbers")
        elif name == "replacement_onboarding" and spec is None:
            out[name] = None
        else:
            out[name] = _spec_distribution(name, spec)
            if name not in _DIST_FIELDS and not isinstance(out[name], float):
                raise ValueError(f"assumptions.{name} is a single number, not a distribution")
    try:
        Assumptions(**out)
    except (TypeError, ValueError) as err:
        raise ValueError(str(err)) from None
    return out


_LINE_COLS = {
    "lot_id": "lot", "provider": "vendor id or 'inhouse'", "units": "units/yr in year 1",
    "unit_price": "tender currency/unit/yr", "setup_cost": "tender currency, one-off",
    "switching_cost": "tender currency, one-off",
    "growth": "fraction/yr", "lot_share": "fraction of the lot's demand", "breach_prob":
    "monthly probability", "credit_pct": "fraction of monthly fee", "exposure":
    "fraction of the tender's baseline value",
}
_VENDOR_COLS = ("failure_prob", "exit_cost", "onboarding_cost", "incident_rate", "security_score",
                "iso27001", "offshore_share", "currency", "has_backup", "replacement_onboarding")


@dataclass(frozen=True, eq=False)
class SourcingScenario:
    """One sourcing option and its cost drivers (validated; see module notes for the model).

    Attributes
    ----------
    name : str
    lines : DataFrame
        One row per (lot, provider) with columns ``lot_id``, ``provider`` (vendor id or
        ``"inhouse"``), ``units`` [units/yr, year 1], ``unit_price`` [tender currency/unit/yr, after
        discounts], ``setup_cost`` [tender currency, one-off], ``switching_cost`` [tender
        currency, one-off, units moved x
        switching cost per unit], ``growth`` [fraction/yr, most likely demand growth],
        ``lot_share`` [fraction of the lot's demand], ``breach_prob`` [monthly probability],
        ``credit_pct`` [fraction of the monthly fee per breached month], ``exposure``
        [fraction of the tender's baseline value carried by the line]; optional
        ``switch_per_unit`` [tender currency/unit, switching cost if the provider must be replaced],
        ``capacity`` [units/yr the provider can serve on the lot, default unlimited] and
        ``list_price`` [tender currency/unit/yr, the bid's base price before volume discounts, default
        ``unit_price``] (both used by the failure recourse).
    vendors : DataFrame
        Indexed by vendor id, one row per vendor in ``lines``: ``failure_prob`` [1/yr],
        ``exit_cost`` [tender currency], ``onboarding_cost`` [tender currency, 0 for an
        incumbent], ``incident_rate``
        [events/yr, before the posture factor], ``security_score`` [0-100], ``iso27001``
        [bool], ``offshore_share`` [fraction], ``currency`` [ISO code of the offshore cost base],
        ``has_backup`` [bool], ``replacement_onboarding`` [tender currency].
    years : int
        Horizon [years].
    discount_rate : float
        [fraction/yr], cash at the end of each year.
    exit_cost : float
        Incumbent exit cost incurred in year 1 [tender currency] (already pro rata).
    assumptions : Assumptions
    currency : str
    description : str
    extra_costs : dict
        Name -> distribution of further costs [tender currency/yr] (see ``other`` in the module notes).
    """

    name: str
    lines: pd.DataFrame
    vendors: pd.DataFrame
    years: int = 5
    discount_rate: float = 0.08
    exit_cost: float = 0.0
    assumptions: Assumptions = field(default_factory=Assumptions)
    currency: str = DEFAULT_CURRENCY
    description: str = ""
    extra_costs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("SourcingScenario: name must be a non-empty string")
        if isinstance(self.years, bool) or not float(self.years).is_integer() or not 1 <= self.years <= 50:
            raise ValueError(f"SourcingScenario {self.name!r}: years must be an integer in [1, 50], "
                             f"got {self.years!r}")
        object.__setattr__(self, "years", int(self.years))
        r = float(self.discount_rate)
        if not math.isfinite(r) or r <= -1:
            raise ValueError(f"SourcingScenario {self.name!r}: discount_rate must be > -1 (fraction/yr), "
                             f"got {self.discount_rate!r}")
        if not isinstance(self.assumptions, Assumptions):
            raise TypeError(f"SourcingScenario {self.name!r}: assumptions must be an Assumptions")
        if not math.isfinite(float(self.exit_cost)) or self.exit_cost < 0:
            raise ValueError(f"SourcingScenario {self.name!r}: exit_cost must be >= 0 (tender currency), "
                             f"got {self.exit_cost}")
        lines = pd.DataFrame(self.lines).reset_index(drop=True)
        missing = [c for c in _LINE_COLS if c not in lines.columns]
        if missing:
            raise ValueError(f"SourcingScenario {self.name!r}: lines lacks column(s) {missing}; "
                             "needed: " + ", ".join(f"{k} [{v}]" for k, v in _LINE_COLS.items()))
        if lines.empty:
            raise ValueError(f"SourcingScenario {self.name!r}: lines is empty")
        if "switch_per_unit" not in lines.columns:
            lines["switch_per_unit"] = 0.0
        if "capacity" not in lines.columns:
            lines["capacity"] = np.inf
        if "list_price" not in lines.columns:
            lines["list_price"] = lines["unit_price"]
        fractions = ("breach_prob", "credit_pct", "lot_share")
        for col in ("units", "unit_price", "setup_cost", "switching_cost", "switch_per_unit", "growth",
                    "lot_share", "breach_prob", "credit_pct", "exposure"):
            v = pd.to_numeric(lines[col], errors="coerce").astype(float)
            bad = ~np.isfinite(v.to_numpy())
            if col != "growth":
                bad |= v.to_numpy() < 0
            if col in fractions:
                bad |= v.to_numpy() > 1
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                rule = ("a probability/fraction in [0, 1]" if col in fractions
                        else "finite" if col == "growth" else "a non-negative number (no negative cost)")
                raise ValueError(f"SourcingScenario {self.name!r}: lines.{col} must be {rule}; row {i} "
                                 f"(lot {lines.at[i, 'lot_id']}, provider {lines.at[i, 'provider']}) "
                                 f"has {lines.at[i, col]!r}")
            lines[col] = v
        for col in ("capacity", "list_price"):
            v = pd.to_numeric(lines[col], errors="coerce").astype(float).to_numpy()
            bad = np.isnan(v) | (v < 0) | ((v == np.inf) & (col == "list_price"))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"SourcingScenario {self.name!r}: lines.{col} must be a number >= 0"
                                 f"{' (inf = unlimited)' if col == 'capacity' else ''}; row {i} "
                                 f"(lot {lines.at[i, 'lot_id']}, provider {lines.at[i, 'provider']}) "
                                 f"has {lines.at[i, col]!r}")
            lines[col] = v
        if (lines["growth"] <= -1).any():
            raise ValueError(f"SourcingScenario {self.name!r}: lines.growth must be > -1 (fraction/yr)")
        lines["lot_id"] = lines["lot_id"].astype(str)
        lines["provider"] = lines["provider"].astype(str)
        vendors = pd.DataFrame(self.vendors)
        vmissing = [c for c in _VENDOR_COLS if c not in vendors.columns]
        if vmissing:
            raise ValueError(f"SourcingScenario {self.name!r}: vendors lacks column(s) {vmissing}")
        need = sorted(set(lines["provider"]) - {INHOUSE} - set(vendors.index))
        if need:
            raise ValueError(f"SourcingScenario {self.name!r}: no vendors row for provider(s) {need}")
        for col in ("failure_prob", "exit_cost", "onboarding_cost", "incident_rate", "offshore_share",
                    "replacement_onboarding"):
            v = vendors[col].astype(float)
            bad = ~np.isfinite(v) | (v < 0)
            if col in ("failure_prob", "offshore_share"):
                bad |= v > 1
            if bad.any():
                vid = v.index[bad.to_numpy()][0]
                upper = " and <= 1" if col in ("failure_prob", "offshore_share") else ""
                raise ValueError(f"SourcingScenario {self.name!r}: vendors.{col} of {vid} is invalid "
                                 f"({v[vid]!r}); must be >= 0{upper}")
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "vendors", vendors)
        if not isinstance(self.extra_costs, Mapping):
            raise TypeError(f"SourcingScenario {self.name!r}: extra_costs must be a dict name -> "
                            "distribution (tender currency per year)")
        extra = {}
        for k, v in self.extra_costs.items():
            if not isinstance(k, str) or not k:
                raise ValueError(f"SourcingScenario {self.name!r}: extra_costs names must be non-empty "
                                 f"strings, got {k!r}")
            extra[k] = as_distribution(v, name=f"extra_costs[{k!r}]")
        object.__setattr__(self, "extra_costs", MappingProxyType(extra))

    def with_(self, **changes: Any) -> SourcingScenario:
        """A validated copy with some fields changed, e.g. ``s.with_(extra_costs={...})``."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ views
    @property
    def providers(self) -> list[str]:
        """Providers in the scenario (vendor ids and/or ``'inhouse'``)."""
        return list(dict.fromkeys(self.lines["provider"]))

    @property
    def base_cost(self) -> float:
        """Year-1 service cost without uncertainty [tender currency/yr]."""
        return float((self.lines["units"] * self.lines["unit_price"]).sum())

    def allocation(self) -> pd.DataFrame:
        """Units in year 1, provider x lot [units/yr]."""
        return self.lines.pivot_table(index="provider", columns="lot_id", values="units",
                                      aggfunc="sum", fill_value=0.0)

    def __repr__(self) -> str:
        return (f"SourcingScenario({self.name!r}, providers={self.providers}, years={self.years}, "
                f"base_cost={self.currency} {self.base_cost:,.0f}/yr)")

    # ------------------------------------------------------------------ engine interface
    def inputs(self) -> dict[str, Distribution]:
        """Correlatable scalar inputs (one value per draw), by input name."""
        a = self.assumptions
        out: dict[str, Distribution] = {}
        outsourced = self.lines["provider"] != INHOUSE
        for lot, g in self.lines.groupby("lot_id", sort=False)["growth"].first().items():
            s = a.growth_spread
            # the low end stays above -100 %/yr (demand cannot turn negative): a lot shrinking
            # by 99 %/yr spreads only half-way to -100 % below its most likely growth
            out[f"growth[{lot}]"] = pert(max(g - s, (g - 1) / 2), g, g + s) if s > 0 else Constant(g)
        out["indexation"] = a.indexation
        if (~outsourced).any():
            out["wage_inflation"] = a.wage_inflation
            out["attrition"] = a.attrition
        if outsourced.any():
            out["governance_share"] = a.governance_share
            for cur in self._fx_currencies():
                out[f"fx[{cur}]"] = _STD_NORMAL
        if self._one_off() > 0:
            out["transition_overrun"] = a.transition_overrun
        for k, d in self.extra_costs.items():
            if not isinstance(d, Compound):
                out[f"extra[{k}]"] = d
        if (self.lines["breach_prob"] > 0).any():
            out["breach_impact"] = a.breach_impact
        return out

    def events(self) -> dict[str, tuple]:
        """Independent event streams (not under the copula), by input name.

        ``("failure", h)``: year of failure; ``("sla", q)``: breached months per year;
        ``("compound", Compound)``: annual loss (security incidents, compound extra costs).
        """
        a = self.assumptions
        out: dict[str, tuple] = {}
        for v in self.providers:
            if v == INHOUSE:
                continue
            h = float(self.vendors.at[v, "failure_prob"])
            if h > 0:
                out[f"failure[{v}]"] = ("failure", h)
        for row in self.lines.itertuples():
            if row.breach_prob > 0:
                out[f"sla[{row.provider},{row.lot_id}]"] = ("sla", float(row.breach_prob))
        for p in self.providers:
            rate = self._incident_rate(p)
            if rate > 0:
                out[f"security[{p}]"] = ("compound", compound(
                    a.security_severity, rate=rate, deductible=a.security_deductible,
                    cap=a.security_cap))
        for k, d in self.extra_costs.items():
            if isinstance(d, Compound):
                out[f"extra[{k}]"] = ("compound", d)
        return out

    def _incident_rate(self, p: str) -> float:
        a = self.assumptions
        if p == INHOUSE:
            return a.inhouse_incident_rate
        v = self.vendors.loc[p]
        factor = a.iso27001_factor if bool(v["iso27001"]) else a.no_iso27001_factor
        score = float(v["security_score"]) if pd.notna(v["security_score"]) else a.security_score_ref
        posture = max(0.2, 1.0 + a.security_score_slope * (a.security_score_ref - score))
        return float(v["incident_rate"]) * factor * posture

    def _fx_currencies(self) -> list[str]:
        out = []
        for p in self.providers:
            if p != INHOUSE and float(self.vendors.at[p, "offshore_share"]) > 0:
                out.append(self._fx_key(p))
        return list(dict.fromkeys(out))

    def _fx_key(self, p: str) -> str:
        cur = str(self.vendors.at[p, "currency"])
        return "offshore" if cur in ("", "nan", self.currency) else cur

    def _one_off(self) -> float:
        onboarding = sum(float(self.vendors.at[p, "onboarding_cost"]) for p in self.providers
                         if p != INHOUSE)
        return float(self.lines["setup_cost"].sum() + self.lines["switching_cost"].sum()
                     + onboarding + self.exit_cost)

    @cached_property
    def _plan(self) -> dict[str, Any]:
        """Weights of the vectorised model (computed once per scenario)."""
        lines = self.lines
        a = self.assumptions
        lots = list(dict.fromkeys(lines["lot_id"]))
        provs = self.providers
        vend = [p for p in provs if p != INHOUSE]
        li = np.array([lots.index(x) for x in lines["lot_id"]])
        c = (lines["units"] * lines["unit_price"]).to_numpy(float)
        A = np.zeros((len(lots), len(provs)))
        np.add.at(A, (li, np.array([provs.index(x) for x in lines["provider"]])), c)
        cur = [self._fx_key(v) for v in vend]
        share = {v: float(self.vendors.at[v, "offshore_share"]) for v in vend}
        fx_keys = list(dict.fromkeys(k for v, k in zip(vend, cur, strict=True) if share[v] > 0))
        fx_group = {v: (fx_keys.index(k) if share[v] > 0 else -1) for v, k in zip(vend, cur, strict=True)}
        fx_w = np.zeros((len(fx_keys), len(lots)))  # offshore base cost per currency, by lot
        for v in vend:
            if fx_group[v] >= 0:
                fx_w[fx_group[v]] += share[v] * A[:, provs.index(v)]
        breach = []
        for r in np.flatnonzero(lines["breach_prob"].to_numpy(float) > 0):
            p = lines.at[r, "provider"]
            # a Python float (not np.float64): a float64 scalar would force float64 loops on float32 arrays
            w = 0.0 if p == INHOUSE else (min(float(lines.at[r, "credit_pct"]), a.sla_credit_cap) / 12.0
                                          * float(c[r]))
            breach.append((f"sla[{p},{lines.at[r, 'lot_id']}]", int(li[r]), float(lines.at[r, "lot_share"]),
                           w, fx_group.get(p, -1), share.get(p, 0.0)))
        failure = []
        prov_arr = lines["provider"].to_numpy()
        units = lines["units"].to_numpy(float)
        cap = lines["capacity"].to_numpy(float)
        lprice = lines["list_price"].to_numpy(float)
        swpu = lines["switch_per_unit"].to_numpy(float)
        for v in vend:
            recourse = []
            for r in np.flatnonzero(prov_arr == v):
                if units[r] <= 0:
                    continue
                others = np.flatnonzero((li == li[r]) & (prov_arr != v) & (prov_arr != INHOUSE))
                recourse.append((int(li[r]), float(units[r]), float(c[r]), float(lprice[r]),
                                 float(swpu[r]), lprice[others].copy(),
                                 np.maximum(cap[others] - units[others], 0.0)))
            vrow = self.vendors.loc[v]
            failure.append((f"failure[{v}]", recourse,
                            float(vrow["exit_cost"]) + float(vrow["replacement_onboarding"])))
        return {
            "lots": lots, "a_all": A.sum(axis=1),
            "a_out": A[:, [provs.index(v) for v in vend]].sum(axis=1),
            "a_in": A[:, provs.index(INHOUSE)] if INHOUSE in provs else None,
            "vend": vend, "fx_keys": fx_keys, "fx_w": fx_w,
            "fx_sigma": [a.fx_sigma(k) for k in fx_keys],
            "breach": breach, "failure": failure, "one_off": self._one_off(),
            "security": [(f"security[{p}]", float(lines.loc[lines["provider"] == p, "exposure"].sum()))
                         for p in provs],
        }

    @cached_property
    def _plan32(self) -> dict[str, Any]:
        """:attr:`_plan` with float32 weights."""
        def cast(v: Any) -> Any:
            if isinstance(v, np.ndarray) and v.dtype == np.float64:
                return v.astype(np.float32)
            if isinstance(v, tuple):
                return tuple(cast(e) for e in v)
            if isinstance(v, list):
                return [cast(e) for e in v]
            return v

        return {k: cast(v) for k, v in self._plan.items()}

    def evaluate(self, x: dict[str, np.ndarray], ev: dict[str, np.ndarray], n: int, *,
                 dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """Cost per year and per driver for *n* draws (the vectorised model; no validation).

        Parameters
        ----------
        x : dict
            Input name -> (n,) values of :meth:`inputs`.
        ev : dict
            Event name -> failure year (n,) / breached months (n, T) / annual loss (n, T);
            (n, T) arrays that are transposed views of (T, n) arrays (as the engine draws them)
            are used without a copy.  Not modified.
        dtype : numpy float type
            Arithmetic precision; :func:`simulate` uses ``float32`` (the precision it stores,
            relative error below 1e-5 of a year's cost, about twice as fast).

        Returns
        -------
        cash : ndarray (n, T)
            Total cost per year [tender currency] (a transposed view of a (T, n) array).
        drivers : ndarray (n, len(DRIVERS))
            Cost per driver summed over the horizon [tender currency] (a transposed view).

        Notes
        -----
        Written for speed: the work is done year-major, on (T, n) arrays, so that spreading a
        per-draw value over the years is a contiguous row operation (in the (n, T) layout numpy
        runs one inner loop of T elements per draw, ~20x slower); the returned arrays are
        transposed views of the year-major results.  Lot growth factors are one (lots, T, n)
        array and every per-vendor sum is folded into weight vectors over lots (BLAS), so the
        work is a few passes over (T, n) arrays however many vendors a scenario has.
        :mod:`._reference` holds the plain per-draw version it is tested against.
        """
        a = self.assumptions
        P = self._plan if dtype == np.float64 else self._plan32
        T = self.years
        t = np.arange(T, dtype=dtype)[:, None]  # (T, 1): year index t - 1
        cost: dict[str, np.ndarray] = {}
        x = {k: np.asarray(v, dtype=dtype) for k, v in x.items()}

        def yearly(key: str) -> np.ndarray:  # event (n, T) -> (T, n) contiguous, in dtype; no copy
            return np.ascontiguousarray(ev[key].T, dtype=dtype)

        def powers(base: np.ndarray, out: np.ndarray) -> np.ndarray:  # base^(t-1) along axis -2
            out[..., 0, :] = 1.0
            for j in range(1, T):  # loop over years: T - 1 products, no exp/log
                np.multiply(out[..., j - 1, :], base, out=out[..., j, :])
            return out

        def grow(rate: np.ndarray) -> np.ndarray:  # (1 + rate)^(t-1), shape (T, n)
            return powers(1.0 + rate, np.empty((T, n), dtype=dtype))

        def lots_dot(w: np.ndarray) -> np.ndarray:  # sum over lots of w x growth, shape (T, n)
            return (w @ Gf).reshape(T, n)

        L = len(P["lots"])
        g1 = 1.0 + np.stack([x[f"growth[{lot}]"] for lot in P["lots"]])  # (lots, n)
        G = powers(g1, np.empty((L, T, n), dtype=dtype))
        Gf = G.reshape(L, T * n)
        cost["service"] = lots_dot(P["a_all"])
        index = x["indexation"]
        fxf: list[np.ndarray] = []
        if P["vend"]:
            esc = grow(np.minimum(index, a.escalation_cap))
            bo = lots_dot(P["a_out"])
            fx_base = np.zeros((T, n), dtype=dtype)
            for j, sig in enumerate(P["fx_sigma"]):
                st = sig * np.sqrt(t + 1.0)
                f = np.expm1(x[f"fx[{P['fx_keys'][j]}]"] * st - 0.5 * st * st)
                fxf.append(f)
                fx_base += f * lots_dot(P["fx_w"][j])
            escalation = bo * (esc - 1.0)
            fx_base *= esc
            cost["fx"] = fx_base
            fee_total = bo * esc
            fee_total += fx_base
            fee_total *= x["governance_share"]
            cost["governance"] = fee_total
        else:
            escalation = np.zeros((T, n), dtype=dtype)
        if P["a_in"] is not None:
            ls = a.inhouse_labour_share
            wage = grow(x["wage_inflation"])
            b_in = lots_dot(P["a_in"])
            escalation += b_in * (ls * wage + (1.0 - ls) * grow(index) - 1.0)
            cost["attrition"] = ((a.hiring_cost * ls) * x["attrition"]) * b_in * wage
        cost["escalation"] = escalation
        if P["breach"]:
            months = np.zeros((T, n), dtype=dtype)  # breached months weighted by lot share
            cr = np.zeros((T, n), dtype=dtype)  # credits per unit of escalation, before FX
            cr_fx = [np.zeros((T, n), dtype=dtype) for _ in P["fx_keys"]]
            tmp = np.empty((T, n), dtype=dtype)
            for key, lot, lot_share, w, grp, sh in P["breach"]:
                k = yearly(key)
                if lot_share == 1.0:
                    months += k
                else:
                    np.multiply(k, lot_share, out=tmp)
                    months += tmp
                if w > 0:
                    np.multiply(k, G[lot], out=tmp)
                    tmp *= w
                    cr += tmp
                    if grp >= 0:
                        tmp *= sh
                        cr_fx[grp] += tmp
            months *= x["breach_impact"]
            cost["business_impact"] = months
            if P["vend"]:
                for f, c_ in zip(fxf, cr_fx, strict=True):
                    c_ *= f
                    cr += c_
                cr *= esc
                np.negative(cr, out=cr)
                cost["sla_credits"] = cr
        # vendor failure: sparse over the draws where a failure happens within the horizon
        fcost = None
        for key, recourse, fixed in P["failure"]:
            if key not in ev:
                continue
            fy = ev[key]
            hit = np.flatnonzero(fy <= T)
            if hit.size == 0:
                continue
            fee = _recourse_cost(recourse, fixed, fy[hit], G[:, :, hit], esc[:, hit], t,
                                 a.failure_premium, a.warm_switch_share, dtype)
            if fcost is None:
                fcost = np.zeros((T, n), dtype=dtype)
            fcost[:, hit] += fee
        if fcost is not None:
            cost["vendor_failure"] = fcost
        sec = None
        for key, expo in P["security"]:
            if key in ev and expo > 0:
                # one pass: multiply the (float64) losses and round into a new dtype array
                s_ = np.multiply(ev[key].T, expo, out=np.empty((T, n), dtype=dtype))
                if sec is None:
                    sec = s_
                else:
                    sec += s_
        if sec is not None:
            cost["security"] = sec
        other = None
        for k, d in self.extra_costs.items():
            key = f"extra[{k}]"
            v = yearly(key) if isinstance(d, Compound) else np.broadcast_to(x[key], (T, n))
            other = np.array(v, dtype=dtype) if other is None else other + v
        if other is not None:
            cost["other"] = other
        drivers = np.zeros((len(DRIVERS), n), dtype=dtype)
        cash = np.zeros((T, n), dtype=dtype)
        for j, d in enumerate(DRIVERS):
            c = cost.get(d)
            if c is not None:
                cash += c
                np.add.reduce(c, axis=0, out=drivers[j])
        if P["one_off"] > 0:
            tr = P["one_off"] * x["transition_overrun"]
            cash[0] += tr
            drivers[DRIVERS.index("transition")] = tr
        return cash.T, drivers.T

    def discount_factors(self) -> np.ndarray:
        """``(1 + r)^-t`` for ``t = 1..T`` (end-of-year cash)."""
        return (1.0 + self.discount_rate) ** -np.arange(1, self.years + 1, dtype=float)


def _recourse_cost(recourse: list, fixed: float, fy: np.ndarray, G: np.ndarray, esc: np.ndarray,
                   t: np.ndarray, premium: float, warm_share: float, dtype: type) -> np.ndarray:
    """Failure cost per year (T, hits) of one vendor failing in years *fy* (the recourse rule).

    *recourse* holds per line of the vendor ``(lot, units, fee, list_price, switch_per_unit,
    warm list prices (K,), warm spare capacities (K,))``; *G* is (lots, T, hits) demand growth,
    *esc* (T, hits) the fee index.  Each line's units are filled cheapest first (per unit over the
    remaining years) into the warm vendors up to their spare capacity, the rest cold.
    """
    T, h = esc.shape
    yi = fy.astype(np.intp) - 1
    cols = np.arange(h)
    after_mask = t > yi  # (T, hits): years after the failure
    fee = np.zeros((T, h), dtype=dtype)
    fee[yi, cols] = fixed
    for lot, units, line_fee, p_v, sw, warm_p, warm_spare in recourse:
        ge = G[lot] * esc * after_mask                     # (T, hits) fee multiplier after failure
        after = ge.sum(axis=0, dtype=np.float64)           # (hits,)
        gy = G[lot, yi, cols].astype(np.float64)
        rate_yr = np.append(warm_p, (1.0 + premium) * p_v)  # per unit-year after the failure
        rate_sw = np.append(np.full(len(warm_p), warm_share * sw), sw)  # per unit in year y
        R = gy[:, None] * rate_sw[None, :] + after[:, None] * rate_yr[None, :]  # (hits, K + 1)
        order = np.argsort(R, axis=1, kind="stable")
        caps = np.append(warm_spare, np.inf)[order]
        before = np.concatenate([np.zeros((h, 1)), np.cumsum(caps, axis=1)[:, :-1]], axis=1)
        fill = np.empty_like(R)
        np.put_along_axis(fill, order, np.clip(units - before, 0.0, caps), axis=1)
        yearly = fill @ rate_yr - line_fee                 # (hits,) change of the annual fee
        fee += (ge * yearly[None, :]).astype(dtype)
        fee[yi, cols] += (gy * (fill @ rate_sw)).astype(dtype)
    return fee


class _StdNormal(Distribution):
    """Standard normal (FX shocks)."""

    mean = 0.0
    var = 1.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import special
        return special.ndtri(np.clip(np.asarray(u, dtype=float), 2.0 ** -53, 1 - 2.0 ** -53))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        from scipy import special
        return special.ndtr(np.asarray(x, dtype=float))

    def _ppf_z(self, z: np.ndarray) -> np.ndarray:
        return np.clip(z, -_Z_CLIP, _Z_CLIP)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _StdNormal)

    def __hash__(self) -> int:
        return hash("_StdNormal")

    def __repr__(self) -> str:
        return "StdNormal()"


_STD_NORMAL = _StdNormal()


# ====================================================================== factories from a tender
def _check_tender(tender: Any) -> None:
    for attr in ("lots", "bids", "vendors", "risk", "tiers"):
        if not hasattr(tender, attr):
            raise TypeError(f"tender must be a sourcing.Tender (missing .{attr}); read one with "
                            "sourcing.read_tender(path)")


def admissible_vendors(tender: Any) -> list[str]:
    """Vendors passing every gate of the tender (e.g. ISO 27001 yes, financial score >= 40)."""
    gates = tender.gates
    if not gates:
        return list(tender.vendor_ids)
    dm = tender.decision_matrix()
    ok = np.ones(len(dm), dtype=bool)
    for g in gates:
        ok &= g.passes(dm[g.criterion_id])
    return [v for v, k in zip(dm.index, ok, strict=True) if k]


def _candidates(tender: Any) -> list[str]:
    """Admissible vendors; every bidder, with a warning, when no vendor passes the gates."""
    ok = admissible_vendors(tender)
    if not ok:
        warnings.warn("no vendor passes the tender's gates; the default options use every bidder "
                      "(evaluate shows why each vendor is excluded)", UserWarning, stacklevel=1)
    return ok or list(tender.vendor_ids)


def tiered_unit_price(tender: Any, vendor_id: str, lot_id: str, volume: float) -> float:
    """Average unit price of *volume* units/yr from the bid and its volume-discount tiers
    [tender currency/unit/yr].

    ``all-unit``: every unit at the price of the highest tier reached; ``incremental``: each
    band at its own price; ``none``: the base price.
    """
    bid = tender.bids[(tender.bids["vendor_id"] == vendor_id) & (tender.bids["lot_id"] == lot_id)]
    if bid.empty:
        raise ValueError(f"vendor {vendor_id} did not bid for lot {lot_id}")
    b = bid.iloc[0]
    base = float(b["unit_price"])
    kind = str(b["discount_type"])
    tiers = tender.tiers
    tiers = tiers[(tiers["vendor_id"] == vendor_id) & (tiers["lot_id"] == lot_id)]
    if kind == "none" or tiers.empty or volume <= 0:
        return base
    starts = np.concatenate([[0.0], tiers["from_volume"].to_numpy(float)])
    prices = np.concatenate([[base], tiers["unit_price"].to_numpy(float)])
    order = np.argsort(starts)
    starts, prices = starts[order], prices[order]
    if kind == "all-unit":
        return float(prices[np.searchsorted(starts, volume, side="right") - 1])
    ends = np.append(starts[1:], np.inf)
    band = np.clip(np.minimum(ends, volume) - starts, 0.0, None)
    return float((band * prices).sum() / volume)


def _risk_table(tender: Any, a: Assumptions) -> pd.DataFrame:
    risk = tender.risk
    cols = ["failure_prob", "exit_cost", "onboarding_cost", "incident_rate", "security_score",
            "sla_breach_prob"]
    if risk is None or risk.empty:
        warnings.warn("The tender has no risk table: vendor failure, security and SLA risks are set to 0",
                      UserWarning, stacklevel=3)
        risk = pd.DataFrame(0.0, index=tender.vendors.index, columns=cols)
        risk["security_score"] = a.security_score_ref
    r = risk.reindex(tender.vendors.index)[cols].astype(float)
    r[["failure_prob", "exit_cost", "onboarding_cost", "incident_rate", "sla_breach_prob"]] = r[
        ["failure_prob", "exit_cost", "onboarding_cost", "incident_rate", "sla_breach_prob"]].fillna(0.0)
    return r


def _sla_lookup(sla: pd.DataFrame | None) -> dict[tuple[str, str], tuple[float, float]]:
    if sla is None:
        return {}
    if not isinstance(sla, pd.DataFrame):
        raise TypeError("sla must be a DataFrame with columns vendor_id, lot_id, breach_prob, credit_pct")
    need = ["vendor_id", "lot_id", "breach_prob", "credit_pct"]
    missing = [c for c in need if c not in sla.columns]
    if missing:
        raise ValueError(f"sla lacks column(s) {missing}; needed: vendor_id, lot_id, "
                         "breach_prob [monthly probability], credit_pct [% of monthly fee]")
    out = {}
    for i, r in enumerate(sla[need].itertuples(index=False)):
        q, c = float(r.breach_prob), float(r.credit_pct)
        if not 0 <= q <= 1:
            raise ValueError(f"sla.breach_prob row {i} ({r.vendor_id}, {r.lot_id}) must be a monthly "
                             f"probability in [0, 1], got {q}")
        if not 0 <= c <= 100:
            raise ValueError(f"sla.credit_pct row {i} ({r.vendor_id}, {r.lot_id}) must be a percent "
                             f"of the monthly fee in [0, 100], got {c}")
        out[(str(r.vendor_id), str(r.lot_id))] = (q, c / 100.0)
    return out


def _build(tender: Any, name: str, alloc: list[tuple[str, str, float, float]], *,
           sla: pd.DataFrame | None, assumptions: Assumptions | None, years: int | None,
           discount_rate: float | None, description: str) -> SourcingScenario:
    """Scenario from (lot_id, provider, units, unit_price) rows."""
    _check_tender(tender)
    a = assumptions if assumptions is not None else Assumptions.for_tender(tender)
    if not isinstance(a, Assumptions):
        raise TypeError("assumptions must be a sourcing.simulation.Assumptions")
    lots = tender.lots
    risk = _risk_table(tender, a)
    slas = _sla_lookup(sla)
    baseline = float((lots["annual_demand"] * lots["inhouse_unit_cost"]).sum())
    bids = tender.bids.set_index(["vendor_id", "lot_id"])
    rows = []

    def cap_of(prov: str, lot: str) -> float:
        if prov == INHOUSE or (prov, lot) not in bids.index or "capacity" not in bids.columns:
            return math.inf
        c = float(bids.at[(prov, lot), "capacity"])
        return c if c == c else math.inf  # NaN = unlimited

    def list_of(prov: str, lot: str, price: float) -> float:
        if prov == INHOUSE or (prov, lot) not in bids.index:
            return float(price)
        p = float(bids.at[(prov, lot), "unit_price"])
        return p if p == p else float(price)

    providers_by_lot: dict[str, set[str]] = {}
    for lot, prov, _units, _price in alloc:
        providers_by_lot.setdefault(lot, set()).add(prov)
    for lot, prov, units, price in alloc:
        lrow = lots.loc[lot]
        current = lrow["incumbent_vendor_id"]
        current = str(current) if isinstance(current, str) and current else INHOUSE
        moved = prov != current
        per_unit = float(lrow["switching_cost_per_unit"])
        setup = 0.0
        if prov == INHOUSE:
            q, credit = a.inhouse_breach_prob, 0.0
        else:
            setup = float(bids.at[(prov, lot), "setup_cost"]) if (prov, lot) in bids.index else 0.0
            if setup != setup:  # NaN
                setup = 0.0
            q, credit = slas.get((prov, lot), (float(risk.at[prov, "sla_breach_prob"]), a.sla_credit_pct))
            if prov == current:
                setup = 0.0
        demand = float(lrow["annual_demand"])
        rows.append({
            "lot_id": lot, "provider": prov, "units": float(units), "unit_price": float(price),
            "setup_cost": setup, "switching_cost": per_unit * float(units) if moved else 0.0,
            "switch_per_unit": per_unit,
            "capacity": cap_of(prov, lot), "list_price": list_of(prov, lot, price),
            "growth": float(lrow["demand_growth_pct"]) / 100.0,
            "lot_share": float(units) / demand if demand > 0 else 0.0,
            "breach_prob": q, "credit_pct": credit,
            "exposure": float(units) * float(lrow["inhouse_unit_cost"]) / baseline if baseline > 0 else 0.0,
        })
    lines = pd.DataFrame(rows)
    vend = tender.vendors
    repl = a.replacement_onboarding
    if repl is None:
        repl = float(risk["onboarding_cost"].median()) if len(risk) else 0.0
    incumbents = set(tender.incumbents)
    vrows = {}
    for prov in dict.fromkeys(lines["provider"]):
        if prov == INHOUSE:
            continue
        if prov not in vend.index:
            raise ValueError(f"scenario {name!r}: unknown vendor {prov!r}; "
                             f"valid: {', '.join(tender.vendor_ids)}")
        served = lines.loc[lines["provider"] == prov, "lot_id"]
        backup = all(len(providers_by_lot[lot]) > 1 for lot in served)
        vrows[prov] = {
            "failure_prob": float(risk.at[prov, "failure_prob"]),
            "exit_cost": float(risk.at[prov, "exit_cost"]),
            "onboarding_cost": 0.0 if prov in incumbents else float(risk.at[prov, "onboarding_cost"]),
            "incident_rate": float(risk.at[prov, "incident_rate"]),
            "security_score": float(risk.at[prov, "security_score"]),
            "iso27001": bool(vend.at[prov, "iso27001"]),
            "offshore_share": float(vend.at[prov, "offshore_share_pct"]) / 100.0,
            "currency": str(vend.at[prov, "currency"]),
            "has_backup": bool(backup),
            "replacement_onboarding": float(repl),
        }
    vendors = pd.DataFrame.from_dict(vrows, orient="index", columns=list(_VENDOR_COLS))
    vendors.index.name = "vendor_id"
    # exit of incumbents pro rata to the share of their baseline business moved away
    exit_cost = 0.0
    for inc in incumbents:
        their = lots[lots["incumbent_vendor_id"] == inc]
        if their.empty:
            continue
        value = their["annual_demand"] * their["inhouse_unit_cost"]
        kept = lines[(lines["provider"] == inc) & lines["lot_id"].isin(their.index)]
        kept_value = sum(r.units * float(lots.at[r.lot_id, "inhouse_unit_cost"]) for r in kept.itertuples())
        moved = max(0.0, 1.0 - kept_value / float(value.sum())) if value.sum() > 0 else 0.0
        exit_cost += moved * float(risk.at[inc, "exit_cost"])
    return SourcingScenario(
        name=name, lines=lines, vendors=vendors,
        years=tender.contract_years if years is None else years,
        discount_rate=tender.discount_rate if discount_rate is None else discount_rate,
        exit_cost=exit_cost, assumptions=a, currency=tender.currency, description=description)


def inhouse(tender: Any, *, name: str = "In-house", sla: pd.DataFrame | None = None,
            assumptions: Assumptions | None = None, years: int | None = None,
            discount_rate: float | None = None) -> SourcingScenario:
    """Every lot delivered in-house at ``lots.inhouse_unit_cost`` (lots now with a vendor move back)."""
    _check_tender(tender)
    alloc = [(lot, INHOUSE, float(r["annual_demand"]), float(r["inhouse_unit_cost"]))
             for lot, r in tender.lots.iterrows()]
    return _build(tender, name, alloc, sla=sla, assumptions=assumptions, years=years,
                  discount_rate=discount_rate, description="all lots in-house")


def single_vendor(tender: Any, vendor_id: str | None = None, *, name: str | None = None,
                  missing: str = "inhouse", sla: pd.DataFrame | None = None,
                  assumptions: Assumptions | None = None, years: int | None = None,
                  discount_rate: float | None = None) -> SourcingScenario:
    """Full outsourcing to one vendor at its (volume-discounted) bid prices.

    Parameters
    ----------
    vendor_id : str, optional
        Default: the admissible vendor with the lowest evaluated price among those that bid for
        every lot (else for most lots).
    missing : {"inhouse", "raise"}
        What to do with lots the vendor did not bid for.
    """
    _check_tender(tender)
    valid = ("inhouse", "raise")
    if missing not in valid:
        raise ValueError(f"missing must be one of {', '.join(valid)}, got {missing!r}")
    prices = tender.price_matrix
    if vendor_id is None:
        cands = _candidates(tender)
        n_bids = prices.loc[cands].notna().sum(axis=1)
        full = n_bids[n_bids == n_bids.max()].index
        vendor_id = str(tender.evaluated_price().loc[full].idxmin())
    if vendor_id not in prices.index:
        raise ValueError(f"unknown vendor_id {vendor_id!r}; valid: {', '.join(tender.vendor_ids)}")
    alloc = []
    for lot, r in tender.lots.iterrows():
        demand = float(r["annual_demand"])
        if pd.isna(prices.at[vendor_id, lot]):
            if missing == "raise":
                raise ValueError(f"vendor {vendor_id} did not bid for lot {lot}")
            alloc.append((lot, INHOUSE, demand, float(r["inhouse_unit_cost"])))
        else:
            alloc.append((lot, vendor_id, demand, tiered_unit_price(tender, vendor_id, lot, demand)))
    vname = str(tender.vendors.at[vendor_id, "name"])
    return _build(tender, name or f"Single vendor ({vname})", alloc, sla=sla, assumptions=assumptions,
                  years=years, discount_rate=discount_rate,
                  description=f"all lots to {vname}")


def _award_alloc(tender: Any, award: Any) -> list[tuple[str, str, float, float]]:
    try:
        vol = pd.DataFrame(award.volumes)
        spend = pd.DataFrame(award.spend)
    except AttributeError:
        raise TypeError("award must have .volumes and .spend (vendor x lot DataFrames), like "
                        "sourcing.allocation.Award") from None
    alloc = []
    for lot in tender.lot_ids:
        demand = float(tender.lots.at[lot, "annual_demand"])
        served = 0.0
        if lot in vol.columns:
            for v, units in vol[lot].items():
                units = float(units) if pd.notna(units) else 0.0
                if units < 0:
                    raise ValueError(f"award.volumes[{v}, {lot}] is negative ({units}); volumes are "
                                     "units/yr >= 0")
                if units <= 1e-9:
                    continue
                s = float(spend.at[v, lot]) if (v in spend.index and lot in spend.columns) else float("nan")
                if not np.isfinite(s) or s < 0:
                    raise ValueError(f"award.spend[{v}, {lot}] must be a non-negative number, got {s}")
                prov = INHOUSE if str(v) == INHOUSE else str(v)
                alloc.append((lot, prov, units, s / units))
                served += units
        rest = demand - served
        if rest > 1e-6 * max(demand, 1.0):
            alloc.append((lot, INHOUSE, rest, float(tender.lots.at[lot, "inhouse_unit_cost"])))
    return alloc


def _split_alloc(tender: Any, split: tuple[float, float]) -> list[tuple[str, str, float, float]]:
    ok = _candidates(tender)
    prices = tender.price_matrix.loc[ok]
    alloc = []
    for lot, r in tender.lots.iterrows():
        demand = float(r["annual_demand"])
        p = prices[lot].dropna().sort_values(kind="stable")
        if p.empty:
            alloc.append((lot, INHOUSE, demand, float(r["inhouse_unit_cost"])))
            continue
        shares = [1.0] if len(p) == 1 else list(split)
        for v, sh in zip(p.index[: len(shares)], shares, strict=True):
            units = demand * sh
            alloc.append((lot, str(v), units, tiered_unit_price(tender, str(v), lot, units)))
    return alloc


def multi_vendor(tender: Any, award: Any = None, *, name: str = "Multi-vendor",
                 split: tuple[float, float] = (0.7, 0.3), sla: pd.DataFrame | None = None,
                 assumptions: Assumptions | None = None, years: int | None = None,
                 discount_rate: float | None = None) -> SourcingScenario:
    """Lots split across vendors as in *award* (an allocation ``Award``: ``.volumes`` and ``.spend``).

    Without an award, each lot goes to its two cheapest admissible bids (base prices, tiers
    applied to the resulting volumes) in shares *split* (70/30 by default); a lot with one
    admissible bid goes wholly to it, a lot with none stays in-house.  Award volume short of a
    lot's demand is delivered in-house.
    """
    _check_tender(tender)
    if award is None:
        s = tuple(float(x) for x in split)
        if len(s) != 2 or min(s) < 0 or abs(sum(s) - 1) > 1e-9:
            raise ValueError(f"split must be two non-negative shares summing to 1, got {split}")
        alloc = _split_alloc(tender, s)
        desc = f"each lot split {s[0]:.0%}/{s[1]:.0%} between its two cheapest admissible bids"
    else:
        alloc, desc = _award_alloc(tender, award), "lots as awarded by the allocation"
    return _build(tender, name, alloc, sla=sla, assumptions=assumptions, years=years,
                  discount_rate=discount_rate, description=desc)


def hybrid(tender: Any, award: Any = None, *, inhouse_lots: list[str] | None = None,
           name: str = "Hybrid", split: tuple[float, float] = (0.7, 0.3),
           sla: pd.DataFrame | None = None, assumptions: Assumptions | None = None,
           years: int | None = None, discount_rate: float | None = None) -> SourcingScenario:
    """Some lots kept in-house, the others as in :func:`multi_vendor`.

    Default *inhouse_lots*: the lot whose in-house unit cost is lowest relative to its cheapest
    admissible bid.
    """
    _check_tender(tender)
    if inhouse_lots is None:
        ok = _candidates(tender)
        best = tender.price_matrix.loc[ok].min(axis=0)
        ratio = (tender.lots["inhouse_unit_cost"] / best).dropna()
        inhouse_lots = [str(ratio.idxmin())] if len(ratio) else []
    unknown = [lot for lot in inhouse_lots if lot not in tender.lot_ids]
    if unknown:
        raise ValueError(f"inhouse_lots: unknown lot(s) {unknown}; valid: {', '.join(tender.lot_ids)}")
    base = multi_vendor(tender, award, split=split, sla=sla, assumptions=assumptions)
    keep = set(inhouse_lots)
    alloc = [(r.lot_id, r.provider, r.units, r.unit_price) for r in base.lines.itertuples()
             if r.lot_id not in keep]
    for lot in inhouse_lots:
        lrow = tender.lots.loc[lot]
        alloc.append((lot, INHOUSE, float(lrow["annual_demand"]), float(lrow["inhouse_unit_cost"])))
    return _build(tender, name, alloc, sla=sla, assumptions=assumptions, years=years,
                  discount_rate=discount_rate,
                  description=f"{_names(tender, inhouse_lots)} in-house, the other lots as awarded")


def _names(tender: Any, lot_ids: list[str]) -> str:
    names = [str(tender.lots.at[lot, "name"]) if "name" in tender.lots else lot for lot in lot_ids]
    return ", ".join(names) or "no lot"


def standard_scenarios(tender: Any, award: Any = None, *, inhouse_lots: list[str] | None = None,
                       vendor_id: str | None = None, sla: pd.DataFrame | None = None,
                       assumptions: Assumptions | None = None) -> list[SourcingScenario]:
    """The four standard options: in-house, single vendor, multi-vendor, hybrid."""
    kw = {"sla": sla, "assumptions": assumptions}
    return [
        inhouse(tender, **kw),
        single_vendor(tender, vendor_id, **kw),
        multi_vendor(tender, award, **kw),
        hybrid(tender, award, inhouse_lots=inhouse_lots, **kw),
    ]
