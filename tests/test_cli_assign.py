"""`xl-ar assign` (issue 16): a worklist claim taken or handed over at the version the user saw (optimistic
locking), on both store backends; `xl-ar reconcile --specialist` shows taken claims under their taker;
`xl-ar appeals file|withdraw --seen-version`; two processes racing for one claim on PostgreSQL."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from tests.era_builder import practice_with_eras
from tests.test_cli_appeals import CLAIMS, DENIAL, PAYERS
from xl_ar import audit
from xl_ar.cli import main
from xl_ar.store import Store


@pytest.fixture
def as_ana(monkeypatch):
    """The OS user is ana."""
    monkeypatch.setattr(audit, "os_user", lambda: "ana")


def assign(store: str, claim: str, *extra: str) -> int:
    return main(["assign", claim, "--store", store, *extra])


def taken(store: str) -> list[list]:
    with Store.open(store) as s:
        return s.assignments()[["claim_id", "assigned_to", "assigned_by", "version"]].values.tolist()


def test_taking_a_claim_gives_it_to_the_os_user_at_version_1(store_at, as_ana, capsys):
    assert assign(store_at, "C1") == 0
    assert "now ana's (version 1)" in capsys.readouterr().out
    assert taken(store_at) == [["C1", "ana", "ana", 1]]


def test_handing_over_with_to_bumps_the_version(store_at, as_ana, capsys):
    # ana takes C1 (version 1), then hands it to ben at the version she saw: 1 -> 2
    assign(store_at, "C1")
    assert assign(store_at, "C1", "--to", "ben", "--seen-version", "1") == 0
    assert "now ben's (version 2)" in capsys.readouterr().out
    assert taken(store_at) == [["C1", "ben", "ana", 2]]


def test_a_claim_is_given_only_to_a_user_name(tmp_path, as_ana, capsys):
    # a name that is not a user name (here a formula) is refused before the store is written
    store = str(tmp_path / "s.sqlite")
    assert assign(store, "C1", "--to", "=HYPERLINK(\"x\")") == 2
    assert "user name" in capsys.readouterr().err
    assert taken(store) == []


def test_a_stale_version_is_refused_with_exit_2_and_nothing_changes(store_at, as_ana, capsys):
    # ana took C1 (version 1); a sheet written before showed it untaken (version 0): taking it from there is refused
    assign(store_at, "C1")
    capsys.readouterr()
    assert assign(store_at, "C1", "--to", "ben", "--seen-version", "0") == 2
    err = capsys.readouterr().err
    assert "given to ana" in err and "nothing was changed" in err and "C1" not in err
    assert taken(store_at) == [["C1", "ana", "ana", 1]]


def test_each_change_is_one_audit_event_without_the_claim_id(tmp_path, as_ana):
    store = str(tmp_path / "s.sqlite")
    assign(store, "CLM-77")
    assign(store, "CLM-77", "--to", "ben")  # default version: the one stored now (1)
    with Store.open(store) as s:
        events = s.audit_events()
    assert events.action.tolist() == ["assign", "assign"]
    assert [json.loads(d)["handed_over"] for d in events.detail] == [0, 1]
    assert not events.astype(str).apply(lambda c: c.str.contains("CLM-77")).any().any()


def test_reconcile_for_a_specialist_shows_the_claims_they_took(tmp_path, monkeypatch, capsys):
    # C1 and C2 are denied (worklist rows); carla took C2; the worklist is not split (assign_by off)
    practice = practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"denial.835": DENIAL})
    store = str(tmp_path / "s.sqlite")
    monkeypatch.setattr(audit, "os_user", lambda: "carla")
    assign(store, "C2")
    capsys.readouterr()
    assert main(["reconcile", "--practice", str(practice), "--store", store, "--specialist", "carla", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["exceptions"]
    assert [(r["claim_id"], r["assigned_to"], r["assignment_version"]) for r in rows] == [("C2", "carla", 1)]


def test_a_taken_claim_overrides_the_split_in_reconcile(tmp_path, monkeypatch, capsys):
    # round robin by rank: C3 ana, T1 ben, C1 ana, C2 ben; ben took C1, so its row is ben's, version 1
    practice = practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"denial.835": DENIAL})
    store = str(tmp_path / "s.sqlite")
    monkeypatch.setenv("XL_AR_ASSIGN_BY", "round_robin")
    monkeypatch.setenv("XL_AR_SPECIALISTS", "ana; ben")
    assert assign(store, "C1", "--to", "ben") == 0
    capsys.readouterr()
    assert main(["reconcile", "--practice", str(practice), "--store", store, "--json"]) == 0
    rows = {r["claim_id"]: r for r in json.loads(capsys.readouterr().out)["exceptions"]}
    assert (rows["C1"]["assigned_to"], rows["C1"]["assignment_version"]) == ("ben", 1)


# -- appeals at the version the user saw ------------------------------------------------------------------

def test_withdrawing_an_appeal_at_a_stale_seen_version_is_refused(tmp_path, capsys):
    # opened (version 1), then filed by someone else (version 2); a user who saw version 1 withdraws: refused
    practice = practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"denial.835": DENIAL})
    store = str(tmp_path / "s.sqlite")
    assert main(["appeals", "open", "C1", "--practice", str(practice), "--store", store]) == 0
    assert main(["appeals", "file", "1", "--date", "2026-09-15", "--method", "mail", "--store", store]) == 0
    capsys.readouterr()
    assert main(["appeals", "withdraw", "1", "--seen-version", "1", "--store", store]) == 2
    assert "nothing was changed" in capsys.readouterr().err
    with Store.open(store) as s:
        assert s.appeals()[["status", "version"]].values.tolist() == [["filed", 2]]


def test_filing_an_appeal_at_the_seen_version_succeeds(tmp_path, capsys):
    practice = practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"denial.835": DENIAL})
    store = str(tmp_path / "s.sqlite")
    main(["appeals", "open", "C1", "--practice", str(practice), "--store", store])
    assert main(["appeals", "file", "1", "--date", "2026-09-15", "--method", "mail", "--seen-version", "1",
                 "--store", store]) == 0
    assert "version 2" in capsys.readouterr().out


# -- two specialists racing for one claim (PostgreSQL) ----------------------------------------------------------

def take(url: str, name: str, start) -> int:
    """One specialist's process: wait for the other, then take C1 as seen untaken (version 0)."""
    from xl_ar import audit as trail
    from xl_ar.cli import main as cli

    trail.os_user = lambda: name  # this process's OS user
    start.wait()
    return cli(["assign", "C1", "--seen-version", "0", "--store", url])


def test_two_processes_taking_the_same_claim_at_once_one_wins_the_other_is_refused(pg_url):
    Store.open(pg_url).close()  # the schema first (the admin's job)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(2)
    with context.Pool(2) as pool:
        pending = [pool.apply_async(take, (pg_url, name, start)) for name in ("ana", "ben")]
        codes = dict(zip(("ana", "ben"), (p.get(timeout=300) for p in pending), strict=True))
    assert sorted(codes.values()) == [0, 2]  # one took it (exit 0), the other was refused (exit 2)
    winner = next(name for name, code in codes.items() if code == 0)
    assert taken(pg_url) == [["C1", winner, winner, 1]]


def test_the_reconciliation_workbook_shows_who_has_a_claim_and_its_version(tmp_path, monkeypatch):
    import openpyxl

    practice = practice_with_eras(tmp_path / "practice", PAYERS, CLAIMS, {"denial.835": DENIAL})
    store = str(tmp_path / "s.sqlite")
    monkeypatch.setattr(audit, "os_user", lambda: "carla")
    assign(store, "C2")
    out = tmp_path / "rec.xlsx"
    assert main(["reconcile", "--practice", str(practice), "--store", store, "--out", str(out), "--quiet"]) == 0
    rows = list(openpyxl.load_workbook(out)["Worklist"].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if "Assigned to" in r)
    header = rows[at]
    c2 = next(r for r in rows[at + 1:] if "C2" in r)
    assert (c2[header.index("Assigned to")], c2[header.index("Assignment version")]) == ("carla", 1)
