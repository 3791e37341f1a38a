"""271 responses into the `eligibility` table; 270 requests out (issue 14, part 1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from xl_ar.practice import PracticeInfo
from xl_ar.tables import TABLES
from xl_ar.x12.eligibility import read_271, write_270
from xl_ar.x12.reader import TransactionSet, read_document

CORPUS = Path(__file__).parent / "corpus" / "x12"
LFH = CORPUS / "LinuxForHealth__x12"
TIGER = CORPUS / "slott56__TigerShark"
BADX12 = CORPUS / "git-albertomarin__badx12"


def read(path: Path):
    return read_271(path.read_bytes(), path.name)


def test_every_271_in_the_corpus_reads_without_errors():
    files = [p for p in CORPUS.rglob("*") if p.is_file() and (b"ST*271*" in p.read_bytes()
                                                              or b"ST|271|" in p.read_bytes())]
    assert len(files) == 11
    for p in files:
        got = read(p)
        assert list(got.eligibility.columns) == TABLES["eligibility"].column_names
        assert len(got.eligibility) >= 1, p.name
        assert not [f for f in got.findings if f.code == "refused"], p.name


def test_subscriber_response_figures_match_the_file():
    t = read(LFH / "subscriber-health-benefit-check.271").eligibility
    # 5 EB segments: EB*1 (30), EB*L, EB*1 (10 service types), EB*B $10.00 in network, EB*B $30.00 out of network
    assert t["benefit_code"].tolist() == ["1", "L", "1", "B", "B"]
    assert t["amount"].tolist()[3:] == [1000, 3000]  # 10.00 and 30.00 in cents
    assert t["in_network"].tolist()[3:] == ["Y", "N"]
    assert t["service_types"].iloc[2] == "1,33,35,47,86,88,98,AL,MH,UC"
    assert set(t["trace_number"]) == {"93175-012547"}  # TRN*2 of 2000C
    assert set(t["payer_edi_id"]) == {"841610001"} and set(t["relationship"]) == {"subscriber"}
    assert set(t["patient_name"]) == {"SMITH, JOHN"}  # not the 2120 NM1*P3 JONES
    assert set(t["plan_begin"]) == {pd.Timestamp("2006-01-01")}  # DTP*346 of 2100C, inherited
    assert t["coverage_status"].fillna("").tolist()[:3] == ["active", "", "active"]


def test_dependent_row_carries_the_subscriber_member_id_and_its_own_birth_date():
    t = read(LFH / "dependent-health-benefit-check.271").eligibility
    assert set(t["relationship"]) == {"dependent"}
    assert set(t["member_id"]) == {"123456789"}  # NM1*IL of 2100C: the dependent has none of its own
    assert set(t["date_of_birth"]) == {pd.Timestamp("1998-10-14")}


def test_provider_level_rejection_is_one_row_with_its_reason():
    t = read(LFH / "subscriber-health-benefit-check-error.271").eligibility
    assert len(t) == 1  # AAA*Y**50*N in 2100B, no subscriber loop
    row = t.iloc[0]
    assert (row["rejection_level"], row["rejection_reason"], row["follow_up"]) == ("provider", "50", "N")
    assert pd.isna(row["benefit_code"])


def test_subscriber_rejection_lists_every_distinct_reason():
    t = read(TIGER / "271-example.txt").eligibility  # 4010: AAA 72, 73, 73, 58 all with follow-up C
    assert t["rejection_reason"].tolist() == ["72,73,58"]
    assert t["follow_up"].tolist() == ["C"]


def test_dependent_of_a_rejected_subscriber_inherits_the_rejection():
    t = read(TIGER / "271-example-dependent-rejection.txt").eligibility
    assert len(t) == 1  # HL 3 (subscriber, AAA 72 N) has HL 4 (dependent, nothing): one row, the dependent's
    assert (t["relationship"].iloc[0], t["rejection_level"].iloc[0], t["rejection_reason"].iloc[0]) == \
        ("dependent", "subscriber", "72")


def test_4010_benefits_amounts_percents_and_messages():
    t = read(TIGER / "271-dependent-benefits.txt").eligibility
    assert len(t) == 21  # 21 EB segments
    deductibles = t[t["benefit_code"] == "C"]
    assert deductibles["amount"].tolist() == [60000, 18689, 60000, 20000, 7880, 20000]  # 600, 186.89, 600, 200, ...
    assert deductibles["message"].iloc[0] == "Med Dent | LAB OP DIR ACC | OP LAB"
    assert deductibles["eligibility_begin"].iloc[0] == pd.Timestamp("2012-01-01")  # its own DTP*307 wins
    assert deductibles["eligibility_begin"].iloc[1] == pd.Timestamp("2011-08-01")  # else the member's
    coins = t[t["benefit_code"] == "A"]["percent"].tolist()
    assert coins == [0.0, 0.3]


def test_pre_addenda_5010_version_reads():
    name = "X279-response-to-generic-request-by-clinic-for-patient-(subscriber)-eligibility.edi"
    t = read(BADX12 / name).eligibility  # ST03 005010X279
    assert t["amount"].dropna().tolist() == [1000, 3000]  # EB07 10 and 30


def test_an_835_given_as_a_271_is_one_error_and_no_rows():
    got = read_271((CORPUS / "tastypackets__x12-parser" / "profee-multiple.edi").read_bytes(), "x.271")
    assert got.eligibility.empty
    assert [f.code for f in got.findings] == ["refused"] and "835" in got.findings[0].message


def test_a_truncated_271_is_one_error_and_no_rows():
    data = (LFH / "subscriber-health-benefit-check.271").read_bytes()
    got = read_271(data[: len(data) // 2], "cut.271")
    assert got.eligibility.empty and [f.code for f in got.findings] == ["refused"]
    assert "truncated" in got.findings[0].message


def test_a_wrong_version_is_one_error_and_no_rows():
    data = (LFH / "subscriber-health-benefit-check.271").read_bytes().replace(b"005010X279A1", b"005010X212")
    got = read_271(data, "v.271")
    assert got.eligibility.empty and [f.code for f in got.findings] == ["refused"]
    assert "005010X212" in got.findings[0].message


def test_text_that_is_not_x12_is_one_error():
    got = read_271(b"hello, this is a letter", "letter.271")
    assert got.eligibility.empty and [f.code for f in got.findings] == ["refused"]


def test_authorization_and_procedure_of_a_benefit():
    text = ("ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260101*1200*^*00501*000000001*0*T*:~"
            "GS*HB*PAYER*CLINIC*20260101*1200*1*X*005010X279A1~ST*271*0001*005010X279A1~"
            "BHT*0022*11*REQ1*20260101*1200~HL*1**20*1~NM1*PR*2*ACME HEALTH*****PI*ACME1~"
            "HL*2*1*21*1~NM1*1P*2*CLINIC*****XX*1234567893~HL*3*2*22*0~TRN*2*C100*9CLINIC~"
            "NM1*IL*1*DOE*ANN****MI*M1~DMG*D8*19800101~DTP*291*RD8*20260101-20261231~"
            "EB*1*IND*30*PR*GOLD~EB*CB*IND*98*PR*****VS*12*Y**HC:97110:GP~SE*14*0001~GE*1*1~IEA*1*000000001~")
    got = read_271(text, "auth.271")
    t = got.eligibility
    assert not got.findings
    assert t["plan_begin"].tolist() == [pd.Timestamp("2026-01-01")] * 2  # RD8 range of 2100C
    assert t["plan_end"].tolist() == [pd.Timestamp("2026-12-31")] * 2
    row = t.iloc[1]
    assert (row["authorization_required"], row["procedure_code"], row["procedure_modifiers"]) == ("Y", "97110", "GP")
    assert (row["quantity_qualifier"], row["quantity"]) == ("VS", 12.0)
    assert row["provider_npi"] == "1234567893" and row["trace_number"] == "C100"


REQUEST_SET = TransactionSet("270", "270 eligibility request",
                             ("BHT", "HL", "TRN", "NM1", "REF", "N3", "N4", "PRV", "DMG", "INS", "HI", "DTP", "EQ"))
PRACTICE = PracticeInfo(name="Main St Clinic", npi="1234567893", tax_id="12-3456789")
PAYERS = pd.DataFrame({"payer_id": ["P1", "P2"], "name": ["Acme Health", "Blue Plan"], "payer_ref": ["ACME1", "BLUE2"]})
WHEN = dt.datetime(2026, 1, 2, 9, 30)


def requests() -> pd.DataFrame:
    return pd.DataFrame({
        "request_id": ["C1", "C2", "A3"], "member_id": ["M1", "M2", "M3"],
        "patient_name": ["Doe, Ann", "Roe, Bob", "Poe"], "date_of_birth": ["1980-01-02", None, "1990-03-04"],
        "payer_id": ["P1", "P2", "P1"], "service_date": ["2026-01-05", "2026-01-06", "2026-01-07"],
        "service_type": [None, "98", None]})


def segments(text: str) -> list[list[str]]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def test_270_holds_one_subscriber_loop_per_request_with_its_trace_number():
    got = write_270(requests(), PAYERS, PRACTICE, when=WHEN)
    doc = read_document(got.text, "out.270", REQUEST_SET)
    assert not doc.findings.result()  # envelope counts and control numbers, HL tree: all consistent
    assert len(doc.txs) == 2  # one transaction per payer (ACME1, BLUE2)
    trn = doc.rows("TRN")
    assert sorted(doc.texts(trn, 2).tolist()) == ["A3", "C1", "C2"]
    assert set(doc.codes(trn, 1).tolist()) == {"1"}  # TRN01 1: current transaction trace number
    assert set(doc.texts(trn, 3).tolist()) == {"1123456789"}  # 1 + the practice's EIN
    eq = doc.rows("EQ")
    assert doc.codes(eq, 1).tolist() == ["30", "30", "98"]  # 30 when no service type is given
    assert got.requests["trace_number"].tolist() == ["C1", "C2", "A3"]


def test_270_loops_follow_the_x279a1_order():
    seg = segments(write_270(requests().iloc[:1], PAYERS, PRACTICE, when=WHEN).text)
    ids = [s[0] for s in seg]
    assert ids == ["ISA", "GS", "ST", "BHT", "HL", "NM1", "HL", "NM1", "HL", "TRN", "NM1", "DMG", "DTP", "EQ",
                   "SE", "GE", "IEA"]
    assert seg[1][1] == "HS" and seg[1][8] == "005010X279A1" and seg[2][3] == "005010X279A1"
    assert seg[3][1:3] == ["0022", "13"]  # BHT: information source, receiver, subscriber; 13 request
    assert seg[4][1:] == ["1", "", "20", "1"] and seg[6][1:] == ["2", "1", "21", "1"] and seg[8][1:] == \
        ["3", "2", "22", "0"]
    assert seg[5] == ["NM1", "PR", "2", "ACME HEALTH", "", "", "", "", "PI", "ACME1"]
    assert seg[7] == ["NM1", "1P", "2", "MAIN ST CLINIC", "", "", "", "", "XX", "1234567893"]
    assert seg[10] == ["NM1", "IL", "1", "DOE", "ANN", "", "", "", "MI", "M1"]
    assert seg[11] == ["DMG", "D8", "19800102"] and seg[12] == ["DTP", "291", "D8", "20260105"]
    assert seg[14] == ["SE", "13", "0001"]  # ST through SE: 13 segments


def test_a_request_that_cannot_be_sent_is_a_finding_not_a_silent_gap():
    req = requests()
    req.loc[1, "member_id"] = None
    req.loc[2, "payer_id"] = "UNKNOWN"
    got = write_270(req, PAYERS, PRACTICE, when=WHEN)
    assert got.requests["request_id"].tolist() == ["C1"]
    assert [(f.where.row, f.code) for f in got.findings] == [(3, "request not written"), (4, "request not written")]
    assert "member_id is missing" in got.findings[0].message and "payer_ref" in got.findings[1].message


def test_a_270_written_then_answered_matches_back_by_trace_number():
    out = write_270(requests().iloc[:1], PAYERS, PRACTICE, when=WHEN)
    answer = (out.text.replace("ST*270", "ST*271").replace("GS*HS", "GS*HB").replace("BHT*0022*13", "BHT*0022*11")
              .replace("TRN*1*", "TRN*2*").replace("EQ*30~", "EB*1**30~"))
    t = read_271(answer, "echo.271").eligibility
    assert t["trace_number"].tolist() == ["C1"] and t["coverage_status"].tolist() == ["active"]


def _two_members() -> str:
    return ("ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260101*1200*^*00501*000000001*0*T*:~"
            "GS*HB*PAYER*CLINIC*20260101*1200*1*X*005010X279A1~ST*271*0001*005010X279A1~"
            "BHT*0022*11*REQ1*20260101*1200~HL*1**20*1~NM1*PR*2*ACME HEALTH*****PI*ACME1~"
            "HL*2*1*21*1~NM1*1P*2*CLINIC*****XX*1234567893~"
            "HL*3*2*22*0~TRN*2*C1*9CLINIC~NM1*IL*1*DOE*ANN****MI*M1~AAA*Y**75*N~"
            "HL*4*2*22*0~TRN*2*C2*9CLINIC~NM1*IL*1*ROE*BOB****MI*M2~DTP*346*D8*20250101~"
            "EB*6**30~DTP*347*D8*20251231~MSG*TERMINATED~EB*B**98***27*25.5~"
            "SE*19*0001~GE*1*1~IEA*1*000000001~")


def test_each_subscriber_of_a_transaction_keeps_its_own_answer():
    got = read_271(_two_members(), "two.271")
    t = got.eligibility
    assert not got.findings
    assert t["trace_number"].tolist() == ["C1", "C2", "C2"]  # the rejected one, then the two EB of the second
    assert t["rejection_reason"].fillna("").tolist() == ["75", "", ""]
    assert t["coverage_status"].fillna("").tolist() == ["", "inactive", ""]
    assert t["plan_end"].tolist()[1:] == [pd.Timestamp("2025-12-31"), pd.NaT]  # 347 in the EB*6 loop only
    assert t["plan_begin"].tolist()[1:] == [pd.Timestamp("2025-01-01")] * 2  # 346 of 2100C for both
    assert t["message"].fillna("").tolist() == ["", "TERMINATED", ""]
    assert t["amount"].tolist()[2] == 2550  # 25.5 dollars


def test_payer_level_rejection_reaches_every_member_row():
    payer = "NM1*PR*2*ACME HEALTH*****PI*ACME1~"
    text = _two_members().replace(payer, payer + "AAA*Y**42*R~")
    text = text.replace("SE*19*", "SE*20*")
    t = read_271(text, "p.271").eligibility
    assert t["rejection_reason"].tolist() == ["42,75", "42", "42"]  # the payer's, then the member's own
    assert t["rejection_level"].tolist() == ["subscriber", "payer", "payer"]
