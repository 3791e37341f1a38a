"""Settings: one order for every value (flag; workbook sheet, add-in sheet, file beside the workbook, user file, as
xlwings reads its config; environment; default), each value checked and its origin named; the CLI and the ribbon
use the same resolution, and thresholds and targets reach the reconciliation and the report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.excel_standin import Book
from udfs import ribbon, sheets
from xl_ar import settings
from xl_ar.cli import main
from xl_ar.errors import SettingsError
from xl_ar.reconcile import Rules
from xl_ar.reports.content import Targets, Tile
from xl_ar.settings import resolve

SHEET = "workbook's xl_ar.conf sheet"
ADDIN = "add-in's xl_ar.conf sheet"
BESIDE = "xl_ar.conf beside the workbook"


@pytest.fixture
def home(tmp_path):
    folder = tmp_path / "xl-ar-home"
    folder.mkdir()
    return folder


def env(home, **values) -> dict[str, str]:
    return {"XL_AR_HOME": str(home), **{f"XL_AR_{k.upper()}": v for k, v in values.items()}}


def conf(folder: Path, text: str) -> Path:
    path = folder / "xl_ar.conf"
    path.write_text(text, encoding="utf-8")
    return path


def user(home) -> str:
    return f"user file {home / 'xl_ar.conf'}"


# --- where the files are ------------------------------------------------------------------------------------------


def test_the_user_file_is_where_xlwings_reads_its_user_config(tmp_path):
    profile, mac, linux = tmp_path / "profile", tmp_path / "mac", tmp_path / "linux"
    assert settings.user_file({"USERPROFILE": str(profile)}, "Windows") == profile / ".xl_ar" / "xl_ar.conf"
    assert settings.user_file({}, "Darwin", mac) == mac / "Library/Containers/com.microsoft.Excel/Data/xl_ar.conf"
    assert settings.user_file({}, "Linux", linux) == linux / ".xl_ar" / "xl_ar.conf"


def test_xl_ar_home_moves_the_user_file_and_the_default_store(home):
    assert settings.user_file(env(home), "Windows") == home / "xl_ar.conf"
    s = resolve(environ=env(home))
    assert s.store == str(home / "xl-ar.sqlite") and s.origin["store"] == "default"
    assert s.practice is None and s.era_source == ()


# --- the order ----------------------------------------------------------------------------------------------------


def test_each_place_wins_over_the_places_after_it(home, tmp_path):
    beside = tmp_path / "clinic"
    beside.mkdir()
    conf(home, '"store","user.sqlite"\n"practice","user-practice"\n"practice_name","User"\n"report_folder","u"\n'
               '"as_of","2026-01-31"\n')
    conf(beside, '"store","beside.sqlite"\n"practice","beside-practice"\n"practice_name","Beside"\n')
    s = resolve(sheet={"store": "sheet.sqlite"}, addin={"store": "addin.sqlite", "practice": "addin-practice"},
                folder=beside, environ=env(home, store="env.sqlite", era_source="/inbox", as_of="2026-02-28"))
    assert (s.store, s.origin["store"]) == ("sheet.sqlite", SHEET)
    assert (str(s.practice), s.origin["practice"]) == ("addin-practice", ADDIN)
    assert (s.practice_name, s.origin["practice_name"]) == ("Beside", BESIDE)
    assert (str(s.report_folder), s.origin["report_folder"]) == ("u", user(home))
    assert (s.as_of, s.origin["as_of"]) == (dt.date(2026, 1, 31), user(home))  # the user file is above the env
    assert (s.era_source, s.origin["era_source"]) == (("/inbox",), "XL_AR_ERA_SOURCE")


def test_a_flag_wins_over_every_place(home):
    s = resolve(flags={"store": "flag.sqlite", "practice": None}, sheet={"store": "sheet.sqlite", "practice": "p"},
                environ=env(home))
    assert (s.store, s.origin["store"]) == ("flag.sqlite", "command line")
    assert s.origin["practice"] == SHEET  # that flag was not given


def test_keys_are_case_insensitive_as_in_xlwings(home):
    s = resolve(sheet={" Store ": "sheet.sqlite"}, addin={"PRACTICE": "p"}, environ=env(home))
    assert (s.store, str(s.practice)) == ("sheet.sqlite", "p")


def test_an_empty_value_does_not_hide_the_next_place(home):
    s = resolve(sheet={"era_source": "  "}, environ=env(home, era_source="/inbox; sftp://clinic@host/out"))
    assert s.era_source == ("/inbox", "sftp://clinic@host/out") and s.origin["era_source"] == "XL_AR_ERA_SOURCE"


def test_xlwings_own_keys_share_the_files_and_are_left_to_xlwings(home):
    conf(home, '"INTERPRETER_WIN","C:\\Python311\\pythonw.exe"\r\n"UDF MODULES","udfs.functions"\r\n'
               '"store","team.sqlite"\r\n')
    assert resolve(addin={"UDF MODULES": "udfs.functions", "Conda Path": ""}, environ=env(home)).store == "team.sqlite"


# --- the files ----------------------------------------------------------------------------------------------------


def test_a_line_that_is_not_a_key_value_pair_names_its_line(home):
    conf(home, '"store","a.sqlite"\nstore = "b.sqlite"\n')
    with pytest.raises(SettingsError, match=r'xl_ar.conf: line 2: write one "key","value" pair per line'):
        resolve(environ=env(home))


def test_a_key_set_twice_in_a_file_names_both_lines(home):
    conf(home, '"store","a.sqlite"\n"as_of","2026-09-30"\n"STORE","b.sqlite"\n')
    with pytest.raises(SettingsError, match=r"line 3: 'STORE' is set twice \(also line 1\)"):
        resolve(environ=env(home))


def test_a_misspelled_key_is_an_error_with_a_suggestion(home):
    conf(home, '"stroe","x.sqlite"\n')
    with pytest.raises(SettingsError, match=r"^user file .*xl_ar.conf: unknown setting 'stroe' \(did you mean "
                                            r"'store'\?\)"):
        resolve(environ=env(home))


def test_a_huge_file_is_refused_without_reading_it(home):
    (home / "xl_ar.conf").write_bytes(b'"store","' + b"x" * (settings.MAX_FILE_BYTES + 10) + b'"\n')
    with pytest.raises(SettingsError, match="larger than 64 KB"):
        resolve(environ=env(home))


def test_a_file_saved_by_notepad_in_the_windows_code_page_is_read(home):
    (home / "xl_ar.conf").write_bytes('"practice_name","Clínica Peña"\r\n'.encode("cp1252"))
    assert resolve(environ=env(home)).practice_name == "Clínica Peña"


def test_writing_a_file_keeps_the_other_lines_and_refuses_what_vba_cannot_read(tmp_path):
    path = conf(tmp_path, '"INTERPRETER_WIN","C:\\Python\\pythonw.exe"\n"store","a.sqlite"\n')
    settings.update_conf(path, {"STORE": "b.sqlite", "practice": "C:\\clinic"})
    assert path.read_text().splitlines() == ['"INTERPRETER_WIN","C:\\Python\\pythonw.exe"', '"STORE","b.sqlite"',
                                             '"practice","C:\\clinic"']
    with pytest.raises(SettingsError, match="double quote"):
        settings.update_conf(path, {"practice_name": 'The "Best" Clinic'})
    assert "Best" not in path.read_text()  # nothing written


# --- values -------------------------------------------------------------------------------------------------------


def test_a_bad_date_names_the_place_it_was_set(home):
    with pytest.raises(SettingsError, match=rf"^{SHEET}: as_of: '2026-13-01' is not a date"):
        resolve(sheet={"as_of": "2026-13-01"}, environ=env(home))


def test_a_store_address_with_a_password_is_refused(home):
    with pytest.raises(SettingsError, match="holds a password; keep passwords in the OS keyring"):
        resolve(sheet={"store": "postgresql://ar:secret@db.example/xl_ar"}, environ=env(home))
    assert resolve(sheet={"store": "postgresql://ar@db.example/xl_ar"}, environ=env(home)).store.endswith("/xl_ar")


def test_a_mailbox_address_with_a_password_is_refused(home):
    with pytest.raises(SettingsError, match=rf"^{ADDIN}: era_source: holds a password"):
        resolve(addin={"era_source": "/inbox; sftp://clinic:hunter2@mail.example/out"}, environ=env(home))


def test_thresholds_are_read_in_the_units_people_write(home):
    s = resolve(sheet={"variance_min": "$7.50", "variance_min_share": "3%", "posting_grace_days": 5.0,
                       "mpr": "100%; 50%; 25%"},
                addin={"no_response_days": "45", "deposit_window_days": 14}, environ=env(home))
    rules = s.rules()
    assert rules.variance_min_cents == 750  # $7.50
    assert rules.variance_min_share == 0.03  # 3%
    assert (rules.posting_grace_days, rules.no_response_days, rules.deposit_window_days) == (5, 45, 14)
    assert rules.mpr == (1.0, 0.5, 0.25)
    assert rules.deposit_grace_days == Rules().deposit_grace_days  # not set: the default
    assert dict((k, v) for k, v, _ in s.describe())["variance_min"] == "7.50"


def test_a_cell_formatted_as_a_percentage_holds_a_share(home):
    assert resolve(sheet={"variance_min_share": 0.02}, environ=env(home)).rules().variance_min_share == 0.02


def test_the_multiple_procedure_reduction_can_be_turned_off(home):
    assert resolve(sheet={"mpr": "off"}, environ=env(home)).rules().mpr is None


@pytest.mark.parametrize(("key", "value", "says"), [
    ("variance_min_share", "3", r"'3' is not a share from 0% to 100% \(write 3% or 0.03\)"),
    ("variance_min", "5.001", "not an amount in dollars and whole cents"),
    ("variance_min", "-5", "not an amount in dollars and whole cents"),
    ("posting_grace_days", "2.5", "not a whole number of days"),
    ("no_response_days", "9" * 5000, "is not a number"),
    ("target_days_in_ar", "0", "not a number of days above 0"),
    ("mpr", "100%; 0%", "a procedure's share cannot be 0%"),
])
def test_a_threshold_that_cannot_be_used_says_why_and_where(home, key, value, says):
    with pytest.raises(SettingsError, match=rf"^{SHEET}: {key}: .*{says}"):
        resolve(sheet={key: value}, environ=env(home))


def test_targets_are_read_from_the_settings(home):
    conf(home, '"target_days_in_ar","35"\n"target_denial_rate","4%"\n"target_amber_margin","10%"\n')
    targets = resolve(environ=env(home)).targets()
    assert targets == Targets(days_in_ar=35, denial_rate=0.04, amber_margin=0.10)


def test_the_amber_margin_decides_a_tiles_state():
    # 45 days against a target of 40: amber within 25% (up to 40 * 1.25 = 50), red beyond 10% (40 * 1.10 = 44)
    assert Tile("days_in_ar", "Days in A/R", 45, "days", 40, True).state == "amber"
    assert Tile("days_in_ar", "Days in A/R", 45, "days", 40, True, margin=0.10).state == "red"


# --- the CLI ------------------------------------------------------------------------------------------------------


def test_the_cli_shows_each_value_with_its_origin(home, monkeypatch, capsys):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    monkeypatch.setenv("XL_AR_PRACTICE", str(home / "clinic"))
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    width = max(len(k) for k in settings.SETTINGS)
    assert f"  {'store':<{width}}  {home / 'xl-ar.sqlite'}  (default)" in out
    assert f"  {'practice':<{width}}  {home / 'clinic'}  (XL_AR_PRACTICE)" in out
    assert f"  {'variance_min_share':<{width}}  2%  (default)" in out


def test_settings_set_and_unset_change_the_user_file(home, monkeypatch, capsys):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    conf(home, '"INTERPRETER_MAC","/usr/local/bin/python3"\n')
    assert main(["settings", "set", "Variance_Min", "7.50"]) == 0
    assert main(["settings", "set", "store", "team.sqlite"]) == 0
    text = (home / "xl_ar.conf").read_text()
    assert text == '"INTERPRETER_MAC","/usr/local/bin/python3"\n"variance_min","7.50"\n"store","team.sqlite"\n'
    assert main(["settings", "unset", "variance_min"]) == 0
    assert (home / "xl_ar.conf").read_text() == '"INTERPRETER_MAC","/usr/local/bin/python3"\n"store","team.sqlite"\n'
    assert "variance_min removed in" in capsys.readouterr().out


def test_settings_set_checks_the_value_first_and_changes_nothing_when_it_is_wrong(home, monkeypatch, capsys):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    assert main(["settings", "set", "variance_min_share", "30"]) == 2
    assert main(["settings", "set", "stroe", "x.sqlite"]) == 2
    err = capsys.readouterr().err
    assert "variance_min_share: '30' is not a share from 0% to 100% (write 30% or 0.3)" in err
    assert "unknown setting 'stroe' (did you mean 'store'?)" in err
    assert not (home / "xl_ar.conf").exists()


def test_a_cli_command_takes_the_practice_from_the_settings(practice_small, home, monkeypatch, capsys):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    conf(home, f'"practice","{practice_small}"\n')
    assert main(["check"]) == 0
    assert "claims.csv" in capsys.readouterr().out


def test_a_cli_command_without_a_practice_says_how_to_give_one(home, monkeypatch, capsys):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    monkeypatch.delenv("XL_AR_PRACTICE", raising=False)
    assert main(["reconcile"]) == 2
    assert "give --practice DIR (or set practice in xl_ar.conf or XL_AR_PRACTICE" in capsys.readouterr().err


def test_reconcile_applies_the_variance_threshold_from_the_settings(practice_small, home, monkeypatch, capsys):
    import json

    monkeypatch.setenv("XL_AR_HOME", str(home))

    def kinds() -> dict[str, int]:
        assert main(["reconcile", "--practice", str(practice_small), "--json", "--quiet"]) == 0
        return json.loads(capsys.readouterr().out)["summary"]

    default = kinds()
    assert default["underpaid"] > 0
    conf(home, '"variance_min","1000000"\n')  # nothing in a small practice is a million dollars off
    assert kinds()["underpaid"] == 0


# --- the ribbon ---------------------------------------------------------------------------------------------------


def test_the_ribbon_reads_the_workbook_the_add_in_the_folder_then_the_user_file(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    folder = tmp_path / "billing"
    folder.mkdir()
    conf(folder, '"practice_name","Folder Clinic"\n"report_folder","reports"\n')
    conf(home, f'"store","{(home / "team.sqlite").as_posix()}"\n"report_folder","mine"\n')
    book = Book(sheets.CONFIG_SHEET, fullname=str(folder / "AR.xlsx"))
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["as_of", dt.datetime(2026, 9, 30)]]
    addin = Book(sheets.CONFIG_SHEET)
    addin.sheets[sheets.CONFIG_SHEET].range("A1").value = [["UDF MODULES", "udfs.functions"],
                                                           ["variance_min", 25.0], ["practice_name", None]]
    book.app.books["xl_ar.xlam"] = addin
    s = ribbon._settings(book)
    assert (s.as_of, s.origin["as_of"]) == (dt.date(2026, 9, 30), SHEET)
    assert (s.rules().variance_min_cents, s.origin["variance_min"]) == (2500, ADDIN)  # $25
    assert (s.practice_name, s.origin["practice_name"]) == ("Folder Clinic", BESIDE)
    assert str(s.report_folder) == "reports"
    assert (s.store, s.origin["store"]) == ((home / "team.sqlite").as_posix(), user(home))


def test_the_settings_sheet_may_leave_values_empty_and_rows_blank(home, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    book = Book(sheets.CONFIG_SHEET)
    cells = book.sheets[sheets.CONFIG_SHEET].cells
    cells.update({(1, 1): "store", (2, 1): "practice", (2, 2): "p", (4, 1): "as_of", (4, 2): "2026-09-30"})
    s = ribbon._settings(book)  # B1 empty and row 3 blank: neither stops the reading
    assert (str(s.practice), s.as_of, s.origin["store"]) == ("p", dt.date(2026, 9, 30), "default")


def test_a_workbook_never_saved_has_no_folder_file(home, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    assert sheets.folder(Book(fullname="Book1")) is None
    assert sheets.folder(Book(fullname="https://contoso.sharepoint.com/ar/AR.xlsx")) is None


def test_office_js_date_serials_in_the_sheet_are_dates(home, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    book = Book(sheets.CONFIG_SHEET)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["as_of", 46295]]  # 2026-09-30 in Excel's 1900 system
    assert ribbon._settings(book).as_of == dt.date(2026, 9, 30)


def test_a_key_twice_in_the_sheet_is_reported_with_its_cell(home, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    book = Book("Claims", sheets.CONFIG_SHEET)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["store", "a.sqlite"], ["Store", "b.sqlite"]]
    assert ribbon.reconcile(book) == "xl_ar.conf sheet: A2: 'Store' is set twice"


def test_a_bad_setting_in_the_workbook_is_a_message_not_a_traceback(home, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    book = Book("Claims", sheets.CONFIG_SHEET)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["as_of", "someday"]]
    assert ribbon.reconcile(book) == f"{SHEET}: as_of: 'someday' is not a date (YYYY-MM-DD)"
