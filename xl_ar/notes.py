"""Follow-up notes and ticklers: what a specialist learned on each touch of a claim, and when to look again.

A note is one touch (a call, a portal check, a letter, an email, a fax) on one claim: its date, author (the
OS user), channel, the payer's reference number, the outcome in the specialist's words and the next follow-up
date. Notes come from the ribbon (Add note / Import notes on the `Notes` sheet), a CSV or `xl-ar notes add`.

Rules (docs/notes.md):
- A note is stored once: its key is the SHA-256 of its fields (`note_keys`), unique in the store, so a sheet
  imported twice stores each note once.
- The tickler of a claim is the `next_followup` of its LATEST note (latest `note_date`; on one date, the one
  entered last). A latest note without a next date clears the tickler.
- The worklist (`followup_view`) hides a claim whose tickler is AFTER the as-of date and shows it again ON that
  date; rows without a claim (bank, duplicate payments) are never hidden.
- `outcome` is free text about a patient's claim: an identifier column (`xl_ar.privacy`), never in messages,
  logs, audit events or manager outputs. Manager outputs get `touch_summary` (counts and medians only).

Core only: tables in, tables out; reading files and the store are the callers' business.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd

from xl_ar import columns, ledger, tables
from xl_ar.balances import Reads
from xl_ar.findings import Finding, Location

CHANNELS: tuple[str, ...] = get_args(tables.NoteChannel)
"""The channels a note may name."""

SHEET = "Notes"
"""The workbook sheet (an Excel Table of the same name) a specialist writes notes on."""

HEADERS: tuple[str, ...] = ("Claim #", "Date", "Author", "Channel", "Reference #", "Outcome", "Next Follow-up")
"""The header row xl-ar writes on a new Notes sheet (each read back through `columns.SYNONYMS['notes']`)."""

HEADER_COLUMNS: dict[str, str] = dict(zip(HEADERS, ("claim_id", "note_date", "author", "channel",
                                                    "payer_reference", "outcome", "next_followup"), strict=True))
"""Each header of `HEADERS` and the canonical column it holds."""

VIEW_COLUMNS: tuple[str, ...] = ("note_date", "note_author", "note_channel", "note_reference", "outcome",
                                 "next_followup", "touches", "days_since_touch")
"""What `followup_view` adds to each worklist row: the last note (date, author, channel, reference, outcome),
the tickler, the notes on the claim and the days since the last one."""

READS = Reads(("claim_id", "note_date"), ("next_followup",))
"""The columns of the notes the tickler reads (=AR_NEXT_FOLLOWUP asks a Notes range for these only)."""

STALE_DAYS = 30
"""A claim not touched for this many days or more counts as stale in the touch summary."""

_KEYED = ("claim_id", "note_date", "author", "channel", "payer_reference", "outcome", "next_followup")


# -- reading ---------------------------------------------------------------------------------------------------

def read_notes(sheet: ledger.Sheet, author: str) -> tuple[pd.DataFrame, list[Finding]]:
    """The `notes` table of a Notes sheet or CSV (headers as in `HEADERS` or their synonyms), with a finding per
    bad cell (missing claim, bad date, unknown channel). Without an author column every note is `author`'s
    (the OS user); an author cell left empty is `author`'s too. Every row is kept; see `tables.from_frame`."""
    headers = list(sheet.frame.columns)
    author_headers = [h for h, c in columns.map_headers("notes", headers).columns.items() if c == "author"]
    column_map = columns.ColumnMap() if author_headers else columns.ColumnMap(constants={"author": author})
    if author_headers:
        header = author_headers[0]
        cells = sheet.frame[header].astype("string").str.strip()
        frame = sheet.frame.copy()
        frame[header] = cells.where(cells.fillna("") != "", author).astype(object)
        sheet = ledger.Sheet(sheet.name, frame, sheet.first_row, list(sheet.findings))
    export = ledger.export_from_sheet(sheet, "notes", column_map=column_map)
    return export.tables["notes"], export.findings + _nul_findings(export.tables["notes"], sheet.name,
                                                                   sheet.first_row)


def read_notes_file(path: Path, author: str) -> tuple[pd.DataFrame, list[Finding]]:
    """`read_notes` of a .csv or .xlsx file."""
    return read_notes(ledger.read_sheet(Path(path)), author)


def new_note(claim_id: str, channel: str, note_date: dt.date, author: str, outcome: str | None = None,
             reference: str | None = None, next_followup: dt.date | None = None,
             source: str = "note") -> tuple[pd.DataFrame, list[Finding]]:
    """One note as a `notes` table (one row), checked like a sheet row: a finding per bad value."""
    raw = pd.DataFrame({"claim_id": [claim_id], "note_date": [note_date.isoformat()], "author": [author],
                        "channel": [channel], "payer_reference": [reference], "outcome": [outcome],
                        "next_followup": [next_followup.isoformat() if next_followup else None]}, dtype=object)
    found, findings = tables.from_frame("notes", raw, source, first_row=1)
    return found, findings + _nul_findings(found, source, 1)


NUL_REFUSED = "holds a NUL character (code 0), which the store cannot keep (PostgreSQL refuses it in text)"
"""Why a note's text with a NUL character is refused: on every backend, so a note SQLite would keep is not lost
on a team store (and the note is never half stored)."""


def _nul_findings(notes_table: pd.DataFrame, source: str, first_row: int) -> list[Finding]:
    """An error per text cell of `notes_table` holding a NUL character (its row and column, never its value)."""
    found: list[Finding] = []
    for column in notes_table.columns:
        values = notes_table[column]
        if values.dtype.kind in "Mmfiub":
            continue
        holds = values.map(lambda v: isinstance(v, str) and "\x00" in v).tolist()
        for position, (label, bad) in enumerate(zip(notes_table.index, holds, strict=True)):
            if bad:  # rows as the reader numbers them: the frame's integer index from the first data row
                row = first_row + (int(label) if isinstance(label, (int, np.integer)) else position)
                found.append(Finding("error", source, Location(row=row, column=column), NUL_REFUSED, "bad value"))
    return found


def bad_rows(findings: list[Finding]) -> list[Finding]:
    """The errors among `findings` (what refuses an import)."""
    return [f for f in findings if f.severity == "error"]


# -- keys ------------------------------------------------------------------------------------------------------

def note_keys(notes: pd.DataFrame) -> pd.Series:
    """The key of each note: SHA-256 (hex) of its fields (claim, date, author, channel, reference, outcome, next
    date; text stripped, dates ISO, empty as ""), so the same note written twice has one key."""
    parts = []
    for column in _KEYED:
        values = notes[column]
        dated = values.dtype.kind == "M"
        text = values.dt.strftime("%Y-%m-%d") if dated else values.astype("string").str.strip()
        parts.append(text.fillna("").astype(str).to_numpy())
    joined = ["\x1f".join(fields) for fields in zip(*parts, strict=True)] if parts else []
    return pd.Series([hashlib.sha256(t.encode("utf-8")).hexdigest() for t in joined], index=notes.index,
                     dtype=object)


# -- the tickler -----------------------------------------------------------------------------------------------

def latest_notes(notes: pd.DataFrame, as_of: dt.date | None = None) -> pd.DataFrame:
    """Per claim (indexed by claim_id): its latest note's fields, `touches` (its notes) and, with `as_of`,
    `days_since_touch` (days from the latest note to the as-of date). `notes` is in entry order (the store's
    order, a sheet's row order): on one date the note entered last is the latest."""
    if notes is None or notes.empty:
        out = pd.DataFrame({c: pd.Series(dtype=_VIEW_DTYPES[c]) for c in VIEW_COLUMNS})
        out.index.name = "claim_id"
        return out
    ordered = notes[notes["claim_id"].notna()].reset_index(drop=True)
    ordered = ordered.sort_values("note_date", kind="stable")
    last = ordered.drop_duplicates("claim_id", keep="last").set_index("claim_id")
    def column(name: str) -> pd.Series:  # a reader of `READS` only may lack the other columns
        return last[name] if name in last.columns else pd.Series(None, index=last.index, dtype=object)

    out = pd.DataFrame({
        "note_date": last["note_date"], "note_author": column("author"), "note_channel": column("channel"),
        "note_reference": column("payer_reference"), "outcome": column("outcome"),
        "next_followup": column("next_followup"),
    })
    out["touches"] = ordered.groupby("claim_id").size().reindex(out.index).astype("int64")
    if as_of is not None:
        out["days_since_touch"] = (pd.Timestamp(as_of) - out["note_date"]).dt.days.astype("Int64")
    else:
        out["days_since_touch"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    return out


_VIEW_DTYPES = {"note_date": tables.DATE_DTYPE, "note_author": "str", "note_channel": "str",
                "note_reference": "str", "outcome": "str", "next_followup": tables.DATE_DTYPE, "touches": "int64",
                "days_since_touch": "Int64"}


def next_followups(notes: pd.DataFrame) -> pd.Series:
    """Each claim's tickler (indexed by claim_id): the next follow-up date of its latest note (NaT: none)."""
    return latest_notes(notes)["next_followup"]


def next_followup(claim_id: str, notes: pd.DataFrame) -> dt.date | None:
    """One claim's tickler: the next follow-up date of its latest note, None when it has none."""
    value = next_followups(notes).get(str(claim_id).strip())
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


@dataclass(frozen=True)
class FollowupView:
    """A worklist seen through the notes: the rows to work today and those waiting for their tickler."""

    shown: pd.DataFrame
    """The rows to work, ranked again 1..n in their order, with `VIEW_COLUMNS`."""
    hidden: pd.DataFrame
    """The rows whose claim's next follow-up date is after the as-of date (same columns)."""
    messages: list[str] = field(default_factory=list)
    """What the view did, in words without identifiers ("12 hidden until their follow-up date")."""


def followup_view(worklist: pd.DataFrame, notes: pd.DataFrame | None, as_of: dt.date) -> FollowupView:
    """The worklist with each row's last note, tickler, touches and days since the last touch; the rows whose
    claim has a next follow-up date after `as_of` are hidden (shown again on that date)."""
    latest = latest_notes(notes if notes is not None else tables.empty("notes"), as_of)
    claim = worklist["claim_id"] if "claim_id" in worklist.columns else pd.Series(pd.NA, index=worklist.index)
    out = worklist.drop(columns=[c for c in VIEW_COLUMNS if c in worklist.columns])
    joined = pd.DataFrame({"claim_id": claim.astype(object).to_numpy()}).join(latest, on="claim_id")
    for column in VIEW_COLUMNS:
        out[column] = _typed(pd.Series(joined[column].to_numpy(), index=out.index), _VIEW_DTYPES[column])
    out["touches"] = out["touches"].fillna(0).astype("int64")
    waiting = (out["next_followup"] > pd.Timestamp(as_of)).fillna(False).to_numpy(dtype=bool)
    shown = out[~waiting].reset_index(drop=True)
    hidden = out[waiting].reset_index(drop=True)
    if "rank" in shown.columns:
        shown["rank"] = np.arange(1, len(shown) + 1)
    messages = [f"{len(hidden):,} hidden until their follow-up date"] if len(hidden) else []
    return FollowupView(shown, hidden, messages)


# -- touches for the report ------------------------------------------------------------------------------------

def touches(claims: pd.DataFrame, notes: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """Per open claim (balance not zero): `claim_id`, `payer_id`, `touches` (0 = never touched) and
    `days_since_touch` (NA when never touched)."""
    open_ = claims[claims["balance"].fillna(0) != 0] if "balance" in claims.columns else claims
    latest = latest_notes(notes if notes is not None else tables.empty("notes"), as_of)
    out = pd.DataFrame({"claim_id": open_["claim_id"].to_numpy(),
                        "payer_id": (open_["payer_id"] if "payer_id" in open_.columns
                                     else pd.Series(pd.NA, index=open_.index)).to_numpy()})
    joined = out[["claim_id"]].join(latest, on="claim_id")
    out["touches"] = joined["touches"].fillna(0).astype("int64").to_numpy()
    out["days_since_touch"] = _typed(joined["days_since_touch"], "Int64").to_numpy()
    return out


SUMMARY_COLUMNS = ("group", "value", "claims", "touched", "median_touches", "median_days_since_touch",
                   "never_touched", "stale")
"""The touch summary: per payer and per worklist kind, the claims, those touched, the median touches, the median
days since the last touch (of those touched), never touched and not touched in `STALE_DAYS`+ days."""


def touch_summary(claims: pd.DataFrame, notes: pd.DataFrame | None, as_of: dt.date,
                  worklist: pd.DataFrame | None = None) -> pd.DataFrame:
    """The de-identified touch figures of the open claims: one row per payer (`group` = "payer") and per
    worklist kind (`group` = "kind", a claim counted once per kind it is on), then a total row. Counts and
    medians only: no claim ids, no outcomes."""
    per_claim = touches(claims, notes, as_of)
    parts = [_summary(per_claim.assign(value=per_claim["payer_id"].fillna("(none)")), "payer")]
    if worklist is not None and len(worklist) and "claim_id" in worklist.columns:
        on_list = worklist.loc[worklist["claim_id"].notna(), ["claim_id", "kind"]].drop_duplicates()
        by_kind = on_list.merge(per_claim.drop(columns="payer_id"), on="claim_id", how="inner")
        parts.append(_summary(by_kind.rename(columns={"kind": "value"}), "kind"))
    parts.append(_summary(per_claim.assign(value="all"), "total"))
    return pd.concat(parts, ignore_index=True)[list(SUMMARY_COLUMNS)]


def _summary(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SUMMARY_COLUMNS})
    touched = frame["touches"] > 0
    days = frame["days_since_touch"].astype("Float64")
    grouped = frame.assign(touched=touched, never=~touched,
                           stale=(days >= STALE_DAYS).fillna(False).astype(bool),
                           days=days.astype("float64")).groupby("value", sort=True)
    out = pd.DataFrame({
        "claims": grouped.size(),
        "touched": grouped["touched"].sum(),
        "median_touches": grouped["touches"].median(),
        "median_days_since_touch": grouped["days"].median(),
        "never_touched": grouped["never"].sum(),
        "stale": grouped["stale"].sum(),
    }).reset_index()
    out.insert(0, "group", group)
    for c in ("claims", "touched", "never_touched", "stale"):
        out[c] = out[c].astype("int64")
    return out


def audit_counts(read: int, added: int, already: int, bad: int = 0) -> dict[str, int]:
    """What the audit trail records of an add or import: counts only (never claim ids or outcomes)."""
    return {"notes_read": int(read), "notes_added": int(added), "notes_already_stored": int(already),
            "bad_rows": int(bad)}


def _typed(values: pd.Series, dtype: str) -> pd.Series:
    """A column mapped from the latest notes, with the dtype of its kind (missing as NA / NaT)."""
    if dtype == tables.DATE_DTYPE:
        return pd.to_datetime(values.astype(object).where(values.notna(), None)).astype(dtype)
    if dtype in ("int64", "Int64"):
        return pd.to_numeric(values.astype(object).where(values.notna(), None)).astype("Int64")
    return values.astype(object).where(values.notna(), None)
