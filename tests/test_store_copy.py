"""Moving a practice's store into the team store (and back): `xl-ar store copy SOURCE TARGET` copies every row of
every table into an empty store, ids, hashes and the audit head included, in one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.era_builder import Claim, era, practice_with_eras
from tests.test_store_postgresql import CLAIMS, DENIAL_AND_PAYMENT, PAYERS
from xl_ar import audit, roles
from xl_ar import store as store_mod
from xl_ar.cli import main
from xl_ar.store import Store

SECOND = era("T2", "20", [Claim("C2", "1", "20", "20", payer_claim_id="PCN3")], date="20260915")


@pytest.fixture
def practice(tmp_path: Path) -> Path:
    return practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"t1.835": DENIAL_AND_PAYMENT,
                                                                      "t2.835": SECOND})


@pytest.fixture
def used(practice, tmp_path) -> str:
    """A single PC's store after some work: an import, a note, an appeal, a taken claim, a report."""
    where = str(tmp_path / "pc.sqlite")
    assert main(["import", str(practice / "era" / "t1.835"), "--store", where, "--quiet"]) == 0
    assert main(["notes", "add", "C1", "--channel", "call", "--outcome", "called", "--date", "2026-09-05",
                 "--store", where]) == 0
    assert main(["appeals", "open", "C1", "--practice", str(practice), "--store", where]) == 0
    assert main(["assign", "C1", "--to", "ana", "--store", where]) == 0
    assert main(["report", "--practice", str(practice), "--out", str(tmp_path / "r.xlsx"), "--store", where,
                 "--quiet"]) == 0
    return where


def rows(where: str) -> dict[str, list]:
    """Every table's rows, sorted (the audit trail's by id)."""
    with Store.open(where) as s:
        out = {}
        for table in store_mod.STORE_TABLES:
            columns = s.columns(table)
            out[table] = sorted((tuple(r) for r in s._db.execute(f"SELECT {', '.join(columns)} FROM {table}")),
                                key=repr)
        return out


def test_every_row_of_every_table_arrives_unchanged(used, pg_url, capsys):
    before = rows(used)
    assert main(["store", "copy", used, pg_url]) == 0
    said = capsys.readouterr().out
    after = rows(pg_url)
    # the target has one more audit event (the copy itself, chained on the copied trail); everything else is equal
    assert {t: after[t] for t in after if t not in ("audit_events", "meta")} == \
        {t: before[t] for t in before if t not in ("audit_events", "meta")}
    assert after["audit_events"][: len(before["audit_events"])] == before["audit_events"]
    assert len(after["audit_events"]) == len(before["audit_events"]) + 1
    assert "1 payments" in said and "copied" in said


def test_the_copied_audit_trail_verifies_and_goes_on(used, pg_url):
    with Store.open(used) as s:
        head = audit.verify(s).head
    assert main(["store", "copy", used, pg_url]) == 0
    with Store.open(pg_url) as s:
        found = audit.verify(s, head=head)  # the single PC's head is in the team store's chain
        events = s.audit_events()
    assert found.ok and events["action"].iloc[-1] == "store"


def test_the_team_store_goes_on_from_the_copied_ids_and_keys(used, practice, pg_url, capsys):
    assert main(["store", "copy", used, pg_url]) == 0
    # the same 835 again is a file already imported; a new one gets the next import id; a new note a new id
    assert main(["import", str(practice / "era" / "t1.835"), "--store", pg_url, "--quiet"]) == 0
    assert main(["import", str(practice / "era" / "t2.835"), "--store", pg_url, "--quiet"]) == 0
    assert main(["notes", "add", "C2", "--channel", "call", "--outcome", "paid", "--date", "2026-09-20",
                 "--store", pg_url]) == 0
    with Store.open(pg_url) as s:
        imports = s._db.execute("SELECT import_id, source_file FROM imports ORDER BY import_id")
        notes = s._db.execute("SELECT note_id FROM notes ORDER BY note_id")
    # ids after the copied ones (PostgreSQL may skip a number: a refused insert still draws from the sequence)
    assert [f for _, f in imports] == ["t1.835", "t2.835"] and imports[0][0] == 1 < imports[1][0]
    assert notes[0][0] == 1 < notes[1][0] and len(notes) == 2


def test_a_target_holding_data_is_refused_and_nothing_changes(used, practice, pg_url, capsys):
    assert main(["import", str(practice / "era" / "t2.835"), "--store", pg_url, "--quiet"]) == 0
    before = rows(pg_url)
    assert main(["store", "copy", used, pg_url]) == 2
    assert "holds data already" in capsys.readouterr().err
    assert rows(pg_url) == before


def test_copying_a_store_onto_itself_is_refused(used, capsys):
    assert main(["store", "copy", used, used]) == 2
    assert "the same store" in capsys.readouterr().err


def test_a_copied_store_is_set_up_with_roles_and_a_specialist_reads_it(used, pg_server):
    url = pg_server.url(pg_server.create_database())
    assert main(["store", "copy", used, url]) == 0
    assert main(["store", "setup", "--store", url]) == 0
    specialist = pg_server.login(roles.SPECIALIST)
    with Store.open(url.replace("xlar_super@", f"{specialist}@")) as s:
        assert (s.count("payments"), s.count("notes"), s.count("appeals"), s.count("assignments")) == (1, 1, 1, 1)
        assert audit.verify(s).ok


def test_a_team_store_copies_back_into_a_new_file(used, pg_url, tmp_path):
    # PostgreSQL to SQLite: the way back (or a copy to look at offline), equal table by table
    assert main(["store", "copy", used, pg_url]) == 0
    back = str(tmp_path / "back.sqlite")
    assert main(["store", "copy", pg_url, back]) == 0
    first, second = rows(pg_url), rows(back)
    assert {t: second[t] for t in second if t not in ("audit_events", "meta")} == \
        {t: first[t] for t in first if t not in ("audit_events", "meta")}
    with Store.open(back) as s:
        assert audit.verify(s).ok
