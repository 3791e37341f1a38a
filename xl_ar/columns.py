"""Which canonical column an export's header means: spelling-tolerant names, synonyms, a practice's column map.

A header matches a canonical column when, after normalisation, it equals the column's name or one of the
names PM systems and banks use for it (`SYNONYMS`). Normalisation splits camel case (`TotalCharges`), ignores
case, treats punctuation, spaces and underscores alike and spells common abbreviations one way (`Amt`,
`Pmt`, `Ins`, `Pt`, `#`), so `TotalCharges`, `CLAIMID`, `claim_id`, `Claim ID` and `Claim #` all match.

When two headers mean one column, the better match wins (the canonical name, then the earlier synonym in
`SYNONYMS`) and a warning names the one left unused. A practice's own map (`ColumnMap`, from practice.json or
the workbook's Columns sheet) comes first: it names the column of any header, or sets a column to one value
for every row (`constants`), per file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from xl_ar import tables
from xl_ar.findings import Finding, Location

_WORDS = {
    "#": "no", "num": "no", "nbr": "no", "number": "no", "amt": "amount", "pmt": "payment", "pymt": "payment",
    "pmts": "payments", "ins": "insurance", "pat": "patient", "pt": "patient", "acct": "account",
    "bal": "balance", "adj": "adjustment", "adjs": "adjustments", "svc": "service", "dt": "date",
    "chk": "check", "ref": "reference", "trans": "transaction", "txn": "transaction", "mod": "modifier",
    "mods": "modifiers", "proc": "procedure", "cpt": "procedure", "hcpcs": "procedure", "qty": "units",
    "dob": "date of birth", "dos": "date of service", "id": "id", "amnt": "amount", "desc": "description",
}
"""Words exports abbreviate, spelled one way before comparing."""

_CLAIM = ("Claim #", "Claim No", "Claim Number", "Claim", "Encounter #", "Encounter ID", "Encounter", "Ticket #",
          "Invoice", "Invoice #", "Invoice No", "Visit", "Visit ID", "Visit #", "Patient Control Number", "PCN")
_PAYER_CODE = ("Ins Code", "Insurance Code", "Payer ID", "Payer Code", "Carrier Code", "Payer", "Carrier",
               "Insurance", "Primary Ins", "Primary Insurance", "Payer Name", "Insurance Name", "Ins Name",
               "Insurance Company", "Carrier Name", "Primary Payer", "Insurance Plan", "Plan Name")
_PROCEDURE = ("CPT", "HCPCS", "CPT/HCPCS", "Procedure", "Proc Code", "Procedure Code", "CPT Code", "Service Code",
              "Code")
_TRACE = ("Check/EFT #", "Check #", "Check Number", "Check No", "EFT #", "EFT Number", "Trace", "Trace Number",
          "Trace #", "Reference #", "Reference", "Reference Number", "Check/EFT Number", "Check or Slip #",
          "Check/Ref #", "TRN")

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "claims": {
        "claim_id": _CLAIM,
        "account_id": ("Pat Acct", "Patient Account", "Account #", "Acct #", "Account", "Account Number",
                       "Guarantor Account", "Patient ID", "Patient #", "Patient Number", "MRN",
                       "Medical Record Number", "Pubpid", "Chart #", "Chart", "Chart Number", "PID"),
        "payer_id": _PAYER_CODE,
        "service_date": ("DOS", "Date of Service", "Service Date", "Svc Date", "From Date", "DOS From",
                         "Visit Date", "Encounter Date", "Date of Visit", "Service From", "Service Date From",
                         "Service Start Date", "Start Date of Service"),
        "billed_date": ("Billed Date", "Bill Date", "Date Billed", "Submitted", "Submit Date", "First Billed",
                        "Claim Date", "Date Submitted", "Submitted Date"),
        "charge": ("Charges", "Charge", "Billed Amt", "Billed Amount", "Total Charge", "Total Charges",
                   "Amount Billed", "Billed", "Total Billed", "Charge Amount", "Gross Charges", "Fee"),
        "paid": ("Payments", "Paid", "Paid Amt", "Paid Amount", "Total Paid", "Receipts", "Payment",
                 "Amount Paid", "Total Payments"),
        "adjusted": ("Adjustments", "Adj", "Adj Amt", "Adjustment", "Total Adjustments", "Total Adj", "Adjust",
                     "Adjusted", "Adjustment Amount"),
        "written_off": ("Write Offs", "Write-Offs", "Write Off", "Bad Debt", "W/O"),
        "contractual": ("Contractual", "Contractual Adj", "Contractual Adjustments", "Contr Adj"),
        "balance": ("Balance", "Bal", "Claim Balance", "Current Balance", "Total Balance", "Outstanding",
                    "Balance Due", "Amount Due", "Open Balance", "Remaining Balance", "Total Due",
                    "Outstanding Balance", "Owed", "Amount Owed", "Total Owed"),
        "insurance_balance": ("Ins Bal", "Insurance Balance", "Ins Balance", "Insurance Due", "Ins Due"),
        "patient_balance": ("Pat Bal", "Patient Balance", "Pt Bal", "Pt Balance", "Patient Due", "Pt Due"),
        "responsibility": ("Resp", "Responsibility", "Responsible Party"),
        "status": ("Claim Status", "Status"),
        "last_activity_date": ("Last Activity", "Last Activity Date", "Last Action", "Last Worked"),
        "patient_name": ("Patient Name", "Patient", "Pt Name", "Name"),
        "date_of_birth": ("DOB", "Date of Birth", "Birth Date", "Patient DOB"),
        "member_id": ("Member ID", "Member #", "Subscriber ID", "Policy #", "Policy Number", "Insured ID"),
        "patient_address": ("Patient Address", "Address"),
        "diagnosis_codes": ("Dx Codes", "Dx", "Diagnosis", "Diagnosis Codes", "ICD Codes", "ICD-10"),
        "payer_class": ("Financial Class", "Payer Class", "Ins Class", "Plan Type"),
        "patient_sex": ("Sex", "Gender", "Patient Sex", "Patient Gender"),
        "place_of_service": ("POS", "Place of Service", "Place of Svc", "POS Code"),
        "rendering_npi": ("Rendering NPI", "Rendering Provider NPI", "Provider NPI"),
        "prior_authorization": ("Prior Auth", "Prior Auth #", "Authorization", "Auth #", "Auth Number",
                                "Authorization Number", "Prior Authorization"),
        "frequency_code": ("Frequency", "Frequency Code", "Claim Frequency", "Resubmission Code"),
        "original_payer_claim_id": ("Original Claim #", "Original Ref #", "Payer Claim #", "ICN", "Original ICN"),
        "secondary_payer_id": ("Secondary Ins", "Secondary Payer", "Secondary Insurance", "Secondary Ins Code",
                               "Sec Ins"),
        "secondary_member_id": ("Secondary Member ID", "Secondary Policy #", "Sec Member ID"),
        "procedure_code": _PROCEDURE,
        "modifiers": ("Modifiers", "Mods", "Modifier", "Mod"),
        "units": ("Units", "Qty", "Quantity", "Days/Units"),
        "line_no": ("Line", "Line #", "Line No", "Seq", "Line Number"),
    },
    "claim_lines": {
        "claim_id": _CLAIM,
        "line_no": ("Line", "Line #", "Line No", "Seq", "Line Number"),
        "line_control": ("Line Control", "Line Item Control", "Line Control Number", "REF 6R"),
        "procedure_code": _PROCEDURE,
        "modifiers": ("Modifiers", "Mods", "Modifier", "Mod"),
        "units": ("Units", "Qty", "Quantity", "Days/Units"),
        "charge": ("Charge", "Charges", "Line Charge", "Billed Amt", "Billed", "Amount", "Fee"),
        "service_date": ("DOS", "Date of Service", "Service Date", "Svc Date"),
        "diagnosis_pointers": ("Dx Pointer", "Dx Pointers", "Diagnosis Pointer", "Diagnosis Pointers", "Dx Ptr"),
    },
    "payers": {
        "payer_id": ("Ins Code", "Insurance Code", "Payer ID", "Payer Code", "Carrier Code", "Code"),
        "name": ("Payer Name", "Insurance Name", "Carrier", "Carrier Name", "Payer", "Insurance Company"),
        "payer_class": ("Payer Class", "Financial Class", "Class", "Plan Type"),
        "timely_filing_days": ("Timely Filing", "Timely Filing Days", "Filing Limit", "TFL"),
        "appeal_days": ("Appeal Days", "Appeal Limit", "Appeal Window"),
        "payer_ref": ("Payer Ref", "EDI Payer ID", "Payer EDI ID", "ERA Payer ID"),
        "mpr_rates": ("MPR", "MPR Rates", "Multiple Procedure Reduction", "Multiple Procedure Rates",
                      "Multiple Surgery Reduction"),
    },
    "postings": {
        "posting_id": ("Trans #", "Transaction ID", "Transaction #", "Posting ID", "Receipt #", "Txn ID",
                       "Payment ID", "Receipt ID"),
        "claim_id": _CLAIM,
        "payer_id": ("Ins Code", "Insurance Code", "Payer", "Payer Code", "Paid By", "Carrier Code", "Payer ID",
                     "Payer Name", "Insurance Name", "Insurance"),
        "amount": ("Pmt Amt", "Payment", "Payment Amount", "Amount", "Posted Amount", "Paid Amount", "Paid",
                   "Amount Paid"),
        "posted_date": ("Post Date", "Posted", "Posting Date", "Date Posted", "Entry Date", "Payment Date",
                        "Deposit Date"),
        "trace_number": _TRACE,
    },
    "fee_schedule": {
        "payer_id": ("Ins Code", "Insurance Code", "Payer", "Payer Code", "Carrier Code", "Payer ID"),
        "procedure_code": _PROCEDURE,
        "modifier": ("Modifier", "Mod"),
        "allowed": ("Allowed", "Allowed Amount", "Allowed Amt", "Contract Rate", "Fee", "Rate"),
    },
    "payment_plans": {
        "account_id": ("Pat Acct", "Patient Account", "Account #", "Acct #", "Account", "Account Number",
                       "Guarantor Account", "Patient ID", "Chart #"),
        "start_date": ("Start Date", "First Payment Date", "First Installment", "Plan Start", "Start"),
        "installment": ("Installment", "Installment Amount", "Payment Amount", "Monthly Payment", "Amount"),
        "every_days": ("Every Days", "Frequency Days", "Interval Days", "Days Between Payments"),
        "end_date": ("End Date", "Plan End", "Cancelled Date", "Paid Off Date", "End"),
    },
    "payments": {
        "payment_id": ("Payment ID", "EOB ID", "ERA ID", "Check ID", "Remittance ID"),
        "payer_name": ("Payer", "Payer Name", "Insurance", "Insurance Name", "Insurance Payer Name", "Carrier"),
        "payer_ref": ("Payer ID", "Insurance Payer ID", "Payer Code"),
        "method": ("Payment Method", "Method", "Payment Type"),
        "amount": ("Total Paid", "Amount", "Payment Amount", "Check Amount", "EFT Amount", "Paid"),
        "payment_date": ("Check Date", "Payment Date", "EFT Date", "Check/EFT Date", "Date"),
        "trace_number": ("Check #", "Check Number", "EFT #", "EFT Number", "Trace", "Trace Number",
                         "Insurance Payer Trace Number", "Check/EFT #", "Reference"),
    },
    "notes": {
        "claim_id": _CLAIM,
        "note_date": ("Date", "Note Date", "Call Date", "Contact Date", "Touch Date", "Date of Call", "Entered"),
        "author": ("Author", "By", "Specialist", "User", "Entered By", "Collector", "Rep"),
        "channel": ("Channel", "Contact Type", "Contact Method", "Method", "Via", "Type"),
        "payer_reference": ("Reference #", "Reference", "Ref #", "Call Reference", "Call Ref #",
                            "Reference Number", "Confirmation #", "Case #"),  # "Ticket #" is a claim's (_CLAIM)
        "outcome": ("Outcome", "Note", "Notes", "Comment", "Comments", "Result", "Details"),
        "next_followup": ("Next Follow-up", "Next Follow Up", "Next Followup", "Follow-up Date", "Follow Up Date",
                          "Followup Date", "Tickler", "Tickler Date", "Next Date", "Next Action Date", "Recall Date"),
    },
    "deposits": {
        "deposit_id": ("Bank Reference", "Bank Ref", "Transaction ID", "Reference", "Reference #", "Ref #"),
        "deposit_date": ("Posting Date", "Date", "Transaction Date", "Effective Date", "Post Date", "Deposit Date"),
        "amount": ("Amount", "Deposit Amount", "Transaction Amount"),
        "credit": ("Credit", "Credits", "Credit Amount", "Deposits"),
        "debit": ("Debit", "Debits", "Debit Amount", "Withdrawals"),
        "trace_number": ("Trace", "Trace Number", "Trace #", "TRN", "Check or Slip #", "Check #", "Check Number"),
        "description": ("Description", "Memo", "Details", "Transaction Description", "Narrative"),
    },
}
"""For each table, the headers accepted for each column besides its canonical name, best first."""

EXTRA_COLUMNS = {"claims": ("contractual", "procedure_code", "modifiers", "units", "line_no"),
                 "deposits": ("credit", "debit")}
"""Columns a reader accepts only to derive canonical ones (claims: the service-line columns of a line-level
export; deposits: separate credit and debit amounts)."""


def normalize_header(header: object) -> str:
    """`'Claim #'` -> `'claim no'`, `'TotalCharges'` -> `'total charges'`, `'service_date'` -> `'service date'`."""
    text = str(header).strip()
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)  # camelCase: TotalCharges, PatientID
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", " ", text)  # an acronym before a word: EOBDate
    text = text.lower().replace("#", " # ").replace("_", " ")
    out: list[str] = []
    for word in re.findall(r"[a-z0-9]+|#", text):
        out.extend(_WORDS.get(word, word).split())
    return " ".join(out)


def header_key(header: object) -> str:
    """What two headers share when they mean the same: the normalised words in alphabetical order, without
    spaces (`CLAIMID`, `Claim ID` and `claim_id` all give `claimid`; `balance_total` is `Total Balance`)."""
    return "".join(sorted(normalize_header(header).split()))


def columns_of(table: str) -> tuple[str, ...]:
    """The columns a header of `table` can name: the canonical ones and those kept to derive them."""
    return (*tables.TABLES[table].column_names, *EXTRA_COLUMNS.get(table, ()))


@cache
def _lookup(table: str) -> dict[str, tuple[str, int]]:
    """header key -> (column, rank); rank 0 is the canonical name, then the synonyms in their order."""
    lookup: dict[str, tuple[str, int]] = {}
    for column in columns_of(table):
        lookup[header_key(column)] = (column, 0)
    for column, names in SYNONYMS.get(table, {}).items():
        for rank, name in enumerate(names, start=1):
            lookup.setdefault(header_key(name), (column, rank))
    return lookup


def known_column(table: str, header: object) -> str | None:
    """The column `header` means in `table` by its name alone, if any."""
    found = _lookup(table).get(header_key(header))
    return found[0] if found else None


def spellings(table: str, column: str) -> tuple[str, ...]:
    """Every header accepted for a column, canonical name first (for messages)."""
    return (column, *SYNONYMS.get(table, {}).get(column, ()))


DATE_FORMATS = tuple(tables.DATE_ORDERS)
"""The date formats a column map may name for a file."""


@dataclass(frozen=True)
class ColumnMap:
    """A practice's own reading of one export file (practice.json `files`, the Columns sheet, or a profile)."""

    table: str | None = None
    """The canonical table the file holds (else: the file's name says, or a recognised layout)."""
    columns: dict[str, str] = field(default_factory=dict)
    """Header as written in the file -> canonical column; an empty column ignores the header."""
    constants: dict[str, str] = field(default_factory=dict)
    """Canonical column -> the value of every row ("every row's payer is Self Pay")."""
    date_format: str | None = None
    """The file's order of slashed dates (`MM/DD/YYYY` or `DD/MM/YYYY`) when its dates do not settle it."""
    profile: str | None = None
    """The known layout to read the file as (`xl_ar.profiles`), instead of recognising it by its headers."""

    def __bool__(self) -> bool:
        return bool(self.table or self.columns or self.constants or self.date_format or self.profile)


@dataclass(frozen=True)
class Mapping:
    """Which column each header of a file means, and what the reading said about it."""

    columns: dict[object, str]
    """Header (as in the file) -> canonical column, for every header used."""
    unused: tuple[object, ...] = ()
    """Headers read but not used (no column of the table, or the weaker of two for one column)."""
    clashes: tuple[tuple[object, object, str], ...] = ()
    """(used header, unused header, column) where two headers meant one column."""
    unknown_targets: tuple[tuple[str, str], ...] = ()
    """(header, column) pairs of the column map naming a column the table does not have."""
    absent: tuple[str, ...] = ()
    """Headers the column map names that the file does not have."""


def map_headers(table: str, headers: list[object], column_map: ColumnMap | None = None) -> Mapping:
    """Which canonical column each header means: the column map first, then the name (best match wins)."""
    column_map = column_map or ColumnMap()
    lookup = _lookup(table)
    allowed = set(columns_of(table))
    by_key = {header_key(h): h for h in headers}
    explicit: dict[object, str] = {}
    ignored: set[object] = set()
    unknown_targets, absent = [], []
    for written, column in column_map.columns.items():
        header = written if written in headers else by_key.get(header_key(written))
        if header is None:
            absent.append(written)
            continue
        target = str(column or "").strip()
        if not target:
            ignored.add(header)
        elif target not in allowed:
            unknown_targets.append((str(written), target))
        else:
            explicit[header] = target
    best: dict[str, tuple[int, object]] = {}
    clashes: list[tuple[object, object, str]] = []
    unused: list[object] = []
    for order, h in enumerate(headers):
        if h in ignored:
            unused.append(h)
            continue
        if h in explicit:
            column, rank = explicit[h], -1  # the practice's own map beats every name
        else:
            found = lookup.get(header_key(h))
            if found is None:
                unused.append(h)
                continue
            column, rank = found
        if column in column_map.constants:
            unused.append(h)  # the constant is the practice's word for every row
            continue
        if column in best:
            (old_rank, old_order), old = best[column], headers[best[column][1]]
            if (rank, order) < (old_rank, old_order):
                clashes.append((h, old, column))
                unused.append(old)
                best[column] = (rank, order)
            else:
                clashes.append((old, h, column))
                unused.append(h)
            continue
        best[column] = (rank, order)
    columns = {headers[order]: column for column, (_, order) in sorted(best.items(), key=lambda kv: kv[1][1])}
    unused_in_order = tuple(h for h in headers if h in set(unused) and h not in columns)
    return Mapping(columns, unused_in_order, tuple(clashes), tuple(unknown_targets), tuple(absent))


MAP_HEADERS = ("sheet", "header", "column", "value")
"""The header row of a workbook's Columns sheet: which sheet, which of its headers, the column it is, or a value
for every row of that sheet."""


def maps_from_rows(rows: list[list[object]], source: str, table_of: dict[str, str]
                   ) -> tuple[dict[str, ColumnMap], list[Finding]]:
    """Column maps by table from the rows of a Columns sheet (its header row first); `table_of` gives the table
    of each sheet name. A row that cannot be used is a finding naming its row."""
    findings: list[Finding] = []
    if not rows:
        return {}, findings
    head = [str(h or "").strip().lower() for h in rows[0]]
    if head[:4] != list(MAP_HEADERS):
        return {}, [Finding("error", source, Location(row=1), "the header row must be sheet, header, column, value",
                            "bad column map")]
    names = {k.lower(): v for k, v in table_of.items()} | {v: v for v in table_of.values()}
    found: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    for number, row in enumerate(rows[1:], start=2):
        sheet, header, column, value = ([*row, None, None, None, None][:4])
        text = [("" if v is None else str(v)).strip() for v in (sheet, header, column, value)]
        if not any(text):
            continue
        table = names.get(text[0].lower())
        if table is None:
            findings.append(Finding("error", source, Location(row=number, column="sheet"), f"'{text[0]}' is not a "
                                    f"data sheet; the sheets are {', '.join(table_of)}", "bad column map"))
            continue
        if text[2] and text[2] not in columns_of(table):
            findings.append(Finding("error", source, Location(row=number, column="column"), f"'{text[2]}' is not a "
                                    f"column of {table}; its columns are {', '.join(columns_of(table))}",
                                    "bad column map"))
            continue
        own, constants = found.setdefault(table, ({}, {}))
        if text[1]:
            own[text[1]] = text[2]
        elif text[2]:
            constants[text[2]] = text[3]
        else:
            findings.append(Finding("error", source, Location(row=number), "give a header (and its column), or a "
                                    "column and its value", "bad column map"))
    return {t: ColumnMap(t, own, constants) for t, (own, constants) in found.items()}, findings
