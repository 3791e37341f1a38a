"""Collections: which patient accounts go to the collection agency, the placement file, what the agency
collected posted back, and bad debt reported apart from contractual adjustments (docs/collections.md).

An account is placed as of a date when all hold (`Policy`):
- its final notice (`statements`, notice `final`) went out at least `collection_days` before;
- its patient balance (the positive patient parts of its claims, `balances.open_parts`) is at least
  `collection_minimum_cents`;
- it has no active payment plan (`payment_plans` without an end date, or ending after the as-of date);
- it is not placed already (`placements`);
- the patient paid nothing since the final notice (postings of the self-pay payer after its date).

The balance placed is written off as bad debt on placement; what the agency collects later comes back
(`agency_payments`), so bad debt = placed - recovered. Contractual adjustments (CO on the remittances)
are never bad debt (MGMA keeps them apart).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import numpy as np
import pandas as pd

from xl_ar import balances, tables
from xl_ar.findings import Finding, Location
from xl_ar.money import cents_text
from xl_ar.policy import Policy
from xl_ar.statements import self_pay_ids

AGENCY_HEADERS = {"account": "account_id", "date": "payment_date", "amount": "amount", "fee": "fee",
                  "reference": "reference"}
"""The agency's payment file: its headers and the `agency_payments` column each is."""

PLACEMENT_COLUMNS = ("placement_number", "account", "patient_name", "address", "date_of_birth", "balance_placed",
                     "service_from", "service_to", "first_statement", "final_notice")
"""The columns of the placement file sent to the agency (PHI by nature)."""


def _dates(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values.to_numpy()).to_numpy(dtype="datetime64[us]")


def patient_balances(claims: pd.DataFrame) -> pd.Series:
    """Per account: the sum of its claims' positive patient parts (cents), accounts with one only."""
    parts = balances.open_parts(claims)
    owed = parts[(parts.responsibility == "patient").to_numpy(dtype=bool) & (parts.amount > 0).to_numpy()]
    account = claims.account_id.to_numpy(dtype=object)[owed.row.to_numpy()]
    return owed.amount.groupby(account).sum().astype("int64")


def to_place(claims: pd.DataFrame, statements: pd.DataFrame, payment_plans: pd.DataFrame | None,
             placements: pd.DataFrame, postings: pd.DataFrame, payers: pd.DataFrame | None, policy: Policy,
             as_of: dt.date) -> pd.DataFrame:
    """The accounts to place with the agency as of `as_of` (see the module's rules), one row each, by account:
    account_id, balance (cents), service_from, service_to, first_statement, final_notice, patient_name,
    patient_address, date_of_birth (from the account's latest claim)."""
    day = pd.Timestamp(as_of)
    owed = patient_balances(claims)
    owed = owed[owed >= policy.collection_minimum_cents]
    sent = statements.groupby("account_id").statement_date
    first = sent.min()
    final = statements[statements.notice == "final"].groupby("account_id").statement_date.max()
    final = final[final <= day - pd.Timedelta(days=policy.collection_days)]
    accounts = owed.index[owed.index.isin(final.index)]
    if payment_plans is not None and len(payment_plans):
        active = payment_plans.end_date.isna() | (payment_plans.end_date > day)
        accounts = accounts[~accounts.isin(payment_plans.account_id[active])]
    accounts = accounts[~accounts.isin(placements.account_id)]
    account_of = claims.set_index("claim_id").account_id
    paid = postings[postings.payer_id.isin(self_pay_ids(payers)).to_numpy() & (postings.amount > 0).to_numpy()]
    paid_account = paid.claim_id.map(account_of)
    since = paid.posted_date.to_numpy() > _dates(final.reindex(paid_account.to_numpy()))
    accounts = accounts[~accounts.isin(paid_account[since])]
    mine = claims[claims.account_id.isin(accounts)].sort_values(["account_id", "service_date", "claim_id"],
                                                                 kind="stable")
    by = mine.groupby("account_id")
    latest = by.last()
    out = pd.DataFrame({"account_id": pd.array(list(accounts), dtype="str")})
    key = out.account_id.astype(object)
    out["balance"] = owed.reindex(key.to_numpy()).to_numpy(dtype=np.int64)
    out["service_from"] = _dates(by.service_date.min().reindex(key.to_numpy()))
    out["service_to"] = _dates(by.service_date.max().reindex(key.to_numpy()))
    out["first_statement"] = _dates(first.reindex(key.to_numpy()))
    out["final_notice"] = _dates(final.reindex(key.to_numpy()))
    for column in ("patient_name", "patient_address", "date_of_birth"):
        values = latest[column] if column in latest.columns else pd.Series(dtype=object)
        out[column] = values.reindex(key.to_numpy()).to_numpy()
    return out.sort_values("account_id", kind="stable").reset_index(drop=True)


def placements_table(accounts: pd.DataFrame, placed: dt.date, agency: str, batch: str) -> pd.DataFrame:
    """The `placements` rows of the accounts to place (no placement id yet: the store numbers them)."""
    return tables.from_columns("placements", {
        "placement_id": pd.array([None] * len(accounts), dtype="str"),
        "account_id": accounts.account_id.to_numpy(dtype=object),
        "placed_date": np.full(len(accounts), np.datetime64(placed, "us")),
        "agency": np.full(len(accounts), agency, dtype=object),
        "amount": accounts.balance.to_numpy(dtype=np.int64), "batch": np.full(len(accounts), batch, dtype=object)})


def _day(values: pd.Series) -> list[str]:
    return [v.strftime("%m/%d/%Y") if pd.notna(v) else "" for v in pd.to_datetime(values)]


def placement_file(accounts: pd.DataFrame, placement_ids: pd.Series) -> bytes:
    """The CSV for the agency (`PLACEMENT_COLUMNS`): one row per account placed, amounts in dollars, dates
    MM/DD/YYYY. PHI by nature: written only where the user asks, owner-only."""
    frame = pd.DataFrame({
        "placement_number": placement_ids.astype(str).to_numpy(),
        "account": accounts.account_id.astype(object).to_numpy(),
        "patient_name": accounts.patient_name.astype(object).fillna("").to_numpy(),
        "address": accounts.patient_address.astype(object).fillna("").to_numpy(),
        "date_of_birth": _day(accounts.date_of_birth),
        "balance_placed": [f"{c // 100}.{c % 100:02d}" for c in accounts.balance.astype("int64")],
        "service_from": _day(accounts.service_from), "service_to": _day(accounts.service_to),
        "first_statement": _day(accounts.first_statement), "final_notice": _day(accounts.final_notice)})
    return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def read_agency_payments(data: bytes, source: str, placements: pd.DataFrame
                         ) -> tuple[pd.DataFrame, list[Finding]]:
    """The agency's payment file (CSV: account, date, amount, fee, reference) as `agency_payments` rows, with
    a finding per bad cell or row (its row number): a bad amount or date, a fee above the amount, an amount
    not above 0, an account that was never placed. Every row is kept; the caller stores none if any is bad."""
    raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    raw = raw.rename(columns=AGENCY_HEADERS)
    frame, findings = tables.from_frame("agency_payments", raw, source=source)
    rows = np.arange(2, 2 + len(frame))
    checks = (
        ("amount", frame.amount <= 0, "the amount must be above 0"),
        ("fee", frame.fee.fillna(0) > frame.amount, "the fee is above the amount collected"),
        ("account_id", frame.account_id.notna() & ~frame.account_id.isin(placements.account_id),
         "the account was never placed with the agency"),
    )
    found = {(f.where.row, f.where.column) for f in findings}
    for column, bad, why in checks:
        for row in rows[bad.fillna(False).to_numpy(dtype=bool)]:
            if (int(row), column) in found:  # a cell already reported as unreadable
                continue
            findings.append(Finding("error", source, Location(row=int(row), column=column), why, "bad value"))
    return frame, findings


def payment_keys(payments: pd.DataFrame) -> list[str]:
    """What makes two agency payments the same payment: account, date, amount and reference (a payment the
    agency sends again is stored once)."""
    parts = [payments.account_id.astype(object).fillna(""), payments.payment_date.dt.strftime("%Y-%m-%d"),
             payments.amount.astype(str), payments.reference.astype(object).fillna("")]
    return [hashlib.sha256("\x1f".join(map(str, v)).encode()).hexdigest() for v in zip(*parts, strict=True)]


def posting_batch(payments: pd.DataFrame) -> bytes:
    """The posting batch for the PM system: account, date, gross amount, agency fee, net (dollars)."""
    fee = payments.fee.fillna(0).astype("int64")

    frame = pd.DataFrame({"account": payments.account_id.astype(object).to_numpy(),
                          "date": _day(payments.payment_date), "gross_amount": cents_text(payments.amount),
                          "agency_fee": cents_text(fee), "net": cents_text(payments.amount.astype("int64") - fee)})
    return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def small_balances(claims: pd.DataFrame, policy: Policy) -> pd.Series:
    """Per account, a patient balance above 0 and under `small_balance_cents`: listed for a small-balance
    write-off instead of a statement."""
    owed = patient_balances(claims)
    return owed[(owed > 0) & (owed < policy.small_balance_cents)]


def write_offs(claims: pd.DataFrame, adjustments: pd.DataFrame | None, placements: pd.DataFrame,
               agency_payments: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Write-offs by kind, bad debt apart from contractual adjustments (MGMA): one row each of `contractual`
    (CO adjustments on the remittances, else the ledger's adjustments less its write-offs), `bad_debt`
    (placed with the agency less what it recovered), `small_balance` (patient balances under the policy's
    threshold, to write off) and `ledger_write_offs` (the ledger's `written_off`: denials and other write-offs,
    when the export shows them). Columns: kind, label, amount (cents), count. No identifiers."""
    written = claims.written_off.fillna(0).astype("int64") if "written_off" in claims.columns else \
        pd.Series(0, index=claims.index, dtype="int64")
    if adjustments is not None and len(adjustments):
        co = adjustments[adjustments.group_code == "CO"]
        contractual, contractual_n = int(co.amount.sum()), int(co.claim_id.nunique())
    else:
        amount = claims.adjusted.astype("int64") - written
        contractual, contractual_n = int(amount.sum()), int((amount != 0).sum())
    recovered = int(agency_payments.amount.sum()) if len(agency_payments) else 0
    small = small_balances(claims, policy)
    rows = [
        ("contractual", "Contractual adjustments (CO)", contractual, contractual_n),
        ("bad_debt", "Bad debt: placed with the agency less recovered", int(placements.amount.sum()) - recovered,
         int(placements.account_id.nunique())),
        ("small_balance", "Small balances to write off", int(small.sum()), len(small)),
        ("ledger_write_offs", "Write-offs in the ledger (denials and other)", int(written.sum()),
         int((written != 0).sum())),
    ]
    return pd.DataFrame(rows, columns=["kind", "label", "amount", "count"])
