"""Placement: which of the cluster's modules this engine runs, by leases (``[cluster]``).

Design note: every ``renew_every`` the engine says it is alive, ends the old
batches of engines that stopped saying so (paused: see _leases.py), renews the
leases it holds, drops the modules whose lease it lost (another engine took
them while it was paused or cut off: their commits would be fenced anyway),
and then evens out: with N live engines each runs at most ceil(modules / N),
so it gives up the extra ones (unloaded first, released after, so the next
holder starts from its last commit) and takes free or expired ones up to that
share. Sources that must run once per cluster (cron, chain) are a lease of
their own, the ``sources`` role: the engine holding it runs them. The journal's
NOTIFY (PostgreSQL journal) or the stream's subscription (JetStream journal) wakes
this engine's modules when another engine journaled events; each round wakes them
too, so a missed notice costs at most a round.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from .._sources._base import Source
from .._store._leases import Holder, LeaseTable
from .._store._postgres import PostgresStore
from .._store._postgres_fence import CHANNEL
from ..errors import StoreError

SOURCES_ROLE = "role:sources"


@dataclass
class EngineHands:
    """What placement does to its engine."""

    load: Callable[[Path], Awaitable[object]]
    unload: Callable[[str], Awaitable[None]]
    sources: Callable[[], list[Source]]
    """The once-per-cluster sources, made afresh each time the role is taken."""
    spawn: Callable[[Source], asyncio.Task[None]]
    wake: Callable[[], None]
    running: Callable[[str], bool]
    """Is the module's runner still going (not ended by an error)?"""
    lost: Callable[[], None]
    """The store lost a batch: forget the journal entries held in memory (not committed)."""
    log: Any


class Placement:
    def __init__(
        self,
        leases: LeaseTable,
        store: PostgresStore,
        modules: dict[str, Path],
        renew_s: float,
        hands: EngineHands,
        listen: Callable[[], psycopg.Connection[tuple[Any, ...]]] | None,
        watch: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """``listen``: connections to LISTEN on for the PostgreSQL journal's appends; ``watch``
        (instead): subscribes a callback (called on another thread) to the journal's appends."""
        self.engine_id = leases.engine
        self.leases = leases
        self.modules = modules
        self.held: dict[str, int] = {}
        """name: epoch, the store's fence reads it (``held.get``)."""
        self.refused: set[str] = set()
        """Modules held here whose load was refused."""
        self.holders: dict[str, Holder] = {}
        """Every lease as last read: where the modules not run here run."""
        self._store = store
        self._renew_s = renew_s
        self._hands = hands
        self._listen = listen
        self._watch = watch
        self._watching = False
        self._running: list[tuple[Source, asyncio.Task[None]]] = []
        self._stop = threading.Event()
        self._stepping = asyncio.Lock()
        store.fence(self.engine_id, self.held.get)
        store.owned = self.owned

    def owned(self) -> list[str]:
        return [name for name in self.held if name in self.modules]

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._watch_journal(loop)
        if self._listen is not None:
            listener = threading.Thread(
                target=self._notified,
                args=(loop, self._listen),
                name="cove-journal-listen",
                daemon=True,
            )
            listener.start()
        while not self._stop.is_set():
            try:
                async with self._stepping:
                    if self._stop.is_set():
                        return
                    if (why := self._store.stopped()) is not None:
                        await self._recover(why)
                    await self.step()
            except StoreError as exc:  # the database is away: leases expire, fences hold
                self._hands.log.warning("cluster placement failed", error=str(exc))
            if self._listen is None:
                self._hands.wake()
            await asyncio.sleep(self._renew_s)

    def _watch_journal(self, loop: asyncio.AbstractEventLoop) -> None:
        """Have the journal wake the modules when any engine journals: one wake at a time
        in flight however many entries arrive meanwhile."""
        if self._watch is None or self._watching:
            return
        pending = threading.Event()

        def wake() -> None:
            pending.clear()
            self._hands.wake()

        def woken() -> None:
            if not pending.is_set() and not loop.is_closed():
                pending.set()
                loop.call_soon_threadsafe(wake)

        self._watch(woken)
        self._watching = True

    async def step(self) -> None:
        """One round: heartbeat, end paused engines' batches, renew, drop what was lost,
        give up extras, take a share."""
        leases = self.leases
        live = await asyncio.to_thread(leases.heartbeat)
        await self._end_stuck()
        kept = await asyncio.to_thread(leases.renew, dict(self.held))
        for name in [n for n in self.held if n not in kept]:
            self._hands.log.warning("lease lost", name=name, epoch=self.held[name])
            await self._drop(name)
        stopped = [n for n in self.owned() if n not in self.refused and not self._hands.running(n)]
        for name in stopped:
            # Its runner ended (a store error under it): hand it on to be loaded afresh.
            await self._drop(name)
            await asyncio.to_thread(leases.release, [name])
        if any(task.done() for _, task in self._running):
            # A source ended (the store failed under it): give the role up, so it is
            # taken again (here or elsewhere) with fresh sources.
            await self._drop(SOURCES_ROLE)
            await asyncio.to_thread(leases.release, [SOURCES_ROLE])
        self.holders = await asyncio.to_thread(leases.holders)
        share = math.ceil(len(self.modules) / max(live, 1))
        mine = sorted(self.owned())
        for name in mine[share:]:  # rebalance: another engine has room for these
            await self._drop(name)
            await asyncio.to_thread(leases.release, [name])
        for name in self._free(SOURCES_ROLE, *sorted(self.modules)):
            if name != SOURCES_ROLE and len(self.owned()) >= share:
                continue
            epoch = await asyncio.to_thread(leases.acquire, name)
            if epoch is not None:
                await self._take(name, epoch)

    async def _end_stuck(self) -> None:
        """End paused engines' old batches, which may hold lease rows and the journal's
        lock (see _leases.py); without the privilege to, the round goes on without it."""
        try:
            ended = await asyncio.to_thread(self.leases.end_stuck)
        except StoreError as exc:
            self._hands.log.warning("cannot end a paused engine's sessions", error=str(exc))
            return
        for engine, pid in ended:
            self._hands.log.warning("ended a paused engine's session", engine=engine, pid=pid)

    async def _recover(self, why: str) -> None:
        """The store lost its open batch (the server restarted or ended a paused session):
        drop every module and role, forget what was not committed, connect again, and
        take leases afresh from the next step. ``StoreError`` while the server is away."""
        self._hands.log.error("store stopped: dropping every module until it is back", error=why)
        for name in list(self.held):
            await self._drop(name)
        self._hands.lost()
        await asyncio.to_thread(self._store.reopen)
        self._hands.log.info("store reopened: taking leases again")

    def _free(self, *names: str) -> Iterable[str]:
        for name in names:
            holder = self.holders.get(name)
            if name not in self.held and (holder is None or not holder.live):
                yield name

    async def _take(self, name: str, epoch: int) -> None:
        self.held[name] = epoch
        self._hands.log.info("lease taken", name=name, epoch=epoch)
        if name == SOURCES_ROLE:
            for source in self._hands.sources():
                self._running.append((source, self._hands.spawn(source)))
            return
        await asyncio.to_thread(self._store.refresh_size, name)
        if await self._hands.load(self.modules[name]) is None:
            # Refused (its error is in the engine's load errors): held, not retried each
            # round at a new epoch; a restart of the module or the engine tries again.
            self.refused.add(name)

    async def _drop(self, name: str) -> None:
        self.held.pop(name, None)
        self.refused.discard(name)
        if name == SOURCES_ROLE:
            await self._stop_sources()
        else:
            await self._hands.unload(name)

    async def _stop_sources(self) -> None:
        running, self._running = self._running, []
        for source, task in running:
            await source.aclose()
            task.cancel()

    def _notified(
        self,
        loop: asyncio.AbstractEventLoop,
        listen: Callable[[], psycopg.Connection[tuple[Any, ...]]],
    ) -> None:
        """On its own thread: LISTEN for other engines' appends, wake the modules."""
        while not self._stop.is_set():
            try:
                with listen() as db:
                    db.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _ in db.notifies(timeout=1.0, stop_after=1):
                            loop.call_soon_threadsafe(self._hands.wake)
                        # Also once a second: a missed notification costs at most that.
                        loop.call_soon_threadsafe(self._hands.wake)
            except (psycopg.Error, RuntimeError):
                self._stop.wait(1.0)  # the server is away (or the loop closed): try again

    async def halt(self) -> None:
        """The engine is stopping: no more rounds (the one under way finishes first)."""
        self._stop.set()
        async with self._stepping:
            await self._stop_sources()

    async def leave(self) -> None:
        """The engine stops: release everything now, so others take over at once."""
        self._stop.set()
        await self._stop_sources()
        try:
            await asyncio.to_thread(self.leases.release, list(self.held))
            await asyncio.to_thread(self.leases.leave)
        except StoreError as exc:
            self._hands.log.warning("leaving the cluster failed", error=str(exc))
        self.held.clear()
        self.leases.close()
