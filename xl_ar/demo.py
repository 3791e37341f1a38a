"""`xl-ar demo`: the main job end to end on a freshly generated practice.

Generates a synthetic practice, reads and checks its exports (and writes them into a copy of the
add-in's template workbook, `AR_Workbook.xlsx`), imports its remittances into the
embedded store, and runs every step the product has, printing a short summary. Each step is timed;
progress is shown for anything that takes more than a second.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from xl_ar import kpi, outputs, remittances, settings, sources
from xl_ar.addin import template
from xl_ar.aging import aging
from xl_ar.kinds import BY_CODE
from xl_ar.practice import load_practice
from xl_ar.progress import step
from xl_ar.report import build_report
from xl_ar.reports import reconciliation
from xl_ar.store import Store
from xl_ar.synth import generate


@dataclass
class DemoSummary:
    """What the demo did: one line per step, with its time."""

    out: Path
    lines: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        total = sum(self.seconds.values())
        return "\n".join([*self.lines, f"Done in {total:.1f} s. Output in {self.out}"])


def run(out: Path, claims: int = 5000, seed: int = 7, show_progress: bool = True) -> DemoSummary:
    """Run the demo into `out` (a practice folder, the store and the outputs)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = DemoSummary(out)
    folder = out / "practice"

    started = time.perf_counter()
    result = generate(folder, claims=claims, seed=seed, show_progress=show_progress)
    summary.seconds["synth"] = time.perf_counter() - started
    c = result.counts
    summary.lines.append(
        f"Practice: {c['claims']:,} claims ({c['claim_lines']:,} lines) as of {result.as_of}, "
        f"{c['era_files']:,} ERA files, {c['postings']:,} postings, {c['deposits']:,} bank lines.")

    started = time.perf_counter()
    with step("Reading the practice folder", show_progress):
        practice = load_practice(folder)
    summary.seconds["read"] = time.perf_counter() - started
    warnings = len(practice.findings)
    summary.lines.append(
        f"Read {len(practice.tables)} exports and found no errors" + (f" ({warnings} warnings)." if warnings else "."))
    filled = template.write(out / "AR_Workbook.xlsx", practice.all_tables())
    summary.lines.append(f"Wrote {filled.name}: the add-in's workbook filled with this practice's tables.")
    store_path = out / "xl-ar.sqlite"
    beside = out / settings.FILE  # the workbook's folder settings: its ribbon buttons use this demo's practice
    outputs.write_bytes(beside, settings.conf_text(
        [("store", str(store_path.resolve())), ("practice", str(folder.resolve())),
         ("era_source", str((folder / "era").resolve())), ("as_of", practice.as_of().isoformat())],
        "\r\n" if sys.platform == "win32" else "\n").encode("utf-8"))
    summary.lines.append(f"Wrote {beside.name} beside it: the store, practice folder, ERA folder and as-of date "
                         "its ribbon buttons use.")

    started = time.perf_counter()
    if store_path.exists():  # a demo starts from an empty store, so it imports everything again
        store_path.unlink()
    listing = sources.read_source(folder / "era")
    with Store.open(store_path) as store, step("Importing remittances", show_progress) as tick:
        report = remittances.import_files(listing.files, store, payers=practice.table("payers"), progress=tick)
        store.audit("demo", claims=claims, seed=seed, as_of=result.as_of.isoformat())
    summary.seconds["import"] = time.perf_counter() - started
    summary.lines.append(f"Imported remittances into {store_path.name}: {report.summary()}")

    started = time.perf_counter()
    as_of = practice.as_of()
    claims = practice.table("claims")
    by_class = aging(claims, as_of, group_by="payer_class", payers=practice.table("payers"))
    values = kpi.kpis(claims, as_of)
    summary.seconds["aging"] = time.perf_counter() - started
    ncr = values.net_collection
    summary.lines.append(
        f"A/R as of {as_of}: {by_class.ar / 100:,.2f} (unbilled {values['unbilled_ar'] / 100:,.2f}), "
        f"{100 * values['pct_over_90']:.1f}% of billed A/R over 90 days; days in A/R {values['days_in_ar']:.1f}, "
        f"net collection rate {100 * ncr.rate:.1f}% ({ncr.note}), "
        f"credit balances {values['credit_balances'] / 100:,.2f}.")

    started = time.perf_counter()
    with Store.open(store_path) as store:
        remitted = store.remittances()  # as imported above (duplicates kept aside, payers mapped)
        built = build_report(practice, store, out / "management_report.xlsx", remittances=remitted,
                             show_progress=show_progress)
    result = built.reconciliation
    workbook = reconciliation.write(out / "reconciliation.xlsx", result, practice.info.name)
    summary.seconds["reconcile and report"] = time.perf_counter() - started
    counts = result.summary
    top = result.worklist().head(1)
    summary.lines.append(
        f"Reconciled: {len(result.exceptions):,} exceptions ({counts['denied']} denied, "
        f"{counts['underpaid']} underpaid, {counts['unposted_payment']} unposted payments, "
        f"{counts['era_without_deposit']} payments not in the bank, ...); worklist in {workbook.name}"
        + (f", first: {BY_CODE[top.kind.iloc[0]].label} ({top.next_action.iloc[0]})." if len(top) else "."))
    summary.lines.append(f"Management report: {built.path.name}, de-identified (claim ids as tokens), "
                         f"{len(built.data.tiles)} KPIs against targets, {_sheets(built.path)} sheets.")

    started = time.perf_counter()
    summary.lines.append(_claims_out(practice, as_of, out, store_path))
    summary.seconds["claims out"] = time.perf_counter() - started

    started = time.perf_counter()
    with step("Writing follow-up documents", show_progress):
        summary.lines.append(_follow_up(practice, as_of, out, store_path, result, remitted))
    summary.seconds["follow-up"] = time.perf_counter() - started
    return summary


def _sheets(path: Path) -> int:
    """How many sheets a workbook has (read from its part list, not loaded)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return len(book.sheetnames)
    finally:
        book.close()


def _follow_up(practice, as_of, out: Path, store_path: Path, result, remitted) -> str:
    """The follow-up documents, as `xl-ar statements`, `xl-ar appeals letters` and `xl-ar refunds letters` write
    them, into the demo's own folders (synthetic patients; real ones only ever go where the user asks)."""
    from xl_ar import letters, refunds
    from xl_ar.policy import Policy
    from xl_ar.reconcile import Rules
    from xl_ar.reports import statements

    policy, tables = Policy(), practice.all_tables()
    with Store.open(store_path) as store:
        sent = statements.send(store, practice.tables, practice.info, as_of, policy, out / "statements")
    batch = letters.appeal_facts(result.exceptions, tables, remitted, practice.info, as_of, Rules().mpr)
    appeal_letters = letters.render_appeals(batch, practice.folder)
    due = refunds.refunds_for_practice(tables, policy, as_of)
    refund_letters = letters.refund_letters(due, tables["claims"], tables.get("payers"), practice.info, as_of,
                                            remitted["claim_payments"], practice_folder=practice.folder)
    for folder, written, kind in ((out / "letters" / "appeals", appeal_letters, "appeal"),
                                  (out / "letters" / "refunds", refund_letters, "refund")):
        letters.write(folder, written, kind)
    counts = sent.counts
    return (f"Follow-up: {sent.batch.statements:,} patient statements in statements/ (notice 1: "
            f"{counts['notice_1']:,}, payment plans: {counts['plan_statements']:,}; "
            f"{counts['small_balances']:,} small balances not billed), {len(appeal_letters):,} appeal letters and "
            f"{len(refund_letters):,} refund letters in letters/.")


def _claims_out(practice, as_of, out: Path, store_path: Path) -> str:
    """Scrub the claims to send (not yet billed, corrections, voids) and write the clean ones' 837P (when
    practice.json has the 837P keys), as `xl-ar claims scrub` and `xl-ar claims export-837` do."""
    import datetime as dt

    from xl_ar import claims as claims_out
    from xl_ar.x12.claims_out import check_practice, write_837p
    from xl_ar.x12.writer import ControlNumbers

    rules, _ = claims_out.payer_rules(practice.folder)  # the practice's scrub_rules.csv, as the CLI reads it
    scrubbed = claims_out.scrub_practice(practice, as_of, rules)
    said = (f"Scrubbed {len(scrubbed.claims):,} claims to send: {len(scrubbed.clean):,} clean, {scrubbed.held:,} "
            f"held back by {len(scrubbed.findings):,} findings")
    missing = check_practice(practice.info)
    if missing:
        return said + f"; no 837P (practice.json lacks {', '.join(sorted({f.where.key or '' for f in missing}))})."
    if scrubbed.clean.empty:
        return said + "; no clean claim, no 837P."
    lines = scrubbed.claim_lines[scrubbed.claim_lines["claim_id"].isin(set(scrubbed.clean["claim_id"]))]
    with Store.open(store_path) as store:
        number = claims_out.next_control_number(store)
        text, _ = write_837p(scrubbed.clean, lines, practice.table("payers"), practice.info,
                             ControlNumbers(number, number), dt.datetime.now(dt.UTC).replace(tzinfo=None))
        if not text:
            return said + "; no claim the 837P format accepts."
        target = out / "claims.837"
        outputs.write_text(target, text, private=True)
        claims_out.record_x12(store, "837P", target, number, as_of=as_of.isoformat())
    return said + f"; wrote {target.name} (837P, 5010 X222A1)."
