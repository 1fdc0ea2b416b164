"""Durable trajectories: every handled event's record, written off the hot path.

Design note: the runner hands its records over once per commit batch, and
``add`` encodes them right there, on the module's worker thread, into one
JSON array (one ``orjson`` call; ``attrgetter`` reshapes records and host
calls, so no Python code runs per record). The records then die young, in
the thread that made them; the queue holds only compact bytes, and a writer
thread of its own joins them into chunks and stores them in a SQLite file of
its own (``trajectories.db`` beside the journal). Measured on one core
(bench/observability_overhead.py): queueing each record for the writer to
encode, with the stdlib encoder, cost about 11 µs of CPU per event (the
writer's 4-5 µs plus slower allocation while thousands of records waited);
this costs under 2. Rejected: a table in the journal store, because
trajectory writes would then share (and lengthen) the journal's group commit
and retention deletes would fragment it. A crash may lose the last
unflushed batch; that is acceptable for a diagnostic record, unlike for the
journal. Records are stored in chunks (one row holds up to ``CHUNK``
records of one module, as one JSON text): a row per record cost the writer
more CPU than the event itself for trivial modules. A record's id is its
chunk id times ``_ID_SPAN`` plus its place in the chunk, so ids still grow
with time and serve as the ``--follow`` cursor. Summaries come from the
capability gate, which records keys, names and URLs but never values.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter, countOf
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson

from ..errors import StoreError

Outcome = Literal["ok", "failed", "skipped"]
"""``skipped``: an operator passed the module over an event it kept failing on."""
MAX_QUEUED = 100_000
_ROW_OVERHEAD = 64  # bytes counted per chunk on top of its text, for the size limit

CHUNK = 256
_ID_SPAN = 1 << 20  # > CHUNK: record ids are chunk id * _ID_SPAN + index

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trajectory_chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    module TEXT NOT NULL,
    first_at_ms INTEGER NOT NULL,
    last_at_ms INTEGER NOT NULL,
    count INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    skipped INTEGER,
    records TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_last_at ON trajectory_chunks (last_at_ms);
CREATE INDEX IF NOT EXISTS chunks_module ON trajectory_chunks (module, id);
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
    @property
    def at_ms(self) -> int: ...


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
    before_id: int | None = None
    max_chunks: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """What one query found, and where to go on when its scan budget ran out first."""

    found: list[StoredTrajectory]
    resume_id: int | None = None


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
            _add_skipped_column(db)
            total = db.execute("SELECT COALESCE(SUM(size), 0) FROM trajectory_chunks").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the trajectory store: {exc}") from None
        self.path = path
        self.retention = retention
        self.dropped = 0
        self._db = db
        self._bytes = int(total)
        self._vacuum = False
        self._queue: list[_Piece] = []
        self._queued = 0
        self._queue_lock = threading.Lock()
        self._lock = threading.Lock()
        self._interval = flush_interval_ms / 1000
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._run, name="cove-trajectories", daemon=True)
        self._writer.start()

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def add(self, module: str, records: Sequence[TrajectoryLike]) -> None:
        """Encode one module's records (in handling order) and queue them; no I/O."""
        if self._queued >= MAX_QUEUED:  # the writer is stuck: count, don't grow
            with self._queue_lock:
                self.dropped += len(records)
            return
        pieces = [_piece(module, records[i : i + CHUNK]) for i in range(0, len(records), CHUNK)]
        with self._queue_lock:
            self._queued += len(records)
            self._queue += pieces

    def flush(self) -> None:
        """Write every queued record now, then apply the retention policy."""
        with self._queue_lock:
            pieces, self._queue = self._queue, []
            count, self._queued = self._queued, 0
        by_module: dict[str, list[_Piece]] = {}
        for piece in pieces:
            by_module.setdefault(piece.module, []).append(piece)
        rows = [row for same in by_module.values() for row in _rows(same)]
        with self._lock:
            try:
                with self._transaction():
                    self._db.executemany(
                        "INSERT INTO trajectory_chunks (module, first_at_ms, last_at_ms, count, "
                        "failed, skipped, records, size) VALUES (?,?,?,?,?,?,?,?)",
                        rows,
                    )
                    self._bytes += sum(row[-1] for row in rows)
                    self._expire(time.time_ns() // 1_000_000)
            except sqlite3.Error as exc:
                with self._queue_lock:
                    self.dropped += count
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
        """Drop whole chunks: those whose newest record is too old, then the oldest over size."""
        db = self._db
        cutoff = now_ms - self.retention.max_age_ms
        row = db.execute(
            "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM trajectory_chunks WHERE last_at_ms < ?",
            (cutoff,),
        ).fetchone()
        if row[1]:
            db.execute("DELETE FROM trajectory_chunks WHERE last_at_ms < ?", (cutoff,))
            self._bytes -= int(row[0])
            self._vacuum = True
        excess = self._bytes - self.retention.max_bytes
        if excess > 0:
            last_id, freed = 0, 0
            for chunk_id, size in db.execute("SELECT id, size FROM trajectory_chunks ORDER BY id"):
                last_id, freed = chunk_id, freed + size
                if freed >= excess:
                    break
            db.execute("DELETE FROM trajectory_chunks WHERE id <= ?", (last_id,))
            self._bytes -= freed
            self._vacuum = True

    def query(self, query: TrajectoryQuery) -> list[StoredTrajectory]:
        """Matching records, after writing what is queued so a read sees every handled event."""
        return self.query_page(query).found

    def query_page(self, query: TrajectoryQuery) -> Page:
        """``query``, scanning at most ``query.max_chunks`` chunks (then ``resume_id`` says where to go on).

        The budget bounds how long one request holds the store's lock and a
        query thread, whatever its filters match.
        """
        self.flush()
        where, args = ["1 = 1"], []
        for clause, value in (
            ("module = ?", query.module),
            ("last_at_ms >= ?", query.since_ms),
            ("first_at_ms <= ?", query.until_ms),
            # the chunks that can hold an id > after_id, or < before_id
            ("id >= ?", None if query.after_id is None else (query.after_id + 1) // _ID_SPAN),
            ("id <= ?", None if query.before_id is None else (query.before_id - 1) // _ID_SPAN),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        # ``failed`` counts every record that is not ok, ``skipped`` the skipped ones
        # among them (NULL in chunks written before it was counted: either may be there).
        if query.outcome == "skipped":
            where.append("(skipped > 0 OR (skipped IS NULL AND failed > 0))")
        elif query.outcome == "failed":
            where.append("(failed > skipped OR (skipped IS NULL AND failed > 0))")
        elif query.outcome == "ok":
            where.append("count > failed")
        ascending = query.after_id is not None
        sql = (
            "SELECT id, module, records FROM trajectory_chunks "
            f"WHERE {' AND '.join(where)} ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT ?"
        )
        budget = query.max_chunks
        args.append(-1 if budget is None else budget + 1)  # one more: is there anything left?
        found: list[StoredTrajectory] = []
        last_chunk, scanned = 0, 0
        with self._lock:
            for chunk_id, module, text in self._db.execute(sql, args):
                if scanned == budget:  # more matching chunks than the budget: say where to go on
                    return Page(
                        found,
                        (last_chunk + 1) * _ID_SPAN - 1 if ascending else last_chunk * _ID_SPAN,
                    )
                last_chunk, scanned = chunk_id, scanned + 1
                records = list(enumerate(json.loads(text)))
                for index, record in records if ascending else reversed(records):
                    stored = _stored(chunk_id * _ID_SPAN + index, module, record)
                    if _matches(stored, query):
                        found.append(stored)
                        if len(found) == query.limit:
                            return Page(found)
        return Page(found)

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


@dataclass(frozen=True, slots=True)
class _Piece:
    """Up to ``CHUNK`` encoded records of one module: a JSON array."""

    module: str
    count: int
    failed: int
    skipped: int
    first_at_ms: int
    last_at_ms: int
    encoded: bytes


def _piece(module: str, records: Sequence[TrajectoryLike]) -> _Piece:
    encoded = orjson.dumps(
        list(map(_ROW, records)), default=_CALL, option=orjson.OPT_PASSTHROUGH_DATACLASS
    )
    outcomes = list(map(_OUTCOME, records))
    failed = len(records) - countOf(outcomes, "ok")
    skipped = countOf(outcomes, "skipped")
    first, last = records[0].at_ms, records[-1].at_ms
    return _Piece(module, len(records), failed, skipped, first, last, encoded)


def _rows(pieces: list[_Piece]) -> Iterator[tuple[Any, ...]]:
    """One module's pieces, in order, joined into chunks of at most ``CHUNK`` records."""
    start = 0
    while start < len(pieces):
        end, count = start + 1, pieces[start].count
        while end < len(pieces) and count + pieces[end].count <= CHUNK:
            count += pieces[end].count
            end += 1
        group = pieces[start:end]
        # Each piece is "[...]": strip the brackets and join the insides.
        text = "[" + b",".join(p.encoded[1:-1] for p in group).decode() + "]"
        module = group[0].module
        first = min(p.first_at_ms for p in group)
        last = max(p.last_at_ms for p in group)
        failed = sum(p.failed for p in group)
        skipped = sum(p.skipped for p in group)
        size = len(text) + len(module) + _ROW_OVERHEAD
        yield (module, first, last, count, failed, skipped, text, size)
        start = end


def _add_skipped_column(db: sqlite3.Connection) -> None:
    """A file from before per-chunk skipped counts gets the column (NULL: not counted)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(trajectory_chunks)")}
    if "skipped" not in columns:
        db.execute("ALTER TABLE trajectory_chunks ADD COLUMN skipped INTEGER")


def _stored(record_id: int, module: str, record: list[Any]) -> StoredTrajectory:
    at_ms, event_id, seq, outcome, error, fuel, wall_ns, calls = record
    return StoredTrajectory(
        id=record_id,
        at_ms=at_ms,
        module=module,
        event_id=event_id,
        seq=seq,
        outcome=outcome,
        error=error,
        fuel=fuel,
        wall_ns=wall_ns,
        calls=tuple(
            {"interface": i, "function": f, "summary": s, "error": e, "duration_ns": d}
            for i, f, s, e, d in calls
        ),
    )


def _matches(t: StoredTrajectory, q: TrajectoryQuery) -> bool:
    return (
        (q.outcome is None or t.outcome == q.outcome)
        and (q.since_ms is None or t.at_ms >= q.since_ms)
        and (q.until_ms is None or t.at_ms <= q.until_ms)
        and (q.after_id is None or t.id > q.after_id)
        and (q.before_id is None or t.id < q.before_id)
    )


# A stored record is [at_ms, event_id, seq, outcome, error, fuel, wall_ns, calls]
# and a call [interface, function, summary, error, duration_ns]; the getters
# run in C and orjson calls ``default`` for each host call (a dataclass).
_ROW = attrgetter("at_ms", "event_id", "seq", "outcome", "error", "fuel", "wall_ns", "calls")
_OUTCOME = attrgetter("outcome")
_CALL = attrgetter("interface", "function", "summary", "error", "duration_ns")
