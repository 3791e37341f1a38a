"""What persists between sessions: imported payments, audit events, aging snapshots.

An embedded SQLite file by default (created on first use, path configurable). Tables use the
canonical column names; money is stored as integer cents, dates as ISO text. The schema is
versioned (`meta.schema_version`) and migrated forward on open, in one transaction per step.

For a team, a server database can be configured instead with a SQLAlchemy URL
(`postgresql+psycopg://user@host/db`, extra `xl-ar[team]`); the SQL below is written to run on both.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from xl_ar import tables
from xl_ar.privacy import IDENTIFIER_COLUMNS

SCHEMA_VERSION = 2

_ID = "{id}"  # replaced per backend by an auto-increment primary key


def _sql_type(column: tables.Column) -> str:
    return {
        tables.Kind.MONEY: "BIGINT",
        tables.Kind.COUNT: "BIGINT",
        tables.Kind.NUMBER: "DOUBLE PRECISION",
    }.get(column.kind, "TEXT")


def _remittance_ddl(name: str) -> str:
    cols = ", ".join(f"{c.name} {_sql_type(c)}" for c in tables.TABLES[name].columns)
    return f"CREATE TABLE {name} ({cols}, import_id BIGINT NOT NULL)"


MIGRATIONS: list[list[str]] = [
    # 1: imports with their remittance tables, audit trail, aging snapshots
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"CREATE TABLE imports (import_id {_ID}, source_file TEXT NOT NULL, file_sha256 TEXT NOT NULL, "
        "imported_at TEXT NOT NULL, payments BIGINT NOT NULL, duplicates BIGINT NOT NULL, findings BIGINT NOT NULL)",
        *[_remittance_ddl(name) for name in tables.REMITTANCE_TABLES],
        "CREATE UNIQUE INDEX payments_id ON payments (payment_id)",
        "CREATE INDEX payments_trace ON payments (trace_number)",
        "CREATE INDEX claim_payments_claim ON claim_payments (claim_id)",
        f"CREATE TABLE audit_events (event_id {_ID}, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, "
        "detail TEXT NOT NULL)",
        f"CREATE TABLE snapshots (snapshot_id {_ID}, practice TEXT NOT NULL, as_of TEXT NOT NULL, "
        "taken_at TEXT NOT NULL, figures TEXT NOT NULL)",
        "CREATE INDEX snapshots_as_of ON snapshots (practice, as_of)",
    ],
    # 2: payments a payer sent again in another file (kept to report, never counted)
    [
        _remittance_ddl("payments").replace("CREATE TABLE payments", "CREATE TABLE duplicate_payments"),
    ],
]
"""Schema steps; step i brings the store from version i to i + 1. Never edit a released step."""


def default_path() -> Path:
    """`$XL_AR_STORE`, else `~/.xl-ar/xl-ar.sqlite`."""
    env = os.environ.get("XL_AR_STORE")
    if env:
        return Path(env)
    return Path(os.environ.get("XL_AR_HOME") or Path.home() / ".xl-ar") / "xl-ar.sqlite"


class _SQLite:
    dialect = "sqlite"

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")

    def ddl(self, sql: str) -> str:
        return sql.replace(_ID, "INTEGER PRIMARY KEY AUTOINCREMENT").replace("DOUBLE PRECISION", "REAL")

    def execute(self, sql: str, params: dict | None = None) -> list[tuple]:
        return self.conn.execute(sql, params or {}).fetchall()

    def executemany(self, sql: str, rows: list[dict]) -> None:
        self.conn.executemany(sql, rows)

    def insert_id(self, sql: str, params: dict) -> int:
        return int(self.conn.execute(sql, params).lastrowid)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class _SQLAlchemy:  # pragma: no cover - exercised with a sqlite URL in tests, PostgreSQL in deployments
    def __init__(self, url: str):
        try:
            import sqlalchemy
        except ImportError as e:
            raise RuntimeError("a database URL needs SQLAlchemy: pip install 'xl-ar[team]'") from e
        self.sa = sqlalchemy
        self.engine = sqlalchemy.create_engine(url)
        self.dialect = self.engine.dialect.name
        self.conn = self.engine.connect()
        self._tx = None

    def ddl(self, sql: str) -> str:
        if self.dialect == "sqlite":
            return sql.replace(_ID, "INTEGER PRIMARY KEY AUTOINCREMENT").replace("DOUBLE PRECISION", "REAL")
        return sql.replace(_ID, "BIGSERIAL PRIMARY KEY")

    def execute(self, sql: str, params: dict | None = None) -> list[tuple]:
        result = self.conn.execute(self.sa.text(sql), params or {})
        rows = [tuple(r) for r in result] if result.returns_rows else []
        if self._tx is None:
            self.conn.commit()
        return rows

    def executemany(self, sql: str, rows: list[dict]) -> None:
        if rows:
            self.conn.execute(self.sa.text(sql), rows)
        if self._tx is None:
            self.conn.commit()

    def insert_id(self, sql: str, params: dict) -> int:
        if self.dialect == "postgresql":
            key = sql.split("(")[0].split()[-1]
            id_col = {"imports": "import_id", "audit_events": "event_id", "snapshots": "snapshot_id"}[key]
            return int(self.execute(sql + f" RETURNING {id_col}", params)[0][0])
        result = self.conn.execute(self.sa.text(sql), params)
        if self._tx is None:
            self.conn.commit()
        return int(result.lastrowid)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._tx = self.conn.begin() if not self.conn.in_transaction() else self.conn.begin_nested()
        try:
            yield
        except BaseException:
            self._tx.rollback()
            self._tx = None
            raise
        self._tx.commit()
        self._tx = None

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


class Store:
    """The persistent store. `Store.open()` for the default file, `Store.open(path_or_url)` otherwise."""

    def __init__(self, backend: Any, location: str):
        self._db = backend
        self.location = location
        self._migrate()

    @classmethod
    def open(cls, where: str | Path | None = None) -> Store:
        """A SQLite file path (created on first use) or a SQLAlchemy database URL."""
        if where is None:
            where = default_path()
        text = str(where)
        if "://" in text:
            return cls(_SQLAlchemy(text), text.split("@")[-1])
        return cls(_SQLite(Path(text)), Path(text).name)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        try:
            rows = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        except Exception:
            return 0
        return int(rows[0][0]) if rows else 0

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"the store was written by a newer xl-ar (schema {version}, this one knows "
                               f"{SCHEMA_VERSION}); upgrade xl-ar")
        for step in range(version, SCHEMA_VERSION):
            with self._db.transaction():
                for sql in MIGRATIONS[step]:
                    self._db.execute(self._db.ddl(sql))
                if step == 0:
                    self._db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', :v)", {"v": "1"})
                else:
                    self._db.execute("UPDATE meta SET value = :v WHERE key = 'schema_version'", {"v": str(step + 1)})

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all."""
        with self._db.transaction():
            yield

    # -- tables -----------------------------------------------------------------------------------
    def insert_table(self, name: str, frame: pd.DataFrame, import_id: int) -> None:
        """Append a canonical table's rows (money as cents, dates as ISO text)."""
        if frame.empty:
            return
        cols = tables.TABLES[name].column_names
        rows = _records(frame[cols], name)
        for r in rows:
            r["import_id"] = import_id
        placeholders = ", ".join(f":{c}" for c in [*cols, "import_id"])
        self._db.executemany(f"INSERT INTO {name} ({', '.join(cols)}, import_id) VALUES ({placeholders})", rows)

    def read_table(self, name: str, where: str = "", params: dict | None = None) -> pd.DataFrame:
        """A canonical table read back with its dtypes (`duplicate_payments` has the payments' columns)."""
        spec = "payments" if name == "duplicate_payments" else name
        cols = tables.TABLES[spec].column_names
        rows = self._db.execute(f"SELECT {', '.join(cols)} FROM {name} {where}", params)
        if not rows:
            return tables.empty(spec)
        data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
        for c in tables.TABLES[spec].columns:
            if c.kind == tables.Kind.DATE:
                data[c.name] = pd.to_datetime(pd.Series(data[c.name], dtype="object"), format="%Y-%m-%d")
        return tables.from_columns(spec, data)

    def count(self, name: str) -> int:
        return int(self._db.execute(f"SELECT COUNT(*) FROM {name}")[0][0])

    # -- imports ----------------------------------------------------------------------------------
    def known_payments(self) -> set[tuple[str, str, int]]:
        """(payer key, trace number, amount in cents) of every imported payment: the idempotency key."""
        rows = self._db.execute("SELECT payer_ref, payer_name, trace_number, amount FROM payments")
        return {(r[0] or r[1] or "", r[2], int(r[3])) for r in rows}

    def record_duplicates(self, payments: pd.DataFrame, import_id: int) -> None:
        """Keep the payments of a re-sent ERA (to report them as duplicates; they are not imported)."""
        if payments.empty:
            return
        cols = tables.TABLES["payments"].column_names
        rows = _records(payments[cols], "payments")
        for r in rows:
            r["import_id"] = import_id
        names = ", ".join(cols)
        values = ", ".join(f":{c}" for c in [*cols, "import_id"])
        self._db.executemany(f"INSERT INTO duplicate_payments ({names}, import_id) VALUES ({values})", rows)

    def remittances(self) -> dict[str, pd.DataFrame]:
        """Every imported remittance table; `payments` also holds the duplicates that were refused,
        so a reconciliation reports them."""
        out = {name: self.read_table(name) for name in tables.REMITTANCE_TABLES}
        duplicates = self.read_table("duplicate_payments")
        if len(duplicates):
            out["payments"] = pd.concat([out["payments"], duplicates], ignore_index=True)
        return out

    def file_imported(self, sha256: str) -> bool:
        return bool(self._db.execute("SELECT 1 FROM imports WHERE file_sha256 = :h", {"h": sha256}))

    def record_import(self, source_file: str, sha256: str, payments: int, duplicates: int, findings: int) -> int:
        return self._db.insert_id(
            "INSERT INTO imports (source_file, file_sha256, imported_at, payments, duplicates, findings) "
            "VALUES (:f, :h, :t, :p, :d, :n)",
            {"f": source_file, "h": sha256, "t": _now(), "p": payments, "d": duplicates, "n": findings},
        )

    # -- audit ------------------------------------------------------------------------------------
    def audit(self, action: str, actor: str = "xl-ar", **detail: object) -> None:
        """Record what was done. Details are counts, file names, dates: never patient identifiers."""
        bad = sorted(k for k in detail if k in IDENTIFIER_COLUMNS)
        if bad:
            raise ValueError(f"audit events must not carry patient identifiers ({', '.join(bad)})")
        self._db.execute(
            "INSERT INTO audit_events (at, actor, action, detail) VALUES (:at, :actor, :action, :detail)",
            {"at": _now(), "actor": actor, "action": action, "detail": json.dumps(detail, default=str, sort_keys=True)},
        )

    def audit_events(self) -> pd.DataFrame:
        rows = self._db.execute("SELECT event_id, at, actor, action, detail FROM audit_events ORDER BY event_id")
        return pd.DataFrame(rows, columns=["event_id", "at", "actor", "action", "detail"])

    # -- snapshots --------------------------------------------------------------------------------
    def save_snapshot(self, practice: str, as_of: dt.date, figures: dict[str, object]) -> None:
        """Keep the key figures of a report (aging, KPIs) so the trend grows run by run."""
        self._db.execute(
            "INSERT INTO snapshots (practice, as_of, taken_at, figures) VALUES (:p, :a, :t, :f)",
            {"p": practice, "a": as_of.isoformat(), "t": _now(), "f": json.dumps(figures, default=str, sort_keys=True)},
        )

    def snapshots(self, practice: str) -> pd.DataFrame:
        """The latest snapshot per as-of date, oldest first: as_of plus one column per figure."""
        rows = self._db.execute(
            "SELECT as_of, figures, snapshot_id FROM snapshots WHERE practice = :p ORDER BY as_of, snapshot_id",
            {"p": practice},
        )
        latest: dict[str, dict] = {}
        for as_of, figures, _ in rows:
            latest[as_of] = json.loads(figures)
        records = [{"as_of": dt.date.fromisoformat(a), **f} for a, f in latest.items()]
        return pd.DataFrame(records)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _records(frame: pd.DataFrame, name: str) -> list[dict]:
    """Rows as dicts of plain Python values for the database driver (cents, ISO dates, None)."""
    kinds = {c.name: c.kind for c in tables.TABLES[name].columns}
    columns: dict[str, list] = {}
    for col in frame.columns:
        s = frame[col]
        if kinds[col] == tables.Kind.DATE:
            s = s.dt.strftime("%Y-%m-%d")
        values = s.to_numpy(dtype=object, na_value=None)
        if kinds[col] in (tables.Kind.MONEY, tables.Kind.COUNT):
            values = [None if v is None else int(v) for v in values]
        elif kinds[col] == tables.Kind.NUMBER:
            values = [None if v is None or v != v else float(v) for v in values]
        columns[col] = list(values)
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]
