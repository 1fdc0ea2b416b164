"""The control plane against hostile requests: DNS rebinding, module data behind the token,
query parameters, streamed bodies, API loads, odd state keys (a real engine on loopback)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers.control import (
    TOKEN,
    TOKEN_ENV,
    Plane,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import probe_event
from tests.helpers.modules import write_engine_config

READ_TOKEN = "read-only-token-7a1b"
READ_TOKEN_ENV = "COVE_TEST_CONTROL_READ_TOKEN"


@asynccontextmanager
async def _plane(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "", token: bool = True
) -> AsyncIterator[Plane]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(READ_TOKEN_ENV, READ_TOKEN)
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    section = control_section(token=token).replace("\n[metrics]", extra + "\n[metrics]")
    config = write_engine_config(tmp_path / "engine.toml", [module], section)
    async with running_plane(config) as plane:
        yield plane


# DNS rebinding -----------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/health", "/health/live", "/v1/modules", "/v1/trajectories", "/metrics", "/"]
)
async def test_a_foreign_host_header_is_refused_on_every_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    async with _plane(tmp_path, monkeypatch) as plane:
        foreign = await plane.client.get(path, headers={"host": "attacker.example"})
        assert 421 == foreign.status_code
        assert "attacker.example" in foreign.json()["error"]
        assert plane.metrics_url is not None
        async with httpx.AsyncClient() as client:
            on_metrics = await client.get(
                plane.metrics_url + path, headers={"host": "attacker.example:9464"}
            )
        assert 421 == on_metrics.status_code


async def test_loopback_host_names_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _plane(tmp_path, monkeypatch) as plane:
        port = plane.client.base_url.port
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
            live = await plane.client.get("/health/live", headers={"host": host})
            assert 200 == live.status_code, host


# module data behind the token ----------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/v1/modules", "/v1/modules/flaky", "/v1/trajectories", "/health", "/v1/modules/flaky/state"],
)
async def test_with_a_token_module_data_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    extra = f'read_token_env = "{READ_TOKEN_ENV}"\n'
    async with _plane(tmp_path, monkeypatch, _in_control(extra)) as plane:
        bare = await plane.client.get(path)
        assert 401 == bare.status_code
        for token in (TOKEN, READ_TOKEN):
            assert 200 == (await plane.client.get(path, headers=plane.auth(token))).status_code


async def test_the_read_token_cannot_change_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = f'read_token_env = "{READ_TOKEN_ENV}"\n'
    async with _plane(tmp_path, monkeypatch, _in_control(extra)) as plane:
        head = plane.engine.store.head()
        emitted = await plane.client.post(
            "/v1/events", json={"name": "probe.x"}, headers=plane.auth(READ_TOKEN)
        )
        assert 401 == emitted.status_code
        assert head == plane.engine.store.head()


async def test_liveness_readiness_and_metrics_stay_open_for_probes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _plane(tmp_path, monkeypatch) as plane:
        for path in ("/health/live", "/health/ready", "/metrics", "/openapi.json"):
            assert 200 == (await plane.client.get(path)).status_code, path
        assert plane.metrics_url is not None
        async with httpx.AsyncClient() as client:
            summary = (await client.get(plane.metrics_url + "/health")).json()
        assert "last_error" not in summary["modules"]["flaky"]
        assert {"state"} <= set(summary["modules"]["flaky"])


# query parameters ------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "since=99999999999999999999",
        "until=99999999999999999999",
        "since=%C2%B2",  # superscript two: str.isdigit() says yes, int() says no
        "since=%D9%A5",  # Arabic-Indic five
        "limit=%D9%A5",
        "after=99999999999999999999999",
        "since=0001-01-01T00:00:00%2B14:00",
        "since=9999-12-31T23:59:59-14:00",
    ],
)
async def test_odd_query_parameters_get_400_never_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    async with _plane(tmp_path, monkeypatch) as plane:
        response = await plane.client.get(f"/v1/trajectories?{query}", headers=plane.auth())
        assert 400 == response.status_code, response.text
        assert "query parameter" in response.json()["error"]


# request bodies ----------------------------------------------------------------------
async def test_a_large_chunked_body_is_refused_without_being_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _plane(tmp_path, monkeypatch) as plane:
        port = plane.client.base_url.port
        assert port is not None

        def post() -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(
                    b"POST /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                    + f"authorization: Bearer {TOKEN}\r\n".encode()
                    + b"transfer-encoding: chunked\r\n\r\n"
                )
                chunk = b"x" * 65_536
                try:
                    for _ in range(64):  # 4 MiB, far past the 64 KiB cap, never finished
                        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return sock.recv(4096)

        answer = await asyncio.to_thread(post)
        assert answer.startswith(b"HTTP/1.1 413 "), answer


# API loads ---------------------------------------------------------------------------
async def test_the_api_loads_only_from_configured_module_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = flaky_module(tmp_path / "elsewhere", "intruder", tmp_path / "mode2")
    async with _plane(tmp_path, monkeypatch) as plane:
        loaded = await plane.client.post(
            "/v1/modules", json={"path": str(elsewhere)}, headers=plane.auth()
        )
        assert 403 == loaded.status_code
        assert "load_dirs" in loaded.json()["error"]
        assert "intruder" not in plane.engine.runners


async def test_a_python_module_loads_through_the_api_only_when_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra_dir = tmp_path / "more"
    flaky_module(extra_dir, "second", tmp_path / "mode2")
    second = extra_dir / "second"
    refused = _in_control(f'load_dirs = ["{extra_dir}"]\n')
    async with _plane(tmp_path, monkeypatch, refused) as plane:
        loaded = await plane.client.post(
            "/v1/modules", json={"path": str(second)}, headers=plane.auth()
        )
        assert 403 == loaded.status_code
        assert "allow_python_loads" in loaded.json()["error"]
    allowed = _in_control(f'load_dirs = ["{extra_dir}"]\nallow_python_loads = true\n')
    async with _plane(tmp_path, monkeypatch, allowed) as plane:
        loaded = await plane.client.post(
            "/v1/modules", json={"path": str(second)}, headers=plane.auth()
        )
        assert 201 == loaded.status_code, loaded.text


# state keys -------------------------------------------------------------------------
async def test_a_state_key_with_a_newline_can_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _plane(tmp_path, monkeypatch) as plane:
        (tmp_path / "mode").write_text("newline-key")
        await plane.engine.publish([probe_event("any")])
        keys: list[str] = []

        async def listed() -> bool:
            keys[:] = (
                await plane.client.get("/v1/modules/flaky/state", headers=plane.auth())
            ).json()["keys"]
            return "a\nb" in keys

        for _ in range(200):
            if await listed():
                break
            await asyncio.sleep(0.05)
        assert "a\nb" in keys
        value = await plane.client.get(
            "/v1/modules/flaky/state", params={"key": "a\nb"}, headers=plane.auth()
        )
        assert (200, "a\nb") == (value.status_code, value.json()["key"])


def _in_control(lines: str) -> str:
    """Keys for the [control] section (``_plane`` puts them before ``[metrics]``)."""
    return lines
