"""Render the board report: execute the notebooks under a scenario, convert them to HTML.

``render`` runs the analysis once (:func:`sourcing.pipeline.run`, every stage the pages present),
writes the results workbook, figures and ``summary.json`` into ``artefacts/``, the walking-weights
page (:mod:`sourcing.weight_walk`) beside the pages and the run's stage cache into ``.run/``; then
executes every notebook in ``notebooks/`` with papermill, injecting the scenario file, seed and
that run folder into each notebook's ``parameters`` cell, so the pages
present the run and solve nothing again; converts the executed notebooks to HTML without code
(nbconvert); writes an ``index.html`` that is the executive summary (tender, scenario, headline
numbers and the recommendation in words, then the pages and files); and prints each page to PDF
through headless Chromium when Chromium is installed (skipped with a message otherwise).  A
rerun of an unchanged scenario reads the previous report's run folder and is near-instant.

A page whose data the scenario does not have (the incumbent's performance logs) is skipped, and
the index says which and why.  Everything is rendered into a staging folder and published by
:func:`sourcing.outputs.staged` only when every page succeeded: a failed run leaves the previous
report untouched and raises :class:`ReportError` naming the notebook and the failing cell; a
folder that holds files sourcing did not write is refused unless ``force=True``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import shutil
import subprocess
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from . import present as fmt
from .outputs import staged
from .scenario import Scenario
from .weight_walk import walk_page

__all__ = ["NOTEBOOKS", "PAGE_STAGES", "WALK_PAGE", "ReportError", "render", "skip_reason"]

#: Notebooks of the report, in reading order, with their titles.
NOTEBOOKS: dict[str, str] = {
    "04_board_scenarios": "Board summary: sourcing options compared",
    "01_tender_evaluation": "Tender evaluation: vendor ranking",
    "02_award_allocation": "Award allocation: who runs which lot",
    "03_risk_simulation": "Risk and cost simulation",
    "05_vendor_performance": "Incumbent SLA performance",
    "07_decision_map": "Decision map: where the recommendation flips",
}

#: The stages each page presents (it reads them from the report's run folder).
PAGE_STAGES: dict[str, tuple[str, ...]] = {
    "04_board_scenarios": ("acceptability", "rule_costs", "performance", "decide", "break_even"),
    "01_tender_evaluation": ("acceptability", "sensitivity"),
    "02_award_allocation": ("rule_costs", "frontier"),
    "03_risk_simulation": ("decide", "drivers"),
    "05_vendor_performance": ("performance",),
    "07_decision_map": ("tender",),  # its sweep runs in the page, into the run folder
}
#: Stages computed after the pages that need none of them have started.
_LATE = ("risk_award", "simulate", "decide", "drivers")

#: What a page needs from the scenario: a function returning why it must be skipped, or None.
_NEEDS: dict[str, Callable[[Scenario], str | None]] = {
    "05_vendor_performance": lambda s: None if s.performance is not None else (
        "the scenario names no performance data of the incumbent (key 'performance')"),
    "07_decision_map": lambda s: None if s.sweep is not None else (
        "the scenario names no sweep (key 'sweep')"),
}
#: Pages that present a sweep: the sweep's own seed holds (they are given none).
_SWEEP_PAGES = ("07_decision_map",)
#: The sweep's tables a report's files list (copied from its run folder).
_SWEEP_FILES = ("decision_map.xlsx", "decision_table.csv")
#: The walking-weights page of a report (sliders that re-rank the vendors in the browser).
WALK_PAGE = "walking-weights.html"
#: Name of the run folder (the stage cache) inside a report.
RUN_FOLDER = ".run"
_REPO_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ReportError(RuntimeError):
    """A notebook failed: the message names the notebook, the cell and the error."""


def skip_reason(name: str, scenario: Scenario) -> str | None:
    """Why page *name* cannot be rendered for *scenario* (missing data), or None."""
    need = _NEEDS.get(name)
    return need(scenario) if need else None


def render(
    scenario: Scenario | str | os.PathLike,
    *,
    out: str | os.PathLike = "reports",
    force: bool = False,
    notebooks: str | os.PathLike | None = None,
    only: Sequence[str] | None = None,
    pdf: bool = False,
    progress: bool = False,
    cell_timeout: int = 600,
) -> Path:
    """Execute the report notebooks under *scenario* and write HTML (and PDF) into *out*.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario (or its YAML file) whose parameters the notebooks receive.
    out : path
        Output folder; its previous report is replaced only when the whole run succeeded.  A
        folder holding files sourcing did not write is refused (:class:`~sourcing.outputs.
        OutputError`) unless *force*; those files are never deleted.
    force : bool
        Write into a folder that holds other files (they are kept).
    notebooks : path, optional
        Folder holding the ``.ipynb`` files; default the repository's ``notebooks/``.
    only : sequence of str, optional
        Subset of :data:`NOTEBOOKS` names to render.
    pdf : bool
        Also print every page to PDF with headless Chromium, if installed.
    progress : bool
        Show papermill's progress bar.
    cell_timeout : int
        Seconds one cell may run before the run fails.

    Returns
    -------
    Path
        The report's ``index.html``.
    """
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    if not scenario.source:
        raise ValueError("the scenario must come from a file (Scenario.load) so notebooks can read it")
    source_dir = Path(notebooks) if notebooks else _REPO_NOTEBOOKS
    names = list(only) if only else list(NOTEBOOKS)
    unknown = [n for n in names if n not in NOTEBOOKS]
    if unknown:
        raise ValueError(f"unknown notebook(s) {', '.join(unknown)}; valid: {', '.join(NOTEBOOKS)}")
    missing = [n for n in names if not (source_dir / f"{n}.ipynb").is_file()]
    if missing:
        raise FileNotFoundError(f"notebook(s) not found in {source_dir}: {', '.join(missing)}")

    from .cache import StageCache
    from .pipeline import REPORT_STAGES, closure, run

    out = Path(out).absolute()

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    with _quiet_papermill(), staged(out, force=force) as staging:
        run_dir = staging / RUN_FOLDER
        cache = StageCache(run_dir, previous=out / RUN_FOLDER)
        scenario_file = _scenario_file(scenario, run_dir)
        pages, skipped, todo = [], [], []
        for name in names:
            reason = skip_reason(name, scenario)
            if reason:
                skipped.append((name, reason))
            else:
                todo.append(name)
        (staging / "executed").mkdir()
        params = {"scenario_file": scenario_file, "seed": scenario.seed, "run_dir": str(run_dir)}

        def execute(name: str) -> Path:
            executed = staging / "executed" / f"{name}.ipynb"
            pm.execute_notebook(
                str(source_dir / f"{name}.ipynb"), str(executed),
                parameters={**params, "seed": None} if name in _SWEEP_PAGES else params,
                # no cwd: papermill would chdir the whole process, and pages run side by side
                # (every path a page gets is absolute)
                kernel_name="python3", language="python", progress_bar=False,
                execution_timeout=cell_timeout, log_output=False,
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],  # no transport warning
            )
            return executed

        # Each stage runs once, here; the pages only present the run, each in a kernel of its own.
        # Pages that need no risk-aware award start as soon as their stages are done and render
        # while the risk-aware award and the simulation are computed.
        early = [n for n in todo if not set(closure(PAGE_STAGES[n])) & set(_LATE)]
        with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1, 4))) as pool:
            run(scenario, stages=sorted({s for n in early for s in PAGE_STAGES[n]}) or ["tender"],
                cache=cache, progress=progress)
            futures = {name: pool.submit(execute, name) for name in early}
            result = run(scenario, stages=REPORT_STAGES, cache=cache, progress=progress)
            result.write(staging / "artefacts")
            (staging / WALK_PAGE).write_text(walk_page(
                result.evaluation, title=result.tender.name, scenario=scenario.name,
                groups=result.tender.criteria["group"].astype(str).to_dict()), encoding="utf-8")
            futures |= {name: pool.submit(execute, name) for name in todo if name not in early}
        for name in todo:  # the first page that failed, in reading order
            try:
                executed = futures[name].result()
            except pm.PapermillExecutionError as err:
                raise ReportError(
                    f"notebook {name} failed in cell {err.exec_count} "
                    f"(code cell {err.cell_index}): {err.ename}: {err.evalue}"
                ) from None
            nb = nbformat.read(executed, as_version=4)
            body, _ = exporter.from_notebook_node(
                nb, resources={"metadata": {"name": f"{NOTEBOOKS[name]} - {scenario.name}"}})
            page = staging / f"{name}.html"
            page.write_text(body.replace("</head>", _PRINT_STYLE + "</head>", 1), encoding="utf-8")
            pages.append((name, page))
        sweep_files = run_dir / "sweep"  # a decision-map page's sweep: its tables beside the rest
        for f in _SWEEP_FILES:
            if (sweep_files / f).is_file():
                shutil.copyfile(sweep_files / f, staging / "artefacts" / f)
        if pdf:
            _print_pdfs([p for _, p in pages])
        index = staging / "index.html"
        index.write_text(_index_html(scenario, pages, skipped, staging / "artefacts"), encoding="utf-8")
        if pdf:
            _print_pdfs([index])
    return out / "index.html"


def _scenario_file(scenario: Scenario, run_dir: Path) -> str:
    """The file the pages load *scenario* from: its own, or (when it was changed after loading)
    a copy of it as run, in the run folder, so the pages find the run's stages."""
    own = Path(scenario.source).resolve()
    if Scenario.load(own).model_dump(mode="json") == scenario.model_dump(mode="json"):
        return str(own)
    copy = run_dir / "scenario.yaml"
    run_dir.mkdir(parents=True, exist_ok=True)
    copy.write_text(scenario.to_yaml(), encoding="utf-8")
    return str(copy)


@contextmanager
def _quiet_papermill():
    """While rendering: no transport warnings or parameter-parsing chatter from papermill and
    jupyter_client.  The logger levels, warning filters and environment are restored after, so a
    program that calls :func:`render` keeps its own."""
    loggers = [logging.getLogger(name) for name in ("papermill", "papermill.translators")]
    levels = [lg.level for lg in loggers]
    platform_dirs = os.environ.get("JUPYTER_PLATFORM_DIRS")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*running over TCP.*")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)
            if platform_dirs is None:
                os.environ.pop("JUPYTER_PLATFORM_DIRS", None)


#: Print (PDF): long output blocks (a summary with its findings) may break across pages, where
#: JupyterLab's print style kept each whole and left a near-empty first page; wide tables wrap
#: instead of hiding columns behind a scroll bar.
_PRINT_STYLE = ("<style>@media print{.jp-OutputArea-child{break-inside:auto}"
                ".jp-OutputArea-output{overflow:visible!important}"
                "table.sourcing{font-size:8.5pt}"
                "table.sourcing td,table.sourcing th{white-space:normal!important}}</style>")

_STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:52rem;
margin:2.5rem auto;padding:0 1rem;line-height:1.5;color:#1d1d1f}
h1{margin-bottom:.1rem} .meta{color:#555;margin-top:0} .recommend{font-size:1.15rem;
background:#eef4fb;border-left:4px solid #2f6db5;padding:.8rem 1rem}
table.sourcing{border-collapse:collapse;margin:.8rem 0} table.sourcing th,table.sourcing td{
padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left} td.num{text-align:right;
font-variant-numeric:tabular-nums} li{margin:.3rem 0} .skipped{color:#666}"""


def _index_html(scenario: Scenario, pages: list[tuple[str, Path]], skipped: list[tuple[str, str]],
                artefacts: Path) -> str:
    """The executive summary: generated sentences from the run's ``summary.json``, then links."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = {}
    if (artefacts / "summary.json").is_file():
        summary = json.loads((artefacts / "summary.json").read_text(encoding="utf-8"))
    title = summary.get("tender") or scenario.name
    parts = [fmt.heading(1, title),
             fmt.html('<p class="meta">Scenario {} &middot; seed {} &middot; rendered {}</p>',
                      scenario.name, str(scenario.seed), stamp)]
    if scenario.description:
        parts.append(fmt.paragraph(scenario.description))
    if summary.get("recommendation"):
        parts.append(fmt.html('<p class="recommend">{}</p>', summary["recommendation"]))
    if summary.get("findings"):
        parts += [fmt.heading(2, "Key findings"), fmt.bullets(summary["findings"])]
    parts.append(fmt.heading(2, "Pages"))
    items = [fmt.html('<a href="{}">{}</a>', p.name, NOTEBOOKS[n]) for n, p in pages]
    if (artefacts.parent / WALK_PAGE).is_file():
        items.insert(min(2, len(items)), fmt.html(
            '<a href="{}">Walk the weights</a>: move the criteria weights and watch the vendor '
            'ranking change, in the browser, offline', WALK_PAGE))
    items += [fmt.html('<span class="skipped">{} &mdash; not rendered: {}</span>', NOTEBOOKS[n], why)
              for n, why in skipped]
    parts.append(fmt.bullets(items))
    files = [(f"artefacts/{f}", label) for f, label in (
        ("results.xlsx", "Results workbook (Excel)"),
        ("decision_map.xlsx", "Decision map: every point of the sweep (Excel)"))
        if (artefacts / f).is_file()]
    files += [(p.with_suffix(".pdf").name, f"{NOTEBOOKS[n]} (PDF)") for n, p in pages
              if p.with_suffix(".pdf").is_file()]
    if files:
        parts += [fmt.heading(2, "Files"),
                  fmt.bullets([fmt.html('<a href="{}">{}</a>', href, text) for href, text in files])]
    body = fmt.Markup("\n").join(parts)
    return str(fmt.html('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                        '<title>{} - sourcing report</title><style>{}</style></head>\n'
                        '<body>\n{}\n</body></html>\n', title, fmt.Markup(_STYLE), body))


def _print_pdfs(pages: list[Path]) -> None:
    browser = next((b for b in map(shutil.which, _CHROMIUM) if b), None)
    if browser is None:
        print("PDF skipped: Chromium is not installed (apt-get install chromium)")
        return
    for page in pages:
        target = page.with_suffix(".pdf")
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={page.parent / '.chromium'}", "--no-pdf-header-footer",
             f"--print-to-pdf={target}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    shutil.rmtree(pages[0].parent / ".chromium", ignore_errors=True)
