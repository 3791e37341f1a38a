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

from xl_ar import tables
from xl_ar.errors import InputError
from xl_ar.findings import NOWHERE, Finding, Location, in_reading_order
from xl_ar.money import parse_cents
from xl_ar.privacy import shown

# Words PM exports abbreviate, mapped to one spelling before lookup.
_WORDS = {
    "#": "no", "num": "no", "nbr": "no", "number": "no", "amt": "amount", "pmt": "payment", "pymt": "payment",
    "pmts": "payments", "ins": "insurance", "pat": "patient", "pt": "patient", "acct": "account",
    "bal": "balance", "adj": "adjustment", "adjs": "adjustments", "svc": "service", "dt": "date",
    "chk": "check", "ref": "reference", "trans": "transaction", "txn": "transaction", "mod": "modifier",
    "mods": "modifiers", "proc": "procedure", "cpt": "procedure", "hcpcs": "procedure", "qty": "units",
    "dob": "date of birth", "dos": "date of service", "id": "id",
}


def normalize_header(header: object) -> str:
    """`'Claim #'` -> `'claim no'`, `'Billed Amt'` -> `'billed amount'`, `'service_date'` -> `'service date'`."""
    text = str(header).strip().lower().replace("#", " # ").replace("_", " ")
    words = re.findall(r"[a-z0-9]+|#", text)
    out: list[str] = []
    for w in words:
        out.extend(_WORDS.get(w, w).split())
    return " ".join(out)


HEADER_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "claims": {
        "claim_id": ("Claim #", "Claim No", "Claim Number", "Claim", "Encounter #", "Encounter ID", "Ticket #",
                     "Patient Control Number", "PCN"),
        "account_id": ("Pat Acct", "Patient Account", "Account #", "Acct #", "Account", "Account Number",
                       "Guarantor Account"),
        "payer_id": ("Ins Code", "Insurance Code", "Payer", "Payer ID", "Payer Code", "Carrier", "Carrier Code",
                     "Primary Ins", "Insurance"),
        "service_date": ("DOS", "Date of Service", "Service Date", "Svc Date", "From Date", "DOS From"),
        "billed_date": ("Billed Date", "Bill Date", "Date Billed", "Submitted", "Submit Date", "First Billed",
                        "Claim Date"),
        "charge": ("Charges", "Charge", "Billed Amt", "Billed Amount", "Total Charge", "Total Charges",
                   "Amount Billed"),
        "paid": ("Payments", "Paid", "Paid Amt", "Paid Amount", "Total Paid", "Receipts"),
        "adjusted": ("Adjustments", "Adj", "Adj Amt", "Adjustment", "Total Adjustments", "Total Adj"),
        "written_off": ("Write Offs", "Write-Offs", "Write Off", "Bad Debt", "W/O"),
        "contractual": ("Contractual", "Contractual Adj", "Contractual Adjustments", "Contr Adj"),
        "balance": ("Balance", "Bal", "Claim Balance", "Current Balance", "Total Balance", "Outstanding"),
        "insurance_balance": ("Ins Bal", "Insurance Balance", "Ins Balance"),
        "patient_balance": ("Pat Bal", "Patient Balance", "Pt Bal", "Pt Balance"),
        "responsibility": ("Resp", "Responsibility", "Responsible Party"),
        "status": ("Claim Status", "Status"),
        "last_activity_date": ("Last Activity", "Last Activity Date", "Last Action", "Last Worked"),
        "patient_name": ("Patient Name", "Patient", "Pt Name", "Name"),
        "date_of_birth": ("DOB", "Date of Birth", "Birth Date", "Patient DOB"),
        "member_id": ("Member ID", "Member #", "Subscriber ID", "Policy #", "Policy Number", "Insured ID"),
        "patient_address": ("Patient Address", "Address"),
        "diagnosis_codes": ("Dx Codes", "Dx", "Diagnosis", "Diagnosis Codes", "ICD Codes", "ICD-10"),
        "payer_class": ("Financial Class", "Payer Class", "Ins Class", "Plan Type"),
    },
    "claim_lines": {
        "claim_id": ("Claim #", "Claim No", "Claim Number", "Claim", "Encounter #"),
        "line_no": ("Line", "Line #", "Line No", "Seq", "Line Number"),
        "line_control": ("Line Control", "Line Item Control", "Line Control Number", "REF 6R"),
        "procedure_code": ("CPT", "HCPCS", "CPT/HCPCS", "Procedure", "Proc Code", "Procedure Code", "Code"),
        "modifiers": ("Modifiers", "Mods", "Modifier", "Mod"),
        "units": ("Units", "Qty", "Quantity", "Days/Units"),
        "charge": ("Charge", "Charges", "Line Charge", "Billed Amt", "Amount"),
        "service_date": ("DOS", "Date of Service", "Service Date", "Svc Date"),
    },
    "payers": {
        "payer_id": ("Ins Code", "Insurance Code", "Payer ID", "Payer Code", "Carrier Code", "Code"),
        "name": ("Payer Name", "Insurance Name", "Carrier", "Carrier Name", "Payer"),
        "payer_class": ("Payer Class", "Financial Class", "Class", "Plan Type"),
        "timely_filing_days": ("Timely Filing", "Timely Filing Days", "Filing Limit", "TFL"),
        "appeal_days": ("Appeal Days", "Appeal Limit", "Appeal Window"),
        "payer_ref": ("Payer Ref", "EDI Payer ID", "Payer EDI ID", "ERA Payer ID"),
        "mpr_rates": ("MPR", "MPR Rates", "Multiple Procedure Reduction", "Multiple Procedure Rates",
                      "Multiple Surgery Reduction"),
    },
    "postings": {
        "posting_id": ("Trans #", "Transaction ID", "Transaction #", "Posting ID", "Receipt #", "Txn ID"),
        "claim_id": ("Claim #", "Claim No", "Claim Number", "Claim", "Encounter #"),
        "payer_id": ("Ins Code", "Insurance Code", "Payer", "Payer Code", "Paid By", "Carrier Code"),
        "amount": ("Pmt Amt", "Payment", "Payment Amount", "Amount", "Posted Amount", "Paid Amount"),
        "posted_date": ("Post Date", "Posted", "Posting Date", "Date Posted", "Entry Date"),
        "trace_number": ("Check/EFT #", "Check #", "Check Number", "EFT #", "Trace", "Trace Number",
                         "Reference #", "Check/EFT Number"),
    },
    "fee_schedule": {
        "payer_id": ("Ins Code", "Insurance Code", "Payer", "Payer Code", "Carrier Code"),
        "procedure_code": ("CPT", "HCPCS", "CPT/HCPCS", "Procedure", "Proc Code", "Procedure Code", "Code"),
        "modifier": ("Modifier", "Mod"),
        "allowed": ("Allowed", "Allowed Amount", "Allowed Amt", "Contract Rate", "Fee", "Rate"),
    },
    "deposits": {
        "deposit_id": ("Bank Reference", "Reference", "Reference #", "Transaction ID", "Bank Ref", "Ref #"),
        "deposit_date": ("Posting Date", "Date", "Transaction Date", "Effective Date", "Post Date", "Deposit Date"),
        "amount": ("Amount", "Deposit Amount", "Transaction Amount"),
        "credit": ("Credit", "Credits", "Credit Amount", "Deposits"),
        "debit": ("Debit", "Debits", "Debit Amount", "Withdrawals"),
        "trace_number": ("Trace", "Trace Number", "Trace #", "TRN"),
        "description": ("Description", "Memo", "Details", "Transaction Description", "Narrative"),
    },
}
"""For each table, the export headers accepted for each column (besides the canonical name)."""

EXTRA_COLUMNS = {"claims": ("contractual",), "deposits": ("credit", "debit")}
"""Columns a reader accepts only to derive canonical ones."""

DERIVED_FROM: dict[str, dict[str, tuple[str, ...]]] = {
    "claims": {"balance": ("insurance_balance", "patient_balance"), "adjusted": ("contractual", "written_off"),
               "responsibility": ("insurance_balance", "payer_id")},
}
"""For each table, the columns a reader derives and the columns it derives them from (so a caller that
reads only some columns of a sheet keeps what it needs to derive them)."""


def _lookup(table: str) -> dict[str, str]:
    lookup = {normalize_header(c): c for c in tables.TABLES[table].column_names}
    for column in EXTRA_COLUMNS.get(table, ()):
        lookup[normalize_header(column)] = column
    for column, variants in HEADER_VARIANTS.get(table, {}).items():
        for v in variants:
            lookup.setdefault(normalize_header(v), column)
    return lookup


def map_headers(table: str, headers: list[object]) -> tuple[dict[object, str], list[str]]:
    """Which canonical column each header is; the second value lists duplicates (two headers, one column)."""
    lookup = _lookup(table)
    mapping: dict[object, str] = {}
    seen: dict[str, object] = {}
    clashes = []
    for h in headers:
        column = lookup.get(normalize_header(h))
        if column is None:
            continue
        if column in seen:
            clashes.append(f"'{h}' and '{seen[column]}' both mean '{column}'")
            continue
        seen[column] = h
        mapping[h] = column
    return mapping, clashes


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
    if data[:4] == b"PK\x03\x04" or b"\x00" in data[:4096]:
        raise InputError("not a text CSV file (it looks like a binary file)", source=name)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly everything
        raise InputError("not a text CSV file (unknown encoding)", source=name)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max([",", "\t", ";", "|"], key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype="str", keep_default_na=False,
                            na_values=[], skip_blank_lines=True, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, csv.Error) as e:
        raise InputError(f"not a readable CSV file ({str(e).splitlines()[0]})", source=name) from None
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", source=name) from None
    return Sheet(name, frame)


def _read_workbook(name: str, data: bytes) -> Sheet:
    try:
        frame = pd.read_excel(io.BytesIO(data), engine="calamine", dtype=object, header=0,
                              keep_default_na=False, na_values=[""])
    except Exception as e:  # calamine raises its own error types for every malformed file
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"not a readable spreadsheet ({reason})", source=name) from None
    if frame.columns.size == 0:
        raise InputError("the first sheet is empty", source=name)
    return Sheet(name, frame)


def read_table(path: Path, table: str, payers: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[Finding]]:
    """Read one PM export file as the canonical `table`; returns the table and every finding."""
    sheet = read_sheet(path)
    return table_from_sheet(sheet, table, payers)


def table_from_sheet(sheet: Sheet, table: str, payers: pd.DataFrame | None = None
                     ) -> tuple[pd.DataFrame, list[Finding]]:
    """Map headers, derive missing columns, validate. Every row is kept; problems are findings."""
    raw = sheet.frame
    findings = list(sheet.findings)
    blank = _blank_rows(raw)
    mapping, clashes = map_headers(table, list(raw.columns))
    for clash in clashes:
        findings.append(Finding("error", sheet.name, Location(part="header row"),
                                f"two columns mean the same thing: {clash}", "header clash"))
    renamed = raw[list(mapping)].rename(columns=mapping)
    renamed = renamed[~blank.to_numpy()]
    typed: dict[str, pd.Series] = {}
    if table == "claims":
        renamed, typed, more = _derive_claim_columns(renamed, sheet.name, payers, sheet.first_row)
        findings += more
    elif table == "deposits":
        renamed, typed, more = derive_deposit_columns(renamed, sheet.name, sheet.first_row)
        findings += more
    frame, more = tables.from_frame(table, renamed, sheet.name, sheet.first_row, typed=typed)
    for f in more:
        if f.code == tables.MISSING_COLUMN:
            headers = ", ".join(str(h) for h in raw.columns)
            f = dataclasses.replace(f, message=f"{f.message}; the headers are: {headers}")
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
    return frame, in_reading_order(findings)


def _blank_rows(raw: pd.DataFrame) -> pd.Series:
    """Rows with no value in any cell (spreadsheets often end with some); they carry no data."""
    blank = pd.Series(True, index=raw.index)
    for _, col in raw.items():
        if pd.api.types.is_string_dtype(col.dtype) and col.dtype != object:
            blank &= col.isna() | (col == "")
        else:
            blank &= col.isna() | (col.astype(object).map(lambda v: isinstance(v, str) and not v.strip()))
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


def _derive_claim_columns(raw: pd.DataFrame, name: str, payers: pd.DataFrame | None, first_row: int
                          ) -> tuple[pd.DataFrame, dict[str, pd.Series], list[Finding]]:
    findings: list[Finding] = []
    typed: dict[str, pd.Series] = {}
    ins = _optional_cents(raw, "insurance_balance", name, first_row, findings)
    pat = _optional_cents(raw, "patient_balance", name, first_row, findings)
    for column, cents in (("insurance_balance", ins), ("patient_balance", pat)):
        if cents is not None:
            typed[column] = cents
    if "adjusted" not in raw.columns and "contractual" in raw.columns:
        typed["adjusted"] = _cents_column(raw, "contractual", name, first_row, findings) + _cents_column(
            raw, "written_off", name, first_row, findings)
    if "balance" not in raw.columns and (ins is not None or pat is not None):
        parts = [p.fillna(0).astype("int64") for p in (ins, pat) if p is not None]
        typed["balance"] = parts[0] + parts[1] if len(parts) == 2 else parts[0]
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
            findings.append(Finding("warning", name, NOWHERE, "no responsibility or insurance balance column: "
                                    "every balance is taken as owed by insurance"))
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
