"""Fuzzing (issue 13, Acceptance): mutated 835s from the repository's corpus and broken practice folders
never raise anything but the documented `InputError` family, and the CLI never prints "unexpected error".

A seeded mutator (same seed, same cases: a failure is reproducible by its case number): truncations,
garbled and deleted bytes, repeated and swapped pieces, NUL bytes, stray delimiters, huge numbers; for
exports also swapped headers, rows of blanks and UTF-16. A few thousand cases, under a minute in all.
"""

from __future__ import annotations

import contextlib
import io
import random
import shutil
import traceback
from pathlib import Path

import pytest

from xl_ar.cli import main
from xl_ar.errors import InputError
from xl_ar.practice import read_export
from xl_ar.x12 import read_835, summarize

SEED = 13
X12_CASES = 2000
EXPORT_CASES = 500
FOLDER_CASES = 24
_PIECES = [b"~", b"*", b":", b"^", b"\x00", b"\r\n", b"ISA*", b"~ST*835*1~", b"~SE*", b"~IEA*", b"9" * 30, b"-",
           b".", b"9" * 5000, b"~CLP*", b"~SVC*HC:", b"~CAS*CO*45*", b"1E20", b"\xff\xfe", b" " * 300, b"\xe9"]
_CELLS = [b"\x00", b"9" * 25, b"1e20", b"-99999999999999999999.99", b"   ", b'"', b",", b"\t", b"=1+1", b"13/45/2026",
          b"NaN", b"\xe9", b"\r", b"9" * 5000]


def mutate(data: bytes, rng: random.Random, pieces: list[bytes]) -> bytes:
    """One to three random edits of `data`."""
    for _ in range(rng.randint(1, 3)):
        n = len(data)
        i, j = sorted((rng.randrange(n + 1), rng.randrange(n + 1)))
        op = rng.randrange(8)
        if op == 0:
            data = data[:i]  # truncated
        elif op == 1:
            data = data[:i] + data[j:]  # a piece deleted
        elif op == 2:
            data = data[:i] + rng.choice(pieces) + data[i:]  # something inserted
        elif op == 3:
            data = data[:i] + bytes(rng.randrange(256) for _ in range(min(j - i, 64))) + data[i + min(j - i, 64):]
        elif op == 4:
            data = data[:j] + data[i:j] + data[j:]  # a piece repeated
        elif op == 5 and i < j:
            k = rng.randrange(j, n + 1)
            data = data[:i] + data[j:k] + data[i:j] + data[k:]  # two pieces swapped
        elif op == 6:
            data = data[:i] + rng.choice(pieces) + data[j:]  # a piece replaced
        else:
            data = data.replace(bytes([data[i]]) if i < n else b"~", rng.choice(pieces)[:1] or b"~", 3)
    return data


def _unexpected(case: str, error: BaseException) -> str:
    return f"{case}: {type(error).__name__}: {error}\n{''.join(traceback.format_tb(error.__traceback__)[-3:])}"


def test_mutated_835s_raise_only_input_errors(corpus):
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".json", ".txt")
                   and "LICENSES" not in p.parts)
    originals = [(p.relative_to(corpus).as_posix(), p.read_bytes()) for p in files]
    originals = [(name, data) for name, data in originals if data]
    rng = random.Random(SEED)
    failures = []
    for case in range(X12_CASES):
        name, data = originals[case % len(originals)]
        mutated = mutate(data, rng, _PIECES)
        try:
            remittance = read_835(mutated, name)
            if case % 4 == 0:  # the per-file figures too, on a quarter of the cases (time)
                summarize(remittance)
        except InputError:
            pass
        except Exception as e:
            failures.append(_unexpected(f"case {case} ({name})", e))
    assert not failures, f"{len(failures)} of {X12_CASES} cases:\n" + "\n".join(failures[:5])


EXPORTS = ("claims", "claim_lines", "postings", "deposits", "payers", "fee_schedule")


@pytest.fixture(scope="module")
def small_practice(tmp_path_factory) -> Path:
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("fuzz_practice")
    generate(folder, claims=40, months=2, seed=3)
    return folder


def _export_mutation(data: bytes, rng: random.Random) -> bytes:
    op = rng.randrange(5)
    lines = data.split(b"\n")
    if op == 0 and len(lines) > 1:  # two headers swapped
        head = lines[0].split(b",")
        a, b = rng.randrange(len(head)), rng.randrange(len(head))
        head[a], head[b] = head[b], head[a]
        lines[0] = b",".join(head)
    elif op == 1 and len(lines) > 2:  # a row of blanks, or a row cut short
        k = rng.randrange(1, len(lines))
        lines[k] = b" " * rng.randrange(1, 40) if rng.random() < 0.5 else lines[k][: rng.randrange(len(lines[k]) + 1)]
    elif op == 2:  # a cell replaced by something hostile
        k = rng.randrange(len(lines))
        cells = lines[k].split(b",")
        cells[rng.randrange(len(cells))] = rng.choice(_CELLS)
        lines[k] = b",".join(cells)
    elif op == 3:
        return "\ufeff".encode("utf-16-le") + data.decode("utf-8", "replace").encode("utf-16-le")  # Excel's Unicode
    else:
        return mutate(data, rng, _CELLS)
    return b"\n".join(lines)


def test_mutated_exports_raise_only_input_errors(small_practice, tmp_path):
    rng = random.Random(SEED)
    failures = []
    for case in range(EXPORT_CASES):
        table = EXPORTS[case % len(EXPORTS)]
        path = tmp_path / f"{table}.csv"
        path.write_bytes(_export_mutation((small_practice / f"{table}.csv").read_bytes(), rng))
        try:
            read_export(path, table)
        except InputError:
            pass
        except Exception as e:
            failures.append(_unexpected(f"case {case} ({table})", e))
    assert not failures, f"{len(failures)} of {EXPORT_CASES} cases:\n" + "\n".join(failures[:5])


def _broken_folder(source: Path, target: Path, rng: random.Random) -> None:
    shutil.copytree(source, target)
    files = sorted(p for p in target.rglob("*") if p.is_file())
    for p in rng.sample(files, rng.randint(1, 3)):
        op = rng.randrange(4)
        if op == 0:
            p.unlink()
        elif op == 1:
            p.write_bytes(b"")
        elif p.suffix == ".csv":
            p.write_bytes(_export_mutation(p.read_bytes(), rng))
        else:
            p.write_bytes(mutate(p.read_bytes(), rng, _PIECES))


@pytest.mark.parametrize("command", ["check", "aging", "kpi"])
def test_broken_practice_folders_never_give_an_unexpected_error(small_practice, tmp_path, command):
    rng = random.Random(f"{SEED}-{command}")
    failures = []
    for case in range(FOLDER_CASES // 3):
        folder = tmp_path / f"case{case}"
        _broken_folder(small_practice, folder, rng)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([command, "--practice", str(folder)])
        if "unexpected error" in err.getvalue() or code not in (0, 2):
            failures.append(f"case {case}: exit {code}: {err.getvalue().strip()[-500:]}")
    assert not failures, "\n".join(failures)
