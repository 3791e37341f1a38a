"""Patient statements as PDF (docs/statements.md): one US Letter page (or more) per patient with the services,
what insurance paid, the adjustments, the amount due, the due date, how to pay, and a remittance stub.

The PDF is written here directly (text in the base-14 Helvetica fonts, no images): a statement is a few hundred
bytes of drawing operators, so 10,000 take seconds (benchmarks/bench_statements.py compares reportlab). Every value
from data is written as a PDF string with its special characters escaped: data never becomes drawing operators.
Amounts are right-aligned with Helvetica's character widths; dates are MM/DD/YYYY.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from reportlab.pdfbase.pdfmetrics import stringWidth

from xl_ar.documents import us_date
from xl_ar.money import dollars, format_cents

if TYPE_CHECKING:
    from xl_ar.practice import PracticeInfo
    from xl_ar.statements import StatementRun
    from xl_ar.store import Store

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
"""US Letter in points."""
ROWS_PER_PAGE = 18
"""Service lines per page; a longer statement continues on further pages (the stub on the last one)."""

NOTICE_TITLES = {"1": "STATEMENT", "2": "SECOND STATEMENT", "final": "FINAL NOTICE", "plan": "PAYMENT PLAN STATEMENT"}
NOTICE_WORDS = {
    "1": "This statement shows the balance you owe after your insurance processed your claims.",
    "2": "Our records show this balance is still open. Please pay it or call us by the due date.",
    "final": "FINAL NOTICE: please pay this balance, or call us to agree a payment plan, by the due date.",
    "plan": "Thank you for your payment plan. Please pay the installment below by its due date.",
}

_WIDTHS = {font: {chr(c): stringWidth(chr(c), font, 1.0) for c in range(32, 256) if chr(c).isprintable()}
           for font in ("Helvetica", "Helvetica-Bold")}
"""Character widths of the two fonts at size 1 (reportlab's metrics, read once)."""


def text_width(text: str, font: str, size: float) -> float:
    """The width of `text` in points (characters outside the table as wide as a digit)."""
    widths = _WIDTHS[font]
    return sum(widths.get(ch, 0.556) for ch in text) * size


# table columns: (header, x, right-aligned)
_COLUMNS = (("Date", 40, False), ("Services", 102, False), ("Charges", 318, True), ("Insurance paid", 392, True),
            ("Adjustments", 456, True), ("You paid", 514, True), ("You owe", 572, True))


@dataclass(frozen=True)
class Practice:
    """Who sends the statements and how patients pay (practice.json; docs/statements.md)."""

    name: str = ""
    address_lines: tuple[str, ...] = ()
    phone: str = ""
    pay_url: str = ""
    remit_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Letter:
    """One statement as printed."""

    number: str
    account_id: str
    notice: str
    """1, 2, final, or plan."""
    statement_date: dt.date
    due_date: dt.date
    amount_due: int
    balance: int
    patient_name: str
    patient_address: str
    lines: pd.DataFrame = field(repr=False)
    """service_date, codes, charge, insurance_paid, adjusted, patient_paid, amount_due (cents)."""


def _escape(text: object) -> bytes:
    raw = str(text).replace("\r", " ").replace("\n", " ")
    data = raw.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


class _Page:
    def __init__(self) -> None:
        self.ops: list[bytes] = []

    def text(self, x: float, y: float, value: object, size: float = 9, bold: bool = False,
             right: bool = False) -> None:
        s = str(value)
        if right:
            x -= text_width(s, "Helvetica-Bold" if bold else "Helvetica", size)
        font = b"/F2" if bold else b"/F1"
        self.ops.append(b"BT %s %g Tf %.2f %.2f Td (%s) Tj ET" % (font, size, x, y, _escape(s)))

    def line(self, x1: float, y1: float, x2: float, y2: float, dashed: bool = False) -> None:
        dash = b"[3 3] 0 d " if dashed else b"[] 0 d "
        self.ops.append(dash + b"0.5 w %g %g m %g %g l S" % (x1, y1, x2, y2))

    def content(self) -> bytes:
        return b"\n".join(self.ops)


def statement_pages(letter: Letter, practice: Practice) -> list[bytes]:
    """The content streams of one statement's pages."""
    rows = list(letter.lines.itertuples(index=False))
    chunks = [rows[i:i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
    pages = []
    for index, chunk in enumerate(chunks):
        page = _Page()
        _header(page, letter, practice, index + 1, len(chunks))
        y = 520
        for header, x, right in _COLUMNS:
            page.text(x, y, header, 8, bold=True, right=right)
        page.line(40, y - 4, 572, y - 4)
        y -= 16
        for r in chunk:
            page.text(40, y, us_date(r.service_date), 8)
            page.text(102, y, str(r.codes or "")[:40], 8)
            for (_, x, _), cents in zip(_COLUMNS[2:], (r.charge, r.insurance_paid, r.adjusted, r.patient_paid,
                                                       r.amount_due), strict=True):
                page.text(x, y, dollars(cents), 8, right=True)
            y -= 13
        if index == len(chunks) - 1:
            _totals(page, letter, practice, y - 6)
            _stub(page, letter, practice)
        else:
            page.text(572, y - 6, "continued on the next page", 8, right=True)
        pages.append(page.content())
    return pages


def _header(page: _Page, letter: Letter, practice: Practice, number: int, of: int) -> None:
    page.text(40, 750, practice.name, 14, bold=True)
    y = 735
    for line in practice.address_lines:
        page.text(40, y, line, 9)
        y -= 11
    if practice.phone:
        page.text(40, y, f"Billing questions: {practice.phone}", 9)
    title = NOTICE_TITLES["plan" if letter.notice == "plan" else letter.notice]
    page.text(572, 750, title, 14, bold=True, right=True)
    facts = (("Statement no.", letter.number), ("Statement date", us_date(letter.statement_date)),
             ("Due date", us_date(letter.due_date)), ("Amount due", dollars(letter.amount_due)))
    y = 732
    for label, value in facts:
        page.text(480, y, label, 9, right=True)
        page.text(572, y, value, 9, bold=True, right=True)
        y -= 12
    if of > 1:
        page.text(572, y, f"Page {number} of {of}", 8, right=True)
    page.text(40, 650, letter.patient_name, 10, bold=True)
    page.text(40, 637, letter.patient_address, 9)
    page.text(40, 620, f"Account: {letter.account_id}", 9)
    page.text(40, 548, NOTICE_WORDS["plan" if letter.notice == "plan" else letter.notice], 9)


def _totals(page: _Page, letter: Letter, practice: Practice, y: float) -> None:
    page.line(40, y + 8, 572, y + 8)
    if letter.notice == "plan":
        page.text(514, y - 4, "Balance", 9, right=True)
        page.text(572, y - 4, dollars(letter.balance), 9, right=True)
        y -= 14
        page.text(514, y - 4, "Installment due", 9, bold=True, right=True)
    else:
        page.text(514, y - 4, "Total you owe", 9, bold=True, right=True)
    page.text(572, y - 4, dollars(letter.amount_due), 9, bold=True, right=True)
    y -= 24
    page.text(40, y, "How to pay", 9, bold=True)
    y -= 12
    ways = []
    if practice.pay_url:
        ways.append(f"Online: {practice.pay_url}")
    if practice.phone:
        ways.append(f"By phone: {practice.phone}")
    if practice.remit_to:
        ways.append("By mail: return the stub below with your check to " + ", ".join(practice.remit_to))
    for way in ways:
        page.text(40, y, way, 8)
        y -= 11


def _stub(page: _Page, letter: Letter, practice: Practice) -> None:
    page.line(30, 200, 582, 200, dashed=True)
    page.text(40, 188, "Please detach and return this part with your payment.", 8)
    page.text(40, 170, practice.name, 10, bold=True)
    facts = (("Statement no.", letter.number), ("Account", letter.account_id), ("Patient", letter.patient_name),
             ("Due date", us_date(letter.due_date)), ("Amount due", dollars(letter.amount_due)))
    y = 152
    for label, value in facts:
        page.text(40, y, label, 9)
        page.text(120, y, value, 9, bold=True)
        y -= 13
    page.text(40, y - 6, "Amount enclosed: $ ______________", 9)
    page.text(360, 152, "Make checks payable to and mail to:", 9)
    y = 139
    for line in practice.remit_to or (practice.name, *practice.address_lines):
        page.text(360, y, line, 9, bold=True)
        y -= 12


def pdf(pages: Sequence[bytes], title: str = "Patient statement") -> bytes:
    """A PDF document of the given page content streams (Helvetica and Helvetica-Bold, WinAnsi)."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (%s) /Producer (xl-ar) >>" % _escape(title),
    ]
    kids = []
    for content in pages:
        page_no = len(objects) + 1
        kids.append(b"%d 0 R" % page_no)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R "
                       b"/F2 4 0 R >> >> /Contents %d 0 R >>" % (PAGE_WIDTH, PAGE_HEIGHT, page_no + 1))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content) + 1, content))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def letters(statements: pd.DataFrame, lines: pd.DataFrame, numbers: Iterable[str]) -> list[Letter]:
    """The statements of a run (`xl_ar.statements.StatementRun.statements` and `.lines`) as printable letters, with
    their store numbers (aligned with `statements`)."""
    by_account = {k: g for k, g in lines.groupby("account_id", sort=False)}
    empty = lines.iloc[:0]
    out = []
    for s, number in zip(statements.itertuples(index=False), numbers, strict=True):
        out.append(Letter(str(number), str(s.account_id), "plan" if s.plan else str(s.notice),
                          s.statement_date, s.due_date, int(s.amount_due), int(s.balance),
                          "" if pd.isna(s.patient_name) else str(s.patient_name),
                          "" if pd.isna(s.patient_address) else str(s.patient_address),
                          by_account.get(s.account_id, empty)))
    return out


def practice_of(info: PracticeInfo) -> Practice:
    """The sender block of the statements from practice.json (`practice.PracticeInfo`): the statement phone (else
    the contact phone), the online payment address, the remit-to lines (else the practice's address)."""
    from xl_ar.practice import us_phone

    address = tuple(v for v in (info.address, info.city_line) if v)
    return Practice(info.name or "", address, us_phone(info.statement_phone or info.contact_phone or ""),
                    info.pay_url or "", tuple(info.remit_to or ()))


@dataclass(frozen=True)
class Batch:
    """What a run wrote: its batch name, the folder, the files with their SHA-256 (file name -> hash)."""

    batch: str
    folder: Path
    statements: int
    already_sent: int
    files: dict[str, str]


def write_batch(store: Store, run: StatementRun, practice: Practice, out: Path, combined: bool = False) -> Batch:
    """Record the run's statements in the store and write them to `out` (owner-only), in one transaction: the store
    numbers each statement (printed on it and in the file name `statement_NNNNN.pdf`, never an identifier); a
    notice the store already holds is not written again; if any file cannot be written, nothing is recorded and the
    files already written are removed. Also writes the index CSV (number -> account, notice, amount due, due date,
    file) and, with `combined`, one PDF of every statement for a mail house."""
    from xl_ar import outputs
    from xl_ar.documents import file_stem
    from xl_ar.statements import to_record

    batch = f"statements-{run.as_of.isoformat()}-{secrets.token_hex(4)}"
    folder = outputs.private_folder(Path(out))
    pending: list[tuple[Path, bytes]] = []
    files: dict[str, str] = {}

    def put(path: Path, data: bytes) -> None:
        pending.append((path, data))
        files[path.name] = hashlib.sha256(data).hexdigest()

    try:
        with store.transaction():
            numbers = store.record_statements(to_record(run, batch), batch)
            new = numbers.notna().to_numpy()
            sent = run.statements[new].reset_index(drop=True)
            printed = letters(sent, run.lines, numbers[new].tolist())
            every_page: list[bytes] = []
            rows = []
            for letter in printed:
                pages = statement_pages(letter, practice)
                name = f"{file_stem(int(letter.number), 'statement')}.pdf"
                put(folder / name, pdf(pages))
                if combined:
                    every_page += pages
                rows.append((letter.number, letter.account_id, letter.notice, format_cents(letter.amount_due),
                             letter.due_date.strftime("%Y-%m-%d"), name))
            if printed:
                first = int(printed[0].number)
                text = io.StringIO()
                writer = csv.writer(text, lineterminator="\r\n")
                writer.writerow(("statement_number", "account_id", "notice", "amount_due", "due_date", "file"))
                writer.writerows(rows)
                put(folder / f"{file_stem(first, 'statement_index')}.csv", text.getvalue().encode("utf-8"))
                if combined:
                    put(folder / f"{file_stem(first, 'statements_combined')}.pdf",
                        pdf(every_page, "Patient statements"))
            outputs.write_many(pending, private=True)  # inside the transaction: recorded only once all are written
    except BaseException:
        for path, _ in pending:
            if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == files[
                    path.name]:
                path.unlink()
        raise
    return Batch(batch, folder, len(printed), int((~new).sum()), files)


@dataclass(frozen=True)
class Sent:
    """A statements run as the CLI and the ribbon report it: counts (no identifiers), the patient aging, and
    what was written (None on a dry run)."""

    counts: dict[str, int]
    aging: pd.DataFrame
    batch: Batch | None


def send(store: Store, practice_tables: dict[str, pd.DataFrame], info: PracticeInfo, as_of: dt.date, policy: object,
         out: Path | None, combined: bool = False) -> Sent:
    """The one statements run of the CLI and the ribbon: plan it from the practice's tables and the store's
    history and placements; with `out`, write and record it (`write_batch`) and append its audit event (counts,
    folder name, SHA-256s; never an identifier). Without `out` (a dry run) nothing is written or recorded."""
    from xl_ar import statements

    run, aging = statements.for_practice(practice_tables, store.statements(), store.read_table("placements"),
                                         as_of, policy)
    counts = statements.counts(run)
    batch = None
    if out is not None:
        batch = write_batch(store, run, practice_of(info), Path(out), combined)
        store.audit("statements", as_of=as_of.isoformat(), batch=batch.batch, folder=batch.folder.name,
                    written=batch.statements, already_sent=batch.already_sent,
                    **{k: v for k, v in counts.items() if k != "statements"}, outputs=batch.files)
    return Sent(counts, aging, batch)
