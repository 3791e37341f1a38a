"""Credit balances with insurance and patient balances kept apart (issue 10, section 4): which
negative part is a refund to make now."""

from __future__ import annotations

from tests.test_worklist_rules import claim, of_kind, one, run


def split(claim_id: str, insurance: int, patient: int) -> dict:
    """A 200.00 claim whose open balance is split into its insurance and patient parts."""
    row = claim(claim_id, 20000, 20000 - insurance - patient, 0)
    return {**row, "insurance_balance": insurance, "patient_balance": patient}


def test_an_insurance_credit_is_a_refund_even_when_the_patient_still_owes():
    # insurance -80.00 (the payer overpaid), patient +30.00: the net -50.00 would hide 30.00 of it;
    # the payer is owed 80.00 back whatever the patient owes
    row = one(run([split("C1", -8000, 3000)]), "credit_balance")
    assert row.actual == -8000


def test_a_patient_credit_waits_while_insurance_still_owes():
    # insurance +100.00 open, patient -50.00 (a prepayment): it will be applied to the patient's share
    # once the payer answers; not a refund yet
    assert of_kind(run([split("C1", 10000, -5000)]), "credit_balance").empty


def test_a_patient_credit_is_a_refund_once_insurance_has_nothing_open():
    # insurance 0.00, patient -50.00: nothing left to apply it to, 50.00 goes back to the patient
    row = one(run([split("C1", 0, -5000)]), "credit_balance")
    assert row.actual == -5000


def test_an_unsplit_negative_balance_is_a_refund():
    # no split columns: balance 200.00 - 230.00 paid = -30.00
    row = one(run([claim("C1", 20000, 23000, 0)]), "credit_balance")
    assert row.actual == -3000


def test_a_primary_paying_nothing_with_a_denial_on_every_line_is_worked_as_denied():
    # CLP02=1 (processed as primary) with 0.00 paid and CO-197 (no authorization) on its only line: denied in
    # full whatever CLP02 says; the open 200.00 is the denial's expected amount
    from tests.era_builder import Claim, Line, era

    zero_paid = Claim("C1", "1", "200", "0", lines=[Line("99213", "200", "0", [("CO", "197", "200")])])
    row = one(run([claim("C1", 20000, 0, 0)], (era("8801", "0", [zero_paid], method="CHK"),)), "denied")
    assert row.expected == 20000 and row.category == "authorization"
