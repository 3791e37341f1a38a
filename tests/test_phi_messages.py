"""Defect 2 (issue 13): an error message never shows a patient's data, whatever header it sits under.

A value is quoted only when its column is known not to identify a patient (amounts, codes, dates of service)
and the value looks like what that column holds; anything else is described by its length.
"""

from xl_ar import privacy
from xl_ar.cli import main

NAMES = ("Jane Doe", "Mary Major")  # synthetic patients
MEMBER_IDS = ("Q7RX55120", "M44X01")
BIRTH_DATES = ("1980-03-14", "1975-12-01")
PHI = (*NAMES, *MEMBER_IDS, *BIRTH_DATES)

HEADER = "Claim ID,Account,Payer,Service Date,Billed Date,Charge,Paid,Adjusted,Balance,Responsibility"
# every date, amount and code column of a row holds a patient's name, member id or birth date
ROWS = ("CL1,PA1,AET,Jane Doe,2026-01-05,Q7RX55120,0,0,100,insurance",
        "CL2,PA2,AET,Q7RX55120,Mary Major,1980-03-14,0,0,100,Jane Doe",
        "CL3,PA3,AET,2026-01-04,M44X01,100.00,Mary Major,1975-12-01,100,M44X01")


def test_check_shows_no_patient_value_put_under_date_amount_or_code_headers(tmp_path, capsys):
    path = tmp_path / "claims.csv"
    path.write_text("\n".join((HEADER, *ROWS)) + "\n")
    assert main(["check", str(path), "--limit", "500"]) == 2
    out = capsys.readouterr()
    printed = out.out + out.err
    assert "is not a date" in printed and "is not an amount" in printed  # the bad cells are still reported
    assert [v for v in PHI if v in printed] == []  # before the fix: all 6 values appeared


def test_a_name_under_a_date_column_is_described_not_quoted():
    assert privacy.shown("service_date", "Jane Doe") == "a value of 8 characters"


def test_a_birth_date_under_an_amount_column_is_not_quoted():
    assert privacy.shown("charge", "1980-03-14") == "a value of 10 characters"


def test_a_member_id_under_an_amount_column_is_not_quoted():
    assert privacy.shown("paid", "Q7RX55120") == "a value of 9 characters"


def test_a_name_under_a_code_column_with_choices_is_not_quoted():
    assert privacy.shown("responsibility", "Smith") == "a value of 5 letters"


def test_a_value_of_an_unknown_column_is_never_quoted():
    assert privacy.shown("notes", "12.50") == "a value of 5 characters"


def test_a_value_shaped_like_its_safe_column_is_quoted():
    assert privacy.shown("charge", "12.345") == "'12.345'"  # three decimals: amount-shaped, not an amount
    assert privacy.shown("service_date", "02/30/2026") == "'02/30/2026'"
    assert privacy.shown("modifiers", "25:59") == "'25:59'"


def test_placeholders_people_type_are_quoted():
    assert privacy.shown("charge", "n/a") == "'n/a'" and privacy.shown("charge", "#VALUE!") == "'#VALUE!'"


def test_identifier_columns_stay_hidden_even_when_well_shaped():
    assert privacy.shown("date_of_birth", "1980-03-14") == "(value hidden: patient identifier)"


def test_an_ambiguous_date_under_a_birth_date_column_gives_a_made_up_example(tmp_path, capsys):
    path = tmp_path / "claims.csv"
    path.write_text("Claim ID,Account,Payer,DOB,Service Date,Charge,Paid,Adjusted,Balance\n"
                    "CL1,PA1,AET,03/04/1980,2026-01-05,100,0,0,100\n")
    main(["check", str(path)])
    printed = capsys.readouterr().out
    assert "03/04/1980" not in printed and "01/02/2026" in printed


def test_an_unknown_payer_that_is_a_name_is_not_quoted(tmp_path, capsys):
    (tmp_path / "claims.csv").write_text(
        "Claim ID,Account,Payer,Service Date,Charge,Paid,Adjusted,Balance\nCL1,PA1,Jane Doe,2026-01-05,100,0,0,100\n")
    (tmp_path / "payers.csv").write_text("Payer ID,Name,Payer Class\nAET,Aetna,commercial\n")
    main(["check", "--practice", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "is not in payers.csv" in printed and "Jane Doe" not in printed


def test_to_cents_does_not_quote_a_name():
    import pytest

    from xl_ar.money import to_cents
    with pytest.raises(ValueError, match="a value of 8 characters is not an amount"):
        to_cents("Jane Doe")


def test_an_export_without_a_header_row_does_not_name_its_first_row_as_headers(tmp_path, capsys):
    # the first data row is read as the header row: its "headers" are a patient's data
    path = tmp_path / "claims.csv"
    path.write_text("CL1,PA1,AET,Jane Doe,2026-01-05,Q7RX55120,100,1980-03-14\n"
                    "CL2,PA2,AET,Mary Major,2026-01-06,M44X01,100,1975-12-01\n")
    main(["check", str(path), "--limit", "500"])
    printed = capsys.readouterr().out
    assert "not used: not named" in printed  # the unused columns are still counted
    assert [v for v in PHI if v in printed] == []  # before the fix: Jane Doe, Q7RX55120 and 1980-03-14 appeared


def test_real_header_names_are_still_named():
    assert privacy.headers_shown(["Patient Name", "Notes", "Ins Bal.1"])


def test_a_header_shaped_like_a_date_or_an_amount_hides_the_header_names():
    assert not privacy.headers_shown(["Notes", "1980-03-14"]) and not privacy.headers_shown(["Notes", "100.00"])
