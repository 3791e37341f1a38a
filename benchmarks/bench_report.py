"""The management report for 100,000 claims with two years of history, against a plain to_excel.

The practice is generated once (about 15 s) and used by every row. `xl-ar report` in a fresh process
takes about 20 s a run: once by default, three times with --full (median time, highest peak)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks._table import Row, fresh_process, median_seconds, peak_mb
from xl_ar.practice import load_practice
from xl_ar.report import build_report
from xl_ar.reports import management
from xl_ar.store import Store
from xl_ar.synth import generate

CLAIMS = 100_000


def run(full: bool = False) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generate(tmp / "practice", claims=CLAIMS, months=24, seed=4)
        practice = load_practice(tmp / "practice")

        def report(path: Path):
            with Store.open(tmp / "store.sqlite") as store:
                return build_report(practice, store, path, months=24)

        start = time.perf_counter()
        built = report(tmp / "report.xlsx")
        first = time.perf_counter() - start
        ours = median_seconds(lambda: report(tmp / "again.xlsx"), 2)
        memory = peak_mb(lambda: report(tmp / "memory.xlsx"))
        data = built.data
        tables = {"aging": data.aging.rows(), "trend": data.history, "rollforward": data.rollforward.table,
                  "denials": data.denials_by_category, "payers": data.scorecard, "worklist": data.worklist}

        def plain() -> None:
            with pd.ExcelWriter(tmp / "plain.xlsx", engine="xlsxwriter") as writer:
                for name, frame in tables.items():
                    frame.to_excel(writer, sheet_name=name, index=False)

        plain_time = median_seconds(plain, 3)
        layout = median_seconds(lambda: management.write(tmp / "layout.xlsx", data), 3)
        # the whole command in a fresh process (its own store each run: the same work every time)
        runs = [fresh_process("xl_ar.cli", ["report", "--practice", str(tmp / "practice"), "--out",
                                            str(tmp / f"cli{i}.xlsx"), "--months", "24", "--store",
                                            str(tmp / f"cli{i}.sqlite"), "--quiet"])
                for i in range(3 if full else 1)]
        command = statistics.median(seconds for seconds, _ in runs)
        rss = max(peak for _, peak in runs)
    return [
        Row(f"management report, {CLAIMS:,} claims, 24 months (from the practice folder)", ours, 15.0, "s",
            f"the 15 s budget (first run {first:.1f} s)"),
        Row("its peak memory (Python heap)", memory, 1024, "MB", "the 1 GB budget (tracemalloc)"),
        Row("xl-ar report in a fresh process: peak resident memory (VmHWM)", rss, 1000, "MB",
            f"the 1,000 MB budget ({len(runs)} run{'s' if len(runs) > 1 else ''}, highest)"),
        Row("xl-ar report in a fresh process: wall time (start-up and imports included)", command, 15.0, "s",
            f"the 15 s budget of the report ({len(runs)} run{'s' if len(runs) > 1 else ''}, median)"),
        Row("writing the report workbook (formats, formulas, charts)", layout, plain_time, "s",
            "plain DataFrame.to_excel of the same tables"),
    ]
