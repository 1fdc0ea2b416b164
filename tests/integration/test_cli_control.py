"""``cove module|state|trace|health`` as subprocesses against a real engine's control plane."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.control import (
    TOKEN,
    TOKEN_ENV,
    Plane,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import write_engine_config


@dataclass
class Run:
    code: int
    out: str
    err: str


async def cove(plane: Plane, *args: str, token: str | None = TOKEN) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVE_")}
    env["COVE_URL"] = str(plane.client.base_url)
    env["COLUMNS"] = "200"
    if token is not None:
        env["COVE_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cove", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    mode = tmp_path / "mode"
    module = flaky_module(
        tmp_path, "flaky", mode, restart={"max_failures": 1, "backoff_initial": "1ms"}
    )
    return write_engine_config(tmp_path / "engine.toml", [module], control_section())


async def test_module_list_table_and_json(config: Path) -> None:
    async with running_plane(config) as plane:
        table = await cove(plane, "module", "list")
        as_json = await cove(plane, "module", "list", "--json")
    assert 0 == table.code, table.err
    assert "flaky" in table.out and "running" in table.out and "memory" in table.out
    [listed] = json.loads(as_json.out)["modules"]
    assert ("flaky", 0) == (listed["name"], listed["memory_high_water_bytes"])  # native


async def test_revive_a_dead_module_then_trace_and_state(config: Path, tmp_path: Path) -> None:
    mode = tmp_path / "mode"
    mode.write_text("always")
    async with running_plane(config) as plane:
        await plane.client.post("/v1/events", json={"name": "probe.x"}, headers=plane.auth())
        await wait_until(lambda: plane.engine.runners["flaky"].state.value == "dead")
        health = await cove(plane, "health")
        mode.write_text("ok")
        revived = await cove(plane, "module", "revive", "flaky")
        not_dead = await cove(plane, "module", "revive", "flaky")
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 1)
        trace = await cove(plane, "trace", "--module", "flaky", "--json")
        failed = await cove(plane, "trace", "--outcome", "failed", "--since", "1h")
        value = await cove(plane, "state", "get", "flaky", "count")
        keys = await cove(plane, "state", "list", "flaky", "--json")
        healthy = await cove(plane, "health", "--json")
    assert 1 == health.code and "dead" in health.out
    assert 0 == revived.code and "revived" in revived.out
    assert 1 == not_dead.code and "not dead" in not_dead.err
    outcomes = [json.loads(line)["outcome"] for line in trace.out.splitlines()]
    assert ["failed", "ok"] == outcomes
    assert "this module fails every event" in failed.out
    assert ("1", ["count"]) == (value.out.strip(), json.loads(keys.out)["keys"])
    assert (0, "ok") == (healthy.code, json.loads(healthy.out)["status"])


async def test_revive_skip_event_passes_a_dead_module_over_its_poison_event(
    config: Path, tmp_path: Path
) -> None:
    (tmp_path / "mode").write_text("poison")
    async with running_plane(config) as plane:
        for payload in ("poison", "1"):
            await plane.client.post(
                "/v1/events", json={"name": "probe.x", "payload": payload}, headers=plane.auth()
            )
        await wait_until(lambda: plane.engine.runners["flaky"].state.value == "dead")
        poison = plane.engine.runners["flaky"].failed_event_id
        listed = await cove(plane, "module", "list")
        revived = await cove(plane, "module", "revive", "flaky", "--skip-event")
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 1)
        skipped = await cove(plane, "trace", "--outcome", "skipped", "--json")
    assert f"flaky (on event {poison}): " in listed.out  # what --skip-event would pass over
    assert 0 == revived.code, revived.err
    assert f"revived, skipped event {poison}, flaky" in revived.out
    assert [poison] == [json.loads(line)["event_id"] for line in skipped.out.splitlines()]


async def test_exit_codes_for_auth_refusal_and_unreachable(config: Path) -> None:
    async with running_plane(config) as plane:
        wrong = await cove(plane, "module", "unload", "flaky", token="nope")
        missing = await cove(plane, "state", "get", "flaky", "nothing")
        unknown = await cove(plane, "module", "restart", "ghost")
        still_there = (
            await plane.client.get("/v1/modules/flaky", headers=plane.auth())
        ).status_code
        usage = await cove(plane, "trace", "--limit", "0")
        unloaded = await cove(plane, "module", "unload", "flaky")
    assert 4 == wrong.code and "bearer token" in wrong.err
    assert 200 == still_there
    assert 1 == missing.code and "no state key" in missing.err
    assert 1 == unknown.code and "ghost" in unknown.err
    assert 2 == usage.code
    assert 0 == unloaded.code
    unreachable = await cove(plane, "module", "list")
    assert 3 == unreachable.code and "cannot reach the engine" in unreachable.err


async def test_trace_follow_prints_new_trajectories_as_they_happen(config: Path) -> None:
    async with running_plane(config) as plane:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVE_")}
        env["COVE_URL"] = str(plane.client.base_url)
        env["COVE_TOKEN"] = TOKEN  # trajectories are module data: the token reads them
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cove", "trace", "--follow", "--json", "--interval", "0.1",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        try:
            seen: list[str] = []
            for n in range(3):  # each event is sent after the previous one was printed
                await plane.client.post(
                    "/v1/events", json={"name": "probe.x", "payload": str(n)}, headers=plane.auth()
                )
                line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
                seen.append(json.loads(line)["event_id"])
        finally:
            process.terminate()
            await process.wait()
    assert 3 == len(set(seen))
