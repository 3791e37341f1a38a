"""`xl-ar statements`: the acceptance test on the 5,000-claim synthetic practice (every eligible patient gets a
statement whose PDF shows the facts of the data), and the command's rules: --out required, --dry-run writes and
records nothing, a rerun the same day writes none, the audit trail without identifiers."""

from __future__ import annotations

import csv
import io
import json
import stat
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from tests.cli14_practice import run
from xl_ar.store import Store


def cents(text: object) -> int:
    return int(Decimal(str(text)) * 100)


def dollars(c: int) -> str:
    return f"{'-' if c < 0 else ''}${abs(c) // 100:,}.{abs(c) % 100:02d}"


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def index_of(folder: Path) -> list[dict[str, str]]:
    (index,) = folder.glob("statement_index_*.csv")
    return list(csv.DictReader(index.open(encoding="utf-8")))


# -- the acceptance test -------------------------------------------------------------------------------------

def test_every_eligible_patient_of_the_5000_claim_practice_gets_a_statement_with_the_facts_of_the_data(
        practice_5k, tmp_path, capsys):
    out = tmp_path / "statements"
    code, printed, err = run(capsys, "statements", "--practice", str(practice_5k), "--out", str(out),
                             "--store", str(tmp_path / "s.sqlite"))
    assert code == 0, err

    # the expectation, computed here from the export files themselves
    claims = pd.read_csv(practice_5k / "claims.csv", dtype=str, keep_default_na=False)
    claims["pat"] = claims["Pat Bal"].map(lambda v: cents(v) if v else 0)
    lines = pd.read_csv(practice_5k / "claim_lines.csv", dtype=str).sort_values(["claim_id", "line_no"],
                                                                                 key=lambda c: c.str.zfill(5))
    codes = lines.groupby("claim_id")["procedure_code"].agg(lambda c: ", ".join(dict.fromkeys(c)))
    owed = claims[claims["pat"] != 0].groupby("Pat Acct")["pat"].sum()
    eligible = owed[owed >= 500]  # credits applied; $5.00 small-balance threshold
    assert len(eligible) > 400

    index = index_of(out)
    assert {r["account_id"] for r in index} == set(eligible.index)
    assert f"statement 1: {len(eligible):,}" in printed
    for row in index:
        account = row["account_id"]
        text = pdf_text(out / row["file"])
        assert f"Statement no. {row['statement_number']}" in text
        assert "Statement date 09/30/2026" in text and "Due date 10/21/2026" in text  # as-of + 21 days
        assert f"Amount due {dollars(int(eligible[account]))}" in text
        assert cents(row["amount_due"]) == eligible[account]
        text_lines = text.splitlines()
        for claim in claims[(claims["Pat Acct"] == account) & (claims["pat"] != 0)].itertuples():
            start = f"{claim.DOS} {codes[claim._1]} {dollars(cents(claim.Charges))} "
            assert any(t.startswith(start) and t.endswith(f" {dollars(claim.pat)}") for t in text_lines), start


# -- the command's rules --------------------------------------------------------------------------------------

CLAIMS = """\
Claim #,Pat Acct,Patient Name,Patient Address,Ins Code,DOS,Billed Date,Charges,Payments,Adjustments,Ins Bal,Pat Bal
K1,ACC1,"Quill, Ada","1 Elm St, Springfield, IL, 62704",ACME,02/13/2026,02/14/2026,150.00,100.00,10.00,0.00,40.00
K2,ACC2,"Rowe, Ben","2 Elm St, Springfield, IL, 62704",ACME,02/14/2026,02/15/2026,150.00,100.00,47.00,0.00,3.00
K3,ACC3,"Stone, Cy","3 Elm St, Springfield, IL, 62704",ACME,02/15/2026,02/16/2026,150.00,20.00,10.00,120.00,0.00
"""
IDENTIFIERS = ("ACC1", "ACC2", "ACC3", "Quill", "Rowe", "Stone", "Elm St")


@pytest.fixture
def practice(tmp_path) -> Path:
    folder = tmp_path / "practice"
    folder.mkdir()
    (folder / "claims.csv").write_text(CLAIMS, encoding="utf-8")
    (folder / "payers.csv").write_text("payer_id,name,payer_class\nACME,Acme Health,commercial\n", encoding="utf-8")
    (folder / "practice.json").write_text(json.dumps({
        "name": "Maple Street Clinic", "as_of": "2026-03-02", "address": "100 Maple St", "city": "Springfield",
        "state": "IL", "zip": "62701", "statement_phone": "2175550100", "pay_url": "https://pay.example/maple",
        "remit_to": ["Maple Street Clinic", "PO Box 9", "Springfield, IL 62701"]}), encoding="utf-8")
    return folder


def statements(capsys, practice: Path, store: str, *more: str) -> tuple[int, str, str]:
    return run(capsys, "statements", "--practice", str(practice), "--store", store, *more)


def sqlite(tmp_path: Path) -> str:
    """A store file in the test's folder (the tests that take `store_at` run on SQLite and on PostgreSQL)."""
    return str(tmp_path / "s.sqlite")


def test_statements_are_written_only_where_the_user_asks(practice, tmp_path, capsys):
    code, _, err = statements(capsys, practice, sqlite(tmp_path))
    assert code == 2 and "--out" in err
    assert not (tmp_path / "s.sqlite").exists()


def test_the_run_writes_one_owner_only_pdf_per_patient_and_an_index(practice, tmp_path, capsys):
    out = tmp_path / "out"
    code, printed, _ = statements(capsys, practice, sqlite(tmp_path), "--out", str(out))
    assert code == 0
    # ACC1 owes 40.00; ACC2's 3.00 is under $5.00 (small balance); ACC3 owes insurance only
    assert [r["account_id"] for r in index_of(out)] == ["ACC1"]
    assert "small balances not billed (write-off): 1 accounts, 3.00" in printed
    assert sorted(p.name for p in out.iterdir()) == ["statement_00001.pdf", "statement_index_00001.csv"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "statement_00001.pdf").stat().st_mode) == 0o600
    text = pdf_text(out / "statement_00001.pdf")
    for fact in ("Maple Street Clinic", "(217) 555-0100", "https://pay.example/maple", "PO Box 9",
                 "Quill, Ada", "Amount due $40.00", "Due date 03/23/2026"):
        assert fact in text


def test_a_rerun_the_same_day_writes_and_records_none(practice, store_at, tmp_path, capsys):
    out = tmp_path / "out"
    statements(capsys, practice, store_at, "--out", str(out))
    code, printed, _ = statements(capsys, practice, store_at, "--out", str(tmp_path / "again"))
    assert code == 0 and "statement 1: 0" in printed and "1 not due yet" in printed
    assert not list((tmp_path / "again").glob("*.pdf"))
    with Store.open(store_at) as store:
        assert len(store.statements()) == 1


def test_thirty_days_later_the_second_statement_goes_out(practice, store_at, tmp_path, capsys):
    statements(capsys, practice, store_at, "--out", str(tmp_path / "out"))
    code, printed, _ = statements(capsys, practice, store_at, "--out", str(tmp_path / "later"), "--as-of",
                                  "2026-04-01")
    assert code == 0 and "statement 2: 1" in printed
    assert "SECOND STATEMENT" in pdf_text(tmp_path / "later" / "statement_00002.pdf")
    aging = {line.split()[0]: line for line in printed.splitlines() if line.startswith("  ")}
    assert "1 accounts" in aging["0-30"]  # aged from the first statement: April 1 - March 2 = 30 days -> 0-30


def test_dry_run_writes_and_records_nothing(practice, store_at, tmp_path, capsys):
    out = tmp_path / "out"
    code, printed, _ = statements(capsys, practice, store_at, "--out", str(out), "--dry-run")
    assert code == 0 and "statement 1: 1" in printed and "dry run" in printed
    assert not out.exists()
    with Store.open(store_at) as store:
        assert store.statements().empty
        assert not (store.audit_events()["action"] == "statements").any()


def test_the_combined_pdf_holds_every_statement_for_a_mail_house(practice, tmp_path, capsys):
    (practice / "claims.csv").write_text(CLAIMS.replace(",3.00\n", ",30.00\n").replace("47.00", "20.00"),
                                         encoding="utf-8")
    statements(capsys, practice, sqlite(tmp_path), "--out", str(tmp_path / "out"), "--combined")
    combined = PdfReader(tmp_path / "out" / "statements_combined_00001.pdf")
    assert len(combined.pages) == 2  # ACC1 and ACC2, one page each


def test_the_audit_trail_records_the_batch_without_identifiers(practice, store_at, tmp_path, capsys):
    out = tmp_path / "out"
    statements(capsys, practice, store_at, "--out", str(out))
    with Store.open(store_at) as store:
        events = store.audit_events()
    event = events[events["action"] == "statements"].iloc[-1]
    detail = json.loads(event["detail"])
    assert detail["written"] == 1 and detail["folder"] == "out" and detail["small_balances"] == 1
    assert set(detail["outputs"]) == {"statement_00001.pdf", "statement_index_00001.csv"}
    assert not any(i in event["detail"] + event["message"] for i in IDENTIFIERS)


def test_a_file_that_cannot_be_written_records_nothing_and_leaves_no_statement(practice, store_at, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "statement_index_00001.csv").mkdir(parents=True)  # a folder where the index goes: it cannot be written
    code, _, err = statements(capsys, practice, store_at, "--out", str(out))
    assert code == 2 and "statement_index_00001.csv" in err
    assert [p.name for p in out.iterdir()] == ["statement_index_00001.csv"]  # no PDF, no temporary file
    with Store.open(store_at) as store:
        assert store.statements().empty


# -- the ribbon's Patient statements button -------------------------------------------------------------------

def ribbon_book(practice: Path, tmp_path: Path, documents: Path | None):
    from tests.excel_standin import Book
    from udfs import sheets

    book = Book(sheets.CONFIG_SHEET)
    rows = [["store", str(tmp_path / "s.sqlite")], ["practice", str(practice)]]
    if documents is not None:
        rows.append(["documents_folder", str(documents)])
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = rows
    return book


def test_the_button_refuses_without_a_documents_folder_and_writes_nothing(practice, tmp_path):
    from udfs import ribbon

    message = ribbon.patient_statements(ribbon_book(practice, tmp_path, None))
    assert "documents_folder" in message and "nothing was written" in message
    assert not list(tmp_path.rglob("*.pdf"))


def test_the_button_writes_the_statements_to_the_documents_folder(practice, tmp_path):
    from udfs import ribbon

    documents = tmp_path / "documents"
    message = ribbon.patient_statements(ribbon_book(practice, tmp_path, documents))
    assert message.startswith("Wrote 1 patient statements") and "1 small balances not billed (3.00)" in message
    assert "Amount due $40.00" in pdf_text(documents / "statement_00001.pdf")
    assert not any(i in message for i in IDENTIFIERS)



def test_the_button_records_the_statements_in_the_store_of_the_environment(practice, store_at, tmp_path,
                                                                              monkeypatch):
    from tests.excel_standin import Book
    from udfs import ribbon, sheets

    monkeypatch.setenv("XL_AR_STORE", store_at)  # the user's store (a file, then a team database); none in the book
    book = Book(sheets.CONFIG_SHEET)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["practice", str(practice)],
                                                          ["documents_folder", str(tmp_path / "documents")]]
    assert ribbon.patient_statements(book).startswith("Wrote 1 patient statements")
    with Store.open(store_at) as store:
        # ACC1's one statement of 40.00, and the press of the button in the audit trail
        assert store.statements().amount_due.tolist() == [4000]
        assert "addin" in store.audit_events().action.tolist()

# -- the management report's Patient A/R sheet -----------------------------------------------------------------

def test_the_management_report_shows_patient_ar_aged_from_the_first_statement_without_identifiers(
        practice, store_at, tmp_path, capsys):
    import openpyxl

    statements(capsys, practice, store_at, "--out", str(tmp_path / "out"))  # ACC1's first statement on March 2
    code, _, err = run(capsys, "report", "--practice", str(practice), "--out", str(tmp_path / "r.xlsx"),
                       "--store", store_at, "--as-of", "2026-04-15", "--quiet")
    assert code == 0, err
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["Patient AR"]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=6, max_row=11, max_col=3, values_only=True)}
    # April 15 - March 2 = 44 days: ACC1's 40.00 in 31-60; ACC2's 3.00 (small balance) never billed
    assert rows["31-60"] == (1, 40.0)
    assert rows["not yet billed to the patient"] == (1, 3.0)
    texts = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    assert not any(i in texts for i in IDENTIFIERS)
