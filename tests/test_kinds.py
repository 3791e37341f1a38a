"""The registry of exception kinds (`xl_ar.kinds`): one place says what each kind is, and the
reconciliation, its workbook and the ribbon all follow it."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from udfs import sheets
from xl_ar import kinds, tables
from xl_ar.kinds import BY_CODE, CODES, GROUPS, KINDS, DeadlineRule
from xl_ar.practice import load_practice
from xl_ar.reconcile import reconcile, reconcile_tables
from xl_ar.remittances import read_remittances
from xl_ar.reports import reconciliation
from xl_ar.sources import SourceFile

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 9, 30)
PAYERS = tables.to_frame("payers", [
    {"payer_id": "ACME", "name": "Acme Health", "payer_class": "commercial", "payer_ref": "ACME01",
     "timely_filing_days": 90, "appeal_days": 120},
])


def claim(claim_id: str, balance: int, service: dt.date, billed: dt.date | None = None,
          last_activity: dt.date | None = None) -> dict:
    return {"claim_id": claim_id, "account_id": "A1", "payer_id": "ACME", "service_date": service,
            "billed_date": billed or service, "charge": 20000, "paid": 20000 - balance, "adjusted": 0,
            "balance": balance, "responsibility": "insurance", "last_activity_date": last_activity}


def reconcile_claims(*rows: dict, files: tuple[str, ...] = ()) -> pd.DataFrame:
    """The exceptions of a ledger (and 835 files), with no postings or deposits."""
    if files:
        remitted, _ = read_remittances([SourceFile(f"era{i}.835", t.encode()) for i, t in enumerate(files)])
    else:
        remitted = {name: tables.empty(name) for name in tables.REMITTANCE_TABLES}
    return reconcile(tables.to_frame("claims", list(rows)), remitted, tables.empty("postings"),
                     tables.empty("deposits"), AS_OF, PAYERS).exceptions


def only(exceptions: pd.DataFrame, kind: str) -> pd.Series:
    rows = exceptions[exceptions.kind == kind]
    assert len(rows) == 1, exceptions[["kind", "claim_id"]]
    return rows.iloc[0]


# -- the registry itself ----------------------------------------------------------------------------

def test_kinds_are_listed_once_in_report_order():
    assert CODES[0] == "unposted_payment" and CODES[-1] == "credit_balance"
    assert len(set(CODES)) == len(CODES) == 21
    assert list(BY_CODE) == list(CODES)


def test_every_kind_has_a_label_a_known_group_and_guidance_of_two_to_four_sentences():
    for kind in KINDS:
        assert kind.label and kind.label[0].isupper(), kind.code
        assert kind.group in GROUPS, kind.code
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", kind.guidance.strip()) if s]
        assert 2 <= len(sentences) <= 4, (kind.code, sentences)


def test_only_denials_take_their_action_and_recoverability_from_the_carc():
    from_carc = {k.code for k in KINDS if k.next_action is None}
    by_category = {k.code for k in KINDS if k.recoverability is None}
    assert from_carc == by_category == {"denied", "partially_denied"}
    assert all(0 <= k.recoverability <= 1 for k in KINDS if k.recoverability is not None)


def test_each_group_has_one_distinct_colour_and_at_least_one_kind():
    colours = [g.color for g in GROUPS.values()]
    assert len(set(colours)) == len(colours)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colours)
    assert all(kinds.codes_in(group) for group in GROUPS)


def test_the_kind_list_is_spelled_out_only_in_the_registry():
    copies = []
    for path in [*(ROOT / "xl_ar").rglob("*.py"), *(ROOT / "udfs").rglob("*.py"), *(ROOT / "tests").glob("*.py")]:
        if path == ROOT / "xl_ar" / "kinds.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
            if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) and items:
                named = {i.value for i in items if isinstance(i, ast.Constant) and i.value in CODES}
                if len(named) >= 8:
                    copies.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert copies == []


# -- reconcile follows it ---------------------------------------------------------------------------

def test_every_kind_reconcile_emits_on_a_synthetic_practice_is_in_the_registry_and_vice_versa(practice_5k):
    practice = load_practice(practice_5k)
    remitted, _ = practice.remittances()
    result = reconcile_tables(practice.all_tables(), remitted, practice.as_of())
    assert set(result.exceptions.kind) == set(CODES)
    assert list(result.summary) == list(CODES)


def test_each_exception_carries_its_kinds_next_action():
    ex = reconcile_claims(claim("C1", -500, dt.date(2026, 8, 1)), claim("C2", 15000, dt.date(2026, 7, 1)))
    assert only(ex, "credit_balance").next_action == BY_CODE["credit_balance"].next_action
    assert only(ex, "no_response").next_action == BY_CODE["no_response"].next_action


def test_the_exceptions_table_has_its_canonical_columns_and_types():
    ex = reconcile_claims(claim("C1", -500, dt.date(2026, 8, 1)), claim("C2", 15000, dt.date(2026, 7, 1)))
    assert list(ex.columns) == tables.TABLES["exceptions"].column_names
    assert {str(ex[c].dtype) for c in ("expected", "actual", "variance")} == {"Int64"}
    assert str(ex.deadline.dtype) == tables.DATE_DTYPE
    assert str(ex.days_left.dtype) == str(ex.priority.dtype) == "float64"


def test_no_exceptions_is_the_empty_canonical_table():
    ex = reconcile_claims(claim("C1", 0, dt.date(2026, 8, 1)))
    assert ex.empty and list(ex.columns) == tables.TABLES["exceptions"].column_names


# -- deadlines ------------------------------------------------------------------------------------

def test_deadline_rules_say_which_limit_counts_from_which_date():
    assert BY_CODE["no_response"].deadline == DeadlineRule("timely_filing", "service_date")
    assert BY_CODE["credit_balance"].deadline.words == (
        "60 days to refund to Medicare or Medicaid (else the practice's refund days), counted from the date the "
        "credit arose (else the last activity on the claim)")
    assert BY_CODE["unposted_payment"].deadline is None


def test_a_credit_balance_is_due_60_days_after_the_last_activity():
    ex = reconcile_claims(claim("C1", -500, dt.date(2026, 8, 1), last_activity=dt.date(2026, 9, 10)))
    row = only(ex, "credit_balance")
    # 2026-09-10 + 60 days = 2026-11-09, 40 days after the as-of date
    assert (row.deadline, row.days_left) == (pd.Timestamp("2026-11-09"), 40)


def test_a_credit_balance_without_activity_date_is_due_60_days_after_the_as_of_date():
    row = only(reconcile_claims(claim("C1", -500, dt.date(2026, 8, 1))), "credit_balance")
    assert (row.deadline, row.days_left) == (pd.Timestamp("2026-11-29"), 60)


def test_an_unanswered_claim_is_due_by_timely_filing_from_the_date_of_service_not_the_billing_date():
    ex = reconcile_claims(claim("C2", 15000, dt.date(2026, 7, 1), billed=dt.date(2026, 7, 20)))
    row = only(ex, "no_response")
    # served 2026-07-01 + 90 days = 2026-09-29: one day past
    assert (row.deadline, row.days_left) == (pd.Timestamp("2026-09-29"), -1)


def test_a_denial_is_due_by_the_payers_appeal_limit_from_the_payment_date():
    denied = Claim("C3", "4", "200", "0", lines=[Line("99213", "200", "0", [("CO", "50", "200")])])
    ex = reconcile_claims(claim("C3", 20000, dt.date(2026, 8, 1)),
                          files=(era("8803", "0", [denied], method="CHK", date="20260901"),))
    row = only(ex, "denied")
    # paid (denied) 2026-09-01 + 120 appeal days = 2026-12-30, 91 days after the as-of date
    assert (row.deadline, row.days_left) == (pd.Timestamp("2026-12-30"), 91)


def test_a_denials_priority_weighs_the_whole_balance_by_its_category():
    denied = Claim("C3", "4", "200", "0", lines=[Line("99213", "200", "0", [("CO", "50", "200")])])
    ex = reconcile_claims(claim("C3", 20000, dt.date(2026, 8, 1)),
                          files=(era("8803", "0", [denied], method="CHK", date="20260901"),))
    row = only(ex, "denied")
    # 200.00 expected x 0.45 (medical necessity) x urgency 0.8 (91 days left) = 72.00
    assert row.category == "medical_necessity" and row.priority == pytest.approx(72.0)


# -- where people see it ----------------------------------------------------------------------------

@pytest.fixture
def workbook(tmp_path) -> openpyxl.Workbook:
    result = reconcile(tables.to_frame("claims", [claim("C1", -500, dt.date(2026, 8, 1))]),
                       {name: tables.empty(name) for name in tables.REMITTANCE_TABLES},
                       tables.empty("postings"), tables.empty("deposits"), AS_OF, PAYERS)
    return openpyxl.load_workbook(reconciliation.write(tmp_path / "r.xlsx", result, "Test"))


def test_the_guide_sheet_lists_every_kind_as_text(workbook):
    guide = workbook["Guide"]
    rows = [[c for c in row] for row in guide.iter_rows(min_row=4, max_row=3 + len(KINDS))]
    assert [r[0].value for r in rows] == [k.label for k in KINDS]
    assert [r[1].value for r in rows] == list(CODES)
    assert [r[5].value for r in rows] == [k.guidance for k in KINDS]
    cells = [c for row in guide.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type == "s" for c in cells)


def test_the_guide_states_each_deadline_rule_and_group_in_words(workbook):
    guide = {r[1]: r for r in workbook["Guide"].iter_rows(min_row=4, values_only=True)}
    assert guide["overpaid"][2] == "Pricing"
    assert guide["overpaid"][4] == ("60 days to refund to Medicare or Medicaid (else the practice's refund days), "
                                   "counted from the payment date")
    assert guide["unposted_payment"][4] == "no deadline"


def kind_rules(formulas_and_colours) -> dict[frozenset, str]:
    """{kinds a colouring rule matches: its colour as RRGGBB}."""
    return {frozenset(re.findall(r'="([a-z_]+)"', f)): c[-6:].upper() for f, c in formulas_and_colours}


class _Recorder:
    """Just enough of an xlwings range to record the format conditions `sheets.as_table` adds."""

    def __init__(self, added: list):
        self.added, self.row = added, 3
        self.columns = [self] * 14
        self.rows = type("Rows", (), {"count": 5})()
        self.api = self
        self.FormatConditions = self

    def expand(self, mode):
        return self

    def get_address(self, row_absolute, column_absolute):
        return "B3:B7"

    def offset(self, rows):
        return self

    def resize(self, rows):
        return self

    def Add(self, Type, Formula1):  # Excel's names
        rule = type("Rule", (), {})()
        rule.Interior = type("Interior", (), {})()
        self.added.append((Formula1, rule))
        return rule


def test_the_ribbon_and_the_workbook_colour_each_group_of_kinds_the_same(workbook):
    sheet = workbook["Reconciliation"]
    in_workbook = kind_rules((rule.formula[0], rule.dxf.fill.bgColor.rgb)
                             for cf in sheet.conditional_formatting for rule in cf.rules)
    added: list = []
    recorder = _Recorder(added)
    sheets.as_table(type("Sheet", (), {"range": lambda self, address: recorder})(), "A3", "Reconciliation",
                    kind_column=2)
    # Excel's colours are BGR integers
    on_ribbon = kind_rules((f, f"{r.Interior.Color & 255:02X}{r.Interior.Color >> 8 & 255:02X}"
                               f"{r.Interior.Color >> 16:02X}") for f, r in added)
    expected = {frozenset(kinds.codes_in(g.code)): g.color[1:] for g in GROUPS.values()}
    assert in_workbook == on_ribbon == expected


def test_the_ribbon_tests_the_kind_cell_of_the_first_row_below_the_header():
    added: list = []
    recorder = _Recorder(added)  # the block's header is on row 3, its kinds in column B
    sheets.as_table(type("Sheet", (), {"range": lambda self, address: recorder})(), "A3", "Reconciliation",
                    kind_column=2)
    assert added and all(re.fullmatch(r'=OR\(\$B4="[a-z_]+"(,\$B4="[a-z_]+")*\)', f) for f, _ in added)
