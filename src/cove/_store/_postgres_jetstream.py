"""The cluster store with its journal on JetStream: state, cursors, outbox, dead letters and
leases stay in PostgreSQL; the events live in the cluster's stream (docs/scale-out.md).

Design note: a module's commit (state, outbox, cursor, fence check) is one PostgreSQL
transaction as before; its cursor is a stream sequence. Events a module emits (and
alarms that fall due) are outbox rows committed with the module's state, relayed to
the stream with their stable id by the outbox worker and marked delivered only after
the PubAck: a crash between the two publishes the same id again, which the stream's
duplicate window drops (a transactional outbox). Appends no longer join the open
batch, so an event is acknowledged once the stream has it, not at the next flush.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .._events import Event
from ._base import JournalEntry, JournalRetention, JournalSize
from ._jetstream import JetStreamJournal
from ._postgres import PostgresStore, _wall_ms


class JetStreamPostgresStore(PostgresStore):
    def __init__(
        self,
        dsn: str,
        journal: JetStreamJournal,
        *,
        password: str | None = None,
        clock: Callable[[], int] = _wall_ms,
        idle_batch_ms: int | None = None,
        engine_id: str | None = None,
    ) -> None:
        try:
            super().__init__(
                dsn,
                password=password,
                clock=clock,
                idle_batch_ms=idle_batch_ms,
                engine_id=engine_id,
            )
        except BaseException:
            journal.close()
            raise
        self.journal = journal

    def append(self, events: Sequence[Event]) -> list[JournalEntry]:
        return self.journal.append(events)

    def read(self, after_seq: int, limit: int) -> list[JournalEntry]:
        return self.journal.read(after_seq, limit)

    def head(self) -> int:
        return self.journal.head()

    def known_head(self) -> int:
        return self.journal.known_head()

    def effect_done(self, entry_id: int, emitted: Sequence[Event] = ()) -> None:
        """Relay emitted events to the stream first (StoreError: the effect stays pending and
        is tried again), then mark the effect delivered."""
        if emitted:
            self.journal.append(emitted)
        super().effect_done(entry_id)

    def journal_size(self) -> JournalSize:
        return self.journal.size()

    def prune_journal(self, retention: JournalRetention, floor_seq: int) -> int:
        return self.journal.prune(retention, floor_seq)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.journal.close()
