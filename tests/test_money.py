"""Money is exact: amounts become integer cents without float arithmetic on text."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from xl_ar.money import cents_text, format_cents, parse_cents, to_cents, x12_cents


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1,234.50", 123450),  # thousands separator, one trailing zero
        ("$12", 1200),
        ("(45.00)", -4500),  # accounting negative
        ("-3.5", -350),
        ("0.07", 7),
        (".5", 50),
        ("  $ 1,000,000.01 ", 100000001),
    ],
)
def test_to_cents_reads_amounts_as_people_write_them(text, cents):
    assert to_cents(text) == cents


@pytest.mark.parametrize("text", ["abc", "1.234", "12,34", "--5", "(5", "", "1.2.3", "$-(4)"])
def test_to_cents_rejects_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        to_cents(text)


def test_to_cents_of_a_spreadsheet_float_is_the_exact_cent():
    # 0.1 + 0.2 is 0.30000000000000004 in binary: still 30 cents, not 30.000000000000004
    assert to_cents(0.1 + 0.2) == 30
    with pytest.raises(ValueError):
        to_cents(0.125)  # a third decimal is not money


def test_to_cents_of_decimal_and_int():
    assert to_cents(Decimal("19.99")) == 1999
    assert to_cents(7) == 700


def test_parse_cents_flags_each_bad_value_and_keeps_the_rest():
    values = pd.Series(["10.00", "ten", "", None, "(2.50)"], dtype="str")
    cents, bad = parse_cents(values)
    assert cents.tolist()[:1] == [1000] and cents.iloc[4] == -250
    assert bad.tolist() == [False, True, False, False, False]
    assert cents.isna().tolist() == [False, True, True, True, False]


def test_parse_cents_of_spreadsheet_numbers():
    cents, bad = parse_cents(pd.Series([12.5, 3, 0.005], dtype=object))
    assert cents.tolist()[:2] == [1250, 300]
    assert bad.tolist() == [False, False, True]  # half a cent is not an amount


def test_x12_cents_rounds_digits_beyond_the_cent_half_away_from_zero():
    assert x12_cents("-977.94") == -97794
    assert x12_cents("12.500") == 1250
    assert x12_cents("12.505") == 1251  # 1250.5 cents: half a cent rounds up
    assert x12_cents("-12.505") == -1251  # and away from zero for a negative amount
    with pytest.raises(ValueError):
        x12_cents("1,2")


def test_formatting_round_trips():
    assert format_cents(-123456) == "-1234.56"
    assert list(cents_text(np.array([5, -100, 123456]))) == ["0.05", "-1.00", "1234.56"]


def test_x12_amounts_of_the_835_writer_drop_needless_zeros():
    from xl_ar.synth.era import amounts

    assert list(amounts(np.array([1200, 1250, -7, 123456]))) == ["12", "12.5", "-0.07", "1234.56"]


def test_amounts_for_people_group_thousands_and_round_to_the_cent():
    from xl_ar.money import for_people

    # 123456789 cents = $1,234,567.89; -5 cents; 99.6 cents (an expected allowed amount) rounds to $1.00
    assert for_people(np.array([123456789, -5, 99.6])).tolist() == ["1,234,567.89", "-0.05", "1.00"]


def test_cents_text_of_no_amounts_is_empty():
    # an agency file whose payments were all posted before gives an empty posting batch, not an error
    assert cents_text(pd.Series([], dtype="int64")).tolist() == []


def test_dollars_for_people_and_documents():
    from xl_ar.money import dollars

    # 123456 cents = $1,234.56; -5 cents = -$0.05; missing is empty
    assert (dollars(123456), dollars(-5), dollars(None)) == ("$1,234.56", "-$0.05", "")
