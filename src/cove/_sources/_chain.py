"""The chain source: blocks and logs of one chain, gap-free across restarts and reorgs.

One source per configured chain serves every ``block`` and ``log``
subscription on it. It walks the chain at its head, from its saved position,
in order: blocks in one JSON-RPC batch per range, logs from one windowed
``eth_getLogs`` per filter and range, the first window in the blocks' batch
(``_chain_rpc``): a step is the head, then one round trip. A restart, an outage
or a slow node is a backfill, never a gap. What wakes the walk is a
WebSocket ``newHeads`` subscription when the chain has a ``ws`` endpoint
(``_chain_heads``), else (and while that is down) an HTTP poll of the head:
either way the same in-order walk runs, so backfill, reorg handling and
exactly-once never depend on a notification arriving.

Depths (``_chain_walk``, which holds the walk as data and decides every
event): subscriptions ask for blocks ``confirmations`` deep. The walk keeps
the recent headers and logs; each depth is a *stream* that publishes block
``n`` (then its logs, in log index order) once the walk is ``confirmations``
past it, with ``confirmations`` on the payload, so a module matches only
its own depth. A reorg shallower than a stream's depth is absorbed by the
walk before the stream reaches the replaced blocks: that stream never sees it.

Event ids are content ids (``block:<chain>:<number>:<hash>``,
``log:<chain>:<block hash>:<log index>``, ``:c<depth>`` appended for a
deep stream, ``:r<n>`` after the walk's n-th reorg), so the journal drops a
block published twice (a crash between publish and saving progress), yet
takes a block a reorg dropped and a later one brought back. Progress (the recent headers and logs, each
stream's position) is saved *after* publish.

Endpoints: each step is served by one endpoint (``ChainReader.select``): the
first, in the configured order, whose head is at or above the walked
position. One behind it (a replica that lags, a node back from an outage) is
never asked about the walked blocks and never taken for a reorg: while only
such endpoints answer, the walk waits and its health says why.

Reorgs: a block-hash mismatch at a height the endpoint has means the chain
changed: a block whose parent hash is not the hash walked at the height below,
or, while every endpoint is behind, the primary's block at its own head not
the walked one on ``DIVERGED_POLLS`` polls in a row (``evm_revert``, then a
block). A lower head alone, the primary's included, is waited out. The walk goes back through the recent headers to
the common ancestor. Each stream that had delivered a dropped block gets the
logs it had delivered from those blocks again with ``removed = true`` (kept with the progress:
nodes such as anvil forget a replaced block) and resumes at the ancestor;
if any stream had, a ``chain.reorg`` custom event names the dropped range
and the depths it reached.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
import structlog

from .._config_chain import ChainSettings
from .._events import Event
from .._log_filter import log_filter
from .._redact import hosts_in
from .._units import parse_duration_ms
from ..errors import ChainRpcError, EndpointsBehind
from ._base import Publish, Source
from ._chain_client import rpc_client
from ._chain_heads import NewHeads
from ._chain_json import Header, RawLog
from ._chain_prefix import chained as _chained
from ._chain_prefix import present as _present
from ._chain_prefix import upto as _upto
from ._chain_rpc import (
    ChainReader,
    Endpoint,
    RequestRecorder,
)
from ._chain_specs import ChainSpec, streams
from ._chain_walk import Stream, Walk
from ._cron import ProgressStore

MAX_BLOCKS_PER_STEP: Final = 500
"""Blocks fetched (one batch) and walked per step of a backfill."""
MAX_SPARSE_BLOCKS: Final = 50_000
"""Blocks walked per step of a logs-only backfill far below the head (one header, windowed logs)."""
WS_RECHECK_SECONDS: Final = 1.0
"""With newHeads up but quiet this long, the head is asked over HTTP: a reorg may keep the
height, and a node may drop a subscription on its side while the connection lives on."""
DIVERGED_POLLS: Final = 3
"""Polls in a row a primary behind the walk must show another block at its own head
before the walk goes back to it: one answer from a backend on a stale fork is not a reorg."""
MAX_RETRY_SECONDS: Final = 5.0
"""After failed reads, the longest wait (or one poll interval): a node back from an outage is seen soon."""

__all__ = [
    "ChainRpcError",
    "ChainSource",
    "Stream",
    "chain_sources",
    "log_filter",
    "streams",
]


@dataclass(frozen=True, slots=True)
class StreamLag:
    """One stream's distance from the head (health and metrics)."""

    confirmations: int
    delivered: int | None
    behind: int | None


def state_key(chain_id: int) -> str:
    return f"chain:{chain_id}"


class ChainSource(Source):
    """Walks one chain at its head and publishes each depth's blocks and logs in order."""

    def __init__(
        self,
        settings: ChainSettings,
        store: ProgressStore,
        streams: Sequence[Stream],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        record: RequestRecorder | None = None,
        log: Any = None,
    ) -> None:
        self.chain_id = settings.chain_id
        self._record = record
        self.name = f"chain:{self.chain_id}"
        urls = (settings.http, *settings.fallbacks)
        self.endpoints = [Endpoint(url, index) for index, url in enumerate(urls)]
        self._timeout = parse_duration_ms(settings.timeout) / 1000
        self._poll = parse_duration_ms(settings.poll_interval) / 1000
        self._store = store
        self._streams = sorted(streams, key=lambda s: s.confirmations)
        self._filters = list(dict.fromkeys(f for s in self._streams for f in s.filters))
        self._deepest = max((s.confirmations for s in self._streams), default=0)
        self._transport = transport
        self._log = log or structlog.get_logger("cove.source.chain").bind(chain=self.chain_id)
        ws = [settings.ws] if isinstance(settings.ws, str) else settings.ws
        self.heads = NewHeads(ws, log=self._log) if ws else None
        self._reader: ChainReader | None = None
        self._walk_state = Walk(self.chain_id, tuple(self._streams))
        """What has been walked and delivered (adopted once its events are published)."""
        self.head: int | None = None
        """The node's head at the last step (for health: blocks behind)."""
        self._quiet = False
        """newHeads said nothing for WS_RECHECK_SECONDS: its last header may be stale."""
        self.waiting: str | None = None
        """Why the walk waits although endpoints answer (all of them are behind it)."""
        self.last_error: str | None = None
        """The last failed read, until a step succeeds."""
        self._diverged = 0
        """Polls in a row the primary, behind the walk, held another block at its head."""

    # progress ------------------------------------------------------------------------
    def _load(self) -> None:
        raw = self._store.source_state(state_key(self.chain_id))
        self._walk_state = Walk.from_json(self.chain_id, self._streams, raw)

    async def _adopt(self, walk: Walk, events: list[Event], publish: Publish) -> None:
        """Publish the events, then take the walk that produced them and save it."""
        if events:
            await publish(events)
        self._walk_state = walk.trimmed()
        self._store.set_source_state(state_key(self.chain_id), self._walk_state.to_json())

    @property
    def position(self) -> int | None:
        """The last walked block number (None before the first)."""
        last = self._walk_state.last
        return None if last is None else last.number

    def lag(self) -> list[StreamLag]:
        """Per depth: the last block handed to modules and how far it trails the head."""
        out = []
        for stream in self._streams:
            delivered = self._walk_state.delivered.get(stream.confirmations)
            behind = None
            if self.head is not None and delivered is not None:
                behind = max(0, self.head - stream.confirmations - delivered)
            out.append(StreamLag(stream.confirmations, delivered, behind))
        return out

    def health(self) -> dict[str, Any]:
        heads = self.heads
        return {
            "head": self.head,
            "position": self.position,
            "waiting": self.waiting,
            "last_error": self.last_error,
            "endpoints": [e.as_dict() for e in self.endpoints],
            "newheads": None if heads is None else {"connected": heads.connected},
            "streams": [
                {"confirmations": s.confirmations, "delivered": s.delivered, "behind": s.behind}
                for s in self.lag()
            ],
        }

    # the loop ------------------------------------------------------------------------
    async def run(self, publish: Publish) -> None:
        self._load()
        async with (
            rpc_client([e.url for e in self.endpoints], self._transport, self._timeout) as client,
            _background(self.heads.run() if self.heads is not None else None),
        ):
            self._reader = ChainReader(client, self.endpoints, self._record)
            failures = 0
            while True:
                if self.heads is not None:
                    self.heads.changed.clear()
                try:
                    caught_up = await self.step(publish)
                    failures = 0
                    self.last_error = None
                except (httpx.HTTPError, ChainRpcError) as exc:
                    failures += 1
                    delay = min(max(MAX_RETRY_SECONDS, self._poll), self._poll * 2**failures)
                    self.last_error = f"{type(exc).__name__}: {hosts_in(str(exc))}"
                    self._log.warning("chain read failed", error=self.last_error, retry_s=delay)
                    await asyncio.sleep(delay)
                    continue
                if caught_up:
                    await self._next_head()

    async def _next_head(self) -> None:
        """Until newHeads says something changed; or a poll interval without it."""
        heads = self.heads
        if heads is None:
            await asyncio.sleep(self._poll)
            return
        timeout = WS_RECHECK_SECONDS if heads.connected else self._poll
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a
        # cancel that lands as the event is set, and the source never stops.
        try:
            async with asyncio.timeout(timeout):
                await heads.changed.wait()
        except TimeoutError:
            self._quiet = True
        else:
            self._quiet = False

    def _announced_next(self, last: Header | None) -> Header | None:
        """The head newHeads sent last, if it is the very next block (subscription up, not quiet)."""
        heads = self.heads
        if last is None or heads is None or not heads.connected or self._quiet:
            return None
        header = heads.header
        if header is None or header.number != last.number + 1 or header.parent_hash != last.hash:
            return None
        return header

    def _out_of_reach(self, announced: Header | None, head: int) -> str | None:
        """Why the walk waits when newHeads announced a block no endpoint that answers has
        (the fast path found none at it, and the one serving is below it); else None."""
        if announced is None or head >= announced.number:
            return None
        shown = ", ".join(f"{e.label} at {e.head}" for e in self.endpoints if e.head is not None)
        return (
            f"newHeads announced block {announced.number}; "
            f"every endpoint that answers is behind it: {shown}"
        )

    def _rpc(self) -> ChainReader:
        assert self._reader is not None, "run() opens the reader"
        return self._reader

    async def step(self, publish: Publish) -> bool:
        """Walk up to one range of blocks; True when caught up with the head (or waiting)."""
        reader = self._rpc()
        last = self._walk_state.last
        announced = self._announced_next(last)
        if announced is not None:
            # The header newHeads just sent is the next block: no need to ask for it. Its
            # logs are asked by its hash from an endpoint whose head has reached it (one
            # behind may answer [] for a hash it does not know); with none, the step below waits.
            logs = await reader.logs_of(self._filters, announced) if self._filters else []
            if logs is not None:
                self.head = announced.number
                walk, events = self._walk_state.extend([announced], logs)
                await self._adopt(walk, events, publish)
                self.waiting = None
                return True
        try:
            head = await reader.select(None if last is None else last.number)
        except EndpointsBehind as exc:
            if await self._primary_diverged(exc.heads.get(0)):
                await self._reorg(publish, exc.heads[0])
                return False
            if self.waiting is None:
                self._log.warning("chain source waits for an endpoint to catch up", why=str(exc))
            self.waiting = str(exc)
            return True
        waiting = self._out_of_reach(announced, head)
        if waiting is not None and self.waiting is None:
            self._log.warning("chain source waits for an endpoint to catch up", why=waiting)
        self.waiting = waiting
        self._diverged = 0
        self.head = head
        if last is None:
            # First run: the streams start at the head, as the cron source starts at now.
            first = max(0, head - self._deepest)
            await self._walk(_present(await self._fetch(list(range(first, head + 1)))), publish)
            return True
        start = last.number + 1
        deep_end = head - self._walk_state.keep - self._deepest
        if not self._walk_state.wants_blocks and start <= deep_end:
            return await self._sparse(publish, start, deep_end, head)
        return await self._dense(publish, last, head)

    async def _dense(self, publish: Publish, last: Header, head: int) -> bool:
        """Walk the next blocks header by header (with their logs, in the same batch)."""
        start = last.number + 1
        end = min(head, start + MAX_BLOCKS_PER_STEP - 1)
        numbers = list(range(start, end + 1))
        ranged: list[RawLog] | None = None
        # Missing blocks end the range: the head may be one a revert since dropped.
        if self._filters and end > start:
            found, ranged = await self._rpc().blocks_and_logs(
                numbers, self._filters, start, end, allow_missing=True
            )
        else:
            found = await self._rpc().blocks(numbers, allow_missing=True)
        fetched = _present(found)
        if not fetched:
            # Nothing new. A reorg that kept the height shows here.
            if await self._on_chain(last):
                return True
            await self._reorg(publish, head)
            return False
        if fetched[0].parent_hash != last.hash:
            await self._reorg(publish, head)
            return False
        fetched = _chained(fetched)
        if ranged is None:
            await self._walk(fetched, publish)
        else:
            walk, events = self._walk_state.extend(fetched, _upto(ranged, fetched[-1].number))
            await self._adopt(walk, events, publish)
        return fetched[-1].number == head

    async def _sparse(self, publish: Publish, start: int, deep_end: int, head: int) -> bool:
        """No block events wanted and far below the head: one checkpoint header and the
        range's logs. The blocks near the head are walked header by header, as a reorg
        is found and its ancestor searched there; when they are within one batch of the
        checkpoint, their headers come in the same round trip as the logs."""
        end = min(deep_end, start + MAX_SPARSE_BLOCKS - 1)
        tip = (
            list(range(end + 1, min(head, end + MAX_BLOCKS_PER_STEP) + 1))
            if end == deep_end
            else []
        )
        found, logs = await self._rpc().blocks_and_logs(
            [end, *tip], self._filters, start, tip[-1] if tip else end, allow_missing=True
        )
        checkpoint = found[0]
        if checkpoint is None:
            raise ChainRpcError("eth_getBlockByNumber", f"no block {end} below the head {head}")
        headers = _chained([checkpoint, *_present(found[1:])])
        walk, events = self._walk_state.extend(headers, _upto(logs, headers[-1].number))
        await self._adopt(walk, events, publish)
        return headers[-1].number == head

    async def _primary_diverged(self, head: int | None) -> bool:
        """Does the primary, behind the walk at ``head``, hold another block at that height,
        for ``DIVERGED_POLLS`` polls in a row? Then its chain got shorter and changed
        (``evm_revert``, then a block): the step is served by it, back to the ancestor.

        A lower head alone is waited out: a load balancer's lagging backend has the
        walked blocks below its head, the same hashes. Only the primary counts: a
        fallback behind may hold a branch the primary has since dropped.
        """
        walked = self._walk_state.header_at(head) if head is not None else None
        if walked is None:
            self._diverged = 0
            return False
        reader = self._rpc()
        reader.pin(0)
        (block,) = await reader.blocks([walked.number], allow_missing=True)
        if block is None or block.hash == walked.hash:
            self._diverged = 0
            reader.unpin()
            return False
        self._diverged += 1
        if self._diverged < DIVERGED_POLLS:
            reader.unpin()
            return False
        self._diverged = 0
        return True

    async def _on_chain(self, header: Header) -> bool:
        """Is this walked block still the serving endpoint's at its height?

        That endpoint's head is at or above it (``select``): a block it lacks
        there is an inconsistent node, retried, never a shorter chain.
        """
        (block,) = await self._rpc().blocks([header.number])
        return block is not None and block.hash == header.hash

    async def _fetch(
        self, numbers: list[int], *, allow_missing: bool = False
    ) -> list[Header | None]:
        out: list[Header | None] = []
        for at in range(0, len(numbers), MAX_BLOCKS_PER_STEP):
            chunk = numbers[at : at + MAX_BLOCKS_PER_STEP]
            out.extend(await self._rpc().blocks(chunk, allow_missing=allow_missing))
        return out

    async def _walk(self, headers: list[Header], publish: Publish) -> None:
        """Add blocks to the walk, then publish what each stream may now deliver."""
        logs: list[RawLog] = []
        if self._filters:
            start, end = headers[0].number, headers[-1].number
            # One block: asked by hash, so a node that lacks it errs instead of answering [].
            at = headers[0].hash if start == end else None
            logs = await self._rpc().logs(self._filters, start, end, block_hash=at)
        walk, events = self._walk_state.extend(headers, logs)
        await self._adopt(walk, events, publish)

    async def _reorg(self, publish: Publish, head: int) -> None:
        """Walk back to the common ancestor; tell each stream what it had of the dropped blocks."""
        ancestor = await self._ancestor(list(self._walk_state.history), head)
        walk, events, reorg = self._walk_state.rewind(ancestor)
        if reorg is None:
            return  # the node answered differently a moment ago: nothing was replaced
        self._log.warning(
            "chain reorganised",
            from_block=reorg.dropped[0].number,
            to_block=reorg.dropped[-1].number,
            confirmations=list(reorg.confirmations),
        )
        await self._adopt(walk, events, publish)

    async def _ancestor(self, known: list[Header], head: int) -> Header:
        """The newest walked header still on the serving endpoint's chain (its head: ``head``)."""
        canonical = await self._fetch([h.number for h in known], allow_missing=True)
        kept = [
            h for h, b in zip(known, canonical, strict=True) if b is not None and b.hash == h.hash
        ]
        if kept:
            return kept[-1]
        # Deeper than the kept history: resume just below it (or at the head of a chain
        # reverted below it), on the new branch.
        (below,) = _present(await self._rpc().blocks([max(0, min(head, known[0].number - 1))]))
        return below


@contextlib.asynccontextmanager
async def _background(coro: Coroutine[Any, Any, None] | None) -> AsyncIterator[None]:
    """Run ``coro`` (if any) beside the body; cancel it when the body ends."""
    task = asyncio.ensure_future(coro) if coro is not None else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def chain_sources(
    chains: Sequence[ChainSettings],
    subscriptions: Iterable[ChainSpec],
    store: ProgressStore,
    recorder: Callable[[int], RequestRecorder] | None = None,
) -> list[ChainSource]:
    """One source per configured chain that some ``block``/``log`` subscription names,
    with one stream per distinct ``confirmations`` among them; ``recorder(chain_id)``
    is told of each of its requests (provider health)."""
    wanted: dict[int, list[ChainSpec]] = {}
    for sub in subscriptions:
        wanted.setdefault(sub.chain_id, []).append(sub)
    configured = {c.chain_id for c in chains}
    for chain_id in sorted(set(wanted) - configured):
        structlog.get_logger("cove.source.chain").warning(
            "subscriptions name a chain the engine config lacks; add a [[chains]] entry",
            chain=chain_id,
        )
    return [
        ChainSource(
            settings,
            store,
            streams(wanted[settings.chain_id]),
            record=None if recorder is None else recorder(settings.chain_id),
        )
        for settings in chains
        if settings.chain_id in wanted
    ]
