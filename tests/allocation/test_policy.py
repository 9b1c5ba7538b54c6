"""Policy: validated, frozen, YAML-friendly, contradictions rejected with the reason."""

from __future__ import annotations

import pytest

from sourcing.allocation import Policy
from sourcing.allocation.policy import RULES


def test_defaults_and_round_trip():
    p = Policy()
    assert p.demand == "exact" and p.active_rules() == []
    q = Policy(min_vendors_per_lot=2, max_share_pct=70, include=("V01",), max_share_pct_by_lot={"L1": 60})
    assert Policy.model_validate(q.model_dump()) == q  # what a YAML scenario file would hold
    assert set(q.active_rules()) == {"min_vendors_per_lot", "max_share_pct", "include",
                                     "max_share_pct_by_lot"}


def test_frozen_and_no_unknown_fields():
    p = Policy()
    with pytest.raises(ValueError):
        p.budget = 5.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="extra"):
        Policy(min_vendor=2)


@pytest.mark.parametrize("kwargs, words", [
    ({"min_vendors_per_lot": 3, "max_vendors_per_lot": 2}, "min_vendors_per_lot"),
    ({"min_share_pct": 60, "max_share_pct": 50}, "min_share_pct"),
    ({"min_share_pct": 40, "min_vendors_per_lot": 3}, "exceeds 100"),
    ({"max_share_pct": 30, "max_vendors_per_lot": 3}, "cannot cover"),
    ({"include": ("V1",), "exclude": ("V1",)}, "both included and excluded"),
    ({"min_vendors_per_lot": 3, "max_vendors_total": 2}, "max_vendors_total"),
    ({"max_spend_share_pct": 30, "max_vendors_total": 3}, "cannot cover 100 % of spend"),
    ({"max_share_pct_by_lot": {"L1": 0}}, "not in"),
])
def test_contradictions_are_rejected_with_reason(kwargs, words):
    with pytest.raises(ValueError, match=words):
        Policy(**kwargs)


@pytest.mark.parametrize("kwargs", [{"min_share_pct": -1}, {"quality_floor": 120}, {"budget": 0},
                                    {"demand": "most"}, {"one_off": "never"}])
def test_out_of_range_values(kwargs):
    with pytest.raises(ValueError):
        Policy(**kwargs)


def test_relaxed():
    p = Policy(min_vendors_per_lot=2, exclude=("V1",))
    assert p.relaxed("min_vendors_per_lot").min_vendors_per_lot is None
    assert p.relaxed("exclude").exclude == ()
    with pytest.raises(ValueError, match="valid rules"):
        p.relaxed("speed")
    assert "budget" in RULES
