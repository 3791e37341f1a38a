"""Appeal and refund letters: which claims get one, the facts a letter carries, the templates (hand-built cases)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from xl_ar import codes, documents, letters, tables
from xl_ar.documents import TemplateError
from xl_ar.practice import PracticeInfo
from xl_ar.reconcile import reconcile
from xl_ar.remittances import read_remittances
from xl_ar.sources import SourceFile

AS_OF = dt.date(2026, 9, 30)
INFO = PracticeInfo(name="Lakeside Family Medicine", npi="1234567893", address="100 Main St", city="Fairhaven",
                    state="OH", zip="430010100", contact_name="Billing Office", contact_phone="6145550100")
PAYERS = tables.to_frame("payers", [
    {"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial", "payer_ref": "ACME01",
     "timely_filing_days": 90, "appeal_days": 180},
    {"payer_id": "SHORT", "name": "Short Limit Co", "payer_class": "commercial", "payer_ref": "SHORT1",
     "timely_filing_days": 90, "appeal_days": 10},
])
FEES = tables.to_frame("fee_schedule", [
    {"payer_id": "ACME", "procedure_code": "99213", "modifier": None, "allowed": 10000},
    {"payer_id": "ACME", "procedure_code": "93000", "modifier": None, "allowed": 3000},
    {"payer_id": "SHORT", "procedure_code": "99213", "modifier": None, "allowed": 10000},
])


def claims(*rows) -> pd.DataFrame:
    """rows: (claim_id, payer, charge, paid, adjusted)."""
    return tables.to_frame("claims", [
        {"claim_id": c, "account_id": f"A-{c}", "payer_id": p, "service_date": dt.date(2026, 8, 1),
         "billed_date": dt.date(2026, 8, 3), "charge": ch, "paid": pd_, "adjusted": adj, "balance": ch - pd_ - adj,
         "responsibility": "insurance", "patient_name": "Doe, Jordan", "member_id": "XYZ123456789",
         "date_of_birth": dt.date(1970, 5, 16)} for c, p, ch, pd_, adj in rows])


def claim_lines(*rows) -> pd.DataFrame:
    """rows: (claim_id, line_no, code, modifiers, units, charge)."""
    return tables.to_frame("claim_lines", [
        {"claim_id": c, "line_no": n, "procedure_code": code, "modifiers": mods, "units": u, "charge": ch,
         "service_date": dt.date(2026, 8, 1)} for c, n, code, mods, u, ch in rows])


def remits(*files: str) -> dict[str, pd.DataFrame]:
    tabs, findings = read_remittances([SourceFile(f"era{i}.835", t.encode()) for i, t in enumerate(files)])
    assert [f for f in findings if f.severity == "error"] == []
    return tabs


def batch(ledger: pd.DataFrame, lines: pd.DataFrame, files: list[str], claim_ids=None) -> letters.AppealBatch:
    rem = remits(*files)
    result = reconcile(ledger, rem, tables.empty("postings"), tables.empty("deposits"), AS_OF, PAYERS, lines, FEES)
    practice = {"claims": ledger, "claim_lines": lines, "payers": PAYERS, "fee_schedule": FEES}
    return letters.appeal_facts(result.exceptions, practice, rem, INFO, AS_OF, claim_ids=claim_ids)


def denied(claim_id: str = "C1", reason: str = "50", remarks: list[str] | None = None) -> str:
    """C1 billed $200.00 for 99213, denied in full with CO-<reason> on 09/01/2026 (payer claim number PCN-C1)."""
    return era("T1", "0", [Claim(claim_id, "4", "200", "0", payer_claim_id=f"PCN-{claim_id}",
                                 remarks=remarks or [],
                                 lines=[Line("99213", "200", "0", [("CO", reason, "200")])])])


LEDGER_C1 = claims(("C1", "ACME", 20000, 0, 0))
LINES_C1 = claim_lines(("C1", 1, "99213", None, 1, 20000))


def test_a_medical_necessity_denial_gets_a_letter_with_the_claims_facts():
    facts = batch(LEDGER_C1, LINES_C1, [denied()]).facts
    assert len(facts) == 1
    f = facts[0]
    assert (f["category"], f["kind"], f["claim"]["payer_claim_id"]) == ("medical_necessity", "denied", "PCN-C1")
    # billed $200.00; allowed = charge - CO = 0; paid 0; expected = min(charge 20000, fee 10000) = 10000
    assert f["lines"] == [{"line": 1, "procedure_code": "99213", "modifiers": "", "units": 1,
                           "service_date": dt.date(2026, 8, 1), "billed": 20000, "allowed": 0, "paid": 0,
                           "expected": 10000}]
    # in dispute: the open balance of a claim denied in full, 20000
    assert f["totals"] == {"billed": 20000, "allowed": 0, "paid": 0, "expected": 10000, "in_dispute": 20000}
    # the remittance is dated 09/01/2026; Acme's appeal limit is 180 days: 2027-02-28
    assert (f["denial_date"], f["deadline"]) == (dt.date(2026, 9, 1), dt.date(2027, 2, 28))


def test_the_codes_carry_our_labels_never_official_texts():
    f = batch(LEDGER_C1, LINES_C1, [denied(remarks=["N115"])]).facts[0]
    assert f["adjustments"] == [{"code": "CO-50", "group_code": "CO", "reason_code": "50",
                                 "label": codes.carc("50", "CO")[0], "amount": 20000, "line": 1}]
    assert f["remarks"] == [{"code": "N115", "label": codes.rarc_table().loc["N115", "label"]}]


def test_a_category_that_needs_a_new_claim_gets_no_letter_and_is_counted():
    # CARC 4 (modifier wrong) is a coding denial: corrected claim, not an appeal
    b = batch(LEDGER_C1, LINES_C1, [denied(reason="4")])
    assert (b.facts, b.not_eligible[letters.NEW_CLAIM]) == ([], 1)


def test_remark_ma130_makes_any_denial_a_new_claim():
    b = batch(LEDGER_C1, LINES_C1, [denied(remarks=["MA130"])])
    assert (b.facts, b.not_eligible[letters.NEW_CLAIM]) == ([], 1)


def test_a_denial_past_its_appeal_deadline_gets_no_letter_and_is_counted():
    # SHORT allows 10 days from the 09/01 remittance: 09/11/2026, before the as-of date 09/30
    ledger = claims(("C1", "SHORT", 20000, 0, 0))
    b = batch(ledger, LINES_C1, [denied()])
    assert (b.facts, b.not_eligible[letters.DEADLINE_PASSED]) == ([], 1)


def test_an_underpayment_uses_the_underpaid_template_and_disputes_the_shortfall():
    # 99213 allowed $80.00 (AMT*B6) against the fee $100.00; 93000 allowed $30.00 as contracted
    ledger = claims(("C2", "ACME", 25000, 11000, 14000))
    lines = claim_lines(("C2", 1, "99213", None, 1, 20000), ("C2", 2, "93000", None, 1, 5000))
    file = era("T2", "110", [Claim("C2", "1", "250", "110", payer_claim_id="PCN-C2", lines=[
        Line("99213", "200", "80", [("CO", "45", "120")], allowed="80"),
        Line("93000", "50", "30", [("CO", "45", "20")], allowed="30")])])
    b = batch(ledger, lines, [file])
    f = b.facts[0]
    assert (f["category"], f["kind"]) == ("underpaid", "underpaid")
    # expected 10000 + 3000 = 13000; allowed 8000 + 3000 = 11000; in dispute 13000 - 11000 = 2000
    assert f["totals"] == {"billed": 25000, "allowed": 11000, "paid": 11000, "expected": 13000, "in_dispute": 2000}
    letter = letters.render_appeals(b)[0]
    assert (letter.template, letter.amount) == ("appeal_underpaid.txt", 2000)
    assert "$20.00" in letter.text


def test_billed_modifiers_and_units_price_the_line_when_the_payer_drops_them():
    # billed 99213-25 x1; the 835 echoes 99213 without the modifier: the letter shows the billed modifier
    lines = claim_lines(("C1", 1, "99213", "25", 1, 20000))
    f = batch(LEDGER_C1, lines, [denied()]).facts[0]
    assert (f["lines"][0]["modifiers"], f["lines"][0]["units"]) == ("25", 1)


def test_only_the_claims_asked_for_get_letters():
    ledger = claims(("C1", "ACME", 20000, 0, 0), ("C3", "ACME", 20000, 0, 0))
    lines = claim_lines(("C1", 1, "99213", None, 1, 20000), ("C3", 1, "99213", None, 1, 20000))
    file = era("T1", "0", [Claim(c, "4", "200", "0", lines=[Line("99213", "200", "0", [("CO", "50", "200")])])
                           for c in ("C1", "C3")])
    b = batch(ledger, lines, [file], claim_ids=["C3"])
    assert ([f["claim"]["claim_id"] for f in b.facts], b.not_eligible[letters.NOT_ASKED]) == (["C3"], 1)


def test_the_letter_text_holds_the_facts():
    letter = letters.render_appeals(batch(LEDGER_C1, LINES_C1, [denied()]))[0]
    back = documents.docx_text(documents.docx_bytes(letter.text))
    assert "Payer claim number: PCN-C1" in "\n".join(back).splitlines()
    rows = [r for r in back if r.startswith("1 | ")]
    assert rows == ["1 | 08/01/2026 | 99213 |  | 1 | $200.00 | $0.00 | $0.00 | $100.00"]
    assert letter.stem == "appeal_00001" and letter.claim_id == "C1"


def test_a_practice_template_replaces_the_shipped_one(tmp_path):
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "appeal_medical_necessity.txt").write_text(
        "Our own letter for {{ claim.claim_id }}: {{ totals.in_dispute | dollars }}", encoding="utf-8")
    letter = letters.render_appeals(batch(LEDGER_C1, LINES_C1, [denied()]), tmp_path)[0]
    assert letter.text == "Our own letter for C1: $200.00"


def test_a_template_naming_a_missing_field_stops_with_its_line(tmp_path):
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "appeal_medical_necessity.txt").write_text("Dear\n\n{{ claim.payer_number }}",
                                                                         encoding="utf-8")
    with pytest.raises(TemplateError, match=r"letters/appeal_medical_necessity.txt line 3"):
        letters.render_appeals(batch(LEDGER_C1, LINES_C1, [denied()]), tmp_path)


@pytest.mark.parametrize("category", sorted(codes.DENIAL_CATEGORIES | {letters.UNDERPAID}))
def test_every_category_has_a_shipped_template_that_renders(category):
    facts = dict(batch(LEDGER_C1, LINES_C1, [denied()]).facts[0], category=category)
    text = documents.render(documents.find(letters.appeal_template(category)), facts)
    assert "PCN-C1" in text and "$200.00" in text


# -- refund letters -------------------------------------------------------------------------------------------------

def refunds(*rows) -> pd.DataFrame:
    """rows: (claim_id, party, payer, amount, applied)."""
    return tables.to_frame("refunds", [
        {"claim_id": c, "account_id": f"A-{c}", "party": party, "payer_id": payer, "amount": amount,
         "identified_date": dt.date(2026, 9, 10), "deadline": dt.date(2026, 11, 9), "applied": applied}
        for c, party, payer, amount, applied in rows])


def test_a_payer_refund_letter_names_the_claim_and_the_amount():
    ledger = claims(("C1", "ACME", 20000, 23550, 0))
    cp = remits(era("T1", "200", [Claim("C1", "1", "200", "200", payer_claim_id="PCN-C1",
                                        lines=[Line("99213", "200", "200")])]))["claim_payments"]
    out = letters.refund_letters(refunds(("C1", "payer", "ACME", 3550, None)), ledger, PAYERS, INFO, AS_OF, cp)
    assert [(x.stem, x.template, x.amount) for x in out] == [("refund_00001", "refund_payer.txt", 3550)]
    lines = out[0].text.splitlines()
    # paid 23550 (the 835's $200.00 and $35.50 more) on a 20000 claim: 3550 to give back
    for expected in ("Acme Health", "Our claim number: C1", "Payer claim number: PCN-C1",
                     "Date of service: 08/01/2026", "Amount to refund: $35.50"):
        assert expected in lines
    assert "Our check for $35.50 is enclosed. Please apply it to the claim numbers above." in lines


def test_a_payer_refund_by_offset_asks_for_the_offset():
    ledger = claims(("C1", "ACME", 20000, 23550, 0))
    out = letters.refund_letters(refunds(("C1", "payer", "ACME", 3550, None)), ledger, PAYERS, INFO, AS_OF,
                                 method="offset")
    assert "by offset against a future payment" in out[0].text and "check" not in out[0].text.lower()


def test_a_patient_refund_says_what_was_applied_and_what_is_returned():
    ledger = claims(("C1", "ACME", 20000, 0, 0))
    out = letters.refund_letters(refunds(("C1", "patient", None, 1500, 500)), ledger, PAYERS, INFO, AS_OF)
    assert out[0].template == "refund_patient.txt"
    # a $20.00 credit: $5.00 applied to other balances, $15.00 returned
    assert "We applied $5.00 of your credit to your other open balances with us; the rest, $15.00, is yours." \
        in out[0].text


def test_a_credit_wholly_applied_gets_no_refund_letter():
    ledger = claims(("C1", "ACME", 20000, 0, 0))
    assert letters.refund_letters(refunds(("C1", "patient", None, 0, 2000)), ledger, PAYERS, INFO, AS_OF) == []


def test_a_payer_name_from_data_never_becomes_layout():
    payers = PAYERS.assign(name=PAYERS.name.where(PAYERS.payer_id != "ACME", "# Acme | Health"))
    rem = remits(denied())
    result = reconcile(LEDGER_C1, rem, tables.empty("postings"), tables.empty("deposits"), AS_OF, payers,
                       LINES_C1, FEES)
    practice = {"claims": LEDGER_C1, "claim_lines": LINES_C1, "payers": payers, "fee_schedule": FEES}
    letter = letters.render_appeals(letters.appeal_facts(result.exceptions, practice, rem, INFO, AS_OF))[0]
    blocks = documents.blocks(letter.text)
    assert [b.kind for b in blocks][:3] == ["paragraph", "paragraph", "paragraph"]  # practice, date, payer address
    assert blocks[2].lines[0] == ("# Acme | Health",)
