"""837P out (005010X222A1) and back: what the writer writes, what it refuses, COB, and the round trip."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pyx12.params
import pyx12.x12n_document

from tests.claims_builder import NOW, PRACTICE, RENDERING_NPI, claims, lines, payers, primary_remittance
from xl_ar.x12.claims_in import read_837p
from xl_ar.x12.claims_out import secondary_claims, write_837p
from xl_ar.x12.writer import ControlNumbers

CORPUS = Path(__file__).parent / "corpus" / "x12" / "LinuxForHealth__x12"


def pyx12_errors(text: str, tmp_path: Path) -> list[str]:
    """pyx12's findings on a file (empty when it validates)."""
    path = tmp_path / "out.837"
    path.write_text(text)
    html = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(param=pyx12.params.params(), src_file=str(path), fd_997=None,
                                           fd_html=html, fd_xmldoc=None)
    found = re.findall(r"Segment Error Code[^<]*|Element Error Code[^<]*|<span class=\"error\">[^<]*", html.getvalue())
    return found if not ok or found else []


def segments(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def mixed_practice() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four claims to two payers: an original with prior authorization and a rendering provider, a
    replacement (7), a void (8), and an original that names its secondary payer."""
    c = claims(4, payer_id=["ACME", "ACME", "MCR", "ACME"], frequency_code=["1", "7", "8", None],
               original_payer_claim_id=[None, "PCN7", "PCN8", None], prior_authorization=["AUTH1", None, None, None],
               rendering_npi=[RENDERING_NPI, None, None, None], secondary_payer_id=[None, None, None, "BLUE"],
               secondary_member_id=[None, None, None, "S999"], place_of_service=["11", None, "22", None])
    return c, lines(list(c.claim_id))


def secondary() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    c = claims(1, secondary_payer_id=["BLUE"], secondary_member_id=["S999"])
    sc, sl, cob, findings = secondary_claims(c, lines(list(c.claim_id)), primary_remittance())
    assert findings == []
    return sc, sl, cob


# -- pyx12 -----------------------------------------------------------------------------------------
def test_originals_replacements_voids_and_claims_naming_a_secondary_validate_with_pyx12(tmp_path):
    c, ln = mixed_practice()
    text, findings = write_837p(c, ln, payers(), PRACTICE, ControlNumbers(), NOW)
    assert findings == []
    assert pyx12_errors(text, tmp_path) == []


def test_a_secondary_claim_with_cob_loops_validates_with_pyx12(tmp_path):
    sc, sl, cob = secondary()
    text, findings = write_837p(sc, sl, payers(), PRACTICE, ControlNumbers(), NOW, cob=cob)
    assert findings == []
    assert pyx12_errors(text, tmp_path) == []


def test_pyx12_check_catches_a_broken_file(tmp_path):
    # the helper itself can fail: a file without the billing provider's N3 is refused
    c, ln = mixed_practice()
    text, _ = write_837p(c, ln, payers(), PRACTICE, ControlNumbers(), NOW)
    broken = text.replace("N3*100 MAPLE ST~\n", "")
    assert pyx12_errors(broken, tmp_path) != []


# -- what is written -------------------------------------------------------------------------------
def test_claim_segment_carries_claim_id_charge_place_frequency_and_f8_for_corrections():
    c, ln = mixed_practice()
    text, _ = write_837p(c, ln, payers(), PRACTICE, ControlNumbers(), NOW)
    segs = segments(text)
    clm = [s for s in segs if s[0] == "CLM"]
    # $100 + $50 lines = 150; CLM05 place:B:frequency, 11 and 1 when empty
    assert {s[1]: s[5] for s in clm} == {"C001": "11:B:1", "C002": "11:B:7", "C003": "22:B:8", "C004": "11:B:1"}
    assert all(s[2] == "150" for s in clm)
    assert [s[2] for s in segs if s[:2] == ["REF", "F8"]] == ["PCN7", "PCN8"]
    assert [s[2] for s in segs if s[:2] == ["REF", "G1"]] == ["AUTH1"]


def test_lines_carry_procedure_modifiers_units_pointers_date_and_line_control():
    c, ln = mixed_practice()
    text, _ = write_837p(c.iloc[:1], ln.iloc[:2], payers(), PRACTICE, ControlNumbers(), NOW)
    segs = segments(text)
    assert [s for s in segs if s[0] == "SV1"] == [["SV1", "HC:99213:25", "100", "UN", "1", "", "", "1:2"],
                                                  ["SV1", "HC:36415", "50", "UN", "1", "", "", "1"]]
    assert [s[2] for s in segs if s[:2] == ["REF", "6R"]] == ["C001-1", "C001-2"]  # claim_id-line_no when empty
    assert [s[3] for s in segs if s[:2] == ["DTP", "472"]] == ["20260202", "20260202"]
    assert ["HI", "ABK:E119", "ABF:I10"] in segs
    assert ["NM1", "82", "1", "DOE", "JANE", "", "", "", "XX", RENDERING_NPI] in segs


def test_one_transaction_per_payer_with_exact_envelope_counts():
    c, ln = mixed_practice()
    text, _ = write_837p(c, ln, payers(), PRACTICE, ControlNumbers(interchange=7, group=3, transaction=10), NOW)
    segs = segments(text)
    st = [i for i, s in enumerate(segs) if s[0] == "ST"]
    se = [i for i, s in enumerate(segs) if s[0] == "SE"]
    assert len(st) == 2  # ACME and MCR
    for a, b in zip(st, se, strict=True):
        assert int(segs[b][1]) == b - a + 1  # ST to SE inclusive
        assert segs[b][2] == segs[a][2]
    assert [segs[a][2] for a in st] == ["0010", "0011"]
    assert segs[-2] == ["GE", "2", "3"]
    assert segs[-1] == ["IEA", "1", "000000007"]
    assert segs[0][13] == "000000007"


def test_max_claims_splits_a_payer_into_several_transactions():
    c = claims(5)
    text, _ = write_837p(c, lines(list(c.claim_id)), payers(), PRACTICE, ControlNumbers(), NOW, max_claims=2)
    segs = segments(text)
    # 5 claims, 5 subscribers, at most 2 per ST: 2 + 2 + 1
    assert sum(s[0] == "ST" for s in segs) == 3
    assert segs[-2][:2] == ["GE", "3"]


def test_subscribers_are_numbered_from_2_under_the_billing_provider_in_each_transaction():
    c = claims(3)
    text, _ = write_837p(c, lines(list(c.claim_id)), payers(), PRACTICE, ControlNumbers(), NOW)
    hls = [s[1:] for s in segments(text) if s[0] == "HL"]
    assert hls == [["1", "", "20", "1"], ["2", "1", "22", "0"], ["3", "1", "22", "0"], ["4", "1", "22", "0"]]


# -- refusals ----------------------------------------------------------------------------------------
def test_a_name_holding_a_delimiter_is_refused_with_a_finding_and_the_rest_written():
    c = claims(2, patient_name=["Sample*Bad, Pat", "Sample, Good"])
    text, findings = write_837p(c, lines(list(c.claim_id)), payers(), PRACTICE, ControlNumbers(), NOW)
    assert [(f.severity, f.source, f.where.row, f.where.column) for f in findings] == [
        ("error", "claims", 2, "patient_name")]
    assert "Sample" not in findings[0].message
    assert [s[1] for s in segments(text) if s[0] == "CLM"] == ["C002"]


def test_a_replacement_without_the_payer_claim_number_is_refused():
    c = claims(1, frequency_code=["7"])
    text, findings = write_837p(c, lines(list(c.claim_id)), payers(), PRACTICE, ControlNumbers(), NOW)
    assert text == ""
    assert "original_payer_claim_id" in {f.where.column for f in findings}


def test_a_claim_whose_lines_do_not_add_up_is_refused():
    c = claims(1, charge=np.array([16000]))  # lines are 100 + 50 = 150, not 160
    _, findings = write_837p(c, lines(list(c.claim_id)), payers(), PRACTICE, ControlNumbers(), NOW)
    assert next(f.where.column for f in findings if f.severity == "error") == "charge"


def test_a_bad_line_keeps_its_whole_claim_out():
    c = claims(1)
    ln = lines(["C001"], units=np.array([1.0, 0.0]))
    _, findings = write_837p(c, ln, payers(), PRACTICE, ControlNumbers(), NOW)
    assert {(f.source, f.where.column) for f in findings} >= {("claim_lines", "units"), ("claims", "claim_id")}


def test_an_incomplete_practice_writes_nothing():
    from dataclasses import replace
    text, findings = write_837p(claims(1), lines(["C001"]), payers(), replace(PRACTICE, address="", tax_id="12"),
                                ControlNumbers(), NOW)
    assert text == ""
    assert {f.where.key for f in findings} == {"address", "tax_id"}


# -- secondary claims ----------------------------------------------------------------------------------
def test_secondary_claim_goes_to_the_secondary_payer_with_balanced_cob():
    sc, _, cob = secondary()
    assert list(sc.payer_id) == ["BLUE"] and list(sc.member_id) == ["S999"]
    cc, cl, ca = cob["cob_claims"], cob["cob_lines"], cob["cob_adjustments"]
    assert list(cc.paid) == [11000] and list(cc.other_payer_id) == ["ACME"]
    # claim: 150.00 charge = 110.00 paid + 10 + 10 + 20 adjustments
    assert cc.paid.sum() + ca.amount.sum() == 15000
    # lines: 100 = 80 + 10 + 10; 50 = 30 + 20
    per_line = ca.groupby("line_no").amount.sum()
    assert list(cl.paid + per_line.reindex(cl.line_no).to_numpy()) == [10000, 5000]


def test_secondary_837p_has_2320_amounts_and_2430_per_line():
    sc, sl, cob = secondary()
    text, _ = write_837p(sc, sl, payers(), PRACTICE, ControlNumbers(), NOW, cob=cob)
    segs = segments(text)
    assert ["SBR", "S", "18", "", "", "", "", "", "", "CI"] in segs
    assert ["AMT", "D", "110"] in segs
    assert ["AMT", "EAF", "30"] in segs  # PR 10 + 20 left for the patient / secondary
    assert [s for s in segs if s[0] == "SVD"] == [["SVD", "60054", "80", "HC:99213:25", "", "1"],
                                                  ["SVD", "60054", "30", "HC:36415", "", "1"]]
    assert [s for s in segs if s[0] == "CAS"] == [["CAS", "CO", "45", "10"], ["CAS", "PR", "2", "10"],
                                                  ["CAS", "PR", "1", "20"]]
    assert [s[3] for s in segs if s[:2] == ["DTP", "573"]] == ["20260220", "20260220"]


def test_no_secondary_when_the_primary_left_no_patient_responsibility():
    c = claims(1, secondary_payer_id=["BLUE"], secondary_member_id=["S999"])
    rem = primary_remittance()
    rem["adjustments"]["group_code"] = "CO"
    sc, _, cob, _ = secondary_claims(c, lines(["C001"]), rem)
    assert sc.empty and cob["cob_claims"].empty


def test_no_secondary_when_the_primary_denied_or_reversed():
    c = claims(1, secondary_payer_id=["BLUE"], secondary_member_id=["S999"])
    for status in ("4", "22"):
        sc, _, _, _ = secondary_claims(c, lines(["C001"]), primary_remittance(status=status))
        assert sc.empty


def test_an_unbalanced_primary_835_builds_no_secondary_and_says_why():
    c = claims(1, secondary_payer_id=["BLUE"], secondary_member_id=["S999"])
    rem = primary_remittance()
    rem["line_payments"].loc[0, "paid"] = 7000  # 100 != 70 + 10 + 10
    sc, _, _, findings = secondary_claims(c, lines(["C001"]), rem)
    assert sc.empty
    assert [f.code for f in findings] == ["secondary not built"]


# -- reading back ----------------------------------------------------------------------------------------
ROUND_TRIP_CLAIMS = ["claim_id", "payer_id", "charge", "member_id", "patient_name", "date_of_birth", "patient_address",
                     "diagnosis_codes", "patient_sex", "place_of_service", "rendering_npi", "prior_authorization",
                     "frequency_code", "original_payer_claim_id", "secondary_payer_id", "secondary_member_id",
                     "service_date"]
ROUND_TRIP_LINES = ["claim_id", "line_no", "line_control", "procedure_code", "modifiers", "units", "charge",
                    "service_date", "diagnosis_pointers"]


def canonical_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Upper case, and the defaults the writer fills (place 11, frequency 1, line control claim-line)."""
    out = frame.copy()
    for col in ("patient_name", "patient_address"):
        if col in out:
            out[col] = out[col].str.upper()
    if "place_of_service" in out:
        out["place_of_service"] = out["place_of_service"].fillna("11")
        out["frequency_code"] = out["frequency_code"].fillna("1")
    if "line_control" in out:
        out["line_control"] = out["line_control"].fillna(out.claim_id + "-" + out.line_no.astype(str))
    return out.reset_index(drop=True)


def test_round_trip_gives_back_the_claims_and_lines():
    c, ln = mixed_practice()
    text, _ = write_837p(c, ln, payers(), PRACTICE, ControlNumbers(), NOW)
    got, findings = read_837p(text, "out.837", payers())
    assert findings == []
    back = got["claims"].sort_values("claim_id")[ROUND_TRIP_CLAIMS].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, canonical_text(c[ROUND_TRIP_CLAIMS]), check_dtype=False)
    back_lines = got["claim_lines"].sort_values(["claim_id", "line_no"])[ROUND_TRIP_LINES].reset_index(drop=True)
    pd.testing.assert_frame_equal(back_lines, canonical_text(ln[ROUND_TRIP_LINES]), check_dtype=False)


def test_round_trip_gives_back_the_cob_amounts():
    sc, sl, cob = secondary()
    text, _ = write_837p(sc, sl, payers(), PRACTICE, ControlNumbers(), NOW, cob=cob)
    got, findings = read_837p(text, "out.837", payers())
    assert findings == []
    for name in ("cob_claims", "cob_lines", "cob_adjustments"):
        pd.testing.assert_frame_equal(got[name].reset_index(drop=True), cob[name].reset_index(drop=True),
                                      check_dtype=False)


def test_corpus_cob_claim_reads_as_the_file_says():
    got, findings = read_837p((CORPUS / "demo.cob.example3.B.837").read_bytes(), "demo.cob.example3.B.837")
    assert [f for f in findings if f.severity == "error"] == []
    claim = got["claims"].iloc[0]
    assert (claim.claim_id, claim.charge, claim.payer_id) == ("26407789", 7904, "567890")
    assert claim.patient_name == "SMITH, TED"  # the dependent (HL 23 NM1*QC), not the subscriber
    assert claim.member_id == "222334444"
    assert claim.diagnosis_codes == "4779,2724,2780,53081"
    assert claim.rendering_npi == "1999996666"
    assert list(got["claim_lines"].charge) == [4300, 1500, 2104]  # 43.00 + 15.00 + 21.04 = 79.04
    cc = got["cob_claims"].iloc[0]
    assert (cc.paid, cc.other_payer_id, cc.other_member_id) == (3915, "999996666", "JS00111223333")
    assert list(got["cob_lines"].paid) == [4000, 1500, 2104]
    adj = got["cob_adjustments"]
    assert adj[adj.line_no.isna()][["group_code", "reason_code", "amount"]].values.tolist() == [
        ["PR", "1", 2189], ["PR", "2", 1500]]
    assert adj[adj.line_no.notna()][["line_no", "group_code", "reason_code", "amount"]].values.tolist() == [
        [1, "CO", "42", 300]]


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.glob("*.837")), ids=lambda p: p.name)
def test_every_corpus_837p_reads_with_no_error(path):
    got, findings = read_837p(path.read_bytes(), path.name)
    assert [f for f in findings if f.severity == "error"] == []
    clm = sum(1 for s in segments(path.read_text()) if s[0] == "CLM")
    assert len(got["claims"]) == clm
    assert (got["claims"].charge > 0).all()


# -- a practice of 1,000 claims ------------------------------------------------------------------------------
def test_a_thousand_claims_with_corrections_voids_and_secondaries_validate_and_round_trip(tmp_path):
    from tests.claims_builder import many, remittance_for

    c, ln = many(1000)
    # the ACME claims that name BLUE as secondary, adjudicated by ACME: their secondary claims
    to_blue = c[(c.payer_id == "ACME") & (c.secondary_payer_id == "BLUE") & (c.frequency_code == "1")]
    sc, sl, cob, found = secondary_claims(to_blue, ln, remittance_for(to_blue, ln))
    assert found == [] and len(sc) == len(to_blue) > 10
    all_claims = pd.concat([c, sc], ignore_index=True)
    all_claims["claim_id"] = all_claims.claim_id.where(all_claims.index < len(c), all_claims.claim_id + "S")
    sl = sl.assign(claim_id=sl.claim_id + "S")
    cob = {k: v.assign(claim_id=v.claim_id + "S") for k, v in cob.items()}
    text, findings = write_837p(all_claims, pd.concat([ln, sl], ignore_index=True), payers(), PRACTICE,
                                ControlNumbers(), NOW, cob=cob)
    assert findings == []
    segs = segments(text)
    assert {s[5][-1] for s in segs if s[0] == "CLM"} == {"1", "7", "8"}
    assert pyx12_errors(text, tmp_path) == []
    got, read_findings = read_837p(text, "out.837", payers())
    assert read_findings == []
    assert len(got["claims"]) == len(all_claims)
    assert got["claims"].charge.sum() == all_claims.charge.sum()
    assert got["claim_lines"].charge.sum() == ln.charge.sum() + sl.charge.sum()
    assert got["cob_claims"].paid.sum() == cob["cob_claims"].paid.sum()
    assert got["cob_adjustments"].amount.sum() == cob["cob_adjustments"].amount.sum()
    # COB balances per the TR3: secondary claim charge = primary paid + every CAS
    charge = got["claims"].set_index("claim_id").charge.reindex(got["cob_claims"].claim_id).sum()
    assert charge == got["cob_claims"].paid.sum() + got["cob_adjustments"].amount.sum()


def test_names_without_a_comma_split_at_the_last_space_and_a_single_name_is_the_last_name():
    # every claim's name without a comma: 'Pat Q Sample' is first 'PAT Q', last 'SAMPLE'; 'Cher' is last only
    c = claims(2, patient_name=["Pat Q Sample", "Cher"])
    text, findings = write_837p(c, lines(list(c.claim_id)), payers(), PRACTICE, ControlNumbers(), NOW)
    assert findings == []
    names = [s[3:5] if len(s) > 4 else s[3:] for s in segments(text) if s[:2] == ["NM1", "IL"]]
    assert names == [["SAMPLE", "PAT Q"], ["CHER", ""]]


def test_a_secondary_not_built_is_reported_on_its_claim_row_without_the_claim_id():
    c = claims(2, secondary_payer_id=[None, "BLUE"], secondary_member_id=[None, "S999"], claim_id=["C009", "C001"])
    rem = primary_remittance()
    rem["line_payments"].loc[0, "paid"] = 7000  # unbalanced: 100 != 70 + 10 + 10
    _, _, _, findings = secondary_claims(c, lines(["C009", "C001"]), rem)
    assert [(f.where.row, f.where.column) for f in findings] == [(3, "secondary_payer_id")]  # second data row
    assert "C001" not in findings[0].message


def test_claim_level_cas_of_the_primary_goes_to_2320_and_balances(tmp_path):
    c = claims(1, secondary_payer_id=["BLUE"], secondary_member_id=["S999"])
    rem = primary_remittance()
    # a $5 copay taken at claim level: paid 110 - 5 = 105; 150 = 105 + (10 + 10 + 20) + 5
    rem["claim_payments"]["paid"] = np.array([10500])
    extra = rem["adjustments"].iloc[:1].assign(line_seq=pd.array([pd.NA], dtype="Int64"), group_code="PR",
                                               reason_code="3", amount=np.array([500]))
    rem["adjustments"] = pd.concat([rem["adjustments"], extra], ignore_index=True)
    sc, sl, cob, findings = secondary_claims(c, lines(["C001"]), rem)
    assert findings == []
    text, _ = write_837p(sc, sl, payers(), PRACTICE, ControlNumbers(), NOW, cob=cob)
    segs = segments(text)
    sbr_p = segs.index(["SBR", "P", "18", "", "", "", "", "", "", "CI"])
    assert segs[sbr_p + 1] == ["CAS", "PR", "3", "5"]
    assert ["AMT", "D", "105"] in segs and ["AMT", "EAF", "35"] in segs  # PR 10 + 20 + 5
    assert pyx12_errors(text, tmp_path) == []
    got, _ = read_837p(text, "out.837", payers())
    claim_level = got["cob_adjustments"][got["cob_adjustments"].line_no.isna()]
    assert claim_level[["group_code", "reason_code", "amount"]].values.tolist() == [["PR", "3", 500]]


def test_an_835_read_as_an_837p_gives_no_claims_and_says_so():
    path = next(p for p in sorted(CORPUS.parent.rglob("*.835")))
    got, findings = read_837p(path.read_bytes(), path.name)
    assert got["claims"].empty
    assert any("no 837 transaction" in f.message for f in findings)


def test_a_document_with_no_hl_has_an_empty_hierarchy():
    from xl_ar.x12.hierarchy import read_hierarchy
    from xl_ar.x12.reader import read_document

    path = next(p for p in sorted(CORPUS.parent.rglob("*.835")))
    from xl_ar.x12.claims_in import CLAIMS_837
    tree = read_hierarchy(read_document(path.read_bytes(), path.name, CLAIMS_837))
    assert len(tree) == 0
    assert (tree.hl_of == -1).all()


def test_an_837_of_another_version_reads_with_a_warning():
    c, ln = mixed_practice()
    text, _ = write_837p(c.iloc[:1], ln.iloc[:2], payers(), PRACTICE, ControlNumbers(), NOW)
    older = text.replace("005010X222A1", "004010X098A1")
    got, findings = read_837p(older, "old.837")
    assert len(got["claims"]) == 1
    assert [(f.severity, f.code) for f in findings] == [("warning", "version")]
    assert "004010X098A1" in findings[0].message
