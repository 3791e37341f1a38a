"""Defect 6 (issue 13): the tokenization key is long enough, read with clear messages, and created safely."""

import os
import stat
from pathlib import Path

import pytest

from xl_ar import privacy
from xl_ar.errors import SettingsError

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual umask: files 0644 unless created otherwise
    yield
    os.umask(old)


def test_a_one_byte_key_file_is_refused(tmp_path):
    path = tmp_path / "token.key"
    path.write_text("ab")  # 2 hex digits = 1 byte
    with pytest.raises(SettingsError, match="has 1 byte; at least 32 are needed"):
        privacy.load_key(path)


def test_an_empty_key_file_is_refused_not_replaced(tmp_path):
    path = tmp_path / "token.key"
    path.write_text("")
    with pytest.raises(SettingsError, match="the tokenization key is empty"):
        privacy.load_key(path)
    assert path.read_text() == ""  # a new key would change every token: the user decides


def test_a_31_byte_key_in_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv(privacy.KEY_ENV, "ab" * 31)
    with pytest.raises(SettingsError, match=f"^{privacy.KEY_ENV}: the tokenization key has 31 bytes"):
        privacy.load_key()


def test_a_32_byte_key_written_on_two_lines_is_accepted(monkeypatch):
    monkeypatch.setenv(privacy.KEY_ENV, "ab" * 16 + "\n" + "cd" * 16 + "\n")
    assert privacy.load_key() == bytes.fromhex("ab" * 16 + "cd" * 16)


def test_a_key_that_is_not_hex_gives_a_clear_message_without_the_key(monkeypatch):
    monkeypatch.setenv(privacy.KEY_ENV, "my-secret-passphrase-of-the-practice")
    with pytest.raises(SettingsError, match="is not hexadecimal") as e:
        privacy.load_key()
    assert str(e.value).startswith(privacy.KEY_ENV) and "passphrase" not in str(e.value)


def test_an_empty_environment_variable_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(privacy.KEY_ENV, " ")
    with pytest.raises(SettingsError, match="empty"):
        privacy.load_key(tmp_path / "token.key")


def test_a_report_with_a_short_key_exits_2_with_the_message(monkeypatch, capsys, tmp_path):
    from xl_ar.cli import main
    assert main(["synth", "--out", str(tmp_path / "p"), "--claims", "20", "--seed", "1", "--quiet"]) == 0
    monkeypatch.setenv(privacy.KEY_ENV, "00")
    assert main(["report", "--practice", str(tmp_path / "p"), "--out", str(tmp_path / "r.xlsx"),
                 "--store", str(tmp_path / "s.db"), "--quiet"]) == 2
    assert "XL_AR_TOKEN_KEY: the tokenization key has 1 byte; at least 32" in capsys.readouterr().err
    assert not (tmp_path / "r.xlsx").exists()


def test_a_new_key_has_32_random_bytes(tmp_path):
    assert len(privacy.load_key(tmp_path / "token.key")) == 32


@posix_only
def test_the_key_file_is_created_0600_without_a_chmod(tmp_path, monkeypatch, umask_022):
    def no_chmod(*args, **kwargs):
        raise AssertionError("chmod after writing: the key was readable by others for an instant")
    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    path = tmp_path / "token.key"
    privacy.load_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@posix_only
def test_the_folder_created_for_the_key_is_0700(tmp_path, umask_022):
    privacy.load_key(tmp_path / "home" / "token.key")
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700


def test_a_failure_while_writing_the_key_leaves_no_key_and_no_temporary_file(tmp_path, monkeypatch):
    def disk_full(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        privacy.load_key(tmp_path / "token.key")
    assert list(tmp_path.iterdir()) == []  # no half-written key to be read next time


def test_a_key_created_by_another_process_meanwhile_is_kept(tmp_path, monkeypatch):
    path = tmp_path / "token.key"
    theirs = bytes(range(32))
    real_write = privacy.write_private

    def racing_write(target, data, replace=True):
        target.write_text(theirs.hex())  # the other process wins the race
        real_write(target, data, replace)
    monkeypatch.setattr(privacy, "write_private", racing_write)
    assert privacy.load_key(path) == theirs and path.read_text() == theirs.hex()
    assert list(tmp_path.iterdir()) == [path]
