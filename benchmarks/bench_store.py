"""The team store against the embedded one: a synthetic practice's ERAs imported into PostgreSQL and into SQLite
(`remittances.import_files`, the same files, a new store each run), and the remittance tables read back for a
reconcile (`Store.remittances`), and the SQLite store copied into PostgreSQL (`Store.copy_into`). The target of
issue 16: PostgreSQL within 2x of SQLite (ratio 0.5x or better).

The server is the one `XL_AR_BENCH_POSTGRESQL` names (a URL without a password; the password from PGPASSFILE,
the environment or the keyring), else a private server started as the tests start theirs (tests/pg_server.py:
Debian's postgresql, an unprivileged user, a temporary folder). 10,000 claims by default, 50,000 with --full;
the median of three runs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks._table import Row, median_seconds
from xl_ar import remittances
from xl_ar.sources import SourceFile
from xl_ar.store import Store


def _server():
    """(URL maker, stop): the named server, or a private one."""
    named = os.environ.get("XL_AR_BENCH_POSTGRESQL")
    if named:
        import sqlalchemy

        base = sqlalchemy.engine.make_url(named)
        count = [0]

        def fresh() -> str:
            count[0] += 1
            name = f"xlar_bench_{os.getpid()}_{count[0]}"
            engine = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            engine.dispose()
            return base.set(database=name).render_as_string(hide_password=True)

        return fresh, lambda: None
    from tests import pg_server

    server = pg_server.start()
    os.environ["PGPASSFILE"] = str(server.passfile)
    return (lambda: server.url(server.create_database())), lambda: pg_server.stop(server)


def run(full: bool = False) -> list[Row]:
    from xl_ar.synth import generate

    claims = 50_000 if full else 10_000
    fresh_url, stop = _server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "practice"
            generate(folder, claims=claims, months=12, seed=7)
            files = [SourceFile(p.name, p.read_bytes()) for p in sorted((folder / "era").glob("*.835"))]
            count = [0]
            last: dict[str, str] = {}

            def sqlite_store() -> str:
                count[0] += 1
                return str(Path(tmp) / f"s{count[0]}.sqlite")

            def import_into(kind: str, where: str) -> None:
                with Store.open(where) as store:
                    remittances.import_files(files, store)
                last[kind] = where

            def read_back(kind: str) -> None:
                with Store.open(last[kind]) as store:
                    store.remittances()

            lite = median_seconds(lambda: import_into("sqlite", sqlite_store()))
            pg = median_seconds(lambda: import_into("postgresql", fresh_url()))
            lite_read = median_seconds(lambda: read_back("sqlite"))
            pg_read = median_seconds(lambda: read_back("postgresql"))

            def copy_to_team() -> None:  # `xl-ar store copy`: the single PC's store into a new team database
                with Store.open(last["sqlite"]) as source, Store.open(fresh_url()) as target:
                    source.copy_into(target)

            moved = median_seconds(copy_to_team)
    finally:
        stop()
    return [
        Row(f"import the ERAs of {claims:,} claims ({len(files):,} files) into PostgreSQL", pg, lite, "s",
            "the same import into SQLite (target: within 2x, ratio 0.5x or better)"),
        Row("read the remittance tables back for a reconcile, PostgreSQL", pg_read, lite_read, "s",
            "the same read from SQLite (target: within 2x, ratio 0.5x or better)"),
        Row("copy that SQLite store into a new PostgreSQL store (xl-ar store copy)", moved, pg, "s",
            "importing the same ERAs into PostgreSQL"),
    ]
