"""Bank deposits: what a bank statement line says about the payment behind it.

A payer's EFT reaches the bank as an ACH credit whose addenda carry the CCD+ reassociation record
`TRN*1*<trace number>*<payer id>\\` (CAQH CORE EFT rule), usually shown in the description after
`HCCLAIMPMT`. A check deposit may show the check number. Patient card settlements and transfers
are not payer money and are not expected to have an ERA.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

DepositKind = Literal["payer_eft", "check", "other"]

_TRN = re.compile(r"TRN\*1\*([^*\\~\s]+)")
_CHECK = re.compile(r"\b(?:CHECK|CHK)\s*(?:NO\.?|#)?\s*(\d{3,})", re.IGNORECASE)


def trace_from_description(descriptions: pd.Series) -> pd.Series:
    """The payment's trace number found in a bank description (TRN02, or the check number), else NA."""
    text = descriptions.fillna("").astype("str")
    trn = text.str.extract(_TRN, expand=False)
    check = text.str.extract(_CHECK, expand=False)
    return trn.fillna(check).astype("str")


def classify(descriptions: pd.Series) -> np.ndarray:
    """`payer_eft` (HCCLAIMPMT / TRN record), `check` (a check deposit), or `other` (card batches,
    transfers, interest): only the first two are expected to match an ERA."""
    text = descriptions.fillna("").astype("str").str.upper()
    eft = text.str.contains("HCCLAIMPMT", regex=False) | text.str.contains(r"TRN\*1\*", regex=True)
    check = text.str.contains(r"\bDEPOSIT\b|\bCHECK\b|\bCHK\b", regex=True) & ~text.str.contains(
        "CARD|MERCHANT|TRANSFER|INTEREST", regex=True)
    return np.select([eft.to_numpy(), check.to_numpy()], ["payer_eft", "check"], default="other")
