"""The Award's text and checks."""

from __future__ import annotations

import pandas as pd

from sourcing.allocation.award import shares_text


def test_token_shares_are_shown_not_hidden():
    """A 0.01 % award printed as "-" hid a token backup vendor from the board (issue: one cost
    model); shares that round to 0.0 or 100.0 read "<0.1" and ">99.9", no share reads "-"."""
    shares = pd.DataFrame({"L1": [0.9999, 0.0001, 0.0], "L2": [0.5, 0.5, 0.0]}, index=["A", "B", "C"])
    lines = shares_text(shares)
    assert lines[2].split() == ["A", ">99.9", "50.0"]
    assert lines[3].split() == ["B", "<0.1", "50.0"]
    assert lines[4].split() == ["C", "-", "-"]
    wide = pd.DataFrame({f"lot-with-a-long-name-{j}": [0.9999, 0.0001] for j in range(6)}, index=["A", "B"])
    per_lot = shares_text(wide)
    assert per_lot[0] == "  shares of demand (%), per lot:"
    assert per_lot[1] == "    lot-with-a-long-name-0: A >99.9, B <0.1"
