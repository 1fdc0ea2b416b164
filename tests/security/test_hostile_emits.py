"""Hostile emitters: a module feeding itself events cannot flood the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import ModuleState, Trajectory
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, outcomes, probe_module

pytestmark = pytest.mark.usefixtures("call_path")


async def test_a_self_feeding_emitter_is_refused_past_its_per_event_emits(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    """Each event would emit 999 more to itself; the 101st emit of one event is refused,
    the event rolls back, and the journal holds only what was published."""
    looper = probe_module(tmp_path, hostile_wasm, "looper")
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(tmp_path / "engine.toml", [looper, bystander])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("looper", "emit-many", name="looper.op", n=999)])
        await wait_until(lambda: engine.runners["looper"].state == ModuleState.DEAD, what="dead")
        await engine.publish([op_event("bystander", "count")])
        await wait_until(lambda: state_json(engine, "bystander", "count") == 1, what="count")
        head = engine.store.head()
    assert [
        (
            "failed",
            "handle returned an error: limit-exceeded: events: more than 100 emitted events "
            "in one event ([resources] emits)",
        )
    ] == outcomes(trajectories, "looper")
    assert 2 == head


async def test_a_self_feeding_emitter_within_its_per_event_emits_is_held_to_its_rate(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    """Ten emits per event, each feeding ten more: the module's emit rate ends the
    growth however well each event stays within its own budget. An event either
    commits all its ten emits or, refused by the rate, none; the first refusal stops
    the module, so the journal holds the published events and ten per event that
    passed, whatever the machine's speed."""
    looper = probe_module(tmp_path, hostile_wasm, "looper", resources={"emits": 10, "emit_rate": 5})
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(tmp_path / "engine.toml", [looper, bystander])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("looper", "emit-many", name="looper.op", n=10)])
        await wait_until(lambda: engine.runners["looper"].state == ModuleState.DEAD, what="dead")
        await engine.publish([op_event("bystander", "count")])
        await wait_until(lambda: state_json(engine, "bystander", "count") == 1, what="count")
        head = engine.store.head()
    looped = outcomes(trajectories, "looper")
    passed = [outcome for outcome in looped if outcome == ("ok", "")]
    refused = (
        "failed",
        "handle returned an error: limit-exceeded: events: module 'looper' emits more "
        "than 5 events per second ([resources] emit_rate)",
    )
    assert [*passed, refused] == looped
    assert passed  # the burst (emits = 10) lets the first event through
    assert 2 + 10 * len(passed) == head


async def test_a_module_cannot_emit_under_another_modules_name(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    """Emitting ``bystander.op`` with a payload that is not JSON once killed the
    bystander (five decode errors); names outside the module's own are refused."""
    attacker = probe_module(tmp_path, hostile_wasm, "attacker")
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(tmp_path / "engine.toml", [attacker, bystander])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish(
            [op_event("attacker", "emit-raw", name="bystander.op", payload="{not json")]
        )
        await wait_until(lambda: engine.runners["attacker"].state == ModuleState.DEAD, what="dead")
        await engine.publish([op_event("bystander", "count")])
        await wait_until(lambda: state_json(engine, "bystander", "count") == 1, what="count")
        bystander_state = engine.runners["bystander"].state
    assert [
        (
            "failed",
            "handle returned an error: denied: events: module 'attacker' may not emit "
            "'bystander.op' (it may emit ['attacker.*']; grant more in its manifest's "
            "[capabilities.events] emit)",
        )
    ] == outcomes(trajectories, "attacker")
    assert [("ok", "")] == outcomes(trajectories, "bystander")
    assert ModuleState.RUNNING == bystander_state
