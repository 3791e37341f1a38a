"""The remittances of the synthetic practice: which claim is paid in which payment, and how.

An *event* is one CLP loop: the first adjudication of a claim (CLP02=19 when the payer forwards
it to the patient's secondary payer), the reversal of a paid claim (CLP02=22, every amount
negated) or its correction, the payment of a denied claim the practice corrected and resubmitted,
the secondary payer's adjudication (CLP02=2, OA-23 for what the primary resolved), a second
payment of a claim already paid (`repeat`), or a claim of another practice that a payer sent to us
by mistake. Events are grouped into payments (one check or EFT per payer and payment day);
provider-level adjustments (interest, recoupments of overpayments) are added per payment. A few
check payments carry no trace number (an empty TRN02).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.synth import reference as ref
from xl_ar.synth.practice import DAY, Practice, next_payday

AMOUNT_COLUMNS = ("allowed", "deductible", "copay", "coinsurance", "sequestration", "paid", "contractual",
                  "mpr_reduction", "prior_payer")
"""Line amounts of an event; `contractual` (charge - allowed) includes `mpr_reduction` (CO-59), the
rest of it is CO-45; `prior_payer` is OA-23 on a secondary payer's lines."""
TAKE_BACK_REASONS = ("WO", "FB", "72")
"""PLB reasons that take money back for the claim their reference names (a recoupment)."""


@dataclass
class Remits:
    """CLP events, their lines, the payments they are in and the PLB amounts of each payment."""

    events: pd.DataFrame
    """One row per CLP loop: event, payment, claim_id, kind, status, payer_id (the payer of the loop),
    charge, paid, patient_resp, payer_claim_id."""
    lines: pd.DataFrame
    """One row per SVC loop of an event, with the amounts as sent (negated for a reversal)."""
    payments: pd.DataFrame
    """One row per payment: payment, payer_id, pay_date, method, trace ("" when the 835 has none),
    amount (BPR02)."""
    plb: pd.DataFrame
    """One row per PLB amount: payment, reason, reference, amount (positive reduces the payment) and
    claim_id, the claim its reference names."""


def _event_lines(lines: pd.DataFrame, mask: np.ndarray, prefix: str, sign: int) -> pd.DataFrame:
    out = lines.loc[mask, ["claim", "claim_id", "line_no", "code", "modifiers", "units", "charge",
                           "service_date", "line_control", "expected", "expected_allowed", "denied", "denial_category",
                           "denial_group", "denial_carc", "denial_rarc"]].copy()
    for col in AMOUNT_COLUMNS:
        out[col] = lines.loc[mask, prefix + col].to_numpy() * sign
    out["charge"] = out["charge"] * sign
    if prefix == "contract_":
        out["denied"] = False
        out[["denial_category", "denial_group", "denial_carc", "denial_rarc"]] = ""
    return out


def _secondary_lines(lines: pd.DataFrame, mask: np.ndarray, claims: pd.DataFrame) -> pd.DataFrame:
    """The secondary payer's lines of forwarded claims: OA-23 for what the primary resolved (charge
    - the primary's patient share), the patient share paid, except the deductible where the
    secondary leaves it to the patient; allowed as the primary allowed it."""
    out = _event_lines(lines, mask, "", 1)
    share = (out.deductible + out.copay + out.coinsurance).to_numpy()
    c = out.claim.to_numpy()
    pairs = pd.Series(list(zip(claims.payer_id.to_numpy()[c], claims.secondary_payer_id.to_numpy()[c],
                               strict=True)), dtype=object)
    keeps = pairs.isin(ref.SUPPLEMENT_SKIPS_DEDUCTIBLE).to_numpy()
    left = np.where(keeps, out.deductible.to_numpy(), 0)
    out["prior_payer"] = out.charge.to_numpy() - share
    out["paid"] = share - left
    out["deductible"] = left
    for col in ("copay", "coinsurance", "sequestration", "contractual", "mpr_reduction"):
        out[col] = 0
    return out


def build(practice: Practice, rng: np.random.Generator) -> Remits:
    """Events, payments and PLB amounts of every payment dated on or before the as-of date."""
    A = practice.as_of
    claims, lines = practice.claims, practice.lines
    payers = practice.payers.set_index("payer_id")
    outcome = claims.outcome.to_numpy()
    pay_date = claims.pay_date.to_numpy()
    adjudicated = ~np.isnat(pay_date) & (pay_date <= A)

    # -- first adjudication of every answered claim ---------------------------------------------------
    line_outcome_ok = adjudicated[lines.claim.to_numpy()]
    first = _event_lines(lines, line_outcome_ok, "", 1)
    first["kind"] = "original"
    first["pay_date"] = pay_date[first.claim.to_numpy()]

    # -- reversal and correction of reversed claims, three to six weeks later ----------------------------
    rev_claims = np.flatnonzero(adjudicated & (outcome == "reversed"))
    pay_days = payers.pay_days.reindex(claims.payer_id.to_numpy()[rev_claims]).to_numpy()
    rev_date = next_payday(pay_date[rev_claims] + rng.integers(21, 43, len(rev_claims)) * DAY, pay_days)
    rev_date_of = pd.Series(rev_date, index=rev_claims)
    rev_mask = np.isin(lines.claim.to_numpy(), rev_claims[rev_date <= A])
    reversal = _event_lines(lines, rev_mask, "", -1)
    reversal["kind"] = "reversal"
    correction = _event_lines(lines, rev_mask, "contract_", 1)
    correction["kind"] = "correction"
    for frame in (reversal, correction):
        frame["pay_date"] = rev_date_of.reindex(frame.claim.to_numpy()).to_numpy()

    # -- corrected and resubmitted denials (not timely filing or duplicates), paid at contract -------
    category = claims.denial_category.to_numpy()
    resubmit = np.flatnonzero(adjudicated & (outcome == "denied") & ~np.isin(category, ["timely_filing", "duplicate"])
                              & (rng.random(len(claims)) < 0.65))
    payer_of = claims.payer_id.to_numpy()[resubmit]
    lag = rng.integers(payers.lag_days.map(lambda t: t[0]).reindex(payer_of).to_numpy(),
                       payers.lag_days.map(lambda t: t[1]).reindex(payer_of).to_numpy() + 1)
    resubmit_date = next_payday(pay_date[resubmit] + (rng.integers(10, 41, len(resubmit)) + lag) * DAY,
                                payers.pay_days.reindex(payer_of).to_numpy())
    resubmit_date_of = pd.Series(resubmit_date, index=resubmit)
    resubmission = _event_lines(lines, np.isin(lines.claim.to_numpy(), resubmit[resubmit_date <= A]), "contract_", 1)
    resubmission["kind"] = "resubmission"
    resubmission["pay_date"] = resubmit_date_of.reindex(resubmission.claim.to_numpy()).to_numpy()

    # -- the secondary payer's payment of forwarded claims, two to five weeks after the primary's ---------
    sec = np.flatnonzero(adjudicated & (outcome == "crossover"))
    sec_payer = claims.secondary_payer_id.to_numpy()[sec]
    sec_date = next_payday(pay_date[sec] + rng.integers(14, 36, len(sec)) * DAY,
                           payers.pay_days.reindex(sec_payer).to_numpy())
    secondary = _secondary_lines(lines, np.isin(lines.claim.to_numpy(), sec[sec_date <= A]), claims)
    secondary["kind"] = "secondary"
    secondary["pay_date"] = pd.Series(sec_date, index=sec).reindex(secondary.claim.to_numpy()).to_numpy()

    # -- a claim paid a second time, in a later payment of the same payer ------------------------------
    twice = np.flatnonzero(adjudicated & (outcome == "paid_twice"))
    twice_date = next_payday(pay_date[twice] + rng.integers(14, 43, len(twice)) * DAY,
                             payers.pay_days.reindex(claims.payer_id.to_numpy()[twice]).to_numpy())
    repeat = _event_lines(lines, np.isin(lines.claim.to_numpy(), twice[twice_date <= A]), "", 1)
    repeat["kind"] = "repeat"
    repeat["pay_date"] = pd.Series(twice_date, index=twice).reindex(repeat.claim.to_numpy()).to_numpy()

    ev_lines = pd.concat([first, reversal, correction, resubmission, secondary, repeat], ignore_index=True)
    kind_order = ev_lines.kind.map({"original": 0, "reversal": 1, "correction": 2, "resubmission": 3,
                                    "repeat": 4, "secondary": 5}).to_numpy()
    # the correction before the reversal in the same payment, for the payers that write it so
    flip = claims.correction_first.to_numpy()[ev_lines.claim.to_numpy()] & np.isin(kind_order, [1, 2])
    kind_order = np.where(flip, 3 - kind_order, kind_order)
    ev_lines["payer_id"] = np.where(ev_lines.kind == "secondary",
                                    claims.secondary_payer_id.to_numpy()[ev_lines.claim.to_numpy()],
                                    claims.payer_id.to_numpy()[ev_lines.claim.to_numpy()])
    ev_lines = ev_lines.assign(_k=kind_order).sort_values(
        ["pay_date", "payer_id", "claim_id", "_k", "line_no"], kind="stable", ignore_index=True
    ).drop(columns="_k")

    # -- CLP level ----------------------------------------------------------------------------------------
    ev_key = ev_lines.claim_id + "|" + ev_lines.kind
    ev_lines["event"] = pd.factorize(ev_key)[0]
    g = ev_lines.groupby("event", sort=True)
    events = g.agg(
        claim=("claim", "first"),
        claim_id=("claim_id", "first"),
        kind=("kind", "first"),
        payer_id=("payer_id", "first"),
        pay_date=("pay_date", "first"),
        charge=("charge", "sum"),
        paid=("paid", "sum"),
        deductible=("deductible", "sum"),
        copay=("copay", "sum"),
        coinsurance=("coinsurance", "sum"),
        contractual=("contractual", "sum"),
        sequestration=("sequestration", "sum"),
        expected=("expected", "sum"),
        allowed=("allowed", "sum"),
        mpr_reduction=("mpr_reduction", "sum"),
        prior_payer=("prior_payer", "sum"),
        any_denied=("denied", "any"),
        all_denied=("denied", "all"),
    ).reset_index()
    events["patient_resp"] = events.deductible + events.copay + events.coinsurance
    claim_of = events.claim.to_numpy()
    forwarded = np.isin(outcome[claim_of], ["crossover", "crossover_open"]) & (events.kind == "original").to_numpy()
    zero_paid = claims.zero_paid_denial.to_numpy()[claim_of]
    events["status"] = np.select(
        [events.kind == "reversal", events.kind == "secondary", events.all_denied & ~zero_paid, forwarded],
        ["22", "2", "4", "19"], default="1")

    # foreign claims: a payer sends us a claim of another practice (CLP01 unknown to the ledger)
    payment_keys = events[["payer_id", "pay_date"]].drop_duplicates().reset_index(drop=True)
    n_foreign = round(0.015 * len(payment_keys)) if len(payment_keys) >= 20 else 0
    foreign_at = np.sort(rng.choice(len(payment_keys), size=n_foreign, replace=False)) if n_foreign else []
    foreign_rows, foreign_lines = [], []
    for i, k in enumerate(foreign_at):
        payer_id, when = payment_keys.payer_id[k], payment_keys.pay_date[k]
        fs = practice.fee_schedule
        fee = int(fs.allowed[(fs.payer_id == payer_id) & (fs.code == "99213") & (fs.modifier == "")].iloc[0])
        charge = 18500
        seq = round(fee * 0.02) if payers.sequestration[payer_id] else 0
        row = {
            "claim": -1, "claim_id": f"XZ{int(rng.integers(10**6, 10**7))}", "kind": "foreign",
            "payer_id": payer_id, "pay_date": when, "charge": charge, "paid": fee - seq, "deductible": 0,
            "copay": 0, "coinsurance": 0, "contractual": charge - fee, "sequestration": seq,
            "expected": fee, "allowed": fee, "any_denied": False, "all_denied": False, "patient_resp": 0,
            "mpr_reduction": 0, "prior_payer": 0,
            "status": "1", "event": len(events) + i,
        }
        foreign_rows.append(row)
        foreign_lines.append({
            "claim": -1, "claim_id": row["claim_id"], "line_no": 1, "code": "99213", "modifiers": "",
            "units": 1, "charge": charge, "service_date": when - 20 * DAY, "line_control": "", "expected": fee,
            "expected_allowed": fee,
            "denied": False, "denial_category": "", "denial_group": "", "denial_carc": "", "denial_rarc": "",
            "allowed": fee, "deductible": 0, "copay": 0, "coinsurance": 0, "sequestration": seq,
            "paid": fee - seq, "contractual": charge - fee, "mpr_reduction": 0, "prior_payer": 0,
            "kind": "foreign", "pay_date": when,
            "payer_id": payer_id, "event": row["event"],
        })
    if foreign_rows:
        events = pd.concat([events, pd.DataFrame(foreign_rows)], ignore_index=True)
        ev_lines = pd.concat([ev_lines, pd.DataFrame(foreign_lines)], ignore_index=True)

    # -- payments: one per payer and payment day ------------------------------------------------------------
    events = events.sort_values(["pay_date", "payer_id", "claim_id", "event"], kind="stable", ignore_index=True)
    events["payment"] = pd.factorize(events.payer_id + "|" + events.pay_date.astype(str))[0]
    ev_lines = ev_lines.merge(events[["event", "payment"]], on="event")
    ev_lines = ev_lines.sort_values(["payment", "event", "line_no"], kind="stable", ignore_index=True)
    events["payer_claim_id"] = _payer_claim_numbers(rng, events)

    payments = events.groupby("payment", sort=True).agg(
        payer_id=("payer_id", "first"), pay_date=("pay_date", "first"), total_paid=("paid", "sum"),
        claims=("event", "size")).reset_index()
    payments["method"] = payers.method.reindex(payments.payer_id).to_numpy()
    plb = _provider_adjustments(rng, events, payments, practice)
    plb_sum = plb.groupby("payment").amount.sum().reindex(payments.payment, fill_value=0).to_numpy()
    payments["amount"] = payments.total_paid.to_numpy() - plb_sum
    payments.loc[payments.amount == 0, "method"] = "NON"
    payments["trace"] = _traces(rng, payments)
    # a few checks whose 835 carries no trace number (TRN*1**...); their amount is unique, so the
    # bank line (which shows no check number either) matches them by amount alone
    unique = ~payments.amount.duplicated(keep=False).to_numpy()
    pool = np.flatnonzero((payments.method == "CHK").to_numpy() & (payments.amount > 0).to_numpy() & unique
                          & (payments.pay_date <= A - 20 * DAY).to_numpy() & ~payments.payment.isin(plb.payment))
    k = int(min(len(pool), max(3, round(0.005 * len(payments))))) if len(payments) >= 20 else 0
    payments.loc[np.sort(rng.permutation(pool)[:k]), "trace"] = ""
    return Remits(events, ev_lines, payments, plb)


def _payer_claim_numbers(rng: np.random.Generator, events: pd.DataFrame) -> np.ndarray:
    """Payer claim control numbers (CLP07): unique per event, payer-specific shape."""
    base = int(rng.integers(10**9, 9 * 10**9))
    seqs = base + np.arange(len(events)) * 7 + rng.integers(0, 7, len(events))
    prefix = events.payer_id.map({"MCR": "22", "MCD": "MD", "SMH": "SM", "KCA": "KC", "HVI": "HV"}).fillna("ZZ")
    year = events.pay_date.dt.year.astype(str).str[2:]
    return (prefix + year + pd.Series(seqs, index=events.index).astype(str)).to_numpy()


def _traces(rng: np.random.Generator, payments: pd.DataFrame) -> np.ndarray:
    """TRN02: EFT trace numbers for ACH, check numbers for checks, unique across the practice."""
    n = len(payments)
    eft = rng.choice(9 * 10**8, size=n, replace=False) + 10**8 if n else np.array([], dtype=int)
    check_start = int(rng.integers(100000, 800000))
    checks = check_start + np.cumsum(rng.integers(1, 40, n))
    method = payments.method.to_numpy()
    return np.where(method == "CHK", checks.astype(str), "88" + eft.astype(str))


def _provider_adjustments(rng: np.random.Generator, events: pd.DataFrame, payments: pd.DataFrame,
                          practice: Practice) -> pd.DataFrame:
    """PLB amounts: prompt-pay interest (L6, negative: adds to the payment) on some claims of
    payers that pay it, and recoupments (positive) in a later payment: of the excess allowed on half
    of the overpaid claims (WO, referencing the claim's CLP07), and of the whole second payment of
    a claim paid twice (WO or 72, referencing the second loop's CLP07 or the claim id)."""
    payers = practice.payers.set_index("payer_id")
    rows = []
    interest_payers = [p for p in payers.index if payers.interest[p]]
    cand = events[(events.kind == "original") & events.payer_id.isin(interest_payers) & (events.paid > 0)]
    pick = cand[rng.random(len(cand)) < 0.03]
    interest = -np.maximum(50, np.round(pick.paid.to_numpy() * rng.uniform(0.005, 0.03, len(pick)))).astype("int64")
    rows.append(pd.DataFrame({"payment": pick.payment.to_numpy(), "reason": "L6",
                              "reference": pick.payer_claim_id.to_numpy(), "amount": interest,
                              "claim_id": pick.claim_id.to_numpy()}))
    outcome = np.where(events.claim.to_numpy() >= 0,
                       practice.claims.outcome.to_numpy()[events.claim.clip(lower=0).to_numpy()], "")
    # half of the overpaid claims: the excess allowed is recovered
    over = events[(events.kind == "original") & (outcome == "overpaid")]
    over = over[rng.random(len(over)) < 0.5].assign(amount=lambda f: f.allowed - f.expected, reason="WO")
    over = over[over.amount > 0].assign(reference=lambda f: f.payer_claim_id)
    # every claim paid twice: the second payment is recovered, referenced by its CLP07 or the claim id
    twice = events[events.kind == "repeat"]
    twice = twice.assign(amount=twice.paid, reason=np.where(rng.random(len(twice)) < 0.75, "WO", "72"),
                         reference=np.where(rng.random(len(twice)) < 0.7, twice.payer_claim_id, twice.claim_id))
    rows.append(_recoupments(pd.concat([over, twice], ignore_index=True), events, payments))
    plb = pd.concat(rows, ignore_index=True)[["payment", "reason", "reference", "amount", "claim_id"]]
    plb["payment"] = plb.payment.astype("int64")
    plb["amount"] = plb.amount.astype("int64")
    return plb.sort_values(["payment", "reason", "reference"], kind="stable", ignore_index=True)


def _recoupments(due: pd.DataFrame, events: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """Each amount taken back in the payer's first payment 30 to 90 days after the claim's payment
    whose claims total absorbs it with $100 to spare (recoupments of one payment taken together);
    an amount with no such payment by the as-of date is not recouped."""
    columns = ["payment", "reason", "reference", "amount", "claim_id"]
    if due.empty:
        return pd.DataFrame(columns=columns)
    big = payments.merge(events.groupby("payment").paid.sum().rename("paid_sum"), on="payment")
    target = due.assign(due=due.pay_date + np.timedelta64(30, "D")).sort_values(["due", "event"], kind="stable")
    found = pd.merge_asof(target, big[["payer_id", "pay_date", "payment", "paid_sum"]].rename(
        columns={"pay_date": "later_date", "payment": "later"}).sort_values("later_date", kind="stable"),
        left_on="due", right_on="later_date", by="payer_id", direction="forward")
    found = found[found.later_date.notna() & (found.later_date <= found.pay_date + np.timedelta64(90, "D"))]
    taken = found.groupby("later").amount.cumsum()
    found = found[(found.paid_sum - taken > 10000).to_numpy()]
    return pd.DataFrame({"payment": found.later.astype("int64").to_numpy(), "reason": found.reason.to_numpy(),
                         "reference": found.reference.to_numpy(), "amount": found.amount.to_numpy(),
                         "claim_id": found.claim_id.to_numpy()}, columns=columns)
