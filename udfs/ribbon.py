"""Ribbon macros of the Medical A/R add-in (called by `RunPython` from the ribbon's VBA).

Each macro reads what it needs from the workbook, calls the core, and writes only to sheets it
owns (recreated on every run); the user's own sheets are never changed.
"""

from __future__ import annotations

import os

import xlwings as xw

from udfs import sheets
from xl_ar import remittances, sources, tables
from xl_ar.findings import InputError
from xl_ar.store import Store, default_path

REMITTANCES_SHEET = "Remittances"
ADJUSTMENTS_SHEET = "Adjustments"


def _caller(book):
    return book if book is not None else xw.Book.caller()


def _era_sources(book, settings: dict[str, str]) -> list[str]:
    """Configured ERA sources (config sheet `era_source`, else $XL_AR_ERA_SOURCE; `;` separates several),
    else the files the user picks in Excel's open dialog."""
    configured = settings.get("era_source") or os.environ.get("XL_AR_ERA_SOURCE", "")
    if configured:
        return [s.strip() for s in configured.split(";") if s.strip()]
    picked = book.app.api.GetOpenFilename("Remittance files (*.835;*.txt;*.edi;*.zip),*.835;*.txt;*.edi;*.zip",
                                          None, "Import remittances", None, True)
    return [str(p) for p in picked] if isinstance(picked, (list, tuple)) else []


def import_remittances(book=None) -> str:
    """**Import remittances**: read the configured folder / zip / SFTP mailbox (or picked files),
    import new payments into the store, and show every imported remittance on owned sheets."""
    book = _caller(book)
    settings = sheets.config(book)
    try:
        files, skipped = [], []
        for source in _era_sources(book, settings):
            listing = sources.read_source(source)
            files += listing.files
            skipped += listing.skipped
        with Store.open(settings.get("store") or default_path()) as store:
            report = remittances.import_files(files, store)
            report.skipped = skipped
            payments = store.read_table("payments")
            claims = store.read_table("claim_payments")
            adjustments = store.read_table("adjustments")
    except InputError as e:
        message = str(e)
        book.app.alert(message, title="Import remittances")
        return message
    rows = claims.merge(payments[["payment_id", "payer_name", "trace_number", "payment_date", "method"]],
                        on="payment_id", how="left")
    lines = [f"Imported {sheets.stamp()}: {report.summary()}"]
    lines += [f"{f.severity}: {f}" for f in report.findings[:50]]
    if len(report.findings) > 50:
        lines.append(f"... and {len(report.findings) - 50} more findings")
    sheet = sheets.owned_sheet(book, REMITTANCES_SHEET)
    sheets.write_block(sheet, "A1", lines)
    shown = sheets.for_excel(rows[[*tables.TABLES["claim_payments"].column_names, "payer_name", "trace_number",
                                   "payment_date", "method"]], "claim_payments")
    sheets.write_frame(sheet, f"A{len(lines) + 2}", shown)
    sheet = sheets.owned_sheet(book, ADJUSTMENTS_SHEET)
    sheets.write_frame(sheet, "A1", sheets.for_excel(adjustments, "adjustments"))
    book.app.alert(report.summary(), title="Import remittances")
    return report.summary()
