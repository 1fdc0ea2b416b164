"""A memory bomb's failed instances are freed at once, not at Python's next GC cycle."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from cove import ModuleState
from cove._hosts._linear_memory import linear_memories
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, probe_module

pytestmark = pytest.mark.usefixtures("call_path")

CAP = 64 * 1024 * 1024


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    """Only reference counting frees memory during the test, as between GC cycles."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_cyclic_gc")
async def test_linear_memory_of_failed_attempts_is_freed_when_they_fail(
    tmp_path: Path, probe_wasm: Path
) -> None:
    bomb = probe_module(
        tmp_path,
        probe_wasm,
        "bomb",
        resources={"memory": "64MiB"},
        restart={"max_failures": 5, "backoff_initial": "10ms", "backoff_max": "10ms"},
    )
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(tmp_path / "engine.toml", [bomb, bystander])
    async with running_engine(config) as engine:
        await engine.publish([op_event("bystander", "count")])
        await wait_until(lambda: state_json(engine, "bystander", "count") == 1, what="count")
        baseline = sum(linear_memories().values())
        await engine.publish([op_event("bomb", "alloc")])
        await wait_until(lambda: engine.runners["bomb"].state == ModuleState.DEAD, what="dead")
        after = sum(linear_memories().values())
    # Five attempts each grew an instance to the 64 MiB cap; only the memory of
    # at most one instance may still be mapped.
    assert after <= baseline + CAP
