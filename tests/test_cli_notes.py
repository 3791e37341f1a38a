"""`xl-ar notes add / import / show`: notes stored once, all or nothing, the audit trail with counts only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from xl_ar.cli import main
from xl_ar.store import Store

OUTCOME = "Spoke to Rita: claim reprocessing"

CSV = ("Claim #,Date,Channel,Reference #,Outcome,Next Follow-up\n"
       f"CLM-1,2026-01-05,call,REF-1,{OUTCOME},2026-01-20\n"
       "CLM-2,2026-01-06,portal,,status pending,\n")


def _store(tmp_path: Path) -> str:  # a store file (most tests take `store_at`: a file, then a database)
    return str(tmp_path / "store.db")


def _write(tmp_path: Path, text: str, name: str = "notes.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_notes_add_stores_one_note_with_the_os_user_as_author(store_at):
    code = main(["notes", "add", "CLM-1", "--channel", "call", "--outcome", OUTCOME, "--reference", "R9",
                 "--next", "2026-02-01", "--date", "2026-01-10", "--store", store_at])
    assert code == 0
    with Store.open(store_at) as store:
        stored = store.notes()
    assert stored[["claim_id", "channel", "payer_reference", "outcome"]].values.tolist() == [
        ["CLM-1", "call", "R9", OUTCOME]]
    assert stored["next_followup"].tolist() == [pd.Timestamp("2026-02-01")]
    assert stored["author"].iloc[0].strip() != ""


def test_notes_add_with_an_unknown_channel_exits_2_and_stores_nothing(tmp_path, capsys):
    code = main(["notes", "add", "CLM-1", "--channel", "pigeon", "--outcome", "x", "--store", _store(tmp_path)])
    assert code == 2
    assert "channel" in capsys.readouterr().err
    assert not Path(_store(tmp_path)).exists()


def test_notes_import_twice_stores_each_note_once(store_at, tmp_path, capsys):
    path = _write(tmp_path, CSV)
    assert main(["notes", "import", path, "--store", store_at]) == 0
    assert main(["notes", "import", path, "--store", store_at]) == 0
    assert "2 notes read, 0 stored, 2 already stored" in capsys.readouterr().out
    with Store.open(store_at) as store:
        assert store.count("notes") == 2


def test_notes_import_with_a_bad_row_exits_2_lists_every_bad_row_and_stores_nothing(store_at, tmp_path, capsys):
    path = _write(tmp_path, CSV + "CLM-3,2026-02-30,call,,x,\n" + ",2026-01-07,pigeon,,y,\n")
    code = main(["notes", "import", path, "--store", store_at])
    err = capsys.readouterr().err
    assert code == 2
    assert "row 4" in err and "row 5" in err and "note_date" in err and "channel" in err and "claim_id" in err
    with Store.open(store_at) as store:
        assert store.count("notes") == 0


def test_the_audit_trail_records_adds_and_imports_with_counts_never_claims_or_outcomes(store_at, tmp_path):
    main(["notes", "import", _write(tmp_path, CSV), "--store", store_at])
    main(["notes", "add", "CLM-9", "--outcome", OUTCOME, "--store", store_at])
    with Store.open(store_at) as store:
        events = store.audit_events()
    notes_events = events[events["action"] == "notes"]
    assert len(notes_events) == 2
    details = [json.loads(d) for d in notes_events["detail"]]
    assert details[0]["notes_added"] == 2 and details[1]["notes_added"] == 1
    text = events.to_csv()
    assert "CLM-" not in text and "Rita" not in text and "pending" not in text


def test_notes_show_prints_a_claims_notes_with_their_outcome(store_at, tmp_path, capsys):
    main(["notes", "import", _write(tmp_path, CSV), "--store", store_at])
    capsys.readouterr()
    assert main(["notes", "show", "CLM-1", "--store", store_at]) == 0
    out = capsys.readouterr().out
    assert OUTCOME in out and "2026-01-20" in out and "CLM-2" not in out


def test_reconcile_hides_a_claim_until_its_follow_up_date_and_counts_it(practice_small, store_at, tmp_path, capsys):
    store = store_at
    assert main(["reconcile", "--practice", str(practice_small), "--json", "--store", store]) == 0
    rows = json.loads(capsys.readouterr().out)["exceptions"]
    claim = next(r["claim_id"] for r in rows if r["claim_id"] and r["priority"] and r["priority"] > 0)
    main(["notes", "add", claim, "--outcome", "called", "--date", "2020-01-01", "--next", "2999-01-01",
          "--store", store])
    capsys.readouterr()
    book = tmp_path / "reconciliation.xlsx"
    assert main(["reconcile", "--practice", str(practice_small), "--store", store, "--top", "100000",
                 "--out", str(book)]) == 0
    out = capsys.readouterr().out
    on_list = sum(1 for r in rows if r["claim_id"] == claim and r["priority"] and r["priority"] > 0)
    assert f"{on_list} hidden until their follow-up date" in out
    assert f" {claim} " not in out
    import openpyxl

    sheet = openpyxl.load_workbook(book)["Worklist"]
    header = [c.value for c in sheet[3]]
    assert {"Last note", "Next follow-up", "Touches"} <= set(header)
    at = header.index("Claim")
    assert claim not in [row[at] for row in sheet.iter_rows(min_row=4, values_only=True)]


def test_a_note_holding_a_nul_character_is_refused_on_both_backends_naming_its_column(store_at, capsys):
    # SQLite would keep it and PostgreSQL cannot: refused as input everywhere, the same result on each
    code = main(["notes", "add", "CLM-7", "--outcome", "called\x00back", "--store", store_at])
    err = capsys.readouterr().err
    assert code == 2 and "outcome" in err and "NUL" in err and "CLM-7" not in err
    with Store.open(store_at) as store:
        assert store.count("notes") == 0
