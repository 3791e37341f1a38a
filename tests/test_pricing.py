"""Underpayments that are real (issue 10, section 5): the expected allowed amount is the lesser of the
billed charge and the contract, after the payer's multiple-procedure reduction (docs/pricing.md)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from xl_ar import denials, ledger, tables
from xl_ar.errors import InputError
from xl_ar.reconcile import Rules, reconcile
from xl_ar.remittances import read_remittances
from xl_ar.sources import SourceFile

AS_OF = dt.date(2026, 9, 30)
PAYERS = tables.to_frame("payers", [
    {"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial", "payer_ref": "ACME01"},
    {"payer_id": "BETA", "name": "Beta Care", "payer_class": "commercial", "payer_ref": "BETA01",
     "mpr_rates": "100/50/25"},
    {"payer_id": "GAMMA", "name": "Gamma Plan", "payer_class": "commercial", "payer_ref": "GAMMA01",
     "mpr_rates": "none"},
])
RATES = {"29881": 50000, "20610": 8000, "20605": 6000, "99213": 10000}
FEES = tables.to_frame("fee_schedule", [
    {"payer_id": p, "procedure_code": code, "modifier": None, "allowed": cents}
    for p in ("ACME", "BETA", "GAMMA") for code, cents in RATES.items()])


def pricing(billed: list[tuple[str, str, int, int, int]], payer: str = "ACME", rules: Rules | None = None,
            payers: pd.DataFrame = PAYERS) -> pd.DataFrame:
    """The under- and overpayments of one claim C1 paid on EFT 8801.

    billed: per line (procedure code, billed modifiers, charge, allowed by the payer, of which reduced
    with CO-59), in cents; the rest of the charge is CO-45 and the payer pays what it allowed.
    """
    lines, remitted = [], []
    for n, (code, mods, charge, allowed, by_59) in enumerate(billed, start=1):
        lines.append({"claim_id": "C1", "line_no": n, "line_control": f"C1-{n}", "procedure_code": code,
                      "modifiers": mods or None, "units": 1, "charge": charge, "service_date": dt.date(2026, 8, 1)})
        cas = [("CO", "45", f"{(charge - allowed - by_59) / 100:.2f}")] + (
            [("CO", "59", f"{by_59 / 100:.2f}")] if by_59 else [])
        remitted.append(Line(code, f"{charge / 100:.2f}", f"{allowed / 100:.2f}", cas, control=f"C1-{n}",
                             allowed=f"{allowed / 100:.2f}"))
    charge, paid = sum(b[2] for b in billed), sum(b[3] for b in billed)
    text = era("8801", f"{paid / 100:.2f}", [Claim("C1", "1", f"{charge / 100:.2f}", f"{paid / 100:.2f}",
                                                   lines=remitted)],
               payer=payer, payer_ref=f"{payer}01")
    remittances, _ = read_remittances([SourceFile("era.835", text.encode())])
    claims = tables.to_frame("claims", [{
        "claim_id": "C1", "account_id": "A1", "payer_id": payer, "service_date": dt.date(2026, 8, 1),
        "billed_date": dt.date(2026, 8, 2), "charge": charge, "paid": paid, "adjusted": charge - paid, "balance": 0,
        "responsibility": "insurance"}])
    postings = tables.to_frame("postings", [{"posting_id": "T1", "claim_id": "C1", "payer_id": payer,
                                             "amount": paid, "posted_date": dt.date(2026, 9, 3),
                                             "trace_number": "8801"}])
    ex = reconcile(claims, remittances, postings, tables.empty("deposits"), AS_OF, payers,
                   tables.to_frame("claim_lines", lines), FEES, rules).exceptions
    return ex[ex.kind.isin(["underpaid", "overpaid"])]


def amounts(ex: pd.DataFrame) -> list[tuple]:
    return list(zip(ex.kind, ex.expected, ex.actual, ex.variance, strict=True))


# -- the lesser of billed and contract ----------------------------------------------------------------

def test_the_expected_allowed_amount_is_the_lesser_of_the_line_charge_and_the_contract():
    lines = pd.DataFrame({"payer_id": ["ACME", "ACME"], "procedure_code": ["99213", "99213"], "modifiers": [None, None],
                          "units": [1.0, 1.0], "charge": [8000, 15000]})
    # contract 100.00: charged 80.00 -> 80.00; charged 150.00 -> 100.00
    assert denials.expected_allowed(lines, FEES).tolist() == [8000, 10000]


def test_a_charge_below_the_contract_paid_in_full_is_not_an_underpayment():
    # 99213 charged 80.00 (contract 100.00), allowed 80.00: nothing short
    assert pricing([("99213", "", 8000, 8000, 0)]).empty


# -- the multiple-procedure reduction ------------------------------------------------------------------

def test_the_practice_default_reduction_is_100_then_50_percent():
    assert Rules().mpr == (1.0, 0.5)


def test_a_correct_multiple_procedure_reduction_is_not_an_underpayment():
    # 29881 500.00 at 100%; 20610-51 80.00 at 50% = 40.00, reduced 40.00 with CO-59
    assert pricing([("29881", "", 90000, 50000, 0), ("20610", "51", 15000, 4000, 4000)]).empty


def test_a_reduction_on_the_wrong_line_is_an_underpayment():
    # the payer halves 29881 (250.00, CO-59) and pays 20610-51 in full (80.00): 330.00 allowed,
    # expected 500.00 + 40.00 = 540.00, short 210.00
    ex = pricing([("29881", "", 90000, 25000, 25000), ("20610", "51", 15000, 8000, 0)])
    assert amounts(ex) == [("underpaid", 54000, 33000, -21000)]


def test_a_reduction_at_the_wrong_rate_is_an_underpayment():
    # 20610-51 at 25% (20.00) instead of 50% (40.00): 520.00 allowed vs 540.00, short 20.00 (> 5.00 and > 2%)
    ex = pricing([("29881", "", 90000, 50000, 0), ("20610", "51", 15000, 2000, 6000)])
    assert amounts(ex) == [("underpaid", 54000, 52000, -2000)]


def test_lines_are_ranked_by_fee_not_by_line_order():
    # 20610-51 comes first but its fee (80.00) is below 29881's (500.00): it is the one reduced
    assert pricing([("20610", "51", 15000, 4000, 4000), ("29881", "51", 90000, 50000, 0)]).empty


def test_a_line_the_payer_reduced_with_carc_59_takes_part_without_modifier_51():
    assert pricing([("29881", "", 90000, 50000, 0), ("20610", "", 15000, 4000, 4000)]).empty


def test_equal_fees_are_ranked_by_line_order():
    lines = pd.DataFrame({"claim_id": ["C1", "C1"], "payer_id": ["ACME", "ACME"], "procedure_code": ["20610", "20610"],
                          "modifiers": ["51:RT", "51:LT"], "units": [1.0, 1.0]})
    assert denials.mpr_factors(lines, [8000, 8000], (1.0, 0.5)).tolist() == [1.0, 0.5]


def test_an_evaluation_and_management_visit_is_never_part_of_the_reduction():
    # 99213-25 (100.00) is not the first procedure: 20610 is, and halving it is 40.00 short of 80.00
    ex = pricing([("99213", "25", 20000, 10000, 0), ("20610", "", 15000, 4000, 4000)])
    assert amounts(ex) == [("underpaid", 18000, 14000, -4000)]


def test_the_reduced_amount_is_also_capped_by_the_line_charge():
    lines = pd.DataFrame({"claim_id": ["C1", "C1"], "payer_id": ["ACME", "ACME"], "procedure_code": ["29881", "20610"],
                          "modifiers": [None, "51"], "units": [1.0, 1.0], "charge": [90000, 3000]})
    # 20610 at 50% is 40.00, but it was charged 30.00
    assert denials.expected_allowed(lines, FEES, (1.0, 0.5)).tolist() == [50000, 3000]


# -- per payer -------------------------------------------------------------------------------------------

def test_a_payers_own_rates_price_the_third_procedure():
    # Beta: 100/50/25. 29881 500.00 + 20610-51 40.00 + 20605-51 15.00 (25% of 60.00) = 555.00
    assert pricing([("29881", "", 90000, 50000, 0), ("20610", "51", 15000, 4000, 4000),
                    ("20605", "51", 12000, 1500, 4500)], payer="BETA").empty


def test_the_last_rate_repeats_for_later_procedures():
    # Acme, the default (1.0, 0.5): the third procedure is at 50% too (30.00 of 60.00)
    ex = pricing([("29881", "", 90000, 50000, 0), ("20610", "51", 15000, 4000, 4000),
                  ("20605", "51", 12000, 1500, 4500)])
    # allowed 555.00 vs 500.00 + 40.00 + 30.00 = 570.00: short 15.00 (> 5.00 and > 2% of 570.00 = 11.40)
    assert amounts(ex) == [("underpaid", 57000, 55500, -1500)]


def test_a_payer_without_a_reduction_owes_the_full_fee_of_every_line():
    # Gamma applies none: the CO-59 reduction of 40.00 is an underpayment
    ex = pricing([("29881", "", 90000, 50000, 0), ("20610", "51", 15000, 4000, 4000)], payer="GAMMA")
    assert amounts(ex) == [("underpaid", 58000, 54000, -4000)]


def test_the_practice_default_can_be_turned_off():
    ex = pricing([("29881", "", 90000, 50000, 0), ("20610", "51", 15000, 4000, 4000)], rules=Rules(mpr=None))
    assert amounts(ex) == [("underpaid", 58000, 54000, -4000)]


@pytest.mark.parametrize(("text", "rates"), [("100/50", (1.0, 0.5)), ("100, 50, 25", (1.0, 0.5, 0.25)),
                                             ("1;0.5", (1.0, 0.5)), ("100% 50%", (1.0, 0.5)), ("None", (1.0,)),
                                             ("off", (1.0,)), ("50%", (1.0, 0.5)), ("0.5", (1.0, 0.5))])
def test_payer_rates_are_written_as_percentages_or_shares(text, rates):
    assert denials.parse_mpr(text) == pytest.approx(rates)


def test_payer_rates_that_are_not_rates_stop_the_reconciliation_naming_the_payer():
    bad = tables.to_frame("payers", [{"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial",
                                      "payer_ref": "ACME01", "mpr_rates": "half"}])
    with pytest.raises(InputError, match="ACME"):
        pricing([("29881", "", 90000, 50000, 0), ("20610", "51", 15000, 4000, 4000)], payers=bad)


def test_a_payers_export_names_its_reduction_column_mpr(tmp_path):
    path = tmp_path / "payers.csv"
    path.write_text("Payer ID,Payer Name,Class,MPR\nBETA,Beta Care,commercial,100/50/25\n", encoding="utf-8")
    frame, findings = ledger.read_table(path, "payers")
    assert findings == [] and frame.mpr_rates.tolist() == ["100/50/25"]
