"""The export corpus (tests/corpus/exports) is self-consistent: the specification the issue-12 readers are measured on.

Read with the `csv` module only, never with xl-ar's readers:

1. Every file in the folder is described in SOURCES.md and EXPECTED.json; every fixture's first line is the
   header row SOURCES.md quotes, byte for byte.
2. The money EXPECTED.json states (claims, postings, payments, deposits, in integer cents) is what the rows add
   up to, computed here with each layout's own arithmetic (written out in the comments).
3. The verdicts: exactly the four layouts issue 12 names are refused, each saying what it lacks and what to use.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from xl_ar.tables import TABLES

CORPUS = Path(__file__).resolve().parent / "corpus" / "exports"
EXPECTED: dict = json.loads((CORPUS / "EXPECTED.json").read_text(encoding="utf-8"))
FILES: dict = EXPECTED["files"]
FIXTURES = sorted(FILES)
AS_OF = "2026-09-30"


def rows(name: str) -> list[dict[str, str]]:
    """The data rows of a fixture as header -> cell (csv module; UTF-8; any line ending)."""
    with open(CORPUS / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def header(name: str) -> list[str]:
    with open(CORPUS / name, newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def cents(text: str) -> int:
    """'1,250.00' -> 125000, '-15.00' -> -1500, '' -> 0."""
    text = text.replace(",", "").strip()
    return int(Decimal(text or "0") * 100)


def us_date(text: str) -> str:
    """'2/9/2026' or '02/09/2026 4:12:09 PM' -> '2026-02-09'."""
    month, day, year = text.split(" ")[0].split("/")
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


def quoted_headers() -> dict[str, str]:
    """SOURCES.md: each `## \\`file\\`` section quotes the file's first line in a ```text block."""
    text = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    out = {}
    for m in re.finditer(r"^## `([^`]+)`\n(.*?)(?=^## |\Z)", text, re.S | re.M):
        block = re.search(r"```text\n(.*?)\n```", m.group(2), re.S)
        out[m.group(1)] = block.group(1) if block else None
    return out


def claims_by_id(name: str) -> dict[str, dict]:
    return {c["claim_id"]: c for c in FILES[name]["claims"]}


# ---------------------------------------------------------------------------------------------- 1. description


def test_every_file_in_the_folder_is_in_sources_and_expected():
    on_disk = {p.name for p in CORPUS.iterdir()} - {"SOURCES.md", "EXPECTED.json"}
    assert on_disk == set(FILES) == set(quoted_headers())


@pytest.mark.parametrize("name", FIXTURES)
def test_first_line_is_the_header_row_sources_quotes(name):
    first_line = (CORPUS / name).read_bytes().decode("utf-8").split("\n", 1)[0].removesuffix("\r")
    assert first_line == quoted_headers()[name]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_has_6_to_15_invented_rows(name):
    assert 6 <= len(rows(name)) <= 15


@pytest.mark.parametrize("name", FIXTURES)
def test_mapped_headers_are_headers_of_the_file_and_canonical_columns(name):
    canonical = {c.name for t in TABLES.values() for c in t.columns}
    columns = FILES[name]["columns"]
    assert set(columns) <= set(header(name))
    assert set(columns.values()) <= canonical


# ------------------------------------------------------------------------------------------------ 3. verdicts


def test_exactly_the_four_layouts_without_the_data_are_refused():
    refused = {n for n, e in FILES.items() if e["verdict"] == "refused"}
    assert refused == {"kareo_payments.csv", "kareo_transactions.csv", "synpuf_carrier.csv", "aged_analysis.csv"}


@pytest.mark.parametrize("name", [n for n in FIXTURES if FILES[n]["verdict"] == "refused"])
def test_a_refused_layout_says_what_it_lacks_and_what_to_use_instead(name):
    entry = FILES[name]
    assert entry["table"] is None
    assert entry["lacks"].strip() and entry["instead"].strip()


# ------------------------------------------------------------------------------------- 2. claims: the money


CLAIM_FILES = [n for n in FIXTURES if "claims" in FILES[n]]


@pytest.mark.parametrize("name", CLAIM_FILES)
def test_each_claim_balance_is_charge_less_payments_and_adjustments(name):
    for c in FILES[name]["claims"]:
        assert c["balance"] == c["charge"] - c["paid"] - c["adjusted"], c["claim_id"]


@pytest.mark.parametrize("name", CLAIM_FILES)
def test_claim_totals_are_the_sums_of_the_claims(name):
    claims, totals = FILES[name]["claims"], FILES[name]["totals"]
    assert totals == {"claims": len(claims), **{k: sum(c[k] for c in claims)
                                                  for k in ("charge", "paid", "adjusted", "balance")}}


@pytest.mark.parametrize("name", CLAIM_FILES)
def test_claims_have_service_dates_before_the_as_of_date(name):
    assert all("2026-01-01" <= c["service_date"] <= AS_OF for c in FILES[name]["claims"])


def test_openemr_collections_claims_are_its_rows_with_the_adjustment_unsigned():
    # One row per invoice. csvEscape strips OpenEMR's minus from Adjust, so Balance = Charge - Adjust - Paid:
    # row 2: 185.00 - 62.50 - 100.00 = 22.50.
    expected = claims_by_id("openemr_collections.csv")
    got = {r["Invoice"]: {"claim_id": r["Invoice"], "service_date": r["DOS"], "payer": r["Insurance"] or None,
                          "charge": cents(r["Charge"]), "paid": cents(r["Paid"]), "adjusted": cents(r["Adjust"]),
                          "balance": cents(r["Balance"]), "lines": 1}
           for r in rows("openemr_collections.csv")}
    assert got == expected
    assert got["1.3"]["balance"] == 18500 - 6250 - 10000


def test_openemr_collections_totals_by_hand():
    # Charges 185 + 1,250 + 240 + 150 + 325 + 95 + 410 = 2,655.00; adjustments 62.50 + 410 + 30 = 502.50;
    # payments 100 + 600 + 40 + 45 = 785.00; balance 2,655.00 - 502.50 - 785.00 = 1,367.50.
    assert FILES["openemr_collections.csv"]["totals"] == {
        "claims": 7, "charge": 265500, "adjusted": 50250, "paid": 78500, "balance": 136750}


def test_kareo_charge_lines_follow_their_own_arithmetic():
    # Per charge: TotalCharges = UnitCharge x Units; TotalBalance = AdjustedCharges - Receipts
    # = InsuranceBalance + PatientBalance (97110: 2 x 90.00 = 180.00).
    for r in rows("kareo_charges.csv"):
        assert cents(r["TotalCharges"]) == cents(r["UnitCharge"]) * int(r["Units"])
        assert cents(r["TotalBalance"]) == cents(r["AdjustedCharges"]) - cents(r["Receipts"])
        assert cents(r["TotalBalance"]) == cents(r["InsuranceBalance"]) + cents(r["PatientBalance"])


def test_kareo_claims_are_the_encounters_with_their_lines_summed():
    # Encounter 5001 has 3 lines (99214 180.00, 36415 20.00, 85025 35.00): charge 235.00, receipts
    # 130.00 + 8.00 + 15.00 = 153.00, adjusted = 235.00 - (130.00 + 8.00 + 25.00) = 72.00, balance 10.00.
    lines = defaultdict(list)
    for r in rows("kareo_charges.csv"):
        lines[r["EncounterID"]].append(r)
    got = {}
    for enc, ls in lines.items():
        charge = sum(cents(r["TotalCharges"]) for r in ls)
        got[enc] = {"claim_id": enc, "service_date": us_date(ls[0]["ServiceStartDate"]),
                    "payer": ls[0]["PrimaryInsuranceCompanyName"] or None, "charge": charge,
                    "paid": sum(cents(r["Receipts"]) for r in ls),
                    "adjusted": charge - sum(cents(r["AdjustedCharges"]) for r in ls),
                    "balance": sum(cents(r["TotalBalance"]) for r in ls), "lines": len(ls)}
    assert got == claims_by_id("kareo_charges.csv")
    assert got["5001"] == {"claim_id": "5001", "service_date": "2026-02-09", "payer": "Acme Health Plan",
                                "charge": 23500, "paid": 15300, "adjusted": 7200, "balance": 1000, "lines": 3}


def test_drchrono_line_items_follow_their_own_arithmetic():
    # billed = price x quantity; paid_total = ins_total + pt_paid;
    # balance_total = billed - paid_total - adjustment = balance_ins + balance_pt (97110: 2 x 90.00 = 180.00).
    for r in rows("drchrono_line_items.csv"):
        assert cents(r["billed"]) == cents(r["price"]) * int(Decimal(r["quantity"]))
        assert cents(r["paid_total"]) == cents(r["ins_total"]) + cents(r["pt_paid"])
        assert cents(r["balance_total"]) == cents(r["billed"]) - cents(r["paid_total"]) - cents(r["adjustment"])
        assert cents(r["balance_total"]) == cents(r["balance_ins"]) + cents(r["balance_pt"])


def test_drchrono_claims_are_the_appointments_with_their_line_items_summed():
    # Appointment 880104 has 3 line items: billed 180.00 + 85.00 + 95.00 = 360.00, paid 100.00 + 50.00 = 150.00,
    # adjusted 50.00 + 20.00 = 70.00, balance 360.00 - 150.00 - 70.00 = 140.00. Line items name no payer.
    lines = defaultdict(list)
    for r in rows("drchrono_line_items.csv"):
        lines[r["appointment"]].append(r)
    got = {appt: {"claim_id": appt, "service_date": ls[0]["service_date"], "payer": None,
                  "charge": sum(cents(r["billed"]) for r in ls), "paid": sum(cents(r["paid_total"]) for r in ls),
                  "adjusted": sum(cents(r["adjustment"]) for r in ls),
                  "balance": sum(cents(r["balance_total"]) for r in ls), "lines": len(ls)}
           for appt, ls in lines.items()}
    assert got == claims_by_id("drchrono_line_items.csv")
    assert (got["880104"]["charge"], got["880104"]["balance"]) == (36000, 36000 - 15000 - 7000)


def test_synthea_claims_sum_their_transactions_by_type():
    # charge = AMOUNT of CHARGE rows; paid = PAYMENTS of PAYMENT rows; adjusted = ADJUSTMENTS of ADJUSTMENT rows;
    # TRANSFERIN's AMOUNT only moves the balance to the patient. Claim ...001: charges 120.00 + 36.00 = 156.00,
    # paid 100.00, adjusted 40.00, balance 16.00.
    tx = defaultdict(list)
    for t in rows("synthea_claims_transactions.csv"):
        tx[t["CLAIMID"]].append(t)
    got = {}
    for c in rows("synthea_claims.csv"):
        mine = tx[c["Id"]]
        charge = sum(cents(t["AMOUNT"]) for t in mine if t["TYPE"] == "CHARGE")
        paid = sum(cents(t["PAYMENTS"]) for t in mine if t["TYPE"] == "PAYMENT")
        adjusted = sum(cents(t["ADJUSTMENTS"]) for t in mine if t["TYPE"] == "ADJUSTMENT")
        payer = c["PRIMARYPATIENTINSURANCEID"]
        got[c["Id"]] = {"claim_id": c["Id"], "service_date": c["SERVICEDATE"][:10],
                        "payer": None if payer == "0" else payer, "charge": charge, "paid": paid,
                        "adjusted": adjusted, "balance": charge - paid - adjusted,
                        "lines": sum(1 for t in mine if t["TYPE"] == "CHARGE")}
    assert got == claims_by_id("synthea_claims.csv")
    first = got["5c1a1000-0000-4000-8000-000000000001"]
    assert (first["charge"], first["paid"], first["adjusted"], first["balance"]) == (15600, 10000, 4000, 1600)
    assert FILES["synthea_claims.csv"]["joined_with"] == "synthea_claims_transactions.csv"


def test_synthea_outstanding_after_each_payment_or_adjustment_is_what_is_left():
    # Synthea's OUTSTANDING after an event = charges - payments - adjustments so far
    # (claim ...001: 156.00 - 100.00 = 56.00, then 56.00 - 40.00 = 16.00).
    left = defaultdict(int)
    for t in rows("synthea_claims_transactions.csv"):
        if t["TYPE"] == "CHARGE":
            left[t["CLAIMID"]] += cents(t["AMOUNT"])
        elif t["TYPE"] in ("PAYMENT", "ADJUSTMENT"):
            left[t["CLAIMID"]] -= cents(t["PAYMENTS"]) + cents(t["ADJUSTMENTS"])  # ADJUSTMENTS is "0" on payments
            assert cents(t["OUTSTANDING"]) == left[t["CLAIMID"]], t["ID"]


@pytest.mark.parametrize("name", CLAIM_FILES)
def test_a_claim_export_has_a_claim_with_several_lines_or_one_row_per_claim(name):
    lines = [c["lines"] for c in FILES[name]["claims"]]
    assert max(lines) >= 2 or name == "openemr_collections.csv"


@pytest.mark.parametrize("name", [n for n in CLAIM_FILES if n != "drchrono_line_items.csv"])
def test_a_claim_export_with_a_payer_column_has_a_self_pay_claim(name):
    assert any(c["payer"] is None for c in FILES[name]["claims"])


# --------------------------------------------------------------------------- 2. postings, payments, deposits


def test_openemr_receipts_fill_the_payer_down_and_skip_the_subtotal_rows():
    # Method is printed on the first row of each payer group only; 'Total for ...' and 'Grand Total' are
    # report subtotals. Spreadsheet row = data index + 2.
    postings, summary, method = [], [], None
    for i, r in enumerate(rows("openemr_receipts.csv"), start=2):
        if r["Method"].startswith("Total for ") or r["Method"] == "Grand Total":
            summary.append(i)
            continue
        method = r["Method"] or method
        postings.append({"row": i, "claim_id": r["Invoice"], "payer": None if method == "Patient" else method,
                         "posted_date": r["Date"], "amount": cents(r["Payments"]),
                         "adjustment": cents(r["Adjustments"]), "trace_number": r["Reference"] or None})
    assert postings == FILES["openemr_receipts.csv"]["postings"]
    assert summary == FILES["openemr_receipts.csv"]["summary_rows"]


def test_openemr_receipts_grand_total_is_the_sum_of_the_postings():
    # Payments 100.00 + 80.00 + 600.00 + 120.00 + 40.00 + 45.00 = 985.00;
    # adjustments 62.50 + 20.00 + 410.00 + 35.00 + 30.00 = 557.50 (the report's Grand Total row).
    grand = next(r for r in rows("openemr_receipts.csv") if r["Method"] == "Grand Total")
    totals = FILES["openemr_receipts.csv"]["totals"]
    assert (totals["amount"], totals["adjustment"]) == (cents(grand["Payments"]), cents(grand["Adjustments"]))
    assert (totals["amount"], totals["adjustment"]) == (98500, 55750)


def test_drchrono_transactions_are_postings_one_per_row():
    got = [{"row": i, "posting_id": r["id"], "claim_id": r["appointment"], "payer": r["insurance.name"] or None,
            "posted_date": r["posted_date"][:10], "amount": cents(r["ins_paid"]), "adjustment": cents(r["adjustment"]),
            "trace_number": r["trace_number"] or None}
           for i, r in enumerate(rows("drchrono_transactions.csv"), start=2)]
    assert got == FILES["drchrono_transactions.csv"]["postings"]


def test_drchrono_insurance_postings_add_up_to_the_line_items_insurance_paid():
    # Appointment 880101: transactions 112.00 + 9.00 = 121.00 = ins_total of its two line items.
    posted, on_lines = defaultdict(int), defaultdict(int)
    for r in rows("drchrono_transactions.csv"):
        posted[r["appointment"]] += cents(r["ins_paid"])
    for r in rows("drchrono_line_items.csv"):
        if cents(r["ins_total"]):
            on_lines[r["appointment"]] += cents(r["ins_total"])
    assert posted == on_lines
    assert posted["880101"] == 11200 + 900


def test_drchrono_eobs_are_payments_one_per_row():
    got = [{"row": i, "payment_id": r["id"], "payer": r["insurance_payer_name"], "method": r["payment_method"],
            "payment_date": r["check_date"], "amount": cents(r["total_paid"]),
            "trace_number": r["insurance_payer_trace_number"] or None}
           for i, r in enumerate(rows("drchrono_eobs.csv"), start=2)]
    assert got == FILES["drchrono_eobs.csv"]["payments"]
    assert FILES["drchrono_eobs.csv"]["totals"]["amount"] == sum(p["amount"] for p in got)


def test_each_eob_total_is_its_postings_when_they_are_in_the_transactions():
    # EFT771001 pays appointments 880101 and 880106: 112.00 + 9.00 + 30.00 + 40.00 = 191.00.
    by_trace = defaultdict(int)
    for r in rows("drchrono_transactions.csv"):
        by_trace[r["trace_number"]] += cents(r["ins_paid"])
    eobs = {r["insurance_payer_trace_number"]: cents(r["total_paid"]) for r in rows("drchrono_eobs.csv")}
    assert {t: eobs[t] for t in by_trace} == dict(by_trace)
    assert by_trace["EFT771001"] == 11200 + 900 + 3000 + 4000


BANKS = {"bank_chase_checking.csv": "Posting Date", "bank_bofa.csv": "Date"}


@pytest.mark.parametrize("name", sorted(BANKS))
def test_bank_deposits_are_the_credit_rows_with_the_trn02_trace(name):
    # A CCD+ healthcare EFT carries TRN*1*<TRN02 trace>*<payer id>\ in the description; other credits have none.
    deposits, debits = [], []
    for i, r in enumerate(rows(name), start=2):
        amount = cents(r["Amount"])
        trn = re.search(r"TRN\*1\*([^*\\]+)\*", r["Description"])
        if amount > 0:
            deposits.append({"row": i, "date": us_date(r[BANKS[name]]), "amount": amount,
                             "trace_number": trn.group(1) if trn else None})
        else:
            debits.append({"row": i, "date": us_date(r[BANKS[name]]), "amount": amount})
    assert deposits == FILES[name]["deposits"]
    assert debits == FILES[name]["debits"]
    assert FILES[name]["totals"]["amount"] == sum(d["amount"] for d in deposits)


@pytest.mark.parametrize("name", sorted(BANKS))
def test_bank_running_balance_moves_by_each_amount(name):
    balance_column = "Balance" if "Balance" in header(name) else "Running Bal."
    for before, after in pairwise(rows(name)):
        assert cents(after[balance_column]) == cents(before[balance_column]) + cents(after["Amount"])


def test_chase_efts_are_the_drchrono_ach_eobs():
    # The payers' EFTs (835 TRN02) land in the bank with the same trace and amount: EFT771001 191.00, ...
    eft = {d["trace_number"]: d["amount"] for d in FILES["bank_chase_checking.csv"]["deposits"] if d["trace_number"]}
    eobs = {p["trace_number"]: p["amount"] for p in FILES["drchrono_eobs.csv"]["payments"] if p["method"] == "ACH"}
    assert eft == eobs
