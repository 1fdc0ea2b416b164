"""Outbox delivery on a real engine: failures are visible, and a send that keeps failing
is moved to the dead letters instead of being retried forever."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from cove import Custom, Event
from cove._engine._outbox import LOG_INTERVAL_S
from cove._observe._metrics import exposition
from cove._ratelimit import RateLimitedLog
from cove._store._base import DeadLetter
from cove.testing import MemoryTransport
from tests.helpers.engine import running_app, running_engine, state_json, wait_until
from tests.helpers.modules import native_counter, write_engine_config

FAST_RETRY = '[outbox]\nretry_initial = "10ms"\nretry_max = "20ms"\n'
METRICS = '\n[metrics]\nhost = "127.0.0.1"\nport = 0\n'


def _sender(tmp_path: Path) -> Path:
    return native_counter(tmp_path, "sender", "chat")


def _tick(n: int) -> Event:
    return Event(Custom("probe.tick", "", json.dumps({"n": n})))


def _sample(text: str, name: str) -> float:
    """The value of the first sample line that starts with ``name``."""
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} in:\n{text}")


async def test_a_failing_send_is_logged_and_shown_in_status_and_metrics(tmp_path: Path) -> None:
    """The error, the attempts and the next retry reach the status, a counter and the log."""
    transport = MemoryTransport("chat")
    transport.fail_next = 10**9
    config = write_engine_config(
        tmp_path / "engine.toml",
        [_sender(tmp_path)],
        FAST_RETRY + "max_attempts = 1000\n" + METRICS,
    )
    with capture_logs() as logs:
        async with running_app(config, transports=[transport]) as app:
            await app.engine.publish([_tick(1)])
            await wait_until(lambda: transport.attempts >= 3, what="three attempts")
            (status,) = app.engine.status()
            assert app.control is not None
            text = exposition(app.control.registry).decode()
    assert 1 == status.outbox_backlog
    assert status.outbox_attempts >= 2
    assert "ConnectionError: chat: simulated send failure" == status.outbox_last_error
    assert status.outbox_next_retry_ms is not None
    failures = _sample(text, 'cove_outbox_delivery_failures_total{transport="chat"}')
    assert failures >= 2
    lines = [e for e in logs if e["event"] == "outbox delivery failed"]
    assert lines, logs
    assert "sender" == lines[0]["module"]
    assert "chat" == lines[0]["transport"]
    assert "simulated send failure" in lines[0]["error"]


async def test_failure_log_lines_are_rate_limited_per_transport(tmp_path: Path) -> None:
    """Many failures in a short time give one line, and the next one counts those left out."""
    transport = MemoryTransport("chat")
    transport.fail_next = 10**9
    config = write_engine_config(
        tmp_path / "engine.toml", [_sender(tmp_path)], FAST_RETRY + "max_attempts = 1000\n"
    )
    now = [0.0]  # the log's clock, moved only by the test: no real time is counted

    def lines() -> list[dict[str, Any]]:
        return [e for e in logs if e["event"] == "outbox delivery failed"]

    with capture_logs() as logs:
        async with running_engine(config, transports=[transport]) as engine:
            engine.outbox.failure_log = RateLimitedLog(
                engine.log.warning, LOG_INTERVAL_S, clock=lambda: now[0]
            )
            await engine.publish([_tick(i) for i in range(20)])
            await wait_until(lambda: transport.attempts >= 60, what="many attempts")
            assert 1 == len(lines())
            now[0] += LOG_INTERVAL_S
            await wait_until(lambda: len(lines()) == 2, what="the next window's line")
    assert lines()[1]["suppressed"] >= 59


async def test_a_send_failing_past_its_attempt_limit_moves_to_the_dead_letters(
    tmp_path: Path,
) -> None:
    """With max_attempts = 3 the message is tried three times, then dead-lettered, and
    the outbox is empty; a retry of the dead letter delivers it once the transport works."""
    transport = MemoryTransport("chat")
    transport.fail_next = 10**9
    config = write_engine_config(
        tmp_path / "engine.toml", [_sender(tmp_path)], FAST_RETRY + "max_attempts = 3\n"
    )
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish([_tick(1)])
        await wait_until(lambda: len(engine.store.dead_letters(None, 10)) == 1, what="dead")
        (dead,) = engine.store.dead_letters(None, 10)
        assert 3 == transport.attempts
        assert 3 == dead.attempts
        assert "sender" == dead.module
        assert "simulated send failure" in dead.last_error
        assert [] == engine.store.pending_effects(2**62, 10)
        (status,) = engine.status()
        assert (0, 1) == (status.outbox_backlog, status.dead_letters)
        transport.fail_next = 0
        assert [dead.id] == await engine.outbox.retry_dead([dead.id])
        await wait_until(lambda: len(transport.sent) == 1, what="delivered after retry")
        assert [] == engine.store.dead_letters(None, 10)
        assert 1 == state_json(engine, "sender", "count")


async def _first_dead_letter(tmp_path: Path, extra: str) -> tuple[int, DeadLetter]:
    """Send one message through a transport that always fails: (attempts, its dead letter)."""
    transport = MemoryTransport("chat")
    transport.fail_next = 10**9
    config = write_engine_config(tmp_path / "engine.toml", [_sender(tmp_path)], extra)
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish([_tick(1)])
        await wait_until(lambda: len(engine.store.dead_letters(None, 10)) == 1, what="dead")
        (dead,) = engine.store.dead_letters(None, 10)
    return transport.attempts, dead


async def test_the_attempt_limit_is_per_transport(tmp_path: Path) -> None:
    """[outbox.transports.chat] overrides the engine-wide limit for that transport only."""
    extra = FAST_RETRY + "max_attempts = 1000\n[outbox.transports.chat]\nmax_attempts = 2\n"
    attempts, dead = await _first_dead_letter(tmp_path, extra)
    assert (2, 2) == (attempts, dead.attempts)


async def test_a_send_older_than_its_max_age_moves_to_the_dead_letters(tmp_path: Path) -> None:
    """max_age bounds how long a message is retried, whatever the attempt count."""
    extra = FAST_RETRY + 'max_attempts = 100000\nmax_age = "100ms"\n'
    _, dead = await _first_dead_letter(tmp_path, extra)
    assert "older than max_age" in dead.last_error
