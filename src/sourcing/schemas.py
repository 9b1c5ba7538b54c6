"""Table schemas of a tender and the one error the package raises for bad data.

Every table of a tender (see ``data/README.md`` for the data dictionary) is described here once,
as a :class:`Table` of :class:`Column` specifications.  Reading a table is two steps:

1. :func:`parse_table` turns raw cells (all text, or the values openpyxl found) into typed
   columns.  A cell that cannot be read as its type (``"120 000 €"`` in a price, ``"maybe"`` in a
   yes/no column) becomes a :class:`Problem` that names the cell; it never silently becomes NaN.
2. a pandera schema built from the same specification checks ranges, allowed categories and unique
   keys, lazily, so every problem in every table is collected before anything is raised.

:class:`ValidationError` carries all problems and prints them as one readable table: source file or
sheet, row as the user sees it (CSV line / Excel row, the header being row 1), column, offending
value and the rule broken.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["BUNDLE_SPLITS", "DISCOUNT_CONDITIONS", "TABLES", "Column", "Problem", "Table",
           "ValidationError", "data_dictionary", "not_a_number", "parse_number", "parse_table"]

#: A plain decimal number in ASCII digits: no thousands separators, no currency, no decimal
#: comma, no NaN/inf, no underscores, no look-alike digits (fullwidth, Arabic-Indic ...).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
#: Largest magnitude of a number cell: no tender quantity needs more, and sums and products of
#: such numbers (price x demand x years) stay far from float overflow.
MAX_MAGNITUDE = 1e15
_TRUE = {"yes", "y", "true", "1"}


def not_a_number(text: str) -> str:
    """Why *text* is not a number of the data dictionary's syntax, naming the first character
    that breaks it (a look-alike digit, an underscore, a thousands separator ...)."""
    for ch in text:
        if ch.isdigit() and not ("0" <= ch <= "9"):
            return (f"'{ch}' ({unicodedata.name(ch, 'a digit').lower()}, U+{ord(ch):04X}) is not "
                    "an ASCII digit: type the number with 0-9")
        if ch in "_,'\u00a0\u202f " and any(c.isdigit() for c in text):
            shown = {"_": "an underscore", ",": "a comma", "'": "an apostrophe"}.get(ch, "a space")
            return (f"{shown} inside a number: write it without thousands separators, with a "
                    "decimal point")
        if not ch.isascii():
            return (f"'{ch}' (U+{ord(ch):04X}, {unicodedata.name(ch, 'unnamed').lower()}) is not "
                    "part of a number")
    return "not a number: a plain decimal like 1250 or 0.75"


def parse_number(text: object) -> float:
    """The one syntax of number cells, settings and gate thresholds (data/README.md): a plain
    decimal in ASCII digits, optionally signed, with a decimal point and an exponent.

    Raises
    ------
    ValueError
        Naming the character that breaks the syntax (:func:`not_a_number`).

    Examples
    --------
    >>> parse_number(" 1250.5 "), parse_number("-3e2")
    (1250.5, -300.0)
    """
    t = str(text).strip()
    if not _NUMBER.fullmatch(t):
        raise ValueError(not_a_number(t))
    return float(t)
_FALSE = {"no", "n", "false", "0"}
#: Columns every table may carry in addition to its own: free text, never interpreted.
FREE_COLUMNS = ("comment",)
#: Prefix for user-defined extra columns, kept as text and never interpreted.
EXTRA_PREFIX = "x_"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as the user sees it.

    Attributes
    ----------
    source : str
        File name (``bids.csv``) or workbook sheet (``book.xlsx[bids]``).
    row : int or None
        CSV line / Excel row number, the header being row 1; ``None`` for a whole-table problem.
    column : str or None
        Column name, ``None`` when the problem is not about one column.
    value : str
        The offending value as text (empty when there is none).
    rule : str
        What rule was broken, in words.
    """

    source: str
    row: int | None
    column: str | None
    value: str
    rule: str

    def __post_init__(self) -> None:
        # a blank or non-text offending value (None, a number) is shown as text, never crashes
        if not isinstance(self.value, str):
            object.__setattr__(self, "value", "" if self.value is None else str(self.value))


class ValidationError(ValueError):
    """Bad input data: raised once, after all problems were collected.

    ``str(err)`` is a readable table; ``err.problems`` the list of :class:`Problem`;
    ``err.to_frame()`` the same as a DataFrame.
    """

    def __init__(self, problems: Sequence[Problem], *, title: str = "invalid tender data"):
        self.problems = list(problems)
        self.title = title
        super().__init__(self._format())

    def to_frame(self) -> pd.DataFrame:
        """Problems as a DataFrame with columns source, row, column, value, rule."""
        return pd.DataFrame(
            [(p.source, p.row, p.column, p.value, p.rule) for p in self.problems],
            columns=["source", "row", "column", "value", "rule"],
        )

    def _format(self, limit: int = 200) -> str:
        rows = [("source", "row", "column", "value", "rule")]
        for p in self.problems[:limit]:
            value = p.value if len(p.value) <= 40 else p.value[:37] + "..."
            rows.append(
                (p.source, "" if p.row is None else str(p.row), p.column or "", value, p.rule)
            )
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            f"{self.title}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        ]
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class Column:
    """Specification of one column.

    Parameters
    ----------
    name : str
        Column header (lower case, underscores).
    kind : {"str", "float", "int", "bool", "category"}
        Cell type.
    required : bool
        Whether the column must be present in the file.
    nullable : bool
        Whether blank cells are allowed.
    ge, gt, le : float, optional
        Numeric bounds (inclusive ``ge``/``le``, exclusive ``gt``).
    choices : tuple of str, optional
        Allowed values of a category column (compared case-insensitively, stored lower case).
    unique : bool
        Values must be unique within the table.
    default : object, optional
        Value for blank cells or a missing optional column.
    doc : str
        Meaning, with unit and currency, shown in the template and data dictionary.
    suggestions : tuple of str, optional
        Usual values of a free column, offered as a drop-down in the template but not enforced
        (``rules.per``: ``all``, ``lot``, ``vendor`` or any vendors column).
    """

    name: str
    kind: str = "str"
    required: bool = True
    nullable: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    choices: tuple[str, ...] | None = None
    unique: bool = False
    default: object = None
    doc: str = ""
    suggestions: tuple[str, ...] | None = None

    def rule(self) -> str:
        """The column's constraint in words."""
        bits = []
        if self.choices:
            bits.append("one of " + ", ".join(self.choices))
        elif self.suggestions:
            bits.append("e.g. " + ", ".join(self.suggestions))
        elif self.kind == "bool":
            bits.append("yes or no")
        elif self.kind in ("float", "int"):
            bits.append("a whole number" if self.kind == "int" else "a plain number (e.g. 1234.5)")
        if self.range_rule():
            bits.append(self.range_rule())
        return ", ".join(bits) or "text"

    def range_rule(self) -> str:
        """The column's numeric bounds in words ('' when unbounded)."""
        bits = []
        if self.gt is not None:
            bits.append(f"> {self.gt:g}")
        if self.ge is not None:
            bits.append(f">= {self.ge:g}")
        if self.le is not None:
            bits.append(f"<= {self.le:g}")
        return " and ".join(bits)


@dataclass(frozen=True)
class Table:
    """Specification of one table (a CSV file or a workbook sheet)."""

    name: str
    columns: tuple[Column, ...]
    required: bool = True
    key: tuple[str, ...] = ()
    doc: str = ""
    min_rows: int = 1
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    def column(self, name: str) -> Column:
        """The column specification called *name*."""
        return self.columns[self.column_names.index(name)]


def _c(name: str, kind: str = "str", doc: str = "", **kw) -> Column:
    return Column(name, kind, doc=doc, **kw)


_OPT = {"required": False, "nullable": True}
TOWERS = (
    "service_desk",
    "infrastructure",
    "cloud",
    "application",
    "security",
    "end_user",
    "network",
    "other",
)

# the scoped rules' words (sourcing.allocation.scoped: MEASURES, BOUNDS, OPERATORS; a test keeps
# them equal), here so the schemas import nothing of the allocation
_RULE_MEASURES = ("demand_share", "spend_share", "vendors", "lots", "same_vendor", "only")
_RULE_BOUNDS = ("at_least", "at_most", "equal")
_RULE_OPERATORS = (">=", ">", "<=", "<", "==", "!=", "in", "contains", "lacks")
#: How a package bid may be taken, and what a conditional discount counts.
BUNDLE_SPLITS = ("all_or_nothing", "proportional")
DISCOUNT_CONDITIONS = ("lots_at_least", "spend_at_least")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "settings",
            (
                _c("key", doc="Setting name (see data/README.md for the known keys).", unique=True),
                _c("value", doc="Setting value, as text.", nullable=True),
            ),
            required=False,
            key=("key",),
            min_rows=0,
            doc="Tender-wide settings as key/value pairs: name, currency, contract_years, ...",
        ),
        Table(
            "vendors",
            (
                _c("vendor_id", doc="Short unique vendor id, e.g. V01.", unique=True),
                _c("name", doc="Vendor legal or trading name."),
                _c("incumbent", "bool", "yes if the vendor runs (part of) the service today.",
                   default=False, **_OPT),
                _c("country", doc="Delivery headquarters, ISO 3166 alpha-2 code.", **_OPT),
                _c("currency", doc="Currency of the vendor's delivery costs, ISO 4217 (FX exposure).",
                   **_OPT),
                _c("offshore_share_pct", "float",
                   "Share of delivery effort performed offshore, percent [0, 100].",
                   ge=0, le=100, default=0.0, **_OPT),
                _c("iso27001", "bool", "yes if the vendor holds a valid ISO/IEC 27001 certificate.",
                   default=False, **_OPT),
                _c("certifications", doc="Other certifications, separated by ';' (ISO 20000-1; SOC 2).",
                   **_OPT),
                _c("annual_revenue_meur", "float", "Annual revenue, million (tender currency).", gt=0,
                   **_OPT),
                _c("employees", "int", "Number of employees.", ge=1, **_OPT),
                _c("equity_ratio_pct", "float", "Equity / total assets, percent [0, 100].",
                   ge=0, le=100, **_OPT),
                _c("financial_score", "float",
                   "Credit-agency financial health score, 0 (distressed) to 100 (very strong).",
                   ge=0, le=100, **_OPT),
            ),
            key=("vendor_id",),
            doc="One row per bidder.",
        ),
        Table(
            "criteria",
            (
                _c("criterion_id", doc="Short unique criterion id, e.g. C01.", unique=True),
                _c("name", doc="Criterion name as shown to the board."),
                _c("group", doc="Criterion group (first level of the hierarchy), e.g. technical."),
                _c("direction", "category", "max if more is better, min if less is better.",
                   choices=("max", "min")),
                _c("weight", "float",
                   "Direct weight in points (any positive scale; normalised). 0 = gate only.",
                   ge=0, **_OPT),
                _c("unit", doc="Unit of the values, e.g. points 0-10, %, minutes, tender currency per "
                   "year.", **_OPT),
                _c("source", "category",
                   "Where values come from: scores (scores table), vendor (the vendors column "
                   "named in attribute), price (evaluated annual price from the bids).",
                   choices=("scores", "vendor", "price"), default="scores", **_OPT),
                _c("attribute", doc="For source=vendor: the vendors column holding the value.",
                   **_OPT),
                _c("scale_min", "float", "Lowest allowed score (optional).", **_OPT),
                _c("scale_max", "float", "Highest allowed score (optional).", **_OPT),
                _c("gate", doc="Optional knock-out rule on the value, e.g. '>= 40' or '== yes'.",
                   **_OPT),
                _c("description", doc="What is assessed and how.", **_OPT),
            ),
            key=("criterion_id",),
            doc="One row per evaluation criterion.",
        ),
        Table(
            "scores",
            (
                _c("vendor_id", doc="Vendor scored (vendors.vendor_id)."),
                _c("criterion_id", doc="Criterion scored (criteria.criterion_id, source=scores)."),
                _c("evaluator", doc="Who scored; blank for a fact taken from the bid.", **_OPT),
                _c("value", "float", "Score or measured value, in the criterion's unit."),
            ),
            key=("vendor_id", "criterion_id", "evaluator"),
            doc="Long format: one row per vendor x criterion x evaluator.",
        ),
        Table(
            "lots",
            (
                _c("lot_id", doc="Short unique lot id, e.g. L1.", unique=True),
                _c("name", doc="Lot / service tower name."),
                _c("tower", "category", "Service tower.", choices=TOWERS, default="other", **_OPT),
                _c("unit", doc="Unit of demand, e.g. tickets, servers, FTE, devices."),
                _c("annual_demand", "float", "Expected demand in units per year.", gt=0),
                _c("demand_growth_pct", "float",
                   "Expected demand growth, percent per year (may be negative).",
                   gt=-100, le=1000, default=0.0, **_OPT),
                _c("incumbent_vendor_id", doc="Vendor running the lot today, blank if in-house.",
                   **_OPT),
                _c("switching_cost_per_unit", "float",
                   "One-off cost of moving one unit of annual demand to a provider other than the "
                   "lot's current one (from in-house to a vendor, or away from the incumbent), "
                   "tender currency/unit.", ge=0, default=0.0, **_OPT),
                _c("inhouse_unit_cost", "float",
                   "Fully loaded cost of running the lot in-house, tender currency per unit per year.",
                   gt=0, **_OPT),
            ),
            key=("lot_id",),
            doc="One row per lot (service tower) put out to tender.",
        ),
        Table(
            "bids",
            (
                _c("vendor_id", doc="Bidding vendor (vendors.vendor_id)."),
                _c("lot_id", doc="Lot bid for (lots.lot_id)."),
                _c("unit_price", "float", "Base price, tender currency per unit of demand per year.", gt=0),
                _c("capacity", "float", "Most units per year the vendor can take; blank = no limit.",
                   gt=0, **_OPT),
                _c("min_volume", "float", "Least units per year the vendor accepts if awarded.",
                   ge=0, default=0.0, **_OPT),
                _c("discount_type", "category",
                   "How the tiers in the tiers table apply: none, all-unit (the tier price applies "
                   "to every unit) or incremental (only to units above the threshold).",
                   choices=("none", "all-unit", "incremental"), default="none", **_OPT),
                _c("setup_cost", "float",
                   "One-off cost to transition the lot to the vendor (none for the lot's incumbent "
                   "keeping it), tender currency.",
                   ge=0, default=0.0, **_OPT),
            ),
            key=("vendor_id", "lot_id"),
            doc="One row per vendor x lot bid.",
        ),
        Table(
            "tiers",
            (
                _c("vendor_id", doc="Vendor of the bid (bids.vendor_id)."),
                _c("lot_id", doc="Lot of the bid (bids.lot_id)."),
                _c("from_volume", "float", "Tier threshold, units per year.", gt=0),
                _c("unit_price", "float", "Tier unit price, tender currency per unit per year.", gt=0),
            ),
            required=False,
            key=("vendor_id", "lot_id", "from_volume"),
            min_rows=0,
            doc="Volume-discount tiers of bids with discount_type all-unit or incremental.",
        ),
        Table(
            "risk",
            (
                _c("vendor_id", doc="Vendor (vendors.vendor_id).", unique=True),
                _c("failure_prob", "float",
                   "Annual probability that the vendor fails or exits the contract, [0, 1].",
                   ge=0, le=1),
                _c("security_score", "float",
                   "Security posture assessment, 0 (poor) to 100 (excellent).", ge=0, le=100),
                _c("incident_rate", "float",
                   "Expected security incidents at the vendor affecting us, events per year.",
                   ge=0, default=0.0, **_OPT),
                _c("sla_breach_prob", "float",
                   "Probability that a month breaches the SLA, [0, 1].", ge=0, le=1,
                   default=0.0, **_OPT),
                _c("risk_score", "float",
                   "Composite vendor risk, 0 (low) to 100 (high); used by allocation risk caps.",
                   ge=0, le=100, **_OPT),
                _c("onboarding_cost", "float",
                   "One-off cost of engaging the vendor (contracting, due diligence; none for an "
                   "incumbent), tender currency.",
                   ge=0, default=0.0, **_OPT),
                _c("exit_cost", "float",
                   "One-off cost of replacing the vendor if it fails or exits, tender currency.",
                   ge=0, default=0.0, **_OPT),
            ),
            required=False,
            key=("vendor_id",),
            min_rows=0,
            doc="Vendor risk profile for allocation and simulation; one row per vendor.",
        ),
        Table(
            "pairwise",
            (
                _c("evaluator", doc="Who made the judgment."),
                _c("parent", doc="'root' to compare criterion groups, or a group name to "
                   "compare the criteria inside it.", default="root", **_OPT),
                _c("item_a", doc="Group name (parent root) or criterion id."),
                _c("item_b", doc="Group name (parent root) or criterion id."),
                _c("value", "float", "How many times more important item_a is than item_b, "
                   "Saaty scale 1/9 to 9 (write 1/9 as 0.111 or more digits).", ge=0.111, le=9),
            ),
            required=False,
            key=("evaluator", "parent", "item_a", "item_b"),
            min_rows=0,
            doc="AHP pairwise judgments (upper triangle suffices) for weights by AHP.",
        ),
        Table(
            "rules",
            (
                _c("rule_id", doc="Short unique rule id, e.g. R1.", unique=True),
                _c("name", doc="The rule in the buyer's words, shown in the rule costs, the checks "
                   "and the award page; blank: the rule id and generated words.", **_OPT),
                _c("lots", doc="Lot ids (lots.lot_id) separated by ';'; blank (and no towers) = "
                   "every lot.", **_OPT),
                _c("towers", doc="Service towers (lots.tower) separated by ';': their lots; not with "
                   "lots.", **_OPT),
                _c("vendors", doc="Vendor ids (vendors.vendor_id) separated by ';'; blank (and no "
                   "vendor_column) = every vendor.", **_OPT),
                _c("vendor_column", doc="A vendors column choosing the vendors instead "
                   "(country, offshore_share_pct, incumbent, iso27001, certifications, currency, "
                   "x_...); incumbent also counts a lot's incumbent_vendor_id.", **_OPT),
                _c("vendor_op", "category", "How vendor_column compares with vendor_value; blank "
                   "= == (contains for certifications).", choices=_RULE_OPERATORS, **_OPT),
                _c("vendor_value", doc="The value vendor_column is compared with: text, a number "
                   "(percent for _pct columns), yes/no, or for in a list separated by ';'.",
                   **_OPT),
                _c("measure", "category", "What the rule measures: demand_share, spend_share "
                   "(percent), vendors or lots (counts), same_vendor or only (no bound, no value).",
                   choices=_RULE_MEASURES),
                _c("bound", "category", "How the measure compares with value; blank for "
                   "same_vendor and only.", choices=_RULE_BOUNDS, **_OPT),
                _c("value", "float", "The bound: percent [0, 100] for demand_share and "
                   "spend_share, a whole number of vendors or lots for the counts; blank for "
                   "same_vendor and only.", ge=0, **_OPT),
                _c("per", doc="One bound per lot, per vendor or per value of a vendors column "
                   "(e.g. country); blank = all (the whole scope; vendor for measure lots).",
                   suggestions=("all", "lot", "vendor", "country"), **_OPT),
            ),
            required=False,
            key=("rule_id",),
            min_rows=0,
            doc="Scoped award rules, one row per rule (as allocation.policy.rules in a scenario): "
            "a measure of some lots and vendors against a bound.",
        ),
        Table(
            "bundles",
            (
                _c("bundle_id", doc="Short id of the package bid, e.g. B1; one row per lot of the "
                   "package."),
                _c("vendor_id", doc="Bidding vendor (vendors.vendor_id), the same on every row of "
                   "the bundle."),
                _c("lot_id", doc="A lot of the package (lots.lot_id)."),
                _c("volume", "float", "Units per year of this lot in the package; give volume or "
                   "share_pct.", gt=0, **_OPT),
                _c("share_pct", "float", "Share of this lot's annual demand in the package, "
                   "percent; give volume or share_pct.", gt=0, le=100, **_OPT),
                _c("price", "float", "Price of the whole package, tender currency per year; on "
                   "every row of the bundle (the same) or on its first row only.", gt=0, **_OPT),
                _c("split", "category", "all_or_nothing (the package is taken whole or not at all) "
                   "or proportional (any fraction of it: the same fraction of every lot's volume "
                   "at that fraction of the price); on the bundle's first row or on every row "
                   "(the same); blank = all_or_nothing.", choices=BUNDLE_SPLITS, **_OPT),
            ),
            required=False,
            key=("bundle_id", "lot_id"),
            min_rows=0,
            doc="Package (combinatorial) bids: a price for several lots together. A vendor wins a "
            "package or its lot bids on those lots, never both on one lot.",
        ),
        Table(
            "discounts",
            (
                _c("discount_id", doc="Short unique id of the offer, e.g. D1.", unique=True),
                _c("vendor_id", doc="Vendor offering it (vendors.vendor_id)."),
                _c("condition", "category", "lots_at_least (the vendor is awarded at least "
                   "threshold lots) or spend_at_least (its spend reaches threshold a year), over "
                   "the lots below.", choices=DISCOUNT_CONDITIONS),
                _c("threshold", "float", "Number of lots (a whole number) or tender currency per "
                   "year, as the condition says.", gt=0),
                _c("discount_pct", "float", "Discount on the vendor's fees on the lots below, "
                   "percent.", gt=0, le=100),
                _c("lots", doc="Lot ids (lots.lot_id) separated by ';' that the condition counts "
                   "and the discount applies to; blank = every lot.", **_OPT),
            ),
            required=False,
            key=("discount_id",),
            min_rows=0,
            doc="Conditional discounts: a percent off a vendor's fees when it wins enough lots or "
            "spend. Of one vendor's offers, the largest that applies is given (they do not add up).",
        ),
    )
}


def _as_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text ('' for blank), keeping the user's spelling for messages."""

    def one(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            if np.isnan(v):
                return ""
            v = float(v)  # numpy's repr is 'np.float64(0.03)': the number, not its type
            return repr(v) if not v.is_integer() else str(int(v)) if abs(v) < 1e15 else repr(v)
        if isinstance(v, bool):
            return "yes" if v else "no"
        # one spelling of each text: an id typed as e + combining accent (NFD) in one table and
        # as é (NFC) in another is the same id
        text = unicodedata.normalize("NFC", str(v)).strip()
        # a quote we (or a careful user) put before =,+,-,@ against formula injection
        if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
            text = text[1:]
        return text

    return pd.Series([one(v) for v in values], index=values.index, dtype=object)


def _parse_column(raw: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Parse one column; return (typed values, mask of cells that failed to parse)."""
    text = _as_text(raw)
    blank = text == ""
    native = raw.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool))
    if col.kind in ("float", "int"):
        ok = native | text.str.fullmatch(_NUMBER.pattern) | blank
        values = pd.to_numeric(text.where(ok & ~blank, None), errors="coerce").astype(float)
        # native NaN reads as blank; native inf and numbers beyond MAX_MAGNITUDE are errors
        bad = ~ok | (values.abs() > MAX_MAGNITUDE)
        values = values.where(~bad)
        if col.kind == "int":
            frac = values.notna() & (values != np.floor(values.fillna(0)))
            bad |= frac
        if col.default is not None:
            values = values.where(~blank, float(col.default))
        return values, bad
    if col.kind == "bool":
        low = text.str.lower()
        bad = ~(low.isin(_TRUE | _FALSE) | blank)
        values = low.isin(_TRUE).astype(object).where(~blank, col.default)
        return values, bad
    if col.kind == "category":
        low = text.str.lower()
        assert col.choices is not None
        bad = ~(low.isin(col.choices) | blank)
        values = low.where(~blank, col.default)
        return values.astype(object), bad
    values = text.where(~blank, col.default)
    return values.astype(object), pd.Series(False, index=raw.index)


def _fractions_among_percents(values: pd.Series) -> np.ndarray:
    """Cells of a percent column that look like a fraction typed by mistake (0.3 for 30 %).

    A value strictly between 0 and 1 is flagged when at least two other rows hold percents of
    1 or more, those are the majority, and 100 x the value falls within their range (0.3 among
    20, 45 and 60; not 0.5 among growth rates of 2 to 6 %, which is a plausible 0.5 %).
    """
    v = values.to_numpy(dtype=float)
    known = ~np.isnan(v)
    frac = known & (v > 0) & (v < 1)
    pct = known & (v >= 1)
    if not frac.any() or pct.sum() < 2 or frac.sum() >= pct.sum():
        return np.zeros(len(v), bool)
    lo, hi = v[pct].min(), v[pct].max()
    with np.errstate(invalid="ignore"):
        return frac & (v * 100 >= lo) & (v * 100 <= hi)


def normalise_header(name: object) -> str:
    """Header as compared: stripped, lower case, spaces and dashes as underscores."""
    return re.sub(r"[\s\-]+", "_", str(name if name is not None else "").strip().lower())


def parse_table(
    raw: pd.DataFrame, table: Table, *, source: str, rows: Iterable[int]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Turn raw cells into a typed table and list every problem found.

    Parameters
    ----------
    raw : DataFrame
        Cells as read (text, or numbers and booleans from a workbook), headers as in the file.
    table : Table
        Specification to apply.
    source : str
        File or sheet name for messages.
    rows : iterable of int
        User-visible row number of each raw row (CSV line / Excel row).

    Returns
    -------
    frame : DataFrame
        Columns in specification order (missing optional columns filled with their default), plus
        user extension columns (``comment``, ``x_*``) as text; RangeIndex.
    problems : list of Problem
        Empty when the table is valid.
    """
    problems: list[Problem] = []
    rows = np.asarray(list(rows), dtype=int)
    raw = raw.reset_index(drop=True)
    headers = [normalise_header(h) for h in raw.columns]
    seen: set[str] = set()
    for h in headers:
        if h in seen:
            problems.append(Problem(source, 1, h, h, "duplicate column header"))
        seen.add(h)
    raw = raw.set_axis(headers, axis=1)
    raw = raw.loc[:, ~pd.Index(headers).duplicated()]
    for h in headers:
        if h in table.column_names or h in FREE_COLUMNS or h.startswith(EXTRA_PREFIX):
            continue
        if h == "":
            if _as_text(raw[h]).ne("").any():
                problems.append(Problem(source, 1, None, "", "column with data has no header"))
            continue
        problems.append(
            Problem(
                source, 1, h, h,
                "unknown column; valid columns: " + ", ".join(table.column_names)
                + f" (plus comment and {EXTRA_PREFIX}* for your own notes)",
            )
        )
    out: dict[str, pd.Series] = {}
    for col in table.columns:
        if col.name not in raw.columns:
            if col.required:
                problems.append(Problem(source, 1, col.name, "", "required column is missing"))
            default = col.default
            out[col.name] = pd.Series([default] * len(raw), dtype=object if col.kind not in (
                "float", "int") else float)
            continue
        values, bad = _parse_column(raw[col.name], col)
        text = _as_text(raw[col.name])
        for i in np.flatnonzero(bad.to_numpy()):
            rule = "must be " + col.rule()
            if col.kind in ("float", "int") and _NUMBER.fullmatch(text.iat[i]):
                rule += f" (at most {MAX_MAGNITUDE:g} in absolute value)"
            elif col.kind in ("float", "int") and text.iat[i]:
                rule += f": {not_a_number(text.iat[i])}"
            problems.append(Problem(source, int(rows[i]), col.name, text.iat[i], rule))
        if not col.nullable:
            missing = (text == "").to_numpy() & ~bad.to_numpy()
            for i in np.flatnonzero(missing):
                problems.append(Problem(source, int(rows[i]), col.name, "", "required value is blank"))
        if col.kind == "float" and col.name.endswith("_pct"):
            for i in np.flatnonzero(_fractions_among_percents(values.where(~bad))):
                shown = f"{values.iat[i] * 100:.10g}"
                problems.append(Problem(
                    source, int(rows[i]), col.name, text.iat[i],
                    f"looks like a fraction where the other rows are percents: write {shown} for "
                    f"{shown} % (a _pct column holds percents, 0 to 100)"))
        out[col.name] = values
    frame = pd.DataFrame(out)
    for h in raw.columns:
        if h in FREE_COLUMNS or h.startswith(EXTRA_PREFIX):
            frame[h] = _as_text(raw[h])
    if len(frame) < table.min_rows:
        problems.append(Problem(source, None, None, "", "table has no data rows"))
    problems += _check_schema(frame, table, source=source, rows=rows)
    return frame, problems


def _pandera_schema(table: Table):
    import pandera.pandas as pa

    columns = {}
    for col in table.columns:
        checks = []
        if col.ge is not None:
            checks.append(pa.Check.ge(col.ge, error=f">= {col.ge:g}"))
        if col.gt is not None:
            checks.append(pa.Check.gt(col.gt, error=f"> {col.gt:g}"))
        if col.le is not None:
            checks.append(pa.Check.le(col.le, error=f"<= {col.le:g}"))
        columns[col.name] = pa.Column(
            checks=checks, nullable=True, unique=col.unique, coerce=False, required=False
        )
    key = list(table.key) if len(table.key) > 1 else None
    return pa.DataFrameSchema(columns, unique=key, strict=False)


def _check_schema(
    frame: pd.DataFrame, table: Table, *, source: str, rows: np.ndarray
) -> list[Problem]:
    """Ranges, uniqueness and keys, checked lazily by pandera; mapped to user rows."""
    import pandera.errors as pae

    if frame.empty:
        return []
    check = frame.copy()
    for name in table.key:  # blank key parts compare equal to each other
        check[name] = check[name].fillna("")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _pandera_schema(table).validate(check, lazy=True)
    except pae.SchemaErrors as err:
        return _from_failure_cases(err.failure_cases, frame, table, source, rows)
    return []


def _from_failure_cases(
    cases: pd.DataFrame, frame: pd.DataFrame, table: Table, source: str, rows: np.ndarray
) -> list[Problem]:
    problems: list[Problem] = []
    for case in cases.itertuples(index=False):
        check = str(case.check)
        idx = case.index
        row = int(rows[int(idx)]) if idx is not None and not pd.isna(idx) else None
        column = case.column if isinstance(case.column, str) else None
        if check == "multiple_fields_uniqueness" or case.schema_context == "DataFrameSchema":
            if row is None:
                continue
            key = ", ".join(f"{k}={_show(frame.at[int(idx), k])}" for k in table.key)
            problems.append(Problem(source, row, "+".join(table.key), key,
                                    "duplicate row: " + "/".join(table.key) + " must be unique"))
            continue
        if check in ("field_uniqueness", "unique"):
            problems.append(Problem(source, row, column, _show(case.failure_case),
                                    "duplicate id: must be unique"))
            continue
        col = table.column(column) if column in table.column_names else None
        rule = "must be " + (col.range_rule() or col.rule() if col else check)
        problems.append(Problem(source, row, column, _show(case.failure_case), rule))
    # pandera reports each duplicated row; keep one problem per cell, in row order
    uniq = {(p.row, p.column, p.rule): p for p in problems}
    return sorted(uniq.values(), key=lambda p: (p.row or 0, p.column or ""))


def _show(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def data_dictionary() -> str:
    """The data dictionary of every tender table as Markdown (kept in ``data/README.md``)."""
    out = []
    for table in TABLES.values():
        need = "required" if table.required else "optional"
        key = ", ".join(table.key)
        out.append(f"### `{table.name}` ({need}; key: {key})\n\n{table.doc}\n")
        out.append("| column | required | type / rule | meaning |")
        out.append("|---|---|---|---|")
        for col in table.columns:
            req = "yes" if col.required else "no"
            rule = col.rule() + ("" if not col.nullable else "; may be blank")
            if col.default is not None and col.nullable:
                rule += f" (blank = {col.default if col.kind != 'bool' else 'no'})"
            out.append(f"| `{col.name}` | {req} | {rule} | {col.doc} |")
        out.append("")
    return "\n".join(out)
