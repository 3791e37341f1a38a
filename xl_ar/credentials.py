"""Passwords: kept only in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service on Linux).

A password is never a setting, a flag, an environment variable or a cell: `xl-ar credentials set ADDRESS` asks
for it once and the keyring keeps it. It is found again by the address's kind (one keyring service per kind)
and its `user@host[:port]`:

- a clearinghouse mailbox `sftp://user@host[:port]/path`: service `xl-ar-sftp`;
- a team database `postgresql://user@host[:port]/db`: service `xl-ar-store`.

Nothing here logs or shows a password; messages name the address without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from xl_ar.errors import InputError

SERVICES = {"sftp": "xl-ar-sftp", "postgresql": "xl-ar-store"}
"""The keyring service of each kind of address (a database URL's driver, `+psycopg`, is not part of it)."""
NO_KEYRING = ("this computer has no OS keyring to keep passwords in (Windows Credential Manager, macOS Keychain, "
              "or Secret Service on Linux); xl-ar keeps passwords nowhere else")


class CredentialError(InputError):
    """A password cannot be kept or found: no keyring, or an address that cannot have one."""


@dataclass(frozen=True)
class Account:
    """Where a password is filed in the keyring."""

    service: str
    """`xl-ar-sftp` or `xl-ar-store`."""
    user: str
    """`user@host` or `user@host:port` (the port only when the address names one)."""

    def __str__(self) -> str:
        return f"{self.user} ({self.service})"


def account(address: str) -> Account:
    """The keyring account of a mailbox or database address; the address must name a user and a host."""
    try:
        parts = urlsplit(address.strip())
        port = parts.port
    except ValueError:
        raise CredentialError("not an address: use sftp://user@host/path or postgresql://user@host/db") from None
    scheme = parts.scheme.split("+")[0].lower()
    if scheme not in SERVICES:
        raise CredentialError(f"only sftp:// mailboxes and postgresql:// databases have passwords (not "
                              f"'{parts.scheme or address[:20]}')")
    if parts.password:
        raise CredentialError("the address holds a password: give it without one (the password is asked for)")
    if not parts.username or not parts.hostname:
        raise CredentialError(f"name the user and the host: {scheme}://user@host/...")
    where = parts.hostname + (f":{port}" if port else "")
    return Account(SERVICES[scheme], f"{unquote(parts.username)}@{where}")


def _keyring():
    try:
        import keyring
        import keyring.errors
    except ImportError:  # a runtime without it (xlwings Lite): no passwords at all
        raise CredentialError(NO_KEYRING) from None
    return keyring


def password(address: str) -> str | None:
    """The password the keyring keeps for `address` (None when it keeps none, or there is no keyring)."""
    where = account(address)
    try:
        keyring = _keyring()
        found = keyring.get_password(where.service, where.user)
        if found is None and ":" in where.user.split("@")[-1]:  # kept without the port
            found = keyring.get_password(where.service, where.user.rsplit(":", 1)[0])
        return found
    except CredentialError:
        return None
    except Exception:  # keyring.errors.NoKeyringError, or a locked or broken backend: as if none were kept
        return None


def save(address: str, secret: str) -> Account:
    """Keep `secret` in the keyring for `address`."""
    where = account(address)
    if not secret:
        raise CredentialError("the password is empty; nothing was kept")
    keyring = _keyring()
    try:
        keyring.set_password(where.service, where.user, secret)
    except keyring.errors.KeyringError as e:
        raise CredentialError(f"{NO_KEYRING} ({type(e).__name__})") from None
    return where


def forget(address: str) -> bool:
    """Remove the password of `address` from the keyring; False when none was kept."""
    where = account(address)
    keyring = _keyring()
    try:
        keyring.delete_password(where.service, where.user)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as e:
        raise CredentialError(f"{NO_KEYRING} ({type(e).__name__})") from None
    return True
