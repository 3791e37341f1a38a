"""The practice folder: everything a practice exports, read and checked in one go.

```
practice/
  practice.json      optional: {"name": ..., "npi": ..., "as_of": "YYYY-MM-DD"}
  payers.csv|xlsx    claims.csv|xlsx (required)   claim_lines.csv|xlsx
  postings.csv|xlsx  deposits.csv|xlsx            fee_schedule.csv|xlsx
  era/               835 remittance files (any names, any depth)
```

`read_practice` reads every file and returns the tables with every finding; `load_practice` does the
same and raises `InputError` listing all problems when any is an error, so a command that loads a
practice writes nothing from bad input.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xl_ar import ledger, tables
from xl_ar.errors import InputError
from xl_ar.findings import NOWHERE, Finding, Location, has_errors

EXPORT_TABLES = ("payers", "claims", "claim_lines", "postings", "deposits", "fee_schedule")
"""The PM / bank export tables a practice folder may hold, in reading order."""
REQUIRED_TABLES = ("claims",)
SPREADSHEET_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".txt", ".tsv")
ERA_SUFFIXES = (".835", ".era", ".edi", ".x12", ".txt", ".rmt")


@dataclass(frozen=True)
class PracticeInfo:
    """practice.json: who the practice is and the as-of date of its export."""

    name: str = ""
    """Practice name shown on reports."""
    npi: str = ""
    """Billing NPI (the payee on 835s)."""
    tax_id: str = ""
    """Tax id (not shown on reports)."""
    as_of: dt.date | None = None
    """As-of date of the export; every command uses it when --as-of is not given."""


@dataclass
class PracticeFolder:
    """A practice folder as read: its info, the canonical tables present, the ERA files, findings."""

    folder: Path
    info: PracticeInfo
    tables: dict[str, pd.DataFrame]
    era_files: list[Path]
    findings: list[Finding] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Which file each table came from (file names only)."""

    def table(self, name: str) -> pd.DataFrame:
        """The table, or an empty canonical table when the folder has no file for it."""
        return self.tables.get(name, tables.empty(name))

    def remittances(self, progress=None) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
        """Every 835 under `era/` read into the remittance tables (duplicates kept), with findings;
        payer ids filled from the practice's payer list."""
        from xl_ar import remittances, sources

        files = [sources.SourceFile(p.relative_to(self.folder / "era").as_posix(), p.read_bytes())
                 for p in self.era_files]
        found, findings = remittances.read_remittances(files, progress)
        found["payments"] = remittances.assign_payers(found["payments"], self.tables.get("payers"))
        return found, findings

    def all_tables(self) -> dict[str, pd.DataFrame]:
        """Every export table by name (empty canonical tables for the files the folder lacks)."""
        return {name: self.table(name) for name in EXPORT_TABLES}

    def as_of(self, override: dt.date | None = None) -> dt.date:
        """The as-of date: the one given, else practice.json's, else a clear error."""
        if override is not None:
            return override
        if self.info.as_of is not None:
            return self.info.as_of
        raise InputError("no as-of date: give --as-of YYYY-MM-DD or put \"as_of\" in practice.json")


def _find(folder: Path, table: str) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.stem.lower() == table
                  and p.suffix.lower() in SPREADSHEET_SUFFIXES)


def read_info(folder: Path) -> tuple[PracticeInfo, list[Finding]]:
    path = folder / "practice.json"
    if not path.exists():
        return PracticeInfo(), []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return PracticeInfo(), [Finding("error", "practice.json", NOWHERE, f"not valid JSON ({e})", "unreadable")]
    if not isinstance(data, dict):
        return PracticeInfo(), [Finding("error", "practice.json", NOWHERE, "must be a JSON object", "unreadable")]
    findings = []
    as_of = None
    if data.get("as_of"):
        try:
            as_of = dt.date.fromisoformat(str(data["as_of"]))
        except ValueError:
            findings.append(Finding("error", "practice.json", Location(key="as_of"),
                                    f"'{data['as_of']}' is not a date (YYYY-MM-DD)", "bad value"))
    npi = str(data.get("npi", "") or "")
    if npi and not npi_is_valid(npi):
        findings.append(Finding("warning", "practice.json", Location(key="npi"),
                                f"'{npi}' is not a valid NPI (10 digits, check digit)", "bad value"))
    return PracticeInfo(str(data.get("name", "") or ""), npi, str(data.get("tax_id", "") or ""), as_of), findings


def npi_is_valid(npi: str) -> bool:
    """NPI check digit: Luhn over the prefix 80840 and the first nine digits."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


def era_files(folder: Path) -> list[Path]:
    """835 files under `era/` (recursively), in name order."""
    era = folder / "era"
    if not era.is_dir():
        return []
    return sorted(p for p in era.rglob("*") if p.is_file() and p.suffix.lower() in ERA_SUFFIXES)


def read_practice(folder: Path) -> PracticeFolder:
    """Read every export in the folder; all problems become findings (nothing raises but a missing folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("practice folder not found", source=folder.name or str(folder))
    info, findings = read_info(folder)
    result = PracticeFolder(folder, info, {}, era_files(folder), findings)
    for table in EXPORT_TABLES:
        found = _find(folder, table)
        if not found:
            if table in REQUIRED_TABLES:
                result.findings.append(Finding("error", folder.name, NOWHERE,
                                               f"no {table}.csv or {table}.xlsx in the folder", "missing file"))
            continue
        if len(found) > 1:
            names = " and ".join(p.name for p in found)
            result.findings.append(Finding("error", folder.name, NOWHERE, f"two files for {table}: {names}; keep one",
                                           "two files"))
            continue
        path = found[0]
        result.files[table] = path.name
        try:
            frame, more = ledger.read_table(path, table, payers=result.tables.get("payers"))
        except InputError as e:
            result.findings.append(Finding("error", e.source or path.name, NOWHERE, e.reason, "unreadable"))
            continue
        result.tables[table] = frame
        result.findings += more
    result.findings += _cross_checks(result)
    return result


def _cross_checks(p: PracticeFolder) -> list[Finding]:
    """References between tables: every claim's payer is a known payer, every line's claim a known claim."""
    out: list[Finding] = []
    payers, claims = p.tables.get("payers"), p.tables.get("claims")
    if payers is not None and claims is not None and len(payers):
        unknown = claims.payer_id.notna() & ~claims.payer_id.isin(payers.payer_id)
        for payer_id, rows in claims.index[unknown].to_series().groupby(claims.payer_id[unknown]):
            first = int(rows.iloc[0]) + 2
            out.append(Finding("error", p.files["claims"], Location(row=first, column="payer_id"),
                               f"payer '{payer_id}' is not in {p.files['payers']} ({len(rows)} rows)", "unknown payer"))
    lines = p.tables.get("claim_lines")
    if lines is not None and claims is not None and len(lines):
        orphan = lines.claim_id.notna() & ~lines.claim_id.isin(claims.claim_id)
        if orphan.any():
            first = int(lines.index[orphan][0]) + 2
            out.append(Finding("error", p.files["claim_lines"], Location(row=first, column="claim_id"),
                               f"claim not in {p.files['claims']} ({int(orphan.sum())} rows like this)",
                               "unknown claim"))
    return out


def load_practice(folder: Path) -> PracticeFolder:
    """`read_practice`, raising `InputError` with every finding when any of them is an error."""
    practice = read_practice(folder)
    if has_errors(practice.findings):
        n = sum(f.severity == "error" for f in practice.findings)
        raise InputError(f"{practice.folder.name}: {n} problem{'s' if n != 1 else ''} in the practice folder; "
                         "nothing was written", [f for f in practice.findings if f.severity == "error"])
    return practice
