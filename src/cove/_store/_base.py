"""The storage seam. SQLite is the embedded backend; no SQL leaks past it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .._events import Event


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One external effect waiting to leave; ``key`` is its idempotency key."""

    id: int
    key: str
    module: str
    kind: str
    body: str
    attempts: int


@dataclass(frozen=True, slots=True)
class NewEffect:
    kind: str
    body: str


class Store(ABC):
    """Everything the engine needs to survive a crash.

    Writes happen inside an open batch; ``flush`` makes every write before it
    durable at once (group commit). Reads see unflushed writes, so a module
    can go on to its next event before the previous one is on disk.
    """

    # journal
    @abstractmethod
    def append(self, events: Sequence[Event]) -> list[JournalEntry]:
        """Journal events; ids already journaled are ignored (idempotent sources)."""

    @abstractmethod
    def read(self, after_seq: int, limit: int) -> list[JournalEntry]: ...

    @abstractmethod
    def head(self) -> int:
        """The highest journaled seq (0 when empty)."""

    # per-module progress and state
    @abstractmethod
    def cursor(self, module: str) -> int: ...

    @abstractmethod
    def get(self, module: str, key: str) -> bytes | None: ...

    @abstractmethod
    def list_keys(self, module: str, prefix: str) -> list[str]: ...

    @abstractmethod
    def state_bytes(self, module: str) -> int: ...

    @abstractmethod
    def commit(
        self,
        module: str,
        cursor: int,
        writes: Mapping[str, bytes | None],
        effects: Sequence[tuple[str, Sequence[NewEffect]]],
        state_bytes: int | None = None,
    ) -> None:
        """Commit handled events of one module atomically: all of it or none.

        ``writes`` is the net state change of the events (later writes win),
        ``effects`` pairs each event id with its effects in order, ``cursor``
        is the seq of the last event. ``state_bytes`` is the module's state
        size afterwards when the caller knows it (the overlay tracks it for
        the quota); without it the store works it out.
        """

    # outbox
    @abstractmethod
    def pending_effects(self, now_ms: int, limit: int) -> list[OutboxEntry]:
        """Durable effects that are due; never ones still in an unflushed batch."""

    @abstractmethod
    def effect_done(self, entry_id: int, emitted: Sequence[Event] = ()) -> None:
        """Mark delivered; ``emitted`` events are journaled in the same transaction."""

    @abstractmethod
    def effect_retry(self, entry_id: int, next_at_ms: int, error: str) -> None: ...

    @abstractmethod
    def backlog_by_module(self) -> dict[str, int]:
        """Undelivered effects per module (for metrics); modules with none are left out."""

    # sources
    @abstractmethod
    def source_state(self, source: str) -> str | None: ...

    @abstractmethod
    def set_source_state(self, source: str, value: str) -> None: ...

    # durability
    @abstractmethod
    def flush(self) -> None:
        """Make every write so far durable (one fsync for the whole batch)."""

    @abstractmethod
    def close(self) -> None: ...
