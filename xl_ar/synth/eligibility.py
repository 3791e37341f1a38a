"""The synthetic practice's eligibility responses: 271 files (005010X279A1) from each payer.

Before the claims not yet billed go out (the ready-to-bill batch and the claims on hold), the practice asked
every payer about their members; `eligibility/` holds the answers, one 271 per payer, one subscriber loop per
member (a member with several unbilled claims is asked once, for all their dates of service). Most members
are covered (plan dates from January 1 of the year before their first date of service, open-ended, with a copay and a
deductible); some are reported inactive over their dates of service (EB01 6), some had coverage that ended
before their first date of service (DTP*307 range), and the payer rejected the inquiry for some (AAA, member
not found or member id invalid). A response states that MRI of the lumbar spine (72148) needs a prior
authorization (EB11 = Y, EB13) for the members with such a claim, and for some others.

`truth` lists each gap as `xl_ar.eligibility.coverage_problems` names it: `not_covered`, `unverified` (also
for a claim with no member id: there was nothing to ask), `authorization_missing` (per line). Drawn from a
random stream of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.synth import reference as ref
from xl_ar.synth.books import Books
from xl_ar.synth.front_end import FrontEnd
from xl_ar.synth.practice import DAY, Practice
from xl_ar.synth.scrub_cases import ScrubCases
from xl_ar.x12.writer import Party, X12Writer

OUTCOMES: tuple[tuple[str, float], ...] = (("active", 0.82), ("inactive", 0.06), ("ended", 0.06),
                                           ("rejected", 0.06))
"""What the payer answers about a member, and the shares."""
AUTH_CODES: tuple[str, ...] = ("72148",)
"""Procedures the payers say need a prior authorization."""
INSURANCE_TYPES: dict[str, tuple[str, str]] = {"medicare": ("MB", "MEDICARE PART B"),
                                                "medicaid": ("MC", "MEDICAID"),
                                                "commercial": ("PR", "SYNTHETIC CHOICE PPO")}
"""EB04 insurance type and EB05 plan description of an active coverage line, by payer class."""
REJECT_REASONS: tuple[str, ...] = ("75", "72")
"""AAA03 of a rejected inquiry: subscriber not found, invalid or missing member id."""

_WRITER = X12Writer()


@dataclass
class Asked:
    """The unbilled claims the practice asked about, and each member's answer."""

    claims: pd.DataFrame
    """claim_id, member_id ('' when none), payer_id, service_date, account_id: one row per unbilled insured claim."""
    members: pd.DataFrame
    """member_id, payer_id, account_id, first/last service date, outcome, auth (the 271 says 72148 needs one),
    trace (the first claim asked for)."""
    auth_lines: pd.DataFrame
    """claim_id, line_no: lines of an auth-listed procedure on a claim with no authorization number."""


def _unbilled(practice: Practice, books: Books, cases: ScrubCases) -> tuple[pd.DataFrame, pd.DataFrame]:
    classes = {p.payer_id: p.payer_class for p in ref.PAYERS}
    ledger = books.ledger
    pat = practice.patients.set_index("account_id")
    history = pd.DataFrame({
        "claim_id": ledger.claim_id.to_numpy(dtype=object),
        "member_id": pat.member_id.reindex(ledger.account_id).to_numpy(dtype=object),
        "payer_id": ledger.payer_id.to_numpy(dtype=object),
        "service_date": ledger.service_date.to_numpy().astype("datetime64[D]"),
        "account_id": ledger.account_id.to_numpy(dtype=object),
        "auth": "",
    })[np.isnat(ledger.billed_date.to_numpy().astype("datetime64[D]"))]
    c = cases.claims
    ready = pd.DataFrame({
        "claim_id": c["Claim #"].to_numpy(dtype=object), "member_id": c["Member ID"].to_numpy(dtype=object),
        "payer_id": c["Ins Code"].to_numpy(dtype=object),
        "service_date": pd.to_datetime(c["DOS"], format="%m/%d/%Y").to_numpy().astype("datetime64[D]"),
        "account_id": c["Pat Acct"].to_numpy(dtype=object), "auth": c["Prior Auth"].to_numpy(dtype=object),
    })[(c["Billed Date"] == "").to_numpy()]
    asked = pd.concat([history, ready], ignore_index=True)
    asked = asked[asked.payer_id.map(classes).to_numpy() != "self_pay"].reset_index(drop=True)
    lines = pd.concat([
        pd.DataFrame({"claim_id": practice.lines.claim_id.to_numpy(dtype=object),
                      "line_no": practice.lines.line_no.to_numpy(), "code": practice.lines.code.to_numpy()}),
        pd.DataFrame({"claim_id": cases.lines.claim_id.to_numpy(dtype=object),
                      "line_no": cases.lines.line_no.to_numpy(), "code": cases.lines.procedure_code.to_numpy()}),
    ], ignore_index=True)
    lines = lines[lines.code.isin(AUTH_CODES).to_numpy()]
    return asked, lines


def build(practice: Practice, books: Books, cases: ScrubCases, seed: int) -> Asked:
    """Decide each asked member's answer (its own random stream)."""
    rng = np.random.default_rng([seed, 271])
    asked, lines = _unbilled(practice, books, cases)
    with_id = asked[asked.member_id != ""]
    members = with_id.groupby(["member_id", "payer_id"], sort=True).agg(
        account_id=("account_id", "first"), first=("service_date", "min"), last=("service_date", "max"),
        trace=("claim_id", "first")).reset_index()
    names, shares = zip(*OUTCOMES, strict=True)
    outcome = rng.choice(np.array(names, dtype=object), size=len(members), p=np.array(shares) / sum(shares))
    if len(members) >= len(names):  # every answer at least once, whatever the size
        outcome[rng.permutation(len(members))[:len(names)]] = np.array(names, dtype=object)
    members["outcome"] = outcome
    # the auth requirement: stated to the members with an auth-listed procedure, and to some others
    lines_of = lines.merge(asked[["claim_id", "member_id", "payer_id", "auth"]], on="claim_id")
    has_code = pd.MultiIndex.from_frame(members[["member_id", "payer_id"]]).isin(
        pd.MultiIndex.from_frame(lines_of[["member_id", "payer_id"]]))
    members["auth"] = (has_code | (rng.random(len(members)) < 0.1)) & (members.outcome == "active").to_numpy()
    members["ended_days"] = rng.integers(1, 60, len(members))
    members["reason"] = rng.choice(np.array(REJECT_REASONS, dtype=object), len(members))
    told = members[members.auth][["member_id", "payer_id"]]
    missing = lines_of[lines_of.auth == ""].merge(told, on=["member_id", "payer_id"])
    return Asked(asked, members, missing[["claim_id", "line_no"]].reset_index(drop=True))


def truth(asked: Asked) -> list[dict]:
    """Each gap `coverage_problems` must report: claim_id, line_no (None for a claim-level problem), problem."""
    c = asked.claims.merge(asked.members[["member_id", "payer_id", "outcome"]], on=["member_id", "payer_id"],
                           how="left")
    problem = np.select([c.member_id == "", c.outcome == "rejected", c.outcome.isin(["inactive", "ended"])],
                        ["unverified", "unverified", "not_covered"], "")
    rows = [{"claim_id": i, "line_no": None, "problem": p} for i, p in zip(c.claim_id, problem, strict=True) if p]
    rows += [{"claim_id": i, "line_no": int(n), "problem": "authorization_missing"}
             for i, n in zip(asked.auth_lines.claim_id, asked.auth_lines.line_no, strict=True)]
    rows.sort(key=lambda e: (e["claim_id"], e["line_no"] or 0, e["problem"]))
    return rows


def _d8(values) -> np.ndarray:
    return pd.Series(np.asarray(values, dtype="datetime64[D]")).dt.strftime("%Y%m%d").to_numpy(dtype=object)


def files(practice: Practice, asked: Asked, front: FrontEnd) -> Iterator[tuple[str, str]]:
    """One 271 per payer: (file name, text), answered on the as-of date, control numbers from 1."""
    m = asked.members
    if m.empty:
        return
    A = np.datetime64(practice.as_of, "D")
    w, e, s = _WRITER, _WRITER.delimiters.element, _WRITER.terminator
    c = _WRITER.delimiters.component
    pat = practice.patients.set_index("account_id").reindex(m.account_id)
    first_year = pd.Series(m["first"].to_numpy().astype("datetime64[s]")).dt.year.to_numpy()
    plan_begin = (first_year - 1).astype(str).astype(object) + "0101"  # a plan year before the first service
    begin = _d8(m["first"].to_numpy() - 30 * DAY)
    ended = _d8(m["first"].to_numpy() - m.ended_days.to_numpy() * DAY)
    inactive_to = _d8(np.maximum(m["last"].to_numpy(), A) + 60 * DAY)
    name = ("NM1" + e + "IL" + e + "1" + e + pat.last_name.str.upper().to_numpy(dtype=object) + e
            + pat.first_name.str.upper().to_numpy(dtype=object) + e * 4 + "MI" + e + m.member_id.to_numpy(dtype=object)
            + s)
    dmg = ("DMG" + e + "D8" + e + _d8(pat.date_of_birth.to_numpy()) + e
           + front.patient_sex.reindex(m.account_id).to_numpy(dtype=object) + s)
    outcome = m.outcome.to_numpy()
    classes = {p.payer_id: p.payer_class for p in ref.PAYERS}
    kind = m.payer_id.map(classes).map(INSURANCE_TYPES)
    plan = (kind.str[0] + e + kind.str[1]).to_numpy(dtype=object)
    coverage = np.select(
        [outcome == "active", outcome == "inactive", outcome == "ended"],
        ["DTP" + e + "346" + e + "D8" + e + plan_begin + s + "EB" + e + "1" + e + "IND" + e + "30" + e + plan + s
         + "EB" + e + "B" + e + "IND" + e + "98" + e * 3 + "27" + e + "25" + s
         + "EB" + e + "C" + e + "IND" + e + "30" + e * 3 + "23" + e + "500" + s,
         "DTP" + e + "307" + e + "RD8" + e + begin + "-" + inactive_to + s + "EB" + e + "6" + e + "IND" + e + "30" + s,
         "DTP" + e + "307" + e + "RD8" + e + plan_begin + "-" + ended + s + "EB" + e + "1" + e + "IND" + e + "30"
         + e + plan + s],
        "")
    auth = np.where(m.auth.to_numpy(), "EB" + e + "1" + e + "IND" + e * 9 + "Y" + e + "Y" + e + "HC" + c
                    + AUTH_CODES[0] + s, "")
    rejected = outcome == "rejected"
    member = np.where(rejected, name + "AAA" + e + "N" + e * 2 + m.reason.to_numpy(dtype=object) + e + "C" + s,
                      name + dmg + coverage + auth)
    trace = ("TRN" + e + "2" + e + m.trace.to_numpy(dtype=object) + e + "1" + ref.PRACTICE["tax_id"] + s)
    frame = pd.DataFrame({"payer_id": m.payer_id.to_numpy(), "text": trace + member})
    frame["text"] = frame.text.to_numpy(dtype=object)
    payers = {p.payer_id: p for p in ref.PAYERS}
    as_of = pd.Timestamp(practice.as_of).date()
    day = f"{as_of:%Y%m%d}"
    when = dt.datetime.combine(as_of, dt.time(7, 0))
    for control, (payer_id, g) in enumerate(frame.groupby("payer_id", sort=True), start=1):
        payer = payers[payer_id]
        hl = np.arange(len(g)) + 3
        body = [
            w.segment("BHT", "0022", "11", f"SYNE{control:08d}", day, "0700"),
            w.segment("HL", 1, None, 20, 1),
            w.segment("NM1", "PR", 2, payer.name.upper(), None, None, None, None, "PI", f"SYN{payer_id}"),
            w.segment("HL", 2, 1, 21, 1),
            w.segment("NM1", "1P", 2, ref.PRACTICE["name"].upper().replace("(", "").replace(")", ""), None, None,
                      None, None, "XX", ref.PRACTICE["npi"]),
        ]
        members = "HL" + e + hl.astype(str).astype(object) + e + "2" + e + "22" + e + "0" + s + g.text.to_numpy()
        st = w.transaction("271", "0001", "".join(body) + "".join(members), "005010X279A1")
        sender, receiver = Party(f"SYN{payer_id}"), Party(ref.PRACTICE["tax_id"])
        group = w.group("HB", sender, receiver, when, control, "005010X279A1", [st])
        yield f"{day}_{payer_id}_271_{control:05d}.271", w.interchange(sender, receiver, when, control, [group])
