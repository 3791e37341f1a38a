"""Take claim on a stand-in workbook (issue 16): the selected Worklist row's claim goes to the OS user at the
version the row shows; refused, nothing changed, when someone took it since the sheet was written."""

from __future__ import annotations

import json

import pytest

from tests.excel_standin import Book
from udfs import ribbon, sheets
from xl_ar import audit
from xl_ar.store import Store

HEADER = ["rank", "kind", "claim_id", "payer_id", "assigned_to", "assignment_version"]


@pytest.fixture
def as_ana(monkeypatch):
    """The OS user is ana."""
    monkeypatch.setattr(audit, "os_user", lambda: "ana")


def _book(tmp_path, *rows: tuple[str | None, str | None, int]) -> Book:
    """A Worklist sheet as the Worklist button writes it: summary, blank row, header on row 3, then (claim, taker,
    version) rows from row 4."""
    b = Book(sheets.CONFIG_SHEET, "Worklist")
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", str(tmp_path / "s.sqlite")]]
    b.sheets["Worklist"].range("A1").value = [["Worklist as of 2026-09-30"]]
    b.sheets["Worklist"].range("A3").value = [HEADER, *[[i + 1, "denied", c, "P1", who, v]
                                                        for i, (c, who, v) in enumerate(rows)]]
    return b


def _select(book: Book, row: int) -> None:
    book.selection = book.sheets["Worklist"].range(f"B{row}")


def _taken(tmp_path) -> list[list]:
    with Store.open(tmp_path / "s.sqlite") as s:
        return s.assignments()[["claim_id", "assigned_to", "version"]].values.tolist()


def test_take_claim_gives_the_selected_rows_claim_to_the_os_user(tmp_path, as_ana):
    book = _book(tmp_path, ("CLM-1", None, 0), ("CLM-2", None, 0))
    _select(book, 5)  # the second worklist row: CLM-2
    assert ribbon.take_claim(book).startswith("The claim is yours now (version 1)")
    assert _taken(tmp_path) == [["CLM-2", "ana", 1]]


def test_take_claim_hands_over_at_the_version_the_row_shows(tmp_path, as_ana):
    # ben took CLM-1 (version 1) and the sheet was written after: the row shows ben, 1; ana takes it: version 2
    with Store.open(tmp_path / "s.sqlite") as s:
        s.assign("CLM-1", "ben", 0, actor="ben")
    book = _book(tmp_path, ("CLM-1", "ben", 1))
    _select(book, 4)
    assert "version 2" in ribbon.take_claim(book)
    assert _taken(tmp_path) == [["CLM-1", "ana", 2]]


def test_take_claim_is_refused_when_someone_took_it_since_the_sheet_was_written(tmp_path, as_ana):
    # the sheet shows CLM-1 untaken (version 0); ben took it afterwards (version 1)
    book = _book(tmp_path, ("CLM-1", None, 0))
    with Store.open(tmp_path / "s.sqlite") as s:
        s.assign("CLM-1", "ben", 0, actor="ben")
    _select(book, 4)
    message = ribbon.take_claim(book)
    assert message.startswith("Not taken: the claim was given to ben") and "CLM-1" not in message
    assert _taken(tmp_path) == [["CLM-1", "ben", 1]]


def test_take_claim_on_a_row_without_a_claim_says_only_a_claim_can_be_taken(tmp_path, as_ana):
    book = _book(tmp_path, (None, None, 0))
    _select(book, 4)
    assert "only a claim can be taken" in ribbon.take_claim(book)


def test_take_claim_records_one_audit_event_without_the_claim_id(tmp_path, as_ana):
    book = _book(tmp_path, ("CLM-1", None, 0))
    _select(book, 4)
    ribbon.take_claim(book)
    with Store.open(tmp_path / "s.sqlite") as s:
        events = s.audit_events()
    changes = events[events.action == "assign"]  # the button's own "addin" event is the other one
    assert len(changes) == 1
    assert json.loads(changes.detail.iloc[0]) == {"changed": 1, "handed_over": 0, "version": 1, "via": "ribbon"}
    assert "CLM-1" not in events.to_string()
