"""Hibernation on a real engine: an idle wasm module's instance is dropped, and its next
event or tool call wakes it (handled exactly once); a native plugin stays awake."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from cove import Engine, Trajectory
from cove._hosts._wasm_host import WasmModuleHost
from cove.errors import ConfigError
from tests.helpers.engine import probe_event, running_engine, state_json, wait_until
from tests.helpers.modules import native_counter, write_engine_config, write_manifest

pytestmark = pytest.mark.slow

IDLE = "300ms"


def _tool_probe(tmp_path: Path, tool_wasm: Path) -> Path:
    return write_manifest(
        tmp_path / "tp", "tp", component=tool_wasm, optional=["store", "events"],
        emit=["tool_probe.*"], tools=True, subscriptions=[{"kind": "custom", "name": "probe.*"}],
    )  # fmt: skip


def _state(engine: Engine, name: str) -> str:
    return {s.name: s.state for s in engine.status()}[name]


def _wasm_host(engine: Engine, name: str) -> WasmModuleHost:
    host = engine.runners[name].host
    assert isinstance(host, WasmModuleHost)
    return host


async def test_an_idle_module_hibernates_and_an_event_wakes_it_once(
    tmp_path: Path, tool_wasm: Path
) -> None:
    config = write_engine_config(
        tmp_path / "engine.toml",
        [_tool_probe(tmp_path, tool_wasm)],
        f'hibernate_after = "{IDLE}"\n',
    )
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await wait_until(lambda: _state(engine, "tp") == "hibernating", what="hibernating")
        host = _wasm_host(engine, "tp")
        assert host.awake is False  # the Store (and its linear memory) is gone
        assert host._raw_store is None
        assert host._linker is not None  # the shared one (test_shared_linker.py): not its own
        lane = "cove-module-tp"
        await wait_until(
            lambda: not any(t.name.startswith(lane) for t in threading.enumerate()),
            what="its worker thread ended",
        )

        event = probe_event("wake")
        await engine.publish([event])
        await wait_until(lambda: state_json(engine, "tp", "events") == 1, what="handled")
        assert [t.outcome for t in trajectories if t.event_id == event.id] == ["ok"]
        # Idle again: back to sleep, and the count is still one (no replay on wake).
        await wait_until(lambda: _state(engine, "tp") == "hibernating", what="asleep again")
        assert state_json(engine, "tp", "events") == 1
        assert engine.runners["tp"].stats.handled == 1


async def test_a_tool_call_wakes_a_hibernating_module(tmp_path: Path, tool_wasm: Path) -> None:
    config = write_engine_config(
        tmp_path / "engine.toml",
        [_tool_probe(tmp_path, tool_wasm)],
        f'hibernate_after = "{IDLE}"\n',
    )
    async with running_engine(config) as engine:
        await wait_until(lambda: _state(engine, "tp") == "hibernating", what="hibernating")
        assert [t.name for t in engine.tools.all()] == [
            "tp.add", "tp.recall", "tp.remember", "tp.write_then_fail",
        ]  # fmt: skip
        assert json.loads(await engine.tools.call("tp.add", {"a": 1, "b": 2})) == {"sum": 3}
        assert _state(engine, "tp") == "running"
        assert _wasm_host(engine, "tp").awake
        await wait_until(lambda: _state(engine, "tp") == "hibernating", what="asleep again")


async def test_a_per_module_override_keeps_one_module_awake(
    tmp_path: Path, tool_wasm: Path
) -> None:
    config = write_engine_config(
        tmp_path / "engine.toml",
        [_tool_probe(tmp_path, tool_wasm), native_counter(tmp_path, "nc", "none", "other.*")],
        f'hibernate_after = "{IDLE}"\n[overrides.tp]\nhibernate_after = "never"\n',
    )
    async with running_engine(config) as engine:
        await wait_until(lambda: _state(engine, "tp") == "running", what="running")
        # Three idle periods later: the override keeps tp awake; a native plugin stays.
        await engine.publish([probe_event("x")])
        await wait_until(lambda: state_json(engine, "tp", "events") == 1, what="handled")
        await asyncio.sleep(1.0)
        assert _state(engine, "tp") == "running"
        assert _wasm_host(engine, "tp").awake
        assert _state(engine, "nc") == "running"


def test_a_bad_hibernate_after_names_the_key(tmp_path: Path) -> None:
    from cove import load_config

    config = write_engine_config(tmp_path / "engine.toml", [], 'hibernate_after = "soon"\n')
    with pytest.raises(ConfigError, match="hibernate_after"):
        load_config(config)


async def test_modules_with_the_same_component_share_its_compiled_code(
    tmp_path: Path, tool_wasm: Path
) -> None:
    modules = [
        write_manifest(
            tmp_path / n, n, component=tool_wasm, optional=["store", "events"], tools=True
        )
        for n in ("a", "b")
    ]
    config = write_engine_config(tmp_path / "engine.toml", modules)
    async with running_engine(config) as engine:
        assert _wasm_host(engine, "a")._component is _wasm_host(engine, "b")._component
