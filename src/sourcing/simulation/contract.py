"""The outsourcing contract model: one sourcing option's cost drivers over the contract horizon.

A :class:`SourcingScenario` describes *who* serves each lot (``lines``: lot, provider, units,
unit price...) and the risk profile of every vendor involved (``vendors``), plus the explicit
:class:`~sourcing.simulation.assumptions.Assumptions` (all defaults documented, with units, and
overridable).  The factories of :mod:`~sourcing.simulation.options` build the standard options
from a :class:`~sourcing.Tender`.

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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..allocation.policy import DEFAULT_BACKUP_SHARE_PCT
from ..allocation.risk import recourse_fill
from ..tender import DEFAULT_CURRENCY
from .assumptions import Assumptions
from .distributions import (
    _Z_CLIP,
    Compound,
    Constant,
    Distribution,
    as_distribution,
    compound,
    pert,
)

__all__ = ["DRIVERS", "INHOUSE", "SourcingScenario"]

#: Provider id of in-house delivery.
INHOUSE = "inhouse"
#: Cost drivers reported per draw, in this order.
DRIVERS = ("service", "escalation", "fx", "transition", "governance", "sla_credits",
           "business_impact", "vendor_failure", "security", "attrition", "other")


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
    backup_share : float
        Least ``lot_share`` of a vendor that counts as a warm backup in the failure recourse
        [fraction; the award's ``Policy.backup_share``, default 5 %].
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
    backup_share: float = DEFAULT_BACKUP_SHARE_PCT / 100.0

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
        if not 0 <= float(self.backup_share) <= 1:
            raise ValueError(f"SourcingScenario {self.name!r}: backup_share must be a fraction in [0, 1], "
                             f"got {self.backup_share!r}")
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
        shares = lines["lot_share"].to_numpy(float)
        swpu = lines["switch_per_unit"].to_numpy(float)
        for v in vend:
            recourse = []
            for r in np.flatnonzero(prov_arr == v):
                if units[r] <= 0:
                    continue
                others = np.flatnonzero((li == li[r]) & (prov_arr != v) & (prov_arr != INHOUSE)
                                        & (shares >= self.backup_share * (1 - 1e-9)))
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
    *esc* (T, hits) the fee index.  Each line's units go where the recourse rule sends them
    (:func:`sourcing.allocation.risk.recourse_fill`, the rule of the risk-aware award).
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
        fill, rate_yr, rate_sw = recourse_fill(units, gy, after, warm_p, warm_spare, p_v, sw,
                                               warm_switch_share=warm_share, failure_premium=premium)
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
