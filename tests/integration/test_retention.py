"""Journal and delivered-outbox retention on a real engine: a long run's disk stays bounded."""

from __future__ import annotations

import json
from pathlib import Path

from cove import Custom, Event
from cove._engine._journal_feed import RECENT_EVENTS
from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import native_counter, write_engine_config

RETENTION = '\n[retention]\njournal_max_age = "1ms"\ndelivered_max_age = "1ms"\ninterval = "20ms"\n'


def _sender(tmp_path: Path, name: str, subscribe: str = "probe.*") -> Path:
    return native_counter(tmp_path, name, "chat", subscribe)


def _ticks(start: int, n: int) -> list[Event]:
    return [Event(Custom("probe.tick", "", json.dumps({"n": i}))) for i in range(start, start + n)]


async def test_handled_journal_entries_and_delivered_messages_are_pruned(tmp_path: Path) -> None:
    """Once every module has passed an entry and it is older than journal_max_age, it goes
    (all but the newest, which holds the head); so does a delivered message older than
    delivered_max_age."""
    transport = MemoryTransport("chat")
    config = write_engine_config(tmp_path / "engine.toml", [_sender(tmp_path, "a")], RETENTION)
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish(_ticks(0, 50))
        await wait_until(lambda: len(transport.sent) == 50, what="delivered")
        await wait_until(lambda: engine.store.journal_size().entries == 1, what="journal pruned")
        await wait_until(lambda: engine.store.outbox_rows() == 0, what="delivered pruned")
        # The counters move after the round's last prune returns: wait for the round to end.
        await wait_until(lambda: engine.retention.pruned_delivered == 50, what="round counted")
        assert 50 == state_json(engine, "a", "count")
        assert 49 == engine.retention.pruned_journal
        assert 50 == engine.retention.pruned_delivered


async def test_entries_a_loaded_module_has_not_handled_are_kept(tmp_path: Path) -> None:
    """A dead or lagging module's events stay in the journal: retention never loses an event."""
    transport = MemoryTransport("chat")
    modules = [_sender(tmp_path, "a"), _sender(tmp_path, "late", subscribe="later.*")]
    config = write_engine_config(tmp_path / "engine.toml", modules, RETENTION)
    async with running_engine(config, transports=[transport]) as engine:
        engine.runners["late"].stop()  # a module that stopped handling anything
        await engine.publish(_ticks(0, 20))
        await wait_until(lambda: len(transport.sent) == 20, what="delivered")
        await wait_until(lambda: engine.store.outbox_rows() == 0, what="delivered pruned")
        assert 20 == engine.store.journal_size().entries


async def test_a_running_module_none_of_whose_events_came_does_not_hold_the_journal(
    tmp_path: Path,
) -> None:
    """A quiet module (its subscription matched nothing since it caught up) has passed every
    entry journaled since: they go, though it never committed a cursor past them; its own
    event, when it comes, is still handled."""
    transport = MemoryTransport("chat")
    modules = [_sender(tmp_path, "a"), _sender(tmp_path, "quiet", subscribe="later.*")]
    config = write_engine_config(tmp_path / "engine.toml", modules, RETENTION)
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish(_ticks(0, 50))
        await wait_until(lambda: len(transport.sent) == 50, what="delivered")
        await wait_until(lambda: engine.store.journal_size().entries == 1, what="journal pruned")
        await engine.publish([Event(Custom("later.one", "", "{}"))])
        await wait_until(lambda: state_json(engine, "quiet", "count") == 1, what="quiet's event")


def _slow_sender(tmp_path: Path) -> Path:
    """The counter, with an import that takes half a second: a slow load."""
    slow = _sender(tmp_path, "slow")
    counter = slow / "counter.py"
    counter.write_text(counter.read_text() + "\nimport time\n\ntime.sleep(0.5)\n")
    return slow


async def test_retention_waits_for_the_configured_modules_to_load(tmp_path: Path) -> None:
    """Entries journaled before the engine started are kept until the modules that load at
    start have passed them, however long loading takes."""
    engine_toml = tmp_path / "engine.toml"
    async with running_engine(write_engine_config(engine_toml, [])) as engine:
        await engine.publish(_ticks(0, 20))  # no module yet: nothing handles them
    slow = _slow_sender(tmp_path)
    transport = MemoryTransport("chat")
    config = write_engine_config(engine_toml, [slow], RETENTION)
    async with running_engine(config, transports=[transport]) as engine:
        await wait_until(lambda: state_json(engine, "slow", "count") == 20, what="all handled")


async def test_a_restarting_module_keeps_its_unhandled_entries(tmp_path: Path) -> None:
    """While a module is unloaded and loaded again (cove module restart) the journal it has
    not handled yet stays: more entries than the engine's recent-events cache holds."""
    behind = RECENT_EVENTS + 5_000
    transport = MemoryTransport("chat")
    config = write_engine_config(tmp_path / "engine.toml", [_slow_sender(tmp_path)], RETENTION)
    async with running_engine(config, transports=[transport]) as engine:
        engine.runners["slow"].stop()  # behind from here on
        for start in range(0, behind, 5_000):
            await engine.publish(_ticks(start, 5_000))
        await engine.restart("slow")
        await wait_until(
            lambda: state_json(engine, "slow", "count") == behind, timeout=120, what="all handled"
        )


async def _handled_then_broken(tmp_path: Path, engine_toml: Path) -> tuple[Path, Path, str]:
    """Module ``a`` handles 5 events (it has a cursor), then its code breaks; ``b`` is fine.
    Also ``a``'s working code, to fix it with."""
    a, b = _sender(tmp_path, "a"), _sender(tmp_path, "b")
    config = write_engine_config(engine_toml, [a])
    async with running_engine(config, transports=[MemoryTransport("chat")]) as engine:
        await engine.publish(_ticks(0, 5))
        await wait_until(lambda: state_json(engine, "a", "count") == 5, what="a handled 5")
    source = (a / "counter.py").read_text()
    (a / "counter.py").write_text("this is not python\n")
    return a, b, source


async def _fixed_catches_up(engine_toml: Path, a: Path, b: Path, source: str) -> None:
    """Fixed, ``a`` loads in a fresh engine (no event cached in memory) and gets every
    event since its cursor from the journal."""
    (a / "counter.py").write_text(source)
    config = write_engine_config(engine_toml, [a, b], RETENTION)
    async with running_engine(config, transports=[MemoryTransport("chat")]) as engine:
        await wait_until(lambda: state_json(engine, "a", "count") == 25, what="a caught up")


async def test_a_configured_module_refused_at_start_keeps_its_unhandled_entries(
    tmp_path: Path,
) -> None:
    """A module the engine refuses at start (its code is broken while the operator fixes it)
    still holds the journal from its stored cursor: once fixed, it gets every event it
    missed, though retention ran meanwhile."""
    engine_toml = tmp_path / "engine.toml"
    a, b, source = await _handled_then_broken(tmp_path, engine_toml)
    config = write_engine_config(engine_toml, [a, b], RETENTION)
    async with running_engine(config, transports=[MemoryTransport("chat")]) as engine:
        assert a in engine.load_errors
        await engine.publish(_ticks(5, 20))
        await wait_until(lambda: state_json(engine, "b", "count") == 25, what="b handled")
        await wait_until(lambda: engine.store.outbox_rows() == 0, what="a retention pass")
    await _fixed_catches_up(engine_toml, a, b, source)


async def test_a_restart_whose_load_fails_keeps_the_module_hold(tmp_path: Path) -> None:
    """``cove module restart`` onto a broken version: the module is out of the engine, but
    its unhandled entries stay until the fixed version is loaded."""
    engine_toml = tmp_path / "engine.toml"
    a, b = _sender(tmp_path, "a"), _sender(tmp_path, "b")
    source = (a / "counter.py").read_text()
    config = write_engine_config(engine_toml, [a, b], RETENTION)
    async with running_engine(config, transports=[MemoryTransport("chat")]) as engine:
        await engine.publish(_ticks(0, 5))
        await wait_until(lambda: state_json(engine, "a", "count") == 5, what="a handled 5")
        (a / "counter.py").write_text("this is not python\n")
        assert await engine.restart("a") is None
        await engine.publish(_ticks(5, 20))
        await wait_until(lambda: state_json(engine, "b", "count") == 25, what="b handled")
        await wait_until(lambda: engine.store.outbox_rows() == 0, what="a retention pass")
    await _fixed_catches_up(engine_toml, a, b, source)


async def test_an_explicit_unload_releases_the_module_hold(tmp_path: Path) -> None:
    """Only the operator's unload lets retention prune past a module's stored cursor."""
    config = write_engine_config(
        tmp_path / "engine.toml", [_sender(tmp_path, "a"), _sender(tmp_path, "b")], RETENTION
    )
    async with running_engine(config, transports=[MemoryTransport("chat")]) as engine:
        await engine.publish(_ticks(0, 5))
        await wait_until(lambda: state_json(engine, "a", "count") == 5, what="a handled 5")
        await engine.unload("a")
        await engine.publish(_ticks(5, 20))
        await wait_until(lambda: state_json(engine, "b", "count") == 25, what="b handled")
        await wait_until(lambda: engine.store.journal_size().entries == 1, what="pruned")
