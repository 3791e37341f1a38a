"""The store: created on first use, versioned, round-trips canonical tables, audit without identifiers."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from xl_ar import store as store_mod
from xl_ar import tables
from xl_ar.errors import StoreError
from xl_ar.store import Store


def payments_frame() -> pd.DataFrame:
    return tables.to_frame("payments", [
        {"payment_id": "P1", "payer_name": "MEDICARE", "payer_ref": "SYNMCR", "method": "ACH", "amount": 123456,
         "payment_date": dt.date(2026, 3, 3), "trace_number": "8812", "source_file": "a.835"},
    ])


def test_a_new_store_is_created_at_the_current_schema(tmp_path):
    path = tmp_path / "sub" / "xl-ar.sqlite"
    with Store.open(path) as s:
        assert s.schema_version == store_mod.SCHEMA_VERSION
    assert path.exists()


def test_reopening_does_not_migrate_again(store_at):
    with Store.open(store_at) as s:
        s.audit("first")
    with Store.open(store_at) as s:
        assert s.schema_version == store_mod.SCHEMA_VERSION and len(s.audit_events()) == 1


def test_a_store_from_a_newer_release_is_refused(store_at):
    with Store.open(store_at) as s:
        s._db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="newer xl-ar"):
        Store.open(store_at)


def test_tables_round_trip_with_cents_and_dates(store_at):
    with Store.open(store_at) as s:
        import_id = s.record_import("a.835", "abc", 1, 0, 0)
        s.insert_table("payments", payments_frame(), import_id)
        back = s.read_table("payments")
    assert back.amount.tolist() == [123456]
    assert back.payment_date.tolist() == [pd.Timestamp("2026-03-03")]
    assert back.columns.tolist() == tables.TABLES["payments"].column_names


def test_known_payments_are_the_idempotency_keys(store_at):
    with Store.open(store_at) as s:
        s.insert_table("payments", payments_frame(), s.record_import("a.835", "abc", 1, 0, 0))
        stored_keys = set(s._db.execute("SELECT payer_key, trace_key, amount FROM payments"))
        assert stored_keys == {("SYNMCR", "8812", 123456)}
        assert s.file_imported("abc") and not s.file_imported("def")


def test_a_failed_transaction_leaves_nothing(store_at):
    with Store.open(store_at) as s:
        with pytest.raises(ZeroDivisionError), s.transaction():
            s.insert_table("payments", payments_frame(), s.record_import("a.835", "abc", 1, 0, 0))
            1 / 0  # noqa: B018
        assert s.count("payments") == 0 and s.count("imports") == 0


def test_audit_refuses_patient_identifiers(store_at):
    with Store.open(store_at) as s:
        s.audit("import", files=3, payments=12)
        with pytest.raises(ValueError, match="patient identifiers"):
            s.audit("lookup", claim_id="CL0000001")
        events = s.audit_events()
    assert events.action.tolist() == ["import"] and '"payments": 12' in events.detail.iloc[0]


def test_snapshots_keep_the_latest_per_as_of_date(store_at):
    with Store.open(store_at) as s:
        s.save_snapshot("P", dt.date(2026, 8, 31), {"total_ar": 100})
        s.save_snapshot("P", dt.date(2026, 9, 30), {"total_ar": 150})
        s.save_snapshot("P", dt.date(2026, 9, 30), {"total_ar": 160})  # rebuilt report, same date
        trend = s.snapshots("P")
    assert trend.as_of.tolist() == [dt.date(2026, 8, 31), dt.date(2026, 9, 30)]
    assert trend.total_ar.tolist() == [100, 160]


def test_the_sqlalchemy_backend_runs_the_same_schema(tmp_path):
    pytest.importorskip  # noqa: B018 - sqlalchemy is a test dependency; its absence must fail, not skip
    import sqlalchemy  # noqa: F401

    with Store.open(f"sqlite:///{tmp_path / 'team.sqlite'}") as s:
        import_id = s.record_import("a.835", "abc", 1, 0, 0)
        s.insert_table("payments", payments_frame(), import_id)
        assert s.read_table("payments").amount.tolist() == [123456]
        s.audit("import", files=1)
        assert s.schema_version == store_mod.SCHEMA_VERSION and import_id == 1


def test_default_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XL_AR_STORE", str(tmp_path / "x.sqlite"))
    with Store.open() as s:  # the store setting: here from the environment
        assert s.location == "x.sqlite"
    assert (tmp_path / "x.sqlite").exists()


def test_a_store_of_an_earlier_version_is_migrated_forward(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)  # a version 1 store, as the first release wrote it
    for sql in store_mod.MIGRATIONS[0]:
        conn.execute(sql.replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT").replace("DOUBLE PRECISION", "REAL"))
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO audit_events (at, actor, action, detail) VALUES ('2026-01-01', 'xl-ar', 'old', '{}')")
    conn.commit()
    conn.close()
    with Store.open(path) as s:
        assert s.schema_version == store_mod.SCHEMA_VERSION
        assert s.count("duplicate_payments") == 0 and s.audit_events().action.tolist() == ["old"]


# -- frozen migrations ------------------------------------------------------------------------------

RELEASED_STEPS = {
    # SHA-256 of json.dumps(MIGRATIONS[version - 1]). Never edit a released step to make this pass:
    # stores in use were built by it. Change the schema with a new step (and record its hash here).
    1: "199cdad279236a2ca1731ade43ea90e98eada44060f5cd1a6254cc2834f883c1",
    2: "44618fd3d9ea112f705cf0c59e539985ed53a983c7fdc1d5a59fd7a5f8ea45b0",
    3: "f168ca798b31e2c2a8aa050bbf31d503aaed5f4d11d35662f9aefd4723f3b9b4",
    4: "5e169c38a4b984a617152db7aab3791e4498149b3457230c801f692214088b13",
    5: "e2434b63809b0ae7ffe99b9c88665590596678d85a41e4dd35beb95dfdeef344",
    6: "474a853102c9c3d820c5d1b42d902818aa21d37d6d289f0bc36e082754edceb5",
    7: "193173f941503334569da18233c13e9be488db4cd135c9076a54e4442dc78c60",
    8: "b1de0bd4a0c38dc03d84b9096e057e65a43e015ec452eacd06ac822fc3338609",
    9: "43344e15f3f63a5d911e0fc3d83469f0939174cc3481c1c4ea0868923cfb257f",
    10: "a428a3833d3d35d9030f3840dbea6680fda9550ddf93d6ef254ee1ddf0792c83",
}


def test_released_migration_steps_never_change():
    import hashlib
    import json

    found = {version: hashlib.sha256(json.dumps(step).encode()).hexdigest()
             for version, step in enumerate(store_mod.MIGRATIONS, start=1) if version in RELEASED_STEPS}
    assert found == RELEASED_STEPS
    assert store_mod.SCHEMA_VERSION == len(store_mod.MIGRATIONS) >= max(RELEASED_STEPS)


def old_store(where: str, version: int):
    """A store (SQLite file or PostgreSQL database) as release `version` left it: its literal steps run on a bare
    connection, no later code involved. Returns the connection (the store's `Backend`), to add old rows."""
    db = store_mod._SQLAlchemy(where) if "://" in where else store_mod._SQLite(Path(where))
    for step in store_mod.MIGRATIONS[:version]:
        for sql in step:
            statement = store_mod._ddl(sql, db.dialect)
            if statement is not None:
                db.execute(statement)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', :v)", {"v": str(version)})
    return db


def add_import(db, import_id: int, sha: str, payments: int, duplicates: int = 0) -> None:
    db.execute("INSERT INTO imports VALUES (:i, :f, :h, '2026-09-02T00:00:00+00:00', :p, :d, 0)",
               {"i": import_id, "f": f"{sha}.835", "h": sha, "p": payments, "d": duplicates})


def add_payment(db, import_id: int, payment_id: str, payer_ref: str | None, trace: str | None, amount: int) -> None:
    """A payment as an old release stored it, with one claim, one line and one adjustment."""
    row = {"p": payment_id, "r": payer_ref, "a": amount, "t": trace, "f": f"{payment_id}.835", "i": import_id,
           "adj": 10000 - amount}
    db.execute("INSERT INTO payments VALUES (:p, NULL, 'ACME HEALTH', :r, NULL, 'ACH', :a, '2026-09-01', :t, :f, :i)",
               row)
    db.execute("INSERT INTO claim_payments VALUES (:p, 1, 'CL1', '1', 10000, :a, 0, 'PCN1', '2026-08-01', :i)", row)
    db.execute("INSERT INTO line_payments VALUES (:p, 1, 'CL1', 1, '99213', NULL, 10000, :a, 1.0, NULL, "
               "'2026-08-01', NULL, :i)", row)
    db.execute("INSERT INTO adjustments VALUES (:p, 1, 'CL1', 1, 'CO', '45', :adj, NULL, :i)", row)


@pytest.mark.parametrize("version", range(1, store_mod.SCHEMA_VERSION))
def test_a_store_of_every_earlier_version_migrates_to_the_current_one(store_at, version):
    db = old_store(store_at, version)
    db.execute("INSERT INTO audit_events (at, actor, action, detail) VALUES ('2026-01-01', 'xl-ar', 'old', '{}')")
    db.close()
    with Store.open(store_at) as s:
        assert s.schema_version == store_mod.SCHEMA_VERSION
        assert s.audit_events().action.tolist() == ["old"]
        s.audit("after the upgrade")  # the new steps' tables and columns are there to write to
        assert s.add_notes(tables.from_columns("notes", {
            "claim_id": ["CL1"], "note_date": [dt.date(2026, 9, 1)], "author": ["ana"], "channel": ["call"]})) == (1, 0)


def test_a_version_1_store_with_data_upgrades_with_its_data_and_keys(store_at):
    db = old_store(store_at, 1)
    add_import(db, 1, "aaa", payments=1)
    add_payment(db, 1, "P1", payer_ref=None, trace="8812", amount=8000)
    db.execute("INSERT INTO snapshots (practice, as_of, taken_at, figures) "
               "VALUES ('P', '2026-08-31', '2026-09-01', '{\"total_ar\": 100}')")
    db.close()
    with Store.open(store_at) as s:
        assert s.schema_version == store_mod.SCHEMA_VERSION
        rem = s.remittances()
        assert rem["payments"].payment_id.tolist() == ["P1"] and rem["payments"].amount.tolist() == [8000]
        assert rem["claim_payments"].paid.tolist() == [8000] and rem["adjustments"].amount.tolist() == [2000]
        assert rem["line_payments"].units.tolist() == [1.0]
        # no payer_ref: the payer key is the payer name; the trace key is TRN02
        assert s._db.execute("SELECT payer_key, trace_key FROM payments") == [("ACME HEALTH", "8812")]
        assert s.snapshots("P").total_ar.tolist() == [100]
        assert s.file_imported("aaa")


def test_a_version_2_store_with_a_repeated_traceless_payment_upgrades_with_the_copy_moved(store_at):
    db = old_store(store_at, 2)
    add_import(db, 1, "aaa", payments=1)
    add_payment(db, 1, "NOTRACE-0001-a", payer_ref="ACME01", trace=None, amount=8000)
    # the same trace-less payment re-sent in a new interchange: version 2 imported it again ...
    add_import(db, 2, "bbb", payments=2)
    add_payment(db, 2, "NOTRACE-0001-b", payer_ref="ACME01", trace=None, amount=8000)
    add_payment(db, 2, "T9-0001-c", payer_ref="ACME01", trace="T9", amount=5000)  # ... next to a new one
    db.close()
    with Store.open(store_at) as s:
        # the copy (later import) moves to duplicate_payments; its claim, line and adjustment rows go
        assert s.read_table("payments").payment_id.tolist() == ["NOTRACE-0001-a", "T9-0001-c"]
        assert s.read_table("duplicate_payments").payment_id.tolist() == ["NOTRACE-0001-b"]
        for name in ("claim_payments", "line_payments", "adjustments"):
            assert s.read_table(name).payment_id.tolist() == ["NOTRACE-0001-a", "T9-0001-c"], name
        # import 2 now stored 1 payment (2 - 1) and found 1 duplicate (0 + 1)
        assert s._db.execute("SELECT import_id, payments, duplicates FROM imports ORDER BY import_id") == [
            (1, 1, 0), (2, 1, 1)]
        assert s._db.execute("SELECT payer_key, trace_key, amount FROM payments ORDER BY payment_id") == [
            ("ACME01", "", 8000), ("ACME01", "T9", 5000)]


def test_repeated_records_of_one_file_merge_into_the_first_on_upgrade(store_at):
    db = old_store(store_at, 2)
    add_import(db, 1, "aaa", payments=1)
    add_payment(db, 1, "T1-0001-a", payer_ref="ACME01", trace="T1", amount=100)
    add_import(db, 2, "aaa", payments=1, duplicates=1)  # the same file recorded twice (a race)
    add_payment(db, 2, "T2-0001-a", payer_ref="ACME01", trace="T2", amount=200)
    db.close()
    with Store.open(store_at) as s:
        # one record of the file: import 1, with 1 + 1 payments and 0 + 1 duplicates, owning every row
        assert s._db.execute("SELECT import_id, payments, duplicates FROM imports") == [(1, 2, 1)]
        assert s._db.execute("SELECT DISTINCT import_id FROM payments") == [(1,)]
        assert s._db.execute("SELECT DISTINCT import_id FROM claim_payments") == [(1,)]
        assert s.record_import("aaa.835", "aaa") is None


# -- constraints ------------------------------------------------------------------------------------

def test_the_payment_key_is_unique_in_the_schema(store_at):
    copy = payments_frame().assign(payment_id="P2", source_file="b.835")  # same payer, trace and amount
    refused = {"sqlite": r"UNIQUE constraint failed: payments\.payer_key",
               "postgresql": r'duplicate key value violates unique constraint "payments_key"'}
    with Store.open(store_at) as s:
        s.insert_table("payments", payments_frame(), s.record_import("a.835", "abc"))
        with pytest.raises(Exception, match=refused[s._db.dialect]):
            s.insert_table("payments", copy, s.record_import("b.835", "def"))
        assert s.count("payments") == 1


def test_insert_payments_keeps_a_stored_payment_aside(store_at):
    copy = payments_frame().assign(payment_id="P2", source_file="b.835")
    with Store.open(store_at) as s:
        assert s.insert_payments(payments_frame(), s.record_import("a.835", "abc")).tolist() == [True]
        assert s.insert_payments(copy, s.record_import("b.835", "def")).tolist() == [False]
        assert s.read_table("payments").payment_id.tolist() == ["P1"]
        assert s.read_table("duplicate_payments").payment_id.tolist() == ["P2"]
        assert s.stored_payments(copy).tolist() == [True]


def test_a_file_is_recorded_once(store_at):
    with Store.open(store_at) as s:
        assert s.record_import("a.835", "abc") == 1
        assert s.record_import("copy of a.835", "abc") is None  # same SHA-256: refused by the unique index
        assert s.count("imports") == 1


# -- backends ---------------------------------------------------------------------------------------

def test_an_sqlite_without_returning_is_refused_with_what_to_do(tmp_path, monkeypatch):
    from xl_ar.errors import StoreError

    monkeypatch.setattr(store_mod.sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(StoreError, match=r"SQLite 3\.35\.0 or later .* has SQLite 3\.31\.1"):
        Store.open(tmp_path / "s.sqlite")
    assert not (tmp_path / "s.sqlite").exists()


def test_the_sqlalchemy_backend_checks_its_sqlite_version_too(tmp_path, monkeypatch):
    from xl_ar.errors import StoreError

    monkeypatch.setattr(store_mod, "SQLITE_MINIMUM", (99, 0, 0))  # no SQLite is that new
    with pytest.raises(StoreError, match=r"needs SQLite 99\.0\.0 or later"):
        Store.open(f"sqlite:///{tmp_path / 'team.sqlite'}")


BACKENDS = ["sqlite", "sqlalchemy", "postgresql"]
"""The embedded SQLite file, SQLAlchemy with an SQLite URL, SQLAlchemy with PostgreSQL (the private server)."""


@pytest.fixture
def any_backend(request, tmp_path) -> str:
    kind = request.param
    if kind == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 's.sqlite'}" if kind == "sqlalchemy" else str(tmp_path / "s.sqlite")


@pytest.mark.parametrize("any_backend", BACKENDS, indirect=True)
def test_every_backend_implements_the_protocol_and_nests_transactions(any_backend):
    with Store.open(any_backend) as s:
        assert isinstance(s._db, store_mod.Backend)
        with s.transaction():
            s.audit("outer")
            with pytest.raises(ZeroDivisionError), s.transaction():
                s.audit("inner")
                1 / 0  # noqa: B018
        assert s.audit_events().action.tolist() == ["outer"]  # the inner block alone was undone


def test_payment_key_is_one_rule_for_a_payment_a_frame_and_the_store(store_at):
    from xl_ar.keys import payment_key, payment_keys

    cases = [  # (payer_ref, payer_name, trace_number) -> expected (payer, trace), amount 500 each
        (("ACME01", "ACME HEALTH", "T1"), ("ACME01", "T1")),
        ((None, "ACME HEALTH", "T2"), ("ACME HEALTH", "T2")),
        ((None, None, "T3"), ("", "T3")),
        (("ACME01", "ACME HEALTH", None), ("ACME01", "")),
    ]
    frame = tables.from_columns("payments", {  # as the 835 reader builds it: a missing TRN02 is NA
        "payment_id": [f"P{i}" for i in range(len(cases))], "payer_ref": [c[0][0] for c in cases],
        "payer_name": [c[0][1] for c in cases], "trace_number": [c[0][2] for c in cases],
        "method": ["ACH"] * len(cases), "amount": [500] * len(cases)})
    expected = [(payer, trace, 500) for _, (payer, trace) in cases]
    assert [payment_key(payer_ref=r, payer_name=n, trace_number=t, amount=500) for (r, n, t), _ in cases] == expected
    assert payment_keys(frame) == expected
    with Store.open(store_at) as s:
        s.insert_table("payments", frame, s.record_import("a.835", "abc"))
        assert s._db.execute("SELECT payer_key, trace_key, amount FROM payments ORDER BY payment_id") == expected


TABLE_NAMED = {"sqlite": "SELECT name FROM sqlite_master WHERE name = :n",
               "postgresql": "SELECT tablename FROM pg_tables WHERE tablename = :n"}


@pytest.mark.parametrize("any_backend", BACKENDS, indirect=True)
def test_a_failing_migration_step_leaves_the_store_at_its_version(any_backend, monkeypatch):
    Store.open(any_backend).close()
    broken = [*store_mod.MIGRATIONS, ["CREATE TABLE half_done (a TEXT)", "SELECT * FROM no_such_table"]]
    monkeypatch.setattr(store_mod, "MIGRATIONS", broken)
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", len(broken))
    with pytest.raises(Exception, match="no_such_table"):
        Store.open(any_backend)
    monkeypatch.undo()
    with Store.open(any_backend) as s:  # the step's DDL was undone with it
        assert s.schema_version == store_mod.SCHEMA_VERSION
        assert not s._db.execute(TABLE_NAMED[s._db.dialect], {"n": "half_done"})


def test_a_note_added_twice_is_stored_once(store_at):
    # the notes' unique key decides (ON CONFLICT DO NOTHING), not a read before the insert
    import numpy as np

    note = tables.from_columns("notes", {
        "claim_id": ["CL1"], "note_date": [dt.date(2026, 9, 1)], "author": ["ana"], "channel": ["call"],
        "payer_reference": ["REF-77"], "outcome": ["reprocessing"], "next_followup": [dt.date(2026, 9, 15)]})
    with Store.open(store_at) as s:
        first = s.add_new("notes", note, {"entered_at": ["t1"], "note_key": ["k1"]})
        again = s.add_new("notes", note, {"entered_at": ["t2"], "note_key": ["k1"]})
        back = s.read_table("notes")
    assert first.tolist() == [True] and again.tolist() == [False]
    assert len(back) == 1 and back.payer_reference.tolist() == ["REF-77"]
    assert back.next_followup.dt.date.tolist() == [dt.date(2026, 9, 15)]
    assert isinstance(first, np.ndarray)


def test_store_ids_read_back_as_codes(store_at):
    # an appeal's number is the store's auto-increment id; the canonical column is text
    appeal = tables.from_columns("appeals", {
        "appeal_id": ["0"], "claim_id": ["CL1"], "payer_id": ["MCR"], "level": ["1"], "status": ["drafted"]})
    cols = [c for c in tables.TABLES["appeals"].column_names if c not in ("appeal_id", "version")]
    with Store.open(store_at) as s:
        s.add_new("appeals", appeal, {"opened_at": ["t"], "changed_at": ["t"], "changed_by": ["ana"], "version": [1]},
                  columns=cols)
        back = s.read_table("appeals")
    assert back.appeal_id.tolist() == ["1"] and back.status.tolist() == ["drafted"]


def test_a_column_given_both_as_a_table_column_and_an_extra_is_refused(store_at):
    # SQLite took `version` twice in one INSERT (the last one won); PostgreSQL refuses it: neither is asked to
    appeal = tables.from_columns("appeals", {"appeal_id": ["0"], "claim_id": ["CL1"], "payer_id": ["MCR"],
                                             "level": ["1"], "status": ["drafted"], "version": [1]})
    cols = [c for c in tables.TABLES["appeals"].column_names if c != "appeal_id"]
    with Store.open(store_at) as s:
        with pytest.raises(ValueError, match="version"):
            s.add_new("appeals", appeal, {"opened_at": ["t"], "changed_at": ["t"], "changed_by": ["ana"],
                                          "version": [1]}, columns=cols)
        assert s.count("appeals") == 0


def test_insert_payments_offers_the_payments_in_key_order(store_at, monkeypatch):
    # two importers offering the same payments in opposite orders would each hold a key the other waits for
    frame = tables.from_columns("payments", {
        "payment_id": ["P1", "P2", "P3"], "payer_ref": ["ACME01"] * 3, "trace_number": ["T3", "T1", "T2"],
        "method": ["ACH"] * 3, "amount": [300, 100, 200]})
    with Store.open(store_at) as s:
        offered = []
        execute = s._db.execute

        def spy(sql, params=None):
            if sql.startswith("INSERT INTO payments "):
                offered.append(params["trace_key"])
            return execute(sql, params)

        monkeypatch.setattr(s._db, "execute", spy)
        stored = s.insert_payments(frame, s.record_import("a.835", "abc"))
    assert offered == ["T1", "T2", "T3"] and stored.tolist() == [True, True, True]


def test_a_re_delivered_copy_recorded_twice_is_kept_once(store_at):
    copy = payments_frame().assign(payment_id="P1~0badc0de", source_file="copy of a.835")
    with Store.open(store_at) as s:
        import_id = s.record_import("a.835", "abc")
        assert s.record_copies(copy, import_id) == 1
        assert s.record_copies(copy, import_id) == 0  # the unique (import_id, payment_id) refuses it
        assert s.read_table("duplicate_payments").payment_id.tolist() == ["P1~0badc0de"]


def test_a_version_8_store_keeps_each_payment_aside_once_after_the_upgrade(store_at):
    db = old_store(store_at, 8)
    add_import(db, 1, "aaa", payments=1)
    for _ in range(2):  # a re-delivered copy two specialists recorded at once, before step 9
        db.execute("INSERT INTO duplicate_payments VALUES ('P1~0badc0de', NULL, 'ACME HEALTH', 'ACME01', NULL, "
                   "'ACH', 100, '2026-09-01', 'T1', 'copy.835', 1)")
    db.execute("INSERT INTO duplicate_payments VALUES ('P1~1badc0de', NULL, 'ACME HEALTH', 'ACME01', NULL, "
               "'ACH', 100, '2026-09-01', 'T1', 'copy 2.835', 1)")
    db.close()
    with Store.open(store_at) as s:
        assert sorted(s.read_table("duplicate_payments").payment_id) == ["P1~0badc0de", "P1~1badc0de"]


# -- worklist assignment: optimistic locking ---------------------------------------------------------

def test_taking_an_untaken_claim_stores_version_1(store_at):
    with Store.open(store_at) as s:
        assert s.assign("C1", "ana", expected_version=0, actor="ana") == 1
        taken = s.assignments()
    assert taken[["claim_id", "assigned_to", "assigned_by", "version"]].values.tolist() == [["C1", "ana", "ana", 1]]


def test_a_second_taker_who_read_the_claim_untaken_is_refused_and_nothing_changes(store_at):
    # ana and ben both read C1 untaken (version 0); ana's take lands first, ben's is refused naming ana
    with Store.open(store_at) as s:
        s.assign("C1", "ana", expected_version=0, actor="ana")
        with pytest.raises(StoreError, match=r"given to ana by ana .*version 1; you read version 0.*reload"):
            s.assign("C1", "ben", expected_version=0, actor="ben")
        assert s.assignments()[["assigned_to", "version"]].values.tolist() == [["ana", 1]]


def test_handing_over_at_the_version_read_bumps_it(store_at):
    # version 1 (ana took it) -> 2 (ana hands it to ben) -> 3 (ben hands it back)
    with Store.open(store_at) as s:
        s.assign("C1", "ana", 0, actor="ana")
        assert s.assign("C1", "ben", 1, actor="ana") == 2
        assert s.assign("C1", "ana", 2, actor="ben") == 3
        assert s.assignments()[["assigned_to", "assigned_by", "version"]].values.tolist() == [["ana", "ben", 3]]


def test_a_hand_over_from_a_stale_version_is_refused(store_at):
    # carla read version 1; ana already handed the claim to ben (version 2): carla's change would overwrite it
    with Store.open(store_at) as s:
        s.assign("C1", "ana", 0, actor="ana")
        s.assign("C1", "ben", 1, actor="ana")
        with pytest.raises(StoreError, match=r"given to ben by ana .*version 2; you read version 1"):
            s.assign("C1", "carla", 1, actor="carla")
        assert s.assignments()["assigned_to"].tolist() == ["ben"]


def test_a_refusal_names_no_claim(store_at):
    with Store.open(store_at) as s:
        s.assign("CLM-SECRET-9", "ana", 0, actor="ana")
        with pytest.raises(StoreError) as refused:
            s.assign("CLM-SECRET-9", "ben", 0, actor="ben")
    assert "CLM-SECRET-9" not in str(refused.value)


def test_two_claims_are_taken_independently(store_at):
    with Store.open(store_at) as s:
        assert s.assign("C1", "ana", 0, actor="ana") == 1
        assert s.assign("C2", "ben", 0, actor="ben") == 1
        assert s.assignments()[["claim_id", "assigned_to"]].values.tolist() == [["C1", "ana"], ["C2", "ben"]]


# -- the audit trail's database user -----------------------------------------------------------------

def test_an_audit_event_records_the_database_login_on_postgresql_and_none_on_sqlite(store_at):
    with Store.open(store_at) as s:
        s.audit("import", actor="ana", files=1)
        events = s.audit_events()
    expected = "xlar_super" if "://" in store_at else None  # the test server's login; an SQLite file has none
    assert events["db_user"].tolist() == [expected]


def test_the_database_user_is_covered_by_the_event_hash(pg_url):
    # an event's db_user edited afterwards no longer matches the event's hash
    from xl_ar import audit

    with Store.open(pg_url) as s:
        s.audit("import", actor="ana", files=1)
        assert audit.verify(s).ok
        s._db.execute("UPDATE audit_events SET db_user = 'someone_else'")
        found = audit.verify(s)
    assert not found.ok and "edited" in found.problem


def test_events_chained_before_step_10_keep_their_hash_and_new_ones_chain_on(store_at):
    # an event written at schema 9 (no db_user) verifies after the upgrade; the next event (with db_user on
    # PostgreSQL) links to it
    from xl_ar import audit

    db = old_store(store_at, 9)
    fields = {"at": "2026-09-01T10:00:00+00:00", "actor": "ana", "action": "import", "detail": "{}", "result": "ok",
              "message": "", "prev_hash": ""}
    fields["event_hash"] = audit.event_hash(fields)
    db.execute("INSERT INTO audit_events (at, actor, action, detail, result, message, prev_hash, event_hash) "
               "VALUES (:at, :actor, :action, :detail, :result, :message, :prev_hash, :event_hash)", fields)
    db.execute("INSERT INTO meta (key, value) VALUES ('audit_head', :v)", {"v": f"1:{fields['event_hash']}"})
    db.close()
    with Store.open(store_at) as s:
        s.audit("reconcile", actor="ben")
        found = audit.verify(s)
        events = s.audit_events()
    assert found.ok and found.chained == 2
    assert events["db_user"].isna().tolist() == [True, "://" not in store_at]
