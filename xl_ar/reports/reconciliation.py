"""The reconciliation workbook: every exception (filterable, colored by kind) and the worklist.

For specialists: it shows claim ids and trace numbers (they need them to work the exceptions),
never names, birth dates or member ids. Managers get the de-identified report instead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import xlsxwriter

from xl_ar.reconcile import Reconciliation

FONT = "Calibri"

KIND_GROUP = {
    "unposted_payment": "posting", "posting_variance": "posting", "posted_without_era": "posting",
    "era_without_deposit": "bank", "deposit_without_era": "bank", "deposit_variance": "bank",
    "duplicate_era": "bank", "unmatched_remit": "remittance", "no_response": "follow-up", "denied": "denial",
    "partially_denied": "denial", "underpaid": "pricing", "overpaid": "pricing", "reversal": "remittance",
    "credit_balance": "follow-up",
}
"""Which color family each kind is shown in."""
GROUP_COLOR = {"posting": "#DDEBF7", "bank": "#E4DFEC", "remittance": "#FFF2CC", "follow-up": "#EDEDED",
               "denial": "#FCE4D6", "pricing": "#E2EFDA"}

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
        for group, color in GROUP_COLOR.items():
            kinds = [k for k, g in KIND_GROUP.items() if g == group]
            test = ",".join(f'${kind_col}{first + 2}="{k}"' for k in kinds)
            sheet.conditional_format(first + 1, 0, last, len(columns) - 1, {
                "type": "formula", "criteria": f"=OR({test})",
                "format": book.add_format({"bg_color": color})})
        sheet.freeze_panes(first + 1, 0)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(first)
        sheet.set_footer("&LConfidential&RPage &P of &N")
    book.close()
    return path
