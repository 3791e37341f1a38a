"""The claim scrubber (docs/scrubber.md): one behaviour per test on one hand-built claim."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from xl_ar import scrub as sc
from xl_ar import tables

AS_OF = dt.date(2026, 6, 30)
NPI = "1234567893"  # Luhn over 80840123456789: check digit 3 (see test_npi_check_digit_by_hand)


def payers(**over) -> pd.DataFrame:
    row = {"payer_id": "P1", "name": "Acme Health", "payer_class": "commercial", "timely_filing_days": 90,
           "payer_ref": "ACME1"}
    row.update(over)
    return tables.from_columns("payers", {k: [v] for k, v in row.items()})


def claim(**over) -> dict:
    row = {"claim_id": "C1", "account_id": "A1", "payer_id": "P1", "service_date": "2026-06-01",
           "billed_date": None, "charge": 15000, "paid": 0, "adjusted": 0, "balance": 15000,
           "responsibility": "insurance", "patient_name": "Doe, Jane", "date_of_birth": "1980-02-03",
           "member_id": "M123", "patient_address": "1 Elm St, Springfield, IL, 62701", "diagnosis_codes": "E11.9,I10",
           "patient_sex": "F", "place_of_service": "11"}
    row.update(over)
    return row


def line(**over) -> dict:
    row = {"claim_id": "C1", "line_no": 1, "procedure_code": "99213", "modifiers": None, "units": 1.0,
           "charge": 15000, "service_date": "2026-06-01", "diagnosis_pointers": "1:2"}
    row.update(over)
    return row


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    cols = {k: [r.get(k) for r in rows] for k in rows[0]}
    for k in ("service_date", "billed_date", "date_of_birth"):
        if k in cols:
            cols[k] = pd.to_datetime(pd.Series(cols[k])).to_numpy()
    return tables.from_columns(name, cols)


def run(claims: list[dict] | None = None, lines: list[dict] | None = None, rules: pd.DataFrame | None = None,
        npi: str = NPI, pay: pd.DataFrame | None = None) -> pd.DataFrame:
    c = frame("claims", claims or [claim()])
    ln = frame("claim_lines", lines) if lines else tables.empty("claim_lines")
    return sc.scrub(c, ln, payers() if pay is None else pay, npi, AS_OF, rules)


def found(result: pd.DataFrame) -> list[tuple]:
    return [(r.claim_id, None if pd.isna(r.line_no) else int(r.line_no), r.rule_id) for r in result.itertuples()]


def test_a_clean_claim_has_no_finding():
    assert found(run(lines=[line()])) == []


def test_npi_check_digit_by_hand():
    # 80840 + 123456789 = 8 0 8 4 0 1 2 3 4 5 6 7 8 9; doubling every other digit from the right
    # (9, 7, 5, 3, 1, 4, 0): 18->9, 14->5, 10->1, 6, 2, 8, 0 = 31; the others (8, 6, 4, 2, 0, 8, 8) = 36;
    # total 67, check digit (10 - 67 % 10) % 10 = 3
    assert sc.npi_valid(pd.Series(["1234567893", "1234567890", "123456789", None])).tolist() == [
        True, False, False, False]


@pytest.mark.parametrize(("over", "rule"), [
    ({"member_id": None}, "SCR-REQ-MEMBER"),
    ({"patient_name": None}, "SCR-REQ-PATIENT-NAME"),
    ({"date_of_birth": None}, "SCR-REQ-DOB"),
    ({"patient_sex": "X"}, "SCR-REQ-SEX"),
    ({"patient_address": "1 Elm St Springfield"}, "SCR-REQ-ADDRESS"),
    ({"payer_id": "P9"}, "SCR-REQ-PAYER"),
    ({"place_of_service": "1"}, "SCR-REQ-POS"),
    ({"secondary_payer_id": "P1"}, "SCR-REQ-SECONDARY-MEMBER"),
    ({"rendering_npi": "1234567890"}, "SCR-NPI-RENDERING"),  # check digit is 3, not 0
    ({"service_date": "2015-09-30", "billed_date": "2015-10-05"}, "SCR-DX-DATE"),
    ({"frequency_code": "5"}, "SCR-FREQ-CODE"),
    ({"frequency_code": "7"}, "SCR-FREQ-ORIGINAL"),
    ({"billed_date": "2026-05-31"}, "SCR-DATE-ORDER"),  # service 06-01 after billed 05-31
    ({"date_of_birth": "2026-06-02"}, "SCR-DATE-DOB"),  # born the day after the service
])
def test_claim_level_rule_finds_its_violation(over, rule):
    result = run([claim(**over)], [line()])
    assert rule in set(result["rule_id"]), found(result)
    assert (result.loc[result.rule_id == rule, "line_no"].isna()).all()


def test_required_diagnosis():
    assert "SCR-REQ-DX" in set(run([claim(diagnosis_codes=None)], [line(diagnosis_pointers=None)])["rule_id"])


def test_payer_without_edi_id():
    assert found(run(lines=[line()], pay=payers(payer_ref=None))) == [("C1", None, "SCR-REQ-PAYER-EDI")]


def test_billing_npi_missing_and_bad():
    assert found(run(lines=[line()], npi="")) == [("C1", None, "SCR-REQ-BILLING-NPI")]
    assert found(run(lines=[line()], npi="1234567890")) == [("C1", None, "SCR-NPI-BILLING")]


def test_claim_without_lines():
    assert found(run()) == [("C1", None, "SCR-REQ-LINES")]


def test_diagnosis_not_in_code_set():
    result = run([claim(diagnosis_codes="E11.9,I10X")], [line()])
    assert found(result) == [("C1", None, "SCR-DX-VALID")]
    assert "'I10X'" in result["message"][0]


def test_diagnosis_category_header_is_not_billable():
    # E11 is the category "Type 2 diabetes mellitus"; E11.9 is billable
    assert found(run([claim(diagnosis_codes="E11,I10")], [line()])) == [("C1", None, "SCR-DX-BILLABLE")]


def test_seventh_character_code_is_billable_and_header_is_not():
    assert found(run([claim(diagnosis_codes="S72.001A")], [line(diagnosis_pointers="1")])) == []
    assert found(run([claim(diagnosis_codes="S72.001")], [line(diagnosis_pointers="1")])) == [
        ("C1", None, "SCR-DX-BILLABLE")]


def test_at_most_twelve_diagnoses():
    thirteen = ",".join(["I10"] * 13)  # 13 > 12
    result = run([claim(diagnosis_codes=thirteen)], [line()])
    assert found(result) == [("C1", None, "SCR-DX-COUNT")]
    assert "13 diagnosis codes" in result["message"][0]


def test_pointer_past_the_codes():
    # the claim has 2 codes; pointer 3 points at none
    assert found(run(lines=[line(diagnosis_pointers="1:3")])) == [("C1", 1, "SCR-DX-POINTER")]


def test_more_than_four_pointers():
    five = ",".join(["I10"] * 5)
    assert found(run([claim(diagnosis_codes=five)], [line(diagnosis_pointers="1:2:3:4:5")])) == [
        ("C1", 1, "SCR-DX-POINTER")]


@pytest.mark.parametrize("code", ["99213", "0001F", "0042T", "0001U", "J3490", "V2020"])
def test_procedure_formats_accepted(code):
    assert found(run(lines=[line(procedure_code=code)])) == []


@pytest.mark.parametrize("code", ["9921", "992134", "W1234", "9921A", "J349"])
def test_procedure_formats_rejected(code):
    assert found(run(lines=[line(procedure_code=code)])) == [("C1", 1, "SCR-PROC-FORMAT")]


def test_modifier_format_and_count():
    assert found(run(lines=[line(modifiers="2")])) == [("C1", 1, "SCR-MOD-FORMAT")]
    assert found(run(lines=[line(modifiers="25:59:GP:KX:LT")])) == [("C1", 1, "SCR-MOD-FORMAT")]  # 5 > 4


def test_informational_modifier_before_pricing_modifier():
    assert found(run(lines=[line(modifiers="26:59")])) == []
    assert found(run(lines=[line(modifiers="59:26")])) == [("C1", 1, "SCR-MOD-ORDER")]


def test_units_must_be_positive():
    assert found(run(lines=[line(units=0.0)])) == [("C1", 1, "SCR-UNITS")]


def test_line_charge_must_be_positive_and_claim_charge_is_their_sum():
    # lines 15000 + 0 = 15000 = claim charge: only the zero line is wrong
    assert found(run(lines=[line(), line(line_no=2, procedure_code="36415", charge=0)])) == [
        ("C1", 2, "SCR-LINE-CHARGE")]
    # lines 15000 + 2000 = 17000 != 15000
    result = run(lines=[line(), line(line_no=2, procedure_code="36415", charge=2000)])
    assert found(result) == [("C1", None, "SCR-CHARGE-SUM")]
    assert "$150.00" in result["message"][0] and "$170.00" in result["message"][0]


def test_claim_charge_must_be_positive():
    assert "SCR-CHARGE" in set(run([claim(charge=0)], [line(charge=0)])["rule_id"])


def test_duplicate_line():
    assert found(run([claim(charge=30000)], [line(), line(line_no=2)])) == [("C1", 2, "SCR-LINE-DUPLICATE")]
    # the same code with a modifier on a second line is not a duplicate
    assert found(run([claim(charge=30000)], [line(), line(line_no=2, modifiers="76")])) == []


def test_line_before_claim_date():
    assert found(run(lines=[line(service_date="2026-05-31")])) == [("C1", 1, "SCR-DATE-LINE")]


def test_future_date_of_service():
    # as of 2026-06-30; a line on 2026-07-01 is one day ahead
    assert found(run(lines=[line(service_date="2026-07-01")])) == [("C1", None, "SCR-DATE-FUTURE")]


def test_timely_filing_past_and_at_risk():
    # service 2026-03-01 + 90 days = 2026-05-30 < as of 2026-06-30: passed 31 days ago
    result = run([claim(service_date="2026-03-01")], [line(service_date="2026-03-01")])
    assert found(result) == [("C1", None, "SCR-TIMELY-PAST")]
    assert "31 days" in result["message"][0]
    # service 2026-04-15 + 90 = 2026-07-14: 14 days left <= 30
    result = run([claim(service_date="2026-04-15")], [line(service_date="2026-04-15")])
    assert found(result) == [("C1", None, "SCR-TIMELY-RISK")]
    assert result["severity"][0] == "warning"


def test_timely_filing_counts_to_the_billed_date():
    # service 2026-03-01, billed 2026-04-01 (31 days < 90): filed in time, even though 121 days have passed
    assert found(run([claim(service_date="2026-03-01", billed_date="2026-04-01")],
                     [line(service_date="2026-03-01")])) == []


def test_line_of_an_unknown_claim():
    assert found(run(lines=[line(), line(claim_id="C9")])) == [("C9", 1, "SCR-LINE-CLAIM")]


def test_duplicate_claim_id():
    result = run([claim(), claim()], [line()])
    assert found(result) == [("C1", None, "SCR-CLAIM-ID-DUPLICATE")]


def test_self_pay_claims_are_not_scrubbed_and_never_clean():
    pay = payers(payer_class="self_pay")
    c = frame("claims", [claim(member_id=None)])
    result = sc.scrub(c, tables.empty("claim_lines"), pay, NPI, AS_OF)
    assert result.empty
    assert sc.clean_claims(c, result, pay).empty


def test_clean_claims_keep_warnings_and_drop_errors():
    c = frame("claims", [claim(), claim(claim_id="C2", service_date="2026-04-15", member_id=None)])
    ln = frame("claim_lines", [line(), line(claim_id="C2", service_date="2026-04-15")])
    result = sc.scrub(c, ln, payers(), NPI, AS_OF)
    assert sc.clean_claims(c, result)["claim_id"].tolist() == ["C1"]


def rules(rows: list[dict]) -> pd.DataFrame:
    out, problems = sc.rules_from_frame(pd.DataFrame(rows, dtype=str).fillna(""))
    assert problems == []
    return out


def test_payer_rule_authorization():
    r = rules([{"payer_id": "P1", "rule": "authorization", "procedure_code": "99213"}])
    assert found(run(lines=[line()], rules=r)) == [("C1", 1, "SCR-PAYER-AUTH")]
    assert found(run([claim(prior_authorization="AUTH1")], [line()], rules=r)) == []
    other = rules([{"payer_id": "P2", "rule": "authorization", "procedure_code": "99213"}])
    assert found(run(lines=[line()], rules=other)) == []


def test_payer_rule_modifier():
    r = rules([{"payer_id": "*", "rule": "modifier", "procedure_code": "97110", "modifier": "GP"}])
    assert found(run(lines=[line(procedure_code="97110")], rules=r)) == [("C1", 1, "SCR-PAYER-MODIFIER")]
    assert found(run(lines=[line(procedure_code="97110", modifiers="GP")], rules=r)) == []


def test_payer_rule_frequency_counts_units_per_patient_in_the_period():
    r = rules([{"payer_id": "P1", "rule": "frequency", "procedure_code": "99213", "max_units": "1",
                "period_days": "30"}])
    c = [claim(), claim(claim_id="C2", service_date="2026-06-20"), claim(claim_id="C3", service_date="2026-06-20",
                                                                         account_id="A2")]
    ln = [line(), line(claim_id="C2", service_date="2026-06-20"), line(claim_id="C3", service_date="2026-06-20")]
    # A1: 06-01 and 06-20 are 19 days apart (< 30): 2 units > 1, the second is over; A2 has one
    assert found(run(c, ln, rules=r)) == [("C2", 1, "SCR-PAYER-FREQUENCY")]
    # 40 days apart is outside the 30-day window
    c[1]["service_date"] = ln[1]["service_date"] = "2026-06-11"
    r = rules([{"payer_id": "P1", "rule": "frequency", "procedure_code": "99213", "max_units": "1",
                "period_days": "10"}])
    assert found(run(c, ln, rules=r)) == []


def test_rules_file_bad_rows_are_reported_and_left_out():
    frame_ = pd.DataFrame([{"payer_id": "P1", "rule": "sometimes", "procedure_code": "99213"},
                           {"payer_id": "P1", "rule": "modifier", "procedure_code": "97110", "modifier": ""}],
                          dtype=str).fillna("")
    out, problems = sc.rules_from_frame(frame_)
    assert out.empty
    assert [(p.where.row, p.where.column) for p in problems] == [(2, "rule"), (3, "modifier")]


def test_messages_never_show_identifiers():
    result = run([claim(member_id=None, claim_id="SECRET-ID-1", diagnosis_codes="E11,ZZZ9")],
                 [line(claim_id="SECRET-ID-1", procedure_code="XX")])
    assert len(result) >= 3
    assert not result["message"].str.contains("SECRET").any()


def test_scrub_is_deterministic_and_ordered():
    c = [claim(claim_id="C2", member_id=None), claim(diagnosis_codes="E11")]
    ln = [line(claim_id="C2", units=0.0), line(diagnosis_pointers="1")]
    a, b = run(c, ln), run(c, ln)
    pd.testing.assert_frame_equal(a, b)
    assert found(a) == [("C2", None, "SCR-REQ-MEMBER"), ("C2", 1, "SCR-UNITS"), ("C1", None, "SCR-DX-BILLABLE")]


def test_every_rule_is_documented():
    doc = (Path(__file__).parents[1] / "docs" / "scrubber.md").read_text(encoding="utf-8")
    for r in sc.RULES:
        assert r.rule_id in doc, r.rule_id
        assert r.check and r.why and r.fix
