"""The template workbook `workbooks/AR_Workbook.xlsx`: the sheets a billing specialist works in.

- `Claims`, `ClaimLines`, `Payers`, `FeeSchedule`, `Postings`, `Deposits`: Excel Tables on the sheets the
  ribbon macros read (`Claim Lines` and `Fee Schedule` with a space, as Table names cannot have one), with
  the canonical headers of `xl_ar.tables.TABLES` and a drop-down list on every code column that has fixed
  choices (payer_class, responsibility).
- `Dashboard`: live `=AR_*` formulas of the add-in on those Tables (they show `#NAME?` until the add-in is
  loaded), and a few plain Excel formulas (counts and totals) that work anywhere.
- `Instructions`: what each button and function does, the daily routine and how to work each worklist kind
  (`xl_ar.guide`; the ribbon's worklists link to it), in plain words.

`write(path)` gives the empty template, `write(path, tables)` a copy filled with canonical tables (the demo
writes one with the synthetic practice). Data goes in as values, text always as text (a payer name starting
with `=` stays text), and the bytes depend only on the inputs (fixed document dates; xlsxwriter's fixed zip
timestamps), so the committed template is checked against a fresh `write`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from xl_ar import guide, outputs, settings
from xl_ar.reports import safety
from xl_ar.tables import TABLES, Kind


@dataclass(frozen=True, slots=True)
class DataSheet:
    """A sheet holding one canonical table as an Excel Table."""

    canonical: str
    """The canonical table (`xl_ar.tables.TABLES`)."""
    sheet: str
    """The sheet's name: the one the ribbon macros read (`udfs.ribbon.DATA_SHEETS`)."""
    table: str
    """The Excel Table's name (no spaces), used in formulas: `Claims[#All]`."""


DATA_SHEETS = (
    DataSheet("claims", "Claims", "Claims"),
    DataSheet("claim_lines", "Claim Lines", "ClaimLines"),
    DataSheet("payers", "Payers", "Payers"),
    DataSheet("fee_schedule", "Fee Schedule", "FeeSchedule"),
    DataSheet("postings", "Postings", "Postings"),
    DataSheet("deposits", "Deposits", "Deposits"),
)
"""The data sheets in the order of the workbook's tabs."""
SHEETS: dict[str, str] = {d.table: d.canonical for d in DATA_SHEETS}
"""Excel Table name -> canonical table."""
_BY_TABLE = {d.table: d for d in DATA_SHEETS}

CREATED = dt.datetime(2026, 1, 1)
"""The document date written into every file, so the same tables give the same bytes."""

VALIDATED_ROWS = 5000
"""Rows below the data that keep the drop-down lists, so rows added to a Table get them too."""

INSTRUCTION_WIDTHS = (46, 96)
"""Widths of the Instructions sheet's two columns (characters)."""

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True, slots=True)
class Formula:
    """A labelled formula on the Dashboard: `spills` when it returns a table (a dynamic array)."""

    label: str
    formula: str
    spills: bool = False
    number_format: str | None = None


CLAIMS = "Claims[#All]"
KPIS = Formula("Key figures", f"=AR_KPIS({CLAIMS},TODAY())", spills=True)
SINGLE_NUMBERS = (
    Formula("Days in A/R", f"=AR_DAYS_IN_AR({CLAIMS},TODAY())", number_format="0.0"),
    Formula("Share of billed A/R over 90 days", f"=AR_PCT_OVER({CLAIMS},TODAY(),90)", number_format="0.0%"),
    Formula("Share of billed A/R over 120 days", f"=AR_PCT_OVER({CLAIMS},TODAY(),120)", number_format="0.0%"),
    Formula("Gross collection rate, last 12 months", f"=AR_GCR({CLAIMS},EDATE(TODAY(),-12)+1,TODAY())",
            number_format="0.0%"),
    Formula("Net collection rate, last 12 months (and its basis)",
            f"=AR_NCR({CLAIMS},EDATE(TODAY(),-12)+1,TODAY())", spills=True, number_format="0.0%"),
)
AGING = (
    Formula("Aging of open balances", f"=AR_AGING({CLAIMS},TODAY())", spills=True),
    Formula("Aging by payer class", f'=AR_AGING({CLAIMS},TODAY(),"payer_class")', spills=True),
)
CARC_EXAMPLE = "CO-45"
"""The reason code the Dashboard's look-up starts with (the cell is the user's to change)."""


def _column(table: str, name: str) -> str:
    """`'Sheet'!$X:$X`: a whole column of an Excel Table's sheet by its canonical name (a plain reference, which
    every spreadsheet reads, where LibreOffice 7.4 does not read `Table[column]`)."""
    data = _BY_TABLE[table]
    letter = xl_col_to_name(TABLES[data.canonical].column_names.index(name))
    return f"'{data.sheet}'!${letter}:${letter}"


QUICK_COUNTS = (
    Formula("Claims", f"=MAX(COUNTA({_column('Claims', 'claim_id')})-1,0)", number_format="#,##0"),
    Formula("Open balance on the claims", f"=SUM({_column('Claims', 'balance')})", number_format=MONEY_FORMAT),
    Formula("Payers", f"=MAX(COUNTA({_column('Payers', 'payer_id')})-1,0)", number_format="#,##0"),
    Formula("Posted payments", f"=SUM({_column('Postings', 'amount')})", number_format=MONEY_FORMAT),
    Formula("Bank deposits", f"=SUM({_column('Deposits', 'amount')})", number_format=MONEY_FORMAT),
)
"""Plain Excel formulas (no add-in needed): a check that the tables were pasted completely."""

BUTTONS = (
    ("Import remittances", "Reads the new ERA files (835) from the folder, zip file or clearinghouse mailbox set "
     "in Settings, or the files you pick, and saves them once in the store. Files already imported are skipped. "
     "The imported payments appear on the Remittances and Adjustments sheets."),
    ("Reconcile", "Matches the imported payments with the Claims, Postings and Deposits sheets and lists what "
     "needs a person: denials, underpayments, payments not posted, payments not in the bank, duplicates."),
    ("Worklist", "Lists today's follow-up work on the Worklist sheet, the most money and the nearest deadline "
     "first, each with the next step to take."),
    ("Build report", "Writes the management report (aging, KPIs against targets, denials, payer scorecard) as a "
     "separate workbook beside this one, without patient names."),
    ("Verify eligibility", "Checks each claim against the insurance answers (271 files) in the practice folder's "
     "eligibility folder and lists on the Eligibility sheet the claims whose visit date is not covered, not "
     "verified, or needs a prior authorization the claim does not have."),
    ("Scrub claims", "Checks each claim before it is sent (required fields, diagnosis and procedure codes, NPI, "
     "dates, duplicate lines, filing deadline, and the payer rules of scrub_rules.csv) and lists every problem "
     "with its fix on the Scrub sheet, errors first."),
    ("Settings", "Shows every setting (practice folder, store, ERA source, the reconciliation's thresholds, the "
     "report's targets), its value and where it comes from, on the Settings sheet. To change one for this "
     "workbook, type its value in column B of the xl_ar.conf sheet; an empty cell takes the practice's setting. "
     "Passwords are never settings: they stay in the computer's password store."),
    ("Help", "Explains each button and each =AR_ function on the Help sheet."),
)
"""Each ribbon button of the Medical A/R tab, in plain words."""

FUNCTIONS = (
    ("AR_AGING(claims, as_of, [group_by], [basis], [buckets])",
     "Open balances by age (0-30, 31-60, ... days), one row per group (payer, payer_class or responsibility)."),
    ("AR_BUCKET(dates, as_of, [buckets])", "The age bucket of each date, e.g. 31-60."),
    ("AR_DAYS_IN_AR(claims, as_of, [lookback_months])",
     "Days in A/R: how many days of charges are still unpaid (lower is better)."),
    ("AR_PCT_OVER(claims, as_of, days, [group_by])", "The share of billed A/R older than the given days."),
    ("AR_NCR(claims, start_date, end_date, [adjustments])",
     "Net collection rate: what was collected of what could be collected, and where the adjustments came from."),
    ("AR_GCR(claims, start_date, end_date)", "Gross collection rate: payments divided by charges."),
    ("AR_DENIAL_RATE(claims, remittances, adjustments, start_date, end_date, [by])",
     "The share of claims denied in full the first time they were processed."),
    ("AR_KPIS(claims, as_of)", "Every key figure of the claims in one two-column table."),
    ("AR_CARC(code)", "What a reason code on a remittance means, its category and the next step, e.g. CO-45."),
    ("AR_EXPECTED(payer_id, procedure_code, [modifier], [units], fee_schedule)",
     "The amount the payer should allow for a service, from the FeeSchedule sheet."),
    ("AR_DEADLINE(payer_id, from_date, [kind], payers)",
     "The last day to file a claim (timely_filing) or to appeal a denial (appeal) with that payer."),
    ("AR_ELIGIBLE(member_id, service_date, eligibility)",
     "Whether the member is covered on the date of service (active, inactive or unknown) and why, from the "
     "EligibilityResponses table that Verify eligibility writes."),
    ("AR_NEXT_FOLLOWUP(claim_id, notes)",
     "The claim's next follow-up date from the Notes sheet (the date its latest note set); empty when none."),
)
"""Each worksheet function, its arguments and what it gives, in plain words (a test checks none is missing)."""

ROUTINE = (
    "Every morning: paste yesterday's exports from the practice-management system into Claims, ClaimLines, "
    "Postings and Deposits (keep the header row; the Tables grow by themselves).",
    "Press Import remittances to bring in the new ERA files.",
    "Press Reconcile, then Worklist, and work the list from the top: appeal denials, post missing payments, "
    "ask the bank about payments that did not arrive.",
    "Look at the Dashboard: A/R over 90 days and days in A/R should go down over the weeks.",
    "At month end press Build report and send the report to the practice manager.",
)
"""The daily routine for new staff."""


def _formats(book: xlsxwriter.Workbook) -> dict[str, object]:
    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "heading": book.add_format({"bold": True, "font_size": 12}),
        "bold": book.add_format({"bold": True}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "text": book.add_format({"num_format": "@"}),
        "money": book.add_format({"num_format": MONEY_FORMAT}),
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "#,##0": book.add_format({"num_format": "#,##0"}),
        "0.0": book.add_format({"num_format": "0.0"}),
        "0.0%": book.add_format({"num_format": "0.0%"}),
        MONEY_FORMAT: book.add_format({"num_format": MONEY_FORMAT}),
    }


def _cells(values: pd.Series, kind: Kind) -> list[object]:
    """A canonical column as cell values: dollars for cents, dates for dates, text as text, None when empty."""
    out: list[object] = []
    for v in values.astype(object).tolist():
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            out.append(None)
        elif kind == Kind.MONEY:
            out.append(int(v) / 100)
        elif kind == Kind.DATE:
            out.append(pd.Timestamp(v).to_pydatetime().replace(tzinfo=None))
        elif kind in (Kind.COUNT, Kind.NUMBER):
            out.append(float(v))
        else:
            out.append(str(v))
    return out


def _table_sheet(book: xlsxwriter.Workbook, formats: dict, data: DataSheet, frame: pd.DataFrame | None) -> None:
    """One canonical table as an Excel Table on its sheet, with drop-down lists on its choice columns."""
    spec = TABLES[data.canonical]
    sheet = book.add_worksheet(data.sheet)
    rows = 0 if frame is None else len(frame)
    for j, column in enumerate(spec.columns):
        fmt = {Kind.MONEY: formats["money"], Kind.DATE: formats["date"]}.get(column.kind)
        sheet.set_column(j, j, max(12, len(column.name) + 3), fmt)
        if frame is not None and column.name in frame.columns:
            for i, value in enumerate(_cells(frame[column.name], column.kind), start=1):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(i, j, value)
                elif isinstance(value, dt.datetime):
                    sheet.write_datetime(i, j, value, formats["date"])
                else:
                    sheet.write_number(i, j, value, fmt)
        if column.choices:
            sheet.data_validation(1, j, rows + VALIDATED_ROWS, j, {
                "validate": "list", "source": list(column.choices), "error_title": column.name,
                "error_message": f"{column.name} is one of: {', '.join(column.choices)}"})
    sheet.add_table(0, 0, max(rows, 1), len(spec.columns) - 1, {
        "name": data.table, "style": "Table Style Medium 2",
        "columns": [{"header": c.name, "header_format": formats["bold"]} for c in spec.columns]})
    sheet.freeze_panes(1, 0)


def _formula(sheet, formats: dict, row: int, col: int, item: Formula) -> None:
    fmt = formats.get(item.number_format) if item.number_format else None
    if item.spills:
        sheet.write_dynamic_array_formula(row, col, row, col, item.formula, fmt)
    else:
        sheet.write_formula(row, col, item.formula, fmt)


def _dashboard(book: xlsxwriter.Workbook, formats: dict) -> None:
    """Live figures: the add-in's functions on the Tables, each under its label, with room to spill."""
    sheet = book.add_worksheet("Dashboard")
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 2, 14)
    sheet.set_column(3, 8, 14)
    sheet.set_column(4, 4, 44)
    sheet.write_string(0, 0, "Medical A/R dashboard", formats["title"])
    sheet.write_string(1, 0, "As of today. The figures need the Medical A/R add-in (#NAME? without it).")
    sheet.write_string(3, 0, KPIS.label, formats["heading"])
    _formula(sheet, formats, 4, 0, KPIS)
    sheet.write_string(3, 4, "Single numbers", formats["heading"])
    for i, item in enumerate(SINGLE_NUMBERS, start=4):
        sheet.write_string(i, 4, item.label)
        _formula(sheet, formats, i, 5, item)
    top = 5 + len(SINGLE_NUMBERS)
    sheet.write_string(top, 4, "Quick counts (plain Excel, no add-in needed)", formats["heading"])
    for i, item in enumerate(QUICK_COUNTS, start=top + 1):
        sheet.write_string(i, 4, item.label)
        _formula(sheet, formats, i, 5, item)
    row = 22
    for item in AGING:
        sheet.write_string(row, 0, item.label, formats["heading"])
        _formula(sheet, formats, row + 1, 0, item)
        row += 16
    sheet.write_string(row, 0, "What a reason code means (type a code in B)", formats["heading"])
    sheet.write_string(row + 1, 0, "Reason code")
    sheet.write_string(row + 1, 1, CARC_EXAMPLE)
    _formula(sheet, formats, row + 1, 2, Formula("", f"=AR_CARC(B{row + 2})", spills=True))


def _instructions(book: xlsxwriter.Workbook, formats: dict) -> None:
    """Plain words for new staff: the sheets, each button, each function, the daily routine."""
    sheet = book.add_worksheet("Instructions")
    sheet.set_column(0, 0, INSTRUCTION_WIDTHS[0], formats["wrap"])
    sheet.set_column(1, 1, INSTRUCTION_WIDTHS[1], formats["wrap"])
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # printed one page wide
    lines: list[tuple[str, str, str | None]] = [("Medical A/R workbook: how to use it", "", "title"), ("", "", None)]
    lines.append(("The sheets", "", "heading"))
    lines += [(d.sheet, f"The {d.canonical.replace('_', ' ')} table ({d.table} in formulas): paste the export "
               "here under the header row.", None) for d in DATA_SHEETS]
    lines += [("Dashboard", "The key figures, always up to date.", None), ("", "", None)]
    lines.append(("The buttons (Medical A/R tab of the ribbon)", "", "heading"))
    lines += [(name, text, None) for name, text in BUTTONS]
    lines += [("", "", None), ("The functions (type them in any cell, like =SUM)", "", "heading")]
    lines += [("", "Tables are given with their header row, e.g. Claims[#All]; dates as dates, e.g. TODAY().", None)]
    lines += [(name, text, None) for name, text in FUNCTIONS]
    lines += [("", "", None), ("The daily routine", "", "heading")]
    lines += [(f"{i}.", text, None) for i, text in enumerate(ROUTINE, start=1)]
    for i, (a, b, style) in enumerate(lines):
        if style:
            sheet.write_string(i, 0, a, formats[style])
            continue
        if a:
            sheet.write_string(i, 0, a)
        if b:
            sheet.write_string(i, 1, b)
        wrapped = max(_lines(a, INSTRUCTION_WIDTHS[0]), _lines(b, INSTRUCTION_WIDTHS[1]))
        if wrapped > 1:  # wrapped text gets its height (not every application sizes rows on opening)
            sheet.set_row(i, 15 * wrapped)
    _kinds_guide(sheet, formats, len(lines) + 1)


GUIDE_COLUMNS = (0, 2, 3, 4, 1)
"""Where each of `guide.COLUMNS` goes on the Instructions sheet: the kind's label in A, how to work it in the wide
B, its group, next action and deadline rule in C, D and E."""
GUIDE_WIDTHS = (12, 30, 36)
"""Widths of the Instructions sheet's columns C, D and E (the guide's group, next action and deadline rule)."""


def _kinds_guide(sheet, formats: dict, top: int) -> None:
    """The "How to work each worklist kind" block from row `top` (0-based): a heading, a header, then one row per
    kind in `kinds.KINDS` order (the worklists' "How to" links land on a kind's label in column A)."""
    for j, width in enumerate(GUIDE_WIDTHS, start=2):
        sheet.set_column(j, j, width, formats["wrap"])
    sheet.write_string(top, 0, guide.HEADING, formats["heading"])
    for name, j in zip(guide.COLUMNS, GUIDE_COLUMNS, strict=True):
        sheet.write_string(top + 1, j, name, formats["bold"])
    widths = (*INSTRUCTION_WIDTHS, *GUIDE_WIDTHS)
    for i, cells in enumerate(guide.rows(), start=top + 2):
        for text, j in zip(cells, GUIDE_COLUMNS, strict=True):
            sheet.write_string(i, j, text, formats["wrap"])
        sheet.set_row(i, 15 * max(_lines(text, widths[j]) for text, j in zip(cells, GUIDE_COLUMNS, strict=True)))


COLUMNS_NOTE = (
    "When you paste an export whose headers xl-ar does not know, say here once which header is which column: the "
    "data sheet, the header as it is in the export, and the column it is (the canonical names of Instructions). "
    "Leave the column empty to leave a header out. For a value every row of a sheet shares, give the sheet, no "
    "header, the column and the value (e.g. Claims, , payer_id, SELF-PAY). The buttons read this sheet; the =AR_ "
    "functions need headers they know.")
"""What the Columns sheet is for, in plain words (shown beside its table)."""


def _columns_sheet(book, formats) -> None:
    """`Columns`: the workbook's column map (`xl_ar.columns.maps_from_rows`), an Excel Table `ColumnMap` at A1."""
    from xl_ar.columns import MAP_HEADERS

    sheet = book.add_worksheet("Columns")
    sheet.set_column(0, 3, 24, formats["text"])
    sheet.set_column(5, 5, 90, formats["wrap"])
    sheet.add_table(0, 0, 1, len(MAP_HEADERS) - 1, {"name": "ColumnMap", "style": "Table Style Light 9",
                                                   "columns": [{"header": h} for h in MAP_HEADERS]})
    sheet.data_validation(1, 0, VALIDATED_ROWS, 0, {"validate": "list", "source": [d.sheet for d in DATA_SHEETS]})
    sheet.write_string(0, 5, COLUMNS_NOTE, formats["wrap"])
    sheet.set_row(0, 15 * _lines(COLUMNS_NOTE, 90))


def _settings_sheet(book, formats) -> None:
    """`xl_ar.conf`: this workbook's settings, the first place the ribbon looks (`xl_ar.settings`); every key in
    column A, its value (empty: from the next place) in B, what it is for in C. Rows start at A1, no header:
    xlwings reads every row of column A as a key."""
    sheet = book.add_worksheet(settings.SHEET)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 40, formats["text"])
    sheet.set_column(2, 2, 110)
    for i, (key, note) in enumerate(settings.sheet_rows()):
        sheet.write_string(i, 0, key)
        sheet.write_string(i, 2, note)


def _lines(text: str, width: int) -> int:
    """Lines a text takes in a wrapped column `width` characters wide (a generous estimate)."""
    return -(-len(text) // max(int(width * 1.1), 1)) if text else 1


def write(path: Path, practice_tables: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """Write the A/R workbook to `path`: empty Tables (the template), or filled with canonical tables by name.

    Tables missing from `practice_tables` stay empty. The same inputs always give the same bytes.
    """
    path = Path(path)
    tables = dict(practice_tables or {})
    with outputs.whole_file(path) as tmp:  # whole or not at all: a failure leaves the previous workbook
        _workbook(tmp, tables).close()
    return path


def _workbook(target: Path, tables: dict[str, pd.DataFrame]) -> xlsxwriter.Workbook:
    """The workbook's sheets on `target`, not yet closed (closing writes the file)."""
    book = safety.workbook(str(target))
    book.set_properties({"title": "Medical A/R workbook", "author": "xl-ar", "created": CREATED})
    formats = _formats(book)
    _instructions(book, formats)
    _dashboard(book, formats)
    for data in DATA_SHEETS:
        _table_sheet(book, formats, data, tables.get(data.canonical))
    _columns_sheet(book, formats)
    _settings_sheet(book, formats)
    return book


