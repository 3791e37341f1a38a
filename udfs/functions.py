"""Worksheet functions of the Medical A/R add-in (=AR_AGING, =AR_KPIS, ...).

Thin adapters: `udfs.args` turns the Excel arguments into core inputs, one core function does the
work, and the result goes back as a number or a spilled table. A bad input returns a short message
for the cell (`AR_AGING: as_of must be a date`), never a traceback. Functions have no side effects
(Office.js retries failed calls) and take positional parameters only, so the same module runs
under classic xlwings and xlwings Server / Lite.

Each function asks only for the columns its computation reads (declared next to it in the core:
`aging.reads`, `kpi.READS`, `kpi.REMITTANCE_READS`); a missing one is named in the message.

Parameters carry no type hints on purpose: xlwings reads a UDF's type hints as converters. Their
names avoid VBA keywords (`end`), since classic xlwings writes a VBA wrapper with the same names.
"""

from __future__ import annotations

import functools

import pandas as pd
import xlwings as xw

from udfs.args import (
    ArgumentError,
    cell,
    dollars,
    flat,
    grid,
    is_empty,
    is_empty_date,
    message,
    number,
    to_date,
    to_int,
    to_numbers,
    to_table,
    to_text,
)
from xl_ar import aging, codes, denials, kpi, tables
from xl_ar.eligibility import READS as ELIGIBILITY_READS
from xl_ar.eligibility import eligible
from xl_ar.notes import READS as NOTES_READS
from xl_ar.notes import next_followups

CATEGORY = "Medical A/R"
TABLE_DOC = "The claims table with its header row, e.g. Claims[#All]"
REMITTANCES_DOC = "Remitted claims with their header row and payment_date, e.g. the Remittances sheet"
ADJUSTMENTS_DOC = "The 835 adjustments (CAS) with their header row, e.g. the Adjustments sheet"
NOTES_DOC = "The follow-up notes with their header row, e.g. Notes[#All] (the Notes sheet of Add note)"
ELIGIBILITY_DOC = "The 271 responses (the eligibility table) with their header row, e.g. EligibilityResponses[#All]"


def _cell_errors(name: str):
    """Turn any failure of the function into the message its cell shows."""

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args):
            try:
                return f(*args)
            except Exception as e:  # the cell shows a message, never a traceback
                return message(name, e)

        return wrapper

    return decorate


def _aging_grid(result: aging.Aging) -> list[list]:
    labels = result.labels
    rows = [[r["group"], r["claims"], *[dollars(r[label]) for label in labels], dollars(r["total"]),
             r["pct_over_90"]] for r in result.rows().to_dict("records")]
    return grid(["group", "claims", *labels, "total", "% over 90"], rows)


@xw.func(category=CATEGORY)
@xw.arg("claims", ndim=2, doc=TABLE_DOC)
@xw.arg("as_of", doc="As-of date, e.g. TODAY()")
@xw.arg("group_by", doc="payer, payer_class, responsibility or none (default)")
@xw.arg("basis", doc="service_date (default), billed_date or last_activity_date")
@xw.arg("buckets", ndim=1, doc="Bucket edges in days, e.g. {0,30,60,90,120} (the default)")
@_cell_errors("AR_AGING")
def ar_aging(claims, as_of, group_by=None, basis=None, buckets=None):
    """Aging of open balances: a row per group with bucket columns (billed A/R), total and % over 90;
    then the total, unbilled, A/R, future-dated, credit-balance and zero-balance rows."""
    by, on = to_text(group_by, "none"), to_text(basis, "service_date")
    frame = to_table(claims, "claims", "claims", reads=aging.reads(by, on))
    result = aging.aging(frame, to_date(as_of, "as_of"), group_by=by, basis=on, edges=to_numbers(buckets, "buckets"))
    return _aging_grid(result)


@xw.func(category=CATEGORY)
@xw.arg("dates", ndim=1, doc="Dates to put in buckets (a column)")
@xw.arg("as_of", doc="As-of date, e.g. TODAY()")
@xw.arg("buckets", ndim=1, doc="Bucket edges in days, e.g. {0,30,60,90,120} (the default)")
@_cell_errors("AR_BUCKET")
def ar_bucket(dates, as_of, buckets=None):
    """The aging bucket of each date ('31-60'); 'future' after the as-of date, empty when blank."""
    parsed = [None if is_empty_date(v) else to_date(v, "dates") for v in flat(dates)]
    labels = aging.bucket_label_of(pd.Series(parsed, dtype="datetime64[s]"), to_date(as_of, "as_of"),
                                   to_numbers(buckets, "buckets"))
    return [[label] for label in labels]


@xw.func(category=CATEGORY)
@xw.arg("claims", ndim=2, doc=TABLE_DOC)
@xw.arg("as_of", doc="As-of date, e.g. TODAY()")
@xw.arg("lookback_months", doc="Months of charges averaged (default 3)")
@_cell_errors("AR_DAYS_IN_AR")
def ar_days_in_ar(claims, as_of, lookback_months=None):
    """Days in A/R = A/R excluding credit balances / average daily gross charges over the look-back
    (MGMA)."""
    frame = to_table(claims, "claims", "claims", reads=kpi.READS["days_in_ar"])
    months = to_int(lookback_months, "lookback_months", 3)
    return number(kpi.days_in_ar(frame, to_date(as_of, "as_of"), months),
                  f"no charges with a date of service in the {months} months before as_of")


@xw.func(category=CATEGORY)
@xw.arg("claims", ndim=2, doc=TABLE_DOC)
@xw.arg("as_of", doc="As-of date, e.g. TODAY()")
@xw.arg("days", doc="Age limit in days from the date of service, e.g. 90")
@xw.arg("group_by", doc="Optional: payer, payer_class or responsibility for one row per group")
@_cell_errors("AR_PCT_OVER")
def ar_pct_over(claims, as_of, days, group_by=None):
    """Share of billed A/R older than `days` days from the date of service (HFMA AR-1); a number,
    or a table by group."""
    when = to_date(as_of, "as_of")
    limit = to_int(days, "days")
    by = to_text(group_by, "none")
    if by != "none" and by not in aging.GROUP_COLUMN:
        raise ArgumentError("group_by must be payer, payer_class, responsibility or none")
    column = aging.GROUP_COLUMN.get(by)
    frame = to_table(claims, "claims", "claims",
                     reads=kpi.READS["pct_ar_over"] | ((column,) if column else ()))
    if by == "none":
        return number(kpi.pct_ar_over(frame, when, limit), "no billed A/R")
    table = kpi.pct_ar_over_by(frame, when, limit, frame[column])
    return grid([by, "billed A/R", f"A/R over {limit}", f"% over {limit}"],
                [[r.group, dollars(r.billed_ar), dollars(r.ar_over), r.pct] for r in table.itertuples()])


@xw.func(category=CATEGORY)
@xw.arg("claims", ndim=2, doc=TABLE_DOC)
@xw.arg("start_date", doc="First date of service of the window")
@xw.arg("end_date", doc="Last date of service of the window")
@xw.arg("adjustments", ndim=2, doc="Optional: " + ADJUSTMENTS_DOC + ", for exports without write-offs")
@_cell_errors("AR_NCR")
def ar_ncr(claims, start_date, end_date, adjustments=None):
    """Net collection rate = payments / (charges - contractual adjustments) for claims with a date
    of service in the window (MGMA), and in the cell to its right where the contractual adjustments
    come from: the export's write-offs, the 835 adjustments, or 'upper bound' when neither is known."""
    frame = to_table(claims, "claims", "claims", reads=kpi.READS["net_collection_rate"])
    remitted = None
    if not (adjustments is None or is_empty(adjustments) or adjustments == 0):
        remitted = {"adjustments": to_table(adjustments, "adjustments", "adjustments",
                                            reads=kpi.REMITTANCE_READS["adjustments_contractual"])}
    rate = kpi.net_collection_rate(frame, to_date(start_date, "start_date"), to_date(end_date, "end_date"), remitted)
    return [[number(rate.rate, "no charges net of contractual adjustments in the window"), rate.note]]


@xw.func(category=CATEGORY)
@xw.arg("claims", ndim=2, doc=TABLE_DOC)
@xw.arg("start_date", doc="First date of service of the window")
@xw.arg("end_date", doc="Last date of service of the window")
@_cell_errors("AR_GCR")
def ar_gcr(claims, start_date, end_date):
    """Gross collection rate = payments / gross charges for claims with a date of service in the
    window (MGMA)."""
    frame = to_table(claims, "claims", "claims", reads=kpi.READS["gross_collection_rate"])
    return number(kpi.gross_collection_rate(frame, to_date(start_date, "start_date"), to_date(end_date, "end_date")),
                  "no charges in the window")


@xw.func(category=CATEGORY)
@xw.arg("claims", ndim=2, doc=TABLE_DOC)
@xw.arg("remittances", ndim=2, doc=REMITTANCES_DOC)
@xw.arg("adjustments", ndim=2, doc=ADJUSTMENTS_DOC)
@xw.arg("start_date", doc="First billed date of the window")
@xw.arg("end_date", doc="Last billed date of the window")
@xw.arg("by", doc="count (default): one number; table: count and dollar bases")
@_cell_errors("AR_DENIAL_RATE")
def ar_denial_rate(claims, remittances, adjustments, start_date, end_date, by=None):
    """Initial denial rate (HFMA): claims billed in the window denied in full on their first
    adjudication (CLP02 4, or nothing paid with a denial reason on every line) / claims billed in the
    window; by count, or a table with the count and dollar bases and the claims not adjudicated yet."""
    frame = to_table(claims, "claims", "claims", reads=kpi.READS["initial_denial_rate"])
    loops = kpi.REMITTANCE_READS["claim_payments"] | ("payment_date",)  # no payments table here: dates on the rows
    remitted = {
        "claim_payments": to_table(remittances, "claim_payments", "remittances", extra_dates=("payment_date",),
                                   reads=loops),
        "adjustments": to_table(adjustments, "adjustments", "adjustments", reads=kpi.REMITTANCE_READS["adjustments"]),
    }
    rate = kpi.initial_denial_rate(frame, remitted, to_date(start_date, "start_date"), to_date(end_date, "end_date"))
    basis = to_text(by, "count")
    if basis == "count":
        return number(rate.by_count, "no claims billed in the window")
    if basis != "table":
        raise ArgumentError("by must be count or table")
    return grid(["basis", "denied", "billed", "rate", "not adjudicated yet"], [
        ["count", rate.claims_denied, rate.claims_billed, rate.by_count, rate.claims_not_adjudicated],
        ["dollars", dollars(rate.dollars_denied), dollars(rate.dollars_billed), rate.by_dollars, ""],
    ])


@xw.func(category=CATEGORY)
@xw.arg("claims", ndim=2, doc=TABLE_DOC)
@xw.arg("as_of", doc="As-of date, e.g. TODAY()")
@_cell_errors("AR_KPIS")
def ar_kpis(claims, as_of):
    """Every KPI of the claims ledger as a two-column table (A/R with its unbilled part, future-dated
    balances, days in A/R, % over 90 and 120, collection rates, credit balances), then the basis of the
    net collection rate ('upper bound' when the export shows no write-offs)."""
    frame = to_table(claims, "claims", "claims", reads=kpi.KPIS_READS)
    values = kpi.kpis(frame, to_date(as_of, "as_of"))
    rows = [[kpi.KPI_NAMES[k], dollars(v) if k in kpi.MONEY_KPIS else v] for k, v in values.items()]
    rows += [[f"{kpi.KPI_NAMES[k]}: basis", note] for k, note in values.notes.items()]
    return grid(["KPI", "value"], rows)


@xw.func(category=CATEGORY)
@xw.arg("code", doc="A claim adjustment reason code (CARC), e.g. 50 or CO-50")
@_cell_errors("AR_CARC")
def ar_carc(code):
    """Our label, denial category and suggested next action of a CARC (one row, three cells)."""
    if is_empty(code):
        raise ArgumentError("code is required")
    text = str(int(code)) if isinstance(code, float) and code.is_integer() else str(code).strip()
    group, _, text = text.rpartition("-")  # CO-50 (the group decides the action) or 50
    label, category, action = codes.carc(text, group.strip().upper() or None)
    return [[label, category, action]]


@xw.func(category=CATEGORY)
@xw.arg("payer_id", doc="The payer id, as in the fee schedule")
@xw.arg("procedure_code", doc="CPT or HCPCS code")
@xw.arg("modifier", doc="Optional modifier(s), colon separated")
@xw.arg("units", doc="Optional units (default 1)")
@xw.arg("fee_schedule", ndim=2, doc="The fee schedule table with its header row")
@_cell_errors("AR_EXPECTED")
def ar_expected(payer_id, procedure_code, modifier=None, units=None, fee_schedule=None):
    """Expected allowed amount from the fee schedule: the contracted rate (for the modifier, else
    the base rate) x units."""
    if fee_schedule is None or is_empty(fee_schedule) or fee_schedule == 0:
        raise ArgumentError("fee_schedule is required (the fee schedule table with its header row)")
    fees = to_table(fee_schedule, "fee_schedule", "fee_schedule")
    code = str(int(procedure_code)) if isinstance(procedure_code, (int, float)) else str(procedure_code).strip()
    line = pd.DataFrame({"payer_id": [str(payer_id).strip()], "procedure_code": [code],
                         "modifiers": [None if is_empty(modifier) or modifier == 0 else str(modifier).strip()],
                         "units": [1.0 if is_empty(units) or units == 0 else float(units)], "claim_id": ["-"]})
    cents = denials.expected_allowed(line, fees)[0]
    if cents != cents:
        raise ArgumentError(f"no rate for {line.payer_id[0]} {code} in the fee schedule")
    return cents / 100


@xw.func(category=CATEGORY)
@xw.arg("payer_id", doc="The payer id, as in the payers table")
@xw.arg("from_date", doc="Date of service (timely filing) or remittance date (appeal)")
@xw.arg("kind", doc="timely_filing (default) or appeal")
@xw.arg("payers", ndim=2, doc="The payers table with its header row")
@_cell_errors("AR_DEADLINE")
def ar_deadline(payer_id, from_date, kind=None, payers=None):
    """Filing or appeal deadline: the date plus the payer's limit in days (its own, else the
    default of its class: Medicare 365 days to file and 120 to appeal)."""
    if payers is None or is_empty(payers) or payers == 0:
        raise ArgumentError("payers is required (the payers table with its header row)")
    table = to_table(payers, "payers", "payers")
    which = to_text(kind, "timely_filing")
    if which not in ("timely_filing", "appeal"):
        raise ArgumentError("kind must be timely_filing or appeal")
    payer = str(payer_id).strip()
    if payer not in set(table.payer_id):
        raise ArgumentError(f"payer '{payer}' is not in the payers table")
    start = pd.Series([pd.Timestamp(to_date(from_date, "from_date"))])
    when = denials.deadline(pd.Series([payer]), start, which, table)[0]
    if pd.isna(when):
        raise ArgumentError(f"payer '{payer}' has no {which.replace('_', ' ')} limit")
    return when.date()


def _member_text(value: object) -> str | None:
    """A member id cell as text: a number typed without letters loses no digits and no `.0`; empty is None."""
    if is_empty_date(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def _one_or_many(values: list, size: int, name: str) -> list:
    """One value for every row (a single cell), or one per row (a column as long as the others)."""
    if len(values) == 1:
        return values * size
    if len(values) != size:
        raise ArgumentError(f"{name} must be one cell or a column of {size} cells (it has {len(values)})")
    return values


@xw.func(category=CATEGORY)
@xw.arg("member_id", ndim=1, doc="The member id of the insurance card: one cell or a column")
@xw.arg("service_date", ndim=1, doc="The date of service: one cell, or a column as long as member_id")
@xw.arg("eligibility", ndim=2, doc=ELIGIBILITY_DOC)
@_cell_errors("AR_ELIGIBLE")
def ar_eligible(member_id, service_date, eligibility):
    """Whether the member is covered on the date of service, from the latest 271 responses: active,
    inactive or unknown, and in the cell to its right why (the plan, the coverage dates, the payer's
    rejection reason); one row per member id. An empty row stays empty."""
    responses = to_table(eligibility, "eligibility", "eligibility", reads=ELIGIBILITY_READS)
    for column in ELIGIBILITY_READS.columns:  # an optional column the range lacks: empty in every row
        if column not in responses.columns:
            responses[column] = tables.empty("eligibility")[column].reindex(responses.index)
    members = [_member_text(v) for v in flat(member_id)]
    dates = [None if is_empty_date(v) else to_date(v, "service_date") for v in flat(service_date)]
    size = max(len(members), len(dates))
    members = _one_or_many(members, size, "member_id")
    dates = _one_or_many(dates, size, "service_date")
    answer = eligible(responses, members, pd.Series(dates, dtype="datetime64[s]"))
    out = [[status, reason] for status, reason in zip(answer["status"], answer["reason"], strict=True)]
    for i, (m, d) in enumerate(zip(members, dates, strict=True)):
        if d is None:  # an empty row stays empty; a member without a date cannot be answered
            out[i] = ["", ""] if m is None else ["unknown", "no date of service"]
    return out


@xw.func(category=CATEGORY)
@xw.arg("claim_id", ndim=1, doc="The claim id: one cell or a column")
@xw.arg("notes", ndim=2, doc=NOTES_DOC)
@_cell_errors("AR_NEXT_FOLLOWUP")
def ar_next_followup(claim_id, notes):
    """The claim's next follow-up date (the tickler): the next date of its latest note; empty when the claim has
    no note or its latest note sets no date. A column of claim ids gives one row per claim."""
    frame = to_table(notes, "notes", "notes", reads=NOTES_READS)  # without next_followup: no tickler anywhere
    ticklers = next_followups(frame)
    claims = [_member_text(v) for v in flat(claim_id)]
    dates = [cell(ticklers.get(c)) if c is not None else "" for c in claims]
    if len(dates) == 1:
        return dates[0]
    return [[d] for d in dates]
