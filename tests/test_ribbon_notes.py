"""Add note and Import notes on a stand-in workbook; the Worklist button hiding claims until their follow-up
date (the stored notes)."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from tests.excel_standin import Book
from tests.test_ribbon_reconcile import practice_book
from udfs import ribbon, sheets
from xl_ar import audit, notes
from xl_ar.store import Store

WORKLIST_HEADER = ["rank", "kind", "claim_id", "payer_id", "reason"]


def _book(tmp_path, *claims: str | None) -> Book:
    """A workbook with a Worklist sheet as the Worklist button writes it (summary, blank row, header on row 3);
    its store is the user's XL_AR_STORE when that is set (the tests on both backends), else a file beside it."""
    b = Book(sheets.CONFIG_SHEET, "Worklist")
    if "XL_AR_STORE" not in os.environ:
        b.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", str(tmp_path / "s.sqlite")]]
    rows = [[i + 1, "denial", c, "P1", "denied"] for i, c in enumerate(claims)]
    b.sheets["Worklist"].range("A1").value = [["Worklist as of 2026-09-30"]]
    b.sheets["Worklist"].range("A3").value = [WORKLIST_HEADER, *rows]
    return b


def _select(book: Book, row: int) -> None:
    book.selection = book.sheets["Worklist"].range(f"B{row}")


def test_add_note_starts_a_notes_table_with_a_prefilled_row_and_selects_its_outcome(tmp_path):
    book = _book(tmp_path, "CLM-1", "CLM-2")
    _select(book, 5)  # the second worklist row: CLM-2
    message = ribbon.add_note(book)
    assert message.startswith("Note started on the Notes sheet, row 2")
    sheet = book.sheets["Notes"]
    assert sheet.range("A1").value[0] == list(notes.HEADERS)
    assert sheet.range("A2").value[0][:7] == ["CLM-2", dt.date.today(), audit.os_user(), "call", None, None, None]
    assert sheet.selected == (2, 6)  # the Outcome cell (column F) of the new row


def test_add_note_appends_below_the_users_rows_and_never_clears_the_sheet(tmp_path):
    book = _book(tmp_path, "CLM-1")
    _select(book, 4)
    ribbon.add_note(book)
    book.sheets["Notes"].range("F2").value = [["left a voicemail"]]
    ribbon.add_note(book)
    sheet = book.sheets["Notes"]
    assert sheet.range("F2").value[0][0] == "left a voicemail"
    assert sheet.range("A3").value[0][0] == "CLM-1" and sheet.selected == (3, 6)


def test_a_claim_id_that_looks_like_a_formula_is_written_as_text(tmp_path):
    book = _book(tmp_path, "=HYPERLINK(1)")
    _select(book, 4)
    ribbon.add_note(book)
    assert book.sheets["Notes"].formulas == set()
    assert book.sheets["Notes"].range("A2").value[0][0] == "=HYPERLINK(1)"


def test_add_note_without_a_worklist_row_selected_says_so(tmp_path):
    book = _book(tmp_path, "CLM-1")
    message = ribbon.add_note(book)
    assert message.startswith("select a row of the Worklist sheet first")
    assert "Notes" not in [s.name for s in book.sheets]


def test_add_note_on_a_row_without_a_claim_says_a_note_needs_one(tmp_path):
    book = _book(tmp_path, None)
    _select(book, 4)
    assert "a note needs a claim" in ribbon.add_note(book)


def _notes_sheet(book: Book, *rows: list) -> None:
    sheet = book.sheets.add("Notes")
    sheet.range("A1").value = [list(notes.HEADERS), *rows]


def test_import_notes_stores_each_note_once(store_at, tmp_path, monkeypatch):
    monkeypatch.setenv("XL_AR_STORE", store_at)  # a SQLite file, then a PostgreSQL database
    book = _book(tmp_path, "CLM-1")
    _notes_sheet(book, ["CLM-1", dt.datetime(2026, 9, 1), "jdoe", "call", "R1", "pending", dt.datetime(2026, 9, 20)],
                 ["CLM-2", 46266, "jdoe", "portal", None, "asked", 0])  # Office.js: a serial date, 0 for empty
    assert ribbon.import_notes(book) == "2 notes on the Notes sheet: 2 stored, 0 already stored."
    assert ribbon.import_notes(book) == "2 notes on the Notes sheet: 0 stored, 2 already stored."
    with Store.open(store_at) as store:
        stored = store.notes()
    assert stored["note_date"].dt.date.tolist() == [dt.date(2026, 9, 1), dt.date(2026, 9, 1)]  # serial 46266


def test_import_notes_with_bad_rows_lists_them_and_stores_nothing(store_at, tmp_path, monkeypatch):
    monkeypatch.setenv("XL_AR_STORE", store_at)  # a SQLite file, then a PostgreSQL database
    book = _book(tmp_path, "CLM-1")
    _notes_sheet(book, ["CLM-1", dt.datetime(2026, 9, 1), "jdoe", "call", None, "ok", None],
                 ["CLM-2", "yesterday", "jdoe", "call", None, "x", None],      # row 3: not a date
                 ["CLM-3", dt.datetime(2026, 9, 1), "jdoe", "pigeon", None, "x", None])  # row 4: channel
    message = ribbon.import_notes(book)
    assert message.startswith("Nothing stored: 2 problems on the Notes sheet.")
    assert "row 3" in message and "row 4" in message
    with Store.open(store_at) as store:
        assert store.count("notes") == 0


def test_import_notes_records_counts_only_in_the_audit_trail(store_at, tmp_path, monkeypatch):
    monkeypatch.setenv("XL_AR_STORE", store_at)  # a SQLite file, then a PostgreSQL database
    book = _book(tmp_path, "CLM-1")
    _notes_sheet(book, ["CLM-1", dt.datetime(2026, 9, 1), "jdoe", "call", "R1", "spoke to Rita", None])
    ribbon.import_notes(book)
    with Store.open(store_at) as store:
        events = store.audit_events()
    detail = json.loads(events[events["action"] == "notes"]["detail"].iloc[0])
    assert detail["notes_added"] == 1
    assert "CLM-1" not in events.to_csv() and "Rita" not in events.to_csv()


@pytest.fixture
def book(store_at, practice_small, monkeypatch):
    monkeypatch.setenv("XL_AR_STORE", store_at)  # a SQLite file, then a PostgreSQL database
    return practice_book(practice_small, None)


def test_the_worklist_hides_a_claim_until_its_follow_up_date_and_shows_its_last_note(book, store_at):
    ribbon.import_remittances(book)
    ribbon.worklist(book)
    work = book.sheets["Worklist"].frame(header_row=3)
    claim = next(c for c in work["claim_id"] if isinstance(c, str) and c)
    later, problems = notes.new_note(claim, "call", dt.date(2026, 9, 29), "jdoe", next_followup=dt.date(2026, 10, 15))
    assert problems == []
    with Store.open(store_at) as store:
        store.add_notes(later)
    message = ribbon.worklist(book)
    n = int((work["claim_id"] == claim).sum())
    assert message.endswith(f" {n} hidden until their follow-up date.")
    shown = book.sheets["Worklist"].frame(header_row=3)
    assert claim not in shown["claim_id"].tolist()
    assert {"note_date", "outcome", "next_followup", "touches", "days_since_touch"} <= set(shown.columns)
