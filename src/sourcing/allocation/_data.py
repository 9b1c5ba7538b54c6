"""Numeric instance of an allocation problem: validated arrays built from a tender or tables.

Everything downstream (model, heuristic, diagnosis) works on :class:`Instance`, a bundle of numpy
arrays, so it never touches pandas in inner loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cost_lines import onboarding_applies, setup_applies
from ..schemas import Problem, ValidationError
from ..tender import DEFAULT_CURRENCY
from .policy import Policy
from .scoped import resolve

__all__ = ["DEFAULT_CURRENCY", "MIN_AWARD", "Discount", "Instance", "discount_amounts", "make_instance"]

#: Least volume of an awarded bid, as a fraction of the lot's annual demand (0.01 %).
MIN_AWARD = 1e-4



@dataclass(frozen=True)
class Discount:
    """A conditional discount offered by one vendor (a row of the tender's ``discounts`` table).

    Attributes
    ----------
    id : str
    vendor : int
        Vendor index.
    condition : {"lots_at_least", "spend_at_least"}
    threshold : float
        Lots (a whole number), or spend before discounts in tender currency per year, on ``lots``.
    pct : float
        Percent off the vendor's fees on ``lots``.
    lots : ndarray of bool (L,)
        The lots the condition counts and the discount applies to.
    """

    id: str
    vendor: int
    condition: str
    threshold: float
    pct: float
    lots: np.ndarray


@dataclass
class Instance:
    """Arrays describing the problem after the policy's eligibility rules were applied.

    Bids (index ``b``) are split into price segments (index ``s``): a bid without tiers has one
    segment; a tiered bid has one per tier.  Segment ``s`` covers volumes ``[lo[s], hi[s]]`` at
    cost ``intercept[s] + price[s] * x`` (tender currency per year): all-unit tiers have
    intercept 0; incremental tiers have the intercept that makes the cost equal to the sum of the
    tier prices.

    A package bid (``bundles``) is one more segment on its vendor's bid for each of its lots (a
    *piece*, ``seg_bundle[s]`` its bundle, -1 for the lot bids' own segments; a bid made for a
    piece alone has only pieces): at most one segment of a bid is used, so a vendor serves a lot
    from its lot bid or from one package, never both.  An all-or-nothing piece is its fixed
    volume at a fixed price (``lo == hi``, price 0, the package price's share as intercept); a
    proportional piece is any fraction of its volume at that fraction of the price.  The package
    price is shared among its lots in proportion to volume x the lot's median bid price (for the
    spend by lot; the pieces add up to the package price).
    """

    vendor_ids: list[str]
    lot_ids: list[str]
    demand: np.ndarray            # (L,) units/year
    units: list[str]              # (L,) unit of each lot
    lot_incumbent: np.ndarray     # (L,) vendor index or -1
    switching: np.ndarray         # (L,) tender currency per unit moved, one-off
    bid_vendor: np.ndarray        # (B,)
    bid_lot: np.ndarray           # (B,)
    bid_setup: np.ndarray         # (B,) tender currency, one-off (0 for an incumbent's own lot)
    bid_capacity: np.ndarray      # (B,) units/year (inf = unlimited)
    bid_min: np.ndarray           # (B,) least units/year if awarded (bid min_volume)
    bid_type: list[str]           # (B,)
    seg_bid: np.ndarray           # (S,)
    seg_lo: np.ndarray            # (S,)
    seg_hi: np.ndarray            # (S,)
    seg_price: np.ndarray         # (S,) tender currency per unit per year
    seg_intercept: np.ndarray     # (S,) tender currency per year
    onboarding: np.ndarray        # (V,) tender currency, one-off (0 for incumbents)
    incumbent: np.ndarray         # (V,) bool
    risk_score: np.ndarray        # (V,) 0-100 or NaN
    quality: np.ndarray           # (V,) 0-100 or NaN
    eligible: np.ndarray          # (V,) bool: not excluded
    excluded_reason: dict[str, str]
    dropped_bids: list[tuple[str, str, str]]  # (vendor, lot, why) bids unusable under the policy
    annualise: float              # factor turning one-off amounts into amounts per year
    years: int
    has_quality: bool
    has_risk: bool
    currency: str = DEFAULT_CURRENCY  # ISO 4217 code of every amount (the tender's)
    rules: tuple = ()             # the policy's scoped rules resolved against the tender (ids)
    seg_bundle: np.ndarray | None = None   # (S,) bundle of a package piece, -1 (None: no bundles)
    piece_volume: np.ndarray | None = None  # (S,) a piece's volume when its package is taken whole
    bundle_ids: tuple = ()        # (K,) package bid ids
    bundle_vendor: np.ndarray | None = None       # (K,) vendor index
    bundle_price: np.ndarray | None = None        # (K,) package price, tender currency per year
    bundle_proportional: np.ndarray | None = None  # (K,) bool: may be taken in part
    discounts: tuple = ()         # Discount records of eligible vendors

    @property
    def lot_segment(self) -> np.ndarray:
        """(S,) bool: the segment is a lot bid's own (not a package piece)."""
        if self.seg_bundle is None:
            return np.ones(len(self.seg_bid), bool)
        return self.seg_bundle < 0

    @property
    def has_bundles(self) -> bool:
        """The instance has usable package bids (pieces among its segments)."""
        return self.seg_bundle is not None and len(self.bundle_ids) > 0

    @property
    def expressive(self) -> bool:
        """The instance has package bids or conditional discounts."""
        return bool(len(self.bundle_ids) or len(self.discounts))

    @property
    def n_vendors(self) -> int:
        return len(self.vendor_ids)

    @property
    def n_lots(self) -> int:
        return len(self.lot_ids)

    @property
    def seg_start(self) -> np.ndarray:
        """Offsets: the segments of bid ``b`` are ``seg_start[b]:seg_start[b + 1]`` (seg_bid is sorted)."""
        if getattr(self, "_seg_start", None) is None:
            self._seg_start = np.searchsorted(self.seg_bid, np.arange(len(self.bid_vendor) + 1))
        return self._seg_start

    def bid_costs(self, x: np.ndarray) -> np.ndarray:
        """Annual unit cost (tender currency per year) of volumes *x* (one per bid) at the
        cheapest segment of the lot bid that admits them (package pieces left out); 0 for no
        volume, inf when no segment admits the volume (vectorised)."""
        x = np.asarray(x, float)
        xs = x[self.seg_bid]
        ok = (self.seg_lo <= xs + 1e-7 * np.maximum(xs, 1)) & (self.seg_hi >= xs - 1e-7 * np.maximum(xs, 1))
        ok &= self.lot_segment
        c = np.where(ok, self.seg_intercept + self.seg_price * xs, np.inf)
        out = np.full(len(x), np.inf)
        np.minimum.at(out, self.seg_bid, c)
        out[x <= 1e-9] = 0.0
        return out

    def bid_cost(self, b: int, x: float) -> float:
        """Annual unit cost (tender currency per year) of volume *x* on bid *b* (cheapest feasible
        segment of the lot bid)."""
        if x <= 1e-9:
            return 0.0
        sl = slice(self.seg_start[b], self.seg_start[b + 1])
        lo, hi = self.seg_lo[sl], self.seg_hi[sl]
        ok = (lo <= x + 1e-7 * max(x, 1)) & (hi >= x - 1e-7 * max(x, 1)) & self.lot_segment[sl]
        if not ok.any():
            return float("inf")
        return float(np.min((self.seg_intercept[sl] + self.seg_price[sl] * x)[ok]))


def _frame(obj, name: str, index: str | None) -> pd.DataFrame:
    if not isinstance(obj, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(obj).__name__}")
    df = obj
    if index is not None and df.index.name != index:
        if index not in df.columns:
            raise ValueError(f"{name} needs a column or index named {index!r}")
        df = df.set_index(index)
    return df


def _need(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {', '.join(missing)} (see sourcing.schemas.TABLES)")


def _quality(quality) -> tuple[pd.Series | None, dict[str, str]]:
    """Quality scores (vendor -> 0..100) and exclusions from a Series or an Evaluation-like object."""
    if quality is None:
        return None, {}
    excluded: dict[str, str] = {}
    if isinstance(quality, pd.Series):
        q = quality
    elif hasattr(quality, "quality"):
        q = quality.quality
        ex = getattr(quality, "excluded", None)
        if isinstance(ex, pd.DataFrame) and len(ex):
            reasons = ex["reason"] if "reason" in ex.columns else pd.Series("excluded", index=ex.index)
            excluded = {str(v): str(r) for v, r in reasons.items()}
        if not isinstance(q, pd.Series):
            raise TypeError("quality.quality must be a pandas Series (vendor_id -> 0..100)")
    else:
        raise TypeError("quality must be a pandas Series (vendor_id -> score 0..100) or an object "
                        "with .quality (Series) and .excluded (DataFrame), e.g. scoring's Evaluation")
    q = pd.to_numeric(q, errors="coerce").astype(float)
    bad = q[(q < 0) | (q > 100)]
    if len(bad):
        raise ValueError("quality scores must be in [0, 100]; out of range: "
                         + ", ".join(f"{k}={v:g}" for k, v in bad.items()))
    return q, excluded


def make_instance(
    tender=None,
    policy: Policy | None = None,
    *,
    lots: pd.DataFrame | None = None,
    bids: pd.DataFrame | None = None,
    vendors: pd.DataFrame | None = None,
    tiers: pd.DataFrame | None = None,
    risk: pd.DataFrame | None = None,
    quality=None,
    need_quality: bool = False,
    bundles: pd.DataFrame | None = None,
    discounts: pd.DataFrame | None = None,
) -> Instance:
    """Validate inputs and build the numeric :class:`Instance` (see :func:`allocate`)."""
    policy = policy if policy is not None else Policy()
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be a sourcing.allocation.Policy, got {type(policy).__name__}")
    years = policy.contract_years
    rate = 0.08
    currency = DEFAULT_CURRENCY
    if tender is not None:
        lots = tender.lots if lots is None else lots
        bids = tender.bids if bids is None else bids
        vendors = tender.vendors if vendors is None else vendors
        tiers = tender.tiers if tiers is None else tiers
        risk = tender.risk if risk is None else risk
        bundles = getattr(tender, "bundles", None) if bundles is None else bundles
        discounts = getattr(tender, "discounts", None) if discounts is None else discounts
        years = years or tender.contract_years
        rate = tender.discount_rate
        currency = tender.currency
    if lots is None or bids is None:
        raise ValueError("give a tender, or both lots= and bids= tables")
    years = int(years or 5)
    lots = _frame(lots, "lots", "lot_id")
    bids = _frame(bids, "bids", None)
    _need(lots, "lots", ("annual_demand",))
    _need(bids, "bids", ("vendor_id", "lot_id", "unit_price"))
    lots = lots.copy()
    bids = bids.copy()
    for col, default in (("incumbent_vendor_id", None), ("switching_cost_per_unit", 0.0),
                         ("unit", "units")):
        if col not in lots.columns:
            lots[col] = default
    for col, default in (("capacity", np.nan), ("min_volume", 0.0), ("discount_type", "none"),
                         ("setup_cost", 0.0)):
        if col not in bids.columns:
            bids[col] = default
    problems: list[Problem] = []
    demand = pd.to_numeric(lots["annual_demand"], errors="coerce").astype(float)
    for i, (lot, d) in enumerate(demand.items()):
        if not np.isfinite(d) or d <= 0:
            problems.append(Problem("lots", i + 2, "annual_demand", str(lots["annual_demand"].iat[i]),
                                    f"demand of lot {lot} must be a number > 0"))
    price = pd.to_numeric(bids["unit_price"], errors="coerce").astype(float)
    for i in np.flatnonzero(~(price > 0).to_numpy()):
        problems.append(Problem("bids", int(i) + 2, "unit_price", str(bids["unit_price"].iat[i]),
                                "must be a number > 0"))
    for col in ("capacity", "min_volume", "setup_cost"):
        v = pd.to_numeric(bids[col], errors="coerce").astype(float)
        for i in np.flatnonzero((v < 0).to_numpy()):
            problems.append(Problem("bids", int(i) + 2, col, str(bids[col].iat[i]), "must be >= 0"))
    lot_ids = [str(x) for x in lots.index]
    known_lots = set(lot_ids)
    for i in np.flatnonzero(~bids["lot_id"].isin(known_lots).to_numpy()).tolist():
        lot = bids["lot_id"].iat[i]
        if lot not in known_lots:
            problems.append(Problem("bids", i + 2, "lot_id", str(lot), "unknown lot; valid: "
                                    + ", ".join(lot_ids[:12])))
    if vendors is not None:
        vendors = _frame(vendors, "vendors", "vendor_id")
        vendor_ids = [str(v) for v in vendors.index]
        known = set(vendor_ids)
        for i in np.flatnonzero(~bids["vendor_id"].isin(known).to_numpy()).tolist():
            v = bids["vendor_id"].iat[i]
            if v not in known:
                problems.append(Problem("bids", i + 2, "vendor_id", str(v), "unknown vendor"))
    else:
        named = bundles["vendor_id"] if "vendor_id" in getattr(bundles, "columns", ()) else []
        vendor_ids = sorted({str(v) for v in bids["vendor_id"]} | {str(v) for v in named})
    if problems:
        raise ValidationError(problems, title="invalid allocation input")

    vindex = {v: i for i, v in enumerate(vendor_ids)}
    lindex = {lot: j for j, lot in enumerate(lot_ids)}
    V, L = len(vendor_ids), len(lot_ids)
    # ----- policy references
    unknown = sorted({*policy.include, *policy.exclude} - set(vendor_ids))
    if unknown:
        raise ValueError("policy names unknown vendor(s) " + ", ".join(unknown)
                         + "; valid vendors: " + ", ".join(vendor_ids[:20]))
    unknown_lots = sorted(set(policy.max_share_pct_by_lot or {}) - known_lots)
    if unknown_lots:
        raise ValueError("max_share_pct_by_lot names unknown lot(s) " + ", ".join(unknown_lots)
                         + "; valid lots: " + ", ".join(lot_ids[:20]))
    scoped = resolve(policy.rules, vendor_ids=vendor_ids, lot_ids=lot_ids, vendors=vendors,
                     lots=lots) if policy.rules else ()
    # ----- vendors: incumbency, risk, quality, exclusion
    incumbent = np.zeros(V, bool)
    if vendors is not None and "incumbent" in vendors.columns:
        incumbent |= vendors["incumbent"].fillna(False).astype(bool).to_numpy()
    lot_inc = np.full(L, -1, dtype=np.int64)
    for j, v in enumerate(lots["incumbent_vendor_id"]):
        if isinstance(v, str) and v:
            if v not in vindex:
                raise ValueError(f"lots: incumbent_vendor_id {v!r} of lot {lot_ids[j]} is not a known vendor")
            lot_inc[j] = vindex[v]
            incumbent[vindex[v]] = True
    onboarding = np.zeros(V)
    risk_score = np.full(V, np.nan)
    if risk is not None and len(risk):
        risk = _frame(risk, "risk", "vendor_id")
        if "onboarding_cost" in risk.columns:
            onboarding = risk["onboarding_cost"].reindex(vendor_ids).fillna(0).to_numpy(float)
        if "risk_score" in risk.columns:
            risk_score = risk["risk_score"].reindex(vendor_ids).to_numpy(float)
    onboarding = np.where(onboarding_applies(incumbent), onboarding, 0.0)
    q, excluded = _quality(quality)
    quality_arr = q.reindex(vendor_ids).to_numpy(float) if q is not None else np.full(V, np.nan)
    for v in policy.exclude:
        excluded.setdefault(v, "excluded by policy")
    eligible = np.array([v not in excluded for v in vendor_ids])
    need_quality = need_quality or policy.quality_floor is not None
    if need_quality and q is None:
        raise ValueError("the policy's quality_floor or a quality objective needs quality scores: "
                         "pass quality= (a Series vendor_id -> 0..100, or scoring's Evaluation)")
    bid_v = _codes(bids["vendor_id"], vendor_ids)
    if need_quality:
        missing = sorted(vendor_ids[v] for v in np.unique(bid_v) if eligible[v] and np.isnan(quality_arr[v]))
        if missing:
            raise ValueError("no quality score for bidding vendor(s) " + ", ".join(missing)
                             + "; score them or exclude them")
    if policy.risk_cap is not None:
        missing = sorted(vendor_ids[v] for v in np.unique(bid_v) if eligible[v] and np.isnan(risk_score[v]))
        if missing:
            raise ValueError("risk_cap needs risk.risk_score for vendor(s) " + ", ".join(missing))
    for v in policy.include:
        if v in excluded:
            raise ValueError(f"vendor {v} must be included but is excluded ({excluded[v]})")

    # ----- bids and price segments
    bid_l = _codes(bids["lot_id"], lot_ids)
    cap = pd.to_numeric(bids["capacity"], errors="coerce").astype(float).fillna(np.inf).to_numpy()
    bmin = pd.to_numeric(bids["min_volume"], errors="coerce").astype(float).fillna(0).to_numpy()
    setup = pd.to_numeric(bids["setup_cost"], errors="coerce").astype(float).fillna(0).to_numpy()
    dtype = np.array([str(t) if isinstance(t, str) else "none" for t in bids["discount_type"].tolist()],
                     dtype=object)
    base = price.to_numpy()
    d = demand.to_numpy()
    tol = policy.demand_tolerance_pct / 100.0
    seg, keep, dropped = _segments(policy, bids, tiers, vindex, lindex, vendor_ids, lot_ids, excluded,
                                   eligible, bid_v, bid_l, base, cap, bmin, dtype, d, tol)
    s_bid, s_lo, s_hi, s_p, s_a = seg
    b_v, b_l = bid_v[keep], bid_l[keep]
    b_setup = np.where(setup_applies(b_v, lot_inc[b_l]), setup[keep], 0.0)
    b_cap, b_min, b_type = cap[keep], bmin[keep], dtype[keep].tolist()
    expressive = {}
    if bundles is not None and len(bundles):
        pieces, made = _bundle_pieces(policy, _frame(bundles, "bundles", None), vindex, lindex, eligible,
                                      excluded, d, tol, bid_l, base, dropped)
        if len(made[0]):
            # pieces go on the vendor's bid for the lot, or on a bid made for them
            p_v, p_l, p_lo, p_hi, p_price, p_int, p_bundle, p_full = pieces
            bid_at = {(int(v), int(j)): b for b, (v, j) in enumerate(zip(b_v, b_l, strict=True))}
            p_bid = np.empty(len(p_v), np.int64)
            for k, key in enumerate(zip(p_v.tolist(), p_l.tolist(), strict=True)):
                if key not in bid_at:
                    bid_at[key] = len(b_v)
                    b_v, b_l = np.append(b_v, key[0]), np.append(b_l, key[1])
                    b_setup, b_cap = np.append(b_setup, 0.0), np.append(b_cap, p_hi[k])
                    b_min = np.append(b_min, p_lo[k])
                    b_type.append("bundle")
                p_bid[k] = bid_at[key]
            order = np.argsort(np.concatenate([s_bid, p_bid]), kind="stable")

            def cat(a, b):
                return np.concatenate([a, b])[order]

            s_bid, s_lo, s_hi = cat(s_bid, p_bid), cat(s_lo, p_lo), cat(s_hi, p_hi)
            s_p, s_a = cat(s_p, p_price), cat(s_a, p_int)
            expressive = dict(seg_bundle=cat(np.full(len(seg[0]), -1, np.int64), p_bundle),
                              piece_volume=cat(np.zeros(len(seg[0])), p_full), bundle_ids=made[0],
                              bundle_vendor=made[1], bundle_price=made[2], bundle_proportional=made[3])
    if discounts is not None and len(discounts):
        expressive["discounts"] = _discounts(_frame(discounts, "discounts", "discount_id"), vindex, lindex,
                                             eligible)
    if policy.one_off == "ignore":
        factor = 0.0
    elif policy.one_off == "annuity" and rate > 0:
        factor = rate / (1 - (1 + rate) ** -years)
    else:
        factor = 1.0 / years
    return Instance(
        vendor_ids=vendor_ids, lot_ids=lot_ids, demand=d,
        units=[str(u) for u in lots["unit"].fillna("units")],
        lot_incumbent=lot_inc,
        switching=pd.to_numeric(lots["switching_cost_per_unit"], errors="coerce").fillna(0).to_numpy(float),
        bid_vendor=b_v, bid_lot=b_l, bid_setup=b_setup, bid_capacity=b_cap, bid_min=b_min, bid_type=b_type,
        seg_bid=s_bid, seg_lo=s_lo, seg_hi=s_hi, seg_price=s_p, seg_intercept=s_a,
        onboarding=onboarding, incumbent=incumbent, risk_score=risk_score, quality=quality_arr,
        eligible=eligible, excluded_reason=excluded, dropped_bids=dropped, annualise=factor,
        years=years, has_quality=q is not None, has_risk=bool(np.isfinite(risk_score).any()),
        currency=currency, rules=scoped, **expressive,
    )


def _codes(values: pd.Series, ids: list[str]) -> np.ndarray:
    """Position of each value (as text) in *ids*, -1 where absent (vectorised hash lookup)."""
    return pd.Index(ids).get_indexer(values.astype(str)).astype(np.int64)


def tier_pieces(base: np.ndarray, kind: np.ndarray, key: np.ndarray, t_key: np.ndarray, t_from: np.ndarray,
                t_price: np.ndarray, priced: np.ndarray | None = None):
    """The price pieces of bids with volume-discount tiers: the one definition of tier pricing.

    A bid's pieces are ``[0, from_1), [from_1, from_2), ...``; volume ``x`` on a piece costs
    ``intercept + price x`` a year.  ``all-unit``: every unit at the price of the highest tier
    reached (intercept 0); ``incremental``: each band at its own price (the intercept makes the
    cost the sum of the bands); ``none`` (or *priced* False): one piece at the base price.

    Parameters
    ----------
    base : ndarray (n,)
        Base unit price of each bid [tender currency/unit/yr].
    kind : ndarray of str (n,)
        ``discount_type`` of each bid.
    key : ndarray of int (n,)
        Each bid's key into the tiers (``vendor x n_lots + lot``).
    t_key, t_from, t_price : ndarray
        The tiers sorted by (key, from_volume): key, ``from_volume`` [units/yr], unit price.
    priced : ndarray of bool (n,), optional
        Bids whose tiers are read (default all).

    Returns
    -------
    p_bid, start, end, price, intercept : ndarray (pieces,)
        Bid of each piece, its volume range [units/yr], unit price and intercept [tender
        currency/yr].
    last : ndarray (n,)
        Index of each bid's last piece.
    """
    n = len(base)
    t_start = np.searchsorted(t_key, key, side="left")
    n_t = np.searchsorted(t_key, key, side="right") - t_start
    n_t[kind == "none"] = 0
    if priced is not None:
        n_t[~priced] = 0
    pieces = 1 + n_t
    p_bid = np.repeat(np.arange(n), pieces)
    first = np.cumsum(pieces) - pieces
    k = np.arange(len(p_bid)) - first[p_bid]                     # piece index within its bid
    tier_at = np.where(k > 0, t_start[p_bid] + k - 1, 0)
    bp = np.where(k > 0, t_from[tier_at] if len(t_from) else 0.0, 0.0)
    price = np.where(k > 0, t_price[tier_at] if len(t_price) else 0.0, base[p_bid])
    last = first + pieces - 1
    end = np.append(bp[1:], np.inf)
    end[last] = np.inf
    # incremental tiers: intercept so that the cost equals the sum of the tier prices
    width_cost = np.zeros(len(p_bid))
    nxt = k > 0
    width_cost[nxt] = (bp[nxt] - bp[np.flatnonzero(nxt) - 1]) * price[np.flatnonzero(nxt) - 1]
    cum = np.cumsum(width_cost)
    cum -= cum[first][p_bid]                                      # cost at each breakpoint, per bid
    inter = np.where(kind[p_bid] == "incremental", cum - price * bp, 0.0)
    return p_bid, bp, end, price, inter, last


def tiered_cost(base: float, kind: str, from_volume, tier_price, volume: float) -> float:
    """Annual cost [tender currency/yr] of *volume* units/yr on one bid with its tiers
    (:func:`tier_pieces`; *from_volume* and *tier_price* the bid's tiers, any order)."""
    order = np.argsort(np.asarray(from_volume, float), kind="stable")
    t_from = np.asarray(from_volume, float)[order]
    _, start, end, price, inter, _ = tier_pieces(
        np.array([float(base)]), np.array([str(kind)]), np.zeros(1, np.int64),
        np.zeros(len(t_from), np.int64), t_from, np.asarray(tier_price, float)[order])
    on = np.flatnonzero((start <= volume) & (volume < end))
    j = on[-1] if len(on) else len(start) - 1
    return float(inter[j] + price[j] * volume)


def _segments(policy, bids, tiers, vindex, lindex, vendor_ids, lot_ids, excluded, eligible, bid_v, bid_l,
              base, cap, bmin, dtype, d, tol):
    """Price segments of the usable bids, vectorised over bids and tiers.

    Returns ``((seg_bid, seg_lo, seg_hi, seg_price, seg_intercept), kept bid rows, dropped)``:
    a bid's segments are its tiers (``[0, from_1), [from_1, from_2), ...`` at the tier prices),
    clipped to the bid's least volume (bid minimum, minimum share, :data:`MIN_AWARD`) and most
    volume (demand and tolerance for ``exact`` demand, share cap, capacity); a bid whose least
    volume exceeds its most is dropped, with the reason.
    """
    n = len(base)
    L = len(lot_ids)
    dj = d[bid_l]
    low_lot, top_lot = _lot_limits(policy, d, tol, lot_ids)
    top = np.minimum(top_lot[bid_l], cap)
    low = np.maximum(bmin, low_lot[bid_l])
    ok_vendor = eligible[bid_v]
    too_small = ok_vendor & (low > top + 1e-9)
    usable = ok_vendor & ~too_small
    reasons = {}
    for b in np.flatnonzero(~ok_vendor).tolist():
        reasons[b] = f"vendor excluded: {excluded[vendor_ids[bid_v[b]]]}"
    for b in np.flatnonzero(too_small).tolist():
        reasons[b] = f"least volume {low[b]:,.6g} exceeds most allowed {top[b]:,.6g}"
    dropped = [(vendor_ids[bid_v[b]], lot_ids[bid_l[b]], reasons[b]) for b in sorted(reasons)]
    # tiers of each bid: sorted by (vendor, lot, from_volume), looked up by the bid's key
    key = bid_v * L + bid_l
    t_key = np.zeros(0, np.int64)
    t_from = t_price = np.zeros(0)
    if tiers is not None and len(tiers):
        tv = _codes(tiers["vendor_id"], vendor_ids)
        tl = _codes(tiers["lot_id"], lot_ids)
        known = (tv >= 0) & (tl >= 0)
        t_key = tv[known] * L + tl[known]
        t_from = tiers["from_volume"].to_numpy(float)[known]
        t_price = tiers["unit_price"].to_numpy(float)[known]
        order = np.lexsort((t_from, t_key))
        t_key, t_from, t_price = t_key[order], t_from[order], t_price[order]
    p_bid, bp, end, price, inter, last = tier_pieces(base, dtype, key, t_key, t_from, t_price, usable)
    # over-buying allowed and no cap: stop past the last tier or the demand
    top = np.where(np.isfinite(top), top, np.maximum(dj * (1 + tol), bp[last]))
    lo = np.maximum(bp, low[p_bid])
    hi = np.minimum(end, top[p_bid])
    made = usable[p_bid] & (lo <= hi + 1e-9)
    kept_any = np.zeros(n, bool)
    kept_any[p_bid[made]] = True
    keep = np.flatnonzero(kept_any)
    new_index = np.cumsum(kept_any) - 1
    seg = (new_index[p_bid[made]].astype(np.int64), lo[made].astype(float), hi[made].astype(float),
           price[made].astype(float), inter[made].astype(float))
    return seg, keep, dropped


def _lot_limits(policy, d: np.ndarray, tol: float, lot_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Least and most volume (units/year) one vendor may have on each lot under the policy: the
    minimum share, and at least :data:`MIN_AWARD` of the demand (so that an awarded bid really
    counts as a vendor of the lot and never holds a zero-volume award); the demand and its
    tolerance for exact demand, and the share cap.  :func:`_segments` clips the bids' segments
    to them, :func:`_bundle_pieces` checks the package pieces against them."""
    by_lot = policy.max_share_pct_by_lot or {}
    default_cap = np.nan if policy.max_share_pct is None else float(policy.max_share_pct)
    share = np.array([by_lot.get(lot, default_cap) for lot in lot_ids], float)
    top = d * (1 + tol) if policy.demand == "exact" else np.full(len(d), np.inf)
    top = np.where(np.isfinite(share), np.minimum(top, d * share / 100.0), top)
    low = np.maximum(d * (policy.min_share_pct or 0.0) / 100.0, d * MIN_AWARD)
    return low, top


def _bundle_pieces(policy, bundles: pd.DataFrame, vindex: dict, lindex: dict, eligible: np.ndarray,
                   excluded: dict, d: np.ndarray, tol: float, bid_l: np.ndarray, base: np.ndarray,
                   dropped: list):
    """The pieces of the usable package bids (one per bundle x lot) and the bundles' arrays.

    A bundle is left out, with its reason in *dropped*, when its vendor is excluded or a piece
    cannot be awarded under the policy (an all-or-nothing volume outside the least and most a
    vendor may have on the lot; a proportional package with no fraction that fits every lot).
    """
    _need(bundles, "bundles", ("bundle_id", "vendor_id", "lot_id"))
    lot_ids = list(lindex)
    low, top = _lot_limits(policy, d, tol, lot_ids)
    med = pd.Series(base).groupby(bid_l).median().reindex(range(len(d))).to_numpy(float)
    cols = {c: bundles[c] if c in bundles.columns else pd.Series(np.nan, index=bundles.index)
            for c in ("volume", "share_pct", "price", "split")}
    pieces: list[tuple] = []
    ids, vend, price, prop = [], [], [], []
    for bid_id, rows in bundles.groupby(bundles["bundle_id"].astype(str), sort=False).groups.items():
        vendor = str(bundles.at[rows[0], "vendor_id"])
        if vendor not in vindex:
            raise ValueError(f"bundle {bid_id}: unknown vendor {vendor!r}; valid: "
                             + ", ".join(list(vindex)[:20]))
        v = vindex[vendor]
        lots = [str(x) for x in bundles.loc[rows, "lot_id"]]
        bad = [x for x in lots if x not in lindex]
        if bad:
            raise ValueError(f"bundle {bid_id}: unknown lot(s) {', '.join(bad)}; valid: "
                             + ", ".join(lot_ids[:20]))
        j = np.array([lindex[x] for x in lots], np.int64)
        vol = pd.to_numeric(cols["volume"].loc[rows], errors="coerce").to_numpy(float)
        share = pd.to_numeric(cols["share_pct"].loc[rows], errors="coerce").to_numpy(float)
        q = np.where(np.isfinite(vol), vol, d[j] * share / 100.0)
        p = pd.to_numeric(cols["price"].loc[rows], errors="coerce").dropna()
        if not (np.isfinite(q).all() and (q > 0).all()) or p.empty or not p.iloc[0] > 0:
            raise ValueError(f"bundle {bid_id}: each row needs a volume or share_pct > 0, and the "
                             "package a price > 0")
        split = str(cols["split"].loc[rows].dropna().iloc[0]) if cols["split"].loc[rows].notna().any() \
            else "all_or_nothing"
        proportional = split.strip().lower() == "proportional"
        why = None
        if not eligible[v]:
            why = f"vendor excluded: {excluded[vendor]}"
        lo_t = float(np.max(low[j] / q))
        hi_t = float(np.min(top[j] / q))
        if why is None and not proportional and (lo_t > 1 + 1e-9 or hi_t < 1 - 1e-9):
            k = int(np.argmax(low[j] / q) if lo_t > 1 + 1e-9 else np.argmin(top[j] / q))
            why = (f"its volume on lot {lots[k]} ({q[k]:,.6g}) is outside what the policy lets one "
                   f"vendor have there ({low[j[k]]:,.6g} to {top[j[k]]:,.6g})")
        if why is None and proportional and lo_t > min(hi_t, 1.0) + 1e-9:
            why = "no fraction of the package fits every lot's least and most volume under the policy"
        if why is not None:
            dropped.append((vendor, "+".join(lots), f"package {bid_id} left out: {why}"))
            continue
        ref = med[j]
        w = q * ref if np.isfinite(ref).all() else q / d[j]
        w = w / w.sum()
        k = len(ids)
        total = float(p.iloc[0])
        if proportional:
            t0, t1 = max(lo_t, 0.0), min(hi_t, 1.0)
            pieces += [(v, jj, t0 * qq, t1 * qq, total * ww / qq, 0.0, k, qq)
                       for jj, qq, ww in zip(j.tolist(), q.tolist(), w.tolist(), strict=True)]
        else:
            pieces += [(v, jj, qq, qq, 0.0, total * ww, k, qq)
                       for jj, qq, ww in zip(j.tolist(), q.tolist(), w.tolist(), strict=True)]
        ids.append(bid_id)
        vend.append(v)
        price.append(total)
        prop.append(proportional)
    arr = np.array(pieces, float).reshape(-1, 8)
    out = (arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2], arr[:, 3], arr[:, 4],
           arr[:, 5], arr[:, 6].astype(np.int64), arr[:, 7])
    return out, (tuple(ids), np.array(vend, np.int64), np.array(price, float), np.array(prop, bool))


def _discounts(discounts: pd.DataFrame, vindex: dict, lindex: dict, eligible: np.ndarray) -> tuple:
    """The conditional discounts of eligible vendors as :class:`Discount` records."""
    _need(discounts, "discounts", ("vendor_id", "condition", "threshold", "discount_pct"))
    out = []
    for did, r in discounts.iterrows():
        vendor = str(r["vendor_id"])
        if vendor not in vindex:
            raise ValueError(f"discount {did}: unknown vendor {vendor!r}; valid: "
                             + ", ".join(list(vindex)[:20]))
        cond = str(r["condition"]).strip().lower()
        if cond not in ("lots_at_least", "spend_at_least"):
            raise ValueError(f"discount {did}: unknown condition {cond!r}; valid: "
                             "lots_at_least, spend_at_least")
        named = [x.strip() for x in str(r.get("lots") or "").split(";") if x.strip()] \
            if isinstance(r.get("lots"), str) else []
        bad = [x for x in named if x not in lindex]
        if bad:
            raise ValueError(f"discount {did}: unknown lot(s) {', '.join(bad)}; valid: "
                             + ", ".join(list(lindex)[:20]))
        mask = np.zeros(len(lindex), bool)
        mask[[lindex[x] for x in named] if named else slice(None)] = True
        pct, thr = float(r["discount_pct"]), float(r["threshold"])
        if not (0 < pct <= 100 and thr > 0):
            raise ValueError(f"discount {did}: discount_pct must be in (0, 100] and threshold > 0")
        if eligible[vindex[vendor]]:
            out.append(Discount(str(did), vindex[vendor], cond, thr, pct, mask))
    return tuple(out)


def discount_amounts(inst: Instance, seg_x: np.ndarray, seg_z: np.ndarray) -> np.ndarray:
    """Each conditional discount's amount on segment values (tender currency per year): its
    percent of the vendor's fees on its lots when its condition holds there (lots awarded, or
    spend before discounts); of one vendor's offers that hold, only the one worth most is given."""
    out = np.zeros(len(inst.discounts))
    if not inst.discounts:
        return out
    on = (np.asarray(seg_z) > 0.5) & (np.asarray(seg_x) > 1e-9)
    sv, sl = inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]
    fees = inst.seg_price * seg_x + inst.seg_intercept * on
    best: dict[int, int] = {}
    for i, dc in enumerate(inst.discounts):
        mine = (sv == dc.vendor) & dc.lots[sl]
        spend = float(fees[mine].sum())
        if dc.condition == "lots_at_least":
            held = len(np.unique(sl[mine & on])) >= dc.threshold - 1e-9
        else:
            held = spend >= dc.threshold * (1 - 1e-9)
        if held and spend > 0:
            out[i] = dc.pct / 100.0 * spend
            j = best.setdefault(dc.vendor, i)
            if out[i] > out[j]:
                out[j], best[dc.vendor] = 0.0, i
            elif j != i:
                out[i] = 0.0
    return out
