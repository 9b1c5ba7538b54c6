"""The walking-weights page: its data in Python, its engine in a real browser.

The browser tests drive headless Chromium (Debian's ``chromium``) through Playwright and compare
the page's scores, ranks and stability bands with :func:`sourcing.scoring.rank` and
:func:`sourcing.scoring.weight_stability` for random weights.  Without Chromium they are skipped,
unless ``SOURCING_BROWSER_TESTS=1`` (set by CI), where a missing browser fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import numpy as np
import pytest

from sourcing.scoring import evaluate, rank, weight_stability
from sourcing.scoring.methods import minmax_normalize
from sourcing.weight_walk import walk_data, walk_page

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

HOSTILE = '</script><img src=x onerror="document.title=1"><!--'


@pytest.fixture(scope="module")
def tender(tmp_path_factory):
    """A made-up JPY tender (6 bidders, 12 criteria), one vendor with a hostile name."""
    from tenders import make_tender

    from sourcing import read_tender

    names = ["Tokai Systems", HOSTILE, "Kansai Data", "Hokuriku Net", "Sanyo Cloud", "Chubu IT"]
    path = make_tender(tmp_path_factory.mktemp("jpy") / "t", currency="JPY", n_vendors=6, n_lots=2,
                       n_criteria=12, seed=21, names=names)
    return read_tender(path)


CASES = {"topsis": {}, "topsis-minmax": {"normalization": "minmax"}, "wsm": {}, "promethee": {},
         "vikor": {}}  # vikor: the page re-ranks with WSM


def _evaluation(tender, case):
    return evaluate(tender, method=case.split("-")[0], gates=False, **CASES[case])


def test_data_holds_the_matrix_the_method_works_from(tender):
    ev = evaluate(tender, method="wsm", gates=False)
    data = walk_data(ev)
    obj = np.where(ev.objectives == "max", 1.0, -1.0)
    np.testing.assert_allclose(data["matrix"], minmax_normalize(ev.matrix.to_numpy(float), obj))
    assert data["weights"] == pytest.approx(ev.weights.tolist()) and sum(data["weights"]) == pytest.approx(1)
    vikor = walk_data(evaluate(tender, method="vikor", gates=False))
    assert (vikor["method"], vikor["ranked_by"]) == ("wsm", "vikor")
    page = walk_page(evaluate(tender, method="vikor", gates=False), title="Tokai")
    assert "re-ranks with the weighted sum (WSM)" in page


def test_embedded_text_cannot_end_the_script(tender):
    page = walk_page(evaluate(tender, method="topsis", gates=False), title=HOSTILE, scenario=HOSTILE)
    assert "<img" not in page and page.count("</script>") == 2
    blob = re.search(r'<script type="application/json" id="walk-data">(.*?)</script>', page, re.S)
    assert json.loads(blob.group(1))["vendor_names"][1] == HOSTILE


def test_every_resource_is_inline(tender):
    page = walk_page(evaluate(tender, method="promethee", gates=False), title="Tokai")
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)
    assert "default-src 'none'" in page  # the browser itself refuses any fetch


# ---------------------------------------------------------------------------- in the browser
def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)


@pytest.fixture(scope="module")
def browser():
    required = os.environ.get("SOURCING_BROWSER_TESTS") == "1"
    binary = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        binary = None
    if binary is None:
        if required:
            pytest.fail("SOURCING_BROWSER_TESTS=1 but Chromium or Playwright is missing "
                        "(apt-get install chromium; pip install -e '.[dev]')")
        pytest.skip("Chromium or Playwright not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, html, tmp_path):
    path = tmp_path / "walk.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("window.sourcingWalk && window.sourcingWalk.last")
    return page, requests, errors


@pytest.mark.parametrize("case", list(CASES))
def test_the_page_ranks_as_rank_does_for_random_weights(browser, tender, tmp_path, case):
    ev = _evaluation(tender, case)
    data = walk_data(ev)
    page, requests, errors = _open(browser, walk_page(ev, title=tender.name), tmp_path)
    params = data["params"]
    rng = np.random.default_rng(hash(case) % 2**32)
    crits = list(ev.weights.index)
    for w in [np.asarray(data["weights"])] + list(rng.dirichlet(np.ones(len(crits)), size=12)):
        got = page.evaluate("w => { sourcingWalk.setWeights(w); return sourcingWalk.last; }", w.tolist())
        want = rank(ev.matrix, ev.objectives, w, method=data["method"], **params)
        np.testing.assert_allclose(got["scores"], want.scores.to_numpy(), rtol=0, atol=1e-9)
        assert got["ranks"] == want.ranks.tolist()
    # the bands at the tender's weights are weight_stability's
    page.click("#reset")
    got = page.evaluate("() => sourcingWalk.last")
    st = weight_stability(ev.matrix, ev.objectives, ev.weights, method=data["method"], **params)
    np.testing.assert_allclose(np.asarray(got["intervals"]), st.intervals[["lower", "upper"]].to_numpy(),
                               atol=2e-6)
    assert errors == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    page.close()


def test_a_moved_slider_re_ranks_the_table(browser, tender, tmp_path):
    ev = _evaluation(tender, "topsis")
    page, _, errors = _open(browser, walk_page(ev, title=tender.name), tmp_path)
    crit = ev.weights.idxmin()
    page.locator(f'input[data-criterion="{crit}"]').fill("600")  # 60 %, by the user's slider
    got = page.evaluate("() => sourcingWalk.last")
    w = np.asarray(got["weights"])
    assert w[list(ev.weights.index).index(crit)] == pytest.approx(0.6)
    assert w.sum() == pytest.approx(1.0)
    want = rank(ev.matrix, ev.objectives, w, method="topsis")
    rows = page.locator("#ranking tbody tr").evaluate_all("rs => rs.map(r => r.dataset.vendor)")
    assert rows == list(want.ranks.sort_values(kind="stable").index)
    names = page.locator("#ranking tbody tr td:nth-child(2)").all_inner_texts()
    assert HOSTILE in names and page.locator("img").count() == 0  # the hostile name is text
    assert "ranks first" in page.inner_text("#verdict") or "tie" in page.inner_text("#verdict")
    assert errors == []
    page.close()


def test_each_group_has_one_heading(tender, browser, tmp_path):
    ev = evaluate(tender, method="promethee", gates=False)
    crits = list(ev.weights.index)
    groups = {c: ("odd" if i % 2 else "even") for i, c in enumerate(crits)}  # interleaved
    data = walk_data(ev, groups=groups)
    assert data["groups"] == sorted(data["groups"], key=data["groups"].index)  # contiguous
    w = dict(zip(data["criteria"], data["weights"], strict=True))
    assert w == pytest.approx(ev.weights.to_dict())  # the same weights, regrouped
    page, _, errors = _open(browser, walk_page(ev, title="Tokai", groups=groups), tmp_path)
    assert page.locator(".group").all_inner_texts() == ["Even", "Odd"]
    got = page.evaluate("() => sourcingWalk.last")
    np.testing.assert_allclose(got["scores"], ev.scores.to_numpy(), atol=1e-9)
    assert errors == []
    page.close()
