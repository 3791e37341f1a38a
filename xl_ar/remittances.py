"""Importing remittances: 835 files -> canonical tables in the store, once and only once.

A payment is identified by its payer, trace number (TRN02) and amount (BPR02): the payment key
of `xl_ar.keys`, which the store declares unique. A payment the store already holds (from an
earlier run, an earlier file of this run or earlier in the same file) is a duplicate: the store
refuses it, it is kept aside and reported, so an ERA the payer or clearinghouse sends twice is
never posted twice. A file whose bytes were imported before (same SHA-256, also unique in the
store) is "already imported". Each file is written in one transaction (all of its new payments or
none).

Read without the store (`read_remittances`, a practice folder), every copy is kept and each
payment id is unique across the files; `counted_once` is the one way any consumer (reconcile,
reports, rollforward) drops the later copies, so nothing is counted twice whatever the
clearinghouse re-delivers. Reversals (CLP02=22) and their corrections are kept as they are:
`link_reversals` pairs them and `standing_adjudications` gives the adjudication that stands per
claim, both independent of the order of the loops in the files.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xl_ar import tables
from xl_ar.errors import InputError
from xl_ar.findings import NOWHERE, Finding
from xl_ar.keys import payment_key_columns
from xl_ar.sources import SourceFile
from xl_ar.x12.era import Remittance, read_835, read_835_files

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from xl_ar.store import Store

__all__ = ["REVERSAL", "FileResult", "ImportReport", "assign_payers", "counted_once", "duplicate_payments",
           "import_files", "link_reversals", "original_payments", "read_file", "read_remittances",
           "standing_adjudications", "without_payments"]

REVERSAL = "22"
"""CLP02 of a reversal of a previous payment."""


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


def _dated(claim_payments: pd.DataFrame, payments: pd.DataFrame | None) -> pd.DataFrame:
    """The claim loops with their payment's date (kept when present), positions 0..n-1 as index."""
    if "payment_date" in claim_payments:
        return claim_payments.reset_index(drop=True)
    if payments is None:
        raise ValueError("claim payments without payment_date need the payments table")
    dates = payments.drop_duplicates("payment_id").set_index("payment_id").payment_date
    return claim_payments.reset_index(drop=True).assign(
        payment_date=dates.reindex(claim_payments.payment_id.to_numpy()).to_numpy())


_ORDER = ["payment_date", "payment_id", "claim_seq"]
"""The order of adjudications: payment date, then payment id, then the loop's place in its payment."""


def _rank(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`frame` with `_rank`: 0, 1, ... within each group of `keys`, in `_ORDER`."""
    ordered = frame.sort_values([*keys, *_ORDER], kind="stable", na_position="last")
    return ordered.assign(_rank=ordered.groupby(keys, sort=False, dropna=False).cumcount().to_numpy())


def _cancelled_pairs(dated: pd.DataFrame) -> pd.DataFrame:
    """Which loop each reversal cancels: columns `rev` and `orig` (positions in `dated`).

    A reversal (CLP02=22) cancels a non-reversal loop of the same claim whose amounts it negates
    (CLP03 = -charge, CLP04 = -paid), dated no later than itself: one with the same payer claim
    number (CLP07) first, else any; the earliest such loop (`_ORDER`), each loop cancelled once.
    The k-th reversal of a claim and amount (in `_ORDER`) takes the k-th candidate, so the pairs
    do not depend on where the loops are in the files.
    """
    is_rev = dated.status_code.astype(str) == REVERSAL
    involved = dated.claim_id.isin(dated.claim_id[is_rev]).to_numpy()  # only claims with a reversal
    frame = dated[involved]
    frame = frame.assign(_pos=np.flatnonzero(involved), _charge=frame.charge.astype("int64"),
                         _paid=frame.paid.astype("int64"))
    revs = frame[is_rev[involved].to_numpy()].assign(_charge=lambda f: -f._charge, _paid=lambda f: -f._paid)
    cands = frame[~is_rev[involved].to_numpy()]
    found: list[pd.DataFrame] = []
    for keys in (["claim_id", "payer_claim_id", "_charge", "_paid"], ["claim_id", "_charge", "_paid"]):
        done = pd.concat(found) if found else pd.DataFrame({"rev": [], "orig": []})
        r = revs[~revs._pos.isin(done.rev)]
        c = cands[~cands._pos.isin(done.orig)]
        if "payer_claim_id" in keys:
            if "payer_claim_id" not in frame:
                continue
            r, c = r[r.payer_claim_id.notna()], c[c.payer_claim_id.notna()]
        if r.empty or c.empty:
            continue
        pairs = _rank(r, keys)[[*keys, "_rank", "_pos", "payment_date"]].merge(
            _rank(c, keys)[[*keys, "_rank", "_pos", "payment_date"]], on=[*keys, "_rank"], suffixes=("", "_orig"))
        pairs = pairs[~(pairs.payment_date_orig > pairs.payment_date)]  # an original precedes its reversal
        found.append(pd.DataFrame({"rev": pairs._pos.to_numpy(), "orig": pairs._pos_orig.to_numpy()}))
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame({"rev": [], "orig": []}, dtype="int64")


def standing_adjudications(claim_payments: pd.DataFrame, payments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The adjudication that stands for each claim: its latest CLP loop (by payment date, then
    payment id, then loop) that is neither a reversal nor cancelled by one (`link_reversals`' pairing).

    Rows of `claim_payments` (one per claim; a claim whose every loop is reversed has none), with
    `payment_date` (from `payments` when the claim payments lack it). Order-independent: the same
    loops in any order of files, payments or loops give the same rows.
    """
    if claim_payments.empty:
        return claim_payments.iloc[:0]
    dated = _dated(claim_payments, payments)
    pairs = _cancelled_pairs(dated)
    alive = (dated.status_code.astype(str).to_numpy() != REVERSAL) & ~np.isin(np.arange(len(dated)), pairs.orig)
    standing = dated[alive].sort_values(_ORDER, kind="stable", na_position="first")
    standing = standing.drop_duplicates("claim_id", keep="last")  # each claim's latest
    return standing.set_axis(claim_payments.index[standing.index.to_numpy()])


def link_reversals(claim_payments: pd.DataFrame, payments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each reversal (CLP02=22) with the payment it reverses and the correction that replaces it.

    The original is the loop the reversal cancels: same claim, amounts negated (CLP03 = -charge,
    CLP04 = -paid), not dated after the reversal, the same payer claim number (CLP07) preferred, the
    earliest such loop. The correction is the earliest loop of the claim in the reversal's payment
    or a later one that is neither a reversal nor cancelled by one. Neither depends on the order of
    the loops in the files. Columns: claim_id, original_payment_id, reversal_payment_id,
    correction_payment_id (empty when none), and the paid amounts of the three; one row per
    reversal, by claim, then `_ORDER`.
    """
    cols = ["claim_id", "original_payment_id", "original_paid", "reversal_payment_id", "reversal_paid",
            "correction_payment_id", "correction_paid"]
    if claim_payments.empty or not (claim_payments.status_code.astype(str) == REVERSAL).any():
        return pd.DataFrame(columns=cols)
    dated = _dated(claim_payments, payments)
    dated = dated[dated.claim_id.isin(dated.claim_id[dated.status_code.astype(str) == REVERSAL])].reset_index(drop=True)
    pairs = _cancelled_pairs(dated)
    is_rev = dated.status_code.astype(str).to_numpy() == REVERSAL
    revs = dated[is_rev].assign(_pos=np.flatnonzero(is_rev)).sort_values(["claim_id", *_ORDER], kind="stable")
    original = pd.Series(pairs.orig.to_numpy(), index=pairs.rev.to_numpy()).reindex(revs._pos.to_numpy())
    alive = dated[~is_rev & ~np.isin(np.arange(len(dated)), pairs.orig)]
    later = revs[["claim_id", "payment_date", "_pos"]].merge(
        alive.assign(_corr=alive.index)[["claim_id", "payment_date", "payment_id", "claim_seq", "_corr"]],
        on="claim_id", suffixes=("", "_corr"))
    later = later[later.payment_date_corr >= later.payment_date].sort_values(
        ["_pos", "payment_date_corr", "payment_id", "claim_seq"], kind="stable").drop_duplicates("_pos")
    correction = later.set_index("_pos")._corr.reindex(revs._pos.to_numpy())

    def pick(position: pd.Series, column: str) -> pd.Series:
        """The column's value at each position (missing where there is none)."""
        at = position.to_numpy(dtype="float64")
        has = ~np.isnan(at)
        values = np.full(len(at), None, dtype=object)
        values[has] = dated[column].to_numpy(dtype=object)[at[has].astype(np.int64)]
        return pd.Series(values, dtype="Int64" if column == "paid" else object)

    return pd.DataFrame({
        "claim_id": revs.claim_id.to_numpy(),
        "original_payment_id": pick(original, "payment_id"), "original_paid": pick(original, "paid"),
        "reversal_payment_id": revs.payment_id.to_numpy(), "reversal_paid": revs.paid.to_numpy(),
        "correction_payment_id": pick(correction, "payment_id"), "correction_paid": pick(correction, "paid"),
    }, columns=cols)


@dataclass
class FileResult:
    """What happened to one file."""

    name: str
    status: str
    """imported; duplicate (every payment already imported from another file: a re-sent ERA);
    already imported (this very file was imported before); re-delivered copy of <file> (the same bytes
    under another name: its payments are kept as duplicates to report, never counted); rejected
    (unreadable); empty (no payment)."""
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
    appeals: str = ""
    """What the import's payments did to filed appeals ("2 appeals closed (1 won, 1 lost)"), empty when none."""

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
        if self.appeals:
            parts.append(self.appeals)
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
    paid_claims: set[str] = set()
    for i, file in enumerate(files, start=1):
        if progress:
            progress(i, len(files))
        try:
            remittance = read_file(file)
        except InputError as e:
            report.files.append(FileResult(file.name, "rejected", findings=[
                Finding("error", file.name, NOWHERE, e.reason, "unreadable")]))
            log.info("%s: rejected, not readable as an 835 (%d bytes)", file.name, len(file.data))
            continue
        sha = hashlib.sha256(file.data).hexdigest()
        result = FileResult(file.name, "imported", findings=list(remittance.findings))
        copy_of = None
        tabs = remittance.tables
        payments = tabs["payments"] = assign_payers(tabs["payments"], payers)
        with store.transaction():
            import_id = store.record_import(file.name, sha, findings=len(result.findings))
            if import_id is None:  # these bytes were imported before: nothing new is counted
                repeated = store.stored_payments(payments)  # for the report only
                first_id, first_name = store.import_of(sha)
                if first_name != file.name:  # re-delivered under another name: kept to report, never counted
                    copy_of = first_name
                    store.record_copies(payments.assign(
                        payment_id=[copy_id(i, file.name) for i in payments.payment_id],
                        source_file=file.name), first_id)
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
            result.status = "already imported" if copy_of is None else f"re-delivered copy of {copy_of}"
        else:
            if result.payments == 0:
                result.status = "duplicate" if repeated.any() else "empty"
            report.reversals += int((new["claim_payments"].status_code == "22").sum())
            paid_claims.update(new["claim_payments"].claim_id)
        report.files.append(result)
        log.debug("%s: %s, %d bytes, %d new payments, %d duplicates, %d findings", file.name, result.status,
                  len(file.data), result.payments, len(result.duplicates), len(result.findings))
    if paid_claims:  # the new payments close the filed appeals of the claims they pay (xl_ar.appeals)
        from xl_ar.appeals import close_stored

        closed = close_stored(store, paid_claims)
        report.appeals = closed.summary() if len(closed.closed) or closed.conflicts else ""
        decided = closed.counts()
    else:
        decided = {}
    store.audit("import", files=len(files), payments=report.payments, duplicates=report.duplicates,
                rejected=sum(f.status == "rejected" for f in report.files),
                inputs={f.name: hashlib.sha256(f.data).hexdigest() for f in files},
                **({"appeals_closed": decided} if decided else {}))
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


def counted_once(remittance_tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The remittance tables with each payment once: every later copy of a payment (same payer,
    trace number and amount, `original_payments`) is removed with all of its rows.

    The one way to drop re-sent or re-delivered ERAs before counting claims, money or denials.
    A row is kept when its payment_id is the id of a kept payment: the tables must hold at most
    one payment with rows under each id (`read_remittances` gives every copy its own id; the
    store keeps no rows for a copy).
    """
    payments = remittance_tables["payments"]
    copies = duplicate_payments(payments)
    if not copies.any():  # the usual case: nothing to take out, nothing to copy
        return dict(remittance_tables)
    kept = payments[~copies]
    return {name: kept if name == "payments" else frame[frame.payment_id.isin(kept.payment_id)]
            for name, frame in remittance_tables.items()}


_PROGRESS_STEP = 256
"""Files read between two progress reports by `read_remittances`."""


def read_remittances(files: Iterable[SourceFile], progress: Callable[[int, int | None], None] | None = None,
                     ) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Every file read into one set of remittance tables (nothing deduplicated), with all findings.

    A file that cannot be read at all adds one error finding and contributes no rows. The columns
    of all files are joined first and each table is built once. Payment ids are unique across the
    files: the 835 reader gives a byte-identical copy of a transaction (an ERA re-delivered under
    another file name) the same id, so each such copy but the first (by file name, then reading
    order) is renamed `<id>~<8 hex of the SHA-256 of its file name>` (`-2`, `-3`, ... if that is
    taken too). Use `counted_once` to leave the copies out.
    """
    files = list(files)
    started = time.perf_counter()
    parts: dict[str, list[tuple[int, dict]]] = {name: [] for name in tables.REMITTANCE_TABLES}
    findings: list[Finding] = []
    read: list = []
    for lo in range(0, len(files), _PROGRESS_STEP):  # small files are read in batches (`read_835_files`)
        read += read_835_files([(f.name, f.data) for f in files[lo:lo + _PROGRESS_STEP]])
        if progress:
            progress(len(read), len(files))
    for i, (file, result) in enumerate(zip(files, read, strict=True), start=1):
        if isinstance(result, InputError):
            findings.append(Finding("error", file.name, NOWHERE, result.reason, "unreadable"))
            log.info("%s: not readable as an 835 (%d bytes)", file.name, len(file.data))
            continue
        columns, found = result
        findings += found
        log.debug("%s: read, %d bytes, %d findings", file.name, len(file.data), len(found))
        for name, data in columns.items():
            if len(next(iter(data.values()), ())):
                parts[name].append((i - 1, data))
    renamed = _copy_ids([(n, files[n].name, data["payment_id"]) for n, data in parts["payments"]])
    merged = {name: tables.from_columns(name, _join([_renamed(data, renamed.get(n)) for n, data in chunks]))
              if chunks else tables.empty(name) for name, chunks in parts.items()}
    log.info("read %d 835 files (%d bytes) in %.2f s: %d payments, %d claim payments, %d findings", len(files),
             sum(len(f.data) for f in files), time.perf_counter() - started, len(merged["payments"]),
             len(merged["claim_payments"]), len(findings))
    return merged, findings


def copy_id(payment_id: str, file_name: str) -> str:
    """The id of a byte-identical copy of a payment read from another file: `<id>~<8 hex of the SHA-256
    of the file name>` (the reader gives both copies the same id; the copy must not share it)."""
    return f"{payment_id}~{hashlib.sha256(file_name.encode()).hexdigest()[:8]}"


def _copy_ids(files: list[tuple[int, str, Sequence[str]]]) -> dict[int, dict[str, str]]:
    """New ids for the payments whose id an earlier file already has: per file number, old -> new.

    `files`: (file number, file name, payment ids) in reading order. The first holder of an id, by
    file name then reading order, keeps it; the others get `<id>~<8 hex of SHA-256 of the file
    name>`, then `-2`, `-3`, ... while that is taken.
    """
    holders: dict[str, list[tuple[str, int]]] = {}
    for number, name, ids in files:
        for payment_id in ids:
            holders.setdefault(str(payment_id), []).append((name, number))
    taken = set(holders)
    out: dict[int, dict[str, str]] = {}
    for payment_id, where in holders.items():
        for name, number in sorted(where)[1:]:
            base = copy_id(payment_id, name)
            new, k = base, 1
            while new in taken:
                k += 1
                new = f"{base}-{k}"
            taken.add(new)
            out.setdefault(number, {})[payment_id] = new
    return out


def _renamed(data: dict, ids: dict[str, str] | None) -> dict:
    """A file's columns with its payment ids replaced as `ids` says (the same columns when None)."""
    if not ids:
        return data
    old = np.asarray(data["payment_id"], dtype=object)
    return {**data, "payment_id": pd.Series(old).map(ids).fillna(pd.Series(old)).to_numpy(dtype=object)}


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
