"""Shared fixtures: the X12 corpus in the repository and small synthetic practices."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "x12"
"""Public X12 files copied byte for byte into the repository (origin and licences: SOURCES.md, LICENSES/)."""


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The X12 corpus of the repository (tests/corpus/x12); its absence is a failure, not a skip."""
    assert CORPUS.is_dir(), "tests/corpus/x12 is missing from the checkout"
    return CORPUS


@pytest.fixture(scope="session")
def practice_5k(tmp_path_factory) -> Path:
    """The synthetic practice of the acceptance criteria: 5,000 claims, seed 7 (generated once)."""
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("practice_5k")
    generate(folder, claims=5000, months=12, seed=7)
    return folder


@pytest.fixture(scope="session")
def practice_small(tmp_path_factory) -> Path:
    """A small synthetic practice (600 claims, seed 11) for slower checks such as pyx12."""
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("practice_small")
    generate(folder, claims=600, months=6, seed=11)
    return folder


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory):
    """A real SFTP server on 127.0.0.1 (asyncssh, chrooted to a folder), password and key logins.

    Yields (mailbox folder, port, known_hosts file, client key file). The client side under test
    is paramiko, so the two speak the protocol over a real socket.
    """
    import asyncio
    import threading

    import asyncssh

    mailbox = tmp_path_factory.mktemp("mailbox")
    keys = tmp_path_factory.mktemp("keys")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    (keys / "client").write_bytes(client_key.export_private_key("openssh"))
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return username == "clinic" and password == "mailbox-pass"

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, key) -> bool:
            return username == "clinic" and authorized.validate(key, "127.0.0.1", "127.0.0.1") is not None

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start():
        return await asyncssh.listen("127.0.0.1", 0, server_host_keys=[host_key], server_factory=Server,
                                     sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(mailbox)))

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=20)
    port = server.sockets[0].getsockname()[1]
    known_hosts = keys / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode().strip()}\n")
    try:
        yield mailbox, port, known_hosts, keys / "client"
    finally:
        server.close()
        asyncio.run_coroutine_threadsafe(server.wait_closed(), loop).result(timeout=20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


SPREADSHEET_PACKAGES = ["libreoffice-calc", "poppler-utils", "fonts-liberation2", "fonts-crosextra-carlito"]
"""Debian packages the report tests need: LibreOffice Calc to recalculate and render, pdftoppm for pictures,
and metric-compatible fonts (Liberation for Arial/Times, Carlito for Calibri) so pages look as in Excel."""


def _install_spreadsheet_tools() -> None:
    import os
    import shutil
    import subprocess

    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail("LibreOffice (soffice) and pdftoppm are needed by the report tests; install LibreOffice Calc "
                    "and poppler (Debian/Ubuntu: apt-get install " + " ".join(SPREADSHEET_PACKAGES) + ")")
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *SPREADSHEET_PACKAGES]):
        done = subprocess.run(prefix + command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"could not install LibreOffice for the report tests ({' '.join(command)}): "
                        f"{done.stderr.strip()[-500:]}")


@pytest.fixture(scope="session")
def libreoffice():
    """LibreOffice Calc, headless, installed from the Debian package index when missing."""
    import shutil

    from xl_ar.reports import libreoffice as lo

    if not (shutil.which("soffice") and shutil.which("pdftoppm")):
        _install_spreadsheet_tools()
    lo.soffice()
    return lo


@pytest.fixture(autouse=True, scope="session")
def _private_home(tmp_path_factory):
    """Keys, official code lists and the default store go to a test folder, never the user's home."""
    import os

    home = tmp_path_factory.mktemp("xl-ar-home")
    saved = {k: os.environ.get(k) for k in ("XL_AR_HOME", "XL_AR_STORE", "XL_AR_TOKEN_KEY")}
    os.environ["XL_AR_HOME"] = str(home)
    os.environ.pop("XL_AR_STORE", None)
    os.environ.pop("XL_AR_TOKEN_KEY", None)
    yield home
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True)
def _user_file_restored(_private_home):
    """The shared test home's user file is as it was after each test (a ribbon answering Yes writes it)."""
    path = _private_home / "xl_ar.conf"
    before = path.read_bytes() if path.exists() else None
    yield
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(before)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An OS keyring stand-in that keeps passwords in memory, for one test."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.kept.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.kept[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.kept.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")


@pytest.fixture(autouse=True)
def os_keyring():
    """Every test gets an empty in-memory keyring: never the keyring of the person running the tests."""
    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(before)


@pytest.fixture(scope="session")
def pg_server():
    """A private PostgreSQL server for the session (tests/pg_server.py): installed when missing, run as an
    unprivileged user, stopped at the end; `PGPASSFILE` points at its password file while it runs."""
    import os

    from tests import pg_server as pg

    server = pg.start()
    saved = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = str(server.passfile)
    try:
        yield server
    finally:
        if saved is None:
            os.environ.pop("PGPASSFILE", None)
        else:
            os.environ["PGPASSFILE"] = saved
        pg.stop(server)


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL (no password) of a new, empty database on the private server, for one test."""
    return pg_server.url(pg_server.create_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request, tmp_path) -> str:
    """Where a new store is made, once per backend: a SQLite file, and an empty PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "s.sqlite")
    return request.getfixturevalue("pg_url")
