"""The reconciliation workbook: every exception (filterable, colored by kind), the worklist, and a
guide to working each kind (all from the registry `xl_ar.kinds`).

For specialists: it shows claim ids and trace numbers (they need them to work the exceptions),
never names, birth dates or member ids. Managers get the de-identified report instead.

Every sheet prints landscape on US Letter, one page wide, its styled header row repeated on every
page; long text wraps in columns sized so the sheet prints as large as the page allows
(`xl_ar.reports.printing`). Values from files are written as what they are (text as text, numbers
as numbers): a claim id or a reason such as `=HYPERLINK(...)` stays text, never a formula.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from xl_ar import guide, kinds, outputs
from xl_ar.reconcile import Reconciliation
from xl_ar.reports import printing, safety

FONT = "Calibri"
SIZE = 10
HEADER_COLOR = "#1F4E78"

SHEET_COLUMNS = [
    # key, header, width (None: wrapped text sharing what is left of the page), weight of a shared width, kind
    ("kind_label", "Kind", None, 1.6, "wrap"), ("kind", "Kind code", 17, 0, "text"),
    ("claim_id", "Claim", 12, 0, "text"), ("trace_number", "Check / EFT", 13, 0, "text"),
    ("payment_id", "Payment", 14, 0, "wrap"), ("payer_id", "Payer", 7, 0, "text"),
    ("expected", "Expected", 10, 0, "money"), ("actual", "Actual", 10, 0, "money"),
    ("variance", "Variance", 10, 0, "money"), ("category", "Category", None, 1.4, "wrap"),
    ("reason", "Reason", None, 4, "wrap"), ("next_action", "Next action", None, 2.2, "wrap"),
    ("deadline", "Deadline", 10.5, 0, "date"), ("days_left", "Days left", 6, 0, "int"),
    ("priority", "Priority", 9, 0, "number"),
]
"""Columns of the Reconciliation and Worklist sheets (the Worklist adds its rank first). `kind_label` is
the kind's name for people (`kinds.BY_CODE[code].label`) beside its code, which the row colours test."""
RANK_COLUMN = ("rank", "Rank", 5, 0, "int")
NOTE_COLUMNS = [
    ("note_date", "Last note", 10.5, 0, "date"), ("note_channel", "Channel", 7, 0, "text"),
    ("outcome", "Last outcome", None, 2, "wrap"), ("next_followup", "Next follow-up", 10.5, 0, "date"),
    ("touches", "Touches", 6, 0, "int"),
]
"""Columns the Worklist sheet adds when it is the follow-up view (`xl_ar.notes.followup_view`): the last note,
the tickler and the touches (a specialist's sheet: the outcome text is theirs)."""
HOW_TO_COLUMN = (guide.KEY, guide.HEADER, 7, 0, "link")
"""The link from each row to its kind's row of the Guide sheet (after the kind's name)."""
ASSIGNED_COLUMN = ("assigned_to", "Assigned to", 11, 0, "text")
"""Who works the row (`xl_ar.assignments`), when the worklist is split among specialists or a claim was taken."""
VERSION_COLUMN = ("assignment_version", "Assignment version", 9, 0, "int")
"""The stored assignment's version the sheet shows (0: nobody took the claim): `xl-ar assign --seen-version`."""
GUIDE_FIRST_ROW = 4
"""The Guide sheet's row (1-based) of the first kind: a title, a blank row, the header, then the kinds."""
MAX_LINKS = 65_000
"""Links written per sheet (a worksheet holds at most 65,530 hyperlinks): rows beyond show the text alone."""
PRINTED_SIZE = 7.0
"""Smallest printed text on the exceptions sheets: sixteen columns are more than a Letter page holds at the
report's 8 pt, and a specialist's working list trades a point of size for half the pages."""
MIN_WIDTH = 10.0
"""Narrowest a wrapped text column gets."""


def write(path: Path, result: Reconciliation, practice: str = "", worklist: pd.DataFrame | None = None) -> Path:
    """Write the workbook: sheet `Reconciliation` (all exceptions), `Worklist` (ranked) and `Guide`."""
    path = Path(path)
    with outputs.whole_file(path, private=True) as tmp:  # claim ids and trace numbers: owner-only, whole or nothing
        _workbook(tmp, result, practice, worklist).close()
    return path


def _workbook(target: Path, result: Reconciliation, practice: str,
              worklist: pd.DataFrame | None = None) -> xlsxwriter.Workbook:
    """The workbook's sheets on `target`, not yet closed (closing writes the file). `worklist`, when given, is
    the worklist to show (the follow-up view: rows waiting for their tickler left out, last-note columns)."""
    book = safety.workbook(str(target), {"default_date_format": "yyyy-mm-dd", "remove_timezone": True})
    book.set_properties({"title": "Reconciliation", "subject": f"Exceptions as of {result.as_of}",
                         "author": "xl-ar", "created": dt.datetime.combine(result.as_of, dt.time())})
    book.formats[0].set_font_name(FONT)
    book.formats[0].set_font_size(SIZE)
    base = {"font_name": FONT, "font_size": SIZE, "valign": "top"}
    formats = {
        "money": book.add_format({**base, "num_format": "#,##0.00;[Red]-#,##0.00"}),
        "date": book.add_format({**base, "num_format": "yyyy-mm-dd"}),
        "int": book.add_format({**base, "num_format": "0"}),
        "number": book.add_format({**base, "num_format": "#,##0.00"}),
        "text": book.add_format(base),
        "wrap": book.add_format({**base, "text_wrap": True}),
        "header": book.add_format({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_COLOR,
                                   "text_wrap": True, "border": 1, "border_color": "#FFFFFF"}),
        "title": book.add_format({**base, "bold": True, "font_size": 13}),
    }
    footer = f"&LConfidential&CPage &P of &N&RAs of {result.as_of:%Y-%m-%d}"
    formats["link"] = book.add_format({**base, "font_color": "#0563C1", "underline": 1})
    for sheet_name, frame, extra in (("Reconciliation", result.exceptions, []),
                                     ("Worklist", result.worklist() if worklist is None else worklist,
                                      [RANK_COLUMN])):
        heading = (f"{practice + ': ' if practice else ''}{sheet_name.lower()} as of {result.as_of} "
                   f"({len(frame):,} exceptions)")
        columns = extra + SHEET_COLUMNS[:2] + [HOW_TO_COLUMN] + SHEET_COLUMNS[2:]  # after the kind and its code
        if sheet_name == "Worklist" and worklist is not None:
            columns += NOTE_COLUMNS
        if ASSIGNED_COLUMN[0] in frame.columns:
            columns.append(ASSIGNED_COLUMN)
        if VERSION_COLUMN[0] in frame.columns:
            columns.append(VERSION_COLUMN)
        _exceptions_sheet(book, sheet_name, heading, frame, columns, formats, footer)
    _guide(book, formats, footer)
    return book


def _values(frame: pd.DataFrame, key: str, kind: str) -> list:
    """One column as the Python values its cells take (None where empty): dollars for cents, datetimes for
    dates, kind labels for kind codes, text for everything else that is not a number."""
    if key == "kind_label":
        column = frame["kind"].map(lambda code: kinds.BY_CODE[code].label if code in kinds.BY_CODE else code)
    elif key == guide.KEY:  # the link's target cell, from the kind code (validated), never from other text
        rows = guide.positions(GUIDE_FIRST_ROW)
        return [guide.location(code, "Guide", rows) for code in frame["kind"].tolist()]
    else:
        column = frame[key] if key in frame.columns else pd.Series([None] * len(frame), index=frame.index)
    missing = column.isna().to_numpy()
    if kind == "money":
        values = (pd.to_numeric(column).astype("Float64") / 100).astype(object)
    elif kind == "date":
        values = pd.Series(pd.to_datetime(column).tolist(), index=column.index, dtype=object)
    elif kind in ("int", "number"):
        values = pd.to_numeric(column).astype(object)
    else:
        values = column.astype(object).map(str, na_action="ignore")
    out = values.tolist()
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


def _exceptions_sheet(book: xlsxwriter.Workbook, name: str, heading: str, frame: pd.DataFrame, columns: list,
                      formats: dict, footer: str) -> None:
    """One sheet of exceptions as an Excel table: styled header, typed cells, wrapped text, row colours by kind
    group, printed one page wide with the header on every page."""
    values = [_values(frame, key, kind) for key, _, _, _, kind in columns]
    # a wrapped column is as wide as its longest word (a long file name may still break)
    mins = [max(MIN_WIDTH, printing.word_width(v, SIZE, cap=14)) if c[4] == "wrap" else 0.0
            for v, c in zip(values, columns, strict=True)]
    widths = printing.fit_widths([c[2] for c in columns], [c[3] for c in columns], SIZE, mins, PRINTED_SIZE)
    sheet = book.add_worksheet(name)
    sheet.write_string(0, 0, heading, formats["title"])
    sheet.set_row(0, 18)
    first = 2
    n = len(frame)
    last = first + max(n, 1)
    sheet.add_table(first, 0, last, len(columns) - 1, {
        "name": name + "Table", "style": "Table Style Light 1",
        "columns": [{"header": header, "format": formats[kind], "header_format": formats["header"]}
                    for _, header, _, _, kind in columns],
    })
    sheet.set_row(first, 30)
    links = iter(range(MAX_LINKS))

    def link(row: int, col: int, target: str, fmt) -> None:
        if next(links, None) is None:
            sheet.write_string(row, col, guide.HEADER, formats["text"])
        else:
            sheet.write_url(row, col, "internal:" + target, fmt, guide.HEADER)

    writers = {"money": sheet.write_number, "int": sheet.write_number, "number": sheet.write_number,
               "date": sheet.write_datetime, "text": sheet.write_string, "wrap": sheet.write_string, "link": link}
    lines = np.ones(n, dtype=np.int64)
    for j, (_, _, _, _, kind) in enumerate(columns):
        sheet.set_column(j, j, widths[j], formats[kind])
        if kind == "wrap":
            lines = np.maximum(lines, printing.wrapped_lines(values[j], widths[j], SIZE))
        put, fmt = writers[kind], formats[kind]
        for i, value in enumerate(values[j]):
            if value is None:
                sheet.write_blank(first + 1 + i, j, None, fmt)
            else:
                put(first + 1 + i, j, value, fmt)
    heights = printing.rows_height(lines, SIZE)
    for i in np.flatnonzero(lines > 1).tolist():
        sheet.set_row(first + 1 + i, float(heights[i]))
    kind_col = xlsxwriter.utility.xl_col_to_name(next(j for j, c in enumerate(columns) if c[0] == "kind"))
    for formula, color in kinds.row_rules(f"${kind_col}{first + 2}"):
        sheet.conditional_format(first + 1, 0, last, len(columns) - 1, {
            "type": "formula", "criteria": formula, "format": book.add_format({"bg_color": color})})
    sheet.freeze_panes(first + 1, 0)
    printing.page_setup(sheet, footer)
    sheet.repeat_rows(first)
    sheet.print_area(0, 0, last, len(columns) - 1)


GUIDE_COLUMNS = [("Kind", 20, 0), ("Kind code", 20, 0), ("Group", 11, 0), ("Next action", None, 2),
                 ("Deadline", None, 2.2), ("How to work it", None, 6)]
"""Columns of the Guide sheet: header, width (None: shares what is left of the page) and weight."""


def _guide(book: xlsxwriter.Workbook, formats: dict, footer: str) -> None:
    """Sheet `Guide`: every kind with its group, next action, deadline rule and how to work it,
    each row in its group's colour. Every cell is written as text, never as a formula."""
    widths = printing.fit_widths([c[1] for c in GUIDE_COLUMNS], [c[2] for c in GUIDE_COLUMNS], SIZE, 14)
    sheet = book.add_worksheet("Guide")
    sheet.write_string(0, 0, "How to work each kind of exception", formats["title"])
    sheet.set_row(0, 18)
    base = {"font_name": FONT, "font_size": SIZE}
    rows = {code: book.add_format({**base, "text_wrap": True, "valign": "top", "bg_color": group.color})
            for code, group in kinds.GROUPS.items()}
    first = 2
    for j, (name, _, _) in enumerate(GUIDE_COLUMNS):
        sheet.write_string(first, j, name, formats["header"])
        sheet.set_column(j, j, widths[j])
    sheet.set_row(first, 30)
    for i, kind in enumerate(kinds.KINDS, start=first + 1):
        cells = (kind.label, kind.code, kinds.GROUPS[kind.group].label,
                 kind.next_action or "the action of its main adjustment reason code (CARC), shown on each row",
                 kind.deadline.words if kind.deadline else "no deadline", kind.guidance)
        for j, text in enumerate(cells):
            sheet.write_string(i, j, text, rows[kind.group])
        # wrapped text: room for the longest cell (not every program fits row heights when it opens a file)
        lines = max(int(printing.wrapped_lines([text], width, SIZE)[0]) for text, width in zip(cells, widths,
                                                                                             strict=True))
        sheet.set_row(i, float(printing.rows_height(lines, SIZE)))
    last = first + len(kinds.KINDS)
    sheet.autofilter(first, 0, last, len(GUIDE_COLUMNS) - 1)
    sheet.freeze_panes(first + 1, 0)
    printing.page_setup(sheet, footer)
    sheet.repeat_rows(first)
    sheet.print_area(0, 0, last, len(GUIDE_COLUMNS) - 1)
