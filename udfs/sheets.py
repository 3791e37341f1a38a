"""Writing core results into a workbook through xlwings: owned sheets only, replaced each run.

Works on anything shaped like an `xlwings.Book` (classic COM, or a test stand-in): `book.sheets`
with `[name]`, `.add(name)` and sheet `.name`; `sheet.clear()`, `sheet.range(address)` with
`.value` and `.options(index=False)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from udfs.args import date_cell
from xl_ar import settings, tables
from xl_ar.errors import SettingsError
from xl_ar.kinds import row_rules

CONFIG_SHEET = settings.SHEET
"""The settings sheet (`xl_ar.conf`) of a workbook and of the add-in: `key | value` rows. No credentials."""
CONFIG_BLOCK = "A1:B500"
"""Where the settings rows are read (keys in A, values in B; blank rows and unset values are fine)."""
ADDIN_NAME = "xl_ar.xlam"
"""The add-in's workbook name in Excel (`Workbooks("xl_ar.xlam")` finds an open add-in by it)."""


def config(book) -> dict[str, object]:
    """The rows of a workbook's settings sheet (empty when it has none): text, or dates as dates.

    A key given twice is an error (xlwings' VBA stops on it too). Resolving the rows with the other places a
    setting can come from is `xl_ar.settings.resolve`'s job.
    """
    names = [s.name for s in book.sheets]
    if CONFIG_SHEET not in names:
        return {}
    values = book.sheets[CONFIG_SHEET].range(CONFIG_BLOCK).value or []
    out: dict[str, object] = {}
    for row, (k, v, *_) in enumerate(values, start=1):
        if not k:
            continue
        key = str(k).strip().lower()
        if key in out:
            raise SettingsError(f"A{row}: '{str(k).strip()}' is set twice", source=f"{CONFIG_SHEET} sheet")
        if v is None:
            continue
        spec = settings.SETTINGS.get(key)
        if spec is not None and spec.kind == "date":
            v = date_cell(v)  # Office.js sends a date cell as its serial number, an empty one as 0
            if v is None:
                continue
        out[key] = v if isinstance(v, dt.date) else _cell_text(v)
    return out


def _cell_text(value: object) -> str:
    """A cell as setting text: a whole number without `.0`, a fraction as Python writes it (0.02)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def addin_config(book) -> dict[str, object]:
    """The add-in's own settings sheet, read through the running Excel; empty when the add-in is not open."""
    books = getattr(getattr(book, "app", None), "books", None)
    if books is None:
        return {}
    try:
        addin = books[ADDIN_NAME]
    except Exception:  # not loaded (a workbook opened without the add-in), or a runtime without it
        return {}
    return config(addin)


def folder(book) -> Path | None:
    """The folder of a saved workbook, for its `xl_ar.conf` file; None for a new or web (https://) workbook."""
    name = str(getattr(book, "fullname", "") or "")
    if not name or "://" in name:
        return None
    parent = Path(name).parent
    return parent if str(parent) not in ("", ".") else None


def owned_sheet(book, name: str):
    """The sheet `name`, cleared (or added at the end): macros write only to sheets they own."""
    names = [s.name for s in book.sheets]
    if name in names:
        sheet = book.sheets[name]
        sheet.clear()
        return sheet
    return book.sheets.add(name, after=book.sheets[len(names) - 1] if names else None)


def for_excel(frame: pd.DataFrame, table: str | None = None, money: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table as Excel shows it: money in dollars (floats of whole cents), dates as dates, NA empty.

    Columns are typed by the canonical `table` spec (or named in `money`); datetime columns become dates.
    """
    out = frame.copy()
    kinds = {c.name: c.kind for c in tables.TABLES[table].columns} if table else {}
    kinds.update({name: tables.Kind.MONEY for name in money})
    for col in out.columns:
        if kinds.get(col) == tables.Kind.MONEY:
            cents = out[col].to_numpy(dtype=object, na_value=None)
            out[col] = [None if v is None else int(v) / 100 for v in cents]
        elif kinds.get(col) == tables.Kind.DATE or out[col].dtype.kind == "M":
            out[col] = [None if pd.isna(v) else v.date() for v in out[col]]
        else:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


TEXT_MARK = "'"
"""What tells Excel that the rest of a value written to a cell is text (it is not part of the cell's value)."""


def text_cell(value: str) -> str:
    """A text as a cell value Excel keeps as that very text: marked with `TEXT_MARK` whatever it holds.

    Excel reads a value written through xlwings (COM `Range.Value`) as if it were typed: text starting with `=`,
    `+`, `-` or `@` becomes a formula (`=HYPERLINK(...)` in a payer name, `=cmd|...` in a claim id), `00123`
    becomes 123 and a 19-digit trace number loses digits. Every text from data is written marked; the empty text
    stays empty."""
    return TEXT_MARK + value if value else value


def excel_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells are marked as text (`text_cell`), column by column; numbers, dates and
    empty cells are left as they are."""
    out = frame.copy()
    for col in out.columns:
        column = out[col]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if column.dtype.kind != "O" and not isinstance(column.dtype, pd.StringDtype):
            continue
        if pd.api.types.infer_dtype(column, skipna=True) not in ("string", "mixed", "mixed-integer"):
            continue
        is_text = column.str.len().gt(0).fillna(False).astype(bool)  # not a string: NaN, then False
        if is_text.any():
            marked = TEXT_MARK + column.where(is_text, "").astype(object)
            out[col] = column.astype(object).where(~is_text, marked)
    return out


def write_block(sheet, top_left: str, lines: Sequence[str]) -> None:
    """A column of text lines (a summary above a table), each kept as text."""
    if lines:
        sheet.range(top_left).options(transpose=True).value = [text_cell(v) if isinstance(v, str) else v for v in lines]


def write_rows(sheet, top_left: str, rows: Sequence[Sequence[object]]) -> None:
    """Rows of cells from `top_left`, text kept as text (numbers, dates and empty cells as they are)."""
    if rows:
        sheet.range(top_left).value = [[text_cell(v) if isinstance(v, str) else v for v in row] for row in rows]


def write_frame(sheet, top_left: str, frame: pd.DataFrame) -> None:
    """A frame with its header at `top_left` (no index), its text cells kept as text (`excel_text`)."""
    sheet.range(top_left).options(index=False).value = excel_text(frame)


def write_links(sheet, top_left: str, header: str, formulas: Sequence[str | None]) -> None:
    """A column of xl-ar's own link formulas (`xl_ar.guide.formula`) under a text header: the only cells written
    unmarked, as they are formulas xl-ar built from validated values, never text from data."""
    sheet.range(top_left).options(transpose=True).value = [text_cell(header), *formulas]


def stamp() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


def value_rules(colors: dict[str, str]) -> Callable[[str], list[tuple[str, str]]]:
    """Row rules (as `xl_ar.kinds.row_rules` gives them) for a column of a few known values: one formula and
    color per value (`{"error": "#F4CCCC"}` colors the rows whose cell is `error`)."""
    def rules(cell: str) -> list[tuple[str, str]]:
        return [(f'={cell}="{value}"', color) for value, color in colors.items()]
    return rules


def as_table(sheet, top_left: str, name: str, kind_column: int | None = None,
             rules: Callable[[str], list[tuple[str, str]]] = row_rules) -> None:
    """Make the block at `top_left` a filterable Excel Table and color its rows by kind.

    Uses what the runtime offers: xlwings' `sheet.tables` for the Table and, on Windows, Excel's
    format conditions (one rule per family of kinds, or per value with `rules=value_rules(...)`); a runtime
    without them keeps plain cells.
    """
    block = sheet.range(top_left).expand("table")
    tables_api = getattr(sheet, "tables", None)
    if tables_api is not None:
        tables_api.add(source=block, name=name.replace(" ", ""), table_style_name="TableStyleLight1")
    if kind_column is None or not hasattr(block, "api"):
        return
    try:
        top = block.row + 1
        column = block.columns[kind_column - 1].get_address(False, False).split(":")[0].rstrip("0123456789")
        for formula, color in rules(f"${column}{top}"):  # by default the reconciliation workbook's rules
            rgb = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
            body = block.offset(1).resize(block.rows.count - 1)
            rule = body.api.FormatConditions.Add(Type=2, Formula1=formula)
            rule.Interior.Color = rgb[0] + rgb[1] * 256 + rgb[2] * 65536
    except Exception:  # format conditions are a Windows COM feature; the data is written either way
        pass
