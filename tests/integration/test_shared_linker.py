"""Modules of one component with the same grants share one linker: a hibernated module's
wake builds none, and each module's host calls still act for that module alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import Engine
from cove._hosts._wasm_host import WasmModuleHost
from tests.helpers.engine import probe_event, running_engine, state_json, wait_until
from tests.helpers.modules import write_engine_config, write_manifest

pytestmark = pytest.mark.slow


def _probes(tmp_path: Path, tool_wasm: Path, names: list[str]) -> list[Path]:
    return [
        write_manifest(
            tmp_path / name,
            name,
            component=tool_wasm,
            optional=["store", "events"],
            emit=["tool_probe.*"],
            tools=True,
            subscriptions=[{"kind": "custom", "name": "probe.*"}],
        )
        for name in names
    ]


def _host(engine: Engine, name: str) -> WasmModuleHost:
    host = engine.runners[name].host
    assert isinstance(host, WasmModuleHost)
    return host


async def test_a_woken_module_takes_the_shared_linker(tmp_path: Path, tool_wasm: Path) -> None:
    config = write_engine_config(
        tmp_path / "engine.toml", _probes(tmp_path, tool_wasm, ["a", "b"]),
        'hibernate_after = "300ms"\n',
    )  # fmt: skip
    async with running_engine(config) as engine:
        linker = _host(engine, "a")._linker
        assert linker is not None and linker is _host(engine, "b")._linker
        await wait_until(
            lambda: all(r.state == "hibernating" for r in engine.runners.values()),
            what="both hibernating",
        )
        await engine.publish([probe_event("wake")])
        await wait_until(lambda: state_json(engine, "a", "events") == 1, what="a woke")
        assert _host(engine, "a")._linker is linker


async def test_modules_on_one_linker_write_their_own_state_at_once(
    tmp_path: Path, tool_wasm: Path
) -> None:
    """Both handle every event, each on its own thread, their host calls interleaved."""
    names = ["a", "b", "c"]
    config = write_engine_config(tmp_path / "engine.toml", _probes(tmp_path, tool_wasm, names))
    async with running_engine(config) as engine:
        for _ in range(4):
            await engine.publish([probe_event("tick") for _ in range(10)])
        for name in names:
            await wait_until(lambda n=name: state_json(engine, n, "events") == 40, what=name)
        assert [engine.runners[n].stats.handled for n in names] == [40, 40, 40]
