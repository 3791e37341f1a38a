"""Bank lines never vanish (issue 10, section 2).

A credit with a trace number is matched like any payer deposit whatever its description; a credit
the description rules do not recognise is matched by amount and date like the others and, failing
that, reported as `unidentified_deposit`; recognised money that is not a payer's is no exception.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.era_builder import era
from tests.test_reconcile import AS_OF, CLEAN, PAYERS, kinds, ledger, one, postings
from xl_ar import bank, tables
from xl_ar.reconcile import _one_to_one, reconcile
from xl_ar.remittances import read_remittances
from xl_ar.sources import SourceFile

SEP_1 = dt.date(2026, 9, 1)
"""The date of payment 8801 (80.00 for claim C1)."""


def bank_lines(*rows) -> pd.DataFrame:
    """rows: (amount in cents, description or None, date, trace number or None), as a bank export
    with its own trace column gives them (B0, B1, ...)."""
    return tables.from_columns("deposits", {
        "deposit_id": [f"B{i}" for i in range(len(rows))], "deposit_date": pd.to_datetime([r[2] for r in rows]),
        "amount": np.array([r[0] for r in rows], dtype=np.int64), "description": [r[1] for r in rows],
        "trace_number": [r[3] for r in rows]})


def run(lines: pd.DataFrame, amount: str = "80"):
    """Payment 8801 (EFT of 80.00 on 2026-09-01, paying C1, posted) against the bank lines."""
    remitted, _ = read_remittances([SourceFile("era.835", era("8801", amount, [CLEAN]).encode())])
    return reconcile(ledger(("C1", 20000, 8000, 10000, 60)), remitted, postings(("C1", 8000, "8801", "ACME")),
                     lines, AS_OF, PAYERS)


# -- classify: every recognised kind, and unknown ---------------------------------------------------

@pytest.mark.parametrize(("description", "kind"), [
    ("HCCLAIMPMT SUMMIT MUTUAL HE", "payer_eft"),
    ("ACH CREDIT TRN*1*8801*1999999999\\", "payer_eft"),
    ("REMOTE DEPOSIT CHECK 104233", "check"),
    ("LOCKBOX DEPOSIT", "check"),
    ("CARD SETTLEMENT MERCHANT 4471", "card_settlement"),
    ("MERCHANT DEPOSIT BANKCARD 8812", "card_settlement"),
    ("ONLINE TRANSFER FROM SAVINGS", "transfer"),
    ("INTEREST PAYMENT", "interest"),
    ("BRANCH CASH DEPOSIT", "cash"),
    ("PATIENT PAYMENT PORTAL", "patient_payment"),
    ("SERVICE CHARGE REFUND", "bank_credit"),
    ("WIRE IN ORIG CO 0042", "unknown"),
    ("ZELLE FROM JANE DOE", "unknown"),
    ("", "unknown"),
    (None, "unknown"),
])
def test_classify_names_each_kind_of_credit(description, kind):
    assert bank.classify(pd.Series([description], dtype=object)).tolist() == [kind]


def test_payer_kinds_and_other_money_are_apart_and_unknown_is_neither():
    assert {"payer_eft", "check"} == bank.PAYER_KINDS
    assert not bank.PAYER_KINDS & bank.OTHER_MONEY and "unknown" not in bank.PAYER_KINDS | bank.OTHER_MONEY


# -- a credit with a trace number: matched whatever its description ---------------------------------

def test_a_traced_credit_with_an_unknown_description_matches_its_payment():
    result = run(bank_lines((8000, "ACH CREDIT ACME HLTH", SEP_1, "8801")))
    assert kinds(result) == []  # 80.00 credited on trace 8801, the 835 pays 80.00 on 8801


def test_a_traced_credit_described_as_other_money_still_matches_its_payment():
    result = run(bank_lines((7900, "CARD SETTLEMENT MERCHANT 4471", SEP_1, "8801")))
    row = one(result, "deposit_variance")
    # bank 79.00, 835 80.00 on the same trace: variance 79.00 - 80.00 = -1.00
    assert (row.trace_number, row.expected, row.actual, row.variance) == ("8801", 8000, 7900, -100)


def test_an_unmatched_traced_credit_with_an_unknown_description_is_a_deposit_without_era():
    result = run(bank_lines((8000, "ACH CREDIT ACME HLTH", SEP_1, "8801"),
                            (4500, "ACH CREDIT ORIG 7731", SEP_1, "5550001")))
    row = one(result, "deposit_without_era")
    assert (row.trace_number, row.actual, row.variance) == ("5550001", 4500, 4500)


# -- a credit without a trace -------------------------------------------------------------------------

def test_an_unknown_traceless_credit_matches_a_payment_by_amount_and_date():
    result = run(bank_lines((8000, "WIRE IN ORIG CO 0042", dt.date(2026, 9, 3), None)))
    assert kinds(result) == []  # 80.00 two days after the 80.00 payment


def test_an_unmatched_unknown_traceless_credit_is_an_unidentified_deposit():
    result = run(bank_lines((8000, "HCCLAIMPMT ACME HEALTH TRN*1*8801*1999999999\\", SEP_1, "8801"),
                            (12345, "ZELLE FROM JANE DOE", dt.date(2026, 9, 10), None)))
    row = one(result, "unidentified_deposit")
    # no 835 pays 123.45: the whole credit is unexplained, variance 123.45 - 0
    assert (row.expected, row.actual, row.variance, row.payer_id, row.trace_number) == (0, 12345, 12345, None, None)
    assert row.reason.startswith("bank line B1 of 123.45 on 2026-09-10: ")
    assert "JANE" not in row.reason and "ZELLE" not in row.reason  # a description may name a patient
    assert row.priority > 0 and row.next_action == "identify who paid"


def test_a_credit_without_any_description_is_an_unidentified_deposit():
    result = run(bank_lines((8000, "HCCLAIMPMT ACME HEALTH", SEP_1, None), (2500, None, SEP_1, None)))
    assert kinds(result) == [("unidentified_deposit", None, None)]
    assert one(result, "unidentified_deposit").actual == 2500


def test_a_recent_unknown_credit_is_not_yet_an_exception():
    recent = AS_OF - dt.timedelta(days=6)  # within the deposit grace of 7 days
    result = run(bank_lines((8000, "HCCLAIMPMT ACME HEALTH", SEP_1, None), (2500, "WIRE IN", recent, None)))
    assert kinds(result) == []


def test_an_unmatched_traceless_payer_credit_stays_a_deposit_without_era():
    result = run(bank_lines((8000, "HCCLAIMPMT ACME HEALTH", SEP_1, None),
                            (6000, "HCCLAIMPMT KEYSTONE", SEP_1, None)))
    row = one(result, "deposit_without_era")
    assert (row.actual, row.reason) == (6000, "bank line B1 of 60.00 on 2026-09-01: no 835 for it")


@pytest.mark.parametrize("description", ["CARD SETTLEMENT MERCHANT 4471", "ONLINE TRANSFER FROM SAVINGS",
                                         "INTEREST PAYMENT", "BRANCH CASH DEPOSIT"])
def test_recognised_other_money_is_no_exception_and_never_pays_an_era(description):
    result = run(bank_lines((8000, description, SEP_1, None)))
    # the 80.00 line is not the payer's: the payment has no deposit, the line is no exception
    assert kinds(result) == [("era_without_deposit", None, "8801")]


def test_debits_are_not_deposits():
    result = run(bank_lines((8000, "HCCLAIMPMT ACME HEALTH", SEP_1, None), (-1500, "BANK FEE", SEP_1, None),
                            (-3000, "WIRE OUT", SEP_1, None)))
    assert kinds(result) == []


def test_the_fallback_prefers_a_payer_credit_to_an_unknown_one_of_the_same_amount():
    result = run(bank_lines((8000, "WIRE IN", SEP_1, None),
                            (8000, "HCCLAIMPMT ACME HEALTH", dt.date(2026, 9, 4), None)))
    # the HCCLAIMPMT line (3 days later) pays 8801; the same-day wire of 80.00 is left unidentified
    row = one(result, "unidentified_deposit")
    assert row.reason.startswith("bank line B0 of 80.00 on 2026-09-01")


def test_the_fallback_pairs_nearest_dates_one_to_one():
    files = [SourceFile(f"era{i}.835", era(t, "80", [CLEAN], date=d, control=i + 1).encode())
             for i, (t, d) in enumerate([("8801", "20260901"), ("8802", "20260908")])]
    remitted, _ = read_remittances(files)
    lines = bank_lines((8000, "HCCLAIMPMT ACME HEALTH", dt.date(2026, 9, 9), None),
                       (8000, "WIRE IN", dt.date(2026, 9, 2), None))
    result = reconcile(ledger(("C1", 20000, 8000, 10000, 60)), remitted, postings(), lines, AS_OF, PAYERS)
    # 09-01 pays 80.00 -> 09-02 (1 day); 09-08 -> 09-09 (1 day): both matched, no bank exception
    assert not {"era_without_deposit", "deposit_without_era", "unidentified_deposit"} & set(result.exceptions.kind)


def test_one_to_one_rounds_keep_the_pairs_a_greedy_walk_keeps():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        pairs = pd.DataFrame({"p": rng.integers(0, 8, n), "d": rng.integers(0, 8, n), "gap": rng.integers(0, 5, n)})
        pairs = pairs.drop_duplicates(["p", "d"])
        order = ["gap", "p", "d"]
        used_p: set = set()
        used_d: set = set()
        greedy = set()
        for p, d in zip(*pairs.sort_values(order)[["p", "d"]].to_numpy().T, strict=True):  # the walk, pair by pair
            if p not in used_p and d not in used_d:
                used_p.add(p)
                used_d.add(d)
                greedy.add((p, d))
        rounds = _one_to_one(pairs, "p", "d", order)
        assert set(zip(rounds.p, rounds.d, strict=True)) == greedy
