"""The Verify eligibility ribbon macro on a stand-in workbook: the workbook's claims against the 271 responses of
the practice folder's eligibility/ (`xl_ar.eligibility.coverage_problems`), one row per problem on the owned
Eligibility sheet, the responses on Eligibility Responses; a 271 that cannot be read stops it with the file's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.excel_standin import Book
from tests.test_ribbon_reconcile import grid
from udfs import ribbon, sheets

CLAIMS = """\
claim_id,account_id,payer_id,service_date,charge,paid,adjusted,balance,responsibility,member_id,prior_authorization
C1,A1,ACME,2026-09-10,200.00,0,0,200.00,insurance,M1,
C2,A2,ACME,2026-09-10,100.00,0,0,100.00,insurance,M2,
C3,A3,ACME,2026-09-10,100.00,0,0,100.00,insurance,M3,
C4,A1,ACME,2026-09-12,100.00,0,0,100.00,insurance,M1,AUTH1
"""
LINES = """claim_id,line_no,procedure_code,units,charge,service_date
C1,1,99213,1,100.00,2026-09-10
C1,2,97110,1,100.00,2026-09-10
C2,1,99213,1,100.00,2026-09-10
C3,1,99213,1,100.00,2026-09-10
C4,1,97110,1,100.00,2026-09-12
"""
PAYERS = """payer_id,name,payer_class,payer_ref
ACME,Acme Health,commercial,ACME1
"""
# M1: active all of 2026, and 97110 needs a prior authorization (EB11 = Y); M2: inactive; M3: not asked
RESPONSE = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260101*1200*^*00501*000000001*0*T*:~"
    "GS*HB*PAYER*CLINIC*20260101*1200*1*X*005010X279A1~ST*271*0001*005010X279A1~BHT*0022*11*REQ1*20260901*1200~"
    "HL*1**20*1~NM1*PR*2*ACME HEALTH*****PI*ACME1~HL*2*1*21*1~NM1*1P*2*CLINIC*****XX*1234567893~"
    "HL*3*2*22*0~TRN*2*C1*9CLINIC~NM1*IL*1*DOE*ANN****MI*M1~DMG*D8*19800101~DTP*291*RD8*20260101-20261231~"
    "EB*1*IND*30*PR*GOLD~EB*CB*IND*98*PR*****VS*12*Y**HC:97110~"
    "HL*4*2*22*0~TRN*2*C2*9CLINIC~NM1*IL*1*ROE*BOB****MI*M2~EB*6**30~SE*18*0001~GE*1*1~IEA*1*000000001~")
USER_SHEETS = {"Claims": "claims.csv", "Claim Lines": "claim_lines.csv", "Payers": "payers.csv"}


@pytest.fixture
def practice(tmp_path) -> Path:
    folder = tmp_path / "practice"
    (folder / "eligibility").mkdir(parents=True)
    (folder / "practice.json").write_text(json.dumps({"name": "Test Clinic", "npi": "1234567893",
                                                      "as_of": "2026-09-30"}))
    for name, text in (("claims.csv", CLAIMS), ("claim_lines.csv", LINES), ("payers.csv", PAYERS)):
        (folder / name).write_text(text)
    (folder / "eligibility" / "acme.271").write_text(RESPONSE)
    return folder


@pytest.fixture
def book(practice, tmp_path) -> Book:
    b = Book(*USER_SHEETS, sheets.CONFIG_SHEET)
    for name, file in USER_SHEETS.items():
        b.sheets[name].range("A1").value = grid(practice / file)
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = [
        ["store", str(tmp_path / "s.sqlite")], ["as_of", "2026-09-30"], ["practice", str(practice)]]
    return b


def test_one_row_per_problem_with_its_reason_and_fix(book):
    ribbon.verify_eligibility(book)
    rows = book.sheets["Eligibility"].frame(header_row=3)
    assert list(rows.columns) == ["claim_id", "line_no", "payer_id", "service_date", "problem", "reason", "fix"]
    # C1 line 2: 97110 needs an authorization and C1 has none; C2: M2 inactive; C3: M3 never asked;
    # C4: 97110 too, but with its authorization AUTH1
    assert rows[["claim_id", "problem"]].values.tolist() == [
        ["C1", "authorization_missing"], ["C2", "not_covered"], ["C3", "unverified"]]
    assert rows["line_no"].fillna(0).tolist() == [2, 0, 0]  # a claim-level problem has no line
    assert rows.loc[2, "reason"] == "no eligibility response for the member"
    assert rows.loc[0, "fix"].startswith("obtain the authorization from the payer")


def test_the_alert_counts_the_claims_and_each_problem(book):
    message = ribbon.verify_eligibility(book)
    # 3 claims of 4 flagged; the 271 has 3 rows (M1's two benefits, M2's inactive line)
    assert message.endswith(": 3 of 4 claims at risk (1 not covered, 1 authorization missing, 1 unverified), "
                            "from 3 271 response rows.")
    assert book.app.alerts == [message] and book.sheets["Eligibility"].cells[(1, 1)] == message


def test_the_responses_are_written_as_the_eligibility_table_for_ar_eligible(book):
    from udfs.functions import ar_eligible

    ribbon.verify_eligibility(book)
    responses = book.sheets["Eligibility Responses"].range("A1").value
    assert responses[0][:3] == ["source_file", "transaction", "segment"]
    assert [r[responses[0].index("member_id")] for r in responses[1:]] == ["M1", "M1", "M2"]
    # the sheet is what =AR_ELIGIBLE reads: M1 covered on 2026-09-10
    assert ar_eligible("M1", "2026-09-10", responses) == [["active", "coverage active (GOLD)"]]


def test_the_users_sheets_are_untouched_and_a_rerun_replaces_the_owned_sheets(book):
    before = {name: dict(book.sheets[name].cells) for name in [*USER_SHEETS, sheets.CONFIG_SHEET]}
    ribbon.verify_eligibility(book)
    first = dict(book.sheets["Eligibility"].cells)
    ribbon.verify_eligibility(book)
    names = [s.name for s in book.sheets]
    assert names == [*USER_SHEETS, sheets.CONFIG_SHEET, "Eligibility", "Eligibility Responses"]
    assert {k: v for k, v in book.sheets["Eligibility"].cells.items() if k != (1, 1)} == {
        k: v for k, v in first.items() if k != (1, 1)}  # the first line holds the time it ran
    assert {name: book.sheets[name].cells for name in before} == before


def test_a_271_that_is_really_an_835_is_named_and_nothing_is_written(book, practice):
    (practice / "eligibility" / "wrong.271").write_text(
        RESPONSE.replace("GS*HB", "GS*HP").replace("ST*271*0001*005010X279A1", "ST*835*0001*005010X221A1")
        .replace("005010X279A1", "005010X221A1"))
    message = ribbon.verify_eligibility(book)
    assert message.startswith("wrong.271: cannot be read as a 271 eligibility response")
    assert book.app.alerts == [message]
    assert [s.name for s in book.sheets] == [*USER_SHEETS, sheets.CONFIG_SHEET]


def test_without_any_271_the_macro_says_where_to_put_them_and_writes_nothing(book, practice):
    (practice / "eligibility" / "acme.271").unlink()
    message = ribbon.verify_eligibility(book)
    assert message.startswith("no 271 eligibility response in the practice folder's eligibility/ folder")
    assert [s.name for s in book.sheets] == [*USER_SHEETS, sheets.CONFIG_SHEET]


def test_without_a_practice_folder_the_macro_says_where_the_271s_come_from(book):
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", "s.sqlite"], ["as_of", "2026-09-30"],
                                                          ["practice", None]]
    message = ribbon.verify_eligibility(book)
    assert message == ("no practice folder configured (setting practice): its eligibility/ folder holds the 271 "
                       "eligibility responses")
    assert [s.name for s in book.sheets] == [*USER_SHEETS, sheets.CONFIG_SHEET]


def test_text_from_the_data_is_written_as_text_never_a_formula(book, practice):
    claims = book.sheets["Claims"]
    header = claims.range("A1").value[0]
    claims.cells[(4, header.index("claim_id") + 1)] = "=HYPERLINK(\"x\")"  # C3, never asked: flagged
    lines = book.sheets["Claim Lines"]
    lines.cells[(5, 1)] = "=HYPERLINK(\"x\")"
    ribbon.verify_eligibility(book)
    sheet = book.sheets["Eligibility"]
    assert "=HYPERLINK(\"x\")" in sheet.frame(header_row=3)["claim_id"].tolist()
    assert not sheet.formulas
