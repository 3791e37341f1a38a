"""Synthetic practice throughput and practice-folder reading, against the cost of the bare I/O."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from benchmarks._table import Row, median_seconds
from xl_ar.practice import read_practice
from xl_ar.synth import generate

EXPORTS = ("payers", "claims", "claim_lines", "postings", "deposits", "fee_schedule")


def _io_floor(folder: Path, out: Path) -> None:
    """Write the same bytes with no generation: the exports via pandas, the 835s as they are."""
    frames = {n: pd.read_csv(folder / f"{n}.csv", dtype=str, keep_default_na=False) for n in EXPORTS}
    eras = [(p.name, p.read_bytes()) for p in (folder / "era").glob("*.835")]

    def write() -> None:
        (out / "era").mkdir(parents=True, exist_ok=True)
        for n, f in frames.items():
            f.to_csv(out / f"{n}.csv", index=False)
        for name, data in eras:
            (out / "era" / name).write_bytes(data)

    return write


def run(full: bool = False) -> list[Row]:
    rows = []
    sizes = [100_000, 1_000_000] if full else [100_000]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in sizes:
            folder = tmp / f"p{n}"
            repeat = 3 if n <= 100_000 else 1
            ours = median_seconds(lambda folder=folder, n=n: generate(folder, claims=n, months=12, seed=7), repeat)
            floor = median_seconds(_io_floor(folder, tmp / f"floor{n}"), repeat)
            rows.append(Row(f"synth {n:,} claims (12 months)", ours, floor, "s", "writing the same files"))
            read = median_seconds(lambda folder=folder: read_practice(folder), repeat)
            bare = median_seconds(lambda folder=folder: [pd.read_csv(folder / f"{e}.csv", dtype=str)
                                                         for e in EXPORTS], repeat)
            rows.append(Row(f"read practice folder, {n:,} claims", read, bare, "s",
                            "pandas read_csv, no checks"))
    return rows
