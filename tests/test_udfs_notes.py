"""=AR_NEXT_FOLLOWUP: a claim's tickler from the Notes table (`xl_ar.notes.next_followups`), under classic xlwings
and Office.js argument shapes (`tests.test_udfs.both`)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import xlwings_classic
from tests.test_udfs import ROOT, both

D = dt.datetime

NOTES = [
    ["Claim #", "Date", "Author", "Channel", "Reference #", "Outcome", "Next Follow-up"],
    ["C1", D(2026, 1, 5), "jdoe", "call", "R1", "reprocessing", D(2026, 1, 20)],
    ["C1", D(2026, 1, 12), "jdoe", "call", "R2", "still pending", D(2026, 1, 26)],  # latest of C1
    ["C2", D(2026, 1, 5), "jdoe", "portal", None, "asked for records", D(2026, 2, 1)],
    ["C2", D(2026, 1, 9), "jdoe", "call", None, "paid, nothing to follow", None],   # latest of C2: no date
    ["1234", D(2026, 1, 5), "jdoe", "call", None, "x", D(2026, 3, 1)],
]


@pytest.fixture(scope="module")
def xl():
    return xlwings_classic.load_with_classic_decorators(ROOT / "udfs" / "functions.py", "udfs_notes_classic")


def test_the_next_follow_up_is_the_date_of_the_latest_note(xl):
    assert both(xl, "ar_next_followup", "C1", NOTES) == dt.date(2026, 1, 26)


def test_a_latest_note_without_a_date_gives_an_empty_cell(xl):
    assert both(xl, "ar_next_followup", "C2", NOTES) == ""


def test_a_claim_without_notes_gives_an_empty_cell(xl):
    assert both(xl, "ar_next_followup", "C9", NOTES) == ""


def test_a_claim_id_typed_as_a_number_keeps_its_digits(xl):
    assert both(xl, "ar_next_followup", 1234.0, NOTES) == dt.date(2026, 3, 1)


def test_a_column_of_claims_gives_one_row_each(xl):
    assert both(xl, "ar_next_followup", [["C1"], ["C2"], ["C9"]], NOTES) == [[dt.date(2026, 1, 26)], [""], [""]]


def test_a_notes_range_without_its_header_row_gives_a_short_message(xl):
    result = both(xl, "ar_next_followup", "C1", NOTES[1:])
    assert isinstance(result, str) and result.startswith("AR_NEXT_FOLLOWUP: ") and "Traceback" not in result


def test_a_bad_date_in_the_notes_is_named_in_the_message(xl):
    bad = [NOTES[0], ["C1", "someday", "jdoe", "call", None, "x", None]]
    result = both(xl, "ar_next_followup", "C1", bad)
    assert result.startswith("AR_NEXT_FOLLOWUP: ") and "note_date" in result
