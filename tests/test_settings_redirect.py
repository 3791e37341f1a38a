"""A workbook cannot send credentials or patient data elsewhere unasked (issue 13, defect 8).

The workbook's `xl_ar.conf` sheet and an `xl_ar.conf` file beside it travel with the workbook: they are untrusted.
A store, or a remittance mailbox on a host, that they set and the trusted places (command line, add-in sheet, user
file, environment, default) do not give needs the user's Yes before any password is looked up or anything opened.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.excel_standin import Book
from udfs import ribbon, sheets
from xl_ar import settings, sources
from xl_ar.cli import main
from xl_ar.errors import SettingsError
from xl_ar.settings import resolve
from xl_ar.store import Store

OTHER_DB = "postgresql://clinic@other-host.example.net/ar"
OTHER_MAILBOX = "sftp://clinic@other-host.example.net/outbox"


@pytest.fixture
def home(tmp_path, monkeypatch):
    folder = tmp_path / "xl-ar-home"
    folder.mkdir()
    monkeypatch.setenv("XL_AR_HOME", str(folder))
    monkeypatch.delenv("XL_AR_STORE", raising=False)
    monkeypatch.delenv("XL_AR_ERA_SOURCE", raising=False)
    monkeypatch.delenv("XL_AR_CONFIRMED_REDIRECTS", raising=False)
    return folder


@pytest.fixture
def lookups(os_keyring, monkeypatch):
    """Every keyring lookup (service, user); the keyring keeps a password for both addresses of other-host."""
    os_keyring.set_password("xl-ar-store", "clinic@other-host.example.net", "s3cret")
    os_keyring.set_password("xl-ar-sftp", "clinic@other-host.example.net", "s3cret")
    seen: list[tuple[str, str]] = []
    real = os_keyring.get_password
    monkeypatch.setattr(os_keyring, "get_password", lambda service, user: seen.append((service, user)) or
                        real(service, user))
    return seen


@pytest.fixture
def opened(monkeypatch):
    """Every store opened (the address as given)."""
    seen: list[str] = []
    real = Store.open.__func__

    def spy(cls, where=None):
        seen.append(str(where))
        return real(cls, where)
    monkeypatch.setattr(Store, "open", classmethod(spy))
    return seen


def workbook(*rows: list[object], fullname: str = "") -> Book:
    book = Book(sheets.CONFIG_SHEET, fullname=fullname)
    book.sheets[sheets.CONFIG_SHEET].range("A1").value = [list(r) for r in rows]
    return book


# --- the rule (xl_ar.settings) ------------------------------------------------------------------------------------


def test_a_store_from_the_workbook_sheet_needs_confirmation(home):
    s = resolve(sheet={"store": OTHER_DB}, user=home / "xl_ar.conf", environ={"XL_AR_HOME": str(home)})
    (redirect,) = s.redirects
    assert (redirect.key, redirect.value, redirect.host) == ("store", OTHER_DB, "other-host.example.net")
    assert redirect.origin == "workbook's xl_ar.conf sheet"
    assert redirect.trusted == str(home / "xl-ar.sqlite")  # the default store: what the user would get otherwise
    assert s.usable_store == str(home / "xl-ar.sqlite")


def test_the_conf_file_beside_the_workbook_is_untrusted_too(home, tmp_path):
    folder = tmp_path / "mailed"
    folder.mkdir()
    (folder / "xl_ar.conf").write_text(f'"store","{OTHER_DB}"\n', encoding="utf-8")
    s = resolve(folder=folder, user=home / "xl_ar.conf", environ={"XL_AR_HOME": str(home)})
    assert [(r.key, r.origin) for r in s.redirects] == [("store", "xl_ar.conf beside the workbook")]


def test_the_add_in_sheet_is_trusted(home):
    s = resolve(addin={"store": OTHER_DB, "era_source": OTHER_MAILBOX}, user=home / "xl_ar.conf",
                environ={"XL_AR_HOME": str(home)})
    assert s.store == OTHER_DB and s.redirects == ()


def test_the_same_store_from_the_workbook_as_from_the_user_file_needs_no_confirmation(home):
    (home / "xl_ar.conf").write_text(f'"store","{OTHER_DB}"\n', encoding="utf-8")
    s = resolve(sheet={"store": OTHER_DB}, user=home / "xl_ar.conf", environ={"XL_AR_HOME": str(home)})
    assert s.origin["store"] == "workbook's xl_ar.conf sheet" and s.redirects == ()


def test_a_local_store_path_from_the_workbook_needs_confirmation(home, tmp_path):
    # a workbook pointing the store at a shared folder would have patient data written there
    s = resolve(sheet={"store": str(tmp_path / "team-folder" / "ar.sqlite")}, user=home / "xl_ar.conf",
                environ={"XL_AR_HOME": str(home)})
    assert [(r.key, r.host) for r in s.redirects] == [("store", "")]


def test_a_mailbox_on_a_host_the_user_never_named_needs_confirmation(home, tmp_path):
    inbox = str(tmp_path / "inbox")
    s = resolve(sheet={"era_source": f"{inbox}; {OTHER_MAILBOX}"}, user=home / "xl_ar.conf",
                environ={"XL_AR_HOME": str(home)})
    assert [(r.key, r.value) for r in s.redirects] == [("era_source", OTHER_MAILBOX)]  # the local folder is fine


def test_a_network_share_from_the_workbook_needs_confirmation(home):
    # opening \\host\share sends the Windows login to that host
    s = resolve(sheet={"era_source": r"\\other-host\drop\era"}, user=home / "xl_ar.conf",
                environ={"XL_AR_HOME": str(home)})
    assert [r.host for r in s.redirects] == ["other-host"]


def test_a_mailbox_on_the_host_the_user_configured_needs_no_confirmation(home):
    (home / "xl_ar.conf").write_text('"era_source","sftp://clinic@other-host.example.net/outbox"\n', encoding="utf-8")
    s = resolve(sheet={"era_source": "sftp://clinic@other-host.example.net/outbox/2026"}, user=home / "xl_ar.conf",
                environ={"XL_AR_HOME": str(home)})
    assert s.redirects == ()


def test_the_same_host_on_another_port_needs_confirmation(home):
    (home / "xl_ar.conf").write_text('"era_source","sftp://clinic@other-host.example.net/outbox"\n', encoding="utf-8")
    s = resolve(sheet={"era_source": "sftp://clinic@other-host.example.net:2222/outbox"},
                user=home / "xl_ar.conf", environ={"XL_AR_HOME": str(home)})
    assert len(s.redirects) == 1


def test_a_confirmed_address_needs_no_confirmation_again(home):
    settings.confirm([OTHER_DB], user=home / "xl_ar.conf")
    s = resolve(sheet={"store": OTHER_DB}, user=home / "xl_ar.conf", environ={"XL_AR_HOME": str(home)})
    assert s.redirects == () and s.store == OTHER_DB


def test_a_workbook_cannot_confirm_its_own_addresses(home):
    with pytest.raises(SettingsError, match="confirmed_redirects can only be set in your user file"):
        resolve(sheet={"store": OTHER_DB, "confirmed_redirects": OTHER_DB}, user=home / "xl_ar.conf",
                environ={"XL_AR_HOME": str(home)})


def test_the_question_names_the_setting_its_origin_and_the_host(home):
    s = resolve(sheet={"store": OTHER_DB}, user=home / "xl_ar.conf", environ={"XL_AR_HOME": str(home)})
    question = s.redirects[0].question()
    assert "workbook's xl_ar.conf sheet sets store" in question and "on the host other-host.example.net" in question


# --- the ribbon asks ----------------------------------------------------------------------------------------------


def test_the_ribbon_asks_and_no_stops_before_any_password_or_store(home, lookups, opened):
    book = workbook(["store", OTHER_DB])
    book.app.answer = "no"
    message = ribbon.import_remittances(book)
    assert len(book.app.questions) == 1 and "other-host.example.net" in book.app.questions[0]
    assert message.startswith("Stopped: store postgresql://clinic@other-host.example.net/ar on other-host")
    assert lookups == [] and OTHER_DB not in opened
    assert not (home / "xl_ar.conf").exists()  # nothing recorded
    assert "Remittances" not in [s.name for s in book.sheets]


def test_yes_is_kept_in_the_user_file_and_not_asked_again(home, tmp_path):
    store = str(tmp_path / "practice-store.sqlite")
    book = workbook(["store", store], ["era_source", str(tmp_path / "inbox")])
    (tmp_path / "inbox").mkdir()
    ribbon.import_remittances(book)  # the stand-in answers yes
    assert len(book.app.questions) == 1
    assert settings.read_conf(home / "xl_ar.conf") == {"confirmed_redirects": store}
    assert Path(store).exists()  # the confirmed store was used
    ribbon.import_remittances(book)
    assert len(book.app.questions) == 1  # not asked again


def test_a_store_set_in_the_user_file_is_not_asked_about(home, tmp_path):
    store = str(tmp_path / "mine.sqlite")
    (home / "xl_ar.conf").write_text(f'"store","{store}"\n', encoding="utf-8")
    book = workbook(["store", store])
    ribbon.worklist(book)
    assert book.app.questions == []


def test_an_sftp_source_from_the_workbook_is_asked_about_before_the_keyring(home, lookups, monkeypatch):
    read: list[str] = []
    monkeypatch.setattr(sources, "read_source", lambda source: read.append(source))
    book = workbook(["era_source", OTHER_MAILBOX], ["store", str(home / "xl-ar.sqlite")])
    book.app.answer = "no"
    message = ribbon.import_remittances(book)
    assert message.startswith(f"Stopped: era_source {OTHER_MAILBOX} on other-host.example.net")
    assert lookups == [] and read == []


def test_a_button_that_asks_nothing_records_its_event_in_the_trusted_store(home, tmp_path):
    unconfirmed = tmp_path / "elsewhere.sqlite"
    ribbon.help(workbook(["store", str(unconfirmed)]))
    assert not unconfirmed.exists() and (home / "xl-ar.sqlite").exists()


def test_the_settings_button_shows_without_asking(home):
    book = workbook(["store", OTHER_DB])
    ribbon.settings(book)
    assert book.app.questions == []


# --- the command line refuses --------------------------------------------------------------------------------------


def test_the_cli_refuses_an_unconfirmed_store_from_a_workbook_folder(home, tmp_path, monkeypatch, capsys, lookups):
    # the command line reads no workbook's settings today; were it given one, it refuses and says how to allow it
    folder = tmp_path / "mailed"
    folder.mkdir()
    (folder / "xl_ar.conf").write_text(f'"store","{OTHER_DB}"\n', encoding="utf-8")
    monkeypatch.setattr("xl_ar.cli.resolve", lambda **kw: resolve(folder=folder, **kw))
    assert main(["audit", "show"]) == 2
    err = capsys.readouterr().err
    assert "comes from the xl_ar.conf beside the workbook and was not confirmed" in err
    assert f"xl-ar settings confirm {OTHER_DB}" in err and "s3cret" not in err
    assert lookups == []


def test_xl_ar_settings_confirm_keeps_the_address_in_the_user_file(home, capsys):
    assert main(["settings", "confirm", OTHER_DB]) == 0
    assert settings.read_conf(home / "xl_ar.conf") == {"confirmed_redirects": OTHER_DB}
    assert resolve(sheet={"store": OTHER_DB}).redirects == ()


def test_xl_ar_settings_confirm_refuses_an_address_with_a_password(home, capsys):
    assert main(["settings", "confirm", "postgresql://clinic:pw@other-host.example.net/ar"]) == 2
    assert "pw@" not in capsys.readouterr().err and not (home / "xl_ar.conf").exists()


def test_a_practice_folder_on_a_network_host_from_the_workbook_needs_confirmation(home):
    # reading \\host\share sends the Windows login to that host, as a mailbox would get its password
    s = resolve(sheet={"practice": "//other-host/clinic"}, user=home / "xl_ar.conf", environ={"XL_AR_HOME": str(home)})
    assert [(r.key, r.host) for r in s.redirects] == [("practice", "other-host")]


def test_a_local_practice_folder_from_the_workbook_needs_no_confirmation(home, tmp_path):
    s = resolve(sheet={"practice": str(tmp_path / "clinic"), "report_folder": "reports"}, user=home / "xl_ar.conf",
                environ={"XL_AR_HOME": str(home)})
    assert s.redirects == ()
