"""The ``sourcing`` command.

``sourcing validate PATH`` checks a tender (CSV folder or .xlsx) and prints a summary or the table
of problems; ``sourcing template FILE.xlsx`` writes a blank tender workbook; ``sourcing break-even
SCENARIO KEY`` says how far one input may move before the recommendation changes; ``sourcing
sweep FILE`` runs a scenario sweep into a decision map.  Every subcommand has
``--help``.  Exit codes: 0 success, 1 bad input (the message says what and where), 2 usage,
3 (``run``) the analysis ran but no award satisfies the policy.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from . import present as fmt
from .io import read_tender
from .outputs import OutputError, write_template
from .schemas import ValidationError

__all__ = ["main"]

_DEFAULT_SCENARIO = Path("data") / "scenarios" / "baseline.yaml"
#: Ranks of the SMAA table printed one by one; the rest are summed ("11+").
_RANKS_SHOWN = 10


def _cmd_validate(args: argparse.Namespace) -> int:
    tender = read_tender(args.path)
    print(tender.summary())
    print("OK: the tender is valid")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from .outputs import check_file_target

    path = write_template(check_file_target(args.path, force=args.force))
    print(f"wrote blank tender template {path}")
    return 0


def _write_csv(tables: dict, args: argparse.Namespace) -> Path:
    """Write *tables* as CSVs into the folder ``--csv`` names, under the rule of every result
    folder (:func:`sourcing.outputs.staged`): ours or new, else refused without ``--force``."""
    from .outputs import staged, write_tables

    with staged(args.csv, force=args.force) as folder:
        write_tables(tables, folder)
    return Path(args.csv)


def _stages(scenario, stages: Sequence[str]) -> dict:
    """The results of *stages* for *scenario*: the pipeline's stages, as ``sourcing run`` runs them."""
    from .pipeline import run_stages

    results, info = run_stages(scenario, stages)
    for note in info["notes"]:
        print(f"note: {note}", file=sys.stderr)
    return results


def _scenario(path: str, options: dict[str, tuple[str, object]], *, file: str | None = None):
    """The scenario a subcommand runs: the tender *path*, with *options* (scenario key ->
    (option, value); ``None`` keeps the default) on the scenario *file*'s settings or the
    defaults.  A bad value is named by its option (``--budget 0.0: ...``)."""
    from .scenario import Scenario

    values = {key: value for key, (_, value) in options.items()}
    try:
        if file:
            return Scenario.load(file, tender=str(Path(path).resolve()), **values)
        return Scenario.for_tender(path, **values)
    except ValidationError as err:
        bad = [p for p in err.problems if p.column in options]
        if len(bad) < len(err.problems):
            raise
        raise ValueError("; ".join(f"{options[p.column][0]} {p.value}: {p.rule}" for p in bad)) from None


def _cmd_evaluate(args: argparse.Namespace) -> int:
    scenario = _scenario(args.path, {
        "scoring.method": ("--method", args.method), "scoring.weighting": ("--weighting", args.weighting),
        "scoring.aggregate": ("--aggregate", args.aggregate),
        "scoring.price_formula": ("--price-formula", args.price_formula),
        "scoring.smaa_samples": ("--smaa", args.smaa or None), "seed": ("--seed", args.seed)})
    results = _stages(scenario, ["score", "acceptability"] if args.smaa else ["score"])
    evaluation = results["score"]
    print(evaluation)
    if args.smaa:
        acc = results["acceptability"].acceptability
        shown = acc.iloc[:, :_RANKS_SHOWN]
        if acc.shape[1] > _RANKS_SHOWN:  # 2,000 vendors: not 4 million cells on a terminal
            shown = shown.assign(**{f"{_RANKS_SHOWN + 1}+": 1.0 - shown.sum(axis=1)})
        print("\nSMAA-2 rank acceptability (share of weight samples giving each rank):")
        print(shown.round(3).to_string())
    if args.csv:
        print(f"wrote {_write_csv({'evaluation': evaluation.to_frame()}, args)}")
    return 0


def _cmd_performance(args: argparse.Namespace) -> int:
    from .performance import assess, read_performance

    perf = read_performance(args.path)
    tender = read_tender(args.tender) if args.tender else None
    print(perf.summary())
    if len(perf.quality):
        print(f"\nData-quality findings ({len(perf.quality)}; no ticket silently dropped):")
        print(perf.quality.groupby(["issue", "action"]).size().rename("tickets").to_string())
    record = assess(perf, rates=tender, asof=args.asof)
    kpis, credits = record.kpis, record.credits
    print("\nScorecard (0-10 per lot):")
    print(record.scorecard.lot_scores.round(2).to_string(index=False))
    owed = credits.monthly[credits.monthly["credit_pct"] > 0]
    cols = ["vendor_id", "lot_id", "month", "kpis_missed", "credit_pct_gross", "credit_pct",
            "earn_back"] + (["credit_amount"] if tender is not None else [])
    print(f"\nService credits ({len(owed)} months):")
    print(owed[cols].to_string(index=False) if len(owed) else "  none")
    print(f"\n{len(kpis.breaches()):,} ticket SLA breaches")
    print("\nCalibration for simulation (monthly breach probability, credit % of monthly fee):")
    print(record.calibration.round(3).to_string(index=False))
    if record.audit is not None:
        audit = record.audit
        print(f"\nInvoice audit: {len(audit.discrepancies)} discrepancies, "
              f"{fmt.money(audit.total, tender.currency, exact=True, decimals=2)}")
        if len(audit.discrepancies):
            print(audit.discrepancies[["invoice_id", "lot_id", "month", "issue",
                                       "at_stake"]].to_string(index=False))
    return 0


def _allocate_scenario(args: argparse.Namespace, options: dict | None = None):
    """The scenario of ``allocate``: its policy from --scenario (or none), the tender PATH."""
    return _scenario(args.path, {
        "scoring.method": ("--method", args.method), "allocation.solver": ("--solver", args.solver),
        "allocation.time_limit": ("--time-limit", args.time_limit),
        "allocation.mip_gap": ("--mip-gap", args.mip_gap), **(options or {})}, file=args.scenario)


def _cmd_allocate(args: argparse.Namespace) -> int:
    if args.risk:
        return _allocate_risk(args)
    scenario = _allocate_scenario(args)
    results = _stages(scenario, ["rule_costs"] if args.rule_costs else ["award"])
    tender, award = results["tender"], results["award"]
    print(award)
    if args.rule_costs and award.feasible:
        costs = results["rule_costs"]
        cur = tender.currency
        print(f"\nCost of each rule ({cur}/year saved if dropped alone):")
        print(costs[["description", "cost_of_rule", "status_without"]].to_string(
            formatters={"cost_of_rule": lambda v: fmt.money(v, cur, exact=True)}))
    if args.csv and award.feasible:
        print(f"wrote {_write_csv({'award': award.to_frame()}, args)}")
    return 0 if award.feasible else 1


def _allocate_risk(args: argparse.Namespace) -> int:
    if args.solver != "highs":
        raise ValueError("--risk solves with HiGHS only; drop --solver cbc")
    scenario = _allocate_scenario(args, {
        "seed": ("--seed", args.seed), "allocation.risk.lam": ("--lambda", args.lam),
        "allocation.risk.alpha": ("--alpha", args.alpha),
        "allocation.risk.scenarios": ("--scenarios", args.scenarios),
        "allocation.risk.frontier": ("--lambda", sorted({0.0, 0.5, 1.0, 2.0, 4.0, float(args.lam)})),
        "allocation.risk.backup": ("--risk", False),
        "allocation.risk.time_limit": ("--time-limit", args.time_limit)})
    results = _stages(scenario, ["risk_award"])
    tender, risk = results["tender"], results["risk_award"]
    if risk is None:  # no award satisfies the policy: the least-cost award says why
        print(results["award"])
        return 1
    print(risk.award)
    if not risk.award.feasible:
        return 1
    fr, cur = risk.frontier, tender.currency
    table = fr.to_frame()[["lam", "expected", "cvar", "vendors_per_lot", "status"]]
    print(f"\nRisk frontier over the contract ({cur}; {args.scenarios} scenarios, seed {args.seed}, "
          f"CVaR{fmt.percent(args.alpha)}):")
    tail = f"cvar{args.alpha * 100:g}"
    money = lambda v: fmt.money(v, cur, exact=True)  # noqa: E731
    print(table.rename(columns={"lam": "lambda", "cvar": tail}).to_string(
        index=False, formatters={"expected": money, tail: money}))
    if args.csv:
        print(f"wrote {_write_csv({'award': risk.award.to_frame(), 'frontier': fr.to_frame()}, args)}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .scenario import SimulationSettings

    # the range of simulation.n in a scenario file, stated whole (10**12 draws asked for 73 TiB)
    bounds = {k: getattr(m, k) for m in SimulationSettings.model_fields["n"].metadata
              for k in ("ge", "le") if hasattr(m, k)}
    if not bounds["ge"] <= args.n <= bounds["le"]:
        raise ValueError(f"--n must be a whole number of draws from {bounds['ge']:,} to "
                         f"{bounds['le']:,} (as simulation.n in a scenario file), got {args.n:,}")
    scenario = _scenario(args.path, {
        "simulation.n": ("--n", args.n), "seed": ("--seed", args.seed),
        "simulation.sampling": ("--sampling", args.sampling),
        "simulation.budget": ("--budget", args.budget), "allocation.risk.enabled": ("--risk", False)})
    results = _stages(scenario, ["simulate"])
    tender, sim = results["tender"], results["simulate"]
    result = sim.simulation
    print(tender.summary())
    single = next((o for o in sim.options if o.name.startswith("Single vendor")), None)
    if single is not None:
        vid = next(p for p in single.providers if p in tender.vendors.index)
        print(f"single vendor: {vid} {tender.vendors.at[vid, 'name']}, the best-ranked vendor "
              "(TOPSIS, tender weights) able to serve every lot, else the best-ranked one, as in "
              "sourcing run")
    print(f"\n{result.n:,} draws over {result.years} years, {tender.currency}, seed {args.seed}")
    summary = result.summary()
    money = [c for c in summary.columns if not c.startswith("p_")]
    shown = summary.copy().astype(object)
    shown[money] = summary[money].map(lambda v: fmt.money(v, tender.currency, exact=True))
    for col in ("p_over_budget", "p_cheapest"):
        if col in summary:
            shown[col] = summary[col].map(fmt.percent)
    print(shown.to_string())
    diffs = result.paired_differences()
    exact = lambda v: fmt.money(v, tender.currency, exact=True)  # noqa: E731
    print(f"\nPaired differences a - b on the same draws ({tender.currency}):")
    print(diffs.to_string(index=False, formatters={
        **dict.fromkeys(("mean_diff", "se", "ci_low", "ci_high"), exact),
        "p_a_cheaper": fmt.percent}))
    cheapest = summary["mean"].idxmin()
    print(f"\nWhat drives the cost of {cheapest} (Spearman rank correlation):")
    print(result.tornado(cheapest).head(8).to_string(index=False, float_format="{:.3f}".format))
    if args.plot:
        import matplotlib.pyplot as plt

        from .outputs import atomic_path, check_file_target

        target = check_file_target(args.plot, force=args.force)
        fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
        result.plot("compare", ax=ax)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        print(f"wrote {args.plot}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import ReportError, render

    existed = (Path(args.out) / "index.html").is_file()
    try:
        index = render(args.scenario, out=args.out, pdf=args.pdf, progress=args.progress,
                       only=args.only or None, cell_timeout=args.cell_timeout, force=args.force)
    except ReportError as err:
        kept = (f"The previous report in {args.out} was left as it was." if existed else
                f"No report was written to {args.out}.")
        print(f"error: {err}\n{kept}", file=sys.stderr)
        return 1
    print(f"wrote {index}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from . import present as fmt
    from .pipeline import run

    result = run(args.scenario, progress=args.progress)
    book = result.write(args.out, force=args.force)
    head = result.headline()
    cur = head["currency"]
    shown = {"percent": fmt.percent, "money": lambda v: fmt.money(v, cur, exact=True)}
    width = max(len(fmt.label(k)) for k in head) + 2
    for key, value in head.items():
        kind = result.HEADLINE_FORMATS.get(key)
        text = shown[kind](value) if kind else fmt.text(value)
        print(f"{fmt.label(key):{width}s}{text}")
    from .narrative import options_story

    print()
    for line in options_story(result.decision):
        print(line)
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {book} and CSV/PNG files in {args.out}")
    # exit 3: the analysis ran, but no award satisfies the policy (documented in --help)
    return 0 if result.award.feasible else 3


def _cmd_break_even(args: argparse.Namespace) -> int:
    from .breakeven import break_even, break_even_story
    from .whatif import WhatIf

    whatif = WhatIf(args.scenario, draws=args.draws)
    low, high = args.range if args.range else (None, None)
    result = break_even(whatif, args.key, low=low, high=high)
    print(break_even_story(result, currency=whatif.tender.currency))
    print(f"({result.evaluations} evaluations of the pipeline, common random numbers, seed "
          f"{whatif.scenario.seed})")
    return 0


def _cmd_price_to_win(args: argparse.Namespace) -> int:
    from . import present as fmt
    from .allocation.price_to_win import price_to_win
    from .narrative import price_to_win_lines
    from .pipeline import policy_of
    from .scenario import Scenario

    scenario = Scenario.load(args.scenario)
    found = _stages(scenario, ["award"])
    tender, al = found["tender"], scenario.allocation
    table = price_to_win(tender, policy_of(scenario, tender), quality=found["score"],
                         award=found["award"], vendors=args.vendor or None, workers=args.workers,
                         **al.solve_kwargs)
    for line in price_to_win_lines(table, names=fmt.Names.of(tender), currency=tender.currency,
                                   units=tender.lots["unit"]):
        print(line)
    if args.csv:
        print(f"wrote {_write_csv({'price_to_win': table.reset_index()}, args)}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import run_sweep

    if args.workers is not None and args.workers < 0:
        raise ValueError(f"--workers {args.workers}: 0 (in this process) or more")
    try:
        result = run_sweep(args.file, out=args.out, scheduler=args.scheduler,
                           workers=args.workers, resume=args.resume, force=args.force,
                           progress=args.progress)
    except KeyboardInterrupt:  # every point stored so far is kept: the rerun continues there
        print(f"interrupted; the points stored in {Path(args.out) / 'store'} are kept: run again "
              "with --resume to compute only the missing ones", file=sys.stderr)
        return 130
    print(result.summary_text(), end="")
    print(f"wrote the decision table, maps and summary in {args.out} ({len(result.computed):,} "
          f"points computed now, {fmt.number(result.seconds, decimals=1)} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sourcing`` command."""
    parser = argparse.ArgumentParser(
        prog="sourcing",
        description="Decision analysis for IT-outsourcing sourcing choices: vendor scoring, "
        "award allocation, risk/cost simulation and SLA analytics.",
    )
    parser.add_argument("--version", action="version", version=f"sourcing {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check a tender and print a summary",
                       description="Read a tender (folder of CSV files or .xlsx workbook), check "
                       "every table and print a summary, or every problem found.")
    p.add_argument("path", help="tender folder or .xlsx workbook, e.g. data/sample-tender")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("evaluate", help="rank the vendors of a tender",
                       description="Score and rank the vendors of a tender by a multi-criteria "
                       "method, after the knock-out gates; print the ranking and exclusions.")
    p.add_argument("path", help="tender folder or .xlsx workbook")
    p.add_argument("--method", default="topsis",
                   help="wsm, wpm, topsis, vikor, promethee, electre or another scikit-criteria "
                   "method (default topsis)")
    p.add_argument("--weighting", choices=("direct", "ahp"), default=None,
                   help="criterion weights: direct points or AHP judgments (default: tender)")
    p.add_argument("--aggregate", choices=("mean", "median", "geometric"), default=None,
                   help="how several evaluators' scores combine (default: tender setting)")
    p.add_argument("--price-formula", choices=("proportional", "linear", "reference"),
                   default=None, help="turn prices into points first (default: use prices as is)")
    p.add_argument("--smaa", type=int, default=0, metavar="N",
                   help="also print SMAA-2 rank acceptability from N weight samples")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the SMAA samples (default: a scenario's default seed)")
    p.add_argument("--csv", default=None, metavar="DIR",
                   help="also write the ranking table as DIR/evaluation.csv")
    p.add_argument("--force", action="store_true",
                   help="write into a folder (or replace a file) sourcing did not write; other files "
                   "are kept")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("performance", help="SLA compliance, credits and invoice audit",
                       description="Read the incumbent's ticket, availability, volume and invoice "
                       "logs; print data-quality findings, the scorecard, service credits owed, "
                       "the calibration for simulation and (with --tender) the invoice audit.")
    p.add_argument("path", help="performance folder, e.g. data/sample-performance")
    p.add_argument("--tender", default=None, help="tender whose bids are the rate card")
    p.add_argument("--asof", default=None, help="evaluation time stamp (default: end of data)")
    p.set_defaults(func=_cmd_performance)

    p = sub.add_parser("allocate", help="split the lots between vendors at least cost",
                       description="Solve the award MILP under a sourcing policy (from a scenario "
                       "file, or no rules) with quality scores from the vendor ranking; print "
                       "volumes, cost breakdown, binding rules, or why no award is feasible "
                       "(exit 1).")
    p.add_argument("path", help="tender folder or .xlsx workbook")
    p.add_argument("--scenario", default=None, help="scenario YAML whose allocation.policy to use")
    p.add_argument("--method", default=None,
                   help="ranking method for quality scores (default: the scenario's, else topsis)")
    p.add_argument("--solver", choices=("highs", "cbc"), default="highs")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    p.add_argument("--mip-gap", type=float, default=None, help="relative gap accepted")
    p.add_argument("--rule-costs", action="store_true", help="also price each policy rule")
    p.add_argument("--csv", default=None, metavar="DIR", help="write DIR/award.csv")
    p.add_argument("--force", action="store_true",
                   help="write into a folder (or replace a file) sourcing did not write; other files "
                   "are kept")
    p.add_argument("--risk", action="store_true",
                   help="risk-aware award: least expected contract cost + lambda x CVaR over "
                   "sampled failure, indexation and demand scenarios; prints the risk frontier")
    p.add_argument("--lambda", dest="lam", type=float, default=1.0,
                   help="weight of CVaR with --risk (>= 0, default 1)")
    p.add_argument("--alpha", type=float, default=0.95, help="CVaR level with --risk (default 0.95)")
    p.add_argument("--scenarios", type=int, default=300,
                   help="number of risk scenarios with --risk (default 300)")
    p.add_argument("--seed", type=int, default=1, help="seed of the risk scenarios (default 1)")
    p.set_defaults(func=_cmd_allocate)

    p = sub.add_parser("simulate", help="Monte Carlo cost and risk of the sourcing options",
                       description="Simulate the contract cost of the standard options (in-house, "
                       "single vendor, multi-vendor, hybrid) with common random numbers; "
                       "multi-vendor signs the least-cost award with no policy rules (use "
                       "sourcing run for a scenario's policy and the risk-aware award).")
    p.add_argument("path", help="tender folder or .xlsx workbook")
    p.add_argument("--n", type=int, default=100_000,
                   help="draws, 100 to 10000000 (default 100000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--sampling", choices=("mc", "lhs", "sobol"), default="mc")
    p.add_argument("--budget", type=float, default=None,
                   help="budget over the horizon, in the tender currency")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--plot", default=None, metavar="PNG",
                   help="save the comparison chart (an existing file is refused)")
    p.add_argument("--force", action="store_true",
                   help="write into a folder (or replace a file) sourcing did not write; other files "
                   "are kept")
    p.set_defaults(func=_cmd_simulate)

    baseline = str(_DEFAULT_SCENARIO)
    p = sub.add_parser("report", help="render the board report (HTML, optional PDF)",
                       description="Execute every notebook under a scenario with papermill and "
                       "render HTML pages without code plus an index page; PDF through headless "
                       "Chromium when installed. The output folder is replaced only when every "
                       "notebook succeeded.")
    p.add_argument("--scenario", default=baseline, help=f"scenario YAML (default {baseline})")
    p.add_argument("--out", default="reports", help="output folder (default reports); a folder "
                   "holding files sourcing did not write is refused")
    p.add_argument("--force", action="store_true",
                   help="write into a folder holding other files (they are kept, never deleted)")
    p.add_argument("--pdf", action="store_true", help="also print each page to PDF")
    p.add_argument("--only", nargs="*", default=None, metavar="NOTEBOOK",
                   help="render only these notebooks (names without .ipynb)")
    p.add_argument("--cell-timeout", type=int, default=600, help="seconds per cell (default 600)")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("run", help="the whole analysis without notebooks, to Excel/CSV/PNG",
                       description="Rank, allocate, price the policy rules and simulate the "
                       "options of a scenario; write results.xlsx, CSVs and PNGs. Exit codes: 0 "
                       "done, 1 bad input, 3 done but no award satisfies the policy (the outputs "
                       "say why).")
    p.add_argument("scenario", nargs="?", default=baseline,
                   help=f"scenario YAML (default {baseline})")
    p.add_argument("--out", default="results", help="output folder (default results); a folder "
                   "holding files sourcing did not write is refused")
    p.add_argument("--force", action="store_true",
                   help="write into a folder holding other files (they are kept, never deleted)")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("break-even", help="how far one input may move before the recommendation "
                       "changes", description="Move one input of the scenario, the others held, and "
                       "find the values nearest its baseline at which another option is recommended "
                       "(or none within the risk appetite): a scan, then bisection, every point with "
                       "the same random numbers. KEY: weight.<criterion> (share 0-1), "
                       "multiplier.<failure|escalation|fx_vol|breach_impact> (factor), "
                       "policy.<rule>, simulation.budget, simulation.assumptions.<name>.")
    p.add_argument("scenario", help="scenario YAML")
    p.add_argument("key", help="the input to move (see above)")
    p.add_argument("--range", nargs=2, type=float, metavar=("LO", "HI"),
                   help="the range to search, in the input's unit (default: the input's whole "
                   "sensible range)")
    p.add_argument("--draws", type=int, default=10_000,
                   help="simulation draws per option at each point (default 10,000)")
    p.set_defaults(func=_cmd_break_even)

    p = sub.add_parser("price-to-win", help="the unit price at which each bid enters or leaves "
                       "the award", description="For every bid the least-cost award does not use, "
                       "the highest unit price that would win it volume; for every bid it uses, "
                       "the lowest price that would lose it (other bids fixed; a re-solve per "
                       "bisection step). --vendor keeps one bidder's rows, for its feedback letter.")
    p.add_argument("scenario", help="scenario YAML")
    p.add_argument("--vendor", action="append", metavar="VENDOR_ID",
                   help="only this bidder's bids (repeatable)")
    p.add_argument("--csv", metavar="DIR", help="also write price_to_win.csv into DIR")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes searching bids side by side (default one per core from 16 "
                        "bids on; 1: none)")
    p.add_argument("--force", action="store_true",
                   help="write into a folder holding other files (they are kept)")
    p.set_defaults(func=_cmd_price_to_win)

    p = sub.add_parser("sweep", help="where the recommendation flips: a scenario sweep on Dask",
                       description="Run every point of a sweep file (a base scenario and axes of "
                       "overrides: a grid, a list of points, or a Latin-hypercube or Sobol sample "
                       "of ranges) through the pipeline, on a local Dask cluster (one worker per "
                       "core), an existing one (--scheduler) or in this process (--workers 0); "
                       "each point is stored as it completes (DIR/store), so a stopped sweep "
                       "continues with --resume. Writes the decision table (CSV, workbook), the "
                       "decision map, tornado and recommendation-share plots, and a summary.")
    p.add_argument("file", help="sweep YAML, e.g. data/sweeps/smallco-desk-price.yaml")
    p.add_argument("--out", default="sweep", help="output folder (default sweep); a folder "
                   "holding files sourcing did not write is refused")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes of the local cluster (default: the cores); 0 runs the "
                   "points in this process")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep stored in --out: only the missing points are computed")
    p.add_argument("--force", action="store_true",
                   help="write into a folder holding other files (they are kept, never deleted)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("template", help="write a blank tender workbook",
                       description="Write a blank .xlsx tender with a README sheet, headers and "
                       "drop-down lists, ready to fill in.")
    p.add_argument("path", help="target .xlsx file (an existing file is refused)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=_cmd_template)
    return parser


_SHOWN: set[str] = set()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Each warning once, as one readable line without the source file and code line."""
    text = str(message)
    if text not in _SHOWN:
        _SHOWN.add(text)
        print(f"warning: {text}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.showwarning = _show_warning
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except KeyboardInterrupt:
        # result sets are staged and published whole: an interrupted run changed nothing
        print("interrupted; nothing was changed (a previous result set is kept as it was)",
              file=sys.stderr)
        return 130
    except ValidationError as err:
        print(str(err), file=sys.stderr)
        return 1
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # missing input, output path below a file, no permission, disk full
        shown = f"{err.strerror}: {err.filename}" if err.strerror and err.filename else str(err)
        print(f"error: {shown}", file=sys.stderr)
        return 1
    except (ValueError, TypeError) as err:
        # bad arguments: the library's ValueError/TypeError name the argument and valid choices
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
