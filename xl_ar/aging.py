"""Aging of open balances into day buckets, by payer, payer class, responsibility or not at all.

Days are counted from a basis date to the as-of date: the date of service (default, the KPI
convention of HFMA and MGMA), the billed date, or the last activity date (the work-queue view).
Buckets are given by their edges: `(0, 30, 60, 90, 120)` means 0-30, 31-60, 61-90, 91-120, 121+.

Nothing is dropped silently. Positive balances with a usable date fill the buckets; credit
balances (negative) are aged on their own row, never netted; balances dated after the as-of date,
balances with no basis date, and zero balances are counted on rows of their own.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from xl_ar.errors import AgingError

DEFAULT_EDGES: tuple[int, ...] = (0, 30, 60, 90, 120)
BASES = ("service_date", "billed_date", "last_activity_date")
GROUPS = ("payer", "payer_class", "responsibility", "none")
GROUP_COLUMN = {"payer": "payer_id", "payer_class": "payer_class", "responsibility": "responsibility"}

Basis = Literal["service_date", "billed_date", "last_activity_date"]
GroupBy = Literal["payer", "payer_class", "responsibility", "none"]

_EXACT_LIMIT = 2**53
"""Sums of cents are done with float64 bincount, exact while every total stays below 2**53 cents."""


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


@dataclass(frozen=True)
class Aging:
    """An aging table and what did not go into its buckets.

    `table` has one row per group with `group`, `claims`, one column per bucket (cents), `total`
    (cents) and `pct_over_90` (share of the total more than 90 days old, 0-1, NaN when the total
    is 0). Then `extra` rows: `Total`, `Credit balances` (aged, negative cents), `Future date`,
    `No date` and `Zero balance` (counts), each present only when it has claims.
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

    def rows(self) -> pd.DataFrame:
        """Group rows then the extra rows, as one frame (what a report or a spilled formula shows)."""
        return pd.concat([self.table, self.extra], ignore_index=True)


def aging(claims: pd.DataFrame, as_of: dt.date, group_by: str = "none", basis: str = "service_date",
          edges: Sequence[float] | None = None, payers: pd.DataFrame | None = None) -> Aging:
    """Age the open balances of `claims` (canonical claims table) as of `as_of`.

    `group_by` is payer, payer_class (from a `payer_class` column or the `payers` table),
    responsibility, or none. Amounts are integer cents.
    """
    if basis not in BASES:
        raise AgingError(f"basis must be one of {', '.join(BASES)} (got '{basis}')")
    if group_by not in GROUPS:
        raise AgingError(f"group_by must be one of {', '.join(GROUPS)} (got '{group_by}')")
    edges = bucket_edges(edges)
    labels = bucket_labels(edges)
    nb = len(labels)

    balance = claims["balance"].to_numpy(dtype=np.int64)
    days = days_old(claims[basis], as_of)
    groups = _groups(claims, group_by, payers)
    codes, names = pd.factorize(groups, sort=True, use_na_sentinel=True)
    codes = np.where(codes < 0, len(names), codes)  # claims with no group value get their own row
    names = [*map(str, names), "(none)"] if (codes == len(names)).any() else list(map(str, names))
    ng = len(names)

    dated = ~np.isnan(days)
    future = dated & (days < 0)
    aged = dated & ~future
    positive = balance > 0
    credit = balance < 0
    zero = balance == 0
    bucket = np.where(aged, buckets_of(np.where(aged, days, 0), edges), 0)

    take = aged & positive
    # one pass per figure over all claims (weights zeroed where a claim does not count): cheaper
    # than selecting the rows first
    weights = np.where(take, balance, 0)
    cells = _sum(codes * nb + bucket, weights, ng * nb).reshape(ng, nb)
    counts = np.bincount(codes, weights=take, minlength=ng).astype(np.int64)
    over_90 = _sum(codes, np.where(days > 90, weights, 0), ng)
    table = pd.DataFrame(cells, columns=labels)
    table.insert(0, "group", names)
    table.insert(1, "claims", counts)
    table["total"] = cells.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["pct_over_90"] = np.where(table.total > 0, over_90 / table.total.to_numpy(), np.nan)
    table = table[table.claims > 0].reset_index(drop=True) if group_by != "none" else table
    if group_by == "none":
        table["group"] = "All claims"

    extra = []
    total_cells = cells.sum(axis=0)
    total = int(total_cells.sum())
    total_over = int(over_90.sum())
    extra.append(_row("Total", int(take.sum()), total_cells, labels, total_over))
    if (credit & aged).any() or (credit & ~aged).any():
        take_c = credit & aged
        c_cells = _sum(bucket[take_c], balance[take_c], nb)
        row = _row("Credit balances", int(credit.sum()), c_cells, labels, None)
        row["total"] = int(balance[credit].sum())  # includes undated / future-dated credits
        extra.append(row)
    for label, mask in (("Future date", future & positive), ("No date", ~dated & positive)):
        if mask.any():
            extra.append(_row(label, int(mask.sum()), None, labels, None, total=int(balance[mask].sum())))
    if zero.any():
        extra.append(_row("Zero balance", int(zero.sum()), None, labels, None, total=0))
    assert total < _EXACT_LIMIT, "A/R total beyond exact float summation"
    return Aging(table, pd.DataFrame(extra, columns=table.columns), edges, basis, group_by, as_of)


def _groups(claims: pd.DataFrame, group_by: str, payers: pd.DataFrame | None) -> pd.Series:
    if group_by == "none":
        return pd.Series("All claims", index=claims.index)
    column = GROUP_COLUMN[group_by]
    if column in claims.columns and claims[column].notna().any():
        return claims[column]
    if group_by == "payer_class" and payers is not None:
        return claims["payer_id"].map(dict(zip(payers.payer_id, payers.payer_class, strict=True)))
    raise AgingError(f"grouping by {group_by} needs a '{column}' column"
                     + (" or a payers table" if group_by == "payer_class" else ""))


def _sum(index: np.ndarray, cents: np.ndarray, n: int) -> np.ndarray:
    """Exact sums of cents per index (float64 bincount; exact below 2**53 cents)."""
    return np.rint(np.bincount(index, weights=cents.astype(np.float64), minlength=n)).astype(np.int64)


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
