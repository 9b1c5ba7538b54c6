"""The policy rules: one class per rule, the one home of its rows, its check and its breaches.

Every rule of a :class:`~sourcing.allocation.policy.Policy` (and the demand rows every award has)
is one :class:`Rule` in :data:`REGISTRY`.  A rule gives

* ``blocks(lay, policy)``: its rows of the award MILP, as :class:`~sourcing.allocation.arrays.Block`
  s over the model's column layout (:func:`~sourcing.allocation.model.build_model` stacks them; the
  risk-aware model of :mod:`~sourcing.allocation.risk` stacks the same blocks under its scenario
  blocks).  Rules enforced by the price segments themselves (share limits, exclusions: see
  :func:`~sourcing.allocation._data.make_instance`) have no rows;
* ``values(check, policy)``: its value on given volumes, one :class:`Value` per lot, vendor or the
  whole award (:func:`rule_values`, from which the binding rules and
  :func:`~sourcing.allocation.award.violations` are read);
* ``breaches(check, policy)``: the structured :class:`Breach` records of volumes that break it,
  worded once by :func:`sourcing.narrative.breach_sentences` for the decision, the diagnosis of an
  infeasible policy and the award's checks.

Per-lot overrides of the vendor count (``lot_vendors``: lot index -> ``(least, most)``, used to
price a backup vendor lot by lot) are read in one place, :func:`vendor_limits`, by the rows, the
checks and the tightened segment caps alike.

Adding a rule is one class here (appended to :data:`REGISTRY`), its field on ``Policy`` and its
wording in :func:`sourcing.narrative.breach_sentences`.

The scoped rules of ``Policy.rules`` (:mod:`~sourcing.allocation.scoped`) are one entry,
:class:`ScopedRules`: rows, values and breaches for every measure, each rule under its label (the
buyer's ``name`` or generated words), which its rows carry for the shadow prices and its breach
records (``Breach.scoped``) for the words.  The rows read the rules resolved against the tender
(``Instance.rules``), the checks those of ``Check.rules`` or, when a policy names ids only, the
policy's own (:func:`concrete_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .arrays import EQ, GE, LE, Block, block, group_rows, summed

__all__ = ["REGISTRY", "Breach", "Check", "Rule", "Value", "breaches", "concrete_rules", "rule",
           "rule_values", "vendor_count_rules", "vendor_limits"]

#: Volumes below this (units/year) are no award (a vendor with less is not counted on a lot).
AWARDED = 1e-9


@dataclass(frozen=True)
class Value:
    """A rule's value on an award over one scope: ``value (sense) limit`` must hold."""

    rule: str
    scope: str            # lot id, vendor id or "all"
    value: float
    limit: float
    sense: str            # ">=", "<=" or "==" (demand)


@dataclass(frozen=True)
class Breach:
    """Volumes that break a rule: which rule, where, by how much.

    Attributes
    ----------
    rule : str
        The rule's name (a field of ``Policy``, or ``"demand"``).
    lots, vendors : tuple of str
        The lot ids and vendor ids concerned (a share breach names both; ``()`` for none).
    value, limit : float
        The rule's value on the volumes and its limit, in the rule's unit (vendors, lots, percent,
        points, units/year or tender currency per year).
    """

    rule: str
    lots: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()
    value: float = float("nan")
    limit: float = float("nan")
    scoped: object = None   # the ScopedRule broken (rule "rules")
    group: str = ""         # the value of its ``per`` column broken (e.g. a country)


@dataclass
class Check:
    """What a rule's check reads: an award as vendor x lot arrays.

    Attributes
    ----------
    vendor_ids, lot_ids : list of str
    volumes, spend : ndarray (V, L)
        Units/year and unit-price spend (tender currency per year) of each vendor on each lot.
    demand : ndarray (L,), optional
        Annual demand; None where the volumes need not meet it (a sourcing option's outsourced
        part).
    quality, risk_score : ndarray (V,), optional
        Vendor quality and risk (0-100); the rules on them are not checked without them.
    total_cost : float, optional
        Total annual cost with one-off costs annualised (tender currency per year), for the budget.
    lot_vendors : dict
        Lot index -> ``(least, most)`` vendor count replacing the policy's on that lot.
    rules : tuple of ScopedRule
        The policy's scoped rules resolved against the tender (explicit ids; see
        :func:`~sourcing.allocation.scoped.resolve`); empty: the policy's own, which then must
        name ids only.
    """

    vendor_ids: list[str]
    lot_ids: list[str]
    volumes: np.ndarray
    spend: np.ndarray
    demand: np.ndarray | None = None
    quality: np.ndarray | None = None
    risk_score: np.ndarray | None = None
    total_cost: float | None = None
    lot_vendors: dict = field(default_factory=dict)
    rules: tuple = ()

    @property
    def awarded(self) -> np.ndarray:
        return self.volumes > AWARDED

    @property
    def share(self) -> np.ndarray:
        """Fraction of each lot's demand (of the volumes' total where no demand is given)."""
        d = self.demand if self.demand is not None else self.volumes.sum(axis=0)
        return self.volumes / np.maximum(d, 1e-300)


def vendor_limits(policy, n_lots: int, lot_vendors: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Least and most vendors on each lot (NaN: no limit), the policy's with the per-lot
    overrides *lot_vendors* (lot index -> ``(least or None, most or None)``, replacing both)."""
    lo = np.full(n_lots, np.nan if policy.min_vendors_per_lot is None else float(policy.min_vendors_per_lot))
    hi = np.full(n_lots, np.nan if policy.max_vendors_per_lot is None else float(policy.max_vendors_per_lot))
    for j, (a, b) in (lot_vendors or {}).items():
        lo[j] = np.nan if a is None else float(a)
        hi[j] = np.nan if b is None else float(b)
    return lo, hi


class Rule:
    """One policy rule (see the module notes); subclasses set the attributes and override what
    applies.

    Attributes
    ----------
    name : str
        The ``Policy`` field (``"demand"`` for the demand rows).
    sense : {">=", "<="}
        How ``value`` must compare with ``limit``.
    description : str
        Words for the rule-cost table.
    vendor_count : bool
        The rule forces or forbids a second vendor on a lot: lifted to price a backup vendor.
    on_options : bool
        The rule is checked on a sourcing option's split (``decision.policy_breaches``): rules on
        vendors and shares; not demand, quality, risk, budget or include, which an option's
        outsourced part does not carry.
    money : bool
        Its rows are on spend or cost: stacked after the rows on volumes.
    """

    name = ""
    sense = "<="
    description = ""
    vendor_count = False
    on_options = True
    money = False

    def active(self, policy, lot_vendors: dict | None = None) -> bool:
        return getattr(policy, self.name) not in (None, (), {})

    def blocks(self, lay, policy) -> list[Block]:
        """Rows of the award model (none: enforced by the price segments)."""
        return []

    def values(self, chk: Check, policy) -> list[Value]:
        raise NotImplementedError

    def breaches(self, chk: Check, policy, *, atol: float = 1e-6) -> list[Breach]:
        """Breach records of the volumes in *chk* (tolerance *atol* relative to the limit)."""
        out = []
        for v in self.values(chk, policy):
            if _broken(v, atol):
                lots = (v.scope,) if v.scope in chk.lot_ids else ()
                vendors = (v.scope,) if not lots and v.scope in chk.vendor_ids else ()
                out.append(Breach(self.name, lots, vendors, float(v.value), float(v.limit)))
        return out


def _broken(v: Value, atol: float) -> bool:
    rel = atol * max(1.0, abs(v.limit))
    if v.sense == ">=":
        return v.value < v.limit - rel
    if v.sense == "<=":
        return v.value > v.limit + rel
    return abs(v.value - v.limit) > rel


# ---------------------------------------------------------------------- row helpers
def _per_lot(lay, cols: np.ndarray, coef, lots: np.ndarray | None = None):
    """Triplets of one row per lot summing ``coef * col`` over the lot's segments."""
    lots = np.arange(lay.inst.n_lots) if lots is None else lots
    return group_rows(lay.seg_l, cols, coef, lots, lay.inst.n_lots, order=lay.by_lot)


def _per_vendor(lay, cols: np.ndarray, coef, vendors: np.ndarray):
    return group_rows(lay.seg_v, cols, coef, vendors, lay.inst.n_vendors, order=lay.by_vendor)


def _lots_with_bids(lay) -> np.ndarray:
    return np.unique(lay.seg_l)


def spend_columns(lay, segs: np.ndarray):
    """Columns and coefficients of the unit-price spend of segments *segs*."""
    inst = lay.inst
    return (np.concatenate([lay.x(segs), lay.z(segs)]),
            np.concatenate([inst.seg_price[segs], inst.seg_intercept[segs]]))


def _lot_average(chk: Check, score: np.ndarray) -> np.ndarray:
    total = chk.volumes.sum(axis=0)
    return (np.nan_to_num(score) @ chk.volumes) / np.maximum(total, 1e-12)


# ---------------------------------------------------------------------- the rules
class Demand(Rule):
    """Each lot's demand is met: ``sum x == d`` (``exact``) or ``>= d (1 - tol)`` (``at_least``, or
    ``exact`` with a tolerance, which adds ``<= d (1 + tol)``).  Violation unit: 1 % of demand."""

    name = "demand"
    sense = "=="
    description = "demand met"
    on_options = False

    def active(self, policy, lot_vendors=None) -> bool:
        return True

    def blocks(self, lay, policy):
        d = lay.inst.demand
        L = len(d)
        tol = policy.demand_tolerance_pct / 100.0
        r, c, a = _per_lot(lay, lay.x(), 1.0)
        if policy.demand == "exact" and tol == 0:
            return [block("demand", "lot", np.arange(L), r, c, a, EQ, d, scale=d / 100, names=("demand",))]
        if policy.demand == "at_least":
            return [block("demand", "lot", np.arange(L), r, c, a, GE, d * (1 - tol), scale=d / 100,
                          names=("demand",))]
        # rows demand_j (>=) and demand_max_j (<=), per lot
        return [block("demand", "lot", np.repeat(np.arange(L), 2),
                      np.concatenate([2 * r, 2 * r + 1]), np.tile(c, 2), np.tile(a, 2),
                      np.tile([GE, LE], L), np.column_stack([d * (1 - tol), d * (1 + tol)]).ravel(),
                      scale=np.repeat(d / 100, 2), names=("demand", "demand_max"), kind=np.tile([0, 1], L))]

    def values(self, chk, policy):
        if chk.demand is None:
            return []
        got = chk.volumes.sum(axis=0)
        sense = "==" if policy.demand == "exact" else ">="
        return [Value(self.name, lot, float(got[j]), float(chk.demand[j]), sense)
                for j, lot in enumerate(chk.lot_ids)]

    def breaches(self, chk, policy, *, atol=1e-6):
        tol = policy.demand_tolerance_pct / 100.0
        out = []
        for v in self.values(chk, policy):
            rel = atol * max(1.0, abs(v.limit))
            lo = v.limit * (1 - tol) - rel
            hi = v.limit * (1 + tol) + rel if v.sense == "==" else np.inf
            if not lo <= v.value <= hi:
                out.append(Breach(self.name, (v.scope,), (), v.value, v.limit))
        return out


class _VendorsPerLot(Rule):
    vendor_count = True
    _side = 0            # 0: least (vendor_limits' first array), 1: most
    _code = GE
    _prefix = ""

    def active(self, policy, lot_vendors=None) -> bool:
        if getattr(policy, self.name) is not None:
            return True
        return any(b[self._side] is not None for b in (lot_vendors or {}).values())

    def _limits(self, n_lots, policy, lot_vendors):
        return vendor_limits(policy, n_lots, lot_vendors)[self._side]

    def blocks(self, lay, policy):
        if not self.active(policy, lay.lot_vendors):
            return []
        k = self._limits(lay.inst.n_lots, policy, lay.lot_vendors)
        lots = np.flatnonzero(np.isfinite(k))
        r, c, a = _per_lot(lay, lay.z(), 1.0, lots)
        return [block(self.name, "lot", lots, r, c, a, self._code, k[lots], scale=0.1,
                      names=(self._prefix,))]

    def values(self, chk, policy):
        if not self.active(policy, chk.lot_vendors):
            return []
        k = self._limits(len(chk.lot_ids), policy, chk.lot_vendors)
        n = chk.awarded.sum(axis=0)
        return [Value(self.name, lot, float(n[j]), float(k[j]), self.sense)
                for j, lot in enumerate(chk.lot_ids) if np.isfinite(k[j])]


class MinVendorsPerLot(_VendorsPerLot):
    """At least ``min_vendors_per_lot`` vendors in every lot: ``sum z >= k``."""

    name = "min_vendors_per_lot"
    sense = ">="
    description = "minimum vendors per lot (dual sourcing)"
    _side, _code, _prefix = 0, GE, "min_vendors"


class MaxVendorsPerLot(_VendorsPerLot):
    """At most ``max_vendors_per_lot`` vendors in every lot: ``sum z <= k``."""

    name = "max_vendors_per_lot"
    sense = "<="
    description = "maximum vendors per lot"
    _side, _code, _prefix = 1, LE, "max_vendors"


class _LotAverage(Rule):
    """A volume-weighted vendor score per lot with a bid against a limit:
    ``sum (score[v] - limit) x (sense) 0``.  Violation unit: one point x the lot's demand."""

    on_options = False
    _prefix = ""

    _attribute = ""  # the vendor score read: an attribute of the Instance and of the Check

    def _score(self, obj):
        return getattr(obj, self._attribute)

    def blocks(self, lay, policy):
        limit = getattr(policy, self.name)
        if limit is None:
            return []
        lots = _lots_with_bids(lay)
        coef = self._score(lay.inst)[lay.seg_v] - limit
        r, c, a = _per_lot(lay, lay.x(), coef, lots)
        return [block(self.name, "lot", lots, r, c, a, GE if self.sense == ">=" else LE, 0.0,
                      scale=lay.inst.demand[lots], names=(self._prefix,))]

    def values(self, chk, policy):
        limit = getattr(policy, self.name)
        score = self._score(chk)
        if limit is None or score is None:
            return []
        avg = _lot_average(chk, score)
        return [Value(self.name, lot, float(avg[j]), float(limit), self.sense)
                for j, lot in enumerate(chk.lot_ids)]


class QualityFloor(_LotAverage):
    """Volume-weighted quality of every lot at least ``quality_floor`` (0-100)."""

    name = "quality_floor"
    sense = ">="
    description = "quality floor"
    _prefix = "quality"

    _attribute = "quality"


class RiskCap(_LotAverage):
    """Volume-weighted vendor ``risk_score`` of every lot at most ``risk_cap`` (0-100)."""

    name = "risk_cap"
    sense = "<="
    description = "risk cap"
    _prefix = "risk"

    _attribute = "risk_score"


class MaxVendorsTotal(Rule):
    """At most ``max_vendors_total`` vendors engaged: ``sum u <= k``."""

    name = "max_vendors_total"
    description = "maximum vendors overall"
    vendor_count = True

    def blocks(self, lay, policy):
        if policy.max_vendors_total is None:
            return []
        cols = lay.u_col[lay.vendors]
        return [block(self.name, "all", [0], np.zeros(len(cols)), cols, 1.0, LE,
                      float(policy.max_vendors_total), scale=0.1, names=(self.name,))]

    def values(self, chk, policy):
        if policy.max_vendors_total is None:
            return []
        n = chk.awarded.any(axis=1).sum()
        return [Value(self.name, "all", float(n), float(policy.max_vendors_total), self.sense)]


class MaxLotsPerVendor(Rule):
    """At most ``max_lots_per_vendor`` lots per vendor: ``sum_s z[s] <= k`` over its segments."""

    name = "max_lots_per_vendor"
    description = "maximum lots per vendor"

    def blocks(self, lay, policy):
        if policy.max_lots_per_vendor is None:
            return []
        r, c, a = _per_vendor(lay, lay.z(), 1.0, lay.vendors)
        return [block(self.name, "vendor", lay.vendors, r, c, a, LE, float(policy.max_lots_per_vendor),
                      scale=0.1, names=("max_lots",))]

    def values(self, chk, policy):
        if policy.max_lots_per_vendor is None:
            return []
        n = chk.awarded.sum(axis=1)
        return [Value(self.name, vid, float(n[v]), float(policy.max_lots_per_vendor), self.sense)
                for v, vid in enumerate(chk.vendor_ids) if n[v]]


class Include(Rule):
    """Every included vendor gets some volume: ``sum_s z[s] >= 1`` over its segments; a vendor
    without a usable bid gets the infeasible row ``0 >= 1``."""

    name = "include"
    sense = ">="
    description = "vendors that must be included"
    on_options = False

    def blocks(self, lay, policy):
        ids = lay.inst.vendor_ids
        wanted = np.array(sorted(ids.index(v) for v in policy.include), np.int64)
        with_bid = wanted[lay.u_col[wanted] >= 0] if len(wanted) else wanted
        out = []
        if len(with_bid):
            r, c, a = _per_vendor(lay, lay.z(), 1.0, with_bid)
            out.append(block(self.name, "vendor", with_bid, r, c, a, GE, 1.0, scale=0.1, names=("include",)))
        nobid = [ids.index(v) for v in policy.include if lay.u_col[ids.index(v)] < 0]
        if nobid:
            out.append(block(self.name, "vendor", nobid, [], [], [], GE, 1.0, scale=1.0,
                             names=("include_nobid",)))
        return out

    def values(self, chk, policy):
        engaged = chk.awarded.any(axis=1)
        return [Value(self.name, vid, float(engaged[v]), 1.0, self.sense)
                for v, vid in enumerate(chk.vendor_ids) if vid in policy.include]


class Exclude(Rule):
    """Excluded vendors get no volume (their bids are not in the model)."""

    name = "exclude"
    description = "excluded vendors"

    def values(self, chk, policy):
        vol = chk.volumes.sum(axis=1)
        return [Value(self.name, vid, float(vol[v]), 0.0, self.sense)
                for v, vid in enumerate(chk.vendor_ids) if vid in policy.exclude]

    def breaches(self, chk, policy, *, atol=1e-6):
        return [Breach(self.name, (), (v.scope,), v.value, v.limit)
                for v in self.values(chk, policy) if v.value > AWARDED]


class _Share(Rule):
    """A vendor's share of a lot's demand (percent) against a limit; enforced by the price
    segments (a bid's volume range), checked per vendor and lot."""

    def _limit(self, policy, lot: str):
        raise NotImplementedError

    def _pairs(self, chk, policy):
        """(lot index, lot, vendor index, share %) of every awarded pair under this rule."""
        pct = 100 * chk.share
        awarded = chk.awarded
        for j, lot in enumerate(chk.lot_ids):
            if self._limit(policy, lot) is None:
                continue
            for v in np.flatnonzero(awarded[:, j]).tolist():
                yield j, lot, v, float(pct[v, j])

    def values(self, chk, policy):
        worst: dict[str, float] = {}
        pick = max if self.sense == "<=" else min
        for _j, lot, _v, sh in self._pairs(chk, policy):
            worst[lot] = pick(worst.get(lot, sh), sh)
        return [Value(self.name, lot, sh, float(self._limit(policy, lot)), self.sense)
                for lot, sh in worst.items()]

    def breaches(self, chk, policy, *, atol=1e-6):
        out = []
        for _j, lot, v, sh in self._pairs(chk, policy):
            val = Value(self.name, lot, sh, float(self._limit(policy, lot)), self.sense)
            if _broken(val, atol):
                out.append(Breach(self.name, (lot,), (chk.vendor_ids[v],), sh, val.limit))
        return out


class MinSharePct(_Share):
    """No token awards: a vendor awarded a lot gets at least ``min_share_pct`` % of its demand."""

    name = "min_share_pct"
    sense = ">="
    description = "minimum share if awarded"

    def _limit(self, policy, lot):
        return policy.min_share_pct


class MaxSharePct(_Share):
    """At most ``max_share_pct`` % of a lot's demand with one vendor (lots without a per-lot cap)."""

    name = "max_share_pct"
    description = "maximum share per vendor and lot"
    vendor_count = True

    def _limit(self, policy, lot):
        if lot in (policy.max_share_pct_by_lot or {}):
            return None
        return policy.max_share_pct


class MaxSharePctByLot(_Share):
    """The per-lot share caps ``max_share_pct_by_lot`` (lot id -> percent)."""

    name = "max_share_pct_by_lot"
    description = "per-lot share caps"
    vendor_count = True

    def _limit(self, policy, lot):
        return (policy.max_share_pct_by_lot or {}).get(lot)


class MaxSpendSharePct(Rule):
    """Each vendor's unit-price spend at most ``max_spend_share_pct`` % of the total:
    ``spend_v - c T <= 0`` with ``T`` the total spend (a structural row defines it).  Violation
    unit: 1 % of the cost scale."""

    name = "max_spend_share_pct"
    description = "spend concentration cap"
    vendor_count = True
    money = True

    def blocks(self, lay, policy):
        if policy.max_spend_share_pct is None:
            return []
        col, coef = spend_columns(lay, np.arange(lay.S))
        t = lay.groups["spend_total"][0]
        total = block("spend_total", "all", [0], np.zeros(len(col) + 1), np.append(col, t),
                      np.append(coef, -1.0), EQ, 0.0, names=("spend_total",), structural=True)
        r, c, a = group_rows(np.tile(lay.seg_v, 2), col, coef, lay.vendors, lay.inst.n_vendors)
        nv = len(lay.vendors)
        share = policy.max_spend_share_pct / 100.0
        cap = block(self.name, "vendor", lay.vendors, np.concatenate([r, np.arange(nv)]),
                    np.concatenate([c, np.full(nv, t)]), np.concatenate([a, np.full(nv, -share)]), LE, 0.0,
                    scale=(lay.cost_ref or 1.0) / 100, names=("concentration",))
        return [total, cap]

    def values(self, chk, policy):
        if policy.max_spend_share_pct is None:
            return []
        spend = chk.spend.sum(axis=1)
        engaged = chk.awarded.any(axis=1)
        with np.errstate(invalid="ignore"):  # volume no bid segment admits: spend inf, a "bid"
            pct = 100 * spend / max(float(spend.sum()), 1e-12)  # breach of its own (violations)
        return [Value(self.name, vid, float(pct[v]), float(policy.max_spend_share_pct), self.sense)
                for v, vid in enumerate(chk.vendor_ids) if engaged[v]]


class ScopedRules(Rule):
    """The policy's scoped rules (``Policy.rules``, :mod:`~sourcing.allocation.scoped`): per rule,
    one row per key of its ``per`` (the whole scope, a lot, a vendor or a group of vendors).

    Rows (``p`` the value as a fraction, ``K`` the scope's segments of the key):

    * ``demand_share``: ``sum_K x (sense) p D`` with ``D`` the demand of the scope's lots (of the
      key's lot for ``per: lot``); violation unit 1 % of ``D``;
    * ``spend_share``: ``sum_K spend - p sum_lots spend (sense) 0`` with the spend of every
      vendor on the scope's lots (on the key's lot for ``per: lot``); unit 1 % of the cost scale;
    * ``vendors``: ``sum_K z (sense) k`` on each lot, or ``sum u (sense) k`` over the key's vendors
      (with ``u[v] <= sum_s z[s]`` for a lower bound, so an engaged vendor holds volume);
    * ``lots``: ``sum z (sense) k`` over each vendor's segments on the scope's lots;
    * ``same_vendor``: at most one vendor per lot (``sum z <= 1``), each vendor's binaries equal
      on every lot (``z(v, l) - z(v, l0) == 0``), none for vendors outside the scope;
    * ``only``: ``sum x <= 0`` over the segments of vendors outside the scope on its lots.
    """

    name = "rules"
    sense = "<="
    description = "scoped rules"

    def active(self, policy, lot_vendors=None) -> bool:
        return bool(getattr(policy, "rules", ()))

    def blocks(self, lay, policy):
        out = []
        inst = lay.inst
        for i, r in enumerate(concrete_rules(policy, inst.rules)):
            out += _scoped_blocks(lay, i, r)
        return out

    def _records(self, chk: Check, policy):
        """(rule, key kind, key label, Value) of every scoped rule's every key."""
        out = []
        vol = chk.volumes
        d = chk.demand if chk.demand is not None else vol.sum(axis=0)
        awarded = chk.awarded
        for r in concrete_rules(policy, chk.rules):
            vm, lm = _masks(r, chk.vendor_ids, chk.lot_ids)
            if not lm.any():
                continue
            m, per, label = r.measure, r.per_, r.label
            if m in ("same_vendor", "only"):
                outside = vol[~vm][:, lm].sum()
                share = 100 * outside / max(float(d[lm].sum()), 1e-300)
                if m == "same_vendor":
                    holders = float(awarded[:, lm].any(axis=1).sum())
                    out.append((r, "all", "", Value(self.name, label, holders, 1.0, "<=")))
                if r.vendors is not None or m == "only":
                    out.append((r, "all", "", Value(self.name, label, float(share), 0.0, "<=")))
                continue
            keys, kind, labels = _keys(r, chk.vendor_ids, chk.lot_ids, vm, lm)
            if m in ("demand_share", "spend_share"):
                amount = vol if m == "demand_share" else chk.spend
                ok = keys >= 0
                with np.errstate(invalid="ignore"):
                    num = np.bincount(keys[ok], weights=amount[ok], minlength=len(labels))
                    if m == "demand_share":
                        den = d[lm].sum() if per != "lot" else d
                    else:
                        den = chk.spend[:, lm].sum() if per != "lot" else chk.spend.sum(axis=0)
                    den = np.broadcast_to(np.asarray(den, float), num.shape)
                    val = np.where(den > 0, 100 * num / np.maximum(den, 1e-300), 0.0)
            elif m == "vendors" and per == "lot":
                val = (awarded & vm[:, None]).sum(axis=0).astype(float)
            elif m == "vendors":
                engaged = awarded[:, lm].any(axis=1) & vm
                vkey = keys.max(axis=1) if keys.size else np.full(len(vm), -1)
                val = np.bincount(vkey[engaged & (vkey >= 0)], minlength=len(labels)).astype(float)
            else:  # lots per vendor
                val = (awarded & lm[None, :]).sum(axis=1).astype(float)
            for k in _candidates(r, kind, vm, lm, labels):
                scope = f"{label} [{labels[k]}]" if kind != "all" else label
                out.append((r, kind, labels[k], Value(self.name, scope, float(val[k]), r.limit, r.sense)))
        return out

    def values(self, chk, policy):
        return [v for *_, v in self._records(chk, policy)]

    def breaches(self, chk, policy, *, atol=1e-6):
        out = []
        for r, kind, key, v in self._records(chk, policy):
            if _broken(v, atol):
                lots = (key,) if kind == "lot" else ()
                vendors = (key,) if kind == "vendor" else ()
                out.append(Breach(self.name, lots, vendors, float(v.value), float(v.limit), r,
                                  key if kind == "group" else ""))
        return out


def concrete_rules(policy, resolved=()) -> tuple:
    """The policy's scoped rules with explicit ids: each as it stands when it names ids only, else
    its resolved form from *resolved* (matched by label)."""
    known = {r.label: r for r in resolved}
    out = []
    for r in getattr(policy, "rules", ()):
        if r.label in known:
            out.append(known[r.label])
        elif r.resolved:
            out.append(r)
        else:
            raise ValueError(f"scoped rule {r.label!r} selects lots by tower or vendors by a column: "
                             "resolve it against the tender first (sourcing.allocation.scoped.resolve)")
    return tuple(out)


def _masks(r, vendor_ids, lot_ids) -> tuple[np.ndarray, np.ndarray]:
    return _id_mask(vendor_ids, r.vendors), _id_mask(lot_ids, r.lots)


def _id_mask(ids, chosen) -> np.ndarray:
    """Which of *ids* are in *chosen* (all of them for None), by a hash lookup: ``np.isin`` on
    object arrays sorts strings, 40 ms a rule at 6,000 lots."""
    if chosen is None:
        return np.ones(len(ids), bool)
    wanted = set(chosen)
    return np.fromiter((x in wanted for x in ids), bool, len(ids))


def _keys(r, vendor_ids, lot_ids, vm, lm):
    """Key of each vendor x lot cell in the rule's scope (-1 outside), the key's kind (``all``,
    ``lot``, ``vendor``, ``group``) and the keys' labels."""
    V, L = len(vendor_ids), len(lot_ids)
    inside = vm[:, None] & lm[None, :]
    per = r.per_
    if per == "all":
        keys, kind, labels = np.zeros((V, L), np.int64), "all", [""]
    elif per == "lot":
        keys, kind, labels = np.broadcast_to(np.arange(L), (V, L)).copy(), "lot", list(lot_ids)
    elif per == "vendor":
        keys, kind, labels = np.broadcast_to(np.arange(V)[:, None], (V, L)).copy(), "vendor", list(vendor_ids)
    else:
        groups = r.groups or {}
        labels = sorted({groups[v] for v in vendor_ids if v in groups})
        at = {g: k for k, g in enumerate(labels)}
        gv = np.array([at.get(groups.get(v), -1) for v in vendor_ids], np.int64)
        keys, kind = np.broadcast_to(gv[:, None], (V, L)).copy(), "group"
        inside &= gv[:, None] >= 0
    keys[~inside] = -1
    return keys, kind, labels


def _candidates(r, kind, vm, lm, labels) -> list[int]:
    """Keys that get a bound: the whole scope, its lots, its vendors or the groups of its vendors."""
    if kind == "all":
        return [0]
    if kind == "lot":
        return np.flatnonzero(lm).tolist()
    if kind == "vendor":
        return np.flatnonzero(vm).tolist()
    return list(range(len(labels)))


_CODE = {">=": GE, "<=": LE, "==": EQ}


def _scoped_blocks(lay, i: int, r) -> list[Block]:
    """The rows of scoped rule *r* (the *i*-th of the policy), each labelled with the scope its
    check names (the rule's label, with the lot, vendor or group of the row)."""
    import dataclasses

    rows = [b for b in _scoped_rows(lay, i, r) if b.n_rows]
    if r.measure in ("same_vendor", "only"):
        return [dataclasses.replace(b, labels=(r.label,) * b.n_rows) for b in rows]
    inst = lay.inst
    vm, lm = _masks(r, inst.vendor_ids, inst.lot_ids)
    _, kind, labels = _keys(r, inst.vendor_ids, inst.lot_ids, vm, lm)
    scopes = tuple(r.label if kind == "all" else f"{r.label} [{labels[k]}]"
                   for k in _candidates(r, kind, vm, lm, labels))
    return [b if b.structural else dataclasses.replace(b, labels=scopes) for b in rows]


def _scoped_rows(lay, i: int, r) -> list[Block]:
    """The rows of scoped rule *r* (the *i*-th of the policy) over the layout's columns."""
    inst = lay.inst
    vm, lm = _masks(r, inst.vendor_ids, inst.lot_ids)
    sv, sl = lay.seg_v, lay.seg_l
    seg_in = lm[sl]
    tag = f"rule{i}"
    d = inst.demand
    m, sense = r.measure, _CODE[r.sense]
    if m == "only":
        segs = np.flatnonzero(seg_in & ~vm[sv])
        D = float(d[lm].sum())
        return [block("rules", "all", [0], np.zeros(len(segs)), lay.x(segs), 1.0, LE, 0.0,
                      scale=max(D, 1e-9) / 100, names=(f"{tag}_only",))]
    if m == "same_vendor":
        out = []
        lots = np.flatnonzero(lm)
        r0, c0, a0 = _per_lot(lay, lay.z(), 1.0, lots)
        out.append(block("rules", "lot", lots, r0, c0, a0, LE, 1.0, scale=0.1, names=(f"{tag}_one",)))
        segs = np.flatnonzero(seg_in)
        bidders = np.unique(sv[segs])
        first, rest = lots[0], lots[1:]
        # one row per (bidder, later lot): z(v, l) - z(v, first) == 0
        pos_v = np.full(inst.n_vendors, -1, np.int64)
        pos_v[bidders] = np.arange(len(bidders))
        pos_l = np.full(inst.n_lots, -1, np.int64)
        pos_l[rest] = np.arange(len(rest))
        later = segs[sl[segs] != first]
        head = segs[sl[segs] == first]
        n_rest = len(rest)
        row = np.concatenate([pos_v[sv[later]] * n_rest + pos_l[sl[later]],
                              (pos_v[sv[head]][:, None] * n_rest + np.arange(n_rest)[None, :]).ravel()])
        col = np.concatenate([lay.z(later), np.repeat(lay.z(head), n_rest)])
        coef = np.concatenate([np.ones(len(later)), -np.ones(len(head) * n_rest)])
        keys = np.arange(len(bidders) * n_rest)
        out.append(block("rules", "segment", keys, row, col, coef, EQ, 0.0, scale=0.1,
                         names=(f"{tag}_together",)))
        if r.vendors is not None:
            segs = np.flatnonzero(seg_in & ~vm[sv])
            out.append(block("rules", "all", [0], np.zeros(len(segs)), lay.x(segs), 1.0, LE, 0.0,
                             scale=max(float(d[lm].sum()), 1e-9) / 100, names=(f"{tag}_outside",)))
        return out
    keys, kind, labels = _keys(r, inst.vendor_ids, inst.lot_ids, vm, lm)
    cand = np.asarray(_candidates(r, kind, vm, lm, labels), np.int64)
    seg_key = keys[sv, sl] if lay.S else np.zeros(0, np.int64)
    p = r.limit / 100.0
    scope, row_keys, names, kind_idx = _row_naming(kind, cand, tag, inst)
    if m == "demand_share":
        r_, c_, a_ = _keyed_rows(seg_key, lay.x(), 1.0, cand, len(labels))
        D = d if kind == "lot" else np.full(len(labels), float(d[lm].sum()))
        rhs = p * D[cand]
        return [block("rules", scope, row_keys, r_, c_, a_, sense, rhs, scale=np.maximum(D[cand], 1e-9) / 100,
                      names=names, kind=kind_idx)]
    if m == "spend_share":
        col, coef = spend_columns(lay, np.arange(lay.S))
        key2 = np.tile(seg_key, 2)
        r1, c1, a1 = _keyed_rows(key2, col, coef, cand, len(labels))
        lots2 = np.tile(sl, 2)
        if kind == "lot":
            r2, c2, a2 = group_rows(lots2, col, -p * coef, cand, inst.n_lots)
        else:
            den = np.flatnonzero(lm[lots2])
            r2 = np.repeat(np.arange(len(cand)), len(den))
            c2 = np.tile(col[den], len(cand))
            a2 = np.tile(-p * coef[den], len(cand))
        # a segment in the key's scope is in its numerator and denominator: one entry each
        rows, cols, coefs = summed(np.concatenate([r1, r2]), np.concatenate([c1, c2]),
                                   np.concatenate([a1, a2]))
        return [block("rules", scope, row_keys, rows, cols, coefs, sense, 0.0,
                      scale=(lay.cost_ref or 1.0) / 100, names=names,
                      kind=kind_idx)]
    if m == "lots" or (m == "vendors" and kind == "lot"):
        # per vendor: its segments on the scope's lots; per lot: the scope's vendors there
        r_, c_, a_ = _keyed_rows(seg_key, lay.z(), 1.0, cand, len(labels))
        return [block("rules", scope, row_keys, r_, c_, a_, sense, r.limit, scale=0.1, names=names,
                      kind=kind_idx)]
    # vendors over all lots: engaged binaries of the key's vendors
    vkey = keys.max(axis=1) if keys.size else np.full(inst.n_vendors, -1)
    with_bid = np.flatnonzero((vkey >= 0) & (lay.u_col >= 0))
    r_, c_, a_ = _keyed_rows(vkey[with_bid], lay.u_col[with_bid], 1.0, cand, len(labels))
    out = [block("rules", scope, row_keys, r_, c_, a_, sense, r.limit, scale=0.1, names=names, kind=kind_idx)]
    if r.sense in (">=", "==") and len(with_bid):
        # an engaged vendor holds volume: u[v] - sum_s z[s] <= 0
        rz, cz, az = _per_vendor(lay, lay.z(), -1.0, with_bid)
        out.append(block("rules_engaged", "vendor", with_bid, np.concatenate([np.arange(len(with_bid)), rz]),
                         np.concatenate([lay.u_col[with_bid], cz]),
                         np.concatenate([np.ones(len(with_bid)), az]), LE, 0.0,
                         names=(f"{tag}_engaged",), structural=True))
    return out


def _keyed_rows(keys, cols, coef, cand, n_keys):
    """:func:`group_rows` over the entries whose key is >= 0 (in the rule's scope)."""
    ok = np.asarray(keys) >= 0
    coef = np.broadcast_to(np.asarray(coef, float), ok.shape)
    return group_rows(np.asarray(keys)[ok], np.asarray(cols)[ok], coef[ok], cand, max(n_keys, 1))


def _row_naming(kind, cand, tag, inst):
    """Scope, keys, row-name prefixes and prefix index of a scoped rule's rows (names unique in
    the model: ``rule<i>_<lot or vendor index>``, ``rule<i>_g<k>`` per group)."""
    if kind == "lot":
        return "lot", cand, (tag,), None
    if kind == "vendor":
        return "vendor", cand, (tag,), None
    if kind == "group":
        return "all", cand, tuple(f"{tag}_g{k}" for k in cand.tolist()), np.arange(len(cand))
    return "all", cand, (tag,), None


class Budget(Rule):
    """Total annual cost (one-off costs annualised) at most the budget.  Violation unit: 1 % of
    the larger of the budget and the cost scale, so that an absurdly low budget is relaxed before
    any lot's demand in the elastic model."""

    name = "budget"
    description = "budget cap"
    on_options = False
    money = True

    def blocks(self, lay, policy):
        if policy.budget is None:
            return []
        coef, const = lay.total
        nz = np.flatnonzero(coef)
        ref = max(float(policy.budget), lay.budget_ref)
        return [block(self.name, "all", [0], np.zeros(len(nz)), nz, coef[nz], LE,
                      float(policy.budget) - const, scale=ref / 100, names=("budget",))]

    def values(self, chk, policy):
        if policy.budget is None or chk.total_cost is None:
            return []
        return [Value(self.name, "all", float(chk.total_cost), float(policy.budget), self.sense)]

    def breaches(self, chk, policy, *, atol=1e-6):
        # the cost as the award reports it, against the budget with a relative and absolute slack
        return [Breach(self.name, (), (), v.value, v.limit) for v in self.values(chk, policy)
                if v.value > v.limit * (1 + 1e-9) + 1e-6]


#: Every rule, in the order its rows are stacked (rows on volumes, then rows on money).
REGISTRY: tuple[Rule, ...] = (
    Demand(), MinVendorsPerLot(), MaxVendorsPerLot(), QualityFloor(), RiskCap(), MaxVendorsTotal(),
    MaxLotsPerVendor(), Include(), MinSharePct(), MaxSharePct(), MaxSharePctByLot(), Exclude(),
    ScopedRules(),
    MaxSpendSharePct(), Budget(),
)

_BY_NAME = {r.name: r for r in REGISTRY}


def rule(name: str) -> Rule:
    """The rule called *name*."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown rule {name!r}; valid rules: {', '.join(_BY_NAME)}") from None


def vendor_count_rules() -> tuple[str, ...]:
    """Rules that force or forbid a second vendor on a lot (lifted to price a backup vendor)."""
    return tuple(r.name for r in REGISTRY if r.vendor_count)


def rule_values(chk: Check, policy) -> list[Value]:
    """Every set rule's value on the volumes of *chk*."""
    return [v for r in REGISTRY if r.active(policy, chk.lot_vendors) for v in r.values(chk, policy)]


def breaches(chk: Check, policy, *, atol: float = 1e-6, options_only: bool = False) -> list[Breach]:
    """Breach records of the volumes of *chk* under *policy*, rule by rule in registry order
    (*options_only*: the rules checked on a sourcing option's split)."""
    return [b for r in REGISTRY if r.active(policy, chk.lot_vendors) and (r.on_options or not options_only)
            for b in r.breaches(chk, policy, atol=atol)]
