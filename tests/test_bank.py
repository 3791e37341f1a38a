"""Bank deposits: trace numbers from descriptions, credit/debit columns, payer money vs other money."""

import pandas as pd

from xl_ar import bank, ledger


def test_trace_number_from_ccd_plus_reassociation_record():
    text = pd.Series(["HCCLAIMPMT SUMMIT MUTUAL HE TRN*1*88628701361*1360000003\\", "REMOTE DEPOSIT CHECK 104233",
                      "HCCLAIMPMT KEYSTONE", "CARD SETTLEMENT MERCHANT 4471"])
    assert bank.trace_from_description(text).tolist()[:2] == ["88628701361", "104233"]
    assert bank.trace_from_description(text).isna().tolist() == [False, False, True, True]


def test_classify_keeps_patient_card_batches_out_of_payer_money():
    text = pd.Series(["HCCLAIMPMT MEDICARE TRN*1*1*1\\", "REMOTE DEPOSIT", "CARD SETTLEMENT MERCHANT 4471",
                      "ONLINE TRANSFER FROM SAVINGS"])
    assert bank.classify(text).tolist() == ["payer_eft", "check", "card_settlement", "transfer"]


def test_bank_csv_with_credit_and_debit_columns(tmp_path):
    path = tmp_path / "deposits.csv"
    path.write_text("Date,Description,Credit,Debit\n"
                    "03/20/2025,HCCLAIMPMT MEDICARE TRN*1*8811*1360000001\\,1200.50,\n"
                    "03/21/2025,BANK FEE,,15.00\n")
    frame, findings = ledger.read_table(path, "deposits")
    assert findings == []
    assert frame.amount.tolist() == [120050, -1500]  # debits kept, negative
    assert frame.trace_number.tolist()[0] == "8811"
    assert frame.deposit_id.tolist() == ["deposits.csv:2", "deposits.csv:3"]  # file and row when no reference
