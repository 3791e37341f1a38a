"""=AR_ELIGIBLE: the member's coverage on a date of service from the 271 responses (`xl_ar.eligibility.eligible`),
under classic xlwings and Office.js argument shapes (`tests.test_udfs.both`): one cell or a column of members,
one row of status and reason per member."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import xlwings_classic
from tests.test_udfs import ROOT, both

D = dt.datetime

HEADER = ["source_file", "transaction", "response_date", "payer_edi_id", "member_id", "coverage_status",
          "benefit_code", "plan", "eligibility_begin", "eligibility_end", "rejection_reason"]
RESPONSES = [
    HEADER,
    # covered all of 2026
    ["a.271", "0001", D(2026, 9, 1), "60054", "M100", "active", "1", "Gold PPO", D(2026, 1, 1), D(2026, 12, 31), None],
    # covered until June 30
    ["a.271", "0002", D(2026, 9, 1), "60054", "M200", "active", "1", None, D(2026, 1, 1), D(2026, 6, 30), None],
    # the payer rejected the inquiry: AAA 72 (invalid member id)
    ["a.271", "0003", D(2026, 9, 1), "60054", "M300", None, None, None, None, None, "72"],
    # a member id the payer knows as a number
    ["a.271", "0004", D(2026, 9, 1), "60054", "12345", "active", "1", None, D(2026, 1, 1), None, None],
]
DOS = D(2026, 9, 15)


@pytest.fixture(scope="module")
def xl():
    return xlwings_classic.load_with_classic_decorators(ROOT / "udfs" / "functions.py", "udfs_eligible_classic")


def test_one_member_covered_on_the_date_is_active_with_the_plan(xl):
    assert both(xl, "ar_eligible", "M100", DOS, RESPONSES) == [["active", "coverage active (Gold PPO)"]]


def test_a_column_of_members_spills_one_row_each_in_order(xl):
    members = [["M100"], ["M200"], ["M300"], ["M999"]]
    assert both(xl, "ar_eligible", members, DOS, RESPONSES) == [
        ["active", "coverage active (Gold PPO)"],
        ["inactive", "coverage ended on 2026-06-30"],  # 2026-09-15 is after the end of coverage
        ["unknown", "payer rejected the inquiry: AAA 72 invalid or missing member id"],
        ["unknown", "no eligibility response for the member"],
    ]


def test_a_column_of_dates_is_paired_row_by_row(xl):
    # M200 is covered on 2026-05-01 (inside Jan 1 - Jun 30) and not on 2026-07-01
    result = both(xl, "ar_eligible", [["M200"], ["M200"]], [[D(2026, 5, 1)], [D(2026, 7, 1)]], RESPONSES)
    assert [r[0] for r in result] == ["active", "inactive"]


def test_a_member_id_typed_as_a_number_keeps_its_digits(xl):
    # Excel holds 12345 as the number 12345.0 (classic) or 12345 (Office.js): both are member 12345
    assert both(xl, "ar_eligible", 12345.0, DOS, RESPONSES)[0][0] == "active"


def test_an_empty_row_stays_empty_and_a_member_without_a_date_is_unknown(xl):
    result = both(xl, "ar_eligible", [["M100"], [None], ["M100"]], [[DOS], [None], [None]], RESPONSES)
    assert result == [["active", "coverage active (Gold PPO)"], ["", ""], ["unknown", "no date of service"]]


def test_columns_of_different_lengths_are_refused(xl):
    assert both(xl, "ar_eligible", [["M100"], ["M200"], ["M300"]], [[DOS], [DOS]], RESPONSES) == (
        "AR_ELIGIBLE: service_date must be one cell or a column of 3 cells (it has 2)")


def test_a_table_without_the_member_column_names_it(xl):
    without = [[v for j, v in enumerate(row) if j != 4] for row in RESPONSES]
    assert both(xl, "ar_eligible", "M100", DOS, without) == (
        "AR_ELIGIBLE: column 'member_id' not found; headers are: " + ", ".join(h for h in HEADER if h != "member_id"))


def test_a_date_that_is_not_a_date(xl):
    assert both(xl, "ar_eligible", "M100", "soon", RESPONSES) == "AR_ELIGIBLE: service_date must be a date"


def test_only_the_required_columns_are_needed(xl):
    # member, file and transaction only: no coverage status anywhere, so the answer is unknown
    minimal = [[*row[:2], row[4]] for row in RESPONSES]
    assert both(xl, "ar_eligible", "M100", DOS, minimal) == [
        ["unknown", "the payer's response states no coverage status"]]
