"""KPIs by their published definitions (issue 10, sections 3 and 4): initial denial rate, net
collection rate and its basis, one A/R everywhere, labels, and the rollforward of a claim paid by
a primary then a secondary payer. Remittances are real 835 text (tests/era_builder.py) read by the
product's reader."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from xl_ar import kpi, tables
from xl_ar.cli import main
from xl_ar.reconcile import Reconciliation
from xl_ar.remittances import read_remittances
from xl_ar.reports import content, management
from xl_ar.rollforward import month_end_history, rollforward
from xl_ar.sources import SourceFile

AS_OF = dt.date(2026, 9, 30)
D = dt.date
ROOT = Path(__file__).resolve().parents[1]


def remitted(*files: str, balanced: bool = True) -> dict[str, pd.DataFrame]:
    """The 835 texts read by the product's reader (which must find them balanced, unless told)."""
    tabs, findings = read_remittances([SourceFile(f"era{i}.835", text.encode()) for i, text in enumerate(files)])
    assert not balanced or [f for f in findings if f.severity == "error"] == []
    return tabs


def ledger(*rows: dict) -> pd.DataFrame:
    """Claims from dicts of dollars and dates; defaults: billed two days after service, nothing paid."""
    out = []
    for i, r in enumerate(rows):
        service = r.get("service", D(2026, 8, 1))
        charge = r.get("charge", 200)
        paid, adjusted = r.get("paid", 0), r.get("adjusted", 0)
        row = {"claim_id": r.get("id", f"C{i}"), "account_id": "A1", "payer_id": r.get("payer", "ACME"),
               "service_date": service, "billed_date": r.get("billed", service + dt.timedelta(days=2)),
               "charge": round(charge * 100), "paid": round(paid * 100), "adjusted": round(adjusted * 100),
               "balance": round(r.get("balance", charge - paid - adjusted) * 100),
               "responsibility": r.get("resp", "insurance"),
               "last_activity_date": r.get("activity", service + dt.timedelta(days=2))}
        for k in ("written_off", "insurance_balance", "patient_balance"):
            if k in r:
                row[k] = None if r[k] is None else round(r[k] * 100)
        out.append(row)
    return tables.to_frame("claims", out)


def denied(claim: Claim, balanced: bool = True) -> bool:
    """Whether `kpi.denied_in_full` says this one CLP loop denies its claim in full."""
    tabs = remitted(era("T1", claim.paid, [claim]), balanced=balanced)
    return bool(kpi.denied_in_full(tabs["claim_payments"], tabs["adjustments"], tabs["line_payments"])[0])


# -- denied in full ---------------------------------------------------------------------------------

def test_clp02_4_is_a_denial_whatever_else():
    assert denied(Claim("C1", "4", "200", "0", cas=[("CO", "45", "200")]))


def test_primary_paying_nothing_with_a_denial_on_every_line_is_denied_in_full():
    # 120 + 80 = 200 charged, 0 paid; CO-50 (medical necessity) and CO-197 (authorization) on the lines
    claim = Claim("C1", "1", "200", "0", lines=[Line("99213", "120", "0", [("CO", "50", "120")]),
                                                Line("93000", "80", "0", [("CO", "197", "80")])])
    assert denied(claim)


def test_one_line_applied_to_the_deductible_is_not_a_full_denial():
    # line 2's 80 is the patient's deductible (PR-1): adjudicated, owed by the patient
    claim = Claim("C1", "1", "200", "0", lines=[Line("99213", "120", "0", [("CO", "50", "120")]),
                                                Line("93000", "80", "0", [("PR", "1", "80")])])
    assert not denied(claim)


def test_a_claim_without_lines_is_denied_by_its_claim_level_denial():
    # CLP02 2 (secondary), nothing paid, CO-16 at claim level for the whole 200
    assert denied(Claim("C1", "2", "200", "0", cas=[("CO", "16", "200")]))


def test_oa_and_pi_denial_reasons_count_but_pr_does_not():
    # OA-18 (duplicate) and PI-29 (timely filing) are payer denials; PR-204 is the patient's to pay
    assert denied(Claim("C1", "1", "200", "0", cas=[("OA", "18", "200")]))
    assert denied(Claim("C1", "19", "200", "0", cas=[("PI", "29", "200")]))
    assert not denied(Claim("C1", "1", "200", "0", cas=[("PR", "204", "200")]))


def test_a_contractual_write_down_to_zero_is_not_a_denial():
    # CO-45 takes the whole 200: priced at 0 by contract, not denied
    assert not denied(Claim("C1", "1", "200", "0", lines=[Line("99213", "200", "0", [("CO", "45", "200")])]))


def test_a_payment_or_a_zero_charge_is_never_a_full_denial():
    # 50 paid: not denied in full although the rest carries CO-50
    assert not denied(Claim("C1", "1", "200", "50", cas=[("CO", "50", "150")]))
    # nothing charged, nothing to deny
    assert not denied(Claim("C1", "1", "0", "0", cas=[("CO", "50", "0")]))


def test_a_line_without_adjustments_of_its_own_carries_the_claim_level_denial():
    # the payer put CO-16 at claim level; the lines have no CAS of their own (so they do not balance)
    claim = Claim("C1", "1", "200", "0", cas=[("CO", "16", "200")],
                  lines=[Line("99213", "120", "0"), Line("93000", "80", "0")])
    assert denied(claim, balanced=False)


def test_a_line_with_its_own_non_denial_adjustment_is_not_covered_by_the_claim_level_denial():
    # claim-level CO-16 of 120 for line 1; line 2's 80 went to the deductible (PR-1)
    claim = Claim("C1", "1", "200", "0", cas=[("CO", "16", "120")],
                  lines=[Line("99213", "120", "0"), Line("93000", "80", "0", [("PR", "1", "80")])])
    assert not denied(claim, balanced=False)


# -- initial denial rate ----------------------------------------------------------------------------

def denial_practice() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Five claims billed in August 2026, one in July; first adjudications in September:
    A paid; B CLP02 4; C CLP02 1 with $0 and CO-50 (denied in full); D paid on resubmission after
    a CLP02 4 (its first adjudication is the denial); E not adjudicated yet; F billed in July, denied."""
    claims = ledger({"id": "A", "charge": 100, "billed": D(2026, 8, 5)}, {"id": "B", "charge": 300,
                    "billed": D(2026, 8, 6)}, {"id": "C", "charge": 200, "billed": D(2026, 8, 7)},
                    {"id": "D", "charge": 400, "billed": D(2026, 8, 8)}, {"id": "E", "charge": 500,
                    "billed": D(2026, 8, 9)}, {"id": "F", "charge": 50, "billed": D(2026, 7, 9)})
    first = era("T1", "80", [Claim("A", "1", "100", "80", cas=[("CO", "45", "20")]),
                             Claim("B", "4", "300", "0", cas=[("CO", "27", "300")]),
                             Claim("C", "1", "200", "0", cas=[("CO", "50", "200")]),
                             Claim("D", "4", "400", "0", cas=[("CO", "16", "400")]),
                             Claim("F", "4", "50", "0", cas=[("CO", "29", "50")])], date="20260905")
    again = era("T2", "350", [Claim("D", "1", "400", "350", cas=[("CO", "45", "50")])], date="20260920")
    return claims, remitted(first, again)


def test_initial_denial_rate_counts_claims_billed_in_the_period_denied_in_full_first_time():
    claims, remits = denial_practice()
    rate = kpi.initial_denial_rate(claims, remits, D(2026, 8, 1), D(2026, 8, 31))
    # billed in August: A, B, C, D, E = 5; denied in full first: B (CLP02 4), C (CLP02 1, $0, CO-50),
    # D (CLP02 4, paid later on resubmission) = 3 -> 3 / 5
    assert (rate.claims_denied, rate.claims_billed) == (3, 5) and rate.by_count == pytest.approx(3 / 5)


def test_initial_denial_rate_by_billed_charges():
    claims, remits = denial_practice()
    rate = kpi.initial_denial_rate(claims, remits, D(2026, 8, 1), D(2026, 8, 31))
    # denied 300 + 200 + 400 = 900 of billed 100 + 300 + 200 + 400 + 500 = 1,500
    assert (rate.dollars_denied, rate.dollars_billed) == (90000, 150000) and rate.by_dollars == pytest.approx(0.6)


def test_billed_claims_not_adjudicated_yet_stay_in_the_denominator_and_are_counted():
    claims, remits = denial_practice()
    rate = kpi.initial_denial_rate(claims, remits, D(2026, 8, 1), D(2026, 8, 31))
    # E has no remittance: 5 billed, 4 adjudicated, 1 not yet
    assert (rate.claims_adjudicated, rate.claims_not_adjudicated) == (4, 1)


def test_a_resent_copy_of_a_payment_is_counted_once():
    claims = ledger({"id": "A", "charge": 100, "billed": D(2026, 8, 5)})
    paid = era("T1", "80", [Claim("A", "1", "100", "80", cas=[("CO", "45", "20")])], date="20260905")
    copy = era("T1", "80", [Claim("A", "1", "100", "80", cas=[("CO", "45", "20")])], date="20260905", control=2)
    rate = kpi.initial_denial_rate(claims, remitted(paid, copy), D(2026, 8, 1), D(2026, 8, 31))
    # one claim billed, adjudicated once (the copy is not a second adjudication), not denied: 0 / 1
    assert (rate.claims_billed, rate.claims_adjudicated, rate.claims_denied) == (1, 1, 0)


def test_a_reversal_is_not_a_first_adjudication():
    claims = ledger({"id": "A", "charge": 100, "billed": D(2026, 8, 5)})
    # the earliest loop is a reversal (CLP02 22) of an older payment; the first adjudication is the denial after it
    reversal = era("T1", "-80", [Claim("A", "22", "-100", "-80", cas=[("CO", "45", "-20")])], date="20260903")
    denial = era("T2", "0", [Claim("A", "4", "100", "0", cas=[("CO", "50", "100")])], date="20260904")
    rate = kpi.initial_denial_rate(claims, remitted(reversal, denial), D(2026, 8, 1), D(2026, 8, 31))
    assert rate.claims_denied == 1


def test_the_report_and_the_kpi_count_the_same_denials():
    claims, remits = denial_practice()
    data = report_of(claims, remits, as_of=D(2026, 9, 30), months=2)
    tiles = {t.key: t for t in data.tiles}
    rate = kpi.initial_denial_rate(claims, remits, D(2026, 8, 1), D(2026, 9, 30))
    # the report's period is 2026-08-01..09-30: the same 3 of 5 (F was billed in July)
    assert tiles["denial_rate_count"].value == rate.by_count == pytest.approx(3 / 5)
    assert tiles["denial_rate_dollars"].value == rate.by_dollars
    assert int(data.denials_by_category.claims.sum()) == 3
    assert "1 of the 5 billed claims have no adjudication yet" in tiles["denial_rate_count"].definition


# -- net collection rate ----------------------------------------------------------------------------

NCR_WINDOW = (D(2026, 7, 1), D(2026, 7, 31))


def test_ncr_takes_write_offs_out_of_the_adjustments_when_the_export_shows_them():
    claims = ledger({"service": D(2026, 7, 10), "charge": 200, "paid": 120, "adjusted": 80, "written_off": 30})
    rate = kpi.net_collection_rate(claims, *NCR_WINDOW)
    # contractual = 80 adjusted - 30 written off = 50; 120 / (200 - 50) = 0.8
    assert rate.rate == pytest.approx(120 / 150) and rate.basis == "written_off" and not rate.upper_bound


def test_an_empty_write_off_cell_is_no_write_off_when_the_export_has_the_column():
    claims = ledger({"service": D(2026, 7, 10), "charge": 200, "paid": 120, "adjusted": 80, "written_off": 30},
                    {"service": D(2026, 7, 11), "charge": 100, "paid": 60, "adjusted": 40, "written_off": None})
    # contractual = (80 - 30) + (40 - 0) = 90; paid 180 / (300 - 90) = 180 / 210
    assert kpi.net_collection_rate(claims, *NCR_WINDOW).rate == pytest.approx(180 / 210)


def test_without_write_offs_the_ncr_takes_the_contractual_adjustments_of_the_835s():
    claims = ledger({"id": "A", "service": D(2026, 7, 10), "charge": 200, "paid": 120, "adjusted": 80})
    # of the 80 adjusted, the 835 shows CO-45 50 (contractual); the other 30 is a write-off
    remits = remitted(era("T1", "120", [Claim("A", "1", "200", "120", cas=[("CO", "45", "50"), ("CO", "50", "30")])]))
    rate = kpi.net_collection_rate(claims, *NCR_WINDOW, remittances=remits)
    # 120 / (200 - 50) = 0.8
    assert rate.rate == pytest.approx(0.8) and rate.basis == "remittances" and not rate.upper_bound


def test_a_secondary_repeating_the_primary_contractual_adjustment_is_not_a_second_one():
    claims = ledger({"id": "A", "service": D(2026, 7, 10), "charge": 200, "paid": 160, "adjusted": 40})
    primary = era("T1", "120", [Claim("A", "1", "200", "120", cas=[("CO", "45", "40"), ("PR", "1", "40")])])
    # the secondary pays the 40 the patient owed; OA-23 (the primary's part) is not contractual at all
    secondary = era("T2", "40", [Claim("A", "2", "200", "40", cas=[("OA", "23", "120"), ("CO", "45", "40")])],
                    payer="SECOND HEALTH", payer_ref="SEC01")
    rate = kpi.net_collection_rate(claims, *NCR_WINDOW, remittances=remitted(primary, secondary))
    # contractual: 40 + 40 on the 835s, capped at the 40 the ledger adjusted -> 160 / (200 - 40) = 1.0
    assert rate.contractual == 4000 and rate.rate == pytest.approx(1.0)


def test_without_write_offs_or_835s_the_ncr_is_an_upper_bound_and_says_so():
    claims = ledger({"service": D(2026, 7, 10), "charge": 200, "paid": 120, "adjusted": 80})
    rate = kpi.net_collection_rate(claims, *NCR_WINDOW)
    # every adjustment taken as contractual: 120 / (200 - 80) = 1.0, at most
    assert rate.rate == pytest.approx(1.0) and rate.upper_bound and rate.note.startswith("upper bound")


def test_the_kpi_command_prints_the_ncr_caveat(tmp_path, capsys):
    path = claims_csv(tmp_path, ledger({"service": D(2026, 5, 10), "charge": 200, "paid": 120, "adjusted": 80}))
    assert main(["kpi", "--claims", str(path), "--as-of", "2026-09-30"]) == 0
    out = capsys.readouterr().out
    assert "upper bound: the export shows no write-offs" in out
    assert main(["kpi", "--claims", str(path), "--as-of", "2026-09-30", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notes"]["net_collection_rate"].startswith("upper bound")


def test_the_report_shows_the_ncr_caveat_beside_the_figure():
    claims = ledger({"service": D(2026, 5, 10), "charge": 200, "paid": 120, "adjusted": 80})
    data = report_of(claims, remitted(), as_of=AS_OF)
    tile = next(t for t in data.tiles if t.key == "net_collection_rate")
    assert tile.label == "Net collection rate (upper bound: write-offs unknown)"
    assert any(note.startswith("Net collection rate (upper bound") for note in data.notes)


# -- one A/R, future-dated and unbilled on rows of their own ----------------------------------------

def ar_claims() -> pd.DataFrame:
    return ledger(
        {"id": "A", "service": D(2026, 9, 1), "charge": 300, "balance": 300},                   # billed, 29 days
        {"id": "B", "service": D(2026, 5, 1), "charge": 400, "balance": 400},                   # billed, 152 days
        {"id": "C", "service": D(2026, 9, 20), "charge": 100, "balance": 100, "billed": None},  # not billed yet
        {"id": "D", "service": D(2026, 10, 5), "charge": 150, "balance": 150, "billed": None},  # after the as-of date
        {"id": "E", "service": D(2026, 8, 1), "charge": 200, "paid": 150, "balance": 50,
         "insurance_balance": 100, "patient_balance": -50},                                    # split
    )


def test_a_is_the_positive_balances_serviced_by_the_as_of_date_billed_or_not():
    t = kpi.kpis(ar_claims(), AS_OF)
    # A/R = 300 + 400 + 100 (unbilled) + 100 (E's insurance part); D is future-dated; E's -50 is a credit
    assert (t["total_ar"], t["unbilled_ar"], t["future_dated"], t["credit_balances"]) == (90000, 10000, 15000, 5000)


def test_kpi_aging_and_report_print_the_same_ar(tmp_path, capsys):
    claims = ar_claims()
    path = claims_csv(tmp_path, claims)
    assert main(["kpi", "--claims", str(path), "--as-of", "2026-09-30", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)["kpis"]
    assert main(["aging", "--claims", str(path), "--as-of", "2026-09-30", "--by", "payer", "--json"]) == 0
    aged = json.loads(capsys.readouterr().out)
    rows = {r["group"]: r for r in aged["rows"]}
    tile = next(t for t in report_of(claims, remitted(), as_of=AS_OF).tiles if t.key == "total_ar")
    # 300 + 400 + 100 + 100 = 900.00 in all three
    assert printed["total_ar"] == aged["ar"] == rows["A/R"]["total"] == "900.00" and tile.value == 90000


def test_future_dated_and_unbilled_balances_are_on_rows_of_their_own(tmp_path, capsys):
    path = claims_csv(tmp_path, ar_claims())
    assert main(["aging", "--claims", str(path), "--as-of", "2026-09-30", "--json"]) == 0
    rows = {r["group"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    # the buckets hold billed A/R: 300 + 400 + 100 = 800; unbilled 100 and future-dated 150 apart
    assert rows["Total"]["total"] == "800.00"
    assert rows["Unbilled (in A/R)"]["total"] == "100.00" and rows["Future-dated (not in A/R)"]["total"] == "150.00"
    assert main(["kpi", "--claims", str(path), "--as-of", "2026-09-30"]) == 0
    out = capsys.readouterr().out
    assert "of which unbilled" in out and "Future-dated balances (not in A/R)" in out


def test_the_aging_total_share_over_90_is_the_kpi_share_of_billed_ar():
    from xl_ar.aging import aging

    claims = ar_claims()
    total = aging(claims, AS_OF).extra.set_index("group").loc["Total"]
    # billed A/R 300 + 400 + 100 = 800, of which 400 over 90 days -> 0.5 in both
    assert total.pct_over_90 == kpi.pct_ar_over(claims, AS_OF, 90) == pytest.approx(0.5)


# -- labels -----------------------------------------------------------------------------------------

def test_days_in_ar_is_nowhere_labelled_hfma_ar_2():
    sources = [*(ROOT / "xl_ar").rglob("*.py"), *(ROOT / "udfs").rglob("*.py")]
    assert [p.name for p in sources if "AR-2" in p.read_text(encoding="utf-8")] == []


def test_the_report_shows_one_pct_over_90_and_one_ncr_each_with_its_definition(tmp_path):
    claims = ar_claims()
    data = report_of(claims, remitted(), as_of=AS_OF)
    path = tmp_path / "report.xlsx"
    management.write(path, data)
    book = openpyxl.load_workbook(path)
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    # one tile each, and no other figure anywhere called "% over 90" or "net collection rate"
    assert sum(c == "% of billed A/R over 90 days" for c in cells) == 1
    assert [c for c in cells if c.lower().strip() in ("% over 90", "% > 90")] == []
    assert sum(c.startswith("Net collection rate") for c in cells) == 2  # the tile and its definition
    assert "Cash collection ratio" in cells
    assert any(c.startswith("% of billed A/R over 90 days: billed A/R more than 90 days") for c in cells)


# -- who owes: OA-23 and the rollforward ------------------------------------------------------------

def two_payer_claim(secondary_repeats_co45: bool, last_activity: dt.date):
    """A 200.00 claim: primary allows 160 (CO-45 40), pays 120, PR-1 40 -> forwarded; secondary pays 40
    with OA-23 for the primary's part. Ledger: paid 160, adjusted 40, balance 0."""
    claims = ledger({"id": "A", "service": D(2026, 8, 3), "charge": 200, "paid": 160, "adjusted": 40,
                     "activity": last_activity})
    primary = era("T1", "120", [Claim("A", "19", "200", "120", patient_resp="40",
                                      cas=[("CO", "45", "40"), ("PR", "1", "40")])], date="20260910")
    cas = [("OA", "23", "120"), ("CO", "45", "40")] if secondary_repeats_co45 else [("OA", "23", "160")]
    secondary = era("T2", "40", [Claim("A", "2", "200", "40", cas=cas)], date="20260920",
                    payer="SECOND HEALTH", payer_ref="SEC01")
    postings = tables.to_frame("postings", [
        {"posting_id": "P1", "claim_id": "A", "payer_id": "ACME", "amount": 12000, "posted_date": D(2026, 9, 12),
         "trace_number": "T1"},
        {"posting_id": "P2", "claim_id": "A", "payer_id": "SEC", "amount": 4000, "posted_date": D(2026, 9, 22),
         "trace_number": "T2"}])
    return claims, postings, remitted(primary, secondary)


@pytest.mark.parametrize("repeats", [False, True])
@pytest.mark.parametrize("activity", [D(2026, 9, 22), D(2026, 8, 5)])
def test_a_claim_paid_by_primary_then_secondary_never_rolls_forward_above_its_charge(repeats, activity):
    claims, postings, remits = two_payer_claim(repeats, activity)
    t = rollforward(claims, postings, remits, AS_OF, months=2).table
    # August: 200 charged, nothing else dated -> 200; September: 200 - 160 paid - 40 contractual -> 0
    assert t.ending.tolist() == [20000, 0]
    assert (t.adjustments >= 0).all() and t.adjustments.sum() == 4000


def test_oa_23_is_neither_contractual_nor_a_denial():
    from xl_ar import codes

    category, _ = codes.categorize(pd.Series(["OA", "CO"]), pd.Series(["23", "23"]))
    assert category.tolist() == ["prior_payer", "prior_payer"]
    assert "prior_payer" not in codes.DENIAL_CATEGORIES
    # the secondary's remittance (OA-23 160, paid 40) is not a denial either
    assert not denied(Claim("A", "2", "200", "40", cas=[("OA", "23", "160")]))


def test_the_month_end_history_at_the_as_of_date_is_the_kpi_figures():
    claims, postings, remits = two_payer_claim(False, D(2026, 9, 22))
    claims = pd.concat([claims, ar_claims().assign(claim_id=lambda f: "X" + f.claim_id)], ignore_index=True)
    last = month_end_history(claims, postings, remits, AS_OF, months=2).iloc[-1]
    values = kpi.kpis(claims, AS_OF)
    assert (last.ar, last.credit_balances) == (values["total_ar"], values["credit_balances"])


# -- helpers ----------------------------------------------------------------------------------------

def claims_csv(tmp_path: Path, claims: pd.DataFrame) -> Path:
    """The claims as a PM export would write them (dollars, ISO dates, empty cells for missing values)."""
    out = claims.copy()
    for c in tables.TABLES["claims"].columns:
        if c.kind == tables.Kind.MONEY:
            out[c.name] = [None if pd.isna(v) else f"{int(v) / 100:.2f}" for v in out[c.name]]
        elif c.kind == tables.Kind.DATE:
            out[c.name] = [None if pd.isna(v) else v.date().isoformat() for v in out[c.name]]
    path = tmp_path / "claims.csv"
    out.dropna(axis=1, how="all").to_csv(path, index=False)
    return path


def report_of(claims: pd.DataFrame, remits: dict[str, pd.DataFrame], as_of: dt.date, months: int = 12
              ) -> content.ReportData:
    payers = tables.to_frame("payers", [{"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial"}])
    result = Reconciliation(tables.empty("exceptions"), as_of)
    return content.build(claims, payers, tables.empty("postings"), remits, result, as_of, "Test", months=months,
                         key=b"k" * 32)
