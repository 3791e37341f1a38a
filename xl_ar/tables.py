"""The canonical tables (shared/DESIGN.md): one pydantic model and one column spec per table.

Every reader, Excel function, sheet and report uses these names. The model is the validated
record at a boundary; inside the core a table is a plain DataFrame whose columns follow
`TABLES[name].columns`:

- money: integer cents (`int64`, or nullable `Int64` for optional amounts);
- dates: `datetime64[us]` at midnight (pandas' vectorised date; `to_rows` gives `datetime.date`);
- codes and text: pandas strings, missing as NA;
- counts: `Int64`; quantities that may be fractional (units): `float64`.

`from_frame` turns a raw frame (cells as text or spreadsheet values) into a canonical one and
reports every bad cell as a `Finding` naming the row and column; no row is ever dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, get_args, get_origin

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from xl_ar.findings import NOWHERE, Finding, Location, in_reading_order
from xl_ar.kinds import CODES as KIND_CODES
from xl_ar.money import parse_cents
from xl_ar.privacy import is_identifier, looks_like, shown

DATE_DTYPE = "datetime64[us]"


class Kind(enum.Enum):
    """How a column's cells are parsed and stored."""

    TEXT = "text"
    CODE = "code"
    DATE = "date"
    MONEY = "money"
    COUNT = "count"
    NUMBER = "number"


Money = Annotated[int, Kind.MONEY]
"""An amount in integer cents."""
Date = Annotated[dt.date, Kind.DATE]
Code = Annotated[str, Kind.CODE]
Text = Annotated[str, Kind.TEXT]
Count = Annotated[int, Kind.COUNT]
Number = Annotated[float, Kind.NUMBER]

PayerClass = Literal["medicare", "medicaid", "commercial", "self_pay", "other"]
Responsibility = Literal["insurance", "patient"]
GroupCode = Literal["CO", "PR", "OA", "PI", "CR"]


class _Record(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True, extra="forbid")


class Payer(_Record):
    """A payer the practice bills (`payers`)."""

    payer_id: Code
    """The practice's payer id, the same on claims, postings and fee schedule rows."""
    name: Text
    """Payer name as the practice knows it (also matched against the 835 payer name)."""
    payer_class: PayerClass
    """medicare, medicaid, commercial, self_pay or other: drives KPIs by payer group and defaults."""
    timely_filing_days: Count | None = None
    """Days from the date of service to file a claim; empty means the class default."""
    appeal_days: Count | None = None
    """Days from the remittance date to appeal a denial; empty means the class default."""
    payer_ref: Code | None = None
    """The payer's identifier on its 835s (N1*PR REF*2U or the TRN03 originator), used to link ERAs."""
    mpr_rates: Text | None = None
    """The payer's multiple-procedure reduction: shares of the fee for the first, second, ... procedure
    (`100/50`, the last repeating), `none` when it applies none; empty means the practice default
    (docs/pricing.md)."""


class Claim(_Record):
    """A claim in the practice's A/R ledger, as the practice-management system exports it (`claims`)."""

    claim_id: Code
    """Patient control number: CLM01 on the 837, CLP01 on the 835."""
    account_id: Code
    """The patient's account number in the PM system (an identifier)."""
    payer_id: Code
    """The payer currently responsible for the claim (see `payers`)."""
    service_date: Date
    """First date of service on the claim."""
    billed_date: Date | None = None
    """Date the claim was first submitted to the payer; empty if never billed."""
    charge: Money
    """Total billed charge."""
    paid: Money
    """Payments posted (insurance and patient)."""
    adjusted: Money
    """Adjustments posted (contractual and write-offs); charge - paid - adjusted = balance."""
    written_off: Money | None = None
    """The write-offs within `adjusted` (bad debt, denials, small balances), when the export shows them."""
    balance: Money
    """Open balance; negative is a credit balance (money owed back)."""
    insurance_balance: Money | None = None
    """The part of the balance insurance owes (PM `Ins Bal`) when the export splits it; never netted."""
    patient_balance: Money | None = None
    """The part of the balance the patient owes (PM `Pat Bal`), when the export splits it; negative is a credit."""
    responsibility: Responsibility
    """Who owes the open balance now: insurance or patient (the whole balance, when the export does not split it)."""
    status: Code | None = None
    """The PM system's claim status (submitted, paid, denied, patient_due, ...)."""
    last_activity_date: Date | None = None
    """Date of the latest posting, status or follow-up on the claim."""
    patient_name: Text | None = None
    """Patient name (identifier; never shown in messages or manager outputs)."""
    date_of_birth: Date | None = None
    """Patient date of birth (identifier)."""
    member_id: Code | None = None
    """Insurance member id (identifier)."""
    patient_address: Text | None = None
    """Patient address (identifier)."""
    diagnosis_codes: Code | None = None
    """ICD-10-CM codes on the claim, comma separated, principal first."""
    payer_class: PayerClass | None = None
    """The payer's class when the export carries it (else it comes from `payers`)."""
    patient_sex: Code | None = None
    """The patient's sex as the payer records it: F, M or U (DMG03 on the 837P)."""
    place_of_service: Code | None = None
    """CMS place-of-service code, two digits (CLM05-1; 11 = office when empty)."""
    rendering_npi: Code | None = None
    """NPI of the clinician who rendered the services, when not the billing provider (loop 2310B)."""
    prior_authorization: Code | None = None
    """Prior authorization number the payer issued for the services (REF*G1)."""
    frequency_code: Code | None = None
    """Claim frequency (CLM05-3): 1 original (when empty), 7 replacement, 8 void."""
    original_payer_claim_id: Code | None = None
    """The payer's claim number of the claim a replacement or void corrects (REF*F8; an identifier)."""
    secondary_payer_id: Code | None = None
    """The payer that covers what the primary leaves (see `payers`); empty when there is none."""
    secondary_member_id: Code | None = None
    """Member id with the secondary payer (identifier)."""


class ClaimLine(_Record):
    """A service line of a claim (`claim_lines`)."""

    claim_id: Code
    """The claim the line belongs to."""
    line_no: Count
    """Line number on the claim (LX01), from 1."""
    line_control: Code | None = None
    """Line item control number (REF*6R) sent on the 837 and echoed on the 835."""
    procedure_code: Code
    """CPT or HCPCS Level II code number (no descriptions are shipped)."""
    modifiers: Code | None = None
    """Procedure modifiers, colon separated in billed order (e.g. `25:59`)."""
    units: Number
    """Units of service."""
    charge: Money
    """Line charge."""
    service_date: Date
    """Date of service of the line."""
    diagnosis_pointers: Code | None = None
    """Which of the claim's diagnosis codes the line treats: positions 1-12, colon separated (SV107; `1` when
    empty)."""


class Payment(_Record):
    """A check or EFT: one 835 transaction (`payments`)."""

    payment_id: Code
    """Our id of the payment: unique per imported 835 transaction."""
    payer_id: Code | None = None
    """The practice's payer id when the 835 payer is known, else empty."""
    payer_name: Text | None = None
    """Payer name from N1*PR."""
    payer_ref: Code | None = None
    """Payer identifier from the 835 (REF*2U, N1*PR id, or TRN03)."""
    payee_npi: Code | None = None
    """Payee NPI from N1*PE."""
    method: Code
    """BPR04 payment method: ACH, CHK, FWT, BOP or NON (no payment)."""
    amount: Money
    """BPR02, the total actual provider payment."""
    payment_date: Date | None = None
    """BPR16, the check issue or EFT effective date."""
    trace_number: Code
    """TRN02: the check number or EFT trace number, the key to the bank deposit."""
    source_file: Text | None = None
    """Name of the file the payment came from."""


class ClaimPayment(_Record):
    """A claim in a remittance: one CLP loop (`claim_payments`)."""

    payment_id: Code
    """The payment (835 transaction) the claim is in."""
    claim_seq: Count
    """Position of the CLP loop in its payment, from 1 (a claim can appear twice: reversal and correction)."""
    claim_id: Code
    """CLP01, the patient control number (= the ledger's claim_id)."""
    status_code: Code
    """CLP02: 1 primary, 2 secondary, 3 tertiary, 4 denied, 19-22 forwarded / reversal, ..."""
    charge: Money
    """CLP03, total claim charge."""
    paid: Money
    """CLP04, claim payment amount."""
    patient_resp: Money | None = None
    """CLP05, patient responsibility."""
    payer_claim_id: Code | None = None
    """CLP07, the payer's claim control number (links reversals to corrections)."""
    service_date: Date | None = None
    """Claim service date (DTM*232), else the first line's date."""


class LinePayment(_Record):
    """A service line in a remittance: one SVC loop (`line_payments`)."""

    payment_id: Code
    """The payment the line is in."""
    claim_seq: Count
    """The CLP loop of the line (see `claim_payments`)."""
    claim_id: Code
    """CLP01 of the claim."""
    line_seq: Count
    """Position of the SVC loop in its claim, from 1."""
    procedure_code: Code | None = None
    """SVC01-2 procedure code as adjudicated."""
    modifiers: Code | None = None
    """SVC01-3..6 modifiers, colon separated."""
    charge: Money
    """SVC02, line charge."""
    paid: Money
    """SVC03, line payment."""
    units: Number | None = None
    """SVC05 units paid (1 when absent)."""
    line_control: Code | None = None
    """REF*6R line item control number (echo of the 837)."""
    service_date: Date | None = None
    """DTM*472 (or 150) service date."""
    allowed: Money | None = None
    """AMT*B6 allowed amount when the payer sends it."""


class Adjustment(_Record):
    """One CAS amount (`adjustments`)."""

    payment_id: Code
    """The payment the adjustment is in."""
    claim_seq: Count
    """The CLP loop it belongs to."""
    claim_id: Code
    """CLP01 of the claim."""
    line_seq: Count | None = None
    """The SVC loop it belongs to; empty for a claim-level adjustment."""
    group_code: GroupCode
    """CAS01: CO contractual, PR patient, OA other, PI payer initiated, CR correction (4010)."""
    reason_code: Code
    """CARC (claim adjustment reason code)."""
    amount: Money
    """Adjustment amount (positive reduces payment)."""
    quantity: Number | None = None
    """Adjusted units, when sent."""


class Remark(_Record):
    """One remittance advice remark code (`remarks`)."""

    payment_id: Code
    """The payment the remark is in."""
    claim_seq: Count
    """The CLP loop it belongs to."""
    claim_id: Code
    """CLP01 of the claim."""
    line_seq: Count | None = None
    """The SVC loop (LQ); empty for claim-level MIA / MOA remarks."""
    code: Code
    """RARC code value."""


class ProviderAdjustment(_Record):
    """One PLB amount (`provider_adjustments`)."""

    payment_id: Code
    """The payment the adjustment is in."""
    provider_id: Code
    """PLB01 provider identifier."""
    fiscal_date: Date | None = None
    """PLB02 fiscal period date."""
    reason_code: Code
    """PLB03-1 adjustment reason: WO recoupment, L6 interest, FB forward balance, CS, ..."""
    reference: Code | None = None
    """PLB03-2 reference (e.g. the payer claim number recouped)."""
    amount: Money
    """PLB amount: positive reduces the payment, negative increases it (interest)."""


class Posting(_Record):
    """A payment posted in the practice-management system (`postings`)."""

    posting_id: Code
    """The PM system's posting (transaction) id."""
    claim_id: Code
    """Claim the payment was posted to."""
    payer_id: Code
    """Who paid: a payer id, or the self-pay payer for patient payments."""
    amount: Money
    """Amount posted (negative for a reversal or refund)."""
    posted_date: Date
    """Date the posting was made."""
    trace_number: Code | None = None
    """Check / EFT trace number entered with the posting (empty for patient payments)."""


class Deposit(_Record):
    """A credit line on the bank statement (`deposits`)."""

    deposit_id: Code
    """Our id of the bank line (bank reference, or file name and line)."""
    deposit_date: Date
    """Date the money reached the account."""
    amount: Money
    """Amount credited."""
    trace_number: Code | None = None
    """Trace number found on the bank line (TRN02 of the payment), when the bank shows it."""
    description: Text | None = None
    """The bank's description of the credit."""


class FeeScheduleRate(_Record):
    """A contracted allowed amount (`fee_schedule`)."""

    payer_id: Code
    """Payer of the contract."""
    procedure_code: Code
    """CPT or HCPCS Level II code."""
    modifier: Code | None = None
    """Modifier the rate applies to; empty for the base rate."""
    allowed: Money
    """Allowed amount per unit."""


class ReconciliationException(_Record):
    """Something the reconciliation found that needs a person (`exceptions`; kinds in `xl_ar.kinds`)."""

    kind: Literal[KIND_CODES]
    """What kind of exception it is (one of `xl_ar.kinds.CODES`)."""
    claim_id: Code | None = None
    """The claim concerned; empty for payment-level kinds (bank, duplicates)."""
    payment_id: Code | None = None
    """The payment (835 transaction) concerned, when there is one."""
    trace_number: Code | None = None
    """Check or EFT trace number (TRN02) concerned, when there is one."""
    payer_id: Code | None = None
    """The claim's payer, else the payment's."""
    expected: Money | None = None
    """What should be there: paid on the 835, the fee schedule's allowed amount, the open balance, ..."""
    actual: Money | None = None
    """What is there: posted, deposited, allowed, ..."""
    variance: Money | None = None
    """actual - expected."""
    reason: Text
    """Why it is an exception, with the amounts and dates involved."""
    category: Code | None = None
    """Denial category of the main CARC (`xl_ar.codes.CATEGORIES`); contractual for pricing kinds."""
    next_action: Text
    """What to do next: the kind's action, or the main CARC's action for denials."""
    deadline: Date | None = None
    """Appeal, timely-filing or refund deadline, when one applies."""
    days_left: Number | None = None
    """Days from the as-of date to the deadline (negative once passed)."""
    priority: Number | None = None
    """Dollars at stake x recoverability x urgency of the deadline: the worklist's order."""


class ScrubFinding(_Record):
    """A problem the claim scrubber found before the claim leaves (`scrub_findings`; rules in `xl_ar.scrub.RULES`)."""

    claim_id: Code
    """The claim the problem is on (an identifier: never shown in messages)."""
    line_no: Count | None = None
    """The service line the problem is on; empty for a claim-level problem."""
    rule_id: Code
    """The scrubber rule that found it (`SCR-DX-BILLABLE`, ...; docs/scrubber.md)."""
    severity: Literal["error", "warning"]
    """error: the claim would be rejected or denied, it is not clean; warning: it can go, but look."""
    column: Code | None = None
    """The claim or line column the problem is in (`diagnosis_codes`, `modifiers`, ...)."""
    message: Text
    """What is wrong, in a billing specialist's words (codes and amounts, never a patient identifier)."""
    fix: Text
    """What to change so the claim passes."""


class EligibilityBenefit(_Record):
    """One benefit line (EB) of a 271 eligibility response, or one request the payer rejected (`eligibility`).

    A subscriber or dependent the payer answered with AAA rejections only (or with nothing) gets one row with
    no benefit, so a rejection is never dropped. Dates come from the benefit's own DTP (loop 2110C/D), else
    from the member's (2100C/D); a single date (D8) of plan, benefit or eligibility is its begin date.
    """

    source_file: Text
    """The 271 file the row was read from (no folder)."""
    transaction: Code
    """ST02 of the 271 transaction set."""
    segment: Count
    """Position of the row's EB segment in the file (or of the member's NM1, or of the first AAA), from 1."""
    response_date: Date | None = None
    """Date the payer created the response (BHT04): the latest response wins."""
    trace_number: Code | None = None
    """Our 270's trace number echoed by the payer (TRN*2, TRN02): the claim or appointment it was asked for."""
    payer_edi_id: Code | None = None
    """Information source: the payer's EDI id (2100A NM109), the `payer_ref` of `payers`."""
    payer_name: Text | None = None
    """Information source: the payer's name (2100A NM103)."""
    provider_npi: Code | None = None
    """Information receiver: the NPI the response is addressed to (2100B NM109 when NM108 is XX)."""
    member_id: Code | None = None
    """The subscriber's member id (2100C NM109; a dependent's own id when the payer gives one) (identifier)."""
    patient_name: Text | None = None
    """The member the benefit is about, `LAST, FIRST` (2100C/D NM103, NM104) (identifier)."""
    date_of_birth: Date | None = None
    """Date of birth of that member (DMG02) (identifier)."""
    relationship: Literal["subscriber", "dependent"] | None = None
    """Whether the row is about the subscriber (2000C) or a dependent (2000D); empty for a payer- or
    provider-level rejection."""
    benefit_code: Code | None = None
    """EB01 eligibility or benefit information: 1-5 active coverage, 6-8 inactive, A coinsurance, B copay,
    C deductible, F limitations, G out-of-pocket (stop loss), I non-covered, L primary care provider, R other
    or additional payer, CB coverage basis, ..."""
    coverage_status: Literal["active", "inactive"] | None = None
    """What EB01 says of the coverage: active (1-5), inactive (6-8); empty for benefit details."""
    coverage_level: Code | None = None
    """EB02: IND individual, FAM family, EMP employee only, ESP employee and spouse, CHD children only, ..."""
    service_types: Code | None = None
    """EB03 service type codes, comma separated (30 health benefit plan coverage, 98 office visit, ...)."""
    insurance_type: Code | None = None
    """EB04 insurance type (HM HMO, PR PPO, MB Medicare Part B, MC Medicaid, ...)."""
    plan: Text | None = None
    """EB05 plan coverage description."""
    time_period: Code | None = None
    """EB06 time period qualifier (23 calendar year, 29 remaining, 27 visit, 22 service year, ...)."""
    amount: Money | None = None
    """EB07 monetary amount (copay, deductible, out-of-pocket, remaining), exact cents."""
    percent: Number | None = None
    """EB08 percent as the payer writes it, a fraction (0.2 is 20% coinsurance)."""
    quantity_qualifier: Code | None = None
    """EB09 what the quantity counts (VS visits, DY days, ...)."""
    quantity: Number | None = None
    """EB10 quantity."""
    authorization_required: Code | None = None
    """EB11: Y prior authorization or certification required, N not required, U unknown."""
    in_network: Code | None = None
    """EB12: Y in network, N out of network, W not applicable, U unknown."""
    procedure_code: Code | None = None
    """EB13-2: the CPT/HCPCS (or other) code the benefit is limited to."""
    procedure_modifiers: Code | None = None
    """EB13-3..6 procedure modifiers, colon separated."""
    plan_begin: Date | None = None
    """Plan dates (DTP*291 range, or 346 plan begin)."""
    plan_end: Date | None = None
    """Plan end (DTP*291 range end, or 347 plan end)."""
    eligibility_begin: Date | None = None
    """Eligibility dates (DTP*307 range, or 356 eligibility begin)."""
    eligibility_end: Date | None = None
    """Eligibility end (DTP*307 range end, or 357 eligibility end)."""
    benefit_begin: Date | None = None
    """Benefit dates (DTP*292 range, or 348 benefit begin)."""
    benefit_end: Date | None = None
    """Benefit end (DTP*292 range end, or 349 benefit end)."""
    rejection_level: Literal["payer", "provider", "subscriber", "dependent", "benefit"] | None = None
    """The deepest loop that carries an AAA rejection: 2100A payer, 2100B provider, 2100C/D member, 2110 benefit."""
    rejection_reason: Code | None = None
    """AAA03 reject reason codes of the row's loops, comma separated (42 unable to respond now, 72 invalid
    member id, 73 invalid name, 75 subscriber not found, 58 invalid date of birth, ...)."""
    follow_up: Code | None = None
    """AAA04 follow-up action codes, comma separated (C please correct and resubmit, N resubmission not allowed,
    R resubmission allowed, Y do not resubmit, we will reply)."""
    message: Text | None = None
    """MSG free-form text of the benefit, joined with ` | `."""


StatusKind = Literal["999", "277CA", "277"]
StatusLevel = Literal["source", "receiver", "provider", "claim", "line", "group", "transaction"]


class ClaimStatus(_Record):
    """One status reported about what the practice sent: an STC of a 277CA or 277, an AK2 or AK1 of a 999
    (`claim_status`; docs/claim-status.md)."""

    source_file: Text
    """Name of the file the status came from."""
    kind: StatusKind
    """999 (implementation acknowledgment), 277CA (claim acknowledgment) or 277 (claim status response)."""
    level: StatusLevel
    """What the status is about: source, receiver, provider, claim or line (277/277CA HL level), group or
    transaction (999 AK1/AK9, AK2/IK5)."""
    transaction: Code | None = None
    """ST02 of the acknowledgment or status transaction itself."""
    claim_id: Code | None = None
    """Patient control number (CLM01) of the claim: TRN02 at 2200D/E (277CA), REF*EJ else TRN02 (277)."""
    trace_number: Code | None = None
    """TRN02 of the status's HL loop: the claim's trace, or the batch or provider trace above the claims."""
    payer_claim_id: Code | None = None
    """REF*1K: the payer's claim number (an identifier), when assigned."""
    payer_ref: Code | None = None
    """NM109 of the payer (information source, NM1*PR / AY) the status came from."""
    provider_npi: Code | None = None
    """NM109 of the billing or service provider (2100C) the status is about."""
    line_control: Code | None = None
    """REF*FJ line item control number (the 837's REF*6R), for a line-level status."""
    procedure_code: Code | None = None
    """SVC01-2 procedure code, for a line-level status."""
    service_date: Date | None = None
    """DTP*472 date of service (the first date of a range), of the claim or line."""
    category_code: Code | None = None
    """STC01-1 claim status category: A1-A8 acknowledgments, P pending, F finalized, R requests, E errors."""
    status_code: Code | None = None
    """STC01-2 claim status code (what the payer says about the claim)."""
    entity_code: Code | None = None
    """STC01-3 entity identifier code: whose information the status is about (85 billing provider, IL
    subscriber, QC patient, ...)."""
    status_2: Code | None = None
    """STC10 as category:status:entity, when a second status is sent."""
    status_3: Code | None = None
    """STC11 as category:status:entity, when a third status is sent."""
    status_date: Date | None = None
    """STC02 status information effective date; for a 999, the 999's GS04 date."""
    action_code: Code | None = None
    """STC03 action code (WQ accepted, U rejected, ...) of a 277CA."""
    charge: Money | None = None
    """STC04 total claim (or line) charge the status is about (SVC02 for a line when STC04 is empty)."""
    paid: Money | None = None
    """STC05 claim (or line) payment amount (SVC03 for a line when STC05 is empty)."""
    group_control: Code | None = None
    """999: GS06 of the functional group acknowledged (AK102)."""
    functional_id: Code | None = None
    """999: GS01 of the group acknowledged (AK101: HC for 837 claims)."""
    transaction_set: Code | None = None
    """999: ST01 of the transaction acknowledged (AK201: 837)."""
    transaction_control: Code | None = None
    """999: ST02 of the transaction acknowledged (AK202): which claims it held is in the file sent."""
    ack_code: Code | None = None
    """999: IK501 (transaction) or AK901 (group): A accepted, E accepted with errors, P partially accepted,
    R rejected, M/W/X rejected (authentication, syntax, content)."""
    error_codes: Text | None = None
    """999: the errors found, `CLM at segment 12 (loop 2300): 8; CLM05-1: 7; transaction: 5` (IK3 segment,
    position, loop and IK304 code; IK4 element and IK403 code; IK502-IK506; AK905-AK909)."""


class CobClaim(_Record):
    """What the primary payer did with a claim, sent on the secondary 837P (`cob_claims`, loops 2320/2330)."""

    claim_id: Code
    """The claim (CLM01 of the secondary claim)."""
    other_payer_id: Code
    """The primary payer (the practice's payer id; its `payer_ref` is 2330B NM109 and SVD01)."""
    other_member_id: Code | None = None
    """Member id with the primary payer (2330A NM109; an identifier)."""
    paid: Money
    """What the primary paid on the claim (2320 AMT*D, the 835's CLP04)."""
    payer_claim_id: Code | None = None
    """The primary's claim control number (835 CLP07)."""
    adjudication_date: Date | None = None
    """When the primary adjudicated the claim (2430 DTP*573: the 835's payment date)."""


class CobLine(_Record):
    """The primary payer's adjudication of one service line (`cob_lines`, loop 2430 SVD)."""

    claim_id: Code
    """The claim."""
    line_no: Count
    """The claim line (LX01) it adjudicates."""
    procedure_code: Code
    """Procedure as the primary adjudicated it (SVD03-2)."""
    modifiers: Code | None = None
    """Its modifiers, colon separated (SVD03-3..6)."""
    paid: Money
    """What the primary paid on the line (SVD02)."""
    units: Number
    """Units paid (SVD05)."""
    adjudication_date: Date | None = None
    """DTP*573 of the line."""


class CobAdjustment(_Record):
    """One CAS amount of the primary payer sent on the secondary claim (`cob_adjustments`: 2320 or 2430 CAS)."""

    claim_id: Code
    """The claim."""
    line_no: Count | None = None
    """The claim line for a line adjustment (2430); empty for a claim-level one (2320)."""
    group_code: GroupCode
    """CAS01: CO, PR, OA, PI (CR is not a 5010 group)."""
    reason_code: Code
    """The CARC."""
    amount: Money
    """Amount (positive reduces what was paid)."""
    quantity: Number | None = None
    """Adjusted units, when sent."""


NoteChannel = Literal["call", "portal", "letter", "email", "fax"]
AppealLevel = Literal["1", "2", "external"]
AppealStatus = Literal["drafted", "filed", "won", "partially_won", "lost", "withdrawn"]
Notice = Literal["1", "2", "final"]


class Note(_Record):
    """One follow-up touch on a claim: a call, a portal check, a letter (`notes`; kept in the store)."""

    claim_id: Code
    """The claim worked (an identifier: never shown in messages or manager outputs)."""
    note_date: Date
    """When the touch happened."""
    author: Text
    """Who made it: the specialist's OS user name."""
    channel: NoteChannel
    """How: call, portal, letter, email or fax."""
    payer_reference: Code | None = None
    """The payer's reference number for the call or inquiry (call reference, ticket), when it gave one."""
    outcome: Text | None = None
    """What was learned or agreed, in the specialist's words (free text: shown only on specialists' sheets)."""
    next_followup: Date | None = None
    """When to look at the claim again (the tickler): the worklist hides it until then; empty = no date set."""


class Appeal(_Record):
    """One appeal of a denied or underpaid claim, from draft to outcome (`appeals`; kept in the store)."""

    appeal_id: Code
    """The store's number of the appeal."""
    claim_id: Code
    """The claim appealed (an identifier)."""
    payer_id: Code
    """The payer the appeal goes to."""
    level: AppealLevel
    """1 (first-level reconsideration), 2 (second level) or external (independent review)."""
    status: AppealStatus
    """drafted, filed, won, partially_won, lost or withdrawn."""
    category: Code | None = None
    """The denial category appealed (`xl_ar.codes.CATEGORIES`), or contractual for an underpayment."""
    denial_date: Date | None = None
    """The remittance date of the denial or underpayment appealed."""
    filed_date: Date | None = None
    """When the appeal was sent; empty while drafted."""
    deadline: Date | None = None
    """The last day to file it (the payer's appeal limit from the denial)."""
    method: Code | None = None
    """How it was sent: portal, mail, fax, email or phone."""
    amount_appealed: Money | None = None
    """What the appeal asks for: the denied amount, or the contracted amount not paid."""
    recovered: Money | None = None
    """What the payer paid after the appeal (the reprocessed 835's payment on the claim)."""
    resolved_date: Date | None = None
    """When the outcome came (the payment date of the 835 that closed it, or the day it was withdrawn)."""
    resolved_by: Code | None = None
    """The payment (835 transaction) whose adjudication closed the appeal."""
    payment_id: Code | None = None
    """The payment (835 transaction) whose adjudication is appealed (the worklist row's); its claim loop's paid
    amount is what `recovered` counts from."""
    version: Count | None = None
    """How many times the stored appeal was written (1 when opened): a change names the version it read, and
    the store refuses it when someone changed the appeal since (optimistic locking)."""


class Statement(_Record):
    """One patient statement or dunning notice sent (`statements`; the history kept in the store)."""

    statement_id: Code
    """The store's number of the statement (printed on it, so a patient can quote it)."""
    account_id: Code
    """The patient account billed (an identifier)."""
    statement_date: Date
    """The date printed on the statement."""
    notice: Notice
    """Which notice of the dunning cycle: 1 (first statement), 2 (second), final (final notice)."""
    amount_due: Money
    """The patient balance the statement asks for."""
    due_date: Date
    """Pay by this date."""
    batch: Code | None = None
    """The run that wrote it (the audit trail records each batch)."""
    plan_installment: Money | None = None
    """The installment asked for on a payment-plan statement; empty on a dunning notice (plans never escalate)."""


class PaymentPlan(_Record):
    """A payment plan agreed with a patient (`payment_plans`: a PM export or a sheet the practice keeps)."""

    account_id: Code
    """The patient account on the plan (an identifier)."""
    start_date: Date
    """First installment due."""
    installment: Money
    """Amount due each period."""
    every_days: Count | None = None
    """Days between installments; empty means monthly (30)."""
    end_date: Date | None = None
    """When the plan ended (paid off or cancelled); empty while it runs."""


class Placement(_Record):
    """A patient account placed with a collection agency (`placements`; kept in the store)."""

    placement_id: Code
    """The store's number of the placement (the agency's reference to us)."""
    account_id: Code
    """The account placed (an identifier)."""
    placed_date: Date
    """When the account went to the agency."""
    agency: Text
    """The collection agency."""
    amount: Money
    """The balance placed, written off as bad debt on placement."""
    batch: Code | None = None
    """The run that placed it."""


class AgencyPayment(_Record):
    """A payment a collection agency collected on a placed account (`agency_payments`: the agency's remittance file)."""

    account_id: Code
    """The account the money is for (an identifier)."""
    payment_date: Date
    """When the agency collected it."""
    amount: Money
    """What the patient paid the agency (gross)."""
    fee: Money | None = None
    """The agency's commission kept out of it."""
    reference: Code | None = None
    """The agency's transaction reference."""


class Refund(_Record):
    """A credit to give back, worked from the worklist (`refunds`; computed from the ledger, never stored)."""

    claim_id: Code
    """The claim holding the credit (an identifier)."""
    account_id: Code
    """Its patient account (an identifier)."""
    party: Literal["payer", "patient"]
    """Whose money it is: the payer's (overpayment) or the patient's."""
    payer_id: Code | None = None
    """The payer to refund; empty for a patient refund."""
    amount: Money
    """What to refund (positive), after any patient credit applied to the account's other balances."""
    identified_date: Date
    """When the credit was identified (the date it arose, else the as-of date)."""
    deadline: Date
    """Refund by this date: 60 days from identification for Medicare and Medicaid, else the configured days."""
    applied: Money | None = None
    """The part of a patient credit applied to the same account's other open balances instead of refunded."""
    payer_class: PayerClass | None = None
    """The payer's class (medicare and medicaid: the 60-day rule); self_pay for a patient refund."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: Kind
    required: bool
    choices: tuple[str, ...] | None
    doc: str


@dataclass(frozen=True, slots=True)
class Table:
    """A canonical table: its name, record model, columns and key."""

    name: str
    model: type[_Record]
    key: tuple[str, ...]

    @property
    def columns(self) -> tuple[Column, ...]:
        return _columns(self.model)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


@functools.cache
def _columns(model: type[_Record]) -> tuple[Column, ...]:
    cols = []
    for name, field in model.model_fields.items():
        kind = next((m for m in field.metadata if isinstance(m, Kind)), None)
        ann = field.annotation
        choices = None
        if get_origin(ann) is Literal:
            kind, choices = Kind.CODE, tuple(get_args(ann))
        elif kind is None:  # Optional[...] hides the Annotated metadata one level down
            for arg in get_args(ann):
                if get_origin(arg) is Literal:
                    kind, choices = Kind.CODE, tuple(get_args(arg))
                for m in getattr(arg, "__metadata__", ()):
                    if isinstance(m, Kind):
                        kind = m
        if kind is None:
            raise TypeError(f"{model.__name__}.{name} has no column kind")
        cols.append(Column(name, kind, field.is_required(), choices, field.description or ""))
    return tuple(cols)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("payers", Payer, ("payer_id",)),
        Table("claims", Claim, ("claim_id",)),
        Table("claim_lines", ClaimLine, ("claim_id", "line_no")),
        Table("payments", Payment, ("payment_id",)),
        Table("claim_payments", ClaimPayment, ("payment_id", "claim_seq")),
        Table("line_payments", LinePayment, ("payment_id", "claim_seq", "line_seq")),
        Table("adjustments", Adjustment, ()),
        Table("remarks", Remark, ()),
        Table("provider_adjustments", ProviderAdjustment, ()),
        Table("postings", Posting, ("posting_id",)),
        Table("deposits", Deposit, ("deposit_id",)),
        Table("fee_schedule", FeeScheduleRate, ("payer_id", "procedure_code", "modifier")),
        Table("exceptions", ReconciliationException, ()),
        Table("scrub_findings", ScrubFinding, ()),
        Table("eligibility", EligibilityBenefit, ()),
        Table("claim_status", ClaimStatus, ()),
        Table("cob_claims", CobClaim, ("claim_id",)),
        Table("cob_lines", CobLine, ("claim_id", "line_no")),
        Table("cob_adjustments", CobAdjustment, ()),
        Table("notes", Note, ()),
        Table("appeals", Appeal, ("appeal_id",)),
        Table("statements", Statement, ("statement_id",)),
        Table("payment_plans", PaymentPlan, ()),
        Table("placements", Placement, ("placement_id",)),
        Table("agency_payments", AgencyPayment, ()),
        Table("refunds", Refund, ()),
    )
}
"""Every canonical table by name."""

MISSING_COLUMN = "missing column"
"""The code of the finding that a required column is not in a file."""

REMITTANCE_TABLES = ("payments", "claim_payments", "line_payments", "adjustments", "remarks", "provider_adjustments")
"""The tables an 835 becomes."""


@functools.cache
def _dtype(column: Column) -> str:
    return {
        Kind.TEXT: "str",
        Kind.CODE: "str",
        Kind.DATE: DATE_DTYPE,
        Kind.MONEY: "int64" if column.required else "Int64",
        Kind.COUNT: "Int64",
        Kind.NUMBER: "float64",
    }[column.kind]


def empty(name: str) -> pd.DataFrame:
    """An empty canonical table with the right columns and dtypes."""
    return pd.DataFrame({c.name: pd.Series(dtype=_dtype(c)) for c in TABLES[name].columns})


def from_columns(name: str, data: dict[str, Sequence | np.ndarray | pd.Series]) -> pd.DataFrame:
    """A canonical table from already-typed columns (readers that build tables themselves).

    Missing optional columns are filled with NA; dtypes are set; no validation of values. A column
    the table does not have is an error (a misspelled name would otherwise vanish silently).
    Built from arrays (no index alignment), as readers call it for every file they read.
    """
    table = TABLES[name]
    names = table.column_names
    unknown = [c for c in data if c not in names]
    if unknown:
        raise ValueError(f"{name}: no column named {', '.join(repr(c) for c in unknown)} "
                         f"(the columns are {', '.join(names)})")
    n = len(next(iter(data.values()))) if data else 0
    out = {}
    for c in table.columns:
        dtype = _dtype(c)
        values = data.get(c.name)
        if values is None:
            if c.required:
                raise KeyError(f"{name}: required column '{c.name}' missing")
            if c.kind == Kind.DATE:
                out[c.name] = np.full(n, np.datetime64("NaT"), dtype=DATE_DTYPE)
            else:
                out[c.name] = pd.array([pd.NA] * n, dtype=dtype) if dtype != "float64" else np.full(n, np.nan)
        elif c.kind == Kind.DATE:
            out[c.name] = _as_dates(values)
        elif isinstance(values, (pd.Series, np.ndarray, pd.api.extensions.ExtensionArray)) and str(
                values.dtype) == dtype:
            out[c.name] = values.to_numpy() if isinstance(values, pd.Series) and dtype in ("int64", "float64") \
                else (values.array if isinstance(values, pd.Series) else values)
        elif dtype in ("int64", "float64"):
            out[c.name] = np.asarray(values, dtype=dtype)
        elif dtype == "Int64" and isinstance(values, np.ndarray) and values.dtype.kind in "iub":
            out[c.name] = pd.arrays.IntegerArray(values.astype(np.int64), np.zeros(len(values), dtype=bool))
        else:
            out[c.name] = pd.array(values.astype(object) if isinstance(values, np.ndarray) else list(values)
                                   if not isinstance(values, pd.Series) else values.astype(object), dtype=dtype)
    return pd.DataFrame(out, copy=False)


def _as_dates(values) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values.astype(DATE_DTYPE)
    return pd.to_datetime(pd.Series(values), errors="raise").to_numpy().astype(DATE_DTYPE)


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values.dtype) and values.dtype != object


def _empty_mask(values: pd.Series) -> pd.Series:
    if _is_text(values):  # from_frame has stripped the text and made "" missing
        return values.isna()
    if values.dtype.kind in "iufMb":
        return values.isna()
    obj = values.astype(object)
    return obj.isna() | obj.map(lambda v: isinstance(v, str) and v.strip() == "")


DATE_ORDERS: dict[str, str] = {"MM/DD/YYYY": "md", "DD/MM/YYYY": "dm", "YYYY-MM-DD": "ymd"}
"""The `date_format` settings a file can have, by the order they give its dates (other separators and a
two-digit year, `DD.MM.YY`, are read the same way; see `date_order`)."""

AMBIGUOUS_DATES = "ambiguous dates"
"""The code of the finding that a file's dates could be month/day or day/month and none of them settles it."""

MIXED_DATE_ORDER = "mixed date order"
"""The code of the finding that a file has dates written month/day and others written day/month."""

_DATE_MAX_LENGTH = 40
"""No date or timestamp is written longer (`2026-01-23T08:19:49.123456789+05:30` is 35): a longer cell is
not a date and is never matched against a pattern, so a huge cell costs one length check."""

_TIME = (r"(?:(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d{1,9})?)?"
         r"(?:\s*(?P<ampm>[AaPp])\.?[Mm]\.?)?(?:\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?)?")
_YEAR_FIRST = (rf"^(?P<year>\d{{4}})(?P<sep>[-/.])(?P<month>\d{{1,2}})(?P=sep)(?P<day>\d{{1,2}}){_TIME}\Z"
               r"|^(?P<cyear>\d{4})(?P<cmonth>\d{2})(?P<cday>\d{2})\Z")
_MONTH_NAMED = (r"^(?:(?P<nday>\d{1,2})[ -](?P<nmonth>[A-Za-z]{3,9}\.?)[ -](?P<nyear>\d{4}|\d{2})"
                r"|(?P<mmonth>[A-Za-z]{3,9}\.?) (?P<mday>\d{1,2}),? (?P<myear>\d{4}))" + _TIME + r"\Z")
_MONTHS = {name: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for name in names}
"""English month names and their abbreviations (`23 Jan 2026`, `23-Jan-26`, `January 23, 2026`)."""
_YEAR_LAST = (rf"^(?P<part1>\d{{1,2}})(?P<sep>[-/.])(?P<part2>\d{{1,2}})(?P=sep)(?P<year>\d{{4}}|\d{{2}}){_TIME}\Z")


def date_order(date_format: str) -> str:
    """The order a `date_format` setting gives: `md`, `dm` or `ymd` (`YYYY-MM-DD`: no day/month-first date
    is accepted). Any separator, a two-digit year and strftime spellings (`%d/%m/%Y`) are accepted."""
    text = date_format.strip().upper().replace("%Y", "YYYY").replace("%M", "MM").replace("%D", "DD")
    parts = [p for p in re.split(r"[-/. ]", text) if p]
    if parts == ["YYYYMMDD"]:  # the only separator-less form read
        parts = ["YYYY", "MM", "DD"]
    shape = tuple("Y" if p in ("YY", "YYYY") else p for p in parts)
    orders = {("MM", "DD", "Y"): "md", ("DD", "MM", "Y"): "dm", ("Y", "MM", "DD"): "ymd"}
    if shape not in orders:
        raise ValueError(f"'{date_format}' is not a date format; use one of {', '.join(DATE_ORDERS)}")
    return orders[shape]


@dataclass(frozen=True, slots=True)
class _DateCells:
    """The cells of one date column, split into parts once per distinct value (a column of 100,000 service
    dates has a few hundred): `codes` maps each row to its value (-1: empty cell), the other arrays are per
    value. A year-last date (`01/02/2026`) keeps its two first parts in `month` and `day` as written; the
    file's order decides which is which."""

    codes: np.ndarray
    text: np.ndarray
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    year_last: np.ndarray
    time_ok: np.ndarray

    def first_row(self, mask: np.ndarray) -> int | None:
        """Position of the first row whose value is in `mask` (None when none is)."""
        hit = np.flatnonzero(np.append(mask, False)[self.codes])
        return int(hit[0]) if len(hit) else None


def _date_cells(values: pd.Series) -> _DateCells:
    """Split text dates (and spreadsheet date cells) into parts; no pattern sees a cell longer than a date."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    n = len(uniques)
    year, month, day = (np.zeros(n, dtype=np.int64) for _ in range(3))
    native = np.zeros(n, dtype=bool)
    if _is_text(values):
        text = np.asarray(uniques, dtype=object)
    else:  # spreadsheet cells: date cells and numbers (20260123 typed as a number), once per distinct value
        text = np.empty(n, dtype=object)
        for i, v in enumerate(uniques):
            if isinstance(v, np.datetime64):
                v = pd.Timestamp(v)
            if isinstance(v, dt.date):  # datetime and Timestamp too: their own calendar date
                native[i], year[i], month[i], day[i] = True, v.year, v.month, v.day
                text[i] = v.isoformat()
            elif isinstance(v, float) and v.is_integer():
                text[i] = str(int(v))
            else:
                text[i] = str(v).strip()
    year_last = np.zeros(n, dtype=bool)
    time_ok = np.ones(n, dtype=bool)
    lengths = pd.Series(text, dtype=object).str.len().to_numpy()
    candidate = ~native & (lengths <= _DATE_MAX_LENGTH)
    if candidate.any():
        short = pd.Series(text[candidate], dtype=object)
        first = short.str.extract(_YEAR_FIRST)
        last = short.str.extract(_YEAR_LAST)
        named = short.str.extract(_MONTH_NAMED)

        def number(frame: pd.DataFrame, *cols: str) -> np.ndarray:
            out = frame[cols[0]]
            for c in cols[1:]:
                out = out.fillna(frame[c])
            return pd.to_numeric(out, errors="coerce").fillna(-1).astype(np.int64).to_numpy()

        is_first = first[["year", "cyear"]].notna().any(axis=1).to_numpy()
        is_last = last["year"].notna().to_numpy() & ~is_first
        is_named = named[["nyear", "myear"]].notna().any(axis=1).to_numpy() & ~is_first & ~is_last
        forms = [is_first, is_last, is_named]

        def pick(*choices: np.ndarray) -> np.ndarray:
            return np.select(forms, choices, -1)

        y = pick(number(first, "year", "cyear"), number(last, "year"), number(named, "nyear", "myear"))
        two_digit = (is_last | is_named) & (y >= 0) & (y < 100)
        y = np.where(two_digit, y + np.where(y <= 68, 2000, 1900), y)  # two-digit years as strptime's %y
        month_name = named["nmonth"].fillna(named["mmonth"]).str.lower().str.rstrip(".").map(_MONTHS)
        m = pick(number(first, "month", "cmonth"), number(last, "part1"),
                 month_name.fillna(-1).astype(np.int64).to_numpy())
        d = pick(number(first, "day", "cday"), number(last, "part2"), number(named, "nday", "mday"))
        hour, minute, second = (pick(number(first, t), number(last, t), number(named, t))
                                for t in ("hour", "minute", "second"))
        ampm = pick(*(f["ampm"].notna().to_numpy() for f in (first, last, named))) == 1
        ok_time = np.where(ampm, (hour >= 1) & (hour <= 12), hour <= 23) & (minute <= 59) & (second <= 59)
        found = is_first | is_last | is_named
        year[candidate] = np.where(found, y, 0)
        month[candidate] = np.where(found, m, 0)
        day[candidate] = np.where(found, d, 0)
        year_last[candidate] = is_last
        time_ok[candidate] = ok_time
    return _DateCells(codes, text, year, month, day, year_last, time_ok)


def _date_order(cells: dict[str, _DateCells], rows: np.ndarray, source: str) -> tuple[str | None, list[Finding]]:
    """The order of a file's day/month-first dates, decided over all its date columns: a first part above
    12 (`13/02/2026`) settles day/month, a second part above 12 (`02/13/2026`) settles month/day. None when
    nothing settles it (each date is then read when it settles itself); an ambiguous date (`01/02/2026`)
    with nothing to settle it, or dates settled both ways, is one finding for the file."""
    md_at: list[tuple[int, str, str]] = []
    dm_at: list[tuple[int, str, str]] = []
    ambiguous_at: list[tuple[bool, int, str, str]] = []
    for name, c in cells.items():
        a, b, last = c.month, c.day, c.year_last & c.time_ok
        for mask, found in (
                (last & (a >= 1) & (a <= 12) & (b > 12) & (b <= 31), md_at),
                (last & (b >= 1) & (b <= 12) & (a > 12) & (a <= 31), dm_at),
                (last & (a >= 1) & (a <= 12) & (b >= 1) & (b <= 12) & (a != b), None)):
            at = c.first_row(mask)
            if at is None:
                continue
            text = str(c.text[c.codes[at]])
            if found is None:
                ambiguous_at.append((is_identifier(name), at, name, text))
            else:
                found.append((at, name, text))
    if md_at and dm_at:
        (r1, c1, v1), (r2, c2, v2) = min(md_at), min(dm_at)
        return None, [Finding(
            "error", source, NOWHERE,
            f"dates in {source} are written both month/day (row {rows[r1]}, column '{c1}': {shown(c1, v1)}) and "
            f"day/month (row {rows[r2]}, column '{c2}': {shown(c2, v2)}): set its date_format to MM/DD/YYYY or "
            "DD/MM/YYYY in practice.json and correct the dates written the other way", MIXED_DATE_ORDER)]
    if md_at or dm_at:
        return ("md" if md_at else "dm"), []
    if ambiguous_at:  # the example is a date a person may see (not a date of birth)
        hidden, at, name, text = min(ambiguous_at)
        example = text if not hidden and looks_like(name, text) else "01/02/2026"
        return None, [Finding(
            "error", source, Location(row=int(rows[at]), column=name),
            f"dates such as {example} could be month/day or day/month and no date in {source} settles it: "
            "set its date_format to MM/DD/YYYY or DD/MM/YYYY in practice.json", AMBIGUOUS_DATES)]
    return None, []


def _dates(cells: _DateCells, order: str | None, index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """`(dates, bad)` of one column read in the file's order (see `_date_order`). An ambiguous date in a
    file whose order is not settled is left empty and not reported again (the file's finding covers it)."""
    a, b, last = cells.month, cells.day, cells.year_last
    swap = last & (a > 12) if order is None else last if order == "dm" else np.zeros(len(a), dtype=bool)
    month, day = np.where(swap, b, a), np.where(swap, a, b)
    undecided = (last & (a <= 12) & (b <= 12) & (a != b)) if order is None else np.zeros(len(a), dtype=bool)
    refused = last if order == "ymd" else np.zeros(len(a), dtype=bool)
    keep = (cells.year > 0) & cells.time_ok & ~undecided & ~refused
    parts = pd.DataFrame({"year": np.where(keep, cells.year, 2000), "month": month, "day": day})
    parsed = pd.to_datetime(parts, errors="coerce").where(keep)
    per_value = np.append(parsed.to_numpy().astype(DATE_DTYPE), np.datetime64("NaT"))
    bad_value = np.append(parsed.isna().to_numpy() & ~undecided, False)
    return (pd.Series(per_value[cells.codes], index=index, dtype=DATE_DTYPE),
            pd.Series(bad_value[cells.codes], index=index))


def _parse_dates(values: pd.Series, date_format: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Dates of one column on its own (its own day/month order): `(dates, bad)`; see `from_frame`."""
    if values.dtype.kind == "M":
        return _native_dates(values), pd.Series(False, index=values.index)
    cells = _date_cells(values)
    order = date_order(date_format) if date_format else _date_order({"": cells}, np.arange(len(values)), "")[0]
    return _dates(cells, order, values.index)


def _native_dates(values: pd.Series) -> pd.Series:
    if getattr(values.dt, "tz", None) is not None:  # the timestamp's own calendar date
        values = values.dt.tz_localize(None)
    return values.dt.normalize().astype(DATE_DTYPE)


def _as_code(values: pd.Series) -> pd.Series:
    """Codes as text; spreadsheet numbers that are whole (99213.0) become '99213'."""
    if _is_text(values):  # already stripped by from_frame
        return values
    obj = values.astype(object)

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return pd.NA
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (dt.datetime, pd.Timestamp)):
            return v.strftime("%Y-%m-%d")
        s = str(v).strip()
        return s if s else pd.NA

    return obj.map(one).astype("str")


_MAX_COUNT = 10**9
"""Counts (days, line and sequence numbers) of this size or more are bad values."""


def from_frame(
    name: str, raw: pd.DataFrame, source: str | None = None, first_row: int = 2,
    typed: dict[str, pd.Series] | None = None, date_format: str | None = None,
) -> tuple[pd.DataFrame, list[Finding]]:
    """Validate and type a raw table whose headers are already canonical names.

    `first_row` is the spreadsheet row number of the first data row (2: header on row 1), so
    findings point at the row a person sees. Every row is kept; a bad cell becomes NA (0 for a
    required amount) and is reported. Columns not in the spec are ignored. `typed` holds columns a
    reader already derived in canonical form (e.g. a balance in cents); they are used as they are.

    Dates are read as ISO dates and timestamps (`2026-01-23`, `2026-01-23T08:19:49Z`: the timestamp's own
    calendar date, no time-zone conversion), `20260123`, `2026/01/23`, dates with the year last
    (`1/2/2026`, `01-02-26`, `23.01.2026`, with or without a time), English month names (`23 Jan 2026`,
    `Jan 23, 2026`) and spreadsheet date cells. Whether a
    year-last date is month/day or day/month is decided once for the file, over all its date columns
    (see `_date_order`); `date_format` (`MM/DD/YYYY`, `DD/MM/YYYY`, `YYYY-MM-DD`; see `date_order`), when
    given, is the only order accepted, and a date written otherwise is reported.
    """
    table = TABLES[name]
    source = source or name
    findings: list[Finding] = []
    missing = [c for c in table.required if c not in raw.columns and c not in (typed or {})]
    for c in missing:
        findings.append(Finding("error", source, Location(column=c), f"required column '{c}' is missing",
                                MISSING_COLUMN))
    # row numbers follow the raw frame's integer index (0 = first data row), so rows a reader
    # skipped (blank lines) do not shift the numbers a person sees
    if pd.api.types.is_integer_dtype(raw.index.dtype):
        rows = pd.Series(raw.index.to_numpy() + first_row, index=raw.index)
    else:
        rows = pd.Series(np.arange(first_row, first_row + len(raw)), index=raw.index)
    out: dict[str, pd.Series] = {}

    def report(mask: pd.Series, column: str, why: str, values: pd.Series | None = None) -> None:
        code = "empty value" if values is None else "bad value"
        for idx in mask[mask].index:
            value = "" if values is None else shown(column, values[idx]) + " "
            findings.append(Finding("error", source, Location(row=int(rows[idx]), column=column),
                                    f"{value}{why}".strip(), code))

    def stripped(values: pd.Series) -> pd.Series:
        if _is_text(values):  # strip once; empty text is a missing value
            values = values.str.strip()
            values = values.where(values != "")
        return values

    order = date_order(date_format) if date_format else None
    dates: dict[str, _DateCells] = {}
    cleaned: dict[str, pd.Series] = {}
    for col in table.columns:
        if col.kind == Kind.DATE and col.name in raw.columns and not (typed and col.name in typed):
            cleaned[col.name] = stripped(raw[col.name])
            if cleaned[col.name].dtype.kind != "M":
                dates[col.name] = _date_cells(cleaned[col.name])
    if not date_format and dates:
        order, more = _date_order(dates, rows.to_numpy(), source)
        findings += more
    not_a_date = "is not a date" if not date_format else f"is not a date in the format {date_format} (date_format)"

    for col in table.columns:
        if col.name not in raw.columns and col.name not in (typed or {}):
            dtype = _dtype(col)
            fill = {"int64": 0, "float64": np.nan}.get(dtype, pd.NaT if col.kind == Kind.DATE else pd.NA)
            out[col.name] = pd.Series(fill, index=raw.index, dtype=dtype)
            continue
        if typed and col.name in typed:
            out[col.name] = typed[col.name]
            continue
        values = cleaned[col.name] if col.name in cleaned else stripped(raw[col.name])
        empty_cells = _empty_mask(values)
        if col.kind == Kind.DATE:
            if col.name in dates:
                parsed, bad = _dates(dates[col.name], order, values.index)
            else:
                parsed, bad = _native_dates(values), pd.Series(False, index=values.index)
            report(bad & ~empty_cells, col.name, not_a_date, values)
        elif col.kind == Kind.MONEY:
            parsed, bad = parse_cents(values)
            report(bad & ~empty_cells, col.name, "is not an amount", values)
            if col.required:
                parsed = parsed.fillna(0).astype("int64")
        elif col.kind in (Kind.COUNT, Kind.NUMBER):
            num = pd.to_numeric(values.astype(object).where(~empty_cells, None), errors="coerce")
            bad = num.isna() & ~empty_cells
            if col.kind == Kind.COUNT:
                frac = num.notna() & (num != np.floor(num.fillna(0)))
                report(frac, col.name, "is not a whole number", values)
                big = num.notna() & ~frac & (num.abs() >= _MAX_COUNT)  # never wrapped around in int64
                report(big, col.name, "is beyond the largest count xl-ar reads", values)
                num = num.where(~frac & ~big)
                parsed = num.astype("Float64").round().astype("Int64")
            else:
                parsed = num.astype("float64")
            report(bad, col.name, "is not a number", values)
        else:
            parsed = _as_code(values)
            if col.choices:
                all_lower = set(col.choices) == {c.lower() for c in col.choices}
                lowered = parsed.str.lower() if all_lower else parsed.str.upper()
                bad = lowered.notna() & ~lowered.isin(col.choices)
                report(bad, col.name, f"is not one of {', '.join(col.choices)}", values)
                parsed = lowered.where(~bad)
        if col.required:
            report(empty_cells, col.name, "is empty; a value is required")
        out[col.name] = parsed
    frame = pd.DataFrame(out, index=raw.index)
    return frame, in_reading_order(findings)


def to_rows(name: str, frame: pd.DataFrame) -> list[_Record]:
    """Validated records of a canonical frame (for boundaries; not for hot paths)."""
    model = TABLES[name].model
    records = []
    for raw in frame.to_dict("records"):
        clean = {}
        for k, v in raw.items():
            if v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
                continue
            if isinstance(v, pd.Timestamp):
                v = v.date()
            elif isinstance(v, np.integer):
                v = int(v)
            clean[k] = v
        records.append(model(**clean))
    return records


def to_frame(name: str, rows: Iterable[_Record | dict]) -> pd.DataFrame:
    """A canonical frame from records (or dicts validated as records)."""
    model = TABLES[name].model
    checked = [r if isinstance(r, model) else model(**r) for r in rows]
    if not checked:
        return empty(name)
    data = {c: [getattr(r, c) for r in checked] for c in TABLES[name].column_names}
    return from_columns(name, data)


def validate_rows(name: str, rows: Iterable[dict]) -> tuple[list[_Record], list[Finding]]:
    """Records from dicts, each pydantic error reported as a finding (row numbers from 1)."""
    model = TABLES[name].model
    ok: list[_Record] = []
    findings: list[Finding] = []
    for i, row in enumerate(rows, start=1):
        try:
            ok.append(model(**row))
        except ValidationError as e:
            for err in e.errors():
                column = ".".join(str(p) for p in err["loc"])
                findings.append(Finding("error", name, Location(row=i, column=column), err["msg"], "bad value"))
    return ok, findings
