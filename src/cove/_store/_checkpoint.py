"""WalCheckpointer: copies the WAL back into the database on a connection and thread of its own.

Design note: SQLite checkpoints by itself inside the COMMIT that takes the
WAL past 1,000 pages; the store commits under its lock, so that commit held
the lock for the whole copy and the database's fsync (up to 17 ms in the
webhook bench, about one flush in a hundred), and the journal append on the
event loop waited: every open request stalled behind it. So the store's
connection checkpoints never (``wal_autocheckpoint=0``) and this one does,
PASSIVE, at most every ``interval`` seconds after a flush asks: a passive
checkpoint takes no lock that writers need, so appends and commits go on.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path


class WalCheckpointer:
    def __init__(self, database: Path, interval: float = 1.0) -> None:
        self._db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous=NORMAL")  # the database is synced by the checkpoint
        self._interval = interval
        self._last = time.monotonic()
        self._asked = threading.Event()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cove-checkpoint", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """A flush committed: checkpoint once ``interval`` has passed since the last one."""
        self._asked.set()

    def checkpoint(self) -> tuple[int, int]:
        """One passive checkpoint now: (frames in the WAL, frames copied into the database)."""
        _, frames, copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self._last = time.monotonic()
        return int(frames), int(copied)

    def close(self) -> None:
        self._halt.set()
        self._asked.set()
        self._thread.join()
        self._db.close()

    def _run(self) -> None:
        while True:
            self._asked.wait()
            wait = self._last + self._interval - time.monotonic()
            if self._halt.wait(max(0.0, wait)):
                return
            self._asked.clear()
            try:
                self.checkpoint()
            except sqlite3.Error:
                # Busy or locked now (another process's checkpoint): the next flush asks again.
                self._last = time.monotonic()
