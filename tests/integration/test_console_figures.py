"""What the console shows must be true: queue depth, tool calls in the counters, error times.

Each test here reproduced a defect the console made visible (issue 21).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.control import (
    AUTH,
    TOKEN,
    TOKEN_ENV,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import wait_until
from tests.helpers.modules import ASSETS, write_engine_config, write_manifest


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


async def test_queue_depth_counts_only_the_events_the_module_subscribes_to(
    tmp_path: Path,
) -> None:
    """A dead module with one event of its own waiting among 20 it ignores shows 1, not 21."""
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(tmp_path, "flaky", mode, restart={"max_failures": 1})
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        await plane.client.post("/v1/events", json={"name": "probe.bad"}, headers=AUTH)
        await wait_until(lambda: plane.engine.runners["flaky"].state.value == "dead")
        for _ in range(20):
            await plane.client.post("/v1/events", json={"name": "other.thing"}, headers=AUTH)
        await plane.client.post("/v1/events", json={"name": "probe.next"}, headers=AUTH)
        body = (await plane.client.get("/v1/modules/flaky", headers=AUTH)).json()
        # the failed event itself and the one after it
        assert 2 == body["queue_depth"]


async def test_tool_calls_count_in_handled_and_failed(tmp_path: Path) -> None:
    """A module that only serves tools is not idle: its calls count like events."""
    module = write_manifest(
        tmp_path / "nt", "nt", kind="python", entry="tools:Tools", required=["store"], tools=True
    )
    shutil.copy(ASSETS / "native_tools" / "tools.py", module / "tools.py")
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        ok = await plane.client.post(
            "/v1/tools/nt.greet/call", json={"arguments": {"who": "ana"}}, headers=AUTH
        )
        assert 200 == ok.status_code
        failed = await plane.client.post(
            "/v1/tools/nt.greet/call", json={"arguments": {"who": ""}}, headers=AUTH
        )
        assert 422 == failed.status_code
        body = (await plane.client.get("/v1/modules/nt", headers=AUTH)).json()
        assert (1, 1) == (body["handled"], body["failed"])


async def test_the_last_error_has_its_time_and_event_and_a_later_success_marks_recovery(
    tmp_path: Path,
) -> None:
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(tmp_path, "flaky", mode, restart={"max_failures": 1})
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        sent = await plane.client.post("/v1/events", json={"name": "probe.bad"}, headers=AUTH)
        await wait_until(lambda: plane.engine.runners["flaky"].state.value == "dead")
        dead = (await plane.client.get("/v1/modules/flaky", headers=AUTH)).json()
        assert sent.json()["id"] == dead["last_error_event_id"]
        assert dead["last_error_ms"] > 0
        assert dead["last_ok_ms"] is None

        mode.write_text("ok")
        await plane.client.post("/v1/modules/flaky/revive", headers=AUTH)
        await wait_until(lambda: plane.engine.runners["flaky"].stats.handled == 1)
        alive = (await plane.client.get("/v1/modules/flaky", headers=AUTH)).json()
        assert "running" == alive["state"]
        assert dead["last_error_ms"] == alive["last_error_ms"]
        assert alive["last_ok_ms"] >= alive["last_error_ms"]
