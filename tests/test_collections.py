"""Collections placement (issue 15, part 6): which accounts go to the agency (each rule one test), the agency's
payments posted back once, and bad debt reported apart from contractual adjustments."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from xl_ar import collections, tables
from xl_ar.policy import Policy
from xl_ar.store import Store

AS_OF = dt.date(2026, 9, 30)
POLICY = Policy(collection_days=30, collection_minimum_cents=5000)
PAYERS = tables.to_frame("payers", [{"payer_id": "ACME", "name": "Acme", "payer_class": "commercial"},
                                    {"payer_id": "SELF", "name": "Self Pay", "payer_class": "self_pay"}])


def claim(claim_id: str, patient: int, account: str = "A1", service: dt.date = dt.date(2026, 3, 1)) -> dict:
    """A 200.00 claim of which the patient still owes `patient` (insurance owes nothing)."""
    return {"claim_id": claim_id, "account_id": account, "payer_id": "ACME", "service_date": service,
            "charge": 20000, "paid": 20000 - patient, "adjusted": 0, "balance": patient, "insurance_balance": 0,
            "patient_balance": patient, "responsibility": "patient", "patient_name": "Doe, Jane",
            "patient_address": "1 Main St", "date_of_birth": dt.date(1980, 1, 2)}


def notice(account: str, date: dt.date, which: str = "final") -> dict:
    return {"statement_id": f"{account}-{date}-{which}", "account_id": account, "statement_date": date,
            "notice": which, "amount_due": 8000, "due_date": date}


FINAL_AUG_1 = notice("A1", dt.date(2026, 8, 1))  # 60 days before the as-of date


def place(claims: list[dict], statements: list[dict], plans: list[dict] = (), placed: list[dict] = (),
          posts: list[dict] = (), policy: Policy = POLICY) -> pd.DataFrame:
    return collections.to_place(
        tables.to_frame("claims", claims), tables.to_frame("statements", statements),
        tables.to_frame("payment_plans", list(plans)), tables.to_frame("placements", list(placed)),
        tables.to_frame("postings", [{"posting_id": f"T{i}", **p} for i, p in enumerate(posts)]), PAYERS, policy,
        AS_OF)


def test_an_account_past_its_final_notice_with_a_balance_is_placed():
    # 80.00 owed, final notice 2026-08-01 (60 days >= 30), no plan, no payment since: placed for 80.00
    rows = place([claim("C1", 8000)], [FINAL_AUG_1])
    assert rows.account_id.tolist() == ["A1"] and rows.balance.tolist() == [8000]


def test_the_balance_placed_adds_the_accounts_patient_balances():
    # 30.00 + 40.00 on two claims of A1 = 70.00 (each alone under the 50.00 minimum)
    rows = place([claim("C1", 3000), claim("C2", 4000)], [FINAL_AUG_1])
    assert rows.balance.tolist() == [7000]


def test_an_account_without_a_final_notice_is_not_placed():
    assert place([claim("C1", 8000)], [notice("A1", dt.date(2026, 8, 1), "2")]).empty


def test_an_account_whose_final_notice_is_too_recent_is_not_placed():
    # final notice 2026-09-10: 20 days before the as-of date, under the 30 days
    assert place([claim("C1", 8000)], [notice("A1", dt.date(2026, 9, 10))]).empty


def test_an_account_under_the_minimum_balance_is_not_placed():
    # 49.99 < 50.00
    assert place([claim("C1", 4999)], [FINAL_AUG_1]).empty


def test_an_account_on_an_active_payment_plan_is_not_placed():
    plan = {"account_id": "A1", "start_date": dt.date(2026, 8, 15), "installment": 2000}
    assert place([claim("C1", 8000)], [FINAL_AUG_1], plans=[plan]).empty


def test_an_account_whose_payment_plan_ended_is_placed():
    plan = {"account_id": "A1", "start_date": dt.date(2026, 5, 1), "installment": 2000,
            "end_date": dt.date(2026, 7, 1)}
    assert place([claim("C1", 8000)], [FINAL_AUG_1], plans=[plan]).account_id.tolist() == ["A1"]


def test_an_account_already_placed_is_not_placed_again():
    placed = {"placement_id": "1", "account_id": "A1", "placed_date": dt.date(2026, 9, 1), "agency": "X",
              "amount": 8000}
    assert place([claim("C1", 8000)], [FINAL_AUG_1], placed=[placed]).empty


def test_an_account_the_patient_paid_on_since_the_final_notice_is_not_placed():
    paid = {"claim_id": "C1", "payer_id": "SELF", "amount": 1000, "posted_date": dt.date(2026, 8, 20)}
    assert place([claim("C1", 8000)], [FINAL_AUG_1], posts=[paid]).empty


def test_a_patient_payment_before_the_final_notice_does_not_keep_the_account_back():
    paid = {"claim_id": "C1", "payer_id": "SELF", "amount": 1000, "posted_date": dt.date(2026, 7, 20)}
    assert place([claim("C1", 8000)], [FINAL_AUG_1], posts=[paid]).account_id.tolist() == ["A1"]


def test_the_placement_file_carries_the_facts_the_agency_needs():
    rows = place([claim("C1", 3000, service=dt.date(2026, 2, 1)), claim("C2", 4000)],
                 [notice("A1", dt.date(2026, 6, 1), "1"), FINAL_AUG_1])
    text = collections.placement_file(rows, pd.Series(["17"])).decode()
    header, line = text.splitlines()
    assert header.split(",") == list(collections.PLACEMENT_COLUMNS)
    # 30.00 + 40.00 = 70.00; services 02/01 to 03/01; first statement 06/01, final notice 08/01
    assert line == '17,A1,"Doe, Jane",1 Main St,01/02/1980,70.00,02/01/2026,03/01/2026,06/01/2026,08/01/2026'


# -- the store: placements once, agency payments once ----------------------------------------------------------

def test_an_account_is_placed_once_per_date(store_at):
    rows = place([claim("C1", 8000)], [FINAL_AUG_1])
    frame = collections.placements_table(rows, AS_OF, "Acme Collections", "b1")
    with Store.open(store_at) as store:
        first = store.record_placements(frame, "b1")
        again = store.record_placements(frame, "b2")
        assert first.notna().tolist() == [True] and again.isna().tolist() == [True]
        assert store.placements().amount.tolist() == [8000]


AGENCY_FILE = b"account,date,amount,fee,reference\r\nA1,09/20/2026,40.00,10.00,R1\r\n"
PLACED = tables.to_frame("placements", [{"placement_id": "1", "account_id": "A1", "placed_date": dt.date(2026, 9, 1),
                                         "agency": "X", "amount": 8000}])


def test_an_agency_payment_file_is_read_as_payments():
    frame, findings = collections.read_agency_payments(AGENCY_FILE, "agency.csv", PLACED)
    assert findings == [] and frame.amount.tolist() == [4000] and frame.fee.tolist() == [1000]


def test_a_bad_row_in_the_agency_file_is_named():
    data = AGENCY_FILE + b"A1,09/21/2026,abc,0,R2\r\n"
    _, findings = collections.read_agency_payments(data, "agency.csv", PLACED)
    assert [(f.where.row, f.where.column) for f in findings] == [(3, "amount")]


def test_an_agency_payment_for_an_account_never_placed_is_a_finding():
    data = b"account,date,amount,fee,reference\r\nZ9,09/20/2026,40.00,0,R1\r\n"
    _, findings = collections.read_agency_payments(data, "agency.csv", PLACED)
    assert [(f.where.row, f.where.column) for f in findings] == [(2, "account_id")]


def test_a_payment_the_agency_sends_again_is_stored_once(store_at):
    frame, _ = collections.read_agency_payments(AGENCY_FILE, "agency.csv", PLACED)
    with Store.open(store_at) as store:
        assert store.add_agency_payments(frame) == (1, 0)
        assert store.add_agency_payments(frame) == (0, 1)
        assert store.agency_payments().amount.tolist() == [4000]


def test_the_posting_batch_gives_gross_fee_and_net():
    frame, _ = collections.read_agency_payments(AGENCY_FILE, "agency.csv", PLACED)
    # 40.00 collected, 10.00 fee: 30.00 net
    assert collections.posting_batch(frame).decode().splitlines() == [
        "account,date,gross_amount,agency_fee,net", "A1,09/20/2026,40.00,10.00,30.00"]


# -- bad debt apart from contractual adjustments (MGMA) ---------------------------------------------------------

def test_bad_debt_is_reported_apart_from_contractual_adjustments():
    claims = tables.to_frame("claims", [{**claim("C1", 0), "adjusted": 5000, "paid": 15000}])
    adjustments = tables.to_frame("adjustments", [
        {"payment_id": "P1", "claim_seq": 1, "claim_id": "C1", "group_code": "CO", "reason_code": "45",
         "amount": 5000},
        {"payment_id": "P1", "claim_seq": 1, "claim_id": "C1", "group_code": "PR", "reason_code": "1",
         "amount": 2000}])
    paid_back = tables.to_frame("agency_payments", [{"account_id": "A1", "payment_date": AS_OF, "amount": 3000}])
    table = collections.write_offs(claims, adjustments, PLACED, paid_back, POLICY).set_index("kind")
    # contractual: the CO 50.00 only (PR is the patient's share); bad debt: 80.00 placed - 30.00 recovered
    assert table.amount["contractual"] == 5000
    assert table.amount["bad_debt"] == 5000
    assert "claim_id" not in table.columns and "account_id" not in table.columns


def test_small_patient_balances_are_listed_for_write_off():
    # 4.99 < the 5.00 threshold; 5.00 is billed
    claims = tables.to_frame("claims", [claim("C1", 499), claim("C2", 500, account="A2")])
    table = collections.write_offs(claims, None, tables.empty("placements"), tables.empty("agency_payments"),
                                   POLICY).set_index("kind")
    assert table.amount["small_balance"] == 499 and table["count"]["small_balance"] == 1
