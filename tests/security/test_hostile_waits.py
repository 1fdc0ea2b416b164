"""Hostile waits: a guest that sleeps or stalls is stopped at its call's deadline."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import ModuleState, Trajectory
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import local_http_server
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, outcomes, probe_module

pytestmark = pytest.mark.usefixtures("call_path")


async def test_a_guest_sleeping_past_its_deadline_traps_and_frees_its_thread(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    """``time.sleep(10**6)`` is a WASI wait, where epoch interruption never fires."""
    sleeper = probe_module(tmp_path, hostile_wasm, "sleeper", resources={"timeout": "300ms"})
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(tmp_path / "engine.toml", [sleeper, bystander])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("sleeper", "sleep"), op_event("bystander", "count")])
        await wait_until(lambda: engine.runners["sleeper"].state == ModuleState.DEAD, what="dead")
        await wait_until(lambda: state_json(engine, "bystander", "count") == 1, what="count")
    assert [("failed", "deadline limit exceeded: handle ran longer than 300 ms")] == outcomes(
        trajectories, "sleeper"
    )


async def test_a_short_sleep_inside_the_deadline_still_works(
    tmp_path: Path, hostile_wasm: Path
) -> None:
    """Only waits past the deadline are cut: a 50 ms sleep returns and the event is handled."""
    sleeper = probe_module(tmp_path, hostile_wasm, "napper", resources={"timeout": "2s"})
    config = write_engine_config(tmp_path / "engine.toml", [sleeper])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("napper", "sleep", seconds=0.05)])
        await engine.publish([op_event("napper", "count")])
        await wait_until(lambda: state_json(engine, "napper", "count") == 1, what="count")
    assert [("ok", ""), ("ok", "")] == outcomes(trajectories, "napper")


async def test_a_body_dripping_one_byte_at_a_time_is_cut_at_the_module_deadline(
    tmp_path: Path, hostile_wasm: Path
) -> None:
    """Every read is quick, so a per-read timeout never fires: the fetch as a whole
    gets what is left of the deadline and ends with ``timeout``."""
    drip = (200, {}, b"x" * 10_000)
    with local_http_server({"/drip": drip}, dripping=frozenset({"/drip"})) as server:
        module = probe_module(
            tmp_path,
            hostile_wasm,
            "drinker",
            resources={"timeout": "500ms"},
            http_allow=[server.authority],
        )
        config = write_engine_config(tmp_path / "engine.toml", [module])
        trajectories: list[Trajectory] = []
        async with running_engine(config, trajectories=trajectories) as engine:
            await engine.publish([op_event("drinker", "fetch", url=server.url("/drip"))])
            await wait_until(lambda: len(trajectories) == 1, what="handled")
    (fetch,) = [c for c in trajectories[0].calls if c.interface == "http"]
    assert "timeout" == (fetch.error or "").split(":")[0]
