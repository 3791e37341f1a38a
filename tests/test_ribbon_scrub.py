"""The Scrub claims ribbon macro on a stand-in workbook: the workbook's claims, lines and payers through the claim
scrubber (`xl_ar.scrub.scrub`) with the practice folder's scrub_rules.csv; the findings on the owned Scrub sheet,
errors first, and the clean claim count in the alert."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.excel_standin import Book
from tests.test_ribbon_reconcile import grid
from udfs import ribbon, sheets

HEADER = ("claim_id,account_id,payer_id,service_date,charge,paid,adjusted,balance,responsibility,patient_name,"
          "date_of_birth,member_id,patient_address,diagnosis_codes,patient_sex,place_of_service,prior_authorization")
CLEAN = ('{dos},150.00,0,0,150.00,insurance,"Doe, Jane",1980-02-03,{member},"1 Elm St, Springfield, IL, 62701",'
         'E11.9,F,11,')
CLAIMS = "\n".join([
    HEADER,
    # clean, but filed late: 2026-07-10 + 90 days = 2026-10-08, 8 days after as_of: SCR-TIMELY (warning)
    "S1,A1,ACME," + CLEAN.format(member="M1", dos="2026-07-10"),
    "S2,A2,ACME," + CLEAN.format(member="", dos="2026-09-10"),    # no member id: SCR-REQ-MEMBER (error)
    "S3,A3,ACME," + CLEAN.format(member="M3", dos="2026-09-10"),  # 97110 needs authorization: SCR-PAYER-AUTH
]) + "\n"
LINES = """claim_id,line_no,procedure_code,units,charge,service_date,diagnosis_pointers
S1,1,99213,1,150.00,2026-07-10,1
S2,1,99213,1,150.00,2026-09-10,1
S3,1,97110,1,150.00,2026-09-10,1
"""
PAYERS = """payer_id,name,payer_class,timely_filing_days,payer_ref
ACME,Acme Health,commercial,90,ACME1
"""
RULES = """payer_id,rule,procedure_code,modifier,max_units,period_days,note
ACME,authorization,97110,,,,therapy needs auth
ACME,modifier,,GP,,,
"""
USER_SHEETS = {"Claims": "claims.csv", "Claim Lines": "claim_lines.csv", "Payers": "payers.csv"}


@pytest.fixture
def practice(tmp_path) -> Path:
    folder = tmp_path / "practice"
    folder.mkdir()
    (folder / "practice.json").write_text(json.dumps({"name": "Test Clinic", "npi": "1234567893",
                                                      "as_of": "2026-09-30"}))
    for name, text in (("claims.csv", CLAIMS), ("claim_lines.csv", LINES), ("payers.csv", PAYERS),
                       ("scrub_rules.csv", RULES)):
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def book(practice, tmp_path) -> Book:
    b = Book(*USER_SHEETS, sheets.CONFIG_SHEET)
    for name, file in USER_SHEETS.items():
        b.sheets[name].range("A1").value = grid(practice / file)
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = [
        ["store", str(tmp_path / "s.sqlite")], ["as_of", "2026-09-30"], ["practice", str(practice)]]
    return b


def test_findings_are_listed_errors_first_with_rule_severity_message_and_fix(book):
    ribbon.scrub_claims(book)
    rows = book.sheets["Scrub"].frame(header_row=4)  # the summary, the rules file's problem, a blank row
    assert list(rows.columns) == ["claim_id", "line_no", "rule_id", "severity", "column", "message", "fix"]
    # in the claims' order S1, S2, S3 the warning would come first: errors go before it
    assert rows[["claim_id", "rule_id", "severity"]].values.tolist() == [
        ["S2", "SCR-REQ-MEMBER", "error"], ["S3", "SCR-PAYER-AUTH", "error"], ["S1", "SCR-TIMELY-RISK", "warning"]]
    assert rows["line_no"].fillna(0).tolist() == [0, 1, 0]  # only the authorization is about a line
    assert rows.loc[1, "message"].endswith("(therapy needs auth).")  # the note of the practice's rule
    assert rows.loc[2, "message"] == "The payer's timely-filing limit ends in 8 days."
    assert rows["fix"].map(bool).all()


def test_the_alert_gives_the_clean_claim_count(book):
    message = ribbon.scrub_claims(book)
    # S1 has only a warning: clean; S2 and S3 have an error each
    assert message.endswith(": 1 of 3 claims clean, 2 held back by errors; 2 errors, 1 warning.")
    assert book.app.alerts == [message] and book.sheets["Scrub"].cells[(1, 1)] == message


def test_a_row_of_the_rules_file_that_cannot_be_used_is_shown_above_the_findings(book):
    ribbon.scrub_claims(book)
    # row 3 of scrub_rules.csv is a modifier rule without a procedure code
    assert book.sheets["Scrub"].cells[(2, 1)] == ("error: scrub_rules.csv row 3, column 'procedure_code': "
                                                  "procedure_code is not a CPT or HCPCS code; the row is not used")


def test_without_a_rules_file_only_the_built_in_rules_run(book, practice):
    (practice / "scrub_rules.csv").unlink()
    message = ribbon.scrub_claims(book)
    # S3's 97110 needs no authorization any more: S1 and S3 clean
    assert message.endswith(": 2 of 3 claims clean, 1 held back by errors; 1 error, 1 warning.")
    assert book.sheets["Scrub"].frame(header_row=3)["rule_id"].tolist() == ["SCR-REQ-MEMBER", "SCR-TIMELY-RISK"]


def test_the_users_sheets_are_untouched_and_a_rerun_replaces_the_scrub_sheet(book):
    before = {name: dict(book.sheets[name].cells) for name in [*USER_SHEETS, sheets.CONFIG_SHEET]}
    ribbon.scrub_claims(book)
    first = dict(book.sheets["Scrub"].cells)
    ribbon.scrub_claims(book)
    assert [s.name for s in book.sheets] == [*USER_SHEETS, sheets.CONFIG_SHEET, "Scrub"]
    assert {k: v for k, v in book.sheets["Scrub"].cells.items() if k != (1, 1)} == {
        k: v for k, v in first.items() if k != (1, 1)}  # the first line holds the time it ran
    assert {name: book.sheets[name].cells for name in before} == before


def test_a_claims_sheet_with_a_bad_cell_is_refused_and_nothing_is_written(book):
    claims = book.sheets["Claims"]
    claims.cells[(3, claims.range("A1").value[0].index("charge") + 1)] = "lots"
    message = ribbon.scrub_claims(book)
    assert "Claims" in message and "charge" in message
    assert book.app.alerts == [message]
    assert [s.name for s in book.sheets] == [*USER_SHEETS, sheets.CONFIG_SHEET]


def test_without_a_practice_folder_the_macro_says_it_needs_the_billing_npi(book):
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", "s.sqlite"], ["as_of", "2026-09-30"],
                                                          ["practice", None]]
    message = ribbon.scrub_claims(book)
    assert message == ("no practice folder configured (setting practice): its practice.json holds the billing NPI "
                       "the claims are sent with")
    assert [s.name for s in book.sheets] == [*USER_SHEETS, sheets.CONFIG_SHEET]


def test_text_from_the_data_is_written_as_text_never_a_formula(book):
    claims = book.sheets["Claims"]
    claims.cells[(3, 1)] = "=cmd|' /c calc'!A0"  # S2's claim id, which has an error finding
    book.sheets["Claim Lines"].cells[(3, 1)] = "=cmd|' /c calc'!A0"
    ribbon.scrub_claims(book)
    sheet = book.sheets["Scrub"]
    assert "=cmd|' /c calc'!A0" in sheet.frame(header_row=4)["claim_id"].tolist()
    assert not sheet.formulas


def test_when_every_claim_is_clean_the_sheet_holds_the_header_only(book):
    clean = [HEADER, "S1,A1,ACME," + CLEAN.format(member="M1", dos="2026-09-10")]
    book.sheets["Claims"].clear()
    book.sheets["Claims"].range("A1").value = [next(csv.reader([row])) for row in clean]
    book.sheets["Claim Lines"].clear()
    book.sheets["Claim Lines"].range("A1").value = [LINES.splitlines()[0].split(","),
                                                    ["S1", "1", "99213", "1", "150.00", "2026-09-10", "1"]]
    message = ribbon.scrub_claims(book)
    assert message.endswith(": 1 of 1 claims clean, 0 held back by errors; 0 errors, 0 warnings.")
    assert book.sheets["Scrub"].range("A4").value == [
        ["claim_id", "line_no", "rule_id", "severity", "column", "message", "fix"]]
