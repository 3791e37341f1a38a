"""The practice folder: everything a practice exports, read and checked in one go.

```
practice/
  practice.json      optional: {"name": ..., "npi": ..., "as_of": "YYYY-MM-DD", "files": {...column maps}}
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
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xl_ar import ledger, profiles, tables
from xl_ar.columns import DATE_FORMATS, ColumnMap
from xl_ar.errors import InputError
from xl_ar.findings import NOWHERE, Finding, Location, has_errors
from xl_ar.privacy import shown

log = logging.getLogger(__name__)

EXPORT_TABLES = ("payers", "claims", "claim_lines", "postings", "deposits", "fee_schedule", "payments",
                 "payment_plans")
"""The PM / bank export tables a practice folder may hold, in reading order. `payments` is a PM system's list
of the payers' checks and EFTs (EOBs): they stand for the payment level of remittances the 835s lack."""
REQUIRED_TABLES = ("claims",)
SPREADSHEET_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".txt", ".tsv")
OWN_FILES = ("scrub_rules.csv",)
"""Files of the practice folder that are xl-ar's settings, not exports: the scrubber's payer rules
(docs/scrubber.md). They are read by the commands that use them, never as a table."""
ERA_SUFFIXES = (".835", ".era", ".edi", ".x12", ".txt", ".rmt")
STATUS_SUFFIXES = (".277", ".999", ".ack", ".edi", ".x12", ".txt")
"""Files read under `status/`: 999 acknowledgements, 277CA claim acknowledgements, 277 status responses."""
ELIGIBILITY_SUFFIXES = (".271", ".edi", ".x12", ".txt")
"""Files read under `eligibility/`: 271 eligibility responses."""


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
    address: str = ""
    """Billing provider street address (837P loop 2010AA N3; a street, not a post office box)."""
    city: str = ""
    """Billing provider city (N401)."""
    state: str = ""
    """Billing provider state, two letters (N402)."""
    zip: str = ""
    """Billing provider ZIP code, 9 digits preferred (N403)."""
    submitter_id: str = ""
    """The practice's id with its clearinghouse (837P 1000A NM109, and ISA06/GS02 unless `interchange_id`)."""
    contact_name: str = ""
    """Who the clearinghouse calls about a file (1000A PER02)."""
    contact_phone: str = ""
    """Their phone number, digits only (1000A PER04)."""
    receiver_name: str = ""
    """The clearinghouse or payer that receives the claim files (1000B NM103)."""
    receiver_id: str = ""
    """Its id (1000B NM109, and ISA08/GS03 unless `interchange_receiver`)."""
    interchange_id: str = ""
    """ISA06 when it differs from `submitter_id` (qualifier ZZ)."""
    interchange_receiver: str = ""
    """ISA08 when it differs from `receiver_id` (qualifier ZZ)."""
    test_files: bool = False
    """true while the clearinghouse is testing the practice's files (ISA15 T instead of P)."""
    providers: dict[str, str] = field(default_factory=dict)
    """Rendering clinicians by NPI: `{"1234567893": "LAST, FIRST"}` (837P loop 2310B needs the name)."""
    statement_phone: str = ""
    """The phone number patients call about their statements (docs/statements.md); else `contact_phone`."""
    pay_url: str = ""
    """Where patients pay online, printed on statements."""
    remit_to: tuple[str, ...] = ()
    """The address lines patients mail payments to (a list in practice.json); else the practice's address."""

    @property
    def zip_code(self) -> str:
        """The ZIP code as printed: 9 digits as ZIP+4 (12345-6789), anything else as given."""
        return f"{self.zip[:5]}-{self.zip[5:]}" if len(self.zip) == 9 and self.zip.isdigit() else self.zip

    @property
    def city_line(self) -> str:
        """The last address line, "City, ST 12345-6789", of the parts given."""
        return " ".join(v for v in (", ".join(v for v in (self.city, self.state) if v), self.zip_code) if v)


def us_phone(number: str) -> str:
    """A phone number as printed: 10 digits as (555) 123-4567, anything else as given."""
    return f"({number[:3]}) {number[3:6]}-{number[6:]}" if len(number) == 10 and number.isdigit() else number


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
    profiles: dict[str, str] = field(default_factory=dict)
    """The known layout each file was read as (`xl_ar.profiles`), by file name."""

    def table(self, name: str) -> pd.DataFrame:
        """The table, or an empty canonical table when the folder has no file for it."""
        return self.tables.get(name, tables.empty(name))

    def remittances(self, progress=None) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
        """Every 835 under `era/` read into the remittance tables (duplicates kept), with findings;
        payer ids filled from the practice's payer list.

        Raises `InputError` naming every file of `era/` that cannot be read at all (empty, not X12,
        no readable ISA, unreadable from disk): a reconciliation or report without the payments of
        one of its ERAs would be wrong without saying so, so nothing is computed from the others."""
        from xl_ar import remittances, sources

        era = self.folder / "era"
        files, unreadable = [], []
        for p in self.era_files:
            name = p.relative_to(era).as_posix()
            try:
                files.append(sources.SourceFile(name, p.read_bytes()))
            except OSError as e:
                unreadable.append(Finding("error", name, NOWHERE, f"cannot be read ({e.strerror or e})", "unreadable"))
        found, findings = remittances.read_remittances(files, progress)
        unreadable += [f for f in findings if f.code == "unreadable"]
        if unreadable:
            named = [Finding(f.severity, f"era/{f.source}", f.where, f.message, f.code) for f in unreadable]
            what = named[0].source if len(named) == 1 else f"{len(named)} files in era/"
            raise InputError(f"{what}: cannot be read as an 835 remittance; fix or remove "
                             f"{'it' if len(named) == 1 else 'them'} (nothing was written)", named)
        listed = self.tables.get("payments")
        if listed is not None and len(listed):
            # the PM's EOB list: each check or EFT the 835s do not already carry (same trace number)
            new = listed[~listed.trace_number.isin(set(found["payments"].trace_number))].copy()
            new["source_file"] = self.files.get("payments")
            have = found["payments"]
            new = new.reindex(columns=have.columns).astype(have.dtypes.to_dict())
            found["payments"] = new.reset_index(drop=True) if have.empty else pd.concat([have, new], ignore_index=True)
        found["payments"] = remittances.assign_payers(found["payments"], self.tables.get("payers"))
        return found, findings

    def claim_status(self) -> tuple[pd.DataFrame, list[Finding]]:
        """Every 999, 277CA and 277 under `status/` read into the `claim_status` table, with findings.

        Raises `InputError` naming every file that cannot be read at all (not X12, another transaction set,
        truncated): a worklist that silently missed a rejection would be wrong without saying so."""
        from xl_ar.x12.status import read_277, read_999

        reads = []
        for path in x12_files(self.folder, "status", STATUS_SUFFIXES):
            data = _read_bytes(path, self.folder)
            reader = read_999 if _transaction_set(data) == "999" else read_277
            reads.append((path, reader(data, path.relative_to(self.folder).as_posix())))
        refused = [f for _, r in reads if r.refused for f in r.findings]
        if refused:
            what = refused[0].source if len(refused) == 1 else f"{len(refused)} files in status/"
            raise InputError(f"{what}: cannot be read as a 999, 277CA or 277; fix or remove "
                             f"{'it' if len(refused) == 1 else 'them'} (nothing was written)", refused)
        frames = [r.claim_status for _, r in reads if len(r.claim_status)]
        table = pd.concat(frames, ignore_index=True) if frames else tables.empty("claim_status")
        return table, [f for _, r in reads for f in r.findings]

    def eligibility(self) -> tuple[pd.DataFrame, list[Finding]]:
        """Every 271 under `eligibility/` read into the `eligibility` table, with findings; `InputError` naming
        the files that cannot be read at all."""
        from xl_ar.x12.eligibility import read_271

        reads = [read_271(_read_bytes(p, self.folder), p.relative_to(self.folder).as_posix())
                 for p in x12_files(self.folder, "eligibility", ELIGIBILITY_SUFFIXES)]
        refused = [f for r in reads for f in r.findings if f.code == "refused"]
        if refused:
            what = refused[0].source if len(refused) == 1 else f"{len(refused)} files in eligibility/"
            raise InputError(f"{what}: cannot be read as a 271 eligibility response; fix or remove "
                             f"{'it' if len(refused) == 1 else 'them'} (nothing was written)", refused)
        frames = [r.eligibility for r in reads if len(r.eligibility)]
        table = pd.concat(frames, ignore_index=True) if frames else tables.empty("eligibility")
        return table, [f for r in reads for f in r.findings]

    def all_tables(self) -> dict[str, pd.DataFrame]:
        """Every export table by name (empty canonical tables for the files the folder lacks), and the
        `claim_status` of `status/` (read once; `InputError` for a file that cannot be read)."""
        if "claim_status" not in self.tables:
            self.tables["claim_status"] = self.claim_status()[0]
        return {name: self.table(name) for name in (*EXPORT_TABLES, "claim_status")}

    def as_of(self, override: dt.date | None = None) -> dt.date:
        """The as-of date: the one given, else practice.json's, else a clear error."""
        if override is not None:
            return override
        if self.info.as_of is not None:
            return self.info.as_of
        raise InputError("no as-of date: give --as-of YYYY-MM-DD or put \"as_of\" in practice.json")


def _plan(folder: Path, maps: dict[str, ColumnMap], findings: list[Finding]
          ) -> tuple[dict[str, list[Path]], dict[Path, ledger.Sheet]]:
    """Which file holds which table: named for it (`claims.csv`), given it in practice.json's `files`, or
    recognised as a known layout by its headers. Files of a layout xl-ar cannot use are refused; other files
    are left alone with a warning. Returns the plan and the files already read to recognise them."""
    plan: dict[str, list[Path]] = {t: [] for t in EXPORT_TABLES}
    sheets: dict[Path, ledger.Sheet] = {}
    partners = []
    joined: set[str] = set()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SPREADSHEET_SUFFIXES
                       and p.name.lower() not in OWN_FILES):
        own = maps.get(path.name)
        if own is not None and own.table:
            plan[own.table].append(path)
            continue
        if path.stem.lower() in EXPORT_TABLES:
            plan[path.stem.lower()].append(path)
            continue
        try:
            sheet = ledger.read_sheet(path)
        except InputError:
            findings.append(Finding("warning", path.name, NOWHERE, "not read: not a spreadsheet xl-ar can open",
                                    "not read"))
            continue
        profile = _profile_of(sheet, own)
        if profile is None:
            findings.append(Finding("warning", path.name, NOWHERE, "not read: its name is not a table's and its "
                                    "headers are not a layout xl-ar knows; name it for its table (claims.csv) or map "
                                    "it (xl-ar map suggest)", "not read"))
        elif profile.table is None:
            partners.append((path, profile))
            sheets[path] = sheet  # kept: a two-file layout reads it again as its partner
        else:
            plan[profile.table].append(path)
            sheets[path] = sheet
            joined.add(profile.joins)
    for path, profile in partners:
        if profile.key not in joined:
            findings.append(profiles.refusal(profile, path.name))
    return plan, sheets


def column_maps(data: object, source: str = "practice.json") -> tuple[dict[str, ColumnMap], list[Finding]]:
    """practice.json's `files`: for each export file, its table, column map, constants and date format.

    ```json
    "files": {"Collections Report.csv": {"table": "claims",
                                         "columns": {"Visit": "claim_id", "Notes": ""},
                                         "constants": {"payer_id": "SELF-PAY"},
                                         "date_format": "MM/DD/YYYY"}}
    ```
    """
    findings: list[Finding] = []
    maps: dict[str, ColumnMap] = {}
    if data is None:
        return maps, findings
    if not isinstance(data, dict):
        return maps, [Finding("error", source, Location(key="files"), "must map file names to their reading",
                              "bad column map")]
    for file, spec in data.items():
        where = f"files.{file}"
        if not isinstance(spec, dict):
            findings.append(Finding("error", source, Location(key=where), "must be an object with table, columns, "
                                    "constants or date_format", "bad column map"))
            continue
        unknown = sorted(set(spec) - {"table", "columns", "constants", "date_format", "profile"})
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            findings.append(Finding("error", source, Location(key=where), f"unknown key{plural} {', '.join(unknown)}; "
                                    "the keys are table, columns, constants, date_format, profile", "bad column map"))
        table = spec.get("table")
        if table is not None and table not in EXPORT_TABLES:
            findings.append(Finding("error", source, Location(key=f"{where}.table"), f"'{table}' is not a table; the "
                                    f"tables are {', '.join(EXPORT_TABLES)}", "bad column map"))
            table = None
        parts = {}
        for key in ("columns", "constants"):
            value = spec.get(key) or {}
            if not isinstance(value, dict) or not all(isinstance(v, (str, int, float)) or v is None
                                                      for v in value.values()):
                findings.append(Finding("error", source, Location(key=f"{where}.{key}"),
                                        "must be an object of text values", "bad column map"))
                value = {}
            parts[key] = {str(k): "" if v is None else str(v) for k, v in value.items()}
        fmt = spec.get("date_format")
        if fmt is not None and str(fmt).upper() not in DATE_FORMATS:
            findings.append(Finding("error", source, Location(key=f"{where}.date_format"),
                                    f"'{fmt}' is not a date format; use one of {', '.join(DATE_FORMATS)}",
                                    "bad column map"))
            fmt = None
        maps[str(file)] = ColumnMap(table, parts["columns"], parts["constants"],
                                    str(fmt).upper() if fmt else None, spec.get("profile"))
    return maps, findings


def read_info(folder: Path) -> tuple[PracticeInfo, list[Finding]]:
    info, _, findings = read_settings(folder)
    return info, findings


def read_settings(folder: Path) -> tuple[PracticeInfo, dict[str, ColumnMap], list[Finding]]:
    """practice.json: who the practice is, and how to read its export files (`column_maps`)."""
    path = folder / "practice.json"
    if not path.exists():
        return PracticeInfo(), {}, []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return PracticeInfo(), {}, [Finding("error", "practice.json", NOWHERE, f"not valid JSON ({e})", "unreadable")]
    if not isinstance(data, dict):
        return PracticeInfo(), {}, [Finding("error", "practice.json", NOWHERE, "must be a JSON object", "unreadable")]
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
    maps, more = column_maps(data.get("files"))
    edi = {k: str(data.get(k, "") or "") for k in _EDI_KEYS}
    providers = data.get("providers") or {}
    if not isinstance(providers, dict):
        findings.append(Finding("error", "practice.json", Location(key="providers"),
                                "must map rendering NPIs to names (\"LAST, FIRST\")", "bad value"))
        providers = {}
    info = PracticeInfo(str(data.get("name", "") or ""), npi, str(data.get("tax_id", "") or ""), as_of, **edi,
                        test_files=bool(data.get("test_files", False)),
                        providers={str(k): str(v) for k, v in providers.items()},
                        statement_phone=str(data.get("statement_phone", "") or ""),
                        pay_url=str(data.get("pay_url", "") or ""), remit_to=_lines(data.get("remit_to"), findings))
    return info, maps, findings + more


def _lines(value: object, findings: list[Finding]) -> tuple[str, ...]:
    """practice.json's `remit_to`: a list of address lines (or one line of text)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value if str(v).strip())
    findings.append(Finding("error", "practice.json", Location(key="remit_to"),
                            "must be a list of address lines", "bad value"))
    return ()


_EDI_KEYS = ("address", "city", "state", "zip", "submitter_id", "contact_name", "contact_phone", "receiver_name",
             "receiver_id", "interchange_id", "interchange_receiver")
"""practice.json keys for the claim files (docs/claims-out.md), read as text."""


def npi_check_digit(base9: str) -> str:
    """The tenth digit of an NPI: Luhn over the card issuer prefix 80840 and the nine digits (CMS NPI standard)."""
    total = 0
    for i, d in enumerate(int(c) for c in reversed("80840" + base9)):
        if i % 2 == 0:  # doubled: the rightmost digit and every second one to its left
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def npi_is_valid(npi: str) -> bool:
    """Whether a text is an NPI: 10 digits whose last is the check digit (`npi_check_digit`) of the first nine."""
    return len(npi) == 10 and npi.isascii() and npi.isdigit() and npi_check_digit(npi[:9]) == npi[9]


def x12_files(folder: Path, sub: str, suffixes: tuple[str, ...]) -> list[Path]:
    """The X12 files under `folder/sub` (recursively), in name order."""
    where = folder / sub
    if not where.is_dir():
        return []
    return sorted(p for p in where.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def _read_bytes(path: Path, folder: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        name = path.relative_to(folder).as_posix()
        raise InputError(f"{name}: cannot be read ({e.strerror or e}); nothing was written", source=name) from None


def _transaction_set(data: bytes) -> str:
    """ST01 of the first transaction set (`999`, `277`, ...), found with the ISA's element separator; '' if none."""
    head = data[:65536].lstrip()
    if not head.startswith(b"ISA") or len(head) < 106:
        return ""
    sep, end = re.escape(head[3:4]), re.escape(head[105:106])
    found = re.search(end + rb"\s*ST" + sep + rb"([0-9A-Z]{3})", head)
    return found.group(1).decode("ascii") if found else ""


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
    info, maps, findings = read_settings(folder)
    result = PracticeFolder(folder, info, {}, era_files(folder), findings)
    for file in sorted(set(maps) - {p.name for p in folder.iterdir()}):
        result.findings.append(Finding("warning", "practice.json", Location(key=f"files.{file}"),
                                       "names a file the folder does not have", "bad column map"))
    plan, sheets = _plan(folder, maps, result.findings)
    for table in EXPORT_TABLES:
        found = plan[table]
        if not found:
            refused = any(f.code == "unusable layout" for f in result.findings)
            if table in REQUIRED_TABLES and table not in result.tables and not refused:
                result.findings.append(Finding("error", folder.name, NOWHERE,
                                               f"no {table}.csv or {table}.xlsx in the folder, and no file "
                                               "recognised or mapped as claims", "missing file"))
            continue
        if len(found) > 1:
            names = " and ".join(p.name for p in found)
            result.findings.append(Finding("error", folder.name, NOWHERE, f"two files for {table}: {names}; keep one",
                                           "two files"))
            continue
        path = found[0]
        result.files[table] = path.name
        try:
            sheet = sheets[path] if path in sheets else ledger.read_sheet(path)
            export = _read_file(path, sheet, table, maps.get(path.name), result.tables.get("payers"), sheets)
        except InputError as e:
            result.findings.append(Finding("error", e.source or path.name, NOWHERE, e.reason, "unreadable"))
            continue
        for name, frame in export.tables.items():
            if name == table or name not in result.tables:
                result.tables[name] = frame
                result.files.setdefault(name, path.name)
        if export.profile:
            result.profiles[path.name] = export.profile
        result.findings += export.findings
        log.info("read %s as %s: %d bytes, %s, %d findings", path.name, table, _size(path),
                 ", ".join(f"{len(frame)} {name} rows" for name, frame in export.tables.items()),
                 len(export.findings))
    result.findings += _cross_checks(result)
    log.info("practice folder %s: %d exports, %d ERA files, %d findings", folder.name, len(result.tables),
             len(result.era_files), len(result.findings))
    return result


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _cross_checks(p: PracticeFolder) -> list[Finding]:
    """References between tables: every claim's payer is a known payer, every line's claim a known claim."""
    out: list[Finding] = []
    payers, claims = p.tables.get("payers"), p.tables.get("claims")
    if payers is not None and claims is not None and len(payers):
        unknown = claims.payer_id.notna() & ~claims.payer_id.isin(payers.payer_id)
        for payer_id, rows in claims.index[unknown].to_series().groupby(claims.payer_id[unknown]):
            first = int(rows.iloc[0]) + 2
            out.append(Finding("error", p.files["claims"], Location(row=first, column="payer_id"),
                               f"payer {shown('payer_id', payer_id)} is not in {p.files['payers']} ({len(rows)} rows)",
                               "unknown payer"))
    lines = p.tables.get("claim_lines")
    if lines is not None and claims is not None and len(lines):
        orphan = lines.claim_id.notna() & ~lines.claim_id.isin(claims.claim_id)
        if orphan.any():
            first = int(lines.index[orphan][0]) + 2
            out.append(Finding("error", p.files["claim_lines"], Location(row=first, column="claim_id"),
                               f"claim not in {p.files['claims']} ({int(orphan.sum())} rows like this)",
                               "unknown claim"))
    return out


def read_export(path: Path, table: str = "claims", payers: pd.DataFrame | None = None) -> ledger.Export:
    """One export file read as `table` (or as the known layout it is), with the column map practice.json
    beside it gives that file, if any.

    Raises `InputError` when the file cannot be read at all; every other problem is a finding.
    """
    path = Path(path)
    _, maps, findings = read_settings(path.parent)
    sheet = ledger.read_sheet(path)
    export = _read_file(path, sheet, table, maps.get(path.name), payers)
    export.findings[:0] = [f for f in findings if f.severity == "error"]
    return export


def _profile_of(sheet: ledger.Sheet, own: ColumnMap | None) -> profiles.Profile | None:
    if own is not None and own.profile:
        return profiles.BY_KEY.get(own.profile)
    if own is not None and own.columns:
        return None  # the practice's own map says how to read it
    return profiles.recognize(list(sheet.frame.columns))


def _partner(path: Path, profile: profiles.Profile, read: dict[Path, ledger.Sheet]) -> pd.DataFrame | None:
    """The second file of a two-file layout (Synthea's claims_transactions.csv), from the same folder; files
    already read (`read`) are not read again."""
    wanted = profiles.BY_KEY[profile.joins]
    for other in sorted(path.parent.iterdir()):
        if other != path and other.is_file() and other.suffix.lower() in SPREADSHEET_SUFFIXES:
            try:
                sheet = read[other] if other in read else ledger.read_sheet(other)
            except InputError:
                continue
            if profiles.recognize(list(sheet.frame.columns)) == wanted:
                return sheet.frame
    return None


def _read_file(path: Path, sheet: ledger.Sheet, table: str, own: ColumnMap | None,
               payers: pd.DataFrame | None, read: dict[Path, ledger.Sheet] | None = None) -> ledger.Export:
    """One file read: as its known layout (or refused), else as `table` with the practice's map."""
    profile = _profile_of(sheet, own)
    if profile is None:
        return ledger.export_from_sheet(sheet, (own.table if own and own.table else table), payers, own)
    if profile.table is None:
        return ledger.Export({}, [profiles.refusal(profile, path.name)], profile.name)
    partner = _partner(path, profile, read or {}) if profile.joins else None
    frame, lines, findings = profiles.prepare(profile, sheet.frame, path.name, partner)
    export = ledger.export_from_sheet(ledger.Sheet(sheet.name, frame, sheet.first_row, sheet.findings + findings),
                                      profile.table, payers, profile.column_map(own))
    if lines is not None:
        read, more = ledger.table_from_sheet(ledger.Sheet(sheet.name, lines), "claim_lines")
        export.tables["claim_lines"] = read
        export.findings += [f for f in more if f.severity == "error"]
    export.profile = profile.name
    return export


def load_practice(folder: Path) -> PracticeFolder:
    """`read_practice`, raising `InputError` with every finding when any of them is an error."""
    practice = read_practice(folder)
    if has_errors(practice.findings):
        n = sum(f.severity == "error" for f in practice.findings)
        raise InputError(f"{practice.folder.name}: {n} problem{'s' if n != 1 else ''} in the practice folder; "
                         "nothing was written", [f for f in practice.findings if f.severity == "error"])
    return practice
