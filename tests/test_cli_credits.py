"""`xl-ar refunds list` and `xl-ar collections list|place|post` (issue 15, parts 5 and 6): counts and dollars on
the screen, identifiers only in the files asked for (owner-only), bad input stores nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

from xl_ar import tables
from xl_ar.cli import main
from xl_ar.store import Store

PAYERS = """payer_id,name,payer_class
ACME,Acme Health,commercial
MCR,Medicare,medicare
SELF,Self Pay,self_pay
"""
HEADER = ("claim_id,account_id,payer_id,service_date,billed_date,charge,paid,adjusted,balance,insurance_balance,"
          "patient_balance,responsibility,patient_name,date_of_birth,patient_address,last_activity_date")
CLAIMS = [
    # C1: Medicare overpaid 30.00 (a payer credit)
    "C1,A1,MCR,2026-08-01,2026-08-02,200.00,230.00,0,-30.00,-30.00,0,insurance,\"DOE, JANE\",1980-01-02,1 Elm St,"
    "2026-09-01",
    # C2: the patient owes 80.00 on account A2 (final notice sent 2026-08-01)
    "C2,A2,ACME,2026-03-01,2026-03-02,200.00,120.00,0,80.00,0,80.00,patient,\"ROE, RICH\",1975-05-06,2 Oak St,"
    "2026-08-01",
]
IDENTIFIERS = ("C1", "C2", "A1", "A2", "DOE", "ROE", "Elm", "Oak")


def practice(tmp_path: Path) -> Path:
    folder = tmp_path / "practice"
    folder.mkdir()
    (folder / "payers.csv").write_text(PAYERS, encoding="utf-8")
    (folder / "claims.csv").write_text("\n".join([HEADER, *CLAIMS]) + "\n", encoding="utf-8")
    (folder / "practice.json").write_text(json.dumps({"name": "Tiny Clinic", "as_of": "2026-09-30"}),
                                          encoding="utf-8")
    return folder


def store_with_final_notice(path: Path | str) -> Path | str:
    """The store at `path` (a SQLite file or a database URL) holding A2's final notice of 2026-08-01."""
    with Store.open(path) as store:
        frame = tables.to_frame("statements", [{"statement_id": "1", "account_id": "A2", "notice": "final",
                                                "statement_date": dt.date(2026, 8, 1), "amount_due": 8000,
                                                "due_date": dt.date(2026, 8, 22)}])
        store.add_new("statements", frame, {"written_at": ["2026-08-01T00:00:00"]},
                      columns=["account_id", "statement_date", "notice", "amount_due", "due_date", "batch"])
    return path


def test_refunds_list_prints_counts_and_dollars_without_identifiers(store_at, tmp_path, capsys):
    assert main(["refunds", "list", "--practice", str(practice(tmp_path)), "--store", store_at]) == 0
    out = capsys.readouterr().out
    assert "1 totalling $30.00" in out and "medicare" in out
    assert not any(i in out for i in IDENTIFIERS)


def test_refunds_list_writes_the_rows_only_to_out_owner_only(tmp_path):
    target = tmp_path / "refunds.csv"
    assert main(["refunds", "list", "--practice", str(practice(tmp_path)), "--store", str(tmp_path / "s.sqlite"),
                 "--out", str(target)]) == 0
    text = target.read_text()
    # Medicare, identified 2026-09-01 (last activity) + 60 days = 2026-10-31
    assert "C1" in text and "2026-10-31" in text and "30.0" in text
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_collections_place_records_the_account_writes_the_file_and_audits_without_identifiers(store_at, tmp_path):
    store = store_with_final_notice(store_at)
    target = tmp_path / "out" / "placements.csv"
    assert main(["collections", "place", "--practice", str(practice(tmp_path)), "--store", str(store),
                 "--out", str(target)]) == 0
    assert "ROE, RICH" in target.read_text() and "80.00" in target.read_text()
    with Store.open(store) as s:
        assert s.placements().amount.tolist() == [8000]
        events = s.audit_events()
    detail = events.detail.iloc[-1]
    assert '"cents": 8000' in detail and not any(i in detail for i in IDENTIFIERS)


def test_collections_place_twice_places_the_account_once(store_at, tmp_path):
    store = store_with_final_notice(store_at)
    folder = practice(tmp_path)
    for name in ("first.csv", "second.csv"):
        assert main(["collections", "place", "--practice", str(folder), "--store", str(store),
                     "--out", str(tmp_path / name)]) == 0
    with Store.open(store) as s:
        assert len(s.placements()) == 1


def test_collections_post_with_a_bad_row_stores_nothing_and_names_the_row(store_at, tmp_path, capsys):
    store = store_with_final_notice(store_at)
    main(["collections", "place", "--practice", str(practice(tmp_path)), "--store", str(store),
          "--out", str(tmp_path / "p.csv")])
    agency = tmp_path / "agency.csv"
    agency.write_text("account,date,amount,fee,reference\nA2,09/20/2026,40.00,10.00,R1\nA2,09/21/2026,x,0,R2\n")
    out = tmp_path / "post.csv"
    assert main(["collections", "post", str(agency), "--store", str(store), "--out", str(out)]) == 2
    assert "row 3" in capsys.readouterr().err
    assert not out.exists()
    with Store.open(store) as s:
        assert s.agency_payments().empty


def test_collections_post_writes_the_new_payments_once(store_at, tmp_path):
    store = store_with_final_notice(store_at)
    main(["collections", "place", "--practice", str(practice(tmp_path)), "--store", str(store),
          "--out", str(tmp_path / "p.csv")])
    agency = tmp_path / "agency.csv"
    agency.write_text("account,date,amount,fee,reference\nA2,09/20/2026,40.00,10.00,R1\n")
    assert main(["collections", "post", str(agency), "--store", str(store), "--out", str(tmp_path / "1.csv")]) == 0
    assert main(["collections", "post", str(agency), "--store", str(store), "--out", str(tmp_path / "2.csv")]) == 0
    # 40.00 gross - 10.00 fee = 30.00 net, posted the first time only
    assert (tmp_path / "1.csv").read_text().splitlines()[1] == "A2,09/20/2026,40.00,10.00,30.00"
    assert len((tmp_path / "2.csv").read_text().splitlines()) == 1
    with Store.open(store) as s:
        assert s.agency_payments().amount.tolist() == [4000]


def test_the_management_report_shows_bad_debt_apart_from_contractual_adjustments(store_at, tmp_path):
    import openpyxl

    store = store_with_final_notice(store_at)
    folder = practice(tmp_path)
    main(["collections", "place", "--practice", str(folder), "--store", str(store), "--out", str(tmp_path / "p.csv")])
    report = tmp_path / "report.xlsx"
    assert main(["report", "--practice", str(folder), "--store", str(store), "--out", str(report), "--quiet"]) == 0
    sheet = openpyxl.load_workbook(report)["Write-offs"]
    rows = {r[0]: (r[1], r[2]) for r in sheet.iter_rows(min_row=6, max_col=3, values_only=True) if r[0]}
    # no remittances: contractual = the ledger's adjustments, 0; bad debt: A2's 80.00 placed, nothing recovered
    assert rows["Bad debt: placed with the agency less recovered"] == (1, 80.0)
    assert rows["Contractual adjustments (CO)"] == (0, 0.0)
    assert not any(i in str(rows) for i in IDENTIFIERS)


def test_refunds_letters_write_one_letter_per_credit_with_its_facts(store_at, tmp_path, capsys):
    # C1: Medicare holds 230.00 paid on a 200.00 claim: a 30.00 payer refund, due 60 days after it was identified
    # (no postings: identified on the as-of date 09/30/2026 -> deadline 11/29/2026)
    from xl_ar import documents

    out = tmp_path / "letters"
    code = main(["refunds", "letters", "--practice", str(practice(tmp_path)), "--out", str(out),
                 "--store", store_at, "--quiet"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.csv", "refund_00001.docx"]
    text = "\n".join(documents.docx_text((out / "refund_00001.docx").read_bytes()))
    assert "Medicare" in text and "Our claim number: C1" in text and "Amount to refund: $30.00" in text
    assert "Date of service: 08/01/2026" in text
    assert stat.S_IMODE(os.stat(out / "refund_00001.docx").st_mode) == 0o600
    printed = capsys.readouterr().out
    assert "1 written" in printed and "$30.00" in printed and not any(i in printed for i in IDENTIFIERS)
    with Store.open(store_at) as store:
        events = store.audit_events()
    detail = events.detail.iloc[-1]
    assert '"refund letters"' in detail and '"letters": 1' in detail and not any(i in detail for i in IDENTIFIERS)


def test_refunds_letters_need_a_folder(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    code = main(["refunds", "letters", "--practice", str(practice(tmp_path)), "--out", str(target),
                 "--store", str(tmp_path / "s.sqlite"), "--quiet"])
    assert code == 2 and target.read_text(encoding="utf-8") == "x"
