"""Who owes what (issue 10, section 4): insurance and patient balances kept apart, never netted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from xl_ar import balances, kpi, ledger, tables
from xl_ar.aging import AR, CREDIT, aging

AS_OF = dt.date(2026, 9, 30)
D = dt.date


def claims(*rows: tuple) -> pd.DataFrame:
    """rows: (claim id, balance, insurance part or None, patient part or None, responsibility), in dollars;
    all serviced 2026-08-01 and billed."""
    out = [{"claim_id": c, "account_id": "A1", "payer_id": "ACME", "service_date": D(2026, 8, 1),
            "billed_date": D(2026, 8, 3), "charge": 50000, "paid": 0, "adjusted": 0, "balance": round(b * 100),
            "insurance_balance": None if i is None else round(i * 100),
            "patient_balance": None if p is None else round(p * 100), "responsibility": r}
           for c, b, i, p, r in rows]
    return tables.to_frame("claims", out)


def parts(frame: pd.DataFrame) -> list[tuple]:
    p = balances.open_parts(frame)
    return list(zip(p.claim_id, p.responsibility, p.amount, strict=True))


def test_a_split_balance_is_two_parts_never_netted():
    # insurance 100, patient -50: balance 50, but 100 open with insurance and a 50 credit to the patient
    assert parts(claims(("C1", 50, 100, -50, "insurance"))) == [("C1", "insurance", 10000), ("C1", "patient", -5000)]


def test_an_unsplit_balance_is_owed_whole_by_the_claims_responsibility():
    assert parts(claims(("C1", 80, None, None, "patient"))) == [("C1", "patient", 8000)]


def test_one_given_part_leaves_the_rest_of_the_balance_to_the_other_party():
    # balance 120, insurance 90 given, patient part empty -> patient 120 - 90 = 30
    assert parts(claims(("C1", 120, 90, None, "insurance"))) == [("C1", "insurance", 9000), ("C1", "patient", 3000)]


def test_zero_parts_are_not_rows():
    # insurance paid in full, patient owes 25
    assert parts(claims(("C1", 25, 0, 25, "patient"), ("C2", 0, 0, 0, "patient"))) == [("C1", "patient", 2500)]


def test_ar_counts_the_open_part_and_credit_balances_the_credit_part():
    frame = claims(("C1", 50, 100, -50, "insurance"), ("C2", -20, None, None, "patient"))
    t = balances.totals(frame, AS_OF)
    # A/R: 100 (C1's insurance part); credits: 50 (C1's patient part) + 20 (C2) = 70
    assert (t.ar, t.credit) == (10000, 7000)
    assert (kpi.total_ar(frame, AS_OF), kpi.credit_balances(frame)) == (10000, 7000)


def test_aging_by_responsibility_splits_a_claims_balance():
    a = aging(claims(("C1", 50, 100, -50, "insurance"), ("C2", 30, 10, 20, "insurance")), AS_OF,
              group_by="responsibility")
    t = a.table.set_index("group")
    # insurance: 100 (C1) + 10 (C2) = 110 in 2 claims; patient: 20 (C2), C1's -50 is a credit
    assert t.loc["insurance", ["claims", "total"]].tolist() == [2, 11000]
    assert t.loc["patient", ["claims", "total"]].tolist() == [1, 2000]
    extra = a.extra.set_index("group")
    # every claim counted once in the total: 2 claims, 110 + 20 = 130; the credit row: -50 on 1 claim
    assert extra.loc["Total", ["claims", "total"]].tolist() == [2, 13000]
    assert extra.loc[CREDIT, ["claims", "total"]].tolist() == [1, -5000]
    assert extra.loc[AR, "total"] == 13000


def test_aging_by_payer_keeps_a_claims_open_and_credit_parts_apart():
    a = aging(claims(("C1", 50, 100, -50, "insurance")), AS_OF, group_by="payer")
    # ACME's aged balance is the 100 insurance owes, not the 50 net; the -50 is on the credit row
    assert a.table.total.tolist() == [10000]
    assert a.extra.set_index("group").loc[CREDIT, "total"] == -5000


def test_the_pm_export_fills_the_split_from_ins_bal_and_pat_bal(tmp_path: Path):
    path = tmp_path / "claims.csv"
    path.write_text("Claim #,Pat Acct,Ins Code,DOS,Charges,Payments,Adjustments,Ins Bal,Pat Bal\n"
                    "C1,A1,ACME,08/21/2026,200.00,50.00,0.00,200.00,-50.00\n", encoding="utf-8")
    frame, findings = ledger.read_table(path, "claims")
    # balance = 200 - 50 = 150 = Ins Bal + Pat Bal; the parts are kept as they are
    assert findings == []
    assert frame[["balance", "insurance_balance", "patient_balance"]].iloc[0].tolist() == [15000, 20000, -5000]


def test_a_split_that_does_not_add_up_to_the_balance_is_a_warning(tmp_path: Path):
    path = tmp_path / "claims.csv"
    path.write_text("Claim #,Pat Acct,Ins Code,DOS,Charges,Payments,Adjustments,Balance,Ins Bal,Pat Bal,Resp\n"
                    "C1,A1,ACME,08/21/2026,200.00,50.00,0.00,150.00,100.00,-50.00,insurance\n", encoding="utf-8")
    _, findings = ledger.read_table(path, "claims")
    # 100 - 50 = 50, not the 150 balance
    assert [(f.severity, f.location, f.message) for f in findings] == [
        ("warning", "row 2", "balance is not the insurance balance + the patient balance")]


@pytest.mark.parametrize(("service", "billed", "where"), [
    (D(2026, 9, 1), D(2026, 9, 3), "billed"), (D(2026, 9, 1), None, "unbilled"),
    (D(2026, 9, 1), D(2026, 10, 2), "unbilled"), (D(2026, 10, 1), None, "future_dated")])
def test_where_a_balance_counts_as_of_the_date(service, billed, where):
    frame = claims(("C1", 100, None, None, "insurance"), ("C2", 1, None, None, "insurance"))
    frame.loc[0, ["service_date", "billed_date"]] = [pd.Timestamp(service), pd.Timestamp(billed) if billed else pd.NaT]
    t = balances.totals(frame, AS_OF)
    # C1's 100: billed by the as-of date, not billed by then (even if billed later), or serviced after it;
    # C2's 1.00 is billed A/R
    got = {"billed": t.billed - 100, "unbilled": t.unbilled, "future_dated": t.future_dated}
    assert got == {k: (10000 if k == where else 0) for k in got}


@pytest.mark.parametrize("how", ["no column", "column empty in every row"])
def test_without_billed_dates_every_claim_is_taken_as_billed(how):
    frame = claims(("C1", 100, None, None, "insurance"))
    frame = frame.drop(columns=["billed_date"]) if how == "no column" else frame.assign(billed_date=pd.NaT)
    # the export shows no billed dates: billing unknown, so the 100 is billed A/R (no unbilled row)
    assert balances.totals(frame, AS_OF).billed == 10000
