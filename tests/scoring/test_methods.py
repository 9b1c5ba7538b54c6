"""Tests for sourcing.scoring.methods: rank() on published data and brute-force references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sourcing.scoring import PROMETHEE2, rank
from sourcing.scoring.methods import (
    _pref,
    minmax_normalize,
    promethee_core,
    ratio_normalize,
    topsis_core,
    vector_normalize,
    vikor_core,
    wsm_core,
)

# Hwang & Yoon (1981), Multiple Attribute Decision Making, fighter-aircraft example: max speed
# (Mach), ferry range (NM), max payload (lb), acquisition cost ($M, min), reliability, manoeuvrability.
AIRCRAFT = pd.DataFrame(
    [[2.0, 1500, 20000, 5.5, 5, 9], [2.5, 2700, 18000, 6.5, 3, 5],
     [1.8, 2000, 21000, 4.5, 7, 7], [2.2, 1800, 20000, 5.0, 5, 5]],
    index=["A1", "A2", "A3", "A4"], columns=["speed", "range", "payload", "cost", "reliab", "manoeuv"])
AIR_OBJ = ["max", "max", "max", "min", "max", "max"]
AIR_W = [0.2, 0.1, 0.1, 0.1, 0.2, 0.3]

SMALL = np.array([[250, 16, 12, 5], [200, 16, 8, 3], [300, 32, 16, 4], [275, 32, 8, 4], [225, 16, 16, 2]],
                 dtype=float)
SMALL_OBJ = np.array([-1, 1, 1, 1.0])


def _topsis_loop(x, obj, w, vector=True):
    """Independent loop implementation of TOPSIS (vector or no normalisation, Euclidean)."""
    m, n = x.shape
    v = [[(x[i][j] / sum(x[k][j] ** 2 for k in range(m)) ** 0.5 if vector else x[i][j]) * w[j]
          for j in range(n)] for i in range(m)]
    cols = [[v[i][j] for i in range(m)] for j in range(n)]
    best = [max(cols[j]) if obj[j] > 0 else min(cols[j]) for j in range(n)]
    worst = [min(cols[j]) if obj[j] > 0 else max(cols[j]) for j in range(n)]
    out = []
    for i in range(m):
        dp = sum((v[i][j] - best[j]) ** 2 for j in range(n)) ** 0.5
        dm = sum((v[i][j] - worst[j]) ** 2 for j in range(n)) ** 0.5
        out.append(dm / (dp + dm))
    return np.array(out)


def test_topsis_hwang_yoon_aircraft():
    """Hwang & Yoon (1981) fighter-aircraft data.  Convention: vector normalisation, Euclidean
    distance.  Expected closeness from an independent loop computation (not copied from the
    book's table): about 0.643, 0.268, 0.613, 0.312, i.e. A1 > A3 > A4 > A2 as published."""
    res = rank(AIRCRAFT, AIR_OBJ, AIR_W, method="topsis")
    x = AIRCRAFT.to_numpy()
    expected = _topsis_loop(x, [1, 1, 1, -1, 1, 1], AIR_W)
    np.testing.assert_allclose(res.scores.to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(res.scores.to_numpy(), [0.643, 0.268, 0.613, 0.312], atol=1e-3)
    assert list(res.ranks) == [1, 4, 2, 3]
    assert res.conventions["normalization"] == "vector"
    assert list(res.scores.index) == ["A1", "A2", "A3", "A4"]
    np.testing.assert_allclose(res.details["d_minus"] / (res.details.sum(axis=1)), res.scores)


def test_topsis_minmax_normalisation():
    res = rank(SMALL, SMALL_OBJ, [0.25] * 4, method="topsis", normalization="minmax")
    n = (SMALL - SMALL.min(0)) / np.ptp(SMALL, axis=0)
    np.testing.assert_allclose(res.scores.to_numpy(), _topsis_loop(n, SMALL_OBJ, [0.25] * 4, vector=False))
    with pytest.raises(ValueError, match="vector, minmax"):
        rank(SMALL, SMALL_OBJ, [0.25] * 4, method="topsis", normalization="sum")


def test_wsm_brute_force():
    """WSM on benefit-oriented min-max normalised values, by an explicit loop."""
    w = np.array([0.4, 0.3, 0.2, 0.1])
    res = rank(SMALL, SMALL_OBJ, w, method="wsm")
    lo, hi = SMALL.min(0), SMALL.max(0)
    exp = [sum(w[j] * ((SMALL[i, j] - lo[j]) if SMALL_OBJ[j] > 0 else (hi[j] - SMALL[i, j])) / (hi[j] - lo[j])
               for j in range(4)) for i in range(5)]
    np.testing.assert_allclose(res.scores.to_numpy(), exp)
    np.testing.assert_allclose(res.details.sum(axis=1).to_numpy(), exp)


def test_wpm_by_hand():
    x = np.array([[2.0, 4.0], [4.0, 2.0]])
    res = rank(x, ["max", "min"], [0.5, 0.5], method="wpm")
    # A1: (2/4)^.5 * (2/4)^.5 = 0.5 ; A2: 1 * 1 = 1
    np.testing.assert_allclose(res.scores.to_numpy(), [0.5, 1.0])
    with pytest.raises(ValueError, match="> 0"):
        rank([[0.0, 1], [1, 2]], ["max", "max"], [1, 1], method="wpm")


def _vikor_loop(x, obj, w, v):
    m, n = x.shape
    best = [x[:, j].max() if obj[j] > 0 else x[:, j].min() for j in range(n)]
    worst = [x[:, j].min() if obj[j] > 0 else x[:, j].max() for j in range(n)]
    s = [sum(w[j] * (best[j] - x[i, j]) / (best[j] - worst[j]) for j in range(n)) for i in range(m)]
    r = [max(w[j] * (best[j] - x[i, j]) / (best[j] - worst[j]) for j in range(n)) for i in range(m)]
    q = [v * (s[i] - min(s)) / (max(s) - min(s)) + (1 - v) * (r[i] - min(r)) / (max(r) - min(r))
         for i in range(m)]
    return np.array(s), np.array(r), np.array(q)


@pytest.mark.parametrize("v", [0.5, 0.2, 0.9])
def test_vikor_against_loop(v):
    """VIKOR (Opricovic & Tzeng 2004 definitions of S, R, Q), checked against an explicit loop."""
    w = np.array([0.3, 0.3, 0.2, 0.2])
    res = rank(SMALL, SMALL_OBJ, w, method="vikor", v=v)
    s, r, q = _vikor_loop(SMALL, SMALL_OBJ, w, v)
    np.testing.assert_allclose(res.details[["S", "R", "Q"]].to_numpy(), np.c_[s, r, q], atol=1e-12)
    assert not res.higher_is_better and res.ranks.iloc[int(np.argmin(q))] == 1
    assert res.conventions["v"] == v


def test_vikor_compromise_conditions():
    """C1 fails when the runner-up is within DQ = 1/(m-1) of the best Q: compromise set grows."""
    x = np.array([[10.0, 1.0], [9.9, 1.1], [1.0, 10.0], [5.0, 5.0]])
    res = rank(x, ["max", "max"], [0.5, 0.5], method="vikor")
    assert res.conditions["C1 acceptable advantage"] is False
    assert len(res.compromise_set) >= 2
    x2 = np.array([[10.0, 10.0], [1.0, 2.0], [2.0, 1.0]])
    res2 = rank(x2, ["max", "max"], [0.5, 0.5], method="vikor")
    assert res2.conditions == {"C1 acceptable advantage": True, "C2 acceptable stability": True}
    assert res2.compromise_set == [0]


@pytest.mark.parametrize("kind,params,d,expected", [
    ("usual", {}, [-1, 0, 0.5, 3], [0, 0, 1, 1]),
    ("u-shape", {"q": 1}, [0.5, 1, 1.5], [0, 0, 1]),
    ("v-shape", {"p": 2}, [-1, 1, 2, 3], [0, 0.5, 1, 1]),
    ("level", {"q": 1, "p": 3}, [0.5, 2, 4], [0, 0.5, 1]),
    ("linear", {"q": 1, "p": 3}, [0.5, 2, 4], [0, 0.5, 1]),
    ("gaussian", {"s": 1}, [-1, 0, 1], [0, 0, 1 - np.exp(-0.5)]),
])
def test_preference_functions(kind, params, d, expected):
    """The six generalised criteria of Brans & Vincke (1985), by their definitions."""
    np.testing.assert_allclose(_pref(np.array(d, dtype=float), kind, **params), expected)


def test_promethee_against_double_loop():
    """PROMETHEE II net flows by an explicit double loop over pairs (brute force)."""
    prefs = [{"type": "linear", "q": 10, "p": 50}, {"type": "usual"}, {"type": "v-shape", "p": 4},
             {"type": "gaussian", "s": 1.0}]
    w = np.array([0.4, 0.2, 0.3, 0.1])
    res = rank(SMALL, SMALL_OBJ, w, method="promethee", preference=prefs)
    m = len(SMALL)
    plus, minus = np.zeros(m), np.zeros(m)
    for a in range(m):
        for b in range(m):
            if a == b:
                continue
            for j in range(4):
                d = (SMALL[a, j] - SMALL[b, j]) * SMALL_OBJ[j]
                pr = {k: v for k, v in prefs[j].items() if k != "type"}
                p_ab = float(_pref(np.array(d), prefs[j]["type"], **pr))
                plus[a] += w[j] * p_ab / (m - 1)
                minus[b] += w[j] * p_ab / (m - 1)
    np.testing.assert_allclose(res.details["phi_plus"], plus)
    np.testing.assert_allclose(res.details["phi_minus"], minus)
    np.testing.assert_allclose(res.scores, plus - minus)
    assert res.scores.sum() == pytest.approx(0.0, abs=1e-12)
    phi_j = res.details[[f"phi_{c}" for c in range(4)]].to_numpy()
    np.testing.assert_allclose(phi_j @ w, res.scores)


def test_promethee_is_skcriteria_component():
    import skcriteria as skc

    dm = skc.mkdm(SMALL, SMALL_OBJ.astype(int), weights=[0.25] * 4)
    r = PROMETHEE2().evaluate(dm)
    assert set(r.values) <= set(range(1, 6)) and "phi" in r.extra_


@pytest.mark.parametrize("method,params", [("wsm", {}), ("wpm", {}), ("topsis", {}),
                                           ("topsis", {"normalization": "minmax"}), ("vikor", {}),
                                           ("promethee", {})])
def test_vectorised_cores_match_rank(method, params):
    """The numpy kernels used by SMAA agree with rank() (scikit-criteria) on single evaluations."""
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 10, (7, 5))
    obj = np.array([1, -1, 1, 1, -1.0])
    w = rng.dirichlet(np.ones(5))
    res = rank(x, obj, w, method=method, **params)
    if method == "wsm":
        s = wsm_core(minmax_normalize(x, obj), w)
    elif method == "wpm":
        s = np.exp(wsm_core(np.log(ratio_normalize(x, obj)), w))
    elif method == "topsis":
        n = vector_normalize(x) if not params else (x - x.min(0)) / np.ptp(x, axis=0)
        s = topsis_core(n, obj, w)
        s3 = topsis_core(np.broadcast_to(n, (2, 7, 5)), obj, np.stack([w, w]))
        np.testing.assert_allclose(s3[1], s)
    elif method == "vikor":
        s = vikor_core(x, obj, w)[2]
    else:
        s = promethee_core(x, obj, [{"type": "usual"}] * 5) @ w
    np.testing.assert_allclose(res.scores.to_numpy(), s, rtol=1e-10, atol=1e-12)


def test_electre_and_passthrough():
    res = rank(AIRCRAFT, AIR_OBJ, AIR_W, method="electre")
    assert res.ranks.min() == 1 and not res.higher_is_better
    edas = rank(AIRCRAFT, AIR_OBJ, AIR_W, method="edas")
    assert sorted(edas.ranks) == [1, 2, 3, 4] and "engine" in edas.conventions


@given(st.permutations(range(5)))
def test_ranks_invariant_to_row_order(perm):
    for method in ("wsm", "topsis", "vikor", "promethee"):
        base = rank(SMALL, SMALL_OBJ, [0.3, 0.3, 0.2, 0.2], method=method).ranks.to_numpy()
        r = rank(SMALL[list(perm)], SMALL_OBJ, [0.3, 0.3, 0.2, 0.2], method=method).ranks.to_numpy()
        np.testing.assert_array_equal(r, base[list(perm)])


@given(arrays(float, (6, 3), elements=st.floats(1, 100)), st.floats(0.01, 1000), st.integers(0, 2))
def test_wsm_scale_invariance(x, c, j):
    """Scaling a criterion by c > 0 does not change WSM-on-normalised ranks (or scores)."""
    if np.any(np.ptp(x, axis=0) < 1e-6):
        return
    a = rank(x, ["max", "min", "max"], [0.5, 0.3, 0.2], method="wsm")
    y = x.copy()
    y[:, j] *= c
    b = rank(y, ["max", "min", "max"], [0.5, 0.3, 0.2], method="wsm")
    np.testing.assert_allclose(a.scores.to_numpy(), b.scores.to_numpy(), atol=1e-9)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,err,msg", [
    ({"matrix": [[1, np.nan], [2, 3]]}, ValueError, r"missing or non-finite value.*\(0, 1\)"),
    ({"matrix": [[1, 5], [2, 5]], "method": "wsm"}, ValueError, "same value for every alternative"),
    ({"weights": [1, -1]}, ValueError, "must be >= 0"),
    ({"weights": [0, 0]}, ValueError, "all zero"),
    ({"weights": [1, 1, 1]}, ValueError, "need 2 values"),
    ({"objectives": ["max"]}, ValueError, "need 2 values"),
    ({"objectives": ["max", "up"]}, ValueError, "valid choices: 'max', 'min'"),
    ({"method": "magic"}, ValueError, "valid choices: .*promethee.*topsis"),
    ({"method": "promethee", "preference": [{"type": "step"}] * 2}, ValueError, "valid choices: usual"),
    ({"method": "promethee", "preference": [{"type": "linear", "q": 1}] * 2}, ValueError, "needs q, p"),
    ({"method": "promethee", "preference": [{"type": "linear", "q": 3, "p": 1}] * 2}, ValueError, "q < p"),
    ({"method": "vikor", "v": 2}, ValueError, "within"),
    ({"method": "wsm", "v": 2}, TypeError, "unknown parameters"),
    ({"matrix": [[1, 2]]}, ValueError, "at least 2 alternatives"),
])
def test_bad_input(kwargs, err, msg):
    args = {"matrix": [[1.0, 2.0], [3.0, 1.0]], "objectives": ["max", "min"], "weights": [1, 1],
            "method": "topsis", **kwargs}
    with pytest.raises(err, match=msg):
        rank(**args)


def test_builtin_objectives_and_labels():
    x = pd.DataFrame({"q": [1.0, 2.0, 3.0], "p": [3.0, 2.0, 2.5]}, index=["x", "y", "z"])
    r = rank(x, [max, min], {"p": 1, "q": 1}, method="wsm")
    assert list(r.scores.index) == ["x", "y", "z"]
    assert r.ranks["y"] == 1
    with pytest.raises(ValueError, match="valid criteria: q, p"):
        rank(x, [max, min], {"p": 1, "z": 1}, method="wsm")


_SPREAD = pd.DataFrame({"c1": [-1e150, 1e150, 1.0], "c2": [3.0, 2.0, 1.0]}, index=["a", "b", "c"])


@pytest.mark.parametrize("method", ["wsm", "topsis", "vikor", "promethee"])
def test_values_beyond_1e100_are_refused_with_their_cells(method):
    """Without the check, wsm/vikor spans overflowed to inf and scores came back NaN."""
    with pytest.raises(ValueError, match=r"2 value\(s\) beyond \+/-1e\+100 at \('a', 'c1'\), \('b', 'c1'\)"):
        rank(_SPREAD, ["max", "min"], [1, 1], method=method)


def test_topsis_vector_normalisation_is_scale_free():
    """Squares of 1e90 or 1e-200 over/underflow; the column is scaled by its largest value first."""
    base = pd.DataFrame({"c1": [1.0, 2.0, 3.0], "c2": [3.0, 2.0, 1.0]}, index=["a", "b", "c"])
    want = rank(base, ["max", "min"], [1, 1], method="topsis").scores
    for factor in (1e90, 1e-200):
        got = rank(base.assign(c1=base["c1"] * factor), ["max", "min"], [1, 1], method="topsis").scores
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_duplicate_alternative_names_are_refused():
    m = pd.DataFrame({"c1": [1.0, 2.0, 3.0]}, index=["V1", "V1", "V2"])
    with pytest.raises(ValueError, match=r"duplicate alternatives \['V1'\]; names must be unique"):
        rank(m, ["max"], [1])


def test_weights_naming_an_unknown_criterion_say_which():
    m = pd.DataFrame({"c1": [1.0, 2.0], "c2": [2.0, 1.0]}, index=["a", "b"])
    with pytest.raises(ValueError, match=r"weights name unknown criteria \['zz'\]; valid criteria: c1, c2"):
        rank(m, ["max", "max"], {"c1": 1, "zz": 2})
