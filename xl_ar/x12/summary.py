"""Figures of an 835 file, computed from its canonical tables (vectorized pandas, no second parse).

The figures are those of the shared corpus' EXPECTED.json: counts, totals, totals by PLB reason
and CAS group, claim statuses and whether every payment, claim and service line balances.
Totals are decimal strings written the way a decimal sum of the file's own amounts is written:
as many decimals as the most precise amount summed (`'0'`, `'34.6'`, `'0.00'`, `'-977.94'`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from xl_ar.x12.era import Remittance

SUMMARY_KEYS: tuple[str, ...] = (
    "transactions_835", "claims", "service_lines", "sum_bpr02", "sum_clp03", "sum_clp04", "sum_plb",
    "plb_by_code", "cas_by_group", "clp02_status_counts", "balanced_transactions", "balanced_claims",
    "balanced_service_lines",
)


def format_amount(cents: int, decimals: int) -> str:
    """`cents` written with `decimals` digits after the point (`(-500, 0)` -> `'-5'`, `(0, 2)` -> `'0.00'`).

    Cents are exact; `decimals` below 2 is only used when the amount has no finer digits.
    """
    cents = int(cents)
    decimals = int(decimals)
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    if decimals <= 0 and frac == 0:
        return f"{sign}{whole}"
    if decimals == 1 and frac % 10 == 0:
        return f"{sign}{whole}.{frac // 10}"
    return f"{sign}{whole}.{frac:02d}" + "0" * max(0, decimals - 2)


def _total(values: pd.Series, decimals: np.ndarray) -> str:
    return format_amount(int(values.sum()), int(decimals.max(initial=0)))


def _by(keys: pd.Series, amounts: pd.Series, decimals: np.ndarray) -> dict[str, str]:
    if not len(keys):
        return {}
    frame = pd.DataFrame({
        "key": keys.astype(object).where(keys.notna(), "").astype(str).to_numpy(),
        "amount": amounts.to_numpy(dtype=np.int64),
        "decimals": np.asarray(decimals, dtype=np.int64),
    })
    grouped = frame.groupby("key", sort=False).agg(amount=("amount", "sum"), decimals=("decimals", "max"))
    return {k: format_amount(a, d) for k, a, d in zip(grouped.index, grouped["amount"], grouped["decimals"],
                                                       strict=True)}


def _adjustment_sums(adjustments: pd.DataFrame, keys: list[str]) -> pd.Series:
    return adjustments.groupby(keys, sort=False, dropna=False)["amount"].sum()


def balance_flags(rem: Remittance) -> dict[str, bool]:
    """Whether every payment, claim and service line of the file balances (from the tables)."""
    pay, claims, lines = rem.payments, rem.claim_payments, rem.line_payments
    adj, plb = rem.adjustments, rem.provider_adjustments
    clp04 = claims.groupby("payment_id", sort=False)["paid"].sum()
    plb_sum = plb.groupby("payment_id", sort=False)["amount"].sum()
    ids = pay["payment_id"]
    expected = ids.map(clp04).fillna(0).astype(np.int64) - ids.map(plb_sum).fillna(0).astype(np.int64)
    balanced_tx = bool((pay["amount"].astype(np.int64) == expected).all())

    claim_key = ["payment_id", "claim_seq"]
    cas = _adjustment_sums(adj, claim_key)
    claim_cas = pd.Series(
        cas.reindex(pd.MultiIndex.from_frame(claims[claim_key])).fillna(0).to_numpy(dtype=np.int64)
        if len(claims) else np.zeros(0, np.int64))
    balanced_claims = bool((claims["charge"].to_numpy() - claim_cas.to_numpy()
                            == claims["paid"].to_numpy()).all())

    line_key = ["payment_id", "claim_seq", "line_seq"]
    line_adj = adj[adj["line_seq"].notna()]
    lcas = _adjustment_sums(line_adj, line_key)
    line_cas = (lcas.reindex(pd.MultiIndex.from_frame(lines[line_key])).fillna(0).to_numpy(dtype=np.int64)
                if len(lines) and len(lcas) else np.zeros(len(lines), np.int64))
    balanced_lines = bool((lines["charge"].to_numpy() - line_cas == lines["paid"].to_numpy()).all())
    return {"balanced_transactions": balanced_tx, "balanced_claims": balanced_claims,
            "balanced_service_lines": balanced_lines}


def summarize(rem: Remittance) -> dict:
    """The 13 figures of a file, keyed as in the corpus' EXPECTED.json (`SUMMARY_KEYS`)."""
    dec = rem.decimals
    claims = rem.claim_payments
    status = claims["status_code"].astype(object).where(claims["status_code"].notna(), "").astype(str)
    counts = (status.groupby(status.to_numpy(), sort=False).size() if len(status)
              else pd.Series(dtype=np.int64))
    out = {
        "transactions_835": len(rem.payments),
        "claims": len(claims),
        "service_lines": len(rem.line_payments),
        "sum_bpr02": _total(rem.payments["amount"], dec["payments.amount"]),
        "sum_clp03": _total(claims["charge"], dec["claim_payments.charge"]),
        "sum_clp04": _total(claims["paid"], dec["claim_payments.paid"]),
        "sum_plb": _total(rem.provider_adjustments["amount"], dec["provider_adjustments.amount"]),
        "plb_by_code": _by(rem.provider_adjustments["reason_code"], rem.provider_adjustments["amount"],
                           dec["provider_adjustments.amount"]),
        "cas_by_group": _by(rem.adjustments["group_code"], rem.adjustments["amount"],
                            dec["adjustments.amount"]),
        "clp02_status_counts": {str(k): int(v) for k, v in counts.items()},
    }
    out.update(balance_flags(rem))
    return out


def format_summaries(summaries: Mapping[str, Mapping]) -> str:
    """A plain-text table of several files' figures, one line per file, for people to read."""
    headers = ("file", "ST", "claims", "lines", "BPR02 total", "CLP04 total", "PLB total", "balanced")
    rows = []
    for name, s in summaries.items():
        flags = "".join(label if s[key] else "-" for key, label in (
            ("balanced_transactions", "P"), ("balanced_claims", "C"), ("balanced_service_lines", "L")))
        rows.append((str(name), str(s["transactions_835"]), str(s["claims"]), str(s["service_lines"]),
                     s["sum_bpr02"], s["sum_clp04"], s["sum_plb"], flags))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    left = {0, 7}

    def line(cells) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                             strict=True)))

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    out.append("balanced: P payments (BPR02 = CLP04 - PLB), C claims, L service lines; "
               "'-' = does not balance")
    return "\n".join(out)
