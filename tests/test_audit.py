"""The audit trail (issue 13, safeguard 1): one hash-chained event per import, reconcile, export, report,
code-list load, setting change and add-in action; `xl-ar audit verify` finds an edited, deleted or moved
event; no event carries a patient identifier."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.excel_standin import Book
from udfs import ribbon, sheets
from xl_ar import audit
from xl_ar import store as store_mod
from xl_ar.cli import main
from xl_ar.store import Store


def three_events(path: Path | str) -> None:
    with Store.open(path) as s:
        s.audit("import", files=2, payments=5)
        s.audit("reconcile", exceptions=3)
        s.audit("report", exceptions=3)


def check(path: Path | str, head: str | None = None) -> audit.Verification:
    with Store.open(path) as s:
        return audit.verify(s, head=head)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the chain ---------------------------------------------------------------------------------------

def test_an_untouched_trail_verifies(tmp_path):
    three_events(tmp_path / "s.sqlite")
    found = check(tmp_path / "s.sqlite")
    assert found.ok and found.chained == 3 and found.problem is None


def test_each_event_records_who_when_what_and_the_result(tmp_path, monkeypatch):
    monkeypatch.setattr(audit.getpass, "getuser", lambda: "biller1")
    with Store.open(tmp_path / "s.sqlite") as s:
        s.audit("import", files=1)
        s.audit("report", result="error", message="claims.csv: no such file")
        events = s.audit_events()
    assert events.actor.tolist() == ["biller1", "biller1"]
    assert events["at"].str.endswith("+00:00").all()  # UTC
    assert events.result.tolist() == ["ok", "error"] and events.message.tolist() == ["", "claims.csv: no such file"]
    # each event links to the one before it: "" for the first
    assert events.prev_hash.tolist() == ["", events.event_hash.iloc[0]]


def test_an_edited_event_is_found(tmp_path):
    three_events(tmp_path / "s.sqlite")
    with Store.open(tmp_path / "s.sqlite") as s:
        s._db.execute("UPDATE audit_events SET detail = '{\"exceptions\": 0}' WHERE event_id = 2")
    found = check(tmp_path / "s.sqlite")
    assert not found.ok and found.bad_event == 2 and "edited" in found.problem


def test_an_edited_link_is_found(tmp_path):
    three_events(tmp_path / "s.sqlite")
    with Store.open(tmp_path / "s.sqlite") as s:  # the previous hash is part of what an event's hash covers
        s._db.execute("UPDATE audit_events SET prev_hash = 'x' WHERE event_id = 3")
    assert check(tmp_path / "s.sqlite").bad_event == 3


def test_a_deleted_event_is_found(tmp_path):
    three_events(tmp_path / "s.sqlite")
    with Store.open(tmp_path / "s.sqlite") as s:
        s._db.execute("DELETE FROM audit_events WHERE event_id = 2")
    found = check(tmp_path / "s.sqlite")
    # event 3 now follows event 1, whose hash is not the one it recorded
    assert not found.ok and found.bad_event == 3 and "does not follow event 1" in found.problem


def test_a_deleted_first_event_is_found(tmp_path):
    three_events(tmp_path / "s.sqlite")
    with Store.open(tmp_path / "s.sqlite") as s:
        s._db.execute("DELETE FROM audit_events WHERE event_id = 1")
    assert check(tmp_path / "s.sqlite").bad_event == 2


def test_a_deleted_last_event_is_found(tmp_path):
    three_events(tmp_path / "s.sqlite")
    with Store.open(tmp_path / "s.sqlite") as s:
        s._db.execute("DELETE FROM audit_events WHERE event_id = 3")
    found = check(tmp_path / "s.sqlite")
    # the chain itself is whole, but it ends after 2 events where the store recorded 3
    assert not found.ok and "latest events were deleted" in found.problem


def test_a_reordered_chain_is_found(tmp_path):
    three_events(tmp_path / "s.sqlite")
    with Store.open(tmp_path / "s.sqlite") as s:  # events 2 and 3 swap places
        s._db.execute("UPDATE audit_events SET event_id = 99 WHERE event_id = 2")
        s._db.execute("UPDATE audit_events SET event_id = 2 WHERE event_id = 3")
        s._db.execute("UPDATE audit_events SET event_id = 3 WHERE event_id = 99")
    found = check(tmp_path / "s.sqlite")
    assert not found.ok and found.bad_event == 2 and "reordered" in found.problem


def test_a_rebuilt_trail_misses_the_head_noted_earlier(tmp_path):
    path = tmp_path / "s.sqlite"
    three_events(path)
    noted = check(path)
    head = f"{noted.chained}:{noted.head}"
    assert check(path, head=head).ok
    with Store.open(path) as s:  # someone with write access empties the trail and writes a new one
        s._db.execute("DELETE FROM audit_events")
        s._db.execute("DELETE FROM meta WHERE key = 'audit_head'")
        s.audit("import", files=1)
    assert check(path).ok  # consistent in itself ...
    assert not check(path, head=head).ok  # ... but the head kept elsewhere is gone


def test_events_from_before_the_chain_are_allowed_only_before_it(tmp_path):
    conn = store_mod.sqlite3.connect(tmp_path / "v3.sqlite")  # a schema 3 store with an event of its time
    for step in store_mod.MIGRATIONS[:3]:
        for sql in step:
            conn.execute(sql.replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"))
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '3')")
    conn.execute("INSERT INTO audit_events (at, actor, action, detail) VALUES ('2026-01-01', 'xl-ar', 'import', '{}')")
    conn.commit()
    conn.close()
    with Store.open(tmp_path / "v3.sqlite") as s:
        s.audit("report")
        s.audit("report")
        found = audit.verify(s)
        assert found.ok and (found.events, found.chained) == (3, 2)
        s._db.execute("UPDATE audit_events SET event_hash = NULL WHERE event_id = 3")  # made to look old
        assert audit.verify(s).bad_event == 3


def test_audit_verify_exits_0_on_an_intact_trail_and_1_naming_the_bad_event(store_at, capsys):
    path = store_at  # a SQLite file, then a PostgreSQL database: the same chain, the same verdicts
    three_events(path)
    assert main(["audit", "verify", "--store", str(path)]) == 0
    assert "intact: 3 chained events" in capsys.readouterr().out
    with Store.open(path) as s:
        s._db.execute("UPDATE audit_events SET actor = 'someone else' WHERE event_id = 1")
    assert main(["audit", "verify", "--store", str(path)]) == 1
    assert "event 1 (import" in capsys.readouterr().err


def test_audit_show_lists_the_events_since_a_day(store_at, capsys, monkeypatch):
    path = store_at
    for when, action in (("2026-09-01T10:00:00+00:00", "import"), ("2026-09-02T09:00:00+00:00", "report")):
        monkeypatch.setattr(store_mod, "_now", lambda when=when: when)
        with Store.open(path) as s:
            s.audit(action)
    assert main(["audit", "show", "--store", str(path), "--since", "2026-09-02"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and " report " in out[0] and out[1] == "1 events since 2026-09-02"



def test_audit_show_on_a_team_database_names_the_database_login_beside_the_os_user(pg_url, capsys):
    with Store.open(pg_url) as s:
        s.audit("report")
    assert main(["audit", "show", "--store", pg_url]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    # the session's server logs in as xlar_super (tests/pg_server.py); the OS user is whoever runs the tests
    assert f" {audit.os_user()} (database xlar_super) " in first and " report " in first


def test_audit_verify_on_a_team_database_finds_an_edited_database_login(pg_url, capsys):
    three_events(pg_url)
    with Store.open(pg_url) as s:  # the login is hashed: pretending another login wrote event 2 breaks it
        s._db.execute("UPDATE audit_events SET db_user = 'someone_else' WHERE event_id = 2")
    assert main(["audit", "verify", "--store", pg_url]) == 1
    assert "event 2 (reconcile" in capsys.readouterr().err

# -- one event per action --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def practice(tmp_path_factory) -> Path:
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("audited")
    generate(folder, claims=60, seed=5)
    return folder


@pytest.fixture
def trail(store_at, tmp_path, monkeypatch) -> str:
    """The store every command of the test uses (the `store` setting, from the environment, as a user sets it):
    a SQLite file, then a database on the private PostgreSQL server."""
    monkeypatch.setenv("XL_AR_STORE", store_at)
    monkeypatch.setenv("XL_AR_HOME", str(tmp_path / "home"))  # settings set/unset write this user file
    return store_at


def events(path: Path | str) -> pd.DataFrame:
    with Store.open(path) as s:
        return s.audit_events()


def detail(path: Path | str, i: int = -1) -> dict:
    return json.loads(events(path).detail.iloc[i])


def test_an_import_records_one_event_with_each_files_hash(practice, trail):
    assert main(["import", str(practice / "era"), "--quiet"]) == 0
    found = events(trail)
    assert found.action.tolist() == ["import"] and found.result.tolist() == ["ok"]
    files = sorted((practice / "era").rglob("*.835"))
    assert detail(trail)["inputs"] == {p.name: sha(p) for p in files}


def existing(path: Path | str) -> Path | str:
    Store.open(path).close()
    return path


def test_a_failed_import_records_an_error_event(trail, tmp_path):
    existing(trail)
    assert main(["import", str(tmp_path / "nowhere"), "--quiet"]) == 2
    found = events(trail)
    assert found.action.tolist() == ["import"] and found.result.tolist() == ["error"]
    assert "nowhere" in found.message.iloc[0]


def test_a_reconciliation_records_one_event_with_its_inputs(practice, trail):
    assert main(["reconcile", "--practice", str(practice), "--quiet"]) == 0
    found = events(trail)
    assert found.action.tolist() == ["reconcile"]
    recorded = detail(trail)
    assert recorded["inputs"]["claims.csv"] == sha(practice / "claims.csv")
    assert recorded["exceptions"] == sum(recorded["kinds"].values()) > 0


def test_a_reconciliation_workbook_records_an_export_event_with_its_hash(practice, trail, tmp_path):
    out = tmp_path / "reconciliation.xlsx"
    assert main(["reconcile", "--practice", str(practice), "--out", str(out), "--quiet"]) == 0
    assert events(trail).action.tolist() == ["reconcile", "export"]
    assert detail(trail)["outputs"] == {"reconciliation.xlsx": sha(out)}


def test_a_report_records_one_event_with_the_workbooks_hash(practice, trail, tmp_path):
    out = tmp_path / "report.xlsx"
    assert main(["report", "--practice", str(practice), "--out", str(out), "--quiet"]) == 0
    assert events(trail).action.tolist() == ["report"]
    recorded = detail(trail)
    # 60 claims + 93 ready to bill (31 injected scrubber rules, one claim each, and 62 clean ones)
    assert recorded["outputs"] == {"report.xlsx": sha(out)} and recorded["claims"] == 60 + 93
    assert recorded["inputs"]["practice.json"] == sha(practice / "practice.json")


def test_a_code_list_load_records_one_event(trail, tmp_path):
    carc = tmp_path / "carc.csv"
    carc.write_text("code,description\n45,Charge exceeds fee schedule\n97,Bundled\n", encoding="utf-8")
    assert main(["codes", "load", str(carc)]) == 0
    assert events(trail).action.tolist() == ["codes-load"]
    assert detail(trail) == {"list": "CARC", "codes": 2, "inputs": {"carc.csv": sha(carc)}}


def test_a_setting_change_records_one_event_without_the_value(trail):
    assert main(["settings", "set", "practice_name", "Lakeside Pediatrics"]) == 0
    assert main(["settings", "unset", "practice_name"]) == 0
    found = events(trail)
    assert found.action.tolist() == ["setting", "setting"]
    assert detail(trail, 0) == {"change": "set", "key": "practice_name",
                                "value_sha256": hashlib.sha256(b"Lakeside Pediatrics").hexdigest()}
    assert "Lakeside" not in "".join(found.detail)


def test_showing_the_settings_records_nothing(trail):
    assert main(["settings"]) == 0
    assert events(trail).empty


def test_a_refused_command_creates_no_store_to_record_it(tmp_path, monkeypatch):
    path = tmp_path / "trail.sqlite"  # a store file: one that does not exist yet is not made to say so
    monkeypatch.setenv("XL_AR_STORE", str(path))
    assert main(["import", str(tmp_path / "nowhere"), "--quiet"]) == 2
    assert not path.exists()  # refused for its input: nothing written


def test_a_refused_command_on_a_team_database_records_its_error(pg_url, tmp_path, monkeypatch):
    # a database on a server always exists (IT made it): the refusal is recorded there, as on an existing file
    monkeypatch.setenv("XL_AR_STORE", pg_url)
    assert main(["import", str(tmp_path / "nowhere"), "--quiet"]) == 2
    found = events(pg_url)
    assert found.action.tolist() == ["import"] and found.result.tolist() == ["error"]


def test_a_refused_setting_records_an_error_event(trail):
    existing(trail)
    assert main(["settings", "set", "no_such_setting", "1"]) == 2
    found = events(trail)
    assert found.action.tolist() == ["setting"] and found.result.tolist() == ["error"]


def test_add_in_install_and_remove_each_record_one_event(trail, monkeypatch):
    from xl_ar.addin import install

    monkeypatch.setattr(install, "install", lambda addin=None: "Installed the Medical A/R add-in: here")
    monkeypatch.setattr(install, "remove", lambda: "Removed it. Restart Excel to unload the add-in.")
    assert main(["addin", "install"]) == 0 and main(["addin", "remove"]) == 0
    found = events(trail)
    assert found.action.tolist() == ["addin", "addin"]
    assert [json.loads(d)["command"] for d in found.detail] == ["install", "remove"]


def ribbon_book(store: Path) -> Book:
    """A workbook whose add-in names the store (a store set by the workbook itself is used once confirmed)."""
    b = Book(sheets.CONFIG_SHEET)
    addin = Book(sheets.CONFIG_SHEET)
    addin.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", str(store)]]
    b.app.books[sheets.ADDIN_NAME] = addin
    return b


def test_a_ribbon_button_records_one_add_in_event(tmp_path):
    path = tmp_path / "s.sqlite"
    ribbon.help(ribbon_book(path))
    found = events(path)
    assert found.action.tolist() == ["addin"] and json.loads(found.detail.iloc[0]) == {"button": "Help"}
    assert found.result.tolist() == ["ok"]


def test_a_ribbon_button_records_into_the_store_of_the_environment(store_at, monkeypatch):
    # XL_AR_STORE set by the user (trusted): a workbook without a store setting records there, on either backend
    monkeypatch.setenv("XL_AR_STORE", store_at)
    ribbon.help(Book(sheets.CONFIG_SHEET))
    found = events(store_at)
    assert found.action.tolist() == ["addin"] and json.loads(found.detail.iloc[0]) == {"button": "Help"}


def test_a_refused_ribbon_button_records_its_error(tmp_path, monkeypatch):
    monkeypatch.delenv("XL_AR_PRACTICE", raising=False)
    path = existing(tmp_path / "s.sqlite")
    message = ribbon.reconcile(ribbon_book(path))  # no Claims sheet, no practice folder
    found = events(path)
    assert found.action.tolist() == ["addin"] and found.result.tolist() == ["error"]
    assert found.message.iloc[0] == message


# -- no patient data ---------------------------------------------------------------------------------

def test_events_carry_no_patient_identifiers(practice, trail, tmp_path):
    assert main(["import", str(practice / "era"), "--quiet"]) == 0
    assert main(["reconcile", "--practice", str(practice), "--out", str(tmp_path / "r.xlsx"), "--quiet"]) == 0
    assert main(["report", "--practice", str(practice), "--out", str(tmp_path / "m.xlsx"), "--quiet"]) == 0
    claims = pd.read_csv(practice / "claims.csv", dtype=str, keep_default_na=False)  # a blank name stays ""
    identifiers = set(claims["Patient Name"]) | set(claims["Member ID"]) | set(claims["Claim #"])
    identifiers |= {part.strip() for name in claims["Patient Name"] for part in name.split(",")}
    identifiers |= set(claims["DOB"]) | set(claims["Pat Acct"])
    found = events(trail)
    assert len(found) == 4  # import, reconcile, export, report
    text = found.astype(str).to_csv()
    assert [i for i in identifiers if isinstance(i, str) and i and i in text] == []
