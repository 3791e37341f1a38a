"""PM exports: header variants, derived columns, every file problem reported with file/row/column."""

from pathlib import Path

import openpyxl
import pytest

from xl_ar import ledger
from xl_ar.errors import InputError

PM_CLAIMS = """Claim #,Pat Acct,Ins Code,DOS,Billed Date,Billed Amt,Paid Amt,Adj Amt,Ins Bal,Pat Bal
C100,A1,MCR,03/01/2025,03/03/2025,185.00,73.60,92.00,0.00,19.40
C101,A2,SMH,03/02/2025,03/04/2025,260.00,0.00,0.00,260.00,0.00
C102,A3,SMH,03/02/2025,03/14/2025,90.00,115.00,0.00,0.00,-25.00
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("header", "column"),
    [("Claim #", "claim_id"), ("Pat Acct", "account_id"), ("DOS", "service_date"), ("Billed Amt", "charge"),
     ("Ins Bal", "insurance_balance"), ("claim_id", "claim_id"), ("CLAIM NO.", "claim_id"), ("Date of Service",
                                                                                      "service_date")],
)
def test_common_pm_headers_map_to_canonical_columns(header, column):
    mapping, clashes = ledger.map_headers("claims", [header])
    assert mapping == {header: column} and clashes == []


def test_pm_export_with_variant_headers_reads_as_claims(tmp_path):
    frame, findings = ledger.read_table(write(tmp_path, "claims.csv", PM_CLAIMS), "claims")
    assert findings == []
    assert frame.claim_id.tolist() == ["C100", "C101", "C102"]
    assert frame.charge.tolist() == [18500, 26000, 9000]


def test_balance_and_responsibility_are_derived_from_insurance_and_patient_balances(tmp_path):
    frame, _ = ledger.read_table(write(tmp_path, "claims.csv", PM_CLAIMS), "claims")
    # balance = Ins Bal + Pat Bal: 0 + 19.40, 260 + 0, 0 - 25
    assert frame.balance.tolist() == [1940, 26000, -2500]
    # insurance owes where its balance is not zero
    assert frame.responsibility.tolist() == ["patient", "insurance", "patient"]


def test_a_balance_that_disagrees_with_the_amounts_is_a_warning(tmp_path):
    text = PM_CLAIMS.replace("C101,A2,SMH,03/02/2025,03/04/2025,260.00", "C101,A2,SMH,03/02/2025,03/04/2025,250.00")
    _, findings = ledger.read_table(write(tmp_path, "claims.csv", text), "claims")
    # 250 - 0 - 0 != 260
    assert [(f.severity, f.location) for f in findings] == [("warning", "row 3")]


def test_wrong_date_text_amount_and_missing_column_are_all_reported_at_once(tmp_path):
    text = PM_CLAIMS.replace("03/02/2025,03/04/2025,260.00", "02/30/2025,03/04/2025,lots")
    _, findings = ledger.read_table(write(tmp_path, "claims.csv", text.replace(",Pat Acct", ",Acct Holder")),
                                    "claims")
    messages = [str(f) for f in findings]
    assert messages[0].startswith("claims.csv column 'account_id': required column 'account_id' is missing; "
                                  "accepted headers: 'account_id', 'Pat Acct', 'Patient Account', ")
    assert "(did you mean 'Acct Holder'?)" in messages[0]
    assert "claims.csv row 3, column 'charge': a value of 4 letters is not an amount" in messages
    assert "claims.csv row 3, column 'service_date': '02/30/2025' is not a date" in messages


def test_an_empty_file_cannot_be_read(tmp_path):
    with pytest.raises(InputError, match=r"^claims.csv: the file is empty$"):
        ledger.read_table(write(tmp_path, "claims.csv", ""), "claims")


def test_a_file_that_is_not_a_spreadsheet_cannot_be_read(tmp_path):
    path = tmp_path / "claims.xlsx"
    path.write_bytes(b"%PDF-1.4 this is a PDF, not a workbook" * 10)
    with pytest.raises(InputError, match=r"^claims.xlsx: not a readable spreadsheet"):
        ledger.read_table(path, "claims")


def test_a_binary_file_named_csv_cannot_be_read(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    with pytest.raises(InputError, match=r"^claims.csv: not a text CSV file"):
        ledger.read_table(path, "claims")


def test_xlsx_export_is_read_with_spreadsheet_types(tmp_path):
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Claim #", "Pat Acct", "Ins Code", "DOS", "Charges", "Payments", "Adjustments", "Balance", "Resp"])
    ws.append(["C1", 1001, "MCR", dt.datetime(2025, 3, 1), 185, 73.6, 92, 19.4, "patient"])
    ws.append([None] * 9)  # a blank row is not data
    ws.append(["C2", 1002, "MCR", "bad date", 100, 0, 0, 100, "insurance"])
    wb.save(tmp_path / "claims.xlsx")
    frame, findings = ledger.read_table(tmp_path / "claims.xlsx", "claims")
    assert frame.account_id.tolist() == ["1001", "1002"]  # whole numbers become codes, not 1001.0
    assert frame.paid.iloc[0] == 7360  # 73.6 as exact cents
    assert [str(f) for f in findings] == [
        "claims.xlsx row 4, column 'service_date': a value of 8 characters is not a date"]


def test_semicolon_delimited_windows_export(tmp_path):
    text = ("Claim #;Pat Acct;Ins Code;DOS;Charges;Payments;Adjustments;Balance;Resp\r\n"
            "C1;A1;MCR;2025-03-01;10;0;0;10;insurance\r\n")
    path = tmp_path / "claims.csv"
    path.write_bytes(text.encode("cp1252"))
    frame, findings = ledger.read_table(path, "claims")
    assert findings == [] and frame.balance.tolist() == [1000]


def test_duplicate_keys_are_reported(tmp_path):
    text = PM_CLAIMS + "C100,A9,MCR,03/05/2025,03/06/2025,10.00,0.00,0.00,10.00,0.00\n"
    _, findings = ledger.read_table(write(tmp_path, "claims.csv", text), "claims")
    assert [str(f) for f in findings] == [
        "claims.csv row 5: duplicate claim_id: the same key appears on an earlier row"]


def test_of_two_headers_for_one_column_the_better_one_wins_with_a_warning(tmp_path):
    text = "Encounter ID,Claim #,Pat Acct\nC1,C9,A1\n"
    frame, findings = ledger.read_table(write(tmp_path, "claims.csv", text), "claims")
    # 'Claim #' comes before 'Encounter ID' among claim_id's names, so it wins wherever it stands
    assert ("warning", "'Claim #' and 'Encounter ID' both mean claim_id: 'Claim #' is used, 'Encounter ID' is not") \
        in [(f.severity, f.message) for f in findings]
    assert frame.claim_id.tolist() == ["C9"]


def test_postings_export_headers(tmp_path):
    text = "Trans #,Claim #,Ins Code,Pmt Amt,Post Date,Check/EFT #\nT1,C1,MCR,73.60,03/20/2025,8812345\n"
    frame, findings = ledger.read_table(write(tmp_path, "postings.csv", text), "postings")
    assert findings == [] and frame.trace_number.tolist() == ["8812345"] and frame.amount.tolist() == [7360]


def test_every_header_variant_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "practice-folder.md").read_text(encoding="utf-8")
    for table, columns in ledger.HEADER_VARIANTS.items():
        for column, variants in columns.items():
            for v in variants:
                assert f"`{v}`" in doc, f"{table}.{column}: variant {v!r} missing from docs/practice-folder.md"


def test_adjustments_are_derived_from_contractual_and_write_offs(tmp_path):
    text = ("Claim #,Pat Acct,Ins Code,DOS,Charges,Payments,Contractual,Write Offs,Balance,Resp\n"
            "C1,A1,MCR,2025-03-01,185.00,73.60,92.00,19.40,0.00,patient\n")
    frame, findings = ledger.read_table(write(tmp_path, "claims.csv", text), "claims")
    # adjusted = contractual 92.00 + write-offs 19.40 = 111.40; 185 - 73.60 - 111.40 = 0
    assert findings == [] and frame.adjusted.tolist() == [11140] and frame.written_off.tolist() == [1940]
