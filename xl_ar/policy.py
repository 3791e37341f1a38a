"""The practice's follow-up policy: the dunning cycle, small balances, collections, refunds and credits,
and how the worklist is shared out. Every field is a setting (`xl_ar.settings`, group `policy`).

The defaults are common practice, not law, except the 60 days to refund a Medicare or Medicaid
overpayment once identified (42 CFR 401.305, section 1128J(d) of the Social Security Act), which no
setting changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AssignBy = Literal["off", "payer", "alphabet", "round_robin"]

GOVERNMENT_REFUND_DAYS = 60
"""Days to report and return a Medicare or Medicaid overpayment from the day it is identified (fixed by law)."""


@dataclass(frozen=True)
class Policy:
    """How the practice follows up patient balances, credits and collections."""

    statement_interval_days: int = 30
    """Days between the notices of the dunning cycle: statement 1, then statement 2, then the final notice."""
    statement_due_days: int = 21
    """A statement asks to be paid within this many days of its date."""
    small_balance_cents: int = 500
    """A patient balance under this ($5.00) is not billed: it is listed for a small-balance write-off."""
    collection_days: int = 30
    """Days after the final notice without payment before an account may be placed with the agency ..."""
    collection_minimum_cents: int = 5000
    """... when its patient balance is at least this ($50.00) and it has no active payment plan."""
    collection_agency: str = ""
    """The collection agency's name, on the placement file and in the store."""
    refund_days: int = 60
    """Days to refund a credit to a commercial or other payer, or to a patient, from the day it was identified
    (Medicare and Medicaid: always `GOVERNMENT_REFUND_DAYS`)."""
    apply_patient_credits: bool = True
    """A patient credit is first applied to the same patient's other open patient balances; only the rest is
    refunded. False: every patient credit is refunded."""
    assign_by: AssignBy = "off"
    """How the worklist is split among `specialists`: off, payer, alphabet (patient last name) or round_robin."""
    specialists: str = ""
    """Who works the worklist: `name` entries separated by `;`, each optionally with its share after `=`
    (payers `MCR,MCD`, or letters `A-L`), e.g. `ana=MCR,MCD; ben=A-L; carla`."""
