"""Acknowledgements and claim status in (999, 277CA, 277), claim status requests out (276).

    from xl_ar.x12.status import read_277, read_999, write_276
    read = read_277(path.read_bytes(), path.name)    # StatusRead: the claim_status table + findings
    text = write_276(claims, payers, practice, when=now)

- `read_277`: a 277CA (005010X214, the claim acknowledgment a clearinghouse or payer returns for an
  837) or a 277 (005010X212, the answer to a 276) into `claim_status`, one row per STC: the HL level
  it sits in (information source 20, receiver 21, provider 19, subscriber 22 / dependent 23 / patient
  PT = claim, and line after an SVC), the claim (TRN02 of the claim loop; in a 277 the patient control
  number REF*EJ when sent, since TRN02 there echoes the 276 trace), REF*1K, REF*FJ, STC01-STC05, STC10,
  STC11 and the date of service.
- `read_999`: a 999 (005010X231A1) into `claim_status`, one row per AK2 (level `transaction`, IK5) and
  one per AK1 (level `group`, AK9), with the IK3/IK4 errors as text.
- `write_276`: one 276 (005010X212) per payer for a table of claims (see `write_276`).

Bad input (an 835 or 837 given as a 277, a truncated file, a wrong version) is refused: one error
finding for the file and an empty table (`StatusRead.refused`). Findings never show a patient value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar.findings import Finding, Location
from xl_ar.tables import empty, from_columns
from xl_ar.x12.hierarchy import read_hierarchy
from xl_ar.x12.reader import Document, TransactionSet, file_name, read_document
from xl_ar.x12.writer import ControlNumbers, Party, X12Writer

STATUS_277 = TransactionSet(
    id="277", name="277 claim status",
    segments=("BHT", "HL", "NM1", "PER", "TRN", "STC", "REF", "DTP", "QTY", "AMT", "SVC", "DMG"),
)
"""The 277 (claim acknowledgment X214 and claim status response X212) and the segments it uses."""

ACK_999 = TransactionSet(id="999", name="999 acknowledgment",
                         segments=("AK1", "AK2", "IK3", "CTX", "IK4", "IK5", "AK9"))
"""The 999 implementation acknowledgment and the segments it uses."""

CONVENTIONS_277 = {"005010X214": "277CA", "005010X212": "277"}
"""The 5010 guides of the 277 read, and the kind each gives."""
CONVENTION_999 = "005010X231A1"

_LEVELS = {"20": "source", "21": "receiver", "19": "provider", "22": "claim", "23": "claim", "PT": "claim"}
"""HL03 of a 277 and the level of a status found in its loop."""


@dataclass
class StatusRead:
    """One acknowledgment or status file read: the `claim_status` table and the findings."""

    source: str
    claim_status: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    refused: bool = False
    """True when the file was refused (one error finding, an empty table)."""


def _refuse(source: str, message: str) -> StatusRead:
    return StatusRead(source, empty("claim_status"),
                      [Finding("error", source, Location(part="whole file"), message, "refused")], refused=True)


def _check(doc: Document, kinds: dict[str, str]) -> str | None:
    """Why the document cannot be read (None when it can): not this transaction set, truncated, wrong version."""
    name = doc.set.id
    if not len(doc.txs):
        other = ", ".join(sorted(doc.other)) or "no transaction at all"
        return f"not a {name}: the file holds {other}; nothing was read from it"
    broken = [f for f in doc.findings.result()
              if f.severity == "error" and f.code == "envelope" and " has no " in f.message and "trailer" in f.message]
    ends = [doc.envelope.end_row[t] for t in doc.txs]
    seg_ids = [doc.segs.ids.name(int(doc.segs.code[r])) if r < len(doc.segs) else None for r in ends]
    if broken or any(s != "SE" for s in seg_ids):
        why = broken[0].message if broken else "a transaction has no SE trailer"
        return f"the {name} is incomplete or truncated ({why}); nothing was read from it: ask for the file again"
    versions = sorted({doc.envelope.convention[t] or "(none)" for t in doc.txs} - set(kinds))
    if versions:
        return (f"the {name} is version {', '.join(versions)}; xl-ar reads {', '.join(sorted(kinds))}; "
                "nothing was read from it")
    return None


def _composite(doc: Document, rows: np.ndarray, k: int, parts: int) -> list[np.ndarray]:
    """The first `parts` components of element k of rows (object arrays, None when empty)."""
    text = pd.Series(doc.texts(rows, k), dtype=object)
    out = [np.full(len(rows), None, dtype=object) for _ in range(parts)]
    if not len(rows):
        return out
    per_block = np.array([b.delimiters.component for b in doc.segs.blocks], dtype=object)  # one per interchange
    comps = per_block[doc.segs.block_of(np.asarray(rows, dtype=np.int64))]
    for c in pd.unique(comps):
        sel = np.flatnonzero(comps == c)
        split = text.iloc[sel].str.split(c, n=parts, regex=False, expand=True)
        for i in range(min(parts, split.shape[1] if split.ndim == 2 else 0)):
            col = split[i].to_numpy(dtype=object)
            out[i][sel] = np.where(pd.isna(col) | (col == ""), None, col)
    return out


def _first_date(values: np.ndarray) -> np.ndarray:
    """The first CCYYMMDD of D8 or RD8 values (`20260105-20260107`), NaT when none."""
    text = pd.Series(values, dtype=object).str.slice(0, 8)
    dates = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    dates = dates.where((dates.dt.year >= 1800) & (dates.dt.year <= 2300))  # 10010101: a placeholder, no date
    return dates.to_numpy().astype("datetime64[us]")


def _first_per(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """For keys 0..size-1: the value of the first row with that key (None when none)."""
    out = np.full(size + 1, None, dtype=object)
    keys = np.asarray(keys, dtype=np.int64)
    ok = keys >= 0
    if ok.any():
        k, first = np.unique(keys[ok], return_index=True)
        out[k] = values[ok][first]
    return out[:size]


def _last_before(marks: np.ndarray, n: int, stops: np.ndarray) -> np.ndarray:
    """For every row: the last row in `marks` at or before it, -1 when a row of `stops` came after that mark."""
    last_mark = np.full(n, -1, dtype=np.int64)
    last_mark[marks] = marks
    last_mark = np.maximum.accumulate(last_mark) if n else last_mark
    last_stop = np.full(n, -1, dtype=np.int64)
    last_stop[stops] = stops
    last_stop = np.maximum.accumulate(last_stop) if n else last_stop
    return np.where(last_mark > last_stop, last_mark, -1) if n else last_mark


def read_277(data: bytes | str, source: str) -> StatusRead:
    """Read a 277CA (005010X214) or 277 (005010X212) into `claim_status`: one row per STC.

    Raises `X12Error` only when the input has no readable X12 at all; a file of another transaction
    set, a truncated file or another version is refused (one error finding, an empty table).
    """
    source = file_name(source)
    doc = read_document(data, source, STATUS_277)
    why = _check(doc, CONVENTIONS_277)
    if why:
        return _refuse(source, why)
    tree = read_hierarchy(doc)
    n = len(doc)
    stc = doc.rows("STC")
    doc.require(stc, 1, "STC01 (status information)")
    hl = tree.hl_of[stc]
    # a line starts at its SVC and runs to the next HL (or the next SVC)
    svc_rows = doc.rows("SVC")
    line_of = _last_before(svc_rows, n, tree.rows)
    stc_line = line_of[stc]
    level = pd.Series(tree.level, dtype=object).map(_LEVELS).fillna("claim").to_numpy(dtype=object)
    stc_level = np.where(hl >= 0, level[np.maximum(hl, 0)] if len(level) else "claim", "claim")
    stc_level = np.where(stc_line >= 0, "line", stc_level)
    kind_of_tx = np.array([CONVENTIONS_277.get(c, "277") for c in doc.envelope.convention], dtype=object)
    kind = kind_of_tx[doc.tx_of[stc]]
    st02 = np.array(doc.envelope.st02, dtype=object)[doc.tx_of[stc]]

    # per HL: its TRN02, REF*1K / EJ before any SVC, DTP*472, NM1 id
    nh = len(tree)

    def per_hl(seg: str, k: int, qualifier: str | None, claim_part: bool = True) -> np.ndarray:
        rows = doc.rows(seg)
        if qualifier is not None:
            rows = rows[doc.codes(rows, 1) == qualifier]
        if claim_part:
            rows = rows[line_of[rows] < 0]
        return _first_per(tree.hl_of[rows], doc.texts(rows, k), nh)

    trn = per_hl("TRN", 2, None)
    ref_1k = per_hl("REF", 2, "1K")
    ref_ej = per_hl("REF", 2, "EJ")
    dtp = _first_date(per_hl("DTP", 3, "472"))
    nm1 = doc.rows("NM1")
    nm1_id = _first_per(tree.hl_of[nm1], doc.texts(nm1, 9), nh)

    def of_hl(values: np.ndarray, at: np.ndarray) -> np.ndarray:
        out = np.full(len(at), None, dtype=object)
        ok = at >= 0
        out[ok] = values[at[ok]]
        return out

    claim_level = (stc_level == "claim") | (stc_level == "line")
    claim_trn = of_hl(trn, hl)
    ej = of_hl(ref_ej, hl)
    is_277 = kind == "277"
    claim_id = np.where(claim_level, np.where(is_277 & pd.notna(ej), ej, claim_trn), None)
    trace = np.where(claim_level, None, claim_trn)
    service = of_hl(dtp, hl)
    service = np.where(pd.isna(service), np.datetime64("NaT"), service).astype("datetime64[us]")

    # line values: the SVC's procedure and amounts, its REF*FJ and DTP*472
    line_proc = np.full(len(stc), None, dtype=object)
    line_charge = np.zeros(len(stc), dtype=np.int64)
    line_paid = np.zeros(len(stc), dtype=np.int64)
    line_charge_ok = np.zeros(len(stc), dtype=bool)
    line_paid_ok = np.zeros(len(stc), dtype=bool)
    has_line = stc_line >= 0
    line_ref = np.full(len(stc), None, dtype=object)
    if len(svc_rows):
        procs = _composite(doc, svc_rows, 1, 3)[1]
        charges, _, charge_ok = doc.amounts(svc_rows, 2, "SVC02 (line charge)", required=False)
        paids, _, paid_ok = doc.amounts(svc_rows, 3, "SVC03 (line payment)", required=False)
        where = np.searchsorted(svc_rows, stc_line[has_line])
        line_proc[has_line] = procs[where]
        line_charge[has_line], line_charge_ok[has_line] = charges[where], charge_ok[where]
        line_paid[has_line], line_paid_ok[has_line] = paids[where], paid_ok[where]
        refs = doc.rows("REF")
        fj = refs[(doc.codes(refs, 1) == "FJ") & (line_of[refs] >= 0)]
        by_line = _first_per(np.searchsorted(svc_rows, line_of[fj]), doc.texts(fj, 2), len(svc_rows))
        line_ref[has_line] = by_line[where]
        dl = doc.rows("DTP")
        dl = dl[(doc.codes(dl, 1) == "472") & (line_of[dl] >= 0)]
        line_dates = _first_date(_first_per(np.searchsorted(svc_rows, line_of[dl]), doc.texts(dl, 3),
                                            len(svc_rows)))
        service[has_line] = np.where(pd.isna(line_dates[where]), service[has_line], line_dates[where])

    category, status, entity = _composite(doc, stc, 1, 3)
    doc.report("missing element", "warning", stc[pd.isna(category)], "STC01-1 (status category) is missing")

    def triple(k: int) -> np.ndarray:
        a, b, c = _composite(doc, stc, k, 3)
        joined = pd.Series(a, dtype=object).fillna("") + ":" + pd.Series(b, dtype=object).fillna("") + ":" + \
            pd.Series(c, dtype=object).fillna("")
        text = joined.str.rstrip(":").to_numpy(dtype=object)
        return np.where(text == "", None, text)

    charge, _, charge_ok = doc.amounts(stc, 4, "STC04 (total charge)", required=False)
    paid, _, paid_ok = doc.amounts(stc, 5, "STC05 (payment)", required=False)
    charge_v = pd.array(np.where(charge_ok, charge, line_charge), dtype="Int64")
    charge_v[~charge_ok & ~line_charge_ok] = pd.NA
    paid_v = pd.array(np.where(paid_ok, paid, line_paid), dtype="Int64")
    paid_v[~paid_ok & ~line_paid_ok] = pd.NA

    payer_hl = tree.ancestor(hl, "20")
    provider_hl = tree.ancestor(hl, "19")
    table = from_columns("claim_status", {
        "source_file": np.full(len(stc), source, dtype=object),
        "kind": kind, "level": stc_level, "transaction": st02,
        "claim_id": claim_id, "trace_number": trace,
        "payer_claim_id": np.where(claim_level, of_hl(ref_1k, hl), None),
        "payer_ref": of_hl(nm1_id, payer_hl), "provider_npi": of_hl(nm1_id, provider_hl),
        "line_control": line_ref, "procedure_code": line_proc, "service_date": service,
        "category_code": category, "status_code": status, "entity_code": entity,
        "status_2": triple(10), "status_3": triple(11),
        "status_date": doc.dates(stc, 2, "STC02 (status date)").astype("datetime64[us]"),
        "action_code": doc.codes(stc, 3), "charge": charge_v, "paid": paid_v,
    })
    return StatusRead(source, table, doc.findings.result())


def read_999(data: bytes | str, source: str) -> StatusRead:
    """Read a 999 (005010X231A1) into `claim_status`: one `transaction` row per AK2 (IK5 and its IK3/IK4
    errors) and one `group` row per AK1 (AK9 and its codes), in file order.

    Raises `X12Error` only when the input has no readable X12 at all; a file of another transaction set,
    a truncated file or another version is refused (one error finding, an empty table).
    """
    source = file_name(source)
    doc = read_document(data, source, ACK_999)
    why = _check(doc, {CONVENTION_999: "999"})
    if why:
        return _refuse(source, why)
    n = len(doc)
    ak1, ak2, ik3, ik4, ik5, ak9 = (doc.rows(s) for s in ("AK1", "AK2", "IK3", "IK4", "IK5", "AK9"))
    st_rows = doc.envelope.st_row
    tx_start = np.zeros(0, dtype=np.int64) if not len(st_rows) else np.asarray(st_rows, dtype=np.int64)
    group_of = _last_before(ak1, n, tx_start)      # AK1 of every row
    tx_of = _last_before(ak2, n, np.concatenate((tx_start, ak9)))  # AK2 of every row until the next AK2/AK9
    ik3_of = _last_before(ik3, n, np.concatenate((tx_start, ak2, ik5)))
    doc.report("missing AK2", "error", ik5[tx_of[ik5] < 0], "IK5 without its AK2; ignored")
    doc.report("missing AK1", "error", ak9[group_of[ak9] < 0], "AK9 without its AK1; ignored")
    doc.require(ik5, 1, "IK501 (transaction acknowledgment code)")
    doc.require(ak9, 1, "AK901 (group acknowledgment code)")

    # the 999's own date: GS04 of the group holding each transaction
    gs = np.flatnonzero(doc.segs.code == doc.segs.ids["GS"])
    gs_dates = doc.dates(gs, 4, "GS04 (group date)") if len(gs) else np.zeros(0, "datetime64[D]")

    def gs_date(rows: np.ndarray) -> np.ndarray:
        at = np.searchsorted(gs, rows) - 1
        out = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[us]")
        ok = at >= 0
        out[ok] = gs_dates[at[ok]]
        return out

    # IK3 / IK4 texts: `CLM at segment 12 (loop 2300): 8`, `CLM05-1: 7`
    seg_id, position, loop, code3 = (doc.texts(ik3, k) for k in (1, 2, 3, 4))
    ik3_text = (pd.Series(seg_id, dtype=object).fillna("?") + " at segment " + pd.Series(position, dtype=object)
                .fillna("?") + pd.Series(loop, dtype=object).map(lambda v: f" (loop {v})" if v else "") + ": "
                + pd.Series(code3, dtype=object).fillna("?"))
    el, comp, _rep = _composite(doc, ik4, 1, 3)
    owner = np.searchsorted(ik3, ik3_of[ik4])
    owner_id = np.where(ik3_of[ik4] >= 0, seg_id[np.minimum(owner, max(len(ik3) - 1, 0))] if len(ik3) else None,
                        None)
    el_s = pd.Series(el, dtype=object).map(lambda v: f"{int(v):02d}" if v and str(v).isdigit() else (v or "?"))
    ik4_text = (pd.Series(owner_id, dtype=object).fillna("") + el_s
                + pd.Series(comp, dtype=object).map(lambda v: f"-{v}" if v else "") + ": "
                + pd.Series(doc.texts(ik4, 3), dtype=object).fillna("?"))

    def codes_text(rows: np.ndarray, ks: range, label: str) -> np.ndarray:
        parts = [pd.Series(doc.texts(rows, k), dtype=object) for k in ks]
        joined = pd.concat(parts, axis=1).apply(lambda r: ", ".join(v for v in r if v), axis=1) \
            if len(rows) else pd.Series([], dtype=object)
        return np.where(joined == "", None, label + ": " + joined).astype(object)

    errors = pd.DataFrame({
        "row": np.concatenate((ik3, ik4, ik5)),
        "ak2": np.concatenate((tx_of[ik3], tx_of[ik4], tx_of[ik5])),
        "text": np.concatenate((ik3_text.to_numpy(dtype=object), ik4_text.to_numpy(dtype=object),
                                codes_text(ik5, range(2, 7), "transaction"))),
    }).dropna().sort_values("row")
    errors = errors[errors["ak2"] >= 0]
    errors["ak2"] = np.searchsorted(ak2, errors["ak2"].to_numpy(dtype=np.int64))  # AK2 row -> its index
    by_ak2 = errors.groupby("ak2")["text"].agg("; ".join)

    ik5_ak2 = np.where(tx_of[ik5] >= 0, np.searchsorted(ak2, tx_of[ik5]), -1)
    tx_ack = _first_per(ik5_ak2, doc.codes(ik5, 1), len(ak2))
    doc.report("missing IK5", "error", ak2[pd.isna(tx_ack)], "AK2 without its IK5 (no accept or reject code)")
    ak2_group = group_of[ak2]
    ak1_fid, ak1_ctl = doc.codes(ak1, 1), doc.texts(ak1, 2)
    gi = np.searchsorted(ak1, ak2_group)
    gi_ok = ak2_group >= 0
    ak9_of = np.searchsorted(ak1, group_of[ak9])
    g_ack = _first_per(np.where(group_of[ak9] >= 0, ak9_of, -1), doc.codes(ak9, 1), len(ak1))
    g_err = _first_per(np.where(group_of[ak9] >= 0, ak9_of, -1), codes_text(ak9, range(5, 10), "group"), len(ak1))
    doc.report("missing AK9", "error", ak1[pd.isna(g_ack)], "AK1 without its AK9 (no group accept or reject code)")

    def pick(values: np.ndarray, at: np.ndarray, ok: np.ndarray) -> np.ndarray:
        out = np.full(len(at), None, dtype=object)
        out[ok] = values[at[ok]]
        return out

    st02 = np.array(doc.envelope.st02, dtype=object)
    rows = np.concatenate((ak1, ak2))
    order = np.argsort(rows, kind="stable")
    n1, n2 = len(ak1), len(ak2)
    columns = {
        "source_file": np.full(n1 + n2, source, dtype=object),
        "kind": np.full(n1 + n2, "999", dtype=object),
        "level": np.array(["group"] * n1 + ["transaction"] * n2, dtype=object),
        "transaction": st02[doc.tx_of[rows]],
        "status_date": gs_date(rows),
        "group_control": np.concatenate((ak1_ctl, pick(ak1_ctl, gi, gi_ok))),
        "functional_id": np.concatenate((ak1_fid, pick(ak1_fid, gi, gi_ok))),
        "transaction_set": np.concatenate((np.full(n1, None, dtype=object), doc.codes(ak2, 1))),
        "transaction_control": np.concatenate((np.full(n1, None, dtype=object), doc.texts(ak2, 2))),
        "ack_code": np.concatenate((g_ack, tx_ack)),
        "error_codes": np.concatenate((g_err, by_ak2.reindex(range(n2)).to_numpy(dtype=object)
                                       if n2 else np.zeros(0, dtype=object))),
    }
    columns = {k: np.asarray(v)[order] for k, v in columns.items()}
    return StatusRead(source, from_columns("claim_status", columns), doc.findings.result())


# -- 276 -----------------------------------------------------------------------------------------------


def _names(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(last, first) of names written `Last, First` or `First Last`."""
    text = names.fillna("").astype(str).str.strip()
    comma = text.str.contains(",", regex=False)
    last = text.str.split(",", n=1).str[0].str.strip().where(comma, text.str.rsplit(" ", n=1).str[-1])
    first = text.str.split(",", n=1).str[-1].str.strip().where(
        comma, text.str.rsplit(" ", n=1).str[0].where(text.str.contains(" ", regex=False), ""))
    return last.str.upper(), first.str.upper()


_RESERVED = r"[*:~^\n\r]"


def _clean(values: pd.Series) -> pd.Series:
    """Text made safe for an element: delimiters and line breaks become spaces."""
    return values.fillna("").astype(str).str.replace(_RESERVED, " ", regex=True).str.strip()


def _money(cents: pd.Series) -> pd.Series:
    c = cents.astype("int64")
    sign = np.where(c < 0, "-", "")
    a = c.abs()
    whole, frac = a // 100, a % 100
    return pd.Series(sign, index=c.index) + whole.astype(str) + np.where(frac > 0, "." + frac.astype(str)
                                                                          .str.zfill(2), "")


def write_276(claims: pd.DataFrame, payers: pd.DataFrame, practice_name: str, practice_npi: str,
              submitter_id: str, when: dt.datetime, numbers: ControlNumbers | None = None,
              sender: Party | None = None, receiver: Party | None = None,
              usage: str = "P") -> tuple[str, list[Finding]]:
    """One 276 (005010X212) interchange asking the status of `claims`: one transaction per payer.

    Each claim is a 2000D subscriber loop (the patient as subscriber: DMG date of birth and sex, NM1*IL
    name and member id) with its 2200D: TRN*1 whose TRN02 is the claim id (so the 277 echoes it),
    REF*1K payer claim number when known, REF*EJ patient control number, AMT*T3 charge and DTP*472
    dates of service. The payer is NM1*PR with its `payer_ref`, the practice the information receiver
    (NM1*41, `submitter_id` as ETIN) and the provider (NM1*1P, XX `practice_npi`).

    Claims that cannot be asked for (no payer_ref, no member id, no date of birth or service date) are
    left out, each with an error finding naming the claim row (never its values). Returns the text
    ("" when no claim could be asked for) and the findings.
    """
    findings: list[Finding] = []
    numbers = numbers or ControlNumbers()
    w = X12Writer()
    c = claims.reset_index(drop=True)
    refs = payers.set_index("payer_id")["payer_ref"] if len(payers) else pd.Series(dtype=object)
    names = payers.set_index("payer_id")["name"] if len(payers) else pd.Series(dtype=object)
    payer_ref = c["payer_id"].map(refs)
    needed = {"payer_ref": payer_ref, "member_id": c["member_id"], "date_of_birth": c["date_of_birth"],
              "service_date": c["service_date"], "claim_id": c["claim_id"]}
    bad = pd.Series(False, index=c.index)
    for what, values in needed.items():
        miss = values.isna() | (values.astype(str).str.strip() == "")
        for i in np.flatnonzero(miss & ~bad):
            findings.append(Finding("error", "claims", Location(row=int(i) + 2, column=what),
                                    f"no {what.replace('_', ' ')}: the claim cannot be put in a 276", "276"))
        bad |= miss
    c = c[~bad.to_numpy()].copy()
    if c.empty:
        return "", findings
    c["payer_ref"] = _clean(payer_ref[c.index])
    last, first = _names(c["patient_name"] if "patient_name" in c else pd.Series("", index=c.index))
    sex = (c["patient_sex"] if "patient_sex" in c else pd.Series(None, index=c.index)).fillna("U")
    sex = sex.where(sex.isin(["F", "M", "U"]), "U")
    start = c["service_date"].dt.strftime("%Y%m%d")
    end = c["service_date"].dt.strftime("%Y%m%d")
    if "last_service_date" in c:
        end = c["last_service_date"].dt.strftime("%Y%m%d").fillna(end)
    dates = np.where(start == end, "D8*" + start, "RD8*" + start + "-" + end)
    pcn = _clean(c["payer_claim_id"] if "payer_claim_id" in c else pd.Series("", index=c.index))
    ref_1k = np.where(pcn != "", "REF*1K*" + pcn + "~\n", "")
    body = ("DMG*D8*" + c["date_of_birth"].dt.strftime("%Y%m%d") + "*" + sex + "~\n"
            + "NM1*IL*1*" + _clean(last) + "*" + _clean(first) + "****MI*" + _clean(c["member_id"]) + "~\n"
            + "TRN*1*" + _clean(c["claim_id"]) + "~\n" + ref_1k
            + "REF*EJ*" + _clean(c["claim_id"]) + "~\n"
            + "AMT*T3*" + _money(c["charge"]) + "~\n"
            + "DTP*472*" + dates + "~\n")
    body = body.str.replace("*~", "~", regex=False).str.replace(r"\*+~", "~", regex=True)
    c["body"] = body
    sender = sender or Party(submitter_id[:15])
    receiver = receiver or Party("CLEARINGHOUSE")
    transactions = []
    for ref, group in c.groupby("payer_ref", sort=True):  # one transaction per payer (few payers)
        k = np.arange(len(group))
        hl = ("HL*" + pd.Series(4 + k, index=group.index).astype(str) + "*3*22*0~\n")
        payer_name = _clean(pd.Series([names.get(group["payer_id"].iloc[0], ref)])).iloc[0] or ref
        head = [w.segment("BHT", "0010", "13", f"{when:%Y%m%d%H%M}"[:30], f"{when:%Y%m%d}", f"{when:%H%M}"),
                w.segment("HL", "1", None, "20", "1"), w.segment("NM1", "PR", "2", payer_name, None, None, None,
                                                               None, "PI", ref),
                w.segment("HL", "2", "1", "21", "1"), w.segment("NM1", "41", "2", _clean(pd.Series(
                    [practice_name])).iloc[0], None, None, None, None, "46", submitter_id),
                w.segment("HL", "3", "2", "19", "1"), w.segment("NM1", "1P", "2", _clean(pd.Series(
                    [practice_name])).iloc[0], None, None, None, None, "XX", practice_npi)]
        transactions.append(w.transaction("276", numbers.transaction(), "".join(head) + "".join(hl + group["body"]),
                                          convention="005010X212"))
    gs = w.group("HR", sender, receiver, when, numbers.group(), "005010X212", transactions)
    return w.interchange(sender, receiver, when, numbers.interchange(), [gs], usage=usage), findings
