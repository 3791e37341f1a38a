"""The ribbon's Worklist, Settings and Help macros on a stand-in workbook (as tests/test_ribbon_reconcile.py does for
Reconcile): what each writes, to which owned sheet, and that the user's sheets are left alone."""

import xml.etree.ElementTree as ET

import pytest

from tests.excel_standin import Book
from tests.test_ribbon_reconcile import SHEETS, practice_book
from udfs import ribbon, sheets
from xl_ar.addin import package
from xl_ar.settings import SETTINGS

UI = "{http://schemas.microsoft.com/office/2006/01/customui}"


@pytest.fixture
def book(tmp_path, practice_small):
    return practice_book(practice_small, tmp_path / "s.sqlite")


def test_worklist_writes_the_ranked_work_only(book):
    ribbon.import_remittances(book)
    message = ribbon.worklist(book)
    assert message.startswith("Worklist as of 2026-09-30: ") and message.endswith(" items to work, highest "
                                                                                    "priority first.")
    assert book.app.alerts[-1] == message
    work = book.sheets["Worklist"].frame(header_row=3)
    assert f"{len(work):,} items" in message and len(work) > 0
    assert work["rank"].tolist() == list(range(1, len(work) + 1))
    assert work.priority.is_monotonic_decreasing and (work.priority > 0).all()
    assert "Reconciliation" not in [s.name for s in book.sheets]


def test_worklist_is_the_same_as_reconciles(book):
    ribbon.import_remittances(book)
    ribbon.reconcile(book)
    after_reconcile = book.sheets["Worklist"].frame(header_row=3)
    ribbon.worklist(book)
    assert book.sheets["Worklist"].frame(header_row=3).equals(after_reconcile)
    assert [s.name for s in book.sheets].count("Worklist") == 1


def test_worklist_without_claims_says_what_is_missing(tmp_path):
    b = Book(sheets.CONFIG_SHEET)
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", str(tmp_path / "s.sqlite")]]
    assert ribbon.worklist(b).startswith("no Claims sheet in this workbook")
    assert [s.name for s in b.sheets] == [sheets.CONFIG_SHEET]


def test_settings_lists_every_setting_with_its_origin(book, tmp_path):
    before = {name: dict(book.sheets[name].cells) for name in [*SHEETS, sheets.CONFIG_SHEET]}
    message = ribbon.settings(book)
    assert message == f"{len(SETTINGS)} settings, 4 set by you; see the Settings sheet."  # with the practice
    table = book.sheets["Settings"].frame(header_row=4)
    assert table.setting.tolist() == list(SETTINGS)
    rows = table.set_index("setting")
    assert rows.loc["store", "value"] == str(tmp_path / "s.sqlite")
    assert rows.loc["store", "from"] == f"workbook's {sheets.CONFIG_SHEET} sheet"
    assert rows.loc["as_of", "value"] == "2026-09-30"
    assert rows.loc["practice", "from"] == f"workbook's {sheets.CONFIG_SHEET} sheet"
    assert rows.loc["era_source", "from"] == f"workbook's {sheets.CONFIG_SHEET} sheet"
    assert rows.loc["report_folder", "from"] == "not set"
    assert rows.loc["practice", "what it is for"] == SETTINGS["practice"].doc
    assert {name: book.sheets[name].cells for name in before} == before  # the settings sheet is only read


def test_a_misspelled_setting_is_reported(tmp_path):
    b = Book(sheets.CONFIG_SHEET)
    b.sheets[sheets.CONFIG_SHEET].range("A1").value = [["stor", str(tmp_path / "s.sqlite")]]
    message = ribbon.settings(b)
    assert "unknown setting 'stor' (did you mean 'store'?)" in message
    assert b.app.alerts == [message]


def test_help_explains_every_button_and_function(book):
    message = ribbon.help(book)
    assert message == 'See the Help sheet, and the section "Install in Excel" of the xl-ar README.'
    lines = [row[0] for row in book.sheets["Help"].range("A1").value]
    text = "\n".join(str(line) for line in book.sheets["Help"].cells.values() if line)
    for label, what in ribbon.BUTTON_HELP.items():
        assert f"{label}: {what}" in text
    for name in package.function_help(package.classic_udf_module()):
        assert f"={name.name}: " in text
    assert lines[0] == "Medical A/R: the buttons of the ribbon tab"


def test_the_help_text_of_each_button_is_its_supertip_in_the_ribbon():
    ui = ET.parse(package.SOURCES / "customUI" / "customUI.xml").getroot()
    tips = {b.get("label"): b.get("supertip") for b in ui.iter(f"{UI}button")}
    assert tips == ribbon.BUTTON_HELP


def test_an_unexpected_failure_is_an_alert_and_the_audit_keeps_its_type_only(book, tmp_path, monkeypatch):
    # a defect deep in the core (here a KeyError naming a claim) must not reach Excel as a traceback, and its
    # text (which may hold anything) must not reach the audit trail
    from xl_ar import audit
    from xl_ar.store import Store

    def broken(*args, **kwargs):
        raise KeyError("CLM-SECRET-7")

    monkeypatch.setattr(ribbon, "_assigned", broken)
    message = ribbon.worklist(book)
    assert message == "Worklist stopped: unexpected error (KeyError: 'CLM-SECRET-7')."
    assert book.app.alerts == [message]
    with Store.open(tmp_path / "s.sqlite") as s:
        events = s.audit_events()
        assert audit.verify(s).ok
    assert events[["action", "result", "message"]].values.tolist() == [["addin", "error", "unexpected KeyError"]]
    assert "CLM-SECRET-7" not in events.to_csv()


def test_an_xl_ar_error_other_than_an_input_error_is_an_alert(book, monkeypatch):
    # e.g. the store refused the user's role, or was written by a newer xl-ar: its message, as written
    from xl_ar.errors import StoreError

    def refused(*args, **kwargs):
        raise StoreError("db: the store was written by a newer xl-ar (schema 99, this one knows 10); upgrade xl-ar")

    monkeypatch.setattr(ribbon.Store, "open", refused)
    message = ribbon.import_remittances(book)
    assert message.endswith("upgrade xl-ar") and book.app.alerts == [message]
