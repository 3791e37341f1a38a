"""Crafted numbers (issue 13, defect 3): every number is range-checked where it is read.

A count of 5,000 digits, an amount of 19 or 20 digits or a spreadsheet number of 1e20 is a bad
value reported at its place (file, transaction, segment, row, column), never an exception, an
overflow or an int64 that wraps around to a huge credit. Amounts of 10**13 cents (100 billion
dollars) or more are bad values (`MAX_CENTS`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from xl_ar import ledger, tables
from xl_ar.aging import aging
from xl_ar.errors import SettingsError
from xl_ar.money import MAX_CENTS, parse_cents, to_cents, x12_cents
from xl_ar.settings import resolve
from xl_ar.x12.era import read_835

HUGE = "9" * 5000  # beyond Python's 4,300-digit limit of int(str)


def one_claim(paid: str = "100") -> str:
    return era("TRN1", "100", [Claim("C1", "1", "100", paid, [Line("99213", "100", "100")])])


def messages(text: str) -> list[tuple[str, str, str]]:
    return [(f.severity, f.location, f.message) for f in read_835(text, "crafted.835").findings]


# -- X12 envelope counts -----------------------------------------------------------------------------

def test_an_se01_of_5000_digits_is_an_envelope_error_at_the_se():
    # the SE is segment 18 of the file: ISA, GS, then the 16 segments of the transaction (ST..SE)
    text = one_claim().replace("SE*16*0001", f"SE*{HUGE}*0001")
    assert messages(text) == [("error", "ST 0001, segment 18 (SE)",
                               "SE01 (segment count) is a number of 5,000 digits; at most 10 are allowed")]


def test_a_ge01_of_5000_digits_is_an_envelope_error_at_the_ge():
    text = one_claim().replace("GE*1*1", f"GE*{HUGE}*1")
    assert messages(text) == [("error", "segment 19 (GE)",
                               "GE01 (transaction count) is a number of 5,000 digits; at most 6 are allowed")]


def test_an_iea01_of_5000_digits_is_an_envelope_error_at_the_iea():
    text = one_claim().replace("IEA*1*", f"IEA*{HUGE}*")
    assert messages(text) == [("error", "segment 20 (IEA)",
                               "IEA01 (group count) is a number of 5,000 digits; at most 5 are allowed")]


def test_leading_zeros_do_not_count_against_the_length_of_a_count():
    # 16 written with 12 leading zeros is still 16
    assert messages(one_claim().replace("SE*16*0001", "SE*00000000000016*0001")) == []


# -- X12 amounts ---------------------------------------------------------------------------------------

def test_an_835_amount_of_100_billion_dollars_is_a_bad_value_read_as_0():
    # 100,000,000,000.00 dollars = 10**13 cents = MAX_CENTS: out of range
    remit = read_835(one_claim(paid="100000000000"), "crafted.835")
    assert remit.tables["claim_payments"].paid.tolist() == [0]
    assert ("error", "ST 0001, segment 14 (CLP)", "CLP04 (claim payment) is not a valid amount; read as 0") in [
        (f.severity, f.location, f.message) for f in remit.findings]


def test_an_835_amount_just_below_the_bound_is_read_exactly():
    # 99,999,999,999.99 dollars = 10**13 - 1 cents
    remit = read_835(one_claim(paid="99999999999.99"), "crafted.835")
    assert remit.tables["claim_payments"].paid.tolist() == [MAX_CENTS - 1]


def test_x12_cents_of_5000_digits_is_a_value_error_with_a_short_message():
    with pytest.raises(ValueError, match=r"^a value of 5,000 digits is beyond the largest amount"):  # privacy.shown
        x12_cents(HUGE)


def test_x12_cents_of_100_billion_dollars_is_a_value_error():
    with pytest.raises(ValueError, match="beyond the largest amount"):
        x12_cents("100000000000.00")


# -- amounts in exports --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["9" * 19, "9" * 20, "99999999999999999999.00", "1,000,000,000,000,000,000",
                                  "($100,000,000,000.00)", "-100000000000", HUGE])
def test_text_amounts_of_100_billion_dollars_or_more_are_bad_not_wrapped(text):
    cents, bad = parse_cents(pd.Series([text, "1.00"], dtype=object))
    assert bad.tolist() == [True, False]
    assert cents.isna().tolist() == [True, False]


def test_a_text_amount_just_below_the_bound_is_exact():
    # $99,999,999,999.99 = 9,999,999,999,999 cents
    cents, bad = parse_cents(pd.Series(["$99,999,999,999.99", "-99999999999.99"], dtype=object))
    assert cents.tolist() == [MAX_CENTS - 1, -(MAX_CENTS - 1)] and not bad.any()


def test_a_spreadsheet_number_of_1e20_is_bad_not_wrapped():
    cents, bad = parse_cents(pd.Series([1e20, -1e20, 5.0]))
    assert bad.tolist() == [True, True, False]
    assert cents.tolist()[2] == 500 and cents.isna().tolist() == [True, True, False]


def test_a_python_int_beyond_int64_is_bad():
    cents, bad = parse_cents(pd.Series([10**20, 5], dtype=object))
    assert bad.tolist() == [True, False] and cents.tolist()[1] == 500


@pytest.mark.parametrize("value", [HUGE, "9" * 20, 10**20, 1e20, "100000000000"])
def test_to_cents_refuses_amounts_beyond_the_bound(value):
    with pytest.raises(ValueError, match="beyond the largest amount xl-ar reads"):
        to_cents(value)


def test_a_claims_export_with_a_20_digit_charge_reports_its_row_and_column(tmp_path: Path):
    path = tmp_path / "claims.csv"
    path.write_text("claim_id,account_id,payer_id,service_date,charge,paid,adjusted,balance\n"
                    "C1,A1,P1,2026-01-05,100.00,0,0,100.00\n"
                    f"C2,A2,P1,2026-01-06,{'9' * 20},0,0,0\n", encoding="utf-8")
    frame, findings = ledger.read_table(path, "claims")
    errors = [(f.location, f.severity) for f in findings if f.severity == "error"]
    assert ("row 3, column 'charge'", "error") in errors
    assert frame.charge.max() < MAX_CENTS  # no wrap-around into the table


def test_an_xlsx_number_of_1e20_is_a_bad_value_not_a_credit(tmp_path: Path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["claim_id", "account_id", "payer_id", "service_date", "charge", "paid", "adjusted", "balance"])
    sheet.append(["C1", "A1", "P1", dt.date(2026, 1, 5), 100, 0, 0, 1e20])
    book.save(tmp_path / "claims.xlsx")
    frame, findings = ledger.read_table(tmp_path / "claims.xlsx", "claims")
    assert "row 2, column 'balance'" in [f.location for f in findings if f.severity == "error"]
    assert not (frame.balance.dropna() < 0).any()  # 1e20 never becomes -92 quadrillion


# -- core sums -------------------------------------------------------------------------------------------

def test_aging_totals_beyond_2_to_the_53_cents_are_exact():
    # 1,000 claims of 9,999,999,999,999 cents each: 9,999,999,999,999,000 cents (> 2**53, < 2**63)
    n = 1000
    data = {"claim_id": [f"C{i}" for i in range(n)], "account_id": ["A"] * n, "payer_id": ["P"] * n,
            "service_date": [dt.date(2026, 9, 1)] * n, "billed_date": [dt.date(2026, 9, 1)] * n,
            "charge": [MAX_CENTS - 1] * n, "paid": [0] * n, "adjusted": [0] * n, "balance": [MAX_CENTS - 1] * n,
            "responsibility": ["insurance"] * n}
    result = aging(tables.from_columns("claims", data), dt.date(2026, 9, 30), group_by="none")
    assert int(result.table["total"].sum()) == 9_999_999_999_999_000


# -- settings ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1e999999999", "-1e999999999", "100000000000"])
def test_a_money_setting_of_100_billion_dollars_or_more_is_refused(tmp_path: Path, value: str):
    # '1e999999999' as an int would take gigabytes: refused before it is built
    with pytest.raises(SettingsError, match=r"variance_min: .* is beyond the largest amount xl-ar reads"):
        resolve(sheet={"variance_min": value}, environ={"XL_AR_HOME": str(tmp_path)})


# -- counts in exports --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["99999999999999999999", 1e20])
def test_a_count_of_1e20_is_a_bad_value_not_a_wrapped_int64(value):
    raw = pd.DataFrame({"payer_id": ["P1", "P2"], "name": ["Acme", "Bolt"], "payer_class": ["commercial"] * 2,
                        "timely_filing_days": ["90", value]}, dtype=object)
    frame, findings = tables.from_frame("payers", raw, "payers.csv")
    # row 2 reads 90; row 3 is a bad value (NA), not -9,223,372,036,854,775,808
    assert frame.timely_filing_days.tolist()[0] == 90 and pd.isna(frame.timely_filing_days.tolist()[1])
    assert [(f.location, f.message.endswith("is beyond the largest count xl-ar reads")) for f in findings] == [
        ("row 3, column 'timely_filing_days'", True)]
