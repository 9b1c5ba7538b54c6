"""Evaluate a tender: weights, gates, ranking, per-criterion explanation and a quality score.

Rules (also returned in ``Evaluation.conventions``)
---------------------------------------------------
1. Values: :meth:`Tender.decision_matrix`; several evaluators' scores of one cell are combined by
   ``aggregate`` (default ``settings.score_aggregation``: arithmetic ``mean``; ``median`` and
   ``geometric`` mean are the alternatives).  The ``price`` criterion is the evaluated annual
   price (tender currency per year, :meth:`Tender.evaluated_price`); with ``price_formula`` it is first turned
   into points by :func:`~sourcing.scoring.price.price_points` (then a ``max`` criterion).
2. Weights: ``settings.weighting == "direct"``: ``criteria.weight`` normalised; ``"ahp"``: group
   weights from the ``root`` pairwise judgments (AIJ, equal evaluator weights, eigenvector) times
   local weights within each group (AHP on that group's judgments when present, otherwise
   ``criteria.weight`` normalised within the group, equal if the group has no weights).
3. Gates (``criteria.gate``) exclude vendors before ranking; each gets a reason string.
4. Criteria with weight 0 (gate-only, e.g. ISO 27001 yes/no) are not ranked on; criteria whose
   value is the same for every admitted vendor are dropped (they cannot discriminate) and the
   remaining weights renormalised to sum 1 -- both listed in ``conventions``.
5. Contributions: exact for ``wsm`` (weight x min-max-normalised value) and ``promethee``
   (weight x per-criterion net flow); for the other methods the score is split over criteria in
   proportion to each criterion's weighted min-max-normalised value (VIKOR: weighted regret),
   which sums to the score but is a decomposition, not a marginal effect.
6. Quality (0..100): weighted sum of the min-max-normalised (over admitted vendors) NON-price
   criteria, with the weights renormalised without the price criterion, kept inside [0, 100]
   against float rounding (a vendor best on every criterion scores exactly 100).  This is what
   the allocation's quality floor uses, so cost is not counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .gates import apply_gates
from .methods import _HIGHER_BETTER, minmax_normalize, rank
from .price import price_points
from .weights import AHPResult, aggregate_judgments, ahp, hierarchy_weights, pairwise_matrix

__all__ = ["Evaluation", "evaluate", "tender_weights"]


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    scores : Series
        Method score per admitted vendor (index vendor_id).
    ranks : Series
        1 = best, admitted vendors only.
    contributions : DataFrame
        Vendor x criterion parts of the score (rows sum to the score; see module rules).
    excluded : DataFrame
        Index vendor_id, column ``reason``.
    weights : Series
        Criterion -> weight used in the ranking (sums to 1).
    conventions : dict
    quality : Series
        0..100 non-price quality score per admitted vendor.
    names : Series
        Vendor display names (all vendors).
    details : DataFrame
        The method's intermediate values.
    matrix : DataFrame
        Admitted vendor x ranked criterion values as ranked (price in tender currency per year, or points with
        ``price_formula``), for follow-up analyses: ``smaa(ev.matrix, ev.objectives, ev.weights)``.
    objectives : Series
        ``"max"``/``"min"`` per ranked criterion.
    """

    scores: pd.Series
    ranks: pd.Series
    contributions: pd.DataFrame
    excluded: pd.DataFrame
    weights: pd.Series
    conventions: dict
    quality: pd.Series
    names: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    details: pd.DataFrame = field(default_factory=pd.DataFrame)
    title: str = ""
    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    objectives: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))

    def to_frame(self) -> pd.DataFrame:
        """Ranked vendors (name, score, rank, quality) followed by excluded vendors with reason."""
        adm = pd.DataFrame({
            "name": self.names.reindex(self.scores.index),
            "score": self.scores, "rank": self.ranks.astype("Int64"), "quality": self.quality,
            "reason": pd.Series("", index=self.scores.index, dtype=object),
        }).sort_values(["rank"], kind="stable")
        exc = pd.DataFrame({
            "name": self.names.reindex(self.excluded.index),
            "score": np.nan, "rank": pd.array([pd.NA] * len(self.excluded), dtype="Int64"),
            "quality": np.nan, "reason": self.excluded["reason"],
        }, index=self.excluded.index)
        out = pd.concat([adm, exc]) if len(exc) else adm
        out.index.name = "vendor_id"
        return out

    def plot(self, ax=None):
        """Stacked per-criterion contributions; returns the Axes."""
        from ..plots.scoring import plot_contributions

        return plot_contributions(self, ax=ax)

    def __str__(self) -> str:
        c = self.conventions
        better = "higher" if c.get("higher_is_better", True) else "lower"
        head = f"{self.title} - " if self.title else ""
        lines = [f"{head}{c.get('method_label', c.get('method', ''))}, weights: {c.get('weighting', '')}, "
                 f"scores: {better} is better",
                 f"{'rank':>4}  {'vendor':<8}{'name':<32}{'score':>9}{'quality':>9}"]
        for vid in self.ranks.sort_values(kind="stable").index:
            name = str(self.names.get(vid, ""))[:30]
            lines.append(f"{int(self.ranks[vid]):>4}  {vid!s:<8}{name:<32}{self.scores[vid]:>9.3f}"
                         f"{self.quality[vid]:>9.1f}")
        if len(self.excluded):
            lines.append(f"Excluded by gates ({len(self.excluded)}):")
            for vid, reason in self.excluded["reason"].items():
                lines.append(f"  {vid} {self.names.get(vid, '')}: {reason}")
        else:
            lines.append("Excluded by gates: none")
        if c.get("dropped_criteria"):
            lines.append("Not ranked on: " + "; ".join(c["dropped_criteria"]))
        return "\n".join(lines)


def knockout_only(tender) -> list[str]:
    """Criteria that are pure knock-out gates (``== yes``): every vendor admitted has the same
    value, so under AHP they take no weight and need no judgment (a group of only such criteria
    drops out of the root judgments too)."""
    return [g.criterion_id for g in tender.gates if g.op == "=="]


def _group_judgments(tender, parent: str, items: list, ignore: set | frozenset = frozenset()
                     ) -> pd.DataFrame | None:
    pw = tender.pairwise
    if pw is None or pw.empty:
        return None
    rows = pw[pw["parent"] == parent]
    rows = rows[~(rows["item_a"].isin(ignore) | rows["item_b"].isin(ignore))]
    if rows.empty:
        return None
    mats = {ev: pairwise_matrix(sub, items) for ev, sub in rows.groupby("evaluator", sort=False)}
    return aggregate_judgments(mats)


def tender_weights(tender, weighting: str | None = None, *, ahp_method: str = "eigen",
                   weight_points: dict[str, float] | None = None
                   ) -> tuple[pd.Series, AHPResult | None]:
    """Criterion weights of a tender (sum 1, every criterion, knock-out gates 0) and the root AHP
    result when AHP is used.

    Parameters
    ----------
    tender : Tender
    weighting : {"direct", "ahp"}, optional
        Default ``tender.settings["weighting"]``.
    ahp_method : {"eigen", "geometric"}
    weight_points : dict, optional
        Direct weights in points replacing ``criteria.weight`` for the criteria named (see
        :func:`evaluate`).
    """
    if weight_points:
        return _weight_points(tender, weighting, weight_points), None
    how = weighting or str(tender.settings.get("weighting", "direct"))
    if how not in ("direct", "ahp"):
        raise ValueError(f"unknown weighting {how!r}; valid choices: direct, ahp")
    crit = tender.criteria
    if how == "direct":
        w = tender.weights
        if w.isna().any():
            raise ValueError("criteria.weight is missing for " + ", ".join(map(str, w.index[w.isna()]))
                             + "; fill it or use weighting='ahp'")
        return w.astype(float).rename("weight"), None
    gates = set(knockout_only(tender))
    rated = crit.drop(index=[c for c in crit.index if c in gates])
    groups = list(dict.fromkeys(rated["group"]))
    ignore = gates | (set(crit["group"]) - set(groups))
    root = _group_judgments(tender, "root", groups, ignore) if len(groups) > 1 else None
    if root is None and len(groups) > 1:
        raise ValueError("weighting='ahp' needs pairwise judgments with parent 'root' comparing the "
                         f"criteria groups: {', '.join(groups)}")
    res = ahp(root, method=ahp_method) if root is not None else None
    local = {}
    for g in groups:
        members = list(rated.index[rated["group"] == g])
        judged = _group_judgments(tender, g, members, ignore) if len(members) > 1 else None
        if judged is not None:
            local[g] = ahp(judged, method=ahp_method).weights
        else:
            pts = crit.loc[members, "weight"].astype(float).fillna(0.0)
            local[g] = pts / pts.sum() if pts.sum() > 0 else pd.Series(1.0 / len(members), index=members)
    top = res.weights if res is not None else pd.Series(1.0, index=groups)
    w = hierarchy_weights(top, local).reindex(crit.index).fillna(0.0)  # knock-out gates: 0
    return w.rename("weight"), res


def _weight_points(tender, weighting: str | None, points: dict[str, float]) -> pd.Series:
    """Direct weights: ``criteria.weight`` with *points* replacing the criteria they name,
    normalised to sum 1.  On a tender weighted by AHP only ``weighting="direct"`` and points for
    every rated criterion (its blank weights) are taken."""
    crit = tender.criteria
    how = weighting or str(tender.settings.get("weighting", "direct"))
    if how != "direct":
        raise ValueError("weight_points override direct weights; they cannot be combined with "
                         "weighting='ahp' (give weighting='direct' and points for every criterion)")
    unknown = sorted(set(points) - set(crit.index))
    if unknown:
        raise ValueError(f"weight_points name unknown criteria {unknown}; valid criteria: "
                         + ", ".join(crit.index))
    if any(not np.isfinite(v) or v < 0 for v in points.values()):
        raise ValueError("weight_points must be finite and >= 0")
    given = crit["weight"].astype(float)
    given.update(pd.Series(points, dtype=float))
    blank = [c for c in crit.index if pd.isna(given[c]) and c not in knockout_only(tender)]
    if blank:
        raise ValueError("criteria.weight is missing for " + ", ".join(map(str, blank))
                         + "; give them weight points too")
    given = given.fillna(0.0)
    if not given.sum() > 0:
        raise ValueError("weight_points leave no criterion with a positive weight")
    return (given / given.sum()).rename("weight")


def _split(score: np.ndarray, parts: np.ndarray) -> np.ndarray:
    tot = parts.sum(axis=1, keepdims=True)
    share = np.divide(parts, tot, out=np.full(parts.shape, 1.0 / parts.shape[1]), where=tot > 0)
    return score[:, None] * share


def evaluate(tender, method: str = "topsis", *, aggregate: str | None = None, weighting: str | None = None,
             price_formula: str | None = None, price_options: dict | None = None,
             ahp_method: str = "eigen", weight_points: dict[str, float] | None = None,
             gates: bool = True, **params) -> Evaluation:
    """Score and rank the tender's vendors.

    Parameters
    ----------
    tender : Tender
    method : str
        Any :func:`~sourcing.scoring.rank` method (``topsis`` default, ``wsm``, ``vikor``,
        ``promethee``, ...).
    aggregate : {"mean", "median", "geometric"}, optional
        How several evaluators' scores combine (default from settings).
    weighting : {"direct", "ahp"}, optional
        Default from settings.
    price_formula : {"proportional", "linear", "reference"}, optional
        Turn the evaluated price (tender currency per year) into points first; default: the method normalises
        the price itself as a ``min`` criterion.
    price_options : dict, optional
        ``max_points``, ``floor``, ``reference`` for :func:`price_points`.
    ahp_method : {"eigen", "geometric"}
    weight_points : dict, optional
        Direct weights in points replacing ``criteria.weight`` for the criteria named (a
        what-if, e.g. ``{"C16": 50}``); the others keep theirs; all are then normalised.
        Only with direct weighting; on a tender weighted by AHP, ``weighting="direct"`` with
        points for every rated criterion replaces the judgments (the what-if's weights).
    gates : bool
        Apply the knock-out gates (``criteria.gate``); ``False`` ranks every vendor (a what-if:
        who would win without them).
    **params
        Method parameters (``normalization``, ``v``, ``preference``, ...).

    Returns
    -------
    Evaluation
    """
    dm = tender.decision_matrix(aggregate=aggregate)
    crit = tender.criteria
    weights, ahp_res = tender_weights(tender, weighting, ahp_method=ahp_method,
                                      weight_points=weight_points)
    gated = apply_gates(dm, tender.gates if gates else [], names=crit["name"].to_dict(),
                        units=crit["unit"].to_dict())
    admitted = gated.admitted
    if len(admitted) < 2:
        raise ValueError(f"only {len(admitted)} vendor(s) pass the gates; at least 2 are needed to rank. "
                         "Excluded: " + "; ".join(f"{v}: {r}" for v, r in gated.excluded["reason"].items()))
    x = dm.loc[admitted].copy()
    objectives = crit["direction"].astype(str).copy()
    price_cols = [c for c in crit.index if crit.at[c, "source"] == "price"]
    if price_formula is not None:
        for c in price_cols:
            x[c] = price_points(x[c], formula=price_formula, **(price_options or {}))
            objectives[c] = "max"
    dropped = [f"{c} {crit.at[c, 'name']} (weight 0)" for c in crit.index if not weights[c] > 0]
    used = [c for c in crit.index if weights[c] > 0]
    missing = x[used].isna()
    if missing.to_numpy().any():
        cells = [f"{missing.index[i]}/{missing.columns[j]}" for i, j in np.argwhere(missing.to_numpy())]
        raise ValueError("no value for vendor/criterion " + ", ".join(cells)
                         + "; score these cells or exclude the vendor")
    const = [c for c in used if x[c].nunique() == 1]
    dropped += [f"{c} {crit.at[c, 'name']} (same value for every admitted vendor)" for c in const]
    used = [c for c in used if c not in const]
    if not used:
        raise ValueError("no criterion with positive weight distinguishes the admitted vendors")
    w = weights[used] / weights[used].sum()
    xu, obj = x[used], objectives[used]
    res = rank(xu, obj, w, method=method, **params)
    xa, oa, wa = xu.to_numpy(float), np.where(obj.to_numpy() == "max", 1.0, -1.0), w.to_numpy()
    norm = minmax_normalize(xa, oa)
    if res.method == "wsm":
        contrib, how = norm * wa, "exact: weight x min-max-normalised value"
    elif res.method == "promethee":
        phi_j = res.details[[f"phi_{c}" for c in used]].to_numpy()
        contrib, how = phi_j * wa, "exact: weight x per-criterion net flow"
    elif res.method == "vikor":
        contrib, how = _split(res.scores.to_numpy(), (1 - norm) * wa), "Q split by weighted regret"
    else:
        contrib = _split(res.scores.to_numpy(), norm * wa)
        how = "score split by weighted min-max-normalised value (decomposition)"
    quality_cols = [j for j, c in enumerate(used) if c not in price_cols]
    if quality_cols:
        # a convex combination of values in [0, 1].  Weights renormalised first may sum to 1 +- 1
        # ulp, which put a vendor best on every criterion at 100.00000000000001 (refused by the
        # allocation): divide the weighted sum by the same sum of weights instead, so that vendor
        # gets exactly 100, and clip what rounding is left
        qw = wa[quality_cols]
        quality = np.clip(100.0 * ((norm[:, quality_cols] * qw).sum(axis=1) / qw.sum()), 0.0, 100.0)
        qnote = "weighted sum of min-max-normalised non-price criteria x 100 (weights renormalised)"
    else:
        quality = np.full(len(admitted), 100.0)
        qnote = "no non-price criterion: every admitted vendor gets 100"
    idx = pd.Index(admitted, name="vendor_id")
    label = res.method.upper() if res.method in _HIGHER_BETTER else res.method
    extra = {k: v for k, v in params.items() if k != "preference"}
    if extra:
        label += " (" + ", ".join(f"{k}={v}" for k, v in extra.items()) + ")"
    conv = {
        **res.conventions, "criterion_names": crit["name"].astype(str).to_dict(),
        "method_label": label, "higher_is_better": res.higher_is_better,
        "weighting": (weighting or str(tender.settings.get("weighting", "direct")))
        + (f" (AHP {ahp_res.method}, CR = {ahp_res.cr:.3f})" if ahp_res is not None else ""),
        "score_aggregation": aggregate or str(tender.settings.get("score_aggregation", "mean")),
        "price": f"points by {price_formula!r} formula" if price_formula else
        f"evaluated annual price in {tender.currency}/year, min criterion",
        "gates": [f"{g.criterion_id} {g.text}" for g in tender.gates] if gates else [],
        "dropped_criteria": dropped, "contributions": how, "quality": qnote,
    }
    if ahp_res is not None:
        conv["ahp_group_weights"] = ahp_res.weights.round(4).to_dict()
        conv["ahp_consistent"] = ahp_res.consistent
    return Evaluation(
        scores=res.scores.set_axis(idx), ranks=res.ranks.set_axis(idx),
        contributions=pd.DataFrame(contrib, index=idx, columns=pd.Index(used, name="criterion_id")),
        excluded=gated.excluded, weights=w.rename("weight"), conventions=conv,
        quality=pd.Series(quality, index=idx, name="quality"),
        names=tender.vendors["name"].astype(object), details=res.details.set_axis(idx),
        title=tender.name, matrix=xu.copy(), objectives=obj.rename("objective"),
    )
