"""Who owes what: a claim's open balance in its insurance and patient parts, kept apart, never netted.

A PM export may split a claim's balance (`insurance_balance`, `patient_balance`: its Ins Bal and
Pat Bal). Each non-zero part is owed by its own party: insurance 100.00 and patient -50.00 is
100.00 open with insurance and a 50.00 credit owed back to the patient, not 50.00 of A/R. Without
the split, the whole `balance` is owed by the claim's `responsibility`. When only one part is given
on a row, the other is `balance` minus it.

The one A/R of xl-ar (`totals`): A/R = the positive parts of the claims with a date of service on
or before the as-of date, billed or not. Shown on rows of their own: the unbilled part of A/R (no
billed date on or before the as-of date), future-dated balances (service after the as-of date, not
in A/R), balances with no date of service (not in A/R) and credit balances (the negative parts of
every claim, as a positive amount owed back).

Which columns a computation reads is declared next to it as `Reads` (required, optional), so an
Excel function asks only for those and a core function reads nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

SPLIT = ("insurance_balance", "patient_balance")
"""The columns of a split balance, in the order of `PARTIES`."""
PARTIES = ("insurance", "patient")


class Reads(NamedTuple):
    """The columns of one table a computation reads: those it cannot do without, and those it uses
    when the table has them (an optional column missing, or empty in every row, is unknown)."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def __or__(self, other: tuple) -> Reads:
        """Both computations' columns (required by either is required); a plain tuple is required columns."""
        other = other if isinstance(other, Reads) else Reads(tuple(other))
        required = tuple(dict.fromkeys((*self.required, *other.required)))
        optional = tuple(c for c in dict.fromkeys((*self.optional, *other.optional)) if c not in required)
        return Reads(required, optional)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column read, required first, each once."""
        return tuple(dict.fromkeys((*self.required, *self.optional)))


READS = Reads(("balance",), (*SPLIT, "responsibility"))
"""What `open_parts` reads: the balance, its split when the export has one, and who owes an unsplit one."""
AR_READS = READS | Reads(("service_date",), ("billed_date",))
"""What `totals` reads: the parts, the date of service (A/R or future-dated) and the billed date (unbilled)."""


def known(frame: pd.DataFrame, column: str) -> bool:
    """The frame has the column with a value in at least one row (a column empty everywhere is unknown)."""
    return column in frame.columns and bool(frame[column].notna().any())


def _party_amounts(claims: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per claim: the insurance part, the patient part and the unsplit part (cents; 0 where none)."""
    balance = claims["balance"].to_numpy(dtype=np.int64)
    zero = np.zeros(len(claims), dtype=np.int64)
    if not any(known(claims, c) for c in SPLIT):
        return zero, zero.copy(), balance
    values, given = [], []
    for column in SPLIT:
        if column in claims.columns:
            series = claims[column]
            given.append(series.notna().to_numpy())
            values.append(series.fillna(0).to_numpy(dtype=np.int64))
        else:
            given.append(np.zeros(len(claims), dtype=bool))
            values.append(zero)
    ins_given, pat_given = given
    ins = np.where(ins_given, values[0], np.where(pat_given, balance - values[1], 0))
    pat = np.where(pat_given, values[1], np.where(ins_given, balance - values[0], 0))
    whole = np.where(ins_given | pat_given, 0, balance)
    return ins, pat, whole


def open_and_credit(claims: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per claim (aligned with `claims`): the sum of its positive parts (open, cents >= 0) and the sum of
    its negative parts (credit, cents <= 0). Insurance 100 and patient -50 -> (100, -50)."""
    parts = np.stack(_party_amounts(claims)) if len(claims) else np.zeros((3, 0), dtype=np.int64)
    return np.where(parts > 0, parts, 0).sum(axis=0), np.where(parts < 0, parts, 0).sum(axis=0)


def open_parts(claims: pd.DataFrame) -> pd.DataFrame:
    """The open parts of every claim: one row per non-zero part, in claim order.

    Columns: `row` (position of the claim in `claims`), `claim_id` (when the table has it),
    `responsibility` (insurance or patient; for an unsplit balance the claim's `responsibility`,
    missing when the table has none) and `amount` (cents; negative is a credit owed back).
    """
    ins, pat, whole = _party_amounts(claims)
    positions = np.arange(len(claims))
    if "responsibility" in claims.columns:
        own = claims["responsibility"].astype("object").to_numpy()
    else:
        own = np.full(len(claims), None, dtype=object)
    rows, parties, amounts = [], [], []
    for party, amount in (("insurance", ins), ("patient", pat), (None, whole)):
        take = amount != 0
        rows.append(positions[take])
        parties.append(own[take] if party is None else np.full(int(take.sum()), party, dtype=object))
        amounts.append(amount[take])
    row = np.concatenate(rows)
    order = np.argsort(row, kind="stable")
    out = pd.DataFrame({"row": row[order]})
    if "claim_id" in claims.columns:
        out["claim_id"] = claims["claim_id"].to_numpy()[out["row"].to_numpy()]
    out["responsibility"] = pd.array(np.concatenate(parties)[order], dtype="str")
    out["amount"] = np.concatenate(amounts)[order].astype(np.int64)
    return out


def on_or_before(dates: pd.Series, as_of: dt.date) -> np.ndarray:
    """Dates on or before the as-of date (False where missing)."""
    d = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
    return ~np.isnat(d) & (d <= np.datetime64(as_of, "D"))


def billed_by(claims: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    """Claims billed on or before the as-of date. Without billed dates (no `billed_date` column, or
    one empty in every row) billing is unknown and every claim is taken as billed."""
    if not known(claims, "billed_date"):
        return np.ones(len(claims), dtype=bool)
    return on_or_before(claims["billed_date"], as_of)


@dataclass(frozen=True)
class Totals:
    """The balances of a claims table as of a date, in cents: A/R and what is shown beside it."""

    ar: int
    """A/R: positive parts of claims with a date of service on or before the as-of date, billed or not."""
    unbilled: int
    """Of A/R, the positive parts of claims not billed by the as-of date (shown on their own row)."""
    future_dated: int
    """Positive parts of claims with a date of service after the as-of date: not in A/R."""
    no_service_date: int
    """Positive parts of claims with no date of service: not in A/R."""
    credit: int
    """Credit balances: -(negative parts of every claim), an amount owed back (>= 0)."""

    @property
    def billed(self) -> int:
        """Billed A/R: A/R - unbilled (the base of % of A/R over 90 days)."""
        return self.ar - self.unbilled


def totals(claims: pd.DataFrame, as_of: dt.date) -> Totals:
    """A/R, its unbilled part, future-dated and undated balances, and credit balances as of `as_of`."""
    open_, credit = open_and_credit(claims)
    service = pd.to_datetime(claims["service_date"]).to_numpy().astype("datetime64[D]")
    dated = ~np.isnat(service)
    in_ar = on_or_before(claims["service_date"], as_of)
    unbilled = in_ar & ~billed_by(claims, as_of)
    return Totals(ar=int(open_[in_ar].sum()), unbilled=int(open_[unbilled].sum()),
                  future_dated=int(open_[dated & ~in_ar].sum()), no_service_date=int(open_[~dated].sum()),
                  credit=int(-credit.sum()))
