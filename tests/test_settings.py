"""Settings: one order for every value (flag, workbook sheet, user file, environment, default), each
value checked and its origin named; the CLI and the ribbon use the same resolution."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.excel_standin import Book
from udfs import ribbon, sheets
from xl_ar.cli import main
from xl_ar.errors import SettingsError
from xl_ar.settings import resolve


@pytest.fixture
def home(tmp_path):
    folder = tmp_path / "xl-ar-home"
    folder.mkdir()
    return folder


def env(home, **values) -> dict[str, str]:
    return {"XL_AR_HOME": str(home), **{f"XL_AR_{k.upper()}": v for k, v in values.items()}}


def user_file(home, text: str) -> None:
    (home / "settings.toml").write_text(text, encoding="utf-8")


def test_the_default_store_is_in_the_xl_ar_folder(home):
    s = resolve(environ=env(home))
    assert s.store == str(home / "xl-ar.sqlite") and s.origin["store"] == "default"
    assert s.practice is None and s.era_source == ()


def test_the_environment_is_below_the_user_file(home):
    user_file(home, 'store = "from-file.sqlite"\n')
    s = resolve(environ=env(home, store="from-env.sqlite", as_of="2026-09-30"))
    assert s.store == "from-file.sqlite" and s.origin["store"] == "settings.toml"
    assert s.as_of == dt.date(2026, 9, 30) and s.origin["as_of"] == "XL_AR_AS_OF"  # only the environment sets it


def test_the_sheet_is_above_the_user_file_and_a_flag_above_all(home):
    user_file(home, 'store = "from-file.sqlite"\npractice = "from-file"\n')
    s = resolve(flags={"store": "from-flag.sqlite", "practice": None}, sheet={"Store": "from-sheet.sqlite",
                                                                               "practice": "from-sheet"},
                environ=env(home, store="from-env.sqlite"))
    assert (s.store, s.origin["store"]) == ("from-flag.sqlite", "command line")
    assert (str(s.practice), s.origin["practice"]) == ("from-sheet", "_xl-ar.conf sheet")  # the flag was not given


def test_an_empty_value_does_not_hide_the_next_place(home):
    s = resolve(sheet={"era_source": "  "}, environ=env(home, era_source="/inbox; sftp://clinic@host/out"))
    assert s.era_source == ("/inbox", "sftp://clinic@host/out") and s.origin["era_source"] == "XL_AR_ERA_SOURCE"


def test_a_bad_date_names_the_place_it_was_set(home):
    with pytest.raises(SettingsError, match=r"^_xl-ar.conf sheet: as_of: '2026-13-01' is not a date"):
        resolve(sheet={"as_of": "2026-13-01"}, environ=env(home))


def test_a_misspelled_key_is_an_error_with_a_suggestion(home):
    user_file(home, 'stroe = "x.sqlite"\n')
    with pytest.raises(SettingsError, match=r"settings.toml: unknown setting 'stroe' \(did you mean 'store'\?\)"):
        resolve(environ=env(home))


def test_a_user_file_that_is_not_toml_says_where(home):
    user_file(home, "store = \n")
    with pytest.raises(SettingsError, match=r"^settings.toml: not valid TOML \(.*line 1"):
        resolve(environ=env(home))


def test_a_store_address_with_a_password_is_refused(home):
    with pytest.raises(SettingsError, match="holds a password"):
        resolve(sheet={"store": "postgresql://ar:secret@db.example/xl_ar"}, environ=env(home))
    assert resolve(sheet={"store": "postgresql://ar@db.example/xl_ar"}, environ=env(home)).store.endswith("/xl_ar")


def test_the_cli_shows_each_value_with_its_origin(home, monkeypatch, capsys):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    monkeypatch.setenv("XL_AR_PRACTICE", str(home / "clinic"))
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert f"store          {home / 'xl-ar.sqlite'}  (default)" in out
    assert f"practice       {home / 'clinic'}  (XL_AR_PRACTICE)" in out


def test_a_cli_command_takes_the_practice_from_the_settings(practice_small, home, monkeypatch, capsys):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    user_file(home, f'practice = "{practice_small.as_posix()}"\n')
    assert main(["check"]) == 0
    assert "claims.csv" in capsys.readouterr().out


def test_a_cli_command_without_a_practice_says_how_to_give_one(home, monkeypatch, capsys):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    monkeypatch.delenv("XL_AR_PRACTICE", raising=False)
    assert main(["reconcile"]) == 2
    assert "give --practice DIR (or set practice in settings.toml or XL_AR_PRACTICE)" in capsys.readouterr().err


def test_the_ribbon_reads_the_sheet_then_the_user_file(home, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    user_file(home, f'store = "{(home / "team.sqlite").as_posix()}"\n')
    book = Book(sheets.CONFIG_SHEET)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["as_of", dt.datetime(2026, 9, 30)]]
    s = ribbon._settings(book)
    assert s.as_of == dt.date(2026, 9, 30) and s.origin["as_of"] == "_xl-ar.conf sheet"
    assert s.store == (home / "team.sqlite").as_posix() and s.origin["store"] == "settings.toml"


def test_office_js_date_serials_in_the_sheet_are_dates(home, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    book = Book(sheets.CONFIG_SHEET)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["as_of", 46295]]  # 2026-09-30 in Excel's 1900 system
    assert ribbon._settings(book).as_of == dt.date(2026, 9, 30)


def test_a_bad_setting_in_the_workbook_is_a_message_not_a_traceback(home, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(home))
    book = Book("Claims", sheets.CONFIG_SHEET)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [["as_of", "someday"]]
    assert ribbon.reconcile(book) == "_xl-ar.conf sheet: as_of: 'someday' is not a date (YYYY-MM-DD)"
