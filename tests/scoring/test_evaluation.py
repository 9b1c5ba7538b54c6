"""Tests for sourcing.scoring.evaluation: evaluate(tender) and the Evaluation contract."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sourcing.scoring import Evaluation, evaluate, rank


@pytest.fixture(scope="module")
def ev(tender):
    return evaluate(tender)


def test_contract(ev, tender):
    assert isinstance(ev, Evaluation) and dataclasses.is_dataclass(ev)
    admitted = ["V01", "V02", "V03", "V04", "V05", "V08"]
    assert list(ev.scores.index) == admitted and ev.scores.index.name == "vendor_id"
    assert sorted(ev.ranks) == [1, 2, 3, 4, 5, 6]
    assert list(ev.excluded.index) == ["V06", "V07"] and "reason" in ev.excluded
    assert ev.excluded.loc["V06", "reason"] == "ISO/IEC 27001 certification is no, the gate requires yes"
    assert ev.weights.sum() == pytest.approx(1.0) and "C09" not in ev.weights.index
    assert ev.contributions.shape == (6, len(ev.weights))
    np.testing.assert_allclose(ev.contributions.sum(axis=1), ev.scores, atol=1e-12)
    assert list(ev.quality.index) == admitted
    assert ((ev.quality >= 0) & (ev.quality <= 100)).all()
    assert ev.conventions["method"] == "topsis"


def test_scores_equal_rank_on_admitted(ev, tender):
    """evaluate() = rank() on the gated decision matrix with the tender's direct weights."""
    dm = tender.decision_matrix().loc[ev.scores.index, ev.weights.index]
    w = tender.weights[ev.weights.index]
    r = rank(dm, tender.objectives[ev.weights.index], w, method="topsis")
    np.testing.assert_allclose(ev.scores, r.scores)
    np.testing.assert_allclose(rank(ev.matrix, ev.objectives, ev.weights).scores, ev.scores)


def test_quality_independent(ev, tender):
    """Quality = 100 x weighted sum of min-max-normalised non-price criteria, price weight removed."""
    dm = tender.decision_matrix().loc[ev.scores.index]
    crit = [c for c in ev.weights.index if tender.criteria.at[c, "source"] != "price"]
    w = tender.criteria.loc[crit, "weight"] / tender.criteria.loc[crit, "weight"].sum()
    q = pd.Series(0.0, index=dm.index)
    for c in crit:
        col = dm[c]
        n = (col - col.min()) / (col.max() - col.min())
        if tender.criteria.at[c, "direction"] == "min":
            n = 1 - n
        q += 100 * w[c] * n
    np.testing.assert_allclose(ev.quality, q)


@pytest.mark.parametrize("method", ["wsm", "promethee"])
def test_exact_contributions(tender, method):
    e = evaluate(tender, method=method)
    np.testing.assert_allclose(e.contributions.sum(axis=1), e.scores, atol=1e-12)
    assert e.conventions["contributions"].startswith("exact")


def test_vikor_ahp_and_price_formula(tender):
    e = evaluate(tender, method="vikor", weighting="ahp", price_formula="proportional")
    assert e.ranks[e.scores.idxmin()] == 1
    assert "AHP" in e.conventions["weighting"]
    assert e.weights.sum() == pytest.approx(1.0)
    e2 = evaluate(tender, method="wsm", aggregate="median")
    assert e2.conventions["score_aggregation"] == "median"


def test_to_frame_str_plot(ev):
    f = ev.to_frame()
    assert list(f.columns) == ["name", "score", "rank", "quality", "reason"]
    assert list(f.index[-2:]) == ["V06", "V07"] and f.loc["V07", "reason"].startswith("Financial health")
    assert f["rank"].iloc[0] == 1
    text = str(ev)
    assert "BlueRiver" in text and "Excluded by gates (2)" in text and "V06" in text
    ax = ev.plot()
    assert ax.get_title() and ax.get_xlabel()


def test_errors(tender):
    with pytest.raises(ValueError, match="direct, ahp"):
        evaluate(tender, weighting="points")
    with pytest.raises(ValueError, match="valid choices"):
        evaluate(tender, method="nope")
    with pytest.raises(ValueError, match="mean, median, geometric"):
        evaluate(tender, aggregate="mode")


def _rebuild(tender, **changes):
    from sourcing import Tender

    frames = {n: getattr(tender, n) for n in ("vendors", "criteria", "scores", "lots", "bids", "tiers",
                                               "risk", "pairwise")}
    settings = dict(tender.settings)
    settings.update(changes.pop("settings", {}))
    frames.update(changes)
    return Tender.from_frames(**frames, settings=settings)


def test_ahp_with_judgments_inside_a_group(tender):
    """Within-group judgments replace the direct local weights: technical = AHP of C01..C03."""
    extra = pd.DataFrame({"evaluator": ["architect"] * 3, "parent": ["technical"] * 3,
                          "item_a": ["C01", "C01", "C02"], "item_b": ["C02", "C03", "C03"],
                          "value": [2.0, 4.0, 2.0]})
    t = _rebuild(tender, pairwise=pd.concat([tender.pairwise, extra], ignore_index=True),
                 settings={"weighting": "ahp"})
    e = evaluate(t, method="wsm")
    tech = e.weights[["C01", "C02", "C03"]]
    np.testing.assert_allclose((tech / tech.sum()).to_numpy(), [4 / 7, 2 / 7, 1 / 7])
    assert e.weights.sum() == pytest.approx(1.0)


def test_missing_value_is_a_clear_error(tender):
    """The Tender refuses blank values, so inject a NaN through a delegating stand-in."""

    class Holey:
        def __getattr__(self, name):
            return getattr(tender, name)

        def decision_matrix(self, *, aggregate=None):
            dm = tender.decision_matrix(aggregate=aggregate)
            dm.loc["V02", "C07"] = np.nan
            return dm

    with pytest.raises(ValueError, match="no value for vendor/criterion V02/C07"):
        evaluate(Holey())


def test_weight_points_override_direct_weights(tender):
    """A what-if on the price weight: points replace criteria.weight before normalising."""
    import pytest

    from sourcing.scoring import evaluate

    base = evaluate(tender, method="wsm")
    heavy = evaluate(tender, method="wsm", weight_points={"C16": 70})
    points = tender.criteria["weight"].astype(float).copy()
    points["C16"] = 70
    assert heavy.weights["C16"] == pytest.approx(70 / points.sum())
    assert heavy.weights.sum() == pytest.approx(1)
    assert heavy.weights["C16"] > base.weights["C16"]
    with pytest.raises(ValueError, match="valid criteria"):
        evaluate(tender, weight_points={"C99": 1})
    with pytest.raises(ValueError, match=">= 0"):
        evaluate(tender, weight_points={"C16": -1})


@functools.cache
def _dominant_tender():
    """Factory tender (4 bidders, USD) whose B1 scores 10 on every judged criterion Q1..Q3."""
    from tenders import tender_tables

    from sourcing import Tender

    tables = tender_tables(n_criteria=4, n_evaluators=1)
    scores = tables["scores"]
    scores.loc[scores["vendor_id"] == "B1", "value"] = 10.0
    return Tender.from_frames(**tables)


def test_quality_of_a_vendor_best_everywhere_is_exactly_100():
    """Issue 10: with weights {45, 5, 4} points the renormalised quality weights sum to 1 + 1 ulp,
    so B1 (best on every non-price criterion) scored 100.00000000000001 and the allocation refused
    it ("quality scores must be in [0, 100]; out of range: B1=100").  Quality is a convex
    combination of min-max-normalised values: it is exactly 100 and the allocation takes it."""
    from sourcing.allocation import Policy, allocate

    tender = _dominant_tender()
    points = {"Q1": 45, "Q2": 5, "Q3": 4}
    w = np.array([45, 5, 4, 40], float)
    w /= w.sum()
    assert 100.0 * np.ones(3) @ (w[:3] / w[:3].sum()) > 100  # the float edge the data sits on
    ev = evaluate(tender, weight_points=points)
    assert ev.quality["B1"] == 100.0 and ((ev.quality >= 0) & (ev.quality <= 100)).all()
    award = allocate(tender, Policy(quality_floor=50), quality=ev, time_limit=10)
    assert award.feasible


@given(st.lists(st.integers(1, 60), min_size=4, max_size=4))
@settings(max_examples=40)
def test_quality_stays_in_0_100_for_any_weights(points):
    """Property: whatever the direct weights, quality is in [0, 100] and the dominant vendor's is 100."""
    tender = _dominant_tender()
    ev = evaluate(tender, weight_points=dict(zip(["Q1", "Q2", "Q3", "Q4"], points, strict=True)))
    assert ev.quality["B1"] == 100.0
    assert ((ev.quality >= 0) & (ev.quality <= 100)).all()


def test_ahp_knockout_gate_needs_no_judgment_and_takes_no_weight(tmp_path):
    """Under AHP a pure knock-out gate (ISO 27001: yes/no, alone in its group, no judgment given)
    used to stop the ranking ("needs pairwise judgments ... comparing the criteria groups") or
    take a weight; it now filters and weighs nothing: the other weights are unchanged."""
    import shutil
    from pathlib import Path

    from sourcing import read_tender
    from sourcing.scoring.evaluation import knockout_only, tender_weights

    src = Path(__file__).resolve().parents[2] / "data" / "sample-smallco"
    folder = tmp_path / "smallco"
    shutil.copytree(src, folder)
    with (folder / "criteria.csv").open("a", encoding="utf-8") as fh:
        fh.write("K8,ISO/IEC 27001 certification,certification,max,,yes/no,vendor,iso27001,,,== yes\n")
    before, _ = tender_weights(read_tender(src))
    tender = read_tender(folder)
    assert knockout_only(tender) == ["K8"]
    after, _ = tender_weights(tender)
    assert after["K8"] == 0.0 and after.sum() == pytest.approx(1.0)
    pd.testing.assert_series_equal(after.drop("K8"), before, check_exact=False, rtol=1e-12)
    ev = evaluate(tender)
    assert set(ev.excluded.index) == set(tender.vendors.index[~tender.vendors["iso27001"].astype(bool)])
