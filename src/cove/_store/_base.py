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
    created_ms: int = 0


@dataclass(frozen=True, slots=True)
class RecentEffect:
    """One effect of a module as its file view shows it: waiting to leave, or delivered."""

    id: int
    kind: str
    body: str
    delivered: bool
    attempts: int
    created_ms: int
    done_ms: int
    last_error: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An effect the outbox gave up on: kept aside until an operator retries or drops it."""

    id: int
    key: str
    module: str
    kind: str
    body: str | None  # None when read without bodies
    transport: str
    attempts: int
    created_ms: int
    dead_ms: int
    last_error: str


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    """One module's undelivered effects, for status and metrics."""

    backlog: int = 0
    attempts: int = 0
    """The most attempts any pending effect of the module has had."""
    last_error: str = ""
    """The error of the most recently failed pending effect ("" when none failed)."""
    next_retry_ms: int | None = None
    """When the earliest failed pending effect is tried again."""
    dead_letters: int = 0


@dataclass(frozen=True, slots=True)
class JournalSize:
    entries: int
    bytes: int
    """Bytes of event ids and bodies (what retention's ``max_bytes`` counts)."""
    oldest_ms: int | None
    """When the oldest entry was accepted: how far back publish dedup reaches now."""


@dataclass(frozen=True, slots=True)
class JournalRetention:
    """Entries accepted before ``before_ms`` go, and the oldest go while the journal is
    over ``max_bytes``; either way only entries every module has passed."""

    before_ms: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class NewEffect:
    kind: str
    body: str
    not_before_ms: int = 0
    """Not delivered before this Unix ms (an alarm's due time); 0: at once."""


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

    def known_head(self) -> int:
        """The newest seq this engine knows of without asking a server: what a status shows
        while ``head`` cannot be had (a journal on a server that is away). A journal in the
        store's own database knows its head."""
        return self.head()

    # per-module progress and state
    @abstractmethod
    def cursor(self, module: str) -> int: ...

    @abstractmethod
    def held_cursors(self) -> dict[str, int]:
        """The stored cursor of every module not released: retention keeps the journal
        after the lowest, so a module that is refused, restarting or being loaded gets
        what it missed."""

    @abstractmethod
    def set_released(self, module: str, released: bool) -> None:
        """Release a module's hold on the journal (the operator unloaded it), or take it
        (it is loaded; one that has no cursor yet holds from the start)."""

    @abstractmethod
    def get(self, module: str, key: str) -> bytes | None: ...

    @abstractmethod
    def list_keys(self, module: str, prefix: str) -> list[str]: ...

    @abstractmethod
    def state_bytes(self, module: str) -> int: ...

    @abstractmethod
    def state_items(self, module: str) -> list[tuple[str, bytes]]:
        """Every key of a module's state with its value, sorted by key, read in one go
        (so the values belong together)."""

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

    # the version that last ran with a module's state (state migration)
    @abstractmethod
    def state_version(self, module: str) -> str | None:
        """The manifest version recorded with the module's state; None before the first."""

    @abstractmethod
    def migrate_state(
        self, module: str, version: str, writes: Mapping[str, bytes | None], state_bytes: int
    ) -> None:
        """Write a migration's net state change and record ``version`` with the state, in one
        transaction (all or nothing), then flush it durable: the new version's first event
        must not commit on top of a migration that a crash could undo."""

    # outbox
    @abstractmethod
    def pending_alarms(self, module: str) -> int:
        """The module's alarms committed and not delivered yet (its ``[resources] alarms``)."""

    @abstractmethod
    def pending_effects(self, now_ms: int, limit: int) -> list[OutboxEntry]:
        """Durable effects that are due; never ones still in an unflushed batch."""

    @abstractmethod
    def recent_effects(self, module: str, limit: int) -> list[RecentEffect]:
        """A module's newest effects still in the outbox (pending or delivered and not yet
        pruned), newest first; unflushed ones included, like state reads."""

    @abstractmethod
    def effect_done(self, entry_id: int, emitted: Sequence[Event] = ()) -> None:
        """Mark delivered; ``emitted`` events are journaled in the same transaction."""

    @abstractmethod
    def effect_retry(self, entry_id: int, next_at_ms: int, error: str) -> None: ...

    @abstractmethod
    def outbox_health(self) -> dict[str, OutboxHealth]:
        """Per module with pending effects or dead letters: backlog, attempts, error, retry."""

    # dead letters
    @abstractmethod
    def effect_dead(self, entry_id: int, error: str) -> None:
        """Move an effect whose last attempt failed with ``error`` to the dead letters
        (that attempt counted)."""

    @abstractmethod
    def dead_letters(self, module: str | None, limit: int, bodies: bool = True) -> list[DeadLetter]:
        """Dead letters, oldest first; ``module`` None: of every module."""

    @abstractmethod
    def retry_dead(self, ids: Sequence[int]) -> list[int]:
        """Queue dead letters again (no attempts, due now, durable at the next flush);
        the ids that were found."""

    @abstractmethod
    def drop_dead(self, ids: Sequence[int]) -> list[int]:
        """Delete dead letters; the ids that were found."""

    # retention
    @abstractmethod
    def journal_size(self) -> JournalSize: ...

    @abstractmethod
    def prune_journal(self, retention: JournalRetention, floor_seq: int) -> int:
        """Delete old entries at or below ``floor_seq`` (what every module has passed),
        never the newest one (it holds the head); how many went. A pruned id is no longer
        deduplicated by ``append``."""

    @abstractmethod
    def prune_delivered(self, before_ms: int) -> int:
        """Delete effects delivered before ``before_ms``; how many went."""

    @abstractmethod
    def prune_dead(self, before_ms: int) -> int:
        """Delete dead letters that died before ``before_ms``; how many went."""

    @abstractmethod
    def outbox_rows(self) -> int:
        """Effects held in the outbox, delivered or not (what delivered retention bounds)."""

    # sources
    @abstractmethod
    def source_state(self, source: str) -> str | None: ...

    @abstractmethod
    def set_source_state(self, source: str, value: str) -> None: ...

    # durability
    @abstractmethod
    def flush(self) -> None:
        """Make every write so far durable (one fsync for the whole batch)."""

    def stopped(self) -> str | None:
        """Why the store refuses every call until the engine restarts (a backend that lost
        its open batch), or None. SQLite never stops this way."""
        return None

    @abstractmethod
    def close(self) -> None: ...
