"""Tiny hand-built claims for the 837P tests (invented people, valid-check-digit NPIs)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xl_ar import tables
from xl_ar.practice import PracticeInfo

BILLING_NPI = "1234567893"
RENDERING_NPI = "1245319599"

PRACTICE = PracticeInfo(
    name="Maple Street Clinic", npi=BILLING_NPI, tax_id="12-3456789", address="100 Maple St", city="Springfield",
    state="IL", zip="62701", submitter_id="MAPLE01", contact_name="Billing Office", contact_phone="217-555-0100",
    receiver_name="Example Clearinghouse", receiver_id="CLEARHOUSE", providers={RENDERING_NPI: "Doe, Jane"},
)
NOW = dt.datetime(2026, 3, 2, 9, 30)


def payers() -> pd.DataFrame:
    return tables.from_columns("payers", {
        "payer_id": ["ACME", "MCR", "BLUE"], "name": ["Acme Health", "Medicare Part B", "Blue Plan"],
        "payer_class": ["commercial", "medicare", "commercial"], "payer_ref": ["60054", "00430", "BLU01"],
    })


def claims(n: int = 2, **overrides) -> pd.DataFrame:
    data = {
        "claim_id": [f"C{i + 1:03d}" for i in range(n)],
        "account_id": [f"A{i + 1:03d}" for i in range(n)],
        "payer_id": ["ACME"] * n,
        "service_date": np.array(["2026-02-02"] * n, dtype="datetime64[D]"),
        "charge": np.full(n, 15000, dtype=np.int64),
        "paid": np.zeros(n, dtype=np.int64), "adjusted": np.zeros(n, dtype=np.int64),
        "balance": np.full(n, 15000, dtype=np.int64), "responsibility": ["insurance"] * n,
        "patient_name": [f"Sample, Pat{chr(65 + i % 26)}" for i in range(n)],
        "date_of_birth": np.array(["1980-05-01"] * n, dtype="datetime64[D]"),
        "member_id": [f"M{i + 1:05d}" for i in range(n)],
        "patient_address": ["12 Oak Ave, Springfield, IL, 62704"] * n,
        "diagnosis_codes": ["E119,I10"] * n, "patient_sex": ["F"] * n,
    }
    data.update(overrides)
    return tables.from_columns("claims", data)


def lines(claim_ids: list[str], **overrides) -> pd.DataFrame:
    """Two lines per claim: 99213 $100 and 36415 $50 (a $150 claim)."""
    n = len(claim_ids)
    data = {
        "claim_id": np.repeat(claim_ids, 2), "line_no": np.tile([1, 2], n),
        "procedure_code": np.tile(["99213", "36415"], n), "modifiers": np.tile(["25", None], n),
        "units": np.tile([1.0, 1.0], n), "charge": np.tile([10000, 5000], n).astype(np.int64),
        "service_date": np.array(["2026-02-02"] * 2 * n, dtype="datetime64[D]"),
        "diagnosis_pointers": np.tile(["1:2", "1"], n),
    }
    data.update(overrides)
    return tables.from_columns("claim_lines", data)


def primary_remittance(claim_id: str = "C001", payer_id: str = "ACME", status: str = "1") -> dict[str, pd.DataFrame]:
    """The primary's 835 for a $150 claim: line 1 $100 paid $80 (CO-45 $10, PR-2 $10), line 2 $50 paid $30
    (PR-1 $20), claim-level OA-23 $0 none; paid $110 = 150 - 40."""
    payments = tables.from_columns("payments", {
        "payment_id": ["P1"], "payer_id": [payer_id], "method": ["ACH"], "amount": np.array([11000]),
        "payment_date": np.array(["2026-02-20"], dtype="datetime64[D]"), "trace_number": ["T1"],
    })
    claim_payments = tables.from_columns("claim_payments", {
        "payment_id": ["P1"], "claim_seq": np.array([1]), "claim_id": [claim_id], "status_code": [status],
        "charge": np.array([15000]), "paid": np.array([11000]), "patient_resp": pd.array([3000], dtype="Int64"),
        "payer_claim_id": ["PCN123"],
    })
    line_payments = tables.from_columns("line_payments", {
        "payment_id": ["P1", "P1"], "claim_seq": np.array([1, 1]), "claim_id": [claim_id] * 2,
        "line_seq": np.array([1, 2]), "procedure_code": ["99213", "36415"], "modifiers": ["25", None],
        "charge": np.array([10000, 5000]), "paid": np.array([8000, 3000]), "units": np.array([1.0, 1.0]),
        "line_control": [f"{claim_id}-1", f"{claim_id}-2"],
    })
    adjustments = tables.from_columns("adjustments", {
        "payment_id": ["P1"] * 3, "claim_seq": np.array([1, 1, 1]), "claim_id": [claim_id] * 3,
        "line_seq": pd.array([1, 1, 2], dtype="Int64"), "group_code": ["CO", "PR", "PR"],
        "reason_code": ["45", "2", "1"], "amount": np.array([1000, 1000, 2000]),
    })
    return {"payments": payments, "claim_payments": claim_payments, "line_payments": line_payments,
            "adjustments": adjustments}


def many(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n invented claims of 1-3 lines: three payers, every 10th a replacement, every 25th a void, every
    7th naming a secondary payer, some with modifiers, prior authorizations and a rendering provider."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    nlines = rng.integers(1, 4, n)
    freq = np.where(i % 25 == 24, "8", np.where(i % 10 == 9, "7", "1"))
    ids = np.char.add("K", i.astype(str)).astype(object)
    claim_of = np.repeat(np.arange(n), nlines)
    line_no = np.arange(len(claim_of)) - np.repeat(np.cumsum(nlines) - nlines, nlines) + 1
    line_charge = rng.integers(1, 400, len(claim_of)) * 500
    charge = np.bincount(claim_of, weights=line_charge).astype(np.int64)
    sec = np.where(i % 7 == 3, "BLUE", None).astype(object)
    c = claims(n, claim_id=ids, account_id=ids, payer_id=np.array(["ACME", "MCR", "BLUE"], dtype=object)[i % 3],
               charge=charge, balance=charge, member_id=np.char.add("M", (i // 2).astype(str)).astype(object),
               patient_name=np.where(i % 2 == 0, "Sample, Pat", "Example, Jo").astype(object),
               frequency_code=freq.astype(object),
               original_payer_claim_id=np.where(freq != "1", np.char.add("PCN", i.astype(str)), None).astype(object),
               prior_authorization=np.where(i % 5 == 0, "AUTH5", None).astype(object),
               rendering_npi=np.where(i % 4 == 0, RENDERING_NPI, None).astype(object),
               secondary_payer_id=np.where(sec == "BLUE", np.where(i % 3 == 2, "ACME", "BLUE"), None).astype(object),
               secondary_member_id=np.where(sec == "BLUE", "S1", None).astype(object),
               diagnosis_codes=np.where(i % 2 == 0, "E119,I10,Z0000", "J069").astype(object))
    ln = tables.from_columns("claim_lines", {
        "claim_id": ids[claim_of], "line_no": line_no,
        "procedure_code": np.array(["99213", "36415", "93000", "G0439"], dtype=object)[line_no % 4],
        "modifiers": np.where(line_no == 1, "25", np.where(line_no == 3, "59:XU", None)).astype(object),
        "units": np.where(line_no == 2, 2.0, 1.0), "charge": line_charge.astype(np.int64),
        "service_date": np.array(["2026-02-02"] * len(claim_of), dtype="datetime64[D]"),
        "diagnosis_pointers": np.where((claim_of % 2 == 0) & (line_no == 1), "1:2:3", "1").astype(object),
    })
    return c, ln


def remittance_for(claims_: pd.DataFrame, lines_: pd.DataFrame, payer_id: str = "ACME") -> dict[str, pd.DataFrame]:
    """One 835 payment from `payer_id` paying every line 70% of its charge, CO-45 10%, PR-2 the rest (20%
    plus the cents left by rounding), so each line balances: charge = paid + CO + PR."""
    ids = claims_.claim_id.to_numpy(dtype=object)
    seq = np.arange(1, len(ids) + 1)
    seq_of = pd.Series(seq, index=ids)
    lc = lines_[lines_.claim_id.isin(set(ids))]
    charge = lc.charge.to_numpy(dtype=np.int64)
    paid = charge * 7 // 10
    co = charge // 10
    pr = charge - paid - co
    line_seq = lc.line_no.to_numpy(dtype=np.int64)
    cseq = seq_of.reindex(lc.claim_id).to_numpy()
    claim_paid = pd.Series(paid).groupby(lc.claim_id.to_numpy()).sum().reindex(ids).to_numpy()
    n = len(lc)
    return {
        "payments": tables.from_columns("payments", {
            "payment_id": ["P1"], "payer_id": [payer_id], "method": ["ACH"], "amount": np.array([claim_paid.sum()]),
            "payment_date": np.array(["2026-02-20"], dtype="datetime64[D]"), "trace_number": ["T1"]}),
        "claim_payments": tables.from_columns("claim_payments", {
            "payment_id": np.full(len(ids), "P1", dtype=object), "claim_seq": seq, "claim_id": ids,
            "status_code": np.full(len(ids), "1", dtype=object), "charge": claims_.charge.to_numpy(),
            "paid": claim_paid, "payer_claim_id": np.char.add("PCN", seq.astype(str)).astype(object)}),
        "line_payments": tables.from_columns("line_payments", {
            "payment_id": np.full(n, "P1", dtype=object), "claim_seq": cseq, "claim_id": lc.claim_id.to_numpy(),
            "line_seq": line_seq, "procedure_code": lc.procedure_code.to_numpy(), "modifiers": lc.modifiers.to_numpy(),
            "charge": charge, "paid": paid, "units": lc.units.to_numpy()}),
        "adjustments": tables.from_columns("adjustments", {
            "payment_id": np.full(2 * n, "P1", dtype=object), "claim_seq": np.r_[cseq, cseq],
            "claim_id": np.r_[lc.claim_id.to_numpy(), lc.claim_id.to_numpy()],
            "line_seq": pd.array(np.r_[line_seq, line_seq], dtype="Int64"),
            "group_code": np.array(["CO"] * n + ["PR"] * n, dtype=object),
            "reason_code": np.array(["45"] * n + ["2"] * n, dtype=object), "amount": np.r_[co, pr]}),
    }
