"""The two shipped sample tenders and the test-only tender factory, end to end.

Sample 1 (``data/sample-tender``) and sample 2 (``data/sample-smallco``) must differ in every
dimension the package handles, and both, plus a tender in a third currency from the factory
(``tests/tenders.py``), must pass ``read_tender``, ``scoring.evaluate`` and ``sourcing.run``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from tenders import deep_merge, make_scenario, make_tender, tender_tables

import sourcing
from sourcing import read_tender
from sourcing.pipeline import full_service_vendor
from sourcing.scoring import ahp, evaluate
from sourcing.scoring.weights import pairwise_matrix

DATA = Path(__file__).resolve().parents[1] / "data"


def _evaluators(tender) -> set[str]:
    return set(tender.scores["evaluator"].dropna())


# ---------------------------------------------------------------------- the factory
def test_factory_default_is_the_us_hospital_tender(usd_tender_path):
    t = read_tender(usd_tender_path)
    assert t.currency == "USD" and t.settings["buyer"] == "Lakeshore Health System"
    assert (len(t.vendors), len(t.lots), len(t.criteria), len(_evaluators(t))) == (4, 3, 9, 2)
    assert t.settings["weighting"] == "direct"
    assert t.tiers.empty and t.risk.empty and t.pairwise.empty
    assert t.criteria.at["Q9", "source"] == "price" and t.criteria.at["Q9", "unit"] == "USD/year"


def test_factory_is_deterministic(tmp_path):
    a = make_tender(tmp_path / "a", with_tiers=True, with_risk=True, with_pairwise=True, seed=3)
    b = make_tender(tmp_path / "b", with_tiers=True, with_risk=True, with_pairwise=True, seed=3)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir()) and "tiers.csv" in files
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    c = make_tender(tmp_path / "c", seed=4)
    assert (a / "bids.csv").read_bytes() != (c / "bids.csv").read_bytes()


@pytest.mark.parametrize("shape", [
    {"n_vendors": 2, "n_lots": 1, "n_evaluators": 1, "n_criteria": 2, "currency": "JPY"},
    {"n_vendors": 3, "n_lots": 2, "n_evaluators": 3, "n_criteria": 5, "with_risk": True},
    {"n_vendors": 9, "n_lots": 8, "n_evaluators": 6, "n_criteria": 12, "with_tiers": True,
     "with_risk": True, "with_pairwise": True, "currency": "CHF"},
])
def test_factory_writes_the_shape_asked_for(tender_factory, shape):
    t = read_tender(tender_factory(**shape))
    assert t.currency == shape["currency"] if "currency" in shape else t.currency == "USD"
    assert len(t.vendors) == shape["n_vendors"] and len(t.lots) == shape["n_lots"]
    assert len(t.criteria) == shape["n_criteria"]
    assert len(_evaluators(t)) == shape["n_evaluators"]
    assert t.tiers.empty != shape.get("with_tiers", False)
    assert t.risk.empty != shape.get("with_risk", False)
    assert t.settings["weighting"] == ("ahp" if shape.get("with_pairwise") else "direct")
    ev = evaluate(t)
    assert ev.excluded.empty  # every factory vendor passes every gate
    assert ev.weights.sum() == pytest.approx(1.0)
    assert ((ev.quality >= 0) & (ev.quality <= 100)).all()
    if shape.get("with_pairwise"):
        assert ev.conventions["ahp_consistent"]
    # vendor 1 bids every lot (a single-vendor option always exists)
    assert t.price_matrix.loc["B1"].notna().all()


def test_factory_rejects_impossible_shapes(tmp_path):
    with pytest.raises(ValueError, match="n_vendors must be a whole number >= 2"):
        tender_tables(n_vendors=1)
    with pytest.raises(ValueError, match="n_criteria"):
        tender_tables(n_criteria=1.5)
    with pytest.raises(ValueError, match="names must be a sequence of at least n_vendors=4"):
        tender_tables(names=["Only one"])
    make_tender(tmp_path / "t", with_tiers=True)
    with pytest.raises(ValueError, match="already holds tiers.csv"):
        make_tender(tmp_path / "t")


def test_make_scenario_merges_settings(tmp_path, usd_tender_path):
    path = make_scenario(tmp_path, usd_tender_path, simulation={"n": 500},
                         allocation={"policy": {"max_vendors_per_lot": 1}})
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["simulation"] == {"n": 500} and raw["allocation"]["time_limit"] == 10
    sc = sourcing.Scenario.load(path)
    assert sc.tender == usd_tender_path.resolve() and sc.simulation.n == 500
    assert sc.allocation.policy == {"max_vendors_per_lot": 1} and sc.scoring.method == "topsis"


# ---------------------------------------------------------------------- sample 2
def test_sample2_differs_from_sample1_in_every_dimension(tender, smallco):
    assert (tender.currency, smallco.currency) == ("EUR", "GBP")
    assert (len(smallco.vendors), len(smallco.lots), len(_evaluators(smallco))) == (4, 3, 2)
    assert (len(tender.vendors), len(tender.lots), len(_evaluators(tender))) == (8, 5, 3)
    assert tender.settings["weighting"] == "direct" and smallco.settings["weighting"] == "ahp"
    assert smallco.criteria["weight"].isna().all()
    assert not tender.tiers.empty and smallco.tiers.empty
    assert not smallco.risk.empty
    assert tender.incumbents and not smallco.incumbents
    assert smallco.contract_years != tender.contract_years
    for attr in ("vendor_ids", "lot_ids", "criterion_ids"):
        assert not set(getattr(tender, attr)) & set(getattr(smallco, attr)), attr
    assert not set(tender.vendors["name"]) & set(smallco.vendors["name"])
    assert not set(tender.criteria["name"]) - {"Financial health score", "Evaluated annual price"} \
        & set(smallco.criteria["name"])
    assert not set(tender.criteria["group"]) - {"price"} & set(smallco.criteria["group"])
    assert not _evaluators(tender) & _evaluators(smallco)
    assert set(smallco.vendors["currency"]) >= {"GBP", "EUR", "INR"}
    assert "Harbour Freight" in smallco.settings["buyer"]


def test_sample2_is_reproduced_by_its_seeded_script(tmp_path):
    spec = importlib.util.spec_from_file_location("make_sample_smallco",
                                                  DATA / "make_sample_smallco.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from sourcing.outputs import write_tables

    write_tables(module.make_tables(), tmp_path)
    shipped = sorted(p.name for p in (DATA / "sample-smallco").iterdir())
    assert shipped == sorted(p.name for p in tmp_path.iterdir())
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (DATA / "sample-smallco" / name).read_bytes(), name


def test_sample2_ahp_judgments_are_consistent(smallco):
    """Each evaluator's root matrix and their AIJ aggregate have CR < 0.10 (Saaty 1980)."""
    groups = list(dict.fromkeys(smallco.criteria["group"]))
    root = smallco.pairwise[smallco.pairwise["parent"] == "root"]
    for _, sub in root.groupby("evaluator"):
        res = ahp(pairwise_matrix(sub, groups))
        assert res.cr < 0.10 and res.consistent
    ev = evaluate(smallco)
    assert ev.conventions["ahp_consistent"]
    assert ev.weights.sum() == pytest.approx(1.0)
    # resilience has no judgments inside: its two criteria count equally (K6 and K5 both ranked)
    assert ev.weights["K5"] == pytest.approx(ev.weights["K6"])


def test_sample2_gate_excludes_one_bidder_and_aggregates_geometrically(smallco):
    ev = evaluate(smallco)
    assert list(ev.excluded.index) == ["S4"]
    assert ev.excluded.at["S4", "reason"] == ("Committed platform availability is 99.5, the gate "
                                              "requires at least 99.9")
    cell = smallco.scores.query("vendor_id == 'S1' and criterion_id == 'K3'")["value"]
    assert len(cell) == 2
    assert smallco.decision_matrix().at["S1", "K3"] == pytest.approx(np.sqrt(cell.prod()))


def test_shipped_smallco_scenario(tmp_path):
    """smallco.yaml: one provider, a method other than the baseline's, budget in GBP as `budget`."""
    path = DATA / "scenarios" / "smallco.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "budget_eur" not in raw["simulation"] and raw["simulation"]["budget"] > 0
    baseline = yaml.safe_load((DATA / "scenarios" / "baseline.yaml").read_text(encoding="utf-8"))
    assert raw["scoring"]["method"] != baseline["scoring"]["method"]
    assert raw["allocation"]["policy"]["max_vendors_total"] == 1
    sc = sourcing.Scenario.load(_shipped_scenario(path, tmp_path))
    assert sc.tender == (DATA / "sample-smallco").resolve() and sc.performance is None


# ---------------------------------------------------------------------- end to end
def _shipped_scenario(path: Path, tmp_path: Path, **changes) -> Path:
    """A shipped scenario as a temporary file: paths made absolute, *changes* merged in."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("tender", "performance", "sweep"):
        if raw.get(key):
            raw[key] = str((path.parent / raw[key]).resolve())
    tender = raw.pop("tender")
    return make_scenario(tmp_path, tender, filename=path.name, **deep_merge(raw, changes))


@pytest.fixture(params=["sample-tender", "sample-smallco", "usd-factory"])
def scenario_file(request, tmp_path, usd_tender_path):
    fast = {"simulation": {"n": 2000}, "allocation": {"time_limit": 10}}
    if request.param == "sample-tender":
        return _shipped_scenario(DATA / "scenarios" / "baseline.yaml", tmp_path, **fast)
    if request.param == "sample-smallco":
        return _shipped_scenario(DATA / "scenarios" / "smallco.yaml", tmp_path, **fast)
    return make_scenario(tmp_path, usd_tender_path, name="US hospital group",
                         allocation={"policy": {"max_vendors_per_lot": 2, "min_share_pct": 20}})


def test_every_tender_runs_end_to_end(scenario_file):
    """read_tender -> evaluate -> sourcing.run on both samples and a USD tender, small n."""
    scenario = sourcing.Scenario.load(scenario_file)
    tender = read_tender(scenario.tender)
    ev = evaluate(tender, **scenario.scoring.evaluate_kwargs)
    assert ev.weights.sum() == pytest.approx(1.0)
    assert ((ev.quality >= 0) & (ev.quality <= 100)).all()

    result = sourcing.run(scenario)
    if tender.risk.empty:  # the factory's default has no risk table: said in the notes, not silent
        assert any("no risk table" in note for note in result.notes)
    assert result.tender.currency == tender.currency
    pd.testing.assert_series_equal(result.evaluation.scores, ev.scores)
    award = result.award
    assert award.feasible, award.diagnosis
    np.testing.assert_allclose(award.volumes.sum(axis=0).reindex(tender.lot_ids), tender.demand,
                               rtol=1e-6)
    policy = scenario.allocation.policy
    if policy.get("max_vendors_total"):
        assert len(award.vendors) <= policy["max_vendors_total"]
    if policy.get("max_vendors_per_lot"):
        assert ((award.volumes > 1e-9).sum(axis=0) <= policy["max_vendors_per_lot"]).all()
    summary = result.summary()
    # an option serving every lot like an earlier one (an award to one vendor) is shown once
    assert len(summary) == len(result.options) <= len(scenario.simulation.options)
    assert result.simulation.n == 2000
    if len(summary) < len(scenario.simulation.options):
        assert any("serves every lot exactly as" in n for n in result.notes)
    assert summary["p_cheapest"].sum() == pytest.approx(1.0)
    assert (summary["p90"] >= summary["p50"]).all()
    vendor = full_service_vendor(tender, result.evaluation)
    single = [o for o in result.options if "single" in o.name.lower()]
    assert len(single) == 1 and tender.vendors.at[vendor, "name"] in single[0].name


# ---------------------------------------------------------------------- one single-vendor rule
@pytest.mark.parametrize("which", ["sample-tender", "sample-smallco", "usd-factory"])
def test_cli_simulate_takes_the_single_vendor_of_sourcing_run(which, capsys, usd_tender_path):
    """`sourcing simulate` used the cheapest full bidder; `sourcing run` the best-ranked vendor
    able to serve every lot (pipeline.full_service_vendor).  Issue 10: one rule, stated."""
    from sourcing.cli import main
    from sourcing.simulation import single_vendor

    path = usd_tender_path if which == "usd-factory" else DATA / which
    assert main(["simulate", str(path), "--n", "500"]) == 0
    out = capsys.readouterr().out
    tender = read_tender(path)
    scenario = sourcing.Scenario.for_tender(path)  # the command's scenario: the defaults
    vendor = full_service_vendor(tender, evaluate(tender, **scenario.scoring.evaluate_kwargs))
    name = tender.vendors.at[vendor, "name"]
    assert f"single vendor: {vendor} {name}, the best-ranked vendor" in out
    assert f"Single vendor ({name})" in out
    if which == "sample-smallco":
        # the old rule picks S3, the cheapest full bidder, whose cloud capacity is short
        old = single_vendor(tender)
        assert vendor == "S1" and "Kestrel" in old.name and "Single vendor (Kestrel" not in out
