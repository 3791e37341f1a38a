"""The practice's books: PM postings, bank deposits, the A/R ledger and the truth of exceptions.

Postings and deposits are derived from the remittances and then *injected* with the errors a
reconciliation must find: payments never posted, posted with the wrong amount or to the wrong
claim, a re-sent ERA posted twice, recoupments not posted yet, deposits missing or short, money
from a payer with no ERA, credits nobody can identify. The practice posts what the payers took
back (PLB recoupments) as negative postings on the recouping payment's trace number, and a
trace-less check without a trace number. The ledger (claims export) is then computed from what
was posted, exactly as a PM system would, so credit balances and open balances follow from the
postings. `truth` lists every exception a correct reconciliation must report as of the as-of
date, derived from what was generated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.denials import TIMELY_FILING_DAYS
from xl_ar.synth.practice import DAY, FORWARDED_DAYS, Practice
from xl_ar.synth.remit import TAKE_BACK_REASONS, Remits

POSTING_GRACE_DAYS = 3
"""A payment dated within this many days of the as-of date may not be posted yet (not an exception)."""
DEPOSIT_GRACE_DAYS = 7
"""A payment (or deposit) within this many days of the as-of date may not have its deposit (or ERA) yet."""
DEPOSIT_WINDOW_DAYS = 10
"""A bank line without a trace number matches a payment of its amount from 2 days before to this many
days after the payment date."""
NO_RESPONSE_DAYS = 30
"""A claim billed more than this many days ago with no remittance is a `no_response`."""
VARIANCE_MIN_CENTS = 500
"""Under- or overpayment is reported when the difference exceeds $5 ..."""
VARIANCE_MIN_SHARE = 0.02
"""... and 2% of the expected allowed amount."""
UNBILLED_WARNING_DAYS = 30
"""A never-billed claim whose timely-filing limit is within this many days of the as-of date (or
past) is an `unbilled_claim`."""
PAID_STATUSES = ("1", "2", "3", "19", "20", "21")
"""CLP02 values of a processed claim (primary, secondary, tertiary; forwarded or not)."""
FORWARDED_STATUSES = ("19", "20", "21", "23")
"""CLP02 values of a claim the payer forwarded to another payer."""
SPECIAL = ("reversed", "crossover", "crossover_open", "paid_twice")
"""Outcomes whose claims are kept out of the posting injections (their books tell their own story)."""


@dataclass
class Books:
    postings: pd.DataFrame
    deposits: pd.DataFrame
    ledger: pd.DataFrame
    resent: pd.DataFrame
    """Payments whose ERA was sent twice: payment, days_later, double_posted, identical (the same bytes
    under another file name rather than a new envelope)."""
    injected: pd.DataFrame
    """What was injected: kind, claim_id, trace_number, amount (for the record; truth is derived below
    except for the bank lines)."""


def _business_day(days: np.ndarray) -> np.ndarray:
    wd = (days.astype("datetime64[D]").view("int64") + 3) % 7
    return days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0)) * DAY


def build(practice: Practice, remits: Remits, rng: np.random.Generator) -> Books:
    A = practice.as_of
    claims = practice.claims
    events = remits.events
    payments = remits.payments
    pay_of_event = payments.set_index("payment")

    # -- which ERAs the payer sends twice -------------------------------------------------------------
    # some in a new envelope (new control numbers), some as a byte-identical copy under another
    # name, and every check without a trace number in a new envelope (never posted twice)
    traceless = (payments.trace == "").to_numpy()
    old = payments[(payments.pay_date <= A - 10 * DAY).to_numpy() & (payments.amount > 0).to_numpy() & ~traceless]
    n_resend = max(1, round(0.015 * len(payments))) if len(old) >= 10 else 0
    resent = old.iloc[np.sort(rng.choice(len(old), size=n_resend, replace=False))][["payment"]].copy() \
        if n_resend else pd.DataFrame({"payment": pd.Series(dtype="int64")})
    resent["days_later"] = rng.integers(2, 9, len(resent))
    resent["double_posted"] = rng.random(len(resent)) < 0.35
    identical = rng.permutation(len(resent))[:min(len(resent) // 2, max(3, round(0.4 * len(resent))))]
    resent["identical"] = np.isin(np.arange(len(resent)), identical)
    resent.loc[resent.identical, "double_posted"] = False
    no_trace = payments[traceless][["payment"]].assign(days_later=rng.integers(2, 9, int(traceless.sum())),
                                                       double_posted=False, identical=False)
    resent = pd.concat([resent, no_trace]).sort_values("payment", kind="stable", ignore_index=True)

    # -- postings of the payer's payments (one per CLP with money), posted 0-2 days after payment ---
    # only the columns the books need (the events frame is wide and a million rows long)
    needed = ["event", "claim", "claim_id", "kind", "payer_id", "pay_date", "payment", "status", "charge", "paid",
              "contractual", "sequestration", "patient_resp", "any_denied", "all_denied"]
    ev = events.loc[events.kind != "foreign", needed].copy()
    ev["trace"] = pay_of_event.trace.reindex(ev.payment).to_numpy()
    ev["outcome"] = claims.outcome.to_numpy()[ev.claim.to_numpy()]
    post_lag = pd.Series(rng.integers(0, 3, len(payments)), index=payments.payment.to_numpy())
    ev["posted_date"] = ev.pay_date.to_numpy() + post_lag.reindex(ev.payment).to_numpy() * DAY
    ev["recorded"] = ev.posted_date.to_numpy() <= A
    ev["post_to"] = ev.claim_id
    ev["post_amount"] = ev.paid
    ev["copies"] = 1
    injected = []

    clean = ev[(ev.kind == "original") & (ev.status == "1") & (ev.paid > 0)
               & (ev.pay_date <= A - (POSTING_GRACE_DAYS + 2) * DAY) & ~ev.payment.isin(resent.payment)
               & ~ev.outcome.isin(SPECIAL)]
    order = rng.permutation(clean.index.to_numpy().copy())  # (an empty index is read-only)
    k_unposted = round(0.01 * len(clean))
    k_variance = round(0.01 * len(clean))
    k_misapplied = round(0.003 * len(clean))
    unposted = order[:k_unposted]
    variance = order[k_unposted:k_unposted + k_variance]
    misapplied = order[k_unposted + k_variance:k_unposted + k_variance + k_misapplied]
    ev.loc[unposted, "recorded"] = False
    injected += [("unposted_payment", c, t) for c, t in zip(ev.claim_id[unposted], ev.trace[unposted], strict=True)]
    delta = rng.integers(100, 5001, len(variance)) * np.where(rng.random(len(variance)) < 0.5, -1, 1)
    new_amount = ev.paid[variance].to_numpy() + delta
    new_amount = np.where(new_amount <= 0, ev.paid[variance].to_numpy() + np.abs(delta), new_amount)
    ev.loc[variance, "post_amount"] = new_amount
    injected += [("posting_variance", c, t) for c, t in zip(ev.claim_id[variance], ev.trace[variance], strict=True)]
    # misapplied: posted to another claim of the same payer that has its own ERA elsewhere
    others = ev[(ev.kind == "original") & (ev.status == "1") & ~ev.index.isin(misapplied) & ~ev.outcome.isin(SPECIAL)
                & (ev.trace != "")]
    targets = []
    by_payer = {p: (g.claim_id.to_numpy(), g.payment.to_numpy()) for p, g in others.groupby("payer_id")}
    for i in misapplied:
        ids, pays = by_payer.get(ev.payer_id[i], (np.array([]), np.array([])))
        if not len(ids):
            targets.append(None)
            continue
        j = int(rng.integers(0, len(ids)))
        for off in range(len(ids)):  # the first candidate from j on that is in another payment
            if pays[(j + off) % len(ids)] != ev.payment[i]:
                targets.append(ids[(j + off) % len(ids)])
                break
        else:
            targets.append(None)
    moved = np.array([t is not None for t in targets], dtype=bool)
    if moved.any():
        ev.loc[misapplied[moved], "post_to"] = [t for t in targets if t is not None]
    for i, target in zip(misapplied[moved], [t for t in targets if t is not None], strict=True):
        injected += [("unposted_payment", ev.claim_id[i], ev.trace[i]), ("posted_without_era", target, ev.trace[i])]
    # a re-sent ERA that the poster posted a second time
    double = resent.payment[resent.double_posted].to_numpy()
    ev.loc[ev.payment.isin(double), "copies"] = 2

    # -- ledger effects of what was posted ----------------------------------------------------------
    posted = ev[ev.recorded]
    pay_rows = posted.loc[posted.post_amount != 0, ["post_to", "payer_id", "post_amount", "posted_date", "trace",
                                                       "payment", "copies"]]
    postings = pay_rows.loc[pay_rows.index.repeat(pay_rows.copies)]
    second = postings.index.duplicated()
    resend_days = resent.set_index("payment").days_later
    postings = pd.DataFrame({
        "claim_id": postings.post_to.to_numpy(),
        "payer_id": postings.payer_id.to_numpy(),
        "amount": postings.post_amount.to_numpy(),
        "posted_date": np.where(second, postings.posted_date.to_numpy()
                                + resend_days.reindex(postings.payment).fillna(0).to_numpy().astype(int) * DAY,
                                postings.posted_date.to_numpy()),
        "trace_number": postings.trace.replace("", None).to_numpy(),  # a trace-less check: no number
    })
    postings = postings[postings.posted_date <= A]

    # recoupments: the practice posts each take-back as a negative payment on the recouping
    # payment's trace number (an overpaid claim's excess allowed also as a contractual adjustment),
    # except a few second payments whose take-back is not posted yet
    takes = take_backs(remits)
    takes["posted_date"] = takes.pay_date.to_numpy() + post_lag.reindex(takes.payment).to_numpy() * DAY
    claim_pos = pd.Index(claims.claim_id)
    twice = np.flatnonzero((claims.outcome.to_numpy()[claim_pos.get_indexer(takes.claim_id)] == "paid_twice")
                           & (takes.pay_date <= A - (POSTING_GRACE_DAYS + 2) * DAY).to_numpy())
    not_yet = rng.permutation(twice)[:min(len(twice), max(3, round(0.3 * len(twice))))]
    takes["recorded"] = (takes.posted_date <= A).to_numpy() & ~np.isin(np.arange(len(takes)), not_yet)
    injected += [("unposted_payment", c, t) for c, t in zip(takes.claim_id.to_numpy()[not_yet],
                                                            takes.trace.to_numpy()[not_yet], strict=True)]
    taken = takes[takes.recorded]
    postings = pd.concat([postings, pd.DataFrame({
        "claim_id": taken.claim_id.to_numpy(), "payer_id": taken.payer_id.to_numpy(),
        "amount": -taken.amount.to_numpy(), "posted_date": taken.posted_date.to_numpy(),
        "trace_number": taken.trace.to_numpy()})], ignore_index=True)
    excess = taken[claims.outcome.to_numpy()[claim_pos.get_indexer(taken.claim_id)] == "overpaid"]

    # manual postings of paper checks that came with no ERA
    k_manual = round(0.002 * len(clean))
    manual_claims = clean.sample(n=min(k_manual, len(clean)), random_state=np.random.RandomState(
        int(rng.integers(0, 2**31)))) if k_manual else clean.iloc[:0]
    manual = pd.DataFrame({
        "claim_id": manual_claims.claim_id.to_numpy(),
        "payer_id": manual_claims.payer_id.to_numpy(),
        "amount": rng.integers(1000, 20001, len(manual_claims)),
        "posted_date": np.minimum(manual_claims.pay_date.to_numpy() + rng.integers(5, 40, len(manual_claims)) * DAY, A),
        "trace_number": [f"{int(x)}" for x in rng.integers(4000000, 4999999, len(manual_claims))],
    })
    injected += [("posted_without_era", c, t) for c, t in zip(manual.claim_id, manual.trace_number, strict=True)]

    # per-claim posted adjustments and patient share (follow the posting, times its copies); a second
    # payment of a paid claim adds no adjustment, a secondary's OA-23 is not one (its `contractual`
    # is 0) and the patient owes nothing on a forwarded claim until the secondary has paid
    adj = posted.assign(
        adjusted=np.where(posted.kind == "repeat", 0, posted.contractual + posted.sequestration) * posted.copies,
        share=np.where(posted.status.isin(FORWARDED_STATUSES), 0, posted.patient_resp) * posted.copies,
    ).groupby("post_to")[["adjusted", "share"]].sum()
    adj = adj.add(excess.groupby("claim_id").amount.sum().rename("adjusted").to_frame(), fill_value=0)
    adj = adj.fillna(0).astype("int64")
    full_denial = (posted.status == "4") | ((posted.status != "22") & posted.all_denied & (posted.paid == 0))
    last_event = pd.Series(np.where(full_denial, "4", posted.status), index=posted.index).groupby(
        posted.post_to.to_numpy()).last()

    # -- patient payments: copay at the visit, then part of the patient share ----------------------
    prepay = claims[(claims.prepay > 0) & (claims.service_date <= A)]
    patient_rows = [pd.DataFrame({
        "claim_id": prepay.claim_id.to_numpy(), "payer_id": "SELF", "amount": prepay.prepay.to_numpy(),
        "posted_date": prepay.service_date.to_numpy(), "trace_number": None})]
    share = adj.share.reindex(claims.claim_id).fillna(0).to_numpy()
    last_post = posted.groupby("post_to").posted_date.max().reindex(claims.claim_id).to_numpy()
    due = share - claims.prepay.to_numpy()
    r = rng.random(len(claims))
    pays = np.where(r < 0.55, due, np.where(r < 0.70, due // 2, 0))
    when = last_post + rng.integers(10, 61, len(claims)) * DAY
    m = (due > 0) & (pays > 0) & ~np.isnat(last_post) & (when <= A)
    patient_rows.append(pd.DataFrame({
        "claim_id": claims.claim_id.to_numpy()[m], "payer_id": "SELF", "amount": pays[m],
        "posted_date": when[m], "trace_number": None}))
    # self-pay claims: statement paid in full or in part, or still open
    self_pay = (claims.payer_class == "self_pay").to_numpy()
    r2 = rng.random(len(claims))
    sp_amount = np.where(r2 < 0.45, claims.charge.to_numpy(), np.where(r2 < 0.65, claims.charge.to_numpy() // 2, 0))
    sp_when = claims.service_date.to_numpy() + rng.integers(0, 46, len(claims)) * DAY
    m = self_pay & (sp_amount > 0) & (sp_when <= A)
    patient_rows.append(pd.DataFrame({
        "claim_id": claims.claim_id.to_numpy()[m], "payer_id": "SELF", "amount": sp_amount[m],
        "posted_date": sp_when[m], "trace_number": None}))

    # -- write-offs (adjustments, not payments) -------------------------------------------------------
    # denials the practice cannot appeal (timely filing, duplicates) and most partial denials are
    # written off some days after the remittance; patient balances still unpaid 120 days after the
    # statement go to bad debt most of the time
    n = len(claims)
    claim_index = pd.Series(np.arange(n), index=claims.claim_id.to_numpy())
    own = ev[ev.recorded].sort_values(["pay_date", "event"], kind="stable").groupby("claim_id").tail(1)
    pos = claim_index.reindex(own.claim_id).to_numpy()
    denied_charge = remits.lines[remits.lines.denied.astype(bool)].groupby("event").charge.sum()
    category = claims.denial_category.to_numpy()[pos]
    own_full = (own.status == "4") | ((own.status != "22") & own.all_denied & (own.paid == 0))
    full = own_full.to_numpy() & np.isin(category, ["timely_filing", "duplicate"])
    part = (own.status == "1").to_numpy() & own.any_denied.to_numpy() & (rng.random(len(own)) < 0.6)
    wo_when = own.pay_date.to_numpy() + rng.integers(5, 31, len(own)) * DAY
    wo_amount = np.where(full, own.charge.to_numpy(),
                         np.where(part, denied_charge.reindex(own.event).fillna(0).to_numpy(), 0)).astype("int64")
    take = (wo_amount > 0) & (wo_when <= A)
    wo_ins = np.zeros(n, dtype="int64")
    wo_ins[pos[take]] = wo_amount[take]
    wo_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    wo_date[pos[take]] = wo_when[take]
    patient_paid = claims.prepay.to_numpy() * (claims.service_date.to_numpy() <= A) + np.bincount(
        claim_index.reindex(patient_rows[1].claim_id).to_numpy(), weights=patient_rows[1].amount.to_numpy(),
        minlength=n).astype("int64")
    remaining = share.astype("int64") - patient_paid
    bad_debt_when = last_post + 120 * DAY
    bad_debt = (remaining > 0) & ~np.isnat(last_post) & (bad_debt_when <= A) & (rng.random(n) < 0.7)
    sp_paid = np.bincount(claim_index.reindex(patient_rows[2].claim_id).to_numpy(),
                          weights=patient_rows[2].amount.to_numpy(), minlength=n).astype("int64")
    sp_remaining = claims.charge.to_numpy() - sp_paid
    sp_when_wo = claims.service_date.to_numpy() + 120 * DAY
    sp_bad = self_pay & (sp_remaining > 0) & (sp_when_wo <= A) & (rng.random(n) < 0.6)
    wo_pat = np.where(bad_debt, remaining, 0) + np.where(sp_bad, sp_remaining, 0)
    wo_date = np.where(bad_debt, bad_debt_when, np.where(sp_bad, sp_when_wo, wo_date))
    write_offs = pd.DataFrame({"insurance": wo_ins, "patient": wo_pat.astype("int64"), "date": wo_date},
                              index=claims.claim_id.to_numpy())

    postings = pd.concat([postings, manual, *patient_rows], ignore_index=True)
    postings["posted_date"] = postings.posted_date.astype("datetime64[s]")
    postings = postings.sort_values(["posted_date", "claim_id", "payer_id", "amount"], kind="stable",
                                    ignore_index=True)
    postings.insert(0, "posting_id", [f"T{i:08d}" for i in range(1, len(postings) + 1)])

    ledger = _ledger(practice, postings, adj, last_event, write_offs)
    # credit balances are refunded to the patient within a few weeks, most of the time (not the
    # payer's money on a claim it paid twice: the payer takes that back)
    credit = ledger[(ledger.balance < 0) & (claims.outcome != "paid_twice").to_numpy()]
    refund_when = credit.last_activity_date.to_numpy() + rng.integers(20, 61, len(credit)) * DAY
    refund = (refund_when <= A) & (rng.random(len(credit)) < 0.7)
    if refund.any():
        refunds = pd.DataFrame({"claim_id": credit.claim_id.to_numpy()[refund], "payer_id": "SELF",
                                "amount": credit.balance.to_numpy()[refund], "posted_date": refund_when[refund],
                                "trace_number": None})
        postings = pd.concat([postings.drop(columns="posting_id"), refunds], ignore_index=True)
        postings["posted_date"] = postings.posted_date.astype("datetime64[s]")
        postings = postings.sort_values(["posted_date", "claim_id", "payer_id", "amount"], kind="stable",
                                        ignore_index=True)
        postings.insert(0, "posting_id", [f"T{i:08d}" for i in range(1, len(postings) + 1)])
        ledger = _ledger(practice, postings, adj, last_event, write_offs)
    deposits, dep_injected = _deposits(practice, remits, resent, postings, rng)
    injected += dep_injected
    inj = pd.DataFrame([(*t, None)[:4] for t in injected], columns=["kind", "claim_id", "trace_number", "amount"])
    return Books(postings, deposits, ledger, resent, inj)


def take_backs(remits: Remits) -> pd.DataFrame:
    """The recoupments: PLB amounts with reason WO, FB or 72 that name a claim, with the payment's
    payer, trace number and date; amount positive (money the payer withheld)."""
    plb = remits.plb[remits.plb.reason.isin(TAKE_BACK_REASONS) & remits.plb.claim_id.notna()]
    pay = remits.payments.set_index("payment")
    return pd.DataFrame({
        "claim_id": plb.claim_id.to_numpy(), "payment": plb.payment.to_numpy(), "amount": plb.amount.to_numpy(),
        "payer_id": pay.payer_id.reindex(plb.payment).to_numpy(), "trace": pay.trace.reindex(plb.payment).to_numpy(),
        "pay_date": pay.pay_date.reindex(plb.payment).to_numpy()})


def _ledger(practice: Practice, postings: pd.DataFrame, adj: pd.DataFrame, last_event: pd.Series,
            write_offs: pd.DataFrame) -> pd.DataFrame:
    """The PM system's claims export: charges, payments, adjustments (contractual and write-offs)
    and the insurance / patient split of the balance."""
    A = practice.as_of
    claims = practice.claims
    ids = claims.claim_id
    paid = postings.groupby("claim_id").amount.sum().reindex(ids).fillna(0).astype("int64").to_numpy()
    patient = postings[postings.payer_id == "SELF"]

    def per_claim(rows: pd.DataFrame) -> np.ndarray:
        return rows.groupby("claim_id").amount.sum().reindex(ids).fillna(0).astype("int64").to_numpy()

    pat_paid = per_claim(patient[patient.amount > 0])
    refunded = -per_claim(patient[patient.amount < 0])  # refunds of credits, to whichever side was in credit
    # what a later payer (a secondary) paid is the patient's share it covered
    primary = claims.set_index("claim_id").payer_id
    insurer = postings[postings.payer_id != "SELF"]
    covered = per_claim(insurer[(insurer.payer_id != primary.reindex(insurer.claim_id).to_numpy()).to_numpy()])
    contractual = adj.adjusted.reindex(ids).fillna(0).astype("int64").to_numpy()
    wo_ins = write_offs.insurance.to_numpy()
    wo_pat = write_offs.patient.to_numpy()
    written_off = wo_ins + wo_pat
    adjusted = contractual + written_off
    self_pay = (claims.payer_class == "self_pay").to_numpy()
    share = np.where(self_pay, claims.charge.to_numpy(), adj.share.reindex(ids).fillna(0).astype("int64").to_numpy())
    charge = claims.charge.to_numpy()
    share = share - np.minimum(covered, np.maximum(share, 0))
    ins_paid = paid - pat_paid + refunded
    pat_bal = share - pat_paid - wo_pat
    ins_bal = charge - ins_paid - contractual - share - wo_ins
    to_ins = np.minimum(refunded, np.maximum(-ins_bal, 0))  # a refund first clears an insurance credit
    ins_bal = ins_bal + to_ins
    pat_bal = pat_bal + refunded - to_ins
    balance = charge - paid - adjusted
    status_code = last_event.reindex(ids).to_numpy()
    billed = claims.billed_date.to_numpy()
    last_post = postings.groupby("claim_id").posted_date.max().reindex(ids).to_numpy()
    wo_date = write_offs.date.to_numpy()
    last_post = np.where(np.isnat(last_post) | (~np.isnat(wo_date) & (wo_date > last_post)), wo_date, last_post)
    last_activity = np.where(np.isnat(last_post) | (last_post < billed), billed, last_post)
    last_activity = np.where(np.isnat(billed), last_post, last_activity)
    status = np.select(
        [np.isnat(billed), balance < 0, balance == 0, (status_code == "4") & (ins_bal > 0),
         pd.isna(status_code) & ~self_pay, (ins_bal == 0) & (pat_bal > 0), ins_bal > 0],
        ["unbilled", "credit", "paid", "denied", "submitted", "patient_due", "partial"],
        default="open",
    )
    return pd.DataFrame({
        "claim_id": ids.to_numpy(),
        "account_id": claims.account_id.to_numpy(),
        "payer_id": claims.payer_id.to_numpy(),
        "service_date": claims.service_date.to_numpy(),
        "billed_date": billed,
        "charge": charge,
        "paid": paid,
        "adjusted": adjusted,
        "written_off": written_off,
        "ins_balance": ins_bal,
        "patient_balance": pat_bal,
        "balance": balance,
        "responsibility": np.where(ins_bal != 0, "insurance", "patient"),
        "status": status,
        "last_activity_date": np.where(np.isnat(last_activity), claims.service_date.to_numpy(), last_activity),
        "as_of": A,
    })


def _deposits(practice: Practice, remits: Remits, resent: pd.DataFrame, postings: pd.DataFrame,
              rng: np.random.Generator) -> tuple[pd.DataFrame, list]:
    """Bank credit lines: payer EFTs and check deposits, patient card settlements, transfers and
    interest, with injections (missing and short deposits, payer money with no ERA, credits that
    no description rule recognises)."""
    A = practice.as_of
    payers = practice.payers.set_index("payer_id")
    pm = remits.payments[remits.payments.amount > 0].copy()
    n = len(pm)
    is_ach = (pm.method == "ACH").to_numpy()
    lag = np.where(is_ach, (rng.random(n) < 0.2).astype(int), rng.integers(3, 7, n))
    pm["date"] = pm.pay_date.to_numpy() + lag * DAY
    with_trace = np.where(is_ach, rng.random(n) < 0.95, rng.random(n) < 0.5)
    no_trace = (pm.trace == "").to_numpy()  # a check whose 835 has no number: its bank line has none either
    with_trace &= ~no_trace
    name = payers.name.reindex(pm.payer_id).str.upper().str[:16].to_numpy().astype(object)
    tin = payers.tin.reindex(pm.payer_id).to_numpy().astype(object)
    trace = pm.trace.to_numpy().astype(object)
    pm["description"] = np.where(
        is_ach,
        np.where(with_trace, "HCCLAIMPMT " + name + " TRN*1*" + trace + "*" + tin + "\\", "HCCLAIMPMT " + name),
        np.where(with_trace, "REMOTE DEPOSIT CHECK " + trace, "REMOTE DEPOSIT"),
    )
    pm["bank_amount"] = pm.amount
    injected = []
    # injections only where the amount is unique, so a matcher falling back on amounts cannot
    # honestly pair the payment with another bank line
    unique_amount = ~pm.amount.duplicated(keep=False).to_numpy()
    eligible = (pm.pay_date <= A - 10 * DAY).to_numpy() & unique_amount & ~no_trace
    order = rng.permutation(np.flatnonzero(eligible))
    k_missing = round(0.02 * n)
    missing = order[:k_missing]
    var_pool = [i for i in order[k_missing:] if with_trace[i]]
    k_var = round(0.015 * n)
    short = np.array(var_pool[:k_var], dtype=int)
    keep = np.ones(n, dtype=bool)
    keep[missing] = False
    injected += [("era_without_deposit", None, t) for t in trace[missing]]
    cut = rng.integers(100, 2501, len(short))
    shortened = np.maximum(pm.amount.to_numpy()[short] - cut, 1)
    taken = set(pm.amount.tolist())
    shortened = np.array([a - 1 if a in taken and a > 1 else a for a in shortened], dtype="int64")
    pm.iloc[short, pm.columns.get_loc("bank_amount")] = shortened
    injected += [("deposit_variance", None, t) for t in trace[short]]
    # a few EFTs whose bank description lacks the HCCLAIMPMT label but still carries the TRN record
    plain = np.flatnonzero(is_ach & with_trace & keep & ~np.isin(np.arange(n), short))
    plain = np.sort(rng.permutation(plain)[:min(len(plain), max(3, round(0.01 * n)))])
    pm.iloc[plain, pm.columns.get_loc("description")] = (
        "CCD CREDIT " + name[plain] + " TRN*1*" + trace[plain] + "*" + tin[plain] + "\\")
    payer_lines = pm[keep & (pm.date <= A).to_numpy()]
    lines = [pd.DataFrame({"deposit_date": payer_lines.date.to_numpy(), "description": payer_lines.description,
                           "amount": payer_lines.bank_amount.to_numpy()})]
    # money from a payer with no ERA behind it
    k_extra = max(1, round(0.01 * n)) if n >= 20 else 0
    ins = payers[payers.payer_class != "self_pay"]
    extra_payer = ins.index.to_numpy()[rng.integers(0, len(ins), k_extra)]
    extra_trace = np.array([f"88{int(x)}" for x in rng.integers(10**8, 10**9, k_extra)], dtype=object)
    span = max(1, int((A - practice.claims.service_date.min()) / DAY) - 30)
    extra_date = _business_day(A - (DEPOSIT_GRACE_DAYS + 1) * DAY - rng.integers(0, span, k_extra) * DAY)
    lines.append(pd.DataFrame({
        "deposit_date": extra_date,
        "description": "HCCLAIMPMT " + ins.name.reindex(extra_payer).str.upper().str[:16].to_numpy().astype(object)
        + " TRN*1*" + extra_trace + "*" + ins.tin.reindex(extra_payer).to_numpy().astype(object) + "\\",
        "amount": rng.integers(5000, 300001, k_extra),
    }))
    injected += [("deposit_without_era", None, t) for t in extra_trace]
    # patient card payments settle the next business day in one batch per day
    card = postings[postings.payer_id == "SELF"].groupby("posted_date").amount.sum()
    settle = _business_day(card.index.to_numpy().astype("datetime64[D]") + DAY)
    lines.append(pd.DataFrame({"deposit_date": settle, "description": "CARD SETTLEMENT MERCHANT 4471",
                               "amount": card.to_numpy()}))
    # other money that is not the payers': monthly interest, a few transfers from savings; and
    # credits no rule recognises (no trace, an amount no payment has), for a person to identify
    taken = set(remits.payments.amount.tolist()) | set(np.concatenate([f.amount.to_numpy() for f in lines]).tolist())
    first_day = practice.claims.service_date.min()
    month_ends = pd.date_range(pd.Timestamp(first_day) + pd.offsets.MonthEnd(0), pd.Timestamp(A), freq="BME")
    interest = _fresh_amounts(rng, 100, 2500, len(month_ends), taken)
    lines.append(pd.DataFrame({"deposit_date": month_ends.to_numpy().astype("datetime64[D]"),
                               "description": "INTEREST PAYMENT", "amount": interest}))
    span = max(1, int((A - first_day) / DAY) - 30)
    k_transfer = max(2, round(span / 120))
    lines.append(pd.DataFrame({
        "deposit_date": _business_day(A - rng.integers(0, span, k_transfer) * DAY),
        "description": "ONLINE TRANSFER FROM SAVINGS XXXXXX4417",
        "amount": _fresh_amounts(rng, 1000, 5000, k_transfer, taken, unit=100)}))
    k_unknown = max(3, round(0.0005 * len(practice.claims)))
    unknown_date = _business_day(A - (DEPOSIT_GRACE_DAYS + 3) * DAY - rng.integers(0, span, k_unknown) * DAY)
    unknown_amount = _fresh_amounts(rng, 2000, 150000, k_unknown, taken)
    refs = rng.integers(10**7, 10**8, k_unknown).astype(str).astype(object)
    mmdd = pd.Series(unknown_date.astype("datetime64[s]")).dt.strftime("%m%d").to_numpy().astype(object)
    lines.append(pd.DataFrame({
        "deposit_date": unknown_date,
        "description": np.where(rng.random(k_unknown) < 0.6, "ACH CREDIT " + mmdd + " REF " + refs, "MISC CREDIT"),
        "amount": unknown_amount}))
    injected += [("unidentified_deposit", None, None, int(a)) for a in unknown_amount]
    deposits = pd.concat(lines, ignore_index=True)
    deposits["deposit_date"] = deposits.deposit_date.astype("datetime64[s]")
    deposits = deposits[deposits.deposit_date <= A]
    deposits = deposits.sort_values(["deposit_date", "description", "amount"], kind="stable", ignore_index=True)
    deposits.insert(0, "bank_reference", [f"BR{i:08d}" for i in range(1, len(deposits) + 1)])
    return deposits, injected


def _fresh_amounts(rng: np.random.Generator, low: int, high: int, k: int, taken: set, unit: int = 1) -> np.ndarray:
    """`k` amounts of `unit` x [low, high) cents that are not in `taken` nor repeated (added to `taken`)."""
    out: list[int] = []
    while len(out) < k:
        a = int(rng.integers(low, high)) * unit
        if a not in taken:
            taken.add(a)
            out.append(a)
    return np.array(out, dtype="int64")


def standing_events(events: pd.DataFrame) -> pd.DataFrame:
    """Each claim's adjudication that stands among `events` (CLP events of the synthetic remittances): the latest
    loop (pay date, payment, event) that is neither a reversal nor an original a reversal of its claim cancels."""
    reversed_ids = events.claim_id[events.kind == "reversal"].unique()
    cancelled = (events.kind == "original") & events.claim_id.isin(reversed_ids)
    return events[(events.kind != "reversal") & ~cancelled].sort_values(
        ["pay_date", "payment", "event"], kind="stable").groupby("claim_id").tail(1)


def truth(practice: Practice, remits: Remits, books: Books) -> list[dict]:
    """Every exception a correct reconciliation reports as of the as-of date.

    Derived from what was generated (which payment each posting and deposit belongs to, which
    adjudication stands), with the rules and defaults of the reconciliation issues: grace periods
    for posting and deposits, 30 days for no response and for forwarded claims, $5 and 2% for
    variances, 30 days before the timely-filing limit for unbilled claims. A recoupment (PLB WO,
    FB or 72 naming a claim) is the 835's negative payment of that claim on the recouping check.
    Entries of payment- and bank-level kinds that have no trace number carry `amount` (cents).
    """
    A = practice.as_of
    claims, ledger = practice.claims, books.ledger
    events = remits.events
    payments = remits.payments.set_index("payment")
    dup = set(books.resent.payment)
    balance = ledger.set_index("claim_id").balance
    out: list[dict] = []

    def add(kind: str, claim_id: str | None, trace: str | None, amount: int | None = None) -> None:
        entry = {"kind": kind, "claim_id": claim_id, "trace_number": trace or None}
        if amount is not None and not trace:
            entry["amount"] = int(amount)
        out.append(entry)

    # postings vs ERA, per claim and check (a check without a trace number: "" on both sides)
    known = events.loc[events.kind != "foreign", ["claim_id", "payment", "paid", "pay_date"]]
    takes = take_backs(remits)
    recouped = takes.groupby("claim_id").amount.sum()
    era_side = pd.concat([known, takes.assign(paid=-takes.amount)[["claim_id", "payment", "paid", "pay_date"]]],
                         ignore_index=True)
    era_side["trace"] = payments.trace.reindex(era_side.payment).to_numpy()
    era = era_side.groupby(["claim_id", "trace"]).agg(paid=("paid", "sum"), pay_date=("pay_date", "min"))
    ins_post = books.postings[books.postings.payer_id != "SELF"]
    posted = ins_post.assign(trace=ins_post.trace_number.fillna("")).groupby(["claim_id", "trace"]).amount.sum()
    both = era.join(posted.rename("posted"), how="outer").reset_index()
    kind = np.select(
        [both.paid.isna(),
         both.posted.isna() & (both.paid != 0) & (both.pay_date <= A - POSTING_GRACE_DAYS * DAY),
         both.posted.notna() & both.paid.notna() & (both.posted != both.paid)],
        ["posted_without_era", "unposted_payment", "posting_variance"], default="")
    for k, claim_id, trace in zip(kind, both.claim_id, both.trace, strict=True):
        if k:
            add(k, claim_id, trace)

    # duplicates and deposits (by construction: which bank line carries which payment)
    for p in sorted(dup):
        add("duplicate_era", None, payments.trace[p], payments.amount[p])
    bank = books.injected[books.injected.kind.isin(
        ["era_without_deposit", "deposit_variance", "deposit_without_era", "unidentified_deposit"])]
    for kind_, trace, amount in bank[["kind", "trace_number", "amount"]].itertuples(index=False):
        add(kind_, None, None if pd.isna(trace) else trace, None if pd.isna(amount) else amount)

    for claim_id in events.claim_id[events.kind == "foreign"]:
        add("unmatched_remit", claim_id, None)

    # adjudication outcomes: the adjudication that stands (duplicates change nothing)
    ours = events[events.kind != "foreign"]
    reversed_ids = ours.claim_id[ours.kind == "reversal"].unique()
    standing = standing_events(ours).set_index("claim_id")
    open_balance = balance.reindex(standing.index).to_numpy() > 0
    processed = standing.status.isin(PAID_STATUSES).to_numpy()
    full = (standing.status == "4").to_numpy() | (processed & (standing.paid == 0).to_numpy()
                                                  & standing.all_denied.to_numpy())
    for claim_id in standing.index[full & open_balance]:
        add("denied", claim_id, None)
    for claim_id in standing.index[processed & ~full & standing.any_denied.to_numpy() & open_balance]:
        add("partially_denied", claim_id, None)
    lines = remits.lines[(remits.lines.kind != "foreign") & ~remits.lines.denied.astype(bool)]
    lines = lines[lines.event.isin(standing.event[processed & ~full])]
    sums = lines.groupby("claim_id")[["expected_allowed", "allowed"]].sum()
    diff = sums.expected_allowed - sums.allowed
    threshold = np.maximum(VARIANCE_MIN_CENTS, sums.expected_allowed * VARIANCE_MIN_SHARE)
    for claim_id in sums.index[diff > threshold]:
        add("underpaid", claim_id, None)
    for claim_id in sums.index[-diff > threshold]:
        add("overpaid", claim_id, None)
    for claim_id in reversed_ids:
        add("reversal", claim_id, None)
    waited = (A - standing.pay_date.to_numpy().astype("datetime64[D]")) > FORWARDED_DAYS * DAY
    for claim_id in standing.index[standing.status.isin(FORWARDED_STATUSES).to_numpy() & open_balance & waited]:
        add("forwarded_unpaid", claim_id, None)

    # claims never answered, never billed, or with a credit the payer has not already taken back
    answered = set(ours.claim_id)
    billed = ledger.billed_date.to_numpy()
    insured = (claims.payer_class != "self_pay").to_numpy()
    waiting = (
        insured
        & ~np.isnat(billed)
        & (billed <= A - NO_RESPONSE_DAYS * DAY)
        & ~ledger.claim_id.isin(answered).to_numpy()
        & (ledger.balance.to_numpy() > 0)
    )
    for claim_id in ledger.claim_id[waiting]:
        add("no_response", claim_id, None)
    payers = practice.payers.set_index("payer_id")
    filing_days = payers.timely_filing_days.where(payers.timely_filing_days > 0).fillna(
        payers.payer_class.map(TIMELY_FILING_DAYS)).reindex(ledger.payer_id).to_numpy()
    limit = ledger.service_date.to_numpy().astype("datetime64[D]") + np.nan_to_num(filing_days).astype(int) * DAY
    unbilled = (insured & np.isnat(billed) & (ledger.balance.to_numpy() > 0)
                & ~ledger.claim_id.isin(answered).to_numpy() & (limit <= A + UNBILLED_WARNING_DAYS * DAY))
    for claim_id in ledger.claim_id[unbilled]:
        add("unbilled_claim", claim_id, None)
    # a credit to refund: the insurance part below 0 always, the patient part below 0 once no insurance
    # part is open (until then it waits for the patient's share); parts are never netted
    ins, pat = ledger.ins_balance.to_numpy(), ledger.patient_balance.to_numpy()
    owed = np.minimum(ins, 0) + np.where(ins > 0, 0, np.minimum(pat, 0))
    credit = owed < 0
    covered = recouped.reindex(ledger.claim_id).fillna(0).to_numpy() >= -owed
    for claim_id in ledger.claim_id[credit & ~covered]:
        add("credit_balance", claim_id, None)
    out.sort(key=lambda e: (e["kind"], e["claim_id"] or "", e["trace_number"] or "", e.get("amount", 0)))
    return out


def situations(practice: Practice, remits: Remits, books: Books) -> dict[str, list]:
    """Where each of issue 10's situations is in the practice, exception or not (claim ids, trace
    numbers, or amounts in cents for what has no trace), so a check can look at both sides: what
    must be reported and what must not."""
    claims = practice.claims
    events = remits.events
    payments = remits.payments.set_index("payment")
    A = practice.as_of

    def ids(mask) -> list[str]:
        return sorted(claims.claim_id[np.asarray(mask, dtype=bool)])

    outcome = claims.outcome.to_numpy()
    paid_by_secondary = set(events.claim_id[events.kind == "secondary"])
    forwarded = set(events.claim_id[(events.status == "19")])
    reversed_ = set(events.claim_id[events.kind == "reversal"])
    takes = take_backs(remits)
    posted = books.postings[books.postings.amount < 0].groupby(["claim_id", "trace_number"]).size()
    takes["posted"] = pd.MultiIndex.from_frame(takes[["claim_id", "trace"]]).isin(posted.index)
    resent = books.resent.assign(trace=payments.trace.reindex(books.resent.payment).to_numpy(),
                                 amount=payments.amount.reindex(books.resent.payment).to_numpy())
    zero_paid = events[(events.kind != "foreign") & (events.status == "1") & events.all_denied & (events.paid == 0)]
    deposits = books.deposits
    unusual = deposits.description.str.contains("TRN*1*", regex=False) & ~deposits.description.str.contains(
        "HCCLAIMPMT", regex=False)
    unknown = books.injected[books.injected.kind == "unidentified_deposit"]
    payers = practice.payers.set_index("payer_id")
    limit = claims.service_date.to_numpy() + payers.timely_filing_days.reindex(claims.payer_id).to_numpy() * DAY
    held = claims.on_hold.to_numpy()

    def recoupments(mask: pd.Series) -> list[dict]:
        rows = takes[mask].sort_values(["claim_id", "trace"], kind="stable")
        return [{"claim_id": c, "trace_number": t, "amount": int(a)}
                for c, t, a in zip(rows.claim_id, rows.trace, rows.amount, strict=True)]

    return {
        "secondary_paid": sorted(forwarded & paid_by_secondary),
        "forwarded_open": sorted(forwarded - paid_by_secondary),
        "zero_paid_denials": sorted(set(zero_paid.claim_id)),
        "multiple_procedures_correct": ids(claims.mpr_kind == "mpr"),
        "multiple_procedures_wrong_line": ids(claims.mpr_kind == "mpr_wrong"),
        "recoupments_posted": recoupments(takes.posted),
        "recoupments_not_posted": recoupments(~takes.posted),
        "resent_byte_identical": sorted(resent.trace[resent.identical]),
        "resent_new_envelope": sorted(resent.trace[~resent.identical & (resent.trace != "")]),
        "resent_without_trace": sorted(int(a) for a in resent.amount[resent.trace == ""]),
        "unidentified_credits": sorted(int(a) for a in unknown.amount),
        "credits_with_trace_unusual_description": sorted(
            deposits.description[unusual].str.extract(r"TRN\*1\*([^*]+)", expand=False)),
        "correction_before_reversal": ids(claims.correction_first & claims.claim_id.isin(reversed_)),
        "reversal_before_correction": ids(~claims.correction_first & claims.claim_id.isin(reversed_)),
        "unbilled_near_filing_limit": ids(held & (limit <= A + UNBILLED_WARNING_DAYS * DAY)),
        "unbilled_far_from_filing_limit": ids(held & (limit > A + UNBILLED_WARNING_DAYS * DAY)),
        "future_dated": ids(claims.service_date.to_numpy() > A),
        "paid_twice": ids(outcome == "paid_twice"),
    }
