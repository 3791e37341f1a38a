"""Writing X12: segments, transaction sets and their envelopes, with exact counts and control numbers.

What every outgoing file shares (the 837P claims, 270 eligibility and 276 status requests, the
synthetic 835s): the `Delimiters` the reader also uses, control numbers that count up (ISA13,
GS06, ST02), and trailers whose counts are computed, never typed (SE01 segments, GE01
transactions, IEA01 groups). A mapper-specific writer builds the body segments; this module
wraps them.

    w = X12Writer()
    st = w.transaction("270", numbers.transaction(), [w.segment("BHT", "0022", "13", ...), ...],
                       convention="005010X279A1")
    gs = w.group("HS", sender, receiver, now, numbers.group(), "005010X279A1", [st])
    text = w.interchange(sender, receiver, now, numbers.interchange(), [gs])

`segment` refuses a value that holds a delimiter (the file would not read back as written);
bodies built in bulk elsewhere (vectorized text) are trusted and only counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from xl_ar.x12.tokens import Delimiters

STANDARD = Delimiters(element="*", component=":", segment="~", repetition="^")
"""The delimiters most payers and clearinghouses use for 5010."""

Element = str | int | Sequence[str] | None
"""An element value: text, a whole number, a composite (its components), or None (empty)."""


@dataclass(frozen=True)
class Party:
    """A sender or receiver: its interchange id (ISA06/ISA08) with qualifier, and its group code (GS02/GS03)."""

    id: str
    """Interchange id, at most 15 characters (padded in the ISA)."""
    qualifier: str = "ZZ"
    """ISA05/ISA07 qualifier: `ZZ` mutually defined, `30` federal tax id, `01` DUNS, ..."""
    application: str | None = None
    """GS02/GS03 application code; the interchange id when not given."""

    @property
    def code(self) -> str:
        return self.application or self.id


class ControlNumbers:
    """Control numbers for a run of outgoing files, each counting up from its start.

    ISA13 is written as 9 digits, GS06 as a number, ST02 as at least 4 digits (`0001`).
    """

    def __init__(self, interchange: int = 1, group: int = 1, transaction: int = 1):
        if min(interchange, group, transaction) < 1:
            raise ValueError("control numbers start at 1")
        self._next = {"interchange": interchange, "group": group, "transaction": transaction}

    def _take(self, kind: str, limit: int) -> int:
        value = self._next[kind]
        if value > limit:
            raise ValueError(f"{kind} control number {value} does not fit ({limit} at most)")
        self._next[kind] = value + 1
        return value

    def interchange(self) -> int:
        return self._take("interchange", 999_999_999)

    def group(self) -> int:
        return self._take("group", 999_999_999)

    def transaction(self) -> str:
        return f"{self._take('transaction', 999_999_999):04d}"


class X12Writer:
    """Builds segments and envelopes with one set of delimiters (`line_break` after each terminator)."""

    def __init__(self, delimiters: Delimiters = STANDARD, line_break: str = "\n"):
        d = delimiters
        if len({d.element, d.component, d.segment, d.repetition or d.element}) < 3 + bool(d.repetition):
            raise ValueError("the element, component, segment and repetition delimiters must differ")
        self.delimiters = d
        self.line_break = line_break
        self._reserved = {c for c in (d.element, d.component, d.segment, d.repetition) if c}

    @property
    def terminator(self) -> str:
        """What ends every segment: the segment delimiter and the line break."""
        return self.delimiters.segment + self.line_break

    def segment(self, seg_id: str, *elements: Element) -> str:
        """One segment with its terminator; trailing empty elements are dropped, a composite's
        components joined with the component delimiter. A value holding a delimiter is refused."""
        values = []
        for k, value in enumerate(elements, start=1):
            if value is None:
                values.append("")
            elif isinstance(value, (list, tuple)):
                parts = ["" if p is None else str(p) for p in value]
                for p in parts:
                    self._check(seg_id, k, p)
                values.append(self.delimiters.component.join(parts).rstrip(self.delimiters.component))
            else:
                text = str(value)
                self._check(seg_id, k, text)
                values.append(text)
        while values and values[-1] == "":
            values.pop()
        return self.delimiters.element.join([seg_id, *values]) + self.terminator

    def _check(self, seg_id: str, k: int, text: str) -> None:
        bad = self._reserved.intersection(text)
        if bad:
            raise ValueError(f"{seg_id}{k:02d} holds the delimiter {''.join(sorted(bad))!r}; remove it from the value")

    def count(self, body: str | Sequence[str]) -> int:
        """How many segments a body holds (a text of whole segments, or a list of them)."""
        text = body if isinstance(body, str) else "".join(body)
        return text.count(self.delimiters.segment)

    def transaction(self, st01: str, control: str, body: str | Sequence[str], convention: str | None = None) -> str:
        """ST + body + SE, with SE01 the segment count (ST and SE included) and SE02 = ST02."""
        text = body if isinstance(body, str) else "".join(body)
        count = self.count(text) + 2
        return self.segment("ST", st01, control, convention) + text + self.segment("SE", count, control)

    def group(self, functional_id: str, sender: Party, receiver: Party, when: dt.datetime, control: int,
              convention: str, transactions: Sequence[str]) -> str:
        """GS + transactions + GE, with GE01 the number of transactions and GE02 = GS06."""
        head = self.segment("GS", functional_id, sender.code, receiver.code, f"{when:%Y%m%d}", f"{when:%H%M}",
                            control, "X", convention)
        return head + "".join(transactions) + self.segment("GE", len(transactions), control)

    def interchange(self, sender: Party, receiver: Party, when: dt.datetime, control: int, groups: Sequence[str],
                    usage: str = "P", acknowledgment: str = "0", version: str = "00501") -> str:
        """ISA + groups + IEA, with IEA01 the number of groups and IEA02 = ISA13 (9 digits).

        The ISA has its fixed widths (ids padded to 15); ISA11 is the repetition delimiter in 5010
        (`U` before 00501), ISA16 the component delimiter.
        """
        d = self.delimiters
        for party in (sender, receiver):
            if len(party.id) > 15 or len(party.qualifier) != 2:
                raise ValueError(f"interchange id '{party.id}' must be at most 15 characters, qualifier 2")
        repetition = d.repetition if version >= "00501" and d.repetition else "U"
        isa = d.element.join([
            "ISA", "00", " " * 10, "00", " " * 10, sender.qualifier, f"{sender.id:<15}", receiver.qualifier,
            f"{receiver.id:<15}", f"{when:%y%m%d}", f"{when:%H%M}", repetition, version, f"{control:09d}",
            acknowledgment, usage, d.component,
        ]) + self.terminator
        return isa + "".join(groups) + self.segment("IEA", len(groups), f"{control:09d}")
