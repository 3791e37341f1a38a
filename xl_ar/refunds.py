"""Refunds and credits: whose money a credit balance is, what is applied to the patient's other balances,
and by when the rest must go back (docs/refunds.md).

- Payer and patient credits are kept apart (`reconcile.credit_parts`, the one rule): a split balance says
  whose each part is; an unsplit negative balance belongs to whoever paid last (the self-pay payer's
  postings are the patient's). A patient credit waits while insurance still owes on the same claim.
- A patient credit is first applied to the same account's other open patient balances, oldest date of
  service first, when `Policy.apply_patient_credits`; only the rest is refunded. Never across accounts.
- Deadline: Medicare and Medicaid (payer class) `GOVERNMENT_REFUND_DAYS` (60) from identification; other
  payers and patients `Policy.refund_days`. Identification is the date the credit arose
  (`reconcile.credit_arose`: the posting that took the claim above what was owed, else the claim's last
  activity), else the as-of date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from xl_ar import balances, reconcile, tables
from xl_ar.denials import GOVERNMENT_CLASSES
from xl_ar.policy import GOVERNMENT_REFUND_DAYS, Policy


def payer_classes(claims: pd.DataFrame, payers: pd.DataFrame | None) -> pd.Series:
    """Each claim's payer class (aligned with `claims`): the export's own `payer_class`, else the payer's."""
    own = claims["payer_class"].astype(object) if "payer_class" in claims.columns else \
        pd.Series(None, index=claims.index, dtype=object)
    if payers is not None and len(payers):
        listed = payers.set_index("payer_id").payer_class.astype(object)
        own = own.where(own.notna(), claims.payer_id.map(listed))
    return own


def _patient_credits(claims: pd.DataFrame, credits: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The patient credits (account, service date, amount > 0) in the order they are applied, and the open
    patient balances of the same accounts in the order they are paid (oldest date of service first)."""
    account = claims.account_id.to_numpy(dtype=object)
    service = claims.service_date.to_numpy(dtype="datetime64[us]")
    mine = credits[credits.party == "patient"]
    give = pd.DataFrame({"credit_row": mine.row.to_numpy(), "account_id": account[mine.row.to_numpy()],
                         "service_date": service[mine.row.to_numpy()], "claim_id": mine.claim_id.to_numpy(),
                         "credit": -mine.amount.to_numpy(dtype=np.int64)})
    parts = balances.open_parts(claims)
    owe = parts[(parts.responsibility == "patient").to_numpy(dtype=bool) & (parts.amount > 0).to_numpy()]
    take = pd.DataFrame({"account_id": account[owe.row.to_numpy()], "service_date": service[owe.row.to_numpy()],
                         "claim_id": claims.claim_id.to_numpy()[owe.row.to_numpy()],
                         "open": owe.amount.to_numpy(dtype=np.int64)})
    take = take[take.account_id.isin(give.account_id)]
    order = ["account_id", "service_date", "claim_id"]
    give = give.sort_values(order, kind="stable").reset_index(drop=True)
    take = take.sort_values(order, kind="stable").reset_index(drop=True)
    give["upto"] = give.groupby("account_id").credit.cumsum()
    take["upto"] = take.groupby("account_id").open.cumsum()
    return give, take


def credit_transfers(claims: pd.DataFrame, postings: pd.DataFrame, payers: pd.DataFrame | None,
                     policy: Policy) -> pd.DataFrame:
    """Where each patient credit goes before any refund: one row per (credit claim, open claim) of the same
    account, the credits (oldest first) filling the open patient balances (oldest date of service first).
    Columns: account_id, from_claim, to_claim, amount (cents > 0). Empty when the policy does not apply
    patient credits."""
    columns = {"account_id": pd.Series(dtype="str"), "from_claim": pd.Series(dtype="str"),
               "to_claim": pd.Series(dtype="str"), "amount": pd.Series(dtype="int64")}
    credits = reconcile.credit_parts(claims, postings, payers)
    credits = credits[~credits.waits]
    if not policy.apply_patient_credits or credits.empty:
        return pd.DataFrame(columns)
    give, take = _patient_credits(claims, credits)
    pairs = give.merge(take, on="account_id", suffixes=("_from", "_to"))
    start = np.maximum(pairs.upto_from - pairs.credit, pairs.upto_to - pairs.open)
    end = np.minimum(pairs.upto_from, pairs.upto_to)
    amount = (end - start).to_numpy(dtype=np.int64)
    pairs = pairs[amount > 0]
    return pd.DataFrame({"account_id": pd.array(pairs.account_id.astype(object), dtype="str"),
                         "from_claim": pd.array(pairs.claim_id_from.astype(object), dtype="str"),
                         "to_claim": pd.array(pairs.claim_id_to.astype(object), dtype="str"),
                         "amount": amount[amount > 0]}).reset_index(drop=True)


def refunds_due(claims: pd.DataFrame, postings: pd.DataFrame, payers: pd.DataFrame | None, policy: Policy,
                as_of: dt.date) -> pd.DataFrame:
    """The credits to give back as of `as_of` (canonical `refunds`, one row per claim and party, claim order).

    A payer credit is refunded to the claim's payer; a patient credit, once nothing is open with insurance on
    the claim, first pays the same account's other open patient balances (`applied`) when the policy says so,
    and only the rest is refunded. A credit applied in full is not a refund (it is in `credit_transfers`).
    """
    credits = reconcile.credit_parts(claims, postings, payers)
    credits = credits[~credits.waits].reset_index(drop=True)
    amount = -credits.amount.to_numpy(dtype=np.int64)
    applied = np.zeros(len(credits), dtype=np.int64)
    if policy.apply_patient_credits and len(credits):
        give, take = _patient_credits(claims, credits)
        owed = take.groupby("account_id").open.sum()
        pool = give.account_id.map(owed).fillna(0).to_numpy(dtype=np.int64)
        before = (give.upto - give.credit).to_numpy(dtype=np.int64)
        used = np.clip(pool - before, 0, give.credit.to_numpy(dtype=np.int64))
        where = pd.Series(used, index=give.credit_row.to_numpy())
        patient_rows = (credits.party == "patient").to_numpy()
        applied[patient_rows] = where.reindex(credits.row[patient_rows].to_numpy()).to_numpy(dtype=np.int64)
    rows = credits.row.to_numpy()
    held = claims.iloc[rows]
    once = np.unique(rows)
    arose = reconcile.credit_arose(claims.iloc[once], postings, pd.Timestamp(as_of))
    identified = arose[np.searchsorted(once, rows)] if len(rows) else arose
    payer_class = payer_classes(claims, payers).to_numpy(dtype=object)[rows]
    is_payer = (credits.party == "payer").to_numpy()
    government = is_payer & pd.Series(payer_class).isin(GOVERNMENT_CLASSES).to_numpy()
    days = np.where(government, GOVERNMENT_REFUND_DAYS, policy.refund_days).astype("timedelta64[D]")
    refund = amount - applied
    keep = refund > 0
    payer_id = np.where(is_payer, held.payer_id.to_numpy(dtype=object), None)
    out = tables.from_columns("refunds", {
        "claim_id": held.claim_id.to_numpy(dtype=object)[keep],
        "account_id": held.account_id.to_numpy(dtype=object)[keep],
        "party": credits.party.to_numpy(dtype=object)[keep],
        "payer_id": payer_id[keep],
        "payer_class": np.where(is_payer, payer_class, "self_pay")[keep],
        "amount": refund[keep],
        "identified_date": identified[keep],
        "deadline": (identified.astype("datetime64[D]") + days).astype("datetime64[us]")[keep],
        "applied": pd.arrays.IntegerArray(applied[keep], applied[keep] == 0),
    })
    return out


def refunds_for_practice(practice_tables: Mapping[str, pd.DataFrame], policy: Policy,
                         as_of: dt.date) -> pd.DataFrame:
    """`refunds_due` with a practice's tables by name (claims, postings, payers), as a practice folder
    (`PracticeFolder.all_tables()`) or a workbook provides them."""
    postings = practice_tables.get("postings")
    return refunds_due(practice_tables["claims"], postings if postings is not None else tables.empty("postings"),
                       practice_tables.get("payers"), policy, as_of)


def summary(refunds: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Counts and dollars by party and payer class, with the nearest deadline and how many are past it
    (no identifiers: what the CLI prints and the audit trail records). Columns: party, payer_class, refunds,
    amount (cents), applied (cents), earliest_deadline, overdue."""
    frame = refunds.assign(applied=refunds.applied.fillna(0).astype("int64"),
                           overdue=(refunds.deadline < pd.Timestamp(as_of)).to_numpy(),
                           payer_class=refunds.payer_class.fillna("unknown"))
    grouped = frame.groupby(["party", "payer_class"], sort=True)
    return pd.DataFrame({"refunds": grouped.size(), "amount": grouped.amount.sum(),
                         "applied": grouped.applied.sum(), "earliest_deadline": grouped.deadline.min(),
                         "overdue": grouped.overdue.sum()}).reset_index()
