"""The template workbook (workbooks/AR_Workbook.xlsx): Tables, drop-down lists, Dashboard, Instructions, same bytes."""

from __future__ import annotations

import inspect
import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import udfs.functions
from xl_ar import tables
from xl_ar.addin import template
from xl_ar.practice import load_practice

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbooks" / "AR_Workbook.xlsx"
ERRORS = ("#REF!", "#VALUE!", "#NAME?", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "Err:")


def arguments(text: str) -> list[str]:
    """The top-level arguments of a call's argument text (commas inside nested calls do not split)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def load(path: Path, **kw) -> openpyxl.Workbook:
    with warnings.catch_warnings():  # openpyxl warns about the dynamic-array metadata part; values are fine
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path, **kw)


@pytest.fixture(scope="module")
def empty(tmp_path_factory) -> Path:
    return template.write(tmp_path_factory.mktemp("template") / "AR_Workbook.xlsx")


@pytest.fixture(scope="module")
def practice(practice_small):
    return load_practice(practice_small)


@pytest.fixture(scope="module")
def filled(practice, tmp_path_factory) -> Path:
    return template.write(tmp_path_factory.mktemp("filled") / "AR_Workbook.xlsx", practice.all_tables())


def test_the_committed_template_is_exactly_what_write_produces(empty):
    assert COMMITTED.read_bytes() == empty.read_bytes(), \
        "regenerate: python -c \"from xl_ar.addin import template; template.write('workbooks/AR_Workbook.xlsx')\""


def test_the_same_tables_give_the_same_bytes(practice, filled, tmp_path):
    again = template.write(tmp_path / "again.xlsx", practice.all_tables())
    assert again.read_bytes() == filled.read_bytes()
    with zipfile.ZipFile(filled) as z:
        assert {i.date_time for i in z.infolist()} == {z.infolist()[0].date_time}
        assert b"2026-01-01T00:00:00Z" in z.read("docProps/core.xml")


def test_each_data_sheet_holds_one_excel_table_with_the_canonical_headers(empty):
    book = load(empty)
    assert book.sheetnames == ["Instructions", "Dashboard", "Claims", "Claim Lines", "Payers", "Fee Schedule",
                               "Postings", "Deposits", "Columns", "xl_ar.conf"]
    assert list(template.SHEETS) == ["Claims", "ClaimLines", "Payers", "FeeSchedule", "Postings", "Deposits"]
    for data in template.DATA_SHEETS:
        ws = book[data.sheet]
        assert list(ws.tables) == [data.table]
        header = [c.value for c in ws[1]]
        assert header == tables.TABLES[data.canonical].column_names
        assert ws.tables[data.table].ref.startswith("A1:")


def test_the_data_sheets_are_the_ones_the_ribbon_macros_read():
    import udfs.ribbon

    assert {d.canonical: d.sheet for d in template.DATA_SHEETS} == udfs.ribbon.DATA_SHEETS


def test_code_columns_with_choices_get_a_drop_down_list_and_no_other_column_does(empty):
    book = load(empty)
    for data in template.DATA_SHEETS:
        ws, table, sheet = book[data.sheet], data.canonical, data.sheet
        found = {}
        for rule in ws.data_validations.dataValidation:
            assert rule.type == "list"
            found[str(rule.sqref).split(":")[0].rstrip("0123456789")] = rule.formula1
        expected = {openpyxl.utils.get_column_letter(j + 1): '"' + ",".join(c.choices) + '"'
                    for j, c in enumerate(tables.TABLES[table].columns) if c.choices}
        assert found == expected, sheet
    claims = [c.name for c in tables.TABLES["claims"].columns if c.choices]
    assert claims == ["responsibility", "payer_class"]


def test_the_dashboard_calls_only_functions_the_add_in_has_with_at_most_their_arguments(empty):
    book = load(empty)
    calls = [c.value.text if hasattr(c.value, "text") else c.value
             for row in book["Dashboard"].iter_rows() for c in row if c.value is not None]
    formulas = [f for f in calls if isinstance(f, str) and f.startswith("=")]
    names = {n for f in formulas for n in re.findall(r"\b(AR_[A-Z_]+)\(", f)}
    assert {"AR_AGING", "AR_KPIS", "AR_DAYS_IN_AR", "AR_PCT_OVER", "AR_GCR", "AR_NCR", "AR_CARC"} <= names
    for item in (template.KPIS, *template.SINGLE_NUMBERS, *template.AGING):
        name, args = re.fullmatch(r"=(AR_[A-Z_]+)\((.*)\)", item.formula).groups()
        function = getattr(udfs.functions, name.lower())
        assert arguments(args)[:2] in (["Claims[#All]", "TODAY()"], ["Claims[#All]", "EDATE(TODAY(),-12)+1"])
        assert len(arguments(args)) <= len(inspect.signature(function).parameters), item.formula


def test_instructions_describe_every_function_and_button_and_the_daily_routine(empty):
    book = load(empty)
    text = "\n".join(str(c.value) for row in book["Instructions"].iter_rows() for c in row if c.value)
    shipped = {n.upper() for n, f in vars(udfs.functions).items() if n.startswith("ar_") and callable(f)}
    described = {re.match(r"AR_[A-Z_]+", name).group() for name, _ in template.FUNCTIONS}
    assert described == shipped
    for name in shipped:
        assert f"{name}(" in text
    for button in ("Import remittances", "Reconcile", "Worklist", "Build report", "Settings", "Help"):
        assert button in text
    assert "The daily routine" in text and "Press Reconcile" in text


def test_the_filled_copy_holds_the_practice_as_values_money_in_dollars_dates_as_dates(practice, filled):
    book = load(filled)
    claims = practice.table("claims")
    ws = book["Claims"]
    assert ws.max_row == len(claims) + 1
    assert ws.tables["Claims"].ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{len(claims) + 1}"
    columns = tables.TABLES["claims"].column_names
    first = {name: ws.cell(2, j + 1).value for j, name in enumerate(columns)}
    assert first["claim_id"] == claims.claim_id.iloc[0]
    assert first["charge"] == pytest.approx(claims.charge.iloc[0] / 100)
    assert first["service_date"] == pd.Timestamp(claims.service_date.iloc[0]).to_pydatetime()
    for data in template.DATA_SHEETS:
        assert book[data.sheet].max_row == max(len(practice.table(data.canonical)), 1) + 1, data.sheet
    with zipfile.ZipFile(filled) as z:  # data sheets hold values only: not one formula
        for n in range(3, 3 + len(template.SHEETS)):
            assert b"<f>" not in z.read(f"xl/worksheets/sheet{n}.xml")


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    payers = tables.to_frame("payers", [{"payer_id": "=1+1", "name": "=HYPERLINK(\"http://x\")",
                                         "payer_class": "commercial"}])
    path = template.write(tmp_path / "book.xlsx", {"payers": payers})
    ws = load(path)["Payers"]
    assert (ws["A2"].value, ws["A2"].data_type) == ("=1+1", "s")
    assert ws["B2"].data_type == "s"
    with zipfile.ZipFile(path) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet5.xml")


def quick_counts(path: Path) -> dict[str, object]:
    ws = load(path, data_only=True)["Dashboard"]
    return {row[4].value: row[5].value for row in ws.iter_rows() if row[4].value in
            {item.label for item in template.QUICK_COUNTS}}


def test_libreoffice_opens_both_workbooks_and_the_plain_formulas_evaluate(empty, filled, practice, libreoffice,
                                                                          tmp_path):
    out = libreoffice.convert([empty], "xlsx", tmp_path / "empty")[0]
    assert quick_counts(out) == {"Claims": 0, "Open balance on the claims": 0, "Payers": 0, "Posted payments": 0,
                                 "Bank deposits": 0}
    out = libreoffice.convert([filled], "xlsx", tmp_path / "filled")[0]
    counts = quick_counts(out)
    assert counts["Claims"] == len(practice.table("claims"))
    assert counts["Payers"] == len(practice.table("payers"))
    assert counts["Open balance on the claims"] == pytest.approx(practice.table("claims").balance.sum() / 100)
    assert counts["Posted payments"] == pytest.approx(practice.table("postings").amount.sum() / 100)
    assert counts["Bank deposits"] == pytest.approx(practice.table("deposits").amount.sum() / 100)
    assert not any(isinstance(v, str) and v.startswith(ERRORS) for v in counts.values())
    ws = load(out)["Claims"]
    assert [c.value for c in ws[1]] == tables.TABLES["claims"].column_names


def test_the_demo_writes_a_filled_copy_of_the_template(tmp_path):
    from xl_ar import demo

    summary = demo.run(tmp_path / "demo", claims=300, show_progress=False)
    book = load(tmp_path / "demo" / "AR_Workbook.xlsx")
    claims = load_practice(tmp_path / "demo" / "practice").table("claims")
    assert book["Claims"].max_row == len(claims) + 1
    assert any("AR_Workbook.xlsx" in line for line in summary.lines)


def test_the_demo_workbooks_buttons_find_the_demo_practice_through_the_file_beside_it(tmp_path):
    from tests.excel_standin import Book
    from udfs import ribbon
    from xl_ar import demo, settings

    demo.run(tmp_path / "demo", claims=300, show_progress=False)
    saved = load(tmp_path / "demo" / "AR_Workbook.xlsx")
    rows = list(saved[settings.SHEET].iter_rows(values_only=True))
    assert [r[0] for r in rows] == list(settings.SETTINGS) and {r[1] for r in rows} == {None}  # nothing set here
    book = Book(settings.SHEET, fullname=str(tmp_path / "demo" / "AR_Workbook.xlsx"))
    resolved = ribbon._settings(book)
    assert resolved.store == str((tmp_path / "demo" / "xl-ar.sqlite").resolve())
    assert resolved.origin["store"] == resolved.origin["practice"] == "xl_ar.conf beside the workbook"
    practice = load_practice(tmp_path / "demo" / "practice")
    assert ribbon.reconcile(book).startswith(f"Reconciled as of {practice.as_of()}:")


def test_the_ribbon_macros_reconcile_the_filled_copy_as_the_command_line_reconciles_the_practice(
        filled, practice_small, tmp_path, capsys):
    import json

    from tests.excel_standin import Book
    from udfs import ribbon, sheets
    from xl_ar.cli import main

    saved = load(filled)
    book = Book(*[d.sheet for d in template.DATA_SHEETS], sheets.CONFIG_SHEET)
    for data in template.DATA_SHEETS:
        book.sheets[data.sheet].range("A1").value = [list(r) for r in saved[data.sheet].iter_rows(values_only=True)]
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [
        ["era_source", str(practice_small / "era")], ["store", str(tmp_path / "s.sqlite")], ["as_of", "2026-09-30"],
        ["practice", str(practice_small)]]  # its status/ folder: the claims' acknowledgements, as the command reads
    ribbon.import_remittances(book)
    message = ribbon.reconcile(book)
    assert message.startswith("Reconciled as of 2026-09-30:")
    shown = book.sheets["Reconciliation"].frame(header_row=3)
    assert main(["reconcile", "--practice", str(practice_small), "--as-of", "2026-09-30", "--json", "--quiet"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert shown.kind.value_counts().to_dict() == {k: v for k, v in cli["summary"].items() if v}
