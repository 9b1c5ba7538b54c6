"""Invoice audit: hand-made invoices on the tiny log, and the problems planted in the sample."""

from __future__ import annotations

import pandas as pd
import pytest

from sourcing.performance import audit_invoices, monthly_kpis, read_performance, service_credits

RATES = pd.DataFrame({"vendor_id": ["V01"], "lot_id": ["L1"], "unit_price": [20.0]})


def _line(inv, month, qty, price, amount, credit=0.0):
    return {"invoice_id": inv, "vendor_id": "V01", "lot_id": "L1", "month": month, "quantity": qty,
            "unit_price": price, "amount": amount, "credit_applied": credit}


def test_hand_made_invoices(write_folder, tiny):
    """Measured: Jan 7 tickets, Feb 1; contract 20 EUR/ticket; credit owed for Jan 11.20 EUR
    (see test_sla) due on the Feb invoice; Feb's credit is due in Mar, not yet invoiced.

    Jan line amount 150 instead of 7 x 20 = 140 -> amount_mismatch +10.
    Feb line 3 x 21 = 63 with 5.00 credit: wrong price (21 - 20) x 3 = +3; overbilled
    (3 - 1) x 20 = +40; unapplied credit 11.20 - 5.00 = +6.20; the same line again on another
    invoice -> duplicate_line +63.
    """
    lines = [_line("I1", "2025-01", 7, 20.0, 150.0), _line("I2", "2025-02", 3, 21.0, 63.0, 5.0),
             _line("I3", "2025-02", 3, 21.0, 63.0, 0.0)]
    perf = read_performance(write_folder({"invoices": lines}))
    kpis = monthly_kpis(perf, asof=tiny.ASOF)
    audit = audit_invoices(perf, RATES, credits=service_credits(kpis, rates=RATES))
    d = audit.discrepancies
    got = {(r.invoice_id, r.month, r.issue): r.at_stake for r in d.itertuples()}
    assert got == pytest.approx({
        ("I1", "2025-01", "amount_mismatch"): 10.0,
        ("I3", "2025-02", "duplicate_line"): 63.0,
        ("I2", "2025-02", "wrong_unit_price"): 3.0,
        ("I2", "2025-02", "overbilled_quantity"): 40.0,
        ("I2", "2025-02", "unapplied_credit"): 6.2,
    })
    assert d.set_index("issue").loc["duplicate_line", "row"] == 4  # CSV line of I3
    assert audit.total == pytest.approx(122.2)
    s = audit.summary.set_index("month")
    assert s.loc["2025-01", "expected_net"] == pytest.approx(140.0)
    assert s.loc["2025-02", "expected_net"] == pytest.approx(20.0 - 11.2)


def test_clean_invoices_have_no_discrepancy(write_folder, tiny):
    lines = [_line("I1", "2025-01", 7, 20.0, 140.0), _line("I2", "2025-02", 1, 20.0, 20.0, 11.2)]
    perf = read_performance(write_folder({"invoices": lines}))
    audit = audit_invoices(perf, RATES, credits=service_credits(monthly_kpis(perf, asof=tiny.ASOF),
                                                                 rates=RATES))
    assert audit.discrepancies.empty
    assert audit.summary["difference"].abs().max() == 0


def test_sample_planted_invoice_problems(perf_sample, tender, sample_credits):
    """Planted by data/make_sample_performance.py: L1 2025-05 at 24.90 EUR instead of 23.78,
    L1 2026-02 credit not applied in 2026-03, L5 2026-04 billed 9,400 devices, L1 2026-07 line
    duplicated.  Nothing else is wrong."""
    audit = audit_invoices(perf_sample, tender, credits=sample_credits)
    d = audit.discrepancies
    assert list(zip(d["lot_id"], d["month"], d["issue"], strict=True)) == [
        ("L1", "2025-05", "wrong_unit_price"), ("L1", "2026-03", "unapplied_credit"),
        ("L5", "2026-04", "overbilled_quantity"), ("L1", "2026-07", "duplicate_line")]
    inv = perf_sample.invoices.set_index(["lot_id", "month"])
    q = inv.loc[("L1", "2025-05"), "quantity"]
    assert d["at_stake"].iat[0] == pytest.approx(round((24.90 - 23.78) * q, 2))
    m = sample_credits.monthly.set_index(["lot_id", "month"])
    assert d["at_stake"].iat[1] == pytest.approx(m.loc[("L1", "2026-02"), "credit_amount"])
    assert d["at_stake"].iat[2] == pytest.approx(
        (9400 - m.loc[("L5", "2026-04"), "quantity"]) * 228.61 / 12, abs=0.01)
    assert d["invoice_id"].iat[3] == "INV-2026-07-V01-B"
    # the same audit computes the credits itself when none are given
    assert audit_invoices(perf_sample, tender).discrepancies.equals(d)


def test_audit_arguments(perf_sample, sample_kpis):
    with pytest.raises(TypeError, match="PerformanceData"):
        audit_invoices("folder", RATES)
    with pytest.raises(ValueError, match="rate card"):
        audit_invoices(perf_sample, RATES, credits=service_credits(sample_kpis))
    with pytest.raises(ValueError, match="tolerance"):
        audit_invoices(perf_sample, RATES, tolerance=-1)
