"""Three-way reconciliation: what the payer says it paid (835), what was posted (PM), what arrived
(bank), plus every claim that was denied, paid wrong or never answered.

Matching rules:
- 835 -> claims ledger: CLP01 is the claim id (the patient control number of the 837). A
  remitted claim not in the ledger is `unmatched_remit`. Service lines match the billed lines by
  REF*6R line control number, else by procedure code and date of service (then units), so a payer
  that drops or reorders modifiers still matches; the billed modifiers then price the line.
- 835 -> postings: per claim and check (TRN02 trace number), amounts equal to the cent:
  `unposted_payment`, `posting_variance`, `posted_without_era`. Patient (self-pay) postings are
  not payer money and are left out. A payment dated within `posting_grace_days` of the as-of date
  may simply not be posted yet. A PLB take-back (WO, FB, 72) whose reference names a claim
  (`recoupments`) counts on that claim and the check that carries it, as a negative payment; a
  posting without a trace number matches a trace-less 835 payment of the same claim.
- 835 -> bank: BPR02 to the credit line with the same trace number, whatever its description; a
  credit without a trace matches a payment of the same amount dated from 2 days before to
  `deposit_window_days` after the payment, unless its description says it is not a payer's money
  (card settlements, transfers, interest, cash: `bank.OTHER_MONEY`, never exceptions). Unmatched:
  `era_without_deposit`, `deposit_without_era` (payer EFT, check or traced credit),
  `unidentified_deposit` (no trace, a description no rule recognises); `deposit_variance`. Debits
  are not deposits. No credit is silently left out.
- A payment seen twice (same payer, trace number and amount), whether re-sent in a new interchange
  or re-delivered byte for byte under another file name, is one payment: the later copies are
  `duplicate_era` and are not counted again (`remittances.counted_once`). Reversals (CLP02 = 22)
  cancel the loop whose amounts they negate and net against it and the correction; the adjudication
  that stands (`remittances.standing_adjudications`) decides a claim's outcome, whatever the order
  of the loops in the files.

Outcomes of the adjudication that stands: `denied` (CLP02 = 4, or nothing paid and all of it denied),
`partially_denied` (paid, with denial adjustments), both while the ledger still shows a balance, with
the action of their main CARC under its group (CO and PI never bill the patient); `underpaid` /
`overpaid` (allowed vs the expected allowed amount beyond $5 and 2%, docs/pricing.md); `reversal`;
`forwarded_unpaid` (forwarded to the next payer, CLP02 19-21 or 23, and still open after
`forwarded_days`). From the ledger: `credit_balance` (unless the payers already recouped it),
`no_response` (billed more than `no_response_days` ago, no remittance), `unbilled_claim` (never
billed, its timely-filing limit within `unbilled_warning_days` or past).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar import balances, bank, claim_status, codes, denials, kpi, secondary, tables
from xl_ar.kinds import BY_CODE, CODES, KINDS, DeadlineRule, needs_new_claim
from xl_ar.money import for_people as _money
from xl_ar.remittances import (
    REVERSAL,
    assign_payers,
    counted_once,
    link_reversals,
    original_payments,
    standing_adjudications,
)

COLUMNS = tuple(tables.TABLES["exceptions"].column_names)
"""Columns of the exceptions table (`tables.TABLES["exceptions"]`; amounts in cents, variance = actual - expected)."""
_PLAIN_TEXT = tuple(c.name for c in tables.TABLES["exceptions"].columns
                    if c.kind in (tables.Kind.TEXT, tables.Kind.CODE) and not c.required)
"""Optional text columns, handed out as plain Python values (None when empty)."""


@dataclass(frozen=True)
class Rules:
    """Tolerances and defaults of the reconciliation (all configurable)."""

    posting_grace_days: int = 3
    """A payment this recent may not be posted yet."""
    deposit_grace_days: int = 7
    """A payment (or deposit) this recent may not have its deposit (or remittance) yet."""
    deposit_window_days: int = 10
    """A deposit without a trace number matches a payment of its amount up to this many days later."""
    no_response_days: int = 30
    """Days after billing without any remittance that make a claim a `no_response`."""
    variance_min_cents: int = 500
    """Under- and overpayments are reported beyond this amount ($5) ..."""
    variance_min_share: float = 0.02
    """... and beyond this share of the expected allowed amount (2%)."""
    mpr: tuple[float, ...] | None = (1.0, 0.5)
    """The practice's default multiple-procedure reduction (shares of the fee for the first, second, ...
    procedure subject to it, the last repeating): 100% then 50%. A payer's own `mpr_rates` overrides
    it; None turns it off for payers without their own (docs/pricing.md)."""
    forwarded_days: int = 30
    """Days after a payer forwarded a claim to the next payer (CLP02 19, 20, 21, 23) that make the still
    open claim a `forwarded_unpaid`."""
    unbilled_warning_days: int = 30
    """A claim never billed is an `unbilled_claim` once its timely-filing limit is this close, or past."""
    acknowledgement_days: int = 7
    """Days after billing without a 277CA or claim status that make a claim `unacknowledged` (only for a
    practice that receives acknowledgements: claims billed since the first claim acknowledged)."""
    refund_days: int = 60
    """Days to refund a credit to a payer other than Medicare and Medicaid, or to a patient, from the day it
    was identified (Medicare and Medicaid: always `denials.REFUND_DAYS`, 60); the policy's `refund_days`."""


@dataclass
class Reconciliation:
    """The exceptions found, one row each (see `COLUMNS`), and counts by kind."""

    exceptions: pd.DataFrame
    as_of: dt.date
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        counts = self.exceptions["kind"].value_counts()
        return {k: int(counts.get(k, 0)) for k in CODES}

    def worklist(self) -> pd.DataFrame:
        """Every exception that needs work, highest priority first, with its rank."""
        work = self.exceptions[self.exceptions["priority"] > 0]
        work = work.sort_values(["priority", "kind", "claim_id", "trace_number"], ascending=[False, True, True, True],
                                kind="stable", na_position="last").reset_index(drop=True)
        work.insert(0, "rank", np.arange(1, len(work) + 1))
        return work


@dataclass(frozen=True)
class Context:
    """What every stage of a reconciliation reads: the practice's tables, the remittances with each
    payment once, the rules and the as-of date. Stages only read it and return exceptions."""

    ledger: pd.DataFrame
    """The claims, indexed by claim_id."""
    postings: pd.DataFrame
    deposits: pd.DataFrame
    payers: pd.DataFrame | None
    claim_lines: pd.DataFrame | None
    fee_schedule: pd.DataFrame | None
    payments: pd.DataFrame
    """Each payment once (later copies set aside), payer assigned, indexed by payment_id."""
    duplicates: pd.DataFrame
    """The later copies of a payment, with `original_file`: the file of the payment they repeat."""
    claim_payments: pd.DataFrame
    """Claims of `payments` that are in the ledger, with the payment's trace_number, payment_date and
    payer (`payment_payer`)."""
    unmatched: pd.DataFrame
    """Claims of `payments` that are not in the ledger (the same columns)."""
    line_payments: pd.DataFrame
    adjustments: pd.DataFrame
    provider_adjustments: pd.DataFrame
    remarks: pd.DataFrame
    """Remark codes (RARC) of `payments`, claim and line level."""
    remitted_claims: pd.Series
    """The claim id of every claim any 835 mentions, copies included."""
    rules: Rules
    as_of: pd.Timestamp
    claim_status: pd.DataFrame | None = None
    """Acknowledgements and claim status (999, 277CA, 277) the practice received, when it has any."""


def reconcile_tables(tables: Mapping[str, pd.DataFrame], remittances: dict[str, pd.DataFrame], as_of: dt.date,
                     rules: Rules | None = None) -> Reconciliation:
    """`reconcile` with the practice's tables by name (claims, postings, deposits, payers,
    claim_lines, fee_schedule), as a practice folder or a workbook provides them."""
    return reconcile(tables["claims"], remittances, tables["postings"], tables["deposits"], as_of,
                     tables.get("payers"), tables.get("claim_lines"), tables.get("fee_schedule"), rules,
                     tables.get("claim_status"))


def reconcile(claims: pd.DataFrame, remittances: dict[str, pd.DataFrame], postings: pd.DataFrame,
              deposits: pd.DataFrame, as_of: dt.date, payers: pd.DataFrame | None = None,
              claim_lines: pd.DataFrame | None = None, fee_schedule: pd.DataFrame | None = None,
              rules: Rules | None = None, claim_status: pd.DataFrame | None = None) -> Reconciliation:
    """Every exception as of `as_of` (canonical tables in, exceptions table out)."""
    ctx = context(claims, remittances, postings, deposits, as_of, payers, claim_lines, fee_schedule, rules)
    if claim_status is not None and len(claim_status):
        ctx = dataclasses.replace(ctx, claim_status=claim_status)
    parts = [stage(ctx) for stage in (_duplicate_eras, _unmatched_remits, _postings, _deposits, _outcomes,
                                      _secondary_ready, _ledger_exceptions)]
    exceptions = _prioritize(ctx, _concat(parts))
    stats = {"payments": len(ctx.payments) + len(ctx.duplicates), "duplicate_payments": len(ctx.duplicates),
             "claims_remitted": len(ctx.claim_payments), "postings": len(postings), "deposits": len(deposits)}
    return Reconciliation(exceptions, as_of, stats)


def context(claims: pd.DataFrame, remittances: dict[str, pd.DataFrame], postings: pd.DataFrame,
            deposits: pd.DataFrame, as_of: dt.date, payers: pd.DataFrame | None = None,
            claim_lines: pd.DataFrame | None = None, fee_schedule: pd.DataFrame | None = None,
            rules: Rules | None = None) -> Context:
    """The `Context` of a reconciliation: one payment per (payer, trace, amount), the later copies
    set aside and not counted; claim payments split into ledger claims and unknown ones."""
    payments = assign_payers(remittances["payments"], payers)
    ordered = payments.sort_values(["payment_date", "source_file", "payment_id"], kind="stable", na_position="last")
    original = original_payments(payments).reindex(ordered.index)
    dup_mask = original.notna().to_numpy()
    duplicates = ordered[dup_mask].assign(
        original_file=payments.source_file.reindex(original[dup_mask].to_numpy()).to_numpy())
    once = counted_once({**remittances, "payments": payments})
    kept = ordered[~dup_mask].reset_index(drop=True)
    cp = once["claim_payments"].merge(
        kept[["payment_id", "trace_number", "payment_date", "payer_id"]].rename(columns={"payer_id": "payment_payer"}),
        on="payment_id", how="left")
    ledger = claims.set_index("claim_id", drop=False)
    known = cp.claim_id.isin(ledger.index)
    return Context(
        ledger=ledger, postings=postings, deposits=deposits, payers=payers, claim_lines=claim_lines,
        fee_schedule=fee_schedule, payments=kept.set_index(kept.payment_id.rename(None)), duplicates=duplicates,
        claim_payments=cp[known], unmatched=cp[~known], line_payments=once["line_payments"],
        adjustments=once["adjustments"], provider_adjustments=once["provider_adjustments"],
        remarks=once.get("remarks", tables.empty("remarks")),
        remitted_claims=remittances["claim_payments"].claim_id, rules=rules or Rules(), as_of=pd.Timestamp(as_of))


# -- building exceptions --------------------------------------------------------------------------

def _exceptions(kind: str, **columns) -> pd.DataFrame:
    """Exceptions of one kind, built through the exceptions table's schema (an unknown column is an
    error); the next action is the kind's own unless given (denials take their CARC's)."""
    n = len(columns["reason"])
    if "next_action" not in columns:
        columns["next_action"] = np.full(n, BY_CODE[kind].next_action, dtype=object)
    return tables.from_columns("exceptions", {"kind": np.full(n, kind, dtype=object), **columns})


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    found = [p for p in parts if len(p)]
    return pd.concat(found, ignore_index=True) if found else tables.empty("exceptions")


def _day(dates) -> np.ndarray:
    """Dates as `YYYY-MM-DD` text (vectorised)."""
    return pd.Series(pd.to_datetime(np.asarray(dates))).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)


def _words(*parts: str | np.ndarray | pd.Series) -> np.ndarray:
    """Row by row, the text of literal strings and columns put together (a vectorised f-string)."""
    out: str | np.ndarray = ""
    for part in parts:
        out = out + (part if isinstance(part, str) else np.asarray(part, dtype=object).astype(str).astype(object))
    return out


def _self_pay_ids(payers: pd.DataFrame | None) -> set[str]:
    if payers is None or payers.empty:
        return {"SELF"}
    return set(payers.payer_id[payers.payer_class == "self_pay"])


# -- stages -----------------------------------------------------------------------------------------

def _duplicate_eras(ctx: Context) -> pd.DataFrame:
    """Later copies of a payment: flagged, not counted again."""
    d = ctx.duplicates
    return _exceptions(
        "duplicate_era", payment_id=d.payment_id, trace_number=d.trace_number, payer_id=d.payer_id,
        expected=np.zeros(len(d), dtype=np.int64), actual=d.amount, variance=d.amount,
        reason=_words("same payer, trace number and amount as ", d.original_file.fillna("an earlier file")))


def _unmatched_remits(ctx: Context) -> pd.DataFrame:
    """835 claims whose claim id is not in the ledger."""
    um = ctx.unmatched
    return _exceptions(
        "unmatched_remit", claim_id=um.claim_id, payment_id=um.payment_id, trace_number=um.trace_number,
        payer_id=um.payment_payer, expected=np.zeros(len(um), dtype=np.int64), actual=um.paid, variance=um.paid,
        reason=_words("paid ", _money(um.paid), " for a claim id that is not in the ledger"))


TAKE_BACK_REASONS = ("WO", "FB", "72")
"""PLB03-1 reasons that take money back from a claim: WO overpayment recovery, FB forwarding balance,
72 authorized return."""


def recoupments(ctx: Context) -> pd.DataFrame:
    """Money a payer took back from a claim at the provider level: each PLB amount with reason WO, FB
    or 72 whose PLB03-2 reference names a ledger claim, by the payer claim number (CLP07) of one of its
    remitted loops dated on or before the PLB's payment (the payer's own first), else by its claim id
    (CLP01); an FB only on a claim without a reversal. One row each: claim_id, payment_id,
    trace_number, payment_date and payer_id of the payment that carries the PLB, reason_code, and
    amount = -PLB amount (negative: money taken back). A PLB whose reference names no claim stays
    provider-level and is not here."""
    plb = ctx.provider_adjustments
    plb = plb[plb.reason_code.astype("str").str.strip().str.upper().isin(TAKE_BACK_REASONS).to_numpy()
              & plb.reference.notna().to_numpy()]
    columns = ["claim_id", "payment_id", "trace_number", "payment_date", "payer_id", "reason_code", "amount"]
    if plb.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    pay = ctx.payments
    found = pd.DataFrame({
        "_plb": np.arange(len(plb)), "reference": plb.reference.astype("str").str.strip().to_numpy(),
        "payment_id": plb.payment_id.to_numpy(), "trace_number": pay.trace_number.reindex(plb.payment_id).to_numpy(),
        "payment_date": pay.payment_date.reindex(plb.payment_id).to_numpy(),
        "payer_id": pay.payer_id.reindex(plb.payment_id).to_numpy(),
        "reason_code": plb.reason_code.astype("str").str.strip().str.upper().to_numpy(),
        "amount": -plb.amount.to_numpy(dtype=np.int64)})
    cp = ctx.claim_payments
    loops = cp[cp.payer_claim_id.isin(found.reference).to_numpy()]
    loops = pd.DataFrame({"reference": loops.payer_claim_id.astype("str").str.strip().to_numpy(),
                          "claim_id": loops.claim_id.to_numpy(), "_loop_date": loops.payment_date.to_numpy(),
                          "_loop_payer": loops.payment_payer.to_numpy()})
    by_number = found.merge(loops, on="reference", how="inner")
    by_number = by_number[~(by_number._loop_date > by_number.payment_date).to_numpy(dtype=bool)]
    by_number = by_number.assign(_same=(by_number._loop_payer == by_number.payer_id).fillna(False).to_numpy(bool))
    by_number = by_number.sort_values(["_plb", "_same", "_loop_date"], ascending=[True, False, False],
                                      kind="stable").drop_duplicates("_plb")
    rest = found[~found._plb.isin(by_number._plb) & found.reference.isin(ctx.ledger.index).to_numpy()]
    tied = pd.concat([by_number, rest.assign(claim_id=rest.reference)], ignore_index=True).sort_values("_plb")
    # an FB on a claim with a reversal forwards the negative balance the reversal left: that money is the
    # reversal loop's (CLP02=22, posted on its own check), not a second take-back
    reversed_claims = cp.claim_id[cp.status_code.astype("str").to_numpy() == REVERSAL]
    tied = tied[~((tied.reason_code == "FB") & tied.claim_id.isin(reversed_claims)).to_numpy()]
    return tied[columns].reset_index(drop=True)


def _postings(ctx: Context) -> pd.DataFrame:
    """835 claim payments, and the take-backs tied to claims (`recoupments`), vs PM postings, per claim
    and trace number; a payer posting without a trace number matches a trace-less 835 payment of the
    same claim."""
    cp = ctx.claim_payments
    taken = recoupments(ctx)
    lines = pd.concat([
        pd.DataFrame({"claim_id": cp.claim_id.to_numpy(), "trace_number": cp.trace_number.to_numpy(),
                      "paid": cp.paid.to_numpy(dtype=np.int64), "taken": np.zeros(len(cp), dtype=np.int64),
                      "payment_date": cp.payment_date.to_numpy(), "payment_id": cp.payment_id.to_numpy(),
                      "payer_id": cp.payment_payer.to_numpy()}),
        pd.DataFrame({"claim_id": taken.claim_id.to_numpy(), "trace_number": taken.trace_number.to_numpy(),
                      "paid": taken.amount.to_numpy(dtype=np.int64), "taken": -taken.amount.to_numpy(dtype=np.int64),
                      "payment_date": taken.payment_date.to_numpy(), "payment_id": taken.payment_id.to_numpy(),
                      "payer_id": taken.payer_id.to_numpy()}),
    ], ignore_index=True)
    lines["_trace"] = lines.trace_number.fillna("").astype(str)  # a trace-less payment matches a trace-less posting
    era = lines.groupby(["claim_id", "_trace"]).agg(
        paid=("paid", "sum"), taken=("taken", "sum"), payment_date=("payment_date", "min"),
        payment_id=("payment_id", "first"), payer_id=("payer_id", "first"))
    postings = ctx.postings
    ins = postings[~postings.payer_id.isin(_self_pay_ids(ctx.payers))]
    posted = ins.assign(_trace=ins.trace_number.fillna("").astype(str)).groupby(["claim_id", "_trace"]).agg(
        posted=("amount", "sum"), posting_payer=("payer_id", "first"))
    both = era.join(posted, how="outer").reset_index()
    both["trace_number"] = both._trace.where(both._trace != "", None)
    grace = ctx.as_of - pd.Timedelta(days=ctx.rules.posting_grace_days)
    unposted = both.paid.notna() & both.posted.isna() & (both.paid != 0) & (both.payment_date <= grace)
    variance = both.paid.notna() & both.posted.notna() & (both.paid != both.posted)
    without = both.paid.isna()
    u, v, w = both[unposted], both[variance], both[without]
    on = np.where(u.trace_number.notna(), _words(" on ", u.trace_number.fillna("")), " with no trace number")
    only_taken = (u.taken > 0) & (u.paid == -u.taken)
    untraced = w.trace_number.isna().to_numpy()
    return _concat([
        _exceptions("unposted_payment", claim_id=u.claim_id, payment_id=u.payment_id, trace_number=u.trace_number,
                    payer_id=u.payer_id, expected=u.paid.astype("int64"), actual=np.zeros(len(u), dtype=np.int64),
                    variance=(-u.paid).astype("int64"),
                    reason=np.where(only_taken,
                                    _words("the payer took back ", _money(u.taken), on, " (PLB recoupment); nothing "
                                           "posted"),
                                    _words("the 835 paid ", _money(u.paid), on,
                                           np.where(u.taken > 0, _words(" after a take-back of ", _money(u.taken)), ""),
                                           "; nothing posted"))),
        _exceptions("posting_variance", claim_id=v.claim_id, payment_id=v.payment_id, trace_number=v.trace_number,
                    payer_id=v.payer_id, expected=v.paid.astype("int64"), actual=v.posted.astype("int64"),
                    variance=(v.posted - v.paid).astype("int64"),
                    reason=_words("posted ", _money(v.posted), ", the 835 paid ", _money(v.paid),
                                  np.where(v.trace_number.notna(), _words(" on ", v.trace_number.fillna("")),
                                           " (no trace number on either)"),
                                  np.where(v.taken > 0, _words(" after a take-back of ", _money(v.taken)), ""))),
        _exceptions("posted_without_era", claim_id=w.claim_id, trace_number=w.trace_number,
                    payer_id=w.posting_payer, expected=np.zeros(len(w), dtype=np.int64),
                    actual=w.posted.astype("int64"), variance=w.posted.astype("int64"),
                    reason=np.where(untraced,
                                    _words("payer posting of ", _money(w.posted), " with no check or EFT number"),
                                    _words("posted ", _money(w.posted), " on ", w.trace_number.fillna(""),
                                           "; no 835 pays this claim on that check"))),
    ])


def _deposits(ctx: Context) -> pd.DataFrame:
    """Payments (BPR02) vs bank credit lines (debits are not deposits); no credit is left out.

    A credit that shows a trace number matches the payment of that trace, whatever its description.
    A credit without one, unless its description says it is not a payer's money (`bank.OTHER_MONEY`),
    matches a payment of its amount dated from 2 days before to `deposit_window_days` after the
    payment: recognised payer money before unknown lines, then the nearest dates, one to one.
    Unmatched after `deposit_grace_days`: a payment is `era_without_deposit`; a payer EFT, check or
    traced credit `deposit_without_era`; an unknown credit `unidentified_deposit` (its description
    may name a patient, so the reason names the bank line instead).
    """
    pay, deposits, rules = ctx.payments, ctx.deposits, ctx.rules
    payments = pay[(pay.amount > 0) & (pay.method != "NON")].reset_index(drop=True)
    credits = deposits[deposits.amount > 0].reset_index(drop=True)
    kind = bank.classify(credits.description) if len(credits) else np.array([], dtype=object)
    traced = credits.trace_number.notna().to_numpy()
    by_trace = payments.reset_index().merge(
        credits[traced].reset_index().rename(columns={"index": "dep", "trace_number": "dep_trace"}),
        left_on="trace_number", right_on="dep_trace", how="inner", suffixes=("", "_bank"))
    by_trace = by_trace.drop_duplicates("index", keep="first").drop_duplicates("dep", keep="first")
    matched_pay = set(by_trace["index"])
    matched_dep = set(by_trace["dep"])
    # fallback: credit lines that show no trace number, by amount and date
    rest_pay = payments[~payments.index.isin(matched_pay)].reset_index()
    open_dep = ~traced & ~np.isin(kind, list(bank.OTHER_MONEY)) & ~credits.index.isin(matched_dep)
    rest_dep = credits[open_dep].assign(_unknown=kind[open_dep] == "unknown").reset_index().rename(
        columns={"index": "dep"})
    pairs = rest_pay.merge(rest_dep, on="amount", suffixes=("", "_bank"))
    if len(pairs):
        delta = (pairs.deposit_date - pairs.payment_date).dt.days
        pairs = pairs[(delta >= -2) & (delta <= rules.deposit_window_days)].assign(_gap=delta.abs())
        chosen = _one_to_one(pairs, "index", "dep", ["_unknown", "_gap", "index", "dep"])
        matched_pay |= set(chosen["index"])
        matched_dep |= set(chosen["dep"])
    var = by_trace[by_trace.amount != by_trace.amount_bank]
    # a bank amount equal to the claims total of a payment with provider-level adjustments is explained
    plb = ctx.provider_adjustments.groupby("payment_id").amount.sum().reindex(var.payment_id).fillna(0).to_numpy()
    claims_total = ctx.claim_payments.groupby("payment_id").paid.sum().reindex(var.payment_id).fillna(0).to_numpy()
    explained = (plb != 0) & (claims_total == var.amount_bank.to_numpy())
    grace = ctx.as_of - pd.Timedelta(days=rules.deposit_grace_days)
    missing = payments[~payments.index.isin(matched_pay) & (payments.payment_date <= grace)]
    unmatched = ~credits.index.isin(matched_dep) & (credits.deposit_date <= grace).to_numpy()
    extra = credits[unmatched & (traced | np.isin(kind, list(bank.PAYER_KINDS)))]
    unknown = credits[unmatched & ~traced & (kind == "unknown")]
    return _concat([
        _exceptions("deposit_variance", payment_id=var.payment_id, trace_number=var.trace_number,
                    payer_id=var.payer_id, expected=var.amount, actual=var.amount_bank,
                    variance=var.amount_bank - var.amount,
                    reason=_words("bank credited ", _money(var.amount_bank), ", the 835 pays ", _money(var.amount),
                                  np.where(explained, " (the bank amount is the claims total before the "
                                                      "provider-level adjustments)", ""))),
        _exceptions("era_without_deposit", payment_id=missing.payment_id, trace_number=missing.trace_number,
                    payer_id=missing.payer_id, expected=missing.amount, actual=np.zeros(len(missing), dtype=np.int64),
                    variance=-missing.amount,
                    reason=_words(missing.method, " of ", _money(missing.amount), " dated ", _day(missing.payment_date),
                                  ": no bank deposit found")),
        _exceptions("deposit_without_era", trace_number=extra.trace_number,
                    expected=np.zeros(len(extra), dtype=np.int64), actual=extra.amount, variance=extra.amount,
                    reason=_words("bank line ", extra.deposit_id, " of ", _money(extra.amount), " on ",
                                  _day(extra.deposit_date), ": no 835 for it")),
        _exceptions("unidentified_deposit", expected=np.zeros(len(unknown), dtype=np.int64), actual=unknown.amount,
                    variance=unknown.amount,
                    reason=_words("bank line ", unknown.deposit_id, " of ", _money(unknown.amount), " on ",
                                  _day(unknown.deposit_date), ": no trace number, a description that is not a "
                                  "payer EFT, check, card settlement, transfer or interest, and no 835 of that "
                                  "amount and date")),
    ])


def _one_to_one(pairs: pd.DataFrame, left: str, right: str, order: list[str]) -> pd.DataFrame:
    """The pairs a greedy one-to-one matching keeps when it walks them best first (`order`, a strict
    order): in rounds, every pair that is the best left of its right and the best right of its left
    is kept and its two sides leave. Each round is vectorised; the first pair is always kept."""
    rest = pairs.sort_values(order, kind="stable")
    kept = []
    while len(rest):
        best = ~rest[left].duplicated().to_numpy() & ~rest[right].duplicated().to_numpy()
        take = rest[best]
        kept.append(take)
        rest = rest[~rest[left].isin(take[left]) & ~rest[right].isin(take[right])]
    return pd.concat(kept) if kept else rest


_MATCHED_ON = ("line_control", "claim_id", "procedure_code", "service_date", "units")
"""The columns `match_lines` reads of a remitted and a billed line."""


def match_lines(lines: pd.DataFrame, claim_lines: pd.DataFrame) -> np.ndarray:
    """For each remitted line, the index of its billed line in `claim_lines` (-1 when none).

    By REF*6R line control number first; else by claim, procedure code and date of service; else by
    claim and procedure code; ties broken by units. Modifiers are not used to match, so a payer
    that drops or reorders them still matches (the billed modifiers are then the ones to price).
    """
    result = np.full(len(lines), -1, dtype=np.int64)
    if claim_lines is None or claim_lines.empty or lines.empty:
        return result
    # only the columns matched on: the merges below then copy five columns, not every column of both tables
    billed = claim_lines[list(_MATCHED_ON)].reset_index(drop=True).assign(_billed=np.arange(len(claim_lines)))
    remitted = lines[list(_MATCHED_ON)].reset_index(drop=True).assign(_remitted=np.arange(len(lines)))
    used: set[int] = set()
    with_control = remitted[remitted.line_control.notna()]
    found = with_control.merge(billed[billed.line_control.notna()][["line_control", "claim_id", "_billed"]],
                               on=["line_control", "claim_id"], how="inner")
    found = found.drop_duplicates("_remitted").drop_duplicates("_billed")
    result[found._remitted.to_numpy()] = found._billed.to_numpy()
    used |= set(found._billed)
    for keys in (["claim_id", "procedure_code", "service_date"], ["claim_id", "procedure_code"]):
        todo = remitted[result[remitted._remitted.to_numpy()] < 0]
        if todo.empty:
            break
        free = billed[~billed._billed.isin(used)]
        cand = todo[[*keys, "_remitted", "units"]].merge(free[[*keys, "_billed", "units"]], on=keys,
                                                          suffixes=("", "_b"))
        cand = cand.assign(_same_units=(cand.units == cand.units_b)).sort_values(
            ["_remitted", "_same_units", "_billed"], ascending=[True, False, True], kind="stable")
        cand = cand.drop_duplicates("_remitted").drop_duplicates("_billed")
        result[cand._remitted.to_numpy()] = cand._billed.to_numpy()
        used |= set(cand._billed)
    return result


def _outcomes(ctx: Context) -> pd.DataFrame:
    """Denials, partial denials, forwarded claims still open, under- and overpayments of each claim's
    latest adjudication; reversals."""
    cp, ledger, pay = ctx.claim_payments, ctx.ledger, ctx.payments
    if cp.empty:
        return tables.empty("exceptions")
    adj = ctx.adjustments
    adj = adj.assign(_category=codes.categorize(adj.group_code, adj.reason_code)[0])
    adj["_denial"] = adj._category.isin(codes.DENIAL_CATEGORIES) & (adj.group_code != "PR")
    loop = ["payment_id", "claim_seq"]
    denial_amount = adj[adj._denial].groupby(loop).amount.sum()
    main = adj[adj._denial].sort_values("amount", ascending=False, kind="stable").groupby(loop).head(1).set_index(loop)

    latest = standing_adjudications(cp).set_index(loop, drop=False)
    latest["_denied_amount"] = denial_amount.reindex(latest.index).fillna(0).to_numpy()
    balance = ledger.balance.reindex(latest.claim_id).to_numpy()
    status = latest.status_code.astype(str).to_numpy()
    paid_status = np.isin(status, ["1", "2", "3", "19", "20", "21"])
    fully = kpi.denied_in_full(latest, ctx.adjustments, ctx.line_payments)  # the initial denial rate's rule too
    partly = paid_status & ~fully & (latest._denied_amount.to_numpy() > 0)
    open_ = balance > 0
    out = []
    for kind, mask in (("denied", fully & open_), ("partially_denied", partly & open_)):
        rows = latest[mask]
        top = main.reindex(rows.index)
        label, _, action = codes.describe(top.reason_code, top.group_code)  # the group decides first
        cause = np.where(top.reason_code.notna().to_numpy(), _words(top.group_code, "-", top.reason_code, " ", label),
                         "no reason code on the 835")
        expected = (ledger.balance.reindex(rows.claim_id).to_numpy() if kind == "denied"
                    else rows._denied_amount.to_numpy())
        out.append(_exceptions(
            kind, claim_id=rows.claim_id, payment_id=rows.payment_id, trace_number=rows.trace_number,
            payer_id=rows.payment_payer, expected=expected, actual=np.zeros(len(rows), dtype=np.int64),
            variance=-expected, reason=_words("denied: " if kind == "denied" else "lines denied: ", cause),
            category=top._category.fillna(codes.UNKNOWN[1]), next_action=action))

    out.append(_forwarded(ctx, latest))
    if ctx.fee_schedule is not None and not ctx.fee_schedule.empty:
        out.append(_pricing(ctx, latest[paid_status & ~fully], adj))

    links = link_reversals(cp).drop_duplicates("claim_id")  # a claim's first reversal, whatever the loop order
    if len(links):
        original = links.original_paid.fillna(0).astype("int64").to_numpy()
        actual = cp.groupby("claim_id").paid.sum().reindex(links.claim_id).to_numpy()
        correction = links.correction_paid.astype("float64")
        out.append(_exceptions(
            "reversal", claim_id=links.claim_id, payment_id=links.reversal_payment_id,
            trace_number=pay.trace_number.reindex(links.reversal_payment_id),
            payer_id=pay.payer_id.reindex(links.reversal_payment_id), expected=original, actual=actual,
            variance=actual - original,
            reason=_words("paid ", _money(original), ", reversed, ",
                          np.where(correction.notna(), _words("corrected to ", _money(correction.fillna(0))),
                                   "no correction yet"))))
    return _concat(out)


MPR_REASON = "59"
"""CARC of a reduction under multiple or concurrent procedure rules."""

FORWARDED_STATUSES = ("19", "20", "21", "23")
"""CLP02 codes of a claim the payer processed and forwarded to another payer (19-21: processed as
primary, secondary, tertiary and forwarded; 23: not our claim, forwarded)."""


def _forwarded(ctx: Context, latest: pd.DataFrame) -> pd.DataFrame:
    """Claims whose standing adjudication (`latest`: one loop per claim) forwarded them to another
    payer, still open in the ledger more than `Rules.forwarded_days` after that payment."""
    status = latest.status_code.astype("str").str.strip().to_numpy()
    since = (ctx.as_of - pd.to_datetime(latest.payment_date)).dt.days.to_numpy(dtype="float64")
    balance = ctx.ledger.balance.reindex(latest.claim_id).to_numpy(dtype="float64")
    rows = latest[np.isin(status, FORWARDED_STATUSES) & (balance > 0) & (since > ctx.rules.forwarded_days)]
    open_ = ctx.ledger.balance.reindex(rows.claim_id).to_numpy(dtype=np.int64)
    return _exceptions(
        "forwarded_unpaid", claim_id=rows.claim_id, payment_id=rows.payment_id, trace_number=rows.trace_number,
        payer_id=rows.payment_payer, expected=open_, actual=np.zeros(len(rows), dtype=np.int64), variance=-open_,
        reason=_words("forwarded to the next payer (CLP02 ", rows.status_code, ") on ", _day(rows.payment_date),
                      ", ", (ctx.as_of - pd.to_datetime(rows.payment_date)).dt.days, " days ago; ",
                      _money(open_), " still open"))


def _secondary_ready(ctx: Context) -> pd.DataFrame:
    """Claims the primary paid that now go to the patient's secondary payer (`secondary.due`): at stake is
    the patient responsibility the primary left, up to the open balance."""
    ready = secondary.due(ctx.ledger.reset_index(drop=True), {
        "payments": ctx.payments.reset_index(drop=True), "claim_payments": ctx.claim_payments,
        "adjustments": ctx.adjustments})
    at_stake = np.minimum(ready.patient_resp.to_numpy(dtype=np.int64), ready.balance.to_numpy(dtype=np.int64))
    return _exceptions("secondary_ready", claim_id=ready.claim_id, payment_id=ready.payment_id,
                       payer_id=ready.secondary_payer_id, expected=at_stake,
                       actual=np.zeros(len(ready), dtype=np.int64), variance=-at_stake,
                       reason=_words(ready.primary_payer_id.astype(str), " paid ", _money(ready.paid),
                                     " on ", _day(ready.payment_date), " and left ", _money(ready.patient_resp),
                                     " to the patient; bill ", ready.secondary_payer_id.astype(str)))


def _pricing(ctx: Context, latest: pd.DataFrame, adj: pd.DataFrame) -> pd.DataFrame:
    """Allowed amounts of the paid lines of each claim's latest adjudication against the expected allowed
    amounts (`denials.expected_allowed`: the lesser of the line charge and the contracted fee, after the
    payer's multiple-procedure reduction, lines reduced with CARC 59 included), summed per claim (`adj`:
    the adjustments with their denial flag). A correct reduction is then no underpayment; one applied to
    the wrong line or at the wrong rate still is."""
    ledger, claim_lines, fee_schedule, rules = ctx.ledger, ctx.claim_lines, ctx.fee_schedule, ctx.rules
    lines = ctx.line_payments.merge(
        latest[["payment_id", "claim_seq", "trace_number", "payment_payer"]].reset_index(drop=True),
        on=["payment_id", "claim_seq"], how="inner")
    if lines.empty:
        return tables.empty("exceptions")
    key = ["payment_id", "claim_seq", "line_seq"]
    line_adj = adj[adj.line_seq.notna()]
    denied_lines = line_adj[line_adj._denial].set_index(key).index.unique()
    lines = lines[~pd.MultiIndex.from_frame(lines[key]).isin(denied_lines)]
    # actual allowed: AMT*B6, else charge - CO adjustments (sequestration, 253, reduces payment, not allowed)
    co = line_adj[(line_adj.group_code == "CO") & (line_adj.reason_code != "253")].groupby(key).amount.sum()
    fallback = lines.charge.to_numpy() - co.reindex(pd.MultiIndex.from_frame(lines[key])).fillna(0).to_numpy()
    actual = lines.allowed.astype("Float64").fillna(pd.Series(fallback, index=lines.index)).to_numpy(dtype="float64")
    billed_idx = match_lines(lines, claim_lines) if claim_lines is not None else np.full(len(lines), -1)
    has = billed_idx >= 0
    billed = claim_lines.reset_index(drop=True) if claim_lines is not None else None
    modifiers = lines.modifiers.astype(object).to_numpy().copy()
    units = lines.units.astype("float64").fillna(1).to_numpy().copy()
    if billed is not None and has.any():
        modifiers[has] = billed.modifiers.astype(object).to_numpy()[billed_idx[has]]
        units[has] = billed.units.astype("float64").to_numpy()[billed_idx[has]]
    by_mpr = line_adj[(line_adj.reason_code == MPR_REASON).fillna(False).to_numpy(dtype=bool)].set_index(key).index
    reduced = pd.MultiIndex.from_frame(lines[key]).isin(by_mpr)
    priced = pd.DataFrame({"claim_id": lines.claim_id.to_numpy(),
                           "payer_id": ledger.payer_id.reindex(lines.claim_id).to_numpy(),
                           "procedure_code": lines.procedure_code.to_numpy(), "modifiers": modifiers, "units": units,
                           "charge": lines.charge.to_numpy(dtype="float64"), "reduced": reduced})
    priced["expected"] = denials.expected_allowed(priced, fee_schedule, rules.mpr, ctx.payers)
    priced["actual"] = actual
    priced = priced[priced.expected.notna()]
    sums = priced.groupby("claim_id")[["expected", "actual"]].sum()
    diff = sums.expected - sums.actual
    threshold = np.maximum(rules.variance_min_cents, sums.expected * rules.variance_min_share)
    info = latest.set_index("claim_id")
    out = []
    for kind, mask in (("underpaid", diff > threshold), ("overpaid", -diff > threshold)):
        s = sums[mask]
        ids = s.index
        out.append(_exceptions(
            kind, claim_id=ids.to_numpy(dtype=object), payment_id=info.payment_id.reindex(ids),
            trace_number=info.trace_number.reindex(ids), payer_id=info.payment_payer.reindex(ids),
            expected=s.expected.round().astype("int64"), actual=s.actual.round().astype("int64"),
            variance=(s.actual - s.expected).round().astype("int64"),
            reason=_words("allowed ", _money(s.actual), ", the fee schedule allows ", _money(s.expected)),
            category=np.full(len(s), "contractual", dtype=object)))
    return _concat(out)


def credit_parts(claims: pd.DataFrame, postings: pd.DataFrame, payers: pd.DataFrame | None) -> pd.DataFrame:
    """Each claim's credits by party, payer and patient kept apart: one row per negative part.

    A split balance (`insurance_balance`, `patient_balance`) says whose each part is: insurance is the
    payer's, patient the patient's. An unsplit negative balance belongs to whoever paid last: the party of the
    claim's latest positive posting (the self-pay payer's postings are the patient's; by posted date, then
    posting id); a claim without postings is the patient's when its `responsibility` is patient, else the
    payer's. A patient credit `waits` while an insurance part of the same claim is still open (it will be
    applied to the patient's share the payer assigns). Columns: row (position in `claims`), claim_id, party
    (payer or patient), amount (the credit, negative cents), waits."""
    parts = balances.open_parts(claims)
    claim_of = parts.row.to_numpy()
    amount = parts.amount.to_numpy(dtype=np.int64)
    insurance_open = np.zeros(len(claims), dtype=bool)
    np.logical_or.at(insurance_open, claim_of, (parts.responsibility == "insurance").to_numpy(dtype=bool)
                     & (amount > 0))
    split = np.zeros(len(claims), dtype=bool)
    if any(balances.known(claims, c) for c in balances.SPLIT):
        for c in balances.SPLIT:
            if c in claims.columns:
                split |= claims[c].notna().to_numpy()
    # unsplit: the party of the latest positive posting, else the claim's responsibility
    paid = postings[(postings.amount > 0).to_numpy() & postings.claim_id.isin(claims.claim_id).to_numpy()]
    last = paid.sort_values(["posted_date", "posting_id"], kind="stable").groupby("claim_id").payer_id.last()
    by_patient = last.isin(_self_pay_ids(payers))
    responsibility = claims["responsibility"].astype(object).to_numpy() if "responsibility" in claims.columns \
        else np.full(len(claims), None, dtype=object)
    unsplit_patient = np.where(claims.claim_id.isin(last.index).to_numpy(),
                               by_patient.reindex(claims.claim_id).fillna(False).to_numpy(dtype=bool),
                               responsibility == "patient")
    patient = np.where(split[claim_of], (parts.responsibility == "patient").to_numpy(dtype=bool),
                       unsplit_patient[claim_of])
    credit = amount < 0
    out = pd.DataFrame({"row": claim_of[credit], "claim_id": claims.claim_id.to_numpy()[claim_of[credit]],
                        "party": np.where(patient[credit], "patient", "payer"), "amount": amount[credit]})
    out["waits"] = patient[credit] & insurance_open[claim_of[credit]]
    return out.reset_index(drop=True)


def credit_balances(ctx: Context) -> pd.DataFrame:
    """The claims with a credit balance the practice must refund, the one place that decides it.

    The credit is the claim's negative parts (`credit_parts`: payer and patient kept apart, never netted)
    that are due back now: a payer credit always (the payer overpaid); a patient credit once no insurance
    part is still open (until then it waits to be applied to the patient's share the payer will assign).
    Unless the payers already took it back (`recoupments` on the 835s adding up to at least the credit).
    Columns: claim_id, payer_id, balance (the credit, negative), recouped (cents taken back), party (payer,
    patient, or `payer and patient` when both parts are due), arose: the date the credit arose, which starts
    the refund clock (`credit_arose`)."""
    ledger = ctx.ledger
    parts = credit_parts(ledger, ctx.postings, ctx.payers)
    parts = parts[~parts.waits]
    owed = np.zeros(len(ledger), dtype=np.int64)
    np.add.at(owed, parts.row.to_numpy(), parts.amount.to_numpy(dtype=np.int64))
    payer_due = np.zeros(len(ledger), dtype=bool)
    patient_due = np.zeros(len(ledger), dtype=bool)
    payer_due[parts.row[parts.party == "payer"].to_numpy()] = True
    patient_due[parts.row[parts.party == "patient"].to_numpy()] = True
    party = np.where(payer_due & patient_due, "payer and patient", np.where(payer_due, "payer", "patient"))
    has = owed < 0
    credit = ledger[has].assign(balance=owed[has])
    taken = recoupments(ctx)
    recouped = (-taken.amount.astype("int64")).groupby(taken.claim_id.to_numpy()).sum()
    recouped = recouped.reindex(credit.claim_id).fillna(0).to_numpy(dtype=np.int64)
    keep = recouped < -credit.balance.to_numpy(dtype=np.int64)
    credit = credit[keep]
    return pd.DataFrame({"claim_id": credit.claim_id.to_numpy(), "payer_id": credit.payer_id.to_numpy(),
                         "balance": credit.balance.to_numpy(dtype=np.int64), "recouped": recouped[keep],
                         "party": party[has][keep],
                         "arose": credit_arose(credit, ctx.postings, ctx.as_of)})


def credit_arose(claims: pd.DataFrame, postings: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """The date each claim's credit arose: the posted date of the posting that last took the claim's
    cumulative postings (payer and patient, in posted order) above what was owed (charge - adjusted),
    when they are still above; else the claim's last activity date; else `as_of`."""
    ids = claims.claim_id.to_numpy()
    mine = postings[postings.claim_id.isin(ids).to_numpy()]
    mine = mine.sort_values(["claim_id", "posted_date", "posting_id"], kind="stable")
    owed = (claims.charge - claims.adjusted).set_axis(ids)
    total = mine.groupby("claim_id").amount.cumsum()
    above = (total > owed.reindex(mine.claim_id).to_numpy()).to_numpy()
    before = np.r_[False, above[:-1]] & np.r_[False, mine.claim_id.to_numpy()[1:] == mine.claim_id.to_numpy()[:-1]]
    crossed = mine[above & ~before].groupby("claim_id").posted_date.max()
    still = pd.Series(above, index=mine.index).groupby(mine.claim_id.to_numpy()).last()
    crossed = crossed[still.reindex(crossed.index).fillna(False).to_numpy(dtype=bool)]
    fallback = claims.last_activity_date.fillna(as_of).set_axis(ids)
    return crossed.reindex(ids).fillna(fallback).to_numpy(dtype="datetime64[us]")


def _claims_out(ctx: Context, waiting: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Of the open insured claims no 835 mentions (`waiting`): those the latest 277CA / 277 rejected
    (`claim_status.rejections`), and those billed `acknowledgement_days` ago that nothing acknowledged
    (`claim_status.unacknowledged`), counted from the first claim the practice got an acknowledgement for."""
    status = ctx.claim_status
    if status is None or status.empty:
        none = waiting.iloc[:0].assign(reason=pd.Series(dtype=object), fix=pd.Series(dtype=object),
                                       days_waiting=pd.Series(dtype="Int64"))
        return none, none
    rejected = claim_status.rejections(waiting.reset_index(drop=True), status)
    rejected = rejected[rejected.claim_id.isin(waiting.index)]
    acknowledged = status.claim_id[status.kind.isin(["277CA", "277"])].dropna()
    since = ctx.ledger.billed_date.reindex(acknowledged.unique()).min()
    candidates = waiting[waiting.billed_date.notna() & (waiting.billed_date >= since)] if pd.notna(since) else \
        waiting.iloc[:0]
    silent = claim_status.unacknowledged(candidates.reset_index(drop=True), status, ctx.as_of.date(),
                                         ctx.rules.acknowledgement_days, answered=ctx.remitted_claims)
    return rejected, silent


def _ledger_exceptions(ctx: Context) -> pd.DataFrame:
    """From the ledger: credit balances (`credit_balances`); claims billed that no 835 ever mentioned:
    rejected or unacknowledged (`_claims_out`), else after `no_response_days` without a remittance; and
    claims never billed whose timely-filing limit is near or past."""
    ledger, A, rules = ctx.ledger, ctx.as_of, ctx.rules
    credit = credit_balances(ctx)
    insured = ~ledger.payer_id.isin(_self_pay_ids(ctx.payers)) & (ledger.balance > 0) & ~ledger.claim_id.isin(
        ctx.remitted_claims)
    rejected, silent = _claims_out(ctx, ledger[insured & ledger.billed_date.notna()])
    billed_long_ago = ledger.billed_date <= A - pd.Timedelta(days=rules.no_response_days)
    waiting = insured & ledger.billed_date.notna() & billed_long_ago & ~ledger.claim_id.isin(rejected.claim_id) \
        & ~ledger.claim_id.isin(silent.claim_id)
    w = ledger[waiting]
    filing = denials.deadline(ledger.payer_id, ledger.service_date, "timely_filing", ctx.payers)
    left = denials.days_left(filing, A.date())
    unbilled = insured.to_numpy() & ledger.billed_date.isna().to_numpy() & (left <= rules.unbilled_warning_days)
    b, b_left, b_due = ledger[unbilled], left[unbilled], filing[unbilled]
    return _concat([
        _exceptions("credit_balance", claim_id=credit.claim_id, payer_id=credit.payer_id,
                    expected=np.zeros(len(credit), dtype=np.int64), actual=credit.balance, variance=credit.balance,
                    reason=_words(credit.party, " credit balance of ", _money(-credit.balance), " since ",
                                  _day(credit.arose),
                                  np.where(credit.recouped > 0,
                                           _words(" (", _money(credit.recouped), " already recouped by the payer)"),
                                           ""))),
        _exceptions("no_response", claim_id=w.claim_id, payer_id=w.payer_id, expected=w.balance,
                    actual=np.zeros(len(w), dtype=np.int64), variance=-w.balance,
                    reason=_words("billed ", _day(w.billed_date), ", ", (A - w.billed_date).dt.days,
                                  " days without a remittance")),
        _exceptions("rejected", claim_id=rejected.claim_id, payer_id=rejected.payer_id, expected=rejected.balance,
                    actual=np.zeros(len(rejected), dtype=np.int64), variance=-rejected.balance,
                    reason=rejected.reason.to_numpy(dtype=object), next_action=rejected.fix.to_numpy(dtype=object)),
        _exceptions("unacknowledged", claim_id=silent.claim_id, payer_id=silent.payer_id, expected=silent.balance,
                    actual=np.zeros(len(silent), dtype=np.int64), variance=-silent.balance,
                    reason=_words("billed ", _day(silent.billed_date), ", ", silent.days_waiting.astype(np.int64),
                                  " days without an acknowledgement (no 277CA or claim status)")),
        _exceptions("unbilled_claim", claim_id=b.claim_id, payer_id=b.payer_id, expected=b.balance,
                    actual=np.zeros(len(b), dtype=np.int64), variance=-b.balance,
                    reason=_words("never billed; served ", _day(b.service_date), ", the filing limit ends ",
                                  _day(b_due), np.where(b_left < 0,
                                                        _words(": ", np.abs(b_left).astype(np.int64), " days past"),
                                                        _words(": ", b_left.astype(np.int64), " days left")))),
    ])


def _prioritize(ctx: Context, ex: pd.DataFrame) -> pd.DataFrame:
    """Payer, deadline, days left and priority of each exception (formula in `xl_ar.denials`), each
    kind's deadline rule, recoverability and dollars at stake from `xl_ar.kinds`."""
    ledger, A = ctx.ledger, ctx.as_of
    if not ex.empty:
        ex = ex.copy()
        claim_payer = ledger.payer_id.reindex(ex.claim_id).to_numpy()
        own_payer = pd.isna(claim_payer) | ex.kind.isin([k.code for k in KINDS if k.next_payer]).to_numpy()
        payer = pd.Series(np.where(own_payer, ex.payer_id.to_numpy(), claim_payer), index=ex.index)
        ex["payer_id"] = payer
        kind = ex.kind

        def on_claim(column: pd.Series) -> pd.Series:
            return pd.Series(pd.to_datetime(column.reindex(ex.claim_id).to_numpy()), index=ex.index)

        def credit_date() -> pd.Series:
            credit = ledger.reindex(ex.claim_id[kind == "credit_balance"].dropna().unique())
            arose = pd.Series(credit_arose(credit, ctx.postings, A), index=credit.index)
            return on_claim(arose).fillna(on_claim(ledger.last_activity_date)).fillna(A)

        starts = {"payment_date": lambda: pd.Series(pd.to_datetime(ctx.payments.payment_date.reindex(
                      ex.payment_id).to_numpy()), index=ex.index),
                  "service_date": lambda: on_claim(ledger.service_date),
                  "last_activity": lambda: on_claim(ledger.last_activity_date).fillna(A),
                  "credit_date": credit_date}
        # which rule each row follows: its kind's, or the kind's rule for a denial that needs a new claim
        new_claim = needs_new_claim(ex, ctx.remarks)
        follows: dict[DeadlineRule, np.ndarray] = {}
        for k in KINDS:
            if k.deadline is None:
                continue
            of_kind = (kind == k.code).to_numpy()
            alternative = k.deadline.new_claim
            for rule, mask in ((k.deadline, of_kind & ~(new_claim & (alternative is not None))),
                               (alternative, of_kind & new_claim)):
                if rule is not None and mask.any():
                    follows[rule] = follows.get(rule, np.zeros(len(ex), dtype=bool)) | mask
        # a refund owed to the patient alone counts the practice's refund days, whoever the claim's payer
        to_patient = np.zeros(len(ex), dtype=bool)
        if (kind == "credit_balance").any():  # the parties of those claims only (as `credit_balances` decides)
            held = ledger.reindex(ex.claim_id[kind == "credit_balance"].dropna().unique())
            parts = credit_parts(held.reset_index(drop=True), ctx.postings, ctx.payers)
            parts = parts[~parts.waits]
            payer_owed = parts.claim_id[parts.party == "payer"]
            patient_only = parts.claim_id[(parts.party == "patient") & ~parts.claim_id.isin(payer_owed)]
            to_patient = ((kind == "credit_balance") & ex.claim_id.isin(patient_only)).to_numpy(dtype=bool)
        refund_payer = payer.where(~to_patient, None)
        deadline = pd.Series(pd.NaT, index=ex.index, dtype="datetime64[us]")
        for rule, due in follows.items():
            deadline[due] = denials.deadline(refund_payer[due] if rule.limit == "refund" else payer[due],
                                             starts[rule.start]()[due], rule.limit, ctx.payers,
                                             refund_days=ctx.rules.refund_days)
        ex["deadline"] = deadline
        ex["days_left"] = denials.days_left(deadline, A.date())
        recoverability = kind.map({k.code: k.recoverability for k in KINDS if k.recoverability is not None}).fillna(
            ex.category.map(denials.CATEGORY_RECOVERABILITY)).fillna(denials.DEFAULT_RECOVERABILITY)
        expected = kind.map({k.code: k.at_stake for k in KINDS}) == "expected"
        dollars = np.where(expected, ex.expected.astype("float64"), ex.variance.astype("float64"))
        ex["priority"] = np.round(denials.priority(np.nan_to_num(dollars), recoverability.to_numpy(dtype="float64"),
                                                   ex.days_left.to_numpy()), 2)
    out = tables.from_columns("exceptions", {c: ex[c] for c in COLUMNS})
    for c in _PLAIN_TEXT:
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out
