"""Importing remittances: 835 files -> canonical tables in the store, once and only once.

A payment is identified by its payer, trace number (TRN02) and amount (BPR02): the payment key
of `xl_ar.keys`, which the store declares unique. A payment the store already holds (from an
earlier run, an earlier file of this run or earlier in the same file) is a duplicate: the store
refuses it, it is kept aside and reported, so an ERA the payer or clearinghouse sends twice is
never posted twice. A file whose bytes were imported before (same SHA-256, also unique in the
store) is "already imported". Each file is written in one transaction (all of its new payments or
none). Reversals (CLP02=22) and their corrections are kept as they are and linked by
`link_reversals`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xl_ar import tables
from xl_ar.errors import InputError
from xl_ar.findings import NOWHERE, Finding
from xl_ar.keys import payment_key_columns
from xl_ar.sources import SourceFile
from xl_ar.x12.era import Remittance, read_835, read_835_columns

if TYPE_CHECKING:
    from xl_ar.store import Store

__all__ = ["FileResult", "ImportReport", "assign_payers", "duplicate_payments", "import_files", "link_reversals",
           "original_payments", "read_file", "read_remittances", "without_payments"]


def without_payments(remittance_tables: dict[str, pd.DataFrame], drop: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The tables with every row of the given payments removed."""
    drop = set(drop)
    if not drop:  # the usual case: nothing to take out, nothing to copy
        return dict(remittance_tables)
    return {name: frame[~frame.payment_id.isin(drop)] for name, frame in remittance_tables.items()}


def assign_payers(payments: pd.DataFrame, payers: pd.DataFrame | None) -> pd.DataFrame:
    """Fill `payer_id` from the practice's payer list: by `payer_ref` (the payer's id on its 835s),
    else by the payer name, ignoring case. Payments of unknown payers keep an empty payer_id."""
    if payers is None or payers.empty or payments.empty:
        return payments
    by_ref = dict(zip(payers.payer_ref.dropna(), payers.payer_id[payers.payer_ref.notna()], strict=True))
    by_name = dict(zip(payers.name.str.upper(), payers.payer_id, strict=True))
    found = payments.payer_ref.map(by_ref).fillna(payments.payer_name.str.upper().map(by_name))
    out = payments.copy()
    out["payer_id"] = payments.payer_id.fillna(found).astype("str")
    return out


def link_reversals(claim_payments: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """Each reversal (CLP02=22) with the payment it reverses and the correction that replaces it.

    The original is the latest earlier non-reversal CLP of the same claim; the correction the first
    non-reversal CLP of the claim on or after the reversal (same payment or later). Columns:
    claim_id, original_payment_id, reversal_payment_id, correction_payment_id (empty when not yet
    received), and the paid amounts of the three.
    """
    cols = ["claim_id", "original_payment_id", "original_paid", "reversal_payment_id", "reversal_paid",
            "correction_payment_id", "correction_paid"]
    if claim_payments.empty:
        return pd.DataFrame(columns=cols)
    dated = claim_payments if "payment_date" in claim_payments else claim_payments.merge(
        payments[["payment_id", "payment_date"]], on="payment_id", how="left")
    dated = dated[dated.claim_id.isin(dated.claim_id[dated.status_code == "22"])]
    dated = dated.sort_values(["claim_id", "payment_date", "payment_id", "claim_seq"], kind="stable")
    dated = dated.reset_index(drop=True)
    if dated.empty:
        return pd.DataFrame(columns=cols)
    # for every row: the last non-reversal loop before it and the first one after it, same claim
    position = pd.Series(np.where(dated.status_code != "22", np.arange(len(dated)), np.nan))
    by_claim = position.groupby(dated.claim_id.to_numpy())
    before = by_claim.shift(1).groupby(dated.claim_id.to_numpy()).ffill().to_numpy()
    after = by_claim.shift(-1).groupby(dated.claim_id.to_numpy()).bfill().to_numpy()
    rev = np.flatnonzero(dated.status_code.to_numpy() == "22")

    def pick(index: np.ndarray, column: str) -> list:
        values = dated[column].to_numpy(dtype=object)
        return [values[int(i)] if i == i else None for i in index]

    return pd.DataFrame({
        "claim_id": dated.claim_id.to_numpy()[rev],
        "original_payment_id": pick(before[rev], "payment_id"), "original_paid": pick(before[rev], "paid"),
        "reversal_payment_id": dated.payment_id.to_numpy()[rev], "reversal_paid": dated.paid.to_numpy()[rev],
        "correction_payment_id": pick(after[rev], "payment_id"), "correction_paid": pick(after[rev], "paid"),
    }, columns=cols)


@dataclass
class FileResult:
    """What happened to one file."""

    name: str
    status: str
    """imported; duplicate (every payment already imported from another file: a re-sent ERA);
    already imported (this very file was imported before); rejected (unreadable); empty (no payment)."""
    payments: int = 0
    duplicates: list[str] = field(default_factory=list)
    """Trace numbers of the payments skipped as already imported."""
    findings: list[Finding] = field(default_factory=list)


@dataclass
class ImportReport:
    """The outcome of an import: one `FileResult` per file, plus files that were not X12 at all."""

    files: list[FileResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reversals: int = 0

    @property
    def payments(self) -> int:
        return sum(f.payments for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(len(f.duplicates) for f in self.files)

    @property
    def findings(self) -> list[Finding]:
        return [x for f in self.files for x in f.findings]

    def summary(self) -> str:
        rejected = sum(f.status == "rejected" for f in self.files)
        errors = sum(x.severity == "error" for x in self.findings)
        warnings = sum(x.severity == "warning" for x in self.findings)
        parts = [f"{len(self.files)} files read", f"{self.payments} payments imported",
                 f"{self.duplicates} duplicates skipped"]
        if self.reversals:
            parts.append(f"{self.reversals} reversals (CLP02=22) kept")
        if rejected:
            parts.append(f"{rejected} files rejected")
        if self.skipped:
            parts.append(f"{len(self.skipped)} non-X12 files ignored")
        parts.append(f"{errors} errors and {warnings} warnings in the files")
        return "; ".join(parts) + "."


def read_file(file: SourceFile) -> Remittance:
    """One source file read as an 835 (raises `X12Error` when it is not readable at all)."""
    return read_835(file.data, file.name)


def import_files(files: list[SourceFile], store: Store, payers: pd.DataFrame | None = None,
                 progress: Callable[[int, int | None], None] | None = None) -> ImportReport:
    """Import the files into the store: new payments written per file, duplicates kept aside.

    Each file is one transaction. Its import record is inserted first: when the store refuses it
    (the file's SHA-256 is recorded already) the file is "already imported" and nothing is
    written. Otherwise each payment is offered to the store, which refuses one it holds already
    (`Store.insert_payments`, the unique payment key); the claim, line and adjustment rows of the
    payments it stored follow in bulk.
    """
    report = ImportReport()
    for i, file in enumerate(files, start=1):
        if progress:
            progress(i, len(files))
        try:
            remittance = read_file(file)
        except InputError as e:
            report.files.append(FileResult(file.name, "rejected", findings=[
                Finding("error", file.name, NOWHERE, e.reason, "unreadable")]))
            continue
        sha = hashlib.sha256(file.data).hexdigest()
        result = FileResult(file.name, "imported", findings=list(remittance.findings))
        tabs = remittance.tables
        payments = tabs["payments"] = assign_payers(tabs["payments"], payers)
        with store.transaction():
            import_id = store.record_import(file.name, sha, findings=len(result.findings))
            if import_id is None:  # the very same file again: nothing new, nothing to report as resent
                repeated = store.stored_payments(payments)  # for the report only
            else:
                repeated = ~store.insert_payments(payments, import_id)
                new = without_payments(tabs, payments.payment_id[repeated])
                for name in tables.REMITTANCE_TABLES:
                    if name != "payments":
                        store.insert_table(name, new[name], import_id)
                store.count_import(import_id, int((~repeated).sum()), int(repeated.sum()))
        result.duplicates = payment_key_columns(payments[repeated]).trace_key.tolist() if repeated.any() else []
        result.payments = int((~repeated).sum())
        if import_id is None:
            result.status = "already imported"
        else:
            if result.payments == 0:
                result.status = "duplicate" if repeated.any() else "empty"
            report.reversals += int((new["claim_payments"].status_code == "22").sum())
        report.files.append(result)
    store.audit("import", files=len(files), payments=report.payments, duplicates=report.duplicates,
                rejected=sum(f.status == "rejected" for f in report.files))
    return report


def original_payments(payments: pd.DataFrame) -> pd.Series:
    """For each payment (aligned with `payments`), the index label of the payment it repeats (same
    payer, trace, amount), missing for an original: the earliest by payment date, then file name,
    then id, is the original."""
    ordered = payments.sort_values(["payment_date", "source_file", "payment_id"], kind="stable", na_position="last")
    keys = payment_key_columns(ordered)
    first = pd.Series(ordered.index, index=ordered.index).groupby(
        [keys[c].to_numpy() for c in keys.columns], sort=False).transform("first")
    return first.where(first != ordered.index).reindex(payments.index)


def duplicate_payments(payments: pd.DataFrame) -> np.ndarray:
    """Mask (aligned with `payments`) of the payments that repeat an earlier one (`original_payments`)."""
    return original_payments(payments).notna().to_numpy()


def read_remittances(files: Iterable[SourceFile], progress: Callable[[int, int | None], None] | None = None,
                     ) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Every file read into one set of remittance tables (nothing deduplicated), with all findings.

    A file that cannot be read at all adds one error finding and contributes no rows. The columns
    of all files are joined first and each table is built once.
    """
    files = list(files)
    parts: dict[str, list[dict]] = {name: [] for name in tables.REMITTANCE_TABLES}
    findings: list[Finding] = []
    for i, file in enumerate(files, start=1):
        if progress:
            progress(i, len(files))
        try:
            columns, found = read_835_columns(file.data, file.name)
        except InputError as e:
            findings.append(Finding("error", file.name, NOWHERE, e.reason, "unreadable"))
            continue
        findings += found
        for name, data in columns.items():
            if len(next(iter(data.values()), ())):
                parts[name].append(data)
    merged = {name: tables.from_columns(name, _join(chunks)) if chunks else tables.empty(name)
              for name, chunks in parts.items()}
    return merged, findings


def _join(chunks: list[dict]) -> dict:
    """The column arrays of several files, one after the other."""
    out = {}
    for column in chunks[0]:
        arrays = [c[column] for c in chunks]
        first = arrays[0]
        if isinstance(first, np.ndarray):
            out[column] = np.concatenate(arrays)
        elif isinstance(first, pd.api.extensions.ExtensionArray):
            out[column] = type(first)._concat_same_type(arrays)
        else:
            out[column] = [v for a in arrays for v in a]
    return out
