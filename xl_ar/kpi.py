"""Revenue-cycle KPIs with their industry definitions (HFMA MAP Keys, MGMA).

Every function takes canonical tables and returns plain numbers (ratios 0-1, days, cents). The
formula and its source are in each docstring. Windows are closed date ranges `[start, end]`.

Cohort convention: the claims export is a ledger (cumulative payments and adjustments per claim),
so collection rates are computed for the claims whose date of service falls in the window, from
what has been paid and adjusted on them by the export date. Choose a window old enough for its
claims to be worked (the default in `kpis` ends 90 days before the as-of date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.aging import days_old
from xl_ar.errors import KpiError

DENIED_STATUS = "4"
"""CLP02 = 4: the claim was denied."""
REVERSAL_STATUS = "22"
"""CLP02 = 22: reversal of a previous payment."""


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


def total_ar(claims: pd.DataFrame) -> int:
    """Gross A/R in cents: the sum of positive balances (credit balances are not netted)."""
    b = claims["balance"].to_numpy(dtype=np.int64)
    return int(b[b > 0].sum())


def credit_balances(claims: pd.DataFrame) -> int:
    """Credit balances in cents, as a positive amount owed back: -sum(negative balances)."""
    b = claims["balance"].to_numpy(dtype=np.int64)
    return int(-b[b < 0].sum())


def credit_balance_pct(claims: pd.DataFrame) -> float:
    """Credit balances as a share of A/R = credit balances / A/R excluding credit balances."""
    ar = total_ar(claims)
    return credit_balances(claims) / ar if ar else float("nan")


def days_in_ar(claims: pd.DataFrame, as_of: dt.date, lookback_months: int = 3) -> float:
    """Days in A/R = A/R excluding credit balances / average daily gross charges.

    Average daily gross charges = charges with a date of service in the `lookback_months`
    calendar months ending on the as-of date, divided by the days in that period.
    Source: MGMA, "Days in A/R" (HFMA MAP Key AR-2 uses net revenue; practices use gross charges).
    """
    if lookback_months < 1:
        raise KpiError("the look-back must be at least one month")
    start = months_before(as_of, lookback_months)
    days = (as_of - start).days
    in_period = _in_window(claims["service_date"], start + dt.timedelta(days=1), as_of)
    charges = int(claims["charge"].to_numpy(dtype=np.int64)[in_period].sum())
    if charges == 0:
        return float("nan")
    return total_ar(claims) / (charges / days)


def pct_ar_over(claims: pd.DataFrame, as_of: dt.date, days: int = 90) -> float:
    """Share of billed A/R older than `days` days from the date of service.

    = positive balances of billed claims with service date more than `days` days before the
    as-of date / positive balances of all billed claims. Source: HFMA MAP Key AR-1, "Aged A/R as
    a percentage of billed A/R" (90 days; 120 is reported too).
    """
    one = pct_ar_over_by(claims, as_of, days, pd.Series("all", index=claims.index))
    return float(one.pct.iloc[0]) if len(one) else float("nan")


def pct_ar_over_by(claims: pd.DataFrame, as_of: dt.date, days: int, by: pd.Series) -> pd.DataFrame:
    """`pct_ar_over` per group (`by` aligned with `claims`): group, billed A/R, A/R over, share."""
    billed = claims["billed_date"].notna().to_numpy()
    b = claims["balance"].to_numpy(dtype=np.int64)
    open_ = billed & (b > 0)
    over = open_ & (days_old(claims["service_date"], as_of) > days)
    frame = pd.DataFrame({"group": by.to_numpy(), "billed_ar": np.where(open_, b, 0), "ar_over": np.where(over, b, 0)})
    out = frame.groupby("group", sort=True, dropna=False)[["billed_ar", "ar_over"]].sum().reset_index()
    out = out[out.billed_ar > 0].reset_index(drop=True)
    out["pct"] = out.ar_over / out.billed_ar
    return out


def net_collection_rate(claims: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """Net collection rate = payments / (charges - contractual adjustments), for claims with a
    date of service in `[start, end]`.

    Contractual adjustments = `adjusted` - `written_off`: denial and bad-debt write-offs are not
    taken out of the denominator (they are lost revenue). When the export does not separate
    write-offs, all of `adjusted` is taken as contractual. Source: MGMA, "Adjusted (net)
    collection rate"; HFMA MAP Key "Cash collection as a % of net revenue".
    """
    _check_window(start, end)
    m = _in_window(claims["service_date"], start, end)
    paid = int(claims["paid"].to_numpy(dtype=np.int64)[m].sum())
    contractual = claims["adjusted"].to_numpy(dtype=np.int64)[m].sum()
    if "written_off" in claims.columns:
        contractual -= claims["written_off"].fillna(0).to_numpy(dtype=np.int64)[m].sum()
    net = int(claims["charge"].to_numpy(dtype=np.int64)[m].sum()) - int(contractual)
    return paid / net if net else float("nan")


def gross_collection_rate(claims: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """Gross collection rate = payments / gross charges, for claims with a date of service in
    `[start, end]`. Source: MGMA, "Gross collection rate"."""
    _check_window(start, end)
    m = _in_window(claims["service_date"], start, end)
    charges = int(claims["charge"].to_numpy(dtype=np.int64)[m].sum())
    return int(claims["paid"].to_numpy(dtype=np.int64)[m].sum()) / charges if charges else float("nan")


@dataclass(frozen=True)
class DenialRate:
    """Initial denial rate on both bases, with the counts behind it."""

    claims_remitted: int
    claims_denied: int
    dollars_remitted: int
    dollars_denied: int

    @property
    def by_count(self) -> float:
        return self.claims_denied / self.claims_remitted if self.claims_remitted else float("nan")

    @property
    def by_dollars(self) -> float:
        return self.dollars_denied / self.dollars_remitted if self.dollars_remitted else float("nan")


def first_remittances(claim_payments: pd.DataFrame, dates: pd.Series) -> pd.DataFrame:
    """The first adjudication of each claim: its earliest CLP loop that is not a reversal, by
    remittance date (`dates`, aligned with `claim_payments`), then payment and loop order."""
    frame = claim_payments.assign(_date=pd.to_datetime(dates).to_numpy())
    frame = frame[frame["status_code"].astype(str) != REVERSAL_STATUS]
    frame = frame.sort_values(["claim_id", "_date", "payment_id", "claim_seq"], kind="stable")
    return frame.drop_duplicates("claim_id", keep="first")


def initial_denial_rate(claim_payments: pd.DataFrame, start: dt.date, end: dt.date,
                        dates: pd.Series | None = None) -> DenialRate:
    """Initial denial rate: claims denied on their first adjudication / claims adjudicated, for
    first adjudications dated in `[start, end]`; by count and by dollars (billed charges).

    A claim is denied when CLP02 = 4. Dates are the remittance dates (`dates`, e.g. BPR16 of the
    payment) or, when not given, the claim's `payment_date` column, else its service date.
    Source: HFMA MAP Key "Initial denial rate" (claim integrity), count and dollar bases.
    """
    _check_window(start, end)
    if dates is None:
        dates = claim_payments["payment_date"] if "payment_date" in claim_payments else claim_payments["service_date"]
    first = first_remittances(claim_payments, dates)
    first = first[_in_window(first["_date"], start, end)]
    denied = first["status_code"].astype(str).to_numpy() == DENIED_STATUS
    charge = first["charge"].to_numpy(dtype=np.int64)
    return DenialRate(len(first), int(denied.sum()), int(charge.sum()), int(charge[denied].sum()))


def first_pass_resolution_rate(claim_payments: pd.DataFrame, start: dt.date, end: dt.date,
                               dates: pd.Series | None = None) -> float:
    """First-pass resolution rate = claims paid on their first adjudication and never adjudicated
    again / claims first adjudicated in `[start, end]`.

    Paid = CLP02 1, 2 or 3 with a payment above zero; "again" = a later CLP loop for the claim
    (a reversal, a correction or a resubmission). Source: MGMA / HFMA "first-pass resolution rate";
    the clean claim rate needs clearinghouse acceptance data (277CA) and is not computed here.
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


KPI_NAMES = {
    "total_ar": "A/R (excluding credit balances)",
    "days_in_ar": "Days in A/R",
    "pct_over_90": "% of billed A/R over 90 days",
    "pct_over_120": "% of billed A/R over 120 days",
    "net_collection_rate": "Net collection rate",
    "gross_collection_rate": "Gross collection rate",
    "credit_balances": "Credit balances",
    "credit_balance_pct": "Credit balances as % of A/R",
}
"""The KPIs `kpis` returns, with the labels shown to people."""


def kpi_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The collection-rate window used by `kpis`: twelve months of dates of service ending 90 days
    before the as-of date (a cohort old enough to have been worked)."""
    end = as_of - dt.timedelta(days=90)
    return months_before(end, 12) + dt.timedelta(days=1), end


def kpis(claims: pd.DataFrame, as_of: dt.date, lookback_months: int = 3) -> dict[str, float | int]:
    """Every KPI computable from the claims ledger, keyed as `KPI_NAMES` (cents for amounts)."""
    start, end = kpi_window(as_of)
    return {
        "total_ar": total_ar(claims),
        "days_in_ar": days_in_ar(claims, as_of, lookback_months),
        "pct_over_90": pct_ar_over(claims, as_of, 90),
        "pct_over_120": pct_ar_over(claims, as_of, 120),
        "net_collection_rate": net_collection_rate(claims, start, end),
        "gross_collection_rate": gross_collection_rate(claims, start, end),
        "credit_balances": credit_balances(claims),
        "credit_balance_pct": credit_balance_pct(claims),
    }
