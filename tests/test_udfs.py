"""Excel functions: the same results under classic xlwings (COM) and Office.js argument shapes.

Classic passes a range as rows of values with dates as datetime, numbers as floats and empty cells
as None (run here through xlwings' own UDF machinery with stand-ins for the Windows modules);
Office.js passes dates as serial numbers, empty cells as 0 and whole numbers as int.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import pytest

from tests import xlwings_classic
from udfs import functions

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "workbooks" / "vba" / "udfs_functions.bas"
AS_OF = dt.datetime(2026, 9, 30)
D = dt.datetime

HEADER = ["Claim #", "Pat Acct", "Ins Code", "DOS", "Billed Date", "Charges", "Payments", "Adjustments",
          "Balance", "Resp"]
ROWS = [
    ["C1", "A1", "MCR", D(2026, 9, 20), D(2026, 9, 22), 200.0, 0.0, 0.0, 200.0, "insurance"],   # 10 days
    ["C2", "A2", "MCR", D(2026, 8, 15), D(2026, 8, 17), 300.0, 100.0, 100.0, 100.0, "insurance"],  # 46
    ["C3", "A3", "SMH", D(2026, 7, 1), D(2026, 7, 3), 100.0, 0.0, 0.0, 100.0, "insurance"],    # 91
    ["C4", "A4", "SMH", D(2026, 5, 1), D(2026, 5, 3), 400.0, 0.0, 0.0, 400.0, "patient"],      # 152
    ["C5", "A5", "SMH", D(2026, 4, 1), D(2026, 4, 3), 500.0, 450.0, 100.0, -50.0, "patient"],  # credit
    ["C6", "A6", "MCR", D(2026, 9, 29), None, 100.0, 0.0, 0.0, 100.0, "insurance"],            # unbilled
]
CLAIMS = [HEADER, *ROWS]

REMIT_HEADER = ["payment_id", "claim_seq", "claim_id", "status_code", "charge", "paid", "payment_date"]
REMITS = [REMIT_HEADER,
          ["P1", 1.0, "A", "1", 100.0, 80.0, D(2026, 9, 1)],
          ["P2", 1.0, "B", "4", 300.0, 0.0, D(2026, 9, 2)],
          ["P3", 1.0, "C", "1", 200.0, 150.0, D(2026, 9, 3)]]


def serial(d: dt.datetime) -> int:
    return (d.date() - dt.date(1899, 12, 30)).days


def officejs(value):
    """An argument as Office.js passes it: serial dates, 0 for empty cells, int for whole numbers."""
    if isinstance(value, list):
        return [officejs(v) for v in value]
    if isinstance(value, dt.datetime):
        return serial(value)
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def classic(value):
    """An argument as COM passes a range: a tuple of row tuples."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return tuple(tuple(r) for r in value)
    return value


@pytest.fixture(scope="module")
def xl():
    return xlwings_classic.load_with_classic_decorators(ROOT / "udfs" / "functions.py", "udfs_functions_classic")


def both(xl, name: str, *args):
    """Results of one call under both runtimes; they must be identical."""
    from_com = xlwings_classic.call(xl, name, *[classic(a) for a in args])
    from_js = getattr(functions, name)(*[None if a is xlwings_classic.MISSING else officejs(a) for a in args])
    if not isinstance(from_js, list):  # classic hands a single value to COM as a 1 x 1 array
        assert from_com == [[from_js]], name
        return from_js
    assert from_com == from_js, name
    assert not _has_nan(from_js)
    return from_js


def _has_nan(value) -> bool:
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    return isinstance(value, float) and math.isnan(value)


# -- results ------------------------------------------------------------------------------------------

def test_ar_aging_by_payer(xl):
    rows = both(xl, "ar_aging", CLAIMS, AS_OF, "payer")
    assert rows[0] == ["group", "claims", "0-30", "31-60", "61-90", "91-120", "121+", "total", "% over 90"]
    # MCR: 200 in 0-30, 100 in 31-60 -> 300, nothing over 90 (C6's 100 is not billed yet)
    assert rows[1] == ["MCR", 2, 200.0, 100.0, 0.0, 0.0, 0.0, 300.0, 0.0]
    # SMH: 100 in 91-120, 400 in 121+ -> 500, all over 90
    assert rows[2] == ["SMH", 2, 0.0, 0.0, 0.0, 100.0, 400.0, 500.0, 1.0]
    # billed total 800, over 90 500 -> 500/800 (= AR_PCT_OVER); unbilled 100 on its own row; A/R 800 + 100
    assert rows[3][:8] == ["Total", 4, 200.0, 100.0, 0.0, 100.0, 400.0, 800.0]
    assert rows[3][8] == pytest.approx(500 / 800)
    assert rows[4] == ["Unbilled (in A/R)", 1, "", "", "", "", "", 100.0, ""]
    assert rows[5] == ["A/R", 5, "", "", "", "", "", 900.0, ""]
    # the -50 credit on its own row, in 121+
    assert rows[6] == ["Credit balances", 1, 0.0, 0.0, 0.0, 0.0, -50.0, -50.0, ""]


def test_ar_aging_with_custom_buckets_and_defaults(xl):
    rows = both(xl, "ar_aging", CLAIMS, AS_OF, xlwings_classic.MISSING, xlwings_classic.MISSING, [[0, 60, 120]])
    assert rows[0][2:5] == ["0-60", "61-120", "121+"]
    # one group (none), billed claims: 0-60: 200 + 100 = 300; 61-120: 100; 121+: 400
    assert rows[1][:6] == ["All claims", 4, 300.0, 100.0, 400.0, 800.0]


def test_ar_bucket_spills_a_label_per_date(xl):
    dates = [[D(2026, 9, 1)], [None], [D(2026, 6, 1)], [D(2026, 10, 2)]]
    # 29 days, empty, 121 days, after the as-of date
    assert both(xl, "ar_bucket", dates, AS_OF) == [["0-30"], [""], ["121+"], ["future"]]


def test_ar_days_in_ar(xl):
    # 900 of A/R / (700 of charges in 2026-07-01..09-30 / 92 days)
    assert both(xl, "ar_days_in_ar", CLAIMS, AS_OF) == pytest.approx(900 / (700 / 92))
    # one-month look-back: charges 200 + 100 over 31 days
    assert both(xl, "ar_days_in_ar", CLAIMS, AS_OF, 1.0) == pytest.approx(900 / (300 / 31))


def test_ar_pct_over_number_and_table(xl):
    # billed A/R 200 + 100 + 100 + 400 = 800; over 90: 100 + 400
    assert both(xl, "ar_pct_over", CLAIMS, AS_OF, 90.0) == pytest.approx(500 / 800)
    table = both(xl, "ar_pct_over", CLAIMS, AS_OF, 90.0, "payer")
    assert table == [["payer", "billed A/R", "A/R over 90", "% over 90"], ["MCR", 300.0, 0.0, 0.0],
                     ["SMH", 500.0, 500.0, 1.0]]


def test_ar_ncr_and_gcr(xl):
    # service 2026-04-01..08-31: paid 550, charges 1300, adjustments 200 (no write-off column: all of them,
    # an upper bound, said in the cell to the right)
    (rate, note), = both(xl, "ar_ncr", CLAIMS, D(2026, 4, 1), D(2026, 8, 31))
    assert rate == pytest.approx(550 / 1100) and note.startswith("upper bound")
    assert both(xl, "ar_gcr", CLAIMS, D(2026, 4, 1), D(2026, 8, 31)) == pytest.approx(550 / 1300)


DENIAL_CLAIMS = [["Claim #", "Billed Date", "Charges"], ["A", D(2026, 9, 1), 100.0], ["B", D(2026, 9, 2), 300.0],
                 ["C", D(2026, 9, 3), 200.0], ["D", D(2026, 9, 4), 400.0]]
DENIAL_ADJUSTMENTS = [["payment_id", "claim_seq", "claim_id", "line_seq", "group_code", "reason_code", "amount"],
                      ["P1", 1.0, "A", 1.0, "CO", "45", 20.0], ["P2", 1.0, "B", None, "CO", "50", 300.0]]


def test_ar_denial_rate_count_and_table(xl):
    # billed in September: A, B (CLP02 4), C, D (no remittance yet) -> 1/4; dollars 300 / 1000
    assert both(xl, "ar_denial_rate", DENIAL_CLAIMS, REMITS, DENIAL_ADJUSTMENTS, D(2026, 9, 1),
                D(2026, 9, 30)) == pytest.approx(1 / 4)
    table = both(xl, "ar_denial_rate", DENIAL_CLAIMS, REMITS, DENIAL_ADJUSTMENTS, D(2026, 9, 1), D(2026, 9, 30),
                 "table")
    assert table[1] == ["count", 1, 4, 0.25, 1] and table[2][:3] == ["dollars", 300.0, 1000.0]


def test_ar_kpis_two_column_table(xl):
    table = both(xl, "ar_kpis", CLAIMS, AS_OF)
    values = dict(table[1:])
    assert values["A/R (excluding credit balances)"] == 900.0 and values["Credit balances"] == 50.0
    assert values["% of billed A/R over 90 days"] == pytest.approx(500 / 800)
    assert values["Days in A/R"] == pytest.approx(900 / (700 / 92))


FEES = [["Payer", "CPT", "Modifier", "Allowed"], ["ACME", 71046.0, None, 50.0], ["ACME", 71046.0, "26", 16.0]]
PAYER_LIST = [["payer_id", "name", "payer_class", "timely_filing_days", "appeal_days"],
              ["ACME", "Acme Health", "commercial", 90.0, None], ["MCR", "Medicare", "medicare", None, None]]


def test_ar_carc_gives_label_category_and_action(xl):
    assert both(xl, "ar_carc", 50.0) == [["Not deemed medically necessary", "medical_necessity", "appeal"]]
    assert both(xl, "ar_carc", "CO-97") == [["Paid as part of another service (bundled)", "bundling", "write off"]]


def test_ar_carc_takes_the_group_into_account(xl):
    # CARC 22 (another payer may be primary): under CO the provider must correct the claim, never bill
    # the patient; under PR it is the patient's share
    assert both(xl, "ar_carc", "CO-22")[0][2] == "correct and resubmit"
    assert both(xl, "ar_carc", "PR-22")[0][1:] == ["patient_responsibility", "bill patient or secondary"]


def test_ar_expected_from_the_fee_schedule(xl):
    # 71046 with modifier 26: 16.00 per unit x 2 units
    assert both(xl, "ar_expected", "ACME", 71046.0, "26", 2.0, FEES) == 32.0
    # no modifier: the base rate, 50.00 x 1 (units left empty)
    assert both(xl, "ar_expected", "ACME", 71046.0, None, None, FEES) == 50.0
    assert both(xl, "ar_expected", "ACME", 99999.0, None, None, FEES) == (
        "AR_EXPECTED: no rate for ACME 99999 in the fee schedule")


def test_ar_deadline_per_payer_and_class_default(xl):
    # ACME files within its own 90 days of the date of service: 2026-08-01 + 90 = 2026-10-30
    assert both(xl, "ar_deadline", "ACME", D(2026, 8, 1), None, PAYER_LIST) == dt.date(2026, 10, 30)
    # ACME has no appeal limit of its own: the commercial default, 180 days
    assert both(xl, "ar_deadline", "ACME", D(2026, 8, 1), "appeal", PAYER_LIST) == dt.date(2027, 1, 28)
    # Medicare: 365 days to file
    assert both(xl, "ar_deadline", "MCR", D(2026, 8, 1), "timely_filing", PAYER_LIST) == dt.date(2027, 8, 1)


# -- bad input gives a short message in the cell --------------------------------------------------

def test_missing_column_message_lists_the_headers(xl):
    without_balance = [[h for h in r if h != "Balance"] if i == 0 else r[:8] + r[9:] for i, r in enumerate(CLAIMS)]
    message = both(xl, "ar_aging", without_balance, AS_OF)
    assert message == ("AR_AGING: column 'balance' not found; headers are: Claim #, Pat Acct, Ins Code, DOS, "
                       "Billed Date, Charges, Payments, Adjustments, Resp")


def test_as_of_that_is_not_a_date(xl):
    assert both(xl, "ar_aging", CLAIMS, "yesterday") == "AR_AGING: as_of must be a date"


def test_a_bad_cell_names_row_and_column(xl):
    bad = [list(r) for r in CLAIMS]
    bad[3][5] = "lots"
    assert both(xl, "ar_kpis", bad, AS_OF) == (
        "AR_KPIS: claims row 4, column 'charge': a value of 4 letters is not an amount")


def test_bad_option_values(xl):
    assert both(xl, "ar_aging", CLAIMS, AS_OF, "doctor").startswith("AR_AGING: group_by must be one of")
    assert both(xl, "ar_aging", CLAIMS, AS_OF, "payer", "paid_date").startswith("AR_AGING: basis must be")
    assert both(xl, "ar_aging", CLAIMS, AS_OF, "payer", "service_date", [[0, 60, 30]]) == (
        "AR_AGING: bucket edges must increase: 0, 60, 30")


def test_a_kpi_that_cannot_be_computed_says_why(xl):
    only_old = [HEADER, ROWS[4]]
    assert both(xl, "ar_days_in_ar", only_old, AS_OF) == (
        "AR_DAYS_IN_AR: no charges with a date of service in the 3 months before as_of")


def test_a_range_without_header_row(xl):
    assert both(xl, "ar_aging", ROWS, AS_OF) == (
        "AR_AGING: claims must start with its header row (use Table[#All])")


# -- metadata and the VBA the add-in ships ------------------------------------------------------------

EXCEL_NAMES = ["ar_aging", "ar_bucket", "ar_days_in_ar", "ar_pct_over", "ar_ncr", "ar_gcr", "ar_denial_rate",
               "ar_kpis", "ar_carc", "ar_expected", "ar_deadline", "ar_eligible", "ar_next_followup"]


def test_every_function_is_in_the_medical_ar_category_with_help(xl):
    for name in EXCEL_NAMES:
        info = getattr(xl, name).__xlfunc__
        assert info["category"] == "Medical A/R", name
        assert info["ret"]["doc"] and "Python function" not in info["ret"]["doc"], name
        assert all(not a["doc"].startswith("Positional argument") for a in info["args"]), name


def test_vba_wrappers_match_the_snapshot(xl):
    vba = xlwings_classic.vba_wrappers(xl, "udfs.functions")
    for name in EXCEL_NAMES:
        assert f"Function {name}(" in vba
    if os.environ.get("XL_AR_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(vba, newline="\r\n")
    assert SNAPSHOT.read_text().replace("\r\n", "\n") == vba.replace("\r\n", "\n")


VBA_KEYWORDS = {"end", "type", "date", "dim", "sub", "function", "next", "loop", "to", "step", "if", "then", "else",
                "for", "each", "in", "is", "not", "and", "or", "me", "new", "nothing", "set", "let", "get", "property",
                "select", "case", "with", "while", "wend", "do", "until", "exit", "call", "const", "static", "public",
                "private", "option", "error", "on", "goto", "resume", "stop", "string", "integer", "long", "double",
                "variant", "object", "boolean", "byte", "currency", "single", "optional", "paramarray", "byval",
                "byref", "as", "mod", "xor", "eqv", "imp", "like", "true", "false", "empty", "null", "print", "open",
                "close", "input", "line", "name", "time", "len", "val", "array"}


def test_parameter_names_are_legal_in_the_vba_wrapper(xl):
    for name in EXCEL_NAMES:
        for arg in getattr(xl, name).__xlfunc__["args"]:
            assert arg["name"].lower() not in VBA_KEYWORDS, f"{name}({arg['name']})"
