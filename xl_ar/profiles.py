"""Known export layouts: recognised by their header row, read without a column map, or refused with the reason.

A profile names the system and export a file comes from, the column its headers mean where the general names
(`xl_ar.columns`) are not enough, and what the layout needs before reading: a column printed only on a
group's first row filled down, report subtotal rows left out, a payer value meaning "none". A layout that
lacks what xl-ar needs (money not tied to claims, balances already aged) is refused with one message that
says what it lacks and which export to use instead. The header rows are the published ones
(tests/corpus/exports/SOURCES.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar import columns
from xl_ar.columns import ColumnMap
from xl_ar.findings import NOWHERE, Finding
from xl_ar.money import parse_cents


@dataclass(frozen=True)
class Profile:
    """One known export layout."""

    key: str
    """Short name, for practice.json's `profile`."""
    name: str
    """What people call it: the system and the export."""
    table: str | None
    """The canonical table it holds; None for a layout xl-ar cannot use."""
    signature: tuple[str, ...]
    """Headers that together identify it (compared as `columns.header_key`)."""
    columns: dict[str, str] = field(default_factory=dict)
    """Headers the general names would miss or misread (an empty column leaves a header out)."""
    constants: dict[str, str] = field(default_factory=dict)
    fill_down: tuple[str, ...] = ()
    """Headers printed only on the first row of a group (a report's grouping column)."""
    subtotals: bool = False
    """The file is a printed report with `Total for ...` and `Grand Total` rows to leave out."""
    no_payer: tuple[str, ...] = ()
    """Payer values that mean the claim has no payer (self-pay)."""
    lacks: str = ""
    """For a refused layout: what xl-ar needs that it does not carry."""
    instead: str = ""
    """For a refused layout: the export to use instead."""
    joins: str = ""
    """The key of the profile of a second file read together with this one (Synthea's transactions)."""

    def column_map(self, own: ColumnMap | None = None) -> ColumnMap:
        """The profile's reading, with the practice's own map (`own`) winning header by header."""
        own = own or ColumnMap()
        return ColumnMap(own.table or self.table, {**self.columns, **own.columns}, {**self.constants, **own.constants},
                         own.date_format, self.key)


PROFILES: tuple[Profile, ...] = (
    Profile("openemr-collections", "OpenEMR collections report", "claims",
            ("Insurance", "Name", "Pubpid", "Invoice", "DOS", "Charge", "Adjust", "Paid", "Balance", "Aging Days"),
            {"Policy": "member_id", "Aging Days": ""}),
    Profile("openemr-receipts", "OpenEMR receipts summary (by payer, with details)", "postings",
            ("Method", "Reference", "Date", "Invoice", "Patient", "Policy", "DOS", "Procedure", "Adjustments",
             "Payments"),
            {"Method": "payer_id", "Date": "posted_date", "Payments": "amount", "Reference": "trace_number",
             "Procedure": "", "Adjustments": "", "Patient": "", "DOS": ""},
            fill_down=("Method",), subtotals=True),
    Profile("kareo-charges", "Kareo/Tebra charges (GetCharges)", "claims",
            ("AdjustedCharges", "EncounterID", "EncounterProcedureID", "ProcedureCode", "TotalCharges", "Receipts",
             "TotalBalance"),
            {"PrimaryInsuranceCompanyName": "payer_id", "ServiceStartDate": "service_date",
             "PrimaryInsuranceFirstBillDate": "billed_date", "LastModifiedDate": "last_activity_date",
             "ProcedureModifier1": "modifiers", "ID": ""}),
    Profile("kareo-payments", "Kareo/Tebra payments (GetPayments)", None,
            ("AdjudicationDate", "Applied", "PayerName", "PaymentMethod", "PostDate", "ReferenceNumber", "Unapplied"),
            lacks="a claim or encounter: each row is a whole payment (a check, an EFT or a patient receipt) with its "
                  "applied and unapplied totals, and nothing ties its money to claims",
            instead="the Kareo/Tebra charges export (GetCharges), which has the payments, adjustments and balance of "
                    "every charge; for the insurers' side, their 835 ERA files"),
    Profile("kareo-transactions", "Kareo/Tebra transactions (GetTransactions)", None,
            ("Amount", "Description", "InsuranceCompanyName", "PatientID", "PostingDate", "ProcedureCode",
             "ServiceDate", "TransactionDate", "Type"),
            lacks="a claim or encounter id: each transaction names a patient, a service date and a procedure code "
                  "but no encounter, so its money cannot be tied to a claim",
            instead="the Kareo/Tebra charges export (GetCharges), which carries the EncounterID and the money of "
                    "every charge"),
    Profile("drchrono-line-items", "DrChrono line items", "claims",
            ("appointment", "balance_ins", "balance_pt", "balance_total", "billed", "code", "paid_total",
             "service_date"),
            {"appointment": "claim_id", "patient": "account_id", "billed": "charge", "paid_total": "paid",
             "adjustment": "adjusted", "balance_total": "balance", "balance_ins": "insurance_balance",
             "balance_pt": "patient_balance", "billing_status": "status",
             "updated_at": "last_activity_date", "code": "procedure_code", "quantity": "units", "units": "",
             "price": "", "id": "", "doctor": ""},
            {"payer_id": ""}),  # line items name no insurer: self-pay unless the practice maps one
    Profile("drchrono-transactions", "DrChrono transactions", "postings",
            ("ins_paid", "line_item", "appointment", "trace_number", "adjustment_group_code", "posted_date"),
            {"id": "posting_id", "appointment": "claim_id", "insurance.name": "payer_id", "ins_paid": "amount",
             "ins_name": "", "line_item": "", "patient": "", "doctor": ""}),
    Profile("drchrono-eobs", "DrChrono EOBs", "payments",
            ("insurance_payer_name", "insurance_payer_trace_number", "total_paid", "check_date", "scanned_eob"),
            {"id": "payment_id", "insurance_payer_id": "payer_ref", "payment_method": "method",
             "posted_date": "", "deposit_date": "", "updated_at": "", "doctor": "", "scanned_eob": ""}),
    Profile("synthea-claims", "Synthea claims.csv + claims_transactions.csv", "claims",
            ("Id", "PATIENTID", "PRIMARYPATIENTINSURANCEID", "SERVICEDATE", "OUTSTANDING1", "OUTSTANDINGP",
             "LASTBILLEDDATE1"),
            {"Id": "claim_id", "PATIENTID": "account_id", "PRIMARYPATIENTINSURANCEID": "payer_id",
             "SERVICEDATE": "service_date", "LASTBILLEDDATE1": "billed_date", "DIAGNOSIS1": "diagnosis_codes",
             "STATUS1": "status", "OUTSTANDING1": "", "OUTSTANDING2": "", "OUTSTANDINGP": ""},
            no_payer=("0",), joins="synthea-transactions"),
    Profile("synthea-transactions", "Synthea claims_transactions.csv", None,
            ("CLAIMID", "CHARGEID", "TYPE", "AMOUNT", "PAYMENTS", "ADJUSTMENTS", "TRANSFERS", "OUTSTANDING"),
            lacks="the claims themselves: it is every money event of Synthea's claims, read together with its "
                  "claims.csv",
            instead="Synthea's claims.csv in the same folder (xl-ar joins the two)"),
    Profile("chase-checking", "Chase checking CSV", "deposits",
            ("Details", "Posting Date", "Description", "Amount", "Type", "Balance", "Check or Slip #"),
            {"Details": "", "Type": "", "Balance": "", "Check or Slip #": ""}),
    Profile("bofa-checking", "Bank of America checking CSV", "deposits",
            ("Date", "Description", "Amount", "Running Bal."), {"Running Bal.": ""}),
    Profile("cms-synpuf-carrier", "CMS DE-SynPUF carrier claims", None,
            ("DESYNPUF_ID", "CLM_ID", "CLM_FROM_DT", "CLM_THRU_DT", "HCPCS_CD_1", "LINE_NCH_PMT_AMT_1"),
            lacks="charges and balances: a Medicare carrier claims file has, per line, only Medicare's payment, the "
                  "deductible, the coinsurance and the allowed amount, not what the practice billed, adjusted or "
                  "still has open",
            instead="the practice's own claims (A/R) export from its PM system, with Medicare's 835 ERA files for "
                    "the payments"),
    Profile("aged-analysis", "pre-aged A/R report (one row per guarantor)", None,
            ("Guarantor", "0-30 Days", "31-60 Days", "61-90 Days", "Total"),
            lacks="claims: each row is a guarantor with the balance already aged into buckets, with no claim id, "
                  "service date, payer or charges, so it can be neither aged again nor reconciled",
            instead="the PM system's open-claims (A/R ledger) export, one row per claim or service line"),
)
"""Every known layout."""

BY_KEY = {p.key: p for p in PROFILES}


def recognize(headers: list[object]) -> Profile | None:
    """The known layout whose identifying headers the file has (the most specific one when several fit)."""
    keys = {columns.header_key(h) for h in headers}
    fits = [p for p in PROFILES if all(columns.header_key(s) in keys for s in p.signature)]
    return max(fits, key=lambda p: len(p.signature), default=None)


def refusal(profile: Profile, file: str) -> Finding:
    """The one message for a layout xl-ar cannot use."""
    return Finding("error", file, NOWHERE, f"this is {profile.name}, which xl-ar cannot use: it lacks "
                   f"{profile.lacks}. Use {profile.instead}.", "unusable layout")


def prepare(profile: Profile, frame: pd.DataFrame, file: str, partner: pd.DataFrame | None = None
            ) -> tuple[pd.DataFrame, pd.DataFrame | None, list[Finding]]:
    """The raw cells as the profile reads them: subtotal rows out, grouping columns filled down, "no payer"
    values emptied, Synthea's money joined in. Returns the frame, service lines when the layout gives them
    apart (Synthea's CHARGE transactions), and what was done."""
    findings: list[Finding] = []
    out = frame
    by_key = {columns.header_key(h): h for h in out.columns}
    if profile.subtotals:
        first = out[out.columns[0]].astype(str).str.strip().str.lower()
        total = first.str.startswith("total for ") | first.isin(["total", "grand total", "totals"])
        if total.any():
            out = out[~total.to_numpy()]
            findings.append(Finding("warning", file, NOWHERE, f"{int(total.sum())} subtotal rows of the report "
                                    "(Total for ..., Grand Total) left out", "subtotal rows"))
    for header in profile.fill_down:
        name = by_key.get(columns.header_key(header))
        if name is not None:
            values = out[name].astype("string")
            out = out.assign(**{name: values.mask(values.str.strip() == "").ffill().astype(object)})
    for header, column in profile.columns.items():
        if column == "payer_id" and profile.no_payer and columns.header_key(header) in by_key:
            name = by_key[columns.header_key(header)]
            out = out.assign(**{name: out[name].where(~out[name].astype(str).str.strip().isin(profile.no_payer), "")})
    lines = None
    if profile.key == "synthea-claims":
        out, lines, more = _synthea(out, partner, file)
        findings += more
    return out, lines, findings


def _dollars(cents: pd.Series) -> pd.Series:
    """Integer cents as exact dollar text (`-12.05`), for a column the reader then reads as money."""
    values = cents.fillna(0).astype("int64")
    whole = values.abs()
    sign = pd.Series(np.where(values < 0, "-", ""), index=values.index)
    return sign + (whole // 100).astype(str) + "." + (whole % 100).astype(str).str.zfill(2)


def _synthea(claims: pd.DataFrame, transactions: pd.DataFrame | None, file: str
             ) -> tuple[pd.DataFrame, pd.DataFrame | None, list[Finding]]:
    """Synthea's claims with their money from claims_transactions.csv: charge = the CHARGE rows' AMOUNT,
    paid = the PAYMENT rows' PAYMENTS, adjusted = the ADJUSTMENT rows' ADJUSTMENTS, balance = charge - paid -
    adjusted (transfers between payers move the balance, not its size). The CHARGE rows are the service lines."""
    if transactions is None:
        return claims, None, [Finding("error", file, NOWHERE, "Synthea's claims.csv carries no money of its own: "
                                      "put its claims_transactions.csv in the same folder", "missing file")]
    t = transactions
    kind = t["TYPE"].astype(str).str.strip().str.upper()
    claim = t["CLAIMID"].astype(str).str.strip()
    findings: list[Finding] = []
    sums = {}
    for column, (event, amount) in {"charge": ("CHARGE", "AMOUNT"), "paid": ("PAYMENT", "PAYMENTS"),
                                    "adjusted": ("ADJUSTMENT", "ADJUSTMENTS")}.items():
        cents, bad = parse_cents(t[amount].where(kind == event, ""))
        if bad.any():
            findings.append(Finding("error", "claims_transactions", NOWHERE, f"{int(bad.sum())} {event} rows have a "
                                    f"{amount} that is not an amount", "bad value"))
        sums[column] = cents.fillna(0).astype("int64").groupby(claim).sum()
    ids = claims[claims.columns[0]].astype(str).str.strip()
    out = claims.copy()
    money = {c: ids.map(s).fillna(0).astype("int64") for c, s in sums.items()}
    money["balance"] = money["charge"] - money["paid"] - money["adjusted"]
    for column, cents in money.items():
        out[column] = _dollars(cents).to_numpy()
    orphans = ~claim.isin(set(ids))
    if orphans.any():
        findings.append(Finding("warning", "claims_transactions", NOWHERE, f"{int(orphans.sum())} transactions name "
                                "a claim that is not in claims.csv; they are left out", "unknown claim"))
    charge = t[(kind == "CHARGE") & ~orphans]
    lines = pd.DataFrame({"claim_id": charge["CLAIMID"], "procedure_code": charge["PROCEDURECODE"],
                          "modifiers": charge.get("MODIFIER1", ""), "units": charge.get("UNITS", "1"),
                          "charge": charge["AMOUNT"], "service_date": charge["FROMDATE"]})
    lines["line_no"] = (lines.groupby("claim_id").cumcount() + 1).astype(str)
    return out, lines, findings
