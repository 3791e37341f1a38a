"""The team store on a real PostgreSQL server (the session's private one): addresses, passwords and commands.

A store URL never holds a password: libpq finds it in the password file (`PGPASSFILE`, `~/.pgpass`) or the
environment (`PGPASSWORD`), or xl-ar in the OS keyring (`xl-ar credentials set`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.era_builder import Claim, Line, era, practice_with_eras
from xl_ar import credentials
from xl_ar.cli import main
from xl_ar.store import Store


@pytest.fixture
def specialist(pg_server):
    """A login role with its own password, which no password file holds: (URL of a new database, password)."""
    database = pg_server.create_database()
    role = f"ana_{database}"  # a role is the server's, not the database's: one per test
    with pg_server.admin() as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'ana-synthetic-pw'")
        conn.execute(f'ALTER DATABASE "{database}" OWNER TO {role}')
    return pg_server.url(database, user=role, driver="postgresql"), "ana-synthetic-pw"


def test_a_plain_postgresql_url_uses_psycopg(pg_server):
    # `postgresql://` alone would make SQLAlchemy load psycopg2, which the team extra does not install
    with Store.open(pg_server.url(pg_server.create_database(), driver="postgresql")) as s:
        assert s._db.engine.dialect.driver == "psycopg" and s._db.dialect == "postgresql"


def test_the_password_comes_from_the_password_file(pg_server):
    # the session's PGPASSFILE holds the admin's password; the URL holds none
    url = pg_server.url(pg_server.create_database())
    assert ":" not in url.split("//")[1].split("@")[0]
    with Store.open(url) as s:
        assert s._db.execute("SELECT current_user") == [("xlar_super",)]


def test_the_password_comes_from_the_os_keyring(specialist):
    url, password = specialist
    with pytest.raises(Exception, match=r"password authentication failed|no password supplied"):
        Store.open(url)  # no password file entry, no environment, no keyring entry yet
    credentials.save(url, password)  # what `xl-ar credentials set` does
    with Store.open(url) as s:
        assert s._db.execute("SELECT current_user")[0][0].startswith("ana_")


def test_the_password_comes_from_the_environment(specialist, monkeypatch):
    url, password = specialist
    monkeypatch.setenv("PGPASSWORD", password)
    with Store.open(url) as s:
        assert s._db.execute("SELECT current_user")[0][0].startswith("ana_")


def test_a_url_with_a_password_is_refused_before_connecting(pg_server, tmp_path):
    url = pg_server.url("postgres").replace("xlar_super@", "xlar_super:secret@")
    assert main(["import", str(tmp_path), "--store", url, "--quiet"]) != 0


# -- the commands against the server ----------------------------------------------------------------

PAYERS = """payer_id,name,payer_class,timely_filing_days,appeal_days,payer_ref
ACME,Acme Health,commercial,180,90,ACME01
"""
CLAIMS = """claim_id,account_id,payer_id,service_date,billed_date,charge,paid,adjusted,balance
C1,A1,ACME,2026-08-01,2026-08-03,200.00,0,0,200.00
C2,A2,ACME,2026-08-02,2026-08-04,120.00,80.00,20.00,20.00
"""
DENIAL_AND_PAYMENT = era("T1", "80", [
    Claim("C1", "4", "200", "0", cas=[("CO", "197", "200")], payer_claim_id="PCN1"),
    Claim("C2", "1", "120", "80", [Line("99213", "120", "80", [("CO", "45", "20")])], payer_claim_id="PCN2")],
    date="20260901")


@pytest.fixture
def practice(tmp_path: Path) -> Path:
    return practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"t1.835": DENIAL_AND_PAYMENT})


def test_import_notes_appeals_reconcile_and_report_run_on_the_server(practice, pg_server, tmp_path, capsys):
    store = pg_server.url(pg_server.create_database(), driver="postgresql")  # postgresql://user@host:port/db
    era_file = str(practice / "era" / "t1.835")
    assert main(["import", era_file, "--store", store, "--quiet"]) == 0
    assert main(["import", era_file, "--store", store, "--quiet"]) == 0  # the same file again: nothing new
    assert main(["notes", "add", "C1", "--channel", "call", "--outcome", "denied, appeal", "--date", "2026-09-05",
                 "--store", store]) == 0
    assert main(["appeals", "open", "C1", "--practice", str(practice), "--filed", "2026-09-10", "--method",
                 "portal", "--store", store]) == 0
    capsys.readouterr()
    assert main(["appeals", "show", "--json", "--store", store]) == 0
    appeals = json.loads(capsys.readouterr().out)
    assert main(["reconcile", "--practice", str(practice), "--json", "--store", store]) == 0
    reconciled = json.loads(capsys.readouterr().out)
    assert main(["report", "--practice", str(practice), "--out", str(tmp_path / "r.xlsx"), "--store", store,
                 "--quiet"]) == 0
    with Store.open(store) as s:
        # one payment of $80.00 (C2 paid, C1 denied), once; one note; the audit trail names each command
        assert (s.count("payments"), s.count("imports"), s.read_table("payments").amount.tolist()) == (1, 1, [8000])
        assert s.notes().claim_id.tolist() == ["C1"]
        actions = s.audit_events().action.tolist()
    assert [(a["claim_id"], a["status"], a["amount_appealed"]) for a in appeals] == [("C1", "filed", "200.00")]
    assert "exceptions" in reconciled
    assert (tmp_path / "r.xlsx").exists()
    assert actions.count("import") == 2 and {"reconcile", "report"} <= set(actions)


def test_without_a_server_or_apt_get_the_tests_fail_saying_what_to_install(monkeypatch):
    from tests import pg_server

    monkeypatch.setattr(pg_server, "server_bin", lambda: None)
    monkeypatch.setattr(pg_server.shutil, "which", lambda name: None)  # no initdb, no apt-get
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install postgresql"):
        pg_server.start()


def test_a_refused_statement_never_shows_the_values_it_was_given(pg_url):
    # a database error's message is printed and logged: the bound values (claim ids, notes) stay out of it
    with Store.open(pg_url) as s, pytest.raises(Exception, match="NUL") as refused:
        s._db.execute("INSERT INTO meta (key, value) VALUES (:k, :v)", {"k": "CLM-SECRET\x00", "v": "x"})
    assert "CLM-SECRET" not in str(refused.value)


def test_an_unexpected_database_error_prints_its_first_line_only(pg_url, monkeypatch, capsys):
    # PostgreSQL's DETAIL line names the refused row's key; the command line prints the error's first line
    def duplicate_key(store, claim_ids=None):
        for _ in range(2):
            store._db.execute("INSERT INTO meta (key, value) VALUES (:k, 'x')", {"k": "CLM-SECRET"})

    monkeypatch.setattr(Store, "notes", duplicate_key)
    assert main(["notes", "show", "--store", pg_url]) == 1
    err = capsys.readouterr().err
    assert "unexpected error: IntegrityError" in err and "unique constraint" in err and "CLM-SECRET" not in err


def test_a_server_that_does_not_answer_is_said_plainly(capsys):
    # nothing listens on the port: the command says it cannot connect, as whom and what to check; no traceback
    from tests.pg_server import free_port

    url = f"postgresql://ana@127.0.0.1:{free_port()}/xlar"
    assert main(["audit", "show", "--store", url]) == 1
    said = capsys.readouterr().err
    assert said.startswith("error: 127.0.0.1:") and "cannot connect to the store as ana" in said
    assert "unexpected" not in said and "Traceback" not in said


def test_a_wrong_password_is_said_plainly(specialist, monkeypatch, capsys):
    url, _ = specialist
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    assert main(["audit", "show", "--store", url]) == 1
    said = capsys.readouterr().err
    assert "cannot connect to the store" in said and "password authentication failed" in said
    assert "not-the-password" not in said
