"""Findings: problems found in input, kept as data next to the result (errors are data).

A reader reads the whole input, reports every problem it finds as a `Finding`, and returns
its result together with the list. Only an input that cannot be read at all raises
(`xl_ar.errors.InputError`). A finding names where the problem is with a structured `Location`
(file, row, column, or X12 transaction and segment position) and never carries a patient
identifier (see `xl_ar.privacy`).
"""

from __future__ import annotations

import dataclasses
import heapq
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a source a problem is; any part may be empty. `str()` gives what people read."""

    row: int | None = None
    """Spreadsheet row as a person sees it (the header is row 1, so the first data row is usually 2)."""
    column: str | None = None
    """Column of a table (canonical name or the file's header)."""
    key: str | None = None
    """Key of a settings or JSON file (`as_of`, `npi`)."""
    transaction: str | None = None
    """X12 transaction set: `ST 0001` (its ST02), or `ST #2` when ST02 cannot be shown."""
    segment: int | None = None
    """X12 segment position, from 1, counting the file's non-empty segments."""
    segment_id: str | None = None
    """X12 segment id at that position (`CLP`), `?` when it is not a plain id."""
    part: str | None = None
    """A part of the source with no row or segment: `header row`, `start of file`."""

    def __str__(self) -> str:
        parts = []
        if self.transaction:
            parts.append(self.transaction)
        if self.segment is not None:
            parts.append(f"segment {self.segment} ({self.segment_id or '?'})")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        if self.key is not None:
            parts.append(self.key)
        if self.part:
            parts.append(self.part)
        return ", ".join(parts)

    @property
    def order(self) -> int:
        """Position for sorting findings in reading order (0 for the source as a whole)."""
        if self.segment is not None:
            return self.segment
        return self.row if self.row is not None else 0


NOWHERE = Location()
"""The source as a whole."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in the input."""

    severity: Severity
    """`error`: the input is wrong and nothing from it should be used; `warning`: read, but look."""
    source: str
    """File name (no folder) or table name the problem is in."""
    where: Location
    """Where in the source (row and column, or X12 transaction and segment); may be `NOWHERE`."""
    message: str
    """What is wrong and, where it helps, what to do; no patient identifiers."""
    code: str = ""
    """What kind of problem, for programs (`missing_column`, `bad number`); empty when not classified."""

    @property
    def location(self) -> str:
        """The location as people read it: `row 17, column 'service_date'`, `ST 0001, segment 42 (CLP)`."""
        return str(self.where)

    def __str__(self) -> str:
        where = f" {self.location}" if self.location else ""
        return f"{self.source}{where}: {self.message}"


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that make an input unusable."""
    return [f for f in findings if f.severity == "error"]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def in_reading_order(findings: Iterable[Finding]) -> list[Finding]:
    """Findings sorted by position in their source (whole-source findings first), ties by location text."""
    return sorted(findings, key=lambda f: (f.where.order, f.location))


FINDING_LIMIT = 1000
"""At most this many findings of one code are listed per source; the rest are counted in one summary finding."""


class Collector:
    """The findings of one source, capped per code, so a garbage file cannot produce millions of them.

    Which findings are listed does not depend on the order they were added in: per code, the
    `limit` first in reading order (then by message) are kept, the others counted. Memory stays
    bounded (at most twice `limit` findings per code are held at any time).
    """

    def __init__(self, source: str, limit: int = FINDING_LIMIT):
        self.source = source
        self.limit = limit
        self._kept: dict[str, list[tuple[int, str, str, int, Finding]]] = {}
        self._seq = 0
        self._counts: Counter[str] = Counter()
        self._errors: set[str] = set()

    def add(self, code: str, severity: Severity, where: Location, message: str) -> None:
        """One finding."""
        self._count(code, severity, 1)
        self._keep(code, Finding(severity, self.source, where, message, code))

    def add_rows(self, code: str, severity: Severity, rows: np.ndarray, where: Callable[[int], Location],
                 message: str | Callable[[int], str]) -> None:
        """One finding per row (X12 segment rows, 0-based): only the rows that can still be listed
        get a location and a message built (the others are only counted). Rows must sort in reading order."""
        rows = np.asarray(rows)
        if not len(rows):
            return
        self._count(code, severity, len(rows))
        ordered = len(rows) < 2 or bool((rows[1:] >= rows[:-1]).all())  # usually already (np.flatnonzero)
        first = rows[: self.limit] if ordered else np.sort(rows)[: self.limit]  # no copy of millions of rows
        for r in first.tolist():  # rows are in reading order: later ones cannot be listed
            text = message if isinstance(message, str) else message(r)
            self._keep(code, Finding(severity, self.source, where(r), text, code))

    def add_mask(self, code: str, severity: Severity, mask: np.ndarray, where: Callable[[int], Location],
                 message: str | Callable[[int], str]) -> None:
        """`add_rows` of the rows where `mask` is true, without an array of all of them (a file of millions
        of bad segments costs a count and the first `limit` rows, not eight bytes a row)."""
        count = int(np.count_nonzero(mask))
        if not count:
            return
        first = np.zeros(0, dtype=np.int64)
        step = 1 << 16
        lo = 0
        while len(first) < min(count, self.limit) and lo < len(mask):
            first = np.concatenate((first, lo + np.flatnonzero(mask[lo:lo + step])))
            lo += step
            step *= 2
        self._count(code, severity, count)
        for r in first[: self.limit].tolist():
            text = message if isinstance(message, str) else message(r)
            self._keep(code, Finding(severity, self.source, where(r), text, code))

    def extend(self, findings: Iterable[Finding]) -> None:
        """Findings made elsewhere (e.g. by the tokenizer), each counted under its code."""
        for f in findings:
            self._count(f.code, f.severity, 1)
            self._keep(f.code, f)

    def result(self) -> list[Finding]:
        """The listed findings in reading order, then one summary per code of the findings not listed."""
        listed: list[Finding] = []
        more: list[Finding] = []
        for code in sorted(self._kept):
            kept = sorted(self._kept[code])[: self.limit]
            listed += [f for *_, f in kept]
            hidden = self._counts[code] - len(kept)
            if hidden:
                severity: Severity = "error" if code in self._errors else "warning"
                more.append(Finding(severity, self.source, NOWHERE,
                                    f"{hidden} more findings of the kind '{code}' not listed", code))
        return sorted(listed, key=lambda f: (f.where.order, f.location, f.code, f.message)) + more

    def _count(self, code: str, severity: Severity, n: int) -> None:
        self._counts[code] += n
        if severity == "error":
            self._errors.add(code)

    def _keep(self, code: str, finding: Finding) -> None:
        kept = self._kept.setdefault(code, [])
        self._seq += 1  # ties only between findings with the same position, location and message
        kept.append((finding.where.order, finding.location, finding.message, self._seq, finding))
        if len(kept) >= 2 * self.limit:  # prune to the first `limit`: bounded memory
            self._kept[code] = heapq.nsmallest(self.limit, kept)


_QUOTED = re.compile(r"'[^']*'|\ba value of [\d,]+ (?:digit|letter|character)s?\b|\ba blank value\b")
"""A value in a message: quoted, or described without showing it (`xl_ar.privacy.shown`)."""


def _alike(finding: Finding) -> tuple:
    """What a finding shares with the same problem on other rows: all but its row and the quoted value."""
    return (finding.severity, finding.source, finding.where.column, finding.where.key, finding.code,
            _QUOTED.sub("''", finding.message))


def condense(findings: Iterable[Finding], first: int = 5) -> list[Finding]:
    """The findings as a person should read them: the same problem on many rows is one finding.

    Row findings with the same severity, source, column and code whose messages differ only in the
    quoted value become the first of them, its message ending with how many more rows have it and the
    first `first` of those rows: `'abc' is not an amount (and 16 more rows like it: rows 5, 9, 12, 13, 20,
    ...)`. Every other finding is unchanged; the order is kept (a group stands where its first finding
    stood). For showing only: the findings themselves stay complete.
    """
    findings = list(findings)
    groups: dict[tuple, list[int]] = {}
    for i, f in enumerate(findings):
        if f.where.row is not None:
            groups.setdefault(_alike(f), []).append(i)
    out: list[Finding] = []
    for i, f in enumerate(findings):
        members = groups.get(_alike(f)) if f.where.row is not None else None
        if members is None or len(members) == 1:
            out.append(f)
        elif members[0] == i:
            rows = [str(findings[j].where.row) for j in members[1:]]
            s = "s" if len(rows) > 1 else ""
            text = f"and {len(rows)} more row{s} like it"
            if first > 0:
                text += f": row{s} {', '.join(rows[:first])}{', ...' if len(rows) > first else ''}"
            out.append(dataclasses.replace(f, message=f"{f.message} ({text})"))
    return out
