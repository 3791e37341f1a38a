"""Real exports in (issue 12): headers matched whatever their style, a practice's own column map, line-level
claims exports, payers by name or missing, and messages a specialist can act on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xl_ar import columns, ledger, mapping
from xl_ar.cli import main
from xl_ar.columns import ColumnMap
from xl_ar.practice import read_export, read_practice
from xl_ar.tables import to_frame


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def messages(findings, severity: str | None = None) -> list[str]:
    return [f.message for f in findings if severity is None or f.severity == severity]


# --- header style ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["claim_id", "Claim ID", "CLAIMID", "ClaimId", "Claim #", "claim-id", "CLAIM_ID"])
def test_a_claim_id_header_matches_in_any_style(header):
    assert columns.known_column("claims", header) == "claim_id"


@pytest.mark.parametrize(("header", "column"), [
    ("TotalCharges", "charge"), ("totalCharges", "charge"), ("TOTAL CHARGES", "charge"), ("PatientID", "account_id"),
    ("DateOfService", "service_date"), ("InsBal", "insurance_balance"),
])
def test_camel_case_is_split_and_case_ignored(header, column):
    assert columns.known_column("claims", header) == column


@pytest.mark.parametrize(("header", "column"), [("balance_total", "balance"), ("paid_total", "paid"),
                                              ("balance_ins", "insurance_balance"), ("Date Service", "service_date")])
def test_the_order_of_a_headers_words_does_not_matter(header, column):
    assert columns.known_column("claims", header) == column


@pytest.mark.parametrize(("column", "headers"), [
    ("claim_id", ("Invoice", "Encounter ID", "Visit")),
    ("account_id", ("Patient ID", "MRN", "Pubpid", "Chart #")),
    ("payer_id", ("Payer Name", "Insurance Name", "Primary Insurance")),
    ("charge", ("Billed",)),
    ("adjusted", ("Adjust",)),
    ("balance", ("Balance Due",)),
    ("insurance_balance", ("Ins Balance",)),
    ("patient_balance", ("Pt Balance",)),
    ("paid", ("Paid", "Payments")),
])
def test_the_names_pm_systems_use_for_claim_columns(column, headers):
    assert [columns.known_column("claims", h) for h in headers] == [column] * len(headers)


@pytest.mark.parametrize("header", ["Reference", "Check #", "Check or Slip #", "EFT #"])
def test_the_names_of_a_payments_trace_number(header):
    assert columns.known_column("postings", header) == "trace_number"


def test_a_bank_csvs_description_wins_over_its_details_with_a_warning(tmp_path):
    path = write(tmp_path, "deposits.csv", "Details,Posting Date,Description,Amount\n"
                                           "CREDIT,09/02/2026,HCCLAIMPMT TRN*1*EFT77*1512345678\\,120.00\n")
    frame, findings = ledger.read_table(path, "deposits")
    assert "'Description' and 'Details' both mean description: 'Description' is used, 'Details' is not" \
        in messages(findings, "warning")
    assert frame.trace_number.tolist() == ["EFT77"]  # found in the Description, not in 'CREDIT'


def test_columns_read_but_not_used_are_listed_once(tmp_path):
    path = write(tmp_path, "claims.csv", "Claim #,Pat Acct,Ins Code,DOS,Charges,Payments,Adj,Balance,Resp,Notes,Room\n"
                                         "C1,A1,MCR,2026-09-01,100.00,0,0,100.00,insurance,x,2\n"
                                         "C2,A2,MCR,2026-09-02,50.00,0,0,50.00,insurance,y,3\n")
    _, findings = ledger.read_table(path, "claims")
    assert messages(findings) == ["2 columns not used: Notes, Room"]


def test_a_missing_column_names_its_spellings_and_the_closest_header(tmp_path):
    path = write(tmp_path, "claims.csv", "Claim #,Pat Acct,Insurance Nme,DOS,Charges,Payments,Adj,Balance\n"
                                         "C1,A1,MCR,2026-09-01,100.00,0,0,100.00\n")
    _, findings = ledger.read_table(path, "claims")
    (missing,) = [m for m in messages(findings, "error") if "'payer_id' is missing" in m]
    assert "accepted headers: 'payer_id', 'Ins Code', 'Insurance Code'," in missing
    assert "(did you mean 'Insurance Nme'?)" in missing


# --- line-level exports ---------------------------------------------------------------------------------------------

LINES = ("Encounter ID,Patient ID,Insurance Name,DOS,CPT,Units,Billed,Paid,Adjust,Balance Due,Resp\n"
         "E1,P1,MCR,2026-09-03,99213,1,120.00,60.00,20.00,40.00,insurance\n"
         "E1,P1,MCR,2026-09-01,36415,1,15.00,10.00,5.00,0.00,insurance\n"
         "E1,P1,MCR,2026-09-03,81002,2,30.00,0.00,0.00,30.00,insurance\n"
         "E2,P2,MCR,2026-09-10,99214,1,180.00,0.00,0.00,180.00,insurance\n")


def test_a_claims_export_with_a_row_per_service_line_becomes_claims_and_lines(tmp_path):
    export = read_export(write(tmp_path, "visits.csv", LINES), "claims")
    claims, lines = export.tables["claims"], export.tables["claim_lines"]
    assert messages(export.findings, "error") == []
    assert claims.claim_id.tolist() == ["E1", "E2"]
    # E1: charge 120 + 15 + 30 = 165.00; paid 60 + 10 + 0 = 70.00; adjusted 20 + 5 + 0 = 25.00; balance 40 + 0 + 30
    assert claims.charge.tolist() == [16500, 18000] and claims.paid.tolist() == [7000, 0]
    assert claims.adjusted.tolist() == [2500, 0] and claims.balance.tolist() == [7000, 18000]
    assert str(claims.service_date.iloc[0].date()) == "2026-09-01"  # E1's earliest line
    assert lines.procedure_code.tolist() == ["99213", "36415", "81002", "99214"]
    assert lines.line_no.tolist() == [1, 2, 3, 1] and lines.units.tolist() == [1.0, 1.0, 2.0, 1.0]


def test_grouping_lines_is_said_once_and_is_not_a_duplicate_claim(tmp_path):
    export = read_export(write(tmp_path, "visits.csv", LINES), "claims")
    assert [m for m in messages(export.findings) if "duplicate" in m] == []
    assert ("4 rows are the service lines of 2 claims (1 with more than one line): each claim's money is the sum of "
            "its lines, its date the earliest; the lines are kept as claim_lines") in messages(export.findings)


def test_service_lines_without_a_claim_id_stay_apart_and_are_errors(tmp_path):
    text = LINES + ",P3,MCR,2026-09-11,99212,1,90.00,0.00,0.00,90.00,insurance\n" * 2
    export = read_export(write(tmp_path, "visits.csv", text), "claims")
    assert len(export.tables["claims"]) == 4  # E1, E2 and each line without an id on its own: never one claim
    empty = [f for f in export.findings if f.severity == "error" and f.where.column == "claim_id"]
    assert [f.where.row for f in empty] == [6, 7]


def test_the_modifiers_of_a_line_are_read_whatever_their_list_style(tmp_path):
    text = ("Encounter ID,Patient ID,Payer,DOS,CPT,Modifiers,Billed,Paid,Adjust,Balance Due,Resp\n"
            "E1,P1,MCR,2026-09-03,99213,\"['25', '59']\",100.00,0,0,100.00,insurance\n"
            "E1,P1,MCR,2026-09-03,36415,[],10.00,0,0,10.00,insurance\n"
            "E2,P2,MCR,2026-09-04,97110,GP; 59,50.00,0,0,50.00,insurance\n")
    lines = read_export(write(tmp_path, "visits.csv", text), "claims").tables["claim_lines"]
    assert [None if m != m else m for m in lines.modifiers] == ["25:59", None, "GP:59"]  # '[]': no modifier


def test_a_reports_title_rows_above_its_header_are_left_out(tmp_path):
    text = ("Collections Report\nDate range: 01/01/2026 - 09/30/2026\n\n"
            "Claim #,Pat Acct,Payer,DOS,Charges,Payments,Adj,Balance\n"
            "C1,A1,MCR,2026-09-01,100.00,0,0,100.00\n")
    frame, findings = ledger.read_table(write(tmp_path, "claims.csv", text), "claims")
    assert frame.balance.tolist() == [10000]
    title = [f for f in findings if f.code == "title rows"]
    assert [(f.where.row, f.message) for f in title] == [
        (4, "the header is row 4: the 3 rows above it (a report's title) are left out")]


def test_a_row_of_data_is_never_taken_for_the_header(tmp_path):
    text = ("Ticket,Person,Plan,Seen,Amt,Coll,WO,Owed\n"
            "T1,P1,Paid,Balance,100.00,60.00,10.00,30.00\n")  # two header-like words in a data row
    sheet = ledger.read_sheet(write(tmp_path, "export.csv", text))
    assert list(sheet.frame.columns)[:2] == ["Ticket", "Person"] and sheet.first_row == 2


def test_lines_that_name_different_payers_are_a_warning(tmp_path):
    text = LINES.replace("E1,P1,MCR,2026-09-01", "E1,P1,BCBS,2026-09-01")
    export = read_export(write(tmp_path, "visits.csv", text), "claims")
    assert "the lines of 1 claim name different payer_id values; each claim takes its first line's" \
        in messages(export.findings, "warning")
    assert export.tables["claims"].payer_id.tolist() == ["MCR", "MCR"]


def test_a_practice_folder_takes_the_lines_of_a_line_level_claims_export(tmp_path):
    write(tmp_path, "claims.csv", LINES)
    practice = read_practice(tmp_path)
    assert len(practice.tables["claims"]) == 2 and len(practice.tables["claim_lines"]) == 4
    assert practice.files["claim_lines"] == "claims.csv"


# --- payers ---------------------------------------------------------------------------------------------------------

CLAIMS = "Claim #,Pat Acct,Payer,DOS,Charges,Payments,Adj,Balance\n"


def test_a_claim_without_a_payer_is_self_pay_and_the_rows_are_counted(tmp_path):
    path = write(tmp_path, "claims.csv", CLAIMS + "C1,A1,,2026-09-01,100.00,0,0,100.00\n"
                                                  "C2,A2,MCR,2026-09-01,80.00,0,0,80.00\n"
                                                  "C3,A3,,2026-09-02,40.00,0,0,40.00\n")
    frame, findings = ledger.read_table(path, "claims")
    assert frame.payer_id.tolist() == ["SELF-PAY", "MCR", "SELF-PAY"]
    assert frame.responsibility.tolist() == ["patient", "insurance", "patient"]
    assert "2 rows have no payer: read as self-pay ('SELF-PAY'), the patient owing the balance" \
        in messages(findings, "warning")


def test_a_claim_without_a_payer_takes_the_practices_own_self_pay_payer(tmp_path):
    payers = to_frame("payers", [{"payer_id": "SP", "name": "Self Pay", "payer_class": "self_pay"},
                                 {"payer_id": "MCR", "name": "Medicare", "payer_class": "medicare"}])
    frame, _ = ledger.read_table(write(tmp_path, "claims.csv", CLAIMS + "C1,A1,,2026-09-01,100.00,0,0,100.00\n"),
                                 "claims", payers)
    assert frame.payer_id.tolist() == ["SP"]


def test_payer_names_are_read_as_the_practices_payer_ids(tmp_path):
    payers = to_frame("payers", [{"payer_id": "MCR", "name": "Medicare Part B", "payer_class": "medicare"}])
    path = write(tmp_path, "claims.csv", CLAIMS + "C1,A1,medicare part b,2026-09-01,100.00,0,0,100.00\n")
    frame, findings = ledger.read_table(path, "claims", payers)
    assert frame.payer_id.tolist() == ["MCR"] and messages(findings, "error") == []


# --- derived amounts ------------------------------------------------------------------------------------------------


def test_payments_follow_from_charge_adjustments_and_balance(tmp_path):
    path = write(tmp_path, "claims.csv", "Claim #,Pat Acct,Payer,DOS,Charges,Adj,Balance,Resp\n"
                                         "C1,A1,MCR,2026-09-01,200.00,50.00,30.00,insurance\n")
    frame, findings = ledger.read_table(path, "claims")
    assert frame.paid.tolist() == [12000]  # 200.00 - 50.00 - 30.00 = 120.00
    assert "no paid column: paid is taken as charge - adjusted - balance" in messages(findings, "warning")


# --- a practice's own column map ------------------------------------------------------------------------------------

ODD = ("Ticket,Person,Plan,Seen,Amt,Coll,WO,Owed\n"
       "T1,P1,MCR,2026-08-01,100.00,60.00,10.00,30.00\n"
       "T2,P2,MCR,2026-09-01,50.00,0.00,0.00,50.00\n")
ODD_MAP = {"Ticket": "claim_id", "Person": "account_id", "Plan": "payer_id", "Seen": "service_date", "Amt": "charge",
           "Coll": "paid", "WO": "adjusted", "Owed": "balance"}


def test_a_column_map_names_the_column_of_any_header(tmp_path):
    path = write(tmp_path, "export.csv", ODD)
    frame, findings = ledger.read_table(path, "claims", column_map=ColumnMap("claims", ODD_MAP))
    assert messages(findings, "error") == []
    assert frame.balance.tolist() == [3000, 5000] and frame.claim_id.tolist() == ["T1", "T2"]


def test_a_constant_sets_a_column_for_every_row(tmp_path):
    path = write(tmp_path, "export.csv", ODD)
    own = {k: v for k, v in ODD_MAP.items() if k != "Plan"}
    frame, findings = ledger.read_table(path, "claims", column_map=ColumnMap("claims", own, {"payer_id": "SELF"}))
    assert frame.payer_id.tolist() == ["SELF", "SELF"]
    assert "1 column not used: Plan" in messages(findings)


def test_a_column_map_naming_a_column_the_table_lacks_is_an_error(tmp_path):
    path = write(tmp_path, "export.csv", ODD)
    _, findings = ledger.read_table(path, "claims", column_map=ColumnMap("claims", {**ODD_MAP, "Owed": "owed"}))
    assert any(m.startswith("the column map reads 'Owed' as 'owed', which claims does not have")
               for m in messages(findings, "error"))


def test_practice_json_maps_a_file_of_any_name_to_its_table(tmp_path):
    write(tmp_path, "Ticket Report 2026-09.csv", ODD)
    (tmp_path / "practice.json").write_text(json.dumps(
        {"files": {"Ticket Report 2026-09.csv": {"table": "claims", "columns": ODD_MAP}}}), encoding="utf-8")
    practice = read_practice(tmp_path)
    assert practice.files["claims"] == "Ticket Report 2026-09.csv"
    assert practice.tables["claims"].charge.sum() == 15000  # 100.00 + 50.00


def test_a_bad_column_map_in_practice_json_says_where(tmp_path):
    write(tmp_path, "claims.csv", ODD)
    (tmp_path / "practice.json").write_text(json.dumps(
        {"files": {"claims.csv": {"table": "claim", "colums": {}}}}), encoding="utf-8")
    found = messages(read_practice(tmp_path).findings, "error")
    assert "unknown key colums; the keys are table, columns, constants, date_format, profile" in found
    assert any(m.startswith("'claim' is not a table; the tables are payers, claims") for m in found)


# --- map suggest ----------------------------------------------------------------------------------------------------

NEW = ("Visit Nbr,Chart No,Insurance Name,Date Of Visit,Total Billed,Pymts,Adjust,Balnce Due,Notes\n"
       "V1,P1,MCR,01/15/2026,200.00,100.00,50.00,50.00,x\n"
       "V2,P2,MCR,02/20/2026,100.00,0.00,0.00,100.00,\n")


def test_map_suggest_asks_nothing_for_known_headers_and_proposes_the_others(tmp_path):
    found = mapping.suggest("new.csv", ledger.read_sheet(write(tmp_path, "new.csv", NEW)).frame)
    assert found.table == "claims" and found.missing == []
    assert found.proposed == {"Pymts": "paid", "Balnce Due": "balance"}  # abbreviated, misspelled
    assert "Visit Nbr" in found.known and found.unused == ["Notes"]


def test_a_header_whose_values_do_not_fit_is_never_proposed(tmp_path):
    text = NEW.replace(",50.00,x", ",see chart,x").replace(",100.00,\n", ",n/a,\n")
    found = mapping.suggest("new.csv", ledger.read_sheet(write(tmp_path, "new.csv", text)).frame)
    assert "Balnce Due" not in found.proposed  # named like balance, but its values are text, not amounts
    assert found.missing == ["balance"]


def test_the_map_suggest_writes_is_read_unedited(tmp_path, capsys):
    path = write(tmp_path, "new.csv", NEW)
    assert main(["map", "suggest", str(path), "--write"]) == 0
    assert json.loads((tmp_path / "practice.json").read_text())["files"]["new.csv"] == {
        "table": "claims", "columns": {"Pymts": "paid", "Balnce Due": "balance"}}
    capsys.readouterr()
    assert main(["aging", "--claims", str(path), "--as-of", "2026-09-30", "--json"]) == 0
    # V1 50.00 (258 days) and V2 100.00 (222 days) are both over 120 days: 150.00
    assert json.loads(capsys.readouterr().out)["ar"] == "150.00"


# --- the workbook's Columns sheet -----------------------------------------------------------------------------------

SHEET_OF = {"Claims": "claims", "Postings": "postings"}


def test_a_columns_sheet_gives_each_data_sheet_its_map_and_constants():
    rows = [["sheet", "header", "column", "value"],
            ["Claims", "Ticket", "claim_id", None],
            ["Claims", "Notes", None, None],
            ["Claims", None, "payer_id", "SELF-PAY"],
            [None, None, None, None],
            ["Postings", "Ref", "trace_number", None]]
    maps, findings = columns.maps_from_rows(rows, "Columns", SHEET_OF)
    assert findings == []
    assert maps["claims"] == ColumnMap("claims", {"Ticket": "claim_id", "Notes": ""}, {"payer_id": "SELF-PAY"})
    assert maps["postings"].columns == {"Ref": "trace_number"}


def test_a_columns_sheet_row_that_cannot_be_used_names_its_row():
    rows = [["sheet", "header", "column", "value"], ["Claimz", "Ticket", "claim_id", None],
            ["Claims", "Ticket", "ticket", None]]
    _, findings = columns.maps_from_rows(rows, "Columns", SHEET_OF)
    assert [(f.where.row, f.message.split(";")[0]) for f in findings] == [
        (2, "'Claimz' is not a data sheet"), (3, "'ticket' is not a column of claims")]


def test_the_ribbon_reads_pasted_exports_through_the_columns_sheet(tmp_path):
    from tests.excel_standin import Book
    from udfs import ribbon, sheets

    book = Book("Claims", "Columns", sheets.CONFIG_SHEET)
    book.sheets["Claims"].range("A1").value = [line.split(",") for line in ODD.strip().splitlines()]
    book.sheets["Columns"].range("A1").value = [["sheet", "header", "column", "value"],
                                                *[["Claims", h, c, None] for h, c in ODD_MAP.items()]]
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", str(tmp_path / "s.sqlite")],
                                                          ["as_of", "2026-09-30"]]
    data, _ = ribbon._workbook_tables(book, ribbon._settings(book))
    assert data["claims"].balance.tolist() == [3000, 5000]  # Owed 30.00 and 50.00, through the map


def test_map_suggest_has_nothing_to_ask_of_a_known_layout(capsys):
    corpus = Path(__file__).resolve().parent / "corpus" / "exports"
    assert main(["map", "suggest", str(corpus / "openemr_collections.csv")]) == 0
    assert capsys.readouterr().out == ("openemr_collections.csv: this is OpenEMR collections report, a layout xl-ar "
                                       "knows: nothing to map.\n")
