"""`xl-ar appeals letters`: the acceptance test on the 5,000-claim synthetic practice (every eligible claim gets a
letter, each letter's facts checked against the canonical tables), the folder and the audit trail, template errors."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xl_ar import codes, documents
from xl_ar.audit import file_sha256
from xl_ar.cli import main
from xl_ar.kinds import NEW_CLAIM_CATEGORIES
from xl_ar.practice import load_practice
from xl_ar.reconcile import reconcile_tables
from xl_ar.store import Store

KINDS = ("denied", "partially_denied", "underpaid")


def us(value) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%m/%d/%Y")


def dollars(cents) -> str:
    cents = round(float(cents))
    return f"{'-' if cents < 0 else ''}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


@pytest.fixture(scope="module")
def batch(practice_5k, tmp_path_factory):
    """The letters of the 5,000-claim practice, written once, with the practice's tables and reconciliation."""
    base = tmp_path_factory.mktemp("letters")
    out, store = base / "appeals", base / "store.db"
    code = main(["appeals", "letters", "--practice", str(practice_5k), "--out", str(out), "--store", str(store),
                 "--quiet"])
    practice = load_practice(practice_5k)
    remitted, _ = practice.remittances()
    result = reconcile_tables(practice.all_tables(), remitted, practice.as_of())
    index = list(csv.DictReader((out / "index.csv").open(encoding="utf-8")))
    return {"code": code, "out": out, "store": store, "practice": practice, "rem": remitted,
            "ex": result.exceptions, "as_of": practice.as_of(), "index": index}


def expected_claims(b) -> set[str]:
    """The claims an appeal can still fix, worked out from the exceptions and remarks (not by xl_ar.letters)."""
    ex = b["ex"]
    ex = ex[ex.kind.isin(KINDS)]
    ma130 = b["rem"]["remarks"]
    ma130 = set(zip(ma130.payment_id[ma130.code == "MA130"], ma130.claim_id[ma130.code == "MA130"], strict=True))
    keep = set()
    for r in ex.itertuples():
        new_claim = r.kind != "underpaid" and (r.category in NEW_CLAIM_CATEGORIES or (r.payment_id, r.claim_id)
                                                in ma130)
        if new_claim or (pd.notna(r.deadline) and pd.Timestamp(r.deadline).date() < b["as_of"]):
            continue
        keep.add(r.claim_id)
    return keep


def test_the_command_succeeds_and_writes_letters(batch):
    assert batch["code"] == 0 and len(batch["index"]) > 50


def test_every_eligible_claim_gets_exactly_one_letter(batch):
    claims = [r["claim_id"] for r in batch["index"]]
    assert len(claims) == len(set(claims))
    assert set(claims) == expected_claims(batch)
    assert sorted(p.name for p in batch["out"].glob("*.docx")) == sorted(r["file"] for r in batch["index"])


def test_no_claim_that_needs_a_new_claim_gets_a_letter(batch):
    ex = batch["ex"]
    new_claim = set(ex.claim_id[ex.kind.isin(["denied", "partially_denied"]) & ex.category.isin(NEW_CLAIM_CATEGORIES)])
    assert new_claim  # the synthetic practice has coding and missing-information denials
    assert new_claim.isdisjoint(r["claim_id"] for r in batch["index"])


def _letter(batch, row) -> tuple[list[str], list[list[str]]]:
    """A letter's paragraph lines and its table rows (cells)."""
    back = documents.docx_text((batch["out"] / row["file"]).read_bytes())
    lines = "\n".join(back).splitlines()
    rows = [line.split(" | ") for line in back if " | " in line]
    return lines, rows


def test_each_letter_carries_the_claims_facts_to_the_cent(batch):
    practice, rem, ex = batch["practice"], batch["rem"], batch["ex"]
    claims = practice.table("claims").set_index("claim_id")
    payers = practice.table("payers").set_index("payer_id")
    fees = practice.table("fee_schedule")
    base_fee = fees[fees.modifier.isna()].set_index(["payer_id", "procedure_code"]).allowed
    pays = rem["payments"].set_index("payment_id")
    cp, lp, adj, remarks = rem["claim_payments"], rem["line_payments"], rem["adjustments"], rem["remarks"]
    labels = codes.carc_table().label
    rarc = codes.rarc_table().label
    ex = ex[ex.kind.isin(KINDS)].sort_values(["priority", "claim_id"], ascending=[False, True], kind="stable")
    ex = ex.drop_duplicates("claim_id").set_index("claim_id")
    checked_lines = checked_expected = 0
    for row in batch["index"]:
        claim_id = row["claim_id"]
        e = ex.loc[claim_id]
        c = claims.loc[claim_id]
        loop = cp[(cp.payment_id == e.payment_id) & (cp.claim_id == claim_id) & (cp.status_code != "22")]
        loop = loop.sort_values("claim_seq").iloc[-1]
        at = (lp.payment_id == e.payment_id) & (lp.claim_seq == loop.claim_seq)
        lines, rows = _letter(batch, row)
        # the payer, the claim numbers, the patient, the dates
        assert payers.name[e.payer_id] in lines
        for expected in (f"Our claim number: {claim_id}", f"Payer claim number: {loop.payer_claim_id}",
                         f"Patient: {c.patient_name}", f"Member ID: {c.member_id}",
                         f"Date of birth: {us(c.date_of_birth)}",
                         f"Remittance date: {us(pays.payment_date[e.payment_id])}",
                         f"Appeal deadline: {us(e.deadline)}", f"Amount in dispute: {dollars(-e.variance)}"):
            assert expected in lines, (row["file"], expected)
        assert row["amount"] == f"{-int(e.variance) / 100:.2f}"
        # each remitted line: code, billed (SVC02), allowed (AMT*B6, else charge - CO but 253), paid (SVC03)
        service = [r for r in rows if len(r) == 9 and r[0].isdigit()]
        lines_835 = lp[at]
        if len(lines_835):
            line_adj = adj[(adj.payment_id == e.payment_id) & (adj.claim_seq == loop.claim_seq)
                           & adj.line_seq.notna()]
            shown = sorted((r[2], r[5], r[6], r[7]) for r in service)
            want = []
            for ln in lines_835.itertuples():
                co = line_adj[(line_adj.line_seq == ln.line_seq) & (line_adj.group_code == "CO")
                              & (line_adj.reason_code != "253")].amount.sum()
                allowed = ln.allowed if pd.notna(ln.allowed) else ln.charge - co
                want.append((ln.procedure_code, dollars(ln.charge), dollars(allowed), dollars(ln.paid)))
            assert shown == sorted(want), row["file"]
            checked_lines += len(want)
            first, last = pd.to_datetime(lines_835.service_date).min(), pd.to_datetime(lines_835.service_date).max()
            assert f"Dates of service: {us(first)} to {us(last)}" in lines
        total = next(r for r in rows if r[0] == "Total")
        # totals: billed and paid are the 835's CLP03 and CLP04
        assert (total[5], total[7]) == (dollars(loop.charge), dollars(loop.paid)), row["file"]
        if e.kind == "underpaid":
            # allowed and expected totals are the reconciliation's actual and expected allowed
            assert (total[6], total[8]) == (dollars(e.actual), dollars(e.expected)), row["file"]
        # expected per line without a multiple-procedure reduction: min(billed, contracted fee x units)
        marked = adj[(adj.payment_id == e.payment_id) & (adj.claim_seq == loop.claim_seq)
                     & (adj.reason_code == "59")]
        if marked.empty:
            for r in service:
                if r[3] == "" and (e.payer_id, r[2]) in base_fee.index:
                    fee = round(base_fee[(e.payer_id, r[2])] * float(r[4]))
                    billed = round(float(r[5].strip("$").replace(",", "")) * 100)
                    assert r[8] == dollars(min(fee, billed)), row["file"]
                    checked_expected += 1
        # every CARC with its group, our label and amount; every RARC with our label
        shown_adj = sorted((r[0], r[1], r[3]) for r in rows if len(r) == 4 and "-" in r[0])
        loop_adj = adj[(adj.payment_id == e.payment_id) & (adj.claim_seq == loop.claim_seq)]
        assert shown_adj == sorted((f"{a.group_code}-{a.reason_code}", labels.get(a.reason_code, "(no label)"),
                                    dollars(a.amount)) for a in loop_adj.itertuples()), row["file"]
        loop_remarks = remarks[(remarks.payment_id == e.payment_id) & (remarks.claim_seq == loop.claim_seq)]
        for code in set(loop_remarks.code):
            assert f"{code}: {rarc.get(code, '(no label)')}" in lines, row["file"]
    assert checked_lines > 100 and checked_expected > 50


def test_the_folder_and_the_letters_are_owner_only(batch):
    if os.name != "posix":
        return
    assert batch["out"].stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in batch["out"].iterdir()} == {0o600}


def test_the_audit_event_records_the_batch_without_identifiers(batch):
    with Store.open(str(batch["store"])) as store:
        events = store.audit_events()
    event = events[events.action == "export"].iloc[-1]
    detail = json.loads(event.detail)
    assert detail["what"] == "appeal letters" and detail["letters"] == len(batch["index"])
    assert detail["folder"] == batch["out"].name  # the folder's name, never its path
    files = sorted(batch["out"].iterdir())
    assert detail["outputs"] == {p.name: file_sha256(p) for p in files}
    claims = batch["practice"].table("claims")
    text = event.detail + event.message
    for column in ("claim_id", "account_id", "member_id", "patient_name"):
        assert not any(str(v) in text for v in claims[column].dropna().unique()), column


# -- refusals: nothing written ----------------------------------------------------------------------------------

@pytest.fixture
def small(practice_small, tmp_path) -> Path:
    folder = tmp_path / "practice"
    shutil.copytree(practice_small, folder)
    return folder


def test_out_is_required(small, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["appeals", "letters", "--practice", str(small), "--store", str(tmp_path / "s.db")])
    assert stop.value.code == 2 and "--out" in capsys.readouterr().err


def test_a_bad_template_stops_the_batch_naming_its_line_and_writes_nothing(small, tmp_path, capsys):
    (small / "letters").mkdir()
    for category in sorted(codes.DENIAL_CATEGORIES | {"underpaid"}):
        (small / "letters" / f"appeal_{category}.txt").write_text("Dear payer,\n{{ claim.no_such_field }}\n",
                                                                    encoding="utf-8")
    out = tmp_path / "letters"
    code = main(["appeals", "letters", "--practice", str(small), "--out", str(out), "--store",
                 str(tmp_path / "s.db"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "letters/appeal_" in err and ".txt line 2" in err
    assert not out.exists()


def test_a_practice_template_is_used_for_its_category(small, tmp_path, capsys):
    (small / "letters").mkdir()
    (small / "letters" / "appeal_underpaid.txt").write_text(
        "# Our dispute\n\nClaim {{ claim.claim_id }}: {{ totals.in_dispute | dollars }} owed\n", encoding="utf-8")
    out = tmp_path / "letters"
    assert main(["appeals", "letters", "--practice", str(small), "--out", str(out), "--store",
                 str(tmp_path / "s.db"), "--quiet"]) == 0
    index = [r for r in csv.DictReader((out / "index.csv").open(encoding="utf-8")) if r["category"] == "underpaid"]
    assert index  # the small practice has underpayments
    for r in index:
        text = documents.docx_text((out / r["file"]).read_bytes())
        assert [t for t in text if t] == ["Our dispute", f"Claim {r['claim_id']}: ${r['amount']} owed"]


def test_claim_picks_the_letters(small, tmp_path, capsys):
    first = tmp_path / "all"
    assert main(["appeals", "letters", "--practice", str(small), "--out", str(first), "--store",
                 str(tmp_path / "s.db"), "--quiet"]) == 0
    one = next(csv.DictReader((first / "index.csv").open(encoding="utf-8")))["claim_id"]
    out = tmp_path / "one"
    assert main(["appeals", "letters", "--practice", str(small), "--out", str(out), "--store",
                 str(tmp_path / "s.db"), "--quiet", "--claim", one]) == 0
    assert [r["claim_id"] for r in csv.DictReader((out / "index.csv").open(encoding="utf-8"))] == [one]
    assert "1 written" in capsys.readouterr().out


def test_the_schema_of_the_index_is_file_claim_payer_category_amount(batch):
    assert list(batch["index"][0]) == ["file", "claim_id", "payer_id", "category", "amount", "template"]
    assert np.all([r["file"].startswith("appeal_") for r in batch["index"]])


def test_the_command_prints_counts_never_identifiers(small, store_at, tmp_path, capsys):
    assert main(["appeals", "letters", "--practice", str(small), "--out", str(tmp_path / "out"), "--store",
                 store_at, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "Appeal letters as of" in out and "Not eligible, " in out
    claims = load_practice(small).table("claims")
    for column in ("claim_id", "account_id", "member_id", "patient_name"):
        assert not any(str(v) in out + err for v in claims[column].dropna().unique()), column
