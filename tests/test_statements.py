"""Patient statements: who gets one, which notice of the dunning cycle, small balances, payment plans, placed
accounts, patient aging from the first statement, the PDF's facts and the store's record of each notice."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from tests import claims_builder as cb
from xl_ar import statements as st
from xl_ar import tables
from xl_ar.policy import Policy
from xl_ar.reports import statements as writer
from xl_ar.store import Store

DAY0 = dt.date(2026, 3, 2)
POLICY = Policy()  # interval 30 days, due in 21 days, small balance $5.00


def patient_claims(balances: list[int], accounts: list[str] | None = None, **overrides) -> pd.DataFrame:
    """One claim per balance, owed by the patient (unsplit balance), each on its own account unless given."""
    n = len(balances)
    data = {"balance": np.array(balances, dtype=np.int64), "responsibility": ["patient"] * n,
            "charge": np.full(n, 15000, dtype=np.int64), "paid": 15000 - np.array(balances, dtype=np.int64) - 1000,
            "adjusted": np.full(n, 1000, dtype=np.int64)}
    if accounts is not None:
        data["account_id"] = accounts
    data.update(overrides)
    return cb.claims(n, **data)


def history_of(*runs: st.StatementRun) -> pd.DataFrame:
    """The store's history after sending these runs (numbered 1, 2, ... in order)."""
    frames = [st.to_record(r, f"b{i}") for i, r in enumerate(runs)]
    frame = pd.concat(frames, ignore_index=True) if frames else tables.empty("statements")
    frame["statement_id"] = [str(i + 1) for i in range(len(frame))]
    return frame


def run(claims: pd.DataFrame, history: pd.DataFrame, day: dt.date, **kw) -> st.StatementRun:
    return st.plan(claims, history, day, POLICY, **kw)


# -- who gets a statement -----------------------------------------------------------------------------------

def test_the_amount_due_is_the_patient_part_never_the_insurance_part():
    claims = cb.claims(1, balance=np.array([7000]), insurance_balance=pd.array([5000], dtype="Int64"),
                       patient_balance=pd.array([2000], dtype="Int64"))
    got = run(claims, tables.empty("statements"), DAY0).statements
    assert got["amount_due"].tolist() == [2000]  # 70.00 open = 50.00 insurance + 20.00 patient


def test_an_account_is_billed_once_for_the_patient_parts_of_all_its_claims():
    claims = patient_claims([2000, 3050], accounts=["A1", "A1"])
    got = run(claims, tables.empty("statements"), DAY0)
    assert got.statements["account_id"].tolist() == ["A1"]
    assert got.statements["amount_due"].tolist() == [5050]  # 20.00 + 30.50
    assert got.lines["claim_id"].tolist() == ["C001", "C002"]


def test_a_balance_under_the_small_balance_threshold_is_listed_for_write_off_not_billed():
    claims = patient_claims([499, 500])  # $4.99 under the $5.00 threshold, $5.00 is not
    got = run(claims, tables.empty("statements"), DAY0)
    assert got.statements["account_id"].tolist() == ["A002"]
    assert got.small_balances[["account_id", "amount"]].values.tolist() == [["A001", 499]]


def test_a_credit_is_not_billed_and_lowers_the_other_claims_of_the_account():
    claims = patient_claims([-1500, 4000, -200], accounts=["A1", "A1", "A2"])
    got = run(claims, tables.empty("statements"), DAY0)
    assert got.statements["amount_due"].tolist() == [2500]  # A1: 40.00 - 15.00 applied; A2 a credit only
    assert got.skipped["credit"] == 1


def test_without_applying_credits_the_statement_asks_for_the_open_parts_only():
    claims = patient_claims([-1500, 4000], accounts=["A1", "A1"])
    got = st.plan(claims, tables.empty("statements"), DAY0, Policy(apply_patient_credits=False))
    assert got.statements["amount_due"].tolist() == [4000]
    assert got.lines["claim_id"].tolist() == ["C002"]


def test_an_account_placed_with_collections_gets_no_statement():
    claims = patient_claims([4000, 4000])
    placements = tables.from_columns("placements", {"placement_id": ["1"], "account_id": ["A001"],
                                                    "placed_date": np.array([DAY0], dtype="datetime64[D]"),
                                                    "agency": ["Agency"], "amount": np.array([4000])})
    got = run(claims, tables.empty("statements"), DAY0, placements=placements)
    assert got.statements["account_id"].tolist() == ["A002"]
    assert got.skipped["placed"] == 1


# -- the dunning cycle ---------------------------------------------------------------------------------------

def test_the_dunning_cycle_day_by_day_1_then_2_then_final_then_nothing():
    claims = patient_claims([4000])
    sent: list[st.StatementRun] = []
    notices = {}
    for days in (0, 29, 30, 59, 60, 89, 90, 200):  # interval 30: 1 on day 0, 2 on day 30, final on day 60
        day = DAY0 + dt.timedelta(days=days)
        got = run(claims, history_of(*sent), day)
        notices[days] = got.statements["notice"].tolist()
        sent.append(got)
    assert notices == {0: ["1"], 29: [], 30: ["2"], 59: [], 60: ["final"], 89: [], 90: [], 200: []}


def test_not_yet_due_and_after_the_final_notice_are_counted_apart():
    claims = patient_claims([4000, 4000])
    day30 = DAY0 + dt.timedelta(days=30)
    history = tables.from_columns("statements", {
        "statement_id": ["1", "2"], "account_id": ["A001", "A002"], "notice": ["1", "final"],
        "statement_date": np.array([DAY0 + dt.timedelta(days=10), DAY0], dtype="datetime64[D]"),
        "amount_due": np.array([4000, 4000]), "due_date": np.array([DAY0, DAY0], dtype="datetime64[D]")})
    got = run(claims, history, day30)
    assert got.statements.empty
    assert (got.skipped["not_due"], got.skipped["after_final"]) == (1, 1)  # A001 20 days after its 1; A002 final


def test_a_balance_newer_than_the_last_statement_starts_a_new_cycle():
    old = patient_claims([4000])
    final = history_of(run(old, tables.empty("statements"), DAY0))
    final["notice"] = ["final"]
    new = patient_claims([2500], service_date=np.array([DAY0 + dt.timedelta(days=40)], dtype="datetime64[D]"))
    got = run(new, final, DAY0 + dt.timedelta(days=50))  # the old balance was paid off; a new visit since
    assert got.statements["notice"].tolist() == ["1"]


def test_statement_and_due_dates():
    got = run(patient_claims([4000]), tables.empty("statements"), DAY0).statements
    assert got["statement_date"].dt.date.tolist() == [DAY0]
    assert got["due_date"].dt.date.tolist() == [dt.date(2026, 3, 23)]  # March 2 + 21 days


# -- payment plans -------------------------------------------------------------------------------------------

def plans(start: dt.date, installment: int, end: dt.date | None = None) -> pd.DataFrame:
    return tables.from_columns("payment_plans", {
        "account_id": ["A001"], "start_date": np.array([start], dtype="datetime64[D]"),
        "installment": np.array([installment]), "end_date": np.array([end], dtype="datetime64[D]")})


def test_an_account_on_a_plan_gets_a_plan_statement_for_its_installment_never_notice_2():
    claims = patient_claims([30000])
    plan = plans(dt.date(2026, 2, 10), 5000)
    first = run(claims, tables.empty("statements"), DAY0, plans=plan)
    s = first.statements
    assert s[["plan", "amount_due", "balance"]].values.tolist() == [[True, 5000, 30000]]
    assert s["due_date"].dt.date.tolist() == [dt.date(2026, 3, 12)]  # Feb 10 + 30 days: the next installment
    again = run(claims, history_of(first), DAY0 + dt.timedelta(days=30), plans=plan).statements
    assert again[["plan", "notice"]].values.tolist() == [[True, "1"]]  # a plan statement again, no escalation


def test_an_installment_larger_than_the_balance_asks_for_the_balance():
    got = run(patient_claims([3000]), tables.empty("statements"), DAY0, plans=plans(DAY0, 5000)).statements
    assert got["amount_due"].tolist() == [3000]


def test_an_ended_plan_puts_the_account_back_on_the_dunning_cycle():
    plan = plans(dt.date(2025, 10, 1), 5000, end=dt.date(2026, 2, 1))
    got = run(patient_claims([30000]), tables.empty("statements"), DAY0, plans=plan).statements
    assert got[["plan", "notice", "amount_due"]].values.tolist() == [[False, "1", 30000]]


# -- what a statement lists ----------------------------------------------------------------------------------

def test_each_line_shows_charges_insurance_paid_adjustments_patient_paid_and_the_patient_part():
    claims = patient_claims([2000], paid=np.array([12000]), adjusted=np.array([1000]))
    postings = tables.from_columns("postings", {
        "posting_id": ["T1", "T2"], "claim_id": ["C001", "C001"], "payer_id": ["ACME", "SELF"],
        "amount": np.array([9000, 3000]), "posted_date": np.array([DAY0, DAY0], dtype="datetime64[D]")})
    payers = pd.concat([cb.payers(), tables.from_columns("payers", {
        "payer_id": ["SELF"], "name": ["Self pay"], "payer_class": ["self_pay"]})], ignore_index=True)
    got = run(claims, tables.empty("statements"), DAY0, postings=postings, payers=payers,
              claim_lines=cb.lines(["C001"])).lines
    row = got.iloc[0]
    # 150.00 charged = 90.00 insurance + 30.00 patient paid + 10.00 adjusted + 20.00 owed
    assert (row.charge, row.insurance_paid, row.patient_paid, row.adjusted, row.amount_due) == (
        15000, 9000, 3000, 1000, 2000)
    assert row.codes == "99213, 36415"


# -- patient aging -------------------------------------------------------------------------------------------

def test_patient_aging_counts_from_the_first_statement_of_the_cycle():
    claims = patient_claims([4000, 2500, 1000], service_date=np.array(["2026-01-05"] * 3, dtype="datetime64[D]"))
    history = tables.from_columns("statements", {
        "statement_id": ["1", "2"], "account_id": ["A001", "A001"], "notice": ["1", "2"],
        "statement_date": np.array([dt.date(2026, 1, 15), dt.date(2026, 2, 14)], dtype="datetime64[D]"),
        "amount_due": np.array([4000, 4000]), "due_date": np.array([DAY0, DAY0], dtype="datetime64[D]")})
    history = pd.concat([history, tables.from_columns("statements", {
        "statement_id": ["3"], "account_id": ["A002"], "notice": ["1"],
        "statement_date": np.array([dt.date(2026, 2, 20)], dtype="datetime64[D]"),
        "amount_due": np.array([2500]), "due_date": np.array([DAY0], dtype="datetime64[D]")})], ignore_index=True)
    got = st.patient_aging(claims, history, DAY0, POLICY).set_index("bucket")
    # A001: first statement Jan 15, 46 days before March 2 -> 31-60; A002: Feb 20, 10 days -> 0-30; A003 none
    assert got.loc["31-60"].tolist() == [1, 4000]
    assert got.loc["0-30"].tolist() == [1, 2500]
    assert got.loc[st.NOT_BILLED].tolist() == [1, 1000]
    assert int(got["amount"].sum()) == 7500


# -- the PDF -------------------------------------------------------------------------------------------------

def test_the_pdf_shows_the_facts_amounts_to_the_cent_and_us_dates():
    claims = patient_claims([2345], paid=np.array([11655]), adjusted=np.array([1000]))
    got = run(claims, tables.empty("statements"), DAY0, claim_lines=cb.lines(["C001"]))
    letter = writer.letters(got.statements, got.lines, ["42"])[0]
    practice = writer.Practice("Maple Street Clinic", ("100 Maple St",), "(217) 555-0100", "https://pay.example",
                               ("PO Box 9", "Springfield, IL 62701"))
    text = PdfReader(io.BytesIO(writer.pdf(writer.statement_pages(letter, practice)))).pages[0].extract_text()
    for fact in ("Statement no. 42", "Statement date 03/02/2026", "Due date 03/23/2026", "Amount due $23.45",
                 "02/02/2026 99213, 36415 $150.00 $116.55 $10.00 $0.00 $23.45", "Total you owe $23.45",
                 "https://pay.example", "PO Box 9", "Sample, PatA"):
        assert fact in text


def test_data_in_a_statement_never_becomes_pdf_drawing_operators():
    claims = patient_claims([2000], patient_name=["Evil) Tj ET BT (x"])
    got = run(claims, tables.empty("statements"), DAY0)
    letter = writer.letters(got.statements, got.lines, ["1"])[0]
    text = PdfReader(io.BytesIO(writer.pdf(writer.statement_pages(letter, writer.Practice())))).pages[0].extract_text()
    assert "Evil) Tj ET BT (x" in text


def test_a_long_statement_continues_on_a_second_page_with_the_stub_on_the_last():
    n = writer.ROWS_PER_PAGE + 1
    claims = patient_claims([1000] * n, accounts=["A1"] * n)
    got = run(claims, tables.empty("statements"), DAY0)
    letter = writer.letters(got.statements, got.lines, ["7"])[0]
    pages = PdfReader(io.BytesIO(writer.pdf(writer.statement_pages(letter, writer.Practice())))).pages
    assert len(pages) == 2
    assert "continued" in pages[0].extract_text() and "detach" not in pages[0].extract_text()
    assert "Page 2 of 2" in pages[1].extract_text() and "detach" in pages[1].extract_text()


# -- the store -----------------------------------------------------------------------------------------------

def test_the_store_records_each_notice_once(store_at):
    got = run(patient_claims([4000, 2500]), tables.empty("statements"), DAY0)
    with Store.open(store_at) as store:
        first = store.record_statements(st.to_record(got, "b1"), "b1")
        again = store.record_statements(st.to_record(got, "b2"), "b2")
        history = store.statements()
    assert first.tolist() == ["1", "2"]
    assert again.isna().all()
    assert history[["account_id", "notice", "amount_due", "batch"]].values.tolist() == [
        ["A001", "1", 4000, "b1"], ["A002", "1", 2500, "b1"]]


def test_a_plan_statement_is_stored_with_its_installment(store_at):
    got = run(patient_claims([30000]), tables.empty("statements"), DAY0, plans=plans(DAY0, 5000))
    with Store.open(store_at) as store:
        store.record_statements(st.to_record(got, "b1"), "b1")
        assert store.statements()["plan_installment"].tolist() == [5000]


@pytest.mark.parametrize("days", [0, 10])
def test_the_run_is_the_same_whatever_the_order_of_the_claims(days):
    claims = patient_claims([4000, 2500, 999, 100], accounts=["A1", "A2", "A1", "A3"])
    day = DAY0 + dt.timedelta(days=days)
    a = run(claims, tables.empty("statements"), day).statements
    b = run(claims.iloc[::-1].reset_index(drop=True), tables.empty("statements"), day).statements
    pd.testing.assert_frame_equal(a, b)
