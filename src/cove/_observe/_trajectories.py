"""Durable trajectories: every handled event's record, written off the hot path.

Design note: ``add`` runs on a module's worker thread right after its event,
so it only stamps the time and appends to a bounded deque; a writer thread of
its own drains the deque in batches into a SQLite file of its own
(``trajectories.db`` beside the journal). Rejected: a table in the journal
store, because trajectory writes would then share (and lengthen) the
journal's group commit and retention deletes would fragment it. A crash may
lose the last unflushed batch; that is acceptable for a diagnostic record,
unlike for the journal. Summaries come from the capability gate, which
records keys, names and URLs but never values.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from ..errors import StoreError

Outcome = Literal["ok", "failed"]
MAX_QUEUED = 100_000
_ROW_OVERHEAD = 64  # bytes counted per row on top of its text, for the size limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trajectories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    module TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT NOT NULL,
    fuel INTEGER NOT NULL,
    wall_ns INTEGER NOT NULL,
    calls TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trajectories_at ON trajectories (at_ms);
CREATE INDEX IF NOT EXISTS trajectories_module ON trajectories (module, id);
"""


class CallLike(Protocol):
    """A host call as the capability gate records it (``HostCallRecord``)."""

    @property
    def interface(self) -> str: ...
    @property
    def function(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def error(self) -> str | None: ...
    @property
    def duration_ns(self) -> int: ...


class TrajectoryLike(Protocol):
    """What the engine hands over per event (``Trajectory``); no engine import needed."""

    @property
    def module(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def outcome(self) -> str: ...
    @property
    def error(self) -> str: ...
    @property
    def calls(self) -> Sequence[CallLike]: ...
    @property
    def fuel(self) -> int: ...
    @property
    def wall_ns(self) -> int: ...


@dataclass(frozen=True, slots=True)
class StoredTrajectory:
    """One trajectory as read back; ``id`` orders them and is the ``--follow`` cursor."""

    id: int
    at_ms: int
    module: str
    event_id: str
    seq: int
    outcome: str
    error: str
    fuel: int
    wall_ns: int
    calls: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at_ms": self.at_ms,
            "module": self.module,
            "event_id": self.event_id,
            "seq": self.seq,
            "outcome": self.outcome,
            "error": self.error,
            "fuel": self.fuel,
            "wall_ns": self.wall_ns,
            "calls": list(self.calls),
        }


@dataclass(frozen=True, slots=True)
class TrajectoryQuery:
    """Filters for ``TrajectoryStore.query``; times are Unix milliseconds, inclusive.

    With ``after_id`` the oldest matching records after it come first (for
    following); without it the newest come first.
    """

    module: str | None = None
    outcome: Outcome | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    after_id: int | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class Retention:
    max_age_ms: int
    max_bytes: int


class TrajectoryStore:
    """Queue, persist, expire and query trajectories; ``close`` writes what is queued."""

    def __init__(self, path: Path, retention: Retention, flush_interval_ms: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # auto_vacuum only takes effect on a new file; it lets retention shrink it.
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            total = db.execute("SELECT COALESCE(SUM(size), 0) FROM trajectories").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the trajectory store: {exc}") from None
        self.path = path
        self.retention = retention
        self.dropped = 0
        self._db = db
        self._bytes = int(total)
        self._vacuum = False
        self._queue: deque[tuple[int, TrajectoryLike]] = deque()
        self._lock = threading.Lock()
        self._interval = flush_interval_ms / 1000
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._run, name="cove-trajectories", daemon=True)
        self._writer.start()

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def add(self, trajectory: TrajectoryLike) -> None:
        """Queue one record; called on the hot path, so it does no I/O."""
        if len(self._queue) >= MAX_QUEUED:  # the writer is stuck: count, don't grow
            self.dropped += 1
            return
        self._queue.append((time.time_ns() // 1_000_000, trajectory))

    def flush(self) -> None:
        """Write every queued record now, then apply the retention policy."""
        batch: list[tuple[int, TrajectoryLike]] = []
        while self._queue:
            batch.append(self._queue.popleft())
        rows = [_row(at_ms, t) for at_ms, t in batch]
        with self._lock:
            try:
                with self._transaction():
                    self._db.executemany(
                        "INSERT INTO trajectories (at_ms, module, event_id, seq, outcome, "
                        "error, fuel, wall_ns, calls, size) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        rows,
                    )
                    self._bytes += sum(row[-1] for row in rows)
                    self._expire(time.time_ns() // 1_000_000)
            except sqlite3.Error as exc:
                self.dropped += len(rows)
                raise StoreError(f"{self.path}: writing trajectories failed: {exc}") from None
            if self._vacuum:
                self._vacuum = False
                self._db.execute("PRAGMA incremental_vacuum")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _expire(self, now_ms: int) -> None:
        db = self._db
        cutoff = now_ms - self.retention.max_age_ms
        row = db.execute(
            "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM trajectories WHERE at_ms < ?", (cutoff,)
        ).fetchone()
        if row[1]:
            db.execute("DELETE FROM trajectories WHERE at_ms < ?", (cutoff,))
            self._bytes -= int(row[0])
            self._vacuum = True
        excess = self._bytes - self.retention.max_bytes
        if excess > 0:
            last_id, freed = 0, 0
            for row_id, size in db.execute("SELECT id, size FROM trajectories ORDER BY id"):
                last_id, freed = row_id, freed + size
                if freed >= excess:
                    break
            db.execute("DELETE FROM trajectories WHERE id <= ?", (last_id,))
            self._bytes -= freed
            self._vacuum = True

    def query(self, query: TrajectoryQuery) -> list[StoredTrajectory]:
        """Matching records, after writing what is queued so a read sees every handled event."""
        self.flush()
        where, args = ["1 = 1"], []
        for clause, value in (
            ("module = ?", query.module),
            ("outcome = ?", query.outcome),
            ("at_ms >= ?", query.since_ms),
            ("at_ms <= ?", query.until_ms),
            ("id > ?", query.after_id),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        order = "ASC" if query.after_id is not None else "DESC"
        sql = (
            "SELECT id, at_ms, module, event_id, seq, outcome, error, fuel, wall_ns, calls "
            f"FROM trajectories WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (*args, query.limit)).fetchall()
        return [
            StoredTrajectory(
                id=row[0],
                at_ms=row[1],
                module=row[2],
                event_id=row[3],
                seq=row[4],
                outcome=row[5],
                error=row[6],
                fuel=row[7],
                wall_ns=row[8],
                calls=tuple(_call_json(c) for c in json.loads(row[9])),
            )
            for row in rows
        ]

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush()
            except StoreError:
                # A failing disk must not stop the engine; the lost batch is
                # counted in ``dropped`` (a metric) and the next one retries.
                continue

    def close(self) -> None:
        self._stop.set()
        self._writer.join()
        self.flush()
        with self._lock:
            self._db.close()


def _row(at_ms: int, t: TrajectoryLike) -> tuple[Any, ...]:
    # Lists, not objects, and one shared encoder: this runs once per handled event.
    calls = _encode([[c.interface, c.function, c.summary, c.error, c.duration_ns] for c in t.calls])
    size = len(calls) + len(t.error) + len(t.module) + len(t.event_id) + _ROW_OVERHEAD
    return (at_ms, t.module, t.event_id, t.seq, t.outcome, t.error, t.fuel, t.wall_ns, calls, size)


def _call_json(call: list[Any] | dict[str, Any]) -> dict[str, Any]:
    if isinstance(call, dict):  # files written before calls were stored as lists
        return call
    interface, function, summary, error, duration_ns = call
    return {
        "interface": interface,
        "function": function,
        "summary": summary,
        "error": error,
        "duration_ns": duration_ns,
    }


_encode = json.JSONEncoder(separators=(",", ":")).encode
