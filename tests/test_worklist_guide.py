"""The worklist guide for new staff (`xl_ar.guide`): how to work each kind in the template's Instructions and on
Guide sheets, and the "How to" link from every worklist row to its kind's row; the `assigned_to` column where
worklists show."""

from __future__ import annotations

import datetime as dt
import json
import re

import openpyxl
import pandas as pd
import pytest

from tests.excel_standin import Book
from tests.test_ribbon_reconcile import practice_book
from udfs import ribbon
from xl_ar import audit, guide
from xl_ar.addin import template
from xl_ar.kinds import BY_CODE, CODES, GROUPS, KINDS
from xl_ar.policy import Policy
from xl_ar.reconcile import COLUMNS, Reconciliation
from xl_ar.reports import content, management, reconciliation

AS_OF = dt.date(2026, 9, 30)
SHOWN = ["overpaid", "denied", "unposted_payment", "credit_balance"]
"""Kinds of the hand-built reconciliation, one row each, priority highest first."""


def hand_built() -> Reconciliation:
    n = len(SHOWN)
    frame = pd.DataFrame({"kind": SHOWN, "claim_id": [f"C{i}" for i in range(1, n + 1)], "payment_id": None,
                          "trace_number": None, "payer_id": "ACME", "expected": 10_000, "actual": 9_000,
                          "variance": -1_000, "reason": "r", "category": None, "next_action": "a",
                          "deadline": pd.Timestamp("2026-10-30"), "days_left": 30,
                          "priority": [float(100 - i) for i in range(n)]})
    return Reconciliation(exceptions=frame[list(COLUMNS)], as_of=AS_OF)


def links(sheet, header_row: int) -> list[str | None]:
    """The `How to` column's hyperlink targets, row by row, below `header_row` (1-based)."""
    headers = [c.value for c in sheet[header_row]]
    col = headers.index(guide.HEADER) + 1
    cells = [sheet.cell(r, col) for r in range(header_row + 1, sheet.max_row + 1)]
    return [c.hyperlink.location if c.hyperlink else None for c in cells if c.value is not None]


def landing(book: openpyxl.Workbook, location: str) -> object:
    """The value of the cell a link location (`'Guide'!A5`) points at."""
    sheet, cell = re.fullmatch(r"'(.+)'!([A-Z]+\d+)", location).groups()
    return book[sheet][cell].value


# -- the guide's rows ---------------------------------------------------------------------------------------------

def test_the_guide_has_one_row_per_kind_in_registry_order():
    rows = guide.rows()
    assert [r[0] for r in rows] == [k.label for k in KINDS]
    overpaid = rows[list(CODES).index("overpaid")]
    assert overpaid[1:4] == ("Pricing", "refund or confirm the rate",
                             "60 days to refund to Medicare or Medicaid (else the practice's refund days), counted "
                             "from the payment date")
    assert rows[list(CODES).index("denied")][2] == guide.NEXT_ACTION_OF_DENIALS


def test_a_link_is_built_only_from_a_kind_code():
    rows = guide.positions(4)
    assert guide.location("denied", "Guide", rows) == f"'Guide'!A{4 + list(CODES).index('denied')}"
    assert guide.formula("denied", "Guide", rows) == f'=HYPERLINK("#\'Guide\'!A{4 + list(CODES).index("denied")}",' \
                                                     '"How to")'
    for hostile in ('denied"),HYPERLINK("http://x.test', "=1+1", None, 3):
        assert guide.location(hostile, "Guide", rows) is None and guide.formula(hostile, "Guide", rows) is None
    with pytest.raises(ValueError):
        guide.location("denied", "Guide'!A1,'x", rows)


def test_find_rows_locates_the_block_after_its_heading():
    column = ["Intro", "denied", guide.HEADING, "Kind", *[k.label for k in KINDS], "after"]
    found = guide.find_rows(column)
    # the heading is on row 3, the header on row 4: the first kind on row 5 (the earlier "denied" is not the block)
    assert found["unposted_payment"] == 5 and found["credit_balance"] == 4 + len(KINDS)
    assert guide.find_rows(column[:-5]) == {}  # a kind missing: not the block


# -- the template's Instructions sheet ----------------------------------------------------------------------------

def test_the_template_instructions_list_every_kind_with_how_to_work_it(tmp_path):
    sheet = openpyxl.load_workbook(template.write(tmp_path / "t.xlsx"))["Instructions"]
    values = [[c.value for c in row] for row in sheet.iter_rows(max_col=5)]
    top = [r[0] for r in values].index(guide.HEADING)
    assert values[top + 1] == ["Kind", "How to work it", "Group", "Next action", "Deadline"]
    block = values[top + 2: top + 2 + len(KINDS)]
    assert [r[0] for r in block] == [k.label for k in KINDS]
    assert [r[1] for r in block] == [k.guidance for k in KINDS]
    assert [r[2] for r in block] == [GROUPS[k.group].label for k in KINDS]
    overpaid = block[list(CODES).index("overpaid")]
    assert overpaid[3:] == ["refund or confirm the rate", "60 days to refund to Medicare or Medicaid (else the "
                            "practice's refund days), counted from the payment date"]


# -- the reconciliation workbook ----------------------------------------------------------------------------------

@pytest.fixture
def workbook(tmp_path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(reconciliation.write(tmp_path / "r.xlsx", hand_built(), "Test"))


@pytest.mark.parametrize("sheet", ["Worklist", "Reconciliation"])
def test_each_row_of_the_reconciliation_workbook_links_to_its_kinds_guide_row(workbook, sheet):
    targets = links(workbook[sheet], header_row=3)
    assert len(targets) == len(SHOWN)
    assert [landing(workbook, t) for t in targets] == [BY_CODE[k].label for k in SHOWN]
    assert all(t.startswith("'Guide'!A") for t in targets)


def test_the_reconciliation_workbook_shows_who_works_each_row_when_split(tmp_path):
    result = hand_built()
    split = Reconciliation(result.exceptions.assign(assigned_to=["ana", "ben", "ana", "ben"]), AS_OF)
    book = openpyxl.load_workbook(reconciliation.write(tmp_path / "r.xlsx", split, "Test"))
    rows = list(book["Worklist"].iter_rows(min_row=3, values_only=True))
    col = rows[0].index("Assigned to")
    assert [r[col] for r in rows[1:]] == ["ana", "ben", "ana", "ben"]
    assert "Assigned to" not in [c.value for c in openpyxl.load_workbook(
        reconciliation.write(tmp_path / "plain.xlsx", result, "Test"))["Worklist"][3]]


def test_libreoffice_keeps_the_links_of_the_reconciliation_workbook(tmp_path, libreoffice):
    path = reconciliation.write(tmp_path / "r.xlsx", hand_built(), "Test")
    again = openpyxl.load_workbook(libreoffice.convert([path], "xlsx", tmp_path / "lo")[0])
    targets = links(again["Worklist"], header_row=3)
    assert [landing(again, t if t.startswith("'") else "'{}'!{}".format(*t.split("!"))) for t in targets] == \
        [BY_CODE[k].label for k in SHOWN]


# -- the management report ----------------------------------------------------------------------------------------

def report_data(specialists: pd.DataFrame | None = None) -> content.ReportData:
    """Just what the report's Worklist and Guide sheets read (the other fields are not looked at here)."""
    work = hand_built().worklist()
    data = content.ReportData.__new__(content.ReportData)
    data.__dict__.update(practice="Test", as_of=AS_OF, worklist=work, phi=False, specialists=specialists)
    return data


def test_the_management_reports_worklist_links_to_its_guide_sheet(tmp_path):
    w = management._Writer(tmp_path / "m.xlsx", report_data())
    management._worklist(w, w.data)
    management._guide(w)
    w.book.close()
    book = openpyxl.load_workbook(tmp_path / "m.xlsx")
    targets = links(book["Worklist"], header_row=5)
    assert [landing(book, t) for t in targets] == [BY_CODE[k].label for k in SHOWN]


def test_the_management_report_counts_rows_per_specialist_without_patient_data(tmp_path):
    per = pd.DataFrame({"assigned_to": ["ana", "ben"], "rows": [3, 1], "dollars": [30_000, 1_000]})
    w = management._Writer(tmp_path / "m.xlsx", report_data(per))
    management._worklist(w, w.data)
    w.book.close()
    note = openpyxl.load_workbook(tmp_path / "m.xlsx")["Worklist"]["A4"].value
    assert note.endswith("Per specialist (whole worklist): ana 3 rows, $300.00; ben 1 rows, $10.00.")


def test_the_report_content_assigns_the_whole_worklist_before_its_top_rows(practice_small):
    from xl_ar.practice import load_practice
    from xl_ar.reconcile import reconcile_tables

    practice = load_practice(practice_small)
    remitted, _ = practice.remittances()
    result = reconcile_tables(practice.all_tables(), remitted, practice.as_of(), None)
    data = content.build(practice.table("claims"), practice.table("payers"), practice.table("postings"), remitted,
                         result, practice.as_of(), "Test", worklist_size=5, key=b"k" * 32,
                         policy=Policy(assign_by="round_robin", specialists="ana; ben"))
    # round-robin by rank over the whole worklist: ana has ranks 1, 3, 5, ...
    assert data.worklist.assigned_to.tolist() == ["ana", "ben", "ana", "ben", "ana"]
    assert data.specialists.rows.sum() == len(result.worklist())
    assert data.specialists.rows.tolist() == [-(-len(result.worklist()) // 2), len(result.worklist()) // 2]


def test_the_report_shows_a_taken_claim_under_its_taker_over_the_split(practice_small):
    from xl_ar.practice import load_practice
    from xl_ar.reconcile import reconcile_tables

    practice = load_practice(practice_small)
    remitted, _ = practice.remittances()
    result = reconcile_tables(practice.all_tables(), remitted, practice.as_of(), None)
    second = result.worklist().claim_id.dropna().iloc[1]  # a claim round robin gives ben or ana; carla took it
    taken = pd.DataFrame({"claim_id": [second], "assigned_to": ["carla"], "assigned_at": ["2026-11-30T09:00:00Z"],
                          "assigned_by": ["carla"], "version": [1]})
    data = content.build(practice.table("claims"), practice.table("payers"), practice.table("postings"), remitted,
                         result, practice.as_of(), "Test", key=b"k" * 32,
                         policy=Policy(assign_by="round_robin", specialists="ana; ben"), taken=taken)
    # one row is carla's; the split keeps the others: carla 1 row, ana and ben the rest
    assert data.specialists.set_index("assigned_to").rows.to_dict()["carla"] == 1
    assert data.specialists.rows.sum() == len(result.worklist())
    assert "assignment_version" not in data.worklist.columns


# -- the ribbon -----------------------------------------------------------------------------------------------------

@pytest.fixture
def book(tmp_path, practice_small):
    b = practice_book(practice_small, tmp_path / "s.sqlite")
    ribbon.import_remittances(b)
    return b


def ribbon_links(book: Book, name: str) -> list[tuple[str, int]]:
    """The (sheet, row) each row's link of an owned sheet points at."""
    sheet = book.sheets[name]
    header = {v: c for (r, c), v in sheet.cells.items() if r == 3}
    col = header[guide.HEADER]
    rows = sorted(r for (r, c) in sheet.cells if c == col and r > 3)
    assert all((r, col) in sheet.formulas for r in rows)  # xl-ar's own formulas, nothing from data
    out = []
    for r in rows:
        m = re.fullmatch(r"=HYPERLINK\(\"#'(\w+)'!A(\d+)\",\"How to\"\)", sheet.cells[(r, col)])
        out.append((m.group(1), int(m.group(2))))
    return out


def test_the_ribbons_worklist_links_to_an_owned_guide_sheet_without_instructions(book):
    ribbon.reconcile(book)
    work = book.sheets["Worklist"].frame(header_row=3)
    targets = ribbon_links(book, "Worklist")
    assert len(targets) == len(work) > 0
    guide_sheet = book.sheets["Guide"]
    assert [guide_sheet.cells[(row, 1)] for _, row in targets] == [BY_CODE[k].label for k in work.kind]
    assert {s for s, _ in targets} == {"Guide"}
    assert len(ribbon_links(book, "Reconciliation")) == len(book.sheets["Reconciliation"].frame(header_row=3))


def test_the_ribbons_worklist_links_to_the_templates_instructions_when_the_workbook_has_them(book, tmp_path):
    instructions = openpyxl.load_workbook(template.write(tmp_path / "t.xlsx"))["Instructions"]
    sheet = book.sheets.add("Instructions")
    for row in instructions.iter_rows(max_col=1):
        if row[0].value is not None:
            sheet.put((row[0].row, 1), row[0].value)
    ribbon.worklist(book)
    work = book.sheets["Worklist"].frame(header_row=3)
    targets = ribbon_links(book, "Worklist")
    assert {s for s, _ in targets} == {"Instructions"}
    assert [instructions.cell(row, 1).value for _, row in targets] == [BY_CODE[k].label for k in work.kind]
    assert "Guide" not in [s.name for s in book.sheets]


def configure(book: Book, **settings: str) -> None:
    conf = book.sheets["xl_ar.conf"]
    last = max(r for (r, _) in conf.cells)
    for i, (key, value) in enumerate(settings.items(), start=last + 1):
        conf.put((i, 1), key)
        conf.put((i, 2), value)


def test_the_ribbons_worklist_shows_everyones_rows_with_who_works_them(book, monkeypatch):
    monkeypatch.setattr(audit, "os_user", lambda: "dave")
    configure(book, assign_by="round_robin", specialists="ana; ben")
    message = ribbon.worklist(book)
    work = book.sheets["Worklist"].frame(header_row=3)
    assert work.assigned_to.tolist()[:4] == ["ana", "ben", "ana", "ben"]
    assert message.endswith("Assigned by round robin (column assigned_to).")


def test_the_ribbons_worklist_shows_a_specialist_their_own_rows(book, monkeypatch):
    configure(book, assign_by="round_robin", specialists="ana; ben")
    monkeypatch.setattr(audit, "os_user", lambda: "dave")
    everyone = len(book.sheets["Worklist"].frame(header_row=3)) if ribbon.worklist(book) else 0
    monkeypatch.setattr(audit, "os_user", lambda: "BEN")
    message = ribbon.worklist(book)
    work = book.sheets["Worklist"].frame(header_row=3)
    assert set(work.assigned_to) == {"ben"} and len(work) == everyone // 2  # ranks 2, 4, ...
    assert message.endswith(f"Showing your {everyone // 2:,} of {everyone:,} rows (assigned to ben).")


def test_a_bad_specialists_setting_stops_the_ribbon_before_anything_is_written(book):
    configure(book, assign_by="payer", specialists="ana=MCR; ben=MCR")
    message = ribbon.reconcile(book)
    assert "payer MCR is already ana's" in message
    assert "Worklist" not in [s.name for s in book.sheets]


# -- xl-ar reconcile --specialist ---------------------------------------------------------------------------------

def run(capsys, *argv: str) -> tuple[int, str, str]:
    from xl_ar.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reconcile_for_one_specialist_writes_only_their_rows(practice_small, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XL_AR_STORE", str(tmp_path / "s.sqlite"))
    monkeypatch.setenv("XL_AR_ASSIGN_BY", "round_robin")
    monkeypatch.setenv("XL_AR_SPECIALISTS", "ana; ben")
    code, everyone, _ = run(capsys, "reconcile", "--practice", str(practice_small), "--json", "--quiet")
    rows = json.loads(everyone)["exceptions"]
    out = tmp_path / "ben.xlsx"
    code, printed, _ = run(capsys, "reconcile", "--practice", str(practice_small), "--specialist", "ben", "--out",
                           str(out), "--quiet")
    assert code == 0
    assert "Worklist per specialist: (written: ben's rows only)" in printed
    sheet = openpyxl.load_workbook(out)["Worklist"]
    shown = list(sheet.iter_rows(min_row=3, values_only=True))
    col = shown[0].index("Assigned to")
    work = [r for r in rows if r["priority"] and float(r["priority"]) > 0]
    assert [r[col] for r in shown[1:]] == ["ben"] * (len(work) // 2)
    assert int(re.search(r"ben\s+([\d,]+) rows", printed).group(1).replace(",", "")) == len(work) // 2


def test_reconcile_for_someone_who_is_not_a_specialist_is_refused(practice_small, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XL_AR_STORE", str(tmp_path / "s.sqlite"))
    monkeypatch.setenv("XL_AR_ASSIGN_BY", "round_robin")
    monkeypatch.setenv("XL_AR_SPECIALISTS", "ana; ben")
    out = tmp_path / "x.xlsx"
    code, _, err = run(capsys, "reconcile", "--practice", str(practice_small), "--specialist", "dave", "--out",
                       str(out), "--quiet")
    assert code == 2 and "dave is not one of the specialists (ana, ben)" in err
    assert not out.exists()
