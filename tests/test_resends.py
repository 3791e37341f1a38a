"""Remittances counted once whatever the clearinghouse does (issue 10, section 1).

An ERA re-delivered byte for byte under another file name, or re-sent in a new interchange, with or
without a trace number, is one payment in every consumer; a reversal (CLP02=22) and its correction
pair the same way whatever the order of the loops and files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import shutil

import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from tests.test_reconcile import AS_OF, CLEAN, DEPOSIT_8801, FEES, PAYERS, deposits, kinds, ledger, one, postings
from xl_ar import remittances
from xl_ar.practice import load_practice
from xl_ar.reconcile import reconcile, reconcile_tables
from xl_ar.remittances import counted_once, link_reversals, read_remittances, standing_adjudications
from xl_ar.rollforward import contractual_by_claim_date
from xl_ar.sources import SourceFile
from xl_ar.store import Store

ERA_8801 = era("8801", "80", [CLEAN])
"""EFT 8801 of 80.00 paying claim C1 (200.00 charge, CO-45 100.00, PR-2 20.00)."""


def read(*files: tuple[str, str | bytes]) -> dict[str, pd.DataFrame]:
    """Remittance tables of (file name, 835 text) pairs, read in the given order, with no error."""
    tabs, findings = read_remittances([SourceFile(name, text if isinstance(text, bytes) else text.encode())
                                       for name, text in files])
    errors = [f for f in findings if f.severity == "error"]
    assert errors == []
    return tabs


def reconcile_files(*files: tuple[str, str | bytes]):
    """C1 billed 200.00, paid 80.00 and adjusted 100.00, posted 80.00 on 8801, banked on 8801."""
    return reconcile(ledger(("C1", 20000, 8000, 10000, 60)), read(*files), postings(("C1", 8000, "8801", "ACME")),
                     deposits(DEPOSIT_8801), AS_OF, PAYERS, None, FEES)


# -- a byte-identical copy under another file name ------------------------------------------------

def test_a_byte_identical_copy_gets_its_own_payment_id_named_after_its_file():
    tabs = read(("a.835", ERA_8801), ("b.835", ERA_8801))
    first, copy = tabs["payments"].payment_id.tolist()
    # the reader gives both the same id (TRN02-ST02-hash of ISA and transaction); the later file's is renamed
    assert copy == f"{first}~{hashlib.sha256(b'b.835').hexdigest()[:8]}"
    assert tabs["claim_payments"].payment_id.tolist() == [first, copy]  # its claim rows follow it
    assert sorted(set(tabs["adjustments"].payment_id)) == sorted([first, copy])


def test_the_copy_is_the_later_file_by_name_whatever_the_reading_order():
    in_order = read(("a.835", ERA_8801), ("b.835", ERA_8801))["payments"]
    reversed_order = read(("b.835", ERA_8801), ("a.835", ERA_8801))["payments"]
    assert dict(zip(in_order.source_file, in_order.payment_id, strict=True)) == dict(
        zip(reversed_order.source_file, reversed_order.payment_id, strict=True))
    assert not reversed_order.payment_id[reversed_order.source_file == "a.835"].iloc[0].count("~")


def test_counted_once_removes_the_later_copy_with_all_its_rows():
    once = counted_once(read(("a.835", ERA_8801), ("b.835", ERA_8801)))
    assert once["payments"].source_file.tolist() == ["a.835"]
    # one claim (C1), one service line, two adjustments (CO-45 100.00, PR-2 20.00), as in one file
    assert (len(once["claim_payments"]), len(once["line_payments"]), len(once["adjustments"])) == (1, 1, 2)
    assert once["claim_payments"].paid.sum() == 8000


def test_counted_once_without_copies_returns_the_tables_as_they_are():
    tabs = read(("a.835", ERA_8801))
    once = counted_once(tabs)
    assert all(once[name] is tabs[name] for name in tabs)


@pytest.mark.parametrize("order", [("a.835", "b.835"), ("b.835", "a.835")])
def test_reconcile_reports_a_byte_identical_copy_once_and_counts_it_once(order):
    result = reconcile_files(*[(name, ERA_8801) for name in order])
    # posted 80.00 = paid 80.00 once: no posting_variance (160.00), no unposted_payment, one duplicate_era
    assert kinds(result) == [("duplicate_era", None, "8801")]
    row = one(result, "duplicate_era")
    assert row.reason == "same payer, trace number and amount as a.835" and row.actual == 8000


def test_a_copy_of_a_practice_era_only_adds_its_duplicate_era(practice_small, tmp_path):
    folder = tmp_path / "practice"
    shutil.copytree(practice_small, folder)
    before = _exception_keys(folder)
    original = sorted(p for p in (folder / "era").glob("*.835") if "_resent" not in p.name)[0]
    shutil.copy(original, folder / "era" / "zz_redelivered.835")
    after = _exception_keys(folder)
    assert after - before == {("duplicate_era", None, _trace(original))} and before <= after


def _exception_keys(folder) -> set[tuple]:
    practice = load_practice(folder)
    remitted, _ = practice.remittances()
    ex = reconcile_tables(practice.all_tables(), remitted, practice.as_of()).exceptions
    return {(k, c if isinstance(c, str) else None, t if isinstance(t, str) else None)
            for k, c, t in zip(ex.kind, ex.claim_id, ex.trace_number, strict=True)}


def _trace(path) -> str:
    return read((path.name, path.read_bytes()))["payments"].trace_number.iloc[0]


def test_rollforward_contractual_adjustments_count_a_copy_once():
    once = contractual_by_claim_date(read(("a.835", ERA_8801)))
    twice = contractual_by_claim_date(read(("a.835", ERA_8801), ("b.835", ERA_8801)))
    # CO-45 100.00 on 2026-09-01, not 200.00
    assert twice.to_dict("records") == once.to_dict("records") == [
        {"claim_id": "C1", "date": pd.Timestamp("2026-09-01"), "amount": 10000}]


def test_report_figures_count_a_copy_once(practice_small, tmp_path):
    from xl_ar.reports import content

    folder = tmp_path / "practice"
    shutil.copytree(practice_small, folder)
    figures = []
    for _ in range(2):
        practice = load_practice(folder)
        remitted, _ = practice.remittances()
        result = reconcile_tables(practice.all_tables(), remitted, practice.as_of())
        data = content.build(practice.table("claims"), practice.table("payers"), practice.table("postings"),
                             remitted, result, practice.as_of(), key=b"k" * 32)
        figures.append(data)
        original = sorted(p for p in (folder / "era").glob("*.835") if "_resent" not in p.name)[0]
        shutil.copy(original, folder / "era" / "zz_redelivered.835")  # the second pass reads a copy too
    without, with_copy = figures
    assert pd.Series(with_copy.figures()).equals(pd.Series(without.figures()))
    for table in ("denials_by_payer", "denials_by_category", "top_reasons", "denial_trend", "scorecard", "history"):
        pd.testing.assert_frame_equal(getattr(with_copy, table), getattr(without, table))
    pd.testing.assert_frame_equal(with_copy.rollforward.table, without.rollforward.table)


# -- re-sent ERAs without a trace number ------------------------------------------------------------

def traceless(control: int, date: str = "20260901") -> str:
    """A payment of 80.00 from ACME01 with an empty TRN02, in interchange `control` (pays C1)."""
    return era("", "80", [CLEAN], control=control, date=date)


def test_a_traceless_era_resent_in_a_new_interchange_is_counted_once():
    result = reconcile(ledger(("C1", 20000, 8000, 10000, 60)), read(("a.835", traceless(1)), ("b.835", traceless(2))),
                       postings(("C1", 8000, None, "ACME")), deposits((8000, "HCCLAIMPMT ACME", dt.date(2026, 9, 1))),
                       AS_OF, PAYERS, None, FEES)
    # the key is (ACME01, "", 80.00) for both: one duplicate_era; the rest as for one file: the trace-less
    # posting of 80.00 meets the trace-less payment of 80.00 (counted twice it would be a posting
    # variance of 80.00 - 160.00), and the bank line matches by amount
    assert sorted(k for k, _, _ in kinds(result)) == ["duplicate_era"]
    assert one(result, "duplicate_era").actual == 8000


def test_two_byte_identical_traceless_copies_are_counted_once():
    once = counted_once(read(("a.835", traceless(1)), ("b.835", traceless(1))))
    assert once["payments"].source_file.tolist() == ["a.835"] and once["claim_payments"].paid.tolist() == [8000]


def test_two_traceless_resends_import_once_and_reconcile_from_the_store(store_at):
    files = [SourceFile("a.835", traceless(1).encode()), SourceFile("b.835", traceless(2).encode())]
    with Store.open(store_at) as store:
        report = remittances.import_files(files, store)  # one run, no crash
        stored = store.remittances()
    assert [(f.status, f.payments, f.duplicates) for f in report.files] == [("imported", 1, []),
                                                                            ("duplicate", 0, [""])]
    result = reconcile(ledger(("C1", 20000, 8000, 10000, 60)), stored, postings(), deposits(), AS_OF, PAYERS)
    assert one(result, "duplicate_era").reason == "same payer, trace number and amount as a.835"
    assert one(result, "unposted_payment").expected == 8000  # 80.00 once, not 160.00


def test_a_failing_traceless_resend_writes_nothing_of_its_file(monkeypatch, store_at):
    files = [SourceFile("a.835", traceless(1).encode()), SourceFile("b.835", traceless(2).encode())]
    original = Store.count_import

    def failing(self, import_id, payments, duplicates):
        if import_id == 2:
            raise OSError("disk full")
        return original(self, import_id, payments, duplicates)

    monkeypatch.setattr(Store, "count_import", failing)
    with Store.open(store_at) as store, pytest.raises(OSError):
        remittances.import_files(files, store)
    monkeypatch.setattr(Store, "count_import", original)
    with Store.open(store_at) as store:
        # b.835 failed after its duplicate was recorded: its import, duplicate row and all are undone
        assert {t: store.count(t) for t in ("imports", "payments", "duplicate_payments", "claim_payments")} == {
            "imports": 1, "payments": 1, "duplicate_payments": 0, "claim_payments": 1}
        again = remittances.import_files(files, store)
        assert [f.status for f in again.files] == ["already imported", "duplicate"]
        assert store.count("payments") == 1 and store.count("duplicate_payments") == 1


# -- the importer: byte-identical copies in one run and in a later run ------------------------------

def test_a_byte_identical_copy_in_the_same_import_run_is_kept_as_a_duplicate_only(store_at):
    files = [SourceFile("a.835", ERA_8801.encode()), SourceFile("b.835", ERA_8801.encode())]
    with Store.open(store_at) as store:
        report = remittances.import_files(files, store)
        counts = {t: store.count(t) for t in ("imports", "payments", "duplicate_payments", "claim_payments")}
    assert [(f.status, f.payments, f.duplicates) for f in report.files] == [
        ("imported", 1, []), ("re-delivered copy of a.835", 0, ["8801"])]
    # nothing counted twice: one payment, one claim row; the copy is kept to report (duplicate_era)
    assert counts == {"imports": 1, "payments": 1, "duplicate_payments": 1, "claim_payments": 1}


def test_a_byte_identical_copy_in_a_later_import_run_is_kept_as_a_duplicate_only(store_at):
    with Store.open(store_at) as store:
        remittances.import_files([SourceFile("a.835", ERA_8801.encode())], store)
        later = remittances.import_files([SourceFile("inbox/b.835", ERA_8801.encode())], store)
        again = remittances.import_files([SourceFile("inbox/b.835", ERA_8801.encode())], store)
        assert store.count("payments") == 1 and store.count("claim_payments") == 1
        assert store.read_table("claim_payments").paid.tolist() == [8000]
        # the copy is recorded once, however often it is imported again
        assert store.count("duplicate_payments") == 1
    assert [(f.status, f.duplicates) for f in later.files] == [("re-delivered copy of a.835", ["8801"])]
    assert [f.status for f in again.files] == ["re-delivered copy of a.835"]


def test_reconcile_from_the_store_reports_a_byte_identical_copy_as_duplicate_era(store_at):
    files = [SourceFile("a.835", ERA_8801.encode()), SourceFile("b.835", ERA_8801.encode())]
    with Store.open(store_at) as store:
        remittances.import_files(files, store)
        stored = store.remittances()
    from_folder = read(("a.835", ERA_8801), ("b.835", ERA_8801))
    found = []
    for tabs in (stored, from_folder):
        result = reconcile(ledger(("C1", 20000, 8000, 10000, 60)), tabs, postings(("C1", 8000, "8801", "ACME")),
                           deposits(DEPOSIT_8801), AS_OF, PAYERS, None, FEES)
        found.append(sorted(kinds(result)))
    # the same exceptions whichever way the files came in: only the copy, as duplicate_era on 8801 (80.00)
    assert found[0] == found[1] and [k for k, _, _ in found[0]] == ["duplicate_era"]


def test_a_copy_stored_under_the_same_payment_id_is_counted_once_from_the_store(store_at):
    # the same interchange inside a file with other bytes: another SHA-256, the same payment_id
    files = [SourceFile("a.835", ERA_8801.encode()), SourceFile("b.835", ERA_8801.encode() + b"\n")]
    with Store.open(store_at) as store:
        remittances.import_files(files, store)
        stored = store.remittances()
    assert stored["payments"].payment_id.nunique() == 1 and len(stored["payments"]) == 2
    result = reconcile(ledger(("C1", 20000, 8000, 10000, 60)), stored, postings(("C1", 8000, "8801", "ACME")),
                       deposits(DEPOSIT_8801), AS_OF, PAYERS)
    assert kinds(result) == [("duplicate_era", None, "8801")]


# -- reversals and corrections: the same pairs in any order -------------------------------------------

ORIGINAL = Claim("C1", "1", "200", "80", patient_resp="20", payer_claim_id="ICN1", lines=[
    Line("99213", "200", "80", [("CO", "45", "100"), ("PR", "2", "20")])])
REVERSAL = Claim("C1", "22", "-200", "-80", patient_resp="-20", payer_claim_id="ICN1", lines=[
    Line("99213", "-200", "-80", [("CO", "45", "-100"), ("PR", "2", "-20")])])
CORRECTION = Claim("C1", "1", "200", "90", patient_resp="10", payer_claim_id="ICN2", lines=[
    Line("99213", "200", "90", [("CO", "45", "100"), ("PR", "2", "10")])])
"""Paid 80.00, reversed (-80.00), corrected to 90.00: the claim nets 90.00."""
OTHER = Claim("C9", "1", "150", "100", lines=[Line("99214", "150", "100", [("CO", "45", "50")])])
"""Another claim paid 100.00, so that a payment holding a reversal still pays something."""


def _links(tabs: dict[str, pd.DataFrame]) -> list[tuple]:
    links = link_reversals(tabs["claim_payments"], tabs["payments"])
    paid = tabs["payments"].set_index("payment_id").amount
    return [(r.claim_id, paid[r.original_payment_id], r.original_paid, r.reversal_paid, r.correction_paid)
            for r in links.itertuples()]


@pytest.mark.parametrize("loops", list(itertools.permutations([ORIGINAL, REVERSAL, CORRECTION])))
def test_a_reversal_in_the_same_payment_pairs_the_same_in_any_loop_order(loops):
    tabs = read(("a.835", era("8801", "90", list(loops))))
    # the reversal (-80.00) takes back the 80.00 loop, whatever its place; the 90.00 loop is the correction
    assert _links(tabs) == [("C1", 9000, 8000, -8000, 9000)]
    standing = standing_adjudications(tabs["claim_payments"], tabs["payments"])
    assert standing[["claim_id", "paid"]].values.tolist() == [["C1", 9000]]


@pytest.mark.parametrize("second", [[REVERSAL, CORRECTION], [CORRECTION, REVERSAL]])
@pytest.mark.parametrize("files_reversed", [False, True])
def test_a_reversal_in_a_later_payment_pairs_the_same_in_any_order(second, files_reversed):
    files = [("a.835", era("8801", "80", [ORIGINAL])), ("b.835", era("8806", "10", second, date="20260915",
                                                                    control=2))]
    tabs = read(*(files[::-1] if files_reversed else files))
    # payment 8801 (80.00) is the original; 8806 (-80.00 + 90.00 = 10.00) holds reversal and correction
    assert _links(tabs) == [("C1", 8000, 8000, -8000, 9000)]
    standing = standing_adjudications(tabs["claim_payments"], tabs["payments"])
    assert standing[["claim_id", "paid"]].values.tolist() == [["C1", 9000]]


def test_a_reversal_prefers_the_loop_with_its_payer_claim_number():
    # paid twice (ICN1 on 09-01, ICN2 on 09-05, 80.00 each); the payer reverses ICN2 on 09-10
    twice = Claim("C1", "1", "200", "80", patient_resp="20", payer_claim_id="ICN2", lines=ORIGINAL.lines)
    reversal = Claim("C1", "22", "-200", "-80", patient_resp="-20", payer_claim_id="ICN2", lines=REVERSAL.lines)
    tabs = read(("a.835", era("8801", "80", [ORIGINAL])), ("b.835", era("8802", "80", [twice], date="20260905",
                                                                         control=2)),
                ("c.835", era("8803", "20", [reversal, OTHER], date="20260910", control=3)))  # -80 + 100
    links = link_reversals(tabs["claim_payments"], tabs["payments"])
    trace = tabs["payments"].set_index("payment_id").trace_number
    assert trace[links.original_payment_id.iloc[0]] == "8802"  # not the earlier 8801 of ICN1
    standing = standing_adjudications(tabs["claim_payments"], tabs["payments"])
    assert trace[standing.payment_id.iloc[0]] == "8801"  # ICN1 stands


def test_a_reversal_that_negates_no_loop_cancels_nothing():
    odd = Claim("C1", "22", "-200", "-70", patient_resp="-20", payer_claim_id="ICN1", lines=[
        Line("99213", "-200", "-70", [("CO", "45", "-110"), ("PR", "2", "-20")])])  # -70.00: ICN1 paid 80.00
    tabs = read(("a.835", era("8801", "80", [ORIGINAL])), ("b.835", era("8806", "30", [odd, OTHER], date="20260915",
                                                                         control=2)))  # -70 + 100
    links = link_reversals(tabs["claim_payments"], tabs["payments"])
    assert links.original_payment_id.isna().all() and links.correction_payment_id.isna().all()
    standing = standing_adjudications(tabs["claim_payments"], tabs["payments"])
    assert standing[["claim_id", "paid"]].values.tolist() == [["C1", 8000], ["C9", 10000]]


def test_a_claim_whose_only_payment_is_reversed_has_no_standing_adjudication():
    tabs = read(("a.835", era("8801", "80", [ORIGINAL])), ("b.835", era("8806", "20", [REVERSAL, OTHER],
                                                                         date="20260915", control=2)))  # -80 + 100
    assert standing_adjudications(tabs["claim_payments"], tabs["payments"]).claim_id.tolist() == ["C9"]
    links = link_reversals(tabs["claim_payments"], tabs["payments"])
    assert links.original_paid.tolist() == [8000] and links.correction_payment_id.isna().all()  # not yet


DENIED = Claim("C1", "4", "200", "0", payer_claim_id="ICN1", lines=[Line("99213", "200", "0", [("CO", "50", "200")])])
DENIAL_REVERSED = Claim("C1", "22", "-200", "0", payer_claim_id="ICN1", lines=[
    Line("99213", "-200", "0", [("CO", "50", "-200")])])
PAID = Claim("C1", "1", "200", "80", patient_resp="20", payer_claim_id="ICN2", lines=ORIGINAL.lines)
"""Denied (CO-50), the denial reversed on appeal and the claim paid 80.00."""


@pytest.mark.parametrize("loops", list(itertools.permutations([DENIED, DENIAL_REVERSED, PAID])))
def test_a_reversed_denial_is_no_denial_in_any_loop_order(loops):
    result = reconcile(ledger(("C1", 20000, 8000, 10000, 60)), read(("a.835", era("8801", "80", list(loops)))),
                       postings(("C1", 8000, "8801", "ACME")), deposits(DEPOSIT_8801), AS_OF, PAYERS, None, FEES)
    # the paid loop stands (80.00); the reversal nets 0 - 0 + 80.00 = 80.00 against the denial's 0.00
    assert kinds(result) == [("reversal", "C1", "8801")]
    row = one(result, "reversal")
    assert (row.expected, row.actual, row.variance) == (0, 8000, 8000)


@pytest.mark.parametrize("files_reversed", [False, True])
def test_the_reversal_exception_is_the_same_whatever_the_file_order(files_reversed):
    files = [("a.835", era("8801", "80", [ORIGINAL])),
             ("b.835", era("8806", "10", [CORRECTION, REVERSAL], date="20260915", control=2))]
    result = reconcile(ledger(("C1", 20000, 9000, 10000, 60)), read(*(files[::-1] if files_reversed else files)),
                       postings(("C1", 8000, "8801", "ACME"), ("C1", -8000, "8806", "ACME"),
                                ("C1", 9000, "8806", "ACME")),
                       deposits(DEPOSIT_8801, (1000, "HCCLAIMPMT ACME HEALTH TRN*1*8806*1999999999\\",
                                               dt.date(2026, 9, 15))), AS_OF, PAYERS, None, FEES)
    assert kinds(result) == [("reversal", "C1", "8806")]
    row = one(result, "reversal")
    # paid 80.00, reversed, corrected to 90.00: 80.00 - 80.00 + 90.00 = 90.00, variance +10.00
    assert (row.expected, row.actual, row.variance) == (8000, 9000, 1000)
    assert row.reason == "paid 80.00, reversed, corrected to 90.00"


def test_a_missing_trace_number_is_a_warning_not_an_error():
    # TRN02 is required by the guide, but payers do send it empty: the payment is still read (trace NA)
    _, findings = read_remittances([SourceFile("a.835", traceless(1).encode())])
    trn = [f for f in findings if f.where.segment_id == "TRN"]
    assert [(f.severity, f.code) for f in trn] == [("warning", "missing element")]
    assert "matched to its deposit by amount and date" in trn[0].message
