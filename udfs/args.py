"""One normaliser for what Excel passes to a function, whatever the runtime.

Classic xlwings (COM) passes dates as `datetime`, empty cells as `None` and every number as a
float; Office.js (xlwings Server / Lite) passes dates as serial numbers, empty cells as `0` or
`""` and whole numbers as `int`. Everything goes through here before the core sees it, and every
problem becomes an `ArgumentError` whose message is shown in the cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from xl_ar import ledger, tables
from xl_ar.balances import Reads
from xl_ar.columns import ColumnMap, map_headers
from xl_ar.errors import ArgumentError, InputError
from xl_ar.tables import MISSING_COLUMN

EXCEL_EPOCH = dt.date(1899, 12, 30)
"""Day zero of Excel's 1900 date system as used by serial numbers (after the 1900 leap-year bug)."""


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and np.isnan(value))


def to_date(value: object, name: str) -> dt.date:
    """A date from a `datetime`, an Excel serial number or ISO / US text."""
    if isinstance(value, list):  # a one-cell range
        value = value[0][0] if value and isinstance(value[0], list) else (value[0] if value else None)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    if isinstance(value, str) and value.strip():
        for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
            try:
                return dt.datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                continue
    raise ArgumentError(f"{name} must be a date")


def to_text(value: object, default: str) -> str:
    """Optional text: empty (None, '', 0) means the default."""
    if is_empty(value) or value == 0:
        return default
    return str(value).strip().lower()


def to_int(value: object, name: str, default: int | None = None) -> int:
    if is_empty(value) or (default is not None and value == 0):
        if default is None:
            raise ArgumentError(f"{name} is required")
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    raise ArgumentError(f"{name} must be a whole number")


def flat(value: object) -> list:
    """The cells of a range as one list, whatever its shape (a value, a row, a column, a block)."""
    if isinstance(value, (list, tuple)):
        return [c for v in value for c in flat(v)]
    return [value]


def to_numbers(value: object, name: str) -> list[float] | None:
    """A list of numbers from a range or array constant (`{0,30,60}`), empty meaning none."""
    if is_empty(value) or value == 0:
        return None
    out = []
    for v in flat(value):
        if is_empty(v):
            continue
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ArgumentError(f"{name} must be numbers (got '{v}')")
        out.append(float(v))
    return out or None


def table_rows(values: object, name: str) -> list[list]:
    if not isinstance(values, (list, tuple)) or not values:
        raise ArgumentError(f"{name} must be a table with its header row (e.g. Claims[#All])")
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in values]
    header = [h for h in rows[0] if not is_empty(h)]
    if not header or not all(isinstance(h, str) for h in header):  # a header row holds only text
        raise ArgumentError(f"{name} must start with its header row (use Table[#All])")
    return rows


def to_table(values: object, table: str, name: str, payers: pd.DataFrame | None = None,
             extra_dates: Sequence[str] = (), reads: Reads | None = None,
             column_map: ColumnMap | None = None) -> pd.DataFrame:
    """A canonical table from a range with its header row (headers: canonical names or PM variants).

    Date columns accept datetimes, serial numbers and text; empty cells may be None, '' or 0.
    `extra_dates` names non-canonical date columns to keep when the range has them (e.g. the
    `payment_date` the Remittances sheet shows next to each remitted claim).

    With `reads` (the columns a core computation reads, declared next to it), only those columns
    (and those the reader derives them from) are looked at: a missing required one is named in the
    message, bad cells are reported with their row and column, and the table holds only the read
    columns the range has. Without it, the whole canonical table is validated.
    """
    rows = table_rows(values, name)
    header = [("" if h is None else str(h)).strip() for h in rows[0]]
    body = rows[1:]
    mapping = map_headers(table, header, column_map).columns
    wanted = None
    if reads is not None:
        derived = ledger.DERIVED_FROM.get(table, {})
        wanted = set(reads.columns) | {s for c in reads.columns for s in derived.get(c, ())}
    date_columns = {c.name for c in tables.TABLES[table].columns if c.kind == tables.Kind.DATE}
    text_columns = {c.name for c in tables.TABLES[table].columns if c.kind in (tables.Kind.TEXT, tables.Kind.CODE)}
    # optional day counts (filing and appeal limits): 0 is how Office.js sends an empty cell
    optional_counts = {c.name for c in tables.TABLES[table].columns if c.kind == tables.Kind.COUNT and not c.required}

    # each header on its own: two headers meaning one read column are both kept (and reported)
    def keep(h: str) -> bool:
        return wanted is None or map_headers(table, [h], column_map).columns.get(h) in wanted \
            or h.lower() in extra_dates

    def convert(h: str, cells: list) -> list:
        column = mapping.get(h)
        if column in date_columns or h.lower() in extra_dates:
            return [date_cell(v) for v in cells]
        if column in optional_counts or column in text_columns:
            return [None if is_empty(v) or (v == 0 and not isinstance(v, bool)) else v for v in cells]
        return [None if is_empty(v) else v for v in cells]

    columns = sheet_columns(header, body, convert, keep)
    if wanted is not None:  # a row is blank only when the whole row is, not just the columns read
        columns[_ROW_HAS_DATA] = pd.Series([True if any(not is_empty_date(v) for v in r) else None for r in body],
                                           dtype=object, index=range(len(body)))
    frame = pd.DataFrame(columns, index=range(len(body)))
    frame, findings = ledger.table_from_sheet(ledger.Sheet(name, frame), table, payers, column_map)
    errors = [f for f in findings if f.severity == "error"]
    if reads is None:
        missing = [f.where.column for f in errors if f.code == MISSING_COLUMN]
    else:
        present = set(mapping.values()) | {h.lower() for h in header if h.lower() in extra_dates} | {
            c for c in reads.columns if c in frame.columns and not any(
            f.code == MISSING_COLUMN and f.where.column == c for f in errors) and c not in _OPTIONAL[table]}
        missing = [c for c in reads.required if c not in present]
        errors = [f for f in errors
                  if f.code != MISSING_COLUMN and (f.where.column is None or f.where.column in wanted)]
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        plural = "s" if len(missing) > 1 else ""
        raise ArgumentError(f"column{plural} {names} not found; headers are: {', '.join(header)}")
    if errors:
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ArgumentError(f"{name} {errors[0].location}: {errors[0].message}{more}")
    for h in header:
        if h.lower() in extra_dates:
            try:
                frame[h.lower()] = pd.to_datetime(columns[h], errors="raise").to_numpy()
            except (ValueError, TypeError):
                raise ArgumentError(f"{name} column '{h}' must hold dates") from None
    if reads is not None:
        frame = frame[[c for c in reads.columns if c in present]]
    return frame


def sheet_columns(header: Sequence[str], body: Sequence[Sequence[object]], convert: Callable[[str, list], list],
                  keep: Callable[[str], bool] = lambda h: True) -> dict[str, pd.Series]:
    """The columns of a sheet's rows (`body`, under `header`) as object series, by header (`column N` for an empty
    one): each header `keep` accepts, its cells (None past a short row) through `convert(header, cells)`."""
    out = {}
    for j, h in enumerate(header):
        if keep(h):
            cells = convert(h, [r[j] if j < len(r) else None for r in body])
            out[h if h else f"column {j + 1}"] = pd.Series(cells, dtype=object, index=range(len(body)))
    return out


_ROW_HAS_DATA = "\x00row has data"
"""A column no header can map to: marks the rows with a value anywhere, read columns or not."""
_OPTIONAL = {name: frozenset(c.name for c in t.columns if not c.required) for name, t in tables.TABLES.items()}
"""The optional columns of each canonical table: filled with empty values when a range lacks them."""


def is_empty_date(v: object) -> bool:
    """An empty date cell: None, '' (classic) or 0 (Office.js)."""
    return is_empty(v) or (v == 0 and not isinstance(v, bool))


def date_cell(v: object) -> object:
    """A date cell as a date (serial numbers converted), None when empty."""
    if is_empty_date(v):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return EXCEL_EPOCH + dt.timedelta(days=int(v))
    return v


def cell(value: object) -> object:
    """A value Excel can show: no NaN (Office.js shows it as #NUM!), no numpy scalars, dates as dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def grid(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[list[object]]:
    """A spilled table: header row then rows, every cell made Excel-safe."""
    return [list(header), *[[cell(v) for v in r] for r in rows]]


def dollars(cents: object) -> object:
    """Cents as dollars for a cell (empty stays empty)."""
    if cents is None or cents is pd.NA or (isinstance(cents, float) and np.isnan(cents)):
        return ""
    return int(cents) / 100


def number(value: float, why: str) -> float:
    """A scalar result for a cell: a KPI that cannot be computed says why instead of NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        raise ArgumentError(why)
    return float(value)


def message(function: str, error: Exception) -> str:
    """The text a cell shows for a failed call: `AR_AGING: as_of must be a date`."""
    if isinstance(error, (ArgumentError, InputError, ValueError)):
        return f"{function}: {error}"
    return f"{function}: unexpected error ({type(error).__name__}: {error})"
