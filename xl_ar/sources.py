"""Where remittance files come from: a file, a folder (recursive), a .zip, or an SFTP mailbox.

A source yields `SourceFile`s (a display name and the bytes). Only files that look like X12 (first
non-blank bytes `ISA` or `ST`) are taken from folders, zips and mailboxes; anything else is
counted as skipped, never silently imported or silently lost.

SFTP credentials never come from a workbook or a setting:
- password: only the OS keyring (`xl-ar credentials set sftp://user@host`, `xl_ar.credentials`);
- private key: `$XL_AR_SFTP_KEY` (a key file), else the user's usual SSH keys;
- host keys: checked against `$XL_AR_SFTP_KNOWN_HOSTS` or `~/.ssh/known_hosts`; an unknown host is
  refused unless `$XL_AR_SFTP_TRUST_NEW_HOST=1` (then its key is appended to that file); a key on an
  `@revoked` line is always refused; `@cert-authority` lines are not trusted (no SSH certificates).
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from xl_ar import credentials
from xl_ar.errors import InputError

MAX_FILE_BYTES = 2 * 1024**3
"""Largest single file taken from a zip or mailbox (a guard against zip bombs)."""
MAX_ZIP_TOTAL_BYTES = 4 * 1024**3
"""Largest total a zip may expand to (all its members together)."""
MAX_ZIP_RATIO = 200
"""Largest compression ratio (expanded : stored) of a zip member over `ZIP_RATIO_FROM` bytes, and of a whole
zip over that size: remittance text compresses about 10:1, a zip bomb by a thousand or more."""
ZIP_RATIO_FROM = 1024**2
_ZIP_CHUNK = 1024**2


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
    """The X12 members of a zip. An archive over a limit (`MAX_FILE_BYTES` a member, `MAX_ZIP_TOTAL_BYTES` in
    all, `MAX_ZIP_RATIO` for large members and the whole) is refused, nothing taken from it: checked first from
    its central directory, then again while each member is inflated (in 1 MB chunks, stopping at the limit),
    so a header that understates the sizes does not get a bomb past it."""
    listing = Listing()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise InputError("not a readable zip file", source=name) from None
    with archive:
        members = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
        _zip_limits(name, [(i.filename, i.file_size, i.compress_size) for i in members], declared=True)
        total = 0
        for info in members:
            member = f"{name}/{info.filename}"
            try:
                content = _inflate(archive, info, name, total, len(data))
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, EOFError, OSError,
                    zlib.error):  # encrypted or damaged member
                listing.skipped.append(member)
                continue
            total += len(content)
            _take(member, content, name, listing)
    return listing


def _zip_limits(name: str, members: list[tuple[str, int, int]], declared: bool) -> None:
    """Refuse the zip `name` when a member (name, expanded, stored bytes) or the whole is over a limit."""
    said = "says it expands" if declared else "expands"
    for member, size, stored in members:
        if size > MAX_FILE_BYTES:
            raise InputError(f"refused: member {member} {said} to more than {_size(MAX_FILE_BYTES)} (the limit for "
                             "one file); nothing was imported from this zip", source=name)
        if size > ZIP_RATIO_FROM and size > MAX_ZIP_RATIO * max(stored, 1):
            raise InputError(f"refused: member {member} {said} more than {MAX_ZIP_RATIO} times its stored size "
                             "(a zip bomb?); nothing was imported from this zip", source=name)
    total = sum(m[1] for m in members)
    stored = sum(m[2] for m in members)
    if total > MAX_ZIP_TOTAL_BYTES:
        raise InputError(f"refused: the zip {said} to more than {_size(MAX_ZIP_TOTAL_BYTES)} in all; "
                         "nothing was imported from it", source=name)
    if total > ZIP_RATIO_FROM and total > MAX_ZIP_RATIO * max(stored, 1):
        raise InputError(f"refused: the zip {said} more than {MAX_ZIP_RATIO} times its stored size "
                         "(a zip bomb?); nothing was imported from it", source=name)


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, before: int, archive_size: int) -> bytes:
    """One member's bytes, read in chunks and refused as soon as it passes a limit (whatever its header said:
    the stored size counted is at most the archive's own size)."""
    stored = min(info.compress_size, archive_size)
    parts: list[bytes] = []
    size = 0
    with archive.open(info) as f:
        while chunk := f.read(_ZIP_CHUNK):
            size += len(chunk)
            _zip_limits(name, [(info.filename, size, stored)], declared=False)
            if before + size > MAX_ZIP_TOTAL_BYTES:
                raise InputError(f"refused: the zip expands to more than {_size(MAX_ZIP_TOTAL_BYTES)} in all; "
                                 "nothing was imported from it", source=name)
            parts.append(chunk)
    return b"".join(parts)


def _size(n: int) -> str:
    return f"{n / 1024**3:g} GiB" if n >= 1024**3 else f"{n / 1024**2:g} MiB"


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
        try:
            port = u.port
        except ValueError:  # urllib: "Port out of range 0-65535", "Port could not be cast to integer value"
            port = 0
        written = u.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
        if port == 0 or (written and port is None):
            raise InputError(f"the port in the sftp address must be a number from 1 to 65535, not {written!r}: "
                             f"use sftp://user@host[:port]/path ({_safe(url)})")
        return cls(unquote(u.username or os.environ.get("USER", "")), u.hostname, port or 22,
                   unquote(u.path) or "/")

    def __str__(self) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}{self.path}"


def _safe(url: str) -> str:
    u = urlparse(url)
    return url.replace(f":{u.password}@", "@") if u.password else url


@dataclass
class KnownHosts:
    """A known_hosts file as xl-ar uses it (OpenSSH format, read by `load_known_hosts`)."""

    keys: list[tuple[list[str], object]] = field(default_factory=list)
    """(host patterns, key) of each plain line: the keys accepted."""
    revoked: set[tuple[str, str]] = field(default_factory=set)
    """(key type, base64) of each `@revoked` line: never accepted, for any host."""
    cert_authorities: list[list[str]] = field(default_factory=list)
    """Host patterns of each `@cert-authority` line (SSH certificates: not supported, so not trusted)."""


def load_known_hosts(path: Path) -> KnownHosts:
    """Read a known_hosts file. `@revoked` keys are kept apart (and win over a plain line with the same key);
    `@cert-authority` lines are noted, not trusted (xl-ar does not check SSH certificates); lines that cannot be
    read (an unknown key type, broken base64) are skipped, as OpenSSH does. An unknown `@marker` is an error."""
    from paramiko.hostkeys import HostKeyEntry, InvalidHostKey

    known = KnownHosts()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise InputError(f"cannot read the known_hosts file ({e.strerror or e})", source=path.name) from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        marker = ""
        if line.startswith("@"):
            marker, _, line = line.partition(" ")
            line = line.strip()
            if marker not in ("@revoked", "@cert-authority"):
                raise InputError(f"line {number}: unknown marker {marker[:20]!r} (OpenSSH knows @revoked and "
                                 "@cert-authority)", source=path.name)
        try:
            entry = HostKeyEntry.from_line(line, number)
        except (InvalidHostKey, ValueError, TypeError):
            entry = None
        if marker == "@cert-authority":
            known.cert_authorities.append(line.split()[0].split(",") if line.split() else [])
        elif entry is None:
            continue
        elif marker == "@revoked":
            known.revoked.add((entry.key.get_name(), entry.key.get_base64()))
        else:
            known.keys.append((entry.hostnames, entry.key))
    return known


def _host_name(address: SftpAddress) -> str:
    """How known_hosts names the host: `host`, or `[host]:port` off port 22."""
    return address.host if address.port == 22 else f"[{address.host}]:{address.port}"


class HostKeyRefused(InputError):
    """The mailbox's host key is revoked or unknown (the connection stops before any password is sent)."""


def _host_key_policy(known: KnownHosts, known_path: Path, address: SftpAddress, trust_new: bool):
    """The check paramiko runs on a host key it does not accept (before any login): a revoked key is always
    refused; an unknown one is refused, or with `trust_new` appended to the known_hosts file."""
    import fnmatch

    import paramiko

    class Policy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key) -> None:
            if (key.get_name(), key.get_base64()) in known.revoked:
                raise HostKeyRefused(f"the mailbox's host key is marked @revoked in {known_path.name}; not "
                                     "connecting (ask the clearinghouse for its new key)", source=address)
            if trust_new:
                known_path.parent.mkdir(parents=True, exist_ok=True)
                with known_path.open("a", encoding="utf-8") as f:
                    f.write(f"{_host_name(address)} {key.get_name()} {key.get_base64()}\n")
                return
            name = _host_name(address)
            certified = any(fnmatch.fnmatch(n, pattern) for patterns in known.cert_authorities
                            for pattern in patterns for n in (name, address.host))
            why = (f"{known_path.name} trusts it only through an @cert-authority line, and xl-ar does not check "
                   "SSH certificates: add the host's own key line" if certified else
                   f"its host key is not in {known_path.name}")
            raise HostKeyRefused(f"unknown host: {why} (a new host is trusted only with "
                                 "XL_AR_SFTP_TRUST_NEW_HOST=1)", source=address)

    return Policy()


def _sftp(url: str) -> Listing:
    import paramiko

    address = SftpAddress.parse(url)
    client = paramiko.SSHClient()
    known_env = os.environ.get("XL_AR_SFTP_KNOWN_HOSTS")
    known_path = Path(known_env) if known_env else Path.home() / ".ssh" / "known_hosts"
    known = load_known_hosts(known_path) if known_path.exists() else KnownHosts()
    accepted = client.get_host_keys()
    for hostnames, host_key in known.keys:
        if (host_key.get_name(), host_key.get_base64()) not in known.revoked:  # @revoked wins
            for hostname in hostnames:
                accepted.add(hostname, host_key.get_name(), host_key)
    trust_new = os.environ.get("XL_AR_SFTP_TRUST_NEW_HOST") == "1"
    client.set_missing_host_key_policy(_host_key_policy(known, known_path, address, trust_new))
    key = os.environ.get("XL_AR_SFTP_KEY")
    try:
        client.connect(address.host, port=address.port, username=address.user, password=credentials.password(url),
                       key_filename=key or None, look_for_keys=not key, allow_agent=False, timeout=30)
    except HostKeyRefused:
        client.close()
        raise
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
