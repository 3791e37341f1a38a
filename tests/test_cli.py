"""The command line: the main job, synth, and bad input that stops before anything is written."""

import hashlib
import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xl_ar.cli import main


def test_demo_runs_the_main_job(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--claims", "800", "--quiet"]) == 0
    out = capsys.readouterr().out
    # 800 claims + 93 ready to bill: 31 injected scrubber rules, one claim each, and twice as many clean ones
    assert "Practice: 893 claims" in out and "found no errors" in out
    assert (tmp_path / "demo" / "practice" / "truth.json").exists()
    assert (tmp_path / "demo" / "xl-ar.sqlite").exists()
    # the demo scrubs as `xl-ar claims scrub` does, with the practice's payer rules (scrub_rules.csv)
    import re

    said = re.search(r"Scrubbed ([\d,]+) claims to send: ([\d,]+) clean", out)
    assert main(["claims", "scrub", "--practice", str(tmp_path / "demo" / "practice"),
                 "--store", str(tmp_path / "scrub.sqlite")]) == 0
    cli = re.search(r"Scrubbed ([\d,]+) claims .*?: ([\d,]+) clean", capsys.readouterr().out)
    assert said and cli and said.groups() == cli.groups()


def test_the_demo_writes_the_follow_up_documents_it_reports(tmp_path, capsys):
    import re
    import stat

    assert main(["demo", "--out", str(tmp_path / "demo"), "--claims", "800", "--quiet"]) == 0
    said = re.search(r"Follow-up: (\d+) patient statements .* (\d+) appeal letters and (\d+) refund letters",
                     capsys.readouterr().out)
    assert said
    statements, appeals, refunds = (int(n) for n in said.groups())
    demo = tmp_path / "demo"
    assert statements > 0 and len(list((demo / "statements").glob("statement_*.pdf"))) == statements
    assert len(list((demo / "letters" / "appeals").glob("appeal_*.docx"))) == appeals
    assert len(list((demo / "letters" / "refunds").glob("refund_*.docx"))) == refunds
    for folder in (demo / "statements", demo / "letters" / "appeals"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # patient data: owner-only


def test_synth_twice_gives_byte_identical_files(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["synth", "--out", str(tmp_path / name), "--claims", "300", "--seed", "7", "--quiet"]) == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files
    for f in files:
        assert hashlib.sha256((tmp_path / "a" / f).read_bytes()).digest() == hashlib.sha256(
            (tmp_path / "b" / f).read_bytes()).digest(), f
    assert "Wrote a synthetic practice" in capsys.readouterr().out


def test_synth_rejects_a_bad_argument(capsys):
    with pytest.raises(SystemExit) as e:
        main(["synth", "--out", "x", "--claims", "zero"])
    assert e.value.code == 2 and "'zero' is not a whole number" in capsys.readouterr().err


@pytest.fixture
def practice(tmp_path, practice_small) -> Path:
    target = tmp_path / "practice"
    shutil.copytree(practice_small, target)
    return target


def edit_claims(folder: Path, change) -> None:
    claims = pd.read_csv(folder / "claims.csv", dtype=str, keep_default_na=False)
    change(claims)
    claims.to_csv(folder / "claims.csv", index=False)


def run_check(folder: Path, capsys) -> tuple[int, list[str]]:
    code = main(["check", "--practice", str(folder)])
    return code, [line for line in capsys.readouterr().out.splitlines() if line.startswith("error:")]


def test_check_of_a_clean_practice(practice, capsys):
    code, errors = run_check(practice, capsys)
    assert code == 0 and errors == []


def test_bad_date_gives_one_line_naming_file_row_and_column(practice, capsys):
    edit_claims(practice, lambda c: c.__setitem__("DOS", c["DOS"].where(c.index != 4, "02/30/2026")))
    code, errors = run_check(practice, capsys)
    assert code == 2
    assert errors == ["error: claims.csv row 6, column 'service_date': '02/30/2026' is not a date"]


def test_text_amount_gives_one_line(practice, capsys):
    edit_claims(practice, lambda c: c.__setitem__("Charges", c["Charges"].where(c.index != 0, "TBD")))
    code, errors = run_check(practice, capsys)
    assert code == 2 and errors == ["error: claims.csv row 2, column 'charge': 'TBD' is not an amount"]


def test_missing_column_gives_one_line(practice, capsys):
    edit_claims(practice, lambda c: c.pop("DOS"))
    code, errors = run_check(practice, capsys)
    assert code == 2 and len(errors) == 1
    assert errors[0].startswith("error: claims.csv column 'service_date': required column 'service_date' is missing")


def test_empty_file_gives_one_line(practice, capsys):
    (practice / "claims.csv").write_text("")
    code, errors = run_check(practice, capsys)
    assert code == 2 and errors == ["error: claims.csv: the file is empty"]


def test_file_that_is_not_a_spreadsheet_gives_one_line(practice, capsys):
    (practice / "claims.csv").unlink()
    (practice / "claims.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    code, errors = run_check(practice, capsys)
    assert code == 2 and len(errors) == 1
    assert errors[0].startswith("error: claims.xlsx: not a readable spreadsheet")


def test_xlsx_claims_export_with_a_bad_cell(practice, capsys):
    claims = pd.read_csv(practice / "claims.csv", dtype=str, keep_default_na=False)
    (practice / "claims.csv").unlink()
    claims.loc[9, "Payments"] = "n/a"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(claims.columns))
    for row in claims.itertuples(index=False):
        ws.append(list(row))
    wb.save(practice / "claims.xlsx")
    code, errors = run_check(practice, capsys)
    assert code == 2 and errors == ["error: claims.xlsx row 11, column 'paid': 'n/a' is not an amount"]


def test_a_command_stops_before_writing_on_bad_input(practice, tmp_path, capsys):
    edit_claims(practice, lambda c: c.__setitem__("DOS", c["DOS"].where(c.index != 0, "someday")))
    from xl_ar.practice import load_practice

    with pytest.raises(Exception) as e:
        load_practice(practice)
    assert "nothing was written" in str(e.value)
    assert json.loads((practice / "truth.json").read_text())  # inputs untouched
