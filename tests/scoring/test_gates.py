"""Tests for sourcing.scoring.gates: knock-out rules and their reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sourcing.scoring import apply_gates


def test_sample_tender_gates(tender):
    """On the sample, V06 has no ISO 27001 and V07 a financial score of 28 < 40."""
    dm = tender.decision_matrix()
    res = apply_gates(dm, tender.gates, names=tender.criteria["name"].to_dict(),
                      units=tender.criteria["unit"].to_dict())
    assert list(res.excluded.index) == ["V06", "V07"]
    assert res.excluded.loc["V06", "reason"] == "ISO/IEC 27001 certification is no, the gate requires yes"
    assert res.excluded.loc["V07", "reason"] == "Financial health score is 28, the gate requires at least 40"
    assert res.admitted == ["V01", "V02", "V03", "V04", "V05", "V08"]


def test_tuple_gates_missing_values_and_multiple_reasons():
    m = pd.DataFrame({"fin": [50.0, 30.0, np.nan], "iso": [1.0, 0.0, 1.0]}, index=["a", "b", "c"])
    admitted, excluded = apply_gates(m, [("fin", ">=", 40), ("iso", "== yes")])
    assert admitted == ["a"]
    assert excluded.loc["b", "reason"] == ("fin is 30, the gate requires at least 40; iso is no, the gate "
                                           "requires yes")
    assert excluded.loc["c", "reason"] == "fin is missing, the gate requires at least 40"
    assert excluded.index.name == "vendor_id"


def test_no_gates_and_errors():
    m = pd.DataFrame({"x": [1.0, 2.0]}, index=["a", "b"])
    res = apply_gates(m, [])
    assert res.admitted == ["a", "b"] and res.excluded.empty
    with pytest.raises(ValueError, match="valid criteria: x"):
        apply_gates(m, [("y", ">=", 1)])
    with pytest.raises(ValueError, match="valid choices: >=, <="):
        apply_gates(m, [("x", "=>", 1)])
