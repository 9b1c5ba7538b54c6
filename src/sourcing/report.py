"""Render the board report: execute the notebooks under a scenario, convert them to HTML.

``render`` runs every notebook in ``notebooks/`` with papermill, injecting the scenario file,
seed and output folder into each notebook's ``parameters`` cell; converts the executed notebooks
to HTML without code (nbconvert); writes an ``index.html`` linking them; and prints each page to
PDF through headless Chromium when Chromium is installed (skipped with a message otherwise).

Everything is rendered into a staging folder first and moved into place only when every notebook
succeeded: a failed run leaves the previous report untouched and raises :class:`ReportError`
naming the notebook and the failing cell.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .scenario import Scenario

__all__ = ["NOTEBOOKS", "ReportError", "render"]

#: Notebooks of the report, in reading order, with their titles.
NOTEBOOKS: dict[str, str] = {
    "04_board_scenarios": "Board summary: sourcing options compared",
    "01_tender_evaluation": "Tender evaluation: vendor ranking",
    "02_award_allocation": "Award allocation: who runs which lot",
    "03_risk_simulation": "Risk and cost simulation",
    "05_vendor_performance": "Incumbent SLA performance",
}
_REPO_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ReportError(RuntimeError):
    """A notebook failed: the message names the notebook, the cell and the error."""


def render(
    scenario: Scenario | str | os.PathLike,
    *,
    out: str | os.PathLike = "reports",
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
        Output folder; replaced only when the whole run succeeded.
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

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True)
        pages = []
        for name in names:
            executed = staging / "executed" / f"{name}.ipynb"
            executed.parent.mkdir(exist_ok=True)
            params = {"scenario_file": str(Path(scenario.source).resolve()),
                      "seed": scenario.seed, "out_dir": str(staging / "artefacts")}
            try:
                pm.execute_notebook(
                    str(source_dir / f"{name}.ipynb"), str(executed), parameters=params,
                    kernel_name="python3", language="python", cwd=str(source_dir), progress_bar=progress,
                    execution_timeout=cell_timeout, log_output=False,
                )
            except pm.PapermillExecutionError as err:
                raise ReportError(
                    f"notebook {name} failed in cell {err.exec_count} "
                    f"(code cell {err.cell_index}): {err.ename}: {err.evalue}"
                ) from None
            nb = nbformat.read(executed, as_version=4)
            body, _ = exporter.from_notebook_node(
                nb, resources={"metadata": {"name": f"{NOTEBOOKS[name]} - {scenario.name}"}})
            page = staging / f"{name}.html"
            page.write_text(body, encoding="utf-8")
            pages.append((name, page))
        index = staging / "index.html"
        index.write_text(_index_html(scenario, pages), encoding="utf-8")
        if pdf:
            _print_pdfs([index, *(p for _, p in pages)])
        _replace_dir(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out / "index.html"


def _index_html(scenario: Scenario, pages: list[tuple[str, Path]]) -> str:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    items = "\n".join(
        f'<li><a href="{p.name}">{html.escape(NOTEBOOKS[n])}</a></li>' for n, p in pages)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(scenario.name)} - sourcing report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:3rem auto;line-height:1.5}}
h1{{margin-bottom:.2rem}} .meta{{color:#555}} li{{margin:.4rem 0}}</style></head>
<body><h1>{html.escape(scenario.name)}</h1>
<p class="meta">Scenario {html.escape(Path(scenario.source).name)} &middot; seed {scenario.seed}
&middot; rendered {stamp}</p>
<p>{html.escape(scenario.description)}</p>
<ol>
{items}
</ol></body></html>
"""


def _replace_dir(staging: Path, out: Path) -> None:
    """Move *staging* onto *out*; the old *out* is removed only after the move succeeded."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}-old-{os.getpid()}")
        out.rename(old)
    try:
        staging.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
