"""The operator's ``[overrides.<module>.config]`` reaches real modules; a bad one refuses only its module."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove.testing import MemoryTransport
from tests.helpers.engine import (
    PROBE_CAPABILITIES,
    probe_event,
    running_engine,
    state_json,
    wait_until,
)
from tests.helpers.modules import write_engine_config, write_manifest

pytestmark = pytest.mark.usefixtures("call_path")

PLUGIN = """
from cove import Plugin
from cove.plugin import SetState


class Greeter(Plugin):
    version = "0.1.0"

    def handle_event(self, event, ctx):
        return [SetState("seen", {"greeting": ctx.config.get("greeting"), "times": ctx.config.get("times")})]
"""


def _probe(tmp_path: Path, probe_wasm: Path) -> Path:
    config = {"threshold": 7, "ratio": 0.5, "on": True, "name": "x", "tags": ["a"]}
    return write_manifest(
        tmp_path / "probe",
        "probe",
        component=probe_wasm,
        optional=PROBE_CAPABILITIES,
        config=config,
    )


def _greeter(tmp_path: Path) -> Path:
    module = write_manifest(
        tmp_path / "greeter",
        "greeter",
        kind="python",
        entry="greeter:Greeter",
        required=["store"],
        subscriptions=[{"kind": "message", "transport": "chat"}],
        config={"greeting": "hello", "times": 1},
    )
    (module / "greeter.py").write_text(PLUGIN)
    return module


async def test_wasm_guest_sees_the_operators_config_merged_over_its_manifest(
    tmp_path: Path, probe_wasm: Path
) -> None:
    extra = '[overrides.probe.config]\nthreshold = 42\nratio = 2\ntags = ["b", "c"]\n'
    config = write_engine_config(tmp_path / "engine.toml", [_probe(tmp_path, probe_wasm)], extra)
    async with running_engine(config) as engine:
        await engine.publish([probe_event("config")])
        await wait_until(lambda: state_json(engine, "probe", "config") is not None)
        assert state_json(engine, "probe", "config") == {
            "threshold": 42,
            "ratio": 2.0,
            "on": True,
            "name": "x",
            "tags": ["b", "c"],
        }


async def test_native_plugin_sees_the_operators_config(tmp_path: Path) -> None:
    chat = MemoryTransport("chat")
    extra = '[overrides.greeter.config]\ngreeting = "ahoy"\n'
    config = write_engine_config(tmp_path / "engine.toml", [_greeter(tmp_path)], extra)
    async with running_engine(config, transports=[chat]) as engine:
        await chat.receive("alice", "hi")
        await wait_until(lambda: state_json(engine, "greeter", "seen") is not None)
        assert state_json(engine, "greeter", "seen") == {"greeting": "ahoy", "times": 1}


async def test_a_reloaded_module_keeps_the_operators_config(tmp_path: Path) -> None:
    chat = MemoryTransport("chat")
    extra = '[overrides.greeter.config]\ngreeting = "ahoy"\n'
    config = write_engine_config(tmp_path / "engine.toml", [_greeter(tmp_path)], extra)
    async with running_engine(config, transports=[chat]) as engine:
        await engine.reload("greeter")
        await chat.receive("alice", "hi")
        await wait_until(lambda: state_json(engine, "greeter", "seen") is not None)
        assert state_json(engine, "greeter", "seen") == {"greeting": "ahoy", "times": 1}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "colour = 1",
            "overrides.greeter.config.colour: module 'greeter' declares no config key 'colour' "
            "(declared: greeting, times)",
        ),
        (
            'times = "two"',
            "overrides.greeter.config.times: expected an integer like the manifest's value, "
            "got a string 'two'",
        ),
    ],
)
async def test_bad_override_refuses_its_module_and_the_others_keep_running(
    tmp_path: Path, probe_wasm: Path, override: str, expected: str
) -> None:
    modules = [_greeter(tmp_path), _probe(tmp_path, probe_wasm)]
    path = write_engine_config(
        tmp_path / "engine.toml", modules, f"[overrides.greeter.config]\n{override}\n"
    )
    async with running_engine(path) as engine:
        assert "greeter" not in engine.runners
        (error,) = engine.load_errors.values()
        await engine.publish([probe_event("count")])
        await wait_until(lambda: state_json(engine, "probe", "count") == 1, what="probe runs")
    assert error == f"{path}: {expected}"
