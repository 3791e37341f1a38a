"""Building the management report from a practice folder: the steps every entry point shares.

Read the remittances, reconcile, compute the report against the store's earlier snapshots, write
the workbook, keep this report's snapshot and an audit event. Used by `xl-ar report`, `xl-ar demo`
and the Build report ribbon button.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xl_ar import audit, collections, statements
from xl_ar.policy import Policy
from xl_ar.practice import PracticeFolder
from xl_ar.progress import step
from xl_ar.reconcile import Reconciliation, Rules, reconcile_tables
from xl_ar.remittances import counted_once
from xl_ar.reports import content, management
from xl_ar.store import Store

log = logging.getLogger(__name__)


@dataclass
class BuiltReport:
    """What was written: the file, the report's figures and the reconciliation behind it."""

    path: Path
    data: content.ReportData
    reconciliation: Reconciliation

    def summary(self) -> str:
        tiles = {t.key: t for t in self.data.tiles}
        kind = "with patient identifiers (internal use)" if self.data.phi else "de-identified"
        return (f"Wrote {self.path.name} ({kind}) as of {self.data.as_of}: A/R {tiles['total_ar'].value / 100:,.2f}, "
                f"days in A/R {tiles['days_in_ar'].value:.1f} ({tiles['days_in_ar'].state}), "
                f"{len(self.reconciliation.exceptions):,} exceptions, worklist top {len(self.data.worklist)}.")


def build_report(practice: PracticeFolder, store: Store, out: Path, as_of: dt.date | None = None, phi: bool = False,
                 password: str | None = None, months: int = 12, remittances: dict[str, pd.DataFrame] | None = None,
                 targets: content.Targets | None = None, show_progress: bool = False,
                 rules: Rules | None = None, policy: Policy | None = None) -> BuiltReport:
    """Build and write the report for a practice; keep its snapshot in the store.

    `targets` are the KPI targets of the summary tiles, `rules` the reconciliation's tolerances, `policy` the
    follow-up policy (small balances of the write-offs sheet, the Patient A/R sheet, how the worklist is split among
    specialists) (the practice's settings; the defaults when None)."""
    as_of = practice.as_of(as_of)
    name = practice.info.name or practice.folder.name
    if remittances is None:
        with step("Reading remittances", show_progress) as tick:
            remittances, _ = practice.remittances(tick)
    with step("Reconciling", show_progress):
        result = reconcile_tables(practice.all_tables(), remittances, as_of, rules)
    with step("Writing the report", show_progress):
        placements = store.placements()
        written_off = collections.write_offs(practice.table("claims"), counted_once(remittances)["adjustments"],
                                             placements, store.agency_payments(), policy or Policy())
        patient_ar = statements.patient_aging(practice.table("claims"), store.statements(), as_of,
                                              policy or Policy(), placements)
        data = content.build(practice.table("claims"), practice.table("payers"), practice.table("postings"),
                             remittances, result, as_of, name, snapshots=store.snapshots(name), targets=targets,
                             months=months, phi=phi, write_offs=written_off, appeals=store.appeals(),
                             followup_notes=store.notes(), policy=policy, taken=store.assignments(),
                             patient_ar=patient_ar)
        management.write(out, data, password=password)
    log.info("report as of %s written (%s, %s): %d exceptions", as_of, "with patient identifiers" if phi else
             "de-identified", "encrypted" if password else "not encrypted", len(result.exceptions))
    store.save_snapshot(name, as_of, data.figures())
    store.audit("report", as_of=as_of.isoformat(), phi=phi, encrypted=bool(password), exceptions=len(result.exceptions),
                claims=len(practice.table("claims")), inputs=audit.practice_inputs(practice),
                outputs=audit.hashes([Path(out)]))
    return BuiltReport(Path(out), data, result)
