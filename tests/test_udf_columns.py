"""Excel functions ask only for what they use (issue 10, section 9): the columns a computation reads
are declared next to it in the core; the function validates those, names the missing ones, and
ignores the rest of the table. Each call runs under classic xlwings and Office.js argument shapes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests import xlwings_classic
from tests.test_udfs import ROOT, both
from udfs import functions
from xl_ar import aging, kpi, tables

D = dt.datetime
AS_OF = D(2026, 9, 30)


@pytest.fixture(scope="module")
def xl():
    return xlwings_classic.load_with_classic_decorators(ROOT / "udfs" / "functions.py", "udfs_columns_classic")


def table(*columns: str, rows: list[dict] | None = None) -> list[list]:
    """A range with the given headers over three claims (values by canonical name)."""
    rows = rows or [
        {"Claim #": "C1", "DOS": D(2026, 9, 20), "Billed Date": D(2026, 9, 22), "Charges": 200.0, "Payments": 0.0,
         "Adjustments": 0.0, "Balance": 200.0, "Ins Code": "MCR", "Resp": "insurance"},
        {"Claim #": "C2", "DOS": D(2026, 6, 1), "Billed Date": D(2026, 6, 3), "Charges": 300.0, "Payments": 100.0,
         "Adjustments": 50.0, "Balance": 150.0, "Ins Code": "SMH", "Resp": "patient"},
        {"Claim #": "C3", "DOS": D(2026, 7, 15), "Billed Date": D(2026, 7, 17), "Charges": 100.0, "Payments": 60.0,
         "Adjustments": 40.0, "Balance": 0.0, "Ins Code": "SMH", "Resp": "insurance"},
    ]
    return [list(columns), *[[r.get(c) for c in columns] for r in rows]]


def test_aging_needs_only_a_date_and_a_balance(xl):
    rows = both(xl, "ar_aging", table("DOS", "Balance"), AS_OF)
    # no account, payments or adjustments: 200 (10 days) in 0-30, 150 (121 days) in 121+, C3 at zero
    assert rows[1][:8] == ["All claims", 2, 200.0, 0.0, 0.0, 0.0, 150.0, 350.0]


def test_aging_by_payer_needs_the_payer_column_and_says_so(xl):
    assert both(xl, "ar_aging", table("DOS", "Balance"), AS_OF, "payer") == (
        "AR_AGING: column 'payer_id' not found; headers are: DOS, Balance")
    rows = both(xl, "ar_aging", table("DOS", "Balance", "Ins Code"), AS_OF, "payer")
    # MCR 200, SMH 150
    assert [r[0] for r in rows[1:3]] == ["MCR", "SMH"] and [r[7] for r in rows[1:3]] == [200.0, 150.0]


def test_aging_on_another_basis_needs_that_date(xl):
    assert both(xl, "ar_aging", table("DOS", "Balance"), AS_OF, "none", "billed_date") == (
        "AR_AGING: column 'billed_date' not found; headers are: DOS, Balance")


def test_the_message_names_every_missing_column(xl):
    assert both(xl, "ar_ncr", table("DOS", "Payments"), D(2026, 6, 1), D(2026, 7, 31)) == (
        "AR_NCR: columns 'charge', 'adjusted' not found; headers are: DOS, Payments")


def test_ncr_and_gcr_need_dates_charges_payments_and_adjustments(xl):
    (rate, note), = both(xl, "ar_ncr", table("DOS", "Charges", "Payments", "Adjustments"), D(2026, 6, 1),
                         D(2026, 7, 31))
    # C2 and C3: paid 160 / (charges 400 - adjustments 90), an upper bound without write-offs
    assert rate == pytest.approx(160 / 310) and note.startswith("upper bound")
    # 160 / 400
    assert both(xl, "ar_gcr", table("DOS", "Charges", "Payments"), D(2026, 6, 1), D(2026, 7, 31)) == pytest.approx(0.4)


def test_ncr_with_a_write_off_column_is_not_an_upper_bound(xl):
    claims = table("DOS", "Charges", "Payments", "Adjustments", "Write Offs")
    claims[2][4], claims[3][4] = 20.0, 0.0  # C2 wrote off 20 of its 50
    (rate, note), = both(xl, "ar_ncr", claims, D(2026, 6, 1), D(2026, 7, 31))
    # contractual = 90 - 20 = 70: 160 / (400 - 70)
    assert rate == pytest.approx(160 / 330) and note.startswith("contractual adjustments = adjustments - write-offs")


def test_ncr_takes_the_835_contractual_adjustments_when_given(xl):
    adjustments = [["claim_id", "group_code", "reason_code", "amount"], ["C2", "CO", "45", 50.0],
                   ["C3", "CO", "45", 30.0], ["C3", "PR", "2", 10.0]]
    (rate, note), = both(xl, "ar_ncr", table("Claim #", "DOS", "Charges", "Payments", "Adjustments"),
                         D(2026, 6, 1), D(2026, 7, 31), adjustments)
    # contractual CO-45: 50 + 30 (PR-2 is the patient's): 160 / (400 - 80)
    assert rate == pytest.approx(160 / 320) and "835s" in note


def test_days_in_ar_and_pct_over_need_no_account_or_payments(xl):
    # A/R 350 / (charges 300 in 2026-07-01..09-30 over 92 days)
    assert both(xl, "ar_days_in_ar", table("DOS", "Charges", "Balance"), AS_OF) == pytest.approx(350 / (300 / 92))
    # billed A/R 350, over 90 days 150
    assert both(xl, "ar_pct_over", table("DOS", "Billed Date", "Balance"), AS_OF, 90.0) == pytest.approx(150 / 350)


def test_kpis_need_the_columns_of_every_kpi(xl):
    claims = table("DOS", "Billed Date", "Charges", "Payments", "Adjustments", "Balance")
    values = dict(both(xl, "ar_kpis", claims, AS_OF)[1:])
    assert values["A/R (excluding credit balances)"] == 350.0
    assert values["Net collection rate: basis"].startswith("upper bound")


def test_denial_rate_reads_claim_ids_billed_dates_and_charges(xl):
    claims = table("Claim #", "Billed Date", "Charges")
    remits = [["payment_id", "claim_seq", "claim_id", "status_code", "charge", "paid", "payment_date"],
              ["P1", 1, "C1", "4", 200.0, 0.0, D(2026, 9, 25)]]
    adjustments = [["payment_id", "claim_seq", "group_code", "reason_code"], ["P1", 1, "CO", "50"]]
    # billed 2026-06-01..09-30: C1, C2, C3; C1 denied (CLP02 4) -> 1/3
    assert both(xl, "ar_denial_rate", claims, remits, adjustments, D(2026, 6, 1), AS_OF) == pytest.approx(1 / 3)
    assert both(xl, "ar_denial_rate", table("Claim #", "Charges"), remits, adjustments, D(2026, 6, 1), AS_OF) == (
        "AR_DENIAL_RATE: column 'billed_date' not found; headers are: Claim #, Charges")


def test_a_bad_cell_in_a_column_read_is_reported_with_row_and_column(xl):
    claims = table("DOS", "Balance")
    claims[2][1] = "lots"
    assert both(xl, "ar_aging", claims, AS_OF) == (
        "AR_AGING: claims row 3, column 'balance': a value of 4 letters is not an amount")


def test_a_bad_cell_in_a_column_not_read_does_not_matter(xl):
    claims = table("DOS", "Balance", "Charges")
    claims[2][2] = "lots"
    # the aging does not read charges: the same 350 as without the column
    assert both(xl, "ar_aging", claims, AS_OF)[1][7] == 350.0


def test_a_row_empty_only_in_the_columns_read_is_not_dropped():
    claims = table("Claim #", "DOS", "Balance")
    claims[3][1:] = [None, None]  # C3 has a claim number but no date and no balance
    message = functions.ar_aging(claims, AS_OF)
    assert message.startswith("AR_AGING: claims row 4, column ") and "is empty; a value is required" in message


def test_of_two_headers_for_one_column_read_the_better_one_wins(xl):
    claims = [[*r, r[1]] for r in table("DOS", "Balance")]
    claims[0][2] = "Bal"
    for row in claims[1:]:
        row[2] = 1.0  # 'Bal', a weaker name for balance than 'Balance', would age 2 x 1.00
    # 'Balance' is read: the same 350 as without the second column (200 + 150)
    assert both(xl, "ar_aging", claims, AS_OF)[1][7] == 350.0


# -- the core reads only what it declares ------------------------------------------------------------

def only(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return frame[[c for c in columns if c in frame.columns]]


CLAIMS = tables.to_frame("claims", [
    {"claim_id": "C1", "account_id": "A", "payer_id": "MCR", "service_date": dt.date(2026, 9, 20),
     "billed_date": dt.date(2026, 9, 22), "charge": 20000, "paid": 0, "adjusted": 0, "balance": 20000,
     "responsibility": "insurance"},
    {"claim_id": "C2", "account_id": "B", "payer_id": "SMH", "service_date": dt.date(2026, 6, 1),
     "billed_date": dt.date(2026, 6, 3), "charge": 30000, "paid": 10000, "adjusted": 5000, "balance": 15000,
     "responsibility": "patient"}])


@pytest.mark.parametrize(("group_by", "basis"), [("none", "service_date"), ("payer", "billed_date"),
                                                 ("responsibility", "service_date")])
def test_aging_reads_only_its_declared_columns(group_by, basis):
    reads = aging.reads(group_by, basis)
    full = aging.aging(CLAIMS, AS_OF.date(), group_by, basis).rows()
    # the same table from the required columns alone, and from required and optional ones
    assert aging.aging(only(CLAIMS, reads.required), AS_OF.date(), group_by, basis).rows().equals(full)
    assert aging.aging(only(CLAIMS, reads.columns), AS_OF.date(), group_by, basis).rows().equals(full)


def test_kpis_read_only_their_declared_columns():
    full = kpi.kpis(CLAIMS, AS_OF.date())
    assert kpi.kpis(only(CLAIMS, kpi.KPIS_READS.columns), AS_OF.date()).figures == full.figures
    for name, function in (("days_in_ar", kpi.days_in_ar), ("pct_ar_over", kpi.pct_ar_over)):
        assert function(only(CLAIMS, kpi.READS[name].columns), AS_OF.date()) == function(CLAIMS, AS_OF.date())
    window = (dt.date(2026, 6, 1), dt.date(2026, 7, 31))
    assert kpi.net_collection_rate(only(CLAIMS, kpi.READS["net_collection_rate"].required), *window) == \
        kpi.net_collection_rate(CLAIMS, *window)
    assert kpi.total_ar(only(CLAIMS, kpi.READS["total_ar"].required), AS_OF.date()) == 35000
