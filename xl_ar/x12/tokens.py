"""X12 delimiters and a columnar segment tokenizer.

An X12 file is a run of segments; the ISA header says which bytes separate elements (the byte
after `ISA`), components (ISA16), repetitions (ISA11 in 5010) and segments (the byte after
ISA16). Real files bend the rules: the ISA may not be padded to its fixed width, the segment
terminator may be `~`, `~` plus a line break, a bare line break, or sit at the start of the next
line; files get concatenated (several ISA, possibly with different delimiters); some files are a
bare `ST..SE` transaction set with no envelope at all.

Why columnar: a Python loop that splits every segment into a list of elements costs about a
microsecond per segment, several times the budget for reading a 50 MB remittance. Here the file
is scanned once with numpy: segments are `[start, end)` byte ranges, element separators are one
sorted array of byte positions, and segment ids are small integer codes. A reader then asks for
"element 3 of these rows" as arrays of byte ranges and only turns into Python strings what it keeps.

Everything works on the input bytes (no decoded copy of the file is kept): delimiters are
detected on small decoded windows, and only the values kept become Python strings (ASCII files
are decoded as such, others as UTF-8 with replacement characters).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from xl_ar.errors import TokenError
from xl_ar.findings import Finding, Location
from xl_ar.money import MAX_CENTS

_WS_CHARS = " \t\r\n\x0b\x0c"
_WS = np.zeros(256, dtype=bool)
_WS[[ord(c) for c in _WS_CHARS]] = True
_ISA_MAX = 400
"""How far (bytes) to look for the 16 element separators of an ISA; a padded ISA is 106 bytes."""


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators of one interchange."""

    element: str
    component: str
    segment: str
    repetition: str | None = None

    def describe(self) -> str:
        rep = f", repetition {self.repetition!r}" if self.repetition else ""
        return f"element {self.element!r}, component {self.component!r}, segment {self.segment!r}{rep}"


ENVELOPE_IDS: tuple[str, ...] = ("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1")
"""The envelope segments: the same small codes (1-7) in every transaction set's `SegmentCodes`."""
OTHER = 0
"""The code of a segment id that a `SegmentCodes` does not list."""


def small_key(text: str) -> int:
    """The integer key of a 1-3 character ASCII string, as `Segments.keys` computes it (its bytes
    little-endian: the first byte lowest)."""
    b = text.encode("latin-1")
    if not 1 <= len(b) <= 3:
        return -1
    return int.from_bytes(b, "little")


_MULTIPLIERS = tuple(np.uint32(m) for m in (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1,
                                            0xD3A2646C | 1, 0xFD7046C5, 0xB55A4F09))
"""Odd 32-bit multipliers tried in turn for `SegmentCodes`' direct table."""


class SegmentCodes:
    """Small integer codes of the segment ids one transaction set uses, for columnar reading.

    The envelope ids come first (`ENVELOPE_IDS`: ISA = 1 ... TA1 = 7, the same in every set), then
    the set's own ids in the order given; any other id is `OTHER` (0). A reader asks "which rows
    are CLP" as `codes == CODES["CLP"]` instead of comparing strings segment by segment.
    """

    def __init__(self, ids: tuple[str, ...] = ()):
        self.ids: tuple[str, ...] = tuple(dict.fromkeys((*ENVELOPE_IDS, *ids)))
        self._code = {sid: i + 1 for i, sid in enumerate(self.ids)}
        order = sorted(self.ids, key=small_key)
        self._keys = np.array([small_key(sid) for sid in order], dtype=np.int32)
        self._codes = np.array([self._code[sid] for sid in order], dtype=np.int16)
        # a direct table by a multiplicative hash of the key, with a multiplier under which no two listed
        # ids share a slot (found here; a key is then one multiply, one shift and one check away from its code)
        self._direct: tuple[np.uint32, np.ndarray, np.ndarray] | None = None
        keys = self._keys.astype(np.uint32)
        for multiplier in _MULTIPLIERS:
            slot = (keys * multiplier) >> np.uint32(16)
            if len(np.unique(slot)) == len(slot):
                table = np.full(1 << 16, -1, dtype=np.int32), np.zeros(1 << 16, dtype=np.int16)
                table[0][slot] = self._keys
                table[1][slot] = self._codes
                self._direct = (multiplier, *table)
                break

    def __getitem__(self, sid: str) -> int:
        return self._code[sid]

    def name(self, code: int) -> str | None:
        """The segment id of a code (None for `OTHER`)."""
        return self.ids[code - 1] if 0 < code <= len(self.ids) else None

    def of_keys(self, keys: np.ndarray) -> np.ndarray:
        """The code of each segment key (`small_key` of its id), `OTHER` for ids not listed."""
        if self._direct is not None:
            multiplier, table_keys, table_codes = self._direct
            slot = (keys.view(np.uint32) * multiplier) >> np.uint32(16)
            return np.where(table_keys[slot] == keys, table_codes[slot], np.int16(OTHER))
        slot = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return np.where(self._keys[slot] == keys, self._codes[slot], OTHER).astype(np.int16)

    def table(self, ids) -> np.ndarray:
        """A boolean lookup by code: `table(("CLP", "SVC"))[codes]` marks those segments."""
        t = np.zeros(len(self.ids) + 1, dtype=bool)
        t[[self._code[sid] for sid in ids]] = True
        return t


ENVELOPE = SegmentCodes()
"""Codes that know only the envelope segments (what `tokenize` uses when no set is given)."""


@dataclass(slots=True)
class Block:
    """A byte range of the file read with one set of delimiters (one or more interchanges)."""

    lo: int
    hi: int
    delimiters: Delimiters
    envelope: bool


_Bounds = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Of some rows: each one's end, index in `Segments.seps` of its first separator, and count of separators."""


@dataclass(slots=True)
class Segments:
    """Every non-empty segment of a file as byte ranges into one buffer.

    `code[i]` is the small integer code of segment i's id in `ids` (`OTHER` when not listed);
    `start`/`end` bound the segment without its terminator and surrounding white space;
    `seps` holds the positions of all element separators (each block's own separator), sorted;
    `first_sep[i]` indexes `seps` at the first separator at or after `start[i]`, and
    `first_sep[i + 1] - first_sep[i]` separators fall inside segment i (`first_sep` has one entry
    more than there are segments: `len(seps)`), so element k (k >= 1) spans
    `seps[first_sep + k - 1] + 1 .. seps[first_sep + k]` (or `end` for the last element).
    `block_rows[j]` is the first row of block j (one entry more than there are blocks). Per segment
    the columns take 14 bytes, plus 4 per separator: a file of millions of tiny segments stays small.
    """

    raw: bytes
    buf: np.ndarray
    start: np.ndarray
    end: np.ndarray
    code: np.ndarray
    first_sep: np.ndarray
    seps: np.ndarray
    block_rows: np.ndarray
    blocks: list[Block]
    ascii: bool
    ids: SegmentCodes
    """The segment codes `code` was computed with."""
    findings: list[Finding] = field(default_factory=list)
    _memo: dict = field(default_factory=dict, repr=False)
    """Element ranges already computed for read-only row arrays (see `element_ranges`)."""

    def __len__(self) -> int:
        return len(self.start)

    @property
    def envelope(self) -> bool:
        """True when the file has an ISA envelope (False for a bare ST..SE file)."""
        return any(b.envelope for b in self.blocks)

    @property
    def nsep(self) -> np.ndarray:
        """Element separators in each segment (computed: a new array each time)."""
        return np.diff(self.first_sep)

    def fewer_separators(self, k: int) -> np.ndarray:
        """Which segments have fewer than `k` element separators (worked in slices: one byte a row)."""
        out = np.empty(len(self), dtype=bool)
        for sl in _chunks(len(self), 1 << 20):
            out[sl] = self.first_sep[sl.start + 1:sl.stop + 1] - self.first_sep[sl] < k
        return out

    def block_of(self, rows: np.ndarray) -> np.ndarray:
        """The block (index in `blocks`) of each row."""
        return np.searchsorted(self.block_rows, rows, side="right") - 1

    def segment_id(self, row: int) -> str:
        """The id of one segment (text before its first element separator)."""
        s, e = int(self.start[row]), int(self.end[row])
        if self.first_sep[row + 1] > self.first_sep[row]:
            e = min(e, int(self.seps[self.first_sep[row]]))
        return self._str(s, e)

    def elements(self, row: int) -> list[str]:
        """The elements of one segment, element 0 being the id (slow path: one segment)."""
        el = self.blocks[int(self.block_of(np.array([row]))[0])].delimiters.element
        return self._str(int(self.start[row]), int(self.end[row])).split(el)

    def segment_text(self, row: int) -> str:
        """The text of one segment (never put it in a message: it may hold patient data)."""
        return self._str(int(self.start[row]), int(self.end[row]))

    def element(self, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Byte ranges `(a, b)` of element k (1-based) of each row; `a == b` when absent or empty."""
        return self.element_ranges(rows, (k,))[k]

    def element_ranges(self, rows: np.ndarray, ks) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """`element` for several k of the same rows (each row's bounds looked up once).

        For a read-only `rows` array (a mapper's frozen row sets, asked for element after element)
        the ranges are kept and handed out again, read-only, while that array lives.
        """
        ks = tuple(ks)
        if min(ks, default=1) < 1:
            raise ValueError("elements are numbered from 1")
        if isinstance(rows, np.ndarray) and not rows.flags.writeable:
            return self._kept_ranges(rows, ks)
        return self._ranges(np.asarray(rows), ks)

    def _kept_ranges(self, rows: np.ndarray, ks: tuple[int, ...]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        kept = self._memo.get(id(rows))
        if kept is None or kept[0] is not rows:
            if len(self._memo) >= 32:
                self._memo.clear()
            kept = self._memo[id(rows)] = (rows, {}, [])
        done, bounds = kept[1], kept[2]
        missing = tuple(k for k in ks if k not in done)
        if missing:
            if not bounds:  # each row's bounds, looked up once for all the elements asked of these rows
                bounds.append(self._bounds(rows))
            for k, (a, b) in self._ranges(rows, missing, bounds[0]).items():
                a.setflags(write=False)
                b.setflags(write=False)
                done[k] = (a, b)
        return {k: done[k] for k in ks}

    def _bounds(self, rows: np.ndarray) -> _Bounds:
        """Of each row: its end, the index in `seps` of its first separator, and its number of separators."""
        end = self.end[rows]
        fs = self.first_sep[rows]
        nsep = self.first_sep[rows + 1]
        nsep -= fs
        for array in (end, fs, nsep):
            array.setflags(write=False)
        return end, fs, nsep

    def _ranges(self, rows: np.ndarray, ks: tuple[int, ...],
                bounds: _Bounds | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """`element_ranges` computed; consecutive elements share the separator between them (one lookup)."""
        if not len(self.seps):
            end = self.end[rows]
            return {k: (end.copy(), end.copy()) for k in ks}
        end, fs, nsep = bounds if bounds is not None else self._bounds(rows)
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        previous: tuple[int, np.ndarray] | None = None  # the separator before the next element, when known
        for k in sorted(set(ks)):
            if previous is not None and previous[0] == k - 1:
                a = previous[1] + 1  # the separator ending element k - 1 starts element k
            else:
                a = np.take(self.seps, fs + (k - 1), mode="clip")  # the separator before element k (clipped:
                a += 1  # beyond the segment when absent)
            b = np.take(self.seps, fs + k, mode="clip")
            np.copyto(a, end, where=nsep < k)
            previous = (k, b)  # b + 1 starts element k + 1; where b becomes `end` below, nsep <= k and
            np.copyto(b, end, where=nsep <= k)  # element k + 1 is absent: its start is set to `end` then
            out[k] = (a, b)
        return {k: out[k] for k in ks}

    def count(self, rows: np.ndarray) -> np.ndarray:
        """Number of elements (after the id) of each row, trailing empty ones included."""
        rows = np.asarray(rows, dtype=np.int64)
        return self.first_sep[rows + 1] - self.first_sep[rows]

    def texts(self, a: np.ndarray, b: np.ndarray, empty: str | None = "") -> list:
        """Python strings of byte ranges; empty ones become `empty`."""
        return self.text_array(a, b, empty).tolist()

    def text_array(self, a: np.ndarray, b: np.ndarray, empty: str | None = "") -> np.ndarray:
        """Strings of byte ranges as an object array; empty ones become `empty`.

        Many short ranges are decoded together: their bytes are gathered with a byte that none of them
        holds between each two, decoded once and split at that byte (C speed, no Python call per value).
        A long range, or a chunk whose ranges use every ASCII byte, is decoded on its own.
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        out = np.empty(len(a), dtype=object)
        length = b - a
        encoding = "ascii" if self.ascii else "utf-8"
        raw = self.raw
        short = np.flatnonzero((length > 0) & (length <= _JOIN_MAX))
        for sl in _byte_chunks(length[short]):
            rows = short[sl]
            values = _joined_texts(self.buf, a[rows], length[rows], encoding)
            if values is None:
                values = [raw[x:y].decode(encoding, "replace") for x, y in zip(a[rows].tolist(), b[rows].tolist(),
                                                                                strict=True)]
            out[rows] = object_array(values)
        long = np.flatnonzero(length > _JOIN_MAX)
        if len(long):
            out[long] = object_array([raw[x:y].decode(encoding, "replace")
                                  for x, y in zip(a[long].tolist(), b[long].tolist(), strict=True)])
        out[length <= 0] = empty
        return out

    def codes(self, a: np.ndarray, b: np.ndarray, transform=None) -> np.ndarray:
        """Strings of byte ranges as an object array (None for empty), fast for repeated codes.

        Only the distinct values are decoded (`distinct`: status, group, reason, remark and procedure
        codes repeat a lot). `transform`, if given, is applied to each distinct non-empty string.
        """
        group, first = self.distinct(a, b)
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        values = self.texts(a[first], b[first])
        if transform is not None:
            values = [transform(v) for v in values]
        out = np.full(len(a), None, dtype=object)
        has = group >= 0
        out[has] = object_array(values)[group[has]]
        return out

    def distinct(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which byte ranges hold the same bytes: `(group, first)`.

        `group[i]` numbers the distinct non-empty values (-1 for an empty range) and `first[g]` is
        the index of a range holding value g. Exact: ranges of up to 7 bytes are packed into one
        integer; ranges of 8-24 bytes are hashed from three 64-bit words and every match is checked
        word by word (a collision is settled by the bytes); longer ranges count as distinct, each its own
        value (a code is short: only free text or a hostile file has long ones).
        """
        a = np.asarray(a, dtype=np.int64)
        length = np.asarray(b, dtype=np.int64) - a
        group = np.full(len(a), -1, dtype=np.int64)
        firsts: list[np.ndarray] = []
        count = 0

        def number(rows: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            nonlocal count
            g, _ = pd.factorize(key)  # numbered in order of first appearance
            f = np.flatnonzero(np.diff(np.maximum.accumulate(g), prepend=-1) > 0)
            group[rows] = g + count
            firsts.append(rows[f])
            count += len(f)
            return g, f

        short = np.flatnonzero((length > 0) & (length <= 7))
        if len(short):
            number(short, _packed(self.raw, self.buf, a[short], length[short]))
        medium = np.flatnonzero((length > 7) & (length <= 24))
        by_bytes: list[int] = []
        if len(medium):
            words = _words3(self.raw, self.buf, a[medium], length[medium])
            size = length[medium].astype(np.uint64)
            g, f = number(medium, words[0] ^ (words[1] * _MIX[0]) ^ (words[2] * _MIX[1]) ^ (size * _MIX[2]))
            same = (words[:, f[g]] == words).all(axis=0) & (size[f[g]] == size)
            by_bytes = medium[~same].tolist()
        long = np.flatnonzero(length > 24)  # each its own value: long texts are not copied to be compared
        if len(long):
            group[long] = count + np.arange(len(long))
            firsts.append(long)
            count += len(long)
        if by_bytes:
            seen: dict[bytes, int] = {}
            extra = []
            for i in by_bytes:
                value = self.raw[int(a[i]):int(a[i] + length[i])]
                if value not in seen:
                    seen[value] = count + len(extra)
                    extra.append(i)
                group[i] = seen[value]
            firsts.append(np.array(extra, dtype=np.int64))
            count += len(extra)
        return group, np.concatenate(firsts) if firsts else np.zeros(0, dtype=np.int64)

    def blank_edged(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Which non-empty byte ranges begin or end with a blank (to be stripped when read as text)."""
        buf = self.buf
        if not len(buf):
            return np.zeros(len(a), dtype=bool)
        return (b > a) & (_WS[buf[np.minimum(a, len(buf) - 1)]] | _WS[buf[np.maximum(b - 1, 0)]])

    def same_bytes(self, first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]) -> bool:
        """Whether two columns of byte ranges hold the same bytes row by row; False (not known) when they
        differ in length or a range is longer than 24 bytes."""
        (a1, b1), (a2, b2) = first, second
        if len(a1) != len(a2) or not np.array_equal(b1 - a1, b2 - a2) or int((b1 - a1).max(initial=0)) > 24:
            return False
        return bool((_words3(self.raw, self.buf, a1, b1 - a1) == _words3(self.raw, self.buf, a2, b2 - a2)).all())

    def digits_only(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether every byte range is non-empty and holds ASCII digits only."""
        width = b - a
        if not len(a) or int(width.min()) < 1:
            return not len(a)
        chars, valid = _gather(self.buf, a, width, int(width.max()))
        return not ((chars < 48) | (chars > 57))[valid].any()

    def keys(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Integer key (see `small_key`) of each range of 1-3 bytes, 0 for other lengths."""
        return _keys(self.buf, a, b)

    def delimiters_of(self, rows: np.ndarray) -> list[Delimiters]:
        """The delimiters in force at each row."""
        return [self.blocks[i].delimiters for i in self.block_of(np.asarray(rows, dtype=np.int64)).tolist()]

    def _str(self, a: int, b: int) -> str:
        return self.raw[a:b].decode("ascii" if self.ascii else "utf-8", "replace")


def object_array(values: list) -> np.ndarray:
    """A 1-d object array of a list (never a 2-d array, whatever the values look like)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


_KEY_MASKS = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0], dtype=np.uint32)
"""By length (0-3, then 4 for longer): the bytes of a 32-bit word that a key keeps (none: no key)."""


def _keys(buf: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`small_key` of each range of 1-3 bytes, 0 for other lengths (no id or qualifier has key 0).

    Each range is read as one unaligned little-endian 32-bit word masked to its length: one gather
    per range instead of one per byte.
    """
    n = len(buf)
    a = np.asarray(a)
    length = np.asarray(b) - a
    if n == 0 or len(a) == 0:
        return np.zeros(len(a), dtype=np.int32)
    np.clip(length, 0, 4, out=length)
    if n >= 4:
        words = _words_at(buf, 4)
        key = (words[np.minimum(a, n - 4)] & _KEY_MASKS[length]).view(np.int32)
        tail = np.flatnonzero(a > n - 4)
    else:
        key = np.zeros(len(a), dtype=np.int32)
        tail = np.arange(len(a))
    for i in tail.tolist():  # within 4 bytes of the end
        x, size = int(a[i]), int(length[i])
        key[i] = int.from_bytes(buf[x:x + size].tobytes(), "little") if 1 <= size <= 3 else 0
    return key


def to_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    """The input as bytes (text is UTF-8 encoded; UTF-16 with a BOM is re-encoded; a UTF-8 BOM is
    dropped)."""
    raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else bytes(data)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        with contextlib.suppress(UnicodeDecodeError):
            raw = raw.decode("utf-16").encode("utf-8")
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    return raw


def _window(raw: bytes, p: int) -> str:
    """The header-sized piece of the file at `p`, as text (latin-1: one character per byte)."""
    return raw[p:p + 2 * _ISA_MAX].decode("latin-1")


def isa_delimiters(text: str, p: int) -> tuple[Delimiters, list[str]] | str:
    """Delimiters of the ISA starting at `p`, and its elements; or the reason it is unreadable.

    Counts 16 element separators instead of using fixed offsets, so an ISA that is not padded to
    its 106 characters reads as well as a padded one.
    """
    if text[p:p + 3] != "ISA" or len(text) < p + 5:
        return "no ISA segment"
    el = text[p + 3]
    if el.isalnum() or el in _WS_CHARS:
        return "the byte after ISA is not a usable element separator"
    q = p + 3
    limit = min(len(text), p + _ISA_MAX)
    for _ in range(15):
        q = text.find(el, q + 1, limit)
        if q < 0:
            return "the ISA segment does not have 16 elements"
    if q + 1 >= len(text):
        return "the file ends inside the ISA segment"
    comp = text[q + 1]
    elements = [*text[p:q + 1].split(el)[:16], comp]
    term = _terminator_after(text, q + 2)
    if comp.isalnum() or comp in _WS_CHARS or comp == el:
        return "ISA16 (component separator) is missing or not a separator"
    if term is None or term in (el, comp) or term.isalnum():
        return "no segment terminator after ISA16"
    rep = elements[11] if len(elements) > 12 else ""
    version = elements[12] if len(elements) > 12 else ""
    repetition = None
    if len(rep) == 1 and not rep.isalnum() and rep not in (el, comp, term, " ") and version >= "00501":
        repetition = rep
    return Delimiters(el, comp, term, repetition), elements


def _terminator_after(text: str, i: int) -> str | None:
    """The segment terminator given the character after the last element of a header segment.

    White space there means either a line-break terminator or a terminator written at the start of
    the next line (`\\n~GS...`): the first non-blank character decides.
    """
    if i >= len(text):
        return None
    c = text[i]
    if c not in _WS_CHARS:
        return c
    j = i
    while j < len(text) and j < i + _ISA_MAX and text[j] in _WS_CHARS:
        j += 1
    run = text[i:j]
    if j < len(text) and not text[j].isalnum() and text[j] not in _WS_CHARS:
        return text[j]
    return "\n" if "\n" in run else c


def _bare_delimiters(text: str, p: int) -> Delimiters | None:
    """Delimiters of a file that starts with `ST` (no envelope): element from the byte after ST,
    terminator from the first byte ending the ST segment; component `:` assumed."""
    el = text[p + 2] if p + 2 < len(text) else ""
    if not el or el.isalnum() or el in _WS_CHARS:
        return None
    i = p + 3
    limit = min(len(text), p + 80)
    while i < limit and (text[i].isalnum() or text[i] == el):
        i += 1
    term = _terminator_after(text, i)
    if term is None or term == el or term.isalnum():
        term = "~" if el != "~" else "\n"
    comp = next(c for c in (":", ">", "^", "\\", "!") if c not in (el, term))
    return Delimiters(el, comp, term, None)


_START = Location(part="start of file")
_BLANKS = re.compile(rb"[ \t\r\n\x0b\x0c]*")
_ISA_START = re.compile(rb"ISA[^0-9A-Za-z\s]")
_ST_START = re.compile(rb"(?:^|[~\n\r])[ \t\r\n]*(ST[^0-9A-Za-z\s])")


def find_blocks(raw: bytes, source: str) -> tuple[list[Block], list[Finding]]:
    """The byte ranges of the file and their delimiters; raises `TokenError` when nothing is X12."""
    findings: list[Finding] = []
    p = _BLANKS.match(raw).end()  # a regex, not a Python loop: 100 MB of leading blanks is linear
    if p >= len(raw):
        raise TokenError("the file is empty", source=source)
    first_isa = p if _ISA_START.match(raw, p) else None
    if first_isa is None:
        m = _ISA_START.search(raw, p)
        st = _ST_START.search(raw)  # from 0: `^` only matches at the real start of the file
        if m and (st is None or m.start() < st.start(1)):
            first_isa = m.start()
            findings.append(Finding("warning", source, _START,
                                    f"{first_isa - p} characters before the ISA header were skipped", "file"))
        elif st:
            q = st.start(1)
            d = _bare_delimiters(_window(raw, q), 0)
            if d is None:
                raise TokenError("no ISA header and the ST segment has no usable element separator", source=source)
            if q > p:
                findings.append(Finding("warning", source, _START,
                                        f"{q - p} characters before the first ST were skipped", "file"))
            findings.append(Finding("warning", source, _START,
                                    f"no ISA/GS envelope: read as a bare transaction set ({d.describe()})", "file"))
            return [Block(q, len(raw), d, False)], findings
        else:
            raise TokenError("not an X12 file: no ISA or ST segment found (is it a text file?)", source=source)
    got = isa_delimiters(_window(raw, first_isa), 0)
    if isinstance(got, str):
        raise TokenError(f"unreadable ISA header: {got}", source=source)
    blocks = [Block(first_isa, len(raw), got[0], True)]
    for nxt, d in _later_isas(raw, first_isa + 4, got[0]):
        if d != blocks[-1].delimiters:
            blocks[-1].hi = nxt
            blocks.append(Block(nxt, len(raw), d, True))
    return blocks, findings


def _later_isas(raw: bytes, start: int, first: Delimiters):
    """Each later ISA that starts a segment (after the terminator or at the start of a line) and whose
    header may change the delimiters, with its delimiters, in file order.

    One pass over the file: candidates are screened a window at a time with numpy (an `ISA`, a
    separator after it, 16 element separators within `_ISA_MAX` bytes, then a component separator),
    so a file of `~ISA*` repeated costs linear time. The delimiters depend only on the element
    separator, ISA11, ISA12 and what follows the 16th separator up to the first non-blank byte: a
    header whose bytes there equal the current header's, right after a terminator or a line break,
    keeps the delimiters and is passed over without a Python step (thousands of small interchanges
    concatenated); the others are read by `isa_delimiters`, through a cache keyed by those bytes.
    """
    buf = np.frombuffer(raw, dtype=np.uint8)
    current = first
    shape = _header_shape(buf, start - 4)
    known: dict[bytes, Delimiters | None] = {}
    lo = start
    while lo < len(raw):
        hi = min(len(raw), lo + _SCAN)
        found, sep11, sep13, sep16 = _isa_candidates(buf, lo, hi)
        i = 0
        while i < len(found):
            p, s11, s13, q = found[i:], sep11[i:], sep13[i:], sep16[i:]
            term = ord(current.segment) & 0xFF
            prev = buf[p - 1]
            boundary = (prev == term) | (prev == 10)
            unsure = _WS[prev] & ~boundary  # blanks other than a line break before the ISA: look further back
            same = boundary & _same_shape(buf, p, s11, s13, q, shape) if shape is not None else np.zeros(len(p), bool)
            look = np.flatnonzero((boundary & ~same) | unsure)
            if not len(look):
                break
            j = int(look[0])
            i += j + 1
            p, s11, s13, q = int(p[j]), int(s11[j]), int(s13[j]), int(q[j])
            last = _last_nonblank(buf, raw, p, start)
            if last < 0 or (raw[last] != term and raw.find(b"\n", last + 1, p) < 0):
                continue  # not at a segment boundary: an `ISA` inside an element
            blank_end = _BLANKS.match(raw, q + 2, min(len(raw), q + 66)).end()
            key = raw[p + 3:p + 4] + raw[s11:s13 + 1] + raw[q + 1:blank_end + 1] if blank_end < q + 66 else None
            if key is not None and key in known:
                d = known[key]
            else:
                got = isa_delimiters(_window(raw, p), 0)
                d = None if isinstance(got, str) else got[0]
                if key is not None:
                    known[key] = d
            if d is not None:
                current = d
                shape = _header_shape(buf, p)
                yield p, d
        lo = hi


_Shape = tuple[int, int, int, int, int]


def _header_shape(buf: np.ndarray, p: int) -> _Shape | None:
    """What fixes the delimiters of the ISA at `p`, as numbers: element separator, ISA16, the byte after
    it (the terminator), and ISA11 through ISA12 as one masked 64-bit word and its length; None when the
    terminator is a blank or ISA11..ISA12 is longer than 8 bytes (such headers are always read in full)."""
    found, s11, s13, q = _isa_candidates(buf, p, p + 1)
    if not len(found):
        return None
    s11, s13, q = int(s11[0]), int(s13[0]), int(q[0])
    size = s13 - s11 - 1
    if _WS[buf[q + 2]] or not 0 <= size <= 8 or s11 + 9 > len(buf):
        return None
    word = int.from_bytes(buf[s11 + 1:s11 + 1 + size].tobytes(), "little")
    return int(buf[p + 3]), int(buf[q + 1]), int(buf[q + 2]), word, size


def _same_shape(buf: np.ndarray, p: np.ndarray, s11: np.ndarray, s13: np.ndarray, q: np.ndarray,
                shape: _Shape) -> np.ndarray:
    """Which candidate headers have exactly the delimiter bytes of `shape` (vectorised)."""
    el, comp, term, word, size = shape
    n = len(buf)
    same = (buf[p + 3] == el) & (buf[q + 1] == comp) & (buf[np.minimum(q + 2, n - 1)] == term) & (s13 - s11 - 1 == size)
    if n >= 8:
        words = _words_at(buf, 8)
        at = np.minimum(s11 + 1, n - 8)
        same &= (words[at] & _MASKS8[size]) == np.uint64(word)
        same &= s11 + 1 <= n - 8
    else:
        same[:] = False
    return same


def _last_nonblank(buf: np.ndarray, raw: bytes, p: int, floor: int) -> int:
    """Position of the last non-blank byte in `[floor, p)`, -1 if none; the cost follows the blank run."""
    near = raw[max(floor, p - 64):p].rstrip(_WS_CHARS.encode())
    if near:
        return max(floor, p - 64) + len(near) - 1
    hi = max(floor, p - 64)
    while hi > floor:
        lo = max(floor, hi - (1 << 16))
        nonblank = np.flatnonzero(~_WS[buf[lo:hi]])
        if len(nonblank):
            return lo + int(nonblank[-1])
        hi = lo
    return -1


def _isa_candidates(buf: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions p in [lo, hi) where an ISA header may start: `ISA`, a non-alphanumeric, non-blank
    separator, 16 of them within `_ISA_MAX` bytes, a usable ISA16 after the 16th and no letter or digit
    where the terminator goes (vectorised); with the positions of the 11th, 13th and 16th separators.

    A window with a few `ISA` (small interchanges one after the other) reads the `_ISA_MAX` bytes after
    each; a window full of them (`~ISA*` repeated) finds every separator of the window once instead, so
    the cost stays linear in the window either way.
    """
    n = len(buf)
    end = min(hi, n - 4)
    none = np.zeros(0, dtype=np.int64)
    if end <= lo:
        return none, none, none, none
    i = lo + np.flatnonzero(buf[lo:end] == 73)  # every `I` (a few in a hundred bytes), then `SA` after it
    p = i[(buf[i + 1] == 83) & (buf[i + 2] == 65)]
    if not len(p):
        return none, none, none, none
    sep = buf[p + 3]
    p, sep = p[_USABLE[sep]], sep[_USABLE[sep]]
    if len(p) <= _FEW_ISA and len(p) and int(p.max()) + _ISA_MAX <= n:
        # a padded ISA is 106 bytes: look at the first 128 after each, then at `_ISA_MAX` for the few not done
        q, s11, s13 = (np.full(len(p), n, dtype=np.int64) for _ in range(3))
        todo = np.arange(len(p))
        for width in (128, _ISA_MAX):
            # the separators in each candidate's window, row by row: the k-th of row i is at `col[first[i] + k - 1]`
            row, col = np.nonzero(sliding_window_view(buf, width)[p[todo]] == sep[todo, None])
            count = np.bincount(row, minlength=len(todo))
            first = np.cumsum(count) - count
            done = count >= 16
            for out, k in ((q, 16), (s11, 11), (s13, 13)):
                out[todo[done]] = p[todo[done]] + col[first[done] + (k - 1)]
            todo = todo[~done]
            if not len(todo):
                break
        return _isa_usable(buf, p, sep, q, q + 1 < n, s11, s13)
    keep = np.zeros(len(p), dtype=bool)
    s11, s13, s16 = (np.zeros(len(p), dtype=np.int64) for _ in range(3))
    for s in np.flatnonzero(np.bincount(sep, minlength=256)).tolist():  # a handful of distinct separators
        mine = np.flatnonzero(sep == s)
        top = min(n, int(p[mine].max()) + _ISA_MAX)
        where = int(p[mine].min()) + 3
        at = np.flatnonzero(buf[where:top] == s).astype(np.int32)
        rank = np.empty(top - where, dtype=np.int32)  # index in `at` of each separator position
        rank[at] = np.arange(len(at), dtype=np.int32)
        i = rank[p[mine] + 3 - where].astype(np.int64)  # the separator right after ISA (buf[p + 3] == s)
        at = at.astype(np.int64) + where
        ok = i + 15 < len(at)
        last = max(len(at) - 1, 0)
        q = np.where(ok, at[np.minimum(i + 15, last)], n)
        ok &= (q - p[mine] < _ISA_MAX) & (q + 1 < n)
        s11[mine] = at[np.minimum(i + 10, last)] if len(at) else 0
        s13[mine] = at[np.minimum(i + 12, last)] if len(at) else 0
        s16[mine] = q
        keep[mine] = ok
    return _isa_usable(buf, p, sep, s16, keep, s11, s13)


_FEW_ISA = 1024
"""Up to this many `ISA` in a window, the bytes after each are looked at on their own (`_isa_candidates`)."""


def _isa_usable(buf: np.ndarray, p: np.ndarray, sep: np.ndarray, q: np.ndarray, ok: np.ndarray, s11: np.ndarray,
                s13: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The candidates whose ISA16 (after the 16th separator `q`) and the byte after it can be what they are."""
    n = len(buf)
    comp = buf[np.minimum(q + 1, n - 1)]
    term = buf[np.minimum(q + 2, n - 1)]  # the terminator, or a blank before it (read exactly later)
    ok = ok & _USABLE[comp] & (comp != sep) & (q + 2 < n) & (_USABLE[term] | _WS[term]) & (term != sep) & (term != comp)
    return p[ok], s11[ok], s13[ok], q[ok]


_USABLE = np.ones(256, dtype=bool)
"""Bytes that can be a separator: not ASCII letters or digits, not blanks."""
_USABLE[[*range(48, 58), *range(65, 91), *range(97, 123)]] = False
_USABLE[[ord(c) for c in _WS_CHARS]] = False


_FEW = 64
"""Segments with long blank runs trimmed one by one; more are trimmed together."""


def _trim(buf: np.ndarray, raw: bytes, start: np.ndarray, end: np.ndarray) -> None:
    """Move `start` forward and `end` back over white space, in place."""
    n = len(buf)
    if n == 0:
        return
    last = n - 1
    idx = np.flatnonzero(_WS[buf[np.minimum(start, last)]] & (start < end))  # one look at every segment
    start[idx] += 1
    idx = idx[start[idx] < end[idx]]
    for _ in range(3):
        if not len(idx):
            break
        w = _WS[buf[start[idx]]]
        idx = idx[w]
        start[idx] += 1
        idx = idx[start[idx] < end[idx]]
    while len(idx) > _FEW:  # many long runs of blanks: one byte a step for all of them (linear in the blanks)
        w = _WS[buf[start[idx]]]
        idx = idx[w]
        start[idx] += 1
        idx = idx[start[idx] < end[idx]]
    for i in idx.tolist():  # a few long runs: a regex each (C speed, no copy)
        start[i] = min(int(end[i]), _BLANKS.match(raw, int(start[i])).end())
    idx = np.flatnonzero(_WS[buf[np.maximum(end - 1, 0)]] & (start < end))
    end[idx] -= 1
    idx = idx[start[idx] < end[idx]]
    for _ in range(3):
        if not len(idx):
            break
        w = _WS[buf[end[idx] - 1]]
        idx = idx[w]
        end[idx] -= 1
        idx = idx[start[idx] < end[idx]]
    while len(idx) > _FEW:
        w = _WS[buf[end[idx] - 1]]
        idx = idx[w]
        end[idx] -= 1
        idx = idx[start[idx] < end[idx]]
    for i in idx.tolist():
        s = raw[start[i]:end[i]]  # one segment's text, then C-speed stripping
        end[i] -= len(s) - len(s.rstrip(_WS_CHARS.encode()))


def _byte(ch: str) -> int:
    return ord(ch) & 0xFF


def _pos_dtype(size: int) -> type:
    """Byte positions fit in int32 for files under 2 GB: half the memory of int64."""
    return np.int32 if size < 2**31 - 1 else np.int64


_SCAN = 1 << 20


def _scan_block(buf: np.ndarray, raw: bytes, blk: Block,
                dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bounds of the non-blank segments (trimmed), element separators, and per segment the separators
    before it and inside it.

    One pass finds separators and terminators together, in 1 MB slices: each slice's segments are
    trimmed and the empty ones dropped before the next, so memory follows the segments kept, not the
    terminators written (100 MB of `~` is no 100 million rows). The number of separators before each
    terminator gives, without any search, where each segment's elements start in the separator array.
    """
    el, term = _byte(blk.delimiters.element), _byte(blk.delimiters.segment)
    seps, starts, ends, firsts = [], [], [], []
    seg_start, first_carry, nsep = blk.lo, 0, 0
    for lo in [*range(blk.lo, blk.hi, _SCAN), blk.hi]:
        last = lo == blk.hi
        if last:  # the segment after the last terminator (up to the end of the block)
            term_pos = np.array([blk.hi], dtype=dtype)
            before = np.array([nsep], dtype=np.int64)
        else:
            chunk = buf[lo:min(blk.hi, lo + _SCAN)]
            mask = chunk == el
            mask |= chunk == term
            special = np.flatnonzero(mask).astype(dtype)
            special += dtype(lo)
            del mask
            is_term = buf[special] == term
            term_at = np.flatnonzero(is_term)
            term_pos = special[term_at]
            sep = special[~is_term]
            before = nsep + term_at - np.arange(len(term_at))  # separators before each terminator
            seps.append(sep)
            nsep += len(sep)
            del special, is_term, term_at
        if not len(term_pos):
            continue
        start = np.concatenate(([seg_start], term_pos[:-1] + 1)).astype(dtype)
        end = term_pos.astype(dtype, copy=True)
        first = np.concatenate(([first_carry], before[:-1])).astype(dtype)
        seg_start, first_carry = int(term_pos[-1]) + 1, int(before[-1])
        _trim(buf, raw, start, end)
        keep = start < end
        if keep.all():  # the usual slice: no empty segment to drop
            starts.append(start)
            ends.append(end)
            firsts.append(first)
        else:
            starts.append(start[keep])
            ends.append(end[keep])
            firsts.append(first[keep])
    return _join(starts, dtype), _join(ends, dtype), _join(seps, dtype), _join(firsts, dtype)


def _join(parts: list[np.ndarray], dtype) -> np.ndarray:
    """One array of the slices' parts, emptying the list as it goes (one column's copy at a time, not all)."""
    out = np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)
    parts.clear()
    return out


def tokenize(data: bytes | str, source: str, ids: SegmentCodes = ENVELOPE) -> Segments:
    """All segments of a file (see `Segments`), coded with `ids`; raises `TokenError` (naming
    `source`) when the file has no X12 start."""
    raw = to_bytes(data)
    blocks, findings = find_blocks(raw, source)
    buf = np.frombuffer(raw, dtype=np.uint8)
    dtype = _pos_dtype(len(buf))
    starts, ends, seps, firsts, block_rows = [], [], [], [], [0]
    offset = 0
    for blk in blocks:
        s, e, sep, first = _scan_block(buf, raw, blk, dtype)
        starts.append(s)
        ends.append(e)
        if offset:
            first += dtype(offset)
        firsts.append(first)
        seps.append(sep)
        block_rows.append(block_rows[-1] + len(s))
        offset += len(sep)
    firsts.append(np.array([offset], dtype=dtype))
    start, end, sep, first_sep = (parts[0] if len(parts) == 1 else np.concatenate(parts)
                                  for parts in (starts, ends, seps, firsts))
    del starts, ends, seps, firsts
    # Segment id: bytes before the first separator (or the whole segment), as an integer code; in slices of
    # a million segments, so that the temporaries stay small next to the columns kept.
    code = np.empty(len(start), dtype=np.int16)
    for sl in _chunks(len(start), 1 << 20):
        e = end[sl]
        if len(sep):  # the first separator, or the end when the segment has none (the next separator is later)
            id_end = np.take(sep, first_sep[sl], mode="clip")
            np.minimum(id_end, e, out=id_end)
            id_end[first_sep[sl] >= len(sep)] = e[first_sep[sl] >= len(sep)]
        else:
            id_end = e
        code[sl] = ids.of_keys(_keys(buf, start[sl], id_end))
    return Segments(raw=raw, buf=buf, start=start, end=end, code=code, first_sep=first_sep, seps=sep,
                    block_rows=np.array(block_rows, dtype=np.int64), blocks=blocks, ascii=raw.isascii(), ids=ids,
                    findings=findings)


def split_segments(data: bytes | str, source: str = "") -> list[list[str]]:
    """Every segment as a list of elements (element 0 = id): the simple, slow view, for small files
    and tests."""
    segs = tokenize(data, source)
    return [segs.elements(i) for i in range(len(segs))]


# ---------------------------------------------------------------------------------------------
# Values of byte ranges, vectorized: X12 decimals (R) and dates (DT, CCYYMMDD).

_POW10 = 10 ** np.arange(19, dtype=np.int64)
_CHUNK = 65536
_MAX_CENTS = MAX_CENTS
"""Amounts of 10**13 cents (100 billion dollars) or more are treated as unreadable (`xl_ar.money.MAX_CENTS`)."""


def _gather(buf: np.ndarray, a: np.ndarray, length: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `width` bytes of each range as an `(n, width)` matrix (0 past each range's length).

    Rows are copied whole from a sliding-window view of the buffer (one gather of `width`-byte rows,
    not one of `n * width` single bytes); the few ranges within `width` bytes of the end are read
    one byte at a time.
    """
    n = len(buf)
    cols = np.arange(width, dtype=np.int64)
    valid = cols < np.asarray(length)[:, None]
    if n >= width:
        top = n - width
        chars = sliding_window_view(buf, width)[np.minimum(a, top)]
        tail = np.flatnonzero(a > top)
    else:
        chars = np.zeros((len(a), width), dtype=np.uint8)
        tail = np.arange(len(a))
    if len(tail) and n:
        idx = np.minimum(np.asarray(a)[tail, None].astype(np.int64) + cols, n - 1)
        chars[tail] = buf[idx]
    chars[~valid] = 0
    return chars, valid


def _packed(raw: bytes, buf: np.ndarray, a: np.ndarray, length: np.ndarray) -> np.ndarray:
    """One integer per range of 1-7 bytes (its bytes and its length): equal keys, equal bytes.

    Each range is read as one unaligned little-endian 64-bit word and masked to its length, so no
    `(n, 7)` byte matrix is built; ranges within 8 bytes of the end are read one by one.
    """
    n = len(buf)
    a = np.asarray(a, dtype=np.int64)
    length = np.asarray(length, dtype=np.int64)
    key = np.zeros(len(a), dtype=np.uint64)
    if n >= 8:
        key = _words_at(buf, 8)[np.minimum(a, n - 8)] & _MASKS8[length]
        tail = np.flatnonzero(a > n - 8)
    else:
        tail = np.arange(len(a))
    for i in tail.tolist():
        key[i] = int.from_bytes(raw[int(a[i]):int(a[i]) + int(length[i])], "little")
    return (key << np.uint64(3)) | length.astype(np.uint64)


_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)
"""Odd 64-bit multipliers that mix the words of a range into one hash (`Segments.distinct`)."""


def _words3(raw: bytes, buf: np.ndarray, a: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The first 24 bytes of each range as three little-endian 64-bit words, zero past its length."""
    n = len(buf)
    out = np.zeros((3, len(a)), dtype=np.uint64)
    if n >= 8:
        words = _words_at(buf, 8)
        longest = int(length.max(initial=0))
        for j in range(3):
            if 8 * j >= longest:  # every range ends before this word: it stays zero
                break
            left = np.clip(length - 8 * j, 0, 8)
            out[j] = words[np.minimum(a + 8 * j, n - 8)] & _MASKS8[left]
        tail = np.flatnonzero(a + length > n - 8)
    else:
        tail = np.arange(len(a))
    for i in tail.tolist():  # near the end: from the bytes
        value = raw[int(a[i]):int(a[i] + length[i])].ljust(24, b"\0")
        for j in range(3):
            out[j, i] = int.from_bytes(value[8 * j:8 * j + 8], "little")
    return out


_MASKS8 = np.array([(1 << (8 * i)) - 1 for i in range(9)], dtype=np.uint64)
"""By length (0-8): the bytes of a 64-bit word that a range keeps."""


def _words_at(buf: np.ndarray, size: int) -> np.ndarray:
    """A view of the buffer as one little-endian word of `size` bytes (4 or 8) starting at each byte
    position (unaligned reads, no copy): `view[p]` holds bytes `p .. p + size - 1`, the first lowest."""
    return np.ndarray(shape=(len(buf) - size + 1,), dtype=f"<u{size}", buffer=buf, strides=(1,))


_JOIN_MAX = 4096
"""Ranges longer than this are decoded one by one by `Segments.text_array`."""
_JOIN_BYTES = 1 << 20
"""Bytes gathered at a time by `_joined_texts` (bounds its temporaries)."""


def _byte_chunks(length: np.ndarray):
    """Slices of consecutive ranges holding about `_JOIN_BYTES` bytes each (at least one range each)."""
    n = len(length)
    cum = np.cumsum(length + 1)
    lo = 0
    while lo < n:
        base = int(cum[lo - 1]) if lo else 0
        hi = max(lo + 1, int(np.searchsorted(cum, base + _JOIN_BYTES, side="right")))
        yield slice(lo, hi)
        lo = hi


def _joined_texts(buf: np.ndarray, a: np.ndarray, length: np.ndarray, encoding: str) -> list[str] | None:
    """The ranges (all non-empty) decoded together: gathered with a separator byte none of them holds,
    decoded once, split. None when every ASCII byte occurs (then the caller decodes one by one)."""
    total = int(length.sum())
    n = len(a)
    dtype = _pos_dtype(len(buf) + total + n)
    a = a.astype(dtype, copy=False)
    length = length.astype(dtype, copy=False)
    step = np.ones(total + n, dtype=dtype)  # source position of each output byte, by running sum
    seps = np.cumsum(length + 1, dtype=dtype)
    seps -= 1  # where each range's separator goes in the output
    starts = seps - length  # where each range begins in the output
    step[starts[1:]] = a[1:] - (a[:-1] + length[:-1])  # jump from the previous range's separator
    step[0] = a[0]
    src = np.cumsum(step, dtype=dtype)
    src[seps] = 0
    joined = buf[src]
    joined[seps] = 0
    present = np.bincount(joined, minlength=256)
    free = np.flatnonzero(present[1:128] == 0)
    if not len(free):
        return None
    sep = int(free[0]) + 1
    joined[seps] = sep
    text = joined[:-1].tobytes().decode(encoding, "replace")
    values = text.split(chr(sep))
    return values if len(values) == n else None


def _chunks(n: int, size: int = _CHUNK):
    """Row slices of at most `size` rows, so that `(rows, width)` temporaries stay small."""
    return (slice(lo, min(n, lo + size)) for lo in range(0, n, size))


def parse_decimal(buf: np.ndarray, a: np.ndarray, b: np.ndarray,
                  width: int = 24) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X12 decimal numbers of byte ranges: `(mantissa, decimals, ok)`.

    The value is `mantissa / 10**decimals` exactly (`'-12.50'` -> `(-1250, 2, True)`); `decimals`
    counts the digits written after the point, which is also how a total of such numbers is
    written. Accepted: optional leading `-`, ASCII digits, at most one `.`, at least one digit
    (the rules of `xl_ar.money.x12_cents`) and at most 18 significant digits (what the R type allows:
    an R element is at most 18 digits long). Empty or unreadable ranges give `ok = False`.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    n = len(a)
    mant = np.zeros(n, dtype=np.int64)
    dec = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    if n == 0 or len(buf) == 0:
        return mant, dec, ok
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        m, d, k = _parse_chunk(buf, a[lo:hi], b[lo:hi], width)
        mant[lo:hi], dec[lo:hi], ok[lo:hi] = m, d, k
    return mant, dec, ok


def _parse_chunk(buf, a, b, width):
    """Horner's rule over the character positions of the chunk: one pass per position, each reading
    that position's byte of every range (no `(n, width)` matrix). Ranges of up to 8 bytes (amounts
    almost always are) are read once as 64-bit words and their bytes shifted out, not gathered again."""
    length = b - a
    ok = (length > 0) & (length <= width)
    length = np.where(ok, length, 0)
    w = int(length.max(initial=0))
    n = len(a)
    if w == 0:
        return np.zeros(n, np.int64), np.zeros(n, np.int64), ok
    a = np.asarray(a, dtype=np.int64)
    mant = np.zeros(n, np.int64)
    dec = np.zeros(n, np.int64)
    seen_dot = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    any_digit = np.zeros(n, dtype=bool)
    neg = np.zeros(n, dtype=bool)
    last = len(buf) - 1
    word = None
    if w <= 8 and len(buf) >= 8 and int(a.max()) <= len(buf) - 8:  # the usual amount: one 64-bit word each
        word = _words_at(buf, 8)[a] & _MASKS8[length]
    for j in range(w):
        v = length > j
        if word is not None:  # byte j of each range, from its word
            c = (word & np.uint64(0xFF)).astype(np.uint8)
            word >>= np.uint64(8)
        else:
            c = np.take(buf, np.minimum(a + j, last))
        d = c - np.uint8(48)
        digit = v & (d < 10)
        dot = v & (c == 46)
        if j == 0:
            neg = v & (c == 45)
            other = v & ~digit & ~dot & ~neg
        else:
            other = v & ~digit & ~dot
        bad |= other | (dot & seen_dot)
        if j >= 17:  # only an 18th digit can take the mantissa to 10**18
            bad |= digit & (mant >= 10**17)
        seen_dot |= dot
        mant = np.where(digit, mant * 10 + d, mant)
        dec += digit & seen_dot
        any_digit |= digit
    ok &= ~bad & any_digit
    return np.where(ok, np.where(neg, -mant, mant), 0), np.where(ok, dec, 0), ok


def to_cents(mant: np.ndarray, dec: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cents of parsed decimals: `(cents, ok, rounded)`.

    The X12 R type allows digits beyond the cent (`135.821`): they are rounded to the cent half
    away from zero (`135.825` -> 13583, `-0.005` -> -1) in integer arithmetic, and `rounded` marks
    the values that changed (`12.500` is exact, not rounded). Amounts of 10**13 cents (100 billion
    dollars) or more are not ok (`_MAX_CENTS`).
    """
    mant = np.asarray(mant, dtype=np.int64)
    dec = np.asarray(dec, dtype=np.int64)
    if not (dec > 2).any():  # the usual case: nothing beyond the cent, nothing to round
        up = _POW10[2 - dec]
        good = ok & (np.abs(mant) < _MAX_CENTS // up)
        return np.where(good, mant * up, 0), good, np.zeros(len(mant), dtype=bool)
    magnitude = np.abs(mant)  # parse_decimal keeps mantissas below 10**18
    short = dec <= 2
    up = _POW10[np.clip(2 - dec, 0, 2)]
    big_short = magnitude >= _MAX_CENTS // up
    shift = dec - 2  # digits beyond the cent
    down = _POW10[np.clip(shift, 0, 18)]
    whole, rest = np.divmod(magnitude, down)
    # more than 18 digits beyond the cent: the value is below a tenth of a cent (mantissa < 10**18)
    tiny = shift > 18
    rest = np.where(tiny, magnitude, rest)
    whole = np.where(tiny, 0, whole + (2 * rest >= down))  # half away from zero, on the magnitude
    magnitude_cents = np.where(short, np.where(big_short, 0, magnitude) * up, whole)
    good = ok & ~np.where(short, big_short, whole >= _MAX_CENTS)
    rounded = good & ~short & (rest != 0)
    cents = np.where(good, np.where(mant < 0, -magnitude_cents, magnitude_cents), 0)
    return cents, good, rounded


def to_float(mant: np.ndarray, dec: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Parsed decimals as floats (quantities, units), NaN where not ok."""
    return np.where(ok, mant / _POW10[np.minimum(dec, 18)].astype(np.float64), np.nan)


def parse_date(buf: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CCYYMMDD dates of byte ranges: `(datetime64[D] with NaT, ok)`."""
    a = np.asarray(a)
    b = np.asarray(b)
    n = len(a)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = (b - a) == 8
    if n == 0 or len(buf) == 0 or not ok.any():
        return out, np.zeros(n, dtype=bool)
    for sl in _chunks(n):
        out[sl], ok[sl] = _dates_chunk(buf, a[sl], ok[sl])
    return out, ok


_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_ZEROS = np.uint64(0x3030303030303030)
_SIXES = np.uint64(0x0606060606060606)


def _eight_digits(word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Words of 8 bytes (little-endian: the first character lowest) read as 8 decimal digits: `(value, ok)`.

    Each byte is a digit when its high nibble is 3 and stays 3 after adding 6 (`:` to `?` carry to 4; no
    byte of a valid word carries into the next). The value is summed in three multiply-and-shift steps
    (pairs, fours, all eight: the usual SWAR reading of eight digits), not digit by digit.
    """
    ok = ((word & _HIGH_NIBBLES) == _ZEROS) & (((word + _SIXES) & _HIGH_NIBBLES) == _ZEROS)
    value = word & _NIBBLES
    value = ((value * np.uint64(10)) + (value >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    value = ((value * np.uint64(100)) + (value >> np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    value = (value * np.uint64(10000)) + (value >> np.uint64(32))
    return (value & np.uint64(0xFFFFFFFF)).astype(np.int64), ok


def _dates_chunk(buf: np.ndarray, a: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(buf)
    if n >= 8 and not (ok & (a > n - 8)).any():  # the usual case: each date is one 64-bit word
        value, digits = _eight_digits(_words_at(buf, 8)[np.minimum(a, n - 8)])
        ok = ok & digits
        value = np.where(ok, value, 0)
        year, month, day = value // 10000, value // 100 % 100, value % 100
    else:  # a date within 8 bytes of the end of the file: byte by byte
        chars, _ = _gather(buf, a, np.where(ok, 8, 0), 8)
        digits = chars.astype(np.int64) - 48
        ok = ok & ((digits >= 0) & (digits <= 9)).all(axis=1)
        d = np.where(ok[:, None], digits, 0)
        year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
        month = d[:, 4] * 10 + d[:, 5]
        day = d[:, 6] * 10 + d[:, 7]
    ok &= (year >= 1800) & (year <= 2300) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    dates = months.astype("datetime64[D]") + np.where(ok, day - 1, 0)
    ok &= dates.astype("datetime64[M]") == months
    return np.where(ok, dates, np.datetime64("NaT")), ok


def components(buf: np.ndarray, raw: bytes, a: np.ndarray, b: np.ndarray, comp: int,
               parts: int) -> tuple[np.ndarray, np.ndarray]:
    """Byte ranges of the first `parts` components of composite elements `(a, b)` split by the
    byte `comp`: two `(n, parts)` arrays of starts and ends (equal when a component is absent)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    n = len(a)
    length = b - a
    pos = np.repeat(length[:, None], parts, axis=1)  # separator columns, default: the element end
    fast_rows = np.flatnonzero(length <= 64)
    for sl in _chunks(len(fast_rows)) if len(buf) else ():
        fast = fast_rows[sl]
        w = int(length[fast].max(initial=0))
        if w:
            chars, valid = _gather(buf, a[fast], length[fast], w)
            r, c = np.nonzero(valid & (chars == comp))
            rank = np.arange(len(r)) - np.searchsorted(r, r)
            keep = rank < parts
            pos[fast[r[keep]], rank[keep]] = c[keep]
    sep = bytes([comp])
    for i in np.flatnonzero(length > 64).tolist():  # long elements: at most `parts` searches in C, no byte loop
        lo, hi = int(a[i]), int(b[i])
        for k in range(parts):
            j = raw.find(sep, lo, hi)
            if j < 0:
                break
            pos[i, k] = j - int(a[i])
            lo = j + 1
    starts = np.empty((n, parts), dtype=np.int64)
    starts[:, 0] = 0
    starts[:, 1:] = np.minimum(pos[:, :-1] + 1, length[:, None])
    return a[:, None] + starts, a[:, None] + pos
