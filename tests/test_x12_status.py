"""277CA / 277 / 999 readers and the 276 writer (xl_ar.x12.status): figures checked by hand against the files."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
import pyx12.params
import pyx12.x12n_document

from xl_ar.tables import TABLES
from xl_ar.x12 import TransactionSet, read_document, read_hierarchy
from xl_ar.x12.status import read_277, read_999, write_276

CORPUS = Path(__file__).parent / "corpus"
X12 = CORPUS / "x12"
HAND = CORPUS / "hand"
ALL_277 = sorted(X12.glob("LinuxForHealth__x12/*.277")) + sorted(X12.glob("imsweb__x12-parser/x12_277*"))


def read(path: Path):
    return read_277(path.read_bytes(), path.name)


def row(table: pd.DataFrame, **match) -> pd.Series:
    hit = table
    for k, v in match.items():
        hit = hit[hit[k] == v]
    assert len(hit) == 1, match
    return hit.iloc[0]


@pytest.mark.parametrize("path", ALL_277, ids=lambda p: p.name)
def test_every_corpus_277_reads_one_row_per_stc(path):
    result = read(path)
    text = path.read_text()
    assert not result.refused
    assert list(result.claim_status.columns) == TABLES["claim_status"].column_names
    assert len(result.claim_status) == text.count("STC*")  # one row per STC segment


def test_277ca_rejected_claim_figures():
    t = read(X12 / "imsweb__x12-parser/x12_277CA_rejected.txt").claim_status
    # STC*A7|562|85*20110311*WQ*199.14 under HL*4 (PT), TRN*2*3920394930203, REF*1K*1107000000001120
    claim = row(t, level="claim")
    assert claim["kind"] == "277CA"
    assert claim["claim_id"] == "3920394930203"
    assert claim["payer_claim_id"] == "1107000000001120"
    assert (claim["category_code"], claim["status_code"], claim["entity_code"]) == ("A7", "562", "85")
    assert claim["action_code"] == "WQ"
    assert claim["charge"] == 19914  # 199.14 in cents
    assert claim["status_date"] == pd.Timestamp("2011-03-11")
    assert claim["service_date"] == pd.Timestamp("2009-03-11")
    assert claim["payer_ref"] == "141797357"  # NM1*PR ... FI*141797357
    assert claim["provider_npi"] == "123456789"


def test_277ca_receiver_status_is_a_batch_not_a_claim():
    t = read(X12 / "imsweb__x12-parser/x12_277CA_accepted.txt").claim_status
    receiver = row(t, level="receiver")
    # HL*2 (21): TRN*2*000000674, STC*A1:20*20110311*WQ*125.0
    assert pd.isna(receiver["claim_id"])
    assert receiver["trace_number"] == "000000674"
    assert receiver["category_code"] == "A1"
    assert receiver["charge"] == 12500  # 125.0


def test_placeholder_service_date_reads_as_no_date():
    t = read(X12 / "imsweb__x12-parser/x12_277CA_accepted.txt").claim_status
    assert pd.isna(row(t, level="claim")["service_date"])  # DTP*472*D8*10010101


def test_277_claim_id_is_the_patient_control_number():
    t = read(X12 / "LinuxForHealth__x12/claim-level-status.277").claim_status
    # TRN*2*ABCXYZ2 echoes the 276 trace; REF*EJ*J0234567 is the patient control number
    paid = row(t, claim_id="J0234567")
    assert paid["trace_number"] is pd.NA or pd.isna(paid["trace_number"])
    assert (paid["category_code"], paid["status_code"]) == ("F0", "3")
    assert (paid["charge"], paid["paid"]) == (759900, 759900)  # 7599.00 billed and paid
    assert paid["service_date"] == pd.Timestamp("2005-07-31")  # RD8 20050731-20050809: the first date


def test_277_line_status_has_its_procedure_and_amounts():
    t = read(X12 / "LinuxForHealth__x12/claim-level-status.277").claim_status
    line = row(t, level="line")
    # SVC*HC:99203*150.00*0.00****1.00 then STC*F2:88:QC*20050612 (no STC04): amounts from the SVC
    assert line["claim_id"] == "MA345678"
    assert line["procedure_code"] == "99203"
    assert (line["charge"], line["paid"]) == (15000, 0)
    assert line["service_date"] == pd.Timestamp("2005-05-01")
    assert row(t, level="claim", claim_id="MA345678")["entity_code"] == "QC"


def test_277_provider_level_status():
    t = read(X12 / "LinuxForHealth__x12/provider-level-status.277").claim_status
    provider = row(t, level="provider")
    # HL*5 (19) NM1*1P ... XX*6166666666, TRN*1*0, STC*E0:24:85*20050916
    assert provider["provider_npi"] == "6166666666"
    assert (provider["category_code"], provider["status_code"], provider["entity_code"]) == ("E0", "24", "85")


def test_stc10_is_kept_as_a_second_status():
    text = (X12 / "imsweb__x12-parser/x12_277CA_rejected.txt").read_text().replace(
        "STC*A7|562|85*20110311*WQ*199.14", "STC*A7|562|85*20110311*WQ*199.14******A7|164|IL")
    t = read_277(text, "second.277").claim_status
    assert row(t, level="claim")["status_2"] == "A7:164:IL"


def test_277ca_rows_agree_with_pyx12_on_the_stc_count():
    path = X12 / "imsweb__x12-parser/x12_277CA_rejected.txt"
    html = io.StringIO()
    pyx12.x12n_document.x12n_document(param=pyx12.params.params(), src_file=str(path), fd_997=None, fd_html=html,
                                      fd_xmldoc=None)
    # pyx12 lists every segment it walked; the STCs it saw are the rows we read
    assert html.getvalue().count("STC*") == len(read(path).claim_status) == 2


# -- refused input: one error, nothing read ------------------------------------------------------------------


def test_an_835_given_as_a_277_is_refused_with_one_error():
    path = next(X12.rglob("*.835"))
    result = read_277(path.read_bytes(), path.name)
    assert result.refused and result.claim_status.empty
    assert [f.severity for f in result.findings] == ["error"]
    assert "not a 277" in result.findings[0].message


def test_a_truncated_277_is_refused_with_one_error():
    text = (X12 / "imsweb__x12-parser/x12_277CA_accepted.txt").read_text()
    result = read_277(text[: len(text) // 2], "cut.277")
    assert result.refused and result.claim_status.empty
    assert len(result.findings) == 1 and "truncated" in result.findings[0].message


def test_a_277_of_another_version_is_refused_with_one_error():
    text = (X12 / "imsweb__x12-parser/x12_277CA_accepted.txt").read_text().replace("005010X214", "004010X093")
    result = read_277(text, "old.277")
    assert result.refused and result.claim_status.empty
    assert len(result.findings) == 1 and "004010X093" in result.findings[0].message


def test_a_277_given_as_a_999_is_refused():
    result = read_999((X12 / "imsweb__x12-parser/x12_277CA_accepted.txt").read_bytes(), "ack.999")
    assert result.refused and len(result.findings) == 1 and "not a 999" in result.findings[0].message


# -- 999 ------------------------------------------------------------------------------------------------------


def read999(name: str) -> pd.DataFrame:
    result = read_999((HAND / name).read_bytes(), name)
    assert result.findings == []
    return result.claim_status


@pytest.mark.parametrize("path", sorted(HAND.glob("*.999")), ids=lambda p: p.name)
def test_hand_built_999s_are_valid_by_pyx12(path):
    html = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(param=pyx12.params.params(), src_file=str(path), fd_997=None,
                                           fd_html=html, fd_xmldoc=None)
    assert ok, html.getvalue()


def test_999_accepted_one_row_per_transaction_and_group():
    t = read999("999_accepted.999")
    # AK1*HC*17, two AK2 (0001, 0002) each IK5*A, AK9*A*2*2*2
    assert list(t["level"]) == ["group", "transaction", "transaction"]
    assert list(t["transaction_control"].fillna("-")) == ["-", "0001", "0002"]
    assert set(t["group_control"]) == {"17"} and set(t["ack_code"]) == {"A"}
    assert set(t["status_date"]) == {pd.Timestamp("2026-01-05")}  # GS04 of the 999
    assert t["error_codes"].isna().all()


def test_999_accepted_with_errors_lists_the_segment_and_element():
    t = read999("999_accepted_with_errors.999")
    tx = row(t, level="transaction")
    # IK3*REF*27*2300*8, IK4*2*127*6, IK5*E
    assert tx["ack_code"] == "E"
    assert tx["error_codes"] == "REF at segment 27 (loop 2300): 8; REF02: 6"


def test_999_partially_accepted_group_with_one_rejected_transaction():
    t = read999("999_partially_accepted.999")
    assert row(t, level="group")["ack_code"] == "P"  # AK9*P*2*2*1
    assert row(t, transaction_control="0001")["ack_code"] == "A"
    rejected = row(t, transaction_control="0002")
    assert rejected["ack_code"] == "R"
    # IK3*CLM*14*2300*8, IK4*5:1*1331*7*99 (the bad value is not kept), IK3*NM1*9*2010*3, IK5*R*5
    assert rejected["error_codes"] == ("CLM at segment 14 (loop 2300): 8; CLM05-1: 7; "
                                       "NM1 at segment 9 (loop 2010): 3; transaction: 5")
    assert "99" not in rejected["error_codes"].split("CLM05-1")[1]


def test_999_rejected_group_and_transaction_codes():
    t = read999("999_rejected.999")
    assert row(t, level="group")["error_codes"] == "group: 4"  # AK9*R*1*1*0*4
    assert row(t, level="transaction")["error_codes"] == "transaction: 4"  # IK5*R*4


# -- 276 ------------------------------------------------------------------------------------------------------

CLAIMS = pd.DataFrame({
    "claim_id": ["C1", "C2", "C3", "C4"], "payer_id": ["AET", "AET", "BCX", "AET"],
    "service_date": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"]),
    "charge": [12550, 10000, 500, 700], "patient_name": ["Doe, Jane", "John Roe", "Ann Lee", "Al Bo"],
    "date_of_birth": pd.to_datetime(["1980-02-03", "1975-05-06", "1990-01-01", None]),
    "member_id": ["M1", "M2", "M3", "M4"], "patient_sex": ["F", None, "F", "M"],
    "payer_claim_id": ["PCN9", None, None, None],
})
PAYERS = pd.DataFrame({"payer_id": ["AET", "BCX"], "name": ["Aetna Demo", "Blue X"], "payer_ref": ["60054", "BX1"]})
SET_276 = TransactionSet("276", "276 claim status request", ("BHT", "HL", "NM1", "DMG", "TRN", "REF", "AMT", "DTP"))


def written_276():
    return write_276(CLAIMS, PAYERS, "Demo Clinic", "1234567893", "SUB01", dt.datetime(2026, 2, 1, 9, 30))


def test_276_reads_back_with_every_request():
    text, findings = written_276()
    doc = read_document(text, "out.276", SET_276)
    assert doc.findings.result() == []  # envelope, counts and control numbers agree
    read_hierarchy(doc)
    assert doc.findings.result() == []  # HL numbering and parents are right
    trn = doc.rows("TRN")
    assert sorted(doc.texts(trn, 2)) == ["C1", "C2", "C3"]  # C4 has no date of birth: left out
    assert len(doc.txs) == 2  # one transaction per payer (AET, BCX)
    assert [f.where.column for f in findings] == ["date_of_birth"]
    amounts, _, _ = doc.amounts(doc.rows("AMT"), 2, "AMT02", True)
    assert sorted(amounts.tolist()) == [500, 10000, 12550]


def test_276_claim_loop_follows_the_tr3_order():
    text, _ = written_276()
    segs = [s.strip() for s in text.split("~") if s.strip()]
    first = segs.index("HL*4*3*22*0")
    assert segs[first:first + 8] == [
        "HL*4*3*22*0", "DMG*D8*19800203*F", "NM1*IL*1*DOE*JANE****MI*M1", "TRN*1*C1", "REF*1K*PCN9",
        "REF*EJ*C1", "AMT*T3*125.50", "DTP*472*D8*20260105"]
    assert segs[3:10] == ["BHT*0010*13*202602010930*20260201*0930", "HL*1**20*1",
                          "NM1*PR*2*Aetna Demo*****PI*60054", "HL*2*1*21*1", "NM1*41*2*Demo Clinic*****46*SUB01",
                          "HL*3*2*19*1", "NM1*1P*2*Demo Clinic*****XX*1234567893"]
    assert segs[2] == "ST*276*0001*005010X212" and segs[1].startswith("GS*HR*")


def test_276_answered_by_a_277_reads_back_to_the_same_claim():
    text, _ = written_276()
    answer = (X12 / "LinuxForHealth__x12/claim-level-status-ncpdp.277").read_text().replace(
        "TRN*2*ABCXYZ1", "TRN*2*C1")
    assert row(read_277(answer, "a.277").claim_status, level="claim")["claim_id"] == "C1"
    assert "TRN*1*C1~" in text
