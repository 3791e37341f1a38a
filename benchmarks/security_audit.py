"""The security audit of issue 13, repeatable: hostile inputs through xl-ar, one table of what happened.

Run from the repository root: `python -m benchmarks.security_audit [--quick]` (full: about 10-15 minutes on two
cores; `--quick`: a small sample of each part, under a minute or two). Not named `bench_*`: the normal benchmark
run leaves it out. Everything is seeded: the same run gives the same cases, and a crash is named by its case.

Parts (each row: inputs tried, crashes, the part's figure):

1. mutated 835s (the fuzz test's seeded mutator over the repository's 835 corpus) through `read_835`, and a
   sample through `xl-ar import` and `xl-ar reconcile` (in-process, output captured);
2. broken practice folders (missing, empty, garbage, UTF-16, NUL bytes, rows of spaces, 5,000-digit numbers,
   1e20 in xlsx, names under date headers, truncated xlsx, bad ERA files, ...) through `check`, `reconcile`,
   `report`;
3. formula cells: text fields starting with `=`, `+`, `-`, `@` (835 TRN02, CLP01, payer names; export text;
   the practice name) through reconcile, report and the add-in's workbook; injected live formulas counted;
4. patient data: the demo at DEBUG, a malformed import, a failed reconcile, `audit show` and the report
   workbook's cells, scanned for the synthetic patients' names, member ids and birth dates;
5. zip bombs and 100 MB pathological 835s, each in a fresh process: peak resident memory (VmHWM) and time;
6. SIGKILLs during `xl-ar import`: store integrity after each, then a clean re-import's totals.

A crash is any exception other than the documented `InputError` family, an "unexpected error" from the CLI, or
an exit status other than 0, 1 or 2.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 13
BUDGET_MB = 1024


@dataclass
class Part:
    """One row of the table, and what a reader needs to reproduce anything that went wrong."""

    name: str
    tried: int = 0
    crashes: int = 0
    figure: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def crash(self, note: str) -> None:
        self.crashes += 1
        if len(self.notes) < 8:
            self.notes.append(note)


def _tb(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}\n" + "".join(traceback.format_tb(error.__traceback__)[-3:])


def cli(*argv: str) -> tuple[int, str]:
    """`xl-ar ARGV` in this process: exit status and everything printed (stdout, stderr, log lines)."""
    from xl_ar.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:  # argparse
            code = e.code if isinstance(e.code, int) else 2
        except BaseException as e:  # main() lets nothing out; if it does, that is a crash too
            code = -1
            err.write(f"\nraised out of main: {_tb(e)}")
    return code, out.getvalue() + err.getvalue()


def _cli_crash(code: int, text: str) -> bool:
    return "unexpected error" in text or code not in (0, 1, 2)


def _synth(folder: Path, claims: int, months: int = 2, seed: int = 3) -> Path:
    from xl_ar.synth import generate

    generate(folder, claims=claims, months=months, seed=seed)
    return folder


# -- 1. mutated 835s --------------------------------------------------------------------------------------------------


def part_mutated(tmp: Path, quick: bool, practice: Path) -> Part:
    from tests.conftest import CORPUS
    from tests.test_fuzz import _PIECES, mutate
    from xl_ar.errors import InputError
    from xl_ar.x12 import read_835, summarize

    part = Part("1. mutated 835s (read_835; sample via import/reconcile)")
    cases = 300 if quick else 8000
    sample_every = 15 if quick else 40  # 20 or 200 through the CLI
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".json", ".txt")
                   and "LICENSES" not in p.parts)
    originals = [(p.relative_to(CORPUS).as_posix(), p.read_bytes()) for p in files]
    originals = [(name, data) for name, data in originals if data]
    rng = random.Random(SEED)
    refused = 0
    work = tmp / "mutated"
    shutil.copytree(practice, work)
    era = tmp / "mutated_era"
    era.mkdir()
    cli_runs = Counter()
    for case in range(cases):
        name, data = originals[case % len(originals)]
        mutated = mutate(data, rng, _PIECES)
        part.tried += 1
        try:
            summarize(read_835(mutated, name))
        except InputError:
            refused += 1
        except Exception as e:
            part.crash(f"case {case} ({name}), read_835: {_tb(e)}")
        if case % sample_every:
            continue
        path = era / f"case{case}.835"
        path.write_bytes(mutated)
        code, text = cli("import", str(path), "--store", str(tmp / "mutated.sqlite"), "--quiet")
        cli_runs[f"import:{code}"] += 1
        if _cli_crash(code, text):
            part.crash(f"case {case} ({name}), xl-ar import: exit {code}: {text.strip()[-400:]}")
        if case % (sample_every * 2) == 0:
            (work / "era" / "zz_mutated.835").write_bytes(mutated)
            code, text = cli("reconcile", "--practice", str(work), "--quiet", "--out", str(tmp / "mutated.xlsx"))
            cli_runs[f"reconcile:{code}"] += 1
            if _cli_crash(code, text):
                part.crash(f"case {case} ({name}), xl-ar reconcile: exit {code}: {text.strip()[-400:]}")
    runs = sum(cli_runs.values())
    part.tried += runs
    exits = ", ".join(f"{k} x{v}" for k, v in sorted(cli_runs.items()))
    part.figure = f"{cases:,} read ({refused:,} refused as input errors); {runs} CLI runs, exits {exits}"
    return part


# -- 2. broken practice folders ---------------------------------------------------------------------------------------


def _csv(folder: Path, table: str) -> Path:
    return folder / f"{table}.csv"


def _edit_csv(table: str, edit: Callable[[list[list[str]]], None]) -> Callable[[Path], None]:
    """A breakage that edits the rows (header first) of one export, written back as CSV."""
    import csv

    def go(folder: Path) -> None:
        path = _csv(folder, table)
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        edit(rows)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    return go


def _cell(header: str, value: str, row: int = 1) -> Callable[[list[list[str]]], None]:
    def edit(rows: list[list[str]]) -> None:
        rows[row][rows[0].index(header)] = value
    return edit


def _swap(a: str, b: str) -> Callable[[list[list[str]]], None]:
    def edit(rows: list[list[str]]) -> None:
        i, j = rows[0].index(a), rows[0].index(b)
        for r in rows[1:]:
            r[i], r[j] = r[j], r[i]
    return edit


def _bytes(table_or_file: str, fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def go(folder: Path) -> None:
        path = folder / table_or_file if "." in table_or_file or "/" in table_or_file else _csv(folder, table_or_file)
        path.write_bytes(fn(path.read_bytes()))
    return go


def _first_era(folder: Path) -> Path:
    return sorted((folder / "era").glob("*.835"))[0]


def _era(fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def go(folder: Path) -> None:
        path = _first_era(folder)
        path.write_bytes(fn(path.read_bytes()))
    return go


def _new_era(name: str, data: bytes) -> Callable[[Path], None]:
    def go(folder: Path) -> None:
        (folder / "era" / name).write_bytes(data)
    return go


def _xlsx(table: str, edit: Callable[[list[list[object]]], None] | None = None, after: Callable[[bytes], bytes]
          | None = None) -> Callable[[Path], None]:
    """The export as .xlsx (numbers as numbers), edited, and optionally its bytes damaged."""
    import openpyxl
    import pandas as pd

    def go(folder: Path) -> None:
        frame = pd.read_csv(_csv(folder, table), dtype=str, keep_default_na=False)
        rows: list[list[object]] = [list(frame.columns), *frame.to_numpy().tolist()]
        if edit:
            edit(rows)
        book = openpyxl.Workbook()
        for r in rows:
            book.active.append(r)
        path = folder / f"{table}.xlsx"
        book.save(path)
        _csv(folder, table).unlink()
        if after:
            path.write_bytes(after(path.read_bytes()))
    return go


def _sub(pattern: bytes, replacement: bytes) -> Callable[[bytes], bytes]:
    return lambda data: re.sub(pattern, replacement, data, count=1)


def _unlink(name: str) -> Callable[[Path], None]:
    def go(folder: Path) -> None:
        target = folder / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return go


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def breakages() -> dict[str, Callable[[Path], None]]:
    """Named ways to break a practice folder, each applied to a fresh copy of a small synthetic practice."""
    garbage = bytes(random.Random(SEED).randrange(256) for _ in range(4000))
    huge = "9" * 5000
    b: dict[str, Callable[[Path], None]] = {}
    for table in ("claims", "claim_lines", "postings", "deposits", "payers", "fee_schedule"):
        b[f"{table} missing"] = _unlink(f"{table}.csv")
        b[f"{table} empty (0 bytes)"] = _write(f"{table}.csv", b"")
        b[f"{table} garbage bytes"] = _write(f"{table}.csv", garbage)
    b |= {
        "era/ missing": _unlink("era"),
        "practice.json missing": _unlink("practice.json"),
        "practice.json empty": _write("practice.json", b""),
        "practice.json not JSON": _write("practice.json", b"{not json"),
        "practice.json a list": _write("practice.json", b"[1, 2]"),
        "practice.json bad as_of": _write("practice.json", b'{"name": "X", "as_of": "2026-13-45"}'),
        "claims header only": _bytes("claims", lambda d: d.split(b"\n", 1)[0] + b"\n"),
        "claims UTF-16 LE with BOM": _bytes("claims", lambda d: "\ufeff".encode("utf-16-le") + d.decode().encode(
            "utf-16-le")),
        "claims UTF-16 BE with BOM": _bytes("claims", lambda d: "\ufeff".encode("utf-16-be") + d.decode().encode(
            "utf-16-be")),
        "claims UTF-8 BOM": _bytes("claims", lambda d: b"\xef\xbb\xbf" + d),
        "claims Windows-1252 name": _edit_csv("claims", _cell("Patient Name", "Ren\u00e9e, Zo\u00eb")),
        "claims truncated mid-row": _bytes("claims", lambda d: d[: len(d) // 2]),
        "claims NUL byte": _bytes("claims", lambda d: d[:200] + b"\x00" + d[200:]),
        "postings NUL byte": _bytes("postings", lambda d: d + b"\x00"),
        "claims row of spaces": _bytes("claims", lambda d: d.replace(b"\n", b"\n" + b" " * 30 + b"\n", 3)),
        "claims row of commas and tabs": _bytes("claims", lambda d: d.replace(b"\n", b"\n ,\t, ,\n", 1)),
        "claims 5,000-digit charge": _edit_csv("claims", _cell("Charges", huge)),
        "claim_lines 5,000-digit units": _edit_csv("claim_lines", _cell("units", huge)),
        "postings 25-digit amount": _edit_csv("postings", _cell("Pmt Amt", "9" * 25)),
        "deposits 1e20 amount": _edit_csv("deposits", _cell("Amount", "1e20")),
        "deposits -99999999999999999999.99": _edit_csv("deposits", _cell("Amount", "-99999999999999999999.99")),
        "claims NaN and inf amounts": _edit_csv("claims", lambda r: (_cell("Charges", "NaN")(r),
                                                                     _cell("Payments", "inf", 2)(r))),
        "postings date 13/45/2026": _edit_csv("postings", _cell("Post Date", "13/45/2026")),
        "claims names under the date header": _edit_csv("claims", _swap("DOS", "Patient Name")),
        "claims birth dates under the charges header": _edit_csv("claims", _swap("Charges", "DOB")),
        "claims member ids under the claim header": _edit_csv("claims", _swap("Claim #", "Member ID")),
        "claims duplicated header": _edit_csv("claims", lambda r: r[0].__setitem__(r[0].index("Charges"), "DOS")),
        "claims unterminated quote": _bytes("claims", lambda d: d.replace(b"\n", b'\n"', 1)),
        "claims one 1 MB cell": _edit_csv("claims", _cell("Claim Status", "x" * 1_000_000)),
        "payers duplicated ids": _bytes("payers", lambda d: d + d.split(b"\n", 2)[1] + b"\n"),
        "claims.xlsx with 1e20": _xlsx("claims", lambda r: r[1].__setitem__(r[0].index("Charges"), 1e20)),
        "claims.xlsx with a 30-digit integer": _xlsx("claims", lambda r: r[1].__setitem__(r[0].index("Charges"),
                                                                                          10**30)),
        "claims.xlsx truncated": _xlsx("claims", after=lambda d: d[: len(d) // 2]),
        "claims.xlsx garbage behind the name": _write("claims.xlsx", garbage),
        "claims.xlsx a CSV renamed": lambda f: _csv(f, "claims").rename(f / "claims.xlsx"),
        "era: 0-byte file": _new_era("empty.835", b""),
        "era: garbage file": _new_era("garbage.835", garbage),
        "era: truncated 835": _era(lambda d: d[: len(d) // 3]),
        "era: SE01 of 5,000 digits": _era(_sub(rb"SE\*\d+", b"SE*" + huge.encode())),
        "era: GE01 and IEA01 of 5,000 digits": _era(lambda d: re.sub(rb"(GE|IEA)\*\d+", lambda m: m.group(1) + b"*"
                                                                     + huge.encode(), d)),
        "era: 20-digit paid amount": _era(_sub(rb"(CLP\*[^*]*\*[^*]*\*[^*]*\*)[^*]*", rb"\g<1>99999999999999999999")),
        "era: 19-digit paid amount": _era(_sub(rb"(CLP\*[^*]*\*[^*]*\*[^*]*\*)[^*]*", rb"\g<1>9223372036854775807")),
        "era: 1E20 BPR amount": _era(_sub(rb"(BPR\*[^*]*\*)[^*]*", rb"\g<1>1E20")),
        "era: UTF-16": _era(lambda d: "\ufeff".encode("utf-16-le") + d.decode("latin-1").encode("utf-16-le")),
        "era: NUL bytes": _era(lambda d: d.replace(b"~", b"\x00~", 5)),
        "era: ISA only": _new_era("isa_only.835", b"ISA*00*          *00*          *ZZ*P*ZZ*Q*240120*1200*^*00501*"
                                  b"000000001*0*P*:~"),
        "era: truncated zip": _new_era("batch.zip", b"PK\x03\x04" + garbage[:100]),
        "era: nested 20 folders deep": lambda f: (f / "era" / Path(*["d"] * 20)).mkdir(parents=True) or shutil.copy(
            _first_era(f), f / "era" / Path(*["d"] * 20) / "deep.835"),
        "claims.csv is a folder": lambda f: (_csv(f, "claims").unlink(), _csv(f, "claims").mkdir()),
    }
    return b


def part_folders(tmp: Path, quick: bool, practice: Path) -> Part:
    part = Part("2. broken practice folders (check, reconcile, report)")
    cases = list(breakages().items())
    if quick:
        cases = cases[::6]
    exits: Counter[str] = Counter()
    wrote_on_error = 0
    for i, (name, breakage) in enumerate(cases):
        folder = tmp / f"broken{i}"
        shutil.copytree(practice, folder)
        try:
            breakage(folder)
        except Exception as e:  # the audit's own recipe failed: say so, it is not xl-ar's crash
            part.notes.append(f"recipe '{name}' could not be applied: {type(e).__name__}: {e}")
            continue
        for command, extra in (("check", []), ("reconcile", ["--quiet", "--out", str(folder / "out_recon.xlsx")]),
                               ("report", ["--quiet", "--out", str(folder / "out_report.xlsx"),
                                           "--store", str(folder / "store.sqlite")])):
            code, text = cli(command, "--practice", str(folder), *extra)
            part.tried += 1
            exits[f"{command}:{code}"] += 1
            if _cli_crash(code, text):
                part.crash(f"folder '{name}', xl-ar {command}: exit {code}: {text.strip()[-400:]}")
            out = folder / f"out_{command[:6]}.xlsx"
            if code == 2 and command != "check" and out.exists():
                wrote_on_error += 1
                part.notes.append(f"folder '{name}', xl-ar {command}: exit 2 but {out.name} was written")
            out.unlink(missing_ok=True)
    part.figure = (f"{len(cases)} folders; exits " + ", ".join(f"{k} x{v}" for k, v in sorted(exits.items()))
                   + f"; workbooks written on exit 2: {wrote_on_error}")
    return part


# -- 3. formula cells -------------------------------------------------------------------------------------------------

MARK = "AUDITINJ"
PAYLOADS = [f"={MARK}(1)+1", f"+{MARK}+1", f"-{MARK}+1", f"@SUM({MARK})", f'=HYPERLINK("x","{MARK}")',
            f"=cmd|' /C calc'!{MARK}"]
X12_PAYLOADS = [f"={MARK}(1)+1", f"+{MARK}+1", f"-{MARK}+1", f"@SUM({MARK})"]  # no X12 delimiter inside


def _inject(folder: Path) -> int:
    """Put payloads into the practice's text fields; returns how many values were changed."""
    import json

    import pandas as pd

    changed = 0
    info = json.loads((folder / "practice.json").read_text())
    info["name"] = PAYLOADS[0]
    (folder / "practice.json").write_text(json.dumps(info))
    changed += 1
    # claim ids stay (a changed id would only be refused as an unknown claim); they come in through CLP01 below
    text_columns = {"claims": ["Pat Acct", "Claim Status", "Dx Codes", "Patient Name"],
                    "postings": ["Trans #", "Check/EFT #"], "deposits": ["Description", "Bank Reference"],
                    "payers": ["name", "payer_ref"], "claim_lines": ["line_control", "modifiers"]}
    for table, columns in text_columns.items():
        path = _csv(folder, table)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for k, column in enumerate(columns):
            rows = frame.index[k % 3::5][:4]
            frame.loc[rows, column] = [PAYLOADS[(k + j) % len(PAYLOADS)] for j in range(len(rows))]
            changed += len(rows)
        frame.to_csv(path, index=False)
    for i, era in enumerate(sorted((folder / "era").glob("*.835"))[::3]):
        data = era.read_text(encoding="latin-1")
        payload = X12_PAYLOADS[i % len(X12_PAYLOADS)]
        data = re.sub(r"TRN\*1\*[^*~]*", f"TRN*1*{payload}", data, count=1)
        data = re.sub(r"N1\*PR\*[^*~]*", f"N1*PR*{payload}", data, count=1)
        data = re.sub(r"CLP\*[^*~]*", f"CLP*{X12_PAYLOADS[(i + 1) % len(X12_PAYLOADS)]}", data, count=1)
        era.write_text(data, encoding="latin-1")
        changed += 3
    return changed


def _open(path: Path):
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # extensions openpyxl does not keep (conditional formats): reading only
        return openpyxl.load_workbook(path)


def formula_cells(path: Path) -> tuple[int, int, int]:
    """(injected live formulas, all formula cells, payloads kept as text) of one workbook."""
    book = _open(path)
    injected = formulas = texts = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                if c.data_type == "f":
                    formulas += 1
                    injected += MARK in str(c.value)
                elif isinstance(c.value, str) and MARK in c.value:
                    texts += 1
    return injected, formulas, texts


def part_formulas(tmp: Path, quick: bool) -> Part:
    from xl_ar.addin import template
    from xl_ar.practice import load_practice

    part = Part("3. formula injection (=, +, -, @ in text fields)")
    folder = _synth(tmp / "formulas", claims=60 if quick else 300)
    changed = _inject(folder)
    written: list[Path] = []
    runs = [("reconcile", ["--out", str(tmp / "f_reconciliation.xlsx")]),
            ("report", ["--out", str(tmp / "f_report.xlsx"), "--store", str(tmp / "f.sqlite")]),
            ("report", ["--phi", "--out", str(tmp / "f_report_phi.xlsx"), "--store", str(tmp / "f.sqlite")])]
    for command, extra in runs:
        code, text = cli(command, "--practice", str(folder), "--quiet", *extra)
        part.tried += 1
        if _cli_crash(code, text) or code != 0:
            part.crash(f"xl-ar {command} on the injected practice: exit {code}: {text.strip()[-400:]}")
        out = Path(extra[extra.index("--out") + 1])
        if out.exists():
            written.append(out)
    try:
        written.append(template.write(tmp / "f_AR_Workbook.xlsx", load_practice(folder).all_tables()))
        part.tried += 1
    except Exception as e:
        part.crash(f"the add-in's workbook on the injected practice: {_tb(e)}")
    injected = formulas = texts = 0
    for path in written:
        i, f, t = formula_cells(path)
        injected, formulas, texts = injected + i, formulas + f, texts + t
        if i:
            part.notes.append(f"{path.name}: {i} injected live formula cells")
    part.figure = (f"injected live formulas {injected} (of {formulas:,} formula cells in {len(written)} workbooks); "
                   f"{changed} values injected, {texts} payload cells kept as text")
    return part


# -- 4. patient data --------------------------------------------------------------------------------------------------


def _era_identifiers(era: Path) -> dict[str, set[str]]:
    """Patient names and member ids as the 835s carry them (NM1*QC: last, first, id)."""
    names, ids = set(), set()
    for path in era.rglob("*.835"):
        for m in re.finditer(r"NM1\*QC\*1\*([^*~]*)\*([^*~]*)\*[^~]*?\*MI\*([^*~]+)", path.read_text("latin-1")):
            last, first, member = m.groups()
            if len(last) >= 5:
                names.add(last)
            names.add(f"{last}, {first}")
            names.add(f"{first} {last}")
            ids.add(member)
    return {"name": names, "member id": ids}


def _workbook_text(path: Path) -> str:
    book = _open(path)
    return "\n".join(str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row
                     if c.value is not None)


def part_phi(tmp: Path, quick: bool) -> Part:
    import pandas as pd

    from tests.test_logging_phi import hits, identifiers

    part = Part("4. patient data in output (names, member ids, births)")
    demo = tmp / "phi_demo"
    texts: dict[str, str] = {}

    def run(label: str, *argv: str) -> int:
        code, text = cli("--log-level", "DEBUG", *argv)
        part.tried += 1
        texts[label] = text
        if _cli_crash(code, text):
            part.crash(f"{label}: exit {code}: {text.strip()[-400:]}")
        return code

    run("demo at DEBUG", "demo", "--out", str(demo), "--claims", "150" if quick else "1000")
    found = identifiers(demo / "practice" / "claims.csv")
    for what, values in _era_identifiers(demo / "practice" / "era").items():
        found[what] |= values
    store = str(demo / "xl-ar.sqlite")
    run("check at DEBUG", "check", "--practice", str(demo / "practice"))
    # a malformed import: an ERA cut inside a patient's NM1, a name where an amount goes, garbage
    first = sorted((demo / "practice" / "era").glob("*.835"))[0].read_text(encoding="ascii")
    bad = tmp / "phi_bad_era"
    bad.mkdir()
    (bad / "cut.835").write_text(first[: first.index("NM1*QC") + 20], encoding="ascii")
    name = sorted(found["name"])[0]
    (bad / "name_as_amount.835").write_text(re.sub(r"(CLP\*[^*]*\*[^*]*\*)[^*]*", rf"\g<1>{name}", first, count=1),
                                            encoding="ascii")
    (bad / "garbage.835").write_bytes(b"\x00\xff not an 835")
    run("malformed import", "import", str(bad), "--store", store)
    # a failed reconcile and report: names under the date header, birth dates under charges, ids under claim
    broken = tmp / "phi_broken"
    shutil.copytree(demo / "practice", broken)
    claims = pd.read_csv(broken / "claims.csv", dtype=str, keep_default_na=False)
    claims["DOS"], claims["Charges"], claims["Pat Acct"] = claims["Patient Name"], claims["DOB"], claims["Member ID"]
    claims.to_csv(broken / "claims.csv", index=False)
    run("failed reconcile", "reconcile", "--practice", str(broken))
    run("failed report", "report", "--practice", str(broken), "--out", str(tmp / "phi_never.xlsx"), "--store", store)
    run("failed check", "check", "--practice", str(broken))
    run("audit show", "audit", "show", "--store", store)
    run("audit verify", "audit", "verify", "--store", store)
    texts["report workbook cells"] = _workbook_text(demo / "management_report.xlsx")
    part.tried += 1
    total = 0
    for label, text in texts.items():
        found_here = hits(text, found)
        total += len(found_here)
        if found_here:
            part.notes.append(f"{label}: {len(found_here)} hits, e.g. {found_here[0].split()[0]} (value not shown)")
    lines = sum(t.count("\n") for t in texts.values())
    sizes = ", ".join(f"{len(v):,} {k}s" for k, v in found.items())
    part.figure = f"hits {total} in {lines:,} lines scanned; looked for {sizes}"
    return part


# -- 5. zip bombs and pathological 835s -------------------------------------------------------------------------------

_CHILD = r"""
import sys, time
from pathlib import Path

def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

from xl_ar import sources
from xl_ar.errors import InputError
from xl_ar.x12.era import read_835
path = Path(sys.argv[1])
before = peak()
start = time.perf_counter()
try:
    if path.suffix == ".zip":
        listing = sources.read_source(path)
        outcome = f"read {len(listing.files)} files, skipped {len(listing.skipped)} as damaged or not X12"
    else:
        outcome = f"read, {len(read_835(path.read_bytes(), path.name).findings)} findings"
except InputError as e:
    outcome = "refused: " + str(e)[:60]
print(f"{time.perf_counter() - start:.2f}|{before:.0f}|{peak():.0f}|{outcome}")
"""


def _child(path: Path) -> tuple[float, float, float, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, env=env,
                          timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-600:]}")
    seconds, before, peak, outcome = done.stdout.strip().splitlines()[-1].split("|", 3)
    return float(seconds), float(before), float(peak), outcome


_ISA = b"ISA*00*          *00*          *ZZ*P*ZZ*Q*240120*1200*^*00501*000000001*0*P*:~"


def _zeros_member(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of an 835 header and `size` zero bytes, and its CRC-32, built without holding the
    inflated bytes: 16 MB of zeros compressed once with a full flush, that block repeated (each starts afresh)."""
    chunk = bytes(1 << 24)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(_ISA) + c.flush(zlib.Z_FULL_FLUSH)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail_block = c.compress(bytes(size % len(chunk))) + c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(_ISA)
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(bytes(size % len(chunk)), crc)
    return head + block * (size // len(chunk)) + tail_block, crc


def _zip_of(path: Path, members: list[tuple[str, bytes, int, int]]) -> None:
    """Write a zip by hand: (name, raw deflate stream, CRC-32, uncompressed size as declared in the headers)."""
    import struct

    out, central = bytearray(), bytearray()
    for name, stream, crc, declared in members:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(stream), declared, len(encoded), 0)
        out += encoded + stream
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(stream), declared,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))


def _bomb(path: Path, size: int, members: int = 1) -> None:
    """A zip of `members` members, each an 835 header and `size / members` zeros (headers honest)."""
    stream, crc = _zeros_member(size // members)
    _zip_of(path, [(f"era{i}.835", stream, crc, size // members + len(_ISA)) for i in range(members)])


def _lying_zip(path: Path, declared: int, actual: int) -> None:
    """A zip whose headers say its member inflates to `declared` bytes when it inflates to `actual`."""
    stream, crc = _zeros_member(actual)
    _zip_of(path, [("era.835", stream, crc, declared)])


def _many_members(path: Path, count: int) -> None:
    member = _ISA
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(count):
            z.writestr(f"m/{i:06d}.835", member)


def part_memory(tmp: Path, quick: bool) -> Part:
    from benchmarks.bench_hostile import KINDS, hostile
    from benchmarks.bench_x12 import build_835

    part = Part("5. zip bombs, pathological 835s (fresh process each)")
    size_mb = 5.0 if quick else 100.0
    normal = tmp / "normal.835"
    build_835(normal, size_mb)
    data = normal.read_bytes()
    inputs: list[tuple[str, Path]] = [(f"normal 835, {len(data) / 1e6:.0f} MB", normal)]
    for kind, label in KINDS.items():
        path = tmp / f"hostile_{kind}.835"
        path.write_bytes(hostile(kind, len(data), data))
        inputs.append((f"835 {label}, {path.stat().st_size / 1e6:.0f} MB", path))
    del data
    inflate = 60_000_000 if quick else 6_000_000_000  # about 60 KB or 6 MB on disk
    bomb = tmp / "bomb.zip"
    _bomb(bomb, inflate, members=1 if quick else 6)
    inputs.append((f"zip bomb, {bomb.stat().st_size / 1e6:.1f} MB inflating to {inflate / 1e9:.2f} GB", bomb))
    lying = tmp / "lying.zip"
    _lying_zip(lying, declared=100, actual=30_000_000 if quick else 1_000_000_000)
    inputs.append((f"zip declaring 100 B, inflating to {'30 MB' if quick else '1 GB'}", lying))
    declared = tmp / "declared.zip"
    _lying_zip(declared, declared=4_000_000_000, actual=1000)
    inputs.append(("zip declaring 4 GB, holding 1 KB", declared))
    many = tmp / "many.zip"
    count = 2000 if quick else 100_000
    _many_members(many, count)
    inputs.append((f"zip of {count:,} members", many))
    rows = []
    worst = 0.0
    for label, path in inputs:
        part.tried += 1
        try:
            seconds, before, peak, outcome = _child(path)
        except Exception as e:
            part.crash(f"{label}: {e}")
            continue
        worst = max(worst, peak) if not label.startswith("normal") else worst
        over = " OVER BUDGET" if peak > BUDGET_MB else ""
        rows.append(f"{label}: {seconds:.1f} s, peak {peak:.0f} MB ({before:.0f} before){over}; {outcome}")
        if peak > BUDGET_MB:
            part.crash(f"{label}: peak {peak:.0f} MB over the {BUDGET_MB} MB budget")
    part.notes = rows + part.notes
    part.figure = f"worst peak {worst:.0f} MB (budget {BUDGET_MB} MB); each input below"
    return part


# -- 6. kills during import -------------------------------------------------------------------------------------------


def _subprocess_cli(*argv: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "xl_ar.cli", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)


def _totals(store: Path) -> tuple[int, ...]:
    with contextlib.closing(sqlite3.connect(store)) as db:
        return tuple(db.execute(
            "SELECT (SELECT COUNT(*) FROM payments), (SELECT COALESCE(SUM(amount), 0) FROM payments), "
            "(SELECT COUNT(*) FROM claim_payments), (SELECT COALESCE(SUM(paid), 0) FROM claim_payments), "
            "(SELECT COUNT(*) FROM line_payments), (SELECT COUNT(*) FROM adjustments)").fetchone())


def _claims_per_payment(store: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(store)) as db:
        return dict(db.execute("SELECT p.payment_id, (SELECT COUNT(*) FROM claim_payments c "
                               "WHERE c.payment_id = p.payment_id) FROM payments p").fetchall())


def part_kills(tmp: Path, quick: bool) -> Part:
    part = Part("6. SIGKILL during xl-ar import (store integrity)")
    folder = _synth(tmp / "kills", claims=300 if quick else 600, months=6)
    era = str(folder / "era")
    reference = tmp / "reference.sqlite"
    start = time.perf_counter()
    done = _subprocess_cli("import", era, "--store", str(reference), "--quiet")
    _, err = done.communicate()
    wall = time.perf_counter() - start
    if done.returncode != 0:
        part.crash(f"the uninterrupted import: exit {done.returncode}: {err.decode()[-400:]}")
        return part
    expected, totals = _claims_per_payment(reference), _totals(reference)
    rng = random.Random(SEED)
    kills = 3 if quick else 12
    half = bad_integrity = bad_audit = different = finished_first = 0
    delay_scale = wall
    for k in range(kills):
        store = tmp / f"killed{k}.sqlite"
        for _attempt in range(6):  # a kill must land during the import: a run that finished first is retried sooner
            store.unlink(missing_ok=True)
            process = _subprocess_cli("import", era, "--store", str(store), "--quiet")
            time.sleep(rng.uniform(0.15, 0.9) * delay_scale)
            if process.poll() is None:
                break
            finished_first += 1
            delay_scale *= 0.8
        process.send_signal(signal.SIGKILL)
        process.wait()
        part.tried += 1
        if not store.exists():
            continue
        try:
            with contextlib.closing(sqlite3.connect(store)) as db:
                check = db.execute("PRAGMA integrity_check").fetchone()[0]
                orphans = db.execute("SELECT COUNT(*) FROM claim_payments c WHERE NOT EXISTS "
                                     "(SELECT 1 FROM payments p WHERE p.payment_id = c.payment_id)").fetchone()[0]
            got = _claims_per_payment(store)
        except sqlite3.DatabaseError as e:
            part.crash(f"kill {k}: the store cannot be read: {e}")
            continue
        if check != "ok":
            bad_integrity += 1
            part.crash(f"kill {k}: PRAGMA integrity_check: {check}")
        broken = [p for p, n in got.items() if expected.get(p) != n]
        half += len(broken) + orphans
        if broken or orphans:
            part.crash(f"kill {k}: {len(broken)} payments without all their claims, {orphans} orphan claims")
        code, text = cli("audit", "verify", "--store", str(store))
        if code != 0:
            bad_audit += 1
            part.crash(f"kill {k}: audit verify exit {code}: {text.strip()[-300:]}")
        code, text = cli("import", era, "--store", str(store), "--quiet")
        if code != 0 or _totals(store) != totals:
            different += 1
            part.crash(f"kill {k}: re-import exit {code}, totals {_totals(store)} instead of {totals}")
    part.figure = (f"half-imported payments {half}; {kills} killed mid-import ({finished_first} runs that "
                   f"finished before their kill retried; {len(expected):,} payments, {wall:.1f} s uninterrupted); "
                   f"integrity failures {bad_integrity}, "
                   f"audit verify failures {bad_audit}, re-imports with other totals {different}")
    return part


# -- the table --------------------------------------------------------------------------------------------------------


def render(parts: list[Part]) -> str:
    head = ("part", "inputs tried", "crashes", "seconds", "figure")
    body = [(p.name, f"{p.tried:,}", str(p.crashes), f"{p.seconds:.0f}", p.figure) for p in parts]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head[:4], widths, strict=True)) + "  " + head[4]]
    lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    lines += ["  ".join(c.ljust(w) for c, w in zip(b[:4], widths, strict=True)) + "  " + b[4] for b in body]
    notes = [f"{p.name.split('.')[0]}. {n}" for p in parts for n in p.notes]
    if notes:
        lines += ["", "details:"] + ["  " + n.replace("\n", "\n    ") for n in notes]
    return "\n".join(lines)


PARTS = ("mutated", "folders", "formulas", "phi", "memory", "kills")


def run(quick: bool = False, only: tuple[str, ...] = PARTS) -> list[Part]:
    parts = []
    with tempfile.TemporaryDirectory(prefix="xl-ar-audit-") as name:
        tmp = Path(name)
        saved = {k: os.environ.get(k) for k in ("XL_AR_HOME", "XL_AR_TOKEN_KEY", "XL_AR_LOG_LEVEL")}
        os.environ["XL_AR_HOME"] = str(tmp / "home")  # no user settings, store or key of the person running it
        os.environ["XL_AR_TOKEN_KEY"] = "ab" * 32
        os.environ.pop("XL_AR_LOG_LEVEL", None)
        cwd = Path.cwd()
        os.chdir(tmp)  # no settings file of the working folder either
        try:
            practice = _synth(tmp / "base", claims=40)
            steps = {"mutated": lambda: part_mutated(tmp, quick, practice),
                     "folders": lambda: part_folders(tmp, quick, practice),
                     "formulas": lambda: part_formulas(tmp, quick), "phi": lambda: part_phi(tmp, quick),
                     "memory": lambda: part_memory(tmp, quick), "kills": lambda: part_kills(tmp, quick)}
            for key in only:
                print(f"running {key} ...", file=sys.stderr, flush=True)
                start = time.perf_counter()
                try:
                    part = steps[key]()
                except Exception as e:  # the audit itself failed: a row saying so, the other parts still run
                    part = Part(f"{PARTS.index(key) + 1}. {key}", figure="AUDIT ERROR")
                    part.notes.append(f"the audit step raised: {_tb(e)}")
                part.seconds = time.perf_counter() - start
                parts.append(part)
        finally:
            os.chdir(cwd)
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.security_audit", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small sample of each part (a smoke test)")
    parser.add_argument("parts", nargs="*", help=f"parts to run (default all: {', '.join(PARTS)})")
    args = parser.parse_args()
    if unknown := set(args.parts) - set(PARTS):
        parser.error(f"no part {', '.join(sorted(unknown))} (have: {', '.join(PARTS)})")
    parts = run(args.quick, tuple(args.parts) or PARTS)
    print(render(parts))
    return 1 if any(p.crashes for p in parts) else 0


if __name__ == "__main__":
    sys.exit(main())
