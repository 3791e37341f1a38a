"""Canonical tables: one spec per table, validation that names row and column, no row dropped."""

import datetime as dt

import pandas as pd
import pytest

from xl_ar import tables
from xl_ar.findings import Finding


def claims_raw(**overrides) -> pd.DataFrame:
    row = {
        "claim_id": "C1", "account_id": "A1", "payer_id": "MCR", "service_date": "2025-03-01",
        "charge": "100.00", "paid": "60.00", "adjusted": "30.00", "balance": "10.00", "responsibility": "patient",
    }
    row.update(overrides)
    return pd.DataFrame([row], dtype="str")


def test_every_design_table_has_a_model_and_columns():
    expected = {"payers", "claims", "claim_lines", "payments", "claim_payments", "line_payments", "adjustments",
                "remarks", "provider_adjustments", "postings", "deposits", "fee_schedule", "exceptions",
                "scrub_findings", "eligibility", "claim_status", "cob_claims", "cob_lines", "cob_adjustments",
                "notes", "appeals", "statements", "payment_plans", "placements", "agency_payments", "refunds"}
    assert set(tables.TABLES) == expected
    for table in tables.TABLES.values():
        assert table.columns, table.name
        assert all(c.doc for c in table.columns), f"{table.name}: every column is documented"


def test_design_key_columns_are_present():
    # the key columns listed in shared/DESIGN.md, per table
    assert {"claim_id", "account_id", "payer_id", "service_date", "billed_date", "charge", "paid", "adjusted",
            "balance", "responsibility", "status", "last_activity_date"} <= set(tables.TABLES["claims"].column_names)
    assert {"payment_id", "claim_id", "line_seq", "group_code", "reason_code", "amount", "quantity"} <= set(
        tables.TABLES["adjustments"].column_names)


def test_a_clean_row_becomes_typed_columns():
    frame, findings = tables.from_frame("claims", claims_raw(), "claims.csv")
    assert findings == []
    assert frame.charge.iloc[0] == 10000 and frame.charge.dtype == "int64"  # cents
    assert frame.service_date.iloc[0] == pd.Timestamp("2025-03-01")
    assert pd.isna(frame.billed_date.iloc[0])


def test_a_wrong_date_names_file_row_and_column():
    frame, findings = tables.from_frame("claims", claims_raw(service_date="2025-13-01"), "claims.csv")
    assert [str(f) for f in findings] == ["claims.csv row 2, column 'service_date': '2025-13-01' is not a date"]
    assert len(frame) == 1  # the row is kept


def test_a_text_amount_is_reported():
    _, findings = tables.from_frame("claims", claims_raw(charge="one hundred"), "claims.csv")
    # words are never quoted (they could be a name)
    assert [str(f) for f in findings] == [
        "claims.csv row 2, column 'charge': a value of 11 characters is not an amount"]


def test_a_missing_required_column_is_reported_by_name():
    _, findings = tables.from_frame("claims", claims_raw().drop(columns=["balance"]), "claims.csv")
    assert [f.message for f in findings] == ["required column 'balance' is missing"]


def test_an_empty_required_cell_is_reported():
    _, findings = tables.from_frame("claims", claims_raw(payer_id=""), "claims.csv")
    assert [str(f) for f in findings] == ["claims.csv row 2, column 'payer_id': is empty; a value is required"]


def test_a_value_outside_the_choices_is_reported():
    _, findings = tables.from_frame("claims", claims_raw(responsibility="guarantor"), "claims.csv")
    assert findings[0].message == "a value of 9 letters is not one of insurance, patient"


def test_identifier_values_are_never_shown_in_findings():
    _, findings = tables.from_frame("claims", claims_raw(date_of_birth="1950-02-30"), "claims.csv")
    assert len(findings) == 1 and "1950-02-30" not in str(findings[0])
    assert "patient identifier" in findings[0].message


def test_us_and_x12_date_formats_are_read():
    # 03/31: the 31 settles month/day (a lone 03/01/2025 would be ambiguous: tests/test_dates.py)
    raw = pd.concat([claims_raw(service_date="03/31/2025"), claims_raw(service_date="20250331")],
                    ignore_index=True)
    frame, findings = tables.from_frame("claims", raw, "claims.csv")
    assert findings == [] and frame.service_date.nunique() == 1


def test_rows_round_trip_through_models():
    frame, _ = tables.from_frame("claims", claims_raw(), "claims.csv")
    rows = tables.to_rows("claims", frame)
    assert rows[0].service_date == dt.date(2025, 3, 1) and rows[0].balance == 1000
    again = tables.to_frame("claims", rows)
    assert again.balance.tolist() == [1000] and again.service_date.tolist() == frame.service_date.tolist()


def test_validate_rows_reports_pydantic_errors_as_findings():
    ok, findings = tables.validate_rows("payers", [{"payer_id": "X", "name": "X", "payer_class": "hmo"}])
    assert ok == [] and isinstance(findings[0], Finding) and findings[0].location == "row 1, column 'payer_class'"


def test_empty_table_has_canonical_dtypes():
    empty = tables.empty("line_payments")
    assert list(empty.columns) == tables.TABLES["line_payments"].column_names
    assert str(empty.charge.dtype) == "int64" and str(empty.allowed.dtype) == "Int64"


@pytest.mark.parametrize("name", list(tables.TABLES))
def test_from_columns_of_an_empty_input_gives_the_empty_table(name):
    required = {c.name: [] for c in tables.TABLES[name].columns if c.required}
    assert list(tables.from_columns(name, required).columns) == tables.TABLES[name].column_names


def test_a_misspelled_column_is_an_error_naming_the_column_and_the_table():
    data = {"posting_id": ["P1"], "claim_id": ["C1"], "payer_id": ["ACME"], "ammount": [100],
            "posted_date": [dt.date(2026, 9, 1)]}
    with pytest.raises(ValueError, match=r"^postings: no column named 'ammount' \(the columns are posting_id, "):
        tables.from_columns("postings", data)
