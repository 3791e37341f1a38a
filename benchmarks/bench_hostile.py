"""Benchmark of the 835 reader on pathological inputs against a normal 835 of the same size.

Each hostile file (issue 13, defect 5) must read in linear time and bounded memory: at most twice
the time of a normal 835 of the same size, and well under 1 GB. Rows: time (seconds) and peak
memory (MB, tracemalloc) of each hostile file, the normal file's figure as the baseline.

Sizes: `SIZE_MB` by default (quick), `FULL_MB` with `--full`; or `python -m benchmarks.bench_hostile 100`.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks._table import Row, peak_mb, render
from benchmarks.bench_x12 import build_835
from xl_ar.errors import InputError
from xl_ar.x12.era import read_835

SIZE_MB = 5.0
FULL_MB = 100.0
_HEAD = ("ISA*00*          *00*          *ZZ*PAYERID        *ZZ*PROVIDERID     *240120*1200*^*00501*"
         "000000001*0*P*:~GS*HP*PAYERID*PROVIDERID*20240120*1200*1*X*005010X221A1~ST*835*0001~")
_TAIL = "~SE*3*0001~GE*1*1~IEA*1*000000001~"


def hostile(kind: str, size: int, normal: bytes) -> bytes:
    """A pathological 835 of about `size` bytes: `isa` (`~ISA*` repeated), `colon` (one element of `:`),
    `tilde` (empty segments), `blank` (leading blanks before a normal small file)."""
    if kind == "isa":
        return (_HEAD + "~ISA*" * (size // 5)).encode()
    if kind == "colon":
        return (_HEAD + "LX*1~CLP*A*1*1*1**12~SVC*HC" + ":" * size + "*1*1" + _TAIL).encode()
    if kind == "tilde":
        return (_HEAD + "~" * size + _TAIL).encode()
    if kind == "blank":
        return b" " * size + normal[:200_000].rsplit(b"~", 1)[0]
    raise ValueError(kind)


KINDS = {"isa": "~ISA* repeated", "colon": "one element of ':'", "tilde": "'~' only (empty segments)",
         "blank": "leading blanks"}


def _read(data: bytes) -> Callable[[], object]:
    def go() -> object:
        try:
            return read_835(data, "hostile.835")
        except InputError as e:  # a documented refusal is a result too
            return e
    return go


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(full: bool = False, size_mb: float | None = None) -> list[Row]:
    size_mb = size_mb or (FULL_MB if full else SIZE_MB)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "normal.835"
        build_835(path, size_mb)
        normal = path.read_bytes()
        size = len(normal)
        base_time = _seconds(_read(normal))
        gc.collect()
        base_mem = peak_mb(_read(normal))
        for kind, label in KINDS.items():
            data = hostile(kind, size, normal)
            seconds = _seconds(_read(data))
            gc.collect()
            memory = peak_mb(_read(data))
            del data
            rows.append(Row(f"{label}, {size / 1e6:.0f} MB: time", seconds, base_time, "s",
                            "normal 835 of the same size (must stay within 2x)"))
            rows.append(Row(f"{label}, {size / 1e6:.0f} MB: peak memory", memory, base_mem, "MB",
                            "normal 835 of the same size (tracemalloc; under 1 GB)"))
    return rows


def main() -> None:
    size = float(sys.argv[1]) if len(sys.argv) > 1 else None
    print(render(run(size_mb=size)))


if __name__ == "__main__":
    main()
