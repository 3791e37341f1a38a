"""What makes two payments the same payment: the payment key, defined once.

A payer pays once per check or EFT, but an 835 can arrive twice: the clearinghouse re-sends it,
or the payer sends it again in a new interchange (new control numbers, so a new `payment_id`).
The key recognises such a copy whatever file it came in (also a byte-identical re-delivery under
another file name, which `remittances.read_remittances` gives its own payment id), and
`remittances.counted_once` drops every later copy for all consumers:

- payer: `payer_ref` (the payer's id on its 835s), else `payer_name`, else "";
- trace: `trace_number` (TRN02, the check or EFT trace number), else "";
- amount: `amount` (BPR02) in cents.

"Else" means a missing value (None, NaN, NA): the readers turn empty elements into missing values,
never into "". A missing trace number is thus the trace "", so a trace-less ERA sent twice has the
same key both times (it used to be NaN, which equals nothing, so the copy was imported again).

The same rule is written three times on purpose and must stay one rule: here for frames
(`payment_key_columns`, `payment_keys`) and single payments (`payment_key`, built on the frame
form); in the store, whose `payments` keep it as the columns `payer_key`, `trace_key` under a
unique index; and in the SQL of the store's migration 3, which backfilled those columns with
`COALESCE(payer_ref, payer_name, '')` and `COALESCE(trace_number, '')`. Changing the rule needs a
new store migration that recomputes the stored keys.
"""

from __future__ import annotations

import pandas as pd

PaymentKey = tuple[str, str, int]
"""(payer, trace number, amount in cents)."""

KEY_COLUMNS = ("payer_key", "trace_key", "amount")
"""The key's columns, as `payment_key_columns` names them and the store's unique index holds them."""


def payment_key_columns(payments: pd.DataFrame) -> pd.DataFrame:
    """The key of every payment of a payments frame (same index): `payer_key` and `trace_key` as
    text, `amount` as int64 cents. Needs the columns payer_ref, payer_name, trace_number, amount."""
    payer = payments.payer_ref.fillna(payments.payer_name).fillna("").astype(str)
    trace = payments.trace_number.fillna("").astype(str)
    return pd.DataFrame({"payer_key": payer, "trace_key": trace, "amount": payments.amount.astype("int64")},
                        index=payments.index)


def payment_keys(payments: pd.DataFrame) -> list[PaymentKey]:
    """The key of each payment as a tuple of plain Python values, in the frame's order."""
    keys = payment_key_columns(payments)
    return list(zip(keys.payer_key.tolist(), keys.trace_key.tolist(), keys.amount.tolist(), strict=True))


def payment_key(*, payer_ref: str | None, payer_name: str | None, trace_number: str | None,
                amount: int) -> PaymentKey:
    """The key of one payment from its values (the frame form applied to one row, so the two
    cannot drift apart)."""
    one = pd.DataFrame({"payer_ref": [payer_ref], "payer_name": [payer_name], "trace_number": [trace_number],
                        "amount": [amount]}, dtype=object)
    return payment_keys(one)[0]
