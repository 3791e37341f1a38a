"""Eligibility in X12: 271 responses into the `eligibility` table, 270 batch requests out.

`read_271(data, source)` reads a 5010 271 (005010X279A1, also the pre-addenda 005010X279) or a 4010
one (004010X092A1 / 004010X092, the same loops): one row per EB benefit line, plus one row per
subscriber or dependent answered with no benefit (AAA rejections only, or nothing), so no rejection
is ever dropped. Columns: `xl_ar.tables.EligibilityBenefit`.

Loops (columnar, as in `era`): HL levels 20 payer, 21 provider, 22 subscriber, 23 dependent
(`hierarchy`); within a member's HL, a segment after an EB belongs to that benefit (loop 2110C/D)
and one between LS and LE to its related entity (loop 2120, not read); before the first EB, to the
member (2100C/D). A benefit's dates are its own DTPs, else the member's; its rejection reasons are
the AAAs of its loop and of every loop above it (payer, provider, subscriber, dependent).

Bad input gives one error finding and an empty table, never part of a file: no X12, no 271 in the
file (an 835 given as a 271), a truncated file (a transaction or the interchange without its
trailer), an unsupported version.

`write_270(requests, payers, practice, ...)` writes one 270 transaction per payer: the practice as
information receiver (NPI), one subscriber loop (2000C/2100C) per request with the request id as
trace number (TRN*1), so the payer's 271 echoes it back (TRN*2) and the answer joins its claim or
appointment.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.errors import X12Error
from xl_ar.findings import NOWHERE, Finding, Location
from xl_ar.practice import PracticeInfo
from xl_ar.tables import empty, from_columns
from xl_ar.x12.hierarchy import Hierarchy, read_hierarchy
from xl_ar.x12.reader import Document, TransactionSet, file_name, read_document
from xl_ar.x12.tokens import ENVELOPE_IDS, parse_date
from xl_ar.x12.writer import ControlNumbers, Party, X12Writer

RESPONSE = TransactionSet(
    id="271", name="271 eligibility response",
    segments=("BHT", "HL", "TRN", "NM1", "N3", "N4", "PER", "PRV", "REF", "AAA", "DMG", "INS", "HI", "DTP", "MPI",
              "EB", "HSD", "MSG", "III", "LS", "LE"),
)
"""The 271 (eligibility, coverage or benefit information) and the segments it uses."""

VERSIONS = {"005010X279A1": "5010", "005010X279": "5010", "004010X092A1": "4010", "004010X092": "4010"}
"""Implementation conventions read (ST03, else GS08)."""

ACTIVE_CODES = ("1", "2", "3", "4", "5")
"""EB01 active coverage: 1 active, 2 active full risk capitation, 3 services capitated, 4 services capitated to
primary care physician, 5 active pending investigation."""
INACTIVE_CODES = ("6", "7", "8")
"""EB01 inactive: 6 inactive, 7 inactive pending eligibility update, 8 inactive pending investigation."""

_SE = ENVELOPE_IDS.index("SE") + 1
_DATE_GROUPS = {  # DTP01 -> (column group, "range" | "begin" | "end")
    "291": ("plan", "range"), "346": ("plan", "begin"), "347": ("plan", "end"),
    "307": ("eligibility", "range"), "356": ("eligibility", "begin"), "357": ("eligibility", "end"),
    "292": ("benefit", "range"), "348": ("benefit", "begin"), "349": ("benefit", "end"),
}
_LEVELS = (("20", "payer"), ("21", "provider"), ("22", "subscriber"), ("23", "dependent"))


@dataclass(frozen=True)
class EligibilityResponse:
    """One 271 file read: the `eligibility` table and every finding (one error and no rows for a refused file)."""

    source: str
    eligibility: pd.DataFrame
    findings: list[Finding]


def _refused(source: str, message: str) -> EligibilityResponse:
    return EligibilityResponse(source, empty("eligibility"), [Finding("error", source, NOWHERE, message, "refused")])


def read_271(data: bytes | str, source: str) -> EligibilityResponse:
    """Read a 271 file (bytes or text) into the `eligibility` table; `source` is the file name shown."""
    name = file_name(source)
    try:
        doc = read_document(data, name, RESPONSE)
    except X12Error as e:
        return _refused(name, f"not an X12 file, nothing read: {e}")
    env = doc.envelope
    if not len(doc.txs):
        others = ", ".join(f"{k}" for k in sorted(doc.other)) or "none"
        what = " (an 835 is a remittance)" if "835" in doc.other else ""
        return _refused(name, f"not a 271 eligibility response: its transaction sets are {others}{what}; "
                              "nothing read")
    conventions = sorted({env.convention[t] or "" for t in doc.txs})
    wrong = [c for c in conventions if c not in VERSIONS]
    if wrong:
        return _refused(name, f"unsupported 271 version {', '.join(w or '(none given)' for w in wrong)}: "
                              "005010X279A1 (or 4010 004010X092A1) is read; nothing read")
    ends = env.end_row[doc.txs]
    cut = (ends >= len(doc)) | (doc.segs.code[np.minimum(ends, len(doc) - 1)] != _SE)
    ended = any("(the file ends)" in f.message for f in doc.findings.result())
    if cut.any() or ended:
        return _refused(name, "the file is truncated (a transaction or the interchange has no trailer); "
                              "nothing read: ask for the whole response again")
    if any(VERSIONS[c] == "4010" for c in conventions):
        doc.report_at("version", "warning", NOWHERE, "a 4010 (004010X092A1) response: read with the 5010 loops")
    frame = _map(doc)
    return EligibilityResponse(name, frame, doc.findings.result())


# -- mapping ---------------------------------------------------------------------------------------

def _running_last(mask: np.ndarray, reset: np.ndarray) -> np.ndarray:
    """For each row: the last row at or before it where `mask` holds, -1 when a `reset` row came after it."""
    idx = np.arange(len(mask))
    last = np.maximum.accumulate(np.where(mask, idx, -1)) if len(mask) else idx
    last_reset = np.maximum.accumulate(np.where(reset, idx, -1)) if len(mask) else idx
    return np.where(last > last_reset, last, -1) if len(mask) else last


def _first_per(keys: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """The first of `rows` (in order) for each key 0..n-1, -1 when none."""
    out = np.full(n + 1, -1, dtype=np.int64)
    keys = np.asarray(keys, dtype=np.int64)
    ok = keys >= 0
    k, r = keys[ok][::-1], np.asarray(rows)[ok][::-1]
    out[k] = r  # reversed: the first row written last wins
    return out[:n]


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index], None where index is -1."""
    out = np.empty(len(index), dtype=object)
    ok = index >= 0
    out[ok] = np.asarray(values, dtype=object)[index[ok]]
    return out


def _joined(keys: np.ndarray, values: np.ndarray, n: int, sep: str) -> np.ndarray:
    """Per key 0..n-1 the distinct values (in order) joined with `sep` (None when none)."""
    out = np.empty(n, dtype=object)
    if not len(keys):
        return out
    frame = pd.DataFrame({"k": keys, "v": values}).dropna()
    frame = frame[frame["k"] >= 0].drop_duplicates()
    joined = frame.groupby("k", sort=False)["v"].agg(sep.join)
    out[joined.index.to_numpy(dtype=np.int64)] = joined.to_numpy(dtype=object)
    return out


def _concat(*parts: np.ndarray, sep: str = ",") -> np.ndarray:
    """Element-wise join of optional strings (None parts skipped; None when all are)."""
    result: pd.Series | None = None
    for part in parts:
        p = pd.Series(part, dtype=object)
        if result is None:
            result = p
            continue
        both = result.notna() & p.notna()
        joined = result.where(~both, result.astype(str) + sep + p.astype(str))
        result = joined.where(joined.notna(), p)
    return np.where(result.isna(), None, result.to_numpy(dtype=object)) if result is not None else np.empty(0, object)


def _dedupe_codes(values: np.ndarray) -> np.ndarray:
    s = pd.Series(values, dtype=object)
    ok = s.notna()
    s[ok] = s[ok].str.split(",").map(lambda xs: ",".join(dict.fromkeys(xs)))
    return s.to_numpy(dtype=object)


def _split_repeats(doc: Document, rows: np.ndarray, k: int, sep: str, kind: str) -> np.ndarray:
    """Element k of rows with its repetitions (or components) joined by `sep` (None when empty)."""
    texts = pd.Series(doc.texts(rows, k), dtype=object)
    blocks = doc.segs.block_of(rows)
    out = texts.copy()
    for b in np.unique(blocks).tolist():
        d = doc.segs.blocks[b].delimiters
        char = d.repetition if kind == "repetition" else d.component
        if not char:
            continue
        at = (blocks == b) & texts.notna().to_numpy()
        out[at] = texts[at].str.replace(char, sep, regex=False)
    return out.to_numpy(dtype=object)


def _dtp_dates(doc: Document, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """DTP rows: (group, kind, begin, end) with group/kind from `_DATE_GROUPS` (None when not a dated qualifier)."""
    q = doc.codes(rows, 1)
    fmt = doc.codes(rows, 2)
    a, b = doc.segs.element(rows, 3)
    is_range = np.asarray(fmt == "RD8", dtype=bool)
    first_end = np.where(is_range, np.minimum(a + 8, b), b)
    d1, ok1 = parse_date(doc.segs.buf, a, first_end)
    d2, ok2 = parse_date(doc.segs.buf, np.minimum(a + 9, b), b)
    bad = ((b > a) & ~ok1) | (is_range & ~ok2)
    doc.report("bad date", "warning", rows[bad], "DTP03 is not a valid CCYYMMDD date or CCYYMMDD-CCYYMMDD range")
    d1 = np.where(ok1, d1, np.datetime64("NaT"))
    d2 = np.where(is_range & ok2, d2, np.datetime64("NaT"))
    qualifier = pd.Series(q, dtype=object)
    group = qualifier.map({k: g for k, (g, _) in _DATE_GROUPS.items()}).to_numpy(dtype=object)
    kind = qualifier.map({k: v for k, (_, v) in _DATE_GROUPS.items()}).to_numpy(dtype=object)
    begin = np.where((kind == "range") | (kind == "begin"), d1, np.datetime64("NaT"))
    end = np.where(kind == "range", d2, np.where(kind == "end", d1, np.datetime64("NaT")))
    return group, kind, begin.astype("datetime64[D]"), end.astype("datetime64[D]")


def _dates_by(keys: np.ndarray, group: np.ndarray, begin: np.ndarray, end: np.ndarray,
              n: int) -> dict[str, np.ndarray]:
    """Per key 0..n-1, the first begin and end date of each group (NaT when none)."""
    out = {}
    for g in ("plan", "eligibility", "benefit"):
        for part, values in (("begin", begin), ("end", end)):
            col = np.full(n + 1, np.datetime64("NaT"), dtype="datetime64[D]")
            sel = (group == g) & ~np.isnat(values) & (keys >= 0)
            first = _first_per(keys[sel], np.flatnonzero(sel), n)
            ok = first >= 0
            col[:n][ok] = values[first[ok]]
            out[f"{g}_{part}"] = col[:n]
    return out


def _map(doc: Document) -> pd.DataFrame:
    tree: Hierarchy = read_hierarchy(doc)
    n = len(doc)
    nhl = len(tree)
    code = doc.segs.code
    ids = doc.ids
    is_hl = code == ids["HL"]
    is_eb = (code == ids["EB"]) & doc.body
    boundary = is_hl | ~doc.body
    eb_of = _running_last(is_eb, boundary)  # the EB (row) a segment belongs to: loop 2110
    depth = np.cumsum((code == ids["LS"]).astype(np.int64) - (code == ids["LE"]).astype(np.int64))
    in_2120 = (depth > 0) | (code == ids["LE"])
    member_loop = (eb_of < 0) & ~in_2120  # 2100 loops: segments of an HL before its first EB
    benefit_loop = (eb_of >= 0) & ~in_2120 & ~is_eb
    hl_of = tree.hl_of
    level = np.asarray(tree.level, dtype=object)

    # 2100 names per HL: payer, provider, member
    nm1 = doc.rows("NM1")
    nm1 = nm1[member_loop[nm1] & (hl_of[nm1] >= 0)]
    nm1_of_hl = _first_per(hl_of[nm1], nm1, nhl)
    nm1_rows = nm1_of_hl[nm1_of_hl >= 0]
    name_last = np.empty(nhl, dtype=object)
    name_first = np.empty(nhl, dtype=object)
    qual = np.empty(nhl, dtype=object)
    ident = np.empty(nhl, dtype=object)
    has = nm1_of_hl >= 0
    name_last[has] = doc.texts(nm1_rows, 3)
    name_first[has] = doc.texts(nm1_rows, 4)
    qual[has] = doc.codes(nm1_rows, 8)
    ident[has] = doc.texts(nm1_rows, 9)
    person = pd.Series(name_last, dtype=object)
    full = person.where(pd.Series(name_first).isna(), person.fillna("") + ", " + pd.Series(name_first).fillna(""))
    full = full.to_numpy(dtype=object)

    dmg = doc.rows("DMG")
    dmg = dmg[member_loop[dmg] & (hl_of[dmg] >= 0)]
    dob_of_hl = np.full(nhl, np.datetime64("NaT"), dtype="datetime64[D]")
    first_dmg = _first_per(hl_of[dmg], dmg, nhl)
    if (first_dmg >= 0).any():
        r = first_dmg[first_dmg >= 0]
        dob_of_hl[first_dmg >= 0] = doc.dates(r, 2, "DMG02 (date of birth)").astype("datetime64[D]")

    trn = doc.rows("TRN")
    trn = trn[(hl_of[trn] >= 0) & np.asarray(doc.codes(trn, 1) == "2", dtype=bool)]
    trn_of_hl = _first_per(hl_of[trn], trn, nhl)
    trace_of_hl = np.empty(nhl, dtype=object)
    if (trn_of_hl >= 0).any():
        trace_of_hl[trn_of_hl >= 0] = doc.texts(trn_of_hl[trn_of_hl >= 0], 2)

    # AAA per HL (2100) and per EB (2110)
    aaa = doc.rows("AAA")
    aaa = aaa[~in_2120[aaa] & (hl_of[aaa] >= 0)]
    reason = doc.codes(aaa, 3)
    follow = doc.codes(aaa, 4)
    at_hl = aaa[eb_of[aaa] < 0]
    at_eb = aaa[eb_of[aaa] >= 0]
    sel_hl = eb_of[aaa] < 0
    reason_hl = _joined(hl_of[at_hl], reason[sel_hl], nhl, ",")
    follow_hl = _joined(hl_of[at_hl], follow[sel_hl], nhl, ",")
    first_aaa_hl = _first_per(hl_of[at_hl], at_hl, nhl)

    # dates per HL (2100) and per EB row (2110)
    dtp = doc.rows("DTP")
    dtp = dtp[~in_2120[dtp] & (hl_of[dtp] >= 0)]
    group, _, begin, end = _dtp_dates(doc, dtp)
    hl_dates = _dates_by(np.where(eb_of[dtp] < 0, hl_of[dtp], -1), group, begin, end, nhl)

    # output rows: every EB, and every HL with no EB that is a member leaf or carries its own AAA
    eb = doc.rows("EB")
    eb = eb[hl_of[eb] >= 0]
    eb_count = np.bincount(hl_of[eb], minlength=nhl) if nhl else np.zeros(0, dtype=np.int64)
    leaf = tree.children(np.arange(nhl)) == 0 if nhl else np.zeros(0, dtype=bool)
    member_level = np.isin(level, ["22", "23"]) if nhl else np.zeros(0, dtype=bool)
    lonely = np.flatnonzero((eb_count == 0) & ((leaf & member_level) | (first_aaa_hl >= 0)))
    # a non-leaf HL with AAA whose children also get rows: reported through them, not twice
    has_child_row = np.zeros(nhl + 1, dtype=bool)
    child_rows = np.concatenate([hl_of[eb], lonely[leaf[lonely]]]) if nhl else np.zeros(0, np.int64)
    up = tree.parent[child_rows] if len(child_rows) else np.zeros(0, np.int64)
    while len(up) and (up >= 0).any():
        has_child_row[up[up >= 0]] = True
        up = np.where(up >= 0, tree.parent[np.maximum(up, 0)], -1)
    lonely = lonely[leaf[lonely] | ~has_child_row[lonely]]

    row_hl = np.concatenate([hl_of[eb], lonely]).astype(np.int64)
    seg_row = np.concatenate([eb, np.where(first_aaa_hl[lonely] >= 0, first_aaa_hl[lonely],
                                           tree.rows[lonely])]).astype(np.int64)
    is_benefit = np.concatenate([np.ones(len(eb), bool), np.zeros(len(lonely), bool)])
    order = np.argsort(seg_row, kind="stable")
    row_hl, seg_row, is_benefit = row_hl[order], seg_row[order], is_benefit[order]
    m = len(row_hl)
    eb_rows = seg_row[is_benefit]

    anc = {lv: tree.ancestor(row_hl, lv) if m else np.zeros(0, np.int64) for lv, _ in _LEVELS}
    member_hl = np.where(anc["23"] >= 0, anc["23"], anc["22"])
    rel = np.where(anc["23"] >= 0, "dependent", np.where(anc["22"] >= 0, "subscriber", None)).astype(object)
    own_id = _take(ident, member_hl)
    member_id = np.where(pd.notna(own_id), own_id, _take(ident, anc["22"]))
    trace = _take(trace_of_hl, member_hl)
    trace = np.where(pd.notna(trace), trace, _take(trace_of_hl, anc["22"]))
    provider_npi = np.where(_take(qual, anc["21"]) == "XX", _take(ident, anc["21"]), None)
    dob = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")
    dob[member_hl >= 0] = dob_of_hl[member_hl[member_hl >= 0]]

    # rejections: every level's AAA, then the benefit's own
    eb_index = np.full(n + 1, -1, dtype=np.int64)
    eb_index[eb_rows] = np.arange(len(eb_rows))
    row_of_eb = np.flatnonzero(is_benefit)
    eb_reason = np.empty(m, dtype=object)
    eb_follow = np.empty(m, dtype=object)
    if len(at_eb):
        k = eb_index[eb_of[at_eb]]
        eb_reason[row_of_eb] = _joined(k, reason[~sel_hl], len(eb_rows), ",")
        eb_follow[row_of_eb] = _joined(k, follow[~sel_hl], len(eb_rows), ",")
    reasons = [_take(reason_hl, anc[lv]) for lv, _ in _LEVELS] + [eb_reason]
    follows = [_take(follow_hl, anc[lv]) for lv, _ in _LEVELS] + [eb_follow]
    rejection_level = np.empty(m, dtype=object)
    for (_, label), values in zip([*_LEVELS, ("", "benefit")], reasons, strict=True):
        rejection_level[pd.notna(values)] = label

    # benefit elements
    cols: dict[str, object] = {}
    benefit = np.empty(m, dtype=object)
    benefit[is_benefit] = doc.codes(eb_rows, 1)
    status = np.where(np.isin(benefit, ACTIVE_CODES), "active",
                      np.where(np.isin(benefit, INACTIVE_CODES), "inactive", None)).astype(object)

    def at_benefit(values: np.ndarray, dtype: object = object) -> np.ndarray:
        out = np.empty(m, dtype=object) if dtype is object else np.full(m, np.nan)
        out[is_benefit] = values
        return out

    cents, _, present = doc.amounts(eb_rows, 7, "EB07 (benefit amount)", required=False)
    amount = pd.array(np.zeros(m, dtype=np.int64), dtype="Int64")
    amount[:] = pd.NA
    if present.any():
        where = np.flatnonzero(is_benefit)[present]
        amount[where] = cents[present]
    eb13 = _split_repeats(doc, eb_rows, 13, ":", "component")
    parts = pd.Series(eb13, dtype=object).str.split(":")
    proc = parts.str[1].where(parts.str.len() > 1)
    mods = parts.str[2:].str.join(":").str.strip(":").str.replace(r":{2,}", ":", regex=True)
    mods = mods.where(mods.fillna("") != "")

    # dates: the benefit's own 2110 DTP, else the member's 2100 DTP, else the subscriber's
    eb_dates = _dates_by(np.where(eb_of[dtp] >= 0, eb_index[np.maximum(eb_of[dtp], 0)], -1), group, begin, end,
                         len(eb_rows))
    for key in hl_dates:
        col = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")
        col[is_benefit] = eb_dates[key]
        for h in (member_hl, anc["22"]):
            fill = np.isnat(col) & (h >= 0)
            col[fill] = hl_dates[key][h[fill]]
        cols[key] = col

    msg = doc.rows("MSG")
    msg = msg[benefit_loop[msg]]
    messages = np.empty(m, dtype=object)
    if len(msg):
        messages[row_of_eb] = _joined(eb_index[eb_of[msg]], doc.texts(msg, 1), len(eb_rows), " | ")

    tx = doc.tx_of[seg_row]
    st02 = np.array(doc.envelope.st02, dtype=object)[tx] if m else np.empty(0, dtype=object)
    bht = doc.rows("BHT")
    bht_date = np.full(len(doc.envelope) + 1, np.datetime64("NaT"), dtype="datetime64[D]")
    if len(bht):
        bht_date[doc.tx_of[bht]] = doc.dates(bht, 4, "BHT04 (response date)").astype("datetime64[D]")
    cols.update(
        source_file=np.full(m, doc.source, dtype=object),
        transaction=st02,
        segment=seg_row + 1,
        response_date=bht_date[tx],
        trace_number=trace,
        payer_edi_id=_take(ident, anc["20"]),
        payer_name=_take(name_last, anc["20"]),
        provider_npi=provider_npi,
        member_id=member_id,
        patient_name=_take(full, member_hl),
        date_of_birth=dob,
        relationship=rel,
        benefit_code=benefit,
        coverage_status=status,
        coverage_level=at_benefit(doc.codes(eb_rows, 2)),
        service_types=at_benefit(_split_repeats(doc, eb_rows, 3, ",", "repetition")),
        insurance_type=at_benefit(doc.codes(eb_rows, 4)),
        plan=at_benefit(doc.texts(eb_rows, 5)),
        time_period=at_benefit(doc.codes(eb_rows, 6)),
        amount=amount,
        percent=at_benefit(doc.numbers(eb_rows, 8, "EB08 (percent)"), float),
        quantity_qualifier=at_benefit(doc.codes(eb_rows, 9)),
        quantity=at_benefit(doc.numbers(eb_rows, 10, "EB10 (quantity)"), float),
        authorization_required=at_benefit(doc.codes(eb_rows, 11)),
        in_network=at_benefit(doc.codes(eb_rows, 12)),
        procedure_code=at_benefit(proc.to_numpy(dtype=object)),
        procedure_modifiers=at_benefit(mods.to_numpy(dtype=object)),
        rejection_level=rejection_level,
        rejection_reason=_dedupe_codes(_concat(*reasons)),
        follow_up=_dedupe_codes(_concat(*follows)),
        message=messages,
    )
    for key in ("percent", "quantity"):
        cols[key] = np.asarray(cols[key], dtype=float)
    for key, values in cols.items():
        if isinstance(values, np.ndarray) and values.dtype == object:
            cols[key] = np.where(pd.isna(values), None, values)
    return from_columns("eligibility", cols)


# -- 270 requests ----------------------------------------------------------------------------------

REQUEST_COLUMNS = ("request_id", "member_id", "patient_name", "date_of_birth", "payer_id", "service_date")
"""What a 270 request row needs (`service_type` optional, 30 when empty)."""


@dataclass(frozen=True)
class EligibilityRequest:
    """A 270 batch written: its text, the requests in it (request_id, payer_id, trace_number), findings."""

    text: str
    requests: pd.DataFrame
    findings: list[Finding]


def _names(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """`LAST, FIRST` (or `LAST`) into last and first name."""
    text = values.fillna("").astype(str)
    parts = text.str.split(",", n=1)
    last = parts.str[0].str.strip()
    first = parts.str[1].fillna("").str.strip()
    return last, first


def write_270(requests: pd.DataFrame, payers: pd.DataFrame, practice: PracticeInfo, *, when: dt.datetime,
              numbers: ControlNumbers | None = None, sender: Party | None = None, receiver: Party | None = None,
              source: str = "requests") -> EligibilityRequest:
    """270 eligibility requests (005010X279A1), one transaction per payer, one subscriber loop per request.

    `requests` has `request_id` (the claim or appointment), `member_id`, `patient_name` (`LAST, FIRST`),
    `date_of_birth`, `payer_id` (the practice's, its EDI id from `payers.payer_ref`), `service_date` and
    optionally `service_type` (EQ01; 30, health benefit plan coverage, when empty). The request id is the
    trace number (TRN*1), echoed on the 271 as TRN*2. A request that cannot be written (no member id, no
    payer EDI id, a delimiter in a value) is a finding naming its row, never silently left out.
    """
    numbers = numbers or ControlNumbers()
    w = X12Writer()
    findings: list[Finding] = []
    frame = requests.reset_index(drop=True).copy()
    for col in REQUEST_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.NA
    if "service_type" not in frame.columns:
        frame["service_type"] = pd.NA
    refs = payers.set_index("payer_id")
    frame["payer_ref"] = frame["payer_id"].map(refs["payer_ref"]) if len(refs) else pd.NA
    frame["payer_name"] = frame["payer_id"].map(refs["name"]) if len(refs) else pd.NA
    frame["service_type"] = frame["service_type"].fillna("30").astype(str).replace("", "30")
    last, first = _names(frame["patient_name"])
    frame["last"], frame["first"] = last.str.upper(), first.str.upper()
    dob = pd.to_datetime(frame["date_of_birth"], errors="coerce")
    dos = pd.to_datetime(frame["service_date"], errors="coerce")
    frame["dob"] = dob.dt.strftime("%Y%m%d")
    frame["dos"] = dos.dt.strftime("%Y%m%d")

    reserved = "".join(re.escape(c) for c in (w.delimiters.element, w.delimiters.component, w.delimiters.segment,
                                              w.delimiters.repetition or "") if c)
    problems = pd.Series("", index=frame.index)
    checks = (
        (frame["request_id"].isna() | (frame["request_id"].astype(str).str.len() > 50),
         "request_id is missing or longer than 50 characters (the trace number)"),
        (frame["member_id"].isna() | (frame["member_id"].astype(str).str.strip() == ""), "member_id is missing"),
        (frame["payer_ref"].isna(), "the payer has no EDI id (payers.payer_ref)"),
        (dos.isna(), "service_date is missing or not a date"),
        (frame["last"] == "", "patient_name is missing"),
    )
    for bad, message in checks:
        problems = problems.where(~bad, problems + "; " + message)
    text_cols = ["request_id", "member_id", "last", "first", "payer_ref", "payer_name", "service_type"]
    has_delim = np.zeros(len(frame), dtype=bool)
    for col in text_cols:
        has_delim |= frame[col].fillna("").astype(str).str.contains(f"[{reserved}]", regex=True).to_numpy()
    problems = problems.where(~has_delim, problems + "; a value holds an X12 delimiter (* : ~ ^)")
    bad_rows = problems != ""
    for i in np.flatnonzero(bad_rows.to_numpy()).tolist():
        findings.append(Finding("error", source, Location(row=i + 2), f"request not written: "
                                f"{problems.iloc[i].lstrip('; ')}", "request not written"))
    good = frame[~bad_rows].copy()
    if not len(good):
        findings.append(Finding("error", source, NOWHERE, "no request could be written: nothing written",
                                "nothing written"))
        return EligibilityRequest("", pd.DataFrame(columns=["request_id", "payer_id", "trace_number"]), findings)

    npi = practice.npi.strip()
    tax = re.sub(r"\D", "", practice.tax_id or "")
    originator = ("1" + tax) if len(tax) == 9 else ("9" + npi)
    sender = sender or Party(npi or "SENDER")
    provider = w.segment("NM1", "1P", "2", practice.name.upper() or None, None, None, None, None, "XX", npi)
    txs = []
    for ref, batch in good.groupby("payer_ref", sort=True):  # one transaction per payer (a handful)
        k = np.arange(len(batch)) + 3
        e, s = w.delimiters.element, w.terminator
        name = np.where(batch["first"] == "", batch["last"], batch["last"] + e + batch["first"])
        body = (
            "HL" + e + pd.Series(k, index=batch.index).astype(str) + e + "2" + e + "22" + e + "0" + s
            + "TRN" + e + "1" + e + batch["request_id"].astype(str) + e + originator + s
            + "NM1" + e + "IL" + e + "1" + e + pd.Series(name, index=batch.index)
            + np.where(batch["first"] == "", e * 5, e * 4) + "MI" + e
            + batch["member_id"].astype(str).str.strip() + s
            + np.where(batch["dob"].notna(), "DMG" + e + "D8" + e + batch["dob"].fillna("") + s, "")
            + "DTP" + e + "291" + e + "D8" + e + batch["dos"] + s
            + "EQ" + e + batch["service_type"] + s
        )
        payer_name = str(batch["payer_name"].iloc[0] if pd.notna(batch["payer_name"].iloc[0]) else ref).upper()
        control = numbers.transaction()
        head = [
            w.segment("BHT", "0022", "13", control, f"{when:%Y%m%d}", f"{when:%H%M}"),
            w.segment("HL", "1", None, "20", "1"),
            w.segment("NM1", "PR", "2", payer_name, None, None, None, None, "PI", str(ref)),
            w.segment("HL", "2", "1", "21", "1"),
            provider,
        ]
        txs.append(w.transaction("270", control, "".join(head) + "".join(body.tolist()), convention="005010X279A1"))
    if receiver is None:  # a batch to one payer goes to it; to several, to the clearinghouse that routes them
        refs = good["payer_ref"].astype(str).unique()
        receiver = Party(refs[0][:15]) if len(refs) == 1 else Party("CLEARINGHOUSE")
    gs = w.group("HS", sender, receiver, when, numbers.group(), "005010X279A1", txs)
    text = w.interchange(sender, receiver, when, numbers.interchange(), [gs])
    written = good[["request_id", "payer_id"]].assign(trace_number=good["request_id"].astype(str))
    return EligibilityRequest(text, written.reset_index(drop=True), findings)
