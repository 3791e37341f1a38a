"""Scrubbing 100,000 claims (about 250,000 lines) with payer rules: ours vs a row-by-row pandas apply."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from benchmarks._table import Row, median_seconds
from xl_ar import tables
from xl_ar.scrub import rules_from_frame, scrub

AS_OF = dt.date(2026, 9, 30)
NPI = "1234567893"
DX = np.array(["E11.9", "I10", "J45.909", "S72.001A", "Z00.00", "E11", "M54.50", "R51.9"], dtype=object)
PROC = np.array(["99213", "99214", "36415", "97110", "70553", "J3490", "0001F", "9921"], dtype=object)


def practice(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """n claims of 1-4 lines each, a few percent of them with violations."""
    rng = np.random.default_rng(seed)
    service = np.datetime64(AS_OF) - rng.integers(1, 200, n).astype("timedelta64[D]")
    n_lines = rng.integers(1, 5, n)
    claim_of = np.repeat(np.arange(n), n_lines)
    m = len(claim_of)
    line_no = np.arange(m) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    charge = rng.integers(1, 400, m) * 100
    ids = np.char.add("C", np.arange(n).astype(str)).astype(object)
    dx = pd.Series(DX[rng.integers(0, len(DX), n)]) + "," + pd.Series(DX[rng.integers(0, 5, n)])
    claims = tables.from_columns("claims", {
        "claim_id": ids, "account_id": np.char.add("A", (np.arange(n) // 4).astype(str)).astype(object),
        "payer_id": np.array(["P1", "P2", "P3"], dtype=object)[rng.integers(0, 3, n)], "service_date": service,
        "charge": np.bincount(claim_of, weights=charge).astype(np.int64), "paid": np.zeros(n, np.int64),
        "adjusted": np.zeros(n, np.int64), "balance": np.zeros(n, np.int64),
        "responsibility": np.full(n, "insurance", dtype=object), "patient_name": np.full(n, "Doe, Jane", object),
        "date_of_birth": np.full(n, np.datetime64("1970-01-01"), dtype="datetime64[us]"),
        "member_id": np.where(rng.random(n) < 0.01, None, "M1").astype(object),
        "patient_address": np.full(n, "1 Elm St, Springfield, IL, 62701", object), "diagnosis_codes": dx.to_numpy(),
        "patient_sex": np.full(n, "F", object), "rendering_npi": np.full(n, "1234567893", object),
    })
    lines = tables.from_columns("claim_lines", {
        "claim_id": ids[claim_of], "line_no": line_no, "procedure_code": PROC[rng.integers(0, len(PROC), m)],
        "modifiers": np.array([None, "26", "59:26", "GP"], dtype=object)[rng.integers(0, 4, m)],
        "units": rng.integers(0, 3, m).astype(float), "charge": charge, "service_date": service[claim_of],
        "diagnosis_pointers": np.array(["1", "1:2", "3"], dtype=object)[rng.integers(0, 3, m)],
    })
    payers = tables.from_columns("payers", {"payer_id": ["P1", "P2", "P3"], "name": ["A", "B", "C"],
                                            "payer_class": ["commercial", "medicare", "medicaid"],
                                            "payer_ref": ["A1", "B1", "C1"]})
    rules, _ = rules_from_frame(pd.DataFrame({
        "payer_id": ["P1", "*", "P2"], "rule": ["authorization", "modifier", "frequency"],
        "procedure_code": ["70553", "97110", "99214"], "modifier": ["", "GP", ""], "max_units": ["", "", "1"],
        "period_days": ["", "", "30"]}))
    return claims, lines, payers, rules


def apply_baseline(claims: pd.DataFrame, lines: pd.DataFrame) -> int:
    """What a straightforward scrubber does: a Python function per line and per claim (a few of the checks)."""
    import re

    shape = re.compile(r"^(?:\d{5}|\d{4}[FTU]|[A-V]\d{4})$")
    bad_lines = lines.apply(lambda r: (not shape.match(str(r["procedure_code"]))) or r["units"] <= 0
                            or r["charge"] <= 0, axis=1)
    bad_claims = claims.apply(lambda r: pd.isna(r["member_id"]) or r["charge"] <= 0, axis=1)
    return int(bad_lines.sum() + bad_claims.sum())


def run(full: bool = False) -> list[Row]:
    claims, lines, payers, rules = practice(100_000)
    ours = median_seconds(lambda: scrub(claims, lines, payers, NPI, AS_OF, rules), 3)
    result = scrub(claims, lines, payers, NPI, AS_OF, rules)
    assert len(result) > 0 and result.equals(scrub(claims, lines, payers, NPI, AS_OF, rules))  # deterministic
    slow = median_seconds(lambda: apply_baseline(claims, lines), 1)
    return [Row("scrub 100,000 claims (all rules)", ours, slow, "s", "pandas row-by-row apply (5 checks only)")]
