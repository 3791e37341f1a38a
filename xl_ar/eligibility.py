"""Eligibility answers from the `eligibility` table (271 responses): is the member covered on a date of
service, and which claims or appointments are at risk before they go out.

    status = eligible(eligibility, members, dates)              # status, reason, payer_edi_id, ...
    flagged = coverage_problems(claims, claim_lines, eligibility, payers)

Precedence of several responses for one member: per payer (`payer_edi_id`), only the latest response
counts (latest BHT04 response date; on the same date, the one read last). The benefits of that one
response are then looked at together; across payers, the best answer wins (active coverage with any
payer asked is active).

Status of one (member, date of service), best first:

1. `active`: a coverage line (EB01 1-5) whose dates include the date;
2. `inactive`: an inactive line (EB01 6-8) whose dates include the date ("payer reports coverage inactive");
3. `inactive`: active coverage whose dates exclude the date ("coverage ended on ...", "coverage starts on ...");
4. `unknown`: the payer rejected the inquiry (AAA), with the reasons in words;
5. `unknown`: a response without coverage status, or no response for the member at all.

Coverage dates are the eligibility dates (DTP*307/356/357), else the plan dates (291/346/347); an open end
is open. A benefit's own dates come first (the reader fills them from the member's loop).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from xl_ar.balances import Reads

AAA_REASONS: dict[str, str] = {
    "04": "authorized quantity exceeded", "15": "required application data missing",
    "41": "authorization or access restrictions", "42": "payer unable to respond now",
    "43": "invalid or missing provider identification", "44": "invalid or missing provider name",
    "45": "invalid or missing provider specialty", "46": "invalid or missing provider phone number",
    "47": "invalid or missing provider state", "48": "invalid or missing referring provider id",
    "49": "provider is not the primary care physician", "50": "provider ineligible for inquiries",
    "51": "provider not on file", "52": "service dates not within provider plan enrollment",
    "53": "inquired benefit inconsistent with provider type", "54": "inappropriate product or service id qualifier",
    "55": "inappropriate product or service id", "56": "inappropriate date",
    "57": "invalid or missing dates of service",
    "58": "invalid or missing date of birth", "60": "date of birth follows date of service",
    "61": "date of death precedes date of service", "62": "date of service not within allowable inquiry period",
    "63": "date of service in the future", "64": "invalid or missing patient id",
    "65": "invalid or missing patient name",
    "66": "invalid or missing patient gender", "67": "patient not found", "68": "duplicate patient id",
    "69": "inconsistent with patient's age", "70": "inconsistent with patient's gender",
    "71": "birth date does not match the payer's", "72": "invalid or missing member id",
    "73": "invalid or missing subscriber name", "74": "invalid or missing subscriber gender",
    "75": "subscriber not found", "76": "duplicate subscriber id", "77": "subscriber found, patient not found",
    "78": "subscriber not in the group or plan", "79": "invalid participant identification",
    "80": "no response received, transaction terminated", "97": "invalid or missing provider address",
    "T4": "payer name or identifier missing",
}
"""AAA03 reject reason codes (X279A1) in words."""

_DEMOGRAPHIC = {"58", "60", "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77",
                "78", "79"}
_PROVIDER = {"41", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52", "53", "97"}
_RETRY = {"42", "80"}

STATUS_COLUMNS = ("status", "reason", "payer_edi_id", "response_date", "plan")
"""What `eligible` returns per (member, date)."""

READS = Reads(("member_id", "source_file", "transaction"),
              ("response_date", "payer_edi_id", "coverage_status", "benefit_code", "plan", "plan_begin", "plan_end",
               "eligibility_begin", "eligibility_end", "rejection_reason"))
"""The `eligibility` columns `eligible` reads: the member and which response a row belongs to (file and ST02)
are required; the rest is used when the table has it (a missing one is empty)."""

PROBLEM_COLUMNS = ("claim_id", "line_no", "payer_id", "service_date", "problem", "reason", "fix")
"""What `coverage_problems` returns per flagged claim or line."""


def describe_reasons(codes: pd.Series) -> pd.Series:
    """`72,73` -> `AAA 72 invalid or missing member id; AAA 73 invalid or missing subscriber name`."""
    def words(text: object) -> str:
        if not isinstance(text, str) or not text:
            return ""
        return "; ".join(f"AAA {c} {AAA_REASONS.get(c, 'reject reason')}" for c in text.split(","))
    return codes.map(words)


def _fix_for(codes: pd.Series) -> pd.Series:
    def fix(text: object) -> str:
        found = set(text.split(",")) if isinstance(text, str) and text else set()
        if found & _DEMOGRAPHIC:
            return "check the member id, name and date of birth against the insurance card, then ask again"
        if found & _PROVIDER:
            return "check the provider's enrollment and identifiers with the payer, then ask again"
        if found & _RETRY:
            return "send the eligibility inquiry again later"
        return "send an eligibility inquiry (270) for the date of service"
    return codes.map(fix)


def latest_responses(eligibility: pd.DataFrame) -> pd.DataFrame:
    """The rows of the latest response per (member, payer): latest `response_date`, ties to the one read last."""
    e = eligibility[eligibility["member_id"].notna()].copy()
    e["_order"] = np.arange(len(e))
    e["_payer"] = e["payer_edi_id"].fillna("").astype(str)
    e["_response"] = e["source_file"].astype(str) + "\x1f" + e["transaction"].astype(str)
    ranked = e.sort_values(["response_date", "_order"], kind="stable", na_position="first")
    latest = ranked.groupby(["member_id", "_payer"], sort=False)["_response"].last().rename("_latest")
    e = e.join(latest, on=["member_id", "_payer"])
    return e[e["_response"] == e["_latest"]].drop(columns=["_latest"])


def _fmt(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").fillna("")


def eligible(eligibility: pd.DataFrame, member_id: Sequence | pd.Series, service_date: Sequence | pd.Series,
             payer_edi_id: Sequence | pd.Series | None = None) -> pd.DataFrame:
    """Status (`active`, `inactive`, `unknown`) and reason of each (member, date of service), aligned with the input.

    `payer_edi_id` (optional, aligned) limits each question to that payer's responses. Returns the columns
    `STATUS_COLUMNS`: the deciding payer, its response date and the plan description when there is one.
    """
    q = pd.DataFrame({"member_id": pd.Series(member_id, dtype=object).reset_index(drop=True),
                      "date": pd.to_datetime(pd.Series(service_date).reset_index(drop=True), errors="coerce")})
    q["payer"] = (pd.Series(payer_edi_id, dtype=object).reset_index(drop=True) if payer_edi_id is not None
                  else pd.Series([None] * len(q), dtype=object))
    q["_q"] = np.arange(len(q))
    e = latest_responses(eligibility)
    m = q.merge(e, on="member_id", how="inner")
    m = m[m["payer"].isna() | (m["payer"].astype(object) == m["_payer"])]
    begin = m["eligibility_begin"].fillna(m["plan_begin"])
    end = m["eligibility_end"].fillna(m["plan_end"])
    date = m["date"]
    inside = (begin.isna() | (begin <= date)) & (end.isna() | (date <= end)) & date.notna()
    st = m["coverage_status"]
    active = (st == "active").fillna(False).to_numpy()
    inactive = (st == "inactive").fillna(False).to_numpy()
    inside = inside.fillna(False).to_numpy()
    # an end date before the visit ends the coverage whatever EB01 says (an inactive row's dates are usually
    # when the coverage ended); an inactive row is inactive even when its dates do not reach the visit
    ended = (active | inactive) & (end < date).fillna(False).to_numpy()
    early = active & (begin > date).fillna(False).to_numpy()
    rejected = m["rejection_reason"].notna().to_numpy()
    rank = np.select([active & inside, inactive & inside, ended | early | inactive, rejected], [1, 2, 3, 4], 5)
    plan = m["plan"].fillna("").astype(str)
    reason = np.select(
        [active & inside, inactive & inside, ended, early, inactive, rejected],
        ["coverage active" + np.where(plan != "", " (" + plan + ")", ""),
         "payer reports coverage inactive (EB01 " + m["benefit_code"].fillna("").astype(str) + ")",
         "coverage ended on " + _fmt(end),
         "coverage starts on " + _fmt(begin),
         "payer reports coverage inactive (EB01 " + m["benefit_code"].fillna("").astype(str) + ")",
         "payer rejected the inquiry: " + describe_reasons(m["rejection_reason"])],
        "the payer's response states no coverage status")
    m = m.assign(_rank=rank, _reason=reason, _status=np.select([rank == 1, rank <= 3], ["active", "inactive"],
                                                                  "unknown"))
    best = m.sort_values(["_q", "_rank", "_order"], kind="stable").drop_duplicates("_q")
    out = pd.DataFrame({"status": "unknown", "reason": np.where(q["member_id"].isna(), "no member id",
                                                               "no eligibility response for the member"),
                        "payer_edi_id": None, "response_date": pd.NaT, "plan": None}, index=q.index)
    out["status"] = out["status"].astype(object)
    out["reason"] = out["reason"].astype(object)
    at = best["_q"].to_numpy()
    out.loc[at, "status"] = best["_status"].to_numpy()
    out.loc[at, "reason"] = best["_reason"].to_numpy()
    out.loc[at, "payer_edi_id"] = best["_payer"].replace("", None).to_numpy()
    out.loc[at, "response_date"] = best["response_date"].to_numpy()
    out.loc[at, "plan"] = best["plan"].to_numpy(dtype=object)
    out["response_date"] = pd.to_datetime(out["response_date"])
    return out


def _requests(claims: pd.DataFrame) -> pd.DataFrame:
    """Claims or appointments with a `claim_id` (an appointment's `appointment_id` is taken as such)."""
    c = claims.reset_index(drop=True).copy()
    if "claim_id" not in c.columns:
        for alt in ("appointment_id", "request_id"):
            if alt in c.columns:
                c["claim_id"] = c[alt]
                break
    for col in ("payer_id", "prior_authorization", "service_type", "procedure_code"):
        if col not in c.columns:
            c[col] = None
    c["service_type"] = c["service_type"].fillna("30").astype(str)
    return c


def coverage_problems(claims: pd.DataFrame, claim_lines: pd.DataFrame | None, eligibility: pd.DataFrame,
                      payers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claims (or appointments) at risk, one row per problem (`PROBLEM_COLUMNS`):

    - `not_covered`: the member's coverage is inactive on the date of service (claim level);
    - `unverified`: no usable answer (no response, or the payer rejected the inquiry) (claim level);
    - `authorization_missing`: the claim has no `prior_authorization` and the payer's latest response says a
      service needs one (EB11 = Y) with dates that include the date of service, for the line's procedure code
      (EB13) or, when the benefit names no procedure, for the claim's service type (`service_type`, 30 when
      absent). One row per line (per appointment when there are no lines).

    With `payers`, each claim looks only at its payer's responses (`payers.payer_ref` = `payer_edi_id`).
    """
    c = _requests(claims)
    payer_ref = None
    if payers is not None and len(payers):
        refs = payers.set_index("payer_id")["payer_ref"]
        payer_ref = c["payer_id"].map(refs)
    status = eligible(eligibility, c["member_id"], c["service_date"], payer_ref)
    dates = pd.to_datetime(c["service_date"], errors="coerce")
    out = []
    bad = status["status"] != "active"
    if bad.any():
        rows = c[bad]
        st = status[bad]
        unverified = st["status"] == "unknown"
        fix = np.where(unverified, _fix_for(
            eligibility_reasons(eligibility, rows["member_id"])),
            "verify other coverage with the patient and bill the right payer, or the patient")
        out.append(pd.DataFrame({
            "claim_id": rows["claim_id"].to_numpy(), "line_no": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "payer_id": rows["payer_id"].to_numpy(), "service_date": dates[bad].to_numpy(),
            "problem": np.where(unverified, "unverified", "not_covered"),
            "reason": st["reason"].to_numpy(), "fix": fix}))

    no_auth = c["prior_authorization"].isna() | (c["prior_authorization"].astype(str).str.strip() == "")
    need = latest_responses(eligibility)
    need = need[need["authorization_required"] == "Y"]
    need = need.assign(_type=need["service_types"].fillna("").astype(str).str.split(",")).explode("_type")
    if no_auth.any() and len(need):
        base = c[no_auth].assign(_ref=payer_ref[no_auth] if payer_ref is not None else None)
        if claim_lines is not None and len(claim_lines):
            lines = claim_lines[["claim_id", "line_no", "procedure_code", "service_date"]].rename(
                columns={"procedure_code": "_proc", "service_date": "_line_date"})
            base = base.merge(lines, on="claim_id", how="left")
        else:
            base = base.assign(line_no=pd.NA, _proc=base["procedure_code"], _line_date=pd.NaT)
        base["_date"] = pd.to_datetime(base["_line_date"], errors="coerce").fillna(
            pd.to_datetime(base["service_date"], errors="coerce"))
        base["_k"] = np.arange(len(base))
        m = base.merge(need, on="member_id", how="inner", suffixes=("", "_e"))
        if payer_ref is not None:
            m = m[m["_ref"].isna() | (m["_ref"].astype(object) == m["_payer"])]
        begin = m["benefit_begin"].fillna(m["eligibility_begin"]).fillna(m["plan_begin"])
        end = m["benefit_end"].fillna(m["eligibility_end"]).fillna(m["plan_end"])
        inside = ((begin.isna() | (begin <= m["_date"])) & (end.isna() | (m["_date"] <= end))).fillna(False)
        by_proc = m["procedure_code_e"].notna() & (m["procedure_code_e"] == m["_proc"])
        by_type = m["procedure_code_e"].isna() & (m["service_type"] == m["_type"])
        hit = m[inside & (by_proc | by_type)].drop_duplicates("_k")
        if len(hit):
            what = np.where(hit["procedure_code_e"].notna(), "procedure " + hit["_proc"].fillna("").astype(str),
                            "service type " + hit["service_type"].astype(str))
            out.append(pd.DataFrame({
                "claim_id": hit["claim_id"].to_numpy(), "line_no": pd.array(hit["line_no"], dtype="Int64"),
                "payer_id": hit["payer_id"].to_numpy(), "service_date": hit["_date"].to_numpy(),
                "problem": "authorization_missing",
                "reason": "the payer requires prior authorization for " + pd.Series(what).to_numpy(dtype=object)
                          + " (271 EB11 = Y) and the claim has none",
                "fix": "obtain the authorization from the payer and enter its number on the claim (REF*G1)"}))
    if not out:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "line_no" else
                                          "datetime64[ns]" if c == "service_date" else object)
                             for c in PROBLEM_COLUMNS})
    result = pd.concat(out, ignore_index=True)
    return result.sort_values(["claim_id", "line_no"], kind="stable", na_position="first").reset_index(drop=True)


def eligibility_reasons(eligibility: pd.DataFrame, member_id: pd.Series) -> pd.Series:
    """The AAA reason codes of each member's latest responses (comma separated; empty when none)."""
    e = latest_responses(eligibility)
    codes = e.dropna(subset=["rejection_reason"]).groupby("member_id")["rejection_reason"].agg(",".join)
    found = member_id.map(codes).astype(object)
    return found.where(found.notna(), "")
