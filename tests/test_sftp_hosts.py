"""SFTP addresses and known_hosts (issue 13, defect 8): a bad port, `@revoked` and `@cert-authority` lines
give clear messages, never a crash, and a revoked key is never accepted."""

from __future__ import annotations

import pytest

from xl_ar import credentials, sources
from xl_ar.errors import InputError

# a syntactically valid ed25519 public key (32 bytes of 0x01), invented for these tests
KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"


@pytest.mark.parametrize("port", ["99999", "abc", "0", "-1"])
def test_a_bad_port_is_a_clear_message(port):
    with pytest.raises(InputError, match=rf"port .* must be a number from 1 to 65535, not '{port}'"):
        sources.SftpAddress.parse(f"sftp://u@h:{port}/x")


def test_a_good_port_and_the_default_port():
    assert sources.SftpAddress.parse("sftp://u@h:2222/x").port == 2222
    assert sources.SftpAddress.parse("sftp://u@h/x").port == 22


def test_revoked_and_cert_authority_lines_are_read_not_trusted(tmp_path):
    path = tmp_path / "known_hosts"
    path.write_text(f"# comment\n@revoked * ssh-ed25519 {KEY}\n@cert-authority *.example.org ssh-ed25519 {KEY}\n"
                    f"host.example.org ssh-ed25519 {KEY}\n")
    known = sources.load_known_hosts(path)
    assert known.revoked == {("ssh-ed25519", KEY)}
    assert known.cert_authorities == [["*.example.org"]]
    assert [names for names, _ in known.keys] == [["host.example.org"]]  # only the plain line is a key


def test_unreadable_lines_are_skipped_as_openssh_does(tmp_path):
    path = tmp_path / "known_hosts"
    path.write_text("host ssh-ed25519 not*base64\nhost sk-unknown-type AAAA\nonlytwo fields\n")
    assert sources.load_known_hosts(path).keys == []  # paramiko raised InvalidHostKey on the first


def test_an_unknown_marker_is_a_clear_message(tmp_path):
    path = tmp_path / "known_hosts"
    path.write_text(f"@trusted host ssh-ed25519 {KEY}\n")
    with pytest.raises(InputError, match="known_hosts: line 1: unknown marker '@trusted'"):
        sources.load_known_hosts(path)


# -- against the test server on 127.0.0.1 ------------------------------------------------------

@pytest.fixture
def server(sftp_server, monkeypatch, tmp_path):
    _, port, known_hosts, _ = sftp_server
    monkeypatch.delenv("XL_AR_SFTP_TRUST_NEW_HOST", raising=False)
    monkeypatch.delenv("XL_AR_SFTP_KEY", raising=False)
    url = f"sftp://clinic@127.0.0.1:{port}/"
    credentials.save(url, "mailbox-pass")
    line = known_hosts.read_text().strip()  # "[127.0.0.1]:port ssh-ed25519 AAAA..."
    mine = tmp_path / "known_hosts"
    monkeypatch.setenv("XL_AR_SFTP_KNOWN_HOSTS", str(mine))
    return url, line, mine


def test_a_revoked_host_key_is_refused_even_when_also_listed(server):
    url, line, mine = server
    _, key_type, key = line.split()
    mine.write_text(f"{line}\n@revoked * {key_type} {key}\n")
    with pytest.raises(InputError, match="marked @revoked in known_hosts"):
        sources.read_source(url)


def test_a_revoked_host_key_is_not_trusted_as_new(server, monkeypatch):
    url, line, mine = server
    _, key_type, key = line.split()
    mine.write_text(f"@revoked * {key_type} {key}\n")
    monkeypatch.setenv("XL_AR_SFTP_TRUST_NEW_HOST", "1")
    with pytest.raises(InputError, match="@revoked"):
        sources.read_source(url)
    assert mine.read_text() == f"@revoked * {key_type} {key}\n"  # nothing appended


def test_a_host_known_only_by_cert_authority_says_so(server):
    url, _, mine = server
    mine.write_text(f"@cert-authority 127.0.0.1 ssh-ed25519 {KEY}\n")
    with pytest.raises(InputError, match="only through an @cert-authority line"):
        sources.read_source(url)


def test_a_new_host_is_appended_and_other_lines_are_kept(server, monkeypatch):
    url, line, mine = server
    mine.write_text(f"@revoked * ssh-ed25519 {KEY}\n")
    monkeypatch.setenv("XL_AR_SFTP_TRUST_NEW_HOST", "1")
    sources.read_source(url)
    assert mine.read_text() == f"@revoked * ssh-ed25519 {KEY}\n{line}\n"  # the revoked line survives
