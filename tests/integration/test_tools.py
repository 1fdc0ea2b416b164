"""Tools on a real engine: wasm guests (both call paths) and a native plugin."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from cove import Engine, Trajectory
from cove.errors import ToolError
from tests.helpers.engine import probe_event, running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, write_engine_config, write_manifest

pytestmark = pytest.mark.slow


def native_tools(tmp_path: Path) -> Path:
    module = write_manifest(
        tmp_path / "nt", "nt", kind="python", entry="tools:Tools", required=["store"], tools=True
    )
    (module / "tools.py").write_text((ASSETS / "native_tools" / "tools.py").read_text())
    return module


@pytest.fixture
async def engine(
    tmp_path: Path, tool_wasm: Path, hostile_wasm: Path, call_path: str
) -> AsyncIterator[tuple[Engine, list[Trajectory]]]:
    # The asset emits under its own name, tool_probe.*, which module "tp" is granted.
    tp = write_manifest(
        tmp_path / "tp", "tp", component=tool_wasm, optional=["store", "events"],
        emit=["tool_probe.*"], tools=True,
    )  # fmt: skip
    ht = write_manifest(
        tmp_path / "ht", "ht", component=hostile_wasm, tools=True, resources={"timeout": "200ms"}
    )
    config = write_engine_config(tmp_path / "engine.toml", [tp, ht, native_tools(tmp_path)])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as running:
        await wait_until(lambda: len(running.tools.all()) == 8, what="all tools listed")
        yield running, trajectories


async def test_tools_are_listed_under_their_module_names(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, _ = engine
    names = [t.name for t in running.tools.all()]
    assert names == [
        "ht.ping",
        "ht.spin",
        "nt.bump",
        "nt.greet",
        "tp.add",
        "tp.recall",
        "tp.remember",
        "tp.write_then_fail",
    ]
    add = running.tools.get("tp.add")
    assert add.description == "Add two integers."
    assert add.input_schema["required"] == ["a", "b"]


async def test_a_tool_call_returns_the_guests_json(engine: tuple[Engine, list[Trajectory]]) -> None:
    running, trajectories = engine
    fuel_before = {s.name: s.fuel for s in running.status()}["tp"]
    assert json.loads(await running.tools.call("tp.add", {"a": 2, "b": 40})) == {"sum": 42}
    record = trajectories[-1]
    assert record.module == "tp"
    assert record.event_id.startswith("tool:tp.add:")
    assert record.outcome == "ok"
    assert record.fuel > 0
    assert {s.name: s.fuel for s in running.status()}["tp"] == fuel_before + record.fuel


async def test_arguments_are_checked_against_the_schema_before_the_module_runs(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, trajectories = engine
    before = len(trajectories)
    with pytest.raises(ToolError) as wrong_type:
        await running.tools.call("tp.add", {"a": "two", "b": 1})
    assert wrong_type.value.kind == "invalid-input"
    assert "tp.add" in str(wrong_type.value) and "'a'" in str(wrong_type.value)
    with pytest.raises(ToolError) as missing:
        await running.tools.call("tp.add", {"a": 1})
    assert "'b' is a required property" in str(missing.value)
    with pytest.raises(ToolError) as extra:
        await running.tools.call("tp.add", {"a": 1, "b": 2, "c": 3})
    assert "'c'" in str(extra.value)
    assert len(trajectories) == before  # the module was never called


async def test_an_unknown_tool_names_the_tools_that_exist(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, _ = engine
    with pytest.raises(ToolError) as unknown:
        await running.tools.call("tp.nope", {})
    assert unknown.value.kind == "not-found"
    assert "tp.add" in str(unknown.value)


async def test_a_successful_call_commits_its_writes_and_effects(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, _ = engine
    result = await running.tools.call("tp.remember", {"key": "k", "note": "hello"})
    assert json.loads(result) == {"notes": 1}
    assert state_json(running, "tp", "note:k") == "hello"
    assert json.loads(await running.tools.call("tp.recall", {"key": "k"})) == {"note": "hello"}
    await wait_until(
        lambda: any(
            e.event.kind == "custom" and e.event.payload.name == "tool_probe.remembered"
            for e in running.store.read(0, 1000)
        ),
        what="the emitted event journaled after the commit",
    )


async def test_a_failing_call_rolls_its_writes_back(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, trajectories = engine
    with pytest.raises(ToolError) as failed:
        await running.tools.call("tp.write_then_fail", {})
    assert failed.value.kind == "invalid-input"
    assert "refusing on purpose" in failed.value.message
    assert running.store.get("tp", "note:doomed") is None
    assert trajectories[-1].outcome == "failed"


async def test_a_looping_tool_hits_its_deadline_and_the_engine_keeps_serving(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, _ = engine
    with pytest.raises(ToolError) as spun:
        await running.tools.call("ht.spin", {})
    assert spun.value.kind == "timeout"
    assert "200 ms" in spun.value.message
    assert json.loads(await running.tools.call("ht.ping", {})) == "pong"  # a rebuilt instance
    assert json.loads(await running.tools.call("tp.add", {"a": 1, "b": 1})) == {"sum": 2}
    assert {s.name: s.state for s in running.status()}["ht"] == "running"


async def test_tool_calls_and_events_take_turns_on_one_instance(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, _ = engine
    await running.publish([probe_event("count") for _ in range(20)])
    for n in range(5):
        await running.tools.call("tp.remember", {"key": str(n), "note": "x"})
    await wait_until(lambda: state_json(running, "tp", "events") == 20, what="events handled")
    assert state_json(running, "tp", "notes") == 5


async def test_native_plugin_tools_run_with_actions_in_their_transaction(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, _ = engine
    assert json.loads(await running.tools.call("nt.greet", {"who": "ada"})) == "hello ada"
    with pytest.raises(ToolError) as refused:
        await running.tools.call("nt.greet", {"who": ""})
    assert refused.value.kind == "invalid-input"
    assert str(refused.value) == "tool 'nt.greet': greet whom? 'who' is empty"
    assert json.loads(await running.tools.call("nt.bump", {})) == {"bumps": 1}
    assert json.loads(await running.tools.call("nt.bump", {})) == {"bumps": 2}
    assert state_json(running, "nt", "bumps") == 2


async def test_unloading_a_module_drops_its_tools_and_tells_watchers(
    engine: tuple[Engine, list[Trajectory]],
) -> None:
    running, _ = engine
    changes: list[list[str]] = []
    running.tools.watch(lambda: changes.append([t.name for t in running.tools.all()]))
    await running.unload("ht")
    assert changes and "ht.ping" not in changes[-1]
    with pytest.raises(ToolError) as gone:
        await running.tools.call("ht.ping", {})
    assert gone.value.kind == "not-found"


async def test_tools_and_the_manifest_must_agree(
    tmp_path: Path, tool_wasm: Path, probe_wasm: Path
) -> None:
    """A tool component without [tools], or [tools] without the export, is refused at load."""
    undeclared = write_manifest(
        tmp_path / "undeclared", "undeclared", component=tool_wasm, optional=["store", "events"]
    )
    missing = write_manifest(
        tmp_path / "missing",
        "missing",
        component=probe_wasm,
        optional=["events", "http", "messaging", "store"],
        tools=True,
    )
    plugin = native_tools(tmp_path)
    (plugin / "cove.toml").write_text(
        (plugin / "cove.toml").read_text().replace("[tools]\nenabled = true\n", "")
    )
    config = write_engine_config(tmp_path / "engine.toml", [undeclared, missing, plugin])
    async with running_engine(config) as running:
        errors = {path.name: error for path, error in running.load_errors.items()}
        assert "add [tools] enabled = true" in errors["undeclared"]
        assert "does not export cove:host/tool-provider" in errors["missing"]
        assert "has @tool methods" in errors["nt"]
        assert running.tools.all() == []


async def test_a_tool_that_burns_its_fuel_answers_limit_exceeded(
    tmp_path: Path, hostile_wasm: Path
) -> None:
    ht = write_manifest(
        tmp_path / "ht",
        "ht",
        component=hostile_wasm,
        tools=True,
        resources={"fuel": 10**8, "timeout": "60s"},
    )
    config = write_engine_config(tmp_path / "engine.toml", [ht])
    async with running_engine(config) as running:
        await wait_until(lambda: len(running.tools.all()) == 2, what="tools listed")
        with pytest.raises(ToolError) as burnt:
            await running.tools.call("ht.spin", {})
        assert burnt.value.kind == "limit-exceeded"
        assert "fuel" in burnt.value.message
        assert json.loads(await running.tools.call("ht.ping", {})) == "pong"
        assert {s.name: s.state for s in running.status()}["ht"] == "running"


async def test_a_tool_calls_writes_are_durable_before_the_caller_hears_of_them(
    tmp_path: Path, tool_wasm: Path
) -> None:
    """Under group commit too: a tool call is not in the journal, so nothing would replay it."""
    # The asset emits under its own name, tool_probe.*, which module "tp" is granted.
    tp = write_manifest(
        tmp_path / "tp", "tp", component=tool_wasm, optional=["store", "events"],
        emit=["tool_probe.*"], tools=True,
    )  # fmt: skip
    slow_flush = '\n[commit]\nmode = "batched"\nmax_delay = "60s"\n'
    config = write_engine_config(tmp_path / "engine.toml", [tp], slow_flush)
    async with running_engine(config) as running:
        await wait_until(lambda: running.runners["tp"].state.value == "running", what="running")
        await running.tools.call("tp.remember", {"key": "k", "note": "kept"})
        with closing(sqlite3.connect(tmp_path / "data" / "cove.db")) as other:  # as after a crash
            row = other.execute(
                "SELECT value FROM state WHERE module = 'tp' AND key = 'note:k'"
            ).fetchone()
        assert row is not None and json.loads(row[0]) == "kept"
