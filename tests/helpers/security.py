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

STOP_AT_FIRST_FAILURE = {"max_failures": 1}
RETRY_QUICKLY = {"max_failures": 5, "backoff_initial": "10ms", "backoff_max": "20ms"}


def op_event(module: str, op: str, **fields: Any) -> Event:
    """A probe op for one module only (it subscribes to ``<module>.*``)."""
    return Event(Custom(f"{module}.op", "", json.dumps({"op": op, **fields})))


def probe_module(tmp_path: Path, probe_wasm: Path, name: str, **manifest: Any) -> Path:
    """The probe guest as module ``name``; by default the first failure stops it."""
    manifest.setdefault("optional", PROBE_CAPABILITIES)
    manifest.setdefault("restart", STOP_AT_FIRST_FAILURE)
    manifest.setdefault("subscriptions", [{"kind": "custom", "name": f"{name}.*"}])
    return write_manifest(tmp_path / name, name, component=probe_wasm, **manifest)


def outcomes(trajectories: list[Trajectory], module: str) -> list[tuple[str, str]]:
    return [(t.outcome, t.error) for t in trajectories if t.module == module]


def load_probe(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, resources: dict[str, object]
) -> LoadedModule:
    """The probe's host, loaded as the engine would but not started (no ``init`` yet)."""
    module = probe_module(tmp_path, probe_wasm, "probe", resources=resources)
    config = load_config(write_engine_config(tmp_path / "engine.toml", [module]))
    return build_host(load_manifest(module), config, runtime, lambda *_: None)
