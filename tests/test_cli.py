"""The sourcing command line."""

from __future__ import annotations

import shutil

import pytest

from sourcing.cli import main


def test_validate_sample(sample_path, capsys):
    assert main(["validate", str(sample_path)]) == 0
    out = capsys.readouterr().out
    assert "8 vendors" in out and "OK" in out


def test_validate_reports_problems_and_exits_1(sample_path, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(sample_path, bad)
    path = bad / "bids.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("V01,L1,23.78", "V01,L1,abc"),
                    encoding="utf-8")
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bids.csv" in err and "unit_price" in err and "abc" in err
    assert "Traceback" not in err


def test_validate_missing_path(capsys):
    assert main(["validate", "/no/such/tender"]) == 1
    assert "no tender at" in capsys.readouterr().err


def test_template(tmp_path, capsys):
    assert main(["template", str(tmp_path / "blank.xlsx")]) == 0
    assert (tmp_path / "blank.xlsx").exists()
    assert main(["template", str(tmp_path / "blank.csv")]) == 1


def test_help_everywhere(capsys):
    for argv in (["--help"], ["validate", "--help"], ["template", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
    assert main([]) == 2


def test_evaluate_prints_ranking_and_exclusions(sample_path, tmp_path, capsys):
    assert main(["evaluate", str(sample_path), "--method", "wsm", "--smaa", "500", "--seed", "3",
                 "--csv", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "V06" in out and "ISO/IEC 27001" in out and "V07" in out
    assert "rank acceptability" in out
    assert (tmp_path / "out" / "evaluation.csv").exists()


def test_evaluate_unknown_method_lists_choices(sample_path, capsys):
    assert main(["evaluate", str(sample_path), "--method", "magic"]) == 1
    assert "valid choices" in capsys.readouterr().err


def test_performance_report(capsys):
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    assert main(["performance", str(data / "sample-performance"), "--tender",
                 str(data / "sample-tender")]) == 0
    out = capsys.readouterr().out
    for expected in ("Data-quality findings", "duplicate ticket id", "Service credits",
                     "2026-02", "Invoice audit: 4 discrepancies", "duplicate_line"):
        assert expected in out


def test_simulate_prints_summary_and_drivers(sample_path, tmp_path, capsys):
    png = tmp_path / "compare.png"
    assert main(["simulate", str(sample_path), "--n", "2000", "--seed", "5", "--budget", "6e7",
                 "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    for expected in ("In-house", "Multi-vendor", "Hybrid", "p_over_budget", "Paired differences",
                     "What drives the cost"):
        assert expected in out
    assert png.stat().st_size > 10_000


def test_allocate_prints_award_and_explains_infeasibility(sample_path, tmp_path, capsys):
    scenarios = sample_path.parent / "scenarios"
    assert main(["allocate", str(sample_path), "--scenario", str(scenarios / "baseline.yaml"),
                 "--rule-costs"]) == 0
    out = capsys.readouterr().out
    assert "Award: optimal" in out and "quality_floor" in out and "-0\n" not in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: X\ntender: {sample_path}\nallocation:\n  policy:\n"
                   "    min_vendors_per_lot: 5\n", encoding="utf-8")
    assert main(["allocate", str(sample_path), "--scenario", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "infeasible" in out and "only 4 eligible vendors bid" in out


def test_allocate_takes_the_scenarios_ranking_method_and_names_the_package(smallco_path, capsys):
    # smallco ranks by VIKOR with its own parameter v; a default --method used to override it
    scenario = smallco_path.parent / "scenarios" / "smallco.yaml"
    assert main(["allocate", str(smallco_path), "--scenario", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert "Award: optimal" in out and "package taken: Q-ALL" in out and "from the lot bids alone" in out


def test_unknown_method_parameter_exits_1_with_the_valid_ones(tmp_path, sample_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: X\ntender: {sample_path}\nscoring: {{method: topsis, params: {{foo: 1}}}}\n",
                    encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "error: method 'topsis' got unknown parameters ['foo']; valid: normalization" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_simulate_budget_zero_exits_1(sample_path, capsys):
    assert main(["simulate", str(sample_path), "--n", "200", "--budget", "0"]) == 1
    assert "error: --budget 0.0: Input should be greater than 0" in capsys.readouterr().err


def test_warnings_print_once_as_one_line(sample_path, tmp_path, capsys):
    """A caveat raised by every option (no risk table) is one line, without code locations."""
    norisk = tmp_path / "norisk"
    shutil.copytree(sample_path, norisk)
    (norisk / "risk.csv").unlink()
    assert main(["simulate", str(norisk), "--n", "200"]) == 0
    err = capsys.readouterr().err
    assert err.count("note: The tender has no risk table") == 1
    assert "UserWarning" not in err and "contract.py" not in err


def test_simulate_refuses_a_tender_no_vendor_passes(sample_path, tmp_path, capsys):
    """No vendor passes the gates: nothing to rank or award, as in sourcing run (exit 1, why)."""
    shut = tmp_path / "shut"
    shutil.copytree(sample_path, shut)
    path = shut / "criteria.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [line.rsplit(",", 1)[0] + ",>= 100" if line.startswith("C01,") else line for line in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["simulate", str(shut), "--n", "200"]) == 1
    err = capsys.readouterr().err
    assert "only 0 vendor(s) pass the gates" in err and "Traceback" not in err


def test_output_below_a_file_exits_1_without_traceback(sample_path, tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    assert main(["template", str(blocker / "blank.xlsx")]) == 1
    err = capsys.readouterr().err
    assert err.strip().startswith(f"error: {blocker} is a file, not a folder")  # not "File exists"


def test_evaluate_smaa_prints_a_bounded_table(tmp_path, capsys):
    """2,000 vendors printed a 2,000 x 2,000 acceptability table (4 million cells, 900 MB): the
    command prints ranks 1-10 and the rest summed."""
    from tenders import make_tender

    path = make_tender(tmp_path / "t", n_vendors=14, n_lots=1, n_criteria=9, seed=2)
    assert main(["evaluate", str(path), "--smaa", "200"]) == 0
    table = capsys.readouterr().out.split("SMAA-2 rank acceptability")[1].splitlines()
    assert table[1].split()[-2:] == ["10", "11+"]
