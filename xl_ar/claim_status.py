"""Acknowledgements and claim status: what became of the claims sent (docs/claim-status.md).

Takes the `claim_status` table (999, 277CA and 277 read by `xl_ar.x12.status`) and the `claims`
table, and returns tables:

- `latest_status`: the latest status of each claim;
- `rejections`: claims (and 837 transactions) rejected before adjudication, with the reason and the fix
  in a billing specialist's words: the rows of the worklist kind `rejected`;
- `unacknowledged`: billed claims no payer or clearinghouse has acknowledged after N days;
- `status_requests_due`: open claims past follow-up, to ask about in a 276.

The labels below are our own short words for the common codes, not X12's published descriptions
(those are copyrighted): a code without a label is shown as its code.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

CATEGORY_LABELS: dict[str, str] = {
    "A0": "forwarded to another entity",
    "A1": "received",
    "A2": "accepted for adjudication",
    "A3": "returned as unprocessable",
    "A4": "not found by the payer",
    "A5": "split by the payer",
    "A6": "rejected: information missing",
    "A7": "rejected: information invalid",
    "A8": "rejected: fields that must agree do not",
    "P0": "pending: adjudication not finished",
    "P1": "pending: in process",
    "P2": "pending: payer review",
    "P3": "pending: waiting for information requested",
    "P4": "pending: patient's information requested",
    "P5": "pending: payer administrative hold",
    "F0": "finalized",
    "F1": "finalized: paid",
    "F2": "finalized: denied",
    "F3": "finalized: revised",
    "F3F": "finalized: forwarded",
    "F3N": "finalized: not forwarded",
    "F4": "finalized: no payment (adjudication complete earlier)",
    "R0": "payer asks for general information",
    "R1": "payer asks for the entity's information",
    "R3": "payer asks for the claim or line information",
    "R4": "payer asks for documentation",
    "E0": "status request could not be answered: error in the request",
    "E1": "status request could not be answered: payer system unavailable",
    "E2": "status request could not be answered: information held",
    "E3": "status request could not be answered: try again later",
    "E4": "status request could not be answered: no match",
    "D0": "search for the claim found nothing",
}
"""STC01-1 claim status categories in our words."""

STATUS_LABELS: dict[str, str] = {
    "0": "no further detail electronically",
    "1": "details on the remittance",
    "3": "adjudicated; awaiting the payment run",
    "19": "received",
    "20": "accepted for processing",
    "21": "information missing or invalid",
    "24": "submitter not enrolled for electronic claims",
    "35": "claim not found",
    "54": "duplicate of an earlier claim",
    "97": "patient not found as eligible",
    "116": "sent to the wrong payer",
    "158": "date of birth",
    "164": "member id",
    "187": "dates of service",
    "254": "principal diagnosis code",
    "255": "diagnosis code",
    "400": "claim totals do not add up",
    "453": "procedure modifier",
    "454": "procedure code",
    "562": "NPI",
}
"""STC01-2 claim status codes (the common ones) in our words."""

ENTITY_LABELS: dict[str, str] = {
    "1P": "provider", "40": "receiver", "41": "submitter", "71": "attending provider", "77": "service location",
    "82": "rendering provider", "85": "billing provider", "DN": "referring provider", "IL": "subscriber",
    "PR": "payer", "QC": "patient",
}
"""STC01-3 entities (whose information the status is about) in our words."""

ACK_LABELS: dict[str, str] = {
    "A": "accepted", "E": "accepted with errors", "P": "partially accepted", "R": "rejected",
    "M": "rejected: authentication failed", "W": "rejected: structure", "X": "rejected: content after decryption",
}
"""999 IK501 / AK901 acknowledgment codes in our words."""

REJECTED_CATEGORIES = ("A3", "A4", "A6", "A7", "A8")
"""Categories that mean the claim was not taken into adjudication: it must be corrected and sent again."""
REJECTED_ACKS = ("R", "M", "W", "X")
"""999 codes that mean the transaction (every claim in it) was rejected."""

_CATEGORY_FIX = {
    "A3": "correct the claim and send it again as a new original (frequency 1): a returned claim was never "
          "entered, so a replacement (7) would be rejected too",
    "A4": "check the payer, member id and patient on the claim; if the payer never received it, send it again "
          "as a new original (frequency 1)",
    "A6": "add the missing information the status names and send the claim again as a new original (frequency 1)",
    "A7": "correct the invalid value the status names and send the claim again as a new original (frequency 1)",
    "A8": "make the related fields agree (codes, dates, provider and patient data) and send the claim again as "
          "a new original (frequency 1)",
}
_STATUS_FIX = {
    "24": "enrol the submitter (or the provider) for electronic claims with the payer, then send the claim again",
    "54": "do not send it again: look up the earlier claim's status (276) and work that one",
    "97": "verify the patient's eligibility (270) and correct the member id or payer, then send it again",
    "116": "send the claim to the right payer (check the patient's coverage), as a new original",
    "158": "correct the date of birth to match the payer's records, then send it again as a new original",
    "164": "correct the member id from the insurance card or a 271, then send it again as a new original",
    "562": "correct the NPI (10 digits with a valid check digit, enrolled with the payer), then send it again",
}
_ACK_FIX = ("the clearinghouse rejected the 837 transaction before any payer saw it: fix the segments and elements "
            "the 999 lists, then resend the whole transaction (every claim in it)")

_LEVEL_RANK = {"line": 0, "claim": 1}


def describe(category: pd.Series, status: pd.Series, entity: pd.Series) -> pd.Series:
    """A status in words: `rejected: information invalid - NPI (billing provider)`; a code we have no label
    for is shown as `code 123`."""
    cat = category.astype("object")
    words = cat.map(CATEGORY_LABELS).fillna("category " + cat.fillna("?").astype(str))
    st = status.astype("object")
    st_words = st.map(STATUS_LABELS).fillna("code " + st.astype(str))
    words = words + np.where(st.notna(), " - " + st_words, "")
    en = entity.astype("object")
    words = words + np.where(en.notna(), " (" + en.map(ENTITY_LABELS).fillna(en.astype(str)) + ")", "")
    return words


def _claim_rows(claim_status: pd.DataFrame) -> pd.DataFrame:
    """The 277CA / 277 rows about a claim (claim or line level), in a stable order: status date, then level."""
    rows = claim_status[claim_status["claim_id"].notna() & claim_status["level"].isin(["claim", "line"])].copy()
    rows["_order"] = np.arange(len(rows))
    rows["_rank"] = rows["level"].map(_LEVEL_RANK).astype("int64")
    rows["_date"] = rows["status_date"].fillna(pd.Timestamp.min)
    return rows.sort_values(["claim_id", "_date", "_rank", "_order"], kind="stable")


def latest_status(claim_status: pd.DataFrame) -> pd.DataFrame:
    """The latest status of each claim: the 277CA or 277 row with the latest status date (at the same date,
    the claim-level row over a line's, then the one read last), with its `description` in words.
    999 rows (about transactions, not claims) are not included."""
    rows = _claim_rows(claim_status)
    latest = rows.drop_duplicates("claim_id", keep="last").drop(columns=["_order", "_rank", "_date"])
    latest["description"] = describe(latest["category_code"], latest["status_code"], latest["entity_code"])
    return latest.sort_values("claim_id", kind="stable").reset_index(drop=True)


def _latest_event(claim_status: pd.DataFrame) -> pd.DataFrame:
    """Every row of each claim's latest status report: its latest status date in its last file read."""
    rows = _claim_rows(claim_status)
    last = rows.drop_duplicates("claim_id", keep="last")[["claim_id", "_date", "source_file"]]
    return rows.merge(last, on=["claim_id", "_date", "source_file"], how="inner")


_REJECTED_COLUMNS = ["claim_id", "payer_id", "balance", "source_file", "status_kind", "status_date", "category_code",
                     "status_code", "entity_code", "transaction_control", "group_control", "reason", "fix"]


def rejections(claims: pd.DataFrame, claim_status: pd.DataFrame) -> pd.DataFrame:
    """The rows of the worklist kind `rejected`: what was sent and not taken in, with the reason and the fix.

    - a claim whose latest status report (277CA or 277) rejects it (category A3, A4, A6, A7, A8, at the claim
      or a line): one row per claim, with the first rejecting status of that report (the claim's own before
      its lines'); a later acceptance (a claim sent again and acknowledged) clears it;
    - a 999 that rejected an 837 transaction (IK5 R, M, W or X; or AK9 rejecting a group with no AK2): one row
      per transaction, claim empty (which claims it held is in the file sent), the 999's errors in the reason.

    Columns: claim_id, payer_id and balance (from `claims`; empty when the claim is not in the ledger),
    source_file, status_kind (277CA, 277, 999), status_date, category_code, status_code, entity_code,
    transaction_control and group_control (999), reason, fix.
    """
    event = _latest_event(claim_status)
    bad = event[event["category_code"].isin(REJECTED_CATEGORIES)]
    bad = bad.sort_values(["claim_id", "_rank", "_order"], ascending=[True, False, True], kind="stable")
    bad = bad.drop_duplicates("claim_id", keep="first")
    fix = bad["status_code"].map(_STATUS_FIX).fillna(bad["category_code"].map(_CATEGORY_FIX))
    where = np.where(bad["level"] == "line", " on the line " + bad["procedure_code"].fillna("").astype(str), "")
    claim_rows = pd.DataFrame({
        "claim_id": bad["claim_id"].to_numpy(), "source_file": bad["source_file"].to_numpy(),
        "status_kind": bad["kind"].to_numpy(), "status_date": bad["status_date"].to_numpy(),
        "category_code": bad["category_code"].to_numpy(), "status_code": bad["status_code"].to_numpy(),
        "entity_code": bad["entity_code"].to_numpy(),
        "reason": (bad["kind"] + " " + describe(bad["category_code"], bad["status_code"], bad["entity_code"])
                   + where).to_numpy(),
        "fix": fix.to_numpy(),
    })
    acks = claim_status[(claim_status["kind"] == "999") & claim_status["ack_code"].isin(REJECTED_ACKS)]
    tx_groups = claim_status.loc[(claim_status["kind"] == "999") & (claim_status["level"] == "transaction"),
                                 ["source_file", "group_control"]].drop_duplicates()
    has_tx = pd.MultiIndex.from_frame(acks[["source_file", "group_control"]].astype(object)).isin(
        pd.MultiIndex.from_frame(tx_groups.astype(object)))
    acks = acks[(acks["level"] == "transaction") | ~has_tx]
    what = np.where(acks["level"] == "transaction",
                    "837 transaction " + acks["transaction_control"].fillna("?").astype(str) + " of group "
                    + acks["group_control"].fillna("?").astype(str),
                    "837 group " + acks["group_control"].fillna("?").astype(str))
    ack_rows = pd.DataFrame({
        "source_file": acks["source_file"].to_numpy(), "status_kind": "999",
        "status_date": acks["status_date"].to_numpy(), "transaction_control": acks["transaction_control"].to_numpy(),
        "group_control": acks["group_control"].to_numpy(),
        "reason": ("999 " + pd.Series(what, index=acks.index) + " " + acks["ack_code"].map(ACK_LABELS)
                   + np.where(acks["error_codes"].notna(), " - errors: " + acks["error_codes"].fillna(""), ""))
        .to_numpy(),
        "fix": _ACK_FIX,
    })
    ledger = claims[["claim_id", "payer_id", "balance"]].drop_duplicates("claim_id")
    ledger = ledger.astype({"claim_id": object})
    claim_rows = claim_rows.astype({"claim_id": object}).merge(ledger, on="claim_id", how="left")
    parts = [p for p in (claim_rows, ack_rows) if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_REJECTED_COLUMNS)
    for c in _REJECTED_COLUMNS:
        if c not in out:
            out[c] = pd.NA
    out["balance"] = out["balance"].astype("Int64")
    return out[_REJECTED_COLUMNS].reset_index(drop=True)


def _as_of(as_of: dt.date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(as_of).normalize()


def unacknowledged(claims: pd.DataFrame, claim_status: pd.DataFrame, as_of: dt.date, days: int,
                   answered: pd.Series | None = None) -> pd.DataFrame:
    """Billed claims no one has acknowledged after `days` days: billed on or before as_of - days, still open
    (balance > 0) with no answer from the payer yet, and no 277CA or 277 status about the claim dated on or
    after its billed date (or undated). No answer: not among the claim ids of `answered` (the claims any 835
    mentions) when given, else nothing paid or adjusted on the claim (when the columns are there).

    A 999 alone does not acknowledge a claim (it names a transaction, not its claims). Columns: the claims'
    own, then days_waiting (as_of - billed_date) and reason.
    """
    cutoff = _as_of(as_of) - pd.Timedelta(days=days)
    c = claims[claims["billed_date"].notna() & (claims["billed_date"] <= cutoff) & (claims["balance"] > 0)]
    if answered is not None:
        c = c[~c["claim_id"].isin(answered)]
    else:
        for col in ("paid", "adjusted"):
            if col in c:
                c = c[c[col].fillna(0) == 0]
    rows = claim_status[claim_status["claim_id"].notna() & claim_status["kind"].isin(["277CA", "277"])]
    seen = rows[["claim_id", "status_date"]].merge(c[["claim_id", "billed_date"]], on="claim_id")
    seen = seen[seen["status_date"].isna() | (seen["status_date"] >= seen["billed_date"])]
    out = c[~c["claim_id"].isin(seen["claim_id"])].copy()
    out["days_waiting"] = (_as_of(as_of) - out["billed_date"]).dt.days.astype("Int64")
    out["reason"] = ("billed " + out["days_waiting"].astype(str) + " days ago and not acknowledged (no 277CA or "
                     "277): confirm the clearinghouse sent it (999) and the payer received it")
    return out.reset_index(drop=True)


def status_requests_due(claims: pd.DataFrame, claim_status: pd.DataFrame, as_of: dt.date,
                        days: int) -> pd.DataFrame:
    """Open claims past follow-up, for a 276: billed on or before as_of - days, still owed by insurance
    (balance > 0; `responsibility` insurance when the column is there), whose latest 277CA or 277 status is
    older than `days` days (or missing), and not rejected (a rejected claim is corrected, not asked about).

    Columns: the claims' own, then payer_claim_id (REF*1K of its latest status, for the 276), last_status_date
    and last_status (in words).
    """
    cutoff = _as_of(as_of) - pd.Timedelta(days=days)
    c = claims[claims["billed_date"].notna() & (claims["billed_date"] <= cutoff) & (claims["balance"] > 0)]
    if "responsibility" in c:
        c = c[c["responsibility"].fillna("insurance") == "insurance"]
    latest = latest_status(claim_status)
    known = _claim_rows(claim_status)
    known = known[known["payer_claim_id"].notna()].drop_duplicates("claim_id", keep="last")
    out = c.drop(columns=[x for x in ("payer_claim_id",) if x in c]).merge(
        latest[["claim_id", "status_date", "category_code", "description"]], on="claim_id", how="left")
    out = out.merge(known[["claim_id", "payer_claim_id"]], on="claim_id", how="left")
    recent = out["status_date"].notna() & (out["status_date"] > cutoff)
    rejected = out["category_code"].isin(REJECTED_CATEGORIES)
    out = out[~recent & ~rejected]
    out = out.rename(columns={"status_date": "last_status_date", "description": "last_status"})
    return out.drop(columns=["category_code"]).reset_index(drop=True)
