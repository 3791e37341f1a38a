"""`xl-ar appeals` and the import that closes appeals (issue 15, part 2), on a tiny hand-built practice: two
claims denied on 2026-09-01, appealed, then a follow-up ERA imported with `xl-ar import`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.era_builder import Claim, era, practice_with_eras
from xl_ar.cli import main
from xl_ar.store import Store

PAYERS = """payer_id,name,payer_class,timely_filing_days,appeal_days,payer_ref
ACME,Acme Health,commercial,180,90,ACME01
"""
CLAIMS = """claim_id,account_id,payer_id,service_date,billed_date,charge,paid,adjusted,balance
C1,A1,ACME,2026-08-01,2026-08-03,200.00,0,0,200.00
C2,A2,ACME,2026-08-02,2026-08-04,120.00,0,0,120.00
C3,A3,ACME,2026-08-02,2026-08-04,100.00,100.00,0,0
"""
DENIAL = era("T1", "100", [Claim("C1", "4", "200", "0", cas=[("CO", "197", "200")], payer_claim_id="PCN1"),
                           Claim("C2", "4", "120", "0", cas=[("CO", "197", "120")], payer_claim_id="PCN2"),
                           Claim("C3", "1", "100", "100", payer_claim_id="PCN3")], date="20260901")
FOLLOW_UP = era("T2", "200", [Claim("C1", "1", "200", "200", payer_claim_id="PCN1"),
                              Claim("C2", "4", "120", "0", cas=[("CO", "197", "120")], payer_claim_id="PCN2")],
                date="20261001", control=2)


@pytest.fixture
def practice(tmp_path: Path) -> Path:
    return practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"denial.835": DENIAL})


def run(*argv: str) -> int:
    return main(list(argv))


def opened(practice: Path, store: Path | str, claim: str, *extra: str) -> int:
    return run("appeals", "open", claim, "--practice", str(practice), "--store", str(store), *extra)


def shown(store: Path | str, capsys) -> list[dict]:
    capsys.readouterr()
    assert run("appeals", "show", "--json", "--store", str(store)) == 0
    return json.loads(capsys.readouterr().out)


def test_a_follow_up_era_imported_closes_the_filed_appeals_with_their_outcome(practice, store_at, tmp_path, capsys):
    store = store_at  # a SQLite file, then a PostgreSQL database
    assert run("import", str(practice / "era" / "denial.835"), "--store", str(store), "--quiet") == 0
    assert opened(practice, store, "C1", "--filed", "2026-09-10", "--method", "portal") == 0
    assert opened(practice, store, "C2", "--filed", "2026-09-12", "--method", "fax") == 0
    (tmp_path / "follow_up.835").write_text(FOLLOW_UP, encoding="utf-8")
    capsys.readouterr()
    assert run("import", str(tmp_path / "follow_up.835"), "--store", str(store), "--quiet") == 0
    assert "2 appeals closed (1 won, 1 lost)" in capsys.readouterr().out
    rows = {r["claim_id"]: r for r in shown(store, capsys)}
    assert (rows["C1"]["status"], rows["C1"]["recovered"], rows["C1"]["resolved_date"]) == ("won", "200.00",
                                                                                          "2026-10-01")
    assert (rows["C2"]["status"], rows["C2"]["recovered"]) == ("lost", "0.00")  # denied again: nothing recovered


def test_opening_takes_the_worklist_rows_facts(practice, tmp_path, capsys):
    store = tmp_path / "store.db"
    assert opened(practice, store, "C1", "--filed", "2026-09-10", "--method", "portal") == 0
    row = shown(store, capsys)[0]
    # denied 2026-09-01 by T1; the payer's 90 appeal days from then: 2026-11-30; 200.00 open
    assert (row["level"], row["status"], row["denial_date"], row["deadline"], row["amount_appealed"]) == (
        "1", "filed", "2026-09-01", "2026-11-30", "200.00")


def test_a_drafted_appeal_is_not_closed_by_the_follow_up(practice, tmp_path, capsys):
    store = tmp_path / "store.db"
    run("import", str(practice / "era" / "denial.835"), "--store", str(store), "--quiet")
    assert opened(practice, store, "C1") == 0  # no --filed: a draft
    (tmp_path / "follow_up.835").write_text(FOLLOW_UP, encoding="utf-8")
    run("import", str(tmp_path / "follow_up.835"), "--store", str(store), "--quiet")
    assert [r["status"] for r in shown(store, capsys)] == ["drafted"]


def test_the_json_of_a_drafted_appeal_has_null_for_what_it_does_not_have_yet(practice, tmp_path, capsys):
    store = tmp_path / "store.db"
    run("import", str(practice / "era" / "denial.835"), "--store", str(store), "--quiet")
    assert opened(practice, store, "C1") == 0  # a draft: not filed, nothing recovered, not resolved
    row = shown(store, capsys)[0]
    assert (row["filed_date"], row["recovered"], row["resolved_date"], row["amount_appealed"]) == (
        None, None, None, "200.00")


def test_a_claim_whose_row_is_not_a_denial_is_refused(practice, store_at, capsys):
    store = store_at  # a SQLite file, then a PostgreSQL database
    assert opened(practice, store, "C3") == 2  # paid in full, but the payment is not posted: unposted payment
    err = capsys.readouterr().err
    assert "the row is unposted payment" in err and "C3" not in err  # the claim id never in a message
    with Store.open(store) as s:
        assert s.count("appeals") == 0


def test_a_claim_with_no_worklist_row_is_refused(practice, tmp_path, capsys):
    store = tmp_path / "store.db"
    assert opened(practice, store, "C9") == 2
    err = capsys.readouterr().err
    assert "no row on the worklist" in err and "C9" not in err


def test_the_same_level_is_not_opened_twice(practice, store_at, capsys):
    store = store_at  # a SQLite file, then a PostgreSQL database
    assert opened(practice, store, "C1") == 0
    assert opened(practice, store, "C1") == 2
    assert "still open" in capsys.readouterr().err


def test_file_then_withdraw_and_the_closed_appeal_stays_closed(practice, store_at, capsys):
    store = store_at  # a SQLite file, then a PostgreSQL database
    opened(practice, store, "C1")
    assert run("appeals", "file", "1", "--date", "2026-09-15", "--method", "mail", "--store", str(store)) == 0
    assert run("appeals", "withdraw", "1", "--date", "2026-09-20", "--store", str(store)) == 0
    assert run("appeals", "file", "1", "--date", "2026-09-21", "--method", "mail", "--store", str(store)) == 2
    assert "does not reopen" in capsys.readouterr().err
    row = shown(store, capsys)[0]
    assert (row["status"], row["filed_date"], row["resolved_date"], row["version"]) == (
        "withdrawn", "2026-09-15", "2026-09-20", 3)


def test_appeals_close_runs_over_the_whole_store(practice, store_at, tmp_path, capsys):
    store = store_at  # a SQLite file, then a PostgreSQL database
    run("import", str(practice / "era" / "denial.835"), "--store", str(store), "--quiet")
    opened(practice, store, "C1", "--filed", "2026-09-10", "--method", "portal")
    (tmp_path / "follow_up.835").write_text(FOLLOW_UP, encoding="utf-8")
    with Store.open(store) as s:  # the follow-up stored without the importer's closing (as an older xl-ar did)
        from xl_ar.remittances import read_remittances
        from xl_ar.sources import SourceFile

        tabs, _ = read_remittances([SourceFile("f.835", FOLLOW_UP.encode())])
        with s.transaction():
            import_id = s.record_import("f.835", "f")
            s.insert_payments(tabs["payments"], import_id)
            s.insert_table("claim_payments", tabs["claim_payments"], import_id)
    capsys.readouterr()
    assert run("appeals", "close", "--store", str(store)) == 0
    assert capsys.readouterr().out.strip() == "1 appeal closed (1 won)."


def test_audit_events_carry_counts_and_statuses_only(practice, tmp_path):
    store = tmp_path / "store.db"
    opened(practice, store, "C1", "--filed", "2026-09-10", "--method", "portal")
    run("appeals", "withdraw", "1", "--store", str(store))
    with Store.open(store) as s:
        events = s.audit_events()
    details = events[events.action == "appeals"].detail.tolist()
    assert len(details) == 2
    assert not any(c in d for d in details for c in ("C1", "PCN1", "A1"))


# -- the ribbon's Mark appealed ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def imported(tmp_path_factory, practice_small, _private_home) -> Path:
    """A store with the small practice's remittances imported once (each test works on a copy); the user file
    the ribbon's confirmation writes is put back (this fixture runs before the per-test restore)."""
    from tests.test_ribbon_reconcile import practice_book
    from udfs import ribbon

    user_file = _private_home / "xl_ar.conf"
    before = user_file.read_bytes() if user_file.exists() else None
    store = tmp_path_factory.mktemp("imported") / "s.sqlite"
    ribbon.import_remittances(practice_book(practice_small, store))
    if before is None:
        user_file.unlink(missing_ok=True)
    else:
        user_file.write_bytes(before)
    return store


@pytest.fixture
def ribbon_book(tmp_path, practice_small, imported):
    import shutil

    from tests.test_ribbon_reconcile import practice_book
    from udfs import ribbon

    shutil.copy(imported, tmp_path / "s.sqlite")
    book = practice_book(practice_small, tmp_path / "s.sqlite")
    ribbon.worklist(book)
    return book



@pytest.fixture(scope="module")
def imported_team(pg_server, practice_small, _private_home) -> str:
    """A database on the private PostgreSQL server with the small practice's remittances imported once through
    the ribbon, the store given by XL_AR_STORE; each test works on a copy (CREATE DATABASE ... TEMPLATE)."""
    from tests.test_ribbon_reconcile import practice_book
    from udfs import ribbon

    name = pg_server.create_database()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XL_AR_STORE", pg_server.url(name))
        ribbon.import_remittances(practice_book(practice_small, None))
    return name


@pytest.fixture
def team_ribbon_book(pg_server, practice_small, imported_team, monkeypatch):
    """The worklist workbook whose store is a copy of `imported_team`, given by XL_AR_STORE: (book, store URL)."""
    from tests.test_ribbon_reconcile import practice_book
    from udfs import ribbon

    url = pg_server.url(pg_server.create_database(template=imported_team))
    monkeypatch.setenv("XL_AR_STORE", url)
    book = practice_book(practice_small, None)
    ribbon.worklist(book)
    return book, url

def select(book, kinds: tuple[str, ...]) -> tuple[int, dict]:
    """Select the first Worklist row of one of `kinds`: its sheet row and its values."""
    work = book.sheets["Worklist"].frame(header_row=3)
    at = int(work.index[work.kind.isin(kinds)][0])
    book.selection = book.sheets["Worklist"].range(f"B{at + 4}")  # header on row 3, rows from 4
    return at + 4, work.iloc[at].to_dict()


def test_mark_appealed_opens_a_filed_appeal_dated_today_for_the_selected_claim(ribbon_book, tmp_path):
    import datetime as dt

    from udfs import ribbon

    _, row = select(ribbon_book, ("denied",))
    message = ribbon.mark_appealed(ribbon_book)
    assert message.startswith("Appeal 1 opened: level 1, filed today by portal, $") and "deadline 20" in message
    with Store.open(tmp_path / "s.sqlite") as s:
        stored = s.appeals()
    assert stored.claim_id.tolist() == [row["claim_id"]]
    assert (stored.status[0], stored.method[0], stored.filed_date[0].date()) == ("filed", "portal", dt.date.today())



def test_mark_appealed_on_a_team_database_opens_the_same_appeal(team_ribbon_book):
    import datetime as dt

    from udfs import ribbon

    book, url = team_ribbon_book
    _, row = select(book, ("denied",))
    message = ribbon.mark_appealed(book)
    assert message.startswith("Appeal 1 opened: level 1, filed today by portal, $") and "deadline 20" in message
    assert ribbon.mark_appealed(book).startswith("Not opened")  # the same level again: still open
    with Store.open(url) as s:
        stored = s.appeals()
    assert stored.claim_id.tolist() == [row["claim_id"]]
    assert (stored.status[0], stored.method[0], stored.filed_date[0].date()) == ("filed", "portal", dt.date.today())

def test_mark_appealed_takes_the_method_typed_right_of_the_row(ribbon_book, tmp_path):
    from udfs import ribbon

    at, _ = select(ribbon_book, ("denied", "partially_denied", "underpaid"))
    width = len(ribbon_book.sheets["Worklist"].frame(header_row=3).columns)
    ribbon_book.sheets["Worklist"].range(f"{ribbon._column_letter(width + 1)}{at}").value = [["fax"]]
    assert "filed today by fax" in ribbon.mark_appealed(ribbon_book)


def test_mark_appealed_refuses_a_row_that_is_not_a_denial(ribbon_book, tmp_path):
    from udfs import ribbon

    select(ribbon_book, ("unposted_payment", "no_response", "posting_variance"))
    message = ribbon.mark_appealed(ribbon_book)
    assert message.startswith("Not opened: the row is ") and "only denied, partially denied or underpaid" in message
    with Store.open(tmp_path / "s.sqlite") as s:
        assert s.count("appeals") == 0


def test_mark_appealed_without_a_worklist_selection_says_what_to_do(ribbon_book):
    from udfs import ribbon

    assert ribbon.mark_appealed(ribbon_book) == "select a row of the Worklist sheet first (press Worklist to make it)"
