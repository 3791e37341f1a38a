"""The 835 remittance reader: one file into the six canonical remittance tables, plus findings.

Supports 5010 (005010X221A1) and 4010 (004010X091A1) remittances. One payment per `ST*835`;
other transaction sets in the same file (837, 278, ...) are counted and skipped.

How it works (columnar, see `xl_ar.x12.tokens`): the file is tokenized once into segment byte
ranges and integer segment codes. Loop membership is computed with running maxima over segment
positions: a segment belongs to the claim of the last `CLP` when no loop-ending segment (`LX`,
`PLB`, `N1`, `SE`, ...) came in between, and to the service line of the last `SVC` likewise.
Each segment type is then read for all its rows at once (elements as byte ranges, amounts and
dates parsed with numpy); only the values kept in the tables become Python strings.

Money is integer cents, exactly as written (no floats, no tolerance). Balancing is checked at
three levels (line, claim, payment) and every problem becomes a `Finding` that names the file,
the transaction (ST02), the segment position (1-based, counting non-empty segments) and the
segment id, never a patient identifier (no CLP01, names or member ids). Only a file with no
readable X12 at all raises `X12Error`.

payment_id: `<TRN02>-<ST02>-<h>` where `h` is the first 8 hex digits of the SHA-256 of the
transaction's own bytes (ST through SE). The same transaction content always gets the same id,
whatever the file is called, so a re-sent or re-imported remittance is recognised as a duplicate;
two different transactions with the same trace and control numbers get different ids. Identical
transactions repeated in one file get `-2`, `-3`, ... in file order.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar.findings import Finding, Severity
from xl_ar.money import format_cents
from xl_ar.tables import REMITTANCE_TABLES, from_columns
from xl_ar.x12 import X12Error
from xl_ar.x12.tokens import (
    CODE,
    OTHER,
    SEGMENT_IDS,
    Delimiters,
    Segments,
    TokenError,
    components,
    parse_date,
    parse_decimal,
    small_key,
    to_cents,
    to_float,
    tokenize,
)

FINDING_LIMIT = 1000
"""At most this many findings of one kind are listed; the rest are counted in one summary finding."""

_C = CODE
_ENVELOPE = (_C["ISA"], _C["GS"], _C["ST"], _C["SE"], _C["GE"], _C["IEA"])
_HEADER_AREA = ("BPR", "TRN", "CUR", "N1", "N2", "N3", "N4", "RDM")
_DETAIL_AREA = ("LX", "TS3", "TS2", "CLP", "CAS", "NM1", "MIA", "MOA", "SVC", "LQ", "AMT", "QTY")
_CLAIM_MEMBERS = ("CLP", "CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY", "SVC", "LQ")
_LINE_MEMBERS = ("SVC", "CAS", "DTM", "REF", "AMT", "QTY", "LQ")
_CLAIM_ONLY = ("NM1", "MIA", "MOA", "PER")
_NEED_CLAIM = ("CAS", "NM1", "MIA", "MOA", "SVC", "LQ")
_KNOWN_835 = set(_HEADER_AREA) | set(_DETAIL_AREA) | {"REF", "DTM", "PER", "PLB"}
GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")


def _table(names) -> np.ndarray:
    t = np.zeros(len(SEGMENT_IDS) + 1, dtype=bool)
    for s in names:
        t[CODE[s]] = True
    return t


_IS_CLAIM_MEMBER = _table(_CLAIM_MEMBERS)
_IS_LINE_MEMBER = _table(_LINE_MEMBERS)
_IS_CLAIM_ONLY = _table(_CLAIM_ONLY)
_IS_NEED_CLAIM = _table(_NEED_CLAIM)
_IS_KNOWN_835 = _table(_KNOWN_835)
_AREA = np.full(len(SEGMENT_IDS) + 1, -1, dtype=np.int64)
_AREA[[CODE[s] for s in _HEADER_AREA]] = 0
_AREA[[CODE[s] for s in _DETAIL_AREA]] = 1
_AREA[CODE["PLB"]] = 2
_K = {q: small_key(q) for q in ("PR", "PE", "XX", "2U", "6R", "B6", "472", "150", "232")}
_SHOWN_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_SHOWN_CONTROL = re.compile(r"^[A-Za-z0-9]{1,12}$")


@dataclass(frozen=True)
class Remittance:
    """One 835 file read into the canonical remittance tables.

    - the six tables have exactly the columns of `xl_ar.tables.TABLES[name]` (money in cents);
    - `findings`: every problem found, errors and warnings, in reading order;
    - `transactions`: one row per `ST*835` (payment_id, st02, segment of the ST, claims, amount =
      BPR02, claims_paid = sum of CLP04, provider_adjustments = sum of PLB, balanced);
    - `decimals`: for the amounts the summary totals (`payments.amount`, `claim_payments.charge`
      and `.paid`, `adjustments.amount`, `provider_adjustments.amount`), how many decimals each
      one had in the file, aligned with the table rows, so totals are written the way the payer
      wrote them (`'0'` vs `'0.00'`); it only fits the tables as read;
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


class _Findings:
    """Findings with a cap per kind, so a garbage file cannot produce millions of them."""

    def __init__(self, source: str, limit: int = FINDING_LIMIT):
        self.source = source
        self.limit = limit
        self.items: list[Finding] = []
        self.counts: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.severity: dict[str, Severity] = {}

    def add(self, kind: str, severity: Severity, location: str, message: str) -> None:
        self.counts[kind] += 1
        self.severity.setdefault(kind, severity)
        if self.counts[kind] <= self.limit:
            self.items.append(Finding(severity, self.source, location, message))

    def take(self, kind: str, rows: np.ndarray) -> list[int]:
        """The rows still to be reported one by one for `kind`; the others are only counted."""
        room = max(0, self.limit - self.counts[kind])
        if len(rows) > room:
            self.skipped[kind] += len(rows) - room
        return np.asarray(rows)[:room].tolist()

    def result(self) -> list[Finding]:
        out = list(self.items)
        for kind in dict.fromkeys([*self.counts, *self.skipped]):
            more = self.counts[kind] - min(self.counts[kind], self.limit) + self.skipped[kind]
            if more:
                out.append(Finding(self.severity.get(kind, "warning"), self.source, "",
                                   f"{more} more findings of the kind '{kind}' not listed"))
        return out


class _Where:
    """Builds `ST 0001, segment 42 (CLP)` locations (positions count non-empty segments from 1)."""

    def __init__(self, segs: Segments, env: _Envelope):
        self.segs = segs
        self.st_row = np.array(env.st_row, dtype=np.int64)
        self.end_row = np.array(env.end_row, dtype=np.int64)
        self.st02 = env.st02

    def __call__(self, row: int) -> str:
        row = int(row)
        code = int(self.segs.code[row]) if row < len(self.segs) else OTHER
        if code != OTHER:
            sid = SEGMENT_IDS[code - 1]
        else:
            sid = self.segs.segment_id(row) if row < len(self.segs) else ""
            sid = sid if _SHOWN_ID.match(sid) else "?"
        tx = int(np.searchsorted(self.st_row, row, side="right")) - 1
        where = f"segment {row + 1} ({sid})"
        inside = tx >= 0 and (row < self.end_row[tx] or (row == self.end_row[tx] and code == _C["SE"]))
        return f"{self.st(tx)}, {where}" if inside else where

    def st(self, tx: int) -> str:
        st02 = self.st02[tx]
        return f"ST {st02}" if _SHOWN_CONTROL.match(st02) else f"ST #{tx + 1}"


def _money(cents: int) -> str:
    return format_cents(int(cents))


# ---------------------------------------------------------------------------------------------
# Envelope


@dataclass
class _Envelope:
    st_row: list[int] = field(default_factory=list)
    end_row: list[int] = field(default_factory=list)
    st01: list[str] = field(default_factory=list)
    st02: list[str] = field(default_factory=list)


def _is_number(text: str) -> bool:
    """ASCII digits only (`str.isdigit` also accepts characters such as '²' that `int` rejects)."""
    return text.isascii() and text.isdigit()


def _el(elements: list[str], i: int) -> str:
    return elements[i].strip() if len(elements) > i else ""


def _envelope(segs: Segments, out: _Findings) -> _Envelope:
    """Transactions (ST..SE) and the envelope checks: SE01/SE02, GE01/GE02, IEA01/IEA02."""
    env = _Envelope()
    code = segs.code
    rows = np.flatnonzero(np.isin(code, _ENVELOPE)).tolist()
    n = len(segs)
    has_envelope = segs.envelope

    def loc(r: int, sid: str) -> str:
        return f"segment {r + 1} ({sid})"

    st: tuple[int, str, str] | None = None
    gs: list | None = None  # [row, GS06, ST count]
    isa: list | None = None  # [row, ISA13, GS count]

    def close_st(end: int, reason: str) -> None:
        nonlocal st
        assert st is not None
        env.st_row.append(st[0])
        env.end_row.append(end)
        env.st01.append(st[1])
        env.st02.append(st[2])
        tx = len(env.st02) - 1
        name = f"ST {st[2]}" if _SHOWN_CONTROL.match(st[2]) else f"ST #{tx + 1}"
        out.add("envelope", "error", f"{name}, segment {st[0] + 1} (ST)",
                f"transaction has no SE trailer ({reason})")
        st = None

    for r in rows:
        c = int(code[r])
        e = segs.elements(r)
        if c == _C["ST"]:
            if st is not None:
                close_st(r, f"a new ST starts at segment {r + 1}")
            st = (r, _el(e, 1), _el(e, 2))
            if gs is not None:
                gs[2] += 1
            elif has_envelope:
                out.add("envelope", "error", loc(r, "ST"), "ST outside a GS functional group")
        elif c == _C["SE"]:
            if st is None:
                out.add("envelope", "error", loc(r, "SE"), "SE without a matching ST")
                continue
            tx = len(env.st02)
            name = f"ST {st[2]}" if _SHOWN_CONTROL.match(st[2]) else f"ST #{tx + 1}"
            count = r - st[0] + 1
            se01, se02 = _el(e, 1), _el(e, 2)
            if not _is_number(se01):
                out.add("envelope", "error", f"{name}, {loc(r, 'SE')}",
                        "SE01 (segment count) is missing or not a number")
            elif int(se01) != count:
                out.add("envelope", "error", f"{name}, {loc(r, 'SE')}",
                        f"SE01 says {int(se01)} segments but the transaction has {count}")
            if se02 != st[2]:
                out.add("envelope", "error", f"{name}, {loc(r, 'SE')}", "SE02 does not match ST02")
            env.st_row.append(st[0])
            env.end_row.append(r)
            env.st01.append(st[1])
            env.st02.append(st[2])
            st = None
        elif c == _C["GS"]:
            if st is not None:
                close_st(r, "a GS follows")
            if gs is not None:
                out.add("envelope", "error", loc(gs[0], "GS"), "functional group has no GE trailer")
            gs = [r, _el(e, 6), 0]
            if isa is not None:
                isa[2] += 1
            else:
                out.add("envelope", "error", loc(r, "GS"), "GS outside an ISA interchange")
        elif c == _C["GE"]:
            if st is not None:
                close_st(r, "a GE follows")
            if gs is None:
                out.add("envelope", "error", loc(r, "GE"), "GE without a matching GS")
                continue
            ge01, ge02 = _el(e, 1), _el(e, 2)
            if not _is_number(ge01):
                out.add("envelope", "error", loc(r, "GE"),
                        "GE01 (transaction count) is missing or not a number")
            elif int(ge01) != gs[2]:
                out.add("envelope", "error", loc(r, "GE"),
                        f"GE01 says {int(ge01)} transactions but the group has {gs[2]}")
            if ge02 != gs[1]:
                out.add("envelope", "error", loc(r, "GE"), "GE02 does not match GS06 (group control number)")
            gs = None
        elif c == _C["ISA"]:
            if st is not None:
                close_st(r, "an ISA follows")
            if gs is not None:
                out.add("envelope", "error", loc(gs[0], "GS"), "functional group has no GE trailer")
                gs = None
            if isa is not None:
                out.add("envelope", "error", loc(isa[0], "ISA"), "interchange has no IEA trailer")
            isa = [r, _el(e, 13), 0]
        elif c == _C["IEA"]:
            if st is not None:
                close_st(r, "an IEA follows")
            if gs is not None:
                out.add("envelope", "error", loc(gs[0], "GS"), "functional group has no GE trailer")
                gs = None
            if isa is None:
                out.add("envelope", "error", loc(r, "IEA"), "IEA without a matching ISA")
                continue
            iea01, iea02 = _el(e, 1), _el(e, 2)
            if not _is_number(iea01):
                out.add("envelope", "error", loc(r, "IEA"), "IEA01 (group count) is missing or not a number")
            elif int(iea01) != isa[2]:
                out.add("envelope", "error", loc(r, "IEA"),
                        f"IEA01 says {int(iea01)} groups but the interchange has {isa[2]}")
            if iea02 != isa[1]:
                out.add("envelope", "error", loc(r, "IEA"),
                        "IEA02 does not match ISA13 (interchange control number)")
            isa = None
    if st is not None:
        close_st(n, "the file ends")
    if gs is not None:
        out.add("envelope", "error", loc(gs[0], "GS"), "functional group has no GE trailer (the file ends)")
    if isa is not None:
        out.add("envelope", "error", loc(isa[0], "ISA"), "interchange has no IEA trailer (the file ends)")
    return env


# ---------------------------------------------------------------------------------------------
# Helpers on row sets


def _last(mask: np.ndarray) -> np.ndarray:
    """For each position, the index of the last True at or before it (-1 if none)."""
    if not len(mask):
        return np.zeros(0, np.int32)
    return np.maximum.accumulate(np.where(mask, np.arange(len(mask), dtype=np.int32), np.int32(-1)))


def _first_of_group(group: np.ndarray) -> np.ndarray:
    """For a non-decreasing group array, the index of the first element of each element's group."""
    return np.searchsorted(group, group, side="left")


def _first_per(groups: np.ndarray, rows: np.ndarray, ngroups: int) -> tuple[np.ndarray, np.ndarray]:
    """The first row per group (-1 when none) and the rows that repeat a group."""
    out = np.full(ngroups, -1, dtype=np.int64)
    if not len(rows):
        return out, rows
    uniq, idx = np.unique(groups, return_index=True)
    out[uniq] = rows[idx]
    repeated = np.ones(len(rows), dtype=bool)
    repeated[idx] = False
    return out, rows[repeated]


def _sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, index, values)
    return out


def _payment_ids(segs: Segments, env: _Envelope, txs: np.ndarray, trn02: list[str],
                 ends: np.ndarray) -> list[str]:
    """`<TRN02>-<ST02>-<8 hex of SHA-256 of the interchange header (ISA) and the transaction's bytes>`,
    `-2`, `-3` for repeats in one file.

    The same file read twice gives the same ids; a payment the payer sends again in a new
    interchange (a duplicate ERA) gets a new id, so both can sit side by side in one table and
    the duplicate is recognised by its payer, trace number and amount instead.
    """
    view = memoryview(segs.buf)
    ids: list[str] = []
    seen: Counter[str] = Counter()
    isa_rows = np.flatnonzero(segs.code == CODE["ISA"])
    for j, tx in enumerate(txs.tolist()):
        lo = int(segs.start[env.st_row[tx]])
        k = int(np.searchsorted(isa_rows, env.st_row[tx], side="left")) - 1
        isa = bytes(view[int(segs.start[isa_rows[k]]):int(segs.end[isa_rows[k]])]) if k >= 0 else b""
        end_row = int(ends[j])  # the SE, or the segment that ended a transaction without SE
        if end_row >= len(segs) or segs.code[end_row] != CODE["SE"]:
            end_row -= 1
        hi = int(segs.end[end_row])
        h = hashlib.sha256(isa + bytes(view[lo:max(lo, hi)])).hexdigest()[:8]
        base = f"{trn02[j] or 'NOTRACE'}-{env.st02[tx] or 'NOST'}-{h}"
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


@dataclass
class _Structure:
    """Where each segment belongs: its transaction, claim loop and service-line loop."""

    tx_of: np.ndarray
    body: np.ndarray
    in_claim: np.ndarray
    claim_of: np.ndarray
    line_of: np.ndarray
    clp_rows: np.ndarray
    svc_rows: np.ndarray
    txs: np.ndarray
    pay_of_tx: np.ndarray
    other: dict[str, int]


def _structure(segs: Segments, env: _Envelope, where: _Where, out: _Findings) -> _Structure:
    """Loop membership by running maxima (no per-segment Python), and the structural findings.

    A segment is in the claim of the last CLP when no loop-ending segment came after that CLP;
    it is in the service line of the last SVC when, in addition, no CLP or claim-only segment
    (NM1, MIA, MOA, PER) came after that SVC.
    """
    n = len(segs)
    code = segs.code
    ntx = len(env.st_row)
    st_row = np.array(env.st_row, dtype=np.int64)
    end_row = np.array(env.end_row, dtype=np.int64)
    label = np.zeros(n + 1, dtype=np.int32)  # transaction of each body segment (ST and SE excluded)
    if ntx:
        np.add.at(label, st_row + 1, np.arange(1, ntx + 1, dtype=np.int32))
        np.add.at(label, end_row, -np.arange(1, ntx + 1, dtype=np.int32))
    tx_of = np.cumsum(label, dtype=np.int32)[:n] - 1
    del label
    is835_tx = np.array([s == "835" for s in env.st01], dtype=bool)
    other = Counter(s or "?" for s in env.st01 if s != "835")
    body = (tx_of >= 0) & is835_tx[np.maximum(tx_of, 0)] if ntx else np.zeros(n, dtype=bool)

    stray = (tx_of < 0) & ~np.isin(code, (*_ENVELOPE, _C["TA1"]))
    for r in out.take("outside", np.flatnonzero(stray)):
        out.add("outside", "warning", where(r), "segment outside any ST..SE transaction; ignored")
    del stray
    txs = np.flatnonzero(is835_tx)
    pay_of_tx = np.full(max(ntx, 1), -1, dtype=np.int64)
    pay_of_tx[txs] = np.arange(len(txs))
    if not len(txs):
        out.add("file", "warning", "", "the file holds no 835 transaction")

    for r in out.take("unknown segment", np.flatnonzero(body & ~_IS_KNOWN_835[code])):
        out.add("unknown segment", "warning", where(r), "unknown segment in an 835; ignored")
    area = np.where(body, _AREA[code], -1).astype(np.int32)
    keyed = np.where(area >= 0, tx_of * 4 + area, -1)
    running = np.maximum.accumulate(keyed) if n else keyed
    for r in out.take("misplaced", np.flatnonzero((area >= 0) & (keyed < running))):
        out.add("misplaced", "warning", where(r),
                "segment out of order (header segment after claims, or claim after PLB)")
    del area, keyed, running

    member = body & (_IS_CLAIM_MEMBER[code] | (code == OTHER))
    is_clp = body & (code == _C["CLP"])
    last_clp = _last(is_clp)
    in_claim = member & (last_clp > _last(~member))
    claim_of = np.where(in_claim, np.cumsum(is_clp, dtype=np.int32) - 1, -1).astype(np.int32)
    is_svc = in_claim & (code == _C["SVC"])
    last_svc = _last(is_svc)
    in_line = in_claim & (last_svc > _last(~member | is_clp | _IS_CLAIM_ONLY[code])) & (
        _IS_LINE_MEMBER[code] | (code == OTHER))
    line_of = np.where(in_line, np.cumsum(is_svc, dtype=np.int32) - 1, -1).astype(np.int32)
    del in_line, member

    for r in out.take("outside claim", np.flatnonzero(body & _IS_NEED_CLAIM[code] & ~in_claim)):
        out.add("outside claim", "error" if code[r] in (_C["SVC"], _C["CAS"]) else "warning", where(r),
                "segment outside a claim (no CLP before it in its loop); ignored")
    late = in_claim & _IS_CLAIM_ONLY[code] & (last_svc > last_clp)
    for r in out.take("misplaced", np.flatnonzero(late)):
        out.add("misplaced", "warning", where(r),
                "claim-level segment after a service line; read at claim level")
    return _Structure(tx_of=tx_of, body=body, in_claim=in_claim, claim_of=claim_of, line_of=line_of,
                      clp_rows=np.flatnonzero(is_clp), svc_rows=np.flatnonzero(is_svc), txs=txs,
                      pay_of_tx=pay_of_tx, other=dict(other))


def read_835(data: bytes | str, source: str) -> Remittance:
    """Read an 835 file (its bytes or text) into a `Remittance`.

    `source` is the file name shown in findings and in `payments.source_file` (a folder part is
    dropped). Raises `X12Error` only when the input has no readable X12 at all.
    """
    return _read(data, source, from_columns)


def read_835_columns(data: bytes | str, source: str) -> tuple[dict[str, dict], list[Finding]]:
    """The six tables of an 835 as plain typed column arrays (not yet DataFrames), and the findings.

    For readers of many files: they join the columns of every file and build each table once,
    instead of six small DataFrames per file (`xl_ar.remittances.read_remittances`).
    """
    rem = _read(data, source, lambda name, columns: columns)
    return rem.tables, rem.findings


def _read(data: bytes | str, source: str, build) -> Remittance:
    source = re.split(r"[\\/]", str(source))[-1]
    try:
        segs = tokenize(data, source)
    except TokenError as e:
        raise X12Error(f"{source}: {e}") from None
    out = _Findings(source)
    for f in segs.findings:
        out.add("file", f.severity, f.location, f.message)
    env = _envelope(segs, out)
    where = _Where(segs, env)
    cx = _Ctx(segs, source, out, where, env, _structure(segs, env, where, out), build)
    pay = _payments(cx)
    claims = _claims(cx, pay)
    adj = _adjustments(cx, cx.attached("CAS"))
    line_payments = _lines(cx, pay, claims, adj)
    claim_payments = _claim_table(cx, pay, claims, adj)
    adjustments = _adjustment_table(cx, pay, claims, adj)
    remarks = _remarks(cx, pay, claims)
    plb = _provider_adjustments(cx, np.flatnonzero(cx.st.body & (segs.code == _C["PLB"])))
    provider_adjustments = cx.build("provider_adjustments", {
        "payment_id": pay.ids[plb["payment"]], "provider_id": plb["provider"], "fiscal_date": plb["date"],
        "reason_code": plb["reason"], "reference": plb["reference"], "amount": plb["amount"],
    })
    payments, transactions = _payment_tables(cx, pay, claims, plb)
    decimals = {
        "payments.amount": pay.decimals,
        "claim_payments.charge": claims.charge_dec,
        "claim_payments.paid": claims.paid_dec,
        "adjustments.amount": adj["decimals"],
        "provider_adjustments.amount": plb["decimals"],
    }
    return Remittance(
        source=source, payments=payments, claim_payments=claim_payments, line_payments=line_payments,
        adjustments=adjustments, remarks=remarks, provider_adjustments=provider_adjustments,
        findings=out.result(), transactions=transactions, decimals=decimals, other_transactions=cx.st.other,
        delimiters=tuple(b.delimiters for b in segs.blocks), envelope=segs.envelope,
    )


class _Ctx:
    """What the steps of one `read_835` share: the segments, findings, locations and loop structure."""

    def __init__(self, segs: Segments, source: str, out: _Findings, where: _Where, env: _Envelope,
                 st: _Structure, build=from_columns):
        self.segs, self.source, self.out, self.where, self.env, self.st = segs, source, out, where, env, st
        self.buf = segs.buf
        self.build = build
        """Makes a table of named columns: `tables.from_columns`, or keeps the columns as they are."""

    def rows(self, seg_id: str, in_claim: bool | None = None) -> np.ndarray:
        """Rows of one segment id in 835 transactions (optionally only inside / outside claims)."""
        mask = self.st.body & (self.segs.code == _C[seg_id])
        if in_claim is not None:
            mask &= self.st.in_claim if in_claim else ~self.st.in_claim
        return np.flatnonzero(mask)

    def attached(self, seg_id: str) -> np.ndarray:
        return self.rows(seg_id, in_claim=True)

    def payment_of(self, rows: np.ndarray) -> np.ndarray:
        return self.st.pay_of_tx[self.st.tx_of[rows]]

    def amounts(self, rows: np.ndarray, k: int, name: str,
                required: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cents, decimals and presence of element k of rows; bad or missing ones are findings (0)."""
        a, b = self.segs.element(rows, k)
        mant, dec, ok = parse_decimal(self.buf, a, b)
        cents, good = to_cents(mant, dec, ok)
        present = b > a
        for r in self.out.take("bad number", rows[present & ~good]):
            self.out.add("bad number", "error", self.where(r), f"{name} is not a valid amount; read as 0")
        if required:
            for r in self.out.take("missing element", rows[~present]):
                self.out.add("missing element", "error", self.where(r), f"{name} is missing; read as 0")
        return cents, np.where(good, dec, 0), present

    def dates(self, rows: np.ndarray, k: int, name: str) -> np.ndarray:
        a, b = self.segs.element(rows, k)
        dates, ok = parse_date(self.buf, a, b)
        for r in self.out.take("bad date", rows[(b > a) & ~ok]):
            self.out.add("bad date", "warning", self.where(r), f"{name} is not a valid CCYYMMDD date")
        return dates

    def texts(self, rows: np.ndarray, k: int) -> np.ndarray:
        """Element k of rows as strings (None when empty): for values that are mostly distinct."""
        a, b = self.segs.element(rows, k)
        out = np.empty(len(rows), dtype=object)
        out[:] = self.segs.texts(a, b, empty=None)
        return out

    def codes(self, rows: np.ndarray, k: int) -> np.ndarray:
        """Element k of rows as strings (None when empty): for values that repeat."""
        a, b = self.segs.element(rows, k)
        return self.segs.codes(a, b)

    def keys(self, rows: np.ndarray, k: int) -> np.ndarray:
        a, b = self.segs.element(rows, k)
        return self.segs.keys(a, b)

    def require(self, rows: np.ndarray, k: int, name: str) -> None:
        a, b = self.segs.element(rows, k)
        for r in self.out.take("missing element", rows[b <= a]):
            self.out.add("missing element", "error", self.where(r), f"{name} is missing")

    def first(self, groups: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
        return _first_per(groups, rows, n)[0]


@dataclass
class _Pay:
    txs: np.ndarray
    ids: np.ndarray
    amount: np.ndarray
    decimals: np.ndarray
    bpr: np.ndarray
    columns: dict


def _payments(cx: _Ctx) -> _Pay:
    """One payment per ST*835: BPR, TRN, N1*PR (and REF*2U), N1*PE, and the payment id."""
    txs = cx.st.txs
    npay = len(txs)
    out, where, env = cx.out, cx.where, cx.env
    rows = cx.rows("BPR")
    bpr, dup = _first_per(cx.payment_of(rows), rows, npay)
    for r in out.take("repeated", dup):
        out.add("repeated", "error", where(r), "second BPR in the transaction; ignored")
    rows = cx.rows("TRN")
    trn, dup = _first_per(cx.payment_of(rows), rows, npay)
    for r in out.take("repeated", dup):
        out.add("repeated", "warning", where(r), "second TRN in the transaction; ignored")
    for missing, text in ((bpr < 0, "transaction has no BPR segment; payment amount read as 0"),
                          (trn < 0, "transaction has no TRN segment; no trace number")):
        for j in out.take("missing segment", np.flatnonzero(missing)):
            st_at = f"{where.st(int(txs[j]))}, segment {env.st_row[txs[j]] + 1} (ST)"
            out.add("missing segment", "error", st_at, text)
    has_bpr = bpr >= 0
    bpr_rows = bpr[has_bpr]
    amount = np.zeros(npay, dtype=np.int64)
    decimals = np.zeros(npay, dtype=np.int64)
    amount[has_bpr], decimals[has_bpr], _ = cx.amounts(bpr_rows, 2, "BPR02 (payment amount)", True)
    for k, name in ((1, "BPR01 (transaction handling code)"), (3, "BPR03 (credit/debit flag)"),
                    (4, "BPR04 (payment method)")):
        cx.require(bpr_rows, k, name)

    def per_payment(found: np.ndarray, k: int, codes: bool = False) -> np.ndarray:
        values = np.full(npay, None, dtype=object)
        values[found >= 0] = (cx.codes if codes else cx.texts)(found[found >= 0], k)
        return values

    method = per_payment(bpr, 4, codes=True)
    pay_date = np.full(npay, np.datetime64("NaT"), dtype="datetime64[D]")
    pay_date[has_bpr] = cx.dates(bpr_rows, 16, "BPR16 (payment date)")
    cx.require(trn[trn >= 0], 2, "TRN02 (trace number)")
    trace = per_payment(trn, 2)
    n1 = cx.rows("N1", in_claim=False)
    n1q = cx.keys(n1, 1)
    pr = cx.first(cx.payment_of(n1[n1q == _K["PR"]]), n1[n1q == _K["PR"]], npay)
    pe = n1[(n1q == _K["PE"])]
    pe = pe[cx.keys(pe, 3) == _K["XX"]]
    ref = cx.rows("REF", in_claim=False)
    ref = ref[cx.keys(ref, 1) == _K["2U"]]
    payer_ref = per_payment(cx.first(cx.payment_of(ref), ref, npay), 2)
    for fallback in (per_payment(pr, 4), per_payment(trn, 3)):
        payer_ref = np.where(pd.isna(payer_ref), fallback, payer_ref)
    ends = np.array(env.end_row, dtype=np.int64)[txs] if npay else np.zeros(0, np.int64)
    ids = _objects(_payment_ids(cx.segs, env, txs, [t or "" for t in trace], ends))
    columns = {
        "payment_id": ids, "payer_name": per_payment(pr, 2), "payer_ref": payer_ref,
        "payee_npi": per_payment(cx.first(cx.payment_of(pe), pe, npay), 4), "method": method,
        "amount": amount, "payment_date": pay_date, "trace_number": trace,
        "source_file": np.full(npay, cx.source, dtype=object),
    }
    return _Pay(txs=txs, ids=ids, amount=amount, decimals=decimals, bpr=bpr, columns=columns)


@dataclass
class _Claims:
    rows: np.ndarray
    payment: np.ndarray
    seq: np.ndarray
    claim_id: np.ndarray
    charge: np.ndarray
    paid: np.ndarray
    charge_dec: np.ndarray
    paid_dec: np.ndarray
    line_dates: np.ndarray | None = None  # first service line's date, filled by `_lines`


def _claims(cx: _Ctx, pay: _Pay) -> _Claims:
    rows = cx.st.clp_rows
    payment = cx.payment_of(rows)
    for k, name in ((1, "CLP01 (patient control number)"), (2, "CLP02 (claim status)")):
        cx.require(rows, k, name)
    charge, charge_dec, _ = cx.amounts(rows, 3, "CLP03 (claim charge)", True)
    paid, paid_dec, _ = cx.amounts(rows, 4, "CLP04 (claim payment)", True)
    return _Claims(rows=rows, payment=payment, seq=np.arange(len(rows)) - _first_of_group(payment) + 1,
                   claim_id=cx.texts(rows, 1), charge=charge, paid=paid, charge_dec=charge_dec,
                   paid_dec=paid_dec)


def _claim_table(cx: _Ctx, pay: _Pay, claims: _Claims, adj: dict) -> pd.DataFrame:
    """`claim_payments`, after checking CLP03 - all CAS of the claim == CLP04."""
    rows, n = claims.rows, len(claims.rows)
    cas = _sum_by(adj["claim"], adj["amount"], n)
    charge, paid = claims.charge, claims.paid
    for i in cx.out.take("unbalanced claim", np.flatnonzero(charge - cas != paid)):
        cx.out.add("unbalanced claim", "error", cx.where(rows[i]),
                   f"claim does not balance: charge {_money(charge[i])} - adjustments {_money(cas[i])}"
                   f" = {_money(charge[i] - cas[i])}, paid {_money(paid[i])}")
    resp, _, resp_present = cx.amounts(rows, 5, "CLP05 (patient responsibility)", False)
    dtm = cx.attached("DTM")
    dtm = dtm[(cx.st.line_of[dtm] < 0) & (cx.keys(dtm, 1) == _K["232"])]
    first = cx.first(cx.st.claim_of[dtm], dtm, n)
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    dates[first >= 0] = cx.dates(first[first >= 0], 2, "DTM02 (claim date)")
    if claims.line_dates is not None:  # claims without DTM*232 take the first line's date
        dates = np.where(np.isnat(dates), claims.line_dates, dates)
    return cx.build("claim_payments", {
        "payment_id": pay.ids[claims.payment], "claim_seq": claims.seq, "claim_id": claims.claim_id,
        "status_code": cx.codes(rows, 2), "charge": charge, "paid": paid,
        "patient_resp": _nullable(resp, resp_present), "payer_claim_id": cx.texts(rows, 7),
        "service_date": dates,
    })


def _lines(cx: _Ctx, pay: _Pay, claims: _Claims, adj: dict) -> pd.DataFrame:
    """`line_payments`, after checking SVC02 - line CAS == SVC03; DTM*472/150, REF*6R and AMT*B6 per line."""
    segs, out, where = cx.segs, cx.out, cx.where
    rows = cx.st.svc_rows
    n = len(rows)
    line_of = cx.st.line_of
    claim = cx.st.claim_of[rows]
    seq = np.arange(n) - _first_of_group(claim) + 1
    cx.require(rows, 1, "SVC01 (procedure)")
    charge, _, _ = cx.amounts(rows, 2, "SVC02 (line charge)", True)
    paid, _, _ = cx.amounts(rows, 3, "SVC03 (line payment)", True)
    at_line = adj["line"] >= 0
    cas = _sum_by(adj["line"][at_line], adj["amount"][at_line], n)
    for i in out.take("unbalanced line", np.flatnonzero(charge - cas != paid)):
        out.add("unbalanced line", "error", where(rows[i]),
                f"service line does not balance: charge {_money(charge[i])} - adjustments {_money(cas[i])}"
                f" = {_money(charge[i] - cas[i])}, paid {_money(paid[i])}")
    adj["line_seq"] = np.where(at_line, seq[np.maximum(adj["line"], 0)] if n else 0, 0)
    a, b = segs.element(rows, 5)
    mant, dec, ok = parse_decimal(segs.buf, a, b)
    units = np.where(b > a, to_float(mant, dec, ok), 1.0)
    for r in out.take("bad number", rows[(b > a) & ~ok]):
        out.add("bad number", "warning", where(r), "SVC05 (units) is not a number")
    procedure, modifiers = _procedures(segs, rows, out, where)

    dtm = cx.attached("DTM")
    q = cx.keys(dtm, 1)
    dtm = dtm[(line_of[dtm] >= 0) & ((q == _K["472"]) | (q == _K["150"]))]
    first = cx.first(line_of[dtm], dtm, n)
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    dates[first >= 0] = cx.dates(first[first >= 0], 2, "DTM02 (service date)")
    first_line = cx.first(claim, np.arange(n), len(claims.rows))
    claims.line_dates = np.full(len(claims.rows), np.datetime64("NaT"), dtype="datetime64[D]")
    claims.line_dates[first_line >= 0] = dates[first_line[first_line >= 0]]
    ref = cx.attached("REF")
    ref = ref[(line_of[ref] >= 0) & (cx.keys(ref, 1) == _K["6R"])]
    first = cx.first(line_of[ref], ref, n)
    control = np.full(n, None, dtype=object)
    control[first >= 0] = cx.texts(first[first >= 0], 2)
    amt = cx.attached("AMT")
    amt = amt[(line_of[amt] >= 0) & (cx.keys(amt, 1) == _K["B6"])]
    first = cx.first(line_of[amt], amt, n)
    allowed = np.zeros(n, dtype=np.int64)
    allowed_ok = np.zeros(n, dtype=bool)
    allowed[first >= 0], _, allowed_ok[first >= 0] = cx.amounts(first[first >= 0], 2,
                                                                "AMT02 (allowed amount)", False)
    return cx.build("line_payments", {
        "payment_id": pay.ids[claims.payment[claim]], "claim_seq": claims.seq[claim],
        "claim_id": claims.claim_id[claim], "line_seq": seq, "procedure_code": procedure,
        "modifiers": modifiers,
        "charge": charge, "paid": paid, "units": units, "line_control": control, "service_date": dates,
        "allowed": _nullable(allowed, allowed_ok),
    })


def _adjustment_table(cx: _Ctx, pay: _Pay, claims: _Claims, adj: dict) -> pd.DataFrame:
    c = adj["claim"]
    at_line = adj["line"] >= 0
    return cx.build("adjustments", {
        "payment_id": pay.ids[claims.payment[c]], "claim_seq": claims.seq[c], "claim_id": claims.claim_id[c],
        "line_seq": _nullable(adj.get("line_seq", np.zeros(len(c), np.int64)), at_line),
        "group_code": adj["group"], "reason_code": adj["reason"], "amount": adj["amount"],
        "quantity": adj["quantity"],
    })


def _remarks(cx: _Ctx, pay: _Pay, claims: _Claims) -> pd.DataFrame:
    """Remark codes: LQ02 (line level, or claim level when misplaced), MIA05/20-23 and MOA03-07."""
    segs = cx.segs
    keys, codes = [], []
    for seg_id, elems in (("LQ", (2,)), ("MIA", (5, 20, 21, 22, 23)), ("MOA", (3, 4, 5, 6, 7))):
        rows = cx.attached(seg_id)
        if seg_id == "LQ":
            cx.require(rows, 2, "LQ02 (remark code)")
        for k in elems:
            a, b = segs.element(rows, k)
            keep = b > a
            keys.append(rows[keep].astype(np.int64) * 32 + k)
            codes.append(segs.codes(a[keep], b[keep]))
    key = np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    rows = key[order] // 32
    c = cx.st.claim_of[rows]
    line = np.where(segs.code[rows] == _C["LQ"], cx.st.line_of[rows], -1)
    has_line = line >= 0
    svc_claim = cx.st.claim_of[cx.st.svc_rows]
    line_seq = np.arange(len(svc_claim)) - _first_of_group(svc_claim) + 1
    return cx.build("remarks", {
        "payment_id": pay.ids[claims.payment[c]], "claim_seq": claims.seq[c], "claim_id": claims.claim_id[c],
        "line_seq": _nullable(np.where(has_line, line_seq[np.maximum(line, 0)] if len(line_seq) else 0, 0),
                              has_line),
        "code": np.concatenate(codes)[order],
    })


def _payment_tables(cx: _Ctx, pay: _Pay, claims: _Claims, plb: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`payments` and the per-transaction figures, after checking BPR02 == sum(CLP04) - sum(PLB)."""
    npay = len(pay.txs)
    clp04 = _sum_by(claims.payment, claims.paid, npay)
    plb_sum = _sum_by(plb["payment"], plb["amount"], npay)
    balanced = pay.amount == clp04 - plb_sum
    st_row = np.array(cx.env.st_row, dtype=np.int64)
    for j in cx.out.take("unbalanced payment", np.flatnonzero(~balanced)):
        r = int(pay.bpr[j]) if pay.bpr[j] >= 0 else int(st_row[pay.txs[j]])
        cx.out.add("unbalanced payment", "error", cx.where(r),
                   f"payment does not balance: claim payments {_money(clp04[j])} - provider adjustments "
                   f"{_money(plb_sum[j])} = {_money(clp04[j] - plb_sum[j])}, BPR02 {_money(pay.amount[j])}")
    transactions = pd.DataFrame({
        "payment_id": pd.Series(pay.ids, dtype="str"),
        "st02": pd.Series([cx.env.st02[t] for t in pay.txs.tolist()], dtype="str"),
        "segment": st_row[pay.txs] + 1,
        "claims": np.bincount(claims.payment, minlength=npay)[:npay] if npay else np.zeros(0, np.int64),
        "amount": pay.amount,
        "claims_paid": clp04,
        "provider_adjustments": plb_sum,
        "balanced": balanced,
    })
    return cx.build("payments", pay.columns), transactions


def _objects(values: list) -> np.ndarray:
    """A 1-d object array of a list (never a 2-d array, whatever the values look like)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _nullable(values: np.ndarray, mask: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), ~np.asarray(mask, dtype=bool))


def _procedures(segs: Segments, rows: np.ndarray, out: _Findings, where) -> tuple[np.ndarray, np.ndarray]:
    """Procedure code and modifiers from SVC01 (qualifier:code:mod1..mod4), vectorized.

    Some TR3 transcriptions write `>` between components while ISA16 is `:`; when SVC01 holds no
    ISA16 but does hold `>`, `>` is used so their lines keep their procedure code.
    """
    a, b = segs.element(rows, 1)
    n = len(rows)
    procedure = np.full(n, None, dtype=object)
    modifiers = np.full(n, None, dtype=object)
    comp = np.array([ord(d.component) & 0xFF for d in segs.delimiters_of(rows)] if len(segs.blocks) > 1
                    else np.full(n, ord(segs.blocks[0].delimiters.component) & 0xFF if segs.blocks else 58),
                    dtype=np.int64)
    for c in np.unique(comp).tolist():
        sel = comp == c
        use_gt = ~segs.contains(a[sel], b[sel], chr(c)) & segs.contains(a[sel], b[sel], ">")
        comp[np.flatnonzero(sel)[use_gt]] = ord(">")
    for c in np.unique(comp).tolist():
        sel = np.flatnonzero(comp == c)
        starts, ends = components(segs.buf, segs.raw, a[sel], b[sel], c, 6)
        procedure[sel] = segs.codes(starts[:, 1], ends[:, 1])
        has_mods = np.flatnonzero(ends[:, 2] > starts[:, 2])
        sep = chr(c)

        def join(s: str, sep: str = sep) -> str | None:
            return ":".join(p for p in s.split(sep)[:4] if p) or None

        modifiers[sel[has_mods]] = segs.codes(starts[has_mods, 2], ends[has_mods, 5], join)
        for r in out.take("missing element", rows[sel[(b[sel] > a[sel]) & (ends[:, 1] <= starts[:, 1])]]):
            out.add("missing element", "warning", where(r), "SVC01 has no procedure code (only a qualifier)")
    return procedure, modifiers


def _adjustments(cx: _Ctx, cas: np.ndarray) -> dict:
    """CAS triplets in long form, in file order: claim, line (-1 = claim level), group, reason, amount."""
    segs, out, where = cx.segs, cx.out, cx.where
    cx.require(cas, 1, "CAS01 (group code)")
    group = cx.codes(cas, 1)
    unknown_group = np.flatnonzero(pd.notna(group) & ~np.isin(group, GROUP_CODES))
    for i in out.take("group code", unknown_group):
        g = group[i]
        shown = f" '{g}'" if _SHOWN_ID.match(g) and len(g) == 2 else ""
        out.add("group code", "warning", where(cas[i]),
                f"CAS01{shown} is not a group code (CO, PR, OA, PI or CR)")
    for r in out.take("cas", cas[segs.count(cas) > 19]):
        out.add("cas", "error", where(r), "CAS has more than 6 adjustments; the extra ones are ignored")
    keys, reasons, amounts, decs, qtys = [], [], [], [], []
    for t in range(6):
        ar, br = segs.element(cas, 2 + 3 * t)
        aa, ba = segs.element(cas, 3 + 3 * t)
        aq, bq = segs.element(cas, 4 + 3 * t)
        has = (br > ar) | (ba > aa) | (bq > aq)
        rows = cas[has]
        if not len(rows):
            continue
        ar, br, aq, bq = ar[has], br[has], aq[has], bq[has]
        cents, dec, _ = cx.amounts(rows, 3 + 3 * t, f"CAS{3 + 3 * t:02d} (adjustment amount)", True)
        for r in out.take("missing element", rows[br <= ar]):
            out.add("missing element", "error", where(r), f"CAS{2 + 3 * t:02d} (reason code) is missing")
        qm, qd, qok = parse_decimal(segs.buf, aq, bq)
        for r in out.take("bad number", rows[(bq > aq) & ~qok]):
            out.add("bad number", "warning", where(r), f"CAS{4 + 3 * t:02d} (quantity) is not a number")
        keys.append(np.flatnonzero(has) * 8 + t)
        reasons.append(segs.codes(ar, br))
        amounts.append(cents)
        decs.append(dec)
        qtys.append(to_float(qm, qd, qok))
    if not keys:
        e = np.zeros(0, np.int64)
        return {"row": e, "claim": e, "line": e, "group": np.zeros(0, object), "reason": np.zeros(0, object),
                "amount": e, "decimals": e, "quantity": np.zeros(0)}
    key = np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    idx = key[order] // 8
    rows = cas[idx]
    return {
        "row": rows, "claim": cx.st.claim_of[rows], "line": cx.st.line_of[rows], "group": group[idx],
        "reason": np.concatenate(reasons)[order], "amount": np.concatenate(amounts)[order],
        "decimals": np.concatenate(decs)[order], "quantity": np.concatenate(qtys)[order],
    }


def _provider_adjustments(cx: _Ctx, plb: np.ndarray) -> dict:
    """PLB adjustment pairs (PLB03/04 .. PLB13/14) in long form; composite reason `WO:ref` split."""
    segs, out, where = cx.segs, cx.out, cx.where
    cx.require(plb, 1, "PLB01 (provider identifier)")
    cx.require(plb, 2, "PLB02 (fiscal period date)")
    provider = cx.texts(plb, 1)
    fiscal = cx.dates(plb, 2, "PLB02 (fiscal period date)")
    for r in out.take("plb", plb[segs.count(plb) > 14]):
        out.add("plb", "error", where(r), "PLB has more than 6 adjustments; the extra ones are ignored")
    keys, codes, amounts, decs = [], [], [], []
    for t in range(6):
        ac, bc = segs.element(plb, 3 + 2 * t)
        aa, ba = segs.element(plb, 4 + 2 * t)
        has = (bc > ac) | (ba > aa)
        rows = plb[has]
        if not len(rows):
            continue
        ac, bc = ac[has], bc[has]
        cents, dec, _ = cx.amounts(rows, 4 + 2 * t, f"PLB{4 + 2 * t:02d} (adjustment amount)", True)
        for r in out.take("missing element", rows[bc <= ac]):
            out.add("missing element", "error", where(r),
                    f"PLB{3 + 2 * t:02d} (adjustment reason) is missing")
        keys.append(np.flatnonzero(has) * 8 + t)
        codes.extend(segs.texts(ac, bc))
        amounts.append(cents)
        decs.append(dec)
    if not keys:
        e = np.zeros(0, np.int64)
        return {"row": e, "payment": e, "provider": np.zeros(0, object), "date": np.zeros(0, "datetime64[D]"),
                "reason": np.zeros(0, object), "reference": np.zeros(0, object), "amount": e, "decimals": e}
    key = np.concatenate(keys)
    order = np.argsort(key, kind="stable")
    idx = key[order] // 8
    rows = plb[idx]
    reason, reference = [], []
    for text, d in zip(np.array(codes, dtype=object)[order].tolist(), segs.delimiters_of(rows), strict=True):
        head, _, tail = text.partition(d.component)
        reason.append(head or None)
        reference.append(tail or None)
    return {"row": rows, "payment": cx.payment_of(rows), "provider": provider[idx], "date": fiscal[idx],
            "reason": _objects(reason), "reference": _objects(reference),
            "amount": np.concatenate(amounts)[order], "decimals": np.concatenate(decs)[order]}
