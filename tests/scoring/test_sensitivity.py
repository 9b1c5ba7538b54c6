"""Tests for sourcing.scoring.sensitivity: SMAA-2, weight stability, method agreement, rank reversal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sourcing.scoring import compare_methods, rank, rank_reversal, smaa, weight_stability
from sourcing.scoring.sensitivity import _weights_at

X = np.array([[250, 16, 12, 5], [200, 16, 8, 3], [300, 32, 16, 4], [275, 32, 8, 4], [225, 16, 16, 2]],
             dtype=float)
OBJ = ["min", "max", "max", "max"]


def test_smaa_two_alternatives_analytic():
    """[[1, 0], [0, 1]] with uniform weights on the simplex: b^1 = 1/2 each, and the central weight
    of A1 is E[w | w1 > w2] = (3/4, 1/4) (uniform on a segment) -- SMAA-2 definitions of Lahdelma
    & Salminen (2001), computed analytically."""
    r = smaa([[1.0, 0.0], [0.0, 1.0]], ["max", "max"], n=40_000, seed=7)
    np.testing.assert_allclose(r.acceptability.to_numpy(), 0.5, atol=0.01)
    np.testing.assert_allclose(r.central_weights.iloc[0].to_numpy(), [0.75, 0.25], atol=0.01)
    np.testing.assert_allclose(r.confidence.to_numpy(), [1.0, 1.0])


def test_smaa_dominance_properties():
    """A dominated alternative is never first; a dominating one is always first (any weights)."""
    x = np.vstack([X, X[2] + [-1, 1, 1, 1]])  # row 5 dominates row 2
    r = smaa(x, OBJ, n=5000, seed=1, method="topsis", normalization="minmax")
    assert r.acceptability.loc[2, 1] == 0.0
    assert np.isnan(r.central_weights.loc[2]).all() and np.isnan(r.confidence[2])


@pytest.mark.parametrize("method", ["wsm", "wpm", "topsis", "vikor", "promethee"])
def test_smaa_matches_loop_of_rank_calls(method):
    """Vectorised SMAA equals a per-sample loop calling rank() on the same weights (brute force)."""
    n = 60
    r = smaa(X, OBJ, n=n, seed=11, method=method)
    from sourcing.scoring.sensitivity import _simplex

    w = _simplex(np.random.default_rng(11), n, 4)
    counts = np.zeros((5, 5))
    for s in range(n):
        res = rank(X, OBJ, w[s], method=method)
        key = -res.scores.to_numpy() if res.higher_is_better else res.scores.to_numpy()
        order = np.lexsort((np.arange(5), key))
        counts[order, np.arange(5)] += 1
    np.testing.assert_allclose(r.acceptability.to_numpy(), counts / n)


@settings(max_examples=15)
@given(arrays(float, (4, 3), elements=st.floats(0, 10)), st.integers(0, 2**16))
def test_acceptability_sums_to_one(x, seed):
    if np.any(np.ptp(x, axis=0) == 0):
        return
    r = smaa(x, ["max", "min", "max"], n=500, seed=seed)
    np.testing.assert_allclose(r.acceptability.sum(axis=0), 1.0)
    np.testing.assert_allclose(r.acceptability.sum(axis=1), 1.0)


def test_smaa_reproducible_and_sampling_schemes():
    a = smaa(X, OBJ, n=3000, seed=5, uncertainty=3.0, method="topsis")
    b = smaa(X, OBJ, n=3000, seed=5, uncertainty=3.0, method="topsis")
    np.testing.assert_array_equal(a.acceptability, b.acceptability)
    np.testing.assert_array_equal(a.confidence, b.confidence)
    assert ((a.confidence >= 0) & (a.confidence <= 1) | a.confidence.isna()).all()
    ordered = smaa(X, OBJ, n=2000, seed=1, weight_order=[2, 1, 3, 4])
    cw = ordered.central_weights.dropna()
    assert (cw[1] >= cw[0]).all() and (cw[0] >= cw[2]).all() and (cw[2] >= cw[3]).all()
    lo, hi = [0.1, 0.1, 0.1, 0.1], [0.5, 0.5, 0.5, 0.5]
    bounded = smaa(X, OBJ, n=2000, seed=1, weight_bounds=(lo, hi))
    cw = bounded.central_weights.dropna().to_numpy()
    assert (cw >= 0.1 - 1e-12).all() and (cw <= 0.5 + 1e-12).all()
    fixed = smaa(X, OBJ, [0.25] * 4, n=100, seed=1, concentration=None)
    assert set(np.unique(fixed.acceptability.to_numpy())) <= {0.0, 1.0}
    around = smaa(X, OBJ, [0.7, 0.1, 0.1, 0.1], n=2000, seed=1, concentration=200)
    w0 = around.central_weights.dropna().iloc[0]
    assert w0.iloc[0] > 0.5


def test_smaa_errors():
    with pytest.raises(ValueError, match="valid choices: wsm, wpm, topsis, vikor, promethee"):
        smaa(X, OBJ, method="electre", n=10)
    with pytest.raises(ValueError, match="at most one"):
        smaa(X, OBJ, [0.25] * 4, weight_order=[1, 2, 3, 4], n=10)
    with pytest.raises(ValueError, match="1..4"):
        smaa(X, OBJ, weight_order=[1, 1, 2, 3], n=10)
    with pytest.raises(ValueError, match="positive integer"):
        smaa(X, OBJ, n=0)


@pytest.mark.parametrize("method", ["wsm", "topsis", "promethee"])
def test_weight_stability_bounds_are_tight(method):
    """Just inside each bound the top stays first; just outside (if < 1 / > 0) it changes.  Checked
    with independent rank() calls at the rescaled weights."""
    w = np.array([0.3, 0.3, 0.2, 0.2])
    res = weight_stability(X, OBJ, w, method=method, tol=1e-9)
    top = res.top
    eps = 1e-5
    for k, row in enumerate(res.intervals.itertuples()):
        assert row.lower <= w[k] <= row.upper
        for t, should in ((row.lower + eps, True), (row.upper - eps, True),
                          (row.lower - eps, False), (row.upper + eps, False)):
            if not 0 <= t <= 1:
                continue
            r = rank(X, OBJ, _weights_at(w, k, np.array([t]))[0], method=method)
            assert (r.ranks[top] == 1) == should, (k, t, should)


def test_weight_stability_ranking_scope_and_exactness():
    w = np.array([0.3, 0.3, 0.2, 0.2])
    first = weight_stability(X, OBJ, w, method="wsm").intervals
    full = weight_stability(X, OBJ, w, method="wsm", scope="ranking").intervals
    assert (full["lower"] >= first["lower"] - 1e-12).all() and (full["upper"] <= first["upper"] + 1e-12).all()
    assert first["exact"].all()
    with pytest.raises(ValueError, match="first, ranking"):
        weight_stability(X, OBJ, w, scope="top3")


def test_compare_methods_agreement():
    ag = compare_methods(X, OBJ, [0.3, 0.3, 0.2, 0.2], methods=("wsm", "topsis", "vikor"))
    assert list(ag.ranks.columns) == ["wsm", "topsis", "vikor"]
    np.testing.assert_allclose(np.diag(ag.kendall), 1.0)
    assert ((ag.kendall >= -1) & (ag.kendall <= 1)).all().all()
    same = compare_methods(X, OBJ, [0.3, 0.3, 0.2, 0.2], methods=("wsm", "promethee"),
                           params={"promethee": {"preference": {"type": "usual"}}})
    assert same.spearman.shape == (2, 2)


# ---------------------------------------------------------------------- rank reversal
BELTON_GEAR = pd.DataFrame([[1.0, 9, 8], [9, 1, 9], [1, 1, 1]], index=["A", "B", "C"],
                           columns=["c1", "c2", "c3"])


def test_rank_reversal_belton_gear_copy_of_b():
    """Belton & Gear (1983), Omega 11(3) 228-230: three equally weighted criteria, priorities by
    distributive (sum) normalisation as in Saaty's AHP, which is COPRAS without min criteria.
    Published: A 0.45, B 0.47, C 0.08 (B first); adding D, a copy of B, gives A 0.37, B 0.29,
    C 0.06, D 0.29 -- A overtakes B."""
    base = rank(BELTON_GEAR, ["max"] * 3, [1, 1, 1], method="copras").details["Q"]
    np.testing.assert_allclose(base.to_numpy(), [0.45, 0.47, 0.08], atol=0.005)
    grown = pd.concat([BELTON_GEAR, pd.DataFrame([[9.0, 1, 9]], index=["D"], columns=BELTON_GEAR.columns)])
    after = rank(grown, ["max"] * 3, [1, 1, 1], method="copras").details["Q"]
    np.testing.assert_allclose(after.to_numpy(), [0.37, 0.29, 0.06, 0.29], atol=0.005)

    res = rank_reversal(BELTON_GEAR, ["max"] * 3, [1, 1, 1], method="copras", add={"D": [9, 1, 9]})
    assert res.rank_reversal and res.winner_changed
    row = res.tests.loc["add D"]
    assert row["order_changed"] and row["pairs_reversed"] == 1
    assert (row["winner_before"], row["winner_after"]) == ("B", "A")
    others = res.tests.drop(index="add D")
    assert not others["order_changed"].any()
    frame = res.to_frame()
    assert list(frame.columns) == ["Test", "Alternatives ranked", "Pairs reversed",
                                   "Order of the others changed", "Winner before", "Winner after",
                                   "Winner changed", "Note"]
    assert frame.set_index("Test").loc["add D", "Winner changed"] == "yes"
    assert "add a dominated copy of C" in set(frame["Test"])


def test_rank_reversal_matches_reranking_by_hand():
    """Each test's verdict equals re-ranking the reduced / enlarged matrix with rank() directly
    (TOPSIS, vector normalisation): pairwise order of the original alternatives compared."""
    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.uniform(1, 10, (6, 3)), index=[f"V{i}" for i in range(6)], columns=["q", "s", "p"])
    obj, w = ["max", "max", "min"], [0.5, 0.2, 0.3]
    res = rank_reversal(x, obj, w, method="topsis")
    base = rank(x, obj, w, method="topsis").ranks
    for v in x.index:
        r = rank(x.drop(index=v), obj, w, method="topsis").ranks
        b = base.drop(index=v)
        flips = sum(np.sign(b[i] - b[j]) != np.sign(r[i] - r[j]) for k, i in enumerate(b.index)
                    for j in b.index[k + 1:])
        assert res.tests.loc[f"drop {v}", "pairs_reversed"] == flips
        assert res.tests.loc[f"drop {v}", "winner_after"] == r.idxmin()
    assert len(res.tests) == 7 and res.method == "topsis"


def test_wsm_with_fixed_normalisation_does_not_reverse_when_a_non_winner_is_dropped():
    """WSM scores are sum_j w_j n_ij; when dropping an alternative leaves every criterion's
    min and max (the normalisation) unchanged, the other scores are unchanged, so no pair can
    reverse: an additive model on a fixed scale is free of rank reversal (by construction)."""
    x = pd.DataFrame({"q": [10.0, 0.0, 5.0, 4.0, 6.0], "p": [100.0, 50.0, 50.0, 70.0, 80.0]},
                     index=["best", "lo", "hi", "mid1", "mid2"])
    res = rank_reversal(x, ["max", "min"], [0.6, 0.4], method="wsm")
    for v in ("mid1", "mid2"):  # interior on both criteria: normalisation fixed
        assert not res.tests.loc[f"drop {v}", "order_changed"]
        assert not res.tests.loc[f"drop {v}", "winner_changed"]


def test_phantom_is_dominated_and_worse_than_worst():
    x = pd.DataFrame({"q": [3.0, 2.0, 1.0], "p": [10.0, 20.0, 30.0], "m": [-1.0, 0.0, 2.0]},
                     index=["a", "b", "c"])
    from sourcing.scoring.sensitivity import _phantom

    ph = _phantom(x.to_numpy(), np.array([1.0, -1.0, 1.0]), 2, 0.1)
    np.testing.assert_allclose(ph, [0.9, 33.0, 2.0 - 0.3])
    res = rank_reversal(x, ["max", "min", "max"], [1, 1, 1], method="wsm")
    assert "add a dominated copy of c" in res.tests.index


def test_rank_reversal_bad_arguments():
    with pytest.raises(ValueError, match="phantom_step must be within"):
        rank_reversal(BELTON_GEAR, ["max"] * 3, [1, 1, 1], phantom_step=1.5)
    with pytest.raises(ValueError, match=r"already in the matrix"):
        rank_reversal(BELTON_GEAR, ["max"] * 3, [1, 1, 1], add={"A": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"non-finite"):
        rank_reversal(BELTON_GEAR, ["max"] * 3, [1, 1, 1], add={"E": [1, np.nan, 3]})
    with pytest.raises(ValueError, match="unknown method"):
        rank_reversal(BELTON_GEAR, ["max"] * 3, [1, 1, 1], method="magic")


def test_rank_reversal_leaves_out_criteria_made_constant():
    """Dropping A leaves c2 constant (= 1): WSM cannot min-max normalise it, so it is left out of
    that test (it carries no information), as evaluate() does, and the note says so."""
    res = rank_reversal(BELTON_GEAR, ["max"] * 3, [1, 1, 1], method="wsm")
    assert "['c2'] constant here, left out" in res.tests.loc["drop A", "note"]
    assert res.tests.loc["drop A", "winner_after"] == "B"
