"""Tiered compilation: a module on a cold cache runs on Winch's code at once and moves to
Cranelift's between two events; the cache keeps the two compilers' artifacts apart."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from wasmtime.component import Component

from cove import Engine, Trajectory
from cove._hosts._wasm_host import WasmModuleHost
from cove._hosts._wasm_runtime import WasmRuntime
from tests.helpers.engine import (
    PROBE_CAPABILITIES,
    probe_event,
    running_engine,
    state_json,
    wait_until,
)
from tests.helpers.modules import toml_value, write_manifest
from tests.helpers.wat import wat_component


def _engine_config(tmp_path: Path, modules: list[Path]) -> Path:
    """An engine on an empty compiled cache of its own, compiling ``tiered``."""
    path = tmp_path / "engine.toml"
    path.write_text(
        f"data_dir = {toml_value(str(tmp_path / 'data'))}\n"
        f"modules = {toml_value([str(m) for m in modules])}\n"
        f"[wasm]\ncache_dir = {toml_value(str(tmp_path / 'compiled'))}\n"
        'compiler = "tiered"\n'
    )
    return path


def _probes(tmp_path: Path, probe_wasm: Path, names: list[str]) -> list[Path]:
    return [
        write_manifest(tmp_path / n, n, component=probe_wasm, optional=PROBE_CAPABILITIES)
        for n in names
    ]


def _host(engine: Engine, name: str) -> WasmModuleHost:
    host = engine.runners[name].host
    assert isinstance(host, WasmModuleHost)
    return host


def _handled_once_each(trajectories: list[Trajectory], module: str, published: int) -> None:
    ids = [t.event_id for t in trajectories if t.module == module]
    assert len(ids) == published == len(set(ids))
    assert {"ok"} == {t.outcome for t in trajectories if t.module == module}


def test_the_cache_key_separates_compilers(tmp_path: Path) -> None:
    wasm = wat_component("chain_only").read_bytes()
    winch = WasmRuntime(tmp_path, compiler="winch")
    cranelift = WasmRuntime(tmp_path, compiler="cranelift")
    try:
        winch.load("m", wasm)
        assert not cranelift.cache.has(cranelift.optimized, wasm)  # Winch's is not Cranelift's
        said: list[str] = []
        cranelift.load("m", wasm, said.append)
        assert any("cranelift" in line for line in said)  # compiled, not read from Winch's
    finally:
        winch.close()
        cranelift.close()
    names = sorted(p.name for p in tmp_path.glob("*.cwasm"))
    assert 2 == len(names)
    assert 1 == sum("-winch-" in n for n in names)


def test_a_cache_hit_loads_the_optimized_code_with_no_compile(tmp_path: Path) -> None:
    wasm = wat_component("chain_only").read_bytes()
    first = WasmRuntime(tmp_path, compiler="cranelift")
    first.load("m", wasm)
    first.close()
    runtime = WasmRuntime(tmp_path, compiler="tiered")
    try:
        loaded = runtime.load_first("m", wasm)
        assert (loaded.tier.strategy, loaded.optimized) == ("cranelift", None)
        assert 0 == runtime.tiering.running()
    finally:
        runtime.close()


def test_precompile_leaves_winchs_entry_then_cranelifts_in_its_place(tmp_path: Path) -> None:
    """What the engine runs for every module at start under ``tiered``."""
    wasm = wat_component("chain_only").read_bytes()
    runtime = WasmRuntime(tmp_path, compiler="tiered")
    try:
        runtime.precompile("m", wasm)
        assert runtime.cache.path_for(wasm, "winch").exists() or runtime.tiering.running() == 0
        deadline = time.monotonic() + 60
        while runtime.tiering.running():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert runtime.cache.path_for(wasm).exists()
        assert not runtime.cache.path_for(wasm, "winch").exists()
    finally:
        runtime.close()


@pytest.mark.slow
async def test_a_cold_module_handles_events_on_winch_and_keeps_them_across_the_switch(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """Events before, during and after Cranelift's background compile: each handled once,
    the count in the module's state intact across the move to the optimized code."""
    config = _engine_config(tmp_path, _probes(tmp_path, probe_wasm, ["probe"]))
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        host = _host(engine, "probe")
        await engine.publish([probe_event("count") for _ in range(3)])
        await wait_until(lambda: state_json(engine, "probe", "count") == 3, what="count == 3")
        assert "winch" == host.compiled_by  # handled before the optimized compile ended
        published = 3
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 300
        while host.compiled_by == "winch":  # one event at a time until it has moved
            assert loop.time() < deadline, "never moved to Cranelift's code"
            await engine.publish([probe_event("count")])
            published += 1
            await wait_until(
                lambda p=published: state_json(engine, "probe", "count") == p, what="counted"
            )
            await asyncio.sleep(0.05)
        await engine.publish([probe_event("count") for _ in range(3)])
        published += 3
        await wait_until(
            lambda: state_json(engine, "probe", "count") == published, what="all counted"
        )
        assert "cranelift" == host.compiled_by
    _handled_once_each(trajectories, "probe", published)
    entries = [p.name for p in (tmp_path / "compiled").glob("*.cwasm")]
    assert 1 == len(entries) and "-winch-" not in entries[0]  # Winch's went once unused


@pytest.mark.slow
async def test_a_failing_optimized_compile_leaves_modules_on_winch_and_logs_once(
    tmp_path: Path, probe_wasm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: WasmRuntime, module: str, wasm: bytes) -> Component:
        raise OSError("no space left on device")

    monkeypatch.setattr(WasmRuntime, "_compile_optimized", fail)
    names = ["one", "two"]  # one component: one compile, one log line
    config = _engine_config(tmp_path, _probes(tmp_path, probe_wasm, names))
    trajectories: list[Trajectory] = []
    with capture_logs() as logs:
        async with running_engine(config, trajectories=trajectories) as engine:
            await wait_until(lambda: 0 == engine.runtime.tiering.running(), what="compile over")
            for count in (1, 2):  # a boundary after the failure, then another
                await engine.publish([probe_event("count")])
                await wait_until(
                    lambda c=count: all(state_json(engine, n, "count") == c for n in names),
                    what=f"{count} each",
                )
            assert ["winch", "winch"] == [_host(engine, n).compiled_by for n in names]
    for name in names:
        _handled_once_each(trajectories, name, 2)
    failed = [e for e in logs if e["event"].startswith("optimized compile failed")]
    assert 1 == len(failed)
    assert "no space left on device" in json.dumps(failed[0]["error"])
