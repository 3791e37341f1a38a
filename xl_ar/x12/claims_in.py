"""837P professional claims in: a claim file read back into the claims, lines and COB tables.

    found, findings = read_837p(path.read_bytes(), path.name, payers)
    found["claims"], found["claim_lines"], found["cob_claims"], found["cob_lines"], found["cob_adjustments"]

Every segment is placed in its loop by position, for all rows at once: a row's claim is the last CLM
before it in the same HL, its line the last LX after that CLM, its other payer (2320) the last SBR
after the CLM, its line adjudication (2430) the last SVD after the LX. The HL tree (`hierarchy`)
gives each claim its subscriber (HL 22) and patient (HL 22 or 23). What `write_837p` writes reads
back identical (names upper case, `LAST, FIRST`; diagnosis codes without their dot).

Columns the 837P does not carry are filled so the tables stay canonical: `account_id` is the
claim id, `paid` and `adjusted` 0, `balance` the charge, `responsibility` insurance, `billed_date`
BHT04. `payer_id` is the payer's NM109 mapped back through `payers.payer_ref` when `payers` is
given (else NM109 itself). A 2320 loop with AMT*D (the other payer paid) is a COB row; one without
it names the claim's other payer (`secondary_payer_id` when its SBR01 is S).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xl_ar import tables
from xl_ar.findings import Finding
from xl_ar.x12.hierarchy import read_hierarchy
from xl_ar.x12.reader import Document, TransactionSet, read_document

CLAIMS_837 = TransactionSet("837", "837 claim", (
    "BHT", "NM1", "N2", "N3", "N4", "PER", "HL", "PRV", "CUR", "REF", "SBR", "PAT", "DMG", "CLM", "DTP", "PWK",
    "CN1", "AMT", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP", "CAS", "OI", "MOA", "LX", "SV1", "SV5", "CR3",
    "QTY", "MEA", "PS1", "HSD", "LIN", "CTP", "SVD", "LQ", "FRM", "MIA", "SV2", "SV3", "TOO", "CL1", "DN1", "DN2",
))


def _last(mask: np.ndarray) -> np.ndarray:
    """For every row, the position of the last row at or before it where `mask` holds (-1 if none)."""
    pos = np.where(mask, np.arange(len(mask)), -1)
    return np.maximum.accumulate(pos) if len(pos) else pos


def _parts(doc: Document, rows: np.ndarray, k: int, width: int) -> pd.DataFrame:
    """Composite element k of rows split into `width` components (empty strings when absent); the split is
    done once per distinct value (composites repeat: procedures, pointers, diagnoses)."""
    text = pd.Series(doc.texts(rows, k), dtype=object).fillna("")
    comp = doc.segs.blocks[0].delimiters.component if doc.segs.blocks else ":"
    if len(doc.segs.blocks) > 1:
        delims = doc.segs.delimiters_of(rows)
        other = np.array([d.component != comp for d in delims], dtype=bool)
        if other.any():
            text[other] = [t.replace(d.component, comp) for t, d, o in zip(text, delims, other, strict=True) if o]
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    split = pd.Series(np.asarray(uniques, dtype=object), dtype=object).str.split(comp, n=width - 1, expand=True)
    split = split.reindex(columns=range(width)).astype(object).fillna("")
    return pd.DataFrame({j: split[j].to_numpy(dtype=object)[codes] for j in range(width)})


def _joined(keys: np.ndarray, values: np.ndarray, n: int, sep: str) -> np.ndarray:
    """values joined with `sep` per key 0..n-1 in the order given (None where a key has none), without a Python
    call per key: one column per position."""
    out = np.full(n, None, dtype=object)
    if not len(keys):
        return out
    order = pd.Series(keys).groupby(keys).cumcount().to_numpy()
    for r in range(int(order.max()) + 1):
        at = order == r
        k, v = keys[at], values[at]
        out[k] = v if r == 0 else out[k] + sep + v
    return out


def read_837p(data: bytes | str, source: str, payers: pd.DataFrame | None = None
              ) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """The claims of an 837P file as `claims`, `claim_lines`, `cob_claims`, `cob_lines`, `cob_adjustments`,
    with findings. Raises `X12Error` only when the file holds no readable X12."""
    doc = read_document(data, source, CLAIMS_837)
    for t in doc.txs.tolist():
        convention = doc.envelope.convention[t] or ""
        if not convention.startswith("005010X222"):
            shown_as = convention if convention.isalnum() and len(convention) <= 20 else "missing"
            doc.report_at("version", "warning", doc.where.transaction(t),
                          f"implementation convention {shown_as} is not 5010 professional (005010X222); "
                          "read as an 837P, check the figures")
    tree = read_hierarchy(doc)
    n = len(doc)
    code = doc.segs.code
    ids = doc.ids
    body = doc.body

    def is_(seg: str) -> np.ndarray:
        return (code == ids[seg]) & body

    tx = doc.tx_of
    L_hl, L_clm, L_lx, L_sbr, L_svd = (_last(is_(s)) for s in ("HL", "CLM", "LX", "SBR", "SVD"))
    nm1 = is_("NM1")
    L_nm1 = _last(nm1)
    nm1_rows = np.flatnonzero(nm1)
    qual = np.full(n, None, dtype=object)
    qual[nm1_rows] = doc.codes(nm1_rows, 1)

    def same_tx(last: np.ndarray, rows: np.ndarray) -> np.ndarray:
        at = last[rows]
        return (at >= 0) & (tx[np.maximum(at, 0)] == tx[rows])

    # --- claims (2300)
    clm = doc.rows("CLM")
    k = len(clm)
    doc.require(clm, 1, "CLM01 (patient control number)")
    claim_id = doc.texts(clm, 1)
    charge, _, _ = doc.amounts(clm, 2, "CLM02 (total claim charge)", required=True)
    c05 = _parts(doc, clm, 5, 3)

    def claim_of(rows: np.ndarray) -> np.ndarray:
        """The claim (index into `clm`) of each row, -1 outside a claim of its HL."""
        at = L_clm[rows]
        ok = same_tx(L_clm, rows) & (at > L_hl[rows])
        return np.where(ok, np.searchsorted(clm, np.maximum(at, 0)), -1)

    def in_2300(rows: np.ndarray) -> np.ndarray:
        at = L_clm[rows]
        return (claim_of(rows) >= 0) & (at > L_lx[rows]) & (at > L_sbr[rows]) & (at > L_nm1[rows])

    def claim_values(seg: str, q: str, k_val: int, where=in_2300) -> np.ndarray:
        rows = doc.rows(seg)
        rows = rows[where(rows)]
        rows = rows[doc.codes(rows, 1) == q] if len(rows) else rows
        out = np.full(k, None, dtype=object)
        if len(rows):
            out[claim_of(rows)] = doc.texts(rows, k_val)
        return out

    prior_auth = claim_values("REF", "G1", 2)
    f8 = claim_values("REF", "F8", 2)

    def in_2310(rows: np.ndarray) -> np.ndarray:
        return (claim_of(rows) >= 0) & (L_clm[rows] > L_lx[rows]) & (L_clm[rows] > L_sbr[rows])

    rendering = claim_values("NM1", "82", 9, in_2310)

    # diagnoses: HI composites ABK/ABF (BK/BF in older files), in order
    hi = doc.rows("HI")
    hi = hi[in_2300(hi)]
    parts = []
    for j in range(1, 13):
        a, b = doc.segs.element(hi, j)
        if not (b > a).any():
            break
        p = _parts(doc, hi, j, 2)
        parts.append(pd.DataFrame({"claim": claim_of(hi), "row": hi, "j": j, "q": p[0], "code": p[1]}))
    dx = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["claim", "row", "j", "q", "code"])
    dx = dx[dx.q.isin(["ABK", "ABF", "BK", "BF"]) & (dx.code != "")]
    dx = dx.assign(principal=~dx.q.isin(["ABK", "BK"])).sort_values(["claim", "principal", "row", "j"])
    dx_text = _joined(dx["claim"].to_numpy(dtype=np.int64), dx["code"].to_numpy(dtype=object), k, ",")

    # --- subscriber and patient (2000B/2010BA/2010BB, 2000C/2010CA)
    hl_of_claim = tree.hl_of[clm]
    sub_hl = tree.ancestor(hl_of_claim, "22")
    pat_hl = np.where(hl_of_claim >= 0, hl_of_claim, -1)
    before_claim = (L_clm <= L_hl) | ~same_tx(L_clm, np.arange(n))

    def hl_values(seg: str, k_val: int, nm1_q: tuple[str, ...] | None, seg_q: str | None = None) -> pd.Series:
        """Element k of `seg` per HL index, in the HL's own segments before its first claim (under an NM1 of
        qualifier `nm1_q` when given)."""
        rows = doc.rows(seg)
        rows = rows[before_claim[rows]]
        if nm1_q is not None:
            rows = rows[np.isin(qual[np.maximum(L_nm1[rows], 0)].astype(str), nm1_q) & (L_nm1[rows] > L_hl[rows])]
        if seg_q is not None and len(rows):
            rows = rows[doc.codes(rows, 1) == seg_q]
        hl = tree.hl_of[rows]
        vals = doc.texts(rows, k_val)
        s = pd.Series(vals, index=hl, dtype=object)
        return s[~s.index.duplicated(keep="first") & (s.index >= 0)]

    person = ("IL", "QC")

    def pick(series: pd.Series, hls: np.ndarray) -> np.ndarray:
        return series.reindex(hls).to_numpy(dtype=object)

    last_name = pick(hl_values("NM1", 3, None, "IL"), pat_hl)
    qc_last = pick(hl_values("NM1", 3, None, "QC"), pat_hl)
    first_name = pick(hl_values("NM1", 4, None, "IL"), pat_hl)
    qc_first = pick(hl_values("NM1", 4, None, "QC"), pat_hl)
    last_name = np.where(pd.notna(qc_last), qc_last, last_name)
    first_name = np.where(pd.notna(qc_last), qc_first, first_name)
    member = pick(hl_values("NM1", 9, None, "IL"), sub_hl)
    street = pick(hl_values("N3", 1, person), pat_hl)
    city = pick(hl_values("N4", 1, person), pat_hl)
    state = pick(hl_values("N4", 2, person), pat_hl)
    zip_ = pick(hl_values("N4", 3, person), pat_hl)
    dob = pick(hl_values("DMG", 2, None), pat_hl)
    sex = pick(hl_values("DMG", 3, None), pat_hl)
    payer_ref = pick(hl_values("NM1", 9, None, "PR"), sub_hl)
    sbr01 = pick(hl_values("SBR", 1, None), sub_hl)

    name = pd.Series(last_name, dtype=object).fillna("") + pd.Series(
        np.where(pd.notna(first_name) & (first_name != ""), ", " + pd.Series(first_name, dtype=object).fillna(""),
                 ""), dtype=object)
    address = (pd.Series(street, dtype=object).fillna("") + ", " + pd.Series(city, dtype=object).fillna("") + ", "
               + pd.Series(state, dtype=object).fillna("") + ", " + pd.Series(zip_, dtype=object).fillna(""))
    address = address.where(pd.notna(street), None)
    payer_map = _payer_map(payers)

    # --- lines (2400)
    lx = doc.rows("LX")
    line_claim = claim_of(lx)
    orphan = line_claim < 0
    doc.report("loop", "error", lx[orphan], "LX outside a claim; the line is not read")
    lx = lx[~orphan]
    line_claim = line_claim[~orphan]
    line_no = pd.to_numeric(pd.Series(doc.texts(lx, 1)), errors="coerce").astype("Int64")

    def line_of(rows: np.ndarray) -> np.ndarray:
        at = L_lx[rows]
        ok = (at > L_clm[rows]) & same_tx(L_lx, rows) & (claim_of(rows) >= 0)
        i = np.searchsorted(lx, np.maximum(at, 0))
        ok &= (i < len(lx)) & (lx[np.minimum(i, max(len(lx) - 1, 0))] == at) if len(lx) else np.zeros_like(ok)
        return np.where(ok, i, -1)

    sv1 = doc.rows("SV1")
    sv1 = sv1[line_of(sv1) >= 0]
    at = line_of(sv1)
    m = len(lx)
    proc = _parts(doc, sv1, 1, 6)
    sv1_charge, _, _ = doc.amounts(sv1, 2, "SV102 (line charge)", required=True)
    units = doc.numbers(sv1, 4, "SV104 (units)")
    ptr = _parts(doc, sv1, 7, 4)
    mods = (proc[2] + ":" + proc[3] + ":" + proc[4] + ":" + proc[5]).str.strip(":").str.replace(r":+", ":",
                                                                                              regex=True)
    pointers = (ptr[0] + ":" + ptr[1] + ":" + ptr[2] + ":" + ptr[3]).str.strip(":").str.replace(r":+", ":",
                                                                                             regex=True)

    def by_line(values, rows_at: np.ndarray, fill=None, dtype=object) -> np.ndarray:
        out = np.full(m, fill, dtype=dtype)
        out[rows_at] = values
        return out

    l_proc = by_line(proc[1].to_numpy(), at)
    l_mods = by_line(mods.where(mods != "", None).to_numpy(), at)
    l_charge = by_line(sv1_charge, at, 0, np.int64)
    l_units = by_line(units, at, np.nan, float)
    l_ptr = by_line(pointers.where(pointers != "", None).to_numpy(), at)
    doc.report("missing segment", "error", lx[np.setdiff1d(np.arange(m), at)], "LX without an SV1; line read as empty")

    def line_values(seg: str, q: str, k_val: int, dates: bool = False) -> np.ndarray:
        rows = doc.rows(seg)
        rows = rows[(line_of(rows) >= 0) & (L_svd[rows] < L_lx[rows]) & (L_nm1[rows] < L_lx[rows])]
        if len(rows):
            rows = rows[doc.codes(rows, 1) == q]
        vals = doc.texts(rows, k_val)
        if dates:
            vals = pd.Series(vals, dtype=object).str[:8].to_numpy()
        return by_line(vals, line_of(rows))

    l_date = pd.to_datetime(pd.Series(line_values("DTP", "472", 3, dates=True)), format="%Y%m%d", errors="coerce")
    l_control = line_values("REF", "6R", 2)
    l_claim_id = claim_id[line_claim]

    svc_date = pd.Series(l_date.to_numpy()).groupby(line_claim).min().reindex(range(k)).to_numpy()
    bht = doc.rows("BHT")
    billed = pd.Series(pd.to_datetime(pd.Series(doc.texts(bht, 4)), format="%Y%m%d", errors="coerce").to_numpy(),
                       index=doc.tx_of[bht]).groupby(level=0).first()
    billed_date = billed.reindex(doc.tx_of[clm]).to_numpy()

    # --- 2320/2330: other payers
    sbr = doc.rows("SBR")
    sbr = sbr[claim_of(sbr) >= 0]
    sbr = sbr[L_lx[sbr] < L_clm[sbr]]
    o_claim = claim_of(sbr)

    def other_of(rows: np.ndarray) -> np.ndarray:
        at = L_sbr[rows]
        ok = (claim_of(rows) >= 0) & (at > L_clm[rows]) & (at > L_lx[rows])
        i = np.searchsorted(sbr, np.maximum(at, 0))
        ok &= (i < len(sbr)) & (sbr[np.minimum(i, max(len(sbr) - 1, 0))] == at) if len(sbr) else np.zeros_like(ok)
        return np.where(ok, i, -1)

    def other_values(seg: str, q: str, k_val: int, nm1_q: str | None = None) -> np.ndarray:
        rows = doc.rows(seg)
        rows = rows[other_of(rows) >= 0]
        if nm1_q is not None:
            rows = rows[(qual[np.maximum(L_nm1[rows], 0)] == nm1_q) & (L_nm1[rows] > L_sbr[rows])]
        if len(rows):
            rows = rows[doc.codes(rows, 1) == q]
        out = np.full(len(sbr), None, dtype=object)
        out[other_of(rows)] = doc.texts(rows, k_val)
        return out

    o_resp = doc.codes(sbr, 1)
    amt = doc.rows("AMT")
    amt = amt[other_of(amt) >= 0]
    amt = amt[(doc.codes(amt, 1) == "D") & (L_nm1[amt] < L_sbr[amt])] if len(amt) else amt
    o_paid = np.zeros(len(sbr), dtype=np.int64)
    o_has_paid = np.zeros(len(sbr), dtype=bool)
    if len(amt):
        cents, _, _ = doc.amounts(amt, 2, "AMT02 (payer paid amount)", required=True)
        o_paid[other_of(amt)] = cents
        o_has_paid[other_of(amt)] = True
    o_member = other_values("NM1", "IL", 9)
    o_payer = other_values("NM1", "PR", 9)
    o_pcn = other_values("REF", "F8", 2, "PR")
    # claim's other (not yet adjudicated) payer: secondary_payer_id
    pending = ~o_has_paid & (pd.Series(o_resp, dtype=object) == "S").to_numpy()
    sec_payer = np.full(k, None, dtype=object)
    sec_member = np.full(k, None, dtype=object)
    sec_payer[o_claim[pending]] = _mapped(o_payer[pending], payer_map)
    sec_member[o_claim[pending]] = o_member[pending]

    # 2430 line adjudication
    svd = doc.rows("SVD")
    svd = svd[line_of(svd) >= 0]
    svd_line = line_of(svd)
    svd_paid, _, _ = doc.amounts(svd, 2, "SVD02 (line paid amount)", required=True)
    svd_proc = _parts(doc, svd, 3, 6)
    svd_mods = (svd_proc[2] + ":" + svd_proc[3] + ":" + svd_proc[4] + ":" + svd_proc[5]).str.strip(":")
    svd_units = doc.numbers(svd, 5, "SVD05 (units paid)", default=1.0)
    dtp = doc.rows("DTP")
    dtp = dtp[(L_svd[dtp] > L_lx[dtp]) & (line_of(dtp) >= 0)]
    dtp = dtp[doc.codes(dtp, 1) == "573"] if len(dtp) else dtp
    svd_index = np.searchsorted(svd, L_svd[dtp]) if len(svd) else np.zeros(0, dtype=np.int64)
    adj_date = np.full(len(svd), None, dtype=object)
    adj_date[svd_index] = pd.Series(doc.texts(dtp, 3), dtype=object).str[:8].to_numpy()
    adj_date = pd.to_datetime(pd.Series(adj_date), format="%Y%m%d", errors="coerce")

    # CAS: 2320 (claim) and 2430 (line)
    cas = doc.rows("CAS")
    in_line = (L_svd[cas] > L_lx[cas]) & (line_of(cas) >= 0)
    in_claim = (other_of(cas) >= 0) & ~in_line
    cas = cas[in_line | in_claim]
    in_line = in_line[in_line | in_claim]
    group = doc.codes(cas, 1)
    long = []
    for t in range(6):
        reason = doc.codes(cas, 2 + 3 * t)
        present = pd.notna(reason)
        if not present.any():
            continue
        rows = cas[present]
        amount, _, _ = doc.amounts(rows, 3 + 3 * t, f"CAS{3 + 3 * t:02d} (adjustment amount)", required=True)
        qty = doc.numbers(rows, 4 + 3 * t, f"CAS{4 + 3 * t:02d} (adjustment quantity)")
        long.append(pd.DataFrame({"row": rows, "t": t, "group": group[present], "reason": reason[present],
                                  "amount": amount, "qty": qty, "line": in_line[present]}))
    adj = pd.concat(long, ignore_index=True).sort_values(["row", "t"]) if long else pd.DataFrame(
        {"row": np.zeros(0, np.int64), "group": [], "reason": [], "amount": np.zeros(0, np.int64),
         "qty": np.zeros(0), "line": np.zeros(0, bool)})
    adj_rows = adj["row"].to_numpy(dtype=np.int64)
    adj_claim = claim_of(adj_rows)
    adj_line = np.where(adj["line"].to_numpy(dtype=bool), line_of(adj_rows), -1)

    # --- tables
    out: dict[str, pd.DataFrame] = {}
    payer_ids = _mapped(payer_ref, payer_map)
    dob_dates = pd.to_datetime(pd.Series(dob, dtype=object), format="%Y%m%d", errors="coerce").to_numpy()
    out["claims"] = tables.from_columns("claims", {
        "claim_id": claim_id, "account_id": claim_id, "payer_id": payer_ids, "service_date": svc_date,
        "billed_date": billed_date, "charge": charge, "paid": np.zeros(k, np.int64),
        "adjusted": np.zeros(k, np.int64), "balance": charge, "responsibility": np.full(k, "insurance", object),
        "patient_name": name.where(name != "", None).to_numpy(), "date_of_birth": dob_dates,
        "member_id": member, "patient_address": address.to_numpy(), "diagnosis_codes": dx_text,
        "patient_sex": sex, "place_of_service": c05[0].where(c05[0] != "", None).to_numpy(),
        "rendering_npi": rendering, "prior_authorization": prior_auth,
        "frequency_code": c05[2].where(c05[2] != "", None).to_numpy(), "original_payer_claim_id": f8,
        "secondary_payer_id": sec_payer, "secondary_member_id": sec_member,
    })
    out["claim_lines"] = tables.from_columns("claim_lines", {
        "claim_id": l_claim_id, "line_no": line_no, "line_control": l_control, "procedure_code": l_proc,
        "modifiers": l_mods, "units": l_units, "charge": l_charge, "service_date": l_date.to_numpy(),
        "diagnosis_pointers": l_ptr,
    })
    done = o_has_paid
    svd_claim = line_claim[svd_line] if len(svd) else np.zeros(0, np.int64)
    first_date = pd.Series(adj_date.to_numpy()).groupby(svd_claim).min() if len(svd) else pd.Series(dtype="M8[ns]")
    out["cob_claims"] = tables.from_columns("cob_claims", {
        "claim_id": claim_id[o_claim[done]], "other_payer_id": _mapped(o_payer[done], payer_map),
        "other_member_id": o_member[done], "paid": o_paid[done], "payer_claim_id": o_pcn[done],
        "adjudication_date": first_date.reindex(o_claim[done]).to_numpy(dtype="datetime64[ns]"),
    })
    out["cob_lines"] = tables.from_columns("cob_lines", {
        "claim_id": claim_id[svd_claim], "line_no": line_no.to_numpy()[svd_line] if len(svd) else line_no[:0],
        "procedure_code": svd_proc[1].to_numpy(), "modifiers": svd_mods.where(svd_mods != "", None).to_numpy(),
        "paid": svd_paid, "units": svd_units, "adjudication_date": adj_date.to_numpy(),
    })
    adj_line_no = pd.array([pd.NA] * len(adj), dtype="Int64")
    has = adj_line >= 0
    if has.any():
        adj_line_no[has] = line_no.to_numpy()[adj_line[has]]
    out["cob_adjustments"] = tables.from_columns("cob_adjustments", {
        "claim_id": claim_id[adj_claim] if len(adj) else np.zeros(0, object), "line_no": adj_line_no,
        "group_code": adj["group"].to_numpy(), "reason_code": adj["reason"].to_numpy(),
        "amount": adj["amount"].to_numpy(dtype=np.int64), "quantity": adj["qty"].to_numpy(dtype=float),
    })
    del sbr01
    return out, doc.findings.result()


def _payer_map(payers: pd.DataFrame | None) -> pd.Series | None:
    if payers is None or payers.empty or "payer_ref" not in payers:
        return None
    known = payers[payers.payer_ref.notna()]
    return pd.Series(known.payer_id.to_numpy(), index=known.payer_ref.astype(str).str.upper()).groupby(
        level=0).first()


def _mapped(refs: np.ndarray, payer_map: pd.Series | None) -> np.ndarray:
    """Payer NM109 values as the practice's payer ids when known (else the NM109 itself)."""
    refs = np.asarray(refs, dtype=object)
    if payer_map is None or not len(refs):
        return refs
    found = payer_map.reindex(pd.Series(refs, dtype=object).fillna("").str.upper()).to_numpy(dtype=object)
    return np.where(pd.notna(found), found, refs)
