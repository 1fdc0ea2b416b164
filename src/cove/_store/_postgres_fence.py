"""The fence of the scale-out mode: a commit lands only under its module's current lease.

Design note: the check is a ``SELECT ... FOR KEY SHARE`` of the module's lease
row in the open batch, made once per module per batch: the shared lock then
holds the row until the batch commits, so a takeover (``LeaseTable.acquire``, an
UPDATE of the epoch, which is in a unique key) waits for the commit or, when it
came first, makes the epoch differ and the commit is refused with
``FencedError`` before anything of it was written (the batch and the other
modules' commits in it stay good). A renewal changes no key column, so it does
not wait for the batch: a batch held up cannot cost its engine the lease. Appends take one advisory
lock per batch, so journal seqs become visible in the order they were given and
a reader on another engine never passes over a seq that commits later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ..errors import FencedError
from ._leases import NOW_MS

# pg_advisory_xact_lock's key for the journal's appends: "cvjl" in ASCII.
JOURNAL_LOCK = 0x63766A6C
CHANNEL = "cove_journal"
"""NOTIFY channel: a batch that journaled events wakes the other engines' readers."""


@dataclass
class Fence:
    """``epoch_of``: the epoch this engine holds the module's lease at (None: not held)."""

    engine: str
    epoch_of: Callable[[str], int | None]
    checked: dict[str, int] = field(default_factory=dict)
    journal_locked: bool = False

    def check(self, db: psycopg.Connection[tuple[Any, ...]], module: str) -> int:
        """The epoch ``module`` commits under in this batch; ``FencedError`` when stale."""
        epoch = self.checked.get(module)
        if epoch is not None:
            return epoch
        held = self.epoch_of(module)
        if held is None:
            raise FencedError(module, f"engine {self.engine!r} holds no lease on it")
        row = db.execute(
            "SELECT engine, epoch FROM leases WHERE name = %s FOR KEY SHARE", (module,)
        ).fetchone()
        if row is None or (str(row[0]), int(row[1])) != (self.engine, held):
            now = "nobody" if row is None else f"engine {row[0]!r} at epoch {row[1]}"
            raise FencedError(
                module,
                f"lease epoch {held} of engine {self.engine!r} is stale ({now} holds it); "
                "the commit is refused",
            )
        self.checked[module] = held
        return held

    def audit(self, db: psycopg.Connection[tuple[Any, ...]], module: str, seq: int) -> None:
        """Record who committed ``module`` up to ``seq`` under which epoch (in the batch)."""
        db.execute(
            "INSERT INTO commit_audit (module, epoch, engine, seq, at_ms) "
            f"VALUES (%s, %s, %s, %s, {NOW_MS})",
            (module, self.checked[module], self.engine, seq),
        )

    def lock_journal(self, db: psycopg.Connection[tuple[Any, ...]]) -> None:
        if not self.journal_locked:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (JOURNAL_LOCK,))
            db.execute(f"NOTIFY {CHANNEL}")
            self.journal_locked = True

    def committed(self) -> None:
        """The batch ended: its locks are gone, the next one checks again."""
        self.checked.clear()
        self.journal_locked = False
