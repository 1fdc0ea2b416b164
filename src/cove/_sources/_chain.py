"""The chain source: blocks and logs of one chain, gap-free across restarts and reorgs.

One source per configured chain serves every ``block`` and ``log``
subscription on it. It polls ``eth_blockNumber`` over HTTP and walks from
its saved position to the head, so a restart, an outage or a slow node is a
backfill, never a gap: blocks come in one JSON-RPC batch per range, logs from
one windowed ``eth_getLogs`` per filter and range (the window halves when a
provider refuses it and grows back on success). Each block is published
before its logs, logs in (block, log index) order.

Event ids are content ids (``block:<chain>:<number>:<hash>``,
``log:<chain>:<block hash>:<log index>``), so the journal drops a block
published twice (a crash between publish and saving progress). Progress
(the last published block and the recent hashes) is saved *after* publish.

Reorgs: a block whose parent hash is not the hash we delivered at the
height below means the chain changed. The source walks back through the
recent hashes to the common ancestor, publishes a ``chain.reorg`` custom
event naming the dropped range, re-delivers the logs it had delivered from
the dropped blocks with ``removed = true`` (it keeps them with its progress:
nodes such as anvil forget a replaced block), then delivers the new branch. ``confirmations`` holds blocks back until that many are on top.

Raw JSON-RPC over httpx, as the chain backend: the hot path never builds
web3.py objects. No WebSocket ``newHeads`` yet: the poll interval bounds the
latency.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
import structlog

from .._config_chain import ChainSettings
from .._events import Block, Custom, Event, Log
from .._manifest import BlockSubscription, LogSubscription
from .._units import parse_duration_ms
from ._base import Publish, Source
from ._cron import ProgressStore

HISTORY: Final = 128
"""Recent block hashes kept to find the common ancestor of a reorg."""
MAX_BLOCKS_PER_STEP: Final = 500
"""Blocks fetched (one batch) and published per step of a backfill."""
MAX_LOG_WINDOW: Final = 5_000
"""Largest eth_getLogs range asked for; halved while a provider refuses it."""


class ChainRpcError(Exception):
    """The node answered with a JSON-RPC error (or an unusable answer)."""

    def __init__(self, method: str, error: Any) -> None:
        super().__init__(f"{method}: {error}")
        self.error = error


@dataclass(frozen=True, slots=True)
class LogFilter:
    """One eth_getLogs filter: addresses (None: any) and topics by position."""

    address: tuple[str, ...] | None
    topics: tuple[tuple[str, ...] | None, ...]

    def params(self, start: int, end: int) -> dict[str, Any]:
        query: dict[str, Any] = {"fromBlock": hex(start), "toBlock": hex(end)}
        if self.address is not None:
            query["address"] = list(self.address)
        if self.topics:
            query["topics"] = [None if t is None else list(t) for t in self.topics]
        return query


def log_filter(
    address: str | list[str] | None, topics: Sequence[str | list[str] | None]
) -> LogFilter:
    """A filter from a manifest's ``log`` subscription (addresses and topics lower-cased)."""
    addresses = None
    if address is not None:
        addresses = tuple(a.lower() for a in ([address] if isinstance(address, str) else address))
    by_position = tuple(
        None if t is None else tuple(x.lower() for x in ([t] if isinstance(t, str) else t))
        for t in topics
    )
    return LogFilter(addresses, by_position)


def state_key(chain_id: int) -> str:
    return f"chain:{chain_id}"


class ChainSource(Source):
    """Publishes the chain's blocks (if wanted) and matching logs, in order."""

    def __init__(
        self,
        settings: ChainSettings,
        store: ProgressStore,
        *,
        blocks: bool,
        filters: Iterable[LogFilter] = (),
        confirmations: int = 0,
        poll_interval: float = 0.1,
        transport: httpx.AsyncBaseTransport | None = None,
        log: Any = None,
    ) -> None:
        self.chain_id = settings.chain_id
        self.name = f"chain:{self.chain_id}"
        self._urls = [settings.http, *settings.fallbacks]
        self._timeout = parse_duration_ms(settings.timeout) / 1000
        self._store = store
        self._blocks = blocks
        self._filters = list(dict.fromkeys(filters))
        self._confirmations = confirmations
        self._poll = poll_interval
        self._transport = transport
        self._log = log or structlog.get_logger("cove.source.chain").bind(chain=self.chain_id)
        self._client: httpx.AsyncClient | None = None
        self._ids = 0
        self._window = MAX_LOG_WINDOW
        # (number, hash) of the delivered blocks, oldest first; the last is the position.
        self._history: list[tuple[int, str]] = []
        # Logs delivered from those blocks, by block hash: a node drops a replaced
        # block (anvil does), so removed logs are re-sent from here.
        self._recent_logs: dict[str, list[dict[str, Any]]] = {}
        self.head: int | None = None
        """The node's head at the last poll (for health: blocks behind)."""

    # progress ------------------------------------------------------------------------
    def _load(self) -> None:
        raw = self._store.source_state(state_key(self.chain_id))
        if raw is not None:
            saved = json.loads(raw)
            self._history = [(int(n), str(h)) for n, h in saved["history"]]
            self._recent_logs = saved.get("logs", {})

    def _save(self) -> None:
        kept = {h for _, h in self._history}
        self._recent_logs = {h: e for h, e in self._recent_logs.items() if h in kept}
        value = json.dumps({"history": self._history[-HISTORY:], "logs": self._recent_logs})
        self._store.set_source_state(state_key(self.chain_id), value)

    @property
    def position(self) -> int | None:
        """The last delivered block number (None before the first)."""
        return self._history[-1][0] if self._history else None

    # the loop ------------------------------------------------------------------------
    async def run(self, publish: Publish) -> None:
        self._load()
        async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as client:
            self._client = client
            failures = 0
            while True:
                try:
                    caught_up = await self.step(publish)
                    failures = 0
                except (httpx.HTTPError, ChainRpcError, ValueError, KeyError) as exc:
                    failures += 1
                    delay = min(30.0, self._poll * 2**failures)
                    self._log.warning(
                        "chain poll failed", error=f"{type(exc).__name__}: {exc}", retry_s=delay
                    )
                    await asyncio.sleep(delay)
                    continue
                if caught_up:
                    await asyncio.sleep(self._poll)

    async def step(self, publish: Publish) -> bool:
        """Deliver up to one range of blocks; True when caught up with the (confirmed) head."""
        self.head = int(await self._rpc("eth_blockNumber", []), 16)
        target = self.head - self._confirmations
        if target < 0:
            return True
        if not self._history:
            # First run: start at the head, as the cron source starts at now.
            (block,) = await self._blocks_by_number([target])
            await self._deliver([block], publish)
            return True
        start = self.position + 1 if self.position is not None else target
        if start > target:
            # Nothing new; a reorg that kept the height (or shortened it) shows here.
            at = min(start - 1, target)
            (block,) = await self._blocks_by_number([at])
            if (at, block["hash"]) not in self._history:
                await self._reorg(publish)
                return False
            return True
        end = min(target, start + MAX_BLOCKS_PER_STEP - 1)
        fetched = await self._blocks_by_number(list(range(start, end + 1)))
        if fetched[0]["parentHash"] != self._history[-1][1]:
            await self._reorg(publish)
            return False
        for i in range(1, len(fetched)):
            if fetched[i]["parentHash"] != fetched[i - 1]["hash"]:
                fetched = fetched[:i]  # the chain moved under the batch: the consistent prefix
                break
        await self._deliver(fetched, publish)
        return end == target

    async def _deliver(self, blocks: list[dict[str, Any]], publish: Publish) -> None:
        numbers = [int(b["number"], 16) for b in blocks]
        logs = await self._logs(numbers[0], numbers[-1]) if self._filters else []
        by_block: dict[str, list[dict[str, Any]]] = {}
        for entry in logs:
            by_block.setdefault(entry["blockHash"], []).append(entry)
        events: list[Event] = []
        for block in blocks:
            if self._blocks:
                events.append(self._block_event(block))
            for entry in by_block.get(block["hash"], []):
                events.append(self._log_event(entry, removed=False))
            if block["hash"] in by_block:
                self._recent_logs[block["hash"]] = by_block[block["hash"]]
        if events:
            await publish(events)
        self._history.extend((n, b["hash"]) for n, b in zip(numbers, blocks, strict=True))
        del self._history[:-HISTORY]
        self._save()

    async def _reorg(self, publish: Publish) -> None:
        """Walk back to the common ancestor; announce the dropped range and its logs."""
        known = list(self._history)
        canonical = await self._blocks_by_number([n for n, _ in known], allow_missing=True)
        ancestor = -1
        for (number, hash_), block in zip(known, canonical, strict=True):
            if block is not None and block["hash"] == hash_:
                ancestor = number
        dropped = [(n, h) for n, h in known if n > ancestor]
        removed = [
            self._log_event(entry, removed=True)
            for _, hash_ in dropped
            for entry in self._recent_logs.get(hash_, [])
        ]
        first, last = dropped[0][0], dropped[-1][0]
        signal = {
            "chain_id": self.chain_id,
            "from_block": first,
            "to_block": last,
            "dropped": [h for _, h in dropped],
            "ancestor": ancestor,
        }
        reorg = Event(
            Custom("chain.reorg", self.name, json.dumps(signal)),
            id=f"reorg:{self.chain_id}:{first}:{dropped[0][1]}",
        )
        self._log.warning("chain reorganised", from_block=first, to_block=last)
        await publish([reorg, *removed])
        self._history = [(n, h) for n, h in known if n <= ancestor]
        if not self._history:
            # Deeper than the kept history: resume just below it, on the new branch.
            below = max(0, known[0][0] - 1)
            (block,) = await self._blocks_by_number([below])
            self._history = [(below, block["hash"])]
        self._save()

    # JSON-RPC ------------------------------------------------------------------------
    async def _blocks_by_number(
        self, numbers: list[int], *, allow_missing: bool = False
    ) -> list[Any]:
        calls = [("eth_getBlockByNumber", [hex(n), False]) for n in numbers]
        return await self._batch(calls, allow_missing=allow_missing)

    async def _logs(self, start: int, end: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for filt in self._filters:
            at = start
            while at <= end:
                upto = min(end, at + self._window - 1)
                try:
                    found.extend(await self._rpc("eth_getLogs", [filt.params(at, upto)]))
                except ChainRpcError:
                    if self._window == 1:
                        raise
                    self._window = max(1, self._window // 2)
                    continue
                at = upto + 1
                self._window = min(MAX_LOG_WINDOW, self._window * 2)
        return _dedup_entries(found)

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    async def _post(self, body: Any) -> Any:
        assert self._client is not None, "run() opens the client"
        last: Exception | None = None
        for url in self._urls:
            try:
                response = await self._client.post(url, json=body)
                response.raise_for_status()
                return response.json()
            except httpx.HTTPError as exc:
                last = exc
        assert last is not None
        raise last

    async def _rpc(self, method: str, params: list[Any]) -> Any:
        answer = await self._post(
            {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params}
        )
        if "error" in answer:
            raise ChainRpcError(method, answer["error"])
        return answer["result"]

    async def _batch(
        self, calls: list[tuple[str, list[Any]]], *, allow_missing: bool = False
    ) -> list[Any]:
        ids = [self._next_id() for _ in calls]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in zip(ids, calls, strict=True)
        ]
        answer = await self._post(body)
        if not isinstance(answer, list):
            raise ChainRpcError("batch", answer.get("error", answer))
        by_id = {item["id"]: item for item in answer}
        results = []
        for i, (method, _) in zip(ids, calls, strict=True):
            item = by_id[i]
            if "error" in item:
                raise ChainRpcError(method, item["error"])
            if item["result"] is None and not allow_missing:
                raise ChainRpcError(method, "no such block (the node is behind its own head?)")
            results.append(item["result"])
        return results

    # events --------------------------------------------------------------------------
    def _block_event(self, block: dict[str, Any]) -> Event:
        number = int(block["number"], 16)
        payload = Block(
            self.chain_id, number, block["hash"], block["parentHash"], int(block["timestamp"], 16)
        )
        return Event(payload, id=f"block:{self.chain_id}:{number}:{block['hash']}")

    def _log_event(self, entry: dict[str, Any], *, removed: bool) -> Event:
        index = int(entry["logIndex"], 16)
        payload = Log(
            self.chain_id,
            int(entry["blockNumber"], 16),
            entry["blockHash"],
            entry["transactionHash"],
            index,
            entry["address"].lower(),
            tuple(t.lower() for t in entry["topics"]),
            bytes.fromhex(entry["data"].removeprefix("0x")),
            removed,
        )
        suffix = ":removed" if removed else ""
        return Event(payload, id=f"log:{self.chain_id}:{entry['blockHash']}:{index}{suffix}")


def _dedup_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Logs matched by several filters once each, in (block, log index) order."""
    unique = {(e["blockHash"], e["logIndex"]): e for e in entries}
    return sorted(
        unique.values(), key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16))
    )


def chain_sources(
    chains: Sequence[ChainSettings], subscriptions: Iterable[object], store: ProgressStore
) -> list[ChainSource]:
    """One source per configured chain that some ``block``/``log`` subscription names.

    ``confirmations`` is per chain: the deepest any subscription on it asks for
    (a journal event is shared by every module, so one chain has one stream).
    """
    wanted: dict[int, list[BlockSubscription | LogSubscription]] = {}
    for sub in subscriptions:
        if isinstance(sub, BlockSubscription | LogSubscription):
            wanted.setdefault(sub.chain_id, []).append(sub)
    configured = {c.chain_id for c in chains}
    for chain_id in sorted(set(wanted) - configured):
        structlog.get_logger("cove.source.chain").warning(
            "subscriptions name a chain the engine config lacks; add a [[chains]] entry",
            chain=chain_id,
        )
    sources = []
    for settings in chains:
        subs = wanted.get(settings.chain_id)
        if not subs:
            continue
        sources.append(
            ChainSource(
                settings,
                store,
                blocks=any(isinstance(s, BlockSubscription) for s in subs),
                filters=[
                    log_filter(s.address, s.topics) for s in subs if isinstance(s, LogSubscription)
                ],
                confirmations=max(s.confirmations for s in subs),
                poll_interval=parse_duration_ms(settings.poll_interval) / 1000,
            )
        )
    return sources
