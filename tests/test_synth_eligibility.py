"""Eligibility on the synthetic practices: the 271 responses in `eligibility/` read back, and
`coverage_problems` over the unbilled claims finds every gap of truth.json `eligibility` and nothing else.
Precision and recall are printed per practice."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from tests.synth_scoring import key
from tests.synth_scoring import score as scored
from xl_ar.eligibility import coverage_problems
from xl_ar.practice import load_practice
from xl_ar.synth import generate
from xl_ar.x12.eligibility import read_271

PROBLEMS = ("not_covered", "unverified", "authorization_missing")


def score(folder) -> tuple[float, float, Counter, Counter]:
    practice = load_practice(folder)
    eligibility, findings = practice.eligibility()
    assert [f for f in findings if f.severity == "error"] == []
    claims, payers = practice.table("claims"), practice.table("payers")
    insured = claims.payer_id.map(payers.set_index("payer_id").payer_class) != "self_pay"
    unbilled = claims[claims.billed_date.isna() & insured.to_numpy()]  # the claims the practice asked about
    found_table = coverage_problems(unbilled, practice.table("claim_lines"), eligibility, payers)
    found = {key(c, n, p) for c, n, p in zip(found_table.claim_id, found_table.line_no, found_table.problem,
                                              strict=True)}
    return scored(found, folder, "eligibility", "problem")


@pytest.mark.parametrize(("claims", "seed"), [(5000, 7), (3000, 13)])
def test_coverage_problems_find_every_eligibility_gap_and_nothing_else(claims, seed, tmp_path, practice_5k, capsys):
    folder = practice_5k if (claims, seed) == (5000, 7) else tmp_path / "practice"
    if folder != practice_5k:
        generate(folder, claims=claims, months=12, seed=seed)
    precision, recall, truth, found = score(folder)
    with capsys.disabled():
        print(f"\n  eligibility {claims:,} claims, seed {seed}: precision {precision:.4f}, recall {recall:.4f}; "
              + ", ".join(f"{p} {truth[p]}/{found[p]}" for p in PROBLEMS))
    assert all(truth[p] > 0 for p in PROBLEMS), "every kind of gap is in the practice"
    assert precision == 1.0 and recall == 1.0


def test_every_271_reads_as_5010_with_one_payer_and_answers_for_each_member(practice_5k):
    for path in sorted((practice_5k / "eligibility").glob("*.271")):
        text = path.read_text()
        assert "*005010X279A1~" in text
        read = read_271(text, path.name)
        assert read.findings == [], path.name
        e = read.eligibility
        assert e.payer_edi_id.nunique() == 1
        # one answer per subscriber loop: every HL*...*22 is a member with at least one row
        assert e.trace_number.nunique() == text.count("*22*0~")


def test_an_inactive_or_ended_member_has_no_active_coverage_line(practice_5k):
    e = pd.concat([read_271(p.read_text(), p.name).eligibility
                   for p in sorted((practice_5k / "eligibility").glob("*.271"))], ignore_index=True)
    inactive = set(e.member_id[e.coverage_status == "inactive"])
    active = set(e.member_id[e.coverage_status == "active"])
    assert inactive and not inactive & active  # an EB*6 member is not also reported active
    ended = e[(e.coverage_status == "active") & e.eligibility_end.notna()]
    assert len(ended) > 0  # coverage that ended (DTP*307 range) before the dates of service
    assert (e.rejection_reason.dropna().isin(["75", "72"])).all() and e.rejection_reason.notna().any()
