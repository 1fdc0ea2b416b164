"""An in-memory transport: records what is sent, injects what is received."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .._events import Event, Message
from .._sources._base import Publish, Transport


@dataclass(frozen=True, slots=True)
class SentMessage:
    recipient: str
    body: str
    metadata: tuple[tuple[str, str], ...]
    idempotency_key: str


class MemoryTransport(Transport):
    """``fail_next`` makes the next N sends raise, to exercise outbox retries."""

    def __init__(self, name: str = "memory", address: str = "engine") -> None:
        self.name = name
        self.address = address
        self.sent: list[SentMessage] = []
        self.attempts = 0
        self.fail_next = 0
        self._publish: Publish | None = None

    async def start(self, publish: Publish) -> None:
        self._publish = publish

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        self.attempts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError(f"{self.name}: simulated send failure")
        self.sent.append(SentMessage(recipient, body, tuple(metadata), idempotency_key))

    async def receive(self, sender: str, body: str, message_id: str | None = None) -> Event:
        """Inject an inbound message as if it arrived on this transport."""
        assert self._publish is not None, "transport not started by an engine"
        message = Message(self.name, sender, self.address, body)
        event = (
            Event(message) if message_id is None else Event(message, id=f"{self.name}:{message_id}")
        )
        await self._publish([event])
        return event
