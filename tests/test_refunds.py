"""Refunds and credits (issue 15, part 5): payer and patient credits kept apart, a patient credit applied to
the same account's other balances first, and the refund deadlines (60 days for Medicare and Medicaid)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tests.test_worklist_rules import one, run
from xl_ar import tables
from xl_ar.policy import Policy
from xl_ar.reconcile import Rules
from xl_ar.refunds import credit_transfers, refunds_due, summary

AS_OF = dt.date(2026, 9, 30)
PAYERS = tables.to_frame("payers", [
    {"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial"},
    {"payer_id": "MCR", "name": "Medicare", "payer_class": "medicare"},
    {"payer_id": "SELF", "name": "Self Pay", "payer_class": "self_pay"},
])


def claim(claim_id: str, balance: int, account: str = "A1", payer: str = "ACME", responsibility: str = "insurance",
          service: dt.date = dt.date(2026, 8, 1), insurance: int | None = None, patient: int | None = None,
          last_activity: dt.date | None = dt.date(2026, 9, 1)) -> dict:
    """A 200.00 claim with `balance` open (paid makes up the rest; nothing adjusted)."""
    return {"claim_id": claim_id, "account_id": account, "payer_id": payer, "service_date": service,
            "billed_date": service, "charge": 20000, "paid": 20000 - balance, "adjusted": 0, "balance": balance,
            "insurance_balance": insurance, "patient_balance": patient, "responsibility": responsibility,
            "last_activity_date": last_activity}


def posting(claim_id: str, amount: int, payer: str, posted: dt.date) -> dict:
    return {"claim_id": claim_id, "payer_id": payer, "amount": amount, "posted_date": posted}


DEFAULT = Policy()


def due(claims: list[dict], posts: tuple[dict, ...] = (), policy: Policy = DEFAULT) -> pd.DataFrame:
    postings = tables.to_frame("postings", [{"posting_id": f"T{i}", **p} for i, p in enumerate(posts)])
    return refunds_due(tables.to_frame("claims", claims), postings, PAYERS, policy, AS_OF)


def test_a_split_credit_is_refunded_to_the_payer_and_to_the_patient_apart():
    # insurance -30.00 (payer overpaid), patient -20.00 (patient overpaid): two refunds, never 50.00 to one
    rows = due([claim("C1", -5000, insurance=-3000, patient=-2000)])
    assert sorted(zip(rows.party, rows.amount, strict=True)) == [("patient", 2000), ("payer", 3000)]


def test_a_payer_refund_goes_to_the_claims_payer_and_a_patient_refund_to_no_payer():
    rows = due([claim("C1", -5000, insurance=-3000, patient=-2000)]).set_index("party")
    assert rows.payer_id["payer"] == "ACME" and pd.isna(rows.payer_id["patient"])


def test_an_unsplit_credit_is_the_patients_when_the_patient_paid_last():
    # insurance paid 200.00 on 9/1, then the patient paid 30.00 on 9/5: the -30.00 is the patient's
    rows = due([claim("C1", -3000)], (posting("C1", 20000, "ACME", dt.date(2026, 9, 1)),
                                      posting("C1", 3000, "SELF", dt.date(2026, 9, 5))))
    assert rows.party.tolist() == ["patient"] and rows.amount.tolist() == [3000]


def test_an_unsplit_credit_is_the_payers_when_the_payer_paid_last():
    # the patient paid 30.00 on 9/1, then insurance paid 200.00 on 9/5: the -30.00 goes back to the payer
    rows = due([claim("C1", -3000)], (posting("C1", 3000, "SELF", dt.date(2026, 9, 1)),
                                      posting("C1", 20000, "ACME", dt.date(2026, 9, 5))))
    assert rows.party.tolist() == ["payer"]


def test_a_patient_credit_pays_the_same_accounts_other_open_balance_first():
    # patient credit 50.00 on C1; C2 of the same account owes the patient part 30.00: 30.00 applied, 20.00 refunded
    rows = due([claim("C1", -5000, insurance=0, patient=-5000),
                claim("C2", 3000, insurance=0, patient=3000, service=dt.date(2026, 7, 1))])
    assert rows.amount.tolist() == [2000] and rows.applied.tolist() == [3000]


def test_a_patient_credit_applied_in_full_is_not_a_refund_and_says_where_it_went():
    # credit 20.00, other balance 30.00: all 20.00 applied to C2, nothing to refund
    claims = [claim("C1", -2000, insurance=0, patient=-2000), claim("C2", 3000, insurance=0, patient=3000)]
    assert due(claims).empty
    moves = credit_transfers(tables.to_frame("claims", claims), tables.empty("postings"), PAYERS, Policy())
    assert moves[["from_claim", "to_claim", "amount"]].values.tolist() == [["C1", "C2", 2000]]


def test_a_patient_credit_pays_the_oldest_balance_first():
    # credit 40.00; C2 (7/1) owes 30.00, C3 (6/1) owes 30.00: C3 gets 30.00 then C2 10.00
    claims = [claim("C1", -4000, insurance=0, patient=-4000),
              claim("C2", 3000, insurance=0, patient=3000, service=dt.date(2026, 7, 1)),
              claim("C3", 3000, insurance=0, patient=3000, service=dt.date(2026, 6, 1))]
    moves = credit_transfers(tables.to_frame("claims", claims), tables.empty("postings"), PAYERS, Policy())
    assert moves[["to_claim", "amount"]].values.tolist() == [["C3", 3000], ["C2", 1000]]


def test_a_patient_credit_is_never_applied_to_another_accounts_balance():
    # C2 owes 30.00 but on account A2: the whole 50.00 of A1 is refunded
    rows = due([claim("C1", -5000, insurance=0, patient=-5000),
                claim("C2", 3000, account="A2", insurance=0, patient=3000)])
    assert rows.amount.tolist() == [5000] and rows.applied.isna().all()


def test_a_patient_credit_is_refunded_whole_when_the_setting_is_off():
    rows = due([claim("C1", -5000, insurance=0, patient=-5000), claim("C2", 3000, insurance=0, patient=3000)],
               policy=Policy(apply_patient_credits=False))
    assert rows.amount.tolist() == [5000]


def test_a_patient_credit_is_not_applied_to_a_balance_insurance_owes():
    # C2's 30.00 is owed by insurance, not the patient: nothing to apply it to, 50.00 refunded
    rows = due([claim("C1", -5000, insurance=0, patient=-5000), claim("C2", 3000, insurance=3000, patient=0)])
    assert rows.amount.tolist() == [5000]


def test_a_patient_credit_waits_while_insurance_still_owes_on_the_claim():
    # insurance +100.00 open, patient -50.00: applied to the patient's share once the payer answers, not refunded
    assert due([claim("C1", 5000, insurance=10000, patient=-5000)]).empty


def test_a_medicare_overpayment_is_due_60_days_after_it_arose_whatever_the_setting():
    # Medicare paid 230.00 on a 200.00 claim on 9/3: 2026-09-03 + 60 days = 2026-11-02 (refund_days 30 ignored)
    rows = due([claim("C1", -3000, payer="MCR")], (posting("C1", 23000, "MCR", dt.date(2026, 9, 3)),),
               policy=Policy(refund_days=30))
    assert rows.deadline.tolist() == [pd.Timestamp("2026-11-02")]
    assert rows.identified_date.tolist() == [pd.Timestamp("2026-09-03")]


def test_a_commercial_overpayment_is_due_after_the_configured_days():
    # Acme paid 230.00 on 9/3, refund_days 30: 2026-09-03 + 30 = 2026-10-03
    rows = due([claim("C1", -3000)], (posting("C1", 23000, "ACME", dt.date(2026, 9, 3)),),
               policy=Policy(refund_days=30))
    assert rows.deadline.tolist() == [pd.Timestamp("2026-10-03")]


def test_a_patient_refund_on_a_medicare_claim_follows_the_configured_days():
    # the patient overpaid a Medicare claim: the patient is not Medicare, 2026-09-01 (last activity) + 30
    rows = due([claim("C1", -3000, payer="MCR", insurance=0, patient=-3000)], policy=Policy(refund_days=30))
    assert rows.deadline.tolist() == [pd.Timestamp("2026-10-01")]


def test_a_credit_without_postings_or_activity_is_identified_on_the_as_of_date():
    # no posting, no last activity: identified 2026-09-30, + 60 days = 2026-11-29
    rows = due([claim("C1", -3000, last_activity=None)])
    assert rows.identified_date.tolist() == [pd.Timestamp("2026-09-30")]
    assert rows.deadline.tolist() == [pd.Timestamp("2026-11-29")]


def test_the_summary_counts_dollars_by_party_and_payer_class_without_identifiers():
    rows = due([claim("C1", -5000, insurance=-3000, patient=-2000), claim("C2", -1000, payer="MCR", account="A2")])
    table = summary(rows, AS_OF)
    assert "claim_id" not in table.columns and "account_id" not in table.columns
    # payer: commercial 30.00 and medicare 10.00; patient 20.00
    assert table.set_index(["party", "payer_class"]).amount.to_dict() == {
        ("patient", "self_pay"): 2000, ("payer", "commercial"): 3000, ("payer", "medicare"): 1000}


# -- the worklist's credit_balance rows follow the same rule ---------------------------------------------------

WORK_PAYERS_MCR = {"payer_id": "MCR", "name": "Medicare", "payer_class": "medicare"}


def _worklist_claim(payer: str) -> dict:
    from tests.test_worklist_rules import claim as work_claim

    return work_claim("C1", 20000, 23000, 0, payer=payer)


def test_the_worklist_gives_a_commercial_credit_the_configured_refund_days():
    # Acme paid 230.00 on 2026-09-03 (crossing the 200.00 owed), refund_days 30: 2026-10-03
    from tests.test_worklist_rules import posting as work_posting

    row = one(run([_worklist_claim("ACME")], posts=(work_posting("C1", 23000, "T1"),), rules=Rules(refund_days=30)),
              "credit_balance")
    assert row.deadline == pd.Timestamp("2026-10-03")


def test_the_worklist_says_whose_credit_it_is():
    from tests.test_worklist_rules import posting as work_posting

    row = one(run([_worklist_claim("ACME")], posts=(work_posting("C1", 23000, "T1"),)), "credit_balance")
    assert row.reason.startswith("payer credit balance of 30.00")


def test_the_worklist_gives_a_medicare_credit_60_days_whatever_the_setting(monkeypatch):
    # Medicare paid 230.00 on 2026-09-03: 2026-09-03 + 60 = 2026-11-02, though refund_days is 30
    import tests.test_worklist_rules as w

    monkeypatch.setattr(w, "PAYERS", tables.to_frame("payers", [WORK_PAYERS_MCR]))
    row = one(w.run([_worklist_claim("MCR")], posts=(w.posting("C1", 23000, "T1", payer="MCR"),),
                    rules=Rules(refund_days=30)), "credit_balance")
    assert row.deadline == pd.Timestamp("2026-11-02")


def test_the_worklist_gives_a_patient_credit_the_configured_days_even_on_a_medicare_claim(monkeypatch):
    # Medicare paid the 200.00, then the patient paid 30.00 on 2026-09-05: the patient's credit, + 30 = 10-05
    import tests.test_worklist_rules as w

    monkeypatch.setattr(w, "PAYERS", tables.to_frame("payers", [
        WORK_PAYERS_MCR, {"payer_id": "SELF", "name": "Self Pay", "payer_class": "self_pay"}]))
    posts = (w.posting("C1", 20000, "T1", payer="MCR", posted=dt.date(2026, 9, 1)),
             w.posting("C1", 3000, None, payer="SELF", posted=dt.date(2026, 9, 5)))
    row = one(w.run([_worklist_claim("MCR")], posts=posts, rules=Rules(refund_days=30)), "credit_balance")
    assert row.reason.startswith("patient credit balance") and row.deadline == pd.Timestamp("2026-10-05")


def test_the_refund_days_setting_reaches_the_worklists_rules():
    from xl_ar.settings import resolve

    assert resolve(environ={"XL_AR_REFUND_DAYS": "45"}).rules().refund_days == 45
