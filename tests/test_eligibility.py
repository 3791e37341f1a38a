"""Is the member covered on the date of service, and which claims are at risk (issue 14, part 1)."""

from __future__ import annotations

import pandas as pd

from xl_ar.eligibility import coverage_problems, eligible
from xl_ar.tables import from_columns

D = pd.Timestamp


def rows(*specs: dict) -> pd.DataFrame:
    """An eligibility table from a few hand-written rows (unnamed columns empty)."""
    base = {"source_file": "a.271", "transaction": "0001", "segment": 1, "member_id": "M1", "payer_edi_id": "ACME"}
    data = [{**base, **s} for s in specs]
    cols = {k: [d.get(k) for d in data] for k in {k for d in data for k in d}}
    for k in [k for k in cols if k.endswith(("_begin", "_end")) or k == "response_date"]:
        cols[k] = pd.to_datetime(pd.Series(cols[k]))
    return from_columns("eligibility", cols)


def test_active_when_the_date_is_inside_the_plan_dates():
    e = rows({"coverage_status": "active", "benefit_code": "1", "plan": "GOLD", "plan_begin": D("2026-01-01"),
              "plan_end": D("2026-12-31")})
    got = eligible(e, ["M1"], [D("2026-03-01")])
    assert got["status"].tolist() == ["active"] and got["reason"].tolist() == ["coverage active (GOLD)"]


def test_inactive_after_the_plan_end_says_when_it_ended():
    e = rows({"coverage_status": "active", "benefit_code": "1", "plan_begin": D("2025-01-01"),
              "plan_end": D("2025-12-31")})
    got = eligible(e, ["M1"], [D("2026-01-02")])
    assert got["status"].tolist() == ["inactive"]
    assert got["reason"].tolist() == ["coverage ended on 2025-12-31"]


def test_eligibility_dates_come_before_plan_dates():
    # plan runs all year, but the member's eligibility ended 2026-02-28
    e = rows({"coverage_status": "active", "benefit_code": "1", "plan_begin": D("2026-01-01"),
              "plan_end": D("2026-12-31"), "eligibility_begin": D("2026-01-01"), "eligibility_end": D("2026-02-28")})
    assert eligible(e, ["M1"], [D("2026-03-01")])["status"].tolist() == ["inactive"]


def test_payer_reported_inactive_coverage():
    e = rows({"coverage_status": "inactive", "benefit_code": "6"})
    got = eligible(e, ["M1"], [D("2026-03-01")])
    assert got["status"].tolist() == ["inactive"] and "inactive" in got["reason"].iloc[0]


def test_rejection_is_unknown_with_the_reason_in_words():
    e = rows({"rejection_reason": "72", "follow_up": "C", "rejection_level": "subscriber"})
    got = eligible(e, ["M1"], [D("2026-03-01")])
    assert got["status"].tolist() == ["unknown"]
    assert got["reason"].tolist() == ["payer rejected the inquiry: AAA 72 invalid or missing member id"]


def test_no_response_is_unknown():
    e = rows({"coverage_status": "active", "benefit_code": "1"})
    got = eligible(e, ["OTHER"], [D("2026-03-01")])
    assert got["status"].tolist() == ["unknown"]
    assert got["reason"].tolist() == ["no eligibility response for the member"]


def test_latest_response_of_a_payer_wins():
    old = {"transaction": "0001", "response_date": D("2026-01-05"), "coverage_status": "active", "benefit_code": "1"}
    new = {"transaction": "0002", "response_date": D("2026-02-10"), "coverage_status": "inactive",
           "benefit_code": "6"}
    e = rows(new, old)  # read in either order: the response date decides
    assert eligible(e, ["M1"], [D("2026-03-01")])["status"].tolist() == ["inactive"]


def test_active_with_one_payer_is_active_even_if_another_says_inactive():
    e = rows({"payer_edi_id": "ACME", "coverage_status": "inactive", "benefit_code": "6"},
             {"payer_edi_id": "BLUE", "coverage_status": "active", "benefit_code": "1", "transaction": "0002"})
    assert eligible(e, ["M1"], [D("2026-03-01")])["status"].tolist() == ["active"]
    assert eligible(e, ["M1"], [D("2026-03-01")], ["ACME"])["status"].tolist() == ["inactive"]


def test_many_pairs_at_once_keep_their_order():
    e = rows({"coverage_status": "active", "benefit_code": "1", "plan_begin": D("2026-01-01")})
    got = eligible(e, ["M1", "M2", "M1"], [D("2026-02-01"), D("2026-02-01"), D("2025-12-31")])
    assert got["status"].tolist() == ["active", "unknown", "inactive"]  # the third is before the plan begins


CLAIMS = pd.DataFrame({"claim_id": ["C1", "C2", "C3"], "member_id": ["M1", "M1", "M9"], "payer_id": ["P1"] * 3,
                       "service_date": [D("2026-03-01"), D("2026-03-02"), D("2026-03-01")],
                       "prior_authorization": [None, "AUTH7", None]})
LINES = pd.DataFrame({"claim_id": ["C1", "C1", "C2", "C3"], "line_no": [1, 2, 1, 1],
                      "procedure_code": ["99213", "97110", "97110", "99213"],
                      "service_date": [D("2026-03-01"), D("2026-03-01"), D("2026-03-02"), D("2026-03-01")]})
PAYERS = pd.DataFrame({"payer_id": ["P1"], "name": ["Acme"], "payer_ref": ["ACME"]})


def test_a_line_whose_procedure_needs_an_authorization_the_claim_lacks():
    e = rows({"coverage_status": "active", "benefit_code": "1", "service_types": "30"},
             {"benefit_code": "CB", "service_types": "98", "procedure_code": "97110", "authorization_required": "Y"})
    got = coverage_problems(CLAIMS, LINES, e, PAYERS)
    auth = got[got["problem"] == "authorization_missing"]
    # C1 line 2 is 97110 without authorization; C2 has AUTH7; C1 line 1 (99213) needs none
    assert list(zip(auth["claim_id"], auth["line_no"], strict=True)) == [("C1", 2)]


def test_claims_not_covered_or_unverified_are_flagged_once_each():
    e = rows({"coverage_status": "active", "benefit_code": "1", "plan_end": D("2026-03-01")})
    got = coverage_problems(CLAIMS, LINES, e, PAYERS)
    # C1 on 03-01 is covered; C2 on 03-02 is after the plan end; C3's member has no response
    assert list(zip(got["claim_id"], got["problem"], strict=True)) == [("C2", "not_covered"), ("C3", "unverified")]


def test_an_appointment_without_lines_uses_its_service_type():
    appts = pd.DataFrame({"appointment_id": ["A1", "A2"], "member_id": ["M1", "M1"], "payer_id": ["P1", "P1"],
                          "service_date": [D("2026-03-01")] * 2, "service_type": ["MH", "98"]})
    e = rows({"coverage_status": "active", "benefit_code": "1", "service_types": "30"},
             {"benefit_code": "CB", "service_types": "MH,A6", "authorization_required": "Y"})
    got = coverage_problems(appts, None, e, PAYERS)
    assert got[["claim_id", "problem"]].values.tolist() == [["A1", "authorization_missing"]]


def test_another_payers_authorization_rule_does_not_apply():
    e = rows({"coverage_status": "active", "benefit_code": "1", "payer_edi_id": "ACME"},
             {"payer_edi_id": "BLUE", "transaction": "0002", "coverage_status": "active", "benefit_code": "1"},
             {"payer_edi_id": "BLUE", "transaction": "0002", "procedure_code": "97110",
              "authorization_required": "Y"})
    got = coverage_problems(CLAIMS[CLAIMS["claim_id"] == "C1"], LINES, e, PAYERS)
    assert got.empty  # the claim's payer is ACME, whose response has no authorization rule


def test_an_inactive_response_whose_coverage_ended_before_the_visit_is_inactive():
    # EB*6 (inactive) with plan end 2026-01-31; the visit on 2026-02-10 is 10 days after it
    e = from_columns("eligibility", {
        "source_file": ["r.271"], "transaction": ["0001"], "segment": [9], "member_id": ["M1"],
        "benefit_code": ["6"], "coverage_status": ["inactive"], "plan_end": [pd.Timestamp("2026-01-31")]})
    out = eligible(e, ["M1"], [pd.Timestamp("2026-02-10")])
    assert out.status.tolist() == ["inactive"] and out.reason.tolist() == ["coverage ended on 2026-01-31"]
