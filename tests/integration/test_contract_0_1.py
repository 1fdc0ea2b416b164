"""A component built against cove:host@0.1.0 keeps running on a 0.2 engine (the host's adapter)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._build._world import HOST_WIT_0_1
from cove._events import Custom, Event
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import build_guest, write_engine_config, write_manifest

pytestmark = pytest.mark.usefixtures("call_path")


@pytest.fixture(scope="module")
def legacy_wasm() -> Path:
    """tests/assets/legacy_0_1, built from the pinned copy of the 0.1 WIT."""
    return build_guest("legacy_0_1", ["store"], host_wit=HOST_WIT_0_1.read_text())


def test_the_pinned_wit_is_the_0_1_contract() -> None:
    """The compat copy is what 0.1 components were built against."""
    text = HOST_WIT_0_1.read_text()
    assert "package cove:host@0.1.0;" in text
    assert "export handle: func(meta: event-meta, event: event) -> result<_, string>;" in text


async def test_a_0_1_component_gets_its_events_as_meta_and_variant(
    tmp_path: Path, legacy_wasm: Path
) -> None:
    """Its imports bind under @0.1.0 and handle gets (event-meta, event): state shows each field."""
    module = write_manifest(
        tmp_path / "legacy",
        "legacy",
        component=legacy_wasm,
        optional=["store"],
        subscriptions=[{"kind": "custom", "name": "legacy.*"}],
    )
    config = write_engine_config(tmp_path / "engine.toml", [module])
    events = [Event(Custom("legacy.tick", "", f'{{"n": {n}}}'), id=f"e-{n}") for n in range(3)]
    async with running_engine(config) as engine:
        await engine.publish(events)
        await wait_until(lambda: state_json(engine, "legacy", "count") == 3, what="count == 3")
        last = state_json(engine, "legacy", "last")
    assert {"id": "e-2", "attempt": 1, "name": "legacy.tick", "payload": {"n": 2}} == last
