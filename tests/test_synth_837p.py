"""Issue 14 acceptance: the 837P xl-ar writes for a synthetic practice of 1,000 claims (originals, replacements,
voids and secondary claims with COB) passes pyx12 with no error and reads back as the same claims."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.test_x12_837p import pyx12_errors
from xl_ar import claims as claims_out
from xl_ar import secondary, synth
from xl_ar.practice import load_practice
from xl_ar.x12.claims_in import read_837p
from xl_ar.x12.claims_out import secondary_claims, write_837p
from xl_ar.x12.writer import ControlNumbers

NOW = dt.datetime(2026, 9, 30, 17, 0)


@pytest.fixture(scope="module")
def practice(tmp_path_factory):
    folder = tmp_path_factory.mktemp("p1000")
    synth.generate(folder, claims=1000, months=12, seed=17)
    return load_practice(folder)


@pytest.fixture(scope="module")
def sent(practice):
    """Every clean claim of the practice (scrubbed, payer rules applied) written as one 837P."""
    rules, problems = claims_out.payer_rules(practice.folder)
    assert problems == []
    scrubbed = claims_out.scrub_practice(practice, practice.as_of(), rules, every=True)
    clean = scrubbed.clean
    lines = scrubbed.claim_lines[scrubbed.claim_lines.claim_id.isin(set(clean.claim_id))]
    text, findings = write_837p(clean, lines, practice.table("payers"), practice.info, ControlNumbers(), NOW)
    written = {f.where.row for f in findings}
    return clean, lines, text, findings, written


def test_the_practice_has_originals_replacements_and_voids_to_send(sent):
    clean = sent[0]
    kinds = clean.frequency_code.fillna("1").value_counts()
    assert kinds.get("7", 0) > 0 and kinds.get("8", 0) > 0 and kinds["1"] > 900


def test_every_clean_claim_is_written_and_the_837p_validates(sent, tmp_path):
    clean, _, text, findings, _ = sent
    # the scrubber held back every claim the 837P format would refuse: nothing is refused at writing
    assert findings == []
    assert text.count("~\nCLM*") == len(clean)
    assert pyx12_errors(text, tmp_path) == []


def test_the_837p_reads_back_as_the_claims_and_lines_sent(sent, practice):
    clean, lines, text, _, _ = sent
    got, findings = read_837p(text, "out.837", practice.table("payers"))
    assert findings == []
    back = got["claims"].set_index("claim_id").reindex(clean.claim_id)
    assert back.charge.tolist() == clean.charge.tolist()
    assert back.payer_id.tolist() == clean.payer_id.tolist()
    assert back.frequency_code.fillna("1").tolist() == clean.frequency_code.fillna("1").tolist()
    assert back.original_payer_claim_id.fillna("").tolist() == clean.original_payer_claim_id.fillna("").tolist()
    assert back.diagnosis_codes.str.replace(".", "").tolist() == clean.diagnosis_codes.str.replace(".", "").tolist()
    key = ["claim_id", "line_no"]
    mine = lines.sort_values(key).reset_index(drop=True)
    theirs = got["claim_lines"].sort_values(key).reset_index(drop=True)
    for column in ("claim_id", "line_no", "procedure_code", "charge", "units"):
        assert theirs[column].astype(str).tolist() == mine[column].astype(str).tolist(), column
    assert theirs.modifiers.fillna("").tolist() == mine.modifiers.fillna("").tolist()


def test_secondary_claims_validate_and_read_back_with_their_cob_amounts(practice, tmp_path):
    remitted, _ = practice.remittances()
    due = secondary.due(practice.table("claims"), remitted)
    sc, sl, cob, findings = secondary_claims(practice.table("claims"), practice.table("claim_lines"), remitted)
    # every claim due for its secondary is built: the synthetic primaries balance at line and claim level
    assert findings == [] and len(sc) == len(due) > 10
    text, refused = write_837p(sc, sl, practice.table("payers"), practice.info, ControlNumbers(), NOW, cob=cob)
    assert refused == []
    assert pyx12_errors(text, tmp_path) == []
    got, read_findings = read_837p(text, "secondary.837", practice.table("payers"))
    assert read_findings == []
    assert sorted(got["cob_claims"].claim_id) == sorted(due.claim_id)
    assert got["cob_claims"].paid.sum() == cob["cob_claims"].paid.sum() == due.paid.sum()
    assert got["cob_adjustments"].amount.sum() == cob["cob_adjustments"].amount.sum()
    # TR3 balancing: each secondary claim's charge = the primary's paid amount + every CAS amount
    charge = got["claims"].set_index("claim_id").charge.reindex(got["cob_claims"].claim_id).sum()
    assert charge == got["cob_claims"].paid.sum() + got["cob_adjustments"].amount.sum()
    per_claim = got["cob_adjustments"].groupby("claim_id").amount.sum()
    paid = got["cob_claims"].set_index("claim_id").paid
    charges = got["claims"].set_index("claim_id").charge
    assert (charges.reindex(paid.index) == paid + per_claim.reindex(paid.index).fillna(0)).all()
    assert (pd.Series(due.patient_resp.to_numpy()) > 0).all()
