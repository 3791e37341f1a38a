"""`xl-ar eligibility request` (270 batches) and `xl-ar eligibility check` (coverage problems from 271s), issue 14."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli14_practice import no_identifiers, run, segments, tiny_practice
from xl_ar.cli import main

CORPUS = Path(__file__).parent / "corpus" / "x12"
AN_835 = CORPUS / "tastypackets__x12-parser" / "profee-multiple.edi"


def answer_271() -> str:
    """The payer SMH01 answers for M100 (active all of 2026) and M200 (inactive since 2025-01-01)."""
    return ("ISA*00*          *00*          *ZZ*SMH01          *ZZ*TINY01         *260910*1200*^*00501*000000001*0*T*:~"
            "GS*HB*SMH01*TINY01*20260910*1200*1*X*005010X279A1~ST*271*0001*005010X279A1~"
            "BHT*0022*11*REQ1*20260910*1200~HL*1**20*1~NM1*PR*2*SUMMIT MUTUAL HEALTH*****PI*SMH01~"
            "HL*2*1*21*1~NM1*1P*2*TINY CLINIC*****XX*1234567893~"
            "HL*3*2*22*0~TRN*2*C1*9TINY~NM1*IL*1*DOE*JANE****MI*M100~DTP*346*D8*20260101~"
            "EB*1**30~DTP*347*D8*20261231~"
            "HL*4*2*22*0~TRN*2*C2*9TINY~NM1*IL*1*ROE*RICH****MI*M200~DTP*346*D8*20250101~"
            "EB*6**30~"
            "SE*18*0001~GE*1*1~IEA*1*000000001~")


@pytest.fixture
def practice(tmp_path) -> Path:
    folder = tiny_practice(tmp_path / "practice")
    (folder / "eligibility").mkdir()
    (folder / "eligibility" / "smh.271").write_text(answer_271(), encoding="ascii")
    return folder


# -- check ------------------------------------------------------------------------------------------

def test_check_counts_the_coverage_problems_of_the_claims_to_send(practice, capsys):
    code, out, err = run(capsys, "eligibility", "check", "--practice", str(practice), "--json")
    figures = json.loads(out)
    # to send: C1 (M100 active on 2026-09-01), C2 (M200 inactive since 2025-01-01, service 2026-09-02),
    # C4 (M400: no 271 answers for it: unverified) -> 2 claims with problems, one of each kind
    assert code == 0
    assert figures["problems"] == {"not_covered": 1, "unverified": 1}
    assert figures["claims"] == 3 and figures["claims_with_problems"] == 2
    assert no_identifiers(out + err)


def test_check_prints_the_counts_by_kind_without_identifiers(practice, capsys):
    code, out, err = run(capsys, "eligibility", "check", "--practice", str(practice))
    assert code == 0 and "not_covered" in out and "unverified" in out
    assert no_identifiers(out + err)


@pytest.mark.parametrize("bad", ["an_835", "truncated", "wrong_version"])
def test_an_unreadable_271_is_one_clear_error(practice, capsys, bad):
    good = answer_271()
    data = {"an_835": AN_835.read_text(), "truncated": good[: len(good) // 2],
            "wrong_version": good.replace("005010X279A1", "005010X212")}[bad]
    (practice / "eligibility" / "other.271").write_text(data, encoding="ascii")
    code, out, err = run(capsys, "eligibility", "check", "--practice", str(practice))
    assert code == 2 and out == ""
    assert err.startswith("error: other.271: cannot be read as a 271 eligibility response")


# -- request ----------------------------------------------------------------------------------------

def test_request_asks_for_the_claims_not_yet_billed(practice, tmp_path, capsys):
    target = tmp_path / "out.270"
    code, out, err = run(capsys, "eligibility", "request", "--practice", str(practice), "--out", str(target),
                         "--store", str(tmp_path / "s.db"))
    assert code == 0 and no_identifiers(out + err)
    segs = segments(target)
    # C1 and C2 have no billed date; C3 and C4 are billed and their dates of service are past: 2 requests
    assert [s[2] for s in segs if s[:2] == ["TRN", "1"]] == ["C1", "C2"]
    assert [s[0] for s in segs][:3] == ["ISA", "GS", "ST"] and segs[1][8] == "005010X279A1"


def test_request_also_asks_for_claims_with_a_service_date_in_the_next_days(tmp_path, capsys):
    from tests.cli14_practice import CLAIMS

    # C3 billed ahead of a service on 2026-10-05, 5 days after the as-of date 2026-09-30
    c3 = CLAIMS[2].replace("2026-08-01,2026-08-02", "2026-10-05,2026-09-29")
    practice = tiny_practice(tmp_path / "practice", claims=[*CLAIMS[:2], c3, CLAIMS[3]])
    target = tmp_path / "out.270"
    assert main(["eligibility", "request", "--practice", str(practice), "--out", str(target), "--days", "7",
                 "--store", str(tmp_path / "s.db")]) == 0
    assert [s[2] for s in segments(target) if s[:2] == ["TRN", "1"]] == ["C1", "C2", "C3"]  # 2 unbilled + 1 soon
    assert main(["eligibility", "request", "--practice", str(practice), "--out", str(target), "--days", "3",
                 "--store", str(tmp_path / "s.db")]) == 0
    assert [s[2] for s in segments(target) if s[:2] == ["TRN", "1"]] == ["C1", "C2"]  # 5 days is past 3


def test_request_for_an_appointments_file(practice, tmp_path, capsys):
    appointments = tmp_path / "appointments.csv"
    appointments.write_text("Appointment ID,Member ID,Patient Name,Date of Birth,Payer,Service Date\n"
                            "AP1,M100,\"DOE, JANE\",1980-02-03,P1,2026-10-02\n"
                            "AP2,M400,\"LOE, MARK\",1960-09-10,P2,2026-10-03\n", encoding="utf-8")
    target = tmp_path / "out.270"
    code, out, _ = run(capsys, "eligibility", "request", "--practice", str(practice), "--appointments",
                       str(appointments), "--out", str(target), "--store", str(tmp_path / "s.db"))
    segs = segments(target)
    assert code == 0 and "2 eligibility requests" in out
    assert [s[2] for s in segs if s[:2] == ["TRN", "1"]] == ["AP2", "AP1"]  # by payer: KCA02, then SMH01
    assert [s[3] for s in segs if s[:2] == ["DTP", "291"]] == ["20261003", "20261002"]
    assert sorted(s[9] for s in segs if s[:2] == ["NM1", "PR"]) == ["KCA02", "SMH01"]  # one transaction per payer


def test_an_appointments_file_without_member_ids_is_refused_and_nothing_is_written(practice, tmp_path, capsys):
    appointments = tmp_path / "appointments.csv"
    appointments.write_text("Appointment ID,Patient Name,Payer,Service Date\nAP1,\"DOE, JANE\",P1,2026-10-02\n",
                            encoding="utf-8")
    target = tmp_path / "out.270"
    code, _, err = run(capsys, "eligibility", "request", "--practice", str(practice), "--appointments",
                       str(appointments), "--out", str(target), "--store", str(tmp_path / "s.db"))
    assert code == 2 and not target.exists() and "member_id" in err


def test_two_requests_never_reuse_a_control_number(practice, store_at, tmp_path):
    store = store_at  # a SQLite file, then a PostgreSQL database: the control numbers count alike
    for name in ("a.270", "b.270"):
        assert main(["eligibility", "request", "--practice", str(practice), "--out", str(tmp_path / name),
                     "--store", store]) == 0
    assert [segments(tmp_path / n)[0][13] for n in ("a.270", "b.270")] == ["000000001", "000000002"]


def test_a_claim_that_cannot_be_asked_for_is_named_by_its_row_in_the_claims_file(tmp_path, capsys):
    from tests.cli14_practice import CLAIMS

    # file rows: 2 C3 (billed), 3 C1, 4 C2 without member id, 5 C4; asked for: C1, C2 -> C2 is row 4 (not 3)
    c2 = CLAIMS[1].replace(",M200,", ",,")
    practice = tiny_practice(tmp_path / "practice", claims=[CLAIMS[2], CLAIMS[0], c2, CLAIMS[3]])
    target = tmp_path / "out.270"
    code, out, err = run(capsys, "eligibility", "request", "--practice", str(practice), "--out", str(target),
                         "--store", str(tmp_path / "s.db"))
    assert code == 0 and "1 eligibility requests" in out and "1 rows could not be asked for" in out
    assert "claims.csv row 4" in err and "member_id is missing" in err


def test_check_without_any_271_says_every_claim_is_unverified(tmp_path, capsys):
    practice = tiny_practice(tmp_path / "practice")  # no eligibility/ folder
    code, out, _ = run(capsys, "eligibility", "check", "--practice", str(practice))
    # the 3 claims to send (C1, C2, C4) have no answer: 3 unverified
    assert code == 0 and "unverified                     3" in out and "no 271 response" in out
