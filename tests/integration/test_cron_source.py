"""Tick subscriptions on a real engine, driven by a FakeClock: times, catch-up, restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from cove import Engine, Event, Tick, load_config
from cove._sources._cron import CronSource
from cove.testing import FakeClock
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import recorder_module, write_engine_config

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC; 200 s past a 5-minute boundary
EVERY_30S = {"kind": "tick", "every": "30s"}
EVERY_5M_CRON = {"kind": "tick", "schedule": "*/5 * * * *"}


def _recorder(tmp_path: Path, subscriptions: list[dict[str, Any]]) -> Path:
    return recorder_module(tmp_path, subscriptions)


@asynccontextmanager
async def _engine(
    tmp_path: Path, clock: FakeClock, subs: list[dict[str, Any]]
) -> AsyncIterator[Engine]:
    config = write_engine_config(tmp_path / "engine.toml", [_recorder(tmp_path, subs)])
    engine = Engine(load_config(config), clock=clock)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop(drain_seconds=2)


def _ticks(engine: Engine) -> list[list[Any]]:
    return state_json(engine, "recorder", "ticks") or []


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _journaled_tick_ids(engine: Engine) -> list[str]:
    return [e.event.id for e in engine.store.read(0, 100_000) if isinstance(e.event.payload, Tick)]


async def test_every_and_cron_schedules_tick_at_their_scheduled_times(tmp_path: Path) -> None:
    """Intervals align to the epoch, cron runs in UTC, and ticks arrive oldest first."""
    clock = FakeClock(T0)
    async with _engine(tmp_path, clock, [EVERY_30S, EVERY_5M_CRON]) as engine:
        clock.advance(10)
        await wait_until(lambda: len(_ticks(engine)) == 1, what="the first 30s tick")
        assert [["every 30s", _ms(T0 + 10)]] == _ticks(engine)

        clock.advance(590)
        expected = sorted(
            [["every 30s", _ms(T0 + 10 + 30 * n)] for n in range(20)]
            + [["*/5 * * * *", _ms(T0 + 100)], ["*/5 * * * *", _ms(T0 + 400)]],
            key=lambda t: (t[1], t[0]),
        )
        await wait_until(lambda: len(_ticks(engine)) == len(expected), what="22 ticks")
        assert expected == _ticks(engine)
        assert f"tick:every 30s:{_ms(T0 + 10)}" in _journaled_tick_ids(engine)


async def test_missed_ticks_are_delivered_once_after_restarts(tmp_path: Path) -> None:
    """Downtime is caught up tick by tick; a second restart repeats nothing; new schedules start now."""
    async with _engine(tmp_path, clock := FakeClock(T0), [EVERY_30S]) as engine:
        clock.advance(60)
        await wait_until(lambda: len(_ticks(engine)) == 2, what="two ticks before the stop")

    # Down from T0+60 to T0+300: the eight ticks at T0+70 ... T0+280 were missed.
    async with _engine(tmp_path, FakeClock(T0 + 300), [EVERY_30S]) as engine:
        await wait_until(lambda: len(_ticks(engine)) == 10, what="the missed ticks")
        assert [_ms(T0 + 10 + 30 * n) for n in range(10)] == [t[1] for t in _ticks(engine)]

    every_minute = {"kind": "tick", "every": "1m"}
    clock = FakeClock(T0 + 300)
    async with _engine(tmp_path, clock, [EVERY_30S, every_minute]) as engine:
        clock.advance(60)
        await wait_until(lambda: len(_ticks(engine)) == 13, what="ticks after the second restart")
        ticks = _ticks(engine)
        ids = _journaled_tick_ids(engine)
    assert [_ms(T0 + 10 + 30 * n) for n in range(12)] == [
        t[1] for t in ticks if t[0] == "every 30s"
    ]
    assert [["every 1m", _ms(T0 + 340)]] == [t for t in ticks if t[0] == "every 1m"]
    assert len(ids) == len(set(ids)) == 13


class _DictStore:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def source_state(self, source: str) -> str | None:
        return self.values.get(source)

    def set_source_state(self, source: str, value: str) -> None:
        self.values[source] = value


@dataclass(frozen=True)
class _Spec:
    label: str
    schedule: str | None = None
    every: str | None = None


async def test_catch_up_is_capped_and_the_drop_is_logged() -> None:
    """After a long outage only the newest ``max_catch_up`` ticks per schedule are delivered."""
    store = _DictStore()
    specs = [_Spec("every 30s", every="30s"), _Spec("*/5 * * * *", schedule="*/5 * * * *")]
    for spec in specs:
        store.set_source_state(f"cron:{spec.label}", str(_ms(T0)))
    published: list[Event] = []

    async def publish(events: Sequence[Event]) -> None:
        published.extend(events)

    now = T0 + 86_400
    source = CronSource(specs, store, FakeClock(now), max_catch_up=5)
    with structlog.testing.capture_logs() as logs:
        assert 10 == await source.publish_due(publish, _ms(now))
    ticks = [e.payload for e in published if isinstance(e.payload, Tick)]
    last = int(now) // 30 * 30
    assert [_ms(last - 30 * n) for n in (4, 3, 2, 1, 0)] == [
        t.scheduled_at_ms for t in ticks if t.schedule == "every 30s"
    ]
    assert {"every 30s", "*/5 * * * *"} == {
        log["schedule"] for log in logs if "dropped" in log["event"]
    }
    assert str(_ms(last)) == store.values["cron:every 30s"]


async def test_a_cron_expression_that_never_falls_due_is_ignored_with_an_error() -> None:
    """February 30th passes croniter's syntax check but has no date; the others still tick."""
    specs = [_Spec("0 0 30 2 *", schedule="0 0 30 2 *"), _Spec("every 30s", every="30s")]
    with structlog.testing.capture_logs() as logs:
        source = CronSource(specs, _DictStore(), FakeClock(T0))
    assert ["every 30s"] == source.labels
    assert any(log["event"].startswith("tick schedule ignored") for log in logs)
