"""Aging of open balances into day buckets, by payer, payer class, responsibility or not at all.

Days are counted from a basis date to the as-of date: the date of service (default, the KPI
convention of HFMA and MGMA), the billed date, or the last activity date (the work-queue view).
Buckets are given by their edges: `(0, 30, 60, 90, 120)` means 0-30, 31-60, 61-90, 91-120, 121+.

The buckets hold billed A/R: the positive open parts (`xl_ar.balances`) of claims with a date of
service on or before the as-of date, billed by then. Nothing is dropped or netted; the rest is on
rows of its own: billed A/R with no usable basis date ("Not aged"), unbilled A/R ("Unbilled"), the
A/R they add up to ("A/R", the same figure as `kpi.total_ar`), balances with a date of service after
the as-of date or none (not in A/R), credit balances (aged, never netted) and zero balances. A claim
owed by insurance and by the patient is split between the two when grouping by responsibility.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from xl_ar import balances
from xl_ar.balances import Reads
from xl_ar.errors import AgingError

DEFAULT_EDGES: tuple[int, ...] = (0, 30, 60, 90, 120)
BASES = ("service_date", "billed_date", "last_activity_date")
GROUPS = ("payer", "payer_class", "responsibility", "none")
GROUP_COLUMN = {"payer": "payer_id", "payer_class": "payer_class", "responsibility": "responsibility"}

Basis = Literal["service_date", "billed_date", "last_activity_date"]
GroupBy = Literal["payer", "payer_class", "responsibility", "none"]

def bucket_edges(edges: Sequence[float] | None) -> tuple[int, ...]:
    """Validated bucket edges: whole days, increasing, starting at 0 (0 is added when missing)."""
    if edges is None or len(edges) == 0:
        return DEFAULT_EDGES
    values = []
    for e in edges:
        if e is None or (isinstance(e, float) and np.isnan(e)):
            continue
        if float(e) != int(e) or e < 0:
            raise AgingError(f"bucket edges must be whole numbers of days >= 0 (got {e})")
        values.append(int(e))
    if not values:
        return DEFAULT_EDGES
    if values[0] != 0:
        values.insert(0, 0)
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise AgingError(f"bucket edges must increase: {', '.join(str(v) for v in values)}")
    return tuple(values)


def bucket_labels(edges: Sequence[int]) -> list[str]:
    """`(0, 30, 60)` -> `['0-30', '31-60', '61+']`."""
    labels = [f"{0 if i == 0 else edges[i] + 1}-{edges[i + 1]}" for i in range(len(edges) - 1)]
    return [*labels, f"{edges[-1] + 1}+"] if len(edges) > 1 else [f"{edges[0]}+"]


def days_old(dates: pd.Series | np.ndarray, as_of: dt.date) -> np.ndarray:
    """Whole days from each date to `as_of` (float, NaN where the date is missing)."""
    d = np.asarray(pd.to_datetime(dates).to_numpy(), dtype="datetime64[D]")
    days = (np.datetime64(as_of, "D") - d).astype("timedelta64[D]").astype("float64")
    days[np.isnat(d)] = np.nan
    return days


def buckets_of(days: np.ndarray, edges: Sequence[int]) -> np.ndarray:
    """Bucket index of each age in days (0 = first bucket); ages must be >= 0."""
    return np.searchsorted(np.asarray(edges[1:], dtype="float64"), days, side="left")


TOTAL, NOT_AGED, UNBILLED, AR = "Total", "Not aged (in A/R)", "Unbilled (in A/R)", "A/R"
FUTURE, NO_SERVICE_DATE = "Future-dated (not in A/R)", "No date of service (not in A/R)"
CREDIT, ZERO = "Credit balances", "Zero balance"
EXTRA_ROWS = (TOTAL, NOT_AGED, UNBILLED, AR, FUTURE, NO_SERVICE_DATE, CREDIT, ZERO)
"""The rows under the groups, in order. `Total`: the buckets' sums (billed A/R with a basis date);
`Not aged`: billed A/R with no basis date on or before the as-of date; `Unbilled`: A/R not billed by
the as-of date; `A/R` = Total + Not aged + Unbilled (always shown); then balances not in A/R, credit
balances and zero balances. Each row but Total and A/R is shown only when it has claims."""


@dataclass(frozen=True)
class Aging:
    """An aging table and what did not go into its buckets.

    `table` has one row per group with `group`, `claims`, one column per bucket (cents), `total`
    (cents) and `pct_over_90` (share of the total more than 90 days old, 0-1, NaN when the total
    is 0). `extra` has the rows of `EXTRA_ROWS` (buckets only on Total and Credit balances;
    `claims` counts each claim once per row).
    """

    table: pd.DataFrame
    extra: pd.DataFrame
    edges: tuple[int, ...]
    basis: str
    group_by: str
    as_of: dt.date

    @property
    def labels(self) -> list[str]:
        return bucket_labels(self.edges)

    @property
    def ar(self) -> int:
        """A/R in cents: the `A/R` row (= `kpi.total_ar` for the same claims and as-of date)."""
        return int(self.extra.set_index("group").loc[AR, "total"])

    def rows(self) -> pd.DataFrame:
        """Group rows then the extra rows, as one frame (what a report or a spilled formula shows)."""
        return pd.concat([self.table, self.extra], ignore_index=True)


def reads(group_by: str = "none", basis: str = "service_date", payers: pd.DataFrame | None = None) -> Reads:
    """The claims columns `aging` reads: the basis date and the balance, the group column when grouping;
    the date of service (A/R or not), billed date (unbilled) and split balance when the table has them."""
    _check(group_by, basis)
    required = [basis, "balance"]
    if group_by == "payer_class" and payers is not None:
        required.append("payer_id")
    elif group_by in GROUP_COLUMN:
        required.append(GROUP_COLUMN[group_by])
    optional = [c for c in ("service_date", "billed_date", "payer_class") if c not in required]
    return Reads(tuple(required)) | Reads((), tuple(optional)) | Reads((), balances.READS.optional)


def aging(claims: pd.DataFrame, as_of: dt.date, group_by: str = "none", basis: str = "service_date",
          edges: Sequence[float] | None = None, payers: pd.DataFrame | None = None) -> Aging:
    """Age the open balances of `claims` (the columns of `reads`) as of `as_of`.

    `group_by` is payer, payer_class (from a `payer_class` column or the `payers` table),
    responsibility (each claim's insurance and patient parts on their own rows), or none. Amounts
    are integer cents. Without a `service_date` column every balance is taken as A/R.
    """
    _check(group_by, basis)
    edges = bucket_edges(edges)
    labels = bucket_labels(edges)
    nb = len(labels)
    n = len(claims)

    # one unit per claim and sign (or per claim and party when grouping by responsibility): a claim
    # owed by insurance and by the patient, or open and in credit at once, is never netted
    if group_by == "responsibility":
        parts = balances.open_parts(claims)
        row, amount = parts["row"].to_numpy(), parts["amount"].to_numpy(dtype=np.int64)
        if "responsibility" not in claims.columns and not any(balances.known(claims, c) for c in balances.SPLIT):
            raise AgingError("grouping by responsibility needs a 'responsibility' column")
        codes, names = pd.factorize(parts["responsibility"], sort=True, use_na_sentinel=True)
    else:
        open_, credit_ = balances.open_and_credit(claims)
        pos, neg = np.flatnonzero(open_ > 0), np.flatnonzero(credit_ < 0)
        row = np.concatenate([pos, neg])
        amount = np.concatenate([open_[pos], credit_[neg]]).astype(np.int64)
        codes, names = pd.factorize(_groups(claims, group_by, payers), sort=True, use_na_sentinel=True)
        codes = codes[row]
    codes = np.where(codes < 0, len(names), codes)  # units with no group value get their own row
    names = [*map(str, names), "(none)"] if (codes == len(names)).any() else list(map(str, names))
    ng = max(len(names), 1)

    days = days_old(claims[basis], as_of)[row]
    if balances.known(claims, "service_date") or basis == "service_date":
        service = pd.to_datetime(claims["service_date"]).to_numpy()[row]
        has_service = ~np.isnat(service)
        in_ar = balances.on_or_before(claims["service_date"], as_of)[row]
    else:  # no dates of service to tell: every balance is taken as A/R
        has_service = in_ar = np.ones(len(row), dtype=bool)
    billed = balances.billed_by(claims, as_of)[row]
    has_days = ~np.isnan(days) & (days >= 0)
    positive, credit = amount > 0, amount < 0
    aged = positive & in_ar & billed & has_days
    bucket = np.where(has_days, buckets_of(np.where(has_days, days, 0), edges), 0)

    # one pass per figure over all units (weights zeroed where a unit does not count): cheaper
    # than selecting the rows first
    weights = np.where(aged, amount, 0)
    cells = _sum(codes * nb + bucket, weights, ng * nb).reshape(ng, nb)[:len(names)]
    counts = np.bincount(codes, weights=aged, minlength=ng).astype(np.int64)[:len(names)]
    over_90 = _sum(codes, np.where(days > 90, weights, 0), ng)[:len(names)]
    table = pd.DataFrame(cells, columns=labels)
    table.insert(0, "group", names)
    table.insert(1, "claims", counts)
    table["total"] = cells.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["pct_over_90"] = np.where(table.total > 0, over_90 / table.total.to_numpy(), np.nan)
    if group_by == "none":
        table = pd.DataFrame([_row("All claims", _claims(row, aged, n), cells.sum(axis=0), labels,
                                   int(over_90.sum()))], columns=table.columns)
    else:
        table = table[table.claims > 0].reset_index(drop=True)

    extra = [_row(TOTAL, _claims(row, aged, n), cells.sum(axis=0), labels, int(over_90.sum()))]
    not_aged = positive & in_ar & billed & ~has_days
    unbilled = positive & in_ar & ~billed
    for label, mask in ((NOT_AGED, not_aged), (UNBILLED, unbilled)):
        if mask.any():
            extra.append(_row(label, _claims(row, mask, n), None, labels, None, total=int(amount[mask].sum())))
    in_ar_mask = aged | not_aged | unbilled
    extra.append(_row(AR, _claims(row, in_ar_mask, n), None, labels, None, total=int(amount[in_ar_mask].sum())))
    for label, mask in ((FUTURE, positive & has_service & ~in_ar), (NO_SERVICE_DATE, positive & ~has_service)):
        if mask.any():
            extra.append(_row(label, _claims(row, mask, n), None, labels, None, total=int(amount[mask].sum())))
    if credit.any():
        take_c = credit & has_days
        row_c = _row(CREDIT, _claims(row, credit, n), _sum(bucket[take_c], amount[take_c], nb), labels, None)
        row_c["total"] = int(amount[credit].sum())  # includes undated and future-dated credits
        extra.append(row_c)
    zero = n - int(np.count_nonzero(np.bincount(row, minlength=n))) if n else 0
    if zero:
        extra.append(_row(ZERO, zero, None, labels, None, total=0))
    return Aging(table, pd.DataFrame(extra, columns=table.columns), edges, basis, group_by, as_of)


def _check(group_by: str, basis: str) -> None:
    if basis not in BASES:
        raise AgingError(f"basis must be one of {', '.join(BASES)} (got '{basis}')")
    if group_by not in GROUPS:
        raise AgingError(f"group_by must be one of {', '.join(GROUPS)} (got '{group_by}')")


def _claims(row: np.ndarray, mask: np.ndarray, n: int) -> int:
    """How many distinct claims the selected units belong to."""
    return int(np.count_nonzero(np.bincount(row[mask], minlength=n))) if mask.any() else 0


def _groups(claims: pd.DataFrame, group_by: str, payers: pd.DataFrame | None) -> pd.Series:
    if group_by == "none":
        return pd.Series("All claims", index=claims.index)
    column = GROUP_COLUMN[group_by]
    if column in claims.columns and claims[column].notna().any():
        return claims[column]
    if group_by == "payer_class" and payers is not None and "payer_id" in claims.columns:
        return claims["payer_id"].map(dict(zip(payers.payer_id, payers.payer_class, strict=True)))
    raise AgingError(f"grouping by {group_by} needs a '{column}' column"
                     + (" or a payers table" if group_by == "payer_class" else ""))


def _sum(index: np.ndarray, cents: np.ndarray, n: int) -> np.ndarray:
    """Exact sums of cents per index, in int64 whatever the totals (sorted by index, then summed per run)."""
    out = np.zeros(n, dtype=np.int64)
    if len(index) == 0:
        return out
    order = np.argsort(index, kind="stable")
    keys = np.asarray(index)[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    out[keys[starts]] = np.add.reduceat(np.asarray(cents, dtype=np.int64)[order], starts)
    return out


def _row(name: str, claims: int, cells, labels: list[str], over_90: int | None, total: int | None = None) -> dict:
    row: dict = {"group": name, "claims": claims}
    for i, label in enumerate(labels):
        row[label] = int(cells[i]) if cells is not None else np.nan
    row["total"] = int(np.sum(cells)) if cells is not None and total is None else total
    row["pct_over_90"] = (over_90 / row["total"]) if over_90 is not None and row["total"] else np.nan
    return row


def bucket_label_of(dates: pd.Series | np.ndarray, as_of: dt.date, edges: Sequence[float] | None = None) -> list[str]:
    """The bucket label of each date (`'31-60'`), `'future'` after the as-of date, `''` when missing."""
    edges = bucket_edges(edges)
    labels = np.array(bucket_labels(edges), dtype=object)
    days = days_old(dates, as_of)
    dated = ~np.isnan(days)
    out = np.where(dated & (days >= 0), labels[buckets_of(np.where(dated & (days >= 0), days, 0), edges)], "")
    out = np.where(dated & (days < 0), "future", out)
    return out.tolist()
