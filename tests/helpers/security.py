"""Modules aimed at each other on one engine: each probe listens to its own events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cove import Custom, Event, Trajectory, load_config, load_manifest
from cove._engine._loader import LoadedModule, build_host
from cove._hosts._wasm_runtime import WasmRuntime
from tests.helpers.engine import PROBE_CAPABILITIES
from tests.helpers.modules import write_engine_config, write_manifest
from tests.helpers.wat import wat_component

STOP_AT_FIRST_FAILURE = {"max_failures": 1}
RETRY_QUICKLY = {"max_failures": 5, "backoff_initial": "10ms", "backoff_max": "20ms"}
LONG_CALLS = {"timeout": "60s", "fuel": 50_000_000_000}
"""Deadlines far past any wait for a stop: only a cancel ends these calls."""


def op_event(module: str, op: str, **fields: Any) -> Event:
    """A probe op for one module only (it subscribes to ``<module>.*``)."""
    return Event(Custom(f"{module}.op", "", json.dumps({"op": op, **fields})))


def probe_module(tmp_path: Path, probe_wasm: Path, name: str, **manifest: Any) -> Path:
    """The probe guest as module ``name``; by default the first failure stops it."""
    manifest.setdefault("optional", PROBE_CAPABILITIES)
    manifest.setdefault("restart", STOP_AT_FIRST_FAILURE)
    manifest.setdefault("subscriptions", [{"kind": "custom", "name": f"{name}.*"}])
    return write_manifest(tmp_path / name, name, component=probe_wasm, **manifest)


def long_call_attackers(tmp_path: Path, probe_wasm: Path, drip_authority: str) -> list[Path]:
    """Three modules whose calls outlast any stop, ``LONG_CALLS`` each: ``looper`` (a WAT
    loop, on ``wat.loop``), ``sleeper`` (the probe's sleep op) and ``drinker`` (the probe's
    fetch op, allowed to reach ``drip_authority``)."""
    looper = write_manifest(
        tmp_path / "looper",
        "looper",
        component=wat_component("hostile"),
        resources=LONG_CALLS,
        restart=STOP_AT_FIRST_FAILURE,
        subscriptions=[{"kind": "custom", "name": "wat.loop"}],
    )
    sleeper = probe_module(tmp_path, probe_wasm, "sleeper", resources=LONG_CALLS)
    drinker = probe_module(
        tmp_path, probe_wasm, "drinker", resources=LONG_CALLS, http_allow=[drip_authority]
    )
    return [looper, sleeper, drinker]


def outcomes(trajectories: list[Trajectory], module: str) -> list[tuple[str, str]]:
    return [(t.outcome, t.error) for t in trajectories if t.module == module]


def load_probe(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, resources: dict[str, object]
) -> LoadedModule:
    """The probe's host, loaded as the engine would but not started (no ``init`` yet)."""
    module = probe_module(tmp_path, probe_wasm, "probe", resources=resources)
    config = load_config(write_engine_config(tmp_path / "engine.toml", [module]))
    return build_host(load_manifest(module), config, runtime, lambda *_: None)
