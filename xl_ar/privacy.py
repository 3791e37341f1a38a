"""Patient identifiers: the one place that knows which columns hold them and how to hide them.

HIPAA Safe Harbor lists names, dates directly related to an individual (other than the year),
member and account numbers and addresses among the identifiers. Messages, logs, audit events and
manager outputs never show them; this module masks values for messages and replaces ids by
stable keyed tokens (HMAC-SHA256) for reports, so that a specialist holding the key can look a row
up and a reader without the key cannot.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from xl_ar import settings

IDENTIFIER_COLUMNS: frozenset[str] = frozenset(
    {
        "patient_name",
        "date_of_birth",
        "member_id",
        "patient_address",
        "account_id",
        "claim_id",
        "payer_claim_id",
        "line_control",
    }
)
"""Columns whose values identify a patient (or lead straight to one) and are never shown as-is."""

TOKENIZED_COLUMNS: tuple[str, ...] = ("claim_id", "account_id", "payer_claim_id", "line_control")
"""Identifier columns a de-identified output keeps as stable tokens (so rows can be looked up)."""

DROPPED_COLUMNS: tuple[str, ...] = ("patient_name", "date_of_birth", "member_id", "patient_address")
"""Identifier columns a de-identified output removes altogether."""

KEY_ENV = "XL_AR_TOKEN_KEY"
"""Environment variable that may hold the tokenization key (hex); otherwise a key file is used."""


def is_identifier(column: str) -> bool:
    return column in IDENTIFIER_COLUMNS


def shown(column: str, value: object) -> str:
    """How a cell value may appear in a message: quoted, or masked for identifier columns."""
    if is_identifier(column):
        return "(value hidden: patient identifier)"
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{text}'"


def default_key_path() -> Path:
    """Where the tokenization key lives when none is given: the user's config folder, never a workbook."""
    return settings.home() / "token.key"


def load_key(path: Path | None = None, create: bool = True) -> bytes:
    """The tokenization key: from `XL_AR_TOKEN_KEY`, else from the key file (created on first use)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return bytes.fromhex(env.strip())
    path = path or default_key_path()
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    if not create:
        raise FileNotFoundError(f"no tokenization key at {path.name}; set {KEY_ENV} or create the key file")
    key = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key.hex())
    with contextlib.suppress(OSError):  # e.g. file systems without modes
        path.chmod(0o600)
    return key


def token(value: str, key: bytes, prefix: str = "T") -> str:
    """Stable keyed token of one identifier: same value and key give the same token."""
    digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:12].upper()}"


def tokenize(values: pd.Series, key: bytes, prefix: str = "T") -> pd.Series:
    """`token` for a column, computed once per distinct value."""
    uniques = values.dropna().unique()
    mapping = {v: token(v, key, prefix) for v in uniques}
    return values.map(mapping)


def deidentify(frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """A copy of a table fit for manager outputs: names, birth dates, member ids and addresses
    removed, claim / account ids replaced by tokens."""
    out = frame.drop(columns=[c for c in DROPPED_COLUMNS if c in frame.columns])
    for column in TOKENIZED_COLUMNS:
        if column in out.columns:
            prefix = {"claim_id": "C", "account_id": "A", "payer_claim_id": "P", "line_control": "L"}[column]
            out[column] = tokenize(out[column], key, prefix)
    return out
