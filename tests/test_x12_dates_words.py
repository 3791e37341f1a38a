"""CCYYMMDD dates read a 64-bit word at a time (`tokens.parse_date`): the same dates and refusals as
byte by byte, in the middle of a file and within its last 8 bytes."""

from __future__ import annotations

import numpy as np

from xl_ar.x12.tokens import parse_date

WRITTEN = ["20240229", "20230229", "2024:115", "20241301", "18000101", "17991231", "2024011/", "20240131"]
EXPECTED = ["2024-02-29", None, None, None, "1800-01-01", None, None, "2024-01-31"]
# 2023 is no leap year; ':' and '/' sit just above and below the digits; 1799 is before the range read


def read(values: list[str], trailer: str) -> list[str | None]:
    text = "*".join(values) + trailer
    buf = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    a = np.cumsum([0] + [len(v) + 1 for v in values[:-1]])
    dates, ok = parse_date(buf, a, a + np.array([len(v) for v in values]))
    return [str(d) if k else None for d, k in zip(dates, ok, strict=True)]


def test_dates_inside_a_file_are_read_and_refused_as_written():
    assert read(WRITTEN, "*SE") == EXPECTED


def test_a_date_in_the_last_eight_bytes_reads_the_same():
    assert read(WRITTEN, "") == EXPECTED  # the last date ends the file: no whole word after its start
