"""The benchmark table and timing helpers shared by the bench modules."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


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


_FRESH = """
import sys
from pathlib import Path

def peak():  # VmHWM: the peak resident set of this process's own address space
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: ru_maxrss (kB on Linux, bytes on macOS; only a fallback)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

try:
    code = __import__(sys.argv[1], fromlist=["main"]).main(sys.argv[2:])
except SystemExit as e:  # argparse's --help / --version
    code = e.code
sys.stdout.flush()
print(f"\\n@peak-mb {peak()}")
sys.exit(code)
"""


def fresh_process(module: str, args: Sequence[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of `module.main(args)` run in a fresh Python process.

    The peak is the child's own VmHWM, read by the child. Not `RUSAGE_CHILDREN`'s ru_maxrss: on
    Linux that survives fork/exec, so the child would be charged the parent's resident set at the
    moment it was started (a benchmark that built the report in-process first reads its own peak)."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _FRESH, module, *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    marker = done.stdout.rsplit("@peak-mb ", 1)
    return seconds, float(marker[1])


def render(rows: list[Row]) -> str:
    head = ("figure", "ours", "baseline", "ratio", "baseline is")
    body = [(r.figure, f"{r.ours:,.2f} {r.unit}", f"{r.baseline:,.2f} {r.unit}", f"{r.ratio:,.2f}x", r.baseline_name)
            for r in rows]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(lines)
