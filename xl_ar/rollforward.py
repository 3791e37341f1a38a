"""The monthly rollforward of the ledger's balance: beginning + charges - payments - adjustments - refunds = ending.

Dated flows come from the exports: charges at their date of service, payments and refunds at their
posting date (refunds and take-backs are the negative postings, shown as negative amounts),
adjustments at the remittance date of the contractual adjustments the 835s show for the claim
(`kpi.contractual_adjustments`: a prior payer's share, CARC 23, is not one), up to what the ledger
posted as the claim's adjustments (a secondary payer repeating the primary's contractual adjustment
is not a second one), the rest of the claim's adjustments (write-offs, manual adjustments) at its
last activity date. No claim's adjustments are ever dated twice or negative because of the 835s.

The balance rolled forward is the ledger's: the sum of the claims' balances, credit balances netted
(not A/R, which keeps credits apart, `balances.totals`). The last month's ending balance is also
taken from the ledger. The two agree when the postings export and the claims export tell the same
story; any difference is shown as unexplained, a finding for finance (e.g. payments posted to claims
but missing from the postings export).

The month's `cash_collection_ratio` = payments posted in the month / (charges - contractual
adjustments dated in the month) is a cash-basis ratio, not the net collection rate (a cohort figure,
`kpi.net_collection_rate`): above 100% means the month collected charges of earlier months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar import balances, kpi


def month_starts(as_of: dt.date, months: int) -> list[pd.Timestamp]:
    """The first days of the `months` calendar months ending with the as-of date's month."""
    last = pd.Timestamp(as_of.year, as_of.month, 1)
    return [last - pd.DateOffset(months=k) for k in range(months - 1, -1, -1)]


def contractual_by_claim_date(remittances: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Contractual adjustments on the 835s per claim and remittance date (`kpi.contractual_adjustments`)."""
    return kpi.contractual_adjustments(remittances)


def dated_contractual(claims: pd.DataFrame, remittances: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The ledger claims' contractual adjustments dated by the 835s (claim_id, date, amount), earliest
    first and up to the claim's posted adjustments (`adjusted`, at least 0): what the 835s show beyond
    it (a secondary's repeat of the primary's CO-45, an adjustment not posted yet) is not dated."""
    found = contractual_by_claim_date(remittances)
    found = found[found.claim_id.isin(claims.claim_id)].sort_values(["claim_id", "date"], kind="stable")
    posted = claims.set_index("claim_id").adjusted.reindex(found.claim_id).to_numpy(dtype=np.int64)
    amount = np.clip(found.amount.to_numpy(dtype=np.int64), 0, None)
    before = found.assign(_a=amount).groupby("claim_id", sort=False)._a.cumsum().to_numpy(dtype=np.int64) - amount
    room = np.clip(np.clip(posted, 0, None) - before, 0, None)
    return found.assign(amount=np.minimum(amount, room)).reset_index(drop=True)


@dataclass(frozen=True)
class Rollforward:
    """One row per month: beginning, charges, payments, adjustments, refunds, ending balance (cents),
    the contractual adjustments dated in the month, the month's cash collection ratio (see the module),
    and the unexplained difference (non-zero only in the last month, when the exports disagree)."""

    table: pd.DataFrame
    ledger_ar: int
    """The ledger's balance at the as-of date: the sum of the balances of the claims serviced by then
    (credit balances netted; future-dated claims are not in the rollforward)."""


def rollforward(claims: pd.DataFrame, postings: pd.DataFrame, remittances: dict[str, pd.DataFrame],
                as_of: dt.date, months: int = 12, contractual: pd.DataFrame | None = None) -> Rollforward:
    """The rollforward of the `months` months ending with the as-of date's month (`contractual`: the
    claims' `dated_contractual`, when the caller has it already)."""
    starts = month_starts(as_of, months)
    edges = [*starts, pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    # claims serviced after the as-of date have no charge in any month yet: not in the rollforward
    served = pd.to_datetime(claims.service_date)
    claims = claims[(served.notna() & (served <= pd.Timestamp(as_of))).to_numpy()]
    known = claims.claim_id

    charge_dates = claims.service_date
    pay = postings[postings.claim_id.isin(known)]
    contractual = dated_contractual(claims, remittances) if contractual is None else contractual
    contractual = contractual[contractual.claim_id.isin(known).to_numpy()]  # capped per claim: a subset is exact
    dated_total = contractual.groupby("claim_id").amount.sum()
    rest = claims.adjusted.to_numpy(dtype=np.int64) - dated_total.reindex(claims.claim_id).fillna(0).to_numpy(
        dtype=np.int64)
    rest_dates = claims.last_activity_date.fillna(claims.billed_date).fillna(claims.service_date)

    def bucket(dates: pd.Series, amounts: np.ndarray) -> tuple[int, np.ndarray]:
        """Amount before the window, and per month of the window."""
        d = pd.to_datetime(dates).to_numpy()
        idx = np.searchsorted(np.asarray(edges, dtype="datetime64[ns]"), d.astype("datetime64[ns]"), side="right")
        before = int(amounts[idx == 0].sum())
        inside = np.bincount(idx[(idx >= 1) & (idx <= months)] - 1, weights=amounts[(idx >= 1) & (idx <= months)]
                             .astype(np.float64), minlength=months)
        return before, np.rint(inside).astype(np.int64)

    charges_before, charges = bucket(charge_dates, claims.charge.to_numpy(dtype=np.int64))
    amounts = pay.amount.to_numpy(dtype=np.int64)
    pay_before, payments = bucket(pay.posted_date[amounts > 0], amounts[amounts > 0])
    ref_before, refunds = bucket(pay.posted_date[amounts < 0], amounts[amounts < 0])
    con_before, con = bucket(contractual.date, contractual.amount.to_numpy(dtype=np.int64))
    rest_before, other = bucket(rest_dates, rest)
    adjustments = con + other
    beginning = charges_before - pay_before - ref_before - con_before - rest_before
    rows = []
    for m in range(months):
        ending = beginning + charges[m] - payments[m] - adjustments[m] - refunds[m]
        net = charges[m] - con[m]
        rows.append({
            "month": starts[m].date(), "beginning": beginning, "charges": int(charges[m]),
            "payments": int(payments[m]), "adjustments": int(adjustments[m]), "refunds": int(refunds[m]),
            "ending": int(ending), "contractual": int(con[m]),
            "cash_collection_ratio": payments[m] / net if net > 0 else np.nan,
        })
        beginning = ending
    table = pd.DataFrame(rows)
    ledger_ar = int(claims.balance.to_numpy(dtype=np.int64).sum())
    table["unexplained"] = 0
    if len(table):
        table.loc[table.index[-1], "unexplained"] = ledger_ar - int(table.ending.iloc[-1])
    return Rollforward(table, ledger_ar)


def month_end_history(claims: pd.DataFrame, postings: pd.DataFrame, remittances: dict[str, pd.DataFrame],
                      as_of: dt.date, months: int = 12, contractual: pd.DataFrame | None = None) -> pd.DataFrame:
    """A/R at each month end of the window, rebuilt from the same dated flows as the rollforward
    (the last row is the as-of date itself): A/R excluding credits, credit balances, % of billed A/R
    over 90 days from service, and days in A/R (3-month look-back).

    Per claim: balance at a date = charge (once serviced) - payments and refunds posted by then -
    adjustments dated by then. Vectorised as a claims x months grid of cumulative flows. The last row
    is the ledger's own figures at the as-of date (`kpi`: insurance and patient parts apart, as the
    report's tiles), since the flows do not say who owes a balance.
    """
    ledger = claims
    claims = claims[claims.service_date.notna()].reset_index(drop=True)
    n = len(claims)
    starts = month_starts(as_of, months)
    ends = [s + pd.DateOffset(months=1) - pd.Timedelta(days=1) for s in starts]
    ends[-1] = pd.Timestamp(as_of)
    grid_edges = np.asarray([e + pd.Timedelta(days=1) for e in ends], dtype="datetime64[ns]")
    index = pd.Series(np.arange(n), index=claims.claim_id.to_numpy())

    def flows(claim_ids: pd.Series, dates: pd.Series, amounts: np.ndarray) -> np.ndarray:
        """claims x months matrix of the amounts dated up to each month end (cumulative)."""
        rows = index.reindex(claim_ids.to_numpy()).to_numpy()
        ok = ~np.isnan(rows)
        col = np.searchsorted(grid_edges, pd.to_datetime(dates).to_numpy().astype("datetime64[ns]")[ok], side="right")
        inside = col < months
        cells = rows[ok][inside].astype(np.int64) * months + col[inside]
        grid = np.bincount(cells, weights=amounts[ok][inside].astype(np.float64), minlength=n * months)
        return np.cumsum(np.rint(grid).astype(np.int64).reshape(n, months), axis=1)

    charges = flows(claims.claim_id, claims.service_date, claims.charge.to_numpy(dtype=np.int64))
    paid = flows(postings.claim_id, postings.posted_date, postings.amount.to_numpy(dtype=np.int64))
    contractual = dated_contractual(claims, remittances) if contractual is None else contractual
    contractual = contractual[contractual.claim_id.isin(claims.claim_id).to_numpy()]
    dated = flows(contractual.claim_id, contractual.date, contractual.amount.to_numpy(dtype=np.int64))
    dated_total = contractual.groupby("claim_id").amount.sum().reindex(claims.claim_id).fillna(0).to_numpy()
    rest = claims.adjusted.to_numpy(dtype=np.int64) - dated_total.astype(np.int64)
    rest_dates = claims.last_activity_date.fillna(claims.billed_date).fillna(claims.service_date)
    other = flows(claims.claim_id, rest_dates, rest)
    balance = charges - paid - dated - other

    service = claims.service_date.to_numpy().astype("datetime64[ns]")
    billed = claims.billed_date.to_numpy().astype("datetime64[ns]")
    rows = []
    for m, end in enumerate(ends):
        b = balance[:, m]
        end64 = np.datetime64(end, "ns")
        positive = b > 0
        is_billed = ~np.isnat(billed) & (billed <= end64)
        old = service < end64 - np.timedelta64(90, "D")
        billed_ar = int(b[positive & is_billed].sum())
        lookback = (service > np.datetime64(end - pd.DateOffset(months=3), "ns")) & (service <= end64)
        days = (end - (end - pd.DateOffset(months=3))).days
        charges_3m = int(claims.charge.to_numpy(dtype=np.int64)[lookback].sum())
        ar = int(b[positive].sum())
        rows.append({
            "month_end": end.date(), "ar": ar, "credit_balances": int(-b[b < 0].sum()),
            "pct_over_90": (int(b[positive & is_billed & old].sum()) / billed_ar) if billed_ar else np.nan,
            "days_in_ar": ar / (charges_3m / days) if charges_3m else np.nan,
        })
    if rows:
        t = balances.totals(ledger, as_of)
        rows[-1].update(ar=t.ar, credit_balances=t.credit, pct_over_90=kpi.pct_ar_over(ledger, as_of, 90),
                        days_in_ar=kpi.days_in_ar(ledger, as_of, 3))
    return pd.DataFrame(rows)
