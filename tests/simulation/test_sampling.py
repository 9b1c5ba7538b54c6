"""Uniform sources: MC, Latin hypercube, scrambled Sobol; seeding by chunk and input name."""

from __future__ import annotations

import numpy as np
import pytest

from sourcing.simulation.sampling import UniformSource, stream


def test_lhs_one_point_per_stratum():
    """McKay, Beckman & Conover (1979): each of the n equal strata of every margin holds one point."""
    u = UniformSource(["a", "b", "c"], method="lhs", seed=1).block(0, 500)
    for j in range(3):
        assert np.array_equal(np.sort(np.floor(u[:, j] * 500)), np.arange(500))


def test_sobol_is_more_uniform_than_mc():
    n = 4096
    sob = UniformSource(["a", "b"], method="sobol", seed=1).block(0, n)
    mc = UniformSource(["a", "b"], method="mc", seed=1).block(0, n)
    assert ((sob > 0) & (sob < 1)).all()
    # error of the mean of u over many replications: Sobol far below MC's 1/sqrt(12 n)
    assert abs(sob[:, 0].mean() - 0.5) < 0.2 / np.sqrt(12 * n)
    assert abs(mc[:, 0].mean() - 0.5) < 5 / np.sqrt(12 * n)


def test_streams_reproducible_and_independent_of_other_inputs():
    a = UniformSource(["x", "y"], method="mc", seed=7).block(3, 100)
    b = UniformSource(["y", "z", "x"], method="mc", seed=7).block(3, 100)
    assert np.array_equal(a[:, 0], b[:, 2]) and np.array_equal(a[:, 1], b[:, 0])
    c = UniformSource(["x"], method="mc", seed=8).block(3, 100)
    assert not np.array_equal(a[:, 0], c[:, 0])
    assert not np.array_equal(stream(7, 0, "x").random(5), stream(7, 1, "x").random(5))


def test_bad_method_and_seed():
    with pytest.raises(ValueError, match="valid choices: mc, lhs, sobol"):
        UniformSource(["a"], method="halton")
    with pytest.raises(ValueError, match="non-negative"):
        UniformSource(["a"], seed=-1)
    with pytest.raises(TypeError, match="seed must be"):
        UniformSource(["a"], seed="abc")
