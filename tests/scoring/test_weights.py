"""Tests for sourcing.scoring.weights: AHP, group aggregation, hierarchy, rank-based weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sourcing.scoring import (
    RI_TABLES,
    aggregate_judgments,
    aggregate_priorities,
    ahp,
    critic_weights,
    direct_weights,
    entropy_weights,
    hierarchy_weights,
    pairwise_matrix,
    rank_weights,
    swing_weights,
    tender_weights,
)


def _consistent(w):
    w = np.asarray(w, dtype=float)
    return w[:, None] / w[None, :]


def test_ri_table_pinned():
    """Saaty (1980), The Analytic Hierarchy Process, random index for n = 3..10 (convention pin)."""
    assert RI_TABLES["saaty1980"][2:10] == (0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49)
    assert RI_TABLES["saaty1980"][:2] == (0.0, 0.0)


@pytest.mark.parametrize("method", ["eigen", "geometric"])
def test_consistent_matrix_recovers_weights(method):
    """A perfectly consistent matrix a_ij = w_i / w_j gives back w, lambda_max = n and CR = 0."""
    w = np.array([0.5, 0.25, 0.15, 0.1])
    res = ahp(_consistent(w), method=method)
    np.testing.assert_allclose(res.weights.to_numpy(), w, atol=1e-12)
    assert res.lambda_max == pytest.approx(4.0, abs=1e-9)
    assert res.cr == pytest.approx(0.0, abs=1e-9)
    assert res.consistent and res.ri_table == "saaty1980" and res.ri == 0.90


def test_eigen_against_power_iteration():
    """Inconsistent 4x4 judgments: eigenvector and lambda_max checked against an independent power
    iteration (brute force, not a published table); CI = (l - n)/(n - 1), CR = CI / 0.90."""
    a = np.array([[1, 3, 5, 9], [1 / 3, 1, 2, 5], [1 / 5, 1 / 2, 1, 3], [1 / 9, 1 / 5, 1 / 3, 1]])
    v = np.ones(4)
    for _ in range(500):
        v = a @ v
        v /= v.sum()
    lam = float(np.mean(a @ v / v))
    res = ahp(a)
    np.testing.assert_allclose(res.weights.to_numpy(), v, rtol=1e-9)
    assert res.lambda_max == pytest.approx(lam, rel=1e-9)
    assert res.ci == pytest.approx((lam - 4) / 3)
    assert res.cr == pytest.approx((lam - 4) / 3 / 0.90)


def test_geometric_by_hand():
    """Row geometric means of [[1,2,4],[1/2,1,2],[1/4,1/2,1]] are 2, 1, 1/2 -> (4/7, 2/7, 1/7)."""
    a = [[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]]
    res = ahp(a, method="geometric")
    np.testing.assert_allclose(res.weights.to_numpy(), [4 / 7, 2 / 7, 1 / 7])


def test_inconsistency_identifies_bad_judgment():
    """Perturb one judgment of a consistent matrix: it is reported first; shares sum to 1 and the
    terms satisfy sum (e + 1/e - 2) = n (lambda_max - n)."""
    w = np.array([0.4, 0.3, 0.2, 0.1])
    a = _consistent(w)
    a[1, 3], a[3, 1] = 9.0, 1 / 9.0
    labels = ["a", "b", "c", "d"]
    res = ahp(pd.DataFrame(a, index=labels, columns=labels))
    top = res.inconsistency.iloc[0]
    assert {top["item_a"], top["item_b"]} == {"b", "d"}
    assert res.inconsistency["share"].sum() == pytest.approx(1.0)
    wv = res.weights.to_numpy()
    iu, ju = np.triu_indices(4, 1)
    e = a[iu, ju] * wv[ju] / wv[iu]
    assert (e + 1 / e - 2).sum() == pytest.approx(4 * (res.lambda_max - 4), rel=1e-8)


def test_high_cr_is_flag_not_error():
    a = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    res = ahp(a)
    assert not res.consistent and res.cr > 0.10


@pytest.mark.parametrize("bad,msg", [
    ([[1, 2], [2, 1]], "not reciprocal"),
    ([[1, -2], [-0.5, 1]], "positive"),
    ([[1, 2, 3]], "square"),
])
def test_bad_matrices(bad, msg):
    with pytest.raises(ValueError, match=msg):
        ahp(bad)


def test_unknown_method_lists_choices():
    with pytest.raises(ValueError, match="eigen, geometric"):
        ahp([[1]], method="power")


def test_aij_is_elementwise_geometric_mean():
    """AIJ (Forman & Peniwati 1998): weighted geometric mean of judgments, reciprocal."""
    a1 = np.array([[1, 3], [1 / 3, 1]])
    a2 = np.array([[1, 1 / 3], [3, 1]])
    g = aggregate_judgments([a1, a2]).to_numpy()
    np.testing.assert_allclose(g, np.ones((2, 2)))
    g = aggregate_judgments({"x": a1, "y": a2}, weights={"x": 3, "y": 1}).to_numpy()
    assert g[0, 1] == pytest.approx(3 ** 0.75 * (1 / 3) ** 0.25)
    assert g[0, 1] * g[1, 0] == pytest.approx(1.0)


def test_aip_geometric_and_arithmetic():
    p = pd.DataFrame({"e1": [0.6, 0.4], "e2": [0.2, 0.8]}, index=["a", "b"])
    ari = aggregate_priorities(p, mean="arithmetic")
    np.testing.assert_allclose(ari.to_numpy(), [0.4, 0.6])
    geo = aggregate_priorities(p)
    g = np.sqrt([0.6 * 0.2, 0.4 * 0.8])
    np.testing.assert_allclose(geo.to_numpy(), g / g.sum())


def test_hierarchy_weights():
    g = {"tech": 0.6, "price": 0.4}
    loc = {"tech": pd.Series({"C1": 1, "C2": 3}), "price": pd.Series({"C3": 1})}
    w = hierarchy_weights(g, loc)
    np.testing.assert_allclose(w[["C1", "C2", "C3"]].to_numpy(), [0.15, 0.45, 0.4])
    with pytest.raises(ValueError, match="missing for groups"):
        hierarchy_weights(g, {"tech": loc["tech"]})


def test_rank_weights_by_hand():
    """ROC, rank-sum, rank-reciprocal for n = 3 from the formulas of Barron & Barrett (1996) and
    Stillwell et al. (1981): ROC = (11/18, 5/18, 2/18), RS = (3, 2, 1)/6, RR = (6, 3, 2)/11."""
    r = pd.Series({"a": 1, "b": 2, "c": 3})
    np.testing.assert_allclose(rank_weights(r).to_numpy(), [11 / 18, 5 / 18, 2 / 18])
    np.testing.assert_allclose(rank_weights(r, method="rs").to_numpy(), [3 / 6, 2 / 6, 1 / 6])
    np.testing.assert_allclose(rank_weights(r, method="rr").to_numpy(), [6 / 11, 3 / 11, 2 / 11])
    tied = rank_weights(pd.Series({"a": 1, "b": 1, "c": 3}))
    assert tied["a"] == tied["b"] == pytest.approx((11 / 18 + 5 / 18) / 2)
    with pytest.raises(ValueError, match="roc, rs, rr"):
        rank_weights(r, method="borda")


@given(st.lists(st.floats(0.01, 100), min_size=2, max_size=8))
def test_direct_weights_sum_to_one(points):
    w = direct_weights(points)
    assert w.sum() == pytest.approx(1.0)
    assert np.all(np.diff(np.argsort(points)) == np.diff(np.argsort(w.to_numpy())))


def test_direct_and_swing_errors():
    with pytest.raises(ValueError, match=">= 0"):
        direct_weights([1, -1])
    with pytest.raises(ValueError, match="all be zero"):
        direct_weights([0, 0])
    with pytest.raises(ValueError, match="rated 100"):
        swing_weights([80, 40])
    np.testing.assert_allclose(swing_weights([100, 50, 50]).to_numpy(), [0.5, 0.25, 0.25])


def test_entropy_against_formula():
    """Shannon entropy weights (Zeleny 1982 definition) computed independently by formula."""
    x = np.array([[2.0, 1500, 5], [2.5, 2700, 3], [1.8, 2000, 7], [2.2, 1800, 5]])
    p = x / x.sum(axis=0)
    d = 1 + (p * np.log(p)).sum(axis=0) / np.log(4)
    np.testing.assert_allclose(entropy_weights(x, ["max"] * 3).to_numpy(), d / d.sum())
    assert critic_weights(x, ["max", "max", "min"]).sum() == pytest.approx(1.0)


def test_entropy_hwang_yoon_aircraft_example():
    """Hwang & Yoon (1981), Multiple Attribute Decision Making, sec. 4.2.1 (entropy method),
    fighter-aircraft example (the TOPSIS data, reliability and manoeuvrability on the 1-9
    scale).  Published (hand-rounded to 4 d.p.): e_j = .9946 .9829 .9989 .9931 .9703 .9770,
    w_j = .0649 .2055 .0133 .0829 .3570 .2764; the exact computation agrees to within the
    rounding of the printed e_j (5e-4) and the printed weights (2e-3)."""
    x = pd.DataFrame([[2.0, 1500, 20000, 5.5, 5, 9], [2.5, 2700, 18000, 6.5, 3, 5],
                      [1.8, 2000, 21000, 4.5, 7, 7], [2.2, 1800, 20000, 5.0, 5, 5]],
                     index=["A1", "A2", "A3", "A4"],
                     columns=["speed", "range", "payload", "cost", "reliab", "manoeuv"])
    w = entropy_weights(x, ["max", "max", "max", "min", "max", "max"])
    np.testing.assert_allclose(w.to_numpy(), [0.0649, 0.2055, 0.0133, 0.0829, 0.3570, 0.2764], atol=2e-3)
    assert list(w.index) == list(x.columns) and w.sum() == pytest.approx(1.0)
    assert w.idxmax() == "reliab" and w.idxmin() == "payload"
    # unit-free: the cost in $ instead of $M, the range in km, give the same weights
    y = x.assign(cost=x["cost"] * 1e6, range=x["range"] * 1.852)
    np.testing.assert_allclose(entropy_weights(y, ["max"] * 6).to_numpy(), w.to_numpy(), rtol=1e-12)


def test_entropy_refuses_negative_values_naming_the_cells():
    """A negative value made p_ij negative and ln(p_ij) NaN: every weight came back NaN (the
    warning was suppressed).  The method needs shares of a total, so it is refused."""
    x = pd.DataFrame({"margin": [5.0, -2.0, 3.0], "price": [10.0, 12.0, 11.0]}, index=["V1", "V2", "V3"])
    with pytest.raises(ValueError, match=r"1 negative value\(s\) at \('V2', 'margin'\) = -2.*>= 0"):
        entropy_weights(x, ["max", "min"])
    with pytest.raises(ValueError, match=r"criteria \['margin'\] are 0 for every alternative"):
        entropy_weights(x.assign(margin=0.0), ["max", "min"])
    with pytest.raises(ValueError, match="same value for every alternative"):
        entropy_weights(pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0]}), ["max", "max"])


def test_entropy_zero_cells_use_0_ln_0():
    """0 ln 0 = 0 (the limit): a zero cell is allowed and the weights stay finite."""
    x = np.array([[0.0, 1.0], [2.0, 1.1], [4.0, 0.9]])
    w = entropy_weights(x, ["max", "max"])
    p = np.array([0, 2, 4]) / 6
    e0 = -(p[1:] * np.log(p[1:])).sum() / np.log(3)
    q = x[:, 1] / x[:, 1].sum()
    e1 = -(q * np.log(q)).sum() / np.log(3)
    np.testing.assert_allclose(w.to_numpy(), np.array([1 - e0, 1 - e1]) / (2 - e0 - e1))


def test_pairwise_matrix_from_long_table():
    t = pd.DataFrame({"item_a": ["x", "x"], "item_b": ["y", "z"], "value": [2.0, 4.0]})
    with pytest.raises(ValueError, match="missing for: y vs z"):
        pairwise_matrix(t)
    t.loc[2] = ["z", "y", 0.5]
    m = pairwise_matrix(t)
    assert m.loc["y", "z"] == 2.0 and m.loc["z", "x"] == 0.25


def test_tender_ahp_weights(tender):
    """AHP on the sample tender: root judgments (AIJ over 3 evaluators) x local direct weights."""
    w, res = tender_weights(tender, "ahp")
    assert w.sum() == pytest.approx(1.0)
    assert w["C09"] == 0.0
    groups = tender.criteria["group"]
    by_group = w.groupby(groups).sum()
    np.testing.assert_allclose(by_group[res.weights.index].to_numpy(), res.weights.to_numpy())
    tech = w[groups == "technical"]
    np.testing.assert_allclose(tech / tech.sum(), np.array([6, 6, 5]) / 17)
    assert res.consistent


def test_judgments_beyond_a_million_are_refused_not_overflowed():
    """a / a.T overflowed for 1e308 / 1e-308 and the weights came back NaN."""
    with pytest.raises(ValueError, match=r"within \[1/1e\+06, 1e\+06\] .*entry \(0, 1\) = 1e\+308"):
        ahp([[1, 1e308], [1e-308, 1]])
