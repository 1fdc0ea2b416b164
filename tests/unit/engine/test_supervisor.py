"""Supervisor: one module's lifecycle, driven the way the runner's loop drives it."""

from __future__ import annotations

from cove._capabilities._grants import Limits
from cove._engine._supervisor import Supervisor
from cove._events import Custom, Event
from cove._store._base import JournalEntry
from cove._types import ModuleState
from cove.errors import LimitExceededError, ModuleFailedError

LIMITS = Limits(0, 0, 0, 0, 0, max_failures=3, backoff_initial_ms=1, backoff_max_ms=1)


def supervisor() -> tuple[Supervisor, list[tuple[ModuleState, str]]]:
    seen: list[tuple[ModuleState, str]] = []
    return Supervisor("m", LIMITS, lambda _m, state, detail: seen.append((state, detail))), seen


def failure(reason: str = "boom") -> ModuleFailedError:
    return ModuleFailedError("m", reason)


async def test_failures_in_a_row_back_off_then_kill_at_max_failures() -> None:
    sup, seen = supervisor()
    for _ in range(3):
        await sup.fail(failure())
    assert [s for s, _ in seen] == [ModuleState.BACKOFF, ModuleState.BACKOFF, ModuleState.DEAD]
    assert "3 consecutive failures; last: boom" == seen[-1][1]
    assert (3, 2, 4) == (sup.stats.failed, sup.stats.restarts, sup.attempt)


async def test_a_success_resets_the_count_and_the_attempt() -> None:
    sup, _ = supervisor()
    await sup.fail(failure())
    await sup.fail(failure())
    sup.succeeded(2, "e2")
    await sup.fail(failure())
    assert ModuleState.BACKOFF == sup.state
    assert (1, 2, "e2") == (
        sup.stats.consecutive_failures,
        sup.stats.handled,
        sup.stats.last_event_id,
    )
    assert 2 == sup.attempt


async def test_only_a_dead_module_is_revived() -> None:
    sup, seen = supervisor()
    assert not sup.revive()
    for _ in range(3):
        await sup.fail(failure())
    assert "module 'm' is dead" == sup.unavailable()
    assert sup.revive()
    assert (ModuleState.INITIALIZING, "revived by operator") == seen[-1]
    assert (0, "") == (sup.stats.consecutive_failures, sup.unavailable())


def test_a_skip_forgets_the_failed_event_and_its_attempts() -> None:
    sup, _ = supervisor()
    sup.failed = JournalEntry(7, Event(Custom("x", "", "{}")))
    sup.attempt = 3
    assert sup.failed_event_id != ""
    sup.skipped()
    assert ("", 1, 1) == (sup.failed_event_id, sup.attempt, sup.stats.skipped)


async def test_a_limit_failure_backs_off_twice_the_steps_of_another_failure() -> None:
    """A memory, fuel or deadline failure costs the neighbours a whole attempt's CPU and
    fails alike when retried at once: its backoff grows 4x a failure, not 2x."""
    limits = Limits(0, 0, 0, 0, 0, max_failures=10, backoff_initial_ms=1, backoff_max_ms=40)
    sup = Supervisor("m", limits, lambda *_: None)
    await sup.fail(failure())
    await sup.fail(LimitExceededError("m", "memory", "needs more than 64 MiB"))
    await sup.fail(LimitExceededError("m", "fuel", "used more than 1 fuel"))
    await sup.fail(failure())
    await sup.fail(LimitExceededError("m", "deadline", "ran longer than 1 ms"))
    bases = [1, 4, 16, 32, 40]  # steps 1, 3, 5, 6, 8; capped at backoff_max
    history = sup.stats.backoff_history_ms
    assert all(0.8 * b - 1 <= d <= 1.2 * b + 1 for d, b in zip(history, bases, strict=True))
    sup.succeeded(1, "e")
    await sup.fail(failure())
    assert 1 == sup.stats.backoff_history_ms[-1]  # a success starts the steps over
