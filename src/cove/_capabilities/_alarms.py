"""``alarms.schedule``: an event for the module itself, later, kept durably until it is due.

Design note: an alarm is one more outbox effect (kind ``alarm``), so it is
committed in the event's own transaction (a rolled-back event schedules
nothing), survives restarts and ``kill -9`` like any effect, and the outbox
worker journals it once it is due, marking it done in the same transaction
(the ``cove.alarm`` event is journaled once). The outbox row's ``next_at_ms``
is the due time, so nothing polls for alarms apart from the outbox's loop.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from ..errors import HostCallError
from ._bounds import MAX_PAYLOAD_BYTES, require_size
from ._effects import EventEffects, ScheduledAlarm

MAX_DELAY_MS = 366 * 24 * 3600 * 1000
"""A year and a day: a later alarm is more likely a unit mistake than a plan."""

PendingAlarms = Callable[[], int]
"""The module's committed alarms not delivered yet (the store's count)."""


def schedule(
    effects: EventEffects,
    limit: int,
    pending: PendingAlarms | None,
    delay_ms: int,
    payload: str,
) -> str:
    """Add the alarm to the event's effects; its id. ``limit``: pending alarms at most."""
    if delay_ms < 0 or delay_ms > MAX_DELAY_MS:
        raise HostCallError(
            "invalid-input", f"alarms: delay-ms must be 0..{MAX_DELAY_MS} (a year), got {delay_ms}"
        )
    require_size("alarms: the payload", payload, MAX_PAYLOAD_BYTES, "limit-exceeded")
    mine = sum(1 for effect in effects.outbox if isinstance(effect, ScheduledAlarm))
    waiting = mine + (0 if pending is None else pending())
    if waiting >= limit:
        raise HostCallError(
            "limit-exceeded",
            f"alarms: module {effects.module!r} has {waiting} alarms pending, its limit "
            f"([resources] alarms) is {limit}",
        )
    alarm_id = uuid.uuid4().hex
    effects.add_effect(ScheduledAlarm(alarm_id, int(time.time() * 1000) + delay_ms, payload))
    return alarm_id


__all__ = ["MAX_DELAY_MS", "PendingAlarms", "schedule"]
