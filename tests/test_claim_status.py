"""Claim status rules (xl_ar.claim_status): latest status, rejections, unacknowledged claims, 276 candidates."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from xl_ar.claim_status import describe, latest_status, rejections, status_requests_due, unacknowledged
from xl_ar.tables import from_columns


def status(*rows: dict) -> pd.DataFrame:
    cols = {k: [r.get(k) for r in rows] for k in
            ("source_file", "kind", "level", "claim_id", "category_code", "status_code", "entity_code",
             "status_date", "ack_code", "group_control", "transaction_control", "error_codes", "procedure_code",
             "payer_claim_id")}
    cols["status_date"] = pd.to_datetime(cols["status_date"])
    return from_columns("claim_status", cols)


def s277(claim_id: str, category: str, date: str, code: str = "20", level: str = "claim", file: str = "a.277",
         kind: str = "277CA", **more) -> dict:
    return {"source_file": file, "kind": kind, "level": level, "claim_id": claim_id, "category_code": category,
            "status_code": code, "status_date": date, **more}


def claims(*rows: tuple) -> pd.DataFrame:
    """(claim_id, billed_date, balance[, paid])"""
    return pd.DataFrame({
        "claim_id": [r[0] for r in rows], "payer_id": "AET",
        "billed_date": pd.to_datetime([r[1] for r in rows]), "balance": [r[2] for r in rows],
        "paid": [r[3] if len(r) > 3 else 0 for r in rows], "responsibility": "insurance",
        "charge": [r[2] for r in rows],
    })


def test_describe_uses_our_labels_and_shows_unknown_codes():
    words = describe(pd.Series(["A7", "Z9"]), pd.Series(["562", "9999"]), pd.Series(["85", None]))
    assert list(words) == ["rejected: information invalid - NPI (billing provider)", "category Z9 - code 9999"]


def test_latest_status_is_the_latest_dated():
    t = status(s277("C1", "A1", "2026-01-02"), s277("C1", "A2", "2026-01-03"), s277("C1", "A1", "2026-01-01"))
    latest = latest_status(t)
    assert list(latest["category_code"]) == ["A2"]  # 01-03 is the latest of 01-01, 01-02, 01-03


def test_latest_status_prefers_the_claim_row_over_its_line_on_the_same_date():
    t = status(s277("C1", "A2", "2026-01-03"), s277("C1", "A7", "2026-01-03", level="line"))
    assert latest_status(t)["level"].tolist() == ["claim"]


def test_999_rows_are_not_claim_statuses():
    t = status({"source_file": "x.999", "kind": "999", "level": "transaction", "ack_code": "R"})
    assert latest_status(t).empty


def test_a_rejected_claim_gets_reason_and_fix():
    t = status(s277("C1", "A7", "2026-01-03", code="562", entity_code="85"))
    r = rejections(claims(("C1", "2026-01-01", 10000)), t)
    assert len(r) == 1
    assert r.loc[0, "claim_id"] == "C1" and r.loc[0, "balance"] == 10000
    assert r.loc[0, "reason"] == "277CA rejected: information invalid - NPI (billing provider)"
    assert "NPI" in r.loc[0, "fix"]


def test_each_rejecting_category_is_a_rejection_and_others_are_not():
    cats = ["A3", "A4", "A6", "A7", "A8", "A1", "A2", "P1", "F2"]
    t = status(*(s277(f"C{i}", c, "2026-01-03", code="21") for i, c in enumerate(cats)))
    r = rejections(claims(*((f"C{i}", "2026-01-01", 100) for i in range(len(cats)))), t)
    assert sorted(r["category_code"]) == ["A3", "A4", "A6", "A7", "A8"]  # F2 is a denial: the 835 works it


def test_returned_claim_is_resubmitted_as_a_new_original():
    t = status(s277("C1", "A3", "2026-01-03", code="21"))
    assert "new original (frequency 1)" in rejections(claims(("C1", "2026-01-01", 100)), t).loc[0, "fix"]


def test_a_later_acceptance_clears_a_rejection():
    t = status(s277("C1", "A7", "2026-01-03", file="a.277"), s277("C1", "A2", "2026-01-09", file="b.277"))
    assert rejections(claims(("C1", "2026-01-01", 100)), t).empty


def test_a_rejected_line_rejects_its_claim():
    t = status(s277("C1", "A2", "2026-01-03"),
               s277("C1", "A7", "2026-01-03", code="454", level="line", procedure_code="99213"))
    r = rejections(claims(("C1", "2026-01-01", 100)), t)
    assert r.loc[0, "reason"] == "277CA rejected: information invalid - procedure code on the line 99213"


def test_a_rejected_999_transaction_is_one_row_without_a_claim():
    t = status({"source_file": "x.999", "kind": "999", "level": "group", "group_control": "19", "ack_code": "P"},
               {"source_file": "x.999", "kind": "999", "level": "transaction", "group_control": "19",
                "transaction_control": "0002", "ack_code": "R", "error_codes": "CLM05-1: 7"},
               {"source_file": "x.999", "kind": "999", "level": "transaction", "group_control": "19",
                "transaction_control": "0001", "ack_code": "A"})
    r = rejections(claims(), t)
    assert len(r) == 1 and pd.isna(r.loc[0, "claim_id"])
    assert r.loc[0, "reason"] == "999 837 transaction 0002 of group 19 rejected - errors: CLM05-1: 7"
    assert "resend the whole transaction" in r.loc[0, "fix"]


def test_a_999_rejecting_a_whole_group_without_transactions_is_one_row():
    t = status({"source_file": "x.999", "kind": "999", "level": "group", "group_control": "20", "ack_code": "R"})
    assert rejections(claims(), t)["reason"].tolist() == ["999 837 group 20 rejected"]


def test_unacknowledged_after_n_days():
    c = claims(("OLD", "2026-01-01", 100), ("NEW", "2026-01-20", 100), ("ACK", "2026-01-01", 100),
               ("PAID", "2026-01-01", 100, 50), ("CLOSED", "2026-01-01", 0))
    t = status(s277("ACK", "A1", "2026-01-02"))
    # as_of 2026-01-31, 14 days: billed on or before 01-17; NEW is too recent, ACK has a 277CA, PAID was paid
    out = unacknowledged(c, t, dt.date(2026, 1, 31), 14)
    assert out["claim_id"].tolist() == ["OLD"]
    assert out.loc[0, "days_waiting"] == 30  # 01-31 - 01-01


def test_an_acknowledgment_of_an_earlier_submission_does_not_count():
    t = status(s277("C1", "A1", "2025-12-01"))
    out = unacknowledged(claims(("C1", "2026-01-01", 100)), t, dt.date(2026, 1, 31), 14)
    assert out["claim_id"].tolist() == ["C1"]  # the 277CA predates the billed date


def test_status_requests_due_skip_recent_status_and_rejections():
    c = claims(("NONE", "2026-01-01", 100), ("STALE", "2026-01-01", 100), ("FRESH", "2026-01-01", 100),
               ("REJ", "2026-01-01", 100), ("YOUNG", "2026-03-10", 100))
    t = status(s277("STALE", "A2", "2026-01-05", payer_claim_id="PCN1"), s277("FRESH", "P1", "2026-03-20"),
               s277("REJ", "A7", "2026-01-05"))
    # as_of 2026-04-01, 30 days: cutoff 03-02; FRESH had a status on 03-20, YOUNG was billed
    # on 03-10, after the cutoff
    out = status_requests_due(c, t, dt.date(2026, 4, 1), 30)
    assert out["claim_id"].tolist() == ["NONE", "STALE"]
    assert out.set_index("claim_id").loc["STALE", "payer_claim_id"] == "PCN1"
