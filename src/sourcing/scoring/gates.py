"""Hard gates: non-compensatory knock-out rules applied before ranking.

A gate is a :class:`sourcing.tender.Gate` (``criterion_id``, ``op``, ``threshold``, ``text``), as
parsed from ``criteria.gate`` (``'>= 40'``, ``'== yes'``), or a tuple ``(criterion, op,
threshold)``.  A vendor fails a gate when the comparison is false or its value is missing.  Each
excluded vendor gets one readable reason, e.g. ``"C09 ISO/IEC 27001 certification: no, gate ==
yes"``; several failed gates are joined with ``"; "``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..tender import Gate, parse_gate

__all__ = ["GateResult", "apply_gates", "as_gate"]

_OPS = (">=", "<=", ">", "<", "==", "!=")


def as_gate(spec) -> Gate:
    """A Gate from a Gate, ``(criterion, "op threshold")`` or ``(criterion, op, threshold)``."""
    if isinstance(spec, Gate):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2:
        g = parse_gate(spec[0], str(spec[1]))
        if g is None:
            raise ValueError(f"gate {spec[1]!r} of {spec[0]!r} is not a rule like '>= 40' or '== yes'")
        return g
    if isinstance(spec, tuple) and len(spec) == 3:
        cid, op, thr = spec
        if op not in _OPS:
            raise ValueError(f"unknown gate operator {op!r}; valid choices: {', '.join(_OPS)}")
        g = parse_gate(cid, f"{op} {thr}")
        if g is None:
            raise ValueError(f"gate threshold {thr!r} of {cid!r} is not a number or yes/no")
        return g
    raise TypeError("a gate is a sourcing.tender.Gate or a tuple (criterion, op, threshold)")


class GateResult(tuple):
    """``(admitted, excluded)``: admitted vendor ids (list) and excluded DataFrame with ``reason``."""

    __slots__ = ()

    @property
    def admitted(self) -> list:
        """Vendor ids that pass every gate, in input order."""
        return self[0]

    @property
    def excluded(self) -> pd.DataFrame:
        """Excluded vendors (index vendor_id) with column ``reason``."""
        return self[1]


def _fmt(value: float, yes_no: bool) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if yes_no and value in (0.0, 1.0):
        return "yes" if value == 1.0 else "no"
    return f"{value:,.6g}"


_OP_WORDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than", "==": "",
             "!=": "anything but"}


def _required(gate: Gate, yes_no: bool) -> str:
    """The gate's requirement in words: ``"at least 40"``, ``"yes"``."""
    value = _fmt(float(gate.threshold), yes_no)
    return f"{_OP_WORDS.get(gate.op, gate.op)} {value}".strip()


def apply_gates(matrix: pd.DataFrame, gates: Iterable, *, names: Mapping | None = None,
                units: Mapping | None = None) -> GateResult:
    """Split vendors into admitted and excluded-with-reason.

    Parameters
    ----------
    matrix : DataFrame
        Vendor x criterion values (the unnormalised decision matrix; yes/no as 1/0).
    gates : iterable of Gate or tuples
    names : mapping criterion -> display name, optional
    units : mapping criterion -> unit (``"yes/no"`` prints values as yes/no), optional

    Returns
    -------
    GateResult
        ``admitted`` list and ``excluded`` DataFrame (index ``vendor_id``, column ``reason``).
    """
    names = names or {}
    units = units or {}
    reasons: dict[object, list[str]] = {v: [] for v in matrix.index}
    for spec in gates:
        g = as_gate(spec)
        if g.criterion_id not in matrix.columns:
            raise ValueError(f"gate on unknown criterion {g.criterion_id!r}; valid criteria: "
                             f"{', '.join(map(str, matrix.columns))}")
        vals = matrix[g.criterion_id].astype(float)
        ok = g.passes(vals.to_numpy())
        unit = str(units.get(g.criterion_id, "")).lower()
        yes_no = unit in ("yes/no", "bool") or bool({"yes", "no"} & set(g.text.lower().split()))
        cid = g.criterion_id
        label = str(names.get(cid, cid))
        required = _required(g, yes_no)
        for vid, v, passed in zip(matrix.index, vals.to_numpy(), ok, strict=True):
            if not passed:
                reasons[vid].append(f"{label} is {_fmt(float(v), yes_no)}, the gate requires "
                                    f"{required}")
    admitted = [v for v, r in reasons.items() if not r]
    excluded = pd.DataFrame({"reason": pd.Series({v: "; ".join(r) for v, r in reasons.items() if r},
                                                 dtype=object)})
    excluded.index.name = "vendor_id"
    return GateResult((admitted, excluded))
