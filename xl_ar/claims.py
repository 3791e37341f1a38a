"""Claims out of a practice folder: which claims go, scrubbed, and the files that carry them (docs/claims-commands.md).

The commands `xl-ar claims scrub`, `xl-ar claims export-837`, `xl-ar eligibility request|check` and
`xl-ar claim-status request|show` are thin over this module and the core (`xl_ar.scrub`,
`xl_ar.x12.claims_out`, `xl_ar.x12.eligibility`, `xl_ar.eligibility`, `xl_ar.x12.status`,
`xl_ar.claim_status`).

- **Claims to send** (`to_send`): claims not yet billed (no `billed_date`) plus corrections and voids
  (frequency code 7 or 8), or every claim.
- **Control numbers** (`next_control_number`, `record_x12`): every X12 file xl-ar sends (837P, 270, 276)
  takes its interchange (ISA13) and group (GS06) control number from one sequence kept in the store's audit
  trail: each file written is an `export` event carrying `isa13`; the next file takes the largest recorded
  plus one, so two exports never reuse a control number (also across machines sharing a team database).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from xl_ar import tables
from xl_ar.findings import Finding

CORRECTIONS = ("7", "8")
"""Claim frequency codes that send a claim again: 7 replacement, 8 void."""

RULES_FILE = "scrub_rules.csv"
"""The practice's payer rules file (beside its exports; `xl_ar.scrub.read_rules`)."""


def to_send(claims: pd.DataFrame, every: bool = False) -> pd.Series:
    """Whether each claim goes out: not yet billed (no `billed_date`) or a correction or void (frequency 7/8);
    every claim when `every`."""
    if every:
        return pd.Series(True, index=claims.index)
    unbilled = claims["billed_date"].isna() if "billed_date" in claims else pd.Series(True, index=claims.index)
    freq = claims["frequency_code"].astype("string").str.strip() if "frequency_code" in claims \
        else pd.Series(pd.NA, index=claims.index, dtype="string")
    return (unbilled | freq.isin(CORRECTIONS).fillna(False)).astype(bool)


@dataclass
class Scrubbed:
    """A scrub of the claims to send: those claims, their lines, the `scrub_findings`, and the clean ones."""

    claims: pd.DataFrame
    claim_lines: pd.DataFrame
    findings: pd.DataFrame
    clean: pd.DataFrame
    rule_findings: list[Finding] = field(default_factory=list)
    """Problems of the payer rules file (each says its row)."""

    @property
    def held(self) -> int:
        """Claims with an error finding (held back until fixed)."""
        return int(self.findings.loc[self.findings["severity"] == "error", "claim_id"].nunique())

    @property
    def self_pay(self) -> int:
        """Claims not scrubbed: their payer is self-pay (no claim goes to a payer for them)."""
        return len(self.claims) - len(self.clean) - self.held

    def clean_claim_rate(self, claim_status: pd.DataFrame | None = None):
        """The clean claim rate (HFMA, `kpi.clean_claim_rate`) of the claims scrubbed that go to a payer (self-pay
        left out), with the first acknowledgements in `claim_status` when given."""
        from xl_ar import kpi

        errors = set(self.findings.loc[self.findings["severity"] == "error", "claim_id"])
        sent = self.claims[self.claims["claim_id"].isin(set(self.clean["claim_id"]) | errors)]
        return kpi.clean_claim_rate(sent, self.findings, claim_status)

    def counts_by_rule(self) -> pd.DataFrame:
        """rule_id, severity, findings, claims: how often each rule fired, most frequent first."""
        f = self.findings
        if f.empty:
            return pd.DataFrame({"rule_id": [], "severity": [], "findings": [], "claims": []})
        out = f.groupby(["rule_id", "severity"], sort=True).agg(findings=("claim_id", "size"),
                                                                claims=("claim_id", "nunique")).reset_index()
        return out.sort_values(["findings", "rule_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def payer_rules(folder: Path, rules: Path | None = None) -> tuple[pd.DataFrame | None, list[Finding]]:
    """The payer rules: `rules` when given, else the practice's `scrub_rules.csv` when present, else none."""
    from xl_ar.errors import InputError
    from xl_ar.scrub import read_rules

    path = rules if rules is not None else folder / RULES_FILE
    if rules is None and not path.is_file():
        return None, []
    if not path.is_file():
        raise InputError("no such file", source=path.name)
    return read_rules(path)


def scrub_practice(practice, as_of: dt.date, rules: pd.DataFrame | None = None, every: bool = False) -> Scrubbed:
    """Scrub the practice's claims to send (`to_send`) as of `as_of` with the payer `rules`."""
    from xl_ar.scrub import clean_claims, scrub

    claims = practice.table("claims")
    lines = practice.table("claim_lines")
    payers = practice.table("payers")
    sending = claims[to_send(claims, every).to_numpy(dtype=bool)]  # the index stays the file's row order
    their_lines = lines[lines["claim_id"].isin(set(sending["claim_id"]))]
    found = scrub(sending, their_lines, payers, practice.info.npi, as_of, rules)
    clean = clean_claims(sending, found, payers)
    return Scrubbed(sending, their_lines, found, clean)


def at_file_rows(findings: list[Finding], frames: dict[str, pd.DataFrame], files: dict[str, str]) -> list[Finding]:
    """Findings a writer gave about the rows of part of a table (`frames`: table name -> that part, its index the
    positions in the whole table) moved to the rows and name of the practice's file (`files`: table -> file)."""
    moved = []
    for f in findings:
        part = frames.get(f.source)
        row = f.where.row
        if part is not None and row is not None and 2 <= row < len(part) + 2:
            at = int(part.index[row - 2]) + 2
            f = replace(f, source=files.get(f.source, f.source), where=replace(f.where, row=at))
        moved.append(f)
    return moved


# -- control numbers ------------------------------------------------------------------------------

def next_control_number(store) -> int:
    """The next interchange/group control number: 1 + the largest `isa13` of the store's audit trail (1 when none)."""
    events = store.audit_events()
    if events.empty:
        return 1
    exports = events.loc[events["action"] == "export", "detail"]
    used = [int(d.get("isa13", 0)) for d in (json.loads(x) for x in exports if x and "isa13" in x)]
    return max(used, default=0) + 1


def record_x12(store, what: str, path: Path, isa13: int, **detail: object) -> None:
    """Record an X12 file written: an `export` event with its control number (`isa13`, also GS06) and SHA-256."""
    from xl_ar import audit

    store.audit("export", what=what, isa13=isa13, outputs=audit.hashes([path]), **detail)


def write_findings(path: Path, findings: pd.DataFrame) -> None:
    """The scrub findings as .xlsx (text cells as text) or .csv (a cell starting with = + - @ is prefixed with
    an apostrophe, so a spreadsheet never runs it); whole or not at all, owner-only (claim ids)."""
    from xl_ar import outputs
    from xl_ar.errors import InputError

    columns = list(tables.empty("scrub_findings").columns)
    frame = findings.reindex(columns=columns)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = frame.astype(object).where(frame.notna(), "").astype(str)
        risky = text.apply(lambda col: col.str.match(r"^[=+\-@\t\r]"))
        text = text.where(~risky, "'" + text)
        outputs.write_text(path, text.to_csv(index=False, lineterminator="\n"), private=True)
        return
    if suffix != ".xlsx":
        raise InputError("write the findings to a .xlsx or .csv file", source=path.name)
    from xl_ar.reports import safety

    with outputs.whole_file(path, private=True) as tmp:
        book = safety.workbook(str(tmp))
        sheet = book.add_worksheet("Scrub findings")
        bold = book.add_format({"bold": True})
        for j, name in enumerate(columns):
            sheet.write_string(0, j, name, bold)
        values = frame.astype(object).where(frame.notna(), None).to_numpy()
        for i in range(values.shape[0]):  # cells of a workbook: no vector path in xlsxwriter
            for j in range(values.shape[1]):
                v = values[i, j]
                if v is None:
                    continue
                if isinstance(v, int | np.integer):
                    sheet.write_number(i + 1, j, int(v))
                else:
                    sheet.write_string(i + 1, j, str(v))
        sheet.autofilter(0, 0, max(values.shape[0], 1), len(columns) - 1)
        sheet.freeze_panes(1, 0)
        book.close()
