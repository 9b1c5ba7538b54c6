"""The simulation's modelling assumptions: defaults with units, overrides, and their reading.

:class:`Assumptions` holds every assumption of the contract model (distributions and constants,
units in brackets), :data:`ASSUMPTION_INFO` its reader's description and unit, and
:func:`parse_assumptions` reads the ``simulation.assumptions`` block of a scenario file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from .distributions import (
    Distribution,
    as_distribution,
    lognormal_ci,
    pert,
)

__all__ = ["ASSUMPTION_INFO", "MULTIPLIERS", "Assumptions", "parse_assumptions", "scaled_specs",
           "spec_of"]

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
    failure_factor : float
        Multiplier on every vendor's annual failure probability from the tender's risk table
        (capped at 1) [-]; 1.  A what-if ("and if vendors were twice as likely to fail?").
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
    failure_factor: float = 1.0

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
    "failure_factor": ("Multiplier on the vendors' failure probabilities", "factor"),
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


#: What-if multipliers on the assumptions: name -> (reader's label, the assumptions it scales).
#: ``escalation`` scales vendor indexation and in-house wage inflation (the contractual cap on
#: indexation still applies); ``fx_vol`` every currency's volatility.
MULTIPLIERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "failure": ("Vendor failure probability", ("failure_factor",)),
    "escalation": ("Price escalation", ("indexation", "wage_inflation")),
    "fx_vol": ("Exchange-rate volatility", ("fx_vol", "fx_vol_by_currency")),
    "breach_impact": ("Business impact of an SLA breach", ("breach_impact",)),
    "security": ("Loss per security incident", ("security_severity",)),
}


def spec_of(value: Any) -> Any:
    """An assumption's value as a scenario file writes it (the inverse of
    :func:`parse_assumptions`): a number, ``{pert: [low, mode, high]}``, ``{triangular: ...}``,
    ``{uniform: [low, high]}``, ``{lognormal_90: [p5, p95]}`` or a mapping ISO code -> number."""
    from .distributions import Constant, Lognormal, Pert, Triangular, Uniform

    if isinstance(value, tuple):
        return {k: float(x) for k, x in value}
    if isinstance(value, Constant):
        return float(value.value)
    if isinstance(value, Pert):
        if value.lamb != 4.0:
            raise ValueError("a PERT with lamb other than 4 has no scenario-file form")
        return {"pert": [float(value.low), float(value.mode), float(value.high)]}
    if isinstance(value, Triangular):
        return {"triangular": [float(value.low), float(value.mode), float(value.high)]}
    if isinstance(value, Uniform):
        return {"uniform": [float(value.low), float(value.high)]}
    if isinstance(value, Lognormal):
        return {"lognormal_90": [float(x) for x in value.ppf(np.array([0.05, 0.95]))]}
    if value is None or isinstance(value, int | float):
        return value if value is None else float(value)
    raise ValueError(f"{type(value).__name__} has no scenario-file form")


def scaled_specs(assumptions: Assumptions, factors: Mapping[str, float]) -> dict[str, Any]:
    """Scenario-file values of *assumptions* with the :data:`MULTIPLIERS` *factors* applied.

    Only the assumptions a factor other than 1 scales are returned (each value, or each bound of
    a distribution, times its factor), ready for ``simulation.assumptions``; merged over the
    scenario's own, they reproduce the what-if.
    """
    unknown = sorted(set(factors) - set(MULTIPLIERS))
    if unknown:
        raise ValueError(f"unknown multiplier(s) {unknown}; valid: {', '.join(MULTIPLIERS)}")
    out: dict[str, Any] = {}
    for name, factor in factors.items():
        f = float(factor)
        if not (math.isfinite(f) and f >= 0):
            raise ValueError(f"multiplier {name} must be finite and >= 0, got {factor}")
        if f == 1.0:
            continue
        for key in MULTIPLIERS[name][1]:
            spec = spec_of(getattr(assumptions, key))
            out[key] = _times(spec, f)
    return out


def _times(spec: Any, f: float) -> Any:
    if isinstance(spec, float):
        return spec * f
    if len(spec) == 1 and next(iter(spec)) in _SPEC_KINDS:
        if f == 0.0:
            return 0.0  # a distribution times 0 is the constant 0 (its bounds would coincide)
        (kind, args), = spec.items()
        return {kind: [a * f for a in args]}
    return {k: x * f for k, x in spec.items()}  # a mapping ISO code -> volatility
