"""KPIs: each with a hand-computed case, the arithmetic in the comment."""

import datetime as dt
import math

import pandas as pd
import pytest

from xl_ar import kpi, tables

AS_OF = dt.date(2026, 9, 30)
D = dt.date


def ledger(*rows) -> pd.DataFrame:
    """rows: (service date, billed?, charge, paid, adjusted, balance) in dollars."""
    data = {k: [] for k in ("claim_id", "account_id", "payer_id", "service_date", "billed_date", "charge", "paid",
                            "adjusted", "balance", "responsibility")}
    for i, (service, billed, charge, paid, adjusted, balance) in enumerate(rows):
        data["claim_id"].append(f"C{i}")
        data["account_id"].append("A")
        data["payer_id"].append("MCR" if i % 2 else "SMH")
        data["service_date"].append(service)
        data["billed_date"].append(service + dt.timedelta(days=2) if billed else None)
        for k, v in zip(("charge", "paid", "adjusted", "balance"), (charge, paid, adjusted, balance), strict=True):
            data[k].append(round(v * 100))
        data["responsibility"].append("insurance")
    return tables.from_columns("claims", data)


CLAIMS = ledger(
    (D(2026, 9, 20), True, 200, 0, 0, 200),      # 10 days old
    (D(2026, 8, 15), True, 300, 100, 100, 100),  # 46 days
    (D(2026, 7, 1), True, 100, 0, 0, 100),       # 91 days
    (D(2026, 5, 1), True, 400, 0, 0, 400),       # 152 days
    (D(2026, 4, 1), True, 500, 450, 100, -50),   # credit balance
    (D(2026, 9, 29), False, 100, 0, 0, 100),     # not billed yet
)


def test_total_ar_and_credit_balances():
    # A/R excluding credits: 200 + 100 + 100 + 400 + 100 = 900; credits: 50
    assert kpi.total_ar(CLAIMS, AS_OF) == 90000 and kpi.credit_balances(CLAIMS) == 5000
    # 50 / 900
    assert kpi.credit_balance_pct(CLAIMS, AS_OF) == pytest.approx(50 / 900)


def test_days_in_ar():
    # look-back: 3 months ending 2026-09-30 = 2026-07-01..09-30 = 92 days
    # charges with service in it: 200 + 300 + 100 + 100 = 700 -> 700 / 92 per day
    # days in A/R = 900 / (700 / 92) = 118.2857...
    assert kpi.days_in_ar(CLAIMS, AS_OF) == pytest.approx(900 / (700 / 92))


def test_days_in_ar_with_a_one_month_lookback():
    # 2026-08-31..09-30 would start after 08-30: (08-30, 09-30] = 31 days; charges 200 + 100 = 300
    assert kpi.days_in_ar(CLAIMS, AS_OF, lookback_months=1) == pytest.approx(900 / (300 / 31))


def test_pct_ar_over_90_and_120_of_billed_ar():
    # billed A/R (positive balances of billed claims): 200 + 100 + 100 + 400 = 800
    # over 90 days from service: 100 (91 days) + 400 (152) = 500 -> 500/800
    assert kpi.pct_ar_over(CLAIMS, AS_OF, 90) == pytest.approx(500 / 800)
    # over 120: 400 -> 400/800
    assert kpi.pct_ar_over(CLAIMS, AS_OF, 120) == pytest.approx(0.5)


def test_pct_ar_over_by_payer_group():
    by = kpi.pct_ar_over_by(CLAIMS, AS_OF, 90, CLAIMS.payer_id).set_index("group")
    # SMH (rows 0, 2, 4): billed 200 + 100 = 300, over 90: 100 -> 1/3; MCR (1, 3, 5): 100 + 400, over 400
    assert by.loc["SMH", "pct"] == pytest.approx(100 / 300) and by.loc["MCR", "pct"] == pytest.approx(400 / 500)


def test_net_collection_rate_does_not_remove_write_offs():
    # service dates 2026-04-01..2026-08-31: claims 2, 3, 4, 5 -> paid 100 + 0 + 0 + 450 = 550
    # charges 300 + 100 + 400 + 500 = 1300; contractual 100 + 100 = 200 -> 550 / 1100 = 0.5
    # (no write-off column: all adjustments are taken as contractual, and the result says so)
    rate = kpi.net_collection_rate(CLAIMS, D(2026, 4, 1), D(2026, 8, 31))
    assert rate.rate == pytest.approx(0.5) and rate.upper_bound


def test_gross_collection_rate():
    # same window: 550 / 1300
    assert kpi.gross_collection_rate(CLAIMS, D(2026, 4, 1), D(2026, 8, 31)) == pytest.approx(550 / 1300)


def test_a_window_with_no_claims_is_not_a_number():
    assert math.isnan(kpi.net_collection_rate(CLAIMS, D(2020, 1, 1), D(2020, 1, 31)).rate)
    with pytest.raises(kpi.KpiError, match="ends"):
        kpi.gross_collection_rate(CLAIMS, D(2026, 2, 1), D(2026, 1, 1))


def remits(*rows) -> pd.DataFrame:
    """rows: (claim_id, status, charge, paid, payment date)."""
    frame = tables.from_columns("claim_payments", {
        "payment_id": [f"P{i}" for i in range(len(rows))], "claim_seq": [1] * len(rows),
        "claim_id": [r[0] for r in rows], "status_code": [r[1] for r in rows],
        "charge": [round(r[2] * 100) for r in rows], "paid": [round(r[3] * 100) for r in rows]})
    frame["payment_date"] = pd.to_datetime([r[4] for r in rows])
    return frame


REMITS = remits(
    ("A", "1", 100, 80, D(2026, 9, 1)),
    ("B", "4", 300, 0, D(2026, 9, 2)),     # denied first
    ("B", "1", 300, 200, D(2026, 9, 20)),  # paid on resubmission: not an initial adjudication
    ("C", "1", 200, 150, D(2026, 9, 3)),
    ("C", "22", -200, -150, D(2026, 9, 10)),  # reversal
    ("C", "1", 200, 160, D(2026, 9, 10)),
    ("D", "4", 50, 0, D(2026, 8, 1)),       # outside the window
)


def test_initial_denial_rate_by_count_and_dollars():
    billed = tables.from_columns("claims", {
        "claim_id": ["A", "B", "C", "D"], "account_id": ["X"] * 4, "payer_id": ["MCR"] * 4,
        "service_date": [D(2026, 8, 1)] * 3 + [D(2026, 7, 1)], "charge": [10000, 30000, 20000, 5000],
        "billed_date": [D(2026, 8, 20), D(2026, 8, 21), D(2026, 8, 22), D(2026, 7, 15)],
        "paid": [0] * 4, "adjusted": [0] * 4, "balance": [0] * 4, "responsibility": ["insurance"] * 4})
    remitted = {"claim_payments": REMITS, "adjustments": tables.empty("adjustments")}
    rate = kpi.initial_denial_rate(billed, remitted, D(2026, 8, 1), D(2026, 8, 31))
    # billed in August: A (paid first), B (denied first, CLP02 4), C (paid first) -> 1 / 3
    assert (rate.claims_billed, rate.claims_denied) == (3, 1) and rate.by_count == pytest.approx(1 / 3)
    # dollars: denied 300 / billed 100 + 300 + 200 = 600
    assert rate.by_dollars == pytest.approx(0.5)


def test_first_pass_resolution_rate():
    # first adjudicated in September: A, B, C; paid first time and never again: only A -> 1/3
    # (B was denied; C was reversed and corrected)
    assert kpi.first_pass_resolution_rate(REMITS, D(2026, 9, 1), D(2026, 9, 30)) == pytest.approx(1 / 3)


def test_kpis_of_the_ledger_are_consistent_with_the_functions():
    values = kpi.kpis(CLAIMS, AS_OF)
    assert set(values) == set(kpi.KPI_NAMES)
    assert values["days_in_ar"] == kpi.days_in_ar(CLAIMS, AS_OF)
    start, end = kpi.kpi_window(AS_OF)
    # twelve months of service dates ending 90 days before the as-of date
    assert (start, end) == (D(2025, 7, 3), D(2026, 7, 2))


def test_months_before_clamps_to_month_end():
    assert kpi.months_before(D(2026, 5, 31), 3) == D(2026, 2, 28)
    assert kpi.months_before(D(2026, 1, 15), 1) == D(2025, 12, 15)


def test_net_collection_rate_keeps_write_offs_in_the_denominator():
    claims = CLAIMS.copy()
    # claim 5 (service 2026-04-01): its 100 of adjustments are a bad-debt write-off, not contractual
    claims["written_off"] = [0, 0, 0, 0, 10000, 0]
    # paid 550 / (charges 1300 - contractual 100) = 550 / 1200
    assert kpi.net_collection_rate(claims, D(2026, 4, 1), D(2026, 8, 31)).rate == pytest.approx(550 / 1200)
