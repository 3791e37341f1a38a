"""Condensed findings: the same problem on many rows is shown once, with a count and the first rows."""

from xl_ar.findings import Finding, Location, condense


def bad_amount(row: int, value: str = "abc", source: str = "claims.csv", column: str = "charge") -> Finding:
    return Finding("error", source, Location(row=row, column=column), f"'{value}' is not an amount", "bad value")


def test_a_single_finding_is_unchanged():
    f = bad_amount(3)
    assert condense([f]) == [f]


def test_the_same_problem_on_many_rows_is_one_finding_at_the_first_row():
    rows = [3, 5, 9, 12, 13, 20, 21]
    shown = condense([bad_amount(r) for r in rows])
    # 7 rows: the first is shown, 6 more, the first 5 of them listed
    assert [str(f) for f in shown] == [
        "claims.csv row 3, column 'charge': 'abc' is not an amount "
        "(and 6 more rows like it: rows 5, 9, 12, 13, 20, ...)"]


def test_different_quoted_values_are_the_same_problem():
    shown = condense([bad_amount(3, "abc"), bad_amount(4, "n/a")])
    assert [f.message for f in shown] == ["'abc' is not an amount (and 1 more row like it: row 4)"]


def test_no_ellipsis_when_every_row_is_listed():
    shown = condense([bad_amount(r) for r in (2, 3, 4)], first=2)
    assert shown[0].message.endswith("(and 2 more rows like it: rows 3, 4)")


def test_first_zero_gives_only_the_count():
    shown = condense([bad_amount(r) for r in (2, 3, 4)], first=0)
    assert shown[0].message == "'abc' is not an amount (and 2 more rows like it)"


def test_a_different_column_source_or_severity_is_another_problem():
    items = [bad_amount(2), bad_amount(3, column="paid"), bad_amount(4, source="other.csv"),
             Finding("warning", "claims.csv", Location(row=5, column="charge"), "'abc' is not an amount", "bad value")]
    assert condense(items) == items


def test_a_different_message_outside_the_quotes_is_another_problem():
    items = [bad_amount(2), Finding("error", "claims.csv", Location(row=3, column="charge"),
                                    "'abc' is not a whole number", "bad value")]
    assert condense(items) == items


def test_findings_without_a_row_are_never_merged():
    whole = Finding("warning", "claims.csv", Location(), "column 'Notes' is read but ignored", "ignored column")
    assert condense([whole, whole]) == [whole, whole]


def test_order_is_kept_with_each_group_where_its_first_finding_was():
    missing = Finding("error", "claims.csv", Location(row=4, column="payer_id"), "is empty; a value is required",
                      "empty value")
    shown = condense([bad_amount(2), missing, bad_amount(7)])
    assert [(f.where.row, f.code) for f in shown] == [(2, "bad value"), (4, "empty value")]
    assert shown[1] is missing


def test_the_findings_given_are_not_changed():
    items = [bad_amount(2), bad_amount(3)]
    condense(items)
    assert [f.message for f in items] == ["'abc' is not an amount"] * 2
