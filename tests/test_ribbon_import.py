"""The Import remittances ribbon macro, run on a stand-in workbook (no Excel on this machine)."""

import shutil
from pathlib import Path

import pytest

from tests.excel_standin import Book
from udfs import ribbon, sheets


@pytest.fixture
def book(tmp_path, practice_small):
    shutil.copytree(practice_small / "era", tmp_path / "inbox")
    b = Book("Claims", sheets.CONFIG_SHEET)
    b.sheets["Claims"].range("A1").value = [["claim_id", "balance"], ["CL0000001", 100.0]]
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = [["era_source", str(tmp_path / "inbox")],
                                                       ["store", str(tmp_path / "s.sqlite")]]
    return b


def test_import_writes_remittances_and_adjustments_to_owned_sheets(book):
    message = ribbon.import_remittances(book)
    assert "payments imported" in message and book.app.alerts == [message]
    names = [s.name for s in book.sheets]
    assert names == ["Claims", sheets.CONFIG_SHEET, "Remittances", "Adjustments"]
    remit = book.sheets["Remittances"]
    # the only warnings are the trace-less ERAs' empty TRN02 (one per such file)
    inbox = Path(book.sheets[sheets.CONFIG_SHEET].range("A1").value[0][1])
    traceless = sum(b"TRN*1**" in f.read_bytes() for f in inbox.iterdir())
    assert remit.cells[(1, 1)].startswith("Imported ") and f"0 errors and {traceless} warnings" in remit.cells[(1, 1)]
    # the summary line, one line per finding, a blank row, then the table
    assert [remit.cells[(1 + k, 1)].startswith("warning: ") for k in range(1, traceless + 1)] == [True] * traceless
    table = remit.frame(header_row=3 + traceless)
    assert {"claim_id", "status_code", "paid", "trace_number", "payment_date"} <= set(table.columns)
    assert len(table) > 100
    # money in dollars for Excel, exact cents behind it
    assert all(round(v * 100) == v * 100 or abs(round(v * 100) - v * 100) < 1e-6 for v in table.paid)
    adjustments = book.sheets["Adjustments"].frame(header_row=1)
    assert set(adjustments.group_code) <= {"CO", "PR", "OA", "PI", "CR"}


def test_running_again_replaces_only_the_owned_sheets(book):
    ribbon.import_remittances(book)
    shown_first = len(book.sheets["Remittances"].frame(3))
    message = ribbon.import_remittances(book)
    assert "0 payments imported" in message
    assert [s.name for s in book.sheets].count("Remittances") == 1
    # the same remittances are shown (they come from the store), under a new summary line
    assert len(book.sheets["Remittances"].frame(3)) == shown_first
    assert book.sheets["Claims"].cells == {(1, 1): "claim_id", (1, 2): "balance", (2, 1): "CL0000001",
                                           (2, 2): 100.0}


def test_a_source_that_does_not_exist_is_a_message_not_a_traceback(book, tmp_path):
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["era_source", str(tmp_path / "nowhere")]]
    message = ribbon.import_remittances(book)
    assert message == "nowhere: no such file or folder" and book.app.alerts == [message]
    assert "Remittances" not in [s.name for s in book.sheets]


def test_without_a_source_or_a_file_dialog_the_macro_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("XL_AR_ERA_SOURCE", raising=False)
    b = Book(sheets.CONFIG_SHEET)
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", str(tmp_path / "s.sqlite")]]
    message = ribbon.import_remittances(b)
    assert message.startswith("no remittance source: set era_source") and b.app.alerts == [message]
