"""An award: volumes, shares, spend and cost of an allocation, its text and its checks.

:class:`Award` is what :func:`~sourcing.allocation.allocate` returns; :func:`award_from_volumes`
reads one back from segment values, :func:`violations` checks given volumes against every rule of
a policy (the rules of :mod:`~sourcing.allocation.rules`), :func:`binding_rules` lists the rules
that hold with equality.  Money in the tender currency per year unless said otherwise.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import present as fmt
from ..cost_lines import switched_units
from ._data import DEFAULT_CURRENCY, Instance, discount_amounts
from ._solvers import SolveInfo
from .arrays import ArrayModel
from .policy import Policy
from .rules import Breach, Check, breaches, rule_values

__all__ = ["Award", "award_from_volumes", "binding_rules", "check_of", "violations"]


# ---------------------------------------------------------------------- award
#: Widest shares table (characters) printed as a table; a wider one is printed a lot a line.
TEXT_WIDTH = 100


def _share_cell(v: float) -> str:
    """A share in percent to one decimal: ``"-"`` for none, ``"<0.1"`` (``">99.9"``) for a share
    that would round to 0.0 (100.0): a token award is shown, never hidden."""
    if v <= 0:
        return "-"
    if v < 0.05:
        return "<0.1"
    return ">99.9" if 99.95 <= v < 100 else f"{v:.1f}"


def shares_text(shares: pd.DataFrame) -> list[str]:
    """Lines of an award's text giving the shares of demand (vendor x lot, fractions): a table
    when it fits :data:`TEXT_WIDTH`, else one line per lot with its vendors by share."""
    sh = shares * 100
    table = sh.to_string(float_format=_share_cell).splitlines()
    if max(map(len, table), default=0) <= TEXT_WIDTH:
        return ["  shares of demand (%):", *("    " + t for t in table)]
    lines = ["  shares of demand (%), per lot:"]
    for lot in sh.columns:
        col = sh[lot][sh[lot] > 0].sort_values(ascending=False, kind="stable")
        lines.append(f"    {lot}: " + ", ".join(f"{v} {_share_cell(x)}" for v, x in col.items()))
    return lines


@dataclass
class Award:
    """An allocation of lot demand to vendors, with its cost and how it was found.

    Attributes
    ----------
    volumes : DataFrame
        vendor_id x lot_id, units/year awarded (0 where none).
    shares : DataFrame
        vendor_id x lot_id, fraction of the lot's annual demand.
    spend : DataFrame
        vendor_id x lot_id, tender currency per year at the bid's prices after volume discounts,
        package prices shared over their lots, net of conditional discounts.
    cost : Series
        ``unit_cost`` (tender currency per year), ``setup``, ``onboarding``, ``switching`` (one-off costs
        annualised as in the policy, tender currency per year) and ``total`` (tender currency per year).
    one_off : Series
        The same one-off costs undiscounted, tender currency (setup, onboarding, switching).
    status : str
        ``optimal`` (proven within the gap), ``feasible`` (time limit with an incumbent),
        ``heuristic`` (solver found nothing; the first award of the construction heuristic),
        ``infeasible`` (confirmed by a second opinion; see ``diagnosis``), ``no solution``,
        ``error``.
    objective, bound, gap : float
        Incumbent objective, best proven bound, relative gap (NaN when unknown).  The objective
        is total cost in tender currency per year for ``objective="cost"``, lot-average quality points for
        ``"quality"``, and the dimensionless blend for a weight.
    solve_time : float
        Seconds, build + solve.
    solver : str
    binding : DataFrame
        Rules that bind: rule, scope, value, limit, slack, shadow_price.
    shadow_prices : Series
        Duals of the rule rows from the LP with the binaries fixed (tender currency per year per unit of the
        row's right-hand side), indexed ``rule:scope``.
    quality : float
        Lot-average volume-weighted quality (0-100), NaN without quality scores.
    diagnosis : str or None
        Plain-words explanation when the policy is infeasible.
    model : pulp.LpProblem
        The problem solved, built on demand from its arrays (:meth:`to_pulp`; ``arrays`` is the
        :class:`~sourcing.allocation.arrays.ArrayModel` itself), with the solve's values loaded:
        for CBC or any PuLP solver, LP/MPS export, or a user's extra constraints.
    names, lot_names : dict or None
        Vendor and lot names by id (from the tender), for labels.
    bundles : DataFrame
        The package bids taken: bundle_id, vendor_id, lots (ids joined by ';'), fraction (1 for
        a whole package), price (tender currency per year); empty when none.
    discounts : DataFrame
        The conditional discounts given: discount_id, vendor_id, condition, threshold,
        discount_pct, amount (tender currency per year); empty when none.
    lot_by_lot_cost : float
        Total cost (tender currency per year) of the best award from the lot bids alone, without
        packages and discounts, when the tender has them (NaN otherwise): the bidders' synergies
        saved ``lot_by_lot_cost - cost["total"]``.
    """

    volumes: pd.DataFrame
    shares: pd.DataFrame
    spend: pd.DataFrame
    cost: pd.Series
    one_off: pd.Series
    status: str
    objective: float
    bound: float
    gap: float
    solve_time: float
    solver: str
    binding: pd.DataFrame
    shadow_prices: pd.Series
    quality: float = float("nan")
    risk: pd.Series | None = None
    diagnosis: str | None = None
    currency: str = DEFAULT_CURRENCY
    units: dict | None = None
    policy: Policy | None = None
    names: dict | None = None
    lot_names: dict | None = None
    bundles: pd.DataFrame = field(default_factory=lambda: _NO_BUNDLES.copy())
    discounts: pd.DataFrame = field(default_factory=lambda: _NO_DISCOUNTS.copy())
    lot_by_lot_cost: float = float("nan")
    _arrays: ArrayModel | None = field(default=None, repr=False, compare=False)

    @property
    def arrays(self) -> ArrayModel | None:
        """The model solved, as arrays (None for an award not made by a solve)."""
        return self._arrays

    def to_pulp(self):
        """The model solved as a PuLP ``LpProblem`` (same variables, rows, names and objective;
        the solve's values loaded), for CBC or any PuLP solver, LP/MPS export or extra rows."""
        if self._arrays is None:
            raise ValueError("this award was not made by a solve: it has no model")
        return self._arrays.to_pulp()[0]

    @property
    def model(self):
        """:meth:`to_pulp`, built on demand."""
        return self.to_pulp()

    def label(self, vendor_id: str) -> str:
        """Readable vendor label for plots: ``"V01 Nordic Service Partners"`` when names are known."""
        name = (self.names or {}).get(vendor_id)
        return f"{vendor_id} {name}" if isinstance(name, str) and name else str(vendor_id)

    @property
    def feasible(self) -> bool:
        """True when the award satisfies every rule (optimal, feasible or heuristic)."""
        return self.status in ("optimal", "feasible", "heuristic")

    @property
    def vendors(self) -> list[str]:
        """Vendors awarded any volume."""
        return list(self.volumes.index[(self.volumes > 1e-9).any(axis=1)])

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per awarded vendor x lot with volume, share and spend."""
        vol = self.volumes.stack()
        vol = vol[vol > 1e-9]
        out = pd.DataFrame({
            "volume": vol,
            "share": self.shares.stack().reindex(vol.index),
            "spend": self.spend.stack().reindex(vol.index),
        })
        out.index.names = ["vendor_id", "lot_id"]
        return out.reset_index()

    def plot(self, ax=None):
        """Award as stacked bars of lot shares by vendor; returns the Axes."""
        from ..plots.allocation import plot_award

        return plot_award(self, ax=ax)

    def __str__(self) -> str:
        cur = self.currency
        lines = [f"Award: {self.status} (solver {self.solver}, {self.solve_time:.2f} s"
                 + (f", gap {self.gap:.2%}" if np.isfinite(self.gap) else "") + ")"]
        if self.diagnosis:
            lines.append(self.diagnosis)
        if not self.feasible:
            return "\n".join(lines)
        c = {k: fmt.money(v, cur, exact=True) for k, v in self.cost.items()}
        lines.append(f"  total cost {c['total']} a year (unit cost {c['unit_cost']}, setup {c['setup']}, "
                     f"onboarding {c['onboarding']}, switching {c['switching']})")
        if np.isfinite(self.quality):
            lines.append(f"  volume-weighted quality {self.quality:.1f} / 100")
        lines += shares_text(self.shares.loc[self.vendors])
        if self.names:
            lines.append("  vendors: " + "; ".join(self.label(v) for v in self.vendors))
        for r in self.bundles.itertuples():
            part = "" if r.fraction >= 1 - 1e-9 else f" ({r.fraction:.0%} of it)"
            lines.append(f"  package taken: {r.bundle_id} of {self.label(r.vendor_id)} for lots "
                         f"{r.lots.replace(';', ', ')}{part}, {fmt.money(r.price, cur, exact=True)} a year")
        for r in self.discounts.itertuples():
            lines.append(f"  discount given: {r.discount_id} of {self.label(r.vendor_id)}, "
                         f"{fmt.money(r.amount, cur, exact=True)} a year")
        if np.isfinite(self.lot_by_lot_cost):
            alone = fmt.money(self.lot_by_lot_cost, cur, exact=True)
            lines.append(f"  from the lot bids alone: {alone} a year")
        if len(self.binding):
            lines.append("  binding rules: " + ", ".join(
                f"{r.rule}[{r.scope}]" for r in self.binding.itertuples()) )
        return "\n".join(lines)


_NO_BUNDLES = pd.DataFrame(columns=["bundle_id", "vendor_id", "lots", "fraction", "price"])
_NO_DISCOUNTS = pd.DataFrame(columns=["discount_id", "vendor_id", "condition", "threshold", "discount_pct",
                                      "amount"])


def _bundles_taken(inst: Instance, seg_x: np.ndarray, z: np.ndarray) -> pd.DataFrame:
    """The package bids that segment values take (see :attr:`Award.bundles`)."""
    if not inst.has_bundles:
        return _NO_BUNDLES.copy()
    recs = []
    for k, bid_id in enumerate(inst.bundle_ids):
        segs = np.flatnonzero(inst.seg_bundle == k)
        if not z[segs].all():
            continue
        t = float(seg_x[segs[0]] / inst.piece_volume[segs[0]]) if inst.bundle_proportional[k] else 1.0
        lots = ";".join(inst.lot_ids[j] for j in inst.bid_lot[inst.seg_bid[segs]])
        vendor = inst.vendor_ids[inst.bundle_vendor[k]]
        recs.append((bid_id, vendor, lots, t, float(inst.bundle_price[k]) * t))
    return pd.DataFrame(recs, columns=_NO_BUNDLES.columns) if recs else _NO_BUNDLES.copy()


def _discounts_given(inst: Instance, amount: np.ndarray) -> pd.DataFrame:
    recs = [(dc.id, inst.vendor_ids[dc.vendor], dc.condition, dc.threshold, dc.pct, float(a))
            for dc, a in zip(inst.discounts, amount, strict=True) if a > 0]
    return pd.DataFrame(recs, columns=_NO_DISCOUNTS.columns) if recs else _NO_DISCOUNTS.copy()


#: The solve information of volumes not made by a solver.
_NO_SOLVE = SolveInfo("heuristic", np.nan, np.nan, np.nan, 0.0, "-")


def _quality_of(inst: Instance, vol: np.ndarray) -> float:
    if not inst.has_quality:
        return float("nan")
    q = np.nan_to_num(inst.quality)
    return float(np.mean((q @ vol) / inst.demand))


def award_from_volumes(inst: Instance, policy: Policy, seg_x: np.ndarray, seg_z: np.ndarray, *,
                       info: SolveInfo | None = None, currency: str = DEFAULT_CURRENCY,
                       shadow: pd.Series | None = None, diagnosis: str | None = None,
                       check: bool = True) -> Award:
    """Assemble an :class:`Award` from segment values (checks no rule, see :func:`violations`;
    *check* False: without the binding rules; *info* None: volumes not made by a solver)."""
    info = _NO_SOLVE if info is None else info
    V, L = inst.n_vendors, inst.n_lots
    sb = inst.seg_bid
    sv, sl = inst.bid_vendor[sb], inst.bid_lot[sb]
    z = (seg_z > 0.5) & (seg_x > 1e-9)
    vol = np.zeros((V, L))
    spend = np.zeros((V, L))
    np.add.at(vol, (sv, sl), seg_x)
    np.add.at(spend, (sv, sl), (inst.seg_price * seg_x + inst.seg_intercept * z))
    vol[np.abs(vol) < 1e-9] = 0.0
    fees = spend.copy()                       # before conditional discounts: what the rules read
    amount = discount_amounts(inst, seg_x, z)
    for dc, a in zip(inst.discounts, amount, strict=True):
        if a > 0:
            spend[dc.vendor, dc.lots] *= 1.0 - dc.pct / 100.0
    awarded_bid = np.zeros(len(inst.bid_vendor), bool)
    awarded_bid[sb[z]] = True
    engaged = np.zeros(V, bool)
    engaged[inst.bid_vendor[awarded_bid]] = True
    setup = float(inst.bid_setup[awarded_bid].sum()) if policy.setup_costs else 0.0
    onboard = float(inst.onboarding[engaged].sum()) if policy.onboarding_costs else 0.0
    moved = 0.0
    if policy.switching_costs:  # units a provider other than the lot's current one serves
        switched = switched_units(vol, np.arange(V)[:, None], inst.lot_incumbent)
        moved = float(inst.switching @ switched.sum(axis=0))
    k = inst.annualise
    unit = float(spend.sum())
    cost = pd.Series({"unit_cost": unit, "setup": k * setup, "onboarding": k * onboard,
                      "switching": k * moved, "total": unit + k * (setup + onboard + moved)})
    one_off = pd.Series({"setup": setup, "onboarding": onboard, "switching": moved})
    idx = pd.Index(inst.vendor_ids, name="vendor_id")
    cols = pd.Index(inst.lot_ids, name="lot_id")
    volumes = pd.DataFrame(vol, index=idx, columns=cols)
    shares = volumes / inst.demand
    binding = binding_rules(inst, policy, vol, fees, shadow) if check else _NO_BINDING
    risk = None
    if inst.has_risk:
        r = np.nan_to_num(inst.risk_score)
        risk = pd.Series((r @ vol) / np.maximum(vol.sum(axis=0), 1e-12), index=cols, name="risk")
    return Award(
        volumes=volumes, shares=shares, spend=pd.DataFrame(spend, index=idx, columns=cols),
        cost=cost, one_off=one_off, status=info.status, objective=info.objective, bound=info.bound,
        gap=info.gap, solve_time=info.time, solver=info.solver, binding=binding,
        shadow_prices=shadow if shadow is not None else pd.Series(dtype=float),
        quality=_quality_of(inst, vol), risk=risk, diagnosis=diagnosis, currency=currency,
        units=dict(zip(inst.lot_ids, inst.units, strict=True)), policy=policy,
        bundles=_bundles_taken(inst, seg_x, z), discounts=_discounts_given(inst, amount))


def check_of(inst: Instance, policy: Policy, vol: np.ndarray, *, lot_vendors: dict | None = None) -> Check:
    """What the rules check of vendor x lot volumes (units/year) on *inst*: spend at the bids'
    prices after volume discounts (packages included, before conditional discounts; inf on a
    vendor x lot whose bid cannot take the volume) and, with a budget, the total annual cost as
    the award reports it."""
    spend = np.zeros_like(vol, dtype=float)
    bx = vol[inst.bid_vendor, inst.bid_lot]
    spend[inst.bid_vendor, inst.bid_lot] = inst.bid_costs(bx)
    segs = None
    if inst.has_bundles:
        seg_x, seg_z, taken = _with_bundles(inst, vol)
        segs = seg_x, seg_z
        if taken.any():
            on = taken[inst.seg_bid]
            piece = np.zeros_like(spend)
            np.add.at(piece, (inst.bid_vendor[inst.seg_bid[on]], inst.bid_lot[inst.seg_bid[on]]),
                      inst.seg_price[on] * seg_x[on] + inst.seg_intercept[on] * seg_z[on])
            at = (inst.bid_vendor[taken], inst.bid_lot[taken])
            spend[at] = piece[at]
    total = None
    if policy.budget is not None:
        seg_x, seg_z = segs if segs is not None else segments_from_volumes(inst, vol)
        made = award_from_volumes(inst, policy, seg_x, seg_z, check=False)
        total = float(made.cost["total"])
    return Check(list(inst.vendor_ids), list(inst.lot_ids), vol, spend, inst.demand,
                 inst.quality if inst.has_quality else None, inst.risk_score if inst.has_risk else None,
                 total, dict(lot_vendors or {}), inst.rules)


_NO_BINDING = pd.DataFrame(columns=["rule", "scope", "value", "limit", "slack", "shadow_price"])



def binding_rules(inst: Instance, policy: Policy, vol: np.ndarray, spend: np.ndarray,
                  shadow: pd.Series | None = None) -> pd.DataFrame:
    """Rules of *policy* that hold with equality on the volumes (relative tolerance 1e-4): rule,
    scope, value, limit, slack and shadow price."""
    chk = Check(list(inst.vendor_ids), list(inst.lot_ids), vol, spend, inst.demand,
                inst.quality if inst.has_quality else None, inst.risk_score if inst.has_risk else None,
                rules=inst.rules)
    recs = []
    for v in rule_values(chk, policy):
        if v.rule in ("demand", "exclude", "include", "budget"):
            continue
        slack = (v.value - v.limit) if v.sense == ">=" else (v.limit - v.value)
        if abs(slack) <= 1e-4 * max(1.0, abs(v.limit)):
            pi = np.nan if shadow is None else float(shadow.get(f"{v.rule}:{v.scope}", np.nan))
            recs.append((v.rule, v.scope, float(v.value), float(v.limit), float(slack), pi))
    return pd.DataFrame(recs, columns=["rule", "scope", "value", "limit", "slack", "shadow_price"])


def violations(inst: Instance, policy: Policy, vol: np.ndarray, *, atol: float = 1e-6,
               lot_vendors: dict | None = None) -> list[Breach]:
    """The rules vendor x lot volumes (units/year) break, as :class:`~sourcing.allocation.rules.Breach`
    records (empty: every rule holds; worded by :func:`sourcing.narrative.breach_sentences`).

    Besides the rules of the policy, volume on a vendor x lot without a usable bid, or outside a
    bid's allowed range (capacity, least volume, share limits), is a breach of rule ``"bid"``."""
    out = []
    usable = np.zeros_like(vol, bool)
    usable[inst.bid_vendor, inst.bid_lot] = True
    chk = check_of(inst, policy, vol, lot_vendors=lot_vendors)
    for v, j in zip(*np.nonzero((vol > atol) & (~usable | ~np.isfinite(chk.spend))), strict=True):
        out.append(Breach("bid", (inst.lot_ids[j],), (inst.vendor_ids[v],), float(vol[v, j]), float("nan")))
    return out + breaches(chk, policy, atol=atol)


def segments_from_volumes(inst: Instance, vol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment values (x, z) realising vendor x lot volumes at the cheapest segment of each bid.

    Package bids are read back from the volumes (:func:`_with_bundles`): a package is taken when
    its vendor's volume on each of its lots is the package's (the same fraction of it, for a
    proportional package) and the package is cheaper than the lot bids at those volumes."""
    if inst.has_bundles:
        return _with_bundles(inst, vol)[:2]
    return _lot_segments(inst, vol)


def _with_bundles(inst: Instance, vol: np.ndarray):
    """:func:`segments_from_volumes` with the packages: ``(x, z, bids served by a package)``.

    A package *matches* when its vendor's volume on each of its lots is the package's (the same
    fraction of it, for a proportional one).  Per vendor, the disjoint set of matching packages
    that costs least with the rest of the vendor's volumes at its lot bids is taken (every set
    tried up to 12 matching packages, else the packages in order of what they save).
    """
    sx, sz = _lot_segments(inst, vol)
    taken = np.zeros(len(inst.bid_vendor), bool)
    pieces = np.flatnonzero(inst.seg_bundle >= 0)
    if not len(pieces):
        return sx, sz, taken
    p_bid = inst.seg_bid[pieces]
    got = vol[inst.bid_vendor[p_bid], inst.bid_lot[p_bid]]
    q = inst.piece_volume[pieces]
    lot_cost = inst.bid_costs(vol[inst.bid_vendor, inst.bid_lot])
    offers: dict[int, list] = {}
    for k in range(len(inst.bundle_ids)):
        mine = inst.seg_bundle[pieces] == k
        t = got[mine] / q[mine]
        if not np.allclose(t, t[0], rtol=1e-7, atol=1e-9) or t[0] <= 1e-12:
            continue
        if not inst.bundle_proportional[k] and abs(t[0] - 1.0) > 1e-7:
            continue
        s = pieces[mine]
        x = q[mine] * t[0]
        slack = 1e-7 * np.maximum(x, 1)
        if ((x < inst.seg_lo[s] - slack) | (x > inst.seg_hi[s] + slack)).any():
            continue
        cost = float(np.sum(inst.seg_intercept[s] + inst.seg_price[s] * x))
        offers.setdefault(int(inst.bundle_vendor[k]), []).append((cost, s, x, inst.seg_bid[s]))
    for mine in offers.values():
        best, best_cost = (), float(np.sum([lot_cost[b] for o in mine for b in o[3]]))
        if len(mine) <= 12:
            sets = (c for r in range(1, len(mine) + 1) for c in itertools.combinations(mine, r))
        else:  # in order of what each saves alone
            order = sorted(mine, key=lambda o: o[0] - float(lot_cost[o[3]].sum()))
            sets = (tuple(order[:r]) for r in range(1, len(order) + 1))
        lots_of = {b for o in mine for b in o[3].tolist()}
        for combo in sets:
            used = [b for o in combo for b in o[3].tolist()]
            if len(used) != len(set(used)):
                continue
            rest = lots_of - set(used)
            cost = sum(o[0] for o in combo) + float(np.sum([lot_cost[b] for b in rest]))
            if cost < best_cost - 1e-9 * max(abs(best_cost), 1.0) or not np.isfinite(best_cost):
                best, best_cost = combo, cost
        for _, s, x, bids in best:
            for b in bids.tolist():
                sl = slice(inst.seg_start[b], inst.seg_start[b + 1])
                sx[sl], sz[sl] = 0.0, 0.0
            sx[s], sz[s] = x, 1.0
            taken[bids] = True
    return sx, sz, taken


def _lot_segments(inst: Instance, vol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment values of vendor x lot volumes on the lot bids' own segments (cheapest)."""
    S = len(inst.seg_bid)
    sx, sz = np.zeros(S), np.zeros(S)
    starts = inst.seg_start
    bx = vol[inst.bid_vendor, inst.bid_lot]
    own = inst.lot_segment
    for b in np.flatnonzero(bx > 1e-9):
        q = bx[b]
        segs = np.arange(starts[b], starts[b + 1])
        segs = segs[own[segs]] if own[segs].any() else segs
        ok = segs[(inst.seg_lo[segs] <= q + 1e-7) & (inst.seg_hi[segs] >= q - 1e-7)]
        if len(ok) == 0:
            ok = segs[[int(np.argmin(np.abs(np.clip(q, inst.seg_lo[segs], inst.seg_hi[segs]) - q)))]]
        best = ok[int(np.argmin(inst.seg_intercept[ok] + inst.seg_price[ok] * q))]
        sx[best] = q
        sz[best] = 1.0
    return sx, sz




def cheapest_segments(inst: Instance, seg_x: np.ndarray, seg_z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same volumes, each bid's at its cheapest admissible price segment.

    A solve cut short by its time limit may leave a volume on a dearer segment (a discount tier
    it qualifies for unused): same award, higher reported cost.  Re-pricing changes no volume and
    can only lower spend, so every rule still holds (spend caps and the budget only loosen).
    """
    sv, sl = inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]
    vol = np.zeros((inst.n_vendors, inst.n_lots))
    np.add.at(vol, (sv, sl), seg_x)
    cx, cz = segments_from_volumes(inst, vol)
    live = (seg_z > 0.5) & (seg_x > 1e-9)
    now = float(inst.seg_price @ seg_x + inst.seg_intercept @ live)
    cheap = float(inst.seg_price @ cx + inst.seg_intercept @ cz)
    return (cx, cz) if cheap < now * (1 - 1e-12) else (seg_x, seg_z)



def volumes_of(inst: Instance, seg_x: np.ndarray) -> np.ndarray:
    """Vendor x lot volumes (units/year) of segment volumes."""
    vol = np.zeros((inst.n_vendors, inst.n_lots))
    np.add.at(vol, (inst.bid_vendor[inst.seg_bid], inst.bid_lot[inst.seg_bid]), seg_x)
    return vol


def lot_names(tender) -> dict | None:
    """Lot id -> name for the plots and sentences (None without a tender)."""
    if tender is None or "name" not in tender.lots.columns:
        return None
    return {str(k): str(v) for k, v in tender.lots["name"].items()}


def vendor_names(tender, vendors=None) -> dict | None:
    """Vendor id -> name from *vendors* (a vendors table) or the tender's (None without names)."""
    table = vendors if vendors is not None else (tender.vendors if tender is not None else None)
    if table is None:
        return None
    if table.index.name != "vendor_id" and "vendor_id" in table.columns:
        table = table.set_index("vendor_id")
    return {str(k): str(v) for k, v in table["name"].items()} if "name" in table.columns else None
