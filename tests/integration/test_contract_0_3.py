"""cove:host@0.3.0: the text calls' errors reach the guest, and 0.1, 0.2 and 0.3
components run side by side on one engine (each served its own contract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._build._world import HOST_WIT_0_1, HOST_WIT_0_2
from cove._events import Custom, Event
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import build_guest, write_engine_config, write_manifest
from tests.helpers.security import op_event, probe_module

pytestmark = pytest.mark.usefixtures("call_path")


@pytest.fixture(scope="module")
def legacy_0_1_wasm() -> Path:
    return build_guest("legacy_0_1", ["store"], host_wit=HOST_WIT_0_1.read_text())


@pytest.fixture(scope="module")
def legacy_0_2_wasm() -> Path:
    return build_guest("legacy_0_2", ["store"], host_wit=HOST_WIT_0_2.read_text())


def test_the_pinned_wit_is_the_0_2_contract() -> None:
    """The compat copy is what 0.2 components were built against."""
    text = HOST_WIT_0_2.read_text()
    assert "package cove:host@0.2.0;" in text
    assert "export handle: func(event: list<u8>) -> result<_, string>;" in text


async def test_the_text_calls_return_each_error_beside_the_value(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """get-text/set-text raise nothing in the guest: a missing key is (none, none), and a
    non-UTF-8 value, a key over its bound and a write over the quota come back as errors
    of their kind, while the event itself commits."""
    module = probe_module(tmp_path, probe_wasm, "texter", resources={"state": "4KiB"})
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([op_event("texter", "text-errors", size=5000)])
        await wait_until(
            lambda: state_json(engine, "texter", "text-errors") is not None, what="text-errors"
        )
        seen = state_json(engine, "texter", "text-errors")
        text = engine.store.get("texter", "text")
    assert {
        "missing": [None, None],
        "round trip": ["caf\u00e9", None],
        "not utf-8": "invalid-input",
        "long key": "invalid-input",
        "long key set": "invalid-input",
        "over quota": "limit-exceeded",
    } == seen
    assert "café".encode() == text  # text is stored as its UTF-8 bytes


async def test_0_1_0_2_and_0_3_components_run_side_by_side(
    tmp_path: Path, probe_wasm: Path, legacy_0_1_wasm: Path, legacy_0_2_wasm: Path
) -> None:
    """Each is served its own handle shape: 0.1 the variant, 0.2 the compact bytes,
    0.3 the string; all three see every event."""
    legacy = [
        write_manifest(
            tmp_path / name, name, component=wasm, optional=["store"],
            subscriptions=[{"kind": "custom", "name": "legacy.*"}],
        )
        for name, wasm in (("v01", legacy_0_1_wasm), ("v02", legacy_0_2_wasm))
    ]  # fmt: skip
    current = probe_module(
        tmp_path, probe_wasm, "v03", subscriptions=[{"kind": "custom", "name": "legacy.*"}]
    )
    config = write_engine_config(tmp_path / "engine.toml", [*legacy, current])
    events = [Event(Custom("legacy.tick", "", '{"op": "count"}'), id=f"e-{n}") for n in range(3)]
    async with running_engine(config) as engine:
        await engine.publish(events)
        await wait_until(
            lambda: [state_json(engine, m, "count") for m in ("v01", "v02", "v03")] == [3, 3, 3],
            what="three events in each module",
        )
        last_0_1 = state_json(engine, "v01", "last")
        last_0_2 = state_json(engine, "v02", "last")
    assert {"id": "e-2", "attempt": 1, "name": "legacy.tick", "payload": {"op": "count"}} == (
        last_0_1
    )
    assert {"kind": 5, "attempt": 1, "id": "e-2"} == last_0_2
