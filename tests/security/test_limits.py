"""Hard limits on a real Python-guest component: each stops only the module that hit it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import ModuleState, Trajectory
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import local_http_server
from tests.helpers.modules import write_engine_config
from tests.helpers.security import RETRY_QUICKLY, op_event, outcomes, probe_module

pytestmark = pytest.mark.usefixtures("call_path")

HOSTILE = [
    pytest.param(
        "loop",
        {"fuel": 100_000_000},
        "fuel limit exceeded: handle used more than 100000000 fuel",
        id="endless-loop-runs-out-of-fuel",
    ),
    pytest.param(
        "loop",
        {"fuel": 50_000_000_000, "timeout": "200ms"},
        "deadline limit exceeded: handle ran longer than 200 ms",
        id="endless-loop-hits-the-wall-clock-deadline",
    ),
    pytest.param(
        "alloc",
        {"memory": "64MiB"},
        # memory.grow returns -1 at the cap; CPython turns that into MemoryError.
        "handle returned an error: MemoryError",
        id="allocation-hits-the-memory-cap",
    ),
    pytest.param(
        "recurse",
        {"fuel": 500_000_000},
        # CPython frames live on the heap, so the fuel budget stops it first.
        "fuel limit exceeded: handle used more than 500000000 fuel",
        id="unbounded-recursion-runs-out-of-fuel",
    ),
    pytest.param(
        "flood",
        {"host_calls": 100},
        "host-calls limit exceeded: more than 100 host calls in one event",
        id="host-call-flood-hits-the-call-budget",
    ),
]


@pytest.mark.parametrize(("op", "resources", "error"), HOSTILE)
async def test_hostile_event_stops_its_module_while_another_keeps_handling_events(
    tmp_path: Path, probe_wasm: Path, op: str, resources: dict[str, object], error: str
) -> None:
    hostile = probe_module(tmp_path, probe_wasm, "hostile", resources=resources)
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(tmp_path / "engine.toml", [hostile, bystander])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("hostile", op), op_event("bystander", "count")])
        await wait_until(lambda: engine.runners["hostile"].state == ModuleState.DEAD, what="dead")
        await engine.publish([op_event("bystander", "count")])
        await wait_until(lambda: state_json(engine, "bystander", "count") == 2, what="count 2")
        assert ModuleState.RUNNING == engine.runners["bystander"].state
    assert [("failed", error)] == outcomes(trajectories, "hostile")
    assert [("ok", ""), ("ok", "")] == outcomes(trajectories, "bystander")


async def test_host_call_flood_is_cut_off_at_the_budget(tmp_path: Path, probe_wasm: Path) -> None:
    """The call that breaks the budget is refused; the ones before it are recorded."""
    module = probe_module(tmp_path, probe_wasm, "flooder", resources={"host_calls": 100})
    config = write_engine_config(tmp_path / "engine.toml", [module])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("flooder", "flood")])
        await wait_until(lambda: len(trajectories) == 1, what="one trajectory")
    assert 100 == len(trajectories[0].calls)
    assert {("config", "get")} == {(c.interface, c.function) for c in trajectories[0].calls}


async def test_memory_cap_below_the_guest_initial_memory_refuses_instantiation(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """componentize-py guests start at ~12.5 MiB (199 pages); 8 MiB cannot instantiate."""
    module = probe_module(tmp_path, probe_wasm, "tiny", resources={"memory": "8MiB"})
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        runner = engine.runners["tiny"]
        await wait_until(lambda: runner.state == ModuleState.DEAD, what="dead")
    assert (
        "memory limit exceeded: instantiate needs more than 8388608 bytes of memory"
        == (runner.stats.last_error.split(" (")[0])
    )


async def test_state_quota_refuses_the_write_and_the_guest_sees_limit_exceeded(
    tmp_path: Path, probe_wasm: Path
) -> None:
    module = probe_module(tmp_path, probe_wasm, "hoarder", resources={"state": "4KiB"})
    config = write_engine_config(tmp_path / "engine.toml", [module])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("hoarder", "quota", key="small", size=1000)])
        await wait_until(lambda: len(trajectories) == 1, what="small write")
        await engine.publish([op_event("hoarder", "quota", key="big", size=4000)])
        await wait_until(lambda: len(trajectories) == 2, what="big write")
        small, big = engine.store.get("hoarder", "small"), engine.store.get("hoarder", "big")
    assert [
        ("ok", ""),
        (
            "failed",
            "handle returned an error: limit-exceeded: store: writing 'big' would bring module "
            "'hoarder' to 5008 bytes of state, over its quota of 4096 bytes",
        ),
    ] == outcomes(trajectories, "hoarder")
    assert (b"x" * 1000, None) == (small, big)


async def test_module_recovers_after_a_trap_and_handles_the_next_event(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """A fuel trap discards the instance; the retry runs on a fresh one."""
    module = probe_module(
        tmp_path, probe_wasm, "phoenix", resources={"fuel": 100_000_000}, restart=RETRY_QUICKLY
    )
    config = write_engine_config(tmp_path / "engine.toml", [module])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        # loops on its first delivery only; the retry counts instead
        await engine.publish([op_event("phoenix", "loop", attempts=1)])
        await engine.publish([op_event("phoenix", "count")])
        await wait_until(lambda: state_json(engine, "phoenix", "count") == 2, what="count 2")
        restarts = engine.runners["phoenix"].stats.restarts
    assert [
        ("failed", "fuel limit exceeded: handle used more than 100000000 fuel"),
        ("ok", ""),
        ("ok", ""),
    ] == outcomes(trajectories, "phoenix")
    assert 1 == restarts


async def test_module_handles_the_next_event_after_a_guest_error(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """A guest error (not a trap) fails the event; the retry handles it normally."""
    module = probe_module(tmp_path, probe_wasm, "flaky", restart=RETRY_QUICKLY)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("flaky", "fail", why="first try", attempts=1)])
        await engine.publish([op_event("flaky", "count")])
        await wait_until(lambda: state_json(engine, "flaky", "count") == 2, what="count 2")
    assert [
        ("failed", "handle returned an error: RuntimeError: first try"),
        ("ok", ""),
        ("ok", ""),
    ] == outcomes(trajectories, "flaky")


async def test_slow_http_call_gets_only_what_is_left_of_the_module_deadline(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """Epoch interruption cannot stop a host call, so the host bounds it instead.

    The engine's own http timeout is 60 s here; only the module's 300 ms
    deadline can end the stalled request before the test gives up waiting.
    """
    with local_http_server({"/stall": (200, {}, b"late")}, stalled=frozenset({"/stall"})) as server:
        module = probe_module(
            tmp_path,
            probe_wasm,
            "impatient",
            resources={"timeout": "300ms"},
            http_allow=[server.authority],
        )
        config = write_engine_config(
            tmp_path / "engine.toml", [module], '[http]\ntimeout = "60s"\n'
        )
        trajectories: list[Trajectory] = []
        async with running_engine(config, trajectories=trajectories) as engine:
            await engine.publish([op_event("impatient", "http", url=server.url("/stall"))])
            await wait_until(lambda: len(trajectories) == 1, what="handled")
    fetches = [c for c in trajectories[0].calls if c.interface == "http"]
    assert [("fetch", "timeout")] == [(c.function, (c.error or "").split(":")[0]) for c in fetches]
