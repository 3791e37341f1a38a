"""The store: created on first use, versioned, round-trips canonical tables, audit without identifiers."""

import datetime as dt

import pandas as pd
import pytest

from xl_ar import store as store_mod
from xl_ar import tables
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


def test_reopening_does_not_migrate_again(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
        s.audit("first")
    with Store.open(tmp_path / "s.sqlite") as s:
        assert s.schema_version == store_mod.SCHEMA_VERSION and len(s.audit_events()) == 1


def test_a_store_from_a_newer_release_is_refused(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
        s._db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="newer xl-ar"):
        Store.open(tmp_path / "s.sqlite")


def test_tables_round_trip_with_cents_and_dates(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
        import_id = s.record_import("a.835", "abc", 1, 0, 0)
        s.insert_table("payments", payments_frame(), import_id)
        back = s.read_table("payments")
    assert back.amount.tolist() == [123456]
    assert back.payment_date.tolist() == [pd.Timestamp("2026-03-03")]
    assert back.columns.tolist() == tables.TABLES["payments"].column_names


def test_known_payments_are_the_idempotency_keys(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
        s.insert_table("payments", payments_frame(), s.record_import("a.835", "abc", 1, 0, 0))
        assert s.known_payments() == {("SYNMCR", "8812", 123456)}
        assert s.file_imported("abc") and not s.file_imported("def")


def test_a_failed_transaction_leaves_nothing(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
        with pytest.raises(ZeroDivisionError), s.transaction():
            s.insert_table("payments", payments_frame(), s.record_import("a.835", "abc", 1, 0, 0))
            1 / 0  # noqa: B018
        assert s.count("payments") == 0 and s.count("imports") == 0


def test_audit_refuses_patient_identifiers(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
        s.audit("import", files=3, payments=12)
        with pytest.raises(ValueError, match="patient identifiers"):
            s.audit("lookup", claim_id="CL0000001")
        events = s.audit_events()
    assert events.action.tolist() == ["import"] and '"payments": 12' in events.detail.iloc[0]


def test_snapshots_keep_the_latest_per_as_of_date(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
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
    assert store_mod.default_path() == tmp_path / "x.sqlite"


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
        assert s.schema_version == 2
        assert s.count("duplicate_payments") == 0 and s.audit_events().action.tolist() == ["old"]
