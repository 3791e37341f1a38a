"""Where remittance files come from: a file, a folder (recursive), a .zip, or an SFTP mailbox.

A source yields `SourceFile`s (a display name and the bytes). Only files that look like X12 (first
non-blank bytes `ISA` or `ST`) are taken from folders, zips and mailboxes; anything else is
counted as skipped, never silently imported or silently lost.

SFTP credentials never come from a workbook or a setting:
- password: only the OS keyring (`xl-ar credentials set sftp://user@host`, `xl_ar.credentials`);
- private key: `$XL_AR_SFTP_KEY` (a key file), else the user's usual SSH keys;
- host keys: checked against `$XL_AR_SFTP_KNOWN_HOSTS` or `~/.ssh/known_hosts`; an unknown host is
  refused unless `$XL_AR_SFTP_TRUST_NEW_HOST=1` (then its key is remembered).
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from xl_ar import credentials
from xl_ar.errors import InputError

MAX_FILE_BYTES = 2 * 1024**3
"""Largest single file taken from a zip or mailbox (a guard against zip bombs)."""


@dataclass(frozen=True)
class SourceFile:
    """One file to import: `name` is what messages show (file name or zip member), `data` its bytes."""

    name: str
    data: bytes
    origin: str = ""
    """The source it came from (folder, zip or mailbox), without credentials."""


@dataclass
class Listing:
    """What a source held: the X12 files, and the names of files skipped because they are not X12."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def looks_like_x12(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:3] == b"ISA" or (head[:2] == b"ST" and len(head) > 2 and not head[2:3].isalnum())


def _take(name: str, data: bytes, origin: str, listing: Listing) -> None:
    if looks_like_x12(data):
        listing.files.append(SourceFile(name, data, origin))
    else:
        listing.skipped.append(name)


def read_source(source: str | Path) -> Listing:
    """Every X12 file of one source (file, folder, .zip or sftp:// URL), in name order."""
    text = str(source)
    if text.startswith("sftp://"):
        return _sftp(text)
    path = Path(text)
    if not path.exists():
        raise InputError("no such file or folder", source=path.name or text)
    listing = Listing()
    if path.is_dir():
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            rel = p.relative_to(path).as_posix()
            if p.suffix.lower() == ".zip":
                inner = _zip(p.read_bytes(), rel)
                listing.files += inner.files
                listing.skipped += inner.skipped
            else:
                _take(rel, p.read_bytes(), path.name, listing)
        return listing
    data = path.read_bytes()
    if path.suffix.lower() == ".zip" or data[:4] == b"PK\x03\x04":
        return _zip(data, path.name)
    # a single file named explicitly is always offered to the reader, which says what is wrong
    listing.files.append(SourceFile(path.name, data, path.name))
    return listing


def _zip(data: bytes, name: str) -> Listing:
    listing = Listing()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError("not a readable zip file", source=name) from None
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            member = f"{name}/{info.filename}"
            if info.file_size > MAX_FILE_BYTES:
                listing.skipped.append(member)
                continue
            try:
                _take(member, archive.read(info), name, listing)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError):  # encrypted or damaged member
                listing.skipped.append(member)
    return listing


@dataclass(frozen=True)
class SftpAddress:
    """A clearinghouse mailbox: `sftp://user@host[:port]/path` (no password in the URL)."""

    user: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> SftpAddress:
        u = urlparse(url)
        if u.scheme != "sftp" or not u.hostname:
            raise InputError(f"not an sftp address: use sftp://user@host[:port]/path ({_safe(url)})")
        if u.password:
            raise InputError("do not put a password in the sftp address; keep it in the OS keyring: "
                             "xl-ar credentials set sftp://user@host")
        return cls(unquote(u.username or os.environ.get("USER", "")), u.hostname, u.port or 22,
                   unquote(u.path) or "/")

    def __str__(self) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}{self.path}"


def _safe(url: str) -> str:
    u = urlparse(url)
    return url.replace(f":{u.password}@", "@") if u.password else url


def _sftp(url: str) -> Listing:
    import paramiko

    address = SftpAddress.parse(url)
    client = paramiko.SSHClient()
    known = os.environ.get("XL_AR_SFTP_KNOWN_HOSTS")
    known_path = Path(known) if known else Path.home() / ".ssh" / "known_hosts"
    if known_path.exists():
        client.load_host_keys(str(known_path))
    trust_new = os.environ.get("XL_AR_SFTP_TRUST_NEW_HOST") == "1"
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy() if trust_new else paramiko.RejectPolicy())
    key = os.environ.get("XL_AR_SFTP_KEY")
    try:
        client.connect(address.host, port=address.port, username=address.user, password=credentials.password(url),
                       key_filename=key or None, look_for_keys=not key, allow_agent=False, timeout=30)
    except paramiko.SSHException as e:
        login = isinstance(e, paramiko.AuthenticationException) or "authentication" in str(e).lower()
        if login:  # a wrong password, or none kept and no key (paramiko: "No authentication methods available")
            raise InputError("the mailbox refused the login (keep its password with `xl-ar credentials set "
                             f"sftp://{address.user}@{address.host}`, or give a key file in XL_AR_SFTP_KEY)",
                             source=address) from None
        raise InputError(f"{e} (a new host is trusted only with XL_AR_SFTP_TRUST_NEW_HOST=1)",
                         source=address) from None
    except OSError as e:
        raise InputError(f"cannot connect ({e.strerror or e})", source=address) from None
    listing = Listing()
    try:
        if trust_new:
            known_path.parent.mkdir(parents=True, exist_ok=True)
            client.save_host_keys(str(known_path))
        sftp = client.open_sftp()
        for name, data in _walk(sftp, address.path.rstrip("/") or "/", ""):
            if name.lower().endswith(".zip"):
                inner = _zip(data, name)
                listing.files += inner.files
                listing.skipped += inner.skipped
            else:
                _take(name, data, str(address), listing)
    except OSError as e:
        raise InputError(f"cannot read the mailbox ({e.strerror or e})", source=address) from None
    finally:
        client.close()
    return listing


def _walk(sftp, folder: str, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in sorted(sftp.listdir_attr(folder), key=lambda e: e.filename):
        full = f"{folder}/{entry.filename}" if folder != "/" else f"/{entry.filename}"
        rel = f"{prefix}{entry.filename}"
        if stat.S_ISDIR(entry.st_mode or 0):
            yield from _walk(sftp, full, rel + "/")
        elif stat.S_ISREG(entry.st_mode or 0) and (entry.st_size or 0) <= MAX_FILE_BYTES:
            with sftp.open(full, "rb") as f:
                yield rel, f.read()
