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

__all__ = ["DEFAULT_CURRENCY", "MIN_AWARD", "Instance", "make_instance"]

#: Least volume of an awarded bid, as a fraction of the lot's annual demand (0.01 %).
MIN_AWARD = 1e-4



@dataclass
class Instance:
    """Arrays describing the problem after the policy's eligibility rules were applied.

    Bids (index ``b``) are split into price segments (index ``s``): a bid without tiers has one
    segment; a tiered bid has one per tier.  Segment ``s`` covers volumes ``[lo[s], hi[s]]`` at
    cost ``intercept[s] + price[s] * x`` (tender currency per year): all-unit tiers have
    intercept 0; incremental tiers have the intercept that makes the cost equal to the sum of the
    tier prices.
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
        cheapest segment that admits them; 0 for no volume, inf when no segment admits the volume
        (vectorised)."""
        x = np.asarray(x, float)
        xs = x[self.seg_bid]
        ok = (self.seg_lo <= xs + 1e-7 * np.maximum(xs, 1)) & (self.seg_hi >= xs - 1e-7 * np.maximum(xs, 1))
        c = np.where(ok, self.seg_intercept + self.seg_price * xs, np.inf)
        out = np.full(len(x), np.inf)
        np.minimum.at(out, self.seg_bid, c)
        out[x <= 1e-9] = 0.0
        return out

    def bid_cost(self, b: int, x: float) -> float:
        """Annual unit cost (tender currency per year) of volume *x* on bid *b* (cheapest feasible
        segment)."""
        if x <= 1e-9:
            return 0.0
        sl = slice(self.seg_start[b], self.seg_start[b + 1])
        lo, hi = self.seg_lo[sl], self.seg_hi[sl]
        ok = (lo <= x + 1e-7 * max(x, 1)) & (hi >= x - 1e-7 * max(x, 1))
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
        vendor_ids = sorted({str(v) for v in bids["vendor_id"]})
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
        bid_vendor=bid_v[keep], bid_lot=bid_l[keep],
        bid_setup=np.where(setup_applies(bid_v[keep], lot_inc[bid_l[keep]]), setup[keep], 0.0),
        bid_capacity=cap[keep],
        bid_min=bmin[keep], bid_type=dtype[keep].tolist(),
        seg_bid=s_bid, seg_lo=s_lo, seg_hi=s_hi, seg_price=s_p, seg_intercept=s_a,
        onboarding=onboarding, incumbent=incumbent, risk_score=risk_score, quality=quality_arr,
        eligible=eligible, excluded_reason=excluded, dropped_bids=dropped, annualise=factor,
        years=years, has_quality=q is not None, has_risk=bool(np.isfinite(risk_score).any()),
        currency=currency, rules=scoped,
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
    by_lot = policy.max_share_pct_by_lot or {}
    default_cap = np.nan if policy.max_share_pct is None else float(policy.max_share_pct)
    lot_cap = np.array([by_lot.get(lot, default_cap) for lot in lot_ids], float)
    dj = d[bid_l]
    top = dj * (1 + tol) if policy.demand == "exact" else np.full(n, np.inf)
    share = lot_cap[bid_l]
    top = np.where(np.isfinite(share), np.minimum(top, dj * share / 100.0), top)
    top = np.minimum(top, cap)
    # an awarded bid carries at least MIN_AWARD of the lot's demand, so that it really counts
    # as a vendor of the lot (min/max vendors) and never holds a zero-volume award
    low = np.maximum.reduce([bmin, dj * (policy.min_share_pct or 0.0) / 100.0, dj * MIN_AWARD])
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
