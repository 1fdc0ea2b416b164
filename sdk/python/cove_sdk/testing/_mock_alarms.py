"""MockHost's alarms: kept with the event's other effects, committed only when it succeeds."""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_DELAY_MS = 366 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Alarm:
    """An alarm the module set: due at ``due_ms`` (MockHost's clock), ``payload`` as sent."""

    id: str
    due_ms: int
    payload: str

    def event_payload(self) -> str:
        """The ``cove.alarm`` event's payload, as the engine journals it."""
        return json.dumps({"id": self.id, "payload": self.payload})


class MockAlarms:
    """``pending``: committed alarms not fired yet; ``limit``: the manifest's
    ``[resources] alarms`` (100 unless it asks)."""

    def __init__(self, limit: int, fail: Callable[[str, str], Exception]) -> None:
        self.limit = limit
        self.pending: list[Alarm] = []
        self._fail = fail

    def schedule(self, now_ms: int, outbox: list[Any], delay_ms: int, payload: str) -> str:
        if delay_ms < 0 or delay_ms > MAX_DELAY_MS:
            raise self._fail("invalid-input", f"alarms: delay-ms must be 0..{MAX_DELAY_MS}")
        waiting = len(self.pending) + sum(isinstance(e, Alarm) for e in outbox)
        if waiting >= self.limit:
            raise self._fail(
                "limit-exceeded",
                f"alarms: {waiting} alarms pending, the limit ([resources] alarms) is {self.limit}",
            )
        alarm = Alarm(uuid.uuid4().hex, now_ms + delay_ms, payload)
        outbox.append(alarm)
        return alarm.id

    def take_due(self, now_ms: int) -> list[Alarm]:
        due = sorted((a for a in self.pending if a.due_ms <= now_ms), key=lambda a: a.due_ms)
        self.pending = [a for a in self.pending if a.due_ms > now_ms]
        return due
