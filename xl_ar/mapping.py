"""`xl-ar map suggest`: a column map proposed for an export xl-ar has never seen, from its headers and values.

Headers xl-ar already knows (`xl_ar.columns`) need nothing. For every column of the table still missing, the
proposal takes the unknown header whose name is closest to the column's names and whose values have the
column's kind (dates for a date, amounts for money, short codes for an id); a header whose values do not fit
is never proposed, whatever its name. The proposal is a practice.json `files` entry the reader uses as it is.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd

from xl_ar import columns, tables
from xl_ar.money import parse_cents

TABLE_ORDER = ("claims", "postings", "deposits", "claim_lines", "payers", "fee_schedule")
"""The tables a file may hold, in the order a tie is settled."""
_KINDS = {tables.Kind.TEXT: "text", tables.Kind.CODE: "codes", tables.Kind.DATE: "dates", tables.Kind.MONEY: "amounts",
          tables.Kind.COUNT: "whole numbers", tables.Kind.NUMBER: "numbers"}
_WORD = 0.75
"""How alike a header's word must be to a word of a column's name to be accounted for."""
_MIN_NAME = 0.72
"""The least name likeness (0-1) for a proposal made by name and kind together (`Pymts` is 0.77 like
`payments`; `patient` is 0.62 like `amount`)."""


@dataclass
class Suggestion:
    """A proposed reading of one file."""

    file: str
    table: str
    known: dict[str, str] = field(default_factory=dict)
    """Headers xl-ar already reads (header -> column): nothing to ask."""
    proposed: dict[str, str] = field(default_factory=dict)
    """Headers proposed for a column (header -> column)."""
    why: dict[str, str] = field(default_factory=dict)
    """For each proposed header, how it was chosen."""
    unused: list[str] = field(default_factory=list)
    """Headers left out (no column of the table)."""
    missing: list[str] = field(default_factory=list)
    """Required columns neither known nor proposed: the map alone will not be enough."""

    def entry(self) -> dict[str, object]:
        """The practice.json `files` entry for the file."""
        out: dict[str, object] = {"table": self.table}
        if self.proposed:
            out["columns"] = dict(self.proposed)
        return out


def _kind_of(values: pd.Series) -> set[tables.Kind]:
    """The kinds of column the sample values fit (empty cells ignored)."""
    text = values.astype(object)[values.notna()].map(lambda v: str(v).strip())
    text = text[text != ""]
    if text.empty:
        return set(tables.Kind)
    fits = {tables.Kind.TEXT}
    _, bad = tables._parse_dates(text)
    if not bad.any():
        fits.add(tables.Kind.DATE)
    cents, bad_money = parse_cents(text)
    amounts = not bad_money.any()
    if amounts:
        fits |= {tables.Kind.MONEY, tables.Kind.NUMBER}
        if (cents % 100 == 0).all():
            fits.add(tables.Kind.COUNT)
    decimals = amounts and text.str.contains(r"[.,]\d\d$").any()
    if text.str.len().max() <= 40 and not text.str.contains(r"\s{2,}").any() and not decimals \
            and tables.Kind.DATE not in fits:
        fits.add(tables.Kind.CODE)  # an amount with cents, or a date, is not an id or a code
    if decimals or tables.Kind.DATE in fits:
        fits.discard(tables.Kind.TEXT)
    return fits


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _likeness(header: object, table: str, column: str) -> float:
    """How close a header's name is to a column's names (0-1): the best character likeness of their keys, among
    the names that account for every word of the header (`Primary Insurance City` is not a payer: no name of
    payer_id says "city"; `Pymts` is 0.77 like `payments`)."""
    words = columns.normalize_header(header).split()
    key = "".join(words)
    best = 0.0
    for spelling in columns.spellings(table, column):
        theirs = columns.normalize_header(spelling).split()
        if all(any(_similar(w, t) >= _WORD for t in theirs) for w in words):
            best = max(best, _similar(key, "".join(theirs)))
    return best


def guess_table(headers: list[object]) -> str:
    """The table whose required columns the headers name best (by name alone)."""
    def score(table: str) -> tuple[int, int, int]:
        known = set(columns.map_headers(table, headers).columns.values())
        required = [c.name for c in tables.TABLES[table].columns if c.required]
        return sum(c in known for c in required), len(known), -TABLE_ORDER.index(table)

    return max(TABLE_ORDER, key=score)


def suggest(file: str, frame: pd.DataFrame, table: str | None = None, sample: int = 200) -> Suggestion:
    """Propose how to read a file (its header row and a sample of its rows)."""
    headers = [h for h in frame.columns if str(h).strip()]
    table = table or guess_table(headers)
    known = columns.map_headers(table, headers)
    result = Suggestion(file, table, {str(h): c for h, c in known.columns.items()})
    taken = set(known.columns.values())
    from xl_ar.ledger import DERIVED_FROM

    derivable = {c for c, sources in DERIVED_FROM.get(table, {}).items() if any(s in taken for s in sources)}
    open_headers = [h for h in headers if h not in known.columns]
    head = frame.head(sample)
    fits = {h: _kind_of(head[h]) for h in open_headers}
    wanted = [c for c in tables.TABLES[table].columns if c.name not in taken and c.name not in derivable]
    pairs = sorted(((_likeness(h, table, c.name), i, h, c) for i, h in enumerate(open_headers) for c in wanted
                    if c.kind in fits[h]), key=lambda p: (-p[0], p[1]))
    used: set[object] = set()
    for likeness, _, header, column in pairs:
        if header in used or column.name in taken or likeness < _MIN_NAME:
            continue
        result.proposed[str(header)] = column.name
        result.why[str(header)] = f"named like {column.name} ({likeness:.0%}), and its values are {_KINDS[column.kind]}"
        used.add(header)
        taken.add(column.name)
    required = {c.name for c in tables.TABLES[table].columns if c.required}
    # a claim's paid or adjusted follows from the others (charge - paid - adjusted = balance)
    if table == "claims" and {"charge", "balance"} <= taken and len({"paid", "adjusted"} - taken) == 1:
        taken |= {"paid", "adjusted"}
    result.missing = sorted(required - taken - derivable - {"responsibility", "deposit_id", "posting_id"})
    result.unused = [str(h) for h in open_headers if h not in used]
    return result
