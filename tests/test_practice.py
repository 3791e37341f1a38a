"""The practice folder: read whole, every problem reported, nothing loaded from bad input."""

import datetime as dt
import shutil

import pandas as pd
import pytest

from xl_ar.errors import InputError
from xl_ar.practice import load_practice, npi_is_valid, read_practice


@pytest.fixture
def folder(tmp_path, practice_small):
    target = tmp_path / "practice"
    shutil.copytree(practice_small, target)
    return target


def test_a_generated_practice_reads_without_findings(practice_5k):
    p = load_practice(practice_5k)
    assert p.findings == []
    # 5,000 claims of history + the ready-to-bill batch (xl_ar.synth.scrub_cases), numbered after them
    assert (p.table("claims").claim_id <= "CL0005000").sum() == 5000 and len(p.table("claims")) > 5000
    assert set(p.tables) == {"payers", "claims", "claim_lines", "postings", "deposits", "fee_schedule"}
    assert p.as_of() == dt.date(2026, 9, 30)  # from practice.json
    assert p.as_of(dt.date(2026, 10, 1)) == dt.date(2026, 10, 1)  # --as-of wins
    assert len(p.era_files) > 100


def test_missing_claims_file_is_an_error(folder):
    (folder / "claims.csv").unlink()
    p = read_practice(folder)
    assert [f.message for f in p.findings] == [
        "no claims.csv or claims.xlsx in the folder, and no file recognised or mapped as claims"]


def test_two_files_for_one_table_is_an_error(folder):
    shutil.copy(folder / "payers.csv", folder / "payers.xlsx")
    p = read_practice(folder)
    assert any(f.message == "two files for payers: payers.csv and payers.xlsx; keep one" for f in p.findings)


def test_unknown_payer_on_claims_is_reported_once_per_payer(folder):
    text = (folder / "claims.csv").read_text().replace(",MCD,", ",ZZZ,")
    (folder / "claims.csv").write_text(text)
    p = read_practice(folder)
    zzz = [f for f in p.findings if "'ZZZ'" in f.message]
    assert len(zzz) == 1 and zzz[0].message.startswith("payer 'ZZZ' is not in payers.csv (")


def test_load_practice_raises_with_every_error_and_names_the_files(folder):
    claims = pd.read_csv(folder / "claims.csv", dtype=str, keep_default_na=False)
    claims.loc[2, "DOS"] = "2025-13-45"  # third data row: spreadsheet row 4
    claims.to_csv(folder / "claims.csv", index=False)
    (folder / "deposits.csv").write_text("")
    with pytest.raises(InputError) as e:
        load_practice(folder)
    messages = [str(f) for f in e.value.findings]
    assert "nothing was written" in str(e.value)
    assert "claims.csv row 4, column 'service_date': '2025-13-45' is not a date" in messages
    assert "deposits.csv: the file is empty" in messages


def test_practice_json_with_a_bad_date(folder):
    (folder / "practice.json").write_text('{"as_of": "30/09/2026"}')
    p = read_practice(folder)
    assert [str(f) for f in p.findings] == ["practice.json as_of: '30/09/2026' is not a date (YYYY-MM-DD)"]


def test_without_as_of_a_command_asks_for_one(folder):
    (folder / "practice.json").unlink()
    p = load_practice(folder)
    with pytest.raises(InputError, match="give --as-of"):
        p.as_of()


def test_npi_check_digit():
    assert npi_is_valid("1234567893")  # the CMS example NPI
    assert not npi_is_valid("1234567890")
