"""The team store's roles on a real PostgreSQL server: what a specialist, a manager and an admin may do, refused by
the server's grants (xl_ar/roles.py), and the audit trail naming the database login.

Each test sets up a new database with `xl-ar store setup` (as the test server's superuser) and logs in as people
who are members of one role each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.era_builder import practice_with_eras
from tests.test_store_postgresql import CLAIMS, DENIAL_AND_PAYMENT, PAYERS
from xl_ar import roles
from xl_ar import store as store_mod
from xl_ar.cli import main
from xl_ar.errors import StoreError
from xl_ar.store import SCHEMA_VERSION, Store


@pytest.fixture
def practice(tmp_path: Path) -> Path:
    """Two claims of one payer and their 835 (one denial, one payment of $80.00)."""
    return practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"t1.835": DENIAL_AND_PAYMENT})


@pytest.fixture
def team(pg_server):
    """A store set up with roles; `team.url(login)` is the URL a person logs in with (the superuser's by default)."""
    database = pg_server.create_database()
    assert main(["store", "setup", "--store", pg_server.url(database)]) == 0

    class Team:
        db = database
        specialist = pg_server.login(roles.SPECIALIST)
        manager = pg_server.login(roles.MANAGER)
        admin = pg_server.login(roles.ADMIN)

        @staticmethod
        def url(user: str | None = None) -> str:
            return pg_server.url(database, **({"user": user} if user else {}))

    return Team


def test_setup_makes_three_roles_each_a_member_of_the_one_below(team, pg_server):
    with pg_server.admin() as conn:
        pairs = conn.execute("SELECT r.rolname, m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
                             "JOIN pg_roles m ON m.oid = a.member WHERE r.rolname LIKE 'xlar\\_%' "
                             "AND m.rolname LIKE 'xlar\\_%'").fetchall()
    # a manager is a specialist, an admin is a manager
    assert sorted(pairs) == [("xlar_manager", "xlar_admin"), ("xlar_specialist", "xlar_manager")]


def test_the_admin_role_owns_every_table_of_the_store(team):
    with Store.open(team.url()) as s:
        owners = s._db.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert {t for t, _ in owners} == set(roles.TABLE_GRANTS)
    assert {o for _, o in owners} == {"xlar_admin"}


def test_a_specialist_imports_and_writes_notes_and_the_audit_trail_names_the_login(team, practice):
    url = team.url(team.specialist)
    assert main(["import", str(practice / "era" / "t1.835"), "--store", url, "--quiet"]) == 0
    assert main(["notes", "add", "C1", "--channel", "call", "--outcome", "called", "--date", "2026-09-05",
                 "--store", url]) == 0
    with Store.open(team.url()) as s:
        assert (s.count("payments"), len(s.notes())) == (1, 1)
        events = s.audit_events()
    # setup by the superuser, then the specialist's import and note
    assert events[["action", "db_user"]].values.tolist() == [
        ["store", "xlar_super"], ["import", team.specialist], ["notes", team.specialist]]


def test_a_specialist_takes_a_claim_and_changes_an_appeal(team):
    with Store.open(team.url(team.specialist)) as s:
        assert s.assign("C1", "ana", 0) == 1
        assert s.assign("C1", "ben", 1) == 2


def test_a_specialist_cannot_build_the_management_report(team, practice, tmp_path, capsys):
    out = tmp_path / "r.xlsx"
    code = main(["report", "--practice", str(practice), "--out", str(out), "--store", team.url(team.specialist),
                 "--quiet"])
    said = capsys.readouterr().err
    assert code != 0 and "permission denied for table snapshots" in said and "manager role" in said
    assert not out.exists()
    with Store.open(team.url()) as s:
        assert s.count("snapshots") == 0


def test_a_manager_builds_the_management_report(team, practice, tmp_path):
    out = tmp_path / "r.xlsx"
    assert main(["report", "--practice", str(practice), "--out", str(out), "--store", team.url(team.manager),
                 "--quiet"]) == 0
    with Store.open(team.url()) as s:
        assert s.count("snapshots") == 1


@pytest.mark.parametrize("sql", [
    "UPDATE payments SET amount = 1",
    "DELETE FROM payments",
    "DELETE FROM audit_events",
    "UPDATE audit_events SET actor = 'someone'",
    "INSERT INTO snapshots (practice, as_of, taken_at, figures) VALUES ('p', '2026-09-30', 'now', '{}')",
    "CREATE TABLE mine (x TEXT)",
])
def test_a_specialist_may_not_change_stored_payments_audit_events_snapshots_or_the_schema(team, sql):
    with Store.open(team.url(team.specialist)) as s, pytest.raises(StoreError, match="permission denied"):
        s._db.execute(sql)


def test_a_specialist_cannot_rewrite_the_schema_version(team):
    # row-level security: the other roles write only meta's audit head; the update matches no row
    with Store.open(team.url(team.specialist)) as s:
        assert s._db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version' RETURNING key") == []
        assert s.schema_version == SCHEMA_VERSION


def test_a_specialist_cannot_choose_the_database_user_of_an_audit_event(team):
    with Store.open(team.url(team.specialist)) as s, pytest.raises(StoreError, match="permission denied"):
        s._db.execute("INSERT INTO audit_events (at, actor, action, detail, db_user) "
                      "VALUES ('now', 'x', 'import', '{}', 'someone_else')")


def _as_before_step_10(team) -> None:
    """The store as schema 9 left it (with its roles): step 10's table and column taken away."""
    with Store.open(team.url()) as s:
        s._db.execute("DROP TABLE assignments")
        s._db.execute("ALTER TABLE audit_events DROP COLUMN db_user")
        s._db.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")


def test_only_the_admin_role_migrates_and_a_specialist_is_told_to_ask(team):
    _as_before_step_10(team)
    with pytest.raises(StoreError, match=r"schema 9 .* needs schema 10; only the admin role migrates"):
        Store.open(team.url(team.specialist))
    raw = store_mod._SQLAlchemy(team.url())  # a bare connection: opening a Store as the superuser would migrate
    assert raw.execute("SELECT value FROM meta WHERE key = 'schema_version'") == [("9",)]  # nothing changed
    raw.close()
    assert main(["store", "migrate", "--store", team.url(team.admin)]) == 0
    with Store.open(team.url(team.specialist)) as s:
        assert s.schema_version == 10
        assert s.assign("C1", "ana", 0) == 1  # the new table is granted to the specialist
        owner = s._db.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'assignments'")
    assert owner == [("xlar_admin",)]  # made by the admin's member as the admin role


def test_setup_twice_changes_nothing(team):
    assert main(["store", "setup", "--store", team.url()]) == 0
    with Store.open(team.url(team.specialist)) as s:
        assert s.schema_version == SCHEMA_VERSION


def test_setup_gives_an_existing_store_to_the_admin_role_and_keeps_its_rows(pg_server, practice):
    url = pg_server.url(pg_server.create_database())
    assert main(["import", str(practice / "era" / "t1.835"), "--store", url, "--quiet"]) == 0  # no roles yet
    assert main(["store", "setup", "--store", url]) == 0
    specialist = pg_server.login(roles.SPECIALIST)
    with Store.open(url.replace("xlar_super@", f"{specialist}@")) as s:
        assert s.count("payments") == 1


def test_setup_refuses_an_sqlite_store(tmp_path, capsys):
    assert main(["store", "setup", "--store", str(tmp_path / "s.sqlite")]) != 0
    assert "postgresql://" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()


def test_every_table_of_the_schema_has_its_grants(tmp_path):
    # a new schema step's table must say who may use it (roles.TABLE_GRANTS), or nobody but the admin could
    with Store.open(tmp_path / "s.sqlite") as s:
        tables = {t for (t,) in s._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables - {"sqlite_sequence"} == set(roles.TABLE_GRANTS) == set(store_mod.STORE_TABLES)


def test_the_team_store_page_names_every_table_and_role():
    page = (Path(__file__).parents[1] / "docs" / "team-store.md").read_text(encoding="utf-8")
    assert all(f"`{table}`" in page for table in roles.TABLE_GRANTS)
    assert all(f"`{role}`" in page for role in roles.ROLES.values())


def test_a_url_may_carry_connection_options(team, practice):
    # libpq options after the database name (the README suggests sslmode); the private server has no TLS
    url = team.url(team.specialist) + "?sslmode=disable&connect_timeout=10"
    assert main(["import", str(practice / "era" / "t1.835"), "--store", url, "--quiet"]) == 0
    with Store.open(url) as s:
        assert s.count("payments") == 1


def test_a_specialist_pressing_build_report_is_told_the_manager_role_does_it(team, practice_small, tmp_path,
                                                                             monkeypatch):
    # the ribbon on a team store (XL_AR_STORE): the import is the specialist's, the report is refused as an alert
    from tests.test_ribbon_reconcile import practice_book
    from udfs import ribbon

    monkeypatch.setenv("XL_AR_STORE", team.url(team.specialist))
    book = practice_book(practice_small, None)
    book.fullname = str(tmp_path / "AR workbook.xlsm")
    assert "payments imported" in ribbon.import_remittances(book)
    message = ribbon.build_report(book)
    assert "permission denied for table snapshots" in message and "manager role" in message
    assert book.app.alerts[-1] == message
    assert not list(tmp_path.glob("management_report*"))


def test_setup_by_a_login_without_createrole_says_who_may_and_changes_nothing(team, pg_server, capsys):
    # a specialist's login (no CREATEROLE, not the admin role's member) runs setup on a new database: refused
    # when it would take the admin role, before any table is made
    database = pg_server.create_database()
    code = main(["store", "setup", "--store", pg_server.url(database, user=team.specialist)])
    said = capsys.readouterr().err
    assert code == 1 and "needs a superuser or a role with CREATEROLE" in said and "nothing was changed" in said
    raw = store_mod._SQLAlchemy(pg_server.url(database))
    assert raw.execute("SELECT to_regclass('meta') IS NULL") == [(True,)]
    raw.close()
