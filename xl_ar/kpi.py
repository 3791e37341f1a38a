"""Revenue-cycle KPIs with their published definitions (HFMA MAP Keys, MGMA), one figure per name.

Every function takes canonical tables and returns numbers (ratios 0-1, days, cents) or a small
result object when a caveat must travel with the figure. The formula and its source are in each
docstring; the columns each reads are in `READS`. Windows are closed date ranges `[start, end]`.

A/R is the one of `xl_ar.balances.totals`: the positive open parts (insurance and patient apart) of
claims with a date of service on or before the as-of date, billed or not; future-dated balances and
credit balances are not in it and are reported beside it.

Cohort convention: the claims export is a ledger (cumulative payments and adjustments per claim),
so collection rates are computed for the claims whose date of service falls in the window, from
what has been paid and adjusted on them by the export date. Choose a window old enough for its
claims to be worked (the default in `kpis` ends 90 days before the as-of date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar import balances, codes
from xl_ar.aging import days_old
from xl_ar.balances import Reads
from xl_ar.errors import KpiError

DENIED_STATUS = "4"
"""CLP02 = 4: the claim was denied."""
REVERSAL_STATUS = "22"
"""CLP02 = 22: reversal of a previous payment."""
ADJUDICATED_STATUSES = ("1", "2", "3", "19", "20", "21")
"""CLP02 values of a processed claim (primary, secondary, tertiary, each possibly forwarded): denied
in full when nothing is paid and every line carries a denial."""
DENIAL_GROUPS = ("CO", "PI", "OA")
"""Adjustment groups whose denial reasons are the payer's denial (PR is the patient's to pay)."""


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(day.day, last))


def _in_window(dates: pd.Series, start: dt.date, end: dt.date) -> np.ndarray:
    d = pd.to_datetime(dates)
    return ((d >= pd.Timestamp(start)) & (d <= pd.Timestamp(end))).to_numpy()


def _check_window(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise KpiError(f"the window ends ({end}) before it starts ({start})")


# -- A/R ---------------------------------------------------------------------------------------------

def total_ar(claims: pd.DataFrame, as_of: dt.date) -> int:
    """A/R in cents: the positive open parts of claims with a date of service on or before the as-of
    date, billed or not (credit balances and future-dated balances are not in it, `balances.totals`)."""
    return balances.totals(claims, as_of).ar


def credit_balances(claims: pd.DataFrame) -> int:
    """Credit balances in cents, as a positive amount owed back: -(the negative open parts of every
    claim); a patient credit is counted even when insurance still owes on the same claim."""
    return int(-balances.open_and_credit(claims)[1].sum())


def credit_balance_pct(claims: pd.DataFrame, as_of: dt.date) -> float:
    """Credit balances as a share of A/R = credit balances / A/R (which excludes them)."""
    t = balances.totals(claims, as_of)
    return t.credit / t.ar if t.ar else float("nan")


def days_in_ar(claims: pd.DataFrame, as_of: dt.date, lookback_months: int = 3) -> float:
    """Days in A/R = A/R / average daily gross charges.

    Average daily gross charges = charges with a date of service in the `lookback_months`
    calendar months ending on the as-of date, divided by the days in that period.
    Source: MGMA, "Days in A/R" (gross-charge basis).
    """
    if lookback_months < 1:
        raise KpiError("the look-back must be at least one month")
    start = months_before(as_of, lookback_months)
    days = (as_of - start).days
    in_period = _in_window(claims["service_date"], start + dt.timedelta(days=1), as_of)
    charges = int(claims["charge"].to_numpy(dtype=np.int64)[in_period].sum())
    if charges == 0:
        return float("nan")
    return total_ar(claims, as_of) / (charges / days)


def pct_ar_over(claims: pd.DataFrame, as_of: dt.date, days: int = 90) -> float:
    """Share of billed A/R older than `days` days from the date of service.

    = billed A/R with a date of service more than `days` days before the as-of date / billed A/R,
    where billed A/R is A/R (`total_ar`) of claims billed on or before the as-of date. Source: HFMA
    MAP Key AR-1, "Aged A/R as a percentage of billed A/R" (90 days; 120 is reported too).
    """
    one = pct_ar_over_by(claims, as_of, days, pd.Series("all", index=claims.index))
    return float(one.pct.iloc[0]) if len(one) else float("nan")


def pct_ar_over_by(claims: pd.DataFrame, as_of: dt.date, days: int, by: pd.Series) -> pd.DataFrame:
    """`pct_ar_over` per group (`by` aligned with `claims`): group, billed A/R, A/R over, share."""
    open_, _ = balances.open_and_credit(claims)
    billed = balances.on_or_before(claims["service_date"], as_of) & balances.billed_by(claims, as_of)
    counted = np.where(billed, open_, 0)
    over = np.where(days_old(claims["service_date"], as_of) > days, counted, 0)
    frame = pd.DataFrame({"group": by.to_numpy(), "billed_ar": counted, "ar_over": over})
    out = frame.groupby("group", sort=True, dropna=False)[["billed_ar", "ar_over"]].sum().reset_index()
    out = out[out.billed_ar > 0].reset_index(drop=True)
    out["pct"] = out.ar_over / out.billed_ar
    return out


# -- collection rates --------------------------------------------------------------------------------

NCR_BASES = {
    "written_off": "contractual adjustments = adjustments - write-offs, from the export",
    "remittances": "the export shows no write-offs: contractual adjustments are those the 835s show for the "
                   "claims (contractual reason codes, not PR, each payment once)",
    "all_adjustments": "upper bound: the export shows no write-offs, so every adjustment was taken as "
                       "contractual (write-offs would lower the rate)",
}
"""Where the contractual adjustments of a net collection rate come from, best first, with the note shown."""


@dataclass(frozen=True)
class CollectionRate:
    """A net collection rate with the amounts behind it and where its contractual adjustments come from."""

    payments: int
    charges: int
    contractual: int
    basis: str
    """A key of `NCR_BASES`."""

    @property
    def rate(self) -> float:
        """payments / (charges - contractual adjustments); NaN when the denominator is not positive."""
        net = self.charges - self.contractual
        return self.payments / net if net > 0 else float("nan")

    @property
    def upper_bound(self) -> bool:
        """Write-offs are unknown and were counted as contractual: the true rate is lower or equal."""
        return self.basis == "all_adjustments"

    @property
    def note(self) -> str:
        return NCR_BASES[self.basis]


def contractual_adjustments(remittances: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Contractual adjustments on the 835s: CAS amounts whose reason is in the contractual category
    (any group but PR, which is the patient's; CARC 23, a prior payer's share, is not contractual),
    per claim and remittance date (NaT without a payments table); each payment counted once."""
    tabs = _counted_once(remittances)
    adj = tabs["adjustments"]
    if adj.empty:
        return pd.DataFrame({"claim_id": pd.Series(dtype="str"), "date": pd.Series(dtype="datetime64[us]"),
                             "amount": pd.Series(dtype="int64")})
    category, _ = codes.categorize(adj.group_code, adj.reason_code)
    adj = adj[category == "contractual"]
    if "payments" in tabs:
        adj = adj.merge(tabs["payments"][["payment_id", "payment_date"]], on="payment_id", how="left")
    else:
        adj = adj.assign(payment_date=pd.NaT)
    out = adj.groupby(["claim_id", "payment_date"], dropna=False).amount.sum().reset_index()
    return out.rename(columns={"payment_date": "date"}).astype({"amount": "int64"})


def net_collection_rate(claims: pd.DataFrame, start: dt.date, end: dt.date,
                        remittances: Mapping[str, pd.DataFrame] | None = None) -> CollectionRate:
    """Net collection rate = payments / (charges - contractual adjustments), for claims with a date
    of service in `[start, end]`. Source: MGMA, "Adjusted (net) collection rate".

    Write-offs (bad debt, denials, small balances) stay in the denominator: they are lost revenue.
    Contractual adjustments are `adjusted - written_off` when the export has a write-off column (an
    empty cell in it is no write-off); else the contractual adjustments the 835s (`remittances`, when
    they adjust any claim of the window) show for each claim, up to the claim's `adjusted` (a
    secondary repeating the primary's CO-45 is not a second adjustment; a claim no 835 adjusts has
    none); else all of `adjusted`, and the result says it is an upper bound.
    """
    _check_window(start, end)
    m = _in_window(claims["service_date"], start, end)
    paid = int(claims["paid"].to_numpy(dtype=np.int64)[m].sum())
    charges = int(claims["charge"].to_numpy(dtype=np.int64)[m].sum())
    adjusted = int(claims["adjusted"].to_numpy(dtype=np.int64)[m].sum())
    if balances.known(claims, "written_off"):
        written_off = int(claims["written_off"].fillna(0).to_numpy(dtype=np.int64)[m].sum())
        return CollectionRate(paid, charges, adjusted - written_off, "written_off")
    if remittances is not None and "adjustments" in remittances:
        if "claim_id" not in claims.columns:
            raise KpiError("matching the 835 adjustments to the claims needs a 'claim_id' column")
        ids = claims["claim_id"].to_numpy()[m]
        if remittances["adjustments"]["claim_id"].isin(ids).any():
            by_claim = contractual_adjustments(remittances).groupby("claim_id").amount.sum()
            found = by_claim.reindex(ids).fillna(0).to_numpy(dtype=np.int64)
            posted = np.clip(claims["adjusted"].to_numpy(dtype=np.int64)[m], 0, None)
            return CollectionRate(paid, charges, int(np.clip(found, 0, posted).sum()), "remittances")
    return CollectionRate(paid, charges, adjusted, "all_adjustments")


def gross_collection_rate(claims: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """Gross collection rate = payments / gross charges, for claims with a date of service in
    `[start, end]`. Source: MGMA, "Gross collection rate"."""
    _check_window(start, end)
    m = _in_window(claims["service_date"], start, end)
    charges = int(claims["charge"].to_numpy(dtype=np.int64)[m].sum())
    return int(claims["paid"].to_numpy(dtype=np.int64)[m].sum()) / charges if charges else float("nan")


# -- denials -----------------------------------------------------------------------------------------

def _counted_once(remittances: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The remittance tables with the later copies of a payment taken out (same payer, trace number and
    amount; `xl_ar.remittances`). Without a payments table (e.g. sheets of a store that refused copies
    on import) the tables are taken as they are."""
    from xl_ar.remittances import counted_once

    tabs = dict(remittances)
    payments = tabs.get("payments")
    if payments is None or payments.empty:
        return tabs
    return counted_once(tabs)


def first_remittances(claim_payments: pd.DataFrame, dates: pd.Series) -> pd.DataFrame:
    """The first adjudication of each claim: its earliest CLP loop that is not a reversal, by
    remittance date (`dates`, aligned with `claim_payments`), then payment and loop order."""
    frame = claim_payments.assign(_date=pd.to_datetime(dates).to_numpy())
    frame = frame[frame["status_code"].astype(str) != REVERSAL_STATUS]
    frame = frame.sort_values(["claim_id", "_date", "payment_id", "claim_seq"], kind="stable")
    return frame.drop_duplicates("claim_id", keep="first")


def denied_in_full(loops: pd.DataFrame, adjustments: pd.DataFrame,
                   line_payments: pd.DataFrame | None = None) -> np.ndarray:
    """Which CLP loops (rows of `loops`, claim_payments columns) deny the claim in full.

    Denied in full: CLP02 = 4, whatever else; or CLP02 in 1, 2, 3, 19, 20, 21 with nothing paid
    (CLP04 = 0) on a charge above zero and every service line carrying a denial: an adjustment in
    group CO, PI or OA whose CARC is in a denial category (`codes.DENIAL_CATEGORIES`). A line carries
    its own adjustments; a line with none of its own (seen in `line_payments`), and a loop with no
    lines at all, carries the claim-level ones. Lines with no charge do not count.
    """
    status = loops["status_code"].astype(str).to_numpy()
    charge = loops["charge"].to_numpy(dtype=np.int64)
    paid = loops["paid"].to_numpy(dtype=np.int64)
    full = status == DENIED_STATUS
    candidate = np.isin(status, ADJUDICATED_STATUSES) & (paid == 0) & (charge > 0)
    if not candidate.any() or adjustments.empty:
        return full
    # only the loops that paid nothing can be denied in full: look at their claims' rows only
    paying = loops["payment_id"].to_numpy()[candidate]
    claims = loops["claim_id"].to_numpy()[candidate] if "claim_id" in loops.columns else None

    def of_candidates(frame: pd.DataFrame) -> pd.DataFrame:
        keep = frame["payment_id"].isin(paying).to_numpy().copy()
        if claims is not None and "claim_id" in frame.columns:
            keep &= frame["claim_id"].isin(claims).to_numpy()
        return frame[keep]

    adjustments = of_candidates(adjustments)
    if line_payments is not None:
        line_payments = of_candidates(line_payments)
    line_seq = adjustments["line_seq"] if "line_seq" in adjustments.columns else pd.Series(
        pd.NA, index=adjustments.index, dtype="Int64")
    category, _ = codes.categorize(adjustments["group_code"], adjustments["reason_code"])
    adj = pd.DataFrame({
        "loop": _loop_key(adjustments), "line": line_seq.astype("Int64").to_numpy(),
        "denial": np.isin(adjustments["group_code"].astype(str).to_numpy(), DENIAL_GROUPS)
        & np.isin(category, list(codes.DENIAL_CATEGORIES))})
    at_line = adj.line.notna().to_numpy()
    claim_denial = adj[~at_line].groupby("loop").denial.any()
    lines = adj[at_line].groupby(["loop", "line"]).denial.any().reset_index()
    n_lines = lines.groupby("loop").size()
    n_denied = lines.groupby("loop").denial.sum()
    n_bare = pd.Series(dtype="int64")
    if line_payments is not None and not line_payments.empty:
        charged = line_payments[line_payments["charge"].to_numpy(dtype=np.int64) > 0]
        own = pd.MultiIndex.from_frame(lines[["loop", "line"]])
        mine = pd.MultiIndex.from_arrays([_loop_key(charged), charged["line_seq"].astype("Int64").to_numpy()])
        n_bare = pd.Series(~mine.isin(own), index=mine.get_level_values(0)).groupby(level=0).sum()
    key = _loop_key(loops)

    def per_loop(series: pd.Series) -> np.ndarray:
        return series.reindex(key).fillna(0).to_numpy(dtype=np.int64)

    has_claim_denial = claim_denial.reindex(key).fillna(False).to_numpy(dtype=bool)
    lines_, denied_, bare_ = per_loop(n_lines), per_loop(n_denied), per_loop(n_bare)
    needs_claim_level = (lines_ == 0) | (bare_ > 0)
    return full | (candidate & (denied_ == lines_) & (~needs_claim_level | has_claim_denial))


def _loop_key(frame: pd.DataFrame) -> np.ndarray:
    """One text key per CLP loop: payment id and loop position."""
    return (frame["payment_id"].astype(str) + "\x1f" + frame["claim_seq"].astype(str)).to_numpy(dtype=object)


def first_adjudications(remittances: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The first adjudication of every remitted claim (its earliest CLP loop that is not a reversal,
    each payment counted once), with its remittance date `_date` and `denied_in_full`.

    Remittance dates come from the claim rows' `payment_date` when they have one, else from the
    payments table (BPR16)."""
    tabs = _counted_once(remittances)
    cp = tabs["claim_payments"]
    if "payment_date" not in cp.columns:
        cp = cp.merge(tabs["payments"][["payment_id", "payment_date"]], on="payment_id", how="left")
    first = first_remittances(cp, cp["payment_date"]).reset_index(drop=True)
    first["denied_in_full"] = denied_in_full(first, tabs.get("adjustments", pd.DataFrame(
        columns=["payment_id", "claim_seq", "line_seq", "group_code", "reason_code"])), tabs.get("line_payments"))
    return first


@dataclass(frozen=True)
class DenialRate:
    """Initial denial rate on both bases, with the counts behind it (amounts in cents)."""

    claims_billed: int
    claims_denied: int
    dollars_billed: int
    dollars_denied: int
    claims_adjudicated: int
    """Billed claims with a first adjudication so far; the others stay in the denominator."""

    @property
    def claims_not_adjudicated(self) -> int:
        return self.claims_billed - self.claims_adjudicated

    @property
    def by_count(self) -> float:
        return self.claims_denied / self.claims_billed if self.claims_billed else float("nan")

    @property
    def by_dollars(self) -> float:
        return self.dollars_denied / self.dollars_billed if self.dollars_billed else float("nan")


def initial_denials(claims: pd.DataFrame, remittances: Mapping[str, pd.DataFrame], start: dt.date,
                    end: dt.date) -> pd.DataFrame:
    """The claims billed in `[start, end]` (by `billed_date`) with their first adjudication, if any:
    the claims columns, then `adjudicated`, `denied` (denied in full on the first adjudication,
    `denied_in_full`) and the first loop's `payment_id`, `claim_seq`, `status_code` and `_date`."""
    _check_window(start, end)
    billed = claims[_in_window(claims["billed_date"], start, end)]
    first = first_adjudications(remittances)
    first = first[["claim_id", "payment_id", "claim_seq", "status_code", "_date", "denied_in_full"]]
    out = billed.reset_index(drop=True).merge(first, on="claim_id", how="left")
    out["adjudicated"] = out.payment_id.notna().to_numpy()
    out["denied"] = out.pop("denied_in_full").fillna(False).to_numpy(dtype=bool)
    return out


def initial_denial_rate(claims: pd.DataFrame, remittances: Mapping[str, pd.DataFrame], start: dt.date,
                        end: dt.date) -> DenialRate:
    """Initial denial rate = claims billed in `[start, end]` whose first adjudication denied them in
    full / claims billed in `[start, end]`; by count and by billed charges.

    Denied in full is `denied_in_full` (CLP02 = 4, or $0 paid with a denial on every line, whatever
    CLP02); the first adjudication is the claim's earliest CLP loop that is not a reversal, each
    payment counted once, whenever it came. Billed claims not adjudicated yet stay in the
    denominator (`claims_not_adjudicated` says how many). Source: HFMA MAP Key "Initial denial rate".
    """
    return denial_rate(initial_denials(claims, remittances, start, end))


def denial_rate(cohort: pd.DataFrame) -> DenialRate:
    """The `DenialRate` of a cohort of billed claims from `initial_denials` (charge, adjudicated, denied)."""
    charge = cohort["charge"].to_numpy(dtype=np.int64)
    denied = cohort["denied"].to_numpy(dtype=bool)
    return DenialRate(len(cohort), int(denied.sum()), int(charge.sum()), int(charge[denied].sum()),
                      int(cohort["adjudicated"].sum()))


def first_pass_resolution_rate(claim_payments: pd.DataFrame, start: dt.date, end: dt.date,
                               dates: pd.Series | None = None) -> float:
    """First-pass resolution rate = claims paid on their first adjudication and never adjudicated
    again / claims first adjudicated in `[start, end]`.

    Paid = CLP02 1, 2 or 3 with a payment above zero; "again" = a later CLP loop for the claim
    (a reversal, a correction or a resubmission). Source: MGMA / HFMA "first-pass resolution rate";
    the clean claim rate (scrubber and 277CA) is `clean_claim_rate`.
    """
    _check_window(start, end)
    if dates is None:
        dates = claim_payments["payment_date"] if "payment_date" in claim_payments else claim_payments["service_date"]
    first = first_remittances(claim_payments, dates)
    first = first[_in_window(first["_date"], start, end)]
    if first.empty:
        return float("nan")
    loops = claim_payments.groupby("claim_id").size()
    paid = first["status_code"].astype(str).isin(["1", "2", "3"]).to_numpy() & (
        first["paid"].to_numpy(dtype=np.int64) > 0)
    once = loops.reindex(first["claim_id"]).to_numpy() == 1
    return float((paid & once).sum() / len(first))


@dataclass(frozen=True)
class CleanClaimRate:
    """The clean claim rate with its parts (`clean_claim_rate`)."""

    claims: int
    """Claims scrubbed (the denominator)."""
    held: int
    """Claims the scrubber held back: at least one error finding (they need a person before they go)."""
    rejected: int
    """Claims that passed the scrubber and were rejected by the clearinghouse or the payer (999 / 277CA)."""

    @property
    def clean(self) -> int:
        """Claims that went out and were accepted with no manual intervention."""
        return self.claims - self.held - self.rejected

    @property
    def rate(self) -> float:
        return self.clean / self.claims if self.claims else float("nan")


def clean_claim_rate(claims: pd.DataFrame, scrub_findings: pd.DataFrame,
                     claim_status: pd.DataFrame | None = None) -> CleanClaimRate:
    """Clean claim rate = claims that pass the edits with no manual intervention / claims scrubbed for billing
    (HFMA MAP Key "clean claim rate").

    `claims` are the claims scrubbed (the cohort: e.g. those billed in a month, self-pay left out), `scrub_findings`
    the scrubber's result on them (`xl_ar.scrub.scrub`): a claim with an error finding needed a person. Of the
    others, a claim whose first acknowledgement in `claim_status` (999 / 277CA / 277, by status date) rejected it
    (`claim_status.REJECTED_CATEGORIES`) was not clean either; a claim never acknowledged counts as clean (no
    evidence against it)."""
    from xl_ar.claim_status import REJECTED_CATEGORIES

    ids = claims["claim_id"].astype(object)
    held = ids.isin(scrub_findings.loc[scrub_findings["severity"] == "error", "claim_id"]).to_numpy()
    rejected = np.zeros(len(ids), dtype=bool)
    if claim_status is not None and len(claim_status):
        rows = claim_status[claim_status["claim_id"].notna() & claim_status["category_code"].notna()]
        rows = rows.assign(_order=np.arange(len(rows))).sort_values(["claim_id", "status_date", "_order"],
                                                                     kind="stable", na_position="last")
        first = rows.drop_duplicates("claim_id", keep="first").set_index("claim_id")["category_code"]
        rejected = first.reindex(ids).isin(REJECTED_CATEGORIES).to_numpy() & ~held
    return CleanClaimRate(len(ids), int(held.sum()), int(rejected.sum()))


# -- every KPI of the ledger -------------------------------------------------------------------------

KPI_NAMES = {
    "total_ar": "A/R (excluding credit balances)",
    "unbilled_ar": "of which unbilled",
    "future_dated": "Future-dated balances (not in A/R)",
    "days_in_ar": "Days in A/R",
    "pct_over_90": "% of billed A/R over 90 days",
    "pct_over_120": "% of billed A/R over 120 days",
    "net_collection_rate": "Net collection rate",
    "gross_collection_rate": "Gross collection rate",
    "credit_balances": "Credit balances",
    "credit_balance_pct": "Credit balances as % of A/R",
}
"""The KPIs `kpis` returns, with the labels shown to people."""
MONEY_KPIS = frozenset({"total_ar", "unbilled_ar", "future_dated", "credit_balances"})
"""The KPIs in cents."""

DEFINITIONS = {
    "total_ar": "positive open balances (insurance and patient parts apart) of claims with a date of service on or "
                "before the as-of date, billed or not; credit balances and future-dated balances are not in it",
    "unbilled_ar": "the part of A/R on claims not billed by the as-of date",
    "future_dated": "positive balances of claims with a date of service after the as-of date",
    "days_in_ar": "A/R / average daily gross charges (charges by date of service over the look-back months, "
                  "3 by default, / the days in them) (MGMA)",
    "pct_over_90": "billed A/R more than 90 days from the date of service / billed A/R (HFMA MAP Key AR-1)",
    "pct_over_120": "billed A/R more than 120 days from the date of service / billed A/R (HFMA MAP Key AR-1)",
    "net_collection_rate": "payments / (charges - contractual adjustments) of the claims with a date of service in "
                           "the 12 months ending 90 days before the as-of date (MGMA adjusted collection rate)",
    "gross_collection_rate": "payments / gross charges of the same claims (MGMA)",
    "credit_balances": "negative open balances (insurance and patient parts apart), as an amount owed back",
    "credit_balance_pct": "credit balances / A/R",
    "overturn_rate": "appeals won or partially won / appeals resolved (won, partially won or lost; withdrawn and "
                     "open appeals are not resolved), appeals filed in the period (HFMA MAP Keys' denial "
                     "management: overturned denials / denials appealed and decided)",
    "days_denial_to_appeal": "average of filed date - denial date (the remittance date of the adjudication "
                             "appealed) over the appeals filed in the period",
    "days_appeal_to_resolution": "average of resolved date (the payment date of the 835 that decided it) - filed "
                                 "date over the appeals resolved",
    "dollars_recovered": "sum over the resolved appeals of what the adjudication that closed the appeal paid - what "
                         "the appealed adjudication paid (never below 0)",
    "denial_writeoff_pct": "denial write-offs / net revenue: CO, PI and OA adjustments with a denial-category "
                           "reason (xl_ar.codes.DENIAL_CATEGORIES) on the adjudications that stand, paid in the "
                           "period, of claims now closed with no balance / the payers' claim payments (CLP04) "
                           "dated in the period (HFMA MAP Key 'denial write-offs as a percentage of net patient "
                           "service revenue', with payments received standing in for net revenue)",
}
"""What each KPI of `kpis` is, with its source: shown beside the figure by the CLI and the report."""

_BALANCE_READS = Reads(("service_date",), ("billed_date", *balances.READS.columns))
READS: dict[str, Reads] = {
    "total_ar": _BALANCE_READS | Reads(("balance",)),
    "credit_balances": balances.READS,
    "days_in_ar": _BALANCE_READS | Reads(("balance", "charge")),
    "pct_ar_over": _BALANCE_READS | Reads(("balance",)),
    "net_collection_rate": Reads(("service_date", "charge", "paid", "adjusted"), ("written_off", "claim_id")),
    "gross_collection_rate": Reads(("service_date", "charge", "paid")),
    "initial_denial_rate": Reads(("claim_id", "billed_date", "charge")),
}
"""The claims columns each KPI reads (required, optional); `kpis` reads their union (`KPIS_READS`)."""
KPIS_READS = (READS["total_ar"] | READS["days_in_ar"] | READS["pct_ar_over"] | READS["net_collection_rate"]
              | READS["gross_collection_rate"])
REMITTANCE_READS: dict[str, Reads] = {
    "claim_payments": Reads(("payment_id", "claim_seq", "claim_id", "status_code", "charge", "paid"),
                            ("payment_date",)),
    "adjustments": Reads(("payment_id", "claim_seq", "group_code", "reason_code"), ("line_seq",)),
    "adjustments_contractual": Reads(("claim_id", "group_code", "reason_code", "amount")),
}
"""The remittance columns the initial denial rate reads (`payment_date` on the claim rows, or a payments
table), and the adjustments columns the net collection rate reads (`adjustments_contractual`)."""


@dataclass(frozen=True)
class Kpis(Mapping[str, float | int]):
    """Every KPI of `kpis` by key (`KPI_NAMES`; cents for amounts), with the notes that travel with a
    figure (`notes`: the net collection rate's basis, its caveat when it is an upper bound)."""

    figures: dict[str, float | int]
    net_collection: CollectionRate
    notes: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float | int:
        return self.figures[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.figures)

    def __len__(self) -> int:
        return len(self.figures)


def kpi_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The collection-rate window used by `kpis`: twelve months of dates of service ending 90 days
    before the as-of date (a cohort old enough to have been worked)."""
    end = as_of - dt.timedelta(days=90)
    return months_before(end, 12) + dt.timedelta(days=1), end


def kpis(claims: pd.DataFrame, as_of: dt.date, lookback_months: int = 3,
         remittances: Mapping[str, pd.DataFrame] | None = None) -> Kpis:
    """Every KPI computable from the claims ledger (and the 835s, for the net collection rate's
    contractual adjustments when the export shows no write-offs), keyed as `KPI_NAMES`."""
    start, end = kpi_window(as_of)
    t = balances.totals(claims, as_of)
    ncr = net_collection_rate(claims, start, end, remittances)
    values: dict[str, float | int] = {
        "total_ar": t.ar,
        "unbilled_ar": t.unbilled,
        "future_dated": t.future_dated,
        "days_in_ar": days_in_ar(claims, as_of, lookback_months),
        "pct_over_90": pct_ar_over(claims, as_of, 90),
        "pct_over_120": pct_ar_over(claims, as_of, 120),
        "net_collection_rate": ncr.rate,
        "gross_collection_rate": gross_collection_rate(claims, start, end),
        "credit_balances": t.credit,
        "credit_balance_pct": t.credit / t.ar if t.ar else float("nan"),
    }
    return Kpis(values, ncr, {"net_collection_rate": ncr.note})
