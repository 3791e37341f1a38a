"""A private PostgreSQL server for the team store tests, started and stopped by the test session.

The server is Debian's `postgresql` package (installed with apt-get when `initdb` is missing, like LibreOffice
for the report tests). `initdb` and `postgres` refuse to run as root, so as root the server runs as an
unprivileged system user (`xlar-pg`, created when missing); its data and socket folders are in a temporary
folder that user owns. It listens on 127.0.0.1 on a free port and asks for a password (SCRAM) over TCP: the tests
connect as a superuser whose password is in a password file the session points `PGPASSFILE` at, never in a URL.

When the server cannot be installed or started the tests that need it fail, saying what to install: never skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGES = ["postgresql"]
"""Debian packages the team store tests need (the server, `initdb` and `pg_ctl`)."""
SERVER_USER = "xlar-pg"
"""The unprivileged system user the server runs as when the tests run as root."""
SUPERUSER = "xlar_super"
"""The database superuser the tests connect as (password in the session's password file)."""
WHAT_TO_INSTALL = ("the team store tests need a PostgreSQL server (initdb, pg_ctl, postgres); install it "
                   "(Debian/Ubuntu: apt-get install postgresql; elsewhere put PostgreSQL's bin folder on PATH)")


def server_bin() -> Path | None:
    """The folder of `initdb`, `pg_ctl` and `postgres`: Debian's newest versioned folder, else PATH."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name),
                         reverse=True):
        if all((Path(folder) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    return None


def install_server() -> Path:
    """Install Debian's postgresql with apt-get (as root, or with sudo -n); fail with what to install."""
    if shutil.which("apt-get") is None:
        pytest.fail(WHAT_TO_INSTALL + ": there is no apt-get here to install it")
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]):
        done = subprocess.run(prefix + command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"{WHAT_TO_INSTALL}; installing it failed ({' '.join(command)}): {done.stderr.strip()[-500:]}")
    folder = server_bin()
    if folder is None:
        pytest.fail(f"{WHAT_TO_INSTALL}; apt-get installed {' '.join(PACKAGES)} but initdb is still not found")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running private server: URLs (without passwords) for the databases the tests make on it."""

    port: int
    folder: Path
    passfile: Path
    made: list[str] = field(default_factory=list)
    logins: int = 0

    def url(self, database: str, user: str = SUPERUSER, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{user}@127.0.0.1:{self.port}/{database}"

    def admin(self):
        """A psycopg connection to the maintenance database, in autocommit (for CREATE DATABASE and roles)."""
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                               passfile=str(self.passfile), autocommit=True)

    def login(self, member_of: str) -> str:
        """A new login role (a person), member of `member_of`, its password in the session's password file;
        returns its name (roles are the server's: one per call)."""
        self.logins += 1
        name = f"person_{self.logins}_{os.getpid()}"
        password = os.urandom(9).hex()
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE {member_of}")
        with self.passfile.open("a") as f:
            f.write(f"127.0.0.1:{self.port}:*:{name}:{password}\n")
        return name

    def create_database(self, template: str = "template0") -> str:
        """A new database (a copy of `template`), named uniquely; returns its name."""
        name = f"xlar_{len(self.made) + 1}_{os.getpid()}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.made.append(name)
        return name


def _run_as(user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--"] if user else []


def _server_user() -> str | None:
    """None when we are not root (the server runs as us); else the unprivileged user, created when missing."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                               SERVER_USER], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"the team store tests run PostgreSQL as an unprivileged user ({SERVER_USER}), and creating "
                        f"it failed: {done.stderr.strip()[-300:]}; create it (useradd --system {SERVER_USER})")
    return SERVER_USER


def start() -> PgServer:
    """Install when missing, initdb, start; the caller stops it with `stop`."""
    binaries = server_bin() or install_server()
    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="xl-ar-pg-"))
    password = os.urandom(12).hex()
    (folder / "pw").write_text(password + "\n")
    (folder / "sock").mkdir()
    if user:
        shutil.chown(folder, user)
        for entry in (folder / "pw", folder / "sock"):
            shutil.chown(entry, user)
    port = free_port()
    steps = [
        [str(binaries / "initdb"), "-D", str(folder / "data"), "-U", SUPERUSER, "--pwfile", str(folder / "pw"),
         "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"],
        [str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "server.log"), "-w", "-t", "60",
         "-o", f"-p {port} -k {folder / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60", "start"],
    ]
    for command in steps:
        done = subprocess.run(_run_as(user) + command, capture_output=True, text=True)
        if done.returncode != 0:
            log = (folder / "server.log").read_text(errors="replace")[-800:] if (folder / "server.log").exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            pytest.fail(f"the private PostgreSQL server did not start ({Path(command[0]).name}): "
                        f"{(done.stderr or done.stdout).strip()[-800:]} {log}; {WHAT_TO_INSTALL}")
    (folder / "pw").unlink()
    passfile = folder / "pgpass"  # ours (the client's), owner-only as libpq requires
    passfile.write_text(f"127.0.0.1:{port}:*:{SUPERUSER}:{password}\n")
    passfile.chmod(0o600)
    server = PgServer(port, folder, passfile)
    deadline = time.monotonic() + 30
    while True:  # pg_ctl -w waited for the socket; the TCP side answers at the same time, checked anyway
        try:
            with server.admin():
                break
        except Exception as e:
            if time.monotonic() > deadline:
                stop(server)
                pytest.fail(f"the private PostgreSQL server does not answer on 127.0.0.1:{port}: {e}")
            time.sleep(0.2)
    return server


def stop(server: PgServer) -> None:
    user = _server_user()
    pg_ctl = str((server_bin() or Path()) / "pg_ctl")
    subprocess.run([*_run_as(user), pg_ctl, "-D", str(server.folder / "data"), "-m", "immediate", "-w", "stop"],
                   capture_output=True, text=True)
    shutil.rmtree(server.folder, ignore_errors=True)
