"""The 835 mapper: a remittance file into the six canonical remittance tables, plus findings.

Supports 5010 (005010X221A1) and 4010 (004010X091A1) remittances. One payment per `ST*835`;
other transaction sets in the same file (837, 278, ...) are counted and skipped. The file is
read by the generic reader (`xl_ar.x12.reader`: tokens, envelope, findings, positions); this
module knows only the 835's loops and elements.

How it works (columnar): loop membership is computed with running maxima over segment
positions: a segment belongs to the claim of the last `CLP` when no loop-ending segment (`LX`,
`PLB`, `N1`, `SE`, ...) came in between, and to the service line of the last `SVC` likewise.
Each segment type is then read for all its rows at once (elements as byte ranges, amounts and
dates parsed with numpy); only the values kept in the tables become Python strings.

The mapping is a set of steps (`STEPS`), each a function of the document and of the typed,
frozen results of the steps it names: nothing is passed through shared mutable state, so any
order that respects those dependencies gives the same tables and findings, and an order that
does not is refused (`run_steps`).

Money is integer cents, exactly as written (no floats, no tolerance). Balancing is checked at
three levels (line, claim, payment) and every problem becomes a `Finding` that names the file,
the transaction (ST02), the segment position (1-based, counting non-empty segments) and the
segment id, never a patient identifier (no CLP01, names or member ids). Only a file with no
readable X12 at all raises `X12Error`.

payment_id: `<TRN02>-<ST02>-<h>` where `h` is the first 8 hex digits of the SHA-256 of the
interchange header (ISA) and the transaction's own bytes (ST through SE). The same file read
twice gives the same ids; a payment re-sent in a new interchange gets a new id (it is recognised
as a duplicate by its payer, trace number and amount instead). Identical transactions repeated
in one file get `-2`, `-3`, ... in file order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar.errors import X12Error
from xl_ar.findings import Finding
from xl_ar.money import format_cents
from xl_ar.tables import REMITTANCE_TABLES, from_columns
from xl_ar.x12.reader import Document, TransactionSet, read_document
from xl_ar.x12.tokens import OTHER, Delimiters, components, isa_delimiters, object_array, small_key

GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")
"""CAS01 claim adjustment group codes (CR: correction and reversal, 4010 only)."""

_HEADER_AREA = ("BPR", "TRN", "CUR", "N1", "N2", "N3", "N4", "RDM")
_DETAIL_AREA = ("LX", "TS3", "TS2", "CLP", "CAS", "NM1", "MIA", "MOA", "SVC", "LQ", "AMT", "QTY")
_CLAIM_MEMBERS = ("CLP", "CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY", "SVC", "LQ")
_LINE_MEMBERS = ("SVC", "CAS", "DTM", "REF", "AMT", "QTY", "LQ")
_CLAIM_ONLY = ("NM1", "MIA", "MOA", "PER")
_NEED_CLAIM = ("CAS", "NM1", "MIA", "MOA", "SVC", "LQ")

REMITTANCE = TransactionSet(
    id="835", name="835 remittance",
    segments=("BPR", "TRN", "CUR", "REF", "DTM", "N1", "N2", "N3", "N4", "PER", "RDM", "LX", "TS3", "TS2", "CLP",
              "CAS", "NM1", "MIA", "MOA", "AMT", "QTY", "SVC", "LQ", "PLB"),
)
"""The 835 (health care claim payment/advice) and the segments it uses."""

_IDS = REMITTANCE.ids
_IS_CLAIM_MEMBER = _IDS.table(_CLAIM_MEMBERS)
_IS_LINE_MEMBER = _IDS.table(_LINE_MEMBERS)
_IS_CLAIM_ONLY = _IDS.table(_CLAIM_ONLY)
_IS_NEED_CLAIM = _IDS.table(_NEED_CLAIM)
_AREA = np.full(len(_IDS.ids) + 1, -1, dtype=np.int8)
_AREA[[_IDS[s] for s in _HEADER_AREA]] = 0
_AREA[[_IDS[s] for s in _DETAIL_AREA]] = 1
_AREA[_IDS["PLB"]] = 2
_GROUP_KEYS = np.array([small_key(g) for g in GROUP_CODES], dtype=np.int32)
_K = {q: small_key(q) for q in ("PR", "PE", "XX", "2U", "6R", "B6", "472", "150", "232")}
_SHOWN_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_NAT = np.datetime64("NaT")


@dataclass(frozen=True)
class Remittance:
    """One 835 file read into the canonical remittance tables.

    - the six tables are DataFrames with exactly the columns of `xl_ar.tables.TABLES[name]` (money in cents);
    - `findings`: every problem found, errors and warnings, in reading order;
    - `transactions`: one row per `ST*835` (payment_id, st02, segment of the ST, claims, amount =
      BPR02, claims_paid = sum of CLP04, provider_adjustments = sum of PLB, balanced);
    - `decimals`: for the amounts the summary totals (`payments.amount`, `claim_payments.charge`
      and `.paid`, `adjustments.amount`, `provider_adjustments.amount`), how many decimals each
      one had in the file (2 for one rounded to the cent, see `Document.amounts`), aligned with the
      table rows, so totals are written the way the payer wrote them (`'0'` vs `'0.00'`);
    - `other_transactions`: count of the non-835 transaction sets skipped, by ST01;
    - `delimiters`: one entry per run of interchanges read with the same delimiters.
    """

    source: str
    payments: pd.DataFrame
    claim_payments: pd.DataFrame
    line_payments: pd.DataFrame
    adjustments: pd.DataFrame
    remarks: pd.DataFrame
    provider_adjustments: pd.DataFrame
    findings: list[Finding]
    transactions: pd.DataFrame
    decimals: dict[str, np.ndarray]
    other_transactions: dict[str, int] = field(default_factory=dict)
    delimiters: tuple[Delimiters, ...] = ()
    envelope: bool = True

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The six canonical tables by name."""
        return {name: getattr(self, name) for name in REMITTANCE_TABLES}


Columns = dict[str, np.ndarray | pd.api.extensions.ExtensionArray]
"""A table as named, typed column arrays (before it becomes a DataFrame)."""


@dataclass(frozen=True)
class RemittanceColumns:
    """What the mapper produces: each table as typed column arrays, and the per-transaction figures."""

    tables: dict[str, Columns]
    transactions: Columns
    decimals: dict[str, np.ndarray]


def read_835(data: bytes | str, source: str) -> Remittance:
    """Read an 835 file (its bytes or text) into a `Remittance`.

    `source` is the file name shown in findings and in `payments.source_file` (a folder part is
    dropped). Raises `X12Error` only when the input has no readable X12 at all.
    """
    doc = read_document(data, source, REMITTANCE)
    mapped = map_835(doc)
    tables = {name: from_columns(name, columns) for name, columns in mapped.tables.items()}
    return Remittance(
        source=doc.source, **tables, findings=doc.findings.result(),
        transactions=pd.DataFrame(mapped.transactions), decimals=mapped.decimals, other_transactions=doc.other,
        delimiters=tuple(b.delimiters for b in doc.segs.blocks), envelope=doc.segs.envelope,
    )


def read_835_columns(data: bytes | str, source: str) -> tuple[dict[str, Columns], list[Finding]]:
    """The six tables of an 835 as typed column arrays (not yet DataFrames), and the findings.

    For readers of many files: they join the columns of every file and build each table once,
    instead of six small DataFrames per file (`xl_ar.remittances.read_remittances`).
    """
    doc = read_document(data, source, REMITTANCE)
    return map_835(doc).tables, doc.findings.result()


SMALL_FILE = 1 << 16
"""Files up to this size (bytes) are read together by `read_835_files` (larger ones on their own)."""
_BATCH_BYTES = 1 << 22


def read_835_files(files: Sequence[tuple[str, bytes]]) -> list[tuple[dict[str, Columns], list[Finding]] | X12Error]:
    """`read_835_columns` of each file (or the `X12Error` it raises), in order, for readers of many files.

    Small files (up to `SMALL_FILE` bytes) that start with their ISA and end with their segment
    terminator are read together, a batch of them in one pass, so a folder of thousands of one-claim
    remittances costs what one file of the same size costs, not a fixed setup per file. The result
    is the same as reading each file alone: a batch in which anything is found (an error or warning
    to report, a file without an 835, a transaction repeated in two files) is read again file by file.
    """
    out: list = [None] * len(files)
    batch: list[int] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if batch:
            read = _read_batch([files[i] for i in batch]) if len(batch) > 1 else None
            for i, result in zip(batch, read or [_read_one(*files[i]) for i in batch], strict=True):
                out[i] = result
            batch.clear()
        size = 0

    for i, (name, data) in enumerate(files):
        if _batchable(data):
            if size + len(data) > _BATCH_BYTES:
                flush()
            batch.append(i)
            size += len(data)
        else:
            out[i] = _read_one(name, data)
    flush()
    return out


def _read_one(name: str, data: bytes) -> tuple[dict[str, Columns], list[Finding]] | X12Error:
    try:
        return read_835_columns(data, name)
    except X12Error as e:
        return e


def _batchable(data: bytes) -> bool:
    """A small file that starts with a readable ISA and ends with its segment terminator (so files put
    one after the other keep their segment boundaries)."""
    if len(data) > SMALL_FILE or not data.startswith(b"ISA"):
        return False
    got = isa_delimiters(data[:800].decode("latin-1"), 0)
    if isinstance(got, str) or got[0].segment.isspace():
        return False
    return data.rstrip(b" \t\r\n\x0b\x0c")[-1:] == got[0].segment.encode("latin-1")


def _read_batch(files: list[tuple[str, bytes]]) -> list[tuple[dict[str, Columns], list[Finding]]] | None:
    """Several small files read in one pass and split back per file; None when they must be read one by one."""
    starts = np.cumsum([0] + [len(data) for _, data in files])
    doc = read_document(b"".join(data for _, data in files), "batch", REMITTANCE)
    doc.parts = starts[:-1]
    tx_file = np.searchsorted(starts, doc.segs.start[doc.envelope.st_row[doc.txs]], side="right") - 1
    if len(np.unique(tx_file)) != len(files):  # a file without an 835: it has a warning of its own
        return None
    mapped = map_835(doc).tables
    if doc.findings.result():  # findings name their file and position: read one by one
        return None
    ids = pd.Index(mapped["payments"]["payment_id"])
    if not ids.is_unique:  # the same transaction in two files: ids are settled file by file
        return None
    mapped["payments"]["source_file"] = np.array([files[f][0] for f in tx_file.tolist()], dtype=object)
    out: list[tuple[dict[str, Columns], list[Finding]]] = [({}, []) for _ in files]
    for name, columns in mapped.items():
        file_of = tx_file[ids.get_indexer(np.asarray(columns["payment_id"], dtype=object))]
        if len(file_of) and np.any(np.diff(file_of) < 0):  # rows come in file order; if not, read one by one
            return None
        bounds = np.searchsorted(file_of, np.arange(len(files) + 1), side="left")
        for f, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
            out[f][0][name] = {column: values[lo:hi] for column, values in columns.items()}
    return out


def map_835(doc: Document, order: Sequence[str] | None = None) -> RemittanceColumns:
    """The remittance tables of a document read for the 835 (steps in `order`, default `STEPS`' own)."""
    return run_steps(doc, order)["tables"]


# ---------------------------------------------------------------------------------------------
# Typed values passed between steps (frozen; their arrays are read-only while the steps run)


@dataclass(frozen=True)
class _Loops:
    """Where each segment belongs: its claim loop (2100) and service-line loop (2110)."""

    in_claim: np.ndarray
    claim_of: np.ndarray
    """Per row: the claim (index in CLP order) it belongs to, -1 outside claims."""
    line_of: np.ndarray
    """Per row: the service line (index in SVC order) it belongs to, -1 outside lines."""
    clp_rows: np.ndarray
    svc_rows: np.ndarray
    line_seq: np.ndarray
    """Per service line: its position in its claim, from 1."""

    def attached(self, doc: Document, seg_id: str) -> np.ndarray:
        """Rows of one segment id inside claims."""
        return doc.rows(seg_id, self.in_claim)


@dataclass(frozen=True)
class _Payments:
    """One entry per ST*835 (BPR, TRN, N1*PR, N1*PE and the payment id)."""

    ids: np.ndarray
    amount: np.ndarray
    decimals: np.ndarray
    bpr: np.ndarray
    """Row of the BPR of each payment (-1 when missing)."""
    payer_name: np.ndarray
    payer_ref: np.ndarray
    payee_npi: np.ndarray
    method: np.ndarray
    payment_date: np.ndarray
    trace: np.ndarray


@dataclass(frozen=True)
class _Claims:
    """One entry per CLP, in file order."""

    rows: np.ndarray
    payment: np.ndarray
    seq: np.ndarray
    claim_id: np.ndarray
    status: np.ndarray
    charge: np.ndarray
    paid: np.ndarray
    charge_dec: np.ndarray
    paid_dec: np.ndarray
    patient_resp: np.ndarray
    patient_resp_present: np.ndarray
    payer_claim_id: np.ndarray
    claim_date: np.ndarray
    """DTM*232 (claim statement period start) of each claim, NaT when it has none."""


@dataclass(frozen=True)
class _Lines:
    """One entry per SVC, in file order."""

    rows: np.ndarray
    claim: np.ndarray
    seq: np.ndarray
    """Position of the line in its claim, from 1."""
    procedure: np.ndarray
    modifiers: np.ndarray
    charge: np.ndarray
    paid: np.ndarray
    units: np.ndarray
    control: np.ndarray
    dates: np.ndarray
    allowed: np.ndarray
    allowed_present: np.ndarray


@dataclass(frozen=True)
class _Adjustments:
    """CAS triplets in long form, in file order."""

    row: np.ndarray
    claim: np.ndarray
    line: np.ndarray
    """Service line of the adjustment (-1 for a claim-level CAS)."""
    line_seq: np.ndarray
    group: np.ndarray
    reason: np.ndarray
    amount: np.ndarray
    decimals: np.ndarray
    quantity: np.ndarray


@dataclass(frozen=True)
class _Remarks:
    claim: np.ndarray
    line_seq: np.ndarray
    has_line: np.ndarray
    code: np.ndarray


@dataclass(frozen=True)
class _ProviderAdjustments:
    """PLB adjustment pairs in long form, in file order."""

    row: np.ndarray
    payment: np.ndarray
    provider: np.ndarray
    date: np.ndarray
    reason: np.ndarray
    reference: np.ndarray
    amount: np.ndarray
    decimals: np.ndarray


@dataclass(frozen=True)
class _PaymentBalance:
    claims_paid: np.ndarray
    provider_adjustments: np.ndarray
    balanced: np.ndarray


# ---------------------------------------------------------------------------------------------
# Helpers on row sets


def _first_of_group(group: np.ndarray) -> np.ndarray:
    """For a non-decreasing group array, the index of the first element of each element's group (linear)."""
    group = np.asarray(group)
    starts = np.zeros(len(group), dtype=np.int64)
    if len(group) > 1:
        changed = np.flatnonzero(group[1:] != group[:-1]) + 1
        starts[changed] = changed
    return np.maximum.accumulate(starts) if len(group) else starts


def _first_per(groups: np.ndarray, rows: np.ndarray, ngroups: int) -> tuple[np.ndarray, np.ndarray]:
    """The first row per group (-1 when none) and the rows that repeat a group.

    Groups usually come in order (rows in file order belong to claims, lines and payments in file
    order): then the first of each group is where the group changes, found in one pass; otherwise
    by sorting.
    """
    out = np.full(ngroups, -1, dtype=np.int64)
    if not len(rows):
        return out, rows
    groups = np.asarray(groups)
    if len(groups) < 2 or bool((groups[1:] >= groups[:-1]).all()):
        idx = np.flatnonzero(np.concatenate(([True], groups[1:] != groups[:-1])))
        uniq = groups[idx]
    else:
        uniq, idx = np.unique(groups, return_index=True)
    out[uniq] = rows[idx]
    repeated = np.ones(len(rows), dtype=bool)
    repeated[idx] = False
    return out, rows[repeated]


def _first(groups: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    return _first_per(groups, rows, n)[0]


def _sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, index, values)
    return out


def _nullable(values: np.ndarray, mask: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.array(values, dtype=np.int64), ~np.asarray(mask, dtype=bool))


def _money(cents: int) -> str:
    return format_cents(int(cents))


def _by_row(rows: np.ndarray, message: Callable[[int], str]) -> Callable[[int], str]:
    """A finding's message for a row of `rows` (sorted), from the row's index in `rows`."""
    return lambda r: message(int(np.searchsorted(rows, r)))


def _per(found: np.ndarray, values: Callable[[np.ndarray], np.ndarray], n: int) -> np.ndarray:
    """Values read from the rows in `found` (one row or -1 per entry), None where there is no row."""
    out = np.full(n, None, dtype=object)
    out[found >= 0] = values(found[found >= 0])
    return out


# ---------------------------------------------------------------------------------------------
# Steps


_LOOP_ROWS = 1 << 20
"""Rows worked at a time by `_loops` (its temporaries follow this, not the file's segment count)."""


def _loops(doc: Document) -> _Loops:
    """Loop membership by running maxima (no per-segment Python), and the structural findings.

    A segment is in the claim of the last CLP when no loop-ending segment came after that CLP;
    it is in the service line of the last SVC when, in addition, no CLP or claim-only segment
    (NM1, MIA, MOA, PER) came after that SVC. Worked a slice of rows at a time, the running maxima
    and counts carried from one slice to the next, so a file of millions of tiny segments keeps
    only the three columns kept (9 bytes a row) besides what the tokenizer holds.
    """
    n = len(doc)
    code_all, body_all, tx_all = doc.segs.code, doc.body, doc.tx_of
    in_claim_all = np.zeros(n, dtype=bool)
    claim_of_all = np.empty(n, dtype=np.int32)
    line_of_all = np.empty(n, dtype=np.int32)
    clp_parts: list[np.ndarray] = []
    svc_parts: list[np.ndarray] = []
    key_carry, clp_carry, member_carry, svc_carry, ended_carry = -1, -1, -1, -1, -1
    clp_count, svc_count = 0, 0
    for lo in range(0, n, _LOOP_ROWS):
        hi = min(n, lo + _LOOP_ROWS)
        code, body = code_all[lo:hi], body_all[lo:hi]
        # the area (header 0, detail 1, PLB 2) of each row, keyed by its transaction: a row whose key is
        # below the running maximum comes after a later area of its transaction
        area = _AREA[code]
        keyed = tx_all[lo:hi] * np.int32(4)
        keyed += area
        keyed[(area < 0) | ~body] = -1
        running = np.maximum.accumulate(keyed)
        np.maximum(running, key_carry, out=running)
        key_carry = int(running[-1])
        doc.report("misplaced", "warning", lo + np.flatnonzero((keyed >= 0) & (keyed < running)),
                   "segment out of order (header segment after claims, or claim after PLB)")
        del area, keyed, running

        member = body & (_IS_CLAIM_MEMBER[code] | (code == OTHER))
        is_clp = body & (code == _IDS["CLP"])
        last_clp, clp_carry = _last_from(is_clp, lo, clp_carry)
        last_out, member_carry = _last_from(~member, lo, member_carry)
        in_claim = member & (last_clp > last_out)
        del last_out
        claim_of = np.cumsum(is_clp, dtype=np.int32)
        claim_of += np.int32(clp_count - 1)
        claim_of[~in_claim] = -1
        is_svc = in_claim & (code == _IDS["SVC"])
        last_svc, svc_carry = _last_from(is_svc, lo, svc_carry)
        ended, ended_carry = _last_from(~member | is_clp | _IS_CLAIM_ONLY[code], lo, ended_carry)
        in_line = in_claim & (last_svc > ended) & (_IS_LINE_MEMBER[code] | (code == OTHER))
        del ended
        line_of = np.cumsum(is_svc, dtype=np.int32)
        line_of += np.int32(svc_count - 1)
        line_of[~in_line] = -1
        del in_line, member

        outside = lo + np.flatnonzero(body & _IS_NEED_CLAIM[code] & ~in_claim)
        severe = np.isin(code[outside - lo], (_IDS["SVC"], _IDS["CAS"]))
        message = "segment outside a claim (no CLP before it in its loop); ignored"
        doc.report("outside claim", "error", outside[severe], message)
        doc.report("outside claim", "warning", outside[~severe], message)
        doc.report("misplaced", "warning", lo + np.flatnonzero(in_claim & _IS_CLAIM_ONLY[code] & (last_svc > last_clp)),
                   "claim-level segment after a service line; read at claim level")
        in_claim_all[lo:hi], claim_of_all[lo:hi], line_of_all[lo:hi] = in_claim, claim_of, line_of
        clp_parts.append(lo + np.flatnonzero(is_clp))
        svc_parts.append(lo + np.flatnonzero(is_svc))
        clp_count += len(clp_parts[-1])
        svc_count += len(svc_parts[-1])
    clp_rows = np.concatenate(clp_parts) if clp_parts else np.zeros(0, dtype=np.int64)
    svc_rows = np.concatenate(svc_parts) if svc_parts else np.zeros(0, dtype=np.int64)
    svc_claim = claim_of_all[svc_rows]
    return _Loops(in_claim=in_claim_all, claim_of=claim_of_all, line_of=line_of_all, clp_rows=clp_rows,
                  svc_rows=svc_rows, line_seq=np.arange(len(svc_rows)) - _first_of_group(svc_claim) + 1)


def _last_from(mask: np.ndarray, lo: int, carry: int) -> tuple[np.ndarray, int]:
    """`_last` of a slice of rows starting at row `lo`, given the last True before it (`carry`, -1 if
    none): global row numbers, and the carry for the next slice."""
    out = np.arange(lo, lo + len(mask), dtype=np.int32)
    out[~mask] = -1
    np.maximum.accumulate(out, out=out)
    np.maximum(out, carry, out=out)
    return out, int(out[-1]) if len(out) else carry


def _payments(doc: Document, loops: _Loops) -> _Payments:
    """One payment per ST*835: BPR, TRN, N1*PR (and REF*2U), N1*PE, and the payment id."""
    txs = doc.txs
    npay = len(txs)
    rows = doc.rows("BPR")
    bpr, dup = _first_per(doc.tx_index(rows), rows, npay)
    doc.report("repeated", "error", dup, "second BPR in the transaction; ignored")
    rows = doc.rows("TRN")
    trn, dup = _first_per(doc.tx_index(rows), rows, npay)
    doc.report("repeated", "warning", dup, "second TRN in the transaction; ignored")
    for missing, text in ((bpr < 0, "transaction has no BPR segment; payment amount read as 0"),
                          (trn < 0, "transaction has no TRN segment; no trace number")):
        for j in np.flatnonzero(missing).tolist():
            doc.report_at("missing segment", "error", doc.where.transaction(int(txs[j])), text)
    has_bpr = bpr >= 0
    bpr_rows = _read_only(bpr[has_bpr])  # read-only: its rows' bounds are looked up once for all its elements
    amount = np.zeros(npay, dtype=np.int64)
    decimals = np.zeros(npay, dtype=np.int64)
    amount[has_bpr], decimals[has_bpr], _ = doc.amounts(bpr_rows, 2, "BPR02 (payment amount)", True)
    for k, name in ((1, "BPR01 (transaction handling code)"), (3, "BPR03 (credit/debit flag)"),
                    (4, "BPR04 (payment method)")):
        doc.require(bpr_rows, k, name)
    pay_date = np.full(npay, _NAT, dtype="datetime64[D]")
    pay_date[has_bpr] = doc.dates(bpr_rows, 16, "BPR16 (payment date)")
    method = np.full(npay, None, dtype=object)
    method[has_bpr] = doc.codes(bpr_rows, 4)
    # a payer or clearinghouse does send ERAs without a trace: still a payment (matched by amount and date)
    has_trn = trn >= 0
    trn_rows = _read_only(trn[has_trn])
    doc.require(trn_rows, 2, "TRN02 (trace number)", "warning",
                "; the payment is matched to its deposit by amount and date, and to postings without a check number")
    trace = np.full(npay, None, dtype=object)
    trace[has_trn] = doc.texts(trn_rows, 2)
    originator = np.full(npay, None, dtype=object)  # TRN03: the payer's id when no REF*2U or N1*PR04
    originator[has_trn] = doc.codes(trn_rows, 3)

    def text(k: int) -> Callable[[np.ndarray], np.ndarray]:  # payer names, ids and NPIs repeat: decoded once each
        return lambda r: doc.codes(r, k)

    n1 = doc.rows("N1", ~loops.in_claim)
    n1q = doc.keys(n1, 1)
    pr = _first(doc.tx_index(n1[n1q == _K["PR"]]), n1[n1q == _K["PR"]], npay)
    has_pr = pr >= 0
    pr_rows = _read_only(pr[has_pr])
    payer_name = np.full(npay, None, dtype=object)
    payer_name[has_pr] = doc.codes(pr_rows, 2)
    payer_id = np.full(npay, None, dtype=object)
    payer_id[has_pr] = doc.codes(pr_rows, 4)
    pe = n1[(n1q == _K["PE"])]
    pe = pe[doc.keys(pe, 3) == _K["XX"]]
    ref = doc.rows("REF", ~loops.in_claim)
    ref = ref[doc.keys(ref, 1) == _K["2U"]]
    payer_ref = _per(_first(doc.tx_index(ref), ref, npay), text(2), npay)
    for fallback in (payer_id, originator):
        payer_ref = np.where(pd.isna(payer_ref), fallback, payer_ref)
    ids = object_array(_payment_ids(doc, [t or "" for t in trace]))
    return _Payments(ids=ids, amount=amount, decimals=decimals, bpr=bpr, payer_name=payer_name,
                     payer_ref=payer_ref, payee_npi=_per(_first(doc.tx_index(pe), pe, npay), text(4), npay),
                     method=method, payment_date=pay_date, trace=trace)


def _read_only(rows: np.ndarray) -> np.ndarray:
    """`rows` made read-only, so that the elements asked of them share one lookup of each row's bounds
    (see `Segments.element_ranges`)."""
    rows.setflags(write=False)
    return rows


def _payment_ids(doc: Document, trn02: list[str]) -> list[str]:
    """`<TRN02>-<ST02>-<8 hex of SHA-256 of the interchange header (ISA) and the transaction's bytes>`,
    `-2`, `-3` for repeats in one file."""
    segs, env = doc.segs, doc.envelope
    st_row = env.st_row[doc.txs]
    isa_rows = np.flatnonzero((segs.code == doc.ids["ISA"]) & ~segs.fewer_separators(16))  # headers, not broken ISAs
    k = np.searchsorted(isa_rows, st_row, side="left") - 1  # the interchange of each transaction
    isa = isa_rows[np.maximum(k, 0)] if len(isa_rows) else np.zeros(len(st_row), dtype=np.int64)
    isa_lo = np.where(k >= 0, segs.start[isa] if len(isa_rows) else 0, 0).tolist()
    isa_hi = np.where(k >= 0, segs.end[isa] if len(isa_rows) else 0, 0).tolist()
    end_row = env.end_row[doc.txs]  # the SE, or the segment that ended a transaction without SE
    past = end_row >= len(segs)
    end_row = np.where(past | (segs.code[np.minimum(end_row, len(segs) - 1)] != doc.ids["SE"]), end_row - 1, end_row)
    lo = segs.start[st_row].tolist()
    hi = np.maximum(segs.end[end_row], segs.start[st_row]).tolist()
    view = memoryview(segs.raw)
    sha256 = hashlib.sha256
    digests = []
    for j in range(len(lo)):
        digest = sha256(view[isa_lo[j]:isa_hi[j]])
        digest.update(view[lo[j]:hi[j]])
        digests.append(digest.hexdigest()[:8])
    bases = [f"{t or 'NOTRACE'}-{s or 'NOST'}-{h}"
             for t, s, h in zip(trn02, [env.st02[tx] for tx in doc.txs.tolist()], digests, strict=True)]
    if len(set(bases)) == len(bases):  # the usual case: no transaction repeated
        return bases
    ids: list[str] = []
    seen: dict[str, int] = {}
    part = np.searchsorted(doc.parts, lo, side="right").tolist() if doc.parts is not None else [0] * len(lo)
    for j, base in enumerate(bases):
        if j and part[j] != part[j - 1]:  # files read together: repeats are counted in each file
            seen.clear()
        k = seen[base] = seen.get(base, 0) + 1
        ids.append(base if k == 1 else f"{base}-{k}")
    return ids


def _claims(doc: Document, loops: _Loops) -> _Claims:
    """CLP01-07 of every claim, and its DTM*232 date."""
    rows = loops.clp_rows
    n = len(rows)
    payment = doc.tx_index(rows)
    for k, name in ((1, "CLP01 (patient control number)"), (2, "CLP02 (claim status)")):
        doc.require(rows, k, name)
    charge, charge_dec, _ = doc.amounts(rows, 3, "CLP03 (claim charge)", True)
    paid, paid_dec, _ = doc.amounts(rows, 4, "CLP04 (claim payment)", True)
    resp, _, resp_present = doc.amounts(rows, 5, "CLP05 (patient responsibility)", False)
    dtm = loops.attached(doc, "DTM")
    dtm = dtm[(loops.line_of[dtm] < 0) & (doc.keys(dtm, 1) == _K["232"])]
    first = _first(loops.claim_of[dtm], dtm, n)
    claim_date = np.full(n, _NAT, dtype="datetime64[D]")
    claim_date[first >= 0] = doc.dates(first[first >= 0], 2, "DTM02 (claim date)")
    return _Claims(rows=rows, payment=payment, seq=np.arange(n) - _first_of_group(payment) + 1,
                   claim_id=doc.texts(rows, 1), status=doc.codes(rows, 2), charge=charge, paid=paid,
                   charge_dec=charge_dec, paid_dec=paid_dec, patient_resp=resp, patient_resp_present=resp_present,
                   payer_claim_id=doc.texts(rows, 7), claim_date=claim_date)


def _lines(doc: Document, loops: _Loops) -> _Lines:
    """SVC01-05 of every service line, with its DTM*472/150 date, REF*6R and AMT*B6."""
    rows = loops.svc_rows
    n = len(rows)
    line_of = loops.line_of
    doc.require(rows, 1, "SVC01 (procedure)")
    charge, _, _ = doc.amounts(rows, 2, "SVC02 (line charge)", True)
    paid, _, _ = doc.amounts(rows, 3, "SVC03 (line payment)", True)
    units = doc.numbers(rows, 5, "SVC05 (units)", default=1.0)
    procedure, modifiers = _procedures(doc, rows)

    def first_of_line(seg_id: str, qualifiers: tuple[int, ...]) -> np.ndarray:
        found = loops.attached(doc, seg_id)
        q = doc.keys(found, 1)
        wanted = q == qualifiers[0]
        for other in qualifiers[1:]:
            wanted |= q == other
        found = found[(line_of[found] >= 0) & wanted]
        return _first(line_of[found], found, n)

    first = first_of_line("DTM", (_K["472"], _K["150"]))
    dates = np.full(n, _NAT, dtype="datetime64[D]")
    dates[first >= 0] = doc.dates(first[first >= 0], 2, "DTM02 (service date)")
    control = _per(first_of_line("REF", (_K["6R"],)), lambda r: doc.texts(r, 2), n)
    first = first_of_line("AMT", (_K["B6"],))
    allowed = np.zeros(n, dtype=np.int64)
    allowed_ok = np.zeros(n, dtype=bool)
    allowed[first >= 0], _, allowed_ok[first >= 0] = doc.amounts(first[first >= 0], 2, "AMT02 (allowed amount)",
                                                                 False)
    return _Lines(rows=rows, claim=loops.claim_of[rows], seq=loops.line_seq, procedure=procedure,
                  modifiers=modifiers, charge=charge, paid=paid, units=units, control=control, dates=dates,
                  allowed=allowed, allowed_present=allowed_ok)


_SVC01_SHORT = 128
"""SVC01 values up to this many bytes are split as text, once per distinct value; longer ones (only a
broken or hostile file has them) by byte ranges, never decoded whole."""


def _procedures(doc: Document, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Procedure code and modifiers from SVC01 (qualifier:code:mod1..mod4), vectorized.

    SVC01 repeats a lot (a practice bills a few hundred code and modifier combinations), so each
    distinct SVC01 (with its component separator) is split once, and rows take their values from it.
    Some TR3 transcriptions write `>` between components while ISA16 is `:`; when SVC01 holds no
    ISA16 but does hold `>`, `>` is used so their lines keep their procedure code.
    """
    segs = doc.segs
    a, b = segs.element(rows, 1)
    n = len(rows)
    procedure = np.full(n, None, dtype=object)
    modifier = np.full(n, None, dtype=object)
    missing = np.zeros(n, dtype=bool)
    comp = (np.array([ord(d.component) & 0xFF for d in segs.delimiters_of(rows)], dtype=np.int64)
            if len(segs.blocks) > 1 else np.full(n, ord(segs.blocks[0].delimiters.component) & 0xFF
                                                  if segs.blocks else 58, dtype=np.int64))
    short = np.flatnonzero(b - a <= _SVC01_SHORT)
    group, first = segs.distinct(a[short], b[short])
    if len(segs.blocks) > 1:  # the same text under different separators is a different SVC01
        group = np.where(group >= 0, group * 256 + comp[short], -1)
        keyed = np.flatnonzero(group >= 0)
        codes, _ = pd.factorize(group[keyed])
        group[keyed] = codes
        first = keyed[np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)]
    procedures, modifiers, qualifier_only = [], [], []
    for text, sep in zip(segs.texts(a[short[first]], b[short[first]]), comp[short[first]].tolist(), strict=True):
        sep = chr(sep)
        if sep not in text and ">" in text:
            sep = ">"
        parts = text.split(sep)
        procedures.append(parts[1] if len(parts) > 1 and parts[1] else None)
        mods = parts[2:6] if len(parts) > 2 and parts[2] else []
        modifiers.append(":".join(m for m in mods if m) or None)
        qualifier_only.append(len(parts) < 2 or not parts[1])
    has = short[group >= 0]
    procedure[has] = object_array(procedures)[group[group >= 0]]
    modifier[has] = object_array(modifiers)[group[group >= 0]]
    missing[has] = np.array(qualifier_only, dtype=bool)[group[group >= 0]]
    long = np.flatnonzero(b - a > _SVC01_SHORT)
    if len(long):
        _long_procedures(segs, a[long], b[long], comp[long], long, procedure, modifier, missing)
    doc.report("missing element", "warning", rows[missing], "SVC01 has no procedure code (only a qualifier)")
    return procedure, modifier


def _long_procedures(segs, a: np.ndarray, b: np.ndarray, comp: np.ndarray, at: np.ndarray, procedure: np.ndarray,
                     modifier: np.ndarray, missing: np.ndarray) -> None:
    """`_procedures` of long SVC01 values, from the byte ranges of their first six components."""
    for i in range(len(a)):  # the `>` fallback, decided per value (few values are long)
        c = int(comp[i])
        if segs.raw.find(bytes([c]), int(a[i]), int(b[i])) < 0 and segs.raw.find(b">", int(a[i]), int(b[i])) >= 0:
            comp[i] = ord(">")
    for c in np.unique(comp).tolist():
        sel = np.flatnonzero(comp == c)
        starts, ends = components(segs.buf, segs.raw, a[sel], b[sel], c, 6)
        procedure[at[sel]] = segs.codes(starts[:, 1], ends[:, 1])
        has_mods = np.flatnonzero(ends[:, 2] > starts[:, 2])
        sep = chr(c)

        def join(s: str, sep: str = sep) -> str | None:
            return ":".join(p for p in s.split(sep)[:4] if p) or None

        modifier[at[sel[has_mods]]] = segs.codes(starts[has_mods, 2], ends[has_mods, 5], join)
        missing[at[sel[ends[:, 1] <= starts[:, 1]]]] = True


def _adjustments(doc: Document, loops: _Loops) -> _Adjustments:
    """CAS triplets in long form, in file order: claim, line (-1 = claim level), group, reason, amount."""
    segs = doc.segs
    cas = loops.attached(doc, "CAS")
    doc.require(cas, 1, "CAS01 (group code)")
    ag, bg = segs.element(cas, 1)
    group = segs.codes(ag, bg)
    known = np.isin(segs.keys(ag, bg), _GROUP_KEYS)

    def unknown_group(i: int) -> str:
        g = group[np.searchsorted(cas, i)]
        shown = f" '{g}'" if _SHOWN_ID.match(g) and len(g) == 2 else ""
        return f"CAS01{shown} is not a group code (CO, PR, OA, PI or CR)"

    doc.report("group code", "warning", cas[pd.notna(group) & ~known], unknown_group)
    doc.report("cas", "error", cas[segs.count(cas) > 19], "CAS has more than 6 adjustments; the extra ones are ignored")
    keys, reasons, amounts, decs, qtys = [], [], [], [], []
    count = segs.count(cas)
    for t in range(6):
        written = np.flatnonzero(count >= 2 + 3 * t)  # the CAS that reach triplet t (most have one triplet)
        if not len(written):
            break
        ranges = segs.element_ranges(cas[written], (2 + 3 * t, 3 + 3 * t, 4 + 3 * t))
        (ar, br), (aa, ba), (aq, bq) = ranges[2 + 3 * t], ranges[3 + 3 * t], ranges[4 + 3 * t]
        has = (br > ar) | (ba > aa) | (bq > aq)
        rows = cas[written[has]]
        if not len(rows):
            continue
        ar, br = ar[has], br[has]
        cents, dec, _ = doc.amounts_of(rows, aa[has], ba[has], f"CAS{3 + 3 * t:02d} (adjustment amount)", True)
        doc.report("missing element", "error", rows[br <= ar], f"CAS{2 + 3 * t:02d} (reason code) is missing")
        keys.append(written[has] * 8 + t)
        reasons.append(segs.codes(ar, br))
        amounts.append(cents)
        decs.append(dec)
        qtys.append(doc.numbers_of(rows, aq[has], bq[has], f"CAS{4 + 3 * t:02d} (quantity)"))
    if not keys:
        e = np.zeros(0, np.int64)
        return _Adjustments(row=e, claim=e, line=e, line_seq=e, group=np.zeros(0, object),
                            reason=np.zeros(0, object), amount=e, decimals=e, quantity=np.zeros(0))
    key = np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    idx = key[order] // 8
    rows = cas[idx]
    line = loops.line_of[rows]
    line_seq = np.where(line >= 0, loops.line_seq[np.maximum(line, 0)] if len(loops.line_seq) else 0, 0)
    return _Adjustments(row=rows, claim=loops.claim_of[rows], line=line, line_seq=line_seq,
                        group=group[idx], reason=np.concatenate(reasons)[order],
                        amount=np.concatenate(amounts)[order], decimals=np.concatenate(decs)[order],
                        quantity=np.concatenate(qtys)[order])


def _remarks(doc: Document, loops: _Loops) -> _Remarks:
    """Remark codes: LQ02 (line level, or claim level when misplaced), MIA05/20-23 and MOA03-07."""
    segs = doc.segs
    keys, codes = [], []
    for seg_id, elems in (("LQ", (2,)), ("MIA", (5, 20, 21, 22, 23)), ("MOA", (3, 4, 5, 6, 7))):
        rows = loops.attached(doc, seg_id)
        if seg_id == "LQ":
            doc.require(rows, 2, "LQ02 (remark code)")
        for k in elems:
            a, b = segs.element(rows, k)
            keep = b > a
            keys.append(rows[keep].astype(np.int64) * 32 + k)
            codes.append(segs.codes(a[keep], b[keep]))
    key = np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    rows = key[order] // 32
    line = np.where(segs.code[rows] == _IDS["LQ"], loops.line_of[rows], -1)
    has_line = line >= 0
    line_seq = np.where(has_line, loops.line_seq[np.maximum(line, 0)] if len(loops.line_seq) else 0, 0)
    return _Remarks(claim=loops.claim_of[rows], line_seq=line_seq, has_line=has_line,
                    code=np.concatenate(codes)[order])


def _provider_adjustments(doc: Document, loops: _Loops) -> _ProviderAdjustments:
    """PLB adjustment pairs (PLB03/04 .. PLB13/14) in long form; composite reason `WO:ref` split."""
    segs = doc.segs
    plb = doc.rows("PLB")
    doc.require(plb, 1, "PLB01 (provider identifier)")
    doc.require(plb, 2, "PLB02 (fiscal period date)")
    provider = doc.texts(plb, 1)
    fiscal = doc.dates(plb, 2, "PLB02 (fiscal period date)")
    doc.report("plb", "error", plb[segs.count(plb) > 14], "PLB has more than 6 adjustments; the extra ones are ignored")
    keys, codes, amounts, decs = [], [], [], []
    for t in range(6):
        ac, bc = segs.element(plb, 3 + 2 * t)
        aa, ba = segs.element(plb, 4 + 2 * t)
        has = (bc > ac) | (ba > aa)
        rows = plb[has]
        if not len(rows):
            continue
        ac, bc = ac[has], bc[has]
        cents, dec, _ = doc.amounts_of(rows, aa[has], ba[has], f"PLB{4 + 2 * t:02d} (adjustment amount)", True)
        doc.report("missing element", "error", rows[bc <= ac], f"PLB{3 + 2 * t:02d} (adjustment reason) is missing")
        keys.append(np.flatnonzero(has) * 8 + t)
        codes.extend(segs.texts(ac, bc))
        amounts.append(cents)
        decs.append(dec)
    if not keys:
        e = np.zeros(0, np.int64)
        return _ProviderAdjustments(row=e, payment=e, provider=np.zeros(0, object), date=np.zeros(0, "datetime64[D]"),
                                    reason=np.zeros(0, object), reference=np.zeros(0, object), amount=e, decimals=e)
    key = np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    idx = key[order] // 8
    rows = plb[idx]
    reason, reference = [], []
    for text, d in zip(np.array(codes, dtype=object)[order].tolist(), segs.delimiters_of(rows), strict=True):
        head, _, tail = text.partition(d.component)
        reason.append(head or None)
        reference.append(tail or None)
    return _ProviderAdjustments(row=rows, payment=doc.tx_index(rows), provider=provider[idx], date=fiscal[idx],
                                reason=object_array(reason), reference=object_array(reference),
                                amount=np.concatenate(amounts)[order], decimals=np.concatenate(decs)[order])


def _line_balance(doc: Document, lines: _Lines, adj: _Adjustments) -> None:
    """Every service line: SVC02 - the line's CAS == SVC03."""
    at_line = adj.line >= 0
    cas = _sum_by(adj.line[at_line], adj.amount[at_line], len(lines.rows))
    charge, paid = lines.charge, lines.paid
    doc.report("unbalanced line", "error", lines.rows[charge - cas != paid], _by_row(lines.rows, lambda i: (
        f"service line does not balance: charge {_money(charge[i])} - adjustments {_money(cas[i])}"
        f" = {_money(charge[i] - cas[i])}, paid {_money(paid[i])}")))


def _claim_balance(doc: Document, claims: _Claims, adj: _Adjustments) -> None:
    """Every claim: CLP03 - all CAS of the claim (claim and line level) == CLP04."""
    cas = _sum_by(adj.claim, adj.amount, len(claims.rows))
    charge, paid = claims.charge, claims.paid
    doc.report("unbalanced claim", "error", claims.rows[charge - cas != paid], _by_row(claims.rows, lambda i: (
        f"claim does not balance: charge {_money(charge[i])} - adjustments {_money(cas[i])}"
        f" = {_money(charge[i] - cas[i])}, paid {_money(paid[i])}")))


def _payment_balance(doc: Document, pay: _Payments, claims: _Claims, plb: _ProviderAdjustments) -> _PaymentBalance:
    """Every payment: BPR02 == sum(CLP04) - sum(PLB amounts)."""
    npay = len(doc.txs)
    clp04 = _sum_by(claims.payment, claims.paid, npay)
    plb_sum = _sum_by(plb.payment, plb.amount, npay)
    balanced = pay.amount == clp04 - plb_sum
    # at the BPR, or at the ST of a transaction without one (rows in payment order)
    rows = np.where(pay.bpr >= 0, pay.bpr, doc.envelope.st_row[doc.txs])
    doc.report("unbalanced payment", "error", rows[~balanced], _by_row(rows, lambda j: (
        f"payment does not balance: claim payments {_money(clp04[j])} - provider adjustments "
        f"{_money(plb_sum[j])} = {_money(clp04[j] - plb_sum[j])}, BPR02 {_money(pay.amount[j])}")))
    return _PaymentBalance(claims_paid=clp04, provider_adjustments=plb_sum, balanced=balanced)


def _tables(doc: Document, pay: _Payments, claims: _Claims, lines: _Lines, adj: _Adjustments, remarks: _Remarks,
            plb: _ProviderAdjustments, balance: _PaymentBalance) -> RemittanceColumns:
    """The six tables as typed columns, the per-transaction figures and the decimals of the totals."""
    nclaims = len(claims.rows)
    # a claim without DTM*232 takes its first service line's date
    first_line = _first(lines.claim, np.arange(len(lines.rows)), nclaims)
    line_date = np.full(nclaims, _NAT, dtype="datetime64[D]")
    line_date[first_line >= 0] = lines.dates[first_line[first_line >= 0]]
    service_date = np.where(np.isnat(claims.claim_date), line_date, claims.claim_date)

    def claim_keys(claim: np.ndarray) -> dict[str, np.ndarray]:
        return {"payment_id": pay.ids[claims.payment[claim]], "claim_seq": claims.seq[claim],
                "claim_id": claims.claim_id[claim]}

    npay = len(doc.txs)
    tables: dict[str, Columns] = {
        "payments": {
            "payment_id": pay.ids, "payer_name": pay.payer_name, "payer_ref": pay.payer_ref,
            "payee_npi": pay.payee_npi, "method": pay.method, "amount": pay.amount,
            "payment_date": pay.payment_date, "trace_number": pay.trace,
            "source_file": np.full(npay, doc.source, dtype=object),
        },
        "claim_payments": {
            "payment_id": pay.ids[claims.payment], "claim_seq": claims.seq, "claim_id": claims.claim_id,
            "status_code": claims.status, "charge": claims.charge, "paid": claims.paid,
            "patient_resp": _nullable(claims.patient_resp, claims.patient_resp_present),
            "payer_claim_id": claims.payer_claim_id, "service_date": service_date,
        },
        "line_payments": {
            **claim_keys(lines.claim), "line_seq": lines.seq, "procedure_code": lines.procedure,
            "modifiers": lines.modifiers, "charge": lines.charge, "paid": lines.paid, "units": lines.units,
            "line_control": lines.control, "service_date": lines.dates,
            "allowed": _nullable(lines.allowed, lines.allowed_present),
        },
        "adjustments": {
            **claim_keys(adj.claim), "line_seq": _nullable(adj.line_seq, adj.line >= 0), "group_code": adj.group,
            "reason_code": adj.reason, "amount": adj.amount, "quantity": adj.quantity,
        },
        "remarks": {**claim_keys(remarks.claim), "line_seq": _nullable(remarks.line_seq, remarks.has_line),
                    "code": remarks.code},
        "provider_adjustments": {
            "payment_id": pay.ids[plb.payment], "provider_id": plb.provider, "fiscal_date": plb.date,
            "reason_code": plb.reason, "reference": plb.reference, "amount": plb.amount,
        },
    }
    transactions: Columns = {
        "payment_id": pd.array(pay.ids.tolist(), dtype="str"),
        "st02": pd.array([doc.envelope.st02[t] for t in doc.txs.tolist()], dtype="str"),
        "segment": doc.envelope.st_row[doc.txs] + 1,
        "claims": np.bincount(claims.payment, minlength=npay)[:npay] if npay else np.zeros(0, np.int64),
        "amount": pay.amount,
        "claims_paid": balance.claims_paid,
        "provider_adjustments": balance.provider_adjustments,
        "balanced": balance.balanced,
    }
    decimals = {
        "payments.amount": pay.decimals,
        "claim_payments.charge": claims.charge_dec,
        "claim_payments.paid": claims.paid_dec,
        "adjustments.amount": adj.decimals,
        "provider_adjustments.amount": plb.decimals,
    }
    return RemittanceColumns(tables=tables, transactions=transactions, decimals=decimals)


# ---------------------------------------------------------------------------------------------
# The steps and their order

STEPS: dict[str, tuple[Callable, tuple[str, ...]]] = {
    "loops": (_loops, ()),
    "payments": (_payments, ("loops",)),
    "adjustments": (_adjustments, ("loops",)),
    "claims": (_claims, ("loops",)),
    "lines": (_lines, ("loops",)),
    "remarks": (_remarks, ("loops",)),
    "provider_adjustments": (_provider_adjustments, ("loops",)),
    "line_balance": (_line_balance, ("lines", "adjustments")),
    "claim_balance": (_claim_balance, ("claims", "adjustments")),
    "payment_balance": (_payment_balance, ("payments", "claims", "provider_adjustments")),
    "tables": (_tables, ("payments", "claims", "lines", "adjustments", "remarks", "provider_adjustments",
                         "payment_balance")),
}
"""Each step of the 835 mapping: its function and the steps whose results it takes (after the document).

Listed in the order `run_steps` uses by default; any other order that respects the inputs gives the
same result, but this one needs the least memory at the peak (adjustments, the largest, before the
claims and lines: measured on a 50 MB file, 250 MB of heap and 400 MB resident, against 266 and 436 MB
with the lines first)."""


def run_steps(doc: Document, order: Sequence[str] | None = None) -> dict[str, object]:
    """Run every step once, in `order` (default: as listed in `STEPS`); each result by step name.

    A step whose inputs are not there yet is refused (`ValueError`), never run with something
    missing. Results are frozen while the steps run (their arrays read-only), so no step can
    change what another one computed.
    """
    order = list(order) if order is not None else list(STEPS)
    if sorted(order) != sorted(STEPS):
        raise ValueError(f"the steps are {', '.join(STEPS)}, each once")
    results: dict[str, object] = {}
    frozen: list[np.ndarray] = []
    try:
        for name in order:
            function, needs = STEPS[name]
            missing = [n for n in needs if n not in results]
            if missing:
                raise ValueError(f"step '{name}' needs {', '.join(repr(m) for m in missing)} first")
            results[name] = function(doc, *(results[n] for n in needs))
            frozen += _freeze(results[name])
    finally:
        for array in frozen:
            array.setflags(write=True)
    return results


def _freeze(value: object) -> list[np.ndarray]:
    """Make the writable numpy arrays of a step's result read-only; returns them (to thaw later)."""
    if not dataclasses.is_dataclass(value):
        return []
    out = []
    for f in dataclasses.fields(value):
        array = getattr(value, f.name)
        if isinstance(array, np.ndarray) and array.flags.writeable:
            array.setflags(write=False)
            out.append(array)
    return out
