"""10,000 patient statements: recorded in the store and written as PDFs (one per patient, owner-only, each file
written whole, plus the index), against the 60 s budget of the acceptance criteria; and the PDF drawing itself
against reportlab's canvas drawing the same text of the same statements.

The accounts are built directly (one or two claims each, codes on every claim), so the row measures the
statements, not the practice reader. Three runs by default (median), five with --full."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

import numpy as np
from reportlab.pdfgen import canvas

from benchmarks._table import Row, median_seconds
from xl_ar import statements, tables
from xl_ar.policy import Policy
from xl_ar.reports import statements as writer
from xl_ar.store import Store

ACCOUNTS = 10_000
AS_OF = dt.date(2026, 9, 30)
PRACTICE = writer.Practice("Benchmark Clinic", ("100 Main St", "Fairhaven, OH 43001"), "(614) 555-0100",
                           "https://pay.example", ("PO Box 1", "Fairhaven, OH 43001"))


def practice_tables(accounts: int = ACCOUNTS) -> dict:
    rng = np.random.default_rng(15)
    n = accounts + accounts // 2  # half the accounts have two claims
    account = np.concatenate([np.arange(accounts), rng.choice(accounts, n - accounts, replace=False)])
    balance = rng.integers(600, 40_000, n)
    claims = tables.from_columns("claims", {
        "claim_id": [f"B{i:07d}" for i in range(n)], "account_id": [f"ACCT{a:06d}" for a in account],
        "payer_id": ["ACME"] * n, "service_date": (np.datetime64("2026-01-01") + rng.integers(0, 250, n)),
        "charge": balance + 20_000, "paid": np.full(n, 15_000), "adjusted": np.full(n, 5_000), "balance": balance,
        "responsibility": ["patient"] * n, "patient_name": [f"Sample, Person{i % 997}" for i in account],
        "patient_address": ["1 Sample St, Fairhaven, OH, 43001"] * n})
    lines = tables.from_columns("claim_lines", {
        "claim_id": np.repeat(claims["claim_id"].to_numpy(), 2), "line_no": np.tile([1, 2], n),
        "procedure_code": np.tile(["99213", "36415"], n), "units": np.ones(2 * n),
        "charge": np.tile([10_000, 5_000], n), "service_date": np.repeat(claims["service_date"].to_numpy(), 2)})
    return {"claims": claims, "claim_lines": lines}


def reportlab_pdf(letter: writer.Letter, practice: writer.Practice) -> bytes:
    """The baseline: the same statement's text drawn with reportlab's canvas (same fonts, same places)."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(writer.PAGE_WIDTH, writer.PAGE_HEIGHT))
    for page in writer.statement_pages(letter, practice):
        for op in page.split(b"\n"):
            if op.startswith(b"BT"):
                parts = op.split(b" ", 7)
                c.setFont("Helvetica-Bold" if parts[1] == b"/F2" else "Helvetica", float(parts[2]))
                text = parts[7].rsplit(b")", 1)[0][1:].replace(b"\\(", b"(").replace(b"\\)", b")")
                c.drawString(float(parts[4]), float(parts[5]), text.decode("cp1252"))
        c.showPage()
    c.save()
    return out.getvalue()


def run(full: bool = False) -> list[Row]:
    data = practice_tables()
    sent, _ = statements.for_practice(data, tables.empty("statements"), tables.empty("placements"), AS_OF, Policy())
    assert len(sent.statements) == ACCOUNTS
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        count = [0]

        def batch() -> None:
            count[0] += 1
            with Store.open(tmp / f"s{count[0]}.sqlite") as store:
                done = writer.write_batch(store, sent, PRACTICE, tmp / f"out{count[0]}")
            assert done.statements == ACCOUNTS

        def plan_and_batch() -> None:
            run_, _ = statements.for_practice(data, tables.empty("statements"), tables.empty("placements"), AS_OF,
                                              Policy())
            count[0] += 1
            with Store.open(tmp / f"s{count[0]}.sqlite") as store:
                writer.write_batch(store, run_, PRACTICE, tmp / f"out{count[0]}")

        whole = median_seconds(plan_and_batch, 5 if full else 3)
        printed = writer.letters(sent.statements, sent.lines, [str(i + 1) for i in range(ACCOUNTS)])
        sample = printed[:2_000]
        ours = median_seconds(lambda: [writer.pdf(writer.statement_pages(p, PRACTICE)) for p in sample], 3)
        theirs = median_seconds(lambda: [reportlab_pdf(p, PRACTICE) for p in sample], 1)
    return [
        Row(f"{ACCOUNTS:,} patient statements: planned, recorded in the store, PDFs and index written", whole, 60.0,
            "s", "the 60 s budget of the acceptance criteria"),
        Row("drawing 2,000 statement PDFs (in memory)", ours, theirs, "s", "reportlab canvas, same text and fonts"),
    ]
