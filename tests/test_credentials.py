"""Passwords live only in the OS keyring (an in-memory stand-in here: the `os_keyring` fixture of conftest.py)."""

from __future__ import annotations

import io

import keyring
import keyring.backends.fail
import pytest

from xl_ar import credentials
from xl_ar.cli import main
from xl_ar.credentials import CredentialError


def test_a_mailbox_password_is_filed_under_its_user_and_host(os_keyring):
    credentials.save("sftp://clinic@mail.example.com/outbound", "s3cret")
    assert os_keyring.kept == {("xl-ar-sftp", "clinic@mail.example.com"): "s3cret"}
    assert credentials.password("sftp://clinic@mail.example.com/other/folder") == "s3cret"  # the path is not part


def test_a_database_password_ignores_the_driver_in_the_address(os_keyring):
    credentials.save("postgresql://ar@db.example:5433/xl_ar", "pw")
    assert os_keyring.kept == {("xl-ar-store", "ar@db.example:5433"): "pw"}
    assert credentials.password("postgresql+psycopg://ar@db.example:5433/xl_ar") == "pw"


def test_a_password_kept_without_the_port_is_found_for_an_address_with_one(os_keyring):
    os_keyring.set_password("xl-ar-sftp", "clinic@127.0.0.1", "pw")
    assert credentials.password("sftp://clinic@127.0.0.1:2222/outbound") == "pw"


def test_nothing_kept_is_none():
    assert credentials.password("sftp://clinic@mail.example.com/outbound") is None


@pytest.mark.parametrize(("address", "says"), [
    ("sftp://clinic:pw@mail.example.com/x", "the address holds a password"),
    ("https://clinic@mail.example.com/", "only sftp:// mailboxes and postgresql:// databases have passwords"),
    ("sftp://mail.example.com/x", "name the user and the host"),
])
def test_an_address_that_cannot_have_a_kept_password_says_why(address, says):
    with pytest.raises(CredentialError, match=says):
        credentials.account(address)


def test_without_an_os_keyring_nothing_is_kept_anywhere_else(tmp_path):
    keyring.set_keyring(keyring.backends.fail.Keyring())  # a computer without a keyring; conftest restores it
    with pytest.raises(CredentialError, match="has no OS keyring to keep passwords in"):
        credentials.save("sftp://clinic@mail.example.com/outbound", "pw")
    assert credentials.password("sftp://clinic@mail.example.com/outbound") is None


def test_the_team_store_connects_with_the_kept_password(os_keyring):
    import sqlalchemy

    from xl_ar.store import _with_kept_password

    credentials.save("postgresql://ar@db.example/xl_ar", "pw")
    url = _with_kept_password(sqlalchemy.engine.make_url("postgresql+psycopg://ar@db.example/xl_ar"))
    assert url.password == "pw" and url.drivername == "postgresql+psycopg"
    other = _with_kept_password(sqlalchemy.engine.make_url("postgresql+psycopg://reports@db.example/xl_ar"))
    assert other.password is None  # another user: nothing kept, libpq's own ways (~/.pgpass) still apply


def test_the_cli_keeps_checks_and_removes_a_password_without_ever_showing_it(os_keyring, monkeypatch, capsys):
    address = "sftp://clinic@mail.example.com"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert main(["credentials", "set", address, "--stdin"]) == 0
    assert main(["credentials", "check", address]) == 0
    assert main(["credentials", "remove", address]) == 0
    assert main(["credentials", "check", address]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "Kept the password of clinic@mail.example.com (xl-ar-sftp) in the OS keyring.",
        "The OS keyring keeps a password for clinic@mail.example.com (xl-ar-sftp).",
        "Removed the password of clinic@mail.example.com (xl-ar-sftp) from the OS keyring.",
        "The OS keyring keeps no password for clinic@mail.example.com (xl-ar-sftp).",
    ]
    assert "s3cret" not in out and os_keyring.kept == {}


def test_the_cli_refuses_an_empty_password(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["credentials", "set", "sftp://clinic@mail.example.com", "--stdin"]) == 2
    assert "the password is empty; nothing was kept" in capsys.readouterr().err
