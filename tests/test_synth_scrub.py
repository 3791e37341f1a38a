"""The scrubber on the synthetic practices: every violation the generator injected or that follows from its
history (truth.json `scrub`), and nothing on the clean claims. Precision and recall are printed per practice."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
import pytest

from tests.synth_scoring import key
from tests.synth_scoring import score as scored
from xl_ar.practice import load_practice
from xl_ar.scrub import RULE_IDS, read_rules, scrub
from xl_ar.synth import generate
from xl_ar.synth.scrub_cases import INJECTED


def score(folder) -> tuple[float, float, Counter, Counter]:
    practice = load_practice(folder)
    assert [f for f in practice.findings if f.severity == "error"] == []
    rules, problems = read_rules(folder / "scrub_rules.csv")
    assert problems == [] and len(rules) == 3
    found_table = scrub(practice.table("claims"), practice.table("claim_lines"), practice.table("payers"),
                        practice.info.npi, practice.as_of(), rules)
    found = {key(c, ln, r) for c, ln, r in zip(found_table.claim_id, found_table.line_no, found_table.rule_id,
                                                strict=True)}
    return scored(found, folder, "scrub", "rule_id")


@pytest.mark.parametrize(("claims", "seed"), [(5000, 7), (3000, 13)])
def test_the_scrubber_finds_every_injected_violation_and_nothing_on_clean_claims(claims, seed, tmp_path,
                                                                                  practice_5k, capsys):
    folder = practice_5k if (claims, seed) == (5000, 7) else tmp_path / "practice"
    if folder != practice_5k:
        generate(folder, claims=claims, months=12, seed=seed)
    precision, recall, truth, found = score(folder)
    with capsys.disabled():
        print(f"\n  scrub {claims:,} claims, seed {seed}: precision {precision:.4f}, recall {recall:.4f}; "
              + ", ".join(f"{r} {truth[r]}/{found[r]}" for r in RULE_IDS if truth[r] or found[r]))
    assert all(truth[r] > 0 for r in INJECTED), "every injectable rule is in the practice"
    assert precision == 1.0 and recall == 1.0  # every violation of truth.json, and nothing else


def test_the_injected_rules_are_rules_of_the_scrubber():
    assert set(INJECTED) <= set(RULE_IDS)
    assert len(INJECTED) == len(set(INJECTED))


def test_the_truth_holds_the_history_findings(practice_5k):
    # the history's timely-filing denials (billed after the limit) and the future-dated claims are real findings
    rules = Counter(e["rule_id"] for e in json.loads((practice_5k / "truth.json").read_text())["scrub"])
    assert rules["SCR-TIMELY-PAST"] > 0 and rules["SCR-DATE-FUTURE"] > 0


def test_practice_json_carries_what_an_837p_needs(practice_5k):
    from xl_ar.practice import npi_is_valid, read_info

    info, findings = read_info(practice_5k)
    assert [f for f in findings if f.severity == "error"] == []
    assert (info.address, info.city, info.state, info.zip) == ("100 Main St", "Fairhaven", "OH", "430010100")
    assert info.submitter_id and info.receiver_id and info.contact_phone.isdigit()
    claims = pd.read_csv(practice_5k / "claims.csv", dtype=str, keep_default_na=False)
    rendering = set(claims["Rendering NPI"]) - {""}
    good = {n for n in rendering if npi_is_valid(n)}
    assert good == set(info.providers)  # a name for every valid rendering NPI the claims carry


def test_the_payer_rules_file_is_not_taken_for_an_unknown_export(practice_5k):
    # scrub_rules.csv sits in the practice folder (docs/scrubber.md); reading the folder leaves it to the scrubber
    assert (practice_5k / "scrub_rules.csv").exists()
    assert load_practice(practice_5k).findings == []


def test_violations_sit_on_claims_no_payer_has_answered(practice_5k):
    # money-changing violations never touch the reconciliation: no 835, posting or acknowledgement names them
    truth = json.loads((practice_5k / "truth.json").read_text())["scrub"]
    injected = {e["claim_id"] for e in truth if e["rule_id"] in INJECTED}
    era = "".join(p.read_text() for p in (practice_5k / "era").glob("*.835"))
    status = "".join(p.read_text() for p in (practice_5k / "status").glob("*.277"))
    assert not any(f"CLP*{c}*" in era or f"TRN*2*{c}~" in status for c in injected)
    postings = pd.read_csv(practice_5k / "postings.csv", dtype=str, keep_default_na=False)
    assert not set(postings["Claim #"]) & injected


def test_only_the_date_order_violation_is_billed_and_within_the_acknowledgement_window(practice_5k):
    # billed two days before a service the day before the as-of date: 3 days ago, under the 7 of `unacknowledged`
    truth = json.loads((practice_5k / "truth.json").read_text())["scrub"]
    order = {e["claim_id"] for e in truth if e["rule_id"] == "SCR-DATE-ORDER"}
    injected = {e["claim_id"] for e in truth if e["rule_id"] in INJECTED}
    claims = pd.read_csv(practice_5k / "claims.csv", dtype=str, keep_default_na=False).set_index("Claim #")
    billed = claims.loc[sorted(injected), "Billed Date"]
    assert set(billed.index[billed != ""]) == order
    assert set(billed[sorted(order)]) == {"09/27/2026"}  # as-of 09/30 - 1 day service - 2 days
