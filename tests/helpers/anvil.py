"""A real anvil (npm ``@foundry-rs/anvil``) on a free loopback port, for chain tests.

``make setup`` installs the binary into ``node_modules``; ``COVE_ANVIL`` or
``anvil`` on PATH are used when that copy is missing (e.g. a Foundry install).
anvil is started with ``--port 0`` and the port is read from its banner, so
parallel runs never race for a port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_LOCAL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
_LISTENING = re.compile(rb"Listening on 127\.0\.0\.1:(\d+)")


class AnvilMissing(RuntimeError):
    """No anvil binary: run ``make setup`` (npm ci) or set COVE_ANVIL."""


def anvil_binary() -> Path:
    for candidate in (os.environ.get("COVE_ANVIL"), str(_LOCAL), shutil.which("anvil")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise AnvilMissing(
        f"anvil not found at {_LOCAL}: run `make setup` (it runs `npm ci`) "
        "or point COVE_ANVIL at an anvil binary"
    )


@dataclass
class Anvil:
    process: subprocess.Popen[bytes]
    port: int
    state_dir: Path | None = None
    """The node's own $HOME, where it spills old block states (removed at stop)."""

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """One JSON-RPC call (test set-up: mining, reorgs, deploys); raises on an error."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
        request = urllib.request.Request(
            self.http_url, body.encode(), {"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            answer = json.loads(resp.read())
        if "error" in answer:
            raise RuntimeError(f"anvil {method}: {answer['error']}")
        return answer["result"]

    def receipt(self, tx: str) -> dict[str, Any]:
        """The receipt of ``tx``, once anvil has mined it (automine answers a moment later)."""
        deadline = time.monotonic() + 10
        while (found := self.rpc("eth_getTransactionReceipt", [tx])) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"anvil did not mine {tx} within 10 s")
            time.sleep(0.01)
        return dict(found)

    def mine(self, blocks: int = 1) -> int:
        """Mine ``blocks`` blocks; returns the new head number."""
        self.rpc("anvil_mine", [hex(blocks)])
        return int(self.rpc("eth_blockNumber"), 16)


@contextmanager
def running_anvil(*args: str, port: int = 0) -> Iterator[Anvil]:
    """Start anvil (it mines each transaction as it arrives) and stop it on exit.

    ``port`` 0 picks a free one; a fixed port lets a restarted node (an
    outage test, the demo) answer at the URL its clients already have.
    """
    home = Path(tempfile.mkdtemp(prefix="cove-anvil-"))
    process = subprocess.Popen(
        [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(home)},
    )
    drain: threading.Thread | None = None
    try:
        assert process.stdout is not None
        port = None
        for line in process.stdout:
            match = _LISTENING.search(line)
            if match:
                port = int(match[1])
                break
        if port is None:
            raise RuntimeError(f"anvil exited with {process.wait()} before listening")
        # Keep draining its output so a chatty anvil never blocks on a full pipe.
        drain = threading.Thread(target=process.stdout.read, daemon=True)
        drain.start()
        yield Anvil(process, port, home)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if drain is not None:
            drain.join(timeout=10)  # EOF now that anvil has exited
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(home, ignore_errors=True)
