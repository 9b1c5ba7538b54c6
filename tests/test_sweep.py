"""Sweeps (``sourcing.sweep``): the sweep file, its points, the store, resume, Dask determinism,
the decision table and the flip sentence, on a small made-up tender (tests/tenders.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sourcing.outputs import MARKER, OutputError
from sourcing.schemas import ValidationError
from sourcing.sweep import Sweep, decision_table, flip_points, flip_story, run_sweep, scenario_key


@pytest.fixture
def scenario(tmp_path):
    """A fast scenario: four USD bidders, three lots, a risk table, 500 draws, no risk-aware award."""
    from tenders import make_scenario, make_tender

    tender = make_tender(tmp_path / "tender", with_risk=True)
    return make_scenario(tmp_path, tender, simulation={"n": 500, "sobol_samples": 0},
                         allocation={"risk": {"enabled": False}, "price_to_win": False},
                         decision={"break_even": False})


def write_sweep(folder: Path, scenario: Path, text: str | None = None, **fields) -> Path:
    """A sweep file for *scenario*: *text* as written (after name and scenario), or *fields*."""
    path = folder / "sweep.yaml"
    head = f"name: Test sweep\nscenario: {scenario.name}\n"
    body = text if text is not None else yaml.safe_dump(fields, sort_keys=False)
    path.write_text(head + body, encoding="utf-8")
    return path


GRID = {"seed": 11, "design": "grid", "axes": [
    {"key": "simulation.assumptions.wage_inflation", "values": [0.0, 0.05]},
    {"key": "allocation.policy.max_spend_share_pct", "values": [50, 100]}]}


# ---------------------------------------------------------------------- the file
@pytest.mark.parametrize(("body", "line", "column", "words"), [
    ("axes:\n  - key: simulaton.n\n    values: [1]\n", 4, "axes.0.key", "valid: a scenario key"),
    ("axes:\n  - key: seed\n    range: [1, 2]\n", 5, "axes.0.range", "lists values"),
    ("design: sobol\nn: 10\naxes:\n  - key: seed\n    range: [1, 2]\n", 4, "n", "power of 2"),
    ("design: lhs\naxes:\n  - key: seed\n    range: [1, 2]\n", 3, "design", "needs n"),
    ("axes:\n  - key: seed\n    values: [1]\n  - key: seed\n    values: [2]\n", 6, "axes.1.key",
     "each key once"),
    ("design: points\naxes:\n  - key: seed\n    values: [1, 2]\n  - key: simulation.n\n"
     "    values: [500]\n", 4, "axes", "same number of values"),
    ("design: cube\naxes:\n  - key: seed\n    values: [1]\n", 3, "design", "grid"),
    ("axes:\n  - key: seed\n    range: [3, 1]\n", 5, "axes.0.range", "low must be below high"),
    ("stages: [decide, wishes]\naxes:\n  - key: seed\n    values: [1]\n", 3, "stages", "valid: tender"),
    ("base: {simulation.n: 5}\naxes:\n  - key: seed\n    values: [1]\n", 3, "simulation.n",
     "greater than or equal to 100"),
])
def test_errors_name_the_key_and_the_line(tmp_path, scenario, body, line, column, words):
    path = write_sweep(tmp_path, scenario, body)
    with pytest.raises(ValidationError) as err:
        Sweep.load(path)
    problem = err.value.problems[0]
    assert (problem.row, problem.column) == (line, column), str(err.value)
    assert words in problem.rule
    assert "sweep.yaml" in str(err.value)


def test_a_missing_scenario_and_a_duplicate_key_are_located(tmp_path, scenario):
    path = write_sweep(tmp_path, scenario, "axes:\n  - key: seed\n    values: [1]\n")
    path.write_text(path.read_text().replace(scenario.name, "nowhere.yaml"))
    with pytest.raises(ValidationError, match="no scenario file") as err:
        Sweep.load(path)
    assert err.value.problems[0].row == 2
    path.write_text("name: a\nname: b\n")
    with pytest.raises(ValidationError, match="duplicate key"):
        Sweep.load(path)


def test_grid_points_lhs_and_sobol_give_their_points(tmp_path, scenario):
    grid = Sweep.load(write_sweep(tmp_path, scenario, **GRID)).points()
    assert grid.index.name == "point" and list(grid.index) == [0, 1, 2, 3]
    assert grid.to_dict("list") == {"simulation.assumptions.wage_inflation": [0.0, 0.0, 0.05, 0.05],
                                    "allocation.policy.max_spend_share_pct": [50, 100, 50, 100]}
    points = Sweep.load(write_sweep(tmp_path, scenario, design="points", axes=[
        {"key": "seed", "values": [1, 2, 3]}, {"key": "simulation.n", "values": [500, 600, 700]}]))
    assert points.points().to_dict("list") == {"seed": [1, 2, 3], "simulation.n": [500, 600, 700]}
    ranges = [{"key": "simulation.assumptions.wage_inflation", "range": [0.01, 0.09]},
              {"key": "simulation.budget", "range": [1e6, 3e6]}]
    lhs = Sweep.load(write_sweep(tmp_path, scenario, design="lhs", n=10, seed=5, axes=ranges))
    p = lhs.points()
    assert len(p) == 10
    # Latin hypercube: one point in each tenth of every range
    for axis in ranges:
        lo, hi = axis["range"]
        bins = np.floor((p[axis["key"]].to_numpy() - lo) / (hi - lo) * 10).astype(int)
        assert sorted(bins) == list(range(10))
    assert p.equals(lhs.points())  # the sweep seed fixes the sample
    other = Sweep.load(write_sweep(tmp_path, scenario, design="lhs", n=10, seed=6, axes=ranges))
    assert not p.equals(other.points())
    sobol = Sweep.load(write_sweep(tmp_path, scenario, design="sobol", n=16, seed=5, axes=ranges))
    s = sobol.points()
    assert len(s) == 16
    for axis in ranges:
        lo, hi = axis["range"]
        assert s[axis["key"]].between(lo, hi).all()
        assert s[axis["key"]].nunique() == 16


def test_seeds_common_and_per_point(tmp_path, scenario):
    common = Sweep.load(write_sweep(tmp_path, scenario, **GRID))
    assert {common.point_seed(i) for i in range(4)} == {11}
    per = Sweep.load(write_sweep(tmp_path, scenario, **{**GRID, "seeds": "per_point"}))
    seeds = [per.point_seed(i) for i in range(4)]
    assert len(set(seeds)) == 4
    assert seeds[2] == int(np.random.SeedSequence(11, spawn_key=(2,)).generate_state(1)[0])
    assert per.point_overrides(2, per.point_values(2))["seed"] == seeds[2]
    # a swept seed is the point's seed; whole numbers stay whole beside fractions
    swept = Sweep.load(write_sweep(tmp_path, scenario, design="points", axes=[
        {"key": "seed", "values": [1, 2]}, {"key": "simulation.assumptions.fx_vol",
                                            "values": [0.1, 0.2]}]))
    values = swept.point_values(1)
    assert values == {"seed": 2, "simulation.assumptions.fx_vol": 0.2}
    assert isinstance(values["seed"], int) and swept.point_scenario(1).seed == 2


def test_tender_cells_and_tender_files_are_axes(tmp_path, scenario):
    assert scenario_key("risk.V03.failure_prob") == "tender_cells.risk.V03.failure_prob"
    assert scenario_key("bids.V1.L1.unit_price") == "tender_cells.bids.V1.L1.unit_price"
    assert scenario_key("simulation.n") == "simulation.n"
    from tenders import make_tender

    other = make_tender(tmp_path / "other", currency="USD", seed=3, with_risk=True)
    path = write_sweep(tmp_path, scenario, design="points", axes=[
        {"key": "risk.B1.failure_prob", "values": [0.01, 0.6]},
        {"key": "tender", "values": ["tender", "other"]}])
    sweep = Sweep.load(path)
    assert sweep.axis("tender").values == (str((tmp_path / "tender").resolve()),
                                           str(other.resolve()))
    result = run_sweep(sweep, out=tmp_path / "out", workers=0)
    table = result.table
    assert not result.failed, result.failed
    assert (tmp_path / "out" / "decision_map.png").is_file()  # a text axis is drawn by category
    assert set(table["currency"]) == {"USD"}
    # a tender portfolio alone: the recommendation per tender, in words, by file name
    alone = write_sweep(tmp_path, scenario, axes=[{"key": "tender", "values": ["tender", "other"]}])
    words = run_sweep(alone, out=tmp_path / "out2", workers=0).stories()[0]
    assert "is recommended for" in words and "other" in words and str(tmp_path) not in words
    assert (tmp_path / "out2" / "decision_map.png").is_file()
    assert sorted(table["risk.B1.failure_prob"].unique()) == [0.01, 0.6]
    assert table["tender"].nunique() == 2
    # the failure probability reaches the simulation: the awarded options cost more
    by = table.groupby("point")["p90"].max()
    assert by[1] != by[0]


# ---------------------------------------------------------------------- running and the store
def test_serial_run_writes_the_store_and_the_decision_map(tmp_path, scenario):
    out = tmp_path / "out"
    result = run_sweep(write_sweep(tmp_path, scenario, **GRID), out=out, workers=0)
    assert sorted(result.computed) == [0, 1, 2, 3] and not result.failed
    table = decision_table(out)
    assert list(table.columns) == ["point", "simulation.assumptions.wage_inflation",
                                   "allocation.policy.max_spend_share_pct", "option", "currency",
                                   "p50", "p90",
                                   "cvar95", "p_over_budget", "recommended_option",
                                   "awarded_vendors", "error"]
    assert table["point"].nunique() == 4 and table["error"].isna().all()
    assert (table["p90"] >= table["p50"]).all() and table["recommended_option"].notna().all()
    assert set(table["recommended_option"]) <= set(table["option"])
    assert table["awarded_vendors"].str.len().gt(0).all()
    for name in ("decision_table.csv", "decision_map.xlsx", "summary.txt", "summary.json",
                 "decision_map.png", "tornado.png", "recommendation_share.png"):
        assert (out / name).is_file(), name
    stored = sorted(p.name for p in (out / "store").glob("point-*.parquet"))
    assert stored == [f"point-{i:06d}.parquet" for i in range(4)]
    listed = set(yaml.safe_load((out / MARKER).read_text())["files"])
    assert {f"store/{n}" for n in stored} <= listed and "decision_table.csv" in listed
    assert "four points" in (out / "summary.txt").read_text()


def test_resume_computes_only_the_missing_points_and_a_rerun_needs_resume(tmp_path, scenario):
    path, out = write_sweep(tmp_path, scenario, **GRID), tmp_path / "out"
    first = run_sweep(path, out=out, workers=0, limit=2)  # stopped after two points
    assert first.computed == [0, 1]
    with pytest.raises(OutputError, match="--resume"):
        run_sweep(path, out=out, workers=0)
    second = run_sweep(path, out=out, workers=0, resume=True)
    assert second.computed == [2, 3]
    assert sorted(second.table["point"].unique()) == [0, 1, 2, 3]
    again = run_sweep(path, out=out, workers=0, resume=True)
    assert again.computed == []
    pd.testing.assert_frame_equal(again.table, second.table)


def test_a_changed_sweep_is_refused_against_the_old_store(tmp_path, scenario):
    out = tmp_path / "out"
    run_sweep(write_sweep(tmp_path, scenario, **GRID), out=out, workers=0, limit=1)
    changed = {**GRID, "axes": [GRID["axes"][0], {**GRID["axes"][1], "values": [50, 90]}]}
    with pytest.raises(OutputError, match="another sweep"):
        run_sweep(write_sweep(tmp_path, scenario, **changed), out=out, workers=0, resume=True)
    assert len(list((out / "store").glob("point-*.parquet"))) == 1  # nothing lost


def test_a_failing_point_records_its_error_and_the_sweep_goes_on(tmp_path, scenario):
    path = write_sweep(tmp_path, scenario, design="points", axes=[
        {"key": "scoring.weights.Q1", "values": [10, -5, 20]}])
    result = run_sweep(path, out=tmp_path / "out", workers=0)
    assert list(result.failed) == [1]
    assert "weights are points" in result.failed[1]
    bad = result.table[result.table["point"] == 1]
    assert len(bad) == 1 and bad["p50"].isna().all()
    assert result.table[result.table["point"] != 1]["error"].isna().all()
    text = (tmp_path / "out" / "summary.txt").read_text()
    assert "one failed point" in text and "weights are points" in text


def test_foreign_files_in_out_are_refused_then_kept(tmp_path, scenario):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    path = write_sweep(tmp_path, scenario, **GRID)
    with pytest.raises(OutputError, match="did not write"):
        run_sweep(path, out=out, workers=0)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # refused before any work
    run_sweep(path, out=out, workers=0, force=True, limit=3)
    run_sweep(path, out=out, workers=0, force=True, resume=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert len(list((out / "store").glob("point-*.parquet"))) == 4
    assert (out / "decision_table.csv").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "store").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="symbolic link"):
        run_sweep(path, out=tmp_path / "linked", workers=0, force=True)
    assert not list(elsewhere.iterdir())


@pytest.mark.parametrize("workers", [0, 2])
def test_a_killed_sweep_resumes_without_losing_or_repeating_a_point(tmp_path, scenario, workers):
    """``sourcing sweep`` killed (SIGKILL, with its cluster's worker processes) after three
    points: the rerun with --resume computes exactly the missing points, on the same workers."""
    grid = {"seed": 3, "design": "grid", "axes": [
        {"key": "simulation.assumptions.wage_inflation",
         "values": [round(0.005 * k, 3) for k in range(12)]}]}
    path, out = write_sweep(tmp_path, scenario, **grid), tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "sourcing.cli", "sweep", str(path), "--out",
                             str(out), "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # its own group: the workers die with it
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(out.glob("store/point-*.parquet"))) < 3:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    before = {p.name: p.read_bytes() for p in out.glob("store/point-*.parquet")}
    assert 3 <= len(before)
    result = run_sweep(path, out=out, workers=workers, resume=True)
    done = {int(n[6:12]) for n in before}
    assert sorted(result.computed) == sorted(set(range(12)) - done)  # none repeated
    assert sorted(result.table["point"].unique()) == list(range(12))  # none lost
    for name, blob in before.items():  # the points stored before the kill were kept as they were
        assert (out / "store" / name).read_bytes() == blob
    assert not list(out.glob("store/.point-*"))  # no half-written point counts as done


@pytest.mark.parametrize("seeds", ["common", "per_point"])
def test_two_workers_give_the_serial_numbers_byte_for_byte(tmp_path, scenario, seeds):
    path = write_sweep(tmp_path, scenario, **{**GRID, "seeds": seeds})
    serial = run_sweep(path, out=tmp_path / "serial", workers=0, figures=False)
    dask = run_sweep(path, out=tmp_path / "dask", workers=2, figures=False)
    assert sorted(dask.computed) == [0, 1, 2, 3]
    assert serial.table.to_csv(index=False) == dask.table.to_csv(index=False)
    assert ((tmp_path / "serial" / "decision_table.csv").read_bytes()
            == (tmp_path / "dask" / "decision_table.csv").read_bytes())
    for p in sorted((tmp_path / "serial" / "store").glob("point-*.parquet")):
        assert p.read_bytes() == (tmp_path / "dask" / "store" / p.name).read_bytes(), p.name
    if seeds == "per_point":  # independent noise per point: two points on the same inputs differ
        assert serial.table["p50"].nunique() > 1


def test_a_sweep_on_an_existing_cluster_stops_and_resumes_there(tmp_path, scenario):
    """--scheduler ADDRESS: two points on a running 2-worker cluster, then the rest with
    --resume; the table is the in-process one, byte for byte."""
    from dask.distributed import LocalCluster

    path = write_sweep(tmp_path, scenario, **GRID)
    serial = run_sweep(path, out=tmp_path / "serial", workers=0, figures=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        first = run_sweep(path, out=tmp_path / "dask", scheduler=cluster.scheduler_address,
                          limit=2)
        rest = run_sweep(path, out=tmp_path / "dask", scheduler=cluster.scheduler_address,
                         resume=True, figures=False)
    assert len(first.computed) == 2 and sorted(first.computed + rest.computed) == [0, 1, 2, 3]
    assert serial.table.to_csv(index=False) == rest.table.to_csv(index=False)


def test_the_workers_start_from_the_base_run(tmp_path, scenario):
    """The base run's stages reach every worker once (scattered): a point that moves only a
    simulation assumption computes the simulation and the decision, nothing before them."""
    path = write_sweep(tmp_path, scenario, seed=5, design="points", axes=[
        {"key": "simulation.assumptions.wage_inflation", "values": [0.01, 0.02, 0.03, 0.04]}])
    result = run_sweep(path, out=tmp_path / "out", workers=2, figures=False)
    assert set(result.stages_run) == {0, 1, 2, 3}
    assert all(ran == ["simulate", "decide"] for ran in result.stages_run.values()), result.stages_run


# ---------------------------------------------------------------------- words
def _table(values, cost_a, cost_b) -> pd.DataFrame:
    rows = []
    for k, (x, a, b) in enumerate(zip(values, cost_a, cost_b, strict=True)):
        rec = "Multi-vendor" if a <= b else "In-house"
        for option, cost in (("Multi-vendor", a), ("In-house", b)):
            rows.append({"point": k, "simulation.assumptions.wage_inflation": x, "option": option,
                         "p50": cost, "p90": cost * 1.1, "cvar95": cost * 1.2, "p_over_budget": 0.1,
                         "recommended_option": rec, "awarded_vendors": "Acme", "error": None})
    return pd.DataFrame(rows)


def test_the_flip_of_a_one_axis_sweep_in_words():
    xs = [0.0, 0.02, 0.04, 0.06, 0.08]
    # multi-vendor flat at 100M; in-house falls by 1M per point of the input: equal at 6.8 %
    table = _table(xs, [100e6] * 5, [100e6 + (0.068 - x) * 500e6 for x in xs])
    (flip,) = flip_points(table, "simulation.assumptions.wage_inflation")
    assert (flip.low, flip.high, flip.before, flip.after) == (0.06, 0.08, "Multi-vendor", "In-house")
    assert flip.at == pytest.approx(0.068)
    text = flip_story(table, "simulation.assumptions.wage_inflation", currency="CHF")
    assert text == ("Multi-vendor is recommended while in-house wage inflation per year stays below "
                    "6.8%; above it, In-house is (swept from 0.0% to 8.0%).")
    flat = _table(xs, [100e6] * 5, [120e6] * 5)
    assert "does not flip" in flip_story(flat, "simulation.assumptions.wage_inflation",
                                         currency="CHF")


def test_the_flip_of_a_price_reads_in_the_tender_currency():
    xs = [18.0, 19.0, 20.0, 21.0]
    table = _table(xs, [5e6 + (x - 19.5) * 1e5 for x in xs], [5e6] * 4).rename(
        columns={"simulation.assumptions.wage_inflation": "bids.S1.DESK.unit_price"})
    text = flip_story(table, "bids.S1.DESK.unit_price", currency="GBP",
                      label="Quayside's desk price per ticket")
    assert "stays below GBP 19.50" in text and "GBP 18.00 to GBP 21.00" in text


def test_the_cli_runs_a_sweep_and_refuses_a_bad_file_in_one_line(tmp_path, scenario, capsys):
    from sourcing.cli import main

    path = write_sweep(tmp_path, scenario, **GRID)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "0"]) == 0
    shown = capsys.readouterr().out
    assert "four points" in shown and "wrote the decision table" in shown
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "0"]) == 1
    assert "--resume" in capsys.readouterr().err
    bad = write_sweep(tmp_path, scenario, "axes:\n  - key: seed\n    range: [1, 2]\n")
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err
    assert "axes.0.range" in err and "Traceback" not in err


def test_the_report_shows_the_sweep_its_scenario_names(tmp_path, scenario):
    from sourcing.present import text_problems, visible_text
    from sourcing.report import render, skip_reason
    from sourcing.scenario import Scenario

    assert "names no sweep" in skip_reason("07_decision_map", Scenario.load(scenario))
    sweep = write_sweep(tmp_path, scenario, design="points", axes=[
        {"key": "simulation.assumptions.wage_inflation", "values": [0.0, 0.1]}])
    named = scenario.with_name("named.yaml")
    named.write_text(scenario.read_text() + f"sweep: {sweep.name}\n", encoding="utf-8")
    assert Scenario.load(named).sweep == sweep.resolve()
    assert skip_reason("07_decision_map", Scenario.load(named)) is None
    index = render(named, out=tmp_path / "report", only=["07_decision_map"])
    page = (index.parent / "07_decision_map.html").read_text(encoding="utf-8")
    text = visible_text(page)
    assert "Sweep Test sweep: two points" in text and "Traceback" not in page
    assert page.count('src="data:image/png') >= 2
    assert not text_problems(text, currency="USD")
    assert (index.parent / ".run" / "sweep" / "store" / "point-000001.parquet").is_file()
    # the decision map's workbook is among the report's files, linked from the index
    assert (index.parent / "artefacts" / "decision_map.xlsx").is_file()
    assert 'href="artefacts/decision_map.xlsx"' in index.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[1] / "data" / "sweeps")
                                        .glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_sweep_is_valid(path):
    """Each example sweep loads, with its base scenario, into a small set of points (each runs
    into a decision map with ``sourcing sweep`` in about a minute on two cores)."""
    sweep = Sweep.load(path)
    points = sweep.points()
    assert 2 <= len(points) <= 40
    assert sweep.point_scenario(len(points) - 1).simulation.n <= 2000
