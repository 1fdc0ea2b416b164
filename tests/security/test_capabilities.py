"""What a module may touch is decided at load and on every call, never by the module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cove import ModuleState, Trajectory, load_config, load_manifest
from cove._engine._loader import build_host
from cove._hosts._wasm_runtime import WasmRuntime
from cove._manifest import sha256_pin
from cove.errors import ContractError
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import CACHE, write_engine_config, write_manifest
from tests.helpers.security import op_event, probe_module

DENY_HTTP = '[policy]\ndeny = ["http"]\n'
NO_HTTP = ["events", "messaging", "store"]


async def test_required_capability_denied_by_policy_refuses_only_that_module(
    tmp_path: Path, probe_wasm: Path
) -> None:
    needy = probe_module(tmp_path, probe_wasm, "needy", required=["http"], optional=NO_HTTP)
    modest = probe_module(tmp_path, probe_wasm, "modest")
    config = write_engine_config(tmp_path / "engine.toml", [needy, modest], DENY_HTTP)
    async with running_engine(config) as engine:
        await engine.publish([op_event("modest", "count")])
        await wait_until(lambda: state_json(engine, "modest", "count") == 1, what="count 1")
        assert ["modest"] == list(engine.runners)
        assert {
            needy: "module 'needy': requires 'http' but the operator policy denies it "
            "(engine config [policy])"
        } == engine.load_errors


async def test_optional_capability_denied_by_policy_answers_unsupported(
    tmp_path: Path, probe_wasm: Path
) -> None:
    module = probe_module(tmp_path, probe_wasm, "modest")
    config = write_engine_config(tmp_path / "engine.toml", [module], DENY_HTTP)
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("modest", "http", url="http://127.0.0.1:9/")])
        await wait_until(lambda: len(trajectories) == 1, what="handled")
        stored = state_json(engine, "modest", "http")
    message = "module 'modest' has no 'http' capability (denied by the operator)"
    assert {"error": "unsupported", "message": message} == stored
    assert [("http", "fetch", f"unsupported: {message}")] == [
        (c.interface, c.function, c.error) for c in trajectories[0].calls if c.interface == "http"
    ]


async def test_component_importing_an_undeclared_interface_is_refused(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """The probe imports cove:host/http; a manifest without 'http' must not load it."""
    sneaky = probe_module(tmp_path, probe_wasm, "sneaky", optional=NO_HTTP)
    honest = probe_module(tmp_path, probe_wasm, "honest")
    config = write_engine_config(tmp_path / "engine.toml", [sneaky, honest])
    message = (
        "module 'sneaky': imports cove:host/http but its manifest does not declare 'http' "
        "in [capabilities] required/optional"
    )
    async with running_engine(config) as engine:
        await engine.publish([op_event("honest", "count")])
        await wait_until(lambda: state_json(engine, "honest", "count") == 1, what="count 1")
        assert {sneaky: message} == engine.load_errors
    runtime = WasmRuntime(CACHE / "compiled")
    try:
        with pytest.raises(ContractError) as refused:
            build_host(load_manifest(sneaky), load_config(config), runtime, lambda *_: None)
    finally:
        runtime.close()
    assert message == str(refused.value)


async def test_component_that_differs_from_its_pin_is_refused(
    tmp_path: Path, probe_wasm: Path
) -> None:
    directory = tmp_path / "tampered"
    directory.mkdir()
    component = directory / "probe.wasm"
    shutil.copyfile(probe_wasm, component)
    write_manifest(
        directory,
        "tampered",
        component=component,
        subscriptions=[{"kind": "custom", "name": "tampered.*"}],
        optional=["events", "http", "messaging", "store"],
    )
    pinned = sha256_pin(component.read_bytes())
    component.write_bytes(component.read_bytes() + b"\0")  # changed after it was pinned
    actual = sha256_pin(component.read_bytes())
    honest = probe_module(tmp_path, probe_wasm, "honest")
    config = write_engine_config(tmp_path / "engine.toml", [directory, honest])
    async with running_engine(config) as engine:
        await engine.publish([op_event("honest", "count"), op_event("tampered", "count")])
        await wait_until(lambda: state_json(engine, "honest", "count") == 1, what="count 1")
        assert ModuleState.RUNNING == engine.runners["honest"].state
        assert ["honest"] == list(engine.runners)
        assert {
            directory: f"module 'tampered': probe.wasm has {actual} but module.sha256 in "
            f"{directory.resolve() / 'cove.toml'} pins {pinned}; rebuild or update the pin"
        } == engine.load_errors
