"""The presentation layer: board formatting rules and the one escaping rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sourcing import present as fmt


@pytest.mark.parametrize("value, currency, expected", [
    (11_512_345, "USD", "USD 11.5M"), (450_000, "GBP", "GBP 450k"), (9_500, "EUR", "EUR 9,500"),
    (-1.42e-14, "EUR", "EUR 0"), (-2_290_000, "CHF", "-CHF 2.3M"), (float("nan"), "EUR", "n/a"),
    (None, "EUR", "n/a"), (math.inf, "EUR", "n/a"),
    (7_169_800_000, "JPY", "JPY 7.17bn"), (999_949_999, "INR", "INR 999.9M"),
    (-1.2e12, "KRW", "-KRW 1,200.00bn"),
])
def test_money(value, currency, expected):
    assert fmt.money(value, currency) == expected


def test_money_apart_of_billions_adds_decimals_then_the_exact_amounts():
    assert fmt.money_apart([7_169_800_000, 7_166_000_000], "JPY") == ["JPY 7.170bn", "JPY 7.166bn"]
    assert fmt.money_apart([7_169_800_000, 7_169_700_000], "JPY") == ["JPY 7,169,800,000",
                                                                       "JPY 7,169,700,000"]


def test_money_ticks_of_billions_read_in_billions():
    from sourcing.plots._style import money_formatter

    assert money_formatter("JPY").format_ticks([6e9, 7e9, 7.5e9]) == ["JPY 6.0bn", "JPY 7.0bn",
                                                                      "JPY 7.5bn"]
    assert money_formatter("JPY").format_ticks([5e8, 1e9]) == ["JPY 500.0M", "JPY 1.0bn"]
    # the sign before the currency, as in the sentences; no "-JPY 0"
    assert money_formatter("JPY").format_ticks([-4e7, 0.0, 1e7]) == ["-JPY 40.0M", "JPY 0", "JPY 10.0M"]
    assert fmt.money(-4e7, "JPY") == "-JPY 40.0M"


def test_money_exact_has_separators_and_no_scientific_notation():
    assert fmt.money(2.29e6, "USD", exact=True) == "USD 2,290,000"
    assert "e+" not in fmt.money(1e21, "USD", exact=True)


@pytest.mark.parametrize("value, expected", [
    (0.543, "54%"), (0.025, "2.5%"), (0.07, "7%"), (0.0001, "< 0.5%"), (0.9999, "> 99.5%"),
    (1.0, "100%"), (0.0, "0%"), (np.float64(0.5), "50%"), (None, "n/a"),
])
def test_percent(value, expected):
    assert fmt.percent(value) == expected


def test_percent_of_percents():
    assert fmt.percent(85, of=100) == "85%"


def test_text_hides_python_values():
    assert [fmt.text(v) for v in (True, False, None, np.nan, pd.NA, 1e-14, 2.29e6, 7)] == [
        "yes", "no", "n/a", "n/a", "n/a", "0.00", "2,290,000", "7"]


def test_count_and_listing():
    assert fmt.count(4, "vendor") == "four vendors"
    assert fmt.count(1, "criterion", "criteria") == "one criterion"
    assert fmt.count(20, "lot") == "20 lots"
    assert fmt.listing(["A", "B", "C"]) == "A, B and C"
    assert fmt.listing([]) == "none"


def test_labels_name_drivers_and_ids():
    names = fmt.Names({"V03": "Acme", "L1": "Service desk"})
    assert fmt.label("fx[INR]") == "Exchange rates: INR"
    assert fmt.label("failure[V03]", names=names) == "Failure of vendor: Acme"
    assert fmt.label("sla[V03,L1]", names=names) == "SLA breaches: Acme, Service desk"
    assert fmt.label("growth[L1]", names=names) == "Demand growth: Service desk"
    assert fmt.label("breach_impact") == "Business impact per breached month"
    assert fmt.label("takes_over_above") == "Takes over above"


def test_table_escapes_every_cell_and_header_once():
    frame = pd.DataFrame({"<b>name</b>": ["<script>alert(7)</script>", "=HYPERLINK(\"x\")"],
                          "cost": [1e6, np.nan]}, index=pd.Index(["<i>V1</i>", "V2"], name="id"))
    out = str(fmt.table(frame, {"cost": "money"}, currency="USD"))
    assert "<script>" not in out and "<b>name" not in out and "<i>V1" not in out
    assert "&lt;script&gt;alert(7)&lt;/script&gt;" in out
    assert "&amp;lt;" not in out  # not escaped twice
    assert "USD 1.0M" in out and "n/a" in out and "nan" not in out.lower().replace("n/a", "")


def test_markup_helpers_escape_text_but_keep_markup():
    p = str(fmt.paragraph("a <b>", fmt.html("<em>{}</em>", "<x>")))
    assert p == "<p>a &lt;b&gt; <em>&lt;x&gt;</em></p>"
    assert str(fmt.bullets(["<img src=x onerror=alert(1)>"])) == (
        "<ul><li>&lt;img src=x onerror=alert(1)&gt;</li></ul>")


def test_money_apart_never_shows_two_different_amounts_alike():
    """'costs CHF 32k more (P50 CHF 26.5M against CHF 26.5M)' read as a contradiction: amounts
    shown side by side get the decimals that tell them apart."""
    from sourcing.present import money, money_apart

    assert money_apart([26_532_000, 26_500_000], "CHF") == ["CHF 26.53M", "CHF 26.50M"]
    assert money_apart([30_700_000, 26_500_000], "CHF") == ["CHF 30.7M", "CHF 26.5M"]
    assert money_apart([5_000_000, 5_000_000], "EUR") == [money(5e6, "EUR")] * 2  # equal stay equal
    assert money_apart([26_532_000, 26_532_400], "GBP") == ["GBP 26,532,000", "GBP 26,532,400"]
