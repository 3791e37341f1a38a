"""A team store under concurrency: eight specialists importing overlapping ERA drops into one PostgreSQL store at
the same moment get one copy of each payment and reports that add up (issue 16's acceptance test)."""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from pathlib import Path

import pytest

from xl_ar import remittances
from xl_ar.keys import payment_key_columns
from xl_ar.sources import SourceFile
from xl_ar.store import Store

WORKERS = 8


def era_drops(folder: Path) -> list[SourceFile]:
    """The synthetic practice's ERA files, and clearinghouse bundles re-sending some of them: each bundle is a
    dozen of the files' interchanges in one file, in a shuffled order (other bytes, the same payments)."""
    singles = [SourceFile(p.name, p.read_bytes()) for p in sorted(folder.glob("*.835"))]
    rng = random.Random(16)
    bundles = []
    for n in range(12):
        picked = rng.sample(singles, 12)
        bundles.append(SourceFile(f"bundle_{n:02d}.835", b"".join(f.data for f in picked)))
    return singles + bundles


def share(files: list[SourceFile], worker: int) -> list[SourceFile]:
    """A worker's drop: about two thirds of the files (each file is in most workers' drops), in its own order."""
    mine = [f for i, f in enumerate(files) if (i + worker) % 3 != 0]
    random.Random(worker).shuffle(mine)
    return mine


def import_drop(url: str, files: list[SourceFile], start) -> list[tuple[str, str, int, int]]:
    """One specialist (a spawned process): waits for the others, imports its drop, returns each file's result
    (name, status, new payments, duplicate payments)."""
    start.wait(timeout=120)
    with Store.open(url) as store:
        report = remittances.import_files(files, store)
    return [(f.name, f.status, f.payments, len(f.duplicates)) for f in report.files]


@pytest.fixture(scope="module")
def drops(tmp_path_factory) -> list[SourceFile]:
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("practice_400")
    generate(folder, claims=400, months=4, seed=3)
    return era_drops(folder / "era")


@pytest.fixture(scope="module")
def concurrent_import(drops, pg_server):
    """Eight processes import their overlapping drops into one new PostgreSQL store at the same time."""
    url = pg_server.url(pg_server.create_database())
    Store.open(url).close()  # the schema first: creating it is the admin's, not eight specialists' race
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(WORKERS)
    with context.Pool(WORKERS) as pool:
        pending = [pool.apply_async(import_drop, (url, share(drops, w), start)) for w in range(WORKERS)]
        results = [p.get(timeout=600) for p in pending]
    return url, results


@pytest.fixture(scope="module")
def union_once(drops, tmp_path_factory):
    """The reference: every distinct file imported once, by one process, into SQLite."""
    with Store.open(tmp_path_factory.mktemp("union") / "s.sqlite") as store:
        remittances.import_files(drops, store)
        return {name: store.read_table(name) for name in ("payments", "claim_payments", "line_payments",
                                                           "adjustments", "duplicate_payments")}


def by_key(tables: dict, name: str) -> Counter:
    """A table's rows with the payment id replaced by its payment's key (payer, trace, amount): which copy of a
    re-sent payment is stored first (the single file or a bundle, another id) depends on who ran first."""
    keys = payment_key_columns(tables["payments"])
    key_of = dict(zip(tables["payments"].payment_id, map(tuple, keys.to_numpy()), strict=True))
    frame = tables[name]
    rows = frame.drop(columns="payment_id").astype(str).to_numpy()
    return Counter((key_of[p], *row) for p, row in zip(frame.payment_id, map(tuple, rows), strict=True))


def payments_in(file: SourceFile) -> int:
    return len(remittances.read_file(file).tables["payments"])


@pytest.mark.slow
def test_eight_concurrent_importers_store_exactly_the_unique_payments(concurrent_import, union_once):
    url, _ = concurrent_import
    with Store.open(url) as store:
        stored = store.read_table("payments")
    keys = payment_key_columns(stored).apply(tuple, axis=1)
    assert Counter(keys) == Counter(payment_key_columns(union_once["payments"]).apply(tuple, axis=1))
    assert not keys.duplicated().any()


@pytest.mark.slow
def test_every_claim_line_and_adjustment_row_is_stored_once(concurrent_import, union_once):
    url, _ = concurrent_import
    with Store.open(url) as store:
        stored = {name: store.read_table(name) for name in ("payments", "claim_payments", "line_payments",
                                                             "adjustments")}
    for name in ("claim_payments", "line_payments", "adjustments"):
        assert len(stored[name]) == len(union_once[name]), name
        assert by_key(stored, name) == by_key(union_once, name), name


RECORDED = {"imported", "duplicate", "empty"}
"""The statuses of a file whose import record a worker made (the others: already imported, re-delivered copy)."""


def first_names(drops: list[SourceFile]) -> dict[bytes, str]:
    """Each distinct content's first name (by name): a file with the same bytes under a later name is a copy."""
    first: dict[bytes, str] = {}
    for f in sorted(drops, key=lambda f: f.name):
        first.setdefault(f.data, f.name)
    return first


@pytest.mark.slow
def test_each_file_is_recorded_by_exactly_one_worker(concurrent_import, drops):
    url, results = concurrent_import
    recorded = Counter(name for result in results for name, status, _, _ in result if status in RECORDED)
    # each distinct content was read by 5 or 6 of the 8 workers; one recorded it, the others were told it was
    contents = first_names(drops)
    assert len(recorded) == len(contents) and set(recorded.values()) == {1}
    with Store.open(url) as store:
        assert store.count("imports") == len(contents)


@pytest.mark.slow
def test_the_workers_reports_add_up(concurrent_import, drops):
    url, results = concurrent_import
    in_file = {f.name: payments_in(f) for f in drops}
    read = [(name, status, new, dup) for result in results for name, status, new, dup in result]
    # every file a worker read is reported once for it, and its payments are new or duplicates: new + dup = read
    assert len(read) == sum(len(share(drops, w)) for w in range(WORKERS))
    assert all(new + dup == in_file[name] for name, _, new, dup in read)
    copies = {f.name for f in drops if first_names(drops)[f.data] != f.name}
    with Store.open(url) as store:
        # the new payments reported are the stored ones; duplicates are kept aside once: those found by the
        # worker that recorded a file, and each re-delivered copy's payments once however many workers read it
        assert sum(new for _, status, new, _ in read if status in RECORDED) == store.count("payments")
        kept_aside = sum(dup for _, status, _, dup in read if status in RECORDED) + sum(in_file[c] for c in copies)
        assert store.count("duplicate_payments") == kept_aside
        assert all(new == 0 for _, status, new, _ in read if status not in RECORDED)


@pytest.mark.slow
def test_the_audit_chain_holds_one_import_event_per_worker(concurrent_import):
    from xl_ar import audit

    url, _ = concurrent_import
    with Store.open(url) as store:
        check = audit.verify(store)
        events = store.audit_events()
    assert check.ok, check.text()
    assert events.action.tolist() == ["import"] * WORKERS


def test_a_re_delivered_copy_two_specialists_record_at_once_is_kept_once(pg_url):
    import threading

    from tests.test_store import payments_frame

    copy = payments_frame().assign(payment_id="P1~0badc0de", source_file="copy of a.835")
    with Store.open(pg_url) as first, Store.open(pg_url) as second:
        import_id = first.record_import("a.835", "abc")
        counted: list[int] = []
        with first.transaction():
            assert first.record_copies(copy, import_id) == 1  # not committed yet ...
            other = threading.Thread(target=lambda: counted.append(second.record_copies(copy, import_id)))
            other.start()
            other.join(timeout=1.5)  # ... so the second specialist waits on the unique index (a read saw nothing)
            waited = other.is_alive()
        other.join(timeout=30)
        assert waited and counted == [0]
        assert first.count("duplicate_payments") == 1


def test_specialists_opening_a_new_team_store_at_once_migrate_it_once(pg_url):
    import threading

    from xl_ar import store as store_mod

    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def open_store() -> None:
        start.wait(timeout=30)
        try:
            Store.open(pg_url).close()
        except BaseException as e:  # the step run twice: "relation meta already exists"
            failures.append(e)

    workers = [threading.Thread(target=open_store) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert failures == []
    with Store.open(pg_url) as s:
        assert s.schema_version == store_mod.SCHEMA_VERSION
        assert s._db.execute("SELECT COUNT(*) FROM meta WHERE key = 'schema_version'") == [(1,)]
