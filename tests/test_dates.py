"""Dates in exports: ISO timestamps, compact and US dates, and one day/month order per file."""

import datetime as dt

import pandas as pd
import pytest

from xl_ar import tables


def claims(**dates: list) -> pd.DataFrame:
    """Claims rows (one per date given) whose date columns are `dates`; other cells are valid."""
    n = len(next(iter(dates.values())))
    rows = {
        "claim_id": [f"C{i}" for i in range(n)], "account_id": ["A1"] * n, "payer_id": ["MCR"] * n,
        "charge": ["100.00"] * n, "paid": ["0"] * n, "adjusted": ["0"] * n, "balance": ["100.00"] * n,
        "responsibility": ["insurance"] * n, "service_date": ["2026-01-05"] * n,
    }
    rows.update(dates)
    return pd.DataFrame(rows, dtype="str")


def read(raw: pd.DataFrame, date_format: str | None = None):
    return tables.from_frame("claims", raw, "claims.csv", date_format=date_format)


def days(frame: pd.DataFrame, column: str = "service_date") -> list:
    return [None if pd.isna(v) else v.date() for v in frame[column]]


def messages(findings) -> list[str]:
    return [str(f) for f in findings]


def test_an_iso_timestamp_with_z_is_its_own_calendar_date():
    frame, findings = read(claims(service_date=["2026-01-23T08:19:49Z", "2026-01-23T23:59:59Z"]))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 23)] * 2


def test_an_offset_is_not_converted():
    # 23:30 at -05:00 is 04:30 the next day in UTC; the date written is the date read
    frame, findings = read(claims(service_date=["2026-01-23T08:19:49.5+00:00", "2026-01-23T23:30:00-05:00"]))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 23)] * 2


def test_a_compact_date_is_read():
    frame, findings = read(claims(service_date=["20260123"]))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 23)]


def test_the_formats_accepted_before_are_still_read():
    frame, findings = read(claims(service_date=["2026-01-23", "2026-01-23 08:00:00", "2026/01/23", "01-23-2026"]))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 23)] * 4


def test_us_dates_with_one_digit_parts_and_two_digit_years_are_read():
    # 1/13/2026 settles month/day, so 1/2/2026 and 01/02/26 are 2 January
    frame, findings = read(claims(service_date=["1/13/2026", "1/2/2026", "01/02/26"]))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 13), dt.date(2026, 1, 2), dt.date(2026, 1, 2)]


def test_a_us_date_with_a_12_hour_time_is_read():
    frame, findings = read(claims(service_date=["1/23/2026 12:00:00 AM", "1/23/2026 1:05 PM"]))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 23)] * 2


def test_dates_with_english_month_names_are_read():
    texts = ["23 Jan 2026", "23-Jan-26", "23 January 2026", "Jan 23, 2026", "Sept. 23, 2026", "January 23 2026"]
    frame, findings = read(claims(service_date=texts))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 23)] * 4 + [dt.date(2026, 9, 23),
                                                                           dt.date(2026, 1, 23)]


def test_a_word_that_is_not_a_month_is_not_a_date():
    _, findings = read(claims(service_date=["23 Foo 2026"]))
    assert [f.message for f in findings] == ["a value of 11 characters is not a date"]  # not date-shaped: not quoted


def test_a_first_part_above_12_settles_day_month_for_the_file():
    # 13/02/2026 can only be 13 February, so 01/02/2026 is 1 February
    frame, findings = read(claims(service_date=["01/02/2026", "13/02/2026"]))
    assert findings == [] and days(frame) == [dt.date(2026, 2, 1), dt.date(2026, 2, 13)]


def test_a_dotted_european_date_is_read_day_first():
    frame, findings = read(claims(service_date=["23.01.2026", "01.02.2026"]))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 23), dt.date(2026, 2, 1)]


def test_the_order_is_settled_over_all_date_columns_of_the_file():
    # billed 02/13/2026 settles month/day, which makes the service date 01/02/2026 2 January
    frame, findings = read(claims(service_date=["01/02/2026"], billed_date=["02/13/2026"]))
    assert findings == [] and days(frame) == [dt.date(2026, 1, 2)]


def test_ambiguous_dates_nothing_settles_are_one_error_for_the_file():
    frame, findings = read(claims(service_date=["01/02/2026", "03/04/2026", "05/06/2026"]))
    assert messages(findings) == [
        "claims.csv row 2, column 'service_date': dates such as 01/02/2026 could be month/day or day/month and "
        "no date in claims.csv settles it: set its date_format to MM/DD/YYYY or DD/MM/YYYY in practice.json"]
    assert findings[0].code == tables.AMBIGUOUS_DATES
    assert days(frame) == [None, None, None]  # not guessed, and not reported again row by row


def test_dates_whose_parts_are_equal_are_not_ambiguous():
    frame, findings = read(claims(service_date=["03/03/2026", "12/12/2025"]))
    assert findings == [] and days(frame) == [dt.date(2026, 3, 3), dt.date(2025, 12, 12)]


def test_an_ambiguous_date_of_birth_is_not_shown_as_the_example():
    raw = claims(service_date=["2026-01-05"], date_of_birth=["03/04/1950"])
    _, findings = read(raw)
    assert len(findings) == 1 and "03/04/1950" not in findings[0].message
    assert findings[0].message.startswith("dates such as 01/02/2026 could be month/day or day/month")


def test_dates_settled_both_ways_are_one_error_naming_a_row_of_each():
    _, findings = read(claims(service_date=["02/13/2026", "01/02/2026", "13/02/2026"]))
    assert messages(findings) == [
        "claims.csv: dates in claims.csv are written both month/day (row 2, column 'service_date': '02/13/2026') "
        "and day/month (row 4, column 'service_date': '13/02/2026'): set its date_format to MM/DD/YYYY or "
        "DD/MM/YYYY in practice.json and correct the dates written the other way"]
    assert findings[0].code == tables.MIXED_DATE_ORDER


def test_a_date_format_decides_ambiguous_dates():
    frame, findings = read(claims(service_date=["01/02/2026"]), date_format="DD/MM/YYYY")
    assert findings == [] and days(frame) == [dt.date(2026, 2, 1)]


def test_a_date_format_is_the_only_order_accepted():
    frame, findings = read(claims(service_date=["01/02/2026", "02/13/2026"]), date_format="DD/MM/YYYY")
    assert messages(findings) == ["claims.csv row 3, column 'service_date': '02/13/2026' is not a date in the "
                                  "format DD/MM/YYYY (date_format)"]
    assert days(frame) == [dt.date(2026, 2, 1), None]


def test_an_iso_date_format_refuses_year_last_dates_but_reads_iso_ones():
    frame, findings = read(claims(service_date=["2026-02-13", "03/03/2026"]), date_format="YYYY-MM-DD")
    assert [f.where.row for f in findings] == [3] and days(frame) == [dt.date(2026, 2, 13), None]


@pytest.mark.parametrize("setting, order", [
    ("MM/DD/YYYY", "md"), ("DD/MM/YYYY", "dm"), ("YYYY-MM-DD", "ymd"), ("dd.mm.yy", "dm"), ("%m/%d/%Y", "md"),
    ("YYYYMMDD", "ymd"),
])
def test_date_format_settings_give_an_order(setting, order):
    assert tables.date_order(setting) == order


def test_an_unknown_date_format_is_refused_with_the_accepted_ones():
    with pytest.raises(ValueError, match="use one of MM/DD/YYYY, DD/MM/YYYY, YYYY-MM-DD"):
        tables.date_order("MM/YYYY")


def test_a_separator_less_format_other_than_yyyymmdd_is_refused():
    # 01232026 would be read as the compact year-first date 0123-20-26, so MMDDYYYY cannot be honoured
    with pytest.raises(ValueError):
        tables.date_order("MMDDYYYY")


@pytest.mark.parametrize(("text", "shown"), [
    ("2026-01-23T25:00:00Z", "'2026-01-23T25:00:00Z'"), ("2026-02-30", "'2026-02-30'"), ("13/13/2026", "'13/13/2026'"),
    ("1/2/3/2026", "a value of 10 characters"), ("soon", "a value of 4 letters")])  # date-shaped values only are quoted
def test_what_is_not_a_date_is_reported_per_row(text, shown):
    frame, findings = read(claims(service_date=[text]))
    assert [f.message for f in findings] == [f"{shown} is not a date"] and days(frame) == [None]


def test_a_5000_character_cell_is_one_bad_value():
    _, findings = read(claims(service_date=["2026-01-23" * 500]))
    assert len(findings) == 1 and findings[0].message.endswith("is not a date")


def test_a_cell_of_ten_million_delimiters_is_one_bad_value():
    _, findings = read(claims(service_date=["/-" * 5_000_000, "1/13/2026"]))
    assert [f.where.row for f in findings] == [2]


def test_spreadsheet_date_cells_and_numbers_are_read():
    raw = claims(service_date=["x", "x", "x"]).astype(object)
    raw["service_date"] = [dt.datetime(2026, 1, 23, 15, 0), dt.date(2026, 1, 23), 20260123]
    frame, findings = read(raw)
    assert findings == [] and days(frame) == [dt.date(2026, 1, 23)] * 3


def test_a_repeated_value_is_parsed_once_and_given_to_every_row():
    frame, findings = read(claims(service_date=["01/31/2026"] * 1000 + [""] + ["2026-02-01"]))
    assert days(frame)[999:] == [dt.date(2026, 1, 31), None, dt.date(2026, 2, 1)]
    assert [f.message for f in findings] == ["is empty; a value is required"]
