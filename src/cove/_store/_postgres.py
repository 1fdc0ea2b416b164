"""PostgreSQL backend of the store: one connection, group commit by ``flush``.

Design note: the same shape as ``SqliteStore``, on purpose. One connection
serialised by a lock holds one open transaction; every event's writes go into
it (checked first and sent in one pipeline, so a failing write cannot leave half
an event behind: see _postgres_checks.py for why not a SAVEPOINT) and ``flush``
commits them at once: PostgreSQL's COMMIT waits for its WAL to be on disk, so a
flush is one fsync for the whole batch. Cursors wait in memory for the flush,
written once per module however many commits moved them. Readers use the
same connection, so they see unflushed writes. A pool was rejected: a second
connection would not see the open batch, and the engine's calls are short and
serialised by the committer anyway.

A failure inside an open batch (the server restarted, the connection dropped,
another engine ended a paused one's session) loses that batch on the server's
side, while modules already went on past its events. So the store stops there:
every later call raises ``StoreError`` until the engine is restarted, or (in
[cluster]) ``reopen`` starts again from what was committed. A connection that
dropped with no batch open lost nothing: the call that met it fails, the next
one connects again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from .._event_codec import event_from_json, event_to_json
from .._events import Event
from ..errors import StoreError
from . import _postgres_outbox as outbox
from . import _postgres_writes as batch_sql
from ._base import (
    DeadLetter,
    JournalEntry,
    JournalRetention,
    JournalSize,
    NewEffect,
    OutboxEntry,
    OutboxHealth,
    RecentEffect,
    Store,
)
from ._postgres_checks import checked_effects
from ._postgres_fence import Fence
from ._postgres_schema import migrate
from ._rules import PRUNE_CHUNK


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def describe(dsn: str) -> str:
    """The server and database of ``dsn`` as errors and logs name it: never a password."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "postgresql (an unreadable dsn)"
    return f"postgresql://{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


class PostgresStore(Store):
    """``dsn``: a libpq connection string without a password; ``password`` comes from a
    secret. ``clock``: Unix ms for when effects are queued and delivered."""

    def __init__(
        self,
        dsn: str,
        *,
        password: str | None = None,
        clock: Callable[[], int] = _wall_ms,
        idle_batch_ms: int | None = None,
        engine_id: str | None = None,
    ) -> None:
        """``idle_batch_ms`` ([cluster]): the server ends a session whose batch stays open
        and idle that long (this engine paused), so its locks cannot hold up the others.
        ``engine_id`` ([cluster]): sessions are named ``cove:<engine_id>`` in
        ``pg_stat_activity``, so the other engines can end a paused one's (``end_stuck``)."""
        self.where = describe(dsn)
        self._clock = clock
        idle = idle_batch_ms
        options = None if idle is None else f"-c idle_in_transaction_session_timeout={idle}"
        self._connect: Callable[[], psycopg.Connection[tuple[Any, ...]]] = partial(
            psycopg.connect,
            dsn,
            password=password,
            autocommit=True,
            application_name="cove" if engine_id is None else f"cove:{engine_id}",
            options=options,
        )
        try:
            self._db: psycopg.Connection[tuple[Any, ...]] = self._connect()
            migrate(self._db)
            self._sizes: dict[str, int] = {
                str(module): int(size)
                for module, size in self._db.execute(
                    "SELECT module, SUM(octet_length(key) + octet_length(value)) "
                    "FROM state GROUP BY module"
                )
            }
            entries, size = self._one(
                "SELECT COUNT(*), COALESCE(SUM(char_length(id) + char_length(body)), 0) "
                "FROM journal"
            )
            self._durable_outbox = self._max_outbox()
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot open the store: {exc}") from None
        self._journal_entries = int(entries)
        self._journal_bytes = int(size)
        self._lock = threading.RLock()
        self._in_batch = False
        self._broken: str | None = None
        self._cursors: dict[str, int] = {}  # committed in the open batch, not written yet
        self._done: dict[int, int] = {}  # effects delivered (id: when), not written yet
        self._done_lock = threading.Lock()
        self._fence: Fence | None = None
        self.owned: Callable[[], Sequence[str]] | None = None
        """Cluster mode: the modules whose effects this engine delivers (the ones it runs)."""

    def reopen(self) -> None:
        """[cluster]: start again from what was committed after the store stopped (its batch
        was lost). Only once this engine dropped every module: each one it takes again
        reads its committed cursor. ``StoreError`` while the server is still away."""
        with self._lock:
            try:
                fresh = self._connect()
            except psycopg.Error as exc:
                raise StoreError(f"{self.where}: cannot reconnect: {exc}") from None
            self._db.close()
            self._db = fresh
            self._broken = None
            self._in_batch = False
            self._cursors.clear()
            with self._done_lock:
                self._done.clear()  # not written: those effects are delivered again
            if self._fence is not None:
                self._fence.committed()
            self._durable_outbox = self._max_outbox()

    def connector(self) -> Callable[[], psycopg.Connection[tuple[Any, ...]]]:
        """Opens a new connection to the same database (leases, LISTEN: not this batch's)."""
        return self._connect

    def fence(self, engine: str, epoch_of: Callable[[str], int | None]) -> None:
        """Cluster mode: every commit checks its module's lease epoch and is audited
        (see _postgres_fence.py); appends are ordered across engines."""
        self._fence = Fence(engine, epoch_of)

    def refresh_size(self, module: str) -> None:
        """Read a module's state size again: another engine ran it until now."""
        with self._lock, self._guard("reading a state size"):
            row = self._one(
                "SELECT COALESCE(SUM(octet_length(key) + octet_length(value)), 0) "
                "FROM state WHERE module = %s",
                (module,),
            )
            self._sizes[module] = int(row[0])
            self._cursors.pop(module, None)

    def _one(self, query: Any, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        row = self._db.execute(query, params).fetchone()
        assert row is not None
        return row

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Turn the driver's errors into ``StoreError``; one that cost the open batch, or
        the connection, stops the store (see the design note)."""
        if self._broken is not None:
            raise StoreError(f"{self.where}: the store stopped after an error: {self._broken}")
        if self._db.closed and self._in_batch:
            # Ended under an open batch (a paused engine's session, ended by the others).
            self._broken = f"{what}: the connection was lost with a batch open"
            raise StoreError(f"{self.where}: {self._broken}")
        try:
            if self._db.closed:
                # Dropped with no batch open: nothing was lost, so connect again.
                self._db = self._connect()
            yield
        except psycopg.Error as exc:
            if self._in_batch:
                self._broken = f"{what}: {exc}"
            raise StoreError(f"{self.where}: {what} failed: {exc}") from None

    def _begin(self) -> None:
        if not self._in_batch:
            self._db.execute("BEGIN")
            self._in_batch = True

    def _max_outbox(self) -> int:
        return int(self._one("SELECT COALESCE(MAX(id), 0) FROM outbox")[0])

    # journal --------------------------------------------------------------
    def append(self, events: Sequence[Event]) -> list[JournalEntry]:
        if not events:
            return []
        first: dict[str, Event] = {}
        for event in events:
            first.setdefault(event.id, event)
        bodies = {event_id: event_to_json(event) for event_id, event in first.items()}
        with self._lock, self._guard("journaling events"):
            self._begin()
            if self._fence is not None:
                self._fence.lock_journal(self._db)
            at_ms = [event.accepted_at_ms for event in first.values()]
            rows = batch_sql.journal(self._db, list(first), list(bodies.values()), at_ms)
            added = sorted((int(seq), str(event_id)) for seq, event_id in rows)
            self._journal_entries += len(added)
            self._journal_bytes += sum(len(i) + len(bodies[i]) for _, i in added)
        return [JournalEntry(seq, first[event_id]) for seq, event_id in added]

    def read(self, after_seq: int, limit: int) -> list[JournalEntry]:
        with self._lock, self._guard("reading the journal"):
            rows = self._db.execute(
                "SELECT seq, body FROM journal WHERE seq > %s ORDER BY seq LIMIT %s",
                (after_seq, limit),
            ).fetchall()
        return [JournalEntry(int(seq), event_from_json(body)) for seq, body in rows]

    def head(self) -> int:
        with self._lock, self._guard("reading the head"):
            return self._head()

    def _head(self) -> int:
        return int(self._one("SELECT COALESCE(MAX(seq), 0) FROM journal")[0])

    # state ------------------------------------------------------------------
    def cursor(self, module: str) -> int:
        with self._lock, self._guard("reading a cursor"):
            if module in self._cursors:
                return self._cursors[module]
            row = self._db.execute(
                "SELECT seq FROM cursors WHERE module = %s", (module,)
            ).fetchone()
        return int(row[0]) if row else 0

    def held_cursors(self) -> dict[str, int]:
        with self._lock, self._guard("reading cursors"):
            self._write_cursors()
            rows = self._db.execute(
                "SELECT module, seq FROM cursors WHERE module NOT IN (SELECT module FROM released)"
            ).fetchall()
        return {str(module): int(seq) for module, seq in rows}

    def set_released(self, module: str, released: bool) -> None:
        with self._lock, self._guard("releasing a module"):
            self._begin()
            batch_sql.released(self._db, module, released)

    def get(self, module: str, key: str) -> bytes | None:
        with self._lock, self._guard("reading state"):
            row = self._db.execute(
                "SELECT value FROM state WHERE module = %s AND key = %s", (module, key)
            ).fetchone()
        return bytes(row[0]) if row else None

    def list_keys(self, module: str, prefix: str) -> list[str]:
        with self._lock, self._guard("listing state keys"):
            rows = self._db.execute(
                "SELECT key FROM state WHERE module = %s AND starts_with(key, %s) ORDER BY key",
                (module, prefix),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def state_bytes(self, module: str) -> int:
        with self._lock:
            return self._sizes.get(module, 0)

    def state_items(self, module: str) -> list[tuple[str, bytes]]:
        with self._lock, self._guard("reading state"):
            rows = self._db.execute(
                "SELECT key, value FROM state WHERE module = %s ORDER BY key", (module,)
            ).fetchall()
        return [(str(key), bytes(value)) for key, value in rows]

    def commit(
        self,
        module: str,
        cursor: int,
        writes: Mapping[str, bytes | None],
        effects: Sequence[tuple[str, Sequence[NewEffect]]],
        state_bytes: int | None = None,
    ) -> None:
        where = f"{self.where}: committing events of {module!r} failed"
        queued = checked_effects(where, module, writes, effects)
        with self._lock, self._guard(f"committing events of {module!r}"):
            self._begin()
            fence = self._fence
            if fence is not None:
                fence.check(self._db, module)  # FencedError: nothing of it is written
            size = state_bytes
            if size is None:
                size = batch_sql.size_after(self._db, module, writes, self._sizes.get(module, 0))
            try:
                # One round trip for the whole event batch, not one per statement.
                with self._db.pipeline():
                    batch_sql.event(self._db, module, writes, queued, self._clock())
                    if fence is not None:
                        fence.audit(self._db, module, cursor)
            except BaseException as exc:
                # Checked above, so only the server or the connection fails here: the
                # open batch then holds half an event, and the store stops.
                self._broken = f"committing events of {module!r}: {exc!r}"
                raise
            # Written at the flush, once per module: the batch's events all moved it.
            self._cursors[module] = cursor
            self._sizes[module] = size

    def _write_cursors(self) -> None:
        if self._cursors:
            batch_sql.cursors(self._db, self._cursors)
            self._cursors.clear()

    def state_version(self, module: str) -> str | None:
        with self._lock, self._guard("reading the state's version"):
            row = self._db.execute(
                "SELECT version FROM state_versions WHERE module = %s", (module,)
            ).fetchone()
        return str(row[0]) if row else None

    def migrate_state(
        self, module: str, version: str, writes: Mapping[str, bytes | None], state_bytes: int
    ) -> None:
        where = f"{self.where}: migrating the state of {module!r} failed"
        checked_effects(where, module, writes, ())
        with self._lock, self._guard(f"migrating the state of {module!r}"):
            self._begin()
            try:
                batch_sql.migration(self._db, module, version, writes, self._clock())
            except psycopg.Error as exc:
                raise StoreError(f"{where}: {exc}") from None
            self._sizes[module] = state_bytes
        self.flush()

    # outbox -----------------------------------------------------------------
    def pending_alarms(self, module: str) -> int:
        with self._lock, self._guard("reading the outbox"):
            self._write_done()
            return outbox.pending_alarms(self._db, module)

    def pending_effects(self, now_ms: int, limit: int) -> list[OutboxEntry]:
        owned = None if self.owned is None else list(self.owned())
        with self._lock, self._guard("reading the outbox"):
            self._write_done()
            return outbox.pending_effects(self._db, now_ms, self._durable_outbox, owned, limit)

    def recent_effects(self, module: str, limit: int) -> list[RecentEffect]:
        with self._lock, self._guard("reading the outbox"):
            self._write_done()
            return outbox.recent_effects(self._db, module, limit)

    def effect_done(self, entry_id: int, emitted: Sequence[Event] = ()) -> None:
        if not emitted:
            # Its own lock, not the connection's: the outbox worker marks on the event
            # loop, which must not wait for a module's commit. The flush writes it.
            with self._done_lock:
                self._done[entry_id] = self._clock()
            return
        with self._lock, self._guard("marking an effect delivered"):
            self._begin()
            self.append(emitted)
            self._db.execute(
                "UPDATE outbox SET done = TRUE, done_ms = %s WHERE id = %s",
                (self._clock(), entry_id),
            )

    def _write_done(self) -> None:
        """Write the delivered marks made since the last write (under ``_lock``, in a batch)."""
        with self._done_lock:
            done, self._done = self._done, {}
        if done:
            self._begin()
            batch_sql.delivered(self._db, done)

    def effect_retry(self, entry_id: int, next_at_ms: int, error: str) -> None:
        with self._lock, self._guard("scheduling a retry"):
            self._write_done()
            self._begin()
            outbox.retry_later(self._db, entry_id, next_at_ms, error)

    def outbox_health(self) -> dict[str, OutboxHealth]:
        with self._lock, self._guard("reading outbox health"):
            self._write_done()
            return outbox.outbox_health(self._db)

    # dead letters -----------------------------------------------------------
    def effect_dead(self, entry_id: int, error: str) -> None:
        with self._lock, self._guard("moving an effect to the dead letters"):
            self._write_done()
            self._begin()
            outbox.move_to_dead(self._db, entry_id, error, self._clock())

    def dead_letters(self, module: str | None, limit: int, bodies: bool = True) -> list[DeadLetter]:
        with self._lock, self._guard("reading dead letters"):
            return outbox.dead_letters(self._db, module, limit, bodies)

    def retry_dead(self, ids: Sequence[int]) -> list[int]:
        with self._lock, self._guard("retrying dead letters"):
            self._write_done()
            self._begin()
            return outbox.retry_dead(self._db, ids, self._clock())

    def drop_dead(self, ids: Sequence[int]) -> list[int]:
        with self._lock, self._guard("dropping dead letters"):
            self._begin()
            return outbox.drop_dead(self._db, ids)

    # retention --------------------------------------------------------------
    def journal_size(self) -> JournalSize:
        with self._lock, self._guard("reading the journal size"):
            row = self._db.execute("SELECT at_ms FROM journal ORDER BY seq LIMIT 1").fetchone()
            return JournalSize(
                self._journal_entries, self._journal_bytes, None if row is None else int(row[0])
            )

    def prune_journal(self, retention: JournalRetention, floor_seq: int) -> int:
        total = 0
        while True:
            # The lock is taken per step, so events are journaled between steps.
            with self._lock, self._guard("pruning the journal"):
                self._begin()
                # The newest entry stays, so the head (its seq) never goes back.
                floor = min(floor_seq, self._head() - 1)
                count, freed = outbox.prune_journal(self._db, retention, floor, self._journal_bytes)
                self._journal_entries -= count
                self._journal_bytes -= freed
            total += count
            if count < PRUNE_CHUNK:
                return total

    def prune_delivered(self, before_ms: int) -> int:
        return self._prune_steps(outbox.prune_delivered, before_ms)

    def prune_dead(self, before_ms: int) -> int:
        return self._prune_steps(outbox.prune_dead, before_ms)

    def _prune_steps(self, step: Callable[[outbox.Connection, int], int], before_ms: int) -> int:
        """Run a pruning step until it deletes less than a chunk, taking the lock per step."""
        total = 0
        while True:
            with self._lock, self._guard("pruning the outbox"):
                self._write_done()
                self._begin()
                count = step(self._db, before_ms)
            total += count
            if count < PRUNE_CHUNK:
                return total

    def outbox_rows(self) -> int:
        with self._lock, self._guard("counting the outbox"):
            self._write_done()
            return int(self._one("SELECT COUNT(*) FROM outbox")[0])

    # sources ----------------------------------------------------------------
    def source_state(self, source: str) -> str | None:
        with self._lock, self._guard("reading source progress"):
            row = self._db.execute(
                "SELECT value FROM sources WHERE name = %s", (source,)
            ).fetchone()
        return str(row[0]) if row else None

    def set_source_state(self, source: str, value: str) -> None:
        with self._lock, self._guard("saving source progress"):
            self._begin()
            self._db.execute(
                "INSERT INTO sources (name, value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                (source, value),
            )

    # durability -------------------------------------------------------------
    def flush(self) -> None:
        with self._lock, self._guard("committing the batch"):
            self._write_done()
            if self._in_batch:
                self._write_cursors()
                self._db.execute("COMMIT")
                self._in_batch = False
                if self._fence is not None:
                    self._fence.committed()
            # Ids only grow (one connection writes them): all up to here are durable.
            self._durable_outbox = self._max_outbox()

    def stopped(self) -> str | None:
        return None if self._broken is None else f"{self.where}: {self._broken}"

    def close(self) -> None:
        with self._lock:
            try:
                if self._broken is None and not self._db.closed:
                    self.flush()
            finally:
                self._db.close()
