"""Rank correlation: Spearman -> Pearson map, Gaussian copula, Iman-Conover, nearest correlation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sourcing.simulation import gaussian_copula, iman_conover, nearest_correlation, spearman_to_pearson
from sourcing.simulation.correlation import validate_correlation

TARGET = np.array([[1.0, 0.7, -0.3], [0.7, 1.0, 0.0], [-0.3, 0.0, 1.0]])


def test_spearman_to_pearson_formula():
    """Kruskal (1958): for a bivariate normal rho_S = (6/pi) asin(rho/2), so rho = 2 sin(pi rho_S/6)."""
    assert spearman_to_pearson(0.5) == pytest.approx(2 * np.sin(np.pi / 12))
    assert spearman_to_pearson(1.0) == pytest.approx(1.0)
    assert spearman_to_pearson(0.0) == 0.0


def test_gaussian_copula_achieves_target_spearman():
    rng = np.random.default_rng(1)
    u = gaussian_copula(rng.random((200_000, 3)), TARGET)
    rho = stats.spearmanr(u).statistic
    assert np.allclose(rho, TARGET, atol=0.01)
    # marginals stay uniform
    assert np.allclose(u.mean(axis=0), 0.5, atol=0.005)


def test_iman_conover_keeps_marginals_and_approximates_target():
    """Iman & Conover (1982), Commun. Statist. B 11(3) 311-334: reordering keeps each column's
    values; achieved rank correlation close to the target."""
    rng = np.random.default_rng(2)
    x = np.column_stack([rng.lognormal(size=20_000), rng.random(20_000), rng.exponential(size=20_000)])
    y = iman_conover(x, TARGET, rng=np.random.default_rng(3))
    for j in range(3):
        assert np.array_equal(np.sort(x[:, j]), np.sort(y[:, j]))
    assert np.allclose(stats.spearmanr(y).statistic, TARGET, atol=0.03)


def test_nearest_correlation_higham_example():
    """Higham (2002), IMA J. Numer. Anal. 22, 329-343: nearest correlation matrix of the
    tridiagonal [2, -1] matrix of order 4 (values as quoted in that paper's example, 4 d.p.)."""
    a = np.array([[2, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 2]], float)
    expected = np.array([[1, -0.8084, 0.1916, 0.1068], [-0.8084, 1, -0.6562, 0.1916],
                         [0.1916, -0.6562, 1, -0.8084], [0.1068, 0.1916, -0.8084, 1]])
    assert np.allclose(nearest_correlation(a), expected, atol=2e-4)


def test_non_psd_matrix_repaired_with_warning_showing_adjustment():
    bad = np.array([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    with pytest.warns(UserWarning, match=r"not positive semi-definite.*largest change"):
        fixed = validate_correlation(bad, names=["a", "b", "c"])
    assert np.linalg.eigvalsh(fixed).min() > -1e-10
    assert np.allclose(np.diag(fixed), 1)


@pytest.mark.parametrize("matrix, match", [
    (np.ones((2, 3)), "square"),
    (np.array([[1, 0.5], [0.2, 1]]), "symmetric"),
    (np.array([[2, 0.5], [0.5, 1]]), "1 on the diagonal"),
    (np.array([[1, 1.5], [1.5, 1]]), r"\[-1, 1\]"),
    (np.array([[1, np.nan], [np.nan, 1]]), "NaN"),
])
def test_bad_correlation_matrices(matrix, match):
    with pytest.raises(ValueError, match=match):
        validate_correlation(matrix, name="correlation")


def test_size_must_match_names():
    with pytest.raises(ValueError, match="3 inputs"):
        validate_correlation(np.eye(2), names=["a", "b", "c"])


@pytest.mark.parametrize("target", [-0.9, -0.5, 0.3, 0.7, 0.95])
def test_iman_conover_hits_target_spearman_within_sampling_error(target):
    """Iman & Conover (1982) with the Spearman -> Pearson conversion of the scores' target
    (Kruskal 1958, as in gaussian_copula).  With n = 100,000 the standard error of a Spearman
    coefficient is about (1 - rho^2) / sqrt(n) <= 0.0032, so 0.01 is over three standard errors.
    Using the target as the scores' Pearson correlation gave 0.683 for 0.70 (0.017 short)."""
    n = 100_000
    rng = np.random.default_rng(11)
    x = np.column_stack([rng.lognormal(size=n), rng.exponential(size=n)])
    c = np.array([[1.0, target], [target, 1.0]])
    y = iman_conover(x, c, rng=np.random.default_rng(12))
    achieved = stats.spearmanr(y).statistic
    assert achieved == pytest.approx(target, abs=0.01)
    se = (1 - target ** 2) / np.sqrt(n)
    assert abs(achieved - target) < 4 * se + 2e-3


def test_iman_conover_three_inputs_matrix_target():
    """The whole target matrix, not just one pair, is met within sampling error (n = 100,000)."""
    rng = np.random.default_rng(5)
    x = rng.gamma(2.0, size=(100_000, 3))
    y = iman_conover(x, TARGET, rng=np.random.default_rng(6))
    np.testing.assert_allclose(stats.spearmanr(y).statistic, TARGET, atol=0.01)


def test_iman_conover_after_psd_repair_hits_the_repaired_matrix():
    """A non-PSD target is replaced by its nearest correlation matrix (Higham 2002) with a
    warning.  The repaired matrix sits on the PSD boundary, and its Pearson conversion
    2 sin(pi rho / 6) is not PSD (off-diagonals 0.5 -> 0.5176 > 1/2), so the scores use the
    nearest correlation matrix of the converted one: the achieved Spearman is
    (6 / pi) asin(P / 2) of that matrix (about 0.483), the same as gaussian_copula achieves.
    A singular target (perfect correlation, Cholesky fails) takes the ridge path and still gives
    rank correlation ~1."""
    bad = np.array([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    with pytest.warns(UserWarning, match="not positive semi-definite"):
        fixed = validate_correlation(bad, names=["a", "b", "c"])
    rng = np.random.default_rng(8)
    x = rng.random((100_000, 3))
    y = iman_conover(x, fixed, rng=np.random.default_rng(9))
    pearson = nearest_correlation(spearman_to_pearson(fixed))
    reachable = 6 / np.pi * np.arcsin(pearson / 2)
    assert reachable[0, 1] == pytest.approx(0.483, abs=0.002)
    np.testing.assert_allclose(stats.spearmanr(y).statistic, reachable, atol=0.01)
    g = gaussian_copula(rng.random((100_000, 3)), fixed)
    np.testing.assert_allclose(stats.spearmanr(g).statistic, reachable, atol=0.01)
    z = iman_conover(x[:, :2], np.ones((2, 2)), rng=np.random.default_rng(10))
    assert stats.spearmanr(z).statistic > 0.999
    for j in range(2):
        assert np.array_equal(np.sort(z[:, j]), np.sort(x[:, j]))
