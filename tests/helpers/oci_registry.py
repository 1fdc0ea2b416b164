"""A real OCI registry for tests: Debian's ``docker-registry`` (distribution) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

BINARY = "docker-registry"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


USER, PASSWORD = "cove", "s3cret-pw"
HTPASSWD = f"{USER}:$2b$12$M3SKCgudY7r58DDvoKuPIuTPxjMgP2YYQMtyQMCyG0Gc4xlaTMNmW\n"
"""``USER``'s bcrypt entry (for ``PASSWORD``), as the registry's htpasswd auth reads it."""


@contextmanager
def local_registry(directory: Path, auth: bool = False) -> Iterator[str]:
    """Serve a registry storing under ``directory``; yields ``127.0.0.1:<port>``.
    ``auth``: every request needs ``USER``/``PASSWORD`` (HTTP basic)."""
    binary = shutil.which(BINARY)
    if binary is None:
        pytest.skip(f"{BINARY} is not installed (`make test` installs Debian's docker-registry)")
    directory.mkdir(parents=True, exist_ok=True)
    address = f"127.0.0.1:{_free_port()}"
    config = directory / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {directory / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: {address}\n"
    )
    if auth:
        (directory / "htpasswd").write_text(HTPASSWD)
        with config.open("a") as out:
            out.write(f"auth:\n  htpasswd:\n    realm: cove\n    path: {directory / 'htpasswd'}\n")
    log = (directory / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://{address}/v2/", timeout=1).status_code in (200, 401):
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{BINARY} did not start: {(directory / 'registry.log').read_text()}"
                )
            time.sleep(0.05)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
