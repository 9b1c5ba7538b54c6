"""Variance-based sensitivity (SALib) and stress analysis.

Published values: the Ishigami function (Ishigami & Homma 1990; a = 7, b = 0.1) has
S1 = 0.314, 0.442, 0 and ST = 0.558, 0.442, 0.244 (Saltelli et al. 2008, *Global Sensitivity
Analysis: The Primer*, section 4.6); a linear model of independent inputs has S1 = ST = the
squared standardised coefficients.
"""

from __future__ import annotations

import numpy as np
import pytest

from sourcing.simulation.sensitivity import contract_sobol, sobol_indices, stress

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _ishigami(u):
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_reproduces_its_analytic_indices_within_the_bootstrap_interval():
    r = sobol_indices(_ishigami, ["x1", "x2", "x3"], n=4096, seed=1).of("y0").loc[["x1", "x2", "x3"]]
    for col, want in (("S1", [0.314, 0.442, 0.0]), ("ST", [0.558, 0.442, 0.244])):
        err = np.abs(r[col].to_numpy() - want)
        assert (err <= r[f"{col}_conf"].to_numpy() + 1e-3).all(), (col, r)


def test_a_linear_model_gives_the_squared_standardised_coefficients():
    b = np.array([1.0, 2.0, 3.0])
    r = sobol_indices(lambda u: u @ b, ["a", "b", "c"], n=2048, seed=2).of("y0").loc[["a", "b", "c"]]
    want = b ** 2 / (b ** 2).sum()  # uniform inputs: equal variances
    for col in ("S1", "ST"):
        assert (np.abs(r[col].to_numpy() - want) <= r[f"{col}_conf"].to_numpy() + 1e-3).all()


def test_a_group_carries_the_variance_of_its_members():
    r = sobol_indices(lambda u: u[:, 0] + u[:, 1], ["a", "b", "c"], groups=["ab", "ab", "c"],
                      n=1024, seed=3).of("y0")
    assert r.at["ab", "S1"] == pytest.approx(1.0, abs=0.02) and abs(r.at["c", "ST"]) < 1e-12
    with pytest.raises(ValueError, match="power of 2"):
        sobol_indices(lambda u: u[:, 0], ["a"], n=1000)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    from tenders import make_scenario, make_tender

    from sourcing import run

    folder = tmp_path_factory.mktemp("lisbon")
    tender = make_tender(folder / "t", currency="EUR", n_vendors=4, n_lots=2, with_risk=True, seed=6,
                         buyer="Porto Saude", title="Porto Saude IT 2027")
    path = make_scenario(folder, tender, allocation={"risk": {"enabled": False}},
                         simulation={"n": 4000})
    return run(path, stages=["simulate"])


def test_contract_indices_of_each_option_and_of_a_difference(simulated):
    opts = simulated.options
    a, b = opts[0].name, opts[-1].name
    r = contract_sobol(opts, n=512, seed=4, differences=[(a, b)])
    assert set(r.indices.index.get_level_values("output")) == {o.name for o in opts} | {f"{a} - {b}"}
    inhouse = next(o for o in opts if o.name == "In-house")
    vendors = [o for o in opts if o is not inhouse]
    # an input an option does not read moves nothing: its total index is exactly 0
    unused = [f for f, members in r.groups.items()
              if not any(m in simulated.simulation.uses[inhouse.name] for m in members)]
    assert unused and all(abs(r.of(inhouse.name).at[f, "ST"]) < 1e-12 for f in unused)
    for o in vendors:
        ix = r.of(o.name)
        assert (ix["ST"] >= -ix["ST_conf"] - 1e-9).all() and (ix["S1"] <= 1 + ix["S1_conf"]).all()


def test_correlated_inputs_are_one_group(simulated):
    r = contract_sobol(simulated.options, n=256, seed=5)
    assert "indexation + wage_inflation" in r.groups
    assert r.groups["indexation + wage_inflation"] == ["indexation", "wage_inflation"]


def test_stress_takes_the_worst_tenth_of_the_draws(simulated):
    sim = simulated.simulation
    opt = simulated.options[-1].name
    s = stress(sim, ["indexation"], option=opt)
    row = s.loc[("indexation", opt)]
    assert row["draws"] == pytest.approx(0.1 * len(sim.inputs), abs=2)
    assert row["tail"] == "high" and row["p50"] >= float(sim.totals[opt].median())
    assert row["p50"] <= row["p90"] <= row["cvar95"] + 1e-6
    with pytest.raises(ValueError, match="valid:"):
        stress(sim, ["nope"])


def test_the_drivers_stage_and_its_words(tmp_path):
    from tenders import make_scenario, make_tender

    from sourcing import run
    from sourcing.narrative import drivers_story
    from sourcing.plots import plot_sobol
    from sourcing.plots.simulation import factor_label
    from sourcing.present import text_problems

    tender = make_tender(tmp_path / "t", currency="PLN", n_vendors=4, n_lots=2, with_risk=True, seed=9)
    path = make_scenario(tmp_path, tender, allocation={"risk": {"enabled": False}},
                         simulation={"n": 3000, "sobol_samples": 256})
    r = run(path, stages=["drivers"])
    d = r.drivers
    assert d.pair[0] == r.decision.recommended and d.pair[1] != d.pair[0]
    assert d.difference in set(d.sobol.indices.index.get_level_values("output"))
    words = drivers_story(d, names=r.names, currency="PLN")
    text = " ".join(words)
    assert f"between {d.pair[0]} and {d.pair[1]}" in text and "256 Sobol samples" in text
    assert text_problems(text, currency="PLN") == []
    assert plot_sobol(d.sobol, d.difference, names=r.names).get_title().startswith("What moves")
    assert factor_label("fx[INR] + fx[offshore]") == "Exchange rates: INR and offshore"
    off = run(make_scenario(tmp_path, tender, filename="off.yaml",
                            allocation={"risk": {"enabled": False}},
                            simulation={"n": 500, "sobol_samples": 0}), stages=["drivers"])
    assert off.drivers is None


def test_sobol_samples_must_be_a_power_of_two(tmp_path):
    from tenders import make_scenario, make_tender

    from sourcing import Scenario
    from sourcing.schemas import ValidationError

    tender = make_tender(tmp_path / "t", seed=1)
    with pytest.raises(ValidationError, match="power of 2"):
        Scenario.load(make_scenario(tmp_path, tender, simulation={"sobol_samples": 1000}))
