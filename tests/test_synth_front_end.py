"""The synthetic practice's 837P details: sex, place of service, rendering NPI, pointers, secondary coverage."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from xl_ar import synth
from xl_ar.practice import npi_check_digit
from xl_ar.synth import reference as ref
from xl_ar.synth.front_end import CLINICIANS


def test_npi_check_digit_is_luhn_with_the_80840_prefix():
    # 80840 123456789 read right to left; doubled 9,7,5,3,1,4,0 -> 9,5,1,6,2,8,0 = 31;
    # kept 8,6,4,2,0,8,8 = 36; 31 + 36 = 67; check digit 10 - 7 = 3 (the CMS example NPI 1234567893)
    assert npi_check_digit("123456789") == "3"


def test_a_base_ending_the_sum_on_a_multiple_of_ten_gets_zero():
    # 80840 000000000 right to left: the doubled digits are the zeros and 4, 0 of the prefix -> 8; the kept ones
    # are zeros and 8, 8 -> 16; 8 + 16 = 24 -> check digit 6. Base 000000001 doubles its 1 -> 2: 26 -> 4;
    # base 000000005 doubles 5 -> 10 -> 1 + 0 = 1: 25 -> 5
    assert npi_check_digit("000000000") == "6"
    assert npi_check_digit("000000001") == "4"
    assert npi_check_digit("000000005") == "5"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("front")
    synth.generate(out, claims=400, months=6, seed=5)
    claims = pd.read_csv(out / "claims.csv", dtype=str, keep_default_na=False)
    lines = pd.read_csv(out / "claim_lines.csv", dtype=str, keep_default_na=False)
    # the claims with a scrubber violation injected on purpose (tests/test_synth_scrub.py) are left out
    injected = {e["claim_id"] for e in json.loads((out / "truth.json").read_text())["scrub"]}
    assert injected
    return claims[~claims["Claim #"].isin(injected)], lines[~lines.claim_id.isin(injected)]


def test_every_claim_has_a_sex_a_place_of_service_and_a_valid_rendering_npi(exported):
    claims, _ = exported
    assert set(claims.Sex) <= {"F", "M"} and set(claims.POS) <= {"11", "02", "12"}
    assert set(claims["Rendering NPI"]) <= set(CLINICIANS)
    assert all(npi_check_digit(n[:9]) == n[9] for n in CLINICIANS)


def test_a_patient_keeps_one_sex_on_every_claim(exported):
    claims, _ = exported
    assert claims.groupby("Pat Acct").Sex.nunique().max() == 1


def test_secondary_coverage_only_behind_payers_that_have_secondaries(exported):
    claims, _ = exported
    with_secondary = claims[claims["Secondary Ins"] != ""]
    assert len(with_secondary) > 0
    for primary, secondary in zip(with_secondary["Ins Code"], with_secondary["Secondary Ins"], strict=True):
        assert secondary in ref.SECONDARY_PAYERS[primary]
    assert (with_secondary["Secondary Member ID"] != "").all()


def test_diagnosis_pointers_point_at_codes_the_claim_has(exported):
    claims, lines = exported
    n_codes = claims.set_index("Claim #")["Dx Codes"].str.count(",") + 1
    highest = lines.diagnosis_pointers.str.split(":").map(lambda p: max(int(x) for x in p))
    assert (highest.to_numpy() <= n_codes.reindex(lines.claim_id).to_numpy()).all()


def test_replacements_and_voids_name_the_payer_claim_number_of_their_835(tmp_path):
    from xl_ar.practice import load_practice

    synth.generate(tmp_path, claims=1500, months=6, seed=5)
    practice = load_practice(tmp_path)
    claims = practice.table("claims")
    injected = {e["claim_id"] for e in json.loads((tmp_path / "truth.json").read_text())["scrub"]
                if e["rule_id"] in ("SCR-FREQ-CODE", "SCR-FREQ-ORIGINAL")}  # a 7 without its number, on purpose
    corrected = claims[claims.frequency_code.isin(["7", "8"]) & ~claims.claim_id.isin(injected)]
    assert set(corrected.frequency_code) == {"7", "8"}  # 1% and 0.3% of the adjudicated claims
    remitted, _ = practice.remittances()
    numbers = remitted["claim_payments"].groupby("claim_id").payer_claim_id.agg(set)
    for claim_id, original in zip(corrected.claim_id, corrected.original_payer_claim_id, strict=True):
        assert original in numbers[claim_id]
    assert claims.original_payer_claim_id[~claims.frequency_code.isin(["7", "8"])].isna().all()
