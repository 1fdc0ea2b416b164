"""WalSync: the fsync of SQLite's WAL file, done by the store itself outside its lock.

Design note: with ``synchronous=FULL`` SQLite syncs the WAL inside COMMIT,
so the store's lock was held for the whole fsync (milliseconds, tens on a
busy disk) and the journal append on the event loop, the modules' state
reads and their commits all waited for the disk. SQLite's documentation
defines FULL in WAL mode as NORMAL plus a sync of the WAL after each
commit; NORMAL keeps the file consistent (checkpoints sync the WAL before
and the database after). So the store commits with NORMAL under its lock
and syncs the WAL here after letting go of it: a flush still returns only
once its commit is on disk, and concurrent flushes share one fsync. The
directory is synced once too, so a WAL file created since the open is
found after a power loss.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


class WalSync:
    def __init__(self, database: Path) -> None:
        self._wal = database.with_name(database.name + "-wal")
        self._lock = threading.Lock()
        self._commits = 0
        self._synced = 0
        self._directory_synced = False

    def committed(self) -> int:
        """Count one COMMIT (call it under the store's lock, after the COMMIT); its number."""
        self._commits += 1
        return self._commits

    @property
    def commits(self) -> int:
        return self._commits

    def sync_through(self, commit: int, sync: Callable[[], None]) -> None:
        """Return once the WAL holding commit number ``commit`` is on disk; ``sync`` does one
        fsync (the store's, so a test can hold it). Callers meanwhile wait and share it."""
        with self._lock:
            if self._synced >= commit:
                return
            done = self._commits  # every counted COMMIT has written its frames
            sync()
            self._synced = max(self._synced, done)

    def fsync(self) -> None:
        """One fsync of the WAL file (and of its directory, the first time)."""
        fd = os.open(self._wal, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if not self._directory_synced:
            fd = os.open(self._wal.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._directory_synced = True
