"""271 responses into the `eligibility` table; 270 requests out (issue 14, part 1)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xl_ar.tables import TABLES
from xl_ar.x12.eligibility import read_271

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
