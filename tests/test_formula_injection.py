"""Text from data stays text in every workbook xl-ar writes (issue 13, defect 1: formula injection).

Claim ids (CLP01), trace numbers (TRN02), payer names, export cells and settings such as the practice name are
data: whatever they start with (`=`, `+`, `-`, `@`, a tab or a carriage return) a spreadsheet shows them as text
and never runs them. The only formulas in a workbook are the ones xl-ar builds itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.escape import unescape

from tests.excel_standin import Book
from udfs import ribbon, sheets
from xl_ar.addin import template
from xl_ar.reconcile import COLUMNS, Reconciliation
from xl_ar.reports import reconciliation, safety
from xl_ar.store import Store

ROOT = Path(__file__).resolve().parents[1]

CLAIMS = {"CL0000001": "=CL0000001", "CL0000002": "+CL0000002", "CL0000003": "-CL0000003", "CL0000004": "@CL0000004"}
"""Claim ids of the synthetic practice and what the hostile practice calls them (exports and CLP01 alike)."""
PAYERS = {"Summit Mutual Health": '=HYPERLINK("http://x.test","Summit")', "Medicare Part B": "+Medicare Part B",
          "State Medicaid Program": "-State Medicaid", "Keystone Care Alliance": "@Keystone"}
"""Payer names in payers.csv."""
PRACTICE_NAME = "=cmd|' /C calc'!A0"
ERA_PAYERS = {"N1*PR*SUMMIT MUTUAL HEALTH~": "N1*PR*=SUMMIT MUTUAL HEALTH~", "N1*PR*MEDICARE": "N1*PR*@MEDICARE"}
"""Payer names in the 835s (N1*PR)."""
TRACE_PREFIX = "="
"""Put before three trace numbers (TRN02, the postings' check/EFT numbers and the deposits' descriptions)."""

OWN_FORMULA = re.compile("|".join([r"\$?[A-Z]{1,3}\$?\d+", r"'[A-Za-z /]+'!", r"\d+(?:\.\d+)?",
                                   r'"(?:|green|amber|red)"', "SUM", "IF", "ISNUMBER", "AND", r"[-+*/(),:<>=]"]))
"""The pieces of the formulas the management report builds: cell references (on its own sheets), numbers, the
functions SUM, IF, ISNUMBER and AND, operators, and the texts "" and the target states."""


def load(path: Path) -> openpyxl.Workbook:
    with warnings.catch_warnings():  # openpyxl does not read every chart / format extension
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def cells(path: Path) -> list[tuple[str, str, str, object]]:
    """Every non-empty cell: sheet, coordinate, openpyxl data type (`f` for a formula) and value."""
    wb = load(path)
    return [(ws.title, c.coordinate, c.data_type, c.value) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.value is not None]


def formulas(path: Path) -> list[str]:
    return [value for _, _, kind, value in cells(path) if kind == "f"]


def texts(path: Path) -> set[str]:
    """The text of every string cell (a carriage return is stored as `_x000D_`, which Excel reads back)."""
    return {unescape(value) for _, _, kind, value in cells(path) if kind == "s"}


def _replace(path: Path, pairs: dict[str, str]) -> None:
    text = path.read_text()
    for old, new in pairs.items():
        text = text.replace(old, new)
    path.write_text(text)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """A small synthetic practice whose claim ids, payer names, trace numbers and practice name start with
    `=`, `+`, `-` or `@`, in the exports and in the 835s alike."""
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("hostile")
    generate(folder, claims=40, months=3, seed=3)
    payers = pd.read_csv(folder / "payers.csv", dtype=str, keep_default_na=False)
    payers["name"] = payers["name"].replace(PAYERS)
    payers.to_csv(folder / "payers.csv", index=False)
    eras = sorted((folder / "era").glob("*.835"))
    traces = sorted({m for f in eras for m in re.findall(r"TRN\*1\*(\d+)\*", f.read_text())})[:3]
    for name in ("claims.csv", "claim_lines.csv", "postings.csv", "deposits.csv"):
        _replace(folder / name, {**CLAIMS, **{t: TRACE_PREFIX + t for t in traces}})
    for era in eras:
        _replace(era, {**{f"CLP*{a}*": f"CLP*{b}*" for a, b in CLAIMS.items()},
                       **{f"*{a}-": f"*{b}-" for a, b in CLAIMS.items()},
                       **{f"TRN*1*{t}*": f"TRN*1*{TRACE_PREFIX}{t}*" for t in traces}, **ERA_PAYERS})
    info = json.loads((folder / "practice.json").read_text())
    info["name"] = PRACTICE_NAME
    (folder / "practice.json").write_text(json.dumps(info))
    return folder


# -- xlsxwriter workbooks ----------------------------------------------------------------------------------------

def test_the_safe_workbook_writes_a_string_as_text_even_when_asked_otherwise(tmp_path):
    book = safety.workbook(str(tmp_path / "t.xlsx"), {"strings_to_formulas": True, "strings_to_urls": True})
    sheet = book.add_worksheet("S")
    sheet.write(0, 0, "=1+1")  # write(), not write_string(): the workbook's options decide
    sheet.write(1, 0, "http://x.test")
    book.close()
    assert [(kind, value) for _, _, kind, value in cells(tmp_path / "t.xlsx")] == [("s", "=1+1"), ("s", "http://x.test")]


def test_every_xlsxwriter_workbook_of_xl_ar_is_opened_through_the_safe_workbook():
    """One place decides how data is written: a new writer that opens xlsxwriter directly fails here."""
    direct = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "xl_ar").rglob("*.py"))
              if p.name != "safety.py" and "Workbook(" in p.read_text() and "xlsxwriter" in p.read_text()]
    assert direct == []


HOSTILE_TEXTS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", '=HYPERLINK("http://x.test","x")',
                 "=cmd|' /C calc'!A0", "00123"]
"""Texts that Excel would run as a formula (or, for the last, read as the number 123)."""


def hostile_reconciliation() -> Reconciliation:
    """One exception per hostile text, that text in every text column of its row."""
    n = len(HOSTILE_TEXTS)
    frame = pd.DataFrame({c: HOSTILE_TEXTS for c in ("claim_id", "payment_id", "trace_number", "payer_id",
                                                     "reason", "category", "next_action")})
    frame["kind"] = "underpaid"
    frame["expected"], frame["actual"], frame["variance"] = 10_000, 9_000, -1_000
    frame["deadline"] = pd.Timestamp("2026-10-30")
    frame["days_left"], frame["priority"] = 30, 5.0
    return Reconciliation(exceptions=frame[list(COLUMNS)].iloc[:n], as_of=dt.date(2026, 9, 30))


def test_the_reconciliation_workbook_holds_no_formula_whatever_the_text_of_an_exception(tmp_path):
    path = reconciliation.write(tmp_path / "r.xlsx", hostile_reconciliation(), practice=PRACTICE_NAME)
    assert formulas(path) == []
    shown = texts(path)
    assert set(HOSTILE_TEXTS) <= shown  # each text is there, as written, as a string cell
    assert f"{PRACTICE_NAME}: reconciliation as of 2026-09-30 (9 exceptions)" in shown


def test_the_reconciliation_of_a_hostile_practice_writes_its_ids_as_text(hostile, tmp_path):
    from xl_ar.cli import main

    out = tmp_path / "reconciliation.xlsx"
    assert main(["reconcile", "--practice", str(hostile), "--out", str(out), "--quiet"]) == 0
    # before the safe writer this count is what the issue measured (76 in one workbook); xl-ar writes none here
    assert formulas(out) == []
    shown = texts(out)
    assert any(t.startswith(PRACTICE_NAME) for t in shown)
    assert shown & set(CLAIMS.values())  # at least one hostile claim id is an exception, shown as text


def test_the_management_report_keeps_only_its_own_formulas(hostile, tmp_path):
    from xl_ar.practice import load_practice
    from xl_ar.report import build_report

    practice = load_practice(hostile)
    remitted, _ = practice.remittances()
    for phi in (False, True):
        with Store.open(tmp_path / f"store{phi}.sqlite") as store:
            built = build_report(practice, store, tmp_path / f"report{phi}.xlsx", phi=phi, remittances=remitted)
        own = formulas(built.path)
        assert len(own) > 50  # totals, shares and the rollforward stay live
        assert [f for f in own if OWN_FORMULA.sub("", f)] == []  # nothing but references, SUM/IF, numbers
        assert [f for f in own if any(t in f for t in [*PAYERS.values(), PRACTICE_NAME])] == []
        shown = texts(built.path)
        assert set(PAYERS.values()) <= shown
        assert f"{PRACTICE_NAME} - as of 2026-09-30" in shown


def test_the_template_filled_with_hostile_tables_has_formulas_only_on_its_dashboard(hostile, tmp_path):
    from xl_ar.practice import load_practice

    path = template.write(tmp_path / "AR.xlsx", load_practice(hostile).all_tables())
    on_sheets = {sheet for sheet, _, kind, _ in cells(path) if kind == "f"}
    assert on_sheets == {"Dashboard"}
    assert set(CLAIMS.values()) <= texts(path)


# -- the ribbon (xlwings) ------------------------------------------------------------------------------------------

def test_the_stand_in_makes_a_formula_of_text_that_excel_would_read_as_one():
    """The stand-in's model of Excel, which the ribbon tests rely on: `=1+1` becomes a formula, `'=1+1` text."""
    book = Book("S")
    book.sheets["S"].range("A1").value = [["=1+1", "'=1+1", "-5", "plain"]]
    assert book.sheets["S"].formulas == {(1, 1)}
    assert book.sheets["S"].cells[(1, 2)] == "=1+1"


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_excel_text_marks_every_text_as_text(text):
    shown = sheets.excel_text(pd.DataFrame({"x": [text]}))
    assert shown["x"].tolist() == ["'" + text]


def test_excel_text_leaves_numbers_dates_and_empty_cells_alone():
    frame = pd.DataFrame({"n": [1.5, None], "d": [dt.date(2026, 1, 2), None], "t": ["a", ""], "m": [7, "b"]},
                         dtype=object)
    shown = sheets.excel_text(frame)
    assert shown.to_dict("list") == {"n": [1.5, None], "d": [dt.date(2026, 1, 2), None], "t": ["'a", ""],
                                     "m": [7, "'b"]}


def test_excel_text_marks_the_text_of_categorical_and_string_columns():
    frame = pd.DataFrame({"c": pd.Categorical(["=1+1", "a"]), "s": pd.array(["@x", None], dtype="string")})
    shown = sheets.excel_text(frame)
    assert shown["c"].tolist() == ["'=1+1", "'a"] and shown["s"].tolist()[0] == "'@x" and pd.isna(shown["s"][1])


def ribbon_book(practice: Path, store: Path) -> Book:
    """A stand-in workbook holding a practice folder's exports as sheets (text typed as text), with its settings."""
    files = {"Claims": "claims.csv", "Claim Lines": "claim_lines.csv", "Postings": "postings.csv",
             "Deposits": "deposits.csv", "Payers": "payers.csv", "Fee Schedule": "fee_schedule.csv"}
    book = Book(*files, sheets.CONFIG_SHEET)
    for name, file in files.items():
        frame = pd.read_csv(practice / file, dtype=str, keep_default_na=False)
        rows = [["'" + v if v else None for v in row] for row in frame.values.tolist()]
        book.sheets[name].range("A1").value = [list(frame.columns), *rows]
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [
        ["era_source", str(practice / "era")], ["store", str(store)], ["as_of", "2026-09-30"]]
    return book


def all_formulas(book: Book) -> dict[str, list[object]]:
    """Every formula of the book but xl-ar's own "How to" links to the guide (`xl_ar.guide.formula`)."""
    own = re.compile(r'=HYPERLINK\("#\'(Guide|Instructions)\'!A\d+","How to"\)')
    found = {s.name: [s.cells[at] for at in sorted(s.formulas) if not own.fullmatch(str(s.cells[at]))]
             for s in book.sheets}
    return {name: cells for name, cells in found.items() if cells}


def test_the_ribbon_writes_hostile_remittances_and_exceptions_as_text(hostile, tmp_path):
    book = ribbon_book(hostile, tmp_path / "s.sqlite")
    assert all_formulas(book) == {}  # the user's sheets hold text
    ribbon.import_remittances(book)
    ribbon.reconcile(book)
    assert all_formulas(book) == {}  # the only formulas are the links to the guide, built from kind codes
    assert any(book.sheets["Worklist"].formulas)
    remitted = book.sheets["Remittances"]
    shown = set(remitted.cells.values())
    assert set(CLAIMS.values()) <= shown  # the claim ids, read back as they are in the 835s
    assert "=SUMMIT MUTUAL HEALTH" in shown and any(str(v).startswith("@MEDICARE") for v in shown)  # payer names
    assert any(str(v).startswith(TRACE_PREFIX + "8") for v in shown)  # a hostile trace number (TRN02)
    assert set(CLAIMS.values()) & set(book.sheets["Reconciliation"].cells.values())


def test_a_setting_that_looks_like_a_formula_is_shown_as_text(tmp_path):
    book = Book(sheets.CONFIG_SHEET)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", str(tmp_path / "s.sqlite")],
                                                          ["practice_name", "'=HYPERLINK(\"http://x\")"]]
    ribbon.settings(book)
    assert all_formulas(book) == {}
    rows = book.sheets["Settings"].frame(header_row=4).set_index("setting")
    assert rows.loc["practice_name", "value"] == "=HYPERLINK(\"http://x\")"


def test_the_help_sheet_names_each_function_as_text():
    book = Book()
    ribbon.help(book)
    assert all_formulas(book) == {}
    assert any(str(v).startswith("=AR_AGING") for v in book.sheets["Help"].cells.values())
