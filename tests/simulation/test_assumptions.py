"""The simulation's assumptions: defaults sized to the tender."""

from __future__ import annotations

import numpy as np

from sourcing.simulation import (
    Assumptions,
)


def test_money_assumptions_scale_with_the_tender(tender):
    """Unset money assumptions follow the tender's size: prices x 10 (another currency unit)
    gives breach impact and incident losses x 10, so no fixed amount of one currency is assumed;
    the sample keeps its documented ranges (90 % of a breached month in about 10k-150k)."""

    a = Assumptions.for_tender(tender)
    lo, hi = a.breach_impact.ppf(np.array([0.05, 0.95]))
    assert 9_000 < lo < 11_000 and 140_000 < hi < 160_000
    scaled = tender.lots.assign(inhouse_unit_cost=tender.lots["inhouse_unit_cost"] * 10)
    b = Assumptions.for_tender(type("T", (), {"lots": scaled})())
    for key in ("breach_impact", "security_severity"):
        np.testing.assert_allclose(getattr(b, key).ppf(np.array([0.05, 0.95])),
                                   10 * getattr(a, key).ppf(np.array([0.05, 0.95])), rtol=1e-9)
    assert b.escalation_cap == a.escalation_cap  # fractions do not scale
