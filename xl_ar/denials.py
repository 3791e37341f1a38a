"""Denials and underpayments: expected allowed amounts, payer deadlines, and the worklist order.

- Expected allowed = the payer's contracted rate for the procedure (and modifier) x units, from
  the `fee_schedule`, with an optional multiple-procedure reduction.
- Deadlines: timely filing counts from the date of service, appeals from the remittance date,
  per payer (`payers`), else the payer class default; refunds are due within `REFUND_DAYS`.
- Priority of an exception = dollars at stake x recoverability of its kind (`xl_ar.kinds`) or of
  its denial category (here) x urgency of its deadline. The top of the worklist is what a
  specialist should do first today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

TIMELY_FILING_DAYS = {"medicare": 365, "medicaid": 180, "commercial": 90, "other": 90}
"""Default days from the date of service to file a claim, by payer class (Medicare: 12 months)."""
APPEAL_DAYS = {"medicare": 120, "medicaid": 90, "commercial": 180, "other": 180}
"""Default days from the remittance date to appeal, by payer class (Medicare redetermination: 120)."""
REFUND_DAYS = 60
"""Days to return an identified overpayment or credit balance (the 60-day rule for Medicare)."""

CATEGORY_RECOVERABILITY: dict[str, float] = {
    "missing_information": 0.85, "coding": 0.8, "coordination_of_benefits": 0.7, "eligibility": 0.5,
    "medical_necessity": 0.45, "authorization": 0.4, "bundling": 0.3, "duplicate": 0.1, "timely_filing": 0.1,
    "patient_responsibility": 0.5, "contractual": 0.0,
}
"""Share of a denial's dollars that working it brings in, by denial category (the other kinds of
exception carry their own in `xl_ar.kinds`)."""
DEFAULT_RECOVERABILITY = 0.5
"""Recoverability of a denial whose category is unknown."""


def urgency(days_left: np.ndarray) -> np.ndarray:
    """Weight of a deadline: 2 within 14 days, 1.5 within 30, 1 within 90, 0.8 beyond or none,
    0.2 once passed (little can be done then). NaN (no deadline) counts as 1."""
    d = np.asarray(days_left, dtype="float64")
    out = np.select([d < 0, d <= 14, d <= 30, d <= 90], [0.2, 2.0, 1.5, 1.0], default=0.8)
    return np.where(np.isnan(d), 1.0, out)


def priority(dollars_cents: np.ndarray, recoverability: np.ndarray, days_left: np.ndarray) -> np.ndarray:
    """Priority score in dollars: |dollars at stake| x recoverability x urgency."""
    return np.abs(np.asarray(dollars_cents, dtype="float64")) / 100 * np.asarray(recoverability) * urgency(days_left)


def payer_terms(payers: pd.DataFrame) -> pd.DataFrame:
    """Per payer: class, timely filing days and appeal days (the payer's own, else its class default)."""
    if payers is None or payers.empty:
        return pd.DataFrame(columns=["payer_class", "timely_filing_days", "appeal_days"])
    out = payers.set_index("payer_id")[["payer_class"]].copy()
    tf = payers.set_index("payer_id")["timely_filing_days"] if "timely_filing_days" in payers else None
    ap = payers.set_index("payer_id")["appeal_days"] if "appeal_days" in payers else None
    out["timely_filing_days"] = (tf if tf is not None else pd.Series(index=out.index, dtype="Float64")).astype(
        "Float64").fillna(out.payer_class.map(TIMELY_FILING_DAYS).astype("Float64"))
    out["appeal_days"] = (ap if ap is not None else pd.Series(index=out.index, dtype="Float64")).astype(
        "Float64").fillna(out.payer_class.map(APPEAL_DAYS).astype("Float64"))
    return out


def deadline(payer_ids: pd.Series, dates: pd.Series, kind: str, payers: pd.DataFrame | None) -> pd.Series:
    """The deadline of each row: `timely_filing` (date of service + the payer's filing limit),
    `appeal` (remittance date + its appeal limit), NaT where the payer has no limit; or `refund`
    (the date + `REFUND_DAYS`, whoever the payer)."""
    if kind == "refund":
        return pd.to_datetime(dates) + pd.Timedelta(days=REFUND_DAYS)
    terms = payer_terms(payers)
    column = {"timely_filing": "timely_filing_days", "appeal": "appeal_days"}.get(kind)
    if column is None:
        raise ValueError("kind must be timely_filing, appeal or refund")
    days = payer_ids.map(terms[column]).astype("Float64")
    return pd.to_datetime(dates) + pd.to_timedelta(days.astype("float64"), unit="D")


def days_left(deadlines: pd.Series, as_of: dt.date) -> np.ndarray:
    """Days from the as-of date to each deadline (negative once passed, NaN when none)."""
    d = pd.to_datetime(deadlines).to_numpy(dtype="datetime64[D]")
    out = (d - np.datetime64(as_of, "D")).astype("timedelta64[D]").astype("float64")
    out[np.isnat(d)] = np.nan
    return out


def fee_lookup(fee_schedule: pd.DataFrame, payer_ids: pd.Series, codes: pd.Series,
               modifiers: pd.Series) -> np.ndarray:
    """The contracted rate per unit (cents, NaN when none) of each line: the rate for the first of
    its modifiers that has one, else the base rate (no modifier).

    Keys are turned into integers against the fee schedule's own values (categorical codes), so
    the lookup is one integer hash per line.
    """
    fs = fee_schedule.assign(modifier=fee_schedule["modifier"].fillna(""))
    payers = pd.Index(fs["payer_id"].astype("str").unique())
    procs = pd.Index(fs["procedure_code"].astype("str").unique())
    mods = pd.Index(fs["modifier"].astype("str").unique())
    n_proc, n_mod = len(procs) + 1, len(mods) + 1

    def key(p: np.ndarray, c: np.ndarray, m: np.ndarray) -> np.ndarray:
        return (p.astype(np.int64) * n_proc + c) * n_mod + m

    rates = pd.Series(fs["allowed"].to_numpy(dtype="float64"), index=key(
        payers.get_indexer(fs["payer_id"].astype("str")), procs.get_indexer(fs["procedure_code"].astype("str")),
        mods.get_indexer(fs["modifier"].astype("str"))))
    rates = rates[~rates.index.duplicated(keep="first")]
    p = payers.get_indexer(payer_ids.astype("str"))
    c = procs.get_indexer(codes.astype("str"))
    known = (p >= 0) & (c >= 0)
    result = np.full(len(c), np.nan)
    split = modifiers.fillna("").astype("str").str.split(":", expand=True)
    for k in range(split.shape[1]):  # the first modifier with a rate wins
        text = split[k].fillna("").astype("str")
        m = mods.get_indexer(text)
        has = known & (m >= 0) & (text != "").to_numpy() & np.isnan(result)
        if has.any():
            result[has] = rates.reindex(key(p[has], c[has], m[has])).to_numpy()
    base = known & np.isnan(result)
    empty = mods.get_indexer([""])[0]
    if base.any() and empty >= 0:
        result[base] = rates.reindex(key(p[base], c[base], np.full(base.sum(), empty))).to_numpy()
    return result


def expected_allowed(lines: pd.DataFrame, fee_schedule: pd.DataFrame, mpr: Sequence[float] | None = None,
                     ) -> np.ndarray:
    """Expected allowed amount of each line (cents, NaN when the fee schedule has no rate).

    `lines` has payer_id, procedure_code, modifiers, units and (for `mpr`) claim_id. With a
    multiple-procedure reduction such as `(1.0, 0.5)`, the lines of a claim that carry modifier 51
    are ranked by rate and the second and later are paid at 50%.
    """
    rate = fee_lookup(fee_schedule, lines["payer_id"], lines["procedure_code"], lines["modifiers"])
    expected = np.round(rate * lines["units"].astype("float64").fillna(1).to_numpy())
    if mpr:
        has51 = lines["modifiers"].fillna("").str.split(":").map(lambda m: "51" in m).to_numpy()
        frame = pd.DataFrame({"claim": lines["claim_id"].to_numpy(), "e": np.where(has51, expected, -1.0)})
        rank = frame.groupby("claim")["e"].rank(method="first", ascending=False).to_numpy().astype(int) - 1
        factors = np.asarray(mpr, dtype="float64")
        factor = np.where(has51, factors[np.minimum(rank, len(factors) - 1)], 1.0)
        expected = np.round(expected * factor)
    return expected
