"""Money is exact: integer cents inside the core, decimal strings at the edges.

Amounts arrive as text ("1,234.50", "$12", "(45.00)", "-3.5") or as spreadsheet numbers (binary
floats). Both are turned into integer cents without passing through float arithmetic for text,
and with an explicit check that a float really is a whole number of cents.
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pandas as pd

from xl_ar.privacy import shown

MAX_CENTS = 10**13
"""Amounts of this many cents (100 billion dollars) or more, either sign, are bad values wherever they are
read: no claim or payment comes near, and sums of a million such amounts still fit int64 exactly."""

# An amount as people and PM systems write it: optional sign or parentheses, optional $,
# thousands separators, at most two decimals.
_AMOUNT = re.compile(r"^\s*(?P<neg1>-)?\s*(?P<open>\()?\s*\$?\s*(?P<neg2>-)?\s*(?P<int>\d{1,3}(?:,\d{3})+|\d*)"
                     r"(?:\.(?P<frac>\d{0,2}))?\s*(?P<close>\))?\s*$")


def to_cents(value: str | int | float | Decimal) -> int:
    """Exact integer cents of one amount; `ValueError` names what is wrong (also for amounts of
    `MAX_CENTS` or more)."""
    cents = _to_cents(value)
    if abs(cents) >= MAX_CENTS:
        raise ValueError(f"{shown('amount', value)} is beyond the largest amount xl-ar reads")
    return cents


def _to_cents(value: str | int | float | Decimal) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{shown('amount', value)} is not an amount")
    if isinstance(value, int):
        return value * 100
    if isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() >= 18:
            raise ValueError(f"{shown('amount', value)} is not an amount xl-ar reads")
        cents = value * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{shown('amount', value)} has more than two decimals")
        return int(cents)
    if isinstance(value, float):
        if not np.isfinite(value):
            raise ValueError(f"{shown('amount', value)} is not an amount")
        cents = round(value * 100)
        if abs(value * 100 - cents) > 1e-6 * max(1.0, abs(value)):
            raise ValueError(f"{shown('amount', value)} has more than two decimals")
        return int(cents)
    text = str(value)
    m = _AMOUNT.match(text)
    if not m or (m["int"] == "" and not m["frac"]) or bool(m["open"]) != bool(m["close"]):
        raise ValueError(f"{shown('amount', text)} is not an amount")
    digits = m["int"].replace(",", "").lstrip("0")
    if len(digits) > 18:  # range-checked before int(): no digit-limit error on 5,000 digits
        raise ValueError(f"{shown('amount', text)} is beyond the largest amount xl-ar reads")
    whole = int(digits or 0)
    frac = int((m["frac"] or "").ljust(2, "0"))
    cents = whole * 100 + frac
    negatives = bool(m["neg1"]) + bool(m["neg2"]) + bool(m["open"])
    if negatives > 1:
        raise ValueError(f"{shown('amount', text)} is not an amount")
    return -cents if negatives else cents


def x12_cents(text: str) -> int:
    """Cents of an X12 decimal element (R type: optional '-', digits, optional '.', no grouping).

    Faster than `to_cents` for the hot path of the 835 reader. The R type allows any number of
    decimals: digits beyond the cent are rounded half away from zero, exactly (`135.825` -> 13583,
    `-0.005` -> -1, `12.500` -> 1250); `ValueError` when the text is not an R value or its amount
    is `MAX_CENTS` or more.
    """
    neg = text.startswith("-")
    body = text[1:] if neg else text
    whole, _, frac = body.partition(".")
    if not (_ascii_digits(whole) or (whole == "" and _ascii_digits(frac))) or (frac and not _ascii_digits(frac)):
        raise ValueError(f"{shown('amount', text)} is not an X12 amount")
    if len(whole.lstrip("0")) > 11:  # 10**11 dollars and more; checked before int() meets 5,000 digits
        raise ValueError(f"{shown('amount', text)} is beyond the largest amount xl-ar reads")
    cents = int(whole or 0) * 100 + int(frac[:2].ljust(2, "0"))
    if frac[2:3] >= "5":  # what is dropped is half a cent or more
        cents += 1
    if cents >= MAX_CENTS:
        raise ValueError(f"{shown('amount', text)} is beyond the largest amount xl-ar reads")
    return -cents if neg else cents


def _ascii_digits(text: str) -> bool:
    """ASCII digits only (`str.isdigit` also accepts characters such as '²' that `int` rejects)."""
    return text.isascii() and text.isdigit()


def parse_cents(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised `to_cents` for a column.

    Returns `(cents, bad)`: `cents` is nullable Int64 (NA where empty or bad), `bad` is a boolean
    mask of non-empty values that are not amounts. Numbers from spreadsheets are checked to be
    whole cents; text is checked against the amount pattern and converted exactly. Amounts of
    `MAX_CENTS` or more (either sign) are bad, never wrapped around in int64.
    """
    n = len(values)
    cents = pd.Series(pd.array([pd.NA] * n, dtype="Int64"), index=values.index)
    bad = pd.Series(np.zeros(n, dtype=bool), index=values.index)
    if n == 0:
        return cents, bad
    obj = values.astype(object)
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        is_num = pd.Series(False, index=values.index)
    elif values.dtype.kind in "iuf":
        is_num = pd.Series(True, index=values.index)
    else:
        is_num = obj.map(lambda v: isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool))
    num = pd.to_numeric(obj[is_num], errors="coerce").astype("float64")
    if len(num):
        finite = np.isfinite(num.to_numpy())
        scaled = num.to_numpy() * 100
        rounded = np.round(scaled)
        with np.errstate(invalid="ignore"):
            ok = (finite & (np.abs(rounded) < MAX_CENTS)
                  & (np.abs(scaled - rounded) <= 1e-6 * np.maximum(1.0, np.abs(num.to_numpy()))))
        nan = num.isna().to_numpy()
        cents.loc[num.index[ok]] = rounded[ok].astype("int64")
        bad.loc[num.index[~ok & ~nan]] = True
    text = obj[~is_num]
    text = text[text.notna()].astype("str").str.strip()
    text = text[text != ""]
    if len(text):
        # Plain decimals (`-1234.5`, the bulk of any export) take a fast path: parsed as binary
        # floats and scaled. That is exact: with at most 2 decimals and at most 13 integer digits,
        # float(text) * 100 is within 0.01 of the integer it stands for, so rounding recovers it.
        plain = text.str.fullmatch(r"-?\d{1,13}(?:\.\d{0,2})?|-?\.\d{1,2}")
        simple = text[plain]
        if len(simple):
            value = np.round(pd.to_numeric(simple).to_numpy(dtype="float64") * 100).astype("int64")
            big = np.abs(value) >= MAX_CENTS
            cents.loc[simple.index[~big]] = value[~big]
            bad.loc[simple.index[big]] = True
        text = text[~plain]
    if len(text):
        parts = text.str.extract(_AMOUNT)
        matched = parts["int"].notna() & ~((parts["int"] == "") & parts["frac"].fillna("").eq(""))
        paren_ok = parts["open"].notna() == parts["close"].notna()
        negs = parts["neg1"].notna().astype(int) + parts["neg2"].notna().astype(int) + parts["open"].notna().astype(int)
        digits = parts["int"].fillna("").str.replace(",", "", regex=False).str.lstrip("0")
        # at most 11 digits of dollars (below MAX_CENTS), checked before int64 can overflow or wrap around
        good = matched & paren_ok & (negs <= 1) & (digits.str.len() <= 11)
        g = parts[good]
        whole = digits[good].replace("", "0").astype("int64")
        frac = g["frac"].fillna("").str.ljust(2, "0").astype("int64")
        value = whole * 100 + frac
        big = (value >= MAX_CENTS).to_numpy()
        good.loc[g.index[big]] = False
        g, value, negs_g = g[~big], value[~big], negs[good]
        value = value.where(negs_g == 0, -value)
        cents.loc[g.index] = value.astype("int64")
        bad.loc[text.index[~good.to_numpy()]] = True
    return cents, bad


def format_cents(cents: int) -> str:
    """`-123456` -> `'-1234.56'` (the decimal string used in JSON and X12)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{frac:02d}"


def dollars(cents: object) -> str:
    """Integer cents as dollars for people and documents: -123456 -> `-$1,234.56`; missing -> ''."""
    if cents is None or cents is pd.NA or (isinstance(cents, float) and cents != cents):
        return ""
    value = int(cents)
    whole, part = divmod(abs(value), 100)
    return f"{'-' if value < 0 else ''}${whole:,}.{part:02d}"


def cents_text(cents: np.ndarray | pd.Series) -> np.ndarray:
    """Vectorised `format_cents`: integer cents -> `'1234.56'` strings (NA stays empty)."""
    values = pd.Series(cents)
    if values.empty:  # numpy's string conversion of an empty array fails
        return np.array([], dtype=object)
    missing = values.isna().to_numpy()
    c = values.fillna(0).to_numpy(dtype=np.int64)
    a = np.abs(c)
    text = (np.where(c < 0, "-", "").astype(object) + (a // 100).astype(str).astype(object) + "."
            + np.char.zfill((a % 100).astype(str), 2).astype(object))
    return np.where(missing, "", text)


def for_people(cents: np.ndarray | pd.Series) -> np.ndarray:
    """Amounts in cents as people read them in messages, `-1,234.56` (vectorised; fractions of a
    cent, as in an expected allowed amount, are rounded to the cent)."""
    c = pd.Series(np.round(np.asarray(cents, dtype="float64"))).astype("int64")
    whole = (c.abs() // 100).astype(str).str.replace(r"\B(?=(\d{3})+(?!\d))", ",", regex=True)
    text = np.where(c < 0, "-", "") + whole + "." + (c.abs() % 100).astype(str).str.zfill(2)
    return text.to_numpy(dtype=object)
