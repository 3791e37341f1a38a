"""Follow-up notes and ticklers (xl_ar.notes): reading a Notes sheet, the latest-note rule, the worklist view,
touches for the report, each note stored once."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from xl_ar import ledger, notes
from xl_ar.store import Store

D = dt.date
AUTHOR = "jdoe"


def _sheet(rows: list[dict], name: str = "Notes.csv") -> ledger.Sheet:
    return ledger.Sheet(name, pd.DataFrame(rows, dtype=object))


def _notes(*rows: tuple) -> pd.DataFrame:
    """Notes from (claim, date, next follow-up or None), in entry order."""
    frame, findings = notes.read_notes(_sheet([
        {"Claim #": c, "Date": d.isoformat(), "Channel": "call", "Outcome": f"note {i}",
         "Next Follow-up": n.isoformat() if n else ""} for i, (c, d, n) in enumerate(rows)]), AUTHOR)
    assert not findings
    return frame


def _worklist(*claims: str | None) -> pd.DataFrame:
    return pd.DataFrame({"rank": range(1, len(claims) + 1), "claim_id": list(claims),
                         "kind": ["denial"] * len(claims)}).astype({"claim_id": object})


# -- reading ---------------------------------------------------------------------------------------------------

def test_a_notes_sheet_with_the_usual_headers_becomes_the_notes_table():
    frame, findings = notes.read_notes(_sheet([{
        "Claim #": "C1", "Date": "01/05/2026", "Channel": "Portal", "Reference #": "REF-9", "Outcome": "pending",
        "Next Follow-up": "01/20/2026"}]), AUTHOR)
    assert findings == []
    row = frame.iloc[0]
    assert (row.claim_id, row.note_date, row.channel, row.payer_reference, row.next_followup) == (
        "C1", pd.Timestamp("2026-01-05"), "portal", "REF-9", pd.Timestamp("2026-01-20"))


def test_the_author_is_the_os_user_when_the_sheet_has_no_author_column():
    frame, _ = notes.read_notes(_sheet([{"Claim #": "C1", "Date": "2026-01-05", "Channel": "call"}]), AUTHOR)
    assert frame["author"].tolist() == [AUTHOR]


def test_an_author_column_is_kept_and_an_empty_author_cell_is_the_os_user():
    frame, _ = notes.read_notes(_sheet([
        {"Claim #": "C1", "Date": "2026-01-05", "Author": "asmith", "Channel": "call"},
        {"Claim #": "C2", "Date": "2026-01-05", "Author": "", "Channel": "call"}]), AUTHOR)
    assert frame["author"].tolist() == ["asmith", AUTHOR]


def test_bad_rows_are_named_by_row_and_column():
    _, findings = notes.read_notes(_sheet([
        {"Claim #": "C1", "Date": "2026-01-05", "Channel": "call"},
        {"Claim #": "C2", "Date": "2026-01-05", "Channel": "pigeon"},    # row 3: unknown channel
        {"Claim #": "C3", "Date": "2026-13-45", "Channel": "call"},      # row 4: not a date
        {"Claim #": "", "Date": "2026-01-05", "Channel": "call"}]), AUTHOR)  # row 5: no claim
    where = sorted((f.where.row, f.where.column) for f in notes.bad_rows(findings))
    assert where == [(3, "channel"), (4, "note_date"), (5, "claim_id")]


def test_a_finding_never_shows_the_outcome_text():
    _, findings = notes.read_notes(_sheet([
        {"Claim #": "C1", "Date": "not a date", "Channel": "call", "Outcome": "patient Jane Roe called"}]), AUTHOR)
    assert findings and not any("Jane" in str(f) for f in findings)



def test_a_cell_holding_a_nul_character_is_a_bad_row_named_by_row_and_column():
    # a team store on PostgreSQL cannot keep NUL in text, so no backend takes it (row 3: the second data row)
    _, findings = notes.read_notes(_sheet([
        {"Claim #": "C1", "Date": "2026-01-05", "Channel": "call", "Outcome": "fine"},
        {"Claim #": "C2", "Date": "2026-01-05", "Channel": "call", "Outcome": "called\x00back"}]), AUTHOR)
    where = [(f.where.row, f.where.column) for f in notes.bad_rows(findings)]
    assert where == [(3, "outcome")] and not any("called" in str(f) for f in findings)

# -- keys and the store ----------------------------------------------------------------------------------------

def test_the_same_note_has_the_same_key_and_a_different_outcome_another():
    a = _notes(("C1", D(2026, 1, 5), None))
    b = a.copy()
    b.loc[0, "outcome"] = "something else"
    assert notes.note_keys(a).iloc[0] == notes.note_keys(a.copy()).iloc[0]
    assert notes.note_keys(a).iloc[0] != notes.note_keys(b).iloc[0]


def test_a_sheet_imported_twice_stores_each_note_once(store_at):
    frame = _notes(("C1", D(2026, 1, 5), None), ("C2", D(2026, 1, 6), D(2026, 2, 1)))
    with Store.open(store_at) as store:
        assert store.add_notes(frame) == (2, 0)
        assert store.add_notes(frame) == (0, 2)
        assert len(store.notes()) == 2


def test_a_note_repeated_within_one_sheet_is_stored_once(store_at):
    frame = _notes(("C1", D(2026, 1, 5), None), ("C1", D(2026, 1, 5), None))
    frame.loc[1, "outcome"] = frame.loc[0, "outcome"]
    with Store.open(store_at) as store:
        assert store.add_notes(frame) == (1, 1)


def test_the_store_gives_one_claims_notes_in_entry_order(store_at):
    frame = _notes(("C1", D(2026, 1, 9), None), ("C2", D(2026, 1, 6), None), ("C1", D(2026, 1, 5), None))
    with Store.open(store_at) as store:
        store.add_notes(frame)
        mine = store.notes(["C1"])
    assert mine["note_date"].tolist() == [pd.Timestamp("2026-01-09"), pd.Timestamp("2026-01-05")]


# -- the latest-note rule --------------------------------------------------------------------------------------

def test_the_tickler_is_the_next_date_of_the_latest_note_by_date_not_by_entry():
    # entered second but dated earlier: the note of Jan 10 is the latest, its next date (Feb 1) is the tickler
    frame = _notes(("C1", D(2026, 1, 10), D(2026, 2, 1)), ("C1", D(2026, 1, 3), D(2026, 3, 1)))
    assert notes.next_followup("C1", frame) == D(2026, 2, 1)


def test_on_one_date_the_note_entered_last_is_the_latest():
    frame = _notes(("C1", D(2026, 1, 10), D(2026, 2, 1)), ("C1", D(2026, 1, 10), D(2026, 2, 15)))
    assert notes.next_followup("C1", frame) == D(2026, 2, 15)


def test_a_latest_note_without_a_next_date_clears_the_tickler():
    frame = _notes(("C1", D(2026, 1, 3), D(2026, 3, 1)), ("C1", D(2026, 1, 10), None))
    assert notes.next_followup("C1", frame) is None


def test_a_claim_without_notes_has_no_tickler():
    assert notes.next_followup("C9", _notes(("C1", D(2026, 1, 3), D(2026, 3, 1)))) is None


# -- the worklist view (acceptance: ticklers hide and re-show claims on the right dates) -------------------------

@pytest.mark.parametrize(("as_of", "shown", "hidden"), [
    (D(2026, 1, 9), ["A"], ["B", "C"]),       # before every tickler: only A (its date has passed) is shown
    (D(2026, 1, 10), ["A", "B"], ["C"]),      # B's follow-up day: B comes back
    (D(2026, 1, 11), ["A", "B"], ["C"]),
    (D(2026, 1, 12), ["A", "B"], ["C"]),
    (D(2026, 1, 13), ["A", "B", "C"], []),    # C's follow-up day: all three are shown
    (D(2026, 1, 14), ["A", "B", "C"], []),
])
def test_ticklers_hide_claims_until_their_follow_up_date_and_show_them_on_it(as_of, shown, hidden):
    # A's next date (Jan 8) is before every as-of date, B's is Jan 10, C's is Jan 13; the as-of moves day by day
    frame = _notes(("A", D(2026, 1, 2), D(2026, 1, 8)), ("B", D(2026, 1, 2), D(2026, 1, 10)),
                   ("C", D(2026, 1, 2), D(2026, 1, 13)))
    view = notes.followup_view(_worklist("A", "B", "C"), frame, as_of)
    assert view.shown["claim_id"].tolist() == shown
    assert view.hidden["claim_id"].tolist() == hidden


def test_the_shown_rows_are_ranked_again_and_the_hidden_ones_counted_in_the_message():
    frame = _notes(("A", D(2026, 1, 2), D(2026, 2, 1)), ("B", D(2026, 1, 2), D(2026, 2, 1)))
    view = notes.followup_view(_worklist("A", "B", "C", "D"), frame, D(2026, 1, 15))
    assert view.shown["rank"].tolist() == [1, 2]
    assert view.messages == ["2 hidden until their follow-up date"]


def test_rows_without_a_claim_are_never_hidden():
    view = notes.followup_view(_worklist(None, "A"), _notes(("A", D(2026, 1, 2), D(2026, 2, 1))), D(2026, 1, 5))
    assert len(view.shown) == 1 and view.shown["claim_id"].isna().all()


def test_each_row_carries_its_last_note_touches_and_days_since_the_last_touch():
    frame = _notes(("A", D(2026, 1, 2), None), ("A", D(2026, 1, 6), None))
    row = notes.followup_view(_worklist("A", "B"), frame, D(2026, 1, 15)).shown.set_index("claim_id")
    # A: two notes, the latest on Jan 6, 15 - 6 = 9 days ago; B: never touched
    assert (row.loc["A", "note_date"], row.loc["A", "outcome"], row.loc["A", "note_author"]) == (
        pd.Timestamp("2026-01-06"), "note 1", AUTHOR)
    assert (row.loc["A", "touches"], row.loc["A", "days_since_touch"]) == (2, 9)
    assert row.loc["B", "touches"] == 0 and pd.isna(row.loc["B", "days_since_touch"])


def test_without_notes_the_worklist_is_unchanged_but_for_the_note_columns():
    view = notes.followup_view(_worklist("A", "B"), None, D(2026, 1, 15))
    assert view.shown["claim_id"].tolist() == ["A", "B"] and view.messages == []
    assert set(notes.VIEW_COLUMNS) <= set(view.shown.columns)


# -- touches for the report ------------------------------------------------------------------------------------

def _claims() -> pd.DataFrame:
    return pd.DataFrame({"claim_id": ["A", "B", "C", "Z"], "payer_id": ["P1", "P1", "P2", "P2"],
                         "balance": [1000, 2000, 3000, 0]})


def test_touches_per_open_claim_count_notes_and_days_since_the_last():
    frame = _notes(("A", D(2026, 1, 1), None), ("A", D(2026, 1, 20), None), ("Z", D(2026, 1, 1), None))
    per = notes.touches(_claims(), frame, D(2026, 2, 1)).set_index("claim_id")
    assert list(per.index) == ["A", "B", "C"]  # Z has no balance: not open
    assert (per.loc["A", "touches"], per.loc["A", "days_since_touch"]) == (2, 12)  # Feb 1 - Jan 20 = 12 days
    assert per.loc["B", "touches"] == 0 and pd.isna(per.loc["B", "days_since_touch"])


def test_the_touch_summary_by_payer_counts_never_touched_and_stale_claims():
    # P1: A touched 12 days ago, B touched 31 days ago (Feb 1 - Jan 1); P2: C never touched
    frame = _notes(("A", D(2026, 1, 20), None), ("B", D(2026, 1, 1), None))
    summary = notes.touch_summary(_claims(), frame, D(2026, 2, 1)).set_index(["group", "value"])
    p1, p2 = summary.loc[("payer", "P1")], summary.loc[("payer", "P2")]
    assert (p1.claims, p1.touched, p1.never_touched, p1.stale) == (2, 2, 0, 1)
    assert p1.median_days_since_touch == 21.5  # (12 + 31) / 2
    assert (p2.claims, p2.touched, p2.never_touched) == (1, 0, 1)
    assert summary.loc[("total", "all")].claims == 3


def test_the_touch_summary_by_worklist_kind_counts_each_claim_on_the_kind():
    work = pd.DataFrame({"claim_id": ["A", "B", None], "kind": ["denial", "underpayment", "bank"]})
    summary = notes.touch_summary(_claims(), _notes(("A", D(2026, 1, 20), None)), D(2026, 2, 1), work)
    kinds = summary[summary["group"] == "kind"].set_index("value")
    assert kinds["claims"].to_dict() == {"denial": 1, "underpayment": 1}
    assert kinds.loc["denial", "touched"] == 1 and kinds.loc["underpayment", "never_touched"] == 1


def test_the_touch_summary_carries_no_claim_id_and_no_outcome():
    frame = _notes(("A", D(2026, 1, 20), None))
    summary = notes.touch_summary(_claims(), frame, D(2026, 2, 1))
    text = summary.to_csv()
    assert "note 0" not in text and not {"claim_id", "outcome"} & set(summary.columns)
    assert ",A," not in text


# -- the management report -------------------------------------------------------------------------------------

def test_the_report_shows_touches_on_a_follow_up_sheet_without_claim_ids_or_note_text(practice_small, tmp_path):
    import warnings

    import openpyxl

    from xl_ar.practice import load_practice
    from xl_ar.report import build_report

    practice = load_practice(practice_small)
    claims = practice.table("claims")
    open_claims = claims[claims["balance"] != 0]
    touched = open_claims["claim_id"].head(2).tolist()
    secret = "told by Rita at the payer"
    frame = _notes((touched[0], D(2026, 9, 1), None), (touched[0], D(2026, 9, 20), None),
                   (touched[1], D(2026, 9, 25), None))
    frame["outcome"] = secret
    with Store.open(tmp_path / "s.sqlite") as store:
        store.add_notes(frame)
        build_report(practice, store, tmp_path / "report.xlsx", as_of=D(2026, 9, 30))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    ws = wb["Follow-up"]
    total = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Total")
    # open claims, 2 touched, never touched = the rest; median touches of all open claims is 0 (most never)
    assert total[1:3] == (len(open_claims), 2) and total[5] == len(open_claims) - 2
    cells = [str(c) for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert not any(secret in c for c in cells)
    assert not any(c in touched for c in cells)
