"""The one presentation layer: how numbers, names and tables look to a reader.

Every figure that reaches a board page, the console, the results workbook or a plot label goes
through these functions, so the rules hold in one place:

* **money** in the tender's currency with thousands separators, ``M``/``k`` for large sums
  (``money(11_512_345, "USD")`` -> ``"USD 11.5M"``), exact amounts with ``exact=True``;
* **percentages** as percents (``percent(0.543)`` -> ``"54%"``, 0.5-point resolution below 10 %,
  ``"< 0.5%"`` / ``"> 99.5%"`` rather than a rounded 0 or 100);
* **no** ``NaN``, ``None``, ``True``/``False``, scientific notation or object reprs: missing values
  read ``"n/a"``, booleans ``"yes"``/``"no"``;
* **names, not ids**: :func:`label` turns model drivers and input names (``fx[INR]``,
  ``breach_impact``) into words, :class:`Names` maps vendor, lot and criterion ids to names;
* **HTML is escaped once, here**: :func:`escape` (MarkupSafe) is the only escaping rule; text
  built with :func:`html` / :func:`paragraph` / :func:`bullets` / :func:`table` is safe markup
  (:class:`Markup`) and is never escaped twice; every other string is escaped when it meets
  markup.

Functions take plain values and return ``str`` (or ``Markup``); they never raise on a missing
value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Number
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

__all__ = [
    "Markup", "Names", "bullets", "count", "escape", "display_frame", "group_title", "heading", "html",
    "label",
    "listing", "money", "notes_as_text", "number", "paragraph", "percent", "show", "table", "text",
    "text_problems",
    "visible_text", "yes_no",
]

NA = "n/a"
_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve")


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, str | bytes) else False
    except (TypeError, ValueError):
        return False


def _finite(value: object) -> float | None:
    if _is_missing(value) or isinstance(value, bool | np.bool_):
        return None
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------- numbers
def number(value: object, *, decimals: int = 0) -> str:
    """A plain number with thousands separators, never in scientific notation.

    ``number(1234567.8)`` -> ``"1,234,568"``; ``number(0.125, decimals=2)`` -> ``"0.13"``;
    ``-0`` prints as ``"0"``; missing or infinite values print ``"n/a"``.
    """
    x = _finite(value)
    if x is None:
        return NA
    out = f"{x:,.{decimals}f}"
    return out[1:] if re.fullmatch(r"-0(\.0*)?", out) else out


def money(value: object, currency: str, *, exact: bool = False, decimals: int | None = None) -> str:
    """An amount of money in *currency*: ``"USD 2.9M"``, ``"GBP 450k"``, ``"CHF 9,500"``,
    ``"JPY 7.17bn"``.

    Parameters
    ----------
    value : number
        Amount in the tender currency.
    currency : str
        ISO code shown before the amount.
    exact : bool
        Full amount with thousands separators (``"USD 2,912,345"``) instead of ``M``/``k``.
    decimals : int, optional
        Decimals of an exact amount (default 0), of the ``k`` figure (default 0), the ``M``
        figure (default 1) or the ``bn`` figure (default 2).

    Examples
    --------
    >>> money(1_234_567, "GBP"), money(1_234_567, "GBP", exact=True), money(450_000, "JPY")
    ('GBP 1.2M', 'GBP 1,234,567', 'JPY 450k')
    >>> money(7_169_800_000, "JPY"), money(-12_345_678_901, "INR")
    ('JPY 7.17bn', '-INR 12.35bn')
    """
    x = _finite(value)
    if x is None:
        return NA
    sign, x = ("-" if x < 0 else ""), abs(x)
    if exact or x < 10_000:
        body = number(x, decimals=decimals or 0)
    elif x < 1_000_000:
        body = f"{number(x / 1e3, decimals=decimals or 0)}k"
    elif x < 1_000_000_000:
        body = f"{number(x / 1e6, decimals=1 if decimals is None else decimals)}M"
    else:  # a board reads billions (yen, rupees, large contracts) as billions
        body = f"{number(x / 1e9, decimals=2 if decimals is None else decimals)}bn"
    if re.fullmatch(r"0(\.0*)?(k|M|bn)?", body):
        sign = ""
    return f"{sign}{currency} {body}"


def money_apart(values: Sequence[object], currency: str) -> list[str]:
    """Amounts shown side by side (``"CHF 26.53M against CHF 26.50M"``): as :func:`money`, with
    decimals added until amounts that differ read differently (exact amounts at the most).

    Examples
    --------
    >>> money_apart([26_532_000, 26_500_000], "CHF")
    ['CHF 26.53M', 'CHF 26.50M']
    """
    def shown(decimals: int | None) -> list[str]:
        return [money(v, currency, decimals=decimals) for v in values]

    def apart(texts: list[str]) -> bool:
        pairs = {(round(float(v), 6), t) for v, t in zip(values, texts, strict=True)
                 if _finite(v) is not None}
        return len({t for _, t in pairs}) == len({v for v, _ in pairs})

    for decimals in (None, 2, 3):
        texts = shown(decimals)
        if apart(texts):
            return texts
    return [money(v, currency, exact=True) for v in values]


def percent(value: object, *, of: float = 1.0, decimals: int | None = None) -> str:
    """A fraction (or a percent with ``of=100``) as a percent: ``"54%"``, ``"2.5%"``, ``"< 0.5%"``.

    Below 10 % the resolution is half a point; a value that is not exactly 0 or 1 never prints as
    ``"0%"`` or ``"100%"`` (it reads ``"< 0.5%"`` / ``"> 99.5%"``).  *decimals* forces a fixed
    number of decimals.

    Examples
    --------
    >>> percent(0.025), percent(0.001), percent(54.2, of=100)
    ('2.5%', '< 0.5%', '54%')
    """
    x = _finite(value)
    if x is None:
        return NA
    p = x * 100.0 / of
    if decimals is not None:
        return f"{number(p, decimals=decimals)}%"
    if p == 0:
        return "0%"
    if 0 < p < 0.5:
        return "< 0.5%"
    if 99.5 < p < 100:
        return "> 99.5%"
    if abs(p) < 10:
        half = round(p * 2) / 2
        return f"{number(half, decimals=0 if half.is_integer() else 1)}%"
    return f"{number(p)}%"


def yes_no(value: object) -> str:
    """``"yes"`` / ``"no"`` for a truth value, ``"n/a"`` when missing."""
    if _is_missing(value):
        return NA
    return "yes" if bool(value) else "no"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``count(4, "vendor")`` -> ``"four vendors"``; ``count(1, "lot")`` -> ``"one lot"``;
    numbers above twelve as digits."""
    n = int(n)
    word = _WORDS[n] if 0 <= n < len(_WORDS) else number(n)
    return f"{word} {noun if n == 1 else plural or noun + 's'}"


def listing(items: Iterable[object], *, conjunction: str = "and") -> str:
    """``"A, B and C"`` (items as text; empty -> ``"none"``)."""
    words = [text(i) for i in items]
    if not words:
        return "none"
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def text(value: object) -> str:
    """Any cell value as reader text: numbers without scientific notation, booleans yes/no,
    missing values ``"n/a"``, everything else ``str``."""
    if _is_missing(value):
        return NA
    if isinstance(value, bool | np.bool_):
        return yes_no(value)
    if isinstance(value, int | np.integer):
        return number(value)
    if isinstance(value, Number):
        x = float(value)  # type: ignore[arg-type]
        if not math.isfinite(x):
            return NA
        return number(x, decimals=0 if abs(x) >= 100 or x.is_integer() else 2)
    return str(value)


# ---------------------------------------------------------------------- names
_LABELS = {
    "service": "Service fees", "escalation": "Price indexation", "fx": "Exchange rates",
    "transition": "Transition (one-off)", "governance": "Retained governance",
    "sla_credits": "SLA service credits", "business_impact": "Business impact of SLA breaches",
    "vendor_failure": "Vendor failure and replacement", "security": "Security incidents",
    "attrition": "In-house staff attrition", "other": "Other costs",
    "indexation": "Price indexation rate", "wage_inflation": "In-house wage inflation",
    "governance_share": "Retained governance share", "transition_overrun": "Transition overrun",
    "breach_impact": "Business impact per breached month", "growth": "Demand growth",
    "failure": "Failure of vendor", "sla": "SLA breaches", "extra": "Extra cost",
    "takes_over_above": "Takes over above", "inhouse": "In-house",
    "min_share_pct": "Minimum share of a lot", "max_share_pct": "Maximum share of a lot",
    "min_vendors_per_lot": "Minimum vendors per lot", "max_vendors_per_lot": "Maximum vendors per lot",
    "max_spend_share_pct": "Maximum share of spend with one vendor",
    "quality_floor": "Minimum quality per lot", "budget": "Budget", "p50": "P50 (median)",
    "p90": "P90", "p10": "P10", "p5": "P5", "p95": "P95", "mean": "Mean", "cvar95": "CVaR95",
    "var95": "VaR95", "p_over_budget": "Risk of exceeding the budget",
    "p_cheapest": "Chance of being the cheapest",
    "recommended_option": "Recommended option",
    "recommended_p50": "Recommended option: median cost over the contract (P50)",
    "recommended_p90": "Recommended option: prudent cost over the contract (P90)",
    "recommended_p_over_budget": "Recommended option: risk of exceeding the budget",
    "top_ranked_vendor_id": "Top-ranked vendor (id)", "top_ranked_vendor": "Top-ranked vendor",
    "top_rank_acceptability": "Top-ranked vendor first in (share of weightings)",
    "award_cost_per_year": "Award cost per year", "award_vendors": "Awarded vendors",
    "award_status": "Award status", "cost_of_rule": "Cost of the rule per year",
    "cost_with": "Cost with the rule", "cost_without": "Cost without the rule",
}


@dataclass(frozen=True)
class Names:
    """Names for the ids of one tender (vendors, lots, criteria, in-house).

    ``Names.of(tender)(id)`` returns the name, or the id itself when it is unknown.
    """

    names: Mapping[str, str]

    @classmethod
    def of(cls, tender: Any) -> Names:
        out: dict[str, str] = {"inhouse": "In-house"}
        for frame in (tender.vendors, tender.lots, tender.criteria):
            if "name" in frame.columns:
                out.update({str(k): str(v) for k, v in frame["name"].items() if not _is_missing(v)})
        return cls(out)

    def __call__(self, key: object) -> str:
        return self.names.get(str(key), text(key))

    def label(self, key: str) -> str:
        """:func:`label` with this tender's names for the ids inside brackets."""
        return label(key, names=self)


_ACRONYMS = {"sla", "it", "esg", "iso", "kpi", "ict", "csr"}


def group_title(group: object) -> str:
    """A criterion group's code as a heading: ``sla`` -> ``SLA``, ``price_fit`` -> ``Price fit``;
    a name already capitalised is kept."""
    text = str(group or "").strip()
    if not text or any(ch.isupper() for ch in text):
        return text
    words = [w.upper() if w in _ACRONYMS else w for w in text.replace("_", " ").split()]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def label(key: str, *, names: Names | Mapping[str, str] | None = None) -> str:
    """Readable label of a model driver, input or policy field.

    ``label("fx[INR]")`` -> ``"Exchange rates: INR"``; ``label("failure[V03]", names=...)`` ->
    ``"Failure of vendor: Acme"``; ``label("sla[V01,L2]")`` -> ``"SLA breaches: V01, L2"``;
    an unknown snake_case key becomes words (``"some_thing"`` -> ``"Some thing"``).
    """
    key = str(key)
    lookup = names if names is not None else {}

    def name(k: str) -> str:
        k = k.strip()
        return lookup(k) if isinstance(lookup, Names) else str(lookup.get(k, k))

    m = re.fullmatch(r"([A-Za-z_]+)\[(.*)\]", key)
    if m:
        head, inner = m.groups()
        inner_text = ", ".join(name(p) for p in inner.split(","))
        if head == "growth":
            return f"Demand growth: {inner_text}"
        return f"{_LABELS.get(head, head.replace('_', ' ').capitalize())}: {inner_text}"
    if key in _LABELS:
        return _LABELS[key]
    if isinstance(lookup, Names) and key in lookup.names or key in lookup:
        return name(key)
    if "_" in key or key.islower():
        return key.replace("_", " ").capitalize()
    return key


# ---------------------------------------------------------------------- tables
def display_frame(frame: pd.DataFrame, formats: Mapping[str, Any] | None = None, *,
                  currency: str | None = None, names: Names | None = None,
                  index: bool = True) -> pd.DataFrame:
    """A copy of *frame* with every cell as reader text (for HTML, console or a plot table).

    Parameters
    ----------
    frame : DataFrame
    formats : mapping, optional
        Column -> ``"money"``, ``"money_exact"``, ``"percent"`` (fractions), ``"pct"`` (percents),
        ``"number"``, ``"count"``, ``"name"`` (ids to names), ``"text"`` or a callable.  Columns not
        named are shown with :func:`text`.
    currency : str, optional
        Needed by the money formats.
    names : Names, optional
        Maps ids in ``"name"`` columns, and in the index, to names.
    index : bool
        Keep the index (its values mapped to names when *names* is given).
    """
    formats = dict(formats or {})
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        fmt = formats.get(col, "text")
        s = frame[col]
        f = fmt if callable(fmt) else _formatter(fmt, col, currency=currency, names=names,
                                                 column=s)
        out[col] = [f(v) for v in s]
    if index and names is not None:
        out.index = [names(i) for i in frame.index]
    elif index:
        out.index = [text(i) for i in frame.index]
    out.index.name = frame.index.name
    return out if index else out.reset_index(drop=True)


def _column_decimals(column: pd.Series | None) -> int:
    """Decimals that suit a whole numeric column: 2 when its values are small, else 0."""
    values = pd.to_numeric(column, errors="coerce") if column is not None else pd.Series(dtype=float)
    values = values[np.isfinite(values)] if len(values) else values
    return 2 if len(values) and values.abs().max() < 10 else 0


#: Format names of :func:`display_frame` whose cells are numbers (right-aligned by :func:`table`).
_NUMERIC_FORMATS = ("money", "money_exact", "percent", "pct", "number", "count")


def _formatter(kind: str, col: object, *, currency: str | None, names: Names | None,
               column: pd.Series | None = None):
    """The cell formatter of a :func:`display_frame` format name (``number`` uses the same
    decimals down the whole column)."""
    decimals = _column_decimals(column) if kind == "number" else 0
    if kind in ("money", "money_exact") and currency is None:
        raise ValueError(f"display_frame: column {col!r} is money; give currency=")
    table = {
        "money": lambda v: money(v, currency),
        "money_exact": lambda v: money(v, currency, exact=True),
        "percent": percent, "pct": lambda v: percent(v, of=100.0),
        "number": lambda v: number(v, decimals=decimals),
        "count": number, "name": names if names is not None else text, "text": text,
    }
    if kind not in table:
        raise ValueError(f"display_frame: unknown format {kind!r} for column {col!r}; valid: "
                         + ", ".join(table) + " or a callable")
    return table[kind]


#: Most rows and columns a page table shows; a larger one shows its first ones (the frames
#: come best first) and says how many more the results workbook holds.
MAX_TABLE_ROWS = 40
MAX_TABLE_COLUMNS = 16


def table(frame: pd.DataFrame, formats: Mapping[str, Any] | None = None, *,
          currency: str | None = None, names: Names | None = None, index: bool = True,
          columns: Mapping[str, str] | None = None, caption: str | None = None,
          index_label: str | None = None) -> Markup:
    """An escaped HTML table of *frame*: cells as :func:`display_frame`, headers renamed by
    *columns* (default :func:`label` of each column), the index headed *index_label* (default
    :func:`label` of its name).  Text is left-aligned, numbers right-aligned.  At most
    :data:`MAX_TABLE_ROWS` rows and :data:`MAX_TABLE_COLUMNS` columns are shown, with a line
    saying how many more there are."""
    more_rows, more_cols = len(frame) - MAX_TABLE_ROWS, frame.shape[1] - MAX_TABLE_COLUMNS
    frame = frame.iloc[:MAX_TABLE_ROWS, :MAX_TABLE_COLUMNS]
    shown = display_frame(frame, formats, currency=currency, names=names, index=index)
    heads = [(columns or {}).get(c, label(str(c))) for c in shown.columns]
    parts = ['<table class="sourcing">']
    if caption:
        parts.append(f"<caption>{escape(caption)}</caption>")
    index_head = index_label if index_label is not None else (
        label(str(shown.index.name)) if index and shown.index.name else "")
    fmts = dict(formats or {})
    numeric = [fmts.get(c) in _NUMERIC_FORMATS or (
        fmts.get(c) is None and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])) for c in frame.columns]
    left, right = "text-align:left", "text-align:right;white-space:nowrap"
    # headers wrap (a long one would widen its column past the page); amounts never break
    cells = ([f'<th style="{left}">{escape(index_head)}</th>'] if index else []) + [
        f'<th style="{"text-align:right" if numeric[j] else left}">{escape(h)}</th>'
        for j, h in enumerate(heads)]
    parts.append("<thead><tr>" + "".join(cells) + "</tr></thead><tbody>")
    for key, row in shown.iterrows():
        tds = ([f'<th style="{left}">{escape(key)}</th>'] if index else []) + [
            f'<td class="num" style="{right}">{escape(v)}</td>' if numeric[j]
            else f'<td style="{left}">{escape(v)}</td>'
            for j, v in enumerate(row)]
        parts.append("<tr>" + "".join(tds) + "</tr>")
    parts.append("</tbody></table>")
    cut = [count(n, what) for n, what in ((more_rows, "more row"), (more_cols, "more column"))
           if n > 0]
    if cut:
        parts.append(f'<p class="more">{escape(listing(cut))} not shown: all are in the results '
                     "workbook.</p>")
    return Markup("".join(parts))


# ---------------------------------------------------------------------- markup
def html(template: str, /, *args: object, **kwargs: object) -> Markup:
    """Markup from a trusted *template* (``str.format`` style) with every argument escaped."""
    return Markup(template).format(*args, **kwargs)


def paragraph(*parts: object) -> Markup:
    """``<p>`` of the parts (text escaped, Markup kept) joined by spaces."""
    return Markup("<p>{}</p>").format(Markup(" ").join(parts))


def bullets(items: Sequence[object]) -> Markup:
    """``<ul>`` of the items (text escaped, Markup kept)."""
    return Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(i) for i in items))


def heading(level: int, title: object) -> Markup:
    """``<hN>`` with the escaped title."""
    return Markup(f"<h{int(level)}>{{}}</h{int(level)}>").format(title)


def show(*parts: object) -> None:
    """Display markup (and text, escaped) in a notebook as one HTML block."""
    from IPython.display import HTML, display

    display(HTML(str(Markup("\n").join(parts))))


# ---------------------------------------------------------------------- checking pages
_ISO = ("EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "INR", "JPY", "CNY", "AUD", "CAD",
        "CZK", "HUF", "RON", "BRL", "MXN", "ZAR", "SGD", "HKD")
_RULES = (
    (r"\bnan\b|\bNaN\b", "NaN shown"), (r"\bNone\b", "None shown"),
    (r"\bTrue\b|\bFalse\b", "True/False shown"), (r"\b\d+(?:\.\d+)?e[+-]\d+\b", "scientific notation"),
    (r"\b[A-Z]\w+\([a-z_]+=", "object repr"), (r" object at 0x", "object repr"),
    (r"(?:/tmp/|/work/|/home/|/root/|[A-Z]:\\)", "local file path"),
)


def visible_text(page: str) -> str:
    """The text a reader sees in an HTML page (no tags, scripts, styles or embedded images)."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style"):
                self.skip += 1

        def handle_endtag(self, tag):
            if tag in ("script", "style") and self.skip:
                self.skip -= 1

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


def text_problems(text: str, *, currency: str, forbidden: Iterable[str] = ()) -> list[str]:
    """Where *text* breaks the board formatting rules (empty list: none).

    Checks: no NaN, None, True/False, scientific notation, object reprs or local file paths;
    money only in *currency* (another ISO code before an amount is flagged); none of the
    *forbidden* phrases (for example another tender's sentences).
    """
    found = []
    for pattern, what in _RULES:
        for m in re.finditer(pattern, text):
            found.append(f"{what}: ...{text[max(0, m.start() - 40):m.end() + 40]}...")
    for code in _ISO:
        if code != currency:
            for m in re.finditer(rf"\b{code} -?\d", text):
                context = text[max(0, m.start() - 40):m.end() + 30]
                found.append(f"money in {code}, not {currency}: ...{context}...")
    for phrase in forbidden:
        if phrase in text:
            found.append(f"phrase of another tender: {phrase!r}")
    return found


def notes_as_text() -> None:
    """In a notebook: show each warning once as a reader's note (no file path, no code line).

    Call it once at the top of a report page; library warnings (a tender without a risk table,
    a method's caveat) then read ``Note: ...`` on the page instead of a Python warning.
    """
    import warnings

    seen: set[str] = set()

    def _show(message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message)
        if text not in seen:
            seen.add(text)
            show(html('<p style="color:#6b4e00"><b>Note:</b> {}</p>', text))

    warnings.showwarning = _show
