"""GAIA plane (Mareschal & Brans 1988, "Geometrical representations for MCDA", EJOR 34(1)):
the properties the paper states, on PROMETHEE net flows of random and of low-rank matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sourcing.scoring import gaia, net_flows
from sourcing.scoring.methods import promethee_core


def _flows(m: int, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, (m, n))
    obj = np.where(rng.random(n) < 0.3, -1.0, 1.0)
    prefs = [{"type": "linear", "q": 5.0, "p": 30.0}] * n
    phi = np.column_stack([promethee_core(x[:, [j]], obj[[j]], [prefs[j]]) for j in range(n)])
    return pd.DataFrame(phi, index=[f"A{i}" for i in range(m)], columns=[f"g{j}" for j in range(n)]), x


def test_two_criteria_keep_everything_and_the_stick_gives_the_net_flow():
    # with rank(Phi) <= 2 the plane is exact: projecting a point on the stick gives phi = Phi w
    phi, _ = _flows(6, 2, 1)
    w = np.array([0.7, 0.3])
    plane = gaia(phi, w)
    assert plane.delta == pytest.approx(1.0)
    projected = plane.alternatives.to_numpy() @ plane.stick.to_numpy()
    np.testing.assert_allclose(projected, phi.to_numpy() @ w, atol=1e-12)


def test_axes_are_orthonormal_components_and_delta_is_the_variance_kept():
    phi, _ = _flows(9, 6, 2)
    plane = gaia(phi, np.full(6, 1 / 6))
    u = plane.criteria.to_numpy()
    np.testing.assert_allclose(u.T @ u, np.eye(2), atol=1e-12)
    x = phi.to_numpy() - phi.to_numpy().mean(axis=0)
    kept = (plane.alternatives.to_numpy() ** 2).sum() / (x ** 2).sum()
    assert plane.delta == pytest.approx(kept)
    assert 0 < plane.delta <= 1


def test_invariant_to_the_order_of_the_alternatives():
    phi, _ = _flows(7, 4, 3)
    w = [0.1, 0.2, 0.3, 0.4]
    a = gaia(phi, w)
    b = gaia(phi.iloc[::-1], w)
    pd.testing.assert_frame_equal(a.alternatives, b.alternatives.loc[a.alternatives.index], atol=1e-12)
    pd.testing.assert_series_equal(a.stick, b.stick, atol=1e-12)


def test_net_flows_of_a_promethee_ranking_reproduce_its_score():
    from tenders import tiny_tender

    from sourcing.scoring.evaluation import evaluate

    tender = tiny_tender()
    ev = evaluate(tender, method="promethee")
    flows = net_flows(ev)
    np.testing.assert_allclose(flows.to_numpy() @ ev.weights.to_numpy(), ev.scores.to_numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="PROMETHEE"):
        net_flows(evaluate(tender, method="wsm"))


def test_refuses_bad_weights_naming_the_criteria():
    phi, _ = _flows(4, 3, 4)
    with pytest.raises(ValueError, match="g0, g1, g2"):
        gaia(phi, [1, -1, 0])
