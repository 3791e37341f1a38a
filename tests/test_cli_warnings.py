"""What the command line shows of findings: the reader's warnings on `aging --claims`, repeated problems once."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from xl_ar.cli import NO_RESPONSIBILITY, main

HEADER = "Claim #,Pat Acct,Ins Code,DOS,Charges,Payments,Adjustments,Balance"
NO_RESP = (f"{HEADER}\n"
           "C1,A1,MCR,2026-09-01,100.00,0.00,0.00,100.00\n"
           "C2,A2,SMH,2026-06-01,250.00,50.00,0.00,200.00\n")


def claims_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "claims.csv"
    path.write_text(text, encoding="utf-8")
    return path


def aging(path: Path, *more: str) -> int:
    return main(["aging", "--claims", str(path), "--as-of", "2026-09-30", "--by", "responsibility", *more])


def test_aging_of_claims_with_no_responsibility_warns_whose_balance_it_assumed(tmp_path, capsys):
    assert aging(claims_file(tmp_path, NO_RESP)) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [f"warning: claims.csv: {NO_RESPONSIBILITY}"]
    assert "owed by insurance" in NO_RESPONSIBILITY and "Responsibility" in NO_RESPONSIBILITY
    assert "Ins Bal" in NO_RESPONSIBILITY and "practice.json" in NO_RESPONSIBILITY


def test_the_assumed_responsibility_is_what_aging_used(tmp_path, capsys):
    assert aging(claims_file(tmp_path, NO_RESP), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    # every balance is insurance's: 100.00 + 200.00 = 300.00, no patient group
    totals = {r["group"]: r["total"] for r in out["rows"]}
    assert totals["insurance"] == "300.00" and "patient" not in totals


def test_the_warning_leaves_json_output_clean(tmp_path, capsys):
    assert aging(claims_file(tmp_path, NO_RESP), "--json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ar"] == "300.00" and captured.err.startswith("warning: ")


def test_no_warning_when_the_file_says_who_owes(tmp_path, capsys):
    text = NO_RESP.replace(HEADER, f"{HEADER},Resp").replace("100.00\n", "100.00,insurance\n").replace(
        "200.00\n", "200.00,patient\n")
    assert aging(claims_file(tmp_path, text)) == 0
    assert capsys.readouterr().err == ""


def test_a_problem_on_many_rows_of_a_claims_file_is_one_line(tmp_path, capsys):
    text = (f"{HEADER},Resp\n" + "".join(f"C{i},A1,MCR,2026-09-01,TBD,0.00,0.00,100.00,insurance\n"
                                         for i in range(1, 5)))
    assert aging(claims_file(tmp_path, text)) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: claims.csv row")]
    # rows 2 to 5 (header on row 1): the first shown, 3 more counted
    assert errors == ["error: claims.csv row 2, column 'charge': 'TBD' is not an amount "
                      "(and 3 more rows like it: rows 3, 4, 5)"]


def test_ambiguous_dates_are_one_line_saying_how_to_set_the_format(tmp_path, capsys):
    text = (f"{HEADER},Resp\n" + "".join(f"C{i},A1,MCR,0{i}/0{i + 1}/2026,100.00,0.00,0.00,100.00,insurance\n"
                                         for i in range(1, 5)))
    assert aging(claims_file(tmp_path, text)) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: claims.csv row")]
    assert errors == ["error: claims.csv row 2, column 'service_date': dates such as 01/02/2026 could be month/day "
                      "or day/month and no date in claims.csv settles it: set its date_format to MM/DD/YYYY or "
                      "DD/MM/YYYY in practice.json"]


@pytest.fixture
def practice(tmp_path, practice_small) -> Path:
    target = tmp_path / "practice"
    shutil.copytree(practice_small, target)
    return target


def test_check_shows_a_problem_on_many_rows_once_and_still_counts_every_one(practice, capsys):
    claims = pd.read_csv(practice / "claims.csv", dtype=str, keep_default_na=False)
    claims.loc[[0, 1, 2], "Charges"] = ["TBD", "n/a", "TBD"]
    claims.to_csv(practice / "claims.csv", index=False)
    assert main(["check", "--practice", str(practice)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("error:")] == [
        "error: claims.csv row 2, column 'charge': 'TBD' is not an amount (and 2 more rows like it: rows 3, 4)"]
    assert out[-1].startswith("3 errors, ")
