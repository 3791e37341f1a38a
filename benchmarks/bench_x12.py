"""Benchmark of the 835 reader on a generated ~50 MB remittance file.

Figures (see `run`, rows as in `benchmarks._table`): our reader's throughput (tokenize, six
tables, balancing) against a bare split-only tokenizer (the floor: it only splits segments and
elements, keeps nothing), for three shapes of file (one huge transaction, many payments in one
interchange, thousands of small interchanges concatenated); the time per file of a folder of
small remittances; against pyx12, measured on a smaller file generated the same way (pyx12
is too slow for 50 MB) and extrapolated linearly; and peak memory while reading.

Run: `python -m benchmarks.bench_x12` or `python -m benchmarks x12` from the repository root.
"""

from __future__ import annotations

import gc
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._table import Row, median_seconds, peak_mb, render
from xl_ar.remittances import read_remittances
from xl_ar.sources import SourceFile
from xl_ar.x12.era import read_835

TARGET_MB = 50.0
PYX12_MB = 0.25
CLAIMS_PER_PAYMENT = 200
"""Claims per ST: a 50 MB file then holds about 1,000 payments, 200,000 claims, 500,000 lines."""


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac:02d}"


def _claim(rng: random.Random, n: int) -> tuple[list[str], int]:
    """One balanced 5010 claim loop (1-4 lines) and its paid amount in cents."""
    lines, charge, paid = [], 0, 0
    for k in range(rng.randint(1, 4)):
        line_charge = rng.randint(2000, 90000)
        contractual = rng.randint(0, line_charge // 3)
        patient = rng.randint(0, (line_charge - contractual) // 4)
        line_paid = line_charge - contractual - patient
        charge, paid = charge + line_charge, paid + line_paid
        code = rng.choice(("99213", "99214", "93000", "36415", "80053", "71046"))
        mod = rng.choice(("", ":25", ":59", ":26"))
        lines += [f"SVC*HC:{code}{mod}*{_money(line_charge)}*{_money(line_paid)}**1",
                  "DTM*472*20240115", f"CAS*CO*45*{_money(contractual)}"]
        if patient:
            lines.append(f"CAS*PR*2*{_money(patient)}")
        lines += [f"REF*6R*L{n}X{k}", f"AMT*B6*{_money(line_charge - contractual)}"]
        if rng.random() < 0.2:
            lines.append("LQ*HE*N130")
    head = [f"CLP*PCN{n:09d}*1*{_money(charge)}*{_money(paid)}*{_money(charge - paid)}*12*PCC{n:011d}*11*1",
            f"NM1*QC*1*DOE{n % 997}*JANE****MI*M{n:010d}", "DTM*232*20240115", "DTM*233*20240115"]
    return head + lines, paid


def build_835(path: Path, target_mb: float, seed: int = 0, claims_per_payment: int | None = CLAIMS_PER_PAYMENT,
              interchanges: bool = False) -> int:
    """Write a valid, balanced 5010 835 of about `target_mb` MB with many ST; returns its size.

    With `claims_per_payment=None` the file is one transaction (one ST) holding all its claims. With
    `interchanges`, each payment comes in its own ISA..IEA (as when a clearinghouse's small files are
    concatenated) instead of all payments in one interchange.
    """
    rng = random.Random(seed)

    def isa(control: int) -> str:
        return ("ISA*00*          *00*          *ZZ*PAYERID        *ZZ*PROVIDERID     *240120*1200*^*00501*"
                f"{control:09d}*0*P*:")

    def gs(control: int) -> str:
        return f"GS*HP*PAYERID*PROVIDERID*20240120*1200*{control}*X*005010X221A1"

    out = [] if interchanges else [isa(1), gs(1)]
    size, st, n = 0, 0, 0
    target = int(target_mb * 1_000_000)
    while size < target:
        st += 1
        claims, total, length = [], 0, 0
        while (len(claims) < 1 or length < target - size) if claims_per_payment is None else \
                n % claims_per_payment or not claims:
            n += 1
            segs, paid = _claim(rng, n)
            claims += segs
            total += paid
            length += sum(len(seg) + 2 for seg in segs)
        body = [f"ST*835*{st:09d}",
                f"BPR*I*{_money(total)}*C*ACH*CCP*01*999999992*DA*123456*1512345678**01*999988880*DA*98765*20240120",
                f"TRN*1*EFT{st:09d}*1512345678", "DTM*405*20240118", "N1*PR*ACME HEALTH PLAN",
                "N3*1 MAIN STREET", "N4*ANYTOWN*CA*94066", "REF*2U*ACME01", "PER*BL*EDI*TE*8005551212",
                "N1*PE*GOOD CLINIC*XX*1234567893", "REF*TJ*123456789", "LX*1", *claims]
        body.append(f"SE*{len(body) + 1}*{st:09d}")
        if interchanges:
            body = [isa(st), gs(st), *body, f"GE*1*{st}", f"IEA*1*{st:09d}"]
        text = "~\n".join(body) + "~\n"
        out.append(text.rstrip("\n").removesuffix("~"))
        size += len(text)
    if not interchanges:
        out += [f"GE*{st}*1", "IEA*1*000000001"]
    data = "~\n".join(out) + "~\n"
    path.write_text(data)
    return len(data)


def split_only(path: Path) -> int:
    """The floor: stream the file, split it into segments and elements, keep nothing."""
    count = 0
    rest = ""
    with path.open("r", encoding="latin-1") as f:
        while chunk := f.read(1 << 20):
            parts = (rest + chunk).split("~")
            rest = parts.pop()
            for seg in parts:
                count += len(seg.strip().split("*"))
    return count


def pyx12_seconds(path: Path) -> float | None:
    try:
        import pyx12.params
        import pyx12.x12n_document
    except ImportError:
        return None
    import logging

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    t = time.perf_counter()
    pyx12.x12n_document.x12n_document(param=pyx12.params.params(), src_file=str(path), fd_997=None,
                                      fd_html=io.StringIO(), fd_xmldoc=None)
    return time.perf_counter() - t


def _alternating(ours, floor, repeat: int) -> tuple[float, float]:
    """Median seconds of two functions run in turn (so a noisy moment on a shared machine hits both),
    after one untimed run of each (the first read of a process also pays for lazy imports)."""
    ours()
    floor()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((ours, times[0]), (floor, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


SMALL_FILES = 1000
"""Small remittances (one interchange, one payment of 3 claims, about 2 KB each) read as one folder."""


def small_file_ms(tmp: Path, repeat: int) -> float:
    """Milliseconds per file reading a folder of `SMALL_FILES` small 835s (`read_remittances`, as
    reconcile and report do)."""
    files = []
    for i in range(SMALL_FILES):
        path = tmp / f"era_{i:05d}.835"
        build_835(path, 0.001, seed=i, claims_per_payment=3)
        files.append(SourceFile(path.name, path.read_bytes()))
    read_remittances(files[:10])
    return median_seconds(lambda: read_remittances(files), repeat) / len(files) * 1000


def run(full: bool = False) -> list[Row]:
    """Figures in MB/s (1 MB = 10**6 bytes), ms and MB of memory; each time is the median of a few runs."""
    repeat = 5 if full else 3
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        shapes = (("one transaction (one ST) of all claims", "one.835", dict(claims_per_payment=None)),
                  (f"{CLAIMS_PER_PAYMENT}-claim payments in one interchange", "big.835", {}),
                  ("5-claim interchanges concatenated (ISA..IEA each)", "many.835",
                   dict(claims_per_payment=5, interchanges=True)))
        for label, name, shape in shapes:
            path = Path(tmp) / name
            size_mb = build_835(path, TARGET_MB, **shape) / 1e6
            data = path.read_bytes()
            ours, floor = _alternating(lambda d=data, n=path.name: read_835(d, n), lambda p=path: split_only(p), repeat)
            rows.append(Row(f"835 read into tables, {size_mb:.0f} MB: {label}", size_mb / ours, size_mb / floor,
                            "MB/s", "bare split of segments and elements (the floor; target 0.5x)",
                            higher_is_better=True))
            if name != "big.835":
                path.unlink()
        big = Path(tmp) / "big.835"
        data = big.read_bytes()
        size_mb = len(data) / 1e6
        ours = size_mb / median_seconds(lambda: read_835(data, big.name), 1)
        small = Path(tmp) / "small.835"
        small_mb = build_835(small, PYX12_MB) / 1e6
        seconds = pyx12_seconds(small)
        if seconds is not None:
            rows.append(Row(f"835 read, {size_mb:.0f} MB", ours, small_mb / seconds, "MB/s",
                            f"pyx12 on a {small_mb:.2f} MB file built the same way, extrapolated",
                            higher_is_better=True))
        folder = Path(tmp) / "small_files"
        folder.mkdir()
        rows.append(Row(f"per-file time, a folder of {SMALL_FILES:,} small 835s (~2 KB)", small_file_ms(folder, repeat),
                        1.0, "ms", "the 1 ms budget per small file"))
        gc.collect()
        rows.append(Row(f"peak memory reading {size_mb:.0f} MB", peak_mb(lambda: read_835(data, big.name)), 500.0,
                        "MB", "the 500 MB budget (tracemalloc; input bytes excluded)"))
        before, after = _child_rss(big)
        rows.append(Row(f"peak resident memory, process reading {size_mb:.0f} MB", after, 500.0, "MB",
                        f"the 500 MB budget (fresh process; {before:.0f} MB before the read: interpreter, "
                        "pandas, input bytes)"))
    return rows


_CHILD = """
import sys
from pathlib import Path
from xl_ar.x12.era import read_835

def peak():  # VmHWM: peak resident set of this address space (ru_maxrss survives fork/exec on Linux)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

data = Path(sys.argv[1]).read_bytes()
before = peak()
read_835(data, "big.835")
print(before, peak())
"""


def _child_rss(path: Path) -> tuple[float, float]:
    """Peak resident MB of a fresh process before and after reading the file."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, env=env,
                          check=True)
    before, after = (float(x) for x in done.stdout.split())
    return before, after


def main() -> None:
    print(render(run()))


if __name__ == "__main__":
    main()
