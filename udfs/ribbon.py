"""Ribbon macros of the Medical A/R add-in (called by `RunPython` from the ribbon's VBA).

Each macro reads what it needs from the workbook, calls the core, and writes only to sheets it
owns (recreated on every run); the user's own sheets are never changed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlwings as xw
from xlsxwriter.utility import xl_col_to_name

from udfs import sheets
from xl_ar import audit, columns, ledger, notes, remittances, sources, tables
from xl_ar.errors import InputError, XlArError, first_line
from xl_ar.findings import condense
from xl_ar.settings import CONFIRM_KEY, Settings, confirm, resolve
from xl_ar.store import Store

REMITTANCES_SHEET = "Remittances"
ADJUSTMENTS_SHEET = "Adjustments"


def _caller(book):
    return book if book is not None else xw.Book.caller()


def _resolved(book) -> Settings:
    """The settings of a macro, in xlwings' order: the workbook's `xl_ar.conf` sheet, the add-in's, the
    `xl_ar.conf` file beside the workbook, the user file; then the environment and the defaults."""
    return resolve(sheet=sheets.config(book), addin=sheets.addin_config(book), folder=sheets.folder(book))


CONFIRM_TITLE = "xl-ar: confirm a setting from this workbook"


def _settings(book) -> Settings:
    """The settings of a macro that reads or writes data: `_resolved`, after the user confirmed every store and
    mailbox this workbook redirects to (`Settings.redirects`). Each is asked Yes/No; all Yes are kept in the user
    file (asked once); a No stops the macro before any password is looked up or anything is opened or written."""
    resolved = _resolved(book)
    if not resolved.redirects:
        return resolved
    for redirect in resolved.redirects:
        if book.app.alert(redirect.question(), title=CONFIRM_TITLE, buttons="yes_no") != "yes":
            raise InputError(f"Stopped: {redirect.refusal()}.")
    confirm([r.value for r in resolved.redirects])
    try:  # a setting change, recorded in the store the user had (the values' hashes only: never the addresses)
        audit.record("setting", resolved.trusted_store, change="confirm", key=CONFIRM_KEY,
                     value_sha256=[hashlib.sha256(r.value.encode("utf-8")).hexdigest() for r in resolved.redirects])
    except Exception as e:
        logging.getLogger(__name__).warning("the confirmation could not be recorded in the audit trail (%s)",
                                            type(e).__name__)
    return _resolved(book)


def _done(book, button: str, message: str, result: str = "ok", recorded: str | None = None) -> str:
    """The end of every macro: show the message, record the button press in the audit trail (an add-in
    action; an import or a report also records its own event; `recorded`, when given, is what the event keeps of
    an error instead of the message shown) and return the message."""
    book.app.alert(message, title=button)
    try:
        store = _resolved(book).usable_store  # never a store the user has not confirmed; asks nothing
    except InputError:  # settings the user must fix: the default store keeps the event
        store = None
    audit.record_button(button, store, result, message if recorded is None else recorded)
    return message


def _button(label: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """A ribbon macro whose failures end as an alert, never as a traceback: an xl-ar error (the store refused the
    user's role, a newer schema) shows its message; anything else shows its type and first line, and the audit
    event and the log keep its type only (its text may hold anything)."""

    def wrap(macro: Callable[..., str]) -> Callable[..., str]:
        @functools.wraps(macro)
        def run(book=None) -> str:
            try:
                return macro(book)
            except XlArError as e:
                return _done(_caller(book), label, str(e), "error")
            except Exception as e:
                logging.getLogger(__name__).error("the %s button failed: unexpected %s", label, type(e).__name__)
                first = first_line(e, 200)
                shown = f"{label} stopped: unexpected error ({type(e).__name__}{': ' + first if first else ''})."
                return _done(_caller(book), label, shown, "error", recorded=audit.failure_message(e))

        return run

    return wrap


def _era_sources(book, settings: Settings) -> list[str]:
    """The `era_source` setting (`;` separates several), else the files the user picks in Excel's open dialog."""
    if settings.era_source:
        return list(settings.era_source)
    dialog = getattr(getattr(book.app, "api", None), "GetOpenFilename", None)
    if dialog is None:  # a runtime without Excel's file dialog (xlwings Server / Lite, tests)
        raise InputError("no remittance source: set era_source (a folder, .zip or sftp:// address) in the "
                         f"{sheets.CONFIG_SHEET} sheet, the {sheets.CONFIG_SHEET} file or XL_AR_ERA_SOURCE")
    picked = dialog("Remittance files (*.835;*.txt;*.edi;*.zip),*.835;*.txt;*.edi;*.zip", None,
                    "Import remittances", None, True)
    return [str(p) for p in picked] if isinstance(picked, (list, tuple)) else []


@_button("Import remittances")
def import_remittances(book=None) -> str:
    """**Import remittances**: read the configured folder / zip / SFTP mailbox (or picked files),
    import new payments into the store, and show every imported remittance on owned sheets."""
    book = _caller(book)
    settings = _settings(book)
    files, skipped = [], []
    for source in _era_sources(book, settings):
        listing = sources.read_source(source)
        files += listing.files
        skipped += listing.skipped
    with Store.open(settings.store) as store:
        report = remittances.import_files(files, store)
        report.skipped = skipped
        payments = store.read_table("payments")
        claims = store.read_table("claim_payments")
        adjustments = store.read_table("adjustments")
    rows = claims.merge(payments[["payment_id", "payer_name", "trace_number", "payment_date", "method"]],
                        on="payment_id", how="left")
    lines = [f"Imported {sheets.stamp()}: {report.summary()}"]
    listed = condense(report.findings)  # the same problem on many rows: one line with a count
    lines += [f"{f.severity}: {f}" for f in listed[:50]]
    if len(listed) > 50:
        lines.append(f"... and {len(listed) - 50} more findings")
    sheet = sheets.owned_sheet(book, REMITTANCES_SHEET)
    sheets.write_block(sheet, "A1", lines)
    shown = sheets.for_excel(rows[[*tables.TABLES["claim_payments"].column_names, "payer_name", "trace_number",
                                   "payment_date", "method"]], "claim_payments")
    sheets.write_frame(sheet, f"A{len(lines) + 2}", shown)
    sheet = sheets.owned_sheet(book, ADJUSTMENTS_SHEET)
    sheets.write_frame(sheet, "A1", sheets.for_excel(adjustments, "adjustments"))
    return _done(book, "Import remittances", report.summary())


DATA_SHEETS = {"claims": "Claims", "claim_lines": "Claim Lines", "postings": "Postings", "deposits": "Deposits",
               "payers": "Payers", "fee_schedule": "Fee Schedule"}
"""The workbook sheets a reconciliation reads (a table with its header at A1), by canonical table."""
COLUMNS_SHEET = "Columns"
"""The sheet where a specialist says which header of a pasted export is which column (`xl_ar.columns`)."""
RECONCILIATION_SHEET = "Reconciliation"
WORKLIST_SHEET = "Worklist"


def _workbook_tables(book, settings: Settings) -> tuple[dict, object]:
    """The practice tables from the workbook's sheets, the rest from the configured practice folder."""
    from udfs.args import to_table
    from xl_ar.practice import load_practice

    names = [s.name for s in book.sheets]
    maps: dict = {}
    if COLUMNS_SHEET in names:
        maps, problems = columns.maps_from_rows(book.sheets[COLUMNS_SHEET].range("A1").expand("table").value or [],
                                                COLUMNS_SHEET, {sheet: table for table, sheet in DATA_SHEETS.items()})
        if problems:
            raise InputError(f"the {COLUMNS_SHEET} sheet cannot be used", problems)
    found: dict = {}
    for table, sheet in DATA_SHEETS.items():
        if sheet in names:
            values = book.sheets[sheet].range("A1").expand("table").value
            found[table] = to_table(values, table, sheet, payers=found.get("payers"), column_map=maps.get(table))
    practice = load_practice(settings.practice) if settings.practice else None
    if practice is not None:
        for table in DATA_SHEETS:
            found.setdefault(table, practice.table(table))
        found["claim_status"] = practice.all_tables()["claim_status"]
    if "claims" not in found:
        raise InputError("no Claims sheet in this workbook and no practice folder configured (setting practice)")
    for table in DATA_SHEETS:
        found.setdefault(table, tables.empty(table))
    return found, practice


def _as_of(settings: Settings, practice) -> dt.date:
    """The as-of date: the `as_of` setting, else the practice folder's, else today."""
    if settings.as_of:
        return settings.as_of
    if practice is not None and practice.info.as_of:
        return practice.info.as_of
    return dt.date.today()


def _remittances(store: Store, practice) -> dict:
    """The store's remittances, else (none imported yet) the practice folder's."""
    remitted = store.remittances()
    if remitted["payments"].empty and practice is not None:
        remitted, _ = practice.remittances()
    return remitted


INSTRUCTIONS_SHEET = "Instructions"
"""The template's sheet of instructions: its "How to work each worklist kind" block is what worklist links open."""
GUIDE_SHEET = "Guide"
"""Owned by Reconcile and Worklist when the workbook has no template Instructions: how to work each kind."""


def _guide_rows(book) -> tuple[str, dict[str, int]]:
    """Where a worklist's "How to" links land: the Instructions sheet's kinds block when the workbook has it, else
    the owned `Guide` sheet, written now (title, header on row 3, the kinds from row 4)."""
    from xl_ar import guide

    if INSTRUCTIONS_SHEET in [s.name for s in book.sheets]:
        column = book.sheets[INSTRUCTIONS_SHEET].range("A1:A1000").value or []
        rows = guide.find_rows([r[0] if isinstance(r, list) else r for r in column])
        if rows:
            return INSTRUCTIONS_SHEET, rows
    sheet = sheets.owned_sheet(book, GUIDE_SHEET)
    sheets.write_block(sheet, "A1", [guide.HEADING])
    sheets.write_rows(sheet, "A3", [list(guide.COLUMNS), *[list(r) for r in guide.rows()]])
    return GUIDE_SHEET, guide.positions(4)


def _write_exceptions(book, name: str, first_line: str, frame, links: tuple[str, dict[str, int]]) -> None:
    """An owned sheet with a line of text, then the exceptions as a filterable table colored by kind, each row's
    last cell a link to its kind's row of the guide (`links`: the guide's sheet and rows)."""
    from xl_ar import guide

    sheet = sheets.owned_sheet(book, name)
    sheets.write_block(sheet, "A1", [first_line])
    sheets.write_frame(sheet, "A3", sheets.for_excel(frame, None, money=("expected", "actual", "variance")))
    target, rows = links
    sheets.write_links(sheet, f"{xl_col_to_name(len(frame.columns))}3", guide.HEADER,
                       [guide.formula(code, target, rows) for code in frame["kind"].tolist()])
    sheets.as_table(sheet, "A3", name, kind_column=frame.columns.get_loc("kind") + 1)


def _assigned(settings: Settings, data: dict, work, stored):
    """The worklist with `assigned_to`: the claim's stored taker (`stored`: Take claim, `xl-ar assign`), else the
    policy's split, and `assignment_version`, the version Take claim sends back; when the OS user is a configured
    specialist or took claims, only their rows (`xl_ar.assignments.for_user`); with the words the message adds
    ("" when nothing is assigned)."""
    from xl_ar import assignments
    from xl_ar.audit import os_user

    policy = settings.policy()
    mine, me = assignments.for_user(work, stored, data["claims"], data["payers"], policy, os_user())
    if me is None and policy.assign_by != "off":
        return mine, f" Assigned by {policy.assign_by.replace('_', ' ')} (column assigned_to)."
    if me is None:
        return mine, " The claims taken show who has them (column assigned_to)." if len(stored) else ""
    return mine, f" Showing your {len(mine):,} of {len(work):,} rows (assigned to {me})."


def _worklist_view(book):
    """What Reconcile and Worklist show: the workbook's tables reconciled with the remittances (the store's,
    else the practice folder's), the worklist seen through the stored notes and assigned (`_assigned`), from one
    opening of the store. Returns the reconciliation, the as-of date, the worklist rows, the notes' words (hidden
    rows) and the assignment's words for the message; raises `InputError` when an input is missing or wrong."""
    from xl_ar import reconcile as core

    settings = _settings(book)
    data, practice = _workbook_tables(book, settings)
    with Store.open(settings.store) as store:
        remitted = _remittances(store, practice)
        stored_notes = store.notes()
        taken = store.assignments()
    as_of = _as_of(settings, practice)
    result = core.reconcile_tables(data, remitted, as_of, settings.rules())
    view = notes.followup_view(result.worklist(), stored_notes, as_of)
    work, assigned = _assigned(settings, data, view.shown[["rank", *core.COLUMNS, *notes.VIEW_COLUMNS]], taken)
    hidden = "".join(f" {m[0].upper()}{m[1:]}." for m in view.messages)
    return result, as_of, work, hidden, assigned


@_button("Reconcile")
def reconcile(book=None) -> str:
    """**Reconcile**: match the imported remittances with the workbook's claims, postings and deposits,
    and write every exception to `Reconciliation` and the ranked ones to `Worklist` (owned sheets)."""
    from xl_ar import reconcile as core

    book = _caller(book)
    result, as_of, work, hidden, assigned = _worklist_view(book)
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.summary.items() if n)
    summary = f"Reconciled as of {as_of}: {len(result.exceptions):,} exceptions ({counts or 'none'}).{hidden}"
    links = _guide_rows(book)
    _write_exceptions(book, RECONCILIATION_SHEET, summary, result.exceptions[list(core.COLUMNS)], links)
    _write_exceptions(book, WORKLIST_SHEET, f"Worklist as of {as_of}: highest priority first.{hidden}{assigned}",
                      work, links)
    return _done(book, "Reconcile", summary + assigned)


@_button("Worklist")
def worklist(book=None) -> str:
    """**Worklist**: today's follow-up work only, ranked (the reconciliation's exceptions that need work,
    highest priority first), on the owned `Worklist` sheet; the `Reconciliation` sheet is left as it is."""
    book = _caller(book)
    _, as_of, work, hidden, assigned = _worklist_view(book)
    message = f"Worklist as of {as_of}: {len(work):,} items to work, highest priority first.{hidden}{assigned}"
    _write_exceptions(book, WORKLIST_SHEET, message, work, _guide_rows(book))
    return _done(book, "Worklist", message)


NOTES_SHEET = notes.SHEET
"""The specialist's Notes sheet (an Excel Table): created by the first Add note, never recreated or cleared."""
WORKLIST_HEADER_ROW = 3
"""The Worklist sheet's header row (a summary line, a blank row, then the table)."""


APPEAL_METHOD = "portal"
"""How an appeal marked from the ribbon was filed when the cell right of the selected worklist row is empty."""


@dataclass(frozen=True)
class _Selected:
    """The Worklist row the user selected: its sheet, the worklist table's header (read once), the row number
    and its claim id."""

    sheet: object
    header: list[str]
    row: int
    claim: str

    def cell(self, column: int) -> object:
        """The value of the selected row's cell in `column` (1 is A)."""
        block = self.sheet.range(f"{_column_letter(column)}{self.row}").options(ndim=2).value or [[None]]
        return block[0][0] if block[0] else None


def _appeal_method(selected: _Selected) -> str:
    """The method typed in the first cell right of the worklist table on the selected row (else
    `APPEAL_METHOD`)."""
    typed = selected.cell(len(selected.header) + 1)
    return str(typed).strip().lower() if typed not in (None, "") else APPEAL_METHOD


def _column_letter(number: int) -> str:
    """The letters of column `number` (1 is A)."""
    return xl_col_to_name(number - 1)


def _header(sheet, row: int) -> list[str]:
    """The header cells of a table whose header is on `row`, from column A to the first empty one."""
    cells = sheet.range(f"A{row}").expand("right").options(ndim=2).value or [[]]
    first = cells[0] if cells and isinstance(cells[0], list) else cells
    out = []
    for value in first:
        if value is None or str(value).strip() == "":
            break
        out.append(str(value).strip())
    return out


def _selected(book, without: str = "a note needs a claim") -> _Selected:
    """The Worklist row the user selected (one cell of it is enough), with its claim id; `without` says why a row
    without a claim cannot be used."""
    selection = getattr(book, "selection", None)
    if selection is None or getattr(getattr(selection, "sheet", None), "name", None) != WORKLIST_SHEET:
        raise InputError(f"select a row of the {WORKLIST_SHEET} sheet first (press Worklist to make it)")
    row = int(selection.row)
    sheet = book.sheets[WORKLIST_SHEET]
    header = _header(sheet, WORKLIST_HEADER_ROW)
    if row <= WORKLIST_HEADER_ROW or "claim_id" not in header:
        raise InputError(f"select a row of the worklist table on the {WORKLIST_SHEET} sheet (below its header)")
    value = _Selected(sheet, header, row, "").cell(header.index("claim_id") + 1)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    claim = "" if value is None else str(value).strip()
    if not claim:
        raise InputError(f"the selected worklist row has no claim (a bank or payment item): {without}")
    return _Selected(sheet, header, row, claim)


@_button("Add note")
def add_note(book=None) -> str:
    """**Add note**: on the Worklist sheet's selected row, append a prefilled note (the claim, today, the OS user,
    channel `call`) to the `Notes` sheet and select its outcome cell. The Notes sheet is an Excel Table created the
    first time; afterwards it is the user's sheet: rows are only appended, it is never recreated or cleared."""
    book = _caller(book)
    claim = _selected(book).claim
    names = [s.name for s in book.sheets]
    if NOTES_SHEET in names:
        sheet = book.sheets[NOTES_SHEET]
        header = _header(sheet, 1)
    else:
        sheet = book.sheets.add(NOTES_SHEET, after=book.sheets[len(names) - 1] if names else None)
        header = list(notes.HEADERS)
        sheets.write_rows(sheet, "A1", [header])
        sheets.as_table(sheet, "A1", NOTES_SHEET)
    mapped = columns.map_headers("notes", header).columns
    values = {"claim_id": sheets.text_cell(claim), "note_date": dt.date.today(),
              "author": sheets.text_cell(audit.os_user()), "channel": "call"}
    row = len(sheet.range("A1").expand("table").options(ndim=2).value or [[]]) + 1
    cells = [values.get(mapped.get(h, "")) for h in header]
    sheet.range(f"A{row}").value = [cells]
    outcome = next((i for i, h in enumerate(header) if mapped.get(h) == "outcome"), None)
    if outcome is not None:
        target = sheet.range(f"{_column_letter(outcome + 1)}{row}")
        select = getattr(target, "select", None)
        if select is not None:
            select()
    message = f"Note started on the {NOTES_SHEET} sheet, row {row}: write the outcome, then press Import notes."
    return _done(book, "Add note", message)


@_button("Import notes")
def import_notes(book=None) -> str:
    """**Import notes**: store the Notes sheet's notes, each once (a note stored already is skipped); a bad row
    (no claim, a date that is not one, an unknown channel) stops the import: every bad row is listed and nothing
    is stored. The sheet itself is left as it is."""
    book = _caller(book)
    if NOTES_SHEET not in [s.name for s in book.sheets]:
        raise InputError(f"no {NOTES_SHEET} sheet: press Add note on a worklist row to start one")
    settings = _settings(book)
    rows = book.sheets[NOTES_SHEET].range("A1").expand("table").options(ndim=2).value or []
    frame = _notes_frame(rows)
    read, findings = notes.read_notes(ledger.Sheet(f"{NOTES_SHEET} sheet", frame), audit.os_user())
    bad = condense(notes.bad_rows(findings))
    if bad:
        lines = [f"Nothing stored: {len(bad):,} problem{'s' * (len(bad) != 1)} on the {NOTES_SHEET} sheet."]
        lines += [str(f) for f in bad[:20]]
        if len(bad) > 20:
            lines.append(f"... and {len(bad) - 20} more")
        raise InputError("\n".join(lines))
    with Store.open(settings.store) as store:
        added, already = store.add_notes(read)
        store.audit("notes", command="import", file=f"{NOTES_SHEET} sheet",
                    **notes.audit_counts(len(read), added, already))
    message = f"{len(read):,} notes on the {NOTES_SHEET} sheet: {added:,} stored, {already:,} already stored."
    return _done(book, "Import notes", message)


def _notes_frame(rows: list) -> pd.DataFrame:
    """The Notes sheet's cells as raw text and dates (Office.js serial dates as dates), header first."""
    from udfs.args import date_cell, sheet_columns

    if not rows or not isinstance(rows[0], list):
        raise InputError(f"the {NOTES_SHEET} sheet is empty: its header row is missing")
    header = [("" if h is None else str(h)).strip() for h in rows[0]]
    mapped = columns.map_headers("notes", header).columns
    dates = {h for h, c in mapped.items() if c in ("note_date", "next_followup")}

    def convert(h: str, cells: list) -> list:
        if h in dates:
            return [date_cell(v) for v in cells]
        return [str(int(v)) if isinstance(v, float) and v.is_integer() else v for v in cells]

    return pd.DataFrame(sheet_columns(header, rows[1:], convert), index=range(len(rows) - 1))


@_button("Mark appealed")
def mark_appealed(book=None) -> str:
    """**Mark appealed**: open a filed appeal, dated today, for the claim of the selected Worklist row (the
    claim's next level; method from the cell right of the row, else portal) and say its deadline."""
    from xl_ar import appeals
    from xl_ar import reconcile as core

    book = _caller(book)
    selected = _selected(book, "only denied, partially denied or underpaid rows are appealed")
    method = _appeal_method(selected)
    settings = _settings(book)
    data, practice = _workbook_tables(book, settings)
    as_of = _as_of(settings, practice)
    with Store.open(settings.store) as store:
        remitted = _remittances(store, practice)
        result = core.reconcile_tables(data, remitted, as_of, settings.rules())
        row = appeals.open_one(store, result.worklist(), selected.claim, remitted["payments"], as_of,
                               filed_date=dt.date.today(), method=method, via="ribbon")
    deadline = "no deadline known" if row.deadline is None or row.deadline != row.deadline else \
        f"deadline {row.deadline:%Y-%m-%d}"
    message = (f"Appeal {row.appeal_id} opened: level {row.level}, filed today by {method}, "
               f"${row.amount_appealed / 100:,.2f} appealed; {deadline}.")
    return _done(book, "Mark appealed", message)


def _selected_version(selected: _Selected) -> int:
    """The `assignment_version` on the selected Worklist row (0 when the sheet has no such column or the cell is
    empty: the sheet was written when nobody had the claim)."""
    from xl_ar import assignments

    if assignments.VERSION not in selected.header:
        return 0
    value = selected.cell(selected.header.index(assignments.VERSION) + 1)
    try:
        return int(float(value)) if value not in (None, "") else 0
    except (TypeError, ValueError):
        raise InputError("the selected row's assignment_version is not a number: press Worklist again") from None


@_button("Take claim")
def take_claim(book=None) -> str:
    """**Take claim**: give the claim of the selected Worklist row to you (the OS user), at the assignment version
    that row shows; refused, nothing changed, when someone took or handed over the claim since the sheet was
    written (press Worklist to see who has it). One audit event, without the claim id."""
    from xl_ar.audit import os_user
    from xl_ar.errors import StoreError

    book = _caller(book)
    selected = _selected(book, "only a claim can be taken")
    seen = _selected_version(selected)
    settings = _settings(book)
    me = os_user()
    with Store.open(settings.store) as store:
        try:
            version = store.assign(selected.claim, me, seen, actor=me)
        except StoreError as e:
            raise InputError(f"Not taken: {e}") from None
        store.audit("assign", changed=1, handed_over=int(seen > 0), version=version, via="ribbon")
    return _done(book, "Take claim", f"The claim is yours now (version {version}); press Worklist to refresh.")


@_button("Build report")
def build_report(book=None) -> str:
    """**Build report**: the de-identified management report from the workbook's tables and the
    imported remittances, written next to the workbook (or to the `report_folder` setting)."""

    from xl_ar import report
    from xl_ar.practice import PracticeFolder, PracticeInfo

    book = _caller(book)
    settings = _settings(book)
    data, practice = _workbook_tables(book, settings)
    as_of = _as_of(settings, practice)
    name = settings.practice_name or (practice.info.name if practice is not None else "") or "Practice"
    folder = settings.report_folder or Path(getattr(book, "fullname", "") or ".").parent
    source = PracticeFolder(folder, PracticeInfo(name=name, as_of=as_of), data, [])
    with Store.open(settings.store) as store:
        remitted = _remittances(store, practice)
        built = report.build_report(source, store, folder / f"management_report_{as_of:%Y-%m-%d}.xlsx",
                                    remittances=remitted, targets=settings.targets(), rules=settings.rules(),
                                    policy=settings.policy())
    message = built.summary()
    return _done(book, "Build report", message)


ELIGIBILITY_SHEET = "Eligibility"
"""Owned by Verify eligibility: one row per claim (or line) at risk."""
RESPONSES_SHEET = "Eligibility Responses"
"""Owned by Verify eligibility: the 271 responses as the `eligibility` table (what =AR_ELIGIBLE reads)."""
SCRUB_SHEET = "Scrub"
"""Owned by Scrub claims: one row per scrubber finding, errors first."""
PROBLEM_COLORS = {"not_covered": "#F4CCCC", "authorization_missing": "#FCE5CD", "unverified": "#FFF2CC"}
"""The row color of each eligibility problem on the Eligibility sheet."""
SEVERITY_COLORS = {"error": "#F4CCCC", "warning": "#FFF2CC"}
"""The row color of each scrubber severity on the Scrub sheet."""


def _practice_needed(practice, what: str):
    if practice is None:
        raise InputError(f"no practice folder configured (setting practice): {what}")
    return practice


def _counts(values, order) -> str:
    found = values.value_counts()
    return ", ".join(f"{int(found[k]):,} {k.replace('_', ' ')}" for k in order if k in found.index) or "none"


@_button("Verify eligibility")
def verify_eligibility(book=None) -> str:
    """**Verify eligibility**: the workbook's claims (and lines) against the 271 responses of the practice
    folder's `eligibility/`: one row per claim not covered on its date of service, not verified, or missing an
    authorization the payer requires, on the owned `Eligibility` sheet; the responses on `Eligibility Responses`.
    A 271 that cannot be read stops the macro with its name, and nothing is written."""
    from xl_ar.eligibility import coverage_problems

    book = _caller(book)
    settings = _settings(book)
    data, practice = _workbook_tables(book, settings)
    practice = _practice_needed(practice, "its eligibility/ folder holds the 271 eligibility responses")
    responses, _ = practice.eligibility()
    if responses.empty:
        raise InputError("no 271 eligibility response in the practice folder's eligibility/ folder: put the "
                         "payers' 271 files there")
    problems = coverage_problems(data["claims"], data["claim_lines"], responses, data["payers"])
    flagged = problems["claim_id"].nunique()
    summary = (f"Eligibility checked {sheets.stamp()}: {flagged:,} of {len(data['claims']):,} claims at risk "
               f"({_counts(problems['problem'], PROBLEM_COLORS)}), from {len(responses):,} 271 response rows.")
    sheet = sheets.owned_sheet(book, ELIGIBILITY_SHEET)
    sheets.write_block(sheet, "A1", [summary])
    sheets.write_frame(sheet, "A3", sheets.for_excel(problems))
    sheets.as_table(sheet, "A3", ELIGIBILITY_SHEET, kind_column=problems.columns.get_loc("problem") + 1,
                    rules=sheets.value_rules(PROBLEM_COLORS))
    sheet = sheets.owned_sheet(book, RESPONSES_SHEET)
    sheets.write_frame(sheet, "A1", sheets.for_excel(responses, "eligibility"))
    sheets.as_table(sheet, "A1", RESPONSES_SHEET)
    return _done(book, "Verify eligibility", summary)


@_button("Scrub claims")
def scrub_claims(book=None) -> str:
    """**Scrub claims**: every claim of the workbook (or the practice folder) through the claim scrubber, with
    the practice's payer rules (`scrub_rules.csv` of the practice folder, when there is one); the findings on
    the owned `Scrub` sheet, errors first, and the clean claim count in the alert."""
    from xl_ar import claims as claims_out
    from xl_ar import scrub

    book = _caller(book)
    settings = _settings(book)
    data, practice = _workbook_tables(book, settings)
    practice = _practice_needed(practice, "its practice.json holds the billing NPI the claims are sent with")
    rules, rule_problems = claims_out.payer_rules(practice.folder)
    found = scrub.scrub(data["claims"], data["claim_lines"], data["payers"], practice.info.npi or "",
                        _as_of(settings, practice), rules)
    clean = scrub.clean_claims(data["claims"], found, data["payers"])
    order = found["severity"].map({"error": 0, "warning": 1}).fillna(2)
    found = found.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    held = found.loc[found["severity"] == "error", "claim_id"].nunique()
    errors = int((found["severity"] == "error").sum())
    warnings = len(found) - errors
    summary = (f"Scrubbed {sheets.stamp()}: {len(clean):,} of {len(data['claims']):,} claims clean, {held:,} held "
               f"back by errors; {errors:,} error{'s' * (errors != 1)}, {warnings:,} warning{'s' * (warnings != 1)}.")
    lines = [summary, *[f"{f.severity}: {f}" for f in rule_problems]]
    sheet = sheets.owned_sheet(book, SCRUB_SHEET)
    sheets.write_block(sheet, "A1", lines)
    top = f"A{len(lines) + 2}"
    shown = found[["claim_id", "line_no", "rule_id", "severity", "column", "message", "fix"]]
    sheets.write_frame(sheet, top, sheets.for_excel(shown, "scrub_findings"))
    sheets.as_table(sheet, top, SCRUB_SHEET, kind_column=shown.columns.get_loc("severity") + 1,
                    rules=sheets.value_rules(SEVERITY_COLORS))
    return _done(book, "Scrub claims", summary)


@_button("Patient statements")
def patient_statements(book=None) -> str:
    """**Patient statements**: the statements and dunning notices due as of the as-of date, for the workbook's
    claims (or the practice folder's), written as PDFs to the `documents_folder` setting (patient data: never
    beside the workbook by default) and recorded in the store; the counts in the alert."""
    from xl_ar.reports import statements as writer

    book = _caller(book)
    settings = _settings(book)
    if settings.documents_folder is None:
        raise InputError("set documents_folder (Settings) to the folder where patient statements may be written: "
                         "they hold patient data, so xl-ar writes them only where you choose; nothing was written")
    data, practice = _workbook_tables(book, settings)
    practice = _practice_needed(practice, "its practice.json holds the address and phone printed on statements")
    data = {**data, "payment_plans": practice.table("payment_plans")}
    with Store.open(settings.store) as store:
        sent = writer.send(store, data, practice.info, _as_of(settings, practice), settings.policy(),
                           Path(settings.documents_folder))
    c = sent.counts
    message = (f"Wrote {sent.batch.statements:,} patient statements to {settings.documents_folder}: "
               f"{c['notice_1']:,} first, {c['notice_2']:,} second, {c['notice_final']:,} final notices, "
               f"{c['plan_statements']:,} payment plan; {c['small_balances']:,} small balances not billed "
               f"({c['small_balance_cents'] / 100:,.2f}).")
    return _done(book, "Patient statements", message)


SETTINGS_SHEET = "Settings"
HELP_SHEET = "Help"
GUIDE = 'the section "Install in Excel" of the xl-ar README'
"""Where installing and the daily routine are explained (named on the Help sheet)."""

BUTTON_HELP = {
    "Import remittances": "Reads new 835 remittance files from the configured folder, zip or SFTP mailbox (or the "
                          "files you pick), stores each payment once and lists them on the Remittances and "
                          "Adjustments sheets.",
    "Reconcile": "Matches the imported remittances with this workbook's claims, postings and deposits and lists "
                 "every exception on the Reconciliation sheet.",
    "Worklist": "Ranks today's follow-up work (denials, underpayments, missing postings) by dollars at stake and "
                "deadline on the Worklist sheet.",
    "Add note": "On the Worklist sheet's selected row, adds a note to the Notes sheet (claim, today, you, call) "
                "and selects its Outcome cell: write what you learned, the payer's reference and the next "
                "follow-up date, then press Import notes.",
    "Import notes": "Stores the Notes sheet's notes (each once; nothing if any row is bad, every bad row listed). "
                    "The worklist then shows each claim's last note and hides it until its next follow-up date.",


    "Mark appealed": "Opens a filed appeal, dated today, for the claim of the selected Worklist row (denied, "
                     "partially denied or underpaid) at its next level, by the method typed right of the row "
                     "(portal when empty), and shows its deadline; the next 835 for the claim closes it.",
    "Take claim": "Gives the claim of the selected Worklist row to you, as that row showed it (its "
                  "assignment_version); refused when someone took it since the sheet was written: press Worklist "
                  "to see who has it.",
    "Build report": "Writes the de-identified management report workbook (aging, KPIs, denials, reconciliation) "
                    "beside this workbook.",
    "Verify eligibility": "Checks the claims against the 271 eligibility responses of the practice folder and "
                          "lists on the Eligibility sheet each claim whose date of service is not covered, not "
                          "verified, or needs a prior authorization the claim lacks.",
    "Scrub claims": "Runs the claim scrubber (required fields, codes, NPI, dates, duplicates, timely filing and the "
                    "payer rules of scrub_rules.csv) and lists each finding with its fix on the Scrub sheet.",
    "Patient statements": "Writes the patient statements and dunning notices due today (PDF, one per patient, "
                          "with an index) to the documents_folder setting and records what was sent.",
    "Settings": "Shows every xl-ar setting (practice folder, store, ERA source, reconciliation thresholds, KPI "
                "targets), its value and where it comes from, on the Settings sheet.",
    "Help": "Explains each button and each =AR_ function on the Help sheet.",
}
"""What each ribbon button does: the Help sheet's text and, word for word, the button's supertip in customUI.xml."""


@_button("Settings")
def settings(book=None) -> str:
    """**Settings**: every setting (places, thresholds, targets), its value and where it comes from, on the owned
    `Settings` sheet, with where to change it. Credentials are never settings."""
    from xl_ar.settings import SETTINGS, user_file

    book = _caller(book)
    resolved = _resolved(book)  # only shown: nothing is opened, so nothing is asked
    rows = [["setting", "value", "from", "what it is for"]]
    rows += [[key, value, where, SETTINGS[key].doc] for key, value, where in resolved.describe()]
    sheet = sheets.owned_sheet(book, SETTINGS_SHEET)
    sheets.write_block(sheet, "A1", [
        f"Settings {sheets.stamp()}. The first place that has a setting wins: this workbook's {sheets.CONFIG_SHEET} "
        f"sheet, the add-in's {sheets.CONFIG_SHEET} sheet, an {sheets.CONFIG_SHEET} file beside the workbook, "
        f"your user file ({user_file()}), the environment, the default.",
        "In a sheet: the setting in column A, its value in column B. In a file: one \"setting\",\"value\" line "
        "each (`xl-ar settings set KEY VALUE` writes your user file). Passwords only ever go in the OS keyring "
        "(`xl-ar credentials set ADDRESS`)."])
    sheets.write_rows(sheet, "A4", rows)
    given = sum(1 for _, _, where in resolved.describe() if where not in ("default", "not set"))
    message = f"{len(rows) - 1} settings, {given} set by you; see the {SETTINGS_SHEET} sheet."
    return _done(book, "Settings", message)


@_button("Help")
def help(book=None) -> str:
    """**Help**: what each button and each `=AR_` function does, on the owned `Help` sheet, with where the
    install and daily-use guide is. Named `help` because the button calls `udfs.ribbon.help()`."""
    import inspect

    from udfs import functions

    book = _caller(book)
    lines = ["Medical A/R: the buttons of the ribbon tab", ""]
    lines += [f"{label}: {text}" for label, text in BUTTON_HELP.items()]
    lines += ["", "Worksheet functions (category Medical A/R in the function wizard)", ""]
    for name in sorted(n for n in dir(functions) if n.startswith("ar_") and callable(getattr(functions, n))):
        doc = " ".join(inspect.cleandoc(getattr(functions, name).__doc__ or "").split())
        lines.append(f"={name.upper()}: {doc}")
    lines += ["", f"Install and daily routine: {GUIDE}."]
    sheets.write_block(sheets.owned_sheet(book, HELP_SHEET), "A1", lines)
    message = f"See the {HELP_SHEET} sheet, and {GUIDE}."
    return _done(book, "Help", message)
