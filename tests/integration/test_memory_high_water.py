"""Memory high-water per module: the largest wasm linear memory its instances reached."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cove import Custom, Event, ModuleState
from cove._hosts._linear_memory import RESERVATION, linear_memories
from tests.helpers.control import flaky_module
from tests.helpers.engine import running_app, wait_until
from tests.helpers.modules import write_engine_config, write_manifest
from tests.helpers.security import STOP_AT_FIRST_FAILURE
from tests.helpers.wat import wat_component

pytestmark = pytest.mark.usefixtures("call_path")
MiB = 1 << 20


def wat_event(op: str) -> Event:
    return Event(Custom(f"wat.{op}", "", "{}"))


def metric(text: str, name: str, module: str) -> float:
    prefix = f'{name}{{module="{module}"}} '
    [line] = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(line.removeprefix(prefix))


async def test_high_water_of_a_wasm_module_and_zero_for_a_native_one(
    tmp_path: Path,
) -> None:
    """The grow op takes 16 pages at a time until the 4 MiB cap refuses, then traps."""
    grower = write_manifest(
        tmp_path / "grower",
        "grower",
        component=wat_component("hostile"),
        restart=STOP_AT_FIRST_FAILURE,
        resources={"memory": "4MiB"},
        subscriptions=[{"kind": "custom", "name": f"wat.{op}"} for op in ("ok", "grow")],
    )
    native = flaky_module(tmp_path, "native", tmp_path / "mode")
    extra = '[metrics]\nhost = "127.0.0.1"\nport = 0\n'
    config = write_engine_config(tmp_path / "engine.toml", [grower, native], extra)
    async with running_app(config) as app:
        engine = app.engine
        runner = engine.runners["grower"]
        await engine.publish([wat_event("ok")])
        await wait_until(lambda: runner.stats.handled == 1, what="first event")
        small = {s.name: s.memory_high_water for s in engine.status()}
        assert 0 < small["grower"] < MiB
        assert 0 == small["native"]

        await engine.publish([wat_event("grow")])
        await wait_until(lambda: runner.state == ModuleState.DEAD, what="grow trapped")
        [status] = [s for s in engine.status() if s.name == "grower"]
        assert 3 * MiB <= status.memory_high_water <= 4 * MiB  # the trapped instance's peak
        assert app.control is not None and app.control.metrics is not None
        async with httpx.AsyncClient() as client:
            text = (await client.get(app.control.metrics.url + "/metrics")).text
    high_water = "cove_module_memory_high_water_bytes"
    assert status.memory_high_water == metric(text, high_water, "grower")
    assert 0 == metric(text, high_water, "native")
    [rss] = [line for line in text.splitlines() if line.startswith("cove_process_resident")]
    assert 10 * MiB < float(rss.split()[1])  # Python and the wasm runtime at least


def test_a_memory_is_read_write_pages_right_before_a_large_reservation() -> None:
    base, page = 0x7F0000000000, 0x10000
    maps = "\n".join(
        [
            f"{base - 0x2000000:x}-{base:x} ---p 00000000 00:00 0",  # guard before
            f"{base:x}-{base + page:x} rw-p 00000000 00:00 0",
            f"{base + page:x}-{base + 3 * page:x} rw-p 00000000 00:01 7 /memfd:wasm-memory-image",
            f"{base + 3 * page:x}-{base + RESERVATION:x} ---p 00000000 00:00 0",
            # a malloc arena: read-write then inaccessible, but far smaller
            "7f1000000000-7f1000100000 rw-p 00000000 00:00 0",
            "7f1000100000-7f1004000000 ---p 00000000 00:00 0",
            # read-write pages, a gap, then a reservation: not one memory
            "7f2000000000-7f2000010000 rw-p 00000000 00:00 0",
            f"7f2000020000-{0x7F2000020000 + RESERVATION:x} ---p 00000000 00:00 0",
        ]
    )
    assert {base: 3 * page} == linear_memories(maps)


def test_an_inaccessible_first_line_or_dashes_in_a_path_are_no_memory() -> None:
    """Only the permissions field counts, and a reservation needs a run right before it."""
    base, page = 0x7F0000000000, 0x10000
    maps = "\n".join(
        [
            f"{base - RESERVATION:x}-{base:x} ---p 00000000 00:00 0",  # nothing before it
            f"{base:x}-{base + page:x} rw-p 00000000 00:01 7 /tmp/a ---p b",
            f"{base + page:x}-{base + 2 * page:x} r--p 00000000 00:01 7 /tmp/c ---p",
            f"{base + 2 * page:x}-{base + 3 * page:x} rw-p 00000000 00:00 0",
            f"{base + 3 * page:x}-{base + 3 * page + RESERVATION:x} ---p 00000000 00:00 0",
            "",
        ]
    )
    assert {base + 2 * page: page} == linear_memories(maps)
