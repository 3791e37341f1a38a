"""Coordination of benefits: which claims are ready to bill to the patient's secondary payer.

A claim is ready for its secondary when the primary has adjudicated it and left the patient a share
the secondary covers, and nobody has sent it on yet:

- the claim names a `secondary_payer_id` and still has an open balance;
- the primary's adjudication that stands (`remittances.standing_adjudications`, reversals netted) was
  processed as primary and not forwarded: CLP02 = 1. With 19, 20 or 21 the payer forwarded the claim to
  the next payer itself (a crossover) and a second claim would be a duplicate; a still open crossover is
  the reconciliation's `forwarded_unpaid`. A denial (4) leaves nothing for a secondary to coordinate;
- the primary left patient responsibility (PR adjustments on that claim loop above 0);
- no 835 from the secondary payer mentions the claim yet.

`xl_ar.reconcile` lists these claims as `secondary_ready`; `xl_ar.x12.claims_out.secondary_claims` builds
their 837P with the primary's payment and adjustments (the COB loops).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from xl_ar import remittances as _remittances

PROCESSED_AS_PRIMARY = "1"
"""CLP02 of a claim the primary adjudicated and did not forward."""

DUE_COLUMNS = ("claim_id", "payment_id", "claim_seq", "status_code", "paid", "payer_claim_id", "payment_date",
               "primary_payer_id", "secondary_payer_id", "patient_resp", "balance")
"""What `due` returns per claim: the primary's standing claim loop and the amounts the secondary is asked for."""


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def due(claims: pd.DataFrame, remittances: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The claims ready for their secondary payer, one row each with the primary's standing claim loop
    (`DUE_COLUMNS`): `patient_resp` is the PR total on that loop, `balance` the ledger's open balance.

    `remittances` holds `payments` (with `payer_id` assigned from the practice's payers), `claim_payments`
    and `adjustments`, each payment once."""
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in DUE_COLUMNS})
    if "secondary_payer_id" not in claims or claims.empty:
        return empty
    secondary = _text(claims.secondary_payer_id)
    cand = claims[(secondary != "").to_numpy() & (claims.balance > 0).to_numpy()]
    cp = remittances.get("claim_payments")
    if cand.empty or cp is None or cp.empty:
        return empty
    payments = remittances["payments"]
    payer_of = payments.set_index("payment_id").payer_id
    cp = cp[cp.claim_id.isin(set(cand.claim_id))]
    paid_by = pd.Series(payer_of.reindex(cp.payment_id).to_numpy(), index=cp.index).astype(object)
    primary = cand.set_index("claim_id").payer_id.astype(object)
    second = _text(cand.secondary_payer_id).set_axis(cand.claim_id.to_numpy())
    from_secondary = paid_by.notna().to_numpy() & (paid_by.to_numpy() == second.reindex(cp.claim_id).to_numpy())
    answered = set(cp.claim_id[from_secondary])
    from_primary = paid_by.isna().to_numpy() | (paid_by.to_numpy() == primary.reindex(cp.claim_id).to_numpy())
    standing = _remittances.standing_adjudications(cp[from_primary], payments)
    standing = standing[(standing.status_code.astype(str) == PROCESSED_AS_PRIMARY).to_numpy()
                        & ~standing.claim_id.isin(answered).to_numpy()]
    adj = remittances.get("adjustments")
    if adj is None or adj.empty or standing.empty:
        return empty
    on_loop = adj.merge(standing[["payment_id", "claim_seq"]], on=["payment_id", "claim_seq"])
    pr = on_loop[on_loop.group_code == "PR"].groupby("claim_id").amount.sum()
    resp = pr.reindex(standing.claim_id).fillna(0).to_numpy(dtype=np.int64)
    ready = standing[resp > 0]
    ledger = cand.set_index("claim_id")
    return pd.DataFrame({
        "claim_id": ready.claim_id.to_numpy(),
        "payment_id": ready.payment_id.to_numpy(),
        "claim_seq": ready.claim_seq.to_numpy(),
        "status_code": ready.status_code.to_numpy(),
        "paid": ready.paid.to_numpy(),
        "payer_claim_id": ready.payer_claim_id.to_numpy(),
        "payment_date": ready.payment_date.to_numpy(),
        "primary_payer_id": primary.reindex(ready.claim_id).to_numpy(),
        "secondary_payer_id": second.reindex(ready.claim_id).to_numpy(),
        "patient_resp": resp[resp > 0],
        "balance": ledger.balance.reindex(ready.claim_id).to_numpy(),
    }).reset_index(drop=True)
