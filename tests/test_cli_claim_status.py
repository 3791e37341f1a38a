"""`xl-ar claim-status request` (276 for claims past follow-up) and `xl-ar claim-status show`, issue 14."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli14_practice import no_identifiers, run, segments, tiny_practice
from xl_ar.cli import main

AN_835 = Path(__file__).parent / "corpus" / "x12" / "tastypackets__x12-parser" / "profee-multiple.edi"


def ack_277ca() -> str:
    """The clearinghouse's 277CA: C3 accepted (A2) on 2026-08-05, C4 rejected (A7:562, billing NPI) on 2026-08-06."""
    segs = ["ST*277*0001*005010X214", "BHT*0085*08*ACK1*20260806*1200*TH", "HL*1**20*1",
            "NM1*PR*2*CLEARING HOUSE*****46*CLEAR01", "TRN*1*ACK1", "DTP*050*D8*20260806", "DTP*009*D8*20260806",
            "HL*2*1*21*1", "NM1*41*2*TINY CLINIC*****46*TINY01", "TRN*2*B1", "STC*A1:19:PR*20260806*WQ*110",
            "QTY*90*1", "QTY*AA*1", "AMT*YU*50", "AMT*YY*60", "HL*3*2*19*1",
            "NM1*85*2*TINY CLINIC*****XX*1234567893", "TRN*1*0", "STC*A1:19:PR**WQ*110", "QTY*QA*1", "QTY*QC*1",
            "AMT*YU*50", "AMT*YY*60",
            "HL*4*3*PT", "NM1*QC*1*POE*ANNA****MI*M300", "TRN*2*C3", "STC*A2:20:PR*20260805*WQ*50",
            "DTP*472*D8*20260801",
            "HL*5*3*PT", "NM1*QC*1*LOE*MARK****MI*M400", "TRN*2*C4", "STC*A7:562:85*20260806*U*60",
            "DTP*472*D8*20260803"]
    segs.append(f"SE*{len(segs) + 1}*0001")
    return ("ISA*00*          *00*          *ZZ*CLEAR01        *ZZ*TINY01         *260806*1200*^*00501*000000007*0*P*:~"
            "GS*HN*CLEAR01*TINY01*20260806*1200*7*X*005010X214~" + "~".join(segs) + "~GE*1*7~IEA*1*000000007~")


@pytest.fixture
def practice(tmp_path) -> Path:
    folder = tiny_practice(tmp_path / "practice")
    (folder / "status").mkdir()
    (folder / "status" / "ack.277").write_text(ack_277ca(), encoding="ascii")
    return folder


# -- show -------------------------------------------------------------------------------------------

def test_show_counts_the_latest_statuses_and_the_rejections(practice, capsys):
    code, out, err = run(capsys, "claim-status", "show", "--practice", str(practice), "--json")
    figures = json.loads(out)
    assert code == 0 and no_identifiers(out + err)
    assert figures["claims_with_status"] == 2  # C3 and C4
    assert figures["by_category"] == {"A2": 1, "A7": 1}
    assert (figures["rejected_claims"], figures["rejected_transactions"]) == (1, 0)  # C4
    assert figures["unacknowledged"] == 0  # both billed claims have a 277CA


def test_show_reports_billed_claims_nobody_acknowledged(tmp_path, capsys):
    practice = tiny_practice(tmp_path / "practice")  # no status/ at all
    code, out, _ = run(capsys, "claim-status", "show", "--practice", str(practice), "--days", "7", "--json")
    # C3 (billed 2026-08-02) and C4 (2026-08-04): both on or before 2026-09-30 - 7 days, open, unpaid: 2
    assert code == 0 and json.loads(out)["unacknowledged"] == 2


def test_show_prints_counts_without_identifiers(practice, capsys):
    code, out, err = run(capsys, "claim-status", "show", "--practice", str(practice))
    assert code == 0 and "A7" in out and "Rejected: 1 claims" in out
    assert no_identifiers(out + err)


@pytest.mark.parametrize("bad", ["an_835", "truncated"])
def test_an_unreadable_status_file_is_one_clear_error(practice, capsys, bad):
    good = ack_277ca()
    data = {"an_835": AN_835.read_text(), "truncated": good[: len(good) // 2]}[bad]
    (practice / "status" / "other.277").write_text(data, encoding="ascii")
    code, out, err = run(capsys, "claim-status", "show", "--practice", str(practice))
    assert code == 2 and out == ""
    assert err.startswith("error: other.277: cannot be read as a 999, 277CA or 277")


# -- request ----------------------------------------------------------------------------------------

def test_request_asks_for_the_claims_past_follow_up_and_not_rejected(practice, tmp_path, capsys):
    target = tmp_path / "out.276"
    code, out, err = run(capsys, "claim-status", "request", "--practice", str(practice), "--out", str(target),
                         "--days", "30", "--store", str(tmp_path / "s.db"))
    assert code == 0 and no_identifiers(out + err)
    segs = segments(target)
    # C3: billed 2026-08-02, last status 2026-08-05, both before 2026-09-30 - 30 days = 2026-08-31: asked for;
    # C4 is rejected (fixed and sent again, not asked about); C1 and C2 are not billed
    assert [s[2] for s in segs if s[:2] == ["TRN", "1"]] == ["C3"]
    assert segs[1][:2] == ["GS", "HR"] and segs[1][8] == "005010X212"
    assert "1 claims past follow-up" in out


def test_request_with_nothing_due_writes_nothing(practice, tmp_path, capsys):
    target = tmp_path / "out.276"
    # with 90 days, C3 (billed 2026-08-02, after 2026-09-30 - 90 = 2026-07-02) is not yet due
    code, out, _ = run(capsys, "claim-status", "request", "--practice", str(practice), "--out", str(target),
                       "--days", "90", "--store", str(tmp_path / "s.db"))
    assert code == 0 and not target.exists() and "nothing was written" in out


def test_request_refuses_an_unreadable_status_folder_and_writes_nothing(practice, tmp_path, capsys):
    (practice / "status" / "other.277").write_text(AN_835.read_text(), encoding="ascii")
    target = tmp_path / "out.276"
    code, _, _ = run(capsys, "claim-status", "request", "--practice", str(practice), "--out", str(target),
                     "--store", str(tmp_path / "s.db"))
    assert code == 2 and not target.exists()


def test_a_276_after_an_837_takes_the_next_control_number(practice, store_at, tmp_path):
    store = store_at  # a SQLite file, then a PostgreSQL database: the control numbers count alike
    assert main(["claims", "export-837", "--practice", str(practice), "--out", str(tmp_path / "a.837"),
                 "--store", store]) == 0
    assert main(["claim-status", "request", "--practice", str(practice), "--out", str(tmp_path / "b.276"),
                 "--store", store]) == 0
    assert segments(tmp_path / "b.276")[0][13] == "000000002"  # the 837 took 1


def test_a_claim_that_cannot_be_asked_about_is_named_by_its_row_in_the_claims_file(tmp_path, capsys):
    from tests.cli14_practice import CLAIMS

    # C3 (file row 4) is the one claim due and has no member id: the 276 would be empty, and C3 is named
    # by its row in claims.csv (4), not by its place among the claims due (2)
    c3 = CLAIMS[2].replace(",M300,", ",,")
    practice = tiny_practice(tmp_path / "practice", claims=[CLAIMS[0], CLAIMS[1], c3, CLAIMS[3]])
    (practice / "status").mkdir()
    (practice / "status" / "ack.277").write_text(ack_277ca(), encoding="ascii")
    target = tmp_path / "out.276"
    code, _, err = run(capsys, "claim-status", "request", "--practice", str(practice), "--out", str(target),
                       "--store", str(tmp_path / "s.db"))
    assert code == 2 and not target.exists()
    assert "claims.csv row 4, column 'member_id'" in err
