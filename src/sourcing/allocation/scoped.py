"""Scoped rules: a measure of part of the award (some lots, some vendors) against a bound.

A :class:`ScopedRule` says, in the buyer's terms, *what* part of the award it watches and *how
much* of it is allowed::

    # the incumbent keeps at least 30 % of the service desk
    {lots: {tower: [service_desk]}, vendors: {incumbent: true},
     measure: demand_share, bound: at_least, value: 30}
    # at most two offshore vendors in total
    {vendors: {offshore_share_pct: {">=": 50}}, measure: vendors, bound: at_most, value: 2}
    # vendors from one country at most 40 % of spend
    {measure: spend_share, bound: at_most, value: 40, per: country}
    # security operations only to SOC 2 holders
    {lots: {tower: [security]}, vendors: {certifications: SOC 2}, measure: only}
    # L4 and L5 to the same vendor
    {lots: [L4, L5], measure: same_vendor}

Scope
-----
``lots``: absent (every lot), a list of lot ids, or ``{tower: [...]}`` (the lots of those towers).
``vendors``: absent (every vendor), a list of vendor ids, or ``{column: condition}`` over columns
of the vendors table (``country``, ``offshore_share_pct``, ``incumbent``, ``iso27001``,
``certifications``, ``currency``, any ``x_`` column; several columns: all must hold).  A
condition is a value (equal; for ``certifications``, a ';'-separated list, "holds"), a list of
values (one of them), or ``{op: value}`` with op one of :data:`OPERATORS`.  ``incumbent`` is true
for a vendor flagged in the vendors table or named as a lot's ``incumbent_vendor_id``.

Measures (``value`` in percent for shares, a whole number for counts)
---------------------------------------------------------------------
``demand_share``
    Units/year the scope's vendors hold on the scope's lots, in percent of those lots' annual
    demand (the demand, not the volume bought, where over-buying is allowed).  The units of the
    lots are added up, so the lots of one bound share a unit (``per: lot`` bounds each lot).
``spend_share``
    Unit-price spend of the scope's vendors on the scope's lots (tender currency per year, after
    volume discounts), in percent of the spend of every vendor on those lots.
``vendors``
    Vendors of the scope awarded volume on the scope's lots: over all lots (``per: all`` or per a
    vendor attribute), or on each lot (``per: lot``; the only form for a part of the lots).
``lots``
    Lots of the scope each vendor of the scope is awarded (``per: vendor``).
``same_vendor``
    The scope's lots go together: one vendor of the scope holds all of them, each whole (rows:
    at most one vendor per lot, and a vendor's award binaries equal on every lot of the scope;
    vendors outside the scope get none).  No ``bound`` or ``value``.
``only``
    The scope's lots go only to the scope's vendors: the other vendors hold 0 % of them (the
    shorthand of ``demand_share`` of the others ``at_most 0``).  No ``bound`` or ``value``.

``per`` splits the measure into one bound per lot (``lot``), per vendor (``vendor``), or per value
of a vendors column (``country``: the vendors of each country together); ``all`` (the default for
every measure but ``lots``) is one bound on the whole scope.

A rule with lot and vendor ids only is checked as it stands; a tower or attribute selector is
resolved against the tender (:func:`resolve`) where the instance is built, and the resolved rule
(explicit ids, ``groups`` for a ``per`` attribute) is what the rows and the checks read.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..present import percent

__all__ = ["BOUNDS", "MEASURES", "OPERATORS", "ScopedRule", "resolve", "resolve_policy", "table_rule",
           "tender_rules", "with_tender_rules"]

#: What a scoped rule measures (see the module notes).
MEASURES = ("demand_share", "spend_share", "vendors", "lots", "same_vendor", "only")
#: How the measure compares with the value.
BOUNDS = ("at_least", "at_most", "equal")
#: Conditions on a vendors column.
OPERATORS = (">=", ">", "<=", "<", "==", "!=", "in", "contains", "lacks")
_SENSE = {"at_least": ">=", "at_most": "<=", "equal": "=="}
_BOUND_WORDS = {"at_least": "at least", "at_most": "at most", "equal": "exactly"}
_SHARES = ("demand_share", "spend_share")
_NO_BOUND = ("same_vendor", "only")
_PER = {"demand_share": ("all", "lot", "vendor"), "spend_share": ("all", "lot", "vendor"),
        "vendors": ("all", "lot"), "lots": ("vendor",), "same_vendor": ("all",), "only": ("all",)}
_ATTRIBUTE_PER = ("demand_share", "spend_share", "vendors")


def _listed(words) -> str:
    words = [str(w) for w in words]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class ScopedRule(BaseModel):
    """One scoped rule (module notes): a measure of some lots and vendors against a bound.

    Attributes
    ----------
    name : str, optional
        The rule in the buyer's words (shown in the rule-cost table, the diagnosis, the checks
        and the award page); generated from the scope when absent (:attr:`label`).
    lots : list of str or dict, optional
        Lot ids, or ``{"tower": [tower, ...]}``; absent: every lot.
    vendors : list of str or dict, optional
        Vendor ids, or ``{column: condition}`` (module notes); absent: every vendor.
    measure : {"demand_share", "spend_share", "vendors", "lots", "same_vendor", "only"}
    bound : {"at_least", "at_most", "equal"}, optional
        Required except for ``same_vendor`` and ``only``.
    value : float, optional
        Percent (0-100) for the shares, a whole number >= 0 for the counts.
    per : str, optional
        ``all``, ``lot``, ``vendor`` or a vendors column; default ``vendor`` for ``lots``, else
        ``all``.
    groups : dict, optional
        Vendor id -> group, the values of the ``per`` column; set by :func:`resolve`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str | None = Field(None, min_length=1)
    lots: tuple[str, ...] | dict[str, Any] | None = None
    vendors: tuple[str, ...] | dict[str, Any] | None = None
    measure: Literal["demand_share", "spend_share", "vendors", "lots", "same_vendor", "only"]
    bound: Literal["at_least", "at_most", "equal"] | None = None
    value: float | None = None
    per: str | None = None
    groups: dict[str, str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("lots", "vendors"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ScopedRule:
        m = self.measure
        if m in _NO_BOUND:
            if self.bound is not None or self.value is not None:
                raise ValueError(f"measure {m!r} takes no bound or value")
        else:
            if self.bound is None:
                raise ValueError(f"measure {m!r} needs a bound: one of {', '.join(BOUNDS)}")
            if self.value is None:
                raise ValueError(f"measure {m!r} needs a value ("
                                 + ("percent, 0-100)" if m in _SHARES else "a whole number >= 0)"))
            if m in _SHARES and not 0 <= self.value <= 100:
                raise ValueError(f"value of a {m} is a percent in [0, 100], got {self.value:g}")
            if m not in _SHARES and (self.value < 0 or not float(self.value).is_integer()):
                raise ValueError(f"value of a {m} count is a whole number >= 0, got {self.value:g}")
        for key in ("lots", "vendors"):
            if getattr(self, key) == ():
                raise ValueError(f"{key} lists no id; leave {key} out to mean every one")
        if isinstance(self.lots, dict):
            bad = sorted(set(self.lots) - {"tower"})
            if bad or not self.lots:
                got = ", ".join(bad) or "nothing"
                raise ValueError(f"lots selects by 'tower' (or lists lot ids); got {got}")
        if isinstance(self.vendors, dict) and not self.vendors:
            raise ValueError("vendors selects by {column: condition} (or lists vendor ids); got nothing")
        if isinstance(self.vendors, dict):
            for col, cond in self.vendors.items():
                if isinstance(cond, dict):
                    bad = sorted(str(k) for k in cond if k not in OPERATORS)
                    if bad:
                        raise ValueError(f"vendors.{col}: unknown condition {', '.join(bad)}; valid: "
                                         + ", ".join(OPERATORS))
        per = self.per_
        if per not in _PER[m] and (per in ("all", "lot", "vendor") or m not in _ATTRIBUTE_PER):
            valid = list(_PER[m]) + (["a vendors column (e.g. country)"] if m in _ATTRIBUTE_PER else [])
            raise ValueError(f"per {per!r} does not fit measure {m!r}; valid: {', '.join(valid)}")
        if m == "vendors" and per != "lot" and self.lots is not None:
            raise ValueError("measure 'vendors' over a part of the lots is counted on each lot "
                             "(per: lot); over all lots (no lots), per: all or a vendors column")
        if m == "same_vendor" and isinstance(self.lots, tuple) and len(self.lots) < 2:
            raise ValueError("measure 'same_vendor' needs at least two lots")
        if m == "same_vendor" and self.lots is None:
            raise ValueError("measure 'same_vendor' needs the lots that go together (lots: [...])")
        return self

    # ------------------------------------------------------------------ reading
    @property
    def per_(self) -> str:
        """``per`` with its default (``vendor`` for ``lots``, else ``all``)."""
        return self.per or ("vendor" if self.measure == "lots" else "all")

    @property
    def sense(self) -> str:
        """``">="``, ``"<="`` or ``"=="``."""
        return "<=" if self.bound is None else _SENSE[self.bound]

    @property
    def limit(self) -> float:
        """The bound's value in the measure's unit (percent, or a count); 0 for ``only``, 1 for
        ``same_vendor`` (vendors holding the lots)."""
        if self.measure == "only":
            return 0.0
        if self.measure == "same_vendor":
            return 1.0
        return float(self.value)

    @property
    def resolved(self) -> bool:
        """Lots and vendors are ids (or all), and a ``per`` column has its groups."""
        plain = not isinstance(self.lots, dict) and not isinstance(self.vendors, dict)
        return plain and (self.per_ in ("all", "lot", "vendor") or self.groups is not None)

    @property
    def label(self) -> str:
        """The rule's key and words: ``name``, or words generated from the scope with ids."""
        return self.words()

    def words(self, names=None) -> str:
        """The rule in words: ``name`` when given, else generated (``names``: id -> name)."""
        if self.name:
            return self.name
        name = names or (lambda k: str(k))
        lots = self.lots
        if lots is None:
            where = "All lots"
        elif isinstance(lots, dict):
            towers = lots["tower"] if isinstance(lots["tower"], list | tuple) else [lots["tower"]]
            where = _listed(str(t).replace("_", " ") for t in towers)
            where = where[:1].upper() + where[1:]
        else:
            where = _listed(name(x) for x in lots)
        who = _who(self.vendors, name)
        m, per = self.measure, self.per_
        bound = _BOUND_WORDS.get(self.bound or "", "")
        if m in _SHARES:
            what = "demand" if m == "demand_share" else "spend"
            if per == "all":
                subject = who
            elif per == "vendor":
                subject = f"each of {who}" if self.vendors is not None else "each vendor"
            elif per == "lot":
                subject = who
                what = "each lot's " + what
            else:
                subject = f"{who} of any one {per.replace('_', ' ')}"
            one = subject.startswith(("the ", "each ")) or (
                isinstance(self.vendors, tuple) and len(self.vendors) == 1 and per == "all")
            verb = "take" if m == "spend_share" else ("keeps" if one else "keep")
            if what in ("demand", "spend"):
                what = "the " + what
            return f"{where}: {subject} {verb} {bound} {percent(self.value, of=100)} of {what}"
        if m == "vendors":
            n = f"{bound} {int(self.value)} {who}"
            tail = {"all": " in total", "lot": " on each lot"}.get(
                per, f" from any one {per.replace('_', ' ')}")
            return f"{where}: {n}{tail}"
        if m == "lots":
            each = "each of " + who if self.vendors is not None else "each vendor"
            return f"{where}: {each} wins {bound} {int(self.value)} of them"
        if m == "same_vendor":
            return f"{where} go to the same vendor" + ("" if self.vendors is None else f" ({who})")
        return f"{where}: only to {who}"


def _who(sel, name) -> str:
    """The vendors a selector picks, in words."""
    if sel is None:
        return "vendors"
    if not isinstance(sel, dict):
        return _listed(name(v) for v in sel)
    parts = []
    for col, cond in sel.items():
        label = str(col).removeprefix("x_").replace("_", " ")
        if col == "incumbent":
            parts.append("the incumbent" if cond in (True, "yes", 1, "true") else "non-incumbents")
        elif col == "certifications" and not isinstance(cond, dict):
            held = cond if isinstance(cond, list | tuple) else [cond]
            parts.append(_listed(held) + " holders")
        elif col == "iso27001" and not isinstance(cond, dict):
            held = cond in (True, "yes", 1, "true")
            parts.append("ISO 27001 holders" if held else "vendors without ISO 27001")
        elif col == "country" and not isinstance(cond, dict):
            parts.append("vendors from " + _listed(cond if isinstance(cond, list | tuple) else [cond]))
        elif isinstance(cond, dict):
            ops = {">=": "at least", ">": "above", "<=": "at most", "<": "below", "==": "", "!=": "not",
                   "in": "one of", "contains": "holding", "lacks": "without"}
            said = " and ".join(f"{ops[k]} {_value_words(v)}".strip() for k, v in cond.items())
            if col == "offshore_share_pct":
                parts.append(f"offshore vendors (offshore share {said}%)")
            else:
                parts.append(f"vendors with {label} {said}")
        else:
            parts.append(f"vendors with {label} {_value_words(cond)}")
    return " and ".join(parts)


def _value_words(v) -> str:
    if isinstance(v, list | tuple):
        return _listed(_value_words(x) for x in v)
    if isinstance(v, float) and v.is_integer():
        return f"{v:g}"
    return str(v)


# ---------------------------------------------------------------------- resolution
def _truthy(s: pd.Series) -> pd.Series:
    return s.map(lambda v: str(v).strip().lower() in ("1", "true", "yes", "y", "x")
                 if not isinstance(v, bool | np.bool_) else bool(v)).astype(bool)


def _held(cell, want) -> bool:
    items = {x.strip().lower() for x in str(cell).split(";")} if isinstance(cell, str) else set()
    return str(want).strip().lower() in items


def _matches(col: str, values: pd.Series, cond, where: str) -> pd.Series:
    """Vendors whose *values* (one vendors column) meet *cond*."""
    if col in ("incumbent", "iso27001") or values.dtype == bool:
        flags = _truthy(values.fillna(False))
        if isinstance(cond, dict):
            raise ValueError(f"{where}: {col} is yes/no; give true or false")
        return flags == (str(cond).strip().lower() in ("1", "true", "yes", "y"))
    if not isinstance(cond, dict):
        cond = {"in": list(cond)} if isinstance(cond, list | tuple) else (
            {"contains": cond} if col == "certifications" else {"==": cond})
    ok = pd.Series(True, index=values.index)
    num = pd.to_numeric(values, errors="coerce")
    for op, want in cond.items():
        if op in (">=", ">", "<=", "<"):
            try:
                w = float(want)
            except (TypeError, ValueError):
                raise ValueError(f"{where}: {col} {op} needs a number, got {want!r}") from None
            ok &= {">=": num >= w, ">": num > w, "<=": num <= w, "<": num < w}[op].fillna(False)
        elif op in ("==", "!="):
            same = values.astype(str).str.strip().str.lower() == str(want).strip().lower()
            if pd.api.types.is_number(want) and not isinstance(want, bool):
                same = same | (num == float(want)).fillna(False)
            ok &= same if op == "==" else ~same
        elif op == "in":
            wanted = {str(w).strip().lower() for w in (want if isinstance(want, list | tuple) else [want])}
            ok &= values.astype(str).str.strip().str.lower().isin(wanted)
        else:  # contains / lacks: one of a ';'-separated list
            has = values.map(lambda cell, w=want: _held(cell, w)).astype(bool)
            ok &= has if op == "contains" else ~has
    return ok


def resolve(rules, *, vendor_ids, lot_ids, vendors: pd.DataFrame | None = None,
            lots: pd.DataFrame | None = None) -> tuple[ScopedRule, ...]:
    """Scoped rules with explicit ids: towers and vendor conditions read from the tender.

    Parameters
    ----------
    rules : sequence of ScopedRule
    vendor_ids, lot_ids : list of str
        The tender's (or the check's) vendors and lots.
    vendors : DataFrame, optional
        The vendors table (indexed by ``vendor_id`` or with that column); needed by a vendor
        condition or a ``per`` column.
    lots : DataFrame, optional
        The lots table; needed by a tower selector (and read for lot incumbents).

    Raises
    ------
    ValueError
        An unknown lot, vendor, tower or column, naming the rule and listing the valid choices.
    """
    out = []
    vendor_ids, lot_ids = [str(v) for v in vendor_ids], [str(x) for x in lot_ids]
    vt = _indexed(vendors, "vendor_id")
    lt = _indexed(lots, "lot_id")
    for i, r in enumerate(rules):
        where = f"rules[{i}] ({r.label})"
        update: dict[str, Any] = {}
        if isinstance(r.lots, dict):
            if lt is None or "tower" not in lt.columns:
                raise ValueError(f"{where}: lots by tower need the lots table's tower column")
            towers = r.lots["tower"] if isinstance(r.lots["tower"], list | tuple) else [r.lots["tower"]]
            known = sorted({str(t) for t in lt["tower"].dropna()})
            bad = [str(t) for t in towers if str(t) not in known]
            if bad:
                raise ValueError(f"{where}: unknown tower(s) {', '.join(bad)}; "
                                 f"valid towers: {', '.join(known)}")
            picked = lt["tower"].astype(str).isin([str(t) for t in towers]).to_numpy()
            update["lots"] = tuple(str(x) for x in lt.index[picked])
        elif r.lots is not None:
            bad = [x for x in r.lots if x not in lot_ids]
            if bad:
                raise ValueError(f"{where}: unknown lot(s) {', '.join(bad)}; "
                                 f"valid lots: {', '.join(lot_ids[:20])}")
        if isinstance(r.vendors, dict) or r.per_ not in ("all", "lot", "vendor"):
            if vt is None:
                raise ValueError(f"{where}: a vendor condition or per column needs the vendors table")
            vt = _with_incumbent(vt, lt)
        if isinstance(r.vendors, dict):
            ok = pd.Series(True, index=vt.index)
            for col, cond in r.vendors.items():
                if col not in vt.columns:
                    cols = sorted(c for c in vt.columns if c != "name")
                    raise ValueError(f"{where}: unknown vendors column {col!r}; "
                                     f"valid columns: {', '.join(cols)}")
                ok &= _matches(col, vt[col], cond, where)
            update["vendors"] = tuple(str(v) for v in vt.index[ok.to_numpy()] if str(v) in vendor_ids)
        elif r.vendors is not None:
            bad = [v for v in r.vendors if v not in vendor_ids]
            if bad:
                raise ValueError(f"{where}: unknown vendor(s) {', '.join(bad)}; valid vendors: "
                                 f"{', '.join(vendor_ids[:20])}")
        chosen = update.get("lots", r.lots)
        if r.measure == "demand_share" and r.per_ != "lot" and lt is not None and "unit" in lt.columns:
            scope = lt if chosen is None else lt.reindex([str(x) for x in chosen])
            units = sorted({str(u) for u in scope["unit"].dropna()})
            if len(units) > 1:
                raise ValueError(f"{where}: a demand share adds up the units of its lots, which differ "
                                 f"({', '.join(units)}); set per: lot, choose lots of one unit, or "
                                 "measure spend_share")
        if r.per_ not in ("all", "lot", "vendor") and r.groups is None:
            if r.per_ not in vt.columns:
                cols = sorted(c for c in vt.columns if c != "name")
                raise ValueError(f"{where}: per {r.per_!r} is no vendors column; valid: all, "
                                 f"{', '.join(_PER[r.measure])} or a column: {', '.join(cols)}")
            col = vt[r.per_].reindex(vendor_ids)
            update["groups"] = {v: str(g) for v, g in col.items() if not pd.isna(g)}
        if update:
            update.setdefault("name", r.label)   # the buyer's selector words stay the rule's name
            r = r.model_copy(update=update)
        out.append(r)
    return tuple(out)


def _indexed(table: pd.DataFrame | None, key: str) -> pd.DataFrame | None:
    if table is None:
        return None
    if table.index.name != key and key in table.columns:
        table = table.set_index(key)
    out = table.copy()
    out.index = out.index.astype(str)
    return out


def _with_incumbent(vt: pd.DataFrame, lt: pd.DataFrame | None) -> pd.DataFrame:
    """``incumbent``: flagged in the vendors table, or a lot's ``incumbent_vendor_id``."""
    if "incumbent" in vt.columns:
        flags = _truthy(vt["incumbent"].fillna(False))
    else:
        flags = pd.Series(False, index=vt.index)
    if lt is not None and "incumbent_vendor_id" in lt.columns:
        flags = flags | vt.index.isin([str(v) for v in lt["incumbent_vendor_id"].dropna()])
    vt = vt.copy()
    vt["incumbent"] = flags.astype(bool)
    return vt


def resolve_policy(policy, tender):
    """*policy* with its scoped rules resolved against *tender* (explicit ids; same labels), for
    checks that see no tender, such as a sourcing option's split (``decision.policy_breaches``)."""
    if not getattr(policy, "rules", ()):
        return policy
    rules = resolve(policy.rules, vendor_ids=tender.vendor_ids, lot_ids=tender.lot_ids,
                    vendors=tender.vendors, lots=tender.lots)
    return policy.model_copy(update={"rules": rules})


# ---------------------------------------------------------------------- the tender's rules table
def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _ids(text) -> tuple[str, ...] | None:
    """A ';'-separated cell as ids (None when blank)."""
    if _blank(text):
        return None
    return tuple(x.strip() for x in str(text).split(";") if x.strip()) or None


class RowError(ValueError):
    """A row of the rules table that makes no rule; ``column`` names the cell to fix."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column


def table_rule(row, rule_id: str, *, names=None) -> ScopedRule:
    """The :class:`ScopedRule` of one row of the tender's ``rules`` table (``data/README.md``).

    Parameters
    ----------
    row : mapping
        The row's parsed cells (blank: None or NaN): ``name``, ``lots``, ``towers``, ``vendors``,
        ``vendor_column``, ``vendor_op``, ``vendor_value``, ``measure``, ``bound``, ``value``
        (percent for the shares, a count for the others) and ``per``.
    rule_id : str
        The row's id: the rule's name is the row's ``name``, else ``"<rule_id>: <generated words>"``
        (so each rule has its own label in the rule costs).
    names : callable, optional
        Lot and vendor id -> name (:class:`sourcing.present.Names`) for the generated words
        (default: the ids).

    Raises
    ------
    RowError
        A row that makes no rule, with the column to fix and the valid choices.
    """
    def get(key):
        return None if _blank(row.get(key)) else row.get(key)

    lots, towers = _ids(get("lots")), _ids(get("towers"))
    if lots and towers:
        raise RowError("towers", "give lots or towers, not both")
    vendors, column = _ids(get("vendors")), get("vendor_column")
    op, want = get("vendor_op"), get("vendor_value")
    if vendors and column:
        raise RowError("vendor_column", "give vendors or vendor_column, not both")
    if column is None and (op is not None or want is not None):
        raise RowError("vendor_column", "vendor_op and vendor_value need a vendor_column")
    selector: tuple[str, ...] | dict[str, Any] | None = vendors
    if column is not None:
        column = str(column).strip()
        if want is None:
            raise RowError("vendor_value", f"vendor_column {column} needs a vendor_value")
        op = str(op) if op is not None else ("contains" if column == "certifications" else "==")
        if column in ("incumbent", "iso27001"):
            flag = str(want).strip().lower()
            if op not in ("==", "!=") or flag not in ("yes", "no", "true", "false", "1", "0", "y", "n"):
                raise RowError("vendor_value", f"{column} is yes/no: vendor_op == or != and "
                                               "vendor_value yes or no")
            held = flag in ("yes", "true", "1", "y")
            selector = {column: held if op == "==" else not held}
        elif op == "in":
            selector = {column: {"in": list(_ids(want) or ())}}
        elif (op == "contains") == (column == "certifications") and op in ("contains", "=="):
            selector = {column: str(want).strip()}   # the scenario's plain form (and its words)
        else:
            selector = {column: {op: str(want).strip()}}
    value = get("value")
    data = {"name": get("name"), "lots": {"tower": list(towers)} if towers else lots,
            "vendors": selector, "measure": get("measure"), "bound": get("bound"),
            "value": None if value is None else float(value), "per": get("per")}
    try:
        rule = ScopedRule(**data)
    except ValueError as err:  # pydantic's ValidationError: the first message, on its column
        errors = getattr(err, "errors", lambda: [])()
        msg = errors[0]["msg"].removeprefix("Value error, ") if errors else str(err)
        where = errors[0]["loc"][0] if errors and errors[0].get("loc") else None
        if where not in data:
            where = next((c for c in ("per", "bound", "value", "lots", "vendors")
                          if re.search(rf"\b{c}\b", msg.replace(f"measure {rule_name(data)}", ""))),
                         "measure")
            if "takes no bound or value" in msg:  # the cell that holds one
                where = "bound" if data["bound"] is not None else "value"
        raise RowError({"lots": "towers" if towers else "lots",
                        "vendors": "vendor_column" if column else "vendors"}.get(where, where),
                       msg) from None
    if rule.name is None:
        rule = rule.model_copy(update={"name": f"{rule_id}: {rule.words(names)}"})
    return rule


def rule_name(data) -> str:
    """The measure as the model's messages quote it (``'lots'``), so it is not read as a column."""
    return repr(data.get("measure"))


def tender_rules(tender) -> tuple[ScopedRule, ...]:
    """The scoped rules of the tender's ``rules`` table, in row order (none without the table)."""
    table = getattr(tender, "rules", None)
    if table is None or table.empty:
        return ()
    from ..present import Names

    names = Names.of(tender)
    return tuple(table_rule(row, str(rid), names=names) for rid, row in table.iterrows())


def with_tender_rules(policy, tender):
    """*policy* with the tender's rules (:func:`tender_rules`) after its own scoped rules.

    The one place the two combine: the pipeline solves, prices, checks and words the combined
    policy in every stage.  A scenario rule named like a tender rule is refused (one rule, one
    name: the rule costs and the checks report rules by name).

    Raises
    ------
    ValueError
        A scenario rule and a tender rule of the same name, naming both places.
    """
    extra = tender_rules(tender)
    if not extra:
        return policy
    mine = {r.label for r in policy.rules}
    clash = [r.label for r in extra if r.label in mine]
    if clash:
        raise ValueError("scoped rule(s) named both in the scenario (allocation.policy.rules) and in "
                         f"the tender's rules table: {'; '.join(clash)}; rename or drop one of each")
    return type(policy).model_validate({**dict(policy), "rules": (*policy.rules, *extra)})
