"""Retention: prunes the journal and delivered effects every ``[retention] interval``,
so a long run's disk stays bounded.

The floor is the lowest position of the loaded modules (a quiet one, caught up
and not woken since, has passed every entry the engine saw) and the stored
cursor of every other module not explicitly unloaded: an entry a module has not passed yet (it
is behind, backing off, dead, refused at start, restarting) is never pruned,
whatever its age, so retention loses no event. A module the operator unloaded
does not hold the journal; loaded again, it resumes at the oldest entry still
kept. Pruning writes
go into the store's open batch and are made durable by one flush, so a crash
rolls them back together with everything else unflushed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .._config_retention import RetentionSettings
from .._observe._outbox_metrics import OutboxNumbers
from .._store._base import JournalRetention, JournalSize, Store
from .._units import parse_duration_ms
from ..errors import StoreError
from ._commit import Committer
from ._outbox import OutboxWorker


class RetentionWorker:
    def __init__(
        self,
        store: Store,
        committer: Committer,
        settings: RetentionSettings,
        floor: Callable[[], int],
        now_ms: Callable[[], int],
    ) -> None:
        self._store = store
        self._committer = committer
        self._journal_max_age_ms = parse_duration_ms(settings.journal_max_age)
        self._journal_max_bytes = settings.journal_max_bytes
        self._delivered_max_age_ms = parse_duration_ms(settings.delivered_max_age)
        self._dead_max_age_ms = parse_duration_ms(settings.dead_max_age)
        self._interval_s = parse_duration_ms(settings.interval) / 1000
        self._floor = floor
        self._now_ms = now_ms
        self.pruned_journal = 0
        self.pruned_delivered = 0
        self.pruned_dead = 0
        self._journal = JournalSize(0, 0, None)
        """The journal's size as last read: what a scrape shows while its server is away."""

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.prune()

    async def prune(self) -> None:
        """One pass: the journal past its age or size, delivered effects and dead letters
        past theirs."""
        now = self._now_ms()
        retention = JournalRetention(now - self._journal_max_age_ms, self._journal_max_bytes)
        journal = await asyncio.to_thread(self._store.prune_journal, retention, self._floor())
        delivered = await asyncio.to_thread(
            self._store.prune_delivered, now - self._delivered_max_age_ms
        )
        dead = await asyncio.to_thread(self._store.prune_dead, now - self._dead_max_age_ms)
        self.pruned_journal += journal
        self.pruned_delivered += delivered
        self.pruned_dead += dead
        if journal or delivered or dead:
            await self._committer.flush()

    def numbers(self, outbox: OutboxWorker) -> OutboxNumbers:
        """What the outbox and retention metrics show at scrape time."""
        try:
            self._journal = journal = self._store.journal_size()
        except StoreError:  # cove_journal_head_stale says the figures are the last known
            journal = self._journal
        oldest = journal.oldest_ms
        return OutboxNumbers(
            failures=dict(outbox.failures),
            dead_lettered=dict(outbox.dead_lettered),
            journal_entries=journal.entries,
            journal_bytes=journal.bytes,
            journal_oldest_age_s=0.0 if oldest is None else max(0, self._now_ms() - oldest) / 1000,
            pruned={
                "journal": self.pruned_journal,
                "delivered": self.pruned_delivered,
                "dead": self.pruned_dead,
            },
        )
