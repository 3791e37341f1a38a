"""Practice-management exports (.csv / .xlsx) -> canonical tables, with every problem reported.

PM systems name their columns in many ways (`Claim #`, `Pat Acct`, `DOS`, `Billed Amt`, `Ins Bal`).
A header is normalised (case, punctuation, common abbreviations) and looked up in `HEADER_VARIANTS`;
the canonical snake_case name is always accepted. docs/practice-folder.md lists the mapping.

Derived columns, when the export lacks them:
- claims `balance` = `Ins Bal` + `Pat Bal` (which are kept as `insurance_balance` and `patient_balance`:
  who owes what is never netted away);
- claims `adjusted` = `Contractual` + `Write Offs` when the export has no total of adjustments;
- claims `responsibility` = insurance when the insurance balance is not zero, else patient;
  without an insurance balance column: patient for self-pay payers, insurance otherwise.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xl_ar import columns, tables
from xl_ar.errors import InputError
from xl_ar.findings import NOWHERE, Finding, Location, in_reading_order
from xl_ar.money import parse_cents
from xl_ar.privacy import HEADERS_HIDDEN, headers_shown, shown

HEADER_VARIANTS = columns.SYNONYMS
"""For each table, the export headers accepted for each column besides the canonical name (`xl_ar.columns`)."""
EXTRA_COLUMNS = columns.EXTRA_COLUMNS
normalize_header = columns.normalize_header

DERIVED_FROM: dict[str, dict[str, tuple[str, ...]]] = {
    "claims": {"balance": ("insurance_balance", "patient_balance"), "adjusted": ("contractual", "written_off"),
               "responsibility": ("insurance_balance", "payer_id")},
}
"""For each table, the columns a reader derives and the columns it derives them from (so a caller that
reads only some columns of a sheet keeps what it needs to derive them)."""


def map_headers(table: str, headers: list[object]) -> tuple[dict[object, str], list[str]]:
    """Which canonical column each header is, and the clashes (two headers, one column) in words."""
    found = columns.map_headers(table, headers)
    return found.columns, [f"'{unused}' and '{used}' both mean '{column}'" for used, unused, column in found.clashes]


@dataclass
class Sheet:
    """A file read as raw cells: header row and data rows, nothing interpreted yet."""

    name: str
    frame: pd.DataFrame
    first_row: int = 2
    findings: list[Finding] = field(default_factory=list)


def read_sheet(path: Path) -> Sheet:
    """Read a .csv (any common delimiter and encoding) or .xlsx / .xlsm / .xls file as raw cells.

    Raises `InputError` naming the file when it cannot be read at all (empty, not a spreadsheet).
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot be read ({e.strerror or e})", source=name) from None
    if not data.strip():
        raise InputError("the file is empty", source=name)
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        return _read_workbook(name, data)
    if suffix in (".csv", ".txt", ".tsv", ""):
        return _read_csv(name, data)
    raise InputError(f"unsupported file type '{suffix}' (use .csv or .xlsx)", source=name)


def _read_csv(name: str, data: bytes) -> Sheet:
    """A text export as raw cells: UTF-8 (with or without BOM), Windows-1252 or UTF-16 (Excel's "Unicode
    text": BOM, tab-delimited). A NUL character anywhere is an error (a damaged or binary file): a cell
    cut at it would be read as something else."""
    utf16 = _utf16(data)
    if data[:4] == b"PK\x03\x04" or (utf16 is None and b"\x00" in data[:4096]):
        raise InputError("not a text CSV file (it looks like a binary file)", source=name)
    for encoding in ((utf16,) if utf16 else ("utf-8-sig", "cp1252")):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("not a text CSV file (unknown encoding)", source=name)
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise InputError(f"not a text CSV file: line {line:,} holds a NUL character (a damaged or binary file)",
                         source=name)
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    header = _header_row([_line_cells(line) for line in lines])
    first_line = lines[header] if lines else ""
    delimiter = _delimiter(first_line)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype="str", keep_default_na=False,
                            na_values=[], skip_blank_lines=True, quoting=csv.QUOTE_MINIMAL, skiprows=header)
    except (pd.errors.ParserError, csv.Error) as e:
        raise InputError(f"not a readable CSV file ({str(e).splitlines()[0]})", source=name) from None
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", source=name) from None
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the extra leading cells as the row index
        raise InputError(f"not a readable CSV file: row {header + 2:,} has more cells than the header row "
                         f"({len(frame.columns):,}); check the delimiter and quoting", source=name)
    return Sheet(name, frame, header + 2, _title_rows(name, header))


def _line_cells(line: str) -> list[str]:
    """The cells of one line, to find the header row; none for a line the csv module refuses (a cell over its
    131,072-character field limit is no header: pandas reads that row as any other)."""
    try:
        return next(csv.reader([line], delimiter=_delimiter(line)), [])
    except csv.Error:
        return []


def _utf16(data: bytes) -> str | None:
    """The codec of a UTF-16 text (`utf-16` with a BOM, `utf-16-le`/`-be` without one: every other byte of
    its first characters is 0, as in ASCII text written as UTF-16); None for any other data."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = data[:2048]
    if len(head) < 4 or len(head) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) == len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) == len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


HEADER_SEARCH_ROWS = 30
"""How far down a file its header row is looked for (reports start with a title, a date range, a blank row)."""


TITLE_CELLS = 3
"""The most cells a row above the header may fill (a title, a date range, a summary line)."""


def _delimiter(line: str) -> str:
    found = max([",", "\t", ";", "|"], key=line.count)
    return found if line.count(found) else ","


def _header_row(rows: list[list[object]]) -> int:
    """The row that is the header: the first row, unless a row below it names more columns xl-ar knows (a
    report's title, date range and blank rows come before its header)."""
    def known(row: list[object]) -> int:
        return sum(1 for cell in row if isinstance(cell, str) and cell.strip()
                   and any(columns.known_column(t, cell) for t in columns.SYNONYMS))

    def filled(row: list[object]) -> int:
        return sum(1 for cell in row if cell is not None and str(cell).strip())

    scores = [known(row) for row in rows]
    if not scores:
        return 0
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    title = all(filled(row) <= TITLE_CELLS for row in rows[:best])  # a title block, not rows of data
    return best if scores[best] >= 2 and scores[best] > scores[0] and title else 0


def _title_rows(name: str, header: int) -> list[Finding]:
    if not header:
        return []
    return [Finding("warning", name, Location(row=header + 1), f"the header is row {header + 1}: the "
                    f"{header} row{'s' if header != 1 else ''} above it (a report's title) are left out", "title rows")]


def _read_workbook(name: str, data: bytes) -> Sheet:
    try:
        top = pd.read_excel(io.BytesIO(data), engine="calamine", dtype=object, header=None,
                            nrows=HEADER_SEARCH_ROWS, keep_default_na=False, na_values=[""])
        header = _header_row(top.astype(object).where(top.notna(), None).to_numpy().tolist())
        frame = pd.read_excel(io.BytesIO(data), engine="calamine", dtype=object, header=header,
                              keep_default_na=False, na_values=[""])
    except Exception as e:  # calamine raises its own error types for every malformed file
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"not a readable spreadsheet ({reason})", source=name) from None
    if frame.columns.size == 0:
        raise InputError("the first sheet is empty", source=name)
    return Sheet(name, frame, header + 2, _title_rows(name, header))


@dataclass
class Export:
    """One export file read: its canonical table(s), every finding, and the known layout it was read as."""

    tables: dict[str, pd.DataFrame]
    """The table the file holds, plus `claim_lines` when a claims export has a row per service line."""
    findings: list[Finding]
    profile: str = ""
    """The name of the known layout (`xl_ar.profiles`) the file was read as, if any."""


def read_table(path: Path, table: str, payers: pd.DataFrame | None = None,
               column_map: columns.ColumnMap | None = None) -> tuple[pd.DataFrame, list[Finding]]:
    """Read one PM export file as the canonical `table`; returns the table and every finding."""
    return table_from_sheet(read_sheet(path), table, payers, column_map)


def table_from_sheet(sheet: Sheet, table: str, payers: pd.DataFrame | None = None,
                     column_map: columns.ColumnMap | None = None) -> tuple[pd.DataFrame, list[Finding]]:
    """Map headers, derive missing columns, validate. Every row is kept; problems are findings."""
    export = export_from_sheet(sheet, table, payers, column_map)
    return export.tables[table], export.findings


def export_from_sheet(sheet: Sheet, table: str, payers: pd.DataFrame | None = None,
                      column_map: columns.ColumnMap | None = None) -> Export:
    """`table_from_sheet` with everything the file gave: a line-level claims export also gives `claim_lines`."""
    raw = sheet.frame
    column_map = column_map or columns.ColumnMap()
    findings = list(sheet.findings)
    blank = _blank_rows(raw)
    headers = list(raw.columns)
    mapping = columns.map_headers(table, headers, column_map)
    findings += _mapping_findings(sheet.name, table, mapping)
    renamed = raw[list(mapping.columns)].rename(columns=mapping.columns)
    renamed = renamed[~blank.to_numpy()]
    for column, value in column_map.constants.items():
        if column not in columns.columns_of(table):
            findings.append(Finding("error", sheet.name, Location(key=f"constants.{column}"),
                                    f"the column map sets '{column}', which {table} does not have; its columns are "
                                    f"{', '.join(tables.TABLES[table].column_names)}", "bad column map"))
            continue
        renamed[column] = pd.Series(str(value), index=renamed.index, dtype=object)
    typed: dict[str, pd.Series] = {}
    found: dict[str, pd.DataFrame] = {}
    if table == "claims":
        renamed, typed, lines, more = _claim_lines(renamed, sheet.name, sheet.first_row, column_map.date_format)
        findings += more
        if lines is not None:
            found["claim_lines"] = lines
        renamed, more = _payers_of_claims(renamed, sheet.name, sheet.first_row, payers)
        findings += more
        renamed, more_typed, more = _derive_claim_columns(renamed, sheet.name, payers, sheet.first_row, typed)
        typed.update(more_typed)
        findings += more
    elif table == "deposits":
        renamed, typed, more = derive_deposit_columns(renamed, sheet.name, sheet.first_row)
        findings += more
    elif table == "postings" and "posting_id" not in renamed.columns:
        renamed["posting_id"] = [f"{sheet.name}:{i + sheet.first_row}" for i in renamed.index]
    frame, more = tables.from_frame(table, renamed, sheet.name, sheet.first_row, typed=typed,
                                    date_format=column_map.date_format)
    for f in more:
        if f.code == tables.MISSING_COLUMN and f.where.column:
            f = dataclasses.replace(f, message=f"{f.message}; {missing_column_hint(table, f.where.column, headers)}")
        findings.append(f)
    if table == "claims" and not any(f.severity == "error" for f in findings):
        findings += _check_balances(frame, sheet.name, renamed.index.to_numpy() + sheet.first_row)
    key = tables.TABLES[table].key
    if key and all(k in frame.columns for k in key) and len(frame):
        dup = frame.duplicated(list(key), keep="first") & frame[list(key)].notna().all(axis=1)
        rows = renamed.index.to_numpy() + sheet.first_row
        for i in np.flatnonzero(dup.to_numpy()):
            findings.append(Finding("error", sheet.name, Location(row=int(rows[i])),
                                    f"duplicate {' + '.join(key)}: the same key appears on an earlier row",
                                    "duplicate key"))
    return Export({table: frame, **found}, in_reading_order(findings), column_map.profile or "")


def missing_column_hint(table: str, column: str, headers: list[object]) -> str:
    """What a missing column may be written as, and the file's closest header (`did you mean ...?`)."""
    import difflib

    accepted = columns.spellings(table, column)
    shown_names = ", ".join(f"'{s}'" for s in accepted[:8]) + (", ..." if len(accepted) > 8 else "")
    keys = {columns.normalize_header(h): h for h in headers if str(h).strip()}
    targets = [columns.normalize_header(s) for s in accepted]
    best = max(((difflib.SequenceMatcher(None, k, t).ratio(), k) for k in keys for t in targets), default=(0.0, ""))
    hint = f" (did you mean '{keys[best[1]]}'?)" if best[0] >= 0.6 and headers_shown(headers) else ""
    return (f"accepted headers: {shown_names}{hint}; or name the column in practice.json "
            "(`xl-ar map suggest FILE`)")


UNUSED_SHOWN = 30
"""How many unused headers a message names (an API export may have 170 columns)."""


def _mapping_findings(name: str, table: str, mapping: columns.Mapping) -> list[Finding]:
    """What the reading of the headers says: clashes, a column map that does not fit, headers not used."""
    out = []
    for used, unused, column in mapping.clashes:
        out.append(Finding("warning", name, Location(part="header row"),
                           f"'{used}' and '{unused}' both mean {column}: '{used}' is used, '{unused}' is not",
                           "header clash"))
    for header, column in mapping.unknown_targets:
        out.append(Finding("error", name, Location(part="header row"),
                           f"the column map reads '{header}' as '{column}', which {table} does not have; its columns "
                           f"are {', '.join(columns.columns_of(table))}", "bad column map"))
    if mapping.absent:
        out.append(Finding("warning", name, Location(part="header row"),
                           "the column map names headers the file does not have: "
                           + ", ".join(f"'{h}'" for h in mapping.absent), "bad column map"))
    clashed = {unused for _, unused, _ in mapping.clashes}
    ignored = [str(h) for h in mapping.unused if h not in clashed and str(h).strip() and not str(h).startswith("\x00")
               and not re.fullmatch(r"Unnamed: \d+", str(h))]  # pandas' name for a header cell left empty
    if ignored:
        shown_names = ", ".join(ignored[:UNUSED_SHOWN]) + (f", ... ({len(ignored) - UNUSED_SHOWN} more)"
                                                         if len(ignored) > UNUSED_SHOWN else "")
        if not headers_shown(ignored):
            shown_names = HEADERS_HIDDEN
        out.append(Finding("warning", name, Location(part="header row"),
                           f"{len(ignored)} column{'s' if len(ignored) != 1 else ''} not used: {shown_names}",
                           "unused column"))
    return out


NO_RESPONSIBILITY = ("no responsibility or insurance balance column: every balance is taken as owed by insurance "
                     "(aged as insurance A/R, none as patient A/R); if patients owe some of it, add a Responsibility "
                     "column (insurance or patient) or Ins Bal and Pat Bal columns, or map one in practice.json")
"""The warning when an export does not say who owes its balances."""

_LINE_COLUMNS = ("procedure_code", "modifiers", "units", "line_no")
_CLAIM_MONEY = ("charge", "paid", "adjusted", "written_off", "contractual", "balance", "insurance_balance",
                "patient_balance")


def _claim_lines(raw: pd.DataFrame, name: str, first_row: int, date_format: str | None = None
                 ) -> tuple[pd.DataFrame, dict[str, pd.Series], pd.DataFrame | None, list[Finding]]:
    """A claims export with a procedure code on each row has one row per service line: the lines become
    `claim_lines`, and rows sharing a claim id become one claim (money summed, other values from its first
    line, the earliest service date)."""
    findings: list[Finding] = []
    if "procedure_code" not in raw.columns or "claim_id" not in raw.columns or raw.empty:
        return raw.drop(columns=[c for c in _LINE_COLUMNS if c in raw.columns]), {}, None, findings
    claim = _stripped(raw["claim_id"])
    line = pd.DataFrame(index=raw.index)
    line["claim_id"] = claim
    line["line_no"] = raw["line_no"] if "line_no" in raw.columns else (claim.groupby(claim).cumcount() + 1).astype(str)
    line["procedure_code"] = raw["procedure_code"]
    for column in ("modifiers", "units", "charge", "service_date"):
        if column in raw.columns:
            line[column] = raw[column]
    if "modifiers" in line.columns:  # `25, 59`, `25 59` or a list as text (`['25', '59']`) -> 25:59
        mods = (line["modifiers"].astype("string").str.replace(r"[\[\]'\"]", "", regex=True)
                .str.replace(r"[\s,;:]+", ":", regex=True).str.strip(":"))
        line["modifiers"] = mods.mask(mods == "").astype(object)
    if "units" not in line.columns:
        line["units"] = "1"
    lines, more = tables.from_frame("claim_lines", line, name, first_row, date_format=date_format)
    findings += [f for f in more if f.where.column in _LINE_COLUMNS and f.code != tables.MISSING_COLUMN]
    repeated = claim.notna() & claim.duplicated(keep=False)
    if not repeated.any():
        return raw.drop(columns=[c for c in _LINE_COLUMNS if c in raw.columns]), {}, lines, findings
    typed: dict[str, pd.Series] = {}
    keys = claim.fillna(pd.Series(raw.index.astype(str), index=raw.index).radd("\x00row "))  # no id: alone
    groups = keys.groupby(keys, sort=False)
    first_index = groups.head(1).index
    for column in _CLAIM_MONEY:
        if column in raw.columns:
            cents, bad = parse_cents(raw[column])
            for idx in bad[bad].index:
                findings.append(Finding("error", name, Location(row=int(idx + first_row), column=column),
                                        f"{shown(column, raw.at[idx, column])} is not an amount", "bad value"))
            summed = cents.astype("Int64").groupby(keys, sort=False).sum(min_count=1)
            typed[column] = pd.Series(summed.to_numpy(), index=first_index, dtype="Int64")
    out = raw.loc[first_index].drop(columns=[c for c in (*_LINE_COLUMNS, *typed) if c in raw.columns])
    if "service_date" in raw.columns:
        earliest = tables._parse_dates(raw["service_date"], date_format)[0].groupby(keys, sort=False).min()
        has = earliest.notna().to_numpy()
        shown_dates = pd.Series(out["service_date"].to_numpy(dtype=object), index=out.index)
        shown_dates[has] = earliest[has].dt.strftime("%Y-%m-%d").to_numpy()
        out["service_date"] = shown_dates
    for column in ("account_id", "payer_id"):
        if column in raw.columns:
            differ = raw[column].groupby(keys, sort=False).nunique() > 1
            if differ.any():
                findings.append(Finding(
                    "warning", name, Location(row=int(first_index[np.flatnonzero(differ.to_numpy())[0]] + first_row),
                                              column=column),
                    f"the lines of {int(differ.sum()):,} claim{'s' if differ.sum() != 1 else ''} name different "
                    f"{column} values; each claim takes its first line's", "lines disagree"))
    n_claims = int(repeated.groupby(keys).any().sum())
    findings.append(Finding("warning", name, NOWHERE,
                            f"{len(raw):,} rows are the service lines of {len(out):,} claims ({n_claims:,} with "
                            "more than one line): each claim's money is the sum of its lines, its date the "
                            "earliest; the lines are kept as claim_lines", "service lines"))
    return out, typed, lines, findings


def _stripped(values: pd.Series) -> pd.Series:
    """Text cells trimmed, empty ones None (object dtype), without a Python call per cell."""
    text = values.astype("string").str.strip()
    return text.mask(text == "").astype(object).where(text.notna() & (text != ""), None)


SELF_PAY = "SELF-PAY"
"""The payer id of claims the export names no payer for, when the practice's payers have no self-pay payer."""


def _payers_of_claims(raw: pd.DataFrame, name: str, first_row: int, payers: pd.DataFrame | None
                      ) -> tuple[pd.DataFrame, list[Finding]]:
    """Payer names read as the practice's payer ids, and claims without a payer read as self-pay."""
    findings: list[Finding] = []
    if "payer_id" not in raw.columns:
        return raw, findings
    out = raw.copy()
    text = _stripped(out["payer_id"])
    if payers is not None and len(payers):
        by_name = pd.Series(payers.payer_id.to_numpy(), index=payers.name.astype("string").str.strip().str.casefold())
        by_name = by_name[~by_name.index.duplicated()]
        named = text.notna() & ~text.isin(set(payers.payer_id.dropna()))
        if named.any():
            found = text[named].astype("string").str.casefold().map(by_name)
            text[named] = found.where(found.notna(), text[named]).astype(object)
    empty = text.isna()
    if empty.any():
        self_pay = SELF_PAY
        if payers is not None and len(payers) and "payer_class" in payers.columns:
            own = payers.payer_id[payers.payer_class == "self_pay"]
            self_pay = str(own.iloc[0]) if len(own) else SELF_PAY
        text[empty] = self_pay
        if "responsibility" in out.columns:
            resp = out["responsibility"].astype(object)
            out["responsibility"] = resp.where(~(empty & resp.isna()), "patient")
        else:
            out["\x00no payer"] = empty
        findings.append(Finding("warning", name, Location(row=int(out.index[empty.to_numpy()][0] + first_row),
                                                          column="payer_id"),
                                f"{int(empty.sum()):,} row{'s have' if empty.sum() != 1 else ' has'} no payer: read "
                                f"as self-pay ('{self_pay}'), the patient owing the balance", "no payer"))
    out["payer_id"] = text
    return out, findings


def _blank_rows(raw: pd.DataFrame) -> pd.Series:
    """Rows with no value in any cell (spreadsheets often end with some); they carry no data. A cell of
    only spaces (or tabs, non-breaking spaces) is empty: a row of spaces is a blank row."""
    blank = pd.Series(True, index=raw.index)
    for _, col in raw.items():
        if pd.api.types.is_string_dtype(col.dtype) or col.dtype == object:
            # as text (a number or a date never reads as spaces), stripped; missing is empty
            blank &= (col.astype("string").str.strip().fillna("") == "").to_numpy(dtype=bool)
        else:
            blank &= col.isna().to_numpy()
    return blank


def _cents_column(out: pd.DataFrame, column: str, name: str, first_row: int, findings: list[Finding]) -> pd.Series:
    """Cents of an amount column used to derive another one (0 where empty; bad cells reported)."""
    if column not in out.columns:
        return pd.Series(0, index=out.index, dtype="int64")
    cents, bad = parse_cents(out[column])
    for idx in bad[bad].index:
        findings.append(Finding("error", name, Location(row=int(idx + first_row), column=column),
                                f"{shown(column, out.at[idx, column])} is not an amount", "bad value"))
    return cents.fillna(0).astype("int64")


def _optional_cents(raw: pd.DataFrame, column: str, name: str, first_row: int, findings: list[Finding]
                    ) -> pd.Series | None:
    """Cents of an optional amount column (NA where empty, bad cells reported), None when the export lacks it."""
    if column not in raw.columns:
        return None
    cents, bad = parse_cents(raw[column])
    for idx in bad[bad].index:
        findings.append(Finding("error", name, Location(row=int(idx + first_row), column=column),
                                f"{shown(column, raw.at[idx, column])} is not an amount", "bad value"))
    return cents.astype("Int64")


def _derive_claim_columns(raw: pd.DataFrame, name: str, payers: pd.DataFrame | None, first_row: int,
                          summed: dict[str, pd.Series] | None = None
                          ) -> tuple[pd.DataFrame, dict[str, pd.Series], list[Finding]]:
    """Derived claim columns (see the module docstring); `summed` holds money already in cents (a claim's
    lines added up)."""
    findings: list[Finding] = []
    typed: dict[str, pd.Series] = {}
    summed = summed or {}
    no_payer = raw["\x00no payer"] if "\x00no payer" in raw.columns else None
    raw = raw.drop(columns=["\x00no payer"]) if no_payer is not None else raw

    def cents(column: str, required: bool) -> pd.Series | None:
        if column in summed:
            return summed[column] if not required else summed[column].fillna(0).astype("int64")
        if required:
            return _cents_column(raw, column, name, first_row, findings) if column in raw.columns else None
        return _optional_cents(raw, column, name, first_row, findings)

    ins = cents("insurance_balance", False)
    pat = cents("patient_balance", False)
    for column, part in (("insurance_balance", ins), ("patient_balance", pat)):
        if part is not None:
            typed[column] = part
    has = set(raw.columns) | set(summed)
    if "adjusted" not in has and "contractual" in has:
        zero = pd.Series(0, index=raw.index, dtype="int64")
        written_off = cents("written_off", True)
        typed["adjusted"] = cents("contractual", True) + (written_off if written_off is not None else zero)
    if "balance" not in has and (ins is not None or pat is not None):
        parts = [p.fillna(0).astype("int64") for p in (ins, pat) if p is not None]
        typed["balance"] = parts[0] + parts[1] if len(parts) == 2 else parts[0]
    has |= set(typed)
    missing = [c for c in ("paid", "adjusted") if c not in has]
    if len(missing) == 1 and {"charge", "balance"} <= has:
        # charge - paid - adjusted = balance: the one the export lacks follows from the others
        (lacking,) = missing
        other = "adjusted" if lacking == "paid" else "paid"
        amounts = {c: typed[c] if c in typed else cents(c, True) for c in ("charge", "balance", other)}
        typed[lacking] = (amounts["charge"].fillna(0) - amounts[other].fillna(0)
                          - amounts["balance"].fillna(0)).astype("int64")
        findings.append(Finding("warning", name, NOWHERE, f"no {lacking} column: {lacking} is taken as charge - "
                                f"{other} - balance", "derived column"))
    if "responsibility" not in raw.columns:
        if ins is not None:
            typed["responsibility"] = pd.Series(np.where(ins.fillna(0).to_numpy() != 0, "insurance", "patient"),
                                                index=raw.index, dtype="str")
        elif payers is not None and "payer_id" in raw.columns:
            self_pay = set(payers.payer_id[payers.payer_class == "self_pay"])
            typed["responsibility"] = pd.Series(np.where(raw["payer_id"].isin(self_pay), "patient", "insurance"),
                                                index=raw.index, dtype="str")
        elif "payer_id" in raw.columns:
            typed["responsibility"] = pd.Series("insurance", index=raw.index, dtype="str")
            findings.append(Finding("warning", name, NOWHERE, NO_RESPONSIBILITY, "assumed responsibility"))
        if no_payer is not None and "responsibility" in typed and ins is None:
            typed["responsibility"] = typed["responsibility"].where(~no_payer.to_numpy(), "patient")
    typed.update({c: v for c, v in summed.items() if c in ("charge", "paid", "adjusted", "written_off", "balance")
                  and c not in typed})
    for column in ("charge", "paid", "adjusted", "written_off", "balance"):
        if column in typed and column in raw.columns:
            raw = raw.drop(columns=[column])
    out = raw.drop(columns=[c for c in EXTRA_COLUMNS["claims"] if c in raw.columns])
    return out, typed, findings


def _check_balances(frame: pd.DataFrame, name: str, rows: np.ndarray) -> list[Finding]:
    """Warn where a claim's balance is not charge - paid - adjusted, or not the sum of its insurance and
    patient parts (the PM export disagrees with itself)."""
    off = (frame.charge - frame.paid - frame.adjusted) != frame.balance
    findings = [Finding("warning", name, Location(row=int(rows[i])), "balance is not charges - payments - adjustments",
                        "unbalanced row")
                for i in np.flatnonzero(off.to_numpy())]
    if "insurance_balance" in frame.columns and "patient_balance" in frame.columns:
        split = (frame.insurance_balance + frame.patient_balance).astype("Int64")
        apart = (split.notna() & (split != frame.balance)).fillna(False).to_numpy(dtype=bool)
        findings += [Finding("warning", name, Location(row=int(rows[i])),
                             "balance is not the insurance balance + the patient balance", "unbalanced row")
                     for i in np.flatnonzero(apart)]
    return in_reading_order(findings)


def derive_deposit_columns(raw: pd.DataFrame, name: str, first_row: int
                           ) -> tuple[pd.DataFrame, dict[str, pd.Series], list[Finding]]:
    """Bank exports: amount from Credit / Debit columns, trace number from the description
    (the CCD+ reassociation record `TRN*1*<trace>*...` or `CHECK <number>`), deposit id from the
    file name and row when the bank gives no reference."""
    from xl_ar.bank import trace_from_description

    findings: list[Finding] = []
    typed: dict[str, pd.Series] = {}
    out = raw.copy()
    if "amount" not in out.columns and ("credit" in out.columns or "debit" in out.columns):
        credit = _cents_column(out, "credit", name, first_row, findings)
        debit = _cents_column(out, "debit", name, first_row, findings)
        typed["amount"] = (credit - debit.abs()).astype("int64")
    if "trace_number" not in out.columns and "description" in out.columns:
        out["trace_number"] = trace_from_description(out["description"].astype("str"))
    if "deposit_id" not in out.columns:
        out["deposit_id"] = [f"{name}:{i + first_row}" for i in out.index]
    out = out.drop(columns=[c for c in EXTRA_COLUMNS["deposits"] if c in out.columns])
    return out, typed, findings
