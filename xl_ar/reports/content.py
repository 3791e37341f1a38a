"""What the management report says: KPI tiles against targets, aging, trend, rollforward, denials,
payer scorecard and worklist, all computed here from canonical tables (the writer only lays out).

De-identified by default (HIPAA Safe Harbor): names, birth dates, member ids and addresses never
enter the report; claim and account ids are replaced by keyed tokens (`xl_ar.privacy`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar import codes, kinds, kpi, privacy
from xl_ar.aging import Aging, aging
from xl_ar.reconcile import Reconciliation
from xl_ar.remittances import counted_once
from xl_ar.rollforward import Rollforward, month_end_history, rollforward


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

    @property
    def state(self) -> str:
        """green at or better than target, amber within the margin, red beyond; '' without target."""
        if self.target is None or self.value != self.value:
            return ""
        return rag(self.value, self.target, self.lower_is_better, Targets().amber_margin)

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

    def figures(self) -> dict[str, float]:
        """The key figures kept in the store's snapshot of this report."""
        return {t.key: (None if t.value != t.value else t.value) for t in self.tiles}


def _initial(remittances: dict[str, pd.DataFrame], claims: pd.DataFrame) -> pd.DataFrame:
    """First adjudication of each ledger claim (duplicates and reversals out), with its date, payer,
    main denial reason and category."""
    once = counted_once(remittances)
    keep = once["payments"]
    cp = once["claim_payments"]
    cp = cp[cp.claim_id.isin(claims.claim_id)]
    cp = cp.merge(keep[["payment_id", "payment_date"]], on="payment_id")
    first = kpi.first_remittances(cp, cp.payment_date)
    adj = once["adjustments"]
    category, _ = codes.categorize(adj.group_code, adj.reason_code)
    denial = adj.assign(category=category)[np.isin(category, list(codes.DENIAL_CATEGORIES)) & (adj.group_code != "PR")]
    main = denial.sort_values("amount", ascending=False, kind="stable").drop_duplicates(["payment_id", "claim_seq"])
    first = first.merge(main[["payment_id", "claim_seq", "group_code", "reason_code", "category"]],
                        on=["payment_id", "claim_seq"], how="left")
    first["payer_id"] = claims.set_index("claim_id").payer_id.reindex(first.claim_id).to_numpy()
    first["denied"] = first.status_code.astype(str) == kpi.DENIED_STATUS
    billed = claims.set_index("claim_id").billed_date.reindex(first.claim_id).to_numpy()
    first["days_to_pay"] = (pd.to_datetime(first._date).to_numpy() - billed).astype("timedelta64[D]").astype(float)
    return first


def build(claims: pd.DataFrame, payers: pd.DataFrame, postings: pd.DataFrame, remittances: dict[str, pd.DataFrame],
          result: Reconciliation, as_of: dt.date, practice: str = "", snapshots: pd.DataFrame | None = None,
          targets: Targets | None = None, months: int = 12, phi: bool = False, key: bytes | None = None,
          worklist_size: int = 100) -> ReportData:
    """Compute the report. `snapshots` are earlier reports' figures (from the store)."""
    targets = targets or Targets()
    start = kpi.months_before(as_of, months) + dt.timedelta(days=1)
    values = kpi.kpis(claims, as_of)
    first = _initial(remittances, claims)
    in_period = (pd.to_datetime(first._date) >= pd.Timestamp(start)) & (pd.to_datetime(first._date) <= pd.Timestamp(
        as_of))
    period_first = first[in_period.to_numpy()]
    denial = kpi.initial_denial_rate(period_first, start, as_of, dates=period_first._date)
    previous = _previous(snapshots, as_of)

    def tile(key_: str, label: str, value: float, unit: str, target=None, lower=True) -> Tile:
        return Tile(key_, label, value, unit, target, lower, previous.get(key_))

    tiles = [
        tile("total_ar", "A/R (excluding credit balances)", values["total_ar"], "money"),
        tile("days_in_ar", "Days in A/R", values["days_in_ar"], "days", targets.days_in_ar),
        tile("pct_over_90", "% of billed A/R over 90 days", values["pct_over_90"], "pct", targets.pct_over_90),
        tile("pct_over_120", "% of billed A/R over 120 days", values["pct_over_120"], "pct", targets.pct_over_120),
        tile("net_collection_rate", "Net collection rate", values["net_collection_rate"], "pct",
             targets.net_collection_rate, lower=False),
        tile("gross_collection_rate", "Gross collection rate", values["gross_collection_rate"], "pct"),
        tile("denial_rate_count", "Initial denial rate (claims)", denial.by_count, "pct", targets.denial_rate),
        tile("denial_rate_dollars", "Initial denial rate (dollars)", denial.by_dollars, "pct", targets.denial_rate),
        tile("clean_claim_rate", "Clean claim rate", float("nan"), "pct"),
        tile("credit_balances", "Credit balances", values["credit_balances"], "money"),
    ]
    by_payer = aging(claims, as_of, group_by="payer", payers=payers)
    history = month_end_history(claims, postings, remittances, as_of, months)
    roll = rollforward(claims, postings, remittances, as_of, months)

    denied = period_first[period_first.denied].assign(category=lambda f: f.category.fillna(codes.UNKNOWN[1]))
    by_category = denied.groupby("category").agg(claims=("claim_id", "size"), dollars=("charge", "sum"))
    by_category = by_category.reindex([c for c in codes.CATEGORIES if c in by_category.index]).reset_index()
    remitted_by_payer = period_first.groupby("payer_id").agg(remitted=("claim_id", "size"))
    by_payer_denied = denied.groupby("payer_id").agg(denied=("claim_id", "size"), dollars=("charge", "sum"))
    denials_by_payer = remitted_by_payer.join(by_payer_denied, how="left").fillna(0).astype("int64").reset_index()
    adj_reasons = denied.dropna(subset=["reason_code"])
    top = adj_reasons.groupby(["group_code", "reason_code"]).agg(claims=("claim_id", "size"),
                                                                 dollars=("charge", "sum")).reset_index()
    top = top.sort_values(["claims", "dollars"], ascending=False, kind="stable").head(10)
    labels, cats, actions = codes.describe(top.reason_code) if len(top) else ([], [], [])
    top = top.assign(label=list(labels), category=list(cats), action=list(actions))
    month = pd.to_datetime(period_first._date).dt.to_period("M")
    trend = period_first.assign(month=month).groupby("month").agg(remitted=("claim_id", "size"),
                                                                  denied=("denied", "sum")).reset_index()
    trend["month"] = trend.month.dt.to_timestamp().dt.date
    exceptions = result.exceptions
    at_risk = int(exceptions[exceptions.kind.isin(kinds.codes_in("denial"))].expected.fillna(0).sum())

    scorecard = _scorecard(claims, payers, first[in_period.to_numpy()], by_payer, exceptions, as_of)
    work = result.worklist().head(worklist_size).copy()
    if phi:  # for internal use: the patient next to each claim
        if "patient_name" in claims.columns:
            work["patient_name"] = claims.set_index("claim_id").patient_name.reindex(work.claim_id).to_numpy()
    else:
        work = privacy.deidentify(work, key or privacy.load_key())
    period = (start, as_of)
    notes = []
    if snapshots is None or snapshots.empty:
        notes.append("No earlier report in the store: changes appear from the next report on.")
    names = dict(zip(payers.payer_id, payers.name, strict=True)) if payers is not None and len(payers) else {}
    return ReportData(practice, as_of, period, tiles, by_payer, history,
                      snapshots if snapshots is not None else pd.DataFrame(), roll, by_category, denials_by_payer,
                      top, trend, at_risk, scorecard, work, phi, notes, names)


def _previous(snapshots: pd.DataFrame | None, as_of: dt.date) -> dict[str, float]:
    if snapshots is None or snapshots.empty:
        return {}
    earlier = snapshots[snapshots.as_of < as_of]
    if earlier.empty:
        return {}
    row = earlier.iloc[-1].to_dict()
    return {k: v for k, v in row.items() if k != "as_of" and v is not None}


def _scorecard(claims: pd.DataFrame, payers: pd.DataFrame, first: pd.DataFrame, by_payer: Aging,
               exceptions: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per payer: days to pay, denial rate, underpayments, open A/R and its share over 90 days."""
    paid = first[first.status_code.astype(str).isin(["1", "2", "3"]) & first.days_to_pay.notna()]
    out = pd.DataFrame(index=pd.Index(sorted(set(claims.payer_id.dropna())), name="payer_id"))
    names = payers.set_index("payer_id").name if payers is not None and len(payers) else pd.Series(dtype=str)
    out["payer"] = names.reindex(out.index).fillna(pd.Series(out.index, index=out.index))
    out["avg_days_to_pay"] = paid.groupby("payer_id").days_to_pay.mean().reindex(out.index)
    remitted = first.groupby("payer_id").size().reindex(out.index).fillna(0)
    denied = first[first.denied].groupby("payer_id").size().reindex(out.index).fillna(0)
    out["claims_remitted"] = remitted.astype("int64")
    out["claims_denied"] = denied.astype("int64")
    under = exceptions[exceptions.kind == "underpaid"]
    out["underpaid_claims"] = under.groupby("payer_id").size().reindex(out.index).fillna(0).astype("int64")
    out["underpaid_dollars"] = (-under.groupby("payer_id").variance.sum()).reindex(out.index).fillna(0).astype("int64")
    table = by_payer.table.set_index("group")
    out["open_ar"] = table.total.reindex(out.index).fillna(0).astype("int64")
    over = table[["91-120", "121+"]].sum(axis=1) if {"91-120", "121+"} <= set(table.columns) else table.total * 0
    out["ar_over_90"] = over.reindex(out.index).fillna(0).astype("int64")
    return out.reset_index()
