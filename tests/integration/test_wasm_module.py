"""A Python-guest component on a real engine: state, effects, config, output."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import Trajectory
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


def _probe(tmp_path: Path, probe_wasm: Path, name: str = "probe", **kw: object) -> Path:
    kw.setdefault("optional", PROBE_CAPABILITIES)
    return write_manifest(tmp_path / name, name, component=probe_wasm, **kw)  # type: ignore[arg-type]


async def test_component_counts_events_in_its_state(tmp_path: Path, probe_wasm: Path) -> None:
    config = write_engine_config(tmp_path / "engine.toml", [_probe(tmp_path, probe_wasm)])
    async with running_engine(config) as engine:
        await engine.publish([probe_event("count") for _ in range(5)])
        await wait_until(lambda: state_json(engine, "probe", "count") == 5, what="count == 5")


async def test_messages_and_emits_leave_through_the_outbox_after_commit(
    tmp_path: Path, probe_wasm: Path
) -> None:
    transport = MemoryTransport("chat")
    config = write_engine_config(tmp_path / "engine.toml", [_probe(tmp_path, probe_wasm)])
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish(
            [
                probe_event("send", transport="chat", to="alice", body="hi"),
                probe_event("emit", name="probe.count-me", payload={"op": "count"}),
            ]
        )
        await wait_until(lambda: len(transport.sent) == 1, what="message sent")
        await wait_until(
            lambda: state_json(engine, "probe", "count") == 1, what="emitted event handled"
        )
    message = transport.sent[0]
    assert (message.recipient, message.body) == ("alice", "hi")
    assert message.idempotency_key.startswith("probe:")


async def test_failed_event_rolls_back_and_emits_nothing(tmp_path: Path, probe_wasm: Path) -> None:
    transport = MemoryTransport("chat")
    trajectories: list[Trajectory] = []
    module = _probe(tmp_path, probe_wasm, restart={"max_failures": 1})
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config, transports=[transport], trajectories=trajectories) as engine:
        await engine.publish([probe_event("fail", why="boom")])
        await wait_until(lambda: engine.runners["probe"].state.value == "dead", what="dead")
    assert transport.sent == []
    assert trajectories[-1].outcome == "failed"
    assert "boom" in trajectories[-1].error


async def test_guest_reads_its_typed_config(tmp_path: Path, probe_wasm: Path) -> None:
    module = _probe(
        tmp_path,
        probe_wasm,
        config={"threshold": 7, "ratio": 0.5, "on": True, "name": "x", "tags": ["a", 1]},
    )
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([probe_event("config")])
        await wait_until(lambda: state_json(engine, "probe", "config") is not None)
        assert state_json(engine, "probe", "config") == {
            "threshold": 7,
            "ratio": 0.5,
            "on": True,
            "name": "x",
            "tags": ["a", 1],
        }
