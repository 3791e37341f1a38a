"""Benchmark of the 837P writer and reader on 100,000 invented claims (about 200,000 lines).

Figures (rows as in `benchmarks._table`): `write_837p` (checks, refusals, text built column by column)
and `read_837p` (the file read back into claims, lines and COB tables) against a floor that only
joins the same number of pre-built segment strings: the least any writer must do. The issue's bar is
10 s for exporting 100,000 claims.

Run: `python -m benchmarks.bench_837p` or `python -m benchmarks 837p` from the repository root.
"""

from __future__ import annotations

from benchmarks._table import Row, median_seconds, render
from tests.claims_builder import NOW, PRACTICE, many, payers
from xl_ar.x12.claims_in import read_837p
from xl_ar.x12.claims_out import write_837p
from xl_ar.x12.writer import ControlNumbers

CLAIMS = 100_000


def run(full: bool = False) -> list[Row]:
    claims, lines = many(CLAIMS)
    table = payers()
    text, findings = write_837p(claims, lines, table, PRACTICE, ControlNumbers(), NOW)
    assert not findings, findings[:3]
    segments = text.split("~\n")
    floor = median_seconds(lambda: "~\n".join(segments), 3)
    write = median_seconds(lambda: write_837p(claims, lines, table, PRACTICE, ControlNumbers(), NOW), 3)
    read = median_seconds(lambda: read_837p(text, "bench.837", table), 3)
    got, _ = read_837p(text, "bench.837", table)
    assert len(got["claims"]) == CLAIMS and int(got["claims"].charge.sum()) == int(claims.charge.sum())
    return [
        Row(f"837P export, {CLAIMS:,} claims ({len(text) / 1e6:.0f} MB)", write, floor, "s",
            "join of the pre-built segments"),
        Row(f"837P read back, {CLAIMS:,} claims", read, floor, "s", "join of the pre-built segments"),
    ]


if __name__ == "__main__":
    print(render(run()))
