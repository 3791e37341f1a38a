"""Reconciliation against the synthetic practices' truth.json: precision and recall 1.00.

The truth lists every exception the generator put in (or that follows from what it generated);
the reconciliation finds them from the files alone. Both figures are printed for every practice.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from xl_ar.kinds import CODES as EXCEPTION_KINDS
from xl_ar.practice import load_practice
from xl_ar.reconcile import reconcile_tables
from xl_ar.synth import generate

PAYMENT_KINDS = {"duplicate_era", "era_without_deposit", "deposit_variance", "deposit_without_era",
                 "unidentified_deposit"}
POSTING_KINDS = {"unposted_payment", "posting_variance", "posted_without_era"}


def key(kind: str, claim_id, trace, amount=None) -> tuple:
    """What identifies an exception: the check for payment- and bank-level kinds (its amount when it
    has no trace number: the exceptions' `actual`, the truth's `amount`), claim and check for
    postings, the claim otherwise."""
    claim_id = claim_id if isinstance(claim_id, str) else None
    trace = trace if isinstance(trace, str) else None
    if kind in PAYMENT_KINDS:
        if trace is None:
            return kind, None, ("amount", None if amount is None or pd.isna(amount) else int(amount))
        return kind, None, trace
    if kind in POSTING_KINDS:
        return kind, claim_id, trace
    return kind, claim_id, None


def score(folder) -> tuple[float, float, dict]:
    practice = load_practice(folder)
    remitted, findings = practice.remittances()
    assert [f for f in findings if f.severity == "error"] == []
    result = reconcile_tables(practice.all_tables(), remitted, practice.as_of())
    truth = {key(e["kind"], e["claim_id"], e["trace_number"], e.get("amount"))
             for e in json.loads((folder / "truth.json").read_text())["exceptions"]}
    ex = result.exceptions
    found = {key(k, c, t, a) for k, c, t, a in zip(ex.kind, ex.claim_id, ex.trace_number, ex.actual, strict=True)}
    hits = len(truth & found)
    per_kind = {k: (sum(x[0] == k for x in truth), sum(x[0] == k for x in found)) for k in EXCEPTION_KINDS}
    return hits / len(found), hits / len(truth), per_kind


@pytest.mark.parametrize(("claims", "seed"), [(5000, 7), (5000, 13), (5000, 29), (50000, 5), (50000, 21)])
def test_precision_and_recall_on_synthetic_practices(claims, seed, tmp_path, practice_5k, capsys):
    folder = practice_5k if (claims, seed) == (5000, 7) else tmp_path / "practice"
    if folder != practice_5k:
        generate(folder, claims=claims, months=12, seed=seed)
    precision, recall, per_kind = score(folder)
    with capsys.disabled():
        print(f"\n  reconcile {claims:,} claims, seed {seed}: precision {precision:.4f}, recall {recall:.4f}; "
              + ", ".join(f"{k} {t}/{f}" for k, (t, f) in per_kind.items()))
    assert all(t > 0 for t, _ in per_kind.values()), "every kind of exception is in the practice"
    assert precision == 1.0 and recall == 1.0  # every exception of truth.json, and nothing else


def test_reconcile_command_json_and_workbook(practice_small, tmp_path, capsys):
    from xl_ar.cli import main

    out = tmp_path / "reconciliation.xlsx"
    assert main(["reconcile", "--practice", str(practice_small), "--json", "--out", str(out), "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"exceptions", "summary"}
    assert all(set(e) == {"kind", "claim_id", "payment_id", "trace_number", "expected", "actual", "variance",
                          "category", "next_action", "priority"} for e in printed["exceptions"])
    assert sum(printed["summary"].values()) == len(printed["exceptions"])
    first = printed["exceptions"][0]  # highest priority first; amounts as decimal strings
    assert re.fullmatch(r"-?\d+\.\d\d", first["expected"])
    assert first["priority"] >= printed["exceptions"][-1]["priority"]
    import openpyxl

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Reconciliation", "Worklist", "Guide"]
    assert wb["Reconciliation"].max_row == 3 + len(printed["exceptions"])  # title, blank, header, rows
