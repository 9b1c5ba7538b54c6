"""The ``sourcing`` command.

``sourcing validate PATH`` checks a tender (CSV folder or .xlsx) and prints a summary or the table
of problems; ``sourcing template FILE.xlsx`` writes a blank tender workbook.  Every subcommand has
``--help``.  Exit codes: 0 success, 1 bad input (the message says what and where), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .io import read_tender, write_template
from .schemas import ValidationError

__all__ = ["main"]

_DEFAULT_SCENARIO = Path("data") / "scenarios" / "baseline.yaml"


def _cmd_validate(args: argparse.Namespace) -> int:
    tender = read_tender(args.path)
    print(tender.summary())
    print("OK: the tender is valid")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    path = write_template(args.path)
    print(f"wrote blank tender template {path}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .scoring import evaluate, smaa

    tender = read_tender(args.path)
    evaluation = evaluate(tender, method=args.method, weighting=args.weighting,
                          aggregate=args.aggregate, price_formula=args.price_formula)
    print(evaluation)
    if args.smaa:
        result = smaa(evaluation.matrix, evaluation.objectives, evaluation.weights,
                      method=args.method if args.method in ("wsm", "wpm", "topsis", "vikor",
                                                            "promethee") else "wsm",
                      n=args.smaa, seed=args.seed)
        print("\nSMAA-2 rank acceptability (share of weight samples giving each rank):")
        print(result.acceptability.round(3).to_string())
    if args.csv:
        from .io import write_tables

        path = write_tables({"evaluation": evaluation.to_frame()}, args.csv)
        print(f"wrote {path}")
    return 0


def _cmd_performance(args: argparse.Namespace) -> int:
    from .performance import (
        audit_invoices,
        calibrate,
        monthly_kpis,
        read_performance,
        scorecard,
        service_credits,
    )

    perf = read_performance(args.path)
    tender = read_tender(args.tender) if args.tender else None
    print(perf.summary())
    if len(perf.quality):
        print(f"\nData-quality findings ({len(perf.quality)}; no ticket silently dropped):")
        print(perf.quality.groupby(["issue", "action"]).size().rename("tickets").to_string())
    kpis = monthly_kpis(perf, asof=args.asof)
    credits = service_credits(kpis, rates=tender)
    card = scorecard(kpis)
    print("\nScorecard (0-10 per lot):")
    print(card.lot_scores.round(2).to_string(index=False))
    owed = credits.monthly[credits.monthly["credit_pct"] > 0]
    cols = ["vendor_id", "lot_id", "month", "kpis_missed", "credit_pct_gross", "credit_pct",
            "earn_back"] + (["credit_eur"] if tender is not None else [])
    print(f"\nService credits ({len(owed)} months):")
    print(owed[cols].to_string(index=False) if len(owed) else "  none")
    print(f"\n{len(kpis.breaches()):,} ticket SLA breaches")
    print("\nCalibration for simulation (monthly breach probability, credit % of monthly fee):")
    print(calibrate(credits).round(3).to_string(index=False))
    if tender is not None:
        audit = audit_invoices(perf, tender, credits=credits)
        print(f"\nInvoice audit: {len(audit.discrepancies)} discrepancies, "
              f"{tender.currency} {audit.total_eur:,.2f}")
        if len(audit.discrepancies):
            print(audit.discrepancies[["invoice_id", "lot_id", "month", "issue",
                                       "amount_eur"]].to_string(index=False))
    return 0


def _cmd_allocate(args: argparse.Namespace) -> int:
    from .allocation import Policy, allocate, constraint_costs
    from .scenario import Scenario
    from .scoring import evaluate

    tender = read_tender(args.path)
    policy = Scenario.load(args.scenario).allocation.policy_model() if args.scenario else Policy()
    evaluation = evaluate(tender, method=args.method)
    solve = {"solver": args.solver, "time_limit": args.time_limit, "mip_gap": args.mip_gap}
    award = allocate(tender, policy, quality=evaluation, **solve)
    print(award)
    if args.rule_costs and award.feasible:
        costs = constraint_costs(tender, policy, quality=evaluation, **solve)
        print(f"\nCost of each rule ({tender.currency}/year saved if dropped alone):")
        print(costs[["description", "cost_of_rule", "status_without"]].to_string(
            formatters={"cost_of_rule": "{:,.0f}".format}))
    if args.csv and award.feasible:
        from .io import write_tables

        print(f"wrote {write_tables({'award': award.to_frame()}, args.csv)}")
    return 0 if award.feasible else 1


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .scenario import SimulationSettings
    from .simulation import simulate, standard_scenarios

    # the same range as simulation.n in a scenario file (10**12 draws asked numpy for 73 TiB)
    bounds = {k: getattr(m, k) for m in SimulationSettings.model_fields["n"].metadata
              for k in ("ge", "le") if hasattr(m, k)}
    low, high = bounds.get("ge", 1), bounds.get("le", 10_000_000)
    if not low <= args.n <= high:
        raise ValueError(f"--n must be a whole number of draws from {low:,} to {high:,} "
                         f"(as simulation.n in a scenario file), got {args.n:,}")
    tender = read_tender(args.path)
    options = standard_scenarios(tender, None)
    result = simulate(options, n=args.n, seed=args.seed, sampling=args.sampling,
                      budget=args.budget, progress=args.progress)
    print(tender.summary())
    print(f"\n{result.n:,} draws over {result.years} years, {tender.currency}, seed {args.seed}")
    summary = result.summary()
    money = [c for c in summary.columns if not c.startswith("p_")]
    shown = summary.copy().astype(object)
    shown[money] = summary[money].map(lambda v: f"{v:,.0f}")
    for col in ("p_over_budget", "p_cheapest"):
        if col in summary:
            shown[col] = summary[col].map("{:.1%}".format)
    print(shown.to_string())
    diffs = result.paired_differences()
    print(f"\nPaired differences a - b on the same draws ({tender.currency}):")
    print(diffs.to_string(index=False, formatters={
        **{c: "{:,.0f}".format for c in ("mean_diff", "se", "ci_low", "ci_high")},
        "p_a_cheaper": "{:.1%}".format}))
    cheapest = summary["mean"].idxmin()
    print(f"\nWhat drives the cost of {cheapest} (Spearman rank correlation):")
    print(result.tornado(cheapest).head(8).to_string(index=False, float_format="{:.3f}".format))
    if args.plot:
        import matplotlib.pyplot as plt

        from .io import atomic_path

        fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
        result.plot("compare", ax=ax)
        with atomic_path(args.plot) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        print(f"wrote {args.plot}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import ReportError, render

    try:
        index = render(args.scenario, out=args.out, pdf=args.pdf, progress=args.progress,
                       only=args.only or None, cell_timeout=args.cell_timeout)
    except ReportError as err:
        print(f"error: {err}\nThe previous report in {args.out} was left as it was.",
              file=sys.stderr)
        return 1
    print(f"wrote {index}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import run

    result = run(args.scenario, progress=args.progress)
    book = result.write(args.out)
    for key, value in result.headline().items():
        shown = f"{value:,.2f}" if isinstance(value, float) else "n/a" if value is None else value
        print(f"{key:32s} {shown}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {book} and CSV/PNG files in {args.out}")
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
    p.add_argument("--seed", type=int, default=None, help="seed of the SMAA samples")
    p.add_argument("--csv", default=None, metavar="DIR",
                   help="also write the ranking table as DIR/evaluation.csv")
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
    p.add_argument("--method", default="topsis", help="ranking method for quality scores")
    p.add_argument("--solver", choices=("highs", "cbc"), default="highs")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    p.add_argument("--mip-gap", type=float, default=None, help="relative gap accepted")
    p.add_argument("--rule-costs", action="store_true", help="also price each policy rule")
    p.add_argument("--csv", default=None, metavar="DIR", help="write DIR/award.csv")
    p.set_defaults(func=_cmd_allocate)

    p = sub.add_parser("simulate", help="Monte Carlo cost and risk of the sourcing options",
                       description="Simulate the contract cost of the standard options (in-house, "
                       "single vendor, multi-vendor, hybrid) with common random numbers; "
                       "multi-vendor splits each lot 70/30 between its two cheapest admissible "
                       "bids (use sourcing run for the optimised award).")
    p.add_argument("path", help="tender folder or .xlsx workbook")
    p.add_argument("--n", type=int, default=100_000,
                   help="draws, 100 to 10000000 (default 100000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--sampling", choices=("mc", "lhs", "sobol"), default="mc")
    p.add_argument("--budget", type=float, default=None, help="budget over the horizon, EUR")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--plot", default=None, metavar="PNG", help="save the comparison chart")
    p.set_defaults(func=_cmd_simulate)

    baseline = str(_DEFAULT_SCENARIO)
    p = sub.add_parser("report", help="render the board report (HTML, optional PDF)",
                       description="Execute every notebook under a scenario with papermill and "
                       "render HTML pages without code plus an index page; PDF through headless "
                       "Chromium when installed. The output folder is replaced only when every "
                       "notebook succeeded.")
    p.add_argument("--scenario", default=baseline, help=f"scenario YAML (default {baseline})")
    p.add_argument("--out", default="reports", help="output folder (default reports)")
    p.add_argument("--pdf", action="store_true", help="also print each page to PDF")
    p.add_argument("--only", nargs="*", default=None, metavar="NOTEBOOK",
                   help="render only these notebooks (names without .ipynb)")
    p.add_argument("--cell-timeout", type=int, default=600, help="seconds per cell (default 600)")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("run", help="the whole analysis without notebooks, to Excel/CSV/PNG",
                       description="Rank, allocate, price the policy rules and simulate the "
                       "options of a scenario; write results.xlsx, CSVs and PNGs.")
    p.add_argument("scenario", nargs="?", default=baseline,
                   help=f"scenario YAML (default {baseline})")
    p.add_argument("--out", default="results", help="output folder (default results)")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("template", help="write a blank tender workbook",
                       description="Write a blank .xlsx tender with a README sheet, headers and "
                       "drop-down lists, ready to fill in.")
    p.add_argument("path", help="target .xlsx file")
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
    except ValidationError as err:
        print(str(err), file=sys.stderr)
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
