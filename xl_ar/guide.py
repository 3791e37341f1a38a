"""The worklist guide for new staff: one row per kind of exception (`xl_ar.kinds`), and the "How to" link from
a worklist row to its kind's row of the guide.

The template's Instructions sheet, the reconciliation workbook's and the management report's Guide sheets and
the ribbon's Guide sheet all show `rows()`; every worklist xl-ar writes has a `HEADER` column linking to it. A
link is xl-ar's own: its target is built from a validated kind code and a sheet name of xl-ar's, never from text
in the data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from xl_ar import kinds

HEADING = "How to work each worklist kind"
"""The title above the guide's rows (the ribbon finds the block in a workbook's Instructions sheet by it)."""
COLUMNS = ("Kind", "Group", "Next action", "Deadline", "How to work it")
"""The guide's columns, the kind's label first (a link lands on it)."""
HEADER = "How to"
"""The worklist column holding the link, and the text each link shows."""
KEY = "how_to"
"""The worklist column's key in the writers' column lists."""
NEXT_ACTION_OF_DENIALS = "the action of its main adjustment reason code (CARC), shown on each row"
"""The next action shown for the kinds whose action follows their CARC (denials)."""
_SHEET = re.compile(r"[A-Za-z][A-Za-z ]{0,30}")
"""A sheet name of xl-ar's own (letters and spaces): the only kind a link may point into."""


def rows() -> list[tuple[str, str, str, str, str]]:
    """Every kind in `kinds.KINDS` order: label, group, next action, deadline rule and how to work it."""
    return [(k.label, kinds.GROUPS[k.group].label, k.next_action or NEXT_ACTION_OF_DENIALS,
             k.deadline.words if k.deadline else "no deadline", k.guidance) for k in kinds.KINDS]


def positions(first_row: int) -> dict[str, int]:
    """Each kind's row number (1-based, as Excel numbers rows) in a guide whose first kind is on `first_row`."""
    return {k.code: first_row + i for i, k in enumerate(kinds.KINDS)}


def location(code: object, sheet: str, rows_by_code: Mapping[str, int]) -> str | None:
    """The cell a kind's link lands on (`'Guide'!A5`, its label), or None for a value that is not a kind code.
    The sheet must be one of xl-ar's own names (letters and spaces)."""
    if not _SHEET.fullmatch(sheet):
        raise ValueError(f"'{sheet[:31]}' is not a guide sheet name")
    if not isinstance(code, str) or code not in kinds.CODES or code not in rows_by_code:
        return None
    return f"'{sheet}'!A{int(rows_by_code[code])}"


def formula(code: object, sheet: str, rows_by_code: Mapping[str, int]) -> str | None:
    """The link as an Excel formula, `=HYPERLINK("#'Guide'!A5","How to")` (the ribbon's sheets), or None."""
    where = location(code, sheet, rows_by_code)
    return None if where is None else f'=HYPERLINK("#{where}","{HEADER}")'


def find_rows(column_a: list[object]) -> dict[str, int]:
    """The rows of a guide block in a sheet's column A (the values from row 1 down): each kind's row number where
    its label follows the `HEADING` (each label in kinds order after it); empty when the block is not there or a
    label is missing."""
    texts = [str(v).strip() if isinstance(v, str) else "" for v in column_a]
    if HEADING not in texts:
        return {}
    found: dict[str, int] = {}
    at = texts.index(HEADING)
    for kind in kinds.KINDS:
        try:
            at = texts.index(kind.label, at + 1)
        except ValueError:
            return {}
        found[kind.code] = at + 1
    return found
