"""The Reconcile ribbon macro on a stand-in workbook: the practice's tables as sheets, the
remittances imported with Import remittances, exceptions on owned sheets."""

from pathlib import Path

import pandas as pd
import pytest

from tests.excel_standin import Book
from udfs import ribbon, sheets
from xl_ar.cli import main

SHEETS = {"Claims": "claims.csv", "Claim Lines": "claim_lines.csv", "Postings": "postings.csv",
          "Deposits": "deposits.csv", "Payers": "payers.csv", "Fee Schedule": "fee_schedule.csv"}


def grid(path) -> list[list]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [list(frame.columns), *[[v if v != "" else None for v in row] for row in frame.values.tolist()]]


def practice_book(practice: Path, store: Path | None) -> Book:
    """A stand-in workbook holding a practice folder's exports as sheets, with its settings sheet (naming the
    store, or, with None, leaving it to the user's setting such as XL_AR_STORE)."""
    b = Book(*SHEETS, sheets.CONFIG_SHEET)
    for name, file in SHEETS.items():
        b.sheets[name].range("A1").value = grid(practice / file)
    rows = [["era_source", str(practice / "era")], ["as_of", "2026-09-30"],
            ["practice", str(practice)]]  # its status/ folder: the claims' acknowledgements
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = rows + ([["store", str(store)]] if store is not None else [])
    return b


@pytest.fixture
def book(store_at, practice_small, monkeypatch):
    """The practice's workbook; its store is the user's XL_AR_STORE: a SQLite file, then a PostgreSQL database."""
    monkeypatch.setenv("XL_AR_STORE", store_at)
    return practice_book(practice_small, None)


def test_reconcile_writes_all_exceptions_and_the_worklist(book, practice_small, capsys):
    ribbon.import_remittances(book)
    message = ribbon.reconcile(book)
    assert message.startswith("Reconciled as of 2026-09-30:") and book.app.alerts[-1] == message
    shown = book.sheets["Reconciliation"].frame(header_row=3)
    # the same exceptions as the command line on the same practice
    assert main(["reconcile", "--practice", str(practice_small), "--json", "--quiet"]) == 0
    import json

    cli = json.loads(capsys.readouterr().out)
    assert len(shown) == len(cli["exceptions"])
    assert shown.kind.value_counts().to_dict() == {k: v for k, v in cli["summary"].items() if v}
    work = book.sheets["Worklist"].frame(header_row=3)
    assert work["rank"].tolist()[:3] == [1, 2, 3]
    assert work.priority.is_monotonic_decreasing


def test_the_users_sheets_are_untouched_and_reruns_replace_owned_sheets(practice_small, tmp_path):
    book = practice_book(practice_small, tmp_path / "s.sqlite")  # sheets only: one backend is enough
    before = {name: dict(book.sheets[name].cells) for name in SHEETS}
    ribbon.import_remittances(book)
    ribbon.reconcile(book)
    ribbon.reconcile(book)
    names = [s.name for s in book.sheets]
    assert names.count("Reconciliation") == 1 and names.count("Worklist") == 1
    assert {name: book.sheets[name].cells for name in SHEETS} == before


def test_without_claims_the_macro_says_what_is_missing(tmp_path):
    b = Book(sheets.CONFIG_SHEET)
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", str(tmp_path / "s.sqlite")]]
    message = ribbon.reconcile(b)
    assert message.startswith("no Claims sheet in this workbook")


def test_build_report_writes_the_workbook_beside_the_open_one(book, tmp_path):
    book.fullname = str(tmp_path / "AR workbook.xlsm")
    ribbon.import_remittances(book)
    message = ribbon.build_report(book)
    assert message.startswith("Wrote management_report_2026-09-30.xlsx (de-identified) as of 2026-09-30")
    assert (tmp_path / "management_report_2026-09-30.xlsx").exists()
    assert [s.name for s in book.sheets] == [*SHEETS, sheets.CONFIG_SHEET, "Remittances", "Adjustments"]
