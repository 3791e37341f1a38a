"""The envelope of an X12 file: interchanges (ISA..IEA), functional groups (GS..GE) and transaction
sets (ST..SE), with the checks every transaction type shares.

Checked: SE01 (segment count) and SE02 (= ST02), GE01 (transaction count) and GE02 (= GS06),
IEA01 (group count) and IEA02 (= ISA13), and that every header has its trailer. A transaction
set without its SE ends where the next ST, GS, ISA, GE or IEA starts (or at the end of the file).
Only envelope segments are looked at here (a handful per interchange), one at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from xl_ar.findings import Collector, Location
from xl_ar.x12.tokens import ENVELOPE_IDS, OTHER, Segments, object_array, parse_decimal

_ISA, _GS, _ST, _SE, _GE, _IEA, _TA1 = range(1, len(ENVELOPE_IDS) + 1)
_SHOWN_CONTROL = re.compile(r"^[A-Za-z0-9]{1,12}$")
_SHOWN_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_COUNT_DIGITS = {"SE": 10, "GE": 6, "IEA": 5}
"""The longest count each trailer's element 1 may have (X12 element sizes: SE01 N0 1/10, GE01 N0 1/6, IEA01 N0 1/5)."""


@dataclass(frozen=True)
class Envelope:
    """The transaction sets of a file, in file order (arrays aligned, one entry per ST)."""

    st_row: np.ndarray
    """Row of each ST segment (0-based, counting non-empty segments)."""
    end_row: np.ndarray
    """Row of its SE, or of the segment that ended it without one (the file's segment count at the end)."""
    st01: tuple[str, ...]
    """Transaction set identifier (`835`, `837`, `271`, ...)."""
    st02: tuple[str, ...]
    """Transaction set control number."""
    convention: tuple[str, ...]
    """Implementation convention: ST03, else the GS08 of its group (`005010X221A1`); may be empty."""

    def __len__(self) -> int:
        return len(self.st_row)

    def label(self, tx: int) -> str:
        """How a transaction is named in messages: `ST 0001` (its ST02), or `ST #2` (its place in the file)
        when ST02 is not a plain control number."""
        st02 = self.st02[tx]
        return f"ST {st02}" if _SHOWN_CONTROL.match(st02) else f"ST #{tx + 1}"


class Positions:
    """`Location`s of segment rows: `ST 0001, segment 42 (CLP)` (positions count non-empty segments from 1)."""

    def __init__(self, segs: Segments, envelope: Envelope):
        self.segs = segs
        self.envelope = envelope

    def __call__(self, row: int) -> Location:
        row = int(row)
        segs = self.segs
        code = int(segs.code[row]) if row < len(segs) else OTHER
        sid = segs.ids.name(code) if code != OTHER else None
        if sid is None:
            text = segs.segment_id(row) if row < len(segs) else ""
            sid = text if _SHOWN_ID.match(text) else "?"
        env = self.envelope
        tx = int(np.searchsorted(env.st_row, row, side="right")) - 1
        inside = tx >= 0 and (row < env.end_row[tx] or (row == env.end_row[tx] and code == _SE))
        return Location(transaction=env.label(tx) if inside else None, segment=row + 1, segment_id=sid)

    def transaction(self, tx: int) -> Location:
        """The ST segment of a transaction."""
        return Location(transaction=self.envelope.label(tx), segment=int(self.envelope.st_row[tx]) + 1,
                        segment_id="ST")


def _number(text: str) -> bool:
    """ASCII digits only (`str.isdigit` also accepts characters such as '²' that `int` rejects)."""
    return text.isascii() and text.isdigit()


def _el(elements: list[str], i: int) -> str:
    return elements[i].strip() if len(elements) > i else ""


def _at(row: int, sid: str) -> Location:
    return Location(segment=row + 1, segment_id=sid)


class _Check:
    """Walks the envelope segments once, keeping the open interchange, group and transaction."""

    def __init__(self, segs: Segments, findings: Collector):
        self.segs = segs
        self.findings = findings
        self.st: tuple[int, str, str, str] | None = None  # row, ST01, ST02, ST03
        self.gs: tuple[int, str, str] | None = None  # row, GS06, GS08
        self.gs_count = 0  # transactions in the open group
        self.isa: tuple[int, str] | None = None  # row, ISA13
        self.isa_count = 0  # groups in the open interchange
        self.st_row: list[int] = []
        self.end_row: list[int] = []
        self.st01: list[str] = []
        self.st02: list[str] = []
        self.convention: list[str] = []

    def error(self, where: Location, message: str) -> None:
        self.findings.add("envelope", "error", where, message)

    def _name(self, st02: str) -> str:
        return f"ST {st02}" if _SHOWN_CONTROL.match(st02) else f"ST #{len(self.st02) + 1}"

    def _record(self, end: int) -> None:
        assert self.st is not None
        row, st01, st02, st03 = self.st
        self.st_row.append(row)
        self.end_row.append(end)
        self.st01.append(st01)
        self.st02.append(st02)
        self.convention.append(st03 or (self.gs[2] if self.gs is not None else ""))
        self.st = None

    def close_st(self, end: int, reason: str) -> None:
        """A transaction that ends without its SE (at row `end`)."""
        if self.st is None:
            return
        row, _, st02, _ = self.st
        self.error(Location(transaction=self._name(st02), segment=row + 1, segment_id="ST"),
                   f"transaction has no SE trailer ({reason})")
        self._record(end)

    def close_gs(self, reason: str = "") -> None:
        if self.gs is not None:
            self.error(_at(self.gs[0], "GS"), f"functional group has no GE trailer{reason}")
            self.gs = None

    def _trailer(self, where: Location, e: list[str], counted: tuple[str, str, int], control: tuple[str, str]) -> None:
        """A trailer's two checks: element 1 counts what its header opened (`counted`: unit, container,
        count), element 2 repeats the header's control number (`control`: value, which element)."""
        sid = where.segment_id
        unit, container, count = counted
        number, repeated = _el(e, 1), _el(e, 2)
        digits = _COUNT_DIGITS[sid or ""]
        if not _number(number):
            self.error(where, f"{sid}01 ({unit} count) is missing or not a number")
        elif len(number.lstrip("0")) > digits:  # range-checked before int(): 5,000 digits are no crash
            self.error(where, f"{sid}01 ({unit} count) is a number of {len(number.lstrip('0')):,} digits; "
                              f"at most {digits} are allowed")
        elif int(number) != count:
            self.error(where, f"{sid}01 says {int(number)} {unit}s but the {container} has {count}")
        if repeated != control[0]:
            self.error(where, f"{sid}02 does not match {control[1]}")

    def on_st(self, r: int, e: list[str]) -> None:
        self.close_st(r, f"a new ST starts at segment {r + 1}")
        self.st = (r, _el(e, 1), _el(e, 2), _el(e, 3))
        if self.gs is not None:
            self.gs_count += 1
        elif self.segs.envelope:
            self.error(_at(r, "ST"), "ST outside a GS functional group")

    def on_se(self, r: int, e: list[str]) -> None:
        if self.st is None:
            self.error(_at(r, "SE"), "SE without a matching ST")
            return
        row, _, st02, _ = self.st
        where = Location(transaction=self._name(st02), segment=r + 1, segment_id="SE")
        self._trailer(where, e, ("segment", "transaction", r - row + 1), (st02, "ST02"))
        self._record(r)

    def on_gs(self, r: int, e: list[str]) -> None:
        self.close_st(r, "a GS follows")
        self.close_gs()
        self.gs = (r, _el(e, 6), _el(e, 8))
        self.gs_count = 0
        if self.isa is not None:
            self.isa_count += 1
        else:
            self.error(_at(r, "GS"), "GS outside an ISA interchange")

    def on_ge(self, r: int, e: list[str]) -> None:
        self.close_st(r, "a GE follows")
        if self.gs is None:
            self.error(_at(r, "GE"), "GE without a matching GS")
            return
        self._trailer(_at(r, "GE"), e, ("transaction", "group", self.gs_count),
                      (self.gs[1], "GS06 (group control number)"))
        self.gs = None

    def on_isa(self, r: int, e: list[str]) -> None:
        self.close_st(r, "an ISA follows")
        self.close_gs()
        if self.isa is not None:
            self.error(_at(self.isa[0], "ISA"), "interchange has no IEA trailer")
        self.isa = (r, _el(e, 13))
        self.isa_count = 0

    def on_iea(self, r: int, e: list[str]) -> None:
        self.close_st(r, "an IEA follows")
        self.close_gs()
        if self.isa is None:
            self.error(_at(r, "IEA"), "IEA without a matching ISA")
            return
        self._trailer(_at(r, "IEA"), e, ("group", "interchange", self.isa_count),
                      (self.isa[1], "ISA13 (interchange control number)"))
        self.isa = None

    def at_end(self, n: int) -> Envelope:
        self.close_st(n, "the file ends")
        self.close_gs(" (the file ends)")
        if self.isa is not None:
            self.error(_at(self.isa[0], "ISA"), "interchange has no IEA trailer (the file ends)")
        return Envelope(st_row=np.array(self.st_row, dtype=np.int64), end_row=np.array(self.end_row, dtype=np.int64),
                        st01=tuple(self.st01), st02=tuple(self.st02), convention=tuple(self.convention))


def read_envelope(segs: Segments, findings: Collector) -> Envelope:
    """The transaction sets of the file, with every envelope problem added to `findings`."""
    check = _Check(segs, findings)
    handlers = {_ISA: check.on_isa, _GS: check.on_gs, _ST: check.on_st, _SE: check.on_se, _GE: check.on_ge,
                _IEA: check.on_iea}
    short_isa = (segs.code == _ISA) & segs.fewer_separators(16)  # not a header: the tokenizer reads an ISA with 16
    # reported together, not walked one by one: `~ISA*` repeated is no slow path
    findings.add_mask("envelope", "error", short_isa, lambda r: _at(r, "ISA"),
                      "ISA segment with fewer than 16 elements; ignored")
    rows = np.flatnonzero((segs.code >= _ISA) & (segs.code <= _IEA) & ~short_isa)
    regular = _regular(segs, rows)
    if regular is not None:
        return regular
    for r, c in zip(rows.tolist(), segs.code[rows].tolist(), strict=True):
        handlers[c](r, segs.elements(r))
    return check.at_end(len(segs))


_LETTERS = np.frombuffer(b"?IGSEgi", dtype=np.uint8)
"""One letter per envelope code (ISA, GS, ST, SE, GE, IEA) for matching the envelope's shape."""
_REGULAR = re.compile(rb"(?:IG(?:SE)+g(?:G(?:SE)+g)*i)+")
"""Interchanges of groups of transactions, every header with its trailer."""


def _regular(segs: Segments, rows: np.ndarray) -> Envelope | None:
    """The envelope of a file whose envelope is complete and correct, read column-wise; None otherwise.

    Thousands of small interchanges concatenated are read without a Python step per segment. Only a
    file with nothing to report takes this path: every header has its trailer in order, every count
    and control number agrees exactly as written. Anything else (a missing trailer, a count off, a
    value with blanks around it, a bare ST..SE file) is walked segment by segment by `read_envelope`,
    which reports each problem.
    """
    if not segs.envelope or not len(rows):
        return None
    code = segs.code[rows]
    if _REGULAR.fullmatch(_LETTERS[code].tobytes()) is None:
        return None
    # each code's elements looked up in one call (each row's bounds read once, not once per element)
    wanted = {_ISA: (13,), _GS: (6, 8), _ST: (1, 2, 3), _SE: (1, 2), _GE: (1, 2), _IEA: (1, 2)}
    at = {c: rows[code == c] for c in wanted}
    got = {c: segs.element_ranges(at[c], ks) for c, ks in wanted.items()}

    def texts(c: int, k: int, repeated: bool = False) -> list[str]:
        """Element k of the segments of code c, without blanks around (checked on the bytes first);
        `repeated` values (ST01, conventions) are decoded once each."""
        a, b = got[c][k]
        values = _repeated_texts(segs, a, b) if repeated else segs.texts(a, b)
        return [v.strip() for v in values] if segs.blank_edged(a, b).any() else values

    def count(c: int, digits: int) -> np.ndarray | None:
        """Element 1 of the trailers of code c as numbers: None unless each is 1 to `digits` ASCII digits."""
        a, b = got[c][1]
        if not len(a) or int((b - a).max()) > digits or not segs.digits_only(a, b):
            return None
        return parse_decimal(segs.buf, a, b)[0]

    st_row, se_row = at[_ST], at[_SE]
    gs_of_st = np.cumsum(code == _GS)[code == _ST] - 1
    isa_of_gs = np.cumsum(code == _ISA)[code == _GS] - 1
    counts = ((_SE, se_row - st_row + 1, 10),
              (_GE, np.bincount(gs_of_st, minlength=len(at[_GS])), 6),
              (_IEA, np.bincount(isa_of_gs, minlength=len(at[_ISA])), 5))
    for c, actual, digits in counts:
        written = count(c, digits)
        if written is None or not np.array_equal(written, actual):
            return None
    if not (segs.same_bytes(got[_SE][2], got[_ST][2]) and segs.same_bytes(got[_GE][2], got[_GS][6])
            and segs.same_bytes(got[_IEA][2], got[_ISA][13])):
        return None
    gs08 = texts(_GS, 8, repeated=True)
    st03 = texts(_ST, 3, repeated=True)
    if all(st03):
        conventions = st03
    elif not any(st03):  # no ST03 at all: each transaction takes its group's GS08
        conventions = object_array(gs08)[gs_of_st].tolist()
    else:
        conventions = [c or gs08[g] for c, g in zip(st03, gs_of_st.tolist(), strict=True)]
    return Envelope(st_row=st_row.astype(np.int64), end_row=se_row.astype(np.int64),
                    st01=tuple(texts(_ST, 1, repeated=True)), st02=tuple(texts(_ST, 2)), convention=tuple(conventions))


def _repeated_texts(segs: Segments, a: np.ndarray, b: np.ndarray) -> list[str]:
    """Strings of byte ranges ("" for empty) that mostly repeat: one value decoded once when every range
    holds the same bytes (ST01 `835` in every interchange), else each distinct value decoded once."""
    if len(a) and segs.same_bytes((a, b), (np.broadcast_to(a[:1], a.shape), np.broadcast_to(b[:1], b.shape))):
        return [segs.texts(a[:1], b[:1])[0]] * len(a)
    return [v or "" for v in segs.codes(a, b).tolist()]
