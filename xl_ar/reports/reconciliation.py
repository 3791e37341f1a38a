"""The reconciliation workbook: every exception (filterable, colored by kind), the worklist, and a
guide to working each kind (all from the registry `xl_ar.kinds`).

For specialists: it shows claim ids and trace numbers (they need them to work the exceptions),
never names, birth dates or member ids. Managers get the de-identified report instead.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import xlsxwriter

from xl_ar import kinds
from xl_ar.reconcile import Reconciliation

FONT = "Calibri"

SHEET_COLUMNS = [
    ("kind", "Kind", 20, None), ("claim_id", "Claim", 12, None), ("trace_number", "Check / EFT", 14, None),
    ("payment_id", "Payment", 26, None), ("payer_id", "Payer", 8, None), ("expected", "Expected", 12, "money"),
    ("actual", "Actual", 12, "money"), ("variance", "Variance", 12, "money"), ("category", "Category", 18, None),
    ("reason", "Reason", 60, None), ("next_action", "Next action", 30, None), ("deadline", "Deadline", 11, "date"),
    ("days_left", "Days left", 9, "int"), ("priority", "Priority", 10, "number"),
]


def _cell(value, kind: str | None):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if kind == "money":
        return int(value) / 100
    if kind == "date":
        return pd.Timestamp(value).to_pydatetime()
    if kind == "int":
        return int(value)
    return value


def write(path: Path, result: Reconciliation, practice: str = "") -> Path:
    """Write the workbook: sheet `Reconciliation` (all exceptions) and `Worklist` (ranked)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"default_date_format": "yyyy-mm-dd", "remove_timezone": True})
    book.set_properties({"title": "Reconciliation", "subject": f"Exceptions as of {result.as_of}",
                         "author": "xl-ar", "created": dt.datetime.combine(result.as_of, dt.time())})
    base = {"font_name": FONT, "font_size": 10}
    formats = {
        "money": book.add_format({**base, "num_format": "#,##0.00;[Red]-#,##0.00"}),
        "date": book.add_format({**base, "num_format": "yyyy-mm-dd"}),
        "int": book.add_format({**base, "num_format": "0"}),
        "number": book.add_format({**base, "num_format": "#,##0.00"}),
        None: book.add_format(base),
    }
    title = book.add_format({**base, "bold": True, "font_size": 13})
    for sheet_name, frame, extra in (("Reconciliation", result.exceptions, []),
                                     ("Worklist", result.worklist(), [("rank", "Rank", 6, "int")])):
        columns = extra + SHEET_COLUMNS
        sheet = book.add_worksheet(sheet_name)
        heading = (f"{practice + ': ' if practice else ''}{sheet_name.lower()} as of {result.as_of} "
                   f"({len(frame):,} exceptions)")
        sheet.write(0, 0, heading, title)
        first = 2
        data = [[_cell(row[c], k) for c, _, _, k in columns] for row in frame.to_dict("records")]
        last = first + max(len(data), 1)
        sheet.add_table(first, 0, last, len(columns) - 1, {
            "name": sheet_name + "Table", "style": "Table Style Light 1",
            "columns": [{"header": h, "format": formats[k]} for _, h, _, k in columns],
            "data": data or [[None] * len(columns)],
        })
        for j, (_, _, width, kind) in enumerate(columns):
            sheet.set_column(j, j, width, formats[kind])
        kind_col = xlsxwriter.utility.xl_col_to_name(next(j for j, c in enumerate(columns) if c[0] == "kind"))
        for formula, color in kinds.row_rules(f"${kind_col}{first + 2}"):
            sheet.conditional_format(first + 1, 0, last, len(columns) - 1, {
                "type": "formula", "criteria": formula, "format": book.add_format({"bg_color": color})})
        sheet.freeze_panes(first + 1, 0)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(first)
        sheet.set_footer("&LConfidential&RPage &P of &N")
    _guide(book, base, title)
    book.close()
    return path


GUIDE_COLUMNS = [("Kind", 22), ("Shown as", 20), ("Group", 11), ("Next action", 30), ("Deadline", 36),
                 ("How to work it", 90)]
"""Columns of the Guide sheet and their widths."""


def _guide(book: xlsxwriter.Workbook, base: dict, title: xlsxwriter.format.Format) -> None:
    """Sheet `Guide`: every kind with its group, next action, deadline rule and how to work it,
    each row in its group's colour. Every cell is written as text, never as a formula."""
    sheet = book.add_worksheet("Guide")
    sheet.write_string(0, 0, "How to work each kind of exception", title)
    header = book.add_format({**base, "bold": True, "bottom": 1})
    rows = {code: book.add_format({**base, "text_wrap": True, "valign": "top", "bg_color": group.color})
            for code, group in kinds.GROUPS.items()}
    first = 2
    for j, (name, width) in enumerate(GUIDE_COLUMNS):
        sheet.write_string(first, j, name, header)
        sheet.set_column(j, j, width)
    for i, kind in enumerate(kinds.KINDS, start=first + 1):
        cells = (kind.label, kind.code, kinds.GROUPS[kind.group].label,
                 kind.next_action or "the action of its main adjustment reason code (CARC), shown on each row",
                 kind.deadline.words if kind.deadline else "no deadline", kind.guidance)
        for j, text in enumerate(cells):
            sheet.write_string(i, j, text, rows[kind.group])
        # wrapped text: room for the longest cell (not every program fits row heights when it opens a file)
        lines = max(math.ceil(len(text) / (width * 1.2)) for text, (_, width) in zip(cells, GUIDE_COLUMNS, strict=True))
        sheet.set_row(i, 13.5 * lines + 2)
    last = first + len(kinds.KINDS)
    sheet.autofilter(first, 0, last, len(GUIDE_COLUMNS) - 1)
    sheet.freeze_panes(first + 1, 0)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(first)
    sheet.set_footer("&LConfidential&RPage &P of &N")
