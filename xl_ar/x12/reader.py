"""The generic X12 reader: one file read for one transaction set, ready for its mapper.

`read_document(data, source, transaction_set)` tokenizes the file once (`tokens`), checks the
envelope (`envelope`), finds the transactions of the set (`ST01`), reports what lies outside
them or is unknown inside them, and returns a `Document`. A mapper (`era` for the 835) then asks
the document for rows of a segment id and for elements of those rows as typed columns (codes,
text, exact cents, dates), every bad or missing value becoming a finding at its position.

Findings name the file, the transaction (ST02) and the segment position and id, never a value
that could identify a patient. Only a file with no readable X12 at all raises (`X12Error`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from xl_ar.findings import Collector, Location, Severity
from xl_ar.money import format_cents
from xl_ar.x12.envelope import Envelope, Positions, read_envelope
from xl_ar.x12.tokens import (
    ENVELOPE_IDS,
    OTHER,
    SegmentCodes,
    Segments,
    parse_date,
    parse_decimal,
    to_cents,
    to_float,
    tokenize,
)

_ENVELOPE_CODES = tuple(range(1, len(ENVELOPE_IDS) + 1))
_SE = ENVELOPE_IDS.index("SE") + 1
_TA1 = ENVELOPE_IDS.index("TA1") + 1


@dataclass(frozen=True)
class TransactionSet:
    """What a mapper reads: the transaction set id (ST01) and the segment ids it knows.

    A segment of another id inside one of its transactions is reported as unknown and ignored.
    """

    id: str
    """ST01: `835`, `837`, `271`, `277`, ..."""
    name: str
    """What people call it, for messages: `835 remittance`."""
    segments: tuple[str, ...]
    """Every segment id the set uses inside ST..SE (envelope ids excepted)."""

    @property
    def ids(self) -> SegmentCodes:
        return _codes(self.segments)


_CODE_CACHE: dict[tuple[str, ...], SegmentCodes] = {}


def _codes(segments: tuple[str, ...]) -> SegmentCodes:
    if segments not in _CODE_CACHE:
        _CODE_CACHE[segments] = SegmentCodes(segments)
    return _CODE_CACHE[segments]


class Document:
    """One X12 file read for one transaction set.

    Rows are segment positions from 0 (non-empty segments); a row's transaction is `tx_of[row]`
    (its ST and SE excluded: the body), and `body` marks the rows inside transactions of the set.
    `txs` lists those transactions in file order; `tx_index(rows)` gives each row's place in that
    list (a mapper's payment, claim batch or response).
    """

    def __init__(self, source: str, segs: Segments, transaction_set: TransactionSet, envelope: Envelope,
                 findings: Collector):
        self.source = source
        self.segs = segs
        self.set = transaction_set
        self.ids = segs.ids
        self.envelope = envelope
        self.findings = findings
        self.where = Positions(segs, envelope)
        n = len(segs)
        ntx = len(envelope)
        label = np.zeros(n + 1, dtype=np.int32)
        if ntx:
            np.add.at(label, envelope.st_row + 1, np.arange(1, ntx + 1, dtype=np.int32))
            np.add.at(label, envelope.end_row, -np.arange(1, ntx + 1, dtype=np.int32))
        np.cumsum(label, out=label)
        label -= 1
        self.tx_of = label[:n]
        """The transaction of each row's body (-1 outside any transaction, and for ST and SE rows)."""
        ours = np.array([s == transaction_set.id for s in envelope.st01], dtype=bool)
        self.txs = np.flatnonzero(ours)
        """The transactions of the set, in file order."""
        self.body = (self.tx_of >= 0) & ours[np.maximum(self.tx_of, 0)] if ntx else np.zeros(n, dtype=bool)
        """Rows inside a transaction of the set."""
        self._tx_index = np.full(max(ntx, 1), -1, dtype=np.int64)
        self._tx_index[self.txs] = np.arange(len(self.txs))
        self._kept_rows: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        self.parts: np.ndarray | None = None
        """Byte offsets where each file starts, when several files are read together (see `era.read_835_files`)."""
        self.other = dict(Counter(s or "?" for s in envelope.st01 if s != transaction_set.id))
        """Transactions of other sets in the file, counted by ST01 (they are skipped)."""

    def __len__(self) -> int:
        return len(self.segs)

    # -- rows --------------------------------------------------------------------------------------
    def rows(self, seg_id: str, mask: np.ndarray | None = None) -> np.ndarray:
        """Rows of one segment id inside the set's transactions (and inside `mask` when given).

        With a read-only `mask` (a mapper's frozen loop membership) the rows are kept, read-only, and
        handed out again to the next step that asks while that mask lives.
        """
        if mask is not None and not mask.flags.writeable:
            kept = self._kept_rows.get((seg_id, id(mask)))
            if kept is not None and kept[0] is mask:
                return kept[1]
        found = np.flatnonzero(self.segs.code == self.ids[seg_id])  # then narrowed: two passes over the file, not four
        found = found[self.body[found]]
        if mask is not None:
            found = found[mask[found]]
        if mask is not None and not mask.flags.writeable:
            found.setflags(write=False)
            self._kept_rows[(seg_id, id(mask))] = (mask, found)
        return found

    def tx_index(self, rows: np.ndarray) -> np.ndarray:
        """Each row's place among the set's transactions (`txs`), -1 outside them."""
        return self._tx_index[self.tx_of[np.asarray(rows, dtype=np.int64)]]

    # -- elements as typed columns -----------------------------------------------------------------
    def codes(self, rows: np.ndarray, k: int) -> np.ndarray:
        """Element k of rows as strings (None when empty): for values that repeat (codes)."""
        a, b = self.segs.element(rows, k)
        return self.segs.codes(a, b)

    def texts(self, rows: np.ndarray, k: int) -> np.ndarray:
        """Element k of rows as strings (None when empty): for values that are mostly distinct."""
        a, b = self.segs.element(rows, k)
        out = np.empty(len(rows), dtype=object)
        out[:] = self.segs.texts(a, b, empty=None)
        return out

    def keys(self, rows: np.ndarray, k: int) -> np.ndarray:
        """Integer keys of element k (`tokens.small_key`), for comparing short qualifiers fast."""
        a, b = self.segs.element(rows, k)
        return self.segs.keys(a, b)

    def amounts(self, rows: np.ndarray, k: int, name: str,
                required: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact cents, decimals and presence of element k.

        A bad or (when `required`) missing amount is an error finding and reads as 0. An amount
        with digits beyond the cent (the R type allows `135.821`) is rounded to the cent half away
        from zero, with a warning naming the element and both values; its decimals are then 2 (the
        figure kept), otherwise the number of decimals written.
        """
        return self.amounts_of(rows, *self.segs.element(rows, k), name, required)

    def amounts_of(self, rows: np.ndarray, a: np.ndarray, b: np.ndarray, name: str,
                   required: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`amounts` of byte ranges already found (`Segments.element` of `rows`)."""
        mant, dec, ok = parse_decimal(self.segs.buf, a, b)
        cents, good, rounded = to_cents(mant, dec, ok)
        present = b > a
        self.report("bad number", "error", rows[present & ~good], f"{name} is not a valid amount; read as 0")
        if required:
            self.report("missing element", "error", rows[~present], f"{name} is missing; read as 0")
        if rounded.any():
            at = np.flatnonzero(rounded)
            order = np.argsort(rows[at], kind="stable")
            at, at_rows = at[order], rows[at][order]

            def message(row: int) -> str:
                i = int(at[np.searchsorted(at_rows, row)])
                written = self.segs.texts(a[i:i + 1], b[i:i + 1])[0]
                return f"{name} {written} has more than two decimals; read as {format_cents(int(cents[i]))}"

            self.report("rounded amount", "warning", rows[at], message)
        return cents, np.where(rounded, 2, np.where(good, dec, 0)), present

    def numbers(self, rows: np.ndarray, k: int, name: str, default: float = np.nan) -> np.ndarray:
        """Element k as floats (quantities, units): `default` when empty; a bad one is a warning (NaN)."""
        return self.numbers_of(rows, *self.segs.element(rows, k), name, default)

    def numbers_of(self, rows: np.ndarray, a: np.ndarray, b: np.ndarray, name: str,
                   default: float = np.nan) -> np.ndarray:
        """`numbers` of byte ranges already found (`Segments.element` of `rows`)."""
        mant, dec, ok = parse_decimal(self.segs.buf, a, b)
        self.report("bad number", "warning", rows[(b > a) & ~ok], f"{name} is not a number")
        return np.where(b > a, to_float(mant, dec, ok), default)

    def dates(self, rows: np.ndarray, k: int, name: str) -> np.ndarray:
        """Element k as CCYYMMDD dates (NaT when empty); a bad one is a warning."""
        a, b = self.segs.element(rows, k)
        dates, ok = parse_date(self.segs.buf, a, b)
        self.report("bad date", "warning", rows[(b > a) & ~ok], f"{name} is not a valid CCYYMMDD date")
        return dates

    def require(self, rows: np.ndarray, k: int, name: str, severity: Severity = "error", why: str = "") -> None:
        """Report the rows whose element k is empty (`why`: what it means for the reading, appended)."""
        a, b = self.segs.element(rows, k)
        self.report("missing element", severity, rows[b <= a], f"{name} is missing{why}")

    # -- findings ----------------------------------------------------------------------------------
    def report(self, code: str, severity: Severity, rows: np.ndarray, message: str | Callable[[int], str]) -> None:
        """One finding per row, located by its segment position (capped per code, see `Collector`)."""
        self.findings.add_rows(code, severity, rows, self.where, message)

    def report_mask(self, code: str, severity: Severity, mask: np.ndarray, message: str | Callable[[int], str]) -> None:
        """`report` of the rows where `mask` is true (no array of all of them: see `Collector.add_mask`)."""
        self.findings.add_mask(code, severity, mask, self.where, message)

    def report_at(self, code: str, severity: Severity, where: Location, message: str) -> None:
        self.findings.add(code, severity, where, message)


def file_name(source: str) -> str:
    """The file name shown in findings (a folder part is dropped)."""
    return re.split(r"[\\/]", str(source))[-1]


def read_document(data: bytes | str, source: str, transaction_set: TransactionSet) -> Document:
    """Read a file for one transaction set. Raises `X12Error` (a `TokenError`) only when the file
    has no readable X12 at all."""
    source = file_name(source)
    segs = tokenize(data, source, transaction_set.ids)
    findings = Collector(source)
    findings.extend(segs.findings)
    envelope = read_envelope(segs, findings)
    doc = Document(source, segs, transaction_set, envelope, findings)
    code = segs.code
    outside = (doc.tx_of < 0) & ((code < _ENVELOPE_CODES[0]) | (code > _ENVELOPE_CODES[-1]))  # no isin: no sort
    doc.report_mask("outside", "warning", outside, "segment outside any ST..SE transaction; ignored")
    if not len(doc.txs):
        doc.report_at("file", "warning", Location(), f"the file holds no {transaction_set.id} transaction")
    unknown = doc.body & ((code == OTHER) | (code <= _TA1))
    doc.report_mask("unknown segment", "warning", unknown,
               f"unknown segment in an {transaction_set.id}; ignored")
    return doc
