"""More connections than the engine has file descriptors: it refuses new ones and recovers (a child process)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import httpx

from cove._listen import LOG_EVERY_SECONDS
from tests.helpers.modules import recorder_module, write_engine_config

NOFILE = 256
CONNECTIONS = 400  # more than the engine's whole open-file limit


def _config(tmp_path: Path) -> Path:
    module = recorder_module(tmp_path, [{"kind": "webhook", "path": "/ping"}])
    extra = (
        '[webhook]\nport = 0\n[control]\nhost = "127.0.0.1"\nport = 0\n'
        # Long timeouts: the connections below must be held by the cap, not closed as idle.
        '[listeners]\nheader_timeout = "60s"\nidle_timeout = "60s"\n'
    )
    return write_engine_config(tmp_path / "engine.toml", [module], extra)


@asynccontextmanager
async def _child(config: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, str]]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.helpers.fd_limited_engine", str(config), str(NOFILE),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line, "the engine exited before it listened"
        yield process, json.loads(line)
    finally:
        # The test kills it itself; once its pipes are read to the end the transport may
        # already be closed, and kill() then raises ProcessLookupError.
        with suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def test_a_connection_flood_past_the_fd_limit_is_refused_and_the_engine_recovers(
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    async with _child(_config(tmp_path)) as (process, urls):
        held: list[socket.socket] = []
        try:
            for _ in range(CONNECTIONS):
                held.append(socket.create_connection(("127.0.0.1", _port(urls["webhook"]))))
            await asyncio.sleep(2)  # let the engine accept (or refuse) what it will
            assert _open_fds(process.pid) < NOFILE  # never ran out
            async with httpx.AsyncClient(timeout=10) as client:  # the other port still answers
                live = await client.get(urls["control"] + "/health/live")
                assert 200 == live.status_code
        finally:
            for sock in held:
                sock.close()
        async with httpx.AsyncClient(timeout=10) as client:
            live = await client.get(urls["control"] + "/health/live")
            assert (200, {"live": True}) == (live.status_code, live.json())
            posted = await client.post(urls["webhook"] + "/webhooks/ping", content=b"{}")
            assert 202 == posted.status_code
            for _ in range(200):
                module = await client.get(urls["control"] + "/v1/modules/recorder")
                if module.json()["handled"] == 1:
                    break
                await asyncio.sleep(0.05)
            assert 1 == module.json()["handled"]
        process.kill()
        assert process.stderr is not None
        log = (await process.stderr.read()).decode()
    windows = int((time.monotonic() - began) // LOG_EVERY_SECONDS) + 1
    assert "Traceback" not in log
    refusals = Counter(
        json.loads(line)["event"] for line in log.splitlines() if "refusing new connections" in line
    )
    assert refusals  # the flood was refused, and said so
    # rate-limited: one line per listener and reason per window the test lasted, not one per
    # refused connection (a loaded machine makes the windows more, never the lines per window)
    assert all(count <= windows for count in refusals.values()), (refusals, windows)
