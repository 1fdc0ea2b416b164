"""A real Nostr relay (PyPI's nostr-relay) on a loopback port, with its sqlite in a temp dir.

``verify = False`` starts it without its signature validator: a relay that
passes forged events on, so the tests can show cove checks them itself.
``stop`` then ``start`` on the same port keeps the stored events.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

_BESIDE = Path(sys.executable).parent / "nostr-relay"
RELAY = str(_BESIDE) if _BESIDE.exists() else shutil.which("nostr-relay") or str(_BESIDE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Relay:
    def __init__(self, directory: Path, *, verify: bool = True, port: int = 0) -> None:
        self.port = port or free_port()
        self.directory = directory
        self.url = f"ws://127.0.0.1:{self.port}"
        validators = "    - nostr_relay.validators.is_signed\n" if verify else "    []\n"
        self.conf = directory / "relay.yaml"
        self.conf.write_text(
            "storage:\n"
            f"  sqlalchemy.url: sqlite+aiosqlite:///{directory / 'relay.sqlite3'}\n"
            "  validators:\n" + validators + "gunicorn:\n"
            f"  bind: 127.0.0.1:{self.port}\n"
            "  workers: 1\n"
            "  loglevel: warning\n"
            "authentication:\n"
            "  enabled: false\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.directory / "relay.log").open("ab") as log:
            self._process = subprocess.Popen(
                [RELAY, "-c", str(self.conf), "serve", "--use-uvicorn"],
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self._process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"nostr-relay did not listen on {self.port}: {self.log()}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def log(self) -> str:
        path = self.directory / "relay.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def publish(self, event: dict[str, Any]) -> list[Any]:
        """Publish one event as a plain client would; the relay's OK answer."""
        async with connect(self.url) as ws:
            await ws.send(json.dumps(["EVENT", event]))
            answer: list[Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return answer

    async def query(self, filter_: dict[str, Any]) -> list[dict[str, Any]]:
        """The stored events matching one filter."""
        found: list[dict[str, Any]] = []
        async with connect(self.url) as ws:
            await ws.send(json.dumps(["REQ", "q", filter_]))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message[0] == "EOSE":
                    return found
                if message[0] == "EVENT":
                    found.append(message[2])


def _relay(tmp_path: Path, name: str, verify: bool) -> Iterator[Relay]:
    if not Path(RELAY).exists():
        pytest.fail("nostr-relay is not installed: `make setup` installs it (the dev extra)")
    directory = tmp_path / name
    directory.mkdir()
    server = Relay(directory, verify=verify)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    yield from _relay(tmp_path, "relay", True)


@pytest.fixture
def lax_relay(tmp_path: Path) -> Iterator[Relay]:
    """A relay that stores and forwards events without checking their signatures."""
    yield from _relay(tmp_path, "lax-relay", False)
