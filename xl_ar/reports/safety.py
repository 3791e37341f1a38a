"""Workbooks whose text from data stays text: the one way xl-ar opens an xlsxwriter workbook.

Claim ids, trace numbers (TRN02), payer names, export cells and settings such as the practice name
are data: whatever they start with (`=`, `+`, `-`, `@`, a tab or a carriage return), a spreadsheet must show them as
text, never run them as a formula (CSV/formula injection) or turn them into a link or a number. xlsxwriter's
`write()` makes a formula of any string starting with `=` unless `strings_to_formulas` is off; with the options
below every string is a string cell, and the only formulas in a workbook are the ones xl-ar writes itself with
`write_formula` (totals, shares, the rollforward) or puts in conditional formats.
"""

from __future__ import annotations

from typing import Any

import xlsxwriter

TEXT_STAYS_TEXT = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
"""xlsxwriter options under which a string written with `write()` is a string cell, whatever it holds."""


def workbook(target: Any, options: dict[str, Any] | None = None) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook on `target` (a path or a binary buffer) with `options`, in which text from data
    stays text: the options of `TEXT_STAYS_TEXT` always win over the ones given."""
    return xlsxwriter.Workbook(target, {**(options or {}), **TEXT_STAYS_TEXT})
