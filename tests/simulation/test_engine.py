"""simulate(): reproducibility, common random numbers, statistics, stopping rule, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sourcing.simulation import (
    DRIVERS,
    Assumptions,
    SimulationResult,
    compound,
    empirical,
    inhouse,
    multi_vendor,
    pert,
    simulate,
    single_vendor,
    standard_scenarios,
)
from sourcing.simulation.engine import _event_draws, binomial_months


@pytest.fixture(scope="module")
def scen(tender):
    return standard_scenarios(tender)


@pytest.fixture(scope="module")
def res(scen):
    return simulate(scen, n=20_000, seed=11, budget=70e6, chunk_size=8192)


def test_same_seed_identical_numbers(scen):
    a = simulate(scen[1:3], n=3000, seed=5, chunk_size=1024)
    b = simulate(scen[1:3], n=3000, seed=5, chunk_size=1024)
    c = simulate(scen[1:3], n=3000, seed=6, chunk_size=1024)
    assert np.array_equal(a.cash, b.cash) and np.array_equal(a.drivers, b.drivers)
    assert not np.array_equal(a.cash, c.cash)


def test_common_random_numbers(tender):
    s = single_vendor(tender, "V03")
    twin = single_vendor(tender, "V03", name="twin")
    r = simulate([s, twin], n=2000, seed=1)
    d = r.paired_differences()
    assert d.loc[0, "mean_diff"] == 0 and d.loc[0, "se"] == 0
    # adding a scenario leaves another's draws unchanged (independent inputs)
    alone = simulate([s], n=2000, seed=1, correlation=False)
    both = simulate([inhouse(tender), s], n=2000, seed=1, correlation=False)
    assert np.array_equal(alone.cash[0], both.cash[1])


def test_summary_statistics_consistent(res):
    s = res.summary()
    x = res.values("total")
    assert list(s.columns) == ["mean", "se", "p5", "p10", "p50", "p90", "p95", "var95", "cvar95",
                               "p_over_budget", "p_cheapest"]
    assert np.allclose(s["mean"], x.mean(axis=1))
    assert np.allclose(s["se"], x.std(axis=1, ddof=1) / math.sqrt(res.n))
    assert (s["p5"] <= s["p10"]).all() and (s["p10"] <= s["p50"]).all() and (s["p90"] <= s["p95"]).all()
    assert (s["cvar95"] >= s["var95"]).all()
    # CVaR95 as expected shortfall equals the tail mean beyond VaR (up to interpolation)
    tail = [x[i][x[i] >= s["var95"].iloc[i]].mean() for i in range(len(s))]
    assert np.allclose(s["cvar95"], tail, rtol=1e-3)
    assert np.allclose(s["p_over_budget"], (x > 70e6).mean(axis=1))
    assert s["p_cheapest"].sum() == pytest.approx(1.0)
    npv = res.summary("npv")
    assert (npv["mean"] < s["mean"]).all()  # positive discount rate


def test_npv_and_totals_from_yearly_cash(res):
    c = res.cash.astype(float)
    assert np.allclose(res.totals.to_numpy().T, c.sum(axis=2))
    df = (1 + 0.08) ** -np.arange(1, 6)
    assert np.allclose(res.npv.to_numpy().T, c @ df)
    assert np.allclose(res.drivers.sum(axis=2), c.sum(axis=2), rtol=1e-5)
    assert res.cash.dtype == np.float32 and res.drivers.dtype == np.float32


def test_paired_differences(res):
    d = res.paired_differences()
    x = res.values("total")
    assert len(d) == 6
    row = d.iloc[0]
    assert row["mean_diff"] == pytest.approx((x[0] - x[1]).mean())
    assert row["ci_low"] < row["mean_diff"] < row["ci_high"]
    assert row["p_a_cheaper"] == pytest.approx((x[0] < x[1]).mean())


def test_default_copula_correlates_indexation_and_wages(res):
    rho = stats.spearmanr(res.inputs["indexation"], res.inputs["wage_inflation"]).statistic
    assert rho == pytest.approx(0.6, abs=0.03)


def test_user_correlation_and_iman_conover(scen):
    corr = {("indexation", "growth[L1]"): -0.5}
    for cop in ("gaussian", "iman-conover"):
        r = simulate(scen[0], n=20_000, seed=2, correlation=corr, copula=cop, chunk_size=20_000)
        rho = stats.spearmanr(r.inputs["indexation"], r.inputs["growth[L1]"]).statistic
        assert rho == pytest.approx(-0.5, abs=0.03)


def test_sampling_methods_agree(scen):
    means = {m: simulate(scen[0], n=8192, seed=3, sampling=m, chunk_size=8192).summary()["mean"].iloc[0]
             for m in ("mc", "lhs", "sobol")}
    base = means["mc"]
    for m, v in means.items():
        assert v == pytest.approx(base, rel=0.005), m


def test_precision_stopping_rule(scen):
    r = simulate(scen[2], n=400_000, seed=4, chunk_size=4096, precision={"rel": 0.002, "stat": "mean"})
    assert r.meta["stopped_by_precision"] and r.n < 400_000
    x = r.values("total")[0]
    assert 1.96 * x.std(ddof=1) / math.sqrt(x.size) <= 0.002 * x.mean()
    r2 = simulate(scen[2], n=50_000, seed=4, chunk_size=4096, precision={"rel": 0.01, "stat": "p90"})
    assert r2.meta["stopped_by_precision"]


def test_event_frequencies():
    """Failure year ~ Geometric(h): P(failure within 5 years) = 1 - (1 - h)^5;
    breached months ~ Binomial(12, q) (mean 12 q, variance 12 q (1 - q))."""
    rng = np.random.default_rng(0)
    year = _event_draws(("failure", 0.09), 200_000, 5, rng)
    assert (year <= 5).mean() == pytest.approx(1 - 0.91 ** 5, abs=0.004)
    k = binomial_months(0.15, (100_000, 5), rng)
    assert k.mean() == pytest.approx(12 * 0.15, rel=0.01)
    assert k.var() == pytest.approx(12 * 0.15 * 0.85, rel=0.02)
    emp = np.bincount(k.astype(int).ravel(), minlength=13) / k.size
    assert np.allclose(emp, stats.binom.pmf(np.arange(13), 12, 0.15), atol=0.003)


def test_security_loss_expectation(tender):
    """Mean simulated security cost = sum over providers of exposure x rate x mean severity x years."""
    s = single_vendor(tender, "V02")
    r = simulate(s, n=100_000, seed=9)
    ev = s.events()["security[V02]"][1]
    expected = s.lines["exposure"].sum() * ev.mean * s.years
    got = r.by_driver()["security"].iloc[0]
    se = math.sqrt(ev.var * s.years / r.n) * s.lines["exposure"].sum()
    assert abs(got - expected) < 5 * se


def test_tornado_and_swing(tender):
    a = Assumptions(indexation=pert(0.0, 0.02, 0.20), escalation_cap=1.0, fx_vol=0.0, fx_vol_by_currency=())
    s = multi_vendor(tender, assumptions=a)
    r = simulate(s, n=20_000, seed=1)
    for method in ("spearman", "srrc"):
        tor = r.tornado(method=method)
        assert tor["coef"].abs().is_monotonic_decreasing
        assert set(tor["input"]) <= set(r.uses[s.name])
    assert r.tornado(method="srrc").attrs["r2"] <= 1
    assert r.tornado().iloc[0]["input"] == "indexation"  # the widest input dominates
    sw = r.swing(n=1024)
    assert sw.iloc[0]["input"] == "indexation"
    assert (sw["total_at_high"] >= sw["total_at_low"]).loc[sw["input"] == "indexation"].all()
    assert sw["swing"].is_monotonic_decreasing


def test_yearly_and_exceedance(res):
    y = res.yearly(res.names[1])
    assert list(y.index) == [1, 2, 3, 4, 5]
    assert (y["p5"] <= y["p95"]).all()
    e = res.exceedance(res.names[0])
    assert e["p_exceed"].is_monotonic_decreasing and e["level"].is_monotonic_increasing


def test_result_objects(res):
    assert isinstance(res, SimulationResult)
    assert isinstance(res.to_frame(), pd.DataFrame) and len(res.to_frame()) == 4
    assert "SimulationResult" in repr(res)
    assert res.by_driver().shape == (4, len(DRIVERS))
    with pytest.raises(ValueError, match="unknown scenario"):
        res.yearly("nope")
    with pytest.raises(ValueError, match="metric must be one of total, npv"):
        res.summary("eur")


def test_conflicting_assumptions_warn_and_split_streams(tender):
    a = single_vendor(tender, "V03")
    b = single_vendor(tender, "V03", name="b", assumptions=Assumptions(indexation=pert(0, 0.01, 0.02)))
    with pytest.warns(UserWarning, match="own draws"):
        r = simulate([a, b], n=1000, seed=1)
    assert "indexation@b" in r.input_names


@pytest.mark.parametrize("kw, err, match", [
    ({"sampling": "halton"}, ValueError, "valid choices: mc, lhs, sobol"),
    ({"copula": "t"}, ValueError, "valid choices: gaussian, iman-conover"),
    ({"n": 1}, ValueError, "n must be an integer >= 2"),
    ({"chunk_size": 0}, ValueError, "chunk_size"),
    ({"budget": float("nan")}, ValueError, "budget"),
    ({"budget": 0}, ValueError, r"budget must be a finite amount > 0 \(tender currency\), got 0"),
    ({"budget": -5e6}, ValueError, r"budget must be a finite amount > 0 \(tender currency\), got -5000000.0"),
    ({"precision": {"rel": 0.01, "stat": "p99"}}, ValueError, "precision stat"),
    ({"precision": {"tol": 0.01}}, ValueError, "unknown key"),
    ({"correlation": {("indexation", "nope"): 0.3}}, ValueError, "unknown input 'nope'"),
    ({"correlation": {("indexation", "growth[L1]"): 1.3}}, ValueError, r"\[-1, 1\]"),
    ({"correlation": pd.DataFrame(np.eye(2), index=["indexation", "growth[L1]"],
                                  columns=["indexation", "growth[L2]"])}, ValueError, "square"),
    ({"seed": -3}, ValueError, "non-negative"),
])
def test_bad_arguments(scen, kw, err, match):
    with pytest.raises(err, match=match):
        simulate(scen[0], **{"n": 100, **kw})


def test_bad_scenarios(scen):
    with pytest.raises(ValueError, match="unique"):
        simulate([scen[0], scen[0]], n=10)
    with pytest.raises(TypeError, match="SourcingScenario"):
        simulate([1, 2], n=10)
    with pytest.raises(ValueError, match="empty"):
        simulate([], n=10)


def test_progress_bar_runs(scen):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = simulate(scen[0], n=500, seed=1, progress=True)
    assert r.n == 500


def test_extra_costs_constant_and_compound_with_crn(tender):
    """A fixed EUR 1 000/yr extra adds 5 000 over 5 years to every draw; a compound extra has
    mean rate x mean severity per year; the same named extra is shared across scenarios."""
    cr = compound(empirical([10_000.0, 30_000.0]), rate=2.0)
    a = single_vendor(tender, "V03").with_(extra_costs={"licence": 1000.0, "change_requests": cr})
    b = multi_vendor(tender).with_(extra_costs={"change_requests": cr})
    r = simulate([a, b], n=40_000, seed=3)
    other = r.drivers[:, :, DRIVERS.index("other")].astype(float)
    assert other[0].mean() == pytest.approx(5000 + 5 * 2.0 * 20_000, rel=0.01)
    assert np.allclose(other[0] - other[1], 5000, atol=0.01)  # common random numbers
    with pytest.raises(TypeError, match="extra_costs\\['x'\\] must be a distribution"):
        a.with_(extra_costs={"x": "big"})


def test_dict_of_scenarios_float_precision_and_lhs_with_copula(scen):
    r = simulate({s.name: s for s in scen[:2]}, n=200_000, seed=1, precision=0.01, sampling="lhs")
    assert r.names == [scen[0].name, scen[1].name]
    assert r.meta["stopped_by_precision"] and r.meta["precision"]["rel"] == 0.01
    rho = stats.spearmanr(r.inputs["indexation"], r.inputs["wage_inflation"]).statistic
    assert rho == pytest.approx(0.6, abs=0.05)
