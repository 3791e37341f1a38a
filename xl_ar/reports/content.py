"""What the management report says: KPI tiles against targets, aging, trend, rollforward, denials,
payer scorecard and worklist, all computed here from canonical tables (the writer only lays out).

De-identified by default (HIPAA Safe Harbor): names, birth dates, member ids and addresses never
enter the report; claim and account ids are replaced by keyed tokens (`xl_ar.privacy`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xl_ar import assignments, codes, kinds, kpi, privacy
from xl_ar.aging import Aging, aging
from xl_ar.notes import touch_summary
from xl_ar.policy import Policy
from xl_ar.reconcile import Reconciliation
from xl_ar.rollforward import Rollforward, dated_contractual, month_end_history, rollforward

if TYPE_CHECKING:
    from xl_ar.appeals import DenialWriteoffs


@dataclass(frozen=True)
class Targets:
    """KPI targets (MGMA / HFMA benchmarks by default); amber is within `amber_margin` of the target."""

    days_in_ar: float = 40
    pct_over_90: float = 0.15
    pct_over_120: float = 0.10
    net_collection_rate: float = 0.95
    denial_rate: float = 0.05
    amber_margin: float = 0.25


@dataclass(frozen=True)
class AppealsSection:
    """The appeal KPIs of the report's period (`xl_ar.appeals`): appeals filed in the period, overall, by payer
    and by denial category, with the denial write-offs of the payments in the period. Counts and dollars only."""

    overall: dict[str, float | int]
    """`appeals.kpis` of the appeals filed in the period."""
    by_payer: pd.DataFrame
    """payer_id, then the `appeals.KPI_NAMES` columns."""
    by_category: pd.DataFrame
    """category, then the `appeals.KPI_NAMES` columns."""
    writeoffs: DenialWriteoffs
    """The denial write-offs over the net revenue paid in the period (`appeals.denial_writeoffs`), in cents."""


def appeals_section(appeals: pd.DataFrame, claims: pd.DataFrame, remittances: dict[str, pd.DataFrame],
                    start: dt.date, end: dt.date) -> AppealsSection:
    """The report's appeals section: the appeals filed from `start` to `end` (drafted ones are not counted),
    and the denial write-offs of the payments dated in those days."""
    from xl_ar import appeals as core

    filed = pd.to_datetime(appeals.filed_date)
    period = appeals[(filed >= pd.Timestamp(start)) & (filed <= pd.Timestamp(end))]
    writeoffs = core.denial_writeoffs(claims, remittances, start, end)
    return AppealsSection(core.kpis(period), core.kpis_by(period, "payer_id"), core.kpis_by(period, "category"),
                          writeoffs)


@dataclass(frozen=True)
class Tile:
    """One KPI on the summary: its value, target and state, and its change since the last snapshot."""

    key: str
    label: str
    value: float
    unit: str
    """days, pct or money (cents)."""
    target: float | None = None
    lower_is_better: bool = True
    previous: float | None = None
    definition: str = ""
    """What the figure is: its formula and source (shown with the tiles)."""
    margin: float = Targets.amber_margin
    """Amber within this share of the target (the practice's `target_amber_margin` setting)."""

    @property
    def state(self) -> str:
        """green at or better than target, amber within the margin, red beyond; '' without target."""
        if self.target is None or self.value != self.value:
            return ""
        return rag(self.value, self.target, self.lower_is_better, self.margin)

    @property
    def change(self) -> float | None:
        if self.previous is None or self.previous != self.previous or self.value != self.value:
            return None
        return self.value - self.previous


def rag(value: float, target: float, lower_is_better: bool, margin: float) -> str:
    """Red / amber / green of a value against its target."""
    if lower_is_better:
        return "green" if value <= target else "amber" if value <= target * (1 + margin) else "red"
    return "green" if value >= target else "amber" if value >= target * (1 - margin) else "red"


@dataclass
class ReportData:
    """Everything the management report shows (amounts in cents)."""

    practice: str
    as_of: dt.date
    period: tuple[dt.date, dt.date]
    tiles: list[Tile]
    aging: Aging
    history: pd.DataFrame
    snapshots: pd.DataFrame
    rollforward: Rollforward
    denials_by_category: pd.DataFrame
    denials_by_payer: pd.DataFrame
    top_reasons: pd.DataFrame
    denial_trend: pd.DataFrame
    dollars_at_risk: int
    scorecard: pd.DataFrame
    worklist: pd.DataFrame
    phi: bool = False
    notes: list[str] = field(default_factory=list)
    payer_names: dict[str, str] = field(default_factory=dict)
    targets: Targets = field(default_factory=lambda: Targets())
    """The KPI targets the tiles were judged against."""
    patient_ar: pd.DataFrame | None = None
    """Patient A/R aged from the first statement (`statements.patient_aging`: bucket, accounts, amount in cents);
    counts and dollars only. None when the report was built without the store's statement history."""
    write_offs: pd.DataFrame | None = None
    """Write-offs by kind, bad debt apart from contractual adjustments (`collections.write_offs`: kind, label,
    amount in cents, count; no identifiers); None when not computed."""
    appeals: AppealsSection | None = None
    """The appeals sheet's figures, when the report was given the store's appeals."""
    touches: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Follow-up touches of the open claims (`xl_ar.notes.touch_summary`): by payer, by worklist kind and in
    total; counts and medians only (no claim ids, no note text)."""
    specialists: pd.DataFrame | None = None
    """When the worklist is split (`xl_ar.assignments.summary`): per specialist, its rows and dollars at stake in
    the whole worklist; None when not split."""

    def figures(self) -> dict[str, float]:
        """The key figures kept in the store's snapshot of this report."""
        return {t.key: (None if t.value != t.value else t.value) for t in self.tiles}


def _initial(claims: pd.DataFrame, remittances: dict[str, pd.DataFrame], start: dt.date, end: dt.date
             ) -> pd.DataFrame:
    """The claims billed in the period with their first adjudication (`kpi.initial_denials`: `denied`
    is denied in full), the main denial reason of that adjudication and its category, and the days
    from billing to it."""
    cohort = kpi.initial_denials(claims, remittances, start, end)
    adj = remittances["adjustments"]
    category, _ = codes.categorize(adj.group_code, adj.reason_code)
    denial = adj.assign(category=category)[np.isin(category, list(codes.DENIAL_CATEGORIES))
                                           & adj.group_code.isin(kpi.DENIAL_GROUPS).to_numpy()]
    main = denial.sort_values("amount", ascending=False, kind="stable").drop_duplicates(["payment_id", "claim_seq"])
    cohort = cohort.merge(main[["payment_id", "claim_seq", "group_code", "reason_code", "category"]],
                          on=["payment_id", "claim_seq"], how="left")
    billed = pd.to_datetime(cohort.billed_date).to_numpy()
    cohort["days_to_pay"] = (pd.to_datetime(cohort._date).to_numpy() - billed).astype("timedelta64[D]").astype(float)
    return cohort


def _pct(value: float) -> str:
    return "n/a" if value != value else f"{100 * value:.1f}%"


def build(claims: pd.DataFrame, payers: pd.DataFrame, postings: pd.DataFrame, remittances: dict[str, pd.DataFrame],
          result: Reconciliation, as_of: dt.date, practice: str = "", snapshots: pd.DataFrame | None = None,
          targets: Targets | None = None, months: int = 12, phi: bool = False, key: bytes | None = None,
          worklist_size: int = 100, write_offs: pd.DataFrame | None = None,
          appeals: pd.DataFrame | None = None, followup_notes: pd.DataFrame | None = None,
          policy: Policy | None = None, taken: pd.DataFrame | None = None,
          patient_ar: pd.DataFrame | None = None) -> ReportData:
    """Compute the report. `snapshots` are earlier reports' figures (from the store); `write_offs` the
    write-offs by kind (`collections.write_offs`), shown on their own sheet when given; `appeals` the store's
    appeals (the Appeals sheet; none without); `followup_notes` the stored follow-up notes (`notes` table), of
    which the report shows only de-identified touch figures; `policy` how the worklist is split among
    specialists; `taken` the claims specialists took (`Store.assignments`), shown as theirs over the split;
    `patient_ar` the patient A/R aged from the first statement (`statements.patient_aging`), its sheet when given."""
    targets = targets or Targets()
    start = kpi.months_before(as_of, months) + dt.timedelta(days=1)
    values = kpi.kpis(claims, as_of, remittances=remittances)
    ncr = values.net_collection
    cohort = _initial(claims, remittances, start, as_of)
    denial = kpi.denial_rate(cohort)  # = kpi.initial_denial_rate(claims, remittances, start, as_of)
    previous = _previous(snapshots, as_of)
    period = f"{start:%Y-%m-%d} to {as_of:%Y-%m-%d}"
    denial_definition = (
        f"claims billed {period} denied in full on their first adjudication (CLP02 4, or nothing paid with a "
        f"CO/PI/OA denial reason on every line) / claims billed {period}, by count and by billed charges (HFMA "
        f"MAP Key); {denial.claims_not_adjudicated:,} of the {denial.claims_billed:,} billed claims have no "
        f"adjudication yet and stay in the denominator")
    ncr_start, ncr_end = kpi.kpi_window(as_of)

    def tile(key_: str, label: str, value: float, unit: str, target=None, lower=True, definition="") -> Tile:
        return Tile(key_, label, value, unit, target, lower, previous.get(key_),
                    definition or kpi.DEFINITIONS.get(key_, ""), targets.amber_margin)

    ncr_label = "Net collection rate" + (" (upper bound: write-offs unknown)" if ncr.upper_bound else "")
    tiles = [
        tile("total_ar", "A/R (excluding credit balances)", values["total_ar"], "money"),
        tile("unbilled_ar", "of which unbilled", values["unbilled_ar"], "money"),
        tile("future_dated", "Future-dated balances (not in A/R)", values["future_dated"], "money"),
        tile("days_in_ar", "Days in A/R", values["days_in_ar"], "days", targets.days_in_ar),
        tile("pct_over_90", "% of billed A/R over 90 days", values["pct_over_90"], "pct", targets.pct_over_90),
        tile("pct_over_120", "% of billed A/R over 120 days", values["pct_over_120"], "pct", targets.pct_over_120),
        tile("net_collection_rate", ncr_label, values["net_collection_rate"], "pct", targets.net_collection_rate,
             lower=False, definition=f"payments / (charges - contractual adjustments) of the claims with a date of "
                                     f"service {ncr_start:%Y-%m-%d} to {ncr_end:%Y-%m-%d} (MGMA adjusted "
                                     f"collection rate); {ncr.note}"),
        tile("gross_collection_rate", "Gross collection rate", values["gross_collection_rate"], "pct"),
        tile("denial_rate_count", "Initial denial rate (claims)", denial.by_count, "pct", targets.denial_rate,
             definition=denial_definition),
        tile("denial_rate_dollars", "Initial denial rate (dollars)", denial.by_dollars, "pct", targets.denial_rate,
             definition="the same claims, by billed charges"),
        tile("clean_claim_rate", "Clean claim rate", float("nan"), "pct",
             definition="needs clearinghouse acceptance reports (277CA), not part of these exports"),
        tile("credit_balances", "Credit balances", values["credit_balances"], "money"),
    ]
    by_payer = aging(claims, as_of, group_by="payer", payers=payers)
    contractual = dated_contractual(claims, remittances)  # once, for both
    history = month_end_history(claims, postings, remittances, as_of, months, contractual)
    roll = rollforward(claims, postings, remittances, as_of, months, contractual)

    denied = cohort[cohort.denied].assign(category=lambda f: f.category.fillna(codes.UNKNOWN[1]))
    by_category = denied.groupby("category").agg(claims=("claim_id", "size"), dollars=("charge", "sum"))
    by_category = by_category.reindex([c for c in codes.CATEGORIES if c in by_category.index]).reset_index()
    billed_by_payer = cohort.groupby("payer_id").agg(billed=("claim_id", "size"))
    by_payer_denied = denied.groupby("payer_id").agg(denied=("claim_id", "size"), dollars=("charge", "sum"))
    denials_by_payer = billed_by_payer.join(by_payer_denied, how="left").fillna(0).astype("int64").reset_index()
    adj_reasons = denied.dropna(subset=["reason_code"])
    top = adj_reasons.groupby(["group_code", "reason_code"]).agg(claims=("claim_id", "size"),
                                                                 dollars=("charge", "sum")).reset_index()
    top = top.sort_values(["claims", "dollars"], ascending=False, kind="stable").head(10)
    labels, cats, actions = codes.describe(top.reason_code, top.group_code) if len(top) else ([], [], [])
    top = top.assign(label=list(labels), category=list(cats), action=list(actions))
    month = pd.to_datetime(cohort.billed_date).dt.to_period("M")
    trend = cohort.assign(month=month).groupby("month").agg(billed=("claim_id", "size"),
                                                            denied=("denied", "sum")).reset_index()
    trend["month"] = trend.month.dt.to_timestamp().dt.date
    exceptions = result.exceptions
    at_risk = int(exceptions[exceptions.kind.isin(kinds.codes_in("denial"))].expected.fillna(0).sum())

    scorecard = _scorecard(claims, payers, cohort, by_payer, exceptions, as_of)
    worklist = result.worklist()
    work = worklist
    specialists = None
    split = policy is not None and policy.assign_by != "off"
    if split or (taken is not None and len(taken)):  # who works each row: a specialist's name, never a patient's
        if split:
            work = assignments.assign(work, claims, policy, payers)
        if taken is not None:  # a claim someone took is theirs; the version is for the specialists' sheets
            work = assignments.with_stored(work, taken).drop(columns=assignments.VERSION)
        specialists = assignments.summary(work[work[assignments.COLUMN].notna()])
    work = work.head(worklist_size).copy()
    if phi:  # for internal use: the patient next to each claim
        if "patient_name" in claims.columns:
            work["patient_name"] = claims.set_index("claim_id").patient_name.reindex(work.claim_id).to_numpy()
    else:
        work = privacy.deidentify(work, key or privacy.load_key())
    notes = [f"{t.label}: {t.definition}." for t in tiles if t.definition and t.key != "denial_rate_dollars"]
    if snapshots is None or snapshots.empty:
        notes.append("No earlier report in the store: changes appear from the next report on.")
    names = dict(zip(payers.payer_id, payers.name, strict=True)) if payers is not None and len(payers) else {}
    touches = touch_summary(claims, followup_notes, as_of, worklist)
    return ReportData(practice, as_of, (start, as_of), tiles, by_payer, history,
                      snapshots if snapshots is not None else pd.DataFrame(), roll, by_category, denials_by_payer,
                      top, trend, at_risk, scorecard, work, phi, notes, names, targets, patient_ar=patient_ar,
                      write_offs=write_offs,
                      appeals=None if appeals is None else appeals_section(appeals, claims, remittances, start, as_of),
                      touches=touches, specialists=specialists)


def _previous(snapshots: pd.DataFrame | None, as_of: dt.date) -> dict[str, float]:
    if snapshots is None or snapshots.empty:
        return {}
    earlier = snapshots[snapshots.as_of < as_of]
    if earlier.empty:
        return {}
    row = earlier.iloc[-1].to_dict()
    return {k: v for k, v in row.items() if k != "as_of" and v is not None}


def _scorecard(claims: pd.DataFrame, payers: pd.DataFrame, cohort: pd.DataFrame, by_payer: Aging,
               exceptions: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per payer: days to pay and initial denial rate of the claims billed in the period (`_initial`),
    underpayments, billed A/R and its part over 90 days from the date of service (`by_payer`)."""
    paid = cohort[cohort.status_code.astype(str).isin(["1", "2", "3"]) & cohort.days_to_pay.notna()]
    out = pd.DataFrame(index=pd.Index(sorted(set(claims.payer_id.dropna())), name="payer_id"))
    names = payers.set_index("payer_id").name if payers is not None and len(payers) else pd.Series(dtype=str)
    out["payer"] = names.reindex(out.index).fillna(pd.Series(out.index, index=out.index))
    out["avg_days_to_pay"] = paid.groupby("payer_id").days_to_pay.mean().reindex(out.index)
    billed = cohort.groupby("payer_id").size().reindex(out.index).fillna(0)
    denied = cohort[cohort.denied].groupby("payer_id").size().reindex(out.index).fillna(0)
    out["claims_billed"] = billed.astype("int64")
    out["claims_denied"] = denied.astype("int64")
    under = exceptions[exceptions.kind == "underpaid"]
    out["underpaid_claims"] = under.groupby("payer_id").size().reindex(out.index).fillna(0).astype("int64")
    out["underpaid_dollars"] = (-under.groupby("payer_id").variance.sum()).reindex(out.index).fillna(0).astype("int64")
    table = by_payer.table.set_index("group")
    out["open_ar"] = table.total.reindex(out.index).fillna(0).astype("int64")
    over_labels = [label for label in by_payer.labels if int(label.split("-")[0].rstrip("+")) > 90]
    over = table[over_labels].sum(axis=1) if over_labels else table.total * 0
    out["ar_over_90"] = over.reindex(out.index).fillna(0).astype("int64")
    return out.reset_index()
