"""Who owes, money already taken back, deadlines that protect the practice, and no open balance
without an owner (issue 10, sections 4, 6, 7 and 8): a hand-built case per rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from xl_ar import codes, denials, tables
from xl_ar.reconcile import Rules, context, reconcile, recoupments
from xl_ar.remittances import read_remittances
from xl_ar.sources import SourceFile

AS_OF = dt.date(2026, 9, 30)
PAYERS = tables.to_frame("payers", [
    {"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial", "payer_ref": "ACME01",
     "timely_filing_days": 90, "appeal_days": 180},
    {"payer_id": "SELF", "name": "Self Pay", "payer_class": "self_pay"},
])


def claim(claim_id: str, charge: int, paid: int, adjusted: int, service: dt.date = dt.date(2026, 8, 1),
          billed: dt.date | None = dt.date(2026, 8, 2), last_activity: dt.date | None = None,
          payer: str = "ACME") -> dict:
    return {"claim_id": claim_id, "account_id": "A1", "payer_id": payer, "service_date": service,
            "billed_date": billed, "charge": charge, "paid": paid, "adjusted": adjusted,
            "balance": charge - paid - adjusted, "responsibility": "insurance", "last_activity_date": last_activity}


def posting(claim_id: str, amount: int, trace: str | None, payer: str = "ACME",
            posted: dt.date = dt.date(2026, 9, 3)) -> dict:
    return {"claim_id": claim_id, "payer_id": payer, "amount": amount, "posted_date": posted, "trace_number": trace}


def remits(*files: str) -> dict[str, pd.DataFrame]:
    found, _ = read_remittances([SourceFile(f"era{i}.835", t.encode()) for i, t in enumerate(files)])
    return found


def inputs(claims: list[dict], files: tuple[str, ...] = (), posts: tuple[dict, ...] = ()) -> tuple:
    postings = tables.to_frame("postings", [{"posting_id": f"T{i}", **p} for i, p in enumerate(posts)])
    return tables.to_frame("claims", claims), remits(*files), postings, tables.empty("deposits")


def run(claims: list[dict], files: tuple[str, ...] = (), posts: tuple[dict, ...] = (), rules: Rules | None = None,
        as_of: dt.date = AS_OF):
    ledger, remitted, postings, deposits = inputs(claims, files, posts)
    return reconcile(ledger, remitted, postings, deposits, as_of, PAYERS, rules=rules)


def of_kind(result, kind: str) -> pd.DataFrame:
    return result.exceptions[result.exceptions.kind == kind]


def one(result, kind: str) -> pd.Series:
    rows = of_kind(result, kind)
    assert len(rows) == 1, result.exceptions[["kind", "claim_id", "trace_number", "reason"]]
    return rows.iloc[0]


def denial(claim_id: str, group: str, reason: str) -> Claim:
    """A whole-claim denial of a 200.00 claim: nothing paid, all of it adjusted under group-reason."""
    return Claim(claim_id, "4", "200", "0", lines=[Line("99213", "200", "0", [(group, reason, "200")])])


# -- 4. adjustment groups decide who owes -----------------------------------------------------------

def test_a_co_denial_is_never_to_bill_the_patient_or_a_secondary():
    # CO-27 (coverage ended): the provider's obligation; our table says "bill patient or secondary" for
    # the reason alone, the CO group makes it a corrected claim to the payer that covered the date
    result = run([claim("C1", 20000, 0, 0)], (era("8801", "0", [denial("C1", "CO", "27")], method="CHK"),))
    row = one(result, "denied")
    assert row.next_action == "correct and resubmit"
    assert row.category == "eligibility"


def test_no_reason_code_under_co_or_pi_bills_the_patient():
    reasons = pd.Series([*codes.carc_table().code, "ZZZ", None], dtype=object)
    for group in ("CO", "PI"):
        _, _, action = codes.describe(reasons, pd.Series([group] * len(reasons)))
        assert set(action) <= {"correct and resubmit", "appeal", "write off", "no action"}, group


def test_a_pr_adjustment_is_the_patients_to_bill_whatever_the_reason():
    category, action = codes.categorize(pd.Series(["PR", "PR"]), pd.Series(["27", "50"]))
    assert list(category) == ["patient_responsibility", "patient_responsibility"]
    assert list(action) == ["bill patient or secondary", "bill patient or secondary"]


def test_an_oa_adjustment_follows_its_reason():
    category, action = codes.categorize(pd.Series(["OA"]), pd.Series(["22"]))
    assert (category[0], action[0]) == ("coordination_of_benefits", "bill patient or secondary")


def test_a_patient_share_reason_under_co_is_contractual():
    # CO-2: the coinsurance is the provider's to absorb, not the patient's
    category, action = codes.categorize(pd.Series(["CO"]), pd.Series(["2"]))
    assert category[0] == "contractual" and action[0] != "bill patient or secondary"


def test_one_code_looked_up_with_its_group_follows_the_group():
    assert codes.carc("27")[2] == "bill patient or secondary"
    assert codes.carc("27", "CO")[2] == "correct and resubmit"
    assert codes.carc("50", "PR")[1:] == ("patient_responsibility", "bill patient or secondary")


# -- 6. money the payer already took back ------------------------------------------------------------

# C1 paid 100.00 on EFT 8801 (payer claim number PCN1); a month later EFT 8802 pays C2 80.00 and
# recoups 30.00 of C1 at the provider level (PLB WO, reference PCN1): BPR02 = 80 - 30 = 50
FIRST = era("8801", "100", [Claim("C1", "1", "200", "100", lines=[Line("99213", "200", "100", [("CO", "45", "100")])],
                                  payer_claim_id="PCN1")], date="20260801")
SECOND = Claim("C2", "1", "200", "80", lines=[Line("99213", "200", "80", [("CO", "45", "120")])], payer_claim_id="PCN2")


def posting_kinds(result) -> list[tuple]:
    ex = result.exceptions
    ex = ex[ex.kind.isin(["unposted_payment", "posting_variance", "posted_without_era"])]
    return sorted(zip(ex.kind, ex.claim_id, ex.trace_number, strict=True))


def test_a_recoupment_referencing_a_payer_claim_number_is_tied_to_that_claim_on_its_payment():
    ledger, remitted, postings, deposits = inputs(
        [claim("C1", 20000, 10000, 10000), claim("C2", 20000, 8000, 12000)],
        (FIRST, era("8802", "50", [SECOND], plb=[("WO:PCN1", "30")], date="20260901")))
    tied = recoupments(context(ledger, remitted, postings, deposits, AS_OF, PAYERS))
    # PLB amount +30.00 (withheld) is -30.00 on the claim, on the trace of the payment carrying it
    assert tied[["claim_id", "trace_number", "reason_code", "amount"]].values.tolist() == [["C1", "8802", "WO", -3000]]


def test_a_recoupment_referencing_the_claim_id_is_tied_to_that_claim():
    ledger, remitted, postings, deposits = inputs(
        [claim("C1", 20000, 10000, 10000), claim("C2", 20000, 8000, 12000)],
        (FIRST, era("8802", "60", [SECOND], plb=[("72:C1", "20")], date="20260901")))
    tied = recoupments(context(ledger, remitted, postings, deposits, AS_OF, PAYERS))
    assert tied[["claim_id", "reason_code", "amount"]].values.tolist() == [["C1", "72", -2000]]


def test_a_recoupment_the_practice_posted_is_not_posted_without_era():
    result = run([claim("C1", 20000, 7000, 10000), claim("C2", 20000, 8000, 12000)],
                 (FIRST, era("8802", "50", [SECOND], plb=[("WO:PCN1", "30")], date="20260901")),
                 (posting("C1", 10000, "8801"), posting("C2", 8000, "8802"), posting("C1", -3000, "8802")))
    assert posting_kinds(result) == []


def test_an_unposted_recoupment_is_an_unposted_payment_of_the_negative_amount():
    result = run([claim("C1", 20000, 10000, 10000), claim("C2", 20000, 8000, 12000)],
                 (FIRST, era("8802", "50", [SECOND], plb=[("WO:PCN1", "30")], date="20260901")),
                 (posting("C1", 10000, "8801"), posting("C2", 8000, "8802")))
    row = one(result, "unposted_payment")
    # expected -30.00 on 8802, nothing posted: variance 0 - (-30.00) = +30.00
    assert (row.claim_id, row.trace_number, row.expected, row.actual, row.variance) == ("C1", "8802", -3000, 0, 3000)


def test_a_plb_whose_reference_names_no_claim_stays_provider_level():
    result = run([claim("C1", 20000, 10000, 10000), claim("C2", 20000, 8000, 12000)],
                 (FIRST, era("8802", "50", [SECOND], plb=[("WO:XX999", "30")], date="20260901")),
                 (posting("C1", 10000, "8801"), posting("C2", 8000, "8802")))
    assert posting_kinds(result) == []


def test_interest_is_never_a_take_back_even_with_a_claim_reference():
    result = run([claim("C1", 20000, 10000, 10000), claim("C2", 20000, 8000, 12000)],
                 (FIRST, era("8802", "82", [SECOND], plb=[("L6:PCN1", "-2")], date="20260901")),
                 (posting("C1", 10000, "8801"), posting("C2", 8000, "8802")))
    assert posting_kinds(result) == []


def test_a_credit_balance_the_payer_already_recouped_is_not_a_refund_to_make():
    # the ledger shows C1 at -30.00 (200.00 - 100.00 paid - 130.00 adjusted); the payer took the 30.00 back
    result = run([claim("C1", 20000, 10000, 13000), claim("C2", 20000, 8000, 12000)],
                 (FIRST, era("8802", "50", [SECOND], plb=[("WO:PCN1", "30")], date="20260901")))
    assert of_kind(result, "credit_balance").empty


def test_a_credit_balance_larger_than_the_recoupment_is_still_a_refund_to_make():
    # credit 30.00, recouped 20.00: 10.00 is still the practice's to return
    result = run([claim("C1", 20000, 10000, 13000), claim("C2", 20000, 8000, 12000)],
                 (FIRST, era("8802", "60", [SECOND], plb=[("FB:PCN1", "20")], date="20260901")))
    assert one(result, "credit_balance").actual == -3000


def test_a_posting_without_trace_matches_a_trace_less_era_payment_of_the_claim():
    result = run([claim("C2", 20000, 8000, 12000)], (era("", "80", [SECOND], date="20260901"),),
                 (posting("C2", 8000, None),))
    assert posting_kinds(result) == []


def test_a_posting_without_trace_of_another_amount_is_a_posting_variance():
    result = run([claim("C2", 20000, 7000, 12000)], (era("", "80", [SECOND], date="20260901"),),
                 (posting("C2", 7000, None),))
    row = one(result, "posting_variance")
    # posted 70.00, the trace-less 835 paid 80.00: variance -10.00
    assert (row.claim_id, row.expected, row.actual, row.variance) == ("C2", 8000, 7000, -1000)


# -- 7. deadlines that protect the practice ---------------------------------------------------------

def test_a_missing_information_denial_is_due_by_timely_filing_from_the_date_of_service():
    # CO-16 (with MA130 the claim cannot be appealed): a new claim is due 90 days after the service
    # on 2026-08-01, i.e. 2026-10-30, not 180 days after the remittance of 2026-09-01
    result = run([claim("C1", 20000, 0, 0)], (era("8801", "0", [denial("C1", "CO", "16")], method="CHK"),))
    row = one(result, "denied")
    assert (row.deadline, row.days_left) == (pd.Timestamp("2026-10-30"), 30)


def test_a_denial_with_remark_ma130_is_due_by_timely_filing_whatever_its_reason():
    # CO-50 alone is appealed (180 days from the remittance); with MA130 the claim is unprocessable and has
    # no appeal rights: a new claim is due 90 days after the service on 2026-08-01, i.e. 2026-10-30
    unprocessable = Claim("C1", "4", "200", "0", lines=[Line("99213", "200", "0", [("CO", "50", "200")])],
                          remarks=["MA130"])
    result = run([claim("C1", 20000, 0, 0)], (era("8801", "0", [unprocessable], method="CHK"),))
    assert one(result, "denied").deadline == pd.Timestamp("2026-10-30")


def test_a_coding_denial_of_some_lines_is_due_by_timely_filing_too():
    partial = Claim("C1", "1", "400", "80", lines=[Line("99213", "200", "80", [("CO", "45", "120")]),
                                                    Line("71046", "200", "0", [("CO", "4", "200")])])
    result = run([claim("C1", 40000, 8000, 12000)], (era("8801", "80", [partial]),), (posting("C1", 8000, "8801"),))
    row = one(result, "partially_denied")
    # served 2026-08-01 + 90 days = 2026-10-30
    assert (row.category, row.deadline) == ("coding", pd.Timestamp("2026-10-30"))


def test_a_denial_to_appeal_keeps_the_appeal_limit_from_the_remittance():
    result = run([claim("C1", 20000, 0, 0)], (era("8801", "0", [denial("C1", "CO", "50")], method="CHK"),))
    # remitted 2026-09-01 + 180 days = 2027-02-28
    assert one(result, "denied").deadline == pd.Timestamp("2027-02-28")


# the patient paid 100.00 on 2026-08-15 (owed: 200.00 charge - 100.00 adjusted = 100.00), then 30.00
# more on 2026-08-25: the cumulative 130.00 went above what was owed on 2026-08-25
CREDIT = claim("C1", 20000, 13000, 10000, last_activity=dt.date(2026, 9, 20))
PATIENT_PAID = (posting("C1", 10000, None, "SELF", dt.date(2026, 8, 15)),
                posting("C1", 3000, None, "SELF", dt.date(2026, 8, 25)))


def test_a_credit_balances_refund_clock_starts_when_the_credit_arose():
    row = one(run([CREDIT], posts=PATIENT_PAID), "credit_balance")
    # 2026-08-25 + 60 days = 2026-10-24: 24 days after the as-of date
    assert (row.deadline, row.days_left) == (pd.Timestamp("2026-10-24"), 24)


def test_a_credit_balances_deadline_does_not_move_with_the_as_of_date():
    later = one(run([CREDIT], posts=PATIENT_PAID, as_of=dt.date(2026, 10, 10)), "credit_balance")
    # still 2026-10-24, now 14 days away
    assert (later.deadline, later.days_left) == (pd.Timestamp("2026-10-24"), 14)


def test_a_credit_that_came_back_after_a_refund_counts_from_its_latest_crossing():
    posts = (*PATIENT_PAID, posting("C1", -3000, None, "SELF", dt.date(2026, 9, 1)),
             posting("C1", 3000, None, "SELF", dt.date(2026, 9, 5)))
    # 100 (8/15), 130 (8/25: above 100), 100 (9/1: refunded), 130 (9/5: above again): 2026-09-05 + 60 = 2026-11-04
    assert one(run([CREDIT], posts=posts), "credit_balance").deadline == pd.Timestamp("2026-11-04")


def test_overdue_ranks_above_the_same_dollars_due_within_14_days():
    assert denials.urgency(np.array([-1.0, 0.0, 14.0, 30.0, 90.0, 91.0, np.nan])).tolist() == [
        2.5, 2.0, 2.0, 1.5, 1.0, 0.8, 1.0]
    result = run([claim("C1", 15000, 0, 0, service=dt.date(2026, 6, 25), billed=dt.date(2026, 7, 15)),
                  claim("C2", 15000, 0, 0, service=dt.date(2026, 7, 10), billed=dt.date(2026, 7, 15))])
    work = result.worklist()
    # both no response, 150.00 x 0.8: C1's filing limit passed 2026-09-23 (x 2.5 = 300), C2's is
    # 2026-10-08, 8 days away (x 2 = 240)
    assert work.claim_id.tolist() == ["C1", "C2"]
    assert work.priority.tolist() == [pytest.approx(300.0), pytest.approx(240.0)]


# -- 8. no open balance without an owner ------------------------------------------------------------

def forwarded(status: str, date: str = "20260801") -> str:
    """The primary paid 80.00 of a 200.00 claim and forwarded it to the secondary (CLP02 = status)."""
    return era("8801", "80", [Claim("C1", status, "200", "80", patient_resp="20", lines=[
        Line("99213", "200", "80", [("CO", "45", "100"), ("PR", "2", "20")])])], date=date)


@pytest.mark.parametrize("status", ["19", "20", "21", "23"])
def test_a_claim_forwarded_to_the_next_payer_still_open_after_30_days_has_an_owner(status):
    # paid 2026-08-01, 60 days ago; 20.00 still open (200.00 - 80.00 paid - 100.00 adjusted)
    result = run([claim("C1", 20000, 8000, 10000)], (forwarded(status),), (posting("C1", 8000, "8801"),))
    row = one(result, "forwarded_unpaid")
    assert (row.claim_id, row.trace_number, row.expected, row.variance) == ("C1", "8801", 2000, -2000)
    # the next payer's filing limit, counted from the forwarding remittance: 2026-08-01 + 90 = 2026-10-30
    assert (row.deadline, row.days_left) == (pd.Timestamp("2026-10-30"), 30)


def test_a_claim_forwarded_30_days_ago_or_less_is_still_in_the_follow_up_window():
    result = run([claim("C1", 20000, 8000, 10000)], (forwarded("19", "20260831"),), (posting("C1", 8000, "8801"),))
    assert of_kind(result, "forwarded_unpaid").empty  # 2026-08-31 is exactly 30 days before the as-of date


def test_a_forwarded_claim_the_secondary_paid_off_is_closed():
    result = run([claim("C1", 20000, 10000, 10000)], (forwarded("19"),), (posting("C1", 8000, "8801"),))
    assert of_kind(result, "forwarded_unpaid").empty


def test_a_claim_processed_as_primary_without_forwarding_is_not_forwarded_unpaid():
    result = run([claim("C1", 20000, 8000, 10000)], (forwarded("1"),), (posting("C1", 8000, "8801"),))
    assert of_kind(result, "forwarded_unpaid").empty


def test_the_follow_up_window_of_a_forwarded_claim_is_configurable():
    result = run([claim("C1", 20000, 8000, 10000)], (forwarded("19", "20260910"),), (posting("C1", 8000, "8801"),),
                 rules=Rules(forwarded_days=14))
    assert one(result, "forwarded_unpaid").claim_id == "C1"  # 20 days > 14


def test_a_claim_never_billed_near_its_filing_limit_has_an_owner():
    result = run([claim("C1", 15000, 0, 0, service=dt.date(2026, 7, 15), billed=None)])
    row = one(result, "unbilled_claim")
    # served 2026-07-15 + 90 days = 2026-10-13, 13 days away (within 30); 150.00 x 0.9 x urgency 2 = 270
    assert (row.expected, row.deadline, row.days_left) == (15000, pd.Timestamp("2026-10-13"), 13)
    assert row.priority == pytest.approx(270.0)


def test_a_claim_never_billed_past_its_filing_limit_is_overdue():
    row = one(run([claim("C1", 15000, 0, 0, service=dt.date(2026, 6, 1), billed=None)]), "unbilled_claim")
    # 2026-06-01 + 90 = 2026-08-30: 31 days past
    assert row.days_left == -31 and "31 days past" in row.reason


def test_a_claim_never_billed_far_from_its_filing_limit_can_wait():
    # 2026-09-01 + 90 = 2026-11-30: 61 days away, beyond the 30-day warning
    assert of_kind(run([claim("C1", 15000, 0, 0, service=dt.date(2026, 9, 1), billed=None)]), "unbilled_claim").empty


def test_the_unbilled_warning_is_configurable():
    result = run([claim("C1", 15000, 0, 0, service=dt.date(2026, 9, 1), billed=None)],
                 rules=Rules(unbilled_warning_days=61))
    assert one(result, "unbilled_claim").days_left == 61


def test_a_self_pay_claim_never_billed_is_not_an_unbilled_claim():
    result = run([claim("C1", 15000, 0, 0, service=dt.date(2026, 6, 1), billed=None, payer="SELF")])
    assert of_kind(result, "unbilled_claim").empty


def test_a_claim_with_a_remittance_is_not_unbilled_even_without_a_billed_date():
    result = run([claim("C1", 20000, 0, 0, service=dt.date(2026, 6, 1), billed=None)],
                 (era("8801", "0", [denial("C1", "CO", "50")], method="CHK"),))
    assert of_kind(result, "unbilled_claim").empty


def test_a_forwarded_balance_of_a_reversal_is_not_a_second_take_back():
    # EFT 8802 reverses C1's 100.00 (CLP02=22, paid -100.00) and pays C2 80.00: net -20.00, so the payer
    # forwards 20.00 (PLB FB PCN1 -20: BPR02 = 80 - 100 + 20 = 0); EFT 8803 withholds it (FB PCN1 +20). The
    # 100.00 taken back is the reversal loop's, posted on 8802; the FB amounts are no take-back of C1
    reversal = Claim("C1", "22", "-200", "-100", lines=[Line("99213", "-200", "-100", [("CO", "45", "-100")])],
                     payer_claim_id="PCN1")
    third = Claim("C3", "1", "200", "50", lines=[Line("99213", "200", "50", [("CO", "45", "150")])],
                  payer_claim_id="PCN3")
    result = run([claim("C1", 20000, 0, 10000), claim("C2", 20000, 8000, 12000), claim("C3", 20000, 5000, 15000)],
                 (FIRST, era("8802", "0", [reversal, SECOND], plb=[("FB:PCN1", "-20")], date="20260901"),
                  era("8803", "30", [third], plb=[("FB:PCN1", "20")], date="20260915")),
                 (posting("C1", 10000, "8801"), posting("C1", -10000, "8802"), posting("C2", 8000, "8802"),
                  posting("C3", 5000, "8803")))
    assert posting_kinds(result) == []
