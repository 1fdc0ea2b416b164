"""The seams every source and transport plugs in behind."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._events import Event

Publish = Callable[[Sequence[Event]], Awaitable[None]]
"""Journal events durably and dispatch them; returns once they are durable."""


class SourceProgress(Protocol):
    """Where a source or transport keeps the position it reads from (the store's source state)."""

    def source_state(self, source: str) -> str | None: ...
    def set_source_state(self, source: str, value: str) -> None: ...


class Source(ABC):
    """Produces events until cancelled."""

    name: str

    @abstractmethod
    async def run(self, publish: Publish) -> None: ...

    async def aclose(self) -> None:
        """Stop producing gracefully before the engine cancels ``run`` (default: nothing)."""

    def health(self) -> dict[str, Any]:
        """Figures for the health report beside ``ok``/``error`` (default: none)."""
        return {}


@dataclass(slots=True)
class TransportCounts:
    """What a transport did since the engine started (Prometheus ``cove_transport_*_total``)."""

    sent: int = 0
    """Messages a relay or broker took (an OK, a PUBACK)."""
    received: int = 0
    """Inbound messages handed to the journal (a redelivery may count again; the journal keeps
    one)."""
    rejected: int = 0
    """Inbound messages refused (forged, tampered, addressed to no served module)."""
    errors: int = 0
    """Sends that failed (each is retried by the outbox) and connections lost."""


class Transport(ABC):
    """A named way to exchange messages: inbound messages become events."""

    name: str
    request_headers: Callable[[], dict[str, str]] | None = None
    """Set by the engine when tracing is on: headers (``traceparent``) that a transport
    which makes an outbound request adds to it."""
    progress: SourceProgress | None = None
    """Set by the engine before ``start``: the store, for a transport that resumes from a
    position of its own (a nostr transport's last DM seen)."""

    async def start(self, publish: Publish) -> None:
        """Begin accepting inbound messages (default: outbound only)."""

    @abstractmethod
    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        """Deliver one message; raise to have the outbox retry it later."""

    async def send_from(
        self,
        module: str,
        recipient: str,
        body: str,
        metadata: Sequence[tuple[str, str]],
        idempotency_key: str,
        *,
        created_ms: int = 0,
    ) -> None:
        """Deliver one message of ``module``; a transport that signs as the sender uses it.

        ``created_ms``: when the outbox took the message (0: unknown); the same on every
        retry, so a transport that dates what it sends can date every retry alike.
        """
        await self.send(recipient, body, metadata, idempotency_key)

    async def aclose(self) -> None:
        """Stop accepting and release resources."""

    def counts(self) -> TransportCounts | None:
        """What it sent, received, refused and failed, for the metrics (default: not counted)."""
        return None
