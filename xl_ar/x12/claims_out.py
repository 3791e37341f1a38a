"""837P professional claims out (5010 005010X222A1), with the secondary claim's COB loops.

    text, findings = write_837p(claims, claim_lines, payers, practice, ControlNumbers(), now)
    sec_claims, sec_lines, cob, findings = secondary_claims(claims, claim_lines, remittance)
    text, findings = write_837p(sec_claims, sec_lines, payers, practice, numbers, now, cob=cob)

The file is built as text, column by column (pandas string operations over all claims and all
lines at once), then cut into transactions: one ST per destination payer (at most `max_claims`
claims each, a subscriber never split), one GS, one ISA. A claim that cannot be written as a
clean, readable claim (a missing field, a character X12 cannot carry, lines that do not add up
to the claim) is left out with an error finding naming the claim's row and column; a practice
whose own details are incomplete gets error findings and no file at all. docs/claims-out.md
lists every loop and where its data comes from.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from xl_ar import secondary, tables
from xl_ar.findings import Finding, Location
from xl_ar.practice import PracticeInfo, npi_is_valid
from xl_ar.x12.writer import STANDARD, ControlNumbers, Party, X12Writer

CONVENTION = "005010X222A1"
MAX_CLAIMS = 5000
"""Claims per transaction set (the TR3 recommends at most 5,000)."""

FILING = {"medicare": "MB", "medicaid": "MC", "commercial": "CI", "self_pay": "09", "other": "ZZ"}
"""SBR09 claim filing indicator by payer class."""

_ALLOWED = re.compile(r"[A-Za-z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]*")
"""X12 basic and extended characters, less the delimiters this writer uses (* : ~ ^)."""

E, C = STANDARD.element, STANDARD.component
T = STANDARD.segment + "\n"


# -- small vectorized helpers ---------------------------------------------------------------------
# Claim files repeat most values (payers, names, addresses, codes, dates): the string work is done
# once per distinct value (`_per_value`) and spread back by position, then segments are joined as
# object arrays (a C loop per column), never a Python object per segment.
def _per_value(values: pd.Series, fn) -> pd.Series:
    """fn (Series -> Series or DataFrame) applied to the distinct values of `values`, spread back."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    done = fn(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    if isinstance(done, pd.DataFrame):
        return pd.DataFrame({k: done[k].to_numpy(dtype=object)[codes] for k in done.columns}, index=values.index)
    return pd.Series(done.to_numpy()[codes], index=values.index)


def _clean(v: pd.Series) -> pd.Series:
    return v.where(v.notna(), "").astype(str).str.strip().astype(object)


def _text(values: pd.Series) -> pd.Series:
    """Text cells as object strings, empty for missing, trimmed."""
    return _per_value(values, _clean)


def _upper(values: pd.Series) -> pd.Series:
    return _per_value(values, lambda v: _clean(v).str.upper().astype(object))


def _money(cents: pd.Series) -> pd.Series:
    """Integer cents as an X12 decimal: 14550 -> 145.50, 10000 -> 100, -500 -> -5."""
    return _per_value(cents.astype("int64"), _money_of)


def _money_of(c: pd.Series) -> pd.Series:
    c = c.astype("int64")
    a = c.abs()
    out = (a // 100).astype(str).astype(object) + "." + (a % 100).astype(str).str.zfill(2).astype(object)
    out = out.where(c >= 0, "-" + out)
    return out.str.replace(r"\.00$", "", regex=True).astype(object)


def _number(values: pd.Series) -> pd.Series:
    """Units as written: 1.0 -> 1, 1.5 -> 1.5."""
    return _per_value(values.astype(float), lambda v: v.map(_num).astype(object))


def _num(x: float) -> str:
    return str(round(x)) if x == round(x) else f"{x:.3f}".rstrip("0").rstrip(".")


def _date(values: pd.Series) -> pd.Series:
    return _per_value(pd.to_datetime(values), lambda v: pd.to_datetime(v).dt.strftime("%Y%m%d").astype(object)
                      .where(pd.notna(v), ""))


def _arr(x: pd.Series | str) -> np.ndarray | str:
    return x.to_numpy(dtype=object) if isinstance(x, pd.Series) else x


def _seg(seg_id: str, *elements: pd.Series | str) -> pd.Series:
    """Segments from columns (or constants). Trailing empty elements are not dropped: callers end every
    segment with an element that is never empty."""
    index = next((e.index for e in elements if isinstance(e, pd.Series)), None)
    if index is None:
        return E.join([seg_id, *elements]) + T  # type: ignore[list-item]
    # constants run together first: one array operation per column, not per element
    pieces: list = [seg_id]
    for el in elements:
        if isinstance(el, str) and isinstance(pieces[-1], str):
            pieces[-1] += E + el
        elif isinstance(el, str):
            pieces.append(E + el)
        else:
            if isinstance(pieces[-1], str):
                pieces[-1] += E
            else:
                pieces.append(E)
            pieces.append(el.to_numpy(dtype=object))
    out = np.full(len(index), pieces[0], dtype=object)
    for p in pieces[1:]:
        out = out + p
    return pd.Series(out + T, index=index)


def _when(mask: pd.Series, text: pd.Series | np.ndarray) -> pd.Series:
    """`text` where mask holds, else empty."""
    return pd.Series(np.where(mask.to_numpy(dtype=bool), _arr(pd.Series(text, index=mask.index)), ""),
                     index=mask.index, dtype=object)


def _procedure(proc: pd.Series, mods: pd.Series) -> pd.Series:
    """SV101/SVD03: HC:procedure[:modifier...] (modifiers colon separated in the table)."""
    m = _per_value(mods, lambda v: v.str.replace(":", C, regex=False).astype(object))
    both = "HC" + C + proc.astype(object) + C + m
    return both.where(m != "", "HC" + C + proc.astype(object))


def _split_name(name: pd.Series) -> tuple[pd.Series, pd.Series]:
    """`LAST, FIRST` (or `FIRST LAST`, or one name) into last and first name, upper case."""
    parts = _per_value(name, _name_parts)
    return parts["last"], parts["first"]


def _name_parts(name: pd.Series) -> pd.DataFrame:
    name = _clean(name)
    comma = name.str.contains(",", regex=False)
    by_comma = name.str.split(",", n=1, expand=True).reindex(columns=[0, 1])
    by_space = name.str.rsplit(" ", n=1, expand=True).reindex(columns=[0, 1])
    spaced = by_space[1].notna()
    last = by_comma[0].where(comma, by_space[1].where(spaced, by_space[0]))
    first = by_comma[1].where(comma, by_space[0].where(spaced, ""))
    return pd.DataFrame({"last": _clean(last).str.upper(), "first": _clean(first).str.upper()})


def _split_address(address: pd.Series) -> pd.DataFrame:
    """`street, city, ST, zip` into its parts (the street may hold commas)."""
    return _per_value(address, _address_parts)


def _address_parts(address: pd.Series) -> pd.DataFrame:
    parts = _clean(address).str.rsplit(",", n=3, expand=True).reindex(columns=range(4))
    parts = parts.apply(lambda c: _clean(c).str.upper())
    parts.columns = ["street", "city", "state", "zip"]
    parts["zip"] = parts["zip"].str.replace("-", "", regex=False)
    return parts


class _Refusals:
    """Rows refused with one error finding per row and column (claims or lines), kept as a mask."""

    def __init__(self, table: str, frame: pd.DataFrame):
        self.table = table
        self.frame = frame
        self.bad = pd.Series(False, index=frame.index)
        self.findings: list[Finding] = []

    def check(self, mask: pd.Series, column: str, message: str) -> None:
        mask = pd.Series(mask, index=self.bad.index).fillna(True).astype(bool)
        for i in np.flatnonzero(mask.to_numpy()):
            self.findings.append(Finding("error", self.table, Location(row=int(i) + 2, column=column),
                                         f"not written to the 837P: {message}", "claim not written"))
        self.bad |= mask.to_numpy()


def _bad_chars(values: pd.Series) -> pd.Series:
    return _matches(values, _ALLOWED.pattern) == False  # noqa: E712


def _matches(values: pd.Series, pattern: str) -> pd.Series:
    """Whether each value matches `pattern` whole (worked out once per distinct value)."""
    return _per_value(values, lambda v: _clean(v).str.fullmatch(pattern).astype(object)).astype(bool)


# -- practice -------------------------------------------------------------------------------------
def check_practice(practice: PracticeInfo) -> list[Finding]:
    """What the 837P needs from practice.json: one error finding per missing or malformed key."""
    need = {
        "name": "the billing provider's name", "npi": "the billing NPI", "tax_id": "the 9-digit tax id (EIN)",
        "address": "the billing street address", "city": "the billing city", "state": "the two-letter state",
        "zip": "the 5- or 9-digit ZIP code", "submitter_id": "the practice's id with its clearinghouse",
        "contact_phone": "a contact phone number (digits)", "receiver_name": "the clearinghouse's name",
        "receiver_id": "the clearinghouse's id",
    }
    out = []
    for key, what in need.items():
        value = str(getattr(practice, key) or "").strip()
        ok = bool(value) and _ALLOWED.fullmatch(value) is not None
        if key == "npi":
            ok = npi_is_valid(value)
        elif key == "tax_id":
            ok = re.fullmatch(r"\d{9}", value.replace("-", "")) is not None
        elif key == "state":
            ok = re.fullmatch(r"[A-Za-z]{2}", value) is not None
        elif key == "zip":
            ok = re.fullmatch(r"\d{5}(\d{4})?", value.replace("-", "")) is not None
        elif key == "contact_phone":
            ok = re.fullmatch(r"\d{10,}", re.sub(r"[ ()\-.]", "", value)) is not None
        elif key in ("submitter_id", "receiver_id"):
            ok = ok and len(value) <= 80
        if not ok:
            out.append(Finding("error", "practice.json", Location(key=key),
                               f"needs {what} for the 837P; no claim file was written", "practice incomplete"))
    for key in ("interchange_id", "interchange_receiver", "submitter_id", "receiver_id"):
        value = getattr(practice, key)
        if key.startswith("interchange") and value and len(value) > 15:
            out.append(Finding("error", "practice.json", Location(key=key),
                               "is longer than 15 characters (ISA06/ISA08)", "practice incomplete"))
    if not practice.interchange_id and len(practice.submitter_id) > 15:
        out.append(Finding("error", "practice.json", Location(key="interchange_id"),
                           "needed: submitter_id is longer than the ISA's 15 characters", "practice incomplete"))
    if not practice.interchange_receiver and len(practice.receiver_id) > 15:
        out.append(Finding("error", "practice.json", Location(key="interchange_receiver"),
                           "needed: receiver_id is longer than the ISA's 15 characters", "practice incomplete"))
    return out


# -- the writer -----------------------------------------------------------------------------------
def write_837p(claims: pd.DataFrame, claim_lines: pd.DataFrame, payers: pd.DataFrame, practice: PracticeInfo,
               numbers: ControlNumbers, now: dt.datetime, cob: dict[str, pd.DataFrame] | None = None,
               max_claims: int = MAX_CLAIMS) -> tuple[str, list[Finding]]:
    """The 837P file of the claims that can be written, and a finding for every claim left out.

    `claims` and `claim_lines` are canonical tables (`payer_id` is the destination payer). `cob` (from
    `secondary_claims`) marks the claims that are secondary claims: their subscriber is SBR*S and they
    carry the primary's adjudication (2320/2330/2430). Returns `("", findings)` when practice.json
    lacks what the file needs or no claim can be written.
    """
    findings = check_practice(practice)
    if findings:
        return "", findings
    claims = claims.reset_index(drop=True)
    lines = claim_lines.reset_index(drop=True)
    cob = cob or {}
    cob_claims = cob.get("cob_claims")
    cob_lines = cob.get("cob_lines")
    cob_adj = cob.get("cob_adjustments")
    payers = payers.drop_duplicates("payer_id").set_index("payer_id")

    # --- claim columns
    c = pd.DataFrame(index=claims.index)
    c["id"] = _text(claims.claim_id)
    c["payer"] = _text(claims.payer_id)
    c["charge"] = claims.charge
    c["member"] = _upper(claims.member_id)
    name = _text(claims.patient_name)
    c["last"], c["first"] = _split_name(name)
    addr = _split_address(_text(claims.patient_address))
    c = c.join(addr)
    c["dob"] = _date(claims.date_of_birth)
    sex = _upper(claims.patient_sex)
    c["sex"] = sex.where(sex != "", "U")
    pos = _text(claims.place_of_service)
    c["pos"] = pos.where(pos != "", "11")
    freq = _text(claims.frequency_code)
    c["freq"] = freq.where(freq != "", "1")
    c["f8"] = _upper(claims.original_payer_claim_id)
    c["g1"] = _upper(claims.prior_authorization)
    c["rendering"] = _text(claims.rendering_npi)
    dx = _per_value(claims.diagnosis_codes, lambda v: _clean(v).str.upper().str.replace(r"[. ]", "", regex=True)
                    .str.replace(r",+", ",", regex=True).str.strip(",").astype(object))
    c["ndx"] = _per_value(dx, lambda v: v.map(lambda t: len(t.split(",")) if t else 0))
    c["payer_name"] = _upper(payers.name.reindex(c["payer"]).reset_index(drop=True))
    c["payer_ref"] = _upper(payers.payer_ref.reindex(c["payer"]).reset_index(drop=True))
    c["pclass"] = _text(payers.payer_class.reindex(c["payer"]).reset_index(drop=True))
    c["sec"] = _text(claims.secondary_payer_id)
    c["sec_member"] = _upper(claims.secondary_member_id)
    if cob_claims is not None and len(cob_claims):
        # a secondary claim's other payer is the primary that adjudicated it
        cc = cob_claims.drop_duplicates("claim_id").set_index("claim_id")
        on = c["id"].isin(set(cc.index))
        c.loc[on, "sec"] = _text(cc["other_payer_id"].reindex(c["id"][on])).to_numpy()
        c.loc[on, "sec_member"] = _upper(cc["other_member_id"].reindex(c["id"][on])).to_numpy()
    c["sec_name"] = _upper(payers.name.reindex(c["sec"]).reset_index(drop=True))
    c["sec_ref"] = _upper(payers.payer_ref.reindex(c["sec"]).reset_index(drop=True))
    c["sec_class"] = _text(payers.payer_class.reindex(c["sec"]).reset_index(drop=True))

    # --- line columns
    ln = pd.DataFrame(index=lines.index)
    ln["id"] = _text(lines.claim_id)
    ln["no"] = lines.line_no.astype("Int64")
    ln["proc"] = _upper(lines.procedure_code)
    ln["mods"] = _upper(lines.modifiers)
    ln["charge"] = lines.charge
    ln["units"] = lines.units.astype(float)
    ln["date"] = _date(lines.service_date)
    ctl = _upper(lines.line_control)
    ln["control"] = ctl.where(ctl != "", ln["id"] + "-" + _text(ln["no"]))
    ptr = _per_value(lines.diagnosis_pointers, lambda v: _clean(v).str.replace(" ", "", regex=False).astype(object))
    ln["ptr"] = ptr.where(ptr != "", "1")

    # --- refusals: lines, then claims (a claim with a bad line is left out whole)
    lr = _Refusals("claim_lines", lines)
    lr.check(~_matches(ln["proc"], r"[A-Z0-9]{5}"), "procedure_code",
             "the procedure code is not 5 letters or digits (CPT/HCPCS)")
    lr.check(~_matches(ln["mods"], r"([A-Z0-9]{2}(:[A-Z0-9]{2}){0,3})?"), "modifiers",
             "modifiers must be up to four 2-character codes, colon separated")
    lr.check(~(ln["units"] > 0), "units", "units must be more than 0")
    lr.check(ln["charge"] < 0, "charge", "the line charge is negative")
    lr.check(ln["date"] == "", "service_date", "the line has no date of service")
    lr.check(ln["no"].isna() | ln.duplicated(["id", "no"], keep=False), "line_no",
             "line numbers must be present and unique within the claim")
    ndx_of_line = c.set_index("id")["ndx"].reindex(ln["id"]).fillna(0).to_numpy()
    ptr_ok = _matches(ln["ptr"], r"([1-9]|1[0-2])(:([1-9]|1[0-2])){0,3}")
    top = _per_value(ln["ptr"], lambda v: v.map(lambda t: max((int(x) for x in t.split(":") if x.isdigit()),
                                                                default=99)))
    lr.check(~ptr_ok | (top.to_numpy() > ndx_of_line), "diagnosis_pointers",
             "diagnosis pointers must be 1 to 4 positions (1-12) of the claim's diagnosis codes")
    lr.check(_bad_chars(ln["control"]) | (ln["control"].map(len) > 50), "line_control",
             "the line control number holds characters X12 cannot carry or is longer than 50")

    cr = _Refusals("claims", claims)
    cr.check(c["id"] == "", "claim_id", "the claim has no claim id")
    cr.check((c["id"].map(len) > 38) | _bad_chars(c["id"]), "claim_id",
             "the claim id is longer than 38 characters or holds characters X12 cannot carry (CLM01)")
    cr.check(c["id"].duplicated(keep=False) & (c["id"] != ""), "claim_id", "the claim id repeats")
    cr.check(c["payer_ref"] == "", "payer_id", "the payer is not in payers or has no payer_ref (its EDI id)")
    cr.check(c["member"] == "", "member_id", "the claim has no member id")
    cr.check((c["last"] == "") | (name == ""), "patient_name", "the claim has no patient name")
    cr.check((c["street"] == "") | (c["city"] == "") | ~_matches(c["state"], r"[A-Z]{2}")
             | ~_matches(c["zip"], r"\d{5}(\d{4})?"), "patient_address",
             "the patient address is not 'street, city, ST, zip'")
    cr.check(c["dob"] == "", "date_of_birth", "the claim has no patient date of birth")
    cr.check(~c["sex"].isin(["F", "M", "U"]), "patient_sex", "patient sex must be F, M or U")
    cr.check(~_matches(c["pos"], r"\d{2}"), "place_of_service", "place of service must be two digits")
    cr.check(~c["freq"].isin(["1", "7", "8"]), "frequency_code", "frequency must be 1, 7 or 8")
    cr.check(c["freq"].isin(["7", "8"]) & (c["f8"] == ""), "original_payer_claim_id",
             "a replacement (7) or void (8) needs the payer's claim number of the claim it corrects")
    cr.check((c["ndx"] == 0) | (c["ndx"] > 12), "diagnosis_codes", "a claim needs 1 to 12 diagnosis codes")
    cr.check(~_matches(dx, r"[A-Z][0-9A-Z]{2,6}(,[A-Z][0-9A-Z]{2,6})*") & (c["ndx"] > 0),
             "diagnosis_codes", "a diagnosis code is not ICD-10-CM shaped")
    npi_ok = _per_value(c["rendering"], lambda v: v.map(npi_is_valid)).astype(bool)
    cr.check((c["rendering"] != "") & ~npi_ok, "rendering_npi",
             "the rendering NPI fails its check digit")
    named = c["rendering"].isin(list(practice.providers)) | (c["rendering"] == practice.npi) | (c["rendering"] == "")
    cr.check(~named, "rendering_npi", "the rendering NPI has no name in practice.json providers")
    has_sec = c["sec"] != ""
    cr.check(has_sec & ((c["sec_ref"] == "") | (c["sec_member"] == "")), "secondary_payer_id",
             "the secondary payer has no payer_ref or the claim no secondary member id")
    for col, what in (("member", "member_id"), ("last", "patient_name"), ("first", "patient_name"),
                      ("street", "patient_address"), ("city", "patient_address"), ("f8", "original_payer_claim_id"),
                      ("g1", "prior_authorization"), ("payer_name", "payer_id"), ("sec_member", "secondary_member_id"),
                      ("sec_name", "secondary_payer_id")):
        cr.check(_bad_chars(c[col]), what, "the value holds a character X12 cannot carry (* : ~ ^ or non-ASCII)")
    # lines: every claim needs 1-50 lines that add up to its charge
    line_total = ln.groupby("id")["charge"].sum()
    line_count = ln.groupby("id").size()
    cr.check(line_count.reindex(c["id"]).fillna(0).to_numpy() == 0, "claim_id", "the claim has no lines")
    cr.check(line_count.reindex(c["id"]).fillna(0).to_numpy() > 50, "claim_id", "the claim has more than 50 lines")
    cr.check(pd.Series(line_total.reindex(c["id"]).fillna(0).to_numpy() != c["charge"].to_numpy(), index=c.index)
             & (line_count.reindex(c["id"]).fillna(0).to_numpy() > 0), "charge",
             "the claim charge is not the sum of its line charges")
    bad_line_claims = set(ln["id"][lr.bad.to_numpy()])
    cr.check(c["id"].isin(bad_line_claims), "claim_id", "a line of the claim cannot be written (see claim_lines)")
    findings += lr.findings + cr.findings
    orphans = ~ln["id"].isin(set(c["id"]))
    if orphans.any():
        findings.append(Finding("warning", "claim_lines", Location(row=int(np.flatnonzero(orphans)[0]) + 2,
                                column="claim_id"), f"{int(orphans.sum())} lines of claims not being written",
                                "line not written"))

    # secondary claims: their COB rows must be there
    is_cob = pd.Series(False, index=c.index)
    if cob_claims is not None and len(cob_claims):
        is_cob = c["id"].isin(set(cob_claims.claim_id))
    keep = ~cr.bad.to_numpy()
    c = c[keep].copy()
    is_cob = is_cob[keep]
    ln = ln[ln["id"].isin(set(c["id"]))].copy()
    if c.empty:
        findings.append(Finding("error", "claims", Location(), "no claim could be written; no 837P file",
                                "no claims"))
        return "", findings

    # --- subscribers and transactions
    c["sbr"] = np.where(is_cob, "S", "P")
    sub_key = ["payer", "sbr", "member", "last", "first", "dob", "sex", "street", "city", "state", "zip"]
    c = c.sort_values(["payer", "sbr", "member", "last", "first", "dob", "id"], kind="stable")
    c["sub"] = c.groupby(sub_key, sort=False).ngroup()
    c["claim_rank"] = np.arange(len(c))
    subs = c.drop_duplicates("sub").copy()
    subs["n"] = c.groupby("sub").size().reindex(subs["sub"]).to_numpy()
    subs["before"] = subs.groupby("payer")["n"].cumsum() - subs["n"]
    subs["tx"] = subs.groupby(["payer", subs["before"] // max_claims], sort=False).ngroup()
    subs["hl"] = subs.groupby("tx").cumcount() + 2
    c["tx"] = subs.set_index("sub")["tx"].reindex(c["sub"]).to_numpy()

    # 2000B/2010BA/2010BB
    filing = subs["pclass"].map(FILING).fillna("CI")
    sub_text = (_seg("HL", subs["hl"].astype(str), "1", "22", "0")
                + _seg("SBR", subs["sbr"], "18", "", "", "", "", "", "", filing)
                + _seg("NM1", "IL", "1", subs["last"], subs["first"], "", "", "", "MI", subs["member"])
                + _seg("N3", subs["street"]) + _seg("N4", subs["city"], subs["state"], subs["zip"])
                + _seg("DMG", "D8", subs["dob"], subs["sex"])
                + _seg("NM1", "PR", "2", subs["payer_name"], "", "", "", "", "PI", subs["payer_ref"]))

    # 2300
    dx_text = _per_value(dx[c.index], lambda v: v.map(
        lambda t: E.join([f"ABK{C}{x}" if k == 0 else f"ABF{C}{x}" for k, x in enumerate(t.split(","))])))
    ref_f8 = pd.Series(np.where(c["freq"].isin(["7", "8"]), "REF" + E + "F8" + E + c["f8"] + T, ""), index=c.index)
    ref_g1 = pd.Series(np.where(c["g1"] != "", "REF" + E + "G1" + E + c["g1"] + T, ""), index=c.index)
    claim_text = (_seg("CLM", c["id"], _money(c["charge"]), "", "", c["pos"] + C + "B" + C + c["freq"], "Y", "A", "Y",
                       "Y")
                  + ref_g1 + ref_f8 + "HI" + E + dx_text + T)
    # 2310B rendering provider, when not the billing provider
    rend = c["rendering"].where(c["rendering"] != practice.npi, "")
    rname = _per_value(rend, lambda v: v.map(lambda n: practice.providers.get(n, "")).astype(object))
    rlast, rfirst = _split_name(rname)
    claim_text += pd.Series(np.where(rend != "", _seg("NM1", "82", "1", rlast, rfirst, "", "", "", "XX", rend), ""),
                            index=c.index)
    # 2320/2330 other payer
    claim_text += _other_payer(c, is_cob[c.index], cob_claims, cob_adj)

    # 2400 (+2430)
    ln = ln.merge(c[["id", "tx", "sub", "claim_rank", "pos"]], on="id", how="left")
    ln = ln.sort_values(["claim_rank", "no"], kind="stable").reset_index(drop=True)
    ln["lx"] = ln.groupby("claim_rank").cumcount() + 1
    proc = _procedure(ln["proc"], ln["mods"])
    line_text = (_seg("LX", ln["lx"].astype(str))
                 + _seg("SV1", proc, _money(ln["charge"]), "UN", _number(ln["units"]), "", "", ln["ptr"])
                 + _seg("DTP", "472", "D8", ln["date"])
                 + _seg("REF", "6R", ln["control"]))
    line_text += _line_adjudication(ln, c, cob_claims, cob_lines, cob_adj)

    # --- assemble: pieces sorted by transaction, subscriber, claim, line
    def cat(*parts) -> np.ndarray:
        return np.concatenate([np.asarray(p) for p in parts])

    n_sub, n_claim = len(subs), len(c)
    key_tx = cat(subs["tx"], c["tx"], ln["tx"]).astype(np.int64)
    key_sub = cat(subs["sub"], c["sub"], ln["sub"]).astype(np.int64)
    key_claim = cat(np.full(n_sub, -1), c["claim_rank"], ln["claim_rank"]).astype(np.int64)
    key_line = cat(np.full(n_sub + n_claim, -1), ln["lx"]).astype(np.int64)
    texts = cat(sub_text.to_numpy(dtype=object), claim_text.to_numpy(dtype=object),
                line_text.to_numpy(dtype=object)).astype(object)
    order = np.lexsort((key_line, key_claim, key_sub, key_tx))
    texts, key_tx = texts[order], key_tx[order]
    starts = np.flatnonzero(np.r_[True, key_tx[1:] != key_tx[:-1]])
    ends = np.r_[starts[1:], len(texts)]
    bodies = ["".join(texts[a:b].tolist()) for a, b in zip(starts, ends, strict=True)]  # one per transaction

    w = X12Writer()
    stamp = f"{now:%Y%m%d}"
    head_1000 = (w.segment("NM1", "41", "2", practice.name.upper(), None, None, None, None, "46",
                           practice.submitter_id)
                 + w.segment("PER", "IC", (practice.contact_name or practice.name).upper(), "TE",
                             re.sub(r"\D", "", practice.contact_phone))
                 + w.segment("NM1", "40", "2", practice.receiver_name.upper(), None, None, None, None, "46",
                             practice.receiver_id))
    billing = (w.segment("HL", "1", None, "20", "1")
               + w.segment("NM1", "85", "2", practice.name.upper(), None, None, None, None, "XX", practice.npi)
               + w.segment("N3", practice.address.upper())
               + w.segment("N4", practice.city.upper(), practice.state.upper(), practice.zip.replace("-", ""))
               + w.segment("REF", "EI", practice.tax_id.replace("-", "")))
    group = numbers.group()
    sets = []
    for body in bodies:
        control = numbers.transaction()
        bht = w.segment("BHT", "0019", "00", f"{group}{control}", stamp, f"{now:%H%M}", "CH")
        sets.append(w.transaction("837", control, bht + head_1000 + billing + body, convention=CONVENTION))
    sender = Party(practice.interchange_id or practice.submitter_id)
    receiver = Party(practice.interchange_receiver or practice.receiver_id)
    gs = w.group("HC", sender, receiver, now, group, CONVENTION, sets)
    text = w.interchange(sender, receiver, now, numbers.interchange(), [gs], usage="T" if practice.test_files else "P")
    return text, findings


def _other_payer(c: pd.DataFrame, is_cob: pd.Series, cob_claims: pd.DataFrame | None,
                 cob_adj: pd.DataFrame | None) -> pd.Series:
    """2320/2330A/2330B of each claim: the primary's adjudication on a secondary claim, or the secondary
    payer (not yet adjudicated) on a primary claim that names one."""
    out = pd.Series("", index=c.index, dtype=object)
    # primary claim that names its secondary payer: 2320 SBR*S, OI, 2330A, 2330B
    prim = ~is_cob & (c["sec"] != "")
    if prim.any():
        p = c[prim]
        out[prim] = (_seg("SBR", "S", "18", "", "", "", "", "", "", p["sec_class"].map(FILING).fillna("CI"))
                     + _seg("OI", "", "", "Y", "P", "", "Y")
                     + _seg("NM1", "IL", "1", p["last"], p["first"], "", "", "", "MI", p["sec_member"])
                     + _seg("NM1", "PR", "2", p["sec_name"], "", "", "", "", "PI", p["sec_ref"]))
    if cob_claims is None or not is_cob.any():
        return out
    s = c[is_cob]
    cc = cob_claims.drop_duplicates("claim_id").set_index("claim_id").reindex(s["id"])
    # on a secondary claim `sec`/`sec_*` name the primary (what secondary_claims leaves there)
    filing = s["sec_class"].map(FILING).fillna("CI")
    other_member = s["sec_member"].to_numpy()
    pcn = pd.Series(_upper(cc["payer_claim_id"]).to_numpy(), index=s.index)
    pcn = pcn.where(_matches(pcn, _ALLOWED.pattern) & (pcn.map(len) <= 50), "")
    cas = pd.Series("", index=s.index, dtype=object)
    eaf = pd.Series(0, index=s.index, dtype="int64")
    if cob_adj is not None and len(cob_adj):
        pr = cob_adj[cob_adj.group_code == "PR"].groupby("claim_id").amount.sum()
        eaf = pd.Series(pr.reindex(s["id"]).fillna(0).astype("int64").to_numpy(), index=s.index)
        claim_level = cob_adj[cob_adj.line_no.isna()]
        cas_text = _cas(claim_level, ["claim_id"])
        cas = pd.Series(cas_text.reindex(s["id"]).fillna("").to_numpy(), index=s.index)
    out[is_cob] = (_seg("SBR", "P", "18", "", "", "", "", "", "", filing)
                   + cas
                   + _seg("AMT", "D", _money(pd.Series(cc["paid"].fillna(0).astype("int64").to_numpy(),
                                                         index=s.index)))
                   + _seg("AMT", "EAF", _money(eaf))
                   + _seg("OI", "", "", "Y", "P", "", "Y")
                   + _seg("NM1", "IL", "1", s["last"], s["first"], "", "", "", "MI",
                          pd.Series(other_member, index=s.index))
                   + _seg("NM1", "PR", "2", s["sec_name"], "", "", "", "", "PI", s["sec_ref"])
                   + pd.Series(np.where(pcn != "", "REF" + E + "F8" + E + pcn + T, ""), index=s.index))
    return out


def _cas(adj: pd.DataFrame, keys: list[str]) -> pd.Series:
    """CAS segments by `keys`: one per group code, up to six reason/amount/quantity triples each."""
    if adj.empty:
        return pd.Series(dtype=object)
    a = adj.copy()
    qty = a["quantity"].astype(float)
    q = pd.Series("", index=a.index, dtype=object)
    has_q = qty.notna()
    if has_q.any():
        q[has_q] = _number(qty[has_q])
    a["triple"] = (a["reason_code"].astype(str) + E + _money(a["amount"].astype("int64")) + E + q).str.rstrip(E)
    a = a.sort_values([*keys, "group_code"], kind="stable")
    a["part"] = a.groupby([*keys, "group_code"]).cumcount() // 6
    # a triple followed by another needs its quantity position filled (empty is fine)
    a["triple"] = a["reason_code"].astype(str) + E + _money(a["amount"].astype("int64")) + E + q
    segs = a.groupby([*keys, "group_code", "part"], sort=False)["triple"].agg(E.join)
    segs = ("CAS" + E + segs.index.get_level_values("group_code") + E + segs.str.rstrip(E) + T)
    segs = pd.Series(segs.to_numpy(), index=segs.index.droplevel(["group_code", "part"]))
    return segs.groupby(level=list(range(len(keys))), sort=False).agg("".join)


def _line_adjudication(ln: pd.DataFrame, c: pd.DataFrame, cob_claims: pd.DataFrame | None,
                       cob_lines: pd.DataFrame | None, cob_adj: pd.DataFrame | None) -> pd.Series:
    """2430 of each line of a secondary claim: SVD, CAS per group, DTP*573."""
    out = pd.Series("", index=ln.index, dtype=object)
    if cob_lines is None or cob_lines.empty:
        return out
    cl = cob_lines.copy()
    cl["claim_id"] = _text(cl["claim_id"])
    cl["line_no"] = cl["line_no"].astype("Int64")
    key = pd.MultiIndex.from_arrays([ln["id"], ln["no"]])
    cl = cl.drop_duplicates(["claim_id", "line_no"]).set_index(["claim_id", "line_no"]).reindex(key)
    has = cl["paid"].notna().to_numpy()
    if not has.any():
        return out
    ref = c.set_index("id")["sec_ref"].reindex(ln["id"]).fillna("").to_numpy()
    sel = pd.Series(has, index=ln.index)
    part = cl[has]
    idx = ln.index[has]
    proc = _procedure(_upper(part["procedure_code"]).set_axis(idx), _upper(part["modifiers"]).set_axis(idx))
    svd = _seg("SVD", pd.Series(ref[has], index=idx), _money(part["paid"].astype("int64").set_axis(idx)), proc, "",
               _number(part["units"].astype(float).set_axis(idx)))
    cas = pd.Series("", index=idx, dtype=object)
    if cob_adj is not None and len(cob_adj):
        la = cob_adj[cob_adj.line_no.notna()].copy()
        la["line_no"] = la["line_no"].astype("int64")
        la["claim_id"] = _text(la["claim_id"])
        texts = _cas(la, ["claim_id", "line_no"])
        if len(texts):
            cas = pd.Series(texts.reindex(pd.MultiIndex.from_arrays([ln["id"][has], ln["no"][has].astype("int64")]))
                            .fillna("").to_numpy(), index=idx)
    date = _date(part["adjudication_date"]).set_axis(idx)
    dtp = pd.Series(np.where(date != "", "DTP" + E + "573" + E + "D8" + E + date + T, ""), index=idx)
    out[sel] = svd + cas + dtp
    return out


# -- secondary claims -----------------------------------------------------------------------------

def secondary_claims(claims: pd.DataFrame, claim_lines: pd.DataFrame, remittance: dict[str, pd.DataFrame]
                     ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame], list[Finding]]:
    """The secondary claims ready to send (`xl_ar.secondary.due`: the primary processed the claim as primary
    without forwarding it, left patient responsibility, the balance is open and the secondary has not
    answered), with the primary's adjudication as COB.

    Every claim line must match one 835 line (REF*6R line control, else the line number) with the same
    charge, and the COB must balance as the TR3 requires: per line charge = paid + its CAS, per claim
    charge = paid + every CAS. A claim that fails gets a warning finding and is not returned.

    Returns the claims re-addressed to the secondary payer (payer_id, member_id; frequency 1),
    their lines, the COB tables (`cob_claims`, `cob_lines`, `cob_adjustments`) and the findings.
    """
    findings: list[Finding] = []
    empty = ({n: tables.empty(n) for n in ("cob_claims", "cob_lines", "cob_adjustments")})
    last = secondary.due(claims, remittance)
    if last.empty:
        return claims.iloc[0:0], claim_lines.iloc[0:0], empty, findings
    cand = claims[claims.claim_id.isin(set(last.claim_id))].copy()
    adj = remittance.get("adjustments", tables.empty("adjustments"))
    adj = adj.merge(last[["payment_id", "claim_seq"]], on=["payment_id", "claim_seq"])

    row_of = pd.Series(np.arange(len(claims)) + 2, index=claims.claim_id.to_numpy()).groupby(level=0).first()

    def refuse(ids: pd.Series | set, why: str) -> None:
        """A warning on the claim's row of `claims` (the claim id is an identifier: never in the message)."""
        for row in sorted(int(r) for r in row_of.reindex(sorted(set(ids))).dropna()):
            findings.append(Finding("warning", "claims", Location(row=row, column="secondary_payer_id"),
                                    f"no secondary claim built: {why}", "secondary not built"))

    # lines: every claim line matched to one 835 line of that payment
    lp = remittance.get("line_payments", tables.empty("line_payments"))
    lp = lp.merge(last[["payment_id", "claim_seq"]], on=["payment_id", "claim_seq"])
    cl = claim_lines[claim_lines.claim_id.isin(set(last.claim_id))].copy()
    cl["control"] = _text(cl.line_control)
    cl["control"] = cl["control"].where(cl["control"] != "", _text(cl.claim_id) + "-" + cl.line_no.astype(str))
    lp = lp.copy()
    lp["control"] = _text(lp.line_control)
    by_control = cl.merge(lp, left_on=["claim_id", "control"], right_on=["claim_id", "control"], how="left",
                          suffixes=("", "_835"))
    unmatched = by_control.line_seq.isna()
    if unmatched.any():
        lp_seq = lp.assign(line_no=lp.line_seq.astype("Int64"))
        fallback = cl[unmatched.to_numpy()].merge(lp_seq, on=["claim_id", "line_no"], how="left",
                                                  suffixes=("", "_835"))
        by_control = pd.concat([by_control[~unmatched.to_numpy()], fallback], ignore_index=True)
    m = by_control
    no_line = set(m.claim_id[m.line_seq.isna()])
    refuse(no_line, "a claim line has no line on the primary's 835")
    twice = set(m.claim_id[m.duplicated(["claim_id", "line_seq"], keep=False) & m.line_seq.notna()])
    refuse(twice - no_line, "two claim lines match the same 835 line")
    other_charge = set(m.claim_id[m.line_seq.notna() & (m.charge != m.charge_835)])
    refuse(other_charge - no_line - twice, "a line charge differs from the one the primary adjudicated")
    bad = no_line | twice | other_charge
    # CAS groups 5010 can carry
    cr = set(adj.claim_id[~adj.group_code.isin(["CO", "PR", "OA", "PI"])])
    refuse(cr - bad, "the primary used a CAS group 5010 cannot carry (CR)")
    bad |= cr
    # balancing
    m = m[m.line_seq.notna()].copy()
    m["line_seq"] = m.line_seq.astype("int64")
    adj = adj.copy()
    line_adj = adj[adj.line_seq.notna()].copy()
    line_adj["line_seq"] = line_adj.line_seq.astype("int64")
    per_line = line_adj.groupby(["claim_id", "line_seq"]).amount.sum()
    m["cas"] = per_line.reindex(pd.MultiIndex.from_arrays([m.claim_id, m.line_seq])).fillna(0).to_numpy()
    unbalanced = set(m.claim_id[m.charge != m.paid + m["cas"]])
    refuse(unbalanced - bad, "a line's charge is not its paid amount plus its adjustments")
    bad |= unbalanced
    total_adj = adj.groupby("claim_id").amount.sum()
    charge = cand.set_index("claim_id").charge.reindex(last.claim_id).to_numpy()
    off = last.claim_id[charge != last.paid.to_numpy() + total_adj.reindex(last.claim_id).fillna(0).to_numpy()]
    refuse(set(off) - bad, "the claim charge is not the primary's paid amount plus its adjustments")
    bad |= set(off)

    last = last[~last.claim_id.isin(bad)]
    m = m[~m.claim_id.isin(bad)]
    ids = set(last.claim_id)
    base = cand[cand.claim_id.isin(ids)].copy()
    out = base.copy()
    out["payer_id"] = base.secondary_payer_id
    out["member_id"] = base.secondary_member_id
    out["secondary_payer_id"] = pd.array([pd.NA] * len(out), dtype="str")
    out["secondary_member_id"] = pd.array([pd.NA] * len(out), dtype="str")
    out["frequency_code"] = "1"
    out["original_payer_claim_id"] = pd.array([pd.NA] * len(out), dtype="str")
    out = out.reset_index(drop=True)
    out_lines = claim_lines[claim_lines.claim_id.isin(ids)].reset_index(drop=True)
    lm = last.set_index("claim_id")
    cob_claims = tables.from_columns("cob_claims", {
        "claim_id": base.claim_id.to_numpy(), "other_payer_id": base.payer_id.to_numpy(),
        "other_member_id": base.member_id.to_numpy(), "paid": lm.paid.reindex(base.claim_id).to_numpy(),
        "payer_claim_id": lm.payer_claim_id.reindex(base.claim_id).to_numpy(),
        "adjudication_date": lm.payment_date.reindex(base.claim_id).to_numpy(),
    })
    date_of = lm.payment_date.reindex(m.claim_id).to_numpy()
    proc = _text(m.procedure_code_835).where(_text(m.procedure_code_835) != "", _text(m.procedure_code))
    cob_lines = tables.from_columns("cob_lines", {
        "claim_id": m.claim_id.to_numpy(), "line_no": m.line_no.astype("int64").to_numpy(),
        "procedure_code": proc.to_numpy(),
        "modifiers": m.modifiers_835.where(_text(m.procedure_code_835) != "", m.modifiers).to_numpy(),
        "paid": m.paid.astype("int64").to_numpy(),
        "units": m.units_835.astype(float).fillna(m.units.astype(float)).to_numpy(),
        "adjudication_date": date_of,
    })
    a = adj[adj.claim_id.isin(ids)].copy()
    line_no_of = pd.Series(m.line_no.astype("int64").to_numpy(),
                           index=pd.MultiIndex.from_arrays([m.claim_id, m.line_seq]))
    has_line = a.line_seq.notna()
    ln_no = pd.array([pd.NA] * len(a), dtype="Int64")
    if has_line.any():
        ln_no[has_line.to_numpy()] = line_no_of.reindex(pd.MultiIndex.from_arrays(
            [a.claim_id[has_line], a.line_seq[has_line].astype("int64")])).to_numpy()
    cob_adj = tables.from_columns("cob_adjustments", {
        "claim_id": a.claim_id.to_numpy(), "line_no": ln_no, "group_code": a.group_code.to_numpy(),
        "reason_code": a.reason_code.to_numpy(), "amount": a.amount.astype("int64").to_numpy(),
        "quantity": a.quantity.astype(float).to_numpy(),
    })
    return out, out_lines, {"cob_claims": cob_claims, "cob_lines": cob_lines, "cob_adjustments": cob_adj}, findings


