"""Appeals (issue 15, part 2): opened from worklist rows, status rules, closed by the next 835 with the right
outcome, optimistic locking in the store, and the appeal KPIs computed by hand. Remittances are real 835 text
(tests/era_builder.py) read by the product's reader."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.era_builder import Claim, era
from xl_ar import appeals, tables
from xl_ar.errors import ArgumentError, StoreError
from xl_ar.remittances import read_remittances
from xl_ar.sources import SourceFile
from xl_ar.store import Store

D = dt.date


def remitted(*texts: str) -> dict[str, pd.DataFrame]:
    """835 texts read by the product's reader, as one set of remittance tables."""
    tabs, _ = read_remittances([SourceFile(f"era{i}.835", t.encode()) for i, t in enumerate(texts)])
    return tabs


def appeal(**fields) -> dict:
    """One appeal row: claim C1 at ACME, level 1, filed 2026-09-10 for $150.00 against payment T1's denial."""
    row = {"appeal_id": "1", "claim_id": "C1", "payer_id": "ACME", "level": "1", "status": "filed",
           "category": "authorization", "denial_date": D(2026, 9, 1), "filed_date": D(2026, 9, 10),
           "method": "portal", "amount_appealed": 15000, "version": 1}
    return row | fields


def frame(*rows: dict) -> pd.DataFrame:
    return tables.to_frame("appeals", list(rows))


DENIAL = era("T1", "0", [Claim("C1", "4", "200", "0", cas=[("CO", "197", "200")])], date="20260901")


def payment_id(tabs: dict[str, pd.DataFrame], trace: str) -> str:
    return str(tabs["payments"].set_index("trace_number").payment_id[trace])


def close(rows: list[dict], *texts: str) -> pd.DataFrame:
    """The closures of appeals against the denial T1 (their payment_id) given the follow-up 835s."""
    tabs = remitted(DENIAL, *texts)
    first = payment_id(tabs, "T1")
    return appeals.closures(frame(*[r | {"payment_id": first} for r in rows]), tabs["claim_payments"],
                            tabs["payments"])


# -- closing by the next 835 ------------------------------------------------------------------------------------

def test_a_reprocessed_claim_paying_the_amount_appealed_wins_it():
    again = era("T2", "150", [Claim("C1", "1", "200", "150", cas=[("CO", "45", "50")])], date="20261001")
    out = close([appeal()], again)
    assert out.status.tolist() == ["won"]
    assert out.recovered.tolist() == [15000]  # 150.00 paid now - 0.00 paid by the denial
    assert out.resolved_date.tolist() == [D(2026, 10, 1)]


def test_the_closing_payment_is_recorded_as_resolved_by():
    again = era("T2", "150", [Claim("C1", "1", "200", "150", cas=[("CO", "45", "50")])], date="20261001")
    tabs = remitted(DENIAL, again)
    out = appeals.closures(frame(appeal(payment_id=payment_id(tabs, "T1"))), tabs["claim_payments"],
                           tabs["payments"])
    assert out.resolved_by.tolist() == [payment_id(tabs, "T2")]


def test_paying_part_of_the_amount_appealed_is_partially_won():
    again = era("T2", "100", [Claim("C1", "1", "200", "100", cas=[("CO", "45", "100")])], date="20261001")
    out = close([appeal()], again)
    assert out.status.tolist() == ["partially_won"]
    assert out.recovered.tolist() == [10000]  # 100.00 of the 150.00 appealed


def test_a_second_denial_after_filing_loses_it():
    again = era("T2", "0", [Claim("C1", "4", "200", "0", cas=[("CO", "197", "200")])], date="20261001")
    out = close([appeal()], again)
    assert out.status.tolist() == ["lost"]
    assert out.recovered.tolist() == [0]


def test_an_835_dated_before_the_filing_date_does_not_close_it():
    early = era("T2", "150", [Claim("C1", "1", "200", "150", cas=[("CO", "45", "50")])], date="20260905")
    assert close([appeal()], early).empty  # paid 2026-09-05, filed 2026-09-10


def test_an_835_dated_on_the_filing_date_closes_it():
    same_day = era("T2", "150", [Claim("C1", "1", "200", "150", cas=[("CO", "45", "50")])], date="20260910")
    assert close([appeal()], same_day).status.tolist() == ["won"]


def test_a_drafted_appeal_is_not_closed():
    again = era("T2", "150", [Claim("C1", "1", "200", "150", cas=[("CO", "45", "50")])], date="20261001")
    assert close([appeal(status="drafted", filed_date=None, method=None)], again).empty


def test_the_appealed_payment_itself_does_not_close_it():
    assert close([appeal(filed_date=D(2026, 8, 20))]).empty  # T1 (2026-09-01) is after filing but is the denial


def test_a_reversal_and_its_correction_close_it_with_the_corrected_payment():
    # T1 paid 80.00 of 200.00 (underpaid; 40.00 appealed); T2 reverses T1 and pays 120.00 instead
    first = era("T1", "80", [Claim("C1", "1", "200", "80", cas=[("CO", "45", "120")])], date="20260901")
    again = era("T2", "40", [Claim("C1", "22", "-200", "-80", cas=[("CO", "45", "-120")]),
                             Claim("C1", "1", "200", "120", cas=[("CO", "45", "80")])], date="20261001")
    tabs = remitted(first, again)
    out = appeals.closures(frame(appeal(amount_appealed=4000, category="contractual",
                                        payment_id=payment_id(tabs, "T1"))), tabs["claim_payments"], tabs["payments"])
    assert out.status.tolist() == ["won"]
    assert out.recovered.tolist() == [4000]  # 120.00 corrected - 80.00 first paid


def test_closing_leaves_other_claims_alone():
    again = era("T2", "150", [Claim("C2", "1", "200", "150", cas=[("CO", "45", "50")])], date="20261001")
    assert close([appeal()], again).empty


# -- opening from the worklist ----------------------------------------------------------------------------------

def worklist_row(kind: str = "denied", claim: str = "C1", **fields) -> dict:
    row = {"kind": kind, "claim_id": claim, "payment_id": "P1", "payer_id": "ACME", "expected": 20000, "actual": 0,
           "variance": -20000, "reason": "denied", "category": "authorization", "next_action": "appeal",
           "deadline": D(2026, 11, 30)}
    return row | fields


PAYMENTS = tables.to_frame("payments", [{"payment_id": "P1", "method": "ACH", "amount": 0,
                                         "payment_date": D(2026, 9, 1), "trace_number": "T1"}])


def opened(*rows: dict, existing: pd.DataFrame | None = None, **options) -> appeals.Opening:
    return appeals.open_from_worklist(tables.to_frame("exceptions", list(rows)),
                                      tables.empty("appeals") if existing is None else existing, PAYMENTS, **options)


def test_a_denied_row_opens_a_level_1_draft_with_the_amount_at_stake_and_the_dates():
    out = opened(worklist_row()).appeals
    row = out.iloc[0]
    assert (row.level, row.status, row.amount_appealed, row.payment_id) == ("1", "drafted", 20000, "P1")
    assert (row.denial_date.date(), row.deadline.date()) == (D(2026, 9, 1), D(2026, 11, 30))


def test_an_underpaid_row_appeals_the_contracted_amount_not_paid():
    row = worklist_row("underpaid", expected=12000, actual=9000, variance=-3000, category="contractual")
    assert opened(row).appeals.amount_appealed.tolist() == [3000]  # 120.00 contracted - 90.00 allowed


def test_a_filing_date_opens_it_filed_with_its_method():
    row = opened(worklist_row(), filed_date=D(2026, 9, 15), method="fax").appeals.iloc[0]
    assert (row.status, row.filed_date.date(), row.method) == ("filed", D(2026, 9, 15), "fax")


def test_other_kinds_are_refused_with_a_reason():
    out = opened(worklist_row("overpaid", variance=500))
    assert out.appeals.empty
    assert out.refused.reason.tolist() == ["the row is overpaid: only denied, partially denied or underpaid rows "
                                           "are appealed"]


def test_level_2_follows_a_lost_level_1():
    lost = frame(appeal(status="lost", resolved_date=D(2026, 10, 1)))
    assert opened(worklist_row(), existing=lost).appeals.level.tolist() == ["2"]


def test_external_follows_a_partially_won_level_2():
    done = frame(appeal(status="lost"), appeal(appeal_id="2", level="2", status="partially_won"))
    assert opened(worklist_row(), existing=done).appeals.level.tolist() == ["external"]


@pytest.mark.parametrize("status", ["drafted", "filed", "won", "withdrawn"])
def test_no_next_level_while_level_1_is_open_won_or_withdrawn(status):
    out = opened(worklist_row(), existing=frame(appeal(status=status)))
    assert out.appeals.empty and len(out.refused) == 1


def test_nothing_after_external_review():
    done = frame(appeal(status="lost"), appeal(appeal_id="2", level="2", status="lost"),
                 appeal(appeal_id="3", level="external", status="lost"))
    assert opened(worklist_row(), existing=done).refused.reason.tolist() == ["external review was the last level"]


def test_a_level_asked_that_is_not_the_next_is_refused():
    out = opened(worklist_row(), level="2")
    assert out.refused.reason.tolist() == ["the next level for this claim is 1, not 2"]


def test_filing_without_a_method_is_refused():
    with pytest.raises(ArgumentError, match="method"):
        opened(worklist_row(), filed_date=D(2026, 9, 15))


# -- status rules -----------------------------------------------------------------------------------------------

def test_a_draft_is_filed_with_its_date_and_method():
    assert appeals.transition(appeal(status="drafted"), "filed", D(2026, 9, 12), "mail") == {
        "status": "filed", "filed_date": D(2026, 9, 12), "method": "mail"}


def test_a_filed_appeal_is_withdrawn_on_a_day():
    assert appeals.transition(appeal(), "withdrawn", D(2026, 9, 20)) == {"status": "withdrawn",
                                                                         "resolved_date": D(2026, 9, 20)}


def test_a_draft_cannot_be_won():
    with pytest.raises(ArgumentError, match="filed or withdrawn"):
        appeals.transition(appeal(status="drafted"), "won", D(2026, 9, 20))


@pytest.mark.parametrize("status", ["won", "partially_won", "lost", "withdrawn"])
def test_a_closed_appeal_does_not_reopen(status):
    with pytest.raises(ArgumentError, match="does not reopen"):
        appeals.transition(appeal(status=status), "filed", D(2026, 9, 20), "portal")


# -- the store: unique (claim, level), optimistic locking -------------------------------------------------------

@pytest.fixture
def store(store_at):
    with Store.open(store_at) as s:
        yield s


def test_opening_stores_each_claim_and_level_once(store):
    draft = frame(appeal(status="drafted", filed_date=None, method=None, appeal_id="", version=None))
    first, _ = store.open_appeals(draft)
    again, refused = store.open_appeals(draft)
    assert first.appeal_id.tolist() == ["1"] and first.version.tolist() == [1]
    assert again.empty and len(refused) == 1
    assert len(store.appeals()) == 1


def test_a_change_bumps_the_version_and_records_who(store):
    store.open_appeals(frame(appeal(status="drafted", filed_date=None, method=None)))
    assert store.change_appeal("1", 1, actor="ana", status="filed", filed_date=D(2026, 9, 12), method="mail") == 2
    row = store.appeals().iloc[0]
    assert (row.status, row.filed_date.date(), row.method, row.version) == ("filed", D(2026, 9, 12), "mail", 2)


def test_two_changes_from_the_same_version_the_second_is_refused_and_nothing_overwritten(store):
    store.open_appeals(frame(appeal(status="drafted", filed_date=None, method=None)))
    store.change_appeal("1", 1, actor="ana", status="filed", filed_date=D(2026, 9, 12), method="mail")
    with pytest.raises(StoreError, match=r"changed by ana .*reload"):
        store.change_appeal("1", 1, actor="ben", status="withdrawn", resolved_date=D(2026, 9, 13))
    row = store.appeals().iloc[0]
    assert (row.status, row.method, row.version) == ("filed", "mail", 2)
    assert pd.isna(row.resolved_date)


def test_closing_in_the_store_writes_the_outcome(store):
    tabs = remitted(DENIAL, era("T2", "150", [Claim("C1", "1", "200", "150", cas=[("CO", "45", "50")])],
                                date="20261001"))
    with store.transaction():
        import_id = store.record_import("x.835", "h")
        store.insert_payments(tabs["payments"], import_id)
        store.insert_table("claim_payments", tabs["claim_payments"], import_id)
    store.open_appeals(frame(appeal(payment_id=payment_id(tabs, "T1"))))
    done = appeals.close_stored(store)
    assert done.summary() == "1 appeal closed (1 won)"
    row = store.appeals().iloc[0]
    assert (row.status, row.recovered, row.resolved_by, row.version) == ("won", 15000, payment_id(tabs, "T2"), 2)


# -- KPIs -------------------------------------------------------------------------------------------------------

def kpi_appeals() -> pd.DataFrame:
    return frame(
        appeal(appeal_id="1", status="won", filed_date=D(2026, 9, 11), resolved_date=D(2026, 10, 1),
               recovered=15000),
        appeal(appeal_id="2", claim_id="C2", status="partially_won", filed_date=D(2026, 9, 21),
               resolved_date=D(2026, 10, 21), recovered=5000, payer_id="BETA", category="coding"),
        appeal(appeal_id="3", claim_id="C3", status="lost", filed_date=D(2026, 9, 6), resolved_date=D(2026, 10, 6),
               recovered=0),
        appeal(appeal_id="4", claim_id="C4", status="filed", filed_date=D(2026, 9, 16)),
        appeal(appeal_id="5", claim_id="C5", status="drafted", filed_date=None, method=None),
    )


def test_overturn_rate_is_won_and_partially_won_over_resolved():
    assert appeals.kpis(kpi_appeals())["overturn_rate"] == pytest.approx(2 / 3)  # won + partial / 3 resolved


def test_days_from_denial_to_appeal_average_the_filed_appeals():
    # denial 2026-09-01 each; filed after 10, 20, 5 and 15 days: (10 + 20 + 5 + 15) / 4
    assert appeals.kpis(kpi_appeals())["days_denial_to_appeal"] == pytest.approx(12.5)


def test_days_from_appeal_to_resolution_average_the_resolved_appeals():
    # 2026-09-11 -> 10-01: 20; 09-21 -> 10-21: 30; 09-06 -> 10-06: 30; (20 + 30 + 30) / 3
    assert appeals.kpis(kpi_appeals())["days_appeal_to_resolution"] == pytest.approx(80 / 3)


def test_dollars_recovered_sum_the_resolved_appeals():
    figures = appeals.kpis(kpi_appeals())
    assert (figures["dollars_recovered"], figures["appeals_filed"], figures["appeals_resolved"]) == (20000, 4, 3)


def test_kpis_by_payer_split_the_same_figures():
    by = appeals.kpis_by(kpi_appeals(), "payer_id").set_index("payer_id")
    assert by.loc["BETA", "overturn_rate"] == 1.0  # its one resolved appeal was partially won
    assert by.loc["ACME", "overturn_rate"] == pytest.approx(1 / 2)  # won and lost


def test_denial_writeoffs_over_net_revenue():
    claims = tables.to_frame("claims", [
        {"claim_id": c, "account_id": "A1", "payer_id": "ACME", "service_date": D(2026, 8, 1), "charge": charge,
         "paid": paid, "adjusted": charge - paid - balance, "balance": balance, "responsibility": "insurance"}
        for c, charge, paid, balance in (("C1", 20000, 0, 0), ("C2", 50000, 40000, 0), ("C3", 5000, 0, 5000))])
    tabs = remitted(era("T1", "400", [
        Claim("C1", "4", "200", "0", cas=[("CO", "197", "200")]),  # denied and written off: counted
        Claim("C2", "1", "500", "400", cas=[("CO", "45", "100")]),  # contractual: not a denial
        Claim("C3", "4", "50", "0", cas=[("CO", "197", "50")]),  # denied but still open: not written off
    ], date="20260915"))
    found = appeals.denial_writeoffs(claims, tabs, D(2026, 9, 1), D(2026, 9, 30))
    assert (found.written_off, found.net_revenue) == (20000, 40000)
    assert found.pct == pytest.approx(0.5)  # 200.00 / 400.00 paid in September


def test_denial_writeoffs_count_a_re_sent_remittance_once():
    # the same 835 delivered twice (same payer, trace and amount): $200.00 written off over $400.00 paid, not doubled
    claims = tables.to_frame("claims", [
        {"claim_id": c, "account_id": "A1", "payer_id": "ACME", "service_date": D(2026, 8, 1), "charge": charge,
         "paid": paid, "adjusted": charge - paid, "balance": 0, "responsibility": "insurance"}
        for c, charge, paid in (("C1", 20000, 0), ("C2", 40000, 40000))])
    text = era("T1", "400", [Claim("C1", "4", "200", "0", cas=[("CO", "197", "200")]),
                             Claim("C2", "1", "400", "400")], date="20260915")
    found = appeals.denial_writeoffs(claims, remitted(text, text), D(2026, 9, 1), D(2026, 9, 30))
    assert (found.written_off, found.net_revenue) == (20000, 40000)


def test_denial_writeoffs_count_payments_in_the_period_only():
    claims = tables.to_frame("claims", [{"claim_id": "C1", "account_id": "A1", "payer_id": "ACME",
                                         "service_date": D(2026, 8, 1), "charge": 20000, "paid": 0, "adjusted": 20000,
                                         "balance": 0, "responsibility": "insurance"}])
    tabs = remitted(era("T1", "0", [Claim("C1", "4", "200", "0", cas=[("CO", "197", "200")])], date="20261015"))
    found = appeals.denial_writeoffs(claims, tabs, D(2026, 9, 1), D(2026, 9, 30))
    assert (found.written_off, found.net_revenue) == (0, 0)


# -- the management report's Appeals sheet ----------------------------------------------------------------------

def test_the_report_appeals_sheet_shows_the_kpis_and_no_claim(tmp_path):
    import io

    import openpyxl

    from xl_ar.reconcile import Reconciliation
    from xl_ar.reports import content, management

    claims = tables.to_frame("claims", [{"claim_id": "C1", "account_id": "A1", "payer_id": "ACME",
                                         "service_date": D(2026, 8, 1), "charge": 20000, "paid": 0, "adjusted": 0,
                                         "balance": 20000, "responsibility": "insurance"}])
    payers = tables.to_frame("payers", [{"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial"}])
    data = content.build(claims, payers, tables.empty("postings"), remitted(DENIAL),
                         Reconciliation(tables.empty("exceptions"), D(2026, 10, 31)), D(2026, 10, 31), "Test",
                         key=b"k" * 32, appeals=kpi_appeals())
    wb = openpyxl.load_workbook(io.BytesIO(management.write(None, data)))
    ws = wb["Appeals"]
    cells = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r and r[0]}
    assert cells["Appeals filed"] == 4 and cells["Appeals resolved (won, partially won, lost)"] == 3
    assert cells["Overturn rate"] == pytest.approx(2 / 3)
    assert cells["Dollars recovered"] == 200.0  # 150.00 + 50.00 + 0.00
    text = " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert not any(c in text for c in ("C1", "C2", "C3", "C4", "C5"))
    assert "BETA" in text and "coding" in text  # by payer and by category
