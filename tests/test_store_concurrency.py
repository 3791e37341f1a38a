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


# -- notes and appeals: several specialists at once ----------------------------------------------------

def add_notes_at_once(url: str, picks: list[int], start) -> tuple[int, int]:
    """One specialist (a spawned process) storing some of a shared Notes sheet's rows, in its own order."""
    from xl_ar import tables

    every = [(f"C{n % 40:03d}", f"2026-09-{1 + n % 28:02d}", f"note {n}") for n in range(120)]
    chosen = [every[i] for i in picks]
    frame = tables.from_columns("notes", {
        "claim_id": [c for c, _, _ in chosen], "note_date": [d for _, d, _ in chosen], "author": ["ana"] * len(chosen),
        "channel": ["call"] * len(chosen), "outcome": [o for _, _, o in chosen]})
    start.wait(timeout=120)
    with Store.open(url) as store:
        return store.add_notes(frame)


def test_specialists_storing_overlapping_notes_at_once_store_each_once_and_their_counts_add_up(pg_url):
    # 6 processes, each ~2/3 of 120 notes in a shuffled order: 120 stored; each process's added + already = its
    # rows; the added ones of all processes sum to 120
    Store.open(pg_url).close()
    picks = []
    for w in range(6):
        mine = [i for i in range(120) if (i + w) % 3 != 0]
        random.Random(w).shuffle(mine)
        picks.append(mine)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(6)
    with context.Pool(6) as pool:
        results = [r.get(timeout=300) for r in [pool.apply_async(add_notes_at_once, (pg_url, p, start))
                                                 for p in picks]]
    with Store.open(pg_url) as s:
        assert s.count("notes") == 120
    assert [added + already for added, already in results] == [len(p) for p in picks]
    assert sum(added for added, _ in results) == 120


def file_appeal_at(url: str, version: int, start) -> str:
    """One specialist (a spawned process) filing appeal 1 from the version they read."""
    from xl_ar.errors import StoreError

    start.wait(timeout=120)
    with Store.open(url) as store:
        try:
            return f"version {store.change_appeal(1, version, status='filed', filed_date='2026-09-10')}"
        except StoreError as e:
            return str(e)


def test_specialists_changing_the_same_appeal_at_once_one_wins_the_others_are_told(pg_url):
    from xl_ar import tables

    with Store.open(pg_url) as s:
        s.open_appeals(tables.from_columns("appeals", {
            "appeal_id": [""], "claim_id": ["C1"], "payer_id": ["ACME"], "level": ["1"], "status": ["drafted"]}))
        version = int(s.appeals()["version"].iloc[0])
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(4)
    with context.Pool(4) as pool:
        said = [r.get(timeout=300) for r in [pool.apply_async(file_appeal_at, (pg_url, version, start))
                                              for _ in range(4)]]
    # exactly one change lands (version + 1); the three others read the same version and are refused
    assert said.count(f"version {version + 1}") == 1
    assert sum("nothing was written" in m for m in said) == 3
    with Store.open(pg_url) as s:
        assert int(s.appeals()["version"].iloc[0]) == version + 1


def test_two_specialists_adding_the_same_notes_in_opposite_orders_wait_instead_of_deadlocking(pg_url):
    # ana's transaction holds note 1 and is about to add note 2; ben adds [note 2, note 1] meanwhile. In the order
    # given, ben would hold note 2 and wait for note 1 while ana waits for note 2: a deadlock (PostgreSQL aborts
    # one). In key order both start with the same note, so ben waits for ana and then finds both stored.
    import threading

    from xl_ar import notes, tables

    def sheet(*texts: str):
        return tables.from_columns("notes", {
            "claim_id": ["C1"] * len(texts), "note_date": [pd_date("2026-09-01")] * len(texts),
            "author": ["ana"] * len(texts), "channel": ["call"] * len(texts), "outcome": list(texts)})

    both = sheet("first", "second")
    first_key = notes.note_keys(both).min()  # the note key order decides which note is "1"
    one, two = (both.iloc[[0]], both.iloc[[1]]) if notes.note_keys(both).iloc[0] == first_key else \
        (both.iloc[[1]], both.iloc[[0]])
    with Store.open(pg_url) as ana, Store.open(pg_url) as ben:
        results: list[object] = []
        with ana.transaction():
            assert ana.add_notes(one) == (1, 0)
            other = threading.Thread(target=lambda: results.append(_or_error(lambda: ben.add_notes(
                tables.from_columns("notes", {c: [*two[c], *one[c]] for c in ("claim_id", "note_date", "author",
                                                                                "channel", "outcome")})))))
            other.start()
            other.join(timeout=1.5)  # ben waits on note 1, holding nothing
            assert ana.add_notes(two) == (1, 0)
        other.join(timeout=30)
        assert results == [(0, 2)]
        assert ana.count("notes") == 2


def pd_date(text: str):
    import pandas as pd

    return pd.Timestamp(text)


def _or_error(call):
    try:
        return call()
    except Exception as e:  # a deadlock would surface here
        return e
