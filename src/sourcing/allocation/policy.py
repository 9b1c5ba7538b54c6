"""Sourcing policy: the rules an award must respect.

A :class:`Policy` is a frozen pydantic model, so it can be embedded in a YAML scenario file and
validated there.  Every rule is optional; ``Policy()`` only asks that each lot's demand is met.
Percentages are percent (``70`` means 70 %), money is in the tender currency per year.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .scoped import ScopedRule

__all__ = ["RULES", "Policy"]

#: Policy fields that are rules (constraints); ``constraint_costs`` relaxes them one at a time.
RULES = (
    "min_share_pct",
    "max_share_pct",
    "max_share_pct_by_lot",
    "min_vendors_per_lot",
    "max_vendors_per_lot",
    "max_vendors_total",
    "max_lots_per_vendor",
    "max_spend_share_pct",
    "quality_floor",
    "risk_cap",
    "budget",
    "include",
    "exclude",
    "rules",
)


#: Least share of a lot (percent) a warm backup holds when the policy sets no minimum share.
DEFAULT_BACKUP_SHARE_PCT = 5.0


class Policy(BaseModel):
    """Sourcing rules for an award; every rule is optional.

    Attributes
    ----------
    demand : {"exact", "at_least"}
        ``exact``: each lot gets exactly its annual demand (rows ``==``); ``at_least``: over-buying
        is allowed (rows ``>=``), which with all-unit discounts can be cheaper.
    demand_tolerance_pct : float
        Percent of annual demand the award may fall short of (and, for ``exact``, exceed).
    min_share_pct : float, optional
        No token awards: a vendor awarded a lot gets at least this percent of its demand.
    min_backup_share_pct : float, optional
        Percent of a lot's demand a vendor must hold to count as a warm backup when another
        vendor of the lot fails (the failure recourse of the risk-aware award and of the
        simulation); default ``min_share_pct``, or 5 % without one.  A vendor with less (a token
        award) is no backup: the failed volume goes to a cold replacement.
    max_share_pct : float, optional
        Most percent of a lot's demand one vendor may get.
    max_share_pct_by_lot : dict, optional
        Per-lot override of ``max_share_pct`` (lot_id -> percent), e.g. 70 on large lots.
    min_vendors_per_lot : int, optional
        Least vendors per lot; 2 is the backup-vendor (dual-sourcing) rule.
    max_vendors_per_lot : int, optional
        Most vendors per lot.
    max_vendors_total : int, optional
        Most vendors engaged overall (manageability).
    max_lots_per_vendor : int, optional
        Most lots one vendor may be awarded (total capacity of its account team).
    max_spend_share_pct : float, optional
        Most percent of total annual unit-price spend with one vendor (concentration risk).
    quality_floor : float, optional
        Least volume-weighted quality score (0-100) per lot.
    risk_cap : float, optional
        Most volume-weighted vendor ``risk.risk_score`` (0-100) per lot.
    budget : float, optional
        Most total annual cost, tender currency per year (one-off costs annualised, see ``one_off``).
    include : tuple of str
        Vendors that must be awarded some volume.
    exclude : tuple of str
        Vendors that get no volume (e.g. failed gates).
    switching_costs : bool
        Charge ``lots.switching_cost_per_unit`` for demand moved away from the incumbent.
    onboarding_costs : bool
        Charge ``risk.onboarding_cost`` once per newly engaged (non-incumbent) vendor.
    setup_costs : bool
        Charge ``bids.setup_cost`` once per awarded bid.
    one_off : {"straight", "annuity", "ignore"}
        How one-off costs (setup, onboarding, switching, tender currency) are compared with annual
        costs (tender currency per year): ``straight`` divides them by the contract years;
        ``annuity`` multiplies them by the annuity factor r / (1 - (1 + r)^-n) with the tender's
        discount rate r; ``ignore`` leaves them out of the objective (they are still reported).
    contract_years : int, optional
        Years to annualise over; default the tender's ``contract_years``.
    rules : tuple of ScopedRule
        Scoped rules (:mod:`~sourcing.allocation.scoped`): a share of demand or spend, a number
        of vendors or lots, or lots that go together, over some lots and vendors, each priced,
        diagnosed and checked on its own under its label (its ``name`` or generated words).
    tie_break : bool
        Break ties between equally cheap awards by a second, lexicographic objective: among
        optimal awards, put volume with vendors earlier in vendor order (file order of
        ``vendors``, else sorted ids).  Only applied when the first solve is proven optimal.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    demand: Literal["exact", "at_least"] = "exact"
    demand_tolerance_pct: float = Field(0.0, ge=0, lt=100)
    min_share_pct: float | None = Field(None, ge=0, le=100)
    min_backup_share_pct: float | None = Field(None, ge=0, le=100)
    max_share_pct: float | None = Field(None, gt=0, le=100)
    max_share_pct_by_lot: dict[str, float] | None = None
    min_vendors_per_lot: int | None = Field(None, ge=1)
    max_vendors_per_lot: int | None = Field(None, ge=1)
    max_vendors_total: int | None = Field(None, ge=1)
    max_lots_per_vendor: int | None = Field(None, ge=1)
    max_spend_share_pct: float | None = Field(None, gt=0, le=100)
    quality_floor: float | None = Field(None, ge=0, le=100)
    risk_cap: float | None = Field(None, ge=0, le=100)
    budget: float | None = Field(None, gt=0)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    switching_costs: bool = True
    onboarding_costs: bool = True
    setup_costs: bool = True
    one_off: Literal["straight", "annuity", "ignore"] = "straight"
    contract_years: int | None = Field(None, ge=1, le=30)
    tie_break: bool = True
    rules: tuple[ScopedRule, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        problems = []
        lo, hi = self.min_vendors_per_lot, self.max_vendors_per_lot
        if lo is not None and hi is not None and lo > hi:
            problems.append(f"min_vendors_per_lot ({lo}) > max_vendors_per_lot ({hi})")
        if lo is not None and self.max_vendors_total is not None and lo > self.max_vendors_total:
            problems.append(f"min_vendors_per_lot ({lo}) > max_vendors_total ({self.max_vendors_total})")
        if self.min_share_pct is not None and self.max_share_pct is not None and (
                self.min_share_pct > self.max_share_pct):
            problems.append(f"min_share_pct ({self.min_share_pct:g}) > max_share_pct "
                            f"({self.max_share_pct:g})")
        if self.min_share_pct and lo is not None and self.min_share_pct * lo > 100 + 1e-9:
            problems.append(f"min_vendors_per_lot ({lo}) x min_share_pct ({self.min_share_pct:g}) "
                            "exceeds 100 % of demand")
        caps = [self.max_share_pct] + list((self.max_share_pct_by_lot or {}).values())
        for cap in caps:
            if cap is not None and hi is not None and cap * hi < 100 - self.demand_tolerance_pct - 1e-9:
                problems.append(f"max_vendors_per_lot ({hi}) x max share ({cap:g} %) cannot cover "
                                "100 % of demand")
        for lot, cap in (self.max_share_pct_by_lot or {}).items():
            if not 0 < cap <= 100:
                problems.append(f"max_share_pct_by_lot[{lot!r}] = {cap:g} is not in (0, 100]")
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            problems.append("vendors both included and excluded: " + ", ".join(both))
        if self.max_vendors_total is not None and len(set(self.include)) > self.max_vendors_total:
            problems.append(f"{len(set(self.include))} vendors must be included but "
                            f"max_vendors_total is {self.max_vendors_total}")
        if self.max_spend_share_pct is not None and self.max_vendors_total is not None and (
                self.max_spend_share_pct * self.max_vendors_total < 100 - 1e-9):
            problems.append(f"max_vendors_total ({self.max_vendors_total}) x max_spend_share_pct "
                            f"({self.max_spend_share_pct:g}) cannot cover 100 % of spend")
        labels = [r.label for r in self.rules]
        twice = sorted({x for x in labels if labels.count(x) > 1})
        if twice:
            problems.append("scoped rules with the same name (give each its own name): " + "; ".join(twice))
        clash = sorted(set(labels) & set(RULES))
        if clash:
            problems.append("scoped rules named like a policy field: " + ", ".join(clash))
        if problems:
            raise ValueError("contradictory policy: " + "; ".join(problems))
        return self

    def active_rules(self) -> list[str]:
        """Names of the rules (see :data:`RULES`) this policy sets, then the labels of its scoped
        rules."""
        fields = [r for r in RULES if r != "rules" and getattr(self, r) not in (None, (), {})]
        return fields + self.scoped_labels()

    def scoped_labels(self) -> list[str]:
        """The labels of the scoped rules (``name`` or generated words), in order."""
        return [r.label for r in self.rules]

    @property
    def backup_share(self) -> float:
        """Least share of a lot's demand (fraction) a vendor holds to count as a warm backup."""
        pct = self.min_backup_share_pct
        if pct is None:
            pct = self.min_share_pct if self.min_share_pct is not None else DEFAULT_BACKUP_SHARE_PCT
        return float(pct) / 100.0

    def relaxed(self, rule: str) -> Policy:
        """A copy without *rule* (one of :data:`RULES`, or a scoped rule's label)."""
        if rule in self.scoped_labels():
            return self.model_copy(update={"rules": tuple(r for r in self.rules if r.label != rule)})
        if rule not in RULES:
            valid = ", ".join([*RULES, *self.scoped_labels()])
            raise ValueError(f"unknown rule {rule!r}; valid rules: {valid}")
        empty = () if rule in ("include", "exclude", "rules") else None
        return self.model_copy(update={rule: empty})
