"""Known export layouts (issue 12): each public layout's header-exact fixture (tests/corpus/exports, hand-made
rows, SOURCES.md) is read through its profile with the figures in EXPECTED.json, which were added up by hand from
the rows; a layout that lacks what xl-ar needs is refused with one message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xl_ar.cli import main
from xl_ar.practice import read_practice

EXPORTS = Path(__file__).resolve().parent / "corpus" / "exports"
EXPECTED = json.loads((EXPORTS / "EXPECTED.json").read_text(encoding="utf-8"))["files"]
AS_OF = "2026-09-30"

CLAIM_LAYOUTS = {
    "openemr_collections.csv": "OpenEMR collections report",
    "kareo_charges.csv": "Kareo/Tebra charges (GetCharges)",
    "drchrono_line_items.csv": "DrChrono line items",
    "synthea_claims.csv": "Synthea claims.csv + claims_transactions.csv",
}
POSTING_LAYOUTS = {"openemr_receipts.csv": "OpenEMR receipts summary (by payer, with details)",
                   "drchrono_transactions.csv": "DrChrono transactions"}
DEPOSIT_LAYOUTS = {"bank_chase_checking.csv": "Chase checking CSV", "bank_bofa.csv": "Bank of America checking CSV"}
REFUSED = {
    "kareo_payments.csv": "nothing ties its money to claims",
    "kareo_transactions.csv": "no encounter, so its money cannot be tied to a claim",
    "synpuf_carrier.csv": "not what the practice billed, adjusted or still has open",
    "aged_analysis.csv": "the balance already aged into buckets",
}


def folder_with(tmp_path: Path, *files: str) -> Path:
    """A practice folder holding only the given fixtures, under their own (not canonical) names."""
    folder = tmp_path / "practice"
    folder.mkdir()
    for name in files:
        shutil.copy(EXPORTS / name, folder / name)
    (folder / "practice.json").write_text(json.dumps({"as_of": AS_OF}), encoding="utf-8")
    return folder


def errors(practice) -> list[str]:
    return [str(f) for f in practice.findings if f.severity == "error"]


@pytest.mark.parametrize("file", CLAIM_LAYOUTS)
def test_a_claims_layout_is_recognised_and_read_with_the_hand_added_totals(tmp_path, file):
    partner = EXPECTED[file].get("joined_with")
    practice = read_practice(folder_with(tmp_path, file, *([partner] if partner else [])))
    assert errors(practice) == []
    assert practice.profiles[file] == CLAIM_LAYOUTS[file]
    claims, totals = practice.tables["claims"], EXPECTED[file]["totals"]
    assert len(claims) == totals["claims"]
    for column in ("charge", "paid", "adjusted", "balance"):
        assert int(claims[column].sum()) == totals[column], column


@pytest.mark.parametrize("file", CLAIM_LAYOUTS)
def test_each_claim_of_a_layout_has_its_hand_added_money_and_date(tmp_path, file):
    partner = EXPECTED[file].get("joined_with")
    claims = read_practice(folder_with(tmp_path, file, *([partner] if partner else []))).tables["claims"]
    got = {str(c.claim_id): (str(c.service_date.date()), c.charge, c.paid, c.adjusted, c.balance)
           for c in claims.itertuples()}
    want = {str(c["claim_id"]): (c["service_date"], c["charge"], c["paid"], c["adjusted"], c["balance"])
            for c in EXPECTED[file]["claims"]}
    assert got == want


@pytest.mark.parametrize("file", CLAIM_LAYOUTS)
def test_aging_a_layout_gives_its_open_balance(tmp_path, file, capsys):
    partner = EXPECTED[file].get("joined_with")
    folder = folder_with(tmp_path, file, *([partner] if partner else []))
    assert main(["aging", "--practice", str(folder), "--json"]) == 0
    aged = json.loads(capsys.readouterr().out)
    positive = sum(c["balance"] for c in EXPECTED[file]["claims"] if c["balance"] > 0)  # A/R leaves credits out
    assert aged["ar"] == f"{positive // 100}.{positive % 100:02d}"


@pytest.mark.parametrize("file", POSTING_LAYOUTS)
def test_a_postings_layout_is_recognised_and_read(tmp_path, file):
    practice = read_practice(folder_with(tmp_path, file))
    assert [e for e in errors(practice) if "no claims.csv" not in e] == []
    assert practice.profiles[file] == POSTING_LAYOUTS[file]
    postings, totals = practice.tables["postings"], EXPECTED[file]["totals"]
    assert (len(postings), int(postings.amount.sum())) == (totals["postings"], totals["amount"])


@pytest.mark.parametrize("file", DEPOSIT_LAYOUTS)
def test_a_bank_layout_is_recognised_and_its_eft_traces_found(tmp_path, file):
    practice = read_practice(folder_with(tmp_path, file))
    assert [e for e in errors(practice) if "no claims.csv" not in e] == []
    assert practice.profiles[file] == DEPOSIT_LAYOUTS[file]
    deposits, totals = practice.tables["deposits"], EXPECTED[file]["totals"]
    expected = EXPECTED[file]["deposits"]
    credits = deposits.amount[deposits.amount > 0]
    assert (len(credits), int(credits.sum())) == (totals["deposits"], totals["amount"])
    assert int(deposits.amount[deposits.amount < 0].sum()) == totals["debits"]  # bank fees are kept, negative
    traces = {d["trace_number"] for d in expected if d.get("trace_number")}
    assert traces <= set(deposits.trace_number.dropna())


@pytest.mark.parametrize("file", REFUSED)
def test_a_layout_without_what_xl_ar_needs_is_refused_with_one_message(tmp_path, file):
    practice = read_practice(folder_with(tmp_path, file))
    (message,) = errors(practice)
    assert message.startswith(f"{file}: this is ") and "which xl-ar cannot use: it lacks" in message
    assert REFUSED[file] in message and ". Use " in message


def test_a_pm_list_of_eobs_is_read_as_the_payers_payments(tmp_path):
    practice = read_practice(folder_with(tmp_path, "drchrono_eobs.csv"))
    assert [e for e in errors(practice) if "no claims.csv" not in e] == []
    assert practice.profiles["drchrono_eobs.csv"] == "DrChrono EOBs"
    payments = practice.tables["payments"]
    assert (len(payments), int(payments.amount.sum())) == (7, EXPECTED["drchrono_eobs.csv"]["totals"]["amount"])


def test_eobs_stand_for_the_missing_835s_when_deposits_are_reconciled(tmp_path):
    from xl_ar.reconcile import reconcile_tables

    folder = folder_with(tmp_path, "drchrono_line_items.csv", "drchrono_transactions.csv", "drchrono_eobs.csv",
                         "bank_chase_checking.csv")
    practice = read_practice(folder)
    assert errors(practice) == []
    remitted, _ = practice.remittances()
    result = reconcile_tables(practice.all_tables(), remitted, practice.as_of())
    bank_side = result.exceptions[result.exceptions.kind.isin(["era_without_deposit", "deposit_without_era"])]
    efts = {p["trace_number"] for p in EXPECTED["drchrono_eobs.csv"]["payments"] if p["method"] == "ACH"}
    # every ACH EOB is a Chase EFT credit with its trace (tests/corpus/exports/SOURCES.md): none is unmatched
    assert efts and set(bank_side.trace_number.dropna()) & efts == set()


def test_check_names_the_layout_of_one_export_file(capsys):
    assert main(["check", str(EXPORTS / "kareo_charges.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "kareo_charges.csv: 6 rows as claims (recognised: Kareo/Tebra charges (GetCharges))"
    assert out[-1] == "0 errors, 4 warnings"


def test_check_refuses_one_unusable_export_with_one_message(capsys):
    assert main(["check", str(EXPORTS / "aged_analysis.csv")]) == 2
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith("error: aged_analysis.csv: this is pre-aged A/R report")
    assert out[1] == "1 errors, 0 warnings"
