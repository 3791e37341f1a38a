"""Bank deposits: what a bank statement line says about the payment behind it.

A payer's EFT reaches the bank as an ACH credit whose addenda carry the CCD+ reassociation record
`TRN*1*<trace number>*<payer id>\\` (CAQH CORE EFT rule), usually shown in the description after
`HCCLAIMPMT`. A check deposit may show the check number. Card settlements, transfers, interest,
cash deposits, patient payments and bank fee refunds are recognised as money that is not a payer's
and is not expected to have an ERA. A description none of these rules recognises is `unknown`:
nobody knows yet who paid, so reconcile still looks for its ERA and reports it when none matches.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

DepositKind = Literal["payer_eft", "check", "card_settlement", "transfer", "interest", "cash", "patient_payment",
                      "bank_credit", "unknown"]

PAYER_KINDS: frozenset[str] = frozenset({"payer_eft", "check"})
"""Payer money: expected to match an ERA; unmatched, a `deposit_without_era`."""

OTHER_MONEY: frozenset[str] = frozenset({"card_settlement", "transfer", "interest", "cash", "patient_payment",
                                         "bank_credit"})
"""Recognised money that is not a payer's: no ERA expected, never an exception (unless a trace number
on the line matches an ERA)."""

_TRN = re.compile(r"TRN\*1\*([^*\\~\s]+)")
_CHECK = re.compile(r"\b(?:CHECK|CHK)\s*(?:NO\.?|#)?\s*(\d{3,})", re.IGNORECASE)

_RULES: tuple[tuple[str, str], ...] = (
    ("payer_eft", r"HCCLAIMPMT|TRN\*1\*"),
    ("card_settlement", r"\bCARD\b|\bCARDS\b|BANKCARD|MERCHANT|\bMERCH\b|\bMRCH\b|\bPOS\b|\bVISA\b|MASTERCARD|"
                        r"\bAMEX\b|AMERICAN EXPRESS|\bDISCOVER\b|\bSQUARE\b|\bSTRIPE\b|\bCLOVER\b|\bELAVON\b|"
                        r"WORLDPAY|HEARTLAND|\bTSYS\b|FIRST DATA|GLOBAL PAYMENTS"),
    ("transfer", r"TRANSFER|\bXFER\b|\bTRSF\b|\bTFR\b|\bSWEEP\b"),
    ("interest", r"INTEREST|\bINT (?:PAID|PAYMENT|CREDIT|EARNED)\b|DIVIDEND"),
    ("cash", r"\bCASH DEP|\bDEPOSIT\W+CASH\b"),
    ("patient_payment", r"\bPATIENT (?:PAYMENT|PMT|PAY)\b|\bPT (?:PAYMENT|PMT)\b"),
    ("bank_credit", r"\b(?:FEE|FEES|SERVICE CHARGE|SVC CHG)\W+(?:REFUND|REVERSAL|REBATE|CREDIT)\b"),
    ("check", r"\bDEPOSIT\b|\bCHECK\b|\bCHK\b|\bLOCKBOX\b|\bLBX\b|REMOTE DEP|MOBILE DEP"),
)
"""Description rules in order, the first that matches decides (upper-cased text): a payer's EFT first,
then money that is not a payer's (so "MERCHANT DEPOSIT" is a card settlement), then check deposits."""


def trace_from_description(descriptions: pd.Series) -> pd.Series:
    """The payment's trace number found in a bank description (TRN02, or the check number), else NA."""
    text = descriptions.fillna("").astype("str")
    trn = text.str.extract(_TRN, expand=False)
    check = text.str.extract(_CHECK, expand=False)
    return trn.fillna(check).astype("str")


def classify(descriptions: pd.Series) -> np.ndarray:
    """The `DepositKind` of each bank description: `payer_eft` (HCCLAIMPMT or a TRN record), money that
    is not a payer's (`OTHER_MONEY`: card settlements, transfers, interest, cash, patient payments, bank
    fee refunds), `check` (a check deposit), else `unknown` (no rule recognises it, or no description)."""
    text = descriptions.fillna("").astype("str").str.upper()
    masks = [text.str.contains(pattern, regex=True).to_numpy(dtype=bool) for _, pattern in _RULES]
    return np.select(masks, [kind for kind, _ in _RULES], default="unknown").astype(object)
