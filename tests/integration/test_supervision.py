"""Supervisor behaviour on a real engine: backoff, dead, recovery, rollback, ordering."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from cove import Custom, Event
from cove.testing import MemoryTransport
from tests.helpers.engine import (
    PROBE_CAPABILITIES,
    probe_event,
    running_engine,
    state_json,
    wait_until,
)
from tests.helpers.modules import ASSETS, write_engine_config, write_manifest


def _native(tmp_path: Path, name: str, asset: str, entry: str, **kw: Any) -> Path:
    kw.setdefault("required", ["store", "messaging"])
    module = write_manifest(tmp_path / name, name, kind="python", entry=entry, **kw)
    for source in (ASSETS / asset).glob("*.py"):
        (module / source.name).write_text(source.read_text())
    return module


def _flaky(tmp_path: Path, name: str, mode: str, **kw: Any) -> Path:
    return _native(tmp_path, name, "native_flaky", "flaky:Flaky", config={"mode": mode}, **kw)


def _tick(n: int = 0) -> Event:
    return Event(Custom("probe.tick", "", json.dumps({"op": "count", "n": n})))


async def test_module_failing_every_event_goes_dead_after_max_failures_with_doubling_backoff(
    tmp_path: Path,
) -> None:
    """Backoff doubles from the initial delay, capped, ±20% jitter; dead after N."""
    module = _flaky(
        tmp_path,
        "always",
        "always",
        restart={"max_failures": 5, "backoff_initial": "10ms", "backoff_max": "40ms"},
    )
    # The built-in floor of backoff_max (1 s) would raise the 40 ms asked for.
    config = write_engine_config(
        tmp_path / "engine.toml", [module], '[limits.restart]\nbackoff_max = "10ms"\n'
    )
    async with running_engine(config) as engine:
        await engine.publish([_tick()])
        runner = engine.runners["always"]
        await wait_until(lambda: runner.state.value == "dead", what="dead")
        history = runner.stats.backoff_history_ms
    assert len(history) == 4
    for delay, base in zip(history, [10, 20, 40, 40], strict=True):
        assert base * 0.8 <= delay <= min(40, base * 1.2)
    assert runner.stats.consecutive_failures == 5
    assert "fails every event" in runner.stats.last_error


async def test_dead_module_keeps_its_events_and_catches_up_when_revived(tmp_path: Path) -> None:
    """Events journaled while dead are handled after revive; nothing is lost."""
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = _native(
        tmp_path,
        "flaky",
        "native_flaky",
        "flaky:Flaky",
        config={"mode_file": str(mode)},
        restart={"max_failures": 1, "backoff_initial": "1ms"},
    )
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        runner = engine.runners["flaky"]
        await engine.publish([_tick()])
        await wait_until(lambda: runner.state.value == "dead", what="dead")
        await engine.publish([_tick(i) for i in range(1, 10)])
        mode.write_text("ok")
        assert engine.revive("flaky")
        await wait_until(lambda: state_json(engine, "flaky", "count") == 10, what="all 10 handled")
        assert runner.state.value == "running"


async def test_the_event_after_a_skipped_one_is_a_first_attempt(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """The attempt count belongs to the failing event: skipping it starts the next at 1."""
    module = write_manifest(
        tmp_path / "probe", "probe", component=probe_wasm, optional=PROBE_CAPABILITIES,
        restart={"max_failures": 2, "backoff_initial": "1ms"},
    )  # fmt: skip
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([probe_event("fail"), probe_event("attempt")])
        await wait_until(lambda: engine.runners["probe"].state.value == "dead", what="dead")
        assert engine.skip_failed_event("probe") and engine.revive("probe")
        await wait_until(lambda: state_json(engine, "probe", "attempt") is not None, what="next")
        attempt = state_json(engine, "probe", "attempt")
    assert 1 == attempt


async def test_a_module_that_died_in_init_has_no_event_to_skip_even_after_one_failed(
    tmp_path: Path,
) -> None:
    """An event failed, then init failed on the retry: the event is not what killed it."""
    mode = tmp_path / "mode"
    mode.write_text("poison")
    module = _native(
        tmp_path, "flaky", "native_flaky", "flaky:Flaky", config={"mode_file": str(mode)},
        restart={"max_failures": 2, "backoff_initial": "2s"},
    )  # fmt: skip
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        runner = engine.runners["flaky"]
        await engine.publish([Event(Custom("probe.x", "", "poison"))])
        await wait_until(lambda: runner.state.value == "backoff", what="backoff")
        mode.write_text("init")
        await wait_until(lambda: runner.state.value == "dead", what="dead")
        assert "init fails" in runner.stats.last_error
        assert ("", None) == (runner.failed_event_id, engine.skip_failed_event("flaky"))
        assert 0 == engine.store.cursor("flaky")


async def test_a_skipped_event_stays_skipped_after_an_engine_restart(tmp_path: Path) -> None:
    """The skip moves the durable cursor: a new engine starts after the poison event."""
    mode = tmp_path / "mode"
    mode.write_text("poison")
    module = _native(
        tmp_path, "flaky", "native_flaky", "flaky:Flaky", config={"mode_file": str(mode)},
        restart={"max_failures": 1},
    )  # fmt: skip
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([Event(Custom("probe.x", "", "poison"))])
        await wait_until(lambda: engine.runners["flaky"].state.value == "dead", what="dead")
        assert engine.skip_failed_event("flaky")  # and no revive before the stop
    async with running_engine(config) as engine:
        await engine.publish([Event(Custom("probe.x", "", "1"))])
        await wait_until(lambda: state_json(engine, "flaky", "count") == 1, what="next handled")
        stats = engine.runners["flaky"].stats
        assert (0, 1, 2) == (stats.failed, stats.handled, engine.store.cursor("flaky"))


async def test_module_that_fails_once_recovers_and_the_retry_counts_as_a_new_attempt(
    tmp_path: Path,
) -> None:
    module = _flaky(tmp_path, "once", "once", restart={"max_failures": 3, "backoff_initial": "1ms"})
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([_tick(i) for i in range(5)])
        await wait_until(lambda: state_json(engine, "once", "count") == 5, what="count == 5")
        stats = engine.runners["once"].stats
        assert (stats.failed, stats.handled, stats.consecutive_failures) == (5, 5, 0)
        assert engine.runners["once"].state.value == "running"


async def test_failed_event_leaves_state_and_outbox_untouched(tmp_path: Path) -> None:
    """Actions applied before the failing one are rolled back with it."""
    transport = MemoryTransport("chat")
    module = _flaky(
        tmp_path,
        "partial",
        "partial",
        resources={"state": 1000},
        restart={"max_failures": 1},
    )
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish([_tick()])
        await wait_until(lambda: engine.runners["partial"].state.value == "dead", what="dead")
        await asyncio.sleep(0.1)  # give a wrongly queued effect the chance to leave
        assert engine.store.list_keys("partial", "") == []
        assert engine.store.pending_effects(2**62, 10) == []
        assert "quota" in engine.runners["partial"].stats.last_error
    assert transport.attempts == 0


async def test_hung_module_is_cut_by_its_deadline_while_others_handle_everything(
    tmp_path: Path, probe_wasm: Path
) -> None:
    hung = write_manifest(
        tmp_path / "hung",
        "hung",
        component=probe_wasm,
        optional=PROBE_CAPABILITIES,
        resources={"fuel": 10**12, "timeout": "300ms"},
        restart={"max_failures": 2, "backoff_initial": "1ms"},
        subscriptions=[{"kind": "custom", "name": "probe.hang"}],
    )
    busy = _flaky(tmp_path, "busy", "ok", subscriptions=[{"kind": "custom", "name": "probe.tick"}])
    config = write_engine_config(tmp_path / "engine.toml", [hung, busy])
    async with running_engine(config) as engine:
        await engine.publish([Event(Custom("probe.hang", "", json.dumps({"op": "loop"})))])
        await engine.publish([_tick(i) for i in range(200)])
        await wait_until(lambda: state_json(engine, "busy", "count") == 200, what="busy done")
        await wait_until(lambda: engine.runners["hung"].state.value == "dead", what="hung dead")
        assert "deadline" in engine.runners["hung"].stats.last_error


async def test_per_module_order_holds_with_many_modules_and_concurrent_publishers(
    tmp_path: Path,
) -> None:
    modules = [
        _native(
            tmp_path,
            f"m{i}",
            "native_counter",
            "counter:Counter",
            config={"record_order": True, "transport": "chat"},
            subscriptions=[{"kind": "custom", "name": "probe.*"}],
        )
        for i in range(8)
    ]
    config = write_engine_config(tmp_path / "engine.toml", modules)
    async with running_engine(config, transports=[MemoryTransport("chat")]) as engine:

        async def publisher(p: int) -> None:
            for batch in range(10):
                await engine.publish([_tick(p * 1000 + batch * 10 + k) for k in range(10)])

        await asyncio.gather(*(publisher(p) for p in range(4)))
        journal = [entry.event.id for entry in engine.store.read(0, 10_000)]
        assert len(journal) == 400
        for i in range(8):
            await wait_until(lambda i=i: state_json(engine, f"m{i}", "count") == 400, what=f"m{i}")
            assert state_json(engine, f"m{i}", "order") == journal


async def test_failing_sends_are_retried_with_backoff_and_never_block_the_module(
    tmp_path: Path,
) -> None:
    transport = MemoryTransport("chat")
    transport.fail_next = 3
    module = _native(
        tmp_path,
        "sender",
        "native_counter",
        "counter:Counter",
        config={"transport": "chat"},
        subscriptions=[{"kind": "custom", "name": "probe.*"}],
    )
    config = write_engine_config(
        tmp_path / "engine.toml",
        [module],
        extra='[outbox]\nretry_initial = "10ms"\nretry_max = "50ms"\n',
    )
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish([_tick(0)])
        await engine.publish([_tick(i) for i in range(1, 20)])
        await wait_until(lambda: state_json(engine, "sender", "count") == 20, what="all handled")
        await wait_until(lambda: len(transport.sent) == 20, what="all delivered")
    assert transport.attempts == 23
    keys = [m.idempotency_key for m in transport.sent]
    assert len(set(keys)) == 20
