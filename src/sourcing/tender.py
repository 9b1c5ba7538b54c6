"""The tender: validated tables of vendors, criteria, scores, lots, bids and vendor risk.

A :class:`Tender` is what every later stage starts from.  Build one with
:func:`sourcing.read_tender` (CSV folder or ``.xlsx`` workbook) or :meth:`Tender.from_frames`
(DataFrames already in memory).  Either way all tables are checked, within and across tables, and
all problems are raised together as one :class:`~sourcing.schemas.ValidationError`.

Tables with a single key are indexed by it (``vendors`` by ``vendor_id``, ``criteria`` by
``criterion_id``, ``lots`` by ``lot_id``, ``risk`` by ``vendor_id``, ``rules`` by ``rule_id``,
``discounts`` by ``discount_id``); long tables (``scores``, ``bids``, ``tiers``, ``pairwise``,
``bundles``) keep a RangeIndex.  Money is in the tender
currency (``settings.currency``, EUR by default) and per year unless a column says otherwise.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from .schemas import TABLES, Problem, ValidationError, parse_number, parse_table

__all__ = ["CELL_TABLES", "SETTINGS", "Gate", "Tender"]

#: Known settings keys: (parser, default, doc).
SETTINGS: dict[str, tuple[str, object, str]] = {
    "name": ("str", "Untitled tender", "Tender name shown in reports."),
    "buyer": ("str", "", "Buying organisation."),
    "currency": ("currency", "EUR", "ISO 4217 code of every price in the tender."),  # the default
    "contract_years": ("int", 5, "Contract horizon in years (1 to 30)."),
    "discount_rate_pct": ("float", 8.0, "Discount rate for NPV, percent per year."),
    "weighting": ("choice:direct|ahp", "direct",
                  "direct: criteria.weight; ahp: from the pairwise table."),
    "score_aggregation": ("choice:mean|median|geometric", "mean",
                          "How several evaluators' scores of one cell are combined."),
}

#: Currency of tables given without a tender (plain DataFrames): the settings' default.
DEFAULT_CURRENCY = str(SETTINGS["currency"][1])

_GATE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Gate:
    """A knock-out rule on one criterion: ``value <op> threshold`` must hold.

    ``threshold`` is a float; yes/no gates compare against 1.0/0.0.
    """

    criterion_id: str
    op: str
    threshold: float
    text: str

    def passes(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Boolean array: which values pass the gate (NaN never passes)."""
        v = np.asarray(values, dtype=float)
        ops = {
            ">=": np.greater_equal, "<=": np.less_equal, ">": np.greater,
            "<": np.less, "==": np.equal, "!=": np.not_equal,
        }
        with np.errstate(invalid="ignore"):
            return ops[self.op](v, self.threshold) & ~np.isnan(v)


def parse_gate(criterion_id: str, text: str) -> Gate | None:
    """Parse a gate rule such as ``'>= 40'`` or ``'== yes'``; ``None`` if it is not one."""
    m = _GATE.match(text)
    if not m:
        return None
    op, rhs = m.groups()
    low = rhs.lower()
    if low in ("yes", "true"):
        value = 1.0
    elif low in ("no", "false"):
        value = 0.0
    else:
        try:
            value = parse_number(rhs)
        except ValueError:
            return None
        if not np.isfinite(value):
            return None
    return Gate(criterion_id, op, value, f"{op} {rhs}")


@dataclass(frozen=True, eq=False)
class Tender:
    """A validated tender.

    Attributes
    ----------
    vendors, criteria, lots, risk : DataFrame
        Indexed by their id (``vendor_id``, ``criterion_id``, ``lot_id``, ``vendor_id``).
    rules : DataFrame
        Scoped award rules, indexed by ``rule_id`` (empty without a rules table); the pipeline
        adds them to the scenario's policy (:func:`sourcing.allocation.scoped.with_tender_rules`).
    bundles : DataFrame
        Package bids, one row per bundle x lot (empty without a bundles table); the award takes
        them beside the lot bids.
    discounts : DataFrame
        Conditional discounts, indexed by ``discount_id`` (empty without a discounts table).
    scores, bids, tiers, pairwise : DataFrame
        Long tables with a RangeIndex.
    settings : Mapping
        Tender-wide settings with defaults filled in (see :data:`SETTINGS`).
    source : str
        Where the tender was read from.

    Notes
    -----
    Columns, units and currency are documented in ``data/README.md``.  Prices are in
    ``settings["currency"]`` per unit of the lot's demand per year.
    """

    vendors: pd.DataFrame
    criteria: pd.DataFrame
    scores: pd.DataFrame
    lots: pd.DataFrame
    bids: pd.DataFrame
    tiers: pd.DataFrame
    risk: pd.DataFrame
    pairwise: pd.DataFrame
    rules: pd.DataFrame
    bundles: pd.DataFrame
    discounts: pd.DataFrame
    settings: Mapping[str, object] = field(default_factory=dict)
    source: str = ""

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frames(
        cls,
        *,
        vendors: pd.DataFrame,
        criteria: pd.DataFrame,
        scores: pd.DataFrame,
        lots: pd.DataFrame,
        bids: pd.DataFrame,
        tiers: pd.DataFrame | None = None,
        risk: pd.DataFrame | None = None,
        pairwise: pd.DataFrame | None = None,
        rules: pd.DataFrame | None = None,
        bundles: pd.DataFrame | None = None,
        discounts: pd.DataFrame | None = None,
        settings: Mapping[str, object] | pd.DataFrame | None = None,
        source: str = "<frames>",
    ) -> Tender:
        """Validate in-memory tables (columns as in ``data/README.md``) into a Tender.

        Rows in messages are numbered as in a sheet whose header is row 1.
        """
        given = {
            "vendors": vendors, "criteria": criteria, "scores": scores, "lots": lots,
            "bids": bids, "tiers": tiers, "risk": risk, "pairwise": pairwise,
            "rules": rules, "bundles": bundles, "discounts": discounts,
        }
        if isinstance(settings, Mapping):
            settings = pd.DataFrame({"key": list(settings), "value": list(settings.values())})
        given["settings"] = settings
        raw = {}
        for name, frame in given.items():
            if frame is None:
                continue
            frame = frame.reset_index() if frame.index.name in TABLES[name].column_names else frame
            raw[name] = (frame, name, range(2, len(frame) + 2))
        return build(raw, source=source)

    def cell(self, table: str, row: str | tuple[str, ...], column: str) -> object:
        """One cell: *row* is the row's id (``("V02", "L1")``, vendor and lot, in ``bids``);
        a column the file left out gives its default.  Raises ValueError listing the valid
        tables, rows or columns."""
        if table not in CELL_TABLES:
            raise ValueError(f"no tender cells in table {table!r}; valid: {', '.join(CELL_TABLES)}")
        row = (row,) if isinstance(row, str) else tuple(row)
        frame, spec = getattr(self, table), TABLES[table]
        index = _cell_index(frame, table, row)
        if column not in spec.column_names:
            raise ValueError(f"{table}: no column {column!r}; valid: {', '.join(spec.column_names)}")
        return frame.at[index, column] if column in frame.columns else spec.column(column).default

    def with_cells(self, cells: Mapping[str, Mapping]) -> Tender:
        """This tender with some cells replaced, validated again as a whole.

        Parameters
        ----------
        cells : mapping
            Table -> row id -> column -> value for the tables with one key (``vendors``,
            ``criteria``, ``lots``, ``risk``), and ``bids`` -> vendor id -> lot id -> column ->
            value.  Values are in the column's unit (``data/README.md``: money in the tender
            currency, probabilities as fractions, percent as percent), e.g.
            ``{"risk": {"V03": {"failure_prob": 0.08}}, "bids": {"V02": {"L1": {"unit_price": 41.2}}}}``.

        Returns
        -------
        Tender
            A new tender (this one is unchanged); the same tender when *cells* is empty.

        Raises
        ------
        ValueError
            An unknown table, row, column or a key column, listing the valid ones.
        ValidationError
            A value the column's rule refuses (as for a file).
        """
        if not cells:
            return self
        frames = {n: getattr(self, n).copy() for n in _FRAMES}
        for table, rows in cells.items():
            if table not in CELL_TABLES:
                raise ValueError(f"no tender cells in table {table!r}; valid: {', '.join(CELL_TABLES)}")
            frame, spec = frames[table], TABLES[table]
            for row, value in _cell_rows(table, rows):
                index = _cell_index(frame, table, row)
                for column, v in value.items():
                    if column not in spec.column_names or column in spec.key:
                        valid = [c for c in spec.column_names if c not in spec.key]
                        raise ValueError(f"{table}.{'.'.join(row)}: no column {column!r} to set; "
                                         f"valid: {', '.join(valid)}")
                    if column not in frame.columns:
                        frame[column] = spec.column(column).default
                    frame[column] = frame[column].astype(object)
                    frame.loc[index, column] = v
        for n in ("vendors", "criteria", "lots", "risk"):
            frames[n] = frames[n].reset_index()
        return Tender.from_frames(**frames, settings=dict(self.settings), source=self.source)

    # ------------------------------------------------------------------ simple views
    @property
    def name(self) -> str:
        """Tender name."""
        return str(self.settings["name"])

    @property
    def currency(self) -> str:
        """ISO 4217 currency of all prices."""
        return str(self.settings["currency"])

    @property
    def contract_years(self) -> int:
        """Contract horizon, years."""
        return int(self.settings["contract_years"])

    @property
    def discount_rate(self) -> float:
        """Discount rate as a fraction per year (0.08 for 8 %)."""
        return float(self.settings["discount_rate_pct"]) / 100.0

    @property
    def vendor_ids(self) -> list[str]:
        """Vendor ids in file order."""
        return list(self.vendors.index)

    @property
    def lot_ids(self) -> list[str]:
        """Lot ids in file order."""
        return list(self.lots.index)

    @property
    def criterion_ids(self) -> list[str]:
        """Criterion ids in file order."""
        return list(self.criteria.index)

    @property
    def incumbents(self) -> list[str]:
        """Ids of incumbent vendors."""
        return list(self.vendors.index[self.vendors["incumbent"].astype(bool)])

    @property
    def demand(self) -> pd.Series:
        """Annual demand per lot, in each lot's unit per year."""
        return self.lots["annual_demand"].rename("annual_demand")

    @property
    def objectives(self) -> pd.Series:
        """``'max'`` or ``'min'`` per criterion."""
        return self.criteria["direction"].rename("objective")

    @property
    def weights(self) -> pd.Series:
        """Direct weights normalised to sum to 1 (NaN when weights come from AHP only)."""
        w = self.criteria["weight"].astype(float)
        total = w.sum(skipna=True)
        return (w / total if total > 0 else w * np.nan).rename("weight")

    @property
    def gates(self) -> list[Gate]:
        """Knock-out rules from ``criteria.gate``, in criterion order."""
        out = []
        for cid, text in self.criteria["gate"].items():
            if isinstance(text, str) and text:
                gate = parse_gate(cid, text)
                if gate is not None:
                    out.append(gate)
        return out

    @property
    def price_matrix(self) -> pd.DataFrame:
        """Base unit price, vendor x lot (currency per unit per year); NaN where no bid."""
        m = self.bids.pivot(index="vendor_id", columns="lot_id", values="unit_price")
        return m.reindex(index=self.vendor_ids, columns=self.lot_ids)

    def evaluated_price(self) -> pd.Series:
        """Evaluated annual price per vendor, in the tender currency per year.

        Sum over lots of base unit price x annual demand.  A lot a vendor did not bid for is
        priced at the highest bid received for that lot (the usual tender rule that a missing
        item may never make an offer cheaper).  Volume-discount tiers are ignored here; the
        allocation uses them.
        """
        prices = self.price_matrix
        filled = prices.fillna(prices.max(axis=0))
        return (filled * self.demand).sum(axis=1).rename("evaluated_price")

    def score_table(self, *, aggregate: str | None = None) -> pd.DataFrame:
        """Scores of ``source=scores`` criteria, vendor x criterion, evaluators combined.

        Parameters
        ----------
        aggregate : {"mean", "median", "geometric"}, optional
            How several evaluators' scores of one cell combine; default from settings
            (``score_aggregation``, itself ``mean`` by default).
        """
        how = aggregate or str(self.settings["score_aggregation"])
        valid = ("mean", "median", "geometric")
        if how not in valid:
            raise ValueError(f"unknown aggregate {how!r}; valid choices: {', '.join(valid)}")
        cids = [c for c in self.criterion_ids if self.criteria.at[c, "source"] == "scores"]
        g = self.scores.groupby(["vendor_id", "criterion_id"])["value"]
        if how == "geometric":
            if (self.scores["value"] <= 0).any():
                raise ValueError("geometric aggregation needs all scores > 0")
            agg = np.exp(np.log(self.scores["value"]).groupby(
                [self.scores["vendor_id"], self.scores["criterion_id"]]).mean())
        else:
            agg = g.agg(how)
        m = agg.unstack("criterion_id")
        return m.reindex(index=self.vendor_ids, columns=cids).astype(float)

    def decision_matrix(self, *, aggregate: str | None = None) -> pd.DataFrame:
        """Vendor x criterion values for every criterion, in criteria order.

        ``scores`` criteria: evaluators combined by :meth:`score_table`; ``vendor`` criteria: the
        vendors column named in ``attribute`` (yes/no as 1/0); ``price``: :meth:`evaluated_price`.
        """
        cols = {}
        scores = self.score_table(aggregate=aggregate)
        for cid, crit in self.criteria.iterrows():
            if crit["source"] == "scores":
                cols[cid] = scores[cid]
            elif crit["source"] == "vendor":
                cols[cid] = self.vendors[crit["attribute"]].astype(float)
            else:
                cols[cid] = self.evaluated_price()
        m = pd.DataFrame(cols, index=self.vendor_ids)
        m.index.name = "vendor_id"
        m.columns.name = "criterion_id"
        return m

    # ------------------------------------------------------------------ comparison and text
    def equals(self, other: object) -> bool:
        """True when every table and setting is equal (the source path is ignored)."""
        if not isinstance(other, Tender):
            return False
        return dict(self.settings) == dict(other.settings) and all(
            getattr(self, n).equals(getattr(other, n)) for n in _FRAMES
        )

    def __eq__(self, other: object) -> bool:
        return self.equals(other)

    __hash__ = None  # type: ignore[assignment]

    def summary(self) -> str:
        """A few lines describing the tender, for the CLI and notebooks."""
        n_eval = self.scores["evaluator"].dropna().nunique()
        inc = ", ".join(self.incumbents) or "none"
        lines = [
            f"{self.name} ({self.source})" if self.source else self.name,
            f"  {len(self.vendors)} vendors (incumbent: {inc}), {len(self.lots)} lots, "
            f"{len(self.criteria)} criteria in {self.criteria['group'].nunique()} groups, "
            f"{len(self.bids)} bids, {len(self.scores)} scores from {n_eval} evaluators",
            f"  currency {self.currency}, contract {self.contract_years} years, "
            f"weights: {self.settings['weighting']}",
            "  gates: " + (", ".join(f"{g.criterion_id} {g.text}" for g in self.gates) or "none"),
        ]
        extra = [f"{n} {what}{'' if n == 1 else 's'}" for n, what in (
            (len(self.rules), "award rule"), (self.bundles["bundle_id"].nunique(), "package bid"),
            (len(self.discounts), "conditional discount")) if n]
        if extra:
            lines.append("  also: " + ", ".join(extra))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Tender({self.name!r}, vendors={len(self.vendors)}, lots={len(self.lots)}, "
                f"criteria={len(self.criteria)})")


_FRAMES = ("vendors", "criteria", "scores", "lots", "bids", "tiers", "risk", "pairwise", "rules",
           "bundles", "discounts")
#: Tables whose cells :meth:`Tender.with_cells` sets (a scenario's ``tender_cells``).
CELL_TABLES = ("vendors", "criteria", "lots", "risk", "bids", "discounts")


def _cell_rows(table: str, rows: Mapping) -> Iterator[tuple[tuple[str, ...], Mapping]]:
    """(row key, column -> value) of a :meth:`Tender.with_cells` table mapping."""
    if not isinstance(rows, Mapping):
        raise ValueError(f"tender cells of {table}: a mapping of row ids, not {type(rows).__name__}")
    for row, value in rows.items():
        if table == "bids":
            if not isinstance(value, Mapping):
                raise ValueError(f"bids.{row}: a mapping of lot ids to columns")
            for lot, cols in value.items():
                if not isinstance(cols, Mapping):
                    raise ValueError(f"bids.{row}.{lot}: a mapping of columns to values")
                yield (str(row), str(lot)), cols
        else:
            if not isinstance(value, Mapping):
                raise ValueError(f"{table}.{row}: a mapping of columns to values")
            yield (str(row),), value


def _cell_index(frame: pd.DataFrame, table: str, row: tuple[str, ...]) -> object:
    """Index label of *row* in *frame* (a key of the table), or a ValueError listing the valid."""
    if table == "bids":
        if len(row) != 2:
            raise ValueError(f"a bid is a vendor id and a lot id, not {'.'.join(row)!r}")
        vendor, lot = row
        hit = frame.index[(frame["vendor_id"] == vendor) & (frame["lot_id"] == lot)]
        if len(hit) != 1:
            pairs = [f"{v}.{lot_}" for v, lot_ in zip(frame["vendor_id"], frame["lot_id"], strict=True)]
            raise ValueError(f"no bid of {vendor} for lot {lot}; bids: {_listing(pd.Index(pairs))}")
        return hit[0]
    if len(row) != 1:
        raise ValueError(f"a row of {table} is one id, not {'.'.join(row)!r}")
    if row[0] not in frame.index:
        raise ValueError(f"no row {row[0]!r} in {table}; valid: {_listing(frame.index)}")
    return row[0]


# ---------------------------------------------------------------------- validation
#: Values that are valid but rarely meant, by table and column: (low, high, what it would mean).
PLAUSIBLE: dict[tuple[str, str], tuple[float, float, str]] = {
    ("lots", "demand_growth_pct"): (-50.0, 50.0, "percent of demand growth per year"),
}


def _warn_implausible(frames: dict[str, pd.DataFrame], rows: dict[str, np.ndarray],
                      labels: dict[str, str]) -> None:
    """A warning (kept as a note of the run) for each cell outside :data:`PLAUSIBLE`, located."""
    for (table, column), (low, high, what) in PLAUSIBLE.items():
        frame = frames.get(table)
        if frame is None or column not in frame:
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        for i in np.flatnonzero((values < low) | (values > high)):
            warnings.warn(f"{labels[table]} row {int(rows[table][i])}, {column}: {values[i]:g} is "
                          f"outside the plausible range {low:g} to {high:g} ({what}); it is used as "
                          "given: check that it is meant", UserWarning, stacklevel=3)


def build(raw: Mapping[str, tuple[pd.DataFrame, str, object]], *, source: str) -> Tender:
    """Validate raw tables and assemble a Tender.

    Parameters
    ----------
    raw : mapping
        Table name -> (cells as read, source label for messages, user row numbers).
        Missing optional tables may be left out.
    source : str
        Label of the whole tender (folder or workbook path).

    Raises
    ------
    ValidationError
        With every problem of every table, within and across tables.
    """
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    rows: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    for name, table in TABLES.items():
        if name not in raw:
            if table.required:
                problems.append(Problem(source, None, None, name, f"required table {name!r} is missing"))
            frame = pd.DataFrame({c.name: pd.Series(dtype=float if c.kind in ("float", "int")
                                                    else object) for c in table.columns})
            frames[name], rows[name], labels[name] = frame, np.zeros(0, int), name
            continue
        cells, label, user_rows = raw[name]
        user_rows = np.asarray(list(user_rows), dtype=int)
        frame, found = parse_table(cells, table, source=label, rows=user_rows)
        problems += found
        frames[name], rows[name], labels[name] = frame, user_rows, label

    settings = _parse_settings(frames["settings"], labels["settings"], rows["settings"], problems)
    _cross_check(frames, rows, labels, settings, problems)
    if problems:
        raise ValidationError(problems, title=f"invalid tender {source}")
    _warn_implausible(frames, rows, labels)
    out = {}
    for name in _FRAMES:
        frame = frames[name]
        table = TABLES[name]
        if len(table.key) == 1:
            frame = frame.set_index(table.key[0])
        out[name] = frame
    if "risk" in raw and not out["risk"].empty:
        out["risk"] = out["risk"].reindex(out["vendors"].index)
    return Tender(**out, settings=MappingProxyType(settings), source=source)


def _parse_settings(frame: pd.DataFrame, label: str, rows: np.ndarray,
                    problems: list[Problem]) -> dict[str, object]:
    out = {k: v[1] for k, v in SETTINGS.items()}
    for i, (key, value) in enumerate(zip(frame["key"], frame["value"], strict=True)):
        row = int(rows[i]) if len(rows) else None
        key = str(key).strip().lower()
        text = "" if value is None else str(value).strip()
        if key not in SETTINGS:
            problems.append(Problem(label, row, "key", key,
                                    "unknown setting; valid keys: " + ", ".join(SETTINGS)))
            continue
        kind = SETTINGS[key][0]
        if text == "":
            continue
        try:
            if kind == "int":
                number = parse_number(text)
                if not number.is_integer() or not 1 <= number <= 30:
                    raise ValueError
                out[key] = int(number)
            elif kind == "float":
                number = parse_number(text)
                if not np.isfinite(number) or not -100 < number <= 100:
                    raise ValueError
                out[key] = number
            elif kind == "currency":
                if not re.fullmatch(r"[A-Za-z]{3}", text):
                    raise ValueError
                out[key] = text.upper()
            elif kind.startswith("choice:"):
                choices = kind[7:].split("|")
                if text.lower() not in choices:
                    problems.append(Problem(label, row, "value", text,
                                            f"{key} must be one of " + ", ".join(choices)))
                    continue
                out[key] = text.lower()
            else:
                out[key] = text
        except ValueError as err:
            rule = {"int": "a whole number of years from 1 to 30",
                    "float": "a percentage in (-100, 100]",
                    "currency": "a three-letter ISO 4217 code"}[kind]
            why = f": {err}" if str(err) else ""  # a number that is no number says why
            problems.append(Problem(label, row, "value", text, f"{key} must be {rule}{why}"))
    return out


def _cross_check(f: dict[str, pd.DataFrame], rows: dict[str, np.ndarray], labels: dict[str, str],
                 settings: dict[str, object], problems: list[Problem]) -> None:
    """References between tables and completeness of the decision matrix."""

    def ref(table: str, column: str, valid: pd.Index, what: str) -> pd.Series:
        col = f[table][column]
        bad = col.notna() & (col != "") & ~col.isin(valid)
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(labels[table], int(rows[table][i]), column, str(col.iat[i]),
                                    f"unknown {what}{_confusable(str(col.iat[i]), valid)}; known: "
                                    + _listing(valid)))
        return ~bad

    vendors = pd.Index(f["vendors"]["vendor_id"].dropna().unique())
    lots = pd.Index(f["lots"]["lot_id"].dropna().unique())
    crit = f["criteria"]
    crit_ids = pd.Index(crit["criterion_id"].dropna().unique())
    source_of = dict(zip(crit["criterion_id"], crit["source"], strict=True))

    # --- criteria: sources, attributes, gates, scales, weights
    vendor_cols = {c.name: c for c in TABLES["vendors"].columns if c.kind in ("float", "int", "bool")}
    for i, c in enumerate(crit.itertuples(index=False)):
        row = int(rows["criteria"][i])
        if c.source == "vendor":
            if c.attribute not in vendor_cols:
                problems.append(Problem(labels["criteria"], row, "attribute", c.attribute or "",
                                        "source=vendor needs a numeric or yes/no vendors column: "
                                        + ", ".join(vendor_cols)))
            else:
                blank = f["vendors"][c.attribute].isna().to_numpy()
                for j in np.flatnonzero(blank):
                    problems.append(Problem(labels["vendors"], int(rows["vendors"][j]), c.attribute,
                                            "", f"blank, but criterion {c.criterion_id} uses it"))
        if isinstance(c.gate, str) and c.gate and parse_gate(c.criterion_id, c.gate) is None:
            m = _GATE.match(c.gate)
            why = ""
            if m and m.group(2).lower() not in ("yes", "true", "no", "false"):
                try:
                    parse_number(m.group(2))
                except ValueError as err:
                    why = f" ({err})"
            problems.append(Problem(labels["criteria"], row, "gate", c.gate,
                                    "gate must be <op> <number or yes/no>, op one of "
                                    f">=, <=, >, <, ==, !={why}"))
        if pd.notna(c.scale_min) and pd.notna(c.scale_max) and c.scale_min >= c.scale_max:
            problems.append(Problem(labels["criteria"], row, "scale_max", _num(c.scale_max),
                                    f"must be above scale_min ({_num(c.scale_min)})"))
        if settings["weighting"] == "direct" and pd.isna(c.weight):
            problems.append(Problem(labels["criteria"], row, "weight", "",
                                    "weight required (or set weighting=ahp in settings)"))
    if (crit["source"] == "price").sum() > 1:
        problems.append(Problem(labels["criteria"], None, "source", "price",
                                "at most one criterion may have source=price"))
    if settings["weighting"] == "direct" and len(crit) and not (crit["weight"].fillna(0) > 0).any():
        problems.append(Problem(labels["criteria"], None, "weight", "",
                                "at least one criterion needs a weight > 0"))

    # --- scores
    sc = f["scores"]
    ok = ref("scores", "vendor_id", vendors, "vendor") & ref("scores", "criterion_id", crit_ids,
                                                            "criterion")
    for i in np.flatnonzero(ok.to_numpy()):
        cid = sc["criterion_id"].iat[i]
        if cid is not None and source_of.get(cid) != "scores":  # blank: flagged already
            problems.append(Problem(labels["scores"], int(rows["scores"][i]), "criterion_id", cid,
                                    f"criterion has source={source_of.get(cid)}; only "
                                    "source=scores criteria are scored here"))
    # one row per known id: a duplicated or missing criterion_id is already a problem of its own
    # and must not make the lookup below fail on a non-unique index
    scale = (crit.dropna(subset=["criterion_id"]).drop_duplicates("criterion_id")
             .set_index("criterion_id")[["scale_min", "scale_max"]])
    lo = sc["criterion_id"].map(scale["scale_min"]).astype(float)
    hi = sc["criterion_id"].map(scale["scale_max"]).astype(float)
    out_of_scale = ((sc["value"] < lo) | (sc["value"] > hi)).to_numpy()
    for i in np.flatnonzero(out_of_scale):
        problems.append(Problem(labels["scores"], int(rows["scores"][i]), "value",
                                _num(sc["value"].iat[i]),
                                f"outside the criterion's scale [{_num(lo.iat[i])}, {_num(hi.iat[i])}]"))
    # fact (blank evaluator) and judgments mixed on one cell
    has_eval = sc["evaluator"].notna()
    mixed = sc.assign(e=has_eval).groupby(["vendor_id", "criterion_id"])["e"].nunique() > 1
    for (v, cid) in mixed[mixed].index:
        problems.append(Problem(labels["scores"], None, "evaluator", f"{v}/{cid}",
                                "scored both with and without evaluator; use one or the other"))
    judged = ok.to_numpy() & sc["criterion_id"].map(source_of).eq("scores").to_numpy()
    _missing_evaluator_scores(sc, judged, rows["scores"], labels["scores"], problems)
    scored_crit = [c for c in crit_ids if source_of.get(c) == "scores"]
    present = set(zip(sc["vendor_id"], sc["criterion_id"], strict=True))
    for j, v in enumerate(f["vendors"]["vendor_id"]):
        if v is None:
            continue
        missing = [c for c in scored_crit if (v, c) not in present]
        if missing and len(missing) == len(scored_crit):
            problems.append(Problem(labels["vendors"], int(rows["vendors"][j]), "vendor_id", v,
                                    f"vendor has no scores in {labels['scores']}"))
        elif missing:
            problems.append(Problem(labels["scores"], None, "criterion_id", v,
                                    "vendor has no score for " + _listing(pd.Index(missing))))

    # --- lots and bids
    ref("lots", "incumbent_vendor_id", vendors, "vendor")
    bids = f["bids"]
    ref("bids", "vendor_id", vendors, "vendor")
    ref("bids", "lot_id", lots, "lot")
    over = (bids["min_volume"] > bids["capacity"]).to_numpy()
    for i in np.flatnonzero(over):
        problems.append(Problem(labels["bids"], int(rows["bids"][i]), "min_volume",
                                _num(bids["min_volume"].iat[i]),
                                f"above the bid's capacity ({_num(bids['capacity'].iat[i])})"))
    bid_lots = set(bids["lot_id"])
    for j, lot in enumerate(f["lots"]["lot_id"]):
        if lot is not None and lot not in bid_lots:
            problems.append(Problem(labels["lots"], int(rows["lots"][j]), "lot_id", lot,
                                    f"lot has no bids in {labels['bids']}"))

    # --- tiers
    tiers = f["tiers"]
    kind = dict(zip(zip(bids["vendor_id"], bids["lot_id"], strict=True), bids["discount_type"],
                    strict=True))
    base = dict(zip(zip(bids["vendor_id"], bids["lot_id"], strict=True), bids["unit_price"],
                    strict=True))
    for i, t in enumerate(tiers.itertuples(index=False)):
        key = (t.vendor_id, t.lot_id)
        row = int(rows["tiers"][i])
        if key not in kind:
            problems.append(Problem(labels["tiers"], row, "lot_id", f"{t.vendor_id}/{t.lot_id}",
                                    "tier for a bid that does not exist"))
        elif kind[key] == "none":
            problems.append(Problem(labels["tiers"], row, "vendor_id", f"{t.vendor_id}/{t.lot_id}",
                                    "tier for a bid whose discount_type is none"))
    if len(tiers):
        ordered = tiers.assign(_row=rows["tiers"]).sort_values(["vendor_id", "lot_id",
                                                                "from_volume"])
        for key, g in ordered.groupby(["vendor_id", "lot_id"], sort=False):
            prices = [base.get(key, np.inf), *g["unit_price"]]
            for k in range(1, len(prices)):
                if prices[k] > prices[k - 1]:
                    problems.append(Problem(labels["tiers"], int(g["_row"].iat[k - 1]),
                                            "unit_price", _num(prices[k]),
                                            "tier price above the price of a lower volume"))
    with_tiers = set(zip(tiers["vendor_id"], tiers["lot_id"], strict=True))
    for i, b in enumerate(bids.itertuples(index=False)):
        if b.discount_type != "none" and (b.vendor_id, b.lot_id) not in with_tiers:
            problems.append(Problem(labels["bids"], int(rows["bids"][i]), "discount_type",
                                    b.discount_type, f"no tiers in {labels['tiers']} for this bid"))

    # --- risk
    risk = f["risk"]
    if len(risk):
        ref("risk", "vendor_id", vendors, "vendor")
        covered = set(risk["vendor_id"])
        for j, v in enumerate(f["vendors"]["vendor_id"]):
            if v is not None and v not in covered:
                problems.append(Problem(labels["vendors"], int(rows["vendors"][j]), "vendor_id", v,
                                        f"vendor has no row in {labels['risk']}"))

    # --- pairwise judgments
    pw = f["pairwise"]
    groups = set(crit["group"].dropna())
    group_of = dict(zip(crit["criterion_id"], crit["group"], strict=True))
    for i, p in enumerate(pw.itertuples(index=False)):
        row = int(rows["pairwise"][i])
        parent = p.parent or "root"
        if parent != "root" and parent not in groups:
            problems.append(Problem(labels["pairwise"], row, "parent", parent,
                                    "unknown group; use root or one of " + ", ".join(sorted(groups))))
            continue
        for col in ("item_a", "item_b"):
            item = getattr(p, col)
            valid = item in groups if parent == "root" else group_of.get(item) == parent
            if not valid:
                what = "group" if parent == "root" else f"criterion of group {parent}"
                problems.append(Problem(labels["pairwise"], row, col, str(item), f"not a {what}"))
        if p.item_a == p.item_b:
            problems.append(Problem(labels["pairwise"], row, "item_b", str(p.item_b),
                                    "an item is not compared with itself"))
    if settings["weighting"] == "ahp" and pw.empty:
        problems.append(Problem(labels["pairwise"], None, None, "",
                                "weighting=ahp needs judgments in the pairwise table"))

    if len(f["rules"]):
        _check_rules(f, rows["rules"], labels["rules"], problems)
    ref("discounts", "vendor_id", vendors, "vendor")
    if len(f["bundles"]):
        ok = ref("bundles", "vendor_id", vendors, "vendor") & ref("bundles", "lot_id", lots, "lot")
        _check_bundles(f, rows["bundles"], labels["bundles"], ok.to_numpy(), problems)
    if len(f["discounts"]):
        _check_discounts(f, rows["discounts"], labels["discounts"], vendors, lots, problems)


def _check_bundles(f: dict[str, pd.DataFrame], rows: np.ndarray, label: str, ok: np.ndarray,
                   problems: list[Problem]) -> None:
    """Each package bid: one vendor, one price and one split on all its rows, and on each row a
    volume or a share (not both) that fits in the lot's demand."""
    bt = f["bundles"]
    demand = dict(zip(f["lots"]["lot_id"], f["lots"]["annual_demand"], strict=True))
    first: dict[str, int] = {}
    flagged = {p.row for p in problems if p.source == label}  # cells the parser refused
    for i, r in enumerate(bt.itertuples(index=False)):
        line = int(rows[i])
        has_v, has_s = pd.notna(r.volume), pd.notna(r.share_pct)
        if has_v == has_s:
            problems.append(Problem(label, line, "volume", _text(r.volume),
                                    "give the lot's volume (units a year) or its share_pct, not both"
                                    if has_v else "blank: give the lot's volume or its share_pct"))
        elif has_v and ok[i] and r.lot_id in demand and r.volume > demand[r.lot_id] * (1 + 1e-9):
            problems.append(Problem(label, line, "volume", _text(r.volume),
                                    f"more than lot {r.lot_id}'s annual demand of "
                                    f"{_num(demand[r.lot_id])} units"))
        if r.bundle_id is None:
            continue
        j = first.setdefault(r.bundle_id, i)
        if j == i or {line, int(rows[j])} & flagged:
            continue
        head = bt.iloc[j]
        for col in ("vendor_id", "split"):
            if getattr(r, col) != head[col] and getattr(r, col) is not None:
                problems.append(Problem(label, line, col, _text(getattr(r, col)),
                                        f"bundle {r.bundle_id} has {col} {_text(head[col])} on row "
                                        f"{int(rows[j])}: one {col.split('_')[0]} per bundle"))
        if pd.notna(r.price) and pd.notna(head["price"]) and r.price != head["price"]:
            problems.append(Problem(label, line, "price", _text(r.price),
                                    f"bundle {r.bundle_id}'s package price is {_num(head['price'])} "
                                    f"on row {int(rows[j])}: give it once or the same on every row"))
    priced = bt.groupby("bundle_id", sort=False)["price"].apply(lambda p: p.notna().any())
    for b in priced.index[~priced.to_numpy()]:
        problems.append(Problem(label, int(rows[first[b]]), "price", "",
                                f"bundle {b} has no package price: give it on its first row"))


def _check_discounts(f: dict[str, pd.DataFrame], rows: np.ndarray, label: str, vendors: pd.Index,
                     lots: pd.Index, problems: list[Problem]) -> None:
    """Each conditional discount: known lots, a whole number of lots that the lots can reach, and
    a vendor that bids on them (else the offer could never apply)."""
    bidding: dict[str, set] = {}
    for table in ("bids", "bundles"):
        for v, lot in zip(f[table]["vendor_id"], f[table]["lot_id"], strict=True):
            bidding.setdefault(v, set()).add(lot)
    for i, r in enumerate(f["discounts"].itertuples(index=False)):
        line = int(rows[i])
        named = [x.strip() for x in r.lots.split(";") if x.strip()] if isinstance(r.lots, str) else []
        unknown = [x for x in named if x not in lots]
        for x in unknown:
            problems.append(Problem(label, line, "lots", x, f"unknown lot{_confusable(x, lots)}; known: "
                                    + _listing(lots)))
        if unknown or r.vendor_id not in vendors:
            continue
        scope = set(named) or set(lots)
        bid_on = bidding.get(r.vendor_id, set()) & scope
        if not bid_on:
            problems.append(Problem(label, line, "vendor_id", str(r.vendor_id),
                                    "the vendor bids on none of the discount's lots: it could never apply"))
        if r.condition == "lots_at_least" and pd.notna(r.threshold):
            if not float(r.threshold).is_integer():
                problems.append(Problem(label, line, "threshold", _text(r.threshold),
                                        "lots_at_least counts lots: give a whole number"))
            elif bid_on and r.threshold > len(bid_on):
                problems.append(Problem(label, line, "threshold", _text(r.threshold),
                                        f"the vendor bids on {len(bid_on)} of the discount's lots: "
                                        "it could never apply"))


def _check_rules(f: dict[str, pd.DataFrame], rows: np.ndarray, label: str,
                 problems: list[Problem]) -> None:
    """Each row of the rules table: its lots, towers, vendors and vendors column known, and a
    scoped rule that holds against the tender (a problem on the row's cell, valid values listed)."""
    from .allocation.scoped import RowError, resolve, table_rule

    vt, lt = f["vendors"], f["lots"]
    vendors = [str(v) for v in vt["vendor_id"].dropna()]
    lots = [str(x) for x in lt["lot_id"].dropna()]
    towers = sorted({str(t) for t in lt["tower"].dropna()})
    columns = sorted(c for c in vt.columns if c not in ("vendor_id", "name"))
    names: dict[str, int] = {}
    flagged = {p.row for p in problems if p.source == label}  # cells the parser refused
    for i, (_, row) in enumerate(f["rules"].iterrows()):
        r = row.to_dict()
        line = int(rows[i])
        bad = line in flagged
        for col, valid, what in (("lots", lots, "lot"), ("towers", towers, "tower"),
                                 ("vendors", vendors, "vendor")):
            cell = r.get(col)
            for x in (str(cell).split(";") if isinstance(cell, str) else ()):
                if x.strip() and x.strip() not in valid:
                    bad = True
                    problems.append(Problem(label, line, col, x.strip(),
                                            f"unknown {what}{_confusable(x.strip(), pd.Index(valid))}"
                                            f"; known: {_listing(pd.Index(valid))}"))
        col = r.get("vendor_column")
        if isinstance(col, str) and col not in columns:
            bad = True
            problems.append(Problem(label, line, "vendor_column", col,
                                    "unknown vendors column; valid: " + ", ".join(columns)))
        if bad or r.get("rule_id") is None or r.get("measure") is None:
            continue
        try:
            rule = table_rule(r, str(r["rule_id"]))
            resolve([rule], vendor_ids=vendors, lot_ids=lots, vendors=vt, lots=lt)
        except RowError as err:
            problems.append(Problem(label, line, err.column, _text(r.get(err.column)), str(err)))
            continue
        except ValueError as err:  # against the tender: a per column, units of the lots ...
            msg = str(err).removeprefix(f"rules[0] ({rule.label}): ")
            where = ("per" if msg.startswith("per ") else "vendor_value" if "needs a number" in msg
                     else ("towers" if isinstance(r.get("towers"), str) else "lots")
                     if "units" in msg else None)
            problems.append(Problem(label, line, where, _text(r.get(where)) if where else "", msg))
            continue
        if rule.label in names:
            problems.append(Problem(label, line, "name", rule.label,
                                    f"the same rule name as row {names[rule.label]}: give each "
                                    "rule its own name"))
        names.setdefault(rule.label, line)


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return _num(v) if isinstance(v, float) else str(v)


def _missing_evaluator_scores(sc: pd.DataFrame, ok: np.ndarray, rows: np.ndarray, label: str,
                              problems: list[Problem]) -> None:
    """Each evaluator of a criterion must score it for every vendor scored on it.

    Otherwise the combined score of that vendor x criterion would silently rest on the other
    evaluators alone.  The problem is located at the first row of the incomplete cell (the row
    as the user sees it), column ``evaluator``, value the missing evaluator.
    """
    judged = ok & sc["evaluator"].notna().to_numpy() & sc["vendor_id"].notna().to_numpy() \
        & sc["criterion_id"].notna().to_numpy()
    if not judged.any():
        return
    have: set[tuple[str, str, str]] = set()
    first_row: dict[tuple[str, str], int] = {}
    evaluators: dict[str, dict[str, None]] = {}
    for i in np.flatnonzero(judged):
        v, c, e = sc["vendor_id"].iat[i], sc["criterion_id"].iat[i], sc["evaluator"].iat[i]
        have.add((v, c, e))
        first_row.setdefault((v, c), int(rows[i]))
        evaluators.setdefault(c, {})[e] = None
    for (v, c), row in first_row.items():
        for e in evaluators[c]:
            if (v, c, e) not in have:
                problems.append(Problem(label, row, "evaluator", e,
                                        f"evaluator {e} scored criterion {c} for other vendors but "
                                        f"not for {v}: add the score (the combined score of {v}/{c} "
                                        "would use the other evaluators alone)"))


#: Cyrillic and Greek letters drawn like Latin ones (the common homoglyphs of ids).
_LOOK_ALIKE = str.maketrans("АВЕКМНОРСТХаеорсухΑΒΕΗΙΚΜΝΟΡΤΥΧΖοα",
                            "ABEKMHOPCTXaeopcyxABEHIKMNOPTYXZoa")


def _confusable(value: str, valid: pd.Index) -> str:
    """Why *value* is not the known id it looks like (case, spaces, look-alike characters), or ''."""
    import unicodedata

    def folded(x: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", x).translate(_LOOK_ALIKE).casefold().split())

    def codes(x: str) -> str:
        return " ".join(f"U+{ord(c):04X}" for c in x if not c.isascii()) or "ASCII only"

    for known in map(str, valid):
        if known == value:
            continue
        if value.casefold() == known.casefold():
            return f" (it differs from '{known}' only in upper/lower case)"
        if " ".join(value.split()) == " ".join(known.split()):
            return f" (it differs from '{known}' only in spaces)"
        if folded(value) == folded(known):
            return (f" (it looks like '{known}' but its characters differ: {codes(value)} against "
                    f"{codes(known)})")
    return ""


def _listing(ids: pd.Index, limit: int = 12) -> str:
    items = [str(i) for i in ids]
    return ", ".join(items[:limit]) + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def _num(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return f"{float(v):g}"
