"""The benchmark table and timing helpers shared by the bench modules."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One figure: ours next to a baseline on the same data."""

    figure: str
    ours: float
    baseline: float
    unit: str
    baseline_name: str
    higher_is_better: bool = False

    @property
    def ratio(self) -> float:
        """How many times better ours is than the baseline (above 1: ours is better)."""
        if self.higher_is_better:
            return self.ours / self.baseline if self.baseline else float("inf")
        return self.baseline / self.ours if self.ours else float("inf")


def median_seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mb(fn: Callable[[], object]) -> float:
    """Peak Python heap while `fn` runs (tracemalloc: numpy and pandas buffers included)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def render(rows: list[Row]) -> str:
    head = ("figure", "ours", "baseline", "ratio", "baseline is")
    body = [(r.figure, f"{r.ours:,.2f} {r.unit}", f"{r.baseline:,.2f} {r.unit}", f"{r.ratio:,.2f}x", r.baseline_name)
            for r in rows]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)
