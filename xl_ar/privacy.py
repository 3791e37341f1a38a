"""Patient identifiers: the one place that knows which columns hold them and how to hide them.

HIPAA Safe Harbor lists names, dates directly related to an individual (other than the year),
member and account numbers and addresses among the identifiers. Messages, logs, audit events and
manager outputs never show them; this module masks values for messages and replaces ids by
stable keyed tokens (HMAC-SHA256) for reports, so that a specialist holding the key can look a row
up and a reader without the key cannot.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from xl_ar import outputs, settings
from xl_ar.errors import SettingsError
from xl_ar.outputs import private_folder

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
        "original_payer_claim_id",
        "secondary_member_id",
        "other_member_id",
        "outcome",
    }
)
"""Columns whose values identify a patient (or lead straight to one) and are never shown as-is."""

TOKENIZED_COLUMNS: tuple[str, ...] = ("claim_id", "account_id", "payer_claim_id", "line_control",
                                      "original_payer_claim_id")
"""Identifier columns a de-identified output keeps as stable tokens (so rows can be looked up)."""

DROPPED_COLUMNS: tuple[str, ...] = ("patient_name", "date_of_birth", "member_id", "patient_address",
                                    "secondary_member_id", "other_member_id", "outcome")
"""Identifier columns a de-identified output removes altogether."""

KEY_ENV = "XL_AR_TOKEN_KEY"
"""Environment variable that may hold the tokenization key (hex); otherwise a key file is used."""


def is_identifier(column: str) -> bool:
    return column in IDENTIFIER_COLUMNS


_AMOUNT_SHAPE = re.compile(r"^(?=[^\d]*\d)[-+]?\s*\(?\s*[-+]?\s*\$?\s*[-+]?[\d,]*(?:\.\d*)?\s*\)?\s*[-+]?$"
                           r"|^[-+]?\d+(?:\.\d*)?[eE][-+]?\d+$")
"""What an amount looks like even when it is not a valid one (`12.345`, `1,23`, `(5`, `1e+20`): digits with a
sign, parentheses, a dollar sign, grouping commas or a decimal point; letters only as an exponent."""

_NUMBER_SHAPE = re.compile(r"^[-+]?[\d,]*(?:\.\d*)?(?:[eE][-+]?\d+)?$")
"""What a count or quantity looks like (`1.5`, `1,5`, `2e3`)."""

_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(?:[a-z]{0,6})\.?")
_CLOCK = (r"(?:(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:\s*[AaPp]\.?[Mm]\.?)?"
          r"(?:\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)?")
_DATE_SHAPE = re.compile(
    rf"^(?:\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}|(?:19|20)\d{{6}}|\d{{1,2}}[ -]{_MONTH}[ -]\d{{2,4}}"
    rf"|{_MONTH} \d{{1,2}},? \d{{4}}){_CLOCK}$", re.IGNORECASE)
"""What a date looks like even when it is not a valid one (`02/30/2026`, `2026-13-01`, `20261301`, `31 Feb 26`)."""

_CODE_SHAPE = re.compile(r"^[A-Za-z0-9]{1,8}(?:[-.:,;/ ]{1,2}[A-Za-z0-9]{1,8}){0,5}$")
"""What a code or a list of codes looks like (`99213`, `25:59`, `E11.9, I10`, `CO-45`): short tokens."""

_NAME_WORD = re.compile(r"\b[A-Z][a-z]+\b")
"""A capitalised word (`Doe`): how names are written, never how a code is (codes are compared ignoring case,
so a capitalised spelling of a valid code is never reported)."""

SAFE_COLUMNS: dict[str, str] = {
    **dict.fromkeys(("charge", "paid", "adjusted", "written_off", "balance", "insurance_balance", "patient_balance",
                     "patient_resp", "amount", "allowed", "expected", "actual", "variance"), "amount"),
    **dict.fromkeys(("service_date", "billed_date", "last_activity_date", "payment_date", "posted_date",
                     "deposit_date", "fiscal_date", "deadline"), "date"),
    **dict.fromkeys(("units", "quantity", "line_no", "claim_seq", "line_seq", "days_left", "priority",
                     "timely_filing_days", "appeal_days"), "number"),
    **dict.fromkeys(("procedure_code", "modifiers", "modifier", "reason_code", "group_code", "status", "status_code",
                     "method", "code", "category", "kind", "payer_class", "responsibility", "diagnosis_codes",
                     "payer_id"), "code"),
}
"""The columns whose values do not identify a patient (amounts, dates of service and business dates, counts,
procedure / adjustment / status codes, the practice's payer ids), by the shape their values have. A value of
one of them appears in a message only when it has that shape; any other column's value never does (names,
birth dates, member ids, addresses, claim and account ids, free text such as payer names and bank
descriptions, and any column xl-ar does not know)."""

PLACEHOLDERS: frozenset[str] = frozenset(
    {"n/a", "na", "n.a.", "tbd", "none", "null", "nil", "unknown", "pending", "-", "--", "?", "x",
     "#n/a", "#value!", "#ref!", "#div/0!", "#name?", "#num!", "#null!"})
"""Words people and spreadsheets put where a value is missing; shown under any safe column (never a name)."""

_SHAPES: dict[str, re.Pattern[str]] = {"amount": _AMOUNT_SHAPE, "date": _DATE_SHAPE, "number": _NUMBER_SHAPE,
                                       "code": _CODE_SHAPE}

SHOWN_LENGTH = 40
"""A shown value longer than this is cut (`...`)."""


def looks_like(column: str, text: str) -> bool:
    """Whether `text` has the shape of a value of the safe `column` (False for any other column)."""
    shape = SAFE_COLUMNS.get(column)
    if shape is None or len(text) > SHOWN_LENGTH:
        return False
    if text.lower() in PLACEHOLDERS:
        return True
    if not _SHAPES[shape].match(text):
        return False
    return not (shape == "code" and _NAME_WORD.search(text))


def headers_shown(headers: Iterable[object]) -> bool:
    """Whether a file's header names may appear in messages: not when one of them has the shape of a date or an
    amount, as the first row of an export without a header row does (its "headers" are a patient's data)."""
    for header in headers:
        text = re.sub(r"\.\d+$", "", str(header).strip())  # pandas' suffix of a repeated header (`Doe.1`)
        if _DATE_SHAPE.match(text) or _AMOUNT_SHAPE.match(text):
            return False
    return True


HEADERS_HIDDEN = "not named: the header row holds values such as dates or amounts (the file may have no header row)"
"""What a message says instead of a file's header names when `headers_shown` is False."""


def described(text: str) -> str:
    """A value described without showing it: `a value of 8 letters`, `a value of 9 digits`."""
    n = len(text)
    if n == 0 or text.isspace():
        return "a blank value"
    what = "digit" if text.isascii() and text.isdigit() else "letter" if text.isalpha() else "character"
    return f"a value of {n:,} {what}{'s' if n != 1 else ''}"


def shown(column: str, value: object) -> str:
    """How a cell value may appear in a message: quoted only when its column is known not to identify a patient
    (`SAFE_COLUMNS`) and the value looks like what the column holds; otherwise described by its length
    (`a value of 8 letters`), whatever header it sat under, and for identifier columns not even that."""
    if is_identifier(column):
        return "(value hidden: patient identifier)"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # a spreadsheet number as people wrote it
    text = str(value).strip()
    if looks_like(column, text):
        return f"'{text}'"
    return described(text)


MIN_KEY_BYTES = 32
"""The shortest tokenization key accepted: with fewer bytes, tokens of short ids can be reversed by trying keys."""


def default_key_path() -> Path:
    """Where the tokenization key lives when none is given: the user's config folder, never a workbook."""
    return settings.home() / "token.key"


def _parse_key(text: str, where: str) -> bytes:
    """The key written as hex in `where` (the environment variable or the key file); never echoed in a message."""
    how = (f"write {MIN_KEY_BYTES * 2} hex digits ({MIN_KEY_BYTES} random bytes), e.g. the output of "
           f"`python -c \"import secrets; print(secrets.token_hex({MIN_KEY_BYTES}))\"`")
    cleaned = "".join(text.split())
    if not cleaned:
        raise SettingsError(f"the tokenization key is empty; {how}", source=where)
    try:
        key = bytes.fromhex(cleaned)
    except ValueError:
        raise SettingsError(f"the tokenization key is not hexadecimal ({len(cleaned)} characters, digits 0-9 and "
                            f"a-f only); {how}", source=where) from None
    if len(key) < MIN_KEY_BYTES:
        raise SettingsError(f"the tokenization key has {len(key)} byte{'s' if len(key) != 1 else ''}; at least "
                            f"{MIN_KEY_BYTES} are needed, or the ids in de-identified reports can be recovered by "
                            f"trying keys; {how}", source=where)
    return key


def load_key(path: Path | None = None, create: bool = True) -> bytes:
    """The tokenization key: from `XL_AR_TOKEN_KEY`, else from the key file (created on first use, owner-only and
    atomically: a second process creating it at the same time reads the first one's key). A key shorter than
    `MIN_KEY_BYTES` or not written in hex is refused (`SettingsError`), never replaced: a new key would change
    every token."""
    env = os.environ.get(KEY_ENV)
    if env is not None:
        return _parse_key(env, KEY_ENV)
    path = path or default_key_path()
    if path.exists():
        return _parse_key(path.read_text(encoding="ascii", errors="replace"), str(path))
    if not create:
        raise FileNotFoundError(f"no tokenization key at {path.name}; set {KEY_ENV} or create the key file")
    key = secrets.token_bytes(MIN_KEY_BYTES)
    try:
        write_private(path, key.hex().encode("ascii"), replace=False)
    except FileExistsError:  # another process created it first: use that one
        return _parse_key(path.read_text(encoding="ascii", errors="replace"), str(path))
    return key


# --- files holding patient data or keys: owner-only (POSIX modes 0600 / 0700) ----------------------------------------

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)


def private_file(path: Path) -> Path:
    """An owner-only file at `path` for a writer that opens it by name (SQLite, xlsxwriter): created 0600 when
    absent (never world-readable, not even for an instant); an existing file is made owner-only before new data
    goes in (opening it for writing keeps its mode)."""
    path = Path(path)
    private_folder(path.parent)
    try:
        fd = os.open(path, _OPEN_FLAGS, 0o600)
    except FileExistsError:
        if os.name == "posix" and path.is_file():
            os.chmod(path, 0o600)
    else:
        os.close(fd)
    return path


def write_private(path: Path, data: bytes, replace: bool = True) -> None:
    """Write `data` to `path` owner-only and atomically: a temporary file beside it created 0600 (O_CREAT|O_EXCL),
    written, fsynced, then renamed over `path` (or, with `replace=False`, linked to `path` only if none exists:
    `FileExistsError` otherwise). A crash leaves the previous file, or none, never half of one."""
    outputs.write_bytes(path, data, private=True, replace=replace)


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


# --- logs: the filter every log handler xl-ar sets up carries -------------------------------------------------------

HIDDEN = "(hidden: patient identifier)"
"""What a log record shows in place of an identifying field."""

_IDENTIFYING_KEY = re.compile(
    r"name|birth|dob|member|subscriber|insured|patient|address|street|city|zip|postal|ssn|social_security|mrn"
    r"|medical_record|phone|email|account|acct|claim_?(?:id|no|num|number)|icn|control_?(?:id|no|num|number)"
    r"|line_control|payer_claim",
    re.IGNORECASE)
"""Field names that identify a patient or lead to one, however a caller spelled them (`patient_name`, `DOB`,
`memberId`, `claim_no`, `acct`): a field of a log record so named is hidden, whatever it holds."""

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message",
                                                                                                   "asctime"}
"""The fields every log record has (its logger's `name`, `filename`, ...): never identifiers."""


def identifying_key(key: object) -> bool:
    """Whether a field of that name holds identifiers (the identifier columns and their usual spellings)."""
    text = str(key).strip()
    return text in IDENTIFIER_COLUMNS or bool(_IDENTIFYING_KEY.search(re.sub(r"(?<=[a-z])(?=[A-Z])", "_", text)))


def masked(value: object) -> object:
    """A value fit for a log record: identifying fields of mappings hidden (nested too), tables and columns
    described by their size only (their cells may be anything), other values as they are."""
    if isinstance(value, pd.DataFrame):
        return f"(a table of {len(value):,} rows and {len(value.columns):,} columns)"
    if isinstance(value, pd.Series):
        return f"(a column of {len(value):,} values)"
    if isinstance(value, Mapping):
        return {k: HIDDEN if identifying_key(k) else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, tuple):
        return tuple(masked(v) for v in value)
    return value


class IdentifierFilter(logging.Filter):
    """Hides identifier fields in log records before any handler formats them: `extra` fields named like an
    identifier (`extra={"member_id": ...}`), the same keys in a mapping passed as the message's arguments
    (`log.info("%(patient_name)s", row)`) or as the message, and tables or columns passed whole. Put on every
    handler (the CLI's, the add-in's), it lets no module's mistake print a patient's data."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in [k for k in vars(record) if k not in _RECORD_FIELDS]:
            value = getattr(record, key)
            setattr(record, key, HIDDEN if identifying_key(key) else masked(value))
        if isinstance(record.args, Mapping):
            record.args = masked(record.args)  # type: ignore[assignment]
        elif isinstance(record.args, tuple):
            record.args = tuple(masked(a) for a in record.args)
        if not isinstance(record.msg, str):
            record.msg = masked(record.msg)
        return True
