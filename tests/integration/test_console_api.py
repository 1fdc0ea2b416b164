"""The control-plane routes the console needs: the live stream, the favicon, health problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.control import (
    AUTH,
    TOKEN,
    TOKEN_ENV,
    Plane,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import wait_until
from tests.helpers.modules import write_engine_config


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


async def _events(plane: Plane, count: int) -> list[tuple[str, Any]]:
    """The first ``count`` events of GET /v1/stream: (event name, parsed data)."""
    found: list[tuple[str, Any]] = []
    name = ""
    async with plane.client.stream("GET", "/v1/stream", headers=AUTH) as response:
        assert 200 == response.status_code
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                found.append((name, json.loads(line.split(":", 1)[1])))
                if len(found) == count:
                    break
    return found


async def test_the_stream_sends_the_counters_history_then_snapshots(tmp_path: Path) -> None:
    mode = tmp_path / "mode"
    module = flaky_module(tmp_path, "flaky", mode)
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        await plane.client.post("/v1/events", json={"name": "probe.one"}, headers=AUTH)
        await wait_until(lambda: plane.engine.runners["flaky"].stats.handled == 1)
        assert plane.control.live is not None
        plane.control.live.sample()
        events = await _events(plane, 2)
    (first, history), (second, snapshot) = events
    assert ("history", "snapshot") == (first, second)
    assert 1 == history["samples"][-1]["handled"]
    assert [1, 0] == history["samples"][-1]["modules"]["flaky"]
    assert ["flaky"] == [m["name"] for m in snapshot["modules"]]
    assert "ok" == snapshot["health"]["status"]
    assert 1 == snapshot["sample"]["handled"]


async def test_the_stream_needs_a_token_and_ends_when_the_engine_stops(tmp_path: Path) -> None:
    config = write_engine_config(tmp_path / "engine.toml", [], control_section())
    async with running_plane(config) as plane:
        assert 401 == (await plane.client.get("/v1/stream")).status_code
        url = str(plane.client.base_url)
        client = httpx.AsyncClient(base_url=url, timeout=30)
        response = await client.send(
            client.build_request("GET", "/v1/stream", headers=AUTH), stream=True
        )
    # The engine stopped with the stream open; the stream ended instead of holding the stop.
    lines = [line async for line in response.aiter_lines()]
    await response.aclose()
    await client.aclose()
    assert any(line.startswith("event: snapshot") for line in lines)


async def test_favicon_is_served(tmp_path: Path) -> None:
    config = write_engine_config(tmp_path / "engine.toml", [], control_section())
    async with running_plane(config) as plane:
        response = await plane.client.get("/favicon.ico")
    assert 200 == response.status_code
    assert "image/svg+xml" == response.headers["content-type"]


async def test_health_says_why_the_engine_is_degraded(tmp_path: Path) -> None:
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(tmp_path, "flaky", mode, restart={"max_failures": 1})
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        await plane.client.post("/v1/events", json={"name": "probe.bad"}, headers=AUTH)
        await wait_until(lambda: plane.engine.runners["flaky"].state.value == "dead")
        health = (await plane.client.get("/health", headers=AUTH)).json()
    assert "degraded" == health["status"]
    assert 1 == len(health["problems"])
    assert health["problems"][0].startswith("module flaky is dead: ")
    assert "this module fails every event" in health["problems"][0]
