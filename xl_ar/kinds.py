"""The kinds of reconciliation exception, in one registry: what each means, how it is shown, what to
do about it, by when, and how much it weighs in the worklist.

Reconcile, the priority formula, the reconciliation workbook (colours and its Guide sheet), the
management report, the ribbon and the synthetic practice all read this module; none keeps its own
list of kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from xl_ar.denials import REFUND_DAYS

Limit = Literal["appeal", "timely_filing", "refund"]
Start = Literal["payment_date", "service_date", "last_activity", "credit_date"]

NEW_CLAIM_CATEGORIES = frozenset({"missing_information", "coding"})
"""Denial categories fixed by a new or corrected claim rather than an appeal (CO-16 with MA130: the claim
could not be processed, so it has no appeal rights): the timely-filing limit counts for them."""
NEW_CLAIM_REMARKS = frozenset({"MA130"})
"""Remark codes that make a denial of any category a new claim: MA130, the claim is unprocessable and has
no appeal rights (submit a new claim with the complete, correct information)."""


def needs_new_claim(exceptions: pd.DataFrame, remarks: pd.DataFrame) -> np.ndarray:
    """Which rows of `exceptions` (payment_id, claim_id, category) a new or corrected claim fixes rather than an
    appeal: the category is in `NEW_CLAIM_CATEGORIES`, or a `NEW_CLAIM_REMARKS` remark (codes read stripped and
    upper-cased) is on the same payment and claim in `remarks` (payment_id, claim_id, code)."""
    unprocessable = remarks[remarks["code"].astype("string").str.strip().str.upper().isin(NEW_CLAIM_REMARKS)
                            .to_numpy(dtype=bool)]
    marked = pd.MultiIndex.from_arrays([exceptions["payment_id"], exceptions["claim_id"]]).isin(
        pd.MultiIndex.from_arrays([unprocessable["payment_id"], unprocessable["claim_id"]]))
    return exceptions["category"].isin(NEW_CLAIM_CATEGORIES).to_numpy(dtype=bool) | marked


@dataclass(frozen=True)
class Group:
    """A family of kinds worked the same way and shown in one colour."""

    code: str
    """Short name used in code: posting, bank, remittance, follow-up, denial, pricing, claims-out."""
    label: str
    """Name for people."""
    color: str
    """Row colour (#RRGGBB) in the workbook and on the ribbon's sheets."""


@dataclass(frozen=True)
class DeadlineRule:
    """Which limit applies to an exception and from which date it counts."""

    limit: Limit
    """appeal: the payer's appeal days; timely_filing: the payer's filing days; refund: the 60-day rule for
    Medicare and Medicaid, else the practice's refund days (`Policy.refund_days`; a patient refund too)."""
    start: Start
    """payment_date: the remittance date; service_date: the date of service; last_activity: the claim's
    last activity date, else the as-of date; credit_date: the date the credit arose (the posting that
    took the claim's postings above what was owed), else the last activity date, else the as-of date."""
    new_claim: DeadlineRule | None = None
    """For a denial: the rule instead when its category needs a new or corrected claim rather than an
    appeal (`NEW_CLAIM_CATEGORIES`)."""

    @property
    def words(self) -> str:
        """The rule in a sentence fragment, for people."""
        limit = {"appeal": "the payer's appeal limit", "timely_filing": "the payer's timely-filing limit",
                 "refund": f"{REFUND_DAYS} days to refund to Medicare or Medicaid (else the practice's refund "
                           "days)"}[self.limit]
        start = {"payment_date": "the payment date", "service_date": "the date of service",
                 "last_activity": "the last activity on the claim (else the as-of date)",
                 "credit_date": "the date the credit arose (else the last activity on the claim)"}[self.start]
        text = f"{limit}, counted from {start}"
        if self.new_claim is not None:
            categories = " or ".join(sorted(c.replace("_", " ") for c in NEW_CLAIM_CATEGORIES))
            text += f"; when a new claim is needed ({categories}): {self.new_claim.words}"
        return text


@dataclass(frozen=True)
class ExceptionKind:
    """One kind of reconciliation exception."""

    code: str
    """The value in the exceptions table's `kind` column."""
    label: str
    """Name for people."""
    group: str
    """The `Group` it belongs to (its colour)."""
    next_action: str | None
    """What to do next; None when each exception takes the action of its main CARC (denials)."""
    recoverability: float | None
    """Share of the dollars expected back by working it; None when it follows the denial category."""
    deadline: DeadlineRule | None
    """By when it must be worked; None when no external limit applies."""
    at_stake: Literal["expected", "variance"]
    """The amount the priority weighs: the expected amount (all of it is open) or the variance."""
    guidance: str
    """How to work it, for new staff."""
    next_payer: bool = False
    """Whether the exception is about the payer a claim goes to next (its secondary), not the claim's own payer:
    that payer's limits set the deadline."""


GROUPS: dict[str, Group] = {g.code: g for g in (
    Group("posting", "Posting", "#DDEBF7"),
    Group("bank", "Bank", "#E4DFEC"),
    Group("remittance", "Remittance", "#FFF2CC"),
    Group("follow-up", "Follow-up", "#EDEDED"),
    Group("denial", "Denial", "#FCE4D6"),
    Group("pricing", "Pricing", "#E2EFDA"),
    Group("claims-out", "Claims out", "#F2DCDB"),
)}
"""Every group by code."""

_APPEAL = DeadlineRule("appeal", "payment_date")
_FILING = DeadlineRule("timely_filing", "service_date")
_DENIAL = DeadlineRule("appeal", "payment_date", new_claim=_FILING)

KINDS: tuple[ExceptionKind, ...] = (
    ExceptionKind(
        "unposted_payment", "Unposted payment", "posting", "post the payment", 1.0, None, "variance",
        "The payer paid this claim on the 835 but nothing is posted in the PM system for that check or EFT. "
        "Pull the remittance, post the payment and its adjustments line by line, and note the trace number "
        "on the posting."),
    ExceptionKind(
        "posting_variance", "Posting variance", "posting", "correct the posting", 1.0, None, "variance",
        "The amount posted for this claim and check differs from what the 835 paid. Compare the posting with "
        "the remittance line by line (a keying error, a payment on the wrong claim, or an adjustment posted as "
        "payment), correct it, and note what was wrong."),
    ExceptionKind(
        "posted_without_era", "Posted without ERA", "posting", "find the remittance or reverse the posting",
        0.9, None, "variance",
        "A payer payment is posted but no 835 pays this claim on that check, or the posting has no check or EFT "
        "number. Find the remittance (payer portal, paper EOB, a misapplied check) and add the trace number; if "
        "the money never came, reverse the posting and document why."),
    ExceptionKind(
        "era_without_deposit", "ERA without deposit", "bank", "find the deposit", 0.9, None, "variance",
        "The 835 says a payment was sent, but no bank deposit matches its trace number or amount. Search the "
        "bank statement around the payment date, then ask the payer for the EFT trace or a copy of the check; "
        "a check may be lost or never cashed. Note each contact."),
    ExceptionKind(
        "deposit_without_era", "Deposit without ERA", "bank", "request the remittance from the payer", 0.8,
        None, "variance",
        "Payer money reached the bank with no 835 to explain it. Identify the payer from the bank description "
        "and trace number, request the remittance (or pull it from the portal or clearinghouse), and do not "
        "post it until you know which claims it pays."),
    ExceptionKind(
        "deposit_variance", "Deposit variance", "bank", "ask the payer or bank", 0.9, None, "variance",
        "The bank credited a different amount than the 835 paid on the same trace number. Check the provider-"
        "level adjustments first (recoupments, interest, forward balances often explain the gap); otherwise "
        "call the payer or bank with the trace number and record the answer."),
    ExceptionKind(
        "unidentified_deposit", "Unidentified deposit", "bank", "identify who paid", 0.8, None, "variance",
        "A credit reached the bank that the description rules do not recognise as a payer EFT, a check deposit, "
        "a card settlement, a transfer or interest, and it carries no trace number. Find out who sent it (bank "
        "detail, payer portals, the clearinghouse) before anything is posted; if it is a payer's money, get the "
        "remittance; if it is not the practice's money, have the bank return it."),
    ExceptionKind(
        "duplicate_era", "Duplicate ERA", "bank", "make sure it was posted once", 0.5, None, "variance",
        "The same payment (payer, trace number and amount) arrived in another file; it is counted once. Check "
        "the PM system shows the payment posted once, reverse any second posting, and note which file was "
        "the copy."),
    ExceptionKind(
        "unmatched_remit", "Unmatched remittance", "remittance", "identify the claim or return the money", 0.9,
        None, "variance",
        "The 835 pays a claim number that is not in the ledger. Look the claim up by patient, member id, date "
        "of service and payer claim number; it may be keyed differently or belong to another provider. Post "
        "it to the right claim, or return the money and keep a record of the refund."),
    ExceptionKind(
        "no_response", "No response", "follow-up", "check claim status and resubmit", 0.8, _FILING, "expected",
        "The claim was billed weeks ago and no remittance has come back. Check claim status on the payer portal "
        "or with a 276 inquiry, confirm the clearinghouse accepted it, and resubmit if the payer has no record. "
        "Keep proof of timely filing in the notes."),
    ExceptionKind(
        "forwarded_unpaid", "Forwarded claim unpaid", "follow-up", "follow up with the next payer", 0.8,
        DeadlineRule("timely_filing", "payment_date"), "expected",
        "The payer processed the claim and forwarded it to another payer (CLP02 19, 20, 21 or 23: a crossover "
        "to the secondary), but the balance is still open after the follow-up window. Check that the next payer "
        "received the crossover; if not, bill it yourself with the primary's remittance attached before its "
        "filing limit. Note each contact."),
    ExceptionKind(
        "unbilled_claim", "Unbilled claim", "follow-up", "bill the claim before the filing limit", 0.9, _FILING,
        "expected",
        "The claim has an open balance but was never billed, and the payer's timely-filing limit is near or "
        "past. Find what holds it (a charge on hold, missing information, a scrubber edit), fix it and submit "
        "today; once the limit has passed, appeal only with proof of timely filing."),
    ExceptionKind(
        "rejected", "Rejected claim", "claims-out", "correct the claim and send it again", 0.95, _FILING, "expected",
        "The clearinghouse (999) or the payer (277CA) turned the claim away before adjudication: the payer has no "
        "claim to pay or deny, and the timely-filing clock keeps running. Read the reason, fix the field it "
        "names (member id, date of birth, NPI, a code, totals), scrub the claim again and resubmit it as a new "
        "original claim (frequency 1), not a correction. Note the rejection and the date it went out again."),
    ExceptionKind(
        "unacknowledged", "Unacknowledged claim", "claims-out", "confirm the payer received the claim", 0.9, _FILING,
        "expected",
        "The claim was billed days ago and neither the clearinghouse nor the payer has acknowledged it (no 277CA "
        "or claim status), while other claims were acknowledged. Check the clearinghouse's 999 and batch report "
        "for the file it went in, then the payer portal; if the payer has no record, send it again and keep the "
        "proof of the first submission for timely filing."),
    ExceptionKind(
        "secondary_ready", "Secondary claim ready", "claims-out", "bill the secondary payer", 0.85,
        DeadlineRule("timely_filing", "payment_date"), "expected",
        "The primary payer has paid and left a balance that the patient's secondary coverage pays, and the "
        "primary did not forward the claim (no crossover). Send the secondary claim with the primary's "
        "payment and adjustments (the COB loops of the 837P) now; the secondary's filing limit counts from the "
        "primary's payment date. Do not bill the patient for what the secondary covers.", next_payer=True),
    ExceptionKind(
        "denied", "Denied", "denial", None, None, _DENIAL, "expected",
        "The payer denied the claim and a balance is still open. Read the CARC and remark codes, fix what they "
        "point to (eligibility, authorization, coding, missing information) and send a corrected claim "
        "within the timely-filing limit, or appeal with records before the appeal deadline. Note the reason and "
        "every step taken."),
    ExceptionKind(
        "partially_denied", "Partially denied", "denial", None, None, _DENIAL, "variance",
        "The payer paid the claim but denied some lines. Work the denied lines as a denial: check the line's "
        "CARC, correct and resubmit or appeal, or write off when the contract says so (bundled services). "
        "Document the decision per line."),
    ExceptionKind(
        "underpaid", "Underpaid", "pricing", "appeal the underpayment", 0.7, _APPEAL, "variance",
        "The payer allowed less than the contracted rate in the fee schedule. Check the billed codes, modifiers "
        "and units against the contract, then send a payment dispute or appeal with the rate sheet attached, "
        "and track the reprocessed payment."),
    ExceptionKind(
        "overpaid", "Overpaid", "pricing", "refund or confirm the rate", 0.9, DeadlineRule("refund", "payment_date"),
        "variance",
        "The payer allowed more than the contracted rate. Confirm the rate (the fee schedule may be out of "
        f"date); if it is an overpayment, refund it or let the payer recoup it within {REFUND_DAYS} days of "
        "identifying it for Medicare and Medicaid (the practice's refund days for other payers), and keep the "
        "refund letter."),
    ExceptionKind(
        "reversal", "Reversal", "remittance", "post the reversal and its correction", 0.6, None, "variance",
        "The payer took back an earlier payment, and may have paid a corrected amount. Post the take-back and "
        "the correction so the claim shows the net amount, match the recoupment on the 835 to the original "
        "check, and follow up if no correction came."),
    ExceptionKind(
        "credit_balance", "Credit balance", "follow-up", "refund the credit", 0.9,
        DeadlineRule("refund", "credit_date"), "variance",
        "More was collected on the claim than is owed. Find the cause (a duplicate payment, a patient payment "
        "before insurance paid, a posting error), correct postings if needed, and refund the payer or patient "
        f"(the reason says whose credit it is) within {REFUND_DAYS} days for Medicare and Medicaid, within the "
        "practice's refund days for other payers and patients. Keep the refund record."),
)
"""Every kind, in the order reports list them."""

CODES: tuple[str, ...] = tuple(k.code for k in KINDS)
"""The codes of every kind, in report order."""

BY_CODE: dict[str, ExceptionKind] = {k.code: k for k in KINDS}
"""Every kind by code."""


def codes_in(group: str) -> list[str]:
    """The codes of the kinds in a group, in report order."""
    return [k.code for k in KINDS if k.group == group]


def row_rules(kind_cell: str) -> list[tuple[str, str]]:
    """Per group, an Excel formula true on the rows of its kinds and the group's colour: how the
    workbook and the ribbon colour rows. `kind_cell` is the first row's kind cell, e.g. `$A4`."""
    rules = []
    for group in GROUPS.values():
        tests = ",".join(f'{kind_cell}="{code}"' for code in codes_in(group.code))
        rules.append((f"=OR({tests})", group.color))
    return rules
