"""What persists between sessions: imported payments, audit events, aging snapshots.

Backends. The store talks to its database through `Backend`, a small protocol (a dialect name,
`execute`, `executemany`, a nesting `transaction`, `close`) with two implementations: an
embedded SQLite file, the default (created on first use, path configurable), and SQLAlchemy for a
team's server database given as a URL (`postgresql://user@host/db`, extra `xl-ar[team]`; a plain
`postgresql://` uses psycopg; the tests run the store suite on SQLite and on a private PostgreSQL server,
tests/pg_server.py). All SQL here is written once for both: SQLite 3.35 or
later (for `INSERT ... RETURNING`, checked on open) and PostgreSQL. New ids come back with
`RETURNING`, never from driver-specific last-row ids.

Tables use the canonical column names; money is stored as integer cents, dates as ISO text.

Frozen migrations. The schema is versioned (`meta.schema_version`) and migrated forward on open,
one transaction per step. Each released step is literal SQL (DDL and portable data statements),
never generated from the live table models: a field added to a model later must not change what
an old step does, or stores made before and after would differ. The only per-backend part is the
`{id}` placeholder (an auto-increment primary key). A test records a SHA-256 of every released
step; never edit one, add a new step instead.

Constraints. Idempotency is declared in the schema, not checked before inserting:
- `payments (payer_key, trace_key, amount)` is unique: the payment key of `xl_ar.keys`
  (payer_ref else payer_name else ""; trace_number else ""; cents), stored with each payment.
  The importer inserts each payment with `ON CONFLICT DO NOTHING RETURNING payment_id`; a payment
  the database refuses is a copy of one already stored: it goes to `duplicate_payments` (kept to
  report, never counted) and its claim rows are not written.
- `imports (file_sha256)` is unique: a file already imported is recognised by the insert of its
  import record, which then returns nothing.
- `payments (payment_id)` is unique (ids are per interchange and transaction).
- `duplicate_payments (import_id, payment_id)` is unique: a re-delivered copy is kept aside once.

Concurrency (several specialists on one server database). Every write that could race is an insert a
unique index decides, in the writer's transaction: the second writer of the same key waits for the
first and then finds it stored (counted as a duplicate, never an error). Payments, notes, appeals, statements,
placements and agency payments are offered in the order of their unique key, so two writers of overlapping rows
wait for each other instead of deadlocking. Changes that overwrite (an appeal's status, a claim's taker) are
optimistic: `UPDATE ... WHERE version = <the version read>`. On a team store the server's grants decide who may
write what (`xl_ar.roles`); a refusal becomes a `StoreError` naming the role that may.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from xl_ar import credentials, roles, settings, tables
from xl_ar.errors import StoreError, first_line
from xl_ar.keys import KEY_COLUMNS, payment_key_columns
from xl_ar.privacy import IDENTIFIER_COLUMNS, private_file

_ID = "{id}"  # replaced per dialect by an auto-increment primary key (`_AUTO_ID`)

_AUTO_ID = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgresql": "BIGSERIAL PRIMARY KEY"}
"""The dialects the store runs on, and how each writes an auto-increment primary key."""

_MIGRATION_LOCK = 0x786C_6172_0001
"""The PostgreSQL advisory lock a migration step holds (any fixed number; "xlar" and 1)."""

SQLITE_MINIMUM = (3, 35, 0)
"""`INSERT ... RETURNING` (3.35); `ON CONFLICT ... DO NOTHING` needs 3.24."""

MIGRATIONS: list[list[str]] = [
    # 1: imports with their remittance tables, audit trail, aging snapshots
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE imports (import_id {id}, source_file TEXT NOT NULL, file_sha256 TEXT NOT NULL, "
        "imported_at TEXT NOT NULL, payments BIGINT NOT NULL, duplicates BIGINT NOT NULL, findings BIGINT NOT NULL)",
        "CREATE TABLE payments (payment_id TEXT, payer_id TEXT, payer_name TEXT, payer_ref TEXT, payee_npi TEXT, "
        "method TEXT, amount BIGINT, payment_date TEXT, trace_number TEXT, source_file TEXT, "
        "import_id BIGINT NOT NULL)",
        "CREATE TABLE claim_payments (payment_id TEXT, claim_seq BIGINT, claim_id TEXT, status_code TEXT, "
        "charge BIGINT, paid BIGINT, patient_resp BIGINT, payer_claim_id TEXT, service_date TEXT, "
        "import_id BIGINT NOT NULL)",
        "CREATE TABLE line_payments (payment_id TEXT, claim_seq BIGINT, claim_id TEXT, line_seq BIGINT, "
        "procedure_code TEXT, modifiers TEXT, charge BIGINT, paid BIGINT, units DOUBLE PRECISION, line_control TEXT, "
        "service_date TEXT, allowed BIGINT, import_id BIGINT NOT NULL)",
        "CREATE TABLE adjustments (payment_id TEXT, claim_seq BIGINT, claim_id TEXT, line_seq BIGINT, "
        "group_code TEXT, reason_code TEXT, amount BIGINT, quantity DOUBLE PRECISION, import_id BIGINT NOT NULL)",
        "CREATE TABLE remarks (payment_id TEXT, claim_seq BIGINT, claim_id TEXT, line_seq BIGINT, code TEXT, "
        "import_id BIGINT NOT NULL)",
        "CREATE TABLE provider_adjustments (payment_id TEXT, provider_id TEXT, fiscal_date TEXT, reason_code TEXT, "
        "reference TEXT, amount BIGINT, import_id BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX payments_id ON payments (payment_id)",
        "CREATE INDEX payments_trace ON payments (trace_number)",
        "CREATE INDEX claim_payments_claim ON claim_payments (claim_id)",
        "CREATE TABLE audit_events (event_id {id}, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, "
        "detail TEXT NOT NULL)",
        "CREATE TABLE snapshots (snapshot_id {id}, practice TEXT NOT NULL, as_of TEXT NOT NULL, "
        "taken_at TEXT NOT NULL, figures TEXT NOT NULL)",
        "CREATE INDEX snapshots_as_of ON snapshots (practice, as_of)",
    ],
    # 2: payments a payer sent again in another file (kept to report, never counted)
    [
        "CREATE TABLE duplicate_payments (payment_id TEXT, payer_id TEXT, payer_name TEXT, payer_ref TEXT, "
        "payee_npi TEXT, method TEXT, amount BIGINT, payment_date TEXT, trace_number TEXT, source_file TEXT, "
        "import_id BIGINT NOT NULL)",
    ],
    # 3: a file is recorded once and a payment stored once, as unique constraints
    [
        # -- imports: later records of the same file (same SHA-256) merge into the first one --
        "CREATE TABLE imports_merged (import_id BIGINT PRIMARY KEY, kept_id BIGINT NOT NULL)",
        "INSERT INTO imports_merged (import_id, kept_id) "
        "SELECT i.import_id, (SELECT MIN(k.import_id) FROM imports k WHERE k.file_sha256 = i.file_sha256) "
        "FROM imports i WHERE EXISTS "
        "(SELECT 1 FROM imports k WHERE k.file_sha256 = i.file_sha256 AND k.import_id < i.import_id)",
        "UPDATE payments SET import_id = "
        "(SELECT m.kept_id FROM imports_merged m WHERE m.import_id = payments.import_id) "
        "WHERE import_id IN (SELECT import_id FROM imports_merged)",
        "UPDATE claim_payments SET import_id = "
        "(SELECT m.kept_id FROM imports_merged m WHERE m.import_id = claim_payments.import_id) "
        "WHERE import_id IN (SELECT import_id FROM imports_merged)",
        "UPDATE line_payments SET import_id = "
        "(SELECT m.kept_id FROM imports_merged m WHERE m.import_id = line_payments.import_id) "
        "WHERE import_id IN (SELECT import_id FROM imports_merged)",
        "UPDATE adjustments SET import_id = "
        "(SELECT m.kept_id FROM imports_merged m WHERE m.import_id = adjustments.import_id) "
        "WHERE import_id IN (SELECT import_id FROM imports_merged)",
        "UPDATE remarks SET import_id = "
        "(SELECT m.kept_id FROM imports_merged m WHERE m.import_id = remarks.import_id) "
        "WHERE import_id IN (SELECT import_id FROM imports_merged)",
        "UPDATE provider_adjustments SET import_id = "
        "(SELECT m.kept_id FROM imports_merged m WHERE m.import_id = provider_adjustments.import_id) "
        "WHERE import_id IN (SELECT import_id FROM imports_merged)",
        "UPDATE duplicate_payments SET import_id = "
        "(SELECT m.kept_id FROM imports_merged m WHERE m.import_id = duplicate_payments.import_id) "
        "WHERE import_id IN (SELECT import_id FROM imports_merged)",
        "UPDATE imports SET "
        "payments = payments + (SELECT COALESCE(SUM(r.payments), 0) FROM imports r "
        "JOIN imports_merged m ON m.import_id = r.import_id WHERE m.kept_id = imports.import_id), "
        "duplicates = duplicates + (SELECT COALESCE(SUM(r.duplicates), 0) FROM imports r "
        "JOIN imports_merged m ON m.import_id = r.import_id WHERE m.kept_id = imports.import_id) "
        "WHERE import_id IN (SELECT kept_id FROM imports_merged)",
        "DELETE FROM imports WHERE import_id IN (SELECT import_id FROM imports_merged)",
        "DROP TABLE imports_merged",
        "CREATE UNIQUE INDEX imports_file ON imports (file_sha256)",
        # -- payments: rebuilt with the payment key (xl_ar.keys) as NOT NULL columns --
        "CREATE TABLE payments_v3 (payment_id TEXT, payer_id TEXT, payer_name TEXT, payer_ref TEXT, "
        "payee_npi TEXT, method TEXT, amount BIGINT, payment_date TEXT, trace_number TEXT, source_file TEXT, "
        "import_id BIGINT NOT NULL, payer_key TEXT NOT NULL, trace_key TEXT NOT NULL)",
        "INSERT INTO payments_v3 (payment_id, payer_id, payer_name, payer_ref, payee_npi, method, amount, "
        "payment_date, trace_number, source_file, import_id, payer_key, trace_key) "
        "SELECT payment_id, payer_id, payer_name, payer_ref, payee_npi, method, amount, payment_date, "
        "trace_number, source_file, import_id, COALESCE(payer_ref, payer_name, ''), COALESCE(trace_number, '') "
        "FROM payments",
        # a payment repeating an earlier one (first by import_id, then payment_id) is a duplicate ...
        "CREATE TABLE payments_repeated (payment_id TEXT PRIMARY KEY, import_id BIGINT NOT NULL)",
        "INSERT INTO payments_repeated (payment_id, import_id) SELECT p.payment_id, p.import_id FROM payments_v3 p "
        "WHERE EXISTS (SELECT 1 FROM payments_v3 o WHERE o.payer_key = p.payer_key AND o.trace_key = p.trace_key "
        "AND o.amount = p.amount AND (o.import_id < p.import_id "
        "OR (o.import_id = p.import_id AND o.payment_id < p.payment_id)))",
        "INSERT INTO duplicate_payments (payment_id, payer_id, payer_name, payer_ref, payee_npi, method, amount, "
        "payment_date, trace_number, source_file, import_id) "
        "SELECT payment_id, payer_id, payer_name, payer_ref, payee_npi, method, amount, payment_date, "
        "trace_number, source_file, import_id FROM payments_v3 "
        "WHERE payment_id IN (SELECT payment_id FROM payments_repeated)",
        # ... whose rows were counted twice: they go
        "DELETE FROM claim_payments WHERE payment_id IN (SELECT payment_id FROM payments_repeated)",
        "DELETE FROM line_payments WHERE payment_id IN (SELECT payment_id FROM payments_repeated)",
        "DELETE FROM adjustments WHERE payment_id IN (SELECT payment_id FROM payments_repeated)",
        "DELETE FROM remarks WHERE payment_id IN (SELECT payment_id FROM payments_repeated)",
        "DELETE FROM provider_adjustments WHERE payment_id IN (SELECT payment_id FROM payments_repeated)",
        "DELETE FROM payments_v3 WHERE payment_id IN (SELECT payment_id FROM payments_repeated)",
        "UPDATE imports SET "
        "payments = payments - (SELECT COUNT(*) FROM payments_repeated r WHERE r.import_id = imports.import_id), "
        "duplicates = duplicates + (SELECT COUNT(*) FROM payments_repeated r WHERE r.import_id = imports.import_id) "
        "WHERE import_id IN (SELECT import_id FROM payments_repeated)",
        "DROP TABLE payments_repeated",
        "DROP TABLE payments",
        "ALTER TABLE payments_v3 RENAME TO payments",
        "CREATE UNIQUE INDEX payments_id ON payments (payment_id)",
        "CREATE INDEX payments_trace ON payments (trace_number)",
        "CREATE UNIQUE INDEX payments_key ON payments (payer_key, trace_key, amount)",
    ],
    # 4: a tamper-evident audit trail: each event's result, the hash of the event before it and its own hash
    [
        "ALTER TABLE audit_events ADD COLUMN result TEXT",
        "ALTER TABLE audit_events ADD COLUMN message TEXT",
        "ALTER TABLE audit_events ADD COLUMN prev_hash TEXT",
        "ALTER TABLE audit_events ADD COLUMN event_hash TEXT",
    ],
    # 5: follow-up notes (touches and ticklers), each stored once (`note_key`: the hash of its fields)
    [
        "CREATE TABLE notes (note_id {id}, claim_id TEXT NOT NULL, note_date TEXT NOT NULL, author TEXT NOT NULL, "
        "channel TEXT NOT NULL, payer_reference TEXT, outcome TEXT, next_followup TEXT, entered_at TEXT NOT NULL, "
        "note_key TEXT NOT NULL)",
        "CREATE UNIQUE INDEX notes_key ON notes (note_key)",
        "CREATE INDEX notes_claim ON notes (claim_id)",
    ],
    # 6: appeals, one per claim and level; `version` counts changes (optimistic locking)
    [
        "CREATE TABLE appeals (appeal_id {id}, claim_id TEXT NOT NULL, payer_id TEXT NOT NULL, level TEXT NOT NULL, "
        "status TEXT NOT NULL, category TEXT, denial_date TEXT, filed_date TEXT, deadline TEXT, method TEXT, "
        "amount_appealed BIGINT, recovered BIGINT, resolved_date TEXT, resolved_by TEXT, payment_id TEXT, "
        "opened_at TEXT NOT NULL, "
        "changed_at TEXT NOT NULL, changed_by TEXT NOT NULL, version BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX appeals_level ON appeals (claim_id, level)",
    ],
    # 7: patient statements and dunning notices sent, each notice once per account and date
    [
        "CREATE TABLE statements (statement_id {id}, account_id TEXT NOT NULL, statement_date TEXT NOT NULL, "
        "notice TEXT NOT NULL, amount_due BIGINT NOT NULL, due_date TEXT NOT NULL, batch TEXT, "
        "plan_installment BIGINT, written_at TEXT NOT NULL)",
        "CREATE UNIQUE INDEX statements_notice ON statements (account_id, statement_date, notice)",
    ],
    # 8: collections: accounts placed with an agency, and what the agency collected (each payment once)
    [
        "CREATE TABLE placements (placement_id {id}, account_id TEXT NOT NULL, placed_date TEXT NOT NULL, "
        "agency TEXT NOT NULL, amount BIGINT NOT NULL, batch TEXT, placed_at TEXT NOT NULL)",
        "CREATE UNIQUE INDEX placements_account ON placements (account_id, placed_date)",
        "CREATE TABLE agency_payments (agency_payment_id {id}, account_id TEXT NOT NULL, payment_date TEXT NOT NULL, "
        "amount BIGINT NOT NULL, fee BIGINT, reference TEXT, payment_key TEXT NOT NULL, imported_at TEXT NOT NULL)",
        "CREATE UNIQUE INDEX agency_payments_key ON agency_payments (payment_key)",
    ],
    # 9: a payment kept aside is kept once per import: two specialists reading the same re-delivered copy at once
    # recorded it twice (a read before the insert); exact repeats of a row collapse into one
    [
        "CREATE TABLE duplicate_payments_v9 (payment_id TEXT, payer_id TEXT, payer_name TEXT, payer_ref TEXT, "
        "payee_npi TEXT, method TEXT, amount BIGINT, payment_date TEXT, trace_number TEXT, source_file TEXT, "
        "import_id BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX duplicate_payments_once ON duplicate_payments_v9 (import_id, payment_id)",
        # `WHERE true`: SQLite's parser needs a WHERE before ON CONFLICT in an INSERT ... SELECT
        "INSERT INTO duplicate_payments_v9 (payment_id, payer_id, payer_name, payer_ref, payee_npi, method, amount, "
        "payment_date, trace_number, source_file, import_id) "
        "SELECT DISTINCT payment_id, payer_id, payer_name, payer_ref, payee_npi, method, amount, payment_date, "
        "trace_number, source_file, import_id FROM duplicate_payments WHERE true ON CONFLICT DO NOTHING",
        "DROP TABLE duplicate_payments",
        "ALTER TABLE duplicate_payments_v9 RENAME TO duplicate_payments",
    ],
    # 10: worklist claims a specialist took or handed over, `version` counting changes (optimistic locking); the
    # database user of each audit event, filled by the server on PostgreSQL (the login, which a client cannot choose)
    [
        "CREATE TABLE assignments (claim_id TEXT NOT NULL, assigned_to TEXT NOT NULL, assigned_at TEXT NOT NULL, "
        "assigned_by TEXT NOT NULL, version BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX assignments_claim ON assignments (claim_id)",
        "ALTER TABLE audit_events ADD COLUMN db_user TEXT",
        "postgresql: ALTER TABLE audit_events ALTER COLUMN db_user SET DEFAULT SESSION_USER",
    ],
]
"""Schema steps; step i brings the store from version i to i + 1. Literal SQL: never edit a
released step (tests/test_store.py records their SHA-256), add a new one."""

SCHEMA_VERSION = len(MIGRATIONS)

STORE_TABLES = ("meta", "imports", "payments", "claim_payments", "line_payments", "adjustments", "remarks",
                "provider_adjustments", "duplicate_payments", "audit_events", "snapshots", "notes", "appeals",
                "statements", "placements", "agency_payments", "assignments")
"""Every table of the current schema, in the order a copy fills them (a test checks it against a new store)."""

_ID_COLUMNS = {m.group(1): m.group(2) for step in MIGRATIONS for sql in step
               for m in [re.match(r"CREATE TABLE (\w+) \((\w+) \{id\}", sql)] if m}
"""The auto-increment id column of each table that has one (`{id}` in its CREATE TABLE)."""


@runtime_checkable
class Backend(Protocol):
    """What the store needs of a database: the SQL in this module runs through these five members.

    Parameters are named (`:name`) in a mapping. Outside `transaction()` every statement commits
    on its own; inside, nothing is committed until the outermost block ends, and an exception
    undoes the block (an inner block is a savepoint).
    """

    dialect: str
    """"sqlite" or "postgresql": picks the auto-increment primary key of the DDL."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """Run one statement; the rows it returns (none for most writes; `RETURNING` gives some)."""
        ...

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each row of parameters (bulk inserts)."""
        ...

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        """Append rows to a table with no unique key to decide on: the fastest bulk load the database has
        (PostgreSQL's COPY; executemany elsewhere). All rows or none."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All statements inside happen together or not at all."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def _require_sqlite(version: str, where: str) -> None:
    """Refuse an SQLite library too old for the store's SQL (`RETURNING`), with what to do."""
    found = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    if found < SQLITE_MINIMUM:
        need = ".".join(map(str, SQLITE_MINIMUM))
        raise StoreError(f"{where}: the store needs SQLite {need} or later (INSERT ... RETURNING); this Python "
                         f"has SQLite {version}. Use a Python built with a newer SQLite, or a database URL.")


class _SQLite:
    """The embedded SQLite file: one connection in autocommit mode, explicit transactions."""

    dialect = "sqlite"

    def __init__(self, path: Path):
        _require_sqlite(sqlite3.sqlite_version, str(path))
        private_file(path)  # owner-only from the start (SQLite gives its -wal and -shm files the same mode)
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._depth = 0

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        return self.conn.execute(sql, params or {}).fetchall()

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.conn.executemany(sql, rows)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        with self.transaction():
            self.executemany(_insert_sql(table, columns), rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # BEGIN IMMEDIATE takes the write lock at once, so two importers queue instead of deadlocking
        savepoint = f"xl_ar_{self._depth}"
        self.conn.execute(f"SAVEPOINT {savepoint}" if self._depth else "BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth:
                self.conn.execute(f"ROLLBACK TO {savepoint}")
                self.conn.execute(f"RELEASE {savepoint}")
            else:
                self.conn.execute("ROLLBACK")
            raise
        self._depth -= 1
        self.conn.execute(f"RELEASE {savepoint}" if self._depth else "COMMIT")

    def close(self) -> None:
        self.conn.close()


def _with_kept_password(url):
    """A database URL with the password the OS keyring keeps for it (`xl-ar credentials set`), if any; a URL
    holding a password is refused before this (`xl_ar.settings`)."""
    if url.password is not None or not url.username or url.get_backend_name() != "postgresql":
        return url
    kept = credentials.password(url.render_as_string(hide_password=True))
    return url.set(password=kept) if kept else url


class _SQLAlchemy:
    """A database given by a SQLAlchemy URL (PostgreSQL for a team; tested with `sqlite:///`)."""

    def __init__(self, url: str):
        try:
            import sqlalchemy
        except ImportError as e:
            raise StoreError("a database URL needs SQLAlchemy: pip install 'xl-ar[team]'") from e
        self.sa = sqlalchemy
        address = sqlalchemy.engine.make_url(url)
        if address.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2; the team extra has psycopg
            address = address.set(drivername="postgresql+psycopg")
        # hide_parameters: a failed statement's message (printed by the command line, logged) never shows the
        # values it was given, which are claim ids, notes and payments (SQLite's own messages hold none either)
        options = {"connect_timeout": 15} if address.get_backend_name() == "postgresql" and \
            "connect_timeout" not in address.query else {}  # a server that does not answer: said within 15 s
        self.engine = sqlalchemy.create_engine(_with_kept_password(address), connect_args=options,
                                               hide_parameters=True)
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            # Python's sqlite3 opens transactions only before DML, so DDL (a migration step) would
            # commit on its own: let SQLAlchemy's BEGIN be the only one (SQLAlchemy's own recipe)
            @sqlalchemy.event.listens_for(self.engine, "connect")
            def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.isolation_level = None

            @sqlalchemy.event.listens_for(self.engine, "begin")
            def _begin(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN")

        self.where = url.split("@")[-1]
        self.user = address.username or "(default)"
        try:
            self.conn = self.engine.connect()
        except sqlalchemy.exc.OperationalError as e:  # refused, unreachable, a wrong password: the server's words
            self.engine.dispose()
            said = _first_line(getattr(e, "orig", None) or e)
            raise StoreError(f"{self.where}: cannot connect to the store as {self.user}: {said}; check the address, "
                             "the network and the password (xl-ar credentials set, ~/.pgpass or PGPASSWORD)") from None
        self._depth = 0
        if self.dialect == "sqlite":
            version = self.engine.dialect.server_version_info or ()
            try:
                _require_sqlite(".".join(map(str, version)), url.split("@")[-1])
            except StoreError:
                self.close()
                raise

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        with self._statement():
            result = self.conn.execute(self.sa.text(sql), dict(params or {}))
            return [tuple(r) for r in result] if result.returns_rows else []

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            with self._statement():
                self.conn.execute(self.sa.text(sql), [dict(r) for r in rows])

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        with self.transaction():  # SQLAlchemy's transaction (or savepoint) around the driver's COPY
            if self.dialect != "postgresql":
                self.executemany(_insert_sql(table, columns), rows)
                return
            driver = self.conn.connection.driver_connection
            try:
                with driver.cursor() as cursor, \
                        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[c] for c in columns])
            except Exception as e:
                refused = self._refused(e)
                if refused is not None:
                    raise refused from None
                raise

    @contextmanager
    def _statement(self) -> Iterator[None]:
        """Outside a transaction a statement commits (or, failing, rolls back) on its own. A statement the
        server refuses for the user's role becomes a `StoreError` saying which role does it."""
        try:
            yield
        except BaseException as e:
            if not self._depth:
                self.conn.rollback()
            refused = self._refused(e)
            if refused is not None:
                raise refused from None
            raise
        if not self._depth:
            self.conn.commit()

    def _refused(self, error: BaseException) -> StoreError | None:
        """A `StoreError` for a statement the server refused for lack of privilege (SQLSTATE 42501: a grant or a
        row policy of `xl_ar.roles`), else None. The server's message names a table or column, never a value."""
        from xl_ar import roles

        cause = getattr(error, "orig", None) or error
        if getattr(cause, "sqlstate", None) != "42501":
            return None
        said = getattr(getattr(cause, "diag", None), "message_primary", None) or "permission denied"
        return StoreError(f"{self.where}: the database refused user {self.user}: {said}; {roles.needs(said)}; "
                          "nothing was changed")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        tx = self.conn.begin_nested() if self._depth else self.conn.begin()
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            tx.rollback()
            raise
        self._depth -= 1
        tx.commit()

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def _first_line(error: BaseException) -> str:
    """An error's first line (a database's DETAIL and HINT lines may name values)."""
    return first_line(error, 300, type(error).__name__)


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(f':{c}' for c in columns)})"


def _ddl(sql: str, dialect: str) -> str | None:
    """A migration statement for one dialect: the `{id}` placeholder differs, and a statement starting with a
    dialect's name and a colon (`postgresql: ...`) runs on that dialect only (None elsewhere)."""
    only, sep, rest = sql.partition(": ")
    if sep and only in _AUTO_ID:
        if only != dialect:
            return None
        sql = rest
    return sql.replace(_ID, _AUTO_ID[dialect])


class Store:
    """The persistent store. `Store.open()` for the default file, `Store.open(path_or_url)` otherwise."""

    def __init__(self, backend: Backend, location: str, setup_roles: bool = False):
        if backend.dialect not in _AUTO_ID:
            backend.close()
            raise StoreError(f"{location}: the store runs on {' and '.join(sorted(_AUTO_ID))}, "
                             f"not {backend.dialect}")
        self._db = backend
        self.location = location
        try:
            if setup_roles:
                self._setup_roles()
            self._migrate(granting=setup_roles)
        except BaseException:
            backend.close()
            raise

    @classmethod
    def open(cls, where: str | Path | None = None, setup_roles: bool = False) -> Store:
        """A SQLite file path (created on first use) or a SQLAlchemy database URL; by default the
        `store` setting (`xl_ar.settings`). `setup_roles` (a PostgreSQL store, opened by a superuser or the
        database's owner): make the roles of `xl_ar.roles`, give the tables to the admin role and grant the others."""
        if where is None:
            where = settings.resolve().store
        text = str(where)
        if "://" in text:
            return cls(_SQLAlchemy(text), text.split("@")[-1], setup_roles)
        if setup_roles:
            raise StoreError(f"{Path(text).name}: roles are a team store's (PostgreSQL); an SQLite file has none")
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
        except Exception:  # no meta table yet: a new, empty database
            return 0
        return int(rows[0][0]) if rows else 0

    def _migrate(self, granting: bool = False) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.location}: the store was written by a newer xl-ar (schema {version}, this one "
                             f"knows {SCHEMA_VERSION}); upgrade xl-ar")
        admin = True if granting else self._admin()  # setting roles up: a new store's tables are made by the admin
        if version < SCHEMA_VERSION and admin is False:
            raise StoreError(f"{self.location}: the store is at schema {version} and this xl-ar needs schema "
                             f"{SCHEMA_VERSION}; only the admin role migrates it: ask your admin to run "
                             "`xl-ar store migrate` (nothing was changed)")
        for step in range(version, SCHEMA_VERSION):
            with self._db.transaction():
                # one migrator at a time, and the version read again under the lock: several specialists opening
                # a new or older team store at once must not run a step twice (SQLite's BEGIN IMMEDIATE is the lock)
                if self._db.dialect == "postgresql":
                    self._db.execute("SELECT pg_advisory_xact_lock(:k)", {"k": _MIGRATION_LOCK})
                if admin:  # a store with roles: its tables stay the admin role's, whoever of its members migrates
                    self._db.execute(f"SET LOCAL ROLE {roles.ADMIN}")
                if self._version_now() > step:
                    continue
                for sql in MIGRATIONS[step]:
                    statement = _ddl(sql, self._db.dialect)
                    if statement is not None:
                        self._db.execute(statement)
                if step == 0:
                    self._db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', :v)", {"v": "1"})
                else:
                    self._db.execute("UPDATE meta SET value = :v WHERE key = 'schema_version'", {"v": str(step + 1)})
        if admin and (granting or version < SCHEMA_VERSION):  # a new step's tables granted as the others need
            with self._db.transaction():
                self._db.execute(f"SET LOCAL ROLE {roles.ADMIN}")
                schema = self._db.execute("SELECT current_schema()")[0][0]
                for sql in roles.grants_sql(schema):
                    self._db.execute(sql)

    def _admin(self) -> bool | None:
        """None when the store has no roles (SQLite, or PostgreSQL tables not owned by the admin role of
        `xl_ar.roles`); else whether the user is the admin role or one of its members (a superuser is)."""
        if self._db.dialect != "postgresql":
            return None
        rows = self._db.execute(
            "SELECT pg_has_role(:admin, 'MEMBER') FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename = 'meta' AND tableowner = :admin", {"admin": roles.ADMIN})
        return bool(rows[0][0]) if rows else None

    def _setup_roles(self) -> None:
        """Make the roles (when missing), let the admin role create tables in the store's schema and give it the
        tables already there; `_migrate` then migrates as the admin role and grants. Needs a superuser or the
        database's owner with CREATEROLE."""
        if self._db.dialect != "postgresql":
            raise StoreError(f"{self.location}: roles are a team store's (PostgreSQL), not {self._db.dialect}'s")
        with self._db.transaction():
            for sql in roles.setup_sql():
                self._db.execute(sql)
            if not self._db.execute("SELECT pg_has_role(:a, 'MEMBER')", {"a": roles.ADMIN})[0][0]:
                self._db.execute(f"GRANT {roles.ADMIN} TO CURRENT_USER")
            schema = self._db.execute("SELECT current_schema()")[0][0]
            quoted = roles.quoted(schema)
            self._db.execute(f"GRANT USAGE, CREATE ON SCHEMA {quoted} TO {roles.ADMIN}")
            owned = self._db.execute("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tableowner <> :a",
                                     {"s": schema, "a": roles.ADMIN})
            for (table,) in owned:
                if table in STORE_TABLES:
                    self._db.execute(f"ALTER TABLE {quoted}.{table} OWNER TO {roles.ADMIN}")

    def _version_now(self) -> int:
        """The schema version inside a transaction (on PostgreSQL a failed read would abort it: look first)."""
        if self._db.dialect == "postgresql" and not self._db.execute("SELECT to_regclass('meta') IS NOT NULL")[0][0]:
            return 0
        return self.schema_version

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all."""
        with self._db.transaction():
            yield

    # -- tables -----------------------------------------------------------------------------------
    def insert_table(self, name: str, frame: pd.DataFrame, import_id: int) -> None:
        """Append a canonical table's rows (money as cents, dates as ISO text) with one bulk insert
        (`Backend.insert_rows`: COPY on PostgreSQL).

        Payments get their key columns; a payment already in the store (same key) makes the
        database refuse the insert (the unique index): the importer uses `insert_payments` instead.
        """
        if frame.empty:
            return
        cols = tables.TABLES[name].column_names
        extra: dict[str, list] = {"import_id": [import_id] * len(frame)}
        if name == "payments":
            extra |= _key_values(frame)
        self._db.insert_rows(name, [*cols, *extra], _records(frame[cols], name, extra))

    def insert_payments(self, payments: pd.DataFrame, import_id: int) -> np.ndarray:
        """Store each payment unless the store holds the same payment already; returns the mask
        (aligned with `payments`) of those stored.

        The unique key (payer_key, trace_key, amount) decides, one `INSERT ... ON CONFLICT DO
        NOTHING RETURNING payment_id` per payment, in the caller's transaction: one that returns
        nothing repeats a stored payment, or an earlier one of the same frame, and is recorded in
        `duplicate_payments` instead (to report it; it is never counted).
        """
        if payments.empty:
            return np.zeros(0, dtype=bool)
        cols = tables.TABLES["payments"].column_names
        extra = {"import_id": [import_id] * len(payments), **_key_values(payments)}
        names = [*cols, *extra]
        sql = (f"INSERT INTO payments ({', '.join(names)}) VALUES ({', '.join(f':{c}' for c in names)}) "
               f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO NOTHING RETURNING payment_id")
        records = _records(payments[cols], "payments", extra)
        # in key order: two importers offering the same payments in different orders would each hold a key the
        # other waits for (a deadlock on a server database); in one order the second waits, then finds it stored
        order = sorted(range(len(records)), key=lambda i: tuple(str(records[i][k]) for k in KEY_COLUMNS))
        stored = np.zeros(len(records), dtype=bool)
        for i in order:
            stored[i] = bool(self._db.execute(sql, records[i]))
        repeats = payments[~stored]
        if len(repeats):
            dup_names = [*cols, "import_id"]
            self._db.executemany(
                f"INSERT INTO duplicate_payments ({', '.join(dup_names)}) VALUES "
                f"({', '.join(f':{c}' for c in dup_names)})",
                _records(repeats[cols], "payments", {"import_id": [import_id] * len(repeats)}))
        return stored

    def stored_payments(self, payments: pd.DataFrame) -> np.ndarray:
        """Mask (aligned with `payments`) of those whose key is in the store: a read for reports
        (what an already imported file holds); storing relies on the unique key, not on this."""
        if payments.empty:
            return np.zeros(0, dtype=bool)
        keys = payment_key_columns(payments)
        traces = sorted(set(keys.trace_key))
        marks = ", ".join(f":t{i}" for i in range(len(traces)))
        rows = self._db.execute(f"SELECT {', '.join(KEY_COLUMNS)} FROM payments WHERE trace_key IN ({marks})",
                                {f"t{i}": t for i, t in enumerate(traces)})
        found = pd.DataFrame(rows, columns=list(KEY_COLUMNS)).astype({"payer_key": str, "trace_key": str,
                                                                      "amount": "int64"})
        return keys.merge(found, on=list(KEY_COLUMNS), how="left", indicator=True)["_merge"].eq("both").to_numpy()

    def read_table(self, name: str, where: str = "", params: dict | None = None) -> pd.DataFrame:
        """A canonical table read back with its dtypes (`duplicate_payments` has the payments' columns)."""
        spec = "payments" if name == "duplicate_payments" else name
        cols = tables.TABLES[spec].column_names
        rows = self._db.execute(f"SELECT {', '.join(cols)} FROM {name} {where}", params)
        if not rows:
            return tables.empty(spec)
        data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
        for c in tables.TABLES[spec].columns:
            if c.kind == tables.Kind.CODE and any(isinstance(v, int) for v in data[c.name]):
                data[c.name] = [None if v is None else str(v) for v in data[c.name]]  # the store's own ids
            if c.kind == tables.Kind.DATE:
                data[c.name] = pd.to_datetime(pd.Series(data[c.name], dtype="object"), format="%Y-%m-%d")
        return tables.from_columns(spec, data)

    def count(self, name: str) -> int:
        return int(self._db.execute(f"SELECT COUNT(*) FROM {name}")[0][0])

    def columns(self, table: str) -> list[str]:
        """A table's columns as the database has them, in order."""
        if self._db.dialect == "sqlite":
            rows = self._db.execute("SELECT name FROM pragma_table_info(:t) ORDER BY cid", {"t": table})
        else:
            rows = self._db.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                    "current_schema() AND table_name = :t ORDER BY ordinal_position", {"t": table})
        return [str(r[0]) for r in rows]

    def copy_into(self, target: Store) -> dict[str, int]:
        """Copy every row of every table into `target`, a new store holding nothing yet (a single PC's SQLite file
        into the team's PostgreSQL, or back): ids, keys, hashes and the audit head as they are, so the audit trail
        verifies in the target and goes on from it; the target's ids continue after the copied ones. One
        transaction of the target: all rows or none. Returns the rows copied per table.

        Raises `StoreError`, copying nothing, when the target holds any row (other than its schema version)."""
        data_rows = {t: " WHERE key <> 'schema_version'" if t == "meta" else "" for t in STORE_TABLES}  # not the
        # schema version, which every store has and each keeps its own of
        busy = [t for t, where in data_rows.items() if target._db.execute(f"SELECT COUNT(*) FROM {t}{where}")[0][0]]
        if busy:
            raise StoreError(f"{target.location}: the store holds data already ({', '.join(busy)}): copy into a new, "
                             "empty store; nothing was copied")
        copied: dict[str, int] = {}
        with target.transaction():
            for table, where in data_rows.items():
                cols = self.columns(table)
                data = self._db.execute(f"SELECT {', '.join(cols)} FROM {table}{where}")
                target._db.insert_rows(table, cols, [dict(zip(cols, row, strict=True)) for row in data])
                copied[table] = len(data)
            if target._db.dialect == "postgresql":  # the next id after the copied ones (SQLite's AUTOINCREMENT does)
                for table, column in _ID_COLUMNS.items():
                    target._db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                                        f"COALESCE(MAX({column}), 0) + 1, false) FROM {table}")
        return copied

    # -- imports ----------------------------------------------------------------------------------
    def remittances(self) -> dict[str, pd.DataFrame]:
        """Every imported remittance table; `payments` also holds the duplicates that were refused,
        so a reconciliation reports them."""
        out = {name: self.read_table(name) for name in tables.REMITTANCE_TABLES}
        duplicates = self.read_table("duplicate_payments")
        if len(duplicates):
            out["payments"] = pd.concat([out["payments"], duplicates], ignore_index=True)
        return out

    def file_imported(self, sha256: str) -> bool:
        """Whether a file with this SHA-256 was imported (a read; `record_import` is the decision)."""
        return bool(self._db.execute("SELECT 1 FROM imports WHERE file_sha256 = :h", {"h": sha256}))

    def record_import(self, source_file: str, sha256: str, payments: int = 0, duplicates: int = 0,
                      findings: int = 0) -> int | None:
        """Record an imported file; its new import id, or None when a file with the same SHA-256 is
        recorded already (the unique constraint on `imports.file_sha256` decides)."""
        rows = self._db.execute(
            "INSERT INTO imports (source_file, file_sha256, imported_at, payments, duplicates, findings) "
            "VALUES (:f, :h, :t, :p, :d, :n) ON CONFLICT (file_sha256) DO NOTHING RETURNING import_id",
            {"f": source_file, "h": sha256, "t": _now(), "p": payments, "d": duplicates, "n": findings},
        )
        return int(rows[0][0]) if rows else None

    def import_of(self, sha256: str) -> tuple[int, str]:
        """The import id and file name of the file imported with this SHA-256 (it must exist)."""
        row = self._db.execute("SELECT import_id, source_file FROM imports WHERE file_sha256 = :h", {"h": sha256})[0]
        return int(row[0]), str(row[1])

    def record_copies(self, payments: pd.DataFrame, import_id: int) -> int:
        """Keep the payments of a file re-delivered byte for byte under another name in
        `duplicate_payments` (under the import of the file they copy), each once: the unique
        (import_id, payment_id) refuses a copy recorded already, also by another specialist at the
        same moment (never a read before the insert). Returns how many were recorded now."""
        if payments.empty:
            return 0
        cols = tables.TABLES["payments"].column_names
        names = [*cols, "import_id"]
        sql = (f"INSERT INTO duplicate_payments ({', '.join(names)}) VALUES ({', '.join(f':{c}' for c in names)}) "
               "ON CONFLICT (import_id, payment_id) DO NOTHING RETURNING 1")
        rows = sorted(_records(payments[cols], "payments", {"import_id": [import_id] * len(payments)}),
                      key=lambda r: str(r["payment_id"]))  # one lock order for every recorder
        with self._db.transaction():
            return sum(bool(self._db.execute(sql, row)) for row in rows)

    def count_import(self, import_id: int, payments: int, duplicates: int) -> None:
        """Set how many payments an import stored and how many it found stored already."""
        self._db.execute("UPDATE imports SET payments = :p, duplicates = :d WHERE import_id = :i",
                         {"p": payments, "d": duplicates, "i": import_id})

    # -- audit ------------------------------------------------------------------------------------
    def audit(self, action: str, actor: str | None = None, *, result: str = "ok", message: str = "",
              **detail: object) -> str:
        """Append an event to the audit trail: who (`actor`, the OS user by default), when (UTC), what
        (`action` and `detail`: counts, file names and SHA-256s, dates; never patient identifiers) and
        the result ("ok" or "error" with its message). Returns the event's hash.

        The trail is a hash chain (`xl_ar.audit`): each event stores the hash of the one before and its
        own hash over its fields; `meta.audit_head` keeps the number of chained events and the last hash,
        so a deleted last event is seen too. Written in one transaction with the head.
        """
        from xl_ar import audit as trail  # the chain's hashing (audit imports nothing from here at load)

        bad = sorted(k for k in detail if k in IDENTIFIER_COLUMNS)
        if bad:
            raise ValueError(f"audit events must not carry patient identifiers ({', '.join(bad)})")
        if result not in trail.RESULTS:
            raise ValueError(f"an audit result is one of {', '.join(trail.RESULTS)}, not {result!r}")
        fields = {"at": _now(), "actor": actor or trail.os_user(), "action": action,
                  "detail": json.dumps(detail, default=str, sort_keys=True), "result": result,
                  "message": message[: trail.MESSAGE_LIMIT]}
        with self._db.transaction():
            # the head row is written first: on a server database its row lock queues concurrent writers
            self._db.execute("INSERT INTO meta (key, value) VALUES ('audit_head', '0:') ON CONFLICT (key) DO NOTHING")
            self._db.execute("UPDATE meta SET value = value WHERE key = 'audit_head'")
            last = self._db.execute("SELECT event_hash FROM audit_events ORDER BY event_id DESC LIMIT 1")
            chained = int(self._db.execute("SELECT COUNT(*) FROM audit_events WHERE event_hash IS NOT NULL")[0][0])
            fields["prev_hash"] = (last[0][0] or "") if last else ""
            if self._db.dialect == "postgresql":  # the login; the column's default writes the same (step 10)
                fields[trail.DB_USER] = self._db.execute("SELECT SESSION_USER")[0][0]
            fields["event_hash"] = trail.event_hash(fields)
            self._db.execute(
                "INSERT INTO audit_events (at, actor, action, detail, result, message, prev_hash, event_hash) "
                "VALUES (:at, :actor, :action, :detail, :result, :message, :prev_hash, :event_hash)", fields)
            self._db.execute("UPDATE meta SET value = :v WHERE key = 'audit_head'",
                             {"v": f"{chained + 1}:{fields['event_hash']}"})
        return str(fields["event_hash"])

    def audit_events(self, since: dt.date | None = None) -> pd.DataFrame:
        """The audit trail in order (oldest first); from the UTC day `since` on when given."""
        columns = ["event_id", "at", "actor", "db_user", "action", "detail", "result", "message", "prev_hash",
                   "event_hash"]
        where, params = ("WHERE at >= :since", {"since": since.isoformat()}) if since else ("", {})
        rows = self._db.execute(f"SELECT {', '.join(columns)} FROM audit_events {where} ORDER BY event_id", params)
        return pd.DataFrame(rows, columns=columns)

    def audit_head(self) -> str | None:
        """What the store recorded as the end of the chain ("count:hash"), None when it recorded none."""
        rows = self._db.execute("SELECT value FROM meta WHERE key = 'audit_head'")
        return str(rows[0][0]) if rows else None

    # -- follow-up: rows a specialist adds, each stored once ----------------------------------------
    def add_new(self, name: str, frame: pd.DataFrame, extra: Mapping[str, Sequence] | None = None,
                columns: Sequence[str] | None = None, key: Sequence[str] = ()) -> np.ndarray:
        """Insert each row of a canonical table (`columns` of it, by default all) unless the store holds it
        already; returns the mask (aligned with `frame`) of the rows stored now.

        The table's unique index decides (`INSERT ... ON CONFLICT DO NOTHING RETURNING`), never a read before
        the insert, so two specialists adding the same row at once store it once. `extra` holds store-only
        columns (keys, timestamps) as plain Python values. Call it inside `transaction()` to add all or none.
        Rows go in the order of `key`, the columns of that unique index: two specialists adding overlapping rows
        in one transaction each then wait for each other instead of deadlocking (as payments do).
        """
        if frame.empty:
            return np.zeros(0, dtype=bool)
        returned = self._add_returning(name, frame, extra, columns, key, "1")
        return np.array([r is not None for r in returned], dtype=bool)

    def _add_returning(self, name: str, frame: pd.DataFrame, extra: Mapping[str, Sequence] | None,
                       columns: Sequence[str] | None, key: Sequence[str], returning: str) -> list[Any]:
        """`add_new`'s inserts, returning each row's `returning` column (None for a row held already)."""
        cols = list(columns or tables.TABLES[name].column_names)
        twice = sorted(set(cols) & set(extra or {}))
        if twice:
            raise ValueError(f"{name}: {', '.join(twice)} given both as a table column and as an extra column")
        names = [*cols, *(extra or {})]
        sql = (f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join(f':{c}' for c in names)}) "
               f"ON CONFLICT DO NOTHING RETURNING {returning}")
        return self._insert_in_key_order(sql, _records(frame[cols], name, extra), key)

    def _insert_in_key_order(self, sql: str, records: list[dict], key: Sequence[str]) -> list[Any]:
        """Run an `INSERT ... ON CONFLICT DO NOTHING RETURNING x` once per record, in one transaction, the records
        taken in the order of their `key` values (a unique index's columns): two writers of overlapping rows then
        queue on the first row they share instead of each holding a row the other waits for (a deadlock). Returns
        each record's `x` (None where the database held the row already), in the records' order."""
        order = sorted(range(len(records)), key=lambda i: tuple(str(records[i][k]) for k in key))
        returned: list[Any] = [None] * len(records)
        with self._db.transaction():
            for i in order:
                got = self._db.execute(sql, records[i])
                returned[i] = got[0][0] if got else None
        return returned

    # -- notes ------------------------------------------------------------------------------------
    def add_notes(self, frame: pd.DataFrame) -> tuple[int, int]:
        """Store the notes (a `notes` table, validated) in one transaction, each once: the unique `note_key`
        (`xl_ar.notes.note_keys`, the hash of its fields) refuses a note already stored, or repeated in `frame`.
        Returns (added now, already there)."""
        from xl_ar.notes import note_keys

        if frame.empty:
            return 0, 0
        now = _now()
        extra = {"entered_at": [now] * len(frame), "note_key": note_keys(frame).tolist()}
        with self._db.transaction():
            stored = self.add_new("notes", frame, extra, key=["note_key"])
        added = int(stored.sum())
        return added, len(frame) - added

    def notes(self, claim_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """The stored notes in entry order (all, or those of `claim_ids`): a `notes` table."""
        if claim_ids is None:
            return self.read_table("notes", "ORDER BY note_id")
        ids = sorted({str(c) for c in claim_ids})
        if not ids:
            return tables.empty("notes")
        marks = ", ".join(f":c{i}" for i in range(len(ids)))
        return self.read_table("notes", f"WHERE claim_id IN ({marks}) ORDER BY note_id",
                               {f"c{i}": c for i, c in enumerate(ids)})

    # -- appeals ----------------------------------------------------------------------------------
    _APPEAL_CHANGES = frozenset({"status", "category", "denial_date", "filed_date", "deadline", "method",
                                 "amount_appealed", "recovered", "resolved_date", "resolved_by"})

    def open_appeals(self, frame: pd.DataFrame, actor: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Store new appeals (canonical rows; `appeal_id` and `version` are the store's): `(opened, already_open)`,
        the opened rows with their new appeal ids and version 1, and those the store refused because the claim
        has an appeal at that level already (the unique (claim_id, level) decides, never a read first)."""
        from xl_ar.audit import os_user

        if frame.empty:
            return frame, frame
        now, who = _now(), actor or os_user()
        n = len(frame)
        cols = [c for c in tables.TABLES["appeals"].column_names if c not in ("appeal_id", "version")]
        ids = self._add_returning("appeals", frame, {"opened_at": [now] * n, "changed_at": [now] * n,
                                                     "changed_by": [who] * n, "version": [1] * n}, cols,
                                  ["claim_id", "level"], "appeal_id")
        stored = np.array([i is not None for i in ids], dtype=bool)
        opened = frame[stored]
        if len(opened):  # each new row's own id, as the insert returned it
            opened = opened.assign(appeal_id=[str(i) for i in ids if i is not None],
                                   version=pd.array([1] * len(opened), dtype="Int64"))
        return opened, frame[~stored]

    def appeals(self, open_only: bool = False) -> pd.DataFrame:
        """Every stored appeal (with its `version`), by appeal id; only drafted and filed ones with `open_only`."""
        where = "WHERE status IN ('drafted', 'filed') " if open_only else ""
        return self.read_table("appeals", where + "ORDER BY appeal_id")

    def change_appeal(self, appeal_id: str | int, expected_version: int, actor: str | None = None,
                      **changes: object) -> int:
        """Change an appeal read at `expected_version` (optimistic locking): one `UPDATE ... WHERE appeal_id AND
        version` that bumps the version and records when and by whom (the OS user). Returns the new version.

        When the appeal changed since it was read, nothing is written: `StoreError` says who changed it last and
        when, and to reload it. The status rules are the caller's (`xl_ar.appeals.transition`)."""
        from xl_ar.audit import os_user

        unknown = sorted(set(changes) - self._APPEAL_CHANGES)
        if unknown:
            raise ValueError(f"an appeal's {', '.join(unknown)} cannot be changed")
        params: dict[str, object] = {}
        for key, value in changes.items():
            if isinstance(value, (dt.date, pd.Timestamp)):
                value = value.strftime("%Y-%m-%d")
            elif isinstance(value, (np.integer, int)) and not isinstance(value, bool):
                value = int(value)
            params[f"c_{key}"] = None if value is None or value is pd.NaT else value
        sets = "".join(f"{key} = :c_{key}, " for key in changes)
        try:
            number = int(appeal_id)
        except (TypeError, ValueError):
            raise StoreError(f"no appeal numbered {appeal_id!r}") from None
        rows = self._db.execute(
            f"UPDATE appeals SET {sets}version = version + 1, changed_at = :at, changed_by = :by "
            "WHERE appeal_id = :id AND version = :v RETURNING version",
            {**params, "at": _now(), "by": actor or os_user(), "id": number, "v": int(expected_version)})
        if rows:
            return int(rows[0][0])
        last = self._db.execute("SELECT changed_by, changed_at, version FROM appeals WHERE appeal_id = :id",
                                {"id": number})
        if not last:
            raise StoreError(f"no appeal numbered {appeal_id}")
        who, when, version = last[0]
        raise StoreError(f"appeal {appeal_id} was changed by {who} at {when} (version {version}; you read version "
                         f"{expected_version}); nothing was written: reload the appeals and try again")

    # -- worklist assignment: who took a claim (optimistic locking) -----------------------------------
    def assignments(self) -> pd.DataFrame:
        """Every claim a specialist took or was handed (`claim_id`, `assigned_to`, `assigned_at`, `assigned_by`,
        `version`), by claim id."""
        columns = ["claim_id", "assigned_to", "assigned_at", "assigned_by", "version"]
        rows = self._db.execute(f"SELECT {', '.join(columns)} FROM assignments ORDER BY claim_id")
        return pd.DataFrame(rows, columns=columns).astype({"version": "int64"})

    def assign(self, claim_id: str, to: str, expected_version: int, actor: str | None = None) -> int:
        """Give a worklist claim to `to`, as read at `expected_version` (0: nobody had taken it). One statement
        decides: an insert the unique claim id refuses when someone took the claim meanwhile, or an `UPDATE ...
        WHERE version` that matches nothing when someone changed it. Returns the new version.

        When the claim changed since it was read, nothing is written: `StoreError` says to whom and by whom it
        was given, when, and to reload the worklist (the claim id is not in the message)."""
        from xl_ar.audit import os_user

        params = {"c": str(claim_id), "to": str(to), "at": _now(), "by": actor or os_user(),
                  "v": int(expected_version)}
        if params["v"] == 0:
            rows = self._db.execute(
                "INSERT INTO assignments (claim_id, assigned_to, assigned_at, assigned_by, version) "
                "VALUES (:c, :to, :at, :by, 1) ON CONFLICT DO NOTHING RETURNING version", params)
        else:
            rows = self._db.execute(
                "UPDATE assignments SET assigned_to = :to, assigned_at = :at, assigned_by = :by, "
                "version = version + 1 WHERE claim_id = :c AND version = :v RETURNING version", params)
        if rows:
            return int(rows[0][0])
        last = self._db.execute("SELECT assigned_to, assigned_by, assigned_at, version FROM assignments "
                                "WHERE claim_id = :c", {"c": params["c"]})
        if not last:
            raise StoreError(f"the claim is not taken by anyone (you read version {expected_version}); nothing was "
                             "written: reload the worklist and try again")
        to_now, by, when, version = last[0]
        raise StoreError(f"the claim was given to {to_now} by {by} at {when} (version {version}; you read version "
                         f"{expected_version}); nothing was written: reload the worklist and try again")

    def adjudications(self, claim_ids: Sequence[str]) -> pd.DataFrame:
        """The stored claim loops (`claim_payments`) of these claims, with their payment's `payment_date`."""
        loops = self._read_in("claim_payments", "claim_id", list(claim_ids))
        payments = self._read_in("payments", "payment_id", sorted(set(loops.payment_id)))
        dates = payments.drop_duplicates("payment_id").set_index("payment_id").payment_date
        return loops.assign(payment_date=dates.reindex(loops.payment_id.to_numpy()).to_numpy(
            dtype=tables.DATE_DTYPE))

    def _read_in(self, name: str, column: str, values: list[str], chunk: int = 500) -> pd.DataFrame:
        """The rows of a canonical table whose `column` is one of `values` (read in chunks of parameters)."""
        parts = []
        for start in range(0, len(values), chunk):
            part = values[start:start + chunk]
            marks = ", ".join(f":v{i}" for i in range(len(part)))
            parts.append(self.read_table(name, f"WHERE {column} IN ({marks})",
                                         {f"v{i}": v for i, v in enumerate(part)}))
        return pd.concat(parts, ignore_index=True) if parts else tables.empty(name)

    # -- statements -------------------------------------------------------------------------------
    def record_statements(self, frame: pd.DataFrame, batch: str) -> pd.Series:
        """Store the statements of a run (`statements` rows, their `statement_id` ignored); returns each row's new
        store number as text (aligned with `frame`), NA where the store holds that notice already (the unique
        (account_id, statement_date, notice): each notice is recorded once). Call it inside `transaction()`
        with the writing of the files, so nothing is recorded unless every file was written."""
        if frame.empty:
            return pd.Series([], dtype="str")
        cols = [c for c in tables.TABLES["statements"].column_names if c not in ("statement_id", "batch")]
        extra = {"batch": [batch] * len(frame), "written_at": [_now()] * len(frame)}
        got = self._add_returning("statements", frame, extra, cols, ["account_id", "statement_date", "notice"],
                                  "statement_id")
        return pd.Series([None if i is None else str(i) for i in got], index=frame.index, dtype="str")

    def statements(self) -> pd.DataFrame:
        """Every statement and notice sent (the dunning history), oldest first."""
        return self.read_table("statements", "ORDER BY statement_date, statement_id")

    # -- collections ------------------------------------------------------------------------------
    def record_placements(self, frame: pd.DataFrame, batch: str) -> pd.Series:
        """Store the placements (`placements` rows, their balance written off as bad debt), each account once
        per date (the unique index); returns the placement ids, aligned with `frame`, empty (NA) for a row
        the store held already. Call it inside `transaction()` with the writing of the placement file."""
        extra = {"batch": [batch] * len(frame), "placed_at": [_now()] * len(frame)}
        got = self._add_returning("placements", frame, extra, ["account_id", "placed_date", "agency", "amount"],
                                  ["account_id", "placed_date"], "placement_id")
        return pd.Series(pd.array([None if i is None else str(i) for i in got], dtype="str"), index=frame.index)

    def placements(self) -> pd.DataFrame:
        """Every account placed with an agency (canonical `placements`)."""
        return self.read_table("placements", "ORDER BY placement_id")

    def add_agency_payments(self, frame: pd.DataFrame) -> tuple[int, int]:
        """Store the agency's payments, each once (its key: account, date, amount, reference): all or none.
        Returns (added now, held already)."""
        from xl_ar.collections import payment_keys

        if frame.empty:
            return 0, 0
        with self.transaction():
            added = self.add_new("agency_payments", frame, {"payment_key": payment_keys(frame),
                                                             "imported_at": [_now()] * len(frame)},
                                 key=["payment_key"])
        return int(added.sum()), int((~added).sum())

    def agency_payments(self) -> pd.DataFrame:
        """Every payment collection agencies collected (canonical `agency_payments`)."""
        return self.read_table("agency_payments", "ORDER BY agency_payment_id")

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


def _key_values(payments: pd.DataFrame) -> dict[str, list]:
    """The stored key columns of payments (`payer_key`, `trace_key`), as plain Python values."""
    keys = payment_key_columns(payments)
    return {"payer_key": keys.payer_key.tolist(), "trace_key": keys.trace_key.tolist()}


def _records(frame: pd.DataFrame, name: str, extra: Mapping[str, Sequence] | None = None) -> list[dict]:
    """Rows as dicts of plain Python values for the database driver (cents, ISO dates, None), with
    `extra` columns of values already plain (the import id, the payment key)."""
    kinds = {c.name: c.kind for c in tables.TABLES[name].columns}
    columns: dict[str, Sequence] = {}
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
    columns |= dict(extra or {})
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]
