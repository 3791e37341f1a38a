"""Reconciliation: a hand-built case for every exception kind, amounts worked out in the comments."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from xl_ar import tables
from xl_ar.reconcile import Rules, match_lines, reconcile
from xl_ar.remittances import read_remittances
from xl_ar.sources import SourceFile

AS_OF = dt.date(2026, 9, 30)

PAYERS = tables.to_frame("payers", [
    {"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial", "payer_ref": "ACME01",
     "timely_filing_days": 90, "appeal_days": 180},
    {"payer_id": "SELF", "name": "Self Pay", "payer_class": "self_pay"},
])
FEES = tables.to_frame("fee_schedule", [
    {"payer_id": "ACME", "procedure_code": "99213", "modifier": None, "allowed": 10000},
    {"payer_id": "ACME", "procedure_code": "71046", "modifier": None, "allowed": 5000},
    {"payer_id": "ACME", "procedure_code": "71046", "modifier": "26", "allowed": 1600},
])


def ledger(*rows) -> pd.DataFrame:
    """rows: (claim_id, charge, paid, adjusted, billed days before as-of)."""
    out = []
    for claim_id, charge, paid, adjusted, billed_ago in rows:
        billed = AS_OF - dt.timedelta(days=billed_ago)
        out.append({"claim_id": claim_id, "account_id": "A1", "payer_id": "ACME", "service_date": billed,
                    "billed_date": billed, "charge": charge, "paid": paid, "adjusted": adjusted,
                    "balance": charge - paid - adjusted, "responsibility": "insurance"})
    return tables.to_frame("claims", out)


def lines(*rows) -> pd.DataFrame:
    """rows: (claim_id, line_no, code, modifiers, control)."""
    return tables.to_frame("claim_lines", [
        {"claim_id": c, "line_no": n, "procedure_code": code, "modifiers": mods, "units": 1, "charge": 20000,
         "service_date": dt.date(2026, 8, 1), "line_control": control} for c, n, code, mods, control in rows])


def postings(*rows) -> pd.DataFrame:
    """rows: (claim_id, amount in cents, trace or None, payer)."""
    return tables.to_frame("postings", [
        {"posting_id": f"T{i}", "claim_id": c, "payer_id": payer, "amount": a, "posted_date": dt.date(2026, 9, 3),
         "trace_number": t} for i, (c, a, t, payer) in enumerate(rows)])


def deposits(*rows) -> pd.DataFrame:
    """rows: (amount in cents, description, date)."""
    from xl_ar.bank import trace_from_description

    frame = pd.DataFrame([{"deposit_id": f"B{i}", "deposit_date": d, "amount": a, "description": text}
                          for i, (a, text, d) in enumerate(rows)])
    if frame.empty:
        return tables.empty("deposits")
    frame["trace_number"] = trace_from_description(frame.description)
    return tables.from_columns("deposits", {c: frame[c] for c in frame.columns})


def remits(*files: str) -> dict[str, pd.DataFrame]:
    tabs, findings = read_remittances([SourceFile(f"era{i}.835", t.encode()) for i, t in enumerate(files)])
    assert [f for f in findings if f.severity == "error"] == []
    return tabs


def run(claims, files, post=None, banks=None, claim_lines=None, rules=None):
    return reconcile(claims, remits(*files), post if post is not None else postings(),
                     banks if banks is not None else deposits(), AS_OF, PAYERS, claim_lines, FEES, rules)


def kinds(result) -> list[tuple]:
    return sorted((k, c, t) for k, c, t in zip(result.exceptions.kind, result.exceptions.claim_id,
                                                result.exceptions.trace_number, strict=True))


def one(result, kind: str) -> pd.Series:
    rows = result.exceptions[result.exceptions.kind == kind]
    assert len(rows) == 1, result.exceptions[["kind", "claim_id", "trace_number"]]
    return rows.iloc[0]


# a clean payment: 99213 billed 200, allowed 100, patient 20, paid 80 on EFT 8801
CLEAN = Claim("C1", "1", "200", "80", patient_resp="20", lines=[
    Line("99213", "200", "80", [("CO", "45", "100"), ("PR", "2", "20")], control="C1-1", allowed="100")])
DEPOSIT_8801 = (8000, "HCCLAIMPMT ACME HEALTH TRN*1*8801*1999999999\\", dt.date(2026, 9, 1))


def test_a_clean_payment_has_no_exception():
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [era("8801", "80", [CLEAN])],
                 postings(("C1", 8000, "8801", "ACME")), deposits(DEPOSIT_8801), lines(("C1", 1, "99213", "", "C1-1")))
    assert kinds(result) == []


def test_unposted_payment():
    result = run(ledger(("C1", 20000, 0, 0, 60)), [era("8801", "80", [CLEAN])], postings(), deposits(DEPOSIT_8801))
    row = one(result, "unposted_payment")
    # the 835 paid 80.00, nothing posted: variance 0 - 80.00
    assert (row.claim_id, row.trace_number, row.expected, row.actual, row.variance) == ("C1", "8801", 8000, 0, -8000)
    assert row.next_action == "post the payment" and row.priority > 0


def test_a_payment_too_recent_to_be_posted_is_not_an_exception():
    recent = era("8801", "80", [CLEAN], date="20260929")  # one day before the as-of date
    result = run(ledger(("C1", 20000, 0, 0, 60)), [recent], postings(), deposits(DEPOSIT_8801))
    assert "unposted_payment" not in set(result.exceptions.kind)


def test_posting_variance():
    result = run(ledger(("C1", 20000, 8800, 10000, 60)), [era("8801", "80", [CLEAN])],
                 postings(("C1", 8800, "8801", "ACME")), deposits(DEPOSIT_8801))
    row = one(result, "posting_variance")
    # posted 88.00, paid 80.00: variance +8.00
    assert (row.expected, row.actual, row.variance) == (8000, 8800, 800)


def test_posted_without_era_and_patient_payments_left_alone():
    result = run(ledger(("C1", 20000, 8000, 10000, 60), ("C2", 20000, 5000, 0, 60)), [era("8801", "80", [CLEAN])],
                 postings(("C1", 8000, "8801", "ACME"), ("C2", 5000, "4455667", "ACME"), ("C2", 2000, None, "SELF")),
                 deposits(DEPOSIT_8801))
    row = one(result, "posted_without_era")
    assert (row.claim_id, row.trace_number, row.actual) == ("C2", "4455667", 5000)


def test_era_without_deposit_and_deposit_without_era():
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [era("8801", "80", [CLEAN])],
                 postings(("C1", 8000, "8801", "ACME")),
                 deposits((12345, "HCCLAIMPMT ACME HEALTH TRN*1*9999*1999999999\\", dt.date(2026, 9, 2)),
                          (4321, "CARD SETTLEMENT MERCHANT 4471", dt.date(2026, 9, 2))))
    assert one(result, "era_without_deposit").expected == 8000
    row = one(result, "deposit_without_era")  # the card batch is patient money, not an exception
    assert (row.trace_number, row.actual) == ("9999", 12345)


def test_deposit_variance_by_trace():
    short = (7900, "HCCLAIMPMT ACME HEALTH TRN*1*8801*1999999999\\", dt.date(2026, 9, 1))
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [era("8801", "80", [CLEAN])],
                 postings(("C1", 8000, "8801", "ACME")), deposits(short))
    row = one(result, "deposit_variance")
    # bank 79.00, 835 80.00: variance -1.00
    assert (row.trace_number, row.expected, row.actual, row.variance) == ("8801", 8000, 7900, -100)


def test_an_eft_whose_bank_line_lacks_the_trace_matches_by_amount_and_date():
    no_trace = (8000, "HCCLAIMPMT ACME HEALTH", dt.date(2026, 9, 2))
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [era("8801", "80", [CLEAN])],
                 postings(("C1", 8000, "8801", "ACME")), deposits(no_trace))
    assert kinds(result) == []


def test_a_bank_line_of_the_same_amount_weeks_later_does_not_match():
    late = (8000, "HCCLAIMPMT ACME HEALTH", dt.date(2026, 9, 20))  # 19 days after the payment
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [era("8801", "80", [CLEAN])],
                 postings(("C1", 8000, "8801", "ACME")), deposits(late))
    assert {k for k, _, _ in kinds(result)} == {"era_without_deposit", "deposit_without_era"}


def test_plb_recoupment_explains_the_payment_and_the_deposit():
    # claims pay 80.00; PLB WO recoups 30.00 of an earlier overpayment: BPR02 = 80 - 30 = 50
    text = era("8801", "50", [CLEAN], plb=[("WO:PCN0", "30")])
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [text], postings(("C1", 8000, "8801", "ACME")),
                 deposits((5000, "HCCLAIMPMT ACME HEALTH TRN*1*8801*1999999999\\", dt.date(2026, 9, 1))))
    assert kinds(result) == []


def test_deposit_of_the_claims_total_before_plb_is_explained():
    text = era("8801", "50", [CLEAN], plb=[("WO:PCN0", "30")])
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [text], postings(("C1", 8000, "8801", "ACME")),
                 deposits((8000, "HCCLAIMPMT ACME HEALTH TRN*1*8801*1999999999\\", dt.date(2026, 9, 1))))
    row = one(result, "deposit_variance")
    assert row.variance == 3000 and "before the provider-level adjustments" in row.reason


def test_duplicate_era_is_flagged_and_not_counted_twice():
    first = era("8801", "80", [CLEAN], control=1)
    again = era("8801", "80", [CLEAN], control=2, date="20260901")
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [first, again], postings(("C1", 8000, "8801", "ACME")),
                 deposits(DEPOSIT_8801))
    assert kinds(result) == [("duplicate_era", None, "8801")]  # no posting variance from counting it twice


def test_a_duplicate_era_names_the_file_of_the_payment_it_repeats():
    later = era("8801", "80", [CLEAN], control=2, date="20260905")  # era0.835: sent again four days later
    first = era("8801", "80", [CLEAN], control=1, date="20260901")  # era1.835: the original, the earliest
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [later, first], postings(("C1", 8000, "8801", "ACME")),
                 deposits(DEPOSIT_8801))
    row = one(result, "duplicate_era")
    assert row.reason == "same payer, trace number and amount as era1.835"
    assert (row.trace_number, row.actual) == ("8801", 8000)  # the later copy's 80.00, flagged, not counted


def test_unmatched_remit():
    stranger = Claim("ZZ999", "1", "100", "40", lines=[Line("99213", "100", "40", [("CO", "45", "60")])])
    result = run(ledger(("C1", 20000, 8000, 10000, 60)), [era("8801", "120", [CLEAN, stranger])],
                 postings(("C1", 8000, "8801", "ACME")),
                 deposits((12000, "HCCLAIMPMT ACME HEALTH TRN*1*8801*1999999999\\", dt.date(2026, 9, 1))))
    row = one(result, "unmatched_remit")
    assert (row.claim_id, row.actual) == ("ZZ999", 4000)
    assert "unposted_payment" not in set(result.exceptions.kind)


def test_no_response_after_30_days():
    result = run(ledger(("C1", 20000, 8000, 10000, 60), ("C2", 15000, 0, 0, 31), ("C3", 15000, 0, 0, 29)),
                 [era("8801", "80", [CLEAN])], postings(("C1", 8000, "8801", "ACME")), deposits(DEPOSIT_8801))
    row = one(result, "no_response")
    # C2 billed 31 days ago (C3, 29 days, is still waiting normally); timely filing 90 days from service
    assert (row.claim_id, row.expected, row.days_left) == ("C2", 15000, 90 - 31)


def test_denied_with_its_category_and_action():
    denied = Claim("C2", "4", "200", "0", lines=[Line("99213", "200", "0", [("CO", "50", "200")])])
    result = run(ledger(("C2", 20000, 0, 0, 60)), [era("8802", "0", [denied], method="CHK")])
    row = one(result, "denied")
    assert (row.category, row.next_action) == ("medical_necessity", "appeal")
    assert row.reason == "denied: CO-50 Not deemed medically necessary"
    # appeal within 180 days of the remittance (2026-09-01): 2027-02-28, 151 days after the as-of date
    assert row.deadline == pd.Timestamp("2027-02-28") and row.days_left == 151


def test_a_denial_written_off_is_no_longer_open():
    denied = Claim("C2", "4", "200", "0", lines=[Line("99213", "200", "0", [("CO", "29", "200")])])
    result = run(ledger(("C2", 20000, 0, 20000, 60)), [era("8802", "0", [denied], method="CHK")])
    assert "denied" not in set(result.exceptions.kind)


def test_partially_denied():
    partial = Claim("C3", "1", "400", "80", patient_resp="20", lines=[
        Line("99213", "200", "80", [("CO", "45", "100"), ("PR", "2", "20")], allowed="100"),
        Line("71046", "200", "0", [("CO", "97", "200")])])
    result = run(ledger(("C3", 40000, 8000, 10000, 60)), [era("8803", "80", [partial])],
                 postings(("C3", 8000, "8803", "ACME")),
                 deposits((8000, "HCCLAIMPMT ACME HEALTH TRN*1*8803*1999999999\\", dt.date(2026, 9, 1))))
    row = one(result, "partially_denied")
    assert (row.expected, row.category, row.next_action) == (20000, "bundling", "write off")


def test_underpaid_beyond_5_dollars_and_2_percent():
    # allowed 90.00 against 100.00: short 10.00 (> 5.00 and > 2% of 100.00)
    low = Claim("C4", "1", "200", "72", patient_resp="18", lines=[
        Line("99213", "200", "72", [("CO", "45", "110"), ("PR", "2", "18")], allowed="90")])
    result = run(ledger(("C4", 20000, 7200, 11000, 60)), [era("8804", "72", [low])],
                 postings(("C4", 7200, "8804", "ACME")),
                 deposits((7200, "HCCLAIMPMT ACME HEALTH TRN*1*8804*1999999999\\", dt.date(2026, 9, 1))))
    row = one(result, "underpaid")
    assert (row.expected, row.actual, row.variance) == (10000, 9000, -1000)


def test_a_small_shortfall_is_not_an_underpayment():
    # allowed 96.00 against 100.00: short 4.00, under the 5.00 threshold
    low = Claim("C4", "1", "200", "76.8", patient_resp="19.2", lines=[
        Line("99213", "200", "76.8", [("CO", "45", "104"), ("PR", "2", "19.2")], allowed="96")])
    result = run(ledger(("C4", 20000, 7680, 10400, 60)), [era("8804", "76.8", [low])],
                 postings(("C4", 7680, "8804", "ACME")),
                 deposits((7680, "HCCLAIMPMT ACME HEALTH TRN*1*8804*1999999999\\", dt.date(2026, 9, 1))))
    assert "underpaid" not in set(result.exceptions.kind)


def test_overpaid():
    high = Claim("C4", "1", "200", "96", patient_resp="24", lines=[
        Line("99213", "200", "96", [("CO", "45", "80"), ("PR", "2", "24")], allowed="120")])
    result = run(ledger(("C4", 20000, 9600, 8000, 60)), [era("8804", "96", [high])],
                 postings(("C4", 9600, "8804", "ACME")),
                 deposits((9600, "HCCLAIMPMT ACME HEALTH TRN*1*8804*1999999999\\", dt.date(2026, 9, 1))))
    row = one(result, "overpaid")
    # allowed 120.00 vs 100.00: +20.00; refund within 60 days of the payment (2026-10-31)
    assert (row.variance, row.deadline) == (2000, pd.Timestamp("2026-10-31"))


def test_a_dropped_modifier_is_priced_with_the_billed_modifier():
    # billed 71046-26 (professional component, 16.00); the payer drops the modifier and sends no
    # REF*6R; it allowed 16.00, which is right for 71046-26 (and would look 34.00 short for 71046)
    line = Line("71046", "110", "16", [("CO", "45", "94")], allowed="16")
    claim = Claim("C5", "1", "110", "16", lines=[line])
    result = run(ledger(("C5", 11000, 1600, 9400, 60)), [era("8805", "16", [claim])],
                 postings(("C5", 1600, "8805", "ACME")),
                 deposits((1600, "HCCLAIMPMT ACME HEALTH TRN*1*8805*1999999999\\", dt.date(2026, 9, 1))),
                 lines(("C5", 1, "71046", "26", "C5-1")))
    assert kinds(result) == []


def test_reordered_modifiers_still_match_the_billed_line():
    remitted = pd.DataFrame({"claim_id": ["C1"], "procedure_code": ["97110"], "modifiers": ["59:GP"],
                             "service_date": [pd.Timestamp("2026-08-01")], "units": [2.0], "line_control": [None]})
    billed = lines(("C1", 1, "99213", "25", None), ("C1", 2, "97110", "GP:59", None))
    assert match_lines(remitted, billed).tolist() == [1]


def test_reversal_and_correction_pair():
    # paid 80.00, reversed (-80.00) and corrected to 90.00 in a later payment: net 90.00
    reversal = Claim("C1", "22", "-200", "-80", patient_resp="-20", lines=[
        Line("99213", "-200", "-80", [("CO", "45", "-100"), ("PR", "2", "-20")], allowed="-100")])
    correction = Claim("C1", "1", "200", "90", patient_resp="10", lines=[
        Line("99213", "200", "90", [("CO", "45", "100"), ("PR", "2", "10")], allowed="100")])
    result = run(ledger(("C1", 20000, 9000, 10000, 60)),
                 [era("8801", "80", [CLEAN]), era("8806", "10", [reversal, correction], date="20260915", control=2)],
                 postings(("C1", 8000, "8801", "ACME"), ("C1", -8000, "8806", "ACME"), ("C1", 9000, "8806", "ACME")),
                 deposits(DEPOSIT_8801, (1000, "HCCLAIMPMT ACME HEALTH TRN*1*8806*1999999999\\",
                                         dt.date(2026, 9, 15))))
    assert kinds(result) == [("reversal", "C1", "8806")]
    row = one(result, "reversal")
    assert (row.expected, row.actual, row.variance) == (8000, 9000, 1000)


def test_credit_balance():
    result = run(ledger(("C1", 20000, 10500, 10000, 60)), [era("8801", "80", [CLEAN])],
                 postings(("C1", 8000, "8801", "ACME"), ("C1", 2500, None, "SELF")), deposits(DEPOSIT_8801))
    row = one(result, "credit_balance")
    assert (row.claim_id, row.actual) == ("C1", -500)


def test_rules_are_configurable():
    result = run(ledger(("C2", 15000, 0, 0, 20)), [], rules=Rules(no_response_days=14))
    assert kinds(result) == [("no_response", "C2", None)]


def test_the_worklist_ranks_by_priority():
    result = run(ledger(("C1", 20000, 0, 0, 60), ("C2", 15000, 0, 0, 40)), [era("8801", "80", [CLEAN])],
                 postings(), deposits(DEPOSIT_8801))
    work = result.worklist()
    assert work["rank"].tolist() == [1, 2]
    # no response: 150.00 x 0.8 x urgency 1 (50 days left) = 120; unposted: 80.00 x 1.0 x 1 = 80
    assert work.kind.tolist() == ["no_response", "unposted_payment"]
    assert work.priority.tolist() == [pytest.approx(120.0), pytest.approx(80.0)]
