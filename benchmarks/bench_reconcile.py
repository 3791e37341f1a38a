"""Reconciling 200,000 claims (remittances, postings, deposits) vs a naive row-by-row matcher."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks._table import Row, median_seconds, peak_mb
from xl_ar.practice import load_practice
from xl_ar.reconcile import reconcile
from xl_ar.synth import generate

CLAIMS = 200_000
SAMPLE = 2_000


def naive_matcher(claim_payments: pd.DataFrame, payments: pd.DataFrame, postings: pd.DataFrame,
                  deposits: pd.DataFrame, rows: int) -> float:
    """Seconds per remitted claim of a row-by-row matcher: for each claim payment, filter the
    postings for its claim and check; for each payment, filter the bank lines for its trace."""
    sample = claim_payments.head(rows).merge(payments[["payment_id", "trace_number", "amount"]], on="payment_id")
    start = time.perf_counter()
    for row in sample.itertuples():
        posted = postings[(postings.claim_id == row.claim_id) & (postings.trace_number == row.trace_number)]
        _ = posted.amount.sum() != row.paid
        _ = deposits[deposits.trace_number == row.trace_number]
    return (time.perf_counter() - start) / len(sample)


def run(full: bool = False) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "practice"
        generate(folder, claims=CLAIMS, months=12, seed=3)
        practice = load_practice(folder)
        remitted, _ = practice.remittances()
        inputs = (practice.table("claims"), remitted, practice.table("postings"), practice.table("deposits"),
                  practice.as_of(), practice.table("payers"), practice.table("claim_lines"),
                  practice.table("fee_schedule"))
        ours = median_seconds(lambda: reconcile(*inputs), 3)
        memory = peak_mb(lambda: reconcile(*inputs))
        per_row = naive_matcher(remitted["claim_payments"], remitted["payments"], practice.table("postings"),
                                practice.table("deposits"), SAMPLE)
        naive = per_row * len(remitted["claim_payments"])
        read = median_seconds(lambda: practice.remittances(), 1)
    return [
        Row(f"reconcile {CLAIMS:,} claims (tables in memory)", ours, naive, "s",
            f"naive row-by-row matcher, {SAMPLE:,} rows timed and scaled to all"),
        Row("peak memory of that reconcile", memory, 2048, "MB", "the 2 GB budget (tracemalloc)"),
        Row(f"read the {CLAIMS:,} claims' 835 files", read, ours, "s", "the reconcile itself (for scale)"),
    ]
