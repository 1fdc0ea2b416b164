"""A real PostgreSQL server for tests and benches: Debian's binaries, a temp data dir,
a loopback port, password auth. Started once per session (see tests/conftest.py).

initdb and postgres refuse to run as root: as root they run as the ``postgres``
system user (which the Debian package creates) through ``runuser``.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

import psycopg

USER = "cove"
_PR_SET_PDEATHSIG = 1


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(
            "PostgreSQL is not installed (no initdb): `make postgres` installs Debian's package"
        )
    return Path(initdb).resolve().parent


def _die_with_parent() -> None:
    """SIGTERM (postgres's smart shutdown; runuser passes it on) when the test process dies,
    even by kill -9, so no server outlives its session."""
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One server; ``database()`` hands out a fresh empty database per caller."""

    def __init__(self) -> None:
        self.password = secrets.token_hex(12)
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="cove-pg-"))
        self._as_user: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._count = 0

    def start(self) -> None:
        bindir = _bindir()
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as_user:
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
        data = self.root / "data"
        self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
            ]
        )
        with open(self.root / "server.log", "wb") as log:  # the child keeps its own copy
            self._proc = self._spawn(bindir, data, log)
        self._wait_ready()

    def _spawn(self, bindir: Path, data: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                *self._as_user,
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.root}",
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run([*self._as_user, *argv], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                log = (self.root / "server.log").read_text(errors="replace")
                raise RuntimeError(f"postgres exited at start:\n{log[-2000:]}")
            try:
                psycopg.connect(self.dsn("postgres"), password=self.password).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def dsn(self, database: str) -> str:
        """Without the password: it goes in as a secret, never in the DSN."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database; its DSN."""
        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        with psycopg.connect(self.dsn("postgres"), password=self.password, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def restart(self) -> None:
        """Stop the server (fast shutdown: sessions are cut) and start it again on the same
        data and port, as a database restart under load does."""
        assert self._proc is not None
        # The postmaster itself (runuser passes on SIGTERM, not SIGINT): its pid file.
        postmaster = int((self.root / "data" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGINT)
        self._proc.wait(timeout=30)
        with open(self.root / "server.log", "ab") as log:
            self._proc = self._spawn(_bindir(), self.root / "data", log)
        self._wait_ready()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()  # smart shutdown: the server's own child processes go too
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
