"""Distributions: closed-form moments, quantiles against scipy, bad parameters."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from sourcing.simulation import (
    bernoulli,
    compound,
    constant,
    empirical,
    lognormal_ci,
    normal,
    pert,
    triangular,
    uniform,
)


# ---------------------------------------------------------------------- PERT
def test_pert_moments_vose_convention():
    """Vose (2008), *Risk Analysis: A Quantitative Guide*, 3rd ed., sec. 9.1.4 (PERT distribution):
    alpha = 1 + 4 (m - a)/(b - a), beta = 1 + 4 (b - m)/(b - a), mean = (a + 4m + b)/6,
    var = (mean - a)(b - mean)/7.  For a=0, m=3, b=12 by hand: alpha=2, beta=4, mean=4,
    var=32/7; cross-checked with scipy's Beta(2, 4) scaled to [0, 12]."""
    d = pert(0, 3, 12)
    assert d.alpha == pytest.approx(2.0) and d.beta == pytest.approx(4.0)
    assert d.mean == pytest.approx(4.0)
    assert d.var == pytest.approx(32 / 7)
    ref = stats.beta(2, 4, loc=0, scale=12)
    assert d.mean == pytest.approx(ref.mean()) and d.var == pytest.approx(ref.var())


def test_pert_symmetric_mode_at_midpoint():
    d = pert(10, 15, 20)
    assert d.alpha == pytest.approx(3.0) and d.beta == pytest.approx(3.0)
    assert d.mean == pytest.approx(15.0)
    assert d.ppf(np.array([0.5]))[0] == pytest.approx(15.0, abs=1e-9)


def test_pert_general_lambda():
    """Modified PERT (Vose 2008): mean = (a + lamb m + b)/(lamb + 2); checked against scipy beta."""
    d = pert(1, 2, 9, lamb=2)
    a, b = 1 + 2 * 1 / 8, 1 + 2 * 7 / 8
    ref = stats.beta(a, b, loc=1, scale=8)
    assert d.mean == pytest.approx((1 + 2 * 2 + 9) / 4) == pytest.approx(ref.mean())
    assert d.var == pytest.approx(ref.var())


@settings(max_examples=25)
@given(st.floats(-1e6, 1e6), st.floats(0.01, 1e5), st.floats(0.0, 1.0), st.floats(0.5, 8.0))
def test_pert_fast_ppf_matches_exact(low, width, frac, lamb):
    """The normal-score table ppf agrees with scipy.special.betaincinv to 1e-9 of the range."""
    d = pert(low, low + frac * width, low + width, lamb=lamb)
    u = np.concatenate([np.linspace(1e-10, 1 - 1e-10, 2001), [1e-15, 0.5, 1 - 1e-15]])
    err = np.abs(d.ppf(u) - d.ppf_exact(u)).max()
    assert err <= 1e-9 * width + 1e-9 * abs(low) * 1e-3


def test_pert_sample_moments_and_cdf_roundtrip():
    d = pert(100, 150, 400)
    x = d.sample(200_000, seed=7)
    se = d.std / math.sqrt(x.size)
    assert abs(x.mean() - d.mean) < 5 * se
    assert x.var() == pytest.approx(d.var, rel=0.02)
    u = np.linspace(0.01, 0.99, 50)
    assert np.allclose(d.cdf(d.ppf(u)), u, atol=1e-9)


# ---------------------------------------------------------------------- others
def test_triangular_moments_and_ppf():
    """Closed forms (mean (a+b+c)/3, var (a²+b²+c²-ab-ac-bc)/18) versus scipy.stats.triang."""
    d = triangular(2, 5, 11)
    ref = stats.triang(c=(5 - 2) / 9, loc=2, scale=9)
    assert d.mean == pytest.approx(6.0) and d.mean == pytest.approx(ref.mean())
    assert d.var == pytest.approx(ref.var())
    u = np.linspace(0.001, 0.999, 101)
    assert np.allclose(d.ppf(u), ref.ppf(u))
    assert np.allclose(d.cdf(d.ppf(u)), u)


def test_uniform_moments():
    d = uniform(-2, 4)
    assert d.mean == 1 and d.var == pytest.approx(3.0)
    assert np.allclose(d.ppf(np.array([0.25])), [-0.5])


def test_normal_untruncated_and_truncated_against_scipy():
    d = normal(10, 2)
    assert d.mean == 10 and d.var == 4
    t = normal(10, 2, lower=9, upper=20)
    ref = stats.truncnorm((9 - 10) / 2, (20 - 10) / 2, loc=10, scale=2)
    assert t.mean == pytest.approx(ref.mean()) and t.var == pytest.approx(ref.var())
    u = np.linspace(0.001, 0.999, 101)
    assert np.allclose(t.ppf(u), ref.ppf(u), atol=1e-9)
    # far upper tail uses the mirrored formula
    far = normal(0, 1, lower=6, upper=7)
    ref = stats.truncnorm(6, 7)
    assert np.allclose(far.ppf(u), ref.ppf(u), atol=1e-7)
    assert far.mean == pytest.approx(ref.mean(), rel=1e-9)


def test_lognormal_ci_interval_and_moments():
    d = lognormal_ci(10_000, 150_000, level=0.90)
    lo, hi = d.ppf(np.array([0.05, 0.95]))
    assert lo == pytest.approx(10_000) and hi == pytest.approx(150_000)
    ref = stats.lognorm(s=d.sigma, scale=math.exp(d.mu))
    assert d.mean == pytest.approx(ref.mean()) and d.var == pytest.approx(ref.var())


def test_lognormal_ci_warns_on_wide_interval():
    with pytest.warns(UserWarning, match="high/low"):
        lognormal_ci(1, 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lognormal_ci(1, 99)


def test_empirical_is_bootstrap_distribution():
    data = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    d = empirical(data)
    assert d.mean == pytest.approx(data.mean()) and d.var == pytest.approx(data.var())
    x = d.sample(50_000, seed=1)
    assert set(np.unique(x)) <= set(data)
    assert d.ppf(np.array([1e-9]))[0] == 1.0 and d.ppf(np.array([1 - 1e-12]))[0] == 9.0


def test_bernoulli_and_constant():
    b = bernoulli(0.2, value=1000)
    assert b.mean == pytest.approx(200) and b.var == pytest.approx(0.16 * 1e6)
    assert constant(3.5).ppf(np.array([0.1, 0.9])).tolist() == [3.5, 3.5]


# ---------------------------------------------------------------------- compound events
def test_compound_expected_loss_is_rate_times_mean_severity():
    """Compound Poisson: E[S] = lambda E[X], Var[S] = lambda E[X^2] (e.g. Klugman, Panjer &
    Willmot, *Loss Models*, ch. 9)."""
    sev = lognormal_ci(20_000, 500_000)
    c = compound(sev, rate=0.4)
    assert c.mean == pytest.approx(0.4 * sev.mean)
    assert c.var == pytest.approx(0.4 * (sev.var + sev.mean ** 2))
    x = c.sample(400_000, seed=3)
    assert x.mean() == pytest.approx(c.mean, rel=0.02)
    # each event drawn separately: zero-loss years occur with probability exp(-rate)
    assert (x == 0).mean() == pytest.approx(math.exp(-0.4), abs=0.003)


def test_compound_deductible_and_cap_by_brute_force():
    """E[min(max(X - d, 0), c)] by numerical integration versus a brute-force average over
    two million severity draws (independent computation)."""
    sev = lognormal_ci(10_000, 1_000_000)
    c = compound(sev, rate=0.3, deductible=50_000, cap=400_000)
    xs = sev.sample(2_000_000, seed=11)
    y = np.minimum(np.maximum(xs - 50_000, 0), 400_000)
    assert c.event_mean == pytest.approx(y.mean(), rel=0.01)
    assert c.var == pytest.approx(0.3 * (y ** 2).mean(), rel=0.02)


def test_compound_bernoulli_frequency():
    sev = pert(1000, 2000, 6000)
    c = compound(sev, prob=0.25)
    assert c.mean == pytest.approx(0.25 * sev.mean)
    m2 = sev.var + sev.mean ** 2
    assert c.var == pytest.approx(0.25 * m2 - (0.25 * sev.mean) ** 2)
    x = c.sample(200_000, seed=5)
    assert (x > 0).mean() == pytest.approx(0.25, abs=0.005)  # at most one event per year
    assert x.max() <= 6000
    # exact ppf: zero below 1 - p, then severity quantiles
    assert c.ppf(np.array([0.5]))[0] == 0
    assert c.ppf(np.array([0.875]))[0] == pytest.approx(sev.ppf(np.array([0.5]))[0])


def test_compound_rate_ppf_is_monotone_and_close_to_sample_quantiles():
    c = compound(pert(0, 1, 2), rate=2.0)
    q = c.ppf(np.array([0.1, 0.5, 0.9]))
    assert np.all(np.diff(q) >= 0)
    x = c.sample(200_000, seed=2)
    assert q[1] == pytest.approx(np.quantile(x, 0.5), rel=0.03)


# ---------------------------------------------------------------------- reproducibility and errors
def test_same_seed_same_numbers():
    for d in (pert(0, 1, 3), triangular(0, 1, 3), lognormal_ci(1, 10), compound(pert(0, 1, 2), rate=1)):
        assert np.array_equal(d.sample(1000, seed=42), d.sample(1000, seed=42))
        assert not np.array_equal(d.sample(1000, seed=42), d.sample(1000, seed=43))
    rng1, rng2 = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(pert(0, 1, 3).sample(10, rng=rng1), pert(0, 1, 3).sample(10, rng=rng2))


@pytest.mark.parametrize("make, match", [
    (lambda: pert(5, 3, 10), r"low <= mode <= high.*low=5"),
    (lambda: pert(0, 11, 10), r"mode=11"),
    (lambda: pert(1, 1, 1), "high must exceed low"),
    (lambda: pert(0, 1, 2, lamb=-1), "lamb"),
    (lambda: pert(0, float("nan"), 2), "mode must be finite"),
    (lambda: triangular(3, 2, 1), "low <= mode <= high"),
    (lambda: uniform(2, 1), "high must exceed low"),
    (lambda: normal(0, 0), "sd must be > 0"),
    (lambda: normal(0, 1, lower=2, upper=1), "lower < upper"),
    (lambda: lognormal_ci(0, 10), "low must be > 0"),
    (lambda: lognormal_ci(1, 10, level=1.2), "level"),
    (lambda: bernoulli(1.5), r"p is a probability.*1.5"),
    (lambda: compound(pert(0, 1, 2), prob=1.2), r"prob is a probability"),
    (lambda: compound(pert(0, 1, 2), rate=-1), "rate"),
    (lambda: compound(pert(0, 1, 2)), "exactly one of rate="),
    (lambda: compound(pert(0, 1, 2), rate=1, prob=0.5), "exactly one of rate="),
    (lambda: compound(normal(0, 1), rate=1), "non-negative loss"),
    (lambda: compound(pert(0, 1, 2), rate=1, deductible=-5), "deductible"),
    (lambda: compound(pert(0, 1, 2), rate=1, cap=0), "cap"),
    (lambda: empirical([]), "empty"),
    (lambda: empirical([1.0, float("nan")]), "NaN"),
])
def test_impossible_parameters_raise_naming_the_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_type_errors_name_the_input():
    with pytest.raises(TypeError, match="low must be a number"):
        pert("a", 1, 2)
    with pytest.raises(TypeError, match="severity must be a distribution"):
        compound(5.0, rate=1)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        pert(0, 1, 2).sample(3, rng=5)


def test_uniform_clipping_keeps_ppf_finite():
    for d in (normal(0, 1), lognormal_ci(1, 10), pert(0, 1, 2)):
        v = d.ppf(np.array([0.0, 1.0]))
        assert np.isfinite(v).all()
    assert special.ndtri(2.0 ** -53) > -9


@pytest.mark.parametrize("make", [lambda: pert(-1e308, 0, 1e308), lambda: triangular(-1e308, 0, 1e308),
                                  lambda: uniform(-1e308, 1e308)])
def test_range_wider_than_a_float_is_refused_not_sampled_as_nan(make):
    with pytest.raises(ValueError, match=r"high - low overflows \(low=-1e\+308, high=1e\+308\)"):
        make()


@pytest.mark.parametrize("dist", [pert(1, 2, 3), uniform(1, 3), normal(0, 1), bernoulli(0.5)])
@pytest.mark.parametrize("u", [[0.5, 1.5], [np.nan], [-0.1]])
def test_ppf_refuses_non_probabilities_instead_of_clipping(dist, u):
    with pytest.raises(ValueError, match=r"ppf: u must be probabilities in \[0, 1\]"):
        dist.ppf(np.array(u))


@pytest.mark.parametrize("size", [-1, 2.5, (2, -1), "3", True])
def test_sample_size_is_checked(size):
    with pytest.raises(TypeError, match=r"sample: size must be an int >= 0 or a tuple of them"):
        pert(1, 2, 3).sample(size, seed=1)


def test_sample_seed_is_checked():
    with pytest.raises(TypeError, match="seed must be None, a non-negative int or a SeedSequence, got 'x'"):
        pert(1, 2, 3).sample(3, seed="x")


def test_compound_rate_beyond_the_poisson_sampler_is_refused():
    with pytest.raises(ValueError, match=r"rate \(events per year\) must be >= 0 and <= 1e\+06, got 1e\+308"):
        compound(pert(1, 2, 3), rate=1e308)
