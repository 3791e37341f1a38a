"""Findings: structured locations read the way people expect, and a collector whose result does
not depend on the order findings were added in."""

from __future__ import annotations

import numpy as np

from xl_ar.findings import NOWHERE, Collector, Finding, Location, in_reading_order


def test_a_sheet_location_reads_row_then_column():
    f = Finding("error", "claims.csv", Location(row=17, column="service_date"), "is not a date", "bad value")
    assert f.location == "row 17, column 'service_date'"
    assert str(f) == "claims.csv row 17, column 'service_date': is not a date"
    assert f.where.row == 17 and f.where.column == "service_date"  # for programs: no text to parse


def test_an_x12_location_reads_transaction_then_segment():
    where = Location(transaction="ST 0001", segment=42, segment_id="CLP")
    assert str(where) == "ST 0001, segment 42 (CLP)" and where.order == 42


def test_a_whole_file_finding_has_no_location_text():
    assert str(Finding("warning", "a.835", NOWHERE, "the file holds no 835 transaction")) == \
        "a.835: the file holds no 835 transaction"


def test_reading_order_puts_whole_file_findings_first_then_rows():
    found = [Finding("error", "c", Location(row=9), "x"), Finding("error", "c", NOWHERE, "y"),
             Finding("error", "c", Location(row=3, column="b"), "z")]
    assert [f.message for f in in_reading_order(found)] == ["y", "z", "x"]


def where(row: int) -> Location:
    return Location(segment=row + 1, segment_id="SVC")


def collect(batches: list[tuple[str, np.ndarray]], limit: int = 5) -> list[Finding]:
    c = Collector("f.835", limit=limit)
    for code, rows in batches:
        c.add_rows(code, "error", rows, where, f"{code} here")
    return c.result()


def test_the_same_findings_in_any_order_give_the_same_result():
    batches = [("bad number", np.array([40, 3, 17])), ("missing element", np.array([5, 3])),
               ("bad number", np.array([8, 1]))]
    assert collect(batches) == collect(batches[::-1]) == collect([batches[1], batches[2], batches[0]])


def test_the_cap_keeps_the_first_findings_of_the_file_whatever_came_first():
    late, early = np.arange(100, 110), np.arange(0, 10)
    for order in ([late, early], [early, late]):
        result = collect([("bad number", rows) for rows in order], limit=5)
        assert [f.where.segment for f in result[:-1]] == [1, 2, 3, 4, 5]  # rows 0-4, positions from 1
        assert result[-1].message == "15 more findings of the kind 'bad number' not listed"  # 20 - 5


def test_memory_stays_bounded_however_many_findings():
    c = Collector("f.835", limit=10)
    for start in range(0, 10_000, 7):
        c.add(code="bad date", severity="warning", where=where(10_000 - start), message="bad")
    assert max(len(kept) for kept in c._kept.values()) < 20
    assert c.result()[-1].message == "1419 more findings of the kind 'bad date' not listed"  # 1429 added, 10 listed


def test_a_summary_is_an_error_when_any_finding_of_its_code_is():
    c = Collector("f.835", limit=1)
    c.add_rows("outside claim", "warning", np.array([1, 2]), where, "outside")
    c.add_rows("outside claim", "error", np.array([3]), where, "outside")
    assert c.result()[-1].severity == "error"
